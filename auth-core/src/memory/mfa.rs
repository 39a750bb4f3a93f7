//! [`MfaStore`] of the [`MemoryStore`]: second factors.

use async_trait::async_trait;
use uuid::Uuid;

use super::MemoryStore;
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl MfaStore for MemoryStore {
    async fn start_totp(&self, user_id: Uuid, secret: &[u8]) -> Result<bool, StoreError> {
        let mut st = self.lock();
        if !st.users.contains_key(&user_id) {
            return Err(StoreError::NotFound);
        }
        if st.totp.get(&user_id).is_some_and(|f| f.active) {
            return Ok(false);
        }
        st.totp.insert(
            user_id,
            TotpFactor {
                secret: secret.to_vec(),
                active: false,
                last_step: i64::MIN,
            },
        );
        Ok(true)
    }

    async fn totp_factor(&self, user_id: Uuid) -> Result<Option<TotpFactor>, StoreError> {
        Ok(self.lock().totp.get(&user_id).cloned())
    }

    async fn activate_totp(
        &self,
        user_id: Uuid,
        step: i64,
        recovery_hashes: Vec<Vec<u8>>,
    ) -> Result<bool, StoreError> {
        let mut st = self.lock();
        let Some(factor) = st.totp.get_mut(&user_id).filter(|f| !f.active) else {
            return Ok(false);
        };
        factor.active = true;
        factor.last_step = step;
        st.recovery.insert(user_id, recovery_hashes);
        Ok(true)
    }

    async fn use_totp_step(&self, user_id: Uuid, step: i64) -> Result<bool, StoreError> {
        let mut st = self.lock();
        match st.totp.get_mut(&user_id) {
            Some(f) if f.active && f.last_step < step => {
                f.last_step = step;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn use_recovery_code(&self, user_id: Uuid, code_hash: &[u8]) -> Result<bool, StoreError> {
        let mut st = self.lock();
        let Some(codes) = st.recovery.get_mut(&user_id) else {
            return Ok(false);
        };
        let before = codes.len();
        codes.retain(|c| c != code_hash);
        Ok(codes.len() < before)
    }

    async fn recovery_codes_left(&self, user_id: Uuid) -> Result<u32, StoreError> {
        Ok(self
            .lock()
            .recovery
            .get(&user_id)
            .map_or(0, |c| c.len() as u32))
    }

    async fn remove_totp(&self, user_id: Uuid) -> Result<bool, StoreError> {
        let mut st = self.lock();
        st.recovery.remove(&user_id);
        Ok(st.totp.remove(&user_id).is_some())
    }
}
