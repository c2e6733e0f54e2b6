//! The what-if report (`POST /v1/reports/what-if`): where would a new venue reach the most
//! people? The request body and its checks, the figures and the renderings (JSON, CSV)
//! are here.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use utoipa::ToSchema;

use super::gaps::GapCount;
use super::render::{self, int, json, Body};
use super::scope::{self, basis, is_gap, nearest_for, people, weight, Basis, Scope};
use super::scope::{DEFAULT_MAX_DECILE, DEFAULT_THRESHOLD_M, MAX_THRESHOLD_M};
use super::SnapshotReports;
use crate::error::ApiError;
use crate::index::Snapshot;
use crate::wire;
use crate::wire::Format;

pub const MAX_CANDIDATES: usize = 1000;

// Its `Debug` text is part of the cache key (and so of the ETag).
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

/// The body of `POST /v1/reports/what-if`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"category": "library", "threshold_m": 2000, "max_decile": 2,
    "candidates": [{"lat": 53.4084, "lon": -2.9916, "label": "Old library, Smith Street"},
                   {"lat": 53.4300, "lon": -2.9600, "label": "Community hall"}], "pick": 1}))]
pub struct WhatIfRequest {
    /// One category: the kind of venue the sites would be.
    pub category: String,
    /// Default 2000; 1 to 100000.
    pub threshold_m: Option<f64>,
    /// Default 2; 1 to 10.
    pub max_decile: Option<i32>,
    /// Local authority codes to restrict the gap areas to.
    pub la: Option<Vec<String>>,
    /// 1 to 1,000 possible sites.
    pub candidates: Vec<Candidate>,
    /// How many sites to choose together (default 1; at most the number of candidates).
    pub pick: Option<usize>,
}

/// A checked what-if request.
#[derive(Debug)]
pub struct WhatIf {
    pub scope: Scope,
    pub candidates: Vec<Candidate>,
    pub pick: usize,
}

impl WhatIfRequest {
    /// Checks the body against `snap`, in the order and with the messages of the query
    /// parameters of the other reports (a comma-separated `category` or `la` item counts
    /// as several, as it would in a query).
    pub fn validate(self, snap: &Snapshot) -> Result<WhatIf, ApiError> {
        scope::require_areas(snap)?;
        let categories = scope::categories(snap, wire::list("category", [&*self.category])?)?;
        let la = wire::list("la", self.la.iter().flatten().map(String::as_str))?;
        let scope = Scope {
            categories,
            la: scope::local_authorities(snap, la)?,
            threshold_m: threshold(self.threshold_m)?,
            max_decile: max_decile(self.max_decile)?,
        };
        if scope.categories.len() != 1 {
            return Err(ApiError::param("category", "must be exactly one category"));
        }
        let candidates = self.candidates;
        if candidates.is_empty() || candidates.len() > MAX_CANDIDATES {
            return Err(ApiError::param(
                "candidates",
                format!("must hold 1 to {MAX_CANDIDATES} sites"),
            ));
        }
        for (i, c) in candidates.iter().enumerate() {
            if !(c.lat.abs() <= 90.0 && c.lon.abs() <= 180.0) {
                return Err(ApiError::param(
                    &format!("candidates[{i}]"),
                    "lat must be within ±90 and lon within ±180",
                ));
            }
            if c.label.as_ref().is_some_and(|l| l.len() > 200) {
                return Err(ApiError::param(
                    &format!("candidates[{i}].label"),
                    "must be at most 200 characters",
                ));
            }
        }
        let pick = self.pick.unwrap_or(1);
        if pick == 0 || pick > candidates.len() {
            return Err(ApiError::param(
                "pick",
                format!(
                    "must be from 1 to the number of candidates ({})",
                    candidates.len()
                ),
            ));
        }
        Ok(WhatIf {
            scope,
            candidates,
            pick,
        })
    }
}

/// `threshold_m` as `Params::f64_in` checks it, with its message.
fn threshold(t: Option<f64>) -> Result<f64, ApiError> {
    let (min, max) = (1.0, MAX_THRESHOLD_M);
    match t {
        None => Ok(DEFAULT_THRESHOLD_M),
        Some(t) if t.is_finite() && (min..=max).contains(&t) => Ok(t),
        Some(t) => Err(ApiError::param(
            "threshold_m",
            format!(
                "must be a number from {min} to {max}, got {:?}",
                t.to_string()
            ),
        )),
    }
}

/// `max_decile` as `Params::usize_in` checks it, with its message.
fn max_decile(m: Option<i32>) -> Result<i32, ApiError> {
    match m {
        None => Ok(DEFAULT_MAX_DECILE),
        Some(m) if (1..=10).contains(&m) => Ok(m),
        Some(m) => Err(ApiError::param(
            "max_decile",
            format!(
                "must be a whole number from 1 to 10, got {:?}",
                m.to_string()
            ),
        )),
    }
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

/// The figures. `scope.categories` has one category.
pub fn report(
    reports: &SnapshotReports,
    scope: &Scope,
    candidates: &[Candidate],
    pick: usize,
) -> WhatIfReport {
    let snap = reports.snapshot();
    let nearest = nearest_for(reports, &scope.categories);
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

/// The report as JSON or CSV (`format` is `Json` or `Csv`).
pub fn render(reports: &SnapshotReports, w: &WhatIf, format: Format) -> Body {
    let WhatIf {
        scope,
        candidates,
        pick,
    } = w;
    {
        let report = report(reports, scope, candidates, *pick);
        match format {
            Format::Json => json(&report),
            _ => csv(&report),
        }
    }
}

/// One row per candidate, with its place in the greedy picks when it has one.
fn csv(report: &WhatIfReport) -> Body {
    let header = render::header(&[
        "index",
        "label",
        "lat",
        "lon",
        "newly_covered_areas",
        "newly_covered_population",
        "pick_order",
        "added_population",
        "cumulative_population",
    ]);
    render::csv(
        header,
        report.candidates.iter().map(|c| {
            let pick = report
                .picks
                .iter()
                .enumerate()
                .find(|(_, p)| p.index == c.index);
            vec![
                c.index.to_string(),
                c.label.clone().unwrap_or_default(),
                c.lat.to_string(),
                c.lon.to_string(),
                c.newly_covered_areas.to_string(),
                int(c.newly_covered_population),
                pick.map(|(k, _)| (k + 1).to_string()).unwrap_or_default(),
                int(pick.and_then(|(_, p)| p.added_population)),
                int(pick.and_then(|(_, p)| p.cumulative_population)),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::params::Params;

    fn reason(e: ApiError) -> (String, String) {
        match e {
            ApiError::BadParam { name, reason } => (name, reason),
            e => panic!("not a parameter error: {e}"),
        }
    }

    /// The body's numbers are held to the query parameters' rules, with their messages.
    #[test]
    fn body_numbers_follow_the_query_rules() {
        let names = ["threshold_m", "max_decile"];
        for t in [0.0, -0.0, 0.5, 1.0, 2000.25, 100000.0, 100000.5, 1e300] {
            let p = Params::parse(&format!("threshold_m={t}"), &names, &[]).unwrap();
            match (
                p.f64_in("threshold_m", 1.0, MAX_THRESHOLD_M),
                threshold(Some(t)),
            ) {
                (Ok(q), Ok(b)) => assert_eq!(q, Some(b)),
                (Err(q), Err(b)) => assert_eq!(reason(q), reason(b)),
                (q, b) => panic!("{t}: query {q:?}, body {b:?}"),
            }
        }
        for m in [-3, 0, 1, 2, 10, 11] {
            let p = Params::parse(&format!("max_decile={m}"), &names, &[]).unwrap();
            let q = p.usize_in("max_decile", DEFAULT_MAX_DECILE as usize, 1, 10);
            match (q, max_decile(Some(m))) {
                (Ok(q), Ok(b)) => assert_eq!(q as i32, b),
                (Err(q), Err(b)) => assert_eq!(reason(q), reason(b)),
                (q, b) => panic!("{m}: query {q:?}, body {b:?}"),
            }
        }
        assert_eq!(threshold(None).unwrap(), DEFAULT_THRESHOLD_M);
        assert_eq!(max_decile(None).unwrap(), DEFAULT_MAX_DECILE);
    }
}
