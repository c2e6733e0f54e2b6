//! Statistical areas and their deprivation, from the in-memory area set. Over 400 lines
//! because most of it is the two query contracts and the documented body shapes.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::assets::FormatParam;
use super::format::{self, Format, CSV, GEOJSON};
use super::params::{documented, Params, Query, QueryContract};
use crate::domain::{Area, AreaSetInfo};
use crate::error::ApiError;
use crate::index::Snapshot;
use crate::reports::scope::{DEFAULT_THRESHOLD_M, MAX_THRESHOLD_M};
use crate::state::AppState;

pub const MAX_AREA_LIMIT: usize = 1000;

/// `geometry`: what a GeoJSON area is drawn as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum GeometryParam {
    /// The representative point (default).
    Point,
    /// The imported boundary; the point when there is none.
    Boundary,
}

/// Query parameters of `GET /v1/areas`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaListQuery {
    /// Local authority district codes, comma-separated.
    #[param(value_type = Option<String>, example = "E08000003")]
    pub la: Option<Vec<String>>,
    /// IMD deciles, comma-separated (1 = most deprived).
    #[param(value_type = Option<String>, example = "1,2")]
    pub decile: Option<Vec<i32>>,
    /// Text that the area's code, name or local authority name contains (case-insensitive),
    /// at most 200 characters.
    #[param(max_length = 200, example = "Manchester")]
    pub q: Option<String>,
    /// Items per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000, example = 100)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page (areas are in code order).
    #[param(example = "E01006745")]
    pub cursor: Option<String>,
    /// `json` (default), `geojson` or `csv`; overrides Accept.
    #[param(inline)]
    pub format: Option<FormatParam>,
    /// GeoJSON geometry: `point` (the representative point, default) or `boundary` (the
    /// imported boundary; the point when there is none).
    #[param(inline)]
    pub geometry: Option<GeometryParam>,
}

impl QueryContract for AreaListQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn repeatable() -> Vec<&'static str> {
        vec!["la", "decile"]
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        let decile = match p.list("decile")? {
            None => None,
            Some(v) => Some(
                v.iter()
                    .map(|d| d.parse::<i32>().ok().filter(|d| (1..=10).contains(d)))
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        ApiError::param("decile", "must be whole numbers from 1 to 10")
                    })?,
            ),
        };
        let q = p.get("q").map(str::to_lowercase);
        if q.as_ref().is_some_and(|q| q.len() > 200) {
            return Err(ApiError::param("q", "must be at most 200 characters"));
        }
        Ok(AreaListQuery {
            la: p
                .list("la")?
                .map(|v| v.into_iter().map(|c| c.to_uppercase()).collect()),
            decile,
            q,
            limit: Some(p.usize_in("limit", 100, 1, MAX_AREA_LIMIT)?),
            cursor: p.get("cursor").map(str::to_uppercase),
            format: FormatParam::parse(p, &["json", "geojson", "csv"])?,
            geometry: p
                .one_of("geometry", &["point", "boundary"])?
                .map(|g| match g {
                    "boundary" => GeometryParam::Boundary,
                    _ => GeometryParam::Point,
                }),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct AreaPage {
    /// The active vintage.
    pub vintage: AreaSetInfo,
    pub items: Vec<Area>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Every match, on every page.
    pub total: usize,
}

/// List statistical areas.
///
/// In code order with keyset paging; filter by local authority, decile and text. JSON,
/// CSV, or GeoJSON (points or boundaries). Empty until areas are imported.
#[utoipa::path(
    get, path = "/v1/areas", tag = "areas", params(AreaListQuery),
    responses(
        (status = 200, description = "A page of areas: JSON, CSV (the page's rows; the next cursor is in `X-Next-Cursor`) or a GeoJSON FeatureCollection",
            headers(("X-Total-Count" = usize, description = "Every match, on every page"),
                    ("X-Next-Cursor" = String, description = "Cursor of the next page, when there is one")),
            content(
                (AreaPage = "application/json"),
                (AreaFeatureCollection = "application/geo+json"),
                (String = "text/csv"))),
        (status = 400, response = super::problems::BadRequest),
        (status = 406, response = super::problems::NotAcceptable),
    )
)]
pub async fn list_areas(
    req: HttpRequest,
    Query(query): Query<AreaListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let format = format::negotiate(&req, query.format.map(FormatParam::as_str))?;
    let boundaries = query.geometry == Some(GeometryParam::Boundary);
    let (las, deciles, q) = (query.la, query.decile, query.q);
    let limit = query.limit.unwrap_or(100);
    let after = query.cursor;

    let snap = state.snapshot.load();
    let set = &snap.areas;
    let matches = |a: &Area| {
        las.as_ref().is_none_or(|l| l.contains(&a.la_code))
            && deciles.as_ref().is_none_or(|d| d.contains(&a.imd_decile))
            && q.as_ref().is_none_or(|q| {
                a.code.to_lowercase().contains(q)
                    || a.name.to_lowercase().contains(q)
                    || a.la_name.to_lowercase().contains(q)
            })
    };
    let all: Vec<u32> = (0..set.len() as u32)
        .filter(|&i| matches(set.area(i)))
        .collect();
    let start = after.map_or(0, |c| all.partition_point(|&i| set.area(i).code <= c));
    let page = &all[start.min(all.len())..(start + limit).min(all.len())];
    let next = (start + limit < all.len()).then(|| set.area(page[page.len() - 1]).code.clone());

    let mut res = HttpResponse::Ok();
    res.insert_header(("X-Total-Count", all.len().to_string()));
    if let Some(c) = &next {
        res.insert_header(("X-Next-Cursor", c.as_str()));
    }
    Ok(match format {
        Format::Json => res.json(AreaPage {
            vintage: set.info.clone(),
            items: page.iter().map(|&i| set.area(i).clone()).collect(),
            next_cursor: next,
            total: all.len(),
        }),
        Format::Csv => {
            let rows = page.iter().map(|&i| set.area(i).csv_record());
            res.content_type(CSV)
                .body(format::csv_body(Area::csv_header(), rows)?)
        }
        Format::GeoJson => {
            let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[");
            for (k, &i) in page.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(&feature(&snap, i, boundaries, None));
            }
            out.push_str(&format!(
                "],\"next_cursor\":{},\"total\":{}}}",
                serde_json::to_string(&next).unwrap_or_default(),
                all.len()
            ));
            res.content_type(GEOJSON).body(out)
        }
    })
}

/// A GeoJSON Feature for an area, its properties the area (and `extra`).
fn feature(snap: &Snapshot, i: u32, boundary: bool, extra: Option<&AreaDetail>) -> String {
    let a = snap.areas.area(i);
    let geometry = boundary
        .then(|| snap.areas.boundary_geojson(i))
        .flatten()
        .unwrap_or_else(|| {
            format!(
                "{{\"type\":\"Point\",\"coordinates\":[{},{}]}}",
                a.lon, a.lat
            )
        });
    let properties = match extra {
        Some(d) => serde_json::to_string(d),
        None => serde_json::to_string(a),
    }
    .unwrap_or_default();
    format!(
        "{{\"type\":\"Feature\",\"id\":{},\"geometry\":{geometry},\"properties\":{properties}}}",
        serde_json::to_string(&a.code).unwrap_or_default()
    )
}

// Documentation shapes, like the two below: the handlers write these bytes directly.
/// A GeoJSON Feature of an area: the representative point, or the boundary when asked for
/// and imported.
#[derive(Serialize, ToSchema)]
pub struct AreaFeature {
    #[schema(example = "Feature")]
    pub r#type: String,
    /// The area code.
    pub id: String,
    /// A GeoJSON Point, Polygon or MultiPolygon (`[lon, lat]` positions).
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    pub properties: Area,
}

/// A page of areas as a GeoJSON FeatureCollection.
#[derive(Serialize, ToSchema)]
pub struct AreaFeatureCollection {
    #[schema(example = "FeatureCollection")]
    pub r#type: String,
    pub features: Vec<AreaFeature>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Every match, on every page.
    pub total: usize,
}

/// One area with its access, as a GeoJSON Feature (the boundary when one was imported).
#[derive(Serialize, ToSchema)]
pub struct AreaDetailFeature {
    #[schema(example = "Feature")]
    pub r#type: String,
    /// The area code.
    pub id: String,
    /// A GeoJSON Point, Polygon or MultiPolygon (`[lon, lat]` positions).
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    pub properties: AreaDetail,
}

/// The nearest asset of a category.
#[derive(Serialize, ToSchema)]
pub struct NearestAsset {
    pub id: Uuid,
    pub name: String,
    pub distance_m: f64,
}

/// One category's access from an area.
#[derive(Serialize, ToSchema)]
pub struct AreaAccess {
    pub category: String,
    /// Null when the category has no published asset.
    pub nearest: Option<NearestAsset>,
    /// Published assets of the category within `threshold_m` of the representative point.
    pub within_threshold: usize,
}

/// An area with its deprivation and its access to each category.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"code": "E01000001", "name": "City of London 001A", "la_code": "E09000001",
    "la_name": "City of London", "nation": "England", "lat": 51.5195933, "lon": -0.0962404,
    "population": 1474, "imd_score": 8.742, "imd_rank": 26525, "imd_decile": 8,
    "domains": {"income": {"score": 0.013, "rank": 33730, "decile": 10},
        "employment": {"score": 0.014, "rank": 33708, "decile": 10},
        "education": {"score": 0.004, "rank": 33755, "decile": 10},
        "health": {"score": -1.771, "rank": 33108, "decile": 10},
        "crime": {"score": -2.22, "rank": 33698, "decile": 10},
        "housing": {"score": 10.95, "rank": 29220, "decile": 9},
        "environment": {"score": 69.345, "rank": 244, "decile": 1}},
    "supplementary": {"idaci": {"rank": 33304, "decile": 10}, "idaopi": {"rank": 33721, "decile": 10}},
    "vintage": {"version": 1, "index_name": "IoD2025", "geography": "LSOA 2021", "imported_at": "2026-11-30T09:00:00Z"},
    "threshold_m": 2000.0,
    "access": [{"category": "library", "nearest": {"id": "1beaf664-065e-41cd-8e44-c134d70862a0",
        "name": "Barbican Library", "distance_m": 412.7}, "within_threshold": 6}]}))]
pub struct AreaDetail {
    #[serde(flatten)]
    pub area: Area,
    pub vintage: AreaSetInfo,
    pub threshold_m: f64,
    /// Per category (all categories unless `category` is given).
    pub access: Vec<AreaAccess>,
}

/// `format` of one area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum AreaFormat {
    Json,
    Geojson,
}

/// Query parameters of `GET /v1/areas/{code}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaQuery {
    /// Radius for `within_threshold`, 1 to 100000 metres (default 2000).
    #[param(minimum = 1, maximum = 100000, example = 2000)]
    pub threshold_m: Option<f64>,
    /// Categories, comma-separated (default all).
    #[param(value_type = Option<String>, example = "library")]
    pub category: Option<Vec<String>>,
    /// `json` (default) or `geojson`.
    #[param(inline)]
    pub format: Option<AreaFormat>,
}

impl QueryContract for AreaQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn repeatable() -> Vec<&'static str> {
        vec!["category"]
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(AreaQuery {
            threshold_m: p.f64_in("threshold_m", 1.0, MAX_THRESHOLD_M)?,
            category: p.list("category")?,
            format: p.one_of("format", &["json", "geojson"])?.map(|f| match f {
                "geojson" => AreaFormat::Geojson,
                _ => AreaFormat::Json,
            }),
        })
    }
}

/// One area: its deprivation and the nearest asset of each category.
///
/// Distances are from the area's representative point. GeoJSON (`format=geojson`) gives a
/// Feature whose geometry is the boundary when one was imported.
#[utoipa::path(
    get, path = "/v1/areas/{code}", tag = "areas",
    params(("code" = String, Path, description = "Area code", example = "E01006745"), AreaQuery),
    responses(
        (status = 200, description = "The area: JSON, or a GeoJSON Feature (`format=geojson` or `Accept: application/geo+json`)",
            content(
                (AreaDetail = "application/json"),
                (AreaDetailFeature = "application/geo+json"))),
        (status = 400, response = super::problems::BadRequest),
        (status = 404, response = super::problems::NotFound),
        (status = 406, response = super::problems::NotAcceptable),
    )
)]
pub async fn get_area(
    req: HttpRequest,
    code: web::Path<String>,
    Query(q): Query<AreaQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let format = match q.format {
        Some(AreaFormat::Geojson) => Format::GeoJson,
        Some(AreaFormat::Json) => Format::Json,
        None => match format::negotiate(&req, None)? {
            Format::Csv => Format::Json,
            f => f,
        },
    };
    let threshold_m = q.threshold_m.unwrap_or(DEFAULT_THRESHOLD_M);
    let snap = state.snapshot.load();
    let categories: Vec<String> = match q.category {
        Some(c) => {
            if let Some(bad) = c.iter().find(|c| !snap.is_category(c)) {
                return Err(ApiError::param(
                    "category",
                    format!("{bad:?} is not a category"),
                ));
            }
            c
        }
        None => snap.categories().iter().map(|c| c.slug.clone()).collect(),
    };
    let code = code.trim().to_uppercase();
    let i = snap
        .areas
        .index_of(&code)
        .ok_or_else(|| ApiError::NotFound(format!("no area has code {code:?}")))?;
    let a = snap.areas.area(i);
    let access = categories
        .into_iter()
        .map(|category| {
            let cats = [category];
            let nearest = snap.nearest(a.lat, a.lon, Some(&cats), 1).first().map(|h| {
                let e = snap.entry(h.idx);
                NearestAsset {
                    id: e.id,
                    name: e.asset().fields.name,
                    distance_m: h.distance_m.unwrap_or_default(),
                }
            });
            let [category] = cats;
            AreaAccess {
                within_threshold: snap.count_within(&category, a.lat, a.lon, threshold_m),
                category,
                nearest,
            }
        })
        .collect();
    let detail = AreaDetail {
        area: a.clone(),
        vintage: snap.areas.info.clone(),
        threshold_m,
        access,
    };
    Ok(match format {
        Format::GeoJson => {
            HttpResponse::Ok()
                .content_type(GEOJSON)
                .body(feature(&snap, i, true, Some(&detail)))
        }
        _ => HttpResponse::Ok().json(detail),
    })
}
