//! Criterion benchmark of the in-memory index alone (no HTTP, no database):
//! 100,000 synthetic assets placed where people live, queried at population-weighted centres.
//!
//! `cargo bench --bench index` (needs ../shared/data).

mod common;

use chrono::Utc;
use common::inputs;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

use community_assets::index::query::Near;
use community_assets::index::{Filter, Search, Snapshot, SortBy};
use community_assets::synth::Rng;

/// The benchmark query: 2 km around a point, nearest first, 50 a page.
fn near_2km(lat: f64, lon: f64, filter: Filter) -> Search {
    Search {
        near: Some(Near {
            lat,
            lon,
            radius_m: 2000.0,
        }),
        bbox: None,
        filter,
        sort: SortBy::Distance,
        limit: 50,
        after: None,
    }
}

fn bench(c: &mut Criterion) {
    let (assets, categories, centres) = inputs();
    c.bench_function("snapshot_build_100k", |b| {
        b.iter_batched(
            || assets.clone(),
            |a| black_box(Snapshot::build(2, &categories, a, Default::default()).len()),
            criterion::BatchSize::LargeInput,
        )
    });
    let snap = Snapshot::build(1, &categories, assets, Default::default());
    let mut rng = Rng::new(1);
    let mut centre = move || centres[(rng.next_u64() % centres.len() as u64) as usize];

    c.bench_function("near_2000m_limit_50", |b| {
        b.iter(|| {
            let (lat, lon) = centre();
            black_box(snap.search(&near_2km(lat, lon, Filter::default())).total)
        })
    });
    let museum = vec!["museum".to_string()];
    c.bench_function("nearest_museum_k10", |b| {
        b.iter(|| {
            let (lat, lon) = centre();
            black_box(snap.nearest(lat, lon, Some(&museum), 10).len())
        })
    });
    c.bench_function("near_2000m_open_now_wheelchair", |b| {
        let at = community_assets::domain::hours::london_time(Utc::now());
        b.iter(|| {
            let (lat, lon) = centre();
            let filter = Filter {
                open_at: Some(at),
                wheelchair: Some(community_assets::domain::Wheelchair::Limited),
                ..Filter::default()
            };
            black_box(snap.search(&near_2km(lat, lon, filter)).total)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
