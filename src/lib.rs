//! community-assets: a directory of arts, heritage and culture near people, and the
//! access-gap reports behind social prescribing.
//!
//! The database ([`store`]) is the source of truth; public reads are answered from an
//! in-memory snapshot with R-trees ([`index`]); [`api`] holds the thin HTTP handlers.

pub mod api;
pub mod areas;
pub mod auth;
pub mod config;
pub mod curation;
pub mod domain;
pub mod error;
pub mod import;
pub mod index;
pub mod metrics;
pub mod rate_limit;
pub mod reports;
pub mod startup;
pub mod state;
pub mod store;
pub mod synth;
