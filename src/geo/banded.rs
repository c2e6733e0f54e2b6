//! Point in polygon with the edges of each ring in horizontal bands, for locating a million
//! points in 33,000 area boundaries at start-up.
//!
//! `geo`'s `MultiPolygon::contains(&Point)` walks every edge of every ring (a winding
//! number with a short cut for points on the boundary). Only the edges whose latitude span
//! includes the point's can change that answer, so each ring keeps its edges in bands of
//! latitude and a query evaluates, with the same rule and the same robust orientation
//! test, only the edges of the point's band: the same answer (boundary points included:
//! a point on an edge or a vertex is not contained), a few edges instead of hundreds.
//! [`Banded`] holds only edge numbers; the coordinates stay in the shape it was built from.

use ::geo::coordinate_position::{coord_pos_relative_to_ring, CoordPos};
use ::geo::{Coord, GeoNum, Kernel, LineString, MultiPolygon, Orientation};

/// Bands a ring gets: about one per this many edges.
const EDGES_PER_BAND: usize = 2;
/// At most this many bands a ring.
const MAX_BANDS: usize = 1 << 16;

/// The band index of a [`MultiPolygon`]: one [`Ring`] per ring, polygon by polygon, exterior
/// first.
#[derive(Clone, Debug, Default)]
pub struct Banded {
    /// Per polygon, its rings (the exterior first).
    polygons: Vec<Vec<Ring>>,
}

/// One ring's edges in bands of latitude. Edge `e` runs from coordinate `e` to `e + 1`.
#[derive(Clone, Debug)]
struct Ring {
    min_y: f64,
    max_y: f64,
    /// Bands per degree of latitude.
    scale: f64,
    /// Where each band's edges start in `edges` (one more entry than bands).
    starts: Vec<u32>,
    edges: Vec<u32>,
}

impl Ring {
    fn new(ring: &LineString<f64>) -> Option<Ring> {
        // Rings of fewer than two positions have no edges: `geo` decides those alone.
        if ring.0.len() < 2 {
            return None;
        }
        let (mut min_y, mut max_y) = (f64::INFINITY, f64::NEG_INFINITY);
        for c in &ring.0 {
            min_y = min_y.min(c.y);
            max_y = max_y.max(c.y);
        }
        // Not finite (cannot be stored, but then the slow path answers alike).
        if !(min_y.is_finite() && max_y.is_finite()) {
            return None;
        }
        let n_edges = ring.0.len() - 1;
        let bands = (n_edges / EDGES_PER_BAND).clamp(1, MAX_BANDS);
        let height = max_y - min_y;
        let scale = if height > 0.0 {
            bands as f64 / height
        } else {
            0.0
        };
        let mut r = Ring {
            min_y,
            max_y,
            scale,
            starts: vec![0; bands + 1],
            edges: Vec::new(),
        };
        let span = |w: &[Coord<f64>]| (r.band(w[0].y.min(w[1].y)), r.band(w[0].y.max(w[1].y)));
        let spans: Vec<(usize, usize)> = ring.0.windows(2).map(span).collect();
        // Counted, then placed: one allocation of the exact size.
        let mut counts = vec![0u32; bands];
        for &(lo, hi) in &spans {
            for c in &mut counts[lo..=hi] {
                *c += 1;
            }
        }
        let mut total = 0u32;
        for (b, c) in counts.iter().enumerate() {
            r.starts[b] = total;
            total += c;
        }
        r.starts[bands] = total;
        let mut next: Vec<u32> = r.starts[..bands].to_vec();
        r.edges = vec![0; total as usize];
        for (e, &(lo, hi)) in spans.iter().enumerate() {
            for n in &mut next[lo..=hi] {
                r.edges[*n as usize] = e as u32;
                *n += 1;
            }
        }
        Some(r)
    }

    /// The band of latitude `y`: monotonic in `y`, so that an edge spanning `y` is listed
    /// in `y`'s band.
    fn band(&self, y: f64) -> usize {
        let b = ((y - self.min_y) * self.scale) as usize; // saturates: below 0 is 0
        b.min(self.starts.len() - 2)
    }

    /// Where `c` is relative to the ring `coords` (the one this was built from): exactly
    /// `geo::coordinate_position::coord_pos_relative_to_ring`, over the edges of `c`'s band.
    fn position(&self, coords: &[Coord<f64>], c: Coord<f64>) -> CoordPos {
        // An edge can only count if its latitude span includes `c.y`.
        if !(c.y >= self.min_y && c.y <= self.max_y) {
            return CoordPos::Outside;
        }
        let b = self.band(c.y);
        let edges = &self.edges[self.starts[b] as usize..self.starts[b + 1] as usize];
        let mut winding = 0i32;
        for &e in edges {
            let (start, end) = (coords[e as usize], coords[e as usize + 1]);
            // The crossing rules of `coord_pos_relative_to_ring`, in its order.
            if start.y <= c.y {
                if end.y >= c.y {
                    let o = <f64 as GeoNum>::Ker::orient2d(start, end, c);
                    if o == Orientation::CounterClockwise && end.y != c.y {
                        winding += 1;
                    } else if o == Orientation::Collinear && between(c.x, start.x, end.x) {
                        return CoordPos::OnBoundary;
                    }
                }
            } else if end.y <= c.y {
                let o = <f64 as GeoNum>::Ker::orient2d(start, end, c);
                if o == Orientation::Clockwise {
                    winding -= 1;
                } else if o == Orientation::Collinear && between(c.x, start.x, end.x) {
                    return CoordPos::OnBoundary;
                }
            }
        }
        if winding == 0 {
            CoordPos::Outside
        } else {
            CoordPos::Inside
        }
    }
}

/// `x` within the closed interval between `a` and `b` (in either order).
fn between(x: f64, a: f64, b: f64) -> bool {
    if a < b {
        x >= a && x <= b
    } else {
        x >= b && x <= a
    }
}

impl Banded {
    /// The bands of `shape`'s rings.
    pub fn new(shape: &MultiPolygon<f64>) -> Banded {
        Banded {
            polygons: shape
                .0
                .iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|r| Ring::new(r).unwrap_or_else(Ring::degenerate))
                        .collect()
                })
                .collect(),
        }
    }

    /// Whether `shape` (the one this was built from) contains `c`: the same answer as
    /// `shape.contains(&Point::from(c))`. A point on a boundary is not contained.
    pub fn contains(&self, shape: &MultiPolygon<f64>, c: Coord<f64>) -> bool {
        shape.0.iter().zip(&self.polygons).any(|(polygon, rings)| {
            // `geo`'s Polygon: inside its exterior, and outside (not on) every hole.
            let mut rings = std::iter::once(polygon.exterior())
                .chain(polygon.interiors())
                .zip(rings);
            let Some((exterior, bands)) = rings.next() else {
                return false;
            };
            position(exterior, bands, c) == CoordPos::Inside
                && rings.all(|(hole, bands)| position(hole, bands, c) == CoordPos::Outside)
        })
    }
}

impl Ring {
    /// A ring without bands: `geo` answers for it.
    fn degenerate() -> Ring {
        Ring {
            min_y: f64::NAN,
            max_y: f64::NAN,
            scale: 0.0,
            starts: Vec::new(),
            edges: Vec::new(),
        }
    }
}

fn position(ring: &LineString<f64>, bands: &Ring, c: Coord<f64>) -> CoordPos {
    if bands.starts.is_empty() {
        coord_pos_relative_to_ring(c, ring)
    } else {
        bands.position(&ring.0, c)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ::geo::{Contains, Point, Polygon};

    /// A small deterministic generator (no dependency): xorshift.
    pub(crate) struct Rng(pub u64);
    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        pub(crate) fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// A star-shaped ring around (cx, cy) with `n` vertices, closed; some vertices snapped
    /// to a coarse grid so that horizontal and vertical edges and shared latitudes occur.
    fn ring(rng: &mut Rng, cx: f64, cy: f64, r: f64, n: usize) -> LineString<f64> {
        let mut coords: Vec<Coord<f64>> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let d = r * (0.3 + 0.7 * rng.unit());
                let mut c = Coord {
                    x: cx + d * a.cos(),
                    y: cy + d * a.sin(),
                };
                if rng.next() % 3 == 0 {
                    c.x = (c.x * 8.0).round() / 8.0;
                    c.y = (c.y * 8.0).round() / 8.0;
                }
                c
            })
            .collect();
        coords.push(coords[0]);
        LineString(coords)
    }

    /// Points to test against a shape: random ones in and around it, every vertex, the
    /// middle of every edge (on the boundary when the middle is exact), points a hair off
    /// vertices, and points on the latitude of every vertex.
    fn probes(rng: &mut Rng, shape: &MultiPolygon<f64>) -> Vec<Coord<f64>> {
        let mut out = Vec::new();
        for p in &shape.0 {
            for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                for w in r.0.windows(2) {
                    out.push(w[0]);
                    out.push(Coord {
                        x: (w[0].x + w[1].x) / 2.0,
                        y: (w[0].y + w[1].y) / 2.0,
                    });
                    out.push(Coord {
                        x: w[0].x + 1e-12,
                        y: w[0].y,
                    });
                    out.push(Coord {
                        x: w[0].x - 0.01,
                        y: w[0].y,
                    });
                    out.push(Coord {
                        x: w[0].x,
                        y: w[0].y - 1e-12,
                    });
                }
            }
        }
        for _ in 0..2000 {
            let x = -3.0 + 6.0 * rng.unit();
            let y = -3.0 + 6.0 * rng.unit();
            out.push(Coord { x, y });
            // On the coarse grid, where snapped vertices and edges lie.
            out.push(Coord {
                x: (x * 8.0).round() / 8.0,
                y: (y * 8.0).round() / 8.0,
            });
        }
        out
    }

    fn check(shape: &MultiPolygon<f64>, rng: &mut Rng) -> (usize, usize) {
        let banded = Banded::new(shape);
        let (mut inside, mut total) = (0, 0);
        for c in probes(rng, shape) {
            let expected = shape.contains(&Point::from(c));
            assert_eq!(banded.contains(shape, c), expected, "at {c:?} in {shape:?}");
            inside += expected as usize;
            total += 1;
        }
        (inside, total)
    }

    #[test]
    fn equals_geo_contains_on_random_polygons_with_holes() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut inside, mut total) = (0, 0);
        for case in 0..300 {
            let n = 3 + (rng.next() % 200) as usize;
            let exterior = ring(&mut rng, 0.0, 0.0, 2.0, n);
            let holes = (0..case % 3)
                .map(|h| ring(&mut rng, -0.4 + 0.8 * h as f64, 0.1, 0.35, 5 + h * 7))
                .collect();
            let mut polygons = vec![Polygon::new(exterior, holes)];
            if case % 4 == 0 {
                // A second polygon that may touch or overlap the first.
                polygons.push(Polygon::new(ring(&mut rng, 1.5, 1.5, 1.0, 12), vec![]));
            }
            let (i, t) = check(&MultiPolygon(polygons), &mut rng);
            inside += i;
            total += t;
        }
        // The probes exercise both answers.
        assert!(
            inside > total / 10 && inside < total * 9 / 10,
            "{inside} of {total}"
        );
    }

    #[test]
    fn equals_geo_contains_on_axis_aligned_and_degenerate_rings() {
        let mut rng = Rng(7);
        let square = |x0: f64, y0: f64, s: f64| {
            LineString::from(vec![
                (x0, y0),
                (x0 + s, y0),
                (x0 + s, y0 + s),
                (x0, y0 + s),
                (x0, y0),
            ])
        };
        let shapes = vec![
            MultiPolygon(vec![Polygon::new(square(0.0, 0.0, 1.0), vec![])]),
            // A hole sharing an edge with the exterior.
            MultiPolygon(vec![Polygon::new(
                square(0.0, 0.0, 1.0),
                vec![square(0.0, 0.0, 0.5)],
            )]),
            // Two squares sharing an edge.
            MultiPolygon(vec![
                Polygon::new(square(0.0, 0.0, 1.0), vec![]),
                Polygon::new(square(1.0, 0.0, 1.0), vec![]),
            ]),
            // Flat: every vertex on one latitude.
            MultiPolygon(vec![Polygon::new(
                LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (0.0, 0.0)]),
                vec![],
            )]),
            // A single position, and none.
            MultiPolygon(vec![Polygon::new(
                LineString::from(vec![(0.5, 0.5)]),
                vec![],
            )]),
            MultiPolygon(vec![Polygon::new(LineString(vec![]), vec![])]),
            MultiPolygon(vec![]),
        ];
        for shape in &shapes {
            check(shape, &mut rng);
        }
    }
}
