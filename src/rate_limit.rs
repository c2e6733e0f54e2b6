//! Rate limits per client address and per API key, and who the client is behind a proxy.
//!
//! Each limit is a token bucket holding N requests and refilled at N a minute, so a client
//! may burst up to N and then keeps N a minute. In memory: each instance counts its own
//! requests (behind a load balancer spreading evenly over k instances a client gets up to
//! k×N; set N accordingly).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::LimitSettings;

/// Buckets kept at most; full (idle) ones are dropped first when there are more.
const MAX_BUCKETS: usize = 100_000;

/// The limits and the buckets; 0 switches a limit off.
pub struct RateLimits {
    pub per_address: u32,
    pub per_key: u32,
    /// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    trusted: Vec<(IpAddr, u8)>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A request admitted: its bucket's limit and what is left of it.
#[derive(Debug)]
pub struct Allowance {
    pub limit: u32,
    pub remaining: u32,
}

impl RateLimits {
    pub fn new(settings: &LimitSettings) -> Self {
        RateLimits {
            per_address: settings.per_address,
            per_key: settings.per_key,
            trusted: settings.trusted_proxies.clone(),
            buckets: Mutex::default(),
        }
    }

    /// Takes one request from `key`'s bucket of `limit` a minute (0: unlimited), or says
    /// how long until one is available.
    pub fn take(&self, key: &str, limit: u32) -> Result<Option<Allowance>, Duration> {
        if limit == 0 {
            return Ok(None);
        }
        let (capacity, per_second) = (f64::from(limit), f64::from(limit) / 60.0);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            // Idle buckets are full again; dropping them forgets nothing.
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.at).as_secs_f64() * per_second < capacity
            });
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refilled).min(capacity);
        bucket.at = now;
        if bucket.tokens < 1.0 {
            return Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second));
        }
        bucket.tokens -= 1.0;
        Ok(Some(Allowance {
            limit,
            remaining: bucket.tokens as u32,
        }))
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the last
    /// address in `X-Forwarded-For` that is not one (the first ones are the client's to
    /// forge).
    pub fn client(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> String {
        let Some(mut ip) = peer else {
            return "unknown".into();
        };
        if self.is_trusted(ip) {
            for hop in forwarded_for.unwrap_or("").rsplit(',') {
                match hop.trim().parse::<IpAddr>() {
                    Ok(hop) if self.is_trusted(hop) => ip = hop,
                    Ok(hop) => {
                        ip = hop;
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
        ip.to_string()
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted
            .iter()
            .any(|&(net, bits)| in_block(ip, net, bits))
    }
}

fn in_block(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let prefix = |a: u128, width: u32| {
        if bits == 0 {
            0
        } else {
            a >> (width - u32::from(bits))
        }
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            prefix(u32::from(a).into(), 32) == prefix(u32::from(b).into(), 32)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => prefix(u128::from(a), 128) == prefix(u128::from(b), 128),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_bursts_then_refills() {
        let limits = RateLimits::new(&LimitSettings::off());
        for i in 0..60 {
            let a = limits.take("ip:a", 60).unwrap().unwrap();
            assert_eq!(a.remaining, 59 - i);
        }
        let wait = limits.take("ip:a", 60).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(900));
        assert!(limits.take("ip:b", 60).is_ok(), "buckets are per key");
        assert!(limits.take("ip:a", 0).unwrap().is_none(), "0 is no limit");
    }

    #[test]
    fn forwarded_for_is_believed_from_trusted_proxies_only() {
        let limits = RateLimits::new(&LimitSettings {
            per_address: 1,
            per_key: 1,
            trusted_proxies: vec![crate::config::parse_cidr("10.0.0.0/8").unwrap()],
        });
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        let xff = Some("198.51.100.1, 192.0.2.7, 10.9.9.9");
        assert_eq!(limits.client(Some(proxy), xff), "192.0.2.7");
        assert_eq!(limits.client(Some(stranger), xff), "203.0.113.9");
        assert_eq!(limits.client(Some(proxy), None), "10.1.2.3");
        assert_eq!(limits.client(Some(proxy), Some("junk")), "10.1.2.3");
        assert!(in_block("::1".parse().unwrap(), "::".parse().unwrap(), 0));
    }
}
