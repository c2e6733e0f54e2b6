//! The audit trail: one entry per write, in the write's own transaction, so that no change
//! is ever committed without its entry.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::audit_log;
use super::{DbConnection, StoreError};
use crate::domain::{Activity, Asset};

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct Row {
    id: i64,
    at: i64,
    username: String,
    action: String,
    asset_id: Option<String>,
    before: Option<String>,
    after: Option<String>,
    account: Option<String>,
    reason: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct NewRow<'a> {
    at: i64,
    username: &'a str,
    action: &'a str,
    asset_id: Option<&'a str>,
    before: Option<String>,
    after: Option<String>,
    account: Option<&'a str>,
    reason: Option<&'a str>,
}

/// One write: who, when, which action, and the record before and after.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 42, "at": "2026-11-25T10:12:03.120Z", "username": "ann",
    "action": "update", "asset_id": "1beaf664-065e-41cd-8e44-c134d70862a0",
    "before": {"name": "Barking", "version": 1}, "after": {"name": "Barking Library", "version": 2}}))]
pub struct AuditEntry {
    /// Increasing: the order of the writes.
    pub id: i64,
    pub at: DateTime<Utc>,
    pub username: String,
    /// On assets: `create`, `update`, `patch`, `archive`, `restore`, `publish`,
    /// `unpublish`, `verify`, `import`, `import.close` (a list closed it),
    /// `approve-suggestion`, `match.link`, `match.create`, `match.archive`; on matches
    /// waiting for review: `match.skip`, `match.keep`; on sources: `source.put`; on accounts: `user.create`,
    /// `user.disable`, `user.enable`, `user.revoke-tokens`, `user.set-password`,
    /// `user.set-role`; on API keys: `api_key.issue`, `api_key.revoke`.
    pub action: String,
    pub asset_id: Option<String>,
    /// The account the entry is about (account changes only).
    pub account: Option<String>,
    /// The record as it was (null for a creation). An account never shows its password
    /// hash.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The record as it became.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// Why, where the action alone does not say: e.g. `closed by source ace-2023` for
    /// an asset a list closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<Row> for AuditEntry {
    fn from(r: Row) -> Self {
        let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        AuditEntry {
            id: r.id,
            at: DateTime::from_timestamp_micros(r.at).unwrap_or_default(),
            username: r.username,
            action: r.action,
            asset_id: r.asset_id,
            account: r.account,
            reason: r.reason,
            before: json(r.before),
            after: json(r.after),
        }
    }
}

impl<'a> NewRow<'a> {
    /// An entry by `username` for `action`, now, about nothing yet.
    fn new(username: &'a str, action: &'a str) -> Self {
        NewRow {
            at: Utc::now().timestamp_micros(),
            username,
            action,
            asset_id: None,
            before: None,
            after: None,
            account: None,
            reason: None,
        }
    }

    fn insert(self, conn: &mut DbConnection) -> Result<(), StoreError> {
        diesel::insert_into(audit_log::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }
}

/// A record as the entry keeps it.
fn json<T: Serialize>(record: Option<&T>) -> Option<String> {
    record.and_then(|r| serde_json::to_string(r).ok())
}

/// Records a write; call inside the write's transaction.
pub fn record(
    conn: &mut DbConnection,
    username: &str,
    action: &str,
    before: Option<&Asset>,
    after: Option<&Asset>,
) -> Result<(), StoreError> {
    record_why(conn, username, action, None, before, after)
}

/// Records a write to an asset with why it was made (a list's closure, a review's
/// decision).
pub fn record_because(
    conn: &mut DbConnection,
    username: &str,
    action: &str,
    reason: &str,
    before: Option<&Asset>,
    after: Option<&Asset>,
) -> Result<(), StoreError> {
    record_why(conn, username, action, Some(reason), before, after)
}

fn record_why(
    conn: &mut DbConnection,
    username: &str,
    action: &str,
    reason: Option<&str>,
    before: Option<&Asset>,
    after: Option<&Asset>,
) -> Result<(), StoreError> {
    let id = after.or(before).map(|a| a.id.to_string());
    NewRow {
        asset_id: id.as_deref(),
        before: json(before),
        after: json(after),
        reason,
        ..NewRow::new(username, action)
    }
    .insert(conn)
}

/// Records a write to an activity (`activity.create`, `activity.update`, ...): the entry's
/// `asset_id` is the venue's, so a venue's trail shows what happens there; `before` and
/// `after` carry the activity with its own id.
pub fn record_activity(
    conn: &mut DbConnection,
    username: &str,
    action: &str,
    before: Option<&Activity>,
    after: Option<&Activity>,
) -> Result<(), StoreError> {
    let venue = after.or(before).map(|a| a.fields.asset_id.to_string());
    NewRow {
        asset_id: venue.as_deref(),
        before: json(before),
        after: json(after),
        ..NewRow::new(username, action)
    }
    .insert(conn)
}

/// Records a write to something other than an asset (e.g. an API key): `detail` is kept
/// as the entry's `after`.
pub fn record_event(
    conn: &mut DbConnection,
    username: &str,
    action: &str,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    NewRow {
        after: Some(detail.to_string()),
        ..NewRow::new(username, action)
    }
    .insert(conn)
}

/// Records a change to an account (`before` and `after` as the API shows accounts: never
/// with a password hash); call inside the change's transaction.
pub fn record_account<T: Serialize>(
    conn: &mut DbConnection,
    username: &str,
    action: &str,
    account: &str,
    before: Option<&T>,
    after: Option<&T>,
) -> Result<(), StoreError> {
    NewRow {
        before: json(before),
        after: json(after),
        account: Some(account),
        ..NewRow::new(username, action)
    }
    .insert(conn)
}

/// Records many writes of one action at once (imports), each with the same `reason`;
/// call inside their transaction.
pub fn record_many<'a>(
    conn: &mut DbConnection,
    username: &str,
    action: &str,
    reason: Option<&str>,
    changes: impl Iterator<Item = (Option<&'a Asset>, &'a Asset)>,
) -> Result<(), StoreError> {
    let at = super::now().timestamp_micros();
    let ids_and_rows: Vec<(String, Option<String>, Option<String>)> = changes
        .map(|(before, after)| {
            (
                after.id.to_string(),
                before.and_then(|b| serde_json::to_string(b).ok()),
                serde_json::to_string(after).ok(),
            )
        })
        .collect();
    // 7 columns a row: 1,000 rows stay under both backends' bind-parameter limits.
    for chunk in ids_and_rows.chunks(1000) {
        let rows: Vec<NewRow> = chunk
            .iter()
            .map(|(id, before, after)| NewRow {
                at,
                username,
                action,
                asset_id: Some(id),
                before: before.clone(),
                after: after.clone(),
                account: None,
                reason,
            })
            .collect();
        let insert = diesel::insert_into(audit_log::table).values(&rows);
        match conn {
            DbConnection::Pg(pg) => insert.execute(pg)?,
            DbConnection::Sqlite(lite) => insert.execute(lite)?,
        };
    }
    Ok(())
}

/// Which entries to list, oldest first.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub asset_id: Option<String>,
    /// Entries about this account.
    pub account: Option<String>,
    /// Entries of these actions (any when empty).
    pub actions: Vec<String>,
    pub username: Option<String>,
    /// Microseconds since the epoch.
    pub since: Option<i64>,
    /// Entries after this id (the page cursor).
    pub after_id: Option<i64>,
    pub limit: i64,
}

pub fn list(conn: &mut DbConnection, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
    // No author's name has a NUL (PostgreSQL text cannot hold one, and would fail the query).
    if q.username.as_deref().is_some_and(|u| u.contains('\0')) {
        return Ok(Vec::new());
    }
    let mut query = audit_log::table.select(Row::as_select()).into_boxed();
    if let Some(a) = &q.asset_id {
        query = query.filter(audit_log::asset_id.eq(a.clone()));
    }
    if let Some(a) = &q.account {
        query = query.filter(audit_log::account.eq(a.clone()));
    }
    if !q.actions.is_empty() {
        query = query.filter(audit_log::action.eq_any(q.actions.clone()));
    }
    if let Some(u) = &q.username {
        query = query.filter(audit_log::username.eq(u.clone()));
    }
    if let Some(t) = q.since {
        query = query.filter(audit_log::at.ge(t));
    }
    if let Some(id) = q.after_id {
        query = query.filter(audit_log::id.gt(id));
    }
    let rows: Vec<Row> = query.order(audit_log::id).limit(q.limit).load(conn)?;
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}
