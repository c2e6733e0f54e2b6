//! Criterion benchmark of the access-gap reports over all of England: the 32,844 official
//! areas (IoD2019, with boundaries), 100,000 synthetic assets plus the real libraries, five
//! categories. "cold" starts from an empty report cache (what the first request after a
//! write costs, JSON body included); "cached" is a repeated request.
//!
//! `cargo bench --bench reports` (needs ../shared/data).

mod common;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::sync::Arc;

use community_assets::index::Snapshot;
use community_assets::reports::gaps::{self, GapSort};
use community_assets::reports::{deciles, ReportCache, Scope, SnapshotReports};

const FIVE: [&str; 5] = ["museum", "library", "gallery", "theatre", "cafe"];

fn bench(c: &mut Criterion) {
    let (mut assets, categories, _) = common::inputs();
    assets.extend(common::libraries());
    let areas = Arc::new(common::areas());
    let snap = Snapshot::build(1, &categories, assets, areas.clone());
    let scope = Scope {
        categories: FIVE.map(String::from).to_vec(),
        threshold_m: 2000.0,
        max_decile: 2,
        la: None,
    };
    let gaps = |r: &SnapshotReports| {
        serde_json::to_vec(&gaps::report(r, &scope, GapSort::Population, None)).unwrap()
    };
    let decile = |r: &SnapshotReports| serde_json::to_vec(&deciles::report(r, &scope)).unwrap();

    let mut group = c.benchmark_group("reports");
    group.sample_size(10);
    group.bench_function("access_gaps_5_categories_cold", |b| {
        b.iter(|| black_box(gaps(&ReportCache::new(64 << 20).of(&snap)).len()))
    });
    group.bench_function("access_by_decile_5_categories_cold", |b| {
        b.iter(|| black_box(decile(&ReportCache::new(64 << 20).of(&snap)).len()))
    });
    group.sample_size(100);
    let cache = ReportCache::new(64 << 20);
    group.bench_function("access_gaps_cached", |b| {
        b.iter(|| {
            let reports = cache.of(&snap);
            let r = reports.cached::<()>("gaps", &[], || Ok(("application/json", gaps(&reports))));
            black_box(r.unwrap().body.len())
        })
    });
    group.sample_size(10);
    group.bench_function("area_files_parse_and_index", |b| {
        b.iter(|| black_box(common::areas().len()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
