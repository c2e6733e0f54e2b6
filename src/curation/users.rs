//! Accounts of admins and editors, from the admin API and the `users` command alike: the
//! rules for usernames and passwords live here once.

use crate::auth::{password, Role, MIN_PASSWORD_LEN};
use crate::error::{ApiError, InvalidParam};
use crate::store::users::{self, User};
use crate::store::DbConnection;

/// Usernames: short, and safe to show in logs and the audit trail.
pub fn check_username(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    ok.then_some(())
        .ok_or_else(|| "must be 1 to 64 letters, digits, '.', '_' or '-'".into())
}

/// Adds an account: 422 naming the username and the password when they break the rules.
pub fn add(
    conn: &mut DbConnection,
    username: &str,
    new_password: &str,
    role: Role,
) -> Result<User, ApiError> {
    let mut errors = Vec::new();
    if let Err(reason) = check_username(username) {
        errors.push(InvalidParam {
            name: "username".into(),
            reason,
        });
    }
    if new_password.chars().count() < MIN_PASSWORD_LEN {
        errors.push(InvalidParam {
            name: "password".into(),
            reason: format!("must be at least {MIN_PASSWORD_LEN} characters"),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidFields(errors));
    }
    let hash = password::hash(new_password).map_err(ApiError::Internal)?;
    Ok(users::add(conn, username, &hash, role.as_str())?)
}

/// Disables an account; its tokens stop working at once.
pub fn disable(conn: &mut DbConnection, username: &str) -> Result<User, ApiError> {
    Ok(users::disable(conn, username)?)
}

/// Revokes every token of an account issued so far; it stays active.
pub fn revoke_tokens(conn: &mut DbConnection, username: &str) -> Result<User, ApiError> {
    Ok(users::revoke_tokens(conn, username)?)
}
