//! Activities as Open Referral services: an activity is a service of its own at its venue's
//! location, classified by its kind and audiences (two more taxonomies), with its schedule,
//! ages, cost and referral routes. [`activity_service`] is the mapping; [`Activities`] is how
//! the feed finds a venue's activities (the activities snapshot implements it).

use chrono::{NaiveTime, Timelike};
use uuid::Uuid;

use super::ids;
use super::records::{CostOption, ServiceRecord, Session, Taxonomy, Term};
use crate::domain::activity::{self, Activity, Freq, Referral, ScheduleEntry};
use crate::domain::{Asset, Cost, Status};

/// The kinds of activity (`music-singing`, `heritage`, ...).
pub const ACTIVITY_KINDS: Taxonomy = Taxonomy {
    slug: "activity-kinds",
    name: "Activity kinds",
    description: "What happens at an activity (creative arts, music and singing, heritage, reading, film, ...)",
};

/// Who an activity is for (`dementia`, `carers`, ...).
pub const AUDIENCES: Taxonomy = Taxonomy {
    slug: "audiences",
    name: "Audiences",
    description: "The people an activity is designed for (people living with dementia, carers, young people, ...)",
};

/// The published activities at each venue, and the curated lists they use: what the feed
/// needs from the activities snapshot.
pub trait Activities: Send + Sync {
    /// The activities at `venue` (any status: the feed keeps the published ones).
    fn at_venue(&self, venue: &Uuid) -> Vec<Activity>;
    /// How many published activities `venue` has (what a page of services skips over
    /// without making records).
    fn published_at(&self, venue: &Uuid) -> usize {
        published(self.at_venue(venue)).len()
    }
    /// The activity kinds (slug, label, description).
    fn kinds(&self) -> Vec<activity::Term>;
    /// The audiences.
    fn audiences(&self) -> Vec<activity::Term>;
}

/// The snapshot's own activities (of the same version as its venues).
impl Activities for crate::index::Snapshot {
    fn at_venue(&self, venue: &Uuid) -> Vec<Activity> {
        self.index_of(venue)
            .map(|v| {
                self.activities
                    .at_venue(v)
                    .map(|(_, e)| e.activity.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn published_at(&self, venue: &Uuid) -> usize {
        self.index_of(venue).map_or(0, |v| {
            self.activities
                .at_venue(v)
                .filter(|(_, e)| e.activity.fields.status == Status::Published)
                .count()
        })
    }

    fn kinds(&self) -> Vec<activity::Term> {
        self.activities.kinds.clone()
    }

    fn audiences(&self) -> Vec<activity::Term> {
        self.activities.audiences.clone()
    }
}

/// A term of `taxonomy` from the curated list, or made from its slug when the list lacks it.
fn term_of(taxonomy: Taxonomy, list: &[activity::Term], slug: &str) -> Term {
    match list.iter().find(|t| t.slug == slug) {
        Some(t) => Term {
            taxonomy,
            slug: t.slug.clone(),
            label: t.label.clone(),
            description: t.description.clone(),
        },
        None => Term {
            taxonomy,
            slug: slug.to_string(),
            label: slug.to_string(),
            description: slug.to_string(),
        },
    }
}

/// The terms of a curated list as published terms.
pub fn terms(taxonomy: Taxonomy, list: &[activity::Term]) -> Vec<Term> {
    list.iter()
        .map(|t| term_of(taxonomy, list, &t.slug))
        .collect()
}

fn minutes(t: NaiveTime) -> u16 {
    (t.hour() * 60 + t.minute()) as u16
}

/// A schedule line as a schedule record: a recurrence keeps its frequency, days, times and
/// validity (`dtstart` its first valid day); a one-off date is `dtstart` = `valid_from` =
/// `valid_to`. Times are UK local time.
pub fn session(entry: &ScheduleEntry, notes: Option<&str>) -> Session {
    let notes = notes.map(str::to_string);
    match entry {
        ScheduleEntry::Recurring {
            freq,
            byday,
            opens_at,
            closes_at,
            valid_from,
            valid_to,
        } => Session {
            freq: Some(match freq {
                Freq::Weekly => "WEEKLY",
                Freq::Monthly => "MONTHLY",
            }),
            byday: Some(
                byday
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            opens_at: Some(minutes(*opens_at)),
            closes_at: Some(minutes(*closes_at)),
            valid_from: *valid_from,
            valid_to: *valid_to,
            dtstart: *valid_from,
            description: None,
            notes,
        },
        ScheduleEntry::Once {
            date,
            opens_at,
            closes_at,
        } => Session {
            freq: None,
            byday: None,
            opens_at: Some(minutes(*opens_at)),
            closes_at: Some(minutes(*closes_at)),
            valid_from: Some(*date),
            valid_to: Some(*date),
            dtstart: Some(*date),
            description: Some(format!("Once, on {date}")),
            notes,
        },
    }
}

/// An activity's cost as cost options.
pub fn costs(a: &activity::ActivityFields) -> Vec<CostOption> {
    match a.cost {
        Cost::Free => vec![CostOption {
            option: "Free".into(),
            amount: Some(0.0),
            amount_description: None,
        }],
        Cost::Paid => vec![CostOption {
            option: "Paid".into(),
            amount: a.cost_amount,
            amount_description: a.cost_amount.map(|x| format!("£{x:.2} a session")),
        }],
        Cost::Donation => vec![CostOption {
            option: "Donation".into(),
            amount: Some(0.0),
            amount_description: Some("Free; donations welcome".into()),
        }],
        Cost::Unknown => Vec::new(),
    }
}

/// How to get a place: the referral routes and the booking link.
fn application_process(a: &activity::ActivityFields) -> Option<String> {
    let routes: Vec<&str> = a
        .referral
        .iter()
        .map(|r| match r {
            Referral::SelfReferral => "self-referral",
            Referral::LinkWorker => "referral by a social prescribing link worker",
            Referral::Gp => "referral by a GP",
        })
        .collect();
    let mut parts = Vec::new();
    if !routes.is_empty() {
        parts.push(format!("Referral: {}.", routes.join(", ")));
    }
    if let Some(url) = &a.booking_url {
        parts.push(format!("Book at {url}."));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// An activity at `venue` as a service of its own at the venue's location: its id is the
/// activity's id; `category` is the venue's category term (every service of a venue carries
/// it), `kinds` and `audiences` the curated lists. The description gains the accessibility
/// notes (`Accessibility: ...`); the capacity notes go in each schedule's `notes`.
pub fn activity_service(
    venue: &Asset,
    activity: &Activity,
    category: Option<Term>,
    kinds: &[activity::Term],
    audiences: &[activity::Term],
) -> ServiceRecord {
    let a = &activity.fields;
    let mut terms: Vec<Term> = category.into_iter().collect();
    terms.push(term_of(ACTIVITY_KINDS, kinds, &a.kind));
    let audience_terms: Vec<Term> = a
        .audiences
        .iter()
        .map(|s| term_of(AUDIENCES, audiences, s))
        .collect();
    let eligibility = (!audience_terms.is_empty()).then(|| {
        format!(
            "For: {}",
            audience_terms
                .iter()
                .map(|t| t.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    terms.extend(audience_terms);
    let description = match (&a.description, &a.accessibility_notes) {
        (Some(d), Some(n)) => Some(format!("{d}\n\nAccessibility: {n}")),
        (None, Some(n)) => Some(format!("Accessibility: {n}")),
        (d, None) => d.clone(),
    };
    ServiceRecord {
        id: activity.id,
        location_id: venue.id,
        organization_id: ids::organization(venue.id),
        name: a.name.clone(),
        description,
        url: a.booking_url.clone(),
        email: a.contact_email.clone(),
        phone: a.contact_phone.clone(),
        last_modified: activity.updated_at.max(venue.updated_at),
        assured_date: None,
        minimum_age: a.min_age.map(u32::from),
        maximum_age: a.max_age.map(u32::from),
        eligibility_description: eligibility,
        application_process: application_process(a),
        costs: costs(a),
        schedules: a
            .schedule
            .iter()
            .map(|e| session(e, a.capacity_notes.as_deref()))
            .collect(),
        terms,
    }
}

/// The published activities of `list`, in a stable order (by id).
pub fn published(mut list: Vec<Activity>) -> Vec<Activity> {
    list.retain(|a| a.fields.status == Status::Published);
    list.sort_by_key(|a| a.id);
    list
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::activity::ByDay;
    use crate::domain::{AssetFields, Wheelchair};
    use chrono::{NaiveDate, TimeZone, Utc, Weekday};

    pub fn venue() -> Asset {
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
        Asset::new(
            Uuid::parse_str("1beaf664-065e-41cd-8e44-c134d70862a0").unwrap(),
            AssetFields {
                name: "Barking Library".into(),
                category: "library".into(),
                lat: 51.5363871,
                lon: 0.0799942,
                address: Some("2 Town Square".into()),
                town: Some("Barking".into()),
                postcode: Some("IG11 7NB".into()),
                website: None,
                phone: None,
                email: None,
                description: None,
                opening_hours: Some("Mo-Sa 09:00-17:00".into()),
                wheelchair: Wheelchair::Yes,
                cost: Cost::Free,
                tags: Vec::new(),
                source: None,
                source_id: None,
                status: Status::Published,
                location_precision: Default::default(),
            },
            now,
        )
    }

    pub fn singing() -> Activity {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let mut a = Activity::new(
            Uuid::parse_str("0193a5c4-7d2e-7b1a-9c1d-3e5f7a9b1c2d").unwrap(),
            activity::ActivityFields {
                asset_id: venue().id,
                name: "Singing for Better Breathing".into(),
                description: Some("A friendly singing group for people living with COPD.".into()),
                kind: "music-singing".into(),
                audiences: vec!["long-term-conditions".into(), "older-people".into()],
                min_age: Some(18),
                max_age: None,
                schedule: vec![
                    ScheduleEntry::Recurring {
                        freq: Freq::Monthly,
                        byday: vec![
                            ByDay {
                                nth: Some(1),
                                weekday: Weekday::Tue,
                            },
                            ByDay {
                                nth: Some(3),
                                weekday: Weekday::Tue,
                            },
                        ],
                        opens_at: t(14, 0),
                        closes_at: t(15, 30),
                        valid_from: NaiveDate::from_ymd_opt(2026, 9, 1),
                        valid_to: NaiveDate::from_ymd_opt(2027, 7, 31),
                    },
                    ScheduleEntry::Once {
                        date: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
                        opens_at: t(18, 0),
                        closes_at: t(19, 0),
                    },
                ],
                cost: Cost::Paid,
                cost_amount: Some(3.5),
                referral: vec![Referral::SelfReferral, Referral::LinkWorker],
                booking_url: Some("https://example.org/sing".into()),
                contact_email: Some("sing@example.org".into()),
                contact_phone: Some("020 7946 0000".into()),
                capacity_notes: Some("12 places".into()),
                accessibility_notes: Some("Hearing loop".into()),
                status: Status::Published,
                source: None,
                source_id: None,
            },
            Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
        );
        a.version = 2;
        a
    }

    pub fn kinds() -> Vec<activity::Term> {
        vec![(
            "music-singing".to_string(),
            "Music and singing".to_string(),
            "Choirs, singing groups".to_string(),
        )
            .into()]
    }

    #[test]
    fn an_activity_becomes_a_service_at_its_venue() {
        let (v, a) = (venue(), singing());
        let rec = activity_service(&v, &a, None, &kinds(), &[]);
        assert_eq!(rec.id, a.id);
        assert_eq!(rec.location_id, v.id);
        assert_eq!(rec.organization_id, ids::organization(v.id));
        assert_eq!((rec.minimum_age, rec.maximum_age), (Some(18), None));
        assert_eq!(rec.last_modified, a.updated_at);
        assert_eq!(rec.url.as_deref(), Some("https://example.org/sing"));
        assert_eq!(
            rec.application_process.as_deref(),
            Some("Referral: self-referral, referral by a social prescribing link worker. Book at https://example.org/sing.")
        );
        assert!(rec
            .description
            .as_deref()
            .unwrap()
            .ends_with("\n\nAccessibility: Hearing loop"));
        // The kind from the curated list, the audiences made from their slugs.
        let kind = &rec.terms[0];
        assert_eq!(
            (kind.taxonomy, kind.label.as_str()),
            (ACTIVITY_KINDS, "Music and singing")
        );
        assert_eq!(
            kind.id(),
            ids::taxonomy_term("activity-kinds", "music-singing")
        );
        assert_eq!(rec.terms[1].taxonomy, AUDIENCES);
        assert_eq!(
            rec.eligibility_description.as_deref(),
            Some("For: long-term-conditions, older-people")
        );
        // Cost: the amount.
        assert_eq!(rec.costs[0].amount, Some(3.5));
        assert_eq!(
            rec.costs[0].amount_description.as_deref(),
            Some("£3.50 a session")
        );
        // Schedule: the monthly recurrence and the one-off date.
        let s = &rec.schedules;
        assert_eq!(s[0].freq, Some("MONTHLY"));
        assert_eq!(s[0].byday.as_deref(), Some("1TU,3TU"));
        assert_eq!((s[0].opens_at, s[0].closes_at), (Some(840), Some(930)));
        assert_eq!(s[0].valid_from, NaiveDate::from_ymd_opt(2026, 9, 1));
        assert_eq!(s[0].valid_to, NaiveDate::from_ymd_opt(2027, 7, 31));
        assert_eq!(s[0].notes.as_deref(), Some("12 places"));
        assert!(s[0].on_day(1) && !s[0].on_day(2));
        assert_eq!(s[1].freq, None);
        assert_eq!(s[1].dtstart, NaiveDate::from_ymd_opt(2026, 12, 3));
        assert_eq!(s[1].valid_to, s[1].dtstart);
        // 3 December 2026 is a Thursday.
        assert!(s[1].on_day(3));
    }

    #[test]
    fn drafts_and_archived_activities_are_not_published() {
        let mut draft = singing();
        draft.id = Uuid::new_v4();
        draft.fields.status = Status::Draft;
        let list = published(vec![draft, singing()]);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, singing().id);
    }
}
