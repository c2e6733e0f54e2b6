//! The work budget against the real server: costly requests beyond it are refused at once
//! (503, or 429 for a client holding its share) while cached reports and searches still
//! answer; the report cache stays within its byte bound; anonymous uploads to the admin
//! API are refused before their body is read.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use community_assets::budget::Budget;
use community_assets::config::{BudgetSettings, Config};

use crate::support::{official_area_files, shared_data, Backend, TestApp, TestDb, LIBRARIES};

/// The libraries and the official IoD2019 areas (points), with this configuration.
fn spawn(db: &TestDb, configure: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = TestApp::config(&db.url);
    configure(&mut config);
    let app = TestApp::spawn_with(config, &[&shared_data(LIBRARIES)]);
    app.import_areas(&official_area_files(true, false));
    app
}

/// Takes a place in `budget` as `client` and holds it (on a thread of its own) until the
/// returned sender is dropped.
fn hold(budget: Arc<Budget>, client: &str) -> mpsc::Sender<()> {
    let (release, released) = mpsc::channel::<()>();
    let (started, running) = mpsc::channel();
    let client = client.to_string();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let work = move || {
                started.send(()).unwrap();
                let _ = released.recv();
            };
            budget.run(&client, work).await.unwrap();
        })
    });
    running.recv().unwrap();
    release
}

const GAPS: &str = "/v1/reports/access-gaps?category=library&max_decile=3";
const NEAR: &str = "/v1/assets?near=53.41,-2.98&radius_m=5000";

fn what_if(app: &TestApp) -> crate::support::Resp {
    let body = serde_json::json!({"category": "library", "threshold_m": 1500,
        "candidates": [{"lat": 53.43, "lon": -2.96}, {"lat": 53.40, "lon": -2.90}]});
    let path = "/v1/reports/what-if";
    let req = ureq::post(&format!("{}{path}", app.base_url))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    crate::support::finish("POST", path, req)
}

#[test]
fn costly_requests_beyond_the_budget_are_refused_at_once_and_reads_still_answer() {
    let db = TestDb::new(Backend::Sqlite);
    let app = spawn(&db, |c| {
        c.work.costly = BudgetSettings {
            running: 1,
            queued: 0,
            per_client: 0,
        }
    });
    let cached = app.get(GAPS);
    assert_eq!(cached.status, 200, "{}", cached.body);

    let release = hold(app.state.work.clone(), "someone else");
    let started = Instant::now();
    let again = app.get(GAPS);
    assert_eq!(again.status, 200, "a cached report needs no budget");
    assert_eq!(again.body, cached.body);
    for r in [
        app.request_any("GET", &format!("{GAPS}&threshold_m=1500"), &[]),
        app.request_any("GET", "/v1/reports/access-by-decile?category=library", &[]),
        app.request_any("GET", "/v1/reports/access-gaps.svg?category=library", &[]),
        what_if(&app),
    ] {
        assert_eq!(r.status, 503, "{}", r.body);
        assert_eq!(r.header("retry-after"), Some("1"));
        assert!(r.body.contains("busy"), "{}", r.body);
    }
    assert_eq!(
        app.get(NEAR).status,
        200,
        "searches never wait for the budget"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once, not queued: {:?}",
        started.elapsed()
    );
    let metrics = app.get("/metrics").body;
    assert!(metrics.contains("work_in_use 1"), "{metrics}");
    assert!(metrics.contains("work_refused_total 4"), "{metrics}");

    drop(release);
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.state.work.in_use() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        app.get(&format!("{GAPS}&threshold_m=1500")).status,
        200,
        "served again once the budget is free"
    );
    assert_eq!(what_if(&app).status, 200);
}

#[test]
fn one_client_holds_at_most_its_share_of_the_budget() {
    let db = TestDb::new(Backend::Sqlite);
    let app = spawn(&db, |c| {
        c.work.costly = BudgetSettings {
            running: 4,
            queued: 4,
            per_client: 1,
        }
    });
    // The test's requests come from 127.0.0.1, as the held place does.
    let release = hold(app.state.work.clone(), "127.0.0.1");
    let r = app.request_any("GET", GAPS, &[]);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    let other = hold(app.state.work.clone(), "192.0.2.1");
    drop(other);
    drop(release);
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.state.work.in_use() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(app.get(GAPS).status, 200);
}

/// Each distinct `threshold_m` is another body; the cache keeps the most recently used
/// within its byte bound instead of growing with every variant.
#[test]
fn the_report_cache_stays_within_its_byte_bound() {
    let db = TestDb::new(Backend::Sqlite);
    let bound = 128 << 10;
    let app = spawn(&db, |c| c.work.report_cache_bytes = bound);
    let mut total = 0;
    for i in 0..12 {
        let r = app.get(&format!(
            "/v1/reports/access-gaps?category=library&max_decile=10&la=E08000012&format=geojson&threshold_m={}",
            1000 + i
        ));
        assert_eq!(r.status, 200, "{}", r.body);
        total += r.body.len();
        let held = app.state.reports.bytes();
        assert!(held <= bound, "{held} bytes cached, bound {bound}");
    }
    assert!(
        total > 2 * bound,
        "the variants together exceed the bound: {total}"
    );
    assert!(app.state.reports.bytes() > 0, "recent bodies are kept");
    let metrics = app.get("/metrics").body;
    let line = metrics
        .lines()
        .find(|l| l.starts_with("report_cache_bytes "))
        .unwrap();
    let held: f64 = line.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(held > 0.0 && held <= bound as f64, "{line}");
}

/// Sends the head of a large upload (and a little of its body), then reads the answer
/// without sending the rest: the status line, or an empty string if none came in `wait`.
fn upload_head(base_url: &str, path: &str, auth: Option<&str>, wait: Duration) -> String {
    let mut s = TcpStream::connect(base_url.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
        60 << 20
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&[b'a'; 1024]).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !out.windows(2).any(|w| w == b"\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn the_admin_api_refuses_an_anonymous_upload_before_reading_its_body() {
    let db = TestDb::new(Backend::Sqlite);
    let app = TestApp::spawn_with(TestApp::config(&db.url), &[]);
    let wait = Duration::from_secs(5);
    for auth in [None, Some("Bearer not.a.token"), Some("Basic cm9vdDpyb290")] {
        let line = upload_head(&app.base_url, "/v1/admin/imports?format=csv", auth, wait);
        assert!(line.contains(" 401 "), "{auth:?}: {line:?}");
    }
    // With a valid token the server does wait for the body (and it never comes).
    app.add_user("ann", "editor", "a long editor passphrase");
    let token = format!("Bearer {}", app.token("ann", "a long editor passphrase"));
    let line = upload_head(
        &app.base_url,
        "/v1/admin/imports?format=csv",
        Some(&token),
        Duration::from_millis(1500),
    );
    assert_eq!(line, "", "a curator's upload is read: {line:?}");

    // A well-signed token of an account since disabled: refused from the headers too,
    // before the body (the account is looked up first).
    app.add_user("root", "admin", "a long admin passphrase");
    let admin = format!("Bearer {}", app.token("root", "a long admin passphrase"));
    let r = app.request(
        "POST",
        "/v1/admin/users/ann/disable",
        &[("Authorization", &admin)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let line = upload_head(
        &app.base_url,
        "/v1/admin/imports?format=csv",
        Some(&token),
        wait,
    );
    assert!(line.contains(" 401 "), "revoked: {line:?}");
}

/// A client that reads a large report slowly keeps its body alive after the cache has let
/// go of it: while such bodies exceed the cache's size, new costly reports wait (503)
/// instead of piling up memory; they are served again once the reader is done.
#[test]
fn bodies_kept_alive_by_slow_readers_hold_back_new_costly_reports() {
    let db = TestDb::new(Backend::Sqlite);
    let app = spawn(&db, |c| c.work.report_cache_bytes = 1 << 20);
    let big = "/v1/reports/access-gaps?category=library,museum&max_decile=10&format=geojson";
    let mut slow = TcpStream::connect(app.base_url.trim_start_matches("http://")).unwrap();
    write!(
        slow,
        "GET {big} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.state.reports.alive_bytes() <= 1 << 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let alive = app.state.reports.alive_bytes();
    assert!(
        alive > 1 << 20,
        "the body is being sent: {alive} bytes alive"
    );
    let r = app.request_any("GET", GAPS, &[]);
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("still sending"), "{}", r.body);
    assert_eq!(app.get(NEAR).status, 200, "searches are not held back");

    // The slow reader reads it all: the body is let go and reports are served again.
    let mut sink = Vec::new();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut buf = [0u8; 1 << 16];
    loop {
        match slow.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => sink.extend_from_slice(&buf[..n]),
        }
    }
    assert!(sink.len() > alive, "{} bytes read", sink.len());
    drop(slow);
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.state.reports.alive_bytes() > 1 << 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(app.get(GAPS).status, 200);
}
