//! Activities curated over HTTP exactly like assets, on SQLite and PostgreSQL: tokens and
//! roles, ETags and If-Match, validation naming every field, the venue checked, status
//! changes, the audit trail signed by the editor, the vocabularies, and suggestions from
//! the public (new activities and corrections) approved or rejected by an editor.

use crate::support::*;
use serde_json::{json, Value};

on_both_backends!(
    every_activity_endpoint_needs_a_token_and_the_right_role,
    activities_are_curated_with_etags_validation_and_audit,
    suggested_activities_and_corrections_are_checked_applied_or_rejected,
    concurrent_activity_writes_queue_and_all_succeed,
);

const ADMIN_PW: &str = "admin password 1234";
const EDITOR_PW: &str = "editor password 5678";
/// An id that nothing has.
const NOBODY: &str = "00000000-0000-0000-0000-000000000000";

fn app_with_users(backend: Backend) -> (TestApp, String, String) {
    let app = TestApp::with_libraries(backend);
    app.add_user("root", "admin", ADMIN_PW);
    app.add_user("ann", "editor", EDITOR_PW);
    let admin = format!("Bearer {}", app.token("root", ADMIN_PW));
    let editor = format!("Bearer {}", app.token("ann", EDITOR_PW));
    (app, admin, editor)
}

/// The ids of the first `n` published libraries (venues).
fn venues(app: &TestApp, n: usize) -> Vec<String> {
    app.get(&format!("/v1/assets?limit={n}")).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

fn singing(venue: &str) -> Value {
    json!({
        "asset_id": venue, "name": "Singing for Better Breathing",
        "description": "A friendly singing group for people living with COPD.",
        "kind": "music-singing", "audiences": ["long-term-conditions", "older-people"],
        "min_age": 18,
        "schedule": [{"freq": "WEEKLY", "byday": "TU", "opens_at": "14:00", "closes_at": "15:30", "valid_from": "2026-09-01"},
                     {"date": "2026-12-03", "opens_at": "18:00", "closes_at": "20:00"}],
        "cost": "donation", "cost_amount": 2.5, "referral": ["self", "link-worker", "gp"],
        "booking_url": "https://example.org/singing", "contact_email": "singing@example.org",
        "status": "published"
    })
}

/// The names of a problem's invalid params.
fn named(r: &Resp) -> Vec<String> {
    r.json()["invalid-params"]
        .as_array()
        .unwrap_or_else(|| panic!("no invalid-params: {}", r.body))
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

fn every_activity_endpoint_needs_a_token_and_the_right_role(backend: Backend) {
    let (app, admin, editor) = app_with_users(backend);
    let venue = &venues(&app, 1)[0];
    let body = singing(venue).to_string();
    let created = app.send(
        "POST",
        "/v1/admin/activities",
        &[("Authorization", &editor)],
        Some(&body),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let term = r#"{"label": "Gardening", "description": "Growing groups"}"#;
    // (method, path, body, admins only)
    let endpoints: Vec<(&str, String, Option<&str>, bool)> = vec![
        ("GET", "/v1/admin/activities".into(), None, false),
        ("POST", "/v1/admin/activities".into(), Some(&body), false),
        ("GET", format!("/v1/admin/activities/{id}"), None, false),
        (
            "PUT",
            format!("/v1/admin/activities/{id}"),
            Some(&body),
            false,
        ),
        (
            "PATCH",
            format!("/v1/admin/activities/{id}"),
            Some(r#"{"min_age": 16}"#),
            false,
        ),
        ("DELETE", format!("/v1/admin/activities/{id}"), None, false),
        (
            "POST",
            format!("/v1/admin/activities/{id}/restore"),
            None,
            false,
        ),
        (
            "POST",
            format!("/v1/admin/activities/{id}/publish"),
            None,
            false,
        ),
        (
            "POST",
            "/v1/admin/imports/activities?format=json&dry_run=true".into(),
            Some("[]"),
            false,
        ),
        (
            "PUT",
            "/v1/admin/activity-kinds/gardening".into(),
            Some(term),
            true,
        ),
        (
            "PUT",
            "/v1/admin/audiences/new-parents".into(),
            Some(term),
            true,
        ),
    ];
    for (method, path, body, admin_only) in endpoints {
        let r = app.send(method, &path, &[], body);
        assert_eq!(r.status, 401, "{method} {path} without a token: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let r = app.send(
            method,
            &path,
            &[("Authorization", "Bearer not.a.token")],
            body,
        );
        assert_eq!(r.status, 401, "{method} {path} with a bad token");
        for (who, token) in [("editor", &editor), ("admin", &admin)] {
            let tag = app
                .send(
                    "GET",
                    &format!("/v1/admin/activities/{id}"),
                    &[("Authorization", &admin)],
                    None,
                )
                .header("etag")
                .unwrap()
                .to_string();
            let r = app.send(
                method,
                &path,
                &[("Authorization", token), ("If-Match", &tag)],
                body,
            );
            if admin_only && who == "editor" {
                assert_eq!(r.status, 403, "{method} {path} as an editor: {}", r.body);
            } else {
                assert!(
                    r.status < 400,
                    "{method} {path} as {who}: {} {}",
                    r.status,
                    r.body
                );
            }
        }
    }
}

fn activities_are_curated_with_etags_validation_and_audit(backend: Backend) {
    let (app, admin, editor) = app_with_users(backend);
    let v = venues(&app, 2);
    let auth = [("Authorization", editor.as_str())];
    let send = |method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>| {
        let mut all = vec![("Authorization", editor.as_str())];
        all.extend_from_slice(headers);
        app.send(method, path, &all, body)
    };

    // Create: 201 with Location and ETag; the body is the activity as stored.
    let created = send(
        "POST",
        "/v1/admin/activities",
        &[],
        Some(&singing(&v[0]).to_string()),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("etag"), Some("\"1\""));
    let a = created.json();
    let id = a["id"].as_str().unwrap().to_string();
    let path = format!("/v1/admin/activities/{id}");
    assert_eq!(created.header("location"), Some(path.as_str()));
    assert_eq!(a["asset_id"], v[0].as_str());
    assert_eq!(a["schedule"][0]["byday"], "TU");
    assert_eq!(a["schedule"][1]["date"], "2026-12-03");
    assert_eq!(a["referral"], json!(["self", "link-worker", "gp"]));
    assert_eq!(a["version"], 1);

    // Read back, any status, with the ETag.
    let got = send("GET", &path, &[], None);
    assert_eq!(got.status, 200);
    assert_eq!(got.header("etag"), Some("\"1\""));
    assert_eq!(got.json(), a);
    assert_eq!(
        send("GET", &format!("/v1/admin/activities/{NOBODY}"), &[], None).status,
        404
    );
    assert_eq!(
        send("GET", "/v1/admin/activities/not-a-uuid", &[], None).status,
        400
    );

    // Every bad field named at once; nothing written.
    let mut bad = singing(&v[0]);
    bad["kind"] = json!("knitting");
    bad["audiences"] = json!(["aliens"]);
    bad["min_age"] = json!(30);
    bad["max_age"] = json!(20);
    bad["schedule"] = json!([{"freq": "WEEKLY", "byday": "XX", "opens_at": "14:00", "closes_at": "15:00"},
        {"date": "2026-12-03", "opens_at": "18:00", "closes_at": "17:00"}]);
    bad["contact_email"] = json!("nobody-at-example");
    bad["colour"] = json!("red");
    let r = send("POST", "/v1/admin/activities", &[], Some(&bad.to_string()));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let names = named(&r);
    for f in [
        "kind",
        "audiences",
        "max_age",
        "schedule[0]",
        "schedule[1]",
        "contact_email",
        "colour",
    ] {
        assert!(names.iter().any(|n| n == f), "{f} not in {names:?}");
    }
    // A venue that does not exist, with another bad field: both named.
    let mut lost = singing(NOBODY);
    lost["cost"] = json!("cheap");
    let r = send("POST", "/v1/admin/activities", &[], Some(&lost.to_string()));
    assert_eq!(r.status, 422, "{}", r.body);
    let names = named(&r);
    assert!(names.contains(&"asset_id".to_string()), "{names:?}");
    assert!(names.contains(&"cost".to_string()), "{names:?}");
    // Malformed JSON, and not an object.
    let r = send("POST", "/v1/admin/activities", &[], Some("{\"name\": "));
    assert_eq!(r.status, 400, "{}", r.body);
    let r = send("POST", "/v1/admin/activities", &[], Some("[1]"));
    assert_eq!(r.status, 422, "{}", r.body);
    let total = |q: &str| {
        send("GET", &format!("/v1/admin/activities?{q}"), &[], None).json()["total"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(total(""), 1, "the refused writes stored nothing");

    // PUT: If-Match required (428), stale (412), current (200, version 2).
    let mut replaced = singing(&v[1]);
    replaced["name"] = json!("Singing for Lung Health");
    let body = replaced.to_string();
    assert_eq!(send("PUT", &path, &[], Some(&body)).status, 428);
    assert_eq!(
        send("PUT", &path, &[("If-Match", "*")], Some(&body)).status,
        428
    );
    assert_eq!(
        send("PUT", &path, &[("If-Match", "\"7\"")], Some(&body)).status,
        412
    );
    let put = send("PUT", &path, &[("If-Match", "\"1\"")], Some(&body));
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.header("etag"), Some("\"2\""));
    assert_eq!(
        put.json()["asset_id"],
        v[1].as_str(),
        "moved to another venue"
    );
    assert_eq!(put.json()["name"], "Singing for Lung Health");
    // The old ETag is stale now.
    let r = send("PUT", &path, &[("If-Match", "\"1\"")], Some(&body));
    assert_eq!(r.status, 412, "{}", r.body);
    // A PUT to a venue that does not exist names asset_id.
    let r = send(
        "PUT",
        &path,
        &[("If-Match", "\"2\"")],
        Some(&singing(NOBODY).to_string()),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(named(&r), ["asset_id"]);

    // PATCH: merge of the given keys, null removes, validated as a whole.
    let patch = json!({"audiences": ["dementia"], "booking_url": null, "min_age": 16});
    assert_eq!(
        send("PATCH", &path, &[], Some(&patch.to_string())).status,
        428
    );
    let r = send(
        "PATCH",
        &path,
        &[("If-Match", "\"2\"")],
        Some(r#"{"max_age": 10, "kind": "juggling"}"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let names = named(&r);
    assert!(names.contains(&"max_age".to_string()) && names.contains(&"kind".to_string()));
    let patched = send(
        "PATCH",
        &path,
        &[("If-Match", "\"2\"")],
        Some(&patch.to_string()),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.header("etag"), Some("\"3\""));
    let p = patched.json();
    assert_eq!(p["audiences"], json!(["dementia"]));
    assert_eq!(p["min_age"], 16);
    assert!(p.get("booking_url").is_none(), "{p}");
    assert_eq!(p["name"], "Singing for Lung Health", "other fields kept");
    assert_eq!(p["schedule"], a["schedule"]);
    assert_eq!(
        send(
            "PATCH",
            &format!("/v1/admin/activities/{NOBODY}"),
            &[("If-Match", "\"1\"")],
            Some("{}")
        )
        .status,
        404
    );

    // DELETE archives (as for assets); restore to draft; publish.
    let deleted = send("DELETE", &path, &[("If-Match", "\"2\"")], None);
    assert_eq!(deleted.status, 412, "a stale If-Match is refused here too");
    let deleted = send("DELETE", &path, &[], None);
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.json()["status"], "archived");
    assert_eq!(send("GET", &path, &[], None).json()["status"], "archived");
    let restored = send("POST", &format!("{path}/restore"), &[], None);
    assert_eq!(restored.json()["status"], "draft");
    let published = send(
        "POST",
        &format!("{path}/publish"),
        &[("If-Match", "\"5\"")],
        None,
    );
    assert_eq!(published.status, 200, "{}", published.body);
    assert_eq!(published.json()["status"], "published");
    assert_eq!(published.header("etag"), Some("\"6\""));
    assert_eq!(
        send("POST", &format!("{path}/verify"), &[], None).status,
        404
    );

    // The admin list: by venue and status, paged.
    let second = send(
        "POST",
        "/v1/admin/activities",
        &[],
        Some(&json!({"asset_id": v[1], "name": "Knit and natter", "kind": "crafts", "cost": "free", "status": "draft"}).to_string()),
    );
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(total(""), 2);
    assert_eq!(total(&format!("asset_id={}", v[1])), 2);
    assert_eq!(total(&format!("asset_id={}", v[0])), 0);
    assert_eq!(total("status=draft"), 1);
    assert_eq!(total("status=published,draft"), 2);
    assert_eq!(total("status=archived"), 0);
    let page = send("GET", "/v1/admin/activities?limit=1", &[], None);
    assert_eq!(page.header("x-total-count"), Some("2"));
    let cursor = page.json()["next_cursor"].as_str().unwrap().to_string();
    let next = send(
        "GET",
        &format!("/v1/admin/activities?limit=1&cursor={cursor}"),
        &[],
        None,
    )
    .json();
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    assert_ne!(next["items"][0]["id"], page.json()["items"][0]["id"]);
    assert_eq!(
        send("GET", "/v1/admin/activities?status=gone", &[], None).status,
        400
    );

    // The audit trail: every write, signed by the editor, on the venue's trail.
    let audit = app
        .send(
            "GET",
            "/v1/admin/audit?action=activity.create,activity.update,activity.patch,activity.archive,activity.restore,activity.publish",
            &auth,
            None,
        )
        .json();
    let entries: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["after"]["id"] == id.as_str())
        .collect();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "activity.create",
            "activity.update",
            "activity.patch",
            "activity.archive",
            "activity.restore",
            "activity.publish"
        ]
    );
    assert!(entries.iter().all(|e| e["username"] == "ann"));
    assert_eq!(entries[1]["before"]["name"], "Singing for Better Breathing");
    assert_eq!(entries[1]["after"]["name"], "Singing for Lung Health");
    assert_eq!(entries[1]["asset_id"], v[1].as_str());

    // The vocabularies: admins add a kind; activities may use it at once.
    let term = json!({"label": "Gardening", "description": "Community growing groups"}).to_string();
    let r = app.send(
        "PUT",
        "/v1/admin/activity-kinds/gardening",
        &[("Authorization", &admin)],
        Some(&term),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["slug"], "gardening");
    let r = app.send(
        "PUT",
        "/v1/admin/audiences/Not%20A%20Slug",
        &[("Authorization", &admin)],
        Some(r#"{"label": ""}"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(named(&r), ["slug", "label"]);
    let r = app.send(
        "PUT",
        "/v1/admin/audiences/new-parents",
        &[("Authorization", &admin)],
        Some(r#"{"label": "New parents"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let garden = send(
        "PATCH",
        &path,
        &[("If-Match", "\"6\"")],
        Some(r#"{"kind": "gardening", "audiences": ["new-parents"]}"#),
    );
    assert_eq!(garden.status, 200, "{}", garden.body);
    assert_eq!(garden.json()["kind"], "gardening");
    let terms = app
        .send(
            "GET",
            "/v1/admin/audit?action=activity.term.put",
            &auth,
            None,
        )
        .json();
    assert_eq!(terms["items"].as_array().unwrap().len(), 2);
    assert_eq!(terms["items"][0]["username"], "root");
}

fn suggested_activities_and_corrections_are_checked_applied_or_rejected(backend: Backend) {
    let (app, _, editor) = app_with_users(backend);
    let auth = [("Authorization", editor.as_str())];
    let v = venues(&app, 1);
    let suggest = |body: Value| app.post_json("/v1/suggestions", &body.to_string());
    let activities = || {
        app.send("GET", "/v1/admin/activities", &auth, None).json()["total"]
            .as_i64()
            .unwrap()
    };

    // Refused with the field named; nothing queued.
    let mut proposal = singing(&v[0]);
    proposal.as_object_mut().unwrap().remove("status");
    let mut bad_kind = proposal.clone();
    bad_kind["kind"] = json!("knitting");
    for (body, field, status) in [
        (
            json!({"kind": "new-activity", "activity": bad_kind}),
            "kind",
            422,
        ),
        (
            json!({"kind": "new-activity", "activity": singing(&v[0])}),
            "status",
            422,
        ),
        (
            json!({"kind": "new-activity", "activity": singing(NOBODY).as_object().unwrap().iter().filter(|(k, _)| *k != "status").map(|(k, v)| (k.clone(), v.clone())).collect::<serde_json::Map<_, _>>()}),
            "asset_id",
            422,
        ),
        (
            json!({"kind": "new-activity", "activity": {}}),
            "activity",
            422,
        ),
        (
            json!({"kind": "activity-correction", "activity": {"min_age": 3}}),
            "activity_id",
            422,
        ),
        (
            json!({"kind": "new-activity", "asset": {"name": "x"}}),
            "asset",
            422,
        ),
    ] {
        let r = suggest(body.clone());
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert_eq!(named(&r)[0], field, "{body}");
    }
    let r = suggest(
        json!({"kind": "activity-correction", "activity_id": NOBODY, "activity": {"min_age": 3}}),
    );
    assert_eq!(r.status, 404, "{}", r.body);

    // A new activity, its venue given beside the fields: queued, then approved.
    let mut without_venue = proposal.clone();
    without_venue.as_object_mut().unwrap().remove("asset_id");
    let new = suggest(
        json!({"kind": "new-activity", "asset_id": v[0], "activity": without_venue,
        "contact_email": "reader@example.org"}),
    );
    assert_eq!(new.status, 201, "{}", new.body);
    let new_id = new.json()["id"].as_str().unwrap().to_string();
    let pending = app.send("GET", "/v1/admin/suggestions", &auth, None).json();
    let queued = &pending["items"][0];
    assert_eq!(queued["kind"], "new-activity");
    assert_eq!(queued["asset_id"], v[0].as_str());
    assert_eq!(
        activities(),
        0,
        "nothing is created before an editor approves"
    );
    let approved = app.send(
        "POST",
        &format!("/v1/admin/suggestions/{new_id}/approve"),
        &auth,
        None,
    );
    assert_eq!(approved.status, 200, "{}", approved.body);
    let made = approved.json()["activity"].clone();
    assert_eq!(made["name"], "Singing for Better Breathing");
    assert_eq!(made["status"], "published");
    assert_eq!(made["source"], "suggestion");
    assert_eq!(made["source_id"], new_id.as_str());
    assert_eq!(made["asset_id"], v[0].as_str());
    assert_eq!(activities(), 1);
    let activity_id = made["id"].as_str().unwrap().to_string();

    // A correction: checked against the activity (a bad value is named), then applied.
    let r = suggest(
        json!({"kind": "activity-correction", "activity_id": activity_id,
        "activity": {"schedule": [{"freq": "WEEKLY", "byday": "TU", "opens_at": "15:00", "closes_at": "14:00"}]}}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(named(&r), ["schedule[0]"]);
    let fix = suggest(
        json!({"kind": "activity-correction", "activity_id": activity_id,
        "activity": {"schedule": [{"freq": "WEEKLY", "byday": "WE", "opens_at": "10:00", "closes_at": "11:30"}],
                     "booking_url": null}}),
    );
    assert_eq!(fix.status, 201, "{}", fix.body);
    let reject_me = suggest(
        json!({"kind": "activity-correction", "activity_id": activity_id,
        "activity": {"description": "Cancelled for ever"}}),
    );
    assert_eq!(reject_me.status, 201);
    let fix_id = fix.json()["id"].as_str().unwrap().to_string();
    let approved = app.send(
        "POST",
        &format!("/v1/admin/suggestions/{fix_id}/approve"),
        &auth,
        None,
    );
    assert_eq!(approved.status, 200, "{}", approved.body);
    let now = app
        .send(
            "GET",
            &format!("/v1/admin/activities/{activity_id}"),
            &auth,
            None,
        )
        .json();
    assert_eq!(
        now["schedule"],
        json!([{"freq": "WEEKLY", "byday": "WE", "opens_at": "10:00", "closes_at": "11:30"}])
    );
    assert!(now.get("booking_url").is_none());
    assert_eq!(now["version"], 2);

    // Rejected: recorded with the reason, the activity unchanged.
    let reject_id = reject_me.json()["id"].as_str().unwrap().to_string();
    let r = app.send(
        "POST",
        &format!("/v1/admin/suggestions/{reject_id}/reject"),
        &auth,
        Some(r#"{"reason": "The group still meets"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["suggestion"]["status"], "rejected");
    let after = app
        .send(
            "GET",
            &format!("/v1/admin/activities/{activity_id}"),
            &auth,
            None,
        )
        .json();
    assert_eq!(after["description"], now["description"]);
    assert_eq!(after["version"], 2);
    // Approving a decided suggestion is refused.
    let again = app.send(
        "POST",
        &format!("/v1/admin/suggestions/{reject_id}/approve"),
        &auth,
        None,
    );
    assert_eq!(again.status, 409, "{}", again.body);

    // Both approvals audited with the approving editor as author.
    let audit = app
        .send(
            "GET",
            "/v1/admin/audit?action=activity.approve-suggestion",
            &auth,
            None,
        )
        .json();
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{audit}");
    assert!(items.iter().all(|e| e["username"] == "ann"));
    assert!(items[0]["before"].is_null());
    assert_eq!(items[1]["after"]["schedule"][0]["byday"], "WE");
}

/// Writes at once from many clients queue for the database; none fails. (On SQLite a
/// write that read the vocabularies before it took the write lock failed with "database
/// is locked" when another write committed in between: found by schemathesis.)
fn concurrent_activity_writes_queue_and_all_succeed(backend: Backend) {
    let (app, _, editor) = app_with_users(backend);
    let ids: Vec<String> = venues(&app, 6)
        .iter()
        .map(|v| {
            let r = app.send(
                "POST",
                "/v1/admin/activities",
                &[("Authorization", &editor)],
                Some(&singing(v).to_string()),
            );
            assert_eq!(r.status, 201, "{}", r.body);
            r.json()["id"].as_str().unwrap().to_string()
        })
        .collect();
    let venue = venues(&app, 1).remove(0);
    std::thread::scope(|s| {
        for (t, id) in ids.iter().enumerate() {
            let (app, editor, venue) = (&app, &editor, &venue);
            s.spawn(move || {
                for i in 0..12 {
                    let path = format!("/v1/admin/activities/{id}");
                    let name = json!({"name": format!("Singing {t}.{i}")}).to_string();
                    let auth = [("Authorization", editor.as_str())];
                    let r = if i % 3 == 2 {
                        app.send(
                            "POST",
                            "/v1/admin/activities",
                            &auth,
                            Some(&singing(venue).to_string()),
                        )
                    } else {
                        let tag = app
                            .send("GET", &path, &auth, None)
                            .header("etag")
                            .unwrap()
                            .to_string();
                        let headers = [
                            ("Authorization", editor.as_str()),
                            ("If-Match", tag.as_str()),
                        ];
                        let method = if i % 3 == 0 { "PATCH" } else { "PUT" };
                        let body = if method == "PATCH" {
                            name
                        } else {
                            let mut b = singing(venue);
                            b["name"] = json!(format!("Singing {t}.{i}"));
                            b.to_string()
                        };
                        app.send(method, &path, &headers, Some(&body))
                    };
                    assert!(
                        r.status == 200 || r.status == 201,
                        "{} {}",
                        r.status,
                        r.body
                    );
                }
            });
        }
    });
}
