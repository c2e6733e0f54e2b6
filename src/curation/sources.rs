//! The source registry: described by admins (licence, attribution, priorities), listed
//! publicly so that reusers can attribute the data; and the review queue's decisions.

use uuid::Uuid;

use super::committed;
use crate::domain::asset::check_text;
use crate::domain::source::MERGED_FIELDS;
use crate::domain::Source;
use crate::error::{ApiError, InvalidParam};
use crate::state::AppState;
use crate::store::imports::{self, Verdict};
use crate::store::reviews::Review;
use crate::store::{sources as store, DbConnection};

/// Priorities range over this, both ways.
pub const MAX_PRIORITY: i32 = 1000;

/// Checks a source's description: 422 naming every invalid field.
pub fn validate(s: &Source) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let mut bad = |name: &str, reason: String| {
        errors.push(InvalidParam {
            name: name.into(),
            reason,
        })
    };
    if s.name.trim().is_empty() || s.name.len() > 200 {
        bad("name", "must be 1 to 200 characters".into());
    }
    for (field, value, max) in [
        ("name", Some(&s.name), 200),
        ("title", s.title.as_ref(), 500),
        ("licence", s.licence.as_ref(), 200),
        ("attribution", s.attribution.as_ref(), 1000),
        ("url", s.url.as_ref(), 500),
    ] {
        if let Some(v) = value {
            if let Err(reason) = check_text(v, false) {
                bad(field, reason);
            } else if v.chars().count() > max {
                bad(field, format!("must be at most {max} characters"));
            }
        }
    }
    if let Some(u) = &s.url {
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            bad("url", format!("must be an http(s) URL, got {u:?}"));
        }
    }
    let in_range = |p: i32| (-MAX_PRIORITY..=MAX_PRIORITY).contains(&p);
    if !in_range(s.priority) {
        bad(
            "priority",
            format!(
                "must be from -{MAX_PRIORITY} to {MAX_PRIORITY}, got {}",
                s.priority
            ),
        );
    }
    for (field, p) in &s.field_priorities {
        if !MERGED_FIELDS.contains(&field.as_str()) {
            bad(
                "field_priorities",
                format!(
                    "{field:?} is not a field (fields: {})",
                    MERGED_FIELDS.join(", ")
                ),
            );
        } else if !in_range(*p) {
            bad(
                "field_priorities",
                format!("{field}: must be from -{MAX_PRIORITY} to {MAX_PRIORITY}, got {p}"),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidFields(errors))
    }
}

/// Creates or replaces a source's description (audited as `source.put`).
pub fn put(conn: &mut DbConnection, author: &str, s: &Source) -> Result<(Source, bool), ApiError> {
    validate(s)?;
    Ok(store::put(conn, s, author)?)
}

/// [`put`] on a server: the snapshot (whose assets name their sources) follows.
pub fn put_on_server(
    state: &AppState,
    author: &str,
    s: &Source,
) -> Result<(Source, bool), ApiError> {
    committed(state, |c| put(c, author, s))
}

/// Decides a review (see [`imports::decide`]).
pub fn decide(
    conn: &mut DbConnection,
    author: &str,
    id: &Uuid,
    verdict: Verdict,
) -> Result<Review, ApiError> {
    Ok(imports::decide(conn, id, verdict, author)?)
}

/// [`decide`] on a server: public before it returns.
pub fn decide_on_server(
    state: &AppState,
    author: &str,
    id: &Uuid,
    verdict: Verdict,
) -> Result<Review, ApiError> {
    committed(state, |c| decide(c, author, id, verdict))
}
