//! Bulk work for curators: imports (CSV, GeoJSON, OpenStreetMap) with dry runs and
//! duplicate detection, the full export, and the report of listings due for checking.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use std::collections::HashSet;
use utoipa::ToSchema;

use super::admin::{categories, write};
use super::auth::authorize;
use super::format::{csv_body, CSV, GEOJSON};
use super::params::Params;
use crate::auth::Role;
use crate::domain::asset::CSV_COLUMNS;
use crate::domain::Asset;
use crate::error::{ApiError, InvalidParam, Problem};
use crate::import::duplicates::{hold_back, Duplicate};
use crate::import::{gunzip, parse_assets, parse_osm, Contacts, RowError, EXPORT_ONLY_COLUMNS};
use crate::metrics::ImportOutcome;
use crate::state::AppState;
use crate::store::assets::{self as store, ImportCounts};

/// Largest import body, after decompression: about 200,000 CSV rows.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"dry_run": true, "inserted": 15, "updated": 2, "unchanged": 0,
    "duplicates": [{"location": "element 3 (way/4556)", "name": "The Walker", "category": "gallery",
        "duplicate_of_id": "1beaf664-065e-41cd-8e44-c134d70862a0", "duplicate_of_location": null,
        "duplicate_of_name": "Walker Art Gallery", "distance_m": 12.5}],
    "warnings": [{"location": "element 5 (node/4419275310)", "field": "-", "reason": "skipped: not a venue of a known kind"}]}))]
pub struct ImportReport {
    /// True when nothing was changed.
    pub dry_run: bool,
    #[serde(flatten)]
    pub counts: ImportCounts,
    /// Rows held back as likely duplicates of a published asset or of an earlier row.
    pub duplicates: Vec<Duplicate>,
    /// Contact values salvaged, OSM elements skipped.
    pub warnings: Vec<RowError>,
}

// Documentation only: the handler parses the parameter.
/// The body's format.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ImportFormat {
    /// The import CSV (see the README).
    Csv,
    /// A GeoJSON FeatureCollection of points with the same properties.
    Geojson,
    /// OpenStreetMap data as Overpass returns it (`[out:json]`, `out center tags;`).
    Osm,
}

/// Import assets (CSV, GeoJSON or OpenStreetMap).
///
/// The body is a file as `community-assets import assets` takes it (`format=csv` or
/// `geojson`, optionally gzip-compressed), or OpenStreetMap data as Overpass returns it
/// (`format=osm`: `[out:json]` with `out center tags;`; museums, galleries, libraries,
/// theatres, arts centres, cafes, cinemas, community centres and heritage mapped to
/// categories, ways and relations placed at their centre, keyed `osm` / `node/123`).
/// Upserts by source and source_id, all or nothing: any invalid row is a 422 listing every
/// problem by line (or element), and nothing changes. Likely duplicates (same category,
/// within 50 m, similar name, another key) are held back and listed. `dry_run=true` reports
/// the same without changing anything. Every change is audited as `import`.
#[utoipa::path(
    post, path = "/v1/admin/imports", tag = "admin", security(("bearer" = [])),
    params(("format" = inline(ImportFormat), Query, description = "`csv`, `geojson` or `osm`"),
        ("dry_run" = Option<bool>, Query, description = "`true`: report only")),
    request_body(description = "The file, optionally gzip-compressed", content(
        (String = "text/csv"),
        (Object = "application/geo+json"),
        (Object = "application/json"),
        (String = "application/gzip"))),
    responses(
        (status = 200, description = "What was (or would be) done", body = ImportReport),
        (status = 400, description = "A parameter is wrong, or the body is not a file of that format", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
        (status = 413, description = "The body is larger than 64 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rows were rejected (each listed as `location: field`); nothing changed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn import(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user = authorize(&req, &state, Role::Editor).await?;
    let p = Params::parse(req.query_string(), &["format", "dry_run"], &[])?;
    let format = p
        .one_of("format", &["csv", "geojson", "osm"])?
        .ok_or_else(|| ApiError::param("format", "is required: csv, geojson or osm"))?;
    let dry_run = p.bool("dry_run")?.unwrap_or(false);
    let bytes = gunzip(body.to_vec(), MAX_IMPORT_BYTES)
        .map_err(|e| ApiError::param("body", format!("cannot be gunzipped: {e}")))?;
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ApiError::param(
            "body",
            "is larger than 64 MiB uncompressed",
        ));
    }
    let known = categories(&state);
    let st = state.clone();
    let (parsed, stored) = web::block(move || {
        let parsed = match format {
            "osm" => parse_osm(&bytes, &known, Contacts::Salvage),
            _ => parse_assets(&bytes, &known, Contacts::Salvage),
        };
        let stored = match &parsed {
            Ok(p) => store::by_source_key(&mut *st.store.conn()?, &p.rows)?
                .into_keys()
                .collect(),
            Err(_) => HashSet::new(),
        };
        Ok::<_, ApiError>((parsed, stored))
    })
    .await??;
    let parsed = parsed.map_err(|errors| {
        state.metrics.import(ImportOutcome::Rejected);
        ApiError::InvalidFields(
            errors
                .into_iter()
                .map(|e| InvalidParam {
                    name: format!("{}: {}", e.location, e.field),
                    reason: e.reason,
                })
                .collect(),
        )
    })?;
    let (parsed, duplicates) = hold_back(parsed, &state.snapshot.load(), &stored);
    let warnings = parsed.warnings;
    let rows = parsed.rows;
    let counts = write(&state, move |st| {
        Ok(store::upsert_by_source(
            &mut *st.store.conn()?,
            rows,
            dry_run,
            &user.username,
        )?)
    })
    .await?;
    state.metrics.import(if dry_run {
        ImportOutcome::DryRun
    } else {
        ImportOutcome::Applied {
            rows: (counts.inserted + counts.updated) as u64,
        }
    });
    Ok(HttpResponse::Ok().json(ImportReport {
        dry_run,
        counts,
        duplicates,
        warnings,
    }))
}

/// Export every asset (drafts and archived included).
///
/// CSV in the import format plus `id`, `version`, `created_at`, `updated_at` and
/// `last_verified_at` (which a re-import ignores), or a GeoJSON FeatureCollection whose
/// properties are the whole asset.
#[utoipa::path(
    get, path = "/v1/admin/export", tag = "admin", security(("bearer" = [])),
    params(("format" = Option<String>, Query, description = "`csv` (default) or `geojson`")),
    responses(
        (status = 200, description = "Every asset",
            headers(("Content-Disposition" = String, description = "An attachment named community-assets.csv or .geojson")),
            content(
                (String = "text/csv"),
                (Object = "application/geo+json"))),
        (status = 400, description = "A parameter is malformed", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
    )
)]
pub async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state, Role::Editor).await?;
    let p = Params::parse(req.query_string(), &["format"], &[])?;
    let geojson = p.one_of("format", &["csv", "geojson"])? == Some("geojson");
    let st = state.clone();
    let body = web::block(move || -> Result<Vec<u8>, ApiError> {
        let assets = store::all(&mut *st.store.conn()?)?;
        if geojson {
            let features: Vec<serde_json::Value> = assets
                .iter()
                .map(|a| serde_json::json!({"type": "Feature", "id": a.id,
                    "geometry": {"type": "Point", "coordinates": [a.fields.lon, a.fields.lat]}, "properties": a}))
                .collect();
            return serde_json::to_vec(&serde_json::json!({"type": "FeatureCollection", "features": features}))
                .map_err(|e| ApiError::Internal(e.to_string()));
        }
        let header = EXPORT_ONLY_COLUMNS[..1]
            .iter()
            .chain(CSV_COLUMNS.iter())
            .chain(EXPORT_ONLY_COLUMNS[1..].iter())
            .map(|c| c.to_string())
            .collect();
        let time = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        };
        let rows = assets.iter().map(|a| {
            let mut cells = vec![a.id.to_string()];
            cells.extend(a.fields.to_raw().cells().map(str::to_string));
            cells.extend([
                a.version.to_string(),
                time(a.created_at),
                time(a.updated_at),
                a.last_verified_at.map(time).unwrap_or_default(),
            ]);
            cells
        });
        csv_body(header, rows)
    })
    .await??;
    Ok(HttpResponse::Ok()
        .content_type(if geojson { GEOJSON } else { CSV })
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"community-assets.{}\"",
                if geojson { "geojson" } else { "csv" }
            ),
        ))
        .body(body))
}

#[derive(Serialize, ToSchema)]
pub struct StalePage {
    pub items: Vec<Asset>,
    /// Every stale asset, on every page.
    pub total: i64,
}

/// Published assets not verified for a while.
///
/// Never-verified assets first, then the longest unverified: the work list for checking
/// listings (`POST /v1/admin/assets/{id}/verify` marks one checked).
#[utoipa::path(
    get, path = "/v1/admin/reports/stale", tag = "admin", security(("bearer" = [])),
    params(("older_than_days" = Option<u32>, Query, minimum = 1, maximum = 3650, description = "1 to 3650 (default 365)"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "1 to 500 (default 100)"),
        ("offset" = Option<usize>, Query, maximum = 10000000, description = "Skip this many (default 0)")),
    responses(
        (status = 200, description = "A page of stale assets", body = StalePage),
        (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json"),
        super::auth::AdminErrors,
    )
)]
pub async fn stale(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state, Role::Editor).await?;
    let p = Params::parse(
        req.query_string(),
        &["older_than_days", "limit", "offset"],
        &[],
    )?;
    let days = p.usize_in("older_than_days", 365, 1, 3650)? as i64;
    let limit = p.usize_in("limit", 100, 1, 500)? as i64;
    let offset = p.usize_in("offset", 0, 0, 10_000_000)? as i64;
    let before = (store::now() - chrono::Duration::days(days)).timestamp_micros();
    let st = state.clone();
    let (items, total) =
        web::block(move || store::stale(&mut *st.store.conn()?, before, limit, offset)).await??;
    Ok(HttpResponse::Ok().json(StalePage { items, total }))
}
