//! [`LoginHistoryStore`] of the [`MemoryStore`]: login history.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::MemoryStore;
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl LoginHistoryStore for MemoryStore {
    async fn record_login(&self, event: LoginEvent) -> Result<(), StoreError> {
        let mut st = self.lock();
        if st.users.contains_key(&event.user_id) {
            st.logins.push(event);
        }
        Ok(())
    }

    async fn login_history(
        &self,
        user_id: Uuid,
        limit: u32,
        before: Option<OffsetDateTime>,
    ) -> Result<Vec<LoginEvent>, StoreError> {
        let st = self.lock();
        let mut out: Vec<LoginEvent> = st
            .logins
            .iter()
            .filter(|e| e.user_id == user_id && before.is_none_or(|b| e.at < b))
            .cloned()
            .collect();
        // Stable sort keeps insertion order among equal times; reverse gives newest first.
        out.sort_by_key(|e| e.at);
        out.reverse();
        out.truncate(limit as usize);
        Ok(out)
    }
}
