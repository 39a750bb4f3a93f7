//! End-to-end tests: the real router over HTTP, on memory and on Postgres.

/// Runs each body on a fresh in-memory server and on a fresh Postgres-backed one:
/// `module::name::memory` and `module::name::postgres`.
macro_rules! on_both_with {
    ($tweak:expr; $(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: tests::TestApp) $body

                #[tokio::test]
                async fn memory() {
                    run(tests::TestApp::start_with(tests::Backend::Memory, $tweak).await).await
                }

                #[tokio::test]
                async fn postgres() {
                    run(tests::TestApp::start_with(tests::Backend::Postgres, $tweak).await).await
                }
            }
        )*
    };
}

macro_rules! on_both {
    ($($tests:tt)*) => {
        on_both_with!(|_| {}; $($tests)*);
    };
}

mod account_security;
mod admin;
mod api_keys;
mod audit;
mod auth;
mod bursts;
mod connections;
mod exchange;
mod kv;
mod mfa;
mod money;
mod ops;
mod outage;
mod passkeys;
mod password_reset;
mod proxies;
mod signing_keys;
mod smtp;
mod users;
