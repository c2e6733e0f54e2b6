//! OpenStreetMap `opening_hours` values, evaluated in Europe/London.

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, Utc};
use opening_hours::localization::Country;
use opening_hours::{Context, OpeningHours, RuleKind};
use std::sync::LazyLock;

/// The UK public-holiday calendar, so that `PH off` means what it says.
static UK_CONTEXT: LazyLock<Context> =
    LazyLock::new(|| Context::default().with_holidays(Country::GB.holidays()));

/// A parsed `opening_hours` expression.
#[derive(Clone)]
pub struct Hours(OpeningHours);

impl Hours {
    /// Parses OSM `opening_hours` syntax; the error says why it is not valid.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let oh = raw.parse::<OpeningHours>().map_err(|e| {
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("syntax error").trim();
            format!("is not valid opening_hours syntax: {first}")
        })?;
        Ok(Self(oh.with_context(UK_CONTEXT.clone())))
    }

    /// Whether the place is open at this local (Europe/London) wall-clock time.
    /// "Unknown" rules (e.g. `open "call ahead"` with `unknown`) count as not open.
    pub fn is_open_at(&self, local: NaiveDateTime) -> bool {
        self.0.is_open(local)
    }

    /// The open intervals of each day of the week that starts on `monday` (Monday first),
    /// in minutes after local midnight, end exclusive, cut at midnight (a range past
    /// midnight, e.g. `22:00-02:00`, counts on its first day only). "Unknown" ranges are
    /// not open. For publishing hours as weekly records (Open Referral schedules).
    pub fn week(&self, monday: NaiveDate) -> [Vec<(u16, u16)>; 7] {
        std::array::from_fn(|d| {
            let date = monday + Days::new(d as u64);
            self.0
                .schedule_at(date)
                .into_iter()
                .filter(|r| r.kind == RuleKind::Open)
                .filter_map(|r| {
                    let (s, e) = (r.range.start, r.range.end);
                    let start = u16::from(s.hour()) * 60 + u16::from(s.minute());
                    let end = (u16::from(e.hour()) * 60 + u16::from(e.minute())).min(24 * 60);
                    (start < end).then_some((start, end))
                })
                .collect()
        })
    }
}

/// The Europe/London wall-clock time of an instant: opening hours are written in local time.
pub fn london_time(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&chrono_tz::Europe::London).naive_local()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_repeat_interval_of_a_whole_day_is_an_error_not_a_panic() {
        // Found by the opening_hours fuzz target.
        assert!(Hours::parse("10:00-18:00/24:00").is_err());
    }

    #[test]
    fn evaluates_in_london_time_across_daylight_saving() {
        let h = Hours::parse("Mo-Fr 09:00-17:00").unwrap();
        // 2026-07-01 is a Wednesday; 08:30 UTC is 09:30 BST, so open.
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 8, 30, 0).unwrap();
        assert!(h.is_open_at(london_time(summer)));
        // 2026-01-07 is a Wednesday; 08:30 UTC is 08:30 GMT, so closed.
        let winter = Utc.with_ymd_and_hms(2026, 1, 7, 8, 30, 0).unwrap();
        assert!(!h.is_open_at(london_time(winter)));
    }

    #[test]
    fn public_holidays_are_known() {
        let h = Hours::parse("Mo-Su 10:00-16:00; PH off").unwrap();
        // Christmas Day 2026 is a Friday.
        let xmas = Utc.with_ymd_and_hms(2026, 12, 25, 12, 0, 0).unwrap();
        assert!(!h.is_open_at(london_time(xmas)));
        let day_before = Utc.with_ymd_and_hms(2026, 12, 24, 12, 0, 0).unwrap();
        assert!(h.is_open_at(london_time(day_before)));
    }

    #[test]
    fn a_week_of_intervals_day_by_day() {
        let h =
            Hours::parse("Mo-Fr 09:00-12:30,13:30-17:00; Sa 10:00-16:00; Su off; PH off").unwrap();
        // 2026-06-08 is a Monday, in a week without public holidays.
        let w = h.week(NaiveDate::from_ymd_opt(2026, 6, 8).unwrap());
        for day in &w[..5] {
            assert_eq!(day, &vec![(540, 750), (810, 1020)]);
        }
        assert_eq!(w[5], vec![(600, 960)]);
        assert!(w[6].is_empty());
        let late = Hours::parse("Fr 20:00-02:00").unwrap();
        let w = late.week(NaiveDate::from_ymd_opt(2026, 6, 8).unwrap());
        assert_eq!(w[4], vec![(1200, 1440)]);
    }

    #[test]
    fn rejects_garbage() {
        assert!(Hours::parse("whenever we feel like it").is_err());
        assert!(Hours::parse("Mo-Fr 25:00-26:00x").is_err());
    }
}
