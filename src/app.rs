//! Start-up: the shared state, the snapshot refresher and the HTTP server.

use actix_web::dev::{Server, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::api::cors::Cors;
use crate::auth::token::TokenKeys;
use crate::auth::Auth;
use crate::error::{render_problem, ApiError};
use crate::index::{AreaSet, Snapshot, SnapshotCell};
use crate::metrics::Metrics;
use crate::rate_limit::RateLimits;
use crate::store::{assets, Store, StoreError};

/// What every request handler shares: the source of truth and the read model.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub snapshot: Arc<SnapshotCell>,
    pub auth: Arc<Auth>,
    /// Every asset whatever its status, for the admin list: built when an admin lists after
    /// a write, and kept until the next write.
    admin_snapshot: Arc<Mutex<Option<Arc<Snapshot>>>>,
    rebuilding: Arc<Mutex<()>>,
    /// Which origins browser apps may read from (`CORS_ALLOWED_ORIGINS`).
    pub cors: Arc<Cors>,
    pub limits: Arc<RateLimits>,
    pub metrics: Arc<Metrics>,
    /// Report figures and bodies for the current snapshot.
    pub reports: Arc<crate::reports::ReportCache>,
}

impl AppState {
    /// Builds the first snapshot from the database; token keys, CORS origins and rate
    /// limits come from the environment (see [`TokenKeys::from_env`],
    /// [`RateLimits::from_env`]).
    pub fn load(store: Store) -> Result<Self, StoreError> {
        let limits = RateLimits::from_env().map_err(StoreError::Invalid)?;
        let snap = build_snapshot(&store, None, true)?;
        let state = AppState {
            store,
            snapshot: Arc::new(SnapshotCell::new(snap)),
            auth: Arc::new(Auth::new(TokenKeys::from_env())),
            admin_snapshot: Default::default(),
            rebuilding: Default::default(),
            cors: Arc::new(Cors::from_env()),
            limits: Arc::new(limits),
            metrics: Default::default(),
            reports: Default::default(),
        };
        state.sync_api_keys()?;
        Ok(state)
    }

    /// The same state with other rate limits (tests, benchmarks).
    pub fn with_rate_limits(self, limits: RateLimits) -> Self {
        AppState {
            limits: Arc::new(limits),
            ..self
        }
    }

    /// The same state with other token keys (tests, embedding).
    pub fn with_token_keys(self, keys: Result<TokenKeys, String>) -> Self {
        AppState {
            auth: Arc::new(Auth::new(keys)),
            ..self
        }
    }

    /// Adds the requests counted per API key to the database and reloads the working keys
    /// (another instance may have issued or revoked one).
    pub fn sync_api_keys(&self) -> Result<(), StoreError> {
        let mut conn = self.store.conn()?;
        self.auth.api_keys.flush(&mut conn)?;
        self.auth.api_keys.reload(&mut conn)
    }

    /// Rebuilds the snapshot if the database changed since it was built. Returns whether
    /// it did. One rebuild at a time: a write's own refresh and the poller would otherwise
    /// both rebuild the same version, each slowing the other down.
    pub fn refresh(&self) -> Result<bool, StoreError> {
        let _one_at_a_time = self.rebuilding.lock().unwrap_or_else(|e| e.into_inner());
        let current = assets::data_version(&mut *self.store.conn()?)?;
        let previous = self.snapshot.load();
        if current == previous.version {
            return Ok(false);
        }
        // Any other version, lower too: a restored backup moves the database back in time.
        // (One rebuild at a time, so nothing newer can be overwritten here.)
        self.snapshot
            .replace(build_snapshot(&self.store, Some(&previous), true)?);
        Ok(true)
    }

    /// A snapshot of every asset (drafts and archived too) as of now, for the admin list.
    pub fn admin_snapshot(&self) -> Result<Arc<Snapshot>, StoreError> {
        let current = assets::data_version(&mut *self.store.conn()?)?;
        let mut cached = self
            .admin_snapshot
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(s) = cached.as_ref().filter(|s| s.version == current) {
            return Ok(s.clone());
        }
        let public = self.snapshot.load();
        let built = Arc::new(build_snapshot(&self.store, Some(&public), false)?);
        *cached = Some(built.clone());
        Ok(built)
    }

    /// Polls the database's data version every `interval` and rebuilds the snapshot when
    /// another process (an import, another instance) has written. A failed poll (the
    /// database is down) keeps serving the last snapshot and tries again next time.
    pub fn spawn_refresher(&self, interval: Duration) {
        let state = self.clone();
        std::thread::Builder::new()
            .name("snapshot-refresh".into())
            .spawn(move || loop {
                std::thread::sleep(interval);
                let started = Instant::now();
                let refreshed = state.refresh();
                state.metrics.refreshed(&refreshed);
                match refreshed {
                    Ok(rebuilt) => {
                        if rebuilt {
                            tracing::info!(
                                version = state.snapshot.load().version,
                                assets = state.snapshot.load().len(),
                                ms = started.elapsed().as_millis() as u64,
                                "snapshot rebuilt"
                            );
                        }
                        if let Err(e) = state.sync_api_keys() {
                            tracing::warn!(error = %e, "API keys not synchronised; using the last ones");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "snapshot refresh failed; serving the last snapshot"),
                }
            })
            .expect("spawn the snapshot refresher thread");
    }
}

/// Builds a snapshot (of published assets, or of all), reusing the areas of `previous`
/// when their version is unchanged.
fn build_snapshot(
    store: &Store,
    previous: Option<&Snapshot>,
    published_only: bool,
) -> Result<Snapshot, StoreError> {
    let held = previous.map(|s| s.areas.info.version);
    let src = assets::load_snapshot_source(&mut *store.conn()?, held, published_only)?;
    let areas = match (src.areas, previous) {
        (Some(rows), _) => Arc::new(AreaSet::build(src.area_info, rows)),
        (None, Some(prev)) => prev.areas.clone(),
        (None, None) => Arc::new(AreaSet::empty()),
    };
    Ok(Snapshot::rebuild(
        src.version,
        &src.categories,
        src.assets,
        areas,
        previous,
    ))
}

/// The caller's `X-Request-Id` when it is a reasonable one (1 to 64 letters, digits, `-`,
/// `_` or `.`), else a new one; returned on the response and written in the log, so one
/// request can be followed from a client through the logs.
fn request_id(req: &actix_web::dev::ServiceRequest) -> String {
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
fn log_request(
    id: &str,
    method: &actix_web::http::Method,
    path: &str,
    status: u16,
    started: Instant,
) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match status {
        500.. => tracing::error!(request_id = id, %method, path, status, ms, "request"),
        400.. => tracing::info!(request_id = id, %method, path, status, ms, "request"),
        _ => tracing::debug!(request_id = id, %method, path, status, ms, "request"),
    }
}

/// Limits on what a client may send, and for how long (`REQUEST_TIMEOUT_SECONDS`).
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// From connection to the end of the request's headers (slow-header clients).
    pub headers: Duration,
    /// From the headers to the response: reading the body and handling it.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            headers: Duration::from_secs(5),
            request: Duration::from_secs(60),
        }
    }
}

impl Timeouts {
    pub fn from_env() -> Result<Self, String> {
        let mut t = Timeouts::default();
        if let Ok(v) = std::env::var("REQUEST_TIMEOUT_SECONDS") {
            let secs: u64 = v.trim().parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                format!(
                    "REQUEST_TIMEOUT_SECONDS must be a whole number of seconds above 0, not {v:?}"
                )
            })?;
            t.request = Duration::from_secs(secs);
            t.headers = t.headers.min(t.request);
        }
        Ok(t)
    }
}

/// Starts the HTTP server on an already-bound listener (port 0 in tests).
///
/// Middleware, outermost first: request id, log line, metrics and CORS headers; path
/// normalisation; security headers; problem+json for the framework's own errors; then
/// the gate (API key, rate limit, request time limit) right before the handler.
pub fn serve(
    listener: TcpListener,
    state: AppState,
    workers: Option<usize>,
    timeouts: Timeouts,
) -> std::io::Result<Server> {
    let data = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        let (outer, inner) = (data.clone(), data.clone());
        App::new()
            .app_data(data.clone())
            .wrap_fn(move |req, srv| {
                // No clone of the request may live across `call`: routing needs it unshared.
                let call = match crate::api::gate::admit(&inner, &req) {
                    Ok(allowance) => Ok((allowance, srv.call(req))),
                    Err(refused) => Err(req.error_response(refused)),
                };
                async move {
                    let (allowance, call) = match call {
                        Ok(admitted) => admitted,
                        Err(refused) => return Ok(refused.map_into_right_body()),
                    };
                    let Ok(res) = actix_web::rt::time::timeout(timeouts.request, call).await else {
                        // Rendered by the server from the error (there is no request left
                        // to build a response on); the log and metrics still count it.
                        return Err(ApiError::RequestTimeout(format!(
                            "the request was not received and answered within {} s",
                            timeouts.request.as_secs()
                        ))
                        .into());
                    };
                    let mut res = res?;
                    if let Some(a) = &allowance {
                        crate::api::gate::decorate(&mut res, a);
                    }
                    Ok(res.map_into_left_body())
                }
            })
            .wrap(ErrorHandlers::new().default_handler(render_problem))
            // Responses are data, never pages to frame or content to sniff.
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "no-referrer")),
            )
            .wrap(NormalizePath::new(TrailingSlash::MergeOnly))
            .wrap_fn(move |mut req, srv| {
                let id = request_id(&req);
                let (method, path) = (req.method().clone(), req.path().to_string());
                // HEAD is GET without the body (which the HTTP codec drops).
                if method == Method::HEAD {
                    req.head_mut().method = Method::GET;
                }
                let origin = req
                    .headers()
                    .get(actix_web::http::header::ORIGIN)
                    .and_then(|o| o.to_str().ok())
                    .map(str::to_string);
                let state = outer.clone();
                let started = Instant::now();
                let response = srv.call(req);
                async move {
                    let mut res = match response.await {
                        Ok(res) => res,
                        Err(e) => {
                            let status = e.as_response_error().status_code().as_u16();
                            state.metrics.observe(
                                None,
                                method.as_str(),
                                status,
                                started.elapsed().as_secs_f64(),
                            );
                            log_request(&id, &method, &path, status, started);
                            return Err(e);
                        }
                    };
                    if method == Method::GET || method == Method::HEAD {
                        if let Some(origin) = &origin {
                            state.cors.decorate(&path, origin, res.headers_mut());
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
            })
            .configure(crate::api::configure)
    })
    .client_request_timeout(timeouts.headers)
    .listen(listener)?;
    if let Some(n) = workers {
        server = server.workers(n);
    }
    // On SIGTERM or SIGINT: stop accepting, let in-flight requests finish (up to 30 s).
    Ok(server.shutdown_timeout(30).run())
}
