//! HSDS schedules as this directory's times: a venue's opening hours (OpenStreetMap
//! syntax) and an activity's schedule lines.

use serde_json::Value;

use super::json::text;
use crate::domain::Hours;

/// An HSDS schedule as an activity schedule line: a weekly or monthly recurrence (every
/// week or month, days in `byday`, times, optional validity), or one date (`dtstart` or
/// equal `valid_from` and `valid_to`, no `freq`).
pub(super) fn schedule_entry(s: &Value) -> Result<Value, String> {
    let s = s.as_object().ok_or("not an object")?;
    let (Some(opens), Some(closes)) = (clock(&text(s, "opens_at")), clock(&text(s, "closes_at")))
    else {
        return Err("no opens_at and closes_at as HH:MM".into());
    };
    let date = |k: &str| {
        let d = text(s, k);
        let d = d.get(..10).unwrap_or(&d).to_string();
        chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .ok()
            .map(|_| d)
    };
    let freq = text(s, "freq").to_ascii_uppercase();
    if freq.is_empty() {
        let day = date("dtstart").or_else(|| match (date("valid_from"), date("valid_to")) {
            (Some(a), Some(b)) if a == b => Some(a),
            _ => None,
        });
        return match day {
            Some(d) => Ok(json_entry([
                ("date", d),
                ("opens_at", opens),
                ("closes_at", closes),
            ])),
            None => Err("neither a recurrence (freq) nor one date".into()),
        };
    }
    if freq != "WEEKLY" && freq != "MONTHLY" {
        return Err(format!("freq {freq} (only WEEKLY and MONTHLY)"));
    }
    let interval = text(s, "interval");
    if !(interval.is_empty() || interval == "1") {
        return Err(format!("repeats every {interval} periods"));
    }
    if let Some(k) = ["bymonthday", "byyearday", "byweekno", "count"]
        .into_iter()
        .find(|k| !text(s, k).is_empty())
    {
        return Err(format!("has {k}, which an activity schedule cannot say"));
    }
    let byday = text(s, "byday").replace(' ', "").to_ascii_uppercase();
    if byday.is_empty() {
        return Err("no byday".into());
    }
    let mut fields = vec![
        ("freq", freq),
        ("byday", byday),
        ("opens_at", opens),
        ("closes_at", closes),
    ];
    if let Some(d) = date("valid_from").or_else(|| date("dtstart")) {
        fields.push(("valid_from", d));
    }
    if let Some(d) = date("valid_to").or_else(|| date("until")) {
        fields.push(("valid_to", d));
    }
    Ok(json_entry(fields))
}

pub(super) fn json_entry(fields: impl IntoIterator<Item = (&'static str, String)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect(),
    )
}

/// How our own `/oruk` feed starts a schedule's description: the venue's opening hours in
/// OpenStreetMap syntax follow, whole (public holidays and all), which no weekly record
/// can say.
pub const OUR_HOURS: &str = "Opening hours (OpenStreetMap syntax, Europe/London time):";

pub(super) const DAYS: [(&str, &str); 7] = [
    ("MO", "Mo"),
    ("TU", "Tu"),
    ("WE", "We"),
    ("TH", "Th"),
    ("FR", "Fr"),
    ("SA", "Sa"),
    ("SU", "Su"),
];

/// `HH:MM` of `HH:MM` or `HH:MM:00`.
pub(super) fn clock(t: &str) -> Option<String> {
    let t = t.trim();
    let hm = match t.len() {
        5 => t,
        8 if t.ends_with(":00") => &t[..5],
        _ => return None,
    };
    let (h, m) = hm.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && (h < 24 || m == 0)).then(|| format!("{h:02}:{m:02}"))
}

/// HSDS schedules as OpenStreetMap opening hours, when each is a plain weekly rule
/// (`freq` WEEKLY, interval 1, `byday` of plain days, `opens_at` and `closes_at`, and no
/// end or other recurrence parts); else why not.
pub fn weekly_hours(schedules: &[Value]) -> Result<String, String> {
    let mut ranges: [Vec<String>; 7] = Default::default();
    for s in schedules {
        let s = s.as_object().ok_or("a schedule is not an object")?;
        let freq = text(s, "freq");
        if !freq.eq_ignore_ascii_case("weekly") {
            return Err(format!(
                "a schedule is not weekly (freq {})",
                if freq.is_empty() {
                    "absent".into()
                } else {
                    freq
                }
            ));
        }
        let interval = text(s, "interval");
        if !(interval.is_empty() || interval == "1") {
            return Err(format!("a schedule repeats every {interval} weeks"));
        }
        let extra = [
            "bymonthday",
            "byyearday",
            "byweekno",
            "count",
            "until",
            "valid_to",
        ]
        .into_iter()
        .find(|k| !text(s, k).is_empty());
        if let Some(k) = extra {
            return Err(format!(
                "a schedule has {k}, which opening hours cannot say"
            ));
        }
        let byday = text(s, "byday");
        let (opens, closes) = (text(s, "opens_at"), text(s, "closes_at"));
        let (Some(o), Some(c)) = (clock(&opens), clock(&closes)) else {
            return Err("a schedule lacks opens_at and closes_at as HH:MM".into());
        };
        if byday.is_empty() {
            return Err("a schedule has no byday".into());
        }
        for d in byday.split(',') {
            let d = d.trim().to_ascii_uppercase();
            let i = DAYS
                .iter()
                .position(|(code, _)| *code == d)
                .ok_or_else(|| format!("byday {d:?} is not a plain day (MO to SU)"))?;
            ranges[i].push(format!("{o}-{c}"));
        }
    }
    let mut rules: Vec<String> = Vec::new();
    let mut i = 0;
    while i < 7 {
        ranges[i].sort();
        ranges[i].dedup();
        if ranges[i].is_empty() {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < 7 && {
            ranges[j + 1].sort();
            ranges[j + 1].dedup();
            ranges[j + 1] == ranges[i]
        } {
            j += 1;
        }
        let days = match j - i {
            0 => DAYS[i].1.to_string(),
            1 => format!("{},{}", DAYS[i].1, DAYS[j].1),
            _ => format!("{}-{}", DAYS[i].1, DAYS[j].1),
        };
        rules.push(format!("{days} {}", ranges[i].join(",")));
        i = j + 1;
    }
    let hours = rules.join("; ");
    Hours::parse(&hours).map_err(|e| format!("{hours:?} {e}"))?;
    Ok(hours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn weekly_schedules_become_opening_hours() {
        let s = json!([
            {"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR", "opens_at": "09:00:00", "closes_at": "17:00:00"},
            {"freq": "WEEKLY", "byday": "SA", "opens_at": "10:00", "closes_at": "13:00"},
            {"freq": "WEEKLY", "byday": "SA", "opens_at": "14:00", "closes_at": "16:00"},
            {"freq": "WEEKLY", "byday": "MO", "opens_at": "09:00", "closes_at": "17:00"}
        ]);
        assert_eq!(
            weekly_hours(s.as_array().unwrap()).unwrap(),
            "Mo-Fr 09:00-17:00; Sa 10:00-13:00,14:00-16:00"
        );
        let monthly =
            json!([{"freq": "MONTHLY", "byday": "1TU", "opens_at": "10:00", "closes_at": "11:00"}]);
        assert!(weekly_hours(monthly.as_array().unwrap())
            .unwrap_err()
            .contains("not weekly"));
        let ended = json!([{"freq": "WEEKLY", "byday": "TH,FR", "opens_at": "10:00:00",
            "closes_at": "18:00:00", "valid_to": "2005-01-01"}]);
        assert!(weekly_hours(ended.as_array().unwrap())
            .unwrap_err()
            .contains("valid_to"));
    }

    #[test]
    fn hsds_schedules_become_activity_schedule_lines() {
        let weekly = json!({"freq": "WEEKLY", "byday": "TU, TH", "opens_at": "14:00:00",
            "closes_at": "15:30:00", "valid_from": "2026-09-01", "valid_to": "2026-12-15"});
        assert_eq!(
            schedule_entry(&weekly).unwrap(),
            json!({"freq": "WEEKLY", "byday": "TU,TH", "opens_at": "14:00", "closes_at": "15:30",
                "valid_from": "2026-09-01", "valid_to": "2026-12-15"})
        );
        let monthly =
            json!({"freq": "MONTHLY", "byday": "1TU", "opens_at": "10:00", "closes_at": "12:00"});
        assert_eq!(schedule_entry(&monthly).unwrap()["byday"], "1TU");
        let once = json!({"dtstart": "2026-12-03", "opens_at": "18:00", "closes_at": "20:00"});
        assert_eq!(
            schedule_entry(&once).unwrap(),
            json!({"date": "2026-12-03", "opens_at": "18:00", "closes_at": "20:00"})
        );
        let fortnightly = json!({"freq": "WEEKLY", "interval": 2, "byday": "MO", "opens_at": "10:00", "closes_at": "11:00"});
        assert!(schedule_entry(&fortnightly).is_err());
        assert!(schedule_entry(&json!({"freq": "WEEKLY", "byday": "MO"})).is_err());
    }
}
