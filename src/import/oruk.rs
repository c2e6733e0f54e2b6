//! Open Referral UK (HSDS-UK 3.0) and HSDS 3.0 services, as an endpoint's `/services`
//! pages (`full=true`) or single service objects return them, mapped to [`RawAsset`] rows:
//! each location with a position becomes one venue row (keyed by the location's id), so
//! that feeds go through the same validation, matching and upsert as any import.
//! Services without a location are skipped with a warning; a location without
//! coordinates is a rejected row. Where a record is, is its JSON path in its file
//! (`contents[3].service_at_locations[0].location`), after the file's name for a
//! directory of pages.

use serde_json::{Map, Value};
use std::collections::HashMap;

use super::RowError;
use crate::domain::asset::normalise_postcode;
use crate::domain::{Hours, RawAsset};

/// The names of the taxonomy our own ORUK feed publishes the categories in (its terms'
/// `term` is our slug, `name` our label): the first is what `/oruk` publishes.
pub const CATEGORY_TAXONOMIES: [&str; 2] =
    ["Community asset categories", "community-assets categories"];

fn is_category_taxonomy(name: &str) -> bool {
    CATEGORY_TAXONOMIES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(name))
}

/// Keyword rules, first match wins: a category and words or phrases that name it.
/// `arts_centre` and `community_centre` come first so that "Arts Centre Cafe" is an arts
/// centre; `community_centre` is also what a venue that matches nothing becomes.
const KEYWORDS: &[(&str, &[&str])] = &[
    (
        "arts_centre",
        &["arts centre", "arts center", "art centre", "arts hub"],
    ),
    ("museum", &["museum", "museums"]),
    ("gallery", &["gallery", "galleries", "art space"]),
    ("library", &["library", "libraries"]),
    (
        "theatre",
        &["theatre", "theatres", "theater", "playhouse", "opera house"],
    ),
    (
        "cinema",
        &["cinema", "cinemas", "picturehouse", "film club"],
    ),
    (
        "heritage",
        &[
            "heritage",
            "castle",
            "abbey",
            "priory",
            "historic",
            "monument",
            "stately home",
            "manor house",
        ],
    ),
    (
        "cafe",
        &["cafe", "café", "coffee shop", "tea room", "tearoom"],
    ),
    (
        "community_centre",
        &[
            "community centre",
            "community center",
            "village hall",
            "community hall",
            "church hall",
            "civic centre",
            "civic center",
        ],
    ),
];

/// The category a venue gets when nothing names one (with a warning).
pub const FALLBACK_CATEGORY: &str = "community_centre";

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

/// A service at a place: the service, where it is, and the service_at_location record
/// that links the two (none when listed in the service's `locations`).
struct Service<'a> {
    value: &'a Map<String, Value>,
    at: String,
    link: Option<&'a Map<String, Value>>,
}

/// A location and the services at it, in the order found.
struct Place<'a> {
    location: String,
    value: &'a Map<String, Value>,
    /// The service_at_location record that linked it, if any (its own schedules).
    link: Option<&'a Map<String, Value>>,
    services: Vec<Service<'a>>,
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

fn warning(location: &str, field: &str, reason: String) -> RowError {
    RowError {
        location: location.to_string(),
        field: field.into(),
        reason,
        value: None,
    }
}

fn array<'a>(o: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    o.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn object<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    o.get(key).and_then(Value::as_object)
}

/// A string or number field as trimmed text; "" when absent or of another type.
fn text(o: &Map<String, Value>, key: &str) -> String {
    match o.get(key) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The first non-empty of the values.
fn first_of(values: impl IntoIterator<Item = String>) -> String {
    values
        .into_iter()
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

/// The first phone number of a record's `phones`.
fn phone(o: &Map<String, Value>) -> String {
    first_of(
        array(o, "phones")
            .iter()
            .filter_map(Value::as_object)
            .map(|p| text(p, "number")),
    )
}

/// One location as a venue row, or why it cannot be one.
fn venue(
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
        website: first_of([text(first, "url"), org_text("website"), org_text("url")]),
        phone: first_of([phone(loc), phone(first), org.map(phone).unwrap_or_default()]),
        email: first_of([text(first, "email"), org_text("email")]),
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
fn address(loc: &Map<String, Value>) -> (String, String, String) {
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

/// The taxonomy terms of a record's `attributes` (and a bare `taxonomy_terms` list).
fn terms(o: &Map<String, Value>) -> Vec<&Map<String, Value>> {
    let from_attributes = array(o, "attributes")
        .iter()
        .filter_map(|a| a.get("taxonomy_term")?.as_object());
    let bare = array(o, "taxonomy_terms")
        .iter()
        .filter_map(Value::as_object);
    from_attributes.chain(bare).collect()
}

/// The name of a term's taxonomy (`taxonomy`, or `taxonomy_detail.name`).
fn taxonomy_of(term: &Map<String, Value>) -> String {
    first_of([
        text(term, "taxonomy"),
        object(term, "taxonomy_detail")
            .map(|t| text(t, "name"))
            .unwrap_or_default(),
    ])
}

/// A slug's label as the categories table has it ("arts_centre" → "arts centre").
fn label_of(slug: &str) -> String {
    slug.replace('_', " ")
}

/// The category by the documented rule: (a) a term of our own category taxonomy whose
/// code or name is a category, else any term whose code or name is one (slug or label);
/// (b) the keyword rules over the location's name, the terms' names and the services'
/// names, in that order; `None` when nothing says.
fn category(
    name: &str,
    terms: &[&Map<String, Value>],
    service_names: &[String],
) -> Option<&'static str> {
    let exact = |t: &Map<String, Value>| {
        let said = [text(t, "code"), text(t, "name"), text(t, "term")];
        KEYWORDS.iter().map(|(slug, _)| *slug).find(|slug| {
            said.iter()
                .any(|s| s.eq_ignore_ascii_case(slug) || s.eq_ignore_ascii_case(&label_of(slug)))
        })
    };
    let ours = terms
        .iter()
        .filter(|t| is_category_taxonomy(&taxonomy_of(t)))
        .find_map(|t| exact(t));
    if let Some(c) = ours.or_else(|| terms.iter().find_map(|t| exact(t))) {
        return Some(c);
    }
    let term_names = terms
        .iter()
        .map(|t| first_of([text(t, "name"), text(t, "term")]));
    std::iter::once(name.to_string())
        .chain(term_names)
        .chain(service_names.iter().cloned())
        .find_map(|text| keyword_category(&text))
}

/// The first keyword rule that `text` matches (whole words, any case).
pub fn keyword_category(text: &str) -> Option<&'static str> {
    let words = format!(
        " {} ",
        text.to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() || c == 'é' {
                c
            } else {
                ' '
            })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    );
    KEYWORDS
        .iter()
        .find(|(_, keys)| keys.iter().any(|k| words.contains(&format!(" {k} "))))
        .map(|(slug, _)| *slug)
}

/// Activity kinds and the words that name them, first match wins (the specific before
/// the general: a "film club" is film, not creative arts).
const KIND_KEYWORDS: &[(&str, &[&str])] = &[
    (
        "music-singing",
        &[
            "singing",
            "sing",
            "choir",
            "choirs",
            "music",
            "song",
            "songs",
            "band",
            "orchestra",
            "ukulele",
        ],
    ),
    (
        "dance",
        &["dance", "dancing", "ballet", "movement to music"],
    ),
    (
        "film",
        &[
            "film",
            "films",
            "cinema",
            "screening",
            "screenings",
            "movie",
            "movies",
        ],
    ),
    (
        "crafts",
        &[
            "craft", "crafts", "knitting", "sewing", "pottery", "woodwork", "crochet", "quilting",
            "making",
        ],
    ),
    (
        "reading",
        &[
            "reading",
            "book club",
            "books",
            "poetry",
            "writing",
            "storytelling",
            "rhyme time",
            "stories",
        ],
    ),
    (
        "heritage",
        &[
            "heritage",
            "history",
            "object handling",
            "reminiscence",
            "archive",
            "archives",
            "museum",
        ],
    ),
    (
        "nature",
        &[
            "nature",
            "garden",
            "gardening",
            "walk",
            "walks",
            "walking",
            "allotment",
            "outdoors",
        ],
    ),
    (
        "creative-arts",
        &[
            "art",
            "arts",
            "painting",
            "drawing",
            "sculpture",
            "photography",
            "creative",
            "arts on prescription",
        ],
    ),
];

/// Audiences and the words that name them (all that match apply).
const AUDIENCE_KEYWORDS: &[(&str, &[&str])] = &[
    (
        "dementia",
        &["dementia", "alzheimer", "alzheimers", "alzheimer s"],
    ),
    (
        "mental-health",
        &["mental health", "anxiety", "depression", "mental wellbeing"],
    ),
    (
        "long-term-conditions",
        &[
            "long term condition",
            "long term conditions",
            "copd",
            "parkinson",
            "parkinsons",
            "parkinson s",
            "stroke",
            "chronic pain",
            "lung condition",
            "lung conditions",
            "arthritis",
        ],
    ),
    (
        "loneliness",
        &["lonely", "loneliness", "isolated", "isolation"],
    ),
    (
        "young-people",
        &[
            "young people",
            "children",
            "teenagers",
            "teens",
            "youth",
            "kids",
        ],
    ),
    (
        "older-people",
        &[
            "older people",
            "older adults",
            "over 50s",
            "over 60s",
            "over 65s",
            "seniors",
            "elderly",
        ],
    ),
    ("carers", &["carer", "carers"]),
    (
        "learning-disabilities",
        &[
            "learning disability",
            "learning disabilities",
            "autism",
            "autistic",
        ],
    ),
];

/// A text's words, lower-case, separated by single spaces and padded with one each side
/// (so that `" word "` finds whole words and phrases).
fn words(text: &str) -> String {
    let t: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    format!(" {} ", t.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn says(words: &str, phrase: &str) -> bool {
    words.contains(&format!(" {phrase} "))
}

/// Whether a term's code, term or name is `slug` or its label (`music-singing`, "music
/// singing").
fn term_is(t: &Map<String, Value>, slug: &str) -> bool {
    let label = words(slug);
    [text(t, "code"), text(t, "term"), text(t, "name")]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(slug) || words(s) == label)
}

/// Our own publisher's "visit" service of a venue without activities: named as its
/// location, classified in our category taxonomy.
fn is_visit_service(service: &Map<String, Value>, loc: &Map<String, Value>) -> bool {
    text(service, "name") == text(loc, "name")
        && terms(service)
            .iter()
            .any(|t| is_category_taxonomy(&taxonomy_of(t)))
}

/// A service as an activity at the place's venue, or `None` (our "visit" service; no
/// activity kind found, with a warning).
fn activity(
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
    let terms = terms(s);
    let described = words(&format!(
        "{name} {} {}",
        text(s, "description"),
        terms
            .iter()
            .map(|t| first_of([text(t, "name"), text(t, "term")]))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    let by_term = KIND_KEYWORDS
        .iter()
        .map(|(slug, _)| *slug)
        .find(|slug| terms.iter().any(|t| term_is(t, slug)));
    let by_words = || {
        let named = words(&name);
        let kind_in = |w: &str| {
            KIND_KEYWORDS
                .iter()
                .find(|(_, keys)| keys.iter().any(|k| says(w, k)))
                .map(|(slug, _)| *slug)
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
    let audiences: Vec<&str> = AUDIENCE_KEYWORDS
        .iter()
        .filter(|(slug, keys)| {
            terms.iter().any(|t| term_is(t, slug)) || keys.iter().any(|k| says(&who, k))
        })
        .map(|(slug, _)| *slug)
        .collect();
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
    put("description", Value::String(text(s, "description")));
    put("kind", Value::String(kind.into()));
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
                "self",
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

/// An HSDS schedule as an activity schedule line: a weekly or monthly recurrence (every
/// week or month, days in `byday`, times, optional validity), or one date (`dtstart` or
/// equal `valid_from` and `valid_to`, no `freq`).
fn schedule_entry(s: &Value) -> Result<Value, String> {
    let s = s.as_object().ok_or("not an object")?;
    let (Some(opens), Some(closes)) = (clock(&text(s, "opens_at")), clock(&text(s, "closes_at")))
    else {
        return Err("no opens_at and closes_at as HH:MM".into());
    };
    let date = |k: &str| {
        let d = text(s, k);
        let d = d.get(..10).unwrap_or(&d).to_string();
        chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .ok()
            .map(|_| d)
    };
    let freq = text(s, "freq").to_ascii_uppercase();
    if freq.is_empty() {
        let day = date("dtstart").or_else(|| match (date("valid_from"), date("valid_to")) {
            (Some(a), Some(b)) if a == b => Some(a),
            _ => None,
        });
        return match day {
            Some(d) => Ok(json_entry([
                ("date", d),
                ("opens_at", opens),
                ("closes_at", closes),
            ])),
            None => Err("neither a recurrence (freq) nor one date".into()),
        };
    }
    if freq != "WEEKLY" && freq != "MONTHLY" {
        return Err(format!("freq {freq} (only WEEKLY and MONTHLY)"));
    }
    let interval = text(s, "interval");
    if !(interval.is_empty() || interval == "1") {
        return Err(format!("repeats every {interval} periods"));
    }
    if let Some(k) = ["bymonthday", "byyearday", "byweekno", "count"]
        .into_iter()
        .find(|k| !text(s, k).is_empty())
    {
        return Err(format!("has {k}, which an activity schedule cannot say"));
    }
    let byday = text(s, "byday").replace(' ', "").to_ascii_uppercase();
    if byday.is_empty() {
        return Err("no byday".into());
    }
    let mut fields = vec![
        ("freq", freq),
        ("byday", byday),
        ("opens_at", opens),
        ("closes_at", closes),
    ];
    if let Some(d) = date("valid_from").or_else(|| date("dtstart")) {
        fields.push(("valid_from", d));
    }
    if let Some(d) = date("valid_to").or_else(|| date("until")) {
        fields.push(("valid_to", d));
    }
    Ok(json_entry(fields))
}

fn json_entry(fields: impl IntoIterator<Item = (&'static str, String)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect(),
    )
}

/// `yes`, `limited` or `no` when the location's accessibility text clearly says so of
/// wheelchairs (or step-free access), else `unknown`.
fn wheelchair(loc: &Map<String, Value>) -> &'static str {
    let texts: Vec<String> = array(loc, "accessibility")
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|a| ["description", "details", "accessibility"].map(|k| text(a, k)))
        .collect();
    // Our own feed says it as the OpenStreetMap tag.
    let tagged = texts.iter().find_map(|t| match t.trim() {
        "wheelchair=yes" => Some("yes"),
        "wheelchair=limited" => Some("limited"),
        "wheelchair=no" => Some("no"),
        _ => None,
    });
    if let Some(w) = tagged {
        return w;
    }
    let mut said = None;
    for sentence in texts
        .iter()
        .flat_map(|t| t.split(['.', ';', '\n']))
        .map(|s| format!(" {} ", s.to_lowercase()))
        .filter(|s| s.contains("wheelchair") || s.contains("step-free") || s.contains("step free"))
    {
        let has = |words: &[&str]| words.iter().any(|w| sentence.contains(w));
        // "Limited step-free access: some parts are not reachable" is limited, not no.
        let this = if has(&[" limited", " partial", " some ", " ground floor only"]) {
            "limited"
        } else if has(&[
            " no ",
            " not ",
            "n't ",
            " without ",
            " unable ",
            " inaccessible",
        ]) {
            "no"
        } else if has(&[
            " access",
            " accessible",
            " possible",
            " available",
            " ramp",
            " lift",
        ]) {
            "yes"
        } else {
            continue;
        };
        // Conflicting statements: the most cautious wins.
        said = match (said, this) {
            (Some("no"), _) | (_, "no") => Some("no"),
            (Some("limited"), _) | (_, "limited") => Some("limited"),
            _ => Some("yes"),
        };
    }
    said.unwrap_or("unknown")
}

/// `free` when every cost option is free (amount 0 or says "free"), `paid` when one has
/// an amount, `donation` when one asks for one; else what `fees` says, else `unknown`.
fn cost(service: &Map<String, Value>) -> &'static str {
    let options: Vec<&Map<String, Value>> = array(service, "cost_options")
        .iter()
        .filter_map(Value::as_object)
        .collect();
    let says = |o: &Map<String, Value>, word: &str| {
        ["option", "amount_description"]
            .iter()
            .any(|k| text(o, k).to_lowercase().contains(word))
    };
    let amount = |o: &Map<String, Value>| o.get("amount").and_then(Value::as_f64);
    if !options.is_empty() {
        let no_charge = |o: &Map<String, Value>| says(o, "no charge") || says(o, "free of charge");
        let charged = |o: &Map<String, Value>| {
            amount(o).is_some_and(|a| a > 0.0)
                || says(o, "paid")
                || (says(o, "charge") && !no_charge(o))
        };
        if options.iter().any(|o| charged(o)) {
            return "paid";
        }
        if options.iter().any(|o| says(o, "donation")) {
            return "donation";
        }
        if options
            .iter()
            .all(|o| amount(o) == Some(0.0) || says(o, "free") || no_charge(o))
        {
            return "free";
        }
    }
    let fees = first_of([text(service, "fees_description"), text(service, "fees")]).to_lowercase();
    if fees.contains("donation") {
        "donation"
    } else if fees.starts_with("free") || fees == "no charge" || fees == "none" {
        "free"
    } else {
        "unknown"
    }
}

/// The venue's opening hours in OpenStreetMap syntax from the location's schedules, else
/// (a location with one service that is not an activity, such as our own "visit"
/// service) its service_at_location's, else the service's: weekly rules with days and
/// times only. Anything else is left out with a warning.
fn opening_hours(place: &Place, activities: bool, warnings: &mut Vec<RowError>) -> String {
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

/// How our own `/oruk` feed starts a schedule's description: the venue's opening hours in
/// OpenStreetMap syntax follow, whole (public holidays and all), which no weekly record
/// can say.
pub const OUR_HOURS: &str = "Opening hours (OpenStreetMap syntax, Europe/London time):";

const DAYS: [(&str, &str); 7] = [
    ("MO", "Mo"),
    ("TU", "Tu"),
    ("WE", "We"),
    ("TH", "Th"),
    ("FR", "Fr"),
    ("SA", "Sa"),
    ("SU", "Su"),
];

/// `HH:MM` of `HH:MM` or `HH:MM:00`.
fn clock(t: &str) -> Option<String> {
    let t = t.trim();
    let hm = match t.len() {
        5 => t,
        8 if t.ends_with(":00") => &t[..5],
        _ => return None,
    };
    let (h, m) = hm.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && (h < 24 || m == 0)).then(|| format!("{h:02}:{m:02}"))
}

/// HSDS schedules as OpenStreetMap opening hours, when each is a plain weekly rule
/// (`freq` WEEKLY, interval 1, `byday` of plain days, `opens_at` and `closes_at`, and no
/// end or other recurrence parts); else why not.
pub fn weekly_hours(schedules: &[Value]) -> Result<String, String> {
    let mut ranges: [Vec<String>; 7] = Default::default();
    for s in schedules {
        let s = s.as_object().ok_or("a schedule is not an object")?;
        let freq = text(s, "freq");
        if !freq.eq_ignore_ascii_case("weekly") {
            return Err(format!(
                "a schedule is not weekly (freq {})",
                if freq.is_empty() {
                    "absent".into()
                } else {
                    freq
                }
            ));
        }
        let interval = text(s, "interval");
        if !(interval.is_empty() || interval == "1") {
            return Err(format!("a schedule repeats every {interval} weeks"));
        }
        let extra = [
            "bymonthday",
            "byyearday",
            "byweekno",
            "count",
            "until",
            "valid_to",
        ]
        .into_iter()
        .find(|k| !text(s, k).is_empty());
        if let Some(k) = extra {
            return Err(format!(
                "a schedule has {k}, which opening hours cannot say"
            ));
        }
        let byday = text(s, "byday");
        let (opens, closes) = (text(s, "opens_at"), text(s, "closes_at"));
        let (Some(o), Some(c)) = (clock(&opens), clock(&closes)) else {
            return Err("a schedule lacks opens_at and closes_at as HH:MM".into());
        };
        if byday.is_empty() {
            return Err("a schedule has no byday".into());
        }
        for d in byday.split(',') {
            let d = d.trim().to_ascii_uppercase();
            let i = DAYS
                .iter()
                .position(|(code, _)| *code == d)
                .ok_or_else(|| format!("byday {d:?} is not a plain day (MO to SU)"))?;
            ranges[i].push(format!("{o}-{c}"));
        }
    }
    let mut rules: Vec<String> = Vec::new();
    let mut i = 0;
    while i < 7 {
        ranges[i].sort();
        ranges[i].dedup();
        if ranges[i].is_empty() {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < 7 && {
            ranges[j + 1].sort();
            ranges[j + 1].dedup();
            ranges[j + 1] == ranges[i]
        } {
            j += 1;
        }
        let days = match j - i {
            0 => DAYS[i].1.to_string(),
            1 => format!("{},{}", DAYS[i].1, DAYS[j].1),
            _ => format!("{}-{}", DAYS[i].1, DAYS[j].1),
        };
        rules.push(format!("{days} {}", ranges[i].join(",")));
        i = j + 1;
    }
    let hours = rules.join("; ");
    Hours::parse(&hours).map_err(|e| format!("{hours:?} {e}"))?;
    Ok(hours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn weekly_schedules_become_opening_hours() {
        let s = json!([
            {"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR", "opens_at": "09:00:00", "closes_at": "17:00:00"},
            {"freq": "WEEKLY", "byday": "SA", "opens_at": "10:00", "closes_at": "13:00"},
            {"freq": "WEEKLY", "byday": "SA", "opens_at": "14:00", "closes_at": "16:00"},
            {"freq": "WEEKLY", "byday": "MO", "opens_at": "09:00", "closes_at": "17:00"}
        ]);
        assert_eq!(
            weekly_hours(s.as_array().unwrap()).unwrap(),
            "Mo-Fr 09:00-17:00; Sa 10:00-13:00,14:00-16:00"
        );
        let monthly =
            json!([{"freq": "MONTHLY", "byday": "1TU", "opens_at": "10:00", "closes_at": "11:00"}]);
        assert!(weekly_hours(monthly.as_array().unwrap())
            .unwrap_err()
            .contains("not weekly"));
        let ended = json!([{"freq": "WEEKLY", "byday": "TH,FR", "opens_at": "10:00:00",
            "closes_at": "18:00:00", "valid_to": "2005-01-01"}]);
        assert!(weekly_hours(ended.as_array().unwrap())
            .unwrap_err()
            .contains("valid_to"));
    }

    #[test]
    fn hsds_schedules_become_activity_schedule_lines() {
        let weekly = json!({"freq": "WEEKLY", "byday": "TU, TH", "opens_at": "14:00:00",
            "closes_at": "15:30:00", "valid_from": "2026-09-01", "valid_to": "2026-12-15"});
        assert_eq!(
            schedule_entry(&weekly).unwrap(),
            json!({"freq": "WEEKLY", "byday": "TU,TH", "opens_at": "14:00", "closes_at": "15:30",
                "valid_from": "2026-09-01", "valid_to": "2026-12-15"})
        );
        let monthly =
            json!({"freq": "MONTHLY", "byday": "1TU", "opens_at": "10:00", "closes_at": "12:00"});
        assert_eq!(schedule_entry(&monthly).unwrap()["byday"], "1TU");
        let once = json!({"dtstart": "2026-12-03", "opens_at": "18:00", "closes_at": "20:00"});
        assert_eq!(
            schedule_entry(&once).unwrap(),
            json!({"date": "2026-12-03", "opens_at": "18:00", "closes_at": "20:00"})
        );
        let fortnightly = json!({"freq": "WEEKLY", "interval": 2, "byday": "MO", "opens_at": "10:00", "closes_at": "11:00"});
        assert!(schedule_entry(&fortnightly).is_err());
        assert!(schedule_entry(&json!({"freq": "WEEKLY", "byday": "MO"})).is_err());
    }

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

    #[test]
    fn keywords_match_whole_words_in_rule_order() {
        assert_eq!(
            keyword_category("Jarrow Arts Centre Café"),
            Some("arts_centre")
        );
        assert_eq!(keyword_category("Central Library"), Some("library"));
        assert_eq!(keyword_category("Librarything"), None);
        assert_eq!(
            keyword_category("St Mary's Church Hall"),
            Some("community_centre")
        );
        assert_eq!(
            keyword_category("MyCity Civic Center"),
            Some("community_centre")
        );
        assert_eq!(keyword_category("Counselling"), None);
    }

    #[test]
    fn wheelchair_only_when_the_text_says_so() {
        let loc = |t: &str| {
            json!({"accessibility": [{"description": t}]})
                .as_object()
                .unwrap()
                .clone()
        };
        let said = |t: &str| wheelchair(&loc(t));
        assert_eq!(
            said("Induction loops. Wheelchair access is possible on all levels."),
            "yes"
        );
        assert_eq!(
            said("There is no wheelchair access to the first floor."),
            "no"
        );
        assert_eq!(said("Limited wheelchair access (ground floor)."), "limited");
        assert_eq!(said("Induction loops for hearing aids."), "unknown");
        assert_eq!(
            said("Limited step-free access: some parts are not reachable without steps"),
            "limited"
        );
        assert_eq!(said("wheelchair=no"), "no");
    }

    #[test]
    fn cost_options() {
        let s = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(cost(&s(json!({"cost_options": [{"amount": 0}]}))), "free");
        assert_eq!(
            cost(&s(
                json!({"cost_options": [{"option": "Free for all"}, {"amount": 35}]})
            )),
            "paid"
        );
        assert_eq!(
            cost(&s(json!({"cost_options": [{"option": "Free entry"}]}))),
            "free"
        );
        assert_eq!(
            cost(&s(json!({"fees_description": "Donations welcome"}))),
            "donation"
        );
        assert_eq!(cost(&s(json!({}))), "unknown");
        assert_eq!(
            cost(&s(json!({"cost_options": [{"option": "Paid entry",
                "amount_description": "Entry is charged"}]}))),
            "paid"
        );
        assert_eq!(
            cost(&s(
                json!({"cost_options": [{"option": "Free entry", "amount": 0,
                "amount_description": "Donations welcome"}]})
            )),
            "donation"
        );
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
