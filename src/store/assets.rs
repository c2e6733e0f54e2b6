//! Asset queries: what the snapshot loads, and the all-or-nothing import upsert.

use chrono::Utc;
use diesel::prelude::*;
use std::collections::HashMap;
use uuid::Uuid;

use super::models::{AssetRow, Category};
use super::schema::{assets, categories, data_version};
use super::{consistent_read, DbConnection, StoreError};
use crate::domain::{Area, AreaSetInfo, Asset, AssetFields};

/// Everything the in-memory snapshot is built from, read in one consistent transaction.
pub struct SnapshotSource {
    pub version: i64,
    pub categories: Vec<Category>,
    pub published: Vec<Asset>,
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
        .select(Category::as_select())
        .order(categories::slug)
        .load(conn)?)
}

/// Reads what a snapshot is built from. Areas change rarely and are costly to parse, so
/// they are only read when their version differs from `held_area_version`.
pub fn load_snapshot_source(
    conn: &mut DbConnection,
    held_area_version: Option<i64>,
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
        let published = assets::table
            .filter(assets::status.eq("published"))
            .select(AssetRow::as_select())
            .load(c)?
            .into_iter()
            .map(AssetRow::into_asset)
            .collect::<Result<_, _>>()?;
        Ok(SnapshotSource {
            version,
            categories,
            published,
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

/// What an import did, or would do in a dry run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Upserts validated assets by (source, source_id) in one transaction. Keys must be
/// present and unique within `rows` (the import reader checks both).
pub fn upsert_by_source(
    conn: &mut DbConnection,
    rows: Vec<AssetFields>,
    dry_run: bool,
) -> Result<ImportCounts, StoreError> {
    conn.transaction(|c| {
        if !dry_run {
            bump_version(c)?;
        }
        let mut sources: Vec<&str> = rows.iter().filter_map(|r| r.source.as_deref()).collect();
        sources.sort_unstable();
        sources.dedup();
        let mut existing: HashMap<(String, String), Asset> = HashMap::new();
        for chunk in sources.chunks(500) {
            let found: Vec<AssetRow> = assets::table
                .filter(assets::source.eq_any(chunk))
                .select(AssetRow::as_select())
                .load(c)?;
            for row in found {
                let a = row.into_asset()?;
                let key = (
                    a.fields.source.clone().unwrap_or_default(),
                    a.fields.source_id.clone().unwrap_or_default(),
                );
                existing.insert(key, a);
            }
        }

        let now = Utc::now();
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
                    updates.push(AssetRow::from_asset(&Asset {
                        fields,
                        updated_at: now,
                        version: old.version + 1,
                        ..old
                    }));
                }
                None => {
                    counts.inserted += 1;
                    inserts.push(AssetRow::from_asset(&Asset {
                        id: Uuid::new_v4(),
                        fields,
                        last_verified_at: None,
                        created_at: now,
                        updated_at: now,
                        version: 1,
                    }));
                }
            }
        }
        if dry_run {
            return Ok(counts);
        }
        // 23 columns a row: 1,000 rows stay under both backends' bind-parameter limits.
        // Multi-row INSERTs are not in MultiConnection's common subset, so the one statement
        // is dispatched to the inner connection.
        for chunk in inserts.chunks(1000) {
            let insert = diesel::insert_into(assets::table).values(chunk);
            match c {
                DbConnection::Pg(pg) => insert.execute(pg)?,
                DbConnection::Sqlite(lite) => insert.execute(lite)?,
            };
        }
        for row in &updates {
            diesel::update(assets::table.find(&row.id))
                .set(row)
                .execute(c)?;
        }
        Ok(counts)
    })
}
