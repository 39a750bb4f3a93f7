//! Login: the throttled password check that opens a session.

use std::fmt;

use uuid::Uuid;

use super::{AuthService, ClientInfo, GuessKeys};
use crate::domain::{Login, Password, RoleName};
use crate::error::AuthError;
use crate::limits::{self, Refusal};
use crate::store::{Session, SignIn, UserStatus};

pub(super) const MAX_USER_AGENT: usize = 512;

/// An access token and a refresh token, as returned by login and refresh.
#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TokenPair {
    /// JWT access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
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

impl AuthService {
    /// Checks credentials and opens a session.
    ///
    /// Unknown logins and wrong passwords both give [`AuthError::InvalidCredentials`]
    /// after the same Argon2 work, and count as failures for the login and the client
    /// address; past the [`ThrottlePolicy`](crate::ThrottlePolicy) limits, attempts get
    /// [`AuthError::Throttled`] before any hashing. A blocked account ([`AuthError::Blocked`]) or an
    /// unverified email ([`AuthError::EmailNotVerified`]) is only revealed to a caller
    /// who knows the password. Every attempt on a known account is recorded.
    ///
    /// An account with an active second factor gets [`AuthError::MfaRequired`] with a
    /// challenge instead of tokens: the password was right, and
    /// [`AuthService::verify_mfa`] completes the login with a code.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let password = Password::to_check(password, &self.config.password_policy);
        let client = bounded(client);
        let parsed = Login::parse_with(login, &self.config.login_policy).ok();
        let t = &self.config.throttle;
        let keys = self.guess_keys(
            &client,
            GuessKeys {
                address_scope: "login",
                subject_scope: "login",
                subject: parsed.as_ref().map(Login::as_str),
                limit: t.limit(t.max_failures_per_login),
                refusal: Refusal::Throttled,
            },
        );
        // Reserved before any hashing: a refused attempt costs one write per key, and
        // parallel guesses get no more checks than the limit.
        let reserved = limits::reserve(&*self.store, keys, self.clock.now()).await?;
        let creds = match &parsed {
            Some(l) => self.store.credentials_by_login(l).await?,
            None => None,
        };
        // An overlong password matches no account: a failure, without hashing.
        let Some(password) = password else {
            return Err(AuthError::InvalidCredentials);
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
        self.record_login(user.id, &client, check.valid, outcome.is_ok())
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
            self.store
                .set_password_hash(user.id, &fresh, None, None)
                .await?;
        }
        if self
            .store
            .totp_factor(user.id)
            .await?
            .is_some_and(|f| f.active)
        {
            return Err(AuthError::MfaRequired(self.mfa_challenge(user.id).await?));
        }
        self.open_session(user.id, user.roles, client, SignIn::Password)
            .await
    }

    /// Creates a session for a user who just signed in and issues its first pair.
    pub(super) async fn open_session(
        &self,
        user_id: Uuid,
        roles: Vec<RoleName>,
        client: ClientInfo,
        sign_in: SignIn,
    ) -> Result<TokenPair, AuthError> {
        let now = self.clock.now();
        let session = Session {
            id: Uuid::new_v4(),
            user_id,
            counter: 0,
            created_at: now,
            last_refreshed_at: now,
            expires_at: now + self.config.session_ttl,
            revoked: false,
            ip: client.ip,
            user_agent: client.user_agent,
            sign_in,
            reauthenticated_at: None,
        };
        let evicted = self
            .store
            .create_session(session.clone(), self.config.max_sessions_per_user)
            .await?;
        if evicted > 0 {
            tracing::info!(%user_id, evicted, "session cap reached; oldest sessions revoked");
        }
        self.issue_pair(&session, roles, now)
    }
}

/// The client as a session records it: the user agent cut to [`MAX_USER_AGENT`] bytes.
pub(super) fn bounded(client: ClientInfo) -> ClientInfo {
    ClientInfo {
        user_agent: client.user_agent.map(|ua| truncate(ua, MAX_USER_AGENT)),
        ..client
    }
}

pub(super) fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}
