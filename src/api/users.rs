//! Accounts, managed by admins: list, create, disable. (The first admin is created with
//! `community-assets users add`.)

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::authorize;
use crate::auth::{password, Role, MIN_PASSWORD_LEN};
use crate::error::{ApiError, InvalidParam, Problem};
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
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_users(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state, Role::Admin).await?;
    let st = state.clone();
    let items = web::block(move || users::list(&mut *st.store.conn()?)).await??;
    Ok(HttpResponse::Ok().json(UserList { items }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "ben", "password": "a long passphrase here", "role": "editor"}))]
pub struct NewUser {
    /// 1 to 64 letters, digits, `.`, `_` or `-`.
    pub username: String,
    /// At least 12 characters.
    pub password: String,
    pub role: Role,
}

/// Create an account (admins only).
#[utoipa::path(
    post, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])), request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = User),
        (status = 400, description = "The body is not {\"username\", \"password\", \"role\"}", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_user(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state, Role::Admin).await?;
    let new: NewUser = serde_json::from_slice(&body).map_err(|e| {
        ApiError::param(
            "body",
            format!("must be {{\"username\", \"password\", \"role\"}}: {e}"),
        )
    })?;
    let mut errors = Vec::new();
    if let Err(reason) = check_username(&new.username) {
        errors.push(InvalidParam {
            name: "username".into(),
            reason,
        });
    }
    if new.password.chars().count() < MIN_PASSWORD_LEN {
        errors.push(InvalidParam {
            name: "password".into(),
            reason: format!("must be at least {MIN_PASSWORD_LEN} characters"),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidFields(errors));
    }
    let st = state.clone();
    let user = web::block(move || -> Result<User, ApiError> {
        let hash = password::hash(&new.password).map_err(ApiError::Internal)?;
        Ok(users::add(
            &mut *st.store.conn()?,
            &new.username,
            &hash,
            new.role.as_str(),
        )?)
    })
    .await??;
    Ok(HttpResponse::Created().json(user))
}

/// Usernames: short, and safe to show in logs and the audit trail.
pub fn check_username(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    ok.then_some(())
        .ok_or_else(|| "must be 1 to 64 letters, digits, '.', '_' or '-'".into())
}

/// Disable an account (admins only); its tokens stop working at once.
#[utoipa::path(
    post, path = "/v1/admin/users/{username}/disable", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path, description = "The account")),
    responses(
        (status = 200, description = "The disabled account", body = User),
        super::auth::AdminErrors,
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn disable_user(
    req: HttpRequest,
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state, Role::Admin).await?;
    let st = state.clone();
    let user = web::block(move || users::disable(&mut *st.store.conn()?, &name)).await??;
    Ok(HttpResponse::Ok().json(user))
}
