//! API keys for third-party apps: issued (shown once, stored hashed) and revoked by
//! admins, audited, and working (or refused) on this instance at once.

use crate::error::{ApiError, InvalidParam};
use crate::state::AppState;
use crate::store::api_keys::{self, ApiKey};

/// Issues a key named `name` (1 to 200 characters) with its own rate limit (1 to
/// 1,000,000 a minute; the default per-key limit when `None`). Returns the record and
/// the key itself.
pub fn issue(
    state: &AppState,
    admin: &str,
    name: &str,
    rate_limit_per_minute: Option<i64>,
) -> Result<(ApiKey, String), ApiError> {
    let name = name.trim();
    let mut errors = Vec::new();
    if !(1..=200).contains(&name.chars().count()) || name.chars().any(char::is_control) {
        errors.push(InvalidParam {
            name: "name".into(),
            reason: "must be 1 to 200 characters, none of them control characters".into(),
        });
    }
    let limit = match rate_limit_per_minute {
        None => None,
        Some(n @ 1..=1_000_000) => Some(n as i32),
        Some(_) => {
            errors.push(InvalidParam {
                name: "rate_limit_per_minute".into(),
                reason: "must be a whole number from 1 to 1000000".into(),
            });
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::InvalidFields(errors));
    }
    let mut conn = state.store.conn()?;
    let issued = api_keys::issue(&mut conn, name, limit, admin)?;
    state.auth.api_keys.reload(&mut conn)?;
    Ok(issued)
}

/// Revokes a key: refused at once here, and by other instances within their refresh
/// interval.
pub fn revoke(state: &AppState, admin: &str, id: &str) -> Result<ApiKey, ApiError> {
    let mut conn = state.store.conn()?;
    let key = api_keys::revoke(&mut conn, id, admin)?;
    state.auth.api_keys.reload(&mut conn)?;
    Ok(key)
}

/// Every key, newest first, with this instance's latest usage counted in.
pub fn list(state: &AppState) -> Result<Vec<ApiKey>, ApiError> {
    let mut conn = state.store.conn()?;
    state.auth.api_keys.flush(&mut conn)?;
    Ok(api_keys::list(&mut conn)?)
}
