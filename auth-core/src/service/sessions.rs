//! Sessions: refresh rotation, access token checks, logout and session lists.

use std::net::IpAddr;
use std::sync::Arc;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{AuthService, ClientInfo, TokenPair, secs};
use crate::domain::RoleName;
use crate::error::AuthError;
use crate::limits::{LimitKey, Refusal};
use crate::store::{Actor, AuditKind, RefreshOutcome, RefreshRequest, Session, User};
use crate::token::{AccessClaims, CustomClaims, TokenError};

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User id.
    pub user_id: Uuid,
    /// What the caller proved itself with: a session's access token or an API key.
    pub credential: Credential,
    /// The caller's account as this request read it, with the session in one store
    /// read: a handler showing the user needs no second query. Its roles are the
    /// current ones (see [`Principal::roles`]).
    pub user: User,
    /// The application's claims carried by the access token, as signed at issue
    /// (see [`AuthService::with_custom_claims`]); empty when it added none.
    pub custom: Arc<CustomClaims>,
    /// Where the request came from, for the audit log of what the caller changes:
    /// empty from [`AuthService::authenticate`]; the HTTP layer sets it (auth-axum's
    /// extractors do, with [`Principal::from_client`]).
    pub client: ClientInfo,
}

/// How the caller of a request proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Credential {
    /// An access token of this session.
    Session(Uuid),
    /// This API key (see [`AuthService::create_api_key`]).
    ApiKey(Uuid),
}

impl Principal {
    /// The caller's session, for what only a signed-in person may do (log out,
    /// re-authenticate, change the password or a factor, create an API key).
    ///
    /// Errors: [`AuthError::SessionRequired`] when the caller used an API key.
    pub fn session_id(&self) -> Result<Uuid, AuthError> {
        match self.credential {
            Credential::Session(id) => Ok(id),
            Credential::ApiKey(_) => Err(AuthError::SessionRequired),
        }
    }

    /// The same caller, coming from `client`.
    pub fn from_client(mut self, client: ClientInfo) -> Self {
        self.client = client;
        self
    }

    /// Who acts, for the audit log: the user, or the user through a key.
    pub fn actor(&self) -> Actor {
        match self.credential {
            Credential::Session(_) => Actor::User(self.user_id),
            Credential::ApiKey(key) => Actor::ApiKey {
                user: self.user_id,
                key,
            },
        }
    }

    /// The API key the caller used, if it used one.
    pub fn api_key_id(&self) -> Option<Uuid> {
        match self.credential {
            Credential::ApiKey(id) => Some(id),
            Credential::Session(_) => None,
        }
    }

    /// Current roles, sorted (read from the store with the session, so revoking a role
    /// takes effect at once).
    pub fn roles(&self) -> &[RoleName] {
        &self.user.roles
    }

    /// Whether the caller has `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles().iter().any(|r| r == role)
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum LogoutScope {
    /// This session only.
    #[default]
    Local,
    /// Every session of the user.
    Global,
    /// Every session but this one.
    Others,
}

/// A session as shown to its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SessionInfo {
    /// Session id.
    pub id: Uuid,
    /// Creation time.
    #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339"))]
    pub created_at: OffsetDateTime,
    /// Last rotation.
    #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339"))]
    pub last_refreshed_at: OffsetDateTime,
    /// Absolute expiry.
    #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339"))]
    pub expires_at: OffsetDateTime,
    /// Client address at login.
    pub ip: Option<IpAddr>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
    /// Whether this is the caller's own session.
    pub current: bool,
}

impl AuthService {
    /// Exchanges a refresh token for a new pair, following the rotation rule of the
    /// design: rotate, retry within the grace window, or detect reuse.
    ///
    /// Errors: [`AuthError::InvalidRefreshToken`], [`AuthError::RefreshTokenReused`]
    /// (after the revocation is committed), [`AuthError::RateLimited`] past
    /// [`RequestLimits::refresh_per_ip`](crate::RequestLimits::refresh_per_ip) (only well-formed tokens are counted).
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
        // The per-address reservation rides on the rotation's own statement.
        let outcome = self
            .store
            .refresh_session(RefreshRequest {
                session_id,
                counter,
                now,
                reuse_grace: self.config.reuse_grace,
                idle_timeout: self.config.idle_ttl,
                reuse_policy: self.config.reuse_policy,
                limit: key.as_ref().map(LimitKey::attempt),
                reuse_audit: Some(self.reuse_event(client, session_id)),
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
            RefreshOutcome::Limited { until } => Err(match &key {
                Some(key) => key.refused(until, now),
                None => AuthError::RateLimited {
                    retry_after: (until - now).max(time::Duration::ZERO),
                },
            }),
        }
    }

    /// Stateless check of an access token: signature and claims only, no store call.
    pub fn verify(&self, access_token: &str) -> Result<AccessClaims, AuthError> {
        self.keys()
            .verify(access_token, self.clock.now().unix_timestamp())
            .map_err(|e: TokenError| {
                tracing::debug!(reason = %e, "access token rejected");
                AuthError::InvalidToken
            })
    }

    /// Stateful check: [`AuthService::verify`] plus one store read confirming the
    /// session is alive and its user not blocked. Logout, revocation, blocking and
    /// password changes take effect at once.
    ///
    /// A credential starting `ak_` is an API key, checked by
    /// [`AuthService::authenticate_api_key`]: the same [`Principal`], with
    /// [`Credential::ApiKey`].
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal, AuthError> {
        if super::is_api_key(access_token) {
            return self.authenticate_api_key(access_token).await;
        }
        let now = self.clock.now();
        let unix = now.unix_timestamp();
        let verified = match self.verified.get(access_token, unix) {
            Some(v) => v,
            None => {
                let claims = self.verify(access_token)?;
                self.verified
                    .insert(access_token, &claims, self.keys().leeway(), unix)
            }
        };
        let (sub, sid) = (verified.sub, verified.sid);
        let status = self
            .store
            .session_status(sid)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if status.user.id != sub || !status.is_usable(now, self.config.idle_ttl) {
            return Err(AuthError::InvalidToken);
        }
        Ok(Principal {
            user_id: sub,
            credential: Credential::Session(sid),
            user: status.user,
            custom: verified.custom,
            client: ClientInfo::default(),
        })
    }

    /// Ends this session, every session, or every other session of the caller.
    /// Returns how many sessions were revoked.
    ///
    /// Errors: [`AuthError::SessionRequired`] for a caller with an API key.
    pub async fn logout(&self, who: &Principal, scope: LogoutScope) -> Result<u64, AuthError> {
        let session_id = who.session_id()?;
        let scope_name = match scope {
            LogoutScope::Local => "local",
            LogoutScope::Global => "global",
            LogoutScope::Others => "others",
        };
        let event = self.audit_event(
            AuditKind::Logout,
            who,
            who.user_id,
            Some(scope_name.to_owned()),
        );
        Ok(match scope {
            LogoutScope::Local => u64::from(
                self.store
                    .revoke_session(session_id, Some(who.user_id), Some(event))
                    .await?,
            ),
            LogoutScope::Global => {
                self.store
                    .revoke_user_sessions(who.user_id, None, Some(event))
                    .await?
            }
            LogoutScope::Others => {
                self.store
                    .revoke_user_sessions(who.user_id, Some(session_id), Some(event))
                    .await?
            }
        })
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

    /// Revokes one of the caller's sessions (recorded in the audit log as a logout
    /// naming it). Errors: [`AuthError::NotFound`] if the session is not a live session
    /// of the caller.
    pub async fn revoke_session(&self, who: &Principal, session_id: Uuid) -> Result<(), AuthError> {
        let event = self.audit_event(
            AuditKind::Logout,
            who,
            who.user_id,
            Some(session_id.to_string()),
        );
        if self
            .store
            .revoke_session(session_id, Some(who.user_id), Some(event))
            .await?
        {
            Ok(())
        } else {
            Err(AuthError::NotFound("session"))
        }
    }
}

impl AuthService {
    /// The token pair of `session`: an access token with `roles`, and the refresh token
    /// of its current counter; used by login and refresh alike.
    pub(super) fn issue_pair(
        &self,
        session: &Session,
        roles: Vec<RoleName>,
        now: OffsetDateTime,
    ) -> Result<TokenPair, AuthError> {
        let roles: Vec<String> = roles.into_iter().map(String::from).collect();
        let iat = now.unix_timestamp();
        // A version 4 id from aws-lc's generator, as every other random value here.
        let mut jti = [0u8; 16];
        aws_lc_rs::rand::fill(&mut jti)
            .map_err(|_| AuthError::Internal("no random token id".into()))?;
        let keys = self.keys();
        let claims = AccessClaims {
            iss: keys.issuer().to_owned(),
            aud: keys.audience().to_owned(),
            sub: session.user_id,
            sid: session.id,
            iat,
            exp: iat + secs(self.config.access_ttl),
            jti: uuid::Builder::from_random_bytes(jti).into_uuid(),
            nbf: None,
            amr: session
                .sign_in
                .amr()
                .iter()
                .map(|m| (*m).to_owned())
                .collect(),
            custom: self.custom_claims(session.user_id, &roles),
            roles,
        };
        let access_token = keys
            .sign(&claims)
            .map_err(|e| AuthError::Internal(e.into()))?;
        let idle_end = session.last_refreshed_at + self.config.idle_ttl;
        let refresh_end = idle_end.min(session.expires_at);
        Ok(TokenPair {
            access_token,
            token_type: "Bearer".to_owned(),
            expires_in: secs(self.config.access_ttl),
            refresh_token: self.codec.encode(session.id, session.counter),
            refresh_expires_in: secs(refresh_end - now).max(0),
        })
    }
}
