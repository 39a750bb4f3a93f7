//! [`ResetStore`] of the [`MemoryStore`]: password reset tokens.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{MemoryStore, ResetRow};
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl ResetStore for MemoryStore {
    async fn put_reset_token(
        &self,
        email: &str,
        token_hash: &[u8],
        expires_at: OffsetDateTime,
    ) -> Result<Option<ResetTarget>, StoreError> {
        let mut st = self.lock();
        let Some(&user_id) = st.by_email.get(&email.to_ascii_lowercase()) else {
            return Ok(None);
        };
        let row = &st.users[&user_id];
        if !row.email_verified {
            return Ok(None);
        }
        let target = ResetTarget {
            user_id,
            login: row.login.clone(),
            email: row.email.clone().unwrap_or_default(),
        };
        st.resets.insert(
            user_id,
            ResetRow {
                token_hash: token_hash.to_vec(),
                expires_at,
            },
        );
        Ok(Some(target))
    }

    async fn reset_token_user(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<Uuid>, StoreError> {
        Ok(self
            .lock()
            .resets
            .iter()
            .find(|(_, r)| r.token_hash == token_hash && r.expires_at > now)
            .map(|(id, _)| *id))
    }

    async fn consume_reset_token(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
        password_hash: &str,
        audit: Option<AuditEvent>,
    ) -> Result<Option<(Uuid, u64)>, StoreError> {
        let mut st = self.lock();
        let Some(user_id) = st
            .resets
            .iter()
            .find(|(_, r)| r.token_hash == token_hash && r.expires_at > now)
            .map(|(id, _)| *id)
        else {
            return Ok(None);
        };
        st.resets.remove(&user_id);
        let Some(row) = st.users.get_mut(&user_id) else {
            return Ok(None);
        };
        row.password_hash = password_hash.to_owned();
        st.credentials_changed(user_id);
        let revoked = st.revoke_user_sessions(user_id, None);
        st.audit(audit.map(|e| e.about(user_id)));
        Ok(Some((user_id, revoked)))
    }

    async fn purge_reset_tokens(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let before = st.resets.len();
        st.resets.retain(|_, r| r.expires_at > now);
        Ok((before - st.resets.len()) as u64)
    }
}
