//! Response bodies for lists of assets: JSON, GeoJSON (RFC 7946) and CSV (the import format).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::domain::asset::CSV_COLUMNS;
use crate::domain::SourceRef;
use crate::error::ApiError;
use crate::index::{Hit, Snapshot};

pub use crate::wire::{csv_body, Format, CSV, GEOJSON};

/// Picks the format: an explicit `format` parameter wins, then the `Accept` header
/// (highest q first), then JSON.
pub fn negotiate(req: &HttpRequest, explicit: Option<&str>) -> Result<Format, ApiError> {
    match explicit {
        Some("json") => return Ok(Format::Json),
        Some("geojson") => return Ok(Format::GeoJson),
        Some("csv") => return Ok(Format::Csv),
        _ => {}
    }
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(Format::Json);
    };
    let mut best: Option<(f32, Format)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let format = match media.as_str() {
            "application/json" | "application/*" | "*/*" => Format::Json,
            "application/geo+json" => Format::GeoJson,
            "text/csv" | "text/*" => Format::Csv,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, format));
        }
    }
    best.map(|(_, f)| f).ok_or_else(|| {
        ApiError::NotAcceptable(format!(
            "cannot answer with {accept:?}: this endpoint serves application/json, {GEOJSON} and text/csv"
        ))
    })
}

/// Appends one item: the entry's object plus `distance_m` when known.
fn push_item(out: &mut String, snap: &Snapshot, h: &Hit) {
    snap.entry(h.idx).write_json_open(out);
    if let Some(d) = h.distance_m {
        out.push_str(",\"distance_m\":");
        out.push_str(ryu::Buffer::new().format_finite(d));
    }
    out.push('}');
}

/// `{"items": [...]` without closing the object, so callers can add members.
fn items_json(snap: &Snapshot, hits: &[Hit]) -> String {
    let mut out = String::with_capacity(32 + hits.len() * 700);
    out.push_str("{\"items\":[");
    for (i, h) in hits.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_item(&mut out, snap, h);
    }
    out.push(']');
    out
}

pub fn json_items(snap: &Snapshot, hits: &[Hit]) -> HttpResponse {
    let mut out = items_json(snap, hits);
    out.push('}');
    HttpResponse::Ok()
        .content_type("application/json")
        .body(out)
}

/// A page of a list: `{"items", "next_cursor", "total"}` in the negotiated format.
pub fn page(
    snap: &Snapshot,
    hits: &[Hit],
    next: Option<String>,
    total: usize,
    format: Format,
) -> HttpResponse {
    search_page(snap, hits, next, total, format, false)
}

/// [`page`] of a radius search: with `near`, CSV has a last column `distance_m` (metres
/// from `near`). Without it the CSV is exactly the import format, so it re-imports.
pub fn search_page(
    snap: &Snapshot,
    hits: &[Hit],
    next: Option<String>,
    total: usize,
    format: Format,
    near: bool,
) -> HttpResponse {
    let cursor_json = next
        .as_ref()
        .map_or("null".to_string(), |c| format!("\"{c}\""));
    let mut res = HttpResponse::Ok();
    res.insert_header(("X-Total-Count", total.to_string()));
    if let Some(c) = &next {
        res.insert_header(("X-Next-Cursor", c.as_str()));
    }
    match format {
        Format::Json => {
            let mut out = items_json(snap, hits);
            out.push_str(&format!(
                ",\"next_cursor\":{cursor_json},\"total\":{total}}}"
            ));
            res.content_type("application/json").body(out)
        }
        Format::GeoJson => {
            let mut out = String::with_capacity(64 + hits.len() * 800);
            out.push_str("{\"type\":\"FeatureCollection\",\"features\":[");
            for (i, h) in hits.iter().enumerate() {
                let e = snap.entry(h.idx);
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!(
                    "{{\"type\":\"Feature\",\"id\":\"{}\",\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{},{}]}},\"properties\":",
                    e.id, e.lon, e.lat
                ));
                push_item(&mut out, snap, h);
                out.push('}');
            }
            out.push_str(&format!(
                "],\"next_cursor\":{cursor_json},\"total\":{total}}}"
            ));
            res.content_type(GEOJSON).body(out)
        }
        Format::Csv => {
            let rows = hits.iter().map(|h| {
                let asset = snap.entry(h.idx).asset();
                let mut row = asset.fields.to_raw().cells().map(str::to_string).to_vec();
                row.push(SourceRef::cell(&asset.sources));
                if near {
                    row.push(h.distance_m.map(|d| d.to_string()).unwrap_or_default());
                }
                row
            });
            let mut header = CSV_COLUMNS.map(str::to_string).to_vec();
            header.push("sources".into());
            if near {
                header.push("distance_m".into());
            }
            match csv_body(header, rows) {
                Ok(body) => res.content_type(CSV).body(body),
                Err(e) => actix_web::ResponseError::error_response(&e),
            }
        }
    }
}
