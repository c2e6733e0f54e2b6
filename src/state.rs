//! The shared state of a server instance: the store (source of truth), the snapshot cell
//! (read model), authentication, limits, metrics and the configuration; and keeping the
//! snapshot current (after a write, and by polling for other processes' writes).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::auth::token::TokenKeys;
use crate::auth::Auth;
use crate::budget::Budget;
use crate::config::Config;
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
    pub limits: Arc<RateLimits>,
    pub metrics: Arc<Metrics>,
    /// Costly work (reports not yet cached, what-if, imports, exports), bounded.
    pub work: Arc<Budget>,
    /// Password checks at login, bounded (each takes 19 MiB for a moment).
    pub hashing: Arc<Budget>,
    /// Report figures and bodies for the current snapshot.
    pub reports: Arc<crate::reports::ReportCache>,
    pub config: Arc<Config>,
}

impl AppState {
    /// Builds the first snapshot from the database, and the token keys and rate limits
    /// from the configuration.
    pub fn load(store: Store, config: Config) -> Result<Self, StoreError> {
        let snap = build_snapshot(&store, None, true)?;
        let state = AppState {
            store,
            snapshot: Arc::new(SnapshotCell::new(snap)),
            auth: Arc::new(Auth::new(TokenKeys::from_settings(&config.tokens))),
            admin_snapshot: Default::default(),
            rebuilding: Default::default(),
            limits: Arc::new(RateLimits::new(&config.limits)),
            metrics: Default::default(),
            work: Arc::new(Budget::new("work", config.work.costly)),
            hashing: Arc::new(Budget::new("hashing", config.work.hashing)),
            reports: Arc::new(crate::reports::ReportCache::new(
                config.work.report_cache_bytes,
            )),
            config: Arc::new(config),
        };
        state.sync_api_keys()?;
        Ok(state)
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

    /// Polls the database's data version every refresh interval and rebuilds the snapshot when
    /// another process (an import, another instance) has written. A failed poll (the
    /// database is down) keeps serving the last snapshot and tries again next time.
    pub fn spawn_refresher(&self) {
        let state = self.clone();
        let interval = self.config.refresh_interval;
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

/// Every asset (drafts and archived too) as it is in the database now, for work outside a
/// server such as a command-line import's matching (a closed row must find the closed
/// place).
pub fn full_snapshot(store: &Store) -> Result<Snapshot, StoreError> {
    build_snapshot(store, None, false)
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
