//! Limits under parallel bursts: each burst gets no more checks than the same requests
//! sent one at a time would, on memory, on Postgres, and split across two server
//! instances sharing one database.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tests::{Backend, Method, PASSWORD, Reply, StatusCode, TestApp};

/// Where a burst goes.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Memory,
    Postgres,
    /// Two instances on one Postgres database; requests alternate between them.
    TwoInstances,
}

/// The instances a burst is spread over.
struct Target {
    apps: Vec<TestApp>,
}

impl Target {
    async fn start(kind: Kind, tweak: impl FnOnce(&mut server_example::Config)) -> Self {
        let backend = match kind {
            Kind::Memory => Backend::Memory,
            Kind::Postgres | Kind::TwoInstances => Backend::Postgres,
        };
        let first = TestApp::start_with(backend, tweak).await;
        let mut apps = vec![];
        if matches!(kind, Kind::TwoInstances) {
            apps.push(first.sibling().await);
        }
        apps.insert(0, first);
        Self { apps }
    }

    fn first(&self) -> &TestApp {
        &self.apps[0]
    }

    /// `n` requests at once, the i-th made by `make(i)` and sent to instance
    /// `i % instances`.
    async fn burst(
        &self,
        n: usize,
        make: impl Fn(usize) -> (Method, &'static str, Option<String>, Value),
    ) -> Vec<Reply> {
        let requests = (0..n).map(|i| {
            let (method, path, token, body) = make(i);
            let app = &self.apps[i % self.apps.len()];
            async move { app.call(method, path, token.as_deref(), Some(body)).await }
        });
        futures::future::join_all(requests).await
    }
}

/// How many replies had each status.
fn tally(replies: &[Reply]) -> BTreeMap<u16, usize> {
    let mut t = BTreeMap::new();
    for r in replies {
        *t.entry(r.status.as_u16()).or_default() += 1;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.header("retry-after").is_some(), "429 without Retry-After");
            assert!(r.json["code"].is_string(), "{}", r.text);
        }
    }
    t
}

/// Runs each body with a `Kind` on all three targets, on a multi-threaded runtime so
/// the burst's requests are handled in parallel.
macro_rules! on_all_targets {
    ($(async fn $name:ident($kind:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($kind: Kind) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn memory() {
                    run(Kind::Memory).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    run(Kind::Postgres).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn two_instances() {
                    run(Kind::TwoInstances).await
                }
            }
        )*
    };
}

fn login(login: &str, password: &str) -> (Method, &'static str, Option<String>, Value) {
    (
        Method::POST,
        "/auth/login",
        None,
        json!({"login": login, "password": password}),
    )
}

on_all_targets! {
    async fn parallel_wrong_logins_get_only_the_per_login_limit_checked(kind) {
        let t = Target::start(kind, |_| {}).await;
        t.first().register("alice").await;
        // Every 401 is a password check; the limit is 5 per login.
        let replies = t.burst(100, |_| login("alice", "Wr0ng-pass!")).await;
        assert_eq!(tally(&replies), BTreeMap::from([(401, 5), (429, 95)]));
        // Once the limit is reached, the right password inside a burst does not log in.
        let replies = t
            .burst(30, |i| login("alice", if i % 3 == 0 { PASSWORD } else { "Wr0ng-pass!" }))
            .await;
        assert_eq!(tally(&replies), BTreeMap::from([(429, 30)]));
        for r in &replies {
            r.assert_error(StatusCode::TOO_MANY_REQUESTS, "throttled");
        }
    }

    async fn parallel_logins_from_one_address_get_only_the_address_limit_checked(kind) {
        let t = Target::start(kind, |_| {}).await;
        // 100 different logins, one address whose limit is 20.
        let names: Vec<String> = (0..100).map(|i| format!("ghost{i}")).collect();
        let replies = t
            .burst(100, |i| {
                let (m, p, tok, _) = login("x", "y");
                (m, p, tok, json!({"login": names[i], "password": "Wr0ng-pass!"}))
            })
            .await;
        assert_eq!(tally(&replies), BTreeMap::from([(401, 20), (429, 80)]));
    }

    async fn parallel_wrong_codes_get_only_the_login_budget_checked(kind) {
        let t = Target::start(kind, |c| c.require_email_verification = true).await;
        let r = t
            .first()
            .post(
                "/auth/register",
                None,
                json!({"login": "alice", "password": PASSWORD, "email": "alice@example.com"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let code = t.first().mailer.last_code_for("alice@example.com").unwrap();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        // Every 400 is a code check; the budget is 5 per login.
        let replies = t
            .burst(100, |_| {
                (Method::POST, "/auth/verify-email", None, json!({"login": "alice", "code": wrong}))
            })
            .await;
        assert_eq!(tally(&replies), BTreeMap::from([(400, 5), (429, 95)]));
        // The right code is refused now, and so is a fresh one: a new code does not
        // restore the budget.
        let verify = |code: &str| {
            t.first()
                .post("/auth/verify-email", None, json!({"login": "alice", "code": code}))
        };
        verify(&code).await.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
        let resent = t
            .first()
            .post("/auth/verify-email/resend", None, json!({"login": "alice"}))
            .await;
        assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.text);
        let fresh = t.first().mailer.last_code_for("alice@example.com").unwrap();
        verify(&fresh).await.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    }

    async fn parallel_resends_send_one_code_per_cooldown(kind) {
        let t = Target::start(kind, |c| c.require_email_verification = true).await;
        let body = json!({"login": "alice", "password": PASSWORD, "email": "alice@example.com"});
        assert_eq!(t.first().post("/auth/register", None, body).await.status, StatusCode::CREATED);
        let mails_before = t.apps.iter().map(|a| a.mailer.sent().len()).sum::<usize>();
        let replies = t
            .burst(30, |_| (Method::POST, "/auth/verify-email/resend", None, json!({"login": "alice"})))
            .await;
        assert_eq!(tally(&replies), BTreeMap::from([(202, 1), (429, 29)]));
        let sent = t.apps.iter().map(|a| a.mailer.sent().len()).sum::<usize>();
        assert_eq!(sent - mails_before, 1, "one code per cooldown");
    }

    async fn parallel_codes_from_one_address_get_only_the_address_limit_checked(kind) {
        let t = Target::start(kind, |_| {}).await;
        let names: Vec<String> = (0..100).map(|i| format!("nobody{i}")).collect();
        let replies = t
            .burst(100, |i| {
                (Method::POST, "/auth/verify-email", None, json!({"login": names[i], "code": "123456"}))
            })
            .await;
        assert_eq!(tally(&replies), BTreeMap::from([(400, 20), (429, 80)]));
    }

    async fn parallel_email_changes_get_only_the_per_user_limit(kind) {
        let t = Target::start(kind, |_| {}).await;
        let (_, access, _) = t.first().signup("alice").await;
        t.first().reauthenticate(&access).await;
        let bob = json!({"login": "bob", "password": PASSWORD, "email": "bob@example.com"});
        assert_eq!(t.first().post("/auth/register", None, bob).await.status, StatusCode::CREATED);
        let mails_before = t.apps.iter().map(|a| a.mailer.sent().len()).sum::<usize>();
        let replies = t
            .burst(50, |i| {
                let email = format!("alice{i}@example.com");
                (Method::PATCH, "/users/me", Some(access.clone()), json!({"email": email}))
            })
            .await;
        assert_eq!(tally(&replies), BTreeMap::from([(200, 5), (429, 45)]));
        for r in replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS) {
            r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        }
        let sent = t.apps.iter().map(|a| a.mailer.sent().len()).sum::<usize>();
        assert_eq!(sent - mails_before, 5, "one confirmation mail per granted change");
        // Past the limit a taken address answers 429 too, not 409: no probing.
        let r = t
            .first()
            .call(Method::PATCH, "/users/me", Some(&access), Some(json!({"email": "bob@example.com"})))
            .await;
        r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        // A profile update that keeps the email is not an email change.
        let r = t
            .first()
            .call(Method::PATCH, "/users/me", Some(&access), Some(json!({"first_name": "Alice"})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }

    async fn parallel_registrations_get_only_the_address_limit(kind) {
        let t = Target::start(kind, |c| c.register_limit_per_minute = 10).await;
        let names: Vec<String> = (0..40).map(|i| format!("user{i}")).collect();
        let replies = t
            .burst(40, |i| {
                (Method::POST, "/auth/register", None, json!({"login": names[i], "password": PASSWORD}))
            })
            .await;
        assert_eq!(tally(&replies), BTreeMap::from([(201, 10), (429, 30)]));
    }

    async fn parallel_refreshes_get_only_the_address_limit(kind) {
        let t = Target::start(kind, |c| c.refresh_limit_per_minute = 10).await;
        let (_, _, refresh) = t.first().signup("alice").await;
        let replies = t
            .burst(40, |_| {
                (Method::POST, "/auth/refresh", None, json!({"refresh_token": refresh}))
            })
            .await;
        assert_eq!(tally(&replies), BTreeMap::from([(200, 10), (429, 30)]));
    }

    async fn parallel_requests_with_a_key_get_only_the_keys_limit(kind) {
        let t = Target::start(kind, |_| {}).await;
        let (_, token, _) = t.first().signup("alice").await;
        t.first().reauthenticate(&token).await;
        let created = t
            .first()
            .post("/users/me/api-keys", Some(&token), json!({"name": "ci", "rate_limit_per_minute": 10}))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let key = created.json["key"].as_str().unwrap().to_owned();
        let replies = t
            .burst(50, |_| (Method::GET, "/users/me", Some(key.clone()), json!({})))
            .await;
        assert_eq!(tally(&replies), BTreeMap::from([(200, 10), (429, 40)]));
        // The session of the same user is not held to the key's limit.
        assert_eq!(t.first().get("/users/me", Some(&token)).await.status, StatusCode::OK);
    }

    async fn parallel_key_rotations_rotate_once_and_leave_one_current_key(kind) {
        let t = Target::start(kind, |c| {
            c.signing_key_rotation_secs = Some(3600);
            c.signing_key_poll_ms = 1000;
        })
        .await;
        let admin = t.first().admin_token().await;
        // "Rotate now" within a poll of the last rotation (the first keys, at start) is
        // that rotation.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let replies = t
            .burst(20, |_| (Method::POST, "/admin/keys/rotate", Some(admin.clone()), json!({})))
            .await;
        assert_eq!(tally(&replies), BTreeMap::from([(200, 20)]));
        for r in &replies {
            let keys = r.json.as_array().unwrap();
            assert_eq!(keys.iter().filter(|k| k["state"] == "current").count(), 1, "{}", r.text);
        }
        let keys = t.first().get("/admin/keys", Some(&admin)).await.json;
        let states: Vec<&str> = keys.as_array().unwrap().iter().map(|k| k["state"].as_str().unwrap()).collect();
        assert_eq!(states, ["current", "next", "retired"], "one rotation");
    }

    async fn parallel_logins_never_leave_more_sessions_than_the_cap(kind) {
        let t = Target::start(kind, |c| c.max_sessions_per_user = 3).await;
        t.first().register("alice").await;
        // Two bursts within the per-login limit of 5 checks at once.
        let mut replies = t.burst(5, |_| login("alice", PASSWORD)).await;
        replies.extend(t.burst(5, |_| login("alice", PASSWORD)).await);
        assert_eq!(tally(&replies), BTreeMap::from([(200, 10)]));
        let mut live = 0;
        for r in &replies {
            let token = r.json["access_token"].as_str().unwrap();
            if t.first().get("/users/me", Some(token)).await.status == StatusCode::OK {
                live += 1;
            }
        }
        assert_eq!(live, 3);
    }
}
