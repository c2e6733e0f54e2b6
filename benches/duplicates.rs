//! Criterion benchmark of the import's duplicate check (`hold_back`): the adversarial file
//! of 10,000 rows at one point with unrelated names, and the 3,238 real libraries against
//! every other one already published.
//!
//! `cargo bench --bench duplicates` (needs ../shared/data).

mod common;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::collections::HashSet;

use community_assets::domain::{AssetFields, Category, Status};
use community_assets::import::duplicates::hold_back;
use community_assets::import::{parse_assets, read_bytes, Contacts, ParsedAssets};
use community_assets::index::Snapshot;

/// A name of lower-case letters for `i`.
fn letters(mut i: usize) -> String {
    // Starting with "q", no name is a stop word ("a").
    let mut s = String::from("q");
    loop {
        s.push((b'a' + (i % 26) as u8) as char);
        i /= 26;
        if i == 0 {
            return s;
        }
    }
}

fn cafe(i: usize) -> AssetFields {
    AssetFields {
        source: Some("t".into()),
        source_id: Some(i.to_string()),
        ..AssetFields::at(format!("Venue {}", letters(i)), "cafe", 53.4, -2.98)
    }
}

fn parsed(rows: &[AssetFields]) -> ParsedAssets {
    ParsedAssets {
        locations: (0..rows.len()).map(|i| format!("line {}", i + 2)).collect(),
        rows: rows.to_vec(),
        warnings: Default::default(),
    }
}

fn bench(c: &mut Criterion) {
    let none = HashSet::new();
    let empty = Snapshot::build(1, &[], Vec::new(), Default::default());
    let one_point: Vec<AssetFields> = (0..10_000).map(cafe).collect();
    c.bench_function("duplicates_10k_at_one_point", |b| {
        b.iter(|| black_box(hold_back(parsed(&one_point), &empty, &none).1.len()))
    });

    let bytes = read_bytes(&common::data("assets_england_libraries_2016.csv")).expect("read");
    let known: HashSet<String> = ["library".to_string()].into();
    let libraries = parse_assets(&bytes, &known, Contacts::Salvage)
        .expect("the libraries parse")
        .rows;
    let categories = [Category {
        slug: "library".into(),
        label: "library".into(),
        description: String::new(),
    }];
    let now = chrono::Utc::now();
    let published = libraries
        .iter()
        .step_by(2)
        .filter(|r| r.status == Status::Published)
        .map(|r| community_assets::domain::Asset {
            id: uuid::Uuid::new_v4(),
            fields: AssetFields {
                source: Some("earlier".into()),
                ..r.clone()
            },
            last_verified_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
            sources: Vec::new(),
        })
        .collect();
    let snap = Snapshot::build(1, &categories, published, Default::default());
    c.bench_function("duplicates_libraries_against_published", |b| {
        b.iter(|| black_box(hold_back(parsed(&libraries), &snap, &none).1.len()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
