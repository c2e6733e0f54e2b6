//! Statistical areas (LSOAs) with their deprivation, as imported from the official files.

use serde::{Deserialize, Serialize};
use std::num::{NonZeroU32, NonZeroU8};
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

/// One measure of an index for an area: its score, rank (1 = most deprived) and decile
/// (1 = most deprived 10%), each present only when an imported file gave it. 16 bytes: the
/// area set holds nine of these for each of ~33,000 areas and every report reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"score": 0.101, "rank": 32831, "decile": 10}))]
pub struct Measure {
    /// As published (a rate for income and employment, a score otherwise), to about 7
    /// significant digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub score: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i32>, minimum = 1)]
    pub rank: Option<NonZeroU32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 10)]
    pub decile: Option<NonZeroU8>,
}

impl Measure {
    pub fn is_empty(&self) -> bool {
        self.score.is_none() && self.rank.is_none() && self.decile.is_none()
    }

    pub fn rank_i32(&self) -> Option<i32> {
        self.rank.map(|r| r.get() as i32)
    }

    pub fn decile_i32(&self) -> Option<i32> {
        self.decile.map(|d| i32::from(d.get()))
    }

    /// Sets rank and decile from stored integers; out-of-range values count as absent.
    pub fn with_rank_decile(mut self, rank: Option<i32>, decile: Option<i32>) -> Self {
        self.rank = rank.and_then(|r| NonZeroU32::new(u32::try_from(r).ok()?));
        self.decile = decile
            .filter(|d| (1..=10).contains(d))
            .and_then(|d| NonZeroU8::new(d as u8));
        self
    }
}

/// The seven domains of the IoD; a domain is omitted from JSON when nothing of it was
/// imported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Domains {
    #[serde(skip_serializing_if = "Measure::is_empty")]
    pub income: Measure,
    #[serde(skip_serializing_if = "Measure::is_empty")]
    pub employment: Measure,
    /// Education, Skills and Training.
    #[serde(skip_serializing_if = "Measure::is_empty")]
    pub education: Measure,
    /// Health Deprivation and Disability.
    #[serde(skip_serializing_if = "Measure::is_empty")]
    pub health: Measure,
    #[serde(skip_serializing_if = "Measure::is_empty")]
    pub crime: Measure,
    /// Barriers to Housing and Services.
    #[serde(skip_serializing_if = "Measure::is_empty")]
    pub housing: Measure,
    /// Living Environment.
    #[serde(skip_serializing_if = "Measure::is_empty")]
    pub environment: Measure,
}

impl Domains {
    /// The measures in [`DOMAINS`] order.
    pub fn all(&self) -> [&Measure; 7] {
        [
            &self.income,
            &self.employment,
            &self.education,
            &self.health,
            &self.crime,
            &self.housing,
            &self.environment,
        ]
    }

    /// The measures in [`DOMAINS`] order, for filling from a file.
    pub fn all_mut(&mut self) -> [&mut Measure; 7] {
        [
            &mut self.income,
            &mut self.employment,
            &mut self.education,
            &mut self.health,
            &mut self.crime,
            &mut self.housing,
            &mut self.environment,
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.all().iter().all(|m| m.is_empty())
    }
}

/// The supplementary indices of IoD File 3, subsets of the income domain.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Supplementary {
    /// Income Deprivation Affecting Children Index.
    #[serde(skip_serializing_if = "Measure::is_empty")]
    pub idaci: Measure,
    /// Income Deprivation Affecting Older People Index.
    #[serde(skip_serializing_if = "Measure::is_empty")]
    pub idaopi: Measure,
}

impl Supplementary {
    /// The measures in [`SUPPLEMENTARY`] order.
    pub fn all_mut(&mut self) -> [&mut Measure; 2] {
        [&mut self.idaci, &mut self.idaopi]
    }

    pub fn is_empty(&self) -> bool {
        self.idaci.is_empty() && self.idaopi.is_empty()
    }
}

/// The supplementary indices' short names, in [`Supplementary`] order.
pub const SUPPLEMENTARY: [&str; 2] = ["idaci", "idaopi"];

/// One statistical area: the same shape in the database, the API and CSV output.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({"code": "E01000001", "name": "City of London 001A", "la_code": "E09000001",
    "la_name": "City of London", "nation": "England", "lat": 51.5195933, "lon": -0.0962404,
    "population": 1474, "imd_score": 8.742, "imd_rank": 26525, "imd_decile": 8,
    "domains": {"income": {"score": 0.013, "rank": 33730, "decile": 10},
        "employment": {"score": 0.014, "rank": 33708, "decile": 10},
        "education": {"score": 0.004, "rank": 33755, "decile": 10},
        "health": {"score": -1.771, "rank": 33108, "decile": 10},
        "crime": {"score": -2.22, "rank": 33698, "decile": 10},
        "housing": {"score": 10.95, "rank": 29220, "decile": 9},
        "environment": {"score": 69.345, "rank": 244, "decile": 1}},
    "supplementary": {"idaci": {"rank": 33304, "decile": 10}, "idaopi": {"rank": 33721, "decile": 10}}}))]
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
    /// The domains' scores, ranks and deciles that were imported; absent when none was.
    #[serde(skip_serializing_if = "Domains::is_empty")]
    pub domains: Domains,
    /// IDACI and IDAOPI (IoD File 3), when imported.
    #[serde(skip_serializing_if = "Supplementary::is_empty")]
    pub supplementary: Supplementary,
    /// GeoJSON Polygon or MultiPolygon; served as the geometry of GeoJSON output.
    #[serde(skip)]
    pub boundary: Option<String>,
}

impl Area {
    /// The CSV header matching [`Area::csv_record`]: the columns of earlier versions first,
    /// in their order, then the scores and the supplementary indices.
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
        h.extend(DOMAINS.map(|d| format!("{d}_score")));
        for s in SUPPLEMENTARY {
            h.extend(["score", "rank", "decile"].map(|m| format!("{s}_{m}")));
        }
        h
    }

    pub fn csv_record(&self) -> Vec<String> {
        fn cell<T: ToString>(v: Option<T>) -> String {
            v.map(|v| v.to_string()).unwrap_or_default()
        }
        let mut r = vec![
            self.code.clone(),
            self.name.clone(),
            self.la_code.clone(),
            self.la_name.clone(),
            self.nation.clone(),
            self.lat.to_string(),
            self.lon.to_string(),
            cell(self.population),
            cell(self.imd_score),
            self.imd_rank.to_string(),
            self.imd_decile.to_string(),
        ];
        let domains = self.domains.all();
        for m in domains {
            r.push(cell(m.rank));
            r.push(cell(m.decile));
        }
        r.extend(domains.map(|m| cell(m.score)));
        for m in [&self.supplementary.idaci, &self.supplementary.idaopi] {
            r.extend([cell(m.score), cell(m.rank), cell(m.decile)]);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_are_compact_and_serialise_only_what_was_imported() {
        // Nine measures an area, ~33,000 areas, read by every report.
        assert_eq!(std::mem::size_of::<Measure>(), 16);
        assert_eq!(std::mem::size_of::<Domains>(), 7 * 16);
        let mut a = Domains::default();
        assert!(a.is_empty());
        a.crime = Measure::default().with_rank_decile(Some(244), Some(1));
        a.income.score = Some(0.013);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(
            json,
            r#"{"income":{"score":0.013},"crime":{"rank":244,"decile":1}}"#
        );
        let bad = Measure::default().with_rank_decile(Some(0), Some(11));
        assert!(bad.is_empty(), "out of range counts as absent");
    }
}
