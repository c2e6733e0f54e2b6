//! The local-authorities report (`GET /v1/reports/local-authorities`): local authorities
//! ranked by people living in gap areas. Its figures and renderings (JSON, CSV) are here.

use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

use super::render::{self, int, json, Body};
use super::scope::{basis, is_gap, nearest_for, people, weight, Basis, Scope};
use super::SnapshotReports;
use crate::wire::Format;

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

/// The figures: every local authority in scope, ranked.
pub fn report(reports: &SnapshotReports, scope: &Scope) -> LaReport {
    let snap = reports.snapshot();
    let nearest = nearest_for(reports, &scope.categories);
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

fn csv(report: &LaReport) -> Body {
    let header = render::header(&[
        "rank",
        "la_code",
        "la_name",
        "areas",
        "population",
        "gap_areas",
        "gap_population",
        "gap_share",
    ]);
    render::csv(
        header,
        report.rows.iter().map(|r| {
            vec![
                r.rank.to_string(),
                r.la_code.clone(),
                r.la_name.clone(),
                r.areas.to_string(),
                int(r.population),
                r.gap_areas.to_string(),
                int(r.gap_population),
                r.gap_share.to_string(),
            ]
        }),
    )
}
