//! Area queries: the active vintage, and its atomic replacement by an import.

use chrono::Utc;
use diesel::prelude::*;

use super::schema::{area_set, areas, data_version};
use super::{DbConnection, StoreError};
use crate::domain::{Area, AreaSetInfo};

pub fn area_set_info(conn: &mut DbConnection) -> Result<AreaSetInfo, StoreError> {
    Ok(area_set::table
        .select(AreaSetInfo::as_select())
        .first(conn)?)
}

/// Every area of the active vintage, by code.
pub fn load_areas(conn: &mut DbConnection) -> Result<Vec<Area>, StoreError> {
    Ok(areas::table
        .select(Area::as_select())
        .order(areas::code)
        .load(conn)?)
}

/// Replaces the whole area set in one transaction: readers see the old vintage or the
/// new one, never a mix. Returns the new set's description.
pub fn replace_areas(
    conn: &mut DbConnection,
    rows: &[Area],
    index_name: &str,
    geography: &str,
) -> Result<AreaSetInfo, StoreError> {
    conn.transaction(|c| {
        // First statement a write: SQLite takes the write lock at once (see assets).
        diesel::update(data_version::table)
            .set(data_version::version.eq(data_version::version + 1))
            .execute(c)?;
        diesel::delete(areas::table).execute(c)?;
        // 26 columns a row: 1,000 rows stay under both backends' bind-parameter limits.
        for chunk in rows.chunks(1000) {
            let insert = diesel::insert_into(areas::table).values(chunk);
            match c {
                DbConnection::Pg(pg) => insert.execute(pg)?,
                DbConnection::Sqlite(lite) => insert.execute(lite)?,
            };
        }
        diesel::update(area_set::table)
            .set((
                area_set::version.eq(area_set::version + 1),
                area_set::index_name.eq(index_name),
                area_set::geography.eq(geography),
                area_set::imported_at.eq(Utc::now().timestamp_micros()),
            ))
            .execute(c)?;
        area_set_info(c)
    })
}
