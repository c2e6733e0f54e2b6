//! Prometheus metrics: requests and their latency by route, method and status, imports,
//! and (rendered at scrape time) the snapshot's size and age. Text exposition format 0.0.4,
//! written by hand: a few counters do not need a metrics crate.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

use crate::index::Snapshot;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    /// Observations in each bucket (not cumulative), and above the last.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_ns: AtomicU64,
}

/// Route pattern (`/v1/assets/{id}`, so ids do not explode the label set) → (method,
/// status) → latencies.
type ByRoute = HashMap<String, HashMap<(&'static str, u16), Arc<Histogram>>>;

#[derive(Default)]
pub struct Metrics {
    requests: RwLock<ByRoute>,
    /// Imports through the API by outcome, and the rows they wrote.
    imports_ok: AtomicU64,
    imports_rejected: AtomicU64,
    imports_dry_run: AtomicU64,
    import_rows: AtomicU64,
    snapshot_rebuilds: AtomicU64,
    snapshot_refresh_failures: AtomicU64,
    /// Writes of this instance applied to its snapshot without reading them back.
    own_writes_applied: AtomicU64,
}

/// How an import through the API ended.
pub enum ImportOutcome {
    Applied { rows: u64 },
    DryRun,
    Rejected,
}

impl Metrics {
    /// Counts one request. `route` is the matched pattern, or `None` for no route.
    pub fn observe(&self, route: Option<&str>, method: &str, status: u16, seconds: f64) {
        let method = match method {
            "GET" => "GET",
            "HEAD" => "HEAD",
            "POST" => "POST",
            "PUT" => "PUT",
            "PATCH" => "PATCH",
            "DELETE" => "DELETE",
            "OPTIONS" => "OPTIONS",
            _ => "other",
        };
        let route = route.unwrap_or("unmatched");
        let found = self
            .requests
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(route)
            .and_then(|m| m.get(&(method, status)).cloned());
        let hist = found.unwrap_or_else(|| {
            let mut map = self.requests.write().unwrap_or_else(|e| e.into_inner());
            let by_status = map.entry(route.to_string()).or_default();
            by_status.entry((method, status)).or_default().clone()
        });
        let bucket = BUCKETS
            .iter()
            .position(|&b| seconds <= b)
            .unwrap_or(BUCKETS.len());
        hist.counts[bucket].fetch_add(1, Relaxed);
        hist.sum_ns.fetch_add((seconds * 1e9) as u64, Relaxed);
    }

    pub fn import(&self, outcome: ImportOutcome) {
        match outcome {
            ImportOutcome::Applied { rows } => {
                self.imports_ok.fetch_add(1, Relaxed);
                self.import_rows.fetch_add(rows, Relaxed);
            }
            ImportOutcome::DryRun => _ = self.imports_dry_run.fetch_add(1, Relaxed),
            ImportOutcome::Rejected => _ = self.imports_rejected.fetch_add(1, Relaxed),
        }
    }

    /// Counts a poll of the database: `Ok(true)` rebuilt the snapshot, `Err` failed.
    pub fn refreshed<E>(&self, outcome: &Result<bool, E>) {
        match outcome {
            Ok(true) => _ = self.snapshot_rebuilds.fetch_add(1, Relaxed),
            Ok(false) => {}
            Err(_) => _ = self.snapshot_refresh_failures.fetch_add(1, Relaxed),
        }
    }

    /// Counts a write of this instance applied to its snapshot as it is
    /// (`AppState::applied`).
    pub fn own_write_applied(&self) {
        self.own_writes_applied.fetch_add(1, Relaxed);
    }

    pub fn own_writes_applied(&self) -> u64 {
        self.own_writes_applied.load(Relaxed)
    }

    /// The exposition text, with the snapshot's gauges and the `others` given (name, type,
    /// help, value).
    pub fn render(&self, snap: &Snapshot, others: &[(&str, &str, &str, f64)]) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let help = |out: &mut String, name: &str, kind: &str, text: &str| {
            let _ = writeln!(out, "# HELP {name} {text}\n# TYPE {name} {kind}");
        };
        help(
            &mut out,
            "http_request_duration_seconds",
            "histogram",
            "Time from the request's arrival to its response, by route pattern, method and status.",
        );
        let map = self.requests.read().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<(&String, &(&str, u16), &Arc<Histogram>)> = map
            .iter()
            .flat_map(|(r, m)| m.iter().map(move |(k, h)| (r, k, h)))
            .collect();
        keys.sort_by_key(|&(r, k, _)| (r, *k));
        for (route, (method, status), hist) in keys {
            let labels = format!(
                "route=\"{}\",method=\"{method}\",status=\"{status}\"",
                route.replace('\\', "\\\\").replace('"', "\\\"")
            );
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += hist.counts[i].load(Relaxed);
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            cumulative += hist.counts[BUCKETS.len()].load(Relaxed);
            let sum = hist.sum_ns.load(Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {cumulative}\n\
                 http_request_duration_seconds_sum{{{labels}}} {sum}\n\
                 http_request_duration_seconds_count{{{labels}}} {cumulative}"
            );
        }
        drop(map);
        let mut counter = |name: &str, text: &str, lines: &[(&str, u64)]| {
            help(&mut out, name, "counter", text);
            for (labels, v) in lines {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        counter(
            "imports_total",
            "Asset imports through the API, by outcome.",
            &[
                ("{outcome=\"applied\"}", self.imports_ok.load(Relaxed)),
                ("{outcome=\"dry_run\"}", self.imports_dry_run.load(Relaxed)),
                (
                    "{outcome=\"rejected\"}",
                    self.imports_rejected.load(Relaxed),
                ),
            ],
        );
        counter(
            "import_rows_total",
            "Rows written by applied imports through the API.",
            &[("", self.import_rows.load(Relaxed))],
        );
        counter(
            "snapshot_rebuilds_total",
            "Snapshot rebuilds after a change in the database.",
            &[("", self.snapshot_rebuilds.load(Relaxed))],
        );
        counter(
            "snapshot_refresh_failures_total",
            "Polls of the database that failed (the last snapshot kept serving).",
            &[("", self.snapshot_refresh_failures.load(Relaxed))],
        );
        counter(
            "snapshot_own_writes_applied_total",
            "Writes of this instance applied to its snapshot without reading them back.",
            &[("", self.own_writes_applied.load(Relaxed))],
        );
        let age = (chrono::Utc::now() - snap.built_at).num_milliseconds() as f64 / 1000.0;
        let gauges: [(&str, &str, f64); 5] = [
            (
                "snapshot_assets",
                "Published assets in the snapshot.",
                snap.published_len() as f64,
            ),
            (
                "snapshot_areas",
                "Areas in the snapshot.",
                snap.areas.len() as f64,
            ),
            (
                "snapshot_data_version",
                "The database change sequence the snapshot was built from.",
                snap.version as f64,
            ),
            (
                "snapshot_age_seconds",
                "Seconds since the snapshot was built.",
                age,
            ),
            (
                "process_resident_memory_bytes",
                "Resident memory of this process.",
                resident_bytes(),
            ),
        ];
        let gauges = gauges.map(|(name, text, value)| (name, "gauge", text, value));
        for &(name, kind, text, value) in gauges.iter().chain(others) {
            help(&mut out, name, kind, text);
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

/// Resident set size from `/proc/self/statm` (0 where there is no `/proc`).
fn resident_bytes() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * 4096.0)
}
