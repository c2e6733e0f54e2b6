//! Open Referral UK 3.0 (HSDS-UK 3.0): the directory as a feed that council directories
//! and link-worker tools read without custom work. [`records`] says how our data map to
//! the standard's records (see `docs/oruk.md`), [`ids`] how their ids stay stable, and
//! [`feed`] which records a request gets, from the snapshot.

pub mod activities;
pub mod feed;
pub mod ids;
pub mod records;

pub use activities::{activity_service, Activities};
pub use feed::{Around, Feed, Paging, ServiceQuery};
pub use records::Depth;

/// What `GET /oruk` answers besides the links: the standard's version.
pub const VERSION: &str = "HSDS-UK-3.0";
/// The UK profile's documentation, as the official validator's own samples give it.
pub const PROFILE: &str = "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md";
/// The official OpenAPI document of the profile.
pub const OPENAPI_URL: &str = "https://openreferraluk.org/specifications/3.0/openapi.json";
