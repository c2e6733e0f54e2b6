//! Accounts.

use chrono::Utc;
use diesel::prelude::*;

use diesel::connection::SimpleConnection;

use super::schema::users;
use super::{audit, DbConnection, StoreError};

#[derive(Clone, Debug, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = users)]
#[schema(example = json!({"username": "ann", "role": "editor", "active": true, "token_version": 1,
    "created_at": "2025-11-25T09:00:00Z"}))]
pub struct User {
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    /// `admin` or `editor`.
    pub role: String,
    pub active: bool,
    pub token_version: i64,
    /// Microseconds since the Unix epoch in the database; RFC 3339 (UTC) in the API.
    #[serde(serialize_with = "crate::domain::timestamp::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

pub fn find(conn: &mut DbConnection, username: &str) -> Result<Option<User>, StoreError> {
    // No username has a NUL (PostgreSQL text cannot hold one, and would fail the query).
    if username.contains('\0') {
        return Ok(None);
    }
    Ok(users::table
        .find(username)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<User>, StoreError> {
    Ok(users::table
        .select(User::as_select())
        .order(users::username)
        .load(conn)?)
}

/// Adds an account, audited as `user.create` by `by`, in one transaction; an existing
/// username is refused.
pub fn add(
    conn: &mut DbConnection,
    by: &str,
    username: &str,
    password_hash: &str,
    role: &str,
) -> Result<User, StoreError> {
    let user = User {
        username: username.to_string(),
        password_hash: password_hash.to_string(),
        role: role.to_string(),
        active: true,
        token_version: 1,
        created_at: Utc::now().timestamp_micros(),
    };
    // The INSERT first, no read before it: on SQLite a transaction that reads and then
    // writes fails at once with "database is locked" when another write committed in
    // between (the busy timeout cannot help it); one that writes first waits for the lock.
    conn.transaction(|c| {
        match diesel::insert_into(users::table).values(&user).execute(c) {
            Ok(_) => {}
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {
                return Err(StoreError::Invalid(format!(
                    "user {username:?} already exists"
                )))
            }
            Err(e) => return Err(e.into()),
        }
        audit::record_account(c, by, "user.create", username, None, Some(&user))?;
        Ok(user)
    })
}

/// Changes one account in one transaction, audited as `action` by `by`: `change` gets the
/// account as it is and the number of *other* active admins (both read under a lock that
/// every account change takes, so two concurrent changes cannot both rely on the same
/// count) and returns what the account should become, or refuses. Nothing is written or
/// audited when the account is unchanged. Returns the account and whether it changed.
pub fn modify<E: From<StoreError>>(
    conn: &mut DbConnection,
    by: &str,
    username: &str,
    action: &str,
    change: impl FnOnce(&User, i64) -> Result<User, E>,
) -> Result<(User, bool), E> {
    let mut refused: Option<E> = None;
    let result = conn.transaction(|c| {
        lock_accounts(c)?;
        let old = find(c, username)?
            .ok_or_else(|| StoreError::NotFound(format!("no user {username:?}")))?;
        let other_admins: i64 = users::table
            .filter(users::role.eq("admin"))
            .filter(users::active.eq(true))
            .filter(users::username.ne(username))
            .count()
            .get_result(c)?;
        let new = match change(&old, other_admins) {
            Ok(new) => new,
            Err(e) => {
                refused = Some(e);
                return Err(StoreError::Invalid("refused".into()));
            }
        };
        let new = User {
            username: old.username.clone(),
            created_at: old.created_at,
            ..new
        };
        if new.password_hash == old.password_hash
            && new.role == old.role
            && new.active == old.active
            && new.token_version == old.token_version
        {
            return Ok((old, false));
        }
        diesel::update(users::table.find(username))
            .set((
                users::password_hash.eq(&new.password_hash),
                users::role.eq(&new.role),
                users::active.eq(new.active),
                users::token_version.eq(new.token_version),
            ))
            .execute(c)?;
        audit::record_account(c, by, action, username, Some(&old), Some(&new))?;
        Ok((new, true))
    });
    match (result, refused) {
        (_, Some(e)) => Err(e),
        (r, None) => r.map_err(E::from),
    }
}

/// Takes the lock every account change holds until its transaction ends: a PostgreSQL
/// advisory lock; on SQLite, the database's one write lock, taken by a first write that
/// changes nothing (SQLite takes it when a writing statement starts, waiting for it up to
/// the busy timeout).
fn lock_accounts(conn: &mut DbConnection) -> Result<(), StoreError> {
    match conn {
        DbConnection::Pg(pg) => pg.batch_execute("SELECT pg_advisory_xact_lock(726102)")?,
        DbConnection::Sqlite(lite) => {
            lite.batch_execute("UPDATE users SET active = active WHERE 0 = 1")?
        }
    }
    Ok(())
}
