//! Queries over a snapshot: radius, bounding box, filters, keyset paging and k-nearest.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use rstar::{PointDistance, RTree, AABB};
use std::cmp::Ordering;
use uuid::Uuid;

use super::{Entry, Snapshot, SpherePoint};
use crate::domain::{Cost, Status, Wheelchair};
use crate::geo::sphere::{chord2_for, haversine_m, unit_vector};

/// A circle on the Earth.
#[derive(Clone, Copy, Debug)]
pub struct Near {
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
}

/// A WGS84 box; `min_lon > max_lon` means it crosses the antimeridian.
#[derive(Clone, Copy, Debug)]
pub struct BBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl BBox {
    fn contains(&self, lat: f64, lon: f64) -> bool {
        let lon_ok = if self.min_lon <= self.max_lon {
            (self.min_lon..=self.max_lon).contains(&lon)
        } else {
            lon >= self.min_lon || lon <= self.max_lon
        };
        lon_ok && (self.min_lat..=self.max_lat).contains(&lat)
    }

    fn envelopes(&self) -> Vec<AABB<[f64; 2]>> {
        let env = |a: f64, b: f64| AABB::from_corners([a, self.min_lat], [b, self.max_lat]);
        if self.min_lon <= self.max_lon {
            vec![env(self.min_lon, self.max_lon)]
        } else {
            vec![env(self.min_lon, 180.0), env(-180.0, self.max_lon)]
        }
    }
}

/// Attribute filters; every one given must hold.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Any of these categories; `None` is every category.
    pub categories: Option<Vec<String>>,
    /// Lower-case words that must all occur in the name, description or tags.
    pub words: Vec<String>,
    /// `Yes`: step-free only; `Limited`: step-free or limited access.
    pub wheelchair: Option<Wheelchair>,
    pub free_only: bool,
    /// Tags that must all be present.
    pub tags: Vec<String>,
    /// Open at this Europe/London wall-clock time (unknown hours never match).
    pub open_at: Option<NaiveDateTime>,
    /// Any of these statuses (the admin list; the public snapshot holds published only).
    pub statuses: Option<Vec<Status>>,
}

impl Filter {
    fn matches(&self, e: &Entry) -> bool {
        if let Some(cats) = &self.categories {
            if !cats.iter().any(|c| **c == *e.category) {
                return false;
            }
        }
        let wheelchair_ok = match self.wheelchair {
            None => true,
            Some(Wheelchair::Yes) => e.wheelchair == Wheelchair::Yes,
            Some(_) => matches!(e.wheelchair, Wheelchair::Yes | Wheelchair::Limited),
        };
        wheelchair_ok
            && (!self.free_only || e.cost == Cost::Free)
            && self.statuses.as_ref().is_none_or(|s| s.contains(&e.status))
            && self.tags.iter().all(|t| e.has_tag(t))
            && self.words.iter().all(|w| e.contains_word(w))
            && self
                .open_at
                .is_none_or(|t| e.hours().is_some_and(|h| h.is_open_at(t)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
    Distance,
    Name,
    /// Most recently updated first.
    Updated,
}

/// Where the previous page ended: the sort key and id of its last item. For distance
/// the key is the squared unit-sphere chord, which orders exactly as the distance.
#[derive(Clone, Debug, PartialEq)]
pub enum Cursor {
    Distance(f64, Uuid),
    Name(String, Uuid),
    Updated(i64, Uuid),
}

impl Cursor {
    /// An opaque, URL-safe token.
    pub fn encode(&self) -> String {
        let raw = match self {
            Cursor::Distance(d, id) => format!("d|{:016x}|{id}", d.to_bits()),
            Cursor::Name(n, id) => format!("n|{id}|{n}"),
            Cursor::Updated(t, id) => format!("u|{t}|{id}"),
        };
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Decodes a token made by [`Cursor::encode`] for the same sort order.
    pub fn decode(token: &str, sort: SortBy) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let raw = String::from_utf8(bytes).ok()?;
        let mut parts = raw.splitn(3, '|');
        let (kind, a, b) = (parts.next()?, parts.next()?, parts.next()?);
        match (kind, sort) {
            ("d", SortBy::Distance) => {
                let d = f64::from_bits(u64::from_str_radix(a, 16).ok()?);
                d.is_finite()
                    .then_some(Cursor::Distance(d, Uuid::parse_str(b).ok()?))
            }
            ("n", SortBy::Name) => Some(Cursor::Name(b.to_string(), Uuid::parse_str(a).ok()?)),
            ("u", SortBy::Updated) => {
                Some(Cursor::Updated(a.parse().ok()?, Uuid::parse_str(b).ok()?))
            }
            _ => None,
        }
    }
}

/// A search over the published assets.
#[derive(Clone, Debug)]
pub struct Search {
    pub near: Option<Near>,
    pub bbox: Option<BBox>,
    pub filter: Filter,
    pub sort: SortBy,
    pub limit: usize,
    pub after: Option<Cursor>,
}

/// A matching asset: its index in the snapshot and, for `near` searches, its distance.
#[derive(Clone, Copy, Debug)]
pub struct Hit {
    pub idx: u32,
    /// Great-circle distance in metres; computed only for the hits returned.
    pub distance_m: Option<f64>,
    /// Squared chord to the query point on the unit sphere: orders exactly as the
    /// great-circle distance, and costs no trigonometry.
    chord2: f64,
}

impl Hit {
    fn new(idx: u32, chord2: f64) -> Self {
        Hit {
            idx,
            distance_m: None,
            chord2,
        }
    }
}

/// One page of a search.
#[derive(Debug)]
pub struct Page {
    pub hits: Vec<Hit>,
    /// Every match, on every page.
    pub total: usize,
    pub next: Option<Cursor>,
}

impl Snapshot {
    fn trees(&self, categories: Option<&[String]>) -> Vec<&RTree<SpherePoint>> {
        match categories {
            None => vec![&self.sphere_all],
            Some(cats) => cats
                .iter()
                .filter_map(|c| self.sphere_by_category.get(c))
                .collect(),
        }
    }

    pub fn search(&self, s: &Search) -> Page {
        let f = &s.filter;
        let mut hits = Vec::new();
        if let Some(n) = s.near {
            let q = unit_vector(n.lat, n.lon);
            let outer = chord2_for(n.radius_m);
            // Points this far inside the circle need no exact check; only those in the thin
            // shell of rounding doubt near the edge get a haversine distance.
            let inner = outer * (1.0 - 1e-8);
            for tree in self.trees(f.categories.as_deref()) {
                for (p, c2) in tree
                    .locate_within_distance(q, outer)
                    .map(|p| (p, p.geom().distance_2(&q)))
                {
                    let e = self.entry(p.data);
                    let inside =
                        c2 <= inner || haversine_m(n.lat, n.lon, e.lat, e.lon) <= n.radius_m;
                    if inside && s.bbox.is_none_or(|b| b.contains(e.lat, e.lon)) && f.matches(e) {
                        hits.push(Hit::new(p.data, c2));
                    }
                }
            }
        } else if let Some(b) = s.bbox {
            for env in b.envelopes() {
                for p in self.plane.locate_in_envelope(&env) {
                    if f.matches(self.entry(p.data)) {
                        hits.push(Hit::new(p.data, 0.0));
                    }
                }
            }
        } else {
            for (i, e) in self.entries.iter().enumerate() {
                if f.matches(e) {
                    hits.push(Hit::new(i as u32, 0.0));
                }
            }
        }

        let total = hits.len();
        if let Some(c) = &s.after {
            hits.retain(|h| self.cmp_to_cursor(h, c) == Ordering::Greater);
        }
        let cmp = |a: &Hit, b: &Hit| self.cmp_hits(s.sort, a, b);
        if hits.len() > s.limit + 1 {
            hits.select_nth_unstable_by(s.limit, cmp);
            hits.truncate(s.limit + 1);
        }
        hits.sort_unstable_by(cmp);
        let next = if hits.len() > s.limit {
            hits.truncate(s.limit);
            hits.last().map(|h| self.cursor_of(s.sort, h))
        } else {
            None
        };
        if let Some(n) = s.near {
            self.set_distances(&mut hits, n.lat, n.lon);
        }
        Page { hits, total, next }
    }

    fn set_distances(&self, hits: &mut [Hit], lat: f64, lon: f64) {
        for h in hits {
            let e = self.entry(h.idx);
            h.distance_m = Some(haversine_m(lat, lon, e.lat, e.lon));
        }
    }

    fn cmp_hits(&self, sort: SortBy, a: &Hit, b: &Hit) -> Ordering {
        let (ea, eb) = (self.entry(a.idx), self.entry(b.idx));
        let key = match sort {
            SortBy::Distance => a.chord2.total_cmp(&b.chord2),
            SortBy::Name => ea.cmp_name(eb),
            SortBy::Updated => eb.updated_at.cmp(&ea.updated_at),
        };
        key.then(ea.id.cmp(&eb.id))
    }

    fn cmp_to_cursor(&self, h: &Hit, c: &Cursor) -> Ordering {
        let e = self.entry(h.idx);
        let (key, id) = match c {
            Cursor::Distance(c2, id) => (h.chord2.total_cmp(c2), id),
            Cursor::Name(n, id) => (e.cmp_name_key(n), id),
            Cursor::Updated(t, id) => (t.cmp(&e.updated_at.timestamp_micros()), id),
        };
        key.then(e.id.cmp(id))
    }

    fn cursor_of(&self, sort: SortBy, h: &Hit) -> Cursor {
        let e = self.entry(h.idx);
        let id = e.id;
        match sort {
            SortBy::Distance => Cursor::Distance(h.chord2, id),
            SortBy::Name => Cursor::Name(e.name_key().into_owned(), id),
            SortBy::Updated => Cursor::Updated(e.updated_at.timestamp_micros(), id),
        }
    }

    /// The `k` published assets nearest to a point, whatever their distance, nearest first
    /// (ties by id).
    pub fn nearest(&self, lat: f64, lon: f64, categories: Option<&[String]>, k: usize) -> Vec<Hit> {
        let q = unit_vector(lat, lon);
        let mut hits: Vec<Hit> = Vec::new();
        for tree in self.trees(categories) {
            let mut kth = f64::INFINITY;
            for (n, (p, c2)) in tree.nearest_neighbor_iter_with_distance_2(&q).enumerate() {
                // Past the k-th, keep only exact ties: the id decides among them.
                if n >= k && c2 > kth {
                    break;
                }
                if n + 1 == k {
                    kth = c2;
                }
                hits.push(Hit::new(p.data, c2));
            }
        }
        hits.sort_unstable_by(|a, b| self.cmp_hits(SortBy::Distance, a, b));
        hits.truncate(k);
        self.set_distances(&mut hits, lat, lon);
        hits
    }

    /// How many published assets of `category` lie within `radius_m` (great-circle) of a
    /// point.
    pub fn count_within(&self, category: &str, lat: f64, lon: f64, radius_m: f64) -> usize {
        self.category_tree(category).map_or(0, |tree| {
            tree.locate_within_distance(unit_vector(lat, lon), chord2_for(radius_m))
                .filter(|p| {
                    let e = self.entry(p.data);
                    haversine_m(lat, lon, e.lat, e.lon) <= radius_m
                })
                .count()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_is_bound_to_its_sort() {
        let id = Uuid::new_v4();
        for (c, sort) in [
            (Cursor::Distance(1234.5678, id), SortBy::Distance),
            (Cursor::Name("st. mary's | hall".into(), id), SortBy::Name),
            (Cursor::Updated(1_700_000_000_000_000, id), SortBy::Updated),
        ] {
            let t = c.encode();
            assert_eq!(Cursor::decode(&t, sort), Some(c));
            let other = if sort == SortBy::Name {
                SortBy::Distance
            } else {
                SortBy::Name
            };
            assert_eq!(Cursor::decode(&t, other), None);
        }
        assert_eq!(Cursor::decode("not a cursor!", SortBy::Name), None);
    }
}
