//! Accounts, managed by admins: list, create, disable, enable, revoke tokens, set the
//! password or the role; every change audited. (The first admin is created with
//! `community-assets users add`.) Password hashing runs on the hashing budget.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{client, Admin, Editor};
use super::body::{Json, JsonBody};
use super::{blocking, costly};
use crate::auth::Role;
use crate::curation::users as curation;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::users::{self, User};

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<User>,
}

/// List accounts (admins only).
#[utoipa::path(
    get, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every account (no password hashes)", body = UserList),
        super::auth::AdminErrors,
        (status = 403, response = super::problems::Forbidden),
    )
)]
pub async fn list_users(_: Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let items = blocking(&state, |st| Ok(users::list(&mut *st.store.conn()?)?)).await?;
    Ok(HttpResponse::Ok().json(UserList { items }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "ben", "password": "a long passphrase here", "role": "editor"}))]
pub struct NewUser {
    /// 1 to 64 letters, digits, `.`, `_` or `-`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub username: String,
    /// At least 12 characters.
    #[schema(min_length = 12)]
    pub password: String,
    pub role: Role,
}

impl JsonBody for NewUser {
    const INVALID: &'static str = "must be {\"username\", \"password\", \"role\"}";
}

/// Create an account (admins only).
///
/// Audited as `user.create`.
#[utoipa::path(
    post, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])), request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = User),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 403, response = super::problems::Forbidden),
        (status = 409, response = super::problems::Conflict),
        (status = 422, response = super::problems::Unprocessable),
        (status = 429, response = super::problems::TooManyRequests),
    )
)]
pub async fn create_user(
    Admin(admin): Admin,
    req: HttpRequest,
    Json(new): Json<NewUser>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = costly(&state, &state.hashing, &client(&req, &state), move |st| {
        curation::add(
            &mut *st.store.conn()?,
            &admin.username,
            &new.username,
            &new.password,
            new.role,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(user))
}

/// Disable an account (admins only).
///
/// Its tokens stop working at once. Audited as `user.disable`; 409 for the last active
/// admin.
#[utoipa::path(
    post, path = "/v1/admin/users/{username}/disable", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path, description = "The account")),
    responses(
        (status = 200, description = "The disabled account", body = User),
        super::auth::AdminErrors,
        (status = 403, response = super::problems::Forbidden),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
    )
)]
pub async fn disable_user(
    Admin(admin): Admin,
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = blocking(&state, move |st| {
        curation::disable(&mut *st.store.conn()?, &admin.username, &name)
    })
    .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Enable a disabled account (admins only).
///
/// Its old tokens stay revoked: its user logs in again. Audited as `user.enable`.
#[utoipa::path(
    post, path = "/v1/admin/users/{username}/enable", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path, description = "The account")),
    responses(
        (status = 200, description = "The enabled account", body = User),
        super::auth::AdminErrors,
        (status = 403, response = super::problems::Forbidden),
        (status = 404, response = super::problems::NotFound),
    )
)]
pub async fn enable_user(
    Admin(admin): Admin,
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = blocking(&state, move |st| {
        curation::enable(&mut *st.store.conn()?, &admin.username, &name)
    })
    .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Revoke an account's tokens (admins only).
///
/// Every token issued so far stops working at once; the account stays active. Audited as
/// `user.revoke-tokens`.
#[utoipa::path(
    post, path = "/v1/admin/users/{username}/revoke-tokens", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path, description = "The account")),
    responses(
        (status = 200, description = "The account, with its new token version", body = User),
        super::auth::AdminErrors,
        (status = 403, response = super::problems::Forbidden),
        (status = 404, response = super::problems::NotFound),
    )
)]
pub async fn revoke_tokens(
    Admin(admin): Admin,
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = blocking(&state, move |st| {
        curation::revoke_tokens(&mut *st.store.conn()?, &admin.username, &name)
    })
    .await?;
    Ok(HttpResponse::Ok().json(user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "a new long passphrase"}))]
pub struct NewPassword {
    /// At least 12 characters.
    #[schema(min_length = 12)]
    pub password: String,
}

impl JsonBody for NewPassword {
    const INVALID: &'static str = "must be {\"password\"}";
}

/// Set an account's password (admins only).
///
/// Its tokens stop working at once. Audited as `user.set-password` (the entry shows the
/// new token version, never the password or its hash).
#[utoipa::path(
    put, path = "/v1/admin/users/{username}/password", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path, description = "The account")),
    request_body = NewPassword,
    responses(
        (status = 200, description = "The account, with its new token version", body = User),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 403, response = super::problems::Forbidden),
        (status = 404, response = super::problems::NotFound),
        (status = 422, response = super::problems::Unprocessable),
        (status = 429, response = super::problems::TooManyRequests),
    )
)]
pub async fn set_password(
    Admin(admin): Admin,
    req: HttpRequest,
    name: web::Path<String>,
    Json(new): Json<NewPassword>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = costly(&state, &state.hashing, &client(&req, &state), move |st| {
        curation::set_password(
            &mut *st.store.conn()?,
            &admin.username,
            &name,
            &new.password,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "admin"}))]
pub struct NewRole {
    pub role: Role,
}

impl JsonBody for NewRole {
    const INVALID: &'static str = "must be {\"role\": \"admin\" or \"editor\"}";
}

/// Set an account's role (admins only).
///
/// When the role changes, the account's tokens stop working at once (a token carries its
/// role). Audited as `user.set-role`; 409 when it would demote the last active admin.
#[utoipa::path(
    put, path = "/v1/admin/users/{username}/role", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path, description = "The account")),
    request_body = NewRole,
    responses(
        (status = 200, description = "The account", body = User),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 403, response = super::problems::Forbidden),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
    )
)]
pub async fn set_role(
    Admin(admin): Admin,
    name: web::Path<String>,
    Json(new): Json<NewRole>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = blocking(&state, move |st| {
        curation::set_role(&mut *st.store.conn()?, &admin.username, &name, new.role)
    })
    .await?;
    Ok(HttpResponse::Ok().json(user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery staple",
    "new_password": "a new long passphrase"}))]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 12 characters.
    #[schema(min_length = 12)]
    pub new_password: String,
}

impl JsonBody for PasswordChange {
    const INVALID: &'static str = "must be {\"current_password\", \"new_password\"}";
}

/// Change your own password (any curator).
///
/// With the current one, checked like a login (the same throttle: 429 with `Retry-After`
/// after repeated failures; 422 naming `current_password` when it is wrong). Every token
/// of the account stops working, this one too: log in again. Audited as
/// `user.set-password` under your own name.
#[utoipa::path(
    put, path = "/v1/admin/me/password", tag = "admin", security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Your account, with its new token version", body = User),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 422, response = super::problems::Unprocessable),
        (status = 429, response = super::problems::TooManyRequests),
    )
)]
pub async fn change_own_password(
    Editor(me): Editor,
    req: HttpRequest,
    Json(change): Json<PasswordChange>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = curation::change_own_password(
        &state,
        &client(&req, &state),
        &me.username,
        change.current_password,
        change.new_password,
    )
    .await?;
    Ok(HttpResponse::Ok().json(user))
}
