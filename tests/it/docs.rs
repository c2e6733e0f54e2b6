//! Docs that run: every shell example in README.md and docs/*.md runs here, against the real
//! server (the built binary on a random port, over a fresh SQLite database in a temporary copy
//! of the checkout), and what it prints is checked.
//!
//! The convention, for writers of the documentation:
//! - A fenced block tagged `sh` is run with `bash -euo pipefail` in the checkout (a temporary
//!   copy: `sample/`, `tests/` … are links, `./data/` is fresh, `../shared/data` is the real
//!   data). It must be followed (blank lines aside) by a block tagged `text`: the expected
//!   output. Each non-empty line of it must occur in what the commands print (stdout), in
//!   order; `...` inside a line matches anything, and a line that is only `...` is skipped.
//! - Within a document, the blocks run in order and share shell variables (`TOKEN=…` in one
//!   block is there in the next) and the server.
//! - A block tagged `sh server` starts the service: it is the command the reader runs in a
//!   terminal of its own. The test runs it (with `BIND_ADDR=127.0.0.1:0`) in the background.
//!   README.md starts with none running (the tour starts it); every file in docs/ starts
//!   with one running with the sample loaded (the tour's two import commands) and a
//!   `JWT_SECRET`.
//! - A block tagged `sh no-run` is shown and not run (a long-running or recursive command,
//!   or one that needs Docker or a PostgreSQL server). Give the reason on the tag line
//!   (`sh no-run: needs Docker`); [`NO_RUN`] holds the expected count per file.
//! - Rewritten before running: `http://127.0.0.1:8080` becomes the test server's address and
//!   `cargo run --release --` / `cargo run -q --` / `target/release/` the built binaries;
//!   `community-assets`, `generate-assets` and `generate-activities` on the `PATH` are the
//!   built binaries. `curl`,
//!   `jq` and `openssl` must be installed.
//! - After every block the test waits until the server's snapshot has caught up with the
//!   database (writes made by the command line show within the refresh interval).

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The documents whose examples run, relative to the checkout.
fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    docs.insert(0, root.join("README.md"));
    docs
}

/// Blocks shown but not run, per document: keep this short, and each justified on its tag line.
const NO_RUN: &[(&str, usize)] = &[
    ("README.md", 1),
    ("docs/architecture.md", 1),
    ("docs/data-and-imports.md", 1),
    ("docs/operations.md", 2),
    ("docs/performance.md", 1),
];

/// The token secret of the servers the test starts for docs/ (README.md's tour makes its own).
const SECRET: &str = "docs-test-secret-of-at-least-32-bytes";

/// The tour's commands that load the shipped sample, run before each file of docs/.
const LOAD_SAMPLE: &str = "community-assets import assets sample/liverpool_assets.csv
community-assets import areas --imd sample/iod2019_liverpool_file1_imd.csv.gz \\
  --domains sample/iod2019_liverpool_file2_domains.csv.gz \\
  --population sample/iod2019_liverpool_file6_population.csv.gz \\
  --points sample/lsoa2011_pwc_liverpool.csv.gz";

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Run,
    Server,
    NoRun(String),
}

#[derive(Debug, Clone)]
struct Block {
    line: usize,
    kind: Kind,
    code: String,
    expected: Option<String>,
}

/// The shell blocks of a Markdown text, each with the `text` block that follows it.
fn shell_blocks(markdown: &str) -> Result<Vec<Block>, String> {
    let mut blocks: Vec<Block> = Vec::new();
    let lines: Vec<&str> = markdown.lines().collect();
    let mut i = 0;
    // The index in `blocks` of the last shell block, while only blank lines follow it.
    let mut awaiting: Option<usize> = None;
    while i < lines.len() {
        let line = lines[i];
        let Some(info) = line.strip_prefix("```") else {
            if !line.trim().is_empty() {
                awaiting = None;
            }
            i += 1;
            continue;
        };
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && !lines[end].starts_with("```") {
            end += 1;
        }
        if end == lines.len() {
            return Err(format!("line {start}: unclosed code block"));
        }
        let body = lines[start..end].join("\n") + "\n";
        let info = info.trim();
        let (lang, rest) = info.split_once(char::is_whitespace).unwrap_or((info, ""));
        let rest = rest.trim();
        match lang {
            "sh" => {
                let kind = if rest.is_empty() {
                    Kind::Run
                } else if rest == "server" {
                    Kind::Server
                } else if let Some(why) = rest.strip_prefix("no-run") {
                    let why = why.trim_start_matches(':').trim();
                    if why.is_empty() {
                        return Err(format!("line {start}: `sh no-run` needs a reason"));
                    }
                    Kind::NoRun(why.to_string())
                } else {
                    return Err(format!("line {start}: unknown shell block tag {info:?}"));
                };
                blocks.push(Block {
                    line: start,
                    kind,
                    code: body,
                    expected: None,
                });
                awaiting = Some(blocks.len() - 1);
            }
            "bash" | "shell" | "console" | "zsh" | "" => {
                return Err(format!(
                    "line {start}: a code block tagged {lang:?}: tag shell examples `sh` (run \
                     and checked) or `sh no-run: why`, and other blocks with their language"
                ));
            }
            "text" => {
                if let Some(b) = awaiting.take() {
                    blocks[b].expected = Some(body);
                }
            }
            _ => awaiting = None,
        }
        i = end + 1;
    }
    Ok(blocks)
}

/// Checks that each expected line occurs in `actual`, in order (`...` matches anything).
fn check_output(expected: &str, actual: &str) -> Result<(), String> {
    let mut pos = 0;
    for want in expected.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if want == "..." {
            continue;
        }
        let mut at = pos;
        let mut first = None;
        for part in want.split("...").filter(|p| !p.is_empty()) {
            match actual[at..].find(part) {
                // Pieces of one line must stay on one line of the output.
                Some(k) if first.is_none() || !actual[at..at + k].contains('\n') => {
                    first.get_or_insert(at + k);
                    at += k + part.len();
                }
                _ => return Err(format!("expected {want:?} after byte {pos}")),
            }
        }
        pos = at;
    }
    Ok(())
}

/// A temporary copy of the checkout: links to everything but `data/` and `target/`, a fresh
/// `data/`, `../shared` linked to the real shared data, and a `bin/` with `community-assets`.
struct Sandbox {
    root: PathBuf,
    checkout: PathBuf,
    bin: PathBuf,
    state: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Self {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root =
            std::env::temp_dir().join(format!("ca-docs-{name}-{}", uuid::Uuid::new_v4().simple()));
        let checkout = root.join("checkout");
        let bin = root.join("bin");
        std::fs::create_dir_all(&checkout).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        for entry in std::fs::read_dir(manifest).unwrap() {
            let entry = entry.unwrap();
            let file = entry.file_name();
            if ["data", "target", ".git"].iter().any(|x| file == *x) {
                continue;
            }
            std::os::unix::fs::symlink(entry.path(), checkout.join(&file)).unwrap();
        }
        let shared = manifest.join("../shared");
        assert!(
            shared.join("data").exists(),
            "the examples read the real data in ../shared/data"
        );
        std::os::unix::fs::symlink(shared.canonicalize().unwrap(), root.join("shared")).unwrap();
        for (name, exe) in [
            ("community-assets", env!("CARGO_BIN_EXE_community-assets")),
            ("generate-assets", env!("CARGO_BIN_EXE_generate-assets")),
            (
                "generate-activities",
                env!("CARGO_BIN_EXE_generate-activities"),
            ),
        ] {
            std::os::unix::fs::symlink(exe, bin.join(name)).unwrap();
        }
        // Every curl of the examples gives up after 30 s rather than hang the test.
        std::fs::write(root.join(".curlrc"), "max-time = 30\n").unwrap();
        let state = root.join("state.sh");
        std::fs::write(&state, "").unwrap();
        Sandbox {
            root,
            checkout,
            bin,
            state,
        }
    }

    fn command(&self, script: &str) -> Command {
        let mut c = Command::new("bash");
        // Its own process group, so that stopping it stops whatever it started.
        c.process_group(0)
            .args(["-euo", "pipefail", "-c", script])
            .current_dir(&self.checkout)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("CURL_HOME", &self.root)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .env_remove("DATABASE_URL")
            .env_remove("JWT_SECRET")
            .env_remove("COMMUNITY_ASSETS_PASSWORD");
        c
    }

    fn database(&self) -> PathBuf {
        self.checkout.join("data/community-assets.sqlite3")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The service, started by a `sh server` block (or by the test for docs/).
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    fn start(sandbox: &Sandbox, command_line: &str, env: &[(&str, &str)]) -> Result<Self, String> {
        let script = rewrite(command_line.trim(), None);
        let mut child = sandbox
            .command(&script)
            .env("BIND_ADDR", "127.0.0.1:0")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {command_line:?}: {e}"))?;
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut log = String::new();
        let base_url = loop {
            let Some(Ok(line)) = lines.next() else {
                kill_group(&mut child);
                return Err(format!("{command_line:?} exited before listening:\n{log}"));
            };
            log.push_str(&line);
            log.push('\n');
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split(';').next().unwrap().trim().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Ok(Server { child, base_url })
    }

    /// The data version of the server's snapshot.
    fn snapshot_version(&self) -> Option<i64> {
        let body = ureq::get(&format!("{}/metrics", self.base_url))
            .call()
            .ok()?
            .into_string()
            .ok()?;
        body.lines()
            .find_map(|l| l.strip_prefix("snapshot_data_version "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|v| v as i64)
    }

    /// Waits until the snapshot has caught up with the database's data version.
    fn catch_up(&self, sandbox: &Sandbox) -> Result<(), String> {
        let db = sandbox.database();
        if !db.exists() {
            return Ok(());
        }
        let want = database_version(&db);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let have = self.snapshot_version();
            if have == Some(want) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the server's snapshot is at data version {have:?}, the database at {want}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

/// Stops a child started by [`Sandbox::command`] and everything it started (its process group).
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

fn database_version(db: &Path) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        version: i64,
    }
    let mut conn = diesel::SqliteConnection::establish(db.to_str().unwrap()).unwrap();
    diesel::sql_query("SELECT version FROM data_version WHERE id = 1")
        .load::<V>(&mut conn)
        .unwrap()[0]
        .version
}

/// The example as the test runs it.
fn rewrite(code: &str, base_url: Option<&str>) -> String {
    let mut code = code
        .replace("cargo run --release --", "community-assets")
        .replace("cargo run -q --", "community-assets")
        .replace("cargo run --release", "community-assets")
        .replace("target/release/", "");
    if let Some(url) = base_url {
        code = code.replace("http://127.0.0.1:8080", url);
    }
    code
}

/// Runs one shell block; its stdout, or why it failed.
fn run_block(sandbox: &Sandbox, code: &str, server: Option<&Server>) -> Result<String, String> {
    let script = format!(
        "set -a\nsource {state}\n{code}\nexport -p > {state}\n",
        state = sandbox.state.display(),
        code = rewrite(code, server.map(|s| s.base_url.as_str())),
    );
    let mut child = sandbox
        .command(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    // Read both pipes on threads so a chatty command never blocks.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).map(|_| s)
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            kill_group(&mut child);
            return Err("timed out after 120 s".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = out.join().unwrap().unwrap_or_default();
    let err = err.join().unwrap().unwrap_or_default();
    if status.success() {
        Ok(out)
    } else {
        Err(format!(
            "exited with {status}\n--- stdout\n{out}--- stderr\n{err}"
        ))
    }
}

/// Runs every block of one document; a description of each failure.
fn run_document(path: &Path) -> Vec<String> {
    let name = path
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .display()
        .to_string();
    let text = std::fs::read_to_string(path).unwrap();
    let blocks = match shell_blocks(&text) {
        Ok(b) => b,
        Err(e) => return vec![format!("{name}: {e}")],
    };
    let sandbox = Sandbox::new(name.trim_end_matches(".md").replace('/', "-").as_str());
    let mut failures = Vec::new();
    let mut server = None;
    if name != "README.md" {
        if let Err(e) = run_block(&sandbox, LOAD_SAMPLE, None) {
            return vec![format!("{name}: loading the sample: {e}")];
        }
        match Server::start(&sandbox, "community-assets", &[("JWT_SECRET", SECRET)]) {
            Ok(s) => server = Some(s),
            Err(e) => return vec![format!("{name}: {e}")],
        }
    }
    let mut ran = 0;
    for block in &blocks {
        let at = format!("{name} line {}", block.line);
        match &block.kind {
            Kind::NoRun(_) => continue,
            Kind::Server => {
                drop(server.take());
                match Server::start(&sandbox, &block.code, &[]) {
                    Ok(s) => server = Some(s),
                    Err(e) => {
                        failures.push(format!("{at}: {e}"));
                        break;
                    }
                }
            }
            Kind::Run => {
                let Some(expected) = &block.expected else {
                    failures.push(format!(
                        "{at}: a `sh` block needs a `text` block after it with what it prints"
                    ));
                    continue;
                };
                if expected.trim().is_empty() || expected.trim() == "..." {
                    failures.push(format!("{at}: the expected output checks nothing"));
                    continue;
                }
                match run_block(&sandbox, &block.code, server.as_ref()) {
                    Ok(out) => {
                        if let Err(e) = check_output(expected, &out) {
                            failures.push(format!(
                                "{at}: {e}\n--- block\n{}--- expected\n{expected}--- stdout\n{out}",
                                block.code
                            ));
                        }
                    }
                    Err(e) => failures.push(format!("{at}:\n--- block\n{}{e}", block.code)),
                }
            }
        }
        ran += 1;
        if let Some(s) = &server {
            if let Err(e) = s.catch_up(&sandbox) {
                failures.push(format!("{at}: {e}"));
            }
        }
    }
    eprintln!("{name}: {ran} block(s) run, {} failed", failures.len());
    failures
}

#[test]
fn every_shell_example_in_the_docs_runs_and_prints_what_it_says() {
    for (tool, version) in [
        ("curl", "--version"),
        ("jq", "--version"),
        ("openssl", "version"),
    ] {
        assert!(
            Command::new(tool)
                .arg(version)
                .output()
                .is_ok_and(|o| o.status.success()),
            "the documentation's examples need {tool} (`.ci/run` installs jq)"
        );
    }
    let mut failures = Vec::new();
    for doc in documents() {
        failures.extend(run_document(&doc));
    }
    assert!(
        failures.is_empty(),
        "{} example(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_blocks_not_run_are_few_and_say_why() {
    let mut counts = Vec::new();
    for doc in documents() {
        let name = doc
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .display()
            .to_string();
        let blocks = shell_blocks(&std::fs::read_to_string(&doc).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            blocks.iter().any(|b| b.kind == Kind::Run) || name.ends_with("architecture.md"),
            "{name} has no example that runs"
        );
        let no_run: Vec<&Block> = blocks
            .iter()
            .filter(|b| matches!(b.kind, Kind::NoRun(_)))
            .collect();
        for b in &no_run {
            eprintln!("{name} line {}: not run: {:?}", b.line, b.kind);
        }
        if !no_run.is_empty() {
            counts.push((name, no_run.len()));
        }
    }
    let expected: Vec<(String, usize)> = NO_RUN.iter().map(|(n, c)| (n.to_string(), *c)).collect();
    assert_eq!(
        counts, expected,
        "the blocks marked `sh no-run` changed: update NO_RUN (and keep the list short)"
    );
}

#[test]
fn expected_output_matching() {
    assert!(check_output("3\n\"Toxteth\"\n", "3\n\"Toxteth\"\n").is_ok());
    assert!(check_output("\"Toxteth\"\n3\n", "3\n\"Toxteth\"\n").is_err());
    assert!(check_output("{\"key\":\"cak_...\",\n...\n", "{\"key\":\"cak_abc\",\n").is_ok());
    assert!(check_output("a...b", "a\nb").is_err());
    let blocks =
        shell_blocks("x\n```sh\necho 1\n```\n\n```text\n1\n```\n```sh no-run: why\nz\n```\n")
            .unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0].expected.as_deref(), Some("1\n"));
    assert_eq!(blocks[1].kind, Kind::NoRun("why".into()));
    assert!(shell_blocks("```sh no-run\nx\n```\n").is_err());
    assert!(shell_blocks("```bash\nx\n```\n").is_err());
}
