//! OSM `opening_hours` values: parsing (as asset validation does, at most 500 characters)
//! and evaluation in Europe/London (as `open_at` / `open_now` searches do) around daylight
//! saving changes, a UK public holiday, a leap day and at an instant derived from the input.
#![no_main]

use chrono::{DateTime, Utc};
use community_assets::domain::hours::{london_time, Hours};
use libfuzzer_sys::fuzz_target;

/// UTC instants: both sides of the 2026 clock changes, Christmas Day, 29 February 2028.
const FIXED: [i64; 7] = [
    1_774_746_000, // 2026-03-29T01:00:00Z, clocks go forward
    1_774_745_999,
    1_792_890_000, // 2026-10-25T01:00:00Z, clocks go back
    1_792_886_400,
    1_792_893_600,
    1_798_200_000, // 2026-12-25T12:00:00Z
    1_835_438_400, // 2028-02-29T12:00:00Z
];

/// FNV-1a, so that each input is also evaluated at an instant of its own.
fn hash(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn fuzz(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Asset validation refuses longer values before parsing them.
    if text.chars().count() > 500 {
        return;
    }
    let Ok(hours) = Hours::parse(text) else {
        return;
    };
    // 1970 to 2100.
    let own = (hash(data) % 4_102_444_800) as i64;
    for secs in FIXED.into_iter().chain([own]) {
        let at = DateTime::<Utc>::from_timestamp(secs, 0).expect("in range");
        let _ = hours.is_open_at(london_time(at));
    }
}

fuzz_target!(
    init: community_assets_fuzz::tolerate_known_panics(),
    |data: &[u8]| community_assets_fuzz::run(|| fuzz(data))
);
