//! British National Grid (OSGB36, EPSG:27700) to WGS84 latitude/longitude, std only.
//!
//! The official transformation (OSTN15) needs a 15 MB shift grid; instead this follows
//! the Ordnance Survey's "A guide to coordinate systems in Great Britain": inverse
//! Transverse Mercator on the Airy 1830 ellipsoid, then the OS 7-parameter Helmert
//! OSGB36 -> ETRS89 (which equals WGS84 to well under a metre here).
//!
//! The Helmert alone is off OSTN15 by up to 4.8 m in England (Scilly, Cornwall) and
//! 5.1 m in Great Britain, because OSGB36 has distortions no similarity transform can
//! follow. So a cubic polynomial in easting/northing (`CORR_NORTH`, `CORR_EAST`) is
//! added, fitted by least squares to the OSTN15 differences at 5 km nodes over the
//! area of the OS Landranger sheets (England weighted threefold). Checked against
//! OSTN15 on a 2 km grid, the result is within 1.7 m everywhere in England and Great
//! Britain (RMS 0.5 m in England). Far out at sea in the grid's corners the polynomial
//! extrapolates and can be up to 7 m out.

/// Airy 1830 semi-major and semi-minor axes (m), the OSGB36 ellipsoid.
const AIRY_A: f64 = 6_377_563.396;
const AIRY_B: f64 = 6_356_256.909;
/// GRS80 semi-major axis (m) and flattening, the ETRS89 ellipsoid (WGS84 differs by < 0.1 mm).
const GRS80_A: f64 = 6_378_137.0;
const GRS80_F: f64 = 1.0 / 298.257_222_101;

/// National Grid projection: scale on the central meridian, true origin, false origin.
const F0: f64 = 0.999_601_271_7;
const LAT0_DEG: f64 = 49.0;
const LON0_DEG: f64 = -2.0;
const E0: f64 = 400_000.0;
const N0: f64 = -100_000.0;

/// OS Helmert OSGB36 -> ETRS89: translations (m), scale (ppm), rotations (arc-seconds).
const TX: f64 = 446.448;
const TY: f64 = -125.157;
const TZ: f64 = 542.060;
const S_PPM: f64 = -20.4894;
const RX_SEC: f64 = 0.1502;
const RY_SEC: f64 = 0.2470;
const RZ_SEC: f64 = 0.8421;

/// Residual correction (metres north / east) after the Helmert, as a polynomial in
/// x = (E - 400 km) / 300 km and y = (N - 600 km) / 600 km with terms x^i y^j for
/// i = 0..=3, j = 0..=3-i in that order. See the module doc for how it was fitted.
const CORR_NORTH: [f64; 10] = [
    0.6131, -5.0438, -1.8750, 8.4494, 1.2704, 0.8929, -1.7313, 0.1374, -1.9345, 0.0432,
];
const CORR_EAST: [f64; 10] = [
    -0.3677, -1.1412, 0.1455, 0.5699, -1.4784, -2.1626, 5.8203, 0.6663, 0.1945, -0.0676,
];
/// Radius (m) turning the metric correction into degrees; its error is far below 1 cm.
const CORR_RADIUS: f64 = 6_371_008.8;

/// Converts a British National Grid easting/northing (metres) to WGS84 (lat, lon) degrees.
pub fn bng_to_wgs84(easting: f64, northing: f64) -> (f64, f64) {
    let (lat, lon) = osgb36_from_grid(easting, northing);
    let (lat, lon) = helmert_osgb36_to_etrs89(lat, lon);
    let (north, east) = correction(easting, northing);
    let lat_deg = lat.to_degrees() + (north / CORR_RADIUS).to_degrees();
    let lon_deg = lon.to_degrees() + (east / (CORR_RADIUS * lat.cos())).to_degrees();
    (lat_deg, lon_deg)
}

/// Whether an easting/northing pair lies in the National Grid's extent (0..=700_000, 0..=1_300_000).
pub fn in_grid(easting: f64, northing: f64) -> bool {
    (0.0..=700_000.0).contains(&easting) && (0.0..=1_300_000.0).contains(&northing)
}

/// Meridional arc from the true origin's latitude to `lat` (OS guide eq. C3), in metres.
fn meridional_arc(lat: f64) -> f64 {
    let n = (AIRY_A - AIRY_B) / (AIRY_A + AIRY_B);
    let (n2, n3) = (n * n, n * n * n);
    let lat0 = LAT0_DEG.to_radians();
    let (d, s) = (lat - lat0, lat + lat0);
    AIRY_B
        * F0
        * ((1.0 + n + 1.25 * n2 + 1.25 * n3) * d
            - (3.0 * n + 3.0 * n2 + 21.0 / 8.0 * n3) * d.sin() * s.cos()
            + (15.0 / 8.0 * (n2 + n3)) * (2.0 * d).sin() * (2.0 * s).cos()
            - (35.0 / 24.0 * n3) * (3.0 * d).sin() * (3.0 * s).cos())
}

/// Inverse Transverse Mercator: grid easting/northing to OSGB36 (lat, lon) in radians
/// (OS guide eqs. C6-C9).
fn osgb36_from_grid(easting: f64, northing: f64) -> (f64, f64) {
    let e2 = 1.0 - (AIRY_B * AIRY_B) / (AIRY_A * AIRY_A);
    // Iterate for the footpoint latitude until the meridional arc matches to 0.01 mm; the
    // cap only matters for non-finite input, which would otherwise never converge.
    let mut lat = LAT0_DEG.to_radians();
    let mut m = 0.0;
    for _ in 0..100 {
        lat += (northing - N0 - m) / (AIRY_A * F0);
        m = meridional_arc(lat);
        if (northing - N0 - m).abs() < 1e-5 {
            break;
        }
    }
    let (sin, cos, tan) = (lat.sin(), lat.cos(), lat.tan());
    let (t2, t4) = (tan * tan, tan.powi(4));
    let w = 1.0 - e2 * sin * sin;
    let nu = AIRY_A * F0 / w.sqrt();
    let rho = AIRY_A * F0 * (1.0 - e2) / w.powf(1.5);
    let eta2 = nu / rho - 1.0;

    let vii = tan / (2.0 * rho * nu);
    let viii = tan / (24.0 * rho * nu.powi(3)) * (5.0 + 3.0 * t2 + eta2 - 9.0 * t2 * eta2);
    let ix = tan / (720.0 * rho * nu.powi(5)) * (61.0 + 90.0 * t2 + 45.0 * t4);
    let x = 1.0 / (cos * nu);
    let xi = 1.0 / (cos * 6.0 * nu.powi(3)) * (nu / rho + 2.0 * t2);
    let xii = 1.0 / (cos * 120.0 * nu.powi(5)) * (5.0 + 28.0 * t2 + 24.0 * t4);
    let xiia =
        1.0 / (cos * 5040.0 * nu.powi(7)) * (61.0 + 662.0 * t2 + 1320.0 * t4 + 720.0 * t2 * t4);

    let de = easting - E0;
    let phi = lat - vii * de.powi(2) + viii * de.powi(4) - ix * de.powi(6);
    let lambda =
        LON0_DEG.to_radians() + x * de - xi * de.powi(3) + xii * de.powi(5) - xiia * de.powi(7);
    (phi, lambda)
}

/// OSGB36 geodetic (radians, height 0) -> cartesian -> Helmert -> ETRS89 geodetic (radians).
fn helmert_osgb36_to_etrs89(lat: f64, lon: f64) -> (f64, f64) {
    let e2 = 1.0 - (AIRY_B * AIRY_B) / (AIRY_A * AIRY_A);
    let nu = AIRY_A / (1.0 - e2 * lat.sin().powi(2)).sqrt();
    let x = nu * lat.cos() * lon.cos();
    let y = nu * lat.cos() * lon.sin();
    let z = (1.0 - e2) * nu * lat.sin();

    let s = 1.0 + S_PPM * 1e-6;
    let [rx, ry, rz] = [RX_SEC, RY_SEC, RZ_SEC].map(|r| (r / 3600.0).to_radians());
    let x2 = TX + s * x - rz * y + ry * z;
    let y2 = TY + rz * x + s * y - rx * z;
    let z2 = TZ - ry * x + rx * y + s * z;

    let e2 = GRS80_F * (2.0 - GRS80_F);
    let p = x2.hypot(y2);
    let mut phi = z2.atan2(p * (1.0 - e2));
    for _ in 0..10 {
        let nu = GRS80_A / (1.0 - e2 * phi.sin().powi(2)).sqrt();
        phi = (z2 + e2 * nu * phi.sin()).atan2(p);
    }
    (phi, y2.atan2(x2))
}

/// The fitted residual correction (metres north, metres east) at a grid position.
/// Coordinates are clamped to the grid so points outside it cannot extrapolate wildly.
fn correction(easting: f64, northing: f64) -> (f64, f64) {
    let x = ((easting - 400_000.0) / 300_000.0).clamp(-4.0 / 3.0, 1.0);
    let y = ((northing - 600_000.0) / 600_000.0).clamp(-1.0, 7.0 / 6.0);
    let (mut north, mut east, mut k) = (0.0, 0.0, 0);
    for i in 0..=3 {
        for j in 0..=(3 - i) {
            let term = x.powi(i) * y.powi(j);
            north += CORR_NORTH[k] * term;
            east += CORR_EAST[k] * term;
            k += 1;
        }
    }
    (north, east)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Great-circle distance in metres (haversine, mean Earth radius).
    fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
        let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
        let dp = p2 - p1;
        let dl = (b.1 - a.1).to_radians();
        let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * 6_371_008.8 * h.sqrt().asin()
    }

    /// Ordnance Survey's official OSTN15 test points TP01-TP40 from the OSTN15/OSGM15
    /// developer pack: ETRS89 latitude/longitude from `OSTN15_OSGM15_TestInput_ETRStoOSGB.txt`
    /// with the OSGB36 easting/northing OS gives for them in
    /// `OSTN15_OSGM15_TestOutput_ETRStoOSGB.txt` (the `..._OSGBtoETRS` files map these
    /// back to within millimetres). Values as reproduced in public test suites, e.g.
    /// thruston/grid-banger (osgb) and the R package `sgs`, which agree digit for digit.
    /// Contains OS data (c) Crown copyright and database rights 2016.
    ///
    /// (id, in England, easting, northing, latitude, longitude)
    #[rustfmt::skip]
    const OS_TEST_POINTS: [(&str, bool, f64, f64, f64, f64); 40] = [
        ("TP01", true, 91492.146, 11318.804, 49.92226393730, -6.29977752014),
        ("TP02", true, 170370.718, 11572.405, 49.96006137820, -5.20304609998),
        ("TP03", true, 250359.811, 62016.569, 50.43885825610, -4.10864563561),
        ("TP04", true, 449816.371, 75335.861, 50.57563665000, -1.29782277240),
        ("TP05", true, 438710.920, 114792.250, 50.93127937910, -1.45051433700),
        ("TP06", false, 292184.870, 168003.465, 51.40078220140, -3.55128349240),
        ("TP07", true, 639821.835, 169565.858, 51.37447025550, 1.44454730409),
        ("TP08", true, 362269.991, 169978.690, 51.42754743020, -2.54407618349),
        ("TP09", true, 530624.974, 178388.464, 51.48936564950, -0.11992557180),
        ("TP10", false, 241124.584, 220332.641, 51.85890896400, -4.30852476960),
        ("TP11", true, 599445.590, 225722.826, 51.89436637350, 0.89724327012),
        ("TP12", true, 389544.190, 261912.153, 52.25529381630, -2.15458614387),
        ("TP13", true, 474335.969, 262047.755, 52.25160951230, -0.91248956970),
        ("TP14", true, 562180.547, 319784.995, 52.75136687170, 0.40153547065),
        ("TP15", true, 454002.834, 340834.943, 52.96219109410, -1.19747655922),
        ("TP16", true, 357455.843, 383290.436, 53.34480280190, -2.64049320810),
        ("TP17", false, 247958.971, 393492.909, 53.41628516040, -4.28918069756),
        ("TP18", false, 247959.241, 393495.583, 53.41630925420, -4.28917792869),
        ("TP19", true, 331534.564, 431920.794, 53.77911025760, -3.04045490691),
        ("TP20", true, 422242.186, 433818.701, 53.80021519630, -1.66379168242),
        ("TP21", false, 227778.330, 468847.388, 54.08666318080, -4.63452168212),
        ("TP22", true, 525745.670, 470703.214, 54.11685144290, -0.07773133187),
        ("TP23", false, 244780.636, 495254.887, 54.32919541010, -4.38849118133),
        ("TP24", true, 339921.145, 556034.761, 54.89542340420, -2.93827741149),
        ("TP25", true, 424639.355, 565012.703, 54.97912273660, -1.61657685184),
        ("TP26", false, 256340.925, 664697.269, 55.85399952950, -4.29649016251),
        ("TP27", false, 319188.434, 670947.534, 55.92478265510, -3.29479219337),
        ("TP28", false, 167634.202, 797067.144, 57.00606696050, -5.82836691850),
        ("TP29", false, 397160.491, 805349.736, 57.13902518960, -2.04856030746),
        ("TP30", false, 267056.768, 846176.972, 57.48625000720, -4.21926398555),
        ("TP31", false, 9587.909, 899448.996, 57.81351838410, -8.57854456076),
        ("TP32", false, 71713.132, 938516.404, 58.21262247180, -7.59255560556),
        ("TP33", false, 151968.652, 966483.780, 58.51560361300, -6.26091455533),
        ("TP34", false, 299721.891, 967202.992, 58.58120461280, -3.72631022121),
        ("TP35", false, 330398.323, 1017347.016, 59.03743871190, -3.21454001115),
        ("TP36", false, 261596.778, 1025447.602, 59.09335035320, -4.41757674598),
        ("TP37", false, 180862.461, 1029604.114, 59.09671617400, -5.82799339844),
        ("TP38", false, 421300.525, 1072147.239, 59.53470794490, -1.62516966058),
        ("TP39", false, 440725.073, 1107878.448, 59.85409913890, -1.27486910356),
        ("TP40", false, 395999.668, 1138728.951, 60.13308091660, -2.07382822798),
    ];

    #[test]
    fn matches_ostn15_test_points() {
        let mut worst_england = 0.0_f64;
        let mut worst_all = 0.0_f64;
        for (id, england, e, n, lat, lon) in OS_TEST_POINTS {
            let got = bng_to_wgs84(e, n);
            let d = distance_m(got, (lat, lon));
            println!("{id}: {d:.2} m");
            assert!(d < 5.0, "{id} is {d:.2} m from OSTN15");
            worst_all = worst_all.max(d);
            if england {
                worst_england = worst_england.max(d);
            }
        }
        println!("max error: England {worst_england:.2} m, all 40 points {worst_all:.2} m");
        // Guards the fitted correction: the Helmert alone is ~4.5 m out on Scilly.
        assert!(worst_england < 2.0, "England max {worst_england:.2} m");
    }

    /// The OS guide's worked example (Annex C): E 651409.903, N 313177.270 is OSGB36
    /// 52°39'27.2531"N, 1°43'4.5177"E. Checks the projection step alone to about 1 mm.
    #[test]
    fn inverse_projection_matches_os_guide_example() {
        let (lat, lon) = osgb36_from_grid(651_409.903, 313_177.270);
        let want_lat = 52.0 + 39.0 / 60.0 + 27.2531 / 3600.0;
        let want_lon = 1.0 + 43.0 / 60.0 + 4.5177 / 3600.0;
        let d = distance_m((lat.to_degrees(), lon.to_degrees()), (want_lat, want_lon));
        // The published values are rounded to 0.0001", i.e. up to ~2 mm.
        assert!(d < 0.003, "{d} m");
    }

    #[test]
    fn in_grid_bounds() {
        assert!(in_grid(0.0, 0.0));
        assert!(in_grid(700_000.0, 1_300_000.0));
        assert!(in_grid(530_624.974, 178_388.464));
        assert!(!in_grid(-0.001, 100.0));
        assert!(!in_grid(700_000.001, 100.0));
        assert!(!in_grid(100.0, -1.0));
        assert!(!in_grid(100.0, 1_300_000.5));
        assert!(!in_grid(f64::NAN, 100.0));
        assert!(!in_grid(100.0, f64::INFINITY));
    }

    #[test]
    fn non_finite_input_terminates() {
        let (lat, lon) = bng_to_wgs84(f64::NAN, f64::NAN);
        assert!(lat.is_nan() && lon.is_nan());
    }
}
