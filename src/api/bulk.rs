//! Bulk work for curators: imports (CSV, GeoJSON, OpenStreetMap) with dry runs and
//! duplicate detection, the full export, and the report of listings due for checking.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::Editor;
use super::format::{csv_body, CSV, GEOJSON};
use super::params::{documented, Params, Query, QueryContract};
use super::{blocking, costly};
use crate::curation::activities::{self as activities, ActivityImportOptions};
use crate::curation::imports::{
    import_on_server, match_settings, with_source, ImportOptions, ImportReport,
};
use crate::domain::asset::CSV_COLUMNS;
use crate::domain::{Asset, SourceRef};
use crate::error::ApiError;
use crate::import::activities::ActivityFormat;
use crate::import::encoding::Encoding;
use crate::import::mapping::Mapping;
use crate::import::{gunzip, Contacts, Format, EXPORT_ONLY_COLUMNS};
use crate::state::AppState;
use crate::store::assets as store;

/// Largest import body, after decompression: about 200,000 CSV rows.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// The body's format.
#[derive(Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ImportFormat {
    /// The import CSV (see the README).
    Csv,
    /// A GeoJSON FeatureCollection of points with the same properties.
    Geojson,
    /// OpenStreetMap data as Overpass returns it (`[out:json]`, `out center tags;`).
    Osm,
    /// Open Referral UK / HSDS 3.0: a `/services` page fetched with `full=true`, or one
    /// service; needs `source`.
    Oruk,
}

impl From<ImportFormat> for Format {
    fn from(f: ImportFormat) -> Self {
        match f {
            ImportFormat::Csv => Format::Csv,
            ImportFormat::Geojson => Format::GeoJson,
            ImportFormat::Osm => Format::Osm,
            ImportFormat::Oruk => Format::Oruk,
        }
    }
}

/// Query parameters of an import.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `csv`, `geojson`, `osm` or `oruk`.
    #[param(inline)]
    pub format: ImportFormat,
    /// `true`: report only.
    pub dry_run: Option<bool>,
    /// `true`: reject rows with an invalid website, e-mail or phone instead of dropping the
    /// value with a warning.
    pub strict: Option<bool>,
    /// `true`: the file is the complete current list of its source(s). Their records it
    /// no longer names are unlinked; an asset left with no source (and not edited by a
    /// person since) is archived, one still listed by another source goes to review.
    pub snapshot: Option<bool>,
    /// The date of the list (RFC 3339; default now): a closure in it does not archive an
    /// asset a person verified after it.
    pub as_of: Option<DateTime<Utc>>,
    /// Supplies or overrides every row's `source` (as `mapping` `{"set":{"source":...}}`);
    /// required with `format=oruk` (a feed names no source of its own).
    #[param(min_length = 1, max_length = 200)]
    pub source: Option<String>,
    /// `reject` (default): any invalid row rejects the file. `skip`: the valid rows go in,
    /// and the report lists the others (`rejected`, `rejected_total`).
    #[param(inline)]
    pub on_error: Option<OnError>,
    /// A raw CSV's own columns, as JSON (see `Mapping`), e.g.
    /// `{"map":{"lon":"lng"},"set":{"category":"library","source":"libraries-2016"},"id_column":"id"}`.
    #[param(value_type = Option<String>)]
    pub mapping: Option<Mapping>,
    /// `auto` (default: UTF-8, else Windows-1252), `utf-8` or `windows-1252` (CSV).
    #[param(inline)]
    pub encoding: Option<EncodingParam>,
}

/// What an invalid row does to an import.
#[derive(Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum OnError {
    Reject,
    Skip,
}

/// A CSV body's character encoding.
#[derive(Clone, Copy, ToSchema)]
pub enum EncodingParam {
    #[schema(rename = "auto")]
    Auto,
    #[schema(rename = "utf-8")]
    Utf8,
    #[schema(rename = "windows-1252")]
    Windows1252,
}

impl QueryContract for ImportQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        let format = match p.one_of("format", &["csv", "geojson", "osm", "oruk"])? {
            Some("csv") => ImportFormat::Csv,
            Some("geojson") => ImportFormat::Geojson,
            Some("osm") => ImportFormat::Osm,
            Some(_) => ImportFormat::Oruk,
            None => {
                return Err(ApiError::param(
                    "format",
                    "is required: csv, geojson, osm or oruk",
                ))
            }
        };
        let source = p.get("source").map(str::to_string);
        if matches!(format, ImportFormat::Oruk) {
            if source.as_deref().is_none_or(|s| s.trim().is_empty()) {
                return Err(ApiError::param(
                    "source",
                    "is required with format=oruk: the name of the feed's source, so that \
                     a re-import updates its venues",
                ));
            }
            if p.get("mapping").is_some() {
                return Err(ApiError::param(
                    "mapping",
                    "applies to CSV files, not to format=oruk",
                ));
            }
        }
        Ok(ImportQuery {
            format,
            dry_run: p.bool("dry_run")?,
            strict: p.bool("strict")?,
            snapshot: p.bool("snapshot")?,
            as_of: p.timestamp("as_of")?,
            source,
            on_error: on_error(p)?,
            mapping: p
                .get("mapping")
                .map(|m| {
                    serde_json::from_str::<Mapping>(m)
                        .map_err(|e| ApiError::param("mapping", format!("is not a mapping: {e}")))
                })
                .transpose()?,
            encoding: encoding(p)?,
        })
    }
}

/// Import assets (CSV, GeoJSON, OpenStreetMap or Open Referral UK).
///
/// The body is a file as `community-assets import assets` takes it (`format=csv` or
/// `geojson`, optionally gzip-compressed), or OpenStreetMap data as Overpass returns it
/// (`format=osm`: `[out:json]` with `out center tags;`; museums, galleries, libraries,
/// theatres, arts centres, cafes, cinemas, community centres and heritage mapped to
/// categories, ways and relations placed at their centre, keyed `osm` / `node/123`), or
/// an Open Referral UK / HSDS 3.0 `/services` page fetched with `full=true` or one service
/// (`format=oruk`, with `source`: each location with latitude and longitude a venue keyed
/// by `source` and the location's id, located by its JSON path such as
/// `contents[3].service_at_locations[0].location`; as `community-assets import oruk`).
/// All or nothing: any invalid row is a 422 listing every problem by line (or element),
/// and nothing changes; with `on_error=skip` the valid rows go in and the report lists the
/// others (`rejected`, each with its line, field, value and reason). A raw CSV with its own
/// columns takes a `mapping` (JSON); `source` supplies or overrides every row's source.
/// Rows with a postcode and no coordinates are placed at the postcode
/// (`location_precision: postcode`; postcodes are imported with `community-assets import
/// postcodes`). A row whose (source, source_id) record is linked updates its asset, field
/// by field by source priority, never undoing a person's edit. Any other row is matched
/// with the published assets (and the file's earlier rows): **linked** as another source
/// record of the asset it is, sent to **review** (`GET /v1/admin/matches`), or **new**;
/// each decision says why. A row marked `archived` closes the asset it links to.
/// `snapshot=true` declares the file its source's complete list. `dry_run=true` reports the
/// same counts without changing anything. Changes are audited as `import` (and
/// `import.close`). A 422 lists the first 1,000 problems (`invalid-params-total` counts
/// them all); the report lists at most 1,000 decisions, rejected rows and warnings
/// (`decisions_total`, `rejected_total`, `warnings_total`). `format` says what the body
/// is, whatever its Content-Type (gzip is recognised by its bytes).
#[utoipa::path(
    post, path = "/v1/admin/imports", tag = "admin", security(("bearer" = [])),
    params(ImportQuery),
    request_body(description = "The file, optionally gzip-compressed", content(
        (String = "text/csv"),
        (Object = "application/geo+json"),
        (Object = "application/json"),
        (String = "application/gzip"))),
    responses(
        (status = 200, description = "What was (or would be) done", body = ImportReport),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 413, response = super::problems::PayloadTooLarge),
        (status = 422, response = super::problems::Unprocessable),
    )
)]
pub async fn import(
    Editor(user): Editor,
    Query(q): Query<ImportQuery>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let options = ImportOptions {
        format: Some(q.format.into()),
        contacts: if q.strict == Some(true) {
            Contacts::Strict
        } else {
            Contacts::Salvage
        },
        dry_run: q.dry_run == Some(true),
        snapshot: q.snapshot == Some(true),
        as_of: q.as_of,
        // Checked at start-up.
        matching: match_settings(&state.config.matching).map_err(ApiError::Internal)?,
        skip_invalid: q.on_error == Some(OnError::Skip),
        mapping: with_source(q.mapping, q.source),
        encoding: match q.encoding {
            Some(EncodingParam::Utf8) => Encoding::Utf8,
            Some(EncodingParam::Windows1252) => Encoding::Windows1252,
            _ => Encoding::Auto,
        },
        batch_rows: state.config.import_batch_rows,
    };
    let client = format!("user:{}", user.username);
    let report = costly(&state, &state.work, &client, move |st| {
        let bytes = gunzip(body.to_vec(), MAX_IMPORT_BYTES)
            .map_err(|e| ApiError::param("body", format!("cannot be gunzipped: {e}")))?;
        if bytes.len() > MAX_IMPORT_BYTES {
            return Err(ApiError::param(
                "body",
                "is larger than 64 MiB uncompressed",
            ));
        }
        import_on_server(st, &bytes, &options, &user.username)
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// An activity file's format.
#[derive(Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ActivityFileFormat {
    /// A header of activity field names (see `docs/data-and-imports.md`).
    Csv,
    /// An array of activity objects, or `{"activities": [...]}`.
    Json,
}

/// Query parameters of an activity import.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityImportQuery {
    /// `csv` or `json` (default: told apart by the first character).
    #[param(inline)]
    pub format: Option<ActivityFileFormat>,
    /// `true`: report only.
    pub dry_run: Option<bool>,
    /// Supplies or overrides every record's `source`.
    #[param(min_length = 1, max_length = 100)]
    pub source: Option<String>,
    /// `reject` (default): any invalid record rejects the file. `skip`: the valid records
    /// go in, and the report lists the others.
    #[param(inline)]
    pub on_error: Option<OnError>,
    /// `auto` (default: UTF-8, else Windows-1252), `utf-8` or `windows-1252` (CSV).
    #[param(inline)]
    pub encoding: Option<EncodingParam>,
}

impl QueryContract for ActivityImportQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(ActivityImportQuery {
            format: p.one_of("format", &["csv", "json"])?.map(|f| match f {
                "json" => ActivityFileFormat::Json,
                _ => ActivityFileFormat::Csv,
            }),
            dry_run: p.bool("dry_run")?,
            source: p.get("source").map(str::to_string),
            on_error: on_error(p)?,
            encoding: encoding(p)?,
        })
    }
}

/// Import activities (CSV or JSON).
///
/// The body is a file as `community-assets import activities` takes it, optionally
/// gzip-compressed: CSV with a header of activity field names (`schedule` as a JSON array
/// or the compact text `WEEKLY TU 14:00-15:30 from 2026-09-01; 2026-12-03 18:00-20:00`,
/// `audiences` and `referral` `;`-separated), or JSON (an array of activity objects, or
/// `{"activities": [...]}`). Every record needs `source` and `source_id` (or the `source`
/// parameter): a re-import updates the activity of that key. A record names its venue by
/// `asset_id`, or by the venue's own source record (`asset_source` + `asset_source_id`,
/// as the venues' file was imported). All or nothing: any invalid record is a 422 listing
/// every problem by `line N` (CSV) or `record N` (JSON, the array index from 0), and
/// nothing changes; with `on_error=skip` the valid records go in and the report lists the
/// others. `dry_run=true` reports the same counts without changing anything. The report's
/// `inserted`, `updated` and `unchanged` count activities. Audited as `activity.import`.
#[utoipa::path(
    post, path = "/v1/admin/imports/activities", tag = "admin", security(("bearer" = [])),
    params(ActivityImportQuery),
    request_body(description = "The file, optionally gzip-compressed", content(
        (String = "text/csv"),
        (Object = "application/json"),
        (String = "application/gzip"))),
    responses(
        (status = 200, description = "What was (or would be) done", body = ImportReport),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
        (status = 413, response = super::problems::PayloadTooLarge),
        (status = 422, response = super::problems::Unprocessable),
    )
)]
pub async fn import_activities(
    Editor(user): Editor,
    Query(q): Query<ActivityImportQuery>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let options = ActivityImportOptions {
        format: q.format.map(|f| match f {
            ActivityFileFormat::Csv => ActivityFormat::Csv,
            ActivityFileFormat::Json => ActivityFormat::Json,
        }),
        encoding: match q.encoding {
            Some(EncodingParam::Utf8) => Encoding::Utf8,
            Some(EncodingParam::Windows1252) => Encoding::Windows1252,
            _ => Encoding::Auto,
        },
        dry_run: q.dry_run == Some(true),
        skip_invalid: q.on_error == Some(OnError::Skip),
        source: q.source,
    };
    let client = format!("user:{}", user.username);
    let report = costly(&state, &state.work, &client, move |st| {
        let bytes = gunzip(body.to_vec(), MAX_IMPORT_BYTES)
            .map_err(|e| ApiError::param("body", format!("cannot be gunzipped: {e}")))?;
        activities::import_on_server(st, &bytes, &options, &user.username)
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The export's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Geojson,
}

/// Query parameters of the export.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (default) or `geojson`.
    #[param(inline)]
    pub format: Option<ExportFormat>,
}

impl QueryContract for ExportQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(ExportQuery {
            format: p.one_of("format", &["csv", "geojson"])?.map(|f| match f {
                "geojson" => ExportFormat::Geojson,
                _ => ExportFormat::Csv,
            }),
        })
    }
}

/// Export every asset (drafts and archived included).
///
/// CSV in the import format plus `id`, `version`, `created_at`, `updated_at` and
/// `last_verified_at` (which a re-import ignores), or a GeoJSON FeatureCollection whose
/// properties are the whole asset.
#[utoipa::path(
    get, path = "/v1/admin/export", tag = "admin", security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "Every asset",
            headers(("Content-Disposition" = String, description = "An attachment named community-assets.csv or .geojson")),
            content(
                (String = "text/csv"),
                (Object = "application/geo+json"))),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
    )
)]
pub async fn export(
    Editor(user): Editor,
    Query(q): Query<ExportQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let geojson = q.format == Some(ExportFormat::Geojson);
    let client = format!("user:{}", user.username);
    let body = costly(&state, &state.work, &client, move |st| {
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
                SourceRef::cell(&a.sources),
            ]);
            cells
        });
        csv_body(header, rows)
    })
    .await?;
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

/// Query parameters of the stale report.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaleQuery {
    /// 1 to 3650 (default 365).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 3650)]
    pub older_than_days: i64,
    /// 1 to 500 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: i64,
    /// Skip this many (default 0).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 10000000)]
    pub offset: i64,
}

impl QueryContract for StaleQuery {
    fn documented() -> Vec<String> {
        documented::<Self>()
    }

    fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(StaleQuery {
            older_than_days: p.usize_in("older_than_days", 365, 1, 3650)? as i64,
            limit: p.usize_in("limit", 100, 1, 500)? as i64,
            offset: p.usize_in("offset", 0, 0, 10_000_000)? as i64,
        })
    }
}

/// Published assets not verified for a while.
///
/// Never-verified assets first, then the longest unverified: the work list for checking
/// listings (`POST /v1/admin/assets/{id}/verify` marks one checked).
#[utoipa::path(
    get, path = "/v1/admin/reports/stale", tag = "admin", security(("bearer" = [])),
    params(StaleQuery),
    responses(
        (status = 200, description = "A page of stale assets", body = StalePage),
        (status = 400, response = super::problems::BadRequest),
        super::auth::AdminErrors,
    )
)]
pub async fn stale(
    _: Editor,
    Query(q): Query<StaleQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (days, limit, offset) = (q.older_than_days, q.limit, q.offset);
    let before = (crate::store::now() - chrono::Duration::days(days)).timestamp_micros();
    let (items, total) = blocking(&state, move |st| {
        Ok(store::stale(&mut *st.store.conn()?, before, limit, offset)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(StalePage { items, total }))
}

/// `on_error`, as both import endpoints take it.
fn on_error(p: &Params) -> Result<Option<OnError>, ApiError> {
    Ok(p.one_of("on_error", &["reject", "skip"])?.map(|o| {
        if o == "skip" {
            OnError::Skip
        } else {
            OnError::Reject
        }
    }))
}

/// `encoding`, as both import endpoints take it.
fn encoding(p: &Params) -> Result<Option<EncodingParam>, ApiError> {
    Ok(p.one_of("encoding", &Encoding::NAMES)?
        .map(|e| match Encoding::parse(e) {
            Some(Encoding::Utf8) => EncodingParam::Utf8,
            Some(Encoding::Windows1252) => EncodingParam::Windows1252,
            _ => EncodingParam::Auto,
        }))
}
