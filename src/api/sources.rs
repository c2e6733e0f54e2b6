//! Sources and provenance: the public list of sources with their licences, the admins'
//! descriptions of them, where an asset's values came from, and the review queue of
//! matches an import could not decide alone.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

use super::admin::asset_id;
use super::auth::{Admin, Editor};
use super::blocking;
use super::body::{Json, JsonBody};
use super::params::{documented, Params, Query, QueryContract};
use crate::curation::sources as curation;
use crate::domain::Source;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::imports::Verdict;
use crate::store::reviews::{self, Review};
use crate::store::sources::{self as store, Provenance};

#[derive(Serialize, ToSchema)]
pub struct SourceList {
    pub items: Vec<Source>,
}

/// The sources the directory's data come from.
///
/// Each with its licence and the attribution a reuser must show (OpenStreetMap data, for
/// one, is ODbL and must be attributed). A source that an import named but no admin has
/// described yet has a null licence: its terms are unknown.
#[utoipa::path(
    get, path = "/v1/sources", tag = "sources",
    responses(
        (status = 200, description = "Every source, by name", body = SourceList),
        (status = 503, response = super::problems::Unavailable),
    )
)]
pub async fn list_sources(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let items = blocking(&state, |st| Ok(store::list(&mut *st.store.conn()?)?)).await?;
    Ok(HttpResponse::Ok().json(SourceList { items }))
}

/// A source's description, as an admin sets it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "OpenStreetMap, Liverpool", "licence": "ODbL-1.0",
    "attribution": "© OpenStreetMap contributors", "url": "https://www.openstreetmap.org/copyright",
    "priority": 10, "field_priorities": {"opening_hours": 90, "wheelchair": 90}}))]
pub struct SourceBody {
    #[schema(max_length = 500)]
    pub title: Option<String>,
    /// E.g. `OGL-3.0`, `ODbL-1.0`, `CC-BY-4.0`.
    #[schema(max_length = 200)]
    pub licence: Option<String>,
    #[schema(max_length = 1000)]
    pub attribution: Option<String>,
    /// An http(s) URL.
    #[schema(max_length = 500, pattern = "^https?://")]
    pub url: Option<String>,
    /// Higher wins a field over a lower one (-1000 to 1000, default 0).
    #[schema(minimum = -1000, maximum = 1000)]
    pub priority: Option<i32>,
    /// Per-field priorities overriding `priority` (fields: name, category, position,
    /// address, town, postcode, website, phone, email, description, opening_hours,
    /// wheelchair, cost, tags, status).
    pub field_priorities: Option<BTreeMap<String, i32>>,
}

impl JsonBody for SourceBody {
    const INVALID: &'static str = "is not a source description";
}

/// Describe a source (create or replace).
///
/// Admins only. Audited as `source.put`. The priorities decide, field by field, whose
/// value an asset shows when several sources describe it (see `docs/curation.md`).
#[utoipa::path(
    put, path = "/v1/admin/sources/{name}", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "The source's name, as imports give it")),
    request_body = SourceBody,
    responses(
        (status = 200, description = "Replaced", body = Source),
        (status = 201, description = "Created", body = Source),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 422, response = super::problems::Unprocessable),
    )
)]
pub async fn put_source(
    Admin(user): Admin,
    name: web::Path<String>,
    Json(b): Json<SourceBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let source = Source {
        name: name.into_inner(),
        title: b.title,
        licence: b.licence,
        attribution: b.attribution,
        url: b.url,
        priority: b.priority.unwrap_or(0),
        field_priorities: b.field_priorities.unwrap_or_default(),
        records: 0,
    };
    let (stored, created) = blocking(&state, move |st| {
        curation::put_on_server(st, &user.username, &source)
    })
    .await?;
    Ok(if created {
        HttpResponse::Created().json(stored)
    } else {
        HttpResponse::Ok().json(stored)
    })
}

/// Where an asset's values came from.
///
/// Per field, the source whose import set it or the person whose edit did, and when; and
/// the records of the lists that describe the asset, with what each last gave.
#[utoipa::path(
    get, path = "/v1/admin/assets/{id}/provenance", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id")),
    responses(
        (status = 200, description = "The asset's provenance", body = Provenance),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
    )
)]
pub async fn provenance(
    _: Editor,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = asset_id(&id)?;
    let p = blocking(&state, move |st| {
        Ok(store::provenance(&mut *st.store.conn()?, &id)?)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no asset has id {id}")))?;
    Ok(HttpResponse::Ok().json(p))
}

/// Where a review stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ReviewStatus {
    Pending,
    Linked,
    Created,
    Skipped,
    Archived,
    Kept,
}

const REVIEW_STATUSES: [&str; 6] = [
    "pending", "linked", "created", "skipped", "archived", "kept",
];

/// Query parameters of the review queue.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchQuery {
    /// `pending` (default), `linked`, `created`, `skipped`, `archived` or `kept`.
    #[param(inline)]
    pub status: Option<ReviewStatus>,
    /// 1 to 500 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: i64,
    /// Skip this many (default 0).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 10000000)]
    pub offset: i64,
}

impl QueryContract for MatchQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        let status = p.one_of("status", &REVIEW_STATUSES)?;
        Ok(MatchQuery {
            status: status.map(|s| match s {
                "linked" => ReviewStatus::Linked,
                "created" => ReviewStatus::Created,
                "skipped" => ReviewStatus::Skipped,
                "archived" => ReviewStatus::Archived,
                "kept" => ReviewStatus::Kept,
                _ => ReviewStatus::Pending,
            }),
            limit: p.usize_in("limit", 100, 1, 500)? as i64,
            offset: p.usize_in("offset", 0, 0, 10_000_000)? as i64,
        })
    }
}

impl ReviewStatus {
    fn as_str(self) -> &'static str {
        REVIEW_STATUSES[self as usize]
    }
}

#[derive(Serialize, ToSchema)]
pub struct MatchPage {
    pub items: Vec<Review>,
    /// How many reviews have this status.
    pub total: i64,
}

/// The review queue: matches an import could not decide alone.
///
/// Rows (kind `match`) with their candidates, scores and the reasons, and assets that a
/// complete list no longer names while another source still does (kind `closure`).
/// Oldest first.
#[utoipa::path(
    get, path = "/v1/admin/matches", tag = "admin", security(("bearer" = [])),
    params(MatchQuery),
    responses(
        (status = 200, description = "A page of reviews", body = MatchPage),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
    )
)]
pub async fn list_matches(
    _: Editor,
    Query(q): Query<MatchQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let status = q.status.unwrap_or(ReviewStatus::Pending).as_str();
    let (limit, offset) = (q.limit, q.offset);
    let (items, total) = blocking(&state, move |st| {
        Ok(reviews::list(
            &mut *st.store.conn()?,
            Some(status),
            limit,
            offset,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(MatchPage { items, total }))
}

/// One review.
#[utoipa::path(
    get, path = "/v1/admin/matches/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    responses(
        (status = 200, description = "The review", body = Review),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
    )
)]
pub async fn get_match(
    _: Editor,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = asset_id(&id)?;
    let review = blocking(&state, move |st| {
        Ok(reviews::get(&mut *st.store.conn()?, &id)?)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no match has id {id}")))?;
    Ok(HttpResponse::Ok().json(review))
}

/// A decision on a review.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "link", "asset_id": "1beaf664-065e-41cd-8e44-c134d70862a0"}))]
pub struct MatchDecision {
    /// A match: `link` (to `asset_id`), `create` or `skip`; a closure: `archive` or
    /// `keep`.
    #[schema(pattern = "^(link|create|skip|archive|keep)$")]
    pub action: String,
    /// The asset to link the row to (`link` only).
    #[schema(format = Uuid)]
    pub asset_id: Option<String>,
}

impl JsonBody for MatchDecision {
    const INVALID: &'static str = "must be {\"action\": \"link\"|\"create\"|\"skip\"|\"archive\"|\"keep\", \"asset_id\": ...}";
}

impl MatchDecision {
    pub fn verdict(&self) -> Result<Verdict, ApiError> {
        let target = || {
            let id = self
                .asset_id
                .as_deref()
                .ok_or_else(|| ApiError::field("asset_id", "is required to link"))?;
            uuid::Uuid::parse_str(id).map_err(|_| ApiError::field("asset_id", "must be a UUID"))
        };
        if self.asset_id.is_some() && self.action != "link" {
            return Err(ApiError::field("asset_id", "is only for link"));
        }
        Ok(match self.action.as_str() {
            "link" => Verdict::Link(target()?),
            "create" => Verdict::Create,
            "skip" => Verdict::Skip,
            "archive" => Verdict::Archive,
            "keep" => Verdict::Keep,
            other => {
                return Err(ApiError::field(
                    "action",
                    format!("must be link, create, skip, archive or keep, got {other:?}"),
                ))
            }
        })
    }
}

/// Decide a review.
///
/// A match: `link` makes the row another record of the asset (its fields merged by source
/// priority), `create` makes it a new asset, `skip` ignores it. A closure: `archive` or
/// `keep` the asset. Audited (`match.link`, `match.create`, `match.skip`,
/// `match.archive`, `match.keep`). A review already decided is a 409.
#[utoipa::path(
    post, path = "/v1/admin/matches/{id}/decision", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = MatchDecision,
    responses(
        (status = 200, description = "The review as decided", body = Review),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        (status = 422, response = super::problems::Unprocessable),
    )
)]
pub async fn decide_match(
    Editor(user): Editor,
    id: web::Path<String>,
    Json(d): Json<MatchDecision>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = asset_id(&id)?;
    let verdict = d.verdict()?;
    let review = blocking(&state, move |st| {
        curation::decide_on_server(st, &user.username, &id, verdict)
    })
    .await?;
    Ok(HttpResponse::Ok().json(review))
}
