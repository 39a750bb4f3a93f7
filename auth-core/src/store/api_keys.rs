//! API keys: long-lived credentials of machine clients, each owned by a user.
//!
//! The store keeps a key's secret only as the service's keyed digest of it, never the
//! secret itself, so a copy of the database authenticates nothing.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{AuditEvent, User};
use crate::domain::RoleName;
use crate::error::StoreError;

/// An API key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredApiKey {
    /// The key's id: the public part of the key, which finds it.
    pub id: Uuid,
    /// Owner; the key acts as this user, with at most [`StoredApiKey::roles`].
    pub user_id: Uuid,
    /// A name the owner chose, unique among the owner's keys.
    pub name: String,
    /// The service's keyed digest of the secret part.
    pub secret_hash: Vec<u8>,
    /// The roles the key may use, sorted; at use, only those its owner still holds.
    pub roles: Vec<RoleName>,
    /// Requests allowed per minute with this key; `None`: no limit of its own.
    pub rate_limit: Option<u32>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// After this the key is refused; `None`: it does not expire.
    pub expires_at: Option<OffsetDateTime>,
    /// The last request made with it, written at most once per
    /// [`ApiKeyStore::touch_api_key`]'s interval.
    pub last_used_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for StoredApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredApiKey")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("roles", &self.roles)
            .field("rate_limit", &self.rate_limit)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("last_used_at", &self.last_used_at)
            .finish_non_exhaustive()
    }
}

/// What [`ApiKeyStore::api_key_status`] returns for `authenticate`: the key and its
/// owner as they are now, from one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyStatus {
    /// The key.
    pub key: StoredApiKey,
    /// Its owner: status and current roles (sorted) included.
    pub user: User,
}

capability! {
    /// Storage of API keys.
    pub trait ApiKeyStore {
        /// Adds a key. `Ok(false)` when its owner has a key of that name already
        /// (decided atomically: of concurrent adds of one name, one succeeds).
        /// `audit`, when given, is recorded in the same transaction: only if the key is
        /// added.
        /// Errors: [`StoreError::NotFound`] when the owner does not exist.
        async fn add_api_key(&self, key: StoredApiKey, audit: Option<AuditEvent>) -> Result<bool, StoreError>;

        /// The user's keys, oldest first.
        async fn api_keys(&self, user_id: Uuid) -> Result<Vec<StoredApiKey>, StoreError>;

        /// The key and its owner in one read, for every request made with a key; `None`
        /// if the key does not exist (revoked keys are deleted). Stores that cache
        /// session statuses may answer this from the same cache: revoking the key and
        /// every change to its owner must drop the entry at once, on every instance.
        async fn api_key_status(&self, id: Uuid) -> Result<Option<ApiKeyStatus>, StoreError>;

        /// Sets the key's `last_used_at` to `at` unless it was set less than `every`
        /// ago, atomically (of concurrent touches within `every`, one writes). Returns
        /// whether it wrote. A missing key is `Ok(false)`.
        async fn touch_api_key(&self, id: Uuid, at: OffsetDateTime, every: Duration) -> Result<bool, StoreError>;

        /// Deletes the user's key `id`; every request with it is refused from now on.
        /// Returns whether it existed (and belonged to the user); `audit`, when given, is
        /// recorded in the same transaction, only then.
        async fn revoke_api_key(&self, user_id: Uuid, id: Uuid, audit: Option<AuditEvent>) -> Result<bool, StoreError>;
    }
    mock api_keys: MockApiKeyStore;
}
