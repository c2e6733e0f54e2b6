//! Accounts.

use chrono::Utc;
use diesel::prelude::*;

use super::schema::users;
use super::{DbConnection, StoreError};

#[derive(Clone, Debug, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = users)]
#[schema(example = json!({"username": "ann", "role": "editor", "active": true, "token_version": 1,
    "created_at": 1764061200000000i64}))]
pub struct User {
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    /// `admin` or `editor`.
    pub role: String,
    pub active: bool,
    pub token_version: i64,
    /// Microseconds since the Unix epoch.
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

/// Adds an account; an existing username is refused.
pub fn add(
    conn: &mut DbConnection,
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
    // One statement, no read first: on SQLite a transaction that reads and then writes
    // fails at once with "database is locked" when another write committed in between
    // (the busy timeout cannot help it); a lone INSERT waits for the lock instead.
    match diesel::insert_into(users::table)
        .values(&user)
        .execute(conn)
    {
        Ok(_) => Ok(user),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(StoreError::Invalid(format!(
            "user {username:?} already exists"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Disables an account and bumps its token version, which revokes its tokens at once.
pub fn disable(conn: &mut DbConnection, username: &str) -> Result<User, StoreError> {
    bump(conn, username, false)
}

/// Bumps an account's token version: every token issued so far stops working (e.g. one
/// was leaked); the account stays active and can log in again.
pub fn revoke_tokens(conn: &mut DbConnection, username: &str) -> Result<User, StoreError> {
    bump(conn, username, true)
}

fn bump(conn: &mut DbConnection, username: &str, active: bool) -> Result<User, StoreError> {
    let bumped = users::token_version.eq(users::token_version + 1);
    let n = if active {
        diesel::update(users::table.find(username))
            .set(bumped)
            .execute(conn)?
    } else {
        diesel::update(users::table.find(username))
            .set((users::active.eq(false), bumped))
            .execute(conn)?
    };
    if n == 0 {
        return Err(StoreError::NotFound(format!("no user {username:?}")));
    }
    find(conn, username)?.ok_or_else(|| StoreError::NotFound(format!("no user {username:?}")))
}
