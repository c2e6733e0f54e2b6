//! Curating assets: create, replace, merge-patch and status changes, each validated as a
//! whole, written with its audit entry, and public (or withdrawn) before the call returns.

use serde_json::Value;
use std::collections::HashSet;
use uuid::Uuid;

use super::{committed, committed_asset};
use crate::domain::{Asset, AssetFields, RawAsset, Status};
use crate::error::{ApiError, InvalidParam};
use crate::state::AppState;
use crate::store::assets as store;

/// Fields of an asset that the server sets; a body may carry them (e.g. a GET sent back
/// with changes) and they are ignored.
const READ_ONLY: [&str; 7] = [
    "id",
    "sources",
    "created_at",
    "updated_at",
    "version",
    "last_verified_at",
    "area_code",
];

/// A change of status, or a verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// To `archived`: out of the public API; nothing is ever deleted.
    Archive,
    /// From archived (or anything) to `draft`.
    Restore,
    Publish,
    /// To `draft`.
    Unpublish,
    /// Sets `last_verified_at` to now.
    Verify,
}

impl Action {
    /// The name audited for this action.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Archive => "archive",
            Action::Restore => "restore",
            Action::Publish => "publish",
            Action::Unpublish => "unpublish",
            Action::Verify => "verify",
        }
    }

    fn apply(self, asset: &mut Asset) {
        match self {
            Action::Archive => asset.fields.status = Status::Archived,
            Action::Restore | Action::Unpublish => asset.fields.status = Status::Draft,
            Action::Publish => asset.fields.status = Status::Published,
            Action::Verify => asset.last_verified_at = Some(crate::store::now()),
        }
    }
}

/// The known categories, for validation.
pub fn categories(state: &AppState) -> HashSet<String> {
    state
        .snapshot
        .load()
        .categories()
        .iter()
        .map(|c| c.slug.clone())
        .collect()
}

/// Validates a JSON object as asset fields: 422 listing every invalid or unknown field.
pub fn fields_from(body: &Value, categories: &HashSet<String>) -> Result<AssetFields, ApiError> {
    let object = body
        .as_object()
        .ok_or_else(|| ApiError::field("body", "must be a JSON object of asset fields"))?;
    let (raw, unknown) = RawAsset::from_json(object);
    let mut errors: Vec<InvalidParam> = unknown
        .into_iter()
        .filter(|k| !READ_ONLY.contains(&k.as_str()))
        .map(|k| InvalidParam {
            name: k,
            reason: "is not an asset field".into(),
        })
        .collect();
    match AssetFields::parse(&raw, categories, false) {
        Ok(fields) if errors.is_empty() => Ok(fields),
        Ok(_) => Err(ApiError::InvalidFields(errors)),
        Err(field_errors) => {
            errors.extend(field_errors.into_iter().map(|e| InvalidParam {
                name: e.field,
                reason: e.reason,
            }));
            Err(ApiError::InvalidFields(errors))
        }
    }
}

/// An asset with a JSON Merge Patch applied (as in `PATCH` and approved corrections),
/// validated again as a whole.
pub fn patched(
    old: &Asset,
    patch: &Value,
    categories: &HashSet<String>,
) -> Result<Asset, ApiError> {
    let mut doc =
        serde_json::to_value(&old.fields).map_err(|e| ApiError::Internal(e.to_string()))?;
    // A position set by hand is exact, unless the patch says otherwise.
    let moved = ["lat", "lon"].iter().any(|k| patch.get(k).is_some())
        && patch.get("location_precision").is_none();
    merge_patch(&mut doc, patch);
    if moved {
        doc["location_precision"] = "exact".into();
    }
    Ok(Asset {
        fields: fields_from(&doc, categories)?,
        ..old.clone()
    })
}

/// RFC 7396 JSON Merge Patch: objects merge, `null` removes, anything else replaces.
pub(super) fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Creates an asset from a JSON object of its fields.
pub fn create(state: &AppState, author: &str, body: &Value) -> Result<Asset, ApiError> {
    let fields = fields_from(body, &categories(state))?;
    committed(state, |c| Ok(store::create(c, fields, author, "create")?))
}

/// Replaces an asset's fields, if it is still at version `expected` (any, when `None`).
pub fn replace(
    state: &AppState,
    author: &str,
    id: &Uuid,
    expected: Option<i64>,
    body: &Value,
) -> Result<Asset, ApiError> {
    let fields = fields_from(body, &categories(state))?;
    committed_asset(state, |c| {
        store::modify(c, id, expected, author, "update", |old| {
            Ok::<_, ApiError>(Asset {
                fields,
                ..old.clone()
            })
        })
    })
}

/// Applies a JSON Merge Patch (RFC 7396) to an asset, if it is still at `expected`.
pub fn patch(
    state: &AppState,
    author: &str,
    id: &Uuid,
    expected: Option<i64>,
    patch: &Value,
) -> Result<Asset, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::param(
            "body",
            "must be a JSON object (a merge patch)",
        ));
    }
    let known = categories(state);
    committed_asset(state, |c| {
        store::modify(c, id, expected, author, "patch", |old| {
            patched(old, patch, &known)
        })
    })
}

/// Changes an asset's status, or verifies it, if it is still at `expected`.
pub fn act(
    state: &AppState,
    author: &str,
    id: &Uuid,
    expected: Option<i64>,
    action: Action,
) -> Result<Asset, ApiError> {
    committed_asset(state, |c| {
        store::modify(c, id, expected, author, action.as_str(), |old| {
            let mut new = old.clone();
            action.apply(&mut new);
            Ok::<_, ApiError>(new)
        })
    })
}
