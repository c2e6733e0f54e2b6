//! The admin API for assets: reads of any status, and curation with conflict detection
//! (`If-Match`) and an audit trail. The role is checked by the [`Editor`] extractor; the
//! writes themselves are [`crate::curation::assets`]. Over 400 lines because most of it
//! is OpenAPI annotations and the audit trail's query contracts.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::assets::{FormatParam, ListQuery};
use super::auth::Editor;
use super::body::{Json, MergePatch};
use super::conditional::{etag, if_match};
use super::params::{documented, Params, Query, QueryContract};
use super::{blocking, format};
use crate::curation::assets::{self as curation, Action};
use crate::domain::{Asset, AssetFields, Status};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::assets as store;
use crate::store::audit::{self, AuditEntry, AuditQuery};

const MAX_ADMIN_LIMIT: usize = 500;

pub(super) fn asset_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::param("id", "must be a UUID"))
}

/// An asset with its ETag.
fn asset_response(mut res: actix_web::HttpResponseBuilder, asset: &Asset) -> HttpResponse {
    res.insert_header((header::ETAG, etag(asset.version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(asset)
}

/// The admin list's own parameter, beside the public list's.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// `published`, `draft`, `archived`, comma-separated (default all).
    #[param(value_type = Option<String>, example = "draft")]
    pub status: Option<Vec<Status>>,
}

impl QueryContract for StatusQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn repeatable() -> Vec<&'static str> {
        vec!["status"]
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        let status = match p.list("status")? {
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
        Ok(StatusQuery { status })
    }
}

/// List assets of any status.
///
/// The public list's parameters and formats (`GET /v1/assets`: radius, box, categories,
/// words, access, cost, tags, opening hours, sorting, keyset paging; JSON, GeoJSON, CSV)
/// over every asset, plus `status` (`published`, `draft`, `archived`, comma-separated;
/// default all). Served from the same in-memory snapshot as the public list (status is a
/// filter), brought up to date first: as fast as the public list, also right after a write.
#[utoipa::path(
    get, path = "/v1/admin/assets", tag = "admin", operation_id = "admin_list_assets",
    params(ListQuery, StatusQuery),
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
        (status = 400, response = super::problems::BadRequest),
        (status = 406, response = super::problems::NotAcceptable),
        (status = 409, response = super::problems::Conflict),
    )
)]
pub async fn list_assets(
    _: Editor,
    req: HttpRequest,
    query: Query<(ListQuery, StatusQuery)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Query((q, StatusQuery { status })) = query;
    let format = format::negotiate(&req, q.format.map(FormatParam::as_str))?;
    let q = q.at_postcode(&state).await?;
    let snap = blocking(&state, |st| Ok(st.admin_snapshot()?)).await?;
    let mut search = q.search(&snap)?;
    // Every status unless asked (the public list's default is published only).
    search.filter.statuses =
        Some(status.unwrap_or_else(|| vec![Status::Published, Status::Draft, Status::Archived]));
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
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 409, response = super::problems::Conflict),
        (status = 422, response = super::problems::Unprocessable),
    )
)]
pub async fn create_asset(
    Editor(user): Editor,
    Json(body): Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let asset = blocking(&state, move |st| {
        curation::create(st, &user.username, &body)
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
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
    )
)]
pub async fn get_asset(
    _: Editor,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = asset_id(&id)?;
    let asset = blocking(&state, move |st| {
        Ok(store::get(&mut *st.store.conn()?, &id)?)
    })
    .await?
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
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        (status = 412, response = super::problems::PreconditionFailed),
        (status = 422, response = super::problems::Unprocessable),
        (status = 428, response = super::problems::PreconditionRequired),
    )
)]
pub async fn replace_asset(
    Editor(user): Editor,
    req: HttpRequest,
    id: web::Path<String>,
    Json(body): Json<Value>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = asset_id(&id)?;
    let expected = if_match(&req, true)?;
    let asset = blocking(&state, move |st| {
        curation::replace(st, &user.username, &id, expected, &body)
    })
    .await?;
    Ok(asset_response(HttpResponse::Ok(), &asset))
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
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        (status = 412, response = super::problems::PreconditionFailed),
        (status = 422, response = super::problems::Unprocessable),
        (status = 428, response = super::problems::PreconditionRequired),
    )
)]
pub async fn patch_asset(
    Editor(user): Editor,
    req: HttpRequest,
    id: web::Path<String>,
    Json(MergePatch(patch)): Json<MergePatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = asset_id(&id)?;
    let expected = if_match(&req, true)?;
    let asset = blocking(&state, move |st| {
        curation::patch(st, &user.username, &id, expected, &patch)
    })
    .await?;
    Ok(asset_response(HttpResponse::Ok(), &asset))
}

/// Status changes and verification, with an optional `If-Match`.
async fn act(
    user: Editor,
    req: HttpRequest,
    id: &str,
    state: web::Data<AppState>,
    action: Action,
) -> Result<HttpResponse, ApiError> {
    let id = asset_id(id)?;
    let expected = if_match(&req, false)?;
    let asset = blocking(&state, move |st| {
        curation::act(st, &user.0.username, &id, expected, action)
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
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
        (status = 412, response = super::problems::PreconditionFailed),
    )
)]
pub async fn archive_asset(
    user: Editor,
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act(user, req, &id, state, Action::Archive).await
}

/// What to do to the asset (the path segment).
#[derive(Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum AssetAction {
    Restore,
    Publish,
    Unpublish,
    Verify,
}

impl AssetAction {
    fn parse(segment: &str) -> Result<Self, ApiError> {
        Ok(match segment {
            "restore" => AssetAction::Restore,
            "publish" => AssetAction::Publish,
            "unpublish" => AssetAction::Unpublish,
            "verify" => AssetAction::Verify,
            other => {
                return Err(ApiError::NotFound(format!(
                    "no action {other:?}: restore, publish, unpublish or verify"
                )))
            }
        })
    }
}

impl From<AssetAction> for Action {
    fn from(a: AssetAction) -> Self {
        match a {
            AssetAction::Restore => Action::Restore,
            AssetAction::Publish => Action::Publish,
            AssetAction::Unpublish => Action::Unpublish,
            AssetAction::Verify => Action::Verify,
        }
    }
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
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 404, response = super::problems::NotFound),
        (status = 412, response = super::problems::PreconditionFailed),
    )
)]
pub async fn asset_action(
    user: Editor,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    act(user, req, &id, state, AssetAction::parse(&action)?.into()).await
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The audit trail.
///
/// Every write, oldest first: who, when, which action, the record before and after: to
/// assets, to accounts (`user.*`, with the `account` they are about; never a password or
/// its hash) and to API keys.
#[utoipa::path(
    get, path = "/v1/admin/audit", tag = "admin", security(("bearer" = [])),
    params(AuditFilter, PageQuery),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
    )
)]
pub async fn audit_trail(
    _: Editor,
    query: Query<(AuditFilter, PageQuery)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Query((filter, page)) = query;
    let q = AuditQuery {
        asset_id: filter.asset_id.map(|u| u.to_string()),
        account: filter.account,
        actions: filter.action,
        username: filter.user,
        since: filter.since.map(|t| t.timestamp_micros()),
        after_id: page.cursor,
        limit: page.limit.unwrap_or(100),
    };
    Ok(HttpResponse::Ok().json(audit_page(&state, q).await?))
}

/// Which audit entries: by asset or account, action, author and time.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only this asset.
    pub asset_id: Option<Uuid>,
    /// Only changes to this account (`user.*` actions).
    pub account: Option<String>,
    /// Only these actions, comma-separated (e.g. `user.disable,user.set-role`).
    #[param(value_type = Option<String>, pattern = "^[a-z_.-]+(,[a-z_.-]+)*$")]
    pub action: Vec<String>,
    /// Only this user's writes.
    pub user: Option<String>,
    /// RFC 3339: only writes at or after this time.
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

impl QueryContract for AuditFilter {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(AuditFilter {
            asset_id: p.get("asset_id").map(asset_id).transpose()?,
            account: p.get("account").map(str::to_string),
            action: match p.get("action") {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .map(|a| {
                        let ok = !a.is_empty()
                            && a.chars()
                                .all(|c| c.is_ascii_lowercase() || "_.-".contains(c));
                        ok.then(|| a.to_string()).ok_or_else(|| {
                            ApiError::param("action", "must be action names, comma-separated")
                        })
                    })
                    .collect::<Result<_, _>>()?,
            },
            user: p.get("user").map(str::to_string),
            since: p.timestamp("since")?,
        })
    }
}

/// A page of audit entries.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(minimum = 0)]
    pub cursor: Option<i64>,
}

impl QueryContract for PageQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        let cursor = p
            .get("cursor")
            .map(|c| {
                c.parse::<i64>().ok().filter(|c| *c >= 0).ok_or_else(|| {
                    ApiError::param("cursor", "is not a next_cursor of this endpoint")
                })
            })
            .transpose()?;
        Ok(PageQuery {
            limit: Some(p.usize_in("limit", 100, 1, MAX_ADMIN_LIMIT)? as i64),
            cursor,
        })
    }
}

async fn audit_page(state: &web::Data<AppState>, q: AuditQuery) -> Result<AuditPage, ApiError> {
    let limit = q.limit as usize;
    let items = blocking(state, move |st| {
        Ok(audit::list(&mut *st.store.conn()?, &q)?)
    })
    .await?;
    let next_cursor = (items.len() == limit).then(|| items[limit - 1].id.to_string());
    Ok(AuditPage { items, next_cursor })
}

/// One asset's history: its audit entries, oldest first.
#[utoipa::path(
    get, path = "/v1/admin/assets/{id}/history", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Asset id"), PageQuery),
    responses(
        (status = 200, description = "The asset's entries", body = AuditPage),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
    )
)]
pub async fn asset_history(
    _: Editor,
    id: web::Path<String>,
    Query(page): Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = asset_id(&id)?;
    let q = AuditQuery {
        asset_id: Some(id.to_string()),
        after_id: page.cursor,
        limit: page.limit.unwrap_or(100),
        ..Default::default()
    };
    Ok(HttpResponse::Ok().json(audit_page(&state, q).await?))
}
