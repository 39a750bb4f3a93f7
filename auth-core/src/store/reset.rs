//! Password reset tokens.

use time::OffsetDateTime;
use uuid::Uuid;

use super::AuditEvent;
use crate::error::StoreError;

/// The account a reset token was issued for, to address the mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetTarget {
    /// The account.
    pub user_id: Uuid,
    /// Its login.
    pub login: String,
    /// The address the token goes to.
    pub email: String,
}

capability! {
    /// Storage of password reset tokens: at most one per user, kept only as a hash.
    pub trait ResetStore {
        /// Finds the account whose **verified** email is `email` (ignoring case) and
        /// stores `token_hash` as its one reset token, valid until `expires_at`,
        /// replacing any previous one; atomically. `None` (nothing stored) when no
        /// account has the address or its address is not verified. The token dies with
        /// any later change of the user's email, password or status.
        async fn put_reset_token(&self, email: &str, token_hash: &[u8], expires_at: OffsetDateTime) -> Result<Option<ResetTarget>, StoreError>;

        /// The user of an unexpired token (`expires_at > now`), without using it.
        async fn reset_token_user(&self, token_hash: &[u8], now: OffsetDateTime) -> Result<Option<Uuid>, StoreError>;

        /// Uses an unexpired token, atomically: deletes it, sets the user's password
        /// hash and revokes every session of the user. Returns the user and how many
        /// sessions were revoked, or `None` when the token is unknown, used or expired.
        /// Of concurrent calls with one token exactly one gets `Some`. `audit`, when
        /// given, is written in the same transaction with its `target` set to the
        /// token's user, only then.
        async fn consume_reset_token(&self, token_hash: &[u8], now: OffsetDateTime, password_hash: &str, audit: Option<AuditEvent>) -> Result<Option<(Uuid, u64)>, StoreError>;

        /// Deletes tokens whose expiry is at or before `now`; returns how many.
        async fn purge_reset_tokens(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
    }
    mock resets: MockResetStore;
}
