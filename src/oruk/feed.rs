//! Which records a request gets, page by page, read from the snapshot: the services (one
//! "visit" service per published venue; later also its activities), the links between
//! services and locations, the organizations and the taxonomies.
//!
//! Pages are numbered (the specification's paging). Without filters a page skips to its
//! offset in the snapshot's order; with filters every published venue is looked at once
//! (the total must be counted anyway), and only the page is rendered.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use uuid::Uuid;

use super::activities::{self, Activities, ACTIVITY_KINDS, AUDIENCES};
use super::ids;
use super::records::{self, Depth, ServiceRecord, Taxonomy, Term, CATEGORIES};
use crate::domain::Asset;
use crate::index::query::Near;
use crate::index::{Entry, Filter, Search, Snapshot, SortBy};

/// Half the Earth's circumference: a radius that takes in everything (`lat`/`lon` without
/// `proximity`).
const EVERYWHERE_M: f64 = 20_037_509.0;

/// Which page, numbered from 1.
#[derive(Clone, Copy, Debug)]
pub struct Paging {
    pub page: usize,
    pub per_page: usize,
}

impl Paging {
    fn offset(&self) -> usize {
        (self.page - 1).saturating_mul(self.per_page)
    }

    fn holds(&self, n: usize) -> bool {
        n >= self.offset() && n < self.offset().saturating_add(self.per_page)
    }
}

/// The specification's paged envelope around one page of records.
pub fn envelope(contents: Vec<Value>, total: usize, paging: Paging) -> Value {
    let total_pages = total.div_ceil(paging.per_page).max(1);
    json!({
        "total_items": total,
        "total_pages": total_pages,
        "page_number": paging.page,
        "size": contents.len(),
        "first_page": paging.page == 1,
        "last_page": paging.page >= total_pages,
        "empty": contents.is_empty(),
        "contents": contents,
    })
}

/// A point to search around (the extension's `lat`/`lon`, or a postcode's position), and
/// how far (`None`: everywhere).
#[derive(Clone, Copy, Debug)]
pub struct Around {
    pub lat: f64,
    pub lon: f64,
    pub radius_m: Option<f64>,
}

/// The filters of `/services` and `/service_at_locations`, all of which must hold.
#[derive(Clone, Debug, Default)]
pub struct ServiceQuery {
    /// Lower-case words that must all occur in the service's or venue's name,
    /// description, tags or classification.
    pub words: Vec<String>,
    pub taxonomy_term_id: Option<Uuid>,
    pub taxonomy_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub modified_after: Option<DateTime<Utc>>,
    /// Nearest first, with the distance.
    pub around: Option<Around>,
    /// A weekday, 0 for Monday: a schedule on that day.
    pub day: Option<usize>,
    /// Minutes after midnight: a schedule starting at or after it.
    pub start_time: Option<u16>,
    /// Minutes after midnight: a schedule ending at or before it.
    pub end_time: Option<u16>,
    /// The ages asked about: services whose age range overlaps `minimum_age..=maximum_age`.
    pub minimum_age: Option<u32>,
    pub maximum_age: Option<u32>,
}

impl ServiceQuery {
    fn is_plain(&self) -> bool {
        self.words.is_empty()
            && self.taxonomy_term_id.is_none()
            && self.taxonomy_id.is_none()
            && self.organization_id.is_none()
            && self.modified_after.is_none()
            && self.around.is_none()
            && self.day.is_none()
            && self.start_time.is_none()
            && self.end_time.is_none()
            && self.minimum_age.is_none()
            && self.maximum_age.is_none()
    }

    /// Whether a service of `venue` passes the filters.
    fn matches(&self, rec: &ServiceRecord, venue: &Entry) -> bool {
        if self.modified_after.is_some_and(|t| rec.last_modified < t)
            || self
                .organization_id
                .is_some_and(|o| rec.organization_id != o)
            || self
                .taxonomy_term_id
                .is_some_and(|id| !rec.terms.iter().any(|t| t.id() == id))
            || self
                .taxonomy_id
                .is_some_and(|id| !rec.terms.iter().any(|t| t.taxonomy.id() == id))
        {
            return false;
        }
        let (lo, hi) = (
            self.minimum_age.unwrap_or(0),
            self.maximum_age.unwrap_or(u32::MAX),
        );
        if rec.minimum_age.unwrap_or(0) > hi || rec.maximum_age.unwrap_or(u32::MAX) < lo {
            return false;
        }
        if self.day.is_some() || self.start_time.is_some() || self.end_time.is_some() {
            let fits = rec.schedules.iter().any(|s| {
                (s.freq.is_some() || s.dtstart.is_some())
                    && self.day.is_none_or(|d| s.on_day(d))
                    && self
                        .start_time
                        .is_none_or(|t| s.opens_at.is_some_and(|o| o >= t))
                    && self
                        .end_time
                        .is_none_or(|t| s.closes_at.is_some_and(|c| c <= t))
            });
            if !fits {
                return false;
            }
        }
        self.words.iter().all(|w| {
            venue.contains_word(w)
                || rec.name.to_lowercase().contains(w.as_str())
                || rec
                    .description
                    .as_deref()
                    .is_some_and(|d| d.to_lowercase().contains(w.as_str()))
                || rec.terms.iter().any(|t| {
                    t.slug.contains(w.as_str()) || t.label.to_lowercase().contains(w.as_str())
                })
        })
    }
}

/// What an id found by [`Feed`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Service,
    ServiceAtLocation,
    Organization,
}

/// The derived ids of a snapshot's published records, to find a record by id.
struct IdMap {
    ids: HashMap<Uuid, (Role, u32)>,
}

/// What an id map was made from: a snapshot, and the activities when there are some.
type IdMapKey = (Weak<Snapshot>, Option<Weak<dyn Activities>>);

/// The id map of the latest snapshot (and activities) asked about: built again after a
/// write, on the first request for a record by id.
static ID_MAP: Mutex<Option<(IdMapKey, Arc<IdMap>)>> = Mutex::new(None);

/// The published records of a snapshot as Open Referral UK.
pub struct Feed {
    snap: Arc<Snapshot>,
    terms: Vec<Term>,
    activities: Option<Arc<dyn Activities>>,
}

impl Feed {
    pub fn new(snap: Arc<Snapshot>) -> Self {
        let terms = snap
            .categories()
            .iter()
            .map(|c| Term {
                taxonomy: CATEGORIES,
                slug: c.slug.clone(),
                label: c.label.clone(),
                description: c.description.clone(),
            })
            .collect();
        Feed {
            snap,
            terms,
            activities: None,
        }
    }

    /// The feed with the activities at venues: each published activity becomes a service
    /// of its own at its venue's location, and a venue with published activities is
    /// published through them (without a "visit" service); activity kinds and audiences
    /// become taxonomies.
    pub fn with_activities(mut self, activities: Arc<dyn Activities>) -> Self {
        self.terms
            .extend(activities::terms(ACTIVITY_KINDS, &activities.kinds()));
        self.terms
            .extend(activities::terms(AUDIENCES, &activities.audiences()));
        self.activities = Some(activities);
        self
    }

    /// The taxonomies we publish.
    pub fn taxonomies(&self) -> Vec<Taxonomy> {
        match self.activities {
            None => vec![CATEGORIES],
            Some(_) => vec![CATEGORIES, ACTIVITY_KINDS, AUDIENCES],
        }
    }

    /// Every term of every taxonomy.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    fn category_term(&self, slug: &str) -> Option<Term> {
        self.terms
            .iter()
            .find(|t| t.taxonomy == CATEGORIES && t.slug == slug)
            .cloned()
    }

    /// The services of a venue: its published activities, or else its "visit" service.
    /// Every service of a venue carries the venue's category term (so that a category
    /// filter can pick venues first).
    pub fn services_of(&self, venue: &Asset) -> Vec<ServiceRecord> {
        let category = self.category_term(&venue.fields.category);
        if let Some(source) = &self.activities {
            let list = activities::published(source.at_venue(&venue.id));
            if !list.is_empty() {
                let (kinds, audiences) = (source.kinds(), source.audiences());
                return list
                    .iter()
                    .map(|a| {
                        activities::activity_service(venue, a, category.clone(), &kinds, &audiences)
                    })
                    .collect();
            }
        }
        vec![records::visit_service(venue, category)]
    }

    /// One page of services matching `q` (as services or as services at locations), with
    /// their venues and, around a point, their distances; and how many match in all.
    fn find(
        &self,
        q: &ServiceQuery,
        paging: Paging,
    ) -> (Vec<(ServiceRecord, Asset, Option<f64>)>, usize) {
        let snap = &self.snap;
        if q.is_plain() {
            let Some(source) = &self.activities else {
                // One service per venue: straight to the page.
                let items = snap
                    .published_entries()
                    .skip(paging.offset())
                    .take(paging.per_page)
                    .flat_map(|(_, e)| {
                        let venue = e.asset();
                        self.services_of(&venue)
                            .into_iter()
                            .map(move |rec| (rec, venue.clone(), None))
                    })
                    .collect();
                return (items, snap.published_len());
            };
            // A venue gives as many services as it has published activities, or its visit
            // service: counted without making records, which only the page's venues get.
            let mut total = 0;
            let mut items = Vec::new();
            for (_, e) in snap.published_entries() {
                let n = source.published_at(&e.id).max(1);
                let end = paging.offset().saturating_add(paging.per_page);
                if total < end && total + n > paging.offset() {
                    let venue = e.asset();
                    for (i, rec) in self.services_of(&venue).into_iter().enumerate() {
                        if paging.holds(total + i) {
                            items.push((rec, venue.clone(), None));
                        }
                    }
                }
                total += n;
            }
            return (items, total);
        }
        // A category term picks venues first, from the category's points.
        let categories = match q.taxonomy_term_id {
            Some(id) => match self.terms.iter().find(|t| t.id() == id) {
                Some(t) if t.taxonomy == CATEGORIES => Some(vec![t.slug.clone()]),
                Some(_) => None,
                None => return (Vec::new(), 0),
            },
            None => None,
        };
        let candidates: Vec<(u32, Option<f64>)> = match q.around {
            Some(a) => snap
                .search(&Search {
                    near: Some(Near {
                        lat: a.lat,
                        lon: a.lon,
                        radius_m: a.radius_m.unwrap_or(EVERYWHERE_M),
                    }),
                    bbox: None,
                    filter: Filter {
                        categories,
                        ..Filter::default()
                    },
                    sort: SortBy::Distance,
                    limit: snap.published_len().max(1),
                    after: None,
                })
                .hits
                .into_iter()
                .map(|h| (h.idx, h.distance_m))
                .collect(),
            None => snap
                .published_entries()
                .filter(|(_, e)| {
                    categories
                        .as_ref()
                        .is_none_or(|c| c.iter().any(|c| **c == *e.category))
                })
                .map(|(i, _)| (i, None))
                .collect(),
        };
        // Without activities or schedule filters, each venue's one "visit" service is
        // judged from the snapshot's entry, and only the page's records are made.
        let by_entry = self.activities.is_none()
            && q.day.is_none()
            && q.start_time.is_none()
            && q.end_time.is_none();
        let mut total = 0;
        let mut items = Vec::new();
        for (idx, distance) in candidates {
            let e = snap.entry(idx);
            if q.organization_id
                .is_some_and(|o| ids::organization(e.id) != o)
            {
                continue;
            }
            if by_entry {
                if self.visit_matches(q, e) {
                    if paging.holds(total) {
                        let venue = e.asset();
                        let rec = records::visit_service(&venue, self.category_term(&e.category));
                        items.push((rec, venue, distance));
                    }
                    total += 1;
                }
                continue;
            }
            let venue = e.asset();
            for rec in self.services_of(&venue) {
                if q.matches(&rec, e) {
                    if paging.holds(total) {
                        items.push((rec, venue.clone(), distance));
                    }
                    total += 1;
                }
            }
        }
        (items, total)
    }

    /// Whether the "visit" service of a venue passes the filters other than schedules (it
    /// has no age limits), read from the venue's entry: what [`ServiceQuery::matches`]
    /// says of it, without making it.
    fn visit_matches(&self, q: &ServiceQuery, e: &Entry) -> bool {
        let category = self
            .terms
            .iter()
            .find(|t| t.taxonomy == CATEGORIES && *t.slug == *e.category);
        q.modified_after.is_none_or(|t| e.updated_at >= t)
            && q.taxonomy_term_id
                .is_none_or(|id| category.is_some_and(|c| c.id() == id))
            && q.taxonomy_id
                .is_none_or(|id| category.is_some() && id == CATEGORIES.id())
            && q.words.iter().all(|w| {
                e.contains_word(w)
                    || category.is_some_and(|c| {
                        c.slug.contains(w.as_str()) || c.label.to_lowercase().contains(w.as_str())
                    })
            })
    }

    /// `GET /services`: `minimal` gives the required fields and `last_modified` only.
    pub fn services(&self, q: &ServiceQuery, paging: Paging, depth: Depth, minimal: bool) -> Value {
        let (found, total) = self.find(q, paging);
        let contents = found
            .iter()
            .map(|(rec, venue, distance)| {
                let mut v = if minimal {
                    json!({
                        "id": rec.id,
                        "name": rec.name,
                        "status": "active",
                        "last_modified": records::service(rec, venue, Depth::Brief)["last_modified"],
                    })
                } else {
                    records::service(rec, venue, depth)
                };
                with_distance(&mut v, *distance);
                v
            })
            .collect();
        envelope(contents, total, paging)
    }

    /// `GET /service_at_locations`.
    pub fn services_at_locations(&self, q: &ServiceQuery, paging: Paging, depth: Depth) -> Value {
        let (found, total) = self.find(q, paging);
        let contents = found
            .iter()
            .map(|(rec, venue, distance)| {
                let mut v = records::service_at_location(rec, venue, depth);
                with_distance(&mut v, *distance);
                v
            })
            .collect();
        envelope(contents, total, paging)
    }

    fn id_map(&self) -> Arc<IdMap> {
        let mut cache = ID_MAP.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(((snap, acts), map)) = cache.as_ref() {
            let same_snapshot = snap.upgrade().is_some_and(|s| Arc::ptr_eq(&s, &self.snap));
            let same_activities = match (acts, &self.activities) {
                (None, None) => true,
                (Some(w), Some(a)) => w
                    .upgrade()
                    .is_some_and(|w| std::ptr::addr_eq(Arc::as_ptr(&w), Arc::as_ptr(a))),
                _ => false,
            };
            if same_snapshot && same_activities {
                return map.clone();
            }
        }
        let mut ids = HashMap::with_capacity(self.snap.published_len() * 3);
        for (idx, e) in self.snap.published_entries() {
            ids.insert(ids::organization(e.id), (Role::Organization, idx));
            let services: Vec<Uuid> = match &self.activities {
                None => vec![ids::visit_service(e.id)],
                Some(_) => self.services_of(&e.asset()).iter().map(|r| r.id).collect(),
            };
            for service in services {
                ids.insert(service, (Role::Service, idx));
                ids.insert(
                    ids::service_at_location(service, e.id),
                    (Role::ServiceAtLocation, idx),
                );
            }
        }
        let map = Arc::new(IdMap { ids });
        let key = (
            Arc::downgrade(&self.snap),
            self.activities.as_ref().map(Arc::downgrade),
        );
        *cache = Some((key, map.clone()));
        map
    }

    /// The published venue of an id in this role.
    fn venue_of(&self, id: &Uuid, role: Role) -> Option<Asset> {
        match self.id_map().ids.get(id) {
            Some(&(r, idx)) if r == role => Some(self.snap.entry(idx).asset()),
            _ => None,
        }
    }

    /// `GET /services/{id}`, fully nested.
    pub fn service(&self, id: &Uuid) -> Option<Value> {
        let venue = self.venue_of(id, Role::Service)?;
        let rec = self.services_of(&venue).into_iter().find(|r| r.id == *id)?;
        Some(records::service(&rec, &venue, Depth::Full))
    }

    /// `GET /service_at_locations/{id}`, fully nested.
    pub fn service_at_location(&self, id: &Uuid) -> Option<Value> {
        let venue = self.venue_of(id, Role::ServiceAtLocation)?;
        let rec = self
            .services_of(&venue)
            .into_iter()
            .find(|r| r.sal_id() == *id)?;
        Some(records::service_at_location(&rec, &venue, Depth::Full))
    }

    /// An organization with its services (`full_service`: fully nested).
    fn organization_of(&self, venue: &Asset, services: Option<Depth>) -> Value {
        let mut v = records::organization(venue);
        if let Some(depth) = services {
            let list: Vec<Value> = self
                .services_of(venue)
                .iter()
                .map(|rec| {
                    let mut s = records::service(rec, venue, depth);
                    if let Some(o) = s.as_object_mut() {
                        o.remove("organization");
                    }
                    s
                })
                .collect();
            v["services"] = json!(list);
        }
        v
    }

    /// `GET /organizations/{id}`: with its services (`full_service`: fully nested).
    pub fn organization(&self, id: &Uuid, full_service: bool) -> Option<Value> {
        let venue = self.venue_of(id, Role::Organization)?;
        let depth = if full_service {
            Depth::Full
        } else {
            Depth::Brief
        };
        Some(self.organization_of(&venue, Some(depth)))
    }

    /// `GET /organizations`: one per published venue; `full` adds their services.
    pub fn organizations(
        &self,
        words: &[String],
        paging: Paging,
        full: bool,
        full_service: bool,
    ) -> Value {
        let services = match (full, full_service) {
            (_, true) => Some(Depth::Full),
            (true, false) => Some(Depth::Brief),
            _ => None,
        };
        let snap = &self.snap;
        let (venues, total): (Vec<Asset>, usize) = if words.is_empty() {
            let page = snap
                .published_entries()
                .skip(paging.offset())
                .take(paging.per_page)
                .map(|(_, e)| e.asset())
                .collect();
            (page, snap.published_len())
        } else {
            let mut total = 0;
            let mut page = Vec::new();
            for (_, e) in snap.published_entries() {
                if words
                    .iter()
                    .all(|w| e.name().to_lowercase().contains(w.as_str()))
                {
                    if paging.holds(total) {
                        page.push(e.asset());
                    }
                    total += 1;
                }
            }
            (page, total)
        };
        let contents = venues
            .iter()
            .map(|v| self.organization_of(v, services))
            .collect();
        envelope(contents, total, paging)
    }

    /// `GET /taxonomies`.
    pub fn taxonomies_page(&self, words: &[String], paging: Paging) -> Value {
        let all: Vec<Value> = self
            .taxonomies()
            .iter()
            .filter(|t| words_in(words, &[t.name, t.description, t.slug]))
            .map(|t| records::taxonomy(t, None))
            .collect();
        page_of(all, paging)
    }

    /// `GET /taxonomies/{id}`, with its terms.
    pub fn taxonomy(&self, id: &Uuid) -> Option<Value> {
        let t = self.taxonomies().into_iter().find(|t| t.id() == *id)?;
        let terms: Vec<Term> = self
            .terms
            .iter()
            .filter(|x| x.taxonomy == t)
            .cloned()
            .collect();
        Some(records::taxonomy(&t, Some(&terms)))
    }

    /// `GET /taxonomy_terms`: all are top-level terms (none has a parent).
    pub fn terms_page(
        &self,
        words: &[String],
        taxonomy_id: Option<Uuid>,
        parent_id: Option<Uuid>,
        paging: Paging,
    ) -> Value {
        let all: Vec<Value> = self
            .terms
            .iter()
            .filter(|_| parent_id.is_none())
            .filter(|t| taxonomy_id.is_none_or(|id| t.taxonomy.id() == id))
            .filter(|t| words_in(words, &[&t.label, &t.description, &t.slug]))
            .map(records::term)
            .collect();
        page_of(all, paging)
    }

    /// `GET /taxonomy_terms/{id}`.
    pub fn term(&self, id: &Uuid) -> Option<Value> {
        self.terms.iter().find(|t| t.id() == *id).map(records::term)
    }
}

/// Whether every lower-case word occurs in one of the texts (case-insensitive).
fn words_in(words: &[String], texts: &[&str]) -> bool {
    words
        .iter()
        .all(|w| texts.iter().any(|t| t.to_lowercase().contains(w.as_str())))
}

/// One page of a short list held whole.
fn page_of(all: Vec<Value>, paging: Paging) -> Value {
    let total = all.len();
    let page = all
        .into_iter()
        .skip(paging.offset())
        .take(paging.per_page)
        .collect();
    envelope(page, total, paging)
}

/// The extension's distance from the point asked about, in metres.
fn with_distance(v: &mut Value, distance: Option<f64>) {
    if let (Some(d), Some(o)) = (distance, v.as_object_mut()) {
        o.insert("distance_m".into(), json!((d * 10.0).round() / 10.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Activity, Category, Status};
    use crate::index::AreaSet;
    use crate::oruk::activities::tests::{kinds, singing, venue};

    struct Fixed(Vec<Activity>);

    impl Activities for Fixed {
        fn at_venue(&self, venue: &Uuid) -> Vec<Activity> {
            self.0
                .iter()
                .filter(|a| a.fields.asset_id == *venue)
                .cloned()
                .collect()
        }
        fn kinds(&self) -> Vec<crate::domain::activity::Term> {
            kinds()
        }
        fn audiences(&self) -> Vec<crate::domain::activity::Term> {
            Vec::new()
        }
    }

    /// A library with a published singing group and a draft, and a museum with none.
    fn feed() -> Feed {
        let categories: Vec<Category> = [("library", "Library"), ("museum", "Museum")]
            .iter()
            .map(|(slug, label)| Category {
                slug: slug.to_string(),
                label: label.to_string(),
                description: format!("{label}s"),
            })
            .collect();
        let mut museum = venue();
        museum.id = Uuid::from_u128(7);
        museum.fields.name = "Town Museum".into();
        museum.fields.category = "museum".into();
        museum.fields.opening_hours = None;
        let snap = Snapshot::build(
            1,
            &categories,
            vec![venue(), museum],
            Arc::new(AreaSet::empty()),
        );
        let mut draft = singing();
        draft.id = Uuid::from_u128(9);
        draft.fields.status = Status::Draft;
        Feed::new(Arc::new(snap)).with_activities(Arc::new(Fixed(vec![singing(), draft])))
    }

    fn names(v: &Value) -> Vec<String> {
        let mut n: Vec<String> = v["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    }

    const PAGE: Paging = Paging {
        page: 1,
        per_page: 50,
    };

    #[test]
    fn pages_split_a_venues_activities_as_one_list_does() {
        let mut second = singing();
        second.id = Uuid::from_u128(11);
        second.fields.name = "Second group".into();
        let mut third = second.clone();
        third.id = Uuid::from_u128(12);
        third.fields.name = "Third group".into();
        let f = feed();
        let acts = Fixed(vec![singing(), second, third]);
        let f = Feed::new(f.snap.clone()).with_activities(Arc::new(acts));
        let all = f.services(&ServiceQuery::default(), PAGE, Depth::Brief, false);
        assert_eq!(all["total_items"], 4);
        let one_by_one: Vec<Value> = (1..=5)
            .flat_map(|page| {
                let paging = Paging { page, per_page: 1 };
                let v = f.services(&ServiceQuery::default(), paging, Depth::Brief, false);
                assert_eq!(v["total_items"], 4);
                v["contents"].as_array().unwrap().clone()
            })
            .collect();
        assert_eq!(&one_by_one, all["contents"].as_array().unwrap());
    }

    #[test]
    fn activities_are_services_and_venues_without_them_keep_a_visit_service() {
        let f = feed();
        let all = f.services(&ServiceQuery::default(), PAGE, Depth::Brief, false);
        assert_eq!(all["total_items"], 2);
        assert_eq!(names(&all), ["Singing for Better Breathing", "Town Museum"]);
        // By id: the activity (its own id), its link, not the library's visit service.
        let s = f.service(&singing().id).unwrap();
        assert_eq!(s["minimum_age"], 18);
        assert_eq!(s["schedules"].as_array().unwrap().len(), 2);
        assert_eq!(s["schedules"][0]["byday"], "1TU,3TU");
        assert_eq!(s["schedules"][0]["valid_from"], "2026-09-01");
        assert_eq!(s["cost_options"][0]["amount"], 3.5);
        assert!(f
            .service_at_location(&ids::service_at_location(singing().id, venue().id))
            .is_some());
        assert!(f.service(&ids::visit_service(venue().id)).is_none());
        assert!(f.service(&Uuid::from_u128(9)).is_none(), "a draft");
        // Kinds and audiences are taxonomies; a kind's term finds the activity.
        assert_eq!(f.taxonomies().len(), 3);
        let kind = ids::taxonomy_term("activity-kinds", "music-singing");
        assert!(f.term(&kind).is_some());
        let q = |q: ServiceQuery| names(&f.services(&q, PAGE, Depth::Brief, false));
        assert_eq!(
            q(ServiceQuery {
                taxonomy_term_id: Some(kind),
                ..Default::default()
            }),
            ["Singing for Better Breathing"]
        );
        // The venue's category still classifies its activities.
        let library = ids::taxonomy_term("categories", "library");
        assert_eq!(
            q(ServiceQuery {
                taxonomy_term_id: Some(library),
                ..Default::default()
            }),
            ["Singing for Better Breathing"]
        );
        // Tuesday afternoons; children (the group is for adults).
        let tuesday = ServiceQuery {
            day: Some(1),
            start_time: Some(13 * 60),
            ..Default::default()
        };
        assert_eq!(q(tuesday), ["Singing for Better Breathing"]);
        let children = ServiceQuery {
            minimum_age: Some(8),
            maximum_age: Some(12),
            ..Default::default()
        };
        assert_eq!(q(children), ["Town Museum"]);
        let words = ServiceQuery {
            words: vec!["singing".into()],
            ..Default::default()
        };
        assert_eq!(q(words), ["Singing for Better Breathing"]);
    }

    #[test]
    fn an_activity_service_passes_the_official_schema() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/oruk/openreferraluk/specifications/3.0/schema");
        let mut options = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            options = options.with_resource(
                format!(
                    "https://openreferraluk.org/specifications/3.0/schema/{}",
                    path.file_name().unwrap().to_string_lossy()
                ),
                jsonschema::Draft::Draft202012
                    .create_resource(serde_json::from_str(&text).unwrap()),
            );
        }
        let f = feed();
        let checks = [
            ("service.json", f.service(&singing().id).unwrap()),
            (
                "service_at_location.json",
                f.service_at_location(&ids::service_at_location(singing().id, venue().id))
                    .unwrap(),
            ),
            (
                "service_list.json",
                f.services(&ServiceQuery::default(), PAGE, Depth::Full, false),
            ),
            ("taxonomy_list.json", f.taxonomies_page(&[], PAGE)),
            (
                "taxonomy_term_list.json",
                f.terms_page(&[], None, None, PAGE),
            ),
        ];
        for (schema, body) in checks {
            let v = options
                .build(&json!({"$ref": format!("https://openreferraluk.org/specifications/3.0/schema/{schema}")}))
                .unwrap();
            let errors: Vec<String> = v
                .iter_errors(&body)
                .map(|e| format!("{}: {e}", e.instance_path))
                .collect();
            assert!(errors.is_empty(), "{schema}: {errors:#?}");
        }
        // And it is not a validator that accepts anything.
        let v = options
            .build(&json!({"$ref": "https://openreferraluk.org/specifications/3.0/schema/service.json"}))
            .unwrap();
        assert!(!v.is_valid(&json!({"id": "x", "name": "n", "status": "active"})));
    }
}
