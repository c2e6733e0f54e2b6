//! Before the handlers of `/v1`: who is calling (an API key, or else an address) and
//! whether their rate limit lets them in. The probes (`/health`, `/metrics`) stand outside
//! that scope: a load balancer or a scraper must always get through.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use std::net::SocketAddr;

use crate::error::ApiError;
use crate::rate_limit::Allowance;
use crate::state::AppState;

/// The most header bytes (names and values) a request may carry; browsers send a few KiB.
/// (The HTTP codec itself refuses more than 96 headers, or heads over 128 KiB.)
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The header third-party apps send their key in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Refuses a request whose headers are larger than [`MAX_HEADER_BYTES`] (431).
pub fn check_headers(req: &ServiceRequest) -> Result<(), ApiError> {
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Err(ApiError::HeadersTooLarge(format!(
            "the request's headers are {header_bytes} bytes; at most {MAX_HEADER_BYTES} are accepted"
        )));
    }
    Ok(())
}

/// The rate limits, as middleware on the `/v1` scope: the caller's key or address against
/// its limit ([`admit`]), and `X-RateLimit-*` on the answer.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req
        .app_data::<actix_web::web::Data<AppState>>()
        .expect("the app is built with its state")
        .clone();
    let allowance = match admit(&state, &req) {
        Ok(allowance) => allowance,
        Err(refused) => return Ok(req.error_response(refused).map_into_right_body()),
    };
    let mut res = next.call(req).await?;
    if let Some(a) = &allowance {
        decorate(&mut res, a);
    }
    Ok(res.map_into_left_body())
}

/// Admits the request or says why not (401 for a bad key, 429 over the limit).
pub fn admit(state: &AppState, req: &ServiceRequest) -> Result<Option<Allowance>, ApiError> {
    let (bucket, limit) = match req.headers().get(API_KEY_HEADER) {
        Some(presented) => {
            let grant = presented
                .to_str()
                .ok()
                .and_then(|k| state.auth.api_keys.check(k.trim()))
                .ok_or_else(|| {
                    ApiError::Unauthorized(
                        "X-API-Key: unknown or revoked key (without the header the service is open, with the per-address rate limit)".into(),
                    )
                })?;
            let limit = grant.limit_per_minute.unwrap_or(state.limits.per_key);
            (format!("key:{}", grant.id), limit)
        }
        // No limit: no need to work out who the client is.
        None if state.limits.per_address == 0 => return Ok(None),
        None => {
            let client = client_address(state, req.peer_addr(), req.headers());
            (format!("ip:{client}"), state.limits.per_address)
        }
    };
    state
        .limits
        .take(&bucket, limit)
        .map_err(|wait| ApiError::TooManyRequests {
            retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
            message: format!(
                "more than {limit} requests a minute; wait Retry-After seconds (an API key from the service's admins gets a higher limit)"
            ),
        })
}

/// The client's address, for rate limits and throttles: the peer, or what a trusted proxy
/// says in `X-Forwarded-For` (see [`crate::rate_limit::RateLimits::client`]).
pub fn client_address(state: &AppState, peer: Option<SocketAddr>, headers: &HeaderMap) -> String {
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    state.limits.client(peer.map(|a| a.ip()), forwarded)
}

/// `X-RateLimit-Limit` and `X-RateLimit-Remaining` on an admitted request's response.
pub fn decorate<B>(res: &mut ServiceResponse<B>, allowance: &Allowance) {
    let headers = res.headers_mut();
    headers.insert(
        HeaderName::from_static("x-ratelimit-limit"),
        HeaderValue::from(allowance.limit),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-remaining"),
        HeaderValue::from(allowance.remaining),
    );
}
