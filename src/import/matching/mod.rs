//! The matching engine of imports: does a row name a place the directory already has?
//!
//! A Fellegi–Sunter model, as record-linkage tools such as Splink build it: candidate
//! pairs come from *blocking* (only nearby places of a compatible category are compared);
//! each pair is scored by *comparison levels* (name, distance, postcode, website, phone,
//! email, category), each level with a match weight `log2(m / u)` (m: how often the level
//! occurs between two records of one place, u: between two different places among the
//! blocked pairs); the weights and the prior `log2(λ / (1 - λ))` add up to the pair's match
//! weight `w`, and its match probability is `2^w / (1 + 2^w)`. The weights are in
//! [`weights`]; docs/data-and-imports.md ("Matching") gives the table, the reasons for
//! each m and u, and the benchmark figures.
//!
//! A row is **linked** to its best candidate when that scores at least `link_at` (and no
//! other candidate does, and the numbers in the names agree), sent **to review** when its
//! best scores at least `review_at`, else **new**. Every candidate carries its reasons,
//! each with its weight, so a reviewer sees why.
//!
//! Blocking: the published assets and the earlier new rows of the file within
//! `radius_m` (or `postcode_radius_m` when the postcodes are equal) in the category's
//! group ([`compatible`]), nearest first, at most [`MAX_CANDIDATES`] of them, found in
//! R-trees of unit vectors; so a row costs O(log n) and a file of thousands of rows at
//! one point stays linear. There is no UPRN in the asset fields, so that strong evidence
//! is absent here.
//!
//! Over 400 lines because the model (levels, weights, reasons) and the blocking that feeds
//! it make one decision; the name normalisation is in [`names`], the tests in `tests.rs`.

mod names;

use rstar::primitives::GeomWithData;
use rstar::RTree;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{AssetFields, Status};
use crate::geo::sphere::{chord2_for, haversine_m, unit_vector};
use crate::index::tiles::PointSet;
use crate::index::Snapshot;

pub use names::{compare_names, Name, NameLevel};

/// The thresholds of the three outcomes, on the match probability, and the blocking radii.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MatchSettings {
    /// A row is linked to its best candidate from this match probability (0..1).
    pub link_at: f64,
    /// A row goes to review from this match probability (0..1), below it is new.
    pub review_at: f64,
    /// Places farther apart than this (metres) are not compared...
    pub radius_m: f64,
    /// ...unless their postcodes are equal, up to this distance (metres).
    pub postcode_radius_m: f64,
}

impl Default for MatchSettings {
    /// The documented defaults (see docs/data-and-imports.md, "Matching").
    fn default() -> Self {
        MatchSettings {
            link_at: 0.98,
            review_at: 0.6,
            radius_m: 400.0,
            postcode_radius_m: 1000.0,
        }
    }
}

/// What becomes of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Another source record of its best candidate.
    Linked,
    /// A curator decides.
    Review,
    /// A new asset.
    New,
}

/// What a row was compared with: a published asset of the snapshot, or an earlier row of
/// the same file that will be inserted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Candidate {
    pub asset_id: Option<Uuid>,
    /// Index of the earlier row in the rows decided.
    pub row: Option<usize>,
    pub name: String,
    pub category: String,
    /// Great-circle distance in metres.
    pub distance_m: f64,
    /// Match probability, 0..1.
    pub score: f64,
    /// Each comparison level that applied, with its match weight in bits.
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    pub outcome: Outcome,
    /// Best first, at most [`MAX_LISTED`].
    pub candidates: Vec<Candidate>,
}

/// Candidates kept in a decision.
pub const MAX_LISTED: usize = 5;

/// Candidates scored per row at most, nearest first: bounds the work for a file of
/// thousands of places at one point.
pub const MAX_CANDIDATES: usize = 200;

/// Places a range query may return per tree before the nearest-first walk takes over.
const SCAN_LIMIT: usize = 4 * MAX_CANDIDATES;

/// The category groups: places a list files under one of these categories another list
/// may file under another of the same group. A cafe is in none: the cafe of a museum or a
/// theatre is a place of its own to refer people to (and a list that files a venue by its
/// cafe, as food-hygiene lists do, lists that cafe), so a cafe row never becomes a record
/// of the venue it serves, nor turns that venue into a cafe.
const GROUPS: [&[&str]; 3] = [
    &["museum", "gallery", "heritage"],
    &["theatre", "arts_centre", "cinema"],
    &["library", "community_centre"],
];

/// Whether two categories may name one place: equal, or in one of [`GROUPS`].
pub fn compatible(a: &str, b: &str) -> bool {
    a == b || GROUPS.iter().any(|g| g.contains(&a) && g.contains(&b))
}

/// The categories [`compatible`] with `category`, itself first.
fn compatible_with(category: &str) -> Vec<&str> {
    let mut out = vec![category];
    for c in GROUPS.iter().flat_map(|g| g.iter()) {
        if *c != category && compatible(category, c) {
            out.push(c);
        }
    }
    out
}

/// The match weights (log2 Bayes factors) of the comparison levels, with the prior.
/// Where m and u come from is documented in docs/data-and-imports.md ("Matching").
pub mod weights {
    /// log2(λ / (1 - λ)), λ = 1/33: about one blocked pair in 33 is a match.
    pub const PRIOR: f64 = -5.0;
    pub const NAME_EQUAL: f64 = 12.0;
    pub const NAME_SAME_DISTINCTIVE: f64 = 9.5;
    pub const NAME_SIMILAR: f64 = 8.0;
    pub const NAME_CONTAINED: f64 = 3.5;
    pub const NAME_KINDS_DIFFER: f64 = 3.5;
    pub const NAME_MOSTLY_SHARED: f64 = 0.5;
    pub const NAME_DISTINCT_DIFFER: f64 = -6.0;
    pub const NAME_UNRELATED: f64 = -7.0;
    pub const NAME_GENERIC: f64 = -0.5;
    pub const NAME_NUMBERS_DIFFER: f64 = -10.0;
    /// An exact name is weaker when many places have it ("Costa Coffee"): minus
    /// `TF_FACTOR × log2(places with that name)`, half of Splink's term-frequency
    /// adjustment because blocking already keeps only nearby places.
    pub const TF_FACTOR: f64 = 0.5;
    /// Distance bands (upper bounds in metres) and their weights; beyond the last, only
    /// pairs with equal postcodes are compared.
    pub const DISTANCE: [(f64, f64); 4] = [(25.0, 4.0), (150.0, 1.5), (250.0, 0.0), (400.0, -2.0)];
    /// Farther than the last band (or the radius), with equal postcodes.
    pub const DISTANCE_FAR: f64 = -5.0;
    pub const POSTCODE_EQUAL: f64 = 4.5;
    pub const POSTCODE_DIFFER: f64 = -1.5;
    pub const WEBSITE_EQUAL: f64 = 4.0;
    pub const PHONE_EQUAL: f64 = 6.5;
    pub const EMAIL_EQUAL: f64 = 6.0;
    pub const CATEGORY_COMPATIBLE: f64 = -1.5;
}

/// One side of a comparison, prepared once.
#[derive(Clone, Debug)]
struct Record {
    name: Name,
    display: String,
    category: String,
    lat: f64,
    lon: f64,
    postcode: Option<String>,
    website: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

impl Record {
    fn new(f: &AssetFields) -> Record {
        let clean = |s: &Option<String>, f: fn(&str) -> String| {
            s.as_deref().map(f).filter(|v| !v.is_empty())
        };
        Record {
            name: Name::new(&f.name),
            display: f.name.clone(),
            category: f.category.clone(),
            lat: f.lat,
            lon: f.lon,
            postcode: clean(&f.postcode, |p| {
                p.chars()
                    .filter(|c| !c.is_whitespace())
                    .flat_map(char::to_uppercase)
                    .collect()
            }),
            website: clean(&f.website, website_key),
            phone: clean(&f.phone, phone_key),
            email: clean(&f.email, |e| e.trim().to_lowercase()),
        }
    }
}

/// A website without scheme, "www.", query, fragment and trailing slash, lower-cased:
/// `https://www.Example.org/x/` and `http://example.org/x` are one site.
fn website_key(url: &str) -> String {
    let url = url.trim().to_lowercase();
    let url = url.split(['?', '#']).next().unwrap_or("");
    let url = url.split_once("://").map_or(url, |(_, rest)| rest);
    let url = url.strip_prefix("www.").unwrap_or(url);
    url.trim_end_matches('/').to_string()
}

/// A UK phone number as its digits, "+44" as the leading "0".
fn phone_key(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix("44") {
        Some(rest) if phone.trim_start().starts_with('+') => format!("0{rest}"),
        _ => digits,
    }
}

/// A pair's match weight in bits and its reasons (each with its weight), and whether the
/// names forbid linking (their numbers differ).
fn score(
    a: &Record,
    b: &Record,
    distance_m: f64,
    name_count: u32,
    settings: &MatchSettings,
    explain: bool,
) -> (f64, Vec<String>, bool) {
    use weights::*;
    let mut w = PRIOR;
    let mut reasons = Vec::with_capacity(6);
    // Reasons are written only when asked: most pairs scored are never listed.
    let mut add = |w: &mut f64, weight: f64, why: &dyn Fn() -> String| {
        *w += weight;
        if explain {
            reasons.push(format!("{} ({weight:+.1})", why()));
        }
    };
    let level = compare_names(&a.name, &b.name);
    let veto = level == NameLevel::NumbersDiffer;
    match level {
        NameLevel::Equal => {
            let tf = TF_FACTOR * f64::from(name_count.max(1)).log2();
            if tf > 0.0 {
                add(&mut w, NAME_EQUAL - tf, &|| {
                    format!("names equal after normalisation, a name {name_count} places have")
                });
            } else {
                add(&mut w, NAME_EQUAL, &|| {
                    "names equal after normalisation".into()
                });
            }
        }
        NameLevel::SameDistinctive => add(&mut w, NAME_SAME_DISTINCTIVE, &|| {
            "same distinctive words, only generic words differ".into()
        }),
        NameLevel::Similar(s) => add(&mut w, NAME_SIMILAR, &|| {
            format!("names spelt alike (Jaro-Winkler {s:.2})")
        }),
        NameLevel::Contained(extra) => add(&mut w, NAME_CONTAINED, &|| {
            format!(
                "one name within the other, extra words: {}",
                extra.join(" ")
            )
        }),
        NameLevel::KindsDiffer(x, y) => add(&mut w, NAME_KINDS_DIFFER, &|| {
            format!(
                "same distinctive words, other kinds of venue: {} / {}",
                x.join(" "),
                y.join(" ")
            )
        }),
        NameLevel::MostlyShared(x, y) => add(&mut w, NAME_MOSTLY_SHARED, &|| {
            format!(
                "most distinct words shared, one differs: {} / {}",
                x.join(" "),
                y.join(" ")
            )
        }),
        NameLevel::DistinctDiffer(x, y) => add(&mut w, NAME_DISTINCT_DIFFER, &|| {
            format!("distinct words differ: {} / {}", x.join(" "), y.join(" "))
        }),
        NameLevel::Unrelated => add(&mut w, NAME_UNRELATED, &|| {
            "no distinctive word in common".into()
        }),
        NameLevel::Generic => add(&mut w, NAME_GENERIC, &|| {
            "a name with no distinctive word".into()
        }),
        NameLevel::NumbersDiffer => add(&mut w, NAME_NUMBERS_DIFFER, &|| {
            format!(
                "numbers differ: {} / {}",
                join(&a.name.numbers),
                join(&b.name.numbers)
            )
        }),
    }
    let band = DISTANCE.iter().find(|(upto, _)| {
        distance_m <= *upto && distance_m <= settings.radius_m.max(DISTANCE[0].0)
    });
    let weight = band.map_or(DISTANCE_FAR, |b| b.1);
    add(&mut w, weight, &|| format!("{distance_m:.0} m apart"));
    match (&a.postcode, &b.postcode) {
        (Some(x), Some(y)) if x == y => add(&mut w, POSTCODE_EQUAL, &|| "postcode equal".into()),
        (Some(_), Some(_)) => add(&mut w, POSTCODE_DIFFER, &|| "postcode differs".into()),
        _ => {}
    }
    let equal = |x: &Option<String>, y: &Option<String>| x.is_some() && x == y;
    if equal(&a.website, &b.website) {
        add(&mut w, WEBSITE_EQUAL, &|| "website equal".into());
    }
    if equal(&a.phone, &b.phone) {
        add(&mut w, PHONE_EQUAL, &|| "phone equal".into());
    }
    if equal(&a.email, &b.email) {
        add(&mut w, EMAIL_EQUAL, &|| "email equal".into());
    }
    if a.category != b.category {
        add(&mut w, CATEGORY_COMPATIBLE, &|| {
            format!("compatible categories {} ~ {}", a.category, b.category)
        });
    }
    (w, reasons, veto)
}

fn join(words: &std::collections::BTreeSet<String>) -> String {
    if words.is_empty() {
        "none".into()
    } else {
        words.iter().cloned().collect::<Vec<_>>().join(" ")
    }
}

/// A match weight in bits as a probability.
fn probability(weight: f64) -> f64 {
    let odds = weight.exp2();
    if odds.is_infinite() {
        1.0
    } else {
        odds / (1.0 + odds)
    }
}

/// One pair: its match probability and reasons (with no term-frequency adjustment, as
/// if the name were unique). For tests, benchmarks and the review screen.
pub fn compare(a: &AssetFields, b: &AssetFields, settings: &MatchSettings) -> (f64, Vec<String>) {
    let (ra, rb) = (Record::new(a), Record::new(b));
    let d = haversine_m(a.lat, a.lon, b.lat, b.lon);
    let (w, reasons, _) = score(&ra, &rb, d, 1, settings, true);
    (probability(w), reasons)
}

type Point = GeomWithData<[f64; 3], u32>;

/// Where a candidate is: the snapshot's entry, or an earlier row (its slot in
/// [`Matcher`]'s earlier rows).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    Asset(u32),
    Row(u32),
}

/// An earlier row decided new, kept for comparing with later rows of other sources: only
/// what a comparison reads, in one string, so that a million rows take little memory.
struct Earlier {
    /// The row's index among the rows decided (what [`Candidate::row`] says).
    row: usize,
    /// The asset the row will create.
    id: Uuid,
    /// The row's source, as its number in [`Matcher`]'s `sources`.
    source: u32,
    lat: f64,
    lon: f64,
    /// name, category, postcode, website, phone, email, joined by [`SEP`].
    text: Box<str>,
}

const SEP: char = '\u{1f}';

impl Earlier {
    fn new(row: usize, id: Uuid, source: u32, f: &AssetFields) -> Earlier {
        let o = |s: &Option<String>| s.clone().unwrap_or_default().replace(SEP, " ");
        let text = [
            f.name.replace(SEP, " "),
            f.category.clone(),
            o(&f.postcode),
            o(&f.website),
            o(&f.phone),
            o(&f.email),
        ]
        .join(&SEP.to_string());
        Earlier {
            row,
            id,
            source,
            lat: f.lat,
            lon: f.lon,
            text: text.into(),
        }
    }

    fn record(&self) -> Record {
        let mut parts = self.text.split(SEP);
        let mut next = || parts.next().unwrap_or("").to_string();
        let some = |s: String| (!s.is_empty()).then_some(s);
        let f = AssetFields {
            name: next(),
            category: next(),
            postcode: some(next()),
            website: some(next()),
            phone: some(next()),
            email: some(next()),
            ..AssetFields::at("", "", self.lat, self.lon)
        };
        Record::new(&f)
    }
}

/// The matcher of one import, fed its rows batch by batch: it keeps the term frequencies
/// of the snapshot's names and the file's earlier new rows (compactly, in R-trees per
/// category), so that a row is decided the same whichever batch it is in.
pub struct Matcher<'a> {
    snapshot: &'a Snapshot,
    settings: MatchSettings,
    /// How many assets have each name, for the term-frequency adjustment.
    name_counts: HashMap<String, u32>,
    /// The earlier new rows' points by category; the data is the slot in `earlier`. A
    /// row's own source's points are passed over as they are found (before the candidates
    /// are cut): a list's own rows are distinct records. (One tree per category, not per
    /// source too: a file of thousands of one-row sources stays O(log n) a row.)
    trees: HashMap<String, RTree<Point>>,
    earlier: Vec<Earlier>,
    /// The sources of the file's rows, numbered.
    sources: HashMap<String, u32>,
    /// Rows decided so far (the index of the next row).
    decided: usize,
}

impl<'a> Matcher<'a> {
    pub fn new(snapshot: &'a Snapshot, settings: &MatchSettings) -> Self {
        let mut name_counts: HashMap<String, u32> = HashMap::new();
        for i in 0..snapshot.len() as u32 {
            *name_counts
                .entry(Name::new(&snapshot.entry(i).name_key()).key)
                .or_default() += 1;
        }
        Matcher {
            snapshot,
            settings: *settings,
            name_counts,
            trees: HashMap::new(),
            earlier: Vec::new(),
            sources: HashMap::new(),
            decided: 0,
        }
    }

    /// How many rows were decided so far: the index the next row gets.
    pub fn decided(&self) -> usize {
        self.decided
    }

    /// The asset that earlier row `row` (decided new) creates.
    pub fn new_asset_of(&self, row: usize) -> Option<Uuid> {
        self.earlier
            .binary_search_by_key(&row, |e| e.row)
            .ok()
            .map(|i| self.earlier[i].id)
    }

    /// Decides the next rows (see the module documentation and [`decide_all`]); a row
    /// decided new gets the id of the asset it creates ([`Matcher::new_asset_of`]).
    pub fn decide(&mut self, rows: &[AssetFields], skip: &[bool]) -> Vec<Option<Decision>> {
        let skipped = |i: usize| skip.get(i).copied().unwrap_or(false);
        let first = self.decided;
        self.decided += rows.len();
        let settings = &self.settings;
        let snapshot = self.snapshot;
        // Snapshot entries decoded for this batch (at most its candidates).
        let mut assets: HashMap<u32, (Record, Uuid)> = HashMap::new();
        let mut rows_seen: HashMap<u32, Record> = HashMap::new();
        let chord2_near = chord2_for(settings.radius_m);
        let chord2_far = chord2_for(settings.radius_m.max(settings.postcode_radius_m));

        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            if skipped(i) {
                out.push(None);
                continue;
            }
            let record = Record::new(row);
            let next_source = self.sources.len() as u32;
            let source = *self
                .sources
                .entry(row.source.clone().unwrap_or_default())
                .or_insert(next_source);
            let q = unit_vector(record.lat, record.lon);
            // Beyond the radius only an equal postcode counts: without one, no need to look.
            let chord2 = if record.postcode.is_some() {
                chord2_far
            } else {
                chord2_near
            };
            // Blocking: the nearest compatible places within the farther radius.
            let mut near: Vec<(f64, Source)> = Vec::new();
            // A range query is cheapest; where it finds too many (thousands of places at
            // one point), the nearest-first walk keeps the work bounded.
            let earlier = &self.earlier;
            let other_source = |slot: u32| earlier[slot as usize].source != source;
            let mut gather =
                |tree: &dyn PointSet, wrap: fn(u32) -> Source, keep: &dyn Fn(u32) -> bool| {
                    let start = near.len();
                    for p in tree.within(q, chord2).filter(|p| keep(p.data)) {
                        if near.len() - start == SCAN_LIMIT {
                            near.truncate(start);
                            for (p, d2) in tree
                                .nearest_first(q)
                                .take_while(|(_, d2)| *d2 <= chord2)
                                .filter(|(p, _)| keep(p.data))
                                .take(MAX_CANDIDATES)
                            {
                                near.push((d2, wrap(p.data)));
                            }
                            return;
                        }
                        let d2 = (0..3).map(|k| (p.geom()[k] - q[k]).powi(2)).sum::<f64>();
                        near.push((d2, wrap(p.data)));
                    }
                };
            for c in compatible_with(&record.category) {
                // Every status: a closed row must find the closed place.
                for t in snapshot.category_trees_all(c) {
                    gather(t, Source::Asset, &|_| true);
                }
                // A list's own rows are distinct records: never matched with each other
                // (a library closed and its replacement of the same name at one place).
                if let Some(t) = self.trees.get(c) {
                    gather(t, Source::Row, &other_source);
                }
            }
            near.sort_by(|a, b| a.0.total_cmp(&b.0));
            near.truncate(MAX_CANDIDATES);

            let count = self.name_counts.get(&record.name.key).copied().unwrap_or(1);
            for &(_, s) in &near {
                match s {
                    Source::Asset(e) => {
                        assets.entry(e).or_insert_with(|| {
                            let a = snapshot.entry(e).asset();
                            (Record::new(&a.fields), a.id)
                        });
                    }
                    Source::Row(k) => {
                        rows_seen
                            .entry(k)
                            .or_insert_with(|| earlier[k as usize].record());
                    }
                }
            }
            // The prepared record of a candidate, its asset id (none yet for a row), and
            // its row.
            let candidate = |s: Source| -> (&Record, Option<Uuid>, Option<usize>) {
                match s {
                    Source::Asset(e) => {
                        let (r, id) = &assets[&e];
                        (r, Some(*id), None)
                    }
                    Source::Row(k) => (&rows_seen[&k], None, Some(earlier[k as usize].row)),
                }
            };
            // (match weight, linking forbidden, the candidate, distance), scored without
            // reasons; the listed ones are explained below.
            let mut scored: Vec<(f64, bool, Source, f64)> = Vec::new();
            for &(_, source) in &near {
                let (other, _, _) = candidate(source);
                let d = haversine_m(record.lat, record.lon, other.lat, other.lon);
                let postcode_equal = record.postcode.is_some() && record.postcode == other.postcode;
                if d > settings.radius_m && !(postcode_equal && d <= settings.postcode_radius_m) {
                    continue;
                }
                let (w, _, veto) = score(&record, other, d, count, settings, false);
                scored.push((w, veto, source, d));
            }
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            let (outcome, status_doubt) = outcome_of(&scored, row, snapshot, settings);
            let mut candidates: Vec<Candidate> = scored
                .iter()
                .take(MAX_LISTED)
                .map(|&(w, _, source, d)| {
                    let (other, asset_id, row) = candidate(source);
                    let (_, reasons, _) = score(&record, other, d, count, settings, true);
                    Candidate {
                        asset_id,
                        row,
                        name: other.display.clone(),
                        category: other.category.clone(),
                        distance_m: d,
                        score: probability(w),
                        reasons,
                    }
                })
                .collect();
            if let (Some(doubt), Some(best)) = (status_doubt, candidates.first_mut()) {
                best.reasons.push(doubt.into());
            }
            if outcome == Outcome::Review
                && candidates.len() > 1
                && candidates[1].score >= settings.link_at
            {
                candidates[0]
                    .reasons
                    .push("another candidate also reaches the link threshold".into());
            }
            if outcome == Outcome::New {
                let slot = self.earlier.len() as u32;
                self.earlier
                    .push(Earlier::new(first + i, new_asset_id(), source, row));
                self.trees
                    .entry(record.category.clone())
                    .or_default()
                    .insert(Point::new(q, slot));
            }
            out.push(Some(Decision {
                outcome,
                candidates,
            }));
        }
        out
    }
}

/// A new asset's id: a UUID of version 7 (the time, then random bits), so that the ids an
/// import creates follow one another in the indexes on them (assets, source records,
/// audit) instead of landing on a random page each: a million-row import would otherwise
/// spend most of its time reading and writing index pages.
fn new_asset_id() -> Uuid {
    let ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
    let random = Uuid::new_v4().into_bytes();
    let mut bytes = [0u8; 10];
    bytes.copy_from_slice(&random[..10]);
    uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid()
}

/// The outcome of a row from its scored candidates (best first), and why a person must
/// decide when status and resemblance disagree.
fn outcome_of(
    scored: &[(f64, bool, Source, f64)],
    row: &AssetFields,
    snapshot: &Snapshot,
    settings: &MatchSettings,
) -> (Outcome, Option<&'static str>) {
    let reaches =
        |s: Option<&(f64, bool, Source, f64)>, p: f64| s.is_some_and(|s| probability(s.0) >= p);
    let outcome = match scored.first() {
        Some(best) if reaches(Some(best), settings.link_at) && !best.1 => {
            if reaches(scored.get(1), settings.link_at) {
                Outcome::Review
            } else {
                Outcome::Linked
            }
        }
        best if reaches(best, settings.review_at) => Outcome::Review,
        _ => Outcome::New,
    };
    // Archived places are candidates too (a closed row must find the closed place, not
    // its open namesake next door), but a person decides when status and resemblance
    // disagree.
    let archived = |s: &(f64, bool, Source, f64)| matches!(s.2, Source::Asset(e) if snapshot.entry(e).status == Status::Archived);
    let closing = row.status == Status::Archived;
    let status_doubt = match (outcome, scored.first()) {
        (Outcome::Linked, Some(best)) if archived(best) && !closing => {
            Some("the candidate is archived: reopened, or a new place where it closed?")
        }
        (Outcome::Linked, Some(best))
            if closing
                && !archived(best)
                && scored[1..]
                    .iter()
                    .any(|s| archived(s) && reaches(Some(s), settings.review_at)) =>
        {
            Some("a closed place resembles the row too: the open candidate may be its replacement")
        }
        _ => None,
    };
    match status_doubt {
        Some(_) => (Outcome::Review, status_doubt),
        None => (outcome, None),
    }
}

/// Decides every row (see the module documentation). `skip[i]` marks rows not to match
/// (updates of a stored source key): `None` for them. Rows are compared with the assets
/// of `snapshot` (an import passes every asset, archived ones too, so that a closed row
/// finds the closed place rather than its open namesake next door) and with the earlier
/// rows of other sources decided `New` (a list's own rows are distinct records). Archived
/// rows are matched too: a closed row must find the asset it closes. A link that status
/// contradicts goes to review: an open row whose best candidate is archived, or a closed
/// row whose open best candidate has a closed rival. One batch of [`Matcher::decide`].
pub fn decide_all(
    rows: &[AssetFields],
    skip: &[bool],
    snapshot: &Snapshot,
    settings: &MatchSettings,
) -> Vec<Option<Decision>> {
    Matcher::new(snapshot, settings).decide(rows, skip)
}

#[cfg(test)]
mod tests;
