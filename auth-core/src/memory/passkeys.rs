//! [`PasskeyStore`] of the [`MemoryStore`]: passkeys and ceremony states.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{MemoryStore, State};
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl PasskeyStore for MemoryStore {
    async fn add_passkey(
        &self,
        passkey: StoredPasskey,
        keep_session: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<bool, StoreError> {
        let mut st = self.lock();
        if !st.users.contains_key(&passkey.user_id) {
            return Err(StoreError::NotFound);
        }
        if st
            .passkeys
            .iter()
            .any(|p| p.credential_id == passkey.credential_id)
        {
            return Ok(false);
        }
        st.revoke_user_sessions(passkey.user_id, keep_session);
        st.passkeys.push(passkey);
        st.audit(audit);
        Ok(true)
    }

    async fn passkeys(&self, user_id: Uuid) -> Result<Vec<StoredPasskey>, StoreError> {
        let st = self.lock();
        let mut mine: Vec<StoredPasskey> = st
            .passkeys
            .iter()
            .filter(|p| p.user_id == user_id)
            .cloned()
            .collect();
        mine.sort_by_key(|p| (p.created_at, p.id));
        Ok(mine)
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<StoredPasskey>, StoreError> {
        let st = self.lock();
        Ok(st
            .passkeys
            .iter()
            .find(|p| p.credential_id == credential_id)
            .cloned())
    }

    async fn use_passkey(&self, use_: PasskeyUse) -> Result<bool, StoreError> {
        Ok(self.lock().use_passkey(use_))
    }

    async fn rename_passkey(
        &self,
        user_id: Uuid,
        id: Uuid,
        name: &str,
    ) -> Result<bool, StoreError> {
        let mut st = self.lock();
        Ok(
            match st
                .passkeys
                .iter_mut()
                .find(|p| p.id == id && p.user_id == user_id)
            {
                Some(p) => {
                    p.name = name.to_owned();
                    true
                }
                None => false,
            },
        )
    }

    async fn delete_passkey(
        &self,
        user_id: Uuid,
        id: Uuid,
        keep_session: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<bool, StoreError> {
        let mut st = self.lock();
        let before = st.passkeys.len();
        st.passkeys
            .retain(|p| !(p.id == id && p.user_id == user_id));
        if st.passkeys.len() == before {
            return Ok(false);
        }
        st.revoke_user_sessions(user_id, keep_session);
        st.audit(audit);
        Ok(true)
    }

    async fn put_ceremony(
        &self,
        ceremony: Ceremony,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut st = self.lock();
        if ceremony.user_id.is_some_and(|u| !st.users.contains_key(&u)) {
            return Err(StoreError::NotFound);
        }
        st.ceremonies.retain(|_, c| c.expires_at > now);
        st.ceremonies.insert(ceremony.id, ceremony);
        Ok(())
    }

    async fn take_ceremony(
        &self,
        id: Uuid,
        kind: CeremonyKind,
        now: OffsetDateTime,
    ) -> Result<Option<Ceremony>, StoreError> {
        let mut st = self.lock();
        match st.ceremonies.get(&id) {
            Some(c) if c.kind == kind => {}
            _ => return Ok(None),
        }
        Ok(st.ceremonies.remove(&id).filter(|c| c.expires_at > now))
    }
}

impl State {
    /// [`PasskeyStore::use_passkey`] under the store's lock.
    pub(crate) fn use_passkey(&mut self, use_: PasskeyUse) -> bool {
        let Some(p) = self
            .passkeys
            .iter_mut()
            .find(|p| p.credential_id == use_.credential_id && p.user_id == use_.user_id)
        else {
            return false;
        };
        if !counter_advances(p.counter, use_.counter) {
            return false;
        }
        p.counter = use_.counter;
        p.backup_state = use_.backup_state;
        p.last_used_at = Some(use_.at);
        if let Some(credential) = use_.credential {
            p.credential = credential;
        }
        true
    }
}

/// The signature-counter rule of WebAuthn: a use is accepted if the counter went up,
/// or if the authenticator keeps none (both 0).
pub(crate) fn counter_advances(stored: u32, presented: u32) -> bool {
    presented > stored || (stored == 0 && presented == 0)
}
