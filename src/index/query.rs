//! Queries over a snapshot: radius, bounding box, filters, keyset paging and k-nearest.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use rstar::{Envelope, PointDistance, AABB};
use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use uuid::Uuid;

use super::entry::key_prefix;
use super::tiles::{Nearest, Tiles};
use super::{Entry, Snapshot};
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
    pub(super) fn contains(&self, lat: f64, lon: f64) -> bool {
        let lon_ok = if self.min_lon <= self.max_lon {
            (self.min_lon..=self.max_lon).contains(&lon)
        } else {
            lon >= self.min_lon || lon <= self.max_lon
        };
        lon_ok && (self.min_lat..=self.max_lat).contains(&lat)
    }

    /// Boxes in 3-D holding the unit vectors of every point of the box (one per side of
    /// the antimeridian), slightly enlarged against rounding: candidates, checked exactly
    /// with [`BBox::contains`].
    pub(super) fn envelopes(&self) -> Vec<AABB<[f64; 3]>> {
        let ranges = if self.min_lon <= self.max_lon {
            vec![(self.min_lon, self.max_lon)]
        } else {
            vec![(self.min_lon, 180.0), (-180.0, self.max_lon)]
        };
        let (a, b) = (self.min_lat.to_radians(), self.max_lat.to_radians());
        let cos_lat_max = if a <= 0.0 && b >= 0.0 {
            1.0
        } else {
            a.cos().max(b.cos())
        };
        let cos_lat_min = a.cos().min(b.cos()).max(0.0);
        ranges
            .into_iter()
            .map(|(lo, hi)| {
                let (c, d) = (lo.to_radians(), hi.to_radians());
                let mut cos_lon = (c.cos().min(d.cos()), c.cos().max(d.cos()));
                let mut sin_lon = (c.sin().min(d.sin()), c.sin().max(d.sin()));
                let has = |x: f64| c <= x && x <= d;
                if has(0.0) {
                    cos_lon.1 = 1.0;
                }
                if has(std::f64::consts::PI) || has(-std::f64::consts::PI) {
                    cos_lon.0 = -1.0;
                }
                if has(std::f64::consts::FRAC_PI_2) {
                    sin_lon.1 = 1.0;
                }
                if has(-std::f64::consts::FRAC_PI_2) {
                    sin_lon.0 = -1.0;
                }
                let span = |(lo, hi): (f64, f64)| {
                    let p = [
                        cos_lat_min * lo,
                        cos_lat_min * hi,
                        cos_lat_max * lo,
                        cos_lat_max * hi,
                    ];
                    (
                        p.iter().copied().fold(f64::INFINITY, f64::min),
                        p.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    )
                };
                let (x, y) = (span(cos_lon), span(sin_lon));
                const PAD: f64 = 1e-9;
                AABB::from_corners(
                    [x.0 - PAD, y.0 - PAD, a.sin() - PAD],
                    [x.1 + PAD, y.1 + PAD, b.sin() + PAD],
                )
            })
            .collect()
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
    /// Any of these statuses (the admin list); `None` is published only (the public API).
    pub statuses: Option<Vec<Status>>,
}

impl Filter {
    fn status_ok(&self, status: Status) -> bool {
        match &self.statuses {
            None => status == Status::Published,
            Some(s) => s.contains(&status),
        }
    }

    /// Whether the sets searched ([`Snapshot::sets`]) hold exactly the matches, so that a
    /// point found in them needs no look at its entry.
    fn only_sets(&self) -> bool {
        let statuses_exact = match &self.statuses {
            None => true,
            Some(s) => s.contains(&Status::Draft) == s.contains(&Status::Archived),
        };
        statuses_exact
            && self.words.is_empty()
            && self.wheelchair.is_none()
            && !self.free_only
            && self.tags.is_empty()
            && self.open_at.is_none()
    }

    /// Whether every entry matches (the admin list unfiltered): nothing to check.
    fn matches_all(&self) -> bool {
        self.categories.is_none()
            && self.statuses.as_ref().is_some_and(|s| {
                [Status::Published, Status::Draft, Status::Archived]
                    .iter()
                    .all(|x| s.contains(x))
            })
            && self.only_sets()
    }

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
            && self.status_ok(e.status)
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
    /// Soonest next session first (activities; assets have none and tie).
    Next,
}

/// Where the previous page ended: the sort key and id of its last item. For distance
/// the key is the squared unit-sphere chord, which orders exactly as the distance.
#[derive(Clone, Debug, PartialEq)]
pub enum Cursor {
    Distance(f64, Uuid),
    Name(String, Uuid),
    Updated(i64, Uuid),
    /// An activity's next session start (`i64::MAX`: none).
    Next(i64, Uuid),
}

impl Cursor {
    /// An opaque, URL-safe token.
    pub fn encode(&self) -> String {
        let raw = match self {
            Cursor::Distance(d, id) => format!("d|{:016x}|{id}", d.to_bits()),
            Cursor::Name(n, id) => format!("n|{id}|{n}"),
            Cursor::Updated(t, id) => format!("u|{t}|{id}"),
            Cursor::Next(t, id) => format!("x|{t}|{id}"),
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
            ("x", SortBy::Next) => Some(Cursor::Next(a.parse().ok()?, Uuid::parse_str(b).ok()?)),
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

/// A page candidate in the bounded heap of a distance search: the largest on top. Ties go
/// by asset id, read from the snapshot only when distances are equal (an entry read per
/// candidate would be a cache miss each).
struct Ranked<'a> {
    chord2: f64,
    idx: u32,
    snap: &'a Snapshot,
}

impl PartialEq for Ranked<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked<'_> {}
impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.chord2.total_cmp(&other.chord2).then_with(|| {
            let id = |r: &Self| r.snap.entry(r.idx).id;
            id(self).cmp(&id(other))
        })
    }
}

impl Snapshot {
    /// The point sets a filter reads: its categories (all when none), published only
    /// unless it names statuses.
    fn sets(&self, f: &Filter) -> Vec<&Tiles> {
        let (published, other) = match &f.statuses {
            None => (true, false),
            Some(s) => (
                s.contains(&Status::Published),
                s.iter().any(|s| *s != Status::Published),
            ),
        };
        let mut cats: Vec<&String> = match &f.categories {
            None => self.trees.keys().collect(),
            Some(c) => c.iter().collect(),
        };
        cats.sort_unstable();
        cats.dedup();
        let mut out = Vec::new();
        for c in cats {
            if let Some(s) = self.trees.get(c.as_str()) {
                if published {
                    out.push(s.of(Status::Published));
                }
                if other {
                    out.push(s.of(Status::Draft));
                }
            }
        }
        out
    }

    pub fn search(&self, s: &Search) -> Page {
        let f = &s.filter;
        let only_sets = f.only_sets();
        // The page (sorted, at most limit + 1) for every sort but distance with `near`.
        let mut hits: Vec<Hit> = Vec::new();
        // For sort=distance with `near`: the page in a bounded heap, the total counted.
        let by_distance = s.near.is_some() && s.sort == SortBy::Distance;
        let mut heap: BinaryHeap<Ranked> = BinaryHeap::with_capacity(s.limit + 2);
        let mut total = 0;
        if let Some(n) = s.near {
            let q = unit_vector(n.lat, n.lon);
            let outer = chord2_for(n.radius_m);
            // Points this far inside the circle need no exact check; only those in the thin
            // shell of rounding doubt near the edge get a haversine distance.
            let inner = outer * (1.0 - 1e-8);
            let outside = |idx: u32, c2: f64| {
                c2 > inner && {
                    let e = self.entry(idx);
                    haversine_m(n.lat, n.lon, e.lat, e.lon) > n.radius_m
                }
            };
            // The page's worst so far once it is full (nothing farther can enter it).
            let worst = Cell::new(f64::INFINITY);
            let mut offer = |idx: u32, c2: f64| {
                if let Some(Cursor::Distance(after, after_id)) = &s.after {
                    match c2.total_cmp(after) {
                        Ordering::Less => return,
                        Ordering::Equal if self.entry(idx).id <= *after_id => return,
                        _ => {}
                    }
                }
                if c2 > worst.get() {
                    return;
                }
                let ranked = Ranked {
                    chord2: c2,
                    idx,
                    snap: self,
                };
                if heap.len() > s.limit {
                    if heap.peek().is_some_and(|top| ranked < *top) {
                        heap.pop();
                        heap.push(ranked);
                    }
                } else {
                    heap.push(ranked);
                }
                if heap.len() > s.limit {
                    worst.set(heap.peek().map_or(f64::INFINITY, |t| t.chord2));
                }
            };
            if by_distance && only_sets && s.bbox.is_none() {
                // The common public query: the sets hold exactly the matches, so whole
                // subtrees beyond the page are counted without a look at their points.
                let counted = Cell::new(0);
                for set in self.sets(f) {
                    set.visit_within(
                        q,
                        outer,
                        inner,
                        &mut || worst.get(),
                        &mut |p, c2| {
                            if !outside(p.data, c2) {
                                counted.set(counted.get() + 1);
                                offer(p.data, c2);
                            }
                        },
                        &mut |k| counted.set(counted.get() + k),
                    );
                }
                total = counted.get();
            } else {
                for set in self.sets(f) {
                    for p in set.locate_within_distance(q, outer) {
                        let c2 = p.geom().distance_2(&q);
                        if outside(p.data, c2) {
                            continue;
                        }
                        if s.bbox.is_some() || !only_sets {
                            let e = self.entry(p.data);
                            if !(s.bbox.is_none_or(|b| b.contains(e.lat, e.lon)) && f.matches(e)) {
                                continue;
                            }
                        }
                        total += 1;
                        if by_distance {
                            offer(p.data, c2);
                        } else {
                            self.keep_best(&mut hits, Hit::new(p.data, c2), s);
                        }
                    }
                }
            }
        } else if let Some(b) = s.bbox {
            let envelopes = b.envelopes();
            for (k, env) in envelopes.iter().enumerate() {
                for set in self.sets(f) {
                    for p in set.locate_in_envelope(*env) {
                        // A point on the antimeridian is in both boxes: counted in the first.
                        if k > 0 && envelopes[0].contains_point(p.geom()) {
                            continue;
                        }
                        let e = self.entry(p.data);
                        if b.contains(e.lat, e.lon) && f.matches(e) {
                            total += 1;
                            self.keep_best(&mut hits, Hit::new(p.data, 0.0), s);
                        }
                    }
                }
            }
        } else if s.sort == SortBy::Name {
            total = self.scan_by_name(&mut hits, s);
        } else {
            for (i, e) in self.entries() {
                if f.matches(e) {
                    total += 1;
                    self.keep_best(&mut hits, Hit::new(i, 0.0), s);
                }
            }
        }

        if by_distance {
            hits = heap
                .into_sorted_vec()
                .into_iter()
                .map(|r| Hit::new(r.idx, r.chord2))
                .collect();
        }
        let next = if hits.len() > s.limit {
            hits.truncate(s.limit);
            hits.last().map(|h| self.cursor_of(s.sort, h))
        } else {
            None
        };
        // The page's entries and texts are read next (distances, JSON), each a cache miss at
        // scale: one pass of loads independent of each other lets the misses overlap.
        std::hint::black_box(hits.iter().fold(0, |a, h| a ^ self.entry(h.idx).warm()));
        if let Some(n) = s.near {
            self.set_distances(&mut hits, n.lat, n.lon);
        }
        Page { hits, total, next }
    }

    /// Every entry matching, sorted by name (the admin list): the page kept as by
    /// [`Snapshot::keep_best`], but an entry is first compared by its name prefix alone
    /// with the cursor's and the page's worst, so that of a million entries only the few
    /// tied on a prefix need their names compared. Returns the total.
    fn scan_by_name(&self, page: &mut Vec<Hit>, s: &Search) -> usize {
        let f = &s.filter;
        let all = f.matches_all();
        let after = match &s.after {
            Some(Cursor::Name(key, _)) => key_prefix(key),
            _ => 0,
        };
        // The page's worst prefix once it is full: a greater prefix cannot enter it.
        let mut worst = u64::MAX;
        let mut total = 0;
        for (c, chunk) in self.chunks.iter().enumerate() {
            let base = (c * super::CHUNK) as u32;
            for (j, e) in chunk.iter().enumerate() {
                if !(all || f.matches(e)) {
                    continue;
                }
                total += 1;
                let p = e.name_prefix();
                if p > worst || p < after {
                    continue;
                }
                self.keep_best(page, Hit::new(base + j as u32, 0.0), s);
                if page.len() > s.limit {
                    worst = page
                        .last()
                        .map_or(u64::MAX, |h| self.entry(h.idx).name_prefix());
                }
            }
        }
        total
    }

    /// Keeps in `page` (sorted) the best `limit + 1` hits past the cursor of those offered
    /// one by one: a match costs one comparison with the page's worst, never a sort of all.
    fn keep_best(&self, page: &mut Vec<Hit>, h: Hit, s: &Search) {
        if let Some(c) = &s.after {
            if self.cmp_to_cursor(&h, c) != Ordering::Greater {
                return;
            }
        }
        let cmp = |a: &Hit, b: &Hit| self.cmp_hits(s.sort, a, b);
        if page.len() > s.limit {
            if page.last().is_some_and(|w| cmp(&h, w) != Ordering::Less) {
                return;
            }
            page.pop();
        }
        let at = page.partition_point(|x| cmp(x, &h) == Ordering::Less);
        page.insert(at, h);
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
            SortBy::Next => Ordering::Equal,
        };
        key.then(ea.id.cmp(&eb.id))
    }

    fn cmp_to_cursor(&self, h: &Hit, c: &Cursor) -> Ordering {
        let e = self.entry(h.idx);
        let (key, id) = match c {
            Cursor::Distance(c2, id) => (h.chord2.total_cmp(c2), id),
            Cursor::Name(n, id) => (e.cmp_name_key(n), id),
            Cursor::Updated(t, id) => (t.cmp(&e.updated_at.timestamp_micros()), id),
            Cursor::Next(_, id) => (Ordering::Equal, id),
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
            SortBy::Next => Cursor::Next(i64::MAX, id),
        }
    }

    /// The `k` published assets nearest to a point, whatever their distance, nearest first
    /// (ties by id).
    pub fn nearest(&self, lat: f64, lon: f64, categories: Option<&[String]>, k: usize) -> Vec<Hit> {
        let q = unit_vector(lat, lon);
        let filter = Filter {
            categories: categories.map(<[String]>::to_vec),
            ..Filter::default()
        };
        let mut hits: Vec<Hit> = Vec::new();
        let mut kth = f64::INFINITY;
        for (n, (p, c2)) in Nearest::of(self.sets(&filter).into_iter(), q).enumerate() {
            // Past the k-th, keep only exact ties: the id decides among them.
            if n >= k && c2 > kth {
                break;
            }
            if n + 1 == k {
                kth = c2;
            }
            hits.push(Hit::new(p.data, c2));
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
    use crate::domain::{Asset, AssetFields, Category};
    use crate::synth::Rng;

    /// 20,000 assets within a few hundred metres of one point (many at the same places,
    /// some drafts, two categories), and a few farther out: the nearby query, page after
    /// page, and the admin list by name, against brute force.
    #[test]
    fn near_at_density_and_list_by_name_agree_with_brute_force() {
        let mut rng = Rng::new(11);
        let (lat0, lon0) = (51.5, -0.12);
        let now = chrono::Utc::now();
        let names = [
            "Café",
            "cafe",
            "CAFE ROYAL",
            "Ωmega Σ",
            "abcdefgh",
            "abcdefgH2",
            "İz",
        ];
        let assets: Vec<Asset> = (0..20_000u64)
            .map(|i| {
                let spread = if i % 10 == 0 { 0.05 } else { 0.004 };
                let (lat, lon) = if i % 7 == 0 {
                    (lat0 + 0.001, lon0)
                } else {
                    (
                        lat0 + (rng.unit() - 0.5) * spread,
                        lon0 + (rng.unit() - 0.5) * spread,
                    )
                };
                let name = format!("{}{}", rng.pick(&names), rng.next_u64() % 50);
                let cat = if i % 3 == 0 { "museum" } else { "cafe" };
                let mut f = AssetFields::at(name, cat, lat, lon);
                if i % 5 == 0 {
                    f.status = Status::Draft;
                }
                Asset::new(Uuid::from_u64_pair(rng.next_u64(), i), f, now)
            })
            .collect();
        let categories: Vec<Category> = ["museum", "cafe"]
            .iter()
            .map(|s| Category {
                slug: s.to_string(),
                label: s.to_string(),
                description: String::new(),
            })
            .collect();
        let snap = Snapshot::build(1, &categories, assets.clone(), Default::default());

        for (radius_m, lat, lon) in [
            (300.0, lat0, lon0),
            (111.2, lat0 + 0.001, lon0),
            (2000.0, lat0, lon0 + 0.002),
        ] {
            let mut expected: Vec<(f64, Uuid)> = assets
                .iter()
                .filter(|a| a.fields.status == Status::Published)
                .map(|a| (haversine_m(lat, lon, a.fields.lat, a.fields.lon), a.id))
                .filter(|(d, _)| *d <= radius_m)
                .collect();
            expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            assert!(expected.len() > 1000, "dense: {}", expected.len());
            let mut search = Search {
                near: Some(Near { lat, lon, radius_m }),
                bbox: None,
                filter: Filter::default(),
                sort: SortBy::Distance,
                limit: 50,
                after: None,
            };
            let mut got: Vec<(f64, Uuid)> = Vec::new();
            for _ in 0..5 {
                let page = snap.search(&search);
                assert_eq!(page.total, expected.len());
                got.extend(
                    page.hits
                        .iter()
                        .map(|h| (h.distance_m.unwrap(), snap.entry(h.idx).id)),
                );
                search.after = page.next;
            }
            // Ids in order; the distances as brute force's (ties by id, however rounded).
            let ids = |v: &[(f64, Uuid)]| v.iter().map(|x| x.1).collect::<Vec<_>>();
            assert_eq!(ids(&got), ids(&expected[..250]));
        }

        let every = Some(vec![Status::Published, Status::Draft, Status::Archived]);
        let mut expected: Vec<(String, Uuid)> = assets
            .iter()
            .map(|a| (a.fields.name.to_lowercase(), a.id))
            .collect();
        expected.sort();
        for statuses in [every, Some(vec![Status::Draft])] {
            let wanted: Vec<Uuid> = expected
                .iter()
                .filter(|(_, id)| {
                    let a = assets.iter().find(|a| a.id == *id).unwrap();
                    statuses.as_ref().unwrap().contains(&a.fields.status)
                })
                .map(|x| x.1)
                .collect();
            let mut search = Search {
                near: None,
                bbox: None,
                filter: Filter {
                    statuses: statuses.clone(),
                    ..Filter::default()
                },
                sort: SortBy::Name,
                limit: 37,
                after: None,
            };
            let mut got = Vec::new();
            for _ in 0..8 {
                let page = snap.search(&search);
                assert_eq!(page.total, wanted.len());
                got.extend(page.hits.iter().map(|h| snap.entry(h.idx).id));
                search.after = page
                    .next
                    .map(|c| Cursor::decode(&c.encode(), SortBy::Name).unwrap());
            }
            assert_eq!(got, wanted[..got.len()]);
            assert_eq!(got.len(), 8 * 37);
        }
    }

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
