//! The storage contract of auth-core, one trait per capability.
//!
//! [`AccountStore`], [`RoleStore`], [`SessionStore`], [`AuditStore`],
//! [`VerificationStore`], [`AttemptStore`], [`ResetStore`], [`MfaStore`],
//! [`EmailChangeStore`], [`PasskeyStore`], [`ApiKeyStore`] and [`SigningKeyStore`] each cover one capability and state the
//! contract of every method (what is atomic, what "not found" returns). [`AuthStore`]
//! is all of them at once and is implemented for every type that implements them all,
//! so an application holds an `Arc<dyn AuthStore>`. Each trait is also implemented for
//! `Arc<T>` and `Box<T>`, so a wrapper (logging, metrics) delegates to an inner store
//! without forwarding code of its own.
//!
//! Implementations must give the same observable behaviour as the in-memory store
//! (feature `memory`); the conformance suite (feature `testkit`) checks it. Connection
//! failures are [`StoreError::Unavailable`](crate::StoreError::Unavailable).

/// Declares a capability trait (object safe, `#[async_trait]`) together with its
/// implementations for `Arc<T>` and `Box<T>`, (feature `testkit`) for `Spy`, which
/// records each call before delegating, and (feature `mocks`) its mockall mock, kept
/// in `MockAuthStore`'s field `$field`.
macro_rules! capability {
    (
        $(#[$doc:meta])*
        pub trait $name:ident {
            $(
                $(#[$mdoc:meta])*
                async fn $method:ident(&self $($params:tt)*) -> $ret:ty;
            )*
        }
        mock $field:ident: $mock:ident;
    ) => {
        capability!(@declare $(#[$doc])* pub trait $name {
            $(
                $(#[$mdoc])*
                async fn $method(&self $($params)*) -> $ret;
            )*
        } $field);

        // mockall reads the parameters as written (tokens passed through, not parsed
        // types, which it cannot read), with a receiver of this macro's own.
        #[cfg(feature = "mocks")]
        mockall::mock! {
            #[doc = concat!("A mockall mock of [`", stringify!($name), "`] (feature `mocks`); [`MockAuthStore`](crate::store::MockAuthStore) holds one of each capability.")]
            pub $name {}
            #[async_trait::async_trait]
            impl $name for $name {
                $(
                    async fn $method(&self $($params)*) -> $ret;
                )*
            }
        }

        #[cfg(feature = "mocks")]
        impl std::fmt::Debug for $mock {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($mock))
            }
        }
    };
    (
        @declare
        $(#[$doc:meta])*
        pub trait $name:ident {
            $(
                $(#[$mdoc:meta])*
                async fn $method:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;
            )*
        }
        $field:ident
    ) => {
        $(#[$doc])*
        #[async_trait::async_trait]
        pub trait $name: Send + Sync + std::fmt::Debug + 'static {
            $(
                $(#[$mdoc])*
                async fn $method(&self $(, $arg: $ty)*) -> $ret;
            )*
        }

        #[async_trait::async_trait]
        impl<T: $name + ?Sized> $name for std::sync::Arc<T> {
            $(
                async fn $method(&self $(, $arg: $ty)*) -> $ret {
                    (**self).$method($($arg),*).await
                }
            )*
        }

        #[async_trait::async_trait]
        impl<T: $name + ?Sized> $name for Box<T> {
            $(
                async fn $method(&self $(, $arg: $ty)*) -> $ret {
                    (**self).$method($($arg),*).await
                }
            )*
        }

        #[cfg(any(test, feature = "testkit"))]
        #[async_trait::async_trait]
        impl<S: $name> $name for crate::store::Spy<S> {
            $(
                async fn $method(&self $(, $arg: $ty)*) -> $ret {
                    self.record(stringify!($method))?;
                    self.inner.$method($($arg),*).await
                }
            )*
        }

        #[cfg(feature = "mocks")]
        #[async_trait::async_trait]
        impl $name for crate::store::MockAuthStore {
            $(
                async fn $method(&self $(, $arg: $ty)*) -> $ret {
                    self.$field.$method($($arg),*).await
                }
            )*
        }

        #[cfg(any(test, feature = "testkit"))]
        #[allow(non_upper_case_globals)]
        impl crate::store::Call {
            $(
                #[doc = concat!("`", stringify!($name), "::", stringify!($method), "`.")]
                pub const $method: crate::store::Call = crate::store::Call(stringify!($method));
            )*
        }
    };
}

mod accounts;
mod api_keys;
mod attempts;
mod audit;
mod email_change;
mod mfa;
mod passkeys;
mod reset;
mod roles;
mod sessions;
mod signing_keys;
mod verification;

pub use accounts::*;
pub use api_keys::*;
pub use attempts::*;
pub use audit::*;
pub use email_change::*;
pub use mfa::*;
pub use passkeys::*;
pub use reset::*;
pub use roles::*;
pub use sessions::*;
pub use signing_keys::*;
pub use verification::*;

/// Everything auth-core stores: every capability trait at once. Implemented for any
/// type that implements them all; hold it as `Arc<dyn AuthStore>`.
pub trait AuthStore:
    AccountStore
    + RoleStore
    + SessionStore
    + AuditStore
    + VerificationStore
    + AttemptStore
    + ResetStore
    + MfaStore
    + EmailChangeStore
    + PasskeyStore
    + ApiKeyStore
    + SigningKeyStore
{
}

impl<T> AuthStore for T where
    T: AccountStore
        + RoleStore
        + SessionStore
        + AuditStore
        + VerificationStore
        + AttemptStore
        + ResetStore
        + MfaStore
        + EmailChangeStore
        + PasskeyStore
        + ApiKeyStore
        + SigningKeyStore
        + ?Sized
{
}

/// A mockall mock of the whole store (feature `mocks`): one mock per capability, each
/// set up with its `expect_*` methods. A call no expectation matches panics, naming
/// the method, so a test states exactly what the code under test may ask of the
/// store.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::Arc;
/// use auth_core::store::MockAuthStore;
/// use auth_core::{AuthConfig, AuthError, AuthService, Key, KeySet, RefreshSecret, StoreError};
///
/// let mut store = MockAuthStore::default();
/// // The database is down when the user is read.
/// store
///     .accounts
///     .expect_user_by_id()
///     .returning(|_| Err(StoreError::Unavailable("connection refused".into())));
/// let keys = KeySet::new(Key::generate_ed25519().unwrap(), [], "iss", "aud", 0).unwrap();
/// let secret = RefreshSecret::generate();
/// let auth = AuthService::new(Arc::new(store), keys, &secret, AuthConfig::default()).unwrap();
/// let err = auth.user(auth_core::uuid::Uuid::now_v7()).await.unwrap_err();
/// assert!(matches!(err, AuthError::Unavailable(_)));
/// assert_eq!(err.status(), 503);
/// # }
/// ```
#[cfg(feature = "mocks")]
#[derive(Debug, Default)]
pub struct MockAuthStore {
    /// [`AccountStore`].
    pub accounts: MockAccountStore,
    /// [`RoleStore`].
    pub roles: MockRoleStore,
    /// [`SessionStore`].
    pub sessions: MockSessionStore,
    /// [`AuditStore`].
    pub audit: MockAuditStore,
    /// [`VerificationStore`].
    pub verification: MockVerificationStore,
    /// [`AttemptStore`].
    pub attempts: MockAttemptStore,
    /// [`ResetStore`].
    pub resets: MockResetStore,
    /// [`MfaStore`].
    pub mfa: MockMfaStore,
    /// [`EmailChangeStore`].
    pub email_changes: MockEmailChangeStore,
    /// [`PasskeyStore`].
    pub passkeys: MockPasskeyStore,
    /// [`ApiKeyStore`].
    pub api_keys: MockApiKeyStore,
    /// [`SigningKeyStore`].
    pub signing_keys: MockSigningKeyStore,
}

/// A store that records the name of every call before passing it to `inner`, and can
/// make one method fail (feature `testkit`): for testing service logic in isolation,
/// what reaches the store and in which order, over a real store.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::Arc;
/// use auth_core::{AuthConfig, AuthService, ClientInfo, Key, KeySet, RefreshSecret};
/// use auth_core::{StoreError, memory::MemoryStore, store::Spy};
///
/// use auth_core::store::Call;
///
/// let store = Arc::new(Spy::new(MemoryStore::new()).failing(Call::credentials_by_login, || {
///     StoreError::Unavailable("down".into())
/// }));
/// let keys = KeySet::new(Key::generate_ed25519().unwrap(), [], "iss", "aud", 0).unwrap();
/// let auth =
///     AuthService::new(store.clone(), keys, &RefreshSecret::generate(), AuthConfig::default())
///         .unwrap();
/// assert!(auth.login("alice", "pw", ClientInfo::default()).await.is_err());
/// assert_eq!(store.take_calls(), ["reserve_attempt", "credentials_by_login"]);
/// # }
/// ```
#[cfg(any(test, feature = "testkit"))]
#[derive(Debug)]
pub struct Spy<S> {
    /// The store that answers.
    pub inner: S,
    calls: std::sync::Mutex<Vec<&'static str>>,
    failing: Option<(&'static str, MakeError)>,
}

/// A store method, named for [`Spy::failing`]: `Call::session_status`. One constant
/// per method of every capability trait, so a misspelt name does not compile.
#[cfg(any(test, feature = "testkit"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call(&'static str);

#[cfg(any(test, feature = "testkit"))]
impl Call {
    /// The method's name.
    pub fn name(self) -> &'static str {
        self.0
    }
}

/// How [`Spy`] makes the error of a failing method.
#[cfg(any(test, feature = "testkit"))]
type MakeError = fn() -> crate::error::StoreError;

#[cfg(any(test, feature = "testkit"))]
impl<S> Spy<S> {
    /// A spy over `inner` that records every call and fails none.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            calls: Default::default(),
            failing: None,
        }
    }

    /// Makes every call of `method` (e.g. [`Call::session_status`]) fail with
    /// `error()`.
    pub fn failing(mut self, method: Call, error: MakeError) -> Self {
        self.failing = Some((method.name(), error));
        self
    }

    /// The methods called so far, in order; clears the record.
    pub fn take_calls(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn record(&self, method: &'static str) -> Result<(), crate::error::StoreError> {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(method);
        match self.failing {
            Some((m, error)) if m == method => Err(error()),
            _ => Ok(()),
        }
    }
}
