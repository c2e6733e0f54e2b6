//! The admin API for assets: curating them with conflict detection and an audit trail.
//! Every handler first checks the bearer token and role ([`authorize`]); every write runs
//! in one transaction with its audit entry, and the snapshot is rebuilt before the
//! response, so the public API shows the change as soon as the client hears of it.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
use utoipa::ToSchema;
use uuid::Uuid;

use super::assets::{etag, parse_search, LIST_PARAMS};
use super::auth::authorize;
use super::format;
use super::params::Params;
use crate::auth::Role;
use crate::domain::{Asset, AssetFields, RawAsset, Status};
use crate::error::{ApiError, InvalidParam, Problem};
use crate::state::AppState;
use crate::store::assets as store;
use crate::store::audit::{self, AuditEntry, AuditQuery};

/// Fields of an asset that the server sets; a body may carry them (e.g. a GET sent back
/// with changes) and they are ignored.
const READ_ONLY: [&str; 6] = [
    "id",
    "created_at",
    "updated_at",
    "version",
    "last_verified_at",
    "area_code",
];

const MAX_ADMIN_LIMIT: usize = 500;

/// The known categories, for validation.
pub(super) fn categories(state: &AppState) -> HashSet<String> {
    state
        .snapshot
        .load()
        .categories()
        .iter()
        .map(|c| c.slug.clone())
        .collect()
}

/// Validates a JSON object as asset fields: 422 listing every invalid or unknown field.
pub(super) fn fields_from(
    body: &Value,
    categories: &HashSet<String>,
) -> Result<AssetFields, ApiError> {
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

pub(super) fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::param("body", format!("is not valid JSON: {e}")))
}

pub(super) fn asset_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::param("id", "must be a UUID"))
}

/// The version `If-Match` asks for: `None` for `*` or no header (unless `required`, then
/// 428). An ETag that is not one of ours can match nothing: 412.
fn if_match(req: &HttpRequest, required: bool) -> Result<Option<i64>, ApiError> {
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return if required {
            Err(ApiError::PreconditionRequired(
                "If-Match with the asset's ETag is required, so that a change never overwrites another one unseen".into(),
            ))
        } else {
            Ok(None)
        };
    };
    let v = v.to_str().unwrap_or("").trim();
    if v == "*" {
        return Ok(None);
    }
    v.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| {
            ApiError::PreconditionFailed(format!("If-Match {v:?} is not an ETag of this asset"))
        })
}

/// An asset with its ETag.
fn asset_response(mut res: actix_web::HttpResponseBuilder, asset: &Asset) -> HttpResponse {
    res.insert_header((header::ETAG, etag(asset.version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(asset)
}

/// Runs a write, then rebuilds the snapshot so the public API already shows it.
pub(super) async fn write<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let st = state.clone();
    web::block(move || {
        let out = f(&st)?;
        st.refresh()?;
        Ok::<_, ApiError>(out)
    })
    .await?
}

/// List assets of any status.
///
/// The public list's parameters and formats (`GET /v1/assets`: radius, box, categories,
/// words, access, cost, tags, opening hours, sorting, keyset paging; JSON, GeoJSON, CSV)
/// over every asset, plus `status` (`published`, `draft`, `archived`, comma-separated;
/// default all). The first list after a write reads every asset from the database (about
/// a second for 100,000); later ones until the next write are as fast as the public list.
#[utoipa::path(
    get, path = "/v1/admin/assets", tag = "admin", operation_id = "admin_list_assets",
    params(super::assets::ListQuery,
        ("status" = Option<String>, Query, description = "`published`, `draft`, `archived`, comma-separated (default all)", example = "draft")),
    security(("bearer" = [])),
    responses(
        super::auth::AdminErrors,
        (status = 200, description = "A page of assets",
            headers(("X-Total-Count" = usize, description = "Every match, on every page"),
                    ("X-Next-Cursor" = String, description = "Cursor of the next page, when there is one")),
            content(
                (super::assets::AssetPage = "application/json"),
                (super::assets::AssetFeatureCollection = "application/geo+json"),
                (String = "text/csv"))),
        (status = 400, description = "A parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "The Accept header names no format this endpoint serves", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_assets(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state, Role::Editor).await?;
    let allowed: Vec<&str> = LIST_PARAMS.iter().copied().chain(["status"]).collect();
    let p = Params::parse(req.query_string(), &allowed, &["category", "tag", "status"])?;
    let format = format::negotiate(&req, p.one_of("format", &["json", "geojson", "csv"])?)?;
    let statuses = match p.list("status")? {
        None => None,
        Some(v) => Some(
            v.iter()
                .map(|s| {
                    Status::parse(s).ok_or_else(|| {
                        ApiError::param(
                            "status",
                            format!("{s:?} is not one of published, draft, archived"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let st = state.clone();
    let snap = web::block(move || st.admin_snapshot()).await??;
    let mut search = parse_search(&p, &snap)?;
    search.filter.statuses = statuses;
    let page = snap.search(&search);
    Ok(format::page(
        &snap,
        &page.hits,
        page.next.map(|c| c.encode()),
        page.total,
        format,
    ))
}

/// Create an asset.
///
/// The body is the asset's fields (as in `GET /v1/assets/{id}`; `status` defaults to
/// `published`). Every invalid field is listed in a 422.
#[utoipa::path(
    post, path = "/v1/admin/assets", tag = "admin", security(("bearer" = [])),
    request_body(content = AssetFields, example = json!({"name": "Toxteth Library", "category": "library",
        "lat": 53.3946, "lon": -2.9678, "address": "Windsor Street", "town": "Liverpool", "postcode": "L8 1XF",
        "opening_hours": "Mo-Fr 09:00-17:00", "wheelchair": "yes", "cost": "free", "tags": ["wifi"], "status": "draft"})),
    responses(
        (status = 201, description = "Created", body = Asset,
            headers(("ETag" = String, description = "The version, for If-Match"), ("Location" = String, description = "The new asset"))),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
        (status = 409, description = "Another asset has this source and source_id", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_asset(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = authorize(&req, &state, Role::Editor).await?;
    let fields = fields_from(&json_body(&body)?, &categories(&state))?;
    let asset = write(&state, move |st| {
        Ok(store::create(
            &mut *st.store.conn()?,
            fields,
            &user.username,
            "create",
        )?)
    })
    .await?;
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/v1/admin/assets/{}", asset.id)));
    Ok(asset_response(res, &asset))
}

/// Read an asset of any status, with its ETag.
#[utoipa::path(
    get, path = "/v1/admin/assets/{id}", tag = "admin", security(("bearer" = [])), operation_id = "admin_get_asset",
    params(("id" = Uuid, Path, description = "Asset id")),
    responses(
        (status = 200, description = "The asset", body = Asset, headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
        (status = 404, description = "No asset has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_asset(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state, Role::Editor).await?;
    let id = asset_id(&id)?;
    let st = state.clone();
    let asset = web::block(move || store::get(&mut *st.store.conn()?, &id))
        .await??
        .ok_or_else(|| ApiError::NotFound(format!("no asset has id {id}")))?;
    Ok(asset_response(HttpResponse::Ok(), &asset))
}

/// Replace an asset's fields.
///
/// `If-Match` with the ETag last read is required: 412 when the asset has changed since
/// (someone else's edit is never overwritten unseen), 428 without it.
#[utoipa::path(
    put, path = "/v1/admin/assets/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id"), ("If-Match" = String, Header, description = "The ETag last read")),
    request_body = AssetFields,
    responses(
        (status = 200, description = "The asset as it now is", body = Asset, headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "The id is not a UUID, or the body is not JSON", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
        (status = 404, description = "No asset has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another asset has this source and source_id", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The asset has changed since that ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn replace_asset(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = authorize(&req, &state, Role::Editor).await?;
    let id = asset_id(&id)?;
    let expected = if_match(&req, true)?;
    let fields = fields_from(&json_body(&body)?, &categories(&state))?;
    let (asset, _) = write(&state, move |st| {
        store::modify(
            &mut *st.store.conn()?,
            &id,
            expected,
            &user.username,
            "update",
            |old| {
                Ok::<_, ApiError>(Asset {
                    fields,
                    ..old.clone()
                })
            },
        )
    })
    .await?;
    Ok(asset_response(HttpResponse::Ok(), &asset))
}

/// An asset with a JSON Merge Patch applied (as in `PATCH` and approved corrections),
/// validated again as a whole.
pub(super) fn patched(
    old: &Asset,
    patch: &Value,
    categories: &HashSet<String>,
) -> Result<Asset, ApiError> {
    let mut doc =
        serde_json::to_value(&old.fields).map_err(|e| ApiError::Internal(e.to_string()))?;
    merge_patch(&mut doc, patch);
    Ok(Asset {
        fields: fields_from(&doc, categories)?,
        ..old.clone()
    })
}

/// RFC 7396 JSON Merge Patch: objects merge, `null` removes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
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

/// Change some fields of an asset (JSON Merge Patch, RFC 7396).
///
/// `{"opening_hours": "Mo-Sa 10:00-16:00", "phone": null}` sets the hours and removes the
/// phone. `If-Match` is required as for `PUT`.
#[utoipa::path(
    patch, path = "/v1/admin/assets/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id"), ("If-Match" = String, Header, description = "The ETag last read")),
    request_body(content = Object, content_type = "application/merge-patch+json",
        example = json!({"opening_hours": "Mo-Sa 10:00-16:00", "phone": null})),
    responses(
        (status = 200, description = "The asset as it now is", body = Asset, headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "The id is not a UUID, or the body is not JSON", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
        (status = 404, description = "No asset has this id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another asset has this source and source_id", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The asset has changed since that ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The patched asset has invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_asset(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = authorize(&req, &state, Role::Editor).await?;
    let id = asset_id(&id)?;
    let expected = if_match(&req, true)?;
    let patch = json_body(&body)?;
    if !patch.is_object() {
        return Err(ApiError::param(
            "body",
            "must be a JSON object (a merge patch)",
        ));
    }
    let known = categories(&state);
    let (asset, _) = write(&state, move |st| {
        store::modify(
            &mut *st.store.conn()?,
            &id,
            expected,
            &user.username,
            "patch",
            |old| patched(old, &patch, &known),
        )
    })
    .await?;
    Ok(asset_response(HttpResponse::Ok(), &asset))
}

/// Status changes and verification, with an optional `If-Match`.
async fn transition(
    req: HttpRequest,
    id: &str,
    state: web::Data<AppState>,
    action: &'static str,
) -> Result<HttpResponse, ApiError> {
    let user = authorize(&req, &state, Role::Editor).await?;
    let id = asset_id(id)?;
    let expected = if_match(&req, false)?;
    let (asset, _) = write(&state, move |st| {
        store::modify(
            &mut *st.store.conn()?,
            &id,
            expected,
            &user.username,
            action,
            |old| {
                let mut new = old.clone();
                match action {
                    "archive" => new.fields.status = Status::Archived,
                    "restore" | "unpublish" => new.fields.status = Status::Draft,
                    "publish" => new.fields.status = Status::Published,
                    _ => new.last_verified_at = Some(store::now()),
                }
                Ok::<_, ApiError>(new)
            },
        )
    })
    .await?;
    Ok(asset_response(HttpResponse::Ok(), &asset))
}

/// Archive an asset.
///
/// Sets its status to `archived` (it leaves the public API); nothing is ever deleted
/// through the API. `If-Match` is honoured when given.
#[utoipa::path(
    delete, path = "/v1/admin/assets/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id"), ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "The archived asset", body = Asset, headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
        (status = 404, description = "No asset has this id", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The asset has changed since that ETag", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn archive_asset(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    transition(req, &id, state, "archive").await
}

// Documentation only: the handler matches the path segment.
/// What to do to the asset.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum AssetAction {
    Restore,
    Publish,
    Unpublish,
    Verify,
}

/// Restore, publish, unpublish or verify an asset.
///
/// `restore` (archived to draft), `publish`, `unpublish` (to draft), `verify` (sets
/// `last_verified_at` to now). `If-Match` is honoured when given.
#[utoipa::path(
    post, path = "/v1/admin/assets/{id}/{action}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id"),
        ("action" = inline(AssetAction), Path, description = "`restore`, `publish`, `unpublish` or `verify`"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    responses(
        (status = 200, description = "The asset as it now is", body = Asset, headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
        (status = 404, description = "No asset has this id, or no such action", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The asset has changed since that ETag", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn asset_action(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    let action = match action.as_str() {
        "restore" => "restore",
        "publish" => "publish",
        "unpublish" => "unpublish",
        "verify" => "verify",
        other => {
            return Err(ApiError::NotFound(format!(
                "no action {other:?}: restore, publish, unpublish or verify"
            )))
        }
    };
    transition(req, &id, state, action).await
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The audit trail.
///
/// Every write, oldest first: who, when, which action, the record before and after.
#[utoipa::path(
    get, path = "/v1/admin/audit", tag = "admin", security(("bearer" = [])),
    params(("asset_id" = Option<Uuid>, Query, description = "Only this asset"),
        ("user" = Option<String>, Query, description = "Only this user's writes"),
        ("since" = Option<String>, Query, description = "RFC 3339: only writes at or after this time"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500 (default 100)"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
    )
)]
pub async fn audit_trail(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state, Role::Editor).await?;
    let p = Params::parse(
        req.query_string(),
        &["asset_id", "user", "since", "limit", "cursor"],
        &[],
    )?;
    let (after_id, limit) = audit_paging(&p)?;
    let q = AuditQuery {
        asset_id: p
            .get("asset_id")
            .map(asset_id)
            .transpose()?
            .map(|u| u.to_string()),
        username: p.get("user").map(str::to_string),
        since: p.timestamp("since")?.map(|t| t.timestamp_micros()),
        after_id,
        limit,
    };
    Ok(HttpResponse::Ok().json(audit_page(&state, q).await?))
}

/// The `cursor` (the last entry id seen) and `limit` of an audit page.
fn audit_paging(p: &Params) -> Result<(Option<i64>, i64), ApiError> {
    let after_id = p
        .get("cursor")
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::param("cursor", "is not a next_cursor of this endpoint"))
        })
        .transpose()?;
    Ok((
        after_id,
        p.usize_in("limit", 100, 1, MAX_ADMIN_LIMIT)? as i64,
    ))
}

async fn audit_page(state: &web::Data<AppState>, q: AuditQuery) -> Result<AuditPage, ApiError> {
    let limit = q.limit as usize;
    let st = state.clone();
    let items = web::block(move || audit::list(&mut *st.store.conn()?, &q)).await??;
    let next_cursor = (items.len() == limit).then(|| items[limit - 1].id.to_string());
    Ok(AuditPage { items, next_cursor })
}

/// One asset's history: its audit entries, oldest first.
#[utoipa::path(
    get, path = "/v1/admin/assets/{id}/history", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500 (default 100)"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses(
        (status = 200, description = "The asset's entries", body = AuditPage),
        (status = 400, description = "The id is not a UUID, or a parameter is malformed or out of range", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
    )
)]
pub async fn asset_history(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state, Role::Editor).await?;
    let id = asset_id(&id)?;
    let p = Params::parse(req.query_string(), &["limit", "cursor"], &[])?;
    let (after_id, limit) = audit_paging(&p)?;
    let q = AuditQuery {
        asset_id: Some(id.to_string()),
        after_id,
        limit,
        ..Default::default()
    };
    Ok(HttpResponse::Ok().json(audit_page(&state, q).await?))
}
