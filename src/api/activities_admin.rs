//! The admin API for activities, as for assets: reads of any status with their ETag, and
//! curation with `If-Match` (required on `PUT` and `PATCH`, honoured on status changes),
//! validation naming every field and an audit trail; and the curated vocabularies (activity
//! kinds, audiences). The writes are [`crate::curation::activities`].

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::admin::StatusQuery;
use super::auth::{Admin, Editor};
use super::blocking;
use super::body::{Json, JsonBody, MergePatch};
use super::conditional::{etag, if_match};
use super::params::{documented, Params, Query, QueryContract};
use crate::curation::activities as curation;
use crate::curation::assets::Action;
use crate::domain::activity::Term;
use crate::domain::{Activity, ActivityFields};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::activities::{self as store, TermList};

fn activity_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::param("id", "must be a UUID"))
}

/// An activity with its ETag.
fn activity_response(mut res: actix_web::HttpResponseBuilder, a: &Activity) -> HttpResponse {
    res.insert_header((header::ETAG, etag(a.version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(a)
}

/// The admin list's filters and page.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityListQuery {
    /// Only the activities of this venue.
    pub asset_id: Option<Uuid>,
    /// 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    pub cursor: Option<Uuid>,
}

impl QueryContract for ActivityListQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        let uuid = |name: &str, reason: &str| {
            p.get(name)
                .map(|v| Uuid::parse_str(v).map_err(|_| ApiError::param(name, reason)))
                .transpose()
        };
        Ok(ActivityListQuery {
            asset_id: uuid("asset_id", "must be a UUID")?,
            limit: Some(p.usize_in("limit", 100, 1, 500)? as i64),
            cursor: uuid("cursor", "is not a next_cursor of this endpoint")?,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct ActivityAdminPage {
    pub items: Vec<Activity>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Every match, on every page.
    pub total: i64,
}

/// List activities of any status.
///
/// By id, a page at a time; optionally of one venue (`asset_id`) and of some statuses
/// (`status`, comma-separated; default all).
#[utoipa::path(
    get, path = "/v1/admin/activities", tag = "admin", operation_id = "admin_list_activities",
    params(ActivityListQuery, StatusQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of activities", body = ActivityAdminPage,
            headers(("X-Total-Count" = i64, description = "Every match, on every page"),
                    ("X-Next-Cursor" = String, description = "Cursor of the next page, when there is one"))),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
    )
)]
pub async fn list_activities(
    _: Editor,
    query: Query<(ActivityListQuery, StatusQuery)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Query((q, StatusQuery { status })) = query;
    let statuses: Vec<&'static str> = status
        .unwrap_or_default()
        .iter()
        .map(|s| s.as_str())
        .collect();
    let limit = q.limit.unwrap_or(100);
    let (items, total) = blocking(&state, move |st| {
        Ok(store::list(
            &mut *st.store.conn()?,
            q.asset_id.as_ref(),
            &statuses,
            q.cursor.as_ref(),
            limit,
        )?)
    })
    .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|a| a.id.to_string()))
        .flatten();
    let mut res = HttpResponse::Ok();
    res.insert_header(("X-Total-Count", total.to_string()));
    if let Some(c) = &next_cursor {
        res.insert_header(("X-Next-Cursor", c.as_str()));
    }
    Ok(res.json(ActivityAdminPage {
        items,
        next_cursor,
        total,
    }))
}

/// Create an activity.
///
/// The body is the activity's fields (as in `GET /v1/admin/activities/{id}`; `status`
/// defaults to `published`); `asset_id` must name an existing venue. Every invalid field
/// is listed in a 422. Audited as `activity.create`.
#[utoipa::path(
    post, path = "/v1/admin/activities", tag = "admin", security(("bearer" = [])),
    request_body(content = ActivityFields, example = json!({"asset_id": "0b6f6a52-1f7e-4c1e-9d7a-2f3f1b8e4a10",
        "name": "Singing for Better Breathing", "kind": "music-singing",
        "audiences": ["long-term-conditions", "older-people"], "min_age": 18,
        "schedule": [{"freq": "WEEKLY", "byday": "TU", "opens_at": "14:00", "closes_at": "15:30", "valid_from": "2026-09-01"}],
        "cost": "free", "referral": ["self", "link-worker", "gp"], "contact_email": "singing@example.org"})),
    responses(
        (status = 201, description = "Created", body = Activity,
            headers(("ETag" = String, description = "The version, for If-Match"), ("Location" = String, description = "The new activity"))),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 409, response = super::problems::Conflict),
        (status = 422, response = super::problems::Unprocessable),
    )
)]
pub async fn create_activity(
    Editor(user): Editor,
    Json(body): Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let a = blocking(&state, move |st| {
        curation::create(st, &user.username, &body)
    })
    .await?;
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/v1/admin/activities/{}", a.id)));
    Ok(activity_response(res, &a))
}

/// Read an activity of any status, with its ETag.
#[utoipa::path(
    get, path = "/v1/admin/activities/{id}", tag = "admin", security(("bearer" = [])),
    operation_id = "admin_get_activity",
    params(("id" = Uuid, Path, description = "Activity id")),
    responses(
        (status = 200, description = "The activity", body = Activity, headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
    )
)]
pub async fn get_activity(
    _: Editor,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = activity_id(&id)?;
    let a = blocking(&state, move |st| {
        Ok(store::get(&mut *st.store.conn()?, &id)?)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no activity has id {id}")))?;
    Ok(activity_response(HttpResponse::Ok(), &a))
}

/// Replace an activity's fields.
///
/// `If-Match` with the ETag last read is required: 412 when the activity has changed since,
/// 428 without it. Audited as `activity.update`.
#[utoipa::path(
    put, path = "/v1/admin/activities/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Activity id"), ("If-Match" = String, Header, description = "The ETag last read")),
    request_body = ActivityFields,
    responses(
        (status = 200, description = "The activity as it now is", body = Activity, headers(("ETag" = String, description = "The new version"))),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        (status = 412, response = super::problems::PreconditionFailed),
        (status = 422, response = super::problems::Unprocessable),
        (status = 428, response = super::problems::PreconditionRequired),
    )
)]
pub async fn replace_activity(
    Editor(user): Editor,
    req: HttpRequest,
    id: web::Path<String>,
    Json(body): Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = activity_id(&id)?;
    let expected = if_match(&req, true)?;
    let a = blocking(&state, move |st| {
        curation::replace(st, &user.username, &id, expected, &body)
    })
    .await?;
    Ok(activity_response(HttpResponse::Ok(), &a))
}

/// Change some fields of an activity (JSON Merge Patch, RFC 7396).
///
/// `{"schedule": [...], "booking_url": null}` replaces the schedule and removes the booking
/// link; the result is validated as a whole. `If-Match` is required as for `PUT`. Audited
/// as `activity.patch`.
#[utoipa::path(
    patch, path = "/v1/admin/activities/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Activity id"), ("If-Match" = String, Header, description = "The ETag last read")),
    request_body(content = Object, content_type = "application/merge-patch+json",
        example = json!({"audiences": ["dementia", "older-people"], "booking_url": null})),
    responses(
        (status = 200, description = "The activity as it now is", body = Activity, headers(("ETag" = String, description = "The new version"))),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        (status = 412, response = super::problems::PreconditionFailed),
        (status = 422, response = super::problems::Unprocessable),
        (status = 428, response = super::problems::PreconditionRequired),
    )
)]
pub async fn patch_activity(
    Editor(user): Editor,
    req: HttpRequest,
    id: web::Path<String>,
    Json(MergePatch(patch)): Json<MergePatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = activity_id(&id)?;
    let expected = if_match(&req, true)?;
    let a = blocking(&state, move |st| {
        curation::patch(st, &user.username, &id, expected, &patch)
    })
    .await?;
    Ok(activity_response(HttpResponse::Ok(), &a))
}

/// Status changes, with an optional `If-Match`.
async fn act(
    user: Editor,
    req: HttpRequest,
    id: &str,
    state: web::Data<AppState>,
    action: Action,
) -> Result<HttpResponse, ApiError> {
    let id = activity_id(id)?;
    let expected = if_match(&req, false)?;
    let a = blocking(&state, move |st| {
        curation::act(st, &user.0.username, &id, expected, action)
    })
    .await?;
    Ok(activity_response(HttpResponse::Ok(), &a))
}

/// Archive an activity.
///
/// Sets its status to `archived` (it leaves the public API); nothing is ever deleted
/// through the API. `If-Match` is honoured when given. Audited as `activity.archive`.
#[utoipa::path(
    delete, path = "/v1/admin/activities/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Activity id"), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "The archived activity", body = Activity, headers(("ETag" = String, description = "The new version"))),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
        (status = 412, response = super::problems::PreconditionFailed),
    )
)]
pub async fn archive_activity(
    user: Editor,
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act(user, req, &id, state, Action::Archive).await
}

/// What to do to the activity (the path segment).
#[derive(Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ActivityAction {
    Restore,
    Publish,
    Unpublish,
}

impl ActivityAction {
    fn parse(segment: &str) -> Result<Action, ApiError> {
        Ok(match segment {
            "restore" => Action::Restore,
            "publish" => Action::Publish,
            "unpublish" => Action::Unpublish,
            other => {
                return Err(ApiError::NotFound(format!(
                    "no action {other:?}: restore, publish or unpublish"
                )))
            }
        })
    }
}

/// Restore, publish or unpublish an activity.
///
/// `restore` (archived to draft), `publish`, `unpublish` (to draft). `If-Match` is
/// honoured when given. Audited as `activity.restore` and so on.
#[utoipa::path(
    post, path = "/v1/admin/activities/{id}/{action}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Activity id"),
        ("action" = inline(ActivityAction), Path, description = "`restore`, `publish` or `unpublish`"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "The activity as it now is", body = Activity, headers(("ETag" = String, description = "The new version"))),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
        (status = 412, response = super::problems::PreconditionFailed),
    )
)]
pub async fn activity_action(
    user: Editor,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    act(user, req, &id, state, ActivityAction::parse(&action)?).await
}

/// A vocabulary entry's words (its slug is the path).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"label": "Gardening", "description": "Community gardens and growing groups"}))]
pub struct TermBody {
    /// 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub label: String,
    /// At most 1000 characters.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub description: String,
}

impl JsonBody for TermBody {
    const INVALID: &'static str = "must be {\"label\": \"...\", \"description\": \"...\"}";
}

async fn put_term(
    user: Admin,
    which: TermList,
    slug: String,
    body: TermBody,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let term = blocking(&state, move |st| {
        curation::put_term(
            st,
            &user.0.username,
            which,
            &slug,
            &body.label,
            &body.description,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(term))
}

/// Add or relabel an activity kind.
///
/// Admins only. Slugs are never removed (activities refer to them); the label and
/// description can change. Audited as `activity.term.put`.
#[utoipa::path(
    put, path = "/v1/admin/activity-kinds/{slug}", tag = "admin", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Lower-case words joined by -, e.g. `gardening`")),
    request_body = TermBody,
    responses(
        (status = 200, description = "The kind as it now is", body = Term),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 422, response = super::problems::Unprocessable),
    )
)]
pub async fn put_activity_kind(
    user: Admin,
    slug: web::Path<String>,
    Json(body): Json<TermBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    put_term(user, TermList::Kinds, slug.into_inner(), body, state).await
}

/// Add or relabel an audience.
///
/// Admins only, as for activity kinds. Audited as `activity.term.put`.
#[utoipa::path(
    put, path = "/v1/admin/audiences/{slug}", tag = "admin", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Lower-case words joined by -, e.g. `new-parents`")),
    request_body = TermBody,
    responses(
        (status = 200, description = "The audience as it now is", body = Term),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 422, response = super::problems::Unprocessable),
    )
)]
pub async fn put_audience(
    user: Admin,
    slug: web::Path<String>,
    Json(body): Json<TermBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    put_term(user, TermList::Audiences, slug.into_inner(), body, state).await
}
