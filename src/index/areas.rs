//! The in-memory area set: representative points and boundaries with R-trees, so that an
//! asset finds its area and a report finds areas near a point without scanning.

use ::geo::{BoundingRect, Contains, MultiPolygon, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;
use std::collections::HashMap;

use super::SpherePoint;
use crate::domain::{Area, AreaSetInfo};
use crate::geo::boundary;
use crate::geo::sphere::{chord2_for, haversine_m, unit_vector};

type Envelope = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// The active vintage's areas, sorted by code.
pub struct AreaSet {
    pub info: AreaSetInfo,
    areas: Vec<Area>,
    shapes: Vec<Option<MultiPolygon<f64>>>,
    by_code: HashMap<String, u32>,
    points: RTree<SpherePoint>,
    envelopes: RTree<Envelope>,
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
        let envelopes = shapes
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let r = s.as_ref()?.bounding_rect()?;
                let rect = Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                Some(Envelope::new(rect, i as u32))
            })
            .collect();
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
            points: RTree::bulk_load(points),
            envelopes: RTree::bulk_load(envelopes),
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
        self.envelopes.size() > 0
    }

    /// The area's boundary as GeoJSON, when one was imported.
    pub fn boundary_geojson(&self, idx: u32) -> Option<String> {
        self.shapes[idx as usize].as_ref().map(boundary::to_geojson)
    }

    /// The area containing a point: by point in polygon over the boundaries (envelopes in
    /// an R-tree), or, with no boundaries, the area whose representative point is nearest.
    /// With boundaries, a point outside every polygon (offshore, beyond the generalised
    /// coastline, another nation) has no area.
    pub fn locate(&self, lat: f64, lon: f64) -> Option<u32> {
        if self.has_boundaries() {
            let p = Point::new(lon, lat);
            let mut found: Option<u32> = None;
            for env in self.envelopes.locate_all_at_point(&[lon, lat]) {
                let i = env.data;
                let inside = self.shapes[i as usize]
                    .as_ref()
                    .is_some_and(|s| s.contains(&p));
                // Boundaries should not overlap; if they do, the lowest code wins, so the
                // answer never depends on the tree's order.
                if inside && found.is_none_or(|f| i < f) {
                    found = Some(i);
                }
            }
            found
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
