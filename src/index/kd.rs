//! A tile's points in a static k-d tree laid out flat: the points in one vector, ordered
//! so that every node's points are one contiguous run, and the nodes in another, in
//! pre-order. A dense nearby query at a million assets walks a few hundred boxes and
//! points; kept contiguous (two allocations a tile, not one per node) that walk reads
//! memory in order instead of chasing pointers, and a node's count is `end - start`, so a
//! box wholly inside the circle is counted without a look at its points.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use rstar::{Envelope, AABB};

use super::SpherePoint;

/// Points a leaf holds at most (unless they are all at one place).
const LEAF: usize = 32;

pub struct Kd {
    /// In leaf order: node `n` holds `points[n.start..n.end]`.
    points: Vec<SpherePoint>,
    /// Pre-order; node 0 is the root (none when there are no points). A node's left
    /// child is the next node.
    nodes: Vec<Node>,
}

struct Node {
    lo: [f64; 3],
    hi: [f64; 3],
    start: u32,
    end: u32,
    /// The right child's index; 0 for a leaf (the root is nobody's child).
    right: u32,
}

impl Node {
    /// The squared distance from `q` to the box (0 inside it).
    fn near2(&self, q: &[f64; 3]) -> f64 {
        (0..3)
            .map(|k| (self.lo[k] - q[k]).max(q[k] - self.hi[k]).max(0.0).powi(2))
            .sum()
    }

    /// The squared distance from `q` to the box's farthest corner.
    fn far2(&self, q: &[f64; 3]) -> f64 {
        (0..3)
            .map(|k| {
                (q[k] - self.lo[k])
                    .abs()
                    .max((q[k] - self.hi[k]).abs())
                    .powi(2)
            })
            .sum()
    }

    fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    fn is_leaf(&self) -> bool {
        self.right == 0
    }
}

fn distance2(p: &SpherePoint, q: &[f64; 3]) -> f64 {
    let g = p.geom();
    (0..3).map(|k| (g[k] - q[k]).powi(2)).sum()
}

impl Kd {
    pub fn new(points: Vec<SpherePoint>) -> Self {
        let mut kd = Kd {
            nodes: Vec::with_capacity(2 * points.len() / LEAF + 1),
            points,
        };
        if !kd.points.is_empty() {
            kd.split(0, kd.points.len());
        }
        kd
    }

    /// Adds the node of `points[start..end]` and its subtree; returns its index.
    fn split(&mut self, start: usize, end: usize) -> u32 {
        let (mut lo, mut hi) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
        for p in &self.points[start..end] {
            for k in 0..3 {
                lo[k] = lo[k].min(p.geom()[k]);
                hi[k] = hi[k].max(p.geom()[k]);
            }
        }
        let i = self.nodes.len() as u32;
        self.nodes.push(Node {
            lo,
            hi,
            start: start as u32,
            end: end as u32,
            right: 0,
        });
        let axis = (0..3)
            .max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b])))
            .unwrap_or(0);
        // A leaf when small, or when every point is at one place (no split separates them).
        if end - start > LEAF && hi[axis] > lo[axis] {
            let mid = (end - start) / 2;
            self.points[start..end]
                .select_nth_unstable_by(mid, |a, b| a.geom()[axis].total_cmp(&b.geom()[axis]));
            self.split(start, start + mid);
            let right = self.split(start + mid, end);
            self.nodes[i as usize].right = right;
        }
        i
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, SpherePoint> {
        self.points.iter()
    }

    /// The points' envelope; `None` when there are none.
    pub fn envelope(&self) -> Option<AABB<[f64; 3]>> {
        self.nodes.first().map(|n| AABB::from_corners(n.lo, n.hi))
    }

    /// The points within squared chord `r2` of `q` (inclusive, as rstar's).
    pub fn within(&self, q: [f64; 3], r2: f64) -> impl Iterator<Item = &SpherePoint> + '_ {
        Select::new(
            self,
            move |n: &Node| n.near2(&q) <= r2,
            move |p: &SpherePoint| distance2(p, &q) <= r2,
        )
    }

    /// The points in the box `env` (inclusive).
    pub fn in_envelope(&self, env: AABB<[f64; 3]>) -> impl Iterator<Item = &SpherePoint> + '_ {
        Select::new(
            self,
            move |n: &Node| env.intersects(&AABB::from_corners(n.lo, n.hi)),
            move |p: &SpherePoint| env.contains_point(p.geom()),
        )
    }

    /// See [`super::Tiles::visit_within`]. Children are visited nearer first, so that the
    /// page's worst distance shrinks early and more boxes are only counted.
    pub fn visit_within(
        &self,
        q: [f64; 3],
        outer: f64,
        inner: f64,
        worst: &mut dyn FnMut() -> f64,
        point: &mut dyn FnMut(&SpherePoint, f64),
        count: &mut dyn FnMut(usize),
    ) {
        if self.nodes.is_empty() {
            return;
        }
        let mut stack = vec![(0u32, self.nodes[0].near2(&q))];
        while let Some((i, near)) = stack.pop() {
            let n = &self.nodes[i as usize];
            if near > outer {
                continue;
            }
            if near > worst() && n.far2(&q) <= inner {
                count(n.len());
            } else if n.is_leaf() {
                for p in &self.points[n.start as usize..n.end as usize] {
                    let d2 = distance2(p, &q);
                    if d2 <= outer {
                        point(p, d2);
                    }
                }
            } else {
                let (l, r) = (i + 1, n.right);
                let (dl, dr) = (
                    self.nodes[l as usize].near2(&q),
                    self.nodes[r as usize].near2(&q),
                );
                // The nearer child on top of the stack.
                if dl <= dr {
                    stack.extend([(r, dr), (l, dl)]);
                } else {
                    stack.extend([(l, dl), (r, dr)]);
                }
            }
        }
    }

    /// Every point, nearest to `q` first, with its squared chord: a best-first walk of
    /// boxes and points, so points at one distance come one after another.
    pub fn nearest_first(&self, q: [f64; 3]) -> NearestFirst<'_> {
        let mut queue = BinaryHeap::new();
        if let Some(root) = self.nodes.first() {
            queue.push(Reverse(Item(root.near2(&q), Step::Node(0))));
        }
        NearestFirst { kd: self, q, queue }
    }
}

/// The points of a [`Kd`] whose boxes pass `node` and which pass `point`.
struct Select<'a, N, P> {
    kd: &'a Kd,
    node: N,
    point: P,
    stack: Vec<u32>,
    run: std::slice::Iter<'a, SpherePoint>,
}

impl<'a, N: Fn(&Node) -> bool, P: Fn(&SpherePoint) -> bool> Select<'a, N, P> {
    fn new(kd: &'a Kd, node: N, point: P) -> Self {
        let stack = if kd.nodes.is_empty() { vec![] } else { vec![0] };
        Select {
            kd,
            node,
            point,
            stack,
            run: [].iter(),
        }
    }
}

impl<'a, N: Fn(&Node) -> bool, P: Fn(&SpherePoint) -> bool> Iterator for Select<'a, N, P> {
    type Item = &'a SpherePoint;

    fn next(&mut self) -> Option<&'a SpherePoint> {
        loop {
            for p in self.run.by_ref() {
                if (self.point)(p) {
                    return Some(p);
                }
            }
            let i = self.stack.pop()?;
            let n = &self.kd.nodes[i as usize];
            if !(self.node)(n) {
                continue;
            }
            if n.is_leaf() {
                self.run = self.kd.points[n.start as usize..n.end as usize].iter();
            } else {
                self.stack.extend([n.right, i + 1]);
            }
        }
    }
}

/// A box or a point of a best-first walk, by its squared distance.
struct Item(f64, Step);

#[derive(PartialEq, Eq)]
enum Step {
    Node(u32),
    Point(u32),
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    /// By distance; at one distance a point before a box, so a point is given as soon as
    /// nothing can be nearer.
    fn cmp(&self, other: &Self) -> Ordering {
        let rank = |s: &Step| matches!(s, Step::Node(_));
        self.0
            .total_cmp(&other.0)
            .then_with(|| rank(&self.1).cmp(&rank(&other.1)))
    }
}

pub struct NearestFirst<'a> {
    kd: &'a Kd,
    q: [f64; 3],
    queue: BinaryHeap<Reverse<Item>>,
}

impl<'a> Iterator for NearestFirst<'a> {
    type Item = (&'a SpherePoint, f64);

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(Reverse(Item(d2, step))) = self.queue.pop() {
            match step {
                Step::Point(i) => return Some((&self.kd.points[i as usize], d2)),
                Step::Node(i) => {
                    let n = &self.kd.nodes[i as usize];
                    if n.is_leaf() {
                        for j in n.start..n.end {
                            let d = distance2(&self.kd.points[j as usize], &self.q);
                            self.queue.push(Reverse(Item(d, Step::Point(j))));
                        }
                    } else {
                        for c in [i + 1, n.right] {
                            let d = self.kd.nodes[c as usize].near2(&self.q);
                            self.queue.push(Reverse(Item(d, Step::Node(c))));
                        }
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::geo::sphere::unit_vector;

    /// A deterministic scatter with clusters and many points at one place.
    fn points(n: u32) -> Vec<SpherePoint> {
        (0..n)
            .map(|i| {
                let a = (i as f64 * 0.618_033_988_7).fract();
                let b = (i as f64 * 0.414_213_562_3).fract();
                let (lat, lon) = match i % 7 {
                    0 => (51.5, -0.12),
                    1 | 2 => (51.5 + a * 0.01, -0.12 + b * 0.01),
                    _ => (51.0 + a, -1.0 + b),
                };
                SpherePoint::new(unit_vector(lat, lon), i)
            })
            .collect()
    }

    /// The points' indexes, sorted (to compare sets of points).
    pub(in crate::index) fn ids<'a>(it: impl Iterator<Item = &'a SpherePoint>) -> Vec<u32> {
        let mut v: Vec<u32> = it.map(|p| p.data).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn queries_agree_with_brute_force() {
        for n in [0, 1, 5, 16, 17, 300, 4000] {
            let all = points(n);
            let kd = Kd::new(all.clone());
            assert_eq!(kd.len(), all.len());
            assert_eq!(ids(kd.iter()), ids(all.iter()));
            let q0 = unit_vector(51.4, -0.6);
            let mut cases = vec![
                (unit_vector(51.5, -0.12), 1e-12, 0.05),
                (unit_vector(51.5, -0.12), 1e-6, 0.05),
                (q0, 4e-5, 0.05),
            ];
            // Radii and page bounds exactly at points' distances: the edges where the
            // rounded offsets must give way to the exact points.
            for p in all.iter().step_by(97).take(8) {
                cases.push((q0, distance2(p, &q0), 0.3));
            }
            for (q, r2, share) in cases {
                let inside = |p: &&SpherePoint| distance2(p, &q) <= r2;
                assert_eq!(ids(kd.within(q, r2)), ids(all.iter().filter(inside)));

                let env = AABB::from_corners(q.map(|x| x - 3e-3), q.map(|x| x + 3e-3));
                assert_eq!(
                    ids(kd.in_envelope(env)),
                    ids(all.iter().filter(|p| env.contains_point(p.geom())))
                );

                // Counted or visited: every point within once; every point nearer than
                // the bound visited.
                let bound = all
                    .iter()
                    .map(|p| distance2(p, &q))
                    .filter(|d| *d <= r2 * share)
                    .fold(r2 * share * 0.5, f64::max);
                let (mut counted, mut seen) = (0, Vec::new());
                kd.visit_within(
                    q,
                    r2,
                    r2,
                    &mut || bound,
                    &mut |p, d2| {
                        assert_eq!(d2, distance2(p, &q));
                        assert!(d2 <= r2);
                        seen.push(*p)
                    },
                    &mut |k| counted += k,
                );
                assert_eq!(counted + seen.len(), all.iter().filter(inside).count());
                let near = |p: &&SpherePoint| distance2(p, &q) <= bound;
                assert_eq!(ids(seen.iter().filter(near)), ids(all.iter().filter(near)));
                if n == 4000 && r2 == 4e-5 {
                    assert!(counted > 0, "nothing was only counted");
                }

                let mut expected: Vec<f64> = all.iter().map(|p| distance2(p, &q)).collect();
                expected.sort_by(f64::total_cmp);
                let walk: Vec<(&SpherePoint, f64)> = kd.nearest_first(q).collect();
                assert!(walk.iter().all(|(p, d)| *d == distance2(p, &q)));
                assert_eq!(walk.iter().map(|w| w.1).collect::<Vec<_>>(), expected);
                assert_eq!(ids(walk.iter().map(|w| w.0)), ids(all.iter()));
            }
        }
    }
}
