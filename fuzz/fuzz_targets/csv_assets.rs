//! CSV asset import (`import assets`, `POST /v1/admin/imports?format=csv`): any bytes that
//! are not GeoJSON (that is the `geojson_assets` target's); see `check_accepted`.
#![no_main]

use community_assets::import::Format;
use libfuzzer_sys::fuzz_target;

fn fuzz(data: &[u8]) {
    let body = community_assets::import::strip_bom(data);
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return;
    }
    community_assets_fuzz::import_assets(data, Some(Format::Csv));
}

fuzz_target!(
    init: community_assets_fuzz::tolerate_known_panics(),
    |data: &[u8]| community_assets_fuzz::run(|| fuzz(data))
);
