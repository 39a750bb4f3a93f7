//! Signing keys kept in the store, so that every instance signs with the same key and
//! keys rotate without a restart.
//!
//! The service decides the schedule (which key is published, which signs, which only
//! verifies) and writes the whole set back with [`SigningKeyStore::replace_signing_keys`],
//! a compare-and-set on the set's generation: of two instances rotating at once, one
//! writes and the other reads the result. Private keys are sealed by the service before
//! they reach the store.

use std::fmt;

use time::OffsetDateTime;

use crate::error::StoreError;
use crate::store::AuditEvent;

/// Where a stored key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningKeyState {
    /// Published in the JWKS, not signing yet: resource servers learn it before the
    /// first token it signs.
    Next,
    /// The key that signs; at most one at a time.
    Current,
    /// Signs no more; published until the last token it signed has expired.
    Retired,
}

impl SigningKeyState {
    /// The name stores keep (`next`, `current`, `retired`).
    pub fn as_str(self) -> &'static str {
        match self {
            SigningKeyState::Next => "next",
            SigningKeyState::Current => "current",
            SigningKeyState::Retired => "retired",
        }
    }

    /// The state named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Next, Self::Current, Self::Retired]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// A signing key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// The key id (`kid` of the tokens it signs).
    pub kid: String,
    /// The JWS algorithm (`EdDSA`).
    pub algorithm: String,
    /// Where it is in its life.
    pub state: SigningKeyState,
    /// The private key, sealed by the service (AES-256-GCM, bound to the `kid`).
    pub sealed_key: Vec<u8>,
    /// When it was made (and published, as [`SigningKeyState::Next`]).
    pub created_at: OffsetDateTime,
    /// When it began to sign.
    pub activated_at: Option<OffsetDateTime>,
    /// When a retired key leaves the set.
    pub retire_after: Option<OffsetDateTime>,
}

impl fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("state", &self.state)
            .field("sealed_key", &"[redacted]")
            .field("created_at", &self.created_at)
            .field("activated_at", &self.activated_at)
            .field("retire_after", &self.retire_after)
            .finish()
    }
}

/// The stored keys and the generation that names this version of the set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigningKeys {
    /// Counts the writes of the set; 0 before the first.
    pub generation: i64,
    /// The keys, in no particular order.
    pub keys: Vec<StoredSigningKey>,
}

impl SigningKeys {
    /// The key that signs, if any.
    pub fn current(&self) -> Option<&StoredSigningKey> {
        self.keys
            .iter()
            .find(|k| k.state == SigningKeyState::Current)
    }
}

capability! {
    /// The signing keys of every instance.
    pub trait SigningKeyStore {
        /// The keys and their generation, read together.
        async fn signing_keys(&self) -> Result<SigningKeys, StoreError>;

        /// Replaces the whole set with `keys` if its generation is still `generation`,
        /// atomically, and writes `audit` with it; answers the new generation
        /// (`generation + 1`), or `None` (nothing written) when another writer changed
        /// the set first. A set with more than one [`SigningKeyState::Current`] key, or
        /// a `kid` twice, is refused with [`StoreError::Backend`] (see
        /// [`check_signing_keys`]).
        async fn replace_signing_keys(
            &self,
            generation: i64,
            keys: Vec<StoredSigningKey>,
            audit: Option<AuditEvent>
        ) -> Result<Option<i64>, StoreError>;

        /// A receiver whose value changes when the set may have been written by
        /// anyone (another instance included), so a service reads it again at once
        /// rather than at its next poll; `None` when the store cannot tell (the
        /// service then polls alone).
        async fn signing_key_changes(
            &self
        ) -> Result<Option<tokio::sync::watch::Receiver<u64>>, StoreError>;
    }
    mock signing_keys: MockSigningKeyStore;
}

/// Refuses a set no store may hold: two current keys or a `kid` twice.
pub fn check_signing_keys(keys: &[StoredSigningKey]) -> Result<(), StoreError> {
    let current = keys
        .iter()
        .filter(|k| k.state == SigningKeyState::Current)
        .count();
    let mut kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
    kids.sort_unstable();
    kids.dedup();
    if current > 1 || kids.len() != keys.len() {
        return Err(StoreError::Backend(
            "a signing key set with two current keys or a kid twice".into(),
        ));
    }
    Ok(())
}
