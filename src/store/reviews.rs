//! Matches waiting for a person: rows an import could not link or create alone, and
//! assets a complete list dropped while another source still lists them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::schema::match_reviews;
use super::{DbConnection, StoreError};
use crate::domain::AssetFields;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = match_reviews)]
struct Row {
    id: String,
    kind: String,
    source: String,
    source_id: String,
    row_fields: String,
    location: Option<String>,
    candidates: String,
    asset_id: Option<String>,
    status: String,
    created_at: i64,
    decided_by: Option<String>,
    decided_at: Option<i64>,
}

/// A match waiting for (or decided by) a person.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "5d0c7f0e-8a55-4b3c-9a51-0d1b2c3d4e5f", "kind": "match",
    "source": "ace-libraries-2023", "source_id": "417", "location": "line 418",
    "row": {"name": "Wiltons Music Hall", "category": "theatre", "lat": 51.5107, "lon": -0.0685},
    "candidates": [{"asset_id": "1beaf664-065e-41cd-8e44-c134d70862a0", "row": null,
        "name": "Wilton's Music Hall", "category": "theatre", "distance_m": 180.2, "score": 0.62,
        "reasons": ["names equal after normalisation", "180 m apart", "no postcode to compare"]}],
    "asset_id": null, "status": "pending", "created_at": "2026-11-30T10:00:00Z",
    "decided_by": null, "decided_at": null}))]
pub struct Review {
    pub id: Uuid,
    /// `match`: a row of an import; `closure`: an asset that a complete list (`snapshot`)
    /// no longer names while another source still does.
    pub kind: String,
    pub source: String,
    pub source_id: String,
    /// Where the row was in its file.
    pub location: Option<String>,
    /// The row's fields (a match), or what the source last gave (a closure).
    pub row: AssetFields,
    /// The assets it may be, best first, with their scores and the reasons.
    #[schema(value_type = Vec<Object>)]
    pub candidates: serde_json::Value,
    /// The asset a closure is about, or that a decision linked or created.
    pub asset_id: Option<Uuid>,
    /// `pending`, then `linked`, `created` or `skipped` (a match), `archived` or `kept`
    /// (a closure).
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl Row {
    fn into_review(self) -> Result<Review, StoreError> {
        let bad = |what: &str| StoreError::Invalid(format!("match {}: bad {what}", self.id));
        Ok(Review {
            id: Uuid::parse_str(&self.id).map_err(|_| bad("id"))?,
            row: serde_json::from_str(&self.row_fields).map_err(|_| bad("row"))?,
            candidates: serde_json::from_str(&self.candidates).map_err(|_| bad("candidates"))?,
            asset_id: self
                .asset_id
                .as_deref()
                .and_then(|s| Uuid::parse_str(s).ok()),
            created_at: DateTime::from_timestamp_micros(self.created_at).unwrap_or_default(),
            decided_at: self.decided_at.and_then(DateTime::from_timestamp_micros),
            kind: self.kind,
            source: self.source,
            source_id: self.source_id,
            location: self.location,
            status: self.status,
            decided_by: self.decided_by,
        })
    }
}

/// A review to open (or to refresh, when the same record is already pending).
pub struct NewReview {
    pub kind: &'static str,
    pub row: AssetFields,
    pub location: Option<String>,
    pub candidates: serde_json::Value,
    pub asset_id: Option<Uuid>,
}

/// Opens reviews, in the import's transaction. A record already pending is refreshed (a
/// re-import of the same file adds nothing to the queue).
pub fn open(conn: &mut DbConnection, reviews: Vec<NewReview>) -> Result<(), StoreError> {
    let now = super::now().timestamp_micros();
    for r in reviews {
        let source = r.row.source.clone().unwrap_or_default();
        let source_id = r.row.source_id.clone().unwrap_or_default();
        let row_fields = serde_json::to_string(&r.row).unwrap_or_else(|_| "{}".into());
        let candidates = r.candidates.to_string();
        let pending = match_reviews::table
            .filter(match_reviews::source.eq(&source))
            .filter(match_reviews::source_id.eq(&source_id))
            .filter(match_reviews::kind.eq(r.kind))
            .filter(match_reviews::status.eq("pending"));
        let updated = diesel::update(pending)
            .set((
                match_reviews::row_fields.eq(&row_fields),
                match_reviews::location.eq(&r.location),
                match_reviews::candidates.eq(&candidates),
                match_reviews::asset_id.eq(r.asset_id.map(|i| i.to_string())),
            ))
            .execute(conn)?;
        if updated == 0 {
            let row = Row {
                id: Uuid::new_v4().to_string(),
                kind: r.kind.into(),
                source,
                source_id,
                row_fields,
                location: r.location,
                candidates,
                asset_id: r.asset_id.map(|i| i.to_string()),
                status: "pending".into(),
                created_at: now,
                decided_by: None,
                decided_at: None,
            };
            diesel::insert_into(match_reviews::table)
                .values(row)
                .execute(conn)?;
        }
    }
    Ok(())
}

/// A page of reviews with a status (any when `None`), oldest first, and how many there are.
pub fn list(
    conn: &mut DbConnection,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Review>, i64), StoreError> {
    let filtered = || {
        let mut q = match_reviews::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(match_reviews::status.eq(s.to_string()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<Row> = filtered()
        .select(Row::as_select())
        .order((match_reviews::created_at, match_reviews::id))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(Row::into_review)
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}

pub fn get(conn: &mut DbConnection, id: &Uuid) -> Result<Option<Review>, StoreError> {
    match_reviews::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Row::into_review)
        .transpose()
}

/// Records a decision on a pending review; false when it was no longer pending (someone
/// decided it meanwhile).
pub fn decide(
    conn: &mut DbConnection,
    id: &Uuid,
    status: &str,
    asset_id: Option<Uuid>,
    by: &str,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        match_reviews::table
            .find(id.to_string())
            .filter(match_reviews::status.eq("pending")),
    )
    .set((
        match_reviews::status.eq(status),
        match_reviews::asset_id.eq(asset_id.map(|i| i.to_string())),
        match_reviews::decided_by.eq(by),
        match_reviews::decided_at.eq(super::now().timestamp_micros()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
