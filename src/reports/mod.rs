//! Access-gap reports, computed from the in-memory snapshot and cached with it.
//!
//! The costly part of every report is the nearest published asset of a category for each
//! area; it is computed once per snapshot and category ([`nearest_by_area`]) with the
//! category's R-tree, on all cores, and every report is then an aggregation over it.
//! Rendered bodies are cached per snapshot too, so a repeated report costs a hash lookup;
//! a new snapshot (any write) starts with an empty cache.

pub mod access;
pub mod charts;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use crate::geo::sphere::{haversine_m, unit_vector};
use crate::index::Snapshot;

/// The nearest published asset of a category to an area's representative point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nearest {
    /// The asset's index in the snapshot.
    pub idx: u32,
    pub distance_m: f64,
}

/// A finished response body.
pub struct Rendered {
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub etag: String,
}

type NearestCell = Arc<OnceLock<Arc<[Option<Nearest>]>>>;

/// What one snapshot has computed so far.
#[derive(Default)]
pub struct Cache {
    nearest: Mutex<HashMap<String, NearestCell>>,
    bodies: Mutex<HashMap<String, Arc<Rendered>>>,
}

/// Most rendered bodies kept per snapshot; the cache starts afresh when full.
const MAX_BODIES: usize = 512;

/// The nearest asset of `category` for every area (in area order; `None` when the
/// category has no published asset). Concurrent callers for the same category wait for
/// one computation instead of repeating it.
pub fn nearest_by_area(snap: &Snapshot, category: &str) -> Arc<[Option<Nearest>]> {
    let cell = snap
        .reports
        .nearest
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(category.to_string())
        .or_default()
        .clone();
    cell.get_or_init(|| compute_nearest(snap, category)).clone()
}

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
                    *d = tree.nearest_neighbor(&unit_vector(a.lat, a.lon)).map(|p| {
                        let e = snap.entry(p.data);
                        Nearest {
                            idx: p.data,
                            distance_m: haversine_m(a.lat, a.lon, e.lat, e.lon),
                        }
                    });
                }
            });
        }
    });
    out.into()
}

/// The cached body for `key`, or renders, caches and returns it. The ETag is the
/// snapshot's data version and a hash of the key: equal on every instance for the same
/// data and request.
pub fn cached<E>(
    snap: &Snapshot,
    key: &str,
    render: impl FnOnce() -> Result<(&'static str, Vec<u8>), E>,
) -> Result<Arc<Rendered>, E> {
    let bodies = &snap.reports.bodies;
    if let Some(r) = bodies.lock().unwrap_or_else(|e| e.into_inner()).get(key) {
        return Ok(r.clone());
    }
    let (content_type, body) = render()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    let rendered = Arc::new(Rendered {
        content_type,
        body,
        etag: format!("\"{}-{:016x}\"", snap.version, h.finish()),
    });
    let mut map = bodies.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= MAX_BODIES {
        map.clear();
    }
    map.insert(key.to_string(), rendered.clone());
    Ok(rendered)
}
