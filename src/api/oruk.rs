//! The Open Referral UK 3.0 read API under `/oruk` (see `docs/oruk.md`): open to all
//! (`Access-Control-Allow-Origin: *` whatever the CORS setting, no key, the public rate
//! limits), answered from the snapshot by [`crate::oruk::Feed`]. The query structs are the
//! parameters' one definition (documented in `docs/oruk.md`, not in our own OpenAPI
//! document: the official one describes these paths). Long because most of it is that
//! contract: eleven paths' parameters and their checks; the handlers are one call each.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::json;
use utoipa::IntoParams;
use uuid::Uuid;

use super::blocking;
use super::params::{documented, Params, Query, QueryContract};
use crate::domain::asset::normalise_postcode;
use crate::error::ApiError;
use crate::oruk::{records::DAYS, Around, Depth, Feed, Paging, ServiceQuery};
use crate::state::AppState;

/// Most records on one page, and the default.
pub const MAX_PER_PAGE: usize = 500;
pub const DEFAULT_PER_PAGE: usize = 50;
const MAX_PAGE: usize = 1_000_000;
const MAX_SEARCH_WORDS: usize = 10;
/// Largest `proximity`, in metres.
const MAX_PROXIMITY_M: f64 = 1_000_000.0;

/// Every ORUK response may be read from any origin: the standard requires it.
pub async fn any_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(res)
}

/// A browser's preflight for an ORUK read: always allowed.
pub async fn preflight() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "Accept"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
        .finish()
}

fn json(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.to_string())
}

/// `GET /oruk`: which standard this is, and where its specification is.
pub async fn details() -> HttpResponse {
    json(json!({
        "version": crate::oruk::VERSION,
        "profile": crate::oruk::PROFILE,
        "openapi_url": crate::oruk::OPENAPI_URL,
    }))
}

/// `page`, `per_page`, `search` and `format`: the parameters of every list.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1 (default 1); 0 reads as 1.
    pub page: Option<usize>,
    /// Records per page, 1 to 500 (default 50).
    pub per_page: Option<usize>,
    /// Words that must all occur (case-insensitive): at most 10.
    pub search: Option<String>,
    /// `json` only (the default).
    pub format: Option<String>,
}

impl PageQuery {
    fn paging(&self) -> Paging {
        Paging {
            page: self.page.unwrap_or(1),
            per_page: self.per_page.unwrap_or(DEFAULT_PER_PAGE),
        }
    }

    fn words(&self) -> Vec<String> {
        self.search
            .iter()
            .flat_map(|s| s.split_whitespace())
            .map(str::to_lowercase)
            .collect()
    }
}

impl QueryContract for PageQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        let search = p.get("search").map(str::to_string);
        if search
            .as_deref()
            .is_some_and(|s| s.split_whitespace().count() > MAX_SEARCH_WORDS || s.len() > 200)
        {
            return Err(ApiError::param(
                "search",
                format!("takes at most {MAX_SEARCH_WORDS} words and 200 characters"),
            ));
        }
        p.one_of("format", &["json"])?;
        Ok(PageQuery {
            // The official validator asks for the middle page as `total_pages / 2`, which is 0
            // for a one-page list; the specification sets no minimum, so 0 is the first page.
            page: Some(p.usize_in("page", 1, 0, MAX_PAGE)?.max(1)),
            per_page: Some(p.usize_in("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)?),
            search,
            format: None,
        })
    }
}

fn uuid_param(p: &Params, name: &str) -> Result<Option<Uuid>, ApiError> {
    p.get(name)
        .map(|v| {
            Uuid::parse_str(v)
                .map_err(|_| ApiError::param(name, format!("must be a UUID, got {v:?}")))
        })
        .transpose()
}

/// `HH:MM` (or `HH:MM:SS`) as minutes after midnight.
fn time_param(p: &Params, name: &str) -> Result<Option<u16>, ApiError> {
    let Some(v) = p.get(name) else {
        return Ok(None);
    };
    chrono::NaiveTime::parse_from_str(v, "%H:%M")
        .or_else(|_| chrono::NaiveTime::parse_from_str(v, "%H:%M:%S"))
        .map(|t| {
            use chrono::Timelike;
            Some((t.hour() * 60 + t.minute()) as u16)
        })
        .map_err(|_| ApiError::param(name, format!("must be a time HH:MM, got {v:?}")))
}

/// An RFC 3339 time, a time without offset (UTC) or a date (its start, UTC).
fn since_param(p: &Params, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(v) = p.get(name) else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc()))
        .or_else(|_| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map(Some)
        .map_err(|_| {
            ApiError::param(
                name,
                format!("must be a date-time such as 2026-11-24T14:30:00Z, or a date, got {v:?}"),
            )
        })
}

/// The filters of `/services` and `/service_at_locations`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServicesQuery {
    /// Page number, from 1 (default 1); 0 reads as 1.
    pub page: Option<usize>,
    /// Records per page, 1 to 500 (default 50).
    pub per_page: Option<usize>,
    /// Words that must all occur (case-insensitive) in the name, description, tags or
    /// classification: at most 10.
    pub search: Option<String>,
    /// `json` only (the default).
    pub format: Option<String>,
    /// Services with this taxonomy term (a UUID).
    pub taxonomy_term_id: Option<Uuid>,
    /// Services with a term of this taxonomy (a UUID).
    pub taxonomy_id: Option<Uuid>,
    /// Services of this organization (a UUID).
    pub organization_id: Option<Uuid>,
    /// Services changed at or after this time (RFC 3339, or a date).
    pub modified_after: Option<String>,
    /// `true`: the required fields and `last_modified` only (`/services`).
    pub minimal: Option<bool>,
    /// `true`: fully nested records.
    pub full: Option<bool>,
    /// A UK postcode: with `proximity`, services within that many metres of its position,
    /// nearest first. 409 when no postcodes are imported.
    pub postcode: Option<String>,
    /// Metres from `postcode` (or `lat`/`lon`), 1 to 1,000,000.
    pub proximity: Option<f64>,
    /// Extension: latitude of a point (with `lon`): nearest first, each with `distance_m`.
    pub lat: Option<f64>,
    /// Extension: longitude of a point (with `lat`).
    pub lon: Option<f64>,
    /// UK profile: a weekday (`MO`..`SU`, or `monday`..`sunday`) with a schedule.
    pub day: Option<String>,
    /// UK profile: a schedule starting at or after `HH:MM` (Europe/London).
    pub start_time: Option<String>,
    /// UK profile: a schedule ending at or before `HH:MM` (Europe/London).
    pub end_time: Option<String>,
    /// UK profile: the youngest age asked about; services whose age range overlaps.
    pub minimum_age: Option<u32>,
    /// UK profile: the oldest age asked about.
    pub maximum_age: Option<u32>,
}

/// The parsed `/services` query: the filters, the page, and a postcode still to place.
pub struct ServicesRequest {
    pub query: ServiceQuery,
    pub paging: Paging,
    pub depth: Depth,
    pub minimal: bool,
    postcode: Option<(String, f64)>,
}

impl QueryContract for ServicesRequest {
    fn documented() -> Vec<String> {
        documented::<ServicesQuery>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        let page = PageQuery::parse(p)?;
        let proximity = p.f64_in("proximity", 1.0, MAX_PROXIMITY_M)?;
        let lat = p.f64_in("lat", -90.0, 90.0)?;
        let lon = p.f64_in("lon", -180.0, 180.0)?;
        let postcode = match p.get("postcode") {
            None => None,
            Some(_) if lat.is_some() || lon.is_some() => {
                return Err(ApiError::param(
                    "postcode",
                    "cannot be combined with lat/lon",
                ))
            }
            Some(pc) => {
                let pc = normalise_postcode(pc).ok_or_else(|| {
                    ApiError::param(
                        "postcode",
                        format!("{pc:?} is not a UK postcode (e.g. SW1A 2AA)"),
                    )
                })?;
                let radius = proximity.ok_or_else(|| {
                    ApiError::param("proximity", "is required with postcode (metres)")
                })?;
                Some((pc, radius))
            }
        };
        let around = match (lat, lon) {
            (Some(lat), Some(lon)) => Some(Around {
                lat,
                lon,
                radius_m: proximity,
            }),
            (None, None) => None,
            (Some(_), None) => return Err(ApiError::param("lon", "is required with lat")),
            (None, Some(_)) => return Err(ApiError::param("lat", "is required with lon")),
        };
        if proximity.is_some() && around.is_none() && postcode.is_none() {
            return Err(ApiError::param(
                "proximity",
                "needs postcode, or lat and lon",
            ));
        }
        let day = match p.get("day") {
            None => None,
            Some(d) => {
                const NAMES: [&str; 7] = [
                    "monday",
                    "tuesday",
                    "wednesday",
                    "thursday",
                    "friday",
                    "saturday",
                    "sunday",
                ];
                let lower = d.to_ascii_lowercase();
                let found = DAYS
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(d))
                    .or_else(|| NAMES.iter().position(|n| *n == lower));
                Some(found.ok_or_else(|| {
                    ApiError::param(
                        "day",
                        format!("must be MO..SU or monday..sunday, got {d:?}"),
                    )
                })?)
            }
        };
        let age = |name: &str| -> Result<Option<u32>, ApiError> {
            Ok(p.f64_in(name, 0.0, 150.0)?.map(|a| a.floor() as u32))
        };
        let (minimum_age, maximum_age) = (age("minimum_age")?, age("maximum_age")?);
        if let (Some(lo), Some(hi)) = (minimum_age, maximum_age) {
            if lo > hi {
                return Err(ApiError::param(
                    "maximum_age",
                    "must not be below minimum_age",
                ));
            }
        }
        let (start_time, end_time) = (time_param(p, "start_time")?, time_param(p, "end_time")?);
        if let (Some(s), Some(e)) = (start_time, end_time) {
            if s > e {
                return Err(ApiError::param("end_time", "must not be before start_time"));
            }
        }
        Ok(ServicesRequest {
            query: ServiceQuery {
                words: page.words(),
                taxonomy_term_id: uuid_param(p, "taxonomy_term_id")?,
                taxonomy_id: uuid_param(p, "taxonomy_id")?,
                organization_id: uuid_param(p, "organization_id")?,
                modified_after: since_param(p, "modified_after")?,
                around,
                day,
                start_time,
                end_time,
                minimum_age,
                maximum_age,
            },
            paging: page.paging(),
            depth: if p.bool("full")?.unwrap_or(false) {
                Depth::Full
            } else {
                Depth::Brief
            },
            minimal: p.bool("minimal")?.unwrap_or(false),
            postcode,
        })
    }
}

impl ServicesRequest {
    /// With `postcode`, the query centred on its position (one primary-key lookup).
    async fn placed(mut self, state: &web::Data<AppState>) -> Result<Self, ApiError> {
        if let Some((pc, radius)) = self.postcode.take() {
            let (lat, lon) = blocking(state, move |st| {
                super::assets::postcode_position(st, &pc, "postcode")
            })
            .await?;
            self.query.around = Some(Around {
                lat,
                lon,
                radius_m: Some(radius),
            });
        }
        Ok(self)
    }
}

/// The feed of the current snapshot, venues and activities of one version. The snapshot
/// is also the activity source, so the feed's id map is kept per snapshot.
fn feed(state: &web::Data<AppState>) -> Feed {
    let snap = state.snapshot.load();
    Feed::new(snap.clone()).with_activities(snap)
}

fn id_of(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::param("id", format!("must be a UUID, got {raw:?}")))
}

fn found(
    record: Option<serde_json::Value>,
    what: &str,
    id: &Uuid,
) -> Result<HttpResponse, ApiError> {
    record
        .map(json)
        .ok_or_else(|| ApiError::NotFound(format!("no published {what} has id {id}")))
}

/// `GET /oruk/services`.
pub async fn services(
    Query(q): Query<ServicesRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = q.placed(&state).await?;
    Ok(json(
        feed(&state).services(&q.query, q.paging, q.depth, q.minimal),
    ))
}

/// `GET /oruk/services/{id}`.
pub async fn service(
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&id)?;
    found(feed(&state).service(&id), "service", &id)
}

/// `GET /oruk/service_at_locations`.
pub async fn services_at_locations(
    Query(q): Query<ServicesRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = q.placed(&state).await?;
    Ok(json(
        feed(&state).services_at_locations(&q.query, q.paging, q.depth),
    ))
}

/// `GET /oruk/service_at_locations/{id}`.
pub async fn service_at_location(
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&id)?;
    found(
        feed(&state).service_at_location(&id),
        "service_at_location",
        &id,
    )
}

/// The parameters of `/organizations`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationsQuery {
    /// Page number, from 1 (default 1); 0 reads as 1.
    pub page: Option<usize>,
    /// Records per page, 1 to 500 (default 50).
    pub per_page: Option<usize>,
    /// Words that must all occur (case-insensitive) in the name: at most 10.
    pub search: Option<String>,
    /// `json` only (the default).
    pub format: Option<String>,
    /// `true`: each with its services.
    pub full: Option<bool>,
    /// `true`: each with its services fully nested.
    pub full_service: Option<bool>,
}

pub struct OrganizationsRequest {
    page: PageQuery,
    full: bool,
    full_service: bool,
}

impl QueryContract for OrganizationsRequest {
    fn documented() -> Vec<String> {
        documented::<OrganizationsQuery>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(OrganizationsRequest {
            page: PageQuery::parse(p)?,
            full: p.bool("full")?.unwrap_or(false),
            full_service: p.bool("full_service")?.unwrap_or(false),
        })
    }
}

/// `GET /oruk/organizations`.
pub async fn organizations(
    Query(q): Query<OrganizationsRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(json(feed(&state).organizations(
        &q.page.words(),
        q.page.paging(),
        q.full,
        q.full_service,
    )))
}

/// The parameters of `/organizations/{id}`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationQuery {
    /// `true`: its services fully nested.
    pub full_service: Option<bool>,
}

impl QueryContract for OrganizationQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(OrganizationQuery {
            full_service: p.bool("full_service")?,
        })
    }
}

/// `GET /oruk/organizations/{id}`.
pub async fn organization(
    id: web::Path<String>,
    Query(q): Query<OrganizationQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&id)?;
    found(
        feed(&state).organization(&id, q.full_service.unwrap_or(false)),
        "organization",
        &id,
    )
}

/// `GET /oruk/taxonomies`.
pub async fn taxonomies(
    Query(q): Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(json(feed(&state).taxonomies_page(&q.words(), q.paging())))
}

/// `GET /oruk/taxonomies/{id}`.
pub async fn taxonomy(
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&id)?;
    found(feed(&state).taxonomy(&id), "taxonomy", &id)
}

/// The parameters of `/taxonomy_terms`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TermsQuery {
    /// Page number, from 1 (default 1); 0 reads as 1.
    pub page: Option<usize>,
    /// Records per page, 1 to 500 (default 50).
    pub per_page: Option<usize>,
    /// Words that must all occur (case-insensitive) in the name, description or slug.
    pub search: Option<String>,
    /// `json` only (the default).
    pub format: Option<String>,
    /// Terms of this taxonomy (a UUID).
    pub taxonomy_id: Option<Uuid>,
    /// `true`: top-level terms only (all of ours are).
    pub top_only: Option<bool>,
    /// Children of this term (ours have none).
    pub parent_id: Option<Uuid>,
}

pub struct TermsRequest {
    page: PageQuery,
    taxonomy_id: Option<Uuid>,
    parent_id: Option<Uuid>,
}

impl QueryContract for TermsRequest {
    fn documented() -> Vec<String> {
        documented::<TermsQuery>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        p.bool("top_only")?;
        Ok(TermsRequest {
            page: PageQuery::parse(p)?,
            taxonomy_id: uuid_param(p, "taxonomy_id")?,
            parent_id: uuid_param(p, "parent_id")?,
        })
    }
}

/// `GET /oruk/taxonomy_terms`.
pub async fn taxonomy_terms(
    Query(q): Query<TermsRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Ok(json(feed(&state).terms_page(
        &q.page.words(),
        q.taxonomy_id,
        q.parent_id,
        q.page.paging(),
    )))
}

/// `GET /oruk/taxonomy_terms/{id}`.
pub async fn taxonomy_term(
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&id)?;
    found(feed(&state).term(&id), "taxonomy_term", &id)
}

/// The `/oruk` scope: every path a single GET resource (and a preflight), with the public
/// rate limits and `Access-Control-Allow-Origin: *`.
pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let resource = |path: &str, route: actix_web::Route| {
        web::resource(path).route(route).route(
            web::route()
                .method(actix_web::http::Method::OPTIONS)
                .to(preflight),
        )
    };
    web::scope("/oruk")
        .wrap(actix_web::middleware::from_fn(super::gate::limit))
        .wrap(actix_web::middleware::from_fn(any_origin))
        .service(resource("", web::get().to(details)))
        .service(resource("/", web::get().to(details)))
        .service(resource("/services", web::get().to(services)))
        .service(resource("/services/{id}", web::get().to(service)))
        .service(resource(
            "/service_at_locations",
            web::get().to(services_at_locations),
        ))
        .service(resource(
            "/service_at_locations/{id}",
            web::get().to(service_at_location),
        ))
        .service(resource("/organizations", web::get().to(organizations)))
        .service(resource("/organizations/{id}", web::get().to(organization)))
        .service(resource("/taxonomies", web::get().to(taxonomies)))
        .service(resource("/taxonomies/{id}", web::get().to(taxonomy)))
        .service(resource("/taxonomy_terms", web::get().to(taxonomy_terms)))
        .service(resource(
            "/taxonomy_terms/{id}",
            web::get().to(taxonomy_term),
        ))
}
