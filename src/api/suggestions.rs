//! Suggestions: the public proposes a new place or a correction (no token, a quota per
//! client address); editors list, approve (the change is applied and audited with the
//! approver as author, in one transaction) or reject them.

use actix_web::{web, HttpRequest, HttpResponse};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::admin::{asset_id, categories, fields_from, json_body, patched, write};
use super::auth::authorize;
use super::params::Params;
use crate::auth::Role;
use crate::domain::asset::check_email;
use crate::domain::{Asset, Status};
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::store::assets as asset_store;
use crate::store::suggestions::{self, Suggestion};

/// Fields the public may not set: editors decide them.
const EDITORS_ONLY: [&str; 3] = ["status", "source", "source_id"];

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "correction", "asset_id": "1beaf664-065e-41cd-8e44-c134d70862a0",
    "asset": {"opening_hours": "Tu-Sa 10:00-17:00"}, "contact_email": "reader@example.org"}))]
pub struct NewSuggestion {
    /// `new` (a place that is missing) or `correction` (to a published asset).
    pub kind: String,
    /// The asset a correction is for.
    pub asset_id: Option<String>,
    /// A new place's fields, or the fields to change (`null` clears one).
    #[schema(value_type = Object)]
    pub asset: Value,
    /// Optional, for the editors' questions.
    pub contact_email: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "6f1c1f0e-9a53-4c0e-8d56-3f5b2f0f9a11", "status": "pending"}))]
pub struct SuggestionReceipt {
    pub id: Uuid,
    pub status: String,
}

/// Suggest a new place or a correction.
///
/// No token needed. Checked like an editor's change (422 naming every invalid field), then
/// queued for an editor. At most 20 a client address an hour (429 with `Retry-After`).
#[utoipa::path(
    post, path = "/v1/suggestions", tag = "suggestions", request_body = NewSuggestion,
    responses(
        (status = 201, description = "Queued for an editor", body = SuggestionReceipt),
        (status = 400, description = "The body is not a suggestion", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A correction for an asset that is not published", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many suggestions from this address; wait Retry-After seconds", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn suggest(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let s: NewSuggestion = serde_json::from_slice(&body)
        .map_err(|e| ApiError::param("body", format!("is not a suggestion: {e}")))?;
    let Some(fields) = s.asset.as_object().filter(|o| !o.is_empty()) else {
        return Err(ApiError::field(
            "asset",
            "must be a non-empty object of asset fields",
        ));
    };
    if let Some(k) = fields.keys().find(|k| EDITORS_ONLY.contains(&k.as_str())) {
        return Err(ApiError::field(k, "is set by editors, not in suggestions"));
    }
    if let Some(e) = &s.contact_email {
        check_email(e).map_err(|reason| ApiError::field("contact_email", reason))?;
    }
    let known = categories(&state);
    let target = match s.kind.as_str() {
        "new" => {
            fields_from(&s.asset, &known)?;
            None
        }
        "correction" => {
            let id = asset_id(
                s.asset_id
                    .as_deref()
                    .ok_or_else(|| ApiError::field("asset_id", "is required for a correction"))?,
            )?;
            let snap = state.snapshot.load();
            let current = snap
                .get(&id)
                .ok_or_else(|| ApiError::NotFound(format!("no published asset has id {id}")))?
                .asset();
            patched(&current, &s.asset, &known)?;
            Some(id)
        }
        _ => return Err(ApiError::field("kind", "must be new or correction")),
    };
    let client = super::auth::client(&req, &state);
    state
        .auth
        .suggestions
        .take(&client)
        .map_err(|wait| ApiError::TooManyRequests {
            retry_after_s: wait.as_secs().max(1),
            message: "too many suggestions from this address: try again later".into(),
        })?;
    let st = state.clone();
    let saved = web::block(move || {
        suggestions::add(
            &mut *st.store.conn()?,
            &s.kind,
            target.as_ref(),
            &s.asset,
            s.contact_email.as_deref(),
        )
    })
    .await??;
    Ok(HttpResponse::Created().json(SuggestionReceipt {
        id: saved.id,
        status: saved.status,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionList {
    pub items: Vec<Suggestion>,
}

/// List suggestions (oldest first).
#[utoipa::path(
    get, path = "/v1/admin/suggestions", tag = "admin", security(("bearer" = [])),
    params(("status" = Option<String>, Query, description = "`pending` (default), `approved` or `rejected`"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500 (default 100)")),
    responses(
        (status = 200, description = "Suggestions", body = SuggestionList),
        (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
    )
)]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state, Role::Editor).await?;
    let p = Params::parse(req.query_string(), &["status", "limit"], &[])?;
    let status = p
        .one_of("status", &["pending", "approved", "rejected"])?
        .unwrap_or("pending");
    let limit = p.usize_in("limit", 100, 1, 500)? as i64;
    let st = state.clone();
    let items =
        web::block(move || suggestions::list(&mut *st.store.conn()?, status, limit)).await??;
    Ok(HttpResponse::Ok().json(SuggestionList { items }))
}

#[derive(Serialize, ToSchema)]
pub struct Decision {
    pub suggestion: Suggestion,
    /// The asset as the approval left it (null for a rejection).
    pub asset: Option<Asset>,
}

/// Approve a suggestion: apply it.
///
/// A new place is created (published, `source` `suggestion`); a correction is merged into
/// the asset. Both are audited with the approver as author, in the same transaction as the
/// decision. A suggestion that no longer validates (e.g. the asset changed) is a 422 and
/// stays pending.
#[utoipa::path(
    post, path = "/v1/admin/suggestions/{id}/approve", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Suggestion id")),
    responses(
        (status = 200, description = "Applied", body = Decision),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
        (status = 404, description = "No such suggestion, or its asset is gone", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "It no longer validates", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn approve(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = authorize(&req, &state, Role::Editor).await?;
    let id = asset_id(&id)?;
    let known = categories(&state);
    let decision = write(&state, move |st| {
        st.store.conn()?.transaction(|c| {
            let s = suggestions::decide(c, &id, "approved", &user.username, None)?;
            let asset = match s.asset_id.as_deref() {
                None => {
                    let mut fields = fields_from(&s.fields, &known)?;
                    fields.status = Status::Published;
                    fields.source = Some("suggestion".into());
                    fields.source_id = Some(s.id.to_string());
                    asset_store::create(c, fields, &user.username, "approve-suggestion")?
                }
                Some(target) => {
                    let target = asset_id(target)?;
                    let (asset, _) = asset_store::modify(
                        c,
                        &target,
                        None,
                        &user.username,
                        "approve-suggestion",
                        |old| patched(old, &s.fields, &known),
                    )?;
                    asset
                }
            };
            Ok::<_, ApiError>(Decision {
                suggestion: s,
                asset: Some(asset),
            })
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(decision))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The venue closed in 2024"}))]
pub struct Rejection {
    /// Why, for the record (1 to 1000 characters).
    pub reason: String,
}

/// Reject a suggestion, with a reason.
#[utoipa::path(
    post, path = "/v1/admin/suggestions/{id}/reject", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Suggestion id")), request_body = Rejection,
    responses(
        (status = 200, description = "Rejected", body = Decision),
        (status = 400, description = "The id is not a UUID, or the body is not {\"reason\": \"...\"}", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
        (status = 404, description = "No such suggestion", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason given", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reject(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = authorize(&req, &state, Role::Editor).await?;
    let id = asset_id(&id)?;
    let Rejection { reason } = serde_json::from_value(json_body(&body)?)
        .map_err(|e| ApiError::param("body", format!("must be {{\"reason\": \"...\"}}: {e}")))?;
    if reason.trim().is_empty() || reason.chars().count() > 1000 {
        return Err(ApiError::field("reason", "must be 1 to 1000 characters"));
    }
    let st = state.clone();
    let suggestion = web::block(move || {
        suggestions::decide(
            &mut *st.store.conn()?,
            &id,
            "rejected",
            &user.username,
            Some(reason.trim()),
        )
    })
    .await??;
    Ok(HttpResponse::Ok().json(Decision {
        suggestion,
        asset: None,
    }))
}
