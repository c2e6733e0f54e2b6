//! Categories and health checks.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::index::CategoryCount;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct CategoryList {
    pub items: Vec<CategoryCount>,
}

/// The category vocabulary, with the number of published assets in each.
#[utoipa::path(
    get, path = "/v1/categories", tag = "assets",
    responses((status = 200, description = "Every category", body = CategoryList,
        example = json!({"items": [{"slug": "library", "label": "Library",
            "description": "Public libraries, including community-managed libraries", "assets": 2986}]})))
)]
pub async fn list_categories(state: web::Data<AppState>) -> HttpResponse {
    let snap = state.snapshot.load();
    HttpResponse::Ok().json(CategoryList {
        items: snap.categories().to_vec(),
    })
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Live {
    pub status: &'static str,
}

/// Liveness: the process answers HTTP.
#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, description = "Alive", body = Live)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Live { status: "ok" })
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "snapshot_version": 42, "published_assets": 2986, "snapshot_age_s": 0.8}))]
pub struct Ready {
    pub status: &'static str,
    /// The data version the in-memory snapshot was built from.
    pub snapshot_version: i64,
    pub published_assets: usize,
    /// Seconds since the snapshot was built.
    pub snapshot_age_s: f64,
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, description = "Ready", body = Ready),
        (status = 503, response = super::problems::Unavailable)))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    web::block(move || store.ping()).await??;
    let snap = state.snapshot.load();
    let age = (chrono::Utc::now() - snap.built_at).num_milliseconds() as f64 / 1000.0;
    Ok(HttpResponse::Ok().json(Ready {
        status: "ready",
        snapshot_version: snap.version,
        published_assets: snap.published_len(),
        snapshot_age_s: age,
    }))
}

/// Prometheus metrics: requests and latency by route pattern, method and status; imports;
/// the snapshot's size, data version and age; resident memory. Never rate limited. Expose
/// it to your scraper only (the Compose proxy does not pass it through).
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Text exposition format 0.0.4", body = String,
        content_type = "text/plain; version=0.0.4")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (work, hashing) = (&state.work, &state.hashing);
    let capacity = |b: &crate::budget::Budget| {
        let s = b.settings();
        (s.running + s.queued) as f64
    };
    let gauges = [
        ("work_in_use", "gauge", "Costly requests running or queued (reports not yet cached, what-if, imports, exports).", work.in_use() as f64),
        ("work_capacity", "gauge", "Costly requests that may run or queue at once (WORK_THREADS + WORK_QUEUE).", capacity(work)),
        ("work_refused_total", "counter", "Costly requests refused since start because the budget was full (503) or the client held its share (429).", work.refused() as f64),
        ("login_hashing_in_use", "gauge", "Password checks running or queued.", hashing.in_use() as f64),
        ("login_hashing_refused_total", "counter", "Logins refused since start because the password-check budget was full.", hashing.refused() as f64),
        ("report_cache_bytes", "gauge", "Bytes of rendered report bodies cached (REPORT_CACHE_MB at most).", state.reports.bytes() as f64),
    ];
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.snapshot.load(), &gauges))
}
