//! A service at a venue as an activity draft: validated and written once the venues are.

use serde_json::{Map, Value};

use super::classify::{
    cost, is_category_taxonomy, says, term_is, words, AUDIENCE_KEYWORDS, KIND_KEYWORDS,
};
use super::json::{array, first_of, phone, taxonomy_of, terms, text, warning};
use super::place::{Place, Service};
use super::schedules::schedule_entry;
use crate::import::RowError;

/// A service at a venue as an activity body for `ActivityFields::parse` (all but
/// `asset_id`, which is the asset the venue's row becomes), with the venue's key.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityDraft {
    /// Where the service is (`contents[3]`).
    pub location: String,
    /// The venue's source_id (its location id).
    pub venue: String,
    pub body: Map<String, Value>,
}

/// How our own feed adds an activity's accessibility notes to its description.
pub(super) const OUR_ACCESSIBILITY: &str = "\n\nAccessibility: ";

/// Our own publisher's "visit" service of a venue without activities: named as its
/// location, classified in our category taxonomy. (Its id, a UUID v5 of the venue's, is
/// `crate::oruk::ids::visit_service`, which this layer cannot use.)
pub(super) fn is_visit_service(service: &Map<String, Value>, loc: &Map<String, Value>) -> bool {
    text(service, "name") == text(loc, "name")
        && terms(service)
            .iter()
            .any(|t| is_category_taxonomy(&taxonomy_of(t)))
}

/// A service as an activity at the place's venue, or `None` (our "visit" service; no
/// activity kind found, with a warning).
pub(super) fn activity(
    place: &Place,
    service: &Service,
    source: &str,
    warnings: &mut Vec<RowError>,
) -> Option<ActivityDraft> {
    let s = service.value;
    if is_visit_service(s, place.value) {
        return None;
    }
    let at = service.at.as_str();
    let name = text(s, "name");
    // The venue's category term (our feed gives it to every service of a venue) says
    // nothing of the activity: `heritage` is a category and a kind.
    let all_terms = terms(s);
    let ours = all_terms
        .iter()
        .any(|t| is_category_taxonomy(&taxonomy_of(t)));
    let terms: Vec<&Map<String, Value>> = all_terms
        .into_iter()
        .filter(|t| !is_category_taxonomy(&taxonomy_of(t)))
        .collect();
    let full = text(s, "description");
    let (description, accessibility_notes) = match full.split_once(OUR_ACCESSIBILITY) {
        Some((d, notes)) => (d.trim().to_string(), notes.trim().to_string()),
        None if full.starts_with(OUR_ACCESSIBILITY.trim_start()) => (
            String::new(),
            full[OUR_ACCESSIBILITY.trim_start().len()..]
                .trim()
                .to_string(),
        ),
        None => (full, String::new()),
    };
    let described = words(&format!(
        "{name} {description} {}",
        terms
            .iter()
            .map(|t| first_of([text(t, "name"), text(t, "term")]))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    // A term of a kinds taxonomy first (`Activity kinds` in our feed), then any term.
    let kind_of = |ts: &[&Map<String, Value>]| {
        KIND_KEYWORDS
            .iter()
            .map(|(slug, _)| *slug)
            .find(|slug| ts.iter().any(|t| term_is(t, slug)))
    };
    let kind_terms: Vec<&Map<String, Value>> = terms
        .iter()
        .copied()
        .filter(|t| words(&taxonomy_of(t)).contains(" kind"))
        .collect();
    let by_term = kind_of(&kind_terms)
        .map(str::to_string)
        .or_else(|| kind_terms.iter().find_map(|t| slug_of(t)).filter(|_| ours))
        .or_else(|| kind_of(&terms).map(str::to_string));
    let by_words = || {
        let named = words(&name);
        let kind_in = |w: &str| {
            KIND_KEYWORDS
                .iter()
                .find(|(_, keys)| keys.iter().any(|k| says(w, k)))
                .map(|(slug, _)| slug.to_string())
        };
        kind_in(&named).or_else(|| kind_in(&described))
    };
    let Some(kind) = by_term.or_else(by_words) else {
        warnings.push(warning(
            at,
            "kind",
            format!(
                "activity {name:?} not imported: no activity kind in its taxonomy terms, \
                 name or description"
            ),
        ));
        return None;
    };
    let who = words(&format!(
        "{} {}",
        described,
        text(s, "eligibility_description")
    ));
    // A feed that classifies by audience (our own, or one with an audiences taxonomy) is
    // taken at its word; others are read for the words that name one.
    let classified = ours
        || terms
            .iter()
            .any(|t| words(&taxonomy_of(t)).contains(" audience"));
    let mut audiences: Vec<String> = AUDIENCE_KEYWORDS
        .iter()
        .filter(|(slug, keys)| {
            terms.iter().any(|t| term_is(t, slug))
                || (!classified && keys.iter().any(|k| says(&who, k)))
        })
        .map(|(slug, _)| slug.to_string())
        .collect();
    for slug in terms
        .iter()
        .filter(|t| ours && words(&taxonomy_of(t)).contains(" audience"))
        .filter_map(|t| slug_of(t))
    {
        if !audiences.contains(&slug) {
            audiences.push(slug);
        }
    }
    let venue_id = text(place.value, "id");
    let source_id = match service.link.map(|l| text(l, "id")) {
        Some(id) if !id.is_empty() => id,
        _ => format!("{}@{venue_id}", text(s, "id")),
    };
    let mut body = Map::new();
    let mut put = |k: &str, v: Value| {
        let empty =
            v.is_null() || v.as_str() == Some("") || v.as_array().is_some_and(Vec::is_empty);
        if !empty {
            body.insert(k.into(), v);
        }
    };
    put("name", Value::String(name.clone()));
    put("description", Value::String(description));
    put("accessibility_notes", Value::String(accessibility_notes));
    put("kind", Value::String(kind));
    put("audiences", Value::from(audiences));
    for (ours, theirs) in [("min_age", "minimum_age"), ("max_age", "maximum_age")] {
        match s.get(theirs).and_then(Value::as_u64) {
            Some(a) if a <= 120 => put(ours, Value::from(a)),
            Some(a) => warnings.push(warning(at, theirs, format!("left out: {a} is not an age"))),
            None => {}
        }
    }
    let schedules = service
        .link
        .map(|l| array(l, "schedules"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| array(s, "schedules"));
    let mut schedule = Vec::new();
    for (i, sc) in schedules.iter().enumerate() {
        match schedule_entry(sc) {
            Ok(e) => schedule.push(e),
            Err(reason) => warnings.push(warning(
                at,
                &format!("schedules[{i}]"),
                format!("left out of activity {name:?}: {reason}"),
            )),
        }
    }
    put("schedule", Value::Array(schedule));
    // Our feed puts the capacity notes in every schedule's notes.
    let notes: Vec<String> = schedules
        .iter()
        .filter_map(|sc| sc.as_object().map(|o| text(o, "notes")))
        .collect();
    if notes.first().is_some_and(|n| !n.is_empty()) && notes.iter().all(|n| *n == notes[0]) {
        put("capacity_notes", Value::String(notes[0].clone()));
    }
    let cost = cost(s);
    put("cost", Value::String(cost.into()));
    if cost == "paid" {
        let amount = array(s, "cost_options")
            .iter()
            .filter_map(|o| o.get("amount")?.as_f64())
            .find(|a| *a > 0.0 && *a <= 10_000.0);
        if let Some(a) = amount {
            put("cost_amount", Value::from(a));
        }
    }
    let how = words(&format!(
        "{} {}",
        text(s, "application_process"),
        text(s, "referral_method")
    ));
    let referral: Vec<&str> = [
        (
            "self",
            &[
                "self referral",
                "self refer",
                "drop in",
                "just turn up",
                "book directly",
            ][..],
        ),
        (
            "link-worker",
            &[
                "link worker",
                "link workers",
                "social prescriber",
                "social prescribing",
            ][..],
        ),
        ("gp", &["gp", "gps", "doctor"][..]),
    ]
    .iter()
    .filter(|(_, keys)| keys.iter().any(|k| says(&how, k)))
    .map(|(slug, _)| *slug)
    .collect();
    put("referral", Value::from(referral));
    put("booking_url", Value::String(text(s, "url")));
    put("contact_email", Value::String(text(s, "email")));
    let phone = first_of([
        phone(s),
        service.link.map(phone).unwrap_or_default(),
        phone(place.value),
    ]);
    put("contact_phone", Value::String(phone));
    let status = match text(s, "status").to_ascii_lowercase().as_str() {
        "inactive" | "defunct" => "archived",
        _ => "published",
    };
    put("status", Value::String(status.into()));
    put("source", Value::String(source.into()));
    put("source_id", Value::String(source_id));
    Some(ActivityDraft {
        location: at.to_string(),
        venue: venue_id,
        body,
    })
}

/// The slug of a term in our own feed's kinds or audiences taxonomy (its `term`), so that a
/// kind or audience an admin added travels too; the importing database's vocabulary then
/// accepts it or names it as unknown. Other feeds' terms are read by their words only.
fn slug_of(t: &Map<String, Value>) -> Option<String> {
    let slug = text(t, "term");
    let shaped = !slug.is_empty()
        && slug.len() <= 64
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    shaped.then_some(slug)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn our_own_visit_services_are_not_activities() {
        let loc = json!({"id": "L", "name": "Central Library"});
        let loc = loc.as_object().unwrap();
        let ours = json!({"name": "Central Library", "attributes": [{"taxonomy_term":
            {"name": "Library", "term": "library", "taxonomy": "Community asset categories"}}]});
        assert!(is_visit_service(ours.as_object().unwrap(), loc));
        let theirs = json!({"name": "Central Library"});
        assert!(!is_visit_service(theirs.as_object().unwrap(), loc));
    }
}
