//! Points on the unit sphere in spatial tiles, each a k-d tree ([`Kd`]) behind an `Arc`, so that a new
//! snapshot shares every tile a write did not touch: a write rebuilds one tile of at most a
//! few thousand points and copies a vector of `Arc`s, whatever the number of assets.
//!
//! The tiles' boxes partition 3-D space (half-open boxes from a k-d split at build time),
//! so every point has exactly one tile, found from its coordinates alone; a tile that grows
//! past twice [`CAP`] is split the same way. Queries visit the tiles whose points'
//! envelope can hold an answer.

use rstar::{Envelope, RTree, AABB};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::iter::Peekable;
use std::sync::Arc;

use super::kd::Kd;
use super::SpherePoint;

/// Points a tile holds after a split (tiles are split when they pass twice this).
const CAP: usize = 2048;

/// One set of points (a category's published assets, or its others).
#[derive(Clone)]
pub struct Tiles {
    cells: Vec<Cell>,
    /// Runs of [`GROUP`] consecutive cells (neighbours: cells are in k-d order) with their
    /// points' envelope, so that a query reads a few dozen boxes before the cells', not
    /// every cell's.
    groups: Vec<Group>,
    len: usize,
}

#[derive(Clone)]
struct Cell {
    lo: [f64; 3],
    hi: [f64; 3],
    /// The points' envelope, kept beside the cell (not behind its `Arc`) so that choosing
    /// the cells of a query reads one vector; `None` when the tile is empty.
    env: Option<AABB<[f64; 3]>>,
    tile: Arc<Kd>,
}

impl Cell {
    fn new(lo: [f64; 3], hi: [f64; 3], points: Vec<SpherePoint>) -> Self {
        let tile = Kd::new(points);
        Cell {
            lo,
            hi,
            env: tile.envelope(),
            tile: Arc::new(tile),
        }
    }
}

/// Cells a group holds.
const GROUP: usize = 16;

#[derive(Clone)]
struct Group {
    env: AABB<[f64; 3]>,
    cells: std::ops::Range<usize>,
}

fn inside(lo: &[f64; 3], hi: &[f64; 3], p: &[f64; 3]) -> bool {
    (0..3).all(|k| lo[k] <= p[k] && p[k] < hi[k])
}

/// Below this many points a split is not worth a thread of its own.
const PARALLEL_MIN: usize = 1 << 15;

/// Splits `points` (all inside the box `lo..hi`) into cells of at most [`CAP`] points at
/// the median of their widest axis, appending them to `out`.
fn split_into(points: Vec<SpherePoint>, lo: [f64; 3], hi: [f64; 3], out: &mut Vec<Cell>) {
    split_on(points, lo, hi, out, 1)
}

/// [`split_into`] on up to `threads` threads: the two halves of a large split are built at
/// once (a whole build at start-up), appended in the same order as on one thread.
fn split_on(
    mut points: Vec<SpherePoint>,
    lo: [f64; 3],
    hi: [f64; 3],
    out: &mut Vec<Cell>,
    threads: usize,
) {
    let leaf = |points, out: &mut Vec<Cell>| out.push(Cell::new(lo, hi, points));
    if points.len() <= CAP {
        return leaf(points, out);
    }
    let (mut mn, mut mx) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
    for p in &points {
        for k in 0..3 {
            mn[k] = mn[k].min(p.geom()[k]);
            mx[k] = mx[k].max(p.geom()[k]);
        }
    }
    let axis = (0..3)
        .max_by(|&a, &b| (mx[a] - mn[a]).total_cmp(&(mx[b] - mn[b])))
        .unwrap_or(0);
    if mx[axis] <= mn[axis] {
        // Every point at one place: no split can separate them.
        return leaf(points, out);
    }
    let mid = points.len() / 2;
    points.select_nth_unstable_by(mid, |a, b| a.geom()[axis].total_cmp(&b.geom()[axis]));
    // Left: below `s`; right: from `s`. Both non-empty: min < s <= max.
    let mut s = points[mid].geom()[axis];
    if s <= mn[axis] {
        s = mn[axis].next_up();
    }
    let (left, right): (Vec<SpherePoint>, Vec<SpherePoint>) =
        points.into_iter().partition(|p| p.geom()[axis] < s);
    let (mut left_hi, mut right_lo) = (hi, lo);
    left_hi[axis] = s;
    right_lo[axis] = s;
    if threads > 1 && left.len() + right.len() >= PARALLEL_MIN {
        let (mine, theirs) = (threads - threads / 2, threads / 2);
        let mut right_cells = Vec::new();
        std::thread::scope(|sc| {
            let left_job = sc.spawn(move || {
                let mut cells = Vec::new();
                split_on(left, lo, left_hi, &mut cells, theirs);
                cells
            });
            split_on(right, right_lo, hi, &mut right_cells, mine);
            out.extend(left_job.join().expect("splitting does not panic"));
        });
        out.extend(right_cells);
    } else {
        split_on(left, lo, left_hi, out, threads);
        split_on(right, right_lo, hi, out, threads);
    }
}

impl Tiles {
    pub fn build(points: Vec<SpherePoint>) -> Self {
        let mut cells = Vec::new();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        split_on(
            points,
            [f64::NEG_INFINITY; 3],
            [f64::INFINITY; 3],
            &mut cells,
            threads,
        );
        Tiles::of(cells)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many tiles (for tests and benchmarks).
    pub fn tile_count(&self) -> usize {
        self.cells.len()
    }

    /// How many of this set's tiles `other` shares (the same allocation, not a copy).
    pub fn shared_with(&self, other: &Tiles) -> usize {
        self.cells
            .iter()
            .filter(|c| other.cells.iter().any(|o| Arc::ptr_eq(&c.tile, &o.tile)))
            .count()
    }

    fn cell_of(&self, p: &[f64; 3]) -> usize {
        self.cells
            .iter()
            .position(|c| inside(&c.lo, &c.hi, p))
            .expect("the cells partition space")
    }

    /// A copy without `removed` (points held) and with `added`; only the tiles these
    /// touch are rebuilt, the others are shared.
    pub fn with_changes(&self, removed: &[SpherePoint], added: &[SpherePoint]) -> Tiles {
        let mut touched: HashMap<usize, (HashSet<u32>, Vec<SpherePoint>)> = HashMap::new();
        for r in removed {
            let i = self.cell_of(r.geom());
            touched.entry(i).or_default().0.insert(r.data);
        }
        for a in added {
            let i = self.cell_of(a.geom());
            touched.entry(i).or_default().1.push(*a);
        }
        let mut cells = Vec::with_capacity(self.cells.len() + 2);
        for (i, cell) in self.cells.iter().enumerate() {
            match touched.remove(&i) {
                None => cells.push(cell.clone()),
                Some((gone, new)) => {
                    let mut points: Vec<SpherePoint> = cell
                        .tile
                        .iter()
                        .filter(|p| !gone.contains(&p.data))
                        .copied()
                        .collect();
                    points.extend(new);
                    if points.len() > 2 * CAP {
                        split_into(points, cell.lo, cell.hi, &mut cells);
                    } else {
                        cells.push(Cell::new(cell.lo, cell.hi, points));
                    }
                }
            }
        }
        Tiles::of(cells)
    }

    fn of(cells: Vec<Cell>) -> Tiles {
        let groups = cells
            .chunks(GROUP)
            .enumerate()
            .filter_map(|(g, run)| {
                let env = run
                    .iter()
                    .filter_map(|c| c.env)
                    .reduce(|a, b| a.merged(&b))?;
                Some(Group {
                    env,
                    cells: g * GROUP..g * GROUP + run.len(),
                })
            })
            .collect();
        let len = cells.iter().map(|c| c.tile.len()).sum();
        Tiles { cells, groups, len }
    }

    /// The non-empty cells whose points' envelope passes `keep` (and whose group's does).
    fn cells_where(
        &self,
        keep: impl Fn(&AABB<[f64; 3]>) -> bool + Copy,
    ) -> impl Iterator<Item = &Cell> {
        self.groups
            .iter()
            .filter(move |g| keep(&g.env))
            .flat_map(|g| &self.cells[g.cells.clone()])
            .filter(move |c| c.env.as_ref().is_some_and(keep))
    }

    /// Every point.
    pub fn iter(&self) -> impl Iterator<Item = &SpherePoint> {
        self.cells.iter().flat_map(|c| c.tile.iter())
    }

    /// The points within squared chord `r2` of `q`.
    pub fn locate_within_distance(
        &self,
        q: [f64; 3],
        r2: f64,
    ) -> impl Iterator<Item = &SpherePoint> {
        self.cells_where(move |e| e.distance_2(&q) <= r2)
            .flat_map(move |c| c.tile.within(q, r2))
    }

    /// Visits the points within squared chord `outer` of `q` for a count and a nearest
    /// page: `point(p, chord2)` for each point that might enter the page, `count(n)` for `n`
    /// points known to be inside without looking at them. A subtree lying wholly within
    /// `inner` whose nearest corner is beyond `worst()` (the page's worst so far) is only
    /// counted, from its leaf nodes' lengths, so the thousands of points of a dense circle
    /// cost a walk of the tree's upper levels, not a distance each.
    pub fn visit_within(
        &self,
        q: [f64; 3],
        outer: f64,
        inner: f64,
        worst: &mut dyn FnMut() -> f64,
        point: &mut dyn FnMut(&SpherePoint, f64),
        count: &mut dyn FnMut(usize),
    ) {
        for c in self.cells_where(|e| e.distance_2(&q) <= outer) {
            c.tile.visit_within(q, outer, inner, worst, point, count);
        }
    }

    /// The points in the box `env`.
    pub fn locate_in_envelope(&self, env: AABB<[f64; 3]>) -> impl Iterator<Item = &SpherePoint> {
        self.cells_where(move |e| e.intersects(&env))
            .flat_map(move |c| c.tile.in_envelope(env))
    }

    /// Every point, nearest to `q` first, with its squared chord.
    pub fn nearest_neighbor_iter_with_distance_2(&self, q: &[f64; 3]) -> Nearest<'_> {
        Nearest::new(std::slice::from_ref(self), *q)
    }

    pub fn nearest_neighbor(&self, q: &[f64; 3]) -> Option<&SpherePoint> {
        self.nearest_neighbor_iter_with_distance_2(q)
            .next()
            .map(|(p, _)| p)
    }
}

/// Points nearest first, with their squared chords.
pub type NearestFirst<'a> = Box<dyn Iterator<Item = (&'a SpherePoint, f64)> + 'a>;

/// What import matching asks of a set of points, whether a plain R-tree (the rows of the
/// file) or [`Tiles`] (a snapshot's).
pub trait PointSet {
    fn within<'a>(&'a self, q: [f64; 3], r2: f64)
        -> Box<dyn Iterator<Item = &'a SpherePoint> + 'a>;
    fn nearest_first<'a>(&'a self, q: [f64; 3]) -> NearestFirst<'a>;
}

impl PointSet for RTree<SpherePoint> {
    fn within<'a>(
        &'a self,
        q: [f64; 3],
        r2: f64,
    ) -> Box<dyn Iterator<Item = &'a SpherePoint> + 'a> {
        Box::new(self.locate_within_distance(q, r2))
    }
    fn nearest_first<'a>(&'a self, q: [f64; 3]) -> NearestFirst<'a> {
        Box::new(self.nearest_neighbor_iter_with_distance_2(&q))
    }
}

impl PointSet for Tiles {
    fn within<'a>(
        &'a self,
        q: [f64; 3],
        r2: f64,
    ) -> Box<dyn Iterator<Item = &'a SpherePoint> + 'a> {
        Box::new(self.locate_within_distance(q, r2))
    }
    fn nearest_first<'a>(&'a self, q: [f64; 3]) -> NearestFirst<'a> {
        Box::new(self.nearest_neighbor_iter_with_distance_2(&q))
    }
}

/// Points of several [`Tiles`], nearest first: the tiles' own nearest-first walks, merged,
/// each started only once the walk reaches its tile's envelope (and a group's cells
/// looked at only once it reaches the group's).
pub struct Nearest<'a> {
    q: [f64; 3],
    /// Groups and tiles not yet walked, nearest on top.
    pending: BinaryHeap<Reverse<Pending<'a>>>,
    walks: Vec<Peekable<NearestFirst<'a>>>,
}

enum Part<'a> {
    Group(&'a Tiles, &'a Group),
    Tile(&'a Kd),
}

/// A group or tile by the distance to its envelope.
struct Pending<'a>(f64, Part<'a>);

impl PartialEq for Pending<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}
impl Eq for Pending<'_> {}
impl PartialOrd for Pending<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl<'a> Nearest<'a> {
    pub fn new(sets: &'a [Tiles], q: [f64; 3]) -> Self {
        Self::of(sets.iter(), q)
    }

    pub fn of(sets: impl Iterator<Item = &'a Tiles>, q: [f64; 3]) -> Self {
        let pending = sets
            .flat_map(|s| s.groups.iter().map(move |g| (s, g)))
            .map(|(s, g)| Reverse(Pending(g.env.distance_2(&q), Part::Group(s, g))))
            .collect();
        Nearest {
            q,
            pending,
            walks: Vec::new(),
        }
    }
}

impl<'a> Iterator for Nearest<'a> {
    type Item = (&'a SpherePoint, f64);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let best = self
                .walks
                .iter_mut()
                .enumerate()
                .filter_map(|(i, w)| w.peek().map(|(_, d)| (i, *d)))
                .min_by(|a, b| a.1.total_cmp(&b.1));
            match (self.pending.peek(), best) {
                (Some(Reverse(Pending(d, _))), b) if b.is_none_or(|(_, bd)| *d <= bd) => {
                    let Some(Reverse(Pending(_, part))) = self.pending.pop() else {
                        unreachable!("peeked")
                    };
                    match part {
                        Part::Group(set, g) => {
                            for c in &set.cells[g.cells.clone()] {
                                if let Some(e) = c.env {
                                    let d = e.distance_2(&self.q);
                                    self.pending.push(Reverse(Pending(d, Part::Tile(&c.tile))));
                                }
                            }
                        }
                        Part::Tile(kd) => {
                            let walk: NearestFirst<'a> = Box::new(kd.nearest_first(self.q));
                            self.walks.push(walk.peekable());
                        }
                    }
                }
                (_, Some((i, _))) => return self.walks[i].next(),
                (_, None) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::sphere::unit_vector;
    use crate::index::kd::tests::ids as sorted_ids;

    fn points(n: u32) -> Vec<SpherePoint> {
        // A deterministic scatter around a few "cities", with duplicates.
        (0..n)
            .map(|i| {
                let c = (i % 5) as f64;
                let a = (i as f64 * 0.618_033_988_7).fract();
                let b = (i as f64 * 0.414_213_562_3).fract();
                let (lat, lon) = if i % 97 == 0 {
                    (51.5, -0.12)
                } else {
                    (50.0 + c + a * 0.3, -3.0 + c * 0.5 + b * 0.3)
                };
                SpherePoint::new(unit_vector(lat, lon), i)
            })
            .collect()
    }

    /// A build split over threads gives the very cells, in the same order, as on one.
    #[test]
    fn parallel_build_equals_serial() {
        let all = points(3 * PARALLEL_MIN as u32);
        let cells = |threads| {
            let mut cells = Vec::new();
            let inf = [f64::INFINITY; 3];
            split_on(all.clone(), inf.map(|x| -x), inf, &mut cells, threads);
            cells
                .iter()
                .map(|c| (c.lo, c.hi, c.tile.iter().map(|p| p.data).collect()))
                .collect::<Vec<([f64; 3], [f64; 3], Vec<u32>)>>()
        };
        let serial = cells(1);
        assert!(serial.len() > 8);
        assert_eq!(cells(2), serial);
        assert_eq!(cells(3), serial);
    }

    #[test]
    fn queries_and_changes_agree_with_brute_force() {
        let all = points(20_000);
        let tiles = Tiles::build(all.clone());
        assert!(tiles.tile_count() > 4);
        assert_eq!(tiles.len(), all.len());
        let q = unit_vector(51.1, -2.4);
        let r2 = 1e-4;
        let brute = |pts: &[SpherePoint]| {
            let mut v: Vec<u32> = pts
                .iter()
                .filter(|p| (0..3).map(|k| (p.geom()[k] - q[k]).powi(2)).sum::<f64>() <= r2)
                .map(|p| p.data)
                .collect();
            v.sort_unstable();
            v
        };
        assert_eq!(sorted_ids(tiles.locate_within_distance(q, r2)), brute(&all));

        // Move a few, remove some, add many at one place (a split).
        let removed: Vec<SpherePoint> = all.iter().step_by(7).copied().collect();
        let mut added: Vec<SpherePoint> = (0..9000)
            .map(|i| SpherePoint::new(unit_vector(51.1, -2.4), 100_000 + i))
            .collect();
        added.extend(
            removed
                .iter()
                .take(50)
                .map(|p| SpherePoint::new(unit_vector(52.0, -1.0), p.data)),
        );
        let changed = tiles.with_changes(&removed, &added);
        let mut now: Vec<SpherePoint> = all
            .iter()
            .filter(|p| !removed.iter().any(|r| r.data == p.data))
            .copied()
            .collect();
        now.extend(added.iter().copied());
        assert_eq!(changed.len(), now.len());
        assert_eq!(sorted_ids(changed.iter()), sorted_ids(now.iter()));
        assert_eq!(
            sorted_ids(changed.locate_within_distance(q, r2)),
            brute(&now)
        );
        // The original is unchanged.
        assert_eq!(sorted_ids(tiles.locate_within_distance(q, r2)), brute(&all));

        // Counted and visited: every point within, once; the page's candidates complete.
        let (mut counted, mut seen) = (0, Vec::new());
        let bound = r2 * 0.01;
        changed.visit_within(
            q,
            r2,
            r2 * (1.0 - 1e-8),
            &mut || bound,
            &mut |p, d2| {
                assert!(d2 <= r2);
                seen.push((p.data, d2))
            },
            &mut |n| counted += n,
        );
        assert_eq!(counted + seen.len(), brute(&now).len());
        let mut near: Vec<u32> = brute(&now)
            .into_iter()
            .filter(|i| {
                let p = now.iter().find(|p| p.data == *i).unwrap();
                (0..3).map(|k| (p.geom()[k] - q[k]).powi(2)).sum::<f64>() <= bound
            })
            .collect();
        near.sort_unstable();
        let mut seen_near: Vec<u32> = seen
            .iter()
            .filter(|(_, d2)| *d2 <= bound)
            .map(|(i, _)| *i)
            .collect();
        seen_near.sort_unstable();
        assert_eq!(seen_near, near);
        assert!(counted > 0, "no subtree was only counted");

        // Nearest first, exactly.
        let q2 = unit_vector(50.7, -2.2);
        let d2 = |p: &SpherePoint| (0..3).map(|k| (p.geom()[k] - q2[k]).powi(2)).sum::<f64>();
        let mut expected: Vec<f64> = now.iter().map(d2).collect();
        expected.sort_by(|a, b| a.total_cmp(b));
        let got: Vec<f64> = changed
            .nearest_neighbor_iter_with_distance_2(&q2)
            .take(3000)
            .map(|(_, d)| d)
            .collect();
        assert_eq!(got, expected[..3000]);
    }
}
