//! The committed OpenAPI document is exactly what the code generates, and it is complete.

#[test]
fn committed_openapi_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = community_assets::api::openapi_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `cargo run -q -- openapi > openapi/openapi.json` and commit it"
    );
}

#[test]
fn every_operation_documents_its_responses_and_errors() {
    let doc: serde_json::Value =
        serde_json::from_str(&community_assets::api::openapi_json()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{method} {path}: no success response"
            );
            assert!(
                op["description"].is_string() || op["summary"].is_string(),
                "{method} {path}: undocumented"
            );
            for (code, r) in responses {
                // A shared response is referenced: `#/components/responses/Name`.
                let r = match r["$ref"].as_str() {
                    Some(at) => &doc["components"]["responses"][at.rsplit('/').next().unwrap()],
                    None => r,
                };
                if code.starts_with('4') || code.starts_with('5') {
                    assert!(
                        r["content"]["application/problem+json"].is_object(),
                        "{method} {path} {code}: errors are application/problem+json"
                    );
                }
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                assert!(
                    p["description"].is_string(),
                    "{method} {path}: parameter {} undocumented",
                    p["name"]
                );
            }
        }
    }
    for name in ["Asset", "AssetPage", "Problem", "CategoryList"] {
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "schema {name}"
        );
    }
}
