//! Statistical areas (LSOAs) with their deprivation, as imported from the official files.

use serde::Serialize;
use utoipa::ToSchema;

/// The seven IoD domains, in the order of the official files, with the short names used
/// in columns (`income_rank`, `income_decile`, ...).
pub const DOMAINS: [&str; 7] = [
    "income",
    "employment",
    "education",
    "health",
    "crime",
    "housing",
    "environment",
];

/// One statistical area: the same shape in the database, the API and CSV output.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"code": "E01000001", "name": "City of London 001A", "la_code": "E09000001",
    "la_name": "City of London", "nation": "England", "lat": 51.518499, "lon": -0.097009,
    "population": 1296, "imd_score": null, "imd_rank": 29199, "imd_decile": 9,
    "income_rank": 32831, "income_decile": 10, "employment_rank": 32742, "employment_decile": 10,
    "education_rank": 32842, "education_decile": 10, "health_rank": 32113, "health_decile": 10,
    "crime_rank": 32662, "crime_decile": 10, "housing_rank": 7319, "housing_decile": 3,
    "environment_rank": 7789, "environment_decile": 3}))]
pub struct Area {
    /// ONS code, e.g. `E01000001`.
    pub code: String,
    pub name: String,
    /// Local authority district code and name, as given in the IMD file.
    pub la_code: String,
    pub la_name: String,
    /// England, Wales, Scotland or Northern Ireland, from the code's first letter.
    pub nation: String,
    /// The representative point (WGS84): the given point, or a point inside the boundary.
    pub lat: f64,
    pub lon: f64,
    /// Residents, when a population file was imported.
    pub population: Option<i64>,
    /// IMD score, when the file gave it.
    pub imd_score: Option<f64>,
    /// IMD rank, 1 = most deprived.
    pub imd_rank: i32,
    /// IMD decile, 1 = most deprived 10%.
    pub imd_decile: i32,
    pub income_rank: Option<i32>,
    pub income_decile: Option<i32>,
    pub employment_rank: Option<i32>,
    pub employment_decile: Option<i32>,
    pub education_rank: Option<i32>,
    pub education_decile: Option<i32>,
    pub health_rank: Option<i32>,
    pub health_decile: Option<i32>,
    pub crime_rank: Option<i32>,
    pub crime_decile: Option<i32>,
    pub housing_rank: Option<i32>,
    pub housing_decile: Option<i32>,
    pub environment_rank: Option<i32>,
    pub environment_decile: Option<i32>,
    /// GeoJSON Polygon or MultiPolygon; served as the geometry of GeoJSON output.
    #[serde(skip)]
    pub boundary: Option<String>,
}

impl Area {
    /// The domain (rank, decile) slots, in [`DOMAINS`] order, for filling from a file.
    pub fn domains_mut(&mut self) -> [(&mut Option<i32>, &mut Option<i32>); 7] {
        [
            (&mut self.income_rank, &mut self.income_decile),
            (&mut self.employment_rank, &mut self.employment_decile),
            (&mut self.education_rank, &mut self.education_decile),
            (&mut self.health_rank, &mut self.health_decile),
            (&mut self.crime_rank, &mut self.crime_decile),
            (&mut self.housing_rank, &mut self.housing_decile),
            (&mut self.environment_rank, &mut self.environment_decile),
        ]
    }

    /// The CSV header matching [`Area::csv_record`].
    pub fn csv_header() -> Vec<String> {
        let mut h: Vec<String> = [
            "area_code",
            "area_name",
            "la_code",
            "la_name",
            "nation",
            "lat",
            "lon",
            "population",
            "imd_score",
            "imd_rank",
            "imd_decile",
        ]
        .map(String::from)
        .to_vec();
        for d in DOMAINS {
            h.push(format!("{d}_rank"));
            h.push(format!("{d}_decile"));
        }
        h
    }

    pub fn csv_record(&self) -> Vec<String> {
        let opt = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
        let mut r = vec![
            self.code.clone(),
            self.name.clone(),
            self.la_code.clone(),
            self.la_name.clone(),
            self.nation.clone(),
            self.lat.to_string(),
            self.lon.to_string(),
            self.population.map(|p| p.to_string()).unwrap_or_default(),
            self.imd_score.map(|s| s.to_string()).unwrap_or_default(),
            self.imd_rank.to_string(),
            self.imd_decile.to_string(),
        ];
        for v in [
            self.income_rank,
            self.income_decile,
            self.employment_rank,
            self.employment_decile,
            self.education_rank,
            self.education_decile,
            self.health_rank,
            self.health_decile,
            self.crime_rank,
            self.crime_decile,
            self.housing_rank,
            self.housing_decile,
            self.environment_rank,
            self.environment_decile,
        ] {
            r.push(opt(v));
        }
        r
    }
}

/// The nation of a GSS code, from its first letter.
pub fn nation_of(code: &str) -> &'static str {
    match code.as_bytes().first() {
        Some(b'E') => "England",
        Some(b'W') => "Wales",
        Some(b'S') => "Scotland",
        Some(b'N') => "Northern Ireland",
        _ => "unknown",
    }
}

/// The active vintage of areas.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"version": 1, "index_name": "IoD2019", "geography": "LSOA 2011",
    "imported_at": "2026-11-25T09:00:00Z"}))]
pub struct AreaSetInfo {
    #[serde(skip)]
    pub id: i32,
    /// Bumped by every area import.
    pub version: i64,
    /// The deprivation index, e.g. `IoD2019`; null before the first import.
    pub index_name: Option<String>,
    /// The geography, e.g. `LSOA 2011`.
    pub geography: Option<String>,
    /// Microseconds since the epoch in the database; RFC 3339 in the API.
    #[serde(serialize_with = "micros_rfc3339")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub imported_at: Option<i64>,
}

fn micros_rfc3339<S: serde::Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v.and_then(chrono::DateTime::from_timestamp_micros) {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        None => s.serialize_none(),
    }
}
