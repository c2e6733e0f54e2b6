//! Postcode positions: OS Code-Point Open as published (headerless per-area CSVs:
//! postcode, positional quality, easting, northing, …) or any CSV with a postcode column and
//! lat/lon or easting/northing columns; and the placing of import rows that have a postcode
//! but no coordinates at their postcode's position.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::encoding::LineIndex;
use super::{read_bytes, strip_bom, ImportError, ParsedAssets, Problems, RowError};
use crate::domain::asset::normalise_postcode;
use crate::domain::LocationPrecision;
use crate::geo::bng::{bng_to_wgs84, in_grid};
use crate::store::postcodes::upsert;
use crate::store::Store;

/// Code-Point Open's positional quality for postcodes it has no position for.
const NO_POSITION: u32 = 90;

/// A postcode and its WGS84 position.
#[derive(Clone, Debug, PartialEq)]
pub struct PostcodePosition {
    pub postcode: String,
    pub lat: f64,
    pub lon: f64,
}

/// The postcodes of some files, and how many rows had no position (skipped).
#[derive(Debug, Default)]
pub struct PostcodeFile {
    pub positions: Vec<PostcodePosition>,
    pub without_position: usize,
    pub files: usize,
}

/// The files to read for `paths`: each file, and the `.csv`/`.csv.gz` files of each
/// directory (Code-Point Open's `Data/CSV/`), in name order.
pub fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ImportError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| ImportError::Io(format!("{}: {e}", p.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    let name = f.file_name().map(|n| n.to_string_lossy().to_lowercase());
                    name.is_some_and(|n| n.ends_with(".csv") || n.ends_with(".csv.gz"))
                })
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// What `import postcodes` did.
#[derive(Debug)]
pub struct PostcodeImport {
    /// Postcodes written (or, in a dry run, read).
    pub postcodes: usize,
    pub without_position: usize,
    pub files: usize,
}

/// Reads postcode files and adds or updates their postcodes in one transaction.
pub fn import_files(
    store: &Store,
    paths: &[PathBuf],
    dry_run: bool,
) -> Result<PostcodeImport, ImportError> {
    let read = read_files(paths)?;
    let postcodes = if dry_run {
        read.positions.len()
    } else {
        let rows = read
            .positions
            .iter()
            .map(|p| (p.postcode.as_str(), p.lat, p.lon));
        upsert(&mut *store.conn()?, rows)?
    };
    Ok(PostcodeImport {
        postcodes,
        without_position: read.without_position,
        files: read.files,
    })
}

/// Reads postcode files (optionally gzipped), all or nothing: every bad row is a problem.
pub fn read_files(paths: &[PathBuf]) -> Result<PostcodeFile, ImportError> {
    let mut all = PostcodeFile::default();
    let mut problems = Problems::default();
    for path in files(paths)? {
        let bytes = read_bytes(&path)?;
        read_into(&bytes, &label(&path), &mut all, &mut problems);
        all.files += 1;
    }
    if problems.total() > 0 {
        return Err(ImportError::Rejected(problems));
    }
    Ok(all)
}

fn label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

/// The columns of a headed file.
struct Columns {
    postcode: usize,
    quality: Option<usize>,
    /// (lat, lon) or (easting, northing).
    position: (usize, usize),
    grid: bool,
}

fn headed_columns(header: &csv::StringRecord) -> Result<Columns, String> {
    let find = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let postcode = find(&["postcode", "pcd", "pcds"]);
    let quality = find(&["positional_quality", "positional_quality_indicator"]);
    let lat = find(&["lat", "latitude"]);
    let lon = find(&["lon", "lng", "long", "longitude"]);
    let east = find(&["easting", "eastings"]);
    let north = find(&["northing", "northings"]);
    let (position, grid) = match (lat, lon, east, north) {
        (Some(a), Some(b), _, _) => ((a, b), false),
        (_, _, Some(e), Some(n)) => ((e, n), true),
        _ => return Err("needs lat and lon, or easting and northing, columns".into()),
    };
    let postcode = postcode.ok_or("needs a postcode column")?;
    Ok(Columns {
        postcode,
        quality,
        position,
        grid,
    })
}

/// Reads one file into `all`: headerless Code-Point Open when its first cell is a
/// postcode, else a headed CSV.
pub fn read_into(bytes: &[u8], name: &str, all: &mut PostcodeFile, problems: &mut Problems) {
    let text = strip_bom(bytes);
    let lines = LineIndex::new(text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut records = rdr.records();
    let problem = |line: usize, field: &str, reason: String, value: Option<&str>| RowError {
        location: format!("{name} line {line}"),
        field: field.into(),
        reason,
        value: value.map(str::to_string),
    };
    let Some(first) = records.next() else { return };
    let first = match first {
        Ok(r) => r,
        Err(e) => return problems.push(problem(1, "-", e.to_string(), None)),
    };
    let headerless = first.get(0).and_then(normalise_postcode).is_some();
    let columns = if headerless {
        Columns {
            postcode: 0,
            quality: Some(1),
            position: (2, 3),
            grid: true,
        }
    } else {
        match headed_columns(&first) {
            Ok(c) => c,
            Err(reason) => return problems.push(problem(1, "-", reason, None)),
        }
    };
    let rows = headerless.then_some(Ok(first)).into_iter().chain(records);
    for record in rows {
        let rec = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e
                    .position()
                    .map_or(0, |p| lines.record_line(text, p.byte() as usize));
                problems.push(problem(line, "-", e.to_string(), None));
                continue;
            }
        };
        let line = rec
            .position()
            .map_or(0, |p| lines.record_line(text, p.byte() as usize));
        let cell = |i: usize| rec.get(i).unwrap_or("").trim();
        let raw_postcode = cell(columns.postcode);
        let Some(postcode) = normalise_postcode(raw_postcode) else {
            problems.push(problem(
                line,
                "postcode",
                "is not a UK postcode".into(),
                Some(raw_postcode),
            ));
            continue;
        };
        let quality = columns
            .quality
            .map(cell)
            .and_then(|q| q.parse::<u32>().ok());
        let (a, b) = (cell(columns.position.0), cell(columns.position.1));
        if quality == Some(NO_POSITION) || a.is_empty() || b.is_empty() {
            all.without_position += 1;
            continue;
        }
        let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) else {
            let field = if columns.grid {
                "easting,northing"
            } else {
                "lat,lon"
            };
            problems.push(problem(
                line,
                field,
                "must be numbers".into(),
                Some(&format!("{a},{b}")),
            ));
            continue;
        };
        let position = if columns.grid {
            if (x, y) == (0.0, 0.0) {
                all.without_position += 1;
                continue;
            }
            in_grid(x, y).then(|| bng_to_wgs84(x, y))
        } else {
            (x.abs() <= 90.0 && y.abs() <= 180.0).then_some((x, y))
        };
        match position {
            Some((lat, lon)) => all.positions.push(PostcodePosition { postcode, lat, lon }),
            None => problems.push(problem(
                line,
                if columns.grid {
                    "easting,northing"
                } else {
                    "lat,lon"
                },
                "is out of range".into(),
                Some(&format!("{a},{b}")),
            )),
        }
    }
}

/// The distinct postcodes of the rows to be placed at their postcode.
pub fn wanted(parsed: &ParsedAssets) -> Vec<String> {
    let set: BTreeSet<&str> = parsed
        .rows
        .iter()
        .filter(|r| r.location_precision == LocationPrecision::Postcode)
        .filter_map(|r| r.postcode.as_deref())
        .collect();
    set.into_iter().map(str::to_string).collect()
}

/// Places the rows without coordinates at their postcode's position (`positions`, by
/// normalised postcode). Rows whose postcode has none are taken out and returned as
/// problems naming it.
pub fn place(parsed: &mut ParsedAssets, positions: &HashMap<String, (f64, f64)>) -> Problems {
    let mut problems = Problems::default();
    let rows = std::mem::take(&mut parsed.rows);
    let locations = std::mem::take(&mut parsed.locations);
    for (mut row, location) in rows.into_iter().zip(locations) {
        if row.location_precision == LocationPrecision::Postcode {
            let postcode = row.postcode.clone().unwrap_or_default();
            match positions.get(&postcode) {
                Some(&(lat, lon)) => (row.lat, row.lon) = (lat, lon),
                None => {
                    problems.push(RowError {
                        location,
                        field: "postcode".into(),
                        reason: if positions.is_empty() {
                            "has no known position, and the row has no lat/lon (are postcodes \
                             imported? `community-assets import postcodes`)"
                                .into()
                        } else {
                            "has no known position (not a current postcode?), and the row has \
                             no lat/lon"
                                .into()
                        },
                        value: Some(postcode),
                    });
                    continue;
                }
            }
        }
        parsed.rows.push(row);
        parsed.locations.push(location);
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_point_open_as_published_and_headed_files() {
        // Code-Point Open rows; the expected positions are the real file's OSTN15 values
        // (`../shared/data/postcodes_gb_codepoint_open_2025_10.csv.gz`, 5 decimals).
        let cpo = "\"AB101AB\",10,394235,806529,\"S92000003\",\"\",\"S08000020\",\"\",\"S12000033\",\"S13002842\"\r\n\
                   \"SW1A1AA\",10,529090,179645,\"E92000001\",\"\",\"E18000007\",\"\",\"E09000033\",\"E05013806\"\r\n\
                   \"AB431AJ\",90,0,0,\"S92000003\",\"\",\"S08000020\",\"\",\"S12000034\",\"S13002861\"\r\n\
                   \"XX\",10,1,1,\"\",\"\",\"\",\"\",\"\",\"\"\r\n";
        let (mut all, mut problems) = (PostcodeFile::default(), Problems::default());
        read_into(cpo.as_bytes(), "ab.csv", &mut all, &mut problems);
        assert_eq!(all.without_position, 1);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].location, "ab.csv line 4");
        let p = &all.positions;
        assert_eq!(
            (p[0].postcode.as_str(), p[1].postcode.as_str()),
            ("AB10 1AB", "SW1A 1AA")
        );
        assert!(
            (p[0].lat - 57.14959).abs() < 2e-5 && (p[0].lon + 2.09692).abs() < 3e-5,
            "{p:?}"
        );
        assert!(
            (p[1].lat - 51.50101).abs() < 2e-5 && (p[1].lon + 0.14156).abs() < 3e-5,
            "{p:?}"
        );

        let headed = "postcode,positional_quality,easting,northing,lat,lon\nAB10 1AF,10,394235,806529,57.14959,-2.09692\nAB43 1AN,90,,,,\n";
        let (mut all, mut problems) = (PostcodeFile::default(), Problems::default());
        read_into(headed.as_bytes(), "h.csv", &mut all, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            all.positions[0],
            PostcodePosition {
                postcode: "AB10 1AF".into(),
                lat: 57.14959,
                lon: -2.09692
            }
        );
        assert_eq!(all.without_position, 1);
    }
}
