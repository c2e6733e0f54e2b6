//! Start-up: the actix `App` (middleware and routes) and the `HttpServer` on an
//! already-bound listener, used by `main` and by the tests.

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::{
    from_fn, DefaultHeaders, ErrorHandlers, Next, NormalizePath, TrailingSlash,
};
use actix_web::{web, App, Error, HttpServer};
use std::net::TcpListener;
use std::time::Instant;

use crate::api::{cors, gate};
use crate::error::{render_problem, ApiError};
use crate::state::AppState;

/// Starts the HTTP server on an already-bound listener (port 0 in tests), with the
/// workers and timeouts of the state's configuration.
///
/// Middleware, outermost first: [`observe`] (request id, log line, metrics, CORS headers);
/// path normalisation; security headers; problem+json for the framework's own errors;
/// then [`bound`] (header size, request time limit) before the routes, among which the
/// `/v1` scope carries the rate limits.
pub fn serve(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let config = state.config.clone();
    let data = web::Data::new(state);
    let mut server = HttpServer::new(move || app(data.clone()))
        .client_request_timeout(config.timeouts.headers)
        .listen(listener)?;
    if let Some(n) = config.workers {
        server = server.workers(n);
    }
    // On SIGTERM or SIGINT: stop accepting, let in-flight requests finish (up to 30 s).
    Ok(server.shutdown_timeout(30).run())
}

/// The application: every route behind the middleware, over the shared state. The server
/// runs one per worker; tests can call it in-process (`actix_web::test::init_service`).
pub fn app(
    data: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(data)
        .wrap(from_fn(bound))
        .wrap(ErrorHandlers::new().default_handler(render_problem))
        // Responses are data, never pages to frame or content to sniff.
        .wrap(
            DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("X-Frame-Options", "DENY"))
                .add(("Referrer-Policy", "no-referrer")),
        )
        .wrap(NormalizePath::new(TrailingSlash::MergeOnly))
        .wrap(from_fn(observe))
        .configure(crate::api::configure)
}

fn state_of(req: &ServiceRequest) -> web::Data<AppState> {
    req.app_data::<web::Data<AppState>>()
        .expect("the app is built with its state")
        .clone()
}

/// Bounds on every request: headers of at most 16 KiB ([`gate::check_headers`]), and an
/// answer within `REQUEST_TIMEOUT_SECONDS`.
async fn bound(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let Err(refused) = gate::check_headers(&req) {
        return Ok(req.error_response(refused).map_into_right_body());
    }
    let limit = state_of(&req).config.timeouts.request;
    let Ok(res) = actix_web::rt::time::timeout(limit, next.call(req)).await else {
        // Rendered by the server from the error (there is no request left to build a
        // response on); the log and metrics still count it.
        return Err(ApiError::RequestTimeout(format!(
            "the request was not received and answered within {} s",
            limit.as_secs()
        ))
        .into());
    };
    Ok(res?.map_into_left_body())
}

/// What every request gets on the way out: its `X-Request-Id`, a log line, the metrics,
/// and CORS headers on public reads. HEAD is answered as GET without the body (which the
/// HTTP codec drops).
async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let state = state_of(&req);
    let id = request_id(&req);
    let (method, path) = (req.method().clone(), req.path().to_string());
    if method == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_string);
    let started = Instant::now();
    let mut res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            let status = e.as_response_error().status_code().as_u16();
            let seconds = started.elapsed().as_secs_f64();
            state
                .metrics
                .observe(None, method.as_str(), status, seconds);
            log_request(&id, &method, &path, status, started);
            return Err(e);
        }
    };
    if method == Method::GET || method == Method::HEAD {
        if let Some(allowed) = origin
            .as_deref()
            .and_then(|o| cors::allow(&state.config.cors, res.request(), o))
        {
            cors::decorate(allowed, res.headers_mut());
        }
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    let status = res.status().as_u16();
    state.metrics.observe(
        res.request().match_pattern().as_deref(),
        method.as_str(),
        status,
        started.elapsed().as_secs_f64(),
    );
    log_request(&id, &method, &path, status, started);
    Ok(res)
}

/// The caller's `X-Request-Id` when it is a reasonable one (1 to 64 letters, digits, `-`,
/// `_` or `.`), else a new one; returned on the response and written in the log, so one
/// request can be followed from a client through the logs.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_string)
}

/// One line a request: server errors as errors, client errors as information, the rest
/// at debug level (tens of thousands a second would drown the log). Paths only: query
/// strings and headers (tokens) are never logged.
fn log_request(id: &str, method: &Method, path: &str, status: u16, started: Instant) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match status {
        500.. => tracing::error!(request_id = id, %method, path, status, ms, "request"),
        400.. => tracing::info!(request_id = id, %method, path, status, ms, "request"),
        _ => tracing::debug!(request_id = id, %method, path, status, ms, "request"),
    }
}
