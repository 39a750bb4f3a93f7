//! Pending email changes: the new address is taken only once it confirms a mailed code.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{AuditEvent, User};
use crate::error::StoreError;

/// A requested email change, waiting for the code mailed to the new address.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailChange {
    /// The account.
    pub user_id: Uuid,
    /// The new address, validated and lowercased.
    pub email: String,
    /// Keyed hash of the code mailed to it.
    pub code_hash: Vec<u8>,
    /// Expiry.
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for EmailChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailChange")
            .field("user_id", &self.user_id)
            .field("email", &self.email)
            .field("code_hash", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

capability! {
    /// Storage of pending email changes, at most one per user. Every method is atomic.
    pub trait EmailChangeStore {
        /// Stores `change` as the user's pending email change, replacing any previous
        /// one. The account's email is not touched.
        ///
        /// Errors: [`StoreError::NotFound`] if the user does not exist;
        /// [`StoreError::EmailTaken`] if another user has the address now.
        async fn put_email_change(&self, change: EmailChange) -> Result<(), StoreError>;

        /// The user's pending email change, expired or not, or `None`.
        async fn email_change(&self, user_id: Uuid) -> Result<Option<EmailChange>, StoreError>;

        /// Completes the user's pending change if its code hash is `code_hash` and
        /// `expires_at > now`: the account takes the new address, verified, and the
        /// pending change is deleted (so is the reset token, as with any email change).
        /// `None` (nothing changed) when there is no such pending change. Of concurrent
        /// calls at most one gets `Some`.
        ///
        /// `audit`, when given, is written in the same transaction, only when the
        /// change is made.
        ///
        /// Errors: [`StoreError::EmailTaken`] if another user took the address since.
        async fn complete_email_change(&self, user_id: Uuid, code_hash: &[u8], now: OffsetDateTime, audit: Option<AuditEvent>) -> Result<Option<User>, StoreError>;

        /// Deletes pending changes whose expiry is at or before `now`; returns how many.
        async fn purge_email_changes(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
    }
    mock email_changes: MockEmailChangeStore;
}
