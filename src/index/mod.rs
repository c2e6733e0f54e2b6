//! The in-memory read model: an immutable snapshot of the published assets with R-trees.
//!
//! A snapshot is built once from the database and never changed; a newer one replaces it
//! with an atomic pointer swap ([`SnapshotCell`]), so readers never wait for a rebuild.

pub mod geo;
pub mod query;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use rstar::primitives::GeomWithData;
use rstar::RTree;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

use crate::domain::{Asset, Hours};
use crate::store::models::Category;

pub use query::{Cursor, Filter, Hit, Page, Search, SortBy};

type SpherePoint = GeomWithData<[f64; 3], u32>;
type PlanePoint = GeomWithData<[f64; 2], u32>;

/// One published asset with what queries need precomputed.
pub struct Entry {
    pub asset: Asset,
    /// The asset's JSON object without its closing brace, so that list responses can
    /// append `distance_m` and write items without serialising them again.
    json_open: Box<str>,
    /// Lower-cased name, description and tags, for `q`.
    text: Box<str>,
    /// Lower-cased name, the `sort=name` key.
    name_key: Box<str>,
    hours: Option<Hours>,
}

impl Entry {
    fn new(asset: Asset) -> Self {
        let f = &asset.fields;
        let mut json = serde_json::to_string(&asset).unwrap_or_else(|_| "{}".into());
        json.pop(); // the closing '}'
        let text = format!(
            "{}\n{}\n{}",
            f.name,
            f.description.as_deref().unwrap_or(""),
            f.tags.join(" ")
        )
        .to_lowercase();
        // Stored hours were validated when written; one that no longer parses (a newer
        // parser, a hand edit) is treated as unknown rather than failing the snapshot.
        let hours = f.opening_hours.as_deref().and_then(|h| Hours::parse(h).ok());
        Entry {
            name_key: f.name.to_lowercase().into(),
            json_open: json.into(),
            text: text.into(),
            hours,
            asset,
        }
    }

    /// The asset's JSON object with its closing brace omitted.
    pub fn json_open(&self) -> &str {
        &self.json_open
    }
}

/// A category with its count of published assets.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CategoryCount {
    pub slug: String,
    pub label: String,
    pub description: String,
    /// Published assets in this category.
    pub assets: usize,
}

/// An immutable, queryable copy of the published assets.
pub struct Snapshot {
    /// The database's data version this snapshot was built from.
    pub version: i64,
    pub built_at: DateTime<Utc>,
    entries: Vec<Entry>,
    by_id: HashMap<Uuid, u32>,
    /// One great-circle tree per category, and one over all.
    sphere_by_category: HashMap<String, RTree<SpherePoint>>,
    sphere_all: RTree<SpherePoint>,
    /// Longitude/latitude tree for bounding boxes.
    plane: RTree<PlanePoint>,
    categories: Vec<CategoryCount>,
}

impl Snapshot {
    pub fn build(version: i64, categories: &[Category], published: Vec<Asset>) -> Self {
        let mut published = published;
        published.sort_unstable_by_key(|a| a.id);
        let entries: Vec<Entry> = published.into_iter().map(Entry::new).collect();

        let mut by_category: HashMap<String, Vec<SpherePoint>> = HashMap::new();
        let mut all = Vec::with_capacity(entries.len());
        let mut plane = Vec::with_capacity(entries.len());
        let mut by_id = HashMap::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let i = i as u32;
            let f = &e.asset.fields;
            let p = SpherePoint::new(geo::unit_vector(f.lat, f.lon), i);
            by_category.entry(f.category.clone()).or_default().push(p);
            all.push(p);
            plane.push(PlanePoint::new([f.lon, f.lat], i));
            by_id.insert(e.asset.id, i);
        }
        let counts: HashMap<&str, usize> =
            by_category.iter().map(|(k, v)| (k.as_str(), v.len())).collect();
        let categories = categories
            .iter()
            .map(|c| CategoryCount {
                slug: c.slug.clone(),
                label: c.label.clone(),
                description: c.description.clone(),
                assets: counts.get(c.slug.as_str()).copied().unwrap_or(0),
            })
            .collect();
        Snapshot {
            version,
            built_at: Utc::now(),
            sphere_by_category: by_category
                .into_iter()
                .map(|(k, v)| (k, RTree::bulk_load(v)))
                .collect(),
            sphere_all: RTree::bulk_load(all),
            plane: RTree::bulk_load(plane),
            by_id,
            entries,
            categories,
        }
    }

    pub fn empty() -> Self {
        Self::build(0, &[], Vec::new())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entry(&self, idx: u32) -> &Entry {
        &self.entries[idx as usize]
    }

    pub fn get(&self, id: &Uuid) -> Option<&Entry> {
        self.by_id.get(id).map(|&i| self.entry(i))
    }

    pub fn categories(&self) -> &[CategoryCount] {
        &self.categories
    }

    pub fn is_category(&self, slug: &str) -> bool {
        self.categories.iter().any(|c| c.slug == slug)
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

    /// Installs `s` unless the current snapshot is already as new (two rebuilds racing).
    pub fn store_if_newer(&self, s: Snapshot) {
        let s = Arc::new(s);
        self.0.rcu(|cur| if s.version >= cur.version { s.clone() } else { cur.clone() });
    }
}
