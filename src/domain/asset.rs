//! The asset (a place people can go) and the rules every written asset obeys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use utoipa::ToSchema;
use uuid::Uuid;

use super::hours::Hours;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

string_enum!(
    /// Step-free access, as OpenStreetMap's `wheelchair` tag.
    Wheelchair { Yes => "yes", Limited => "limited", No => "no", Unknown => "unknown" }
);
string_enum!(
    /// What entry costs.
    Cost { Free => "free", Paid => "paid", Donation => "donation", Unknown => "unknown" }
);
string_enum!(
    /// How the position was found: given with the row (`exact`), or placed at the
    /// postcode's position because the row had none (`postcode`, within about 100 m).
    LocationPrecision { Exact => "exact", Postcode => "postcode" }
);

// The macro derives no Default; `#[default]` cannot be passed through it.
#[allow(clippy::derivable_impls)]
impl Default for LocationPrecision {
    fn default() -> Self {
        LocationPrecision::Exact
    }
}

string_enum!(
    /// Only `published` assets are public.
    Status { Published => "published", Draft => "draft", Archived => "archived" }
);

/// A kind of venue (`museum`, `library`, ...), as listed by `GET /v1/categories`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Category {
    pub slug: String,
    pub label: String,
    pub description: String,
}

/// A stored asset: the editable fields plus identity and bookkeeping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0b6f6a52-1f7e-4c1e-9d7a-2f3f1b8e4a10", "name": "Barking Library", "category": "library",
    "lat": 51.5363871, "lon": 0.0799942, "address": "2 Town Square, Barking", "town": "Barking",
    "postcode": "IG11 7NB", "website": "https://www.lbbd.gov.uk/libraries", "phone": null,
    "email": "barking.library@lbbd.gov.uk", "description": null,
    "opening_hours": "Mo-Fr 09:00-19:00; Sa 09:00-17:00", "wheelchair": "yes", "cost": "free",
    "tags": ["statutory"], "source": "libraries-taskforce-2016", "source_id": "1",
    "status": "published", "location_precision": "exact", "last_verified_at": null,
    "created_at": "2026-11-24T10:00:00Z", "updated_at": "2026-11-24T10:00:00Z", "version": 1,
    "sources": [{"source": "libraries-taskforce-2016", "source_id": "1"}]
}))]
pub struct Asset {
    pub id: Uuid,
    #[serde(flatten)]
    pub fields: AssetFields,
    pub last_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented by every update; the asset's ETag.
    pub version: i64,
    /// The records of the lists that describe this asset (see `GET /v1/sources`).
    #[serde(default)]
    pub sources: Vec<super::SourceRef>,
}

impl Asset {
    /// A new asset: version 1, never verified, no source records yet.
    pub fn new(id: Uuid, fields: AssetFields, now: DateTime<Utc>) -> Self {
        Asset {
            id,
            fields,
            last_verified_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
            sources: Vec::new(),
        }
    }
}

/// The fields a curator or an import sets, already validated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssetFields {
    pub name: String,
    /// A category slug from `GET /v1/categories`.
    pub category: String,
    /// WGS84 latitude in degrees.
    pub lat: f64,
    /// WGS84 longitude in degrees.
    pub lon: f64,
    pub address: Option<String>,
    pub town: Option<String>,
    /// Normalised UK postcode, e.g. `IG11 7NB`.
    pub postcode: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub description: Option<String>,
    /// OpenStreetMap `opening_hours` syntax, in Europe/London local time.
    pub opening_hours: Option<String>,
    pub wheelchair: Wheelchair,
    pub cost: Cost,
    pub tags: Vec<String>,
    /// Where the record came from; with `source_id`, the key a re-import updates by.
    pub source: Option<String>,
    pub source_id: Option<String>,
    pub status: Status,
    /// `postcode` when the position is the postcode's (an import row without coordinates).
    #[serde(default)]
    pub location_precision: LocationPrecision,
}

/// A field that failed validation, and why.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}

/// An asset as text cells, the way CSV and GeoJSON imports carry it. Empty means unknown.
#[derive(Clone, Debug, Default)]
pub struct RawAsset {
    pub source: String,
    pub source_id: String,
    pub name: String,
    pub category: String,
    pub lat: String,
    pub lon: String,
    pub address: String,
    pub town: String,
    pub postcode: String,
    pub website: String,
    pub phone: String,
    pub email: String,
    pub opening_hours: String,
    pub wheelchair: String,
    pub cost: String,
    pub description: String,
    /// `;`-separated.
    pub tags: String,
    pub status: String,
    /// `exact` (the default) or `postcode`.
    pub location_precision: String,
}

/// The column names of the import and export CSV, in order.
pub const CSV_COLUMNS: [&str; 19] = [
    "source",
    "source_id",
    "name",
    "category",
    "lat",
    "lon",
    "address",
    "town",
    "postcode",
    "website",
    "phone",
    "email",
    "opening_hours",
    "wheelchair",
    "cost",
    "description",
    "tags",
    "status",
    "location_precision",
];

impl RawAsset {
    /// The cells in [`CSV_COLUMNS`] order.
    pub fn cells(&self) -> [&str; 19] {
        [
            &self.source,
            &self.source_id,
            &self.name,
            &self.category,
            &self.lat,
            &self.lon,
            &self.address,
            &self.town,
            &self.postcode,
            &self.website,
            &self.phone,
            &self.email,
            &self.opening_hours,
            &self.wheelchair,
            &self.cost,
            &self.description,
            &self.tags,
            &self.status,
            &self.location_precision,
        ]
    }

    /// The cell for a CSV column name, for readers that fill cells by header.
    pub fn cell_mut(&mut self, column: &str) -> Option<&mut String> {
        Some(match column {
            "source" => &mut self.source,
            "source_id" => &mut self.source_id,
            "name" => &mut self.name,
            "category" => &mut self.category,
            "lat" => &mut self.lat,
            "lon" => &mut self.lon,
            "address" => &mut self.address,
            "town" => &mut self.town,
            "postcode" => &mut self.postcode,
            "website" => &mut self.website,
            "phone" => &mut self.phone,
            "email" => &mut self.email,
            "opening_hours" => &mut self.opening_hours,
            "wheelchair" => &mut self.wheelchair,
            "cost" => &mut self.cost,
            "description" => &mut self.description,
            "tags" => &mut self.tags,
            "status" => &mut self.status,
            "location_precision" => &mut self.location_precision,
            _ => return None,
        })
    }

    /// The cells of a JSON object (GeoJSON properties, an API body): strings as they are,
    /// numbers as written, arrays (tags) joined with `;`, null as empty. Keys that are not
    /// asset fields are returned, for the caller to refuse or ignore.
    pub fn from_json(object: &serde_json::Map<String, serde_json::Value>) -> (Self, Vec<String>) {
        use serde_json::Value;
        let mut raw = RawAsset::default();
        let mut unknown = Vec::new();
        for (k, v) in object {
            let Some(cell) = raw.cell_mut(k) else {
                unknown.push(k.clone());
                continue;
            };
            *cell = match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                Value::Array(items) => items
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(";"),
                other => other.to_string(),
            };
        }
        (raw, unknown)
    }
}

const MAX_NAME: usize = 200;
const MAX_SHORT: usize = 200;
const MAX_ADDRESS: usize = 500;
const MAX_URL: usize = 500;
/// Real descriptions run to a few thousand characters (the longest of 5,809 rows of a
/// national register: 4,100).
const MAX_DESCRIPTION: usize = 5000;
/// Tags as real lists give them: subject and governance tags such as
/// `subject-arts-fine_and_decorative_arts` run past 50 characters.
const MAX_TAGS: usize = 50;
const MAX_TAG: usize = 100;

impl AssetFields {
    /// A published place with only its name, category and position (the rest unknown),
    /// for synthetic data, benchmarks and tests.
    pub fn at(name: impl Into<String>, category: impl Into<String>, lat: f64, lon: f64) -> Self {
        AssetFields {
            name: name.into(),
            category: category.into(),
            lat,
            lon,
            address: None,
            town: None,
            postcode: None,
            website: None,
            phone: None,
            email: None,
            description: None,
            opening_hours: None,
            wheelchair: Wheelchair::Unknown,
            cost: Cost::Unknown,
            tags: Vec::new(),
            source: None,
            source_id: None,
            status: Status::Published,
            location_precision: LocationPrecision::Exact,
        }
    }

    /// Validates raw cells against every rule; returns all field errors at once.
    /// `require_source` is set by imports, which upsert by (source, source_id).
    pub fn parse(
        raw: &RawAsset,
        categories: &HashSet<String>,
        require_source: bool,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        // Control characters first: a field that has one is refused for that alone.
        let mut refused: Vec<&str> = Vec::new();
        for (field, cell) in CSV_COLUMNS.iter().zip(raw.cells()) {
            if let Err(reason) = check_text(cell.trim(), MULTILINE_FIELDS.contains(field)) {
                errors.push(FieldError::new(field, reason));
                refused.push(field);
            }
        }
        let mut check = |field: &str, r: Result<(), String>| {
            if let Err(reason) = r {
                if !refused.contains(&field) {
                    errors.push(FieldError::new(field, reason));
                }
            }
        };

        let name = raw.name.trim().to_string();
        check("name", required(&name).and(max_len(&name, MAX_NAME)));

        let category = raw.category.trim().to_ascii_lowercase();
        check(
            "category",
            if categories.contains(&category) {
                Ok(())
            } else if category.is_empty() {
                Err("is required".into())
            } else {
                let mut known: Vec<&str> = categories.iter().map(String::as_str).collect();
                known.sort_unstable();
                Err(format!(
                    "is not a known category (one of {})",
                    known.join(", ")
                ))
            },
        );

        let lat = parse_coordinate(&raw.lat, 90.0);
        check("lat", unit(&lat));
        let lon = parse_coordinate(&raw.lon, 180.0);
        check("lon", unit(&lon));

        let address = optional(&raw.address);
        check("address", opt_max_len(&address, MAX_ADDRESS));
        let town = optional(&raw.town);
        check("town", opt_max_len(&town, MAX_SHORT));
        let postcode = match optional(&raw.postcode) {
            None => None,
            Some(p) => match normalise_postcode(&p) {
                Some(n) => Some(n),
                None => {
                    check(
                        "postcode",
                        Err("is not a UK postcode (e.g. SW1A 1AA)".into()),
                    );
                    None
                }
            },
        };
        let website = optional(&raw.website);
        check("website", website.as_deref().map_or(Ok(()), check_url));
        let phone = optional(&raw.phone);
        check("phone", phone.as_deref().map_or(Ok(()), check_uk_phone));
        let email = optional(&raw.email);
        check("email", email.as_deref().map_or(Ok(()), check_email));
        let description = optional(&raw.description);
        check("description", opt_max_len(&description, MAX_DESCRIPTION));
        let opening_hours = optional(&raw.opening_hours);
        check(
            "opening_hours",
            match &opening_hours {
                Some(h) if h.chars().count() > MAX_ADDRESS => Err(too_long(MAX_ADDRESS)),
                Some(h) => Hours::parse(h).map(|_| ()),
                None => Ok(()),
            },
        );

        let wheelchair = enum_cell(&raw.wheelchair, Wheelchair::parse, Wheelchair::ALL);
        check("wheelchair", unit(&wheelchair));
        let cost = enum_cell(&raw.cost, Cost::parse, Cost::ALL);
        check("cost", unit(&cost));
        let status = if raw.status.trim().is_empty() {
            Ok(Status::Published)
        } else {
            enum_cell(&raw.status, Status::parse, Status::ALL)
                .map(|s| s.unwrap_or(Status::Published))
        };
        check("status", unit(&status));
        let location_precision = enum_cell(
            &raw.location_precision,
            LocationPrecision::parse,
            LocationPrecision::ALL,
        );
        check("location_precision", unit(&location_precision));

        let tags = parse_tags(raw.tags.split(';'));
        check("tags", unit(&tags));

        let source = optional(&raw.source);
        let source_id = optional(&raw.source_id);
        check("source", opt_max_len(&source, MAX_SHORT));
        check("source_id", opt_max_len(&source_id, MAX_SHORT));
        if require_source {
            check(
                "source",
                source
                    .as_ref()
                    .map(|_| ())
                    .ok_or_else(|| "is required".into()),
            );
            check(
                "source_id",
                source_id
                    .as_ref()
                    .map(|_| ())
                    .ok_or_else(|| "is required".into()),
            );
        } else if source.is_some() != source_id.is_some() {
            check(
                "source_id",
                Err("source and source_id are given together or not at all".into()),
            );
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        // Every Result below is Ok: any Err was recorded above and returned.
        Ok(Self {
            name,
            category,
            lat: lat.unwrap_or_default(),
            lon: lon.unwrap_or_default(),
            address,
            town,
            postcode,
            website,
            phone,
            email,
            description,
            opening_hours,
            wheelchair: wheelchair.ok().flatten().unwrap_or(Wheelchair::Unknown),
            cost: cost.ok().flatten().unwrap_or(Cost::Unknown),
            tags: tags.unwrap_or_default(),
            source,
            source_id,
            status: status.unwrap_or(Status::Published),
            location_precision: location_precision.ok().flatten().unwrap_or_default(),
        })
    }

    /// The fields as import cells, the inverse of [`AssetFields::parse`].
    pub fn to_raw(&self) -> RawAsset {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        RawAsset {
            source: s(&self.source),
            source_id: s(&self.source_id),
            name: self.name.clone(),
            category: self.category.clone(),
            lat: self.lat.to_string(),
            lon: self.lon.to_string(),
            address: s(&self.address),
            town: s(&self.town),
            postcode: s(&self.postcode),
            website: s(&self.website),
            phone: s(&self.phone),
            email: s(&self.email),
            opening_hours: s(&self.opening_hours),
            wheelchair: self.wheelchair.as_str().into(),
            cost: self.cost.as_str().into(),
            description: s(&self.description),
            tags: self.tags.join(";"),
            status: self.status.as_str().into(),
            location_precision: self.location_precision.as_str().into(),
        }
    }
}

/// The fields written on several lines: line breaks and tabs are allowed there (real
/// addresses, and a few towns, come on two or three lines).
pub const MULTILINE_FIELDS: [&str; 3] = ["address", "town", "description"];

/// The one rule for text written to the directory, wherever it comes from (the admin API,
/// a suggestion, an import row): no control characters — NUL, which PostgreSQL cannot
/// store, escape codes, C1 controls — except, when `multiline`, line feed, carriage return
/// and tab.
pub fn check_text(value: &str, multiline: bool) -> Result<(), String> {
    let bad = value
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')));
    match bad {
        None => Ok(()),
        Some((i, c)) => Err(format!(
            "must not contain control characters{} (U+{:04X} at character {})",
            if multiline {
                " other than line breaks and tabs"
            } else {
                ""
            },
            c as u32,
            i + 1
        )),
    }
}

/// The error of a parsed cell, without its value.
fn unit<T>(r: &Result<T, String>) -> Result<(), String> {
    r.as_ref().map(|_| ()).map_err(Clone::clone)
}

fn too_long(max: usize) -> String {
    format!("must be at most {max} characters")
}

/// A value shown in a message: whole when short, else its start and its length.
pub fn preview(value: &str) -> String {
    const SHOWN: usize = 60;
    let n = value.chars().count();
    if n <= SHOWN {
        format!("{value:?}")
    } else {
        let start: String = value.chars().take(SHOWN).collect();
        format!("{start:?}… ({n} characters)")
    }
}

fn required(s: &str) -> Result<(), String> {
    if s.is_empty() {
        Err("is required".into())
    } else {
        Ok(())
    }
}

fn max_len(s: &str, max: usize) -> Result<(), String> {
    if s.chars().count() > max {
        Err(too_long(max))
    } else {
        Ok(())
    }
}

fn opt_max_len(s: &Option<String>, max: usize) -> Result<(), String> {
    s.as_deref().map_or(Ok(()), |s| max_len(s, max))
}

fn optional(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Parses a coordinate in degrees within ±`limit`.
pub fn parse_coordinate(s: &str, limit: f64) -> Result<f64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("is required".into());
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= limit => Ok(v),
        Ok(_) => Err(format!("must be a number from -{limit} to {limit}")),
        Err(_) => Err(format!(
            "must be a number from -{limit} to {limit}, got {t:?}"
        )),
    }
}

fn enum_cell<T>(s: &str, parse: fn(&str) -> Option<T>, all: &[&str]) -> Result<Option<T>, String> {
    let t = s.trim().to_ascii_lowercase();
    if t.is_empty() {
        return Ok(None);
    }
    parse(&t)
        .map(Some)
        .ok_or_else(|| format!("must be one of {}", all.join(", ")))
}

/// Tags are lower-case words joined by hyphens or underscores, e.g. `dementia-friendly`.
pub fn parse_tags<'a>(cells: impl Iterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for cell in cells {
        // "Dementia friendly" in a real list is the tag `dementia-friendly`.
        let tag = cell
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-")
            .to_lowercase();
        if tag.is_empty() || tags.contains(&tag) {
            continue;
        }
        if tag.chars().count() > MAX_TAG
            || !tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "tag {tag:?} must be 1 to {MAX_TAG} letters, digits, '-' or '_'"
            ));
        }
        tags.push(tag);
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags, got {}", tags.len()));
    }
    Ok(tags)
}

/// Upper-cases a UK postcode and puts the single space before the inward code.
pub fn normalise_postcode(p: &str) -> Option<String> {
    let compact: String = p
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let bytes = compact.as_bytes();
    if !(5..=7).contains(&bytes.len()) || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    let ib = inward.as_bytes();
    let ok_inward =
        ib[0].is_ascii_digit() && ib[1].is_ascii_alphabetic() && ib[2].is_ascii_alphabetic();
    let ok_outward = outward.as_bytes()[0].is_ascii_alphabetic();
    (ok_inward && ok_outward).then(|| format!("{outward} {inward}"))
}

/// A rule for one text field.
type Check = fn(&str) -> Result<(), String>;

/// Imports of real-world open data meet placeholder contact details ("NA", "As above",
/// several URLs in one cell). Contact fields are optional, so a lenient import keeps the
/// first valid URL of several, or drops the value, and reports a warning instead of
/// rejecting the whole row. Returns the warning, if any.
pub fn salvage_contacts(raw: &mut RawAsset) -> Vec<FieldError> {
    let mut warnings = Vec::new();
    let checks: [(&str, Check, &mut String); 3] = [
        ("website", check_url, &mut raw.website),
        ("email", check_email, &mut raw.email),
        ("phone", check_uk_phone, &mut raw.phone),
    ];
    for (field, check, cell) in checks {
        let value = unwrap_contact(cell);
        if value.is_empty() || check(value).is_ok() {
            *cell = value.to_string();
            continue;
        }
        // Lists give websites without their scheme: `www.lbbd.gov.uk/libraries`.
        let with_scheme = format!("https://{value}");
        if field == "website" && !value.contains("://") && check(&with_scheme).is_ok() {
            *cell = with_scheme;
            continue;
        }
        let value = value.to_string();
        let first_valid = value
            .split([' ', '\t', '\n', '\r', ';'])
            .map(unwrap_contact)
            .find(|v| check(v).is_ok())
            .map(str::to_string);
        let reason = match &first_valid {
            Some(v) => format!("kept {v:?}, the first valid value of {value:?}"),
            None => format!(
                "dropped {value:?}: {}",
                check(&value).err().unwrap_or_default()
            ),
        };
        warnings.push(FieldError::new(field, reason));
        *cell = first_valid.unwrap_or_default();
    }
    warnings
}

/// A contact as written in real lists without its wrapping: surrounding spaces, a `mailto:`
/// or `tel:` scheme, angle brackets (`<bodmin.library@cornwall.gov.uk>`).
fn unwrap_contact(value: &str) -> &str {
    let mut v = value.trim();
    loop {
        let before = v;
        for scheme in ["mailto:", "tel:"] {
            // `get`: a value may have a multi-byte character where the scheme would end.
            if v.get(..scheme.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
            {
                v = v[scheme.len()..].trim();
            }
        }
        if let Some(inner) = v.strip_prefix('<').and_then(|i| i.strip_suffix('>')) {
            v = inner.trim();
        }
        if v == before {
            return v;
        }
    }
}

fn check_url(u: &str) -> Result<(), String> {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    match host {
        _ if u.len() > MAX_URL => Err(too_long(MAX_URL)),
        Some(h) if h.contains('.') && !u.contains(char::is_whitespace) => Ok(()),
        _ => Err(format!(
            "must be an http:// or https:// URL with a host, got {u:?}"
        )),
    }
}

pub fn check_email(e: &str) -> Result<(), String> {
    let ok = e.len() <= 254
        && !e.contains(char::is_whitespace)
        && !e.contains(['<', '>', ',', ';'])
        && matches!(e.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.contains('@') && domain.contains('.')
               && !domain.starts_with('.') && !domain.ends_with('.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "must be an e-mail address like name@example.org, got {e:?}"
        ))
    }
}

/// UK numbers: `0` and 9 or 10 digits, or `+44` and 9 or 10 digits; spaces, hyphens and
/// brackets are allowed between digits.
fn check_uk_phone(p: &str) -> Result<(), String> {
    let allowed = p.chars().all(|c| c.is_ascii_digit() || " -()+".contains(c));
    let digits: String = p.chars().filter(char::is_ascii_digit).collect();
    let national = if p.trim_start().starts_with('+') {
        digits
            .strip_prefix("44")
            .filter(|_| p.matches('+').count() == 1)
    } else {
        digits.strip_prefix('0').filter(|_| !p.contains('+'))
    };
    match national {
        Some(n) if allowed && (9..=10).contains(&n.len()) && !n.starts_with('0') => Ok(()),
        _ => Err("must be a UK phone number, e.g. 020 7946 0000 or +44 20 7946 0000".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats() -> HashSet<String> {
        ["library", "museum"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn raw() -> RawAsset {
        RawAsset {
            source: "t".into(),
            source_id: "1".into(),
            name: " Barking ".into(),
            category: "library".into(),
            lat: "51.5".into(),
            lon: "0.08".into(),
            postcode: "ig117nb".into(),
            tags: "Statutory; family;;statutory".into(),
            ..Default::default()
        }
    }

    #[test]
    fn valid_row_is_normalised() {
        let f = AssetFields::parse(&raw(), &cats(), true).unwrap();
        assert_eq!(f.name, "Barking");
        assert_eq!(f.postcode.as_deref(), Some("IG11 7NB"));
        assert_eq!(f.tags, vec!["statutory", "family"]);
        assert_eq!(f.wheelchair, Wheelchair::Unknown);
        assert_eq!(f.status, Status::Published);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut r = raw();
        r.name = " ".into();
        r.category = "zoo".into();
        r.lat = "91".into();
        r.lon = "abc".into();
        r.website = "www.example.org".into();
        r.email = "nobody".into();
        r.phone = "12345".into();
        r.opening_hours = "sometimes".into();
        r.wheelchair = "maybe".into();
        r.postcode = "XYZ".into();
        r.source_id = "".into();
        let errs = AssetFields::parse(&r, &cats(), true).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "name",
            "category",
            "lat",
            "lon",
            "website",
            "email",
            "phone",
            "opening_hours",
            "wheelchair",
            "postcode",
            "source_id",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn uk_phone_shapes() {
        assert!(check_uk_phone("020 7946 0000").is_ok());
        assert!(check_uk_phone("+44 (0)20 7946 0000").is_err());
        assert!(check_uk_phone("+44 20 7946 0000").is_ok());
        assert!(check_uk_phone("01632 960 001").is_ok());
        assert!(check_uk_phone("999").is_err());
        assert!(check_uk_phone("+1 202 555 0100").is_err());
    }

    #[test]
    fn control_characters_are_refused_naming_the_field() {
        let mut r = raw();
        r.name = "Bad\0name".into();
        r.website = "https://example.org/\u{1b}[31m".into();
        r.description = "Two lines\r\nand\ta tab".into();
        r.address = "1 High St\nTown".into();
        let errs = AssetFields::parse(&r, &cats(), true).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "website"], "{errs:?}");
        assert!(errs[0].reason.contains("U+0000"), "{errs:?}");
        r.description = "bell\u{7}".into();
        let errs = AssetFields::parse(&r, &cats(), true).unwrap_err();
        assert!(errs.iter().any(|e| e.field == "description"));
        assert!(check_text("tab\there", false).is_err());
        assert!(check_text("C1 \u{85}", true).is_err());
    }

    #[test]
    fn salvage_unwraps_contacts() {
        let mut r = raw();
        r.email = " <mailto:Bodmin.Library@cornwall.gov.uk> ".into();
        r.phone = "tel:01208 72286".into();
        r.website = "<https://example.org/a>".into();
        assert_eq!(salvage_contacts(&mut r), vec![]);
        assert_eq!(r.website, "https://example.org/a");
        r.website = "www.lbbd.gov.uk/libraries".into();
        assert_eq!(salvage_contacts(&mut r), vec![]);
        assert_eq!(r.email, "Bodmin.Library@cornwall.gov.uk");
        assert_eq!(r.phone, "01208 72286");
        assert_eq!(r.website, "https://www.lbbd.gov.uk/libraries");
        r.email = "Library: <bodmin.library@cornwall.gov.uk>".into();
        let w = salvage_contacts(&mut r);
        assert_eq!(r.email, "bodmin.library@cornwall.gov.uk", "{w:?}");
        assert!(check_email("<a@b.org>").is_err());
        // A character of several bytes where a scheme would end is no panic (found by
        // the fuzzer): the value is dropped with a warning.
        r.email = "NA\u{ff}\u{ff}\u{ff}\u{ff}".into();
        r.phone = "tel\u{ff}".into();
        assert_eq!(salvage_contacts(&mut r).len(), 2);
        assert_eq!((r.email.as_str(), r.phone.as_str()), ("", ""));
    }

    #[test]
    fn real_tags_and_descriptions_fit() {
        let mut r = raw();
        r.tags = "Dementia friendly;subject-arts-fine_and_decorative_arts-and-more-words-past-fifty-chars".into();
        r.description = "x".repeat(4100);
        let f = AssetFields::parse(&r, &cats(), true).unwrap();
        assert_eq!(f.tags[0], "dementia-friendly");
        r.description = "x".repeat(5001);
        let errs = AssetFields::parse(&r, &cats(), true).unwrap_err();
        assert_eq!(errs[0].field, "description");
        assert!(preview(&r.description).ends_with("… (5001 characters)"));
    }

    #[test]
    fn raw_round_trip() {
        let f = AssetFields::parse(&raw(), &cats(), true).unwrap();
        assert_eq!(AssetFields::parse(&f.to_raw(), &cats(), true).unwrap(), f);
    }
}
