//! Likely duplicates: a row of the same category within 50 m of a published asset (or of
//! an earlier row of the same file) with a similar name, and another source key, is held
//! back for review instead of being inserted twice. Archived rows are never held back nor
//! matched: they are history, not listings.

use rstar::primitives::GeomWithData;
use rstar::RTree;
use serde::Serialize;
use std::collections::HashSet;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ParsedAssets;
use crate::domain::Status;
use crate::geo::sphere::{chord2_for, haversine_m, unit_vector};
use crate::index::Snapshot;

pub const RADIUS_M: f64 = 50.0;

/// A row held back, and what it seems to duplicate.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Duplicate {
    /// Where the row is in the file.
    pub location: String,
    pub name: String,
    pub category: String,
    /// The published asset it resembles, or the earlier row of the file.
    pub duplicate_of_id: Option<Uuid>,
    pub duplicate_of_location: Option<String>,
    pub duplicate_of_name: String,
    pub distance_m: f64,
}

fn words(name: &str) -> HashSet<String> {
    const STOP: [&str; 4] = ["the", "and", "of", "a"];
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP.contains(w))
        .map(str::to_string)
        .collect()
}

/// Names are similar when one's words are all in the other ("Walker" and "Walker Art
/// Gallery"), or they share at least half of their words; but names whose numbers differ
/// ("Studio 1", "Studio 2", "Studio") name different places.
pub fn similar_names(a: &str, b: &str) -> bool {
    let (a, b) = (words(a), words(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let numbers = |w: &HashSet<String>| -> HashSet<String> {
        w.iter()
            .filter(|x| x.chars().all(|c| c.is_ascii_digit()))
            .cloned()
            .collect()
    };
    if numbers(&a) != numbers(&b) {
        return false;
    }
    let shared = a.intersection(&b).count();
    shared == a.len().min(b.len()) || 2 * shared >= a.union(&b).count()
}

type RowPoint = GeomWithData<[f64; 3], usize>;

/// Splits the rows into those to import and the likely duplicates. A row whose source key
/// is already stored (`stored_keys`) is that record, an update, never a duplicate.
pub fn hold_back(
    parsed: ParsedAssets,
    snap: &Snapshot,
    stored_keys: &HashSet<(String, String)>,
) -> (ParsedAssets, Vec<Duplicate>) {
    let ParsedAssets {
        rows,
        locations,
        warnings,
    } = parsed;
    let mut kept = ParsedAssets {
        rows: Vec::with_capacity(rows.len()),
        locations: Vec::with_capacity(rows.len()),
        warnings,
    };
    let mut duplicates = Vec::new();
    let mut seen: RTree<RowPoint> = RTree::new();
    let chord2 = chord2_for(RADIUS_M);
    for (row, location) in rows.into_iter().zip(locations) {
        let q = unit_vector(row.lat, row.lon);
        let key = (
            row.source.clone().unwrap_or_default(),
            row.source_id.clone().unwrap_or_default(),
        );
        // An archived row is history, never public: it cannot be seen twice.
        if stored_keys.contains(&key) || row.status == Status::Archived {
            kept.rows.push(row);
            kept.locations.push(location);
            continue;
        }
        let existing = snap.category_tree(&row.category).and_then(|tree| {
            tree.locate_within_distance(q, chord2).find_map(|p| {
                let e = snap.entry(p.data);
                let d = haversine_m(row.lat, row.lon, e.lat, e.lon);
                if d > RADIUS_M {
                    return None;
                }
                let a = e.asset();
                similar_names(&row.name, &a.fields.name).then(|| Duplicate {
                    location: location.clone(),
                    name: row.name.clone(),
                    category: row.category.clone(),
                    duplicate_of_id: Some(a.id),
                    duplicate_of_location: None,
                    duplicate_of_name: a.fields.name,
                    distance_m: d,
                })
            })
        });
        let in_file = || {
            seen.locate_within_distance(q, chord2).find_map(|p| {
                let other = &kept.rows[p.data];
                let d = haversine_m(row.lat, row.lon, other.lat, other.lon);
                (d <= RADIUS_M
                    && other.category == row.category
                    && similar_names(&row.name, &other.name))
                .then(|| Duplicate {
                    location: location.clone(),
                    name: row.name.clone(),
                    category: row.category.clone(),
                    duplicate_of_id: None,
                    duplicate_of_location: Some(kept.locations[p.data].clone()),
                    duplicate_of_name: other.name.clone(),
                    distance_m: d,
                })
            })
        };
        match existing.or_else(in_file) {
            Some(dup) => duplicates.push(dup),
            None => {
                seen.insert(RowPoint::new(q, kept.rows.len()));
                kept.rows.push(row);
                kept.locations.push(location);
            }
        }
    }
    (kept, duplicates)
}

#[cfg(test)]
mod tests {
    use super::similar_names;

    #[test]
    fn names() {
        assert!(!similar_names(
            "Liverpool 001A Cafe 12",
            "Liverpool 001A Cafe 13"
        ));
        assert!(similar_names("Studio 2", "The Studio 2"));
        assert!(!similar_names(
            "Liverpool Library 12",
            "Liverpool Central Library"
        ));
        assert!(similar_names("Walker Art Gallery", "The Walker"));
        assert!(similar_names(
            "Central Library",
            "Liverpool Central Library"
        ));
        assert!(similar_names("St George's Hall", "St. George's Hall"));
        assert!(!similar_names("Everyman Theatre", "Playhouse Theatre"));
        assert!(!similar_names("", "Library"));
    }
}
