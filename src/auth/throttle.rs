//! Slows down password guessing without letting anyone lock a real user out.
//!
//! Every login attempt is counted as a failure *before* its password is checked (so
//! guesses sent in parallel are counted too) and the count is taken back when the
//! password was right, or when the attempt was never checked (the server was too busy,
//! the client hung up). Three counts are kept, each with its own free failures; past
//! them, each further attempt must wait twice as long as the last (1 s, 2 s, 4 s … up to
//! 15 minutes; 429 with `Retry-After`):
//!
//! - per username **and** client address (3 free failures): the guesser at one address is
//!   slowed down, and only there;
//! - per client address, whatever the username (20 free failures; an IPv6 address counts
//!   by its /64): one address spraying many usernames;
//! - per username, from addresses that have not logged in to that account before
//!   (10 free failures): guessing one account from many addresses. A client address that
//!   logged in successfully to an account (in the last 30 days, on this instance) is
//!   *known good* for it and is never held back by this count, so failures elsewhere
//!   never keep the real user out of their usual place.
//!
//! A success clears its username-and-address count and makes the address known good for
//! the account. A count is forgotten an hour after its last wait ended. Every table is
//! bounded ([`MAX_RECORDS`]): when full, expired records go first, then the longest quiet
//! quarter. Each instance counts its own attempts, in memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest wait.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// A count is forgotten once its wait has been over this long with no new failure.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// How long a successful login makes its address known good for its account.
const KNOWN_GOOD_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Records kept at most in each table (a record is under 200 bytes).
pub const MAX_RECORDS: usize = 100_000;

/// Free failures per username and address.
pub const FREE_PER_USER_AND_ADDRESS: u32 = 3;
/// Free failures per address, whatever the username.
pub const FREE_PER_ADDRESS: u32 = 20;
/// Free failures per username from addresses not known good for it.
pub const FREE_PER_USER: u32 = 10;

#[derive(Clone, Copy)]
struct Record {
    failures: u32,
    /// Until when further attempts are refused.
    until: Instant,
    /// The last failure, or the last success for a known-good address.
    last: Instant,
}

impl Record {
    fn forgotten_at(&self) -> Instant {
        self.until.max(self.last) + FORGET_AFTER
    }
}

/// One count, bounded in size.
struct Table {
    free: u32,
    records: HashMap<String, Record>,
}

impl Table {
    fn new(free: u32) -> Self {
        Table {
            free,
            records: HashMap::new(),
        }
    }

    fn wait(&self, key: &str, now: Instant) -> Option<Duration> {
        let r = self.records.get(key)?;
        r.until.checked_duration_since(now).filter(|d| !d.is_zero())
    }

    /// Counts one failure (and sets the wait once the free ones are used up).
    fn count(&mut self, key: &str, now: Instant) {
        if !self.records.contains_key(key) {
            make_room(&mut self.records, now, Record::forgotten_at);
        }
        let r = self.records.entry(key.to_string()).or_insert(Record {
            failures: 0,
            until: now,
            last: now,
        });
        if r.forgotten_at() <= now {
            (r.failures, r.until) = (0, now);
        }
        r.failures = r.failures.saturating_add(1);
        r.last = now;
        if r.failures > self.free {
            let doublings = (r.failures - self.free - 1).min(20);
            let delay = Duration::from_secs(1u64 << doublings).min(MAX_DELAY);
            r.until = r.until.max(now + delay);
        }
    }

    /// Takes back one counted failure (the attempt was not a failure after all); back
    /// within the free failures, there is no wait either.
    fn uncount(&mut self, key: &str, now: Instant) {
        if let Some(r) = self.records.get_mut(key) {
            r.failures = r.failures.saturating_sub(1);
            if r.failures <= self.free {
                r.until = r.until.min(now);
            }
        }
    }

    fn clear(&mut self, key: &str) {
        self.records.remove(key);
    }
}

/// Makes room for one more record when `records` is full: the expired ones go (those
/// whose `expiry` has passed), then, if that was not enough, the quarter quiet longest.
fn make_room(
    records: &mut HashMap<String, Record>,
    now: Instant,
    expiry: impl Fn(&Record) -> Instant,
) {
    if records.len() < MAX_RECORDS {
        return;
    }
    records.retain(|_, r| expiry(r) > now);
    if records.len() >= MAX_RECORDS {
        let mut lasts: Vec<Instant> = records.values().map(|r| r.last).collect();
        let quarter = lasts.len() / 4;
        let (_, &mut cut, _) = lasts.select_nth_unstable(quarter);
        records.retain(|_, r| r.last > cut);
    }
}

struct Tables {
    user_and_address: Table,
    address: Table,
    user: Table,
    /// `user address` of successful logins, with when.
    known_good: HashMap<String, Record>,
}

/// The failed-login throttle (see the module's documentation).
pub struct LoginThrottle {
    tables: Mutex<Tables>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            tables: Mutex::new(Tables {
                user_and_address: Table::new(FREE_PER_USER_AND_ADDRESS),
                address: Table::new(FREE_PER_ADDRESS),
                user: Table::new(FREE_PER_USER),
                known_good: HashMap::new(),
            }),
        }
    }
}

/// The keys one attempt is counted under.
struct Keys {
    /// `username address`; `None` for a username that cannot exist.
    user_and_address: Option<String>,
    address: String,
    /// The username, when the address is not known good for it.
    user: Option<String>,
}

impl LoginThrottle {
    /// Counts a login attempt from `address` before its password is checked, or says how
    /// long the client must wait. `username` is `None` when it is not a valid username
    /// (it is then counted against the address only, and never kept). Settle the
    /// attempt with [`Attempt::failed`] or [`Attempt::succeeded`]; dropped unsettled, it
    /// is taken back.
    pub fn begin(&self, username: Option<&str>, address: &str) -> Result<Attempt<'_>, Duration> {
        let now = Instant::now();
        let address = address_key(address);
        let mut t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let user_and_address = username.map(|u| format!("{u} {address}"));
        let known_good = user_and_address.as_ref().is_some_and(|k| {
            t.known_good
                .get(k)
                .is_some_and(|r| r.last + KNOWN_GOOD_FOR > now)
        });
        let keys = Keys {
            user: username.filter(|_| !known_good).map(str::to_string),
            user_and_address,
            address,
        };
        let wait = [
            keys.user_and_address
                .as_deref()
                .and_then(|k| t.user_and_address.wait(k, now)),
            t.address.wait(&keys.address, now),
            keys.user.as_deref().and_then(|k| t.user.wait(k, now)),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        if let Some(k) = &keys.user_and_address {
            t.user_and_address.count(k, now);
        }
        t.address.count(&keys.address, now);
        if let Some(k) = &keys.user {
            t.user.count(k, now);
        }
        Ok(Attempt {
            throttle: self,
            keys,
            settled: false,
        })
    }

    /// Records kept in all tables, for tests and metrics.
    pub fn records(&self) -> usize {
        let t = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        t.user_and_address.records.len()
            + t.address.records.len()
            + t.user.records.len()
            + t.known_good.len()
    }
}

/// The address as counted: an IPv6 address by its /64 (one subscriber's usual share).
fn address_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(ip) => ip.to_canonical().to_string(),
        Err(_) => "unknown".into(),
    }
}

/// A login attempt counted as a failure until it is settled.
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    keys: Keys,
    settled: bool,
}

impl Attempt<'_> {
    /// The password was wrong (or the account disabled): the counts stay.
    pub fn failed(mut self) {
        self.settled = true;
    }

    /// The password was right: the username-and-address count is cleared, this attempt is
    /// taken back from the others, and the address becomes known good for the account.
    pub fn succeeded(mut self) {
        self.settled = true;
        let now = Instant::now();
        let mut t = self.throttle.lock();
        t.address.uncount(&self.keys.address, now);
        if let Some(k) = &self.keys.user {
            t.user.uncount(k, now);
        }
        if let Some(k) = &self.keys.user_and_address {
            t.user_and_address.clear(k);
            if !t.known_good.contains_key(k) {
                make_room(&mut t.known_good, now, |r| r.last + KNOWN_GOOD_FOR);
            }
            t.known_good.insert(
                k.clone(),
                Record {
                    failures: 0,
                    until: now,
                    last: now,
                },
            );
        }
    }
}

impl Drop for Attempt<'_> {
    /// Unsettled: the password was never checked, so the attempt is taken back.
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let now = Instant::now();
        let mut t = self.throttle.lock();
        if let Some(k) = &self.keys.user_and_address {
            t.user_and_address.uncount(k, now);
        }
        t.address.uncount(&self.keys.address, now);
        if let Some(k) = &self.keys.user {
            t.user.uncount(k, now);
        }
    }
}

impl LoginThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// At most `limit` actions per key in each window (e.g. suggestions per client address
/// per hour); refusals say how long until the window ends.
pub struct Quota {
    limit: u32,
    window: Duration,
    keys: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Quota {
    pub fn new(limit: u32, window: Duration) -> Self {
        Quota {
            limit,
            window,
            keys: Mutex::default(),
        }
    }

    /// Counts one action, or says how long to wait.
    pub fn take(&self, key: &str) -> Result<(), Duration> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if keys.len() >= MAX_RECORDS {
            keys.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let (start, count) = keys.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(*start) >= self.window {
            (*start, *count) = (now, 0);
        }
        if *count >= self.limit {
            return Err(self.window - now.duration_since(*start));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(t: &LoginThrottle, user: Option<&str>, addr: &str) -> Result<(), Duration> {
        t.begin(user, addr).map(Attempt::failed)
    }

    #[test]
    fn delays_after_the_free_failures_and_clears_on_success() {
        let t = LoginThrottle::default();
        for _ in 0..4 {
            assert_eq!(fail(&t, Some("u"), "10.0.0.1"), Ok(()));
        }
        let wait = t.begin(Some("u"), "10.0.0.1").err().unwrap();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        // Another address, and another user at this address, are not held back.
        t.begin(Some("u"), "10.0.0.2").unwrap().succeeded();
        assert!(t.begin(Some("v"), "10.0.0.1").is_ok());
    }

    #[test]
    fn attempts_are_counted_before_they_are_checked() {
        let t = LoginThrottle::default();
        let in_flight: Vec<_> = (0..4)
            .map(|_| t.begin(Some("u"), "10.0.0.1").unwrap())
            .collect();
        assert!(
            t.begin(Some("u"), "10.0.0.1").is_err(),
            "parallel guesses count"
        );
        drop(in_flight); // never checked: taken back
        assert!(fail(&t, Some("u"), "10.0.0.1").is_ok());
    }

    #[test]
    fn failures_elsewhere_never_hold_back_a_known_good_address() {
        let t = LoginThrottle::default();
        t.begin(Some("admin"), "192.0.2.1").unwrap().succeeded();
        for i in 0..50 {
            let _ = fail(&t, Some("admin"), &format!("198.51.100.{i}"));
        }
        assert!(
            t.begin(Some("admin"), "198.51.100.200").is_err(),
            "a new address is held back once the account is under attack"
        );
        assert!(
            t.begin(Some("admin"), "192.0.2.1").is_ok(),
            "not the known one"
        );
    }

    #[test]
    fn one_address_spraying_usernames_is_held_back() {
        let t = LoginThrottle::default();
        for i in 0..FREE_PER_ADDRESS + 1 {
            fail(&t, Some(&format!("user{i}")), "2001:db8::1").unwrap();
        }
        assert!(t.begin(Some("another"), "2001:db8::2").is_err(), "same /64");
        assert!(
            t.begin(None, "2001:db8::3").is_err(),
            "invalid names count too"
        );
        assert!(t.begin(Some("another"), "2001:db9::1").is_ok());
    }

    #[test]
    fn tables_stay_bounded() {
        let t = LoginThrottle::default();
        for i in 0..(MAX_RECORDS as u32 + 10) {
            let addr = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
            fail(&t, Some(&format!("u{i}")), &addr).ok();
        }
        let t = t.tables.lock().unwrap();
        assert!(t.user_and_address.records.len() <= MAX_RECORDS);
        assert!(t.address.records.len() <= MAX_RECORDS);
        assert!(t.user.records.len() <= MAX_RECORDS);
    }
}
