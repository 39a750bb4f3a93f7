//! Tunable behaviour: the configuration and the throttle policy.

use time::Duration;

use crate::domain::{LoginPolicy, PasswordPolicy};
use crate::limits::RequestLimits;
use crate::password::Argon2Params;
use crate::store::{AttemptLimit, ReusePolicy};

/// Brute-force throttling of logins and verification codes.
///
/// Each attempt is reserved per login and per client address in the store before
/// anything is checked ([`AttemptStore::reserve_attempt`](crate::store::AttemptStore::reserve_attempt)), so the limits hold under
/// parallel bursts and across server instances. Once a key reaches its limit within
/// `window`, further attempts are refused, without checking anything, until
/// `base_delay` doubled per extra attempt (capped at `window`) has passed since the
/// last one. A success resets its login's count and gives the address its attempt
/// back. A limit of 0 turns that key off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed per login within `window` (default 5).
    pub max_failures_per_login: u32,
    /// Failures allowed per client address within `window` (default 20).
    pub max_failures_per_ip: u32,
    /// Counting window (default 15 minutes).
    pub window: Duration,
    /// Wait after reaching a limit; doubles with each further failure (default 30 s).
    pub base_delay: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            max_failures_per_login: 5,
            max_failures_per_ip: 20,
            window: Duration::minutes(15),
            base_delay: Duration::seconds(30),
        }
    }
}

impl ThrottlePolicy {
    /// The rule of a key allowing `max` failures.
    pub fn limit(&self, max: u32) -> AttemptLimit {
        AttemptLimit {
            max,
            window: self.window,
            base_delay: self.base_delay,
        }
    }
}

/// Tunable behaviour of the service. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Lifetime of access tokens (default 15 minutes).
    pub access_ttl: Duration,
    /// Absolute lifetime of a session (default 30 days).
    pub session_ttl: Duration,
    /// A session not refreshed for this long dies (default 7 days).
    pub idle_ttl: Duration,
    /// Window in which the previous refresh token is a retry, not a reuse (default 10 s).
    pub reuse_grace: Duration,
    /// What reuse of a refresh token revokes (default: every session of the user).
    pub reuse_policy: ReusePolicy,
    /// Whether login requires a verified email (default off).
    pub require_email_verification: bool,
    /// Lifetime of an email verification code (default 15 minutes).
    pub verification_code_ttl: Duration,
    /// Wrong codes allowed per login under the [`ThrottlePolicy`] window and delays
    /// (default 5); a new code does not restore them.
    pub verification_max_attempts: u32,
    /// Which logins may be registered (default: Latin letters and digits, 2 to 64).
    pub login_policy: LoginPolicy,
    /// Rules for new passwords.
    pub password_policy: PasswordPolicy,
    /// Argon2id parameters for new hashes (default OWASP).
    pub argon2: Argon2Params,
    /// Brute-force throttling of logins and verification codes.
    pub throttle: ThrottlePolicy,
    /// Request limits per address and per account.
    pub limits: RequestLimits,
    /// Live sessions a user may have (default 100); a login past it revokes the
    /// oldest. 0 means no cap.
    pub max_sessions_per_user: u32,
    /// How many verified access tokens `authenticate` remembers so each token's
    /// signature is checked once (default 10 000; 0 turns the cache off).
    pub verified_token_cache: usize,
    /// Lifetime of a password reset token (default 30 minutes).
    pub reset_token_ttl: Duration,
    /// Lifetime of the challenge token of a login that needs a second factor
    /// (default 5 minutes).
    pub mfa_challenge_ttl: Duration,
    /// How long one mail may take to send before it is given up and logged (default
    /// 10 s).
    pub mail_timeout: Duration,
    /// How long a re-authentication ([`AuthService::reauthenticate`](crate::AuthService::reauthenticate)) lets its session
    /// make sensitive changes: the email, the second factor (default 5 minutes).
    pub reauthentication_ttl: Duration,
    /// How long audit events are kept: [`AuthService::purge_expired`](crate::AuthService::purge_expired) deletes older
    /// ones (default 365 days; `None` keeps them for good).
    pub audit_retention: Option<Duration>,
    /// Lifetime of the code that confirms an email change at the new address
    /// (default 15 minutes).
    pub email_change_ttl: Duration,
    /// Signing keys kept in the store and rotated on this schedule (default `None`:
    /// the key set given to [`AuthService::new`](crate::AuthService::new) signs, as loaded).
    pub key_rotation: Option<KeyRotation>,
}

/// The schedule of signing keys kept in the store ([`AuthConfig::key_rotation`]).
///
/// A new key is published in the JWKS as *next* as soon as the one before it starts to
/// sign, and signs once `period` has passed and it has been published for at least
/// `jwks_max_age + poll` (so every resource server's cached JWKS holds it, and every
/// instance has loaded it). The key it replaces stays published as *retired* for the
/// access-token lifetime plus `grace`, then leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRotation {
    /// How long a key signs.
    pub period: Duration,
    /// How long a resource server may cache the JWKS: its `Cache-Control: max-age`.
    pub jwks_max_age: Duration,
    /// How long a retired key stays published after its last token expired (clock
    /// skew, slow clients).
    pub grace: Duration,
    /// How often each instance reads the keys from the store (and applies the
    /// schedule): a rotation or revocation made elsewhere takes effect within it.
    pub poll: Duration,
}

impl KeyRotation {
    /// A new key every `period`, with a JWKS cache lifetime of 5 minutes, a grace of 5
    /// minutes and a poll every 10 seconds.
    pub fn every(period: Duration) -> Self {
        Self {
            period,
            jwks_max_age: Duration::minutes(5),
            grace: Duration::minutes(5),
            poll: Duration::seconds(10),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_ttl: Duration::minutes(15),
            session_ttl: Duration::days(30),
            idle_ttl: Duration::days(7),
            reuse_grace: Duration::seconds(10),
            reuse_policy: ReusePolicy::RevokeUser,
            require_email_verification: false,
            verification_code_ttl: Duration::minutes(15),
            verification_max_attempts: 5,
            login_policy: LoginPolicy::default(),
            password_policy: PasswordPolicy::default(),
            argon2: Argon2Params::default(),
            verified_token_cache: 10_000,
            throttle: ThrottlePolicy::default(),
            limits: RequestLimits::default(),
            max_sessions_per_user: 100,
            reset_token_ttl: Duration::minutes(30),
            mfa_challenge_ttl: Duration::minutes(5),
            mail_timeout: Duration::seconds(10),
            reauthentication_ttl: Duration::minutes(5),
            audit_retention: Some(Duration::days(365)),
            email_change_ttl: Duration::minutes(15),
            key_rotation: None,
        }
    }
}

impl AuthConfig {
    /// How long a resource server may cache the JWKS: the rotation's
    /// [`KeyRotation::jwks_max_age`], or 5 minutes for keys that change only with a
    /// restart.
    pub fn jwks_max_age(&self) -> Duration {
        self.key_rotation
            .map_or(Duration::minutes(5), |r| r.jwks_max_age)
    }

    /// The longest window of any limit: counters idle for longer are dead.
    pub(super) fn longest_limit_window(&self) -> Duration {
        let l = &self.limits;
        [
            self.throttle.window,
            l.register_per_ip.window,
            l.refresh_per_ip.window,
            l.email_changes_per_user.window,
            l.resend_per_login.window,
            l.resend_per_ip.window,
            l.reset_per_email.window,
            l.reset_per_ip.window,
            l.passkey_sign_in_per_ip.window,
        ]
        .into_iter()
        .max()
        .unwrap_or(Duration::ZERO)
    }
}
