//! Area queries: the active vintage, and its atomic replacement by an import.

use chrono::Utc;
use diesel::prelude::*;

use super::schema::{area_set, areas, data_version};
use super::{DbConnection, StoreError};
use crate::domain::{Area, AreaSetInfo};

/// A row of `areas` and the domain's [`Area`], field for field (the domain knows no
/// diesel): the list is written once here, and the compiler checks it against both.
macro_rules! area_row {
    ($($field:ident: $ty:ty),* $(,)?) => {
        #[derive(Queryable, Selectable, Insertable)]
        #[diesel(table_name = areas)]
        struct AreaRow {
            $($field: $ty),*
        }

        impl From<AreaRow> for Area {
            fn from(r: AreaRow) -> Self {
                Area { $($field: r.$field),* }
            }
        }

        impl From<&Area> for AreaRow {
            fn from(a: &Area) -> Self {
                AreaRow { $($field: a.$field.clone()),* }
            }
        }
    };
}

area_row!(
    code: String,
    name: String,
    la_code: String,
    la_name: String,
    nation: String,
    lat: f64,
    lon: f64,
    population: Option<i64>,
    imd_score: Option<f64>,
    imd_rank: i32,
    imd_decile: i32,
    income_rank: Option<i32>,
    income_decile: Option<i32>,
    employment_rank: Option<i32>,
    employment_decile: Option<i32>,
    education_rank: Option<i32>,
    education_decile: Option<i32>,
    health_rank: Option<i32>,
    health_decile: Option<i32>,
    crime_rank: Option<i32>,
    crime_decile: Option<i32>,
    housing_rank: Option<i32>,
    housing_decile: Option<i32>,
    environment_rank: Option<i32>,
    environment_decile: Option<i32>,
    boundary: Option<String>,
);

#[derive(Queryable, Selectable)]
#[diesel(table_name = area_set)]
struct AreaSetRow {
    id: i32,
    version: i64,
    index_name: Option<String>,
    geography: Option<String>,
    imported_at: Option<i64>,
}

pub fn area_set_info(conn: &mut DbConnection) -> Result<AreaSetInfo, StoreError> {
    let r = area_set::table
        .select(AreaSetRow::as_select())
        .first(conn)?;
    Ok(AreaSetInfo {
        id: r.id,
        version: r.version,
        index_name: r.index_name,
        geography: r.geography,
        imported_at: r.imported_at,
    })
}

/// Every area of the active vintage, by code.
pub fn load_areas(conn: &mut DbConnection) -> Result<Vec<Area>, StoreError> {
    Ok(areas::table
        .select(AreaRow::as_select())
        .order(areas::code)
        .load(conn)?
        .into_iter()
        .map(Area::from)
        .collect())
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
            let chunk: Vec<AreaRow> = chunk.iter().map(AreaRow::from).collect();
            let insert = diesel::insert_into(areas::table).values(&chunk);
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
