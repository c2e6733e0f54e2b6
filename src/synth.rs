//! A deterministic generator of synthetic assets for benchmarks, placed where people live:
//! around LSOA representative points, chosen in proportion to their population.

use std::path::Path;

use crate::domain::RawAsset;
use crate::import::{read_bytes, strip_bom, ImportError};

/// A populated area: a representative point, a place name and its residents.
#[derive(Clone, Debug)]
pub struct PopulatedPoint {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub population: f64,
}

/// SplitMix64: tiny, fast and the same on every machine, so a seed always gives the same data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

/// Reads LSOA points (`LSOA11CD,LSOA11NM,lat,lon`) and the IoD population denominators
/// (File 6: code in the first column, `Total population…` with thousands separators).
pub fn read_populated_points(
    points: &Path,
    population: &Path,
) -> Result<Vec<PopulatedPoint>, ImportError> {
    let bad = |p: &Path, why: String| ImportError::Io(format!("{}: {why}", p.display()));
    let pop_bytes = read_bytes(population)?;
    let mut rdr = csv::Reader::from_reader(strip_bom(&pop_bytes));
    let headers = rdr
        .headers()
        .map_err(|e| bad(population, e.to_string()))?
        .clone();
    let col = headers
        .iter()
        .position(|h| h.starts_with("Total population"))
        .ok_or_else(|| bad(population, "no 'Total population' column".into()))?;
    let mut pop = std::collections::HashMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(population, e.to_string()))?;
        let n: f64 = rec[col]
            .replace(',', "")
            .parse()
            .map_err(|_| bad(population, format!("bad population {:?}", &rec[col])))?;
        pop.insert(rec[0].to_string(), n);
    }

    let pt_bytes = read_bytes(points)?;
    let mut rdr = csv::Reader::from_reader(strip_bom(&pt_bytes));
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(points, e.to_string()))?;
        let parse = |i: usize| {
            rec[i]
                .parse::<f64>()
                .map_err(|_| bad(points, format!("bad coordinate {:?}", &rec[i])))
        };
        let (lat, lon) = (parse(2)?, parse(3)?);
        // "Camden 001A" -> "Camden": the district, a plausible place name.
        let name = rec[1]
            .rsplit_once(' ')
            .map_or(&rec[1], |(n, _)| n)
            .to_string();
        if let Some(&population) = pop.get(&rec[0]) {
            out.push(PopulatedPoint {
                name,
                lat,
                lon,
                population,
            });
        }
    }
    Ok(out)
}

const CATEGORIES: [(&str, &str, f64); 9] = [
    ("cafe", "Cafe", 0.28),
    ("community_centre", "Community Centre", 0.18),
    ("library", "Library", 0.10),
    ("heritage", "Heritage Site", 0.10),
    ("arts_centre", "Arts Centre", 0.09),
    ("museum", "Museum", 0.08),
    ("gallery", "Gallery", 0.07),
    ("theatre", "Theatre", 0.05),
    ("cinema", "Cinema", 0.05),
];

const HOURS: [&str; 6] = [
    "",
    "Mo-Fr 09:00-17:00",
    "Mo-Sa 10:00-16:00; PH off",
    "Tu-Su 10:00-17:30",
    "Mo-Fr 08:00-18:00; Sa 09:00-13:00",
    "We-Su 11:00-23:00",
];
const TAGS: [&str; 8] = [
    "family",
    "dementia-friendly",
    "autism-friendly",
    "free-wifi",
    "workshops",
    "volunteering",
    "quiet-space",
    "older-people",
];
const WHEELCHAIR: [&str; 4] = ["yes", "yes", "limited", "unknown"];
const COST: [&str; 4] = ["free", "free", "paid", "donation"];

/// `n` assets in the import format, the same for the same `seed` and `areas`.
pub fn generate(areas: &[PopulatedPoint], n: usize, seed: u64) -> Vec<RawAsset> {
    let mut rng = Rng::new(seed);
    let mut cumulative = Vec::with_capacity(areas.len());
    let mut sum = 0.0;
    for a in areas {
        sum += a.population;
        cumulative.push(sum);
    }
    (0..n)
        .map(|i| {
            let target = rng.unit() * sum;
            let area = &areas[cumulative
                .partition_point(|&c| c <= target)
                .min(areas.len() - 1)];
            // Uniform in a 400 m disc around the area's point.
            let r = 400.0 * rng.unit().sqrt();
            let theta = rng.unit() * std::f64::consts::TAU;
            let lat = area.lat + r * theta.sin() / 111_195.0;
            let lon = area.lon + r * theta.cos() / (111_195.0 * area.lat.to_radians().cos());
            let mut x = rng.unit();
            let (slug, label, _) = *CATEGORIES
                .iter()
                .find(|c| {
                    x -= c.2;
                    x < 0.0
                })
                .unwrap_or(&CATEGORIES[0]);
            let mut tags: Vec<&str> = (0..rng.next_u64() % 3).map(|_| *rng.pick(&TAGS)).collect();
            tags.dedup();
            RawAsset {
                source: "synthetic".into(),
                source_id: i.to_string(),
                name: format!("{} {label} {}", area.name, i % 1000),
                category: slug.into(),
                lat: format!("{lat:.6}"),
                lon: format!("{lon:.6}"),
                town: area.name.clone(),
                opening_hours: rng.pick(&HOURS).to_string(),
                wheelchair: rng.pick(&WHEELCHAIR).to_string(),
                cost: rng.pick(&COST).to_string(),
                description: format!("A synthetic {} for benchmarks.", label.to_lowercase()),
                tags: tags.join(";"),
                status: "published".into(),
                ..Default::default()
            }
        })
        .collect()
}

/// Writes assets as import CSV, cells neutralised as the service's own CSV are.
pub fn write_csv<W: std::io::Write>(out: W, rows: &[RawAsset]) -> csv::Result<()> {
    use crate::import::csv_cell::neutralise;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(crate::domain::asset::CSV_COLUMNS)?;
    for r in rows {
        w.write_record(r.cells().map(neutralise).iter().map(|c| c.as_bytes()))?;
    }
    w.flush()?;
    Ok(())
}

/// Activity kinds a venue of each category plausibly hosts (the first most often).
fn kinds_for(category: &str) -> &'static [&'static str] {
    match category {
        "library" => &[
            "reading",
            "crafts",
            "creative-arts",
            "music-singing",
            "heritage",
        ],
        "museum" | "heritage" => &["heritage", "creative-arts", "crafts", "nature"],
        "gallery" => &["creative-arts", "crafts", "reading"],
        "theatre" => &["dance", "music-singing", "creative-arts"],
        "cinema" => &["film", "film", "reading"],
        "arts_centre" => &["creative-arts", "dance", "music-singing", "crafts", "film"],
        "community_centre" => &["dance", "music-singing", "crafts", "nature", "reading"],
        _ => &["crafts", "reading", "music-singing", "creative-arts"],
    }
}

const ACTIVITY_NAMES: [(&str, &str); 8] = [
    ("reading", "Shared reading group"),
    ("crafts", "Knit and natter"),
    ("creative-arts", "Art on prescription"),
    ("music-singing", "Singing for better breathing"),
    ("heritage", "Object handling and memories"),
    ("film", "Dementia-friendly screening"),
    ("dance", "Seated dance"),
    ("nature", "Green gym"),
];

const AUDIENCES: [&str; 8] = [
    "dementia",
    "mental-health",
    "long-term-conditions",
    "loneliness",
    "young-people",
    "older-people",
    "carers",
    "learning-disabilities",
];

const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// A schedule line as JSON: weekly on one or two days (most), monthly on an n-th weekday,
/// or one-off dates within eight weeks of `today`; daytime or early evening, an hour to two
/// and a half. Some recurrences start later or have ended.
fn schedule(rng: &mut Rng, today: chrono::NaiveDate) -> Vec<serde_json::Value> {
    use serde_json::json;
    let opens = 9 * 60 + 30 * (rng.next_u64() % 20) as u32;
    let closes = opens + 60 + 30 * (rng.next_u64() % 4) as u32;
    let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
    let (opens_at, closes_at) = (hm(opens), hm(closes));
    let day = |rng: &mut Rng| *rng.pick(&DAYS);
    let date = |days: i64| (today + chrono::Duration::days(days)).to_string();
    let x = rng.unit();
    let mut line = if x < 0.70 {
        let mut byday = vec![day(rng)];
        if rng.unit() < 0.25 {
            byday.push(day(rng));
            byday.dedup();
        }
        json!({"freq": "WEEKLY", "byday": byday.join(","), "opens_at": opens_at, "closes_at": closes_at})
    } else if x < 0.85 {
        let nth = *rng.pick(&["1", "2", "3", "4", "-1"]);
        json!({"freq": "MONTHLY", "byday": format!("{nth}{}", day(rng)), "opens_at": opens_at,
            "closes_at": closes_at})
    } else {
        let n = 1 + rng.next_u64() % 3;
        return (0..n)
            .map(|_| {
                json!({"date": date((rng.next_u64() % 56) as i64 - 7), "opens_at": opens_at,
                    "closes_at": closes_at})
            })
            .collect();
    };
    let v = rng.unit();
    if v < 0.10 {
        line["valid_to"] = json!(date(-(1 + (rng.next_u64() % 60) as i64)));
    } else if v < 0.20 {
        line["valid_from"] = json!(date(1 + (rng.next_u64() % 30) as i64));
    } else if v < 0.35 {
        line["valid_to"] = json!(date(30 + (rng.next_u64() % 120) as i64));
    }
    vec![line]
}

/// `n` activities as JSON objects ([`crate::domain::activity::ActivityFields::parse`]
/// reads them) at `venues` (asset id and category), the same for the same `seed` and
/// `today`: kinds by the venue's category, zero to two audiences, ages where an audience
/// implies them, schedules as [`schedule`], mostly free, most published.
pub fn generate_activities(
    venues: &[(uuid::Uuid, String)],
    n: usize,
    seed: u64,
    today: chrono::NaiveDate,
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    use serde_json::json;
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let (venue, category) = rng.pick(venues);
            let kind = *rng.pick(kinds_for(category));
            let label = ACTIVITY_NAMES
                .iter()
                .find(|(k, _)| *k == kind)
                .map_or("Activity", |(_, l)| l);
            let mut audiences: Vec<&str> = (0..rng.next_u64() % 3)
                .map(|_| *rng.pick(&AUDIENCES))
                .collect();
            audiences.sort_unstable();
            audiences.dedup();
            let mut o = json!({
                "asset_id": venue.to_string(),
                "name": format!("{label} {i}"),
                "description": format!("A synthetic {} session, number {i}.", kind.replace('-', " ")),
                "kind": kind,
                "audiences": audiences,
                "schedule": schedule(&mut rng, today),
                "referral": match rng.next_u64() % 4 {
                    0 => json!(["self"]),
                    1 => json!(["link-worker", "gp"]),
                    2 => json!(["self", "link-worker"]),
                    _ => json!(["self", "link-worker", "gp"]),
                },
                "status": match rng.next_u64() % 20 {
                    0 => "draft",
                    1 => "archived",
                    _ => "published",
                },
                "source": "synthetic",
                "source_id": i.to_string(),
            });
            if audiences.contains(&"young-people") {
                o["min_age"] = json!(11 + rng.next_u64() % 3);
                o["max_age"] = json!(18 + rng.next_u64() % 8);
            } else if audiences.contains(&"older-people") {
                o["min_age"] = json!(55 + 5 * (rng.next_u64() % 3));
            } else if rng.unit() < 0.3 {
                o["min_age"] = json!(18);
            }
            match rng.next_u64() % 20 {
                0..=11 => o["cost"] = json!("free"),
                12..=16 => {
                    o["cost"] = json!("paid");
                    o["cost_amount"] = json!(2.5 + (rng.next_u64() % 6) as f64);
                }
                _ => o["cost"] = json!("donation"),
            }
            o.as_object().cloned().unwrap_or_default()
        })
        .collect()
}

/// Adds `n` generated activities ([`generate_activities`]) at the published assets of the
/// database, in one transaction (one data version), for benchmarks. Returns how many.
pub fn seed_activities(
    store: &crate::store::Store,
    n: usize,
    seed: u64,
    today: chrono::NaiveDate,
) -> Result<usize, crate::store::StoreError> {
    use crate::domain::activity::{Activity, ActivityFields, Vocabulary};
    use crate::store::{activities, assets, bump_version, StoreError};
    use diesel::Connection;
    let mut conn = store.conn()?;
    // In an order of their own (ids are random), so that a seed picks the same venues.
    let mut published: Vec<crate::domain::Asset> = assets::all(&mut conn)?
        .into_iter()
        .filter(|a| a.fields.status == crate::domain::Status::Published)
        .collect();
    published.sort_by(|a, b| {
        let key = |x: &crate::domain::Asset| {
            (
                x.fields.source.clone(),
                x.fields.source_id.clone(),
                x.fields.name.clone(),
            )
        };
        key(a)
            .cmp(&key(b))
            .then(a.fields.lat.total_cmp(&b.fields.lat))
            .then(a.fields.lon.total_cmp(&b.fields.lon))
    });
    let venues: Vec<(uuid::Uuid, String)> = published
        .into_iter()
        .map(|a| (a.id, a.fields.category))
        .collect();
    if venues.is_empty() {
        return Err(StoreError::Invalid(
            "no published assets to hold activities".into(),
        ));
    }
    let slugs = |terms: Vec<crate::domain::activity::Term>| {
        terms
            .into_iter()
            .map(|t| t.slug)
            .collect::<std::collections::HashSet<_>>()
    };
    let kinds = slugs(activities::kinds(&mut conn)?);
    let audiences = slugs(activities::audiences(&mut conn)?);
    let vocab = Vocabulary {
        kinds: &kinds,
        audiences: &audiences,
    };
    let now = crate::store::now();
    let mut rng = Rng::new(seed ^ 0xAC71);
    let list: Vec<Activity> = generate_activities(&venues, n, seed, today)
        .iter()
        .map(|o| {
            ActivityFields::parse(o, &vocab)
                .map(|f| {
                    Activity::new(
                        uuid::Uuid::from_u64_pair(rng.next_u64(), rng.next_u64()),
                        f,
                        now,
                    )
                })
                .map_err(|e| StoreError::Invalid(format!("a generated activity is invalid: {e:?}")))
        })
        .collect::<Result<_, _>>()?;
    conn.transaction(|c| {
        let seq = bump_version(c)?;
        for a in &list {
            activities::insert(c, seq, a, "synthetic", "activity.create")?;
        }
        Ok(list.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_activities_are_valid_and_the_same_for_a_seed() {
        use crate::domain::activity::{ActivityFields, Vocabulary};
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let venues: Vec<(uuid::Uuid, String)> = ["library", "museum", "cinema", "cafe"]
            .iter()
            .enumerate()
            .map(|(i, c)| (uuid::Uuid::from_u64_pair(1, i as u64), c.to_string()))
            .collect();
        let a = generate_activities(&venues, 500, 3, today);
        assert_eq!(a, generate_activities(&venues, 500, 3, today));
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        let kinds = set(&[
            "creative-arts",
            "music-singing",
            "heritage",
            "reading",
            "film",
            "crafts",
            "dance",
            "nature",
        ]);
        let audiences = set(&AUDIENCES);
        let vocab = Vocabulary {
            kinds: &kinds,
            audiences: &audiences,
        };
        for o in &a {
            if let Err(e) = ActivityFields::parse(o, &vocab) {
                panic!("{o:?}: {e:?}");
            }
        }
        let weekly = a
            .iter()
            .filter(|o| o["schedule"][0]["freq"] == "WEEKLY")
            .count();
        assert!((300..400).contains(&weekly), "{weekly} weekly of 500");
    }

    #[test]
    fn same_seed_same_data() {
        let areas = vec![
            PopulatedPoint {
                name: "A".into(),
                lat: 51.5,
                lon: -0.1,
                population: 1000.0,
            },
            PopulatedPoint {
                name: "B".into(),
                lat: 53.4,
                lon: -2.2,
                population: 3000.0,
            },
        ];
        let a = generate(&areas, 200, 7);
        let b = generate(&areas, 200, 7);
        assert_eq!(
            a.iter().map(|r| r.cells().join(",")).collect::<Vec<_>>(),
            b.iter().map(|r| r.cells().join(",")).collect::<Vec<_>>()
        );
        let in_b = a.iter().filter(|r| r.town == "B").count();
        assert!(
            (100..190).contains(&in_b),
            "population weighting: {in_b} of 200 in B"
        );
    }
}
