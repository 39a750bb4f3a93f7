//! The audit log: one event per security-relevant action, with who did it, to whom,
//! from where, and how it ended. Login history is a view of it.
//!
//! An event that records a change is written by the store method making the change,
//! in the same transaction (the `audit` parameter of those methods): it is there
//! exactly when the change committed. Events that change nothing else (a failed
//! login) are written alone with [`AuditStore::record_audit`].

use std::net::IpAddr;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreError;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum AuditKind {
    /// A login whose password (or passkey) was right; `success` says whether it was
    /// let through (not for a blocked or unverified account).
    LoginSucceeded,
    /// A login with a wrong password for a known account.
    LoginFailed,
    /// Sessions ended by their user (`detail`: `local`, `global`, `others`, or the
    /// session ended by id).
    Logout,
    /// The user changed their password.
    PasswordChanged,
    /// The password was set anew with a reset token (actor: whoever held the token).
    PasswordReset,
    /// The account took the new email address its code confirmed.
    EmailChanged,
    /// An old refresh token was used again and sessions were revoked (`detail`: the
    /// session, and `user` or `session` for what was revoked).
    RefreshReused,
    /// A second factor was turned on.
    MfaEnabled,
    /// A second factor was removed (by the user, or by an administrator).
    MfaDisabled,
    /// A passkey was registered (`detail`: its id and name).
    PasskeyAdded,
    /// A passkey was deleted (`detail`: its id; `cloned` when the service removed it
    /// because its counter went back).
    PasskeyRemoved,
    /// An API key was created (`detail`: its id and name).
    ApiKeyCreated,
    /// An API key was revoked (`detail`: its id).
    ApiKeyRevoked,
    /// An administrator blocked the account.
    UserBlocked,
    /// An administrator unblocked the account.
    UserUnblocked,
    /// A role was granted (`detail`: the role).
    RoleGranted,
    /// A role was removed (`detail`: the role).
    RoleRevoked,
    /// An administrator deleted the account.
    UserDeleted,
    /// An administrator revoked every session of the account (`detail`: how many).
    SessionsRevoked,
    /// The signing key changed: by the schedule (actor: the system) or at an
    /// administrator's request (`detail`: the new current key's id).
    SigningKeyRotated,
    /// An administrator revoked a signing key (`detail`: its id).
    SigningKeyRevoked,
    /// An administrator changed the account's profile (`detail`: the fields set, such
    /// as `email,email_verified`).
    UserUpdated,
    /// An administrator created a role (`detail`: its name).
    RoleCreated,
    /// An administrator deleted a role, and every grant of it (`detail`: its name).
    RoleDeleted,
}

impl AuditKind {
    /// Every kind, in declaration order.
    pub const ALL: [AuditKind; 24] = [
        AuditKind::LoginSucceeded,
        AuditKind::LoginFailed,
        AuditKind::Logout,
        AuditKind::PasswordChanged,
        AuditKind::PasswordReset,
        AuditKind::EmailChanged,
        AuditKind::RefreshReused,
        AuditKind::MfaEnabled,
        AuditKind::MfaDisabled,
        AuditKind::PasskeyAdded,
        AuditKind::PasskeyRemoved,
        AuditKind::ApiKeyCreated,
        AuditKind::ApiKeyRevoked,
        AuditKind::UserBlocked,
        AuditKind::UserUnblocked,
        AuditKind::RoleGranted,
        AuditKind::RoleRevoked,
        AuditKind::UserDeleted,
        AuditKind::SessionsRevoked,
        AuditKind::SigningKeyRotated,
        AuditKind::SigningKeyRevoked,
        AuditKind::UserUpdated,
        AuditKind::RoleCreated,
        AuditKind::RoleDeleted,
    ];

    /// The name stores keep and clients filter by (`login_failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::LoginSucceeded => "login_succeeded",
            AuditKind::LoginFailed => "login_failed",
            AuditKind::Logout => "logout",
            AuditKind::PasswordChanged => "password_changed",
            AuditKind::PasswordReset => "password_reset",
            AuditKind::EmailChanged => "email_changed",
            AuditKind::RefreshReused => "refresh_reused",
            AuditKind::MfaEnabled => "mfa_enabled",
            AuditKind::MfaDisabled => "mfa_disabled",
            AuditKind::PasskeyAdded => "passkey_added",
            AuditKind::PasskeyRemoved => "passkey_removed",
            AuditKind::ApiKeyCreated => "api_key_created",
            AuditKind::ApiKeyRevoked => "api_key_revoked",
            AuditKind::UserBlocked => "user_blocked",
            AuditKind::UserUnblocked => "user_unblocked",
            AuditKind::RoleGranted => "role_granted",
            AuditKind::RoleRevoked => "role_revoked",
            AuditKind::UserDeleted => "user_deleted",
            AuditKind::SessionsRevoked => "sessions_revoked",
            AuditKind::SigningKeyRotated => "signing_key_rotated",
            AuditKind::SigningKeyRevoked => "signing_key_revoked",
            AuditKind::UserUpdated => "user_updated",
            AuditKind::RoleCreated => "role_created",
            AuditKind::RoleDeleted => "role_deleted",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The service itself (start-up, a scheduled task).
    System,
    /// A user with a session (the account itself, or an administrator).
    User(Uuid),
    /// A user through one of their API keys.
    ApiKey {
        /// The key's owner.
        user: Uuid,
        /// The key.
        key: Uuid,
    },
    /// Whoever typed a login that names no session yet (a login attempt): the event's
    /// target is the account tried.
    Anonymous,
}

impl Actor {
    /// The user who acted, if one did.
    pub fn user(self) -> Option<Uuid> {
        match self {
            Actor::User(u) | Actor::ApiKey { user: u, .. } => Some(u),
            Actor::System | Actor::Anonymous => None,
        }
    }

    /// The API key used, if one was.
    pub fn key(self) -> Option<Uuid> {
        match self {
            Actor::ApiKey { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The actor stored as `(user, key, system)`; the inverse of [`Actor::stored`].
    pub fn parts(self) -> (Option<Uuid>, Option<Uuid>, bool) {
        (self.user(), self.key(), self == Actor::System)
    }

    /// The actor from its stored parts.
    pub fn stored(user: Option<Uuid>, key: Option<Uuid>, system: bool) -> Self {
        match (user, key) {
            (Some(user), Some(key)) => Actor::ApiKey { user, key },
            (Some(user), None) => Actor::User(user),
            (None, _) if system => Actor::System,
            (None, _) => Actor::Anonymous,
        }
    }
}

/// One event of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Its id (v7: time-ordered).
    pub id: Uuid,
    /// When.
    pub at: OffsetDateTime,
    /// What happened.
    pub kind: AuditKind,
    /// Who did it.
    pub actor: Actor,
    /// The account it happened to, if any.
    pub target: Option<Uuid>,
    /// The client's address.
    pub ip: Option<IpAddr>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// Whether it went through.
    pub success: bool,
    /// What else identifies it (a role, a key), never a secret.
    pub detail: Option<String>,
}

impl AuditEvent {
    /// The same event about the account `target` (for a store that learns the account
    /// only when it makes the change: a reset token's, a reused session's).
    pub fn about(mut self, target: Uuid) -> Self {
        self.target = Some(target);
        self
    }
}

/// One login attempt of a known account: the login events of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LoginEvent {
    /// The account.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub user_id: Uuid,
    /// When.
    #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339"))]
    pub at: OffsetDateTime,
    /// Client address.
    pub ip: Option<IpAddr>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Whether the password was right and the login went through.
    pub success: bool,
}

impl LoginEvent {
    /// The login attempt an audit event records, if it records one.
    pub fn from_audit(e: &AuditEvent) -> Option<Self> {
        let success = match e.kind {
            AuditKind::LoginSucceeded => e.success,
            AuditKind::LoginFailed => false,
            _ => return None,
        };
        Some(Self {
            user_id: e.target?,
            at: e.at,
            ip: e.ip,
            user_agent: e.user_agent.clone(),
            success,
        })
    }
}

/// Which events [`AuditStore::audit_events`] returns: all of these conditions hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Events whose target or acting user is this user.
    pub user: Option<Uuid>,
    /// Events of these kinds; empty: every kind.
    pub kinds: Vec<AuditKind>,
    /// At or after this time.
    pub from: Option<OffsetDateTime>,
    /// Strictly before this time.
    pub until: Option<OffsetDateTime>,
    /// Strictly older than this event (newest first: `at`, then `id`), for the next
    /// page; an id not in the log gives nothing.
    pub before: Option<Uuid>,
    /// At most this many.
    pub limit: u32,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            user: None,
            kinds: Vec::new(),
            from: None,
            until: None,
            before: None,
            limit: 100,
        }
    }
}

impl AuditQuery {
    /// Whether `e` matches everything but the `before` cursor and the limit.
    pub fn matches(&self, e: &AuditEvent) -> bool {
        self.user
            .is_none_or(|u| e.target == Some(u) || e.actor.user() == Some(u))
            && (self.kinds.is_empty() || self.kinds.contains(&e.kind))
            && self.from.is_none_or(|t| e.at >= t)
            && self.until.is_none_or(|t| e.at < t)
    }
}

capability! {
    /// Storage of the audit log.
    pub trait AuditStore {
        /// Appends an event that records no other change (a login attempt).
        async fn record_audit(&self, event: AuditEvent) -> Result<(), StoreError>;

        /// The events matching `query`, newest first (by `at`, then `id`).
        async fn audit_events(&self, query: AuditQuery) -> Result<Vec<AuditEvent>, StoreError>;

        /// Deletes the events older than `before` (the retention); returns how many.
        async fn purge_audit(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
    }
    mock audit: MockAuditStore;
}
