//! Raw files as published, through a mapping: the real 2016 libraries register with its own
//! columns, some rows' coordinates removed so that they are placed at their postcode (from
//! a subset of the real Code-Point Open file); CRLF files with errors at known lines;
//! `--skip-invalid` and `on_error=skip`; Windows-1252. On SQLite and PostgreSQL.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use crate::support::{self, on_both_backends, shared_data, url_encode, Backend, TestApp, TestDb};

on_both_backends!(
    the_raw_libraries_file_imports_through_a_mapping_with_postcodes,
    crlf_files_report_errors_and_decisions_at_their_lines,
);

const RAW_LIBRARIES: &str = "libraries_england_2016.csv";
const POSTCODES: &str = "postcodes_gb_codepoint_open_2025_10.csv.gz";

/// A postcode that is well formed and not a live postcode.
const UNKNOWN_POSTCODE: &str = "ZZ99 9ZZ";

/// The real postcode file's rows for `wanted` (normalised postcodes): header and rows as
/// published, and each one's lat/lon as the file gives them.
fn postcode_subset(wanted: &HashSet<String>) -> (String, HashMap<String, (f64, f64)>) {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(shared_data(POSTCODES)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut lines = text.lines();
    let mut subset = format!("{}\n", lines.next().unwrap());
    let mut positions = HashMap::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        if wanted.contains(cells[0]) && !cells[4].is_empty() {
            subset.push_str(line);
            subset.push('\n');
            positions.insert(
                cells[0].to_string(),
                (cells[4].parse().unwrap(), cells[5].parse().unwrap()),
            );
        }
    }
    (subset, positions)
}

/// `IG117NB` → `IG11 7NB`, written here independently of the crate's normaliser.
fn spaced(p: &str) -> String {
    let p: String = p.split_whitespace().collect::<String>().to_uppercase();
    format!("{} {}", &p[..p.len() - 3], &p[p.len() - 3..])
}

fn the_raw_libraries_file_imports_through_a_mapping_with_postcodes(backend: Backend) {
    let db = TestDb::new(backend);
    // The raw file, every 10th library without coordinates, and one more row whose
    // postcode is unknown.
    let mut rdr = csv::Reader::from_path(shared_data(RAW_LIBRARIES)).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (lat, lng, postcode, id, closed) = (
        col("lat"),
        col("lng"),
        col("postcode"),
        col("id"),
        col("closed"),
    );
    let mut records: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let mut unplaced: HashMap<String, String> = HashMap::new(); // id → postcode
    for (i, r) in records.iter_mut().enumerate() {
        if i % 10 == 3 {
            let mut cells: Vec<String> = r.iter().map(str::to_string).collect();
            cells[lat].clear();
            cells[lng].clear();
            unplaced.insert(cells[id].clone(), spaced(&cells[postcode]));
            *r = csv::StringRecord::from(cells);
        }
    }
    let mut extra: Vec<String> = records[0].iter().map(str::to_string).collect();
    (extra[id], extra[lat], extra[lng], extra[postcode]) = (
        "99999".into(),
        String::new(),
        String::new(),
        UNKNOWN_POSTCODE.into(),
    );
    extra[0] = "Nowhere Library".into();
    records.push(csv::StringRecord::from(extra));
    let raw = db.temp_path("libraries_raw.csv");
    let mut w = csv::Writer::from_path(&raw).unwrap();
    w.write_record(&headers).unwrap();
    for r in &records {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    // The last record is on the file's last line (notes have quoted line breaks, so this
    // is not the record count).
    let extra_line = std::fs::read_to_string(&raw).unwrap().matches('\n').count();
    assert!(extra_line > records.len() + 1);

    // Only the postcodes needed, from the real file, so that CI stays fast.
    let wanted: HashSet<String> = unplaced.values().cloned().collect();
    let (subset, positions) = postcode_subset(&wanted);
    let postcodes = db.temp_path("postcodes_subset.csv");
    std::fs::write(&postcodes, &subset).unwrap();

    // First as Code-Point Open publishes them: headerless per-area files in a directory,
    // easting and northing only, postcodes without their space; converted to within 2 m
    // of the file's own (OSTN15) positions.
    let dir = db.temp_path("codepo_gb");
    std::fs::create_dir(&dir).unwrap();
    let mut areas: HashMap<String, String> = HashMap::new();
    for line in subset.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        let area: String = c[0]
            .chars()
            .take_while(|ch| ch.is_ascii_alphabetic())
            .collect();
        let row = format!(
            "\"{}\",{},{},{},\"{}\",\"\",\"\",\"\",\"{}\",\"\"\r\n",
            c[0].replace(' ', ""),
            c[1],
            c[2],
            c[3],
            c[6],
            c[7]
        );
        areas.entry(area.to_lowercase()).or_default().push_str(&row);
    }
    for (area, rows) in &areas {
        std::fs::write(dir.join(format!("{area}.csv")), rows).unwrap();
    }
    let out = support::cli(
        &db.url,
        &["import", "postcodes", dir.to_str().unwrap()],
        &[],
    );
    assert!(
        out.contains(&format!(
            "imported {} postcode(s) from {} file(s)",
            positions.len(),
            areas.len()
        )),
        "{out}"
    );
    for (pc, &(lat, lon)) in positions.iter().take(50) {
        let sql =
            format!("SELECT CAST(lat * 1e7 AS BIGINT) AS n FROM postcodes WHERE postcode = '{pc}'");
        let got_lat = support::sql_number(&db.url, &sql) as f64 / 1e7;
        let sql = sql.replace("lat * 1e7", "lon * 1e7");
        let got_lon = support::sql_number(&db.url, &sql) as f64 / 1e7;
        let d = support::brute_haversine(lat, lon, got_lat, got_lon);
        assert!(d < 2.0, "{pc}: {d:.1} m from the file's position");
    }
    // Then the headed file, whose positions replace those.
    let out = support::cli(
        &db.url,
        &["import", "postcodes", postcodes.to_str().unwrap()],
        &[],
    );
    assert!(
        out.contains(&format!(
            "imported {} postcode(s) from 1 file(s)",
            positions.len()
        )),
        "{out}"
    );
    // Libraries whose 2016 postcode is no longer live are rejected too, naming it.
    let dead: HashSet<&String> = unplaced
        .iter()
        .filter(|(_, p)| !positions.contains_key(*p))
        .map(|(id, _)| id)
        .collect();

    let rejects = db.temp_path("rejects.csv");
    let args = [
        "import",
        "assets",
        raw.to_str().unwrap(),
        "--json",
        "--set",
        "category=library",
        "--set",
        "source=libraries-2016-raw",
        "--map",
        "lon=lng",
        "--map",
        "website=url",
        "--map",
        "description=notes",
        "--map",
        "status=closed",
        "--value",
        "status:*=archived",
        "--map",
        "tags=type",
        "--id-column",
        "id",
        "--skip-invalid",
        "--rejects",
        rejects.to_str().unwrap(),
    ];
    let report: serde_json::Value =
        serde_json::from_str(&support::cli(&db.url, &args, &[])).unwrap();
    let expected_rejected = 1 + dead.len();
    assert_eq!(
        report["rejected_total"], expected_rejected,
        "{}",
        report["rejected"]
    );
    // Every valid row is new, or another record of a place an earlier row created (the
    // list has a few libraries twice at one place).
    let count = |k: &str| report[k].as_u64().unwrap() as usize;
    assert_eq!(
        count("inserted") + count("linked") + count("to_review"),
        records.len() - expected_rejected,
        "{report}"
    );
    let nowhere = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["value"] == UNKNOWN_POSTCODE)
        .expect("the unknown postcode is rejected");
    assert_eq!(
        (nowhere["location"].as_str(), nowhere["field"].as_str()),
        (Some(&*format!("line {extra_line}")), Some("postcode"))
    );
    let rejects_csv = std::fs::read_to_string(&rejects).unwrap();
    assert!(
        rejects_csv.starts_with("line,field,value,reason\n"),
        "{rejects_csv}"
    );
    assert!(
        rejects_csv.contains(&format!("{extra_line},postcode,{UNKNOWN_POSTCODE},")),
        "{rejects_csv}"
    );

    // Through the public API: positions, precision, status from `closed`.
    let app = TestApp::spawn_at(&db.url, &[]);
    let mut seen = 0;
    for (source_id, pc) in unplaced
        .iter()
        .filter(|(id, _)| !dead.contains(id))
        .take(40)
    {
        let r = app.get(&format!(
            "/v1/assets?near_postcode={}&radius_m=1&limit=50",
            pc.replace(' ', "%20")
        ));
        assert_eq!(r.status, 200, "{}", r.body);
        let items = r.json()["items"].as_array().unwrap().clone();
        let Some(item) = items.iter().find(|i| i["source_id"] == source_id.as_str()) else {
            // Closed libraries are archived, and not public.
            continue;
        };
        seen += 1;
        assert_eq!(item["location_precision"], "postcode", "{item}");
        let (plat, plon) = positions[pc];
        assert!(
            (item["lat"].as_f64().unwrap() - plat).abs() < 1e-9
                && (item["lon"].as_f64().unwrap() - plon).abs() < 1e-9,
            "{item}"
        );
    }
    assert!(seen > 20, "only {seen} geocoded libraries found");
    // A library with its own coordinates is exact, where the file put it.
    let first = &records[0];
    let r = app.get(&format!(
        "/v1/assets?near={},{}&radius_m=1",
        &first[lat], &first[lng]
    ));
    let item = &r.json()["items"][0];
    assert_eq!(
        (item["name"].as_str(), item["location_precision"].as_str()),
        (Some(first[0].trim()), Some("exact")),
        "{}",
        r.body
    );
    assert_eq!(item["website"], "https://www.lbbd.gov.uk/libraries");
    // Closed libraries (any `closed` value) are archived: 252 in the file.
    let closed_count = records
        .iter()
        .filter(|r| !r[closed].trim().is_empty())
        .count();
    assert_eq!(closed_count, 252);
    let archived = support::sql_number(
        &db.url,
        "SELECT COUNT(*) AS n FROM assets WHERE status = 'archived'",
    );
    let archived_rejected = records
        .iter()
        .filter(|r| dead.contains(&r[id].to_string()) && !r[closed].trim().is_empty())
        .count();
    assert_eq!(archived as usize, closed_count - archived_rejected);

    // Moving a geocoded asset by hand makes its position exact.
    app.add_user("ed", "editor", "an editor's passphrase");
    let bearer = format!("Bearer {}", app.token("ed", "an editor's passphrase"));
    let all = app.send(
        "GET",
        "/v1/admin/export?format=geojson",
        &[("Authorization", &bearer)],
        None,
    );
    let features = all.json()["features"].as_array().unwrap().clone();
    let geocoded = features
        .iter()
        .filter(|f| f["properties"]["location_precision"] == "postcode");
    let ids: HashSet<&str> = geocoded
        .clone()
        .map(|f| f["properties"]["source_id"].as_str().unwrap())
        .collect();
    let expected: HashSet<&str> = unplaced
        .keys()
        .filter(|id| !dead.contains(id))
        .map(String::as_str)
        .collect();
    assert_eq!(
        ids, expected,
        "exactly the rows without coordinates are placed by postcode"
    );
    let feature = geocoded
        .clone()
        .find(|f| f["properties"]["status"] == "published")
        .unwrap();
    let (asset_id, version) = (
        feature["id"].as_str().unwrap().to_string(),
        feature["properties"]["version"].as_i64().unwrap(),
    );
    let r = app.send(
        "PATCH",
        &format!("/v1/admin/assets/{asset_id}"),
        &[
            ("Authorization", &bearer),
            ("If-Match", &format!("\"{version}\"")),
            ("Content-Type", "application/json"),
        ],
        Some(r#"{"lat": 52.0}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["location_precision"], "exact", "{}", r.body);

    // near_postcode: unknown and malformed are 400s naming them.
    let r = app.get("/v1/assets?near_postcode=ZZ99%209ZZ");
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("ZZ99 9ZZ") && r.body.contains("near_postcode"),
        "{}",
        r.body
    );
    let r = app.get("/v1/assets?near_postcode=banana");
    assert_eq!(r.status, 400, "{}", r.body);
}

/// The admin API takes the mapping as JSON (`mapping=`), and names what is wrong with one.
#[test]
fn the_api_takes_a_mapping_as_json() {
    let app = TestApp::spawn(Backend::Sqlite, &[]);
    app.add_user("ed", "editor", "an editor's passphrase");
    let bearer = format!("Bearer {}", app.token("ed", "an editor's passphrase"));
    let body =
        "Venue,Ref,Lat,Lng,Closed\nCornerhouse,c1,53.4771,-2.2398,\nOld Hall,c2,53.47,-2.24,yes\n";
    let post = |mapping: &str| {
        let q: String = url_encode(mapping);
        app.send(
            "POST",
            &format!("/v1/admin/imports?format=csv&mapping={q}"),
            &[("Authorization", &bearer), ("Content-Type", "text/csv")],
            Some(body),
        )
    };
    let mapping = r#"{"map":{"name":"Venue","lat":"Lat","lon":"Lng","status":"Closed"},
        "set":{"category":"arts_centre","source":"api-raw"},"values":{"status":{"*":"archived"}},
        "id_column":"Ref"}"#;
    let r = post(mapping);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["inserted"], 2, "{}", r.body);
    let r = app.get("/v1/assets?q=cornerhouse");
    assert_eq!(r.json()["items"][0]["source_id"], "c1", "{}", r.body);
    assert_eq!(
        app.get("/v1/assets?q=old%20hall").json()["total"],
        0,
        "archived"
    );
    let r = post(r#"{"map":{"lon":"Longitude","colour":"Venue"}}"#);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Longitude") && r.body.contains("colour"),
        "{}",
        r.body
    );
    let r = post(r#"{"mapp":{}}"#);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("mapping"), "{}", r.body);
}

/// Without postcodes, `near_postcode` is a 409 that says to import them.
#[test]
fn near_postcode_without_postcodes_is_a_conflict() {
    let app = TestApp::spawn(Backend::Sqlite, &[]);
    let r = app.get("/v1/assets?near_postcode=SW1A%202AA");
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("import postcodes"), "{}", r.body);
}

const HEADER: &str = "source,source_id,name,category,lat,lon,address";

/// CRLF (as Excel writes), a quoted line break at line 3, a blank line: a bad category at
/// line 6, a bad latitude at line 8, and at line 9 a duplicate key of line 2.
fn crlf_file() -> String {
    [
        HEADER,
        "crlf,1,Alpha,library,51.5,-0.1,",
        "crlf,2,Beta,library,51.6,-0.1,\"1 High Street\r\nTown\"",
        "crlf,3,Gamma,museum,51.7,-0.1,",
        "crlf,4,Delta,zoo,51.8,-0.1,",
        "",
        "crlf,5,Epsilon,museum,95,-0.1,",
        "crlf,1,Zeta,museum,51.9,-0.1,",
    ]
    .join("\r\n")
        + "\r\n"
}

fn crlf_files_report_errors_and_decisions_at_their_lines(backend: Backend) {
    let expected = ["line 6: category", "line 8: lat", "line 9: source_id"];
    let db = TestDb::new(backend);
    let path = db.temp_path("crlf.csv");
    std::fs::write(&path, crlf_file()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_community-assets"))
        .args(["import", "assets", path.to_str().unwrap()])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("line ")).collect();
    assert_eq!(lines.len(), 3, "{err}");
    for (line, want) in lines.iter().zip(expected) {
        assert!(line.starts_with(want), "{line:?} is not at {want:?}: {err}");
    }
    assert!(lines[0].ends_with("(value \"zoo\")"), "{err}");

    // The same file through the API; then with on_error=skip.
    let app = TestApp::spawn(backend, &[]);
    app.add_user("ed", "editor", "an editor's passphrase");
    let bearer = format!("Bearer {}", app.token("ed", "an editor's passphrase"));
    let post = |query: &str| {
        app.send(
            "POST",
            &format!("/v1/admin/imports?format=csv{query}"),
            &[("Authorization", &bearer), ("Content-Type", "text/csv")],
            Some(&crlf_file()),
        )
    };
    let r = post("");
    assert_eq!(r.status, 422, "{}", r.body);
    let names: Vec<String> = r.json()["invalid-params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, expected, "{}", r.body);
    let r = post("&on_error=skip");
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    assert_eq!(
        (
            report["inserted"].as_u64(),
            report["rejected_total"].as_u64()
        ),
        (Some(3), Some(3)),
        "{report}"
    );
    let rejected: Vec<(String, String, String)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["location"].as_str().unwrap().into(),
                e["field"].as_str().unwrap().into(),
                e["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [
            ("line 6".into(), "category".into(), "zoo".into()),
            ("line 8".into(), "lat".into(), "95".into()),
            ("line 9".into(), "source_id".into(), "1".into()),
        ]
    );
    // The matcher's decisions name their lines too: rows 10 m from Alpha, the first with a
    // quoted line break.
    let near_alpha = format!(
        "{HEADER}\r\ncrlf,9,Alpha,library,51.50009,-0.1,\"1 High St\r\nTown\"\r\n\
         crlf,10,Alpha,library,51.5001,-0.1,\r\n"
    );
    let r = app.send(
        "POST",
        "/v1/admin/imports?format=csv&dry_run=true",
        &[("Authorization", &bearer), ("Content-Type", "text/csv")],
        Some(&near_alpha),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let held: Vec<String> = r.json()["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["outcome"] != "new")
        .map(|d| d["location"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(held, ["line 2", "line 4"], "{}", r.body);
}

/// A raw file saved by Excel as Windows-1252, with `é`, `£` and `’`: read as such (with a
/// warning), or as declared.
#[test]
fn windows_1252_files_are_detected_or_declared() {
    let db = TestDb::new(Backend::Sqlite);
    let mut bytes = b"Venue,Ref,Post code,Latitude,Longitude,Notes\r\n".to_vec();
    bytes
        .extend(b"Caf\xe9 Gallery,A1,L1 8JQ,53.4013,-2.9806,Entry \xa35 \x96 it\x92s worth it\r\n");
    let path = db.temp_path("cp1252.csv");
    std::fs::write(&path, &bytes).unwrap();
    let mut args = vec![
        "import",
        "assets",
        path.to_str().unwrap(),
        "--json",
        "--map",
        "name=Venue",
        "--id-column",
        "Ref",
        "--map",
        "postcode=Post code",
        "--map",
        "lat=Latitude",
        "--map",
        "lon=Longitude",
        "--map",
        "description=Notes",
        "--set",
        "category=gallery",
        "--set",
        "source=cp1252-test",
    ];
    let report: serde_json::Value =
        serde_json::from_str(&support::cli(&db.url, &args, &[])).unwrap();
    assert_eq!(report["inserted"], 1, "{report}");
    assert!(
        report["warnings"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("Windows-1252"),
        "{report}"
    );
    use community_assets::store::schema::assets;
    use diesel::prelude::*;
    let store = community_assets::store::Store::open(&db.url).unwrap();
    let stored: (String, Option<String>, String) = assets::table
        .select((
            assets::name,
            assets::description,
            assets::location_precision,
        ))
        .first(&mut *store.conn().unwrap())
        .unwrap();
    assert_eq!(
        stored,
        (
            "Café Gallery".into(),
            Some("Entry £5 – it’s worth it".into()),
            "exact".into()
        )
    );
    args.extend(["--encoding", "windows-1252"]);
    let report: serde_json::Value =
        serde_json::from_str(&support::cli(&db.url, &args, &[])).unwrap();
    assert_eq!(
        (
            report["unchanged"].as_u64(),
            report["warnings_total"].as_u64()
        ),
        (Some(1), Some(0)),
        "{report}"
    );
}
