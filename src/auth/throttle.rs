//! Slows down password guessing: after a few failures for a username or from a client
//! address, further attempts are refused (429 with `Retry-After`) for a delay that doubles
//! with each failure, up to 15 minutes. A success clears the username's record. In memory:
//! each instance counts its own attempts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FREE_FAILURES: u32 = 3;
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Records kept at most; the oldest expired ones go first when full.
const MAX_KEYS: usize = 100_000;

#[derive(Default)]
pub struct Throttle {
    keys: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// How long `key` must still wait, if it must.
    pub fn wait(&self, key: &str) -> Option<Duration> {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let (_, until) = keys.get(key)?;
        until.checked_duration_since(Instant::now())
    }

    pub fn failed(&self, key: &str) {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.len() >= MAX_KEYS {
            let now = Instant::now();
            keys.retain(|_, (_, until)| *until > now);
        }
        let entry = keys.entry(key.to_string()).or_insert((0, Instant::now()));
        entry.0 += 1;
        if entry.0 > FREE_FAILURES {
            let delay = Duration::from_secs(1 << (entry.0 - FREE_FAILURES - 1).min(10));
            entry.1 = Instant::now() + delay.min(MAX_DELAY);
        }
    }

    pub fn succeeded(&self, key: &str) {
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
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
        if keys.len() >= MAX_KEYS {
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

    #[test]
    fn delays_after_the_free_failures_and_clears_on_success() {
        let t = Throttle::default();
        for _ in 0..3 {
            t.failed("u");
            assert_eq!(t.wait("u"), None);
        }
        t.failed("u");
        assert!(t.wait("u").is_some_and(|d| d <= Duration::from_secs(1)));
        t.failed("u");
        assert!(t.wait("u").is_some_and(|d| d > Duration::from_secs(1)));
        t.succeeded("u");
        assert_eq!(t.wait("u"), None);
    }
}
