//! Area import (`import areas`): the English Indices of Deprivation files, points and
//! boundaries, served from memory. The input is up to five files separated by `%%`:
//! IMD (File 1), domains (File 2), population (File 6), points, GeoJSON boundaries; an
//! empty (blank) part is a file not given. Accepted areas are then built into the
//! in-memory area set and located, as a snapshot does with every asset.
#![no_main]

use std::path::{Path, PathBuf};

use community_assets::domain::AreaSetInfo;
use community_assets::geo::boundary;
use community_assets::import::areas::{parse_area_files_with, AreaFiles};
use community_assets::import::ImportError;
use community_assets::index::AreaSet;
use libfuzzer_sys::fuzz_target;

/// File names as published (the IMD file's name gives the index name, IoD2019).
const NAMES: [&str; 5] = [
    "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv",
    "File_2_-_IoD2019_Domains_of_Deprivation.csv",
    "File_6_-_IoD2019_Population_Denominators.csv",
    "lsoa2011_centroids_england.csv",
    "lsoa2011_boundaries_england.geojson",
];

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() < NAMES.len() - 1 {
        match rest.windows(2).position(|w| w == b"%%") {
            Some(at) => {
                parts.push(&rest[..at]);
                rest = &rest[at + 2..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

fuzz_target!(|data: &[u8]| {
    let parts = split(data);
    let given = |i: usize| {
        parts
            .get(i)
            .filter(|p| !p.trim_ascii().is_empty())
            .map(|_| PathBuf::from(NAMES[i]))
    };
    let files = AreaFiles {
        imd: PathBuf::from(NAMES[0]),
        domains: given(1),
        population: given(2),
        points: given(3),
        boundaries: given(4),
        ..Default::default()
    };
    let read = |path: &Path| -> Result<Vec<u8>, ImportError> {
        let i = NAMES
            .iter()
            .position(|n| path == Path::new(n))
            .expect("only the files given are read");
        Ok(parts.get(i).copied().unwrap_or_default().to_vec())
    };
    let Ok(parsed) = parse_area_files_with(&files, read) else {
        return;
    };
    assert!(
        !parsed.areas.is_empty(),
        "an import of no areas was accepted"
    );
    for a in &parsed.areas {
        assert!(
            a.lat.is_finite() && a.lon.is_finite() && a.lat.abs() <= 90.0 && a.lon.abs() <= 180.0,
            "{} has no valid location: {},{}",
            a.code,
            a.lat,
            a.lon
        );
        if let Some(b) = &a.boundary {
            assert!(
                boundary::parse_stored(b).is_some(),
                "{}: a stored boundary does not parse back: {b}",
                a.code
            );
        }
    }
    let set = AreaSet::build(AreaSetInfo::default(), parsed.areas);
    for i in 0..set.len() as u32 {
        let a = set.area(i);
        let _ = set.locate(a.lat, a.lon);
        let _ = set.within(a.lat, a.lon, 2_000.0).count();
        let _ = set.boundary_geojson(i);
    }
});
