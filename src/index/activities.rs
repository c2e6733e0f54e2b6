//! Activities in the snapshot: every activity (any status) by id and by venue, and the
//! public ones (published, at a published venue) in spatial tiles at their venue's
//! position, each with its filters precomputed as bits (weekdays, audiences, kind, cost,
//! referral), so that a nearby search with filters costs a few bit tests per candidate.
//!
//! Held inside [`Snapshot`], so one version covers venues and activities; a write makes a
//! new set from the last one ([`Activities::apply`]) sharing every chunk, shard and tile it
//! does not touch. An activity's venue is read through its index in the snapshot's
//! assets, so a venue renamed or re-rated for access is seen at once; a venue moved,
//! archived or published moves its activities' points.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

use super::query::{BBox, Cursor, Near};
use super::tiles::Tiles;
use super::{Entry, Snapshot, SpherePoint};
use crate::domain::activity::{next_occurrences, Activity, Occurrence, ScheduleEntry, Term};
use crate::domain::{Cost, Status, Wheelchair};
use crate::geo::sphere::{chord2_for, haversine_m, unit_vector};

/// Entries per chunk: a changed activity copies its chunk, not the list.
const CHUNK: usize = 128;
/// Shards of the id and venue maps.
const SHARDS: usize = 256;
/// How far ahead `day` and time filters look without dates (as far as next occurrences).
pub const HORIZON_DAYS: i64 = 400;
/// The audience bit for the 64th audience and beyond (checked by slug).
const OVERFLOW_BIT: usize = 63;

/// One activity with its filters as bits.
#[derive(Clone)]
pub struct ActivityEntry {
    pub activity: Activity,
    /// The activity's JSON object without its closing brace (items add members).
    json: Box<str>,
    /// The venue's index among the snapshot's assets; `None` when it is not there.
    pub venue: Option<u32>,
    kind: u16,
    audiences: u64,
    /// Bit `n` for weekday `n` (Monday 0) of any schedule line.
    days: u8,
    referral: u8,
    /// Lower-cased name and description, for `q`.
    text: Box<str>,
}

fn position_of(slugs: &[Term], slug: &str) -> Option<usize> {
    slugs.binary_search_by(|t| t.slug.as_str().cmp(slug)).ok()
}

/// The bit of a referral route.
pub fn referral_bit(r: crate::domain::activity::Referral) -> u8 {
    1 << (r as u8)
}

impl ActivityEntry {
    fn new(activity: Activity, venue: Option<u32>, kinds: &[Term], audiences: &[Term]) -> Self {
        let f = &activity.fields;
        let mut json = serde_json::to_string(&activity).unwrap_or_else(|_| "{}".into());
        json.pop();
        let mut days = 0u8;
        for e in &f.schedule {
            for d in e.weekdays() {
                days |= 1 << d.num_days_from_monday();
            }
        }
        let audience_bits = f
            .audiences
            .iter()
            .filter_map(|a| position_of(audiences, a))
            .fold(0u64, |bits, i| bits | 1 << i.min(OVERFLOW_BIT));
        let mut text = f.name.to_lowercase();
        if let Some(d) = &f.description {
            text.push('\n');
            text.push_str(&d.to_lowercase());
        }
        ActivityEntry {
            kind: position_of(kinds, &f.kind).map_or(u16::MAX, |k| k as u16),
            audiences: audience_bits,
            days,
            referral: f.referral.iter().fold(0, |b, r| b | referral_bit(*r)),
            text: text.into(),
            json: json.into(),
            venue,
            activity,
        }
    }

    pub fn id(&self) -> Uuid {
        self.activity.id
    }

    /// The activity's JSON object, open: the caller adds members and the closing brace.
    pub fn json_open(&self) -> &str {
        &self.json
    }

    /// The next `n` sessions not over at `now` (UK local time).
    pub fn next(&self, now: NaiveDateTime, n: usize) -> Vec<Occurrence> {
        next_occurrences(&self.activity.fields.schedule, now, n)
    }
}

/// The sessions asked for: on a date of `from..=to`, on `day` if given, overlapping the
/// `window` (opens before its end and closes after its start) if given; all of one
/// schedule line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sessions {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub day: Option<Weekday>,
    pub window: Option<(NaiveTime, NaiveTime)>,
}

impl Sessions {
    /// Whether one line of `schedule` has such a session.
    pub fn matches(&self, schedule: &[ScheduleEntry]) -> bool {
        schedule.iter().any(|e| {
            self.window
                .is_none_or(|(from, to)| e.opens_at() < to && e.closes_at() > from)
                && self.has_date(e)
        })
    }

    fn has_date(&self, e: &ScheduleEntry) -> bool {
        let day_ok = |d: NaiveDate| self.day.is_none_or(|w| d.weekday() == w);
        match e {
            ScheduleEntry::Once { date, .. } => {
                (self.from..=self.to).contains(date) && day_ok(*date)
            }
            ScheduleEntry::Recurring {
                byday,
                valid_from,
                valid_to,
                ..
            } => {
                if self
                    .day
                    .is_some_and(|w| !byday.iter().any(|b| b.weekday == w))
                {
                    return false;
                }
                let start = valid_from.map_or(self.from, |f| f.max(self.from));
                let end = valid_to.map_or(self.to, |t| t.min(self.to));
                let (mut date, step) = match self.day {
                    None => (start, 1),
                    Some(w) => {
                        let ahead = (7 + w.num_days_from_monday() as i64
                            - start.weekday().num_days_from_monday() as i64)
                            % 7;
                        (start + Duration::days(ahead), 7)
                    }
                };
                while date <= end {
                    if e.happens_on(date) {
                        return true;
                    }
                    date += Duration::days(step);
                }
                false
            }
        }
    }
}

/// What an activity must be; every filter given must hold.
#[derive(Clone, Debug, Default)]
pub struct ActivityFilter {
    /// Lower-case words that must all occur in the name or description.
    pub words: Vec<String>,
    /// Any of these kinds (slugs of the snapshot's kinds).
    pub kinds: Option<Vec<String>>,
    /// Designed for any of these audiences (an activity for everyone lists none, and does
    /// not match).
    pub audiences: Option<Vec<String>>,
    /// Admits someone of this age.
    pub age: Option<u8>,
    pub free_only: bool,
    /// Any of these referral routes.
    pub referral: Option<Vec<crate::domain::activity::Referral>>,
    /// Of the venue, as the asset search.
    pub wheelchair: Option<Wheelchair>,
    pub sessions: Option<Sessions>,
}

/// A filter resolved against the snapshot's vocabularies, as bits.
struct Compiled<'a> {
    f: &'a ActivityFilter,
    kinds: Option<Vec<u16>>,
    audiences: Option<u64>,
    /// An audience asked for is past the bits: compare slugs.
    audience_slugs: bool,
    day_bit: Option<u8>,
    referral: Option<u8>,
}

impl<'a> Compiled<'a> {
    fn new(f: &'a ActivityFilter, a: &Activities) -> Self {
        let audience_idx: Option<Vec<usize>> = f.audiences.as_ref().map(|list| {
            list.iter()
                .filter_map(|s| position_of(&a.audiences, s))
                .collect()
        });
        Compiled {
            f,
            kinds: f.kinds.as_ref().map(|list| {
                list.iter()
                    .filter_map(|s| position_of(&a.kinds, s).map(|k| k as u16))
                    .collect()
            }),
            audience_slugs: audience_idx
                .as_ref()
                .is_some_and(|v| v.iter().any(|&i| i >= OVERFLOW_BIT)),
            audiences: audience_idx
                .map(|v| v.iter().fold(0u64, |b, &i| b | 1 << i.min(OVERFLOW_BIT))),
            day_bit: f
                .sessions
                .and_then(|s| s.day)
                .map(|d| 1 << d.num_days_from_monday()),
            referral: f
                .referral
                .as_ref()
                .map(|r| r.iter().fold(0, |b, r| b | referral_bit(*r))),
        }
    }

    fn matches(&self, e: &ActivityEntry, venue: &Entry) -> bool {
        let f = self.f;
        if let Some(k) = &self.kinds {
            if !k.contains(&e.kind) {
                return false;
            }
        }
        if let Some(mask) = self.audiences {
            if e.audiences & mask == 0 {
                return false;
            }
            if self.audience_slugs || e.audiences & mask == 1 << OVERFLOW_BIT {
                let wanted = f.audiences.iter().flatten();
                let mut wanted = wanted.filter(|w| e.activity.fields.audiences.contains(w));
                if wanted.next().is_none() {
                    return false;
                }
            }
        }
        if self.day_bit.is_some_and(|d| e.days & d == 0) {
            return false;
        }
        if self.referral.is_some_and(|r| e.referral & r == 0) {
            return false;
        }
        let fields = &e.activity.fields;
        if f.free_only && fields.cost != Cost::Free {
            return false;
        }
        if f.age.is_some_and(|age| !fields.admits_age(age)) {
            return false;
        }
        let wheelchair_ok = match f.wheelchair {
            None => true,
            Some(Wheelchair::Yes) => venue.wheelchair == Wheelchair::Yes,
            Some(_) => matches!(venue.wheelchair, Wheelchair::Yes | Wheelchair::Limited),
        };
        wheelchair_ok
            && f.words.iter().all(|w| e.text.contains(w.as_str()))
            && f.sessions.is_none_or(|s| s.matches(&fields.schedule))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivitySort {
    /// Nearest venue first (needs `near`).
    Distance,
    /// Soonest next session first; those with none last.
    Next,
}

/// A search over the public activities.
#[derive(Clone, Debug)]
pub struct ActivitySearch {
    pub near: Option<Near>,
    pub bbox: Option<BBox>,
    pub filter: ActivityFilter,
    pub sort: ActivitySort,
    pub limit: usize,
    pub after: Option<Cursor>,
    /// "Now" in UK local time: what `next` is relative to.
    pub now: NaiveDateTime,
}

/// A matching activity.
#[derive(Clone, Debug)]
pub struct ActivityHit {
    pub idx: u32,
    pub distance_m: Option<f64>,
    chord2: f64,
    /// The start of the next session (the `sort=next` key), `i64::MAX` for none.
    next_key: i64,
}

impl ActivityHit {
    /// A hit with no distance (a read by id).
    pub fn of(idx: u32) -> Self {
        ActivityHit {
            idx,
            distance_m: None,
            chord2: 0.0,
            next_key: 0,
        }
    }
}

/// One page of an activity search.
#[derive(Debug)]
pub struct ActivityPage {
    pub hits: Vec<ActivityHit>,
    pub total: usize,
    pub next: Option<Cursor>,
}

/// The `sort=next` key of an activity at `now`: its next session's start.
fn next_key(e: &ActivityEntry, now: NaiveDateTime) -> i64 {
    e.next(now, 1).first().map_or(i64::MAX, |o| {
        o.date.and_time(o.opens_at).and_utc().timestamp()
    })
}

/// Every activity of a snapshot and the public ones in tiles.
#[derive(Clone)]
pub struct Activities {
    chunks: Vec<Arc<Vec<ActivityEntry>>>,
    len: usize,
    by_id: Vec<Arc<HashMap<Uuid, u32>>>,
    /// Activity indexes by venue index, any status.
    by_venue: Vec<Arc<HashMap<u32, Vec<u32>>>>,
    /// The public activities (published, at a published venue), at their venue.
    public: Tiles,
    /// The vocabularies, by slug.
    pub kinds: Vec<Term>,
    pub audiences: Vec<Term>,
}

fn shard_of(id: &Uuid) -> usize {
    super::id_shard(id, SHARDS)
}

fn venue_shard(v: u32) -> usize {
    v as usize % SHARDS
}

impl Default for Activities {
    fn default() -> Self {
        Activities::build(None, Vec::new(), Vec::new(), Vec::new())
    }
}

impl Activities {
    /// Builds the set from scratch over the assets of `snap`.
    pub fn build(
        snap: Option<&Snapshot>,
        kinds: Vec<Term>,
        audiences: Vec<Term>,
        mut list: Vec<Activity>,
    ) -> Self {
        list.sort_unstable_by_key(|a| a.id);
        let mut by_id: Vec<HashMap<Uuid, u32>> = vec![HashMap::new(); SHARDS];
        let mut by_venue: Vec<HashMap<u32, Vec<u32>>> = vec![HashMap::new(); SHARDS];
        let mut points = Vec::new();
        let mut entries = Vec::with_capacity(list.len());
        for (i, a) in list.into_iter().enumerate() {
            let i = i as u32;
            let venue = snap.and_then(|s| s.index_of(&a.fields.asset_id));
            let e = ActivityEntry::new(a, venue, &kinds, &audiences);
            by_id[shard_of(&e.id())].insert(e.id(), i);
            if let Some(v) = venue {
                by_venue[venue_shard(v)].entry(v).or_default().push(i);
            }
            if let Some(p) = snap.and_then(|s| public_point(s, &e, i)) {
                points.push(p);
            }
            entries.push(e);
        }
        let len = entries.len();
        let mut chunks = Vec::with_capacity(len.div_ceil(CHUNK));
        let mut rest = entries.into_iter().peekable();
        while rest.peek().is_some() {
            chunks.push(Arc::new(rest.by_ref().take(CHUNK).collect::<Vec<_>>()));
        }
        Activities {
            chunks,
            len,
            by_id: by_id.into_iter().map(Arc::new).collect(),
            by_venue: by_venue.into_iter().map(Arc::new).collect(),
            public: Tiles::build(points),
            kinds,
            audiences,
        }
    }

    /// This set with `changed` (activities written since, any status, as they are now)
    /// applied, and the activities of the `venues` that moved or changed status (indexes in
    /// `old` and `new`, the asset snapshots before and after) following them. Only the tiles
    /// these touch are rebuilt.
    pub fn apply(
        &self,
        old: &Snapshot,
        new: &Snapshot,
        venues: &[u32],
        changed: Vec<Activity>,
    ) -> Activities {
        let mut chunks = self.chunks.clone();
        let mut by_id = self.by_id.clone();
        let mut by_venue = self.by_venue.clone();
        let mut len = self.len;
        let mut touched: HashSet<u32> = HashSet::new();
        for v in venues {
            if let Some(list) = self.by_venue[venue_shard(*v)].get(v) {
                touched.extend(list);
            }
        }
        for a in changed {
            let id = a.id;
            let venue = new.index_of(&a.fields.asset_id);
            let entry = ActivityEntry::new(a, venue, &self.kinds, &self.audiences);
            let idx = match by_id[shard_of(&id)].get(&id).copied() {
                Some(idx) => {
                    let slot =
                        &mut Arc::make_mut(&mut chunks[idx as usize / CHUNK])[idx as usize % CHUNK];
                    if slot.venue != venue {
                        if let Some(v) = slot.venue {
                            if let Some(list) =
                                Arc::make_mut(&mut by_venue[venue_shard(v)]).get_mut(&v)
                            {
                                list.retain(|&i| i != idx);
                            }
                        }
                        if let Some(v) = venue {
                            Arc::make_mut(&mut by_venue[venue_shard(v)])
                                .entry(v)
                                .or_default()
                                .push(idx);
                        }
                    }
                    *slot = entry;
                    idx
                }
                None => {
                    let idx = len as u32;
                    len += 1;
                    if len > chunks.len() * CHUNK {
                        chunks.push(Arc::new(Vec::with_capacity(CHUNK)));
                    }
                    Arc::make_mut(chunks.last_mut().expect("a chunk was pushed")).push(entry);
                    Arc::make_mut(&mut by_id[shard_of(&id)]).insert(id, idx);
                    if let Some(v) = venue {
                        Arc::make_mut(&mut by_venue[venue_shard(v)])
                            .entry(v)
                            .or_default()
                            .push(idx);
                    }
                    idx
                }
            };
            touched.insert(idx);
        }
        let entry = |idx: u32| &chunks[idx as usize / CHUNK][idx as usize % CHUNK];
        let (mut removed, mut added) = (Vec::new(), Vec::new());
        for idx in touched {
            let before = ((idx as usize) < self.len)
                .then(|| public_point(old, self.entry(idx), idx))
                .flatten();
            let after = public_point(new, entry(idx), idx);
            if before != after {
                removed.extend(before);
                added.extend(after);
            }
        }
        let public = if removed.is_empty() && added.is_empty() {
            self.public.clone()
        } else {
            self.public.with_changes(&removed, &added)
        };
        Activities {
            chunks,
            len,
            by_id,
            by_venue,
            public,
            kinds: self.kinds.clone(),
            audiences: self.audiences.clone(),
        }
    }

    /// Every activity, whatever its status.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Public activities (published, at a published venue).
    pub fn public_len(&self) -> usize {
        self.public.len()
    }

    pub fn entry(&self, idx: u32) -> &ActivityEntry {
        &self.chunks[idx as usize / CHUNK][idx as usize % CHUNK]
    }

    pub fn entries(&self) -> impl Iterator<Item = (u32, &ActivityEntry)> {
        self.chunks
            .iter()
            .flat_map(|c| c.iter())
            .enumerate()
            .map(|(i, e)| (i as u32, e))
    }

    /// The activity of this id, whatever its status.
    pub fn get(&self, id: &Uuid) -> Option<(u32, &ActivityEntry)> {
        self.by_id[shard_of(id)]
            .get(id)
            .map(|&i| (i, self.entry(i)))
    }

    /// The activities at a venue (by its index), whatever their status.
    pub fn at_venue(&self, venue: u32) -> impl Iterator<Item = (u32, &ActivityEntry)> {
        self.by_venue[venue_shard(venue)]
            .get(&venue)
            .into_iter()
            .flatten()
            .map(|&i| (i, self.entry(i)))
    }

    /// Tiles of the public set (tests: how many a write shared).
    pub fn public_tiles(&self) -> &Tiles {
        &self.public
    }

    pub fn is_kind(&self, slug: &str) -> bool {
        position_of(&self.kinds, slug).is_some()
    }

    pub fn is_audience(&self, slug: &str) -> bool {
        position_of(&self.audiences, slug).is_some()
    }
}

/// The point of an activity in the public tiles, if it is public in `snap`.
fn public_point(snap: &Snapshot, e: &ActivityEntry, idx: u32) -> Option<SpherePoint> {
    let v = snap.entry(e.venue?);
    (e.activity.fields.status == Status::Published && v.status == Status::Published)
        .then(|| SpherePoint::new(unit_vector(v.lat, v.lon), idx))
}

impl Snapshot {
    /// Whether the activity at `idx` is public: published, at a published venue.
    pub fn activity_is_public(&self, idx: u32) -> bool {
        let e = self.activities.entry(idx);
        e.activity.fields.status == Status::Published
            && e.venue
                .is_some_and(|v| self.entry(v).status == Status::Published)
    }

    /// The public activity of this id.
    pub fn public_activity(&self, id: &Uuid) -> Option<(u32, &ActivityEntry)> {
        self.activities
            .get(id)
            .filter(|(i, _)| self.activity_is_public(*i))
    }

    /// The venue of an activity (its asset entry).
    pub fn venue_of(&self, e: &ActivityEntry) -> Option<&Entry> {
        e.venue.map(|v| self.entry(v))
    }

    /// The public activities at a published venue, soonest next session first (ties by
    /// id); `None` when the venue is not published.
    pub fn venue_activities(&self, venue: &Uuid, now: NaiveDateTime) -> Option<Vec<ActivityHit>> {
        let v = self.index_of(venue)?;
        if self.entry(v).status != Status::Published {
            return None;
        }
        let mut hits: Vec<ActivityHit> = self
            .activities
            .at_venue(v)
            .filter(|(i, _)| self.activity_is_public(*i))
            .map(|(i, e)| ActivityHit {
                idx: i,
                distance_m: None,
                chord2: 0.0,
                next_key: next_key(e, now),
            })
            .collect();
        hits.sort_by(|a, b| self.cmp_activity_hits(ActivitySort::Next, a, b));
        Some(hits)
    }

    pub fn search_activities(&self, s: &ActivitySearch) -> ActivityPage {
        let acts = &self.activities;
        let compiled = Compiled::new(&s.filter, acts);
        let mut page: Vec<ActivityHit> = Vec::with_capacity(s.limit + 1);
        let mut total = 0;
        let mut consider = |idx: u32, chord2: f64| {
            let e = acts.entry(idx);
            let Some(venue) = self.venue_of(e) else {
                return;
            };
            if s.bbox.is_some_and(|b| !b.contains(venue.lat, venue.lon))
                || !compiled.matches(e, venue)
            {
                return;
            }
            total += 1;
            let hit = ActivityHit {
                idx,
                distance_m: None,
                chord2,
                next_key: match s.sort {
                    ActivitySort::Next => next_key(e, s.now),
                    ActivitySort::Distance => 0,
                },
            };
            self.keep_best_activity(&mut page, hit, s);
        };
        if let Some(n) = s.near {
            let q = unit_vector(n.lat, n.lon);
            let outer = chord2_for(n.radius_m);
            let inner = outer * (1.0 - 1e-8);
            for p in acts.public.locate_within_distance(q, outer) {
                let c2 = (0..3).map(|k| (p.geom()[k] - q[k]).powi(2)).sum::<f64>();
                if c2 > inner {
                    let v = self.entry(acts.entry(p.data).venue.unwrap_or_default());
                    if haversine_m(n.lat, n.lon, v.lat, v.lon) > n.radius_m {
                        continue;
                    }
                }
                consider(p.data, c2);
            }
        } else if let Some(b) = s.bbox {
            let envelopes = b.envelopes();
            for (k, env) in envelopes.iter().enumerate() {
                for p in acts.public.locate_in_envelope(*env) {
                    if k > 0 && rstar::Envelope::contains_point(&envelopes[0], p.geom()) {
                        continue;
                    }
                    consider(p.data, 0.0);
                }
            }
        } else {
            for p in acts.public.iter() {
                consider(p.data, 0.0);
            }
        }
        let next = if page.len() > s.limit {
            page.truncate(s.limit);
            page.last().map(|h| self.activity_cursor(s.sort, h))
        } else {
            None
        };
        if let Some(n) = s.near {
            for h in &mut page {
                if let Some(v) = self.venue_of(acts.entry(h.idx)) {
                    h.distance_m = Some(haversine_m(n.lat, n.lon, v.lat, v.lon));
                }
            }
        }
        ActivityPage {
            hits: page,
            total,
            next,
        }
    }

    /// Keeps in `page` (sorted) the best `limit + 1` hits past the cursor.
    fn keep_best_activity(&self, page: &mut Vec<ActivityHit>, h: ActivityHit, s: &ActivitySearch) {
        if let Some(c) = &s.after {
            let id = self.activities.entry(h.idx).id();
            let (key, after_id) = match c {
                Cursor::Distance(c2, after) => (h.chord2.total_cmp(c2), after),
                Cursor::Next(t, after) => (h.next_key.cmp(t), after),
                _ => return,
            };
            if key.then(id.cmp(after_id)) != Ordering::Greater {
                return;
            }
        }
        let cmp = |a: &ActivityHit, b: &ActivityHit| self.cmp_activity_hits(s.sort, a, b);
        if page.len() > s.limit {
            if page.last().is_some_and(|w| cmp(&h, w) != Ordering::Less) {
                return;
            }
            page.pop();
        }
        let at = page.partition_point(|x| cmp(x, &h) == Ordering::Less);
        page.insert(at, h);
    }

    fn cmp_activity_hits(&self, sort: ActivitySort, a: &ActivityHit, b: &ActivityHit) -> Ordering {
        let key = match sort {
            ActivitySort::Distance => a.chord2.total_cmp(&b.chord2),
            ActivitySort::Next => a.next_key.cmp(&b.next_key),
        };
        let id = |h: &ActivityHit| self.activities.entry(h.idx).id();
        key.then(id(a).cmp(&id(b)))
    }

    fn activity_cursor(&self, sort: ActivitySort, h: &ActivityHit) -> Cursor {
        let id = self.activities.entry(h.idx).id();
        match sort {
            ActivitySort::Distance => Cursor::Distance(h.chord2, id),
            ActivitySort::Next => Cursor::Next(h.next_key, id),
        }
    }

    /// How the activities of this snapshot differ from `other`'s in content (for tests
    /// comparing an incrementally maintained snapshot with a rebuild).
    pub(super) fn activity_differences(&self, other: &Snapshot, out: &mut Vec<String>) {
        let (a, b) = (&self.activities, &other.activities);
        if a.len != b.len || a.public.len() != b.public.len() {
            out.push(format!(
                "{} ({} public) vs {} ({} public) activities",
                a.len,
                a.public.len(),
                b.len,
                b.public.len()
            ));
        }
        if a.kinds != b.kinds || a.audiences != b.audiences {
            out.push("activity kinds or audiences differ".into());
        }
        for (_, e) in a.entries() {
            match b.get(&e.id()) {
                None => out.push(format!("activity {} missing from the other", e.id())),
                Some((_, o)) => {
                    let venue_id = |s: &Snapshot, e: &ActivityEntry| s.venue_of(e).map(|v| v.id);
                    if e.activity != o.activity
                        || e.json != o.json
                        || venue_id(self, e) != venue_id(other, o)
                        || (e.kind, e.audiences, e.days, e.referral)
                            != (o.kind, o.audiences, o.days, o.referral)
                    {
                        out.push(format!("activity {} differs", e.id()));
                    }
                }
            }
        }
        // The tiles hold exactly the public activities, each at its venue; the venue map
        // holds each activity once, under its venue.
        for s in [self, other] {
            let acts = &s.activities;
            let mut seen = HashSet::new();
            for p in acts.public.iter() {
                if public_point(s, acts.entry(p.data), p.data) != Some(*p) || !seen.insert(p.data) {
                    out.push(format!(
                        "activity tiles hold {} wrongly",
                        acts.entry(p.data).id()
                    ));
                }
            }
            let public = (0..acts.len as u32)
                .filter(|&i| s.activity_is_public(i))
                .count();
            if public != seen.len() {
                out.push(format!(
                    "{} public activities, {} in the tiles",
                    public,
                    seen.len()
                ));
            }
            let mut listed = 0;
            for shard in &acts.by_venue {
                for (v, list) in shard.iter() {
                    for &i in list {
                        listed += 1;
                        if acts.entry(i).venue != Some(*v) {
                            out.push(format!("venue map holds {} wrongly", acts.entry(i).id()));
                        }
                    }
                }
            }
            let with_venue = acts.entries().filter(|(_, e)| e.venue.is_some()).count();
            if listed != with_venue {
                out.push(format!("{listed} in the venue map for {with_venue}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::activity::{ActivityFields, Vocabulary};
    use crate::domain::{Asset, AssetFields, Category};
    use crate::synth::{generate_activities, Rng};

    fn terms(slugs: &[&str]) -> Vec<Term> {
        let mut t: Vec<Term> = slugs
            .iter()
            .map(|s| Term {
                slug: s.to_string(),
                label: s.to_string(),
                description: String::new(),
            })
            .collect();
        t.sort_by(|a, b| a.slug.cmp(&b.slug));
        t
    }

    /// 20,000 activities at 5,000 venues: a write of one activity, and a venue moved,
    /// rebuild only the tiles they touch, and leave the snapshot equal to a rebuild.
    #[test]
    fn a_delta_touches_few_tiles_and_equals_a_rebuild() {
        let mut rng = Rng::new(5);
        let now = chrono::Utc::now();
        let assets: Vec<Asset> = (0..5000u64)
            .map(|i| {
                let f = AssetFields::at(
                    format!("Venue {i}"),
                    "library",
                    51.0 + rng.unit() * 2.0,
                    -2.0 + rng.unit() * 2.0,
                );
                Asset::new(Uuid::from_u64_pair(rng.next_u64(), i), f, now)
            })
            .collect();
        let venues: Vec<(Uuid, String)> = assets.iter().map(|a| (a.id, "library".into())).collect();
        let kinds = terms(&[
            "creative-arts",
            "music-singing",
            "heritage",
            "reading",
            "film",
            "crafts",
            "dance",
            "nature",
        ]);
        let audiences = terms(&[
            "dementia",
            "mental-health",
            "long-term-conditions",
            "loneliness",
            "young-people",
            "older-people",
            "carers",
            "learning-disabilities",
        ]);
        let set = |t: &[Term]| t.iter().map(|t| t.slug.clone()).collect::<HashSet<_>>();
        let (ks, aus) = (set(&kinds), set(&audiences));
        let vocab = Vocabulary {
            kinds: &ks,
            audiences: &aus,
        };
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let acts: Vec<Activity> = generate_activities(&venues, 20_000, 9, today)
            .iter()
            .map(|o| {
                let f = ActivityFields::parse(o, &vocab).unwrap();
                Activity::new(Uuid::from_u64_pair(rng.next_u64(), 0), f, now)
            })
            .collect();
        let categories = vec![Category {
            slug: "library".into(),
            label: "Library".into(),
            description: String::new(),
        }];
        let build = |version, assets: Vec<Asset>, acts: Vec<Activity>| {
            Snapshot::build(version, &categories, assets, Default::default()).with_activities(
                kinds.clone(),
                audiences.clone(),
                acts,
            )
        };
        let snap = build(1, assets.clone(), acts.clone());
        let tiles = snap.activities.public_tiles().tile_count();
        assert!(tiles > 8, "{tiles} tiles");

        // One activity renamed and moved to another venue; one venue (with activities) moved.
        let mut changed = acts[7].clone();
        changed.fields.name = "Renamed".into();
        changed.fields.asset_id = assets[3].id;
        changed.fields.status = Status::Published;
        let holder = acts[100].fields.asset_id;
        let mut moved = assets.iter().find(|a| a.id == holder).unwrap().clone();
        moved.fields.lat += 0.5;
        let next = snap.apply(2, vec![moved.clone()], vec![changed.clone()]);
        let shared = next
            .activities
            .public_tiles()
            .shared_with(snap.activities.public_tiles());
        assert!(shared + 4 >= tiles, "{shared} of {tiles} tiles shared");

        let mut assets2 = assets.clone();
        *assets2.iter_mut().find(|a| a.id == holder).unwrap() = moved;
        let mut acts2 = acts.clone();
        acts2[7] = changed;
        let full = build(2, assets2, acts2);
        assert_eq!(next.differences(&full), Vec::<String>::new());

        // And the searches agree with a filter applied by hand.
        let search = ActivitySearch {
            near: Some(Near {
                lat: 52.0,
                lon: -1.0,
                radius_m: 20_000.0,
            }),
            bbox: None,
            filter: ActivityFilter {
                audiences: Some(vec!["dementia".into()]),
                sessions: Some(Sessions {
                    from: today,
                    to: today + Duration::days(HORIZON_DAYS),
                    day: Some(Weekday::Tue),
                    window: None,
                }),
                ..ActivityFilter::default()
            },
            sort: ActivitySort::Distance,
            limit: 10_000,
            after: None,
            now: today.and_hms_opt(10, 0, 0).unwrap(),
        };
        let page = next.search_activities(&search);
        let expected = (0..next.activities.len() as u32)
            .filter(|&i| next.activity_is_public(i))
            .filter(|&i| {
                let e = next.activities.entry(i);
                let v = next.venue_of(e).unwrap();
                haversine_m(52.0, -1.0, v.lat, v.lon) <= 20_000.0
                    && e.activity
                        .fields
                        .audiences
                        .contains(&"dementia".to_string())
                    && (0..HORIZON_DAYS).any(|d| {
                        let date = today + Duration::days(d);
                        date.weekday() == Weekday::Tue
                            && e.activity
                                .fields
                                .schedule
                                .iter()
                                .any(|l| l.happens_on(date))
                    })
            })
            .count();
        assert!(expected > 10, "{expected}");
        assert_eq!(page.total, expected);
    }
}
