//! The incrementally maintained snapshot (each write applies its delta) equals a full
//! rebuild from the database after random sequences of writes over HTTP; a second instance
//! on the same database converges (PostgreSQL: by NOTIFY, with the poll slowed to a
//! minute; SQLite: by the poll); a restore to an older state is picked up by a rebuild.

use crate::support::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use community_assets::domain::activity::{ActivityFields, Vocabulary};
use community_assets::index::query::{BBox, Near};
use community_assets::index::{
    ActivityFilter, ActivitySearch, ActivitySort, Cursor, Filter, Search, Snapshot, SortBy,
};
use community_assets::state::{full_snapshot, full_snapshot_in_parts};
use community_assets::store::{activities, assets, StoreError};
use community_assets::synth::{generate_activities, Rng};
use std::collections::HashSet;

on_both_backends!(
    random_writes_leave_the_snapshot_equal_to_a_full_rebuild,
    a_second_instance_converges,
    a_restore_to_an_older_state_is_picked_up,
);

/// How many venues hold the activities of the random writes.
const VENUES: usize = 12;
const PW: &str = "a long admin passphrase";
const CATEGORIES: [&str; 5] = ["library", "museum", "gallery", "cafe", "theatre"];

struct Writer<'a> {
    app: &'a TestApp,
    auth: String,
    rng: Rng,
    ids: Vec<String>,
    /// Source ids the test's own imports have used.
    imported: u32,
    /// Whether writes include activities (created and changed through the store, then
    /// the state's refresh, as a write does), and the ones written.
    with_activities: bool,
    activities: Vec<uuid::Uuid>,
}

impl<'a> Writer<'a> {
    fn new(app: &'a TestApp, seed: u64) -> Self {
        app.add_user("root", "admin", PW);
        let auth = format!("Bearer {}", app.token("root", PW));
        let ids = app
            .send(
                "GET",
                "/v1/admin/assets?near=53.41,-2.98&radius_m=8000&limit=100",
                &[("Authorization", &auth)],
                None,
            )
            .json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        Writer {
            app,
            auth,
            rng: Rng::new(seed),
            ids,
            imported: 0,
            with_activities: false,
            activities: Vec::new(),
        }
    }

    fn send(&self, method: &str, path: &str, body: Option<&str>, ctype: &str) -> Resp {
        let mut headers = vec![("Authorization", self.auth.as_str())];
        if body.is_some() {
            headers.push(("Content-Type", ctype));
        }
        self.app.send(method, path, &headers, body)
    }

    fn position(&mut self) -> (f64, f64) {
        (
            53.41 + (self.rng.unit() - 0.5) * 0.08,
            -2.98 + (self.rng.unit() - 0.5) * 0.1,
        )
    }

    fn any_id(&mut self) -> String {
        // With activities, half the writes go to the few venues that hold them, so that
        // venue moves, archives and publications carry activities with them.
        if self.with_activities && self.rng.unit() < 0.5 {
            return self.rng.pick(&self.ids[..VENUES]).clone();
        }
        self.rng.pick(&self.ids).clone()
    }

    /// A generated activity at a random venue (any status), as a JSON object.
    fn activity_fields(&mut self) -> serde_json::Map<String, Value> {
        let venue: uuid::Uuid = self.rng.pick(&self.ids[..VENUES]).parse().unwrap();
        let seed = self.rng.next_u64();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let mut o = generate_activities(&[(venue, "library".into())], 1, seed, today).remove(0);
        o.remove("source_id");
        o.remove("source");
        o
    }

    /// An activity created, or one changed (status, schedule, audiences, venue), through
    /// the store; then the refresh a write makes.
    fn write_activity(&mut self) -> String {
        let mut conn = self.app.store.conn().unwrap();
        let slugs = |t: Vec<community_assets::domain::activity::Term>| {
            t.into_iter().map(|t| t.slug).collect::<HashSet<_>>()
        };
        let kinds = slugs(activities::kinds(&mut conn).unwrap());
        let audiences = slugs(activities::audiences(&mut conn).unwrap());
        let vocab = Vocabulary {
            kinds: &kinds,
            audiences: &audiences,
        };
        let fields = ActivityFields::parse(&self.activity_fields(), &vocab).unwrap();
        let what = if self.activities.is_empty() || self.rng.unit() < 0.4 {
            let a = activities::create(&mut conn, fields, "test", "activity.create").unwrap();
            self.activities.push(a.id);
            "activity create"
        } else {
            let id = *self.rng.pick(&self.activities);
            let part = self.rng.next_u64() % 4;
            activities::modify::<StoreError>(
                &mut conn,
                &id,
                None,
                "test",
                "activity.update",
                |old| {
                    let mut f = old.fields.clone();
                    match part {
                        0 => f.status = fields.status,
                        1 => f.schedule = fields.schedule,
                        2 => f.audiences = fields.audiences,
                        _ => f.asset_id = fields.asset_id,
                    }
                    Ok(f)
                },
            )
            .unwrap();
            [
                "activity status",
                "activity schedule",
                "activity audiences",
                "activity venue",
            ][part as usize]
        };
        drop(conn);
        self.app.state.refresh().unwrap();
        what.into()
    }

    /// One random write; returns what it did.
    fn write(&mut self) -> String {
        let op = self.rng.next_u64() % if self.with_activities { 10 } else { 7 };
        match op {
            7.. => self.write_activity(),
            0 => {
                let (lat, lon) = self.position();
                let category = *self.rng.pick(&CATEGORIES);
                let status = *self.rng.pick(&["published", "draft", "archived"]);
                let body = json!({"name": format!("Prop {}", self.rng.next_u64() % 1000),
                    "category": category, "lat": lat, "lon": lon, "status": status,
                    "opening_hours": "Mo-Fr 09:00-17:00"})
                .to_string();
                let r = self.send("POST", "/v1/admin/assets", Some(&body), "application/json");
                assert_eq!(r.status, 201, "{}", r.body);
                self.ids.push(r.json()["id"].as_str().unwrap().to_string());
                "create".into()
            }
            1 | 2 => {
                let id = self.any_id();
                let etag = self
                    .send("GET", &format!("/v1/admin/assets/{id}"), None, "")
                    .header("etag")
                    .unwrap()
                    .to_string();
                let patch = if op == 1 {
                    json!({"name": format!("Renamed {}", self.rng.next_u64() % 1000),
                        "description": format!("words {}", self.rng.next_u64() % 50)})
                } else {
                    let (lat, lon) = self.position();
                    json!({"lat": lat, "lon": lon, "category": *self.rng.pick(&CATEGORIES)})
                };
                let r = self.app.send(
                    "PATCH",
                    &format!("/v1/admin/assets/{id}"),
                    &[
                        ("Authorization", &self.auth),
                        ("If-Match", &etag),
                        ("Content-Type", "application/merge-patch+json"),
                    ],
                    Some(&patch.to_string()),
                );
                assert_eq!(r.status, 200, "{}", r.body);
                format!("patch {}", if op == 1 { "text" } else { "move" })
            }
            3 => {
                let id = self.any_id();
                let action = *self
                    .rng
                    .pick(&["archive", "restore", "publish", "unpublish"]);
                let r = if action == "archive" {
                    self.send("DELETE", &format!("/v1/admin/assets/{id}"), None, "")
                } else {
                    self.send("POST", &format!("/v1/admin/assets/{id}/{action}"), None, "")
                };
                assert!(
                    r.status < 300 || r.status == 409 || r.status == 422,
                    "{action}: {}",
                    r.body
                );
                action.into()
            }
            4 | 5 => {
                // A small file of one source: new rows and updates of earlier ones; now and
                // then declared the complete list (the rows it no longer names archived).
                let complete = op == 5;
                let mut csv = String::from("source,source_id,name,category,lat,lon,status\n");
                let mut sids: Vec<u64> = (0..1 + self.rng.next_u64() % 4)
                    .map(|_| 1 + self.rng.next_u64() % (self.imported as u64 + 3))
                    .collect();
                sids.sort_unstable();
                sids.dedup();
                for sid in sids {
                    self.imported = self.imported.max(sid as u32);
                    let (lat, lon) = self.position();
                    let status = *self.rng.pick(&["published", "published", "archived"]);
                    let category = *self.rng.pick(&CATEGORIES);
                    csv.push_str(&format!(
                        "prop-test,{sid},Imported {sid} {},{category},{lat:.6},{lon:.6},{status}\n",
                        self.rng.next_u64() % 3
                    ));
                }
                let query = if complete {
                    "format=csv&snapshot=true"
                } else {
                    "format=csv"
                };
                let r = self.send(
                    "POST",
                    &format!("/v1/admin/imports?{query}"),
                    Some(&csv),
                    "text/csv",
                );
                assert_eq!(r.status, 200, "{}", r.body);
                format!("import{}", if complete { " (complete)" } else { "" })
            }
            _ => {
                // A suggestion (a new place, or a correction of a published one), approved.
                let (lat, lon) = self.position();
                let body = if self.rng.unit() < 0.5 {
                    json!({"kind": "new", "asset": {"name": "Suggested place", "category": "gallery",
                        "lat": lat, "lon": lon}})
                } else {
                    let published = self.app.get(&format!(
                        "/v1/assets?near={lat},{lon}&radius_m=20000&limit=1"
                    ));
                    let Some(id) = published.json()["items"][0]["id"]
                        .as_str()
                        .map(String::from)
                    else {
                        return "no suggestion".into();
                    };
                    json!({"kind": "correction", "asset_id": id,
                        "asset": {"opening_hours": "Tu-Sa 10:00-16:00"}})
                };
                let r = self.app.post_json("/v1/suggestions", &body.to_string());
                assert_eq!(r.status, 201, "{}", r.body);
                let sid = r.json()["id"].as_str().unwrap().to_string();
                let r = self.send(
                    "POST",
                    &format!("/v1/admin/suggestions/{sid}/approve"),
                    None,
                    "",
                );
                assert!(r.status == 200 || r.status == 422, "{}", r.body);
                if let Some(id) = r.json()["asset"]["id"].as_str() {
                    self.ids.push(id.to_string());
                }
                "suggestion".into()
            }
        }
    }
}

/// The ids and totals of a few searches, to compare two snapshots by what they answer.
fn answers(s: &Snapshot) -> Vec<(usize, Vec<String>)> {
    let near = |statuses, sort, after: Option<Cursor>| Search {
        near: Some(Near {
            lat: 53.41,
            lon: -2.98,
            radius_m: 3000.0,
        }),
        bbox: None,
        filter: Filter {
            statuses,
            ..Filter::default()
        },
        sort,
        limit: 7,
        after,
    };
    let all = Some(vec![
        community_assets::domain::Status::Published,
        community_assets::domain::Status::Draft,
        community_assets::domain::Status::Archived,
    ]);
    let mut searches = vec![
        near(None, SortBy::Distance, None),
        near(all.clone(), SortBy::Distance, None),
        near(None, SortBy::Name, None),
        Search {
            near: None,
            bbox: Some(BBox {
                min_lon: -3.05,
                min_lat: 53.37,
                max_lon: -2.9,
                max_lat: 53.45,
            }),
            filter: Filter {
                categories: Some(vec!["gallery".into(), "cafe".into(), "library".into()]),
                ..Filter::default()
            },
            sort: SortBy::Updated,
            limit: 10,
            after: None,
        },
    ];
    // The second page of the public nearby list.
    let first = s.search(&searches[0]);
    if let Some(c) = first.next {
        searches.push(near(None, SortBy::Distance, Some(c)));
    }
    let mut out: Vec<(usize, Vec<String>)> = searches
        .iter()
        .map(|q| {
            let p = s.search(q);
            (
                p.total,
                p.hits
                    .iter()
                    .map(|h| s.entry(h.idx).id.to_string())
                    .collect(),
            )
        })
        .collect();
    // Activities: nearby with filters, page after page; and all by next session.
    let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap();
    let activity = |near: Option<Near>, sort, filter: ActivityFilter, after| ActivitySearch {
        near,
        bbox: None,
        filter,
        sort,
        limit: 5,
        after,
        now,
    };
    let circle = Some(Near {
        lat: 53.41,
        lon: -2.98,
        radius_m: 4000.0,
    });
    let older = ActivityFilter {
        audiences: Some(vec!["older-people".into(), "dementia".into()]),
        ..ActivityFilter::default()
    };
    for (near, sort, filter) in [
        (circle, ActivitySort::Distance, ActivityFilter::default()),
        (circle, ActivitySort::Next, older),
        (None, ActivitySort::Next, ActivityFilter::default()),
    ] {
        let mut after = None;
        for _ in 0..3 {
            let p = s.search_activities(&activity(near, sort, filter.clone(), after));
            out.push((
                p.total,
                p.hits
                    .iter()
                    .map(|h| s.activities.entry(h.idx).id().to_string())
                    .collect(),
            ));
            after = p.next;
        }
    }
    let nearest = s.nearest(53.41, -2.98, Some(&["gallery".to_string()]), 5);
    out.push((
        nearest.len(),
        nearest
            .iter()
            .map(|h| s.entry(h.idx).id.to_string())
            .collect(),
    ));
    out
}

fn assert_same_as_rebuild(app: &TestApp, context: &str) {
    let incremental = app.state.snapshot.load();
    let full = full_snapshot(&app.store).unwrap();
    let d = incremental.differences(&full);
    assert!(d.is_empty(), "{context}: {d:?}");
    assert_eq!(answers(&incremental), answers(&full), "{context}");
    // A build reads its assets in pages, on one connection or several: the same as every
    // asset read at once with all source records (the export's reading, which is how
    // builds read before).
    let mut conn = app.store.conn().unwrap();
    let at_once = Snapshot::build(
        full.version,
        &assets::categories(&mut conn).unwrap(),
        assets::all(&mut conn).unwrap(),
        full.areas.clone(),
    )
    .with_activities(
        activities::kinds(&mut conn).unwrap(),
        activities::audiences(&mut conn).unwrap(),
        activities::all(&mut conn).unwrap(),
    );
    drop(conn);
    for readers in [1, 3] {
        let parts = full_snapshot_in_parts(&app.store, readers).unwrap();
        let d = at_once.differences(&parts);
        assert!(d.is_empty(), "{context}, {readers} readers: {d:?}");
        let d = parts.differences(&at_once);
        assert!(d.is_empty(), "{context}, {readers} readers: {d:?}");
        assert_eq!(answers(&at_once), answers(&parts), "{context}");
    }
}

fn random_writes_leave_the_snapshot_equal_to_a_full_rebuild(backend: Backend) {
    let app = TestApp::with_libraries(backend);
    let mut w = Writer::new(&app, 14);
    w.with_activities = true;
    let before = app.state.snapshot.load();
    assert_same_as_rebuild(&app, "at start");
    let mut done = Vec::new();
    for sequence in 0..24 {
        let n = 1 + w.rng.next_u64() % 6;
        let ops: Vec<String> = (0..n).map(|_| w.write()).collect();
        assert_same_as_rebuild(&app, &format!("after sequence {sequence}: {ops:?}"));
        done.extend(ops);
    }
    // The writes were applied as deltas: the snapshot still shares tiles with the first
    // one (a rebuild would share none).
    let now = app.state.snapshot.load();
    assert!(now.version > before.version + 24, "{done:?}");
    assert!(
        now.shared_tiles(&before) > 0,
        "every tile was rebuilt: the writes were not applied as deltas"
    );
    // Patches and status changes were applied as they were written, not read back.
    assert!(
        app.state.metrics.own_writes_applied() > 5,
        "{} of {} writes applied without reading them back",
        app.state.metrics.own_writes_applied(),
        done.len()
    );
    assert!(
        w.activities.len() > 5 && now.activities.public_len() > 0,
        "{} activities written, {} public",
        w.activities.len(),
        now.activities.public_len()
    );
    eprintln!(
        "{backend:?}: {} writes, each snapshot equal to a rebuild",
        done.len()
    );
}

fn admin_list(base_url: &str, auth: &str) -> (Value, Value) {
    let get = |q: &str| {
        send_to(
            base_url,
            "GET",
            &format!("/v1/admin/assets?{q}"),
            &[("Authorization", auth)],
            None,
        )
        .json()
    };
    let all = get("limit=1");
    let near = get("near=53.41,-2.98&radius_m=8000&limit=100");
    (all["total"].clone(), near)
}

fn a_second_instance_converges(backend: Backend) {
    let app = TestApp::with_libraries(backend);
    let mut w = Writer::new(&app, 7);
    // PostgreSQL: the poll slowed to a minute, so only NOTIFY can be quick; SQLite: the poll.
    let refresh_ms = if backend == Backend::Postgres {
        60_000
    } else {
        200
    };
    let other = Server::start(&app.url, refresh_ms, &[]);
    let auth = format!("Bearer {}", other.token("root", PW));
    let mut delays = Vec::new();
    for round in 0..5 {
        for _ in 0..3 {
            w.write();
        }
        let written = Instant::now();
        let here = admin_list(&app.base_url, &w.auth);
        loop {
            if admin_list(&other.base_url, &auth) == here {
                break;
            }
            assert!(
                written.elapsed() < Duration::from_secs(3),
                "{backend:?} round {round}: the other instance did not converge within 3 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        delays.push(written.elapsed().as_millis());
    }
    eprintln!("{backend:?}: the other instance converged after (ms) {delays:?}");
    if backend == Backend::Postgres {
        // With the poll at a minute, only the notification explains it.
        assert!(delays.iter().all(|d| *d < 2000), "{delays:?}");
    }
}

fn sql(url: &str, statements: &str) {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    if url.starts_with("postgres") {
        diesel::PgConnection::establish(url)
            .unwrap()
            .batch_execute(statements)
            .unwrap();
    } else {
        diesel::SqliteConnection::establish(url)
            .unwrap()
            .batch_execute(statements)
            .unwrap();
    }
}

fn a_restore_to_an_older_state_is_picked_up(backend: Backend) {
    let app = TestApp::with_libraries(backend);
    let mut w = Writer::new(&app, 3);
    let other = Server::start(&app.url, 200, &[]);
    // A backup of the assets, their records and the version.
    sql(
        &app.url,
        "CREATE TABLE bk_assets AS SELECT * FROM assets; \
         CREATE TABLE bk_records AS SELECT * FROM source_records; \
         CREATE TABLE bk_version AS SELECT * FROM data_version;",
    );
    let old_version = app.state.snapshot.load().version;
    let old_ids = w.ids.clone();
    // Writes after the backup: a new published asset, and a move.
    let body = json!({"name": "After the backup", "category": "museum", "lat": 53.4, "lon": -2.97,
        "status": "published"})
    .to_string();
    let r = w.send("POST", "/v1/admin/assets", Some(&body), "application/json");
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    for _ in 0..4 {
        w.write();
    }
    let wait_other = |status: u16| {
        let t = Instant::now();
        while other
            .send("GET", &format!("/v1/assets/{id}"), &[], None)
            .status
            != status
        {
            assert!(
                t.elapsed() < Duration::from_secs(3),
                "{backend:?}: not {status}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_other(200);
    // The restore: the database goes back in time, its version too (lower than every
    // instance's snapshot). No notification: the poll finds it.
    sql(
        &app.url,
        "DELETE FROM source_records; DELETE FROM assets; \
         INSERT INTO assets SELECT * FROM bk_assets; \
         INSERT INTO source_records SELECT * FROM bk_records; \
         UPDATE data_version SET version = (SELECT version FROM bk_version);",
    );
    assert!(app.state.refresh().unwrap());
    assert_eq!(app.state.snapshot.load().version, old_version);
    assert_eq!(app.get(&format!("/v1/assets/{id}")).status, 404);
    assert_same_as_rebuild(&app, "after the restore");
    wait_other(404);
    // Writes go on from the restored version, as deltas again.
    w.ids = old_ids;
    for _ in 0..5 {
        w.write();
    }
    assert_same_as_rebuild(&app, "after writes on the restored data");

    // A restore that new writes take past the instance's version before it looks: the
    // version alone cannot tell, the version's tag can (another history).
    sql(
        &app.url,
        "CREATE TABLE bk2_assets AS SELECT * FROM assets; \
         CREATE TABLE bk2_records AS SELECT * FROM source_records; \
         CREATE TABLE bk2_version AS SELECT * FROM data_version; \
         CREATE TABLE bk2_log AS SELECT * FROM change_log;",
    );
    let body = json!({"name": "Lost in the restore", "category": "museum", "lat": 53.41,
        "lon": -2.98, "status": "published"})
    .to_string();
    let r = w.send("POST", "/v1/admin/assets", Some(&body), "application/json");
    assert_eq!(r.status, 201, "{}", r.body);
    let lost = r.json()["id"].as_str().unwrap().to_string();
    let v = app.state.snapshot.load().version;
    sql(
        &app.url,
        &format!(
            "DELETE FROM source_records; DELETE FROM assets; DELETE FROM change_log; \
             INSERT INTO assets SELECT * FROM bk2_assets; \
             INSERT INTO source_records SELECT * FROM bk2_records; \
             INSERT INTO change_log SELECT * FROM bk2_log; \
             UPDATE data_version SET version = {next}; \
             INSERT INTO change_log (seq, tag) VALUES ({v}, 1), ({next}, 2);",
            next = v + 1
        ),
    );
    assert!(app.state.refresh().unwrap());
    assert_eq!(app.state.snapshot.load().version, v + 1);
    assert_eq!(app.get(&format!("/v1/assets/{lost}")).status, 404);
    assert_same_as_rebuild(&app, "after a restore and writes past the version");
}
