//! A location as a venue row (`RawAsset`), or why it cannot be one.

use serde_json::{Map, Value};

use super::classify::{category, cost, wheelchair, FALLBACK_CATEGORY};
use super::json::{array, first_of, object, phone, terms, text, warning};
use super::place::Place;
use super::schedules::{weekly_hours, OUR_HOURS};
use crate::domain::asset::normalise_postcode;
use crate::domain::{Hours, RawAsset};
use crate::import::RowError;

/// One location as a venue row, or why it cannot be one.
pub(super) fn venue(
    place: &Place,
    source: &str,
    activities: bool,
    warnings: &mut Vec<RowError>,
) -> Result<RawAsset, RowError> {
    let loc = place.value;
    let at = place.location.as_str();
    let first = place.services[0].value;
    let org = object(first, "organization");
    let org_text = |k: &str| org.map(|o| text(o, k)).unwrap_or_default();
    let source_id = text(loc, "id");
    if source_id.is_empty() {
        return Err(RowError {
            location: at.into(),
            field: "id".into(),
            reason: "a location needs an id (the venue's source_id, so that a re-import \
                     updates it)"
                .into(),
            value: None,
        });
    }
    let coordinate = |k: &str| match loc.get(k) {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    };
    let (lat, lon) = match (coordinate("latitude"), coordinate("longitude")) {
        (Some(lat), Some(lon)) => (lat, lon),
        (lat, _) => {
            return Err(RowError {
                location: at.into(),
                field: if lat.is_none() {
                    "latitude"
                } else {
                    "longitude"
                }
                .into(),
                reason: "a location needs latitude and longitude to become a venue".into(),
                value: None,
            })
        }
    };
    let name = first_of([text(loc, "name"), text(first, "name"), org_text("name")]);
    let (address, town, postcode) = address(loc);
    let postcode = if !postcode.is_empty() && normalise_postcode(&postcode).is_none() {
        warnings.push(RowError {
            location: at.into(),
            field: "postcode".into(),
            reason: "left out: not a UK postcode".into(),
            value: Some(postcode),
        });
        String::new()
    } else {
        postcode
    };
    let service_names: Vec<String> = place
        .services
        .iter()
        .map(|s| text(s.value, "name"))
        .collect();
    let terms: Vec<&Map<String, Value>> = place
        .services
        .iter()
        .flat_map(|s| terms(s.value))
        .chain(terms(loc))
        .collect();
    let category = match category(&name, &terms, &service_names) {
        Some(c) => c,
        None => {
            warnings.push(warning(
                at,
                "category",
                format!(
                    "{FALLBACK_CATEGORY}: no category taxonomy term, and the names say no \
                     other kind of venue"
                ),
            ));
            FALLBACK_CATEGORY
        }
    };
    let opening_hours = opening_hours(place, activities, warnings);
    Ok(RawAsset {
        source: source.into(),
        source_id,
        name,
        category: category.into(),
        lat,
        lon,
        address,
        town,
        postcode,
        // An activity's booking link and contacts are its own: the organization's then.
        website: if activities {
            first_of([org_text("website"), org_text("url")])
        } else {
            first_of([text(first, "url"), org_text("website"), org_text("url")])
        },
        phone: first_of([
            phone(loc),
            if activities {
                String::new()
            } else {
                phone(first)
            },
            org.map(phone).unwrap_or_default(),
        ]),
        email: if activities {
            org_text("email")
        } else {
            first_of([text(first, "email"), org_text("email")])
        },
        opening_hours,
        wheelchair: wheelchair(loc).into(),
        // An activity's price and description are its own, not the venue's.
        cost: if activities { "unknown" } else { cost(first) }.into(),
        description: if activities {
            text(loc, "description")
        } else {
            first_of([text(loc, "description"), text(first, "description")])
        },
        tags: String::new(),
        status: String::new(),
        location_precision: String::new(),
    })
}

/// (address lines, town, postcode) of the location's physical address, else its first.
pub(super) fn address(loc: &Map<String, Value>) -> (String, String, String) {
    let all: Vec<&Map<String, Value>> = array(loc, "addresses")
        .iter()
        .chain(array(loc, "physical_addresses"))
        .filter_map(Value::as_object)
        .collect();
    let chosen = all
        .iter()
        .find(|a| text(a, "address_type").eq_ignore_ascii_case("physical"))
        .or(all.first());
    let Some(a) = chosen else {
        return Default::default();
    };
    let lines: Vec<String> = ["address_1", "address_2"]
        .iter()
        .map(|k| text(a, k))
        .filter(|l| !l.is_empty())
        .collect();
    (lines.join(", "), text(a, "city"), text(a, "postal_code"))
}

/// The venue's opening hours in OpenStreetMap syntax from the location's schedules, else
/// (a location with one service that is not an activity, such as our own "visit"
/// service) its service_at_location's, else the service's: weekly rules with days and
/// times only. Anything else is left out with a warning.
pub(super) fn opening_hours(
    place: &Place,
    activities: bool,
    warnings: &mut Vec<RowError>,
) -> String {
    // An activity's times are its own, not the venue's.
    let only_service = place.services.len() == 1 && !activities;
    let (schedules, field) = [
        (array(place.value, "schedules"), "schedules"),
        (
            place
                .link
                .filter(|_| only_service)
                .map_or(&[][..], |l| array(l, "schedules")),
            "service_at_location.schedules",
        ),
        (
            if only_service {
                array(place.services[0].value, "schedules")
            } else {
                &[]
            },
            "service.schedules",
        ),
    ]
    .into_iter()
    .find(|(s, _)| !s.is_empty())
    .unwrap_or((&[], "schedules"));
    if schedules.is_empty() {
        return String::new();
    }
    // Our own feed keeps the hours as written in each record's description.
    let ours = schedules.iter().find_map(|s| {
        let d = s.get("description")?.as_str()?;
        let raw = d.strip_prefix(OUR_HOURS)?.trim();
        Hours::parse(raw).is_ok().then(|| raw.to_string())
    });
    if let Some(raw) = ours {
        return raw;
    }
    match weekly_hours(schedules) {
        Ok(h) => h,
        Err(reason) => {
            warnings.push(warning(
                &place.location,
                field,
                format!("opening hours left out: {reason}"),
            ));
            String::new()
        }
    }
}
