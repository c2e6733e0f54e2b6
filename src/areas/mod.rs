//! Area geography: British National Grid coordinates and GeoJSON boundaries.

pub mod bng;
pub mod boundary;
