//! Test harness: the real server on a random port over a fresh database (a temporary SQLite
//! file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set), spoken to over HTTP;
//! the backend as a test parameter ([`on_both_backends!`]); the real binary as a process.
#![allow(dead_code)]

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;

use community_assets::config::{Config, LimitSettings, TokenSettings};
use community_assets::curation::imports::{import_file, ImportOptions};
use community_assets::import::areas::{import_areas_files, AreaFiles};
use community_assets::startup::serve;
use community_assets::state::AppState;
use community_assets::store::Store;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// PostgreSQL when `TEST_DATABASE_URL` is set; otherwise `None`, after saying on the
    /// real stderr (not captured by the test harness) that `test` is skipped, so that
    /// `cargo test` passes anywhere and still tells what it did not run.
    pub fn postgres_or_skip(test: &str) -> Option<Backend> {
        if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
            Some(Backend::Postgres)
        } else {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "NOTICE: {test} skipped: TEST_DATABASE_URL is unset"
            );
            None
        }
    }
}

/// The backend as a parameter: for each `fn name(backend: Backend)` given, a test
/// `sqlite::name` and a test `postgres::name` (skipped, saying so, without
/// `TEST_DATABASE_URL`), so each backend passes or fails on its own line.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::support::Backend::Sqlite)
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    if let Some(b) = $crate::support::Backend::postgres_or_skip(test) {
                        super::$name(b)
                    }
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;

/// SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is set (else a notice, once).
/// For a loop inside one test; a new test that holds on both backends should rather take
/// the backend as a parameter and be listed in [`on_both_backends!`].
pub fn backends() -> Vec<Backend> {
    static NOTICE: Once = Once::new();
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        vec![Backend::Sqlite, Backend::Postgres]
    } else {
        NOTICE.call_once(|| {
            eprintln!("NOTICE: TEST_DATABASE_URL is unset: skipping PostgreSQL tests")
        });
        vec![Backend::Sqlite]
    }
}

pub fn shared_data(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(name);
    assert!(
        p.exists(),
        "missing {}: the tests read the real data in ../shared/data",
        p.display()
    );
    p
}

/// The JWT secret of test servers.
pub const TEST_SECRET: &[u8] = b"test-secret-of-at-least-32-bytes-for-hs256";

pub const LIBRARIES: &str = "assets_england_libraries_2016.csv";

/// A new empty folder under the system's temporary directory.
pub fn scratch_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ca-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A fresh, empty database of one backend, removed on drop.
pub struct TestDb {
    pub url: String,
    dir: Option<PathBuf>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("ca-test-{tag}"));
                std::fs::create_dir_all(&dir).unwrap();
                TestDb {
                    url: dir.join("db.sqlite3").display().to_string(),
                    dir: Some(dir),
                    pg_admin: None,
                }
            }
            Backend::Postgres => {
                let admin = std::env::var("TEST_DATABASE_URL").unwrap();
                let name = format!("ca_test_{tag}");
                PgConnection::establish(&admin)
                    .expect("connect to TEST_DATABASE_URL")
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                TestDb {
                    url: format!("{base}/{name}"),
                    dir: None,
                    pg_admin: Some((admin, name)),
                }
            }
        }
    }

    pub fn temp_path(&self, file: &str) -> PathBuf {
        self.dir.clone().unwrap_or_else(scratch_dir).join(file)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin, name)) = &self.pg_admin {
            if let Ok(mut c) = PgConnection::establish(admin) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// The real service on 127.0.0.1 and a random port.
pub struct TestApp {
    pub base_url: String,
    /// The database URL the app uses.
    pub url: String,
    pub state: AppState,
    pub store: Store,
    /// The fresh database this app owns, if it made one.
    db: Option<TestDb>,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    /// A service over a fresh database, after importing `files` (paths) in order.
    pub fn spawn(backend: Backend, files: &[&Path]) -> Self {
        let db = TestDb::new(backend);
        let mut app = Self::spawn_at(&db.url.clone(), files);
        app.db = Some(db);
        app
    }

    /// The configuration of test servers: one worker, the test secret, no rate limits
    /// (tests make thousands of requests from one address).
    pub fn config(url: &str) -> Config {
        Config {
            workers: Some(1),
            limits: LimitSettings::off(),
            tokens: Ok(TokenSettings {
                kid: "test-key".into(),
                ..TokenSettings::hs256(TEST_SECRET)
            }),
            ..Config::new(url)
        }
    }

    /// A service over an existing database URL.
    pub fn spawn_at(url: &str, files: &[&Path]) -> Self {
        Self::spawn_with(Self::config(url), files)
    }

    /// A service with this configuration, after importing `files` (paths) in order.
    pub fn spawn_with(config: Config, files: &[&Path]) -> Self {
        let url = config.database_url.clone();
        let store = Store::open(&url).expect("open store");
        for f in files {
            import_file(&store, f, &ImportOptions::default()).expect("import");
        }
        let state = AppState::load(store.clone(), config).expect("load snapshot");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        let st = state.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = serve(listener, st).expect("start server");
                tx.send(server.handle()).unwrap();
                server.await
            })
        });
        let handle = rx.recv().unwrap();
        TestApp {
            base_url,
            url,
            state,
            store,
            db: None,
            handle,
        }
    }

    pub fn with_libraries(backend: Backend) -> Self {
        Self::spawn(backend, &[&shared_data(LIBRARIES)])
    }

    /// A path for a scratch file, in a fresh temporary folder.
    pub fn temp_path(&self, file: &str) -> PathBuf {
        match &self.db {
            Some(db) => db.temp_path(file),
            None => scratch_dir().join(file),
        }
    }

    /// Imports a file into this app's database and refreshes the snapshot now.
    pub fn import(&self, path: &Path) {
        import_file(&self.store, path, &ImportOptions::default()).expect("import");
        self.state.refresh().expect("refresh");
    }

    pub fn get(&self, path_and_query: &str) -> Resp {
        self.request("GET", path_and_query, &[])
    }

    pub fn request(&self, method: &str, path_and_query: &str, headers: &[(&str, &str)]) -> Resp {
        let r = self.request_any(method, path_and_query, headers);
        assert!(
            r.status < 500,
            "{method} {path_and_query} answered {}: {}",
            r.status,
            r.body
        );
        r
    }

    /// Like [`TestApp::request`], but a 5xx is returned rather than failing the test.
    pub fn request_any(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = ureq::request(method, &format!("{}{}", self.base_url, path_and_query));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        finish(method, path_and_query, req.call())
    }

    /// Any method with an optional body; a 5xx fails the test.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        send_to(&self.base_url, method, path, headers, body)
    }

    /// Adds an account directly in the database.
    pub fn add_user(&self, username: &str, role: &str, password: &str) {
        let hash = community_assets::auth::password::hash(password).unwrap();
        community_assets::store::users::add(
            &mut self.store.conn().unwrap(),
            "test-setup",
            username,
            &hash,
            role,
        )
        .unwrap();
    }

    /// A bearer token for an account, through the API.
    pub fn token(&self, username: &str, password: &str) -> String {
        let body = serde_json::json!({"username": username, "password": password}).to_string();
        let r = self.post_json("/v1/auth/token", &body);
        assert_eq!(r.status, 200, "login {username}: {}", r.body);
        r.json()["access_token"].as_str().unwrap().to_string()
    }

    /// POSTs a JSON body; like [`TestApp::request`], a 5xx fails the test.
    pub fn post_json(&self, path: &str, body: &str) -> Resp {
        let req = ureq::post(&format!("{}{}", self.base_url, path))
            .set("Content-Type", "application/json");
        let r = finish("POST", path, req.send_string(body));
        assert!(
            r.status < 500,
            "POST {path} answered {}: {}",
            r.status,
            r.body
        );
        r
    }

    /// Imports areas into this app's database and refreshes the snapshot now.
    pub fn import_areas(&self, files: &AreaFiles) {
        import_areas_files(&self.store, files, false).expect("import areas");
        self.state.refresh().expect("refresh");
    }
}

/// The response of `result`, whatever its status (a transport error fails the test).
pub fn finish(method: &str, path: &str, result: Result<ureq::Response, ureq::Error>) -> Resp {
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .map(|h| {
            let v = resp.header(&h).unwrap_or("").to_string();
            (h, v)
        })
        .collect();
    let body = resp.into_string().unwrap();
    Resp {
        status,
        headers,
        body,
    }
}

/// The official IoD2019 files in ../shared/data, with the 2011 points and/or boundaries.
pub fn official_area_files(points: bool, boundaries: bool) -> AreaFiles {
    AreaFiles {
        imd: shared_data(IMD_FILE),
        domains: Some(shared_data(DOMAINS_FILE)),
        population: Some(shared_data(POPULATION_FILE)),
        points: points.then(|| shared_data(POINTS_2011)),
        boundaries: boundaries.then(|| shared_data(BOUNDARIES_2011)),
        ..Default::default()
    }
}

pub const IMD_FILE: &str = "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz";
pub const DOMAINS_FILE: &str = "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz";
pub const POPULATION_FILE: &str = "File_6_-_IoD2019_Population_Denominators.csv.gz";
pub const POINTS_2011: &str = "lsoa2011_centroids_england.csv.gz";
pub const BOUNDARIES_2011: &str = "lsoa2011_boundaries_england.geojson.gz";

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the server before the database is dropped.
        let h = self.handle.clone();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(h.stop(false)))
            .join()
            .ok();
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One row of the real libraries file, read independently of the crate.
#[derive(Clone, Debug)]
pub struct LibraryRow {
    pub source_id: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub published: bool,
}

pub fn library_rows() -> Vec<LibraryRow> {
    let mut rdr = csv::Reader::from_path(shared_data(LIBRARIES)).unwrap();
    rdr.deserialize::<std::collections::HashMap<String, String>>()
        .map(|r| {
            let r = r.unwrap();
            LibraryRow {
                source_id: r["source_id"].clone(),
                name: r["name"].trim().to_string(),
                lat: r["lat"].parse().unwrap(),
                lon: r["lon"].parse().unwrap(),
                published: r["status"] != "archived",
            }
        })
        .collect()
}

/// Great-circle distance in metres, written here independently of the crate's geometry.
pub fn brute_haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().asin()
}

/// One request to `base_url` (a body, if any, is JSON unless `headers` give another
/// Content-Type); panics on a 5xx.
pub fn send_to(
    base_url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let mut req = ureq::request(method, &format!("{base_url}{path}"));
    if body.is_some() {
        req = req.set("Content-Type", "application/json");
    }
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let r = match body {
        Some(b) => finish(method, path, req.send_string(b)),
        None => finish(method, path, req.call()),
    };
    assert!(
        r.status < 500,
        "{method} {path} answered {}: {}",
        r.status,
        r.body
    );
    r
}

/// One number (a column `n`) from SQL, on either backend: for checking the database itself.
pub fn sql_number(url: &str, sql: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<N> = if url.starts_with("postgres") {
        diesel::sql_query(sql).load(&mut PgConnection::establish(url).unwrap())
    } else {
        diesel::sql_query(sql).load(&mut diesel::SqliteConnection::establish(url).unwrap())
    }
    .unwrap();
    rows[0].n
}

/// The password of the admin account `root` in [`seeded_db`].
pub const SEEDED_ADMIN_PW: &str = "a long admin passphrase";

/// A fresh database with the real libraries (imported by the command line) and an admin
/// account `root`, for [`Server`] processes.
pub fn seeded_db(backend: Backend) -> TestDb {
    let db = TestDb::new(backend);
    cli(
        &db.url,
        &["import", "assets", shared_data(LIBRARIES).to_str().unwrap()],
        &[],
    );
    cli_add_user(&db.url, "root", "admin", SEEDED_ADMIN_PW);
    db
}

/// Runs the command line on `db_url`; panics with its stderr if it fails.
pub fn cli(db_url: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_community-assets"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Adds an account through the command line (for [`Server`] processes).
pub fn cli_add_user(db_url: &str, username: &str, role: &str, password: &str) {
    cli(
        db_url,
        &["users", "add", username, "--role", role],
        &[("COMMUNITY_ASSETS_PASSWORD", password)],
    );
}

/// A `community-assets serve` process on a random port; killed on drop. Rate limits are
/// off and the token secret is [`TEST_SECRET`] unless `env` says otherwise.
pub struct Server {
    child: Child,
    pub base_url: String,
    /// Every line the server has logged so far.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    /// Starts one with extra environment variables.
    pub fn start(db_url: &str, refresh_ms: u64, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_community-assets"))
            .args(["serve", "--bind", "127.0.0.1:0", "--workers", "1"])
            .arg(format!("--refresh-interval-ms={refresh_ms}"))
            .env("DATABASE_URL", db_url)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env("JWT_SECRET", std::str::from_utf8(TEST_SECRET).unwrap())
            .env("RATE_LIMIT_PER_MINUTE", "0")
            .env("RATE_LIMIT_KEY_PER_MINUTE", "0")
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server");
        // The server logs "listening on http://ADDR" once it is bound.
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let base_url = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .unwrap();
            let plain: String = strip_ansi(&line);
            log.lock().unwrap().push(plain.clone());
            if let Some(rest) = plain.split("listening on ").nth(1) {
                break rest
                    .split(';')
                    .next()
                    .unwrap()
                    .trim()
                    .trim_end_matches('"')
                    .to_string();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push(strip_ansi(&line));
            }
        });
        Server {
            child,
            base_url,
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The lines logged so far (without colours).
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Kills the process with SIGKILL: no chance to finish anything.
    pub fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits up to `timeout` for the process to exit; its exit status, if it did.
    pub fn wait_exit(&mut self, timeout: std::time::Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// A bearer token for an account made with [`cli_add_user`].
    pub fn token(&self, username: &str, password: &str) -> String {
        let r: serde_json::Value = ureq::post(&format!("{}/v1/auth/token", self.base_url))
            .send_json(serde_json::json!({"username": username, "password": password}))
            .unwrap()
            .into_json()
            .unwrap();
        r["access_token"].as_str().unwrap().to_string()
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        send_to(&self.base_url, method, path, headers, body)
    }

    /// Published assets, through the public API.
    pub fn total(&self) -> u64 {
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

/// Percent-encodes a query parameter's value (everything but unreserved characters).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
