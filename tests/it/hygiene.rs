//! Input hygiene and honest writes (issue 11): bounded import reports, CSV formula
//! neutralisation, control characters,
//! JSON media types, `If-Match: *`, no-op writes, and conflicts without database text.

use crate::support::*;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use community_assets::import::areas::AreaFiles;

on_both_backends!(
    a_small_gzip_of_many_bad_rows_gets_a_bounded_422_with_the_count,
    formulas_are_neutralised_in_every_csv_and_an_export_reimports_unchanged,
    control_characters_are_refused_naming_the_field_in_every_write_path,
    a_write_that_changes_nothing_bumps_no_version_and_audits_nothing,
    a_taken_key_is_a_409_that_names_it_without_the_database_text,
);

const EDITOR_PW: &str = "editor password 5678";
const ADMIN_PW: &str = "admin password 1234";

fn sample(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample")
        .join(file)
}

/// The Liverpool sample, an editor `ann` and an admin `root`, with their bearer headers.
fn app(backend: Backend) -> (TestApp, String, String) {
    let app = TestApp::spawn(backend, &[&sample("liverpool_assets.csv")]);
    app.add_user("ann", "editor", EDITOR_PW);
    app.add_user("root", "admin", ADMIN_PW);
    let editor = format!("Bearer {}", app.token("ann", EDITOR_PW));
    let admin = format!("Bearer {}", app.token("root", ADMIN_PW));
    (app, editor, admin)
}

/// Any request with a raw body and headers; the response whatever its status.
fn raw(app: &TestApp, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut req = ureq::request(method, &format!("{}{path}", app.base_url));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let r = finish(method, path, req.send_bytes(body));
    assert!(
        r.status < 500,
        "{method} {path} answered {}: {}",
        r.status,
        r.body
    );
    r
}

fn first_id(app: &TestApp, query: &str) -> String {
    app.get(&format!("/v1/assets?{query}")).json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn etag(app: &TestApp, auth: &str, id: &str) -> String {
    let r = app.request(
        "GET",
        &format!("/v1/admin/assets/{id}"),
        &[("Authorization", auth)],
    );
    r.header("etag").unwrap().to_string()
}

fn invalid_names(r: &Resp) -> Vec<String> {
    r.json()["invalid-params"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

fn data_version(app: &TestApp) -> i64 {
    sql_number(&app.url, "SELECT version AS n FROM data_version")
}

fn audit_entries(app: &TestApp) -> i64 {
    sql_number(&app.url, "SELECT COUNT(*) AS n FROM audit_log")
}

/// CSV records of a body, as a spreadsheet-agnostic reader sees them (no un-escaping).
fn csv_rows(body: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

// 8. Bounded error reports.

/// 200,000 rows whose six required cells are all empty: 1.2 million problems, from a gzip
/// of a few kilobytes.
fn bad_rows_gzip() -> (Vec<u8>, usize) {
    use flate2::{write::GzEncoder, Compression};
    let rows = 200_000;
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(b"source,source_id,name,category,lat,lon\n")
        .unwrap();
    for _ in 0..rows {
        gz.write_all(b",,,,,\n").unwrap();
    }
    (gz.finish().unwrap(), rows * 6)
}

fn a_small_gzip_of_many_bad_rows_gets_a_bounded_422_with_the_count(backend: Backend) {
    let (app, editor, _) = app(backend);
    let (gz, problems) = bad_rows_gzip();
    assert!(gz.len() < 16 * 1024, "{} bytes", gz.len());
    for dry_run in ["true", "false"] {
        let r = raw(
            &app,
            "POST",
            &format!("/v1/admin/imports?format=csv&dry_run={dry_run}"),
            &[
                ("Authorization", &editor),
                ("Content-Type", "application/gzip"),
            ],
            &gz,
        );
        assert_eq!(r.status, 422, "{}", &r.body[..r.body.len().min(500)]);
        assert!(r.body.len() < 200_000, "a {} byte answer", r.body.len());
        let p = r.json();
        assert_eq!(p["invalid-params"].as_array().unwrap().len(), 1000);
        assert_eq!(p["invalid-params-total"], problems);
        assert_eq!(p["invalid-params"][0]["name"], "line 2: name");
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains(&problems.to_string()) && detail.contains("first 1000"),
            "{detail}"
        );
    }
    // The health probe answers meanwhile, and nothing changed.
    assert_eq!(app.get("/health/live").status, 200);
    assert_eq!(app.get("/v1/assets?limit=1").json()["total"], 50);

    // The command line lists as many, then says how many more, in text and with --json.
    let path = app.temp_path("bad.csv.gz");
    std::fs::write(&path, &gz).unwrap();
    for json in [false, true] {
        let mut args = vec!["import", "assets", path.to_str().unwrap()];
        if json {
            args.push("--json");
        }
        let out = Command::new(env!("CARGO_BIN_EXE_community-assets"))
            .args(&args)
            .env("DATABASE_URL", &app.url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.len() < 200_000, "{} bytes on stderr", stderr.len());
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("line ")).count(),
            1000
        );
        assert!(
            stderr.contains(&format!("... and {} more problem(s)", problems - 1000)),
            "{}",
            &stderr[stderr.len().saturating_sub(400)..]
        );
        assert!(
            stderr.contains(&format!("error: {problems} problem(s) in")),
            "{}",
            &stderr[stderr.len().saturating_sub(400)..]
        );
    }
}

#[test]
fn an_import_report_lists_at_most_1000_warnings_and_decisions_with_their_totals() {
    let (app, editor, _) = app(Backend::Sqlite);
    // 1,500 rows with a placeholder e-mail (a warning each), at one point with one name:
    // one list's own rows are distinct records, so each is new.
    let mut csv = String::from("source,source_id,name,category,lat,lon,email\n");
    for i in 0..1500 {
        csv.push_str(&format!("t,{i},Same Cafe,cafe,53.41,-2.97,NA\n"));
    }
    let r = raw(
        &app,
        "POST",
        "/v1/admin/imports?format=csv&dry_run=true",
        &[("Authorization", &editor), ("Content-Type", "text/csv")],
        csv.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    assert_eq!(report["inserted"], 1500);
    assert_eq!(report["decisions"].as_array().unwrap().len(), 1000);
    assert_eq!(report["decisions_total"], 1500);
    assert_eq!(report["warnings"].as_array().unwrap().len(), 1000);
    assert_eq!(report["warnings_total"], 1500);
}

// 10. CSV neutralisation.

fn formulas_are_neutralised_in_every_csv_and_an_export_reimports_unchanged(backend: Backend) {
    let (app, editor, _) = app(backend);
    app.import_areas(&AreaFiles {
        imd: sample("iod2019_liverpool_file1_imd.csv.gz"),
        domains: None,
        population: Some(sample("iod2019_liverpool_file6_population.csv.gz")),
        points: Some(sample("lsoa2011_pwc_liverpool.csv.gz")),
        boundaries: None,
        ..Default::default()
    });
    // An anonymous suggestion named like a formula, with an international phone number.
    let r = app.post_json(
        "/v1/suggestions",
        &json!({"kind": "new", "asset": {"name": "=1+1", "category": "museum",
            "lat": 53.4, "lon": -2.98, "phone": "+44 20 7946 0000",
            "description": "@SUM(A1)", "address": "-1+2 Formula Street"}})
        .to_string(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let sid = r.json()["id"].as_str().unwrap().to_string();
    let r = app.send(
        "POST",
        &format!("/v1/admin/suggestions/{sid}/approve"),
        &[("Authorization", &editor)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["asset"]["id"].as_str().unwrap().to_string();
    // JSON is as written.
    assert_eq!(app.get(&format!("/v1/assets/{id}")).json()["name"], "=1+1");

    let check = |what: &str, body: &str| {
        let rows = csv_rows(body);
        let header = &rows[0];
        let col = |c: &str| header.iter().position(|h| h == c);
        let ours = rows
            .iter()
            .find(|r| r.iter().any(|c| c == "'=1+1"))
            .unwrap_or_else(|| panic!("{what}: no neutralised name in\n{body}"));
        if let Some(c) = col("phone") {
            assert_eq!(ours[c], "'+44 20 7946 0000", "{what}");
        }
        if let Some(c) = col("description") {
            assert_eq!(ours[c], "'@SUM(A1)", "{what}");
        }
        if let Some(c) = col("address") {
            assert_eq!(ours[c], "'-1+2 Formula Street", "{what}");
        }
        // Negative longitudes stay numbers.
        if let Some(c) = col("lon") {
            for r in &rows[1..] {
                assert!(r[c].parse::<f64>().is_ok(), "{what}: lon {:?}", r[c]);
            }
            assert!(rows[1..].iter().any(|r| r[c].starts_with('-')));
        }
        // No cell a spreadsheet would run.
        for r in &rows {
            for c in r {
                let numeric = c.parse::<f64>().is_ok() && !c.starts_with('+');
                assert!(
                    numeric || !c.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{what}: {c:?}"
                );
            }
        }
    };
    let auth = [("Authorization", editor.as_str())];
    let public = app.get("/v1/assets?format=csv&limit=100");
    assert_eq!(public.status, 200);
    check("public CSV", &public.body);
    let list = app.request("GET", "/v1/admin/assets?format=csv&limit=100", &auth);
    check("admin list CSV", &list.body);
    let export = app.request("GET", "/v1/admin/export", &auth);
    assert_eq!(export.status, 200);
    check("admin export", &export.body);

    // The what-if CSV carries the client's labels.
    let r = raw(
        &app,
        "POST",
        "/v1/reports/what-if",
        &[("Content-Type", "application/json"), ("Accept", "text/csv")],
        json!({"category": "museum", "threshold_m": 2000, "max_decile": 10,
            "candidates": [{"lat": 53.40, "lon": -2.98, "label": "=HYPERLINK(\"http://x\")"},
                           {"lat": 53.41, "lon": -2.95, "label": "-3"}]})
        .to_string()
        .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = csv_rows(&r.body);
    assert!(
        rows.iter()
            .any(|r| r.iter().any(|c| c == "'=HYPERLINK(\"http://x\")")),
        "{}",
        r.body
    );
    assert!(
        rows.iter().any(|r| r.iter().any(|c| c == "-3")),
        "{}",
        r.body
    );

    // The export re-imports unchanged, and a real import leaves the name as it was.
    let dv = data_version(&app);
    for dry_run in ["true", "false"] {
        let r = raw(
            &app,
            "POST",
            &format!("/v1/admin/imports?format=csv&dry_run={dry_run}"),
            &[("Authorization", &editor), ("Content-Type", "text/csv")],
            export.body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let report = r.json();
        assert_eq!(
            (
                &report["inserted"],
                &report["updated"],
                &report["unchanged"]
            ),
            (&json!(0), &json!(0), &json!(59)),
            "{report}"
        );
    }
    assert_eq!(data_version(&app), dv, "an unchanged import is no write");
    let back = app
        .request("GET", &format!("/v1/admin/assets/{id}"), &auth)
        .json();
    assert_eq!(back["name"], "=1+1");
    assert_eq!(back["phone"], "+44 20 7946 0000");
    assert_eq!(back["address"], "-1+2 Formula Street");
}

// 11. Control characters.

fn control_characters_are_refused_naming_the_field_in_every_write_path(backend: Backend) {
    let (app, editor, _) = app(backend);
    let auth = [("Authorization", editor.as_str())];
    let id = first_id(&app, "category=library&limit=1");
    let expect = |r: Resp, field: &str| {
        assert_eq!(r.status, 422, "{field}: {}", r.body);
        assert_eq!(invalid_names(&r), [field], "{}", r.body);
        assert!(r.body.contains("control characters"), "{}", r.body);
    };
    let asset = json!({"name": "Nul\u{0}place", "category": "museum", "lat": 53.4, "lon": -2.98});
    expect(
        app.send("POST", "/v1/admin/assets", &auth, Some(&asset.to_string())),
        "name",
    );
    let mut put = app
        .request("GET", &format!("/v1/admin/assets/{id}"), &auth)
        .json();
    put["town"] = json!("Liver\u{7}pool");
    let tag = etag(&app, &editor, &id);
    let with_tag = [
        ("Authorization", editor.as_str()),
        ("If-Match", tag.as_str()),
    ];
    expect(
        app.send(
            "PUT",
            &format!("/v1/admin/assets/{id}"),
            &with_tag,
            Some(&put.to_string()),
        ),
        "town",
    );
    expect(
        app.send(
            "PATCH",
            &format!("/v1/admin/assets/{id}"),
            &with_tag,
            Some(r#"{"description": "fine\nthen \u001b[31m red"}"#),
        ),
        "description",
    );
    // Line breaks and tabs are welcome in a description.
    let r = app.send(
        "PATCH",
        &format!("/v1/admin/assets/{id}"),
        &with_tag,
        Some(r#"{"description": "Two lines\nand\ta tab"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // Suggestions: a new place, a correction, the contact address.
    let suggest = |body: Value| app.post_json("/v1/suggestions", &body.to_string());
    expect(suggest(json!({"kind": "new", "asset": asset})), "name");
    expect(
        suggest(json!({"kind": "correction", "asset_id": id, "asset": {"address": "1 A St\u{0}"}})),
        "address",
    );
    expect(
        suggest(
            json!({"kind": "correction", "asset_id": id, "asset": {"town": "X"},
            "contact_email": "a\u{0}@example.org"}),
        ),
        "contact_email",
    );
    // A rejection's reason.
    let r = suggest(json!({"kind": "correction", "asset_id": id, "asset": {"town": "X"}}));
    assert_eq!(r.status, 201, "{}", r.body);
    let sid = r.json()["id"].as_str().unwrap().to_string();
    expect(
        app.send(
            "POST",
            &format!("/v1/admin/suggestions/{sid}/reject"),
            &auth,
            Some(r#"{"reason": "no\u0000"}"#),
        ),
        "reason",
    );

    // An import, by line.
    let csv = "source,source_id,name,category,lat,lon,description\n\
               t,1,Fine,museum,53.4,-2.98,ok\n\
               t,2,Bad\0name,museum,53.4,-2.98,ok\n";
    let r = raw(
        &app,
        "POST",
        "/v1/admin/imports?format=csv",
        &[("Authorization", &editor), ("Content-Type", "text/csv")],
        csv.as_bytes(),
    );
    expect(r, "line 3: name");
    let geojson = json!({"type": "FeatureCollection", "features": [{"type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-2.98, 53.4]},
        "properties": {"source": "t", "source_id": "3", "name": "Ok", "category": "museum",
            "website": "https://example.org/\u{0}"}}]});
    let r = raw(
        &app,
        "POST",
        "/v1/admin/imports?format=geojson",
        &[
            ("Authorization", &editor),
            ("Content-Type", "application/geo+json"),
        ],
        geojson.to_string().as_bytes(),
    );
    expect(r, "feature 0: website");

    // A NUL in a login or a read filter is no server error either.
    let r = app.post_json(
        "/v1/auth/token",
        &json!({"username": "a\u{0}b", "password": "whatever it is"}).to_string(),
    );
    assert_eq!(r.status, 401, "{}", r.body);
    // Nothing was written.
    assert_eq!(app.get("/v1/assets?limit=1").json()["total"], 50);
    let r = app.request("GET", "/v1/admin/audit?user=a%00b", &auth);
    assert_eq!(r.status, 200, "{}", r.body);
}

// 12. JSON media types.

#[test]
fn json_bodies_need_a_json_content_type() {
    let (app, editor, admin) = app(Backend::Sqlite);
    let id = first_id(&app, "category=library&limit=1");
    let tag = etag(&app, &editor, &id);
    let asset = json!({"name": "X", "category": "museum", "lat": 52.0, "lon": -1.0}).to_string();
    let what_if = json!({"category": "museum", "threshold_m": 2000,
        "candidates": [{"lat": 53.4, "lon": -2.9}]})
    .to_string();
    let suggestion =
        json!({"kind": "correction", "asset_id": id, "asset": {"town": "Y"}}).to_string();
    let routes: Vec<(&str, String, &str, String)> = vec![
        ("POST", "/v1/suggestions".into(), "", suggestion),
        ("POST", "/v1/reports/what-if".into(), "", what_if),
        (
            "POST",
            "/v1/auth/token".into(),
            "",
            json!({"username": "ann", "password": EDITOR_PW}).to_string(),
        ),
        ("POST", "/v1/admin/assets".into(), &editor, asset.clone()),
        ("PUT", format!("/v1/admin/assets/{id}"), &editor, asset),
        (
            "PATCH",
            format!("/v1/admin/assets/{id}"),
            &editor,
            r#"{"town": "Z"}"#.into(),
        ),
        (
            "POST",
            "/v1/admin/users".into(),
            &admin,
            json!({"username": "ben", "password": "a long passphrase", "role": "editor"})
                .to_string(),
        ),
        (
            "POST",
            "/v1/admin/api-keys".into(),
            &admin,
            json!({"name": "app"}).to_string(),
        ),
        (
            "POST",
            format!("/v1/admin/suggestions/{}/reject", uuid::Uuid::new_v4()),
            &editor,
            json!({"reason": "no"}).to_string(),
        ),
    ];
    for (method, path, auth, body) in &routes {
        for content_type in [
            Some("text/plain"),
            Some("text/plain;charset=UTF-8"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            None,
        ] {
            let mut headers = vec![("If-Match", tag.as_str())];
            if !auth.is_empty() {
                headers.push(("Authorization", auth));
            }
            if let Some(ct) = content_type {
                headers.push(("Content-Type", ct));
            }
            let r = raw(&app, method, path, &headers, body.as_bytes());
            assert_eq!(
                r.status, 415,
                "{method} {path} as {content_type:?}: {}",
                r.body
            );
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
            assert!(r.json()["detail"]
                .as_str()
                .unwrap()
                .contains("application/json"));
        }
    }
    // Nothing was suggested, created or changed.
    assert_eq!(app.get("/v1/assets?limit=1").json()["total"], 50);
    assert_eq!(etag(&app, &editor, &id), tag);

    // JSON, with parameters or as a +json type, is taken; a merge patch both ways; JSON
    // Patch (another format) is not.
    let patch = |ct: &str, body: &str| {
        let tag = etag(&app, &editor, &id);
        raw(
            &app,
            "PATCH",
            &format!("/v1/admin/assets/{id}"),
            &[
                ("Authorization", &editor),
                ("If-Match", &tag),
                ("Content-Type", ct),
            ],
            body.as_bytes(),
        )
    };
    assert_eq!(
        patch("application/merge-patch+json", r#"{"town": "A"}"#).status,
        200
    );
    assert_eq!(patch("application/json", r#"{"town": "B"}"#).status, 200);
    assert_eq!(
        patch("Application/JSON; charset=utf-8", r#"{"town": "C"}"#).status,
        200
    );
    let r = patch(
        "application/json-patch+json",
        r#"[{"op": "replace", "path": "/town", "value": "D"}]"#,
    );
    assert_eq!(r.status, 415, "{}", r.body);
    let r = raw(
        &app,
        "POST",
        "/v1/suggestions",
        &[("Content-Type", "application/vnd.example+json")],
        json!({"kind": "correction", "asset_id": id, "asset": {"town": "Y"}})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

// 14. If-Match: *.

#[test]
fn if_match_star_is_not_a_version_for_put_and_patch() {
    let (app, editor, _) = app(Backend::Sqlite);
    let id = first_id(&app, "category=library&limit=1");
    let before = app.request(
        "GET",
        &format!("/v1/admin/assets/{id}"),
        &[("Authorization", &editor)],
    );
    let star = [("Authorization", editor.as_str()), ("If-Match", "*")];
    let path = format!("/v1/admin/assets/{id}");
    for (method, body) in [
        ("PATCH", r#"{"town": "Elsewhere"}"#.to_string()),
        ("PUT", before.body.clone()),
    ] {
        let r = app.send(method, &path, &star, Some(&body));
        assert_eq!(r.status, 428, "{method}: {}", r.body);
        assert!(
            r.json()["detail"].as_str().unwrap().contains("ETag"),
            "{}",
            r.body
        );
    }
    let after = app.request("GET", &path, &[("Authorization", &editor)]);
    assert_eq!(after.header("etag"), before.header("etag"));
    // DELETE and the status actions still take `*` (any version) or nothing.
    let r = app.send("POST", &format!("{path}/verify"), &star, None);
    assert_eq!(r.status, 200, "{}", r.body);
}

// 15. No-op writes.

fn a_write_that_changes_nothing_bumps_no_version_and_audits_nothing(backend: Backend) {
    let (app, editor, _) = app(backend);
    let id = first_id(&app, "category=library&limit=1");
    let path = format!("/v1/admin/assets/{id}");
    let auth = [("Authorization", editor.as_str())];
    let before = app.request("GET", &path, &auth);
    let tag = before.header("etag").unwrap().to_string();
    let (dv, audits) = (data_version(&app), audit_entries(&app));
    let with_tag = [
        ("Authorization", editor.as_str()),
        ("If-Match", tag.as_str()),
    ];
    let unchanged = |r: Resp, what: &str| {
        assert_eq!(r.status, 200, "{what}: {}", r.body);
        assert_eq!(r.header("etag"), Some(tag.as_str()), "{what}");
        assert_eq!(r.json(), before.json(), "{what}");
        assert_eq!(data_version(&app), dv, "{what}: the data version moved");
        assert_eq!(audit_entries(&app), audits, "{what}: audited");
    };
    unchanged(app.send("PATCH", &path, &with_tag, Some("{}")), "PATCH {}");
    let same_town = json!({"town": before.json()["town"]}).to_string();
    unchanged(
        app.send("PATCH", &path, &with_tag, Some(&same_town)),
        "PATCH to the same value",
    );
    unchanged(
        app.send("PUT", &path, &with_tag, Some(&before.body)),
        "PUT of the same asset",
    );
    unchanged(
        app.send("POST", &format!("{path}/publish"), &with_tag, None),
        "publish a published asset",
    );
    // A real change still is one.
    let r = app.send("PATCH", &path, &with_tag, Some(r#"{"town": "Elsewhere"}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_ne!(r.header("etag"), Some(tag.as_str()));
    assert_eq!(data_version(&app), dv + 1);
    assert_eq!(audit_entries(&app), audits + 1);
}

// A 409 without the database's words.

fn a_taken_key_is_a_409_that_names_it_without_the_database_text(backend: Backend) {
    let (app, editor, _) = app(backend);
    let asset = json!({"name": "Again", "category": "library", "lat": 53.4, "lon": -2.98,
        "source": "libraries-taskforce-2016", "source_id": "1747"});
    let r = app.send(
        "POST",
        "/v1/admin/assets",
        &[("Authorization", &editor)],
        Some(&asset.to_string()),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(
        r.json()["detail"],
        "another asset already has this source and source_id"
    );
    for leak in [
        "constraint",
        "UNIQUE",
        "duplicate key",
        "assets_source_key",
        "assets.source",
    ] {
        assert!(!r.body.contains(leak), "{leak} in {}", r.body);
    }
}
