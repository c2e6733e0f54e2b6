//! Cross-origin access for browser apps: public reads from the configured origins (by
//! default any), never the curators' (admin and auth) routes. `CORS_ALLOWED_ORIGINS` is `*` (the
//! default), a comma-separated list of origins, or `none`.

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

use super::Curators;
use crate::config::CorsPolicy;
use crate::error::ApiError;
use crate::state::AppState;

/// Response headers a browser app may read.
const EXPOSED: &str =
    "ETag, Last-Modified, X-Total-Count, X-Next-Cursor, X-Request-Id, Server-Timing, Retry-After";
/// Request headers a browser app may send on a public read.
const ALLOWED_HEADERS: &str = "Accept, If-None-Match, If-Modified-Since, X-Request-Id";

/// The `Access-Control-Allow-Origin` value for a read from `origin`, if allowed: never on
/// curators' routes (their scopes carry [`Curators`]).
pub fn allow(policy: &CorsPolicy, req: &HttpRequest, origin: &str) -> Option<HeaderValue> {
    if req.app_data::<Curators>().is_some() {
        return None;
    }
    match policy {
        CorsPolicy::Any => Some(HeaderValue::from_static("*")),
        CorsPolicy::Origins(list) if list.iter().any(|o| o == origin) => {
            HeaderValue::from_str(origin).ok()
        }
        _ => None,
    }
}

/// Adds the CORS headers to a public read's response from an allowed origin.
pub fn decorate(allowed: HeaderValue, response: &mut HeaderMap) {
    response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    response.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED),
    );
    response.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// Answers a browser's preflight (`OPTIONS`) for a public read.
pub async fn preflight(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok());
    let method = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|m| m.to_str().ok());
    let allowed = origin
        .filter(|_| matches!(method, Some("GET" | "HEAD")))
        .and_then(|o| allow(&state.config.cors, &req, o))
        .ok_or_else(|| {
            ApiError::Forbidden(
                "cross-origin access here is only for GET from an allowed origin".into(),
            )
        })?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
        .insert_header((header::VARY, "Origin"))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::{allow, CorsPolicy, Curators};
    use actix_web::test::TestRequest;

    #[test]
    fn listed_origins_only_and_never_curators_routes() {
        let public = TestRequest::default().to_http_request();
        let curators = TestRequest::default().app_data(Curators).to_http_request();
        let c = CorsPolicy::Origins(vec!["https://a.example".into()]);
        assert!(allow(&c, &public, "https://a.example").is_some());
        assert!(allow(&c, &public, "https://b.example").is_none());
        assert!(allow(&CorsPolicy::Any, &curators, "https://a.example").is_none());
        assert!(allow(&CorsPolicy::Off, &public, "https://a.example").is_none());
    }
}
