//! OpenStreetMap venues as the Overpass API returns them (`[out:json]`, `out center tags;`),
//! mapped to [`RawAsset`] rows so they go through the same validation and upsert as any import.

use serde_json::{Map, Value};

use crate::domain::RawAsset;

/// One element that could not be read, with where it is (`element N` (0-based index in
/// `elements`) plus `node/123`) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OsmSkip {
    pub location: String,
    pub reason: String,
}

/// `tourism=*` and `amenity=*` values that are categories of the same name; they win over
/// heritage, since a museum in a listed building is visited as a museum.
const TOURISM: &str = "museum gallery";
const AMENITY: &str = "library theatre arts_centre cafe cinema community_centre";
/// `historic=*` values that are places to visit (not e.g. boundary stones or milestones).
const HISTORIC: &str =
    "castle monument memorial ruins archaeological_site manor building church fort city_gate tower heritage";

/// Reads an Overpass JSON document. Err(message) when the document itself is not Overpass JSON
/// (not JSON, no `elements` array). Ok((rows, skipped)): rows as (location, RawAsset); `skipped`
/// lists elements that are not a venue of a known kind (no mapped tag) or have no position or
/// no name — these are not errors, the caller reports them.
#[allow(clippy::type_complexity)] // (rows, problems), like the other importers
pub fn read_overpass(bytes: &[u8]) -> Result<(Vec<(String, RawAsset)>, Vec<OsmSkip>), String> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("is not valid JSON: {e}"))?;
    let elements = doc.get("elements").and_then(Value::as_array);
    let elements = elements.ok_or("is not Overpass JSON: no elements array")?;
    let (mut rows, mut skipped) = (Vec::new(), Vec::new());
    for (i, el) in elements.iter().enumerate() {
        let kind = el.get("type").and_then(Value::as_str).unwrap_or("?");
        let id = el.get("id").and_then(Value::as_u64);
        // The OSM identity, so a re-import upserts the same asset.
        let source_id = format!("{kind}/{}", id.map_or("?".into(), |id| id.to_string()));
        let location = format!("element {i} ({source_id})");
        let raw = match (kind, id) {
            ("node" | "way" | "relation", Some(_)) => asset(el, source_id),
            _ => Err("not a node, way or relation with an id"),
        };
        match raw {
            Ok(raw) => rows.push((location, raw)),
            Err(reason) => skipped.push(OsmSkip {
                location,
                reason: reason.into(),
            }),
        }
    }
    Ok((rows, skipped))
}

/// One element as a row, or why it is not a venue this directory lists.
fn asset(el: &Value, source_id: String) -> Result<RawAsset, &'static str> {
    let no_tags = Map::new();
    let tags = el
        .get("tags")
        .and_then(Value::as_object)
        .unwrap_or(&no_tags);
    let tag = |keys: &[&str]| first(tags, keys).to_string();
    let category = category(tags).ok_or(
        "not a venue of a known kind (no amenity, tourism, heritage or historic tag that maps)",
    )?;
    let name = tag(&["name", "name:en", "official_name"]);
    if name.is_empty() {
        return Err("no name, name:en or official_name");
    }
    let (lat, lon) = position(el).ok_or("no position (lat/lon, center, bounds or geometry)")?;
    let street = tag(&["addr:street"]);
    let address = match (tag(&["addr:housenumber"]), street.is_empty()) {
        (_, true) => tag(&["addr:full"]),
        (number, false) => format!("{number} {street}").trim_start().to_string(),
    };
    let wheelchair = match tag(&["wheelchair"]).to_ascii_lowercase().as_str() {
        w @ ("yes" | "limited" | "no") => w.to_string(),
        _ => "unknown".into(),
    };
    let cost = match tag(&["fee"]).to_ascii_lowercase().as_str() {
        "no" => "free",
        "yes" => "paid",
        "donation" => "donation",
        "" if !tag(&["charge"]).is_empty() => "paid",
        _ => "unknown",
    };
    let yes = |key: &str| tag(&[key]) == "yes";
    let listed = !tag(&["heritage", "listed_status"]).is_empty();
    let flags = [
        ("heritage-listed", listed),
        ("toilets", yes("toilets") || yes("toilets:wheelchair")),
        ("dementia-friendly", yes("dementia_friendly")),
    ];
    let flags: Vec<_> = flags.iter().filter(|f| f.1).map(|f| f.0).collect();
    Ok(RawAsset {
        source: "osm".into(),
        source_id,
        name,
        category: category.into(),
        lat: coordinate(lat),
        lon: coordinate(lon),
        address,
        town: tag(&["addr:city", "addr:town", "addr:village"]),
        postcode: tag(&["addr:postcode"]),
        website: tag(&["website", "contact:website", "url"]),
        phone: tag(&["phone", "contact:phone"]),
        email: tag(&["email", "contact:email"]),
        opening_hours: tag(&["opening_hours"]),
        wheelchair,
        cost: cost.into(),
        description: tag(&["description"]),
        tags: flags.join(";"),
        status: String::new(),
        ..Default::default()
    })
}

/// The first of `keys` with a non-blank value, trimmed; "" when none has one.
fn first<'a>(tags: &'a Map<String, Value>, keys: &[&str]) -> &'a str {
    let values = keys.iter().filter_map(|k| tags.get(*k)?.as_str());
    values.map(str::trim).find(|v| !v.is_empty()).unwrap_or("")
}

fn category(tags: &Map<String, Value>) -> Option<&'static str> {
    let among = |list: &'static str, key| list.split(' ').find(|v| *v == first(tags, &[key]));
    let heritage = !first(tags, &["heritage"]).is_empty() || among(HISTORIC, "historic").is_some();
    among(TOURISM, "tourism")
        .or(among(AMENITY, "amenity"))
        .or(heritage.then_some("heritage"))
}

fn lat_lon(v: &Value) -> Option<(f64, f64)> {
    Some((v.get("lat")?.as_f64()?, v.get("lon")?.as_f64()?))
}

/// A node's own position, else the `center` Overpass adds, else the middle of `bounds`, else
/// the mean vertex of `geometry` (counting a closed way's repeated first vertex once).
fn position(el: &Value) -> Option<(f64, f64)> {
    if let Some(p) = lat_lon(el).or_else(|| el.get("center").and_then(lat_lon)) {
        return Some(p);
    }
    let edge = |k: &str| el.get("bounds")?.get(k)?.as_f64();
    let edges = ["minlat", "minlon", "maxlat", "maxlon"].map(edge);
    if let [Some(s), Some(w), Some(n), Some(e)] = edges {
        return Some(((s + n) / 2.0, (w + e) / 2.0));
    }
    let points = el.get("geometry")?.as_array()?.iter().filter_map(lat_lon);
    let mut points: Vec<_> = points.collect();
    if points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    let n = points.len() as f64;
    let sum = points
        .iter()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    (n > 0.0).then(|| (sum.0 / n, sum.1 / n))
}

/// Seven decimals (about 1 cm, OSM's own precision) so computed means print without float noise.
fn coordinate(x: f64) -> String {
    ((x * 1e7).round() / 1e7).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(elements: &str) -> (Vec<(String, RawAsset)>, Vec<OsmSkip>) {
        read_overpass(format!(r#"{{"version":0.6,"elements":[{elements}]}}"#).as_bytes()).unwrap()
    }

    /// One named node with these extra tags, which must be read as a row.
    fn node(tags: &str) -> RawAsset {
        let (rows, skipped) = read(&format!(
            r#"{{"type":"node","id":1,"lat":53.4,"lon":-2.9,"tags":{{"name":"X",{tags}}}}}"#
        ));
        assert!(skipped.is_empty(), "{skipped:?}");
        rows.into_iter().next().unwrap().1
    }

    #[test]
    fn positions_from_node_center_bounds_and_geometry() {
        let t = r#""tags":{"name":"X","amenity":"library"}"#;
        let (rows, skipped) = read(&format!(
            r#"{{"type":"node","id":1,"lat":53.4098,"lon":-2.9805,{t}}},
            {{"type":"way","id":2,"center":{{"lat":53.41,"lon":-2.98}},{t}}},
            {{"type":"relation","id":3,"center":{{"lat":53.404,"lon":-2.984}},{t}}},
            {{"type":"way","id":4,"bounds":{{"minlat":53,"minlon":-3,"maxlat":53.2,"maxlon":-2.8}},{t}}},
            {{"type":"way","id":5,"geometry":[{{"lat":1,"lon":1}},{{"lat":1,"lon":2}},
              {{"lat":2,"lon":2}},{{"lat":2,"lon":1}},{{"lat":1,"lon":1}}],{t}}}"#
        ));
        assert!(skipped.is_empty(), "{skipped:?}");
        let got = rows
            .iter()
            .map(|(l, r)| format!("{l} {}:{} {},{}", r.source, r.source_id, r.lat, r.lon));
        assert_eq!(
            got.collect::<Vec<_>>(),
            [
                "element 0 (node/1) osm:node/1 53.4098,-2.9805",
                "element 1 (way/2) osm:way/2 53.41,-2.98",
                "element 2 (relation/3) osm:relation/3 53.404,-2.984",
                "element 3 (way/4) osm:way/4 53.1,-2.9",
                "element 4 (way/5) osm:way/5 1.5,1.5",
            ]
        );
    }

    #[test]
    fn categories_with_amenity_and_tourism_before_heritage() {
        for (tags, want) in [
            (r#""tourism":"museum""#, "museum"),
            (r#""tourism":"gallery""#, "gallery"),
            (r#""amenity":"library""#, "library"),
            (r#""amenity":"theatre""#, "theatre"),
            (r#""amenity":"arts_centre""#, "arts_centre"),
            (r#""amenity":"cafe""#, "cafe"),
            (r#""amenity":"cinema""#, "cinema"),
            (r#""amenity":"community_centre""#, "community_centre"),
            (r#""heritage":"2""#, "heritage"),
            (r#""historic":"ruins""#, "heritage"),
            (r#""historic":"building","tourism":"museum""#, "museum"),
            (r#""heritage":"1","amenity":"library""#, "library"),
        ] {
            assert_eq!(node(tags).category, want, "{tags}");
        }
    }

    #[test]
    fn fee_and_wheelchair() {
        for (tags, want) in [
            (r#""fee":"no","wheelchair":"yes""#, "free yes"),
            (r#""fee":"yes","wheelchair":"limited""#, "paid limited"),
            (r#""fee":"donation","wheelchair":"no""#, "donation no"),
            (r#""charge":"£5","wheelchair":"designated""#, "paid unknown"),
            (r#""fee":"no","charge":"£5""#, "free unknown"),
            (r#""fee":"interval""#, "unknown unknown"),
        ] {
            let r = node(&format!(r#""amenity":"cafe",{tags}"#));
            assert_eq!(format!("{} {}", r.cost, r.wheelchair), want, "{tags}");
        }
    }

    #[test]
    fn name_and_contact_fallbacks_and_flags() {
        let (rows, _) = read(
            r#"{"type":"node","id":1,"lat":53.41,"lon":-2.98,"tags":{"tourism":"museum","name":" ",
            "name:en":"World Museum","contact:website":"https://w.example","url":"https://u.example",
            "contact:phone":"+44 151 478 4393","contact:email":"a@b.example","listed_status":"Grade II*",
            "toilets:wheelchair":"yes","dementia_friendly":"yes","opening_hours":"Tu-Su 10:00-17:00",
            "description":"Natural history"}}"#,
        );
        let r = &rows[0].1;
        assert_eq!(r.name, "World Museum");
        assert_eq!(r.website, "https://w.example");
        assert_eq!(r.phone, "+44 151 478 4393");
        assert_eq!(r.email, "a@b.example");
        assert_eq!(r.opening_hours, "Tu-Su 10:00-17:00");
        assert_eq!(r.description, "Natural history");
        assert_eq!(r.tags, "heritage-listed;toilets;dementia-friendly");
        assert_eq!(node(r#""amenity":"cafe","toilets":"no""#).tags, "");
    }

    #[test]
    fn address_joins_number_and_street_else_full() {
        let r = node(
            r#""amenity":"library","addr:housenumber":"12","addr:street":"High Street",
            "addr:town":"Bootle","addr:village":"V","addr:postcode":"L20 3AB","addr:full":"x""#,
        );
        assert_eq!(r.address, "12 High Street");
        assert_eq!(r.town, "Bootle");
        assert_eq!(r.postcode, "L20 3AB");
        let r = node(r#""amenity":"library","addr:street":"Hope Street","addr:city":"Liverpool""#);
        assert_eq!(r.address, "Hope Street");
        assert_eq!(r.town, "Liverpool");
        let r = node(r#""amenity":"library","addr:full":"1 Dale Street, Liverpool""#);
        assert_eq!(r.address, "1 Dale Street, Liverpool");
    }

    #[test]
    fn skips_unknown_kinds_nameless_and_unplaced_elements() {
        let (rows, skipped) = read(
            r#"{"type":"node","id":7,"lat":53.4,"lon":-2.9,"tags":{"amenity":"bench","name":"B"}},
            {"type":"node","id":8,"lat":53.4,"lon":-2.9,"tags":{"amenity":"cafe"}},
            {"type":"way","id":9,"tags":{"amenity":"cafe","name":"C"}},
            {"type":"node","id":10,"lat":53.4,"lon":-2.9},
            {"type":"count","id":0,"tags":{"nodes":"3"}}"#,
        );
        assert!(rows.is_empty());
        let got = skipped
            .iter()
            .map(|s| format!("{}: {}", s.location, &s.reason[..7]));
        assert_eq!(
            got.collect::<Vec<_>>(),
            [
                "element 0 (node/7): not a v",
                "element 1 (node/8): no name",
                "element 2 (way/9): no posi",
                "element 3 (node/10): not a v",
                "element 4 (count/0): not a n",
            ]
        );
    }

    #[test]
    fn documents_that_are_not_overpass_json_are_errors() {
        let err = |doc: &[u8]| read_overpass(doc).unwrap_err();
        assert!(err(b"<osm version=\"0.6\"/>").contains("not valid JSON"));
        assert!(err(br#"{"type":"FeatureCollection","features":[]}"#).contains("no elements"));
        assert!(read_overpass(br#"{"elements":[]}"#).unwrap().0.is_empty());
    }
}
