//! Criterion benchmark of the in-memory index alone (no HTTP, no database):
//! 100,000 synthetic assets placed where people live, queried at population-weighted centres.
//!
//! `cargo bench --bench index` (needs ../shared/data).

use chrono::Utc;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::collections::HashSet;
use std::path::Path;

use community_assets::domain::{Asset, AssetFields};
use community_assets::index::query::Near;
use community_assets::index::{Filter, Search, Snapshot, SortBy};
use community_assets::store::models::Category;
use community_assets::synth::{generate, read_populated_points, Rng};

const SLUGS: [&str; 9] = [
    "museum",
    "library",
    "gallery",
    "theatre",
    "cafe",
    "arts_centre",
    "heritage",
    "cinema",
    "community_centre",
];

fn inputs() -> (Vec<Asset>, Vec<Category>, Vec<(f64, f64)>) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    let areas = read_populated_points(
        &data.join("lsoa2011_centroids_england.csv.gz"),
        &data.join("File_6_-_IoD2019_Population_Denominators.csv.gz"),
    )
    .expect("read ../shared/data");
    let known: HashSet<String> = SLUGS.iter().map(|s| s.to_string()).collect();
    let now = Utc::now();
    let assets: Vec<Asset> = generate(&areas, 100_000, 2019)
        .iter()
        .map(|raw| Asset {
            id: uuid::Uuid::new_v4(),
            fields: AssetFields::parse(raw, &known, true).expect("synthetic rows are valid"),
            last_verified_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
        .collect();
    let categories: Vec<Category> = SLUGS
        .iter()
        .map(|s| Category {
            slug: s.to_string(),
            label: s.to_string(),
            description: String::new(),
        })
        .collect();
    // Query centres where people live: other synthetic points from another seed.
    let centres = generate(&areas, 1000, 7)
        .iter()
        .map(|r| (r.lat.parse().unwrap_or(52.0), r.lon.parse().unwrap_or(-1.0)))
        .collect();
    (assets, categories, centres)
}

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
