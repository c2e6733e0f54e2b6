//! Accounts of admins and editors, from the admin API and the `users` command alike: the
//! rules for usernames, passwords, roles and the last admin live here once, and every
//! change is audited under the name of whoever made it (an admin, or
//! [`COMMAND_LINE`](super::imports::COMMAND_LINE)).
//!
//! Tokens: disabling an account, changing its password and changing its role bump its
//! token version, so every token issued before stops working at once (a password is
//! changed when it may have leaked; a token carries the role it was issued with).
//! Enabling an account does not bring back the tokens it had.

use crate::auth::{check_username, login, password, Role, MIN_PASSWORD_LEN};
use crate::error::{ApiError, InvalidParam};
use crate::state::AppState;
use crate::store::users::{self, User};
use crate::store::DbConnection;

fn check_password(new_password: &str) -> Result<(), InvalidParam> {
    if new_password.chars().count() < MIN_PASSWORD_LEN {
        return Err(InvalidParam {
            name: "password".into(),
            reason: format!("must be at least {MIN_PASSWORD_LEN} characters"),
        });
    }
    Ok(())
}

/// Adds an account: 422 naming the username and the password when they break the rules,
/// 409 when the name is taken.
pub fn add(
    conn: &mut DbConnection,
    by: &str,
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
    errors.extend(check_password(new_password).err());
    if !errors.is_empty() {
        return Err(ApiError::InvalidFields(errors));
    }
    let hash = password::hash(new_password).map_err(ApiError::Internal)?;
    Ok(users::add(conn, by, username, &hash, role.as_str())?)
}

/// 409 when a change would leave no active admin: someone must always be able to manage
/// the accounts through the API.
fn keep_an_admin(old: &User, new: &User, other_admins: i64) -> Result<(), ApiError> {
    let was_admin = old.active && old.role == Role::Admin.as_str();
    let is_admin = new.active && new.role == Role::Admin.as_str();
    if was_admin && !is_admin && other_admins == 0 {
        return Err(ApiError::Conflict(format!(
            "{} is the last active admin: make another account an admin first",
            old.username
        )));
    }
    Ok(())
}

/// Disables an account; its tokens stop working at once. 409 for the last active admin.
pub fn disable(conn: &mut DbConnection, by: &str, username: &str) -> Result<User, ApiError> {
    change(conn, by, username, "user.disable", |u| {
        if u.active {
            u.active = false;
            u.token_version += 1;
        }
        Ok(())
    })
}

/// Enables a disabled account (its old tokens stay revoked).
pub fn enable(conn: &mut DbConnection, by: &str, username: &str) -> Result<User, ApiError> {
    change(conn, by, username, "user.enable", |u| {
        u.active = true;
        Ok(())
    })
}

/// Revokes every token of an account issued so far; it stays active.
pub fn revoke_tokens(conn: &mut DbConnection, by: &str, username: &str) -> Result<User, ApiError> {
    change(conn, by, username, "user.revoke-tokens", |u| {
        u.token_version += 1;
        Ok(())
    })
}

/// Sets an account's password (422 when too short) and revokes its tokens.
pub fn set_password(
    conn: &mut DbConnection,
    by: &str,
    username: &str,
    new_password: &str,
) -> Result<User, ApiError> {
    check_password(new_password).map_err(|e| ApiError::InvalidFields(vec![e]))?;
    let hash = password::hash(new_password).map_err(ApiError::Internal)?;
    change(conn, by, username, "user.set-password", |u| {
        u.password_hash = hash;
        u.token_version += 1;
        Ok(())
    })
}

/// A user changes their own password, giving the current one: checked like a login (the
/// same throttle, on the hashing budget; 422 naming `current_password` when it is wrong),
/// then set and audited under their own name. Their tokens stop working, this one too.
pub async fn change_own_password(
    state: &AppState,
    client: &str,
    username: &str,
    current: String,
    new_password: String,
) -> Result<User, ApiError> {
    check_password(&new_password).map_err(|e| ApiError::InvalidFields(vec![e]))?;
    let hashing = &state.hashing;
    login::log_in(
        &state.auth,
        &state.store,
        hashing,
        client,
        username,
        current,
    )
    .await
    .map_err(|e| match e {
        ApiError::Unauthorized(_) => {
            ApiError::field("current_password", "is not this account's password")
        }
        e => e,
    })?;
    let (st, name) = (state.clone(), username.to_string());
    hashing
        .run(client, move || {
            set_password(&mut *st.store.conn()?, &name, &name, &new_password)
        })
        .await?
}

/// Sets an account's role and, when it changes, revokes its tokens. 409 when it would
/// demote the last active admin.
pub fn set_role(
    conn: &mut DbConnection,
    by: &str,
    username: &str,
    role: Role,
) -> Result<User, ApiError> {
    change(conn, by, username, "user.set-role", |u| {
        if u.role != role.as_str() {
            u.role = role.as_str().to_string();
            u.token_version += 1;
        }
        Ok(())
    })
}

/// One audited change to an account, refused when it would leave no active admin.
fn change(
    conn: &mut DbConnection,
    by: &str,
    username: &str,
    action: &str,
    edit: impl FnOnce(&mut User) -> Result<(), ApiError>,
) -> Result<User, ApiError> {
    let (user, _changed) = users::modify(conn, by, username, action, |old, other_admins| {
        let mut new = old.clone();
        edit(&mut new)?;
        keep_an_admin(old, &new, other_admins)?;
        Ok::<_, ApiError>(new)
    })?;
    Ok(user)
}
