//! Access-gap reports: thin handlers over [`crate::reports`]. Each checks the request,
//! asks the report's module for the rendered (cached) body and answers it with its ETag.
//! Most of this file is the endpoints' OpenAPI documentation.

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use utoipa::{IntoParams, ToSchema};

use super::assets::FormatParam;
use super::body::{Json, JsonBody};
use super::conditional::is_fresh;
use super::format::{self, Format};
use super::params::{documented, Params, Query, QueryContract};
use crate::error::ApiError;
use crate::index::Snapshot;
use crate::reports::gaps::GapSort;
use crate::reports::what_if::WhatIfRequest;
use crate::reports::{deciles, gaps};
use crate::reports::{local_authorities, scope as checks, what_if};
use crate::reports::{Rendered, Report, Scope};
use crate::state::AppState;

pub use crate::reports::scope::{DEFAULT_MAX_DECILE, DEFAULT_THRESHOLD_M, MAX_THRESHOLD_M};
pub use crate::reports::what_if::MAX_CANDIDATES;

/// Query parameters every report takes.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Required. Categories, comma-separated; each is reported separately (access-gaps,
    /// local-authorities: an area is a gap when it is one for any of them) or together
    /// (access-by-decile: the nearest asset of any of them).
    #[param(value_type = String, example = "museum,library")]
    pub category: Option<Vec<String>>,
    /// An area farther than this from the nearest asset is a gap: 1 to 100000 metres
    /// (default 2000).
    #[param(minimum = 1, maximum = 100000, example = 2000)]
    pub threshold_m: Option<f64>,
    /// Local authority district codes of the imported areas, comma-separated; all of
    /// England when absent.
    #[param(value_type = Option<String>, example = "E08000012")]
    pub la: Option<Vec<String>>,
}

impl QueryContract for ReportQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn repeatable() -> Vec<&'static str> {
        vec!["category", "la"]
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(ReportQuery {
            category: p.list("category")?,
            threshold_m: p.f64_in("threshold_m", 1.0, MAX_THRESHOLD_M)?,
            la: p.list("la")?,
        })
    }
}

impl ReportQuery {
    /// The report's scope, its categories and local authorities checked against the data.
    fn scope(self, max_decile: Option<i32>, snap: &Snapshot) -> Result<Scope, ApiError> {
        checks::require_areas(snap)?;
        Ok(Scope {
            categories: checks::categories(snap, self.category)?,
            la: checks::local_authorities(snap, self.la)?,
            threshold_m: self.threshold_m.unwrap_or(DEFAULT_THRESHOLD_M),
            max_decile: max_decile.unwrap_or(DEFAULT_MAX_DECILE),
        })
    }
}

/// `max_decile`, for the reports that list gap areas.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DecileQuery {
    /// Only areas in IMD deciles 1 (most deprived) to this, 1 to 10 (default 2).
    #[param(minimum = 1, maximum = 10, example = 2)]
    pub max_decile: Option<i32>,
}

impl QueryContract for DecileQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(DecileQuery {
            max_decile: Some(p.usize_in("max_decile", DEFAULT_MAX_DECILE as usize, 1, 10)? as i32),
        })
    }
}

/// `format` of the reports whose rows are not areas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum TableFormat {
    Json,
    Csv,
}

/// `format`, for the reports that are tables.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TableQuery {
    /// `json` (default) or `csv`; overrides Accept.
    #[param(inline)]
    pub format: Option<TableFormat>,
}

impl QueryContract for TableQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(TableQuery {
            format: p.one_of("format", &["json", "csv"])?.map(|f| match f {
                "csv" => TableFormat::Csv,
                _ => TableFormat::Json,
            }),
        })
    }
}

impl TableQuery {
    /// JSON or CSV: `format`, else `Accept`.
    fn negotiate(&self, req: &HttpRequest) -> Result<Format, ApiError> {
        let explicit = self.format.map(|f| match f {
            TableFormat::Json => "json",
            TableFormat::Csv => "csv",
        });
        Ok(match format::negotiate(req, explicit)? {
            Format::Csv => Format::Csv,
            _ => Format::Json,
        })
    }
}

/// `sort` of the gap list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum GapSortParam {
    /// Most people first (the default).
    Population,
    /// Farthest first.
    Distance,
}

/// The gap list's own parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GapsQuery {
    /// `population` (most people first, the default) or `distance` (farthest first).
    #[param(inline)]
    pub sort: Option<GapSortParam>,
    /// Keep only the first rows of the sorted list, 1 to 100000 (the summary still counts
    /// every area).
    #[param(minimum = 1, maximum = 100000)]
    pub limit: Option<usize>,
    /// `json` (default), `csv` or `geojson`; overrides Accept.
    #[param(inline)]
    pub format: Option<FormatParam>,
}

impl QueryContract for GapsQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(GapsQuery {
            sort: p
                .one_of("sort", &["population", "distance"])?
                .map(|s| match s {
                    "distance" => GapSortParam::Distance,
                    _ => GapSortParam::Population,
                }),
            limit: p
                .get("limit")
                .map(|_| p.usize_in("limit", 0, 1, 100_000))
                .transpose()?,
            format: FormatParam::parse(p, &["json", "geojson", "csv"])?,
        })
    }
}

/// Answers a report: a cached body at once; otherwise it is rendered on the work budget,
/// off the request threads (503 or 429 at once when the budget is full, or while the
/// bodies alive, cached or still being sent to slow readers, exceed the cache's size:
/// the largest reports are tens of MiB each).
async fn answer(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    snap: Arc<Snapshot>,
    report: Report,
    started: Instant,
) -> Result<HttpResponse, ApiError> {
    if let Some(r) = report.cached(&state.reports.of(&snap)) {
        return Ok(respond(req, r, started));
    }
    if state.reports.alive_bytes() > state.config.work.report_cache_bytes {
        return Err(ApiError::Busy {
            retry_after_s: 1,
            message: "the server is still sending other large reports; try again after Retry-After seconds".into(),
        });
    }
    let client = super::auth::client(req, state);
    let r = super::costly(state, &state.work, &client, move |st| {
        // Writes may have made newer snapshots while this waited: render on the newest when
        // it descends from the request's (same areas and categories), sharing the current
        // cache, rather than alone on a snapshot already replaced.
        let latest = st.snapshot.load();
        let snap = if latest.descends_from(&snap) {
            latest
        } else {
            snap
        };
        report.render(&st.reports.of(&snap))
    })
    .await?;
    Ok(respond(req, r, started))
}

/// A rendered body, sent in slices of its shared buffer: the HTTP layer copies each chunk
/// it is given into its write buffer, so a 30 MiB body given whole would be copied once
/// per response. Holding the body until it is sent keeps it counted as alive.
struct SharedBody {
    rendered: Arc<Rendered>,
    sent: usize,
}

impl MessageBody for SharedBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.rendered.body.len() as u64)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<web::Bytes, Self::Error>>> {
        const SLICE: usize = 64 * 1024;
        let this = self.get_mut();
        let len = this.rendered.body.len();
        if this.sent >= len {
            return Poll::Ready(None);
        }
        let end = (this.sent + SLICE).min(len);
        let slice = this.rendered.body.slice(this.sent..end);
        this.sent = end;
        Poll::Ready(Some(Ok(slice)))
    }
}

/// Answers a rendered report, or 304 when the client's ETag matches. `Server-Timing`
/// says how long the server spent, cached or not.
fn respond(req: &HttpRequest, r: Arc<Rendered>, started: Instant) -> HttpResponse {
    let timing = format!("app;dur={:.3}", started.elapsed().as_secs_f64() * 1000.0);
    let fresh = is_fresh(req, &r.etag, None);
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
        res.content_type(r.content_type).body(SharedBody {
            rendered: r,
            sent: 0,
        })
    }
}

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
    params(ReportQuery, DecileQuery, GapsQuery),
    responses(
        (status = 200, description = "The gap areas: JSON, CSV (a row per area) or a GeoJSON FeatureCollection of the areas' points",
            headers(("ETag" = String, description = "Changes when the data change"),
                    ("Server-Timing" = String, description = "Server time in milliseconds")),
            content(
                (gaps::GapsReport = "application/json", example = json!({"parameters": {"categories": ["museum"], "threshold_m": 2000.0, "max_decile": 2},
                "vintage": {"version": 1, "index_name": "IoD2019", "geography": "LSOA 2011", "imported_at": "2026-11-25T09:00:00Z"},
                "data_version": 42, "weighting": "population",
                "summary": {"areas": 6569, "population": 11289733,
                    "per_category": [{"category": "museum", "gap_areas": 3120, "gap_population": 5301871}],
                    "overall": {"gap_areas": 3120, "gap_population": 5301871}},
                "rows": [{"area_code": "E01005131", "area_name": "Manchester 001A", "la_code": "E08000003",
                    "la_name": "Manchester", "imd_decile": 1, "population": 2950, "lat": 53.5304, "lon": -2.2166,
                    "access": [{"category": "museum", "distance_m": 3412.5,
                        "asset_id": "1beaf664-065e-41cd-8e44-c134d70862a0", "gap": true}]}]})),
                (gaps::GapsFeatureCollection = "application/geo+json"),
                (String = "text/csv"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, response = super::problems::BadRequest),
        (status = 406, response = super::problems::NotAcceptable),
        (status = 409, response = super::problems::Conflict),
        (status = 503, response = super::problems::Unavailable),
    )
)]
pub async fn access_gaps(
    req: HttpRequest,
    query: Query<((ReportQuery, DecileQuery), GapsQuery)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let Query(((q, d), g)) = query;
    let format = format::negotiate(&req, g.format.map(FormatParam::as_str))?;
    let snap = state.snapshot.load();
    let scope = q.scope(d.max_decile, &snap)?;
    let sort = match g.sort {
        Some(GapSortParam::Distance) => GapSort::Distance,
        _ => GapSort::Population,
    };
    let report = Report::Gaps {
        scope,
        sort,
        limit: g.limit,
        format,
    };
    answer(&req, &state, snap, report, started).await
}

/// Access by deprivation decile.
///
/// For each IMD decile 1 (most deprived) to 10: areas, population, population-weighted mean
/// and median distance to the nearest asset of any requested category, the share of the
/// population beyond `threshold_m`, and assets (located in the decile's areas) per 10,000
/// residents; and decile 1 divided by decile 10 for each measure. JSON or CSV (the ratios
/// as a last row with decile `ratio_1_to_10`).
#[utoipa::path(
    get, path = "/v1/reports/access-by-decile", tag = "reports",
    params(ReportQuery, TableQuery),
    responses(
        (status = 200, description = "One row per decile: JSON, or CSV (`format=csv` or `Accept: text/csv`; the ratios as a last row)",
            headers(("ETag" = String, description = "Changes when the data change"),
                    ("Server-Timing" = String, description = "Server time in milliseconds")),
            content(
                (deciles::DecileReport = "application/json", example = json!({"parameters": {"categories": ["library"], "threshold_m": 2000.0, "max_decile": 2},
                "vintage": {"version": 1, "index_name": "IoD2019", "geography": "LSOA 2011", "imported_at": "2026-11-25T09:00:00Z"},
                "data_version": 42, "weighting": "population",
                "deciles": [{"decile": 1, "areas": 3284, "population": 5431000, "mean_distance_m": 1210.4,
                    "median_distance_m": 1012.9, "share_beyond_threshold": 0.12, "assets_per_10k": 0.51}],
                "decile1_to_decile10": {"areas": 1.0, "population": 1.02, "mean_distance_m": 0.55,
                    "median_distance_m": 0.52, "share_beyond_threshold": 0.31, "assets_per_10k": 1.4}})),
                (String = "text/csv"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, response = super::problems::BadRequest),
        (status = 406, response = super::problems::NotAcceptable),
        (status = 409, response = super::problems::Conflict),
        (status = 503, response = super::problems::Unavailable),
    )
)]
pub async fn access_by_decile(
    req: HttpRequest,
    query: Query<(ReportQuery, TableQuery)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let Query((q, t)) = query;
    let format = t.negotiate(&req)?;
    let snap = state.snapshot.load();
    let scope = q.scope(None, &snap)?;
    answer(
        &req,
        &state,
        snap,
        Report::Deciles { scope, format },
        started,
    )
    .await
}

/// Access by decile as a chart (SVG).
///
/// The same parameters and figures as `access-by-decile`: mean and median distance and
/// the share beyond the threshold, by decile.
#[utoipa::path(
    get, path = "/v1/reports/access-by-decile.svg", tag = "reports",
    params(ReportQuery),
    responses(
        (status = 200, description = "An SVG chart", content_type = "image/svg+xml", body = String,
            headers(("ETag" = String, description = "Changes when the data change"),
                    ("Server-Timing" = String, description = "Server time in milliseconds"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, response = super::problems::BadRequest),
        (status = 409, response = super::problems::Conflict),
        (status = 503, response = super::problems::Unavailable),
    )
)]
pub async fn access_by_decile_svg(
    req: HttpRequest,
    Query(q): Query<ReportQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let snap = state.snapshot.load();
    let scope = q.scope(None, &snap)?;
    answer(&req, &state, snap, Report::DecilesChart(scope), started).await
}

/// A map of access gaps (SVG).
///
/// Area points coloured by IMD decile, gap areas (as in `access-gaps`: deciles up to
/// `max_decile`, a gap for at least one requested category) emphasised, assets of the requested
/// categories marked; all of England or the local authorities in `la`.
#[utoipa::path(
    get, path = "/v1/reports/access-gaps.svg", tag = "reports",
    params(ReportQuery, DecileQuery),
    responses(
        (status = 200, description = "An SVG map", content_type = "image/svg+xml", body = String,
            headers(("ETag" = String, description = "Changes when the data change"),
                    ("Server-Timing" = String, description = "Server time in milliseconds"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, response = super::problems::BadRequest),
        (status = 409, response = super::problems::Conflict),
        (status = 503, response = super::problems::Unavailable),
    )
)]
pub async fn access_gaps_svg(
    req: HttpRequest,
    query: Query<(ReportQuery, DecileQuery)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let Query((q, d)) = query;
    let snap = state.snapshot.load();
    let scope = q.scope(d.max_decile, &snap)?;
    answer(&req, &state, snap, Report::GapsMap(scope), started).await
}

/// Local authorities ranked by people living in gap areas.
///
/// Per local authority: its areas and residents, the gap areas (in deciles up to
/// `max_decile`, a gap for at least one requested category) and their residents, the share
/// of its population they hold, and its rank (1 = most people in gap areas). JSON or CSV.
#[utoipa::path(
    get, path = "/v1/reports/local-authorities", tag = "reports",
    params(ReportQuery, DecileQuery, TableQuery),
    responses(
        (status = 200, description = "Every local authority in scope, by rank: JSON, or CSV (`format=csv` or `Accept: text/csv`)",
            headers(("ETag" = String, description = "Changes when the data change"),
                    ("Server-Timing" = String, description = "Server time in milliseconds")),
            content(
                (local_authorities::LaReport = "application/json", example = json!({"parameters": {"categories": ["museum"], "threshold_m": 2000.0, "max_decile": 2},
                "vintage": {"version": 1, "index_name": "IoD2019", "geography": "LSOA 2011", "imported_at": "2026-11-25T09:00:00Z"},
                "data_version": 42, "weighting": "population",
                "rows": [{"rank": 1, "la_code": "E08000025", "la_name": "Birmingham", "areas": 639,
                    "population": 1111307, "gap_areas": 180, "gap_population": 312340, "gap_share": 0.281}]})),
                (String = "text/csv"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, response = super::problems::BadRequest),
        (status = 406, response = super::problems::NotAcceptable),
        (status = 409, response = super::problems::Conflict),
        (status = 503, response = super::problems::Unavailable),
    )
)]
pub async fn local_authorities(
    req: HttpRequest,
    query: Query<((ReportQuery, DecileQuery), TableQuery)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let Query(((q, d), t)) = query;
    let format = t.negotiate(&req)?;
    let snap = state.snapshot.load();
    let scope = q.scope(d.max_decile, &snap)?;
    let report = Report::LocalAuthorities { scope, format };
    answer(&req, &state, snap, report, started).await
}

impl JsonBody for WhatIfRequest {
    const INVALID: &'static str = "is not a valid what-if request";
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
                (what_if::WhatIfReport = "application/json", example = json!({"parameters": {"categories": ["library"], "threshold_m": 2000.0, "max_decile": 2},
                "vintage": {"version": 1, "index_name": "IoD2019", "geography": "LSOA 2011", "imported_at": "2026-11-25T09:00:00Z"},
                "data_version": 42, "weighting": "population",
                "baseline": {"gap_areas": 512, "gap_population": 803122},
                "candidates": [{"index": 0, "label": "Old library, Smith Street", "lat": 53.4084, "lon": -2.9916,
                    "newly_covered_areas": 4, "newly_covered_population": 6210}],
                "picks": [{"index": 0, "label": "Old library, Smith Street", "added_areas": 4, "added_population": 6210,
                    "cumulative_areas": 4, "cumulative_population": 6210}]})),
                (String = "text/csv"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, response = super::problems::BadRequest),
        (status = 406, response = super::problems::NotAcceptable),
        (status = 409, response = super::problems::Conflict),
        (status = 503, response = super::problems::Unavailable),
    )
)]
pub async fn what_if(
    req: HttpRequest,
    Json(w): Json<WhatIfRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let snap = state.snapshot.load();
    let what_if = w.validate(&snap)?;
    let format = match format::negotiate(&req, None)? {
        Format::Csv => Format::Csv,
        _ => Format::Json,
    };
    let report = Report::WhatIf { what_if, format };
    answer(&req, &state, snap, report, started).await
}
