//! Accounts, managed by admins: list, create, disable. (The first admin is created with
//! `community-assets users add`.)

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Admin;
use super::blocking;
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

impl super::body::JsonBody for NewUser {
    const INVALID: &'static str = "must be {\"username\", \"password\", \"role\"}";
}

/// Create an account (admins only).
#[utoipa::path(
    post, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])), request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = User),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 403, response = super::problems::Forbidden),
        (status = 409, response = super::problems::Conflict),
        (status = 422, response = super::problems::Unprocessable),
    )
)]
pub async fn create_user(
    _: Admin,
    super::body::Json(new): super::body::Json<NewUser>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = blocking(&state, move |st| {
        curation::add(
            &mut *st.store.conn()?,
            &new.username,
            &new.password,
            new.role,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(user))
}

/// Disable an account (admins only); its tokens stop working at once.
#[utoipa::path(
    post, path = "/v1/admin/users/{username}/disable", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path, description = "The account")),
    responses(
        (status = 200, description = "The disabled account", body = User),
        super::auth::AdminErrors,
        (status = 403, response = super::problems::Forbidden),
        (status = 404, response = super::problems::NotFound),
    )
)]
pub async fn disable_user(
    _: Admin,
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = blocking(&state, move |st| {
        curation::disable(&mut *st.store.conn()?, &name)
    })
    .await?;
    Ok(HttpResponse::Ok().json(user))
}
