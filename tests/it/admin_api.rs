//! The admin API over HTTP on SQLite and PostgreSQL: tokens and roles, conflict detection,
//! validation, the audit trail, and the public API seeing each change at once.

use crate::support::*;
use base64::Engine;
use serde_json::{json, Value};
use std::process::{Command, Stdio};

use community_assets::auth::token::Key;
use community_assets::auth::Role;

on_both_backends!(
    every_admin_endpoint_needs_a_valid_token_and_the_right_role,
    curation_is_checked_audited_and_public_at_once,
    two_editors_updating_at_once_one_wins_and_nothing_is_lost,
    suggestions_are_checked_queued_and_applied_by_an_editor,
    bulk_import_with_matching_export_and_stale_report,
);

const ADMIN_PW: &str = "admin password 1234";
const EDITOR_PW: &str = "editor password 5678";

fn app_with_users(backend: Backend) -> (TestApp, String, String) {
    let app = TestApp::with_libraries(backend);
    app.add_user("root", "admin", ADMIN_PW);
    app.add_user("ann", "editor", EDITOR_PW);
    let admin = app.token("root", ADMIN_PW);
    let editor = app.token("ann", EDITOR_PW);
    (app, admin, editor)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Every admin endpoint, with a body where it takes one.
fn endpoints(id: &str) -> Vec<(&'static str, String, Option<String>, Role)> {
    let asset = json!({"name": "X", "category": "museum", "lat": 52.0, "lon": -1.0}).to_string();
    vec![
        ("GET", "/v1/admin/assets".into(), None, Role::Editor),
        (
            "POST",
            "/v1/admin/assets".into(),
            Some(asset.clone()),
            Role::Editor,
        ),
        ("GET", format!("/v1/admin/assets/{id}"), None, Role::Editor),
        (
            "PUT",
            format!("/v1/admin/assets/{id}"),
            Some(asset),
            Role::Editor,
        ),
        (
            "PATCH",
            format!("/v1/admin/assets/{id}"),
            Some(r#"{"town":"Y"}"#.into()),
            Role::Editor,
        ),
        (
            "DELETE",
            format!("/v1/admin/assets/{id}"),
            None,
            Role::Editor,
        ),
        (
            "POST",
            format!("/v1/admin/assets/{id}/restore"),
            None,
            Role::Editor,
        ),
        (
            "POST",
            format!("/v1/admin/assets/{id}/publish"),
            None,
            Role::Editor,
        ),
        (
            "POST",
            format!("/v1/admin/assets/{id}/unpublish"),
            None,
            Role::Editor,
        ),
        (
            "POST",
            format!("/v1/admin/assets/{id}/verify"),
            None,
            Role::Editor,
        ),
        (
            "GET",
            format!("/v1/admin/assets/{id}/history"),
            None,
            Role::Editor,
        ),
        ("GET", "/v1/admin/audit".into(), None, Role::Editor),
        ("GET", "/v1/admin/users".into(), None, Role::Admin),
        (
            "POST",
            "/v1/admin/users".into(),
            Some(
                json!({"username": "new-user", "password": "twelve chars!", "role": "editor"})
                    .to_string(),
            ),
            Role::Admin,
        ),
        (
            "POST",
            "/v1/admin/users/nobody/disable".into(),
            None,
            Role::Admin,
        ),
        (
            "POST",
            "/v1/admin/users/nobody/enable".into(),
            None,
            Role::Admin,
        ),
        (
            "POST",
            "/v1/admin/users/nobody/revoke-tokens".into(),
            None,
            Role::Admin,
        ),
        (
            "PUT",
            "/v1/admin/users/nobody/password".into(),
            Some(json!({"password": "twelve chars!"}).to_string()),
            Role::Admin,
        ),
        (
            "PUT",
            "/v1/admin/users/nobody/role".into(),
            Some(json!({"role": "admin"}).to_string()),
            Role::Admin,
        ),
        (
            "GET",
            format!("/v1/admin/assets/{id}/provenance"),
            None,
            Role::Editor,
        ),
        (
            "PUT",
            "/v1/admin/sources/some-list".into(),
            Some(json!({"licence": "OGL-3.0"}).to_string()),
            Role::Admin,
        ),
        ("GET", "/v1/admin/matches".into(), None, Role::Editor),
        (
            "GET",
            format!("/v1/admin/matches/{NOBODY}"),
            None,
            Role::Editor,
        ),
        (
            "POST",
            format!("/v1/admin/matches/{NOBODY}/decision"),
            Some(json!({"action": "skip"}).to_string()),
            Role::Editor,
        ),
        ("GET", "/v1/admin/suggestions".into(), None, Role::Editor),
        (
            "POST",
            format!("/v1/admin/suggestions/{NOBODY}/approve"),
            None,
            Role::Editor,
        ),
        (
            "POST",
            format!("/v1/admin/suggestions/{NOBODY}/reject"),
            Some(r#"{"reason": "no"}"#.into()),
            Role::Editor,
        ),
        (
            "POST",
            "/v1/admin/imports?format=csv&dry_run=true".into(),
            Some("source,source_id,name,category,lat,lon\nt,1,T,museum,52,-1\n".into()),
            Role::Editor,
        ),
        ("GET", "/v1/admin/export".into(), None, Role::Editor),
        ("GET", "/v1/admin/reports/stale".into(), None, Role::Editor),
    ]
}

/// An id that nothing has: endpoints that need a real record answer 404 for it.
const NOBODY: &str = "00000000-0000-0000-0000-000000000000";

/// A token signed with `secret` and `kid`, with these claims, made here with jsonwebtoken.
fn forge(secret: &[u8], kid: &str, claims: Value) -> String {
    let header = jsonwebtoken::Header {
        kid: Some(kid.into()),
        ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
    };
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn every_admin_endpoint_needs_a_valid_token_and_the_right_role(backend: Backend) {
    let (app, admin, editor) = app_with_users(backend);
    let id = app.get("/v1/assets?limit=1").json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let now = chrono::Utc::now().timestamp();
    let claims = |aud: &str, iat: i64, exp: i64| {
        json!({"sub": "root", "role": "admin", "iat": iat, "exp": exp,
            "iss": "community-assets", "aud": aud, "ver": 1})
    };
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let good = forge(
        TEST_SECRET,
        "test-key",
        claims("community-assets-admin", now, now + 600),
    );
    let payload = good.split('.').nth(1).unwrap().to_string();
    let bad_tokens = [
        ("garbage", "not.a.token".to_string()),
        (
            "expired",
            forge(
                TEST_SECRET,
                "test-key",
                claims("community-assets-admin", now - 7200, now - 3600),
            ),
        ),
        (
            "wrong audience",
            forge(
                TEST_SECRET,
                "test-key",
                claims("someone-else", now, now + 600),
            ),
        ),
        (
            "wrong key",
            forge(
                b"another-secret-that-is-32-bytes-long!!",
                "test-key",
                claims("community-assets-admin", now, now + 600),
            ),
        ),
        (
            "unknown kid",
            forge(
                TEST_SECRET,
                "other-key",
                claims("community-assets-admin", now, now + 600),
            ),
        ),
        (
            "alg none",
            format!(
                "{}.{payload}.",
                b64(r#"{"alg":"none","typ":"JWT","kid":"test-key"}"#)
            ),
        ),
        (
            "tampered",
            format!(
                "{}.{}.{}",
                good.split('.').next().unwrap(),
                b64(&claims("community-assets-admin", now, now + 99999).to_string()),
                good.split('.').nth(2).unwrap()
            ),
        ),
    ];
    assert_eq!(
        app.send(
            "GET",
            "/v1/admin/users",
            &[("Authorization", &bearer(&good))],
            None
        )
        .status,
        200,
        "the forging works"
    );
    // PUT and PATCH need the asset's ETag (`If-Match: *` is not one); the others take it.
    let current = |token: &str| {
        app.send(
            "GET",
            &format!("/v1/admin/assets/{id}"),
            &[("Authorization", &bearer(token))],
            None,
        )
        .header("etag")
        .unwrap()
        .to_string()
    };
    for (method, path, body, needed) in endpoints(&id) {
        let r = app.send(method, &path, &[], body.as_deref());
        assert_eq!(r.status, 401, "{method} {path} without a token");
        assert!(r
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer")));
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        for (what, t) in &bad_tokens {
            let r = app.send(
                method,
                &path,
                &[("Authorization", &bearer(t))],
                body.as_deref(),
            );
            assert_eq!(
                r.status, 401,
                "{method} {path} with a {what} token: {}",
                r.body
            );
        }
        let tag = current(&admin);
        let r = app.send(
            method,
            &path,
            &[("Authorization", &bearer(&editor)), ("If-Match", &tag)],
            body.as_deref(),
        );
        match needed {
            Role::Admin => {
                assert_eq!(r.status, 403, "{method} {path} as an editor: {}", r.body)
            }
            Role::Editor => assert!(
                r.status < 400 || (r.status == 404 && path.contains(NOBODY)),
                "{method} {path} as an editor: {} {}",
                r.status,
                r.body
            ),
        }
        let tag = current(&admin);
        let r = app.send(
            method,
            &path,
            &[("Authorization", &bearer(&admin)), ("If-Match", &tag)],
            body.as_deref(),
        );
        assert!(
            r.status < 400
                || (r.status == 404 && (path.contains("nobody") || path.contains(NOBODY))),
            "{method} {path} as admin: {} {}",
            r.status,
            r.body
        );
    }

    // A disabled account's token stops working at once.
    let r = app.send(
        "POST",
        "/v1/admin/users/ann/disable",
        &[("Authorization", &bearer(&admin))],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["active"], false);
    assert_eq!(
        app.send(
            "GET",
            "/v1/admin/assets",
            &[("Authorization", &bearer(&editor))],
            None
        )
        .status,
        401
    );
    let login = app.post_json(
        "/v1/auth/token",
        &json!({"username": "ann", "password": EDITOR_PW}).to_string(),
    );
    assert_eq!(login.status, 401);
    // Users' password hashes never leave the server.
    let list = app.send(
        "GET",
        "/v1/admin/users",
        &[("Authorization", &bearer(&admin))],
        None,
    );
    assert!(!list.body.contains("argon2"), "{}", list.body);
}

#[test]
fn without_a_jwt_secret_the_admin_api_says_why_and_the_public_api_runs() {
    let db = TestDb::new(Backend::Sqlite);
    let app = TestApp::spawn_with(
        community_assets::config::Config {
            tokens: Err("the admin API is disabled: set JWT_SECRET".into()),
            ..TestApp::config(&db.url)
        },
        &[],
    );
    let base = app.base_url.clone();
    let r = ureq::get(&format!("{base}/v1/admin/assets"))
        .call()
        .unwrap_err();
    let ureq::Error::Status(503, r) = r else {
        panic!("{r:?}")
    };
    assert!(r.into_string().unwrap().contains("JWT_SECRET"));
    assert_eq!(
        ureq::get(&format!("{base}/v1/categories"))
            .call()
            .unwrap()
            .status(),
        200
    );
    // Secrets shorter than 32 bytes are refused.
    assert!(Key::hs256("k", b"short").is_err());
}

fn curation_is_checked_audited_and_public_at_once(backend: Backend) {
    let (app, _, editor) = app_with_users(backend);
    let auth = bearer(&editor);
    let h = |extra: &[(&'static str, String)]| {
        let mut v = vec![("Authorization", auth.clone())];
        v.extend(extra.iter().cloned());
        v
    };
    let send = |method: &str, path: &str, headers: Vec<(&str, String)>, body: Option<Value>| {
        let hs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        app.send(method, path, &hs, body.map(|b| b.to_string()).as_deref())
    };

    // Every invalid field is named in one 422.
    let bad = json!({"name": "", "category": "zoo", "lat": 95, "lon": -2.97, "website": "ftp://x",
            "opening_hours": "Mo-Fr 25:00-26:00", "colour": "red"});
    let r = send("POST", "/v1/admin/assets", h(&[]), Some(bad));
    assert_eq!(r.status, 422, "{}", r.body);
    let names: Vec<String> = r.json()["invalid-params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    for f in [
        "name",
        "category",
        "lat",
        "website",
        "opening_hours",
        "colour",
    ] {
        assert!(names.contains(&f.to_string()), "{f} in {names:?}");
    }

    // A draft: in the admin API, not in the public one.
    let draft = json!({"name": "Toxteth Library", "category": "library", "lat": 53.3946, "lon": -2.9678,
            "town": "Liverpool", "postcode": "l8 1xf", "status": "draft", "tags": ["wifi"]});
    let r = send("POST", "/v1/admin/assets", h(&[]), Some(draft));
    assert_eq!(r.status, 201, "{}", r.body);
    let a = r.json();
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(a["postcode"], "L8 1XF");
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/admin/assets/{id}").as_str())
    );
    assert_eq!(app.get(&format!("/v1/assets/{id}")).status, 404);
    let listed = send(
        "GET",
        "/v1/admin/assets?status=draft&q=toxteth&near=53.3946,-2.9678&radius_m=100",
        h(&[]),
        None,
    )
    .json();
    assert_eq!(listed["total"], 1);
    assert!(listed["items"][0]["distance_m"].as_f64().unwrap() < 1.0);
    let published_only = send(
        "GET",
        "/v1/admin/assets?status=published&q=toxteth",
        h(&[]),
        None,
    )
    .json();
    assert!(published_only["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["id"] != id.as_str()));
    let csv = send(
        "GET",
        "/v1/admin/assets?status=archived&format=csv&limit=200",
        h(&[]),
        None,
    );
    assert_eq!(
        csv::Reader::from_reader(csv.body.as_bytes())
            .records()
            .count(),
        200,
        "the real libraries include 252 archived"
    );
    assert_eq!(
        send("GET", "/v1/admin/assets?status=lost", h(&[]), None).json()["invalid-params"][0]
            ["name"],
        "status"
    );

    // Publish: public before the response returned.
    let r = send(
        "POST",
        &format!("/v1/admin/assets/{id}/publish"),
        h(&[]),
        None,
    );
    assert_eq!(r.json()["status"], "published");
    assert_eq!(app.get(&format!("/v1/assets/{id}")).status, 200);

    // PATCH needs If-Match: 428 without, 412 with an old one, 200 with the current one.
    let patch = json!({"opening_hours": "Mo-Sa 10:00-16:00", "town": null});
    assert_eq!(
        send(
            "PATCH",
            &format!("/v1/admin/assets/{id}"),
            h(&[]),
            Some(patch.clone())
        )
        .status,
        428
    );
    assert_eq!(
        send(
            "PATCH",
            &format!("/v1/admin/assets/{id}"),
            h(&[("If-Match", "\"1\"".into())]),
            Some(patch.clone())
        )
        .status,
        412
    );
    let r = send(
        "PATCH",
        &format!("/v1/admin/assets/{id}"),
        h(&[("If-Match", "\"2\"".into())]),
        Some(patch),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("etag"), Some("\"3\""));
    let public = app.get(&format!("/v1/assets/{id}")).json();
    assert_eq!(public["opening_hours"], "Mo-Sa 10:00-16:00");
    assert_eq!(public["town"], Value::Null);
    // An invalid patch is a 422 and changes nothing.
    let r = send(
        "PATCH",
        &format!("/v1/admin/assets/{id}"),
        h(&[("If-Match", "\"3\"".into())]),
        Some(json!({"lat": 200})),
    );
    assert_eq!(r.status, 422);

    // PUT replaces every field; a GET sent back with its read-only fields is accepted.
    let mut full = send("GET", &format!("/v1/admin/assets/{id}"), h(&[]), None).json();
    full["name"] = json!("Toxteth Library and Reading Room");
    assert_eq!(
        send(
            "PUT",
            &format!("/v1/admin/assets/{id}"),
            h(&[]),
            Some(full.clone())
        )
        .status,
        428
    );
    let r = send(
        "PUT",
        &format!("/v1/admin/assets/{id}"),
        h(&[("If-Match", "\"3\"".into())]),
        Some(full),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.get(&format!("/v1/assets/{id}")).json()["name"],
        "Toxteth Library and Reading Room"
    );

    // Verify, archive (gone from the public API), restore (a draft again).
    let r = send(
        "POST",
        &format!("/v1/admin/assets/{id}/verify"),
        h(&[]),
        None,
    );
    assert!(r.json()["last_verified_at"].is_string());
    assert_eq!(
        send(
            "DELETE",
            &format!("/v1/admin/assets/{id}"),
            h(&[("If-Match", "\"1\"".into())]),
            None
        )
        .status,
        412
    );
    assert_eq!(
        send("DELETE", &format!("/v1/admin/assets/{id}"), h(&[]), None).json()["status"],
        "archived"
    );
    assert_eq!(app.get(&format!("/v1/assets/{id}")).status, 404);
    assert_eq!(
        send("GET", &format!("/v1/admin/assets/{id}"), h(&[]), None).json()["status"],
        "archived"
    );
    assert_eq!(
        send(
            "POST",
            &format!("/v1/admin/assets/{id}/restore"),
            h(&[]),
            None
        )
        .json()["status"],
        "draft"
    );
    assert_eq!(
        send("POST", &format!("/v1/admin/assets/{id}/fly"), h(&[]), None).status,
        404
    );

    // Exactly one audit entry per write, in order, each before = the previous after.
    let history = send(
        "GET",
        &format!("/v1/admin/assets/{id}/history"),
        h(&[]),
        None,
    )
    .json();
    let items = history["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["create", "publish", "patch", "update", "verify", "archive", "restore"]
    );
    assert!(items.iter().all(|e| e["username"] == "ann"));
    assert_eq!(items[0]["before"], Value::Null);
    for w in items.windows(2) {
        assert_eq!(w[1]["before"], w[0]["after"]);
        assert_eq!(
            w[1]["after"]["version"].as_i64(),
            w[0]["after"]["version"].as_i64().map(|v| v + 1)
        );
    }
    let by_user = send("GET", "/v1/admin/audit?user=ann&limit=3", h(&[]), None).json();
    assert_eq!(by_user["items"].as_array().unwrap().len(), 3);
    let next = by_user["next_cursor"].as_str().unwrap();
    let rest = send(
        "GET",
        &format!("/v1/admin/audit?user=ann&cursor={next}"),
        h(&[]),
        None,
    )
    .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 4);
    assert_eq!(
        send("GET", "/v1/admin/audit?user=nobody", h(&[]), None).json()["items"],
        json!([])
    );
}

fn two_editors_updating_at_once_one_wins_and_nothing_is_lost(backend: Backend) {
    let (app, admin, editor) = app_with_users(backend);
    let id = app.get("/v1/assets?limit=1").json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let etag = app
        .send(
            "GET",
            &format!("/v1/admin/assets/{id}"),
            &[("Authorization", &bearer(&editor))],
            None,
        )
        .header("etag")
        .unwrap()
        .to_string();
    let results: Vec<(String, u16)> = std::thread::scope(|s| {
        let handles: Vec<_> = [(&admin, "Edited by root"), (&editor, "Edited by ann")]
            .into_iter()
            .map(|(token, name)| {
                let (app, id, etag) = (&app, &id, &etag);
                s.spawn(move || {
                    let body = json!({"description": name}).to_string();
                    let r = app.send(
                        "PATCH",
                        &format!("/v1/admin/assets/{id}"),
                        &[("Authorization", &bearer(token)), ("If-Match", etag)],
                        Some(&body),
                    );
                    (name.to_string(), r.status)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<&(String, u16)> = results.iter().filter(|r| r.1 == 200).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(results.iter().any(|r| r.1 == 412), "{results:?}");
    let now = app.get(&format!("/v1/assets/{id}")).json();
    assert_eq!(now["description"], winners[0].0.as_str());
    let history = app
        .send(
            "GET",
            &format!("/v1/admin/assets/{id}/history"),
            &[("Authorization", &bearer(&editor))],
            None,
        )
        .json();
    let actions: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["import", "patch"],
        "the import, then only the winner's write"
    );
}

#[test]
fn failed_logins_are_slowed_down() {
    let app = TestApp::spawn(Backend::Sqlite, &[]);
    app.add_user("ann", "editor", EDITOR_PW);
    let attempt = |pw: &str| {
        app.post_json(
            "/v1/auth/token",
            &json!({"username": "ann", "password": pw}).to_string(),
        )
    };
    for _ in 0..4 {
        assert_eq!(attempt("wrong password!!").status, 401);
    }
    let r = attempt(EDITOR_PW);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(attempt(EDITOR_PW).status, 200);
    assert_eq!(attempt("nobody knows").status, 401);
    let r = app.post_json("/v1/auth/token", r#"{"username": "x"}"#);
    assert_eq!(r.status, 400);
}

#[test]
fn the_users_command_adds_lists_and_disables_accounts() {
    let db = TestDb::new(Backend::Sqlite);
    let bin = env!("CARGO_BIN_EXE_community-assets");
    let add = |name: &str, role: &str, password: &str| {
        let mut child = Command::new(bin)
            .args(["users", "add", name, "--role", role])
            .env("DATABASE_URL", &db.url)
            .env_remove("COMMUNITY_ASSETS_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let out = add("root", "admin", "too short");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12 characters"));
    let out = add("root", "admin", ADMIN_PW);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(ADMIN_PW));
    assert!(
        !add("root", "editor", ADMIN_PW).status.success(),
        "the name is taken"
    );
    let run = |args: &[&str]| {
        Command::new(bin)
            .args(args)
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap()
    };
    let last = run(&["users", "disable", "root"]);
    assert!(!last.status.success(), "the last active admin stays");
    assert!(String::from_utf8_lossy(&last.stderr).contains("last active admin"));
    assert!(add("ops", "admin", ADMIN_PW).status.success());
    assert!(run(&["users", "disable", "root"]).status.success());
    let list = String::from_utf8(run(&["users", "list"]).stdout).unwrap();
    assert_eq!(list, "ops\tadmin\tactive\nroot\tadmin\tdisabled\n");
    // The account is real: an enabled one can log in through the API.
    let app = TestApp::spawn_at(&db.url, &[]);
    assert!(add("ben", "editor", EDITOR_PW).status.success());
    let token = app.token("ben", EDITOR_PW);
    let list = |t: &str| {
        app.send(
            "GET",
            "/v1/admin/assets?limit=1",
            &[("Authorization", &bearer(t))],
            None,
        )
        .status
    };
    assert_eq!(list(&token), 200);
    assert!(run(&["users", "revoke-tokens", "ben"]).status.success());
    assert_eq!(list(&token), 401, "a revoked token stops working at once");
    assert_eq!(list(&app.token("ben", EDITOR_PW)), 200, "a new login works");
}

fn suggestions_are_checked_queued_and_applied_by_an_editor(backend: Backend) {
    let (app, _, editor) = app_with_users(backend);
    let auth = bearer(&editor);
    let id = app.get("/v1/assets?limit=1").json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let suggest = |body: Value| app.post_json("/v1/suggestions", &body.to_string());

    // Invalid suggestions are refused with the field named; nothing is queued.
    for (body, field) in [
        (
            json!({"kind": "new", "asset": {"name": "X", "category": "zoo", "lat": 53.4, "lon": -2.9}}),
            "category",
        ),
        (
            json!({"kind": "new", "asset": {"name": "X", "category": "museum", "lat": 53.4, "lon": -2.9, "status": "published"}}),
            "status",
        ),
        (
            json!({"kind": "correction", "asset": {"phone": "0151 233 3000"}}),
            "asset_id",
        ),
        (
            json!({"kind": "correction", "asset_id": id, "asset": {"opening_hours": "whenever"}}),
            "opening_hours",
        ),
        (json!({"kind": "new", "asset": {}}), "asset"),
        (
            json!({"kind": "new", "asset": {"name": "X", "category": "museum", "lat": 53.4, "lon": -2.9}, "contact_email": "not-an-email"}),
            "contact_email",
        ),
        (json!({"kind": "rumour", "asset": {"name": "X"}}), "kind"),
    ] {
        let r = suggest(body.clone());
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(r.json()["invalid-params"][0]["name"], field, "{body}");
    }
    let missing = suggest(
        json!({"kind": "correction", "asset_id": uuid::Uuid::new_v4(), "asset": {"town": "X"}}),
    );
    assert_eq!(missing.status, 404);

    let new = suggest(
        json!({"kind": "new", "asset": {"name": "Florrie Community Hub", "category": "community_centre",
            "lat": 53.3853, "lon": -2.9601, "town": "Liverpool"}, "contact_email": "reader@example.org"}),
    );
    assert_eq!(new.status, 201, "{}", new.body);
    let correction = suggest(
        json!({"kind": "correction", "asset_id": id, "asset": {"opening_hours": "Tu-Sa 10:00-17:00"}}),
    );
    assert_eq!(correction.status, 201, "{}", correction.body);
    let reject_me = suggest(
        json!({"kind": "correction", "asset_id": id, "asset": {"description": "Closed forever"}}),
    );

    let pending = app
        .send(
            "GET",
            "/v1/admin/suggestions",
            &[("Authorization", &auth)],
            None,
        )
        .json();
    assert_eq!(pending["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.send("GET", "/v1/admin/suggestions", &[], None).status,
        401
    );

    // Approving a new place creates it, published, audited with the approver.
    let sid = new.json()["id"].as_str().unwrap().to_string();
    let r = app.send(
        "POST",
        &format!("/v1/admin/suggestions/{sid}/approve"),
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let created = r.json()["asset"].clone();
    assert_eq!(created["status"], "published");
    assert_eq!(created["source"], "suggestion");
    let public = app.get(&format!("/v1/assets/{}", created["id"].as_str().unwrap()));
    assert_eq!(public.json()["name"], "Florrie Community Hub");
    let again = app.send(
        "POST",
        &format!("/v1/admin/suggestions/{sid}/approve"),
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(again.status, 409, "already decided");

    // Approving a correction merges it into the asset.
    let cid = correction.json()["id"].as_str().unwrap().to_string();
    let r = app.send(
        "POST",
        &format!("/v1/admin/suggestions/{cid}/approve"),
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.get(&format!("/v1/assets/{id}")).json()["opening_hours"],
        "Tu-Sa 10:00-17:00"
    );
    let history = app
        .send(
            "GET",
            &format!("/v1/admin/assets/{id}/history"),
            &[("Authorization", &auth)],
            None,
        )
        .json();
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["username"].as_str()),
        (Some("approve-suggestion"), Some("ann"))
    );

    // Rejecting needs a reason, and changes nothing.
    let rid = reject_me.json()["id"].as_str().unwrap().to_string();
    let path = format!("/v1/admin/suggestions/{rid}/reject");
    assert_eq!(
        app.send(
            "POST",
            &path,
            &[("Authorization", &auth)],
            Some(r#"{"reason": ""}"#)
        )
        .status,
        422
    );
    let r = app.send(
        "POST",
        &path,
        &[("Authorization", &auth)],
        Some(r#"{"reason": "It is open"}"#),
    );
    assert_eq!(r.json()["suggestion"]["status"], "rejected");
    assert_eq!(
        app.get(&format!("/v1/assets/{id}")).json()["description"],
        Value::Null
    );
    let rejected = app
        .send(
            "GET",
            "/v1/admin/suggestions?status=rejected",
            &[("Authorization", &auth)],
            None,
        )
        .json();
    assert_eq!(rejected["items"][0]["reason"], "It is open");
}

#[test]
fn suggestions_are_rate_limited_per_client_address() {
    let app = TestApp::spawn(Backend::Sqlite, &[]);
    let body = json!({"kind": "new", "asset": {"name": "A place", "category": "museum", "lat": 53.4, "lon": -2.9}}).to_string();
    for i in 0..community_assets::auth::SUGGESTIONS_PER_HOUR {
        assert_eq!(
            app.post_json("/v1/suggestions", &body).status,
            201,
            "suggestion {i}"
        );
    }
    let r = app.post_json("/v1/suggestions", &body);
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() > 3000);
}

fn bulk_import_with_matching_export_and_stale_report(backend: Backend) {
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/overpass_liverpool.json"
    ))
    .unwrap();
    let (app, _, editor) = app_with_users(backend);
    let auth = bearer(&editor);
    let import = |query: &str, body: &str| {
        app.send(
            "POST",
            &format!("/v1/admin/imports?{query}"),
            &[("Authorization", &auth)],
            Some(body),
        )
    };
    let published = || {
        app.get("/v1/assets?limit=1").json()["total"]
            .as_i64()
            .unwrap()
    };
    let before = published();

    // A dry run of the OpenStreetMap extract says what would happen and changes nothing.
    let dry = import("format=osm&dry_run=true", &fixture);
    assert_eq!(dry.status, 200, "{}", dry.body);
    let dry = dry.json();
    assert_eq!(published(), before);
    // Liverpool Central Library is already listed (the real libraries): matched, not new.
    let decisions = dry["decisions"].as_array().unwrap();
    assert!(
        decisions
            .iter()
            .any(|d| d["name"].as_str().unwrap().contains("Central Library")
                && d["outcome"] != "new"
                && d["candidate"]["asset_id"].is_string()),
        "{decisions:?}"
    );
    let skipped = dry["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["reason"].as_str().unwrap().starts_with("skipped"))
        .count();
    assert_eq!(skipped, 2, "the bench and the unnamed cafe");
    let would = dry["inserted"].as_i64().unwrap();
    let (linked, to_review) = (
        dry["linked"].as_i64().unwrap(),
        dry["to_review"].as_i64().unwrap(),
    );
    assert_eq!(would + linked + to_review, 17);
    assert_eq!(dry["decisions_total"], 17);

    let done = import("format=osm", &fixture).json();
    assert_eq!(done["inserted"], would);
    assert_eq!(done["new_sources"], serde_json::json!(["osm"]));
    assert_eq!(published(), before + would);
    let walker = app.get("/v1/assets?q=walker&category=gallery").json();
    assert_eq!(walker["items"][0]["source"], "osm");
    let audit = app
        .send(
            "GET",
            "/v1/admin/audit?user=ann&limit=500",
            &[("Authorization", &auth)],
            None,
        )
        .json();
    // One entry a new asset, and one for each matched asset the OSM data changed.
    let entries = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "import")
        .count() as i64;
    assert!((would..=would + linked).contains(&entries), "{entries}");
    // Again: the same elements are the same records (by osm id), nothing new; the rows
    // waiting for review wait once.
    let again = import("format=osm", &fixture).json();
    assert_eq!(
        (
            again["inserted"].as_i64(),
            again["unchanged"].as_i64(),
            again["to_review"].as_i64()
        ),
        (Some(0), Some(would + linked), Some(to_review))
    );
    let queue = app
        .send(
            "GET",
            "/v1/admin/matches?status=pending",
            &[("Authorization", &auth)],
            None,
        )
        .json();
    assert_eq!(queue["total"].as_i64(), Some(to_review));

    // One bad row in a large file: 422 naming it, nothing imported.
    let mut csv = String::from("source,source_id,name,category,lat,lon\n");
    for i in 0..3000 {
        csv.push_str(&format!(
            "bulk,{i},Venue {i},theatre,{},-1.5\n",
            52.0 + i as f64 * 0.001
        ));
    }
    csv.push_str("bulk,bad,Bad,theatre,52.5,-200\n");
    let r = import("format=csv", &csv);
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["invalid-params"][0]["name"], "line 3002: lon");
    assert_eq!(published(), before + would);
    assert_eq!(import("format=xml", "<x/>").status, 400);

    // Export: every asset, drafts and archived included, re-importable unchanged.
    let export = app.send(
        "GET",
        "/v1/admin/export?format=csv",
        &[("Authorization", &auth)],
        None,
    );
    assert!(export
        .header("content-type")
        .unwrap()
        .starts_with("text/csv"));
    let mut rdr = csv::Reader::from_reader(export.body.as_bytes());
    assert_eq!(&rdr.headers().unwrap()[0], "id");
    let rows = rdr.records().count();
    assert_eq!(
        rows as i64,
        3238 + would,
        "every library (archived too) and the OSM venues"
    );
    let round_trip = import("format=csv&dry_run=true", &export.body).json();
    assert_eq!(
        round_trip["unchanged"].as_i64(),
        Some(rows as i64),
        "{round_trip}"
    );
    let geo = app
        .send(
            "GET",
            "/v1/admin/export?format=geojson",
            &[("Authorization", &auth)],
            None,
        )
        .json();
    assert_eq!(geo["features"].as_array().unwrap().len(), rows);

    // Stale: nothing was ever verified; verifying one takes it off the list.
    let stale = app
        .send(
            "GET",
            "/v1/admin/reports/stale?older_than_days=365&limit=5",
            &[("Authorization", &auth)],
            None,
        )
        .json();
    assert_eq!(stale["total"].as_i64(), Some(published()));
    let first = stale["items"][0]["id"].as_str().unwrap().to_string();
    app.send(
        "POST",
        &format!("/v1/admin/assets/{first}/verify"),
        &[("Authorization", &auth)],
        None,
    );
    let after = app
        .send(
            "GET",
            "/v1/admin/reports/stale?limit=5",
            &[("Authorization", &auth)],
            None,
        )
        .json();
    assert_eq!(after["total"].as_i64(), Some(published() - 1));
    assert!(after["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["id"] != first.as_str()));
}

/// The real binary, configured from the environment: EdDSA key files sign tokens that the
/// admin API accepts; a short secret disables the admin API with a reason, and the public
/// API still answers.
#[test]
fn token_keys_come_from_the_environment() {
    let db = TestDb::new(Backend::Sqlite);
    let bin = env!("CARGO_BIN_EXE_community-assets");
    let add = Command::new(bin)
        .args(["users", "add", "root", "--role", "admin"])
        .env("DATABASE_URL", &db.url)
        .env("COMMUNITY_ASSETS_PASSWORD", ADMIN_PW)
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    // A test-only Ed25519 key pair (PKCS#8 / SPKI PEM), used nowhere else.
    let private = db.temp_path("ed25519.pem");
    let public = db.temp_path("ed25519.pub");
    std::fs::write(&private, "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEILjIlhK0GI4HICNo9qPmHEwT9brBjg2BfnCvJWHttItT\n-----END PRIVATE KEY-----\n").unwrap();
    std::fs::write(&public, "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEALMLtsrzbC0Av9iXiYe4Z1x+Zexfg2IwB8JIxa63vEgY=\n-----END PUBLIC KEY-----\n").unwrap();
    let eddsa = Server::start(
        &db.url,
        1000,
        &[
            ("JWT_ALGORITHM", "EdDSA"),
            ("JWT_KID", "ed-2026"),
            ("JWT_PRIVATE_KEY_FILE", private.to_str().unwrap()),
            ("JWT_PUBLIC_KEY_FILE", public.to_str().unwrap()),
        ],
    );
    let login = ureq::post(&format!("{}/v1/auth/token", eddsa.base_url))
        .send_json(json!({"username": "root", "password": ADMIN_PW}))
        .unwrap()
        .into_json::<Value>()
        .unwrap();
    let token = login["access_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (header["alg"].as_str(), header["kid"].as_str()),
        (Some("EdDSA"), Some("ed-2026"))
    );
    let users = ureq::get(&format!("{}/v1/admin/users", eddsa.base_url))
        .set("Authorization", &bearer(token))
        .call()
        .unwrap();
    assert_eq!(users.status(), 200);

    let weak = Server::start(&db.url, 1000, &[("JWT_SECRET", "too short")]);
    let err = ureq::get(&format!("{}/v1/admin/users", weak.base_url))
        .call()
        .unwrap_err();
    let ureq::Error::Status(503, r) = err else {
        panic!("{err:?}")
    };
    assert!(r
        .into_string()
        .unwrap()
        .contains("JWT_SECRET must be at least 32 bytes"));
    assert_eq!(weak.total(), 0, "the public API runs");
}

/// Browser apps may read the public API from any origin (the default), never the admin or
/// auth routes.
#[test]
fn cors_allows_public_reads_and_never_admin_routes() {
    let (app, admin, _) = app_with_users(Backend::Sqlite);
    let origin = ("Origin", "https://app.example.org");
    let r = app.send("GET", "/v1/assets?limit=1", &[origin], None);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(r
        .header("access-control-expose-headers")
        .unwrap()
        .contains("X-Next-Cursor"));
    assert_eq!(
        app.get("/v1/assets?limit=1")
            .header("access-control-allow-origin"),
        None,
        "no Origin, no CORS headers"
    );
    let pre = app.send(
        "OPTIONS",
        "/v1/assets",
        &[
            origin,
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "if-none-match"),
        ],
        None,
    );
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    assert!(pre
        .header("access-control-allow-headers")
        .unwrap()
        .contains("If-None-Match"));

    let auth = bearer(&admin);
    let r = app.send(
        "GET",
        "/v1/admin/assets?limit=1",
        &[origin, ("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    for path in ["/v1/admin/assets", "/v1/auth/token", "/v1/admin/audit"] {
        let pre = app.send(
            "OPTIONS",
            path,
            &[origin, ("Access-Control-Request-Method", "POST")],
            None,
        );
        assert_ne!(pre.status, 204, "{path}");
        assert_eq!(pre.header("access-control-allow-origin"), None, "{path}");
    }
}
