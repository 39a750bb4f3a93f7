//! The storage contract of auth-core, one trait per capability.
//!
//! [`AccountStore`], [`RoleStore`], [`SessionStore`], [`LoginHistoryStore`],
//! [`VerificationStore`], [`AttemptStore`], [`ResetStore`], [`MfaStore`] and
//! [`EmailChangeStore`] each cover one capability and state the
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
/// implementations for `Arc<T>` and `Box<T>` and (feature `testkit`) for `Spy`, which
/// records each call before delegating.
macro_rules! capability {
    (
        $(#[$doc:meta])*
        pub trait $name:ident {
            $(
                $(#[$mdoc:meta])*
                async fn $method:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;
            )*
        }
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
mod attempts;
mod email_change;
mod history;
mod mfa;
mod reset;
mod roles;
mod sessions;
mod verification;

pub use accounts::*;
pub use attempts::*;
pub use email_change::*;
pub use history::*;
pub use mfa::*;
pub use reset::*;
pub use roles::*;
pub use sessions::*;
pub use verification::*;

/// Everything auth-core stores: every capability trait at once. Implemented for any
/// type that implements them all; hold it as `Arc<dyn AuthStore>`.
pub trait AuthStore:
    AccountStore
    + RoleStore
    + SessionStore
    + LoginHistoryStore
    + VerificationStore
    + AttemptStore
    + ResetStore
    + MfaStore
    + EmailChangeStore
{
}

impl<T> AuthStore for T where
    T: AccountStore
        + RoleStore
        + SessionStore
        + LoginHistoryStore
        + VerificationStore
        + AttemptStore
        + ResetStore
        + MfaStore
        + EmailChangeStore
        + ?Sized
{
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
