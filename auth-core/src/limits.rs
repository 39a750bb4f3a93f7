//! Limits on attempts and requests, decided atomically in the store.
//!
//! Every limited operation first *reserves* its attempt under each of its keys with
//! [`AttemptStore::reserve_attempt`](crate::store::AttemptStore::reserve_attempt), before any password, code or mail work, so a burst
//! of parallel requests gets no more checks than the same requests one at a time, on
//! one server instance or many. What happens to the reservation afterwards depends on
//! the outcome: a failure keeps it, a success gives it back or clears its key. A
//! refresh reserves in the same store call as its rotation
//! ([`RefreshRequest::limit`](crate::store::RefreshRequest::limit)): one round trip.

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use crate::error::AuthError;
use crate::store::{AttemptKey, AttemptLimit, AuthStore, Reservation};

/// At most `max` requests per key within `window` (a fixed window from the first).
/// `max == 0` turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub max: u32,
    /// The window.
    pub window: Duration,
}

impl RateLimit {
    /// `max` per `window`.
    pub const fn new(max: u32, window: Duration) -> Self {
        Self { max, window }
    }

    /// The same rule as an [`AttemptLimit`]: locked until the window ends.
    pub fn attempt_limit(self) -> AttemptLimit {
        AttemptLimit {
            max: self.max,
            window: self.window,
            base_delay: self.window,
        }
    }
}

/// Per-address and per-account request limits on operations that cost work or send
/// mail. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLimits {
    /// Registrations per client address (default 20 per minute).
    pub register_per_ip: RateLimit,
    /// Refreshes per client address (default 600 per minute).
    pub refresh_per_ip: RateLimit,
    /// Email changes per user (default 5 per hour): each may send a mail and reveal
    /// whether an address is taken.
    pub email_changes_per_user: RateLimit,
    /// Verification code resends per login (default 1 per minute).
    pub resend_per_login: RateLimit,
    /// Verification code resends per client address (default 10 per 15 minutes).
    pub resend_per_ip: RateLimit,
    /// Password reset requests per email address, known or not (default 3 per hour).
    pub reset_per_email: RateLimit,
    /// Password reset requests per client address (default 10 per 15 minutes).
    pub reset_per_ip: RateLimit,
    /// Passwordless passkey sign-ins started per client address (default 60 per
    /// minute): each keeps its challenge in the store for minutes.
    pub passkey_sign_in_per_ip: RateLimit,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            register_per_ip: RateLimit::new(20, Duration::minutes(1)),
            refresh_per_ip: RateLimit::new(600, Duration::minutes(1)),
            email_changes_per_user: RateLimit::new(5, Duration::hours(1)),
            resend_per_login: RateLimit::new(1, Duration::minutes(1)),
            resend_per_ip: RateLimit::new(10, Duration::minutes(15)),
            reset_per_email: RateLimit::new(3, Duration::hours(1)),
            reset_per_ip: RateLimit::new(10, Duration::minutes(15)),
            passkey_sign_in_per_ip: RateLimit::new(60, Duration::minutes(1)),
        }
    }
}

/// Which error a refused key gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// [`AuthError::Throttled`]: too many failed attempts.
    Throttled,
    /// [`AuthError::RateLimited`]: too many requests.
    RateLimited,
    /// [`AuthError::TooManyAttempts`]: the verification budget is used up.
    TooManyAttempts,
}

/// One key an attempt is counted under.
#[derive(Debug, Clone)]
pub(crate) struct LimitKey {
    name: String,
    limit: AttemptLimit,
    refusal: Refusal,
    /// A success clears the key (the subject's failure count), rather than giving
    /// back the one attempt (an address's share).
    cleared_by_success: bool,
}

impl LimitKey {
    /// A key under `name` with this rule; `None` when the rule is off (`max == 0`).
    fn new(name: String, limit: AttemptLimit, refusal: Refusal) -> Option<Self> {
        (limit.max > 0).then_some(Self {
            name,
            limit,
            refusal,
            cleared_by_success: false,
        })
    }

    /// The key of `scope` for a client address (`scope:ip:addr`); `None` when the
    /// address is unknown or the rule is off.
    pub(crate) fn address(
        scope: &str,
        ip: Option<IpAddr>,
        limit: AttemptLimit,
        refusal: Refusal,
    ) -> Option<Self> {
        Self::new(format!("{scope}:ip:{}", ip?), limit, refusal)
    }

    /// The key of `scope` for a subject, a login or a user id, ignoring case
    /// (`scope:subject`); `None` when the rule is off.
    pub(crate) fn subject(
        scope: &str,
        subject: &str,
        limit: AttemptLimit,
        refusal: Refusal,
    ) -> Option<Self> {
        Self::new(
            format!("{scope}:{}", subject.to_ascii_lowercase()),
            limit,
            refusal,
        )
    }

    /// The same key, cleared by a success instead of refunded.
    pub(crate) fn cleared_by_success(mut self) -> Self {
        self.cleared_by_success = true;
        self
    }

    /// The key and rule, for a store method that reserves as part of a larger step.
    pub(crate) fn attempt(&self) -> AttemptKey {
        AttemptKey {
            key: self.name.clone(),
            limit: self.limit,
        }
    }

    /// The error of this key refusing at `now` until `until`.
    pub(crate) fn refused(&self, until: OffsetDateTime, now: OffsetDateTime) -> AuthError {
        let wait = (until - now).max(Duration::ZERO);
        match self.refusal {
            Refusal::Throttled => AuthError::Throttled { retry_after: wait },
            Refusal::RateLimited => AuthError::RateLimited { retry_after: wait },
            Refusal::TooManyAttempts => AuthError::TooManyAttempts { retry_after: wait },
        }
    }
}

/// Attempts reserved under some keys; dropping it keeps them counted (a failure).
#[must_use = "an attempt that succeeds or does not count must say so"]
pub(crate) struct Reserved {
    keys: Vec<LimitKey>,
}

/// Reserves one attempt under every key, in order. If a key refuses, the attempts
/// already granted are given back and the refusal is returned: nothing is checked.
pub(crate) async fn reserve(
    store: &dyn AuthStore,
    keys: impl IntoIterator<Item = Option<LimitKey>>,
    now: OffsetDateTime,
) -> Result<Reserved, AuthError> {
    let mut granted = Reserved { keys: Vec::new() };
    for key in keys.into_iter().flatten() {
        match store.reserve_attempt(&key.name, key.limit, now).await? {
            Reservation::Granted { .. } => granted.keys.push(key),
            Reservation::Refused { until } => {
                granted.not_counted(store).await?;
                return Err(key.refused(until, now));
            }
        }
    }
    Ok(granted)
}

impl Reserved {
    /// The attempt succeeded: subject keys are cleared, the others given back.
    pub(crate) async fn succeeded(self, store: &dyn AuthStore) -> Result<(), AuthError> {
        for key in &self.keys {
            if key.cleared_by_success {
                store.clear_attempts(&key.name).await?;
            } else {
                store.release_attempt(&key.name).await?;
            }
        }
        Ok(())
    }

    /// The attempt does not count (a right password on a blocked account, say):
    /// every key gets its attempt back.
    pub(crate) async fn not_counted(self, store: &dyn AuthStore) -> Result<(), AuthError> {
        for key in &self.keys {
            store.release_attempt(&key.name).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_locks_until_its_window_ends() {
        let l = RateLimit::new(3, Duration::minutes(1)).attempt_limit();
        assert_eq!(l.lock_for(2), Duration::ZERO);
        assert_eq!(l.lock_for(3), Duration::minutes(1));
        assert_eq!(l.lock_for(9), Duration::minutes(1));
    }

    #[test]
    fn a_rule_that_is_off_makes_no_key() {
        let off = RateLimit::new(0, Duration::minutes(1)).attempt_limit();
        assert!(LimitKey::subject("s", "k", off, Refusal::RateLimited).is_none());
        let on = RateLimit::new(1, Duration::minutes(1)).attempt_limit();
        assert!(LimitKey::address("s", None, on, Refusal::RateLimited).is_none());
    }
}
