//! Access-gap reports: thin handlers over [`crate::reports`], with per-snapshot caching,
//! ETags and JSON, CSV, GeoJSON and SVG output.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use utoipa::{IntoParams, ToSchema};

use super::format::{self, Format, CSV, GEOJSON};
use super::params::Params;
use crate::error::{ApiError, Problem};
use crate::index::Snapshot;
use crate::reports::access::{self, Candidate, GapSort, Scope};
use crate::reports::{cached, charts, Rendered};
use crate::state::AppState;

pub const DEFAULT_THRESHOLD_M: f64 = 2000.0;
pub const MAX_THRESHOLD_M: f64 = 100_000.0;
pub const DEFAULT_MAX_DECILE: i32 = 2;
pub const MAX_CANDIDATES: usize = 1000;
const SVG: &str = "image/svg+xml";

/// Query parameters shared by the reports (documentation; parsing is in [`scope`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReportQuery {
    /// Required. Categories, comma-separated; each is reported separately (access-gaps,
    /// local-authorities: an area is a gap when it is one for any of them) or together
    /// (access-by-decile: the nearest asset of any of them).
    #[param(example = "museum,library")]
    category: String,
    /// An area farther than this from the nearest asset is a gap: 1 to 100000 metres
    /// (default 2000).
    #[param(example = 2000)]
    threshold_m: Option<f64>,
    /// Only areas in IMD deciles 1 (most deprived) to this, 1 to 10 (default 2). Not used
    /// by access-by-decile, which reports every decile.
    #[param(example = 2)]
    max_decile: Option<i32>,
    /// Local authority district codes, comma-separated; all of England when absent.
    #[param(example = "E08000012")]
    la: Option<String>,
}

/// Parses the shared report parameters, checking categories and local authorities.
fn scope(p: &Params, snap: &Snapshot) -> Result<Scope, ApiError> {
    if snap.areas.is_empty() {
        return Err(ApiError::Conflict(
            "no areas have been imported yet: run `community-assets import areas` (see the README)"
                .into(),
        ));
    }
    let categories = p
        .list("category")?
        .ok_or_else(|| ApiError::param("category", "is required, e.g. category=museum"))?;
    if let Some(bad) = categories.iter().find(|c| !snap.is_category(c)) {
        return Err(ApiError::param(
            "category",
            format!("{bad:?} is not a category"),
        ));
    }
    let la = match p.list("la")? {
        None => None,
        Some(codes) => {
            let codes: Vec<String> = codes.into_iter().map(|c| c.to_uppercase()).collect();
            if let Some(bad) = codes.iter().find(|c| snap.areas.la_name(c).is_none()) {
                return Err(ApiError::param(
                    "la",
                    format!("no area has local authority code {bad:?}"),
                ));
            }
            Some(codes)
        }
    };
    Ok(Scope {
        categories,
        threshold_m: p
            .f64_in("threshold_m", 1.0, MAX_THRESHOLD_M)?
            .unwrap_or(DEFAULT_THRESHOLD_M),
        max_decile: p.usize_in("max_decile", DEFAULT_MAX_DECILE as usize, 1, 10)? as i32,
        la,
    })
}

/// Answers a rendered report, or 304 when the client's ETag matches. `Server-Timing`
/// says how long the server spent, cached or not.
fn respond(req: &HttpRequest, r: &Rendered, started: Instant) -> HttpResponse {
    let timing = format!("app;dur={:.3}", started.elapsed().as_secs_f64() * 1000.0);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == r.etag)
        });
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, r.etag.as_str()))
        .insert_header(("Server-Timing", timing))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if fresh {
        res.finish()
    } else {
        res.content_type(r.content_type).body(r.body.clone())
    }
}

/// JSON or CSV, for reports whose rows are not areas: `format`, else `Accept`.
fn json_or_csv(req: &HttpRequest, p: &Params) -> Result<Format, ApiError> {
    let explicit = p.one_of("format", &["json", "csv"])?;
    Ok(match format::negotiate(req, explicit)? {
        Format::Csv => Format::Csv,
        _ => Format::Json,
    })
}

fn json<T: Serialize>(value: &T) -> Result<(&'static str, Vec<u8>), ApiError> {
    serde_json::to_vec(value)
        .map(|b| ("application/json", b))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn csv(
    header: Vec<String>,
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<(&'static str, Vec<u8>), ApiError> {
    format::csv_body(header, rows).map(|b| (CSV, b))
}

fn num(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn int(v: Option<i64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

// Documentation only, like the one below: the handler builds the document.
/// A gap area as a GeoJSON Feature: its representative point, the row as properties.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct GapFeature {
    #[schema(example = "Feature")]
    r#type: String,
    /// The area code.
    id: String,
    /// `{"type": "Point", "coordinates": [lon, lat]}`.
    #[schema(value_type = Object)]
    geometry: serde_json::Value,
    properties: access::GapRow,
}

/// The access-gaps report as a GeoJSON FeatureCollection.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct GapsFeatureCollection {
    #[schema(example = "FeatureCollection")]
    r#type: String,
    features: Vec<GapFeature>,
    parameters: Scope,
    summary: access::GapSummary,
}

const GAPS_PARAMS: &[&str] = &[
    "category",
    "threshold_m",
    "max_decile",
    "la",
    "sort",
    "limit",
    "format",
];

/// Deprived areas far from any asset of a category.
///
/// The areas in IMD deciles up to `max_decile` whose nearest published asset of a requested
/// category is farther than `threshold_m` (measured from the area's representative point),
/// with the distance and asset per category, and a summary of gap areas and the people
/// living in them per category and overall. JSON by default; CSV (`format=csv`, first column
/// `area_code`, then `<category>_distance_m`, `<category>_asset_id`, `<category>_gap` per
/// category); GeoJSON (area points). Cached until the data change; `ETag` given.
#[utoipa::path(
    get, path = "/v1/reports/access-gaps", tag = "reports",
    params(ReportQuery,
        ("sort" = Option<String>, Query, description = "`population` (most people first, the default) or `distance` (farthest first)"),
        ("limit" = Option<usize>, Query, description = "Keep only the first rows of the sorted list, 1 to 100000 (the summary still counts every area)"),
        ("format" = Option<String>, Query, description = "`json` (default), `csv` or `geojson`; overrides Accept")),
    responses(
        (status = 200, description = "The gap areas: JSON, CSV (a row per area) or a GeoJSON FeatureCollection of the areas' points",
            headers(("ETag" = String, description = "Changes when the data change"),
                    ("Server-Timing" = String, description = "Server time in milliseconds")),
            content(
                (access::GapsReport = "application/json", example = json!({"parameters": {"categories": ["museum"], "threshold_m": 2000.0, "max_decile": 2},
                "vintage": {"version": 1, "index_name": "IoD2019", "geography": "LSOA 2011", "imported_at": "2026-11-25T09:00:00Z"},
                "data_version": 42, "weighting": "population",
                "summary": {"areas": 6569, "population": 11289733,
                    "per_category": [{"category": "museum", "gap_areas": 3120, "gap_population": 5301871}],
                    "overall": {"gap_areas": 3120, "gap_population": 5301871}},
                "rows": [{"area_code": "E01005131", "area_name": "Manchester 001A", "la_code": "E08000003",
                    "la_name": "Manchester", "imd_decile": 1, "population": 2950, "lat": 53.5304, "lon": -2.2166,
                    "access": [{"category": "museum", "distance_m": 3412.5,
                        "asset_id": "1beaf664-065e-41cd-8e44-c134d70862a0", "gap": true}]}]})),
                (GapsFeatureCollection = "application/geo+json"),
                (String = "text/csv"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "A parameter is missing, malformed or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header names no format this endpoint serves", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No areas have been imported", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn access_gaps(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let p = Params::parse(req.query_string(), GAPS_PARAMS, &["category", "la"])?;
    let format = format::negotiate(&req, p.one_of("format", &["json", "geojson", "csv"])?)?;
    let snap = state.snapshot.load();
    let scope = scope(&p, &snap)?;
    let sort = match p.one_of("sort", &["population", "distance"])? {
        Some("distance") => GapSort::Distance,
        _ => GapSort::Population,
    };
    let limit = p
        .get("limit")
        .map(|_| p.usize_in("limit", 0, 1, 100_000))
        .transpose()?;
    let key = format!("gaps|{scope:?}|{sort:?}|{limit:?}|{format:?}");
    let r = cached(&snap, &key, || {
        let report = access::access_gaps(&snap, &scope, sort, limit);
        match format {
            Format::Json => json(&report),
            Format::Csv => {
                let mut header: Vec<String> = [
                    "area_code",
                    "area_name",
                    "la_code",
                    "la_name",
                    "imd_decile",
                    "population",
                    "lat",
                    "lon",
                ]
                .map(String::from)
                .to_vec();
                for c in &scope.categories {
                    header.extend([
                        format!("{c}_distance_m"),
                        format!("{c}_asset_id"),
                        format!("{c}_gap"),
                    ]);
                }
                csv(
                    header,
                    report.rows.iter().map(|r| {
                        let mut cells = vec![
                            r.area_code.clone(),
                            r.area_name.clone(),
                            r.la_code.clone(),
                            r.la_name.clone(),
                            r.imd_decile.to_string(),
                            int(r.population),
                            r.lat.to_string(),
                            r.lon.to_string(),
                        ];
                        for a in &r.access {
                            cells.extend([
                                num(a.distance_m),
                                a.asset_id.map(|i| i.to_string()).unwrap_or_default(),
                                a.gap.to_string(),
                            ]);
                        }
                        cells
                    }),
                )
            }
            Format::GeoJson => {
                let features: Vec<serde_json::Value> = report
                    .rows
                    .iter()
                    .map(|r| serde_json::json!({"type": "Feature", "id": r.area_code,
                        "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]}, "properties": r}))
                    .collect();
                let doc = serde_json::json!({"type": "FeatureCollection", "features": features,
                    "parameters": report.parameters, "summary": report.summary});
                json(&doc).map(|(_, b)| (GEOJSON, b))
            }
        }
    })?;
    Ok(respond(&req, &r, started))
}

const DECILE_PARAMS: &[&str] = &["category", "threshold_m", "la", "format"];

/// Access by deprivation decile.
///
/// For each IMD decile 1 (most deprived) to 10: areas, population, population-weighted mean
/// and median distance to the nearest asset of any requested category, the share of the
/// population beyond `threshold_m`, and assets (located in the decile's areas) per 10,000
/// residents; and decile 1 divided by decile 10 for each measure. JSON or CSV (the ratios
/// as a last row with decile `ratio_1_to_10`).
#[utoipa::path(
    get, path = "/v1/reports/access-by-decile", tag = "reports",
    params(("category" = String, Query, description = "Required. Categories, comma-separated: the nearest asset of any of them counts", example = "museum"),
        ("threshold_m" = Option<f64>, Query, description = "1 to 100000 metres (default 2000)", example = 2000),
        ("la" = Option<String>, Query, description = "Local authority district codes, comma-separated"),
        ("format" = Option<String>, Query, description = "`json` (default) or `csv`")),
    responses(
        (status = 200, description = "One row per decile: JSON, or CSV (`format=csv` or `Accept: text/csv`; the ratios as a last row)",
            headers(("ETag" = String, description = "Changes when the data change"),
                    ("Server-Timing" = String, description = "Server time in milliseconds")),
            content(
                (access::DecileReport = "application/json", example = json!({"parameters": {"categories": ["library"], "threshold_m": 2000.0, "max_decile": 2},
                "vintage": {"version": 1, "index_name": "IoD2019", "geography": "LSOA 2011", "imported_at": "2026-11-25T09:00:00Z"},
                "data_version": 42, "weighting": "population",
                "deciles": [{"decile": 1, "areas": 3284, "population": 5431000, "mean_distance_m": 1210.4,
                    "median_distance_m": 1012.9, "share_beyond_threshold": 0.12, "assets_per_10k": 0.51}],
                "decile1_to_decile10": {"areas": 1.0, "population": 1.02, "mean_distance_m": 0.55,
                    "median_distance_m": 0.52, "share_beyond_threshold": 0.31, "assets_per_10k": 1.4}})),
                (String = "text/csv"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "A parameter is missing, malformed or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header names no format this endpoint serves", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No areas have been imported", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn access_by_decile(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let p = Params::parse(req.query_string(), DECILE_PARAMS, &["category", "la"])?;
    let format = json_or_csv(&req, &p)?;
    let snap = state.snapshot.load();
    let scope = scope(&p, &snap)?;
    let key = format!("decile|{scope:?}|{format:?}");
    let r = cached(&snap, &key, || {
        let report = access::access_by_decile(&snap, &scope);
        match format {
            Format::Csv => {
                let header = [
                    "decile",
                    "areas",
                    "population",
                    "mean_distance_m",
                    "median_distance_m",
                    "share_beyond_threshold",
                    "assets_per_10k",
                ]
                .map(String::from)
                .to_vec();
                let x = &report.decile1_to_decile10;
                let ratios = vec![
                    "ratio_1_to_10".to_string(),
                    num(x.areas),
                    num(x.population),
                    num(x.mean_distance_m),
                    num(x.median_distance_m),
                    num(x.share_beyond_threshold),
                    num(x.assets_per_10k),
                ];
                csv(
                    header,
                    report
                        .deciles
                        .iter()
                        .map(|d| {
                            vec![
                                d.decile.to_string(),
                                d.areas.to_string(),
                                int(d.population),
                                num(d.mean_distance_m),
                                num(d.median_distance_m),
                                num(d.share_beyond_threshold),
                                num(d.assets_per_10k),
                            ]
                        })
                        .chain(std::iter::once(ratios)),
                )
            }
            _ => json(&report),
        }
    })?;
    Ok(respond(&req, &r, started))
}

/// Access by decile as a chart (SVG).
///
/// The same parameters and figures as `access-by-decile`: mean and median distance and
/// the share beyond the threshold, by decile.
#[utoipa::path(
    get, path = "/v1/reports/access-by-decile.svg", tag = "reports",
    params(("category" = String, Query, description = "Required. Categories, comma-separated", example = "library"),
        ("threshold_m" = Option<f64>, Query, description = "1 to 100000 metres (default 2000)"),
        ("la" = Option<String>, Query, description = "Local authority district codes, comma-separated")),
    responses(
        (status = 200, description = "An SVG chart", content_type = "image/svg+xml", body = String,
            headers(("ETag" = String, description = "Changes when the data change"),
                    ("Server-Timing" = String, description = "Server time in milliseconds"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "A parameter is missing, malformed or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No areas have been imported", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn access_by_decile_svg(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let p = Params::parse(
        req.query_string(),
        &["category", "threshold_m", "la"],
        &["category", "la"],
    )?;
    let snap = state.snapshot.load();
    let scope = scope(&p, &snap)?;
    let r = cached(&snap, &format!("decile.svg|{scope:?}"), || {
        let report = access::access_by_decile(&snap, &scope);
        let rows: Vec<charts::DecileBar> = report
            .deciles
            .iter()
            .map(|d| charts::DecileBar {
                decile: d.decile as u8,
                mean_distance_m: d.mean_distance_m,
                median_distance_m: d.median_distance_m,
                share_beyond_threshold: d.share_beyond_threshold,
            })
            .collect();
        let title = format!(
            "Distance to the nearest {} by deprivation decile{}",
            scope.categories.join(" or "),
            la_suffix(&snap, &scope)
        );
        charts::decile_chart(&title, scope.threshold_m, &rows)
            .map(|s| (SVG, s.into_bytes()))
            .map_err(ApiError::Internal)
    })?;
    Ok(respond(&req, &r, started))
}

fn la_suffix(snap: &Snapshot, scope: &Scope) -> String {
    match &scope.la {
        None => ", England".into(),
        Some(codes) => {
            let names: Vec<&str> = codes.iter().filter_map(|c| snap.areas.la_name(c)).collect();
            format!(", {}", names.join(", "))
        }
    }
}

/// A map of access gaps (SVG).
///
/// Area points coloured by IMD decile, gap areas (as in `access-gaps`: deciles up to
/// `max_decile`, a gap for at least one requested category) emphasised, assets of the requested
/// categories marked; all of England or the local authorities in `la`.
#[utoipa::path(
    get, path = "/v1/reports/access-gaps.svg", tag = "reports",
    params(ReportQuery),
    responses(
        (status = 200, description = "An SVG map", content_type = "image/svg+xml", body = String,
            headers(("ETag" = String, description = "Changes when the data change"),
                    ("Server-Timing" = String, description = "Server time in milliseconds"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "A parameter is missing, malformed or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No areas have been imported", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn access_gaps_svg(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let p = Params::parse(
        req.query_string(),
        &["category", "threshold_m", "max_decile", "la"],
        &["category", "la"],
    )?;
    let snap = state.snapshot.load();
    let scope = scope(&p, &snap)?;
    let r = cached(&snap, &format!("gaps.svg|{scope:?}"), || {
        let report = access::access_gaps(&snap, &scope, GapSort::Population, None);
        let gaps: std::collections::HashSet<&str> =
            report.rows.iter().map(|r| r.area_code.as_str()).collect();
        let in_la = |la: &str| scope.la.as_ref().is_none_or(|l| l.iter().any(|c| c == la));
        let areas: Vec<charts::MapArea> = snap
            .areas
            .areas()
            .iter()
            .filter(|a| in_la(&a.la_code))
            .map(|a| charts::MapArea {
                lat: a.lat,
                lon: a.lon,
                decile: Some(a.imd_decile as u8),
                gap: gaps.contains(a.code.as_str()),
            })
            .collect();
        let assets: Vec<(f64, f64)> = (0..snap.len() as u32)
            .map(|i| snap.entry(i))
            .filter(|e| scope.categories.iter().any(|c| **c == *e.category))
            .filter(|e| e.area.is_some_and(|i| in_la(&snap.areas.area(i).la_code)))
            .map(|e| (e.lat, e.lon))
            .collect();
        let title = format!(
            "Areas in deciles 1-{} more than {} m from a {}{}{}",
            scope.max_decile,
            scope.threshold_m,
            scope.categories.join(", "),
            if scope.categories.len() > 1 {
                " (any of them)"
            } else {
                ""
            },
            la_suffix(&snap, &scope)
        );
        charts::gap_map(&title, &areas, &assets)
            .map(|s| (SVG, s.into_bytes()))
            .map_err(ApiError::Internal)
    })?;
    Ok(respond(&req, &r, started))
}

/// Local authorities ranked by people living in gap areas.
///
/// Per local authority: its areas and residents, the gap areas (in deciles up to
/// `max_decile`, a gap for at least one requested category) and their residents, the share
/// of its population they hold, and its rank (1 = most people in gap areas). JSON or CSV.
#[utoipa::path(
    get, path = "/v1/reports/local-authorities", tag = "reports",
    params(ReportQuery, ("format" = Option<String>, Query, description = "`json` (default) or `csv`")),
    responses(
        (status = 200, description = "Every local authority in scope, by rank: JSON, or CSV (`format=csv` or `Accept: text/csv`)",
            headers(("ETag" = String, description = "Changes when the data change"),
                    ("Server-Timing" = String, description = "Server time in milliseconds")),
            content(
                (access::LaReport = "application/json", example = json!({"parameters": {"categories": ["museum"], "threshold_m": 2000.0, "max_decile": 2},
                "vintage": {"version": 1, "index_name": "IoD2019", "geography": "LSOA 2011", "imported_at": "2026-11-25T09:00:00Z"},
                "data_version": 42, "weighting": "population",
                "rows": [{"rank": 1, "la_code": "E08000025", "la_name": "Birmingham", "areas": 639,
                    "population": 1111307, "gap_areas": 180, "gap_population": 312340, "gap_share": 0.281}]})),
                (String = "text/csv"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "A parameter is missing, malformed or out of range", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header names no format this endpoint serves", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No areas have been imported", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn local_authorities(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let p = Params::parse(
        req.query_string(),
        &["category", "threshold_m", "max_decile", "la", "format"],
        &["category", "la"],
    )?;
    let format = json_or_csv(&req, &p)?;
    let snap = state.snapshot.load();
    let scope = scope(&p, &snap)?;
    let r = cached(&snap, &format!("la|{scope:?}|{format:?}"), || {
        let report = access::local_authorities(&snap, &scope);
        match format {
            Format::Csv => csv(
                [
                    "rank",
                    "la_code",
                    "la_name",
                    "areas",
                    "population",
                    "gap_areas",
                    "gap_population",
                    "gap_share",
                ]
                .map(String::from)
                .to_vec(),
                report.rows.iter().map(|r| {
                    vec![
                        r.rank.to_string(),
                        r.la_code.clone(),
                        r.la_name.clone(),
                        r.areas.to_string(),
                        int(r.population),
                        r.gap_areas.to_string(),
                        int(r.gap_population),
                        r.gap_share.to_string(),
                    ]
                }),
            ),
            _ => json(&report),
        }
    })?;
    Ok(respond(&req, &r, started))
}

/// The body of `POST /v1/reports/what-if`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"category": "library", "threshold_m": 2000, "max_decile": 2,
    "candidates": [{"lat": 53.4084, "lon": -2.9916, "label": "Old library, Smith Street"},
                   {"lat": 53.4300, "lon": -2.9600, "label": "Community hall"}], "pick": 1}))]
pub struct WhatIfRequest {
    /// One category: the kind of venue the sites would be.
    pub category: String,
    /// Default 2000; 1 to 100000.
    pub threshold_m: Option<f64>,
    /// Default 2; 1 to 10.
    pub max_decile: Option<i32>,
    /// Local authority codes to restrict the gap areas to.
    pub la: Option<Vec<String>>,
    /// 1 to 1,000 possible sites.
    pub candidates: Vec<Candidate>,
    /// How many sites to choose together (default 1; at most the number of candidates).
    pub pick: Option<usize>,
}

/// Where would a new venue reach the most people?
///
/// For each candidate site, the people in gap areas (deciles up to `max_decile`, farther
/// than `threshold_m` from every published asset of the category) whose representative
/// point would be within `threshold_m` of the site; and the best `pick` sites chosen
/// together greedily (maximum coverage: each pick counts only people the earlier picks do
/// not already cover).
#[utoipa::path(
    post, path = "/v1/reports/what-if", tag = "reports",
    request_body = WhatIfRequest,
    responses(
        (status = 200, description = "Coverage per candidate and the greedy picks: JSON, or CSV (`Accept: text/csv`: one row per candidate with its pick order)",
            headers(("ETag" = String, description = "Changes when the data or the request change"),
                    ("Server-Timing" = String, description = "Server time in milliseconds")),
            content(
                (access::WhatIfReport = "application/json", example = json!({"parameters": {"categories": ["library"], "threshold_m": 2000.0, "max_decile": 2},
                "vintage": {"version": 1, "index_name": "IoD2019", "geography": "LSOA 2011", "imported_at": "2026-11-25T09:00:00Z"},
                "data_version": 42, "weighting": "population",
                "baseline": {"gap_areas": 512, "gap_population": 803122},
                "candidates": [{"index": 0, "label": "Old library, Smith Street", "lat": 53.4084, "lon": -2.9916,
                    "newly_covered_areas": 4, "newly_covered_population": 6210}],
                "picks": [{"index": 0, "label": "Old library, Smith Street", "added_areas": 4, "added_population": 6210,
                    "cumulative_areas": 4, "cumulative_population": 6210}]})),
                (String = "text/csv"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "The body is malformed or a value is out of range", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header names no format this endpoint serves", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No areas have been imported", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn what_if(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let w: WhatIfRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::param("body", format!("is not a valid what-if request: {e}")))?;
    let snap = state.snapshot.load();
    let mut query = vec![("category", w.category.clone())];
    if let Some(t) = w.threshold_m {
        query.push(("threshold_m", t.to_string()));
    }
    if let Some(m) = w.max_decile {
        query.push(("max_decile", m.to_string()));
    }
    if let Some(la) = &w.la {
        query.push(("la", la.join(",")));
    }
    let qs = serde_urlencoded::to_string(&query).map_err(|e| ApiError::Internal(e.to_string()))?;
    let scope = scope(
        &Params::parse(&qs, &["category", "threshold_m", "max_decile", "la"], &[])?,
        &snap,
    )?;
    if scope.categories.len() != 1 {
        return Err(ApiError::param("category", "must be exactly one category"));
    }
    if w.candidates.is_empty() || w.candidates.len() > MAX_CANDIDATES {
        return Err(ApiError::param(
            "candidates",
            format!("must hold 1 to {MAX_CANDIDATES} sites"),
        ));
    }
    for (i, c) in w.candidates.iter().enumerate() {
        if !(c.lat.abs() <= 90.0 && c.lon.abs() <= 180.0) {
            return Err(ApiError::param(
                &format!("candidates[{i}]"),
                "lat must be within ±90 and lon within ±180",
            ));
        }
        if c.label.as_ref().is_some_and(|l| l.len() > 200) {
            return Err(ApiError::param(
                &format!("candidates[{i}].label"),
                "must be at most 200 characters",
            ));
        }
    }
    let pick = w.pick.unwrap_or(1);
    if pick == 0 || pick > w.candidates.len() {
        return Err(ApiError::param(
            "pick",
            format!(
                "must be from 1 to the number of candidates ({})",
                w.candidates.len()
            ),
        ));
    }
    let format = match format::negotiate(&req, None)? {
        Format::Csv => Format::Csv,
        _ => Format::Json,
    };
    let key = format!("what-if|{scope:?}|{pick}|{:?}|{format:?}", w.candidates);
    let r = cached(&snap, &key, || {
        let report = access::what_if(&snap, &scope, &w.candidates, pick);
        if format == Format::Json {
            return json(&report);
        }
        // One row per candidate, with its place in the greedy picks when it has one.
        let header = [
            "index",
            "label",
            "lat",
            "lon",
            "newly_covered_areas",
            "newly_covered_population",
            "pick_order",
            "added_population",
            "cumulative_population",
        ];
        csv(
            header.map(String::from).to_vec(),
            report.candidates.iter().map(|c| {
                let pick = report
                    .picks
                    .iter()
                    .enumerate()
                    .find(|(_, p)| p.index == c.index);
                vec![
                    c.index.to_string(),
                    c.label.clone().unwrap_or_default(),
                    c.lat.to_string(),
                    c.lon.to_string(),
                    c.newly_covered_areas.to_string(),
                    int(c.newly_covered_population),
                    pick.map(|(k, _)| (k + 1).to_string()).unwrap_or_default(),
                    int(pick.and_then(|(_, p)| p.added_population)),
                    int(pick.and_then(|(_, p)| p.cumulative_population)),
                ]
            }),
        )
    })?;
    Ok(respond(&req, &r, started))
}
