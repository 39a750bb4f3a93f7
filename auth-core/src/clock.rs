//! Time source, so expiry and grace windows are testable without sleeping.

use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// A source of the current time.
///
/// Times are truncated to microseconds, the precision Postgres keeps, so every store
/// compares the same instants.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// The current time, UTC, microsecond precision.
    fn now(&self) -> OffsetDateTime;
}

/// Truncates a time to whole microseconds.
pub fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000)
        .expect("a smaller nanosecond value is always valid")
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(OffsetDateTime::now_utc())
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self(Mutex::new(truncate_to_micros(start)))
    }

    /// A clock stopped at the current system time.
    pub fn starting_now() -> Self {
        Self::new(OffsetDateTime::now_utc())
    }

    /// Moves the clock forward (or backward, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t = truncate_to_micros(*t + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
