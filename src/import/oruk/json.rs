//! Reading HSDS records: fields as text, lists, phones, taxonomy terms, and warnings.

use serde_json::{Map, Value};

use crate::import::RowError;

pub(super) fn warning(location: &str, field: &str, reason: String) -> RowError {
    RowError {
        location: location.to_string(),
        field: field.into(),
        reason,
        value: None,
    }
}

pub(super) fn array<'a>(o: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    o.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub(super) fn object<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    o.get(key).and_then(Value::as_object)
}

/// A string or number field as trimmed text; "" when absent or of another type.
pub(super) fn text(o: &Map<String, Value>, key: &str) -> String {
    match o.get(key) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The first non-empty of the values.
pub(super) fn first_of(values: impl IntoIterator<Item = String>) -> String {
    values
        .into_iter()
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

/// The first phone number of a record's `phones`.
pub(super) fn phone(o: &Map<String, Value>) -> String {
    first_of(
        array(o, "phones")
            .iter()
            .filter_map(Value::as_object)
            .map(|p| text(p, "number")),
    )
}

/// The taxonomy terms of a record's `attributes` (and a bare `taxonomy_terms` list).
pub(super) fn terms(o: &Map<String, Value>) -> Vec<&Map<String, Value>> {
    let from_attributes = array(o, "attributes")
        .iter()
        .filter_map(|a| a.get("taxonomy_term")?.as_object());
    let bare = array(o, "taxonomy_terms")
        .iter()
        .filter_map(Value::as_object);
    from_attributes.chain(bare).collect()
}

/// The name of a term's taxonomy (`taxonomy`, or `taxonomy_detail.name`).
pub(super) fn taxonomy_of(term: &Map<String, Value>) -> String {
    first_of([
        text(term, "taxonomy"),
        object(term, "taxonomy_detail")
            .map(|t| text(t, "name"))
            .unwrap_or_default(),
    ])
}
