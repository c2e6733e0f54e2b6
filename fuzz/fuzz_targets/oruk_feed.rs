//! Open Referral UK import (`import oruk`, `POST /v1/admin/imports?format=oruk`): any bytes
//! read as a saved `/services` page or a single service, then validated as the pipeline
//! does before matching and writing (see `check_accepted`).
#![no_main]

use community_assets::import::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: community_assets_fuzz::tolerate_known_panics(),
    |data: &[u8]| community_assets_fuzz::run(|| {
        community_assets_fuzz::import_assets(data, Some(Format::Oruk))
    })
);
