//! PostgreSQL goes away (a TCP proxy in front of it is cut): public reads keep answering from
//! the snapshot, readiness and admin writes say 503 problem+json with Retry-After, and
//! everything recovers when the database comes back, without a restart.

use crate::support;
use crate::support::{Backend, TestApp, TestDb};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Forwards connections to PostgreSQL until cut; a cut closes every open connection and
/// refuses new ones until restored.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (target, up2, open2) = (target.to_string(), up.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !up2.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                open2
                    .lock()
                    .unwrap()
                    .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Proxy { port, up, open }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn reads_survive_a_database_outage_and_readiness_recovers() {
    let Some(backend) = Backend::postgres_or_skip(concat!(
        module_path!(),
        "::reads_survive_a_database_outage_and_readiness_recovers"
    )) else {
        return;
    };
    let db = TestDb::new(backend);
    // The database URL through the proxy: same database, the proxy's port.
    let (scheme_user, rest) = db.url.split_once('@').unwrap();
    let (_, path) = rest.split_once('/').unwrap();
    let proxy = Proxy::start("127.0.0.1:5432");
    let url = format!("{scheme_user}@127.0.0.1:{}/{path}", proxy.port);
    let app = TestApp::spawn_at(&url, &[&support::shared_data(support::LIBRARIES)]);
    assert_eq!(app.get("/health/ready").status, 200);
    app.add_user("ann", "editor", "editor password 5678");
    let auth = format!("Bearer {}", app.token("ann", "editor password 5678"));
    let id = app.get("/v1/assets?limit=1").json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let patch = |app: &TestApp| {
        let url = format!("{}/v1/admin/assets/{id}", app.base_url);
        match ureq::patch(&url)
            .set("Authorization", &auth)
            // Freshly imported: version 1 (the write during the outage changes nothing).
            .set("If-Match", "\"1\"")
            .set("Content-Type", "application/merge-patch+json")
            .send_string(r#"{"description": "Written after the outage"}"#)
        {
            Ok(r) => (r.status(), None),
            Err(ureq::Error::Status(code, r)) => {
                (code, r.header("retry-after").map(str::to_string))
            }
            Err(e) => panic!("{e}"),
        }
    };

    proxy.cut();
    wait_for("readiness to report the outage", || {
        let r = app.request_any("GET", "/health/ready", &[]);
        if r.status == 503 {
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
            assert!(r.header("retry-after").is_some());
        }
        r.status == 503
    });
    // The snapshot keeps answering public reads, and a refresh attempt fails without harm.
    let r = app.get("/v1/assets?near=51.5363871,0.0799942&radius_m=3000");
    assert_eq!(r.status, 200);
    assert!(r.json()["total"].as_u64().unwrap() > 0);
    assert!(app.state.refresh().is_err());
    assert_eq!(app.get("/v1/categories").status, 200);
    // Writes answer 503 with Retry-After, and nothing is half done.
    let (status, retry_after) = patch(&app);
    assert_eq!(status, 503);
    assert!(retry_after.is_some());

    proxy.restore();
    wait_for("readiness to recover", || {
        app.get("/health/ready").status == 200
    });
    assert!(
        !app.state.refresh().unwrap(),
        "nothing changed while the database was away"
    );
    assert_eq!(patch(&app).0, 200, "writes work again without a restart");
    assert_eq!(
        app.get(&format!("/v1/assets/{id}")).json()["description"],
        "Written after the outage"
    );
}
