//! The storage contract of auth-core.

use std::net::IpAddr;

use async_trait::async_trait;
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::domain::{Email, Login, PersonName};
use crate::error::StoreError;

/// Whether an account may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// The account may sign in.
    Active,
    /// The account is blocked: no login, no refresh, no authentication.
    Blocked,
}

impl UserStatus {
    /// The lowercase name used in storage and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Blocked => "blocked",
        }
    }
}

/// A stored account. The password hash is deliberately not part of it: see
/// [`AuthStore::credentials_by_login`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Stable id.
    pub id: Uuid,
    /// Login as registered.
    pub login: String,
    /// Lowercased email, if any.
    pub email: Option<String>,
    /// First name, if given.
    pub first_name: Option<String>,
    /// Last name, if given.
    pub last_name: Option<String>,
    /// Role names, sorted.
    pub roles: Vec<String>,
    /// Active or blocked.
    pub status: UserStatus,
    /// Whether the email address has been verified.
    pub email_verified: bool,
    /// When the account was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A user to insert.
#[derive(Clone)]
pub struct NewUser {
    /// Id chosen by the caller.
    pub id: Uuid,
    /// Validated login.
    pub login: Login,
    /// Validated email.
    pub email: Option<Email>,
    /// Validated first name.
    pub first_name: Option<PersonName>,
    /// Validated last name.
    pub last_name: Option<PersonName>,
    /// PHC string of the password hash.
    pub password_hash: String,
    /// Whether the email counts as verified from the start.
    pub email_verified: bool,
    /// Roles granted at creation; each must exist.
    pub roles: Vec<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// A partial update of a user's profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// New email; setting it also sets `email_verified` to the value given there.
    pub email: Option<Email>,
    /// New first name.
    pub first_name: Option<PersonName>,
    /// New last name.
    pub last_name: Option<PersonName>,
    /// New verification flag.
    pub email_verified: Option<bool>,
}

/// The data needed to check a password at login.
#[derive(Clone)]
pub struct Credentials {
    /// The account.
    pub user: User,
    /// PHC string of the password hash.
    pub password_hash: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

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
}

/// What [`AuthStore::session_status`] returns for `authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStatus {
    /// Owner of the session.
    pub user_id: Uuid,
    /// Whether the session was revoked.
    pub revoked: bool,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
    /// Time of the last rotation.
    pub last_refreshed_at: OffsetDateTime,
    /// The owner's status.
    pub user_status: UserStatus,
    /// The owner's current roles, sorted.
    pub roles: Vec<String>,
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
}

/// The outcome of [`AuthStore::refresh_session`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The counter matched and was advanced; `session.counter` is the new value.
    Rotated {
        /// The session after rotation.
        session: Session,
        /// The owner's roles.
        roles: Vec<String>,
    },
    /// A retry within the grace window: nothing changed; `session.counter` is current.
    Retried {
        /// The session, unchanged.
        session: Session,
        /// The owner's roles.
        roles: Vec<String>,
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
}

/// One login attempt of a known account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginEvent {
    /// The account.
    #[serde(skip)]
    pub user_id: Uuid,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Client address.
    pub ip: Option<IpAddr>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Whether the password was right and the login went through.
    pub success: bool,
}

/// A role that can be granted to users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Role {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
}

/// A pending email verification code, stored as a keyed hash.
///
/// Wrong guesses are not counted on the code: they count against the login's attempt
/// budget ([`AuthStore::reserve_attempt`]), which a new code does not reset.
#[derive(Clone, PartialEq, Eq)]
pub struct VerificationCode {
    /// The account.
    pub user_id: Uuid,
    /// HMAC of the code.
    pub code_hash: Vec<u8>,
    /// Expiry.
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationCode")
            .field("user_id", &self.user_id)
            .field("code_hash", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The rule one counted key is held to by [`AuthStore::reserve_attempt`].
///
/// `max` attempts are granted within `window`; after that the key locks for
/// `base_delay`, doubled for each further granted attempt, at most `window`. A fixed
/// window rate limit is `base_delay == window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimit {
    /// Attempts granted within a window before the key locks (at least 1).
    pub max: u32,
    /// Counting window, measured from the window's first attempt.
    pub window: Duration,
    /// Lock after the `max`-th attempt; doubles with each attempt granted past it.
    pub base_delay: Duration,
}

impl AttemptLimit {
    /// How long a key whose last granted attempt brought its count to `count` stays
    /// locked: nothing below `max`, else `base_delay * 2^(count - max)`, capped at
    /// `window`.
    pub fn lock_for(&self, count: u32) -> Duration {
        if count < self.max {
            return Duration::ZERO;
        }
        let doublings = (count - self.max).min(30);
        (self.base_delay * 2f64.powi(doublings as i32)).min(self.window)
    }
}

/// The answer of [`AuthStore::reserve_attempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt may go ahead; it is counted.
    Granted {
        /// The key's count including this attempt.
        count: u32,
    },
    /// The key is locked; nothing was counted.
    Refused {
        /// When an attempt will be granted again.
        until: OffsetDateTime,
    },
}

/// Storage of accounts, roles, sessions, login history and verification codes.
///
/// Implementations must give the same observable behaviour as the in-memory store
/// (feature `memory`); the conformance suite (feature `testkit`) checks it. Logins and
/// emails are compared case-insensitively. "Not found" is [`StoreError::NotFound`]
/// unless a method returns an `Option`. Connection failures are
/// [`StoreError::Unavailable`].
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait AuthStore: Send + Sync + std::fmt::Debug + 'static {
    /// Inserts a user with its roles, atomically.
    ///
    /// Errors: [`StoreError::LoginTaken`] or [`StoreError::EmailTaken`] if another user
    /// has the same login or email (ignoring case); [`StoreError::NotFound`] if a role
    /// does not exist.
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError>;

    /// The user with this id, or `None`.
    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError>;

    /// The user with this login (ignoring case) and its password hash, or `None`.
    async fn credentials_by_login(&self, login: &str) -> Result<Option<Credentials>, StoreError>;

    /// The password hash of a user, or `None` if the user does not exist.
    async fn password_hash(&self, user_id: Uuid) -> Result<Option<String>, StoreError>;

    /// Applies a profile update and returns the updated user.
    ///
    /// Errors: [`StoreError::NotFound`]; [`StoreError::EmailTaken`].
    async fn update_user(&self, id: Uuid, update: UserUpdate) -> Result<User, StoreError>;

    /// Replaces the password hash and, when `revoke_except` is given, revokes every
    /// other session of the user, atomically. Returns the number of sessions revoked.
    ///
    /// Errors: [`StoreError::NotFound`].
    async fn set_password_hash(
        &self,
        user_id: Uuid,
        password_hash: &str,
        revoke_except: Option<Uuid>,
    ) -> Result<u64, StoreError>;

    /// Deletes a user and, with it, its sessions, roles, history and codes.
    ///
    /// Errors: [`StoreError::NotFound`].
    async fn delete_user(&self, id: Uuid) -> Result<(), StoreError>;

    /// Users whose login, email, first or last name contains `query` (ignoring case),
    /// or all users when `query` is `None`; ordered by creation time then id.
    async fn list_users(
        &self,
        query: Option<String>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<User>, StoreError>;

    /// Sets the user's status; blocking also revokes every session of the user in the
    /// same transaction. Returns the number of sessions revoked.
    ///
    /// Errors: [`StoreError::NotFound`].
    async fn set_user_status(&self, id: Uuid, status: UserStatus) -> Result<u64, StoreError>;

    /// Every role, ordered by name.
    async fn list_roles(&self) -> Result<Vec<Role>, StoreError>;

    /// Creates a role. Errors: [`StoreError::RoleExists`].
    async fn create_role(&self, role: Role) -> Result<Role, StoreError>;

    /// Deletes a role and every grant of it. Errors: [`StoreError::NotFound`].
    async fn delete_role(&self, name: &str) -> Result<(), StoreError>;

    /// Grants a role; granting a role the user already has is a no-op.
    ///
    /// Errors: [`StoreError::NotFound`] if the user or the role does not exist.
    async fn grant_role(&self, user_id: Uuid, role: &str) -> Result<(), StoreError>;

    /// Revokes a role; revoking a role the user lacks is a no-op.
    ///
    /// Errors: [`StoreError::NotFound`] if the user or the role does not exist.
    async fn revoke_role(&self, user_id: Uuid, role: &str) -> Result<(), StoreError>;

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

    /// Applies the refresh rotation rule atomically:
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

    /// Revokes one session. With `user_id`, only if the session belongs to that user.
    /// Returns `false` if no live session matched.
    async fn revoke_session(&self, id: Uuid, user_id: Option<Uuid>) -> Result<bool, StoreError>;

    /// Revokes every live session of a user except `except`; returns how many.
    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
    ) -> Result<u64, StoreError>;

    /// The user's live sessions at `now` (not revoked, `expires_at` after `now`,
    /// refreshed within `idle_timeout` before `now`), newest first (by `created_at`,
    /// then id), skipping `offset` and returning at most `limit`.
    async fn list_sessions(
        &self,
        user_id: Uuid,
        now: OffsetDateTime,
        idle_timeout: Duration,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Session>, StoreError>;

    /// Deletes sessions that are revoked, past `expires_at`, or idle since before
    /// `now - idle_timeout`, and verification codes past their expiry. Returns the
    /// number of rows deleted.
    async fn purge_expired(
        &self,
        now: OffsetDateTime,
        idle_timeout: Duration,
    ) -> Result<u64, StoreError>;

    /// Appends a login attempt to the user's history. Unknown users are ignored.
    async fn record_login(&self, event: LoginEvent) -> Result<(), StoreError>;

    /// The user's login attempts strictly before `before` (when given), newest first.
    async fn login_history(
        &self,
        user_id: Uuid,
        limit: u32,
        before: Option<OffsetDateTime>,
    ) -> Result<Vec<LoginEvent>, StoreError>;

    /// Stores a verification code for a user, replacing any previous one.
    /// Errors: [`StoreError::NotFound`] if the user does not exist.
    async fn put_verification_code(&self, code: VerificationCode) -> Result<(), StoreError>;

    /// The user's pending verification code, or `None`.
    async fn verification_code(
        &self,
        user_id: Uuid,
    ) -> Result<Option<VerificationCode>, StoreError>;

    /// Marks the email verified and deletes the code, atomically.
    /// Errors: [`StoreError::NotFound`].
    async fn complete_verification(&self, user_id: Uuid) -> Result<(), StoreError>;

    /// Counts one attempt under `key` if `limit` allows it, atomically: the decision
    /// and the count are one step, so of any number of concurrent calls no more are
    /// granted than sequential calls would be.
    ///
    /// At `now`, a key with no count, or whose window began at or before
    /// `now - limit.window`, restarts: count 1, window starting at `now`, granted.
    /// Otherwise the attempt is granted, and the count grows by one, while the count
    /// is below `limit.max` or once `now` has reached the last granted attempt plus
    /// [`AttemptLimit::lock_for`] the count. Else nothing changes and the answer is
    /// [`Reservation::Refused`] with the earlier of that time and the window's end.
    async fn reserve_attempt(
        &self,
        key: &str,
        limit: AttemptLimit,
        now: OffsetDateTime,
    ) -> Result<Reservation, StoreError>;

    /// Gives back one granted attempt under `key` (the count drops by one, never below
    /// zero), for an attempt that turned out not to count. A missing key is a no-op.
    async fn release_attempt(&self, key: &str) -> Result<(), StoreError>;

    /// Forgets the attempts counted under `key`.
    async fn clear_attempts(&self, key: &str) -> Result<(), StoreError>;

    /// Deletes counters whose last granted attempt is at or before `before`; returns
    /// how many.
    async fn purge_attempts(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
