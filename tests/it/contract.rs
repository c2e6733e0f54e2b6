//! The HTTP contract, in-process: the real router and middleware (`startup::app`) under
//! `actix_web::test::init_service`, over a fresh SQLite database with the real libraries
//! and the shipped Liverpool areas, without sockets. The routes come from the OpenAPI
//! document the code generates, so a new route or parameter is checked as soon as it is
//! documented. What only a real socket shows (HEAD's body dropped by the HTTP codec,
//! timeouts, hostile bytes) stays in the socket and process tests.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::{test, web};
use serde_json::Value;
use std::path::Path;

use community_assets::curation::imports::{import_file, ImportOptions};
use community_assets::import::areas::{import_areas_files, AreaFiles};
use community_assets::startup::app;
use community_assets::state::AppState;
use community_assets::store::Store;

use crate::support::{shared_data, Backend, Resp, TestApp, TestDb, LIBRARIES};
use community_assets::auth::Role;

/// A fresh SQLite database with the real libraries and the sample's Liverpool areas, and
/// the state a server over it would have (test configuration: no rate limits).
fn state() -> (TestDb, AppState) {
    let db = TestDb::new(Backend::Sqlite);
    let store = Store::open(&db.url).expect("open store");
    import_file(&store, &shared_data(LIBRARIES), &ImportOptions::default()).expect("import");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample");
    let areas = AreaFiles {
        imd: sample.join("iod2019_liverpool_file1_imd.csv.gz"),
        domains: Some(sample.join("iod2019_liverpool_file2_domains.csv.gz")),
        population: Some(sample.join("iod2019_liverpool_file6_population.csv.gz")),
        points: Some(sample.join("lsoa2011_pwc_liverpool.csv.gz")),
        boundaries: None,
        ..Default::default()
    };
    import_areas_files(&store, &areas, false).expect("import areas");
    add_activity(&store);
    let state = AppState::load(store, TestApp::config(&db.url)).expect("load snapshot");
    (db, state)
}

/// One published activity at the first published library, so that the activity routes
/// have something to answer.
fn add_activity(store: &Store) {
    use community_assets::domain::activity::{ActivityFields, Vocabulary};
    use community_assets::store::{activities, assets};
    let mut conn = store.conn().unwrap();
    let venue = assets::all(&mut conn)
        .unwrap()
        .into_iter()
        .find(|a| a.fields.status == community_assets::domain::Status::Published)
        .unwrap();
    let slugs = |t: Vec<community_assets::domain::activity::Term>| {
        t.into_iter()
            .map(|t| t.slug)
            .collect::<std::collections::HashSet<_>>()
    };
    let kinds = slugs(activities::kinds(&mut conn).unwrap());
    let audiences = slugs(activities::audiences(&mut conn).unwrap());
    let body = serde_json::json!({"asset_id": venue.id.to_string(), "name": "Shared reading",
        "kind": "reading", "audiences": ["loneliness"], "cost": "free", "status": "published",
        "schedule": [{"freq": "WEEKLY", "byday": "TU", "opens_at": "14:00", "closes_at": "15:00"}]});
    let vocab = Vocabulary {
        kinds: &kinds,
        audiences: &audiences,
    };
    let fields = ActivityFields::parse(body.as_object().unwrap(), &vocab).unwrap();
    activities::create(&mut conn, fields, "test", "activity.create").unwrap();
}

/// One request through the service. An error the service returns rather than answers is
/// rendered as the server would render it.
async fn call<S, R, B>(app: &S, req: R) -> Resp
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (status, headers, body) = match app.call(req).await {
        Ok(res) => {
            let headers = header_pairs(res.headers());
            let status = res.status().as_u16();
            (status, headers, test::read_body(res).await)
        }
        Err(e) => {
            let res = e.as_response_error().error_response();
            let headers = header_pairs(res.headers());
            let status = res.status().as_u16();
            let body = actix_web::body::to_bytes(res.into_body())
                .await
                .unwrap_or_default();
            (status, headers, body)
        }
    };
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn header_pairs(h: &actix_web::http::header::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect()
}

fn get(uri: &str) -> test::TestRequest {
    test::TestRequest::get().uri(uri)
}

/// The generated OpenAPI document.
fn openapi() -> Value {
    serde_json::from_str(&community_assets::api::openapi_json()).unwrap()
}

/// Every documented (path, method), methods in lower case.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((path.clone(), method.clone(), op.clone()));
        }
    }
    ops
}

fn is_admin(path: &str) -> bool {
    path.starts_with("/v1/admin/")
}

fn assert_problem(r: &Resp, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{what}"
    );
    assert_eq!(r.json()["status"], status, "{what}: {}", r.body);
}

/// A malformed or out-of-range value for each query parameter of the public API, by name.
const MALFORMED: &[(&str, &str)] = &[
    ("age", "121"),
    ("at", "yesterday"),
    ("audience", "everyone"),
    ("between", "2026-12-10,2026-12-01"),
    ("day", "xx"),
    ("from_time", "25:00"),
    ("kind", "knitting"),
    ("on", "1/12/2026"),
    ("referral", "boss"),
    ("to_time", "9am"),
    ("bbox", "1,2,3"),
    ("category", "zoo"),
    ("cost", "paid"),
    ("cursor", "garbage"),
    ("decile", "11"),
    ("format", "xml"),
    ("geometry", "bogus"),
    ("k", "0"),
    ("la", "E99999999"),
    ("lat", "91"),
    ("limit", "0"),
    ("lon", "181"),
    ("max_decile", "11"),
    ("near", "91,0"),
    ("near_postcode", "banana"),
    ("open_at", "yesterday"),
    ("open_now", "yes"),
    ("radius_m", "abc"),
    ("sort", "bogus"),
    ("tag", "Not%20A%20Tag!"),
    ("threshold_m", "abc"),
    ("wheelchair", "maybe"),
];

/// Good values of required query parameters.
const REQUIRED: &[(&str, &str)] = &[("category", "library"), ("lat", "53.4"), ("lon", "-2.98")];

/// Parameters of a route that take any text (a search, a filter that may match nothing, a
/// code to start after), so no value of them is malformed.
const ANY_TEXT: &[(&str, &str)] = &[
    ("/v1/assets", "q"),
    ("/v1/activities", "q"),
    ("/v1/areas", "q"),
    ("/v1/areas", "la"),
    ("/v1/areas", "cursor"),
];

/// Routes with no query parameters accept and ignore a query string; they are not checked
/// for unknown parameters.
#[actix_web::test]
async fn every_public_get_parameter_is_checked_and_named_in_a_problem() {
    let (_db, state) = state();
    let svc = test::init_service(app(web::Data::new(state))).await;
    let id = call(&svc, get("/v1/assets?limit=1").to_request())
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let code = call(&svc, get("/v1/areas?limit=1").to_request())
        .await
        .json()["items"][0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let activity = call(&svc, get("/v1/activities?limit=1").to_request())
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = openapi();
    let mut checked = 0;
    for (path, method, op) in operations(&doc) {
        if method != "get" || is_admin(&path) {
            continue;
        }
        let this_id = if path.starts_with("/v1/activities/") {
            &activity
        } else {
            &id
        };
        let concrete = path.replace("{id}", this_id).replace("{code}", &code);
        let params: Vec<&Value> = op["parameters"].as_array().into_iter().flatten().collect();
        // The required query parameters, with good values; `name=value` replaces its own.
        let with = |name: &str, value: &str| {
            let mut q: Vec<String> = params
                .iter()
                .filter(|p| p["in"] == "query" && p["required"] == true && p["name"] != name)
                .map(|p| {
                    let n = p["name"].as_str().unwrap();
                    let Some((_, v)) = REQUIRED.iter().find(|(r, _)| *r == n) else {
                        panic!("GET {path}: add a good value of the required `{n}` to REQUIRED")
                    };
                    format!("{n}={v}")
                })
                .collect();
            if !name.is_empty() {
                q.push(format!("{name}={value}"));
            }
            if q.is_empty() {
                concrete.clone()
            } else {
                format!("{concrete}?{}", q.join("&"))
            }
        };
        let ok = call(&svc, get(&with("", "")).to_request()).await;
        assert_eq!(ok.status, 200, "GET {}: {}", with("", ""), ok.body);
        if params.iter().any(|p| p["in"] == "query") {
            let uri = with("not_a_parameter", "1");
            let r = call(&svc, get(&uri).to_request()).await;
            assert_problem(&r, 400, &uri);
            let v = r.json();
            assert_eq!(v["invalid-params"][0]["name"], "not_a_parameter", "{uri}");
            assert!(v["detail"].as_str().unwrap().contains("not_a_parameter"));
            checked += 1;
        }
        for p in &params {
            let name = p["name"].as_str().unwrap();
            let (uri, named) = match p["in"].as_str().unwrap() {
                "query" => {
                    if ANY_TEXT.contains(&(path.as_str(), name)) {
                        continue;
                    }
                    let Some((_, bad)) = MALFORMED.iter().find(|(n, _)| *n == name) else {
                        panic!("GET {path}: add a malformed value of `{name}` to MALFORMED (or list it in ANY_TEXT)")
                    };
                    (with(name, bad), name)
                }
                "path" if name == "id" => (path.replace("{id}", "not-a-uuid"), name),
                // Any text is a code; an unknown one is a 404 (see below).
                "path" if name == "code" => continue,
                "header" => continue,
                other => panic!("GET {path}: parameter {name} in {other} is not checked here"),
            };
            let r = call(&svc, get(&uri).to_request()).await;
            assert_problem(&r, 400, &uri);
            let v = r.json();
            assert_eq!(v["invalid-params"][0]["name"], named, "{uri}: {}", r.body);
            assert!(
                v["detail"].as_str().unwrap().contains(named),
                "{uri}: {}",
                r.body
            );
            checked += 1;
        }
        if let Some(required) = params
            .iter()
            .find(|p| p["in"] == "query" && p["required"] == true)
        {
            // Without a required parameter: a problem naming it.
            let name = required["name"].as_str().unwrap();
            let r = call(&svc, get(&concrete).to_request()).await;
            assert_problem(&r, 400, &concrete);
            assert_eq!(r.json()["invalid-params"][0]["name"], name, "{concrete}");
        }
    }
    assert!(checked > 50, "only {checked} cases checked");
    // A repeated parameter that takes one value, and an overlong query string.
    let r = call(&svc, get("/v1/assets?limit=1&limit=2").to_request()).await;
    assert_problem(&r, 400, "repeated limit");
    assert_eq!(r.json()["invalid-params"][0]["name"], "limit");
    let long = format!("/v1/assets?q={}", "a".repeat(5000));
    assert_problem(
        &call(&svc, get(&long).to_request()).await,
        400,
        "long query",
    );
}

#[actix_web::test]
async fn unknown_things_are_404_and_wrong_methods_405_as_problems() {
    let (_db, state) = state();
    // The admin API answers 401 to any request without a valid token, before routing (it
    // tells strangers nothing, not even which methods exist): 404 and 405 are for curators.
    let user = community_assets::store::users::add(
        &mut state.store.conn().unwrap(),
        "test",
        "root",
        "not a real hash",
        "admin",
    )
    .unwrap();
    let keys = state.auth.keys.as_ref().unwrap();
    let bearer = format!(
        "Bearer {}",
        keys.issue("root", Role::Admin, user.token_version).unwrap()
    );
    let svc = test::init_service(app(web::Data::new(state))).await;
    for uri in [
        "/nope",
        "/v1/nowhere",
        "/v1/assets/00000000-0000-4000-8000-000000000000",
        "/v1/areas/E01999999",
    ] {
        assert_problem(&call(&svc, get(uri).to_request()).await, 404, uri);
    }
    let doc = openapi();
    let ops = operations(&doc);
    let mut checked = 0;
    for (path, _, _) in &ops {
        let concrete = path
            .replace("{id}", "00000000-0000-4000-8000-000000000000")
            .replace("{code}", "E01006512")
            .replace("{action}", "publish")
            .replace("{username}", "ann");
        for method in ["get", "post", "put", "patch", "delete"] {
            if ops.iter().any(|(p, m, _)| p == path && m == method) {
                continue;
            }
            let req = test::TestRequest::default()
                .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                .uri(&concrete)
                .insert_header(("Authorization", bearer.as_str()))
                .to_request();
            let r = call(&svc, req).await;
            assert_problem(&r, 405, &format!("{method} {concrete}"));
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} cases checked");
}

#[actix_web::test]
async fn admin_routes_without_a_token_are_401_with_www_authenticate() {
    let (_db, state) = state();
    let svc = test::init_service(app(web::Data::new(state))).await;
    let doc = openapi();
    let mut checked = 0;
    for (path, method, _) in operations(&doc) {
        if !is_admin(&path) {
            continue;
        }
        let concrete = path
            .replace("{id}", "00000000-0000-4000-8000-000000000000")
            .replace("{action}", "publish")
            .replace("{username}", "ann");
        let what = format!("{method} {concrete}");
        for auth in [None, Some("Bearer not.a.token"), Some("Basic cm9vdDpwdw==")] {
            let mut req = test::TestRequest::default()
                .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                .uri(&concrete);
            if let Some(a) = auth {
                req = req.insert_header(("Authorization", a));
            }
            if method != "get" && method != "delete" {
                req = req
                    .insert_header(("Content-Type", "application/json"))
                    .set_payload("{}");
            }
            let r = call(&svc, req.to_request()).await;
            assert_problem(&r, 401, &format!("{what} with {auth:?}"));
            assert!(
                r.header("www-authenticate")
                    .is_some_and(|h| h.starts_with("Bearer")),
                "{what} with {auth:?}: {:?}",
                r.headers
            );
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} cases checked");
}

/// HEAD is answered as GET: same status and headers (the HTTP codec then drops the body;
/// `production::head_answers_like_get_without_a_body` checks that over a socket).
#[actix_web::test]
async fn head_is_answered_as_get() {
    let (_db, state) = state();
    let svc = test::init_service(app(web::Data::new(state))).await;
    for uri in [
        "/v1/assets?limit=3",
        "/v1/categories",
        "/v1/areas?limit=2",
        "/v1/reports/access-gaps?category=library",
        "/health/live",
        "/openapi.json",
        "/nope",
        "/v1/assets?limit=0",
    ] {
        let get = call(&svc, get(uri).to_request()).await;
        let head = call(
            &svc,
            test::TestRequest::default()
                .method(Method::HEAD)
                .uri(uri)
                .to_request(),
        )
        .await;
        assert_eq!(head.status, get.status, "HEAD {uri}");
        let same = |r: &Resp| {
            let mut h: Vec<(String, String)> = r
                .headers
                .iter()
                .filter(|(k, _)| !["x-request-id", "date", "server-timing"].contains(&k.as_str()))
                .cloned()
                .collect();
            h.sort();
            h
        };
        assert_eq!(same(&head), same(&get), "HEAD {uri}");
    }
    assert_eq!(
        call(&svc, get("/v1/assets?limit=3").to_request())
            .await
            .header("x-total-count"),
        Some("2986")
    );
}

#[actix_web::test]
async fn request_ids_are_echoed_or_made_and_openapi_is_served() {
    let (_db, state) = state();
    let svc = test::init_service(app(web::Data::new(state))).await;
    for uri in ["/v1/categories", "/nope", "/v1/assets?limit=0"] {
        let given = call(
            &svc,
            get(uri)
                .insert_header(("X-Request-Id", "client-42.a"))
                .to_request(),
        )
        .await;
        assert_eq!(given.header("x-request-id"), Some("client-42.a"), "{uri}");
        let made = call(&svc, get(uri).to_request()).await;
        assert_eq!(made.header("x-request-id").map(str::len), Some(32), "{uri}");
        let odd = call(
            &svc,
            get(uri)
                .insert_header(("X-Request-Id", "<script>"))
                .to_request(),
        )
        .await;
        let id = odd.header("x-request-id").unwrap();
        assert_eq!(id.len(), 32, "{uri}: replaced");
        assert_ne!(
            id,
            made.header("x-request-id").unwrap(),
            "{uri}: a new id each time"
        );
        for r in [&given, &made, &odd] {
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(r.header("x-frame-options"), Some("DENY"));
        }
    }
    let r = call(&svc, get("/openapi.json").to_request()).await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    assert_eq!(
        r.json(),
        openapi(),
        "the served document is the generated one"
    );
}
