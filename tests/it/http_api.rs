//! The public API over HTTP, on SQLite and PostgreSQL, checked against an independent
//! brute-force computation over the real English libraries.

use crate::support;
use crate::support::{
    brute_haversine, library_rows, on_both_backends, Backend, LibraryRow, TestApp,
};
use diesel::prelude::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

use community_assets::store::schema::assets;

on_both_backends!(
    nearby_paging_and_nearest_equal_brute_force,
    bbox_sorted_by_name_and_archived_rows_never_appear,
    filters_formats_and_conditional_get,
    every_bad_parameter_is_a_problem_naming_it,
    health_openapi_and_docs,
    a_write_by_another_process_becomes_visible_after_refresh,
);

/// source_id -> asset id, read from the database (ids are assigned at import).
fn ids(app: &TestApp) -> HashMap<String, String> {
    let mut conn = app.store.conn().unwrap();
    assets::table
        .select((assets::source_id.assume_not_null(), assets::id))
        .load::<(String, String)>(&mut *conn)
        .unwrap()
        .into_iter()
        .collect()
}

/// Brute force: published rows within `radius` of (lat, lon), by (distance, id).
fn brute_near(
    rows: &[LibraryRow],
    ids: &HashMap<String, String>,
    lat: f64,
    lon: f64,
    radius: f64,
) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64, &str)> = rows
        .iter()
        .filter(|r| r.published)
        .map(|r| {
            (
                r.source_id.clone(),
                brute_haversine(lat, lon, r.lat, r.lon),
                ids[&r.source_id].as_str(),
            )
        })
        .filter(|(_, d, _)| *d <= radius)
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.2.cmp(b.2)));
    v.into_iter().map(|(s, d, _)| (s, d)).collect()
}

fn items(v: &Value) -> Vec<(String, f64)> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["source_id"].as_str().unwrap().to_string(),
                i["distance_m"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect()
}

fn assert_same(api: &[(String, f64)], brute: &[(String, f64)], what: &str) {
    let a: Vec<&str> = api.iter().map(|x| x.0.as_str()).collect();
    let b: Vec<&str> = brute.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(a, b, "{what}: ids or order differ");
    for (x, y) in api.iter().zip(brute) {
        assert!(
            (x.1 - y.1).abs() < 0.01,
            "{what}: {} distance {} vs brute force {}",
            x.0,
            x.1,
            y.1
        );
    }
}

fn centres(rows: &[LibraryRow]) -> Vec<(f64, f64)> {
    let mut c: Vec<(f64, f64)> = rows.iter().step_by(150).map(|r| (r.lat, r.lon)).collect();
    c.extend([
        (52.0, -1.0),
        (53.8, -1.55),
        (51.5074, -0.1278),
        (50.3755, -4.1427),
    ]);
    c
}

fn nearby_paging_and_nearest_equal_brute_force(backend: Backend) {
    let rows = library_rows();
    let app = TestApp::with_libraries(backend);
    let ids = ids(&app);
    let mut paged = 0;
    for (lat, lon) in centres(&rows) {
        for radius in [1000.0, 5000.0, 20000.0] {
            let brute = brute_near(&rows, &ids, lat, lon, radius);
            let v = app
                .get(&format!(
                    "/v1/assets?near={lat},{lon}&radius_m={radius}&limit=200"
                ))
                .json();
            assert_eq!(
                v["total"].as_u64().unwrap() as usize,
                brute.len(),
                "{backend:?} total at {lat},{lon} r={radius}"
            );
            let first: Vec<_> = brute.iter().take(200).cloned().collect();
            assert_same(
                &items(&v),
                &first,
                &format!("{backend:?} near {lat},{lon} r={radius}"),
            );

            if brute.len() > 40 {
                // Walk every page: no repeats, no gaps, null cursor at the end.
                paged += 1;
                let mut all = Vec::new();
                let mut cursor: Option<String> = None;
                loop {
                    let mut q = format!("/v1/assets?near={lat},{lon}&radius_m={radius}&limit=37");
                    if let Some(c) = &cursor {
                        q.push_str(&format!("&cursor={c}"));
                    }
                    let page = app.get(&q).json();
                    all.extend(items(&page));
                    match page["next_cursor"].as_str() {
                        Some(c) => cursor = Some(c.to_string()),
                        None => break,
                    }
                }
                assert_same(
                    &all,
                    &brute,
                    &format!("{backend:?} paged near {lat},{lon} r={radius}"),
                );
            }
        }

        // k nearest, whatever the distance.
        let brute: Vec<_> = brute_near(&rows, &ids, lat, lon, f64::INFINITY)
            .into_iter()
            .take(10)
            .collect();
        let v = app
            .get(&format!("/v1/assets/nearest?lat={lat}&lon={lon}&k=10"))
            .json();
        assert_same(
            &items(&v),
            &brute,
            &format!("{backend:?} nearest {lat},{lon}"),
        );
        let v = app
            .get(&format!(
                "/v1/assets/nearest?lat={lat}&lon={lon}&k=10&category=library"
            ))
            .json();
        assert_same(
            &items(&v),
            &brute,
            &format!("{backend:?} nearest library {lat},{lon}"),
        );
    }
    assert!(paged > 5, "paging was exercised {paged} times");

    // The middle of the Atlantic still has ten nearest libraries.
    let v = app.get("/v1/assets/nearest?lat=40&lon=-30&k=10").json();
    let brute: Vec<_> = brute_near(&rows, &ids, 40.0, -30.0, f64::INFINITY)
        .into_iter()
        .take(10)
        .collect();
    assert_same(&items(&v), &brute, "nearest from the Atlantic");
    // No museums yet: an empty list, not an error.
    assert_eq!(
        app.get("/v1/assets/nearest?lat=52&lon=-1&category=museum")
            .json()["items"],
        Value::Array(vec![])
    );
}

fn bbox_sorted_by_name_and_archived_rows_never_appear(backend: Backend) {
    let rows = library_rows();
    let archived: HashSet<&str> = rows
        .iter()
        .filter(|r| !r.published)
        .map(|r| r.source_id.as_str())
        .collect();
    assert_eq!(archived.len(), 252);
    let app = TestApp::with_libraries(backend);
    let ids = ids(&app);
    for (min_lon, min_lat, max_lon, max_lat) in [
        (-0.2, 51.45, 0.0, 51.55),
        (-2.5, 53.3, -2.0, 53.6),
        (-6.0, 49.0, 2.0, 56.0),
    ] {
        let mut brute: Vec<(String, String, String)> = rows
            .iter()
            .filter(|r| {
                r.published
                    && (min_lon..=max_lon).contains(&r.lon)
                    && (min_lat..=max_lat).contains(&r.lat)
            })
            .map(|r| {
                (
                    r.name.to_lowercase(),
                    ids[&r.source_id].clone(),
                    r.source_id.clone(),
                )
            })
            .collect();
        brute.sort();
        let mut got = Vec::new();
        let mut cursor = String::new();
        loop {
            let v = app
                .get(&format!(
                    "/v1/assets?bbox={min_lon},{min_lat},{max_lon},{max_lat}&limit=200{cursor}"
                ))
                .json();
            assert_eq!(v["total"].as_u64().unwrap() as usize, brute.len());
            for i in v["items"].as_array().unwrap() {
                assert!(i.get("distance_m").is_none(), "no distance without near");
                got.push(i["source_id"].as_str().unwrap().to_string());
            }
            match v["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        let want: Vec<String> = brute.into_iter().map(|b| b.2).collect();
        assert_eq!(got, want, "{backend:?} bbox by name");
        assert!(got.iter().all(|s| !archived.contains(s.as_str())));
    }

    // An archived library is not found by id, and the categories count only published.
    let archived_id = &ids[*archived.iter().next().unwrap()];
    assert_eq!(app.get(&format!("/v1/assets/{archived_id}")).status, 404);
    let cats = app.get("/v1/categories").json();
    let count = |slug: &str| {
        cats["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["slug"] == slug)
            .unwrap()["assets"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("library"), 2986);
    assert_eq!(count("museum"), 0);
    assert_eq!(cats["items"].as_array().unwrap().len(), 9);
}

const EXTRA: &str = "source,source_id,name,category,lat,lon,opening_hours,wheelchair,cost,description,tags,status
t,m1,Step Free Museum,museum,51.5300,-0.1200,Mo-Fr 09:00-17:00,yes,free,Local history and reading groups,dementia-friendly;family,published
t,m2,Limited Gallery,gallery,51.5301,-0.1201,Mo-Su 10:00-18:00,limited,paid,Paintings,family,published
t,m3,Stairs Theatre,theatre,51.5302,-0.1202,,no,free,Local plays,,published
t,m4,Draft Cafe,cafe,51.5303,-0.1203,,yes,free,,,draft
";

fn filters_formats_and_conditional_get(backend: Backend) {
    let app = TestApp::with_libraries(backend);
    let extra = app.temp_path("extra.csv");
    std::fs::write(&extra, EXTRA).unwrap();
    app.import(&extra);
    let near = "/v1/assets?near=51.53,-0.12&radius_m=500&category=museum,gallery,theatre,cafe";
    let names = |q: &str| -> Vec<String> {
        app.get(&format!("{near}{q}")).json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(""),
        ["Step Free Museum", "Limited Gallery", "Stairs Theatre"],
        "drafts are not public"
    );
    assert_eq!(names("&wheelchair=yes"), ["Step Free Museum"]);
    assert_eq!(
        names("&wheelchair=limited"),
        ["Step Free Museum", "Limited Gallery"]
    );
    assert_eq!(names("&cost=free"), ["Step Free Museum", "Stairs Theatre"]);
    assert_eq!(
        names("&tag=family"),
        ["Step Free Museum", "Limited Gallery"]
    );
    assert_eq!(names("&tag=family,dementia-friendly"), ["Step Free Museum"]);
    assert_eq!(names("&q=LOCAL"), ["Step Free Museum", "Stairs Theatre"]);
    assert_eq!(names("&q=local+reading"), ["Step Free Museum"]);
    // 2026-07-01 is a Wednesday: 08:30 UTC is 09:30 BST (open); in January 08:30 GMT is closed.
    assert_eq!(names("&open_at=2026-07-01T08:30:00Z"), ["Step Free Museum"]);
    assert_eq!(names("&open_at=2026-01-07T08:30:00Z"), Vec::<String>::new());
    assert_eq!(
        names("&open_at=2026-01-10T12:00:00Z"),
        ["Limited Gallery"],
        "a Saturday"
    );
    assert_eq!(
        names("&sort=name"),
        ["Limited Gallery", "Stairs Theatre", "Step Free Museum"]
    );
    let updated = names("&sort=updated");
    assert_eq!(updated.len(), 3);

    // GeoJSON: [lon, lat] coordinates, asset properties.
    for (q, accept) in [("&format=geojson", "*/*"), ("", "application/geo+json")] {
        let r = app.request("GET", &format!("{near}{q}"), &[("Accept", accept)]);
        assert_eq!(r.status, 200);
        assert!(r
            .header("content-type")
            .unwrap()
            .starts_with("application/geo+json"));
        let v = r.json();
        assert_eq!(v["type"], "FeatureCollection");
        let f = &v["features"][0];
        assert_eq!(f["geometry"]["type"], "Point");
        assert_eq!(f["geometry"]["coordinates"][0].as_f64(), Some(-0.12));
        assert_eq!(f["geometry"]["coordinates"][1].as_f64(), Some(51.53));
        assert_eq!(f["properties"]["name"], "Step Free Museum");
        assert!(f["properties"]["distance_m"].as_f64().is_some());
    }

    // CSV: the import header, and it re-imports with nothing changed.
    let r = app.request(
        "GET",
        "/v1/assets?bbox=-0.2,51.45,0.0,51.55&limit=200",
        &[("Accept", "text/csv")],
    );
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(r.body.lines().next().unwrap(), "source,source_id,name,category,lat,lon,address,town,postcode,website,phone,email,opening_hours,wheelchair,cost,description,tags,status,location_precision,sources");
    let rows = r.body.lines().count() - 1;
    let total: usize = r.header("x-total-count").unwrap().parse().unwrap();
    assert_eq!(rows, total.min(200));
    // A radius search adds `distance_m` as the last column, equal to the JSON's.
    let radius = "/v1/assets?near=51.5,-0.12&radius_m=5000&limit=20";
    let json = app.get(radius).json();
    let csv = app.request("GET", radius, &[("Accept", "text/csv")]);
    let mut rdr = csv::Reader::from_reader(csv.body.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header.last().map(String::as_str), Some("distance_m"));
    assert_eq!(header[header.len() - 2], "sources");
    let distances: Vec<f64> = rdr
        .records()
        .map(|r| r.unwrap()[header.len() - 1].parse().unwrap())
        .collect();
    let want: Vec<f64> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["distance_m"].as_f64().unwrap())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(distances.len(), want.len());
    for (got, want) in distances.iter().zip(&want) {
        // serde_json's float parsing may be one unit in the last place off.
        assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
    }
    let export = app.temp_path("export.csv");
    std::fs::write(&export, &r.body).unwrap();
    let outcome = community_assets::curation::imports::import_file(
        &app.store,
        &export,
        &community_assets::curation::imports::ImportOptions {
            contacts: community_assets::import::Contacts::Strict,
            dry_run: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        (outcome.counts.inserted, outcome.counts.updated),
        (0, 0),
        "export re-imports unchanged"
    );
    assert!(outcome.counts.unchanged > 0);
    let r = app.get(&format!("{near}&format=csv"));
    assert!(r.body.contains("dementia-friendly;family"));

    assert_eq!(
        app.request("GET", near, &[("Accept", "application/xml")])
            .status,
        406
    );
    assert_eq!(
        app.request(
            "GET",
            near,
            &[("Accept", "application/xml, application/json;q=0.5")]
        )
        .status,
        200
    );

    // One asset: ETag, Last-Modified, 304.
    let v = app.get(near).json();
    let id = v["items"][0]["id"].as_str().unwrap().to_string();
    let r = app.get(&format!("/v1/assets/{id}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["name"], "Step Free Museum");
    let etag = r.header("etag").unwrap().to_string();
    assert!(r.header("last-modified").is_some());
    assert_eq!(
        app.request(
            "GET",
            &format!("/v1/assets/{id}"),
            &[("If-None-Match", &etag)]
        )
        .status,
        304
    );
    assert_eq!(
        app.request(
            "GET",
            &format!("/v1/assets/{id}"),
            &[("If-None-Match", "\"999\"")]
        )
        .status,
        200
    );
    let path = format!("/v1/assets/{id}");
    let last_modified = r.header("last-modified").unwrap().to_string();
    let status = |h: &[(&str, &str)]| app.request("GET", &path, h).status;
    assert_eq!(status(&[("If-Modified-Since", &last_modified)]), 304);
    assert_eq!(
        status(&[("If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")]),
        200
    );
    let both = [
        ("If-None-Match", "\"999\""),
        ("If-Modified-Since", last_modified.as_str()),
    ];
    assert_eq!(
        status(&both),
        200,
        "If-None-Match wins over If-Modified-Since"
    );
    assert_eq!(
        app.get("/v1/assets/00000000-0000-4000-8000-000000000000")
            .status,
        404
    );
    assert_eq!(app.get("/v1/assets/not-a-uuid").status, 400);
}

fn every_bad_parameter_is_a_problem_naming_it(backend: Backend) {
    let app = TestApp::spawn(backend, &[]);
    let cases = [
        ("/v1/assets?near=51.5,-0.1&radius_m=0", "radius_m"),
        ("/v1/assets?near=51.5,-0.1&radius_m=50001", "radius_m"),
        ("/v1/assets?near=51.5,-0.1&radius_m=abc", "radius_m"),
        ("/v1/assets?radius_m=10", "radius_m"),
        ("/v1/assets?near=91,0", "near"),
        ("/v1/assets?near=1", "near"),
        ("/v1/assets?near=NaN,1", "near"),
        ("/v1/assets?bbox=1,2,3", "bbox"),
        ("/v1/assets?bbox=0,60,1,50", "bbox"),
        ("/v1/assets?bbox=0,0,200,1", "bbox"),
        ("/v1/assets?limit=0", "limit"),
        ("/v1/assets?limit=201", "limit"),
        ("/v1/assets?limit=-1", "limit"),
        ("/v1/assets?sort=distance", "sort"),
        ("/v1/assets?sort=bogus", "sort"),
        ("/v1/assets?category=zoo", "category"),
        ("/v1/assets?wheelchair=maybe", "wheelchair"),
        ("/v1/assets?cost=paid", "cost"),
        ("/v1/assets?open_at=yesterday", "open_at"),
        (
            "/v1/assets?open_at=2026-11-24T10:00:00Z&open_now=true",
            "open_now",
        ),
        ("/v1/assets?open_now=yes", "open_now"),
        ("/v1/assets?cursor=garbage", "cursor"),
        ("/v1/assets?format=xml", "format"),
        ("/v1/assets?tag=Not%20A%20Tag!", "tag"),
        ("/v1/assets?foo=1", "foo"),
        ("/v1/assets?limit=1&limit=2", "limit"),
        ("/v1/assets/nearest?lon=0", "lat"),
        ("/v1/assets/nearest?lat=0", "lon"),
        ("/v1/assets/nearest?lat=0&lon=0&k=0", "k"),
        ("/v1/assets/nearest?lat=0&lon=0&k=101", "k"),
        ("/v1/assets/nearest?lat=0&lon=181", "lon"),
        ("/v1/assets/nearest?lat=0&lon=0&category=zoo", "category"),
        ("/v1/assets/not-a-uuid", "id"),
    ];
    for (path, param) in cases {
        let r = app.get(path);
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        let v = r.json();
        assert_eq!(v["status"], 400);
        assert_eq!(v["invalid-params"][0]["name"], param, "{path}: {}", r.body);
        assert!(v["detail"].as_str().unwrap().contains(param));
    }
    // A cursor from one sort is refused by another.
    let r = app.get("/v1/assets?sort=name&limit=1");
    assert_eq!(r.status, 200);

    for (method, path, status) in [
        ("GET", "/nope", 404),
        (
            "GET",
            "/v1/assets/00000000-0000-4000-8000-000000000000",
            404,
        ),
        ("POST", "/v1/assets", 405),
        ("DELETE", "/v1/categories", 405),
    ] {
        let r = app.request(method, path, &[]);
        assert_eq!(r.status, status, "{method} {path}");
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{method} {path}"
        );
        assert_eq!(r.json()["status"], status);
    }
    let long = format!("/v1/assets?q={}", "a".repeat(5000));
    assert_eq!(app.get(&long).status, 400);
}

fn health_openapi_and_docs(backend: Backend) {
    let app = TestApp::spawn(backend, &[]);
    assert_eq!(app.get("/health/live").json()["status"], "ok");
    let ready = app.get("/health/ready");
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["status"], "ready");
    for r in [&ready, &app.get("/v1/nowhere")] {
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("x-request-id").map(str::len), Some(32), "a new id");
    }
    let given = app.request("GET", "/v1/categories", &[("X-Request-Id", "client-42.a")]);
    assert_eq!(given.header("x-request-id"), Some("client-42.a"));
    let odd = app.request("GET", "/v1/categories", &[("X-Request-Id", "<script>")]);
    assert_eq!(
        odd.header("x-request-id").map(str::len),
        Some(32),
        "replaced"
    );
    let doc = app.get("/openapi.json").json();
    assert_eq!(doc["paths"]["/v1/assets"]["get"]["tags"][0], "assets");
    let docs = app.get("/docs/");
    assert_eq!(docs.status, 200);
    assert!(docs.body.contains("swagger"), "the bundled Swagger UI");
    assert_eq!(
        app.get("/docs/swagger-ui-bundle.js").status,
        200,
        "served locally, no CDN"
    );
    assert!(!docs.body.contains("https://"), "no external resources");
}

fn a_write_by_another_process_becomes_visible_after_refresh(backend: Backend) {
    let app = TestApp::spawn(backend, &[]);
    assert_eq!(app.get("/v1/assets").json()["total"], 0);
    // Another process (here: the import function on the same database) writes...
    let other = community_assets::store::Store::open(&app.url).unwrap();
    community_assets::curation::imports::import_file(
        &other,
        &support::shared_data(support::LIBRARIES),
        &Default::default(),
    )
    .unwrap();
    // ...and the poller's next tick (called directly here) rebuilds the snapshot.
    assert!(app.state.refresh().unwrap());
    assert_eq!(app.get("/v1/assets").json()["total"], 2986);
    assert!(!app.state.refresh().unwrap(), "nothing new: no rebuild");
}

/// Deterministic garbage in every parameter of every endpoint: always a 2xx, 304 or 4xx
/// (the harness fails on any 5xx), and every 4xx is problem+json.
#[test]
fn no_input_yields_a_server_error() {
    let app = TestApp::with_libraries(support::Backend::Sqlite);
    let mut rng = community_assets::synth::Rng::new(42);
    let values = [
        "",
        "0",
        "-1",
        "1e309",
        "NaN",
        "inf",
        "51.5,-0.1",
        "51.5,-0.1,3",
        ",,,",
        "%00",
        "%FF%FE",
        "a,b,c",
        "2026-02-30T25:61:00Z",
        "true",
        "false",
        "\u{1F600}",
        "'; DROP TABLE assets; --",
        "999999999999999999999",
        "-0",
        "0x10",
        "museum,,museum",
        "yes",
        "limited",
        "free",
        "distance",
        "name",
        "updated",
        "geojson",
        "csv",
    ];
    let params = [
        "category",
        "near",
        "radius_m",
        "bbox",
        "q",
        "wheelchair",
        "cost",
        "tag",
        "open_at",
        "open_now",
        "sort",
        "limit",
        "cursor",
        "format",
        "lat",
        "lon",
        "k",
        "zzz",
    ];
    let paths = [
        "/v1/assets",
        "/v1/assets/nearest",
        "/v1/categories",
        "/health/live",
    ];
    for _ in 0..400 {
        let path = rng.pick(&paths);
        let n = rng.next_u64() % 4;
        let query: Vec<String> = (0..n)
            .map(|_| {
                let v: String = rng
                    .pick(&values)
                    .chars()
                    .map(|c| if c == ' ' { '+' } else { c })
                    .collect();
                format!(
                    "{}={}",
                    rng.pick(&params),
                    v.replace('#', "%23").replace('&', "%26")
                )
            })
            .collect();
        let r = app.get(&format!("{path}?{}", query.join("&")));
        if r.status >= 400 {
            assert_eq!(
                r.header("content-type"),
                Some("application/problem+json"),
                "{path}?{query:?}"
            );
        }
    }
}
