//! GeoJSON asset import (`import assets`, `POST /v1/admin/imports?format=geojson`): bytes
//! that the importer takes for GeoJSON (first non-blank byte `{`); see `check_accepted`.
#![no_main]

use community_assets::import::Format;
use libfuzzer_sys::fuzz_target;

fn fuzz(data: &[u8]) {
    let body = community_assets::import::strip_bom(data);
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return;
    }
    community_assets_fuzz::import_assets(data, Some(Format::GeoJson));
}

fuzz_target!(
    init: community_assets_fuzz::tolerate_known_panics(),
    |data: &[u8]| community_assets_fuzz::run(|| fuzz(data))
);
