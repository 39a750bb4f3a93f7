//! Accounts, Argon2id passwords, JWT access tokens and rotating refresh sessions.
//!
//! `auth-core` knows nothing of HTTP or SQL: an application holds an [`AuthService`]
//! in an `Arc`, gives it an [`AuthStore`] (the in-memory `memory::MemoryStore` with
//! feature `memory`, or `storage-postgres`'s `PgStore`) and calls it from any
//! framework.
//!
//! - Access tokens are JWTs (`typ: at+jwt`, EdDSA by default, HS256 optional) signed by
//!   a [`KeySet`] that can hold several keys for rotation; [`AuthService::jwks`]
//!   publishes the public ones.
//! - Refresh tokens are opaque, HMAC-tagged and not stored: a session row keeps a
//!   counter, and [`AuthService::refresh`] rotates it atomically, tolerates a retry
//!   within a grace window and revokes on reuse.
//! - [`AuthService::verify`] checks a token without any I/O;
//!   [`AuthService::authenticate`] adds one store read so that logout, revocation and
//!   blocking take effect at once.
//! - API keys for machine clients ([`AuthService::create_api_key`]): `ak_<id>_<secret>`,
//!   stored as a keyed digest, roles narrowed to the owner's, an optional per-key rate
//!   limit; [`AuthService::authenticate`] accepts them as it accepts access tokens.
//! - With feature `passkeys`, `Passkeys` adds WebAuthn: passwordless sign-in with a
//!   discoverable credential, and passkeys as a second factor.
//!
//! # Layout
//!
//! What an application calls is at the root. [`store`] holds what a store author
//! needs (the capability traits and the rows they take and return); `memory` the
//! in-memory store (feature `memory`); `testkit` the conformance suite and test
//! helpers (feature `testkit`).
//!
//! # Durations
//!
//! Every duration of this crate's API (lifetimes and windows in [`AuthConfig`] and
//! [`RequestLimits`], [`AuthError::retry_after`]) is a [`time::Duration`], the type
//! its clock's [`time::OffsetDateTime`] arithmetic uses; `time` is re-exported so an
//! application uses the same version.
//!
//! # Runtime
//!
//! Password hashing runs on tokio's blocking pool (`spawn_blocking`), so the service
//! is called from inside a tokio runtime (any flavour with the blocking pool: both
//! `current_thread` and `multi_thread` have it). A debug build of an application
//! hashes far faster with `[profile.dev.package."*"] opt-level = 3` in its
//! `Cargo.toml` (Argon2 is expensive on purpose, and unoptimised code is many times
//! slower). Without a runtime, hashing fails with an internal error rather than a
//! panic.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use auth_core::{
//!     AuthConfig, AuthService, ClientInfo, Key, KeySet, RefreshSecret, Registration,
//!     memory::MemoryStore,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = KeySet::new(Key::generate_ed25519()?, [], "https://auth.example", "example-api", 0)?;
//! let auth = AuthService::new(
//!     Arc::new(MemoryStore::new()),
//!     keys,
//!     &RefreshSecret::generate(),
//!     AuthConfig::default(),
//! )?;
//!
//! let user = auth
//!     .register(Registration {
//!         login: "alice".into(),
//!         password: "Corr3ct-horse".into(),
//!         ..Default::default()
//!     }, &ClientInfo::default())
//!     .await?;
//!
//! let pair = auth.login("alice", "Corr3ct-horse", ClientInfo::default()).await?;
//! let principal = auth.authenticate(&pair.access_token).await?;
//! assert_eq!(principal.user_id, user.id);
//!
//! // Refresh rotates: the new refresh token replaces the old one.
//! let next = auth.refresh(&pair.refresh_token, &ClientInfo::default()).await?;
//! assert_ne!(next.refresh_token, pair.refresh_token);
//! assert_eq!(auth.authenticate(&next.access_token).await?.user_id, user.id);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod clock;
mod domain;
mod error;
mod limits;
mod mailer;
#[cfg(feature = "memory")]
pub mod memory;
mod password;
mod persist;
mod refresh;
mod service;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
mod token;
mod totp;
mod verified;

/// The crates of the public API, so an application uses the same versions.
pub use {async_trait, serde_json, time, uuid};

pub use clock::{Clock, ManualClock, SystemClock};
pub use domain::{
    Email, Login, LoginPolicy, Password, PasswordPolicy, PersonName, RoleName, ValidationError,
};
pub use error::{AuthError, BoxError, StoreError};
pub use limits::{RateLimit, RequestLimits};
pub use mailer::{Mail, MailKind, Mailer, MemoryMailer, NoopMailer};
pub use password::{Argon2Params, PasswordHasher, Verification};
pub use refresh::RefreshSecret;
pub use service::{
    API_KEY_PREFIX, ApiKeyInfo, ApiKeySecret, AuthConfig, AuthService, ClaimsFn, ClientInfo,
    CreatedApiKey, Credential, KeyRotation, LAST_USED_EVERY, LogoutScope, MAX_RATE_LIMIT,
    MfaChallenge, NewApiKey, Principal, ProfileUpdate, RECOVERY_CODES, ReauthProof, Registration,
    SessionInfo, SigningKeyInfo, ThrottlePolicy, TokenPair, TotpEnrolment, is_api_key,
};
#[cfg(feature = "passkeys")]
pub use service::{
    PASSKEY_FORMAT, PasskeyChallenge, PasskeyConfig, PasskeyConfigError, PasskeyInfo, Passkeys,
};
pub use store::{
    Actor, AttemptLimit, AuditEvent, AuditKind, AuditQuery, AuthStore, LoginEvent, ReusePolicy,
    Role, User, UserStatus,
};
#[cfg(feature = "remote-jwks")]
pub use token::ReqwestFetch;
pub use token::{
    AccessClaims, CustomClaims, Fetched, Jwk, JwkSet, JwksFetch, JwksSource, Key, KeyAlgorithm,
    KeyError, KeySet, RESERVED_CLAIMS, RemoteKeys, RemoteKeysConfig, RemoteKeysError, TokenError,
};
