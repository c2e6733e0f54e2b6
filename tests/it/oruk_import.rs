//! Open Referral UK / HSDS 3.0 feeds imported as venues through the one import pipeline
//! (`import oruk`, `POST /v1/admin/imports?format=oruk`): the official examples and the
//! official validator's sample feeds (read from ../shared at run time, expectations taken
//! from the files by parsing them here), and a feed of pages built here from the real
//! libraries. On SQLite and PostgreSQL.

use community_assets::domain::activity::Term;
use community_assets::store::activities::TermList;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::support::{library_rows, on_both_backends, Backend, LibraryRow, TestApp, TestDb};
use community_assets::domain::Asset;
use community_assets::store::Store;

on_both_backends!(
    official_examples_and_validator_feeds_import_as_their_contents_say,
    an_official_service_placed_in_england_becomes_its_venue,
    a_directory_of_pages_imports_every_located_venue_once_and_again_changes_nothing,
    a_location_without_coordinates_rejects_the_feed_or_is_reported,
    an_invalid_activity_rejects_the_feed_or_is_reported,
    malformed_json_names_file_and_position_and_changes_nothing,
    the_api_imports_a_page_like_the_command_line,
    our_own_oruk_feed_of_the_real_libraries_imports_as_the_same_venues,
);

const OUR_TAXONOMY: &str = "Community asset categories";

fn shared(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    assert!(p.exists(), "missing {}", p.display());
    p
}

/// The official service files: the ORUK examples, the validator's three sample feeds,
/// and the HSDS 3.0 examples.
fn official_files() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in [
        "oruk/openreferraluk/specifications/3.0/examples",
        "oruk/validator-mocks/V3.0-UK-Default",
        "oruk/validator-mocks/V3.0-UK-Warn",
        "oruk/validator-mocks/V3.0-UK-Fail",
        "hsds/openreferral-specification/3.0/examples",
    ] {
        for f in ["service_full.json", "service_list.json"] {
            v.push(shared(&format!("{dir}/{f}")));
        }
    }
    v
}

/// What a file says, read here: each distinct location (by id) with where it first is,
/// its name and coordinates; and how many distinct services have no location at all.
struct Expected {
    /// (JSON path, location object), first appearance of each location id.
    locations: Vec<(String, Value)>,
    services_without_location: usize,
}

fn expected(doc: &Value) -> Expected {
    let services: Vec<(String, &Value)> = match doc.get("contents") {
        Some(c) => c
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("contents[{i}]."), s))
            .collect(),
        None => vec![(String::new(), doc)],
    };
    let mut seen_locations = HashMap::new();
    let mut seen_services = HashMap::new();
    let mut out = Expected {
        locations: Vec::new(),
        services_without_location: 0,
    };
    for (at, s) in services {
        if seen_services.insert(s["id"].to_string(), ()).is_some() {
            continue;
        }
        let mut any = false;
        let sal = s["service_at_locations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for (i, l) in sal.iter().enumerate() {
            if let Some(loc) = l.get("location") {
                any = true;
                if seen_locations.insert(loc["id"].to_string(), ()).is_none() {
                    let path = format!("{at}service_at_locations[{i}].location");
                    out.locations.push((path, loc.clone()));
                }
            }
        }
        for (i, loc) in s["locations"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            any = true;
            if seen_locations.insert(loc["id"].to_string(), ()).is_none() {
                out.locations
                    .push((format!("{at}locations[{i}]"), loc.clone()));
            }
        }
        if !any {
            out.services_without_location += 1;
        }
    }
    out
}

/// Runs the command line; (success, stdout, stderr).
fn run(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_community-assets"))
        .args(args)
        .env("DATABASE_URL", db)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn import_json(db: &str, path: &Path, source: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "import",
        "oruk",
        path.to_str().unwrap(),
        "--source",
        source,
        "--json",
    ];
    args.extend(extra);
    let (ok, out, err) = run(db, &args);
    assert!(ok, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

fn assets(url: &str) -> Vec<Asset> {
    let store = Store::open(url).unwrap();
    let mut conn = store.conn().unwrap();
    community_assets::store::assets::all(&mut conn).unwrap()
}

fn official_examples_and_validator_feeds_import_as_their_contents_say(backend: Backend) {
    let db = TestDb::new(backend);
    for file in official_files() {
        let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let want = expected(&doc);
        let in_range = |loc: &Value| {
            let lat = loc["latitude"].as_f64();
            let lon = loc["longitude"].as_f64();
            lat.is_some_and(|v| (-90.0..=90.0).contains(&v))
                && lon.is_some_and(|v| (-180.0..=180.0).contains(&v))
        };
        let bad: Vec<&(String, Value)> = want
            .locations
            .iter()
            .filter(|(_, l)| !in_range(l))
            .collect();
        let good = want.locations.len() - bad.len();
        // A dry run lists what the file holds: every location out of range is rejected,
        // at its path, for its coordinate.
        let r = import_json(&db.url, &file, "official", &["--skip-invalid", "--dry-run"]);
        let what = file.display();
        assert_eq!(r["rejected_total"], bad.len(), "{what}: {r}");
        for (path, loc) in &bad {
            let (field, key) = if loc["latitude"].as_f64().is_some_and(|v| v.abs() <= 90.0) {
                ("lon", "longitude")
            } else {
                ("lat", "latitude")
            };
            let value = loc[key].to_string();
            assert!(
                r["rejected"].as_array().unwrap().iter().any(|e| {
                    e["location"] == path.as_str() && e["field"] == field && e["value"] == *value
                }),
                "{what}: {path} {field} not reported: {r}"
            );
        }
        assert_eq!(r["inserted"], good, "{what}: {r}");
        let skipped = r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["field"] == "service_at_locations")
            .count();
        assert_eq!(skipped, want.services_without_location, "{what}: {r}");
        // All or nothing: a file with a bad location is refused, naming it.
        let (ok, _, err) = run(
            &db.url,
            &[
                "import",
                "oruk",
                file.to_str().unwrap(),
                "--source",
                "official",
            ],
        );
        assert_eq!(ok, bad.is_empty(), "{what}: {err}");
        for (path, _) in &bad {
            assert!(err.contains(&format!("{path}: ")), "{what}: {err}");
        }
    }
    assert_eq!(
        assets(&db.url).len(),
        0,
        "the official files place nothing validly"
    );
}

/// The official example service with its one location moved to a real library's
/// position and postcode (the files' own position, latitude 100, is off the globe).
fn placed_official_example(lib: &LibraryRow, postcode: &str) -> Value {
    let file = shared("oruk/openreferraluk/specifications/3.0/examples/service_full.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let loc = &mut doc["service_at_locations"][0]["location"];
    loc["latitude"] = json!(lib.lat);
    loc["longitude"] = json!(lib.lon);
    loc["addresses"][0]["postal_code"] = json!(postcode);
    doc
}

fn an_official_service_placed_in_england_becomes_its_venue(backend: Backend) {
    let db = TestDb::new(backend);
    let lib = &library_rows()[0];
    let doc = placed_official_example(lib, "IG11 7NB");
    let path = db.temp_path("service.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let r = import_json(&db.url, &path, "example", &[]);
    assert_eq!(r["inserted"], 1, "{r}");
    let all = assets(&db.url);
    assert_eq!(all.len(), 1);
    let a = &all[0];
    let loc = &doc["service_at_locations"][0]["location"];
    let addr = &loc["addresses"][0];
    assert_eq!(a.fields.name, loc["name"].as_str().unwrap());
    assert_eq!((a.fields.lat, a.fields.lon), (lib.lat, lib.lon));
    assert_eq!(a.fields.postcode.as_deref(), Some("IG11 7NB"));
    assert_eq!(a.fields.town.as_deref(), addr["city"].as_str());
    assert_eq!(a.fields.address.as_deref(), addr["address_1"].as_str());
    assert_eq!(a.fields.description.as_deref(), loc["description"].as_str());
    assert_eq!(a.fields.website.as_deref(), doc["url"].as_str());
    assert_eq!(a.fields.email.as_deref(), doc["email"].as_str());
    // "Wheelchair access is possible on all levels."
    assert!(loc["accessibility"][0]["description"]
        .as_str()
        .unwrap()
        .contains("Wheelchair access is possible"));
    assert_eq!(a.fields.wheelchair.as_str(), "yes");
    // One cost option of 35 a session.
    assert_eq!(doc["cost_options"][0]["amount"], 35);
    assert_eq!(a.fields.cost.as_str(), "paid");
    // "MyCity Civic Center": a civic centre by the keyword rule.
    assert_eq!(a.fields.category, "community_centre");
    // Its schedule ended in 2005 and has month days: no opening hours, and a warning.
    assert_eq!(a.fields.opening_hours, None);
    assert!(r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["field"] == "service.schedules"
            && w["reason"]
                .as_str()
                .unwrap()
                .starts_with("opening hours left out")));
    let key = &a.sources[0];
    assert_eq!(
        (key.source.as_str(), key.source_id.as_str()),
        ("example", loc["id"].as_str().unwrap())
    );
    // Again: the same venue, unchanged.
    let again = import_json(&db.url, &path, "example", &[]);
    assert_eq!(
        (again["inserted"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(assets(&db.url).len(), 1);
}

/// The upper-case postcode with one space before its last three characters, as the
/// directory writes postcodes (independently of the crate).
fn tidy_postcode(p: &str) -> String {
    let p: String = p.split_whitespace().collect::<String>().to_uppercase();
    format!("{} {}", &p[..p.len() - 3], &p[p.len() - 3..])
}

/// A feed of the first `n` published real libraries as ORUK `/services` pages of 50,
/// built the way feeds vary: each library a location with a "visit" service in our own
/// category taxonomy; every 10th also has a weekly "Rhyme time" at the same location (one
/// venue, not two, and an activity); every 7th is linked by `locations` instead of `service_at_locations`; every
/// 9th has no category term and a service name with "Library" in it (the keyword rule);
/// every 13th (not a 9th) neither (the location's name decides, else the fallback with a
/// warning). Returns the pages and,
/// by location id, (name, lat, lon, postcode, category) as expected.
#[allow(clippy::type_complexity)]
fn library_feed(
    n: usize,
) -> (
    Vec<Value>,
    BTreeMap<String, (String, f64, f64, String, &'static str)>,
) {
    let rows: Vec<(LibraryRow, String)> = {
        let mut rdr =
            csv::Reader::from_path(crate::support::shared_data(crate::support::LIBRARIES)).unwrap();
        let postcodes: HashMap<String, String> = rdr
            .deserialize::<HashMap<String, String>>()
            .map(|r| r.unwrap())
            .map(|r| (r["source_id"].clone(), r["postcode"].clone()))
            .collect();
        library_rows()
            .into_iter()
            .filter(|l| l.published && postcodes[&l.source_id].len() >= 5)
            .take(n)
            .map(|l| {
                let p = postcodes[&l.source_id].clone();
                (l, p)
            })
            .collect()
    };
    let mut services = Vec::new();
    let mut want = BTreeMap::new();
    for (i, (lib, postcode)) in rows.iter().enumerate() {
        let loc_id = format!("6f1c2a00-0000-4000-8000-{i:012}");
        let loc = json!({"id": loc_id, "location_type": "physical", "name": lib.name,
            "latitude": lib.lat, "longitude": lib.lon,
            "addresses": [{"id": format!("ad000000-0000-4000-8000-{i:012}"), "address_1": "1 Library Way",
                "city": "Town", "postal_code": postcode, "country": "GB", "address_type": "physical"}]});
        // As /oruk publishes our category terms.
        let term = json!({"id": "7e000000-0000-4000-8000-000000000001", "name": "Library",
            "term": "library", "taxonomy": OUR_TAXONOMY, "description": "Libraries"});
        let (service_name, attributes, category) = if i % 9 == 0 {
            (format!("{} Library", lib.name), json!([]), "library")
        } else if i % 13 == 0 {
            // Only the location's own name can tell.
            let named = lib
                .name
                .to_lowercase()
                .split_whitespace()
                .any(|w| w == "library");
            let category = if named { "library" } else { "community_centre" };
            ("Drop in".to_string(), json!([]), category)
        } else {
            // Our own publisher's "visit" service: named as the venue, in our taxonomy.
            (
                lib.name.clone(),
                json!([{"id": format!("a7000000-0000-4000-8000-{i:012}"), "taxonomy_term": term}]),
                "library",
            )
        };
        let mut visit = json!({"id": format!("5e000000-0000-4000-8000-{i:012}"), "name": service_name,
            "status": "active", "attributes": attributes});
        if i % 7 == 0 {
            visit["locations"] = json!([loc]);
        } else {
            visit["service_at_locations"] =
                json!([{"id": format!("5a000000-0000-4000-8000-{i:012}"), "location": loc}]);
        }
        services.push(visit);
        if i % 10 == 0 {
            services.push(json!({"id": format!("5e000000-0000-4000-8001-{i:012}"), "name": "Rhyme time",
                "description": "Songs and rhymes for babies and toddlers with their carers.",
                "status": "active", "minimum_age": 0, "maximum_age": 5,
                "cost_options": [{"id": format!("c0000000-0000-4000-8001-{i:012}"), "option": "Free", "amount": 0}],
                "schedules": [{"id": format!("5c000000-0000-4000-8001-{i:012}"), "freq": "WEEKLY", "byday": "TU",
                    "opens_at": "10:30:00", "closes_at": "11:00:00", "valid_from": "2026-01-05"}],
                "service_at_locations": [{"id": format!("5a000000-0000-4000-8001-{i:012}"), "location": loc}]}));
        }
        want.insert(
            loc_id,
            (
                lib.name.clone(),
                lib.lat,
                lib.lon,
                tidy_postcode(postcode),
                category,
            ),
        );
    }
    let total = services.len();
    let pages = services
        .chunks(50)
        .enumerate()
        .map(|(p, c)| {
            json!({"total_items": total, "total_pages": total.div_ceil(50), "page_number": p + 1,
                "size": c.len(), "first_page": p == 0, "last_page": (p + 1) * 50 >= total,
                "empty": false, "contents": c})
        })
        .collect();
    (pages, want)
}

/// Writes pages as page-N.json in `dir`, the last gzipped.
fn write_pages(dir: &Path, pages: &[Value]) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, p) in pages.iter().enumerate() {
        let bytes = p.to_string().into_bytes();
        if i + 1 == pages.len() {
            let f = std::fs::File::create(dir.join(format!("page-{}.json.gz", i + 1))).unwrap();
            let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
            gz.write_all(&bytes).unwrap();
            gz.finish().unwrap();
        } else {
            std::fs::write(dir.join(format!("page-{}.json", i + 1)), bytes).unwrap();
        }
    }
}

fn check_venues(
    url: &str,
    source: &str,
    want: &BTreeMap<String, (String, f64, f64, String, &str)>,
) {
    let all = assets(url);
    let mut got = BTreeMap::new();
    for a in &all {
        for s in a.sources.iter().filter(|s| s.source == source) {
            got.insert(
                s.source_id.clone(),
                (
                    a.fields.name.clone(),
                    a.fields.lat,
                    a.fields.lon,
                    a.fields.postcode.clone().unwrap_or_default(),
                    a.fields.category.clone(),
                ),
            );
        }
    }
    assert_eq!(got.len(), want.len());
    for (id, (name, lat, lon, postcode, category)) in want {
        let g = &got[id];
        assert_eq!(
            (&g.0, g.1, g.2, &g.3, g.4.as_str()),
            (name, *lat, *lon, postcode, *category),
            "{id}"
        );
    }
}

/// The rhyme times of a feed: (service_at_location id, location id), read from the pages.
fn rhyme_times(pages: &[Value]) -> Vec<(String, String)> {
    pages
        .iter()
        .flat_map(|p| p["contents"].as_array().unwrap())
        .filter(|s| s["name"] == "Rhyme time")
        .map(|s| {
            let sal = &s["service_at_locations"][0];
            (
                sal["id"].as_str().unwrap().to_string(),
                sal["location"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The source's activities are exactly the rhyme times, each at the asset of its location,
/// as the feed describes them.
fn check_rhyme_times(url: &str, source: &str, rhymes: &[(String, String)]) {
    let store = Store::open(url).unwrap();
    let mut conn = store.conn().unwrap();
    let activities = community_assets::store::activities::all(&mut conn).unwrap();
    let venue_of: HashMap<String, uuid::Uuid> = assets(url)
        .into_iter()
        .flat_map(|a| {
            a.sources
                .iter()
                .filter(|s| s.source == source)
                .map(|s| (s.source_id.clone(), a.id))
                .collect::<Vec<_>>()
        })
        .collect();
    let ours: Vec<_> = activities
        .iter()
        .filter(|a| a.fields.source.as_deref() == Some(source))
        .collect();
    assert_eq!(ours.len(), rhymes.len());
    for (sal, loc) in rhymes {
        let a = ours
            .iter()
            .find(|a| a.fields.source_id.as_deref() == Some(sal.as_str()))
            .unwrap_or_else(|| panic!("no activity for {sal}"));
        let f = serde_json::to_value(&a.fields).unwrap();
        assert_eq!(a.fields.asset_id, venue_of[loc]);
        assert_eq!(
            (
                &f["name"],
                &f["kind"],
                &f["audiences"],
                &f["min_age"],
                &f["max_age"],
                &f["cost"]
            ),
            (
                &json!("Rhyme time"),
                &json!("reading"),
                &json!(["carers"]),
                &json!(0),
                &json!(5),
                &json!("free")
            )
        );
        assert_eq!(
            f["schedule"],
            json!([{"freq": "WEEKLY", "byday": "TU", "opens_at": "10:30", "closes_at": "11:00",
                "valid_from": "2026-01-05"}])
        );
    }
}

fn a_directory_of_pages_imports_every_located_venue_once_and_again_changes_nothing(
    backend: Backend,
) {
    let db = TestDb::new(backend);
    let (pages, want) = library_feed(120);
    assert!(pages.len() >= 3);
    let dir = db.temp_path("feed");
    write_pages(&dir, &pages);
    // A dry run says so and changes nothing.
    let dry = import_json(&db.url, &dir, "libraries-oruk", &["--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(assets(&db.url).len(), 0);
    assert_eq!(dry["activities"]["inserted"], rhyme_times(&pages).len());
    assert_eq!(activity_count(&db.url), 0);
    let r = import_json(&db.url, &dir, "libraries-oruk", &[]);
    let placed = r["inserted"].as_u64().unwrap()
        + r["linked"].as_u64().unwrap()
        + r["to_review"].as_u64().unwrap();
    assert_eq!(placed as usize, want.len(), "{r}");
    assert_eq!(dry["inserted"], r["inserted"]);
    assert_eq!(r["rejected_total"], 0);
    // Every location without a category term or a telling name is a community centre, said.
    let fallbacks = want.values().filter(|w| w.4 == "community_centre").count();
    assert!(fallbacks > 0);
    let said = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["field"] == "category")
        .count();
    assert_eq!(said, fallbacks, "{r}");
    // Real, distinct libraries: each is new.
    assert_eq!(
        (r["to_review"].as_u64(), r["linked"].as_u64()),
        (Some(0), Some(0))
    );
    check_venues(&db.url, "libraries-oruk", &want);
    let count = assets(&db.url).len();
    // Each rhyme time is an activity at its library; our visit services are not.
    let rhymes = rhyme_times(&pages);
    assert!(rhymes.len() >= 10);
    assert_eq!(r["activities"]["inserted"], rhymes.len(), "{r}");
    check_rhyme_times(&db.url, "libraries-oruk", &rhymes);
    // Again: nothing new, nothing changed.
    let again = import_json(&db.url, &dir, "libraries-oruk", &[]);
    assert_eq!(again["inserted"], 0, "{again}");
    assert_eq!(again["updated"], 0, "{again}");
    assert_eq!(assets(&db.url).len(), count);
    assert_eq!(again["activities"]["unchanged"], rhymes.len(), "{again}");
    assert_eq!(again["activities"]["inserted"], 0, "{again}");
    check_rhyme_times(&db.url, "libraries-oruk", &rhymes);
    // Through the API, a page imports the same venues (already there: unchanged).
    let app = TestApp::spawn_at(&db.url, &[]);
    app.add_user("ed", "editor", "an editor's long passphrase");
    let token = app.token("ed", "an editor's long passphrase");
    let auth = format!("Bearer {token}");
    let r = app.send(
        "POST",
        "/v1/admin/imports?format=oruk&source=libraries-oruk",
        &[("Authorization", &auth)],
        Some(&pages[0].to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["inserted"], 0, "{}", r.body);
    assert_eq!(assets(&db.url).len(), count);
}

fn a_location_without_coordinates_rejects_the_feed_or_is_reported(backend: Backend) {
    let db = TestDb::new(backend);
    let (mut pages, want) = library_feed(60);
    // The sixth service of page 2 loses its position.
    let s = &mut pages[1]["contents"][5];
    let loc = if s.get("locations").is_some() {
        &mut s["locations"][0]
    } else {
        &mut s["service_at_locations"][0]["location"]
    };
    loc.as_object_mut().unwrap().remove("latitude");
    loc.as_object_mut().unwrap().remove("longitude");
    let field = if s.get("locations").is_some() {
        "contents[5].locations[0]"
    } else {
        "contents[5].service_at_locations[0].location"
    };
    let dir = db.temp_path("feed");
    write_pages(&dir, &pages);
    let (ok, _, err) = run(
        &db.url,
        &["import", "oruk", dir.to_str().unwrap(), "--source", "libs"],
    );
    assert!(!ok);
    // Two pages: the second gzipped.
    assert_eq!(pages.len(), 2);
    let at = format!("page-2.json.gz: {field}: latitude: a location needs latitude and longitude");
    assert!(err.contains(&at), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(assets(&db.url).len(), 0);
    // Skipping invalid rows: the others go in, the one is reported.
    let r = import_json(&db.url, &dir, "libs", &["--skip-invalid"]);
    assert_eq!(r["rejected_total"], 1, "{r}");
    assert_eq!(
        r["rejected"][0]["location"],
        format!("page-2.json.gz: {field}")
    );
    assert_eq!(r["rejected"][0]["field"], "latitude");
    let placed = r["inserted"].as_u64().unwrap()
        + r["linked"].as_u64().unwrap()
        + r["to_review"].as_u64().unwrap();
    assert_eq!(placed as usize, want.len() - 1);
}

fn activity_count(url: &str) -> usize {
    let store = Store::open(url).unwrap();
    let mut conn = store.conn().unwrap();
    community_assets::store::activities::all(&mut conn)
        .unwrap()
        .len()
}

fn an_invalid_activity_rejects_the_feed_or_is_reported(backend: Backend) {
    let db = TestDb::new(backend);
    let (mut pages, want) = library_feed(60);
    assert_eq!(pages.len(), 2, "page 1 plain, page 2 gzipped");
    // The second rhyme time is for ages 10 to 5.
    let at = pages[0]["contents"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, s)| s["name"] == "Rhyme time")
        .nth(1)
        .map(|(i, _)| i)
        .unwrap();
    pages[0]["contents"][at]["minimum_age"] = json!(10);
    let dir = db.temp_path("feed");
    write_pages(&dir, &pages);
    let (ok, _, err) = run(
        &db.url,
        &["import", "oruk", dir.to_str().unwrap(), "--source", "libs"],
    );
    assert!(!ok);
    let said = format!("page-1.json: contents[{at}]: activity.max_age: 5 is below min_age 10");
    assert!(err.contains(&said), "{err}");
    assert_eq!((assets(&db.url).len(), activity_count(&db.url)), (0, 0));
    // Skipping: every venue and the other activities go in; the one is reported.
    let r = import_json(&db.url, &dir, "libs", &["--skip-invalid"]);
    assert_eq!(r["rejected_total"], 1, "{r}");
    assert_eq!(
        r["rejected"][0]["location"],
        format!("page-1.json: contents[{at}]")
    );
    assert_eq!(r["inserted"], want.len());
    let rhymes = rhyme_times(&pages).len();
    assert_eq!(r["activities"]["inserted"], rhymes - 1);
    assert_eq!(activity_count(&db.url), rhymes - 1);
}

fn malformed_json_names_file_and_position_and_changes_nothing(backend: Backend) {
    let db = TestDb::new(backend);
    let (pages, _) = library_feed(60);
    let dir = db.temp_path("feed");
    write_pages(&dir, &pages);
    // Page 1 cut short: a truncated download.
    let text = pages[0].to_string();
    std::fs::write(dir.join("page-1.json"), &text[..text.len() / 2]).unwrap();
    let (ok, _, err) = run(
        &db.url,
        &[
            "import",
            "oruk",
            dir.to_str().unwrap(),
            "--source",
            "libs",
            "--skip-invalid",
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("page-1.json: -: is not valid JSON: EOF while parsing")
            && err.contains("at line 1 column"),
        "{err}"
    );
    assert_eq!(assets(&db.url).len(), 0);
    // A directory with no feed, and a missing source, are refused too.
    let empty = db.temp_path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (ok, _, err) = run(
        &db.url,
        &["import", "oruk", empty.to_str().unwrap(), "--source", "x"],
    );
    assert!(
        !ok && err.contains("has no .json or .json.gz files"),
        "{err}"
    );
    let (ok, _, _) = run(&db.url, &["import", "oruk", dir.to_str().unwrap()]);
    assert!(!ok);
}

fn the_api_imports_a_page_like_the_command_line(backend: Backend) {
    let app = TestApp::spawn(backend, &[]);
    app.add_user("ed", "editor", "an editor's long passphrase");
    let auth = format!("Bearer {}", app.token("ed", "an editor's long passphrase"));
    let post = |query: &str, body: &[u8]| {
        let req = ureq::post(&format!("{}/v1/admin/imports?{query}", app.base_url))
            .set("Authorization", &auth)
            .set("Content-Type", "application/json");
        crate::support::finish("POST", query, req.send_bytes(body))
    };
    let (pages, want) = library_feed(50);
    let page = pages[0].to_string();
    // No source: a problem naming it.
    let r = post("format=oruk", page.as_bytes());
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("source"), "{}", r.body);
    // Bad JSON: 422 with the position, nothing imported.
    let r = post("format=oruk&source=libs", &page.as_bytes()[..100]);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("is not valid JSON") && r.body.contains("line 1 column"),
        "{}",
        r.body
    );
    // A dry run changes nothing; the page gzipped imports every venue on it.
    let r = post("format=oruk&source=libs&dry_run=true", page.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(assets(&app.url).len(), 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(page.as_bytes()).unwrap();
    let r = post("format=oruk&source=libs", &gz.finish().unwrap());
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    let on_page: Vec<String> = expected(&pages[0])
        .locations
        .iter()
        .map(|(_, l)| l["id"].as_str().unwrap().to_string())
        .collect();
    let placed = report["inserted"].as_u64().unwrap()
        + report["linked"].as_u64().unwrap()
        + report["to_review"].as_u64().unwrap();
    assert_eq!(placed as usize, on_page.len(), "{report}");
    assert_eq!(
        (report["to_review"].as_u64(), report["linked"].as_u64()),
        (Some(0), Some(0))
    );
    let want: BTreeMap<_, _> = want
        .into_iter()
        .filter(|(k, _)| on_page.contains(k))
        .collect();
    check_venues(&app.url, "libs", &want);
    // The official example (off the globe) with on_error=skip: reported by path.
    let example = std::fs::read(shared(
        "oruk/validator-mocks/V3.0-UK-Default/service_full.json",
    ))
    .unwrap();
    let r = post("format=oruk&source=libs&on_error=skip", &example);
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    assert_eq!(
        report["rejected"][0]["location"],
        "service_at_locations[0].location"
    );
    assert_eq!(report["rejected"][0]["field"], "lat");
    let r = post("format=oruk&source=libs", &example);
    assert_eq!(r.status, 422, "{}", r.body);
}

/// Round trip: every page of this service's own `/oruk/services?full=true` over the real
/// libraries, saved as files and imported into an empty database, gives back every
/// published library with the same fields. The address, town and postcode come back
/// where the feed could publish an address (the schema requires a street, a town and a
/// postcode together: the publisher leaves out the others' addresses).
fn our_own_oruk_feed_of_the_real_libraries_imports_as_the_same_venues(backend: Backend) {
    let app = TestApp::with_libraries(backend);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    community_assets::synth::seed_activities(&app.store, 300, 7, today).unwrap();
    app.state.refresh().unwrap();
    // A kind and an audience an admin added travel too (the importing database has them).
    app.add_user("root", "admin", "a long admin password");
    let admin = format!("Bearer {}", app.token("root", "a long admin password"));
    let added = [("activity-kinds", "gardening"), ("audiences", "veterans")];
    for (list, slug) in added {
        let body = json!({"label": slug, "description": "Added by an admin"}).to_string();
        let path = format!("/v1/admin/{list}/{slug}");
        let r = app.send("PUT", &path, &[("Authorization", &admin)], Some(&body));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let first = app.get("/v1/activities?limit=1").json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/admin/activities/{first}");
    let r = app.send("GET", &path, &[("Authorization", &admin)], None);
    let etag = r.header("etag").unwrap().to_string();
    let change = json!({"kind": "gardening", "audiences": ["veterans", "carers"]}).to_string();
    let headers = [
        ("Authorization", admin.as_str()),
        ("If-Match", etag.as_str()),
    ];
    let r = app.send("PATCH", &path, &headers, Some(&change));
    assert_eq!(r.status, 200, "{}", r.body);
    let dir = app.temp_path("feed");
    std::fs::create_dir_all(&dir).unwrap();
    let mut page = 1;
    loop {
        let r = app.get(&format!(
            "/oruk/services?full=true&per_page=500&page={page}"
        ));
        assert_eq!(r.status, 200, "{}", r.body);
        std::fs::write(dir.join(format!("page-{page:04}.json")), &r.body).unwrap();
        if r.json()["last_page"] == true {
            break;
        }
        page += 1;
    }
    let published: Vec<Asset> = assets(&app.url)
        .into_iter()
        .filter(|a| a.fields.status.as_str() == "published")
        .collect();
    let store = Store::open(&app.url).unwrap();
    let activities: Vec<_> = community_assets::store::activities::all(&mut store.conn().unwrap())
        .unwrap()
        .into_iter()
        .filter(|a| a.fields.status.as_str() == "published")
        .collect();
    assert!(activities.len() > 100);
    let busy: std::collections::HashSet<uuid::Uuid> =
        activities.iter().map(|a| a.fields.asset_id).collect();
    assert!(published.len() > 1000);
    let empty = TestDb::new(backend);
    let mut conn = Store::open(&empty.url).unwrap().conn().unwrap();
    for (list, slug) in [
        (TermList::Kinds, "gardening"),
        (TermList::Audiences, "veterans"),
    ] {
        let term = Term {
            slug: slug.into(),
            label: slug.into(),
            description: String::new(),
        };
        community_assets::store::activities::put_term(&mut conn, list, &term, "test").unwrap();
    }
    drop(conn);
    let r = import_json(&empty.url, &dir, "ours", &[]);
    assert_eq!(r["rejected_total"], 0, "{r}");
    assert_eq!(
        r["inserted"].as_u64().unwrap()
            + r["linked"].as_u64().unwrap()
            + r["to_review"].as_u64().unwrap(),
        published.len() as u64,
        "{r}"
    );
    let back: HashMap<String, Asset> = assets(&empty.url)
        .into_iter()
        .filter_map(|a| Some((a.sources.first()?.source_id.clone(), a)))
        .collect();
    // Rows the matcher linked to an earlier row of the feed (two libraries at one place)
    // share an asset; every other library is its own venue again.
    let mut compared = 0;
    for a in &published {
        let Some(b) = back.get(&a.id.to_string()) else {
            continue;
        };
        compared += 1;
        let (f, g) = (&a.fields, &b.fields);
        let what = &f.name;
        assert_eq!(
            (&g.name, &g.category, g.lat, g.lon),
            (&f.name, &f.category, f.lat, f.lon),
            "{what}"
        );
        // The location carries the description, the organization the website and e-mail.
        assert_eq!(
            (g.wheelchair, &g.description, &g.website, &g.email),
            (f.wheelchair, &f.description, &f.website, &f.email),
            "{what}"
        );
        // A venue with activities is published through their services only: its own
        // hours, cost and phone have no record to travel in (see the docs).
        if !busy.contains(&a.id) {
            assert_eq!(
                (&g.phone, &g.opening_hours, g.cost),
                (&f.phone, &f.opening_hours, f.cost),
                "{what}"
            );
        }
        if f.address.is_some() && f.postcode.is_some() && f.town.is_some() {
            assert_eq!(
                (&g.address, &g.town, &g.postcode),
                (&f.address, &f.town, &f.postcode),
                "{what}"
            );
        }
    }
    // Every published library comes back as its own venue (none linked to another).
    assert_eq!(compared, published.len(), "{r}");
    assert_eq!(compared as u64, r["inserted"].as_u64().unwrap());
    // Every published activity comes back, field for field, at its venue.
    assert_eq!(r["activities"]["inserted"], activities.len(), "{r}");
    let mut conn = Store::open(&empty.url).unwrap().conn().unwrap();
    let imported = community_assets::store::activities::all(&mut conn).unwrap();
    let by_key: HashMap<String, _> = imported
        .iter()
        .map(|a| (a.fields.source_id.clone().unwrap_or_default(), a))
        .collect();
    for a in &activities {
        let key = community_assets::oruk::ids::service_at_location(a.id, a.fields.asset_id);
        let b = by_key
            .get(&key.to_string())
            .unwrap_or_else(|| panic!("{} not imported", a.fields.name));
        assert_eq!(b.fields.asset_id, back[&a.fields.asset_id.to_string()].id);
        let want = community_assets::domain::activity::ActivityFields {
            asset_id: b.fields.asset_id,
            source: Some("ours".into()),
            source_id: Some(key.to_string()),
            ..a.fields.clone()
        };
        assert_eq!(b.fields, want, "{}", a.fields.name);
    }
    let gardening = imported
        .iter()
        .find(|a| a.fields.kind == "gardening")
        .unwrap();
    assert_eq!(gardening.fields.audiences, ["carers", "veterans"]);
}
