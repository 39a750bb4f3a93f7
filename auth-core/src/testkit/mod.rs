//! Conformance suite for [`AuthStore`] implementations.
//!
//! [`auth_store_conformance!`](crate::auth_store_conformance) expands to one
//! `#[tokio::test]` per contract test of every capability trait, each on a fresh store
//! from a [`Harness`]. The test bodies live in the macros, so a test added here runs
//! on every backend (memory, Postgres, yours) without a list to update. The calling
//! crate needs `tokio` with the `macros` and `rt-multi-thread` features.
//!
//! ```
//! use std::sync::Arc;
//!
//! use auth_core::memory::MemoryStore;
//! use auth_core::testkit::Harness;
//! use auth_core::AuthStore;
//!
//! struct Memory(Arc<MemoryStore>);
//!
//! #[async_trait::async_trait]
//! impl Harness for Memory {
//!     async fn setup() -> Self {
//!         Memory(Arc::new(MemoryStore::new()))
//!     }
//!     fn store(&self) -> Arc<dyn AuthStore> {
//!         self.0.clone()
//!     }
//! }
//!
//! auth_core::auth_store_conformance!(Memory);
//! # fn main() {}
//! ```

use std::sync::Arc;

use async_trait::async_trait;

use crate::store::AuthStore;

mod accounts;
mod api_keys;
mod attempts;
mod audit;
#[cfg(feature = "passkeys")]
mod authenticator;
mod email_change;
mod mfa;
mod passkeys;
mod reset;
mod roles;
mod sessions;
mod signing_keys;
mod verification;

/// Makes a fresh, empty store for one test and cleans up after it.
#[async_trait]
pub trait Harness: Sized + Send + Sync + 'static {
    /// A new harness with an empty store (only the built-in `admin` role).
    async fn setup() -> Self;
    /// The store under test.
    fn store(&self) -> Arc<dyn AuthStore>;
    /// Releases resources (a test database, say).
    async fn teardown(self) {}
}

/// Generates one `#[tokio::test]` per conformance test for a [`Harness`] type.
#[macro_export]
macro_rules! auth_store_conformance {
    ($harness:ty) => {
        $crate::__auth_conformance_accounts!($harness);
        $crate::__auth_conformance_roles!($harness);
        $crate::__auth_conformance_sessions!($harness);
        $crate::__auth_conformance_audit!($harness);
        $crate::__auth_conformance_verification!($harness);
        $crate::__auth_conformance_attempts!($harness);
        $crate::__auth_conformance_reset!($harness);
        $crate::__auth_conformance_mfa!($harness);
        $crate::__auth_conformance_email_change!($harness);
        $crate::__auth_conformance_passkeys!($harness);
        $crate::__auth_conformance_api_keys!($harness);
        $crate::__auth_conformance_signing_keys!($harness);
    };
}

/// Wraps each test body in a `#[tokio::test]` that sets up a harness, binds its store
/// to the body's parameter and tears the harness down afterwards.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_tests {
    ($harness:ty; $($(#[$meta:meta])* async fn $name:ident($store:ident) $body:block)*) => {
        $(
            $(#[$meta])*
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                #[allow(unused_imports)]
                use $crate::testkit::prelude::*;
                let harness = <$harness as $crate::testkit::Harness>::setup().await;
                let $store = <$harness as $crate::testkit::Harness>::store(&harness);
                $body
                <$harness as $crate::testkit::Harness>::teardown(harness).await;
            }
        )*
    };
}

#[cfg(feature = "passkeys")]
pub use authenticator::SoftAuthenticator;

/// Tags refresh tokens and digests codes, as the service does: for benchmarks and
/// fuzzing of the token format.
pub use crate::refresh::TokenMac;

/// The code an authenticator app shows at `unix` (seconds) for `secret_base32`, the
/// secret as [`TotpEnrolment`](crate::TotpEnrolment) gives it: for tests that pass
/// a second factor.
///
/// # Panics
/// If `secret_base32` is not base32.
pub fn totp_code(secret_base32: &str, unix: i64) -> String {
    use crate::totp;
    let secret = totp::base32_decode(secret_base32).expect("a base32 secret");
    totp::code_at(&secret, totp::step_at(unix), totp::DIGITS)
}

/// What the test bodies use: the store types, the domain types, and helpers.
#[doc(hidden)]
pub mod prelude {
    pub use std::sync::Arc;

    pub use futures;
    pub use time::{Duration, OffsetDateTime};
    pub use tokio;
    pub use uuid::Uuid;

    pub use crate::clock::truncate_to_micros;
    pub use crate::domain::{Email, Login, LoginPolicy, PersonName, RoleName};
    pub use crate::error::StoreError;
    pub use crate::store::*;

    /// The current time, at the microsecond precision every store keeps.
    pub fn now() -> OffsetDateTime {
        truncate_to_micros(OffsetDateTime::now_utc())
    }

    /// A user to insert with `login` and an optional `email`, created now.
    pub fn new_user(login: &str, email: Option<&str>) -> NewUser {
        NewUser {
            id: Uuid::now_v7(),
            login: Login::parse(login).expect("valid test login"),
            email: email.map(|e| Email::parse(e).expect("valid test email")),
            first_name: None,
            last_name: None,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
            email_verified: false,
            roles: vec![],
            created_at: now(),
        }
    }

    /// A user like [`new_user`] whose email counts as verified.
    pub fn verified_user(login: &str, email: &str) -> NewUser {
        NewUser {
            email_verified: true,
            ..new_user(login, Some(email))
        }
    }

    /// A live session of `user_id` created at `at`, expiring 30 days later.
    pub fn new_session(user_id: Uuid, at: OffsetDateTime) -> Session {
        Session {
            id: Uuid::new_v4(),
            user_id,
            counter: 0,
            created_at: at,
            last_refreshed_at: at,
            expires_at: at + Duration::days(30),
            revoked: false,
            ip: Some("192.0.2.7".parse().expect("valid ip")),
            user_agent: Some("testkit/1.0".into()),
            sign_in: SignIn::Password,
            reauthenticated_at: None,
        }
    }

    /// A passkey of `user_id` with `credential_id`, registered at `at`, never used.
    pub fn passkey(user_id: Uuid, credential_id: &[u8], at: OffsetDateTime) -> StoredPasskey {
        StoredPasskey {
            id: Uuid::new_v4(),
            user_id,
            credential_id: credential_id.to_vec(),
            name: "key".into(),
            credential: vec![0xc0],
            counter: 0,
            backup_eligible: false,
            backup_state: false,
            created_at: at,
            last_used_at: None,
        }
    }

    /// An API key of `user_id` named `name` with `roles`, created at `at`, never used,
    /// with no expiry or limit of its own.
    pub fn api_key(user_id: Uuid, name: &str, roles: &[&str], at: OffsetDateTime) -> StoredApiKey {
        StoredApiKey {
            id: Uuid::now_v7(),
            user_id,
            name: name.into(),
            secret_hash: vec![0xa5; 32],
            roles: roles
                .iter()
                .map(|r| RoleName::parse(r).expect("valid test role"))
                .collect(),
            rate_limit: None,
            created_at: at,
            expires_at: None,
            last_used_at: None,
        }
    }

    /// A key `kid` in `state`, made at `at` (and activated then, when current), with a
    /// stand-in for its sealed private half.
    pub fn signing_key(kid: &str, state: SigningKeyState, at: OffsetDateTime) -> StoredSigningKey {
        StoredSigningKey {
            kid: kid.into(),
            algorithm: "EdDSA".into(),
            state,
            sealed_key: kid.as_bytes().repeat(3),
            created_at: at,
            activated_at: (state == SigningKeyState::Current).then_some(at),
            retire_after: None,
        }
    }

    /// `keys` ordered by `kid`, to compare a set read back with the one written.
    pub fn sorted(mut keys: Vec<StoredSigningKey>) -> Vec<StoredSigningKey> {
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        keys
    }

    /// An audit event of `kind` by `actor` about `target` at `at`, from a documentation
    /// address, that went through.
    pub fn audit_event(
        kind: AuditKind,
        actor: Actor,
        target: Uuid,
        at: OffsetDateTime,
    ) -> AuditEvent {
        AuditEvent {
            id: Uuid::now_v7(),
            at,
            kind,
            actor,
            target: Some(target),
            ip: Some("2001:db8::7".parse().expect("valid ip")),
            user_agent: Some("testkit/1.0".into()),
            success: true,
            detail: Some(format!("{kind:?}")),
        }
    }

    /// A refresh of `session_id` at `counter`, with a 10 s grace and the user-wide policy.
    pub fn refresh_req(session_id: Uuid, counter: u64, at: OffsetDateTime) -> RefreshRequest {
        RefreshRequest {
            session_id,
            counter,
            now: at,
            reuse_grace: Duration::seconds(10),
            idle_timeout: Duration::days(7),
            reuse_policy: ReusePolicy::RevokeUser,
            limit: None,
            reuse_audit: None,
        }
    }

    /// Inserts a user named `login` with one session.
    pub async fn user_with_session(store: &dyn AuthStore, login: &str) -> (User, Session) {
        let user = store
            .create_user(new_user(login, None))
            .await
            .expect("create user");
        let session = new_session(user.id, now());
        store
            .create_session(session.clone(), 0)
            .await
            .expect("create session");
        (user, session)
    }

    /// Whether the stored session `id` is revoked.
    pub async fn is_revoked(store: &dyn AuthStore, id: Uuid) -> bool {
        store
            .session(id)
            .await
            .expect("read")
            .expect("exists")
            .revoked
    }

    /// A 15-minute window of `max` attempts with a 30 s base delay.
    pub fn limit(max: u32) -> AttemptLimit {
        AttemptLimit {
            max,
            window: Duration::minutes(15),
            base_delay: Duration::seconds(30),
        }
    }

    /// Reserves one attempt under `key` with [`limit`]`(max)` at `at`.
    pub async fn reserve(
        store: &dyn AuthStore,
        key: &str,
        max: u32,
        at: OffsetDateTime,
    ) -> Reservation {
        store
            .reserve_attempt(key, limit(max), at)
            .await
            .expect("reserve")
    }

    /// A valid login (panics on an invalid one).
    pub fn login(raw: &str) -> Login {
        Login::parse(raw).expect("valid test login")
    }

    /// A valid role name (panics on an invalid one).
    pub fn role(raw: &str) -> RoleName {
        RoleName::parse(raw).expect("valid test role")
    }
}
