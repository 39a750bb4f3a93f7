//! [`ApiKeyStore`] of the [`MemoryStore`].

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::MemoryStore;
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl ApiKeyStore for MemoryStore {
    async fn add_api_key(
        &self,
        key: StoredApiKey,
        audit: Option<AuditEvent>,
    ) -> Result<bool, StoreError> {
        let mut st = self.lock();
        if !st.users.contains_key(&key.user_id) {
            return Err(StoreError::NotFound);
        }
        if st
            .api_keys
            .values()
            .any(|k| k.user_id == key.user_id && k.name == key.name)
        {
            return Ok(false);
        }
        st.api_keys.insert(key.id, key);
        st.audit(audit);
        Ok(true)
    }

    async fn api_keys(&self, user_id: Uuid) -> Result<Vec<StoredApiKey>, StoreError> {
        let st = self.lock();
        let mut mine: Vec<StoredApiKey> = st
            .api_keys
            .values()
            .filter(|k| k.user_id == user_id)
            .cloned()
            .collect();
        mine.sort_by_key(|k| (k.created_at, k.id));
        Ok(mine)
    }

    async fn api_key_status(&self, id: Uuid) -> Result<Option<ApiKeyStatus>, StoreError> {
        let st = self.lock();
        let Some(key) = st.api_keys.get(&id) else {
            return Ok(None);
        };
        let Some(row) = st.users.get(&key.user_id) else {
            return Ok(None);
        };
        Ok(Some(ApiKeyStatus {
            key: key.clone(),
            user: st.user(row),
        }))
    }

    async fn touch_api_key(
        &self,
        id: Uuid,
        at: OffsetDateTime,
        every: Duration,
    ) -> Result<bool, StoreError> {
        let mut st = self.lock();
        let Some(key) = st.api_keys.get_mut(&id) else {
            return Ok(false);
        };
        if key.last_used_at.is_some_and(|last| at - last < every) {
            return Ok(false);
        }
        key.last_used_at = Some(at);
        Ok(true)
    }

    async fn revoke_api_key(
        &self,
        user_id: Uuid,
        id: Uuid,
        audit: Option<AuditEvent>,
    ) -> Result<bool, StoreError> {
        let mut st = self.lock();
        if st.api_keys.get(&id).is_some_and(|k| k.user_id == user_id) {
            st.api_keys.remove(&id);
            st.audit(audit);
            return Ok(true);
        }
        Ok(false)
    }
}
