//! Crash safety with real processes killed by SIGKILL (no chance to clean up), on SQLite
//! and PostgreSQL: a large import killed while its transaction is open leaves nothing
//! behind, and a burst of admin writes killed mid-way loses none that were acknowledged.

use crate::support::{
    cli, on_both_backends, seeded_db, shared_data, sql_number, Backend, Server, TestDb, LIBRARIES,
    SEEDED_ADMIN_PW,
};
use diesel::prelude::*;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

on_both_backends!(
    a_large_import_killed_mid_transaction_leaves_nothing_partial,
    admin_writes_acknowledged_before_a_kill_are_all_there_after_it,
);

const BIN: &str = env!("CARGO_BIN_EXE_community-assets");
const ADMIN_PW: &str = SEEDED_ADMIN_PW;

fn counts(url: &str) -> (i64, i64, i64) {
    (
        sql_number(url, "SELECT COUNT(*) AS n FROM assets"),
        sql_number(url, "SELECT COUNT(*) AS n FROM audit_log"),
        sql_number(url, "SELECT MAX(version) AS n FROM data_version"),
    )
}

/// Whether the import process is inside its write transaction: PostgreSQL shows an open
/// transaction that has been inserting; SQLite's write-ahead log has grown by megabytes.
fn import_is_writing(url: &str) -> bool {
    if url.starts_with("postgres") {
        sql_number(
            url,
            "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND xact_start < now() - interval '200 milliseconds' \
             AND query ILIKE 'INSERT%'",
        ) > 0
    } else {
        std::fs::metadata(format!("{url}-wal")).is_ok_and(|m| m.len() > 4 << 20)
    }
}

fn a_large_import_killed_mid_transaction_leaves_nothing_partial(backend: Backend) {
    let db = TestDb::new(backend);
    cli(
        &db.url,
        &["import", "assets", shared_data(LIBRARIES).to_str().unwrap()],
        &[],
    );
    let before = counts(&db.url);
    assert_eq!(before.0, 3238);

    let big = db.temp_path("synthetic-20k.csv");
    let generated = Command::new(env!("CARGO_BIN_EXE_generate-assets"))
        .args(["20000", "7"])
        .arg(shared_data(""))
        .output()
        .unwrap();
    assert!(generated.status.success());
    std::fs::write(&big, generated.stdout).unwrap();

    let mut import = Command::new(BIN)
        .args(["import", "assets"])
        .arg(&big)
        .env("DATABASE_URL", &db.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !import_is_writing(&db.url) {
        assert!(
            import.try_wait().unwrap().is_none(),
            "{backend:?}: the import finished before it could be killed mid-write"
        );
        assert!(started.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(10));
    }
    import.kill().unwrap(); // SIGKILL
    import.wait().unwrap();
    eprintln!(
        "{backend:?}: killed the import {} ms after it started, mid-write",
        started.elapsed().as_millis()
    );

    // Nothing of it is visible: not in the tables, not in the audit, not in the version.
    assert_eq!(counts(&db.url), before, "{backend:?}");
    if !db.url.starts_with("postgres") {
        let mut c = SqliteConnection::establish(&db.url).unwrap();
        #[derive(QueryableByName)]
        struct Check {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
            .load(&mut c)
            .unwrap();
        assert_eq!(check[0].integrity_check, "ok");
    }
    // A server starts on it and serves the old data; the import can simply be rerun.
    let s = Server::start(&db.url, 200, &[]);
    assert_eq!(s.total(), 2986);
    let out = cli(&db.url, &["import", "assets", big.to_str().unwrap()], &[]);
    assert!(out.contains("inserted 20000"), "{out}");
    assert_eq!(counts(&db.url).0, 3238 + 20000);
}

/// What the server acknowledged: an asset at a version with a name.
#[derive(Clone, Debug)]
struct Ack {
    id: String,
    version: i64,
    name: String,
}

fn admin_writes_acknowledged_before_a_kill_are_all_there_after_it(backend: Backend) {
    let db = seeded_db(backend);
    let mut s = Server::start(&db.url, 1000, &[]);
    let auth = format!("Bearer {}", s.token("root", ADMIN_PW));
    let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();

    // Four writers: each creates an asset, then renames it, again and again.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (base, auth, acks) = (s.base_url.clone(), auth.clone(), acks.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let name = format!("Writer {w} place {i}");
                    let body = json!({"name": name, "category": "museum",
                            "lat": 53.0 + f64::from(w) / 10.0, "lon": -2.0, "status": "published"});
                    let Ok(r) = ureq::post(&format!("{base}/v1/admin/assets"))
                        .set("Authorization", &auth)
                        .send_json(body)
                    else {
                        return;
                    };
                    let created: Value = r.into_json().unwrap();
                    let id = created["id"].as_str().unwrap().to_string();
                    acks.lock().unwrap().push(Ack {
                        id: id.clone(),
                        version: 1,
                        name,
                    });
                    let renamed = format!("Writer {w} place {i} renamed");
                    let Ok(r) = ureq::request("PATCH", &format!("{base}/v1/admin/assets/{id}"))
                        .set("Authorization", &auth)
                        .set("If-Match", "\"1\"")
                        .set("Content-Type", "application/merge-patch+json")
                        .send_string(&json!({"name": renamed}).to_string())
                    else {
                        return;
                    };
                    let patched: Value = r.into_json().unwrap();
                    acks.lock().unwrap().push(Ack {
                        id,
                        version: patched["version"].as_i64().unwrap(),
                        name: renamed,
                    });
                }
            })
        })
        .collect();
    let started = Instant::now();
    while acks.lock().unwrap().len() < 40 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{backend:?}: writes too slow"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    s.kill_9();
    for w in writers {
        w.join().unwrap();
    }
    let acks = acks.lock().unwrap().clone();
    eprintln!(
        "{backend:?}: killed after {} acknowledged writes",
        acks.len()
    );

    // Every acknowledged write is there, at its version or later, and audited.
    let s = Server::start(&db.url, 1000, &[]);
    let auth = format!("Bearer {}", s.token("root", ADMIN_PW));
    let mut latest: std::collections::HashMap<&str, &Ack> = Default::default();
    for ack in &acks {
        let e = latest.entry(&ack.id).or_insert(ack);
        if ack.version > e.version {
            *e = ack;
        }
    }
    for ack in latest.values() {
        let r = s.send(
            "GET",
            &format!("/v1/admin/assets/{}", ack.id),
            &[("Authorization", &auth)],
            None,
        );
        assert_eq!(r.status, 200, "{backend:?}: acknowledged {ack:?} is lost");
        let asset = r.json();
        let version = asset["version"].as_i64().unwrap();
        assert!(
            version >= ack.version,
            "{backend:?}: {ack:?} went back to {version}"
        );
        if version == ack.version {
            assert_eq!(asset["name"], ack.name.as_str(), "{backend:?}");
        }
        let history = s.send(
            "GET",
            &format!("/v1/admin/assets/{}/history", ack.id),
            &[("Authorization", &auth)],
            None,
        );
        let entries = history.json()["items"].as_array().unwrap().len() as i64;
        assert!(
            entries >= version,
            "{backend:?}: {ack:?} has {entries} audit entries"
        );
        // ...and public, since they were published.
        let public = s.send("GET", &format!("/v1/assets/{}", ack.id), &[], None);
        assert_eq!(public.status, 200, "{backend:?}");
    }
}
