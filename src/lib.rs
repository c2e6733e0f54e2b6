//! community-assets: a directory of arts, heritage and culture near people, and the
//! access-gap reports behind social prescribing.
//!
//! Layers, each using only those below it (the module graph has no cycles; a test keeps
//! it so):
//!
//! ```text
//! main (CLI) -> startup -> api -> curation -> state -> reports, auth, metrics, ...
//!   (and oruk) -> wire -> error -> import -> index, store, budget -> domain, geo, config
//! ```
//!
//! The database ([`store`]) is the source of truth; public reads are answered from an
//! in-memory snapshot with R-trees ([`index`]) held in [`state`]; every write goes
//! through [`curation`]; [`api`] holds the thin HTTP handlers.

pub mod api;
pub mod startup;

pub mod curation;
pub mod state;

pub mod auth;
pub mod metrics;
pub mod oruk;
pub mod rate_limit;
pub mod reports;
pub mod synth;

pub mod wire;

pub mod error;

pub mod import;

pub mod budget;
pub mod index;
pub mod store;

pub mod config;
pub mod domain;
pub mod geo;
