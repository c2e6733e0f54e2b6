//! The activity: something that happens at a venue (a weekly singing group at the library,
//! an arts-on-prescription course at the gallery). Link workers refer people to activities,
//! not to buildings, so an activity carries what a referral needs: who it is for, when it
//! happens, what it costs and how to get a place.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashSet;
use utoipa::ToSchema;
use uuid::Uuid;

use super::asset::{Cost, FieldError, Status};

/// A stored activity: the editable fields plus identity and bookkeeping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7d2e-7b1a-9c1d-3e5f7a9b1c2d",
    "asset_id": "0b6f6a52-1f7e-4c1e-9d7a-2f3f1b8e4a10", "name": "Singing for Better Breathing",
    "description": "A friendly singing group for people living with COPD and other lung conditions.",
    "kind": "music-singing", "audiences": ["long-term-conditions", "older-people"],
    "min_age": 18, "schedule": [{"freq": "WEEKLY", "byday": "TU", "opens_at": "14:00",
    "closes_at": "15:30", "valid_from": "2026-09-01"}], "cost": "free",
    "referral": ["self", "link-worker", "gp"], "contact_email": "singing@example.org",
    "status": "published", "created_at": "2026-11-30T10:00:00Z",
    "updated_at": "2026-11-30T10:00:00Z", "version": 1
}))]
pub struct Activity {
    pub id: Uuid,
    #[serde(flatten)]
    pub fields: ActivityFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented by every update; the activity's ETag.
    pub version: i64,
}

impl Activity {
    /// A new activity: version 1.
    pub fn new(id: Uuid, fields: ActivityFields, now: DateTime<Utc>) -> Self {
        Activity {
            id,
            fields,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

/// An entry of a curated list an activity uses: an activity kind (`music-singing`) or an
/// audience (`dementia`). Admins can add entries; slugs are never removed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Term {
    pub slug: String,
    pub label: String,
    pub description: String,
}

impl From<(String, String, String)> for Term {
    fn from((slug, label, description): (String, String, String)) -> Self {
        Term {
            slug,
            label,
            description,
        }
    }
}

/// Who may refer a person to an activity.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum Referral {
    /// People may come or book by themselves.
    #[serde(rename = "self")]
    SelfReferral,
    #[serde(rename = "link-worker")]
    LinkWorker,
    #[serde(rename = "gp")]
    Gp,
}

impl Referral {
    pub const ALL: &'static [&'static str] = &["self", "link-worker", "gp"];

    pub fn as_str(self) -> &'static str {
        match self {
            Referral::SelfReferral => "self",
            Referral::LinkWorker => "link-worker",
            Referral::Gp => "gp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "self" => Some(Referral::SelfReferral),
            "link-worker" => Some(Referral::LinkWorker),
            "gp" => Some(Referral::Gp),
            _ => None,
        }
    }
}

/// The fields a curator or an import sets, already validated (see [`ActivityFields::parse`]).
/// Empty optional fields are left out of the JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActivityFields {
    /// The venue (asset) where it happens.
    pub asset_id: Uuid,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An activity kind slug from `GET /v1/activity-kinds`.
    pub kind: String,
    /// Audience slugs from `GET /v1/audiences`: who it is designed for (empty: everyone).
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u8>,
    /// When it happens, in UK local time: recurrences and one-off dates.
    #[serde(default)]
    #[schema(value_type = Vec<RawScheduleEntry>)]
    pub schedule: Vec<ScheduleEntry>,
    pub cost: Cost,
    /// In pounds, for `paid` (a suggested amount for `donation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_amount: Option<f64>,
    /// Who may refer: `self`, `link-worker`, `gp`.
    #[serde(default)]
    pub referral: Vec<Referral>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessibility_notes: Option<String>,
    pub status: Status,
    /// Where the record came from; with `source_id`, the key a re-import updates by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
}

/// How often a recurrence repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Freq {
    Weekly,
    Monthly,
}

/// A day of a recurrence: a weekday (`TU`), or for a monthly one the n-th weekday of the
/// month (`1TU`, `3TU`; `-1FR` is the last Friday), as iCalendar's BYDAY.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByDay {
    /// 1 to 5, or -1 for the last; `None` for every such weekday.
    pub nth: Option<i8>,
    pub weekday: Weekday,
}

const DAY_CODES: [(&str, Weekday); 7] = [
    ("MO", Weekday::Mon),
    ("TU", Weekday::Tue),
    ("WE", Weekday::Wed),
    ("TH", Weekday::Thu),
    ("FR", Weekday::Fri),
    ("SA", Weekday::Sat),
    ("SU", Weekday::Sun),
];

/// `mo`..`su` (any case) as a weekday: the `day` parameter and BYDAY codes.
pub fn weekday_code(code: &str) -> Option<Weekday> {
    DAY_CODES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|&(_, d)| d)
}

/// The two-letter code of a weekday (`TU`).
pub fn weekday_str(day: Weekday) -> &'static str {
    DAY_CODES[day.num_days_from_monday() as usize].0
}

impl ByDay {
    /// Parses one BYDAY item: `TU`, `1TU`, `-1FR`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let split = s.len().checked_sub(2)?;
        let (nth, day) = s.split_at_checked(split)?;
        let weekday = weekday_code(day)?;
        let nth = if nth.is_empty() {
            None
        } else {
            let n: i8 = nth.strip_prefix('+').unwrap_or(nth).parse().ok()?;
            if !(n == -1 || (1..=5).contains(&n)) {
                return None;
            }
            Some(n)
        };
        Some(ByDay { nth, weekday })
    }

    /// Whether `date` is this day (for a monthly `nth`, the n-th such weekday of its month).
    fn matches(&self, date: NaiveDate) -> bool {
        if date.weekday() != self.weekday {
            return false;
        }
        match self.nth {
            None => true,
            Some(-1) => (date + Duration::days(7)).month() != date.month(),
            Some(n) => (date.day() as i8 - 1) / 7 + 1 == n,
        }
    }
}

impl std::fmt::Display for ByDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(n) = self.nth {
            write!(f, "{n}")?;
        }
        f.write_str(weekday_str(self.weekday))
    }
}

/// One line of a schedule: a recurrence, or a single date.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawScheduleEntry", into = "RawScheduleEntry")]
pub enum ScheduleEntry {
    Recurring {
        freq: Freq,
        byday: Vec<ByDay>,
        opens_at: NaiveTime,
        closes_at: NaiveTime,
        valid_from: Option<NaiveDate>,
        valid_to: Option<NaiveDate>,
    },
    Once {
        date: NaiveDate,
        opens_at: NaiveTime,
        closes_at: NaiveTime,
    },
}

/// A schedule line as written in JSON: a recurrence (`freq`, `byday`, times, optional
/// validity) or a one-off `date` with times. Times are `HH:MM`, UK local time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(title = "ScheduleEntry")]
pub struct RawScheduleEntry {
    /// `WEEKLY` or `MONTHLY`; absent for a one-off date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freq: Option<Freq>,
    /// Comma-separated days: `TU`, `MO,TH`; monthly `1TU,3TU` or `-1FR` (last Friday).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "TU")]
    pub byday: Option<String>,
    /// A one-off date (instead of `freq`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[schema(example = "14:00")]
    pub opens_at: String,
    #[schema(example = "15:30")]
    pub closes_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let t = NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()?;
    (s.trim().len() == 5).then_some(t)
}

impl TryFrom<RawScheduleEntry> for ScheduleEntry {
    type Error = String;

    fn try_from(raw: RawScheduleEntry) -> Result<Self, String> {
        let opens_at = parse_time(&raw.opens_at)
            .ok_or_else(|| format!("opens_at {:?} is not a time HH:MM", raw.opens_at))?;
        let closes_at = parse_time(&raw.closes_at)
            .ok_or_else(|| format!("closes_at {:?} is not a time HH:MM", raw.closes_at))?;
        if closes_at <= opens_at {
            return Err(format!(
                "closes_at {} is not after opens_at {} (an activity ends the day it starts)",
                raw.closes_at, raw.opens_at
            ));
        }
        match (raw.freq, raw.date) {
            (Some(_), Some(_)) => {
                Err("give either freq (a recurrence) or date (one day), not both".into())
            }
            (None, None) => Err("give freq (WEEKLY or MONTHLY) with byday, or a date".into()),
            (None, Some(date)) => {
                if raw.byday.is_some() || raw.valid_from.is_some() || raw.valid_to.is_some() {
                    return Err("a one-off date takes no byday, valid_from or valid_to".into());
                }
                Ok(ScheduleEntry::Once {
                    date,
                    opens_at,
                    closes_at,
                })
            }
            (Some(freq), None) => {
                let text = raw
                    .byday
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .ok_or("a recurrence needs byday, e.g. \"TU\" or \"1TU,3TU\"")?;
                let mut byday = Vec::new();
                for item in text.split(',') {
                    let d = ByDay::parse(item).ok_or_else(|| {
                        format!("byday {item:?} is not a day: MO..SU, monthly with 1..5 or -1 before it (1TU)")
                    })?;
                    if d.nth.is_some() && freq == Freq::Weekly {
                        return Err(format!("byday {item:?}: an ordinal day needs freq MONTHLY"));
                    }
                    if !byday.contains(&d) {
                        byday.push(d);
                    }
                }
                if let (Some(from), Some(to)) = (raw.valid_from, raw.valid_to) {
                    if to < from {
                        return Err(format!("valid_to {to} is before valid_from {from}"));
                    }
                }
                Ok(ScheduleEntry::Recurring {
                    freq,
                    byday,
                    opens_at,
                    closes_at,
                    valid_from: raw.valid_from,
                    valid_to: raw.valid_to,
                })
            }
        }
    }
}

impl From<ScheduleEntry> for RawScheduleEntry {
    fn from(e: ScheduleEntry) -> Self {
        let time = |t: NaiveTime| t.format("%H:%M").to_string();
        match e {
            ScheduleEntry::Recurring {
                freq,
                byday,
                opens_at,
                closes_at,
                valid_from,
                valid_to,
            } => RawScheduleEntry {
                freq: Some(freq),
                byday: Some(
                    byday
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                date: None,
                opens_at: time(opens_at),
                closes_at: time(closes_at),
                valid_from,
                valid_to,
            },
            ScheduleEntry::Once {
                date,
                opens_at,
                closes_at,
            } => RawScheduleEntry {
                date: Some(date),
                opens_at: time(opens_at),
                closes_at: time(closes_at),
                ..Default::default()
            },
        }
    }
}

/// One session of an activity, in UK local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
pub struct Occurrence {
    pub date: NaiveDate,
    #[schema(value_type = String, example = "14:00")]
    #[serde(serialize_with = "hh_mm")]
    pub opens_at: NaiveTime,
    #[schema(value_type = String, example = "15:30")]
    #[serde(serialize_with = "hh_mm")]
    pub closes_at: NaiveTime,
}

fn hh_mm<S: serde::Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&t.format("%H:%M"))
}

impl ScheduleEntry {
    pub fn opens_at(&self) -> NaiveTime {
        match self {
            ScheduleEntry::Recurring { opens_at, .. } | ScheduleEntry::Once { opens_at, .. } => {
                *opens_at
            }
        }
    }

    pub fn closes_at(&self) -> NaiveTime {
        match self {
            ScheduleEntry::Recurring { closes_at, .. } | ScheduleEntry::Once { closes_at, .. } => {
                *closes_at
            }
        }
    }

    /// Whether a session of this line falls on `date`.
    pub fn happens_on(&self, date: NaiveDate) -> bool {
        match self {
            ScheduleEntry::Once { date: d, .. } => *d == date,
            ScheduleEntry::Recurring {
                byday,
                valid_from,
                valid_to,
                ..
            } => {
                valid_from.is_none_or(|f| date >= f)
                    && valid_to.is_none_or(|t| date <= t)
                    && byday.iter().any(|d| d.matches(date))
            }
        }
    }

    /// Whether this line can ever fall on `weekday` (within its validity).
    pub fn weekdays(&self) -> impl Iterator<Item = Weekday> + '_ {
        let (days, once): (&[ByDay], Option<Weekday>) = match self {
            ScheduleEntry::Recurring { byday, .. } => (byday, None),
            ScheduleEntry::Once { date, .. } => (&[], Some(date.weekday())),
        };
        days.iter().map(|d| d.weekday).chain(once)
    }
}

/// How far ahead occurrences are looked for: a monthly line on the fifth Friday can be
/// months away, but not more than a year.
const HORIZON_DAYS: i64 = 400;

/// The sessions of `schedule` on the days `from..=to`, in time order.
pub fn occurrences_between(
    schedule: &[ScheduleEntry],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Occurrence> {
    let mut out = Vec::new();
    let mut date = from;
    while date <= to {
        for e in schedule {
            if e.happens_on(date) {
                out.push(Occurrence {
                    date,
                    opens_at: e.opens_at(),
                    closes_at: e.closes_at(),
                });
            }
        }
        date += Duration::days(1);
    }
    out.sort();
    out.dedup();
    out
}

/// The next `n` sessions not yet over at `now` (UK local time), in time order.
pub fn next_occurrences(
    schedule: &[ScheduleEntry],
    now: NaiveDateTime,
    n: usize,
) -> Vec<Occurrence> {
    let mut out = Vec::with_capacity(n);
    if schedule.is_empty() || n == 0 {
        return out;
    }
    let last = schedule
        .iter()
        .map(|e| match e {
            ScheduleEntry::Once { date, .. } => Some(*date),
            ScheduleEntry::Recurring { valid_to, .. } => *valid_to,
        })
        .try_fold(NaiveDate::MIN, |acc, d| d.map(|d| acc.max(d)));
    let end = (now.date() + Duration::days(HORIZON_DAYS)).min(last.unwrap_or(NaiveDate::MAX));
    let mut date = now.date();
    while date <= end && out.len() < n {
        let mut today: Vec<Occurrence> = schedule
            .iter()
            .filter(|e| e.happens_on(date))
            .map(|e| Occurrence {
                date,
                opens_at: e.opens_at(),
                closes_at: e.closes_at(),
            })
            .filter(|o| o.date > now.date() || o.closes_at > now.time())
            .collect();
        today.sort();
        today.dedup();
        out.extend(today.into_iter().take(n - out.len()));
        date += Duration::days(1);
    }
    out
}

const MAX_NAME: usize = 200;
const MAX_SHORT: usize = 500;
const MAX_DESCRIPTION: usize = 5000;
const MAX_SCHEDULE: usize = 50;
/// The oldest age a person can state.
const MAX_AGE: u8 = 120;

/// The names of the JSON fields an activity body may carry.
pub const FIELDS: [&str; 20] = [
    "asset_id",
    "name",
    "description",
    "kind",
    "audiences",
    "min_age",
    "max_age",
    "schedule",
    "cost",
    "cost_amount",
    "referral",
    "booking_url",
    "contact_email",
    "contact_phone",
    "capacity_notes",
    "accessibility_notes",
    "status",
    "source",
    "source_id",
    "id",
];

/// The curated lists an activity's slugs are checked against.
pub struct Vocabulary<'a> {
    pub kinds: &'a HashSet<String>,
    pub audiences: &'a HashSet<String>,
}

impl ActivityFields {
    /// Validates a JSON object (an API body, a JSON import record) against every rule and
    /// returns all field errors at once, each naming its field (`schedule[1].byday`).
    /// `null` and `""` mean "not given". Unknown keys are errors: a typo would otherwise
    /// silently drop what the writer meant.
    pub fn parse(object: &Map<String, Value>, vocab: &Vocabulary) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        for key in object.keys() {
            if !FIELDS.contains(&key.as_str())
                && !matches!(key.as_str(), "created_at" | "updated_at" | "version")
            {
                errors.push(FieldError::new(
                    key,
                    format!(
                        "not a field of an activity; the fields are {}",
                        FIELDS[..19].join(", ")
                    ),
                ));
            }
        }
        let get = |k: &str| {
            object
                .get(k)
                .filter(|v| !v.is_null() && v.as_str() != Some(""))
        };
        let text = |k: &str, max: usize, errors: &mut Vec<FieldError>| -> Option<String> {
            match get(k)? {
                Value::String(s) => {
                    let s = s.trim();
                    if s.chars().count() > max {
                        errors.push(FieldError::new(k, format!("longer than {max} characters")));
                        None
                    } else if s.is_empty() {
                        None
                    } else {
                        Some(s.to_string())
                    }
                }
                other => {
                    errors.push(FieldError::new(k, format!("must be a string, not {other}")));
                    None
                }
            }
        };
        let asset_id = match text("asset_id", 100, &mut errors) {
            None => {
                errors.push(FieldError::new(
                    "asset_id",
                    "required: the id of the venue (asset) where it happens",
                ));
                None
            }
            Some(s) => match Uuid::parse_str(&s) {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push(FieldError::new("asset_id", format!("{s:?} is not a UUID")));
                    None
                }
            },
        };
        let name = text("name", MAX_NAME, &mut errors);
        if name.is_none() && !errors.iter().any(|e| e.field == "name") {
            errors.push(FieldError::new("name", "required"));
        }
        let description = text("description", MAX_DESCRIPTION, &mut errors);
        let kind = text("kind", 100, &mut errors);
        match &kind {
            None if !errors.iter().any(|e| e.field == "kind") => errors.push(FieldError::new(
                "kind",
                "required: one of GET /v1/activity-kinds",
            )),
            Some(k) if !vocab.kinds.contains(k) => {
                let mut known: Vec<_> = vocab.kinds.iter().map(String::as_str).collect();
                known.sort_unstable();
                errors.push(FieldError::new(
                    "kind",
                    format!(
                        "{k:?} is not an activity kind; the kinds are {}",
                        known.join(", ")
                    ),
                ));
            }
            _ => {}
        }
        let audiences = slug_list(get("audiences"), "audiences", &mut errors);
        for a in &audiences {
            if !vocab.audiences.contains(a) {
                let mut known: Vec<_> = vocab.audiences.iter().map(String::as_str).collect();
                known.sort_unstable();
                errors.push(FieldError::new(
                    "audiences",
                    format!(
                        "{a:?} is not an audience; the audiences are {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        let age = |k: &str, errors: &mut Vec<FieldError>| -> Option<u8> {
            let v = get(k)?;
            match v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            {
                Some(n) if n <= MAX_AGE as u64 => Some(n as u8),
                _ => {
                    errors.push(FieldError::new(
                        k,
                        format!("must be a whole number of years from 0 to {MAX_AGE}, not {v}"),
                    ));
                    None
                }
            }
        };
        let min_age = age("min_age", &mut errors);
        let max_age = age("max_age", &mut errors);
        if let (Some(lo), Some(hi)) = (min_age, max_age) {
            if hi < lo {
                errors.push(FieldError::new(
                    "max_age",
                    format!("{hi} is below min_age {lo}"),
                ));
            }
        }
        let schedule = match get("schedule") {
            None => Vec::new(),
            Some(Value::Array(items)) if items.len() > MAX_SCHEDULE => {
                errors.push(FieldError::new(
                    "schedule",
                    format!("more than {MAX_SCHEDULE} lines"),
                ));
                Vec::new()
            }
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let field = format!("schedule[{i}]");
                    match serde_json::from_value::<RawScheduleEntry>(item.clone())
                        .map_err(|e| e.to_string())
                        .and_then(ScheduleEntry::try_from)
                    {
                        Ok(e) => Some(e),
                        Err(reason) => {
                            errors.push(FieldError::new(&field, reason));
                            None
                        }
                    }
                })
                .collect(),
            Some(other) => {
                errors.push(FieldError::new(
                    "schedule",
                    format!("must be a list of schedule lines, not {other}"),
                ));
                Vec::new()
            }
        };
        let cost = match text("cost", 20, &mut errors) {
            None => Cost::Unknown,
            Some(c) => Cost::parse(&c).unwrap_or_else(|| {
                errors.push(FieldError::new(
                    "cost",
                    format!("{c:?} is not one of {}", Cost::ALL.join(", ")),
                ));
                Cost::Unknown
            }),
        };
        let cost_amount = match get("cost_amount") {
            None => None,
            Some(v) => match v.as_f64().or_else(|| {
                v.as_str()
                    .and_then(|s| s.trim().trim_start_matches('£').parse().ok())
            }) {
                Some(x) if x.is_finite() && (0.0..=10_000.0).contains(&x) => Some(x),
                _ => {
                    errors.push(FieldError::new(
                        "cost_amount",
                        format!("must be an amount in pounds from 0 to 10000, not {v}"),
                    ));
                    None
                }
            },
        };
        if cost_amount.is_some() && !matches!(cost, Cost::Paid | Cost::Donation) {
            errors.push(FieldError::new(
                "cost_amount",
                "only for cost paid (the price) or donation (the suggested amount)",
            ));
        }
        let mut referral = Vec::new();
        for r in slug_list(get("referral"), "referral", &mut errors) {
            match Referral::parse(&r) {
                Some(r) if !referral.contains(&r) => referral.push(r),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    "referral",
                    format!("{r:?} is not one of {}", Referral::ALL.join(", ")),
                )),
            }
        }
        referral.sort();
        let booking_url = text("booking_url", MAX_SHORT, &mut errors);
        if let Some(u) = &booking_url {
            if !(u.starts_with("https://") || u.starts_with("http://"))
                || u.contains(char::is_whitespace)
            {
                errors.push(FieldError::new(
                    "booking_url",
                    format!("{u:?} is not an http(s) URL"),
                ));
            }
        }
        let contact_email = text("contact_email", MAX_SHORT, &mut errors);
        if let Some(e) = &contact_email {
            let ok = e.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
            }) && !e.contains(char::is_whitespace);
            if !ok {
                errors.push(FieldError::new(
                    "contact_email",
                    format!("{e:?} is not an email address"),
                ));
            }
        }
        let contact_phone = text("contact_phone", 50, &mut errors);
        if let Some(p) = &contact_phone {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            if digits < 7
                || p.chars()
                    .any(|c| !(c.is_ascii_digit() || " +-()".contains(c)))
            {
                errors.push(FieldError::new(
                    "contact_phone",
                    format!("{p:?} is not a phone number"),
                ));
            }
        }
        let capacity_notes = text("capacity_notes", MAX_SHORT, &mut errors);
        let accessibility_notes = text("accessibility_notes", MAX_SHORT, &mut errors);
        let status = match text("status", 20, &mut errors) {
            None => Status::Published,
            Some(s) => Status::parse(&s).unwrap_or_else(|| {
                errors.push(FieldError::new(
                    "status",
                    format!("{s:?} is not one of {}", Status::ALL.join(", ")),
                ));
                Status::Published
            }),
        };
        let source = text("source", 100, &mut errors);
        let source_id = text("source_id", 200, &mut errors);
        if source.is_some() != source_id.is_some() {
            errors.push(FieldError::new(
                if source.is_some() {
                    "source_id"
                } else {
                    "source"
                },
                "source and source_id go together",
            ));
        }
        match (asset_id, name, kind) {
            (Some(asset_id), Some(name), Some(kind)) if errors.is_empty() => Ok(ActivityFields {
                asset_id,
                name,
                description,
                kind,
                audiences,
                min_age,
                max_age,
                schedule,
                cost,
                cost_amount,
                referral,
                booking_url,
                contact_email,
                contact_phone,
                capacity_notes,
                accessibility_notes,
                status,
                source,
                source_id,
            }),
            _ => Err(errors),
        }
    }

    /// The fields as the JSON object [`ActivityFields::parse`] reads (a PATCH merges into it).
    pub fn to_object(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    /// Whether someone of `age` may take part.
    pub fn admits_age(&self, age: u8) -> bool {
        self.min_age.is_none_or(|lo| age >= lo) && self.max_age.is_none_or(|hi| age <= hi)
    }
}

/// A schedule in its compact text form (a CSV cell), as the JSON lines
/// [`ActivityFields::parse`] reads, which then checks them: lines separated by `;` (or
/// new lines), each a recurrence `WEEKLY TU,TH 14:00-15:30`, `MONTHLY 1TU,-1FR 10:00-11:00`
/// with optional `from YYYY-MM-DD` and `to YYYY-MM-DD`, or a one-off date
/// `2026-12-03 18:00-20:00`. Keywords and days in any case. A line that does not have this
/// shape is an error naming it (`schedule[1]`).
pub fn schedule_from_text(text: &str) -> Result<Vec<Value>, FieldError> {
    let lines = text
        .split([';', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        let bad = |why: &str| {
            FieldError::new(
                &format!("schedule[{i}]"),
                format!(
                    "{line:?}: {why}; write e.g. \"WEEKLY TU 14:00-15:30 from 2026-09-01\", \
                     \"MONTHLY 1TU,3TU 10:00-11:00\" or \"2026-12-03 18:00-20:00\""
                ),
            )
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        let times = |w: Option<&&str>| -> Result<(String, String), FieldError> {
            let (a, b) = w
                .and_then(|w| w.split_once('-'))
                .ok_or_else(|| bad("the times are not HH:MM-HH:MM"))?;
            Ok((a.to_string(), b.to_string()))
        };
        let mut entry = Map::new();
        let rest = match words.first().map(|w| w.to_ascii_uppercase()) {
            Some(f) if f == "WEEKLY" || f == "MONTHLY" => {
                let byday = words.get(1).ok_or_else(|| bad("the days are missing"))?;
                let (opens, closes) = times(words.get(2))?;
                entry.insert("freq".into(), f.into());
                entry.insert("byday".into(), byday.to_ascii_uppercase().into());
                entry.insert("opens_at".into(), opens.into());
                entry.insert("closes_at".into(), closes.into());
                &words[3..]
            }
            Some(_) if words[0].parse::<NaiveDate>().is_ok() => {
                let (opens, closes) = times(words.get(1))?;
                entry.insert("date".into(), words[0].into());
                entry.insert("opens_at".into(), opens.into());
                entry.insert("closes_at".into(), closes.into());
                &words[2..]
            }
            _ => return Err(bad("it starts with neither WEEKLY, MONTHLY nor a date")),
        };
        let mut rest = rest.iter();
        while let Some(word) = rest.next() {
            let key = match word.to_ascii_lowercase().as_str() {
                "from" => "valid_from",
                "to" | "until" => "valid_to",
                _ => return Err(bad(&format!("{word:?} is not from or to"))),
            };
            let date = rest
                .next()
                .filter(|d| d.parse::<NaiveDate>().is_ok())
                .ok_or_else(|| bad(&format!("{word} needs a date YYYY-MM-DD")))?;
            entry.insert(key.into(), (*date).into());
        }
        out.push(Value::Object(entry));
    }
    Ok(out)
}

/// A list of slugs given as a JSON array or a `;`/`,`-separated string, deduplicated and
/// sorted (so that two writes of one set compare equal).
fn slug_list(value: Option<&Value>, field: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = match value {
        None => Vec::new(),
        Some(Value::String(s)) => s
            .split([';', ','])
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|x| match x.as_str() {
                Some(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                _ => {
                    errors.push(FieldError::new(field, format!("{x} is not a slug")));
                    None
                }
            })
            .collect(),
        Some(other) => {
            errors.push(FieldError::new(
                field,
                format!("must be a list of slugs, not {other}"),
            ));
            Vec::new()
        }
    };
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vocab_sets() -> (HashSet<String>, HashSet<String>) {
        (
            ["music-singing", "crafts"].map(String::from).into(),
            ["dementia", "older-people"].map(String::from).into(),
        )
    }

    fn parse(v: Value) -> Result<ActivityFields, Vec<FieldError>> {
        let (kinds, audiences) = vocab_sets();
        ActivityFields::parse(
            v.as_object().unwrap(),
            &Vocabulary {
                kinds: &kinds,
                audiences: &audiences,
            },
        )
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_full_activity_round_trips_through_json() {
        let body = json!({
            "asset_id": "0b6f6a52-1f7e-4c1e-9d7a-2f3f1b8e4a10", "name": " Singing ",
            "kind": "music-singing", "audiences": ["older-people", "dementia", "dementia"],
            "min_age": 50, "schedule": [
                {"freq": "WEEKLY", "byday": "TU", "opens_at": "14:00", "closes_at": "15:30", "valid_from": "2026-09-01"},
                {"freq": "MONTHLY", "byday": "1TU,-1FR", "opens_at": "10:00", "closes_at": "11:00"},
                {"date": "2026-12-03", "opens_at": "18:00", "closes_at": "20:00"}],
            "cost": "paid", "cost_amount": 3.5, "referral": ["gp", "self"], "contact_phone": "",
            "status": "draft"
        });
        let f = parse(body).unwrap();
        assert_eq!(f.name, "Singing");
        assert_eq!(f.audiences, ["dementia", "older-people"]);
        assert_eq!(f.referral, [Referral::SelfReferral, Referral::Gp]);
        assert_eq!(f.contact_phone, None);
        let again = parse(Value::Object(f.to_object())).unwrap();
        assert_eq!(again, f);
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["schedule"][1]["byday"], "1TU,-1FR");
        assert!(
            json.get("contact_phone").is_none(),
            "empty fields are left out"
        );
        let back: ActivityFields = serde_json::from_value(json).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = parse(json!({
            "asset_id": "nope", "kind": "knitting", "audiences": ["aliens"], "min_age": 30,
            "max_age": 20, "schedule": [{"freq": "WEEKLY", "byday": "1TU", "opens_at": "14:00", "closes_at": "15:00"},
            {"date": "2026-12-03", "opens_at": "18:00", "closes_at": "17:00"}],
            "cost": "free", "cost_amount": 2, "referral": "nurse", "booking_url": "ftp://x",
            "contact_email": "a@b", "colour": "red"
        }))
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "colour",
            "asset_id",
            "name",
            "kind",
            "audiences",
            "max_age",
            "schedule[0]",
            "schedule[1]",
            "cost_amount",
            "referral",
            "booking_url",
            "contact_email",
        ] {
            assert!(fields.contains(&f), "{f} missing from {errors:?}");
        }
    }

    #[test]
    fn schedule_text_reads_as_the_json_lines() {
        let lines = schedule_from_text(
            "weekly TU,th 14:00-15:30 from 2026-09-01 to 2026-12-31; MONTHLY 1TU,-1FR 10:00-11:00\n2026-12-03 18:00-20:00",
        )
        .unwrap();
        assert_eq!(
            Value::Array(lines),
            json!([
                {"freq": "WEEKLY", "byday": "TU,TH", "opens_at": "14:00", "closes_at": "15:30",
                 "valid_from": "2026-09-01", "valid_to": "2026-12-31"},
                {"freq": "MONTHLY", "byday": "1TU,-1FR", "opens_at": "10:00", "closes_at": "11:00"},
                {"date": "2026-12-03", "opens_at": "18:00", "closes_at": "20:00"}])
        );
        for (bad, field) in [
            ("WEEKLY TU", "schedule[0]"),
            ("WEEKLY TU 14:00-15:00; Tuesday 14:00-15:00", "schedule[1]"),
            ("2026-12-03 18:00", "schedule[0]"),
            ("WEEKLY TU 14:00-15:00 from next-week", "schedule[0]"),
        ] {
            assert_eq!(schedule_from_text(bad).unwrap_err().field, field, "{bad}");
        }
    }

    #[test]
    fn byday_parses_and_prints() {
        for s in ["TU", "1TU", "-1FR", "5SU"] {
            assert_eq!(ByDay::parse(s).unwrap().to_string(), s);
        }
        for s in ["", "T", "XX", "6TU", "0MO", "1", "TUE"] {
            assert!(ByDay::parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn monthly_days_fall_on_the_right_dates() {
        // December 2026: Tuesdays 1, 8, 15, 22, 29; Fridays 4, 11, 18, 25.
        let first_tue = ByDay::parse("1TU").unwrap();
        let third_tue = ByDay::parse("3TU").unwrap();
        let last_fri = ByDay::parse("-1FR").unwrap();
        let all: Vec<u32> = (1..=31)
            .map(|day| d(&format!("2026-12-{day:02}")))
            .filter(|&x| first_tue.matches(x) || third_tue.matches(x) || last_fri.matches(x))
            .map(|x| x.day())
            .collect();
        assert_eq!(all, [1, 15, 25]);
    }

    #[test]
    fn next_occurrences_skip_what_is_over_and_respect_validity() {
        let f = parse(json!({
            "asset_id": "0b6f6a52-1f7e-4c1e-9d7a-2f3f1b8e4a10", "name": "x", "kind": "crafts",
            "schedule": [
                {"freq": "WEEKLY", "byday": "TU,TH", "opens_at": "14:00", "closes_at": "15:30", "valid_to": "2026-12-10"},
                {"date": "2026-12-01", "opens_at": "10:00", "closes_at": "11:00"}]
        }))
        .unwrap();
        // Tuesday 1 December 2026, 14:30: the 10:00 session is over, the 14:00 one is on.
        let now = d("2026-12-01").and_hms_opt(14, 30, 0).unwrap();
        let next: Vec<String> = next_occurrences(&f.schedule, now, 10)
            .iter()
            .map(|o| format!("{} {}", o.date, o.opens_at.format("%H:%M")))
            .collect();
        assert_eq!(
            next,
            [
                "2026-12-01 14:00",
                "2026-12-03 14:00",
                "2026-12-08 14:00",
                "2026-12-10 14:00"
            ]
        );
        let between = occurrences_between(&f.schedule, d("2026-11-30"), d("2026-12-02"));
        assert_eq!(between.len(), 2);
    }
}
