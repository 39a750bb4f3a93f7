//! Sessions: the rows behind refresh tokens, their rotation and revocation.

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{AttemptKey, AuditEvent, User};
use crate::domain::RoleName;
use crate::error::StoreError;

/// A login session: one per device that signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Session id (the `sid` claim).
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Rotation counter; the live refresh token carries this value.
    pub counter: u64,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Time of the last rotation (creation time until the first).
    pub last_refreshed_at: OffsetDateTime,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
    /// Whether the session was revoked.
    pub revoked: bool,
    /// Client address at login.
    pub ip: Option<IpAddr>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
    /// How the user proved who they are when the session opened; its access tokens
    /// carry it as `amr`.
    pub sign_in: SignIn,
    /// When the session last proved its password or second factor again
    /// ([`SessionStore::mark_reauthenticated`]); `None` until it does. Sensitive
    /// changes need this to be recent.
    pub reauthenticated_at: Option<OffsetDateTime>,
}

/// How a session's user signed in: the methods of RFC 8176 its access tokens name in
/// `amr`. A passkey counts as a hardware key (`hwk`) when it is bound to one device,
/// and as a software key (`swk`) when it may be synced to others (backup eligible).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum SignIn {
    /// A password: `["pwd"]`.
    #[default]
    Password,
    /// A password and a one-time code: `["pwd", "otp"]`.
    PasswordAndOtp,
    /// A password and a device-bound passkey: `["pwd", "hwk"]`.
    PasswordAndHardwareKey,
    /// A password and a synced passkey: `["pwd", "swk"]`.
    PasswordAndSoftwareKey,
    /// A device-bound passkey alone: `["hwk"]`.
    HardwareKey,
    /// A synced passkey alone: `["swk"]`.
    SoftwareKey,
}

impl SignIn {
    const ALL: [SignIn; 6] = [
        SignIn::Password,
        SignIn::PasswordAndOtp,
        SignIn::PasswordAndHardwareKey,
        SignIn::PasswordAndSoftwareKey,
        SignIn::HardwareKey,
        SignIn::SoftwareKey,
    ];

    /// The `amr` claim of the session's access tokens.
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            SignIn::Password => &["pwd"],
            SignIn::PasswordAndOtp => &["pwd", "otp"],
            SignIn::PasswordAndHardwareKey => &["pwd", "hwk"],
            SignIn::PasswordAndSoftwareKey => &["pwd", "swk"],
            SignIn::HardwareKey => &["hwk"],
            SignIn::SoftwareKey => &["swk"],
        }
    }

    /// Whether more than a password was proved (a second factor or a passkey).
    pub fn beyond_password(self) -> bool {
        self != SignIn::Password
    }

    /// A stable small number for storage: the position in the list above (new
    /// methods are appended, never inserted).
    pub fn code(self) -> i16 {
        Self::ALL.iter().position(|m| *m == self).unwrap_or(0) as i16
    }

    /// The method stored as `code`, if known.
    pub fn from_code(code: i16) -> Option<Self> {
        usize::try_from(code)
            .ok()
            .and_then(|i| Self::ALL.get(i))
            .copied()
    }
}

/// The liveness rule, written once: a session is live at `now` while it is not
/// revoked, `now` is before its absolute expiry, and it was refreshed less than
/// `idle_timeout` ago. A session is usable while it is live *and* its owner is active
/// (`SessionStatus::is_usable`). Stores that keep the rule in their own language
/// (the Postgres store, in one SQL fragment) are held to it by the conformance suite.
fn live(
    revoked: bool,
    expires_at: OffsetDateTime,
    last_refreshed_at: OffsetDateTime,
    now: OffsetDateTime,
    idle_timeout: Duration,
) -> bool {
    !revoked && expires_at > now && last_refreshed_at + idle_timeout > now
}

impl Session {
    /// Whether the session is live at `now`: not revoked, before its expiry, refreshed
    /// less than `idle` ago. Its owner's status is not looked at (see
    /// [`SessionStatus::is_usable`]).
    pub fn is_live(&self, now: OffsetDateTime, idle: Duration) -> bool {
        live(
            self.revoked,
            self.expires_at,
            self.last_refreshed_at,
            now,
            idle,
        )
    }
}

/// What [`SessionStore::session_status`] returns for `authenticate`: the session and
/// its owner, from one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStatus {
    /// Whether the session was revoked.
    pub revoked: bool,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
    /// Time of the last rotation.
    pub last_refreshed_at: OffsetDateTime,
    /// The owner as it is now: status and current roles (sorted) included, so a
    /// request needs no second read for them.
    pub user: User,
}

impl SessionStatus {
    /// Whether the session can be used at `now`: live (not revoked, before its
    /// expiry, refreshed less than `idle` ago) and its owner active.
    pub fn is_usable(&self, now: OffsetDateTime, idle: Duration) -> bool {
        live(
            self.revoked,
            self.expires_at,
            self.last_refreshed_at,
            now,
            idle,
        ) && self.user.status == super::UserStatus::Active
    }
}

/// What to revoke when a refresh token is reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReusePolicy {
    /// Revoke only the session whose token was reused.
    RevokeSession,
    /// Revoke every session of the user (the default: a stolen token may mean a
    /// compromised device).
    #[default]
    RevokeUser,
}

/// The inputs of the atomic refresh rule.
#[derive(Debug, Clone)]
pub struct RefreshRequest {
    /// Session named by the refresh token.
    pub session_id: Uuid,
    /// Counter carried by the refresh token.
    pub counter: u64,
    /// Current time.
    pub now: OffsetDateTime,
    /// A token one step behind, presented within this long after the last rotation,
    /// is a retry.
    pub reuse_grace: Duration,
    /// A session not refreshed for this long is dead.
    pub idle_timeout: Duration,
    /// What reuse revokes.
    pub reuse_policy: ReusePolicy,
    /// A counter to reserve one attempt under first, exactly as
    /// [`AttemptStore::reserve_attempt`](crate::store::AttemptStore::reserve_attempt)
    /// would, in the same step: refused, nothing else happens and the outcome is
    /// [`RefreshOutcome::Limited`]; granted, it stays counted whatever the outcome.
    /// (One round trip for the per-address refresh limit and the rotation.)
    pub limit: Option<AttemptKey>,
    /// The audit event to write, in the revocation's transaction, when the refresh
    /// turns out to be a reuse; the store sets its `target` to the session's user.
    pub reuse_audit: Option<AuditEvent>,
}

/// The outcome of [`SessionStore::refresh_session`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The counter matched and was advanced; `session.counter` is the new value.
    Rotated {
        /// The session after rotation.
        session: Session,
        /// The owner's roles.
        roles: Vec<RoleName>,
    },
    /// A retry within the grace window: nothing changed; `session.counter` is current.
    Retried {
        /// The session, unchanged.
        session: Session,
        /// The owner's roles.
        roles: Vec<RoleName>,
    },
    /// An older token was presented: the policy's revocation is committed.
    Reused {
        /// Owner of the session.
        user_id: Uuid,
        /// Number of sessions revoked by this call.
        revoked: u64,
    },
    /// Unknown, revoked or expired session, blocked user, or a counter ahead of the
    /// session's.
    Rejected,
    /// [`RefreshRequest::limit`] refused the attempt; nothing was looked at or changed.
    Limited {
        /// When an attempt will be granted again.
        until: OffsetDateTime,
    },
}

capability! {
    /// Storage of sessions, with the atomic refresh rule.
    pub trait SessionStore {
        /// Inserts a session, then, while the user has more than `max_live` live sessions
        /// (not revoked, `expires_at` after the new session's `created_at`), revokes the
        /// oldest (by `created_at`, then id), atomically: concurrent inserts for one user
        /// never leave more than `max_live` live. `max_live == 0` means no cap. Returns how
        /// many sessions were revoked.
        ///
        /// Errors: [`StoreError::NotFound`] if the user does not exist.
        async fn create_session(&self, session: Session, max_live: u32) -> Result<u64, StoreError>;

        /// The session with this id (revoked and expired ones included), or `None`.
        async fn session(&self, id: Uuid) -> Result<Option<Session>, StoreError>;

        /// The state `authenticate` needs about a session and its owner, in one indexed
        /// read; `None` if the session does not exist.
        async fn session_status(&self, id: Uuid) -> Result<Option<SessionStatus>, StoreError>;

        /// Applies the refresh rotation rule atomically, after reserving an attempt under
        /// `limit` when it is set ([`RefreshOutcome::Limited`] when refused):
        ///
        /// - session missing, revoked, past `expires_at`, idle longer than `idle_timeout`,
        ///   owner blocked, or `counter` ahead of the session's: [`RefreshOutcome::Rejected`];
        /// - `counter` equal to the session's: advance it by one with a compare-and-swap and
        ///   set `last_refreshed_at = now`: [`RefreshOutcome::Rotated`];
        /// - `counter` one behind and `now - last_refreshed_at <= reuse_grace`:
        ///   [`RefreshOutcome::Retried`], nothing changes;
        /// - any other older counter: revoke the session or all the user's sessions as
        ///   `reuse_policy` says, **committed**, then [`RefreshOutcome::Reused`].
        ///
        /// Of any number of concurrent calls with the same current counter exactly one
        /// rotates.
        async fn refresh_session(&self, request: RefreshRequest) -> Result<RefreshOutcome, StoreError>;

        /// Records that the live session `id` of `user_id` proved its owner's password or
        /// second factor again at `at`. `false` (nothing changed) when no live session
        /// (not revoked, not past `expires_at`) of that user has this id.
        async fn mark_reauthenticated(&self, id: Uuid, user_id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError>;

        /// Revokes one session. With `user_id`, only if the session belongs to that user.
        /// Returns `false` if no live session matched.
        /// `audit`, when given, is written in the same transaction, only if the change is made.
        async fn revoke_session(&self, id: Uuid, user_id: Option<Uuid>, audit: Option<AuditEvent>) -> Result<bool, StoreError>;

        /// Revokes every live session of a user except `except`; returns how many.
        /// `audit`, when given, is recorded in the same transaction.
        async fn revoke_user_sessions(&self, user_id: Uuid, except: Option<Uuid>, audit: Option<AuditEvent>) -> Result<u64, StoreError>;

        /// The user's live sessions at `now` (not revoked, `expires_at` after `now`,
        /// refreshed within `idle_timeout` before `now`), newest first (by `created_at`,
        /// then id), skipping `offset` and returning at most `limit`.
        async fn list_sessions(&self, user_id: Uuid, now: OffsetDateTime, idle_timeout: Duration, limit: u32, offset: u64) -> Result<Vec<Session>, StoreError>;

        /// Deletes sessions that are revoked, past `expires_at`, or idle since
        /// `now - idle_timeout` or earlier. Returns the number of rows deleted.
        async fn purge_sessions(&self, now: OffsetDateTime, idle_timeout: Duration) -> Result<u64, StoreError>;
    }
    mock sessions: MockSessionStore;
}
