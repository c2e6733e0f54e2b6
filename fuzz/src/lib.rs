//! What the fuzz targets share: the categories the database is seeded with, a small
//! published snapshot, and the checks that every accepted import must pass (the import
//! path of `POST /v1/admin/imports`, then export and re-import of what was accepted).

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::sync::{Arc, LazyLock};

use actix_web::body::MessageBody;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use community_assets::api::format::{page, Format};
use community_assets::domain::{Asset, AssetFields, Category, Status};
use community_assets::import::matching::{decide_all, MatchSettings};
use community_assets::import::{self, parse_assets, Contacts, ImportError, ParsedAssets};
use community_assets::index::{Filter, Search, Snapshot, SortBy};

/// A panic that only builds with debug assertions raise, in a dependency: opening-hours-syntax
/// 2.1.4 checks with `debug_assert!` that its parser met no "implementation error", and
/// without debug assertions (release builds) returns that error as an `Err`, which
/// `Hours::parse` reports as invalid syntax. `10:00-18:00/24:00` is one such input.
fn is_tolerated(info: &PanicHookInfo) -> bool {
    info.location()
        .is_some_and(|l| l.file().contains("opening-hours-syntax"))
        && info
            .payload_as_str()
            .is_some_and(|m| m.starts_with("parser implementation error"))
}

/// Lets the panic of [`is_tolerated`] unwind to [`run`] instead of aborting, so that one
/// known (and reported) debug-only problem does not stop fuzzing from finding others; every
/// other panic still aborts and is a crash. Called from each target's `init`.
pub fn tolerate_known_panics() {
    let abort = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !is_tolerated(info) {
            abort(info);
        }
    }));
}

/// Runs one input; a tolerated panic ends it as an error would.
pub fn run(f: impl FnOnce()) {
    let _ = panic::catch_unwind(AssertUnwindSafe(f));
}

/// The category slugs of the migrations' seed data.
pub use community_assets::api::params::CATEGORY_SLUGS as CATEGORIES;

pub static CATEGORY_SET: LazyLock<HashSet<String>> =
    LazyLock::new(|| CATEGORIES.iter().map(|c| c.to_string()).collect());

fn category_rows() -> Vec<Category> {
    CATEGORIES
        .iter()
        .map(|c| Category {
            slug: c.to_string(),
            label: c.to_string(),
            description: String::new(),
        })
        .collect()
}

/// A snapshot of these rows as published assets, with ids 1, 2, ... in row order.
pub fn snapshot_of(rows: Vec<AssetFields>) -> Snapshot {
    let t0 = DateTime::<Utc>::from_timestamp(1_795_000_000, 0).expect("a valid time");
    let assets = rows
        .into_iter()
        .enumerate()
        .map(|(i, fields)| Asset {
            id: Uuid::from_u128(i as u128 + 1),
            fields,
            last_verified_at: None,
            created_at: t0,
            // A few equal times, so that sort=updated has ties for the id to break.
            updated_at: t0 + Duration::seconds((i / 2) as i64),
            version: 1,
            sources: Vec::new(),
        })
        .collect();
    Snapshot::build(1, &category_rows(), assets, Default::default())
}

/// Hand-written published assets for the query fuzzer: equal names, equal positions and
/// equal update times (ties for every sort), both sides of the antimeridian, a pole, and
/// opening hours with public holidays.
const FIXTURE_CSV: &str = "\
source,source_id,name,category,lat,lon,address,town,postcode,website,phone,email,opening_hours,wheelchair,cost,description,tags,status
f,1,Barking Library,library,51.5363871,0.0799942,2 Town Square,Barking,IG11 7NB,https://www.lbbd.gov.uk/libraries,,,Mo-Fr 09:00-19:00; Sa 09:00-17:00,yes,free,,statutory;local-authority-led,
f,2,Barking Library,library,51.5363871,0.0799942,,,,,,,Mo-Su 10:00-16:00; PH off,limited,free,,,
f,3,World Museum,museum,53.4098,-2.9805,William Brown Street,Liverpool,L3 8EN,,0151 478 4393,,Tu-Su 10:00-17:00,yes,free,Natural history,family;free-entry,
f,4,Walker Art Gallery,gallery,53.41,-2.98,,,,,,,,no,donation,,,
f,5,The Playhouse,theatre,53.4055,-2.982,,,,,,,Mo-Sa 19:30-22:30,unknown,paid,Plays and musicals,,
f,6,Dateline Cafe,cafe,-16.5,179.99,,,,,,,24/7,yes,paid,,,
f,7,Eastern Cafe,cafe,-16.5,-179.99,,,,,,,,unknown,unknown,,,
f,8,Pole Heritage,heritage,89.99,0,,,,,,,\"Mo-Fr 10:00-12:00 \"\"by appointment\"\"\",unknown,unknown,,,
f,9,Cinema Nine,cinema,0,0,,,,,,,Mo-Su 12:00-24:00,yes,paid,,dementia-friendly,
f,10,Arts Centre,arts_centre,51.5194,-0.127,,,,,,,,yes,free,,,
";

/// The fixture as a published snapshot.
pub static FIXTURE: LazyLock<Snapshot> = LazyLock::new(|| {
    let parsed = parse_assets(FIXTURE_CSV.as_bytes(), &CATEGORY_SET, Contacts::Strict)
        .unwrap_or_else(|e| panic!("the fixture is invalid: {e:?}"));
    snapshot_of(parsed.rows)
});

/// The body of a response that `format::page` built.
fn body_bytes(res: actix_web::HttpResponse) -> Vec<u8> {
    match res.into_body().try_into_bytes() {
        Ok(b) => b.to_vec(),
        Err(_) => panic!("a page body is not in memory"),
    }
}

/// Rows sorted by their (source, source_id) key, unique within an accepted import.
fn by_key(mut rows: Vec<AssetFields>) -> Vec<AssetFields> {
    rows.sort_by(|a, b| (&a.source, &a.source_id).cmp(&(&b.source, &b.source_id)));
    rows
}

/// What every accepted import must satisfy:
/// - `to_raw` is the inverse of `parse` (documented), row by row;
/// - the matcher of the import endpoint runs (against the fixture, and against the rows
///   themselves once published);
/// - the rows, published and exported as CSV and as GeoJSON (the API's writers), re-import
///   to the same rows.
pub fn check_accepted(parsed: ParsedAssets) {
    assert_eq!(parsed.rows.len(), parsed.locations.len());
    for row in &parsed.rows {
        let again = AssetFields::parse(&row.to_raw(), &CATEGORY_SET, true);
        assert_eq!(again.as_ref(), Ok(row), "parse(to_raw(row)) != row");
    }
    let rows = parsed.rows.clone();
    let skip = vec![false; rows.len()];
    let _ = decide_all(&rows, &skip, &FIXTURE, &MatchSettings::default());
    if rows.is_empty() {
        return;
    }

    let snap = Arc::new(snapshot_of(rows.clone()));
    let everything = Search {
        near: None,
        bbox: None,
        filter: Filter {
            statuses: Some(vec![Status::Published, Status::Draft, Status::Archived]),
            ..Default::default()
        },
        sort: SortBy::Name,
        limit: rows.len(),
        after: None,
    };
    let found = snap.search(&everything);
    assert_eq!(
        found.hits.len(),
        rows.len(),
        "a search for everything misses rows"
    );
    assert!(found.next.is_none());

    let _ = decide_all(&rows, &skip, &snap, &MatchSettings::default());

    let want = by_key(rows);
    for format in [Format::Csv, Format::GeoJson] {
        let body = body_bytes(page(&snap, &found.hits, None, found.total, format));
        match parse_assets(&body, &CATEGORY_SET, Contacts::Strict) {
            Ok(back) => assert_eq!(
                by_key(back.rows),
                want,
                "{format:?} export does not re-import to the same rows"
            ),
            Err(e) => panic!(
                "{format:?} export does not re-import: {e:?}\n{}",
                String::from_utf8_lossy(&body)
            ),
        }
    }
}

/// A file read and validated as the import pipeline does before matching and writing
/// (`import::read`: the same stream reader and validator), all or nothing.
pub fn read_file(
    bytes: &[u8],
    format: Option<import::Format>,
    contacts: Contacts,
) -> Result<ParsedAssets, ImportError> {
    let options = import::ReadOptions {
        contacts,
        skip_invalid: false,
        mapping: None,
        encoding: Default::default(),
    };
    import::read(bytes, format, &CATEGORY_SET, &options)
        .map(|read| read.parsed)
        .map_err(ImportError::Rejected)
}

/// Asset import as the pipeline reads, validates and matches a file (as `import assets`
/// and `POST /v1/admin/imports` do before the database write), with both contact
/// policies. A file accepted strictly has valid contacts, so salvaging must change nothing.
pub fn import_assets(bytes: &[u8], format: Option<import::Format>) {
    let run = |contacts| read_file(bytes, format, contacts);
    let (strict, salvage) = (run(Contacts::Strict), run(Contacts::Salvage));
    if let (Ok(s), Ok(v)) = (&strict, &salvage) {
        assert_eq!(s.rows, v.rows, "salvaging changed rows that are valid");
    }
    assert!(
        strict.is_err() || salvage.is_ok(),
        "accepted strictly but rejected when salvaging"
    );
    match salvage {
        Ok(parsed) => check_accepted(parsed),
        Err(ImportError::Rejected(errors)) => {
            assert!(!errors.is_empty(), "rejected without a reason")
        }
        Err(e) => panic!("an import without a database failed: {e}"),
    }
}
