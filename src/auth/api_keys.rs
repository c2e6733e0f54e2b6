//! The API keys this instance accepts, and the requests made with each since the last
//! flush. Reloaded from the database every refresh interval (so a key revoked on another
//! instance stops working here within that time) and at once after a change made here.

use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::store::{api_keys, DbConnection, StoreError};

/// A working key: its id and its own limit, if it has one.
#[derive(Clone, Debug)]
pub struct KeyGrant {
    pub id: String,
    pub limit_per_minute: Option<u32>,
}

#[derive(Default)]
pub struct ApiKeys {
    by_hash: ArcSwap<HashMap<String, KeyGrant>>,
    /// Key id → (requests, last use in microseconds) not yet added to the database.
    usage: Mutex<HashMap<String, (i64, i64)>>,
}

impl ApiKeys {
    /// The key's grant, counting the request, or `None` for an unknown or revoked key.
    pub fn check(&self, presented: &str) -> Option<KeyGrant> {
        if !presented.starts_with(api_keys::KEY_PREFIX) {
            return None;
        }
        let grant = self
            .by_hash
            .load()
            .get(&api_keys::hash(presented))
            .cloned()?;
        let now = chrono::Utc::now().timestamp_micros();
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        let entry = usage.entry(grant.id.clone()).or_default();
        *entry = (entry.0 + 1, now);
        Some(grant)
    }

    /// Reloads the working keys from the database.
    pub fn reload(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        let keys = api_keys::active(conn)?
            .into_iter()
            .map(|(id, hash, limit)| {
                let limit_per_minute = limit.and_then(|l| u32::try_from(l).ok());
                (
                    hash,
                    KeyGrant {
                        id,
                        limit_per_minute,
                    },
                )
            })
            .collect();
        self.by_hash.store(Arc::new(keys));
        Ok(())
    }

    /// Adds the counted requests to the database; kept for next time if it fails.
    pub fn flush(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        let taken = std::mem::take(&mut *self.usage.lock().unwrap_or_else(|e| e.into_inner()));
        if taken.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = taken
            .iter()
            .map(|(id, &(n, at))| (id.clone(), n, at))
            .collect();
        api_keys::add_usage(conn, &rows).inspect_err(|_| {
            let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
            for (id, (n, at)) in taken {
                let entry = usage.entry(id).or_default();
                *entry = (entry.0 + n, entry.1.max(at));
            }
        })
    }
}
