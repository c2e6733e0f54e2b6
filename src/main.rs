//! Command line: run the service, import data, print the OpenAPI document.

use clap::{Parser, Subcommand};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use community_assets::config::{self, Config, DatabaseArgs, LogFormat, ServeArgs};
use community_assets::curation::imports::{import_file, ImportOptions, ImportReport};
use community_assets::error::ApiError;
use community_assets::import::areas::{import_areas_files, AreaFiles};
use community_assets::import::{Contacts, Format, ImportError};
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
        })) => {
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
            };
            import_assets(&cli.db.database_url, &file, options, json)
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
    let store = Store::open(&config.database_url).map_err(|e| e.to_string())?;
    tracing::info!(database = %store.backend().redacted(), "database ready");
    let state = AppState::load(store, config).map_err(|e| e.to_string())?;
    let snap = state.snapshot.load();
    tracing::info!(
        assets = snap.len(),
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
    options: ImportOptions,
    json: bool,
) -> Result<(), String> {
    let store = open_store(url)?;
    let started = Instant::now();
    let report = import_file(&store, file, options)
        .map_err(|e| import_failure(e, &file.display().to_string()))?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| e.to_string())?
        );
    } else {
        print_report(&report, started);
    }
    Ok(())
}

/// Warnings and held-back rows on standard error (the first 1,000 of each, then how many
/// more), the summary on standard output.
fn print_report(r: &ImportReport, started: Instant) {
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    more(r.warnings_total, r.warnings.len(), "warning(s)");
    for d in &r.duplicates {
        let of = match (&d.duplicate_of_id, &d.duplicate_of_location) {
            (Some(id), _) => format!("published asset {id}"),
            (None, Some(location)) => location.clone(),
            (None, None) => "?".into(),
        };
        eprintln!(
            "held back: {}: {:?} ({}) looks like {:?} ({of}), {:.0} m away",
            d.location, d.name, d.category, d.duplicate_of_name, d.distance_m
        );
    }
    more(r.duplicates_total, r.duplicates.len(), "row(s) held back");
    let c = &r.counts;
    println!(
        "{}inserted {}, updated {}, unchanged {}; {} held back as likely duplicates; {} warning(s) ({:.1} s)",
        if r.dry_run {
            "dry run, nothing changed: "
        } else {
            ""
        },
        c.inserted,
        c.updated,
        c.unchanged,
        r.duplicates_total,
        r.warnings_total,
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
