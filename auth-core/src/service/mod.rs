//! [`AuthService`]: the operations an application calls.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use time::Duration;
use uuid::Uuid;

use crate::clock::{Clock, SystemClock};
use crate::domain::{PersonName, ValidationError};
use crate::error::{AuthError, StoreError};
use crate::limits::{LimitKey, Refusal};
use crate::mailer::{Mailer, NoopMailer};
use crate::password::PasswordHasher;
use crate::refresh::{RefreshSecret, TokenMac};
use crate::store::*;
use crate::token::{CustomClaims, JwkSet, KeySet, RESERVED_CLAIMS};
use crate::verified::VerifiedTokens;

mod accounts;
mod admin;
mod api_keys;
mod audit;
mod config;
mod email_change;
mod login;
mod mail;
mod mfa;
#[cfg(feature = "passkeys")]
mod passkeys;
mod reauth;
mod reset;
mod sessions;
mod signing_keys;
#[cfg(all(test, feature = "memory"))]
mod tests;
mod verification;

pub use crate::error::MfaChallenge;
pub use accounts::{ProfileUpdate, Registration};
pub use api_keys::{
    API_KEY_PREFIX, ApiKeyInfo, ApiKeySecret, CreatedApiKey, LAST_USED_EVERY, MAX_RATE_LIMIT,
    NewApiKey, is_api_key,
};
pub use config::{AuthConfig, KeyRotation, ThrottlePolicy};
pub use login::TokenPair;
pub use mfa::{RECOVERY_CODES, TotpEnrolment};
#[cfg(feature = "passkeys")]
pub use passkeys::{
    PASSKEY_FORMAT, PasskeyChallenge, PasskeyConfig, PasskeyConfigError, PasskeyInfo, Passkeys,
};
pub use reauth::ReauthProof;
pub use sessions::{Credential, LogoutScope, Principal, SessionInfo};
pub use signing_keys::SigningKeyInfo;

/// Where a request came from; recorded with sessions and login history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// Client address.
    pub ip: Option<IpAddr>,
    /// Client user agent (truncated to 512 bytes).
    pub user_agent: Option<String>,
}

/// The auth service. Cheap to share: hold it in an `Arc`.
pub struct AuthService {
    store: Arc<dyn AuthStore>,
    /// The keys given to [`AuthService::new`].
    configured_keys: KeySet,
    /// The keys in use: the configured ones, or those built from the store.
    keys: std::sync::RwLock<signing_keys::LoadedKeys>,
    codec: TokenMac,
    hasher: PasswordHasher,
    clock: Arc<dyn Clock>,
    mailer: Arc<dyn Mailer>,
    verified: VerifiedTokens,
    claims: Option<Arc<ClaimsFn>>,
    config: AuthConfig,
}

/// Computes an application's claims for an access token from the user id and roles.
pub type ClaimsFn = dyn Fn(Uuid, &[String]) -> CustomClaims + Send + Sync;

impl fmt::Debug for AuthService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("store", &self.store)
            .field("keys", &self.keys())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

pub(super) fn secs(d: Duration) -> i64 {
    d.whole_seconds()
}

/// Where one guess (a password, a code) is counted: the client's address in
/// `address_scope` under the per-address failure limit, and `subject` in
/// `subject_scope` under `limit`, which a success clears.
pub(super) struct GuessKeys<'a> {
    pub(super) address_scope: &'static str,
    pub(super) subject_scope: &'static str,
    pub(super) subject: Option<&'a str>,
    pub(super) limit: AttemptLimit,
    pub(super) refusal: Refusal,
}

impl AuthService {
    /// The two keys of a guess from `client` (see [`GuessKeys`]).
    pub(super) fn guess_keys(
        &self,
        client: &ClientInfo,
        g: GuessKeys<'_>,
    ) -> [Option<LimitKey>; 2] {
        let t = &self.config.throttle;
        [
            LimitKey::address(
                g.address_scope,
                client.ip,
                t.limit(t.max_failures_per_ip),
                Refusal::Throttled,
            ),
            g.subject
                .and_then(|s| LimitKey::subject(g.subject_scope, s, g.limit, g.refusal))
                .map(LimitKey::cleared_by_success),
        ]
    }
}

impl AuthService {
    /// A service over `store`, signing with `keys` and tagging refresh tokens with
    /// `refresh_secret`.
    pub fn new(
        store: Arc<dyn AuthStore>,
        keys: KeySet,
        refresh_secret: &RefreshSecret,
        config: AuthConfig,
    ) -> Result<Self, AuthError> {
        Ok(Self {
            store,
            keys: std::sync::RwLock::new(signing_keys::LoadedKeys {
                set: Arc::new(keys.clone()),
                generation: None,
            }),
            configured_keys: keys,
            codec: TokenMac::new(refresh_secret),
            hasher: PasswordHasher::new(config.argon2)?,
            clock: Arc::new(SystemClock),
            mailer: Arc::new(NoopMailer),
            verified: VerifiedTokens::new(config.verified_token_cache),
            claims: None,
            config,
        })
    }

    /// Adds the application's own claims to every access token issued from now on, at
    /// login and at each refresh: `claims(user_id, roles)`. They are signed with the
    /// token and come back in [`AccessClaims::custom`](crate::AccessClaims::custom) from [`AuthService::verify`]
    /// and in [`Principal::custom`] from [`AuthService::authenticate`]. Claims named
    /// like this crate's own ([`RESERVED_CLAIMS`]) are dropped. Keep them small: every
    /// request carries them.
    pub fn with_custom_claims(
        mut self,
        claims: impl Fn(Uuid, &[String]) -> CustomClaims + Send + Sync + 'static,
    ) -> Self {
        self.claims = Some(Arc::new(claims));
        self
    }

    pub(super) fn custom_claims(&self, user: Uuid, roles: &[String]) -> CustomClaims {
        let Some(claims) = &self.claims else {
            return CustomClaims::new();
        };
        let mut custom = claims(user, roles);
        custom.retain(|name, _| !RESERVED_CLAIMS.contains(&name.as_str()));
        custom
    }

    /// Replaces the clock (tests move time without sleeping).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the mailer that delivers verification codes.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = mailer;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn AuthStore> {
        &self.store
    }

    /// The key set in use: the one given to [`AuthService::new`], or, with
    /// [`AuthConfig::key_rotation`], the one built from the stored keys (which changes
    /// as they rotate).
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .set
            .clone()
    }

    /// The public keys as a JWK Set.
    pub fn jwks(&self) -> JwkSet {
        self.keys().jwks()
    }

    pub(super) fn parse_names(
        first: Option<&str>,
        last: Option<&str>,
    ) -> Result<(Option<PersonName>, Option<PersonName>), ValidationError> {
        Ok((
            first
                .map(|n| PersonName::parse("first_name", n))
                .transpose()?,
            last.map(|n| PersonName::parse("last_name", n))
                .transpose()?,
        ))
    }

    /// Deletes dead sessions, expired verification codes, reset tokens, MFA
    /// challenges and pending email changes, dead attempt counters, and audit events
    /// past [`AuthConfig::audit_retention`]; returns how many rows.
    pub async fn purge_expired(&self) -> Result<u64, AuthError> {
        let now = self.clock.now();
        let sessions = self.store.purge_sessions(now, self.config.idle_ttl).await?;
        let codes = self.store.purge_codes(now).await?;
        let resets = self.store.purge_reset_tokens(now).await?;
        let challenges = self.store.purge_mfa_challenges(now).await?;
        let email_changes = self.store.purge_email_changes(now).await?;
        // A counter is dead once a whole window has passed since its last attempt: its
        // window has ended and its lock (never longer than the window) too.
        let attempts = self
            .store
            .purge_attempts(now - self.config.longest_limit_window())
            .await?;
        let audit = match self.config.audit_retention {
            Some(keep) => self.store.purge_audit(now - keep).await?,
            None => 0,
        };
        Ok(sessions + codes + resets + challenges + email_changes + attempts + audit)
    }

    /// Runs [`AuthService::purge_expired`] every `every` (the first after one period)
    /// on the current tokio runtime, until the returned handle is aborted; a failed
    /// purge is logged (`tracing`, warn) and tried again at the next one. Abort the
    /// handle on shutdown. Panics outside a tokio runtime, as `tokio::spawn` does.
    pub fn spawn_purger(
        self: &Arc<Self>,
        every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let auth = Arc::downgrade(self);
        let every = every.max(std::time::Duration::from_millis(1));
        tokio::spawn(async move {
            let start = tokio::time::Instant::now() + every;
            let mut tick = tokio::time::interval_at(start, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // The service gone (the application shut down): nothing left to purge.
                let Some(auth) = auth.upgrade() else { return };
                match auth.purge_expired().await {
                    Ok(n) => tracing::debug!(rows = n, "purged expired sessions and codes"),
                    Err(e) => tracing::warn!(error = %e, "purge failed; will retry"),
                }
            }
        })
    }
}

/// Free text a client sends: trimmed, at most `max` characters, no control characters
/// (which include NUL, which no SQL text column can hold).
pub(super) fn plain_text(field: &'static str, raw: &str, max: usize) -> Result<String, AuthError> {
    let text = raw.trim();
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            format!("{field} must be at most {max} characters, none of them control characters"),
        )
        .into());
    }
    Ok(text.to_owned())
}

/// Longest name of a passkey or an API key, in characters.
pub(super) const MAX_NAME: usize = 64;

/// The name a user gives a passkey or an API key: [`plain_text`] of at most
/// [`MAX_NAME`] characters, not empty.
pub(super) fn item_name(raw: &str) -> Result<String, AuthError> {
    let name = plain_text("name", raw, MAX_NAME)?;
    if name.is_empty() {
        return Err(ValidationError::new("name", "name must not be empty").into());
    }
    Ok(name)
}

pub(super) fn not_found(e: StoreError, what: &'static str) -> AuthError {
    match e {
        StoreError::NotFound => AuthError::NotFound(what),
        other => other.into(),
    }
}
