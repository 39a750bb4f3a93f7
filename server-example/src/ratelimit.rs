//! Per-address request limits for unauthenticated routes that cost work (register,
//! refresh). In-process: each instance enforces its own share.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;

/// A fixed-window counter per client address.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

/// Addresses tracked before expired windows are swept.
const SWEEP_AT: usize = 100_000;

impl RateLimiter {
    /// At most `limit` requests per address per `window`; 0 means no limit.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request from `ip`; `Err(wait)` if it is over the limit.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        let (Some(ip), true) = (ip, self.limit > 0) else {
            return Ok(());
        };
        let now = Instant::now();
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let (start, count) = map.entry(ip).or_insert((now, 0));
        if now.duration_since(*start) >= self.window {
            *start = now;
            *count = 0;
        }
        if *count >= self.limit {
            return Err(self.window - now.duration_since(*start));
        }
        *count += 1;
        Ok(())
    }

    /// [`RateLimiter::check`] as the API's 429 `rate_limited` with `Retry-After`.
    pub fn admit(&self, ip: Option<IpAddr>, what: &str) -> Result<(), ApiError> {
        self.check(ip).map_err(|wait| {
            ApiError::too_many(
                "rate_limited",
                format!("too many {what} from this address"),
                wait,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_over_its_limit_waits_and_others_do_not() {
        let rl = RateLimiter::new(2, Duration::from_secs(60));
        let a = Some("192.0.2.1".parse().unwrap());
        assert!(rl.check(a).is_ok() && rl.check(a).is_ok());
        let wait = rl.check(a).unwrap_err();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(58));
        assert!(rl.check(Some("192.0.2.2".parse().unwrap())).is_ok());
        assert!(
            RateLimiter::new(0, Duration::from_secs(60))
                .check(a)
                .is_ok()
        );
    }
}
