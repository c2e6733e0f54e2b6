//! Suggestions: the public proposes a new place or a correction (no token, a quota per
//! client address); editors list, approve (the change is applied and audited with the
//! approver as author, in one transaction) or reject them.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::admin::asset_id;
use super::auth::Editor;
use super::blocking;
use super::body::{Json, JsonBody};
use super::params::{documented, Params, Query, QueryContract};
use crate::curation::suggestions::{self as curation, Applied, Proposal};
use crate::domain::{Activity, Asset};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::suggestions::{self, Suggestion};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "correction", "asset_id": "1beaf664-065e-41cd-8e44-c134d70862a0",
    "asset": {"opening_hours": "Tu-Sa 10:00-17:00"}, "contact_email": "reader@example.org"}))]
pub struct NewSuggestion {
    /// `new` (a place that is missing) or `correction` (to a published asset);
    /// `new-activity` (something that happens at a venue) or `activity-correction` (to a
    /// published activity).
    pub kind: String,
    /// The asset a correction is for (required for a correction); for a `new-activity`,
    /// its venue (or give `asset_id` in `activity`).
    #[schema(format = Uuid)]
    pub asset_id: Option<String>,
    /// The activity an `activity-correction` is for (required for one).
    #[schema(format = Uuid)]
    pub activity_id: Option<String>,
    /// A new place's fields, or the fields to change (`null` clears one): for `new` and
    /// `correction`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub asset: Value,
    /// A new activity's fields (as `POST /v1/admin/activities` takes them, without
    /// `status`, `source`, `source_id`), or the fields to change: for `new-activity` and
    /// `activity-correction`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub activity: Value,
    /// Optional, for the editors' questions.
    pub contact_email: Option<String>,
}

impl JsonBody for NewSuggestion {
    const INVALID: &'static str = "is not a suggestion";
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "6f1c1f0e-9a53-4c0e-8d56-3f5b2f0f9a11", "status": "pending"}))]
pub struct SuggestionReceipt {
    pub id: Uuid,
    pub status: String,
}

/// Suggest a new place or activity, or a correction.
///
/// No token needed. Checked like an editor's change (422 naming every invalid field), then
/// queued for an editor. At most 20 a client address an hour (429 with `Retry-After`).
#[utoipa::path(
    post, path = "/v1/suggestions", tag = "suggestions", request_body = NewSuggestion,
    responses(
        (status = 201, description = "Queued for an editor", body = SuggestionReceipt),
        (status = 400, response = super::problems::BadRequest),
        (status = 404, response = super::problems::NotFound),
        (status = 422, response = super::problems::Unprocessable),
        (status = 429, response = super::problems::TooManyRequests),
        (status = 503, response = super::problems::Unavailable),
    )
)]
pub async fn suggest(
    req: HttpRequest,
    Json(s): Json<NewSuggestion>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let client = super::auth::client(&req, &state);
    let proposal = Proposal {
        kind: s.kind,
        asset_id: s.asset_id,
        activity_id: s.activity_id,
        asset: s.asset,
        activity: s.activity,
        contact_email: s.contact_email,
    };
    let saved = blocking(&state, move |st| curation::submit(st, &client, proposal)).await?;
    Ok(HttpResponse::Created().json(SuggestionReceipt {
        id: saved.id,
        status: saved.status,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionList {
    pub items: Vec<Suggestion>,
}

/// Where a suggestion stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum SuggestionStatus {
    Pending,
    Approved,
    Rejected,
}

impl SuggestionStatus {
    fn as_str(self) -> &'static str {
        match self {
            SuggestionStatus::Pending => "pending",
            SuggestionStatus::Approved => "approved",
            SuggestionStatus::Rejected => "rejected",
        }
    }
}

/// Query parameters of the suggestions list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    /// `pending` (default), `approved` or `rejected`.
    #[param(inline)]
    pub status: Option<SuggestionStatus>,
    /// 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

impl QueryContract for SuggestionQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(SuggestionQuery {
            status: p
                .one_of("status", &["pending", "approved", "rejected"])?
                .map(|s| match s {
                    "approved" => SuggestionStatus::Approved,
                    "rejected" => SuggestionStatus::Rejected,
                    _ => SuggestionStatus::Pending,
                }),
            limit: Some(p.usize_in("limit", 100, 1, 500)? as i64),
        })
    }
}

/// List suggestions (oldest first).
#[utoipa::path(
    get, path = "/v1/admin/suggestions", tag = "admin", security(("bearer" = [])),
    params(SuggestionQuery),
    responses(
        (status = 200, description = "Suggestions", body = SuggestionList),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
    )
)]
pub async fn list(
    _: Editor,
    Query(q): Query<SuggestionQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let status = q.status.map_or("pending", SuggestionStatus::as_str);
    let limit = q.limit.unwrap_or(100);
    let items = blocking(&state, move |st| {
        Ok(suggestions::list(&mut *st.store.conn()?, status, limit)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(SuggestionList { items }))
}

#[derive(Serialize, ToSchema)]
pub struct Decision {
    pub suggestion: Suggestion,
    /// The asset as the approval left it (null for a rejection or an activity).
    pub asset: Option<Asset>,
    /// The activity as the approval left it (`new-activity`, `activity-correction`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
}

/// Approve a suggestion: apply it.
///
/// A new place or activity is created (published, `source` `suggestion`); a correction is
/// merged into the asset or activity. Both are audited with the approver as author, in the same transaction as the
/// decision. A suggestion that no longer validates (e.g. the asset changed) is a 422 and
/// stays pending.
#[utoipa::path(
    post, path = "/v1/admin/suggestions/{id}/approve", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Suggestion id")),
    responses(
        (status = 200, description = "Applied", body = Decision),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        (status = 422, response = super::problems::Unprocessable),
    )
)]
pub async fn approve(
    Editor(user): Editor,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = asset_id(&id)?;
    let (suggestion, applied) =
        blocking(&state, move |st| curation::approve(st, &user.username, &id)).await?;
    let (asset, activity) = match applied {
        Applied::Asset(a) => (Some(a), None),
        Applied::Activity(a) => (None, Some(a)),
    };
    Ok(HttpResponse::Ok().json(Decision {
        suggestion,
        asset,
        activity,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The venue closed in 2024"}))]
pub struct Rejection {
    /// Why, for the record (1 to 1000 characters, not all blank).
    #[schema(min_length = 1, max_length = 1000, pattern = "\\S")]
    pub reason: String,
}

impl JsonBody for Rejection {
    const INVALID: &'static str = "must be {\"reason\": \"...\"}";
}

/// Reject a suggestion, with a reason.
#[utoipa::path(
    post, path = "/v1/admin/suggestions/{id}/reject", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Suggestion id")), request_body = Rejection,
    responses(
        (status = 200, description = "Rejected", body = Decision),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        (status = 422, response = super::problems::Unprocessable),
    )
)]
pub async fn reject(
    Editor(user): Editor,
    id: web::Path<String>,
    Json(Rejection { reason }): Json<Rejection>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = asset_id(&id)?;
    let suggestion = blocking(&state, move |st| {
        curation::reject(st, &user.username, &id, &reason)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Decision {
        suggestion,
        asset: None,
        activity: None,
    }))
}
