//! Command line: run the service, import data, print the OpenAPI document.

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use community_assets::config::{self, Config, DatabaseArgs, LogFormat, MatchThresholds, ServeArgs};
use community_assets::curation::imports::{
    import_file, match_settings, with_source, ImportOptions, ImportReport,
};
use community_assets::error::ApiError;
use community_assets::import::areas::{import_areas_files, AreaFiles};
use community_assets::import::encoding::Encoding;
use community_assets::import::mapping::Mapping;
use community_assets::import::matching::Outcome;
use community_assets::import::{rejects_csv, Contacts, Format, ImportError};
use community_assets::state::AppState;
use community_assets::store::Store;

#[derive(Parser)]
#[command(
    name = "community-assets",
    version,
    about = "A directory of arts, heritage and culture near people"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(flatten)]
    db: DatabaseArgs,

    #[command(subcommand)]
    command: Option<Command>,

    /// With no subcommand, the service runs with these options.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (the default).
    Serve(ServeArgs),
    /// Import data files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Manage the accounts of admins and editors.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Describe the sources data come from (licence, attribution, priorities).
    #[command(subcommand)]
    Sources(SourcesCommand),
    /// The review queue: matches an import could not decide alone.
    #[command(subcommand)]
    Matches(MatchesCommand),
    /// Copy a SQLite database to FILE while the service runs: online and consistent (one
    /// transaction's view). For PostgreSQL use pg_dump (see the README).
    Backup {
        #[arg(long = "to")]
        to: PathBuf,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Add an account. The password (at least 12 characters) is read from the environment
    /// variable COMMUNITY_ASSETS_PASSWORD if set, else from the first line of standard input.
    Add {
        username: String,
        #[arg(long, value_parser = ["admin", "editor"])]
        role: String,
    },
    /// Disable an account; its tokens stop working at once. The last active admin cannot
    /// be disabled.
    Disable { username: String },
    /// Enable a disabled account (its old tokens stay revoked).
    Enable { username: String },
    /// Revoke every token of an account issued so far (it stays active).
    RevokeTokens { username: String },
    /// Set an account's password, read like `add`'s; its tokens stop working at once.
    SetPassword { username: String },
    /// Set an account's role; when it changes, its tokens stop working at once. The last
    /// active admin cannot be demoted.
    SetRole {
        username: String,
        #[arg(long, value_parser = ["admin", "editor"])]
        role: String,
    },
    /// List the accounts.
    List,
}

#[derive(Subcommand)]
enum SourcesCommand {
    /// List the sources with their licences and record counts (tab-separated).
    List,
    /// Describe a source (created if new; options not given are cleared, as with the
    /// API's PUT).
    Set {
        name: String,
        #[arg(long)]
        title: Option<String>,
        /// E.g. OGL-3.0, ODbL-1.0, CC-BY-4.0.
        #[arg(long)]
        licence: Option<String>,
        #[arg(long)]
        attribution: Option<String>,
        #[arg(long)]
        url: Option<String>,
        /// Higher wins a field over a lower one (-1000 to 1000).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        priority: i32,
        /// FIELD=PRIORITY, overriding --priority for one field (repeatable), e.g.
        /// opening_hours=90.
        #[arg(long = "field-priority", value_parser = parse_field_priority)]
        field_priorities: Vec<(String, i32)>,
    },
}

#[derive(Subcommand)]
enum MatchesCommand {
    /// List reviews (tab-separated: id, kind, source:source_id, location, name, best
    /// candidate, score, reasons).
    List {
        #[arg(long, default_value = "pending", value_parser = ["pending", "linked", "created", "skipped", "archived", "kept"])]
        status: String,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Decide a review: link (with --asset), create, skip (a match); archive, keep (a
    /// closure).
    Decide {
        id: String,
        #[arg(value_parser = ["link", "create", "skip", "archive", "keep"])]
        action: String,
        /// The asset to link the row to.
        #[arg(long)]
        asset: Option<String>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import assets from CSV, GeoJSON or OpenStreetMap (Overpass JSON), optionally .gz:
    /// upsert by (source, source_id), all or nothing; likely duplicates of published
    /// assets (or of earlier rows) are held back and listed. The same pipeline as
    /// `POST /v1/admin/imports`.
    Assets {
        file: PathBuf,
        /// `osm` for Overpass JSON; CSV and GeoJSON are told apart by their first character.
        #[arg(long, value_parser = ["csv", "geojson", "osm"])]
        format: Option<String>,
        /// Print the report as JSON (the body `POST /v1/admin/imports` answers) instead
        /// of text.
        #[arg(long)]
        json: bool,
        /// Validate and count, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Reject rows with an invalid website, e-mail or phone instead of dropping the
        /// value with a warning.
        #[arg(long)]
        strict: bool,
        /// The file is the complete current list of its source(s): records it no longer
        /// names are unlinked; an asset left with no source (and not edited by a person
        /// since) is archived, one still listed by another source goes to review.
        #[arg(long)]
        snapshot: bool,
        /// The date of the list (RFC 3339, e.g. 2023-04-01T00:00:00Z; default now): a
        /// closure in it does not archive an asset a person verified after it.
        #[arg(long, value_parser = parse_time)]
        as_of: Option<DateTime<Utc>>,
        /// Supplies or overrides every row's source (as `--set source=NAME`).
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Import the valid rows and report the others (default: all or nothing).
        #[arg(long)]
        skip_invalid: bool,
        /// Write the rejected rows (line,field,value,reason) to this CSV file.
        #[arg(long, value_name = "FILE", requires = "skip_invalid")]
        rejects: Option<PathBuf>,
        #[command(flatten)]
        mapping: MappingArgs,
    },
    /// Import activities from CSV or JSON, optionally .gz: upsert by (source, source_id),
    /// all or nothing, each row's venue named by `asset_id` or by the venue's source record
    /// (`asset_source` + `asset_source_id`). The same pipeline as
    /// `POST /v1/admin/imports/activities` (see docs/data-and-imports.md).
    Activities {
        file: PathBuf,
        /// CSV and JSON are told apart by their first character unless given.
        #[arg(long, value_parser = ["csv", "json"])]
        format: Option<String>,
        /// Print the report as JSON (the body the API answers) instead of text.
        #[arg(long)]
        json: bool,
        /// Validate and count, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Supplies or overrides every row's source.
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Import the valid rows and report the others (default: all or nothing).
        #[arg(long)]
        skip_invalid: bool,
        /// Write the rejected rows (line,field,value,reason) to this CSV file.
        #[arg(long, value_name = "FILE", requires = "skip_invalid")]
        rejects: Option<PathBuf>,
        /// `auto` (UTF-8, else Windows-1252), `utf-8` or `windows-1252` (CSV).
        #[arg(long, default_value = "auto", value_parser = Encoding::NAMES)]
        encoding: String,
    },
    /// Import venues from Open Referral UK (HSDS-UK 3.0) or HSDS 3.0 services: saved
    /// `/services?full=true` pages, one service, or a directory of them (.json, .json.gz).
    /// Each location with latitude and longitude is a venue keyed (--source, location id),
    /// through the same pipeline as `import assets` (matching, review, all or nothing), and
    /// each service at a venue an activity there; see docs/data-and-imports.md for the
    /// field mapping and the category rule.
    Oruk {
        /// A page or service (.json, optionally gzipped), or a directory of them (read in
        /// name order as one feed).
        path: PathBuf,
        /// The source of the feed's venues, e.g. `camden-oruk`: a re-import with the same
        /// name updates them instead of adding them again.
        #[arg(long, value_name = "NAME")]
        source: String,
        /// Print the report as JSON (the body `POST /v1/admin/imports` answers).
        #[arg(long)]
        json: bool,
        /// Validate and count, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Reject rows with an invalid website, e-mail or phone instead of dropping the
        /// value with a warning.
        #[arg(long)]
        strict: bool,
        /// The feed is the source's complete current list (as `import assets --snapshot`).
        #[arg(long)]
        snapshot: bool,
        /// The date of the list (RFC 3339; default now).
        #[arg(long, value_parser = parse_time)]
        as_of: Option<DateTime<Utc>>,
        /// Import the valid locations and report the others (default: all or nothing).
        #[arg(long)]
        skip_invalid: bool,
        /// Write the rejected rows (line,field,value,reason) to this CSV file.
        #[arg(long, value_name = "FILE", requires = "skip_invalid")]
        rejects: Option<PathBuf>,
    },
    /// Import postcode positions: OS Code-Point Open as published (the headerless
    /// per-area CSVs of Data/CSV/, or that directory), or a CSV with a postcode column and
    /// lat/lon or easting/northing columns; optionally .gz. Adds and updates, in one
    /// transaction; rows without a position (quality 90) are skipped and counted.
    Postcodes {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Validate and count, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Import statistical areas with their deprivation (the English Indices of
    /// Deprivation files as published, optionally .gz), replacing the active vintage
    /// atomically. Needs --points or --boundaries (or both).
    Areas {
        #[command(flatten)]
        files: AreaFiles,
        /// Validate and count, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// A raw file's own columns (see docs/data-and-imports.md).
#[derive(clap::Args)]
struct MappingArgs {
    /// Fill an asset field from a column of the file (repeatable).
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    map: Vec<String>,
    /// Set an asset field to a value for every row (repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Replace a raw value (matched case-insensitively; `*` for any other non-empty value)
    /// of a field (repeatable).
    #[arg(long = "value", value_name = "FIELD:RAW=VALUE")]
    value: Vec<String>,
    /// The column that identifies a row (its source_id); else the row's line number.
    #[arg(long, value_name = "COLUMN")]
    id_column: Option<String>,
    /// The same as a TOML file (the flags win over it).
    #[arg(long = "mapping", value_name = "FILE")]
    mapping_file: Option<PathBuf>,
    /// `auto` (UTF-8, else Windows-1252), `utf-8` or `windows-1252`.
    #[arg(long, default_value = "auto", value_parser = Encoding::NAMES)]
    encoding: String,
}

impl MappingArgs {
    /// The mapping, if any was given.
    fn mapping(&self) -> Result<Option<Mapping>, String> {
        let mut m = match &self.mapping_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                Mapping::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => Mapping::default(),
        };
        m.add_flags(&self.map, &self.set, &self.value, self.id_column.as_deref())?;
        Ok((m != Mapping::default() || self.mapping_file.is_some()).then_some(m))
    }
}

/// Allocations of 4 MiB or more (a password check's 19 MiB of argon2 memory, large
/// bodies) are mapped from the system and given back to it when freed. Without this glibc
/// raises that threshold after the first such free and keeps later ones in its per-thread
/// arenas: a burst of logins, each checked on whichever blocking thread was free, left
/// about 300 MiB resident for good (74 MiB at the peak and 36 MiB after, with it).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_large_allocations_back() {
    // SAFETY: mallopt only sets a malloc parameter; it is called before any other thread
    // exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_large_allocations_back() {}

fn main() -> ExitCode {
    give_large_allocations_back();
    let log_format = match LogFormat::from_env() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,actix_server=warn".into()),
        )
        .with_writer(std::io::stderr);
    if log_format == LogFormat::Json {
        logs.json().init();
    } else {
        logs.init();
    }
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(&cli.db, &cli.serve),
        Some(Command::Serve(args)) => serve(&cli.db, &args),
        Some(Command::Users(cmd)) => users(&cli.db.database_url, cmd),
        Some(Command::Sources(cmd)) => sources(&cli.db.database_url, cmd),
        Some(Command::Matches(cmd)) => matches(&cli.db.database_url, cmd),
        Some(Command::Backup { to }) => backup(&cli.db.database_url, &to),
        Some(Command::Openapi) => {
            print!("{}", community_assets::api::openapi_json());
            Ok(())
        }
        Some(Command::Import(ImportCommand::Assets {
            file,
            format,
            json,
            dry_run,
            strict,
            snapshot,
            as_of,
            source,
            skip_invalid,
            rejects,
            mapping,
        })) => (|| {
            let matching = match_settings(&MatchThresholds::from_env()?)?;
            let options = ImportOptions {
                format: match format.as_deref() {
                    Some("osm") => Some(Format::Osm),
                    Some("geojson") => Some(Format::GeoJson),
                    Some(_) => Some(Format::Csv),
                    None => None,
                },
                contacts: if strict {
                    Contacts::Strict
                } else {
                    Contacts::Salvage
                },
                dry_run,
                snapshot,
                as_of,
                matching,
                skip_invalid,
                mapping: with_source(mapping.mapping()?, source),
                encoding: Encoding::parse(&mapping.encoding).unwrap_or_default(),
                batch_rows: community_assets::config::import_batch_rows()?,
            };
            import_assets(
                &cli.db.database_url,
                &file,
                &options,
                json,
                rejects.as_deref(),
            )
        })(),
        Some(Command::Import(ImportCommand::Activities {
            file,
            format,
            json,
            dry_run,
            source,
            skip_invalid,
            rejects,
            encoding,
        })) => {
            use community_assets::curation::activities::{import_file, ActivityImportOptions};
            use community_assets::import::activities::ActivityFormat;
            let options = ActivityImportOptions {
                format: format.map(|f| {
                    if f == "json" {
                        ActivityFormat::Json
                    } else {
                        ActivityFormat::Csv
                    }
                }),
                encoding: Encoding::parse(&encoding).unwrap_or_default(),
                dry_run,
                skip_invalid,
                source,
            };
            (|| {
                let store = open_store(&cli.db.database_url)?;
                let started = Instant::now();
                let report = import_file(&store, &file, &options)
                    .map_err(|e| import_failure(e, &file.display().to_string()))?;
                finish_import(&report, started, json, rejects.as_deref())
            })()
        }
        Some(Command::Import(ImportCommand::Oruk {
            path,
            source,
            json,
            dry_run,
            strict,
            snapshot,
            as_of,
            skip_invalid,
            rejects,
        })) => (|| {
            let options = ImportOptions {
                format: Some(Format::Oruk),
                contacts: if strict {
                    Contacts::Strict
                } else {
                    Contacts::Salvage
                },
                dry_run,
                snapshot,
                as_of,
                matching: match_settings(&MatchThresholds::from_env()?)?,
                skip_invalid,
                mapping: with_source(None, Some(source)),
                encoding: Encoding::Utf8,
                batch_rows: community_assets::config::import_batch_rows()?,
            };
            import_assets(
                &cli.db.database_url,
                &path,
                &options,
                json,
                rejects.as_deref(),
            )
        })(),
        Some(Command::Import(ImportCommand::Postcodes { paths, dry_run })) => {
            import_postcodes(&cli.db.database_url, &paths, dry_run)
        }
        Some(Command::Import(ImportCommand::Areas { files, dry_run })) => {
            import_areas(&cli.db.database_url, &files, dry_run)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// The store of a command that runs and exits (see [`Store::open_for_command`]).
fn open_store(url: &str) -> Result<Store, String> {
    let store = Store::open_for_command(url).map_err(|e| e.to_string())?;
    tracing::info!(database = %store.backend().redacted(), "database ready");
    Ok(store)
}

fn serve(db: &DatabaseArgs, args: &ServeArgs) -> Result<(), String> {
    let started = Instant::now();
    let config = Config::from_env(db, args)?;
    match_settings(&config.matching)?;
    let store = Store::open(&config.database_url).map_err(|e| e.to_string())?;
    tracing::info!(database = %store.backend().redacted(), "database ready");
    let state = AppState::load(store, config).map_err(|e| e.to_string())?;
    let snap = state.snapshot.load();
    tracing::info!(
        assets = snap.len(),
        published = snap.published_len(),
        version = snap.version,
        ms = started.elapsed().as_millis() as u64,
        "snapshot built"
    );
    drop(snap);
    state.spawn_refresher();
    let listener = TcpListener::bind(&args.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        "listening on http://{addr}; API explorer at http://{addr}/docs/"
    );
    actix_web::rt::System::new().block_on(async move {
        community_assets::startup::serve(listener, state)
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| e.to_string())
    })
}

fn import_assets(
    url: &str,
    file: &std::path::Path,
    options: &ImportOptions,
    json: bool,
    rejects: Option<&std::path::Path>,
) -> Result<(), String> {
    let store = open_store(url)?;
    let started = Instant::now();
    let report = import_file(&store, file, options)
        .map_err(|e| import_failure(e, &file.display().to_string()))?;
    finish_import(&report, started, json, rejects)
}

/// Writes the rejected rows (if asked) and prints the report, as text or JSON.
fn finish_import(
    report: &ImportReport,
    started: Instant,
    json: bool,
    rejects: Option<&std::path::Path>,
) -> Result<(), String> {
    if let Some(path) = rejects {
        let csv = rejects_csv(&report.rejected).map_err(|e| e.to_string())?;
        std::fs::write(path, csv).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| e.to_string())?
        );
    } else {
        print_report(report, started);
    }
    Ok(())
}

/// Warnings and the matcher's decisions on standard error (the first 1,000 of each, then
/// how many more), the summary on standard output.
fn print_report(r: &ImportReport, started: Instant) {
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    more(r.warnings_total, r.warnings.len(), "warning(s)");
    for e in &r.rejected {
        eprintln!("rejected: {e}");
    }
    more(
        r.rejected_total,
        r.rejected.len(),
        "rejected row problem(s)",
    );
    for d in r.decisions.iter().filter(|d| d.outcome != Outcome::New) {
        let Some(c) = &d.candidate else { continue };
        let of = c.asset_id.map_or("?".into(), |id| id.to_string());
        eprintln!(
            "{}: {}: {:?} ~ {:?} ({of}), {:.0} m, score {:.3}: {}",
            match d.outcome {
                Outcome::Linked => "linked",
                _ => "to review",
            },
            d.location,
            d.name,
            c.name,
            c.distance_m,
            c.score,
            c.reasons.join("; ")
        );
    }
    let c = &r.counts;
    if !c.new_sources.is_empty() {
        eprintln!(
            "note: new source(s) registered with unknown licence: {} (describe them with `sources set`)",
            c.new_sources.join(", ")
        );
    }
    let mut summary = format!("inserted {}", c.inserted);
    if c.inserted_archived > 0 {
        summary += &format!(" ({} archived)", c.inserted_archived);
    }
    summary += &format!(
        ", updated {}, unchanged {}, linked {}, to review {}, archived {}",
        c.updated, c.unchanged, c.linked, c.to_review, c.archived
    );
    if c.unlinked > 0 || c.kept_edited > 0 {
        summary += &format!(
            ", unlinked {}, kept (edited since) {}",
            c.unlinked, c.kept_edited
        );
    }
    if let Some(a) = &r.activities {
        summary += &format!(
            "; activities: inserted {}, updated {}, unchanged {}",
            a.inserted, a.updated, a.unchanged
        );
    }
    println!(
        "{}{summary}; {} warning(s){} ({:.1} s)",
        if r.dry_run {
            "dry run, nothing changed: "
        } else {
            ""
        },
        r.warnings_total,
        if r.rejected_total > 0 {
            format!("; {} problem(s) in rows left out", r.rejected_total)
        } else {
            String::new()
        },
        started.elapsed().as_secs_f64()
    );
}

/// Prints every rejected row and says that nothing changed.
fn import_failure(e: ImportError, what: &str) -> String {
    match e {
        ImportError::Rejected(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            more(errors.total(), errors.len(), "problem(s)");
            format!(
                "{} problem(s) in {what}; nothing was imported",
                errors.total()
            )
        }
        e => format!("{e}; nothing was imported"),
    }
}

/// Says how many of a list were not printed.
/// An RFC 3339 time, for `--as-of`.
fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("must be an RFC 3339 time such as 2023-04-01T00:00:00Z, got {s:?}"))
}

fn more(total: usize, listed: usize, what: &str) {
    if total > listed {
        eprintln!(
            "... and {} more {what} (only the first {listed} are listed)",
            total - listed
        );
    }
}

fn backup(url: &str, to: &std::path::Path) -> Result<(), String> {
    let store = open_store(url)?;
    let started = Instant::now();
    community_assets::store::backup(&store, to).map_err(|e| e.to_string())?;
    println!(
        "backed up to {} ({:.1} s)",
        to.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The new password of `users add` and `users set-password`: `COMMUNITY_ASSETS_PASSWORD`,
/// else the first line of standard input.
fn new_password() -> Result<String, String> {
    match config::password_from_env() {
        Some(p) => Ok(p),
        None => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the password: {e}"))?;
            Ok(line.trim_end_matches(['\r', '\n']).to_string())
        }
    }
}

/// Account changes, audited as [`COMMAND_LINE`].
/// `FIELD=PRIORITY`, for `--field-priority`.
fn parse_field_priority(s: &str) -> Result<(String, i32), String> {
    let (field, p) = s
        .split_once('=')
        .ok_or_else(|| format!("must be FIELD=PRIORITY, got {s:?}"))?;
    let p = p
        .trim()
        .parse()
        .map_err(|_| format!("{field}: the priority must be a whole number, got {p:?}"))?;
    Ok((field.trim().to_string(), p))
}

fn sources(url: &str, cmd: SourcesCommand) -> Result<(), String> {
    use community_assets::curation::imports::COMMAND_LINE as BY;
    use community_assets::curation::sources as curation;
    use community_assets::domain::Source;
    let store = open_store(url)?;
    let mut conn = store.conn().map_err(|e| e.to_string())?;
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    match cmd {
        SourcesCommand::List => {
            let list =
                community_assets::store::sources::list(&mut conn).map_err(|e| e.to_string())?;
            for s in list {
                println!(
                    "{}\t{}\t{} records\tpriority {}\t{}",
                    s.name,
                    s.licence.as_deref().unwrap_or("licence unknown"),
                    s.records,
                    s.priority,
                    text(&s.attribution)
                );
            }
        }
        SourcesCommand::Set {
            name,
            title,
            licence,
            attribution,
            url,
            priority,
            field_priorities,
        } => {
            let source = Source {
                name,
                title,
                licence,
                attribution,
                url,
                priority,
                field_priorities: field_priorities.into_iter().collect(),
                records: 0,
            };
            let (s, created) = curation::put(&mut conn, BY, &source).map_err(cli_error)?;
            println!(
                "{} source {} ({} records)",
                if created { "added" } else { "updated" },
                s.name,
                s.records
            );
        }
    }
    Ok(())
}

fn matches(url: &str, cmd: MatchesCommand) -> Result<(), String> {
    use community_assets::curation::imports::COMMAND_LINE as BY;
    use community_assets::store::imports::Verdict;
    let store = open_store(url)?;
    let mut conn = store.conn().map_err(|e| e.to_string())?;
    match cmd {
        MatchesCommand::List { status, limit } => {
            let (items, total) = community_assets::store::reviews::list(
                &mut conn,
                Some(&status),
                limit.clamp(1, 10_000),
                0,
            )
            .map_err(|e| e.to_string())?;
            for r in &items {
                let best = r.candidates.get(0);
                let field = |k: &str| best.and_then(|b| b.get(k)).cloned().unwrap_or_default();
                println!(
                    "{}\t{}\t{}:{}\t{}\t{}\t{}\t{}\t{}",
                    r.id,
                    r.kind,
                    r.source,
                    r.source_id,
                    r.location.as_deref().unwrap_or("-"),
                    r.row.name,
                    field("asset_id").as_str().unwrap_or("-"),
                    field("score"),
                    field("reasons")
                );
            }
            eprintln!("{} of {total} {status}", items.len());
        }
        MatchesCommand::Decide { id, action, asset } => {
            let id = uuid::Uuid::parse_str(&id).map_err(|_| "the id must be a UUID".to_string())?;
            let verdict = match (action.as_str(), asset) {
                ("link", Some(a)) => Verdict::Link(
                    uuid::Uuid::parse_str(&a).map_err(|_| "--asset must be a UUID".to_string())?,
                ),
                ("link", None) => return Err("link needs --asset ID".into()),
                (_, Some(_)) => return Err("--asset is only for link".into()),
                ("create", None) => Verdict::Create,
                ("skip", None) => Verdict::Skip,
                ("archive", None) => Verdict::Archive,
                _ => Verdict::Keep,
            };
            let r = community_assets::curation::sources::decide(&mut conn, BY, &id, verdict)
                .map_err(cli_error)?;
            println!(
                "{}: {}{}",
                r.id,
                r.status,
                r.asset_id
                    .map_or(String::new(), |a| format!(" (asset {a})"))
            );
        }
    }
    Ok(())
}

fn users(url: &str, cmd: UsersCommand) -> Result<(), String> {
    use community_assets::auth::Role;
    use community_assets::curation::imports::COMMAND_LINE as BY;
    use community_assets::curation::users;
    let role = |r: &str| Role::parse(r).ok_or("--role must be admin or editor");
    let store = open_store(url)?;
    let mut conn = store.conn().map_err(|e| e.to_string())?;
    match cmd {
        UsersCommand::Add { username, role: r } => {
            let role = role(&r)?;
            let password = new_password()?;
            users::add(&mut conn, BY, &username, &password, role).map_err(cli_error)?;
            println!("added {} {username}", role.as_str());
        }
        UsersCommand::Disable { username } => {
            users::disable(&mut conn, BY, &username).map_err(cli_error)?;
            println!("disabled {username}; their tokens no longer work");
        }
        UsersCommand::Enable { username } => {
            users::enable(&mut conn, BY, &username).map_err(cli_error)?;
            println!("enabled {username}");
        }
        UsersCommand::RevokeTokens { username } => {
            users::revoke_tokens(&mut conn, BY, &username).map_err(cli_error)?;
            println!("revoked every token of {username}");
        }
        UsersCommand::SetPassword { username } => {
            let password = new_password()?;
            users::set_password(&mut conn, BY, &username, &password).map_err(cli_error)?;
            println!("set the password of {username}; their tokens no longer work");
        }
        UsersCommand::SetRole { username, role: r } => {
            let role = role(&r)?;
            users::set_role(&mut conn, BY, &username, role).map_err(cli_error)?;
            println!("{username} is an {}", role.as_str());
        }
        UsersCommand::List => {
            for u in community_assets::store::users::list(&mut conn).map_err(|e| e.to_string())? {
                println!(
                    "{}\t{}\t{}",
                    u.username,
                    u.role,
                    if u.active { "active" } else { "disabled" }
                );
            }
        }
    }
    Ok(())
}

/// An error of the write side, as a command-line message: each invalid field named.
fn cli_error(e: ApiError) -> String {
    match e {
        ApiError::InvalidFields(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.name, f.reason))
            .collect::<Vec<_>>()
            .join("; "),
        e => e.to_string(),
    }
}

fn import_postcodes(url: &str, paths: &[PathBuf], dry_run: bool) -> Result<(), String> {
    let store = open_store(url)?;
    let started = Instant::now();
    let read = community_assets::import::postcodes::import_files(&store, paths, dry_run)
        .map_err(|e| import_failure(e, "the postcode files"))?;
    println!(
        "{}{} postcode(s) from {} file(s); {} without a position skipped ({:.1} s)",
        if dry_run {
            "dry run, nothing changed: read "
        } else {
            "imported "
        },
        read.postcodes,
        read.files,
        read.without_position,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn import_areas(url: &str, files: &AreaFiles, dry_run: bool) -> Result<(), String> {
    let store = open_store(url)?;
    let started = Instant::now();
    let outcome = import_areas_files(&store, files, dry_run)
        .map_err(|e| import_failure(e, "the area files"))?;
    let p = &outcome.parsed;
    for note in &p.notes {
        eprintln!("note: {note}");
    }
    let count =
        |f: fn(&community_assets::domain::Area) -> bool| p.areas.iter().filter(|a| f(a)).count();
    println!(
        "{}{} areas of {} on {} ({} with population, {} with domains, {} with domain scores, \
         {} with IDACI/IDAOPI; {}) ({:.1} s)",
        if dry_run {
            "dry run, nothing changed: "
        } else {
            "imported "
        },
        p.areas.len(),
        p.index_name,
        p.geography,
        count(|a| a.population.is_some()),
        count(|a| !a.domains.is_empty()),
        count(|a| a.domains.income.score.is_some()),
        count(|a| !a.supplementary.is_empty()),
        if files.boundaries.is_some() {
            "with boundaries"
        } else {
            "points only"
        },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
