//! Access-gap reports, computed from the in-memory snapshot and cached beside it.
//!
//! The costly part of every report is the nearest published asset of a category for each
//! area; it is computed once per snapshot and category with the category's R-tree, on all
//! cores, and every report is then an aggregation over it. Rendered bodies are cached per
//! snapshot too, so a repeated report costs a hash lookup ([`ReportCache`]).
//!
//! One module per report holds its figures and all its renderings (JSON, CSV, GeoJSON,
//! chart inputs), so a new column is one change in one file; the HTTP handlers in
//! [`crate::api::reports`] only check the request and answer the rendered body. This module
//! depends on [`crate::index`], never the reverse.

pub mod cache;
pub mod charts;
pub mod deciles;
pub mod gaps;
pub mod local_authorities;
mod render;
pub mod request;
pub mod scope;
pub mod what_if;

pub use cache::{Nearest, Rendered, ReportCache, SnapshotReports};
pub use request::Report;
pub use scope::{Basis, Scope};
