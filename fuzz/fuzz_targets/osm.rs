//! OpenStreetMap import (Overpass JSON, `POST /v1/admin/imports?format=osm`): the reader,
//! validation, and what every accepted import must satisfy (see `check_accepted`).
#![no_main]

use community_assets::curation::imports::{prepare, ImportOptions};
use community_assets::import::{osm::read_overpass, strip_bom, Contacts, Format, ImportError};
use community_assets_fuzz::{check_accepted, FIXTURE};
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

fn fuzz(data: &[u8]) {
    let read = read_overpass(strip_bom(data));
    let options = ImportOptions {
        format: Some(Format::Osm),
        contacts: Contacts::Salvage,
        dry_run: true,
        ..Default::default()
    };
    match prepare(data, &options, &FIXTURE, |_| Ok(HashSet::new())) {
        Ok(prepared) => {
            let (rows, skipped) = read.expect("the import accepted what read_overpass refused");
            assert_eq!(
                prepared.parsed.rows.len(),
                rows.len(),
                "rows were lost"
            );
            assert!(prepared.parsed.warnings.total() >= skipped.len());
            check_accepted(prepared.parsed);
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
