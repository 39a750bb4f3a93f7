//! [`EmailChangeStore`] of the [`MemoryStore`]: pending email changes.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::MemoryStore;
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl EmailChangeStore for MemoryStore {
    async fn put_email_change(&self, change: EmailChange) -> Result<(), StoreError> {
        let mut st = self.lock();
        if !st.users.contains_key(&change.user_id) {
            return Err(StoreError::NotFound);
        }
        if st.email_taken(&change.email, change.user_id) {
            return Err(StoreError::EmailTaken);
        }
        st.email_changes.insert(change.user_id, change);
        Ok(())
    }

    async fn email_change(&self, user_id: Uuid) -> Result<Option<EmailChange>, StoreError> {
        Ok(self.lock().email_changes.get(&user_id).cloned())
    }

    async fn complete_email_change(
        &self,
        user_id: Uuid,
        code_hash: &[u8],
        now: OffsetDateTime,
        audit: Option<AuditEvent>,
    ) -> Result<Option<User>, StoreError> {
        let mut st = self.lock();
        let Some(change) = st
            .email_changes
            .get(&user_id)
            .filter(|c| c.code_hash == code_hash && c.expires_at > now)
            .cloned()
        else {
            return Ok(None);
        };
        if !st.users.contains_key(&user_id) {
            return Ok(None);
        }
        if st.email_taken(&change.email, user_id) {
            return Err(StoreError::EmailTaken);
        }
        st.email_changes.remove(&user_id);
        st.set_email(user_id, change.email);
        let row = st.users.get_mut(&user_id).ok_or(StoreError::NotFound)?;
        row.email_verified = true;
        let row = row.clone();
        st.audit(audit);
        Ok(Some(st.user(&row)))
    }

    async fn purge_email_changes(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let before = st.email_changes.len();
        st.email_changes.retain(|_, c| c.expires_at > now);
        Ok((before - st.email_changes.len()) as u64)
    }
}
