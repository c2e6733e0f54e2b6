//! API keys for third-party apps, managed by admins: issue (the key is shown once), list
//! (with usage), revoke. Apps send a key in `X-API-Key`; see [`super::gate`].

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::authorize;
use crate::auth::Role;
use crate::error::{ApiError, InvalidParam, Problem};
use crate::state::AppState;
use crate::store::api_keys::{self, ApiKey};

#[derive(Serialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKey>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Link-worker app (Leeds)", "rate_limit_per_minute": 12000}))]
pub struct NewApiKey {
    /// Who the key is for: 1 to 200 characters.
    pub name: String,
    /// Requests a minute for this key (1 to 1,000,000); omit for the server's default.
    #[serde(default)]
    pub rate_limit_per_minute: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"key": "cak_Qm3xT0aZ…", "api_key": {"id": "0b9f…", "name": "Link-worker app (Leeds)"}}))]
pub struct IssuedApiKey {
    /// The key. It is not stored and cannot be shown again: hand it to the app now.
    pub key: String,
    pub api_key: ApiKey,
}

/// List API keys (admins only): never the keys themselves, with how much each was used.
#[utoipa::path(
    get, path = "/v1/admin/api-keys", tag = "admin", security(("bearer" = [])), operation_id = "list_api_keys",
    responses(
        (status = 200, description = "Every key, newest first, revoked ones too", body = ApiKeyList),
        super::auth::AdminErrors,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state, Role::Admin).await?;
    let st = state.clone();
    let items = web::block(move || {
        let mut conn = st.store.conn()?;
        // Count this instance's latest requests in.
        st.auth.api_keys.flush(&mut conn)?;
        api_keys::list(&mut conn)
    })
    .await??;
    Ok(HttpResponse::Ok().json(ApiKeyList { items }))
}

/// Issue an API key (admins only). The response is the only time the key is shown.
#[utoipa::path(
    post, path = "/v1/admin/api-keys", tag = "admin", security(("bearer" = [])), operation_id = "issue_api_key", request_body = NewApiKey,
    responses(
        (status = 201, description = "Issued; the key works at once on this instance, and on others within their refresh interval", body = IssuedApiKey),
        (status = 400, description = "The body is not a key request", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn issue(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = authorize(&req, &state, Role::Admin).await?;
    let new: NewApiKey = serde_json::from_slice(&body).map_err(|e| {
        ApiError::param(
            "body",
            format!("must be {{\"name\", \"rate_limit_per_minute\"?}}: {e}"),
        )
    })?;
    let name = new.name.trim().to_string();
    let mut errors = Vec::new();
    if !(1..=200).contains(&name.chars().count()) || name.chars().any(char::is_control) {
        errors.push(InvalidParam {
            name: "name".into(),
            reason: "must be 1 to 200 characters, none of them control characters".into(),
        });
    }
    let limit = match new.rate_limit_per_minute {
        None => None,
        Some(n @ 1..=1_000_000) => Some(n as i32),
        Some(_) => {
            errors.push(InvalidParam {
                name: "rate_limit_per_minute".into(),
                reason: "must be a whole number from 1 to 1000000".into(),
            });
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::InvalidFields(errors));
    }
    let st = state.clone();
    let (api_key, key) = web::block(move || {
        let mut conn = st.store.conn()?;
        let issued = api_keys::issue(&mut conn, &name, limit, &user.username)?;
        st.auth.api_keys.reload(&mut conn)?;
        Ok::<_, ApiError>(issued)
    })
    .await??;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(IssuedApiKey { key, api_key }))
}

/// Revoke an API key (admins only): it stops working at once on this instance, and on
/// the others within their refresh interval.
#[utoipa::path(
    delete, path = "/v1/admin/api-keys/{id}", tag = "admin", security(("bearer" = [])), operation_id = "revoke_api_key",
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 200, description = "The revoked key", body = ApiKey),
        super::auth::AdminErrors,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = authorize(&req, &state, Role::Admin).await?;
    let st = state.clone();
    let key = web::block(move || {
        let mut conn = st.store.conn()?;
        let key = api_keys::revoke(&mut conn, &id, &user.username)?;
        st.auth.api_keys.reload(&mut conn)?;
        Ok::<_, ApiError>(key)
    })
    .await??;
    Ok(HttpResponse::Ok().json(key))
}
