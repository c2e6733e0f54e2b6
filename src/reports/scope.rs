//! What a report covers ([`Scope`]) and what it was computed from ([`Basis`]): the checks
//! and weighting every report shares, so that the query parameters and the what-if body
//! are held to the same rules with the same messages.

use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

use super::{Nearest, SnapshotReports};
use crate::domain::{Area, AreaSetInfo};
use crate::error::ApiError;
use crate::index::Snapshot;

pub const DEFAULT_THRESHOLD_M: f64 = 2000.0;
pub const MAX_THRESHOLD_M: f64 = 100_000.0;
pub const DEFAULT_MAX_DECILE: i32 = 2;

// Its `Debug` text is part of the cache keys, and so of the ETags: changing a field
// changes every report's ETag.
/// Which areas and assets a report covers.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Scope {
    pub categories: Vec<String>,
    pub threshold_m: f64,
    /// Areas in IMD deciles 1 to this (1 = most deprived).
    pub max_decile: i32,
    /// Local authority codes; all when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub la: Option<Vec<String>>,
}

impl Scope {
    pub(super) fn in_la(&self, a: &Area) -> bool {
        self.la.as_ref().is_none_or(|l| l.contains(&a.la_code))
    }
}

/// A 409 until areas have been imported: no report means anything without them.
pub fn require_areas(snap: &Snapshot) -> Result<(), ApiError> {
    if snap.areas.is_empty() {
        return Err(ApiError::Conflict(
            "no areas have been imported yet: run `community-assets import areas` (see the README)"
                .into(),
        ));
    }
    Ok(())
}

/// The requested categories (already a normalised list), each one known.
pub fn categories(snap: &Snapshot, list: Option<Vec<String>>) -> Result<Vec<String>, ApiError> {
    let categories =
        list.ok_or_else(|| ApiError::param("category", "is required, e.g. category=museum"))?;
    if let Some(bad) = categories.iter().find(|c| !snap.is_category(c)) {
        return Err(ApiError::param(
            "category",
            format!("{bad:?} is not a category"),
        ));
    }
    Ok(categories)
}

/// The requested local authority codes (a normalised list), upper-cased, each one known.
pub fn local_authorities(
    snap: &Snapshot,
    list: Option<Vec<String>>,
) -> Result<Option<Vec<String>>, ApiError> {
    let Some(codes) = list else { return Ok(None) };
    let codes: Vec<String> = codes.into_iter().map(|c| c.to_uppercase()).collect();
    if let Some(bad) = codes.iter().find(|c| snap.areas.la_name(c).is_none()) {
        return Err(ApiError::param(
            "la",
            format!("no area has local authority code {bad:?}"),
        ));
    }
    Ok(Some(codes))
}

/// Description of the data a report was computed from.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Basis {
    /// The area vintage.
    pub vintage: AreaSetInfo,
    /// The data version the figures were computed at. A later write that changes no
    /// published asset of the report's categories (nor the areas) leaves the report, and
    /// this version, as they were.
    pub data_version: i64,
    /// `population` when every area has one (figures weighted by residents); `areas` when
    /// no population was imported: unweighted, each area counts once, and people counts are
    /// null. The deprivation index is `vintage.index_name` (e.g. `IoD2025`).
    #[schema(example = "population")]
    pub weighting: &'static str,
}

pub(super) fn basis(snap: &Snapshot) -> Basis {
    Basis {
        vintage: snap.areas.info.clone(),
        data_version: snap.version,
        weighting: if snap.areas.has_population() {
            "population"
        } else {
            "areas"
        },
    }
}

/// An area's weight: its residents, or 1 without population data.
pub(super) fn weight(snap: &Snapshot, a: &Area) -> i64 {
    if snap.areas.has_population() {
        a.population.unwrap_or(0)
    } else {
        1
    }
}

/// A count of people, or null without population data.
pub(super) fn people(snap: &Snapshot, n: i64) -> Option<i64> {
    snap.areas.has_population().then_some(n)
}

/// The nearest-asset arrays of the requested categories, in order.
pub(super) fn nearest_for(
    reports: &SnapshotReports,
    categories: &[String],
) -> Vec<Arc<[Option<Nearest>]>> {
    categories
        .iter()
        .map(|c| reports.nearest_by_area(c))
        .collect()
}

/// A gap: farther than the threshold from the nearest asset, or no asset at all.
pub(super) fn is_gap(n: &Option<Nearest>, threshold_m: f64) -> bool {
    n.is_none_or(|n| n.distance_m > threshold_m)
}
