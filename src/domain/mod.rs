//! Domain types that can only be built valid ("parse, don't validate").

pub mod area;
pub mod asset;
pub mod hours;
pub mod timestamp;

pub use area::{Area, AreaSetInfo};
pub use asset::{Asset, AssetFields, Category, Cost, FieldError, RawAsset, Status, Wheelchair};
pub use hours::Hours;
