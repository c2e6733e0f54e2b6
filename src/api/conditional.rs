//! Conditional requests, in one place: ETags and `Last-Modified` on reads, answered 304
//! when the client's copy is current (`If-None-Match`, else `If-Modified-Since`, as RFC
//! 9110 orders them); `If-Match` on writes, so that an edit never overwrites another one
//! unseen (412 when stale, 428 when required and missing).

use actix_web::http::header::{self, HttpDate};
use actix_web::HttpRequest;
use std::time::SystemTime;

use crate::error::ApiError;

/// The strong ETag of a record: its version, which every update increments.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// An HTTP date in whole seconds, so that `If-Modified-Since` compares exactly.
pub fn http_date(t: chrono::DateTime<chrono::Utc>) -> HttpDate {
    HttpDate::from(
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(t.timestamp().max(0) as u64),
    )
}

/// Whether the client's copy (by `If-None-Match`, else `If-Modified-Since`) is current.
pub fn is_fresh(req: &HttpRequest, etag: &str, last_modified: Option<HttpDate>) -> bool {
    let headers = req.headers();
    match headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(v) => v.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
        }),
        None => last_modified.is_some_and(|modified| {
            headers
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<HttpDate>().ok())
                .is_some_and(|since| SystemTime::from(since) >= SystemTime::from(modified))
        }),
    }
}

/// The version `If-Match` asks for: `None` for `*` or no header, unless `required`: then
/// both are a 428, since `*` ("whatever is there") would let a change overwrite another
/// one unseen, which is what the requirement is for. A value that is not an ETag at all is
/// a 400; one that names another version is compared by the write (412).
pub fn if_match(req: &HttpRequest, required: bool) -> Result<Option<i64>, ApiError> {
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return if required {
            Err(ApiError::PreconditionRequired(
                "If-Match with the record's ETag is required, so that a change never overwrites another one unseen".into(),
            ))
        } else {
            Ok(None)
        };
    };
    let v = v.to_str().unwrap_or("").trim();
    if v == "*" {
        return if required {
            Err(ApiError::PreconditionRequired(
                "If-Match: * is not enough here: send the ETag of the version you read (GET the record), so that a change never overwrites another one unseen".into(),
            ))
        } else {
            Ok(None)
        };
    }
    let tag = v.strip_prefix("W/").unwrap_or(v);
    // `"3"` as sent back from an ETag, or a bare `3`.
    let version = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag);
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::param(
            "If-Match",
            format!("{v:?} is not an ETag (\"1\", W/\"1\" or *)"),
        ));
    }
    // A version past any this server has written can match nothing.
    version.parse::<i64>().map(Some).map_err(|_| {
        ApiError::PreconditionFailed(format!("If-Match {v:?} names no version of this record"))
    })
}
