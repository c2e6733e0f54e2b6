//! Two real server processes on one database: a write made elsewhere (here an import by
//! the command line, a third process) is visible in both within the documented bound.

use crate::support;
use crate::support::{on_both_backends, shared_data, Backend, Server, TestDb, LIBRARIES};
use std::process::Command;
use std::time::{Duration, Instant};

on_both_backends!(
    a_write_reaches_every_instance_within_the_refresh_bound,
    an_admin_write_on_one_instance_is_public_on_the_other_within_2_s,
);

const BIN: &str = env!("CARGO_BIN_EXE_community-assets");

/// The tests here time a bound: one at a time, so they do not slow each other down.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn a_write_reaches_every_instance_within_the_refresh_bound(backend: Backend) {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let db = TestDb::new(backend);
    let refresh_ms = 200;
    let a = Server::start(&db.url, refresh_ms, &[]);
    let b = Server::start(&db.url, refresh_ms, &[]);
    assert_eq!((a.total(), b.total()), (0, 0));

    let out = Command::new(BIN)
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
    let written = Instant::now();

    // Documented bound: the refresh interval plus one rebuild (well under 2 s here).
    let deadline = written + Duration::from_secs(2);
    for s in [&a, &b] {
        while s.total() != 2986 {
            assert!(
                Instant::now() < deadline,
                "{backend:?}: {} did not catch up within 2 s",
                s.base_url
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    eprintln!(
        "{backend:?}: both instances caught up {} ms after the import returned",
        written.elapsed().as_millis()
    );
}

/// An admin write accepted by one instance is in the other's public API within 2 s with the
/// default refresh interval (1 s): the interval plus one rebuild.
fn an_admin_write_on_one_instance_is_public_on_the_other_within_2_s(backend: Backend) {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let db = TestDb::new(backend);
    support::cli(
        &db.url,
        &["import", "assets", shared_data(LIBRARIES).to_str().unwrap()],
        &[],
    );
    support::cli_add_user(&db.url, "root", "admin", "a long admin passphrase");
    let a = Server::start(&db.url, 1000, &[]);
    let b = Server::start(&db.url, 1000, &[]);
    let auth = format!("Bearer {}", a.token("root", "a long admin passphrase"));
    let mut delays = Vec::new();
    for i in 0..5 {
        let body = serde_json::json!({"name": format!("Instance test {i}"), "category": "gallery",
                "lat": 53.4, "lon": -2.98, "status": "published"})
        .to_string();
        let r = a.send(
            "POST",
            "/v1/admin/assets",
            &[("Authorization", &auth)],
            Some(&body),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let acknowledged = Instant::now();
        let id = r.json()["id"].as_str().unwrap().to_string();
        assert_eq!(
            a.send("GET", &format!("/v1/assets/{id}"), &[], None).status,
            200
        );
        while b.send("GET", &format!("/v1/assets/{id}"), &[], None).status != 200 {
            assert!(
                acknowledged.elapsed() < Duration::from_secs(2),
                "{backend:?}: instance b did not show the write within 2 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        delays.push(acknowledged.elapsed().as_millis());
    }
    eprintln!("{backend:?}: write-to-visible on the other instance (ms): {delays:?}");
}
