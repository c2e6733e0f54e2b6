//! The public's suggestions: checked like an editor's change and queued (a quota per
//! client address), then approved (applied and audited with the approver as author, in
//! the same transaction as the decision) or rejected with a reason.

use diesel::Connection;
use serde_json::Value;
use uuid::Uuid;

use super::assets::{categories, fields_from, patched};
use super::committed;
use crate::domain::asset::{check_email, check_text};
use crate::domain::{Asset, Status};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::assets as asset_store;
use crate::store::suggestions::{self, Suggestion};

/// Fields the public may not set: editors decide them.
const EDITORS_ONLY: [&str; 3] = ["status", "source", "source_id"];

/// What the public sends.
pub struct Proposal {
    /// `new` (a place that is missing) or `correction` (to a published asset).
    pub kind: String,
    pub asset_id: Option<String>,
    pub asset: Value,
    pub contact_email: Option<String>,
}

pub fn parse_id(id: &str, name: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::param(name, "must be a UUID"))
}

/// Validates a proposal and queues it, if `client` is within its quota.
pub fn submit(state: &AppState, client: &str, s: Proposal) -> Result<Suggestion, ApiError> {
    let Some(fields) = s.asset.as_object().filter(|o| !o.is_empty()) else {
        return Err(ApiError::field(
            "asset",
            "must be a non-empty object of asset fields",
        ));
    };
    if let Some(k) = fields.keys().find(|k| EDITORS_ONLY.contains(&k.as_str())) {
        return Err(ApiError::field(k, "is set by editors, not in suggestions"));
    }
    if let Some(e) = &s.contact_email {
        check_text(e, false)
            .and_then(|_| check_email(e))
            .map_err(|reason| ApiError::field("contact_email", reason))?;
    }
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
        _ => return Err(ApiError::field("kind", "must be new or correction")),
    };
    state
        .auth
        .suggestions
        .take(client)
        .map_err(|wait| ApiError::TooManyRequests {
            retry_after_s: wait.as_secs().max(1),
            message: "too many suggestions from this address: try again later".into(),
        })?;
    Ok(suggestions::add(
        &mut *state.store.conn()?,
        &s.kind,
        target.as_ref(),
        &s.asset,
        s.contact_email.as_deref(),
    )?)
}

/// Applies a pending suggestion: a new place is created (published, `source`
/// `suggestion`), a correction merged into its asset; 422 (and still pending) when it no
/// longer validates.
pub fn approve(
    state: &AppState,
    approver: &str,
    id: &Uuid,
) -> Result<(Suggestion, Asset), ApiError> {
    let known = categories(state);
    committed(state, |conn| {
        conn.transaction(|c| {
            let s = suggestions::decide(c, id, "approved", approver, None)?;
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
            Ok::<_, ApiError>((s, asset))
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
