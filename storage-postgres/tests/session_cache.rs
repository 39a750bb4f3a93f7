//! Two instances on one database, each with its own session-status cache: a change
//! made on A is refused on B once the notice arrives, on Postgres as on memory (where
//! both instances share the store and there is nothing to invalidate).
//!
//! B's cache keeps entries for an hour, so only a notice can explain B refusing a
//! session it served from memory a moment before.

use std::sync::Arc;
use std::time::Duration;

use auth_core::memory::MemoryStore;
use auth_core::{
    AuthConfig, AuthError, AuthService, AuthStore, ClientInfo, Key, KeySet, LogoutScope, NewApiKey,
    Principal, ReauthProof, RefreshSecret, Registration,
};
use storage_postgres::testing::{TestDatabase, ToggleProxy};
use storage_postgres::{PgStore, PoolSettings, SessionCacheSettings};
use tokio::time::{Instant, sleep};

const PASSWORD: &str = "Passw0rd!";
const DEADLINE: Duration = Duration::from_secs(10);

/// Two services over two stores that see the same data.
struct Instances {
    a: AuthService,
    b: AuthService,
    /// B's store, when it is a `PgStore`, for its cache statistics.
    b_pg: Option<PgStore>,
}

fn services(a: Arc<dyn AuthStore>, b: Arc<dyn AuthStore>, b_pg: Option<PgStore>) -> Instances {
    let key = Key::generate_ed25519().expect("a fresh key");
    let keys = KeySet::new(key, [], "iss", "aud", 0).expect("one key");
    let secret = RefreshSecret::generate();
    let make = |store| {
        AuthService::new(store, keys.clone(), &secret, AuthConfig::default()).expect("config")
    };
    Instances {
        a: make(a),
        b: make(b),
        b_pg,
    }
}

fn memory() -> Instances {
    let store: Arc<dyn AuthStore> = Arc::new(MemoryStore::new());
    services(store.clone(), store, None)
}

/// B caches for an hour and listens through `listen_url` when given.
async fn postgres(db: &TestDatabase, listen_url: Option<String>) -> Instances {
    let settings = PoolSettings {
        max_connections: 4,
        session_cache: Some(SessionCacheSettings {
            ttl: Duration::from_secs(3600),
            listen_url,
            ..SessionCacheSettings::default()
        }),
        ..PoolSettings::default()
    };
    let b = PgStore::connect_with(db.url(), settings)
        .await
        .expect("second instance");
    let instances = services(Arc::new(db.store()), Arc::new(b.clone()), Some(b));
    instances.wait_listening(true).await;
    instances
}

impl Instances {
    async fn wait_listening(&self, listening: bool) {
        let Some(b) = &self.b_pg else { return };
        let start = Instant::now();
        while b.session_cache_stats().expect("cache on").listening != listening {
            assert!(
                start.elapsed() < DEADLINE,
                "B's listener never became listening={listening}"
            );
            sleep(Duration::from_millis(10)).await;
        }
    }

    fn b_hits(&self) -> Option<u64> {
        self.b_pg
            .as_ref()
            .map(|b| b.session_cache_stats().expect("cache on").hits)
    }

    async fn user(&self, login: &str) -> uuid::Uuid {
        let registration = Registration {
            login: login.into(),
            password: PASSWORD.into(),
            ..Default::default()
        };
        self.a
            .register(registration, &ClientInfo::default())
            .await
            .expect("registered")
            .id
    }

    async fn access(&self, login: &str) -> String {
        self.a
            .login(login, PASSWORD, ClientInfo::default())
            .await
            .expect("logged in")
            .access_token
    }

    async fn admin(&self) -> Principal {
        self.a
            .ensure_admin("root", "Adm1n-pass!")
            .await
            .expect("admin");
        let token = self.access_with("root", "Adm1n-pass!").await;
        self.a.authenticate(&token).await.expect("admin principal")
    }

    async fn access_with(&self, login: &str, password: &str) -> String {
        self.a
            .login(login, password, ClientInfo::default())
            .await
            .expect("logged in")
            .access_token
    }

    /// The administrator, and alice holding the role `editor`.
    async fn editor_alice(&self) -> (Principal, uuid::Uuid) {
        let admin = self.admin().await;
        let alice = self.user("alice").await;
        self.a
            .create_role(&admin, "editor", None)
            .await
            .expect("role");
        self.a
            .grant_role(&admin, alice, "editor")
            .await
            .expect("granted");
        (admin, alice)
    }

    /// An API key of `login` (signed in and re-authenticated on A) with `roles`, and
    /// the key's id.
    async fn api_key(&self, login: &str, roles: &[&str]) -> (String, uuid::Uuid) {
        let token = self.access(login).await;
        let who = self.a.authenticate(&token).await.expect("A accepts");
        let proof = ReauthProof::Password(PASSWORD.into());
        self.a
            .reauthenticate(&who, proof, &ClientInfo::default())
            .await
            .expect("re-authenticated");
        let new = NewApiKey {
            name: "deploy".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            ..NewApiKey::default()
        };
        let created = self.a.create_api_key(&who, new).await.expect("a key");
        (created.key.expose().to_owned(), created.info.id)
    }

    /// B accepts `token`, and (on Postgres) answers it from its cache. A notice of an
    /// earlier change still on its way may drop the first read's entry, so this tries
    /// again until a second read is a hit, within the deadline.
    async fn b_serves_from_cache(&self, token: &str) -> Principal {
        let start = Instant::now();
        loop {
            let first = self.b.authenticate(token).await.expect("B accepts");
            let Some(before) = self.b_hits() else {
                return first;
            };
            let second = self.b.authenticate(token).await.expect("B accepts again");
            assert_eq!(first, second);
            if self.b_hits().expect("postgres") > before {
                return second;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "B never answered from its cache"
            );
            sleep(Duration::from_millis(5)).await;
        }
    }

    /// Polls B until `check` holds for what B answers, with a deadline.
    async fn b_until(&self, token: &str, check: impl Fn(&Result<Principal, AuthError>) -> bool) {
        let start = Instant::now();
        loop {
            let answer = self.b.authenticate(token).await;
            if check(&answer) {
                return;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "B still answers {answer:?} after {DEADLINE:?}"
            );
            sleep(Duration::from_millis(5)).await;
        }
    }
}

fn refused(answer: &Result<Principal, AuthError>) -> bool {
    matches!(answer, Err(AuthError::InvalidToken))
}

async fn revocation(i: Instances) {
    i.user("alice").await;
    let token = i.access("alice").await;
    i.b_serves_from_cache(&token).await;
    let who = i.a.authenticate(&token).await.expect("A accepts");
    i.a.logout(&who, LogoutScope::Local).await.expect("logout");
    assert!(
        refused(&i.a.authenticate(&token).await),
        "A refuses at once"
    );
    i.b_until(&token, refused).await;
}

/// Alice's session, served from B's cache, is refused on A at once and on B once the
/// notice arrives, after an administrator's `change` to her on A.
async fn admin_change_reaches_b(
    i: Instances,
    change: impl AsyncFnOnce(&AuthService, &Principal, uuid::Uuid),
) {
    let admin = i.admin().await;
    let alice = i.user("alice").await;
    let token = i.access("alice").await;
    i.b_serves_from_cache(&token).await;
    change(&i.a, &admin, alice).await;
    assert!(
        refused(&i.a.authenticate(&token).await),
        "A refuses at once"
    );
    i.b_until(&token, refused).await;
}

async fn block(i: Instances) {
    admin_change_reaches_b(i, async |a, admin, alice| {
        a.block_user(admin, alice).await.expect("blocked")
    })
    .await;
}

async fn deletion(i: Instances) {
    admin_change_reaches_b(i, async |a, admin, alice| {
        a.delete_user(admin, alice).await.expect("deleted")
    })
    .await;
}

async fn role_removal(i: Instances) {
    let (admin, alice) = i.editor_alice().await;
    let token = i.access("alice").await;
    assert!(i.b_serves_from_cache(&token).await.has_role("editor"));
    i.a.revoke_role(&admin, alice, "editor")
        .await
        .expect("removed");
    let a_sees = i.a.authenticate(&token).await.expect("A accepts");
    assert!(!a_sees.has_role("editor"), "A sees it at once");
    i.b_until(&token, |a| matches!(a, Ok(p) if !p.has_role("editor")))
        .await;
}

async fn password_change(i: Instances) {
    i.user("alice").await;
    let elsewhere = i.access("alice").await;
    let here = i.access("alice").await;
    i.b_serves_from_cache(&elsewhere).await;
    let who = i.a.authenticate(&here).await.expect("A accepts");
    i.a.change_password(&who, PASSWORD, "N3w-passw0rd!")
        .await
        .expect("changed");
    assert!(
        refused(&i.a.authenticate(&elsewhere).await),
        "A refuses at once"
    );
    i.b_until(&elsewhere, refused).await;
    // The session that changed the password stays.
    i.b.authenticate(&here)
        .await
        .expect("B keeps the current session");
}

/// A key served from B's cache is refused on B once its revocation on A is noticed.
async fn api_key_revocation(i: Instances) {
    let alice = i.user("alice").await;
    let (key, id) = i.api_key("alice", &[]).await;
    i.b_serves_from_cache(&key).await;
    let owner =
        i.a.authenticate(&i.access("alice").await)
            .await
            .expect("A accepts");
    i.a.revoke_api_key(&owner, alice, id)
        .await
        .expect("revoked");
    assert!(refused(&i.a.authenticate(&key).await), "A refuses at once");
    i.b_until(&key, refused).await;
}

/// Blocking a key's owner, and removing a role the key uses, reach B's cached key.
async fn api_key_owner_changes(i: Instances) {
    let (admin, alice) = i.editor_alice().await;
    let (key, _) = i.api_key("alice", &["editor"]).await;
    assert!(i.b_serves_from_cache(&key).await.has_role("editor"));
    i.a.revoke_role(&admin, alice, "editor")
        .await
        .expect("removed");
    i.b_until(&key, |a| matches!(a, Ok(p) if !p.has_role("editor")))
        .await;
    i.b_serves_from_cache(&key).await;
    i.a.block_user(&admin, alice).await.expect("blocked");
    assert!(refused(&i.a.authenticate(&key).await), "A refuses at once");
    i.b_until(&key, refused).await;
}

macro_rules! on_both {
    ($($scenario:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(super::memory()).await;
                }
            )*
        }
        mod postgres {
            use storage_postgres::testing::TestDatabase;
            $(
                #[tokio::test]
                async fn $scenario() {
                    let db = TestDatabase::create(4).await;
                    super::$scenario(super::postgres(&db, None).await).await;
                    db.drop_database().await;
                }
            )*
        }
    };
}

on_both!(
    revocation,
    block,
    role_removal,
    deletion,
    password_change,
    api_key_revocation,
    api_key_owner_changes,
);

/// With its listener cut, B reads every status from the database: a revocation made
/// meanwhile is refused at once, never allowed from B's hour-long cache. When the
/// listener is back, B caches and follows notices again.
#[tokio::test]
async fn a_cut_listener_bypasses_the_cache_and_recovers() {
    let db = TestDatabase::create(4).await;
    let target = db
        .url()
        .trim_start_matches("postgres://")
        .split(['@', '/'])
        .nth(1)
        .expect("host:port")
        .parse()
        .expect("a socket address");
    let proxy = ToggleProxy::start(target).await;
    let listen_url = db
        .url()
        .replacen(&target.to_string(), &proxy.addr.to_string(), 1);
    let i = postgres(&db, Some(listen_url)).await;
    let b = i.b_pg.clone().expect("postgres");

    i.user("alice").await;
    let (kept, revoked) = (i.access("alice").await, i.access("alice").await);
    i.b_serves_from_cache(&kept).await;
    i.b_serves_from_cache(&revoked).await;

    proxy.disable();
    i.wait_listening(false).await;
    let who = i.a.authenticate(&revoked).await.expect("A accepts");
    i.a.logout(&who, LogoutScope::Local).await.expect("logout");
    assert!(
        refused(&i.b.authenticate(&revoked).await),
        "no stale allow while the listener is cut"
    );
    let hits = b.session_cache_stats().expect("cache on").hits;
    i.b.authenticate(&kept)
        .await
        .expect("a live session still works");
    i.b.authenticate(&kept)
        .await
        .expect("a live session still works");
    assert_eq!(
        b.session_cache_stats().expect("cache on").hits,
        hits,
        "read from the database while the listener is cut"
    );

    proxy.enable();
    i.wait_listening(true).await;
    i.b_serves_from_cache(&kept).await;
    let who = i.a.authenticate(&kept).await.expect("A accepts");
    i.a.logout(&who, LogoutScope::Local).await.expect("logout");
    i.b_until(&kept, refused).await;
    drop(i);
    db.drop_database().await;
}

/// The listener's connection killed from Postgres, 20 rounds, while B's pool
/// is held by other work: each time it listens again within its backoff (it never
/// waits on a pool slot), and a session revoked while it was away is refused.
#[tokio::test]
async fn a_killed_listener_comes_back_within_its_backoff_while_the_pool_is_busy() {
    let db = TestDatabase::create(4).await;
    let i = postgres(&db, None).await;
    let b = i.b_pg.clone().expect("postgres");
    i.user("alice").await;
    for round in 0..20 {
        let token = i.access("alice").await;
        i.b_serves_from_cache(&token).await;
        let before = b.session_cache_stats().expect("cache on").connects;
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(b.pool().acquire().await.expect("a connection of B's pool"));
        }
        let killed: i64 = sqlx::query_scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = $1 AND datname = current_database()",
        )
        .bind(storage_postgres::LISTENER_APPLICATION_NAME)
        .fetch_one(db.store().pool())
        .await
        .expect("kill the listeners");
        assert!(killed >= 1, "round {round}: no listener to kill");
        let who = i.a.authenticate(&token).await.expect("A accepts");
        i.a.logout(&who, LogoutScope::Local).await.expect("logout");
        let start = Instant::now();
        loop {
            let stats = b.session_cache_stats().expect("cache on");
            if stats.listening && stats.connects > before {
                break;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "round {round}: the listener stayed away for {DEADLINE:?}"
            );
            sleep(Duration::from_millis(10)).await;
        }
        drop(held);
        assert!(
            refused(&i.b.authenticate(&token).await),
            "round {round}: a session revoked while the listener was away is still allowed"
        );
    }
    drop(i);
    db.drop_database().await;
}

/// Every kind of change notifies the channel with the user's id, once per transaction.
#[tokio::test]
async fn every_change_notifies_the_users_id() {
    use auth_core::store::{AccountStore, RoleStore, SessionStore, UserStatus};
    use auth_core::testkit::prelude::{new_session, new_user, now, role};
    use storage_postgres::SESSION_STATUS_CHANNEL;
    use storage_postgres::sqlx::postgres::PgListener;

    let db = TestDatabase::create(4).await;
    let store = db.store();
    let mut listener = PgListener::connect(db.url()).await.expect("listener");
    listener
        .listen(SESSION_STATUS_CHANNEL)
        .await
        .expect("listen");
    let user = store
        .create_user(new_user("alice", None))
        .await
        .expect("user");
    let (s1, s2) = (new_session(user.id, now()), new_session(user.id, now()));
    store.create_session(s1.clone(), 0).await.expect("session");
    store.create_session(s2.clone(), 0).await.expect("session");
    store
        .create_role(
            auth_core::store::Role {
                name: auth_core::RoleName::parse("editor").unwrap(),
                description: None,
            },
            None,
        )
        .await
        .expect("role");

    let mut next = async || {
        let n = tokio::time::timeout(DEADLINE, listener.recv())
            .await
            .expect("a notice in time")
            .expect("a notice");
        n.payload().to_owned()
    };
    let id = user.id.to_string();
    store
        .revoke_session(s1.id, None, None)
        .await
        .expect("revoke");
    assert_eq!(next().await, id, "revocation");
    store
        .grant_role(user.id, &role("editor"), None)
        .await
        .expect("grant");
    assert_eq!(next().await, id, "role granted");
    store
        .revoke_role(user.id, &role("editor"), None)
        .await
        .expect("revoke role");
    assert_eq!(next().await, id, "role removed");
    store
        .set_user_status(user.id, UserStatus::Blocked, None)
        .await
        .expect("block");
    // The status and the revocation of s2 in one transaction: one notice.
    assert_eq!(next().await, id, "block");
    store
        .set_password_hash(user.id, "$argon2id$x", None, None)
        .await
        .expect("password");
    assert_eq!(next().await, id, "password");
    store.delete_user(user.id, None).await.expect("delete");
    assert_eq!(next().await, id, "deletion");
    // Nothing else was sent: a marker sent now is the next notice.
    sqlx_notify(&db, "marker").await;
    assert_eq!(next().await, "marker");
    drop(store);
    db.drop_database().await;
}

async fn sqlx_notify(db: &TestDatabase, payload: &str) {
    storage_postgres::sqlx::query("SELECT pg_notify($1, $2)")
        .bind(storage_postgres::SESSION_STATUS_CHANNEL)
        .bind(payload)
        .execute(db.store().pool())
        .await
        .expect("notify");
}

/// `close` ends the listener's connection and the pool: nothing of the store stays
/// connected to the database.
#[tokio::test]
async fn closing_the_store_ends_the_listener_and_the_pool() {
    let db = TestDatabase::create(4).await;
    let i = postgres(&db, None).await;
    let b = i.b_pg.clone().expect("postgres");
    i.user("alice").await;
    let token = i.access("alice").await;
    i.b_serves_from_cache(&token).await;
    let listeners = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
        )
        .bind(storage_postgres::LISTENER_APPLICATION_NAME)
        .fetch_one(db.store().pool())
        .await
        .expect("count")
    };
    // B's, and A's if its store caches too.
    let before = listeners().await;
    assert!(before >= 1);
    b.close().await;
    assert!(b.pool().is_closed());
    assert!(!b.session_cache_stats().expect("cache on").listening);
    let start = Instant::now();
    while listeners().await != before - 1 {
        assert!(
            start.elapsed() < DEADLINE,
            "the listener's connection stays"
        );
        sleep(Duration::from_millis(10)).await;
    }
    assert!(matches!(
        i.b.authenticate(&token).await,
        Err(AuthError::Unavailable(_))
    ));
    drop(i);
    db.drop_database().await;
}

/// A write of the signing keys on one instance is a notice to the other's listener,
/// so its service reads the keys at once rather than at its next poll.
#[tokio::test]
async fn a_signing_key_write_is_a_notice_to_the_other_instance() {
    use auth_core::store::SigningKeyStore;
    let db = TestDatabase::create(4).await;
    let i = postgres(&db, None).await;
    let b = i.b_pg.clone().expect("a PgStore");
    let mut changes = b
        .signing_key_changes()
        .await
        .unwrap()
        .expect("B's listener passes the notices on");
    changes.borrow_and_update();
    i.a.store()
        .replace_signing_keys(0, vec![], None)
        .await
        .unwrap();
    tokio::time::timeout(DEADLINE, changes.changed())
        .await
        .expect("a notice within the deadline")
        .expect("B's store is alive");
}
