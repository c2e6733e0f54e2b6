//! Open Referral UK 3.0 records made from our data: a venue is a `location` with an
//! `organization` running it; what people come for is a `service` there (today one
//! "visit" service per venue; activities become services of their own, see
//! [`ServiceRecord`]), joined to the location by a `service_at_location`. Empty values are
//! left out ([`prune`]): the schemas refuse `null` and `""`.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::ids;
use crate::domain::{Asset, Cost, Hours, Wheelchair};

/// Monday 8 June 2026: the reference week over which a venue's opening hours (OSM syntax)
/// are read as weekly records. No public holiday falls in it in any UK nation.
pub fn reference_monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 8).expect("a valid date")
}

/// iCal day codes, Monday first (`byday`).
pub const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// One schedule record: a recurrence (`freq`, `byday`, times in minutes after local
/// midnight) or a plain description.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Session {
    /// `WEEKLY` or `MONTHLY`.
    pub freq: Option<&'static str>,
    /// iCal days, e.g. `MO,TU` or, monthly, `1TU,3TU`.
    pub byday: Option<String>,
    pub opens_at: Option<u16>,
    pub closes_at: Option<u16>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// A one-off date, or the first of a recurrence.
    pub dtstart: Option<NaiveDate>,
    pub description: Option<String>,
    pub notes: Option<String>,
}

impl Session {
    /// Whether it happens on weekday `day` (0 is Monday): a `byday` entry naming it
    /// (`TU`, `1TU`, `-1TU`), or a one-off date on that weekday.
    pub fn on_day(&self, day: usize) -> bool {
        use chrono::Datelike;
        match (&self.byday, self.dtstart) {
            (Some(byday), _) => byday.split(',').any(|d| {
                d.trim_start_matches(['-', '+', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
                    == DAYS[day]
            }),
            (None, Some(date)) if self.freq.is_none() => {
                date.weekday().num_days_from_monday() as usize == day
            }
            _ => false,
        }
    }
}

/// One of a service's costs.
#[derive(Clone, Debug, PartialEq)]
pub struct CostOption {
    pub option: String,
    pub amount: Option<f64>,
    pub amount_description: Option<String>,
}

/// A taxonomy we publish.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Taxonomy {
    pub slug: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

/// Our venue categories (`GET /v1/categories`).
pub const CATEGORIES: Taxonomy = Taxonomy {
    slug: "categories",
    name: "Community asset categories",
    description:
        "Kinds of venue in the community-assets directory (museum, library, gallery, theatre, ...)",
};

impl Taxonomy {
    pub fn id(&self) -> Uuid {
        ids::taxonomy(self.slug)
    }
}

/// A term of one of our taxonomies.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub taxonomy: Taxonomy,
    pub slug: String,
    pub label: String,
    pub description: String,
}

impl Term {
    pub fn id(&self) -> Uuid {
        ids::taxonomy_term(self.taxonomy.slug, &self.slug)
    }
}

/// A service as published, whatever it comes from (a venue's visit, or an activity): what
/// the lists, the filters and the records are made from.
#[derive(Clone, Debug)]
pub struct ServiceRecord {
    pub id: Uuid,
    /// The venue where it is given (its location id is the venue id).
    pub location_id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub last_modified: DateTime<Utc>,
    pub assured_date: Option<NaiveDate>,
    pub minimum_age: Option<u32>,
    pub maximum_age: Option<u32>,
    /// Who it is for, in words (e.g. the audiences of an activity).
    pub eligibility_description: Option<String>,
    /// How to get a place (e.g. referral routes and booking).
    pub application_process: Option<String>,
    pub costs: Vec<CostOption>,
    pub schedules: Vec<Session>,
    pub terms: Vec<Term>,
}

impl ServiceRecord {
    /// The id of its service_at_location.
    pub fn sal_id(&self) -> Uuid {
        ids::service_at_location(self.id, self.location_id)
    }
}

/// A venue's cost of entry as cost options.
pub fn venue_costs(cost: Cost) -> Vec<CostOption> {
    let free = |description: Option<&str>| CostOption {
        option: "Free entry".into(),
        amount: Some(0.0),
        amount_description: description.map(str::to_string),
    };
    match cost {
        Cost::Free => vec![free(None)],
        Cost::Donation => vec![free(Some("Donations welcome"))],
        Cost::Paid => vec![CostOption {
            option: "Paid entry".into(),
            amount: None,
            amount_description: Some("Entry is charged; see the venue's website".into()),
        }],
        Cost::Unknown => Vec::new(),
    }
}

/// The "visit" service of a venue without activities: the venue's own name, description,
/// contacts, cost and opening hours, classified by its category.
pub fn visit_service(venue: &Asset, category: Option<Term>) -> ServiceRecord {
    let f = &venue.fields;
    ServiceRecord {
        id: ids::visit_service(venue.id),
        location_id: venue.id,
        organization_id: ids::organization(venue.id),
        name: f.name.clone(),
        description: f.description.clone(),
        url: f.website.clone(),
        email: f.email.clone(),
        phone: f.phone.clone(),
        last_modified: venue.updated_at,
        assured_date: venue.last_verified_at.map(|t| t.date_naive()),
        minimum_age: None,
        maximum_age: None,
        eligibility_description: None,
        application_process: None,
        costs: venue_costs(f.cost),
        schedules: f
            .opening_hours
            .as_deref()
            .map(opening_hours)
            .unwrap_or_default(),
        terms: category.into_iter().collect(),
    }
}

/// OSM opening hours as weekly schedule records: the open intervals of each day of the
/// [`reference_monday`] week, days with the same interval in one record (`MO,TU,WE`). Each
/// record keeps the raw text in `description` and the rules a week cannot show (public and
/// school holidays, dates, months) in `notes`. Hours that do not parse, or that open on no
/// day of the reference week, give one record with the text only.
pub fn opening_hours(raw: &str) -> Vec<Session> {
    let raw = raw.trim();
    let description = Some(format!(
        "Opening hours (OpenStreetMap syntax, Europe/London time): {raw}"
    ));
    let notes = exceptions(raw);
    let text_only = || {
        vec![Session {
            description: description.clone(),
            notes: notes.clone(),
            ..Session::default()
        }]
    };
    let Ok(hours) = Hours::parse(raw) else {
        return text_only();
    };
    let mut groups: Vec<((u16, u16), Vec<usize>)> = Vec::new();
    for (day, intervals) in hours.week(reference_monday()).iter().enumerate() {
        for &interval in intervals {
            match groups.iter_mut().find(|(i, _)| *i == interval) {
                Some((_, days)) => days.push(day),
                None => groups.push((interval, vec![day])),
            }
        }
    }
    if groups.is_empty() {
        return text_only();
    }
    groups.sort_by_key(|((opens, _), days)| (days[0], *opens));
    groups
        .into_iter()
        .map(|((opens, closes), days)| Session {
            freq: Some("WEEKLY"),
            byday: Some(days.iter().map(|d| DAYS[*d]).collect::<Vec<_>>().join(",")),
            opens_at: Some(opens),
            closes_at: Some(closes),
            description: description.clone(),
            notes: notes.clone(),
            ..Session::default()
        })
        .collect()
}

/// The rules of an opening-hours text that a reference week cannot show: those naming
/// public or school holidays (`PH`, `SH`), months, or Easter.
fn exceptions(raw: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let rules: Vec<&str> = raw
        .split([';', '|'])
        .map(str::trim)
        .filter(|r| {
            r.split(|c: char| !c.is_ascii_alphanumeric())
                .any(|w| w == "PH" || w == "SH" || w == "easter" || MONTHS.contains(&w))
        })
        .collect();
    (!rules.is_empty()).then(|| format!("Exceptions to the weekly hours: {}", rules.join("; ")))
}

/// `HH:MM` of minutes after midnight; the end of the day is `23:59`.
pub fn clock(minutes: u16) -> String {
    let m = minutes.min(24 * 60 - 1);
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Removes `null`, `""`, empty arrays and empty objects, at every depth.
pub fn prune(v: &mut Value) {
    fn empty(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        }
    }
    match v {
        Value::Object(o) => {
            for x in o.values_mut() {
                prune(x);
            }
            o.retain(|_, x| !empty(x));
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                prune(x);
            }
            a.retain(|x| !empty(x));
        }
        _ => {}
    }
}

fn pruned(mut v: Value) -> Value {
    prune(&mut v);
    v
}

/// The UK nation of a postcode, by its area letters (border postcode areas such as `SY`,
/// `CH` or `TD` are taken as the nation most of the area lies in).
pub fn nation(postcode: &str) -> &'static str {
    let area: String = postcode
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    const SCOTLAND: [&str; 16] = [
        "AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "TD",
        "ZE",
    ];
    const WALES: [&str; 5] = ["CF", "LD", "LL", "NP", "SA"];
    match area.as_str() {
        "BT" => "Northern Ireland",
        a if SCOTLAND.contains(&a) => "Scotland",
        a if WALES.contains(&a) => "Wales",
        _ => "England",
    }
}

/// A location's postal address, when the venue has a street, a town (or a last part of
/// its address to stand for one) and a postcode: the schema requires all of them.
fn address(venue: &Asset) -> Option<Value> {
    let f = &venue.fields;
    let (street, postcode) = (f.address.as_deref()?, f.postcode.as_deref()?);
    let city = match f.town.as_deref() {
        Some(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => {
            let (_, last) = street.rsplit_once(',')?;
            last.trim().to_string()
        }
    };
    if street.trim().is_empty() || city.is_empty() {
        return None;
    }
    Some(json!({
        "id": ids::part(venue.id, "address"),
        "location_id": venue.id,
        "address_1": street.trim(),
        "city": city,
        "state_province": nation(postcode),
        "postal_code": postcode,
        "country": "GB",
        "address_type": "physical",
    }))
}

fn accessibility(venue: &Asset) -> Option<Value> {
    let description = match venue.fields.wheelchair {
        Wheelchair::Yes => "Step-free access for wheelchair users",
        Wheelchair::Limited => {
            "Limited step-free access: some parts are not reachable without steps"
        }
        Wheelchair::No => "No step-free access",
        Wheelchair::Unknown => return None,
    };
    Some(json!({
        "id": ids::part(venue.id, "accessibility"),
        "location_id": venue.id,
        "description": description,
        "accessibility": format!("wheelchair={}", venue.fields.wheelchair.as_str()),
    }))
}

/// A venue as a location; `full` adds its address and accessibility. The description is
/// the venue's own, so that it travels even when only activities are published there.
pub fn location(venue: &Asset, full: bool) -> Value {
    let mut v = json!({
        "id": venue.id,
        "location_type": "physical",
        "name": venue.fields.name,
        "description": venue.fields.description,
        "latitude": venue.fields.lat,
        "longitude": venue.fields.lon,
    });
    if full {
        v["addresses"] = json!(address(venue).into_iter().collect::<Vec<_>>());
        v["accessibility"] = json!(accessibility(venue).into_iter().collect::<Vec<_>>());
    }
    pruned(v)
}

/// The body running a venue: one organization per venue, named after it, until operators
/// are modelled.
pub fn organization(venue: &Asset) -> Value {
    let f = &venue.fields;
    pruned(json!({
        "id": ids::organization(venue.id),
        "name": f.name,
        "description": format!("The body that runs {} (one organization per venue until operators are recorded).", f.name),
        "email": f.email,
        "website": f.website,
    }))
}

fn schedule(rec: &ServiceRecord, i: usize, s: &Session) -> Value {
    json!({
        "id": ids::part(rec.id, &format!("schedule/{i}")),
        "service_id": rec.id,
        "freq": s.freq,
        "byday": s.byday,
        "opens_at": s.opens_at.map(clock),
        "closes_at": s.closes_at.map(clock),
        "valid_from": s.valid_from.map(|d| d.to_string()),
        "valid_to": s.valid_to.map(|d| d.to_string()),
        "dtstart": s.dtstart.map(|d| d.to_string()),
        "description": s.description,
        "notes": s.notes,
    })
}

/// A taxonomy term as published (`with_taxonomy`: its taxonomy's id and name too).
pub fn term(t: &Term) -> Value {
    pruned(json!({
        "id": t.id(),
        "name": t.label,
        "description": t.description,
        "taxonomy": t.taxonomy.name,
        "taxonomy_id": t.taxonomy.id(),
        "term": t.slug,
    }))
}

/// A taxonomy, with its terms when given.
pub fn taxonomy(t: &Taxonomy, terms: Option<&[Term]>) -> Value {
    pruned(json!({
        "id": t.id(),
        "name": t.name,
        "description": t.description,
        "version": "1",
        "taxonomy_terms": terms.map(|ts| ts.iter().map(term).collect::<Vec<_>>()),
    }))
}

/// How much of a record to give: the one-to-one fields (lists), or everything nested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    Brief,
    Full,
}

/// A service at `venue`; `Full` nests its schedules, costs, phones, classification,
/// service_at_locations (with full locations) and organization.
pub fn service(rec: &ServiceRecord, venue: &Asset, depth: Depth) -> Value {
    let mut v = json!({
        "id": rec.id,
        "organization_id": rec.organization_id,
        "name": rec.name,
        "description": rec.description,
        "url": rec.url,
        "email": rec.email,
        "status": "active",
        "minimum_age": rec.minimum_age,
        "maximum_age": rec.maximum_age,
        "eligibility_description": rec.eligibility_description,
        "application_process": rec.application_process,
        "assured_date": rec.assured_date.map(|d| d.to_string()),
        "last_modified": timestamp(rec.last_modified),
        "organization": organization(venue),
    });
    if depth == Depth::Full {
        v["phones"] = json!(rec
            .phone
            .iter()
            .map(|n| json!({
                "id": ids::part(rec.id, "phone"),
                "service_id": rec.id,
                "number": n,
            }))
            .collect::<Vec<_>>());
        v["schedules"] = json!(rec
            .schedules
            .iter()
            .enumerate()
            .map(|(i, s)| schedule(rec, i, s))
            .collect::<Vec<_>>());
        v["cost_options"] = json!(rec
            .costs
            .iter()
            .enumerate()
            .map(|(i, c)| json!({
                "id": ids::part(rec.id, &format!("cost/{i}")),
                "service_id": rec.id,
                "option": c.option,
                "amount": c.amount,
                "amount_description": c.amount_description,
            }))
            .collect::<Vec<_>>());
        v["attributes"] = json!(rec
            .terms
            .iter()
            .map(|t| json!({
                "id": ids::part(rec.id, &format!("attribute/{}", t.id())),
                "link_id": rec.id,
                "link_type": "service",
                "taxonomy_term_id": t.id(),
                "taxonomy_term": term(t),
            }))
            .collect::<Vec<_>>());
        v["service_at_locations"] = json!([json!({
            "id": rec.sal_id(),
            "service_id": rec.id,
            "location_id": rec.location_id,
            "location": location(venue, true),
        })]);
    }
    pruned(v)
}

/// The link between a service and its venue's location, with both (`Full`: both full).
pub fn service_at_location(rec: &ServiceRecord, venue: &Asset, depth: Depth) -> Value {
    let mut service = service(rec, venue, depth);
    if let Some(o) = service.as_object_mut() {
        o.remove("service_at_locations");
    }
    pruned(json!({
        "id": rec.sal_id(),
        "service_id": rec.id,
        "location_id": rec.location_id,
        "location": location(venue, depth == Depth::Full),
        "service": service,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_hours_become_weekly_records_grouped_by_interval() {
        let s = opening_hours("Mo-Fr 10:00-17:00; Sa 10:00-16:00; PH off");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].byday.as_deref(), Some("MO,TU,WE,TH,FR"));
        assert_eq!((s[0].opens_at, s[0].closes_at), (Some(600), Some(1020)));
        assert_eq!(s[1].byday.as_deref(), Some("SA"));
        assert_eq!(s[1].freq, Some("WEEKLY"));
        for r in &s {
            assert!(r
                .description
                .as_deref()
                .unwrap()
                .ends_with("Mo-Fr 10:00-17:00; Sa 10:00-16:00; PH off"));
            assert_eq!(
                r.notes.as_deref(),
                Some("Exceptions to the weekly hours: PH off")
            );
        }
        assert!(s[0].on_day(0) && s[0].on_day(4) && !s[0].on_day(5));
    }

    #[test]
    fn unreadable_hours_keep_their_text_only() {
        let s = opening_hours("by appointment");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].freq, None);
        assert!(s[0]
            .description
            .as_deref()
            .unwrap()
            .contains("by appointment"));
        // Always open: the whole day, written as 00:00 to 23:59.
        let s = opening_hours("24/7");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].byday.as_deref(), Some("MO,TU,WE,TH,FR,SA,SU"));
        assert_eq!(s[0].opens_at.map(clock).as_deref(), Some("00:00"));
        assert_eq!(s[0].closes_at.map(clock).as_deref(), Some("23:59"));
    }

    #[test]
    fn monthly_byday_counts_for_its_weekday() {
        let s = Session {
            freq: Some("MONTHLY"),
            byday: Some("1TU,-1FR".into()),
            ..Session::default()
        };
        assert!(s.on_day(1) && s.on_day(4) && !s.on_day(0));
    }

    #[test]
    fn prune_leaves_no_empty_value() {
        let v = pruned(
            json!({"a": null, "b": "", "c": [], "d": {"e": null}, "f": [null, "x", ""], "g": 0}),
        );
        assert_eq!(v, json!({"f": ["x"], "g": 0}));
    }

    #[test]
    fn nations_by_postcode_area() {
        assert_eq!(nation("BT3 9EP"), "Northern Ireland");
        assert_eq!(nation("EH1 1YZ"), "Scotland");
        assert_eq!(nation("G1 1XQ"), "Scotland");
        assert_eq!(nation("CF10 3NP"), "Wales");
        assert_eq!(nation("GL1 1AA"), "England");
        assert_eq!(nation("IG11 7NB"), "England");
    }
}
