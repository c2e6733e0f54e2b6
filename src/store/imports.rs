//! An import's one transaction: every row applied as the matcher decided (an update of
//! the asset its record links, a new source record of a matched asset, a review, a new
//! asset), field values merged by source priority without undoing people's edits,
//! closures applied, and, for a complete list, the records it no longer names unlinked.
//! All or nothing; a dry run computes the same counts and writes nothing.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;
use uuid::Uuid;

use super::models::AssetRow;
use super::reviews::{self, NewReview};
use super::schema::assets;
use super::sources::{self, Record};
use super::{activities, audit, ChangeSeq, DbConnection, StoreError};
use crate::domain::activity::{Activity, ActivityFields};
use crate::domain::source::{created_from, merge, MergeContext};
use crate::domain::{Asset, AssetFields, Origins, Source, SourceRef, Status};

/// What the matcher decided for a row whose source key is not stored yet.
#[derive(Clone, Debug)]
pub enum RowPlan {
    /// Another source record of this existing asset.
    Link(Uuid),
    /// Another source record of an asset this import creates (from an earlier row, whose
    /// fields it keeps).
    LinkCreated(Uuid),
    /// A person decides: the candidates as the review lists them.
    Review(serde_json::Value),
    /// A new asset with this id.
    New(Uuid),
}

/// A batch of an import: the rows (each with its source and source_id), where each was,
/// and the plan for rows whose key is unknown (a row whose key is stored updates its
/// asset whatever the plan says).
pub type Batch = Vec<(AssetFields, String, RowPlan)>;

/// What applies to every batch of an import.
#[derive(Clone, Debug)]
pub struct ImportSettings {
    /// The date of the list: closures do not undo verifications made after it.
    pub as_of: DateTime<Utc>,
    /// Write everything, then roll back.
    pub dry_run: bool,
    pub author: String,
}

/// What an import did, or would do in a dry run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportCounts {
    /// New assets (rows matching nothing).
    pub inserted: usize,
    /// Of the inserted, those already archived (a closed venue the directory never
    /// listed: kept as history, never public).
    pub inserted_archived: usize,
    /// Assets changed through a record already linked (a re-import).
    pub updated: usize,
    /// Rows whose record is linked and whose asset they leave as it is.
    pub unchanged: usize,
    /// Rows that became another source record of a matched asset.
    pub linked: usize,
    /// Rows (and closures) sent to the review queue (`GET /v1/admin/matches`).
    pub to_review: usize,
    /// Assets this import archived: closed by a row, or no longer named by a complete
    /// list and by no other source.
    pub archived: usize,
    /// Records of a complete list (`snapshot`) that it no longer names, unlinked.
    pub unlinked: usize,
    /// Assets a complete list no longer names, left published because a person edited
    /// them since.
    pub kept_edited: usize,
    /// Sources the file named that were not registered: registered with unknown licence.
    pub new_sources: Vec<String>,
}

/// An asset the import touches: as it was, as it becomes, and who set its fields.
struct Working {
    before: Option<Asset>,
    after: Asset,
    origins: Origins,
    /// Sources linking it, besides the row's being merged.
    linked: Vec<String>,
    closed_by: Option<String>,
}

fn key_of(row: &AssetFields) -> (String, String) {
    (
        row.source.clone().unwrap_or_default(),
        row.source_id.clone().unwrap_or_default(),
    )
}

/// SQLite's page cache during an import, in KiB.
const IMPORT_CACHE_KIB: u32 = 64 * 1024;

/// An import's one transaction, fed batch by batch: each batch is written as it comes, so
/// that later batches (and their queries) see it, and memory holds one batch.
pub struct Transaction<'c> {
    c: &'c mut DbConnection,
    settings: ImportSettings,
    registry: HashMap<String, Source>,
    counts: ImportCounts,
    /// Whether anything was (or in a dry run would be) changed.
    wrote: bool,
    now: DateTime<Utc>,
    /// Stamped on every row this import writes (none in a dry run: it rolls back).
    seq: ChangeSeq,
}

/// Runs `f` with an import's transaction ([`Transaction::write`] each batch,
/// [`Transaction::close`] at the end) and returns what it returns with the counts. All
/// or nothing: the transaction commits only when `f` succeeds, something changed and it
/// is not a dry run (a re-import of an unchanged file leaves the data version, and every
/// snapshot, alone). An error of `f` is returned as it is, after the rollback.
pub fn in_transaction<T, E: From<StoreError>>(
    conn: &mut DbConnection,
    settings: ImportSettings,
    f: impl FnOnce(&mut Transaction) -> Result<T, E>,
) -> Result<(T, ImportCounts), E> {
    let mut out = None;
    let mut failure = None;
    // SQLite's default page cache (2 MiB) is far smaller than a large import's working
    // set: pages spilled to the WAL mid-transaction are written and read back again and
    // again. A larger cache for the import's duration, then the default again.
    if let DbConnection::Sqlite(lite) = conn {
        diesel::sql_query(format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))
            .execute(lite)
            .map_err(StoreError::from)?;
    }
    let result = conn.transaction(|c| {
        let dry_run = settings.dry_run;
        let seq = if dry_run {
            ChangeSeq(0, 0)
        } else {
            super::bump_version(c)?
        };
        let registry = sources::registry(c)?;
        let mut t = Transaction {
            c,
            settings,
            registry,
            counts: ImportCounts::default(),
            wrote: false,
            now: super::now(),
            seq,
        };
        match f(&mut t) {
            Ok(v) => {
                let wrote = t.wrote;
                t.counts.new_sources.sort_unstable();
                out = Some((v, t.counts));
                if dry_run || !wrote {
                    // Nothing to keep: roll back, so that the data version stays as it was.
                    return Err(StoreError::Invalid("rolled back".into()));
                }
                Ok(())
            }
            Err(e) => {
                failure = Some(e);
                Err(StoreError::Invalid("rolled back".into()))
            }
        }
    });
    if let DbConnection::Sqlite(lite) = conn {
        diesel::sql_query("PRAGMA cache_size = -2000")
            .execute(lite)
            .map_err(StoreError::from)?;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    match (result, out) {
        (Ok(()), Some(v)) | (Err(StoreError::Invalid(_)), Some(v)) => Ok(v),
        (Err(e), _) => Err(e.into()),
        (Ok(()), None) => unreachable!("the result is set before the transaction commits"),
    }
}

/// What [`Transaction::write_activity`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upsert {
    Inserted,
    Updated,
    Unchanged,
}

impl ActivityCounts {
    pub fn add(&mut self, done: Upsert) {
        match done {
            Upsert::Inserted => self.inserted += 1,
            Upsert::Updated => self.updated += 1,
            Upsert::Unchanged => self.unchanged += 1,
        }
    }
}

/// What an import did (or would do) to the activities at its venues.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ActivityCounts {
    /// Activities new to their (source, source_id).
    pub inserted: usize,
    /// Activities a re-import changed.
    pub updated: usize,
    /// Activities a re-import left as they were.
    pub unchanged: usize,
}

impl Transaction<'_> {
    /// The transaction's connection, for the queries of the steps before a write.
    pub fn conn(&mut self) -> &mut DbConnection {
        self.c
    }

    /// The assets that these source records are linked to, rows this import wrote
    /// included (a row sent to review has none yet).
    pub fn assets_of(
        &mut self,
        keys: &[(String, String)],
    ) -> Result<HashMap<(String, String), Uuid>, StoreError> {
        Ok(sources::records_by_key(self.c, keys)?
            .into_iter()
            .filter_map(|(k, r)| Some((k, Uuid::parse_str(&r.asset_id).ok()?)))
            .collect())
    }

    /// Writes one activity by its (source, source_id) key: inserted when the key is new,
    /// updated when its fields differ, else left alone; audited as `activity.import` by
    /// the import's author. The one upsert of activity files and Open Referral feeds.
    pub fn write_activity(&mut self, fields: ActivityFields) -> Result<Upsert, StoreError> {
        const ACTION: &str = "activity.import";
        let key = (
            fields.source.clone().unwrap_or_default(),
            fields.source_id.clone().unwrap_or_default(),
        );
        let author = self.settings.author.clone();
        let done = match activities::by_source_key(self.c, &key.0, &key.1)? {
            Some(old) if old.fields == fields => Upsert::Unchanged,
            Some(old) => {
                activities::update(self.c, self.seq, &old, fields, &author, ACTION)?;
                Upsert::Updated
            }
            None => {
                let activity = Activity::new(Uuid::new_v4(), fields, self.now);
                activities::insert(self.c, self.seq, &activity, &author, ACTION)?;
                Upsert::Inserted
            }
        };
        self.wrote |= done != Upsert::Unchanged;
        Ok(done)
    }

    /// Applies one batch of rows.
    pub fn write(&mut self, batch: Batch) -> Result<(), StoreError> {
        let now = self.now;
        let seq = self.seq;
        let now_us = now.timestamp_micros();
        let as_of = self.settings.as_of;
        let mut names: Vec<String> = batch.iter().map(|(r, _, _)| key_of(r).0).collect();
        names.sort_unstable();
        names.dedup();
        self.wrote |= self.register(&names)?;
        let c = &mut *self.c;
        let counts = &mut self.counts;
        let registry = &self.registry;

        let keys: Vec<(String, String)> = batch.iter().map(|(r, _, _)| key_of(r)).collect();
        let mut known = sources::records_by_key(c, &keys)?;

        // The assets rows merge into, with their origins and the sources linking them.
        let mut wanted: Vec<String> = known.values().map(|r| r.asset_id.clone()).collect();
        wanted.extend(batch.iter().filter_map(|(_, _, p)| match p {
            RowPlan::Link(id) => Some(id.to_string()),
            _ => None,
        }));
        wanted.sort_unstable();
        wanted.dedup();
        let mut working = load_working(c, &wanted)?;

        let mut new_records: Vec<Record> = Vec::new();
        let mut touched: Vec<Record> = Vec::new();
        let mut inserts: Vec<(Asset, Origins)> = Vec::new();
        let mut to_review: Vec<NewReview> = Vec::new();
        // A record whose source now gives other values (even ones that lose every field).
        let mut records_changed = false;
        // Existing assets gaining a record (their rows get the change sequence).
        let mut linked_existing: Vec<String> = Vec::new();

        for (row, location, row_plan) in &batch {
            let key = key_of(row);
            let source = &registry[&key.0];
            if let Some(record) = known.get_mut(&key) {
                let Some(w) = working.get_mut(&record.asset_id) else {
                    continue;
                };
                let changed = merge_into(w, row, location, source, registry, as_of, now);
                if changed {
                    counts.updated += 1;
                } else {
                    counts.unchanged += 1;
                }
                let given = serde_json::to_string(row).unwrap_or_else(|_| "{}".into());
                records_changed |= given != record.fields;
                record.last_seen_at = now_us;
                record.fields = given;
                touched.push(record.clone());
                continue;
            }
            match row_plan {
                RowPlan::New(id) => {
                    let asset = Asset::new(*id, row.clone(), now);
                    counts.inserted += 1;
                    if row.status == Status::Archived {
                        counts.inserted_archived += 1;
                    }
                    new_records.push(Record::new(row, *id, now_us));
                    inserts.push((asset, created_from(row, &key.0, now)));
                }
                RowPlan::LinkCreated(id) => {
                    counts.linked += 1;
                    new_records.push(Record::new(row, *id, now_us));
                }
                RowPlan::Link(id) => {
                    counts.linked += 1;
                    new_records.push(Record::new(row, *id, now_us));
                    linked_existing.push(id.to_string());
                    if let Some(w) = working.get_mut(&id.to_string()) {
                        merge_into(w, row, location, source, registry, as_of, now);
                        w.linked.push(key.0.clone());
                    }
                }
                RowPlan::Review(candidates) => {
                    counts.to_review += 1;
                    to_review.push(NewReview {
                        kind: "match",
                        row: row.clone(),
                        location: Some(location.clone()),
                        candidates: candidates.clone(),
                        asset_id: None,
                    });
                }
            }
        }
        let anything = records_changed
            || !inserts.is_empty()
            || !new_records.is_empty()
            || !to_review.is_empty();
        // An unchanged record is touched only when the import writes anyway: its
        // `last_seen_at` stays at the last import that wrote (rolled back otherwise).
        insert_assets(c, seq, &inserts)?;
        // New assets, and those an earlier batch created, carry this import's change
        // sequence already; only an existing asset gaining a record is marked.
        sources::insert_records_unmarked(c, &new_records)?;
        let linked_existing: Vec<&str> = linked_existing.iter().map(String::as_str).collect();
        sources::mark_changed(c, seq, &linked_existing)?;
        for r in &touched {
            sources::touch_record(c, r)?;
        }
        reviews::open(c, to_review)?;
        audit::record_many(
            c,
            &self.settings.author,
            "import",
            None,
            inserts.iter().map(|(a, _)| (None, a)),
        )?;
        let changed = self.write_changes(&working, &[])?;
        self.wrote |= anything || changed;
        Ok(())
    }

    /// The change sequence this import stamps on what it writes (for writers of other
    /// records than assets, such as activities).
    pub fn seq(&self) -> ChangeSeq {
        self.seq
    }

    /// The counts, for writers of other records than assets to add to.
    pub fn counts(&mut self) -> &mut ImportCounts {
        &mut self.counts
    }

    /// Says that something was written through [`Transaction::conn`]: the transaction
    /// commits (unless a dry run) instead of rolling back as unchanged.
    pub fn wrote(&mut self) {
        self.wrote = true;
    }

    /// Registers the sources of `names` not registered yet (counted as new); true when
    /// there were any.
    pub fn register(&mut self, names: &[String]) -> Result<bool, StoreError> {
        let added = sources::register_unknown(self.c, names, &self.registry)?;
        for n in &added {
            self.registry.insert(n.clone(), Source::unknown(n));
        }
        self.counts.new_sources.extend(added.iter().cloned());
        Ok(!added.is_empty())
    }

    /// Closes the complete lists of `complete` (`--snapshot`): their records the file did
    /// not name (`named` says which it did) are unlinked; an asset left with no source
    /// is archived unless a person edited it since, one still listed by another source
    /// goes to review. The records are read a page at a time.
    pub fn close(
        &mut self,
        complete: &[String],
        named: impl Fn(&(String, String)) -> bool,
    ) -> Result<(), StoreError> {
        let now = self.now;
        self.wrote |= self.register(complete)?;
        for s in complete {
            let mut after: Option<String> = None;
            loop {
                let page = sources::records_of_source_page(self.c, s, after.as_deref(), 1000)?;
                let Some(last) = page.last() else { break };
                after = Some(last.source_id.clone());
                let gone: Vec<Record> = page.into_iter().filter(|r| !named(&r.key())).collect();
                if gone.is_empty() {
                    continue;
                }
                let mut ids: Vec<String> = gone.iter().map(|r| r.asset_id.clone()).collect();
                ids.sort_unstable();
                ids.dedup();
                let mut working = load_working(self.c, &ids)?;
                let counts = &mut self.counts;
                let mut to_review: Vec<NewReview> = Vec::new();
                let mut unlinked: Vec<(String, String)> = Vec::new();
                for record in &gone {
                    counts.unlinked += 1;
                    unlinked.push(record.key());
                    let Some(w) = working.get_mut(&record.asset_id) else {
                        continue;
                    };
                    w.linked.retain(|s| s != &record.source);
                    let others = w.linked.len();
                    if w.after.fields.status == Status::Archived {
                        continue;
                    }
                    if others > 0 {
                        counts.to_review += 1;
                        to_review.push(NewReview {
                            kind: "closure",
                            row: serde_json::from_str(&record.fields)
                                .unwrap_or_else(|_| w.after.fields.clone()),
                            location: None,
                            candidates: serde_json::json!([]),
                            asset_id: Some(w.after.id),
                        });
                        continue;
                    }
                    let edited_since = w
                        .origins
                        .values()
                        .any(|o| o.by.is_some() && o.at.timestamp_micros() > record.last_seen_at);
                    if edited_since {
                        counts.kept_edited += 1;
                        continue;
                    }
                    w.after.fields.status = Status::Archived;
                    w.origins.insert(
                        "status".into(),
                        crate::domain::Origin {
                            source: Some(record.source.clone()),
                            by: None,
                            at: now,
                        },
                    );
                    w.closed_by = Some(format!("{} (no longer listed)", record.source));
                }
                self.wrote = true;
                reviews::open(self.c, to_review)?;
                self.write_changes(&working, &unlinked)?;
            }
        }
        Ok(())
    }

    /// Writes the assets of `working` whose fields changed (audited; a closure as
    /// `import.close`) and deletes the `unlinked` records; true when an asset changed.
    fn write_changes(
        &mut self,
        working: &HashMap<String, Working>,
        unlinked: &[(String, String)],
    ) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let now = self.now;
        let seq = self.seq;
        let author = &self.settings.author;
        let changed: Vec<&Working> = working
            .values()
            .filter(|w| {
                w.before
                    .as_ref()
                    .is_some_and(|b| b.fields != w.after.fields)
            })
            .collect();
        self.counts.archived += changed
            .iter()
            .filter(|w| {
                w.after.fields.status == Status::Archived
                    && w.before
                        .as_ref()
                        .is_some_and(|b| b.fields.status != Status::Archived)
            })
            .count();
        let mut updated: Vec<(Asset, Asset)> = Vec::new();
        let mut closed: Vec<(Asset, Asset, String)> = Vec::new();
        for w in &changed {
            let before = w.before.clone().expect("changed assets were loaded");
            let after = Asset {
                updated_at: now,
                version: before.version + 1,
                ..w.after.clone()
            };
            diesel::update(assets::table.find(after.id.to_string()))
                .set(AssetRow::from_asset(&after, seq))
                .execute(c)?;
            sources::set_origins(c, &after.id.to_string(), &w.origins)?;
            let closing =
                after.fields.status == Status::Archived && before.fields.status != Status::Archived;
            match (&w.closed_by, closing) {
                (Some(by), true) => closed.push((before, after, format!("closed by source {by}"))),
                _ => updated.push((before, after)),
            }
        }
        for key in unlinked {
            sources::delete_record(c, seq, key)?;
        }
        audit::record_many(
            c,
            author,
            "import",
            None,
            updated.iter().map(|(b, a)| (Some(b), a)),
        )?;
        for (before, after, reason) in &closed {
            audit::record_because(c, author, "import.close", reason, Some(before), Some(after))?;
        }
        Ok(!changed.is_empty())
    }
}

/// Merges `row` (at `location` in its file) into `w`; true when the asset's fields
/// changed.
fn merge_into(
    w: &mut Working,
    row: &AssetFields,
    location: &str,
    source: &Source,
    registry: &HashMap<String, Source>,
    as_of: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    let others: Vec<String> = w
        .linked
        .iter()
        .filter(|s| **s != source.name)
        .cloned()
        .collect();
    let ctx = MergeContext {
        source,
        sources: registry,
        linked: &others,
        as_of,
        now,
    };
    let merged = merge(&w.after, &w.origins, row, &ctx);
    if merged.archived {
        w.closed_by = Some(format!("{} ({location})", source.name));
    }
    let changed = merged.fields != w.after.fields;
    w.after.fields = merged.fields;
    w.origins = merged.origins;
    changed
}

/// The assets of `ids` with their origins and the sources linking them.
fn load_working(
    c: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, Working>, StoreError> {
    let mut origins = sources::origins_of(c, ids)?;
    let mut records = sources::records_of_assets(c, ids)?;
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<AssetRow> = assets::table
            .filter(assets::id.eq_any(chunk))
            .select(AssetRow::as_select())
            .load(c)?;
        for row in rows {
            let mut asset = row.into_asset()?;
            let id = asset.id.to_string();
            let recs = records.remove(&id).unwrap_or_default();
            asset.sources = recs
                .iter()
                .map(|r| SourceRef {
                    source: r.source.clone(),
                    source_id: r.source_id.clone(),
                })
                .collect();
            let w = Working {
                before: Some(asset.clone()),
                after: asset,
                origins: origins.remove(&id).unwrap_or_default(),
                linked: recs.into_iter().map(|r| r.source).collect(),
                closed_by: None,
            };
            out.insert(id, w);
        }
    }
    Ok(out)
}

#[derive(Insertable)]
#[diesel(table_name = assets)]
struct NewAssetRow {
    #[diesel(embed)]
    row: AssetRow,
    field_origins: String,
}

/// Inserts new assets with their origins, many rows a statement.
fn insert_assets(
    c: &mut DbConnection,
    seq: ChangeSeq,
    inserts: &[(Asset, Origins)],
) -> Result<(), StoreError> {
    // 24 columns a row: 1,000 rows stay under both backends' bind-parameter limits.
    for chunk in inserts.chunks(1000) {
        let rows: Vec<NewAssetRow> = chunk
            .iter()
            .map(|(a, o)| NewAssetRow {
                row: AssetRow::from_asset(a, seq),
                field_origins: serde_json::to_string(o).unwrap_or_else(|_| "{}".into()),
            })
            .collect();
        let insert = diesel::insert_into(assets::table).values(&rows);
        match c {
            DbConnection::Pg(pg) => insert.execute(pg)?,
            DbConnection::Sqlite(lite) => insert.execute(lite)?,
        };
    }
    Ok(())
}

/// A person's decision on a review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A match: the row is another record of this asset.
    Link(Uuid),
    /// A match: the row is a new asset.
    Create,
    /// A match: the row is ignored (it stays out until its source names it again).
    Skip,
    /// A closure: archive the asset.
    Archive,
    /// A closure: keep the asset as it is.
    Keep,
}

/// Applies `verdict` to the pending review `id` in one transaction, audited under
/// `author`; returns the review as decided. A review already decided, a verdict of the
/// wrong kind, or a record linked meanwhile is refused ([`StoreError::Invalid`]: 409).
pub fn decide(
    c: &mut DbConnection,
    id: &Uuid,
    verdict: Verdict,
    author: &str,
) -> Result<reviews::Review, StoreError> {
    c.transaction(|c| {
        let seq = super::bump_version(c)?;
        let review = reviews::get(c, id)?
            .ok_or_else(|| StoreError::NotFound(format!("no match has id {id}")))?;
        if review.status != "pending" {
            return Err(StoreError::Invalid(format!(
                "match {id} was already decided ({}) by {}",
                review.status,
                review.decided_by.as_deref().unwrap_or("?")
            )));
        }
        let kind_ok = match verdict {
            Verdict::Link(_) | Verdict::Create | Verdict::Skip => review.kind == "match",
            Verdict::Archive | Verdict::Keep => review.kind == "closure",
        };
        if !kind_ok {
            return Err(StoreError::Invalid(format!(
                "a {} review is decided with {}",
                review.kind,
                if review.kind == "match" {
                    "link, create or skip"
                } else {
                    "archive or keep"
                }
            )));
        }
        let key = (review.source.clone(), review.source_id.clone());
        if matches!(verdict, Verdict::Link(_) | Verdict::Create)
            && sources::records_by_key(c, std::slice::from_ref(&key))?.contains_key(&key)
        {
            return Err(StoreError::Invalid(format!(
                "the record {}:{} was linked meanwhile (a later import)",
                key.0, key.1
            )));
        }
        let now = super::now();
        let reason = format!("match {id} ({}:{})", key.0, key.1);
        let (status, asset_id) = match verdict {
            Verdict::Link(target) => {
                let mut working = load_working(c, &[target.to_string()])?;
                let w = working
                    .get_mut(&target.to_string())
                    .ok_or_else(|| StoreError::NotFound(format!("no asset has id {target}")))?;
                let registry = sources::registry(c)?;
                let source = registry
                    .get(&key.0)
                    .cloned()
                    .unwrap_or_else(|| Source::unknown(&key.0));
                let location = review.location.clone().unwrap_or_default();
                merge_into(w, &review.row, &location, &source, &registry, now, now);
                let before = w.before.clone().expect("loaded");
                if before.fields != w.after.fields {
                    let after = Asset {
                        updated_at: now,
                        version: before.version + 1,
                        ..w.after.clone()
                    };
                    diesel::update(assets::table.find(target.to_string()))
                        .set(AssetRow::from_asset(&after, seq))
                        .execute(c)?;
                    audit::record_because(
                        c,
                        author,
                        "match.link",
                        &reason,
                        Some(&before),
                        Some(&after),
                    )?;
                } else {
                    audit::record_because(
                        c,
                        author,
                        "match.link",
                        &reason,
                        Some(&before),
                        Some(&before),
                    )?;
                }
                sources::set_origins(c, &target.to_string(), &w.origins)?;
                sources::insert_records(
                    c,
                    seq,
                    &[Record::new(&review.row, target, now.timestamp_micros())],
                )?;
                ("linked", Some(target))
            }
            Verdict::Create => {
                let asset = Asset::new(Uuid::new_v4(), review.row.clone(), now);
                insert_assets(
                    c,
                    seq,
                    &[(asset.clone(), created_from(&review.row, &key.0, now))],
                )?;
                sources::insert_records(
                    c,
                    seq,
                    &[Record::new(&review.row, asset.id, now.timestamp_micros())],
                )?;
                audit::record_because(c, author, "match.create", &reason, None, Some(&asset))?;
                ("created", Some(asset.id))
            }
            Verdict::Archive => {
                let target = review
                    .asset_id
                    .ok_or_else(|| StoreError::Invalid("the closure names no asset".into()))?;
                super::assets::modify(c, &target, None, author, "match.archive", |old| {
                    let mut new = old.clone();
                    new.fields.status = Status::Archived;
                    Ok::<_, StoreError>(new)
                })?;
                ("archived", Some(target))
            }
            Verdict::Skip | Verdict::Keep => {
                let action = if verdict == Verdict::Skip {
                    "match.skip"
                } else {
                    "match.keep"
                };
                let detail = serde_json::json!({"match": id, "source": key.0, "source_id": key.1});
                audit::record_event(c, author, action, &detail)?;
                (
                    if verdict == Verdict::Skip {
                        "skipped"
                    } else {
                        "kept"
                    },
                    review.asset_id,
                )
            }
        };
        if !reviews::decide(c, id, status, asset_id, author)? {
            return Err(StoreError::Invalid(format!(
                "match {id} was decided meanwhile"
            )));
        }
        reviews::get(c, id)?.ok_or_else(|| StoreError::NotFound(format!("no match has id {id}")))
    })
}
