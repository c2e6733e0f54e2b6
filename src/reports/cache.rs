//! The report cache: for the current snapshot, the nearest asset of each category for every
//! area, and the rendered bodies.
//!
//! It lives beside the snapshot (in the shared state), not inside it, so that the read model
//! ([`crate::index`]) knows nothing of reports. One *generation* belongs to one snapshot;
//! a request with a newer snapshot starts the next one, and a request still holding an older
//! snapshot computes without caching, so it can neither evict nor fill the newer cache.
//!
//! A report depends only on the areas and on the published assets of its categories. When
//! the newer snapshot was made from the generation's by deltas (its
//! [`ancestors`](Snapshot::ancestors)), the next generation keeps the nearest arrays and the
//! bodies of every category those deltas left alone: an edit of a cafe does not make the
//! library reports cold, nor does an edit of a library that leaves its place, category
//! and status (a report reads nothing else of an asset). A kept body still names the data version it was computed at. The
//! nearest array of a category a few assets of which changed is updated from its last one
//! (only areas whose nearest asset changed ask the tree again), not computed afresh.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};

use rstar::primitives::GeomWithData;
use rstar::PointDistance;

use crate::domain::{Area, Status};
use crate::geo::sphere::{haversine_m, unit_vector};
use crate::index::{Changed, Snapshot, Tiles};

/// The nearest published asset of a category to an area's representative point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nearest {
    /// The asset's index in the snapshot.
    pub idx: u32,
    pub distance_m: f64,
}

/// A finished response body (shared, not copied, by every response that sends it).
pub struct Rendered {
    pub content_type: &'static str,
    pub body: actix_web::web::Bytes,
    pub etag: String,
    /// Counts the body among the bytes alive until the last holder (the cache, a response
    /// being sent) lets go.
    _alive: Alive,
}

/// A body's bytes counted in [`ReportCache::alive_bytes`] while it exists.
struct Alive {
    bytes: usize,
    counter: Arc<AtomicUsize>,
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.counter.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

type NearestCell = Arc<OnceLock<Arc<[Option<Nearest>]>>>;

/// Most rendered bodies kept, whatever their size (the byte bound usually comes first).
const MAX_BODIES: usize = 4096;

/// Which snapshot a generation belongs to. The data version alone is not enough: a restored
/// backup moves it back, and a later write can reach an old number again with other data.
/// The build time orders snapshots (a clock stepped back only costs caching until the next
/// build, never a wrong answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    version: i64,
    built_at: DateTime<Utc>,
}

impl Key {
    fn of(snap: &Snapshot) -> Self {
        Key {
            version: snap.version,
            built_at: snap.built_at,
        }
    }
}

/// What one snapshot has computed so far.
struct Generation {
    key: Key,
    nearest: Mutex<HashMap<String, NearestCell>>,
    /// For a category some of whose assets changed since an earlier generation computed its
    /// nearest array: what to update instead of computing afresh.
    seeds: HashMap<String, Seed>,
    bodies: Mutex<Bodies>,
}

/// Changed assets past which a nearest array is computed afresh rather than updated.
const SEED_MAX: usize = 1024;

/// An earlier nearest array of a category (computed) and the category's published assets
/// that changed since.
#[derive(Clone)]
struct Seed {
    before: NearestCell,
    changed: BTreeSet<u32>,
}

impl Generation {
    fn new(key: Key, max_bytes: usize) -> Arc<Self> {
        Arc::new(Generation {
            key,
            nearest: Default::default(),
            seeds: HashMap::new(),
            bodies: Mutex::new(Bodies {
                max_bytes,
                ..Default::default()
            }),
        })
    }

    /// The generation of a snapshot made from this one's by deltas that changed the
    /// published assets of `changed` (and nothing else a report reads: the areas and the
    /// categories' list make a full build): what the other categories computed is kept.
    /// Asset indexes are stable across deltas, so a kept nearest array stays true.
    fn successor(&self, key: Key, changed: &BTreeMap<String, Changed>) -> Arc<Self> {
        let old = lock(&self.nearest);
        let mut nearest = HashMap::new();
        let mut seeds = HashMap::new();
        for category in old.keys().chain(self.seeds.keys()) {
            let cell = old.get(category);
            let seed = self.seeds.get(category);
            match changed.get(category) {
                None => {
                    if let Some(cell) = cell {
                        nearest.insert(category.clone(), cell.clone());
                    }
                    if let Some(seed) = seed {
                        seeds.insert(category.clone(), seed.clone());
                    }
                }
                Some(Changed::Few(assets)) => {
                    let next = match (cell, seed) {
                        (Some(cell), _) if cell.get().is_some() => Some(Seed {
                            before: cell.clone(),
                            changed: assets.clone(),
                        }),
                        // Never computed here: from this generation's own seed, while the
                        // changes stay few.
                        (_, Some(seed)) if seed.changed.len() + assets.len() <= SEED_MAX => {
                            Some(Seed {
                                before: seed.before.clone(),
                                changed: seed.changed.iter().chain(assets).copied().collect(),
                            })
                        }
                        _ => None,
                    };
                    if let Some(next) = next {
                        seeds.insert(category.clone(), next);
                    }
                }
                Some(Changed::Many) => {}
            }
        }
        drop(old);
        let bodies = lock(&self.bodies).kept(changed);
        Arc::new(Generation {
            key,
            nearest: Mutex::new(nearest),
            seeds,
            bodies: Mutex::new(bodies),
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Rendered bodies, at most `max_bytes` of them: the least recently used go first.
#[derive(Default)]
struct Bodies {
    max_bytes: usize,
    bytes: usize,
    /// Each body with when it was last used and the categories it was computed from.
    map: HashMap<String, Body>,
    clock: u64,
}

struct Body {
    rendered: Arc<Rendered>,
    used: u64,
    categories: Vec<String>,
}

impl Bodies {
    fn get(&mut self, key: &str) -> Option<Arc<Rendered>> {
        self.clock += 1;
        let body = self.map.get_mut(key)?;
        body.used = self.clock;
        Some(body.rendered.clone())
    }

    /// Keeps `r` unless it alone is larger than the bound, evicting the least recently
    /// used bodies until it fits. (A linear scan per eviction: a few thousand entries at
    /// most, and evictions are rare next to the rendering that precedes them.)
    fn put(&mut self, key: &str, r: Arc<Rendered>, categories: &[String]) {
        let size = r.body.len() + key.len();
        if size > self.max_bytes || self.map.contains_key(key) {
            return;
        }
        while self.bytes + size > self.max_bytes || self.map.len() >= MAX_BODIES {
            let Some(oldest) = self.map.iter().min_by_key(|(_, b)| b.used) else {
                break;
            };
            let oldest = oldest.0.clone();
            if let Some(gone) = self.map.remove(&oldest) {
                self.bytes -= gone.rendered.body.len() + oldest.len();
            }
        }
        self.clock += 1;
        self.bytes += size;
        let body = Body {
            rendered: r,
            used: self.clock,
            categories: categories.to_vec(),
        };
        self.map.insert(key.to_string(), body);
    }

    /// The bodies computed from none of the `changed` categories.
    fn kept(&self, changed: &BTreeMap<String, Changed>) -> Bodies {
        let mut kept = Bodies {
            max_bytes: self.max_bytes,
            clock: self.clock,
            ..Default::default()
        };
        for (key, b) in &self.map {
            if !b.categories.iter().any(|c| changed.contains_key(c)) {
                kept.bytes += b.rendered.body.len() + key.len();
                let body = Body {
                    rendered: b.rendered.clone(),
                    used: b.used,
                    categories: b.categories.clone(),
                };
                kept.map.insert(key.clone(), body);
            }
        }
        kept
    }
}

/// The reports cache of the service, shared by every request.
pub struct ReportCache {
    current: Mutex<Option<Arc<Generation>>>,
    max_bytes: usize,
    /// Bytes of rendered bodies alive: cached, or in responses still being sent.
    alive: Arc<AtomicUsize>,
}

impl ReportCache {
    /// A cache keeping at most `max_bytes` of rendered bodies (`REPORT_CACHE_MB`).
    pub fn new(max_bytes: usize) -> Self {
        ReportCache {
            current: Mutex::default(),
            max_bytes,
            alive: Arc::default(),
        }
    }

    /// Bytes of rendered bodies alive now, cached or being sent: a client that reads slowly
    /// keeps its body alive after the cache has let it go, so new costly reports wait while
    /// this is high (see `api::reports`).
    pub fn alive_bytes(&self) -> usize {
        self.alive.load(Ordering::Relaxed)
    }

    /// The bytes of rendered bodies held now, for metrics.
    pub fn bytes(&self) -> usize {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current.as_ref().map_or(0, |g| {
            g.bodies.lock().unwrap_or_else(|e| e.into_inner()).bytes
        })
    }

    /// The reports of `snap`, sharing what earlier requests on the same snapshot computed.
    pub fn of<'a>(&self, snap: &'a Snapshot) -> SnapshotReports<'a> {
        let key = Key::of(snap);
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let generation = match current.as_ref() {
            Some(g) if g.key == key => g.clone(),
            // An in-flight request on a snapshot already replaced: its own, kept nowhere.
            Some(g) if g.key.built_at > key.built_at => Generation::new(key, 0),
            Some(g) => {
                let from = snap.ancestors.iter().find(|a| {
                    g.key
                        == Key {
                            version: a.version,
                            built_at: a.built_at,
                        }
                });
                let next = match from {
                    Some(a) => g.successor(key, &a.changed),
                    None => Generation::new(key, self.max_bytes),
                };
                current.insert(next).clone()
            }
            None => current.insert(Generation::new(key, self.max_bytes)).clone(),
        };
        SnapshotReports {
            snap,
            generation,
            alive: self.alive.clone(),
        }
    }
}

/// One snapshot with its cache generation: reports computed through it are cached for
/// that snapshot only.
pub struct SnapshotReports<'a> {
    snap: &'a Snapshot,
    generation: Arc<Generation>,
    alive: Arc<AtomicUsize>,
}

impl<'a> SnapshotReports<'a> {
    pub fn snapshot(&self) -> &'a Snapshot {
        self.snap
    }

    /// The nearest asset of `category` for every area (in area order; `None` when the
    /// category has no published asset). Concurrent callers for the same category wait for
    /// one computation instead of repeating it.
    pub fn nearest_by_area(&self, category: &str) -> Arc<[Option<Nearest>]> {
        let cell = self
            .generation
            .nearest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(category.to_string())
            .or_default()
            .clone();
        cell.get_or_init(|| {
            let seed = self.generation.seeds.get(category);
            match seed.and_then(|s| Some((s.before.get()?, &s.changed))) {
                Some((before, changed)) => update_nearest(self.snap, category, before, changed),
                None => compute_nearest(self.snap, category),
            }
        })
        .clone()
    }

    /// The body cached for `key`, if any: a request whose answer is cached need not wait
    /// for the work budget.
    pub fn lookup(&self, key: &str) -> Option<Arc<Rendered>> {
        self.generation
            .bodies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
    }

    /// The cached body for `key`, or renders, caches and returns it; `categories` are those
    /// whose published assets it is computed from. The ETag is the snapshot's data version
    /// and a hash of the key: equal on every instance for the same data and request.
    pub fn cached<E>(
        &self,
        key: &str,
        categories: &[String],
        render: impl FnOnce() -> Result<(&'static str, Vec<u8>), E>,
    ) -> Result<Arc<Rendered>, E> {
        if let Some(r) = self.lookup(key) {
            return Ok(r);
        }
        let (content_type, body) = render()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        self.alive.fetch_add(body.len(), Ordering::Relaxed);
        let rendered = Arc::new(Rendered {
            content_type,
            _alive: Alive {
                bytes: body.len(),
                counter: self.alive.clone(),
            },
            body: body.into(),
            etag: format!("\"{}-{:016x}\"", self.snap.version, h.finish()),
        });
        self.generation
            .bodies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(key, rendered.clone(), categories);
        Ok(rendered)
    }
}

/// Of two (squared chord, index) candidates, the nearer; of equally near ones, the lower
/// asset id, so that every instance, and an array updated from a delta, agree whatever
/// the order of the snapshot's entries.
fn nearer(snap: &Snapshot, a: (f64, u32), b: (f64, u32)) -> (f64, u32) {
    let order =
        b.0.total_cmp(&a.0)
            .then_with(|| snap.entry(b.1).id.cmp(&snap.entry(a.1).id));
    if order.is_lt() {
        b
    } else {
        a
    }
}

/// The nearest point of `tree` to `q`, with its squared chord (ties as [`nearer`]).
fn nearest_in(snap: &Snapshot, tree: &Tiles, q: &[f64; 3]) -> Option<(f64, u32)> {
    let mut walk = tree.nearest_neighbor_iter_with_distance_2(q);
    let (first, d2) = walk.next()?;
    let ties = walk.take_while(|(_, d)| *d == d2).map(|(p, d)| (d, p.data));
    Some(ties.fold((d2, first.data), |a, b| nearer(snap, a, b)))
}

/// The nearest of `idx` (an asset of the snapshot) to area `a`.
fn nearest_of(snap: &Snapshot, a: &Area, idx: u32) -> Nearest {
    let e = snap.entry(idx);
    Nearest {
        idx,
        distance_m: haversine_m(a.lat, a.lon, e.lat, e.lon),
    }
}

/// `before` (the category's nearest array on an earlier snapshot) brought up to `snap`,
/// where the published assets `changed` (indexes) of the category changed: an area keeps
/// its nearest asset unless that changed or a changed asset is now nearer; an area whose
/// nearest asset changed asks the tree again.
fn update_nearest(
    snap: &Snapshot,
    category: &str,
    before: &[Option<Nearest>],
    changed: &BTreeSet<u32>,
) -> Arc<[Option<Nearest>]> {
    let areas = snap.areas.areas();
    let Some(tree) = snap.category_tree(category) else {
        return vec![None; areas.len()].into();
    };
    // The same points, and so the same distances, as the tree's.
    let point = |idx: u32| {
        let e = snap.entry(idx);
        GeomWithData::new(unit_vector(e.lat, e.lon), idx)
    };
    let now_in: Vec<_> = changed
        .iter()
        .filter(|&&i| {
            let e = snap.entry(i);
            e.status == Status::Published && &*e.category == category
        })
        .map(|&i| point(i))
        .collect();
    areas
        .iter()
        .zip(before)
        .map(|(a, b)| {
            let q = unit_vector(a.lat, a.lon);
            let kept = b
                .filter(|n| !changed.contains(&n.idx))
                .map(|n| (point(n.idx).distance_2(&q), n.idx));
            let best = match kept {
                Some(k) => Some(
                    now_in
                        .iter()
                        .map(|p| (p.distance_2(&q), p.data))
                        .fold(k, |a, b| nearer(snap, a, b)),
                ),
                None => nearest_in(snap, tree, &q),
            };
            best.map(|(_, idx)| nearest_of(snap, a, idx))
        })
        .collect::<Vec<_>>()
        .into()
}

/// The nearest asset per area with the category's R-tree, on all cores.
fn compute_nearest(snap: &Snapshot, category: &str) -> Arc<[Option<Nearest>]> {
    let areas = snap.areas.areas();
    let mut out = vec![None; areas.len()];
    let Some(tree) = snap.category_tree(category) else {
        return out.into();
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = areas.len().div_ceil(threads).max(2048);
    std::thread::scope(|s| {
        for (slice, dest) in areas.chunks(chunk).zip(out.chunks_mut(chunk)) {
            s.spawn(move || {
                for (a, d) in slice.iter().zip(dest) {
                    *d = nearest_in(snap, tree, &unit_vector(a.lat, a.lon))
                        .map(|(_, idx)| nearest_of(snap, a, idx));
                }
            });
        }
    });
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::AreaSet;

    fn snapshot(version: i64, built_s: i64) -> Snapshot {
        let mut s = Snapshot::build(version, &[], vec![], Arc::new(AreaSet::empty()));
        s.built_at = DateTime::from_timestamp(built_s, 0).unwrap();
        s
    }

    /// The cached body for `key`, or `body` rendered now.
    fn get(cache: &ReportCache, snap: &Snapshot, body: &str) -> Vec<u8> {
        let r = cache
            .of(snap)
            .cached::<()>("key", &[], || Ok(("text/plain", body.into())));
        r.unwrap().body.to_vec()
    }

    #[test]
    fn a_newer_snapshot_starts_afresh_and_an_older_one_caches_nothing() {
        let cache = ReportCache::new(1 << 20);
        let (v1, v2) = (snapshot(1, 100), snapshot(2, 200));
        assert_eq!(get(&cache, &v1, "one"), b"one");
        assert_eq!(get(&cache, &v1, "other"), b"one");
        assert_eq!(get(&cache, &v2, "two"), b"two");
        // A request still on v1 renders for itself, neither evicting nor filling v2's cache.
        assert_eq!(get(&cache, &v1, "late"), b"late");
        assert_eq!(get(&cache, &v1, "later"), b"later");
        assert_eq!(get(&cache, &v2, "other"), b"two");
        let etag = cache.of(&v2).cached::<()>("key", &[], || unreachable!());
        assert!(etag.unwrap().etag.starts_with("\"2-"));
    }

    #[test]
    fn a_delta_keeps_what_the_categories_it_left_alone_computed() {
        use crate::domain::{Asset, AssetFields, Status};
        use uuid::Uuid;
        let now = Utc::now();
        let asset = |n: u64, category: &str| {
            let f = AssetFields::at(format!("A{n}"), category, 51.5, -0.1 + n as f64 * 0.01);
            Asset::new(Uuid::from_u64_pair(0, 1_000_000 - n), f, now)
        };
        let cache = ReportCache::new(1 << 20);
        let body = |snap: &Snapshot, category: &str, text: &str| {
            let r = cache
                .of(snap)
                .cached::<()>(category, &[category.to_string()], || {
                    Ok(("text/plain", text.into()))
                });
            String::from_utf8(r.unwrap().body.to_vec()).unwrap()
        };
        let all = vec![asset(1, "library"), asset(2, "museum"), asset(3, "cafe")];
        let v1 = Snapshot::build(1, &[], all, Arc::new(AreaSet::empty()));
        body(&v1, "library", "library 1");
        body(&v1, "museum", "museum 1");
        body(&v1, "cafe", "cafe 1");

        // A library renamed (no report reads names), and a draft cafe (nor drafts).
        let mut library = asset(1, "library");
        library.fields.name = "Renamed".into();
        let mut draft = asset(4, "cafe");
        draft.fields.status = Status::Draft;
        let v2 = v1.apply(2, vec![library, draft], vec![]);
        assert_eq!(body(&v2, "library", "library 2"), "library 1");
        assert_eq!(body(&v2, "museum", "museum 2"), "museum 1");
        assert_eq!(body(&v2, "cafe", "cafe 2"), "cafe 1");

        // A museum moved changes museums.
        let mut museum = asset(2, "museum");
        museum.fields.lat += 0.001;
        let v2 = v2.apply(2, vec![museum], vec![]);
        assert_eq!(body(&v2, "library", "library 2"), "library 1");
        assert_eq!(body(&v2, "museum", "museum 2"), "museum 2");
        assert_eq!(body(&v2, "cafe", "cafe 2"), "cafe 1");

        // A library that becomes a museum changes both; a cafe archived changes cafes.
        let mut archived = asset(3, "cafe");
        archived.fields.status = Status::Archived;
        let v3 = v2.apply(3, vec![asset(1, "museum"), archived], vec![]);
        assert_eq!(body(&v3, "library", "library 3"), "library 3");
        assert_eq!(body(&v3, "museum", "museum 3"), "museum 3");
        assert_eq!(body(&v3, "cafe", "cafe 3"), "cafe 3");

        // Two deltas on, the first never seen by the cache: kept through the lineage.
        let v4 = v3.apply(4, vec![asset(5, "cafe")], vec![]);
        let v5 = v4.apply(5, vec![asset(6, "theatre")], vec![]);
        assert_eq!(body(&v5, "library", "library 5"), "library 3");
        assert_eq!(body(&v5, "cafe", "cafe 5"), "cafe 5");
        assert!(v5.descends_from(&v5) && v5.descends_from(&v3) && v5.descends_from(&v1));
        assert!(!v3.descends_from(&v5));

        // A full build (a restore, new areas) keeps nothing.
        let v6 = Snapshot::build(6, &[], vec![asset(1, "library")], v5.areas.clone());
        assert_eq!(body(&v6, "library", "library 6"), "library 6");
        assert!(!v6.descends_from(&v5));
    }

    /// Random writes (creates, moves, status and category changes, assets stacked on one
    /// spot for ties); the nearest arrays the cache updates from deltas, asked for at some
    /// snapshots and not others, equal arrays computed afresh, and those of a snapshot built
    /// afresh from the same assets (as another instance would, its entries in another order:
    /// later assets have lower ids).
    #[test]
    fn nearest_arrays_updated_from_deltas_equal_fresh_ones() {
        use crate::domain::{Area, AreaSetInfo, Asset, AssetFields, Status};
        use crate::synth::Rng;
        use uuid::Uuid;
        let mut rng = Rng::new(5);
        let areas: Vec<Area> = (0..400)
            .map(|i| Area {
                code: format!("E{i:08}"),
                name: String::new(),
                la_code: "E0".into(),
                la_name: String::new(),
                nation: "England".into(),
                lat: 51.0 + rng.unit(),
                lon: -1.0 + rng.unit(),
                population: Some(1),
                imd_score: None,
                imd_rank: i + 1,
                imd_decile: 1 + i % 10,
                domains: Default::default(),
                supplementary: Default::default(),
                boundary: None,
            })
            .collect();
        let info = AreaSetInfo {
            version: 1,
            ..Default::default()
        };
        let areas = Arc::new(AreaSet::build(info, areas));
        let now = Utc::now();
        let spots: Vec<(f64, f64)> = (0..12)
            .map(|_| (51.0 + rng.unit(), -1.0 + rng.unit()))
            .collect();
        let random_asset = |rng: &mut Rng, n: u64| {
            let (lat, lon) = *rng.pick(&spots);
            let category = *rng.pick(&["library", "museum"]);
            let mut f = AssetFields::at(format!("A{n}"), category, lat, lon);
            f.status = *rng.pick(&[Status::Published, Status::Published, Status::Draft]);
            Asset::new(Uuid::from_u64_pair(0, n), f, now)
        };
        let mut assets: Vec<Asset> = (0..80).map(|n| random_asset(&mut rng, n)).collect();
        let mut snap = Arc::new(Snapshot::build(1, &[], assets.clone(), areas));
        let cache = ReportCache::new(1 << 20);
        for version in 2..120 {
            // As the database gives a delta: each changed asset once, as it is now.
            let mut delta: HashMap<Uuid, Asset> = HashMap::new();
            for _ in 0..1 + rng.next_u64() % 4 {
                // One change in five creates an asset.
                let n = (rng.next_u64() % (assets.len() as u64 * 5 / 4)).min(assets.len() as u64);
                let a = random_asset(&mut rng, n);
                match assets.get_mut(n as usize) {
                    Some(old) => *old = a.clone(),
                    None => assets.push(a.clone()),
                }
                delta.insert(a.id, a);
            }
            let delta = delta.into_values().collect();
            snap = Arc::new(snap.apply(version, delta, Vec::new()));
            if rng.next_u64() % 3 == 0 {
                continue; // this snapshot's reports are never asked for
            }
            for category in ["library", "museum"] {
                let cached = cache.of(&snap).nearest_by_area(category);
                let fresh = compute_nearest(&snap, category);
                let differ = (0..fresh.len()).find(|&i| cached[i] != fresh[i]);
                assert_eq!(differ, None, "{category} at version {version}");
                if version % 10 == 0 {
                    let other = Snapshot::build(version, &[], assets.clone(), snap.areas.clone());
                    let ids = |s: &Snapshot, a: &[Option<Nearest>]| -> Vec<_> {
                        a.iter()
                            .map(|n| n.map(|n| (s.entry(n.idx).id, n.distance_m)))
                            .collect()
                    };
                    let theirs = compute_nearest(&other, category);
                    assert_eq!(ids(&snap, &cached), ids(&other, &theirs), "{version}");
                }
            }
        }
    }

    #[test]
    fn a_restored_older_version_is_a_newer_snapshot() {
        let cache = ReportCache::new(1 << 20);
        assert_eq!(get(&cache, &snapshot(5, 100), "five"), b"five");
        assert_eq!(get(&cache, &snapshot(3, 200), "three"), b"three");
        // Version 5 again after the restore and two writes: other data, not the old body.
        assert_eq!(get(&cache, &snapshot(5, 300), "new five"), b"new five");
    }

    #[test]
    fn bodies_stay_within_their_byte_bound_least_recently_used_out() {
        // Room for three 100-byte bodies with their keys ("k0".."k9": 2 bytes each).
        let cache = ReportCache::new(310);
        let snap = snapshot(1, 100);
        let body = |n: u8| vec![n; 100];
        let put = |k: &str, n: u8| {
            cache
                .of(&snap)
                .cached::<()>(k, &[], || Ok(("text/plain", body(n))))
                .unwrap()
        };
        put("k1", 1);
        put("k2", 2);
        put("k3", 3);
        assert_eq!(cache.bytes(), 306);
        cache.of(&snap).lookup("k1").unwrap(); // k2 is now the least recently used
        put("k4", 4);
        assert_eq!(cache.bytes(), 306);
        let reports = cache.of(&snap);
        assert!(reports.lookup("k2").is_none(), "least recently used out");
        for k in ["k1", "k3", "k4"] {
            assert!(reports.lookup(k).is_some(), "{k} kept");
        }
        // A body larger than the whole bound is answered but never kept.
        let big = reports
            .cached::<()>("big", &[], || Ok(("text/plain", vec![0; 400])))
            .unwrap();
        assert_eq!(big.body.len(), 400);
        assert!(reports.lookup("big").is_none());
        assert_eq!(cache.bytes(), 306);
    }
}
