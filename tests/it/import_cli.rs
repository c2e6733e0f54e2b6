//! Imports are all or nothing, upsert by (source, source_id), and the command line reports
//! every problem with its line. On SQLite and PostgreSQL.

use crate::support;
use crate::support::{on_both_backends, shared_data, Backend, TestDb, LIBRARIES};
use diesel::prelude::*;
use std::io::Write;
use std::process::Command;

use community_assets::curation::imports::{import_file, ImportOptions};
use community_assets::import::{Contacts, ImportError};
use community_assets::store::schema::assets;
use community_assets::store::Store;

on_both_backends!(
    one_bad_row_changes_nothing_and_is_reported_by_line,
    reimport_updates_only_what_changed,
    gzip_and_geojson_import_the_same,
    the_command_line_and_the_api_import_a_file_alike,
);

const HEADER: &str = "source,source_id,name,category,lat,lon,address,town,postcode,website,phone,email,opening_hours,wheelchair,cost,description,tags,status";

fn count(store: &Store) -> i64 {
    assets::table
        .count()
        .get_result(&mut *store.conn().unwrap())
        .unwrap()
}

/// 1,000 valid rows, one of them with a quoted line break, then one bad row at a known line.
fn big_file_with_one_bad_row() -> (String, usize) {
    let mut s = format!("{HEADER}\n");
    for i in 0..1000 {
        let address = if i == 10 {
            "\"1 High Street\nSecond line\""
        } else {
            ""
        };
        s.push_str(&format!(
            "bulk,{i},Place {i},museum,{},-1.5,{address},,,,,,,,,,,\n",
            52.0 + i as f64 * 1e-4
        ));
    }
    // Lines: header 1, rows 2..=1001, plus one extra physical line from the line break.
    s.push_str("bulk,bad,Bad Place,zoo,52.5,-1.5,,,,,,,,,,,,\n");
    (s, 1003)
}

fn one_bad_row_changes_nothing_and_is_reported_by_line(backend: Backend) {
    let db = TestDb::new(backend);
    let store = Store::open(&db.url).unwrap();
    import_file(&store, &shared_data(LIBRARIES), &ImportOptions::default()).unwrap();
    let before = count(&store);
    let (csv, bad_line) = big_file_with_one_bad_row();
    let path = db.temp_path("big.csv");
    std::fs::write(&path, csv).unwrap();
    match import_file(&store, &path, &ImportOptions::default()) {
        Err(ImportError::Rejected(errors)) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].location, format!("line {bad_line}"));
            assert_eq!(errors[0].field, "category");
        }
        other => panic!("{backend:?}: expected a rejection, got {other:?}"),
    }
    assert_eq!(
        count(&store),
        before,
        "{backend:?}: a failed import changes nothing"
    );
}

fn reimport_updates_only_what_changed(backend: Backend) {
    let db = TestDb::new(backend);
    let store = Store::open(&db.url).unwrap();
    let libs = shared_data(LIBRARIES);
    let first = import_file(&store, &libs, &ImportOptions::default()).unwrap();
    assert_eq!(
        (
            first.counts.inserted,
            first.counts.updated,
            first.counts.unchanged
        ),
        (3238, 0, 0)
    );
    assert_eq!(
        first.warnings.len(),
        75,
        "placeholder contacts in the real file (71), and 4 e-mails whose domain ends \",uk\""
    );
    let again = import_file(&store, &libs, &ImportOptions::default()).unwrap();
    assert_eq!(
        (
            again.counts.inserted,
            again.counts.updated,
            again.counts.unchanged
        ),
        (0, 0, 3238)
    );

    // Rename one library in a copy: exactly one update, version 2.
    let text = std::fs::read_to_string(&libs).unwrap();
    let changed = text.replacen(",Barking,library,", ",Barking Central Library,library,", 1);
    assert_ne!(text, changed);
    let path = db.temp_path("changed.csv");
    std::fs::write(&path, changed).unwrap();
    let third = import_file(&store, &path, &ImportOptions::default()).unwrap();
    assert_eq!(
        (
            third.counts.inserted,
            third.counts.updated,
            third.counts.unchanged
        ),
        (0, 1, 3237)
    );
    let (name, version): (String, i64) = assets::table
        .filter(assets::source_id.eq("1"))
        .select((assets::name, assets::version))
        .first(&mut *store.conn().unwrap())
        .unwrap();
    assert_eq!((name.as_str(), version), ("Barking Central Library", 2));

    // A dry run counts and changes nothing.
    let dry = import_file(
        &store,
        &libs,
        &ImportOptions {
            contacts: Contacts::Salvage,
            dry_run: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(dry.counts.updated, 1);
    let (name, _): (String, i64) = assets::table
        .filter(assets::source_id.eq("1"))
        .select((assets::name, assets::version))
        .first(&mut *store.conn().unwrap())
        .unwrap();
    assert_eq!(name, "Barking Central Library");

    // Strict mode rejects the placeholders instead.
    match import_file(
        &store,
        &libs,
        &ImportOptions {
            contacts: Contacts::Strict,
            dry_run: false,
            ..Default::default()
        },
    ) {
        // 71 placeholders, and 4 e-mails whose domain ends ",uk".
        Err(ImportError::Rejected(errors)) => assert_eq!(errors.len(), 75),
        other => panic!("expected a strict rejection, got {other:?}"),
    }
}

fn gzip_and_geojson_import_the_same(backend: Backend) {
    let db = TestDb::new(backend);
    let store = Store::open(&db.url).unwrap();
    let gz = db.temp_path("libraries.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(shared_data(LIBRARIES)).unwrap())
        .unwrap();
    enc.finish().unwrap();
    let out = import_file(&store, &gz, &ImportOptions::default()).unwrap();
    assert_eq!(out.counts.inserted, 3238);

    let geojson = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","geometry":{"type":"Point","coordinates":[-1.8904,52.4862]},
           "properties":{"source":"geo","source_id":"a","name":"Museum and Art Gallery","category":"museum",
                         "wheelchair":"yes","cost":"free","tags":["family"],"opening_hours":"Mo-Su 10:00-17:00"}}]}"#;
    let path = db.temp_path("museums.geojson");
    std::fs::write(&path, geojson).unwrap();
    let out = import_file(&store, &path, &ImportOptions::default()).unwrap();
    assert_eq!(out.counts.inserted, 1);
    let (lat, lon): (f64, f64) = assets::table
        .filter(assets::source.eq("geo"))
        .select((assets::lat, assets::lon))
        .first(&mut *store.conn().unwrap())
        .unwrap();
    assert_eq!((lat, lon), (52.4862, -1.8904));
}

#[test]
fn the_command_line_imports_and_reports_every_bad_line() {
    let db = TestDb::new(support::Backend::Sqlite);
    let bin = env!("CARGO_BIN_EXE_community-assets");
    let out = Command::new(bin)
        .args(["import", "assets"])
        .arg(shared_data(LIBRARIES))
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("inserted 3238 (252 archived), updated 0, unchanged 0"));

    let bad = db.temp_path("bad.csv");
    std::fs::write(&bad, format!("{HEADER}\ns,1,A,library,95,0,,,,,,,,,,,,\ns,2,B,library,51,0,,,XYZ,,,,Mo-Fr 25:00,,,,,\n")).unwrap();
    let out = Command::new(bin)
        .args(["import", "assets"])
        .arg(&bad)
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "line 2: lat:",
        "line 3: postcode:",
        "line 3: opening_hours:",
        "nothing was imported",
    ] {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }

    let out = Command::new(bin).arg("openapi").output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        community_assets::api::openapi_json()
    );
}

/// `import areas` with the official files as published, then a mismatched geography: the
/// command fails, names the problem, and the areas already there stay.
#[test]
fn command_line_imports_the_official_area_files() {
    use support::{DOMAINS_FILE, IMD_FILE, POINTS_2011, POPULATION_FILE};
    let db = TestDb::new(support::Backend::Sqlite);
    let bin = env!("CARGO_BIN_EXE_community-assets");
    let run = |points: &str| {
        Command::new(bin)
            .args(["import", "areas", "--imd"])
            .arg(shared_data(IMD_FILE))
            .arg("--domains")
            .arg(shared_data(DOMAINS_FILE))
            .arg("--population")
            .arg(shared_data(POPULATION_FILE))
            .arg("--points")
            .arg(shared_data(points))
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap()
    };
    let out = run(POINTS_2011);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(
        "imported 32844 areas of IoD2019 on LSOA 2011 (32844 with population, 32844 with domains, 0 with domain scores, 0 with IDACI/IDAOPI; points only)"
    ));
    let out = run("lsoa2021_centroids_england.csv.gz");
    assert!(!out.status.success());
    // The mismatch is the first problem printed, and the only one (not the last of the
    // thousands of missing rows it causes).
    let err = String::from_utf8_lossy(&out.stderr);
    let problems: Vec<&str> = err.lines().filter(|l| !l.contains("INFO")).collect();
    assert!(problems[0].starts_with("lsoa2021_centroids_england.csv.gz: geography: is LSOA 2021 but File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz is LSOA 2011"), "{err}");
    assert!(
        problems[1].contains("1 problem(s) in the area files; nothing was imported"),
        "{err}"
    );
    let store = Store::open(&db.url).unwrap();
    let areas = community_assets::store::areas::load_areas(&mut store.conn().unwrap()).unwrap();
    assert_eq!(areas.len(), 32_844);
}

/// `backup --to FILE` copies a SQLite database online; the copy opens with everything in it,
/// and an existing file is never overwritten.
#[test]
fn backup_copies_a_sqlite_database() {
    let db = TestDb::new(support::Backend::Sqlite);
    let store = Store::open(&db.url).unwrap();
    import_file(&store, &shared_data(LIBRARIES), &ImportOptions::default()).unwrap();
    let bin = env!("CARGO_BIN_EXE_community-assets");
    let to = db.temp_path("backup.sqlite3");
    let run = || {
        Command::new(bin)
            .args(["backup", "--to"])
            .arg(&to)
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = Store::open(to.to_str().unwrap()).unwrap();
    assert_eq!(count(&copy), 3238);
    let again = run();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

/// The command line and the admin API are one import pipeline: the same file gives the
/// same report (rows inserted, rows matched with their reasons, contact values salvaged) and
/// the same directory, on each backend.
fn the_command_line_and_the_api_import_a_file_alike(backend: Backend) {
    let library = support::library_rows()
        .into_iter()
        .find(|l| l.published)
        .unwrap();
    let csv = format!(
        "{HEADER}\n\
         pipeline,1,Brand New Gallery,gallery,52.1,-1.1,,,,,,NA,,,,,,\n\
         pipeline,2,{},library,{},{},,,,,,,,,,,,\n\
         pipeline,3,Riverside Arts Centre,arts_centre,51.9,-1.9,,,,,,,,,,,,\n\
         pipeline,4,Riverside Arts Centre,arts_centre,51.90005,-1.9,,,,,,,,,,,,\n",
        library.name,
        library.lat + 0.0001,
        library.lon
    );
    // Ids of published assets differ between two databases; whether there is one does not.
    let comparable = |mut report: serde_json::Value| {
        for d in report["decisions"].as_array_mut().unwrap() {
            let c = &mut d["candidate"];
            if c.is_object() {
                c["asset_id"] = c["asset_id"].is_string().into();
            }
        }
        report
    };
    let listing = |store: &Store| -> Vec<(Option<String>, Option<String>, String, String)> {
        assets::table
            .select((
                assets::source,
                assets::source_id,
                assets::name,
                assets::status,
            ))
            .order((assets::source, assets::source_id))
            .load(&mut *store.conn().unwrap())
            .unwrap()
    };
    let app = support::TestApp::with_libraries(backend);
    app.add_user("ed", "editor", "an editor's passphrase");
    let bearer = format!("Bearer {}", app.token("ed", "an editor's passphrase"));
    let api = app.send(
        "POST",
        "/v1/admin/imports?format=csv",
        &[("Authorization", &bearer), ("Content-Type", "text/csv")],
        Some(&csv),
    );
    assert_eq!(api.status, 200, "{}", api.body);
    let api = comparable(api.json());

    let db = TestDb::new(backend);
    let store = Store::open(&db.url).unwrap();
    import_file(&store, &shared_data(LIBRARIES), &ImportOptions::default()).unwrap();
    let path = db.temp_path("pipeline.csv");
    std::fs::write(&path, &csv).unwrap();
    let out = support::cli(
        &db.url,
        &[
            "import",
            "assets",
            path.to_str().unwrap(),
            "--format",
            "csv",
            "--json",
        ],
        &[],
    );
    let cli = comparable(serde_json::from_str(&out).unwrap());

    assert_eq!(api, cli, "{backend:?}: the reports differ");
    // The library is the published one (11 m away, same name): linked; the two arts
    // centres are the list's own distinct records: both new.
    assert_eq!(
        (&api["inserted"], &api["linked"]),
        (&serde_json::json!(3), &serde_json::json!(1)),
        "{backend:?}: {api}"
    );
    assert_eq!(api["warnings"][0]["field"], "email", "{api}");
    assert_eq!(listing(&app.store), listing(&store), "{backend:?}");
}
