//! Asset files read as a stream, so that an import's memory does not grow with its file:
//! the bytes (gunzipped on the fly) are decoded and counted into lines as the CSV reader
//! pulls them, and records come out one by one for [`Validator`] to check. Windows-1252 is
//! told from UTF-8 (`auto`) by a first pass over the stream that keeps nothing. GeoJSON,
//! OpenStreetMap and Open Referral UK documents are parsed whole (they are small: the bulk
//! lists are CSV).

use flate2::read::MultiGzDecoder;
use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use super::encoding::Encoding;
use super::mapping::Plan;
use super::{
    cell_value, file_error, geojson_document, geojson_records, oruk, osm, Capped, Contacts, Format,
    Problems, ReadOptions, Record, RowError,
};
use crate::domain::asset::salvage_contacts;
use crate::domain::{AssetFields, LocationPrecision, RawAsset};

/// Where an import's file is.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// A file on disk, optionally gzipped: read as a stream.
    Path(&'a Path),
    /// Bytes in memory, already gunzipped (an upload, bounded by its limit).
    Bytes(&'a [u8]),
}

const CHUNK: usize = 64 * 1024;

impl<'a> Input<'a> {
    /// The input's bytes from the start, gunzipped when they start with the gzip magic.
    pub fn open(&self) -> std::io::Result<Box<dyn BufRead + 'a>> {
        match *self {
            Input::Bytes(b) => Ok(Box::new(b)),
            Input::Path(p) => {
                let mut f = BufReader::with_capacity(CHUNK, std::fs::File::open(p)?);
                if f.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
                    Ok(Box::new(BufReader::with_capacity(
                        CHUNK,
                        MultiGzDecoder::new(f),
                    )))
                } else {
                    Ok(Box::new(f))
                }
            }
        }
    }

    /// What to call the input in an error.
    pub fn describe(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Bytes(_) => "the body".into(),
        }
    }
}

/// Line numbers of a stream's byte offsets, counted as the bytes pass (LF, CRLF or CR
/// alone). A record's start as the `csv` crate reports it can be on the previous record's
/// line end, and blank lines before a record are skipped, so an offset within a run of
/// line-end bytes counts as the line after the run. Runs are kept only until the reader is
/// past them: queries come in increasing order.
#[derive(Default)]
pub(super) struct Lines {
    pos: u64,
    breaks: u64,
    prev_cr: bool,
    run: Option<u64>,
    /// (begin, end, breaks up to end) of the runs of line-end bytes not yet passed.
    runs: VecDeque<(u64, u64, u64)>,
    /// Breaks before the runs kept.
    base: u64,
}

impl Lines {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.prev_cr && b != b'\n' {
                self.breaks += 1;
            }
            self.prev_cr = b == b'\r';
            if b == b'\n' {
                self.breaks += 1;
            }
            if b == b'\r' || b == b'\n' {
                self.run.get_or_insert(self.pos);
            } else if let Some(begin) = self.run.take() {
                self.runs.push_back((begin, self.pos, self.breaks));
            }
            self.pos += 1;
        }
    }

    fn finish(&mut self) {
        if self.prev_cr {
            self.breaks += 1;
            self.prev_cr = false;
        }
        if let Some(begin) = self.run.take() {
            self.runs.push_back((begin, self.pos, self.breaks));
        }
    }

    /// The line of the first byte after any line ends at `offset` (offsets in increasing
    /// order).
    pub(super) fn record_line(&mut self, offset: u64) -> usize {
        while let Some(&(_, end, breaks)) = self.runs.front() {
            if end > offset {
                break;
            }
            self.base = breaks;
            self.runs.pop_front();
        }
        match self.runs.front() {
            Some(&(begin, _, breaks)) if begin <= offset => breaks as usize + 1,
            _ => self.base as usize + 1,
        }
    }

    /// The line of the next byte (a trailing CR counts as a line end).
    fn current(&self) -> usize {
        (self.breaks + u64::from(self.prev_cr)) as usize + 1
    }
}

/// The text of a byte stream as UTF-8 for the CSV reader (decoded from Windows-1252, or
/// checked to be UTF-8), with a leading byte-order mark dropped and lines counted.
struct Decoding<R> {
    inner: R,
    windows_1252: bool,
    lines: Rc<RefCell<Lines>>,
    out: Vec<u8>,
    at: usize,
    /// Bytes of an incomplete UTF-8 character at the end of the last chunk.
    tail: Vec<u8>,
    started: bool,
    done: bool,
}

impl<R: Read> Decoding<R> {
    fn refill(&mut self) -> std::io::Result<()> {
        let mut chunk = std::mem::take(&mut self.tail);
        let had = chunk.len();
        chunk.resize(had + CHUNK, 0);
        let n = self.inner.read(&mut chunk[had..])?;
        chunk.truncate(had + n);
        if !self.started && (chunk.len() >= 3 || n == 0) {
            self.started = true;
            if chunk.starts_with(b"\xEF\xBB\xBF") {
                chunk.drain(..3);
            }
        } else if !self.started {
            // Too short to tell a byte-order mark yet.
            self.tail = chunk;
            return Ok(());
        }
        self.at = 0;
        if self.windows_1252 {
            let text = encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(&chunk)
                .0;
            self.out = text.into_owned().into_bytes();
        } else {
            match std::str::from_utf8(&chunk) {
                Ok(_) => self.out = chunk,
                Err(e) if e.error_len().is_none() && n > 0 => {
                    self.tail = chunk.split_off(e.valid_up_to());
                    self.out = chunk;
                }
                Err(e) => {
                    let mut lines = self.lines.borrow_mut();
                    lines.feed(&chunk[..e.valid_up_to()]);
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "is not valid UTF-8 (line {}); if it is Windows-1252, say so with \
                             --encoding windows-1252 (encoding=windows-1252 in the API)",
                            lines.current()
                        ),
                    ));
                }
            }
        }
        self.lines.borrow_mut().feed(&self.out);
        if n == 0 {
            self.done = true;
            self.lines.borrow_mut().finish();
        }
        Ok(())
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The line of the first byte that is not valid UTF-8, if any, read in one pass that
/// keeps nothing (a leading byte-order mark is not counted).
fn first_invalid_utf8(mut r: impl Read) -> std::io::Result<Option<usize>> {
    let mut lines = Lines::default();
    let mut buf = vec![0u8; CHUNK];
    let mut tail: Vec<u8> = Vec::new();
    let mut first = true;
    loop {
        let had = tail.len();
        buf[..had].copy_from_slice(&tail);
        let n = r.read(&mut buf[had..])?;
        let mut chunk = &buf[..had + n];
        if first && (chunk.len() >= 3 || n == 0) {
            first = false;
            chunk = chunk.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(chunk);
        } else if first {
            tail = chunk.to_vec();
            continue;
        }
        match std::str::from_utf8(chunk) {
            Ok(_) => {
                lines.feed(chunk);
                tail.clear();
            }
            Err(e) if e.error_len().is_none() && n > 0 => {
                lines.feed(&chunk[..e.valid_up_to()]);
                tail = chunk[e.valid_up_to()..].to_vec();
            }
            Err(e) => {
                lines.feed(&chunk[..e.valid_up_to()]);
                return Ok(Some(lines.current()));
            }
        }
        if n == 0 {
            return Ok(None);
        }
    }
}

/// The records of an input, one at a time, with the warnings known before the first (the
/// encoding chosen, OpenStreetMap elements skipped). A stream that fails part way (an I/O
/// error, declared UTF-8 that is not) ends the records and leaves its reason in `failed`:
/// the file is then rejected.
pub struct Records<'a> {
    pub records: Box<dyn Iterator<Item = Record> + 'a>,
    pub warnings: Vec<RowError>,
    pub failed: Rc<RefCell<Option<String>>>,
    /// What happens at the venues (ORUK services), to write once the venues are.
    pub activities: Vec<oruk::ActivityDraft>,
}

/// Opens `input` as records of `format` (CSV or GeoJSON told apart by the first
/// character, unless it is OpenStreetMap data); problems of the whole file are errors.
pub fn records<'a>(
    input: Input<'a>,
    format: Option<Format>,
    options: &ReadOptions,
) -> Result<Records<'a>, Problems> {
    let io = |e: std::io::Error| file_error(format!("cannot be read: {e}"));
    if format == Some(Format::Oruk) {
        return oruk_records(input, options);
    }
    let mut reader = input.open().map_err(io)?;
    let is_json = {
        let head = reader.fill_buf().map_err(io)?;
        let head = super::strip_bom(head);
        head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
    };
    if options.mapping.is_some() && (is_json || format == Some(Format::Osm)) {
        return Err(file_error(
            "a mapping applies to CSV files; GeoJSON and OpenStreetMap data have their own names",
        ));
    }
    let failed = Rc::new(RefCell::new(None));
    if is_json || format == Some(Format::Osm) {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(io)?;
        let bytes = super::strip_bom(&bytes);
        let (records, warnings): (Vec<Record>, Vec<RowError>) = if format == Some(Format::Osm) {
            let (raws, skipped) = osm::read_overpass(bytes).map_err(file_error)?;
            let warnings = skipped
                .into_iter()
                .map(|s| RowError {
                    location: s.location,
                    field: "-".into(),
                    reason: format!("skipped: {}", s.reason),
                    value: None,
                })
                .collect();
            (
                raws.into_iter().map(|(l, raw)| (l, Ok(raw))).collect(),
                warnings,
            )
        } else {
            let doc = geojson_document(bytes)?;
            let records: Vec<Record> = geojson_records(&doc)?.collect();
            (records, Vec::new())
        };
        return Ok(Records {
            records: Box::new(records.into_iter()),
            warnings,
            failed,
            activities: Vec::new(),
        });
    }
    let CsvRows {
        headers,
        rows,
        warnings,
        failed,
    } = csv_rows(input, reader, options.encoding)?;
    let plan = Plan::new(&headers, options.mapping)?;
    let records = rows.map(move |(location, record)| match record {
        Ok((rec, line)) => (location, Ok(plan.apply(&rec, line))),
        Err(e) => (location, Err(e)),
    });
    Ok(Records {
        records: Box::new(records),
        warnings,
        failed,
        activities: Vec::new(),
    })
}

/// A CSV file's header and records, each with where it starts (`line N`).
pub struct CsvRows<'a> {
    pub headers: Vec<String>,
    /// Each record with its line, or why it could not be read.
    #[allow(clippy::type_complexity)]
    pub rows: Box<dyn Iterator<Item = (String, Result<(csv::StringRecord, usize), RowError>)> + 'a>,
    /// The encoding chosen, when it was not UTF-8.
    pub warnings: Vec<RowError>,
    /// Set when the stream fails part way: the rows end, and the file is rejected.
    pub failed: Rc<RefCell<Option<String>>>,
}

/// Reads `reader` (the bytes of `input`) as CSV with a header line: decoded from UTF-8 or
/// Windows-1252 (`auto`: UTF-8 unless it is not, with a warning), each record with the
/// line it starts on, whatever the line ends. Any CSV file of an import is read here.
pub fn csv_rows<'a>(
    input: Input<'a>,
    reader: Box<dyn BufRead + 'a>,
    encoding: Encoding,
) -> Result<CsvRows<'a>, Problems> {
    let io = |e: std::io::Error| file_error(format!("cannot be read: {e}"));
    let failed = Rc::new(RefCell::new(None));
    let mut warnings = Vec::new();
    let windows_1252 = match encoding {
        Encoding::Windows1252 => true,
        Encoding::Utf8 => false,
        Encoding::Auto => {
            let bad = match input {
                Input::Bytes(b) => match std::str::from_utf8(super::strip_bom(b)) {
                    Ok(_) => None,
                    Err(e) => Some(
                        super::encoding::LineIndex::new(super::strip_bom(b)).line(e.valid_up_to()),
                    ),
                },
                Input::Path(_) => first_invalid_utf8(input.open().map_err(io)?).map_err(io)?,
            };
            if let Some(line) = bad {
                warnings.push(RowError {
                    location: "file".into(),
                    field: "-".into(),
                    reason: format!("read as Windows-1252: not valid UTF-8 (first at line {line})"),
                    value: None,
                });
            }
            bad.is_some()
        }
    };
    let lines = Rc::new(RefCell::new(Lines::default()));
    let text = Decoding {
        inner: reader,
        windows_1252,
        lines: lines.clone(),
        out: Vec::new(),
        at: 0,
        tail: Vec::new(),
        started: false,
        done: false,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .buffer_capacity(CHUNK)
        .from_reader(text);
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_string()).collect(),
        Err(e) => match e.kind() {
            csv::ErrorKind::Io(io) => return Err(file_error(io.to_string())),
            _ => return Err(file_error(format!("cannot read the header line: {e}"))),
        },
    };
    let stop = failed.clone();
    let rows = rdr.into_records().map_while(move |record| match record {
        Ok(rec) => {
            let line = rec
                .position()
                .map_or(0, |p| lines.borrow_mut().record_line(p.byte()));
            Some((format!("line {line}"), Ok((rec, line))))
        }
        Err(e) => {
            if let csv::ErrorKind::Io(io) = e.kind() {
                *stop.borrow_mut() = Some(io.to_string());
                return None;
            }
            let line = e
                .position()
                .map_or(0, |p| lines.borrow_mut().record_line(p.byte()));
            let reason = match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("has {len} fields, the header has {expected_len}"),
                csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".into(),
                other => format!("{other:?}"),
            };
            let location = format!("line {line}");
            let error = RowError {
                location: location.clone(),
                field: "-".into(),
                reason,
                value: None,
            };
            Some((location, Err(error)))
        }
    });
    Ok(CsvRows {
        headers,
        rows: Box::new(rows),
        warnings,
        failed,
    })
}

/// The venue rows of ORUK / HSDS services: a body, a file, or a directory's `.json` and
/// `.json.gz` files (in name order, read as one feed). The rows' source is the one the
/// mapping sets (`--source`, `source=`): a feed has no source names of its own.
fn oruk_records<'a>(input: Input<'a>, options: &ReadOptions) -> Result<Records<'a>, Problems> {
    let source = match options.mapping {
        Some(m)
            if !m.map.is_empty()
                || !m.values.is_empty()
                || m.id_column.is_some()
                || m.set.keys().any(|k| k != "source") =>
        {
            return Err(file_error(
                "a mapping applies to CSV files; an ORUK feed takes only a source name",
            ))
        }
        Some(m) => m
            .set
            .get("source")
            .filter(|s| !s.trim().is_empty())
            .cloned(),
        None => None,
    };
    let Some(source) = source else {
        return Err(file_error(
            "an ORUK feed needs a source name for its venues (--source NAME, source=NAME)",
        ));
    };
    let read = |p: &Path| super::read_bytes(p).map_err(|e| file_error(e.to_string()));
    let files: Vec<(String, Vec<u8>)> = match input {
        Input::Bytes(b) => vec![(String::new(), b.to_vec())],
        Input::Path(p) if p.is_dir() => {
            let entries = std::fs::read_dir(p)
                .map_err(|e| file_error(format!("{}: cannot be read: {e}", p.display())))?;
            let mut paths: Vec<std::path::PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    let name = f.to_string_lossy().to_ascii_lowercase();
                    f.is_file() && (name.ends_with(".json") || name.ends_with(".json.gz"))
                })
                .collect();
            paths.sort();
            if paths.is_empty() {
                return Err(file_error(format!(
                    "{} has no .json or .json.gz files",
                    p.display()
                )));
            }
            paths
                .iter()
                .map(|f| {
                    let name = f.file_name().unwrap_or_default().to_string_lossy();
                    Ok((name.into_owned(), read(f)?))
                })
                .collect::<Result<_, Problems>>()?
        }
        Input::Path(p) => vec![(String::new(), read(p)?)],
    };
    let docs: Vec<oruk::Document> = files
        .iter()
        .map(|(name, bytes)| oruk::Document {
            name: name.clone(),
            bytes,
        })
        .collect();
    let feed = oruk::read_services(&docs, &source).map_err(Problems::from)?;
    Ok(Records {
        records: Box::new(feed.rows.into_iter()),
        warnings: feed.warnings,
        failed: Rc::new(RefCell::new(None)),
        activities: feed.activities,
    })
}

/// The keys of the valid rows (source, source_id), each with where it was: 24 bytes a
/// key, as a 128-bit hash under two random keys (a collision among a billion keys has a
/// chance below 10^-20), with the location packed in a number ("line N", "feature N").
#[derive(Default)]
struct Keys {
    a: RandomState,
    b: RandomState,
    first: HashMap<u128, u64>,
    /// Locations that do not pack (OpenStreetMap elements), by key.
    other: HashMap<u128, Box<str>>,
}

const FEATURE: u64 = 1 << 32;
const UNPACKED: u64 = u64::MAX;

impl Keys {
    fn hash(&self, source: &str, source_id: &str) -> u128 {
        let k = (source, source_id);
        (u128::from(self.a.hash_one(k)) << 64) | u128::from(self.b.hash_one(k))
    }

    fn pack(location: &str) -> Option<u64> {
        let packed = if let Some(n) = location.strip_prefix("line ") {
            u64::from(n.parse::<u32>().ok()?)
        } else {
            FEATURE | u64::from(location.strip_prefix("feature ")?.parse::<u32>().ok()?)
        };
        (Self::unpack(packed) == location).then_some(packed)
    }

    fn unpack(packed: u64) -> String {
        if packed & FEATURE != 0 {
            format!("feature {}", packed & !FEATURE)
        } else {
            format!("line {packed}")
        }
    }

    fn get(&self, key: u128) -> Option<String> {
        match *self.first.get(&key)? {
            UNPACKED => self.other.get(&key).map(|l| l.to_string()),
            packed => Some(Self::unpack(packed)),
        }
    }

    fn insert(&mut self, key: u128, location: &str) {
        match Self::pack(location) {
            Some(p) => self.first.insert(key, p),
            None => {
                self.other.insert(key, location.into());
                self.first.insert(key, UNPACKED)
            }
        };
    }

    fn remove(&mut self, key: u128) {
        self.first.remove(&key);
        self.other.remove(&key);
    }
}

/// Checks records one by one (see `import::read`): the problems (the first
/// [`super::MAX_LISTED`] and their count), the warnings, and the key of every valid row
/// with where it was (duplicates within the file are problems; a complete list's closures
/// need the keys it named).
pub struct Validator<'a> {
    categories: &'a HashSet<String>,
    contacts: Contacts,
    skip_invalid: bool,
    pub errors: Problems,
    pub warnings: Capped<RowError>,
    sources: HashSet<String>,
    seen: Keys,
}

impl<'a> Validator<'a> {
    pub fn new(categories: &'a HashSet<String>, options: &ReadOptions) -> Self {
        Validator {
            categories,
            contacts: options.contacts,
            skip_invalid: options.skip_invalid,
            errors: Problems::default(),
            warnings: Capped::default(),
            sources: HashSet::new(),
            seen: Keys::default(),
        }
    }

    /// True once the file is rejected (a problem, without `skip_invalid`): rows are then
    /// only checked, not kept.
    pub fn rejecting(&self) -> bool {
        self.errors.total() > 0 && !self.skip_invalid
    }

    /// Whether a valid row had this key.
    pub fn named(&self, key: &(String, String)) -> bool {
        self.seen
            .first
            .contains_key(&self.seen.hash(&key.0, &key.1))
    }

    /// Forgets a row's key (a row left out after all: its postcode has no position).
    pub fn forget(&mut self, row: &AssetFields) {
        let key = self.seen.hash(
            row.source.as_deref().unwrap_or(""),
            row.source_id.as_deref().unwrap_or(""),
        );
        self.seen.remove(key);
    }

    /// The distinct sources of the valid rows.
    pub fn sources(&self) -> Vec<String> {
        let mut s: Vec<String> = self.sources.iter().cloned().collect();
        s.sort_unstable();
        s
    }

    /// Checks one record: the valid row to import, or `None` (its problems recorded; or,
    /// once the file is rejected, only its key kept to find duplicates of it). A row
    /// with a postcode and neither coordinate is kept at (0, 0) with
    /// `location_precision: postcode`, for `postcodes::place` to place.
    pub fn check(
        &mut self,
        location: String,
        record: Result<RawAsset, RowError>,
    ) -> Option<(AssetFields, String)> {
        let mut raw = match record {
            Ok(raw) => raw,
            Err(e) => {
                self.errors.push(e);
                return None;
            }
        };
        if self.contacts == Contacts::Salvage {
            let salvaged = salvage_contacts(&mut raw);
            self.warnings.extend(salvaged.into_iter().map(|e| RowError {
                location: location.clone(),
                field: e.field,
                reason: e.reason,
                value: None,
            }));
        }
        let unplaced = raw.lat.trim().is_empty()
            && raw.lon.trim().is_empty()
            && !raw.postcode.trim().is_empty();
        if unplaced {
            raw.lat = "0".into();
            raw.lon = "0".into();
            raw.location_precision = LocationPrecision::Postcode.as_str().into();
        }
        match AssetFields::parse(&raw, self.categories, true) {
            Ok(fields) => {
                let source = fields.source.as_deref().unwrap_or("");
                let key = self
                    .seen
                    .hash(source, fields.source_id.as_deref().unwrap_or(""));
                if let Some(first) = self.seen.get(key) {
                    self.errors.push(RowError {
                        location,
                        field: "source_id".into(),
                        reason: format!("duplicates the source and source_id of {first}"),
                        value: fields.source_id,
                    });
                    None
                } else {
                    let keep = !self.rejecting();
                    if !self.sources.contains(source) {
                        self.sources.insert(source.to_string());
                    }
                    self.seen.insert(key, &location);
                    keep.then_some((fields, location))
                }
            }
            Err(field_errors) => {
                for e in field_errors {
                    let mut e = RowError {
                        location: location.clone(),
                        value: cell_value(&raw, &e.field),
                        field: e.field,
                        reason: e.reason,
                    };
                    if unplaced && (e.field == "lat" || e.field == "lon") {
                        e.value = Some(String::new());
                    }
                    self.errors.push(e);
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::encoding::LineIndex;

    /// The streaming count agrees with the whole-text index for every record start, with
    /// every kind of line end and blank lines.
    #[test]
    fn streamed_lines_agree_with_the_whole_text_index() {
        let text = b"h\r\n\r\na,\"x\ny\"\r\rb\n\nc\r\nd";
        let idx = LineIndex::new(text);
        let mut lines = Lines::default();
        for chunk in text.chunks(3) {
            lines.feed(chunk);
        }
        lines.finish();
        for offset in 0..text.len() {
            assert_eq!(
                lines.record_line(offset as u64),
                idx.record_line(text, offset),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn the_first_invalid_byte_is_found_across_chunks() {
        let mut text = b"\xEF\xBB\xBFa\r\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', CHUNK - 2));
        text.extend("é\nb\r".as_bytes());
        text.extend(b"\xe9\n");
        assert_eq!(first_invalid_utf8(text.as_slice()).unwrap(), Some(4));
        assert_eq!(first_invalid_utf8(&text[..text.len() - 2]).unwrap(), None);
    }
}
