//! OpenStreetMap import (Overpass JSON, `POST /v1/admin/imports?format=osm`): the reader,
//! validation, and what every accepted import must satisfy (see `check_accepted`).
#![no_main]

use community_assets::import::{osm::read_overpass, strip_bom, Contacts, Format, ImportError};
use community_assets_fuzz::{check_accepted, read_file};
use libfuzzer_sys::fuzz_target;

fn fuzz(data: &[u8]) {
    let read = read_overpass(strip_bom(data));
    match read_file(data, Some(Format::Osm), Contacts::Salvage) {
        Ok(parsed) => {
            let (rows, skipped) = read.expect("the import accepted what read_overpass refused");
            assert_eq!(parsed.rows.len(), rows.len(), "rows were lost");
            assert!(parsed.warnings.total() >= skipped.len());
            check_accepted(parsed);
        }
        Err(ImportError::Rejected(errors)) => {
            assert!(!errors.is_empty(), "rejected without a reason")
        }
        Err(e) => panic!("an import without a database failed: {e}"),
    }
}

fuzz_target!(
    init: community_assets_fuzz::tolerate_known_panics(),
    |data: &[u8]| community_assets_fuzz::run(|| fuzz(data))
);
