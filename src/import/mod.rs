//! Asset import from CSV and GeoJSON (optionally gzip-compressed): all or nothing, or
//! (`skip_invalid`) the valid rows only, with the rejected rows reported by line (or
//! feature index), field, value and reason: the first [`MAX_LISTED`], and how many in all.
//! Over 400 lines because both readers, the capped list and their unit tests are here.

pub mod activities;
pub mod areas;
pub mod csv_cell;
pub mod encoding;
pub mod mapping;
pub mod matching;
pub mod oruk;
pub mod osm;
pub mod postcodes;
pub mod stream;

use flate2::read::MultiGzDecoder;
use std::collections::HashSet;
use std::io::Read as _;
use std::path::Path;

use crate::domain::asset::{preview, CSV_COLUMNS};
use crate::domain::{AssetFields, RawAsset};
use crate::store::StoreError;
use encoding::Encoding;
use mapping::Mapping;

/// Columns that an export adds to the import columns; a re-import ignores them (the
/// asset is found by source and source_id).
pub const EXPORT_ONLY_COLUMNS: [&str; 6] = [
    "id",
    "version",
    "created_at",
    "updated_at",
    "last_verified_at",
    "sources",
];

/// Columns that a search's CSV adds (with `near`); a re-import ignores them too.
pub const SEARCH_ONLY_COLUMNS: [&str; 1] = ["distance_m"];

/// A rejected row: where it is, which field, its value, and why.
#[derive(Clone, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// `line N` (CSV, 1-based, where the record starts, whatever the line ends) or
    /// `feature N` (GeoJSON, 0-based).
    pub location: String,
    pub field: String,
    pub reason: String,
    /// The field's value as read (absent for problems of the file or of a whole row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.field, self.reason)?;
        match &self.value {
            Some(v) => write!(f, " (value {})", preview(v)),
            None => Ok(()),
        }
    }
}

/// How strictly an import treats invalid optional contact fields (website, e-mail, phone).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Contacts {
    /// Keep the first valid value of several, or drop the value, with a warning (default:
    /// real open data is full of placeholders such as "NA").
    #[default]
    Salvage,
    /// Reject the row, like any other invalid field.
    Strict,
}

/// Valid rows ready to store (with where each was in the file), and the warnings raised
/// while salvaging them or skipping what is not an asset (OSM elements of other kinds).
#[derive(Debug)]
pub struct ParsedAssets {
    pub rows: Vec<AssetFields>,
    pub locations: Vec<String>,
    pub warnings: Capped<RowError>,
}

/// The most rejected rows, warnings or held-back rows an import lists; beyond that they
/// are counted, not kept, so a small file that expands to millions of bad rows gets a
/// small answer (and takes little memory to answer).
pub const MAX_LISTED: usize = 1000;

/// A list that keeps its first [`MAX_LISTED`] items and counts every one. It derefs to
/// the listed items; [`Capped::total`] is how many there were.
#[derive(Clone, Debug, PartialEq)]
pub struct Capped<T> {
    listed: Vec<T>,
    total: usize,
}

/// The problems of a rejected file: the first [`MAX_LISTED`], and how many in all.
pub type Problems = Capped<RowError>;

impl<T> Default for Capped<T> {
    fn default() -> Self {
        Capped {
            listed: Vec::new(),
            total: 0,
        }
    }
}

impl<T> Capped<T> {
    pub fn push(&mut self, item: T) {
        if self.listed.len() < MAX_LISTED {
            self.listed.push(item);
        }
        self.total += 1;
    }

    /// How many were pushed, listed or not.
    pub fn total(&self) -> usize {
        self.total
    }

    pub fn into_listed(self) -> Vec<T> {
        self.listed
    }

    /// Adds another list's items (those listed, while there is room) and its total.
    pub fn append(&mut self, other: Capped<T>) {
        let total = self.total + other.total;
        self.extend(other.listed);
        self.total = total;
    }
}

impl<T> std::ops::Deref for Capped<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.listed
    }
}

impl<'a, T> IntoIterator for &'a Capped<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.listed.iter()
    }
}

impl<T> Extend<T> for Capped<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        items.into_iter().for_each(|i| self.push(i));
    }
}

impl<T> FromIterator<T> for Capped<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut c = Capped::default();
        c.extend(items);
        c
    }
}

impl<T> From<Vec<T>> for Capped<T> {
    fn from(v: Vec<T>) -> Self {
        v.into_iter().collect()
    }
}

/// How a file is read, beyond its format.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions<'a> {
    /// Invalid websites, e-mails and phones: dropped with a warning, or rows rejected.
    pub contacts: Contacts,
    /// Import the valid rows and report the rest, instead of all or nothing.
    pub skip_invalid: bool,
    /// A raw file's columns (CSV): without one, the file has the import columns.
    pub mapping: Option<&'a Mapping>,
    pub encoding: Encoding,
}

/// A file read: its valid rows and, with `skip_invalid`, the problems of the rows left out.
#[derive(Debug)]
pub struct Read {
    pub parsed: ParsedAssets,
    pub rejected: Problems,
}

/// The formats an asset file can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    GeoJson,
    /// OpenStreetMap data as the Overpass API returns it (JSON).
    Osm,
    /// Open Referral UK / HSDS 3.0 services (`/services` pages fetched with `full=true`, or
    /// one service), a venue per location with a position.
    Oruk,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {0}")]
    Io(String),
    #[error("{} problem(s); nothing was imported", .0.total())]
    Rejected(Problems),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads a whole file, gunzipping it when it starts with the gzip magic bytes.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, ImportError> {
    let raw =
        std::fs::read(path).map_err(|e| ImportError::Io(format!("{}: {e}", path.display())))?;
    // The operator's own file: no limit beyond the machine's.
    gunzip(raw, usize::MAX).map_err(|e| ImportError::Io(format!("{}: {e}", path.display())))
}

/// The bytes, gunzipped when they start with the gzip magic bytes; at most `max` bytes
/// come out (a gzip bomb expands a thousandfold), else an error.
pub fn gunzip(raw: Vec<u8>, max: usize) -> Result<Vec<u8>, std::io::Error> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len().saturating_mul(4).min(max));
    MultiGzDecoder::new(raw.as_slice())
        .take((max as u64).saturating_add(1))
        .read_to_end(&mut out)?;
    if out.len() > max {
        return Err(std::io::Error::other(format!(
            "it expands to more than {max} bytes"
        )));
    }
    Ok(out)
}

/// The rejected rows as CSV (`line,field,value,reason`), cells neutralised against
/// spreadsheet formulas (a rejected value is whatever the file held).
pub fn rejects_csv(rows: &[RowError]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["line", "field", "value", "reason"])?;
    for r in rows {
        let line = r.location.strip_prefix("line ").unwrap_or(&r.location);
        let value = r.value.as_deref().unwrap_or("");
        w.write_record(
            [line, r.field.as_str(), value, r.reason.as_str()]
                .map(|c| csv_cell::neutralise(c).into_owned()),
        )?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// Removes a UTF-8 byte-order mark.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// A record as read, before validation: where it is, and its cells or why it could not
/// be read.
type Record = (String, Result<RawAsset, RowError>);

/// Reads and validates an asset file of `format` (CSV or GeoJSON, told apart by the first
/// character, unless it is OpenStreetMap data). Returns every row (or, with
/// `skip_invalid`, the valid ones and the problems of the others), or the problems. The
/// rows of a whole file at once: imports read theirs batch by batch ([`stream`]).
pub fn read(
    bytes: &[u8],
    format: Option<Format>,
    categories: &HashSet<String>,
    options: &ReadOptions,
) -> Result<Read, Problems> {
    let opened = stream::records(stream::Input::Bytes(bytes), format, options)?;
    let mut v = stream::Validator::new(categories, options);
    let mut rows = Vec::new();
    let mut locations = Vec::new();
    for (location, record) in opened.records {
        if let Some((row, location)) = v.check(location, record) {
            rows.push(row);
            locations.push(location);
        }
    }
    if let Some(reason) = opened.failed.borrow_mut().take() {
        return Err(file_error(reason));
    }
    if v.rejecting() {
        return Err(v.errors);
    }
    // A file's warnings (its encoding) come after its rows', OpenStreetMap's skips too.
    let mut warnings = v.warnings;
    warnings.extend(opened.warnings);
    Ok(Read {
        parsed: ParsedAssets {
            rows,
            locations,
            warnings,
        },
        rejected: v.errors,
    })
}

/// Parses and validates a CSV or GeoJSON asset file in the import columns (GeoJSON when
/// the first non-blank character is `{`), all or nothing. Returns every row, or the
/// problems (the first [`MAX_LISTED`] and their count). Records are validated as they are
/// read, so invalid ones are never all held in memory at once.
pub fn parse_assets(
    bytes: &[u8],
    categories: &HashSet<String>,
    contacts: Contacts,
) -> Result<ParsedAssets, Problems> {
    let options = ReadOptions {
        contacts,
        ..Default::default()
    };
    read(bytes, None, categories, &options).map(|r| r.parsed)
}

/// The value of the cell of `field`, for showing in a problem.
fn cell_value(raw: &RawAsset, field: &str) -> Option<String> {
    CSV_COLUMNS
        .iter()
        .zip(raw.cells())
        .find(|(c, _)| **c == field)
        .map(|(_, v)| v.to_string())
}

fn file_error(reason: impl Into<String>) -> Problems {
    vec![RowError {
        location: "file".into(),
        field: "-".into(),
        reason: reason.into(),
        value: None,
    }]
    .into()
}

/// A GeoJSON document, checked to be a FeatureCollection.
fn geojson_document(bytes: &[u8]) -> Result<serde_json::Value, Problems> {
    let doc: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| file_error(format!("is not valid JSON: {e}")))?;
    if doc.get("type").and_then(|t| t.as_str()) != Some("FeatureCollection") {
        return Err(file_error("must be a GeoJSON FeatureCollection"));
    }
    Ok(doc)
}

/// The features of a FeatureCollection as records.
fn geojson_records(doc: &serde_json::Value) -> Result<impl Iterator<Item = Record> + '_, Problems> {
    let features = doc
        .get("features")
        .and_then(|f| f.as_array())
        .ok_or_else(|| file_error("a FeatureCollection needs a features array"))?;
    Ok(features.iter().enumerate().map(|(i, feature)| {
        let location = format!("feature {i}");
        let coords = feature
            .get("geometry")
            .filter(|g| g.get("type").and_then(|t| t.as_str()) == Some("Point"))
            .and_then(|g| g.get("coordinates"))
            .and_then(|c| c.as_array())
            .filter(|c| c.len() >= 2 && c.iter().all(|x| x.is_number()));
        let Some(coords) = coords else {
            let error = RowError {
                location: location.clone(),
                field: "geometry".into(),
                reason: "must be a Point with [lon, lat] coordinates".into(),
                value: None,
            };
            return (location, Err(error));
        };
        let props = feature.get("properties").and_then(|p| p.as_object());
        let (mut raw, _) = props.map(RawAsset::from_json).unwrap_or_default();
        // The geometry is the position, whatever the properties say.
        raw.lon = coords[0].to_string();
        raw.lat = coords[1].to_string();
        (location, Ok(raw))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats() -> HashSet<String> {
        ["library", "museum"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn csv_with_quoted_line_breaks_reports_the_starting_line() {
        let csv = "source,source_id,name,category,lat,lon,address\n\
                   s,1,A,library,51.5,-0.1,\"1 High St\nTown\"\n\
                   s,2,B,zoo,51.5,-0.1,\n\
                   s,1,C,museum,51.5,-0.1,\n";
        let errs = parse_assets(csv.as_bytes(), &cats(), Contacts::Strict).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(
            (errs[0].location.as_str(), errs[0].field.as_str()),
            ("line 4", "category")
        );
        assert_eq!(
            (errs[1].location.as_str(), errs[1].field.as_str()),
            ("line 5", "source_id")
        );
    }

    #[test]
    fn placeholder_contacts_are_salvaged_with_warnings_or_rejected_when_strict() {
        let csv = "source,source_id,name,category,lat,lon,website,email\n\
                   s,1,A,library,51.5,-0.1,\"https://a.example.org/x\nhttp://b.example.org\",NA\n";
        let parsed = parse_assets(csv.as_bytes(), &cats(), Contacts::Salvage).unwrap();
        assert_eq!(
            parsed.rows[0].website.as_deref(),
            Some("https://a.example.org/x")
        );
        assert_eq!(parsed.rows[0].email, None);
        assert_eq!(parsed.warnings.len(), 2);
        assert!(parsed.warnings.iter().all(|w| w.location == "line 2"));
        let errs = parse_assets(csv.as_bytes(), &cats(), Contacts::Strict).unwrap_err();
        assert_eq!(errs.len(), 2);
    }

    #[test]
    fn unknown_and_missing_columns_are_rejected() {
        let errs = parse_assets(b"source,name,postcod\n", &cats(), Contacts::Strict).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["-", "source_id", "category", "lat", "lon"],
            "{errs:?}"
        );
        assert!(errs[0]
            .reason
            .starts_with("1 not import column(s): postcod."));
    }

    /// The same rows with LF, CRLF and CR line ends, a quoted line break in line 2: the
    /// errors are at lines 4 and 6 (the second a duplicate of line 2), whatever the ends.
    #[test]
    fn line_numbers_are_right_for_every_line_end() {
        let rows = [
            "source,source_id,name,category,lat,lon,address",
            "s,1,A,library,51.5,-0.1,\"1 High St\nTown\"",
            "s,2,B,library,51.5,-0.1,",
            "s,3,C,zoo,51.5,-0.1,",
            "",
            "s,1,D,museum,51.5,-0.1,",
        ];
        for end in ["\n", "\r\n", "\r"] {
            let csv = rows.join(end) + end;
            let errs = parse_assets(csv.as_bytes(), &cats(), Contacts::Strict).unwrap_err();
            let at: Vec<(&str, &str)> = errs
                .iter()
                .map(|e| (e.location.as_str(), e.field.as_str()))
                .collect();
            assert_eq!(
                at,
                [("line 5", "category"), ("line 7", "source_id")],
                "{end:?}"
            );
            assert_eq!(errs[0].value.as_deref(), Some("zoo"));
        }
    }

    #[test]
    fn skip_invalid_keeps_the_valid_rows_and_reports_the_rest() {
        let csv = "source,source_id,name,category,lat,lon,tags\r\n\
                   s,1,A,library,51.5,-0.1,\r\n\
                   s,2,B,library,95,-0.1,bad tag!\r\n\
                   s,3,C,museum,51.5,-0.1,\r\n\
                   s,1,D,museum,51.5,-0.1,\r\n";
        let options = ReadOptions {
            skip_invalid: true,
            ..Default::default()
        };
        let read = read(csv.as_bytes(), None, &cats(), &options).unwrap();
        let names: Vec<&str> = read.parsed.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["A", "C"]);
        assert_eq!(read.parsed.locations, ["line 2", "line 4"]);
        let shown: Vec<String> = read.rejected.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            [
                "line 3: lat: must be a number from -90 to 90 (value \"95\")",
                "line 3: tags: tag \"bad-tag!\" must be 1 to 100 letters, digits, '-' or '_' \
                 (value \"bad tag!\")",
                "line 5: source_id: duplicates the source and source_id of line 2 (value \"1\")",
            ]
        );
    }

    #[test]
    fn geojson_points_with_tag_arrays() {
        let doc = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","geometry":{"type":"Point","coordinates":[-0.1,51.5]},
             "properties":{"source":"s","source_id":7,"name":"A","category":"museum","tags":["family","free-entry"]}},
            {"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]},"properties":{}}]}"#;
        let errs = parse_assets(doc.as_bytes(), &cats(), Contacts::Strict).unwrap_err();
        assert_eq!(errs[0].location, "feature 1");
        let ok = &doc[..doc
            .find(",\n            {\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\"")
            .unwrap()];
        let rows = parse_assets(format!("{ok}]}}").as_bytes(), &cats(), Contacts::Strict)
            .unwrap()
            .rows;
        assert_eq!(rows[0].source_id.as_deref(), Some("7"));
        assert_eq!(rows[0].tags, vec!["family", "free-entry"]);
        assert_eq!((rows[0].lat, rows[0].lon), (51.5, -0.1));
    }

    /// serde_json's default float parser may miss by an ulp; an exported position must come
    /// back exactly (the fuzzer found 0.14777777777777779, the shortest form of an f64, read
    /// as 0.1477777777777778).
    #[test]
    fn geojson_positions_parse_exactly() {
        let doc = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","geometry":{"type":"Point","coordinates":[0.14777777777777779,51.540376]},
             "properties":{"source":"s","source_id":"1","name":"A","category":"museum"}}]}"#;
        let rows = parse_assets(doc.as_bytes(), &cats(), Contacts::Strict)
            .unwrap()
            .rows;
        assert_eq!(rows[0].lon, "0.14777777777777779".parse::<f64>().unwrap());
    }
}
