//! One asset in a snapshot, compact: what filters and sorting need, and the rest of the
//! asset packed in one allocation, written as JSON when asked for.
//!
//! A million entries are held at once, so every byte of an entry counts (the layout and
//! its figures are in docs/performance.md). An entry keeps each text once, as given:
//! its texts in one length-prefixed buffer, the opening hours shared with every entry
//! that has the same text, the category shared, numbers and timestamps as numbers. The
//! JSON (the same bytes as serialising the [`Asset`]) is written from these on each
//! response, and the search text and name key are derived on the fly: no second copy of
//! the name, the description or the tags.

use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

use super::AreaSet;
use crate::domain::{
    Asset, AssetFields, Cost, Hours, LocationPrecision, SourceRef, Status, Wheelchair,
};

/// One asset of a snapshot, compact: what filters and sorting need, and the rest of the
/// asset packed; [`Entry::write_json_open`] writes its JSON, [`Entry::asset`] gives it back.
#[derive(Clone)]
pub struct Entry {
    pub id: Uuid,
    pub lat: f64,
    pub lon: f64,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// Microseconds since the epoch.
    created_us: i64,
    /// Microseconds since the epoch; [`NEVER`] when never verified.
    verified_us: i64,
    pub category: Arc<str>,
    /// The opening hours as written and as parsed, shared by the entries with that text.
    hours: Option<Arc<SharedHours>>,
    /// The area containing the asset, in the snapshot's [`AreaSet`].
    pub area: Option<u32>,
    pub wheelchair: Wheelchair,
    pub cost: Cost,
    pub status: Status,
    precision: LocationPrecision,
    /// Which optional texts are in `texts` ([`ADDRESS`]...), and how `sources` is kept.
    present: u16,
    /// The texts, in JSON order, each as its length (see [`put_len`]) and its text: the
    /// name, the optional texts present, the tags (their count first), the source and
    /// source id, the source records when not just the asset's own, the area code.
    texts: Box<str>,
    /// The first bytes of the name key ([`key_prefix`]): most `sort=name` comparisons
    /// end here, without lower-casing the names.
    name_prefix: u64,
}

/// Opening hours as written, and parsed (`None`: stored hours that no longer parse, such
/// as a hand edit or a newer parser, are unknown rather than failing the snapshot).
pub(super) struct SharedHours {
    text: Box<str>,
    parsed: Option<Hours>,
}

/// `verified_us` of an asset never verified (no valid timestamp is this far back).
const NEVER: i64 = i64::MIN;

// Bits of `present`: the optional texts, in JSON order.
const ADDRESS: u16 = 1;
const TOWN: u16 = 1 << 1;
const POSTCODE: u16 = 1 << 2;
const WEBSITE: u16 = 1 << 3;
const PHONE: u16 = 1 << 4;
const EMAIL: u16 = 1 << 5;
const DESCRIPTION: u16 = 1 << 6;
const SOURCE: u16 = 1 << 7;
const SOURCE_ID: u16 = 1 << 8;
const AREA_CODE: u16 = 1 << 9;
/// The source records are exactly the asset's own `source` and `source_id` (an imported
/// asset's usual case): kept once.
const SOURCES_OWN: u16 = 1 << 10;
/// The source records are listed in `texts` (their count, then source and id of each).
const SOURCES_LISTED: u16 = 1 << 11;

/// The optional texts before the tags, in JSON order, with their keys.
const CONTACTS: [(u16, &str); 7] = [
    (ADDRESS, ",\"address\":"),
    (TOWN, ",\"town\":"),
    (POSTCODE, ",\"postcode\":"),
    (WEBSITE, ",\"website\":"),
    (PHONE, ",\"phone\":"),
    (EMAIL, ",\"email\":"),
    (DESCRIPTION, ",\"description\":"),
];

/// Shared pieces that many entries repeat: categories and opening hours (real listings
/// repeat a few dozen patterns, and parsing is the costliest part of a build).
#[derive(Default)]
pub(super) struct Interner {
    categories: HashMap<String, Arc<str>>,
    hours: HashMap<String, Arc<SharedHours>>,
    /// Where an entry's texts are put together before they are copied to their own
    /// allocation of the exact size (growing each entry's buffer would free a chunk or two
    /// an entry: in a long build, glibc then consolidates them whenever its heap grows).
    scratch: String,
}

/// Entries for `assets`, in their order, built on every core.
/// Each part has its own interner: a pattern is then shared per part, which costs a few
/// copies at most.
pub fn build_entries(assets: Vec<Asset>, areas: &AreaSet) -> Vec<Entry> {
    let build = |part: &[Asset]| {
        let mut interner = Interner::default();
        part.iter()
            .map(|a| Entry::from_asset(a, &mut interner, areas))
            .collect::<Vec<_>>()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Below this a thread costs more than it saves.
    const PER_THREAD: usize = 4096;
    let parts = threads.min(assets.len() / PER_THREAD).max(1);
    if parts == 1 {
        return build(&assets);
    }
    let chunk = assets.len().div_ceil(parts);
    std::thread::scope(|s| {
        let workers: Vec<_> = assets
            .chunks(chunk)
            .map(|part| s.spawn(|| build(part)))
            .collect();
        let mut entries = Vec::with_capacity(assets.len());
        for w in workers {
            entries.extend(w.join().expect("building entries does not panic"));
        }
        entries
    })
}

/// Entries built one asset at a time, as a reader decodes them (a whole build's rows are
/// never all held at once: see [`super::Snapshot::from_parts`]). One interner a builder.
pub struct EntryBuilder<'a> {
    interner: Interner,
    areas: &'a AreaSet,
    entries: Vec<Entry>,
}

impl<'a> EntryBuilder<'a> {
    /// A builder locating in `areas`, with room for `capacity` entries.
    pub fn new(areas: &'a AreaSet, capacity: usize) -> Self {
        EntryBuilder {
            interner: Interner::default(),
            areas,
            entries: Vec::with_capacity(capacity),
        }
    }

    pub fn push(&mut self, asset: &Asset) {
        let entry = Entry::from_asset(asset, &mut self.interner, self.areas);
        self.entries.push(entry);
    }

    /// The entries, in the order pushed.
    pub fn finish(self) -> Vec<Entry> {
        self.entries
    }
}

impl Entry {
    /// One entry, as a change to a snapshot makes it (whole builds use [`build_entries`]).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) fn new(asset: Asset, interner: &mut Interner, areas: &AreaSet) -> Self {
        Self::from_asset(&asset, interner, areas)
    }

    fn from_asset(asset: &Asset, interner: &mut Interner, areas: &AreaSet) -> Self {
        let f = &asset.fields;
        let area = areas.locate(f.lat, f.lon);
        let mut present = 0;
        let mut texts = std::mem::take(&mut interner.scratch);
        texts.clear();
        put(&mut texts, &f.name);
        let contacts = [
            &f.address,
            &f.town,
            &f.postcode,
            &f.website,
            &f.phone,
            &f.email,
            &f.description,
        ];
        for ((bit, _), value) in CONTACTS.iter().zip(contacts) {
            if let Some(v) = value {
                present |= bit;
                put(&mut texts, v);
            }
        }
        put_len(&mut texts, f.tags.len());
        for t in &f.tags {
            put(&mut texts, t);
        }
        for (bit, value) in [(SOURCE, &f.source), (SOURCE_ID, &f.source_id)] {
            if let Some(v) = value {
                present |= bit;
                put(&mut texts, v);
            }
        }
        let own = match (&f.source, &f.source_id, asset.sources.as_slice()) {
            (Some(s), Some(i), [r]) => r.source == *s && r.source_id == *i,
            _ => false,
        };
        if own {
            present |= SOURCES_OWN;
        } else if !asset.sources.is_empty() {
            present |= SOURCES_LISTED;
            put_len(&mut texts, asset.sources.len());
            for r in &asset.sources {
                put(&mut texts, &r.source);
                put(&mut texts, &r.source_id);
            }
        }
        if let Some(i) = area {
            present |= AREA_CODE;
            put(&mut texts, &areas.area(i).code);
        }
        // Looked up before an owned key is made: most values are already there.
        let hours = f
            .opening_hours
            .as_ref()
            .map(|h| match interner.hours.get(h) {
                Some(shared) => shared.clone(),
                None => interner
                    .hours
                    .entry(h.clone())
                    .or_insert_with(|| {
                        Arc::new(SharedHours {
                            text: h.as_str().into(),
                            parsed: Hours::parse(h).ok(),
                        })
                    })
                    .clone(),
            });
        let category = match interner.categories.get(&f.category) {
            Some(c) => c.clone(),
            None => interner
                .categories
                .entry(f.category.clone())
                .or_insert_with(|| f.category.as_str().into())
                .clone(),
        };
        let packed: Box<str> = texts.as_str().into();
        interner.scratch = texts;
        Entry {
            id: asset.id,
            lat: f.lat,
            lon: f.lon,
            updated_at: asset.updated_at,
            version: asset.version,
            created_us: asset.created_at.timestamp_micros(),
            verified_us: asset
                .last_verified_at
                .map_or(NEVER, |t| t.timestamp_micros()),
            category,
            hours,
            area,
            wheelchair: f.wheelchair,
            cost: f.cost,
            status: f.status,
            precision: f.location_precision,
            present,
            name_prefix: name_prefix(&f.name),
            texts: packed,
        }
    }

    /// The texts, read in order.
    fn texts(&self) -> Texts<'_> {
        Texts {
            rest: &self.texts,
            present: self.present,
        }
    }

    /// Reads the entry and the first byte of its texts: a page about to be written warms
    /// its entries with this in one pass, so that their cache misses overlap.
    pub fn warm(&self) -> u8 {
        self.texts.as_bytes().first().copied().unwrap_or(0)
    }

    pub fn name(&self) -> &str {
        self.texts().next()
    }

    /// The parsed opening hours, when known.
    pub fn hours(&self) -> Option<&Hours> {
        self.hours.as_ref().and_then(|h| h.parsed.as_ref())
    }

    /// Whether the asset has this tag.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.texts().skip_to_tags().any(|t| t == tag)
    }

    /// Whether a lower-case word (no white space) occurs in the lower-cased name or
    /// description, or in a tag: what `q` searches.
    pub fn contains_word(&self, word: &str) -> bool {
        let mut t = self.texts();
        if contains_lowered(t.next(), word) {
            return true;
        }
        let description = t.skip_contacts(DESCRIPTION);
        if description.is_some_and(|d| contains_lowered(d, word)) {
            return true;
        }
        let found = t.tags().any(|tag| tag.contains(word));
        found
    }

    /// The lower-cased name: the `sort=name` key (see [`Entry::cmp_name`]).
    pub fn name_key(&self) -> Cow<'_, str> {
        let name = self.name();
        if name.bytes().any(|b| b.is_ascii_uppercase()) || !name.is_ascii() {
            Cow::Owned(name.to_lowercase())
        } else {
            Cow::Borrowed(name)
        }
    }

    /// The first bytes of the name key, as an integer that orders as they do (see
    /// [`key_prefix`]).
    pub fn name_prefix(&self) -> u64 {
        self.name_prefix
    }

    /// Orders two entries by their name keys, without making them: by their prefixes,
    /// and only on a tie by the whole keys.
    pub fn cmp_name(&self, other: &Entry) -> Ordering {
        self.name_prefix
            .cmp(&other.name_prefix)
            .then_with(|| cmp_lowered(self.name(), other.name()))
    }

    /// Orders the entry's name key against a key (a cursor's).
    pub fn cmp_name_key(&self, key: &str) -> Ordering {
        self.name_prefix
            .cmp(&key_prefix(key))
            .then_with(|| self.cmp_name_key_whole(key))
    }

    fn cmp_name_key_whole(&self, key: &str) -> Ordering {
        let name = self.name();
        if name.is_ascii() {
            name.bytes()
                .map(|b| b.to_ascii_lowercase())
                .cmp(key.bytes())
        } else {
            name.to_lowercase().as_str().cmp(key)
        }
    }

    /// Appends the asset's JSON object without its closing brace (so that list responses
    /// can add `distance_m`): the bytes `serde_json` writes for the [`Asset`], then
    /// `area_code`.
    pub fn write_json_open(&self, out: &mut String) {
        let mut t = self.texts();
        out.reserve(320 + self.texts.len());
        out.push_str("{\"id\":\"");
        out.push_str(
            self.id
                .hyphenated()
                .encode_lower(&mut Uuid::encode_buffer()),
        );
        out.push_str("\",\"name\":");
        push_json_str(out, t.next());
        out.push_str(",\"category\":");
        push_json_str(out, &self.category);
        out.push_str(",\"lat\":");
        push_f64(out, self.lat);
        out.push_str(",\"lon\":");
        push_f64(out, self.lon);
        for (bit, key) in CONTACTS {
            out.push_str(key);
            push_json_opt(out, t.optional(bit));
        }
        out.push_str(",\"opening_hours\":");
        push_json_opt(out, self.hours.as_ref().map(|h| &*h.text));
        out.push_str(",\"wheelchair\":\"");
        out.push_str(self.wheelchair.as_str());
        out.push_str("\",\"cost\":\"");
        out.push_str(self.cost.as_str());
        out.push_str("\",\"tags\":[");
        for (i, tag) in t.tags().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_str(out, tag);
        }
        out.push_str("],\"source\":");
        let source = t.optional(SOURCE);
        push_json_opt(out, source);
        out.push_str(",\"source_id\":");
        let source_id = t.optional(SOURCE_ID);
        push_json_opt(out, source_id);
        out.push_str(",\"status\":\"");
        out.push_str(self.status.as_str());
        out.push_str("\",\"location_precision\":\"");
        out.push_str(self.precision.as_str());
        out.push_str("\",\"last_verified_at\":");
        if self.verified_us == NEVER {
            out.push_str("null");
        } else {
            push_timestamp(out, self.verified_us);
        }
        out.push_str(",\"created_at\":");
        let created = out.len();
        push_timestamp(out, self.created_us);
        out.push_str(",\"updated_at\":");
        let updated_us = self.updated_at.timestamp_micros();
        if updated_us == self.created_us && out.len() - created <= 40 + ",\"updated_at\":".len() {
            // Never updated: the same text again (cheaper than writing it).
            let end = out.len() - ",\"updated_at\":".len();
            let mut text = [0u8; 40];
            let n = end - created;
            text[..n].copy_from_slice(&out.as_bytes()[created..end]);
            out.push_str(std::str::from_utf8(&text[..n]).unwrap_or_default());
        } else {
            push_timestamp(out, updated_us);
        }
        out.push_str(",\"version\":");
        out.push_str(itoa(self.version, &mut [0; 20]));
        out.push_str(",\"sources\":[");
        let mut source_ref = |i: usize, s: &str, id: &str| {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"source\":");
            push_json_str(out, s);
            out.push_str(",\"source_id\":");
            push_json_str(out, id);
            out.push('}');
        };
        if self.present & SOURCES_OWN != 0 {
            source_ref(0, source.unwrap_or(""), source_id.unwrap_or(""));
        } else if self.present & SOURCES_LISTED != 0 {
            for i in 0..t.count() {
                let (s, id) = (t.next(), t.next());
                source_ref(i, s, id);
            }
        }
        out.push_str("],\"area_code\":");
        push_json_opt(out, t.optional(AREA_CODE));
    }

    /// The asset's JSON object with its closing brace omitted (see
    /// [`Entry::write_json_open`], which appends it to a buffer).
    pub fn json_open(&self) -> String {
        let mut out = String::new();
        self.write_json_open(&mut out);
        out
    }

    /// The full asset.
    pub fn asset(&self) -> Asset {
        let mut t = self.texts();
        let name = t.next().to_string();
        let mut contacts = CONTACTS.map(|(bit, _)| t.optional(bit).map(str::to_string));
        let tags = t.tags().map(str::to_string).collect();
        let source = t.optional(SOURCE).map(str::to_string);
        let source_id = t.optional(SOURCE_ID).map(str::to_string);
        let sources = if self.present & SOURCES_OWN != 0 {
            vec![SourceRef {
                source: source.clone().unwrap_or_default(),
                source_id: source_id.clone().unwrap_or_default(),
            }]
        } else if self.present & SOURCES_LISTED != 0 {
            (0..t.count())
                .map(|_| SourceRef {
                    source: t.next().to_string(),
                    source_id: t.next().to_string(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut take = |i: usize| contacts[i].take();
        let time = |us: i64| DateTime::from_timestamp_micros(us).unwrap_or_default();
        Asset {
            id: self.id,
            fields: AssetFields {
                name,
                category: self.category.to_string(),
                lat: self.lat,
                lon: self.lon,
                address: take(0),
                town: take(1),
                postcode: take(2),
                website: take(3),
                phone: take(4),
                email: take(5),
                description: take(6),
                opening_hours: self.hours.as_ref().map(|h| h.text.to_string()),
                wheelchair: self.wheelchair,
                cost: self.cost,
                tags,
                source,
                source_id,
                status: self.status,
                location_precision: self.precision,
            },
            last_verified_at: (self.verified_us != NEVER).then(|| time(self.verified_us)),
            created_at: time(self.created_us),
            updated_at: self.updated_at,
            version: self.version,
            sources,
        }
    }
}

/// A reader of an entry's texts, in the order they were put.
struct Texts<'a> {
    rest: &'a str,
    present: u16,
}

impl<'a> Texts<'a> {
    /// A length or a count (see [`put_len`]).
    fn count(&mut self) -> usize {
        let mut n = 0usize;
        for (i, b) in self.rest.bytes().enumerate() {
            n |= usize::from(b & 0x3f) << (6 * i);
            if b & 0x40 == 0 {
                self.rest = &self.rest[i + 1..];
                return n;
            }
        }
        self.rest = "";
        n
    }

    fn next(&mut self) -> &'a str {
        let n = self.count();
        // Every text was put whole, so `n` ends at a character boundary.
        let (text, rest) = self.rest.split_at_checked(n).unwrap_or((self.rest, ""));
        self.rest = rest;
        text
    }

    fn optional(&mut self, bit: u16) -> Option<&'a str> {
        (self.present & bit != 0).then(|| self.next())
    }

    /// Skips the optional texts before `until` (one of [`CONTACTS`]), and reads it.
    fn skip_contacts(&mut self, until: u16) -> Option<&'a str> {
        for (bit, _) in CONTACTS {
            let text = self.optional(bit);
            if bit == until {
                return text;
            }
        }
        None
    }

    /// From the start: past the name and the contacts.
    fn skip_to_tags(mut self) -> impl Iterator<Item = &'a str> {
        self.next();
        self.skip_contacts(DESCRIPTION);
        self.tags_owned()
    }

    /// The tags (reading past them).
    fn tags(&mut self) -> impl Iterator<Item = &'a str> + use<'a, '_> {
        let n = self.count();
        (0..n).map(move |_| self.next())
    }

    fn tags_owned(mut self) -> impl Iterator<Item = &'a str> {
        let n = self.count();
        (0..n).map(move |_| self.next())
    }
}

/// A length as ASCII characters, so that the buffer stays a `str` (and reading it costs no
/// UTF-8 check): six bits a character, lowest first, `0x40` set on all but the last. A
/// text under 64 bytes takes one.
fn put_len(buf: &mut String, mut n: usize) {
    while n >= 0x40 {
        buf.push(char::from(0x40 | (n & 0x3f) as u8));
        n >>= 6;
    }
    buf.push(char::from(n as u8));
}

fn put(buf: &mut String, text: &str) {
    put_len(buf, text.len());
    buf.push_str(text);
}

/// Whether `word` (lower case) occurs in `text` lower-cased, as `text.to_lowercase()
/// .contains(word)`, without lower-casing ASCII text.
fn contains_lowered(text: &str, word: &str) -> bool {
    if !text.is_ascii() {
        return text.to_lowercase().contains(word);
    }
    let (hay, w) = (text.as_bytes(), word.as_bytes());
    let Some(&first) = w.first() else {
        return true;
    };
    if w.len() > hay.len() {
        return false;
    }
    (0..=hay.len() - w.len()).any(|i| {
        hay[i].to_ascii_lowercase() == first && hay[i..i + w.len()].eq_ignore_ascii_case(w)
    })
}

/// `a.to_lowercase().cmp(&b.to_lowercase())`, without allocating for most names.
/// The first 8 bytes of a name key (the lower-cased name), big-endian, zero-padded: if two
/// keys' prefixes differ, the keys order as the prefixes do (a key that ends first has a
/// zero where the other has a byte, or ties on a zero byte and is decided by the whole
/// keys), so the prefix decides most comparisons exactly.
pub fn key_prefix(key: &str) -> u64 {
    let mut b = [0u8; 8];
    let n = key.len().min(8);
    b[..n].copy_from_slice(&key.as_bytes()[..n]);
    u64::from_be_bytes(b)
}

/// The [`key_prefix`] of a name's key, lower-cased as [`Entry::name_key`] does (the whole
/// name when not ASCII: a final sigma is lower-cased by its context).
fn name_prefix(name: &str) -> u64 {
    if name.is_ascii() {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(name.bytes()) {
            *d = s.to_ascii_lowercase();
        }
        u64::from_be_bytes(b)
    } else {
        key_prefix(&name.to_lowercase())
    }
}

fn cmp_lowered(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a
            .bytes()
            .map(|b| b.to_ascii_lowercase())
            .cmp(b.bytes().map(|b| b.to_ascii_lowercase()));
    }
    // Char by char is the same except for a final sigma, which `to_lowercase` writes
    // by its context.
    if a.contains('Σ') || b.contains('Σ') {
        return a.to_lowercase().cmp(&b.to_lowercase());
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// A JSON string as `serde_json` writes it: `"` and `\` escaped, control characters as
/// `\b \t \n \f \r` or `\u00xx`, everything else as it is.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escaped.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        } else {
            out.push_str(escaped);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Whether a text has a byte that JSON escapes (eight bytes at a time: most have none).
fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    // A high bit per byte below `n` (exactly whether there is one, for n <= 128).
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let x = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        if below(x, 0x20)
            | below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1)
            != 0
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

fn push_json_opt(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_json_str(out, s),
        None => out.push_str("null"),
    }
}

/// A number as `serde_json` writes an `f64`.
fn push_f64(out: &mut String, x: f64) {
    if x.is_finite() {
        out.push_str(ryu::Buffer::new().format_finite(x));
    } else {
        out.push_str("null");
    }
}

fn itoa(n: i64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        // i64::MIN has 19 digits: there is room for its sign.
        i -= 1;
        buf[i] = b'-';
    }
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
}

/// A timestamp (µs) as `serde_json` writes a `DateTime<Utc>`: RFC 3339 with `Z`, and the
/// fraction of a second in 3, 6 or 9 digits as needed (chrono's `AutoSi`).
fn push_timestamp(out: &mut String, us: i64) {
    // 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: four-digit years.
    const FOUR_DIGITS: std::ops::Range<i64> = -62_167_219_200_000_000..253_402_300_800_000_000;
    if !FOUR_DIGITS.contains(&us) {
        match DateTime::from_timestamp_micros(us) {
            Some(t) => {
                out.push('"');
                out.push_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
                out.push('"');
            }
            None => out.push_str("null"),
        }
        return;
    }
    let secs = us.div_euclid(1_000_000);
    let (days, in_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
    let (year, month, day) = civil_from_days(days);
    let mut b = *b"\"0000-00-00T00:00:00.000000000Z\"";
    let mut digits = |at: usize, width: usize, mut v: u32| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    digits(1, 4, year);
    digits(6, 2, month);
    digits(9, 2, day);
    digits(12, 2, in_day / 3600);
    digits(15, 2, in_day / 60 % 60);
    digits(18, 2, in_day % 60);
    let nanos = us.rem_euclid(1_000_000) as u32 * 1000;
    let end = if nanos == 0 {
        20
    } else if nanos % 1_000_000 == 0 {
        digits(21, 3, nanos / 1_000_000);
        24
    } else if nanos % 1000 == 0 {
        digits(21, 6, nanos / 1000);
        27
    } else {
        digits(21, 9, nanos);
        30
    };
    b[end] = b'Z';
    b[end + 1] = b'"';
    out.push_str(std::str::from_utf8(&b[..end + 2]).unwrap_or_default());
}

/// The proleptic Gregorian date of a day counted from 1970-01-01, for years 0 to 9999
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as u32, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AssetFields;
    use crate::synth::Rng;

    fn serde_json_open(asset: &Asset, area: Option<&str>) -> String {
        let mut json = serde_json::to_string(asset).unwrap();
        json.pop();
        json.push_str(",\"area_code\":");
        json.push_str(&serde_json::to_string(&area).unwrap());
        json
    }

    /// Text with what escaping and lower-casing must get right: quotes, backslashes,
    /// every control character, non-ASCII letters (one that grows when lower-cased, a
    /// final sigma), and long enough for a two-byte length.
    fn text(rng: &mut Rng, len: usize) -> String {
        const PIECES: [&str; 14] = [
            "a", "B", " ", "\"", "\\", "É", "İ", "ΟΔΟΣ", "Σ", "ß", "😀", "/", "<", "\u{7f}",
        ];
        (0..len)
            .map(|_| match rng.next_u64() % 4 {
                0 => char::from(rng.next_u64() as u8 & 0x1f).to_string(),
                _ => rng.pick(&PIECES).to_string(),
            })
            .collect()
    }

    fn random_asset(rng: &mut Rng) -> Asset {
        let opt = |rng: &mut Rng| {
            let len = (rng.next_u64() % 40) as usize;
            (rng.next_u64() % 3 != 0).then(|| text(rng, len))
        };
        let name_len = 1 + (rng.next_u64() % 30) as usize;
        let mut f = AssetFields::at(
            text(rng, name_len),
            *rng.pick(&["museum", "library", "cafe"]),
            rng.unit() * 180.0 - 90.0,
            rng.unit() * 360.0 - 180.0,
        );
        f.address = opt(rng);
        f.town = opt(rng);
        f.postcode = opt(rng);
        f.website = opt(rng);
        f.phone = opt(rng);
        f.email = opt(rng);
        f.description = if rng.next_u64() % 5 == 0 {
            Some(text(rng, 200))
        } else {
            opt(rng)
        };
        f.opening_hours = [None, Some("Mo-Fr 09:00-17:00"), Some("not hours \" \\")]
            [(rng.next_u64() % 3) as usize]
            .map(str::to_string);
        f.wheelchair = *rng.pick(&[Wheelchair::Yes, Wheelchair::No, Wheelchair::Unknown]);
        f.cost = *rng.pick(&[Cost::Free, Cost::Paid]);
        f.tags = (0..rng.next_u64() % 4)
            .map(|_| {
                let len = 1 + (rng.next_u64() % 8) as usize;
                text(rng, len)
            })
            .collect();
        f.source = opt(rng);
        f.source_id = opt(rng);
        f.status = *rng.pick(&[Status::Published, Status::Draft, Status::Archived]);
        f.location_precision = *rng.pick(&[LocationPrecision::Exact, LocationPrecision::Postcode]);
        let time = |rng: &mut Rng| {
            // Whole seconds, milliseconds and microseconds, from 1970 to 2100.
            let us = (rng.next_u64() % 4_102_444_800_000_000) as i64;
            let us = match rng.next_u64() % 3 {
                0 => us - us % 1_000_000,
                1 => us - us % 1000,
                _ => us,
            };
            DateTime::from_timestamp_micros(us).unwrap()
        };
        let own = SourceRef {
            source: f.source.clone().unwrap_or_default(),
            source_id: f.source_id.clone().unwrap_or_default(),
        };
        let sources = match rng.next_u64() % 4 {
            0 => Vec::new(),
            1 => vec![own],
            2 => vec![
                own.clone(),
                SourceRef {
                    source: text(rng, 5),
                    source_id: "7".into(),
                },
            ],
            _ => vec![SourceRef {
                source: "other".into(),
                source_id: text(rng, 3),
            }],
        };
        let created_at = time(rng);
        Asset {
            id: Uuid::from_u64_pair(rng.next_u64(), rng.next_u64()),
            fields: f,
            last_verified_at: (rng.next_u64() % 2 == 0).then(|| time(rng)),
            created_at,
            // Half never updated since created, as most imported assets.
            updated_at: if rng.next_u64() % 2 == 0 {
                created_at
            } else {
                time(rng)
            },
            version: (rng.next_u64() % 1000) as i64 + 1,
            sources,
        }
    }

    #[test]
    fn json_is_what_serde_json_writes_and_the_asset_comes_back_whole() {
        let mut rng = Rng::new(14);
        let areas = AreaSet::empty();
        let mut interner = Interner::default();
        for _ in 0..3000 {
            let asset = random_asset(&mut rng);
            let e = Entry::new(asset.clone(), &mut interner, &areas);
            assert_eq!(e.json_open(), serde_json_open(&asset, None));
            assert_eq!(e.asset(), asset);
            assert_eq!(e.name(), asset.fields.name);
        }
    }

    #[test]
    fn timestamps_of_every_era_are_written_as_serde_json_writes_them() {
        let mut rng = Rng::new(3);
        let (min, max) = (
            -62_167_219_200_000_000i64 - 5,
            253_402_300_800_000_000i64 + 5,
        );
        let mut cases: Vec<i64> = (0..200_000)
            .map(|_| {
                let us = min + (rng.next_u64() % (max - min) as u64) as i64;
                match rng.next_u64() % 3 {
                    0 => us - us.rem_euclid(1_000_000),
                    1 => us - us.rem_euclid(1000),
                    _ => us,
                }
            })
            .collect();
        cases.extend([min, min + 5, max - 5, max, 0, -1, 951_782_400_000_000]);
        for us in cases {
            let mut out = String::new();
            push_timestamp(&mut out, us);
            let t = DateTime::from_timestamp_micros(us).unwrap();
            assert_eq!(out, serde_json::to_string(&t).unwrap(), "{us}");
        }
    }

    #[test]
    fn extreme_values_are_written_as_serde_json_writes_them() {
        let mut a = Asset::new(
            Uuid::nil(),
            AssetFields::at("", "museum", -90.0, 180.0),
            DateTime::from_timestamp_micros(0).unwrap(),
        );
        a.version = i64::MIN;
        a.last_verified_at = DateTime::from_timestamp_micros(-62_135_596_800_000_001);
        a.fields.tags = vec![String::new(), "x".repeat(20_000)];
        a.updated_at = DateTime::from_timestamp_micros(253_402_300_800_000_000).unwrap();
        let e = Entry::new(a.clone(), &mut Interner::default(), &AreaSet::empty());
        assert_eq!(e.json_open(), serde_json_open(&a, None));
        assert_eq!(e.asset(), a);
        a.version = i64::MAX;
        let e = Entry::new(a.clone(), &mut Interner::default(), &AreaSet::empty());
        assert_eq!(e.json_open(), serde_json_open(&a, None));
    }

    #[test]
    fn search_and_name_order_are_those_of_the_lower_cased_texts() {
        let mut rng = Rng::new(2019);
        let areas = AreaSet::empty();
        let mut interner = Interner::default();
        let entries: Vec<(Asset, Entry)> = (0..400)
            .map(|_| {
                let a = random_asset(&mut rng);
                let e = Entry::new(a.clone(), &mut interner, &areas);
                (a, e)
            })
            .collect();
        // The reference: one lower-cased text, as the search text was built before.
        let reference = |a: &Asset| {
            format!(
                "{}\n{}\n{}",
                a.fields.name.to_lowercase(),
                a.fields.description.as_deref().unwrap_or("").to_lowercase(),
                a.fields.tags.join(" ")
            )
        };
        let mut words: Vec<String> = ["a", "b", "é", "i̇", "ς", "σ", "ss", "ß", "\"", "ab"]
            .map(str::to_string)
            .to_vec();
        for (a, _) in entries.iter().take(100) {
            let r = reference(a);
            // Pieces of the real texts, cut at characters, without white space.
            let chars: Vec<char> = r.chars().collect();
            let start = (rng.next_u64() as usize) % chars.len();
            let len = 1 + (rng.next_u64() as usize) % 6;
            let w: String = chars[start..(start + len).min(chars.len())]
                .iter()
                .filter(|c| !c.is_whitespace())
                .collect();
            if !w.is_empty() {
                words.push(w);
            }
        }
        let mut found = 0;
        for (a, e) in &entries {
            let r = reference(a);
            for w in &words {
                assert_eq!(e.contains_word(w), r.contains(w.as_str()), "{w:?} in {r:?}");
                found += usize::from(r.contains(w.as_str()));
            }
            for t in ["x", "a", "B"] {
                assert_eq!(e.has_tag(t), a.fields.tags.iter().any(|x| x == t));
            }
            assert_eq!(e.name_key(), a.fields.name.to_lowercase());
        }
        assert!(
            found > 1000,
            "the words are found often enough to test: {found}"
        );
        for (a, e) in &entries {
            for (b, f) in entries.iter().take(50) {
                let (ka, kb) = (a.fields.name.to_lowercase(), b.fields.name.to_lowercase());
                assert_eq!(e.cmp_name(f), ka.cmp(&kb), "{ka:?} vs {kb:?}");
                assert_eq!(e.cmp_name_key(&kb), ka.cmp(&kb));
            }
        }
    }

    /// Names whose keys tie, or nearly, on their first 8 bytes: a key ending inside the
    /// prefix, a NUL, a character cut at byte 8, letters that grow or change by context
    /// when lower-cased.
    #[test]
    fn name_prefixes_order_as_the_keys() {
        let names = [
            "",
            "a",
            "A",
            "a\0",
            "a\0b",
            "abcdefg",
            "abcdefgh",
            "ABCDEFGH",
            "abcdefgh\0",
            "abcdefghi",
            "abcdefgA",
            "abcdefgÉ",
            "abcdefgé",
            "abcdefgΣ",
            "abcdefΣ",
            "abcdefσ",
            "abcdefς",
            "abcdefgİ",
            "abcdefgi",
            "İİİİİ",
            "i\u{307}i",
            "ΟΔΟΣ",
            "οδος",
            "ΟΔΟΣ Α",
            "😀",
            "😀a",
            "ß",
            "SS",
            "\u{7f}",
            "zzzzzzzzzz",
            "\u{10ffff}",
        ];
        let mut rng = Rng::new(5);
        let entries: Vec<Entry> = names
            .iter()
            .map(|n| {
                let mut a = random_asset(&mut rng);
                a.fields.name = n.to_string();
                Entry::from_asset(&a, &mut Interner::default(), &AreaSet::default())
            })
            .collect();
        for (e, a) in entries.iter().zip(names) {
            let ka = a.to_lowercase();
            assert_eq!(e.name_prefix(), key_prefix(&ka));
            for (f, b) in entries.iter().zip(names) {
                let kb = b.to_lowercase();
                assert_eq!(e.cmp_name(f), ka.cmp(&kb), "{a:?} vs {b:?}");
                assert_eq!(e.cmp_name_key(&kb), ka.cmp(&kb), "{a:?} vs {b:?}");
                if e.name_prefix() != f.name_prefix() {
                    assert_eq!(e.name_prefix().cmp(&f.name_prefix()), ka.cmp(&kb));
                }
            }
        }
    }

    #[test]
    fn entries_built_in_parallel_are_those_built_one_by_one() {
        let mut rng = Rng::new(7);
        let assets: Vec<Asset> = (0..20_000).map(|_| random_asset(&mut rng)).collect();
        let areas = AreaSet::empty();
        let mut interner = Interner::default();
        let parallel = build_entries(assets.clone(), &areas);
        assert_eq!(parallel.len(), assets.len());
        for (a, e) in assets.into_iter().zip(&parallel) {
            let one = Entry::new(a, &mut interner, &areas);
            assert_eq!(e.json_open(), one.json_open());
        }
    }
}
