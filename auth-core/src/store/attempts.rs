//! Attempt counters behind every throttle and rate limit.

use time::{Duration, OffsetDateTime};

use crate::error::StoreError;

/// The rule one counted key is held to by [`AttemptStore::reserve_attempt`].
///
/// `max` attempts are granted within `window`; after that the key locks for
/// `base_delay`, doubled for each further granted attempt, at most `window`. A fixed
/// window rate limit is `base_delay == window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimit {
    /// Attempts granted within a window before the key locks (at least 1).
    pub max: u32,
    /// Counting window, measured from the window's first attempt.
    pub window: Duration,
    /// Lock after the `max`-th attempt; doubles with each attempt granted past it.
    pub base_delay: Duration,
}

impl AttemptLimit {
    /// How long a key whose last granted attempt brought its count to `count` stays
    /// locked: nothing below `max`, else `base_delay * 2^(count - max)`, capped at
    /// `window`.
    pub fn lock_for(&self, count: u32) -> Duration {
        if count < self.max {
            return Duration::ZERO;
        }
        let doublings = (count - self.max).min(30);
        (self.base_delay * 2f64.powi(doublings as i32)).min(self.window)
    }
}

/// A key and its rule, for a store method that counts an attempt as part of a larger
/// step (see [`RefreshRequest::limit`](crate::store::RefreshRequest::limit)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptKey {
    /// The counter's key, as [`AttemptStore::reserve_attempt`] takes it.
    pub key: String,
    /// Its rule.
    pub limit: AttemptLimit,
}

/// The answer of [`AttemptStore::reserve_attempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt may go ahead; it is counted.
    Granted {
        /// The key's count including this attempt.
        count: u32,
    },
    /// The key is locked; nothing was counted.
    Refused {
        /// When an attempt will be granted again.
        until: OffsetDateTime,
    },
}

capability! {
    /// Storage of attempt counters, keyed by a limit's scope and subject.
    pub trait AttemptStore {
        /// Counts one attempt under `key` if `limit` allows it, atomically: the decision
        /// and the count are one step, so of any number of concurrent calls no more are
        /// granted than sequential calls would be.
        ///
        /// At `now`, a key with no count, or whose window began at or before
        /// `now - limit.window`, restarts: count 1, window starting at `now`, granted.
        /// Otherwise the attempt is granted, and the count grows by one, while the count
        /// is below `limit.max` or once `now` has reached the last granted attempt plus
        /// [`AttemptLimit::lock_for`] the count. Else nothing changes and the answer is
        /// [`Reservation::Refused`] with the earlier of that time and the window's end.
        async fn reserve_attempt(&self, key: &str, limit: AttemptLimit, now: OffsetDateTime) -> Result<Reservation, StoreError>;

        /// Gives back one granted attempt under `key` (the count drops by one, never below
        /// zero), for an attempt that turned out not to count. A missing key is a no-op.
        async fn release_attempt(&self, key: &str) -> Result<(), StoreError>;

        /// Forgets the attempts counted under `key`.
        async fn clear_attempts(&self, key: &str) -> Result<(), StoreError>;

        /// Deletes counters whose last granted attempt is at or before `before`; returns
        /// how many.
        async fn purge_attempts(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
    }
    mock attempts: MockAttemptStore;
}
