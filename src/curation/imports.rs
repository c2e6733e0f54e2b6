//! The one import pipeline for asset files, from the command line and the admin API
//! alike: read (CSV, GeoJSON or OpenStreetMap, optionally gzipped), validate every row
//! (all or nothing, every rejected row listed), hold back likely duplicates of published
//! assets and of earlier rows, then upsert the rest by source key in one transaction,
//! audited under the importer's name. Same options, same report, whichever way in.

use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use utoipa::ToSchema;

use crate::domain::AssetFields;
use crate::error::ApiError;
use crate::import::duplicates::{hold_back, Duplicate};
use crate::import::encoding::Encoding;
use crate::import::mapping::Mapping;
use crate::import::{
    self, postcodes, Contacts, Format, ImportError, ParsedAssets, ReadOptions, RowError, MAX_LISTED,
};
use crate::index::Snapshot;
use crate::metrics::ImportOutcome;
use crate::state::{published_snapshot, AppState};
use crate::store::assets::{by_source_key, upsert_by_source, ImportCounts};
use crate::store::postcodes::positions as postcode_positions;
use crate::store::{Store, StoreError};

/// The author that command-line imports are audited under.
pub const COMMAND_LINE: &str = "command-line";

/// How an import reads and applies its file.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// `None`: CSV or GeoJSON, told apart by the first character.
    pub format: Option<Format>,
    /// Invalid websites, e-mails and phones: dropped with a warning, or rows rejected.
    pub contacts: Contacts,
    /// Validate and report; change nothing.
    pub dry_run: bool,
    /// Import the valid rows and report the others (`rejected`), instead of all or nothing.
    pub skip_invalid: bool,
    /// A raw file's own columns (CSV); without one the file has the import columns.
    pub mapping: Option<Mapping>,
    pub encoding: Encoding,
}

/// What an import did (or, in a dry run, would do). The lists hold at most the first
/// 1,000 (`MAX_LISTED`) items each; the totals count every one.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"dry_run": true, "inserted": 15, "updated": 2, "unchanged": 0,
    "duplicates": [{"location": "element 3 (way/4556)", "name": "The Walker", "category": "gallery",
        "duplicate_of_id": "1beaf664-065e-41cd-8e44-c134d70862a0", "duplicate_of_location": null,
        "duplicate_of_name": "Walker Art Gallery", "distance_m": 12.5}],
    "duplicates_total": 1,
    "warnings": [{"location": "element 5 (node/4419275310)", "field": "-", "reason": "skipped: not a venue of a known kind"}],
    "warnings_total": 1}))]
pub struct ImportReport {
    /// True when nothing was changed.
    pub dry_run: bool,
    #[serde(flatten)]
    pub counts: ImportCounts,
    /// Rows held back as likely duplicates of a published asset or of an earlier row (the
    /// first 1,000).
    pub duplicates: Vec<Duplicate>,
    /// Every row held back.
    pub duplicates_total: usize,
    /// Contact values salvaged, OSM elements skipped (the first 1,000).
    pub warnings: Vec<RowError>,
    /// Every warning.
    pub warnings_total: usize,
    /// With `skip_invalid`: the problems of the rows left out, each with its line, field,
    /// value and reason (the first 1,000).
    pub rejected: Vec<RowError>,
    /// Every problem of the rows left out.
    pub rejected_total: usize,
}

/// Valid rows to upsert, and the rows held back as likely duplicates.
pub struct Prepared {
    pub parsed: ParsedAssets,
    pub duplicates: Vec<Duplicate>,
    /// With `skip_invalid`: the problems of the rows left out.
    pub rejected: import::Problems,
}

/// The pipeline up to the database write: parse and validate `bytes`, then hold back
/// likely duplicates of `published` assets and of earlier rows. A row whose source key
/// `stored_keys` says is already stored is an update of that record, never a duplicate.
/// Without a postcode table, rows without coordinates cannot be placed.
pub fn prepare(
    bytes: &[u8],
    options: &ImportOptions,
    published: &Snapshot,
    stored_keys: impl FnOnce(&[AssetFields]) -> Result<HashSet<(String, String)>, StoreError>,
) -> Result<Prepared, ImportError> {
    prepare_with(bytes, options, published, stored_keys, |_| {
        Ok(HashMap::new())
    })
}

/// [`prepare`], with rows that have a postcode and no coordinates placed at the position
/// `positions` gives their postcode (asked once, for all of them); a postcode it does not
/// know is a problem of that row.
pub fn prepare_with(
    bytes: &[u8],
    options: &ImportOptions,
    published: &Snapshot,
    stored_keys: impl FnOnce(&[AssetFields]) -> Result<HashSet<(String, String)>, StoreError>,
    positions: impl FnOnce(&[String]) -> Result<HashMap<String, (f64, f64)>, StoreError>,
) -> Result<Prepared, ImportError> {
    let known: HashSet<String> = published
        .categories()
        .iter()
        .map(|c| c.slug.clone())
        .collect();
    let read_options = ReadOptions {
        contacts: options.contacts,
        skip_invalid: options.skip_invalid,
        mapping: options.mapping.as_ref(),
        encoding: options.encoding,
    };
    let import::Read {
        mut parsed,
        mut rejected,
    } = import::read(bytes, options.format, &known, &read_options)
        .map_err(ImportError::Rejected)?;
    let wanted = postcodes::wanted(&parsed);
    if !wanted.is_empty() {
        let unplaced = postcodes::place(&mut parsed, &positions(&wanted)?);
        if unplaced.total() > 0 && !options.skip_invalid {
            return Err(ImportError::Rejected(unplaced));
        }
        rejected.append(unplaced);
    }
    let stored = stored_keys(&parsed.rows)?;
    let (parsed, duplicates) = hold_back(parsed, published, &stored);
    Ok(Prepared {
        parsed,
        duplicates,
        rejected,
    })
}

/// Imports `bytes` into `store`; `published` is what likely duplicates are looked for in.
pub fn import_assets(
    store: &Store,
    published: &Snapshot,
    bytes: &[u8],
    options: ImportOptions,
    author: &str,
) -> Result<ImportReport, ImportError> {
    // One connection, borrowed by each step in turn.
    let conn = std::cell::RefCell::new(store.conn()?);
    let Prepared {
        parsed,
        duplicates,
        rejected,
    } = prepare_with(
        bytes,
        &options,
        published,
        |rows| {
            Ok(by_source_key(&mut conn.borrow_mut(), rows)?
                .into_keys()
                .collect())
        },
        |wanted| postcode_positions(&mut conn.borrow_mut(), wanted),
    )?;
    let mut conn = conn.into_inner();
    let counts = upsert_by_source(&mut conn, parsed.rows, options.dry_run, author)?;
    let duplicates_total = duplicates.len();
    let mut duplicates = duplicates;
    duplicates.truncate(MAX_LISTED);
    Ok(ImportReport {
        dry_run: options.dry_run,
        counts,
        duplicates,
        duplicates_total,
        warnings_total: parsed.warnings.total(),
        warnings: parsed.warnings.into_listed(),
        rejected_total: rejected.total(),
        rejected: rejected.into_listed(),
    })
}

/// An import on a server (`bytes` already gunzipped): public when it returns.
pub fn import_on_server(
    state: &AppState,
    bytes: &[u8],
    options: ImportOptions,
    author: &str,
) -> Result<ImportReport, ApiError> {
    let dry_run = options.dry_run;
    let report = import_assets(&state.store, &state.snapshot.load(), bytes, options, author)
        .inspect_err(|e| {
            if matches!(e, ImportError::Rejected(_)) {
                state.metrics.import(ImportOutcome::Rejected);
            }
        })?;
    state.refresh()?;
    state.metrics.import(if dry_run {
        ImportOutcome::DryRun
    } else {
        ImportOutcome::Applied {
            rows: (report.counts.inserted + report.counts.updated) as u64,
        }
    });
    Ok(report)
}

/// An import of the operator's own file from the command line, audited as
/// [`COMMAND_LINE`]; running servers pick it up within their refresh interval.
pub fn import_file(
    store: &Store,
    path: &Path,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let bytes = import::read_bytes(path)?;
    import_assets(
        store,
        &published_snapshot(store)?,
        &bytes,
        options,
        COMMAND_LINE,
    )
}
