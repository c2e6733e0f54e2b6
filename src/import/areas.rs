//! Area import from the official files as published: the English Indices of Deprivation
//! CSVs (File 1 IMD, File 2 domains, File 3 IDACI/IDAOPI, File 6 population, or File 7 with
//! everything; the 2019 and 2025 header variants, a UTF-8 byte-order mark, thousands
//! separators such as `"29,199"`), population tables by LSOA (Census 2021, ONS estimates), a
//! point file (lat/lon or British National Grid easting/northing) and GeoJSON boundaries. Any
//! file may be gzip-compressed. All or nothing: every problem is reported with its file, line
//! (or feature) and reason, problems with a whole file first.
//!
//! Columns are found by what their headers say rather than by position, so a new vintage
//! whose headers read `LSOA code (2021)` or `... mid 2022 ...` imports unchanged.

use serde_json::Value;
use std::collections::HashMap;
use std::num::{NonZeroU32, NonZeroU8};
use std::path::{Path, PathBuf};

use super::{read_bytes, strip_bom, ImportError, RowError};
use crate::domain::area::{nation_of, DOMAINS, SUPPLEMENTARY};
use crate::domain::{Area, AreaSetInfo};
use crate::geo::{bng, boundary};
use crate::store::areas::replace_areas;
use crate::store::Store;

/// The files of one area import; `imd` is required, and points or boundaries (or both).
/// Also the command line's `import areas` options.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct AreaFiles {
    /// The IMD file: IoD File 1 (rank and decile) or File 7 (scores, ranks and deciles of
    /// the IMD and of the domains, and IDACI/IDAOPI when present: one file gives them all).
    #[arg(long)]
    pub imd: PathBuf,
    /// A domains file: IoD File 2 (ranks and deciles) or any file with domain columns
    /// (File 5 scores, File 7). Not needed when --imd is File 7.
    #[arg(long)]
    pub domains: Option<PathBuf>,
    /// The supplementary indices: IoD File 3 (IDACI and IDAOPI ranks and deciles, and
    /// scores when the file has them).
    #[arg(long)]
    pub supplementary: Option<PathBuf>,
    /// A population table by area: IoD File 6, a Census 2021 table (TS001/TS021 usual
    /// residents), ONS mid-year estimates (all ages); see --population-column.
    #[arg(long)]
    pub population: Option<PathBuf>,
    /// The population file's column of residents, when its header is not one recognised
    /// (matched without regard to case).
    #[arg(long, requires = "population")]
    pub population_column: Option<String>,
    /// The population file's column of area codes, when its header is not one recognised.
    #[arg(long, requires = "population")]
    pub code_column: Option<String>,
    /// Representative points: lat/lon or British National Grid easting/northing, e.g. the
    /// ONS population-weighted centroids.
    #[arg(long)]
    pub points: Option<PathBuf>,
    /// GeoJSON boundaries (Polygon or MultiPolygon features with the area code).
    #[arg(long)]
    pub boundaries: Option<PathBuf>,
    /// The index's name, e.g. IoD2025 (default: from the IMD file's name or geography).
    #[arg(long)]
    pub vintage: Option<String>,
}

/// Areas ready to store.
#[derive(Debug)]
pub struct ParsedAreas {
    pub areas: Vec<Area>,
    pub index_name: String,
    pub geography: String,
    /// What was skipped without being an error (e.g. Welsh areas in a boundary file).
    pub notes: Vec<String>,
}

/// A finished (or dry-run) import.
#[derive(Debug)]
pub struct AreaOutcome {
    pub parsed: ParsedAreas,
    /// The new active vintage; `None` in a dry run.
    pub info: Option<AreaSetInfo>,
}

/// Reads, checks and (unless `dry_run`) stores the areas, replacing the active vintage.
pub fn import_areas_files(
    store: &Store,
    files: &AreaFiles,
    dry_run: bool,
) -> Result<AreaOutcome, ImportError> {
    let mut parsed = parse_area_files(files)?;
    let info = if dry_run {
        None
    } else {
        let info = replace_areas(
            &mut *store.conn()?,
            &parsed.areas,
            &parsed.index_name,
            &parsed.geography,
        )?;
        Some(info)
    };
    // The boundaries are in the database now; the caller needs only the counts.
    parsed.areas.iter_mut().for_each(|a| a.boundary = None);
    Ok(AreaOutcome { parsed, info })
}

/// Reads and checks every file; see the module documentation.
pub fn parse_area_files(files: &AreaFiles) -> Result<ParsedAreas, ImportError> {
    parse_area_files_with(files, read_bytes)
}

/// [`parse_area_files`] with each file's bytes (already gunzipped) from `read` rather than
/// the file system: the entry point of the `iod` fuzz target, which serves in-memory files.
#[doc(hidden)]
pub fn parse_area_files_with(
    files: &AreaFiles,
    read: impl Fn(&Path) -> Result<Vec<u8>, ImportError>,
) -> Result<ParsedAreas, ImportError> {
    if files.points.is_none() && files.boundaries.is_none() {
        return Err(ImportError::Io(
            "give --points or --boundaries (or both): every area needs a location".into(),
        ));
    }
    // Every file is read before any is joined, so that files of another geography are the
    // whole answer rather than the last of thousands of row errors they cause.
    let table = |p: &Option<PathBuf>| p.as_deref().map(|p| Table::read(p, &read)).transpose();
    let imd = Table::read(&files.imd, &read)?;
    let domains = table(&files.domains)?;
    let supplementary = table(&files.supplementary)?;
    let population = table(&files.population)?;
    let points = table(&files.points)?;
    let boundaries = files
        .boundaries
        .as_deref()
        .map(|p| Boundaries::read(p, &read))
        .transpose()?;

    let mut geographies = vec![(imd.label.clone(), imd.geography_year())];
    for t in [&domains, &supplementary, &population, &points]
        .into_iter()
        .flatten()
    {
        geographies.push((t.label.clone(), t.geography_year()));
    }
    if let Some(b) = &boundaries {
        geographies.push((b.label.clone(), b.geography_year()));
    }
    let mismatches = geography_mismatches(&geographies);
    if !mismatches.is_empty() {
        return Err(ImportError::Rejected(mismatches.into()));
    }

    let mut errors = Vec::new();
    let (areas, lines) = read_imd(&imd, &mut errors);
    let mut join = Join {
        index: areas
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code.clone(), i))
            .collect(),
        areas,
        lines,
        imd_label: imd.label.clone(),
        file_errors: Vec::new(),
        errors,
        notes: Vec::new(),
    };

    // File 7 as the IMD file: its domains (and IDACI/IDAOPI) come with it.
    let imd_indices = IndexColumns::find(&imd);
    if !imd_indices.is_empty() && !join.areas.is_empty() {
        join.table(&imd, "domains", |a, rec| imd_indices.fill(a, rec));
    }
    for (t, what) in [(&domains, "domains"), (&supplementary, "supplementary")] {
        let Some(t) = t else { continue };
        let cols = IndexColumns::find(t);
        let wanted = if what == "domains" {
            cols.has_domains()
        } else {
            cols.has_supplementary()
        };
        if !wanted {
            join.file_errors.push(row_error(
                &format!("{} line 1", t.label),
                "header",
                if what == "domains" {
                    "has no domain score, rank or decile columns (looked for headers such as \"Income Score (rate)\", \"Income Rank (where 1 is most deprived)\", \"Crime Decile (where 1 is most deprived 10% of LSOAs)\")".into()
                } else {
                    "has no IDACI or IDAOPI columns (looked for headers such as \"Income Deprivation Affecting Children Index (IDACI) Rank (where 1 is most deprived)\")".into()
                },
            ));
            continue;
        }
        // Files 2 and 3 repeat the IMD rank: a mismatch means files of different vintages.
        let imd_rank = t.find(|h| is_imd(h, "rank"));
        join.table(t, what, |a, rec| {
            if let Some(col) = imd_rank {
                if count(rec.get(col).unwrap_or("")) != Some(a.imd_rank as i64) {
                    return Err((
                        "imd_rank".into(),
                        format!(
                        "is {:?} here but {} in the IMD file: are the files from the same vintage?",
                        rec.get(col).unwrap_or(""), a.imd_rank
                    ),
                    ));
                }
            }
            cols.fill(a, rec)
        });
    }

    if let Some(t) = &population {
        match population_columns(t, files) {
            Err(e) => join.file_errors.push(e),
            Ok((code, col)) => join.table_by(t, code, "population", |a, rec| {
                let v = whole(rec, col, 0, i64::MAX).map_err(|e| ("population".to_string(), e))?;
                a.population = Some(v);
                Ok(())
            }),
        }
    }

    if let Some(t) = &points {
        match PointColumns::find(t) {
            Err(e) => join
                .file_errors
                .push(row_error(&format!("{} line 1", t.label), "header", e)),
            Ok(cols) => join.table(t, "point", |a, rec| {
                (a.lat, a.lon) = cols.point(rec)?;
                Ok(())
            }),
        }
    }

    if let Some(b) = &boundaries {
        let label = &b.label;
        let records = b.features.iter().enumerate().map(|(n, f)| {
            (
                format!("{label} feature {n}"),
                boundary_code(f).and_then(|(_, c)| c),
                f,
            )
        });
        let representative = files.points.is_none();
        join.records(label, "boundary", records, |a, f| {
            let shape = f
                .get("geometry")
                .ok_or_else(|| "is missing".to_string())
                .and_then(boundary::parse)
                .map_err(|e| ("geometry".to_string(), e))?;
            if representative {
                (a.lat, a.lon) = boundary::interior_point(&shape).ok_or((
                    "geometry".to_string(),
                    "has no interior point (empty or degenerate)".to_string(),
                ))?;
            }
            a.boundary = Some(boundary::to_geojson(&shape));
            Ok(())
        });
    }

    if !join.file_errors.is_empty() || !join.errors.is_empty() {
        // Problems with a whole file first: the rows' errors may be too many to list.
        let errors = join.file_errors.into_iter().chain(join.errors).collect();
        return Err(ImportError::Rejected(errors));
    }
    let year = geographies.iter().find_map(|g| g.1);
    let geography = year.map_or("LSOA".to_string(), |y| format!("LSOA {y}"));
    let index_name = files
        .vintage
        .clone()
        .or_else(|| index_from_name(&imd.label))
        .or_else(|| match year {
            Some(2011) => Some("IoD2019".into()),
            Some(2021) => Some("IoD2025".into()),
            _ => None,
        })
        .unwrap_or_else(|| "IoD".into());
    Ok(ParsedAreas {
        areas: join.areas,
        index_name,
        geography,
        notes: join.notes,
    })
}

/// One line per file whose geography (from its code header) differs from the IMD file's,
/// or from the first file that tells when the IMD file does not.
fn geography_mismatches(geographies: &[(String, Option<u16>)]) -> Vec<RowError> {
    let known: Vec<&(String, Option<u16>)> =
        geographies.iter().filter(|(_, y)| y.is_some()).collect();
    let Some(first) = known.first() else {
        return Vec::new();
    };
    known[1..]
        .iter()
        .filter(|other| other.1 != first.1)
        .map(|other| {
            row_error(
                &other.0,
                "geography",
                format!(
                    "is LSOA {} but {} is LSOA {}: use files of one geography (IoD2019 is on \
                     LSOA 2011, IoD2025 on LSOA 2021)",
                    other.1.unwrap_or(0),
                    first.0,
                    first.1.unwrap_or(0)
                ),
            )
        })
        .collect()
}

/// A GeoJSON boundary file, parsed.
struct Boundaries {
    label: String,
    features: Vec<Value>,
}

impl Boundaries {
    fn read(
        path: &Path,
        read: impl Fn(&Path) -> Result<Vec<u8>, ImportError>,
    ) -> Result<Self, ImportError> {
        let label = file_label(path);
        let bytes = read(path)?;
        let reject =
            |reason: String| ImportError::Rejected(vec![row_error(&label, "-", reason)].into());
        let mut doc: Value = serde_json::from_slice(strip_bom(&bytes))
            .map_err(|e| reject(format!("is not valid JSON: {e}")))?;
        let features = match doc.get_mut("features").map(Value::take) {
            Some(Value::Array(f)) => f,
            _ => return Err(reject("is not a GeoJSON FeatureCollection".into())),
        };
        Ok(Boundaries { label, features })
    }

    fn geography_year(&self) -> Option<u16> {
        self.features
            .first()
            .and_then(boundary_code)
            .and_then(|(k, _)| year_of(&k))
    }
}

/// A feature's area code property: (its lower-cased key, its value when a string).
fn boundary_code(f: &Value) -> Option<(String, Option<String>)> {
    f.get("properties")?
        .as_object()?
        .iter()
        .find(|(k, _)| is_area_code(&k.to_lowercase()))
        .map(|(k, v)| (k.to_lowercase(), v.as_str().map(str::to_string)))
}

/// Population headers recognised without `--population-column`, most specific first: the
/// first of these that a file has is its population.
const POPULATION_HEADERS: [(&str, Match); 12] = [
    // IoD File 6: "Total population: mid 2015 (excluding prisoners)", "... mid 2022".
    ("total population", Match::Prefix),
    ("usual_residents_ts021", Match::Exact),
    ("usual_residents", Match::Prefix),
    // Census 2021 bulk files (Nomis): "Ethnic group: Total: All usual residents".
    ("all usual residents", Match::Contains),
    ("residence type: total; measures: value", Match::Exact),
    // ONS mid-year estimates.
    ("all_ages", Match::Exact),
    ("all ages", Match::Exact),
    ("total_population", Match::Exact),
    ("population", Match::Exact),
    ("total", Match::Exact),
    // ONS custom-dataset downloads: "Lower layer Super Output Areas Code", "Observation".
    ("observation", Match::Exact),
    ("persons", Match::Exact),
];

#[derive(Clone, Copy)]
enum Match {
    Exact,
    Prefix,
    Contains,
}

impl Match {
    fn test(self, pattern: &str, h: &str) -> bool {
        match self {
            Match::Exact => h == pattern,
            Match::Prefix => h.starts_with(pattern),
            Match::Contains => h.contains(pattern),
        }
    }

    fn describe(self, pattern: &str) -> String {
        match self {
            Match::Exact => format!("{pattern:?}"),
            Match::Prefix => format!("{:?}", format!("{pattern}…")),
            Match::Contains => format!("{:?}", format!("…{pattern}…")),
        }
    }
}

/// The population file's (code, population) columns, from the options or the headers; the
/// error lists what was looked for and what the file has.
fn population_columns(t: &Table, files: &AreaFiles) -> Result<(usize, usize), RowError> {
    let at = format!("{} line 1", t.label);
    let theirs = format!(
        "its headers are {}",
        t.raw_headers
            .iter()
            .map(|h| format!("{h:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let named = |name: &str, option: &str| {
        let want = name.trim().to_lowercase();
        t.find(|h| h == want).ok_or_else(|| {
            row_error(
                &at,
                "header",
                format!("has no column {name:?} (given by {option}); {theirs}"),
            )
        })
    };
    let code = match &files.code_column {
        Some(name) => named(name, "--code-column")?,
        None => t.find(is_area_code).ok_or_else(|| {
            row_error(
                &at,
                "header",
                format!(
                    "has no area code column (looked for \"LSOA code (…)\", \"LSOA21CD\", \
                     \"LSOA11CD\", \"code\", \"area_code\", \"geography code\"); {theirs}; \
                     name it with --code-column"
                ),
            )
        })?,
    };
    let population = match &files.population_column {
        Some(name) => named(name, "--population-column")?,
        None => POPULATION_HEADERS
            .iter()
            .find_map(|(p, m)| t.find(|h| m.test(p, h)))
            .ok_or_else(|| {
                let looked: Vec<String> = POPULATION_HEADERS
                    .iter()
                    .map(|(p, m)| m.describe(p))
                    .collect();
                row_error(
                    &at,
                    "header",
                    format!(
                        "has no population column: looked for {} (without regard to case); \
                         {theirs}; name it with --population-column",
                        looked.join(", ")
                    ),
                )
            })?,
    };
    Ok((code, population))
}

/// Which parts of an index measure a column holds.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Score,
    Rank,
    Decile,
}

/// The domain and supplementary-index columns of a file: (measure, part, column), where
/// measures 0..7 are the domains in [`DOMAINS`] order and 7, 8 are IDACI and IDAOPI.
struct IndexColumns(Vec<(usize, Part, usize)>);

impl IndexColumns {
    fn find(t: &Table) -> Self {
        let parts = [
            (Part::Score, "score"),
            (Part::Rank, "rank"),
            (Part::Decile, "decile"),
        ];
        let mut found = Vec::new();
        for (k, prefix) in DOMAIN_PREFIXES.iter().enumerate() {
            for (part, word) in parts {
                if let Some(col) = t.find(|h| is_domain(h, prefix, word)) {
                    found.push((k, part, col));
                }
            }
        }
        for (k, tag) in SUPPLEMENTARY_TAGS.iter().enumerate() {
            for (part, word) in parts {
                if let Some(col) = t.find(|h| h.contains(tag) && h.contains(word)) {
                    found.push((DOMAINS.len() + k, part, col));
                }
            }
        }
        IndexColumns(found)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn has_domains(&self) -> bool {
        self.0.iter().any(|c| c.0 < DOMAINS.len())
    }

    fn has_supplementary(&self) -> bool {
        self.0.iter().any(|c| c.0 >= DOMAINS.len())
    }

    fn fill(&self, a: &mut Area, rec: &csv::StringRecord) -> Filled {
        for &(k, part, col) in &self.0 {
            let name = DOMAINS
                .get(k)
                .copied()
                .unwrap_or_else(|| SUPPLEMENTARY[k - DOMAINS.len()]);
            let m = if k < DOMAINS.len() {
                &mut *a.domains.all_mut()[k]
            } else {
                &mut *a.supplementary.all_mut()[k - DOMAINS.len()]
            };
            match part {
                Part::Score => {
                    let v = rec.get(col).unwrap_or("").trim();
                    // A blank score is not given (some tables leave suppressed values
                    // empty); anything else must be a number.
                    m.score = if v.is_empty() {
                        None
                    } else {
                        Some(
                            v.replace(',', "")
                                .parse::<f32>()
                                .ok()
                                .filter(|x| x.is_finite())
                                .ok_or((
                                    format!("{name}_score"),
                                    format!("is not a number: {v:?}"),
                                ))?,
                        )
                    };
                }
                Part::Rank => {
                    let v = whole(rec, col, 1, u32::MAX as i64)
                        .map_err(|e| (format!("{name}_rank"), e))?;
                    m.rank = NonZeroU32::new(v as u32);
                }
                Part::Decile => {
                    let v = whole(rec, col, 1, 10).map_err(|e| (format!("{name}_decile"), e))?;
                    m.decile = NonZeroU8::new(v as u8);
                }
            }
        }
        Ok(())
    }
}

/// How the supplementary indices' headers name them, in [`SUPPLEMENTARY`] order.
const SUPPLEMENTARY_TAGS: [&str; 2] = ["(idaci)", "(idaopi)"];

/// What a file's record adds to an area, or the (field, reason) why it cannot.
type Filled = Result<(), (String, String)>;

/// Joins other files' records to the IMD file's areas by code: every area must be given
/// exactly once; records of areas that are not in the IMD file (e.g. Welsh areas in an
/// England and Wales boundary file) are skipped and counted in a note.
struct Join {
    areas: Vec<Area>,
    index: HashMap<String, usize>,
    /// The IMD file's line of each area, for errors about a missing record.
    lines: Vec<u64>,
    imd_label: String,
    /// Problems with a whole file (its header, its geography), listed before the rows'.
    file_errors: Vec<RowError>,
    errors: Vec<RowError>,
    notes: Vec<String>,
}

impl Join {
    fn table(
        &mut self,
        t: &Table,
        what: &str,
        fill: impl FnMut(&mut Area, &csv::StringRecord) -> Filled,
    ) {
        let Some(code) = t.find(is_area_code) else {
            self.file_errors.push(row_error(
                &format!("{} line 1", t.label),
                "header",
                "has no area code column (looked for \"LSOA code (…)\", \"LSOA21CD\", \"LSOA11CD\", \"code\", \"area_code\")".into(),
            ));
            return;
        };
        self.table_by(t, code, what, fill);
    }

    fn table_by(
        &mut self,
        t: &Table,
        code: usize,
        what: &str,
        fill: impl FnMut(&mut Area, &csv::StringRecord) -> Filled,
    ) {
        let records = t.rows.iter().map(|(line, rec)| {
            (
                format!("{} line {line}", t.label),
                rec.get(code).map(|c| c.trim().to_string()),
                rec,
            )
        });
        self.records(&t.label, what, records, fill);
    }

    fn records<'r, T: 'r>(
        &mut self,
        label: &str,
        what: &str,
        records: impl Iterator<Item = (String, Option<String>, &'r T)>,
        mut fill: impl FnMut(&mut Area, &T) -> Filled,
    ) {
        let records: Vec<_> = records.collect();
        // A file whose codes are mostly not the IMD file's is of another geography (or
        // another country): one line says so, instead of a line for every area.
        let known = records
            .iter()
            .filter(|(_, c, _)| c.as_ref().is_some_and(|c| self.index.contains_key(c)))
            .count();
        if !self.areas.is_empty() && known * 2 < self.areas.len().min(records.len()) {
            self.file_errors.push(row_error(
                label,
                "geography",
                format!(
                    "only {known} of its {} codes are areas of {} ({} areas): is it of another \
                     geography (LSOA 2011 for IoD2019, LSOA 2021 for IoD2025)?",
                    records.len(),
                    self.imd_label,
                    self.areas.len()
                ),
            ));
            return;
        }
        let mut seen = vec![false; self.areas.len()];
        let mut skipped = 0;
        for (location, code, record) in records {
            let Some(code) = code.filter(|c| !c.is_empty()) else {
                self.errors
                    .push(row_error(&location, "code", "has no area code".into()));
                continue;
            };
            let Some(&i) = self.index.get(&code) else {
                skipped += 1;
                continue;
            };
            if std::mem::replace(&mut seen[i], true) {
                self.errors.push(row_error(
                    &location,
                    "code",
                    format!("{code} appears more than once"),
                ));
            } else if let Err((field, reason)) = fill(&mut self.areas[i], record) {
                self.errors.push(row_error(&location, &field, reason));
            }
        }
        for i in (0..seen.len()).filter(|&i| !seen[i]) {
            self.errors.push(row_error(
                &format!("{} line {}", self.imd_label, self.lines[i]),
                what,
                format!("{} has no row in {label}", self.areas[i].code),
            ));
        }
        if skipped > 0 {
            self.notes.push(format!(
                "{skipped} record(s) of {label} name areas that are not in {} and were skipped",
                self.imd_label
            ));
        }
    }
}

const DOMAIN_PREFIXES: [&str; 7] = [
    "income",
    "employment",
    "education",
    "health",
    "crime",
    "barriers to housing",
    "living environment",
];

/// A CSV file read whole: lower-cased headers and records with their line numbers.
struct Table {
    label: String,
    headers: Vec<String>,
    /// The headers as written, for messages.
    raw_headers: Vec<String>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl Table {
    fn read(
        path: &Path,
        read: impl Fn(&Path) -> Result<Vec<u8>, ImportError>,
    ) -> Result<Table, ImportError> {
        let label = file_label(path);
        let bytes = read(path)?;
        let mut rdr = csv::ReaderBuilder::new().from_reader(strip_bom(&bytes));
        let fail = |line: u64, reason: String| {
            ImportError::Rejected(
                vec![row_error(&format!("{label} line {line}"), "-", reason)].into(),
            )
        };
        let raw_headers: Vec<String> = rdr
            .headers()
            .map_err(|e| fail(1, format!("cannot read the header line: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let headers = raw_headers.iter().map(|h| h.to_lowercase()).collect();
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        for rec in rdr.records() {
            match rec {
                Ok(r) => rows.push((r.position().map_or(0, |p| p.line()), r)),
                Err(e) => errors.push(row_error(
                    &format!("{label} line {}", e.position().map_or(0, |p| p.line())),
                    "-",
                    match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => format!("has {len} fields, the header has {expected_len}"),
                        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".into(),
                        other => format!("{other:?}"),
                    },
                )),
            }
        }
        if errors.is_empty() {
            Ok(Table {
                label,
                headers,
                raw_headers,
                rows,
            })
        } else {
            Err(ImportError::Rejected(errors.into()))
        }
    }

    fn find(&self, pred: impl Fn(&str) -> bool) -> Option<usize> {
        self.headers.iter().position(|h| pred(h))
    }

    /// A required column, or an error naming it.
    fn column(
        &self,
        pred: impl Fn(&str) -> bool,
        what: &str,
        errors: &mut Vec<RowError>,
    ) -> Option<usize> {
        let found = self.find(pred);
        if found.is_none() {
            errors.push(row_error(
                &format!("{} line 1", self.label),
                "header",
                format!("has no {what} column"),
            ));
        }
        found
    }

    fn geography_year(&self) -> Option<u16> {
        self.headers
            .iter()
            .find(|h| is_area_code(h))
            .and_then(|h| year_of(h))
    }
}

/// The columns of a point file.
enum PointColumns {
    LatLon(usize, usize),
    Grid(usize, usize),
    /// `x`/`y`: British National Grid metres or longitude/latitude degrees, told apart by
    /// magnitude (grid values in Great Britain are far beyond ±180).
    XY(usize, usize),
}

impl PointColumns {
    fn find(t: &Table) -> Result<Self, String> {
        let any = |names: &[&str]| t.find(|h| names.contains(&h));
        if let (Some(lat), Some(lon)) = (
            any(&["lat", "latitude"]),
            any(&["lon", "long", "lng", "longitude"]),
        ) {
            return Ok(PointColumns::LatLon(lat, lon));
        }
        if let (Some(e), Some(n)) = (
            any(&["easting", "eastings", "east", "bng_e"]),
            any(&["northing", "northings", "north", "bng_n"]),
        ) {
            return Ok(PointColumns::Grid(e, n));
        }
        if let (Some(x), Some(y)) = (any(&["x"]), any(&["y"])) {
            return Ok(PointColumns::XY(x, y));
        }
        Err("needs lat and lon columns, or easting and northing (British National Grid), or x and y".into())
    }

    fn point(&self, rec: &csv::StringRecord) -> Result<(f64, f64), (String, String)> {
        let num = |col: usize, name: &str| {
            let v = rec.get(col).unwrap_or("").trim();
            v.replace(',', "")
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| (name.to_string(), format!("is not a number: {v:?}")))
        };
        let (lat, lon) = match *self {
            PointColumns::LatLon(a, o) => (num(a, "lat")?, num(o, "lon")?),
            PointColumns::Grid(e, n) => grid(num(e, "easting")?, num(n, "northing")?)?,
            PointColumns::XY(x, y) => {
                let (x, y) = (num(x, "x")?, num(y, "y")?);
                if x.abs() <= 180.0 && y.abs() <= 90.0 {
                    (y, x)
                } else {
                    grid(x, y)?
                }
            }
        };
        if lat.abs() > 90.0 || lon.abs() > 180.0 {
            return Err((
                "lat".into(),
                format!("{lat},{lon} is not a latitude within ±90 and longitude within ±180"),
            ));
        }
        Ok((lat, lon))
    }
}

fn grid(e: f64, n: f64) -> Result<(f64, f64), (String, String)> {
    if !bng::in_grid(e, n) {
        return Err((
            "easting".into(),
            format!("{e},{n} is outside the British National Grid"),
        ));
    }
    Ok(bng::bng_to_wgs84(e, n))
}

fn read_imd(t: &Table, errors: &mut Vec<RowError>) -> (Vec<Area>, Vec<u64>) {
    let cols = (
        t.column(
            is_area_code,
            "area code (e.g. \"LSOA code (2011)\")",
            errors,
        ),
        t.column(is_area_name, "area name", errors),
        t.column(
            |h| {
                h.starts_with("local authority district code")
                    || h == "la_code"
                    || (h.starts_with("lad") && h.ends_with("cd"))
            },
            "local authority district code",
            errors,
        ),
        t.column(
            |h| {
                h.starts_with("local authority district name")
                    || h == "la_name"
                    || (h.starts_with("lad") && h.ends_with("nm"))
            },
            "local authority district name",
            errors,
        ),
        t.column(|h| is_imd(h, "rank"), "IMD rank", errors),
        t.column(|h| is_imd(h, "decile"), "IMD decile", errors),
    );
    let (Some(code), Some(name), Some(la_code), Some(la_name), Some(rank), Some(decile)) = cols
    else {
        return (Vec::new(), Vec::new());
    };
    let score = t.find(|h| is_imd(h, "score"));
    let mut areas = Vec::with_capacity(t.rows.len());
    let mut lines = Vec::with_capacity(t.rows.len());
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (line, rec) in &t.rows {
        let location = format!("{} line {line}", t.label);
        let text = |col: usize| rec.get(col).unwrap_or("").trim().to_string();
        let mut problems = Vec::new();
        let c = text(code);
        if c.is_empty() {
            problems.push(("code".to_string(), "is empty".to_string()));
        } else if let Some(first) = seen.insert(c.clone(), *line) {
            problems.push((
                "code".into(),
                format!("{c} appears more than once (first on line {first})"),
            ));
        }
        for (col, field) in [(name, "name"), (la_code, "la_code"), (la_name, "la_name")] {
            if text(col).is_empty() {
                problems.push((field.into(), "is empty".into()));
            }
        }
        let r = whole(rec, rank, 1, i32::MAX as i64).map_err(|e| ("imd_rank".to_string(), e));
        let d = whole(rec, decile, 1, 10).map_err(|e| ("imd_decile".to_string(), e));
        let s = match score.map(&text).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .replace(',', "")
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or(("imd_score".to_string(), format!("is not a number: {v:?}"))),
        };
        problems.extend(
            [r.as_ref().err(), d.as_ref().err(), s.as_ref().err()]
                .into_iter()
                .flatten()
                .cloned(),
        );
        if !problems.is_empty() {
            errors.extend(
                problems
                    .into_iter()
                    .map(|(f, reason)| row_error(&location, &f, reason)),
            );
            continue;
        }
        areas.push(Area {
            nation: nation_of(&c).to_string(),
            code: c,
            name: text(name),
            la_code: text(la_code),
            la_name: text(la_name),
            lat: 0.0,
            lon: 0.0,
            population: None,
            imd_score: s.unwrap_or(None),
            imd_rank: r.unwrap_or(0) as i32,
            imd_decile: d.unwrap_or(0) as i32,
            domains: Default::default(),
            supplementary: Default::default(),
            boundary: None,
        });
        lines.push(*line);
    }
    if areas.is_empty() && errors.is_empty() {
        errors.push(row_error(&t.label, "-", "has no areas".into()));
    }
    (areas, lines)
}

fn row_error(location: &str, field: &str, reason: String) -> RowError {
    RowError {
        location: location.to_string(),
        field: field.to_string(),
        reason,
        value: None,
    }
}

fn file_label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `LSOA code (2011)`, `lsoa11cd`, `LSOA21CD`, `code`, `area_code`, and the Census
/// downloads' `geography code` and `Lower layer Super Output Areas Code`.
fn is_area_code(h: &str) -> bool {
    (h.starts_with("lsoa") && (h.contains("code") || h.ends_with("cd")))
        || h == "code"
        || h == "area_code"
        || h == "geography code"
        || h == "lower layer super output areas code"
}

fn is_area_name(h: &str) -> bool {
    (h.starts_with("lsoa") && (h.contains("name") || h.ends_with("nm")))
        || h == "name"
        || h == "area_name"
}

fn is_imd(h: &str, measure: &str) -> bool {
    h.starts_with("index of multiple deprivation") && h.contains(measure)
}

/// A domain column, e.g. `Income Rank (where 1 is most deprived)`; not the IDACI/IDAOPI
/// supplementary indices or the sub-domains.
fn is_domain(h: &str, prefix: &str, measure: &str) -> bool {
    h.starts_with(prefix)
        && h.contains(measure)
        && !h.contains("affecting")
        && !h.contains("sub-domain")
}

/// The geography year in a code header: `(2011)`, `lsoa11cd`, `LSOA21CD`.
fn year_of(h: &str) -> Option<u16> {
    if h.contains("2011") || h.starts_with("lsoa11") {
        Some(2011)
    } else if h.contains("2021") || h.starts_with("lsoa21") {
        Some(2021)
    } else {
        None
    }
}

/// `IoD2025` from names such as `File_1_-_IMD2019_...` or `IoD2025_File_1.csv`.
fn index_from_name(name: &str) -> Option<String> {
    let lower = name.to_lowercase();
    ["iod", "imd"].iter().find_map(|p| {
        let at = lower.find(p)? + 3;
        let year = lower.get(at..at + 4)?;
        year.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| format!("IoD{year}"))
    })
}

/// A whole number, allowing thousands separators (`"29,199"`).
fn count(v: &str) -> Option<i64> {
    let digits: String = v
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .collect();
    digits.parse().ok()
}

fn whole(rec: &csv::StringRecord, col: usize, min: i64, max: i64) -> Result<i64, String> {
    let v = rec.get(col).unwrap_or("").trim();
    match count(v) {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from {min} to {max}, got {v:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_variants_of_2019_and_2025() {
        for h in [
            "lsoa code (2011)",
            "lsoa code (2021)",
            "lsoa11cd",
            "lsoa21cd",
            "code",
        ] {
            assert!(is_area_code(h), "{h}");
        }
        assert!(!is_area_code("local authority district code (2019)"));
        assert_eq!(year_of("lsoa code (2021)"), Some(2021));
        assert_eq!(year_of("lsoa11cd"), Some(2011));
        assert!(is_imd(
            "index of multiple deprivation (imd) rank (where 1 is most deprived)",
            "rank"
        ));
        assert!(is_domain(
            "barriers to housing and services decile (where 1 is most deprived 10% of lsoas)",
            "barriers to housing",
            "decile"
        ));
        assert!(!is_domain(
            "income deprivation affecting children index (idaci) rank (where 1 is most deprived)",
            "income",
            "rank"
        ));
        assert_eq!(count("\"29,199\"".trim_matches('"')), Some(29199));
        assert_eq!(
            index_from_name("File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz").as_deref(),
            Some("IoD2019")
        );
        assert_eq!(
            index_from_name("File_1_IoD2025_Index.csv").as_deref(),
            Some("IoD2025")
        );
        assert_eq!(index_from_name("areas.csv"), None);
    }
}
