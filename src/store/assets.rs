//! Asset queries: what the snapshot loads, and the all-or-nothing import upsert.

use diesel::prelude::*;
use std::collections::HashMap;
use uuid::Uuid;

use super::models::{AssetRow, CategoryRow};
use super::schema::{assets, categories, data_version};
use super::{audit, bump_version, consistent_read, now, DbConnection, StoreError};
use crate::domain::activity::{Activity, Term};
use crate::domain::source::{created_by, edited_by};
use crate::domain::{Area, AreaSetInfo, Asset, AssetFields, Category, SourceRef};

/// Everything the in-memory snapshot is built from, read in one consistent transaction.
pub struct SnapshotSource {
    pub version: i64,
    pub categories: Vec<Category>,
    /// The assets (published only when asked).
    pub assets: Vec<Asset>,
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

/// Reads what a snapshot is built from. Areas change rarely and are costly to parse, so
/// they are only read when their version differs from `held_area_version`.
pub fn load_snapshot_source(
    conn: &mut DbConnection,
    held_area_version: Option<i64>,
    published_only: bool,
) -> Result<SnapshotSource, StoreError> {
    consistent_read(conn, |c| {
        let version = data_version(c)?;
        let area_info = super::areas::area_set_info(c)?;
        let areas = if Some(area_info.version) == held_area_version {
            None
        } else {
            Some(super::areas::load_areas(c)?)
        };
        let categories = categories(c)?;
        let mut query = assets::table.select(AssetRow::as_select()).into_boxed();
        if published_only {
            query = query.filter(assets::status.eq("published"));
        }
        let refs = super::sources::all_refs(c)?;
        let assets = with_sources(query.load(c)?, refs)?;
        Ok(SnapshotSource {
            version,
            categories,
            assets,
            area_info,
            areas,
            activities: super::activities::all(c)?,
            terms: activity_terms(c)?,
        })
    })
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
/// [`StoreError::VersionMismatch`]. Returns the asset and whether it changed.
pub fn modify<E: From<StoreError>>(
    conn: &mut DbConnection,
    id: &Uuid,
    expected_version: Option<i64>,
    username: &str,
    action: &str,
    change: impl FnOnce(&Asset) -> Result<Asset, E>,
) -> Result<(Asset, bool), E> {
    let mut stopped: Option<Stop<E>> = None;
    // The version is bumped first even though the change may turn out to be empty: on
    // SQLite that takes the write lock at once (see `bump_version`).
    let result = conn.transaction(|c| {
        let seq = bump_version(c)?;
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
        let new = if key(&new) == key(&old) {
            new
        } else {
            super::sources::link_edited(c, seq, &new)?;
            Asset {
                sources: super::sources::refs_of(c, &id)?,
                ..new
            }
        };
        audit::record(c, username, action, Some(&old), Some(&new))?;
        Ok((new, true))
    });
    match (result, stopped) {
        (_, Some(Stop::Refused(e))) => Err(e),
        (_, Some(Stop::Unchanged(old))) => Ok((*old, false)),
        (r, None) => r.map_err(E::from),
    }
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
