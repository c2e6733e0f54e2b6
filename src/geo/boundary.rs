//! GeoJSON Polygon and MultiPolygon boundaries (RFC 7946, WGS84 longitude/latitude).

use ::geo::{Coord, InteriorPoint, LineString, MultiPolygon, Polygon};
use serde_json::Value;
use std::fmt::Write;

/// Parses and checks a GeoJSON Polygon or MultiPolygon geometry: rings of at least four
/// positions, closed, with longitudes within ±180 and latitudes within ±90.
pub fn parse(geometry: &Value) -> Result<MultiPolygon<f64>, String> {
    let kind = geometry.get("type").and_then(Value::as_str);
    let coords = geometry
        .get("coordinates")
        .and_then(Value::as_array)
        .ok_or("has no coordinates array")?;
    let polygons = match kind {
        Some("Polygon") => vec![polygon(coords)?],
        Some("MultiPolygon") => coords
            .iter()
            .map(|p| polygon(p.as_array().ok_or("a polygon is not an array")?))
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("is a {other}, not a Polygon or MultiPolygon")),
        None => return Err("has no type".into()),
    };
    if polygons.is_empty() {
        return Err("has no polygons".into());
    }
    Ok(MultiPolygon(polygons))
}

fn polygon(rings: &[Value]) -> Result<Polygon<f64>, String> {
    let mut rings = rings.iter().map(ring);
    let exterior = rings.next().ok_or("a polygon has no rings")??;
    let interiors = rings.collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, interiors))
}

fn ring(v: &Value) -> Result<LineString<f64>, String> {
    let positions = v.as_array().ok_or("a ring is not an array")?;
    if positions.len() < 4 {
        return Err(format!(
            "a ring has {} positions; at least 4 are needed",
            positions.len()
        ));
    }
    let coords = positions
        .iter()
        .map(|p| {
            let xy = p.as_array().filter(|a| a.len() >= 2);
            let num = |i: usize| xy.and_then(|a| a[i].as_f64());
            match (num(0), num(1)) {
                (Some(x), Some(y)) if x.abs() <= 180.0 && y.abs() <= 90.0 => Ok(Coord { x, y }),
                _ => Err(format!(
                    "position {p} is not [longitude, latitude] within ±180, ±90"
                )),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if coords.first() != coords.last() {
        return Err("a ring is not closed (its first and last positions differ)".into());
    }
    Ok(LineString(coords))
}

/// Reads a boundary as stored (written by [`to_geojson`] from a checked shape) straight
/// into coordinates, without the intermediate JSON tree that [`parse`] walks: every
/// instance reads all 33,000 boundaries at start-up and after each area import.
pub fn parse_stored(text: &str) -> Option<MultiPolygon<f64>> {
    #[derive(serde::Deserialize)]
    struct Stored {
        coordinates: Vec<Vec<Vec<[f64; 2]>>>,
    }
    let stored: Stored = serde_json::from_str(text).ok()?;
    let polygons = stored.coordinates.into_iter().map(|rings| {
        let mut rings = rings
            .into_iter()
            .map(|r| LineString(r.into_iter().map(|[x, y]| Coord { x, y }).collect()));
        let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
        Polygon::new(exterior, rings.collect())
    });
    Some(MultiPolygon(polygons.collect()))
}

/// A point inside the boundary, as (lat, lon): the representative point when no point
/// file is given (a centroid can fall outside a concave area).
pub fn interior_point(mp: &MultiPolygon<f64>) -> Option<(f64, f64)> {
    mp.interior_point().map(|p| (p.y(), p.x()))
}

/// The boundary as a compact GeoJSON MultiPolygon.
pub fn to_geojson(mp: &MultiPolygon<f64>) -> String {
    let mut out = String::from("{\"type\":\"MultiPolygon\",\"coordinates\":[");
    for (i, p) in mp.0.iter().enumerate() {
        out.push_str(if i > 0 { ",[" } else { "[" });
        for (j, r) in std::iter::once(p.exterior())
            .chain(p.interiors())
            .enumerate()
        {
            out.push_str(if j > 0 { ",[" } else { "[" });
            for (k, c) in r.0.iter().enumerate() {
                let _ = write!(out, "{}[{},{}]", if k > 0 { "," } else { "" }, c.x, c.y);
            }
            out.push(']');
        }
        out.push(']');
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::geo::Contains;
    use serde_json::json;

    #[test]
    fn parses_checks_and_writes_back() {
        let square = json!({"type": "Polygon", "coordinates": [[[0.0, 51.0], [1.0, 51.0], [1.0, 52.0], [0.0, 52.0], [0.0, 51.0]]]});
        let mp = parse(&square).unwrap();
        assert!(mp.contains(&::geo::Point::new(0.5, 51.5)));
        let (lat, lon) = interior_point(&mp).unwrap();
        assert!(mp.contains(&::geo::Point::new(lon, lat)));
        let again = parse(&serde_json::from_str(&to_geojson(&mp)).unwrap()).unwrap();
        assert_eq!(again, mp);
        assert_eq!(parse_stored(&to_geojson(&mp)), Some(mp));

        let open = json!({"type": "Polygon", "coordinates": [[[0.0, 51.0], [1.0, 51.0], [1.0, 52.0], [0.0, 52.0]]]});
        assert!(parse(&open).unwrap_err().contains("not closed"));
        let point = json!({"type": "Point", "coordinates": [0.0, 51.0]});
        assert!(parse(&point).unwrap_err().contains("Point"));
        let far = json!({"type": "Polygon", "coordinates": [[[0.0, 91.0], [1.0, 51.0], [1.0, 52.0], [0.0, 91.0]]]});
        assert!(parse(&far).unwrap_err().contains("within"));
    }
}
