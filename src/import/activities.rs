//! Activity files read into records: CSV (a header of the activity's JSON field names; a
//! cell is text, `schedule` a JSON array or its compact text form) or JSON (an array of
//! activity objects, or `{"activities": [...]}`). Each record comes with where it is:
//! `line N` (CSV, where the record starts, as for assets) or `record N` (JSON, the array
//! index from 0). Validation is the write side's (`curation::activities`).

use serde_json::{Map, Value};
use std::io::{BufRead as _, Read as _};

use super::encoding::Encoding;
use super::stream::{csv_rows, CsvRows, Input};
use super::{file_error, strip_bom, Problems, RowError};

/// The two formats of an activity file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivityFormat {
    Csv,
    Json,
}

/// A record as read: where it is (`line 3`, `record 0`) and its fields.
pub type ActivityRecord = (String, Map<String, Value>);

/// A file read: its records, the rows that could not be read (a CSV row with the wrong
/// number of cells), and warnings (the encoding chosen).
#[derive(Debug, Default)]
pub struct ActivityRecords {
    pub records: Vec<ActivityRecord>,
    pub unreadable: Vec<RowError>,
    pub warnings: Vec<RowError>,
}

/// Reads an activity file (`None`: JSON when its first non-blank character is `[` or
/// `{`, else CSV). Problems of the whole file are errors.
pub fn read(
    input: Input,
    format: Option<ActivityFormat>,
    encoding: Encoding,
) -> Result<ActivityRecords, Problems> {
    let io = |e: std::io::Error| file_error(format!("cannot be read: {e}"));
    let mut reader = input.open().map_err(io)?;
    let format = match format {
        Some(f) => f,
        None => {
            let head = strip_bom(reader.fill_buf().map_err(io)?);
            match head.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'[' | b'{') => ActivityFormat::Json,
                _ => ActivityFormat::Csv,
            }
        }
    };
    if format == ActivityFormat::Json {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(io)?;
        return json_records(strip_bom(&bytes)).map(|records| ActivityRecords {
            records,
            ..Default::default()
        });
    }
    let CsvRows {
        headers,
        rows,
        warnings,
        failed,
    } = csv_rows(input, reader, encoding)?;
    let mut out = ActivityRecords {
        warnings,
        ..Default::default()
    };
    let mut seen = std::collections::HashSet::new();
    if let Some(h) = headers.iter().find(|h| !seen.insert(h.as_str())) {
        return Err(file_error(format!("the header names {h:?} twice")));
    }
    for (location, row) in rows {
        match row {
            Ok((record, _)) => {
                let object = headers
                    .iter()
                    .zip(record.iter())
                    .filter(|(_, cell)| !cell.trim().is_empty())
                    .map(|(h, cell)| (h.clone(), Value::String(cell.to_string())))
                    .collect();
                out.records.push((location, object));
            }
            Err(e) => out.unreadable.push(e),
        }
    }
    if let Some(reason) = failed.borrow_mut().take() {
        return Err(file_error(reason));
    }
    Ok(out)
}

/// The objects of a JSON activity file, each with its index.
fn json_records(bytes: &[u8]) -> Result<Vec<ActivityRecord>, Problems> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| file_error(format!("is not valid JSON: {e}")))?;
    let items = match doc {
        Value::Array(items) => items,
        Value::Object(mut o) => match o.remove("activities") {
            Some(Value::Array(items)) if o.is_empty() => items,
            _ => {
                return Err(file_error(
                    "must be an array of activities or {\"activities\": [...]}",
                ))
            }
        },
        _ => {
            return Err(file_error(
                "must be an array of activities or {\"activities\": [...]}",
            ))
        }
    };
    let mut problems = Problems::default();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Value::Object(o) => out.push((format!("record {i}"), o)),
            other => problems.push(RowError {
                location: format!("record {i}"),
                field: "-".into(),
                reason: format!("is not an object of activity fields: {}", kind_of(&other)),
                value: None,
            }),
        }
    }
    if problems.total() > 0 {
        return Err(problems);
    }
    Ok(out)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_their_lines_and_skip_empty_cells() {
        let csv = "name,kind,schedule\n\"Singing\nfor breathing\",music-singing,WEEKLY TU 14:00-15:00\n\nCrafts,crafts,\nbad,row\n";
        let r = read(Input::Bytes(csv.as_bytes()), None, Encoding::Auto).unwrap();
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.records[0].0, "line 2");
        assert_eq!(r.records[1].0, "line 5");
        assert!(r.records[1].1.get("schedule").is_none());
        assert_eq!(r.unreadable.len(), 1);
        assert_eq!(r.unreadable[0].location, "line 6");
    }

    #[test]
    fn json_files_are_arrays_or_wrapped() {
        for doc in [
            r#"[{"name": "a"}, {"name": "b"}]"#,
            r#"{"activities": [{"name": "a"}, {"name": "b"}]}"#,
        ] {
            let r = read(Input::Bytes(doc.as_bytes()), None, Encoding::Auto).unwrap();
            assert_eq!(r.records[1].0, "record 1");
        }
        let e = read(Input::Bytes(b"[{}, 3]"), None, Encoding::Auto).unwrap_err();
        assert_eq!(e[0].location, "record 1");
        assert!(read(Input::Bytes(b"{\"x\": []}"), None, Encoding::Auto).is_err());
    }
}
