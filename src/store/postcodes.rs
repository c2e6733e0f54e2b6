//! Postcode positions: added and updated by `import postcodes`, looked up by imports (all
//! of a file's at once) and by searches near a postcode (one primary-key read a request,
//! rather than 1.7 million postcodes held in every server's memory).

use diesel::prelude::*;
use std::collections::HashMap;

use super::schema::postcodes;
use super::{DbConnection, StoreError};

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = postcodes)]
struct PostcodeRow {
    postcode: String,
    lat: f64,
    lon: f64,
}

/// Rows a statement: 3 bound values each, within SQLite's 32,766 and PostgreSQL's 65,535.
const BATCH: usize = 5000;

/// Adds or updates `rows` (normalised postcode, lat, lon) in one transaction, a batch at a
/// time (no second copy of 1.7 million rows); returns how many were written. Postcodes not
/// in `rows` are kept.
pub fn upsert<'a>(
    conn: &mut DbConnection,
    rows: impl Iterator<Item = (&'a str, f64, f64)>,
) -> Result<usize, StoreError> {
    let mut rows = rows.peekable();
    conn.transaction(|c| {
        let mut written = 0;
        while rows.peek().is_some() {
            let chunk: Vec<PostcodeRow> = rows
                .by_ref()
                .take(BATCH)
                .map(|(p, lat, lon)| PostcodeRow {
                    postcode: p.to_string(),
                    lat,
                    lon,
                })
                .collect();
            let keys: Vec<&str> = chunk.iter().map(|r| r.postcode.as_str()).collect();
            diesel::delete(postcodes::table.filter(postcodes::postcode.eq_any(&keys)))
                .execute(c)?;
            let insert = diesel::insert_into(postcodes::table).values(&chunk);
            match c {
                DbConnection::Pg(pg) => insert.execute(pg)?,
                DbConnection::Sqlite(lite) => insert.execute(lite)?,
            };
            written += chunk.len();
        }
        Ok(written)
    })
}

/// The positions of the known ones of `wanted` (normalised postcodes), a few queries for
/// any number.
pub fn positions(
    conn: &mut DbConnection,
    wanted: &[String],
) -> Result<HashMap<String, (f64, f64)>, StoreError> {
    let mut found = HashMap::new();
    for chunk in wanted.chunks(BATCH) {
        let rows: Vec<PostcodeRow> = postcodes::table
            .filter(postcodes::postcode.eq_any(chunk))
            .select(PostcodeRow::as_select())
            .load(conn)?;
        found.extend(rows.into_iter().map(|r| (r.postcode, (r.lat, r.lon))));
    }
    Ok(found)
}

/// The position of one normalised postcode.
pub fn position(conn: &mut DbConnection, postcode: &str) -> Result<Option<(f64, f64)>, StoreError> {
    Ok(postcodes::table
        .find(postcode)
        .select((postcodes::lat, postcodes::lon))
        .first(conn)
        .optional()?)
}

/// Whether any postcode was imported.
pub fn any(conn: &mut DbConnection) -> Result<bool, StoreError> {
    Ok(postcodes::table
        .select(postcodes::postcode)
        .first::<String>(conn)
        .optional()?
        .is_some())
}
