//! Activity queries: the curated vocabularies, what the snapshot loads, and the
//! conditional writes (each with its audit entry and change sequence).

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{activities, activity_kinds, audiences};
use super::{audit, bump_version, now, ChangeSeq, DbConnection, StoreError};
use crate::domain::activity::{Activity, ActivityFields, Term};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = activities)]
struct Row {
    id: String,
    asset_id: String,
    kind: String,
    status: String,
    source: Option<String>,
    source_id: Option<String>,
    data: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
    change_seq: i64,
}

impl Row {
    fn new(a: &Activity, seq: ChangeSeq) -> Result<Self, StoreError> {
        Ok(Row {
            id: a.id.to_string(),
            asset_id: a.fields.asset_id.to_string(),
            kind: a.fields.kind.clone(),
            status: a.fields.status.as_str().to_string(),
            source: a.fields.source.clone(),
            source_id: a.fields.source_id.clone(),
            data: serde_json::to_string(&a.fields)
                .map_err(|e| StoreError::Invalid(format!("activity {}: {e}", a.id)))?,
            created_at: a.created_at.timestamp_micros(),
            updated_at: a.updated_at.timestamp_micros(),
            version: a.version,
            change_seq: seq.0,
        })
    }

    fn into_activity(self) -> Result<Activity, StoreError> {
        let bad = |what: &str| StoreError::Invalid(format!("activity {}: bad {what}", self.id));
        let fields: ActivityFields = serde_json::from_str(&self.data).map_err(|_| bad("data"))?;
        let time =
            |micros| chrono::DateTime::from_timestamp_micros(micros).ok_or_else(|| bad("time"));
        Ok(Activity {
            id: Uuid::parse_str(&self.id).map_err(|_| bad("id"))?,
            fields,
            created_at: time(self.created_at)?,
            updated_at: time(self.updated_at)?,
            version: self.version,
        })
    }
}

/// The activity kinds (`GET /v1/activity-kinds`), by slug.
pub fn kinds(conn: &mut DbConnection) -> Result<Vec<Term>, StoreError> {
    Ok(activity_kinds::table
        .select((
            activity_kinds::slug,
            activity_kinds::label,
            activity_kinds::description,
        ))
        .order(activity_kinds::slug)
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(Term::from)
        .collect())
}

/// The audiences (`GET /v1/audiences`), by slug.
pub fn audiences(conn: &mut DbConnection) -> Result<Vec<Term>, StoreError> {
    Ok(audiences::table
        .select((audiences::slug, audiences::label, audiences::description))
        .order(audiences::slug)
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(Term::from)
        .collect())
}

/// Adds an activity kind or an audience (`which` = `kind` or `audience`), or relabels an
/// existing one; audited. Slugs are never removed: activities refer to them.
pub fn put_term(
    conn: &mut DbConnection,
    which: TermList,
    term: &Term,
    username: &str,
) -> Result<(), StoreError> {
    conn.transaction(|c| {
        bump_version(c)?;
        let values = (
            term.slug.as_str(),
            term.label.as_str(),
            term.description.as_str(),
        );
        match which {
            TermList::Kinds => {
                let n = diesel::update(activity_kinds::table.find(values.0))
                    .set((
                        activity_kinds::label.eq(values.1),
                        activity_kinds::description.eq(values.2),
                    ))
                    .execute(c)?;
                if n == 0 {
                    diesel::insert_into(activity_kinds::table)
                        .values((
                            activity_kinds::slug.eq(values.0),
                            activity_kinds::label.eq(values.1),
                            activity_kinds::description.eq(values.2),
                        ))
                        .execute(c)?;
                }
            }
            TermList::Audiences => {
                let n = diesel::update(audiences::table.find(values.0))
                    .set((
                        audiences::label.eq(values.1),
                        audiences::description.eq(values.2),
                    ))
                    .execute(c)?;
                if n == 0 {
                    diesel::insert_into(audiences::table)
                        .values((
                            audiences::slug.eq(values.0),
                            audiences::label.eq(values.1),
                            audiences::description.eq(values.2),
                        ))
                        .execute(c)?;
                }
            }
        }
        let detail = serde_json::json!({ "list": which.as_str(), "term": term });
        audit::record_event(c, username, "activity.term.put", &detail)
    })
}

/// The two curated lists of slugs an activity uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermList {
    Kinds,
    Audiences,
}

impl TermList {
    pub fn as_str(self) -> &'static str {
        match self {
            TermList::Kinds => "activity-kinds",
            TermList::Audiences => "audiences",
        }
    }
}

/// Every activity, any status (the snapshot filters by status, as for assets).
pub fn all(conn: &mut DbConnection) -> Result<Vec<Activity>, StoreError> {
    activities::table
        .select(Row::as_select())
        .order(activities::id)
        .load(conn)?
        .into_iter()
        .map(Row::into_activity)
        .collect()
}

/// The activities written after version `since` (`change_seq > since`), ordered and
/// limited like [`super::assets::changes_since`]; `None` when more than `max` changed
/// (the caller rebuilds). Call inside the same consistent read as the asset delta.
pub fn changed_since(
    conn: &mut DbConnection,
    since: i64,
    max: usize,
) -> Result<Option<Vec<Activity>>, StoreError> {
    let rows: Vec<Row> = activities::table
        .filter(activities::change_seq.gt(since))
        .order(activities::change_seq)
        .limit(max as i64 + 1)
        .select(Row::as_select())
        .load(conn)?;
    if rows.len() > max {
        return Ok(None);
    }
    rows.into_iter()
        .map(Row::into_activity)
        .collect::<Result<_, _>>()
        .map(Some)
}

/// One activity.
pub fn get(conn: &mut DbConnection, id: &Uuid) -> Result<Option<Activity>, StoreError> {
    activities::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Row::into_activity)
        .transpose()
}

/// The activity a source's record became, if any (re-imports update by this key).
pub fn by_source_key(
    conn: &mut DbConnection,
    source: &str,
    source_id: &str,
) -> Result<Option<Activity>, StoreError> {
    activities::table
        .filter(activities::source.eq(source))
        .filter(activities::source_id.eq(source_id))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Row::into_activity)
        .transpose()
}

/// Activities of any status for the admin list, by id: optionally of one venue and of
/// some statuses, after the id `after` (keyset paging); with how many match in all.
pub fn list(
    conn: &mut DbConnection,
    asset_id: Option<&Uuid>,
    statuses: &[&str],
    after: Option<&Uuid>,
    limit: i64,
) -> Result<(Vec<Activity>, i64), StoreError> {
    let filtered = || {
        let mut q = activities::table.into_boxed();
        if let Some(a) = asset_id {
            q = q.filter(activities::asset_id.eq(a.to_string()));
        }
        if !statuses.is_empty() {
            q = q.filter(activities::status.eq_any(statuses.to_vec()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let mut q = filtered();
    if let Some(after) = after {
        q = q.filter(activities::id.gt(after.to_string()));
    }
    let items = q
        .order(activities::id)
        .limit(limit)
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Row::into_activity)
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}

/// Whether the venue exists (any status): an activity must belong to one.
pub fn venue_exists(conn: &mut DbConnection, asset_id: &Uuid) -> Result<bool, StoreError> {
    use super::schema::assets;
    Ok(assets::table
        .find(asset_id.to_string())
        .select(assets::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// Inserts a new activity (version 1) inside the caller's transaction, with its audit
/// entry. For writes of many rows (imports) that bump the version once.
pub fn insert(
    conn: &mut DbConnection,
    seq: ChangeSeq,
    activity: &Activity,
    username: &str,
    action: &str,
) -> Result<(), StoreError> {
    if !venue_exists(conn, &activity.fields.asset_id)? {
        return Err(StoreError::NotFound(format!(
            "no asset has id {} (asset_id)",
            activity.fields.asset_id
        )));
    }
    diesel::insert_into(activities::table)
        .values(Row::new(activity, seq)?)
        .execute(conn)?;
    audit::record_activity(conn, username, action, None, Some(activity))
}

/// Creates an activity (new id, version 1) with its audit entry, in one transaction.
pub fn create(
    conn: &mut DbConnection,
    fields: ActivityFields,
    username: &str,
    action: &str,
) -> Result<Activity, StoreError> {
    conn.transaction(|c| {
        let seq = bump_version(c)?;
        let activity = Activity::new(Uuid::new_v4(), fields, now());
        insert(c, seq, &activity, username, action)?;
        Ok(activity)
    })
}

/// Writes `new` over the activity at `old.version` inside the caller's transaction
/// (conditional on that version, so two writers can never both win), with its audit
/// entry. Returns the activity as written (version + 1). Nothing is written when the
/// fields are unchanged.
pub fn update(
    conn: &mut DbConnection,
    seq: ChangeSeq,
    old: &Activity,
    fields: ActivityFields,
    username: &str,
    action: &str,
) -> Result<Activity, StoreError> {
    if fields == old.fields {
        return Ok(old.clone());
    }
    if fields.asset_id != old.fields.asset_id && !venue_exists(conn, &fields.asset_id)? {
        return Err(StoreError::NotFound(format!(
            "no asset has id {} (asset_id)",
            fields.asset_id
        )));
    }
    let new = Activity {
        id: old.id,
        fields,
        created_at: old.created_at,
        updated_at: now(),
        version: old.version + 1,
    };
    let n = diesel::update(
        activities::table
            .find(old.id.to_string())
            .filter(activities::version.eq(old.version)),
    )
    .set(Row::new(&new, seq)?)
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::VersionMismatch {
            current: old.version + 1,
        });
    }
    audit::record_activity(conn, username, action, Some(old), Some(&new))?;
    Ok(new)
}

/// Changes one activity in one transaction: `change` gets the current activity and
/// returns its new fields. With `expected_version` (from `If-Match`), another version is
/// a [`StoreError::VersionMismatch`]. When nothing changes, nothing is written (the data
/// version does not move). Returns the activity and whether it changed.
pub fn modify<E: From<StoreError>>(
    conn: &mut DbConnection,
    id: &Uuid,
    expected_version: Option<i64>,
    username: &str,
    action: &str,
    change: impl FnOnce(&Activity) -> Result<ActivityFields, E>,
) -> Result<(Activity, bool), E> {
    let mut refused: Option<E> = None;
    let mut unchanged: Option<Activity> = None;
    let result = conn.transaction(|c| {
        let seq = bump_version(c)?;
        let old =
            get(c, id)?.ok_or_else(|| StoreError::NotFound(format!("no activity has id {id}")))?;
        if expected_version.is_some_and(|v| v != old.version) {
            return Err(StoreError::VersionMismatch {
                current: old.version,
            });
        }
        let fields = match change(&old) {
            Ok(f) => f,
            Err(e) => {
                refused = Some(e);
                return Err(StoreError::Invalid("refused".into()));
            }
        };
        if fields == old.fields {
            // Roll back: the version bump would make every instance refresh for nothing.
            unchanged = Some(old);
            return Err(StoreError::Invalid("unchanged".into()));
        }
        update(c, seq, &old, fields, username, action).map(|a| (a, true))
    });
    match (result, refused, unchanged) {
        (_, Some(e), _) => Err(e),
        (_, None, Some(old)) => Ok((old, false)),
        (r, None, None) => r.map_err(E::from),
    }
}
