//! Rows as stored, and their conversion to and from domain values.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{assets, categories};
use super::StoreError;
use crate::domain::{Asset, AssetFields, Category, Cost, LocationPrecision, Status, Wheelchair};

#[derive(Clone, Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = assets)]
#[diesel(treat_none_as_null = true)]
pub struct AssetRow {
    pub id: String,
    pub name: String,
    pub category: String,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
    pub town: Option<String>,
    pub postcode: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub description: Option<String>,
    pub opening_hours: Option<String>,
    pub wheelchair: String,
    pub cost: String,
    pub tags: String,
    pub source: Option<String>,
    pub source_id: Option<String>,
    pub status: String,
    pub last_verified_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    pub location_precision: String,
    /// The data version of the write that last wrote the row (see `store::ChangeSeq`).
    pub change_seq: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = categories)]
pub struct CategoryRow {
    pub slug: String,
    pub label: String,
    pub description: String,
}

impl From<CategoryRow> for Category {
    fn from(r: CategoryRow) -> Self {
        Category {
            slug: r.slug,
            label: r.label,
            description: r.description,
        }
    }
}

fn micros_to_time(us: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| StoreError::Invalid(format!("bad timestamp {us}")))
}

impl AssetRow {
    /// The row of `a`, as written by the write that bumped the data version to `seq`.
    pub fn from_asset(a: &Asset, seq: super::ChangeSeq) -> Self {
        let f = &a.fields;
        AssetRow {
            id: a.id.to_string(),
            name: f.name.clone(),
            category: f.category.clone(),
            lat: f.lat,
            lon: f.lon,
            address: f.address.clone(),
            town: f.town.clone(),
            postcode: f.postcode.clone(),
            website: f.website.clone(),
            phone: f.phone.clone(),
            email: f.email.clone(),
            description: f.description.clone(),
            opening_hours: f.opening_hours.clone(),
            wheelchair: f.wheelchair.as_str().into(),
            cost: f.cost.as_str().into(),
            tags: serde_json::to_string(&f.tags).unwrap_or_else(|_| "[]".into()),
            source: f.source.clone(),
            source_id: f.source_id.clone(),
            status: f.status.as_str().into(),
            last_verified_at: a.last_verified_at.map(|t| t.timestamp_micros()),
            created_at: a.created_at.timestamp_micros(),
            updated_at: a.updated_at.timestamp_micros(),
            version: a.version,
            location_precision: f.location_precision.as_str().into(),
            change_seq: seq.0,
        }
    }

    /// Rows were validated when written; a row that no longer parses means the database
    /// was edited by hand, and is reported rather than served wrong.
    pub fn into_asset(self) -> Result<Asset, StoreError> {
        let bad = |what: &str, v: &str| {
            StoreError::Invalid(format!("asset {}: bad {what} {v:?}", self.id))
        };
        Ok(Asset {
            id: Uuid::parse_str(&self.id).map_err(|_| bad("id", &self.id))?,
            fields: AssetFields {
                wheelchair: Wheelchair::parse(&self.wheelchair)
                    .ok_or_else(|| bad("wheelchair", &self.wheelchair))?,
                cost: Cost::parse(&self.cost).ok_or_else(|| bad("cost", &self.cost))?,
                status: Status::parse(&self.status).ok_or_else(|| bad("status", &self.status))?,
                location_precision: LocationPrecision::parse(&self.location_precision)
                    .ok_or_else(|| bad("location_precision", &self.location_precision))?,
                tags: serde_json::from_str(&self.tags).map_err(|_| bad("tags", &self.tags))?,
                name: self.name,
                category: self.category,
                lat: self.lat,
                lon: self.lon,
                address: self.address,
                town: self.town,
                postcode: self.postcode,
                website: self.website,
                phone: self.phone,
                email: self.email,
                description: self.description,
                opening_hours: self.opening_hours,
                source: self.source,
                source_id: self.source_id,
            },
            last_verified_at: self.last_verified_at.map(micros_to_time).transpose()?,
            created_at: micros_to_time(self.created_at)?,
            updated_at: micros_to_time(self.updated_at)?,
            version: self.version,
            sources: Vec::new(),
        })
    }
}
