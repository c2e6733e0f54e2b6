//! Domain types that can only be built valid ("parse, don't validate").

pub mod activity;
pub mod area;
pub mod asset;
pub mod hours;
pub mod source;
pub mod timestamp;

pub use activity::{Activity, ActivityFields};
pub use area::{Area, AreaSetInfo};
pub use asset::{
    Asset, AssetFields, Category, Cost, FieldError, LocationPrecision, RawAsset, Status, Wheelchair,
};
pub use hours::Hours;
pub use source::{Origin, Origins, Source, SourceRef};
