//! The one import pipeline for asset files, from the command line and the admin API
//! alike: read (CSV, GeoJSON, OpenStreetMap or Open Referral UK, optionally gzipped),
//! validate every row (all or nothing, every rejected row listed); a row whose source
//! record is linked updates its asset; any other row is matched with the directory's
//! assets and the file's earlier rows (`import::matching`) and is linked to the asset it
//! is, sent to review, or new; then everything is applied in one transaction
//! (`store::imports`), with the activities a feed has at its venues after them, audited
//! under the importer's name. Same options, same report, whichever way in.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;
use std::sync::mpsc::SyncSender;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::activity::{ActivityFields, Vocabulary};
use crate::domain::{AssetFields, LocationPrecision};
use crate::error::ApiError;
use crate::import::encoding::Encoding;
use crate::import::mapping::Mapping;
use crate::import::matching::{Candidate, Decision, MatchSettings, Matcher, Outcome};
use crate::import::oruk::ActivityDraft;
use crate::import::stream::{self, Input, Records, Validator};
use crate::import::{
    postcodes, Capped, Contacts, Format, ImportError, ParsedAssets, Problems, ReadOptions,
    RowError, MAX_LISTED,
};
use crate::index::Snapshot;
use crate::metrics::ImportOutcome;
use crate::state::{full_snapshot, AppState};
use crate::store::activities as activity_store;
use crate::store::imports::{
    in_transaction, ActivityCounts, Batch, ImportCounts, ImportSettings, RowPlan, Transaction,
};
use crate::store::postcodes::positions as postcode_positions;
use crate::store::sources::records_by_key;
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
    /// The file is the complete current list of its source(s): their records it does not
    /// name are unlinked, and assets left with no source archived (or reviewed).
    pub snapshot: bool,
    /// The date of the list (default: now): a closure does not undo a verification made
    /// after it.
    pub as_of: Option<DateTime<Utc>>,
    /// When rows link, go to review or are new.
    pub matching: MatchSettings,
    /// Rows handled at a time (0: [`BATCH_ROWS`]).
    pub batch_rows: usize,
}

/// The matcher's settings: its documented defaults, with the configured thresholds; an
/// error when the review threshold would be above the link threshold.
pub fn match_settings(t: &crate::config::MatchThresholds) -> Result<MatchSettings, String> {
    let d = MatchSettings::default();
    let s = MatchSettings {
        link_at: t.link_at.unwrap_or(d.link_at),
        review_at: t.review_at.unwrap_or(d.review_at),
        radius_m: t.radius_m.unwrap_or(d.radius_m),
        postcode_radius_m: t.postcode_radius_m.unwrap_or(d.postcode_radius_m),
    };
    if s.review_at > s.link_at {
        return Err(format!(
            "MATCH_REVIEW_AT ({}) must not be above MATCH_LINK_AT ({})",
            s.review_at, s.link_at
        ));
    }
    Ok(s)
}

/// `mapping` with every row's `source` set to `source` (`--source`, `source=`), if given.
pub fn with_source(mapping: Option<Mapping>, source: Option<String>) -> Option<Mapping> {
    let Some(source) = source else {
        return mapping;
    };
    let mut m = mapping.unwrap_or_default();
    m.set.insert("source".into(), source);
    Some(m)
}

/// What the matcher decided for one row (rows whose record is already linked are not
/// listed: they update their asset).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RowDecision {
    /// Where the row is in the file.
    pub location: String,
    pub name: String,
    pub outcome: Outcome,
    /// The best candidate, with its score and the reasons (none for a new row that
    /// resembled nothing).
    pub candidate: Option<Candidate>,
}

/// What an import did (or, in a dry run, would do). The lists hold at most the first
/// 1,000 (`MAX_LISTED`) items each; the totals count every one.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"dry_run": true, "inserted": 15, "inserted_archived": 0,
    "updated": 2, "unchanged": 0, "linked": 1, "to_review": 1, "archived": 0, "unlinked": 0,
    "kept_edited": 0, "new_sources": ["osm"],
    "decisions": [{"location": "element 3 (way/4556)", "name": "The Walker", "outcome": "review",
        "candidate": {"asset_id": "1beaf664-065e-41cd-8e44-c134d70862a0", "row": null,
        "name": "Walker Art Gallery", "category": "gallery", "distance_m": 12.5, "score": 0.71,
        "reasons": ["12 m apart", "one name's words are all in the other"]}}],
    "decisions_total": 17,
    "warnings": [{"location": "element 5 (node/4419275310)", "field": "-", "reason": "skipped: not a venue of a known kind"}],
    "warnings_total": 1, "rejected": [], "rejected_total": 0}))]
pub struct ImportReport {
    /// True when nothing was changed.
    pub dry_run: bool,
    #[serde(flatten)]
    pub counts: ImportCounts,
    /// The matcher's decision on each row whose record was not linked yet (the first
    /// 1,000): linked, review or new, with the best candidate and the reasons.
    pub decisions: Vec<RowDecision>,
    /// Every decision.
    pub decisions_total: usize,
    /// Contact values salvaged, OSM elements skipped (the first 1,000).
    pub warnings: Vec<RowError>,
    /// Every warning.
    pub warnings_total: usize,
    /// With `skip_invalid`: the problems of the rows left out, each with its line, field,
    /// value and reason (the first 1,000).
    pub rejected: Vec<RowError>,
    /// Every problem of the rows left out.
    pub rejected_total: usize,
    /// What happened to the activities at the venues (imports that carry activities:
    /// Open Referral UK services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activities: Option<ActivityCounts>,
}

/// Rows an import reads, validates, matches and writes at a time (`IMPORT_BATCH_ROWS`):
/// memory holds one batch, whatever the file's size.
pub const BATCH_ROWS: usize = 5_000;

/// Batches prepared ahead of the one being written: memory holds at most this many more.
const BATCHES_AHEAD: usize = 1;

/// Imports `input` into `store`; `known` (every asset, any status) is what rows are
/// matched with. The file is read as a stream and handled a batch at a time, every batch
/// in the one transaction: all or nothing, as if it were read at once. Without a postcode
/// table, rows without coordinates cannot be placed.
///
/// A pipeline of two threads (the machine's cores): one reads, validates and matches the
/// next batch while the transaction's thread writes the last one. Matching sees the
/// file's earlier rows through the matcher's own state, not the database, and the
/// preparing side's two queries (postcode positions; which keys are stored, to leave
/// their rows out of matching) run on a connection of their own: no batch of this import
/// changes what they read, since a file names each key once (a duplicate is rejected)
/// and imports never write postcodes. The writer looks the keys up again in its
/// transaction, which decides update or insert. An error on either side ends both and
/// rolls everything back.
pub fn import_assets(
    store: &Store,
    known_assets: &Snapshot,
    input: Input,
    options: &ImportOptions,
    author: &str,
) -> Result<ImportReport, ImportError> {
    let categories: HashSet<String> = known_assets
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
    let settings = ImportSettings {
        as_of: options.as_of.unwrap_or_else(Utc::now),
        dry_run: options.dry_run,
        author: author.to_string(),
    };
    let mut conn = store.conn()?;
    let (prepared, counts) = std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_AHEAD);
        let preparer = s.spawn(|| {
            prepare(
                store,
                known_assets,
                input,
                options,
                &read_options,
                &categories,
                tx,
            )
        });
        in_transaction(&mut conn, settings, |t| {
            let mut written = Ok(());
            for batch in rx.iter() {
                if let Err(e) = t.write(batch) {
                    written = Err(e);
                    break;
                }
            }
            // A writer that failed stops the preparer: its next send fails.
            drop(rx);
            let prepared = preparer
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            written?;
            let prepared = prepared?;
            if options.snapshot {
                let v = &prepared.validator;
                t.close(&v.sources(), |k| v.named(k))?;
            }
            let activities = write_activities(t, &prepared.activities, options)?;
            Ok::<_, ImportError>((prepared, activities))
        })
    })?;
    let (
        Prepared {
            mut validator,
            unplaced,
            listed,
            decisions_total,
            file_warnings,
            activities: _,
        },
        activities,
    ) = prepared;
    let mut warnings = std::mem::take(&mut validator.warnings);
    warnings.extend(file_warnings);
    let mut rejected = std::mem::take(&mut validator.errors);
    rejected.append(unplaced);
    let activities = activities.map(|a| {
        warnings.append(a.warnings);
        rejected.append(a.rejected);
        a.counts
    });
    Ok(ImportReport {
        dry_run: options.dry_run,
        counts,
        decisions: listed,
        decisions_total,
        warnings_total: warnings.total(),
        warnings: warnings.into_listed(),
        rejected_total: rejected.total(),
        rejected: rejected.into_listed(),
        activities,
    })
}

/// What writing an import's activities did, and the problems and warnings it found.
struct ActivitiesWritten {
    counts: ActivityCounts,
    warnings: Capped<RowError>,
    rejected: Problems,
}

/// The invalid optional contacts of an activity, dropped with a warning when salvaging.
const ACTIVITY_CONTACTS: [&str; 3] = ["booking_url", "contact_email", "contact_phone"];

/// Writes the activities of a feed's venues in the import's transaction, once every venue
/// is written: each at the asset its venue's record is linked to (a venue sent to review
/// has none yet: its activities wait for a re-import, with a warning). Validated as any
/// activity; an invalid one rejects the import (or, skipping invalid rows, is reported).
fn write_activities(
    t: &mut Transaction,
    drafts: &[ActivityDraft],
    options: &ImportOptions,
) -> Result<Option<ActivitiesWritten>, ImportError> {
    if drafts.is_empty() {
        return Ok(None);
    }
    let slugs = |terms: Vec<crate::domain::activity::Term>| -> HashSet<String> {
        terms.into_iter().map(|t| t.slug).collect()
    };
    let kinds = slugs(activity_store::kinds(t.conn())?);
    let audiences = slugs(activity_store::audiences(t.conn())?);
    let vocab = Vocabulary {
        kinds: &kinds,
        audiences: &audiences,
    };
    let text = |d: &ActivityDraft, k: &str| {
        d.body
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let keys: Vec<(String, String)> = drafts
        .iter()
        .map(|d| (text(d, "source"), d.venue.clone()))
        .collect();
    let assets = t.assets_of(&keys)?;
    let mut out = ActivitiesWritten {
        counts: ActivityCounts::default(),
        warnings: Capped::default(),
        rejected: Problems::default(),
    };
    let mut seen = HashSet::new();
    for (d, key) in drafts.iter().zip(&keys) {
        let name = text(d, "name");
        let Some(asset) = assets.get(key) else {
            out.warnings.push(RowError {
                location: d.location.clone(),
                field: "-".into(),
                reason: format!(
                    "activity {name:?} not imported: its venue (location {}) was not \
                     (rejected, or held for review: import again once the match is decided)",
                    d.venue
                ),
                value: None,
            });
            continue;
        };
        if !seen.insert(text(d, "source_id")) {
            continue;
        }
        let mut body = d.body.clone();
        body.insert("asset_id".into(), asset.to_string().into());
        let mut parsed = ActivityFields::parse(&body, &vocab);
        if let (Err(errors), Contacts::Salvage) = (&parsed, options.contacts) {
            let contacts: Vec<_> = errors
                .iter()
                .filter(|e| ACTIVITY_CONTACTS.contains(&e.field.as_str()))
                .collect();
            if !contacts.is_empty() && contacts.len() == errors.len() {
                for e in contacts {
                    out.warnings.push(RowError {
                        location: d.location.clone(),
                        field: e.field.clone(),
                        reason: format!("dropped from activity {name:?}: {}", e.reason),
                        value: None,
                    });
                    body.remove(&e.field);
                }
                parsed = ActivityFields::parse(&body, &vocab);
            }
        }
        match parsed {
            Ok(fields) => out.counts.add(t.write_activity(fields)?),
            Err(errors) => out.rejected.extend(errors.into_iter().map(|e| RowError {
                location: d.location.clone(),
                value: body.get(&e.field).map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
                field: format!("activity.{}", e.field),
                reason: e.reason,
            })),
        }
    }
    if out.rejected.total() > 0 && !options.skip_invalid {
        return Err(ImportError::Rejected(out.rejected));
    }
    Ok(Some(out))
}

/// What the preparing side of an import found, besides the batches it sent.
struct Prepared<'a> {
    validator: Validator<'a>,
    unplaced: Problems,
    listed: Vec<RowDecision>,
    decisions_total: usize,
    file_warnings: Vec<RowError>,
    activities: Vec<ActivityDraft>,
}

/// The preparing side of an import: reads, validates, places and matches the rows a batch
/// at a time and sends each batch, planned, to the writer. Returns the problems (a
/// rejected file sends nothing more once the first problem is found, but reads on to list
/// every one) or what the report needs.
fn prepare<'a>(
    store: &Store,
    known_assets: &Snapshot,
    input: Input,
    options: &ImportOptions,
    read_options: &ReadOptions,
    categories: &'a HashSet<String>,
    tx: SyncSender<Batch>,
) -> Result<Prepared<'a>, ImportError> {
    let Records {
        mut records,
        warnings: file_warnings,
        failed,
        activities,
    } = stream::records(input, options.format, read_options).map_err(ImportError::Rejected)?;
    let batch_rows = if options.batch_rows == 0 {
        BATCH_ROWS
    } else {
        options.batch_rows
    };
    let mut validator = Validator::new(categories, read_options);
    let mut matcher = Matcher::new(known_assets, &options.matching);
    let mut unplaced = Problems::default();
    let mut listed: Vec<RowDecision> = Vec::new();
    let mut decisions_total = 0;
    // Reads only (see `import_assets`): beside the writer's transaction, not in it.
    let mut conn = store.conn()?;
    loop {
        let mut rows = Vec::with_capacity(batch_rows);
        let mut locations = Vec::with_capacity(batch_rows);
        for (location, record) in records.by_ref() {
            if let Some((row, location)) = validator.check(location, record) {
                rows.push(row);
                locations.push(location);
                if rows.len() == batch_rows {
                    break;
                }
            }
        }
        if rows.is_empty() {
            break;
        }
        if validator.rejecting() {
            // The file is rejected: the rest is only checked, to list every problem.
            continue;
        }
        let mut parsed = ParsedAssets {
            rows,
            locations,
            warnings: Default::default(),
        };
        let wanted = postcodes::wanted(&parsed);
        if !wanted.is_empty() {
            let positions = postcode_positions(&mut conn, &wanted)?;
            for r in &parsed.rows {
                let unknown = r.location_precision == LocationPrecision::Postcode
                    && !positions.contains_key(r.postcode.as_deref().unwrap_or(""));
                if unknown {
                    validator.forget(r);
                }
            }
            let left_out = postcodes::place(&mut parsed, &positions);
            if left_out.total() > 0 && !options.skip_invalid {
                validator.errors.append(left_out);
                continue;
            }
            unplaced.append(left_out);
        }
        let keys: Vec<(String, String)> = parsed.rows.iter().map(key_of).collect();
        let stored = records_by_key(&mut conn, &keys)?;
        let skip: Vec<bool> = keys.iter().map(|k| stored.contains_key(k)).collect();
        let first = matcher.decided();
        let decisions = matcher.decide(&parsed.rows, &skip);
        for ((row, location), decision) in parsed.rows.iter().zip(&parsed.locations).zip(&decisions)
        {
            if let Some(d) = decision {
                decisions_total += 1;
                if listed.len() < MAX_LISTED {
                    listed.push(RowDecision {
                        location: location.clone(),
                        name: row.name.clone(),
                        outcome: d.outcome,
                        candidate: d.candidates.first().cloned(),
                    });
                }
            }
        }
        let plans = plan_rows(&decisions, &matcher, first);
        let batch = parsed
            .rows
            .into_iter()
            .zip(parsed.locations)
            .zip(plans)
            .map(|((r, l), p)| (r, l, p))
            .collect();
        if tx.send(batch).is_err() {
            // The writer failed; its error is the import's.
            return Err(ImportError::Store(StoreError::Invalid(
                "the import's writer stopped".into(),
            )));
        }
    }
    if let Some(reason) = failed.borrow_mut().take() {
        return Err(ImportError::Rejected(
            vec![RowError {
                location: "file".into(),
                field: "-".into(),
                reason,
                value: None,
            }]
            .into(),
        ));
    }
    if validator.rejecting() {
        return Err(ImportError::Rejected(std::mem::take(&mut validator.errors)));
    }
    Ok(Prepared {
        validator,
        unplaced,
        listed,
        decisions_total,
        file_warnings,
        activities,
    })
}

fn key_of(row: &AssetFields) -> (String, String) {
    (
        row.source.clone().unwrap_or_default(),
        row.source_id.clone().unwrap_or_default(),
    )
}

/// The store's plan for each row of a batch (the first being row `first` of the file)
/// from the matcher's decisions: a new row's asset has the id the matcher gave it, so that
/// a row linked to (or reviewed against) an earlier row of the file points at the asset
/// that row creates.
fn plan_rows(decisions: &[Option<Decision>], matcher: &Matcher, first: usize) -> Vec<RowPlan> {
    let resolve = |c: &Candidate| {
        c.asset_id
            .or_else(|| c.row.and_then(|k| matcher.new_asset_of(k)))
    };
    decisions
        .iter()
        .enumerate()
        .map(|(i, d)| match d {
            Some(d) if d.outcome == Outcome::Linked => match d.candidates.first() {
                Some(c) if c.asset_id.is_some() => RowPlan::Link(c.asset_id.unwrap_or_default()),
                Some(c) => match resolve(c) {
                    Some(id) => RowPlan::LinkCreated(id),
                    None => RowPlan::New(Uuid::new_v4()),
                },
                None => RowPlan::New(Uuid::new_v4()),
            },
            Some(d) if d.outcome == Outcome::Review => {
                let candidates: Vec<Candidate> = d
                    .candidates
                    .iter()
                    .map(|c| Candidate {
                        asset_id: resolve(c),
                        ..c.clone()
                    })
                    .collect();
                RowPlan::Review(serde_json::to_value(candidates).unwrap_or_default())
            }
            Some(_) => RowPlan::New(matcher.new_asset_of(first + i).unwrap_or_else(Uuid::new_v4)),
            // A row whose record is linked updates its asset (the store finds it).
            None => RowPlan::New(Uuid::new_v4()),
        })
        .collect()
}

/// An import on a server (`bytes` already gunzipped): public when it returns.
pub fn import_on_server(
    state: &AppState,
    bytes: &[u8],
    options: &ImportOptions,
    author: &str,
) -> Result<ImportReport, ApiError> {
    let dry_run = options.dry_run;
    let known = state.admin_snapshot()?;
    let report = import_assets(&state.store, &known, Input::Bytes(bytes), options, author)
        .inspect_err(|e| {
            if matches!(e, ImportError::Rejected(_)) {
                state.metrics.import(ImportOutcome::Rejected);
            }
        })?;
    state.refresh()?;
    state.metrics.import(if dry_run {
        ImportOutcome::DryRun
    } else {
        let c = &report.counts;
        ImportOutcome::Applied {
            rows: (c.inserted + c.updated + c.linked) as u64,
        }
    });
    Ok(report)
}

/// An import of the operator's own file from the command line (read as a stream),
/// audited as [`COMMAND_LINE`]; running servers pick it up within their refresh interval.
pub fn import_file(
    store: &Store,
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    std::fs::metadata(path).map_err(|e| ImportError::Io(format!("{}: {e}", path.display())))?;
    import_assets(
        store,
        &full_snapshot(store)?,
        Input::Path(path),
        options,
        COMMAND_LINE,
    )
}
