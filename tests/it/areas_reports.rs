//! Areas and access-gap reports on the real data in ../shared/data (IoD2019 Files 1, 2 and
//! 6, the LSOA 2011 points and boundaries, the real libraries, plus deterministic museums and
//! galleries written here), checked against a brute-force computation over all areas ×
//! assets written independently in this file. On SQLite and PostgreSQL.

use crate::support::*;
use flate2::read::GzDecoder;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::OnceLock;

on_both_backends!(
    reports_equal_brute_force_on_the_official_files,
    assets_are_placed_in_the_area_that_contains_them,
    area_listing_paging_filters_and_formats,
    reports_are_cached_with_etags_until_the_data_change,
    iod2025_headers_grid_points_and_rejections,
    the_2021_geography_files_import,
);

const THRESHOLD: f64 = 2000.0;

/// An area as the official files give it, read here without the crate.
#[derive(Clone, Debug)]
struct RefArea {
    code: String,
    la_code: String,
    decile: i32,
    population: i64,
    lat: f64,
    lon: f64,
    /// Bounding box and rings (lon, lat) of the boundary.
    bbox: [f64; 4],
    rings: Vec<Vec<(f64, f64)>>,
}

#[derive(Clone, Debug)]
struct RefAsset {
    category: &'static str,
    lat: f64,
    lon: f64,
}

fn gz_text(name: &str) -> String {
    let mut s = String::new();
    GzDecoder::new(std::fs::File::open(shared_data(name)).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s.trim_start_matches('\u{feff}').to_string()
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn number(s: &str) -> i64 {
    s.replace(',', "").parse().unwrap()
}

/// Ray casting, even-odd over every ring.
fn inside(rings: &[Vec<(f64, f64)>], lon: f64, lat: f64) -> bool {
    let mut odd = false;
    for ring in rings {
        for w in ring.windows(2) {
            let ((x1, y1), (x2, y2)) = (w[0], w[1]);
            if (y1 > lat) != (y2 > lat) && lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1) {
                odd = !odd;
            }
        }
    }
    odd
}

fn reference_areas() -> &'static Vec<RefArea> {
    static AREAS: OnceLock<Vec<RefArea>> = OnceLock::new();
    AREAS.get_or_init(|| {
        // File 1: code, name, LA code, LA name, rank, decile.
        let mut areas: Vec<RefArea> = csv_rows(&gz_text(IMD_FILE))
            .into_iter()
            .map(|r| RefArea {
                code: r[0].clone(),
                la_code: r[2].clone(),
                decile: r[5].parse().unwrap(),
                population: 0,
                lat: 0.0,
                lon: 0.0,
                bbox: [0.0; 4],
                rings: Vec::new(),
            })
            .collect();
        let at: HashMap<String, usize> = areas
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code.clone(), i))
            .collect();
        for r in csv_rows(&gz_text(POPULATION_FILE)) {
            areas[at[&r[0]]].population = number(&r[4]);
        }
        for r in csv_rows(&gz_text(POINTS_2011)) {
            let a = &mut areas[at[&r[0]]];
            a.lat = r[2].parse().unwrap();
            a.lon = r[3].parse().unwrap();
        }
        let doc: Value = serde_json::from_str(&gz_text(BOUNDARIES_2011)).unwrap();
        for f in doc["features"].as_array().unwrap() {
            let a = &mut areas[at[f["properties"]["LSOA11CD"].as_str().unwrap()]];
            let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
            for polygon in f["geometry"]["coordinates"].as_array().unwrap() {
                for ring in polygon.as_array().unwrap() {
                    let ring: Vec<(f64, f64)> = ring
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
                        .collect();
                    for &(x, y) in &ring {
                        bbox = [
                            bbox[0].min(x),
                            bbox[1].min(y),
                            bbox[2].max(x),
                            bbox[3].max(y),
                        ];
                    }
                    a.rings.push(ring);
                }
            }
            a.bbox = bbox;
        }
        areas
    })
}

/// Deterministic museums and galleries at offsets from real area points, some of them
/// drafts (which must never count), as an import CSV; and the published ones.
fn extra_assets(areas: &[RefArea]) -> (String, Vec<RefAsset>) {
    let mut seed: u64 = 0x5eed;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as f64 / (1u64 << 31) as f64
    };
    let mut csv = String::from("source,source_id,name,category,lat,lon,status\n");
    let mut published = Vec::new();
    for i in 0..700 {
        let a = &areas[(next() * areas.len() as f64) as usize];
        let category = if i % 3 == 0 { "gallery" } else { "museum" };
        // Rounded as written, so that the brute force sees exactly the imported position.
        let round = |x: f64| format!("{x:.6}").parse::<f64>().unwrap();
        let (lat, lon) = (
            round(a.lat + (next() - 0.5) * 0.02),
            round(a.lon + (next() - 0.5) * 0.03),
        );
        let draft = i % 10 == 9;
        csv.push_str(&format!(
            "test,{i},Place {i},{category},{lat:.6},{lon:.6},{}\n",
            if draft { "draft" } else { "published" }
        ));
        if !draft {
            published.push(RefAsset { category, lat, lon });
        }
    }
    (csv, published)
}

fn all_assets() -> (String, Vec<RefAsset>) {
    let (csv, mut assets) = extra_assets(reference_areas());
    for l in library_rows().into_iter().filter(|l| l.published) {
        assets.push(RefAsset {
            category: "library",
            lat: l.lat,
            lon: l.lon,
        });
    }
    (csv, assets)
}

/// Brute force: per area, the nearest distance per category (None when there is none).
fn brute_nearest(assets: &[RefAsset], categories: &[&str]) -> Vec<Vec<Option<f64>>> {
    reference_areas()
        .iter()
        .map(|a| {
            categories
                .iter()
                .map(|c| {
                    assets
                        .iter()
                        .filter(|x| x.category == *c)
                        .map(|x| brute_haversine(a.lat, a.lon, x.lat, x.lon))
                        .min_by(f64::total_cmp)
                })
                .collect()
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

/// Every published asset's id and position, paged from the public API.
fn asset_positions(app: &TestApp) -> HashMap<String, (f64, f64)> {
    let mut out = HashMap::new();
    let mut cursor = String::new();
    loop {
        let v = app.get(&format!("/v1/assets?limit=200{cursor}")).json();
        for it in v["items"].as_array().unwrap() {
            out.insert(
                it["id"].as_str().unwrap().to_string(),
                (it["lat"].as_f64().unwrap(), it["lon"].as_f64().unwrap()),
            );
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return out,
        }
    }
}

fn weighted_median(mut v: Vec<(f64, i64)>) -> f64 {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: i64 = v.iter().map(|x| x.1).sum();
    let mut acc = 0;
    for (d, w) in v {
        acc += w;
        if 2 * acc >= total {
            return d;
        }
    }
    unreachable!()
}

fn reports_equal_brute_force_on_the_official_files(backend: Backend) {
    let areas = reference_areas();
    let (csv, assets) = all_assets();
    let cats = ["library", "museum", "gallery"];
    let brute = brute_nearest(&assets, &cats);
    let total_population: i64 = areas.iter().map(|a| a.population).sum();

    let app = TestApp::with_libraries(backend);
    let extra = app.temp_path("extra.csv");
    std::fs::write(&extra, &csv).unwrap();
    app.import(&extra);
    app.import_areas(&official_area_files(true, true));
    let ids = asset_positions(&app);
    assert_eq!(ids.len(), assets.len(), "{backend:?}: published assets");

    // access-gaps for three categories, deciles 1-3.
    let r = app.get(
        "/v1/reports/access-gaps?category=library,museum,gallery&threshold_m=2000&max_decile=3",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let rows: HashMap<&str, &Value> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["area_code"].as_str().unwrap(), r))
        .collect();
    let (mut in_scope, mut scope_pop, mut gap_areas, mut gap_pop) = (0, 0, 0, 0);
    let mut per_cat = [(0usize, 0i64); 3];
    for (i, a) in areas.iter().enumerate() {
        if a.decile > 3 {
            assert!(!rows.contains_key(a.code.as_str()));
            continue;
        }
        in_scope += 1;
        scope_pop += a.population;
        let gaps: Vec<bool> = brute[i]
            .iter()
            .map(|d| d.is_none_or(|d| d > THRESHOLD))
            .collect();
        if !gaps.iter().any(|g| *g) {
            assert!(!rows.contains_key(a.code.as_str()), "{} is no gap", a.code);
            continue;
        }
        gap_areas += 1;
        gap_pop += a.population;
        let row = rows[a.code.as_str()];
        assert_eq!(row["population"].as_i64(), Some(a.population));
        for (k, access) in row["access"].as_array().unwrap().iter().enumerate() {
            assert_eq!(access["category"], cats[k]);
            assert_eq!(
                access["gap"].as_bool(),
                Some(gaps[k]),
                "{} {}",
                a.code,
                cats[k]
            );
            let d = access["distance_m"].as_f64().unwrap();
            assert!(
                close(d, brute[i][k].unwrap()),
                "{} {}: {d} vs {:?}",
                a.code,
                cats[k],
                brute[i][k]
            );
            let (lat, lon) = ids[access["asset_id"].as_str().unwrap()];
            assert!(
                close(brute_haversine(a.lat, a.lon, lat, lon), d),
                "the named asset is at that distance"
            );
            if gaps[k] {
                per_cat[k].0 += 1;
                per_cat[k].1 += a.population;
            }
        }
    }
    let s = &v["summary"];
    assert_eq!(s["areas"], in_scope);
    assert_eq!(s["population"], scope_pop);
    assert_eq!(s["overall"]["gap_areas"], gap_areas);
    assert_eq!(s["overall"]["gap_population"], gap_pop);
    assert_eq!(rows.len(), gap_areas);
    for k in 0..3 {
        assert_eq!(s["per_category"][k]["category"], cats[k]);
        assert_eq!(s["per_category"][k]["gap_areas"], per_cat[k].0);
        assert_eq!(s["per_category"][k]["gap_population"], per_cat[k].1);
    }
    // Sorted by population, most first.
    let pops: Vec<i64> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["population"].as_i64().unwrap())
        .collect();
    assert!(pops.windows(2).all(|w| w[0] >= w[1]));

    // The same report as CSV: area_code first, one line per row.
    let c = app.get("/v1/reports/access-gaps?category=library,museum,gallery&threshold_m=2000&max_decile=3&format=csv");
    assert!(c.header("content-type").unwrap().starts_with("text/csv"));
    let mut lines = c.body.lines();
    assert!(lines.next().unwrap().starts_with("area_code,area_name,la_code,la_name,imd_decile,population,lat,lon,library_distance_m,library_asset_id,library_gap,museum_"));
    assert_eq!(lines.count(), gap_areas);

    // access-by-decile for museums, with assets located by point in polygon.
    let r = app.get("/v1/reports/access-by-decile?category=museum&threshold_m=1500");
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let museums: Vec<&RefAsset> = assets.iter().filter(|a| a.category == "museum").collect();
    let mut located = [0usize; 10];
    for m in &museums {
        let home = areas.iter().find(|a| {
            a.bbox[0] <= m.lon
                && m.lon <= a.bbox[2]
                && a.bbox[1] <= m.lat
                && m.lat <= a.bbox[3]
                && inside(&a.rings, m.lon, m.lat)
        });
        if let Some(a) = home {
            located[(a.decile - 1) as usize] += 1;
        }
    }
    let mut sum_pop = 0;
    for d in 1..=10 {
        let members: Vec<(f64, i64)> = areas
            .iter()
            .enumerate()
            .filter(|(_, a)| a.decile == d)
            .map(|(i, a)| (brute[i][1].unwrap(), a.population))
            .collect();
        let pop: i64 = members.iter().map(|m| m.1).sum();
        sum_pop += pop;
        let mean = members.iter().map(|m| m.0 * m.1 as f64).sum::<f64>() / pop as f64;
        let beyond = members
            .iter()
            .filter(|m| m.0 > 1500.0)
            .map(|m| m.1)
            .sum::<i64>() as f64
            / pop as f64;
        let row = &v["deciles"][(d - 1) as usize];
        assert_eq!(row["decile"], d);
        assert_eq!(row["areas"], members.len());
        assert_eq!(row["population"], pop);
        assert!(
            close(row["mean_distance_m"].as_f64().unwrap(), mean),
            "decile {d} mean"
        );
        assert!(
            close(
                row["median_distance_m"].as_f64().unwrap(),
                weighted_median(members.clone())
            ),
            "decile {d} median"
        );
        assert!(
            close(row["share_beyond_threshold"].as_f64().unwrap(), beyond),
            "decile {d} share"
        );
        let per_10k = located[(d - 1) as usize] as f64 * 10_000.0 / pop as f64;
        assert!(
            close(row["assets_per_10k"].as_f64().unwrap(), per_10k),
            "decile {d} assets per 10k"
        );
    }
    assert_eq!(
        sum_pop, total_population,
        "decile populations add up to File 6"
    );
    let ratio = v["decile1_to_decile10"]["mean_distance_m"]
        .as_f64()
        .unwrap();
    assert!(close(
        ratio,
        v["deciles"][0]["mean_distance_m"].as_f64().unwrap()
            / v["deciles"][9]["mean_distance_m"].as_f64().unwrap()
    ));

    // local-authorities: people in gap areas (deciles 1-2, library gap) per authority.
    let r = app.get("/v1/reports/local-authorities?category=library&threshold_m=2000&max_decile=2");
    let v = r.json();
    let mut las: HashMap<&str, (i64, i64)> = HashMap::new();
    for (i, a) in areas.iter().enumerate() {
        let e = las.entry(&a.la_code).or_default();
        e.0 += a.population;
        if a.decile <= 2 && brute[i][0].is_none_or(|d| d > 2000.0) {
            e.1 += a.population;
        }
    }
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), las.len());
    for (k, row) in rows.iter().enumerate() {
        let (pop, gap) = las[row["la_code"].as_str().unwrap()];
        assert_eq!(row["rank"], k + 1);
        assert_eq!(row["population"], pop);
        assert_eq!(row["gap_population"], gap);
        assert!(close(
            row["gap_share"].as_f64().unwrap(),
            gap as f64 / pop as f64
        ));
        if k > 0 {
            assert!(rows[k - 1]["gap_population"].as_i64() >= row["gap_population"].as_i64());
        }
    }

    // what-if: candidate libraries at the points of some gap areas and elsewhere.
    let gap_set: Vec<usize> = (0..areas.len())
        .filter(|&i| areas[i].decile <= 2 && brute[i][0].is_none_or(|d| d > 2000.0))
        .collect();
    let mut candidates: Vec<(f64, f64)> = gap_set
        .iter()
        .step_by(37)
        .take(12)
        .map(|&i| (areas[i].lat, areas[i].lon))
        .collect();
    candidates.push((candidates[0].0 + 0.005, candidates[0].1)); // overlaps the first
    candidates.push((51.5, -0.12)); // central London: no gap nearby
    let body = json!({"category": "library", "threshold_m": 2000, "max_decile": 2, "pick": 4,
            "candidates": candidates.iter().enumerate().map(|(i, c)| json!({"lat": c.0, "lon": c.1, "label": format!("site {i}")})).collect::<Vec<_>>()});
    let r = app.post_json("/v1/reports/what-if", &body.to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let covers: Vec<HashSet<usize>> = candidates
        .iter()
        .map(|c| {
            gap_set
                .iter()
                .copied()
                .filter(|&i| brute_haversine(c.0, c.1, areas[i].lat, areas[i].lon) <= 2000.0)
                .collect()
        })
        .collect();
    let pop =
        |set: &mut dyn Iterator<Item = &usize>| set.map(|&i| areas[i].population).sum::<i64>();
    assert_eq!(v["baseline"]["gap_population"], pop(&mut gap_set.iter()));
    for (k, cov) in covers.iter().enumerate() {
        assert_eq!(v["candidates"][k]["newly_covered_areas"], cov.len());
        assert_eq!(
            v["candidates"][k]["newly_covered_population"],
            pop(&mut cov.iter())
        );
    }
    assert_eq!(
        v["candidates"][candidates.len() - 1]["newly_covered_population"],
        0
    );
    let mut covered: HashSet<usize> = HashSet::new();
    let mut chosen: HashSet<usize> = HashSet::new();
    for p in v["picks"].as_array().unwrap() {
        let gains: Vec<i64> = covers
            .iter()
            .map(|c| pop(&mut c.difference(&covered)))
            .collect();
        let best = (0..covers.len())
            .filter(|k| !chosen.contains(k))
            .max_by_key(|&k| (gains[k], std::cmp::Reverse(k)))
            .unwrap();
        assert_eq!(p["index"], best);
        assert_eq!(p["added_population"], gains[best]);
        chosen.insert(best);
        covered.extend(covers[best].iter().copied());
        assert_eq!(p["cumulative_population"], pop(&mut covered.iter()));
    }
    assert!(!v["picks"].as_array().unwrap().is_empty());
    // The same as CSV: a row per candidate, its pick order where it was picked.
    let c = app.send(
        "POST",
        "/v1/reports/what-if",
        &[("Accept", "text/csv")],
        Some(&body.to_string()),
    );
    assert!(c.header("content-type").unwrap().starts_with("text/csv"));
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(c.body.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), candidates.len());
    for (k, p) in v["picks"].as_array().unwrap().iter().enumerate() {
        let row = &rows[p["index"].as_u64().unwrap() as usize];
        assert_eq!(&row[6], (k + 1).to_string().as_str());
        assert_eq!(&row[7], p["added_population"].to_string().as_str());
    }

    // One area: nearest per category and the count within the threshold.
    for i in (0..areas.len()).step_by(4111) {
        let a = &areas[i];
        let v = app
            .get(&format!(
                "/v1/areas/{}?category=library,museum,gallery&threshold_m=3000",
                a.code
            ))
            .json();
        assert_eq!(v["imd_decile"], a.decile);
        assert_eq!(v["population"], a.population);
        for (k, c) in cats.iter().enumerate() {
            let acc = &v["access"][k];
            assert!(close(
                acc["nearest"]["distance_m"].as_f64().unwrap(),
                brute[i][k].unwrap()
            ));
            let within = assets
                .iter()
                .filter(|x| {
                    x.category == *c && brute_haversine(a.lat, a.lon, x.lat, x.lon) <= 3000.0
                })
                .count();
            assert_eq!(acc["within_threshold"], within, "{} {c}", a.code);
        }
    }
}

fn assets_are_placed_in_the_area_that_contains_them(backend: Backend) {
    let areas = reference_areas();
    // Boundaries only: representative points are computed inside the polygons.
    let app = TestApp::with_libraries(backend);
    app.import_areas(&official_area_files(false, true));
    let v = app.get("/v1/areas?limit=1000&la=E08000003").json();
    assert_eq!(v["vintage"]["index_name"], "IoD2019");
    assert_eq!(v["vintage"]["geography"], "LSOA 2011");
    for item in v["items"].as_array().unwrap() {
        let a = areas
            .iter()
            .find(|a| a.code == item["code"].as_str().unwrap())
            .unwrap();
        let (lat, lon) = (item["lat"].as_f64().unwrap(), item["lon"].as_f64().unwrap());
        assert!(
            inside(&a.rings, lon, lat),
            "{}: representative point inside",
            a.code
        );
    }
    let mut cursor = String::new();
    let (mut checked, mut outside) = (0, 0);
    loop {
        let page = app.get(&format!("/v1/assets?limit=200{cursor}")).json();
        for it in page["items"].as_array().unwrap() {
            let (lat, lon) = (it["lat"].as_f64().unwrap(), it["lon"].as_f64().unwrap());
            let home = areas.iter().find(|a| {
                a.bbox[0] <= lon
                    && lon <= a.bbox[2]
                    && a.bbox[1] <= lat
                    && lat <= a.bbox[3]
                    && inside(&a.rings, lon, lat)
            });
            assert_eq!(
                it["area_code"].as_str(),
                home.map(|a| a.code.as_str()),
                "{}",
                it["name"]
            );
            checked += 1;
            outside += home.is_none() as usize;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(checked, 2986);
    assert!(outside <= 1, "{outside} libraries outside every area");
}

fn area_listing_paging_filters_and_formats(backend: Backend) {
    let areas = reference_areas();
    let app = TestApp::spawn(backend, &[]);
    let r = app.get("/v1/reports/access-gaps?category=library");
    assert_eq!(r.status, 409, "no areas yet: {}", r.body);
    assert!(r.body.contains("import areas"));
    app.import_areas(&official_area_files(true, false));

    // Manchester, deciles 1 and 2, paged 50 at a time: all and only the right areas.
    let want: Vec<&str> = areas
        .iter()
        .filter(|a| a.la_code == "E08000003" && a.decile <= 2)
        .map(|a| a.code.as_str())
        .collect();
    let mut got = Vec::new();
    let mut cursor = String::new();
    loop {
        let v = app
            .get(&format!(
                "/v1/areas?la=E08000003&decile=1,2&limit=50{cursor}"
            ))
            .json();
        assert_eq!(v["total"], want.len());
        got.extend(
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["code"].as_str().unwrap().to_string()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(got, want);
    let q = app.get("/v1/areas?q=city%20of%20london&limit=1000").json();
    assert_eq!(
        q["total"],
        areas.iter().filter(|a| a.la_code == "E09000001").count()
    );

    let csv = app.get("/v1/areas?la=E09000001&format=csv");
    assert!(csv.body.starts_with("area_code,area_name,la_code,la_name,nation,lat,lon,population,imd_score,imd_rank,imd_decile,income_rank"));
    assert!(csv.body.contains("E01000001,City of London 001A,E09000001,City of London,England,51.518499,-0.097009,1296,,29199,9,32831,10"));
    let geo = app.get("/v1/areas?la=E09000001&format=geojson").json();
    assert_eq!(geo["features"][0]["geometry"]["type"], "Point");
    let one = app.get("/v1/areas/E01000001?format=geojson").json();
    assert_eq!(
        one["geometry"]["type"], "Point",
        "no boundaries were imported"
    );
    assert_eq!(one["properties"]["code"], "E01000001");

    for (path, param) in [
        ("/v1/areas?decile=11", "decile"),
        ("/v1/areas?limit=0", "limit"),
        ("/v1/areas?colour=red", "colour"),
        ("/v1/areas/E01000001?threshold_m=-5", "threshold_m"),
        ("/v1/reports/access-gaps", "category"),
        ("/v1/reports/access-gaps?category=zoo", "category"),
        (
            "/v1/reports/access-gaps?category=library&threshold_m=0",
            "threshold_m",
        ),
        (
            "/v1/reports/access-gaps?category=library&max_decile=11",
            "max_decile",
        ),
        (
            "/v1/reports/access-gaps?category=library&la=E99999999",
            "la",
        ),
        ("/v1/reports/access-gaps?category=library&sort=size", "sort"),
        (
            "/v1/reports/access-by-decile?category=library&max_decile=2",
            "max_decile",
        ),
        (
            "/v1/reports/local-authorities?category=library&format=geojson",
            "format",
        ),
    ] {
        let r = app.get(path);
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(r.json()["invalid-params"][0]["name"], param, "{path}");
    }
    assert_eq!(app.get("/v1/areas/E09999999").status, 404);

    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"lat": 52.0, "lon": -1.0 + i as f64 * 1e-4}))
        .collect();
    for (body, param) in [
        (
            json!({"category": "library", "candidates": many}),
            "candidates",
        ),
        (
            json!({"category": "library", "candidates": []}),
            "candidates",
        ),
        (
            json!({"category": "library,museum", "candidates": [{"lat": 52.0, "lon": -1.0}]}),
            "category",
        ),
        (
            json!({"category": "library", "candidates": [{"lat": 92.0, "lon": -1.0}]}),
            "candidates[0]",
        ),
        (
            json!({"category": "library", "candidates": [{"lat": 52.0, "lon": -1.0}], "pick": 2}),
            "pick",
        ),
        (
            json!({"category": "library", "threshold_m": 0, "candidates": [{"lat": 52.0, "lon": -1.0}]}),
            "threshold_m",
        ),
        (
            json!({"category": "library", "candidates": [{"lat": 52.0, "lon": -1.0}], "colour": 1}),
            "body",
        ),
        (json!({"candidates": [{"lat": 52.0, "lon": -1.0}]}), "body"),
    ] {
        let r = app.post_json("/v1/reports/what-if", &body.to_string());
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.json()["invalid-params"][0]["name"], param, "{body}");
    }
    let r = app.post_json("/v1/reports/what-if", "{not json");
    assert_eq!(r.status, 400);
}

fn reports_are_cached_with_etags_until_the_data_change(backend: Backend) {
    let app = TestApp::with_libraries(backend);
    app.import_areas(&official_area_files(true, false));
    let path = "/v1/reports/access-by-decile?category=library";
    let first = app.get(path);
    let etag = first.header("etag").unwrap().to_string();
    let again = app.get(path);
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.body, first.body);
    let not_modified = app.request("GET", path, &[("If-None-Match", &etag)]);
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());

    // A new library in a gap changes the data version, the report and its ETag.
    let gaps = app
        .get("/v1/reports/access-gaps?category=library&max_decile=1&limit=1")
        .json();
    let row = &gaps["rows"][0];
    // One new asset of `category` at the gap's point, imported.
    let import_one = |source_id: u32, name: &str, category: &str| {
        let file = app.temp_path(&format!("{category}.csv"));
        let csv = format!(
            "source,source_id,name,category,lat,lon\nnew,{source_id},{name},{category},{},{}\n",
            row["lat"], row["lon"]
        );
        std::fs::write(&file, csv).unwrap();
        app.import(&file);
    };
    import_one(1, "New library", "library");
    let after = app.get(path);
    assert_ne!(after.header("etag"), Some(etag.as_str()));
    assert_ne!(after.body, first.body);
    // The library figures were updated from the delta, not computed afresh: the same as a
    // fresh instance's, byte for byte.
    let fresh = TestApp::spawn_at(&app.url, &[]).get(path);
    assert_eq!(fresh.body, after.body);
    let area = app
        .get(&format!(
            "/v1/areas/{}?category=library",
            row["area_code"].as_str().unwrap()
        ))
        .json();
    assert_eq!(area["access"][0]["nearest"]["distance_m"], 0.0);
    assert_eq!(area["access"][0]["nearest"]["name"], "New library");

    // A write to another category (a museum there) leaves the library report as it was,
    // body and ETag; a fresh instance on the same database computes the same figures at
    // the newer data version.
    // So does an edit of the library that leaves its place, category and status (its
    // name, from its source again): no report reads the rest.
    import_one(2, "New museum", "museum");
    import_one(1, "New library (renamed)", "library");
    let kept = app.get(path);
    assert_eq!(kept.header("etag"), after.header("etag"));
    assert_eq!(kept.body, after.body);
    let fresh = TestApp::spawn_at(&app.url, &[]).get(path).json();
    let mut figures = kept.json();
    assert!(
        fresh["data_version"].as_i64().unwrap() > figures["data_version"].as_i64().unwrap() + 1
    );
    figures["data_version"] = fresh["data_version"].clone();
    assert_eq!(figures, fresh);

    for svg in [
        "/v1/reports/access-by-decile.svg?category=library",
        "/v1/reports/access-gaps.svg?category=library&la=E08000003",
        "/v1/reports/access-gaps.svg?category=library",
    ] {
        let r = app.get(svg);
        assert_eq!(r.status, 200, "{svg}: {}", r.body);
        assert_eq!(r.header("content-type"), Some("image/svg+xml"));
        assert!(
            r.body.starts_with("<svg") && r.body.trim_end().ends_with("</svg>"),
            "{svg}"
        );
        assert!(r.header("etag").is_some());
    }
}

/// A small sample written here in the shape of the IoD2025 files (2021 geography, 2024
/// local authorities, a score column), with British National Grid points, gzip-compressed
/// and with a byte-order mark; and all-or-nothing rejection of bad files.
fn iod2025_headers_grid_points_and_rejections(backend: Backend) {
    use community_assets::import::areas::{import_areas_files, AreaFiles};
    use community_assets::import::ImportError;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    let app = TestApp::spawn(backend, &[]);
    let write = |name: &str, text: &str, gz: bool| {
        let p = app.temp_path(name);
        let bytes = format!("\u{feff}{text}").into_bytes();
        if gz {
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(&bytes).unwrap();
            std::fs::write(&p, e.finish().unwrap()).unwrap();
        } else {
            std::fs::write(&p, bytes).unwrap();
        }
        p
    };
    let imd = write(
            "File_1_IoD2025_Index_of_Multiple_Deprivation.csv.gz",
            "LSOA code (2021),LSOA name (2021),Local Authority District code (2024),Local Authority District name (2024),Index of Multiple Deprivation (IMD) Score,Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)\n\
             E01000001,City of London 001A,E09000001,City of London,6.2,\"29,512\",9\n\
             E01033768,Newcastle upon Tyne 001A,E08000021,Newcastle upon Tyne,45.1,\"1,204\",1\n",
            true,
        );
    let population = write(
            "File_6_IoD2025_Population_Denominators.csv",
            "LSOA code (2021),LSOA name (2021),Local Authority District code (2024),Local Authority District name (2024),Total population: mid 2022 (excluding prisoners)\n\
             E01000001,City of London 001A,E09000001,City of London,\"1,478\"\n\
             E01033768,Newcastle upon Tyne 001A,E08000021,Newcastle upon Tyne,\"2,004\"\n\
             W01000001,Isle of Anglesey 001A,W06000001,Isle of Anglesey,1500\n",
            false,
        );
    // Grid points of Ordnance Survey's OSTN15 test points TP09 (London) and TP25
    // (Newcastle), whose official WGS84 (ETRS89) positions are checked below.
    let points = write(
            "LSOA_2021_PWC.csv.gz",
            "FID,LSOA21CD,x,y\n1,E01000001,530624.974,178388.464\n2,E01033768,424639.355,565012.703\n3,W01000001,245000,390000\n",
            true,
        );
    let files = AreaFiles {
        imd: imd.clone(),
        population: Some(population.clone()),
        points: Some(points.clone()),
        ..Default::default()
    };
    app.import_areas(&files);
    let v = app.get("/v1/areas").json();
    assert_eq!(v["vintage"]["index_name"], "IoD2025");
    assert_eq!(v["vintage"]["geography"], "LSOA 2021");
    assert_eq!(v["total"], 2);
    let a = &v["items"][0];
    assert_eq!(
        (
            a["imd_rank"].as_i64(),
            a["imd_decile"].as_i64(),
            a["imd_score"].as_f64(),
            a["population"].as_i64()
        ),
        (Some(29512), Some(9), Some(6.2), Some(1478))
    );
    let d = brute_haversine(
        a["lat"].as_f64().unwrap(),
        a["lon"].as_f64().unwrap(),
        51.48936564950,
        -0.11992557180,
    );
    assert!(
        d < 5.0,
        "TP09 converted {d} m from the official transformation"
    );
    let n = &v["items"][1];
    let d = brute_haversine(
        n["lat"].as_f64().unwrap(),
        n["lon"].as_f64().unwrap(),
        54.97912273660,
        -1.61657685184,
    );
    assert!(
        d < 5.0,
        "TP25 converted {d} m from the official transformation"
    );

    // Bad files: every problem reported with its line, and nothing changes.
    let bad_imd = write(
            "bad_imd.csv",
            "LSOA code (2021),LSOA name (2021),Local Authority District code (2024),Local Authority District name (2024),Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)\n\
             E01000001,City of London 001A,E09000001,City of London,\"29,512\",11\n\
             E01000001,City of London 001A,E09000001,City of London,12,1\n\
             E01000003,City of London 001C,E09000001,City of London,twelve,2\n\
             E01033768,Newcastle upon Tyne 001A,E08000021,Newcastle upon Tyne,\"1,204\",1\n",
            false,
        );
    let err = import_areas_files(
        &app.store,
        &AreaFiles {
            imd: bad_imd,
            points: Some(points.clone()),
            ..Default::default()
        },
        false,
    )
    .unwrap_err();
    let ImportError::Rejected(errors) = err else {
        panic!("{err:?}")
    };
    let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    for want in [
        "bad_imd.csv line 2: imd_decile",
        "bad_imd.csv line 3: code",
        "bad_imd.csv line 4: imd_rank",
    ] {
        assert!(
            shown.iter().any(|s| s.starts_with(want)),
            "{want} in {shown:?}"
        );
    }
    // A point file of another geography, and one that misses an area.
    let err = import_areas_files(
        &app.store,
        &AreaFiles {
            imd: imd.clone(),
            points: Some(shared_data(POINTS_2011)),
            ..Default::default()
        },
        false,
    )
    .unwrap_err();
    let ImportError::Rejected(errors) = err else {
        panic!("{err:?}")
    };
    assert!(
        errors
            .iter()
            .any(|e| e.field == "geography" && e.reason.contains("LSOA 2011")),
        "{errors:?}"
    );
    let partial = write(
        "points.csv",
        "LSOA21CD,lat,lon\nE01000001,51.5,-0.1\n",
        false,
    );
    let err = import_areas_files(
        &app.store,
        &AreaFiles {
            imd: imd.clone(),
            points: Some(partial),
            ..Default::default()
        },
        false,
    )
    .unwrap_err();
    let ImportError::Rejected(errors) = err else {
        panic!("{err:?}")
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0]
        .to_string()
        .contains("E01033768 has no row in points.csv"));
    let no_location = import_areas_files(
        &app.store,
        &AreaFiles {
            imd: imd.clone(),
            ..Default::default()
        },
        false,
    );
    assert!(no_location.is_err());
    // A dry run of a good import changes nothing either.
    let official = official_area_files(true, false);
    import_areas_files(&app.store, &official, true).unwrap();
    app.state.refresh().unwrap();
    let after = app.get("/v1/areas").json();
    assert_eq!(after["total"], 2, "the active vintage is unchanged");
    assert_eq!(after["vintage"], v["vintage"]);

    // Replacing the vintage: the 2019 set replaces the 2025 sample entirely.
    app.import_areas(&official);
    let v = app.get("/v1/areas?limit=1").json();
    assert_eq!(v["total"], 32_844);
    assert_eq!(v["vintage"]["index_name"], "IoD2019");
    assert_eq!(v["vintage"]["version"], 2);
}

/// The LSOA 2021 points and boundaries in ../shared/data import too (33,755 areas), with the
/// official IoD2025 File 1 as published (its decile header is truncated: `... 10% of LSOA`).
fn the_2021_geography_files_import(backend: Backend) {
    let codes: Vec<Vec<String>> = csv_rows(&gz_text("lsoa2021_centroids_england.csv.gz"));
    let app = TestApp::spawn(backend, &[]);
    app.import_areas(&community_assets::import::areas::AreaFiles {
        imd: shared_data("File_1_IoD2025_Index_of_Multiple_Deprivation.csv.gz"),
        points: Some(shared_data("lsoa2021_centroids_england.csv.gz")),
        boundaries: Some(shared_data("lsoa2021_boundaries_england.geojson.gz")),
        ..Default::default()
    });
    let v = app.get("/v1/areas?limit=1").json();
    assert_eq!(v["total"], codes.len());
    assert_eq!(v["total"], 33_755);
    assert_eq!(v["vintage"]["geography"], "LSOA 2021");
    assert_eq!(v["vintage"]["index_name"], "IoD2025");
    let one = app
        .get(&format!("/v1/areas/{}?format=geojson", codes[0][0]))
        .json();
    assert_eq!(one["geometry"]["type"], "MultiPolygon");
}
