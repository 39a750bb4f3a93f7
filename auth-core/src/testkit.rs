//! Conformance suite for [`AuthStore`] implementations.
//!
//! Each function takes a fresh, empty store and panics on a contract violation. Run
//! them all with [`auth_store_conformance!`](crate::auth_store_conformance) and a
//! [`Harness`] that makes a fresh store per test:
//!
//! ```text
//! struct Memory(Arc<MemoryStore>);
//! #[async_trait::async_trait]
//! impl auth_core::testkit::Harness for Memory { /* setup, store */ }
//! auth_core::auth_store_conformance!(Memory);
//! ```

use std::sync::Arc;

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::clock::truncate_to_micros;
use crate::domain::{Email, Login, PersonName};
use crate::error::StoreError;
use crate::store::*;

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
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! auth_store_conformance {
    ($harness:ty) => {
        $crate::__auth_store_conformance!(
            $harness;
            users_are_created_and_found_ignoring_case,
            logins_and_emails_are_unique_ignoring_case,
            a_user_with_an_unknown_role_is_not_created,
            updates_change_fields_and_keep_emails_unique,
            deleting_a_user_deletes_its_data,
            users_are_listed_filtered_and_paginated,
            roles_are_created_granted_revoked_and_deleted,
            blocking_revokes_every_session_of_the_user,
            refresh_rotates_then_retries_within_the_grace_window,
            reuse_outside_the_grace_window_revokes_every_session_of_the_user,
            reuse_with_the_session_policy_revokes_only_that_session,
            refresh_rejects_dead_sessions_blocked_users_and_future_counters,
            concurrent_refreshes_of_one_token_rotate_exactly_once,
            concurrent_registrations_of_one_login_succeed_once,
            session_status_reflects_revocation_and_blocking,
            sessions_are_revoked_one_by_one_only_by_their_owner,
            revoking_user_sessions_can_spare_one,
            sessions_are_listed_newest_first_without_dead_ones,
            purge_deletes_dead_sessions_and_expired_codes,
            login_history_is_newest_first_with_cursor_and_limit,
            verification_codes_are_replaced_and_completed,
            changing_the_password_hash_can_revoke_other_sessions,
            attempts_are_granted_up_to_the_limit_then_locked_with_doubling,
            attempts_restart_after_the_window_and_can_be_released_or_cleared,
            concurrent_reservations_never_exceed_the_limit,
            sessions_past_the_cap_revoke_the_oldest,
            concurrent_logins_never_exceed_the_session_cap,
            sessions_are_paged,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __auth_store_conformance {
    ($harness:ty; $($name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let harness = <$harness as $crate::testkit::Harness>::setup().await;
                $crate::testkit::$name(<$harness as $crate::testkit::Harness>::store(&harness)).await;
                <$harness as $crate::testkit::Harness>::teardown(harness).await;
            }
        )*
    };
}

fn now() -> OffsetDateTime {
    truncate_to_micros(OffsetDateTime::now_utc())
}

fn new_user(login: &str, email: Option<&str>) -> NewUser {
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

fn new_session(user_id: Uuid, at: OffsetDateTime) -> Session {
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
    }
}

fn refresh_req(session_id: Uuid, counter: u64, at: OffsetDateTime) -> RefreshRequest {
    RefreshRequest {
        session_id,
        counter,
        now: at,
        reuse_grace: Duration::seconds(10),
        idle_timeout: Duration::days(7),
        reuse_policy: ReusePolicy::RevokeUser,
    }
}

async fn user_with_session(store: &dyn AuthStore, login: &str) -> (User, Session) {
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

async fn is_revoked(store: &dyn AuthStore, id: Uuid) -> bool {
    store
        .session(id)
        .await
        .expect("read")
        .expect("exists")
        .revoked
}

/// Created users are found by id and by login in any case, with their hash.
pub async fn users_are_created_and_found_ignoring_case(store: Arc<dyn AuthStore>) {
    let mut nu = new_user("Alice", Some("Alice@Example.com"));
    nu.first_name = Some(PersonName::parse("first_name", "Alice").unwrap());
    let created = store.create_user(nu.clone()).await.unwrap();
    assert_eq!(created.login, "Alice");
    assert_eq!(created.email.as_deref(), Some("alice@example.com"));
    assert_eq!(created.first_name.as_deref(), Some("Alice"));
    assert_eq!(created.status, UserStatus::Active);
    assert!(created.roles.is_empty());
    assert_eq!(created.created_at, nu.created_at);
    assert_eq!(
        store.user_by_id(created.id).await.unwrap(),
        Some(created.clone())
    );
    let creds = store.credentials_by_login("aLICE").await.unwrap().unwrap();
    assert_eq!(creds.user, created);
    assert_eq!(creds.password_hash, nu.password_hash);
    assert_eq!(
        store.password_hash(created.id).await.unwrap(),
        Some(nu.password_hash)
    );
    assert!(store.user_by_id(Uuid::new_v4()).await.unwrap().is_none());
    assert!(store.credentials_by_login("bob").await.unwrap().is_none());
}

/// A second user with the same login or email, in any case, is a conflict.
pub async fn logins_and_emails_are_unique_ignoring_case(store: Arc<dyn AuthStore>) {
    store
        .create_user(new_user("alice", Some("a@example.com")))
        .await
        .unwrap();
    let login = store.create_user(new_user("ALICE", None)).await;
    assert!(matches!(login, Err(StoreError::LoginTaken)), "{login:?}");
    let email = store
        .create_user(new_user("bob", Some("A@EXAMPLE.COM")))
        .await;
    assert!(matches!(email, Err(StoreError::EmailTaken)), "{email:?}");
    assert_eq!(store.list_users(None, 10, 0).await.unwrap().len(), 1);
}

/// Creation with an unknown role fails as a whole.
pub async fn a_user_with_an_unknown_role_is_not_created(store: Arc<dyn AuthStore>) {
    let mut nu = new_user("alice", None);
    nu.roles = vec!["nosuchrole".into()];
    assert!(matches!(
        store.create_user(nu).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.credentials_by_login("alice").await.unwrap().is_none());
    let mut admin = new_user("root", None);
    admin.roles = vec!["admin".into()];
    assert_eq!(store.create_user(admin).await.unwrap().roles, vec!["admin"]);
}

/// Updates change only the given fields; a taken email is a conflict.
pub async fn updates_change_fields_and_keep_emails_unique(store: Arc<dyn AuthStore>) {
    let a = store
        .create_user(new_user("alice", Some("a@example.com")))
        .await
        .unwrap();
    store
        .create_user(new_user("bob", Some("b@example.com")))
        .await
        .unwrap();
    let updated = store
        .update_user(
            a.id,
            UserUpdate {
                first_name: Some(PersonName::parse("first_name", "Alicia").unwrap()),
                email_verified: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.first_name.as_deref(), Some("Alicia"));
    assert_eq!(updated.email.as_deref(), Some("a@example.com"));
    assert!(updated.email_verified);
    let taken = store
        .update_user(
            a.id,
            UserUpdate {
                email: Some(Email::parse("B@example.com").unwrap()),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(taken, Err(StoreError::EmailTaken)), "{taken:?}");
    let moved = store
        .update_user(
            a.id,
            UserUpdate {
                email: Some(Email::parse("new@example.com").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.email.as_deref(), Some("new@example.com"));
    // The old address is free again.
    store
        .create_user(new_user("carol", Some("a@example.com")))
        .await
        .unwrap();
    assert!(matches!(
        store
            .update_user(Uuid::new_v4(), UserUpdate::default())
            .await,
        Err(StoreError::NotFound)
    ));
}

/// Deleting a user removes its sessions and frees its login.
pub async fn deleting_a_user_deletes_its_data(store: Arc<dyn AuthStore>) {
    let (user, session) = user_with_session(&*store, "alice").await;
    store
        .record_login(LoginEvent {
            user_id: user.id,
            at: now(),
            ip: None,
            user_agent: None,
            success: true,
        })
        .await
        .unwrap();
    store.delete_user(user.id).await.unwrap();
    assert!(store.user_by_id(user.id).await.unwrap().is_none());
    assert!(store.session(session.id).await.unwrap().is_none());
    assert!(store.session_status(session.id).await.unwrap().is_none());
    assert!(
        store
            .login_history(user.id, 10, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.delete_user(user.id).await,
        Err(StoreError::NotFound)
    ));
    store.create_user(new_user("alice", None)).await.unwrap();
}

/// Listing filters on login, email and names ignoring case, ordered by creation.
pub async fn users_are_listed_filtered_and_paginated(store: Arc<dyn AuthStore>) {
    let base = now();
    for (i, (login, email)) in [
        ("alice", "alice@example.com"),
        ("bob", "bob@corp.example"),
        ("carol", "carol@example.com"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut nu = new_user(login, Some(email));
        nu.created_at = base + Duration::seconds(i as i64);
        if login == "bob" {
            nu.last_name = Some(PersonName::parse("last_name", "Smith").unwrap());
        }
        store.create_user(nu).await.unwrap();
    }
    let logins = |v: Vec<User>| v.into_iter().map(|u| u.login).collect::<Vec<_>>();
    assert_eq!(
        logins(store.list_users(None, 10, 0).await.unwrap()),
        ["alice", "bob", "carol"]
    );
    assert_eq!(logins(store.list_users(None, 1, 1).await.unwrap()), ["bob"]);
    assert_eq!(
        logins(
            store
                .list_users(Some("EXAMPLE.COM".into()), 10, 0)
                .await
                .unwrap()
        ),
        ["alice", "carol"]
    );
    assert_eq!(
        logins(store.list_users(Some("smi".into()), 10, 0).await.unwrap()),
        ["bob"]
    );
    assert!(
        store
            .list_users(Some("%".into()), 10, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.list_users(None, 10, 5).await.unwrap().is_empty());
}

/// Roles: the built-in admin, conflicts, grants shown on users, cascading delete.
pub async fn roles_are_created_granted_revoked_and_deleted(store: Arc<dyn AuthStore>) {
    let names = |v: Vec<Role>| v.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(names(store.list_roles().await.unwrap()), ["admin"]);
    let editor = Role {
        name: "editor".into(),
        description: Some("edits".into()),
    };
    assert_eq!(store.create_role(editor.clone()).await.unwrap(), editor);
    assert!(matches!(
        store.create_role(editor.clone()).await,
        Err(StoreError::RoleExists)
    ));
    assert_eq!(
        names(store.list_roles().await.unwrap()),
        ["admin", "editor"]
    );
    let user = store.create_user(new_user("alice", None)).await.unwrap();
    store.grant_role(user.id, "editor").await.unwrap();
    store.grant_role(user.id, "editor").await.unwrap();
    store.grant_role(user.id, "admin").await.unwrap();
    assert_eq!(
        store.user_by_id(user.id).await.unwrap().unwrap().roles,
        ["admin", "editor"]
    );
    assert!(matches!(
        store.grant_role(user.id, "nope").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.grant_role(Uuid::new_v4(), "editor").await,
        Err(StoreError::NotFound)
    ));
    store.revoke_role(user.id, "admin").await.unwrap();
    store.revoke_role(user.id, "admin").await.unwrap();
    assert_eq!(
        store.user_by_id(user.id).await.unwrap().unwrap().roles,
        ["editor"]
    );
    store.delete_role("editor").await.unwrap();
    assert!(
        store
            .user_by_id(user.id)
            .await
            .unwrap()
            .unwrap()
            .roles
            .is_empty()
    );
    assert!(matches!(
        store.delete_role("editor").await,
        Err(StoreError::NotFound)
    ));
}

/// Blocking revokes every session in the same call; unblocking revokes nothing.
pub async fn blocking_revokes_every_session_of_the_user(store: Arc<dyn AuthStore>) {
    let (user, s1) = user_with_session(&*store, "alice").await;
    let s2 = new_session(user.id, now());
    store.create_session(s2.clone(), 0).await.unwrap();
    let (_, other) = user_with_session(&*store, "bob").await;
    assert_eq!(
        store
            .set_user_status(user.id, UserStatus::Blocked)
            .await
            .unwrap(),
        2
    );
    assert!(is_revoked(&*store, s1.id).await && is_revoked(&*store, s2.id).await);
    assert!(!is_revoked(&*store, other.id).await);
    assert_eq!(
        store.user_by_id(user.id).await.unwrap().unwrap().status,
        UserStatus::Blocked
    );
    assert_eq!(
        store
            .set_user_status(user.id, UserStatus::Active)
            .await
            .unwrap(),
        0
    );
    assert!(matches!(
        store
            .set_user_status(Uuid::new_v4(), UserStatus::Blocked)
            .await,
        Err(StoreError::NotFound)
    ));
}

/// The current counter rotates; the previous one within the grace window is a retry.
pub async fn refresh_rotates_then_retries_within_the_grace_window(store: Arc<dyn AuthStore>) {
    let (user, s) = user_with_session(&*store, "alice").await;
    let t1 = s.created_at + Duration::seconds(60);
    let RefreshOutcome::Rotated { session, roles } = store
        .refresh_session(refresh_req(s.id, 0, t1))
        .await
        .unwrap()
    else {
        panic!("expected rotation");
    };
    assert_eq!(session.counter, 1);
    assert_eq!(session.last_refreshed_at, t1);
    assert_eq!(session.user_id, user.id);
    assert!(roles.is_empty());
    let retry = store
        .refresh_session(refresh_req(s.id, 0, t1 + Duration::seconds(10)))
        .await
        .unwrap();
    let RefreshOutcome::Retried { session, .. } = retry else {
        panic!("expected retry, got {retry:?}");
    };
    assert_eq!(session.counter, 1);
    let stored = store.session(s.id).await.unwrap().unwrap();
    assert_eq!((stored.counter, stored.last_refreshed_at), (1, t1));
    assert!(matches!(
        store
            .refresh_session(refresh_req(s.id, 1, t1 + Duration::seconds(11)))
            .await
            .unwrap(),
        RefreshOutcome::Rotated { .. }
    ));
}

/// Reuse after the grace window revokes all the user's sessions, and it sticks.
pub async fn reuse_outside_the_grace_window_revokes_every_session_of_the_user(
    store: Arc<dyn AuthStore>,
) {
    let (user, s) = user_with_session(&*store, "alice").await;
    let sibling = new_session(user.id, now());
    store.create_session(sibling.clone(), 0).await.unwrap();
    let (_, stranger) = user_with_session(&*store, "bob").await;
    let t1 = s.created_at + Duration::seconds(1);
    store
        .refresh_session(refresh_req(s.id, 0, t1))
        .await
        .unwrap();
    let late = t1 + Duration::seconds(10) + Duration::microseconds(1);
    let out = store
        .refresh_session(refresh_req(s.id, 0, late))
        .await
        .unwrap();
    assert_eq!(
        out,
        RefreshOutcome::Reused {
            user_id: user.id,
            revoked: 2
        }
    );
    assert!(is_revoked(&*store, s.id).await);
    assert!(is_revoked(&*store, sibling.id).await);
    assert!(!is_revoked(&*store, stranger.id).await);
    // The legitimate holder of counter 1 is now locked out too.
    assert_eq!(
        store
            .refresh_session(refresh_req(s.id, 1, late))
            .await
            .unwrap(),
        RefreshOutcome::Rejected
    );
}

/// With `RevokeSession`, reuse revokes the session but spares the user's others.
pub async fn reuse_with_the_session_policy_revokes_only_that_session(store: Arc<dyn AuthStore>) {
    let (user, s) = user_with_session(&*store, "alice").await;
    let sibling = new_session(user.id, now());
    store.create_session(sibling.clone(), 0).await.unwrap();
    let t = s.created_at;
    for c in 0..3 {
        store
            .refresh_session(refresh_req(s.id, c, t))
            .await
            .unwrap();
    }
    // Two behind is reuse even inside the grace window.
    let req = RefreshRequest {
        reuse_policy: ReusePolicy::RevokeSession,
        ..refresh_req(s.id, 1, t)
    };
    assert_eq!(
        store.refresh_session(req).await.unwrap(),
        RefreshOutcome::Reused {
            user_id: user.id,
            revoked: 1
        }
    );
    assert!(is_revoked(&*store, s.id).await);
    assert!(!is_revoked(&*store, sibling.id).await);
}

/// Unknown, revoked, expired and idle sessions, blocked users and counters ahead are
/// all rejected without changing anything.
pub async fn refresh_rejects_dead_sessions_blocked_users_and_future_counters(
    store: Arc<dyn AuthStore>,
) {
    let (user, s) = user_with_session(&*store, "alice").await;
    let t = s.created_at;
    let rejected = |o: RefreshOutcome| assert_eq!(o, RefreshOutcome::Rejected);
    rejected(
        store
            .refresh_session(refresh_req(Uuid::new_v4(), 0, t))
            .await
            .unwrap(),
    );
    rejected(
        store
            .refresh_session(refresh_req(s.id, 1, t))
            .await
            .unwrap(),
    );
    rejected(
        store
            .refresh_session(refresh_req(s.id, u64::MAX, t))
            .await
            .unwrap(),
    );
    rejected(
        store
            .refresh_session(refresh_req(s.id, 0, s.expires_at))
            .await
            .unwrap(),
    );
    rejected(
        store
            .refresh_session(refresh_req(s.id, 0, t + Duration::days(7)))
            .await
            .unwrap(),
    );
    assert_eq!(store.session(s.id).await.unwrap().unwrap().counter, 0);
    store
        .set_user_status(user.id, UserStatus::Blocked)
        .await
        .unwrap();
    store
        .set_user_status(user.id, UserStatus::Active)
        .await
        .unwrap();
    // Blocking revoked it; unblocking does not bring it back.
    rejected(
        store
            .refresh_session(refresh_req(s.id, 0, t))
            .await
            .unwrap(),
    );
    let fresh = new_session(user.id, t);
    store.create_session(fresh.clone(), 0).await.unwrap();
    store.revoke_session(fresh.id, None).await.unwrap();
    rejected(
        store
            .refresh_session(refresh_req(fresh.id, 0, t))
            .await
            .unwrap(),
    );
}

/// 100 concurrent refreshes with the same token: one rotation, 99 retries.
pub async fn concurrent_refreshes_of_one_token_rotate_exactly_once(store: Arc<dyn AuthStore>) {
    let (_, s) = user_with_session(&*store, "alice").await;
    let t = s.created_at + Duration::seconds(1);
    let outcomes = futures::future::join_all((0..100).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.refresh_session(refresh_req(s.id, 0, t)).await })
    }))
    .await;
    let mut rotated = 0;
    let mut retried = 0;
    for o in outcomes {
        match o.expect("task").expect("store call") {
            RefreshOutcome::Rotated { session, .. } => {
                assert_eq!(session.counter, 1);
                rotated += 1;
            }
            RefreshOutcome::Retried { session, .. } => {
                assert_eq!(session.counter, 1);
                retried += 1;
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((rotated, retried), (1, 99));
    assert_eq!(store.session(s.id).await.unwrap().unwrap().counter, 1);
}

/// 50 concurrent registrations of one login: one succeeds, 49 conflict.
pub async fn concurrent_registrations_of_one_login_succeed_once(store: Arc<dyn AuthStore>) {
    let results = futures::future::join_all((0..50).map(|i| {
        let store = store.clone();
        let login = if i % 2 == 0 { "alice" } else { "ALICE" };
        tokio::spawn(async move { store.create_user(new_user(login, None)).await })
    }))
    .await;
    let mut ok = 0;
    let mut taken = 0;
    for r in results {
        match r.expect("task") {
            Ok(_) => ok += 1,
            Err(StoreError::LoginTaken) => taken += 1,
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!((ok, taken), (1, 49));
    assert_eq!(store.list_users(None, 100, 0).await.unwrap().len(), 1);
}

/// `session_status` shows revocation, expiry, the owner's status and current roles.
pub async fn session_status_reflects_revocation_and_blocking(store: Arc<dyn AuthStore>) {
    let (user, s) = user_with_session(&*store, "alice").await;
    let st = store.session_status(s.id).await.unwrap().unwrap();
    assert_eq!(
        st,
        SessionStatus {
            user_id: user.id,
            revoked: false,
            expires_at: s.expires_at,
            last_refreshed_at: s.last_refreshed_at,
            user_status: UserStatus::Active,
            roles: vec![],
        }
    );
    store.grant_role(user.id, "admin").await.unwrap();
    assert_eq!(
        store.session_status(s.id).await.unwrap().unwrap().roles,
        ["admin"]
    );
    store
        .set_user_status(user.id, UserStatus::Blocked)
        .await
        .unwrap();
    let st = store.session_status(s.id).await.unwrap().unwrap();
    assert!(st.revoked);
    assert_eq!(st.user_status, UserStatus::Blocked);
    assert!(
        store
            .session_status(Uuid::new_v4())
            .await
            .unwrap()
            .is_none()
    );
}

/// A session is revoked once, and only by its owner when an owner is given.
pub async fn sessions_are_revoked_one_by_one_only_by_their_owner(store: Arc<dyn AuthStore>) {
    let (user, s) = user_with_session(&*store, "alice").await;
    let (other, _) = user_with_session(&*store, "bob").await;
    assert!(!store.revoke_session(s.id, Some(other.id)).await.unwrap());
    assert!(!is_revoked(&*store, s.id).await);
    assert!(store.revoke_session(s.id, Some(user.id)).await.unwrap());
    assert!(is_revoked(&*store, s.id).await);
    assert!(!store.revoke_session(s.id, Some(user.id)).await.unwrap());
    assert!(!store.revoke_session(Uuid::new_v4(), None).await.unwrap());
}

/// Revoking a user's sessions can keep the caller's own.
pub async fn revoking_user_sessions_can_spare_one(store: Arc<dyn AuthStore>) {
    let (user, keep) = user_with_session(&*store, "alice").await;
    let a = new_session(user.id, now());
    let b = new_session(user.id, now());
    store.create_session(a.clone(), 0).await.unwrap();
    store.create_session(b.clone(), 0).await.unwrap();
    assert_eq!(
        store
            .revoke_user_sessions(user.id, Some(keep.id))
            .await
            .unwrap(),
        2
    );
    assert!(!is_revoked(&*store, keep.id).await);
    assert!(is_revoked(&*store, a.id).await && is_revoked(&*store, b.id).await);
    assert_eq!(store.revoke_user_sessions(user.id, None).await.unwrap(), 1);
    assert!(is_revoked(&*store, keep.id).await);
}

/// Listing shows live sessions only, newest first.
pub async fn sessions_are_listed_newest_first_without_dead_ones(store: Arc<dyn AuthStore>) {
    let user = store.create_user(new_user("alice", None)).await.unwrap();
    let t = now();
    let old = new_session(user.id, t - Duration::hours(2));
    let new = new_session(user.id, t - Duration::hours(1));
    let revoked = new_session(user.id, t);
    let mut expired = new_session(user.id, t - Duration::days(40));
    expired.expires_at = t - Duration::days(10);
    for s in [&old, &new, &revoked, &expired] {
        store.create_session(s.clone(), 0).await.unwrap();
    }
    store.revoke_session(revoked.id, None).await.unwrap();
    let ids: Vec<Uuid> = store
        .list_sessions(user.id, t, Duration::days(7), 100, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [new.id, old.id]);
    let listed = store
        .list_sessions(user.id, t, Duration::days(7), 100, 0)
        .await
        .unwrap();
    assert_eq!(listed[0], new);
    // An idle session is not live either.
    let ids: Vec<Uuid> = store
        .list_sessions(user.id, t, Duration::minutes(90), 100, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [new.id]);
    assert!(matches!(
        store
            .create_session(new_session(Uuid::new_v4(), t), 0)
            .await,
        Err(StoreError::NotFound)
    ));
}

/// Purge removes revoked, expired and idle sessions and expired codes only.
pub async fn purge_deletes_dead_sessions_and_expired_codes(store: Arc<dyn AuthStore>) {
    let user = store
        .create_user(new_user("alice", Some("a@example.com")))
        .await
        .unwrap();
    let t = now();
    let live = new_session(user.id, t);
    let revoked = new_session(user.id, t);
    let idle = new_session(user.id, t - Duration::days(8));
    let mut expired = new_session(user.id, t - Duration::days(1));
    expired.expires_at = t - Duration::seconds(1);
    for s in [&live, &revoked, &idle, &expired] {
        store.create_session(s.clone(), 0).await.unwrap();
    }
    store.revoke_session(revoked.id, None).await.unwrap();
    store
        .put_verification_code(VerificationCode {
            user_id: user.id,
            code_hash: vec![1, 2, 3],
            expires_at: t - Duration::seconds(1),
        })
        .await
        .unwrap();
    assert_eq!(store.purge_expired(t, Duration::days(7)).await.unwrap(), 4);
    assert!(store.session(live.id).await.unwrap().is_some());
    for dead in [revoked.id, idle.id, expired.id] {
        assert!(store.session(dead).await.unwrap().is_none());
    }
    assert!(store.verification_code(user.id).await.unwrap().is_none());
    assert_eq!(store.purge_expired(t, Duration::days(7)).await.unwrap(), 0);
}

/// History is newest first, bounded by `limit`, with a `before` cursor.
pub async fn login_history_is_newest_first_with_cursor_and_limit(store: Arc<dyn AuthStore>) {
    let user = store.create_user(new_user("alice", None)).await.unwrap();
    let t = now();
    for i in 0..5 {
        store
            .record_login(LoginEvent {
                user_id: user.id,
                at: t + Duration::seconds(i),
                ip: Some("2001:db8::1".parse().unwrap()),
                user_agent: Some(format!("agent {i}")),
                success: i % 2 == 0,
            })
            .await
            .unwrap();
    }
    store
        .record_login(LoginEvent {
            user_id: Uuid::new_v4(),
            at: t,
            ip: None,
            user_agent: None,
            success: false,
        })
        .await
        .unwrap();
    let all = store.login_history(user.id, 10, None).await.unwrap();
    let agents: Vec<_> = all.iter().map(|e| e.user_agent.clone().unwrap()).collect();
    assert_eq!(
        agents,
        ["agent 4", "agent 3", "agent 2", "agent 1", "agent 0"]
    );
    assert_eq!(all[0].ip, Some("2001:db8::1".parse().unwrap()));
    assert!(all[0].success && !all[1].success);
    let page = store
        .login_history(user.id, 2, Some(t + Duration::seconds(3)))
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|e| e.at).collect::<Vec<_>>(),
        [t + Duration::seconds(2), t + Duration::seconds(1)]
    );
}

/// A code is read back as stored, replaced by a new one, and completion marks the
/// email verified and removes it.
pub async fn verification_codes_are_replaced_and_completed(store: Arc<dyn AuthStore>) {
    let user = store
        .create_user(new_user("alice", Some("a@example.com")))
        .await
        .unwrap();
    assert!(store.verification_code(user.id).await.unwrap().is_none());
    let code = VerificationCode {
        user_id: user.id,
        code_hash: vec![9; 32],
        expires_at: now() + Duration::minutes(15),
    };
    store.put_verification_code(code.clone()).await.unwrap();
    assert_eq!(
        store.verification_code(user.id).await.unwrap(),
        Some(code.clone())
    );
    let replacement = VerificationCode {
        code_hash: vec![7; 32],
        expires_at: code.expires_at + Duration::minutes(1),
        ..code.clone()
    };
    store
        .put_verification_code(replacement.clone())
        .await
        .unwrap();
    assert_eq!(
        store.verification_code(user.id).await.unwrap(),
        Some(replacement)
    );
    store.complete_verification(user.id).await.unwrap();
    assert!(
        store
            .user_by_id(user.id)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
    assert!(store.verification_code(user.id).await.unwrap().is_none());
    assert!(matches!(
        store
            .put_verification_code(VerificationCode {
                user_id: Uuid::new_v4(),
                ..code
            })
            .await,
        Err(StoreError::NotFound)
    ));
}

/// A new password hash can revoke every other session in the same call.
pub async fn changing_the_password_hash_can_revoke_other_sessions(store: Arc<dyn AuthStore>) {
    let (user, keep) = user_with_session(&*store, "alice").await;
    let other = new_session(user.id, now());
    store.create_session(other.clone(), 0).await.unwrap();
    assert_eq!(
        store
            .set_password_hash(user.id, "$new$", None)
            .await
            .unwrap(),
        0
    );
    assert!(!is_revoked(&*store, other.id).await);
    assert_eq!(
        store
            .set_password_hash(user.id, "$newer$", Some(keep.id))
            .await
            .unwrap(),
        1
    );
    assert!(is_revoked(&*store, other.id).await && !is_revoked(&*store, keep.id).await);
    assert_eq!(
        store.password_hash(user.id).await.unwrap().as_deref(),
        Some("$newer$")
    );
    assert!(matches!(
        store.set_password_hash(Uuid::new_v4(), "x", None).await,
        Err(StoreError::NotFound)
    ));
}

fn limit(max: u32) -> AttemptLimit {
    AttemptLimit {
        max,
        window: Duration::minutes(15),
        base_delay: Duration::seconds(30),
    }
}

async fn reserve(store: &dyn AuthStore, key: &str, max: u32, at: OffsetDateTime) -> Reservation {
    store
        .reserve_attempt(key, limit(max), at)
        .await
        .expect("reserve")
}

/// `max` attempts are granted, then the key refuses until the lock after the last
/// one has passed; each attempt granted past the limit doubles the lock.
pub async fn attempts_are_granted_up_to_the_limit_then_locked_with_doubling(
    store: Arc<dyn AuthStore>,
) {
    let t = now();
    let s = |n: i64| t + Duration::seconds(n);
    for i in 1..=3 {
        assert_eq!(
            reserve(&*store, "login:alice", 3, s(i64::from(i))).await,
            Reservation::Granted { count: i }
        );
    }
    // Locked for 30 s after the third attempt; a refusal changes nothing.
    assert_eq!(
        reserve(&*store, "login:alice", 3, s(4)).await,
        Reservation::Refused { until: s(33) }
    );
    assert_eq!(
        reserve(&*store, "login:alice", 3, s(32)).await,
        Reservation::Refused { until: s(33) }
    );
    // Other keys are independent.
    assert_eq!(
        reserve(&*store, "login:bob", 3, s(5)).await,
        Reservation::Granted { count: 1 }
    );
    assert_eq!(
        reserve(&*store, "login:alice", 3, s(33)).await,
        Reservation::Granted { count: 4 }
    );
    // Then 60 s, then 120 s.
    assert_eq!(
        reserve(&*store, "login:alice", 3, s(34)).await,
        Reservation::Refused { until: s(93) }
    );
    assert_eq!(
        reserve(&*store, "login:alice", 3, s(93)).await,
        Reservation::Granted { count: 5 }
    );
    assert_eq!(
        reserve(&*store, "login:alice", 3, s(94)).await,
        Reservation::Refused { until: s(213) }
    );
    // A lock never outlasts the window (which began at s(1)).
    for _ in 0..6 {
        let at = match reserve(&*store, "login:alice", 3, s(213)).await {
            Reservation::Granted { .. } => continue,
            Reservation::Refused { until } => until,
        };
        assert!(at <= s(1) + Duration::minutes(15));
    }
}

/// A window that has passed restarts the count; a released attempt no longer
/// counts; a cleared key starts afresh; purge drops counters idle since a time.
pub async fn attempts_restart_after_the_window_and_can_be_released_or_cleared(
    store: Arc<dyn AuthStore>,
) {
    let t = now();
    for _ in 0..2 {
        reserve(&*store, "ip:192.0.2.1", 2, t).await;
    }
    assert!(matches!(
        reserve(&*store, "ip:192.0.2.1", 2, t).await,
        Reservation::Refused { .. }
    ));
    // Given back, the attempt can be made again at once.
    store.release_attempt("ip:192.0.2.1").await.unwrap();
    assert_eq!(
        reserve(&*store, "ip:192.0.2.1", 2, t).await,
        Reservation::Granted { count: 2 }
    );
    store.clear_attempts("ip:192.0.2.1").await.unwrap();
    assert_eq!(
        reserve(&*store, "ip:192.0.2.1", 2, t).await,
        Reservation::Granted { count: 1 }
    );
    reserve(&*store, "ip:192.0.2.1", 2, t).await;
    // A fixed-window rate limit: locked until the window ends, then it restarts.
    let hour = AttemptLimit {
        max: 1,
        window: Duration::hours(1),
        base_delay: Duration::hours(1),
    };
    let first = store.reserve_attempt("email:1", hour, t).await.unwrap();
    assert_eq!(first, Reservation::Granted { count: 1 });
    assert_eq!(
        store
            .reserve_attempt("email:1", hour, t + Duration::minutes(10))
            .await
            .unwrap(),
        Reservation::Refused {
            until: t + Duration::hours(1)
        }
    );
    let later = t + Duration::hours(1);
    assert_eq!(
        store.reserve_attempt("email:1", hour, later).await.unwrap(),
        Reservation::Granted { count: 1 }
    );
    // Releasing a key that does not exist, or below zero, is harmless.
    store.release_attempt("nobody").await.unwrap();
    store.release_attempt("email:1").await.unwrap();
    store.release_attempt("email:1").await.unwrap();
    assert_eq!(
        store.reserve_attempt("email:1", hour, later).await.unwrap(),
        Reservation::Granted { count: 1 }
    );
    // Purge: "ip:192.0.2.1" was last used at t, "email:1" at `later`.
    assert_eq!(store.purge_attempts(t).await.unwrap(), 1);
    assert_eq!(
        reserve(&*store, "ip:192.0.2.1", 2, t).await,
        Reservation::Granted { count: 1 }
    );
    assert!(matches!(
        store.reserve_attempt("email:1", hour, later).await.unwrap(),
        Reservation::Refused { .. }
    ));
}

/// 100 concurrent reservations under a limit of 5 grant exactly 5.
pub async fn concurrent_reservations_never_exceed_the_limit(store: Arc<dyn AuthStore>) {
    let t = now();
    let results = futures::future::join_all((0..100).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.reserve_attempt("login:target", limit(5), t).await })
    }))
    .await;
    let mut granted: Vec<u32> = results
        .into_iter()
        .filter_map(|r| match r.expect("task").expect("reserve") {
            Reservation::Granted { count } => Some(count),
            Reservation::Refused { .. } => None,
        })
        .collect();
    granted.sort_unstable();
    assert_eq!(granted, [1, 2, 3, 4, 5]);
}

/// A session past the cap revokes the oldest live ones; dead ones do not count.
pub async fn sessions_past_the_cap_revoke_the_oldest(store: Arc<dyn AuthStore>) {
    let user = store.create_user(new_user("alice", None)).await.unwrap();
    let t = now();
    let mut expired = new_session(user.id, t - Duration::days(40));
    expired.expires_at = t - Duration::days(10);
    store.create_session(expired.clone(), 0).await.unwrap();
    let sessions: Vec<Session> = (0..4)
        .map(|i| new_session(user.id, t + Duration::seconds(i)))
        .collect();
    for s in &sessions[..3] {
        assert_eq!(store.create_session(s.clone(), 3).await.unwrap(), 0);
    }
    assert_eq!(
        store.create_session(sessions[3].clone(), 3).await.unwrap(),
        1
    );
    assert!(is_revoked(&*store, sessions[0].id).await);
    for s in &sessions[1..] {
        assert!(!is_revoked(&*store, s.id).await);
    }
    assert!(!is_revoked(&*store, expired.id).await);
    // A lower cap revokes as many as it takes.
    let last = new_session(user.id, t + Duration::seconds(9));
    assert_eq!(store.create_session(last.clone(), 1).await.unwrap(), 3);
    let live = store
        .list_sessions(user.id, t + Duration::seconds(9), Duration::days(7), 100, 0)
        .await
        .unwrap();
    assert_eq!(live.iter().map(|s| s.id).collect::<Vec<_>>(), [last.id]);
}

/// 30 concurrent session inserts under a cap of 5 leave exactly 5 live.
pub async fn concurrent_logins_never_exceed_the_session_cap(store: Arc<dyn AuthStore>) {
    let user = store.create_user(new_user("alice", None)).await.unwrap();
    let t = now();
    let results = futures::future::join_all((0..30).map(|i| {
        let store = store.clone();
        let s = new_session(user.id, t + Duration::milliseconds(i));
        tokio::spawn(async move { store.create_session(s, 5).await })
    }))
    .await;
    let revoked: u64 = results
        .into_iter()
        .map(|r| r.expect("task").expect("insert"))
        .sum();
    assert_eq!(revoked, 25);
    let live = store
        .list_sessions(user.id, t + Duration::seconds(1), Duration::days(7), 100, 0)
        .await
        .unwrap();
    assert_eq!(live.len(), 5);
}

/// Session lists page with `limit` and `offset`, newest first.
pub async fn sessions_are_paged(store: Arc<dyn AuthStore>) {
    let user = store.create_user(new_user("alice", None)).await.unwrap();
    let t = now();
    let mut ids = Vec::new();
    for i in 0..5 {
        let s = new_session(user.id, t + Duration::seconds(i));
        ids.push(s.id);
        store.create_session(s, 0).await.unwrap();
    }
    ids.reverse();
    let page = |limit, offset| {
        let store = store.clone();
        async move {
            store
                .list_sessions(
                    user.id,
                    t + Duration::seconds(5),
                    Duration::days(7),
                    limit,
                    offset,
                )
                .await
                .unwrap()
                .into_iter()
                .map(|s| s.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(page(2, 0).await, ids[..2]);
    assert_eq!(page(2, 2).await, ids[2..4]);
    assert_eq!(page(2, 4).await, ids[4..]);
    assert!(page(2, 5).await.is_empty());
    assert!(page(2, u64::MAX).await.is_empty());
}
