//! Adds deterministic synthetic activities at the published assets of a database, in one
//! transaction, for benchmarks (`bench/activities.sh`).
//!
//! `DATABASE_URL=... generate-activities [COUNT] [SEED] [TODAY]`: COUNT 100000, SEED 2026,
//! TODAY (the date schedules are placed around, YYYY-MM-DD) the current UK date.

use std::process::ExitCode;

use community_assets::store::Store;
use community_assets::synth::seed_activities;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2026);
    let today = args
        .get(2)
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .unwrap_or_else(|| community_assets::domain::hours::london_time(chrono::Utc::now()).date());
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("error: set DATABASE_URL");
        return ExitCode::FAILURE;
    };
    let added = Store::open(&url).and_then(|store| seed_activities(&store, count, seed, today));
    match added {
        Ok(n) => {
            eprintln!("{n} activities added");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
