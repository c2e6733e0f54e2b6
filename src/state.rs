//! The shared state of a server instance: the store (source of truth), the snapshot cell
//! (read model), authentication, limits, metrics and the configuration; and keeping the
//! snapshot current (after a write, and by polling for other processes' writes).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::auth::token::TokenKeys;
use crate::auth::Auth;
use crate::budget::Budget;
use crate::config::Config;
use crate::domain::activity::Activity;
use crate::domain::Asset;
use crate::index::{AreaSet, Entry, EntryBuilder, Snapshot, SnapshotCell};
use crate::metrics::Metrics;
use crate::rate_limit::RateLimits;
use crate::store::assets::Changes;
use crate::store::{assets, consistent_read, Backend, ChangeSeq, DbConnection, Store, StoreError};

/// What every request handler shares: the source of truth and the read model.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub snapshot: Arc<SnapshotCell>,
    pub auth: Arc<Auth>,
    /// The tag of the snapshot's version ([`crate::store::version_tag`]), to tell a
    /// restored database from the one the snapshot was read from. Its lock also makes
    /// refreshes one at a time.
    held_tag: Arc<Mutex<Option<i64>>>,
    /// Deltas applied, to trim freed memory every [`TRIM_EVERY_DELTAS`].
    deltas: Arc<AtomicU64>,
    /// Wakes the refresher before its interval is up (a NOTIFY from another instance).
    wake: Arc<Wake>,
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
        let snap = build_snapshot(&store, None)?;
        // The rows and assets the snapshot was built from are gone, but glibc keeps their
        // pages (hundreds of MiB at a million assets) unless told to trim.
        crate::budget::release_free_memory();
        let tag = crate::store::version_tag(&mut *store.conn()?, snap.version)?;
        let state = AppState {
            store,
            snapshot: Arc::new(SnapshotCell::new(snap)),
            auth: Arc::new(Auth::new(TokenKeys::from_settings(&config.tokens))),
            held_tag: Arc::new(Mutex::new(tag)),
            deltas: Default::default(),
            wake: Default::default(),
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

    /// Brings the snapshot up to the database's data version. Returns whether it changed.
    /// Usually by the delta: the assets and activities written since the snapshot's
    /// version ([`assets::changes_since`]), applied to a new snapshot that shares the rest. From
    /// scratch when the database moved back in time (a restore: a lower version, or the
    /// same version with another tag after new writes), the areas, categories, activity
    /// kinds or audiences changed, or so much changed that a rebuild is cheaper. One refresh at a time: a
    /// write's own refresh and the refresher would otherwise do the same work twice.
    pub fn refresh(&self) -> Result<bool, StoreError> {
        let mut held_tag = self.held_tag.lock().unwrap_or_else(|e| e.into_inner());
        let previous = self.snapshot.load();
        let changes = assets::changes_since(
            &mut *self.store.conn()?,
            previous.version,
            previous.areas.info.version,
            previous.category_defs(),
            (&previous.activities.kinds, &previous.activities.audiences),
            *held_tag,
            max_delta(previous.len()),
        )?;
        let tag = match changes {
            Changes::None => return Ok(false),
            Changes::Rebuild => {
                let snap = build_snapshot(&self.store, Some(&previous))?;
                let tag = crate::store::version_tag(&mut *self.store.conn()?, snap.version)?;
                self.snapshot.replace(snap);
                drop(previous);
                crate::budget::release_free_memory();
                tag
            }
            Changes::Delta {
                version,
                tag,
                assets,
                activities,
            } => {
                self.install(previous, version, assets, activities);
                tag
            }
        };
        *held_tag = tag;
        Ok(true)
    }

    /// Makes this instance's own write of `asset` public without reading it back, when
    /// the snapshot is at the version right before the write's (`seq`), of the same
    /// history (tag `after`): then the asset is all that changed since. Otherwise (another
    /// write came in between, or a restore) by a refresh; not at all when the snapshot
    /// already has the write.
    pub fn applied(
        &self,
        seq: ChangeSeq,
        after: Option<i64>,
        asset: &Asset,
    ) -> Result<(), StoreError> {
        {
            let mut held_tag = self.held_tag.lock().unwrap_or_else(|e| e.into_inner());
            let previous = self.snapshot.load();
            if previous.version >= seq.version() {
                return Ok(());
            }
            if previous.version + 1 == seq.version() && (held_tag.is_none() || *held_tag == after) {
                self.install(previous, seq.version(), vec![asset.clone()], Vec::new());
                *held_tag = Some(seq.tag());
                self.metrics.own_write_applied();
                return Ok(());
            }
        }
        self.refresh().map(drop)
    }

    /// Replaces `previous` by itself with a delta applied.
    fn install(
        &self,
        previous: Arc<Snapshot>,
        version: i64,
        assets: Vec<Asset>,
        activities: Vec<Activity>,
    ) {
        self.snapshot
            .replace(previous.apply(version, assets, activities));
        // Each delta frees a few copied chunks and tiles, all over the heap: trimmed now
        // and then, so that the resident size stays flat over many writes.
        let deltas = self.deltas.fetch_add(1, Ordering::Relaxed) + 1;
        if deltas % TRIM_EVERY_DELTAS == 0 {
            drop(previous);
            crate::budget::release_free_memory();
        }
    }

    /// The snapshot as of now (drafts and archived too: status is a filter), for the admin
    /// list and import matching. The same structure the public API reads.
    pub fn admin_snapshot(&self) -> Result<Arc<Snapshot>, StoreError> {
        self.refresh()?;
        Ok(self.snapshot.load())
    }

    /// Refreshes the snapshot every refresh interval, or at once when another instance
    /// announces a write (PostgreSQL NOTIFY, see [`listen`]), so it follows writes made
    /// elsewhere (an import, another instance). A failed refresh (the database is down)
    /// keeps serving the last snapshot and tries again next time.
    pub fn spawn_refresher(&self) {
        let state = self.clone();
        let interval = self.config.refresh_interval;
        if let Backend::Postgres(url) = self.store.backend() {
            let (url, wake) = (url.clone(), self.wake.clone());
            let origin = self.store.origin().to_string();
            std::thread::Builder::new()
                .name("snapshot-listen".into())
                .spawn(move || listen(&url, &origin, &wake))
                .expect("spawn the change listener thread");
        }
        std::thread::Builder::new()
            .name("snapshot-refresh".into())
            .spawn(move || {
                let mut keys_synced = Instant::now();
                loop {
                    state.wake.wait(interval);
                    let started = Instant::now();
                    let refreshed = state.refresh();
                    state.metrics.refreshed(&refreshed);
                    match refreshed {
                        Ok(changed) => {
                            if changed {
                                let snap = state.snapshot.load();
                                tracing::info!(
                                    version = snap.version,
                                    assets = snap.len(),
                                    ms = started.elapsed().as_millis() as u64,
                                    "snapshot refreshed"
                                );
                            }
                            if keys_synced.elapsed() >= interval {
                                keys_synced = Instant::now();
                                if let Err(e) = state.sync_api_keys() {
                                    tracing::warn!(error = %e, "API keys not synchronised; using the last ones");
                                }
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "snapshot refresh failed; serving the last snapshot"),
                    }
                }
            })
            .expect("spawn the snapshot refresher thread");
    }
}

/// How many deltas between two trims of freed memory (a trim takes a few milliseconds).
const TRIM_EVERY_DELTAS: u64 = 256;

/// The largest delta applied to a snapshot of `len` assets; beyond it (a big import) a
/// rebuild reads about as much and holds less at once.
fn max_delta(len: usize) -> usize {
    (len / 10).max(10_000)
}

/// A flag the refresher sleeps on: set by the listener, or the interval passes.
#[derive(Default)]
struct Wake {
    set: Mutex<bool>,
    cv: Condvar,
}

impl Wake {
    fn notify(&self) {
        *self.set.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_one();
    }

    /// Waits until notified or `timeout` passes, and clears the flag.
    fn wait(&self, timeout: Duration) {
        let set = self.set.lock().unwrap_or_else(|e| e.into_inner());
        let (mut set, _) = self
            .cv
            .wait_timeout_while(set, timeout, |s| !*s)
            .unwrap_or_else(|e| e.into_inner());
        *set = false;
    }
}

/// Listens on PostgreSQL for the NOTIFY every write sends at commit
/// ([`crate::store::CHANGES_CHANNEL`]) on a connection of its own, and wakes the
/// refresher, unless the write was this process's own (payload `origin`): a write
/// refreshes its own instance before it answers. diesel reads notifications without
/// blocking, so the connection is polled every 10 ms (a local read of the socket) and
/// pinged every 5 s; when it fails it reconnects after a second, the refresher's own
/// interval covering the gap.
fn listen(url: &str, origin: &str, wake: &Wake) {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, PgConnection};
    loop {
        let connected = PgConnection::establish(url)
            .map_err(|e| e.to_string())
            .and_then(|mut c| {
                c.batch_execute(&format!("LISTEN {}", crate::store::CHANGES_CHANNEL))
                    .map_err(|e| e.to_string())?;
                Ok(c)
            });
        let mut conn = match connected {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "change listener not connected; polling only");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        // Anything written while not listening.
        wake.notify();
        let mut pinged = Instant::now();
        let failure = loop {
            let mut woke = false;
            let mut failed = None;
            for n in conn.notifications_iter() {
                match n {
                    Ok(n) => woke |= n.payload != origin,
                    Err(e) => {
                        failed = Some(e.to_string());
                        break;
                    }
                }
            }
            if woke {
                wake.notify();
            }
            if let Some(e) = failed {
                break e;
            }
            if pinged.elapsed() >= Duration::from_secs(5) {
                pinged = Instant::now();
                if let Err(e) = conn.batch_execute("SELECT 1") {
                    break e.to_string();
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        tracing::warn!(error = %failure, "change listener lost its connection; reconnecting");
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Every asset (drafts and archived too) as it is in the database now, for work outside a
/// server such as a command-line import's matching (a closed row must find the closed
/// place).
pub fn full_snapshot(store: &Store) -> Result<Snapshot, StoreError> {
    build_snapshot(store, None)
}

/// Like [`full_snapshot`], the assets read in `readers` ranges on as many connections and
/// threads whatever their number (tests: the result must not depend on it).
pub fn full_snapshot_in_parts(store: &Store, readers: usize) -> Result<Snapshot, StoreError> {
    build_snapshot_in(store, None, Some(readers))
}

/// Builds a snapshot of every asset from scratch, reusing the areas of `previous` when
/// their version is unchanged.
///
/// The assets are read and made entries on every core: each thread reads a range of ids
/// on its own connection and builds its entries from the rows as it decodes them (what a
/// thread allocates it frees itself: batches handed between threads fragmented glibc's
/// arenas). The other connections' transactions must see the version the first one read,
/// or the first reads their ranges too.
fn build_snapshot(store: &Store, previous: Option<&Snapshot>) -> Result<Snapshot, StoreError> {
    build_snapshot_in(store, previous, None)
}

/// [`build_snapshot`], on `readers` connections if given, else one a core (at most
/// [`MAX_READERS`], and only from [`PARALLEL_FROM`] assets).
fn build_snapshot_in(
    store: &Store,
    previous: Option<&Snapshot>,
    readers: Option<usize>,
) -> Result<Snapshot, StoreError> {
    let held = previous.map(|s| s.areas.info.version);
    let mut conn = store.conn()?;
    let started = Instant::now();
    crate::store::map_file(&mut conn, true)?;
    let built = consistent_read(&mut conn, |c| {
        let src = assets::load_snapshot_source(c, held)?;
        let areas = match (src.areas, previous) {
            (Some(rows), _) => Arc::new(AreaSet::build(src.area_info, rows)),
            (None, Some(prev)) => prev.areas.clone(),
            (None, None) => Arc::new(AreaSet::empty()),
        };
        let areas_ms = started.elapsed().as_millis() as u64;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (count, cuts) =
            assets::split_ids(c, readers.unwrap_or(threads.min(MAX_READERS)).max(1))?;
        // Below this many assets a thread and a connection cost more than they save.
        let cuts = if count < PARALLEL_FROM && readers.is_none() {
            Vec::new()
        } else {
            cuts
        };
        let per_part = count as usize / (cuts.len() + 1) + SCAN_SLACK;
        let bounds: Vec<(Option<&str>, Option<&str>)> = std::iter::once(None)
            .chain(cuts.iter().map(|c| Some(c.as_str())))
            .zip(
                cuts.iter()
                    .map(|c| Some(c.as_str()))
                    .chain(std::iter::once(None)),
            )
            .collect();
        // The first part gets room for all: the others are appended to it.
        let read = |c: &mut DbConnection, (from, to): (Option<&str>, Option<&str>)| {
            let room = if from.is_none() {
                count as usize + SCAN_SLACK
            } else {
                per_part
            };
            let mut entries = EntryBuilder::new(&areas, room);
            assets::scan(c, from, to, |a| entries.push(&a))?;
            Ok::<_, StoreError>(entries.finish())
        };
        let parts = std::thread::scope(|s| {
            let others: Vec<_> = bounds[1..]
                .iter()
                .map(|&range| {
                    s.spawn(move || -> Result<Option<Vec<Entry>>, StoreError> {
                        let mut conn = store.conn()?;
                        crate::store::map_file(&mut conn, true)?;
                        let part = consistent_read(&mut conn, |c| {
                            if assets::data_version(c)? != src.version {
                                return Ok(None);
                            }
                            read(c, range).map(Some)
                        });
                        crate::store::map_file(&mut conn, false)?;
                        part
                    })
                })
                .collect();
            let mut parts = vec![read(c, bounds[0])?];
            for (w, &range) in others.into_iter().zip(&bounds[1..]) {
                match w.join().expect("reading assets does not panic") {
                    Ok(Some(part)) => parts.push(part),
                    // Another version (a write in between), or no connection: read here.
                    failed => {
                        if let Err(e) = failed {
                            tracing::warn!(error = %e, "reading assets on another connection");
                        }
                        parts.push(read(c, range)?);
                    }
                }
            }
            Ok::<_, StoreError>(parts)
        })?;
        let read_ms = started.elapsed().as_millis() as u64;
        let snap = Snapshot::from_parts(src.version, &src.categories, parts, areas)
            .with_activities(src.terms.kinds, src.terms.audiences, src.activities);
        tracing::debug!(
            areas_ms,
            read_ms,
            ms = started.elapsed().as_millis() as u64,
            readers = bounds.len(),
            "snapshot built from scratch"
        );
        Ok(snap)
    });
    crate::store::map_file(&mut conn, false)?;
    built
}

/// Connections and threads reading the assets of a whole build, at most.
const MAX_READERS: usize = 4;
/// Assets from which a whole build reads on more than one connection.
const PARALLEL_FROM: i64 = 50_000;
/// Room for a few more entries than counted a part (the cuts are estimates).
const SCAN_SLACK: usize = 1024;
