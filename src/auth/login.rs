//! Logging in: the throttle first (the attempt counted before its password is checked),
//! then the password check on the hashing budget, then one structured log line.
//!
//! What is logged: the client address, and the username only once it is known to be an
//! account's (so a password typed into the username field is never written down). A name
//! that is not a valid username is neither kept nor logged; only its length is. Every
//! logged username has passed [`super::check_username`], so no log line can be forged
//! through it in either log format.

use std::sync::Arc;

use crate::budget::{Budget, Refused};
use crate::error::ApiError;
use crate::store::users::{self, User};
use crate::store::Store;

use super::{check_username, password, Auth};

/// The answer to every failed login, whatever the reason, so that it tells nothing about
/// which usernames exist.
fn wrong() -> ApiError {
    ApiError::Unauthorized("wrong username or password, or the account is disabled".into())
}

/// The account `username` logs in to with `password`, from `client` (an address). 429
/// when the throttle holds the client back, 503 (or 429) when the hashing budget is full,
/// 401 for anything else that is not a success.
pub async fn log_in(
    auth: &Auth,
    store: &Store,
    hashing: &Arc<Budget>,
    client: &str,
    username: &str,
    password: String,
) -> Result<User, ApiError> {
    let valid = check_username(username).is_ok();
    let attempt = auth
        .logins
        .begin(valid.then_some(username), client)
        .map_err(|wait| {
            tracing::info!(client, "login refused: too many failed attempts");
            ApiError::TooManyRequests {
                retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
                message: "too many failed logins: try again later".into(),
            }
        })?;
    if !valid {
        attempt.failed();
        tracing::info!(
            client,
            username_bytes = username.len(),
            "failed login: not a valid username"
        );
        return Err(wrong());
    }
    let st = store.clone();
    let name = username.to_string();
    // Unsettled on `?` (busy, or the database down): the attempt is taken back.
    let (exists, user) = hashing
        .run(client, move || {
            let user = users::find(&mut *st.conn()?, &name)?;
            // Verify against a decoy when there is no such user, so timing tells nothing.
            let hash = user
                .as_ref()
                .map_or(password::decoy(), |u| u.password_hash.as_str());
            let ok = password::verify(&password, hash);
            Ok::<_, ApiError>((user.is_some(), user.filter(|u| ok && u.active)))
        })
        .await
        .map_err(|refused| match refused {
            Refused::Busy { retry_after_s } => ApiError::Busy {
                retry_after_s,
                message: "too many logins are being checked; try again after Retry-After seconds"
                    .into(),
            },
            other => other.into(),
        })??;
    match user {
        Some(user) => {
            attempt.succeeded();
            tracing::info!(username = %user.username, client, "login succeeded");
            Ok(user)
        }
        None => {
            attempt.failed();
            if exists {
                tracing::info!(username, client, "failed login");
            } else {
                tracing::info!(client, "failed login: no such account");
            }
            Err(wrong())
        }
    }
}
