//! Email verification codes.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreError;

/// A pending email verification code, stored as a keyed hash.
///
/// Wrong guesses are not counted on the code: they count against the login's attempt
/// budget ([`AttemptStore::reserve_attempt`](super::AttemptStore::reserve_attempt)), which a new code does not reset.
#[derive(Clone, PartialEq, Eq)]
pub struct VerificationCode {
    /// The account.
    pub user_id: Uuid,
    /// HMAC of the code.
    pub code_hash: Vec<u8>,
    /// Expiry.
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationCode")
            .field("user_id", &self.user_id)
            .field("code_hash", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

capability! {
    /// Storage of pending email verification codes, one per user.
    pub trait VerificationStore {
        /// Stores a verification code for a user, replacing any previous one.
        /// Errors: [`StoreError::NotFound`] if the user does not exist.
        async fn put_verification_code(&self, code: VerificationCode) -> Result<(), StoreError>;

        /// The user's pending verification code, or `None`.
        async fn verification_code(&self, user_id: Uuid) -> Result<Option<VerificationCode>, StoreError>;

        /// Marks the email verified and deletes the code, atomically.
        /// Errors: [`StoreError::NotFound`].
        async fn complete_verification(&self, user_id: Uuid) -> Result<(), StoreError>;

        /// Deletes codes whose expiry is at or before `now`; returns how many.
        async fn purge_codes(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
    }
    mock verification: MockVerificationStore;
}
