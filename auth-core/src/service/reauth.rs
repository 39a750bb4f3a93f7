//! Re-authentication: fresh proof of the password or the second factor, which
//! sensitive changes (email, second factor) need, so a stolen access token alone
//! cannot make a change that outlives it.

use std::fmt;

use super::{AuthService, ClientInfo, GuessKeys, Principal};
use crate::domain::Password;
use crate::error::AuthError;
use crate::limits::{self, Refusal};

/// What a signed-in user gives to re-authenticate.
#[derive(Clone, PartialEq, Eq)]
pub enum ReauthProof {
    /// The account's password.
    Password(String),
    /// A current TOTP code or an unused recovery code (used up) of the active factor.
    Code(String),
}

impl fmt::Debug for ReauthProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReauthProof::Password(_) => "Password([redacted])",
            ReauthProof::Code(_) => "Code([redacted])",
        })
    }
}

impl AuthService {
    /// Proves again, for the caller's session, that its user knows the password or
    /// holds the second factor: for [`AuthConfig::reauthentication_ttl`](crate::AuthConfig::reauthentication_ttl) after this,
    /// the session may change the email or the second factor. Attempts are throttled
    /// like logins (per address and per account) and a code like a login's second
    /// factor.
    ///
    /// Errors: [`AuthError::InvalidCredentials`] for a wrong password,
    /// [`AuthError::InvalidMfaCode`] for a wrong or used code,
    /// [`AuthError::Throttled`] past the limits, [`AuthError::InvalidToken`] when the
    /// session is no longer alive, [`AuthError::SessionRequired`] for an API key.
    pub async fn reauthenticate(
        &self,
        who: &Principal,
        proof: ReauthProof,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let session_id = who.session_id()?;
        match proof {
            ReauthProof::Password(password) => {
                let t = &self.config.throttle;
                let keys = self.guess_keys(
                    client,
                    GuessKeys {
                        address_scope: "login",
                        subject_scope: "reauth",
                        subject: Some(&who.user_id.to_string()),
                        limit: t.limit(t.max_failures_per_login),
                        refusal: Refusal::Throttled,
                    },
                );
                let reserved = limits::reserve(&*self.store, keys, self.clock.now()).await?;
                let hash = self
                    .store
                    .password_hash(who.user_id)
                    .await?
                    .ok_or(AuthError::InvalidToken)?;
                let valid = match Password::to_check(&password, &self.config.password_policy) {
                    Some(p) => self.hasher.verify(&p, &hash).await?.valid,
                    None => false,
                };
                // A wrong password keeps its reservations: they are the failures.
                if !valid {
                    return Err(AuthError::InvalidCredentials);
                }
                reserved.succeeded(&*self.store).await?;
            }
            ReauthProof::Code(code) => {
                let reserved = self.reserve_mfa_attempt(who.user_id, client).await?;
                if !self.second_factor_matches(who.user_id, &code).await? {
                    return Err(AuthError::InvalidMfaCode);
                }
                reserved.succeeded(&*self.store).await?;
            }
        }
        if !self
            .store
            .mark_reauthenticated(session_id, who.user_id, self.clock.now())
            .await?
        {
            return Err(AuthError::InvalidToken);
        }
        Ok(())
    }

    /// `Ok` if the caller's session re-authenticated within
    /// [`AuthConfig::reauthentication_ttl`](crate::AuthConfig::reauthentication_ttl), else
    /// [`AuthError::ReauthenticationRequired`]; [`AuthError::SessionRequired`] for a
    /// caller with an API key, which has no session to re-authenticate.
    pub async fn require_recent_auth(&self, who: &Principal) -> Result<(), AuthError> {
        let session = self
            .store
            .session(who.session_id()?)
            .await?
            .filter(|s| s.user_id == who.user_id && !s.revoked)
            .ok_or(AuthError::InvalidToken)?;
        let now = self.clock.now();
        match session.reauthenticated_at {
            Some(at) if at <= now && now - at < self.config.reauthentication_ttl => Ok(()),
            _ => Err(AuthError::ReauthenticationRequired),
        }
    }
}
