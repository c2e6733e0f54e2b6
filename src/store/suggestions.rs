//! Suggestions from the public, and their approval (applied and audited in one
//! transaction) or rejection.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::schema::suggestions;
use super::{DbConnection, StoreError};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = suggestions)]
struct Row {
    id: String,
    kind: String,
    asset_id: Option<String>,
    fields: String,
    contact_email: Option<String>,
    status: String,
    created_at: i64,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    reason: Option<String>,
    activity_id: Option<String>,
}

/// A suggestion as editors see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "6f1c1f0e-9a53-4c0e-8d56-3f5b2f0f9a11", "kind": "correction",
    "asset_id": "1beaf664-065e-41cd-8e44-c134d70862a0", "fields": {"opening_hours": "Tu-Sa 10:00-17:00"},
    "contact_email": "reader@example.org", "status": "pending", "created_at": "2026-11-25T09:30:00Z",
    "decided_by": null, "decided_at": null, "reason": null}))]
pub struct Suggestion {
    pub id: Uuid,
    /// `new` or `correction` (of an asset), `new-activity` or `activity-correction`.
    pub kind: String,
    /// The asset a correction is for; the venue of a proposed or corrected activity.
    pub asset_id: Option<String>,
    /// The activity an `activity-correction` is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<String>,
    /// The proposed asset or activity (new) or the fields to change (correction, a merge
    /// patch).
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    pub contact_email: Option<String>,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

impl From<Row> for Suggestion {
    fn from(r: Row) -> Self {
        let time = |us: i64| DateTime::from_timestamp_micros(us).unwrap_or_default();
        Suggestion {
            id: Uuid::parse_str(&r.id).unwrap_or_default(),
            kind: r.kind,
            asset_id: r.asset_id,
            activity_id: r.activity_id,
            fields: serde_json::from_str(&r.fields).unwrap_or_default(),
            contact_email: r.contact_email,
            status: r.status,
            created_at: time(r.created_at),
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(time),
            reason: r.reason,
        }
    }
}

/// What a suggestion is about: the asset (a correction), or the venue and activity.
#[derive(Clone, Copy, Debug, Default)]
pub struct Target<'a> {
    pub asset_id: Option<&'a Uuid>,
    pub activity_id: Option<&'a Uuid>,
}

pub fn add(
    conn: &mut DbConnection,
    kind: &str,
    target: Target,
    fields: &serde_json::Value,
    contact_email: Option<&str>,
) -> Result<Suggestion, StoreError> {
    let row = Row {
        id: Uuid::new_v4().to_string(),
        kind: kind.to_string(),
        asset_id: target.asset_id.map(Uuid::to_string),
        fields: fields.to_string(),
        contact_email: contact_email.map(str::to_string),
        status: "pending".into(),
        created_at: super::now().timestamp_micros(),
        decided_by: None,
        decided_at: None,
        reason: None,
        activity_id: target.activity_id.map(Uuid::to_string),
    };
    diesel::insert_into(suggestions::table)
        .values(&row)
        .execute(conn)?;
    Ok(row.into())
}

pub fn get(conn: &mut DbConnection, id: &Uuid) -> Result<Option<Suggestion>, StoreError> {
    Ok(suggestions::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Suggestion::from))
}

/// Suggestions of a status, oldest first.
pub fn list(
    conn: &mut DbConnection,
    status: &str,
    limit: i64,
) -> Result<Vec<Suggestion>, StoreError> {
    let rows: Vec<Row> = suggestions::table
        .filter(suggestions::status.eq(status))
        .select(Row::as_select())
        .order((suggestions::created_at, suggestions::id))
        .limit(limit)
        .load(conn)?;
    Ok(rows.into_iter().map(Suggestion::from).collect())
}

/// Marks a pending suggestion decided; in the caller's transaction (an approval applies
/// the change in the same one). A suggestion already decided is refused.
pub fn decide(
    conn: &mut DbConnection,
    id: &Uuid,
    status: &str,
    username: &str,
    reason: Option<&str>,
) -> Result<Suggestion, StoreError> {
    let n = diesel::update(
        suggestions::table
            .find(id.to_string())
            .filter(suggestions::status.eq("pending")),
    )
    .set((
        suggestions::status.eq(status),
        suggestions::decided_by.eq(username),
        suggestions::decided_at.eq(super::now().timestamp_micros()),
        suggestions::reason.eq(reason),
    ))
    .execute(conn)?;
    let found =
        get(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("no suggestion has id {id}")))?;
    if n == 0 {
        return Err(StoreError::Invalid(format!(
            "the suggestion was already {} by {}",
            found.status,
            found.decided_by.as_deref().unwrap_or("someone")
        )));
    }
    Ok(found)
}
