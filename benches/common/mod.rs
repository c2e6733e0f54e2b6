//! Inputs shared by the benchmarks: 100,000 synthetic assets placed where people live
//! (and query centres), the real libraries, and the official IoD2019 areas, all read from
//! ../shared/data.
#![allow(dead_code)]

use chrono::Utc;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use community_assets::api::params::CATEGORY_SLUGS as SLUGS;
use community_assets::domain::Category;
use community_assets::domain::{Asset, AssetFields};
use community_assets::import::areas::{parse_area_files, AreaFiles};
use community_assets::import::{parse_assets, read_bytes, Contacts};
use community_assets::index::AreaSet;
use community_assets::synth::{generate, read_populated_points};

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(name)
}

pub fn inputs() -> (Vec<Asset>, Vec<Category>, Vec<(f64, f64)>) {
    inputs_of(100_000)
}

/// `n` synthetic assets (published), the categories and 1,000 query centres.
pub fn inputs_of(n: usize) -> (Vec<Asset>, Vec<Category>, Vec<(f64, f64)>) {
    let areas = read_populated_points(
        &data("lsoa2011_centroids_england.csv.gz"),
        &data("File_6_-_IoD2019_Population_Denominators.csv.gz"),
    )
    .expect("read ../shared/data");
    let known: HashSet<String> = SLUGS.iter().map(|s| s.to_string()).collect();
    let now = Utc::now();
    let assets: Vec<Asset> = generate(&areas, n, 2019)
        .iter()
        .map(|raw| AssetFields::parse(raw, &known, true).expect("synthetic rows are valid"))
        .map(|fields| published(fields, now))
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

fn published(fields: AssetFields, now: chrono::DateTime<Utc>) -> Asset {
    Asset {
        id: uuid::Uuid::new_v4(),
        fields,
        last_verified_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
        sources: Vec::new(),
    }
}

/// The real libraries that are open (published).
pub fn libraries() -> Vec<Asset> {
    let bytes = read_bytes(&data("assets_england_libraries_2016.csv")).expect("read libraries");
    let known: HashSet<String> = ["library".to_string()].into();
    let now = Utc::now();
    parse_assets(&bytes, &known, Contacts::Salvage)
        .expect("the libraries parse")
        .rows
        .into_iter()
        .filter(|f| f.status == community_assets::domain::Status::Published)
        .map(|f| published(f, now))
        .collect()
}

/// The official IoD2019 areas with points and boundaries.
pub fn areas() -> AreaSet {
    let files = AreaFiles {
        imd: data("File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"),
        domains: Some(data("File_2_-_IoD2019_Domains_of_Deprivation.csv.gz")),
        population: Some(data("File_6_-_IoD2019_Population_Denominators.csv.gz")),
        points: Some(data("lsoa2011_centroids_england.csv.gz")),
        boundaries: Some(data("lsoa2011_boundaries_england.geojson.gz")),
        ..Default::default()
    };
    let parsed = parse_area_files(&files).expect("the official files import");
    AreaSet::build(Default::default(), parsed.areas)
}
