//! Two real server processes on one database: a write made elsewhere (here an import by
//! the command line, a third process) is visible in both within the documented bound.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{backends, shared_data, TestDb, LIBRARIES};

const BIN: &str = env!("CARGO_BIN_EXE_community-assets");

/// A `community-assets serve` process on a random port; killed on drop.
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    fn start(db_url: &str, refresh_ms: u64) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--bind", "127.0.0.1:0", "--workers", "1"])
            .arg(format!("--refresh-interval-ms={refresh_ms}"))
            .env("DATABASE_URL", db_url)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server");
        // The server logs "listening on http://ADDR" once it is bound.
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let base_url = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .unwrap();
            let plain: String = strip_ansi(&line);
            if let Some(rest) = plain.split("listening on ").nth(1) {
                break rest.split(';').next().unwrap().trim().to_string();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, base_url }
    }

    fn total(&self) -> u64 {
        let body = ureq::get(&format!("{}/v1/assets?limit=1", self.base_url))
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["total"]
            .as_u64()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

#[test]
fn a_write_reaches_every_instance_within_the_refresh_bound() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let refresh_ms = 200;
        let a = Server::start(&db.url, refresh_ms);
        let b = Server::start(&db.url, refresh_ms);
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
