//! Several sources per venue, on SQLite and PostgreSQL: the source registry and its
//! attribution, records linked by matching, merging by source priority without undoing a
//! person's edit, closures and complete lists (`snapshot`), and the review queue through
//! the API and the command line.

use crate::support::*;
use serde_json::{json, Value};

on_both_backends!(
    sources_are_registered_described_and_attributed,
    a_later_list_links_closes_and_unlinks_by_the_real_libraries,
    fields_merge_by_source_priority_and_people_edits_stay,
    the_review_queue_links_creates_skips_and_is_audited,
    the_raw_libraries_list_closes_its_libraries_through_a_mapping,
);

const ADMIN_PW: &str = "admin password 1234";
const EDITOR_PW: &str = "editor password 5678";
const HEADER: &str = "source,source_id,name,category,lat,lon,address,town,postcode,website,phone,email,opening_hours,wheelchair,cost,description,tags,status";

struct Curators {
    app: TestApp,
    admin: String,
    editor: String,
}

impl Curators {
    fn new(app: TestApp) -> Self {
        app.add_user("root", "admin", ADMIN_PW);
        app.add_user("ann", "editor", EDITOR_PW);
        let admin = format!("Bearer {}", app.token("root", ADMIN_PW));
        let editor = format!("Bearer {}", app.token("ann", EDITOR_PW));
        Curators { app, admin, editor }
    }

    fn call(&self, token: &str, method: &str, path: &str, body: Option<&str>) -> Resp {
        let mut headers = vec![("Authorization", token)];
        if body.is_some_and(|b| b.starts_with("source,")) {
            headers.push(("Content-Type", "text/csv"));
        }
        self.app.send(method, path, &headers, body)
    }

    fn import(&self, query: &str, csv: &str) -> Value {
        let r = self.call(
            &self.editor,
            "POST",
            &format!("/v1/admin/imports?format=csv&{query}"),
            Some(csv),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    }

    fn published(&self) -> i64 {
        self.app.get("/v1/assets?limit=1").json()["total"]
            .as_i64()
            .unwrap()
    }

    fn asset(&self, id: &str) -> Value {
        let r = self.call(&self.editor, "GET", &format!("/v1/admin/assets/{id}"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    }

    /// The asset a record links, by the public search on its name near its position.
    fn find(&self, name: &str, lat: f64, lon: f64) -> Value {
        let q = url_encode(name);
        let path = format!("/v1/admin/assets?q={q}&near={lat},{lon}&radius_m=2000");
        let found = self.call(&self.editor, "GET", &path, None).json();
        found["items"][0].clone()
    }
}

/// The libraries with no other library within 300 m, nor one of the same name within
/// 2 km (Thame 2239 and 2240, 350 m apart). The 2016 list has closed libraries
/// next to (or in the building of) their replacement, under the same or a similar name
/// ("Swanley" and "Swanley Library" at one point, "Chatteris Community Hub" and
/// "Chatteris Library" 180 m apart at one address): no list can tell those apart by name
/// and place, so the matcher rightly sends them to review.
fn isolated(libraries: &[LibraryRow]) -> Vec<LibraryRow> {
    libraries
        .iter()
        .filter(|l| {
            !libraries.iter().any(|o| {
                let d = brute_haversine(l.lat, l.lon, o.lat, o.lon);
                o.source_id != l.source_id
                    && (d < 300.0 || (d < 2000.0 && o.name.eq_ignore_ascii_case(&l.name)))
            })
        })
        .cloned()
        .collect()
}

fn row(source: &str, id: &str, name: &str, category: &str, lat: f64, lon: f64) -> String {
    format!("{source},{id},{name},{category},{lat},{lon},,,,,,,,,,,,")
}

fn sources_are_registered_described_and_attributed(backend: Backend) {
    let c = Curators::new(TestApp::spawn(backend, &[]));
    let csv = format!(
        "{HEADER}\n{}\n",
        row(
            "osm-test",
            "node/1",
            "Bluecoat",
            "arts_centre",
            53.4045,
            -2.9818
        )
    );
    let report = c.import("", &csv);
    assert_eq!(report["new_sources"], json!(["osm-test"]));
    let listed = c.app.get("/v1/sources").json();
    assert_eq!(listed["items"][0]["name"], "osm-test");
    assert_eq!(listed["items"][0]["licence"], Value::Null, "unknown");
    assert_eq!(listed["items"][0]["records"], 1);

    let body = json!({"title": "OpenStreetMap", "licence": "ODbL-1.0",
        "attribution": "© OpenStreetMap contributors",
        "url": "https://www.openstreetmap.org/copyright", "priority": 10,
        "field_priorities": {"opening_hours": 90}})
    .to_string();
    // Admins describe sources; editors may not.
    let path = "/v1/admin/sources/osm-test";
    assert_eq!(c.call(&c.editor, "PUT", path, Some(&body)).status, 403);
    let r = c.call(&c.admin, "PUT", path, Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = c.call(
        &c.admin,
        "PUT",
        "/v1/admin/sources/council-list",
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let listed = c.app.get("/v1/sources").json();
    let osm = &listed["items"][1];
    assert_eq!(
        (&osm["name"], &osm["licence"], &osm["attribution"]),
        (
            &json!("osm-test"),
            &json!("ODbL-1.0"),
            &json!("© OpenStreetMap contributors")
        )
    );
    // Invalid descriptions: 422 naming the fields.
    let bad = json!({"priority": 5000, "field_priorities": {"colour": 1}, "url": "ftp://x"});
    let r = c.call(&c.admin, "PUT", path, Some(&bad.to_string()));
    assert_eq!(r.status, 422, "{}", r.body);
    let names: Vec<String> = r.json()["invalid-params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["url", "priority", "field_priorities"], "{}", r.body);
    // The asset names its records, in JSON and in CSV.
    let found = c.app.get("/v1/assets?q=bluecoat").json();
    assert_eq!(
        found["items"][0]["sources"],
        json!([{"source": "osm-test", "source_id": "node/1"}])
    );
    let csv = c.app.get("/v1/assets?q=bluecoat&format=csv").body;
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(rdr.headers().unwrap().iter().next_back(), Some("sources"));
    let record = rdr.records().next().unwrap().unwrap();
    assert_eq!(record.iter().next_back(), Some("osm-test:node/1"));
    let audit = c
        .call(&c.editor, "GET", "/v1/admin/audit?action=source.put", None)
        .json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 2, "{audit}");
}

/// The real libraries as listed in 2016 (all published), then "a later list" from
/// another source: the same libraries with their closures, their positions moved by the
/// OSGB36/WGS84 datum shift (~124 m), other ids, as a complete list; then that list again
/// without some libraries.
fn a_later_list_links_closes_and_unlinks_by_the_real_libraries(backend: Backend) {
    let c = Curators::new(TestApp::spawn(backend, &[]));
    let libraries = isolated(&library_rows());
    assert!(libraries.len() > 3000, "{}", libraries.len());
    let mut first = format!("{HEADER}\n");
    let mut later = format!("{HEADER}\n");
    for l in &libraries {
        let name = l.name.replace(',', " ");
        first.push_str(&row(
            "libraries-2016",
            &l.source_id,
            &name,
            "library",
            l.lat,
            l.lon,
        ));
        first.push('\n');
        let mut r = row(
            "later-list",
            &format!("L{}", l.source_id),
            &name,
            "library",
            l.lat + 0.0008,
            l.lon + 0.0013,
        );
        if !l.published {
            r.push_str("archived");
        }
        later.push_str(&r);
        later.push('\n');
    }
    let n = libraries.len() as i64;
    let closed = libraries.iter().filter(|l| !l.published).count() as i64;
    assert_eq!(c.import("", &first)["inserted"], n);
    assert_eq!(c.published(), n);

    // A person verified one closed library after the later list's date: it stays.
    let kept = libraries.iter().find(|l| !l.published).unwrap();
    let kept_asset = c.find(&kept.name, kept.lat, kept.lon);
    let r = c.call(
        &c.editor,
        "POST",
        &format!(
            "/v1/admin/assets/{}/verify",
            kept_asset["id"].as_str().unwrap()
        ),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);

    let query = "snapshot=true&as_of=2020-01-01T00:00:00Z";
    let dry = c.import(&format!("{query}&dry_run=true"), &later);
    assert_eq!(c.published(), n, "a dry run changes nothing");
    let done = c.import(query, &later);
    for k in ["linked", "archived", "inserted", "to_review"] {
        assert_eq!(dry[k], done[k], "{k}: the dry run said otherwise");
    }
    let count = |k: &str| done[k].as_i64().unwrap();
    assert_eq!(count("inserted") + count("linked") + count("to_review"), n);
    assert!(count("linked") >= n - 5, "{done}");
    // Each library the later list closes, and only those, is archived (by the export:
    // each asset with the 2016 key it was created from).
    let export = c.call(&c.editor, "GET", "/v1/admin/export?format=csv", None);
    let mut rdr = csv::Reader::from_reader(export.body.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id_col, status_col) = (col("source_id"), col("status"));
    let status: std::collections::HashMap<String, String> = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[id_col].to_string(), r[status_col].to_string())
        })
        .collect();
    for l in &libraries {
        let want = if l.published || l.source_id == kept.source_id {
            "published"
        } else {
            "archived"
        };
        assert_eq!(status[&l.source_id], want, "{} ({})", l.name, l.source_id);
    }
    assert_eq!(count("archived"), closed - 1, "{done}");
    assert_eq!(c.published(), n - (closed - 1));
    let kept_now = c.asset(kept_asset["id"].as_str().unwrap());
    assert_eq!(kept_now["status"], "published");
    assert_eq!(
        kept_now["sources"].as_array().unwrap().len(),
        2,
        "{kept_now}"
    );
    let audit = c
        .call(
            &c.editor,
            "GET",
            "/v1/admin/audit?action=import.close&limit=500",
            None,
        )
        .json();
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len() as i64, closed - 1);
    assert!(entries[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("closed by source later-list (line "));

    // The later list again, without its first 20 open libraries: their records are
    // unlinked; the 2016 list still names them, so each goes to review as a closure.
    let mut shorter = format!("{HEADER}\n");
    let mut dropped = 0;
    for line in later.lines().skip(1) {
        if dropped < 20 && !line.ends_with("archived") {
            dropped += 1;
            continue;
        }
        shorter.push_str(line);
        shorter.push('\n');
    }
    let again = c.import("snapshot=true", &shorter);
    assert_eq!(
        (again["unlinked"].as_i64(), again["to_review"].as_i64()),
        (Some(20), Some(20)),
        "{again}"
    );
    let queue = c
        .call(
            &c.editor,
            "GET",
            "/v1/admin/matches?status=pending&limit=500",
            None,
        )
        .json();
    let closures: Vec<&Value> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "closure")
        .collect();
    assert_eq!(closures.len(), 20);
    let id = closures[0]["id"].as_str().unwrap();
    let asset_id = closures[0]["asset_id"].as_str().unwrap();
    let decided = c.call(
        &c.editor,
        "POST",
        &format!("/v1/admin/matches/{id}/decision"),
        Some(r#"{"action":"archive"}"#),
    );
    assert_eq!(decided.status, 200, "{}", decided.body);
    assert_eq!(c.asset(asset_id)["status"], "archived");

    // The 2016 list as complete, without 10 of its libraries that the later list no
    // longer names either: they have no source left and are archived.
    let gone: std::collections::HashSet<String> = closures[1..11]
        .iter()
        .map(|r| {
            let id = r["asset_id"].as_str().unwrap();
            c.asset(id)["sources"][0]["source_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut first_again = format!("{HEADER}\n");
    for line in first.lines().skip(1) {
        let id = line.split(',').nth(1).unwrap();
        if !gone.contains(id) {
            first_again.push_str(line);
            first_again.push('\n');
        }
    }
    let before = c.published();
    let last = c.import("snapshot=true", &first_again);
    assert_eq!(
        (last["unlinked"].as_i64(), last["archived"].as_i64()),
        (Some(10), Some(10)),
        "{last}"
    );
    assert_eq!(c.published(), before - 10);
}

fn fields_merge_by_source_priority_and_people_edits_stay(backend: Backend) {
    let c = Curators::new(TestApp::spawn(backend, &[]));
    for (name, body) in [
        ("official", json!({"licence": "OGL-3.0", "priority": 50})),
        (
            "osm",
            json!({"licence": "ODbL-1.0", "priority": 10,
                "field_priorities": {"opening_hours": 90, "wheelchair": 90}}),
        ),
    ] {
        let r = c.call(
            &c.admin,
            "PUT",
            &format!("/v1/admin/sources/{name}"),
            Some(&body.to_string()),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let official = format!(
        "{HEADER}\nofficial,7,Barking Library,library,51.5363871,0.0799942,2 Town Square,Barking,IG11 7NB,,020 8724 8725,,Mo-Fr 09:00-17:00,unknown,free,,,\n"
    );
    c.import("", &official);
    let osm = format!(
        "{HEADER}\nosm,node/9,Barking Library,library,51.5366,0.0801,,,IG11 7NB,,020 8000 0000,,Mo-Sa 09:00-19:00,yes,,,,\n"
    );
    let report = c.import("", &osm);
    assert_eq!(report["linked"], 1, "{report}");
    let id = c.find("Barking Library", 51.5364, 0.08)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = c.asset(&id);
    // The official list keeps the position and the phone; OSM wins hours and access.
    assert_eq!(a["lat"], 51.5363871);
    assert_eq!(a["phone"], "020 8724 8725");
    assert_eq!(a["opening_hours"], "Mo-Sa 09:00-19:00");
    assert_eq!(a["wheelchair"], "yes");
    assert_eq!(a["sources"].as_array().unwrap().len(), 2);

    // A person corrects the hours; neither list undoes it.
    let r = c.call(
        &c.editor,
        "PATCH",
        &format!("/v1/admin/assets/{id}"),
        Some(r#"{"opening_hours":"Mo-Sa 10:00-18:00"}"#),
    );
    let r = if r.status == 428 {
        let etag = format!("\"{}\"", a["version"]);
        c.app.send(
            "PATCH",
            &format!("/v1/admin/assets/{id}"),
            &[("Authorization", &c.editor), ("If-Match", &etag)],
            Some(r#"{"opening_hours":"Mo-Sa 10:00-18:00"}"#),
        )
    } else {
        r
    };
    assert_eq!(r.status, 200, "{}", r.body);
    let again = c.import("", &osm.replace("09:00-19:00", "08:00-20:00"));
    assert_eq!(again["unchanged"], 1, "{again}");
    let a = c.asset(&id);
    assert_eq!(a["opening_hours"], "Mo-Sa 10:00-18:00");

    let p = c
        .call(
            &c.editor,
            "GET",
            &format!("/v1/admin/assets/{id}/provenance"),
            None,
        )
        .json();
    assert_eq!(p["fields"]["opening_hours"]["by"], "ann", "{p}");
    assert_eq!(p["fields"]["wheelchair"]["source"], "osm");
    assert_eq!(p["fields"]["name"]["source"], "official");
    assert_eq!(p["records"].as_array().unwrap().len(), 2);
    assert_eq!(
        p["records"][1]["fields"]["opening_hours"], "Mo-Sa 08:00-20:00",
        "what OSM last gave is kept"
    );
}

fn the_review_queue_links_creates_skips_and_is_audited(backend: Backend) {
    let c = Curators::new(TestApp::spawn(backend, &[]));
    let base = format!(
        "{HEADER}\n{}\n{}\n",
        row(
            "council",
            "1",
            "Walker Art Gallery",
            "gallery",
            53.40998,
            -2.97961
        ),
        row("council", "2", "World Museum", "museum", 53.41022, -2.98184)
    );
    c.import("", &base);
    // Rows that resemble listed places without being clearly them wait for a person.
    let doubtful = format!(
        "{HEADER}\n{}\n{}\n{}\n",
        row("osm", "way/1", "Walker Museum", "museum", 53.4101, -2.9797),
        row(
            "osm",
            "way/2",
            "World Art Gallery",
            "gallery",
            53.4103,
            -2.9819
        ),
        row(
            "osm",
            "way/3",
            "Walker Gallery Shop",
            "gallery",
            53.4112,
            -2.9788
        )
    );
    let report = c.import("", &doubtful);
    let queued = report["to_review"].as_i64().unwrap();
    assert!(queued >= 1, "{report}");
    let list = c
        .call(&c.editor, "GET", "/v1/admin/matches?status=pending", None)
        .json();
    assert_eq!(list["total"].as_i64(), Some(queued));
    let first = &list["items"][0];
    assert!(!first["candidates"][0]["reasons"]
        .as_array()
        .unwrap()
        .is_empty());
    let id = first["id"].as_str().unwrap().to_string();
    let target = first["candidates"][0]["asset_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Bad decisions: 422 naming the field; unknown review 404.
    let decide = |id: &str, body: &str| {
        c.call(
            &c.editor,
            "POST",
            &format!("/v1/admin/matches/{id}/decision"),
            Some(body),
        )
    };
    let r = decide(&id, r#"{"action":"link"}"#);
    assert_eq!(
        (r.status, r.json()["invalid-params"][0]["name"].clone()),
        (422, json!("asset_id"))
    );
    assert_eq!(
        decide(&id, r#"{"action":"archive"}"#).status,
        409,
        "a closure's verdict"
    );
    assert_eq!(
        decide(
            "00000000-0000-4000-8000-000000000000",
            r#"{"action":"skip"}"#
        )
        .status,
        404
    );

    let r = decide(
        &id,
        &json!({"action": "link", "asset_id": target}).to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "linked");
    assert_eq!(
        decide(&id, r#"{"action":"skip"}"#).status,
        409,
        "decided once"
    );
    let linked = c.asset(&target);
    let record = |r: &Value| format!("{}:{}", r["source"], r["source_id"]);
    assert!(
        linked["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| record(s) == record(first)),
        "{linked}"
    );
    // A person decided the row is that place; the council's values stay (equal priority).
    assert_eq!(linked["name"], first["candidates"][0]["name"]);
    // A re-import now updates through the linked record: nothing waits again for it.
    let again = c.import("", &doubtful);
    assert_eq!(again["to_review"].as_i64(), Some(queued - 1), "{again}");

    // The command line lists and decides too.
    let out = cli(&c.app.url, &["matches", "list"], &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len() as i64, queued - 1, "{out}");
    if let Some(line) = lines.first() {
        let id = line.split('\t').next().unwrap();
        let out = cli(&c.app.url, &["matches", "decide", id, "create"], &[]);
        assert!(out.contains(": created (asset "), "{out}");
    }
    let audit = c
        .call(
            &c.editor,
            "GET",
            "/v1/admin/audit?action=match.link,match.create",
            None,
        )
        .json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[0], "match.link");
    assert_eq!(actions.len() as i64, 1 + (queued > 1) as i64);
}

/// Real files end to end: the canonical 2016 libraries as an earlier list (every library
/// still open), then the raw Libraries Hacked file as published (its own columns, `closed`
/// marking closures), as another source, through a mapping, as a complete list.
fn the_raw_libraries_list_closes_its_libraries_through_a_mapping(backend: Backend) {
    let c = Curators::new(TestApp::spawn(backend, &[]));
    let mut rdr = csv::Reader::from_path(shared_data(LIBRARIES)).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let status = headers.iter().position(|h| h == "status").unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&headers).unwrap();
    for r in rdr.records() {
        let mut r: Vec<String> = r.unwrap().iter().map(str::to_string).collect();
        r[status] = "published".into();
        w.write_record(&r).unwrap();
    }
    let earlier = String::from_utf8(w.into_inner().unwrap()).unwrap();
    let first = c.import("source=earlier-list", &earlier);
    let libraries = library_rows();
    let n = libraries.len() as i64;
    assert_eq!(
        first["inserted"].as_i64().unwrap() + first["linked"].as_i64().unwrap(),
        n,
        "{first}"
    );

    let raw = std::fs::read_to_string(shared_data("libraries_england_2016.csv")).unwrap();
    let mapping = json!({"map": {"lon": "lng", "website": "url", "status": "closed"},
        "values": {"status": {"*": "archived"}},
        "set": {"category": "library"}, "id_column": "id"});
    let q = url_encode(&mapping.to_string());
    let done = c.import(
        &format!("snapshot=true&source=libraries-hacked&mapping={q}"),
        &raw,
    );
    assert_eq!(done["new_sources"], json!(["libraries-hacked"]), "{done}");
    assert_eq!(
        done["inserted"], 0,
        "every library is already listed: {done}"
    );
    // The closed libraries that share no name and place with an open one are archived,
    // each; the open ones stay published (checked by the export, by the 2016 ids).
    let export = c.call(&c.editor, "GET", "/v1/admin/export?format=csv", None);
    let mut rdr = csv::Reader::from_reader(export.body.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    let (id_col, status_col, sources_col) = (col("source_id"), col("status"), col("sources"));
    let mut by_id = std::collections::HashMap::new();
    for r in rdr.records() {
        let r = r.unwrap();
        by_id.insert(
            r[id_col].to_string(),
            (r[status_col].to_string(), r[sources_col].to_string()),
        );
    }
    let alone: std::collections::HashSet<String> = isolated(&libraries)
        .into_iter()
        .map(|l| l.source_id)
        .collect();
    let ambiguous = |l: &LibraryRow| !alone.contains(&l.source_id);
    let mut checked = 0;
    for l in libraries.iter().filter(|l| !ambiguous(l)) {
        let (status, sources) = &by_id[&l.source_id];
        let want = if l.published { "published" } else { "archived" };
        assert_eq!(status, want, "{} ({})", l.name, l.source_id);
        assert!(
            sources.contains(&format!("libraries-hacked:{}", l.source_id)),
            "{} ({}): {sources}",
            l.name,
            l.source_id
        );
        checked += 1;
    }
    assert!(checked > 3000, "{checked}");
    let closed = libraries
        .iter()
        .filter(|l| !l.published && !ambiguous(l))
        .count() as i64;
    assert!(done["archived"].as_i64().unwrap() >= closed, "{done}");
}
