//! Second factors: a TOTP secret per user and single-use recovery codes.

use uuid::Uuid;

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

capability! {
    /// Storage of second factors. Every method is atomic.
    pub trait MfaStore {
        /// Starts (or restarts) enrolment with an encrypted `secret`, unless a second
        /// factor is already active: then nothing changes and the answer is `false`.
        /// Errors: [`StoreError::NotFound`] if the user does not exist.
        async fn start_totp(&self, user_id: Uuid, secret: &[u8]) -> Result<bool, StoreError>;

        /// The user's TOTP factor, pending or active.
        async fn totp_factor(&self, user_id: Uuid) -> Result<Option<TotpFactor>, StoreError>;

        /// Confirms a pending enrolment whose code was of `step`: the factor becomes
        /// active with `last_step = step` and the recovery codes are replaced by
        /// `recovery_hashes`. `false` (nothing changed) if there is no pending factor.
        async fn activate_totp(&self, user_id: Uuid, step: i64, recovery_hashes: Vec<Vec<u8>>) -> Result<bool, StoreError>;

        /// Accepts a code of `step` for an active factor: `true` and `last_step = step`
        /// if `step > last_step`; `false` if that step or a later one was used. Of
        /// concurrent calls with one step exactly one gets `true`.
        async fn use_totp_step(&self, user_id: Uuid, step: i64) -> Result<bool, StoreError>;

        /// Uses one of the user's recovery codes: `true` if it existed (it is now gone).
        async fn use_recovery_code(&self, user_id: Uuid, code_hash: &[u8]) -> Result<bool, StoreError>;

        /// How many unused recovery codes the user has.
        async fn recovery_codes_left(&self, user_id: Uuid) -> Result<u32, StoreError>;

        /// Removes the user's second factor and recovery codes; `false` if there was none.
        async fn remove_totp(&self, user_id: Uuid) -> Result<bool, StoreError>;
    }
}
