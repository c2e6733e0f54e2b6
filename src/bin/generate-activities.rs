//! Adds deterministic synthetic activities at the published assets of a database, in one
//! transaction, for benchmarks (`bench/activities.sh`) and examples.
//!
//! `generate-activities [COUNT] [SEED] [TODAY]`: COUNT 100000, SEED 2026, TODAY (the date
//! the schedules are placed around, YYYY-MM-DD) the current UK date; the database as for
//! `community-assets` (`DATABASE_URL` or `--database-url`).

use clap::Parser;
use std::process::ExitCode;

use community_assets::config::DatabaseArgs;
use community_assets::store::Store;
use community_assets::synth::seed_activities;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    db: DatabaseArgs,
    #[arg(default_value_t = 100_000)]
    count: usize,
    #[arg(default_value_t = 2026)]
    seed: u64,
    /// YYYY-MM-DD; the current UK date when absent.
    today: Option<chrono::NaiveDate>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let today = args
        .today
        .unwrap_or_else(|| community_assets::domain::hours::london_time(chrono::Utc::now()).date());
    let added = Store::open(&args.db.database_url)
        .and_then(|store| seed_activities(&store, args.count, args.seed, today));
    match added {
        Ok(n) => {
            println!("{n} activities added");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
