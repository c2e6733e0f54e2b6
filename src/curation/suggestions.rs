//! The public's suggestions: checked like an editor's change and queued (a quota per
//! client address), then approved (applied and audited with the approver as author, in
//! the same transaction as the decision) or rejected with a reason.

use diesel::Connection;
use serde_json::Value;
use uuid::Uuid;

use super::activities;
use super::assets::{categories, fields_from, patched};
use super::committed;
use crate::domain::asset::{check_email, check_text};
use crate::domain::{Activity, Asset, Status};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::assets as asset_store;
use crate::store::suggestions::{self, Suggestion, Target};

/// Fields the public may not set: editors decide them.
const EDITORS_ONLY: [&str; 3] = ["status", "source", "source_id"];

/// What the public sends.
pub struct Proposal {
    /// `new` (a place that is missing) or `correction` (to a published asset);
    /// `new-activity` (something that happens at a venue) or `activity-correction`.
    pub kind: String,
    /// The asset a correction is for; a new activity's venue (when its fields do not
    /// name it).
    pub asset_id: Option<String>,
    /// The activity an `activity-correction` is for.
    pub activity_id: Option<String>,
    /// The asset's fields (`new`, `correction`).
    pub asset: Value,
    /// The activity's fields (`new-activity`, `activity-correction`).
    pub activity: Value,
    pub contact_email: Option<String>,
}

/// What an approval created or changed.
pub enum Applied {
    Asset(Asset),
    Activity(Activity),
}

pub fn parse_id(id: &str, name: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::param(name, "must be a UUID"))
}

/// Validates a proposal and queues it, if `client` is within its quota.
pub fn submit(state: &AppState, client: &str, s: Proposal) -> Result<Suggestion, ApiError> {
    if s.kind == "new-activity" || s.kind == "activity-correction" {
        return submit_activity(state, client, s);
    }
    if !s.activity.is_null() || s.activity_id.is_some() {
        return Err(ApiError::field(
            if s.activity_id.is_some() {
                "activity_id"
            } else {
                "activity"
            },
            "is for the kinds new-activity and activity-correction",
        ));
    }
    let Some(fields) = s.asset.as_object().filter(|o| !o.is_empty()) else {
        return Err(ApiError::field(
            "asset",
            "must be a non-empty object of asset fields",
        ));
    };
    if let Some(k) = fields.keys().find(|k| EDITORS_ONLY.contains(&k.as_str())) {
        return Err(ApiError::field(k, "is set by editors, not in suggestions"));
    }
    check_contact(s.contact_email.as_deref())?;
    let known = categories(state);
    let target = match s.kind.as_str() {
        "new" => {
            fields_from(&s.asset, &known)?;
            None
        }
        "correction" => {
            let id = parse_id(
                s.asset_id
                    .as_deref()
                    .ok_or_else(|| ApiError::field("asset_id", "is required for a correction"))?,
                "id",
            )?;
            let current = state
                .snapshot
                .load()
                .get_published(&id)
                .ok_or_else(|| ApiError::NotFound(format!("no published asset has id {id}")))?
                .asset();
            patched(&current, &s.asset, &known)?;
            Some(id)
        }
        _ => {
            return Err(ApiError::field(
                "kind",
                "must be new, correction, new-activity or activity-correction",
            ))
        }
    };
    take_quota(state, client)?;
    Ok(suggestions::add(
        &mut *state.store.conn()?,
        &s.kind,
        Target {
            asset_id: target.as_ref(),
            activity_id: None,
        },
        &s.asset,
        s.contact_email.as_deref(),
    )?)
}

fn check_contact(email: Option<&str>) -> Result<(), ApiError> {
    if let Some(e) = email {
        check_text(e, false)
            .and_then(|_| check_email(e))
            .map_err(|reason| ApiError::field("contact_email", reason))?;
    }
    Ok(())
}

fn take_quota(state: &AppState, client: &str) -> Result<(), ApiError> {
    state
        .auth
        .suggestions
        .take(client)
        .map_err(|wait| ApiError::TooManyRequests {
            retry_after_s: wait.as_secs().max(1),
            message: "too many suggestions from this address: try again later".into(),
        })
}

/// A proposed activity (`new-activity`: its fields, its venue in them or in `asset_id`)
/// or a correction of a published one (`activity-correction`: `activity_id` and the
/// fields to change), checked as an editor's write would be, then queued.
fn submit_activity(state: &AppState, client: &str, s: Proposal) -> Result<Suggestion, ApiError> {
    if !s.asset.is_null() {
        return Err(ApiError::field(
            "asset",
            "is for the kinds new and correction; an activity's fields go in activity",
        ));
    }
    let Some(fields) = s.activity.as_object().filter(|o| !o.is_empty()) else {
        return Err(ApiError::field(
            "activity",
            "must be a non-empty object of activity fields",
        ));
    };
    let mut fields = fields.clone();
    if let Some(k) = fields.keys().find(|k| EDITORS_ONLY.contains(&k.as_str())) {
        return Err(ApiError::field(k, "is set by editors, not in suggestions"));
    }
    check_contact(s.contact_email.as_deref())?;
    let (venue, target) = if s.kind == "new-activity" {
        if s.activity_id.is_some() {
            return Err(ApiError::field(
                "activity_id",
                "is for an activity-correction",
            ));
        }
        if let Some(a) = &s.asset_id {
            let venue = parse_id(a, "asset_id")?;
            match fields.get("asset_id").and_then(Value::as_str) {
                Some(named) if named.trim() != venue.to_string() => {
                    return Err(ApiError::field(
                        "asset_id",
                        "differs from the activity's asset_id",
                    ))
                }
                _ => {
                    fields.insert("asset_id".into(), venue.to_string().into());
                }
            }
        }
        activities::check_proposal(state, None, &fields)?;
        let venue = fields
            .get("asset_id")
            .and_then(Value::as_str)
            .and_then(|v| uuid::Uuid::parse_str(v).ok());
        (venue, None)
    } else {
        let id = parse_id(
            s.activity_id.as_deref().ok_or_else(|| {
                ApiError::field("activity_id", "is required for an activity-correction")
            })?,
            "activity_id",
        )?;
        activities::check_proposal(state, Some(&id), &fields)?;
        (None, Some(id))
    };
    take_quota(state, client)?;
    Ok(suggestions::add(
        &mut *state.store.conn()?,
        &s.kind,
        Target {
            asset_id: venue.as_ref(),
            activity_id: target.as_ref(),
        },
        &Value::Object(fields),
        s.contact_email.as_deref(),
    )?)
}

/// Applies a pending suggestion: a new place or activity is created (published, `source`
/// `suggestion`), a correction merged into its asset or activity; 422 (and still
/// pending) when it no longer validates. Audited as `approve-suggestion` (an asset) or
/// `activity.approve-suggestion` with the approver as author.
pub fn approve(
    state: &AppState,
    approver: &str,
    id: &Uuid,
) -> Result<(Suggestion, Applied), ApiError> {
    let known = categories(state);
    committed(state, |conn| {
        conn.transaction(|c| {
            let s = suggestions::decide(c, id, "approved", approver, None)?;
            const ACTION: &str = "activity.approve-suggestion";
            match (s.kind.as_str(), s.fields.as_object()) {
                ("new-activity", Some(fields)) => {
                    let a = activities::create_in(c, approver, fields, &s.id, ACTION)?;
                    return Ok((s, Applied::Activity(a)));
                }
                ("activity-correction", _) => {
                    let target = parse_id(s.activity_id.as_deref().unwrap_or(""), "activity_id")?;
                    let a = activities::correct_in(c, approver, &target, &s.fields, ACTION)?;
                    return Ok((s, Applied::Activity(a)));
                }
                _ => {}
            }
            let asset = match s.asset_id.as_deref() {
                None => {
                    let mut fields = fields_from(&s.fields, &known)?;
                    fields.status = Status::Published;
                    fields.source = Some("suggestion".into());
                    fields.source_id = Some(s.id.to_string());
                    asset_store::create(c, fields, approver, "approve-suggestion")?
                }
                Some(target) => {
                    let target = parse_id(target, "id")?;
                    let (asset, _) = asset_store::modify(
                        c,
                        &target,
                        None,
                        approver,
                        "approve-suggestion",
                        |old| patched(old, &s.fields, &known),
                    )?;
                    asset
                }
            };
            Ok::<_, ApiError>((s, Applied::Asset(asset)))
        })
    })
}

/// Rejects a pending suggestion, with a reason (1 to 1000 characters) for the record.
pub fn reject(
    state: &AppState,
    editor: &str,
    id: &Uuid,
    reason: &str,
) -> Result<Suggestion, ApiError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(ApiError::field("reason", "must be 1 to 1000 characters"));
    }
    check_text(reason, true).map_err(|e| ApiError::field("reason", e))?;
    Ok(suggestions::decide(
        &mut *state.store.conn()?,
        id,
        "rejected",
        editor,
        Some(reason),
    )?)
}
