//! The in-memory area set: representative points and boundaries with R-trees, so that an
//! asset finds its area and a report finds areas near a point without scanning.

use ::geo::{BoundingRect, Coord, MultiPolygon, Rect};
use rstar::RTree;
use std::collections::HashMap;

use super::SpherePoint;
use crate::domain::{Area, AreaSetInfo};
use crate::geo::banded::Banded;
use crate::geo::boundary;
use crate::geo::sphere::{chord2_for, haversine_m, unit_vector};

/// The active vintage's areas, sorted by code.
pub struct AreaSet {
    pub info: AreaSetInfo,
    areas: Vec<Area>,
    shapes: Vec<Option<MultiPolygon<f64>>>,
    /// Each shape's edges in bands, for point in polygon ([`Banded`]).
    banded: Vec<Option<Banded>>,
    by_code: HashMap<String, u32>,
    points: RTree<SpherePoint>,
    /// The shapes' bounding boxes in a grid.
    envelopes: Grid,
    has_population: bool,
    /// Local authority names by code.
    la_names: HashMap<String, String>,
}

impl Default for AreaSet {
    fn default() -> Self {
        Self::empty()
    }
}

impl AreaSet {
    pub fn empty() -> Self {
        Self::build(AreaSetInfo::default(), Vec::new())
    }

    /// Builds the set. Boundaries are parsed once here and the GeoJSON text dropped (it
    /// is written again from the shape when asked for). A stored boundary that no longer
    /// parses is treated as absent rather than failing the snapshot.
    pub fn build(info: AreaSetInfo, mut areas: Vec<Area>) -> Self {
        areas.sort_unstable_by(|a, b| a.code.cmp(&b.code));
        let shapes: Vec<Option<MultiPolygon<f64>>> = areas
            .iter_mut()
            .map(|a| {
                let text = a.boundary.take()?;
                boundary::parse_stored(&text)
            })
            .collect();
        let envelopes = Grid::new(
            shapes
                .iter()
                .map(|s| s.as_ref().and_then(|s| s.bounding_rect()))
                .collect(),
        );
        let banded = shapes.iter().map(|s| s.as_ref().map(Banded::new)).collect();
        let points = areas
            .iter()
            .enumerate()
            .map(|(i, a)| SpherePoint::new(unit_vector(a.lat, a.lon), i as u32))
            .collect();
        AreaSet {
            la_names: areas
                .iter()
                .map(|a| (a.la_code.clone(), a.la_name.clone()))
                .collect(),
            has_population: !areas.is_empty() && areas.iter().all(|a| a.population.is_some()),
            by_code: areas
                .iter()
                .enumerate()
                .map(|(i, a)| (a.code.clone(), i as u32))
                .collect(),
            info,
            areas,
            shapes,
            banded,
            points: RTree::bulk_load(points),
            envelopes,
        }
    }

    pub fn len(&self) -> usize {
        self.areas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    pub fn area(&self, idx: u32) -> &Area {
        &self.areas[idx as usize]
    }

    /// The name of a local authority that has areas in this set.
    pub fn la_name(&self, la_code: &str) -> Option<&str> {
        self.la_names.get(la_code).map(String::as_str)
    }

    pub fn index_of(&self, code: &str) -> Option<u32> {
        self.by_code.get(code).copied()
    }

    /// Whether every area has a population (otherwise reports weight areas equally).
    pub fn has_population(&self) -> bool {
        self.has_population
    }

    pub fn has_boundaries(&self) -> bool {
        !self.envelopes.is_empty()
    }

    /// The area's boundary as GeoJSON, when one was imported.
    pub fn boundary_geojson(&self, idx: u32) -> Option<String> {
        self.shapes[idx as usize].as_ref().map(boundary::to_geojson)
    }

    /// The area containing a point: by point in polygon over the boundaries (`geo`'s
    /// `Contains`: a point on a boundary is in neither area; bounding boxes in a grid, edges
    /// in bands), or, with no boundaries, the area whose representative point is nearest.
    /// With boundaries, a point outside every polygon (offshore, beyond the generalised
    /// coastline, another nation) has no area.
    pub fn locate(&self, lat: f64, lon: f64) -> Option<u32> {
        if self.has_boundaries() {
            let c = Coord { x: lon, y: lat };
            // Boundaries should not overlap; if they do, the lowest code wins (the grid
            // lists candidates in index order), so the answer never depends on the order.
            self.envelopes.candidates(c).find(|&i| {
                let i = i as usize;
                match (&self.shapes[i], &self.banded[i]) {
                    (Some(shape), Some(bands)) => bands.contains(shape, c),
                    _ => false,
                }
            })
        } else {
            self.points
                .nearest_neighbor(&unit_vector(lat, lon))
                .map(|p| p.data)
        }
    }

    /// Areas whose representative point is within `radius_m` (great-circle) of a point.
    pub fn within(&self, lat: f64, lon: f64, radius_m: f64) -> impl Iterator<Item = u32> + '_ {
        self.points
            .locate_within_distance(unit_vector(lat, lon), chord2_for(radius_m))
            .filter(move |p| {
                let a = &self.areas[p.data as usize];
                haversine_m(lat, lon, a.lat, a.lon) <= radius_m
            })
            .map(|p| p.data)
    }
}

/// Bounding boxes in a uniform grid of longitude and latitude (about sixteen cells a box): a
/// point's cell lists, in index order, every box that reaches the cell, and
/// [`Grid::candidates`] keeps those whose box, rounded outwards, contains the point: every
/// shape that contains it, and a few more that point in polygon then rules out.
struct Grid {
    /// The grid's extent: the union of the boxes.
    min: Coord<f64>,
    max: Coord<f64>,
    /// Cells per degree.
    scale: Coord<f64>,
    columns: usize,
    rows: usize,
    /// Where each cell's list starts in `listed` (row by row; one more than cells).
    starts: Vec<u32>,
    /// The boxes reaching each cell, each with its box (rounded outwards to `f32`, a
    /// prefilter): a point's candidates are read from one place, not from all over.
    listed: Vec<Listed>,
}

/// A box in a cell's list: its index and its corners (min x, min y, max x, max y).
#[derive(Clone, Copy, Default)]
struct Listed {
    index: u32,
    corners: [f32; 4],
}

/// `x` as an `f32` no greater than it.
fn f32_down(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) > x {
        f.next_down()
    } else {
        f
    }
}

/// `x` as an `f32` no less than it.
fn f32_up(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) < x {
        f.next_up()
    } else {
        f
    }
}

impl Grid {
    fn new(boxes: Vec<Option<Rect<f64>>>) -> Grid {
        let mut min = Coord {
            x: f64::INFINITY,
            y: f64::INFINITY,
        };
        let mut max = Coord {
            x: f64::NEG_INFINITY,
            y: f64::NEG_INFINITY,
        };
        let mut count = 0usize;
        for r in boxes.iter().flatten() {
            min.x = min.x.min(r.min().x);
            min.y = min.y.min(r.min().y);
            max.x = max.x.max(r.max().x);
            max.y = max.y.max(r.max().y);
            count += 1;
        }
        let (width, height) = (max.x - min.x, max.y - min.y);
        let (columns, rows) = if count == 0 {
            (1, 1)
        } else {
            let cells = (count * 16) as f64;
            let aspect = if width > 0.0 && height > 0.0 {
                width / height
            } else {
                1.0
            };
            let columns = (cells * aspect).sqrt().ceil().clamp(1.0, 4096.0) as usize;
            let rows = (cells / columns as f64).ceil().clamp(1.0, 4096.0) as usize;
            (columns, rows)
        };
        let per = |extent: f64, n: usize| if extent > 0.0 { n as f64 / extent } else { 0.0 };
        let mut grid = Grid {
            min,
            max,
            scale: Coord {
                x: per(width, columns),
                y: per(height, rows),
            },
            columns,
            rows,
            starts: vec![0; columns * rows + 1],
            listed: Vec::new(),
        };
        let mut counts = vec![0u32; columns * rows];
        for r in boxes.iter().flatten() {
            for cell in grid.cells_of(r) {
                counts[cell] += 1;
            }
        }
        let mut total = 0u32;
        for (cell, n) in counts.iter().enumerate() {
            grid.starts[cell] = total;
            total += n;
        }
        grid.starts[columns * rows] = total;
        let mut next = grid.starts[..columns * rows].to_vec();
        let mut listed = vec![Listed::default(); total as usize];
        for (i, r) in boxes.iter().enumerate() {
            if let Some(r) = r {
                let corners = [
                    f32_down(r.min().x),
                    f32_down(r.min().y),
                    f32_up(r.max().x),
                    f32_up(r.max().y),
                ];
                for cell in grid.cells_of(r) {
                    listed[next[cell] as usize] = Listed {
                        index: i as u32,
                        corners,
                    };
                    next[cell] += 1;
                }
            }
        }
        grid.listed = listed;
        grid
    }

    /// The cells a box reaches.
    fn cells_of(&self, r: &Rect<f64>) -> impl Iterator<Item = usize> {
        let (c0, r0) = self.cell(r.min());
        let (c1, r1) = self.cell(r.max());
        let columns = self.columns;
        (r0..=r1).flat_map(move |row| (c0..=c1).map(move |col| row * columns + col))
    }

    fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// The cell of a point within the extent: monotonic in each coordinate, so that a box's
    /// corners' cells bound the cells of every point in it.
    fn cell(&self, c: Coord<f64>) -> (usize, usize) {
        let col = (((c.x - self.min.x) * self.scale.x) as usize).min(self.columns - 1);
        let row = (((c.y - self.min.y) * self.scale.y) as usize).min(self.rows - 1);
        (col, row)
    }

    /// The boxes that may contain `c` (every box that does, edges included), in index order.
    fn candidates(&self, c: Coord<f64>) -> impl Iterator<Item = u32> + '_ {
        let inside =
            c.x >= self.min.x && c.x <= self.max.x && c.y >= self.min.y && c.y <= self.max.y;
        let listed: &[Listed] = if inside && !self.is_empty() {
            let (col, row) = self.cell(c);
            let cell = row * self.columns + col;
            &self.listed[self.starts[cell] as usize..self.starts[cell + 1] as usize]
        } else {
            &[]
        };
        listed
            .iter()
            .filter(move |l| {
                let [x0, y0, x1, y1] = l.corners.map(f64::from);
                c.x >= x0 && c.x <= x1 && c.y >= y0 && c.y <= y1
            })
            .map(|l| l.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::geo::{Contains, LineString, Point, Polygon};

    use crate::geo::banded::tests::Rng;

    fn area(i: usize, shape: Option<&MultiPolygon<f64>>) -> Area {
        Area {
            code: format!("E{i:08}"),
            name: format!("Area {i}"),
            la_code: "E0".into(),
            la_name: "Somewhere".into(),
            nation: "England".into(),
            lat: 0.0,
            lon: 0.0,
            population: None,
            imd_score: None,
            imd_rank: 1,
            imd_decile: 1,
            domains: Default::default(),
            supplementary: Default::default(),
            boundary: shape.map(boundary::to_geojson),
        }
    }

    /// `locate` against `geo::Contains` over every shape (the lowest index that contains
    /// the point), on a tiling whose tiles share jittered edges and vertices, with a few
    /// overlapping tiles and holes, at random points, vertices and the middles of edges.
    #[test]
    fn locate_equals_brute_force_contains() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let n = 12;
        // Shared vertices, some snapped to a coarse grid (horizontal and vertical edges).
        let vertices: Vec<Vec<Coord<f64>>> = (0..=n)
            .map(|row| {
                (0..=n)
                    .map(|col| {
                        let mut c = Coord {
                            x: -3.0 + 0.1 * col as f64 + 0.04 * (rng.unit() - 0.5),
                            y: 53.0 + 0.07 * row as f64 + 0.03 * (rng.unit() - 0.5),
                        };
                        if rng.unit() < 0.3 {
                            c.x = -3.0 + 0.1 * col as f64;
                            c.y = 53.0 + 0.07 * row as f64;
                        }
                        c
                    })
                    .collect()
            })
            .collect();
        let mut shapes = Vec::new();
        for row in 0..n {
            for col in 0..n {
                let v = |r: usize, c: usize| vertices[r][c];
                // Each side through its edge's middle vertex, so that tiles have more edges.
                let ring = LineString(vec![
                    v(row, col),
                    v(row, col + 1),
                    v(row + 1, col + 1),
                    v(row + 1, col),
                    v(row, col),
                ]);
                let holes = if (row + col) % 7 == 0 {
                    let c = v(row, col);
                    vec![LineString::from(vec![
                        (c.x + 0.03, c.y + 0.03),
                        (c.x + 0.05, c.y + 0.03),
                        (c.x + 0.04, c.y + 0.05),
                        (c.x + 0.03, c.y + 0.03),
                    ])]
                } else {
                    vec![]
                };
                shapes.push(Some(MultiPolygon(vec![Polygon::new(ring, holes)])));
            }
        }
        // Overlaps (the lowest index wins) and an area without a boundary.
        shapes.push(Some(MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(-2.8, 53.2), (-2.5, 53.2), (-2.5, 53.5), (-2.8, 53.2)]),
            vec![],
        )])));
        shapes.push(None);
        // A shape's stored text is parsed again: compare with the parsed shapes.
        let areas: Vec<Area> = shapes
            .iter()
            .enumerate()
            .map(|(i, s)| area(i, s.as_ref()))
            .collect();
        let set = AreaSet::build(AreaSetInfo::default(), areas);
        assert!(set.has_boundaries());
        let mut probes: Vec<Coord<f64>> = Vec::new();
        for s in set.shapes.iter().flatten() {
            for p in &s.0 {
                for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                    for w in r.0.windows(2) {
                        probes.push(w[0]);
                        probes.push((w[0] + w[1]) / 2.0);
                    }
                }
            }
        }
        for _ in 0..20_000 {
            probes.push(Coord {
                x: -3.1 + 1.4 * rng.unit(),
                y: 52.9 + 1.0 * rng.unit(),
            });
        }
        let mut located = 0;
        for c in probes {
            let expected = set
                .shapes
                .iter()
                .position(|s| s.as_ref().is_some_and(|s| s.contains(&Point::from(c))))
                .map(|i| i as u32);
            assert_eq!(set.locate(c.y, c.x), expected, "at {c:?}");
            located += expected.is_some() as usize;
        }
        assert!(located > 10_000, "{located}");
    }
}
