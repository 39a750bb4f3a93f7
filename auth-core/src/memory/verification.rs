//! [`VerificationStore`] of the [`MemoryStore`]: verification codes.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::MemoryStore;
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl VerificationStore for MemoryStore {
    async fn put_verification_code(&self, code: VerificationCode) -> Result<(), StoreError> {
        let mut st = self.lock();
        if !st.users.contains_key(&code.user_id) {
            return Err(StoreError::NotFound);
        }
        st.codes.insert(code.user_id, code);
        Ok(())
    }

    async fn verification_code(
        &self,
        user_id: Uuid,
    ) -> Result<Option<VerificationCode>, StoreError> {
        Ok(self.lock().codes.get(&user_id).cloned())
    }

    async fn complete_verification(&self, user_id: Uuid) -> Result<(), StoreError> {
        let mut st = self.lock();
        st.users
            .get_mut(&user_id)
            .ok_or(StoreError::NotFound)?
            .email_verified = true;
        st.codes.remove(&user_id);
        Ok(())
    }

    async fn purge_codes(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let before = st.codes.len();
        st.codes.retain(|_, c| c.expires_at > now);
        Ok((before - st.codes.len()) as u64)
    }
}
