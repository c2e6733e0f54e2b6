//! Query strings: strict parsing and every getter, then `GET /v1/assets` as far as the
//! handler goes without HTTP (its query contract, the search, every page of it, each output
//! format) and `GET /v1/assets/nearest`, over a small fixture snapshot.
#![no_main]

use std::collections::HashSet;

use community_assets::api::assets::{ListQuery, NearestQuery};
use community_assets::api::format::{page, Format};
use community_assets::api::params::{Params, Query};
use community_assets::index::Cursor;
use community_assets_fuzz::FIXTURE;
use libfuzzer_sys::fuzz_target;

/// Every name some endpoint accepts, for the getters.
const NAMES: &[&str] = &[
    "category",
    "near",
    "radius_m",
    "bbox",
    "q",
    "wheelchair",
    "cost",
    "tag",
    "open_at",
    "open_now",
    "sort",
    "limit",
    "cursor",
    "format",
    "lat",
    "lon",
    "k",
    "dry_run",
];

/// Most pages walked for one query (the fixture has 10 assets; limit is at least 1).
const MAX_PAGES: usize = 20;

fn getters(p: &Params) {
    for name in NAMES {
        let _ = p.get(name);
        let _ = p.list(name);
        let _ = p.f64_in(name, -90.0, 90.0);
        let _ = p.usize_in(name, 5, 1, 100);
        let _ = p.bool(name);
        let _ = p.timestamp(name);
        let _ = p.one_of(name, &["json", "geojson", "csv"]);
        let _ = p.numbers(name, 2, "lat,lon");
        let _ = p.numbers(name, 4, "a box");
    }
}

/// `GET /v1/assets`: the page after the given cursor, if any; then the first page and
/// every following one by its cursor, which must never repeat an item and must reach every
/// match ("paging never repeats or skips").
fn list(query: &str) {
    let Ok(q) = Query::<ListQuery>::from_query_string(query) else {
        return;
    };
    let Ok(mut search) = q.search(&FIXTURE) else {
        return;
    };
    if search.after.is_some() {
        // The page after the given cursor; then the walk starts from the first page.
        let result = FIXTURE.search(&search);
        assert!(
            result.hits.len() <= search.limit,
            "a page is over its limit"
        );
        search.after = None;
    }
    let mut seen = HashSet::new();
    let mut total = None;
    for n in 0.. {
        let result = FIXTURE.search(&search);
        assert!(
            result.hits.len() <= search.limit,
            "a page is over its limit"
        );
        assert!(
            *total.get_or_insert(result.total) == result.total,
            "the total changed between pages"
        );
        for h in &result.hits {
            assert!(seen.insert(h.idx), "paging repeated an item");
        }
        let next = result.next.as_ref().map(Cursor::encode);
        if let (Some(c), Some(token)) = (&result.next, &next) {
            assert_eq!(
                Cursor::decode(token, search.sort).as_ref(),
                Some(c),
                "a cursor does not decode to itself"
            );
        }
        if n == 0 {
            for f in [Format::Json, Format::GeoJson, Format::Csv] {
                let _ = page(&FIXTURE, &result.hits, next.clone(), result.total, f);
            }
        }
        match result.next {
            Some(c) if n < MAX_PAGES => search.after = Some(c),
            Some(_) => return,
            None => break,
        }
    }
    assert_eq!(seen.len(), total.unwrap_or(0), "paging skipped an item");
}

/// `GET /v1/assets/nearest`, as its handler reads the parameters.
fn nearest(query: &str) {
    let Ok(q) = Query::<NearestQuery>::from_query_string(query) else {
        return;
    };
    let (lat, lon, categories, k) = (q.lat, q.lon, q.category, q.k.unwrap_or(5));
    if categories.iter().flatten().any(|c| !FIXTURE.is_category(c)) {
        return;
    }
    let hits = FIXTURE.nearest(lat, lon, categories.as_deref(), k);
    assert!(hits.len() <= k);
}

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = Params::parse(query, NAMES, NAMES) {
        getters(&p);
    }
    list(query);
    nearest(query);
});
