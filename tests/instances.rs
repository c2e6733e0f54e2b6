//! Two real server processes on one database: a write made elsewhere (here an import by
//! the command line, a third process) is visible in both within the documented bound.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::{backends, shared_data, Server, TestDb, LIBRARIES};

const BIN: &str = env!("CARGO_BIN_EXE_community-assets");

#[test]
fn a_write_reaches_every_instance_within_the_refresh_bound() {
    for backend in backends() {
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
}
