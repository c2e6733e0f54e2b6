//! An activity body (`POST /v1/admin/activities`, JSON activity imports, suggestions): any
//! JSON object is either refused with named field errors or accepted, and what is accepted
//! reads back as itself (the stored JSON and a PATCH's starting point).
#![no_main]

use community_assets::domain::activity::{ActivityFields, Vocabulary};
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

fn fuzz(data: &[u8]) {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(data) else {
        return;
    };
    let kinds: HashSet<String> = ["music-singing", "crafts"].map(String::from).into();
    let audiences: HashSet<String> = ["dementia", "carers"].map(String::from).into();
    let vocab = Vocabulary {
        kinds: &kinds,
        audiences: &audiences,
    };
    match ActivityFields::parse(&object, &vocab) {
        Ok(fields) => {
            let again = ActivityFields::parse(&fields.to_object(), &vocab)
                .expect("an accepted activity is refused when read back");
            assert_eq!(again, fields, "an accepted activity reads back otherwise");
            let stored = serde_json::to_string(&fields).unwrap();
            let loaded: ActivityFields = serde_json::from_str(&stored).unwrap();
            assert_eq!(loaded, fields, "the stored JSON loads otherwise");
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason");
            // A field is named as given, so an unknown key "" is named "".
            assert!(errors
                .iter()
                .all(|e| !e.reason.is_empty() && (!e.field.is_empty() || object.contains_key(""))));
        }
    }
}

fuzz_target!(
    init: community_assets_fuzz::tolerate_known_panics(),
    |data: &[u8]| community_assets_fuzz::run(|| fuzz(data))
);
