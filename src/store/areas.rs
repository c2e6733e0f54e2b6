//! Area queries: the active vintage, and its atomic replacement by an import.

use chrono::Utc;
use diesel::prelude::*;

use super::schema::{area_set, areas, data_version};
use super::{DbConnection, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::domain::area::{Domains, Measure, Supplementary, DOMAINS};
use crate::domain::{Area, AreaSetInfo};

/// A row of `areas`. The domain's [`Area`] holds the domains and supplementary indices as
/// compact [`Measure`]s; here the ranks and deciles have columns (as they always had) and the
/// rest is one JSON column, [`StoredIndices`].
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = areas)]
struct AreaRow {
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
    indices: Option<String>,
}

/// The `indices` column: the domain scores by domain name, and IDACI and IDAOPI whole.
#[derive(Default, Serialize, Deserialize)]
struct StoredIndices {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    scores: BTreeMap<String, f32>,
    #[serde(default, skip_serializing_if = "Measure::is_empty")]
    idaci: Measure,
    #[serde(default, skip_serializing_if = "Measure::is_empty")]
    idaopi: Measure,
}

impl AreaRow {
    /// The domain (rank, decile) columns in [`DOMAINS`] order.
    fn domain_columns(&mut self) -> [(&mut Option<i32>, &mut Option<i32>); 7] {
        [
            (&mut self.income_rank, &mut self.income_decile),
            (&mut self.employment_rank, &mut self.employment_decile),
            (&mut self.education_rank, &mut self.education_decile),
            (&mut self.health_rank, &mut self.health_decile),
            (&mut self.crime_rank, &mut self.crime_decile),
            (&mut self.housing_rank, &mut self.housing_decile),
            (&mut self.environment_rank, &mut self.environment_decile),
        ]
    }
}

impl From<AreaRow> for Area {
    fn from(mut r: AreaRow) -> Self {
        // A value this version cannot read counts as not imported rather than failing
        // the snapshot.
        let stored: StoredIndices = r
            .indices
            .take()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let mut domains = Domains::default();
        for ((name, m), (rank, decile)) in DOMAINS
            .iter()
            .zip(domains.all_mut())
            .zip(r.domain_columns())
        {
            *m = Measure {
                score: stored.scores.get(*name).copied(),
                ..Measure::default()
            }
            .with_rank_decile(*rank, *decile);
        }
        Area {
            code: r.code,
            name: r.name,
            la_code: r.la_code,
            la_name: r.la_name,
            nation: r.nation,
            lat: r.lat,
            lon: r.lon,
            population: r.population,
            imd_score: r.imd_score,
            imd_rank: r.imd_rank,
            imd_decile: r.imd_decile,
            domains,
            supplementary: Supplementary {
                idaci: stored.idaci,
                idaopi: stored.idaopi,
            },
            boundary: r.boundary,
        }
    }
}

impl From<&Area> for AreaRow {
    fn from(a: &Area) -> Self {
        let stored = StoredIndices {
            scores: DOMAINS
                .iter()
                .zip(a.domains.all())
                .filter_map(|(name, m)| Some((name.to_string(), m.score?)))
                .collect(),
            idaci: a.supplementary.idaci,
            idaopi: a.supplementary.idaopi,
        };
        let empty = stored.scores.is_empty() && a.supplementary.is_empty();
        let mut row = AreaRow {
            code: a.code.clone(),
            name: a.name.clone(),
            la_code: a.la_code.clone(),
            la_name: a.la_name.clone(),
            nation: a.nation.clone(),
            lat: a.lat,
            lon: a.lon,
            population: a.population,
            imd_score: a.imd_score,
            imd_rank: a.imd_rank,
            imd_decile: a.imd_decile,
            income_rank: None,
            income_decile: None,
            employment_rank: None,
            employment_decile: None,
            education_rank: None,
            education_decile: None,
            health_rank: None,
            health_decile: None,
            crime_rank: None,
            crime_decile: None,
            housing_rank: None,
            housing_decile: None,
            environment_rank: None,
            environment_decile: None,
            boundary: a.boundary.clone(),
            indices: (!empty).then(|| serde_json::to_string(&stored).unwrap_or_default()),
        };
        for (m, (rank, decile)) in a.domains.all().into_iter().zip(row.domain_columns()) {
            *rank = m.rank_i32();
            *decile = m.decile_i32();
        }
        row
    }
}

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
        // 27 columns a row: 1,000 rows stay under both backends' bind-parameter limits.
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
