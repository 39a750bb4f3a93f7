//! [`AttemptStore`] of the [`MemoryStore`]: attempt counters.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Counter, MemoryStore, State};
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl AttemptStore for MemoryStore {
    async fn reserve_attempt(
        &self,
        key: &str,
        limit: AttemptLimit,
        now: OffsetDateTime,
    ) -> Result<Reservation, StoreError> {
        Ok(self.lock().reserve(key, limit, now))
    }

    async fn release_attempt(&self, key: &str) -> Result<(), StoreError> {
        if let Some(c) = self.lock().attempts.get_mut(key) {
            c.count = c.count.saturating_sub(1);
        }
        Ok(())
    }

    async fn clear_attempts(&self, key: &str) -> Result<(), StoreError> {
        self.lock().attempts.remove(key);
        Ok(())
    }

    async fn purge_attempts(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let n = st.attempts.len();
        st.attempts.retain(|_, a| a.last_attempt > before);
        Ok((n - st.attempts.len()) as u64)
    }
}

impl State {
    /// [`AttemptStore::reserve_attempt`] under the store's lock, for the methods that
    /// count an attempt as part of a larger step.
    pub(crate) fn reserve(
        &mut self,
        key: &str,
        limit: AttemptLimit,
        now: OffsetDateTime,
    ) -> Reservation {
        let fresh = Counter {
            count: 0,
            window_start: now,
            last_attempt: now,
        };
        let c = self.attempts.entry(key.to_owned()).or_insert(fresh);
        if c.window_start <= now - limit.window {
            *c = fresh;
        }
        if c.count >= limit.max {
            let unlocked = c.last_attempt + limit.lock_for(c.count);
            if now < unlocked {
                return Reservation::Refused {
                    until: unlocked.min(c.window_start + limit.window),
                };
            }
        }
        c.count = c.count.saturating_add(1);
        c.last_attempt = now;
        Reservation::Granted { count: c.count }
    }
}
