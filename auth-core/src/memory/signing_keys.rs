//! [`SigningKeyStore`] of the [`MemoryStore`]: the signing keys and their generation.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl SigningKeyStore for MemoryStore {
    async fn signing_keys(&self) -> Result<SigningKeys, StoreError> {
        Ok(self.lock().signing_keys.clone())
    }

    async fn replace_signing_keys(
        &self,
        generation: i64,
        keys: Vec<StoredSigningKey>,
        audit: Option<AuditEvent>,
    ) -> Result<Option<i64>, StoreError> {
        check_signing_keys(&keys)?;
        let mut st = self.lock();
        if st.signing_keys.generation != generation {
            return Ok(None);
        }
        st.signing_keys = SigningKeys {
            generation: generation + 1,
            keys,
        };
        st.audit(audit);
        drop(st);
        self.signing_key_changes.send_modify(|n| *n += 1);
        Ok(Some(generation + 1))
    }

    async fn signing_key_changes(
        &self,
    ) -> Result<Option<tokio::sync::watch::Receiver<u64>>, StoreError> {
        Ok(Some(self.signing_key_changes.subscribe()))
    }
}
