//! Geometry, in one place: great-circle maths on the sphere ([`sphere`]), British National
//! Grid coordinates ([`bng`]) and GeoJSON boundaries ([`boundary`]). Pure functions, no I/O.

pub mod banded;
pub mod bng;
pub mod boundary;
pub mod sphere;
