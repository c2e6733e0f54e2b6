//! The HTTP API: thin handlers over the snapshot and the store, and the OpenAPI document.

pub mod activities;
pub mod activities_admin;
pub mod admin;
pub mod api_keys;
pub mod areas;
pub mod assets;
pub mod auth;
pub mod body;
pub mod bulk;
pub mod conditional;
pub mod cors;
pub mod format;
pub mod gate;
pub mod meta;
pub mod oruk;
pub mod params;
pub mod problems;
pub mod reports;
pub mod sources;
pub mod suggestions;
pub mod users;

use actix_web::http::{header, Method};
use actix_web::{web, HttpResponse, Route};
use utoipa::OpenApi;

use crate::error::ApiError;
use crate::state::AppState;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "community-assets",
        description = "A directory of arts, heritage and culture near people — museums, libraries, \
galleries, theatres, cafes — for social prescribing: link-worker tools, patient apps and council \
sites search it; analysts measure where such places are missing.\n\nEvery error is RFC 9457 \
`application/problem+json` naming the parameter or field at fault. Distances are great-circle \
(haversine, mean Earth radius 6,371,008.8 m), in metres. Only published assets are public.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        assets::list_assets,
        assets::nearest_assets,
        assets::get_asset,
        activities::list_activities,
        activities::get_activity,
        activities::venue_activities,
        activities::list_kinds,
        activities::list_audiences,
        meta::list_categories,
        areas::list_areas,
        areas::get_area,
        reports::access_gaps,
        reports::access_gaps_svg,
        reports::access_by_decile,
        reports::access_by_decile_svg,
        reports::local_authorities,
        reports::what_if,
        auth::token,
        admin::list_assets,
        admin::create_asset,
        admin::get_asset,
        admin::replace_asset,
        admin::patch_asset,
        admin::archive_asset,
        admin::asset_action,
        admin::asset_history,
        admin::audit_trail,
        activities_admin::list_activities,
        activities_admin::create_activity,
        activities_admin::get_activity,
        activities_admin::replace_activity,
        activities_admin::patch_activity,
        activities_admin::archive_activity,
        activities_admin::activity_action,
        activities_admin::put_activity_kind,
        activities_admin::put_audience,
        users::list_users,
        users::create_user,
        users::disable_user,
        users::enable_user,
        users::revoke_tokens,
        users::set_password,
        users::set_role,
        users::change_own_password,
        api_keys::list,
        api_keys::issue,
        api_keys::revoke,
        bulk::import,
        bulk::import_activities,
        bulk::export,
        bulk::stale,
        sources::list_sources,
        sources::put_source,
        sources::provenance,
        sources::list_matches,
        sources::get_match,
        sources::decide_match,
        suggestions::suggest,
        suggestions::list,
        suggestions::approve,
        suggestions::reject,
        meta::live,
        meta::ready,
        meta::metrics,
    ),
    tags(
        (name = "assets", description = "Search and read published assets"),
        (name = "activities", description = "What happens at the venues (a weekly singing \
group at the library, a course at the gallery): published activities at published venues, with \
their schedules in UK local time and their next sessions"),
        (name = "areas", description = "Statistical areas (LSOAs) with the English Indices of \
Deprivation. Each asset carries the `area_code` of the area containing it: by point in polygon \
when boundaries were imported, otherwise the area with the nearest representative point."),
        (name = "reports", description = "Access-gap reports for analysts and commissioners: \
distances from each area's representative point to the nearest published asset, by \
deprivation. Computed from the in-memory snapshot and cached until the data change."),
        (name = "admin", description = "Curation by admins and editors: a bearer token from \
`POST /v1/auth/token` is required (401 without or with a bad one, 403 for the wrong role; 503 \
when the server has no JWT secret). Every write is audited and visible in the public API before \
the response returns."),
        (name = "sources", description = "The lists the directory's data come from, with their licences and the attribution a reuser must show"),
        (name = "suggestions", description = "The public proposes new places and corrections; \
editors approve or reject them in the admin API"),
        (name = "health", description = "Liveness and readiness probes, and Prometheus metrics"),
    ),
    components(schemas(crate::error::Problem, crate::import::mapping::Mapping)),
    modifiers(&Security)
)]
pub struct ApiDoc;

/// The security schemes (`bearer` for the admin API, the optional `api_key` for apps) and
/// what the gate in front of every handler may answer (see [`gate`]), added to each
/// operation rather than repeated in every handler's annotation.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::SchemaType;
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        use utoipa::openapi::{RefOr, Schema, Type};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from POST /v1/auth/token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "Optional: a key issued by the service's admins, for its own rate limit",
            ))),
        );
        components.responses.extend(
            problems::all()
                .into_iter()
                .map(|(name, response)| (name.to_string(), response)),
        );
        // A body's `category` is one of the seeded categories.
        for schema in components.schemas.values_mut() {
            if let RefOr::T(Schema::Object(object)) = schema {
                if let Some(RefOr::T(Schema::Object(category))) =
                    object.properties.get_mut("category")
                {
                    category.pattern = Some(params::CATEGORY.to_string());
                }
            }
        }
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                // The operation's tag says who it is for, as its route's scope does.
                let tagged = |t: &str| op.tags.iter().flatten().any(|tag| tag == t);
                if tagged("health") {
                    continue;
                }
                let public = !tagged("admin");
                for param in op.parameters.iter_mut().flatten() {
                    let Some(RefOr::T(Schema::Object(schema))) = param.schema.as_mut() else {
                        continue;
                    };
                    if let Some((_, pattern)) =
                        params::PATTERNS.iter().find(|(n, _)| *n == param.name)
                    {
                        schema.pattern = Some(pattern.to_string());
                        schema.schema_type = SchemaType::Type(Type::String);
                    }
                    // An empty value is refused (give one, or leave the parameter out).
                    if schema.schema_type == SchemaType::Type(Type::String)
                        || schema.schema_type == SchemaType::from_iter([Type::String, Type::Null])
                    {
                        schema.min_length.get_or_insert(1);
                    }
                }
                // Every JSON body is taken through `body::Json`, which answers 415 to others.
                let takes_json = op.request_body.as_ref().is_some_and(|b| {
                    !b.content.is_empty() && b.content.keys().all(|m| body::is_json(m))
                });
                let responses = &mut op.responses.responses;
                if takes_json {
                    responses
                        .entry("415".to_string())
                        .or_insert_with(|| problems::reference("UnsupportedMediaType"));
                }
                for (status, name) in [
                    ("401", "Unauthorized"),
                    ("408", "RequestTimeout"),
                    ("429", "TooManyRequests"),
                    ("431", "HeadersTooLarge"),
                ] {
                    responses
                        .entry(status.to_string())
                        .or_insert_with(|| problems::reference(name));
                }
                if public {
                    // Anonymous, or with a key.
                    op.security = Some(vec![
                        SecurityRequirement::default(),
                        SecurityRequirement::new("api_key", Vec::<String>::new()),
                    ]);
                }
            }
        }
    }
}

/// Runs blocking work (the database, heavy computation) on the blocking thread pool, off
/// the async workers that answer requests.
async fn blocking<T: Send + 'static>(
    state: &web::Data<AppState>,
    work: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    web::block(move || work(&state)).await?
}

/// Runs costly work on a budget ([`crate::budget`]): `state.work` for reports not yet
/// cached, what-if, imports and exports; `state.hashing` for password hashing. Off the
/// request threads, a bounded number at once, and refused at once (503, or 429 for a
/// `client` already holding its share) when full.
async fn costly<T: Send + 'static>(
    state: &web::Data<AppState>,
    budget: &std::sync::Arc<crate::budget::Budget>,
    client: &str,
    work: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let st = state.clone();
    budget.run(client, move || work(&st)).await?
}

/// The OpenAPI document as committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let mut s = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

/// Curators' routes (`/v1/admin`, `/v1/auth`): set on their scopes, so that cross-origin
/// reads are never answered there (see [`cors`]).
#[derive(Clone, Copy, Debug)]
pub struct Curators;

/// Registers every route; used by the server and by tests. Each path is one resource, so
/// a request with another method gets `405 Method Not Allowed`. The probes (`/health`,
/// `/metrics`) and the documentation stand outside `/v1`, whose scope carries the rate
/// limits ([`gate::limit`]), so a load balancer or a scraper always gets through.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Every single-route resource also answers CORS preflights (refused on curators' routes).
    let resource = |path: &str, route: Route| {
        web::resource(path)
            .route(route)
            .route(web::route().method(Method::OPTIONS).to(cors::preflight))
    };
    let admin = web::scope("/admin")
        .app_data(Curators)
        .wrap(actix_web::middleware::from_fn(auth::authenticate))
        .service(
            web::resource("/assets")
                .route(web::get().to(admin::list_assets))
                .route(web::post().to(admin::create_asset)),
        )
        .service(
            web::resource("/assets/{id}")
                .route(web::get().to(admin::get_asset))
                .route(web::put().to(admin::replace_asset))
                .route(web::patch().to(admin::patch_asset))
                .route(web::delete().to(admin::archive_asset)),
        )
        .service(resource(
            "/assets/{id}/history",
            web::get().to(admin::asset_history),
        ))
        .service(resource(
            "/assets/{id}/provenance",
            web::get().to(sources::provenance),
        ))
        .service(resource(
            "/assets/{id}/{action}",
            web::post().to(admin::asset_action),
        ))
        .service(resource("/audit", web::get().to(admin::audit_trail)))
        .service(
            web::resource("/activities")
                .route(web::get().to(activities_admin::list_activities))
                .route(web::post().to(activities_admin::create_activity)),
        )
        .service(
            web::resource("/activities/{id}")
                .route(web::get().to(activities_admin::get_activity))
                .route(web::put().to(activities_admin::replace_activity))
                .route(web::patch().to(activities_admin::patch_activity))
                .route(web::delete().to(activities_admin::archive_activity)),
        )
        .service(resource(
            "/activities/{id}/{action}",
            web::post().to(activities_admin::activity_action),
        ))
        .service(resource(
            "/activity-kinds/{slug}",
            web::put().to(activities_admin::put_activity_kind),
        ))
        .service(resource(
            "/audiences/{slug}",
            web::put().to(activities_admin::put_audience),
        ))
        .service(
            web::resource("/users")
                .route(web::get().to(users::list_users))
                .route(web::post().to(users::create_user)),
        )
        .service(resource(
            "/users/{username}/disable",
            web::post().to(users::disable_user),
        ))
        .service(resource(
            "/users/{username}/enable",
            web::post().to(users::enable_user),
        ))
        .service(resource(
            "/users/{username}/revoke-tokens",
            web::post().to(users::revoke_tokens),
        ))
        .service(resource(
            "/users/{username}/password",
            web::put().to(users::set_password),
        ))
        .service(resource(
            "/users/{username}/role",
            web::put().to(users::set_role),
        ))
        .service(resource(
            "/me/password",
            web::put().to(users::change_own_password),
        ))
        .service(
            web::resource("/api-keys")
                .route(web::get().to(api_keys::list))
                .route(web::post().to(api_keys::issue)),
        )
        .service(resource(
            "/api-keys/{id}",
            web::delete().to(api_keys::revoke),
        ))
        .service(
            web::resource("/imports")
                .app_data(web::PayloadConfig::new(bulk::MAX_IMPORT_BYTES))
                .route(web::post().to(bulk::import)),
        )
        .service(
            resource(
                "/imports/activities",
                web::post().to(bulk::import_activities),
            )
            .app_data(web::PayloadConfig::new(bulk::MAX_IMPORT_BYTES)),
        )
        .service(resource("/export", web::get().to(bulk::export)))
        .service(resource("/reports/stale", web::get().to(bulk::stale)))
        .service(resource(
            "/sources/{name}",
            web::put().to(sources::put_source),
        ))
        .service(resource("/matches", web::get().to(sources::list_matches)))
        .service(resource("/matches/{id}", web::get().to(sources::get_match)))
        .service(resource(
            "/matches/{id}/decision",
            web::post().to(sources::decide_match),
        ))
        .service(resource("/suggestions", web::get().to(suggestions::list)))
        .service(resource(
            "/suggestions/{id}/approve",
            web::post().to(suggestions::approve),
        ))
        .service(resource(
            "/suggestions/{id}/reject",
            web::post().to(suggestions::reject),
        ));
    let auth = web::scope("/auth").app_data(Curators).service(
        resource("/token", web::post().to(auth::token))
            .app_data(web::PayloadConfig::new(auth::MAX_LOGIN_BYTES)),
    );
    let v1 = web::scope("/v1")
        .wrap(actix_web::middleware::from_fn(gate::limit))
        .service(admin)
        .service(auth)
        // `nearest` before `{id}`, so the literal path wins.
        .service(resource(
            "/assets/nearest",
            web::get().to(assets::nearest_assets),
        ))
        .service(resource("/assets", web::get().to(assets::list_assets)))
        .service(resource("/assets/{id}", web::get().to(assets::get_asset)))
        .service(resource(
            "/assets/{id}/activities",
            web::get().to(activities::venue_activities),
        ))
        .service(resource(
            "/activities",
            web::get().to(activities::list_activities),
        ))
        .service(resource(
            "/activities/{id}",
            web::get().to(activities::get_activity),
        ))
        .service(resource(
            "/activity-kinds",
            web::get().to(activities::list_kinds),
        ))
        .service(resource(
            "/audiences",
            web::get().to(activities::list_audiences),
        ))
        .service(resource("/areas", web::get().to(areas::list_areas)))
        .service(resource("/areas/{code}", web::get().to(areas::get_area)))
        .service(resource(
            "/reports/access-gaps",
            web::get().to(reports::access_gaps),
        ))
        .service(resource(
            "/reports/access-gaps.svg",
            web::get().to(reports::access_gaps_svg),
        ))
        .service(resource(
            "/reports/access-by-decile",
            web::get().to(reports::access_by_decile),
        ))
        .service(resource(
            "/reports/access-by-decile.svg",
            web::get().to(reports::access_by_decile_svg),
        ))
        .service(resource(
            "/reports/local-authorities",
            web::get().to(reports::local_authorities),
        ))
        .service(resource(
            "/reports/what-if",
            web::post().to(reports::what_if),
        ))
        .service(resource(
            "/suggestions",
            web::post().to(suggestions::suggest),
        ))
        .service(resource(
            "/categories",
            web::get().to(meta::list_categories),
        ))
        .service(resource("/sources", web::get().to(sources::list_sources)));
    cfg.service(v1)
        .service(oruk::scope())
        .service(
            web::scope("/health")
                .service(resource("/live", web::get().to(meta::live)))
                .service(resource("/ready", web::get().to(meta::ready))),
        )
        .service(resource("/metrics", web::get().to(meta::metrics)))
        .service(resource("/docs", web::get().to(docs_redirect)))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()));
}

/// `/docs` -> `/docs/`, where the bundled Swagger UI lives (no network access needed).
async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}
