//! What the HTTP layer and the reports share about the wire: the formats a body can have,
//! the one CSV writer, and the rule for list values (`category=museum,library`), so that a
//! report's renderings and its parameters do not depend on the HTTP layer.

use crate::error::ApiError;
use crate::import::csv_cell::neutralise;

/// Most values in one list parameter.
pub const MAX_LIST_VALUES: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    GeoJson,
    Csv,
}

pub const GEOJSON: &str = "application/geo+json";
pub const CSV: &str = "text/csv; charset=utf-8";

/// A CSV document: the header, then one record a row. The one CSV writer of the API:
/// every cell a spreadsheet would run as a formula is neutralised
/// ([`crate::import::csv_cell`], which the asset import reverses).
pub fn csv_body<R, C>(header: R, rows: impl IntoIterator<Item = R>) -> Result<Vec<u8>, ApiError>
where
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut write = |record: R| {
        w.write_record(
            record
                .into_iter()
                .map(|c| neutralise(c.as_ref()).into_owned()),
        )
    };
    write(header)
        .and_then(|_| rows.into_iter().try_for_each(&mut write))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    w.into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The list rule of `Params::list` over given values (e.g. from a JSON body), so both
/// are held to it.
pub fn list<'a>(
    name: &str,
    values: impl IntoIterator<Item = &'a str>,
) -> Result<Option<Vec<String>>, ApiError> {
    let mut values: Vec<String> = values
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let mut seen = std::collections::HashSet::new();
    values.retain(|v| seen.insert(v.clone()));
    if values.len() > MAX_LIST_VALUES {
        return Err(ApiError::param(
            name,
            format!("takes at most {MAX_LIST_VALUES} values"),
        ));
    }
    Ok((!values.is_empty()).then_some(values))
}
