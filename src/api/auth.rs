//! Tokens for curators, and the check every admin request goes through.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::token::{Claims, TokenKeys};
use crate::auth::{login, Role};
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

/// The largest body a login may send: a username of at most 64 characters and a
/// password (4 KiB in all); more is a 413 before anything is read.
pub const MAX_LOGIN_BYTES: usize = 4 * 1024;

impl super::body::JsonBody for TokenRequest {
    const INVALID: &'static str = "must be {\"username\", \"password\"}";
}

/// Get an access token.
///
/// With a username and password. Each attempt is counted as a failure before the password
/// is checked (and taken back if it was right), per username and client address (3 free),
/// per client address (20 free) and per username from addresses that have not logged in to
/// it before (10 free); past the free ones, each further attempt must wait twice as long as
/// the last (429 with `Retry-After`, up to 15 minutes). Failures elsewhere never hold back
/// an address that logged in to the account before. A name that is not a valid username
/// gets the same 401 as a wrong password. Password checks run a few at a time: 503 with
/// `Retry-After` when too many are waiting.
#[utoipa::path(
    post, path = "/v1/auth/token", tag = "admin", request_body = TokenRequest,
    responses(
        (status = 200, description = "A bearer token for the admin API", body = TokenResponse),
        (status = 400, response = super::problems::BadRequest),
        (status = 401, response = super::problems::Unauthorized),
        (status = 413, response = super::problems::PayloadTooLarge),
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
    let client = client(&req, &state);
    let user = login::log_in(
        &state.auth,
        &state.store,
        &state.hashing,
        &client,
        &username,
        password,
    )
    .await?;
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

/// An editor (or an admin): in a handler's signature, it makes the route need that role
/// (403 otherwise). The account was authenticated by [`authenticate`] before the request
/// reached the handler; this only checks its role, as the account has it now.
pub struct Editor(pub User);

/// An admin (see [`Editor`]).
pub struct Admin(pub User);

macro_rules! role_extractor {
    ($name:ident, $role:expr) => {
        impl actix_web::FromRequest for $name {
            type Error = ApiError;
            type Future = std::future::Ready<Result<Self, ApiError>>;

            fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
                std::future::ready(authorized(req, $role).map($name))
            }
        }
    };
}

role_extractor!(Editor, Role::Editor);
role_extractor!(Admin, Role::Admin);

/// The authenticated account, if its role (as it is now, not as the token says) allows
/// `needed`.
fn authorized(req: &HttpRequest, needed: Role) -> Result<User, ApiError> {
    let user = req
        .extensions()
        .get::<User>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("a curator's route outside /v1/admin".into()))?;
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

/// The account a request acts for, if its bearer token is valid, the account is active
/// and the token's version is the account's current one (a revoked token is refused).
async fn authenticated(headers: &header::HeaderMap, state: &AppState) -> Result<User, ApiError> {
    let claims = claims(headers, state)?;
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
    Ok(user)
}

/// The claims of the request's bearer token, if it is present, well signed and not
/// expired (from the headers alone: no database, no body).
fn claims(headers: &header::HeaderMap, state: &AppState) -> Result<Claims, ApiError> {
    let keys = keys(state)?;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or_else(|| {
            ApiError::Unauthorized("a bearer token is required: POST /v1/auth/token".into())
        })?;
    keys.verify(token.trim()).map_err(ApiError::Unauthorized)
}

/// Middleware on `/v1/admin`: the request's token and account are checked from its
/// headers (401, or 503 when the admin API is disabled) before anything reads its body,
/// so that anonymous or revoked uploads cost nothing; the account is then handed to the
/// [`Editor`] and [`Admin`] extractors, which check its role. Preflights pass through to
/// be refused by CORS.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() != Method::OPTIONS {
        let state = req
            .app_data::<web::Data<AppState>>()
            .expect("the app is built with its state");
        match authenticated(req.headers(), state).await {
            Ok(user) => {
                req.extensions_mut().insert(user);
            }
            Err(refused) => return Ok(req.error_response(refused).map_into_right_body()),
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}
