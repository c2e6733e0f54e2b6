//! The public activity search over HTTP, against a brute-force computation written here:
//! the real libraries as venues, a few hundred generated activities written through the
//! store, every filter and sort checked by distances (haversine), weekdays and dates of
//! this file's own calendar arithmetic; paging, formats, bad parameters; writes and venue
//! changes seen at once.

use crate::support::*;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

use community_assets::domain::activity::{ActivityFields, Vocabulary};
use community_assets::state::full_snapshot;
use community_assets::store::activities;
use community_assets::synth::generate_activities;

on_both_backends!(
    activity_search_agrees_with_brute_force,
    writes_and_venue_changes_show_at_once,
);

/// "Now" for every request: 1 December 2026, 10:00 UK time (GMT).
const AT: &str = "2026-12-01T10:00:00Z";
const TODAY: (i64, u32, u32) = (2026, 12, 1);
const NOW_MIN: u32 = 10 * 60;

// ---- calendar arithmetic of this test (days since 1970-01-01) ----

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Monday 0 .. Sunday 6 (1970-01-01 was a Thursday).
fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

fn parse_day(s: &str) -> i64 {
    let p: Vec<&str> = s.split('-').collect();
    days_from_civil(
        p[0].parse().unwrap(),
        p[1].parse().unwrap(),
        p[2].parse().unwrap(),
    )
}

fn show_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn minutes(s: &str) -> u32 {
    let (h, m) = s.split_once(':').unwrap();
    h.parse::<u32>().unwrap() * 60 + m.parse::<u32>().unwrap()
}

const CODES: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// One schedule line, read from the JSON the test wrote.
struct Line {
    /// `(nth, weekday)`; nth 0 for every such weekday.
    byday: Vec<(i64, i64)>,
    once: Option<i64>,
    from: i64,
    to: i64,
    opens: u32,
    closes: u32,
}

impl Line {
    fn of(v: &Value) -> Line {
        let day = |k: &str| v[k].as_str().map(parse_day);
        let byday = v["byday"]
            .as_str()
            .map(|s| {
                s.split(',')
                    .map(|item| {
                        let (n, code) = item.split_at(item.len() - 2);
                        let w = CODES.iter().position(|c| *c == code).unwrap() as i64;
                        (if n.is_empty() { 0 } else { n.parse().unwrap() }, w)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Line {
            byday,
            once: day("date"),
            from: day("valid_from").unwrap_or(i64::MIN),
            to: day("valid_to").unwrap_or(i64::MAX),
            opens: minutes(v["opens_at"].as_str().unwrap()),
            closes: minutes(v["closes_at"].as_str().unwrap()),
        }
    }

    fn happens(&self, day: i64) -> bool {
        if let Some(d) = self.once {
            return d == day;
        }
        if day < self.from || day > self.to {
            return false;
        }
        let (y, m, d) = civil_from_days(day);
        let month_len = {
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)
        };
        self.byday.iter().any(|&(n, w)| {
            weekday(day) == w
                && match n {
                    0 => true,
                    -1 => d as i64 + 7 > month_len,
                    n => (d as i64 - 1) / 7 + 1 == n,
                }
        })
    }
}

/// An activity as the test wrote it, with its venue.
#[derive(Clone)]
struct Act {
    id: String,
    fields: Map<String, Value>,
    venue: Venue,
}

#[derive(Clone)]
struct Venue {
    id: String,
    lat: f64,
    lon: f64,
    wheelchair: String,
}

impl Act {
    fn lines(&self) -> Vec<Line> {
        self.fields["schedule"]
            .as_array()
            .unwrap()
            .iter()
            .map(Line::of)
            .collect()
    }

    fn public(&self) -> bool {
        self.fields["status"] == "published"
    }

    fn strs(&self, key: &str) -> Vec<String> {
        self.fields
            .get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }

    /// The next `n` sessions not over at AT: `(day, opens, closes)`.
    fn next(&self, n: usize) -> Vec<(i64, u32, u32)> {
        let today = days_from_civil(TODAY.0, TODAY.1, TODAY.2);
        let lines = self.lines();
        let mut out = Vec::new();
        for day in today..today + 401 {
            let mut todays: Vec<(i64, u32, u32)> = lines
                .iter()
                .filter(|l| l.happens(day) && (day > today || l.closes > NOW_MIN))
                .map(|l| (day, l.opens, l.closes))
                .collect();
            todays.sort();
            todays.dedup();
            out.extend(todays);
            if out.len() >= n {
                break;
            }
        }
        out.truncate(n);
        out
    }

    /// Whether one line has a session on a day of `from..=to`, on `weekday` if given,
    /// overlapping `window` if given.
    fn has_session(&self, from: i64, to: i64, wd: Option<i64>, window: Option<(u32, u32)>) -> bool {
        self.lines().iter().any(|l| {
            window.is_none_or(|(a, b)| l.opens < b && l.closes > a)
                && (from..=to).any(|d| wd.is_none_or(|w| weekday(d) == w) && l.happens(d))
        })
    }
}

/// A filter as the test computes it.
type Pred<'a> = Box<dyn Fn(&Act) -> bool + 'a>;

/// The venues: published libraries around London and Manchester, from the public API.
fn venues(app: &TestApp) -> Vec<Venue> {
    let mut out = Vec::new();
    for near in ["51.51,-0.13", "53.48,-2.24"] {
        let r = app.get(&format!("/v1/assets?near={near}&radius_m=25000&limit=120"));
        assert_eq!(r.status, 200, "{}", r.body);
        for v in r.json()["items"].as_array().unwrap() {
            out.push(Venue {
                id: v["id"].as_str().unwrap().into(),
                lat: v["lat"].as_f64().unwrap(),
                lon: v["lon"].as_f64().unwrap(),
                wheelchair: v["wheelchair"].as_str().unwrap().into(),
            });
        }
    }
    assert!(out.len() > 150, "{} venues", out.len());
    // Libraries rarely say how accessible they are: some are given step-free or limited
    // access, so that `wheelchair` has something to tell apart.
    app.add_user("curator", "admin", "a long curator passphrase");
    let auth = format!(
        "Bearer {}",
        app.token("curator", "a long curator passphrase")
    );
    for (i, v) in out.iter_mut().enumerate().filter(|(i, _)| i % 3 != 2) {
        let wheelchair = if i % 3 == 0 { "yes" } else { "limited" };
        let path = format!("/v1/admin/assets/{}", v.id);
        let etag = app.request("GET", &path, &[("Authorization", &auth)]);
        let r = app.send(
            "PATCH",
            &path,
            &[
                ("Authorization", &auth),
                ("If-Match", etag.header("etag").unwrap()),
                ("Content-Type", "application/merge-patch+json"),
            ],
            Some(&json!({ "wheelchair": wheelchair }).to_string()),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        v.wheelchair = wheelchair.into();
    }
    out
}

fn vocabulary(app: &TestApp) -> (HashSet<String>, HashSet<String>) {
    let mut c = app.store.conn().unwrap();
    let slugs = |t: Vec<community_assets::domain::activity::Term>| {
        t.into_iter().map(|t| t.slug).collect::<HashSet<_>>()
    };
    (
        slugs(activities::kinds(&mut c).unwrap()),
        slugs(activities::audiences(&mut c).unwrap()),
    )
}

/// Writes one activity through the store and refreshes the snapshot, as a write does.
fn create(app: &TestApp, fields: &Map<String, Value>) -> String {
    let (kinds, audiences) = vocabulary(app);
    let vocab = Vocabulary {
        kinds: &kinds,
        audiences: &audiences,
    };
    let parsed = ActivityFields::parse(fields, &vocab).unwrap();
    let a = activities::create(
        &mut app.store.conn().unwrap(),
        parsed,
        "test",
        "activity.create",
    )
    .unwrap();
    a.id.to_string()
}

/// The generated activities, written; with the test's own copy of each.
fn load(app: &TestApp, n: usize) -> Vec<Act> {
    let venues = venues(app);
    let by_id: HashMap<String, Venue> = venues.iter().map(|v| (v.id.clone(), v.clone())).collect();
    let pairs: Vec<(uuid::Uuid, String)> = venues
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let cat = ["library", "museum", "cinema", "arts_centre"][i % 4];
            (v.id.parse().unwrap(), cat.to_string())
        })
        .collect();
    let today = chrono::NaiveDate::from_ymd_opt(TODAY.0 as i32, TODAY.1, TODAY.2).unwrap();
    let mut out = Vec::new();
    for fields in generate_activities(&pairs, n, 42, today) {
        let id = create(app, &fields);
        let venue = by_id[fields["asset_id"].as_str().unwrap()].clone();
        out.push(Act { id, fields, venue });
    }
    app.state.refresh().unwrap();
    out
}

/// Every item of a search, page after page (`limit` a page), checking that the pages
/// cover it once and agree on the total.
fn all_pages(app: &TestApp, query: &str, limit: usize) -> Vec<Value> {
    let mut items: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut total = None;
    loop {
        let c = cursor
            .as_ref()
            .map_or(String::new(), |c| format!("&cursor={c}"));
        let r = app.get(&format!("/v1/activities?{query}&at={AT}&limit={limit}{c}"));
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        let page = r.json();
        let t = page["total"].as_u64().unwrap();
        assert_eq!(
            *total.get_or_insert(t),
            t,
            "{query}: the total changed between pages"
        );
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let ids: HashSet<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), items.len(), "{query}: an item on two pages");
    assert_eq!(
        items.len() as u64,
        total.unwrap(),
        "{query}: pages vs total"
    );
    items
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn activity_search_agrees_with_brute_force(backend: Backend) {
    let app = TestApp::with_libraries(backend);
    let acts = load(&app, 360);
    let public: Vec<&Act> = acts.iter().filter(|a| a.public()).collect();
    assert!(public.len() > 250);
    let today = days_from_civil(TODAY.0, TODAY.1, TODAY.2);
    let horizon = today + 400;
    let expect = |pred: &dyn Fn(&Act) -> bool| -> Vec<String> {
        sorted(
            public
                .iter()
                .filter(|a| pred(a))
                .map(|a| a.id.clone())
                .collect(),
        )
    };
    let (lat0, lon0, r0) = (51.51, -0.13, 6000.0);
    let dist = |a: &Act| brute_haversine(lat0, lon0, a.venue.lat, a.venue.lon);
    let audiences = |a: &Act, wanted: &[&str]| {
        a.strs("audiences")
            .iter()
            .any(|x| wanted.contains(&x.as_str()))
    };
    let age_ok = |a: &Act, age: u64| {
        a.fields
            .get("min_age")
            .and_then(Value::as_u64)
            .is_none_or(|m| age >= m)
            && a.fields
                .get("max_age")
                .and_then(Value::as_u64)
                .is_none_or(|m| age <= m)
    };

    // Nearby, nearest first: the set, the order by distance, the distances.
    let near_q = format!("near={lat0},{lon0}&radius_m={r0}");
    let items = all_pages(&app, &near_q, 17);
    assert_eq!(sorted(ids(&items)), expect(&|a| dist(a) <= r0), "near");
    assert!(items.len() > 20, "{} near", items.len());
    let mut last = (0.0, String::new());
    for i in &items {
        let a = acts.iter().find(|a| a.id == i["id"]).unwrap();
        let d = i["venue"]["distance_m"].as_f64().unwrap();
        assert!((d - dist(a)).abs() < 0.01, "distance {d} vs {}", dist(a));
        assert_eq!(i["venue"]["id"], a.venue.id.as_str());
        // Nearest first; at one distance (one venue), by id.
        if (d - last.0).abs() < 1e-9 {
            assert!(a.id > last.1, "ties by id");
        } else {
            assert!(d > last.0, "nearest first: {d} after {}", last.0);
        }
        last = (d, a.id.clone());
    }

    // The benchmark's query: nearby, on a weekday, for some audiences.
    let q = format!("{near_q}&day=tu&audience=older-people,dementia");
    let want = expect(&|a| {
        dist(a) <= r0
            && audiences(a, &["older-people", "dementia"])
            && a.has_session(today, horizon, Some(1), None)
    });
    assert!(!want.is_empty(), "{q}");
    assert_eq!(sorted(ids(&all_pages(&app, &q, 7))), want, "{q}");

    let checks: Vec<(String, Pred)> = vec![
        (
            "bbox=-0.3,51.4,0.1,51.6&kind=reading,crafts&cost=free".into(),
            Box::new(|a: &Act| {
                (-0.3..=0.1).contains(&a.venue.lon)
                    && (51.4..=51.6).contains(&a.venue.lat)
                    && ["reading", "crafts"].contains(&a.fields["kind"].as_str().unwrap())
                    && a.fields["cost"] == "free"
            }),
        ),
        (
            "q=Singing%20BREATHING&age=70".into(),
            Box::new(|a: &Act| {
                let text = format!(
                    "{} {}",
                    a.fields["name"].as_str().unwrap(),
                    a.fields
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                )
                .to_lowercase();
                text.contains("singing") && text.contains("breathing") && age_ok(a, 70)
            }),
        ),
        ("age=12".into(), Box::new(|a: &Act| age_ok(a, 12))),
        (
            "day=we&from_time=13:00&to_time=15:00".into(),
            Box::new(|a: &Act| a.has_session(today, horizon, Some(2), Some((780, 900)))),
        ),
        (
            "from_time=18:00".into(),
            Box::new(|a: &Act| a.has_session(today, horizon, None, Some((1080, 24 * 60)))),
        ),
        (
            "on=2026-12-08".into(),
            Box::new(|a: &Act| {
                let d = parse_day("2026-12-08");
                a.has_session(d, d, None, None)
            }),
        ),
        (
            "between=2026-12-01,2026-12-20&referral=gp".into(),
            Box::new(|a: &Act| {
                a.has_session(parse_day("2026-12-01"), parse_day("2026-12-20"), None, None)
                    && a.strs("referral").contains(&"gp".to_string())
            }),
        ),
        (
            "between=2027-01-01,2027-03-31&day=fr&to_time=12:00".into(),
            Box::new(|a: &Act| {
                a.has_session(
                    parse_day("2027-01-01"),
                    parse_day("2027-03-31"),
                    Some(4),
                    Some((0, 720)),
                )
            }),
        ),
        (
            "referral=self&audience=loneliness".into(),
            Box::new(|a: &Act| {
                a.strs("referral").contains(&"self".to_string()) && audiences(a, &["loneliness"])
            }),
        ),
        (
            format!("{near_q}&wheelchair=yes"),
            Box::new(|a: &Act| dist(a) <= r0 && a.venue.wheelchair == "yes"),
        ),
        (
            format!("{near_q}&wheelchair=limited&sort=next"),
            Box::new(|a: &Act| {
                dist(a) <= r0 && ["yes", "limited"].contains(&a.venue.wheelchair.as_str())
            }),
        ),
    ];
    for (q, pred) in &checks {
        let got = sorted(ids(&all_pages(&app, q, 11)));
        let want = expect(pred.as_ref());
        // Each filter selects some, not all: a check that cannot fail proves nothing.
        assert!(
            !want.is_empty() && want.len() < public.len(),
            "{q}: {} of {}",
            want.len(),
            public.len()
        );
        assert_eq!(got, want, "{q}");
    }

    // Without filters: every public activity, soonest next session first (none last, ties
    // by id), each with its next three sessions as the test's calendar has them.
    let items = all_pages(&app, "sort=next", 50);
    assert_eq!(sorted(ids(&items)), expect(&|_| true));
    let key = |a: &Act| a.next(1).first().map_or((i64::MAX, 0), |s| (s.0, s.1));
    let mut expected_order: Vec<&Act> = public.clone();
    expected_order.sort_by(|a, b| key(a).cmp(&key(b)).then(a.id.cmp(&b.id)));
    assert_eq!(
        ids(&items),
        expected_order
            .iter()
            .map(|a| a.id.clone())
            .collect::<Vec<_>>(),
        "sort=next"
    );
    for i in &items {
        let a = acts.iter().find(|a| a.id == i["id"]).unwrap();
        let want: Vec<Value> = a
            .next(3)
            .iter()
            .map(|(d, o, c)| {
                json!({"date": show_day(*d), "opens_at": format!("{:02}:{:02}", o / 60, o % 60),
                    "closes_at": format!("{:02}:{:02}", c / 60, c % 60)})
            })
            .collect();
        assert_eq!(i["next_occurrences"], Value::Array(want), "{}", a.id);
    }
    assert!(items
        .iter()
        .any(|i| i["next_occurrences"].as_array().unwrap().is_empty()));

    // One activity; a venue's activities, next first; unknown and unpublished ones are 404.
    let a = public[0];
    let r = app.get(&format!("/v1/activities/{}?at={AT}", a.id));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["name"], a.fields["name"]);
    let etag = r.header("etag").unwrap().to_string();
    let again = app.request(
        "GET",
        &format!("/v1/activities/{}?at={AT}", a.id),
        &[("If-None-Match", &etag)],
    );
    assert_eq!(again.status, 304);
    let hidden = acts.iter().find(|a| !a.public()).unwrap();
    assert_eq!(
        app.get(&format!("/v1/activities/{}", hidden.id)).status,
        404
    );
    assert_eq!(
        app.get(&format!("/v1/activities/{}", uuid::Uuid::new_v4()))
            .status,
        404
    );
    let r = app.get(&format!("/v1/assets/{}/activities?at={AT}", a.venue.id));
    assert_eq!(r.status, 200, "{}", r.body);
    let mut at_venue: Vec<&&Act> = public.iter().filter(|x| x.venue.id == a.venue.id).collect();
    at_venue.sort_by(|x, y| key(x).cmp(&key(y)).then(x.id.cmp(&y.id)));
    assert_eq!(
        ids(r.json()["items"].as_array().unwrap()),
        at_venue.iter().map(|a| a.id.clone()).collect::<Vec<_>>()
    );

    // Formats: GeoJSON at the venues, CSV with a row an item.
    let r = app.request(
        "GET",
        &format!("/v1/activities?{near_q}&limit=30&at={AT}"),
        &[("Accept", "application/geo+json")],
    );
    assert_eq!(r.status, 200);
    let fc = r.json();
    assert_eq!(fc["type"], "FeatureCollection");
    for f in fc["features"].as_array().unwrap() {
        let a = acts.iter().find(|a| a.id == f["id"]).unwrap();
        assert_eq!(
            f["geometry"]["coordinates"],
            json!([a.venue.lon, a.venue.lat])
        );
        assert_eq!(f["properties"]["kind"], a.fields["kind"]);
    }
    let r = app.get(&format!(
        "/v1/activities?{near_q}&limit=30&format=csv&at={AT}"
    ));
    assert_eq!(r.status, 200);
    let mut rdr = csv::Reader::from_reader(r.body.as_bytes());
    let header = rdr.headers().unwrap().clone();
    assert_eq!(&header[0], "id");
    assert_eq!(header.iter().next_back(), Some("distance_m"));
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), fc["features"].as_array().unwrap().len());
    assert_eq!(
        r.header("x-total-count"),
        Some(fc["total"].to_string().as_str())
    );

    // Vocabularies.
    let kinds = app.get("/v1/activity-kinds").json();
    assert!(kinds["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["slug"] == "music-singing"));
    let auds = app.get("/v1/audiences").json();
    assert!(auds["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["slug"] == "dementia"));

    // Every bad parameter is a 400 naming it.
    for (query, name) in [
        ("day=xx", "day"),
        ("age=121", "age"),
        ("age=-1", "age"),
        ("between=2026-12-10,2026-12-01", "between"),
        ("between=2026-01-01,2026-06-01", "between"),
        ("between=2026-01-01", "between"),
        ("on=2026-12-01&between=2026-12-01,2026-12-02", "between"),
        ("on=1/12/2026", "on"),
        ("from_time=25:00", "from_time"),
        ("from_time=14:00&to_time=13:00", "to_time"),
        ("kind=knitting", "kind"),
        ("audience=everyone", "audience"),
        ("referral=boss", "referral"),
        ("sort=distance", "sort"),
        ("sort=name", "sort"),
        ("radius_m=100", "radius_m"),
        ("cursor=nonsense", "cursor"),
        ("at=yesterday", "at"),
        ("limit=0", "limit"),
        ("near=91,0", "near"),
        ("bbox=1,2,3", "bbox"),
        ("cost=cheap", "cost"),
        ("wheelchair=maybe", "wheelchair"),
        ("colour=red", "colour"),
        ("near_postcode=not-a-postcode", "near_postcode"),
    ] {
        let r = app.get(&format!("/v1/activities?{query}"));
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{query}"
        );
        assert_eq!(
            r.json()["invalid-params"][0]["name"],
            name,
            "{query}: {}",
            r.body
        );
    }
    // A cursor of the other sort is refused, not misread.
    let first = app
        .get(&format!("/v1/activities?{near_q}&limit=2&at={AT}"))
        .json();
    let c = first["next_cursor"].as_str().unwrap();
    let r = app.get(&format!("/v1/activities?sort=next&cursor={c}"));
    assert_eq!(r.status, 400);
    // No postcodes imported: 409, as the asset search says.
    assert_eq!(
        app.get("/v1/activities?near_postcode=SW1A%202AA").status,
        409
    );
    assert_eq!(app.get("/v1/activities/not-a-uuid").status, 400);
    assert_eq!(app.get("/v1/assets/not-a-uuid/activities").status, 400);
    assert_eq!(
        app.get(&format!("/v1/assets/{}/activities", uuid::Uuid::new_v4()))
            .status,
        404
    );
}

fn writes_and_venue_changes_show_at_once(backend: Backend) {
    let app = TestApp::with_libraries(backend);
    let acts = load(&app, 60);
    let same_as_rebuild = |context: &str| {
        let d = app
            .state
            .snapshot
            .load()
            .differences(&full_snapshot(&app.store).unwrap());
        assert!(d.is_empty(), "{context}: {d:?}");
    };
    same_as_rebuild("after loading");
    let venue = acts[0].venue.clone();
    let near = |lat: f64, lon: f64| {
        format!("/v1/activities?near={lat},{lon}&radius_m=50&limit=200&at={AT}")
    };
    let found = |path: &str, id: &str| {
        let r = app.get(path);
        assert_eq!(r.status, 200, "{}", r.body);
        ids(r.json()["items"].as_array().unwrap()).contains(&id.to_string())
    };

    // A new activity is visible at once; a patch making it a draft hides it.
    let mut fields = acts[0].fields.clone();
    fields.insert("name".into(), json!("Pottery for carers"));
    fields.insert("status".into(), json!("published"));
    fields.remove("source_id");
    fields.remove("source");
    let id = create(&app, &fields);
    app.state.refresh().unwrap();
    assert_eq!(app.get(&format!("/v1/activities/{id}")).status, 200);
    assert!(found(&near(venue.lat, venue.lon), &id));
    assert!(found(&format!("/v1/activities?q=pottery&at={AT}"), &id));
    same_as_rebuild("after a create");
    let uuid: uuid::Uuid = id.parse().unwrap();
    activities::modify::<community_assets::store::StoreError>(
        &mut app.store.conn().unwrap(),
        &uuid,
        None,
        "test",
        "activity.update",
        |old| {
            let mut f = old.fields.clone();
            f.status = community_assets::domain::Status::Draft;
            Ok(f)
        },
    )
    .unwrap();
    app.state.refresh().unwrap();
    assert_eq!(app.get(&format!("/v1/activities/{id}")).status, 404);
    assert!(!found(&near(venue.lat, venue.lon), &id));
    same_as_rebuild("after a patch to draft");
    activities::modify::<community_assets::store::StoreError>(
        &mut app.store.conn().unwrap(),
        &uuid,
        None,
        "test",
        "activity.update",
        |old| {
            let mut f = old.fields.clone();
            f.status = community_assets::domain::Status::Published;
            Ok(f)
        },
    )
    .unwrap();
    app.state.refresh().unwrap();
    assert!(found(&near(venue.lat, venue.lon), &id));

    // The venue moves: its activities follow; renamed: the items say so.
    app.add_user("root", "admin", "a long admin passphrase");
    let auth = format!("Bearer {}", app.token("root", "a long admin passphrase"));
    let etag = app
        .request(
            "GET",
            &format!("/v1/admin/assets/{}", venue.id),
            &[("Authorization", &auth)],
        )
        .header("etag")
        .unwrap()
        .to_string();
    let (lat, lon) = (venue.lat + 0.05, venue.lon + 0.05);
    let r = app.send(
        "PATCH",
        &format!("/v1/admin/assets/{}", venue.id),
        &[
            ("Authorization", &auth),
            ("If-Match", &etag),
            ("Content-Type", "application/merge-patch+json"),
        ],
        Some(&json!({"lat": lat, "lon": lon, "name": "The Moved Library"}).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!found(&near(venue.lat, venue.lon), &id));
    assert!(found(&near(lat, lon), &id));
    let item = app.get(&format!("/v1/activities/{id}")).json();
    assert_eq!(item["venue"]["name"], "The Moved Library");
    assert_eq!(item["venue"]["lat"], json!(lat));
    same_as_rebuild("after the venue moved");

    // The venue archived: its activities are hidden everywhere; restored (a draft) still
    // hidden; published, they are back.
    let r = app.send(
        "DELETE",
        &format!("/v1/admin/assets/{}", venue.id),
        &[("Authorization", &auth)],
        None,
    );
    assert!(r.status < 300, "{}", r.body);
    assert_eq!(app.get(&format!("/v1/activities/{id}")).status, 404);
    assert!(!found(&near(lat, lon), &id));
    assert!(!found(&format!("/v1/activities?q=pottery&at={AT}"), &id));
    assert_eq!(
        app.get(&format!("/v1/assets/{}/activities", venue.id))
            .status,
        404
    );
    same_as_rebuild("after the venue was archived");
    let r = app.send(
        "POST",
        &format!("/v1/admin/assets/{}/restore", venue.id),
        &[("Authorization", &auth)],
        None,
    );
    assert!(r.status < 300, "{}", r.body);
    assert!(!found(&near(lat, lon), &id));
    let r = app.send(
        "POST",
        &format!("/v1/admin/assets/{}/publish", venue.id),
        &[("Authorization", &auth)],
        None,
    );
    assert!(r.status < 300, "{}", r.body);
    assert!(found(&near(lat, lon), &id));
    assert_eq!(app.get(&format!("/v1/activities/{id}")).status, 200);
    same_as_rebuild("after the venue was published again");
}
