//! Great-circle geometry on a sphere of the mean Earth radius.
//!
//! The R-trees index points as unit vectors in 3-D: the straight-line (chord) distance
//! between two unit vectors grows strictly with the great-circle angle between them, so
//! the tree's nearest-neighbour order *is* the great-circle order, with no projection error
//! anywhere in England or at the poles.

use ::geo::{Distance, Haversine, Point};

/// Mean Earth radius (IUGG), in metres: the radius the haversine distances use.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres by the haversine formula.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    Haversine.distance(Point::new(lon1, lat1), Point::new(lon2, lat2))
}

/// The point on the unit sphere for a WGS84 latitude and longitude in degrees.
pub fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (lat, lon) = (lat.to_radians(), lon.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// The squared chord length between unit vectors `distance_m` apart on the Earth, slightly
/// enlarged so that points exactly at that distance are never lost to rounding.
pub fn chord2_for(distance_m: f64) -> f64 {
    let angle = (distance_m / EARTH_RADIUS_M).min(std::f64::consts::PI);
    let chord = 2.0 * (angle / 2.0).sin();
    chord * chord * (1.0 + 1e-9) + 1e-18
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_uses_the_mean_radius() {
        // A quarter of a meridian: pi/2 * R.
        let d = haversine_m(0.0, 0.0, 90.0, 0.0);
        assert!((d - std::f64::consts::FRAC_PI_2 * EARTH_RADIUS_M).abs() < 1e-6);
        // London to Manchester is about 262 km.
        let d = haversine_m(51.5074, -0.1278, 53.4808, -2.2426);
        assert!((d - 262_000.0).abs() < 2_000.0, "{d}");
    }

    #[test]
    fn chord_order_matches_great_circle_order() {
        let q = unit_vector(52.0, -1.0);
        let chord2 = |p: [f64; 3]| (0..3).map(|i| (p[i] - q[i]).powi(2)).sum::<f64>();
        let a = (52.01, -1.0);
        let b = (52.0, -1.02);
        let (da, db) = (
            haversine_m(52.0, -1.0, a.0, a.1),
            haversine_m(52.0, -1.0, b.0, b.1),
        );
        let (ca, cb) = (chord2(unit_vector(a.0, a.1)), chord2(unit_vector(b.0, b.1)));
        assert_eq!(da < db, ca < cb);
        assert!(ca <= chord2_for(da));
    }
}
