//! A location of a feed and the services at it.

use serde_json::{Map, Value};

/// A service at a place: the service, where it is, and the service_at_location record
/// that links the two (none when listed in the service's `locations`).
pub(super) struct Service<'a> {
    pub(super) value: &'a Map<String, Value>,
    pub(super) at: String,
    pub(super) link: Option<&'a Map<String, Value>>,
}

/// A location and the services at it, in the order found.
pub(super) struct Place<'a> {
    pub(super) location: String,
    pub(super) value: &'a Map<String, Value>,
    /// The service_at_location record that linked it, if any (its own schedules).
    pub(super) link: Option<&'a Map<String, Value>>,
    pub(super) services: Vec<Service<'a>>,
}
