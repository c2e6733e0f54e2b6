//! Production behaviour of real server processes: rate limits per address and per API key,
//! the API-key lifecycle across two instances, hostile requests (huge headers, slow
//! clients), Prometheus metrics, HEAD, and a graceful shutdown that lets in-flight requests
//! finish.

use crate::support::{on_both_backends, seeded_db, sql_number, Backend, Server, SEEDED_ADMIN_PW};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

on_both_backends!(
    api_keys_are_issued_counted_limited_and_revoked_everywhere,
    graceful_shutdown_finishes_in_flight_requests,
);

const ADMIN_PW: &str = SEEDED_ADMIN_PW;

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn wait_for(what: &str, within: Duration, mut ok: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

/// Without a key each client address has its limit; 429 says when to retry; health probes
/// are never limited; `X-Forwarded-For` counts only from a trusted proxy.
#[test]
fn rate_limits_per_client_address() {
    let db = seeded_db(Backend::Sqlite);
    let s = Server::start(&db.url, 1000, &[("RATE_LIMIT_PER_MINUTE", "5")]);
    for i in 0..5 {
        let r = s.send("GET", "/v1/categories", &[], None);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("5"));
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some(&*(4 - i).to_string())
        );
    }
    let r = s.send("GET", "/v1/assets?limit=1", &[], None);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=12).contains(&retry),
        "5 a minute refills one in 12 s: {retry}"
    );
    assert!(r.body.contains("5 requests a minute"), "{}", r.body);
    assert_eq!(s.send("GET", "/health/ready", &[], None).status, 200);
    assert_eq!(s.send("GET", "/metrics", &[], None).status, 200);
    // An untrusted peer cannot pose as another client.
    let forged = [("X-Forwarded-For", "198.51.100.7")];
    assert_eq!(s.send("GET", "/v1/categories", &forged, None).status, 429);

    // Behind a trusted proxy, each forwarded client has its own bucket.
    let proxied = Server::start(
        &db.url,
        1000,
        &[
            ("RATE_LIMIT_PER_MINUTE", "2"),
            ("TRUSTED_PROXIES", "127.0.0.0/8"),
        ],
    );
    for client in ["198.51.100.7", "198.51.100.8"] {
        let xff = [("X-Forwarded-For", client)];
        for _ in 0..2 {
            assert_eq!(
                proxied.send("GET", "/v1/categories", &xff, None).status,
                200
            );
        }
        assert_eq!(
            proxied.send("GET", "/v1/categories", &xff, None).status,
            429
        );
    }
    // A bad setting stops the server at start-up, naming it.
    let out = Command::new(env!("CARGO_BIN_EXE_community-assets"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", &db.url)
        .env("RATE_LIMIT_PER_MINUTE", "lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("RATE_LIMIT_PER_MINUTE"));
}

/// Admins issue keys (shown once, stored hashed), apps use them with their own limit,
/// usage is counted, and a revoked key stops working on every instance within the
/// refresh interval.
fn api_keys_are_issued_counted_limited_and_revoked_everywhere(backend: Backend) {
    let db = seeded_db(backend);
    let env = [
        ("RATE_LIMIT_PER_MINUTE", "1000"),
        ("RATE_LIMIT_KEY_PER_MINUTE", "1000"),
    ];
    let a = Server::start(&db.url, 200, &env);
    let b = Server::start(&db.url, 200, &env);
    let admin = bearer(&a.token("root", ADMIN_PW));
    let auth = [("Authorization", admin.as_str())];

    let body = json!({"name": "Leeds link-worker app", "rate_limit_per_minute": 3}).to_string();
    let r = a.send("POST", "/v1/admin/api-keys", &auth, Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let issued = r.json();
    let key = issued["key"].as_str().unwrap().to_string();
    let id = issued["api_key"]["id"].as_str().unwrap().to_string();
    assert!(key.starts_with("cak_") && key.len() > 40, "{key}");
    assert!(key.starts_with(issued["api_key"]["prefix"].as_str().unwrap()));

    // Stored as its SHA-256 only: the list never shows the key or the hash.
    let list = a.send("GET", "/v1/admin/api-keys", &auth, None);
    assert!(!list.body.contains(&key) && !list.body.contains("hash"));
    let sha: String = Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let sql = format!("SELECT COUNT(*) AS n FROM api_keys WHERE hash = '{sha}'");
    assert_eq!(sql_number(&db.url, &sql), 1);

    // The key's own limit (3 a minute) applies, whatever the address limit is.
    let with_key = [("X-API-Key", key.as_str())];
    for _ in 0..3 {
        let r = a.send("GET", "/v1/categories", &with_key, None);
        assert_eq!((r.status, r.header("x-ratelimit-limit")), (200, Some("3")));
    }
    let r = a.send("GET", "/v1/categories", &with_key, None);
    assert_eq!(r.status, 429);
    assert_eq!(
        a.send("GET", "/v1/categories", &[], None).status,
        200,
        "keyless still fine"
    );
    // Instance b learns of the key within its refresh interval; it counts its own.
    wait_for("b accepts the new key", Duration::from_secs(2), || {
        b.send("GET", "/v1/categories", &with_key, None).status == 200
    });

    // A wrong key is refused, not ignored.
    let wrong = [("X-API-Key", "cak_not-a-key")];
    let r = a.send("GET", "/v1/categories", &wrong, None);
    assert_eq!(r.status, 401);
    assert!(r.body.contains("X-API-Key"), "{}", r.body);

    // Usage: a's 4 requests with the key (3 admitted + 1 refused), b's at least 1.
    let used = wait_for("usage is counted", Duration::from_secs(3), || {
        let list = a.send("GET", "/v1/admin/api-keys", &auth, None).json();
        list["items"][0]["request_count"].as_i64().unwrap() >= 5
    });
    eprintln!("{backend:?}: usage visible after {used:?}");

    // Revoked on a: refused at once there, and on b within the refresh interval.
    let r = a.send("DELETE", &format!("/v1/admin/api-keys/{id}"), &auth, None);
    assert_eq!(r.status, 200);
    let revoked = r.json()["revoked_at"].as_str().map(str::to_string);
    assert!(
        revoked
            .as_deref()
            .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
        "revoked_at is RFC 3339: {revoked:?}"
    );
    assert_eq!(a.send("GET", "/v1/categories", &with_key, None).status, 401);
    let took = wait_for("b refuses the revoked key", Duration::from_secs(2), || {
        b.send("GET", "/v1/categories", &with_key, None).status == 401
    });
    eprintln!("{backend:?}: revocation reached the other instance in {took:?}");

    // Admins only; bad bodies are named.
    let r = a.send("GET", "/v1/admin/api-keys", &[], None);
    assert_eq!(r.status, 401);
    let bad = json!({"name": "", "rate_limit_per_minute": 0}).to_string();
    let r = a.send("POST", "/v1/admin/api-keys", &auth, Some(&bad));
    assert_eq!(r.status, 422);
    let names: Vec<_> = r.json()["invalid-params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["name", "rate_limit_per_minute"]);
    let r = a.send("DELETE", "/v1/admin/api-keys/nope", &auth, None);
    assert_eq!(r.status, 404);
    // Issue and revoke are in the audit trail.
    let audit = a.send("GET", "/v1/admin/audit?user=root", &auth, None).body;
    assert!(
        audit.contains("api_key.issue") && audit.contains("api_key.revoke"),
        "{audit}"
    );
}

/// Sends raw bytes and reads until the server closes the connection or the head has
/// arrived; returns the response's first line and how long it took.
fn raw(base_url: &str, bytes: &[u8]) -> (String, Duration) {
    let mut s = TcpStream::connect(base_url.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let start = Instant::now();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !out.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&out);
    (
        text.lines().next().unwrap_or("").to_string(),
        start.elapsed(),
    )
}

/// Oversized headers, slow headers and slow bodies are cut off with a clear status.
#[test]
fn hostile_requests_are_refused_in_bounded_time() {
    let db = seeded_db(Backend::Sqlite);
    let s = Server::start(&db.url, 1000, &[("REQUEST_TIMEOUT_SECONDS", "2")]);
    let big = "a".repeat(20_000);
    let r = s.send("GET", "/v1/categories", &[("X-Big", &big)], None);
    assert_eq!(r.status, 431);
    assert!(r.body.contains("at most 16384"), "{}", r.body);

    let many: String = (0..200).map(|i| format!("X-H{i}: 1\r\n")).collect();
    let (line, _) = raw(
        &s.base_url,
        format!("GET /v1/categories HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes(),
    );
    assert!(line.contains(" 431 "), "{line}");

    // Headers that never end: cut off (408) within the header timeout, 2 s here.
    let (line, took) = raw(&s.base_url, b"GET /v1/categories HTTP/1.1\r\nHost: x\r\n");
    assert!(line.contains(" 408 "), "{line}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    // A body that never arrives: 408 within the request timeout.
    let (line, took) = raw(
        &s.base_url,
        b"POST /v1/suggestions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    assert!(line.contains(" 408 "), "{line}");
    assert!(
        (Duration::from_millis(1900)..Duration::from_secs(4)).contains(&took),
        "{took:?}"
    );
    // The server is fine afterwards.
    assert_eq!(s.total(), 2986);
}

/// A gzip bomb (70 MiB of zeros in 70 KiB) is refused before it is expanded in full.
#[test]
fn a_gzip_bomb_import_is_refused() {
    use flate2::{write::GzEncoder, Compression};
    let db = seeded_db(Backend::Sqlite);
    let s = Server::start(&db.url, 1000, &[]);
    let admin = bearer(&s.token("root", ADMIN_PW));
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..70 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 200_000);
    let r = ureq::post(&format!(
        "{}/v1/admin/imports?format=csv&dry_run=true",
        s.base_url
    ))
    .set("Authorization", &admin)
    .set("Content-Type", "application/gzip")
    .send_bytes(&bomb)
    .unwrap_err();
    let ureq::Error::Status(400, r) = r else {
        panic!("{r:?}")
    };
    let body = r.into_string().unwrap();
    assert!(
        body.contains("expands to more than 67108864 bytes"),
        "{body}"
    );
    assert_eq!(s.total(), 2986);
}

/// `/metrics` counts requests by route pattern (not by id), method and status, with
/// latency buckets, and reports the snapshot and imports.
#[test]
fn metrics_count_requests_by_route_and_status() {
    let db = seeded_db(Backend::Sqlite);
    let s = Server::start(&db.url, 1000, &[]);
    for _ in 0..3 {
        assert_eq!(s.send("GET", "/v1/assets?limit=2", &[], None).status, 200);
    }
    for id in [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()] {
        assert_eq!(
            s.send("GET", &format!("/v1/assets/{id}"), &[], None).status,
            404
        );
    }
    assert_eq!(s.send("GET", "/nowhere", &[], None).status, 404);
    let admin = bearer(&s.token("root", ADMIN_PW));
    let csv = "name,category,lat,lon,source,source_id\nA museum,museum,53.4,-2.9,test,1\n";
    let r = ureq::post(&format!("{}/v1/admin/imports?format=csv", s.base_url))
        .set("Authorization", &admin)
        .set("Content-Type", "text/csv")
        .send_string(csv)
        .unwrap();
    assert_eq!(r.status(), 200);

    let text = s.send("GET", "/metrics", &[], None);
    assert!(text
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let value = |series: &str| -> f64 {
        text.body
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{}", text.body))
    };
    let labels = |route: &str, status: u16| {
        format!("{{route=\"{route}\",method=\"GET\",status=\"{status}\"}}")
    };
    assert_eq!(
        value(&format!(
            "http_request_duration_seconds_count{}",
            labels("/v1/assets", 200)
        )),
        3.0
    );
    assert_eq!(
        value(&format!(
            "http_request_duration_seconds_count{}",
            labels("/v1/assets/{id}", 404)
        )),
        2.0
    );
    assert_eq!(
        value(&format!(
            "http_request_duration_seconds_count{}",
            labels("unmatched", 404)
        )),
        1.0
    );
    let inf = "http_request_duration_seconds_bucket{route=\"/v1/assets\",method=\"GET\",status=\"200\",le=\"+Inf\"}";
    assert_eq!(value(inf), 3.0);
    assert_eq!(value("imports_total{outcome=\"applied\"}"), 1.0);
    assert_eq!(value("import_rows_total"), 1.0);
    assert_eq!(value("snapshot_assets"), 2987.0);
    assert!(value("snapshot_age_seconds") < 60.0);
    assert!(value("process_resident_memory_bytes") > 1e6);
}

/// HEAD is GET without a body, with the same headers.
#[test]
fn head_answers_like_get_without_a_body() {
    let db = seeded_db(Backend::Sqlite);
    let s = Server::start(&db.url, 1000, &[]);
    let get = s.send("GET", "/v1/assets?limit=3", &[], None);
    let head = s.send("HEAD", "/v1/assets?limit=3", &[], None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length").unwrap(),
        get.body.len().to_string()
    );
    assert_eq!(head.header("x-total-count"), Some("2986"));
}

/// On SIGTERM the server stops accepting connections but finishes the requests it has:
/// a suggestion whose body is still arriving is stored and answered.
fn graceful_shutdown_finishes_in_flight_requests(backend: Backend) {
    let db = seeded_db(backend);
    let mut s = Server::start(&db.url, 1000, &[]);
    let body = json!({"kind": "new", "asset": {"name": "A late place", "category": "museum",
            "lat": 53.4, "lon": -2.9}})
    .to_string();
    let mut conn = TcpStream::connect(s.base_url.trim_start_matches("http://")).unwrap();
    let (first, rest) = body.split_at(10);
    write!(
            conn,
            "POST /v1/suggestions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
            body.len()
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let term = Command::new("kill")
        .args(["-TERM", &s.pid().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    std::thread::sleep(Duration::from_millis(500));
    // No new connections are taken...
    let refused = TcpStream::connect(s.base_url.trim_start_matches("http://"))
        .map(|mut c| {
            let _ = c.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
            let mut buf = [0u8; 64];
            c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            !matches!(c.read(&mut buf), Ok(n) if n > 0)
        })
        .unwrap_or(true);
    assert!(
        refused,
        "{backend:?}: a new request was served after SIGTERM"
    );
    // ...but the one in flight finishes.
    conn.write_all(rest.as_bytes()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut response = String::new();
    let _ = conn.read_to_string(&mut response);
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "{backend:?}: {response}"
    );
    let status = s.wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "{backend:?}: {status:?}"
    );

    // It was stored: a new server lists it to an editor.
    let again = Server::start(&db.url, 1000, &[]);
    let admin = bearer(&again.token("root", ADMIN_PW));
    let list: Value = again
        .send(
            "GET",
            "/v1/admin/suggestions",
            &[("Authorization", &admin)],
            None,
        )
        .json();
    assert!(
        list.to_string().contains("A late place"),
        "{backend:?}: {list}"
    );
}
