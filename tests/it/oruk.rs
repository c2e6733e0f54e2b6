//! The Open Referral UK 3.0 read API (`/oruk`), checked the way the official validator
//! checks a feed (see `../shared/oruk/SOURCES.md`): the root, then page 1, the middle page
//! and the last page of every list, and up to 10 records of every `{id}` path, each body
//! validated against the 200 schema of that path in the official `openapi.json`, with the
//! official JSON Schemas registered under their URLs and format checks on. The same checker
//! gives the official verdicts on the validator's own sample feeds, so a checker that
//! passed everything would fail here. The bodies are also checked against the base HSDS 3.0
//! compiled schemas. Loaded with the real libraries, museums and theatres.

use flate2::read::GzDecoder;
use jsonschema::{Draft, ValidationOptions, Validator};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::support::{brute_haversine, on_both_backends, shared_data, Backend, TestApp};

fn shared(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    assert!(p.exists(), "missing {}", p.display());
    p
}

fn read_json(p: &Path) -> Value {
    let mut text = String::new();
    if p.extension().is_some_and(|e| e == "gz") {
        GzDecoder::new(std::fs::File::open(p).unwrap())
            .read_to_string(&mut text)
            .unwrap();
    } else {
        text = std::fs::read_to_string(p).unwrap();
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// An OpenAPI document with the JSON Schemas its responses refer to, registered under
/// their published URLs (nothing is fetched).
struct Spec {
    doc: Value,
    options: ValidationOptions,
    /// Paths whose 200 schema is replaced (the HSDS OpenAPI's known defect).
    overrides: BTreeMap<String, Value>,
}

impl Spec {
    fn new(doc: &str, schemas: &[(&str, &str)]) -> Spec {
        let mut options = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true);
        for (dir, url_prefix) in schemas {
            for entry in std::fs::read_dir(shared(dir)).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                let Some(stem) = name
                    .strip_suffix(".json.gz")
                    .or_else(|| name.strip_suffix(".json"))
                else {
                    continue;
                };
                options = options.with_resource(
                    format!("{url_prefix}{stem}.json"),
                    Draft::Draft202012.create_resource(read_json(&path)),
                );
            }
        }
        Spec {
            doc: read_json(&shared(doc)),
            options,
            overrides: BTreeMap::new(),
        }
    }

    /// The official Open Referral UK 3.0 specification.
    fn oruk() -> Spec {
        Spec::new(
            "oruk/openreferraluk/specifications/3.0/openapi.json",
            &[(
                "oruk/openreferraluk/specifications/3.0/schema",
                "https://openreferraluk.org/specifications/3.0/schema/",
            )],
        )
    }

    /// Base HSDS 3.0's compiled (self-contained) schemas, with `/service_at_locations/{id}`
    /// checked against the service_at_location schema (the published OpenAPI names the
    /// service schema there). HSDS's taxonomy schemas refer to a `metadata.json` that is
    /// not published beside them, so the taxonomy paths are checked against ORUK's only.
    fn hsds() -> Spec {
        let base = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/";
        let mut s = Spec::new(
            "hsds/openreferral-specification/3.0/schema/openapi.json",
            &[(
                "hsds/openreferral-specification/3.0/schema/compiled",
                &format!("{base}compiled/"),
            )],
        );
        s.overrides.insert(
            "/service_at_locations/{id}".into(),
            json!({"$ref": format!("{base}compiled/service_at_location.json")}),
        );
        s
    }

    fn paths(&self) -> Vec<String> {
        self.doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    /// Whether the path is tagged `required` (the others give warnings).
    fn required(&self, path: &str) -> bool {
        self.doc["paths"][path]["get"]["tags"]
            .as_array()
            .is_some_and(|t| {
                t.iter().any(|t| {
                    t.as_str()
                        .is_some_and(|t| t.eq_ignore_ascii_case("required"))
                })
            })
    }

    /// `#/...` references of the document replaced by what they point at.
    fn inline_local(&self, v: &Value) -> Value {
        match v {
            Value::Object(o) => {
                if let Some(r) = o.get("$ref").and_then(|r| r.as_str()) {
                    if let Some(pointer) = r.strip_prefix('#') {
                        let target = self.doc.pointer(pointer).expect("a local $ref resolves");
                        return self.inline_local(target);
                    }
                }
                Value::Object(
                    o.iter()
                        .map(|(k, x)| (k.clone(), self.inline_local(x)))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.inline_local(x)).collect()),
            _ => v.clone(),
        }
    }

    /// The validator of a path's 200 response body.
    fn validator(&self, path: &str) -> Validator {
        let schema = match self.overrides.get(path) {
            Some(s) => s.clone(),
            None => self.inline_local(
                &self.doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
                    ["schema"],
            ),
        };
        assert!(!schema.is_null(), "{path} has no 200 schema");
        self.options
            .build(&schema)
            .unwrap_or_else(|e| panic!("the schema of {path} does not compile: {e}"))
    }

    fn errors(&self, path: &str, body: &Value) -> Vec<String> {
        let v = self.validator(path);
        let errors: Vec<String> = v
            .iter_errors(body)
            .map(|e| format!("{path}: {}: {e}", e.instance_path))
            .collect();
        errors
    }
}

#[derive(Debug, PartialEq)]
enum Verdict {
    Pass,
    PassWithWarnings,
    Fail,
}

/// What the checker found in a feed.
#[derive(Default)]
struct Report {
    /// Errors on paths tagged `required`: the feed fails.
    required: Vec<String>,
    /// Errors on the optional paths: warnings.
    optional: Vec<String>,
    /// Every body checked, with the path it answered.
    bodies: Vec<(String, Value)>,
}

impl Report {
    fn verdict(&self) -> Verdict {
        if !self.required.is_empty() {
            Verdict::Fail
        } else if !self.optional.is_empty() {
            Verdict::PassWithWarnings
        } else {
            Verdict::Pass
        }
    }
}

/// A feed: `GET` of a path and query under its base URL, the status and JSON body.
type Get<'a> = &'a dyn Fn(&str) -> (u16, Option<Value>);

/// Checks a feed as the official validator does.
fn check_feed(spec: &Spec, get: Get) -> Report {
    let mut r = Report::default();
    // The root, with and without its slash: the version and absolute links.
    for root in ["", "/"] {
        match get(root) {
            (200, Some(body)) => {
                let mut errors = spec.errors("/", &body);
                if body["version"] != "HSDS-UK-3.0" {
                    errors.push(format!("{root:?}: version is {}", body["version"]));
                }
                for link in ["profile", "openapi_url"] {
                    let ok = body[link]
                        .as_str()
                        .is_some_and(|u| u.starts_with("https://") || u.starts_with("http://"));
                    if !ok {
                        errors.push(format!(
                            "{root:?}: {link} is not an absolute URL: {}",
                            body[link]
                        ));
                    }
                }
                r.required.extend(errors);
                r.bodies.push(("/".into(), body));
            }
            (status, _) => r.required.push(format!("GET {root:?} answered {status}")),
        }
    }
    let paths = spec.paths();
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for list in paths.iter().filter(|p| *p != "/" && !p.contains('{')) {
        let required = spec.required(list);
        let mut errors = Vec::new();
        let first = get(&format!("{list}?page=1"));
        match first {
            (200, Some(body)) => {
                let total_pages = body["total_pages"].as_u64().unwrap_or(1).max(1);
                ids.insert(
                    list.clone(),
                    body["contents"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|x| x["id"].as_str().map(str::to_string))
                        .take(10)
                        .collect(),
                );
                errors.extend(spec.errors(list, &body));
                r.bodies.push((list.clone(), body));
                // As the validator does: `total_pages / 2` is page 0 for a one-page list.
                let mut pages = vec![total_pages / 2, total_pages];
                pages.dedup();
                for page in pages.into_iter().filter(|p| *p != 1) {
                    match get(&format!("{list}?page={page}")) {
                        (200, Some(body)) => {
                            errors.extend(spec.errors(list, &body));
                            r.bodies.push((list.clone(), body));
                        }
                        (status, _) => errors.push(format!("{list}?page={page} answered {status}")),
                    }
                }
            }
            // An optional endpoint may be left out.
            (404 | 501 | 503, _) if !required => continue,
            (status, _) => errors.push(format!("{list}?page=1 answered {status}")),
        }
        if required {
            &mut r.required
        } else {
            &mut r.optional
        }
        .extend(errors);
    }
    for one in paths.iter().filter(|p| p.ends_with("/{id}")) {
        let required = spec.required(one);
        let list = one.trim_end_matches("/{id}");
        let mut errors = Vec::new();
        for id in ids.get(list).into_iter().flatten() {
            match get(&format!("{list}/{id}")) {
                (200, Some(body)) => {
                    errors.extend(spec.errors(one, &body));
                    r.bodies.push((one.clone(), body));
                }
                (404 | 501 | 503, _) if !required => break,
                (status, _) => errors.push(format!("{list}/{id} answered {status}")),
            }
        }
        if required {
            &mut r.required
        } else {
            &mut r.optional
        }
        .extend(errors);
    }
    r
}

/// One of the validator's sample feeds, served from its files: a list path gives its
/// `*_list.json` whatever the page, an `{id}` path its single record.
fn sample_feed(name: &str) -> impl Fn(&str) -> (u16, Option<Value>) {
    let dir = shared(&format!("oruk/validator-mocks/{name}"));
    move |path_and_query: &str| {
        let path = path_and_query.split('?').next().unwrap();
        let files: &[&str] = match path.trim_end_matches('/') {
            "" => &["api_details.json"],
            "/services" => &["service_list.json"],
            "/service_at_locations" => &["service_at_location_list.json"],
            "/organizations" => &["organization_list.json"],
            "/taxonomies" => &["taxonomy_list.json"],
            "/taxonomy_terms" => &["taxonomy_term_list.json"],
            p if p.starts_with("/services/") => &["service_full.json"],
            p if p.starts_with("/service_at_locations/") => &["service_at_location_full.json"],
            p if p.starts_with("/organizations/") => {
                &["organization.json", "organization_full.json"]
            }
            p if p.starts_with("/taxonomies/") => &["taxonomy.json"],
            p if p.starts_with("/taxonomy_terms/") => &["taxonomy_term.json"],
            _ => &[],
        };
        match files.iter().map(|f| dir.join(f)).find(|f| f.exists()) {
            Some(f) => (200, Some(read_json(&f))),
            None => (404, None),
        }
    }
}

#[test]
fn the_checker_gives_the_official_verdicts_on_the_validators_samples() {
    let spec = Spec::oruk();
    let default = check_feed(&spec, &sample_feed("V3.0-UK-Default"));
    assert_eq!(
        default.verdict(),
        Verdict::Pass,
        "{:#?} {:#?}",
        default.required,
        default.optional
    );
    let warn = check_feed(&spec, &sample_feed("V3.0-UK-Warn"));
    assert_eq!(
        warn.verdict(),
        Verdict::PassWithWarnings,
        "{:#?}",
        warn.required
    );
    let fail = check_feed(&spec, &sample_feed("V3.0-UK-Fail"));
    assert_eq!(fail.verdict(), Verdict::Fail, "{:#?}", fail.optional);
}

/// A few venues with opening hours, contacts and access (the real lists have none), beside
/// the real ones.
fn venues_with_hours(app_dir: &Path) -> PathBuf {
    let p = app_dir.join("oruk-venues.csv");
    std::fs::write(
        &p,
        "source,source_id,name,category,lat,lon,address,town,postcode,website,phone,email,opening_hours,wheelchair,cost,description,tags,status\n\
         oruk-test,1,Riverside Gallery,gallery,51.5079,-0.0877,1 River Walk,London,SE1 9AA,https://riverside.example.org,020 7946 0001,hello@riverside.example.org,\"Mo-Fr 10:00-17:00; Sa 10:00-16:00; PH off\",yes,free,Paintings and prints by local artists,,published\n\
         oruk-test,2,Corner Cafe,cafe,53.4794,-2.2453,2 Market Street,Manchester,M1 1AA,,0161 496 0002,,\"Tu-Su 09:00-17:00\",limited,paid,,,published\n\
         oruk-test,3,Late Picture House,cinema,52.4862,-1.8904,\"3 New Street, Birmingham\",,B2 4AA,https://late.example.org,,,\"Sa 19:00-23:00; Dec 25 off\",no,paid,Late films on Saturdays,,published\n",
    )
    .unwrap();
    p
}

/// How many generated activities the real venues get (the issue asks for a few hundred).
const ACTIVITIES: usize = 400;

/// The real venues, and `activities` generated activities at them.
fn loaded(backend: Backend, activities: usize) -> TestApp {
    let dir = crate::support::scratch_dir();
    let app = TestApp::spawn(
        backend,
        &[
            &shared_data(crate::support::LIBRARIES),
            &shared_data("assets_uk_museums_2021.csv"),
            &shared_data("assets_england_theatres_fhrs_2020.csv"),
            &venues_with_hours(&dir),
        ],
    );
    let today = chrono::Utc::now().date_naive();
    if activities > 0 {
        let n =
            community_assets::synth::seed_activities(&app.store, activities, 42, today).unwrap();
        assert_eq!(n, activities);
        app.state.refresh().unwrap();
    }
    app
}

/// Every `null` or `""` in a body, by path.
fn empties(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Null => out.push(format!("{at}: null")),
        Value::String(s) if s.is_empty() => out.push(format!("{at}: \"\"")),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| empties(x, &format!("{at}/{i}"), out)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| empties(x, &format!("{at}/{k}"), out)),
        _ => {}
    }
}

fn oruk_get(app: &TestApp) -> impl Fn(&str) -> (u16, Option<Value>) + '_ {
    move |pq: &str| {
        let r = app.request_any("GET", &format!("/oruk{pq}"), &[]);
        assert!(
            r.status < 500,
            "/oruk{pq} answered {}: {}",
            r.status,
            r.body
        );
        (r.status, serde_json::from_str(&r.body).ok())
    }
}

fn the_feed_passes_the_official_checks_and_hsds(backend: Backend) {
    let app = loaded(backend, ACTIVITIES);
    let get = oruk_get(&app);
    let report = check_feed(&Spec::oruk(), &get);
    assert_eq!(report.required, Vec::<String>::new());
    assert_eq!(report.optional, Vec::<String>::new());
    assert_eq!(report.verdict(), Verdict::Pass);
    // Many pages: the middle and last pages were read too.
    let (_, first) = get("/services?page=1");
    let first = first.unwrap();
    assert!(
        first["total_pages"].as_u64().unwrap() > 50,
        "{}",
        first["total_pages"]
    );
    // The base standard's schemas accept the same bodies.
    let hsds = Spec::hsds();
    let mut errors = Vec::new();
    let mut nulls = Vec::new();
    let mut checked = 0;
    for (path, body) in &report.bodies {
        if path != "/" && !path.starts_with("/taxonom") {
            errors.extend(hsds.errors(path, body));
            checked += 1;
        }
        empties(body, path, &mut nulls);
    }
    // Page 1, the middle and the last of three lists, and 10 records of each.
    assert_eq!(checked, 3 * 3 + 3 * 10, "bodies checked against HSDS");
    assert_eq!(errors, Vec::<String>::new());
    // Not a validator that accepts anything: a service without its name, or with a bad id.
    let (path, service) = report
        .bodies
        .iter()
        .find(|(p, _)| p == "/services/{id}")
        .unwrap();
    let mut broken = service.clone();
    broken.as_object_mut().unwrap().remove("name");
    assert!(!hsds.errors(path, &broken).is_empty());
    broken["name"] = json!("x");
    broken["id"] = json!("not-a-uuid");
    assert!(!hsds.errors(path, &broken).is_empty());
    assert!(!Spec::oruk().errors(path, &broken).is_empty());
    assert_eq!(nulls, Vec::<String>::new());
    // The activities are services of their own (by their own id), and a venue with
    // published activities has no visit service: counted from the database.
    let (_, taxonomies) = get("/taxonomies");
    assert_eq!(taxonomies.unwrap()["total_items"], 3);
    let mut conn = app.store.conn().unwrap();
    let venues: HashSet<uuid::Uuid> = community_assets::store::assets::all(&mut conn)
        .unwrap()
        .into_iter()
        .filter(|a| a.fields.status == community_assets::domain::Status::Published)
        .map(|a| a.id)
        .collect();
    let public: Vec<community_assets::domain::Activity> =
        community_assets::store::activities::all(&mut conn)
            .unwrap()
            .into_iter()
            .filter(|a| {
                a.fields.status == community_assets::domain::Status::Published
                    && venues.contains(&a.fields.asset_id)
            })
            .collect();
    let busy: HashSet<uuid::Uuid> = public.iter().map(|a| a.fields.asset_id).collect();
    assert!(public.len() > ACTIVITIES / 2, "{}", public.len());
    let (_, all) = get("/services?per_page=1");
    assert_eq!(
        all.unwrap()["total_items"].as_u64().unwrap() as usize,
        venues.len() - busy.len() + public.len()
    );
    let one = &public[0];
    let (status, service) = get(&format!("/services/{}", one.id));
    assert_eq!(status, 200);
    let service = service.unwrap();
    assert_eq!(service["name"], one.fields.name.as_str());
    assert_eq!(
        Spec::oruk().errors("/services/{id}", &service),
        Vec::<String>::new()
    );
    assert_eq!(
        hsds.errors("/services/{id}", &service),
        Vec::<String>::new()
    );
    // The venue with opening hours: weekly records, the raw text and the exceptions kept.
    let (_, found) = get("/services?search=riverside%20paintings&full=true");
    let found = found.unwrap();
    assert_eq!(found["total_items"], 1, "{found}");
    let s = &found["contents"][0];
    let schedules = s["schedules"].as_array().unwrap();
    let days: Vec<(&str, &str, &str)> = schedules
        .iter()
        .map(|x| {
            (
                x["byday"].as_str().unwrap(),
                x["opens_at"].as_str().unwrap(),
                x["closes_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        vec![
            ("MO,TU,WE,TH,FR", "10:00", "17:00"),
            ("SA", "10:00", "16:00")
        ]
    );
    assert!(schedules.iter().all(|x| x["freq"] == "WEEKLY"
        && x["description"]
            .as_str()
            .unwrap()
            .contains("Mo-Fr 10:00-17:00; Sa 10:00-16:00; PH off")
        && x["notes"].as_str().unwrap().contains("PH off")));
    assert_eq!(s["cost_options"][0]["amount"], 0.0);
    assert_eq!(s["phones"][0]["number"], "020 7946 0001");
    let location = &s["service_at_locations"][0]["location"];
    assert_eq!(location["addresses"][0]["postal_code"], "SE1 9AA");
    assert_eq!(location["addresses"][0]["country"], "GB");
    assert!(location["accessibility"][0]["description"]
        .as_str()
        .unwrap()
        .contains("Step-free"));
    // Each record by id is the one listed; ids are stable across requests.
    let id = s["id"].as_str().unwrap();
    let (status, one) = get(&format!("/services/{id}"));
    assert_eq!(status, 200);
    assert_eq!(&one.unwrap(), s);
}

fn cors_is_open_and_errors_are_problems(backend: Backend) {
    let db = crate::support::TestDb::new(backend);
    let mut config = TestApp::config(&db.url);
    config.cors = community_assets::config::CorsPolicy::Off;
    let app = TestApp::spawn_with(config, &[&shared_data(crate::support::LIBRARIES)]);
    let origin = [("Origin", "https://directory.example.org")];
    // CORS is off for the rest of the API, but not for Open Referral.
    let v1 = app.request("GET", "/v1/assets", &origin);
    assert_eq!(v1.header("access-control-allow-origin"), None);
    for path in [
        "/oruk",
        "/oruk/",
        "/oruk/services",
        "/oruk/taxonomies",
        "/oruk/services/nope",
    ] {
        let r = app.request_any("GET", path, &origin);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{path}");
    }
    let pre = app.request_any(
        "OPTIONS",
        "/oruk/services",
        &[
            ("Origin", "https://x.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    // Both forms of the root answer the same.
    assert_eq!(app.get("/oruk").json(), app.get("/oruk/").json());
    // Page 0 (the validator's middle page of a one-page list) is the first page.
    assert_eq!(
        app.get("/oruk/taxonomies?page=0").json(),
        app.get("/oruk/taxonomies?page=1").json()
    );
    // Bad input: a problem naming the parameter.
    for (query, param) in [
        ("/oruk/services?page=-1", "page"),
        ("/oruk/services?page=x", "page"),
        ("/oruk/services?per_page=0", "per_page"),
        ("/oruk/services?per_page=501", "per_page"),
        ("/oruk/services?colour=red", "colour"),
        ("/oruk/services?taxonomy_term_id=museum", "taxonomy_term_id"),
        ("/oruk/services?modified_after=yesterday", "modified_after"),
        ("/oruk/services?day=funday", "day"),
        ("/oruk/services?start_time=25:00", "start_time"),
        ("/oruk/services?proximity=100", "proximity"),
        ("/oruk/services?lat=51.5", "lon"),
        ("/oruk/services?postcode=nowhere&proximity=100", "postcode"),
        ("/oruk/organizations?per_page=-1", "per_page"),
        ("/oruk/taxonomy_terms?taxonomy_id=1", "taxonomy_id"),
        ("/oruk/services/123", "id"),
    ] {
        let r = app.request_any("GET", query, &[]);
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{query}"
        );
        assert_eq!(
            r.json()["invalid-params"][0]["name"],
            param,
            "{query}: {}",
            r.body
        );
    }
    for path in [
        "/oruk/services/",
        "/oruk/service_at_locations/",
        "/oruk/organizations/",
        "/oruk/taxonomies/",
        "/oruk/taxonomy_terms/",
    ] {
        let r = app.request_any("GET", &format!("{path}{}", uuid::Uuid::new_v4()), &[]);
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    // Postcodes are not imported here: 409, saying so.
    let r = app.request_any(
        "GET",
        "/oruk/services?postcode=SW1A%202AA&proximity=1000",
        &[],
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("postcode"));
}

/// Every service at location of the feed, page by page.
fn all_links(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let body = app
            .get(&format!(
                "/oruk/service_at_locations?per_page=500&page={page}"
            ))
            .json();
        out.extend(body["contents"].as_array().unwrap().iter().cloned());
        if body["last_page"] == true {
            break;
        }
    }
    out
}

fn filters_combine_and_proximity_is_nearest_first(backend: Backend) {
    let app = loaded(backend, 0);
    let links = all_links(&app);
    let total = app.get("/oruk/services?per_page=1").json()["total_items"]
        .as_u64()
        .unwrap();
    assert_eq!(links.len() as u64, total);
    let distinct: std::collections::HashSet<&str> =
        links.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(distinct.len(), links.len(), "every id once over the pages");
    // Proximity around a point: every location within the radius, nearest first, by a
    // brute-force great-circle distance over the whole feed.
    let (lat, lon, radius) = (51.5074, -0.1278, 3000.0);
    let mut expected: Vec<(f64, String)> = links
        .iter()
        .map(|l| {
            let loc = &l["location"];
            let d = brute_haversine(
                lat,
                lon,
                loc["latitude"].as_f64().unwrap(),
                loc["longitude"].as_f64().unwrap(),
            );
            (d, l["service_id"].as_str().unwrap().to_string())
        })
        .filter(|(d, _)| *d <= radius)
        .collect();
    expected.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(expected.len() > 10, "{} near Charing Cross", expected.len());
    let near = app
        .get(&format!(
            "/oruk/services?lat={lat}&lon={lon}&proximity={radius}&per_page=500"
        ))
        .json();
    assert_eq!(
        near["total_items"].as_u64().unwrap() as usize,
        expected.len()
    );
    let got: Vec<(f64, String)> = near["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["distance_m"].as_f64().unwrap(),
                s["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (g, e) in got.iter().zip(&expected) {
        assert!((g.0 - e.0).abs() < 0.2, "{g:?} vs {e:?}");
    }
    assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
    let got_ids: std::collections::HashSet<&String> = got.iter().map(|g| &g.1).collect();
    let expected_ids: std::collections::HashSet<&String> = expected.iter().map(|e| &e.1).collect();
    assert_eq!(got_ids, expected_ids);
    // A taxonomy term: the museums, each classified so, as many as the public API has.
    let terms = app.get("/oruk/taxonomy_terms?search=museum").json();
    let museum = terms["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["term"] == "museum")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let museums = app
        .get(&format!(
            "/oruk/services?taxonomy_term_id={museum}&full=true&per_page=500"
        ))
        .json();
    let v1 = app.get("/v1/assets?category=museum&limit=1").json();
    assert_eq!(museums["total_items"], v1["total"]);
    assert!(museums["contents"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["taxonomy_term_id"] == museum.as_str())));
    // ANDed with proximity and search.
    let both = app
        .get(&format!("/oruk/services?taxonomy_term_id={museum}&lat={lat}&lon={lon}&proximity={radius}&search=museum"))
        .json();
    let n = both["total_items"].as_u64().unwrap();
    assert!(n > 0 && n < near["total_items"].as_u64().unwrap());
    // Search: the words of the public API's q, and also the classification's labels.
    let count = |q: &str| app.get(q).json()["total"].as_u64().unwrap();
    let search = app.get("/oruk/services?search=central").json();
    assert_eq!(search["total_items"], count("/v1/assets?q=central&limit=1"));
    let search = app.get("/oruk/services?search=central%20library").json();
    let others = "museum,gallery,theatre,cafe,arts_centre,heritage,cinema,community_centre";
    assert_eq!(
        search["total_items"].as_u64().unwrap(),
        count("/v1/assets?q=central&category=library&limit=1")
            + count(&format!(
                "/v1/assets?q=central%20library&category={others}&limit=1"
            ))
    );
    // The UK profile's schedule filters, on the three venues with hours.
    let ids = |q: &str| -> Vec<String> {
        let mut names: Vec<String> = app.get(&format!("/oruk/services?{q}")).json()["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        ids("day=SA"),
        ["Corner Cafe", "Late Picture House", "Riverside Gallery"]
    );
    assert_eq!(ids("day=monday"), ["Riverside Gallery"]);
    assert_eq!(ids("day=SA&start_time=18:00"), ["Late Picture House"]);
    assert_eq!(ids("day=SU&end_time=17:00"), ["Corner Cafe"]);
    assert_eq!(
        ids("day=SA&start_time=09:00&end_time=16:30"),
        ["Riverside Gallery"]
    );
    // modified_after, and organization_id finds its one service.
    assert_eq!(
        app.get("/oruk/services?modified_after=2999-01-01").json()["total_items"],
        0
    );
    assert_eq!(
        app.get("/oruk/services?modified_after=2000-01-01T00:00:00Z")
            .json()["total_items"],
        total
    );
    let org = links[7]["service"]["organization_id"].as_str().unwrap();
    let of_org = app
        .get(&format!("/oruk/services?organization_id={org}"))
        .json();
    assert_eq!(of_org["total_items"], 1);
    assert_eq!(of_org["contents"][0]["id"], links[7]["service_id"]);
    // Ages: a visit service has no age limit, so every age matches.
    assert_eq!(
        app.get("/oruk/services?minimum_age=5&maximum_age=11")
            .json()["total_items"],
        total
    );
    // Past the last page: an empty page, not an error.
    let past = app.get("/oruk/services?page=100000").json();
    assert_eq!(past["empty"], true);
    assert_eq!(past["size"], 0);
}

on_both_backends!(
    the_feed_passes_the_official_checks_and_hsds,
    cors_is_open_and_errors_are_problems,
    filters_combine_and_proximity_is_nearest_first,
);
