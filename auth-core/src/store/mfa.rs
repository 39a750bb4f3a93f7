//! Second factors: a TOTP secret per user, single-use recovery codes, and the
//! single-use challenges of logins that need a second factor.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{AuditEvent, PasskeyUse, User};

use crate::error::StoreError;

/// A user's TOTP second factor.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpFactor {
    /// The secret, encrypted (the service seals and opens it).
    pub secret: Vec<u8>,
    /// Whether enrolment was confirmed; until then login does not ask for it.
    pub active: bool,
    /// The last time step whose code was accepted; no code of it or an earlier step is
    /// accepted again.
    pub last_step: i64,
}

impl std::fmt::Debug for TotpFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpFactor")
            .field("secret", &"[redacted]")
            .field("active", &self.active)
            .field("last_step", &self.last_step)
            .finish()
    }
}

/// What a user presents to complete an MFA challenge, as the service checked it.
#[derive(Clone, PartialEq, Eq)]
pub enum FactorProof {
    /// A TOTP code of time step `step`, checked against the factor's sealed `secret`
    /// as read: the store accepts it only if the active factor still has exactly that
    /// secret and `step` is after its `last_step`.
    Totp {
        /// The sealed secret the code was checked against.
        secret: Vec<u8>,
        /// The code's time step.
        step: i64,
    },
    /// A recovery code, as its keyed hash: accepted if the user has it (then used up).
    Recovery {
        /// The code's hash.
        code_hash: Vec<u8>,
    },
    /// One of the user's passkeys, whose answer the service verified: accepted if the
    /// use is recorded as [`PasskeyStore::use_passkey`](crate::store::PasskeyStore::use_passkey)
    /// records it (the credential is the user's and its counter went up), in the same
    /// transaction as the challenge is used up.
    Passkey(PasskeyUse),
}

impl std::fmt::Debug for FactorProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FactorProof::Totp { step, .. } => f
                .debug_struct("Totp")
                .field("secret", &"[redacted]")
                .field("step", step)
                .finish(),
            FactorProof::Recovery { .. } => f.write_str("Recovery([redacted])"),
            FactorProof::Passkey(u) => f.debug_tuple("Passkey").field(u).finish(),
        }
    }
}

/// The outcome of [`MfaStore::complete_mfa_challenge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeOutcome {
    /// The challenge and the proof were good: both are used up.
    Completed(User),
    /// No such unexpired challenge for that user (never issued, used, expired, or
    /// dropped by a change of password, email, status or second factor).
    Invalid,
    /// The user is blocked: nothing was used up.
    Blocked,
    /// The proof does not match the active factor: nothing was used up.
    WrongCode,
}

capability! {
    /// Storage of second factors. Every method is atomic.
    ///
    /// Any change of a user's factor (started, activated, removed) deletes the user's
    /// pending MFA challenges and reset token in the same transaction.
    pub trait MfaStore {
        /// Starts (or restarts) enrolment with an encrypted `secret`, unless a second
        /// factor is already active: then nothing changes and the answer is `false`.
        /// Errors: [`StoreError::NotFound`] if the user does not exist.
        async fn start_totp(&self, user_id: Uuid, secret: &[u8]) -> Result<bool, StoreError>;

        /// The user's TOTP factor, pending or active.
        async fn totp_factor(&self, user_id: Uuid) -> Result<Option<TotpFactor>, StoreError>;

        /// Confirms a pending enrolment whose code of `step` was checked against the
        /// sealed `secret` (compare-and-set): if the pending factor still has exactly
        /// that secret, it becomes active with `last_step = step`, the recovery codes
        /// are replaced by `recovery_hashes`, and every live session of the user but
        /// `keep_session` is revoked. `false` (nothing changed) if there is no pending
        /// factor or it has another secret (a concurrent re-enrolment).
        /// `audit`, when given, is written in the same transaction, only if the change is made.
        async fn activate_totp(&self, user_id: Uuid, secret: &[u8], step: i64, recovery_hashes: Vec<Vec<u8>>, keep_session: Option<Uuid>, audit: Option<AuditEvent>) -> Result<bool, StoreError>;

        /// Accepts a code of `step` for an active factor: `true` and `last_step = step`
        /// if `step > last_step`; `false` if that step or a later one was used. Of
        /// concurrent calls with one step exactly one gets `true`.
        async fn use_totp_step(&self, user_id: Uuid, step: i64) -> Result<bool, StoreError>;

        /// Uses one of the user's recovery codes: `true` if it existed (it is now gone).
        async fn use_recovery_code(&self, user_id: Uuid, code_hash: &[u8]) -> Result<bool, StoreError>;

        /// How many unused recovery codes the user has.
        async fn recovery_codes_left(&self, user_id: Uuid) -> Result<u32, StoreError>;

        /// Removes the user's second factor and recovery codes and revokes every live
        /// session of the user but `keep_session`; `false` (nothing changed) if there
        /// was no factor.
        /// `audit`, when given, is written in the same transaction, only if the change is made.
        async fn remove_totp(&self, user_id: Uuid, keep_session: Option<Uuid>, audit: Option<AuditEvent>) -> Result<bool, StoreError>;

        /// Stores a login's MFA challenge for `user_id` as `token_hash`, valid until
        /// `expires_at`. Errors: [`StoreError::NotFound`] if the user does not exist.
        async fn put_mfa_challenge(&self, user_id: Uuid, token_hash: &[u8], expires_at: OffsetDateTime) -> Result<(), StoreError>;

        /// Completes an MFA challenge, atomically, checking in this order and using up
        /// nothing unless every check passes: the challenge `token_hash` of `user_id`
        /// exists and `expires_at > now` (else [`ChallengeOutcome::Invalid`]); the
        /// user is active (else [`ChallengeOutcome::Blocked`]); `proof` matches the
        /// active factor (else [`ChallengeOutcome::WrongCode`]). Then the challenge is
        /// deleted, the proof used up (step recorded or recovery code deleted), and the
        /// user returned. Of concurrent completions of one challenge at most one gets
        /// [`ChallengeOutcome::Completed`].
        async fn complete_mfa_challenge(&self, user_id: Uuid, token_hash: &[u8], now: OffsetDateTime, proof: FactorProof) -> Result<ChallengeOutcome, StoreError>;

        /// Deletes challenges whose expiry is at or before `now`; returns how many.
        async fn purge_mfa_challenges(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
    }
    mock mfa: MockMfaStore;
}
