//! Configuration, read once: every flag and environment variable the service knows is
//! parsed and validated here at start-up into one [`Config`]; nothing else reads the
//! environment. A malformed value stops the start with a message naming the variable.
//! Tests build a `Config` in code ([`Config::new`]) instead of setting variables.

use std::net::IpAddr;
use std::time::Duration;

/// Where the database is: `DATABASE_URL` or `--database-url`.
#[derive(clap::Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// `postgres://…` or `postgresql://…` for PostgreSQL; anything else is a SQLite file path.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "./data/community-assets.sqlite3",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,
}

/// The server's own flags (each also an environment variable).
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "WORKERS")]
    pub workers: Option<usize>,
    /// How often to check the database for writes by other processes, in milliseconds.
    /// Another instance's write is visible here within this interval plus one rebuild.
    #[arg(long, env = "REFRESH_INTERVAL_MS", default_value_t = 1000)]
    pub refresh_interval_ms: u64,
}

/// Everything a server instance is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    /// HTTP worker threads; `None`: one per core.
    pub workers: Option<usize>,
    /// How often the database's data version is polled (at least 50 ms).
    pub refresh_interval: Duration,
    pub timeouts: Timeouts,
    pub limits: LimitSettings,
    pub cors: CorsPolicy,
    /// How access tokens are signed, or why the admin API is disabled (the public API runs
    /// either way; the admin API answers 503 with the reason).
    pub tokens: Result<TokenSettings, String>,
    pub log_format: LogFormat,
    pub work: WorkSettings,
    pub matching: MatchThresholds,
    /// `IMPORT_BATCH_ROWS`: rows an asset import handles at a time (0: the default).
    pub import_batch_rows: usize,
}

impl Config {
    /// Defaults for a database, with no token keys (tests and embedding start here).
    pub fn new(database_url: impl Into<String>) -> Self {
        Config {
            database_url: database_url.into(),
            bind: "127.0.0.1:8080".into(),
            workers: None,
            refresh_interval: Duration::from_millis(1000),
            timeouts: Timeouts::default(),
            limits: LimitSettings::default(),
            cors: CorsPolicy::Any,
            tokens: Err(disabled(
                "set JWT_SECRET (or JWT_SECRET_FILE) to a secret of at least 32 bytes",
            )),
            log_format: LogFormat::Text,
            work: WorkSettings::default(),
            matching: MatchThresholds::default(),
            import_batch_rows: 0,
        }
    }

    /// The flags, and the environment for the rest.
    pub fn from_env(db: &DatabaseArgs, serve: &ServeArgs) -> Result<Self, String> {
        Ok(Config {
            bind: serve.bind.clone(),
            workers: serve.workers,
            refresh_interval: Duration::from_millis(serve.refresh_interval_ms.max(50)),
            timeouts: Timeouts::from_env()?,
            limits: LimitSettings::from_env()?,
            cors: CorsPolicy::from_env(),
            tokens: TokenSettings::from_env(),
            log_format: LogFormat::from_env()?,
            work: WorkSettings::from_env()?,
            matching: MatchThresholds::from_env()?,
            import_batch_rows: import_batch_rows()?,
            ..Config::new(db.database_url.clone())
        })
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `LOG_FORMAT`: `text` (the default) or `json` (one object a line, for log collectors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// Read before anything else is, so that start-up errors are logged in the chosen form.
    pub fn from_env() -> Result<Self, String> {
        match var("LOG_FORMAT").as_deref() {
            None | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("LOG_FORMAT must be text or json, not {other:?}")),
        }
    }
}

/// Limits on what a client may send, and for how long (`REQUEST_TIMEOUT_SECONDS`).
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// From connection to the end of the request's headers (slow-header clients).
    pub headers: Duration,
    /// From the headers to the response: reading the body and handling it.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            headers: Duration::from_secs(5),
            request: Duration::from_secs(60),
        }
    }
}

impl Timeouts {
    fn from_env() -> Result<Self, String> {
        let mut t = Timeouts::default();
        if let Some(v) = var("REQUEST_TIMEOUT_SECONDS") {
            let secs: u64 = v.trim().parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                format!(
                    "REQUEST_TIMEOUT_SECONDS must be a whole number of seconds above 0, not {v:?}"
                )
            })?;
            t.request = Duration::from_secs(secs);
            t.headers = t.headers.min(t.request);
        }
        Ok(t)
    }
}

/// How much of a kind of costly work may run and wait at once (see [`crate::budget`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetSettings {
    /// Run at once, each on its own blocking thread.
    pub running: usize,
    /// Wait for a slot at most; more are refused at once.
    pub queued: usize,
    /// Running or waiting for one client at most (0: no per-client bound).
    pub per_client: usize,
}

/// The work budgets and the report cache's size.
#[derive(Clone, Copy, Debug)]
pub struct WorkSettings {
    /// Reports not yet cached, what-if, imports, exports: `WORK_THREADS` at once (default:
    /// one per core, at least 2), `WORK_QUEUE` waiting (default 16), `WORK_PER_CLIENT` per
    /// client (default 2).
    pub costly: BudgetSettings,
    /// Password checks at login (argon2id, 19 MiB each): `LOGIN_HASHING` at once (default
    /// 2), with a queue of 16.
    pub hashing: BudgetSettings,
    /// `REPORT_CACHE_MB`: rendered report bodies kept at most (default 64 MiB; least
    /// recently used out).
    pub report_cache_bytes: usize,
}

impl Default for WorkSettings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        WorkSettings {
            costly: BudgetSettings {
                running: cores.max(2),
                queued: 16,
                per_client: 2,
            },
            hashing: BudgetSettings {
                running: 2,
                queued: 16,
                per_client: 0,
            },
            report_cache_bytes: 64 << 20,
        }
    }
}

impl WorkSettings {
    fn from_env() -> Result<Self, String> {
        let mut w = WorkSettings::default();
        let number = |name: &str, default: usize, min: usize| match var(name) {
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n >= min)
                .ok_or_else(|| {
                    format!("{name} must be a whole number of at least {min}, not {v:?}")
                }),
            None => Ok(default),
        };
        w.costly.running = number("WORK_THREADS", w.costly.running, 1)?;
        w.costly.queued = number("WORK_QUEUE", w.costly.queued, 0)?;
        w.costly.per_client = number("WORK_PER_CLIENT", w.costly.per_client, 0)?;
        w.hashing.running = number("LOGIN_HASHING", w.hashing.running, 1)?;
        w.report_cache_bytes = number("REPORT_CACHE_MB", w.report_cache_bytes >> 20, 0)? << 20;
        Ok(w)
    }
}

/// The import matcher's thresholds, where set (`None`: the matcher's documented default):
/// `MATCH_LINK_AT` and `MATCH_REVIEW_AT` (match probabilities, 0 to 1), `MATCH_RADIUS_M`
/// (how far apart a row and an asset may be and still be compared) and
/// `MATCH_POSTCODE_RADIUS_M` (the same, when their postcodes are equal).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MatchThresholds {
    pub link_at: Option<f64>,
    pub review_at: Option<f64>,
    pub radius_m: Option<f64>,
    pub postcode_radius_m: Option<f64>,
}

impl MatchThresholds {
    /// Read by the server and by command-line imports alike.
    pub fn from_env() -> Result<Self, String> {
        let number = |name: &str, max: f64| -> Result<Option<f64>, String> {
            var(name)
                .map(|v| {
                    v.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| (0.0..=max).contains(x))
                        .ok_or_else(|| {
                            format!("{name} must be a number from 0 to {max}, not {v:?}")
                        })
                })
                .transpose()
        };
        Ok(MatchThresholds {
            link_at: number("MATCH_LINK_AT", 1.0)?,
            review_at: number("MATCH_REVIEW_AT", 1.0)?,
            radius_m: number("MATCH_RADIUS_M", 5000.0)?,
            postcode_radius_m: number("MATCH_POSTCODE_RADIUS_M", 5000.0)?,
        })
    }
}

/// `IMPORT_BATCH_ROWS`: rows an asset import reads, matches and writes at a time (1 to
/// 1,000,000; unset or 0: the default). Read by the server and by command-line imports;
/// tests set it small to import a small file in many batches.
pub fn import_batch_rows() -> Result<usize, String> {
    var("IMPORT_BATCH_ROWS")
        .map(|v| {
            v.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= 1_000_000)
                .ok_or_else(|| {
                    format!("IMPORT_BATCH_ROWS must be a number from 1 to 1000000, not {v:?}")
                })
        })
        .transpose()
        .map(Option::unwrap_or_default)
}

/// Requests a minute from one address without a key, by default.
pub const DEFAULT_PER_ADDRESS: u32 = 600;
/// Requests a minute with one API key, by default (a key's own limit overrides it).
pub const DEFAULT_PER_KEY: u32 = 6000;

/// Rate limits (0 switches one off) and the proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug)]
pub struct LimitSettings {
    /// `RATE_LIMIT_PER_MINUTE`: requests a minute per client address.
    pub per_address: u32,
    /// `RATE_LIMIT_KEY_PER_MINUTE`: requests a minute per API key.
    pub per_key: u32,
    /// `TRUSTED_PROXIES`: addresses or CIDR blocks, comma-separated.
    pub trusted_proxies: Vec<(IpAddr, u8)>,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            per_address: DEFAULT_PER_ADDRESS,
            per_key: DEFAULT_PER_KEY,
            trusted_proxies: Vec::new(),
        }
    }
}

impl LimitSettings {
    /// No limits, no trusted proxy (tests, benchmarks).
    pub fn off() -> Self {
        LimitSettings {
            per_address: 0,
            per_key: 0,
            trusted_proxies: Vec::new(),
        }
    }

    fn from_env() -> Result<Self, String> {
        let number = |name: &str, default: u32| match std::env::var(name) {
            Ok(v) => v.trim().parse::<u32>().map_err(|_| {
                format!(
                    "{name} must be a whole number of requests a minute (0 = no limit), not {v:?}"
                )
            }),
            Err(_) => Ok(default),
        };
        Ok(LimitSettings {
            per_address: number("RATE_LIMIT_PER_MINUTE", DEFAULT_PER_ADDRESS)?,
            per_key: number("RATE_LIMIT_KEY_PER_MINUTE", DEFAULT_PER_KEY)?,
            trusted_proxies: var("TRUSTED_PROXIES")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(parse_cidr)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// `10.0.0.0/8`, `::1/128` or a bare address.
pub fn parse_cidr(s: &str) -> Result<(IpAddr, u8), String> {
    let bad = || format!("TRUSTED_PROXIES: {s:?} is not an IP address or CIDR block");
    let (ip, bits) = match s.split_once('/') {
        Some((ip, bits)) => (ip, Some(bits.parse::<u8>().map_err(|_| bad())?)),
        None => (s, None),
    };
    let ip: IpAddr = ip.parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    if bits > max {
        return Err(bad());
    }
    Ok((ip, bits))
}

/// Which origins browser apps may read the public API from (`CORS_ALLOWED_ORIGINS`: `*`,
/// the default; a comma-separated list of origins; or `none`).
#[derive(Clone, Debug)]
pub enum CorsPolicy {
    Any,
    Origins(Vec<String>),
    Off,
}

impl CorsPolicy {
    fn from_env() -> Self {
        match std::env::var("CORS_ALLOWED_ORIGINS") {
            Err(_) => CorsPolicy::Any,
            Ok(v) if v.trim() == "*" => CorsPolicy::Any,
            Ok(v) if v.trim().is_empty() || v.trim() == "none" => CorsPolicy::Off,
            Ok(v) => CorsPolicy::Origins(
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_string())
                    .collect(),
            ),
        }
    }
}

/// How access tokens are signed: `JWT_ALGORITHM` HS256 (the default) with a shared secret
/// (`JWT_SECRET` or `JWT_SECRET_FILE`), or RS256 / EdDSA with PEM key files
/// (`JWT_PRIVATE_KEY_FILE`, `JWT_PUBLIC_KEY_FILE`). The previous key
/// (`JWT_PREVIOUS_SECRET[_FILE]` or `JWT_PREVIOUS_PUBLIC_KEY_FILE`) is still accepted
/// during a rotation. The keys themselves are checked when they are built
/// ([`crate::auth::token::TokenKeys::from_settings`]).
#[derive(Clone)]
pub struct TokenSettings {
    pub kid: String,
    pub previous_kid: String,
    pub keys: KeyMaterial,
    /// Lifetime of an access token: `JWT_TTL_SECONDS`, 60 to 86400 (default 3600).
    pub ttl_seconds: i64,
}

/// The bytes of the signing keys (never printed: see the `Debug` impl).
#[derive(Clone)]
pub enum KeyMaterial {
    Hs256 {
        secret: Vec<u8>,
        previous: Option<Vec<u8>>,
    },
    /// RS256 or EdDSA.
    Pem {
        eddsa: bool,
        private: Vec<u8>,
        public: Vec<u8>,
        previous_public: Option<Vec<u8>>,
    },
}

impl std::fmt::Debug for TokenSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let algorithm = match &self.keys {
            KeyMaterial::Hs256 { .. } => "HS256",
            KeyMaterial::Pem { eddsa: true, .. } => "EdDSA",
            KeyMaterial::Pem { .. } => "RS256",
        };
        f.debug_struct("TokenSettings")
            .field("algorithm", &algorithm)
            .field("kid", &self.kid)
            .field("ttl_seconds", &self.ttl_seconds)
            .finish_non_exhaustive()
    }
}

fn disabled(why: &str) -> String {
    format!("the admin API is disabled: {why}")
}

impl TokenSettings {
    /// HS256 with one secret, key id `k1`, tokens valid for an hour (tests).
    pub fn hs256(secret: &[u8]) -> Self {
        TokenSettings {
            kid: "k1".into(),
            previous_kid: "k0".into(),
            keys: KeyMaterial::Hs256 {
                secret: secret.to_vec(),
                previous: None,
            },
            ttl_seconds: 3600,
        }
    }

    /// `Err` says why tokens cannot be issued or checked.
    fn from_env() -> Result<Self, String> {
        let file = |name: &str| -> Result<Option<Vec<u8>>, String> {
            var(name)
                .map(|path| {
                    std::fs::read(&path).map_err(|e| format!("cannot read {name} {path}: {e}"))
                })
                .transpose()
        };
        // A secret from its variable, or from the file its `_FILE` variable names.
        let secret = |name: &str| -> Result<Option<Vec<u8>>, String> {
            match var(name) {
                Some(v) => Ok(Some(v.into_bytes())),
                None => Ok(file(&format!("{name}_FILE"))?.map(|mut b| {
                    b.truncate(b.trim_ascii_end().len());
                    b
                })),
            }
        };
        let keys = match var("JWT_ALGORITHM").as_deref().unwrap_or("HS256") {
            "HS256" => KeyMaterial::Hs256 {
                secret: secret("JWT_SECRET")?.ok_or_else(|| {
                    disabled("set JWT_SECRET (or JWT_SECRET_FILE) to a secret of at least 32 bytes")
                })?,
                previous: secret("JWT_PREVIOUS_SECRET")?,
            },
            name @ ("RS256" | "EdDSA") => {
                let (Some(private), Some(public)) =
                    (file("JWT_PRIVATE_KEY_FILE")?, file("JWT_PUBLIC_KEY_FILE")?)
                else {
                    return Err(disabled(&format!(
                        "{name} needs JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE"
                    )));
                };
                KeyMaterial::Pem {
                    eddsa: name == "EdDSA",
                    private,
                    public,
                    previous_public: file("JWT_PREVIOUS_PUBLIC_KEY_FILE")?,
                }
            }
            other => {
                return Err(disabled(&format!(
                    "JWT_ALGORITHM {other:?} is not HS256, RS256 or EdDSA"
                )))
            }
        };
        let ttl_seconds = match var("JWT_TTL_SECONDS") {
            None => 3600,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|s| (60..=86_400).contains(s))
                .ok_or_else(|| disabled("JWT_TTL_SECONDS must be 60 to 86400"))?,
        };
        Ok(TokenSettings {
            kid: var("JWT_KID").unwrap_or_else(|| "k1".into()),
            previous_kid: var("JWT_PREVIOUS_KID").unwrap_or_else(|| "k0".into()),
            keys,
            ttl_seconds,
        })
    }
}

/// The new account's password for `users add`: `COMMUNITY_ASSETS_PASSWORD`, when set.
pub fn password_from_env() -> Option<String> {
    var("COMMUNITY_ASSETS_PASSWORD")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks() {
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("::1").is_ok_and(|(_, b)| b == 128));
        assert!(parse_cidr("10.0.0.0/8").is_ok_and(|(_, b)| b == 8));
    }

    #[test]
    fn secrets_are_not_printed() {
        let s = format!(
            "{:?}",
            TokenSettings::hs256(b"very-secret-value-of-32-bytes-or-more")
        );
        assert!(!s.contains("very-secret"), "{s}");
    }
}
