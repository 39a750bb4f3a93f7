//! Service behaviour over the in-memory store, with a manual clock.

use std::sync::Arc;

use auth_core::memory::MemoryStore;
use auth_core::store::*;
use auth_core::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use time::Duration;

const PASSWORD: &str = "Passw0rd!";

struct Fixture {
    auth: Arc<AuthService>,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    mailer: Arc<MemoryMailer>,
    keys: KeySet,
}

fn keys() -> KeySet {
    KeySet::new(
        Key::generate_ed25519().unwrap(),
        [],
        "https://issuer.test",
        "api.test",
        0,
    )
    .unwrap()
}

fn fixture_with(config: AuthConfig, keys: KeySet) -> Fixture {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::starting_now());
    let mailer = Arc::new(MemoryMailer::new());
    let auth = AuthService::new(
        store.clone(),
        keys.clone(),
        &RefreshSecret::from_bytes(&[42u8; 32]).unwrap(),
        config,
    )
    .unwrap()
    .with_clock(clock.clone())
    .with_mailer(mailer.clone());
    Fixture {
        auth: Arc::new(auth),
        store,
        clock,
        mailer,
        keys,
    }
}

fn fixture() -> Fixture {
    fixture_with(AuthConfig::default(), keys())
}

fn registration(login: &str) -> Registration {
    Registration {
        login: login.into(),
        password: PASSWORD.into(),
        ..Default::default()
    }
}

impl Fixture {
    async fn user_and_login(&self, login: &str) -> (User, TokenPair) {
        let user = self
            .auth
            .register(registration(login), &ClientInfo::default())
            .await
            .unwrap();
        let pair = self
            .auth
            .login(login, PASSWORD, ClientInfo::default())
            .await
            .unwrap();
        (user, pair)
    }

    async fn store_user_id(&self, login: &str) -> uuid::Uuid {
        self.store
            .credentials_by_login(&Login::parse(login).unwrap())
            .await
            .unwrap()
            .unwrap()
            .user
            .id
    }

    /// A signed-in administrator (created on first use).
    async fn admin(&self) -> Principal {
        self.auth.ensure_admin("root", "Adm1n-pass!").await.unwrap();
        let pair = self
            .auth
            .login("root", "Adm1n-pass!", ClientInfo::default())
            .await
            .unwrap();
        self.auth.authenticate(&pair.access_token).await.unwrap()
    }

    /// The reset token mailed to `email` other than `previous`, waiting for the
    /// background send.
    async fn mailed_reset_token(&self, email: &str, previous: Option<&str>) -> String {
        for _ in 0..500 {
            if let Some(t) = self.mailer.last_reset_token_for(email)
                && Some(t.as_str()) != previous
            {
                return t;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        panic!("no reset mail for {email}");
    }

    /// Gives user `id` the address `email`, verified, straight in the store.
    async fn give_verified_email(&self, id: uuid::Uuid, email: &str) {
        let update = UserUpdate {
            email: Some(Email::parse(email).unwrap()),
            email_verified: Some(true),
            ..Default::default()
        };
        self.store.update_user(id, update, None).await.unwrap();
    }

    /// Re-authenticates `who`'s session with the password.
    async fn reauth(&self, who: &Principal) {
        self.auth
            .reauthenticate(
                who,
                ReauthProof::Password(PASSWORD.into()),
                &ClientInfo::default(),
            )
            .await
            .unwrap();
    }

    async fn login(&self, login: &str) -> TokenPair {
        self.auth
            .login(login, PASSWORD, ClientInfo::default())
            .await
            .unwrap()
    }
}

mod account_security;
mod admin;
mod api_keys;
mod audit;
mod email_verification;
mod login;
mod mfa;
mod passkeys;
mod password_reset;
mod refresh;
mod registration;
mod remote_keys;
mod sessions;
mod signing_keys;
mod throttling;
mod tokens;
