//! Raw files as published: which of a file's own columns fill which asset fields, constants
//! for the fields the file does not have, value maps (`Closed` → `archived`), and the column
//! that identifies a row. One [`Mapping`] whether it comes from command-line flags, a small
//! TOML file or the admin API's JSON; [`Plan`] is it checked against a file's header.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

use super::{csv_cell, Problems, RowError, EXPORT_ONLY_COLUMNS, SEARCH_ONLY_COLUMNS};
use crate::domain::asset::CSV_COLUMNS;
use crate::domain::RawAsset;

/// The raw value that a value map applies to any non-empty value not listed.
pub const ANY_VALUE: &str = "*";

/// How a raw file's columns become asset fields. A file column named like an asset field
/// fills that field unless the mapping maps or sets the field otherwise; other columns are
/// ignored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"map": {"lon": "lng", "website": "url", "description": "notes",
    "status": "closed"}, "set": {"category": "library", "source": "libraries-2016"},
    "values": {"status": {"*": "archived"}}, "id_column": "id"}))]
pub struct Mapping {
    /// Asset field → the file's column that fills it (`--map FIELD=COLUMN`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub map: BTreeMap<String, String>,
    /// Asset field → a value for every row (`--set FIELD=VALUE`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, String>,
    /// Asset field → raw value → value (`--value FIELD:RAW=VALUE`). Raw values match
    /// trimmed and case-insensitively; `*` matches any other non-empty value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// The column whose values are the rows' `source_id` (else the row's line number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_column: Option<String>,
}

impl Mapping {
    /// The mapping of a TOML file (`--mapping FILE`): the same keys as the JSON form.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Adds the command-line flags to this mapping (a flag wins over the file):
    /// `FIELD=COLUMN`, `FIELD=VALUE` and `FIELD:RAW=VALUE`.
    pub fn add_flags(
        &mut self,
        map: &[String],
        set: &[String],
        values: &[String],
        id_column: Option<&str>,
    ) -> Result<(), String> {
        let pair = |flag: &str, s: &str, shape: &str| {
            s.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("--{flag} {s:?} must be {shape}"))
        };
        for m in map {
            let (field, column) = pair("map", m, "FIELD=COLUMN")?;
            self.map.insert(field, column.trim().to_string());
        }
        for s in set {
            let (field, value) = pair("set", s, "FIELD=VALUE")?;
            self.set.insert(field, value);
        }
        for v in values {
            let (key, value) = pair("value", v, "FIELD:RAW=VALUE")?;
            let (field, raw) = key
                .split_once(':')
                .ok_or_else(|| format!("--value {v:?} must be FIELD:RAW=VALUE"))?;
            self.values
                .entry(field.trim().to_string())
                .or_default()
                .insert(raw.to_string(), value);
        }
        if let Some(c) = id_column {
            self.id_column = Some(c.trim().to_string());
        }
        Ok(())
    }

    /// The problems of the mapping itself: fields that are not asset fields, a field both
    /// mapped and set.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let known = |f: &str| CSV_COLUMNS.contains(&f);
        let fields = self
            .map
            .keys()
            .map(|f| ("map", f))
            .chain(self.set.keys().map(|f| ("set", f)))
            .chain(self.values.keys().map(|f| ("value", f)));
        for (flag, f) in fields {
            if !known(f) {
                problems.push(format!(
                    "--{flag} names {f:?}, which is not an asset field (fields: {})",
                    CSV_COLUMNS.join(", ")
                ));
            }
        }
        for f in self.map.keys().filter(|f| self.set.contains_key(*f)) {
            problems.push(format!("{f:?} is both mapped to a column and set"));
        }
        if self.id_column.is_some() && self.set.contains_key("source_id") {
            problems.push("source_id is both set and taken from --id-column".into());
        }
        problems
    }
}

/// Where a field's value comes from.
#[derive(Clone, Debug)]
enum Fill {
    Column(usize),
    Constant(String),
}

/// A mapping (or none: the import CSV) checked against a file's header.
#[derive(Debug)]
pub struct Plan {
    fields: Vec<(&'static str, Fill)>,
    /// Field → (lower-cased trimmed raw value → value).
    values: HashMap<&'static str, HashMap<String, String>>,
    /// Without a column for `source_id`, the row's line number is its `source_id`.
    id_is_line: bool,
    /// Cells of the import CSV may carry the export's formula neutralisation.
    restore_cells: bool,
    /// Rows without coordinates are placed at their postcode (see `import::postcodes`).
    pub geocodable: bool,
}

/// Columns every import must fill (`lat` and `lon` may come from the postcode).
const REQUIRED: [&str; 4] = ["source", "source_id", "name", "category"];

/// The asset field a name (a header, a mapping key) is, ignoring case.
fn field_name(f: &str) -> Option<&'static str> {
    CSV_COLUMNS
        .iter()
        .find(|c| c.eq_ignore_ascii_case(f))
        .copied()
}

impl Plan {
    /// Checks `headers` (trimmed) against `mapping`: every problem at once, as `line 1`.
    pub fn new(headers: &[String], mapping: Option<&Mapping>) -> Result<Plan, Problems> {
        let mut problems = Problems::default();
        let header_error = |field: &str, reason: String| RowError {
            location: "line 1".into(),
            field: field.into(),
            reason,
            value: None,
        };
        let find = |column: &str| {
            headers
                .iter()
                .position(|h| h == column)
                .or_else(|| headers.iter().position(|h| h.eq_ignore_ascii_case(column)))
        };
        let mut fields: Vec<(&'static str, Fill)> = Vec::new();
        let mut values = HashMap::new();
        let mut id_is_line = false;
        match mapping {
            None => {
                let unknown: Vec<&str> = headers
                    .iter()
                    .map(String::as_str)
                    .filter(|h| {
                        field_name(h).is_none()
                            && !EXPORT_ONLY_COLUMNS.contains(h)
                            && !SEARCH_ONLY_COLUMNS.contains(h)
                    })
                    .collect();
                if !unknown.is_empty() {
                    problems.push(header_error(
                        "-",
                        format!(
                            "{} not import column(s): {}. The import columns are {}; to import \
                             a file with its own columns, map them with --map FIELD=COLUMN (or \
                             a mapping in the API)",
                            unknown.len(),
                            unknown.join(", "),
                            CSV_COLUMNS.join(",")
                        ),
                    ));
                }
                for (i, h) in headers.iter().enumerate() {
                    if let Some(f) = field_name(h) {
                        fields.push((f, Fill::Column(i)));
                    }
                }
            }
            Some(m) => {
                for p in m.problems() {
                    problems.push(header_error("mapping", p));
                }
                let columns = || headers.join(", ");
                for (field, column) in &m.map {
                    let Some(f) = field_name(field) else { continue };
                    match find(column) {
                        Some(i) => fields.push((f, Fill::Column(i))),
                        None => problems.push(header_error(
                            f,
                            format!(
                                "is mapped to column {column:?}, which is not in the file \
                                 (its columns: {})",
                                columns()
                            ),
                        )),
                    }
                }
                for (field, value) in &m.set {
                    if let Some(f) = field_name(field) {
                        fields.push((f, Fill::Constant(value.clone())));
                    }
                }
                if let Some(column) = &m.id_column {
                    match find(column) {
                        Some(i) => fields.push(("source_id", Fill::Column(i))),
                        None => problems.push(header_error(
                            "source_id",
                            format!(
                                "the id column {column:?} is not in the file (its columns: {})",
                                columns()
                            ),
                        )),
                    }
                }
                // Columns named like fields fill the fields left.
                for (i, h) in headers.iter().enumerate() {
                    if let Some(f) = field_name(h) {
                        let taken = fields.iter().any(|(g, _)| *g == f)
                            || m.map.contains_key(f)
                            || (f == "source_id" && m.id_column.is_some());
                        if !taken {
                            fields.push((f, Fill::Column(i)));
                        }
                    }
                }
                if !fields.iter().any(|(f, _)| *f == "source_id") {
                    id_is_line = true;
                }
                for (field, map) in &m.values {
                    if let Some(f) = field_name(field) {
                        let map: HashMap<String, String> = map
                            .iter()
                            .map(|(raw, v)| (raw.trim().to_lowercase(), v.clone()))
                            .collect();
                        values.insert(f, map);
                    }
                }
            }
        }
        let has = |f: &str| fields.iter().any(|(g, _)| *g == f) || (f == "source_id" && id_is_line);
        for r in REQUIRED {
            if !has(r) {
                let hint = if mapping.is_some() {
                    format!(": map a column to it or set it (--map {r}=COLUMN, --set {r}=VALUE)")
                } else {
                    String::new()
                };
                problems.push(header_error(r, format!("required column is missing{hint}")));
            }
        }
        let geocodable = has("postcode");
        for r in ["lat", "lon"] {
            if !has(r) && !geocodable {
                problems.push(header_error(
                    r,
                    "required column is missing (or a postcode column, to place rows at their \
                     postcode)"
                        .into(),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Plan {
            fields,
            values,
            id_is_line,
            restore_cells: mapping.is_none(),
            geocodable,
        })
    }

    /// The cells of one record at `line`.
    pub fn apply(&self, record: &csv::StringRecord, line: usize) -> RawAsset {
        let mut raw = RawAsset::default();
        for (field, from) in &self.fields {
            let value = match from {
                Fill::Column(i) => {
                    let v = record.get(*i).unwrap_or("");
                    if self.restore_cells {
                        // Undo the export's formula neutralisation.
                        csv_cell::restore(v)
                    } else {
                        v
                    }
                }
                Fill::Constant(v) => v.as_str(),
            };
            let value = match self.values.get(field) {
                Some(map) => {
                    let key = value.trim().to_lowercase();
                    match map.get(&key) {
                        Some(v) => v.as_str(),
                        None if !key.is_empty() => map.get(ANY_VALUE).map_or(value, String::as_str),
                        None => value,
                    }
                }
                None => value,
            };
            if let Some(cell) = raw.cell_mut(field) {
                *cell = value.to_string();
            }
        }
        if self.id_is_line {
            raw.source_id = line.to_string();
        }
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(s: &str) -> Vec<String> {
        s.split(',').map(str::to_string).collect()
    }

    fn libraries() -> Mapping {
        let mut m = Mapping::default();
        m.add_flags(
            &[
                "lon=lng".into(),
                "website=url".into(),
                "status=closed".into(),
            ],
            &["category=library".into(), "source=ace".into()],
            &["status:*=archived".into(), "status:XL=archived".into()],
            Some("id"),
        )
        .unwrap();
        m
    }

    #[test]
    fn flags_and_toml_make_the_same_mapping() {
        let toml = r#"
            id_column = "id"
            [map]
            lon = "lng"
            website = "url"
            status = "closed"
            [set]
            category = "library"
            source = "ace"
            [values.status]
            "*" = "archived"
            XL = "archived"
        "#;
        assert_eq!(Mapping::from_toml(toml).unwrap(), libraries());
        let json = serde_json::to_string(&libraries()).unwrap();
        assert_eq!(serde_json::from_str::<Mapping>(&json).unwrap(), libraries());
        assert!(Mapping::from_toml("[mapp]\nlon = \"lng\"").is_err());
    }

    #[test]
    fn a_raw_row_is_mapped() {
        let plan = Plan::new(
            &headers("name,id,postcode,lat,lng,url,closed,notes"),
            Some(&libraries()),
        )
        .unwrap();
        let rec = csv::StringRecord::from(vec![
            "Barking",
            "7",
            "IG117NB",
            "51.5",
            "0.08",
            "www.x.org",
            "xlr",
            "n",
        ]);
        let raw = plan.apply(&rec, 9);
        assert_eq!(
            (
                raw.name.as_str(),
                raw.source_id.as_str(),
                raw.lon.as_str(),
                raw.lat.as_str()
            ),
            ("Barking", "7", "0.08", "51.5")
        );
        assert_eq!(
            (raw.category.as_str(), raw.source.as_str()),
            ("library", "ace")
        );
        assert_eq!(
            (raw.status.as_str(), raw.description.as_str()),
            ("archived", "")
        );
        let open = csv::StringRecord::from(vec!["A", "8", "", "", "", "", " ", ""]);
        assert_eq!(plan.apply(&open, 10).status, " ");
    }

    #[test]
    fn without_an_id_column_the_line_is_the_id_and_coordinates_may_come_from_postcodes() {
        let mut m = Mapping::default();
        m.add_flags(
            &["name=Library name".into()],
            &["category=library".into(), "source=s".into()],
            &[],
            None,
        )
        .unwrap();
        let plan = Plan::new(&headers("Library name,Postcode"), Some(&m)).unwrap();
        assert!(plan.geocodable);
        let raw = plan.apply(&csv::StringRecord::from(vec!["A", "ig11 7nb"]), 12);
        assert_eq!(
            (raw.source_id.as_str(), raw.postcode.as_str()),
            ("12", "ig11 7nb")
        );
    }

    #[test]
    fn mapping_problems_name_the_field_and_column() {
        let mut m = libraries();
        m.map.insert("lon".into(), "longitude".into());
        m.set.insert("colour".into(), "red".into());
        let errs = Plan::new(&headers("name,id,lat,lng,url,closed"), Some(&m)).unwrap_err();
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("\"colour\", which is not an asset field")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("lon: is mapped to column \"longitude\"")),
            "{text:?}"
        );
    }

    #[test]
    fn unknown_columns_without_a_mapping_are_one_error() {
        let errs = Plan::new(
            &headers("source,source_id,name,category,lat,lon,lng,closed"),
            None,
        )
        .unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0]
            .reason
            .starts_with("2 not import column(s): lng, closed."));
        assert!(errs[0].reason.contains("--map FIELD=COLUMN"));
    }
}
