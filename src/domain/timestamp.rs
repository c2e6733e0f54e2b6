//! Timestamps stored as microseconds since the Unix epoch (BIGINT in both backends) and
//! written in the API as RFC 3339 in UTC, the same text as the assets' `DateTime<Utc>`
//! (e.g. `2026-11-24T11:29:21.013411Z`).

use chrono::{DateTime, SecondsFormat};
use serde::Serializer;

/// RFC 3339 text of a microsecond timestamp; out of chrono's range (never written by this
/// service) it stays a number rather than failing the response.
pub fn rfc3339<S: Serializer>(micros: &i64, s: S) -> Result<S::Ok, S::Error> {
    match DateTime::from_timestamp_micros(*micros) {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        None => s.serialize_i64(*micros),
    }
}

/// [`rfc3339`] for an optional timestamp: null when absent.
pub fn rfc3339_opt<S: Serializer>(micros: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match micros {
        Some(m) => rfc3339(m, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize)]
    struct T {
        #[serde(serialize_with = "super::rfc3339")]
        at: i64,
        #[serde(serialize_with = "super::rfc3339_opt")]
        last: Option<i64>,
    }

    #[test]
    fn micros_become_rfc3339_utc() {
        let t = T {
            at: 1_764_061_200_000_000,
            last: Some(1_764_064_800_123_456),
        };
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"at":"2025-11-25T09:00:00Z","last":"2025-11-25T10:00:00.123456Z"}"#
        );
        let none = T { at: 0, last: None };
        assert_eq!(
            serde_json::to_string(&none).unwrap(),
            r#"{"at":"1970-01-01T00:00:00Z","last":null}"#
        );
    }
}
