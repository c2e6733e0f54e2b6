//! Tokens for curators, and the check every admin request goes through.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::token::TokenKeys;
use crate::auth::{password, Role};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::users::{self, User};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "ann", "password": "correct horse battery staple"}))]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJl",
    "token_type": "Bearer", "expires_in": 3600}))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

fn keys(state: &AppState) -> Result<&TokenKeys, ApiError> {
    state
        .auth
        .keys
        .as_ref()
        .map_err(|why| ApiError::Disabled(why.clone()))
}

/// The client's address, for throttling (behind a trusted proxy, the forwarded one).
pub(super) fn client(req: &HttpRequest, state: &AppState) -> String {
    super::gate::client_address(state, req.peer_addr(), req.headers())
}

impl super::body::JsonBody for TokenRequest {
    const INVALID: &'static str = "must be {\"username\", \"password\"}";
}

/// Get an access token.
///
/// With a username and password. Failed attempts are slowed down per username and per
/// client address: after three, each further attempt must wait twice as long as the last
/// (429 with `Retry-After`, up to 15 minutes).
#[utoipa::path(
    post, path = "/v1/auth/token", tag = "admin", request_body = TokenRequest,
    responses(
        (status = 200, description = "A bearer token for the admin API", body = TokenResponse),
        (status = 400, response = super::problems::BadRequest),
        (status = 401, response = super::problems::Unauthorized),
        (status = 429, response = super::problems::TooManyRequests),
        (status = 503, response = super::problems::Unavailable),
    )
)]
pub async fn token(
    req: HttpRequest,
    super::body::Json(TokenRequest { username, password }): super::body::Json<TokenRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let keys = keys(&state)?;
    let throttle_keys = [
        format!("user:{username}"),
        format!("ip:{}", client(&req, &state)),
    ];
    if let Some(wait) = throttle_keys
        .iter()
        .filter_map(|k| state.auth.logins.wait(k))
        .max()
    {
        return Err(ApiError::TooManyRequests {
            retry_after_s: wait.as_secs().max(1),
            message: "too many failed logins: try again later".into(),
        });
    }
    let st = state.clone();
    let name = username.clone();
    let user = web::block(move || -> Result<Option<User>, ApiError> {
        let user = users::find(&mut *st.store.conn()?, &name)?;
        // Verify against a decoy when there is no such user, so timing tells nothing.
        let hash = user
            .as_ref()
            .map_or(password::decoy(), |u| u.password_hash.as_str());
        let ok = password::verify(&password, hash);
        Ok(user.filter(|u| ok && u.active))
    })
    .await??;
    let Some(user) = user else {
        throttle_keys
            .iter()
            .for_each(|k| state.auth.logins.failed(k));
        tracing::info!(username = %username, "failed login");
        return Err(ApiError::Unauthorized(
            "wrong username or password, or the account is disabled".into(),
        ));
    };
    state.auth.logins.succeeded(&throttle_keys[0]);
    let role = Role::parse(&user.role)
        .ok_or_else(|| ApiError::Internal(format!("bad role {:?}", user.role)))?;
    let access_token = keys
        .issue(&user.username, role, user.token_version)
        .map_err(ApiError::Internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: keys.ttl_seconds,
        }))
}

/// The errors any admin operation may answer before it does anything, documented once:
/// no or a bad token (401), the wrong role (403), no JWT secret configured or the database
/// unavailable (503). Listed in each admin operation's `responses(...)`; a tuple given
/// after it for the same status (e.g. a more specific 403) replaces it.
pub struct AdminErrors;

impl utoipa::IntoResponses for AdminErrors {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        [
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("503", "Unavailable"),
        ]
        .into_iter()
        .map(|(status, name)| (status.to_string(), super::problems::reference(name)))
        .collect()
    }
}

/// An editor (or an admin), from the request's bearer token: in a handler's signature,
/// it makes the route need that role (401, 403 or 503 before the handler runs).
pub struct Editor(pub User);

/// An admin, from the request's bearer token (see [`Editor`]).
pub struct Admin(pub User);

macro_rules! role_extractor {
    ($name:ident, $role:expr) => {
        impl actix_web::FromRequest for $name {
            type Error = ApiError;
            type Future =
                std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, ApiError>>>>;

            fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move {
                    let state = req
                        .app_data::<web::Data<AppState>>()
                        .ok_or_else(|| ApiError::Internal("no app state".into()))?;
                    authorize(&req, state, $role).await.map($name)
                })
            }
        }
    };
}

role_extractor!(Editor, Role::Editor);
role_extractor!(Admin, Role::Admin);

/// The user a request acts for, if its bearer token is valid, the account is active, the
/// token's version is the account's current one, and the account's role (as it is now,
/// not as the token says) allows `needed`.
async fn authorize(req: &HttpRequest, state: &AppState, needed: Role) -> Result<User, ApiError> {
    let keys = keys(state)?;
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or_else(|| {
            ApiError::Unauthorized("a bearer token is required: POST /v1/auth/token".into())
        })?;
    let claims = keys.verify(token.trim()).map_err(ApiError::Unauthorized)?;
    let st = state.clone();
    let user =
        web::block(move || users::find(&mut *st.store.conn()?, &claims.sub).map(|u| (u, claims)))
            .await??;
    let (Some(user), claims) = user else {
        return Err(ApiError::Unauthorized(
            "the token's user does not exist".into(),
        ));
    };
    if !user.active || user.token_version != claims.ver {
        return Err(ApiError::Unauthorized("the token has been revoked".into()));
    }
    let role = Role::parse(&user.role)
        .ok_or_else(|| ApiError::Internal(format!("bad role {:?}", user.role)))?;
    if !role.allows(needed) {
        return Err(ApiError::Forbidden(format!(
            "this needs the {} role; {} is an {}",
            needed.as_str(),
            user.username,
            role.as_str()
        )));
    }
    Ok(user)
}
