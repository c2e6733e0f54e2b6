//! Statistical areas and their deprivation, from the in-memory area set.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::format::{self, Format, CSV, GEOJSON};
use super::params::Params;
use crate::domain::{Area, AreaSetInfo};
use crate::error::{ApiError, Problem};
use crate::geo::sphere::{chord2_for, haversine_m, unit_vector};
use crate::index::Snapshot;
use crate::state::AppState;

pub const MAX_AREA_LIMIT: usize = 1000;

/// Query parameters of `GET /v1/areas`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AreaListQuery {
    /// Local authority district codes, comma-separated.
    #[param(example = "E08000003")]
    la: Option<String>,
    /// IMD deciles, comma-separated (1 = most deprived).
    #[param(example = "1,2")]
    decile: Option<String>,
    /// Text that the area's code, name or local authority name contains (case-insensitive).
    #[param(example = "Manchester")]
    q: Option<String>,
    /// Items per page, 1 to 1000 (default 100).
    #[param(example = 100)]
    limit: Option<usize>,
    /// `next_cursor` of the previous page (areas are in code order).
    #[param(example = "E01005131")]
    cursor: Option<String>,
    /// `json` (default), `geojson` or `csv`; overrides Accept.
    format: Option<String>,
    /// GeoJSON geometry: `point` (the representative point, default) or `boundary` (the
    /// imported boundary; the point when there is none).
    geometry: Option<String>,
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
        (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header names no format this endpoint serves", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_areas(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(
        req.query_string(),
        &["la", "decile", "q", "limit", "cursor", "format", "geometry"],
        &["la", "decile"],
    )?;
    let format = format::negotiate(&req, p.one_of("format", &["json", "geojson", "csv"])?)?;
    let boundaries = p.one_of("geometry", &["point", "boundary"])? == Some("boundary");
    let las: Option<Vec<String>> = p
        .list("la")?
        .map(|v| v.into_iter().map(|c| c.to_uppercase()).collect());
    let deciles: Option<Vec<i32>> = match p.list("decile")? {
        None => None,
        Some(v) => Some(
            v.iter()
                .map(|d| d.parse::<i32>().ok().filter(|d| (1..=10).contains(d)))
                .collect::<Option<_>>()
                .ok_or_else(|| ApiError::param("decile", "must be whole numbers from 1 to 10"))?,
        ),
    };
    let q = p.get("q").map(str::to_lowercase);
    if q.as_ref().is_some_and(|q| q.len() > 200) {
        return Err(ApiError::param("q", "must be at most 200 characters"));
    }
    let limit = p.usize_in("limit", 100, 1, MAX_AREA_LIMIT)?;
    let after = p.get("cursor").map(str::to_uppercase);

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

// Documentation only, like the two below: the handlers write these bytes directly.
/// A GeoJSON Feature of an area: the representative point, or the boundary when asked for
/// and imported.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct AreaFeature {
    #[schema(example = "Feature")]
    r#type: String,
    /// The area code.
    id: String,
    /// A GeoJSON Point, Polygon or MultiPolygon (`[lon, lat]` positions).
    #[schema(value_type = Object)]
    geometry: serde_json::Value,
    properties: Area,
}

/// A page of areas as a GeoJSON FeatureCollection.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct AreaFeatureCollection {
    #[schema(example = "FeatureCollection")]
    r#type: String,
    features: Vec<AreaFeature>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
    /// Every match, on every page.
    total: usize,
}

/// One area with its access, as a GeoJSON Feature (the boundary when one was imported).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct AreaDetailFeature {
    #[schema(example = "Feature")]
    r#type: String,
    /// The area code.
    id: String,
    /// A GeoJSON Point, Polygon or MultiPolygon (`[lon, lat]` positions).
    #[schema(value_type = Object)]
    geometry: serde_json::Value,
    properties: AreaDetail,
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
    "la_name": "City of London", "nation": "England", "lat": 51.518499, "lon": -0.097009,
    "population": 1296, "imd_score": null, "imd_rank": 29199, "imd_decile": 9,
    "income_rank": 32831, "income_decile": 10, "employment_rank": 32742, "employment_decile": 10,
    "education_rank": 32842, "education_decile": 10, "health_rank": 32113, "health_decile": 10,
    "crime_rank": 32662, "crime_decile": 10, "housing_rank": 7319, "housing_decile": 3,
    "environment_rank": 7789, "environment_decile": 3,
    "vintage": {"version": 1, "index_name": "IoD2019", "geography": "LSOA 2011", "imported_at": "2026-11-25T09:00:00Z"},
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

/// One area: its deprivation and the nearest asset of each category.
///
/// Distances are from the area's representative point. GeoJSON (`format=geojson`) gives a
/// Feature whose geometry is the boundary when one was imported.
#[utoipa::path(
    get, path = "/v1/areas/{code}", tag = "areas",
    params(("code" = String, Path, description = "Area code", example = "E01000001"),
        ("threshold_m" = Option<f64>, Query, description = "Radius for `within_threshold`, 1 to 100000 metres (default 2000)"),
        ("category" = Option<String>, Query, description = "Categories, comma-separated (default all)"),
        ("format" = Option<String>, Query, description = "`json` (default) or `geojson`")),
    responses(
        (status = 200, description = "The area: JSON, or a GeoJSON Feature (`format=geojson` or `Accept: application/geo+json`)",
            content(
                (AreaDetail = "application/json"),
                (AreaDetailFeature = "application/geo+json"))),
        (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No area has this code", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header names no format this endpoint serves", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_area(
    req: HttpRequest,
    code: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let p = Params::parse(
        req.query_string(),
        &["threshold_m", "category", "format"],
        &["category"],
    )?;
    let format = match p.one_of("format", &["json", "geojson"])? {
        Some("geojson") => Format::GeoJson,
        Some(_) => Format::Json,
        None => match format::negotiate(&req, None)? {
            Format::Csv => Format::Json,
            f => f,
        },
    };
    let threshold_m = p
        .f64_in("threshold_m", 1.0, super::reports::MAX_THRESHOLD_M)?
        .unwrap_or(super::reports::DEFAULT_THRESHOLD_M);
    let snap = state.snapshot.load();
    let categories: Vec<String> = match p.list("category")? {
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
            let tree = snap.category_tree(&category);
            let q = unit_vector(a.lat, a.lon);
            let nearest = tree.and_then(|t| t.nearest_neighbor(&q)).map(|p| {
                let e = snap.entry(p.data);
                NearestAsset {
                    id: e.id,
                    name: e.asset().fields.name,
                    distance_m: haversine_m(a.lat, a.lon, e.lat, e.lon),
                }
            });
            let within_threshold = tree.map_or(0, |t| {
                t.locate_within_distance(q, chord2_for(threshold_m))
                    .filter(|p| {
                        let e = snap.entry(p.data);
                        haversine_m(a.lat, a.lon, e.lat, e.lon) <= threshold_m
                    })
                    .count()
            });
            AreaAccess {
                category,
                nearest,
                within_threshold,
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
