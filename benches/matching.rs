//! Criterion benchmark of the import matcher (`decide_all`): 100,000 rows against 100,000
//! published synthetic assets placed where people live. Half of the rows are copies of
//! published assets as another list would give them (name in another case or with "The",
//! moved up to 250 m), half are new places (another seed).
//!
//! `cargo bench --bench matching` (needs ../shared/data).

mod common;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::collections::HashSet;

use community_assets::api::params::CATEGORY_SLUGS as SLUGS;
use community_assets::domain::AssetFields;
use community_assets::import::matching::{decide_all, MatchSettings, Outcome};
use community_assets::index::Snapshot;
use community_assets::synth::{generate, read_populated_points, Rng};

fn bench(c: &mut Criterion) {
    let (assets, categories, _) = common::inputs();
    let areas = read_populated_points(
        &common::data("lsoa2011_centroids_england.csv.gz"),
        &common::data("File_6_-_IoD2019_Population_Denominators.csv.gz"),
    )
    .expect("read ../shared/data");
    let known: HashSet<String> = SLUGS.iter().map(|s| s.to_string()).collect();
    let mut rng = Rng::new(5);
    let mut rows: Vec<AssetFields> = Vec::with_capacity(100_000);
    for a in assets.iter().step_by(2) {
        let mut f = a.fields.clone();
        f.name = match rng.next_u64() % 3 {
            0 => f.name.to_uppercase(),
            1 => format!("The {}", f.name),
            _ => f.name,
        };
        let (r, theta) = (250.0 * rng.unit(), rng.unit() * std::f64::consts::TAU);
        f.lat += r * theta.sin() / 111_195.0;
        f.lon += r * theta.cos() / (111_195.0 * f.lat.to_radians().cos());
        rows.push(f);
    }
    rows.extend(
        generate(&areas, 50_000, 99)
            .iter()
            .map(|raw| AssetFields::parse(raw, &known, true).expect("synthetic rows are valid")),
    );
    let snap = Snapshot::build(1, &categories, assets, Default::default());
    let skip = vec![false; rows.len()];
    let settings = MatchSettings::default();
    let t = std::time::Instant::now();
    let decoded: usize = (0..snap.len() as u32)
        .map(|i| snap.entry(i).asset().fields.name.len())
        .sum();
    println!("decoding every asset: {:?} ({decoded})", t.elapsed());
    let t = std::time::Instant::now();
    let named: usize = (0..snap.len() as u32)
        .map(|i| {
            community_assets::import::matching::Name::new(&snap.entry(i).name_key())
                .words
                .len()
        })
        .sum();
    println!("normalising every name: {:?} ({named})", t.elapsed());
    let t = std::time::Instant::now();
    let decided = decide_all(&rows, &skip, &snap, &settings);
    println!("decide_all once: {:?}", t.elapsed());
    // With a postcode the blocking looks up to `postcode_radius_m` (1 km) for an equal one.
    let with_postcodes: Vec<AssetFields> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| AssetFields {
            postcode: Some(format!("ZZ{} {}AA", i % 99, i % 9)),
            ..r.clone()
        })
        .collect();
    let t = std::time::Instant::now();
    decide_all(&with_postcodes, &skip, &snap, &settings);
    println!(
        "decide_all once, every row with a postcode: {:?}",
        t.elapsed()
    );
    let count = |o: Outcome| decided.iter().flatten().filter(|d| d.outcome == o).count();
    println!(
        "100,000 rows: {} linked, {} to review, {} new",
        count(Outcome::Linked),
        count(Outcome::Review),
        count(Outcome::New)
    );
    c.bench_function("matching_100k_rows_against_100k_assets", |b| {
        b.iter(|| black_box(decide_all(&rows, &skip, &snap, &settings).len()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
