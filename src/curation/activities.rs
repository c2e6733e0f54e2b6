//! Curating activities exactly as assets are curated: create, replace, merge-patch and
//! status changes (archive is what `DELETE` does: nothing is ever deleted), each validated
//! as a whole against the curated vocabularies read in the write's own transaction, the
//! venue checked, written with its audit entry (`activity.*`) and public before the call
//! returns; the vocabularies themselves; and imports of activity files (CSV, JSON) or of
//! records another reader made (the ORUK import), in one transaction like asset imports.

use diesel::Connection;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

use super::assets::{merge_patch, Action};
use super::committed;
use super::imports::COMMAND_LINE;
use crate::domain::activity::{schedule_from_text, Term, Vocabulary};
use crate::domain::asset::FieldError;
use crate::domain::{Activity, ActivityFields, Status};
use crate::error::{ApiError, InvalidParam};
use crate::import::activities::{read, ActivityFormat, ActivityRecord, ActivityRecords};
use crate::import::encoding::Encoding;
use crate::import::stream::Input;
use crate::import::{ImportError, Problems, RowError};
use crate::state::AppState;
use crate::store::activities::{self as store, TermList};
use crate::store::imports::{in_transaction, ImportSettings, Upsert};
use crate::store::sources::records_by_key;
use crate::store::{DbConnection, Store, StoreError};

use super::imports::ImportReport;

/// The curated vocabularies (kind slugs, audience slugs), as stored now.
pub struct Vocabularies {
    pub kinds: HashSet<String>,
    pub audiences: HashSet<String>,
}

impl Vocabularies {
    /// Read on `conn`: inside a write's transaction, what the write is checked against.
    pub fn read(conn: &mut DbConnection) -> Result<Self, StoreError> {
        let slugs = |terms: Vec<Term>| terms.into_iter().map(|t| t.slug).collect();
        Ok(Vocabularies {
            kinds: slugs(store::kinds(conn)?),
            audiences: slugs(store::audiences(conn)?),
        })
    }

    fn as_vocabulary(&self) -> Vocabulary<'_> {
        Vocabulary {
            kinds: &self.kinds,
            audiences: &self.audiences,
        }
    }
}

/// Validates `object` as an activity's fields, the venue included: every problem at once.
pub fn validate(
    conn: &mut DbConnection,
    vocab: &Vocabularies,
    object: &Map<String, Value>,
) -> Result<ActivityFields, StoreOr<Vec<FieldError>>> {
    let parsed = ActivityFields::parse(object, &vocab.as_vocabulary());
    // The venue is checked even when other fields are wrong, so that every problem shows.
    let venue = object
        .get("asset_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s.trim()).ok());
    let missing = match venue {
        Some(id) => !store::venue_exists(conn, &id).map_err(StoreOr::Store)?,
        None => false,
    };
    let venue_error = || {
        FieldError::new(
            "asset_id",
            format!(
                "no venue (asset) has id {}",
                venue.map(|v| v.to_string()).unwrap_or_default()
            ),
        )
    };
    match parsed {
        Ok(_) if missing => Err(StoreOr::Invalid(vec![venue_error()])),
        Ok(fields) => Ok(fields),
        Err(mut errors) => {
            if missing {
                errors.push(venue_error());
            }
            Err(StoreOr::Invalid(errors))
        }
    }
}

/// A store failure, or the record's own problems.
pub enum StoreOr<E> {
    Store(StoreError),
    Invalid(E),
}

impl From<StoreOr<Vec<FieldError>>> for ApiError {
    fn from(e: StoreOr<Vec<FieldError>>) -> Self {
        match e {
            StoreOr::Store(e) => e.into(),
            StoreOr::Invalid(errors) => ApiError::InvalidFields(
                errors
                    .into_iter()
                    .map(|e| InvalidParam {
                        name: e.field,
                        reason: e.reason,
                    })
                    .collect(),
            ),
        }
    }
}

/// The body as a JSON object, or a 422 saying what it must be.
fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::field("body", "must be a JSON object of activity fields"))
}

/// A version mismatch told about an activity (the store's message is about assets).
fn activity_error(e: ApiError) -> ApiError {
    match e {
        ApiError::PreconditionFailed(m) => {
            ApiError::PreconditionFailed(m.replace("asset", "activity"))
        }
        other => other,
    }
}

/// Checks `object` in the transaction on `c` and writes it over activity `id` (at
/// version `expected`, if given), audited as `action`.
fn rewrite(
    c: &mut DbConnection,
    author: &str,
    id: &Uuid,
    expected: Option<i64>,
    action: &str,
    new_object: impl FnOnce(&Activity) -> Result<Map<String, Value>, ApiError>,
) -> Result<Activity, ApiError> {
    // The vocabularies are read in the write's transaction: what it is checked against is
    // what it commits beside.
    c.transaction(|c| {
        crate::store::lock_for_write(c)?;
        let vocab = Vocabularies::read(c)?;
        let (activity, _) = store::modify(c, id, expected, author, action, |old| {
            let object = new_object(old)?;
            parse_without_venue(&vocab, &object)
        })?;
        Ok(activity)
    })
}

/// Parses without the venue check (done by the store on a changed venue, and named
/// `asset_id` by [`venue_refused`]).
fn parse_without_venue(
    vocab: &Vocabularies,
    object: &Map<String, Value>,
) -> Result<ActivityFields, ApiError> {
    ActivityFields::parse(object, &vocab.as_vocabulary())
        .map_err(|errors| ApiError::from(StoreOr::Invalid(errors)))
}

/// The store refuses a venue that does not exist with a 404 naming `asset_id`: for a write
/// it is a 422 on that field.
fn venue_refused(e: ApiError) -> ApiError {
    match e {
        ApiError::NotFound(m) if m.ends_with("(asset_id)") => ApiError::field(
            "asset_id",
            m.trim_end_matches(" (asset_id)")
                .replace("no asset", "no venue (asset)"),
        ),
        other => activity_error(other),
    }
}

/// Creates an activity from a JSON object of its fields; audited as `activity.create`.
pub fn create(state: &AppState, author: &str, body: &Value) -> Result<Activity, ApiError> {
    let object = object(body)?;
    committed(state, |conn| {
        conn.transaction(|c| {
            crate::store::lock_for_write(c)?;
            let vocab = Vocabularies::read(c)?;
            let fields = validate(c, &vocab, object)?;
            Ok(store::create(c, fields, author, "activity.create")?)
        })
    })
}

/// Replaces an activity's fields, if it is still at version `expected` (any, when
/// `None`); audited as `activity.update`.
pub fn replace(
    state: &AppState,
    author: &str,
    id: &Uuid,
    expected: Option<i64>,
    body: &Value,
) -> Result<Activity, ApiError> {
    let object = object(body)?.clone();
    committed(state, |c| {
        rewrite(c, author, id, expected, "activity.update", |_| Ok(object))
    })
    .map_err(venue_refused)
}

/// Applies a JSON Merge Patch (RFC 7396) to an activity's fields, if it is still at
/// `expected`, and validates the result as a whole; audited as `activity.patch`.
pub fn patch(
    state: &AppState,
    author: &str,
    id: &Uuid,
    expected: Option<i64>,
    patch: &Value,
) -> Result<Activity, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::param(
            "body",
            "must be a JSON object (a merge patch)",
        ));
    }
    committed(state, |c| {
        patch_in(c, author, id, expected, patch, "activity.patch")
    })
    .map_err(venue_refused)
}

/// [`patch`] on a connection (in the caller's transaction, as an approval's), audited
/// as `action`.
fn patch_in(
    c: &mut DbConnection,
    author: &str,
    id: &Uuid,
    expected: Option<i64>,
    patch: &Value,
    action: &str,
) -> Result<Activity, ApiError> {
    rewrite(c, author, id, expected, action, |old| patched(old, patch))
}

/// The activity's fields with a merge patch applied, as the object to validate.
pub fn patched(old: &Activity, patch: &Value) -> Result<Map<String, Value>, ApiError> {
    let mut doc = Value::Object(old.fields.to_object());
    merge_patch(&mut doc, patch);
    match doc {
        Value::Object(o) => Ok(o),
        _ => Err(ApiError::param(
            "body",
            "must be a JSON object (a merge patch)",
        )),
    }
}

/// Changes an activity's status (archive: what `DELETE` does; restore, publish,
/// unpublish), if it is still at `expected`; audited as `activity.archive` and so on.
pub fn act(
    state: &AppState,
    author: &str,
    id: &Uuid,
    expected: Option<i64>,
    action: Action,
) -> Result<Activity, ApiError> {
    let status = match action {
        Action::Archive => Status::Archived,
        Action::Restore | Action::Unpublish => Status::Draft,
        Action::Publish => Status::Published,
        Action::Verify => {
            return Err(ApiError::NotFound(
                "no action \"verify\" for activities: restore, publish or unpublish".into(),
            ))
        }
    };
    let name = format!("activity.{}", action.as_str());
    committed(state, |c| {
        let (activity, _) = store::modify(c, id, expected, author, &name, |old| {
            Ok::<_, ApiError>(ActivityFields {
                status,
                ..old.fields.clone()
            })
        })?;
        Ok(activity)
    })
    .map_err(activity_error)
}

/// Adds an activity kind or audience, or relabels one; audited as `activity.term.put`.
pub fn put_term(
    state: &AppState,
    author: &str,
    which: TermList,
    slug: &str,
    label: &str,
    description: &str,
) -> Result<Term, ApiError> {
    let slug_ok = (1..=100).contains(&slug.len())
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    let mut errors = Vec::new();
    if !slug_ok {
        errors.push(InvalidParam {
            name: "slug".into(),
            reason: "must be lower-case letters and digits in words joined by -, at most 100 (e.g. music-singing)".into(),
        });
    }
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 200 || label.chars().any(char::is_control) {
        errors.push(InvalidParam {
            name: "label".into(),
            reason: "must be 1 to 200 characters, without control characters".into(),
        });
    }
    let description = description.trim();
    if description.chars().count() > 1000
        || description.chars().any(|c| c.is_control() && c != '\n')
    {
        errors.push(InvalidParam {
            name: "description".into(),
            reason: "must be at most 1000 characters, without control characters".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidFields(errors));
    }
    let term = Term {
        slug: slug.to_string(),
        label: label.to_string(),
        description: description.to_string(),
    };
    committed(state, |c| Ok(store::put_term(c, which, &term, author)?))?;
    Ok(term)
}

/// Creates the activity a suggestion proposes (published, `source` `suggestion` with the
/// suggestion's id), in the caller's transaction, audited as `action` under `approver`.
pub fn create_in(
    c: &mut DbConnection,
    approver: &str,
    object: &Map<String, Value>,
    suggestion: &Uuid,
    action: &str,
) -> Result<Activity, ApiError> {
    let vocab = Vocabularies::read(c)?;
    let mut fields = validate(c, &vocab, object)?;
    fields.status = Status::Published;
    fields.source = Some("suggestion".into());
    fields.source_id = Some(suggestion.to_string());
    Ok(store::create(c, fields, approver, action)?)
}

/// Applies a suggested correction (a merge patch) to an activity in the caller's
/// transaction, audited as `action` under `approver`.
pub fn correct_in(
    c: &mut DbConnection,
    approver: &str,
    id: &Uuid,
    patch: &Value,
    action: &str,
) -> Result<Activity, ApiError> {
    patch_in(c, approver, id, None, patch, action).map_err(venue_refused)
}

/// Checks a proposal against the current data without writing: a new activity's fields
/// (venue included), or a correction's result on the published activity `target`.
pub fn check_proposal(
    state: &AppState,
    target: Option<&Uuid>,
    object: &Map<String, Value>,
) -> Result<(), ApiError> {
    let mut conn = state.store.conn()?;
    let vocab = Vocabularies::read(&mut conn)?;
    match target {
        None => {
            validate(&mut conn, &vocab, object)?;
        }
        Some(id) => {
            let current = store::get(&mut conn, id)?
                .filter(|a| a.fields.status == Status::Published)
                .ok_or_else(|| ApiError::NotFound(format!("no published activity has id {id}")))?;
            let merged = patched(&current, &Value::Object(object.clone()))?;
            validate(&mut conn, &vocab, &merged)?;
        }
    }
    Ok(())
}

/// How an activity import reads and applies its records.
#[derive(Clone, Debug, Default)]
pub struct ActivityImportOptions {
    /// `None`: JSON or CSV, told apart by the first character.
    pub format: Option<ActivityFormat>,
    pub encoding: Encoding,
    /// Validate and report; change nothing.
    pub dry_run: bool,
    /// Import the valid records and report the others, instead of all or nothing.
    pub skip_invalid: bool,
    /// Supplies or overrides every record's `source`.
    pub source: Option<String>,
}

/// Imports activity records (each with where it is: `line 3`, `record 0`, or whatever the
/// caller's reader calls it) into `store` in one transaction, as asset imports do: all or
/// nothing (or, with `skip_invalid`, the valid ones, the others reported), upserted by
/// (source, source_id), each audited as `activity.import` under `author`; a dry run
/// reports the same counts and writes nothing. A record names its venue by `asset_id`, or
/// by the venue's source record: `asset_source` + `asset_source_id` (as the venues' file
/// was imported). `schedule` may be the compact text form. The report's `inserted`,
/// `updated` and `unchanged` count activities. On a server, call [`import_on_server`] or
/// refresh the snapshot after.
pub fn import_records(
    store: &Store,
    records: Vec<ActivityRecord>,
    options: &ActivityImportOptions,
    author: &str,
) -> Result<ImportReport, ImportError> {
    import_read(
        store,
        ActivityRecords {
            records,
            ..Default::default()
        },
        options,
        author,
    )
}

fn import_read(
    store: &Store,
    read: ActivityRecords,
    options: &ActivityImportOptions,
    author: &str,
) -> Result<ImportReport, ImportError> {
    let settings = ImportSettings {
        as_of: chrono::Utc::now(),
        dry_run: options.dry_run,
        author: author.to_string(),
    };
    let ActivityRecords {
        records,
        unreadable,
        warnings,
    } = read;
    let mut conn = store.conn()?;
    let (rejected, counts) = in_transaction(&mut conn, settings, |t| {
        let mut problems: Problems = unreadable.into();
        let vocab = Vocabularies::read(t.conn())?;
        let venues = venues_by_source(t.conn(), &records)?;
        let mut keys: HashMap<(String, String), String> = HashMap::new();
        let mut valid = Vec::with_capacity(records.len());
        for (location, mut object) in records {
            let before = problems.total();
            let mut row_error = |field: &str, reason: String, value: Option<String>| {
                problems.push(RowError {
                    location: location.clone(),
                    field: field.to_string(),
                    reason,
                    value,
                })
            };
            if let Some(s) = &options.source {
                object.insert("source".into(), Value::String(s.clone()));
            }
            let venue_unknown = match resolve_venue(&mut object, &venues) {
                Ok(()) => false,
                Err((field, reason, value)) => {
                    row_error(field, reason, value);
                    true
                }
            };
            if let Some(Value::String(text)) = object.get("schedule") {
                let lines = if text.trim_start().starts_with('[') {
                    serde_json::from_str::<Value>(text).map_err(|e| {
                        FieldError::new("schedule", format!("is not a JSON array: {e}"))
                    })
                } else {
                    schedule_from_text(text).map(Value::Array)
                };
                match lines {
                    Ok(v) => {
                        object.insert("schedule".into(), v);
                    }
                    Err(e) => {
                        let value = cell(&object, "schedule");
                        object.remove("schedule");
                        row_error(&e.field, e.reason, value);
                    }
                }
            }
            let fields = match validate(t.conn(), &vocab, &object) {
                Ok(f) => Some(f),
                Err(StoreOr::Store(e)) => return Err(e.into()),
                Err(StoreOr::Invalid(errors)) => {
                    // A venue named by an unknown source record is reported as that.
                    let errors = errors
                        .into_iter()
                        .filter(|e| !(venue_unknown && e.field == "asset_id"));
                    for e in errors {
                        let value = cell(&object, e.field.split('[').next().unwrap_or(""));
                        row_error(&e.field, e.reason, value);
                    }
                    None
                }
            };
            let Some(fields) = fields else { continue };
            let (Some(source), Some(source_id)) = (&fields.source, &fields.source_id) else {
                row_error(
                    "source_id",
                    "an imported activity needs source and source_id: the key a re-import updates by".into(),
                    None,
                );
                continue;
            };
            let key = (source.clone(), source_id.clone());
            if let Some(first) = keys.get(&key) {
                row_error(
                    "source_id",
                    format!("repeats the key ({source}, {source_id}) of {first}"),
                    Some(source_id.clone()),
                );
                continue;
            }
            keys.insert(key, location.clone());
            if problems.total() == before {
                valid.push((location, fields));
            }
        }
        if problems.total() > 0 && !options.skip_invalid {
            return Err(ImportError::Rejected(problems));
        }
        let mut names: Vec<String> = keys.keys().map(|(s, _)| s.clone()).collect();
        names.sort_unstable();
        names.dedup();
        if t.register(&names)? {
            t.wrote();
        }
        for (_, fields) in valid {
            let archived = fields.status == Status::Archived;
            let counts = match t.write_activity(fields)? {
                Upsert::Unchanged => &mut t.counts().unchanged,
                Upsert::Updated => &mut t.counts().updated,
                Upsert::Inserted => {
                    t.counts().inserted_archived += usize::from(archived);
                    &mut t.counts().inserted
                }
            };
            *counts += 1;
        }
        Ok::<_, ImportError>(problems)
    })?;
    Ok(ImportReport {
        dry_run: options.dry_run,
        counts,
        decisions: Vec::new(),
        decisions_total: 0,
        warnings_total: warnings.len(),
        warnings,
        rejected_total: rejected.total(),
        rejected: rejected.into_listed(),
        activities: None,
    })
}

/// A record's value of `field` as text, for the report.
fn cell(object: &Map<String, Value>, field: &str) -> Option<String> {
    object.get(field).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// The venues the records name by source record, by key.
fn venues_by_source(
    conn: &mut DbConnection,
    records: &[ActivityRecord],
) -> Result<HashMap<(String, String), String>, StoreError> {
    let keys: Vec<(String, String)> = records
        .iter()
        .filter_map(|(_, o)| {
            let text = |k: &str| {
                o.get(k)
                    .and_then(Value::as_str)
                    .map(|s| s.trim().to_string())
            };
            Some((text("asset_source")?, text("asset_source_id")?))
        })
        .collect();
    Ok(records_by_key(conn, &keys)?
        .into_iter()
        .map(|(k, r)| (k, r.asset_id))
        .collect())
}

/// Replaces `asset_source` + `asset_source_id` by the `asset_id` of the venue they name;
/// the field at fault, why, and its value, when they name none.
fn resolve_venue(
    object: &mut Map<String, Value>,
    venues: &HashMap<(String, String), String>,
) -> Result<(), (&'static str, String, Option<String>)> {
    let source = object.remove("asset_source");
    let source_id = object.remove("asset_source_id");
    let text = |v: &Option<Value>| {
        v.as_ref()
            .and_then(Value::as_str)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    match (text(&source), text(&source_id)) {
        (None, None) if source.is_none() && source_id.is_none() => Ok(()),
        (Some(s), Some(id)) => {
            if object
                .get("asset_id")
                .is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
            {
                return Err((
                    "asset_id",
                    "give asset_id or asset_source with asset_source_id, not both".into(),
                    cell(object, "asset_id"),
                ));
            }
            match venues.get(&(s.clone(), id.clone())) {
                Some(asset) => {
                    object.insert("asset_id".into(), Value::String(asset.clone()));
                    Ok(())
                }
                None => Err((
                    "asset_source_id",
                    format!("no venue has the source record ({s}, {id}): import the venues first"),
                    Some(id),
                )),
            }
        }
        (Some(_), None) => Err((
            "asset_source_id",
            "goes with asset_source: both name the venue".into(),
            None,
        )),
        _ => Err((
            "asset_source",
            "goes with asset_source_id: both name the venue".into(),
            None,
        )),
    }
}

/// Imports an activity file (`bytes` already gunzipped) on a server: public when it
/// returns.
pub fn import_on_server(
    state: &AppState,
    bytes: &[u8],
    options: &ActivityImportOptions,
    author: &str,
) -> Result<ImportReport, ApiError> {
    let read = read(Input::Bytes(bytes), options.format, options.encoding)
        .map_err(ImportError::Rejected)?;
    let report = import_read(&state.store, read, options, author)?;
    state.refresh()?;
    Ok(report)
}

/// [`import_records`] on a server: public when it returns.
pub fn import_records_on_server(
    state: &AppState,
    records: Vec<ActivityRecord>,
    options: &ActivityImportOptions,
    author: &str,
) -> Result<ImportReport, ApiError> {
    let report = import_records(&state.store, records, options, author)?;
    state.refresh()?;
    Ok(report)
}

/// An import of the operator's own activity file from the command line, audited as
/// [`COMMAND_LINE`]; running servers pick it up within their refresh interval.
pub fn import_file(
    store: &Store,
    path: &std::path::Path,
    options: &ActivityImportOptions,
) -> Result<ImportReport, ImportError> {
    std::fs::metadata(path).map_err(|e| ImportError::Io(format!("{}: {e}", path.display())))?;
    let read =
        read(Input::Path(path), options.format, options.encoding).map_err(ImportError::Rejected)?;
    import_read(store, read, options, COMMAND_LINE)
}
