//! The access-by-decile report (`GET /v1/reports/access-by-decile` and `.svg`): distance to
//! the nearest asset by deprivation decile. Its figures and renderings (JSON, CSV, the
//! chart's inputs) are here, so a new measure is one change in this file.

use serde::Serialize;
use std::collections::HashSet;
use utoipa::ToSchema;

use super::render::{self, int, json, num, Body};
use super::scope::{basis, nearest_for, people, weight, Basis, Scope};
use super::{charts, SnapshotReports};
use crate::wire::Format;

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

/// The figures for all ten deciles (`scope.max_decile` is ignored).
pub fn report(reports: &SnapshotReports, scope: &Scope) -> DecileReport {
    let snap = reports.snapshot();
    let nearest = nearest_for(reports, &scope.categories);
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
    for (_, e) in snap.published_entries() {
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

/// The report as JSON or CSV (`format` is `Json` or `Csv`).
pub fn render(reports: &SnapshotReports, scope: &Scope, format: Format) -> Body {
    {
        let report = report(reports, scope);
        match format {
            Format::Csv => csv(&report),
            _ => json(&report),
        }
    }
}

/// A row per decile, then the ratios as a last row with decile `ratio_1_to_10`.
fn csv(report: &DecileReport) -> Body {
    let header = render::header(&[
        "decile",
        "areas",
        "population",
        "mean_distance_m",
        "median_distance_m",
        "share_beyond_threshold",
        "assets_per_10k",
    ]);
    let x = &report.decile1_to_decile10;
    let ratios = vec![
        "ratio_1_to_10".to_string(),
        num(x.areas),
        num(x.population),
        num(x.mean_distance_m),
        num(x.median_distance_m),
        num(x.share_beyond_threshold),
        num(x.assets_per_10k),
    ];
    let rows = report.deciles.iter().map(|d| {
        vec![
            d.decile.to_string(),
            d.areas.to_string(),
            int(d.population),
            num(d.mean_distance_m),
            num(d.median_distance_m),
            num(d.share_beyond_threshold),
            num(d.assets_per_10k),
        ]
    });
    render::csv(header, rows.chain(std::iter::once(ratios)))
}

/// The SVG chart: mean and median distance and the share beyond the threshold, by decile.
pub fn chart_svg(reports: &SnapshotReports, scope: &Scope) -> Body {
    {
        let report = report(reports, scope);
        let rows: Vec<charts::DecileBar> = report
            .deciles
            .iter()
            .map(|d| charts::DecileBar {
                decile: d.decile as u8,
                mean_distance_m: d.mean_distance_m,
                median_distance_m: d.median_distance_m,
                share_beyond_threshold: d.share_beyond_threshold,
            })
            .collect();
        let title = format!(
            "Distance to the nearest {} by deprivation decile{}",
            scope.categories.join(" or "),
            render::la_suffix(reports.snapshot(), scope)
        );
        render::svg(charts::decile_chart(
            &title,
            &render::chart_basis(reports.snapshot()),
            scope.threshold_m,
            &rows,
        ))
    }
}
