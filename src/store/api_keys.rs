//! Keys for third-party apps: issued and revoked by admins, stored as SHA-256 hashes.

use base64::Engine;
use chrono::Utc;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::api_keys;
use super::{audit, DbConnection, StoreError};

/// What every key starts with, so a leaked one is easy to recognise (e.g. by secret scanners).
pub const KEY_PREFIX: &str = "cak_";

/// A key as listed to admins: never the key itself, nor its hash.
#[derive(Clone, Debug, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = api_keys)]
#[schema(example = json!({"id": "0b9f…", "name": "Link-worker app (Leeds)", "prefix": "cak_Qm3xT0aZ",
    "rate_limit_per_minute": null, "created_by": "ann", "created_at": "2025-11-25T09:00:00Z",
    "revoked_at": null, "request_count": 1520, "last_used_at": "2025-11-25T10:00:00.123456Z"}))]
pub struct ApiKey {
    pub id: String,
    /// Who the key is for.
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    #[serde(skip)]
    pub hash: String,
    /// Requests a minute for this key; null means the server's default for keys.
    pub rate_limit_per_minute: Option<i32>,
    pub created_by: String,
    /// Microseconds since the Unix epoch in the database; RFC 3339 (UTC) in the API, like
    /// the other timestamps.
    #[serde(serialize_with = "crate::domain::timestamp::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    #[serde(serialize_with = "crate::domain::timestamp::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<i64>,
    /// Requests made with the key (counted by each instance, added every refresh interval).
    pub request_count: i64,
    #[serde(serialize_with = "crate::domain::timestamp::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<i64>,
}

/// The SHA-256 of a presented key, hex: how keys are stored and looked up.
pub fn hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Issues a key; returns it with the secret, which is never stored and can't be shown again.
pub fn issue(
    conn: &mut DbConnection,
    name: &str,
    rate_limit_per_minute: Option<i32>,
    created_by: &str,
) -> Result<(ApiKey, String), StoreError> {
    // 244 random bits from two v4 UUIDs (the OS's random source).
    let mut random = [0u8; 32];
    random[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    random[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let secret = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    );
    let key = ApiKey {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_string(),
        prefix: secret[..KEY_PREFIX.len() + 8].to_string(),
        hash: hash(&secret),
        rate_limit_per_minute,
        created_by: created_by.to_string(),
        created_at: Utc::now().timestamp_micros(),
        revoked_at: None,
        request_count: 0,
        last_used_at: None,
    };
    conn.transaction(|c| {
        diesel::insert_into(api_keys::table)
            .values(&key)
            .execute(c)?;
        audit::record_event(c, created_by, "api_key.issue", &serde_json::json!(key))?;
        Ok((key, secret))
    })
}

/// Revokes a key at once; revoking a revoked key is a no-op that answers the key.
pub fn revoke(conn: &mut DbConnection, id: &str, by: &str) -> Result<ApiKey, StoreError> {
    conn.transaction(|c| {
        let n = diesel::update(
            api_keys::table
                .find(id)
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(Utc::now().timestamp_micros()))
        .execute(c)?;
        let key = api_keys::table
            .find(id)
            .select(ApiKey::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no API key {id}")))?;
        if n > 0 {
            audit::record_event(c, by, "api_key.revoke", &serde_json::json!(key))?;
        }
        Ok(key)
    })
}

/// Every key, newest first.
pub fn list(conn: &mut DbConnection) -> Result<Vec<ApiKey>, StoreError> {
    Ok(api_keys::table
        .select(ApiKey::as_select())
        .order((api_keys::created_at.desc(), api_keys::id))
        .load(conn)?)
}

/// The keys that work: (id, hash, limit per minute).
pub fn active(conn: &mut DbConnection) -> Result<Vec<(String, String, Option<i32>)>, StoreError> {
    Ok(api_keys::table
        .filter(api_keys::revoked_at.is_null())
        .select((
            api_keys::id,
            api_keys::hash,
            api_keys::rate_limit_per_minute,
        ))
        .load(conn)?)
}

/// Adds counted requests: (key id, requests, last use in microseconds), in one transaction.
pub fn add_usage(conn: &mut DbConnection, usage: &[(String, i64, i64)]) -> Result<(), StoreError> {
    conn.transaction(|c| {
        for (id, n, last) in usage {
            diesel::update(api_keys::table.find(id))
                .set((
                    api_keys::request_count.eq(api_keys::request_count + n),
                    api_keys::last_used_at.eq(last),
                ))
                .execute(c)?;
        }
        Ok(())
    })
}
