//! Activity files imported through the one import pipeline, on SQLite and PostgreSQL,
//! against the real libraries as venues: CSV (compact schedules, venues named by their
//! source record) and JSON, every rejected row listed by line or record, a failed import
//! changing nothing, dry runs, `on_error=skip` and `--rejects`, idempotent re-imports.

use crate::support::*;
use serde_json::{json, Value};
use std::collections::HashMap;

on_both_backends!(
    csv_imports_name_venues_by_source_reject_by_line_and_are_idempotent,
    json_imports_report_records_by_index,
    the_command_line_imports_activities_with_rejects,
);

const EDITOR_PW: &str = "editor password 5678";
const LIBRARIES_SOURCE: &str = "libraries-taskforce-2016";

/// The library ids by their source_id, as the export lists them (not through the
/// activity code under test).
fn venue_of(app: &TestApp) -> HashMap<String, String> {
    let rows = app
        .send(
            "GET",
            "/v1/admin/export",
            &[("Authorization", &editor(app))],
            None,
        )
        .body;
    let mut rdr = csv::Reader::from_reader(rows.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, source, source_id) = (col("id"), col("source"), col("source_id"));
    rdr.records()
        .map(|r| r.unwrap())
        .filter(|r| &r[source] == LIBRARIES_SOURCE)
        .map(|r| (r[source_id].to_string(), r[id].to_string()))
        .collect()
}

fn editor(app: &TestApp) -> String {
    format!("Bearer {}", app.token("ann", EDITOR_PW))
}

fn count(app: &TestApp) -> i64 {
    sql_number(&app.url, "SELECT COUNT(*) AS n FROM activities")
}

fn audit_count(app: &TestApp) -> i64 {
    sql_number(
        &app.url,
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'activity.import'",
    )
}

/// A good CSV: three activities at three libraries, named by their source records; a
/// quoted description spanning two lines; a schedule as a JSON cell and as compact text.
const GOOD: &str = "\
source,source_id,asset_source,asset_source_id,name,description,kind,audiences,min_age,schedule,cost,cost_amount,referral,contact_email
arts-council-pilot,a1,libraries-taskforce-2016,1,Singing for Better Breathing,\"A friendly group
for people with COPD\",music-singing,long-term-conditions;older-people,18,WEEKLY TU 14:00-15:30 from 2026-09-01; 2026-12-03 18:00-20:00,donation,2.50,self;link-worker;gp,singing@example.org
arts-council-pilot,a2,libraries-taskforce-2016,3,Shared Reading,,reading,loneliness,,\"[{\"\"freq\"\": \"\"MONTHLY\"\", \"\"byday\"\": \"\"1TH,3TH\"\", \"\"opens_at\"\": \"\"10:00\"\", \"\"closes_at\"\": \"\"11:30\"\"}]\",free,,self,
arts-council-pilot,a3,libraries-taskforce-2016,4,Memory Cafe,,heritage,dementia;carers,,MONTHLY -1FR 14:00-16:00,free,,self;link-worker,
";

/// Bad rows at known lines: 3 (an unknown kind), 5 (a venue no source lists), 6 (a
/// schedule line of no known shape, and an unknown audience), 7 (a repeated key).
const BAD: &str = "\
source,source_id,asset_source,asset_source_id,name,kind,audiences,schedule,cost
arts-council-pilot,b1,libraries-taskforce-2016,1,Fine,crafts,,WEEKLY MO 10:00-12:00,free
arts-council-pilot,b2,libraries-taskforce-2016,1,Knitting,knitting,,,free
arts-council-pilot,b3,libraries-taskforce-2016,3,Fine too,film,,2026-12-24 18:00-20:00,free
arts-council-pilot,b4,libraries-taskforce-2016,no-such-library,Lost,film,,,free
arts-council-pilot,b5,libraries-taskforce-2016,4,Odd,dance,aliens,Tuesdays at two,free
arts-council-pilot,b1,libraries-taskforce-2016,4,Twice,dance,,,free
";

fn csv_imports_name_venues_by_source_reject_by_line_and_are_idempotent(backend: Backend) {
    let app = TestApp::with_libraries(backend);
    app.add_user("ann", "editor", EDITOR_PW);
    let auth = editor(&app);
    let import = |query: &str, body: &str| {
        app.send(
            "POST",
            &format!("/v1/admin/imports/activities?{query}"),
            &[("Authorization", &auth)],
            Some(body),
        )
    };

    // A bad file: every problem listed by line, nothing written.
    let r = import("format=csv", BAD);
    assert_eq!(r.status, 422, "{}", r.body);
    let problems: Vec<String> = r.json()["invalid-params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    for p in [
        "line 3: kind",
        "line 5: asset_source_id",
        "line 6: schedule[0]",
        "line 6: audiences",
        "line 7: source_id",
    ] {
        assert!(problems.iter().any(|x| x == p), "{p} not in {problems:?}");
    }
    assert!(
        !problems
            .iter()
            .any(|x| x.starts_with("line 2") || x.starts_with("line 4")),
        "{problems:?}"
    );
    assert_eq!(count(&app), 0, "a failed import changes nothing");
    assert_eq!(audit_count(&app), 0);

    // on_error=skip: the good rows go in, the others are reported with their lines.
    let r = import("format=csv&on_error=skip&dry_run=true", BAD);
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["inserted"], 2);
    let rejected: Vec<(String, String)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["location"].as_str().unwrap().to_string(),
                e["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(rejected.contains(&("line 5".into(), "asset_source_id".into())));
    assert!(rejected.contains(&("line 3".into(), "kind".into())));
    let value = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["location"] == "line 5")
        .unwrap()["value"]
        .clone();
    assert_eq!(value, "no-such-library");
    assert_eq!(count(&app), 0, "a dry run changes nothing");

    // A dry run of the good file counts what it would do.
    let dry = import("dry_run=true", GOOD);
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(dry.json()["inserted"], 3);
    assert_eq!(count(&app), 0);

    // The import: each activity at the library its row names.
    let r = import("format=csv", GOOD);
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    assert_eq!(
        (
            report["inserted"].as_i64(),
            report["updated"].as_i64(),
            report["rejected_total"].as_i64()
        ),
        (Some(3), Some(0), Some(0))
    );
    assert_eq!(report["new_sources"], json!(["arts-council-pilot"]));
    assert_eq!(count(&app), 3);
    assert_eq!(audit_count(&app), 3);
    let venues = venue_of(&app);
    let list = app
        .send(
            "GET",
            "/v1/admin/activities?limit=10",
            &[("Authorization", &auth)],
            None,
        )
        .json();
    let by_key: HashMap<String, Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["source_id"].as_str().unwrap().to_string(), a.clone()))
        .collect();
    for (key, library) in [("a1", "1"), ("a2", "3"), ("a3", "4")] {
        assert_eq!(by_key[key]["asset_id"], venues[library].as_str(), "{key}");
        assert_eq!(by_key[key]["status"], "published");
    }
    let singing = &by_key["a1"];
    assert_eq!(
        singing["description"],
        "A friendly group\nfor people with COPD"
    );
    assert_eq!(
        singing["audiences"],
        json!(["long-term-conditions", "older-people"])
    );
    assert_eq!(singing["referral"], json!(["self", "link-worker", "gp"]));
    assert_eq!(singing["cost_amount"], 2.5);
    assert_eq!(
        singing["schedule"],
        json!([{"freq": "WEEKLY", "byday": "TU", "opens_at": "14:00", "closes_at": "15:30", "valid_from": "2026-09-01"},
               {"date": "2026-12-03", "opens_at": "18:00", "closes_at": "20:00"}])
    );
    assert_eq!(by_key["a2"]["schedule"][0]["byday"], "1TH,3TH");
    assert_eq!(by_key["a3"]["schedule"][0]["byday"], "-1FR");

    // The same file again: nothing changes (not even the data version).
    let version = sql_number(&app.url, "SELECT MAX(version) AS n FROM data_version");
    let again = import("format=csv", GOOD).json();
    assert_eq!(
        (
            again["inserted"].as_i64(),
            again["updated"].as_i64(),
            again["unchanged"].as_i64()
        ),
        (Some(0), Some(0), Some(3))
    );
    assert_eq!(count(&app), 3);
    assert_eq!(audit_count(&app), 3);
    assert_eq!(
        sql_number(&app.url, "SELECT MAX(version) AS n FROM data_version"),
        version
    );
    // One row changed: that activity is updated (version 2), the others left alone.
    let changed = GOOD.replace("Memory Cafe", "Memory Café");
    let r = import("format=csv", &changed).json();
    assert_eq!(
        (
            r["inserted"].as_i64(),
            r["updated"].as_i64(),
            r["unchanged"].as_i64()
        ),
        (Some(0), Some(1), Some(2))
    );
    let cafe = app
        .send(
            "GET",
            &format!(
                "/v1/admin/activities/{}",
                by_key["a3"]["id"].as_str().unwrap()
            ),
            &[("Authorization", &auth)],
            None,
        )
        .json();
    assert_eq!(cafe["name"], "Memory Café");
    assert_eq!(cafe["version"], 2);
    assert_eq!(count(&app), 3);
}

fn json_imports_report_records_by_index(backend: Backend) {
    let app = TestApp::with_libraries(backend);
    app.add_user("ann", "editor", EDITOR_PW);
    let auth = editor(&app);
    let venues = venue_of(&app);
    let import = |query: &str, body: &Value| {
        app.send(
            "POST",
            &format!("/v1/admin/imports/activities?{query}"),
            &[("Authorization", &auth)],
            Some(&body.to_string()),
        )
    };
    let good = |i: usize| {
        json!({"source": "museum-programme", "source_id": format!("m{i}"), "asset_id": venues["1"],
            "name": format!("Object handling {i}"), "kind": "heritage", "audiences": ["loneliness"],
            "schedule": "WEEKLY WE 10:30-12:00", "cost": "free", "referral": ["link-worker"]})
    };
    let mut bad = good(1);
    bad["min_age"] = json!(-3);
    let mut lost = good(3);
    lost["asset_id"] = json!(uuid::Uuid::new_v4().to_string());
    let mut unkeyed = good(4);
    unkeyed.as_object_mut().unwrap().remove("source_id");
    let doc = json!({"activities": [good(0), bad, good(2), lost, unkeyed]});
    let r = import("format=json", &doc);
    assert_eq!(r.status, 422, "{}", r.body);
    let names: Vec<String> = r.json()["invalid-params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "record 1: min_age",
            "record 3: asset_id",
            "record 4: source_id"
        ],
        "{}",
        r.body
    );
    assert_eq!(count(&app), 0);

    // The source parameter supplies the key's source; a plain array is a file too.
    let r = import(
        "source=museum-programme",
        &json!([{"source_id": "x1", "asset_id": venues["3"], "name": "Drawing", "kind": "creative-arts", "cost": "free"}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["inserted"], 1);
    let r = import("on_error=skip", &doc);
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    assert_eq!(report["inserted"], 2);
    assert_eq!(report["rejected_total"], 3);
    assert_eq!(count(&app), 3);
    // Not a file of activities at all.
    let r = import("format=json", &json!({"things": []}));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["invalid-params"][0]["name"], "file: -");
}

fn the_command_line_imports_activities_with_rejects(backend: Backend) {
    let db = seeded_db(backend);
    let dir = scratch_dir();
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, BAD).unwrap();
    let activities = || sql_number(&db.url, "SELECT COUNT(*) AS n FROM activities");

    // All or nothing: the file is refused with every problem, nothing written.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_community-assets"))
        .args(["import", "activities", bad.to_str().unwrap()])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3: kind"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(activities(), 0);

    // --skip-invalid --rejects: the good rows in, the others written to a CSV by line.
    let rejects = dir.join("rejects.csv");
    let out = cli(
        &db.url,
        &[
            "import",
            "activities",
            bad.to_str().unwrap(),
            "--skip-invalid",
            "--rejects",
            rejects.to_str().unwrap(),
            "--json",
        ],
        &[],
    );
    let report: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["inserted"], 2);
    assert_eq!(activities(), 2);
    let mut lines: Vec<String> = csv::Reader::from_path(&rejects)
        .unwrap()
        .records()
        .map(|r| {
            let r = r.unwrap();
            format!("{} {}", &r[0], &r[1])
        })
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "3 kind",
            "5 asset_source_id",
            "6 audiences",
            "6 schedule[0]",
            "7 source_id"
        ]
    );
    // Audited as the command line.
    assert_eq!(
        sql_number(
            &db.url,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'activity.import' AND username = 'command-line'"
        ),
        2
    );
    std::fs::remove_dir_all(dir).ok();
}
