//! One asset in a snapshot, compact: what filters and sorting need, and its JSON ready to
//! write.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

use super::AreaSet;
use crate::domain::{Asset, Cost, Hours, Status, Wheelchair};

/// One published asset, compact: what filters and sorting need, and the asset's JSON.
/// The full [`Asset`] is not kept (it would double the memory); [`Entry::asset`] decodes it
/// from the JSON for the rarer CSV output.
#[derive(Clone)]
pub struct Entry {
    pub id: Uuid,
    pub lat: f64,
    pub lon: f64,
    pub category: Arc<str>,
    pub wheelchair: Wheelchair,
    pub cost: Cost,
    pub tags: Box<[Box<str>]>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    pub status: Status,
    /// The asset's JSON object without its closing brace, so that list responses can
    /// append `distance_m` and write items without serialising them again.
    json_open: Box<str>,
    /// Lower-cased name, then description and tags, for `q`; the name is also the
    /// `sort=name` key.
    pub(super) text: Box<str>,
    name_len: usize,
    pub(super) hours: Option<Arc<Hours>>,
    /// The area containing the asset, in the snapshot's [`AreaSet`].
    pub area: Option<u32>,
}

/// Shared pieces that many entries repeat: categories and parsed opening hours (real
/// listings repeat a few dozen patterns, and parsing is the costliest part of a build).
#[derive(Default)]
pub(super) struct Interner {
    categories: HashMap<String, Arc<str>>,
    hours: HashMap<String, Option<Arc<Hours>>>,
}

/// Entries for `assets`, in their order.
pub fn build_entries(assets: Vec<Asset>, areas: &AreaSet) -> Vec<Entry> {
    let mut interner = Interner::default();
    assets
        .into_iter()
        .map(|a| Entry::new(a, &mut interner, areas))
        .collect()
}

impl Entry {
    pub(super) fn new(asset: Asset, interner: &mut Interner, areas: &AreaSet) -> Self {
        let f = &asset.fields;
        let area = areas.locate(f.lat, f.lon);
        let mut json = serde_json::to_string(&asset).unwrap_or_else(|_| "{}".into());
        json.pop(); // the closing '}'
        json.push_str(",\"area_code\":");
        match area {
            Some(i) => {
                json.push_str(&serde_json::to_string(&areas.area(i).code).unwrap_or_default())
            }
            None => json.push_str("null"),
        }
        let name = f.name.to_lowercase();
        let text = format!(
            "{name}\n{}\n{}",
            f.description.as_deref().unwrap_or("").to_lowercase(),
            f.tags.join(" ")
        );
        // Stored hours were validated when written; one that no longer parses (a newer
        // parser, a hand edit) is treated as unknown rather than failing the snapshot.
        let hours = f.opening_hours.as_ref().and_then(|h| {
            interner
                .hours
                .entry(h.clone())
                .or_insert_with(|| Hours::parse(h).ok().map(Arc::new))
                .clone()
        });
        let category = interner
            .categories
            .entry(f.category.clone())
            .or_insert_with(|| f.category.as_str().into())
            .clone();
        Entry {
            id: asset.id,
            lat: f.lat,
            lon: f.lon,
            category,
            wheelchair: f.wheelchair,
            cost: f.cost,
            tags: f.tags.iter().map(|t| t.as_str().into()).collect(),
            updated_at: asset.updated_at,
            version: asset.version,
            status: f.status,
            json_open: json.into(),
            name_len: name.len(),
            text: text.into(),
            hours,
            area,
        }
    }

    /// The asset's JSON object with its closing brace omitted.
    pub fn json_open(&self) -> &str {
        &self.json_open
    }

    /// The lower-cased name: the `sort=name` key.
    pub fn name_key(&self) -> &str {
        &self.text[..self.name_len]
    }

    /// The full asset, decoded from its JSON.
    pub fn asset(&self) -> Asset {
        let mut json = String::with_capacity(self.json_open.len() + 1);
        json.push_str(&self.json_open);
        json.push('}');
        serde_json::from_str(&json).expect("the snapshot's JSON is produced from an Asset")
    }
}
