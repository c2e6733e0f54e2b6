//! Asset queries: what the snapshot loads, and the all-or-nothing import upsert.

use diesel::prelude::*;
use std::collections::HashMap;
use uuid::Uuid;

use super::models::{AssetRow, CategoryRow};
use super::schema::{assets, categories, data_version, source_records};
use super::{audit, bump_version, consistent_read, now, ChangeSeq, DbConnection, StoreError};
use crate::domain::activity::{Activity, Term};
use crate::domain::source::{created_by, edited_by};
use crate::domain::{Area, AreaSetInfo, Asset, AssetFields, Category, SourceRef};

/// Everything the in-memory snapshot is built from but the assets, read in the transaction
/// that then reads the assets ([`scan`]).
pub struct SnapshotSource {
    pub version: i64,
    pub categories: Vec<Category>,
    pub area_info: AreaSetInfo,
    /// The areas, unless the caller already holds this area version.
    pub areas: Option<Vec<Area>>,
    /// The activities at the venues (every status), and their curated vocabularies.
    pub activities: Vec<Activity>,
    pub terms: ActivityTerms,
}

/// The activity kinds and the audiences (a change is a rebuild, like the categories).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityTerms {
    pub kinds: Vec<Term>,
    pub audiences: Vec<Term>,
}

fn activity_terms(conn: &mut DbConnection) -> Result<ActivityTerms, StoreError> {
    Ok(ActivityTerms {
        kinds: super::activities::kinds(conn)?,
        audiences: super::activities::audiences(conn)?,
    })
}

pub fn data_version(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(data_version::table
        .select(data_version::version)
        .first(conn)?)
}

pub fn categories(conn: &mut DbConnection) -> Result<Vec<Category>, StoreError> {
    Ok(categories::table
        .select(CategoryRow::as_select())
        .order(categories::slug)
        .load(conn)?
        .into_iter()
        .map(Category::from)
        .collect())
}

/// Reads what a snapshot is built from, but the assets: call in a consistent read
/// ([`consistent_read`]) and read the assets with [`scan`] in the same one. Areas change
/// rarely and are costly to parse, so they are only read when their version differs from
/// `held_area_version`.
pub fn load_snapshot_source(
    conn: &mut DbConnection,
    held_area_version: Option<i64>,
) -> Result<SnapshotSource, StoreError> {
    let version = data_version(conn)?;
    let area_info = super::areas::area_set_info(conn)?;
    let areas = if Some(area_info.version) == held_area_version {
        None
    } else {
        Some(super::areas::load_areas(conn)?)
    };
    Ok(SnapshotSource {
        version,
        categories: categories(conn)?,
        area_info,
        areas,
        activities: super::activities::all(conn)?,
        terms: activity_terms(conn)?,
    })
}

/// Assets a page of [`scan`] reads: enough that the three queries a page cost little, few
/// enough that a page's records stay in the reading thread's cache.
const SCAN_PAGE: i64 = 2048;

/// How many assets there are, and the ids that cut them into `parts` ranges of about
/// the same size, in the database's order of ids (for [`scan`] on as many connections).
pub fn split_ids(conn: &mut DbConnection, parts: usize) -> Result<(i64, Vec<String>), StoreError> {
    let count: i64 = assets::table.count().get_result(conn)?;
    let mut cuts = Vec::new();
    for k in 1..parts as i64 {
        let cut: Option<String> = assets::table
            .select(assets::id)
            .order(assets::id)
            .offset(count * k / parts as i64)
            .limit(1)
            .first(conn)
            .optional()?;
        // Equal cuts (few assets) would make an empty range: harmless, but skipped.
        if let Some(cut) = cut.filter(|c| cuts.last() != Some(c)) {
            cuts.push(cut);
        }
    }
    Ok((count, cuts))
}

/// Every asset (any status) whose id is at least `from` and below `to` (the database's
/// order, bounds absent: unbounded), with its source records, handed to `each` in the
/// order of ids. Read in pages of [`SCAN_PAGE`] ids, each page's records first, then its
/// rows one at a time: a million assets cost no map of a million records and no million
/// intermediate values. What a row allocates is freed before the next is read, on the
/// same thread, so glibc reuses the same few chunks (a page of rows held at once would
/// leave thousands of freed chunks that it consolidates each time its heap grows). Call
/// in a consistent read, after [`load_snapshot_source`].
pub fn scan(
    conn: &mut DbConnection,
    from: Option<&str>,
    to: Option<&str>,
    mut each: impl FnMut(Asset),
) -> Result<(), StoreError> {
    use diesel::connection::DefaultLoadingMode as Rows;
    let mut records = PageRecords::default();
    // The page's range: above `after` (or from `from`), up to `until` (or below `to`).
    let mut after: Option<String> = None;
    loop {
        let mut ends = assets::table
            .select(assets::id)
            .order(assets::id)
            .offset(SCAN_PAGE - 1)
            .limit(1)
            .into_boxed();
        ends = match (&after, from) {
            (Some(last), _) => ends.filter(assets::id.gt(last.clone())),
            (None, Some(from)) => ends.filter(assets::id.ge(from.to_string())),
            (None, None) => ends,
        };
        if let Some(to) = to {
            ends = ends.filter(assets::id.lt(to.to_string()));
        }
        let until: Option<String> = ends.first(conn).optional()?;
        // The records of the page's assets, ordered by source and source id within an
        // asset, as an asset lists them.
        let mut query = source_records::table
            .select((
                source_records::asset_id,
                source_records::source,
                source_records::source_id,
            ))
            .order((
                source_records::asset_id,
                source_records::source,
                source_records::source_id,
            ))
            .into_boxed();
        let mut rows = assets::table
            .select(AssetRow::as_select())
            .order(assets::id)
            .into_boxed();
        match (&after, from) {
            (Some(last), _) => {
                query = query.filter(source_records::asset_id.gt(last.clone()));
                rows = rows.filter(assets::id.gt(last.clone()));
            }
            (None, Some(from)) => {
                query = query.filter(source_records::asset_id.ge(from.to_string()));
                rows = rows.filter(assets::id.ge(from.to_string()));
            }
            (None, None) => {}
        }
        match (&until, to) {
            (Some(until), _) => {
                query = query.filter(source_records::asset_id.le(until.clone()));
                rows = rows.filter(assets::id.le(until.clone()));
            }
            (None, Some(to)) => {
                query = query.filter(source_records::asset_id.lt(to.to_string()));
                rows = rows.filter(assets::id.lt(to.to_string()));
            }
            (None, None) => {}
        }
        records.clear();
        for record in query.load_iter::<(String, String, String), Rows>(conn)? {
            let (asset_id, source, source_id) = record?;
            records.push(&asset_id, &source, &source_id);
        }
        records.sort();
        let mut cursor = RecordCursor::default();
        for row in rows.load_iter::<AssetRow, Rows>(conn)? {
            let row = row?;
            let sources = records.of(&row.id, &mut cursor);
            each(Asset {
                sources,
                ..row.into_asset()?
            });
        }
        match until {
            Some(until) => after = Some(until),
            None => return Ok(()),
        }
    }
}

/// A page's source records in one buffer, reused from page to page: each record its asset
/// id, source and source id as ranges of `text`, in the database's order, then (a stable
/// sort) by asset id in the order of bytes, so that a row finds its records whatever the
/// database's collation.
#[derive(Default)]
struct PageRecords {
    text: String,
    spans: Vec<[u32; 4]>,
}

/// Where the next row's records may start (rows usually come in the order of bytes).
#[derive(Default)]
struct RecordCursor(usize);

impl PageRecords {
    fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
    }

    fn push(&mut self, asset_id: &str, source: &str, source_id: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(asset_id);
        self.text.push_str(source);
        self.text.push_str(source_id);
        let (a, s) = (asset_id.len() as u32, source.len() as u32);
        self.spans
            .push([start, start + a, start + a + s, self.text.len() as u32]);
    }

    fn asset(&self, i: usize) -> &str {
        let [a, s, ..] = self.spans[i];
        &self.text[a as usize..s as usize]
    }

    fn sort(&mut self) {
        let text = &self.text;
        let key = |s: &[u32; 4]| &text[s[0] as usize..s[1] as usize];
        if !self.spans.is_sorted_by(|a, b| key(a) <= key(b)) {
            self.spans.sort_by(|a, b| key(a).cmp(key(b)));
        }
    }

    /// The records of asset `id`.
    fn of(&self, id: &str, cursor: &mut RecordCursor) -> Vec<SourceRef> {
        let n = self.spans.len();
        let mut i = cursor.0;
        // Not after the last row's: found again.
        if i > 0 && self.asset(i - 1) >= id {
            let (mut lo, mut hi) = (0, n);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if self.asset(mid) < id {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            i = lo;
        }
        while i < n && self.asset(i) < id {
            i += 1;
        }
        let mut out = Vec::new();
        while i < n && self.asset(i) == id {
            let [_, s, r, e] = self.spans[i];
            out.push(SourceRef {
                source: self.text[s as usize..r as usize].to_string(),
                source_id: self.text[r as usize..e as usize].to_string(),
            });
            i += 1;
        }
        cursor.0 = i;
        out
    }
}

/// What changed since a snapshot's version, read in one consistent transaction.
pub enum Changes {
    /// The database is at the version the caller holds.
    None,
    /// The database moved back in time (a restore), the areas or categories changed, or
    /// more rows changed than `max`: the caller rebuilds from everything.
    Rebuild,
    /// The assets (any status, with their source records) and the activities written
    /// since, and the tag of the version they bring the caller to
    /// ([`super::version_tag`]).
    Delta {
        version: i64,
        tag: Option<i64>,
        assets: Vec<Asset>,
        activities: Vec<Activity>,
    },
}

/// The assets and activities written after version `since` (`change_seq > since`, on an
/// index), with the version they bring the caller to; [`Changes::Rebuild`] when a delta
/// cannot say what changed (the areas, categories, activity kinds or audiences changed)
/// or would cost more than a rebuild (more than `max` rows of either).
pub fn changes_since(
    conn: &mut DbConnection,
    since: i64,
    held_area_version: i64,
    held_categories: &[Category],
    held_terms: (&[Term], &[Term]),
    held_tag: Option<i64>,
    max: usize,
) -> Result<Changes, StoreError> {
    consistent_read(conn, |c| {
        let version = data_version(c)?;
        // Another history (a restore, then writes): the same version, another tag.
        let other_history = held_tag.is_some() && super::version_tag(c, since)? != held_tag;
        if version == since && !other_history {
            return Ok(Changes::None);
        }
        if version < since
            || other_history
            || super::areas::area_set_info(c)?.version != held_area_version
            || categories(c)? != held_categories
            || super::activities::kinds(c)? != held_terms.0
            || super::activities::audiences(c)? != held_terms.1
        {
            return Ok(Changes::Rebuild);
        }
        // Ordered and limited, so that the index answers whatever the planner's statistics
        // say (right after a large import PostgreSQL may have none, and would scan the table
        // to count).
        let rows: Vec<AssetRow> = assets::table
            .filter(assets::change_seq.gt(since))
            .order(assets::change_seq)
            .limit(max as i64 + 1)
            .select(AssetRow::as_select())
            .load(c)?;
        if rows.len() > max {
            return Ok(Changes::Rebuild);
        }
        let Some(activities) = super::activities::changed_since(c, since, max)? else {
            return Ok(Changes::Rebuild);
        };
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut refs: HashMap<String, Vec<SourceRef>> = HashMap::new();
        for (id, records) in super::sources::records_of_assets(c, &ids)? {
            refs.insert(
                id,
                records
                    .into_iter()
                    .map(|r| SourceRef {
                        source: r.source,
                        source_id: r.source_id,
                    })
                    .collect(),
            );
        }
        Ok(Changes::Delta {
            version,
            tag: super::version_tag(c, version)?,
            assets: with_sources(rows, refs)?,
            activities,
        })
    })
}

/// One asset with its source records.
pub fn get(conn: &mut DbConnection, id: &Uuid) -> Result<Option<Asset>, StoreError> {
    let Some(row) = assets::table
        .find(id.to_string())
        .select(AssetRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let mut asset = row.into_asset()?;
    asset.sources = super::sources::refs_of(conn, &asset.id.to_string())?;
    Ok(Some(asset))
}

/// Creates an asset (new id, version 1) with its audit entry.
pub fn create(
    conn: &mut DbConnection,
    fields: AssetFields,
    username: &str,
    action: &str,
) -> Result<Asset, StoreError> {
    conn.transaction(|c| {
        let seq = bump_version(c)?;
        let now = now();
        let asset = Asset::new(Uuid::new_v4(), fields, now);
        diesel::insert_into(assets::table)
            .values(AssetRow::from_asset(&asset, seq))
            .execute(c)?;
        let origins = created_by(&asset.fields, username, now);
        super::sources::set_origins(c, &asset.id.to_string(), &origins)?;
        super::sources::link_edited(c, seq, &asset)?;
        let asset = Asset {
            sources: super::sources::refs_of(c, &asset.id.to_string())?,
            ..asset
        };
        audit::record(c, username, action, None, Some(&asset))?;
        Ok(asset)
    })
}

/// Why [`modify`] rolled its transaction back without a database error.
enum Stop<E> {
    /// `change` refused the change.
    Refused(E),
    /// The change changes nothing.
    Unchanged(Box<Asset>),
}

/// Changes one asset in one transaction: `change` gets the current asset and returns what
/// it should become. When that is the asset as it is, nothing is written: the transaction
/// is rolled back, so the data version, the asset's version and the audit trail stay as
/// they were (no instance rebuilds for nothing). Otherwise the version goes up, and the
/// write is conditional on the version read, so two concurrent writers can never both
/// win. With `expected_version` (from `If-Match`), another version is a
/// [`StoreError::VersionMismatch`]. Returns the asset and what the write changed.
pub fn modify<E: From<StoreError>>(
    conn: &mut DbConnection,
    id: &Uuid,
    expected_version: Option<i64>,
    username: &str,
    action: &str,
    change: impl FnOnce(&Asset) -> Result<Asset, E>,
) -> Result<(Asset, Written), E> {
    let mut stopped: Option<Stop<E>> = None;
    let result = conn.transaction(|c| {
        // On SQLite the version is bumped first even though the change may turn out to be
        // empty: that takes the write lock at once (see `bump_version`). On PostgreSQL
        // after the reads, so that concurrent writes wait on the version row only for
        // their writes; the update is conditional on the version read anyway.
        let early = match c {
            DbConnection::Sqlite(_) => Some(bump_version(c)?),
            DbConnection::Pg(_) => None,
        };
        let old =
            get(c, id)?.ok_or_else(|| StoreError::NotFound(format!("no asset has id {id}")))?;
        if expected_version.is_some_and(|v| v != old.version) {
            return Err(StoreError::VersionMismatch {
                current: old.version,
            });
        }
        let new = match change(&old) {
            Ok(new) => new,
            Err(e) => {
                stopped = Some(Stop::Refused(e));
                return Err(StoreError::Invalid("refused".into()));
            }
        };
        if new.fields == old.fields && new.last_verified_at == old.last_verified_at {
            stopped = Some(Stop::Unchanged(Box::new(old)));
            return Err(StoreError::Invalid("unchanged".into()));
        }
        let seq = match early {
            Some(seq) => seq,
            None => bump_version(c)?,
        };
        let new = Asset {
            id: old.id,
            created_at: old.created_at,
            updated_at: now(),
            version: old.version + 1,
            ..new
        };
        let n = diesel::update(
            assets::table
                .find(id.to_string())
                .filter(assets::version.eq(old.version)),
        )
        .set(AssetRow::from_asset(&new, seq))
        .execute(c)?;
        if n == 0 {
            return Err(StoreError::VersionMismatch {
                current: old.version + 1,
            });
        }
        let id = new.id.to_string();
        let mut origins = super::sources::origins_of(c, std::slice::from_ref(&id))?
            .remove(&id)
            .unwrap_or_default();
        edited_by(
            &mut origins,
            &old.fields,
            &new.fields,
            username,
            new.updated_at,
        );
        super::sources::set_origins(c, &id, &origins)?;
        let key = |a: &Asset| (a.fields.source.clone(), a.fields.source_id.clone());
        let (new, written) = if key(&new) == key(&old) {
            let after = super::version_tag(c, seq.version() - 1)?;
            (new, Written::Only { seq, after })
        } else {
            super::sources::link_edited(c, seq, &new)?;
            let sources = super::sources::refs_of(c, &id)?;
            (Asset { sources, ..new }, Written::More)
        };
        audit::record(c, username, action, Some(&old), Some(&new))?;
        Ok((new, written))
    });
    match (result, stopped) {
        (_, Some(Stop::Refused(e))) => Err(e),
        (_, Some(Stop::Unchanged(old))) => Ok((*old, Written::Nothing)),
        (r, None) => r.map_err(E::from),
    }
}

/// What a write of one asset changed, so that the writer's own snapshot can take it
/// without reading it back (see `AppState::applied`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// Nothing: the transaction was rolled back.
    Nothing,
    /// The asset returned, and nothing else, at version `seq`, which came right after
    /// the version of tag `after`.
    Only { seq: ChangeSeq, after: Option<i64> },
    /// The asset returned and others too (source records moved between assets).
    More,
}

/// Every asset, any status, by id, with its source records (the export).
pub fn all(conn: &mut DbConnection) -> Result<Vec<Asset>, StoreError> {
    let refs = super::sources::all_refs(conn)?;
    let rows = assets::table
        .select(AssetRow::as_select())
        .order(assets::id)
        .load(conn)?;
    with_sources(rows, refs)
}

/// Rows as assets, each with its source records from `refs` (by asset id).
fn with_sources(
    rows: Vec<AssetRow>,
    mut refs: HashMap<String, Vec<SourceRef>>,
) -> Result<Vec<Asset>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let sources = refs.remove(&row.id).unwrap_or_default();
            Ok(Asset {
                sources,
                ..row.into_asset()?
            })
        })
        .collect()
}

/// Published assets not verified since `before` (microseconds), never-verified ones
/// first, then the longest unverified; a page of them and how many there are.
pub fn stale(
    conn: &mut DbConnection,
    before: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Asset>, i64), StoreError> {
    let filtered = || {
        assets::table
            .filter(assets::status.eq("published"))
            .filter(
                assets::last_verified_at
                    .is_null()
                    .or(assets::last_verified_at.lt(before)),
            )
            .into_boxed()
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<AssetRow> = filtered()
        .select(AssetRow::as_select())
        .order((
            assets::last_verified_at.is_not_null(),
            assets::last_verified_at,
            assets::id,
        ))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(AssetRow::into_asset)
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}
