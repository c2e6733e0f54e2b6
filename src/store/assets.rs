//! Asset queries: what the snapshot loads, and the all-or-nothing import upsert.

use diesel::prelude::*;
use std::collections::HashMap;
use uuid::Uuid;

use super::models::{AssetRow, CategoryRow};
use super::schema::{assets, categories, data_version};
use super::{audit, consistent_read, now, DbConnection, StoreError};
use crate::domain::{Area, AreaSetInfo, Asset, AssetFields, Category};

/// Everything the in-memory snapshot is built from, read in one consistent transaction.
pub struct SnapshotSource {
    pub version: i64,
    pub categories: Vec<Category>,
    /// Published assets (every asset for the admin snapshot).
    pub assets: Vec<Asset>,
    pub area_info: AreaSetInfo,
    /// The areas, unless the caller already holds this area version.
    pub areas: Option<Vec<Area>>,
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
        let assets = query
            .load(c)?
            .into_iter()
            .map(AssetRow::into_asset)
            .collect::<Result<_, _>>()?;
        Ok(SnapshotSource {
            version,
            categories,
            assets,
            area_info,
            areas,
        })
    })
}

/// Marks the data as changed, so every instance rebuilds its snapshot. Called first in
/// every write transaction: on SQLite a write as the first statement takes the write lock
/// at once, so concurrent writers queue on the busy timeout instead of failing.
fn bump_version(conn: &mut DbConnection) -> Result<(), StoreError> {
    diesel::update(data_version::table)
        .set(data_version::version.eq(data_version::version + 1))
        .execute(conn)?;
    Ok(())
}

/// The stored assets that have the source keys of `rows`, by (source, source_id).
pub fn by_source_key(
    conn: &mut DbConnection,
    rows: &[AssetFields],
) -> Result<HashMap<(String, String), Asset>, StoreError> {
    let mut sources: Vec<&str> = rows.iter().filter_map(|r| r.source.as_deref()).collect();
    sources.sort_unstable();
    sources.dedup();
    let mut existing = HashMap::new();
    for chunk in sources.chunks(500) {
        let found: Vec<AssetRow> = assets::table
            .filter(assets::source.eq_any(chunk))
            .select(AssetRow::as_select())
            .load(conn)?;
        for row in found {
            let a = row.into_asset()?;
            let key = (
                a.fields.source.clone().unwrap_or_default(),
                a.fields.source_id.clone().unwrap_or_default(),
            );
            existing.insert(key, a);
        }
    }
    Ok(existing)
}

/// What an import did, or would do in a dry run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Upserts validated assets by (source, source_id) in one transaction. Keys must be
/// present and unique within `rows` (the import reader checks both).
/// Every insert and update is audited under `username` with the action `import`.
pub fn upsert_by_source(
    conn: &mut DbConnection,
    rows: Vec<AssetFields>,
    dry_run: bool,
    username: &str,
) -> Result<ImportCounts, StoreError> {
    // Set when nothing is to be written: the transaction is then rolled back, so that a
    // re-import of unchanged rows leaves the data version (and every snapshot) alone.
    let mut nothing_to_write: Option<ImportCounts> = None;
    let result = conn.transaction(|c| {
        if !dry_run {
            bump_version(c)?;
        }
        let mut existing = by_source_key(c, &rows)?;

        let now = now();
        let mut counts = ImportCounts::default();
        let mut inserts = Vec::new();
        let mut updates = Vec::new();
        for fields in rows {
            let key = (
                fields.source.clone().unwrap_or_default(),
                fields.source_id.clone().unwrap_or_default(),
            );
            match existing.remove(&key) {
                Some(old) if old.fields == fields => counts.unchanged += 1,
                Some(old) => {
                    counts.updated += 1;
                    let new = Asset {
                        fields,
                        updated_at: now,
                        version: old.version + 1,
                        ..old.clone()
                    };
                    updates.push((old, new));
                }
                None => {
                    counts.inserted += 1;
                    inserts.push(Asset {
                        id: Uuid::new_v4(),
                        fields,
                        last_verified_at: None,
                        created_at: now,
                        updated_at: now,
                        version: 1,
                    });
                }
            }
        }
        if dry_run {
            return Ok(counts);
        }
        if inserts.is_empty() && updates.is_empty() {
            nothing_to_write = Some(counts);
            return Err(StoreError::Invalid("nothing to write".into()));
        }
        // 23 columns a row: 1,000 rows stay under both backends' bind-parameter limits.
        // Multi-row INSERTs are not in MultiConnection's common subset, so the one statement
        // is dispatched to the inner connection.
        for chunk in inserts.chunks(1000) {
            let rows: Vec<AssetRow> = chunk.iter().map(AssetRow::from_asset).collect();
            let insert = diesel::insert_into(assets::table).values(&rows);
            match c {
                DbConnection::Pg(pg) => insert.execute(pg)?,
                DbConnection::Sqlite(lite) => insert.execute(lite)?,
            };
        }
        for (_, new) in &updates {
            diesel::update(assets::table.find(new.id.to_string()))
                .set(AssetRow::from_asset(new))
                .execute(c)?;
        }
        let changes = inserts
            .iter()
            .map(|a| (None, a))
            .chain(updates.iter().map(|(old, new)| (Some(old), new)));
        audit::record_many(c, username, "import", changes)?;
        Ok(counts)
    });
    match nothing_to_write {
        Some(counts) => Ok(counts),
        None => result,
    }
}

pub fn get(conn: &mut DbConnection, id: &Uuid) -> Result<Option<Asset>, StoreError> {
    assets::table
        .find(id.to_string())
        .select(AssetRow::as_select())
        .first(conn)
        .optional()?
        .map(AssetRow::into_asset)
        .transpose()
}

/// Creates an asset (new id, version 1) with its audit entry.
pub fn create(
    conn: &mut DbConnection,
    fields: AssetFields,
    username: &str,
    action: &str,
) -> Result<Asset, StoreError> {
    conn.transaction(|c| {
        bump_version(c)?;
        let now = now();
        let asset = Asset {
            id: Uuid::new_v4(),
            fields,
            last_verified_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        diesel::insert_into(assets::table)
            .values(AssetRow::from_asset(&asset))
            .execute(c)?;
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
        bump_version(c)?;
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
        .set(AssetRow::from_asset(&new))
        .execute(c)?;
        if n == 0 {
            return Err(StoreError::VersionMismatch {
                current: old.version + 1,
            });
        }
        audit::record(c, username, action, Some(&old), Some(&new))?;
        Ok((new, true))
    });
    match (result, stopped) {
        (_, Some(Stop::Refused(e))) => Err(e),
        (_, Some(Stop::Unchanged(old))) => Ok((*old, false)),
        (r, None) => r.map_err(E::from),
    }
}

/// Every asset, any status, by id (the export).
pub fn all(conn: &mut DbConnection) -> Result<Vec<Asset>, StoreError> {
    assets::table
        .select(AssetRow::as_select())
        .order(assets::id)
        .load(conn)?
        .into_iter()
        .map(AssetRow::into_asset)
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
