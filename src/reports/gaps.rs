//! The access-gaps report (`GET /v1/reports/access-gaps` and `.svg`): deprived areas far
//! from any asset of a category. Its figures and every rendering (JSON, CSV, GeoJSON, the
//! SVG map's inputs) are here, so a new column is one change in this file.

use serde::Serialize;
use std::collections::HashSet;
use utoipa::ToSchema;
use uuid::Uuid;

use super::render::{self, int, json, num, Body};
use super::scope::{basis, is_gap, nearest_for, people, weight, Basis, Scope};
use super::{charts, SnapshotReports};
use crate::wire::{Format, GEOJSON};

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

/// Row order. The `Debug` names are part of the cache key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapSort {
    /// Most people first.
    Population,
    /// Farthest (largest gap distance over the requested categories) first.
    Distance,
}

// Documentation only, like the one below: `render` builds the document.
/// A gap area as a GeoJSON Feature: its representative point, the row as properties.
#[derive(Serialize, ToSchema)]
pub struct GapFeature {
    #[schema(example = "Feature")]
    pub r#type: String,
    /// The area code.
    pub id: String,
    /// `{"type": "Point", "coordinates": [lon, lat]}`.
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    pub properties: GapRow,
}

/// The access-gaps report as a GeoJSON FeatureCollection.
#[derive(Serialize, ToSchema)]
pub struct GapsFeatureCollection {
    #[schema(example = "FeatureCollection")]
    pub r#type: String,
    pub features: Vec<GapFeature>,
    pub parameters: Scope,
    pub summary: GapSummary,
}

/// The figures: every area in scope that is a gap for at least one requested category,
/// sorted, the first `limit` kept (the summary still counts them all).
pub fn report(
    reports: &SnapshotReports,
    scope: &Scope,
    sort: GapSort,
    limit: Option<usize>,
) -> GapsReport {
    let snap = reports.snapshot();
    let nearest = nearest_for(reports, &scope.categories);
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

/// The report as JSON, CSV (a row per area, three columns per category) or GeoJSON.
pub fn render(
    reports: &SnapshotReports,
    scope: &Scope,
    sort: GapSort,
    limit: Option<usize>,
    format: Format,
) -> Body {
    {
        let report = report(reports, scope, sort, limit);
        match format {
            Format::Json => json(&report),
            Format::Csv => csv(&report),
            Format::GeoJson => geojson(&report),
        }
    }
}

fn csv(report: &GapsReport) -> Body {
    let mut header = render::header(&[
        "area_code",
        "area_name",
        "la_code",
        "la_name",
        "imd_decile",
        "population",
        "lat",
        "lon",
    ]);
    for c in &report.parameters.categories {
        header.extend([
            format!("{c}_distance_m"),
            format!("{c}_asset_id"),
            format!("{c}_gap"),
        ]);
    }
    render::csv(
        header,
        report.rows.iter().map(|r| {
            let mut cells = vec![
                r.area_code.clone(),
                r.area_name.clone(),
                r.la_code.clone(),
                r.la_name.clone(),
                r.imd_decile.to_string(),
                int(r.population),
                r.lat.to_string(),
                r.lon.to_string(),
            ];
            for a in &r.access {
                cells.extend([
                    num(a.distance_m),
                    a.asset_id.map(|i| i.to_string()).unwrap_or_default(),
                    a.gap.to_string(),
                ]);
            }
            cells
        }),
    )
}

/// A FeatureCollection of the gap areas' points ([`GapsFeatureCollection`]), serialized
/// straight from the rows (borrowed, not copied into `serde_json` values: those took ten
/// times the body's size for a moment).
fn geojson(report: &GapsReport) -> Body {
    #[derive(Serialize)]
    struct Point {
        r#type: &'static str,
        coordinates: [f64; 2],
    }
    #[derive(Serialize)]
    struct Feature<'a> {
        r#type: &'static str,
        id: &'a str,
        geometry: Point,
        properties: &'a GapRow,
    }
    #[derive(Serialize)]
    struct Collection<'a> {
        r#type: &'static str,
        features: Vec<Feature<'a>>,
        parameters: &'a Scope,
        summary: &'a GapSummary,
    }
    let features = report
        .rows
        .iter()
        .map(|r| Feature {
            r#type: "Feature",
            id: &r.area_code,
            geometry: Point {
                r#type: "Point",
                coordinates: [r.lon, r.lat],
            },
            properties: r,
        })
        .collect();
    let doc = Collection {
        r#type: "FeatureCollection",
        features,
        parameters: &report.parameters,
        summary: &report.summary,
    };
    json(&doc).map(|(_, b)| (GEOJSON, b))
}

/// The SVG map: area points by decile, the gap areas emphasised, the requested categories'
/// assets marked; all of England or the local authorities in scope.
pub fn map_svg(reports: &SnapshotReports, scope: &Scope) -> Body {
    let snap = reports.snapshot();
    {
        let report = report(reports, scope, GapSort::Population, None);
        let gaps: HashSet<&str> = report.rows.iter().map(|r| r.area_code.as_str()).collect();
        let in_la = |la: &str| scope.la.as_ref().is_none_or(|l| l.iter().any(|c| c == la));
        let areas: Vec<charts::MapArea> = snap
            .areas
            .areas()
            .iter()
            .filter(|a| in_la(&a.la_code))
            .map(|a| charts::MapArea {
                lat: a.lat,
                lon: a.lon,
                decile: Some(a.imd_decile as u8),
                gap: gaps.contains(a.code.as_str()),
            })
            .collect();
        let assets: Vec<(f64, f64)> = snap
            .published_entries()
            .map(|(_, e)| e)
            .filter(|e| scope.categories.iter().any(|c| **c == *e.category))
            .filter(|e| e.area.is_some_and(|i| in_la(&snap.areas.area(i).la_code)))
            .map(|e| (e.lat, e.lon))
            .collect();
        let title = format!(
            "Areas in deciles 1-{} more than {} m from a {}{}{}",
            scope.max_decile,
            scope.threshold_m,
            scope.categories.join(", "),
            if scope.categories.len() > 1 {
                " (any of them)"
            } else {
                ""
            },
            render::la_suffix(snap, scope)
        );
        render::svg(charts::gap_map(
            &title,
            &render::chart_basis(snap),
            &areas,
            &assets,
        ))
    }
}
