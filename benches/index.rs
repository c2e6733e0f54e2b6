//! Criterion benchmark of the in-memory index alone (no HTTP, no database):
//! 100,000 synthetic assets placed where people live, queried at population-weighted centres;
//! and at 1,000,000 (set `INDEX_BENCH_1M=0` to skip): a write's delta applied to the
//! snapshot (one asset edited in place, one moved) and the nearby query at that density.
//!
//! `cargo bench --bench index` (needs ../shared/data).

mod common;

use chrono::Utc;
use common::{inputs, inputs_of};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

use community_assets::domain::Status;
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

/// At 1,000,000 assets: what a write costs the snapshot, and nearby at density.
fn bench_1m(c: &mut Criterion) {
    if std::env::var("INDEX_BENCH_1M").is_ok_and(|v| v == "0") {
        return;
    }
    let (assets, categories, centres) = inputs_of(1_000_000);
    let started = std::time::Instant::now();
    let snap = Snapshot::build(1, &categories, assets, Default::default());
    eprintln!(
        "built 1,000,000 in {:.1} s: {} tiles",
        started.elapsed().as_secs_f64(),
        snap.tile_count()
    );
    let mut rng = Rng::new(3);
    let mut pick = {
        let snap = &snap;
        move || {
            snap.entry((rng.next_u64() % snap.len() as u64) as u32)
                .asset()
        }
    };
    c.bench_function("apply_delta_1_asset_edit_1m", |b| {
        b.iter_batched(
            || {
                let mut a = pick();
                a.fields.name.push_str(" (edited)");
                a.version += 1;
                vec![a]
            },
            |delta| black_box(snap.apply(2, delta, Vec::new()).len()),
            criterion::BatchSize::SmallInput,
        )
    });
    let mut rng = Rng::new(4);
    let mut pick = {
        let snap = &snap;
        move || {
            snap.entry((rng.next_u64() % snap.len() as u64) as u32)
                .asset()
        }
    };
    c.bench_function("apply_delta_1_asset_move_1m", |b| {
        b.iter_batched(
            || {
                let mut a = pick();
                a.fields.lat += 0.01;
                a.version += 1;
                vec![a]
            },
            |delta| black_box(snap.apply(2, delta, Vec::new()).len()),
            criterion::BatchSize::SmallInput,
        )
    });
    // The admin list unfiltered (every status, by name), first page and a later one.
    let mut list = Search {
        near: None,
        bbox: None,
        filter: Filter {
            statuses: Some(vec![Status::Published, Status::Draft, Status::Archived]),
            ..Filter::default()
        },
        sort: SortBy::Name,
        limit: 50,
        after: None,
    };
    c.bench_function("list_admin_by_name_limit_50_1m", |b| {
        b.iter(|| black_box(snap.search(&list).total))
    });
    for _ in 0..20 {
        list.after = snap.search(&list).next;
    }
    c.bench_function("list_admin_by_name_page_21_1m", |b| {
        b.iter(|| black_box(snap.search(&list).total))
    });
    let mut rng = Rng::new(1);
    let mut centre = move || centres[(rng.next_u64() % centres.len() as u64) as usize];
    c.bench_function("near_2000m_limit_50_1m", |b| {
        b.iter(|| {
            let (lat, lon) = centre();
            black_box(snap.search(&near_2km(lat, lon, Filter::default())).total)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench, bench_1m
}
criterion_main!(benches);
