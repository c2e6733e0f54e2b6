//! Writes deterministic synthetic assets as import CSV, placed where people live.
//!
//! `generate-assets [COUNT] [SEED] [DATA_DIR] > synthetic.csv`; DATA_DIR holds
//! `lsoa2011_centroids_england.csv.gz` and the IoD2019 File 6 (default `../shared/data`).

use std::path::PathBuf;
use std::process::ExitCode;

use community_assets::synth::{generate, read_populated_points, write_csv};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2019);
    let dir = PathBuf::from(args.get(2).map_or("../shared/data", String::as_str));
    let areas = match read_populated_points(
        &dir.join("lsoa2011_centroids_england.csv.gz"),
        &dir.join("File_6_-_IoD2019_Population_Denominators.csv.gz"),
    ) {
        Ok(a) if !a.is_empty() => a,
        Ok(_) => {
            eprintln!("error: no populated areas found in {}", dir.display());
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rows = generate(&areas, count, seed);
    match write_csv(std::io::stdout().lock(), &rows) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
