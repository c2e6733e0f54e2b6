//! Body helpers shared by the reports: JSON, CSV cells and chart titles.

use serde::Serialize;

use super::charts::ChartBasis;
use super::Scope;
use crate::error::ApiError;
use crate::index::Snapshot;
use crate::wire::{csv_body, CSV};

pub(super) const SVG: &str = "image/svg+xml";

/// A rendered body and its content type, before caching.
pub type Body = Result<(&'static str, Vec<u8>), ApiError>;

pub(super) fn json<T: Serialize>(value: &T) -> Body {
    serde_json::to_vec(value)
        .map(|b| ("application/json", b))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

pub(super) fn csv(header: Vec<String>, rows: impl Iterator<Item = Vec<String>>) -> Body {
    csv_body(header, rows).map(|b| (CSV, b))
}

pub(super) fn svg(drawn: Result<String, String>) -> Body {
    drawn
        .map(|s| (SVG, s.into_bytes()))
        .map_err(ApiError::Internal)
}

/// A header row from fixed column names.
pub(super) fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// A CSV cell for an optional number: empty when absent.
pub(super) fn num(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

pub(super) fn int(v: Option<i64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The end of a chart title: the local authorities' names, or England.
pub(super) fn la_suffix(snap: &Snapshot, scope: &Scope) -> String {
    match &scope.la {
        None => ", England".into(),
        Some(codes) => {
            let names: Vec<&str> = codes.iter().filter_map(|c| snap.areas.la_name(c)).collect();
            format!(", {}", names.join(", "))
        }
    }
}

/// What the charts say their figures rest on: the imported index and its geography, and
/// whether areas are weighted by population.
pub(super) fn chart_basis(snap: &Snapshot) -> ChartBasis {
    let info = &snap.areas.info;
    let index = info.index_name.as_deref().unwrap_or("no index imported");
    ChartBasis {
        index: match &info.geography {
            Some(g) => format!("{index} ({g})"),
            None => index.to_string(),
        },
        weighted: snap.areas.has_population(),
    }
}
