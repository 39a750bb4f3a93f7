//! [`AuthService`]: the operations an application calls.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::clock::{Clock, SystemClock};
use crate::domain::{
    Email, Login, Password, PasswordPolicy, PersonName, RoleName, ValidationError,
};
use crate::error::{AuthError, StoreError};
use crate::limits::{self, LimitKey, Refusal, RequestLimits};
use crate::mailer::{Mailer, NoopMailer};
use crate::password::{Argon2Params, PasswordHasher};
use crate::refresh::{RefreshSecret, RefreshTokenCodec};
use crate::store::*;
use crate::token::{AccessClaims, JwkSet, KeySet, TokenError};
use crate::verified::VerifiedTokens;

const CODE_LABEL: &str = "email-verification-code";
const MAX_USER_AGENT: usize = 512;

/// Brute-force throttling of logins and verification codes.
///
/// Each attempt is reserved per login and per client address in the store before
/// anything is checked ([`AuthStore::reserve_attempt`]), so the limits hold under
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
            password_policy: PasswordPolicy::default(),
            argon2: Argon2Params::default(),
            verified_token_cache: 10_000,
            throttle: ThrottlePolicy::default(),
            limits: RequestLimits::default(),
            max_sessions_per_user: 100,
        }
    }
}

impl AuthConfig {
    /// The longest window of any limit: counters idle for longer are dead.
    fn longest_limit_window(&self) -> Duration {
        let l = &self.limits;
        [
            self.throttle.window,
            l.register_per_ip.window,
            l.refresh_per_ip.window,
            l.email_changes_per_user.window,
            l.resend_per_login.window,
            l.resend_per_ip.window,
        ]
        .into_iter()
        .max()
        .unwrap_or(Duration::ZERO)
    }
}

/// Where a request came from; recorded with sessions and login history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// Client address.
    pub ip: Option<IpAddr>,
    /// Client user agent (truncated to 512 bytes).
    pub user_agent: Option<String>,
}

/// An access token and a refresh token, as returned by login and refresh.
#[derive(Clone, Serialize)]
pub struct TokenPair {
    /// JWT access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque refresh token.
    pub refresh_token: String,
    /// Seconds until the session expires if not refreshed.
    pub refresh_expires_in: i64,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &"[redacted]")
            .field("refresh_expires_in", &self.refresh_expires_in)
            .finish()
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User id.
    pub user_id: Uuid,
    /// Session id.
    pub session_id: Uuid,
    /// Current roles (read from the store, so revoking a role takes effect at once).
    pub roles: Vec<String>,
}

impl Principal {
    /// Whether the caller has `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// `Ok` if the caller has `role`, else [`AuthError::Forbidden`].
    pub fn require_role(&self, role: &str) -> Result<(), AuthError> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(AuthError::Forbidden)
        }
    }
}

/// Which sessions a logout ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogoutScope {
    /// This session only.
    #[default]
    Local,
    /// Every session of the user.
    Global,
    /// Every session but this one.
    Others,
}

/// Registration input, as typed by the user; the service validates every field.
#[derive(Clone, Default, Deserialize)]
pub struct Registration {
    /// Login.
    pub login: String,
    /// Password in clear.
    pub password: String,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("login", &self.login)
            .field("password", &"[redacted]")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A profile change; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileUpdate {
    /// New email (resets verification when it changes).
    #[serde(default)]
    pub email: Option<String>,
    /// New first name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// New last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// New verification flag; honoured for administrators only.
    #[serde(default)]
    pub email_verified: Option<bool>,
}

/// A session as shown to its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    /// Session id.
    pub id: Uuid,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last rotation.
    #[serde(with = "time::serde::rfc3339")]
    pub last_refreshed_at: OffsetDateTime,
    /// Absolute expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Client address at login.
    pub ip: Option<IpAddr>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
    /// Whether this is the caller's own session.
    pub current: bool,
}

/// The auth service. Cheap to share: hold it in an `Arc`.
pub struct AuthService {
    store: Arc<dyn AuthStore>,
    keys: KeySet,
    codec: RefreshTokenCodec,
    hasher: PasswordHasher,
    clock: Arc<dyn Clock>,
    mailer: Arc<dyn Mailer>,
    verified: VerifiedTokens,
    config: AuthConfig,
}

impl fmt::Debug for AuthService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("store", &self.store)
            .field("keys", &self.keys)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn secs(d: Duration) -> i64 {
    d.whole_seconds()
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
            keys,
            codec: RefreshTokenCodec::new(refresh_secret),
            hasher: PasswordHasher::new(config.argon2)?,
            clock: Arc::new(SystemClock),
            mailer: Arc::new(NoopMailer),
            verified: VerifiedTokens::new(config.verified_token_cache),
            config,
        })
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

    /// The key set.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The password hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The refresh token codec.
    pub fn refresh_codec(&self) -> &RefreshTokenCodec {
        &self.codec
    }

    /// The public keys as a JWK Set.
    pub fn jwks(&self) -> JwkSet {
        self.keys.jwks()
    }

    fn parse_names(
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

    /// Registers an account. With an email, a verification code is sent.
    ///
    /// Errors: [`AuthError::Validation`] naming the broken rule, [`AuthError::LoginTaken`],
    /// [`AuthError::EmailTaken`], [`AuthError::RateLimited`] past
    /// [`RequestLimits::register_per_ip`] (counted once the fields are valid).
    pub async fn register(
        &self,
        reg: Registration,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        let login = Login::parse(&reg.login)?;
        let password = Password::parse(&reg.password, &self.config.password_policy)?;
        let email = reg.email.as_deref().map(Email::parse).transpose()?;
        if email.is_none() && self.config.require_email_verification {
            return Err(ValidationError::new("email", "email is required").into());
        }
        let (first_name, last_name) =
            Self::parse_names(reg.first_name.as_deref(), reg.last_name.as_deref())?;
        let limit = self.config.limits.register_per_ip.attempt_limit();
        let key = LimitKey::address("register", client.ip, limit, Refusal::RateLimited);
        // Counted whatever the outcome: a taken login is an answer too.
        drop(limits::reserve(&*self.store, [key], self.clock.now()).await?);
        let password_hash = self.hasher.hash(&password).await?;
        let user = self
            .store
            .create_user(NewUser {
                id: Uuid::now_v7(),
                login,
                email,
                first_name,
                last_name,
                password_hash,
                email_verified: false,
                roles: vec![],
                created_at: self.clock.now(),
            })
            .await?;
        if user.email.is_some() {
            self.send_code(&user).await?;
        }
        Ok(user)
    }

    async fn send_code(&self, user: &User) -> Result<(), AuthError> {
        let Some(email) = &user.email else {
            return Ok(());
        };
        let code = random_code();
        self.store
            .put_verification_code(VerificationCode {
                user_id: user.id,
                code_hash: self.codec.digest(CODE_LABEL, code.as_bytes()),
                expires_at: self.clock.now() + self.config.verification_code_ttl,
            })
            .await?;
        if let Err(e) = self
            .mailer
            .send_verification_code(email, &user.login, &code)
            .await
        {
            // The account exists either way; a new code can be requested.
            tracing::warn!(user_id = %user.id, error = %e, "verification code not delivered");
        }
        Ok(())
    }

    /// Sends a new verification code (the old one stops working). Unknown logins and
    /// verified accounts succeed silently so the call reveals nothing.
    ///
    /// Errors: [`AuthError::RateLimited`] past [`RequestLimits::resend_per_login`] or
    /// [`RequestLimits::resend_per_ip`], for any login alike.
    pub async fn resend_verification(
        &self,
        login: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let login = Login::parse(login).ok();
        let limits = &self.config.limits;
        let (per_ip, per_login) = (
            limits.resend_per_ip.attempt_limit(),
            limits.resend_per_login.attempt_limit(),
        );
        let keys = [
            LimitKey::address("resend", client.ip, per_ip, Refusal::RateLimited),
            login.as_ref().and_then(|l| {
                LimitKey::subject("resend", l.as_str(), per_login, Refusal::RateLimited)
            }),
        ];
        drop(limits::reserve(&*self.store, keys, self.clock.now()).await?);
        let Some(login) = login else {
            return Ok(());
        };
        match self.store.credentials_by_login(login.as_str()).await? {
            Some(c) if !c.user.email_verified => self.send_code(&c.user).await,
            _ => Ok(()),
        }
    }

    /// Checks a verification code and marks the email verified.
    ///
    /// Each attempt is counted before the code is checked: per login against
    /// [`AuthConfig::verification_max_attempts`] (a new code does not restore the
    /// budget) and per client address against the [`ThrottlePolicy`].
    ///
    /// Errors: [`AuthError::InvalidVerificationCode`] for a wrong or expired code and
    /// equally for an unknown or already verified login,
    /// [`AuthError::TooManyAttempts`] once the login's budget is used up,
    /// [`AuthError::Throttled`] when the address failed too often.
    pub async fn verify_email(
        &self,
        login: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let login = Login::parse(login).ok();
        let t = &self.config.throttle;
        let budget = t.limit(self.config.verification_max_attempts);
        let keys = [
            LimitKey::address(
                "verify",
                client.ip,
                t.limit(t.max_failures_per_ip),
                Refusal::Throttled,
            ),
            login
                .as_ref()
                .and_then(|l| {
                    LimitKey::subject("verify", l.as_str(), budget, Refusal::TooManyAttempts)
                })
                .map(LimitKey::cleared_by_success),
        ];
        let reserved = limits::reserve(&*self.store, keys, self.clock.now()).await?;
        // No account has a login that breaks the rules; the store never sees one.
        let Some(login) = login else {
            return Err(AuthError::InvalidVerificationCode);
        };
        // A wrong code keeps its reservations: they are the failures.
        self.check_code(&login, code).await?;
        reserved.succeeded(&*self.store).await
    }

    async fn check_code(&self, login: &Login, code: &str) -> Result<(), AuthError> {
        let Some(creds) = self.store.credentials_by_login(login.as_str()).await? else {
            return Err(AuthError::InvalidVerificationCode);
        };
        if creds.user.email_verified {
            return Err(AuthError::InvalidVerificationCode);
        }
        let Some(stored) = self.store.verification_code(creds.user.id).await? else {
            return Err(AuthError::InvalidVerificationCode);
        };
        if stored.expires_at <= self.clock.now() {
            return Err(AuthError::InvalidVerificationCode);
        }
        let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
        if !well_formed
            || !self
                .codec
                .digest_matches(CODE_LABEL, code.as_bytes(), &stored.code_hash)
        {
            return Err(AuthError::InvalidVerificationCode);
        }
        self.store.complete_verification(creds.user.id).await?;
        Ok(())
    }

    /// Checks credentials and opens a session.
    ///
    /// Unknown logins and wrong passwords both give [`AuthError::InvalidCredentials`]
    /// after the same Argon2 work, and count as failures for the login and the client
    /// address; past the [`ThrottlePolicy`] limits, attempts get
    /// [`AuthError::Throttled`] before any hashing. A blocked account ([`AuthError::Blocked`]) or an
    /// unverified email ([`AuthError::EmailNotVerified`]) is only revealed to a caller
    /// who knows the password. Every attempt on a known account is recorded.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let password = Password::unchecked(password);
        let client = ClientInfo {
            user_agent: client.user_agent.map(|ua| truncate(ua, MAX_USER_AGENT)),
            ..client
        };
        let parsed = Login::parse(login).ok();
        let t = &self.config.throttle;
        let keys = [
            LimitKey::address(
                "login",
                client.ip,
                t.limit(t.max_failures_per_ip),
                Refusal::Throttled,
            ),
            parsed
                .as_ref()
                .and_then(|l| {
                    let limit = t.limit(t.max_failures_per_login);
                    LimitKey::subject("login", l.as_str(), limit, Refusal::Throttled)
                })
                .map(LimitKey::cleared_by_success),
        ];
        // Reserved before any hashing: a refused attempt costs one write per key, and
        // parallel guesses get no more checks than the limit.
        let reserved = limits::reserve(&*self.store, keys, self.clock.now()).await?;
        let creds = match &parsed {
            Some(l) => self.store.credentials_by_login(l.as_str()).await?,
            None => None,
        };
        let Some(creds) = creds else {
            self.hasher.verify_dummy(&password).await?;
            return Err(AuthError::InvalidCredentials);
        };
        let user = creds.user;
        let check = self.hasher.verify(&password, &creds.password_hash).await?;
        let outcome = if !check.valid {
            Err(AuthError::InvalidCredentials)
        } else if user.status == UserStatus::Blocked {
            Err(AuthError::Blocked)
        } else if self.config.require_email_verification && !user.email_verified {
            Err(AuthError::EmailNotVerified)
        } else {
            Ok(())
        };
        let now = self.clock.now();
        self.store
            .record_login(LoginEvent {
                user_id: user.id,
                at: now,
                ip: client.ip,
                user_agent: client.user_agent.clone(),
                success: outcome.is_ok(),
            })
            .await?;
        // A wrong password keeps its reservations: they are the failures. The right
        // one on an account that may not sign in is not a guess.
        match (&outcome, check.valid) {
            (Ok(()), _) => reserved.succeeded(&*self.store).await?,
            (Err(_), true) => reserved.not_counted(&*self.store).await?,
            (Err(_), false) => drop(reserved),
        }
        outcome?;
        if check.needs_rehash {
            let fresh = self.hasher.hash(&password).await?;
            self.store.set_password_hash(user.id, &fresh, None).await?;
        }
        let session = Session {
            id: Uuid::new_v4(),
            user_id: user.id,
            counter: 0,
            created_at: now,
            last_refreshed_at: now,
            expires_at: now + self.config.session_ttl,
            revoked: false,
            ip: client.ip,
            user_agent: client.user_agent,
        };
        let evicted = self
            .store
            .create_session(session.clone(), self.config.max_sessions_per_user)
            .await?;
        if evicted > 0 {
            tracing::info!(user_id = %user.id, evicted, "session cap reached; oldest sessions revoked");
        }
        self.issue_pair(&session, user.roles, now)
    }

    fn issue_pair(
        &self,
        session: &Session,
        roles: Vec<String>,
        now: OffsetDateTime,
    ) -> Result<TokenPair, AuthError> {
        let iat = now.unix_timestamp();
        let claims = AccessClaims {
            iss: self.keys.issuer().to_owned(),
            aud: self.keys.audience().to_owned(),
            sub: session.user_id,
            sid: session.id,
            iat,
            exp: iat + secs(self.config.access_ttl),
            jti: Uuid::new_v4(),
            nbf: None,
            roles,
        };
        let access_token = self
            .keys
            .sign(&claims)
            .map_err(|e| AuthError::Internal(e.into()))?;
        let idle_end = session.last_refreshed_at + self.config.idle_ttl;
        let refresh_end = idle_end.min(session.expires_at);
        Ok(TokenPair {
            access_token,
            token_type: "Bearer",
            expires_in: secs(self.config.access_ttl),
            refresh_token: self.codec.encode(session.id, session.counter),
            refresh_expires_in: secs(refresh_end - now).max(0),
        })
    }

    /// Exchanges a refresh token for a new pair, following the rotation rule of the
    /// design: rotate, retry within the grace window, or detect reuse.
    ///
    /// Errors: [`AuthError::InvalidRefreshToken`], [`AuthError::RefreshTokenReused`]
    /// (after the revocation is committed), [`AuthError::RateLimited`] past
    /// [`RequestLimits::refresh_per_ip`] (only well-formed tokens are counted).
    pub async fn refresh(
        &self,
        refresh_token: &str,
        client: &ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let Some((session_id, counter)) = self.codec.decode(refresh_token) else {
            return Err(AuthError::InvalidRefreshToken);
        };
        let now = self.clock.now();
        let limit = self.config.limits.refresh_per_ip.attempt_limit();
        let key = LimitKey::address("refresh", client.ip, limit, Refusal::RateLimited);
        drop(limits::reserve(&*self.store, [key], now).await?);
        let outcome = self
            .store
            .refresh_session(RefreshRequest {
                session_id,
                counter,
                now,
                reuse_grace: self.config.reuse_grace,
                idle_timeout: self.config.idle_ttl,
                reuse_policy: self.config.reuse_policy,
            })
            .await?;
        match outcome {
            RefreshOutcome::Rotated { session, roles }
            | RefreshOutcome::Retried { session, roles } => self.issue_pair(&session, roles, now),
            RefreshOutcome::Reused { user_id, revoked } => {
                tracing::warn!(
                    %user_id, %session_id, revoked, policy = ?self.config.reuse_policy,
                    "refresh token reuse detected; sessions revoked"
                );
                Err(AuthError::RefreshTokenReused)
            }
            RefreshOutcome::Rejected => Err(AuthError::InvalidRefreshToken),
        }
    }

    /// Stateless check of an access token: signature and claims only, no store call.
    pub fn verify(&self, access_token: &str) -> Result<AccessClaims, AuthError> {
        self.keys
            .verify(access_token, self.clock.now().unix_timestamp())
            .map_err(|e: TokenError| {
                tracing::debug!(reason = %e, "access token rejected");
                AuthError::InvalidToken
            })
    }

    /// Stateful check: [`AuthService::verify`] plus one store read confirming the
    /// session is alive and its user not blocked. Logout, revocation, blocking and
    /// password changes take effect at once.
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal, AuthError> {
        let now = self.clock.now();
        let unix = now.unix_timestamp();
        let (sub, sid) = match self.verified.get(access_token, unix) {
            Some(v) => (v.sub, v.sid),
            None => {
                let claims = self.verify(access_token)?;
                self.verified
                    .insert(access_token, &claims, self.keys.leeway(), unix);
                (claims.sub, claims.sid)
            }
        };
        let status = self
            .store
            .session_status(sid)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        let alive = status.user_id == sub
            && !status.revoked
            && status.expires_at > now
            && status.last_refreshed_at + self.config.idle_ttl > now
            && status.user_status == UserStatus::Active;
        if !alive {
            return Err(AuthError::InvalidToken);
        }
        Ok(Principal {
            user_id: sub,
            session_id: sid,
            roles: status.roles,
        })
    }

    /// Ends this session, every session, or every other session of the caller.
    /// Returns how many sessions were revoked.
    pub async fn logout(&self, who: &Principal, scope: LogoutScope) -> Result<u64, AuthError> {
        Ok(match scope {
            LogoutScope::Local => u64::from(
                self.store
                    .revoke_session(who.session_id, Some(who.user_id))
                    .await?,
            ),
            LogoutScope::Global => self.store.revoke_user_sessions(who.user_id, None).await?,
            LogoutScope::Others => {
                self.store
                    .revoke_user_sessions(who.user_id, Some(who.session_id))
                    .await?
            }
        })
    }

    /// The user with this id. Errors: [`AuthError::NotFound`].
    pub async fn user(&self, id: Uuid) -> Result<User, AuthError> {
        self.store
            .user_by_id(id)
            .await?
            .ok_or(AuthError::NotFound("user"))
    }

    /// Changes the caller's password and revokes every other session.
    ///
    /// Errors: [`AuthError::Validation`] (field `new_password`),
    /// [`AuthError::WrongPassword`].
    pub async fn change_password(
        &self,
        who: &Principal,
        current: &str,
        new: &str,
    ) -> Result<(), AuthError> {
        let new = Password::parse_field("new_password", new, &self.config.password_policy)?;
        let hash = self
            .store
            .password_hash(who.user_id)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if !self
            .hasher
            .verify(&Password::unchecked(current), &hash)
            .await?
            .valid
        {
            return Err(AuthError::WrongPassword);
        }
        let fresh = self.hasher.hash(&new).await?;
        self.store
            .set_password_hash(who.user_id, &fresh, Some(who.session_id))
            .await?;
        Ok(())
    }

    /// Updates the caller's profile. A changed email is unverified and gets a code.
    ///
    /// Errors: [`AuthError::Validation`], [`AuthError::EmailTaken`],
    /// [`AuthError::RateLimited`] past [`RequestLimits::email_changes_per_user`] (every
    /// attempt to change the email counts, taken addresses included).
    pub async fn update_profile(
        &self,
        user_id: Uuid,
        mut update: ProfileUpdate,
    ) -> Result<User, AuthError> {
        update.email_verified = None;
        let limit = self.config.limits.email_changes_per_user.attempt_limit();
        let key = LimitKey::subject("email", &user_id.to_string(), limit, Refusal::RateLimited);
        self.apply_update(user_id, update, key).await
    }

    /// Applies an update; a changed email is first counted under `email_key`.
    async fn apply_update(
        &self,
        user_id: Uuid,
        update: ProfileUpdate,
        email_key: Option<LimitKey>,
    ) -> Result<User, AuthError> {
        let email = update.email.as_deref().map(Email::parse).transpose()?;
        let (first_name, last_name) =
            Self::parse_names(update.first_name.as_deref(), update.last_name.as_deref())?;
        let current = self.user(user_id).await?;
        let email_changed = email
            .as_ref()
            .is_some_and(|e| current.email.as_deref() != Some(e.as_str()));
        if email_changed {
            drop(limits::reserve(&*self.store, [email_key], self.clock.now()).await?);
        }
        let email_verified = match update.email_verified {
            Some(v) => Some(v),
            None if email_changed => Some(false),
            None => None,
        };
        let user = self
            .store
            .update_user(
                user_id,
                UserUpdate {
                    email: if email_changed { email } else { None },
                    first_name,
                    last_name,
                    email_verified,
                },
            )
            .await
            .map_err(|e| match AuthError::from(e) {
                AuthError::NotFound(_) => AuthError::NotFound("user"),
                other => other,
            })?;
        if email_changed && !user.email_verified {
            self.send_code(&user).await?;
        }
        Ok(user)
    }

    /// The caller's login attempts, newest first: at most `limit` (1 to 100), strictly
    /// before `before` when given.
    pub async fn login_history(
        &self,
        user_id: Uuid,
        limit: u32,
        before: Option<OffsetDateTime>,
    ) -> Result<Vec<LoginEvent>, AuthError> {
        Ok(self
            .store
            .login_history(user_id, limit.clamp(1, 100), before)
            .await?)
    }

    /// The user's live sessions, newest first, skipping `offset` and at most `limit`
    /// (clamped to 1..=100); `current` marks `current_session`.
    pub async fn sessions(
        &self,
        user_id: Uuid,
        current_session: Option<Uuid>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<SessionInfo>, AuthError> {
        let now = self.clock.now();
        Ok(self
            .store
            .list_sessions(
                user_id,
                now,
                self.config.idle_ttl,
                limit.clamp(1, 100),
                offset,
            )
            .await?
            .into_iter()
            .map(|s| SessionInfo {
                current: Some(s.id) == current_session,
                id: s.id,
                created_at: s.created_at,
                last_refreshed_at: s.last_refreshed_at,
                expires_at: s.expires_at,
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect())
    }

    /// Revokes one of the user's sessions. Errors: [`AuthError::NotFound`] if the
    /// session is not a live session of this user.
    pub async fn revoke_session(&self, user_id: Uuid, session_id: Uuid) -> Result<(), AuthError> {
        if self.store.revoke_session(session_id, Some(user_id)).await? {
            Ok(())
        } else {
            Err(AuthError::NotFound("session"))
        }
    }

    /// Users matching `query` (login, email or names, ignoring case), paginated;
    /// `limit` is clamped to 1..=100. Errors: [`AuthError::Validation`] for a query
    /// over 256 characters or with control characters.
    pub async fn list_users(
        &self,
        query: Option<&str>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<User>, AuthError> {
        let query = query
            .map(|q| plain_text("query", q, 256))
            .transpose()?
            .filter(|q| !q.is_empty());
        Ok(self
            .store
            .list_users(query, limit.clamp(1, 100), offset)
            .await?)
    }

    /// Administrative profile update; may also set `email_verified`.
    pub async fn admin_update_user(
        &self,
        user_id: Uuid,
        update: ProfileUpdate,
    ) -> Result<User, AuthError> {
        self.apply_update(user_id, update, None).await
    }

    /// Deletes a user with all its data. Errors: [`AuthError::NotFound`].
    pub async fn delete_user(&self, user_id: Uuid) -> Result<(), AuthError> {
        self.store
            .delete_user(user_id)
            .await
            .map_err(|e| not_found(e, "user"))
    }

    /// Blocks a user and revokes every session of it at once.
    pub async fn block_user(&self, user_id: Uuid) -> Result<(), AuthError> {
        self.store
            .set_user_status(user_id, UserStatus::Blocked)
            .await
            .map_err(|e| not_found(e, "user"))?;
        Ok(())
    }

    /// Unblocks a user; the user must log in again.
    pub async fn unblock_user(&self, user_id: Uuid) -> Result<(), AuthError> {
        self.store
            .set_user_status(user_id, UserStatus::Active)
            .await
            .map_err(|e| not_found(e, "user"))?;
        Ok(())
    }

    /// Revokes every session of a user; returns how many.
    pub async fn revoke_user_sessions(&self, user_id: Uuid) -> Result<u64, AuthError> {
        self.user(user_id).await?;
        Ok(self.store.revoke_user_sessions(user_id, None).await?)
    }

    /// Every role.
    pub async fn roles(&self) -> Result<Vec<Role>, AuthError> {
        Ok(self.store.list_roles().await?)
    }

    /// Creates a role. Errors: [`AuthError::Validation`] (name rules, or a description
    /// over 256 characters or with control characters), [`AuthError::RoleExists`].
    pub async fn create_role(
        &self,
        name: &str,
        description: Option<String>,
    ) -> Result<Role, AuthError> {
        let name = RoleName::parse(name)?;
        let description = description
            .map(|d| plain_text("description", &d, 256))
            .transpose()?
            .filter(|d| !d.is_empty());
        Ok(self
            .store
            .create_role(Role {
                name: name.as_str().to_owned(),
                description,
            })
            .await?)
    }

    /// Deletes a role. Errors: [`AuthError::ProtectedRole`] for `admin`,
    /// [`AuthError::NotFound`].
    pub async fn delete_role(&self, name: &str) -> Result<(), AuthError> {
        if name == RoleName::ADMIN {
            return Err(AuthError::ProtectedRole);
        }
        let name = RoleName::parse(name).map_err(|_| AuthError::NotFound("role"))?;
        self.store
            .delete_role(name.as_str())
            .await
            .map_err(|e| not_found(e, "role"))
    }

    /// Grants a role. Errors: [`AuthError::NotFound`] for an unknown user or role.
    pub async fn grant_role(&self, user_id: Uuid, role: &str) -> Result<(), AuthError> {
        let role = RoleName::parse(role).map_err(|_| AuthError::NotFound("user or role"))?;
        self.store
            .grant_role(user_id, role.as_str())
            .await
            .map_err(|e| not_found(e, "user or role"))
    }

    /// Revokes a role. Errors: [`AuthError::NotFound`] for an unknown user or role.
    pub async fn revoke_role(&self, user_id: Uuid, role: &str) -> Result<(), AuthError> {
        let role = RoleName::parse(role).map_err(|_| AuthError::NotFound("user or role"))?;
        self.store
            .revoke_role(user_id, role.as_str())
            .await
            .map_err(|e| not_found(e, "user or role"))
    }

    /// Makes sure an administrator account exists: creates `login` with the `admin`
    /// role and a verified email if absent, or grants `admin` to the existing account.
    pub async fn ensure_admin(&self, login: &str, password: &str) -> Result<User, AuthError> {
        let login = Login::parse(login)?;
        if let Some(user) = self.grant_admin_if_exists(login.as_str()).await? {
            return Ok(user);
        }
        let password = Password::parse(password, &self.config.password_policy)?;
        let password_hash = self.hasher.hash(&password).await?;
        let created = self
            .store
            .create_user(NewUser {
                id: Uuid::now_v7(),
                login: login.clone(),
                email: None,
                first_name: None,
                last_name: None,
                password_hash,
                email_verified: true,
                roles: vec![RoleName::ADMIN.to_owned()],
                created_at: self.clock.now(),
            })
            .await;
        match created {
            Ok(u) => Ok(u),
            // Another instance created it between our read and our insert.
            Err(StoreError::LoginTaken) => self
                .grant_admin_if_exists(login.as_str())
                .await?
                .ok_or(AuthError::LoginTaken),
            Err(e) => Err(e.into()),
        }
    }

    async fn grant_admin_if_exists(&self, login: &str) -> Result<Option<User>, AuthError> {
        let Some(creds) = self.store.credentials_by_login(login).await? else {
            return Ok(None);
        };
        if !creds.user.roles.iter().any(|r| r == RoleName::ADMIN) {
            self.store
                .grant_role(creds.user.id, RoleName::ADMIN)
                .await?;
        }
        self.user(creds.user.id).await.map(Some)
    }

    /// Deletes dead sessions and expired verification codes; returns how many rows.
    pub async fn purge_expired(&self) -> Result<u64, AuthError> {
        let now = self.clock.now();
        let sessions = self.store.purge_expired(now, self.config.idle_ttl).await?;
        // A counter is dead once a whole window has passed since its last attempt: its
        // window has ended and its lock (never longer than the window) too.
        let attempts = self
            .store
            .purge_attempts(now - self.config.longest_limit_window())
            .await?;
        Ok(sessions + attempts)
    }
}

/// Free text a client sends: trimmed, at most `max` characters, no control characters
/// (which include NUL, which no SQL text column can hold).
fn plain_text(field: &'static str, raw: &str, max: usize) -> Result<String, AuthError> {
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

fn not_found(e: StoreError, what: &'static str) -> AuthError {
    match e {
        StoreError::NotFound => AuthError::NotFound(what),
        other => other.into(),
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

fn random_code() -> String {
    // Rejection sampling keeps all million codes equally likely.
    loop {
        let mut b = [0u8; 4];
        aws_lc_rs::rand::fill(&mut b).expect("the system random source works");
        let n = u32::from_be_bytes(b);
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MockAuthStore;
    use crate::token::Key;

    fn service(store: MockAuthStore) -> AuthService {
        let keys = KeySet::new(Key::generate_ed25519().unwrap(), [], "iss", "aud", 0).unwrap();
        AuthService::new(
            Arc::new(store),
            keys,
            &RefreshSecret::generate(),
            AuthConfig {
                argon2: Argon2Params {
                    m_cost: 1024,
                    t_cost: 1,
                    p_cost: 1,
                },
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[tokio::test]
    async fn an_unknown_login_is_reserved_first_and_writes_nothing_else() {
        let mut store = MockAuthStore::new();
        let mut seq = mockall::Sequence::new();
        store
            .expect_reserve_attempt()
            .withf(|key, limit, _| key == "login:ghost" && limit.max == 5)
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Ok(Reservation::Granted { count: 1 }));
        store
            .expect_credentials_by_login()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(None));
        // Any other call (release, record_login, create_session) would panic the mock:
        // the reservation stays as the failure.
        let err = service(store)
            .login("ghost", "Passw0rd!", ClientInfo::default())
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::InvalidCredentials));
    }

    #[tokio::test]
    async fn a_malformed_login_never_reaches_the_store() {
        let err = service(MockAuthStore::new())
            .login("not a login!", "x", ClientInfo::default())
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::InvalidCredentials));
    }

    #[tokio::test]
    async fn a_malformed_refresh_token_never_reaches_the_store() {
        let err = service(MockAuthStore::new())
            .refresh("garbage", &ClientInfo::default())
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::InvalidRefreshToken));
    }

    #[tokio::test]
    async fn an_unreachable_store_is_reported_as_unavailable() {
        let mut store = MockAuthStore::new();
        store
            .expect_session_status()
            .returning(|_| Err(StoreError::Unavailable("connection refused".into())));
        let auth = service(store);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let token = auth
            .keys()
            .sign(&AccessClaims {
                iss: "iss".into(),
                aud: "aud".into(),
                sub: Uuid::new_v4(),
                sid: Uuid::new_v4(),
                iat: now,
                exp: now + 60,
                jti: Uuid::new_v4(),
                nbf: None,
                roles: vec![],
            })
            .unwrap();
        assert!(matches!(
            auth.authenticate(&token).await,
            Err(AuthError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn reuse_reported_by_the_store_becomes_refresh_token_reused() {
        let mut store = MockAuthStore::new();
        let user_id = Uuid::new_v4();
        store
            .expect_refresh_session()
            .withf(|r| r.counter == 3 && r.reuse_policy == ReusePolicy::RevokeUser)
            .returning(move |_| {
                Ok(RefreshOutcome::Reused {
                    user_id,
                    revoked: 2,
                })
            });
        let auth = service(store);
        let token = auth.refresh_codec().encode(Uuid::new_v4(), 3);
        assert!(matches!(
            auth.refresh(&token, &ClientInfo::default()).await,
            Err(AuthError::RefreshTokenReused)
        ));
    }

    #[tokio::test]
    async fn a_refused_address_gives_back_nothing_and_checks_nothing() {
        let mut store = MockAuthStore::new();
        let until = OffsetDateTime::now_utc() + Duration::seconds(30);
        store
            .expect_reserve_attempt()
            .withf(|key, _, _| key == "login:ip:192.0.2.7")
            .times(1)
            .returning(move |_, _, _| Ok(Reservation::Refused { until }));
        // The address is asked first; no login key, credentials lookup or hashing
        // follows: any such call fails the mock.
        let client = ClientInfo {
            ip: Some("192.0.2.7".parse().unwrap()),
            user_agent: None,
        };
        let err = service(store)
            .login("alice", "Passw0rd!", client)
            .await
            .unwrap_err();
        let AuthError::Throttled { retry_after } = err else {
            panic!("expected Throttled, got {err:?}");
        };
        assert!(retry_after.as_secs() > 25 && retry_after.as_secs() <= 30);
    }

    #[tokio::test]
    async fn a_refused_login_gives_the_address_its_attempt_back() {
        let mut store = MockAuthStore::new();
        let until = OffsetDateTime::now_utc() + Duration::seconds(60);
        store
            .expect_reserve_attempt()
            .withf(|key, _, _| key == "login:ip:192.0.2.7")
            .times(1)
            .returning(|_, _, _| Ok(Reservation::Granted { count: 3 }));
        store
            .expect_reserve_attempt()
            .withf(|key, _, _| key == "login:alice")
            .times(1)
            .returning(move |_, _, _| Ok(Reservation::Refused { until }));
        store
            .expect_release_attempt()
            .withf(|key| key == "login:ip:192.0.2.7")
            .times(1)
            .returning(|_| Ok(()));
        let client = ClientInfo {
            ip: Some("192.0.2.7".parse().unwrap()),
            user_agent: None,
        };
        let err = service(store)
            .login("Alice", "Passw0rd!", client)
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::Throttled { .. }), "{err:?}");
    }

    #[test]
    fn the_lock_doubles_per_extra_failure_up_to_the_window() {
        let t = ThrottlePolicy::default().limit(5);
        assert_eq!(t.lock_for(4), Duration::ZERO);
        assert_eq!(t.lock_for(5), Duration::seconds(30));
        assert_eq!(t.lock_for(6), Duration::seconds(60));
        assert_eq!(t.lock_for(8), Duration::seconds(240));
        assert_eq!(t.lock_for(50), Duration::minutes(15));
    }

    #[test]
    fn verification_codes_are_six_digits() {
        for _ in 0..200 {
            let c = random_code();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
