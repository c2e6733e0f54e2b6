//! IoD2025 as published, on LSOA 2021: File 7 alone gives the IMD and the domains, File 3
//! IDACI and IDAOPI, Census 2021 usual residents the population, the ONS population-weighted
//! centroids the points. Values and population-weighted figures are checked against the raw
//! files in ../shared/data, read here without the crate. Then what an analyst sees when
//! something is missing or wrong: unweighted reports say so, unrecognised population headers
//! are listed, a file of the other geography is the first and only problem.

use crate::support::*;
use community_assets::import::areas::{parse_area_files, AreaFiles};
use community_assets::import::ImportError;
use flate2::read::GzDecoder;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;

on_both_backends!(
    iod2025_with_census_population_and_centroids_equals_the_raw_files,
    unweighted_reports_and_population_tables_by_header,
);

const FILE_7: &str = "IoD2025_lsoa21_scores_ranks_deciles.csv.gz";
const FILE_3: &str = "File_3_IoD2025_Supplementary_Indices_IDACI_and_IDAOPI.csv.gz";
const CENSUS: &str = "lsoa2021_population_census2021.csv.gz";
const PWC: &str = "lsoa2021_pwc_england.csv.gz";

/// A gzipped CSV of ../shared/data as (header, rows).
fn table(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut text = String::new();
    GzDecoder::new(std::fs::File::open(shared_data(name)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let rows = rdr
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Rows by their first column (the area code), with a column lookup by exact header.
struct Raw {
    header: Vec<String>,
    rows: HashMap<String, Vec<String>>,
}

impl Raw {
    fn read(name: &str) -> Self {
        let (header, rows) = table(name);
        Raw {
            header,
            rows: rows.into_iter().map(|r| (r[0].clone(), r)).collect(),
        }
    }

    fn cell(&self, code: &str, header: &str) -> &str {
        let col = self
            .header
            .iter()
            .position(|h| h == header)
            .unwrap_or_else(|| panic!("no column {header:?}"));
        &self.rows[code][col]
    }
}

/// The published headers of each domain in File 7: (JSON name, score header, header stem).
const DOMAIN_HEADERS: [(&str, &str, &str); 7] = [
    ("income", "Income Score (rate)", "Income"),
    ("employment", "Employment Score (rate)", "Employment"),
    (
        "education",
        "Education, Skills and Training Score",
        "Education, Skills and Training",
    ),
    (
        "health",
        "Health Deprivation and Disability Score",
        "Health Deprivation and Disability",
    ),
    ("crime", "Crime Score", "Crime"),
    (
        "housing",
        "Barriers to Housing and Services Score",
        "Barriers to Housing and Services",
    ),
    (
        "environment",
        "Living Environment Score",
        "Living Environment",
    ),
];

fn rank_header(stem: &str) -> String {
    format!("{stem} Rank (where 1 is most deprived)")
}

fn decile_header(stem: &str) -> String {
    format!("{stem} Decile (where 1 is most deprived 10% of LSOAs)")
}

fn iod2025_with_census_population_and_centroids_equals_the_raw_files(backend: Backend) {
    let app = TestApp::with_libraries(backend);
    // One flag for File 7: the IMD and the seven domains.
    app.import_areas(&AreaFiles {
        imd: shared_data(FILE_7),
        supplementary: Some(shared_data(FILE_3)),
        population: Some(shared_data(CENSUS)),
        points: Some(shared_data(PWC)),
        ..Default::default()
    });
    let (f7, f3, census, pwc) = (
        Raw::read(FILE_7),
        Raw::read(FILE_3),
        Raw::read(CENSUS),
        Raw::read(PWC),
    );
    let mut codes: Vec<&String> = f7.rows.keys().collect();
    codes.sort();
    assert_eq!(codes.len(), 33_755);

    // Every 1,500th area, field by field, against the published cells.
    for code in codes.iter().step_by(1_500) {
        let a = app.get(&format!("/v1/areas/{code}")).json();
        let num = |v: &Value| v.as_f64().unwrap();
        let parse = |s: &str| s.parse::<f64>().unwrap();
        assert_eq!(
            a["imd_score"].as_f64(),
            Some(parse(
                f7.cell(code, "Index of Multiple Deprivation (IMD) Score")
            ))
        );
        for (name, score, stem) in DOMAIN_HEADERS {
            let d = &a["domains"][name];
            let want = parse(f7.cell(code, score));
            assert!(
                (num(&d["score"]) - want).abs() < 1e-4,
                "{code} {name} score {} vs {want}",
                d["score"]
            );
            assert_eq!(num(&d["rank"]), parse(f7.cell(code, &rank_header(stem))));
            assert_eq!(
                num(&d["decile"]),
                parse(f7.cell(code, &decile_header(stem)))
            );
        }
        for (name, stem) in [
            (
                "idaci",
                "Income Deprivation Affecting Children Index (IDACI)",
            ),
            (
                "idaopi",
                "Income Deprivation Affecting Older People (IDAOPI)",
            ),
        ] {
            let s = &a["supplementary"][name];
            assert_eq!(num(&s["rank"]), parse(f3.cell(code, &rank_header(stem))));
            assert_eq!(
                num(&s["decile"]),
                parse(f3.cell(code, &decile_header(stem)))
            );
            assert!(s.get("score").is_none(), "File 3 has no scores: {s}");
        }
        assert_eq!(
            a["population"].as_i64(),
            Some(census.cell(code, "usual_residents_ts021").parse().unwrap())
        );
        assert_eq!(num(&a["lat"]), parse(pwc.cell(code, "lat")));
        assert_eq!(num(&a["lon"]), parse(pwc.cell(code, "lon")));
    }
    let csv = app.get("/v1/areas?format=csv&limit=1").body;
    assert!(
        csv.lines().next().unwrap().ends_with(
            "environment_decile,income_score,employment_score,education_score,health_score,crime_score,housing_score,environment_score,idaci_score,idaci_rank,idaci_decile,idaopi_score,idaopi_rank,idaopi_decile"
        ),
        "{csv}"
    );

    // Access to libraries by IMD decile, population-weighted, against a brute force over
    // the raw files: nearest published library from each centroid, weighted by residents.
    let libraries: Vec<LibraryRow> = library_rows().into_iter().filter(|l| l.published).collect();
    let decile_col =
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)";
    let mut by_decile: Vec<Vec<(f64, i64)>> = vec![Vec::new(); 10];
    for code in &codes {
        let (lat, lon): (f64, f64) = (
            pwc.cell(code, "lat").parse().unwrap(),
            pwc.cell(code, "lon").parse().unwrap(),
        );
        let nearest = libraries
            .iter()
            .map(|l| brute_haversine(lat, lon, l.lat, l.lon))
            .fold(f64::INFINITY, f64::min);
        let decile: usize = f7.cell(code, decile_col).parse().unwrap();
        let people: i64 = census.cell(code, "usual_residents_ts021").parse().unwrap();
        by_decile[decile - 1].push((nearest, people));
    }
    let r = app.get("/v1/reports/access-by-decile?category=library&threshold_m=2000");
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["vintage"]["index_name"], "IoD2025");
    assert_eq!(v["vintage"]["geography"], "LSOA 2021");
    assert_eq!(v["weighting"], "population");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
    let mut england = 0;
    for (k, areas) in by_decile.iter_mut().enumerate() {
        let row = &v["deciles"][k];
        let people: i64 = areas.iter().map(|a| a.1).sum();
        england += people;
        let mean = areas.iter().map(|a| a.0 * a.1 as f64).sum::<f64>() / people as f64;
        let beyond: i64 = areas.iter().filter(|a| a.0 > 2000.0).map(|a| a.1).sum();
        areas.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut acc = 0;
        let median = areas
            .iter()
            .find(|a| {
                acc += a.1;
                2 * acc >= people
            })
            .unwrap()
            .0;
        assert_eq!(row["areas"], areas.len(), "decile {}", k + 1);
        assert_eq!(row["population"], people, "decile {}", k + 1);
        let got = |f: &str| row[f].as_f64().unwrap();
        assert!(
            close(got("mean_distance_m"), mean),
            "decile {}: {row}",
            k + 1
        );
        assert!(
            close(got("median_distance_m"), median),
            "decile {}: {row}",
            k + 1
        );
        let share = beyond as f64 / people as f64;
        assert!(
            close(got("share_beyond_threshold"), share),
            "decile {}: {row}",
            k + 1
        );
    }
    assert_eq!(england, 56_490_108, "the Census 2021 total for England");
    let svg = app
        .get("/v1/reports/access-by-decile.svg?category=library")
        .body;
    assert!(
        svg.contains("Deprivation: IoD2025 (LSOA 2021); population-weighted"),
        "the chart names the index"
    );
    assert!(svg.contains("Beyond 2 km (% of people)"));
}

/// A small sample in the IoD2025 layout, written here.
fn write(app: &TestApp, name: &str, text: &str) -> std::path::PathBuf {
    let p = app.temp_path(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn rejected(files: &AreaFiles) -> Vec<String> {
    match parse_area_files(files) {
        Err(ImportError::Rejected(errors)) => errors.iter().map(|e| e.to_string()).collect(),
        other => panic!("not rejected: {other:?}"),
    }
}

fn unweighted_reports_and_population_tables_by_header(backend: Backend) {
    let app = TestApp::with_libraries(backend);
    let imd = write(
        &app,
        "File_1_IoD2025_Index_of_Multiple_Deprivation.csv",
        "LSOA code (2021),LSOA name (2021),Local Authority District code (2024),Local Authority District name (2024),Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOA\n\
         E01000001,City of London 001A,E09000001,City of London,26525,8\n\
         E01033768,Newcastle upon Tyne 001A,E08000021,Newcastle upon Tyne,1204,1\n",
    );
    let points = write(
        &app,
        "points.csv",
        "LSOA21CD,lat,lon\nE01000001,51.5195933,-0.0962404\nE01033768,54.9791,-1.6166\n",
    );
    let files = AreaFiles {
        imd: imd.clone(),
        points: Some(points.clone()),
        ..Default::default()
    };

    // No population: every report and chart says it counts areas, and which index.
    app.import_areas(&files);
    let v = app
        .get("/v1/reports/access-by-decile?category=library")
        .json();
    assert_eq!(v["weighting"], "areas");
    assert_eq!(v["vintage"]["index_name"], "IoD2025");
    assert_eq!(v["deciles"][0]["population"], Value::Null);
    for chart in [
        "/v1/reports/access-by-decile.svg?category=library",
        "/v1/reports/access-gaps.svg?category=library",
    ] {
        let svg = app.get(chart).body;
        assert!(
            svg.contains("Deprivation: IoD2025 (LSOA 2021); unweighted (no population imported)"),
            "{chart}"
        );
    }
    let svg = app
        .get("/v1/reports/access-by-decile.svg?category=library")
        .body;
    assert!(svg.contains("Beyond 2 km (% of areas)"));

    // A table whose header is not recognised: the error lists what was looked for and
    // what the file has; naming the columns imports it (thousands separators allowed).
    let table = write(
        &app,
        "residents.csv",
        "Area,Residents,Households\nE01000001,\"1,474\",900\nE01033768,2004,800\n",
    );
    let errors = rejected(&AreaFiles {
        population: Some(table.clone()),
        ..files.clone()
    });
    assert_eq!(errors.len(), 1, "{errors:?}");
    for want in [
        "residents.csv line 1: header: has no area code column",
        "\"Area\", \"Residents\", \"Households\"",
        "--code-column",
    ] {
        assert!(errors[0].contains(want), "{want} in {}", errors[0]);
    }
    let errors = rejected(&AreaFiles {
        population: Some(table.clone()),
        code_column: Some("area".into()),
        ..files.clone()
    });
    assert_eq!(errors.len(), 1, "{errors:?}");
    for want in [
        "has no population column: looked for \"total population…\", \"usual_residents_ts021\"",
        "\"all_ages\"",
        "\"observation\"",
        "its headers are \"Area\", \"Residents\", \"Households\"",
        "--population-column",
    ] {
        assert!(errors[0].contains(want), "{want} in {}", errors[0]);
    }
    app.import_areas(&AreaFiles {
        population: Some(table),
        code_column: Some("AREA".into()),
        population_column: Some(" residents".into()),
        ..files.clone()
    });
    let a = app.get("/v1/areas/E01000001").json();
    assert_eq!(a["population"], 1474);
    assert!(
        a.get("domains").is_none(),
        "nothing of the domains was imported"
    );
    let v = app
        .get("/v1/reports/access-by-decile?category=library")
        .json();
    assert_eq!(v["weighting"], "population");
    assert_eq!(v["deciles"][0]["population"], 2004);

    // The Census and mid-year estimate tables are recognised as published.
    let census = write(
        &app,
        "census.csv",
        "LSOA21CD,LSOA21NM,usual_residents_ts021,usual_residents_ts038\nE01000001,a,1474,1475\nE01033768,b,2004,2003\n",
    );
    let parsed = parse_area_files(&AreaFiles {
        population: Some(census),
        ..files.clone()
    })
    .unwrap();
    assert_eq!(parsed.areas[0].population, Some(1474), "TS021, not TS038");

    // Files of the other geography: one problem per such file, listed first and alone,
    // whether the header says so (LSOA11CD) or only the codes do.
    let errors = rejected(&AreaFiles {
        imd: shared_data(FILE_7),
        population: Some(shared_data("lsoa2011_population_mid2020.csv.gz")),
        points: Some(shared_data(PWC)),
        ..Default::default()
    });
    assert_eq!(
        errors,
        [format!(
            "lsoa2011_population_mid2020.csv.gz: geography: is LSOA 2011 but {FILE_7} is LSOA 2021: \
             use files of one geography (IoD2019 is on LSOA 2011, IoD2025 on LSOA 2021)"
        )]
    );
    let old_codes = write(
        &app,
        "population.csv",
        "code,population\nE01000002,5\nE01000003,6\nE01000005,7\n",
    );
    let errors = rejected(&AreaFiles {
        population: Some(old_codes),
        ..files.clone()
    });
    assert!(
        errors[0].starts_with(
            "population.csv: geography: only 0 of its 3 codes are areas of File_1_IoD2025"
        ),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 1, "{errors:?}");

    // File 3 names the IMD rank too: a File 3 of other ranks is another vintage.
    let supplementary = write(
        &app,
        "File_3.csv",
        "LSOA code (2021),Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),Income Deprivation Affecting Children Index (IDACI) Rank (where 1 is most deprived),Income Deprivation Affecting Children Index (IDACI) Decile (where 1 is most deprived 10% of LSOAs),Income Deprivation Affecting Children Index (IDACI) Score (rate)\n\
         E01000001,26525,33304,10,0.006\nE01033768,99,1,1,0.5\n",
    );
    let errors = rejected(&AreaFiles {
        supplementary: Some(supplementary.clone()),
        ..files.clone()
    });
    assert!(
        errors[0].starts_with("File_3.csv line 3: imd_rank: is \"99\" here but 1204"),
        "{errors:?}"
    );
    let fixed = std::fs::read_to_string(&supplementary)
        .unwrap()
        .replace(",99,", ",1204,");
    std::fs::write(&supplementary, fixed).unwrap();
    app.import_areas(&AreaFiles {
        supplementary: Some(supplementary),
        ..files
    });
    let a = app.get("/v1/areas/E01000001").json();
    assert_eq!(
        a["supplementary"],
        serde_json::json!({"idaci": {"score": 0.006, "rank": 33304, "decile": 10}})
    );
}
