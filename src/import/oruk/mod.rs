//! Open Referral UK (HSDS-UK 3.0) and HSDS 3.0 services, as an endpoint's `/services`
//! pages (`full=true`) or single service objects return them, mapped to [`RawAsset`] rows:
//! each location with a position becomes one venue row (keyed by the location's id), so
//! that feeds go through the same validation, matching and upsert as any import, and each
//! service at a venue an activity draft ([`ActivityDraft`]) to write once the venues are.
//! Services without a location are skipped with a warning; a location without
//! coordinates is a rejected row. Where a record is, is its JSON path in its file
//! (`contents[3].service_at_locations[0].location`), after the file's name for a
//! directory of pages. [`venue`] and [`activity`] map the records, [`classify`] says
//! what kind of venue, activity and audience they are, [`schedules`] converts times.
//!
//! [`RawAsset`]: crate::domain::RawAsset

pub mod activity;
pub mod classify;
mod json;
mod place;
pub mod schedules;
pub mod venue;

use serde_json::{Map, Value};
use std::collections::HashMap;

use super::RowError;
use crate::domain::RawAsset;
use activity::activity;
pub use activity::ActivityDraft;
use json::{array, text, warning};
use place::{Place, Service};
use venue::venue;

/// One document: its name (empty for a lone file or body) and its bytes.
pub struct Document<'a> {
    pub name: String,
    pub bytes: &'a [u8],
}

/// What a feed reads as: rows (or why a location is not one), in the order their
/// locations first appear, and warnings (services skipped, values left out).
#[derive(Debug, Default)]
pub struct Feed {
    pub rows: Vec<(String, Result<RawAsset, RowError>)>,
    pub warnings: Vec<RowError>,
    /// The services at the venues, as activities (not our own "visit" services).
    pub activities: Vec<ActivityDraft>,
}

/// Reads services from `docs` (each a paged envelope with `contents`, or one service)
/// as rows of `source`. Err: the problems of documents that are not services (each named,
/// with the position of bad JSON).
pub fn read_services(docs: &[Document], source: &str) -> Result<Feed, Vec<RowError>> {
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    let file_problem = |name: &str, reason: String| RowError {
        location: if name.is_empty() {
            "file".into()
        } else {
            name.into()
        },
        field: "-".into(),
        reason,
        value: None,
    };
    for doc in docs {
        match serde_json::from_slice::<Value>(super::strip_bom(doc.bytes)) {
            Ok(v) if v.is_object() => parsed.push((doc.name.as_str(), v)),
            Ok(_) => problems.push(file_problem(
                &doc.name,
                "is not an ORUK /services page or service: a JSON object is expected".into(),
            )),
            Err(e) => problems.push(file_problem(
                &doc.name,
                format!(
                    "is not valid JSON: {} at line {} column {}",
                    without_position(&e),
                    e.line(),
                    e.column()
                ),
            )),
        }
    }
    let mut services: Vec<(At, &Map<String, Value>)> = Vec::new();
    for (name, v) in &parsed {
        let at = |path: String| At {
            file: name.to_string(),
            path,
        };
        match v.get("contents") {
            Some(Value::Array(items)) => {
                for (i, s) in items.iter().enumerate() {
                    let here = at(format!("contents[{i}]"));
                    match s.as_object().filter(|s| is_service(s)) {
                        Some(s) => services.push((here, s)),
                        None => problems.push(warning(
                            &here.to_string(),
                            "-",
                            "is not a service (an object with an id and a status or \
                             service_at_locations): is this a /services page?"
                                .into(),
                        )),
                    }
                }
            }
            Some(_) => problems.push(file_problem(
                name,
                "has a contents that is not an array".into(),
            )),
            None => match v.as_object().filter(|s| is_service(s)) {
                Some(s) => services.push((at(String::new()), s)),
                None => problems.push(file_problem(
                    name,
                    "is not an ORUK /services page (no contents array) nor a service (no id \
                     with a status or service_at_locations)"
                        .into(),
                )),
            },
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(feed(&services, source))
}

/// Whether an object is a service: an id, and the status every service has (or the
/// locations that only services have), which organizations, locations and taxonomy terms
/// lack.
fn is_service(o: &Map<String, Value>) -> bool {
    o.contains_key("id") && (o.contains_key("status") || o.contains_key("service_at_locations"))
}

/// serde_json's message without its " at line L column C" (said separately).
fn without_position(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// Where a record is: its file (empty for a lone file or body) and its JSON path in it
/// (empty for the file's one service).
#[derive(Clone)]
struct At {
    file: String,
    path: String,
}

impl At {
    /// The path of a field of this record.
    fn field(&self, field: &str) -> At {
        At {
            file: self.file.clone(),
            path: if self.path.is_empty() {
                field.to_string()
            } else {
                format!("{}.{field}", self.path)
            },
        }
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.file.is_empty(), self.path.is_empty()) {
            (true, true) => write!(f, "service"),
            (true, false) => write!(f, "{}", self.path),
            (false, true) => write!(f, "{}", self.file),
            (false, false) => write!(f, "{}: {}", self.file, self.path),
        }
    }
}

fn feed(services: &[(At, &Map<String, Value>)], source: &str) -> Feed {
    let mut out = Feed::default();
    let mut places: Vec<Place> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut seen_services: HashMap<String, String> = HashMap::new();
    for (at, s) in services {
        let id = text(s, "id");
        if !id.is_empty() {
            if let Some(first) = seen_services.get(&id) {
                out.warnings.push(warning(
                    &at.to_string(),
                    "-",
                    format!("skipped: the same service (id {id}) as {first}"),
                ));
                continue;
            }
            seen_services.insert(id.clone(), at.to_string());
        }
        let mut found = 0;
        let links = array(s, "service_at_locations");
        let located = links.iter().enumerate().filter_map(|(i, l)| {
            let l = l.as_object()?;
            let loc = l.get("location")?.as_object()?;
            Some((
                at.field(&format!("service_at_locations[{i}].location"))
                    .to_string(),
                loc,
                Some(l),
            ))
        });
        let direct = array(s, "locations")
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                Some((
                    at.field(&format!("locations[{i}]")).to_string(),
                    l.as_object()?,
                    None,
                ))
            });
        for (location, loc, link) in located.chain(direct).collect::<Vec<_>>() {
            found += 1;
            let loc_id = text(loc, "id");
            let key = if loc_id.is_empty() {
                // No identity to key a venue by: a rejected row of its own.
                format!("\u{0}{location}")
            } else {
                loc_id
            };
            match by_id.get(&key) {
                Some(&p) => {
                    let place = &mut places[p];
                    let same = place
                        .services
                        .last()
                        .is_some_and(|x| std::ptr::eq(x.value, *s));
                    if !same {
                        place.services.push(Service {
                            value: s,
                            at: at.to_string(),
                            link,
                        });
                    }
                }
                None => {
                    by_id.insert(key, places.len());
                    places.push(Place {
                        location,
                        value: loc,
                        link,
                        services: vec![Service {
                            value: s,
                            at: at.to_string(),
                            link,
                        }],
                    });
                }
            }
        }
        if found == 0 {
            let name = text(s, "name");
            out.warnings.push(warning(
                &at.to_string(),
                "service_at_locations",
                format!(
                    "skipped: service {} has no location (fetch the pages with full=true)",
                    if name.is_empty() {
                        id.clone()
                    } else {
                        format!("{name:?}")
                    }
                ),
            ));
        }
    }
    for place in &places {
        let mut noted = Vec::new();
        let activities: Vec<ActivityDraft> = place
            .services
            .iter()
            .filter_map(|service| activity(place, service, source, &mut noted))
            .collect();
        let row = venue(place, source, !activities.is_empty(), &mut out.warnings);
        if row.is_ok() {
            out.warnings.append(&mut noted);
            out.activities.extend(activities);
        }
        out.rows.push((place.location.clone(), row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::schedules::OUR_HOURS;
    use super::*;
    use serde_json::json;

    /// A venue as our own `/oruk` publishes it (a "visit" service in our category
    /// taxonomy, the hours whole in the schedule's description) reads back as it was.
    #[test]
    fn our_own_feed_reads_back_as_the_venue() {
        let service = json!({"id": "S", "name": "Toxteth", "status": "active",
            "url": "https://example.org/toxteth",
            "cost_options": [{"option": "Free entry", "amount": 0}],
            "schedules": [{"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR", "opens_at": "10:00",
                "closes_at": "17:00", "description": format!("{OUR_HOURS} Mo-Fr 10:00-17:00; PH off"),
                "notes": "PH off"}],
            "attributes": [{"taxonomy_term": {"name": "Library", "term": "library",
                "taxonomy": "Community asset categories"}}],
            "service_at_locations": [{"id": "SAL", "location": {"id": "L", "name": "Toxteth",
                "latitude": 53.395, "longitude": -2.9715,
                "accessibility": [{"description": "Step-free access for wheelchair users",
                    "accessibility": "wheelchair=yes"}]}}]});
        let bytes = service.to_string().into_bytes();
        let feed = read_services(
            &[Document {
                name: String::new(),
                bytes: &bytes,
            }],
            "s",
        )
        .unwrap();
        let row = feed.rows[0].1.as_ref().unwrap();
        assert_eq!(row.opening_hours, "Mo-Fr 10:00-17:00; PH off");
        assert_eq!(
            (
                row.category.as_str(),
                row.cost.as_str(),
                row.wheelchair.as_str()
            ),
            ("library", "free", "yes")
        );
        assert_eq!(row.website, "https://example.org/toxteth");
        assert!(feed.activities.is_empty());
        assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    }

    /// An activity as our own `/oruk` publishes it (a service at its venue's location with
    /// the venue's category term, its kind and audiences as terms, referral routes and the
    /// booking link in `application_process`) reads back as the activity it was.
    #[test]
    fn our_own_activity_services_read_back_as_activities() {
        let term = |taxonomy: &str, term: &str, name: &str| json!({"taxonomy_term": {"taxonomy": taxonomy, "term": term, "name": name}});
        let service = json!({"id": "A", "name": "Memory cafe", "status": "active",
            "description": "Reminiscence over tea.\n\nAccessibility: Hearing loop.",
            "url": "https://example.org/book", "email": "cafe@example.org",
            "minimum_age": 18,
            "eligibility_description": "For: People living with dementia, Carers",
            "application_process": "Referral: self-referral, referral by a social prescribing link worker. Book at https://example.org/book.",
            "cost_options": [{"option": "Donation", "amount": 0, "amount_description": "Free; donations welcome"}],
            "schedules": [{"freq": "MONTHLY", "byday": "1WE", "opens_at": "10:00", "closes_at": "12:00",
                "valid_from": "2026-01-07", "dtstart": "2026-01-07", "notes": "Up to 20 people"}],
            "attributes": [term("Community asset categories", "heritage", "Heritage"),
                term("Activity kinds", "reading", "Reading and writing"),
                term("Audiences", "dementia", "People living with dementia"),
                term("Audiences", "carers", "Carers")],
            "organization": {"id": "O", "name": "Speke Hall", "website": "https://example.org/hall"},
            "service_at_locations": [{"id": "SAL", "location": {"id": "L", "name": "Speke Hall",
                "latitude": 53.3389, "longitude": -2.8737}}]});
        let bytes = service.to_string().into_bytes();
        let feed = read_services(
            &[Document {
                name: String::new(),
                bytes: &bytes,
            }],
            "s",
        )
        .unwrap();
        let row = feed.rows[0].1.as_ref().unwrap();
        assert_eq!(
            (row.category.as_str(), row.website.as_str()),
            ("heritage", "https://example.org/hall")
        );
        assert_eq!(row.email, "", "the activity's e-mail is not the venue's");
        assert_eq!(feed.activities.len(), 1);
        assert_eq!(
            Value::Object(feed.activities[0].body.clone()),
            json!({"name": "Memory cafe", "description": "Reminiscence over tea.",
                "accessibility_notes": "Hearing loop.", "kind": "reading",
                "audiences": ["dementia", "carers"], "min_age": 18,
                "schedule": [{"freq": "MONTHLY", "byday": "1WE", "opens_at": "10:00",
                    "closes_at": "12:00", "valid_from": "2026-01-07"}],
                "capacity_notes": "Up to 20 people", "cost": "donation",
                "referral": ["self", "link-worker"], "booking_url": "https://example.org/book",
                "contact_email": "cafe@example.org", "status": "published",
                "source": "s", "source_id": "SAL"})
        );
    }

    /// A kind or audience an admin added comes through from our own feed (its slug, for the
    /// importing database to check); another feed's unknown terms are read by their words.
    #[test]
    fn added_kinds_and_audiences_travel_in_our_own_feed_only() {
        let term = |taxonomy: &str, term: &str| json!({"taxonomy_term": {"taxonomy": taxonomy, "term": term, "name": term}});
        let read = |attributes: Value| {
            let service = json!({"id": "A", "name": "Allotment club", "status": "active",
                "attributes": attributes,
                "service_at_locations": [{"id": "SAL", "location": {"id": "L", "name": "Hall",
                    "latitude": 53.3389, "longitude": -2.8737}}]});
            let bytes = service.to_string().into_bytes();
            let doc = Document {
                name: String::new(),
                bytes: &bytes,
            };
            read_services(&[doc], "s").unwrap()
        };
        let ours = read(json!([
            term("Community asset categories", "community_centre"),
            term("Activity kinds", "gardening"),
            term("Audiences", "veterans"),
            term("Audiences", "carers"),
            term("Audiences", "Not A Slug")
        ]));
        let body = &ours.activities[0].body;
        assert_eq!(body["kind"], "gardening");
        assert_eq!(body["audiences"], json!(["carers", "veterans"]));
        let theirs = read(json!([
            term("Activity kinds", "gardening"),
            term("Audiences", "veterans")
        ]));
        // Read by its words ("allotment"), not taken at the term's word.
        let body = &theirs.activities[0].body;
        assert_eq!(body["kind"], "nature");
        assert_eq!(body.get("audiences"), None);
    }

    /// Round trip through the publisher's own code: a venue with an activity, as
    /// `crate::oruk::Feed` writes it (`/oruk/services?full=true`), reads back as the same
    /// venue fields and the same activity (every field of it).
    #[test]
    fn the_publishers_feed_reads_back_as_the_same_activity() {
        use crate::domain::activity::{ActivityFields, Term, Vocabulary};
        use crate::domain::{Activity, Category};
        use crate::index::{AreaSet, Snapshot};
        use crate::oruk::activities::tests::{kinds, singing, venue};
        use crate::oruk::{Activities, Depth, Feed, Paging, ServiceQuery};
        use std::collections::HashSet;
        use std::sync::Arc;

        struct One(Activity);
        impl Activities for One {
            fn at_venue(&self, venue: &uuid::Uuid) -> Vec<Activity> {
                vec![self.0.clone()]
                    .into_iter()
                    .filter(|a| a.fields.asset_id == *venue)
                    .collect()
            }
            fn kinds(&self) -> Vec<Term> {
                kinds()
            }
            fn audiences(&self) -> Vec<Term> {
                Vec::new()
            }
        }
        let library = Category {
            slug: "library".into(),
            label: "Library".into(),
            description: "Libraries".into(),
        };
        let snap = Snapshot::build(1, &[library], vec![venue()], Arc::new(AreaSet::empty()));
        let feed = Feed::new(Arc::new(snap)).with_activities(Arc::new(One(singing())));
        let paging = Paging {
            page: 1,
            per_page: 50,
        };
        let page = feed.services(&ServiceQuery::default(), paging, Depth::Full, false);
        let bytes = serde_json::to_vec(&page).unwrap();
        let read = read_services(
            &[Document {
                name: String::new(),
                bytes: &bytes,
            }],
            "ours",
        )
        .unwrap();
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        let v = venue().fields;
        let row = read.rows[0].1.as_ref().unwrap();
        assert_eq!(row.source_id, venue().id.to_string());
        assert_eq!(
            (
                row.name.as_str(),
                row.category.as_str(),
                row.postcode.as_str()
            ),
            (v.name.as_str(), "library", "IG11 7NB")
        );
        assert_eq!((row.lat.parse(), row.lon.parse()), (Ok(v.lat), Ok(v.lon)));
        assert_eq!(read.activities.len(), 1);
        let kinds: HashSet<String> = ["music-singing".into()].into();
        let audiences: HashSet<String> =
            ["long-term-conditions".into(), "older-people".into()].into();
        let mut body = read.activities[0].body.clone();
        body.insert("asset_id".into(), venue().id.to_string().into());
        let vocab = Vocabulary {
            kinds: &kinds,
            audiences: &audiences,
        };
        let got = ActivityFields::parse(&body, &vocab).unwrap();
        let want = ActivityFields {
            source: Some("ours".into()),
            source_id: got.source_id.clone(),
            ..singing().fields
        };
        assert_eq!(got, want);
    }

    #[test]
    fn bad_json_is_named_with_its_position() {
        let docs = [
            Document {
                name: "p1.json".into(),
                bytes: b"{\"contents\": [\n  {\"id\": 1,, }]}",
            },
            Document {
                name: "p2.json".into(),
                bytes: b"[]",
            },
        ];
        let errs = read_services(&docs, "s").unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].location, "p1.json");
        assert!(
            errs[0].reason.ends_with("at line 2 column 12"),
            "{}",
            errs[0].reason
        );
        assert_eq!(errs[1].location, "p2.json");
    }

    #[test]
    fn one_venue_per_location_however_many_services() {
        let loc = json!({"id": "L1", "name": "Town Museum", "latitude": 51.5, "longitude": -0.1,
            "addresses": [{"address_1": "1 High St", "city": "Town", "postal_code": "sw1a1aa",
            "address_type": "physical"}]});
        let page = json!({"total_items": 3, "contents": [
            {"id": "S1", "status": "active", "name": "Object handling", "service_at_locations": [{"location": loc}]},
            {"id": "S2", "status": "active", "name": "Tours", "locations": [loc]},
            {"id": "S3", "status": "active", "name": "Helpline"},
            {"id": "S4", "status": "active", "name": "Outreach", "service_at_locations": [{"location": {"id": "L2", "name": "Van"}}]}
        ]});
        let bytes = serde_json::to_vec(&page).unwrap();
        let feed = read_services(
            &[Document {
                name: String::new(),
                bytes: &bytes,
            }],
            "s",
        )
        .unwrap();
        assert_eq!(feed.rows.len(), 2);
        let (at, row) = &feed.rows[0];
        assert_eq!(at, "contents[0].service_at_locations[0].location");
        let row = row.as_ref().unwrap();
        assert_eq!(
            (row.source_id.as_str(), row.category.as_str()),
            ("L1", "museum")
        );
        assert_eq!((row.lat.as_str(), row.lon.as_str()), ("51.5", "-0.1"));
        assert_eq!(
            (row.town.as_str(), row.postcode.as_str()),
            ("Town", "sw1a1aa")
        );
        let (at, err) = &feed.rows[1];
        assert_eq!(at, "contents[3].service_at_locations[0].location");
        assert_eq!(err.as_ref().unwrap_err().field, "latitude");
        // The helpline has no location; the tours no activity kind.
        let warned: Vec<(&str, &str)> = feed
            .warnings
            .iter()
            .map(|w| (w.location.as_str(), w.field.as_str()))
            .collect();
        assert_eq!(
            warned,
            [
                ("contents[2]", "service_at_locations"),
                ("contents[1]", "kind")
            ]
        );
        // Object handling is a heritage activity at the museum.
        assert_eq!(feed.activities.len(), 1);
        let a = &feed.activities[0];
        assert_eq!(
            (a.location.as_str(), a.venue.as_str()),
            ("contents[0]", "L1")
        );
        assert_eq!(a.body["kind"], "heritage");
        assert_eq!(a.body["source_id"], "S1@L1");
    }
}
