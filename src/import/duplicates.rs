//! Likely duplicates: a row of the same category within 50 m of a published asset (or of
//! an earlier row of the same file) with a similar name, and another source key, is held
//! back for review instead of being inserted twice. Archived rows are never held back nor
//! matched: they are history, not listings.
//!
//! The check is O(n log n) for n rows, also for the adversarial file of thousands of rows
//! at one point with unrelated names (where every pair is within the distance), because
//! only rows that could have similar names are ever compared. Similar names share a word,
//! so rows are indexed by word, and only by their *rarest* words (prefix filtering, as in
//! set-similarity joins): with words ordered from the rarest to the most common,
//! - two names sharing at least half of their words share one among the first
//!   `|a| / 2 + 1` words of one and the first `|b| - ceil(2|b|/3) + 1` of the other (the
//!   smaller), since their overlap is at least `ceil((|a| + |b|) / 3)`;
//! - a name whose words are all in another has its rarest word in the other.
//!
//! A word such as "cafe" that every row has is therefore never an index key (except for
//! the name "Cafe" alone), so rows named "Cafe Alpha", "Cafe Beta", ... meet no candidate.
//! Names with other numbers never match, so the numbers are part of every key, and so is
//! the category. Each word's entries are an R-tree once they are many, so only entries
//! within the distance are visited. The result is exactly the pairwise definition
//! ([`hold_back_pairwise`], which the tests compare it with); the match reported is the
//! nearest (the earliest of equals), a published asset before a row of the file.
//!
//! Over 400 lines because the definition and the index it is checked against live
//! together, so that they cannot drift apart.

use rstar::primitives::GeomWithData;
use rstar::RTree;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ParsedAssets;
use crate::domain::{AssetFields, Status};
use crate::geo::sphere::{chord2_for, haversine_m, unit_vector};
use crate::index::Snapshot;

pub const RADIUS_M: f64 = 50.0;

/// A row held back, and what it seems to duplicate.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
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

/// The words of a name that count: lower-cased, split at anything not alphanumeric,
/// without "the", "and", "of" and "a".
fn words(name: &str) -> HashSet<String> {
    const STOP: [&str; 4] = ["the", "and", "of", "a"];
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP.contains(w))
        .map(str::to_string)
        .collect()
}

fn is_number(word: &str) -> bool {
    word.chars().all(|c| c.is_ascii_digit())
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
        w.iter().filter(|x| is_number(x)).cloned().collect()
    };
    if numbers(&a) != numbers(&b) {
        return false;
    }
    let shared = a.intersection(&b).count();
    shared == a.len().min(b.len()) || 2 * shared >= a.union(&b).count()
}

/// Whether the row takes part in the check: an archived row is history, never public, and
/// a row whose key is already stored is that record (an update), never a duplicate.
fn is_checked(row: &AssetFields, stored_keys: &HashSet<(String, String)>) -> bool {
    if row.status == Status::Archived {
        return false;
    }
    let key = (
        row.source.clone().unwrap_or_default(),
        row.source_id.clone().unwrap_or_default(),
    );
    !stored_keys.contains(&key)
}

fn held(
    row: &AssetFields,
    location: &str,
    distance_m: f64,
    of: (Option<Uuid>, Option<String>, String),
) -> Duplicate {
    Duplicate {
        location: location.to_string(),
        name: row.name.clone(),
        category: row.category.clone(),
        duplicate_of_id: of.0,
        duplicate_of_location: of.1,
        duplicate_of_name: of.2,
        distance_m,
    }
}

/// Nearer first, then the earlier.
fn better(candidate: (f64, u32), best: Option<(f64, u32)>) -> bool {
    best.is_none_or(|b| candidate.0 < b.0 || (candidate.0 == b.0 && candidate.1 < b.1))
}

/// Splits the rows into those to import and the likely duplicates, by the definition
/// itself: every row against every published asset and every earlier row kept, O(n²).
/// What [`hold_back`] must equal; for tests and benchmarks.
pub fn hold_back_pairwise(
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
    let mut checked_kept: Vec<usize> = Vec::new();
    let mut duplicates = Vec::new();
    for (row, location) in rows.into_iter().zip(locations) {
        if !is_checked(&row, stored_keys) {
            kept.rows.push(row);
            kept.locations.push(location);
            continue;
        }
        let mut published: Option<(f64, u32)> = None;
        for i in 0..snap.len() as u32 {
            let e = snap.entry(i);
            let d = haversine_m(row.lat, row.lon, e.lat, e.lon);
            if &*e.category == row.category.as_str()
                && d <= RADIUS_M
                && similar_names(&row.name, &e.asset().fields.name)
                && better((d, i), published)
            {
                published = Some((d, i));
            }
        }
        let mut in_file: Option<(f64, u32)> = None;
        for (k, &i) in checked_kept.iter().enumerate() {
            let other = &kept.rows[i];
            let d = haversine_m(row.lat, row.lon, other.lat, other.lon);
            if other.category == row.category
                && d <= RADIUS_M
                && similar_names(&row.name, &other.name)
                && better((d, k as u32), in_file)
            {
                in_file = Some((d, k as u32));
            }
        }
        let dup = match (published, in_file) {
            (Some((d, i)), _) => {
                let a = snap.entry(i).asset();
                Some(held(&row, &location, d, (Some(a.id), None, a.fields.name)))
            }
            (None, Some((d, k))) => {
                let i = checked_kept[k as usize];
                let of = (
                    None,
                    Some(kept.locations[i].clone()),
                    kept.rows[i].name.clone(),
                );
                Some(held(&row, &location, d, of))
            }
            (None, None) => None,
        };
        match dup {
            Some(dup) => duplicates.push(dup),
            None => {
                checked_kept.push(kept.rows.len());
                kept.rows.push(row);
                kept.locations.push(location);
            }
        }
    }
    (kept, duplicates)
}

/// A name as the index sees it: its block (category and numbers) and its words as ranks,
/// rarest first.
struct NameKey {
    block: u32,
    words: Vec<u32>,
}

impl NameKey {
    /// How many of the rarest words are indexed for the "shares half" rule when the
    /// other name is this one or longer (`|n| - ceil(2n/3) + 1`), and when it is shorter
    /// (`n/2 + 1`).
    fn short_prefix(&self) -> &[u32] {
        let n = self.words.len();
        &self.words[..n - (2 * n).div_ceil(3) + 1]
    }

    fn long_prefix(&self) -> &[u32] {
        let n = self.words.len();
        &self.words[..(n / 2 + 1).min(n)]
    }

    /// The similarity rule on two keys of the same block (so with the same numbers).
    fn similar(&self, other: &NameKey) -> bool {
        let (a, b) = (&self.words, &other.words);
        let (mut i, mut j, mut shared) = (0, 0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        shared == a.len().min(b.len()) || 2 * shared >= a.len() + b.len() - shared
    }
}

/// Names as [`NameKey`]s: words interned, blocks numbered, then words ranked by how many
/// names have them (rarest first).
#[derive(Default)]
struct Keys {
    word_ids: HashMap<String, u32>,
    blocks: HashMap<(String, Vec<u32>), u32>,
    counts: Vec<u32>,
}

impl Keys {
    /// The key of a name, with word ids not yet ranked; `None` when it has no words (such
    /// a name is similar to none).
    fn add(&mut self, category: &str, name: &str) -> Option<NameKey> {
        let words = words(name);
        if words.is_empty() {
            return None;
        }
        let mut ids = Vec::with_capacity(words.len());
        let mut numbers = Vec::new();
        for w in words {
            let next = self.word_ids.len() as u32;
            let id = *self.word_ids.entry(w.clone()).or_insert(next);
            if id == next {
                self.counts.push(0);
            }
            self.counts[id as usize] += 1;
            if is_number(&w) {
                numbers.push(id);
            }
            ids.push(id);
        }
        numbers.sort_unstable();
        let next = self.blocks.len() as u32;
        let block = *self
            .blocks
            .entry((category.to_string(), numbers))
            .or_insert(next);
        Some(NameKey { block, words: ids })
    }

    /// Word id -> rank: rarest first, ties by id.
    fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.counts.len() as u32).collect();
        order.sort_unstable_by_key(|&w| (self.counts[w as usize], w));
        let mut rank = vec![0; order.len()];
        for (r, w) in order.into_iter().enumerate() {
            rank[w as usize] = r as u32;
        }
        rank
    }
}

fn ranked(key: Option<NameKey>, rank: &[u32]) -> Option<NameKey> {
    key.map(|mut k| {
        k.words.iter_mut().for_each(|w| *w = rank[*w as usize]);
        k.words.sort_unstable();
        k
    })
}

type Member = GeomWithData<[f64; 3], u32>;

/// Beyond this many entries, a posting is an R-tree.
const TREE_FROM: usize = 32;

/// The entries under one index key, with their positions.
#[derive(Default)]
struct Posting {
    small: Vec<Member>,
    tree: Option<RTree<Member>>,
}

impl Posting {
    fn insert(&mut self, m: Member) {
        match &mut self.tree {
            Some(t) => t.insert(m),
            None => {
                self.small.push(m);
                if self.small.len() > TREE_FROM {
                    self.tree = Some(RTree::bulk_load(std::mem::take(&mut self.small)));
                }
            }
        }
    }

    /// The entries within chord² `chord2` of `q`.
    fn near(&self, q: [f64; 3], chord2: f64, mut f: impl FnMut(u32)) {
        match &self.tree {
            Some(t) => t.locate_within_distance(q, chord2).for_each(|m| f(m.data)),
            None => self
                .small
                .iter()
                .filter(|m| (0..3).map(|i| (m.geom()[i] - q[i]).powi(2)).sum::<f64>() <= chord2)
                .for_each(|m| f(m.data)),
        }
    }
}

/// Names by their rarest words (see the module documentation), with positions.
#[derive(Default)]
struct NameIndex {
    /// `short_prefix` words -> names.
    short: HashMap<(u32, u32), Posting>,
    /// `long_prefix` words -> names.
    long: HashMap<(u32, u32), Posting>,
    /// The rarest word -> names.
    first: HashMap<(u32, u32), Posting>,
    /// Every word -> names.
    all: HashMap<(u32, u32), Posting>,
}

impl NameIndex {
    fn insert(&mut self, key: &NameKey, at: [f64; 3], id: u32) {
        let m = Member::new(at, id);
        let put = |map: &mut HashMap<(u32, u32), Posting>, words: &[u32]| {
            for &w in words {
                map.entry((key.block, w)).or_default().insert(m);
            }
        };
        put(&mut self.short, key.short_prefix());
        put(&mut self.long, key.long_prefix());
        put(&mut self.first, &key.words[..1]);
        put(&mut self.all, &key.words);
    }

    /// Every indexed name within chord² `chord2` of `at` that may be similar to `key`
    /// (a superset of those that are; some more than once).
    fn candidates(&self, key: &NameKey, at: [f64; 3], chord2: f64, mut f: impl FnMut(u32)) {
        let mut probe = |map: &HashMap<(u32, u32), Posting>, words: &[u32]| {
            for &w in words {
                if let Some(p) = map.get(&(key.block, w)) {
                    p.near(at, chord2, &mut f);
                }
            }
        };
        // Sharing half: the other is no longer than this name, or longer.
        probe(&self.short, key.long_prefix());
        probe(&self.long, key.short_prefix());
        // The other's words all in this name: its rarest word is one of them.
        probe(&self.first, &key.words);
        // This name's words all in the other: this rarest word is in it.
        probe(&self.all, &key.words[..1]);
    }
}

/// Splits the rows into those to import and the likely duplicates. A row whose source key
/// is already stored (`stored_keys`) is that record, an update, never a duplicate.
/// Exactly [`hold_back_pairwise`], in O(n log n) (see the module documentation).
pub fn hold_back(
    parsed: ParsedAssets,
    snap: &Snapshot,
    stored_keys: &HashSet<(String, String)>,
) -> (ParsedAssets, Vec<Duplicate>) {
    let chord2 = chord2_for(RADIUS_M);
    let checked: Vec<bool> = parsed
        .rows
        .iter()
        .map(|r| is_checked(r, stored_keys))
        .collect();
    let points: Vec<[f64; 3]> = parsed
        .rows
        .iter()
        .map(|r| unit_vector(r.lat, r.lon))
        .collect();

    // The published assets within the distance of a checked row of their category: each
    // published point looks for a row near it, O(p log n).
    let mut by_category: HashMap<&str, Vec<Member>> = HashMap::new();
    for (i, row) in parsed.rows.iter().enumerate() {
        if checked[i] {
            by_category
                .entry(row.category.as_str())
                .or_default()
                .push(Member::new(points[i], i as u32));
        }
    }
    let mut near_published: Vec<u32> = Vec::new();
    for (category, members) in by_category {
        let Some(published) = snap.category_tree(category) else {
            continue;
        };
        let rows = RTree::bulk_load(members);
        near_published.extend(
            published
                .iter()
                .filter(|p| {
                    rows.locate_within_distance(*p.geom(), chord2)
                        .next()
                        .is_some()
                })
                .map(|p| p.data),
        );
    }
    near_published.sort_unstable();

    // Name keys, words ranked over all of these names.
    let mut keys = Keys::default();
    let published_keys: Vec<Option<NameKey>> = near_published
        .iter()
        .map(|&i| {
            let e = snap.entry(i);
            keys.add(&e.category, e.name_key())
        })
        .collect();
    let row_keys: Vec<Option<NameKey>> = parsed
        .rows
        .iter()
        .zip(&checked)
        .map(|(r, &c)| {
            if c {
                keys.add(&r.category, &r.name)
            } else {
                None
            }
        })
        .collect();
    let rank = keys.ranks();
    let published_keys: Vec<Option<NameKey>> = published_keys
        .into_iter()
        .map(|k| ranked(k, &rank))
        .collect();
    let row_keys: Vec<Option<NameKey>> = row_keys.into_iter().map(|k| ranked(k, &rank)).collect();

    let mut published = NameIndex::default();
    for (j, key) in published_keys.iter().enumerate() {
        if let Some(key) = key {
            let e = snap.entry(near_published[j]);
            published.insert(key, unit_vector(e.lat, e.lon), j as u32);
        }
    }

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
    // The checked rows kept so far, as (index in the file, index in `kept`), and their
    // names by word.
    let mut in_file: Vec<(usize, usize)> = Vec::new();
    let mut in_file_index = NameIndex::default();
    let mut duplicates = Vec::new();
    for (i, (row, location)) in rows.into_iter().zip(locations).enumerate() {
        let Some(key) = &row_keys[i] else {
            kept.rows.push(row);
            kept.locations.push(location);
            continue;
        };
        let q = points[i];
        let distance = |lat: f64, lon: f64| {
            let d = haversine_m(row.lat, row.lon, lat, lon);
            (d <= RADIUS_M).then_some(d)
        };
        let mut best: Option<(f64, u32)> = None;
        published.candidates(key, q, chord2, |j| {
            let idx = near_published[j as usize];
            let e = snap.entry(idx);
            if let Some(d) = distance(e.lat, e.lon) {
                let other = published_keys[j as usize].as_ref();
                if better((d, idx), best) && other.is_some_and(|o| key.similar(o)) {
                    best = Some((d, idx));
                }
            }
        });
        let dup = if let Some((d, idx)) = best {
            let a = snap.entry(idx).asset();
            Some(held(&row, &location, d, (Some(a.id), None, a.fields.name)))
        } else {
            let mut best: Option<(f64, u32)> = None;
            in_file_index.candidates(key, q, chord2, |k| {
                let (file_index, at) = in_file[k as usize];
                let other = &kept.rows[at];
                if let Some(d) = distance(other.lat, other.lon) {
                    let other_key = row_keys[file_index].as_ref();
                    if better((d, k), best) && other_key.is_some_and(|o| key.similar(o)) {
                        best = Some((d, k));
                    }
                }
            });
            best.map(|(d, k)| {
                let at = in_file[k as usize].1;
                let of = (
                    None,
                    Some(kept.locations[at].clone()),
                    kept.rows[at].name.clone(),
                );
                held(&row, &location, d, of)
            })
        };
        match dup {
            Some(dup) => duplicates.push(dup),
            None => {
                in_file_index.insert(key, q, in_file.len() as u32);
                in_file.push((i, kept.rows.len()));
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
