//! The in-memory read model: an immutable snapshot of the published assets with R-trees.
//!
//! A snapshot is built once from the database and never changed; a newer one replaces it
//! with an atomic pointer swap ([`SnapshotCell`]), so readers never wait for a rebuild.

pub mod areas;
mod entry;

pub mod query;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use rstar::primitives::GeomWithData;
use rstar::RTree;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

use crate::domain::{Asset, Category};

pub use areas::AreaSet;
pub use entry::{build_entries, Entry};
pub use query::{Cursor, Filter, Hit, Page, Search, SortBy};

pub(crate) type SpherePoint = GeomWithData<[f64; 3], u32>;
type PlanePoint = GeomWithData<[f64; 2], u32>;

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
    /// The active vintage's areas (shared between snapshots while it is unchanged).
    pub areas: Arc<AreaSet>,
}

impl Snapshot {
    pub fn build(
        version: i64,
        categories: &[Category],
        published: Vec<Asset>,
        areas: Arc<AreaSet>,
    ) -> Self {
        Self::rebuild(version, categories, published, areas, None)
    }

    /// Builds a snapshot, reusing the entries of `previous` for assets whose version is
    /// unchanged (when the areas are the same): after one write, only that asset's entry
    /// is made again.
    pub fn rebuild(
        version: i64,
        categories: &[Category],
        published: Vec<Asset>,
        areas: Arc<AreaSet>,
        previous: Option<&Snapshot>,
    ) -> Self {
        let mut published = published;
        published.sort_unstable_by_key(|a| a.id);
        let previous = previous.filter(|p| Arc::ptr_eq(&p.areas, &areas));
        let entries = entry::build_entries_reusing(published, &areas, |a| {
            previous
                .and_then(|p| p.get(&a.id))
                .filter(|e| e.version == a.version)
                .cloned()
        });

        let mut by_category: HashMap<String, Vec<SpherePoint>> = HashMap::new();
        let mut all = Vec::with_capacity(entries.len());
        let mut plane = Vec::with_capacity(entries.len());
        let mut by_id = HashMap::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let i = i as u32;
            let p = SpherePoint::new(crate::geo::sphere::unit_vector(e.lat, e.lon), i);
            by_category
                .entry(e.category.to_string())
                .or_default()
                .push(p);
            all.push(p);
            plane.push(PlanePoint::new([e.lon, e.lat], i));
            by_id.insert(e.id, i);
        }
        let counts: HashMap<&str, usize> = by_category
            .iter()
            .map(|(k, v)| (k.as_str(), v.len()))
            .collect();
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
            areas,
        }
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

    /// The great-circle tree of a category's published assets.
    pub fn category_tree(&self, slug: &str) -> Option<&RTree<SpherePoint>> {
        self.sphere_by_category.get(slug)
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
