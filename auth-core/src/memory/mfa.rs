//! [`MfaStore`] of the [`MemoryStore`]: second factors.

use async_trait::async_trait;
use time::OffsetDateTime;
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
        st.credentials_changed(user_id);
        Ok(true)
    }

    async fn totp_factor(&self, user_id: Uuid) -> Result<Option<TotpFactor>, StoreError> {
        Ok(self.lock().totp.get(&user_id).cloned())
    }

    async fn activate_totp(
        &self,
        user_id: Uuid,
        secret: &[u8],
        step: i64,
        recovery_hashes: Vec<Vec<u8>>,
        keep_session: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<bool, StoreError> {
        let mut st = self.lock();
        let Some(factor) = st
            .totp
            .get_mut(&user_id)
            .filter(|f| !f.active && f.secret == secret)
        else {
            return Ok(false);
        };
        factor.active = true;
        factor.last_step = step;
        st.recovery.insert(user_id, recovery_hashes);
        st.credentials_changed(user_id);
        st.revoke_user_sessions(user_id, keep_session);
        st.audit(audit);
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

    async fn remove_totp(
        &self,
        user_id: Uuid,
        keep_session: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<bool, StoreError> {
        let mut st = self.lock();
        if st.totp.remove(&user_id).is_none() {
            return Ok(false);
        }
        st.recovery.remove(&user_id);
        st.credentials_changed(user_id);
        st.revoke_user_sessions(user_id, keep_session);
        st.audit(audit);
        Ok(true)
    }

    async fn put_mfa_challenge(
        &self,
        user_id: Uuid,
        token_hash: &[u8],
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut st = self.lock();
        if !st.users.contains_key(&user_id) {
            return Err(StoreError::NotFound);
        }
        st.challenges
            .insert(token_hash.to_vec(), (user_id, expires_at));
        Ok(())
    }

    async fn complete_mfa_challenge(
        &self,
        user_id: Uuid,
        token_hash: &[u8],
        now: OffsetDateTime,
        proof: FactorProof,
    ) -> Result<ChallengeOutcome, StoreError> {
        let mut st = self.lock();
        if !st
            .challenges
            .get(token_hash)
            .is_some_and(|(owner, expires)| *owner == user_id && *expires > now)
        {
            return Ok(ChallengeOutcome::Invalid);
        }
        let Some(row) = st.users.get(&user_id) else {
            return Ok(ChallengeOutcome::Invalid);
        };
        if row.status == UserStatus::Blocked {
            return Ok(ChallengeOutcome::Blocked);
        }
        let accepted = match &proof {
            FactorProof::Totp { secret, step } => match st.totp.get_mut(&user_id) {
                Some(f) if f.active && f.secret == *secret && f.last_step < *step => {
                    f.last_step = *step;
                    true
                }
                _ => false,
            },
            FactorProof::Recovery { code_hash } => {
                let active = st.totp.get(&user_id).is_some_and(|f| f.active);
                match st.recovery.get_mut(&user_id) {
                    Some(codes) if active => {
                        let before = codes.len();
                        codes.retain(|c| c != code_hash);
                        codes.len() < before
                    }
                    _ => false,
                }
            }
            FactorProof::Passkey(use_) => st.use_passkey(use_.clone()),
        };
        if !accepted {
            return Ok(ChallengeOutcome::WrongCode);
        }
        st.challenges.remove(token_hash);
        let row = st.users[&user_id].clone();
        Ok(ChallengeOutcome::Completed(st.user(&row)))
    }

    async fn purge_mfa_challenges(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let before = st.challenges.len();
        st.challenges.retain(|_, (_, expires)| *expires > now);
        Ok((before - st.challenges.len()) as u64)
    }
}
