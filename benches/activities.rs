//! Criterion benchmark of the activity index alone (no HTTP, no database): 100,000
//! synthetic activities at 100,000 synthetic venues placed where people live, queried at
//! population-weighted centres: the nearby + day + audience search, the soonest
//! first listing, and what one activity write costs the snapshot.
//!
//! `cargo bench --bench activities` (needs ../shared/data).

mod common;

use chrono::{Duration, NaiveDate, Utc, Weekday};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::collections::HashSet;

use common::inputs;
use community_assets::domain::activity::{Activity, ActivityFields, Vocabulary};
use community_assets::index::activities::{Sessions, HORIZON_DAYS};
use community_assets::index::query::Near;
use community_assets::index::{ActivityFilter, ActivitySearch, ActivitySort, Snapshot};
use community_assets::synth::{generate_activities, Rng};

const KINDS: [&str; 8] = [
    "crafts",
    "creative-arts",
    "dance",
    "film",
    "heritage",
    "music-singing",
    "nature",
    "reading",
];
const AUDIENCES: [&str; 8] = [
    "carers",
    "dementia",
    "learning-disabilities",
    "loneliness",
    "long-term-conditions",
    "mental-health",
    "older-people",
    "young-people",
];

fn terms(slugs: &[&str]) -> Vec<community_assets::domain::activity::Term> {
    slugs
        .iter()
        .map(|s| (s.to_string(), s.to_string(), String::new()).into())
        .collect()
}

fn bench(c: &mut Criterion) {
    let (assets, categories, centres) = inputs();
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let venues: Vec<(uuid::Uuid, String)> = assets
        .iter()
        .map(|a| (a.id, a.fields.category.clone()))
        .collect();
    let set = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<HashSet<_>>();
    let (kinds, audiences) = (set(&KINDS), set(&AUDIENCES));
    let vocab = Vocabulary {
        kinds: &kinds,
        audiences: &audiences,
    };
    let now = Utc::now();
    let mut rng = Rng::new(3);
    let activities: Vec<Activity> = generate_activities(&venues, 100_000, 2026, today)
        .iter()
        .map(|o| {
            let f = ActivityFields::parse(o, &vocab).expect("generated activities are valid");
            Activity::new(uuid::Uuid::from_u64_pair(rng.next_u64(), 1), f, now)
        })
        .collect();
    let snap = Snapshot::build(1, &categories, assets, Default::default()).with_activities(
        terms(&KINDS),
        terms(&AUDIENCES),
        activities.clone(),
    );
    let mut rng = Rng::new(1);
    let mut centre = move || centres[(rng.next_u64() % centres.len() as u64) as usize];
    let at = today.and_hms_opt(10, 0, 0).unwrap();
    let search = |lat, lon, filter, sort| ActivitySearch {
        near: Some(Near {
            lat,
            lon,
            radius_m: 2000.0,
        }),
        bbox: None,
        filter,
        sort,
        limit: 20,
        after: None,
        now: at,
    };
    let day_audience = || ActivityFilter {
        audiences: Some(vec!["older-people".into(), "dementia".into()]),
        sessions: Some(Sessions {
            from: today,
            to: today + Duration::days(HORIZON_DAYS),
            day: Some(Weekday::Tue),
            window: None,
        }),
        ..ActivityFilter::default()
    };
    c.bench_function("activities_near_2000m_day_audience", |b| {
        b.iter(|| {
            let (lat, lon) = centre();
            black_box(
                snap.search_activities(&search(lat, lon, day_audience(), ActivitySort::Distance))
                    .total,
            )
        })
    });
    c.bench_function("activities_near_2000m_sort_next", |b| {
        b.iter(|| {
            let (lat, lon) = centre();
            let s = search(lat, lon, ActivityFilter::default(), ActivitySort::Next);
            black_box(snap.search_activities(&s).total)
        })
    });
    let mut i = 0;
    c.bench_function("activities_apply_one_write", |b| {
        b.iter_batched(
            || {
                i += 1;
                let mut a = activities[i % activities.len()].clone();
                a.fields.name = format!("Renamed {i}");
                vec![a]
            },
            |changed| black_box(snap.apply(2, Vec::new(), changed).activities.len()),
            criterion::BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
