//! The access-gap computations. Distances are from an area's representative point to the
//! nearest published asset (great-circle, metres). An area is a *gap* for a category when
//! that distance is greater than the threshold, or when the category has no asset at all.
//! Measures are weighted by population when every area has one, otherwise by area.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{nearest_by_area, Nearest};
use crate::domain::{Area, AreaSetInfo};
use crate::index::Snapshot;

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
    fn in_la(&self, a: &Area) -> bool {
        self.la.as_ref().is_none_or(|l| l.contains(&a.la_code))
    }
}

/// Description of the data a report was computed from.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Basis {
    /// The area vintage.
    pub vintage: AreaSetInfo,
    /// The data version of the snapshot (changes with every write).
    pub data_version: i64,
    /// `population` when every area has one, otherwise `areas` (each area counts 1).
    #[schema(example = "population")]
    pub weighting: &'static str,
}

fn basis(snap: &Snapshot) -> Basis {
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

fn weight(snap: &Snapshot, a: &Area) -> i64 {
    if snap.areas.has_population() {
        a.population.unwrap_or(0)
    } else {
        1
    }
}

fn people(snap: &Snapshot, n: i64) -> Option<i64> {
    snap.areas.has_population().then_some(n)
}

/// One category's access from one area.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CategoryAccess {
    pub category: String,
    /// To the nearest published asset; null when the category has none.
    pub distance_m: Option<f64>,
    pub asset_id: Option<Uuid>,
    pub gap: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GapRow {
    pub area_code: String,
    pub area_name: String,
    pub la_code: String,
    pub la_name: String,
    pub imd_decile: i32,
    pub population: Option<i64>,
    pub lat: f64,
    pub lon: f64,
    /// Per requested category, in the order requested.
    pub access: Vec<CategoryAccess>,
}

#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct GapCount {
    /// Omitted in the overall count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub gap_areas: usize,
    /// People living in those areas; null without population data.
    pub gap_population: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GapSummary {
    /// Areas in scope (deciles up to max_decile, in the local authorities asked for).
    pub areas: usize,
    pub population: Option<i64>,
    pub per_category: Vec<GapCount>,
    /// Areas that are a gap for at least one requested category.
    pub overall: GapCount,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GapsReport {
    pub parameters: Scope,
    #[serde(flatten)]
    pub basis: Basis,
    pub summary: GapSummary,
    /// Areas in scope that are a gap for at least one requested category.
    pub rows: Vec<GapRow>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapSort {
    /// Most people first.
    Population,
    /// Farthest (largest gap distance over the requested categories) first.
    Distance,
}

/// The nearest-asset arrays of the requested categories, in order.
fn nearest_for(snap: &Snapshot, categories: &[String]) -> Vec<std::sync::Arc<[Option<Nearest>]>> {
    categories
        .iter()
        .map(|c| nearest_by_area(snap, c))
        .collect()
}

fn is_gap(n: &Option<Nearest>, threshold_m: f64) -> bool {
    n.is_none_or(|n| n.distance_m > threshold_m)
}

/// `GET /v1/reports/access-gaps`.
pub fn access_gaps(
    snap: &Snapshot,
    scope: &Scope,
    sort: GapSort,
    limit: Option<usize>,
) -> GapsReport {
    let nearest = nearest_for(snap, &scope.categories);
    let mut per_category: Vec<GapCount> = scope
        .categories
        .iter()
        .map(|c| GapCount {
            category: Some(c.clone()),
            ..Default::default()
        })
        .collect();
    let (mut areas, mut population, mut gap_areas, mut gap_people) = (0, 0i64, 0, 0i64);
    let mut per_people = vec![0i64; scope.categories.len()];
    let mut rows = Vec::new();
    for (i, a) in snap.areas.areas().iter().enumerate() {
        if a.imd_decile > scope.max_decile || !scope.in_la(a) {
            continue;
        }
        let w = weight(snap, a);
        areas += 1;
        population += w;
        let access: Vec<CategoryAccess> = scope
            .categories
            .iter()
            .zip(&nearest)
            .map(|(c, n)| CategoryAccess {
                category: c.clone(),
                distance_m: n[i].map(|n| n.distance_m),
                asset_id: n[i].map(|n| snap.entry(n.idx).id),
                gap: is_gap(&n[i], scope.threshold_m),
            })
            .collect();
        if !access.iter().any(|x| x.gap) {
            continue;
        }
        for (k, x) in access.iter().enumerate() {
            if x.gap {
                per_category[k].gap_areas += 1;
                per_people[k] += w;
            }
        }
        gap_areas += 1;
        gap_people += w;
        rows.push(GapRow {
            area_code: a.code.clone(),
            area_name: a.name.clone(),
            la_code: a.la_code.clone(),
            la_name: a.la_name.clone(),
            imd_decile: a.imd_decile,
            population: a.population,
            lat: a.lat,
            lon: a.lon,
            access,
        });
    }
    for (c, p) in per_category.iter_mut().zip(per_people) {
        c.gap_population = people(snap, p);
    }
    // Rows are in code order; sorts are stable, so ties stay in code order.
    match sort {
        GapSort::Population => rows.sort_by_key(|r| std::cmp::Reverse(r.population.unwrap_or(0))),
        GapSort::Distance => {
            let key = |r: &GapRow| {
                r.access
                    .iter()
                    .filter(|x| x.gap)
                    .map(|x| x.distance_m.unwrap_or(f64::INFINITY))
                    .fold(0.0, f64::max)
            };
            rows.sort_by(|a, b| key(b).total_cmp(&key(a)));
        }
    }
    if let Some(n) = limit {
        rows.truncate(n);
    }
    GapsReport {
        parameters: scope.clone(),
        basis: basis(snap),
        summary: GapSummary {
            areas,
            population: people(snap, population),
            per_category,
            overall: GapCount {
                category: None,
                gap_areas,
                gap_population: people(snap, gap_people),
            },
        },
        rows,
    }
}

/// One decile's access.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct DecileRow {
    pub decile: i32,
    pub areas: usize,
    pub population: Option<i64>,
    /// Weighted mean distance to the nearest asset of any requested category.
    pub mean_distance_m: Option<f64>,
    /// Weighted median: the smallest distance within which at least half the weight lives.
    pub median_distance_m: Option<f64>,
    /// Share (0 to 1) of the weight farther than the threshold.
    pub share_beyond_threshold: Option<f64>,
    /// Published assets of the requested categories located in the decile's areas, per
    /// 10,000 residents; null without population data.
    pub assets_per_10k: Option<f64>,
}

/// Decile 1 divided by decile 10, for each measure (null when decile 10's is zero or
/// missing).
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct DecileRatios {
    pub areas: Option<f64>,
    pub population: Option<f64>,
    pub mean_distance_m: Option<f64>,
    pub median_distance_m: Option<f64>,
    pub share_beyond_threshold: Option<f64>,
    pub assets_per_10k: Option<f64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DecileReport {
    pub parameters: Scope,
    #[serde(flatten)]
    pub basis: Basis,
    pub deciles: Vec<DecileRow>,
    pub decile1_to_decile10: DecileRatios,
}

/// `GET /v1/reports/access-by-decile`. `scope.max_decile` is ignored (all ten deciles).
pub fn access_by_decile(snap: &Snapshot, scope: &Scope) -> DecileReport {
    let nearest = nearest_for(snap, &scope.categories);
    // (distance or None, weight) per area, by decile.
    let mut by_decile: Vec<Vec<(Option<f64>, i64)>> = vec![Vec::new(); 10];
    for (i, a) in snap.areas.areas().iter().enumerate() {
        if !(1..=10).contains(&a.imd_decile) || !scope.in_la(a) {
            continue;
        }
        let d = nearest
            .iter()
            .filter_map(|n| n[i].map(|n| n.distance_m))
            .min_by(f64::total_cmp);
        by_decile[(a.imd_decile - 1) as usize].push((d, weight(snap, a)));
    }
    let wanted: HashSet<&str> = scope.categories.iter().map(String::as_str).collect();
    let mut assets = [0usize; 10];
    for idx in 0..snap.len() as u32 {
        let e = snap.entry(idx);
        let Some(area) = e.area.map(|i| snap.areas.area(i)) else {
            continue;
        };
        if wanted.contains(&*e.category) && scope.in_la(area) && (1..=10).contains(&area.imd_decile)
        {
            assets[(area.imd_decile - 1) as usize] += 1;
        }
    }
    let deciles: Vec<DecileRow> = by_decile
        .into_iter()
        .enumerate()
        .map(|(k, v)| {
            let total: i64 = v.iter().map(|x| x.1).sum();
            let beyond: i64 = v
                .iter()
                .filter(|x| x.0.is_none_or(|d| d > scope.threshold_m))
                .map(|x| x.1)
                .sum();
            let reached: Vec<(f64, i64)> =
                v.iter().filter_map(|&(d, w)| d.map(|d| (d, w))).collect();
            let population = people(snap, total);
            DecileRow {
                decile: k as i32 + 1,
                areas: v.len(),
                population,
                mean_distance_m: weighted_mean(&reached),
                median_distance_m: weighted_median(reached),
                share_beyond_threshold: (total > 0).then(|| beyond as f64 / total as f64),
                assets_per_10k: population
                    .filter(|&p| p > 0)
                    .map(|p| assets[k] as f64 * 10_000.0 / p as f64),
            }
        })
        .collect();
    let ratio = |f: &dyn Fn(&DecileRow) -> Option<f64>| match (f(&deciles[0]), f(&deciles[9])) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
        _ => None,
    };
    let decile1_to_decile10 = DecileRatios {
        areas: ratio(&|r| Some(r.areas as f64)),
        population: ratio(&|r| r.population.map(|p| p as f64)),
        mean_distance_m: ratio(&|r| r.mean_distance_m),
        median_distance_m: ratio(&|r| r.median_distance_m),
        share_beyond_threshold: ratio(&|r| r.share_beyond_threshold),
        assets_per_10k: ratio(&|r| r.assets_per_10k),
    };
    DecileReport {
        parameters: scope.clone(),
        basis: basis(snap),
        deciles,
        decile1_to_decile10,
    }
}

fn weighted_mean(v: &[(f64, i64)]) -> Option<f64> {
    let w: i64 = v.iter().map(|x| x.1).sum();
    (w > 0).then(|| v.iter().map(|x| x.0 * x.1 as f64).sum::<f64>() / w as f64)
}

/// The smallest distance d such that the weight at distances <= d is at least half.
fn weighted_median(mut v: Vec<(f64, i64)>) -> Option<f64> {
    let total: i64 = v.iter().map(|x| x.1).sum();
    if total <= 0 {
        return None;
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut acc = 0;
    for (d, w) in v {
        acc += w;
        if 2 * acc >= total {
            return Some(d);
        }
    }
    None
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LaRow {
    /// 1 = most people in gap areas (ties: larger share, then code).
    pub rank: usize,
    pub la_code: String,
    pub la_name: String,
    /// All areas of the local authority, and its residents.
    pub areas: usize,
    pub population: Option<i64>,
    /// Areas in deciles up to max_decile that are a gap for at least one category.
    pub gap_areas: usize,
    pub gap_population: Option<i64>,
    /// gap_population / population (gap_areas / areas without population data).
    pub gap_share: f64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LaReport {
    pub parameters: Scope,
    #[serde(flatten)]
    pub basis: Basis,
    pub rows: Vec<LaRow>,
}

/// `GET /v1/reports/local-authorities`: every local authority (in scope), ranked.
pub fn local_authorities(snap: &Snapshot, scope: &Scope) -> LaReport {
    let nearest = nearest_for(snap, &scope.categories);
    // la_code -> (name, areas, weight, gap areas, gap weight)
    let mut las: HashMap<&str, (&str, usize, i64, usize, i64)> = HashMap::new();
    for (i, a) in snap.areas.areas().iter().enumerate() {
        if !scope.in_la(a) {
            continue;
        }
        let w = weight(snap, a);
        let la = las.entry(&a.la_code).or_insert((&a.la_name, 0, 0, 0, 0));
        la.1 += 1;
        la.2 += w;
        if a.imd_decile <= scope.max_decile
            && nearest.iter().any(|n| is_gap(&n[i], scope.threshold_m))
        {
            la.3 += 1;
            la.4 += w;
        }
    }
    let mut rows: Vec<LaRow> = las
        .into_iter()
        .map(|(code, (name, areas, w, gap_areas, gap_w))| LaRow {
            rank: 0,
            la_code: code.to_string(),
            la_name: name.to_string(),
            areas,
            population: people(snap, w),
            gap_areas,
            gap_population: people(snap, gap_w),
            gap_share: if w > 0 { gap_w as f64 / w as f64 } else { 0.0 },
        })
        .collect();
    let key = |r: &LaRow| r.gap_population.unwrap_or(r.gap_areas as i64);
    rows.sort_by(|a, b| {
        key(b)
            .cmp(&key(a))
            .then(b.gap_share.total_cmp(&a.gap_share))
            .then(a.la_code.cmp(&b.la_code))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    LaReport {
        parameters: scope.clone(),
        basis: basis(snap),
        rows,
    }
}

/// A possible new site.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    #[schema(example = 53.4084)]
    pub lat: f64,
    #[schema(example = -2.9916)]
    pub lon: f64,
    #[schema(example = "Old library, Smith Street")]
    pub label: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CandidateResult {
    /// Position in the request's `candidates`.
    pub index: usize,
    pub label: Option<String>,
    pub lat: f64,
    pub lon: f64,
    /// Gap areas (in scope) whose representative point is within the threshold of the site.
    pub newly_covered_areas: usize,
    /// People living in them (areas without population data).
    pub newly_covered_population: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Pick {
    pub index: usize,
    pub label: Option<String>,
    /// Covered by this pick and by none of the earlier ones.
    pub added_areas: usize,
    pub added_population: Option<i64>,
    pub cumulative_areas: usize,
    pub cumulative_population: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WhatIfReport {
    pub parameters: Scope,
    #[serde(flatten)]
    pub basis: Basis,
    /// Gap areas in scope today, and their people.
    pub baseline: GapCount,
    pub candidates: Vec<CandidateResult>,
    /// Greedy maximum coverage: each pick adds the most people not yet covered (ties: the
    /// earlier candidate). Stops early when no candidate adds anyone.
    pub picks: Vec<Pick>,
}

/// `POST /v1/reports/what-if`. `scope.categories` has one category.
pub fn what_if(
    snap: &Snapshot,
    scope: &Scope,
    candidates: &[Candidate],
    pick: usize,
) -> WhatIfReport {
    let nearest = nearest_for(snap, &scope.categories);
    let gap = |i: usize| {
        let a = snap.areas.area(i as u32);
        a.imd_decile <= scope.max_decile
            && scope.in_la(a)
            && nearest.iter().all(|n| is_gap(&n[i], scope.threshold_m))
    };
    let mut baseline = GapCount::default();
    let mut baseline_w = 0;
    for i in 0..snap.areas.len() {
        if gap(i) {
            baseline.gap_areas += 1;
            baseline_w += weight(snap, snap.areas.area(i as u32));
        }
    }
    baseline.gap_population = people(snap, baseline_w);
    let covers: Vec<Vec<u32>> = candidates
        .iter()
        .map(|c| {
            let mut v: Vec<u32> = snap
                .areas
                .within(c.lat, c.lon, scope.threshold_m)
                .filter(|&i| gap(i as usize))
                .collect();
            v.sort_unstable();
            v
        })
        .collect();
    let w = |i: &u32| weight(snap, snap.areas.area(*i));
    let results = candidates
        .iter()
        .zip(&covers)
        .enumerate()
        .map(|(index, (c, cov))| CandidateResult {
            index,
            label: c.label.clone(),
            lat: c.lat,
            lon: c.lon,
            newly_covered_areas: cov.len(),
            newly_covered_population: people(snap, cov.iter().map(w).sum()),
        })
        .collect();
    let mut covered: HashSet<u32> = HashSet::new();
    let mut chosen = vec![false; candidates.len()];
    let mut picks: Vec<Pick> = Vec::new();
    let (mut cum_areas, mut cum_w) = (0, 0);
    for _ in 0..pick {
        let best = covers
            .iter()
            .enumerate()
            .filter(|(k, _)| !chosen[*k])
            .map(|(k, cov)| {
                let new: Vec<&u32> = cov.iter().filter(|i| !covered.contains(i)).collect();
                (k, new.iter().map(|i| w(i)).sum::<i64>(), new.len())
            })
            .filter(|&(_, gain, _)| gain > 0)
            .fold(None, |best: Option<(usize, i64, usize)>, c| match best {
                Some(b) if (b.1, b.2) >= (c.1, c.2) => Some(b),
                _ => Some(c),
            });
        let Some((k, gain, n)) = best else { break };
        chosen[k] = true;
        covered.extend(covers[k].iter().copied());
        cum_areas += n;
        cum_w += gain;
        picks.push(Pick {
            index: k,
            label: candidates[k].label.clone(),
            added_areas: n,
            added_population: people(snap, gain),
            cumulative_areas: cum_areas,
            cumulative_population: people(snap, cum_w),
        });
    }
    WhatIfReport {
        parameters: scope.clone(),
        basis: basis(snap),
        baseline,
        candidates: results,
        picks,
    }
}
