//! The in-memory read model: an immutable snapshot of every asset with R-trees.
//!
//! A snapshot is never changed; a newer one (built from scratch, or from the last one and
//! the assets written since, sharing the rest) replaces it with an atomic pointer swap
//! ([`SnapshotCell`]), so readers never wait for a write.

pub mod activities;
pub mod areas;
mod entry;

mod kd;
pub mod query;
pub mod tiles;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use rstar::primitives::GeomWithData;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

use crate::domain::activity::{Activity, Term};
use crate::domain::{Asset, Category, Status};

pub use activities::{Activities, ActivityFilter, ActivitySearch, ActivitySort};
pub use areas::AreaSet;
use entry::Interner;
pub use entry::{build_entries, Entry, EntryBuilder};
pub use query::{Cursor, Filter, Hit, Page, Search, SortBy};

pub(crate) type SpherePoint = GeomWithData<[f64; 3], u32>;
pub use tiles::Tiles;

/// A category with its count of published assets.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CategoryCount {
    pub slug: String,
    pub label: String,
    pub description: String,
    /// Published assets in this category.
    pub assets: usize,
}

/// Entries per chunk: a changed entry copies its chunk, not the list.
const CHUNK: usize = 128;
/// Shards of the id map: a new asset copies one shard.
const ID_SHARDS: usize = 1024;

/// A category's points: the published ones (the public API, reports) and the others
/// (drafts and archived: the admin list, import matching).
#[derive(Clone)]
struct Sets {
    published: Tiles,
    other: Tiles,
}

impl Sets {
    fn of(&self, status: Status) -> &Tiles {
        match status {
            Status::Published => &self.published,
            _ => &self.other,
        }
    }
}

/// An immutable, queryable copy of every asset, whatever its status (status is a filter;
/// the public API reads the published ones only).
///
/// A write makes a new snapshot from the last one ([`Snapshot::apply`]) that shares
/// everything it did not touch: the entries in chunks, the id map in shards, the R-trees in
/// spatial tiles ([`tiles`]), each behind an `Arc`. An old snapshot is freed when its last
/// reader drops it, so memory stays flat however many writes there are.
pub struct Snapshot {
    /// The database's data version this snapshot was built from.
    pub version: i64,
    pub built_at: DateTime<Utc>,
    chunks: Vec<Arc<Vec<Entry>>>,
    len: usize,
    by_id: Vec<Arc<HashMap<Uuid, u32>>>,
    /// Great-circle points per category, in tiles.
    trees: HashMap<String, Sets>,
    /// The categories as the database lists them, and their published counts.
    category_defs: Vec<Category>,
    categories: Vec<CategoryCount>,
    published: usize,
    /// The active vintage's areas (shared between snapshots while it is unchanged).
    pub areas: Arc<AreaSet>,
    /// Shared between a snapshot and those made from it: parsed hours and categories.
    interner: Arc<Mutex<Interner>>,
    /// The activities at the venues ([`activities`]), of the same version.
    pub activities: Activities,
    /// The snapshots this one was made from by deltas, the latest first (at most
    /// [`LINEAGE`]; none after a full build), each with the published assets changed since,
    /// by category: what figures computed per category on one of them may be kept or updated.
    pub ancestors: Arc<Vec<Ancestor>>,
}

/// Ancestors a snapshot remembers ([`Snapshot::ancestors`]).
const LINEAGE: usize = 16;

/// Assets of one category an ancestor remembers as changed, at most: past this it only
/// remembers that the category changed ([`Changed::Many`]).
const CHANGED_MAX: usize = 1024;

/// An earlier snapshot, by its version and build time, and the categories whose published
/// assets came, went or moved between it and this one (their other fields are not
/// remembered: no report reads them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ancestor {
    pub version: i64,
    pub built_at: DateTime<Utc>,
    pub changed: BTreeMap<String, Changed>,
}

/// The published assets of a category that changed since an ancestor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changed {
    /// These indexes, each published in the category before or after (or both).
    Few(BTreeSet<u32>),
    /// More than [`CHANGED_MAX`].
    Many,
}

impl Changed {
    fn insert(&mut self, idx: u32) {
        if let Changed::Few(set) = self {
            set.insert(idx);
            if set.len() > CHANGED_MAX {
                *self = Changed::Many;
            }
        }
    }

    fn union(&self, other: &Changed) -> Changed {
        match (self, other) {
            (Changed::Few(a), Changed::Few(b)) if a.len() + b.len() <= CHANGED_MAX => {
                Changed::Few(a.union(b).copied().collect())
            }
            _ => Changed::Many,
        }
    }
}

fn shard_of(id: &Uuid) -> usize {
    id_shard(id, ID_SHARDS)
}

/// Which of `shards` an id falls in: by its last two bytes, random in UUIDs of version 4
/// and 7 alike. (A version 7 id, as an import makes, begins with its creation time: by its
/// first bytes, every id made within seven weeks would share a shard, and a new asset
/// would copy them all.)
pub(crate) fn id_shard(id: &Uuid, shards: usize) -> usize {
    let b = id.as_bytes();
    (u16::from_le_bytes([b[14], b[15]]) as usize) % shards
}

fn point_of(e: &Entry, idx: u32) -> SpherePoint {
    SpherePoint::new(crate::geo::sphere::unit_vector(e.lat, e.lon), idx)
}

/// Per category, the points of `entries` (by index) in two sets: published, and the others.
fn trees_of(entries: &[Entry]) -> HashMap<String, Sets> {
    let mut points: HashMap<(Arc<str>, bool), Vec<SpherePoint>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        points
            .entry((e.category.clone(), e.status == Status::Published))
            .or_default()
            .push(point_of(e, i as u32));
    }
    let mut trees: HashMap<String, Sets> = HashMap::new();
    let mut keys: Vec<(Arc<str>, bool)> = points.keys().cloned().collect();
    keys.sort_unstable();
    for key in keys {
        let set = Tiles::build(points.remove(&key).unwrap_or_default());
        let sets = trees.entry(key.0.to_string()).or_insert_with(|| Sets {
            published: Tiles::build(Vec::new()),
            other: Tiles::build(Vec::new()),
        });
        if key.1 {
            sets.published = set;
        } else {
            sets.other = set;
        }
    }
    trees
}

impl Snapshot {
    /// Builds a snapshot of `assets` (every status) from scratch.
    pub fn build(
        version: i64,
        categories: &[Category],
        assets: Vec<Asset>,
        areas: Arc<AreaSet>,
    ) -> Self {
        let entries = build_entries(assets, &areas);
        Self::from_parts(version, categories, vec![entries], areas)
    }

    /// Builds a snapshot from scratch from entries built in parts (each an
    /// [`EntryBuilder`]'s, made with `areas`); parts in the order of ids make no sort.
    pub fn from_parts(
        version: i64,
        categories: &[Category],
        parts: Vec<Vec<Entry>>,
        areas: Arc<AreaSet>,
    ) -> Self {
        let mut parts = parts.into_iter();
        let mut entries = parts.next().unwrap_or_default();
        for part in parts {
            entries.extend(part);
        }
        let interner = Interner::default();
        if !entries.is_sorted_by(|a, b| a.id < b.id) {
            entries.sort_unstable_by_key(|e| e.id);
        }
        let len = entries.len();
        // The id map on a thread of its own, beside the trees.
        let (by_id, trees) = std::thread::scope(|scope| {
            let ids = scope.spawn(|| {
                let per_shard = len / ID_SHARDS + len / ID_SHARDS / 4 + 8;
                let mut by_id: Vec<HashMap<Uuid, u32>> = (0..ID_SHARDS)
                    .map(|_| HashMap::with_capacity(per_shard))
                    .collect();
                for (i, e) in entries.iter().enumerate() {
                    by_id[shard_of(&e.id)].insert(e.id, i as u32);
                }
                by_id
            });
            (ids.join().expect("the id map's thread"), trees_of(&entries))
        });
        let mut chunks = Vec::with_capacity(len.div_ceil(CHUNK));
        let mut rest = entries.into_iter().peekable();
        while rest.peek().is_some() {
            chunks.push(Arc::new(rest.by_ref().take(CHUNK).collect::<Vec<_>>()));
        }
        let mut s = Snapshot {
            version,
            built_at: Utc::now(),
            chunks,
            len,
            by_id: by_id.into_iter().map(Arc::new).collect(),
            trees,
            category_defs: categories.to_vec(),
            categories: Vec::new(),
            published: 0,
            areas,
            interner: Arc::new(Mutex::new(interner)),
            activities: Activities::default(),
            ancestors: Arc::default(),
        };
        s.count();
        s
    }

    /// This snapshot with `activities` (every status) and their vocabularies, indexed
    /// from scratch over its venues.
    pub fn with_activities(
        mut self,
        kinds: Vec<Term>,
        audiences: Vec<Term>,
        activities: Vec<Activity>,
    ) -> Self {
        self.activities = Activities::build(Some(&self), kinds, audiences, activities);
        self
    }

    /// The index of the asset of this id, whatever its status.
    pub fn index_of(&self, id: &Uuid) -> Option<u32> {
        self.by_id[shard_of(id)].get(id).copied()
    }

    /// Sets the published counts (overall and per category) from the trees.
    fn count(&mut self) {
        self.published = self.trees.values().map(|s| s.published.len()).sum();
        self.categories = self
            .category_defs
            .iter()
            .map(|c| CategoryCount {
                slug: c.slug.clone(),
                label: c.label.clone(),
                description: c.description.clone(),
                assets: self.trees.get(&c.slug).map_or(0, |s| s.published.len()),
            })
            .collect();
    }

    /// A snapshot of `version`: this one with `changed` (the assets written since, any
    /// status, as they are now) and `activities` (those written since) applied. Shares
    /// every chunk, shard and tile the changes do not touch. Assets are never deleted
    /// (archiving is a status); a restore that removes some is a full rebuild.
    pub fn apply(&self, version: i64, changed: Vec<Asset>, activities: Vec<Activity>) -> Snapshot {
        let mut chunks = self.chunks.clone();
        let mut by_id = self.by_id.clone();
        let mut len = self.len;
        // Per (category, published): points to take out and to put in.
        type Moves = (Vec<SpherePoint>, Vec<SpherePoint>);
        let mut moves: HashMap<(String, bool), Moves> = HashMap::new();
        let mut interner = self.interner.lock().unwrap_or_else(|e| e.into_inner());
        // Venues whose activities' points may move (a move, or a change of status).
        let mut venues: Vec<u32> = Vec::new();
        // Per category, the published assets that came, went or moved: all that a report
        // reads of an asset (its id, category and point); an edit in place leaves them.
        let mut touched: BTreeMap<String, Changed> = BTreeMap::new();
        let mut touch = |e: &Entry, idx: u32| {
            if e.status == Status::Published {
                touched
                    .entry(e.category.to_string())
                    .or_insert(Changed::Few(BTreeSet::new()))
                    .insert(idx);
            }
        };
        for asset in changed {
            let id = asset.id;
            let entry = Entry::new(asset, &mut interner, &self.areas);
            let key = |e: &Entry| (e.category.to_string(), e.status == Status::Published);
            let known = by_id[shard_of(&id)].get(&id).copied();
            match known {
                Some(idx) => {
                    let old = &chunks[idx as usize / CHUNK][idx as usize % CHUNK];
                    let (old_key, new_key) = (key(old), key(&entry));
                    if old.status != entry.status || old.lat != entry.lat || old.lon != entry.lon {
                        venues.push(idx);
                    }
                    if old_key != new_key || old.lat != entry.lat || old.lon != entry.lon {
                        touch(old, idx);
                        touch(&entry, idx);
                        moves.entry(old_key).or_default().0.push(point_of(old, idx));
                        moves
                            .entry(new_key)
                            .or_default()
                            .1
                            .push(point_of(&entry, idx));
                    }
                    Arc::make_mut(&mut chunks[idx as usize / CHUNK])[idx as usize % CHUNK] = entry;
                }
                None => {
                    let idx = len as u32;
                    touch(&entry, idx);
                    len += 1;
                    moves
                        .entry(key(&entry))
                        .or_default()
                        .1
                        .push(point_of(&entry, idx));
                    if len > chunks.len() * CHUNK {
                        chunks.push(Arc::new(Vec::with_capacity(CHUNK)));
                    }
                    Arc::make_mut(chunks.last_mut().expect("a chunk was pushed")).push(entry);
                    Arc::make_mut(&mut by_id[shard_of(&id)]).insert(id, idx);
                }
            }
        }
        drop(interner);
        let mut trees = self.trees.clone();
        for ((category, published), (removed, added)) in moves {
            let sets = trees.entry(category).or_insert_with(|| Sets {
                published: Tiles::build(Vec::new()),
                other: Tiles::build(Vec::new()),
            });
            let set = if published {
                &mut sets.published
            } else {
                &mut sets.other
            };
            *set = set.with_changes(&removed, &added);
        }
        let mut s = Snapshot {
            version,
            built_at: Utc::now(),
            chunks,
            len,
            by_id,
            trees,
            category_defs: self.category_defs.clone(),
            categories: Vec::new(),
            published: 0,
            areas: self.areas.clone(),
            interner: self.interner.clone(),
            activities: Activities::default(),
            ancestors: Arc::new(self.lineage_after(&touched)),
        };
        s.count();
        s.activities = self.activities.apply(self, &s, &venues, activities);
        s
    }

    /// The ancestors of a snapshot made from this one by a delta that changed the
    /// published assets `touched`: this one, then this one's own, each with `touched`
    /// added to what changed since.
    fn lineage_after(&self, touched: &BTreeMap<String, Changed>) -> Vec<Ancestor> {
        let parent = Ancestor {
            version: self.version,
            built_at: self.built_at,
            changed: BTreeMap::new(),
        };
        std::iter::once(&parent)
            .chain(self.ancestors.iter())
            .take(LINEAGE)
            .map(|a| {
                let mut changed = a.changed.clone();
                for (category, t) in touched {
                    let c = changed
                        .entry(category.clone())
                        .or_insert(Changed::Few(BTreeSet::new()));
                    *c = c.union(t);
                }
                Ancestor {
                    changed,
                    ..a.clone()
                }
            })
            .collect()
    }

    /// Whether this snapshot is `other`, or was made from it by at most [`LINEAGE`]
    /// deltas (so it has the same areas and categories; only assets and activities changed).
    pub fn descends_from(&self, other: &Snapshot) -> bool {
        let same = |version: i64, built_at: DateTime<Utc>| {
            version == other.version && built_at == other.built_at
        };
        same(self.version, self.built_at)
            || self.ancestors.iter().any(|a| same(a.version, a.built_at))
    }

    /// Every asset, whatever its status.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Published assets.
    pub fn published_len(&self) -> usize {
        self.published
    }

    pub fn entry(&self, idx: u32) -> &Entry {
        &self.chunks[idx as usize / CHUNK][idx as usize % CHUNK]
    }

    /// Every entry with its index, whatever its status.
    pub fn entries(&self) -> impl Iterator<Item = (u32, &Entry)> {
        self.chunks
            .iter()
            .flat_map(|c| c.iter())
            .enumerate()
            .map(|(i, e)| (i as u32, e))
    }

    /// The published entries with their indexes.
    pub fn published_entries(&self) -> impl Iterator<Item = (u32, &Entry)> {
        self.entries()
            .filter(|(_, e)| e.status == Status::Published)
    }

    /// The asset of this id, whatever its status (the admin side; the public one uses
    /// [`Snapshot::get_published`]).
    pub fn get(&self, id: &Uuid) -> Option<&Entry> {
        self.by_id[shard_of(id)].get(id).map(|&i| self.entry(i))
    }

    /// The asset of this id if it is published.
    pub fn get_published(&self, id: &Uuid) -> Option<&Entry> {
        self.get(id).filter(|e| e.status == Status::Published)
    }

    pub fn categories(&self) -> &[CategoryCount] {
        &self.categories
    }

    /// The categories as stored (to tell whether they changed).
    pub fn category_defs(&self) -> &[Category] {
        &self.category_defs
    }

    pub fn is_category(&self, slug: &str) -> bool {
        self.categories.iter().any(|c| c.slug == slug)
    }

    /// The great-circle points of a category's published assets (reports).
    pub fn category_tree(&self, slug: &str) -> Option<&Tiles> {
        self.trees.get(slug).map(|s| &s.published)
    }

    /// The great-circle points of a category's assets of every status (import matching).
    pub fn category_trees_all(&self, slug: &str) -> impl Iterator<Item = &Tiles> {
        self.trees
            .get(slug)
            .into_iter()
            .flat_map(|s| [&s.published, &s.other])
    }

    /// Tiles over the whole snapshot (for tests and benchmarks).
    pub fn tile_count(&self) -> usize {
        self.trees
            .values()
            .map(|s| s.published.tile_count() + s.other.tile_count())
            .sum()
    }

    /// How many tiles this snapshot shares with `other` (one made from the other by
    /// [`Snapshot::apply`] shares all but the touched ones; a rebuild shares none).
    pub fn shared_tiles(&self, other: &Snapshot) -> usize {
        self.trees
            .iter()
            .filter_map(|(c, s)| other.trees.get(c).map(|o| (s, o)))
            .map(|(s, o)| s.published.shared_with(&o.published) + s.other.shared_with(&o.other))
            .sum()
    }

    /// How this snapshot differs from `other` in content (not in structure): every entry
    /// (JSON, status, position, area), the id map, the category counts and the trees.
    /// Empty when they hold the same. For tests that compare an incrementally maintained
    /// snapshot with a full rebuild.
    pub fn differences(&self, other: &Snapshot) -> Vec<String> {
        let mut out = Vec::new();
        if self.version != other.version {
            out.push(format!("version {} vs {}", self.version, other.version));
        }
        self.activity_differences(other, &mut out);
        if self.len != other.len || self.published != other.published {
            out.push(format!(
                "{} ({} published) vs {} ({} published) entries",
                self.len, self.published, other.len, other.published
            ));
        }
        for (_, e) in self.entries() {
            match other.get(&e.id) {
                None => out.push(format!("{} missing from the other", e.id)),
                Some(o) => {
                    if e.json_open() != o.json_open()
                        || e.status != o.status
                        || (e.lat, e.lon) != (o.lat, o.lon)
                        || e.area != o.area
                        || e.category != o.category
                    {
                        out.push(format!("{} differs", e.id));
                    }
                }
            }
        }
        let counts = |s: &Snapshot| {
            s.categories
                .iter()
                .map(|c| (c.slug.clone(), c.assets))
                .collect::<Vec<_>>()
        };
        if counts(self) != counts(other) {
            out.push(format!(
                "category counts {:?} vs {:?}",
                counts(self),
                counts(other)
            ));
        }
        // Each tree holds exactly the entries of its category and status group.
        for s in [self, other] {
            for (cat, sets) in &s.trees {
                for (published, set) in [(true, &sets.published), (false, &sets.other)] {
                    for p in set.iter() {
                        let e = s.entry(p.data);
                        if *e.category != **cat
                            || (e.status == Status::Published) != published
                            || *p != point_of(e, p.data)
                        {
                            out.push(format!("tree {cat}/{published} holds {} wrongly", e.id));
                        }
                    }
                }
            }
            let in_trees: usize = s
                .trees
                .values()
                .map(|t| t.published.len() + t.other.len())
                .sum();
            if in_trees != s.len {
                out.push(format!(
                    "{in_trees} points in the trees for {} entries",
                    s.len
                ));
            }
        }
        out
    }
}

/// The current snapshot, swapped atomically when a newer one is built.
pub struct SnapshotCell(ArcSwap<Snapshot>);

impl SnapshotCell {
    pub fn new(s: Snapshot) -> Self {
        SnapshotCell(ArcSwap::from_pointee(s))
    }

    pub fn load(&self) -> Arc<Snapshot> {
        self.0.load_full()
    }

    /// Installs `s` in place of the current snapshot.
    pub fn replace(&self, s: Snapshot) {
        self.0.store(Arc::new(s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_at_one_time_spread_over_the_shards() {
        let mut rng = crate::geo::banded::tests::Rng(7);
        let mut used = vec![0usize; ID_SHARDS];
        for _ in 0..20_000 {
            // As an import makes them: version 7, one millisecond, random bits.
            let mut bytes = [0u8; 10];
            bytes[..8].copy_from_slice(&rng.next().to_le_bytes());
            bytes[8..].copy_from_slice(&rng.next().to_le_bytes()[..2]);
            let id =
                uuid::Builder::from_unix_timestamp_millis(1_764_000_000_000, &bytes).into_uuid();
            used[shard_of(&id)] += 1;
        }
        let empty = used.iter().filter(|n| **n == 0).count();
        let fullest = used.iter().max().copied().unwrap_or(0);
        // About 20 an shard: a few empty by chance at most, none holding many.
        assert!(
            empty < 10 && fullest < 60,
            "{empty} empty, fullest {fullest}"
        );
    }
}
