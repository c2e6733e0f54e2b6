//! Sources and provenance: the lists the directory is built from, which of their records
//! describe an asset, and who set each of its fields last, so that an import can merge a
//! list into the directory without undoing what a person corrected.
//!
//! The merge rule, field by field (`position` is `lat` and `lon` together):
//! 1. a value a person set is never overwritten by an import (a curator's correction
//!    outlives every later list, until a person changes it again);
//! 2. a source that gives no value (empty, `unknown`, no tags) leaves the field alone,
//!    and a position placed at a postcode never replaces an exact one from another source;
//! 3. otherwise the value of the source with the higher priority for that field wins:
//!    a source overwrites a field set by another source that still lists the asset only
//!    when its priority for that field is higher (on a tie the value stays, so two lists
//!    of equal standing do not overwrite each other at every import);
//! 4. status: a source's closure (`archived`) archives the asset whatever the priorities,
//!    unless a person verified the asset, or set its status, after the source's date; a
//!    source re-opens an asset only if that source archived it (not another source, nor
//!    a person).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

use super::{Asset, AssetFields, Status};

/// A list the directory takes records from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"name": "osm-liverpool", "title": "OpenStreetMap, Liverpool",
    "licence": "ODbL-1.0", "attribution": "© OpenStreetMap contributors",
    "url": "https://www.openstreetmap.org/copyright", "priority": 10,
    "field_priorities": {"opening_hours": 90, "wheelchair": 90}, "records": 412}))]
pub struct Source {
    /// The name imports give in their `source` column or `--source`.
    pub name: String,
    pub title: Option<String>,
    /// The licence of the data (e.g. `OGL-3.0`, `ODbL-1.0`, `CC-BY-4.0`); null when
    /// unknown (a source first named by an import).
    pub licence: Option<String>,
    /// The text a reuser must show.
    pub attribution: Option<String>,
    pub url: Option<String>,
    /// Higher wins a field over a lower one (default 0).
    pub priority: i32,
    /// Priorities for single fields, overriding `priority` (e.g. OpenStreetMap first for
    /// `opening_hours` and `wheelchair`).
    pub field_priorities: BTreeMap<String, i32>,
    /// Records of this source linked to assets.
    pub records: i64,
}

impl Source {
    /// A source first named by an import: nothing known about it.
    pub fn unknown(name: &str) -> Self {
        Source {
            name: name.to_string(),
            title: None,
            licence: None,
            attribution: None,
            url: None,
            priority: 0,
            field_priorities: BTreeMap::new(),
            records: 0,
        }
    }

    /// This source's priority for `field`.
    pub fn priority_for(&self, field: &str) -> i32 {
        self.field_priorities
            .get(field)
            .copied()
            .unwrap_or(self.priority)
    }
}

/// One record of one source, as an asset's JSON lists them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub struct SourceRef {
    pub source: String,
    pub source_id: String,
}

impl SourceRef {
    /// The records as one CSV cell: `source:source_id`, separated by `;`.
    pub fn cell(refs: &[SourceRef]) -> String {
        refs.iter()
            .map(|r| format!("{}:{}", r.source, r.source_id))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// Who set a field last: a source (by an import) or a person (by an edit), and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Origin {
    /// The source whose import set the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The person whose edit set the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub at: DateTime<Utc>,
}

/// Who set each field last, by field name.
pub type Origins = BTreeMap<String, Origin>;

/// The fields provenance is kept for; `position` is `lat` and `lon` together.
pub const MERGED_FIELDS: [&str; 15] = [
    "name",
    "category",
    "position",
    "address",
    "town",
    "postcode",
    "website",
    "phone",
    "email",
    "description",
    "opening_hours",
    "wheelchair",
    "cost",
    "tags",
    "status",
];

fn object(fields: &AssetFields) -> Map<String, Value> {
    match serde_json::to_value(fields) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The parts of the `position` field: where, and how precisely it is known.
const POSITION: [&str; 3] = ["lat", "lon", "location_precision"];

fn get(o: &Map<String, Value>, field: &str) -> Value {
    if field == "position" {
        return POSITION.iter().map(|k| o[*k].clone()).collect();
    }
    o.get(field).cloned().unwrap_or(Value::Null)
}

fn set(o: &mut Map<String, Value>, field: &str, value: Value) {
    match (field, value) {
        ("position", Value::Array(p)) => {
            for (k, v) in POSITION.iter().zip(p) {
                o.insert(k.to_string(), v);
            }
        }
        (_, value) => {
            o.insert(field.into(), value);
        }
    }
}

/// A position placed at a postcode's centre, where an exact one is known.
fn less_precise(current: &Value, new: &Value) -> bool {
    new[2] == "postcode" && current[2] == "exact"
}

/// A value that says nothing: a list that does not know a field leaves it alone.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty() || s == "unknown",
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The fields whose values differ between `a` and `b`.
pub fn changed_fields(a: &AssetFields, b: &AssetFields) -> Vec<&'static str> {
    let (a, b) = (object(a), object(b));
    MERGED_FIELDS
        .into_iter()
        .filter(|f| get(&a, f) != get(&b, f))
        .collect()
}

/// Records that `by` (a person) set the fields that differ between `old` and `new`.
pub fn edited_by(
    origins: &mut Origins,
    old: &AssetFields,
    new: &AssetFields,
    by: &str,
    at: DateTime<Utc>,
) {
    for f in changed_fields(old, new) {
        let origin = Origin {
            source: None,
            by: Some(by.to_string()),
            at,
        };
        origins.insert(f.to_string(), origin);
    }
}

/// The origins of an asset created from `source`'s row: every field it gave.
pub fn created_from(fields: &AssetFields, source: &str, at: DateTime<Utc>) -> Origins {
    let origin = Origin {
        source: Some(source.to_string()),
        by: None,
        at,
    };
    given(fields, origin)
}

/// The origins of an asset a person created: every field they gave.
pub fn created_by(fields: &AssetFields, by: &str, at: DateTime<Utc>) -> Origins {
    let origin = Origin {
        source: None,
        by: Some(by.to_string()),
        at,
    };
    given(fields, origin)
}

fn given(fields: &AssetFields, origin: Origin) -> Origins {
    let o = object(fields);
    MERGED_FIELDS
        .into_iter()
        .filter(|f| !is_empty(&get(&o, f)))
        .map(|f| (f.to_string(), origin.clone()))
        .collect()
}

/// What merging one source's row into an asset gives.
#[derive(Debug)]
pub struct Merged {
    pub fields: AssetFields,
    pub origins: Origins,
    /// The row closed the asset.
    pub archived: bool,
}

/// What a merge needs to know besides the asset and the row.
pub struct MergeContext<'a> {
    /// The row's source.
    pub source: &'a Source,
    /// Every registered source, by name (for the priorities of the other sources).
    pub sources: &'a HashMap<String, Source>,
    /// The sources that still link the asset (besides the row's).
    pub linked: &'a [String],
    /// The date of the source's list: a closure does not undo a verification made later.
    pub as_of: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// Merges `row`, given by `ctx.source`, into `asset` by the rule in the module docs.
pub fn merge(asset: &Asset, origins: &Origins, row: &AssetFields, ctx: &MergeContext) -> Merged {
    let mut out = object(&asset.fields);
    let given = object(row);
    let mut origins = origins.clone();
    let source = &ctx.source.name;
    let mut archived = false;
    let by_source = || Origin {
        source: Some(source.clone()),
        by: None,
        at: ctx.now,
    };
    for field in MERGED_FIELDS {
        let (current, new) = (get(&out, field), get(&given, field));
        if field == "status" {
            let origin = origins.get(field);
            let apply = match (asset.fields.status, row.status) {
                (old, new) if old == new => false,
                (_, Status::Archived) => {
                    let verified_later = asset.last_verified_at.is_some_and(|t| t > ctx.as_of);
                    let set_later = origin.is_some_and(|o| o.by.is_some() && o.at > ctx.as_of);
                    !verified_later && !set_later
                }
                // Re-opening: only what this source closed itself.
                (Status::Archived, _) => {
                    origin.is_some_and(|o| o.source.as_deref() == Some(&ctx.source.name))
                }
                // Draft and published: by the general rule below.
                _ => wins(origin, field, ctx),
            };
            if apply {
                archived = row.status == Status::Archived;
                set(&mut out, field, new);
                origins.insert(field.into(), by_source());
            }
            continue;
        }
        if current == new || is_empty(&new) {
            continue;
        }
        let origin = origins.get(field);
        let own = origin.is_some_and(|o| o.source.as_deref() == Some(&ctx.source.name));
        if field == "position" && less_precise(&current, &new) && !own {
            continue;
        }
        if wins(origin, field, ctx) {
            set(&mut out, field, new);
            origins.insert(field.into(), by_source());
        }
    }
    let fields =
        serde_json::from_value(Value::Object(out)).unwrap_or_else(|_| asset.fields.clone());
    Merged {
        fields,
        origins,
        archived,
    }
}

/// Whether the row's source may replace a value set by `origin`.
fn wins(origin: Option<&Origin>, field: &str, ctx: &MergeContext) -> bool {
    let Some(origin) = origin else { return true };
    if origin.by.is_some() {
        return false;
    }
    match origin.source.as_deref() {
        Some(s) if s == ctx.source.name => true,
        Some(s) if ctx.linked.iter().any(|l| l == s) => {
            let theirs = ctx.sources.get(s).map_or(0, |t| t.priority_for(field));
            ctx.source.priority_for(field) > theirs
        }
        // A source that no longer lists the asset holds nothing.
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap()
    }

    fn asset(fields: AssetFields) -> Asset {
        Asset {
            id: Uuid::nil(),
            fields,
            last_verified_at: None,
            created_at: t(1),
            updated_at: t(1),
            version: 1,
            sources: Vec::new(),
        }
    }

    fn sources(list: &[Source]) -> HashMap<String, Source> {
        list.iter().map(|s| (s.name.clone(), s.clone())).collect()
    }

    #[test]
    fn a_person_edit_outlives_later_imports_and_priority_decides_between_sources() {
        let mut official = Source::unknown("official");
        official.priority = 50;
        let mut osm = Source::unknown("osm");
        osm.priority = 10;
        osm.field_priorities.insert("opening_hours".into(), 90);
        let all = sources(&[official.clone(), osm.clone()]);

        let mut fields = AssetFields::at("Barking Library", "library", 51.5, 0.08);
        fields.opening_hours = Some("Mo 09:00-17:00".into());
        fields.phone = Some("020 1".into());
        let old = asset(fields.clone());
        let mut origins = created_from(&fields, "official", t(1));
        let mut edited = fields.clone();
        edited.phone = Some("020 2".into());
        edited_by(&mut origins, &fields, &edited, "ann", t(2));
        let old = Asset {
            fields: edited,
            ..old
        };

        let mut row = AssetFields::at("Barking Public Library", "library", 51.5001, 0.08);
        row.opening_hours = Some("Mo 10:00-16:00".into());
        row.phone = Some("020 3".into());
        let linked = vec!["official".to_string()];
        let ctx = MergeContext {
            source: &osm,
            sources: &all,
            linked: &linked,
            as_of: t(3),
            now: t(3),
        };
        let m = merge(&old, &origins, &row, &ctx);
        assert_eq!(m.fields.name, "Barking Library", "official wins the name");
        assert_eq!(m.fields.lat, 51.5, "and the position");
        assert_eq!(m.fields.opening_hours.as_deref(), Some("Mo 10:00-16:00"));
        assert_eq!(m.origins["opening_hours"].source.as_deref(), Some("osm"));
        assert_eq!(
            m.fields.phone.as_deref(),
            Some("020 2"),
            "the person's edit"
        );
        assert!(!m.archived);

        // Once the official list no longer links the asset, OSM's name wins.
        let m = merge(&old, &origins, &row, &MergeContext { linked: &[], ..ctx });
        assert_eq!(m.fields.name, "Barking Public Library");
    }

    #[test]
    fn a_closure_archives_unless_verified_after_the_lists_date() {
        let s = Source::unknown("later-list");
        let all = sources(std::slice::from_ref(&s));
        let fields = AssetFields::at("Old Library", "library", 51.5, 0.08);
        let origins = created_from(&fields, "first-list", t(1));
        let mut closed = fields.clone();
        closed.status = Status::Archived;
        let ctx = MergeContext {
            source: &s,
            sources: &all,
            linked: &["first-list".to_string()],
            as_of: t(10),
            now: t(20),
        };
        let m = merge(&asset(fields.clone()), &origins, &closed, &ctx);
        assert!(m.archived);
        assert_eq!(m.fields.status, Status::Archived);

        let verified = Asset {
            last_verified_at: Some(t(11)),
            ..asset(fields.clone())
        };
        let m = merge(&verified, &origins, &closed, &ctx);
        assert!(!m.archived);
        assert_eq!(m.fields.status, Status::Published);

        // Re-opened by a source only when a source closed it.
        let archived = asset(closed.clone());
        let mut by_source = origins.clone();
        by_source.insert(
            "status".into(),
            Origin {
                source: Some("later-list".into()),
                by: None,
                at: t(20),
            },
        );
        assert_eq!(
            merge(&archived, &by_source, &fields, &ctx).fields.status,
            Status::Published
        );
        let mut by_person = origins;
        edited_by(&mut by_person, &fields, &closed, "ann", t(5));
        assert_eq!(
            merge(&archived, &by_person, &fields, &ctx).fields.status,
            Status::Archived
        );
    }

    #[test]
    fn empty_values_leave_fields_alone() {
        let s = Source::unknown("s");
        let all = sources(std::slice::from_ref(&s));
        let mut fields = AssetFields::at("A", "museum", 51.0, 0.0);
        fields.website = Some("https://a.example".into());
        let origins = created_from(&fields, "t", t(1));
        let row = AssetFields::at("A", "museum", 51.0, 0.0);
        let ctx = MergeContext {
            source: &s,
            sources: &all,
            linked: &[],
            as_of: t(2),
            now: t(2),
        };
        let m = merge(&asset(fields.clone()), &origins, &row, &ctx);
        assert_eq!(m.fields, fields);
    }
}
