//! API keys for third-party apps, managed by admins: issue (the key is shown once), list
//! (with usage), revoke. Apps send a key in `X-API-Key`; see [`super::gate`].

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Admin;
use super::blocking;
use super::body::{Json, JsonBody};
use crate::curation::api_keys as curation;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::api_keys::ApiKey;

#[derive(Serialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKey>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Link-worker app (Leeds)", "rate_limit_per_minute": 12000}))]
pub struct NewApiKey {
    /// Who the key is for: 1 to 200 characters, not all blank, no control characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Requests a minute for this key (1 to 1,000,000); omit for the server's default.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub rate_limit_per_minute: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"key": "cak_Qm3xT0aZ…", "api_key": {"id": "0b9f…", "name": "Link-worker app (Leeds)"}}))]
pub struct IssuedApiKey {
    /// The key. It is not stored and cannot be shown again: hand it to the app now.
    pub key: String,
    pub api_key: ApiKey,
}

impl JsonBody for NewApiKey {
    const INVALID: &'static str = "must be {\"name\", \"rate_limit_per_minute\"?}";
}

/// List API keys (admins only): never the keys themselves, with how much each was used.
#[utoipa::path(
    get, path = "/v1/admin/api-keys", tag = "admin", security(("bearer" = [])), operation_id = "list_api_keys",
    responses(
        (status = 200, description = "Every key, newest first, revoked ones too", body = ApiKeyList),
        super::auth::AdminErrors,
        (status = 403, response = super::problems::Forbidden),
    )
)]
pub async fn list(_: Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let items = blocking(&state, curation::list).await?;
    Ok(HttpResponse::Ok().json(ApiKeyList { items }))
}

/// Issue an API key (admins only). The response is the only time the key is shown.
#[utoipa::path(
    post, path = "/v1/admin/api-keys", tag = "admin", security(("bearer" = [])), operation_id = "issue_api_key", request_body = NewApiKey,
    responses(
        (status = 201, description = "Issued; the key works at once on this instance, and on others within their refresh interval", body = IssuedApiKey),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 403, response = super::problems::Forbidden),
        (status = 422, response = super::problems::Unprocessable),
    )
)]
pub async fn issue(
    Admin(user): Admin,
    Json(new): Json<NewApiKey>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (api_key, key) = blocking(&state, move |st| {
        curation::issue(st, &user.username, &new.name, new.rate_limit_per_minute)
    })
    .await?;
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
        (status = 403, response = super::problems::Forbidden),
        (status = 404, response = super::problems::NotFound),
    )
)]
pub async fn revoke(
    Admin(user): Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = blocking(&state, move |st| curation::revoke(st, &user.username, &id)).await?;
    Ok(HttpResponse::Ok().json(key))
}
