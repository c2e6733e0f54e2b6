//! Public asset reads, answered from the in-memory snapshot. Over 400 lines because most
//! of it is the endpoints' contract: the query structs (documentation and parser in one)
//! and the shapes of the list bodies the OpenAPI document shows.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use utoipa::IntoParams;
use uuid::Uuid;

use super::blocking;
use super::conditional::{etag, http_date, is_fresh};
use super::format;
use super::params::{documented, Params, Query, QueryContract};
use crate::domain::asset::normalise_postcode;
use crate::domain::hours::london_time;
use crate::domain::{asset::parse_tags, Asset, Wheelchair};
use crate::error::ApiError;
use crate::index::query::{BBox, Near};
use crate::index::{Cursor, Filter, Search, Snapshot, SortBy};
use crate::state::AppState;
use crate::store::postcodes;

pub const DEFAULT_RADIUS_M: f64 = 1500.0;
pub const MAX_RADIUS_M: f64 = 50_000.0;
pub const MAX_LIMIT: usize = 200;
pub const MAX_K: usize = 100;
const MAX_Q_WORDS: usize = 10;

/// `wheelchair`: how accessible a place must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum AccessFilter {
    /// Step-free access only.
    Yes,
    /// Step-free or limited access.
    Limited,
}

/// `cost`: only places free to enter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum CostFilter {
    Free,
}

/// `sort`: the order of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum SortParam {
    /// Nearest first (needs `near`; the default with `near`).
    Distance,
    /// By name (the default without `near`).
    Name,
    /// Most recently updated first.
    Updated,
}

/// `format`: the body's format, overriding the `Accept` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum FormatParam {
    Json,
    Geojson,
    Csv,
}

impl FormatParam {
    /// `format`, if given: one of `allowed`.
    pub fn parse(p: &Params, allowed: &[&'static str]) -> Result<Option<Self>, ApiError> {
        Ok(p.one_of("format", allowed)?.map(|f| match f {
            "geojson" => FormatParam::Geojson,
            "csv" => FormatParam::Csv,
            _ => FormatParam::Json,
        }))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FormatParam::Json => "json",
            FormatParam::Geojson => "geojson",
            FormatParam::Csv => "csv",
        }
    }
}

/// Query parameters of `GET /v1/assets` (and, with `status`, of the admin list).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Categories, comma-separated (any of them), e.g. `museum,gallery`; at most 20.
    #[param(value_type = Option<String>, example = "museum,gallery")]
    pub category: Option<Vec<String>>,
    /// Centre of a radius search, `lat,lon` in WGS84 degrees. Adds `distance_m` to each item
    /// and makes `distance` the default sort.
    #[param(value_type = Option<String>, example = "51.5194,-0.1270")]
    pub near: Option<(f64, f64)>,
    /// Centre of a radius search at a UK postcode's position, e.g. `SW1A 2AA` (any case and
    /// spacing), instead of `near`. 400 for an unknown postcode; 409 when no postcodes are
    /// imported (`community-assets import postcodes`).
    #[param(value_type = Option<String>, example = "L1 8JQ")]
    pub near_postcode: Option<String>,
    /// Radius in metres around `near`, 1 to 50000 (default 1500). Needs `near`.
    #[param(minimum = 1, maximum = 50000, example = 2000)]
    pub radius_m: Option<f64>,
    /// Bounding box `min_lon,min_lat,max_lon,max_lat` (WGS84); `min_lon > max_lon` crosses
    /// the antimeridian; `min_lat` is at most `max_lat`. Combined with `near`, both must
    /// hold.
    #[param(value_type = Option<String>, example = "-0.2,51.45,0.0,51.55")]
    pub bbox: Option<BBox>,
    /// Words that must all occur (case-insensitive) in the name, description or tags: at
    /// most 10 words and 200 characters.
    #[param(value_type = Option<String>, max_length = 200, example = "local history")]
    pub q: Option<Vec<String>>,
    /// `yes`: step-free access only; `limited`: step-free or limited access.
    #[param(inline)]
    pub wheelchair: Option<AccessFilter>,
    /// `free`: free entry only.
    #[param(inline)]
    pub cost: Option<CostFilter>,
    /// Tags, comma-separated; every one must be present.
    #[param(value_type = Option<String>, example = "dementia-friendly")]
    pub tag: Option<Vec<String>>,
    /// Open at this RFC 3339 time, evaluated in Europe/London. Assets with no known
    /// opening hours never match. Not with `open_now`.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-24T14:30:00Z")]
    pub open_at: Option<chrono::DateTime<Utc>>,
    /// `true`: open now (Europe/London). Not with `open_at`.
    #[param(example = true)]
    pub open_now: Option<bool>,
    /// `distance` (needs `near`; the default with `near`), `name` (the default otherwise) or
    /// `updated` (most recent first). Ties are broken by id.
    #[param(inline)]
    pub sort: Option<SortParam>,
    /// Items per page, 1 to 200 (default 20).
    #[param(minimum = 1, maximum = 200, example = 20)]
    pub limit: Option<usize>,
    /// `next_cursor` from the previous page. Paging never repeats or skips an item while
    /// the data is unchanged.
    #[param(
        example = "ZHwzZjc5YmQ1ZTdkMDAwMDAwfDFiZWFmNjY0LTA2NWUtNDFjZC04ZTQ0LWMxMzRkNzA4NjJhMA"
    )]
    pub cursor: Option<String>,
    /// `json` (default), `geojson` or `csv`; overrides the `Accept` header.
    #[param(inline)]
    pub format: Option<FormatParam>,
}

impl QueryContract for ListQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn repeatable() -> Vec<&'static str> {
        vec!["category", "tag"]
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        let near = parse_near(p)?;
        let near_postcode = parse_near_postcode(p, near.is_some())?;
        let radius_m = p.f64_in("radius_m", 1.0, MAX_RADIUS_M)?;
        let bbox = parse_bbox(p)?;
        let q = parse_q(p)?;
        let tag = match p.list("tag")? {
            None => None,
            Some(t) => Some(
                parse_tags(t.iter().map(String::as_str)).map_err(|e| ApiError::param("tag", e))?,
            ),
        };
        Ok(ListQuery {
            category: p.list("category")?,
            near,
            near_postcode,
            radius_m,
            bbox,
            q,
            wheelchair: parse_wheelchair(p)?,
            cost: p.one_of("cost", &["free"])?.map(|_| CostFilter::Free),
            tag,
            open_at: p.timestamp("open_at")?,
            open_now: p.bool("open_now")?,
            sort: p
                .one_of("sort", &["distance", "name", "updated"])?
                .map(|s| match s {
                    "distance" => SortParam::Distance,
                    "updated" => SortParam::Updated,
                    _ => SortParam::Name,
                }),
            limit: Some(p.usize_in("limit", 20, 1, MAX_LIMIT)?),
            cursor: p.get("cursor").map(str::to_string),
            format: FormatParam::parse(p, &["json", "geojson", "csv"])?,
        })
    }
}

/// `near=lat,lon`, checked (shared by the searches that take a circle).
pub(super) fn parse_near(p: &Params) -> Result<Option<(f64, f64)>, ApiError> {
    Ok(
        match p.numbers("near", 2, "lat,lon in degrees, e.g. 51.5194,-0.1270")? {
            None => None,
            Some(v) => {
                let (lat, lon) = (v[0], v[1]);
                if lat.abs() > 90.0 || lon.abs() > 180.0 {
                    return Err(ApiError::param(
                        "near",
                        "latitude must be within ±90 and longitude within ±180",
                    ));
                }
                Some((lat, lon))
            }
        },
    )
}

/// `near_postcode`, normalised; not with `near`.
pub(super) fn parse_near_postcode(p: &Params, near: bool) -> Result<Option<String>, ApiError> {
    Ok(match p.get("near_postcode") {
        None => None,
        Some(_) if near => {
            return Err(ApiError::param(
                "near_postcode",
                "cannot be combined with near",
            ))
        }
        Some(pc) => Some(normalise_postcode(pc).ok_or_else(|| {
            ApiError::param(
                "near_postcode",
                format!("{pc:?} is not a UK postcode (e.g. SW1A 2AA)"),
            )
        })?),
    })
}

/// `bbox=min_lon,min_lat,max_lon,max_lat`, checked.
pub(super) fn parse_bbox(p: &Params) -> Result<Option<BBox>, ApiError> {
    Ok(
        match p.numbers("bbox", 4, "min_lon,min_lat,max_lon,max_lat in degrees")? {
            None => None,
            Some(v) => {
                let b = BBox {
                    min_lon: v[0],
                    min_lat: v[1],
                    max_lon: v[2],
                    max_lat: v[3],
                };
                if [b.min_lon, b.max_lon].iter().any(|x| x.abs() > 180.0)
                    || [b.min_lat, b.max_lat].iter().any(|y| y.abs() > 90.0)
                {
                    return Err(ApiError::param(
                        "bbox",
                        "longitudes must be within ±180 and latitudes within ±90",
                    ));
                }
                if b.min_lat > b.max_lat {
                    return Err(ApiError::param(
                        "bbox",
                        "min_lat must not be greater than max_lat",
                    ));
                }
                Some(b)
            }
        },
    )
}

/// `q`: lower-cased words, at most [`MAX_Q_WORDS`] and 200 characters.
pub(super) fn parse_q(p: &Params) -> Result<Option<Vec<String>>, ApiError> {
    let Some(q) = p.get("q") else {
        return Ok(None);
    };
    let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
    if words.len() > MAX_Q_WORDS || q.len() > 200 {
        return Err(ApiError::param(
            "q",
            format!("takes at most {MAX_Q_WORDS} words and 200 characters"),
        ));
    }
    Ok(Some(words))
}

/// `wheelchair=yes|limited`.
pub(super) fn parse_wheelchair(p: &Params) -> Result<Option<AccessFilter>, ApiError> {
    Ok(p.one_of("wheelchair", &["yes", "limited"])?
        .map(|w| match w {
            "yes" => AccessFilter::Yes,
            _ => AccessFilter::Limited,
        }))
}

impl AccessFilter {
    /// The venue access this filter asks for.
    pub fn wheelchair(self) -> Wheelchair {
        match self {
            AccessFilter::Yes => Wheelchair::Yes,
            AccessFilter::Limited => Wheelchair::Limited,
        }
    }
}

impl ListQuery {
    /// With `near_postcode`, the query centred on that postcode's position (read from the
    /// database: one primary-key lookup).
    pub async fn at_postcode(mut self, state: &web::Data<AppState>) -> Result<Self, ApiError> {
        if let Some(pc) = self.near_postcode.take() {
            self.near =
                Some(blocking(state, move |st| postcode_position(st, &pc, "near_postcode")).await?);
        }
        Ok(self)
    }

    /// The search these parameters ask for, checked against each other and the snapshot's
    /// categories.
    pub fn search(self, snap: &Snapshot) -> Result<Search, ApiError> {
        if self.radius_m.is_some() && self.near.is_none() {
            return Err(ApiError::param("radius_m", "needs near=lat,lon"));
        }
        let near = self.near.map(|(lat, lon)| Near {
            lat,
            lon,
            radius_m: self.radius_m.unwrap_or(DEFAULT_RADIUS_M),
        });
        if let Some(cats) = &self.category {
            if let Some(bad) = cats.iter().find(|c| !snap.is_category(c)) {
                let known: Vec<&str> = snap.categories().iter().map(|c| c.slug.as_str()).collect();
                return Err(ApiError::param(
                    "category",
                    format!("{bad:?} is not a category (one of {})", known.join(", ")),
                ));
            }
        }
        let open_now = self.open_now.unwrap_or(false);
        if self.open_at.is_some() && open_now {
            return Err(ApiError::param(
                "open_now",
                "cannot be combined with open_at",
            ));
        }
        let open_at = self.open_at.or(open_now.then(Utc::now)).map(london_time);
        let sort = match self.sort {
            Some(SortParam::Distance) if near.is_none() => {
                return Err(ApiError::param("sort", "distance needs near=lat,lon"))
            }
            Some(SortParam::Distance) => SortBy::Distance,
            Some(SortParam::Updated) => SortBy::Updated,
            Some(SortParam::Name) => SortBy::Name,
            None if near.is_some() => SortBy::Distance,
            None => SortBy::Name,
        };
        let after = match &self.cursor {
            None => None,
            Some(c) => Some(Cursor::decode(c, sort).ok_or_else(|| {
                ApiError::param(
                    "cursor",
                    "is not a next_cursor returned by this endpoint for the same sort",
                )
            })?),
        };
        Ok(Search {
            near,
            bbox: self.bbox,
            filter: Filter {
                categories: self.category,
                words: self.q.unwrap_or_default(),
                wheelchair: self.wheelchair.map(AccessFilter::wheelchair),
                free_only: self.cost.is_some(),
                tags: self.tag.unwrap_or_default(),
                open_at,
                statuses: None,
            },
            sort,
            limit: self.limit.unwrap_or(20),
            after,
        })
    }
}

/// Search published assets.
///
/// Radius, bounding-box and attribute filters with keyset paging. Answers JSON by default,
/// a GeoJSON FeatureCollection for `Accept: application/geo+json` or `format=geojson`, and
/// CSV in the import format for `Accept: text/csv` or `format=csv` (the total and next
/// cursor are then in the `X-Total-Count` and `X-Next-Cursor` headers; with `near`, a last
/// column `distance_m`).
#[utoipa::path(
    get, path = "/v1/assets", tag = "assets", params(ListQuery),
    responses(
        (status = 200, description = "A page of matching assets",
            headers(("X-Total-Count" = usize, description = "Every match, on every page"),
                    ("X-Next-Cursor" = String, description = "Cursor of the next page, when there is one")),
            content(
                (AssetPage = "application/json"),
                (AssetFeatureCollection = "application/geo+json"),
                (String = "text/csv", example = "source,source_id,name,category,lat,lon,address,town,postcode,website,phone,email,opening_hours,wheelchair,cost,description,tags,status,location_precision\nlibraries-taskforce-2016,1,Barking,library,51.5363871,0.0799942,\"2 Town Square, Barking\",Barking,IG11 7NB,https://www.lbbd.gov.uk/libraries,,barking.library@lbbd.gov.uk,,unknown,free,,local-authority-led;statutory,published,exact\n"))),
        (status = 400, response = super::problems::BadRequest),
        (status = 406, response = super::problems::NotAcceptable),
        (status = 409, response = super::problems::Conflict),
    )
)]
pub async fn list_assets(
    req: HttpRequest,
    Query(q): Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let format = format::negotiate(&req, q.format.map(FormatParam::as_str))?;
    let q = q.at_postcode(&state).await?;
    let snap = state.snapshot.load();
    let near = q.near.is_some();
    let search = q.search(&snap)?;
    let page = snap.search(&search);
    Ok(format::search_page(
        &snap,
        &page.hits,
        page.next.map(|c| c.encode()),
        page.total,
        format,
        near,
    ))
}

/// The position of a normalised postcode given as parameter `param`: 400 when it is not
/// known, 409 when no postcodes are imported at all.
pub fn postcode_position(
    st: &AppState,
    postcode: &str,
    param: &str,
) -> Result<(f64, f64), ApiError> {
    let mut conn = st.store.conn()?;
    match postcodes::position(&mut conn, postcode)? {
        Some(p) => Ok(p),
        None if !postcodes::any(&mut conn)? => Err(ApiError::Conflict(format!(
            "{param} needs postcode positions, and none are imported: import OS \
             Code-Point Open with `community-assets import postcodes`"
        ))),
        None => Err(ApiError::param(
            param,
            format!("{postcode:?} is not a known postcode"),
        )),
    }
}

/// Query parameters of `GET /v1/assets/nearest`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearestQuery {
    /// Latitude in WGS84 degrees.
    #[param(minimum = -90, maximum = 90, example = 53.4808)]
    pub lat: f64,
    /// Longitude in WGS84 degrees.
    #[param(minimum = -180, maximum = 180, example = -2.2426)]
    pub lon: f64,
    /// Categories, comma-separated (any of them); all categories when absent.
    #[param(value_type = Option<String>, example = "museum")]
    pub category: Option<Vec<String>>,
    /// How many, 1 to 100 (default 5).
    #[param(minimum = 1, maximum = 100, example = 10)]
    pub k: Option<usize>,
}

impl QueryContract for NearestQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn repeatable() -> Vec<&'static str> {
        vec!["category"]
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(NearestQuery {
            lat: p
                .f64_in("lat", -90.0, 90.0)?
                .ok_or_else(|| ApiError::param("lat", "is required"))?,
            lon: p
                .f64_in("lon", -180.0, 180.0)?
                .ok_or_else(|| ApiError::param("lon", "is required"))?,
            category: p.list("category")?,
            k: Some(p.usize_in("k", 5, 1, MAX_K)?),
        })
    }
}

/// The k nearest published assets, whatever their distance.
///
/// Nearest first by great-circle distance (ties by id), each with `distance_m`.
#[utoipa::path(
    get, path = "/v1/assets/nearest", tag = "assets", params(NearestQuery),
    responses(
        (status = 200, description = "Nearest assets, nearest first", body = AssetItems),
        (status = 400, response = super::problems::BadRequest),
    )
)]
pub async fn nearest_assets(
    Query(q): Query<NearestQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let (lat, lon, categories, k) = (q.lat, q.lon, q.category, q.k.unwrap_or(5));
    if let Some(bad) = categories.iter().flatten().find(|c| !snap.is_category(c)) {
        return Err(ApiError::param(
            "category",
            format!("{bad:?} is not a category"),
        ));
    }
    let hits = snap.nearest(lat, lon, categories.as_deref(), k);
    Ok(format::json_items(&snap, &hits))
}

/// One published asset.
///
/// With `ETag` (the asset's version) and `Last-Modified`; a matching `If-None-Match`
/// answers `304 Not Modified`.
#[utoipa::path(
    get, path = "/v1/assets/{id}", tag = "assets",
    params(("id" = Uuid, Path, description = "Asset id", example = "0b6f6a52-1f7e-4c1e-9d7a-2f3f1b8e4a10"),
           ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier response"),
           ("If-Modified-Since" = Option<String>, Header, description = "A Last-Modified value from an earlier response (ignored when If-None-Match is given)")),
    responses(
        (status = 200, description = "The asset", body = PublishedAsset,
            headers(("ETag" = String, description = "Changes whenever the asset changes"),
                    ("Last-Modified" = String, description = "When the asset last changed"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match (or the time in If-Modified-Since)"),
        (status = 400, response = super::problems::BadRequest),
        (status = 404, response = super::problems::NotFound),
    )
)]
pub async fn get_asset(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::param("id", "must be a UUID"))?;
    let snap = state.snapshot.load();
    let entry = snap
        .get_published(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no published asset has id {id}")))?;
    let etag = etag(entry.version);
    let last_modified = http_date(entry.updated_at);
    let matches = is_fresh(&req, &etag, Some(last_modified));
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::LAST_MODIFIED, last_modified));
    if matches {
        return Ok(res.finish());
    }
    let mut body = String::new();
    entry.write_json_open(&mut body);
    body.push('}');
    Ok(res.content_type("application/json").body(body))
}

/// Documentation shapes of list responses (the handlers write these bytes directly).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AssetHit {
    #[schema(inline)]
    #[serde(flatten)]
    pub asset: PublishedAsset,
    /// Great-circle distance from `near` (or the query point) in metres.
    pub distance_m: Option<f64>,
}

/// A published asset as the public API gives it: the asset and the area containing it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PublishedAsset {
    #[schema(inline)]
    #[serde(flatten)]
    pub asset: Asset,
    /// The code of the statistical area containing the asset (see `GET /v1/areas`); null
    /// before areas are imported, or outside every imported boundary.
    #[schema(example = "E01000001")]
    pub area_code: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"items": [{"id": "1beaf664-065e-41cd-8e44-c134d70862a0", "name": "Barking", "category": "library",
    "lat": 51.5363871, "lon": 0.0799942, "address": "2 Town Square, Barking", "town": "Barking",
    "postcode": "IG11 7NB", "website": "https://www.lbbd.gov.uk/libraries", "phone": null,
    "email": "barking.library@lbbd.gov.uk", "description": null, "opening_hours": null,
    "wheelchair": "unknown", "cost": "free", "tags": ["local-authority-led", "statutory"],
    "source": "libraries-taskforce-2016", "source_id": "1", "status": "published",
    "last_verified_at": null, "created_at": "2026-11-24T11:29:21.013411Z",
    "updated_at": "2026-11-24T11:29:21.013411Z", "version": 1, "distance_m": 412.7}],
    "next_cursor": "ZHwzZjc5YmQ1ZTdkMDAwMDAwfDFiZWFmNjY0LTA2NWUtNDFjZC04ZTQ0LWMxMzRkNzA4NjJhMA", "total": 37}))]
pub struct AssetPage {
    pub items: Vec<AssetHit>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Every match, on every page.
    pub total: usize,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"items": [{"id": "1beaf664-065e-41cd-8e44-c134d70862a0", "name": "Barking", "category": "library",
    "lat": 51.5363871, "lon": 0.0799942, "address": "2 Town Square, Barking", "town": "Barking",
    "postcode": "IG11 7NB", "website": "https://www.lbbd.gov.uk/libraries", "phone": null,
    "email": "barking.library@lbbd.gov.uk", "description": null, "opening_hours": null,
    "wheelchair": "unknown", "cost": "free", "tags": ["local-authority-led", "statutory"],
    "source": "libraries-taskforce-2016", "source_id": "1", "status": "published",
    "last_verified_at": null, "created_at": "2026-11-24T11:29:21.013411Z",
    "updated_at": "2026-11-24T11:29:21.013411Z", "version": 1, "distance_m": 412.7}]}))]
pub struct AssetItems {
    pub items: Vec<AssetHit>,
}

/// A GeoJSON Feature whose properties are the asset (and `distance_m`).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AssetFeature {
    #[schema(example = "Feature")]
    pub r#type: String,
    pub id: Uuid,
    /// `{"type": "Point", "coordinates": [lon, lat]}`.
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    pub properties: AssetHit,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AssetFeatureCollection {
    #[schema(example = "FeatureCollection")]
    pub r#type: String,
    pub features: Vec<AssetFeature>,
    pub next_cursor: Option<String>,
    pub total: usize,
}
