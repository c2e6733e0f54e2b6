//! Public activity reads, answered from the in-memory snapshot: the search, one activity,
//! a venue's activities and the two vocabularies. Most of the file is the contract: the
//! query struct (documentation and parser in one) and the shapes the OpenAPI shows.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::assets::{
    parse_bbox, parse_near, parse_near_postcode, parse_q, parse_wheelchair, postcode_position,
    AccessFilter, CostFilter, FormatParam, DEFAULT_RADIUS_M, MAX_LIMIT, MAX_RADIUS_M,
};
use super::conditional::is_fresh;
use super::params::{documented, Params, Query, QueryContract};
use super::{blocking, format};
use crate::domain::activity::{weekday_code, Activity, Occurrence, Referral, Term};
use crate::domain::hours::london_time;
use crate::error::ApiError;
use crate::index::activities::{ActivityEntry, ActivityHit, Sessions, HORIZON_DAYS};
use crate::index::query::{BBox, Near};
use crate::index::{ActivityFilter, ActivitySearch, ActivitySort, Cursor, Snapshot, SortBy};
use crate::state::AppState;
use crate::wire::{csv_body, Format, CSV, GEOJSON};

/// The longest `between` span, in days (both ends included).
pub const MAX_BETWEEN_DAYS: i64 = 92;
/// Next sessions given with each activity.
const NEXT_SESSIONS: usize = 3;

/// `sort` of the activity search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ActivitySortParam {
    /// Nearest venue first (needs `near`; the default with `near`).
    Distance,
    /// Soonest next session first, those with none last (the default without `near`).
    Next,
}

/// Query parameters of `GET /v1/activities`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// Centre of a radius search, `lat,lon` in WGS84 degrees (the venue's position counts).
    /// Adds `venue.distance_m` to each item and makes `distance` the default sort.
    #[param(value_type = Option<String>, example = "51.5194,-0.1270")]
    pub near: Option<(f64, f64)>,
    /// Centre at a UK postcode's position instead of `near`, as in `GET /v1/assets`
    /// (400 for an unknown postcode; 409 when no postcodes are imported).
    #[param(value_type = Option<String>, example = "L1 8JQ")]
    pub near_postcode: Option<String>,
    /// Radius in metres around `near`, 1 to 50000 (default 1500). Needs `near`.
    #[param(minimum = 1, maximum = 50000, example = 2000)]
    pub radius_m: Option<f64>,
    /// Bounding box `min_lon,min_lat,max_lon,max_lat` (WGS84) the venue lies in.
    #[param(value_type = Option<String>, example = "-0.2,51.45,0.0,51.55")]
    pub bbox: Option<BBox>,
    /// Words that must all occur (case-insensitive) in the name or description: at most
    /// 10 words and 200 characters.
    #[param(value_type = Option<String>, max_length = 200, example = "singing")]
    pub q: Option<Vec<String>>,
    /// Activity kinds, comma-separated (any of them), from `GET /v1/activity-kinds`.
    #[param(value_type = Option<String>, example = "music-singing,crafts")]
    pub kind: Option<Vec<String>>,
    /// Audiences, comma-separated: activities designed for any of them (from
    /// `GET /v1/audiences`; an activity for everyone lists none and does not match).
    #[param(value_type = Option<String>, example = "dementia,carers")]
    pub audience: Option<Vec<String>>,
    /// An age, 0 to 120: activities whose `min_age`/`max_age` admit it.
    #[param(minimum = 0, maximum = 120, example = 70)]
    pub age: Option<u8>,
    /// `mo`..`su`: a session on that weekday (from the day of `at` on, or on the dates of
    /// `on`/`between`).
    #[param(value_type = Option<String>, example = "tu")]
    pub day: Option<Weekday>,
    /// `HH:MM`: a session still going at or after this time (closes after it); with
    /// `to_time`, overlapping the window. With `day`, that day's session.
    #[param(value_type = Option<String>, example = "13:00")]
    pub from_time: Option<NaiveTime>,
    /// `HH:MM`: a session starting before this time.
    #[param(value_type = Option<String>, example = "17:00")]
    pub to_time: Option<NaiveTime>,
    /// `YYYY-MM-DD`: a session on this date. Not with `between`.
    #[param(value_type = Option<String>, format = Date, example = "2026-12-08")]
    pub on: Option<NaiveDate>,
    /// `YYYY-MM-DD,YYYY-MM-DD`: a session on one of these dates (both included, at most
    /// 92 days).
    #[param(value_type = Option<String>, example = "2026-12-01,2026-12-14")]
    pub between: Option<(NaiveDate, NaiveDate)>,
    /// `free`: free activities only.
    #[param(inline)]
    pub cost: Option<CostFilter>,
    /// Referral routes, comma-separated (any of them): `self`, `link-worker`, `gp`.
    #[param(value_type = Option<String>, example = "self,link-worker")]
    pub referral: Option<Vec<Referral>>,
    /// Of the venue: `yes` step-free access only; `limited` step-free or limited access.
    #[param(inline)]
    pub wheelchair: Option<AccessFilter>,
    /// `distance` (needs `near`; the default with it) or `next` (soonest next session
    /// first; the default without `near`). Ties are broken by id.
    #[param(inline)]
    pub sort: Option<ActivitySortParam>,
    /// Evaluate "now" at this RFC 3339 instant instead (Europe/London): the next sessions,
    /// `sort=next`, and where `day` and times look from. Default: the current time.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-12-01T09:00:00Z")]
    pub at: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 20).
    #[param(minimum = 1, maximum = 200, example = 20)]
    pub limit: Option<usize>,
    /// `next_cursor` from the previous page (with the same `at` for `sort=next`).
    #[param(
        example = "ZHwzZjc5YmQ1ZTdkMDAwMDAwfDFiZWFmNjY0LTA2NWUtNDFjZC04ZTQ0LWMxMzRkNzA4NjJhMA"
    )]
    pub cursor: Option<String>,
    /// `json` (default), `geojson` or `csv`; overrides the `Accept` header.
    #[param(inline)]
    pub format: Option<FormatParam>,
}

fn time_param(p: &Params, name: &str) -> Result<Option<NaiveTime>, ApiError> {
    let Some(v) = p.get(name) else {
        return Ok(None);
    };
    match NaiveTime::parse_from_str(v, "%H:%M") {
        Ok(t) if v.len() == 5 => Ok(Some(t)),
        _ => Err(ApiError::param(
            name,
            format!("must be a time HH:MM such as 14:00, got {v:?}"),
        )),
    }
}

fn date_of(name: &str, v: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::param(
            name,
            format!("must be a date YYYY-MM-DD such as 2026-12-08, got {v:?}"),
        )
    })
}

impl QueryContract for ActivityQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn repeatable() -> Vec<&'static str> {
        vec!["kind", "audience", "referral"]
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        let near = parse_near(p)?;
        let day = match p.get("day") {
            None => None,
            Some(d) => Some(weekday_code(d).ok_or_else(|| {
                ApiError::param(
                    "day",
                    format!("must be one of mo, tu, we, th, fr, sa, su, got {d:?}"),
                )
            })?),
        };
        let between = match p.get("between") {
            None => None,
            Some(_) if p.get("on").is_some() => {
                return Err(ApiError::param("between", "cannot be combined with on"))
            }
            Some(v) => {
                let (a, b) = v.split_once(',').ok_or_else(|| {
                    ApiError::param(
                        "between",
                        format!("must be two dates YYYY-MM-DD,YYYY-MM-DD, got {v:?}"),
                    )
                })?;
                let (a, b) = (date_of("between", a)?, date_of("between", b)?);
                if b < a {
                    return Err(ApiError::param(
                        "between",
                        "the second date is before the first",
                    ));
                }
                if (b - a).num_days() >= MAX_BETWEEN_DAYS {
                    return Err(ApiError::param(
                        "between",
                        format!("spans at most {MAX_BETWEEN_DAYS} days"),
                    ));
                }
                Some((a, b))
            }
        };
        let referral = match p.list("referral")? {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|r| {
                        Referral::parse(r).ok_or_else(|| {
                            ApiError::param(
                                "referral",
                                format!("{r:?} is not one of {}", Referral::ALL.join(", ")),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let (from_time, to_time) = (time_param(p, "from_time")?, time_param(p, "to_time")?);
        if let (Some(f), Some(t)) = (from_time, to_time) {
            if t <= f {
                return Err(ApiError::param("to_time", "must be after from_time"));
            }
        }
        Ok(ActivityQuery {
            near,
            near_postcode: parse_near_postcode(p, near.is_some())?,
            radius_m: p.f64_in("radius_m", 1.0, MAX_RADIUS_M)?,
            bbox: parse_bbox(p)?,
            q: parse_q(p)?,
            kind: p.list("kind")?,
            audience: p.list("audience")?,
            age: match p.get("age") {
                None => None,
                Some(_) => Some(p.usize_in("age", 0, 0, 120)? as u8),
            },
            day,
            from_time,
            to_time,
            on: p.get("on").map(|v| date_of("on", v)).transpose()?,
            between,
            cost: p.one_of("cost", &["free"])?.map(|_| CostFilter::Free),
            referral,
            wheelchair: parse_wheelchair(p)?,
            sort: p.one_of("sort", &["distance", "next"])?.map(|s| match s {
                "distance" => ActivitySortParam::Distance,
                _ => ActivitySortParam::Next,
            }),
            at: p.timestamp("at")?,
            limit: Some(p.usize_in("limit", 20, 1, MAX_LIMIT)?),
            cursor: p.get("cursor").map(str::to_string),
            format: FormatParam::parse(p, &["json", "geojson", "csv"])?,
        })
    }
}

/// Checks list values against a vocabulary: a 400 naming the parameter and the choices.
fn check_terms(name: &str, given: &Option<Vec<String>>, terms: &[Term]) -> Result<(), ApiError> {
    if let Some(bad) = given
        .iter()
        .flatten()
        .find(|g| !terms.iter().any(|t| t.slug == **g))
    {
        let known: Vec<&str> = terms.iter().map(|t| t.slug.as_str()).collect();
        return Err(ApiError::param(
            name,
            format!("{bad:?} is not one of {}", known.join(", ")),
        ));
    }
    Ok(())
}

impl ActivityQuery {
    /// "Now" in UK local time: `at`, or the current time.
    fn now(&self) -> NaiveDateTime {
        london_time(self.at.unwrap_or_else(Utc::now))
    }

    /// The search these parameters ask for, checked against each other and the snapshot's
    /// vocabularies.
    pub fn search(self, snap: &Snapshot) -> Result<ActivitySearch, ApiError> {
        if self.radius_m.is_some() && self.near.is_none() {
            return Err(ApiError::param("radius_m", "needs near=lat,lon"));
        }
        check_terms("kind", &self.kind, &snap.activities.kinds)?;
        check_terms("audience", &self.audience, &snap.activities.audiences)?;
        let near = self.near.map(|(lat, lon)| Near {
            lat,
            lon,
            radius_m: self.radius_m.unwrap_or(DEFAULT_RADIUS_M),
        });
        let sort = match self.sort {
            Some(ActivitySortParam::Distance) if near.is_none() => {
                return Err(ApiError::param("sort", "distance needs near=lat,lon"))
            }
            Some(ActivitySortParam::Distance) => ActivitySort::Distance,
            Some(ActivitySortParam::Next) => ActivitySort::Next,
            None if near.is_some() => ActivitySort::Distance,
            None => ActivitySort::Next,
        };
        let after = match &self.cursor {
            None => None,
            Some(c) => {
                let as_sort = match sort {
                    ActivitySort::Distance => SortBy::Distance,
                    ActivitySort::Next => SortBy::Next,
                };
                Some(Cursor::decode(c, as_sort).ok_or_else(|| {
                    ApiError::param(
                        "cursor",
                        "is not a next_cursor returned by this endpoint for the same sort",
                    )
                })?)
            }
        };
        let now = self.now();
        let dates = self.on.map(|d| (d, d)).or(self.between);
        let timed = self.day.is_some() || self.from_time.is_some() || self.to_time.is_some();
        let sessions = if dates.is_some() || timed {
            let (from, to) =
                dates.unwrap_or((now.date(), now.date() + Duration::days(HORIZON_DAYS)));
            let window = (self.from_time.is_some() || self.to_time.is_some()).then(|| {
                (
                    self.from_time.unwrap_or(NaiveTime::MIN),
                    self.to_time.unwrap_or(
                        NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999)
                            .unwrap_or(NaiveTime::MIN),
                    ),
                )
            });
            Some(Sessions {
                from,
                to,
                day: self.day,
                window,
            })
        } else {
            None
        };
        Ok(ActivitySearch {
            near,
            bbox: self.bbox,
            filter: ActivityFilter {
                words: self.q.unwrap_or_default(),
                kinds: self.kind,
                audiences: self.audience,
                age: self.age,
                free_only: self.cost.is_some(),
                referral: self.referral,
                wheelchair: self.wheelchair.map(AccessFilter::wheelchair),
                sessions,
            },
            sort,
            limit: self.limit.unwrap_or(20),
            after,
            now,
        })
    }
}

/// Search public activities.
///
/// Published activities at published venues, with radius, box, vocabulary, age, weekday,
/// time-of-day, date and cost filters, and keyset paging. Each item carries its venue and
/// its next three sessions (UK local time). JSON by default, a GeoJSON FeatureCollection
/// (at the venues) for `Accept: application/geo+json` or `format=geojson`, CSV for
/// `Accept: text/csv` or `format=csv` (the total and next cursor then in `X-Total-Count`
/// and `X-Next-Cursor`).
#[utoipa::path(
    get, path = "/v1/activities", tag = "activities", params(ActivityQuery),
    responses(
        (status = 200, description = "A page of matching activities",
            headers(("X-Total-Count" = usize, description = "Every match, on every page"),
                    ("X-Next-Cursor" = String, description = "Cursor of the next page, when there is one")),
            content(
                (ActivityPage = "application/json"),
                (ActivityFeatureCollection = "application/geo+json"),
                (String = "text/csv", example = "id,name,kind,audiences,min_age,max_age,cost,cost_amount,referral,schedule,booking_url,contact_email,contact_phone,venue_id,venue_name,lat,lon,next_session\n"))),
        (status = 400, response = super::problems::BadRequest),
        (status = 406, response = super::problems::NotAcceptable),
        (status = 409, response = super::problems::Conflict),
    )
)]
pub async fn list_activities(
    req: HttpRequest,
    Query(mut q): Query<ActivityQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let format = format::negotiate(&req, q.format.map(FormatParam::as_str))?;
    if let Some(pc) = q.near_postcode.take() {
        q.near = Some(
            blocking(&state, move |st| {
                postcode_position(st, &pc, "near_postcode")
            })
            .await?,
        );
    }
    let snap = state.snapshot.load();
    let search = q.search(&snap)?;
    let page = snap.search_activities(&search);
    let next = page.next.map(|c| c.encode());
    let near = search.near.is_some();
    let mut res = HttpResponse::Ok();
    res.insert_header(("X-Total-Count", page.total.to_string()));
    if let Some(c) = &next {
        res.insert_header(("X-Next-Cursor", c.as_str()));
    }
    let cursor_json = next.as_ref().map_or("null".into(), |c| format!("\"{c}\""));
    let total = page.total;
    Ok(match format {
        Format::Json => {
            let mut out = String::with_capacity(64 + page.hits.len() * 900);
            out.push_str("{\"items\":[");
            for (i, h) in page.hits.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_item(&mut out, &snap, h, search.now);
            }
            out.push_str(&format!(
                "],\"next_cursor\":{cursor_json},\"total\":{total}}}"
            ));
            res.content_type("application/json").body(out)
        }
        Format::GeoJson => {
            let mut out = String::with_capacity(64 + page.hits.len() * 1000);
            out.push_str("{\"type\":\"FeatureCollection\",\"features\":[");
            for (i, h) in page.hits.iter().enumerate() {
                let e = snap.activities.entry(h.idx);
                let (lat, lon) = snap.venue_of(e).map_or((0.0, 0.0), |v| (v.lat, v.lon));
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!(
                    "{{\"type\":\"Feature\",\"id\":\"{}\",\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{lon},{lat}]}},\"properties\":",
                    e.id()
                ));
                push_item(&mut out, &snap, h, search.now);
                out.push('}');
            }
            out.push_str(&format!(
                "],\"next_cursor\":{cursor_json},\"total\":{total}}}"
            ));
            res.content_type(GEOJSON).body(out)
        }
        Format::Csv => match csv_page(&snap, &page.hits, search.now, near) {
            Ok(body) => res.content_type(CSV).body(body),
            Err(e) => actix_web::ResponseError::error_response(&e),
        },
    })
}

/// The venue of an item as the API gives it.
#[derive(Serialize, ToSchema)]
pub struct ActivityVenue {
    pub id: Uuid,
    #[schema(example = "Liverpool Central Library")]
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    /// Great-circle metres from `near`; only in a radius search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
}

fn venue_of(snap: &Snapshot, e: &ActivityEntry, distance_m: Option<f64>) -> ActivityVenue {
    match snap.venue_of(e) {
        Some(v) => ActivityVenue {
            id: v.id,
            name: v.name().to_string(),
            lat: v.lat,
            lon: v.lon,
            distance_m,
        },
        None => ActivityVenue {
            id: e.activity.fields.asset_id,
            name: String::new(),
            lat: 0.0,
            lon: 0.0,
            distance_m,
        },
    }
}

/// Appends one item: the activity's object, its venue and its next sessions.
fn push_item(out: &mut String, snap: &Snapshot, h: &ActivityHit, now: NaiveDateTime) {
    let e = snap.activities.entry(h.idx);
    out.push_str(e.json_open());
    out.push_str(",\"venue\":");
    out.push_str(&serde_json::to_string(&venue_of(snap, e, h.distance_m)).unwrap_or_default());
    out.push_str(",\"next_occurrences\":");
    out.push_str(&serde_json::to_string(&e.next(now, NEXT_SESSIONS)).unwrap_or_default());
    out.push('}');
}

/// The CSV columns of an activity list (`distance_m` last, in a radius search).
pub const CSV_COLUMNS: [&str; 18] = [
    "id",
    "name",
    "kind",
    "audiences",
    "min_age",
    "max_age",
    "cost",
    "cost_amount",
    "referral",
    "schedule",
    "booking_url",
    "contact_email",
    "contact_phone",
    "venue_id",
    "venue_name",
    "lat",
    "lon",
    "next_session",
];

fn csv_page(
    snap: &Snapshot,
    hits: &[ActivityHit],
    now: NaiveDateTime,
    near: bool,
) -> Result<Vec<u8>, ApiError> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let rows = hits.iter().map(|h| {
        let e = snap.activities.entry(h.idx);
        let f = &e.activity.fields;
        let v = venue_of(snap, e, h.distance_m);
        let next = e.next(now, 1).first().map_or(String::new(), |o| {
            format!("{}T{}", o.date, o.opens_at.format("%H:%M"))
        });
        let mut row = vec![
            e.id().to_string(),
            f.name.clone(),
            f.kind.clone(),
            f.audiences.join(";"),
            f.min_age.map_or(String::new(), |a| a.to_string()),
            f.max_age.map_or(String::new(), |a| a.to_string()),
            f.cost.as_str().to_string(),
            f.cost_amount.map_or(String::new(), |a| a.to_string()),
            f.referral
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            serde_json::to_string(&f.schedule).unwrap_or_default(),
            opt(&f.booking_url),
            opt(&f.contact_email),
            opt(&f.contact_phone),
            v.id.to_string(),
            v.name,
            v.lat.to_string(),
            v.lon.to_string(),
            next,
        ];
        if near {
            row.push(h.distance_m.map(|d| d.to_string()).unwrap_or_default());
        }
        row
    });
    let mut header: Vec<String> = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
    if near {
        header.push("distance_m".into());
    }
    csv_body(header, rows)
}

/// Query parameters of the single reads: the instant "next" is relative to.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtQuery {
    /// Evaluate the next sessions at this RFC 3339 instant (Europe/London) instead of now.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-12-01T09:00:00Z")]
    pub at: Option<DateTime<Utc>>,
}

impl QueryContract for AtQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(AtQuery {
            at: p.timestamp("at")?,
        })
    }
}

fn uuid_param(name: &str, v: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(v).map_err(|_| ApiError::param(name, "must be a UUID"))
}

/// A strong ETag of a body: its content's hash (an item changes with its venue and as
/// sessions pass, not only with its version).
fn content_etag(body: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

/// One public activity.
///
/// Its fields, its venue and its next three sessions. 404 when it is unknown, not
/// published, or its venue is not. With an `ETag` (of the body); a matching
/// `If-None-Match` answers `304 Not Modified`.
#[utoipa::path(
    get, path = "/v1/activities/{id}", tag = "activities",
    params(("id" = Uuid, Path, description = "Activity id"), AtQuery,
           ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier response")),
    responses(
        (status = 200, description = "The activity", body = ActivityItem,
            headers(("ETag" = String, description = "Changes whenever the body would"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, response = super::problems::BadRequest),
        (status = 404, response = super::problems::NotFound),
    )
)]
pub async fn get_activity(
    req: HttpRequest,
    id: web::Path<String>,
    Query(q): Query<AtQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &id)?;
    let snap = state.snapshot.load();
    let (idx, _) = snap
        .public_activity(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no published activity has id {id}")))?;
    let now = london_time(q.at.unwrap_or_else(Utc::now));
    let mut body = String::new();
    push_item(&mut body, &snap, &ActivityHit::of(idx), now);
    let etag = content_etag(&body);
    if is_fresh(&req, &etag, None) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .content_type("application/json")
        .body(body))
}

/// The activities at a published venue.
///
/// Its public activities, soonest next session first (those with none last; ties by id),
/// each with its venue and next three sessions. 404 when the venue is unknown or not
/// published.
#[utoipa::path(
    get, path = "/v1/assets/{id}/activities", tag = "activities",
    params(("id" = Uuid, Path, description = "Asset (venue) id"), AtQuery),
    responses(
        (status = 200, description = "The venue's activities", body = ActivityItems),
        (status = 400, response = super::problems::BadRequest),
        (status = 404, response = super::problems::NotFound),
    )
)]
pub async fn venue_activities(
    id: web::Path<String>,
    Query(q): Query<AtQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_param("id", &id)?;
    let snap = state.snapshot.load();
    let now = london_time(q.at.unwrap_or_else(Utc::now));
    let hits = snap
        .venue_activities(&id, now)
        .ok_or_else(|| ApiError::NotFound(format!("no published asset has id {id}")))?;
    let mut out = String::from("{\"items\":[");
    for (i, h) in hits.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_item(&mut out, &snap, h, now);
    }
    out.push_str("]}");
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(out))
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"items": [{"slug": "music-singing", "label": "Music and singing",
    "description": "Choirs, singing groups, music-making and listening sessions"}]}))]
pub struct TermList {
    pub items: Vec<Term>,
}

/// The activity kinds (the `kind` vocabulary).
#[utoipa::path(
    get, path = "/v1/activity-kinds", tag = "activities",
    responses((status = 200, description = "Every activity kind, by slug", body = TermList))
)]
pub async fn list_kinds(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(TermList {
        items: state.snapshot.load().activities.kinds.clone(),
    })
}

/// The audiences (the `audience` vocabulary).
#[utoipa::path(
    get, path = "/v1/audiences", tag = "activities",
    responses((status = 200, description = "Every audience, by slug", body = TermList))
)]
pub async fn list_audiences(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(TermList {
        items: state.snapshot.load().activities.audiences.clone(),
    })
}

/// Documentation shapes (the handlers write these bytes directly).
#[derive(Serialize, ToSchema)]
pub struct ActivityItem {
    #[schema(inline)]
    #[serde(flatten)]
    pub activity: Activity,
    pub venue: ActivityVenue,
    /// The next three sessions not yet over (UK local time), soonest first.
    pub next_occurrences: Vec<Occurrence>,
}

#[derive(Serialize, ToSchema)]
pub struct ActivityPage {
    pub items: Vec<ActivityItem>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Every match, on every page.
    pub total: usize,
}

#[derive(Serialize, ToSchema)]
pub struct ActivityItems {
    pub items: Vec<ActivityItem>,
}

/// A GeoJSON Feature at the venue whose properties are the item.
#[derive(Serialize, ToSchema)]
pub struct ActivityFeature {
    #[schema(example = "Feature")]
    pub r#type: String,
    pub id: Uuid,
    /// `{"type": "Point", "coordinates": [lon, lat]}` of the venue.
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    pub properties: ActivityItem,
}

#[derive(Serialize, ToSchema)]
pub struct ActivityFeatureCollection {
    #[schema(example = "FeatureCollection")]
    pub r#type: String,
    pub features: Vec<ActivityFeature>,
    pub next_cursor: Option<String>,
    pub total: usize,
}
