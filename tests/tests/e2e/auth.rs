use serde_json::json;
use tests::*;

on_both! {
    async fn registration_returns_the_user_in_the_documented_shape(app) {
        let r = app
            .post(
                "/auth/register",
                None,
                json!({"login": "Alice", "password": PASSWORD, "email": "Alice@Example.com",
                       "first_name": "Alice", "last_name": "Smith-Jones"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let u = &r.json;
        let mut keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["created_at", "email", "email_verified", "first_name", "id", "last_name", "login", "roles", "status"]
        );
        assert_eq!(u["login"], "Alice");
        assert_eq!(u["email"], "alice@example.com");
        assert_eq!(u["status"], "active");
        assert_eq!(u["roles"], json!([]));
        assert_eq!(u["email_verified"], false);
        assert!(u["created_at"].as_str().unwrap().contains('T'));
    }

    async fn registration_rules_give_400_naming_the_rule(app) {
        let cases = [
            (json!({"login": "a", "password": PASSWORD}), "2 to 64"),
            (json!({"login": "al ice", "password": PASSWORD}), "Latin letters and digits"),
            (json!({"login": "alice", "password": "Sh0rt!"}), "8 to 128"),
            (json!({"login": "alice", "password": "passw0rd!"}), "uppercase"),
            (json!({"login": "alice", "password": "PASSW0RD!"}), "lowercase"),
            (json!({"login": "alice", "password": "Password!"}), "digit"),
            (json!({"login": "alice", "password": "Passw0rdX"}), "one of"),
            (json!({"login": "alice", "password": PASSWORD, "email": "nope"}), "valid email"),
            (json!({"login": "alice", "password": PASSWORD, "first_name": "A"}), "2 to 32"),
            (json!({"login": "alice", "password": PASSWORD, "last_name": "Sm1th"}), "Latin letters"),
            (json!({"login": "alice", "password": PASSWORD, "last_name": "---"}), "at least one letter"),
        ];
        for (body, rule) in cases {
            let r = app.post("/auth/register", None, body.clone()).await;
            r.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
            assert!(r.json["message"].as_str().unwrap().contains(rule), "{body}: {}", r.text);
        }
        // Nothing was created by the refused attempts.
        app.register("alice").await;
    }

    async fn a_taken_login_or_email_is_409(app) {
        app.post("/auth/register", None, json!({"login": "alice", "password": PASSWORD, "email": "a@example.com"})).await;
        app.post("/auth/register", None, json!({"login": "ALICE", "password": PASSWORD}))
            .await
            .assert_error(StatusCode::CONFLICT, "login_taken");
        app.post("/auth/register", None, json!({"login": "bob", "password": PASSWORD, "email": "A@example.com"}))
            .await
            .assert_error(StatusCode::CONFLICT, "email_taken");
    }

    async fn malformed_json_gets_the_json_error_shape(app) {
        let r = app
            .send(app.request(Method::POST, "/auth/register").header("content-type", "application/json").body("{\"login\": "))
            .await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        let r = app.post("/auth/register", None, json!({"login": 5, "password": PASSWORD})).await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        let r = app.post("/auth/login", None, json!({"login": "x"})).await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        // A body that is not declared JSON is a bad body too (400, not 415).
        for ct in [None, Some("text/plain")] {
            let mut req = app.request(Method::POST, "/auth/login").body(r#"{"login":"a","password":"b"}"#);
            if let Some(ct) = ct {
                req = req.header("content-type", ct);
            }
            app.send(req).await.assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        }
        // Only objects: serde would read `["a", "b"]` into the struct's fields in order.
        let r = app.post("/auth/login", None, json!(["root", ADMIN_PASSWORD])).await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        assert_eq!(r.json["message"], "the body must be a JSON object");
        let (_, access, _) = app.signup("alice").await;
        let r = app.call(Method::PATCH, "/users/me", Some(&access), Some(json!([null, null]))).await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        // `application/*+json` is JSON too.
        let req = app
            .request(Method::POST, "/auth/login")
            .header("content-type", "application/vnd.api+json; charset=utf-8")
            .body(format!(r#"{{"login":"alice","password":"{PASSWORD}"}}"#));
        assert_eq!(app.send(req).await.status, StatusCode::OK);
    }

    async fn unknown_login_and_wrong_password_get_the_same_401(app) {
        app.register("alice").await;
        let unknown = app.post("/auth/login", None, json!({"login": "nobody", "password": PASSWORD})).await;
        let wrong = app.post("/auth/login", None, json!({"login": "alice", "password": "Wr0ng-pass"})).await;
        for r in [&unknown, &wrong] {
            r.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        }
        assert_eq!(unknown.json, wrong.json);
    }

    async fn login_returns_a_token_pair_in_the_documented_shape(app) {
        app.register("alice").await;
        let pair = app.login("alice", PASSWORD).await;
        assert_eq!(pair["token_type"], "Bearer");
        assert_eq!(pair["expires_in"], 900);
        assert!(pair["refresh_expires_in"].as_i64().unwrap() > 0);
        assert_eq!(pair["access_token"].as_str().unwrap().split('.').count(), 3);
        assert!(pair["refresh_token"].as_str().unwrap().len() > 40);
    }

    async fn the_full_session_lifecycle_ends_in_revocation_on_reuse(app) {
        let (_, access0, refresh0) = app.signup("alice").await;
        let r1 = app.post("/auth/refresh", None, json!({"refresh_token": refresh0})).await;
        assert_eq!(r1.status, StatusCode::OK, "{}", r1.text);
        let refresh1 = r1.json["refresh_token"].as_str().unwrap().to_owned();
        let access1 = r1.json["access_token"].as_str().unwrap().to_owned();
        assert_ne!(refresh1, refresh0);
        assert_eq!(app.get("/users/me", Some(&access1)).await.status, StatusCode::OK);
        // A retry inside the grace window gets the same refresh token.
        let retry = app.post("/auth/refresh", None, json!({"refresh_token": refresh0})).await;
        assert_eq!(retry.json["refresh_token"], refresh1.as_str());
        // Two steps behind is reuse: everything is revoked.
        let r2 = app.post("/auth/refresh", None, json!({"refresh_token": refresh1})).await;
        let refresh2 = r2.json["refresh_token"].as_str().unwrap().to_owned();
        let reuse = app.post("/auth/refresh", None, json!({"refresh_token": refresh0})).await;
        reuse.assert_error(StatusCode::UNAUTHORIZED, "refresh_token_reused");
        assert_eq!(reuse.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));
        app.post("/auth/refresh", None, json!({"refresh_token": refresh2}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
        for t in [&access0, &access1] {
            app.get("/users/me", Some(t)).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
        }
    }

    async fn a_garbage_refresh_token_is_401_invalid_refresh_token(app) {
        let (_, access, _) = app.signup("alice").await;
        for t in ["", "garbage", access.as_str()] {
            let r = app.post("/auth/refresh", None, json!({"refresh_token": t})).await;
            r.assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
        }
    }

    async fn logout_local_ends_only_this_session(app) {
        let (_, phone, phone_refresh) = app.signup("alice").await;
        let laptop = app.login("alice", PASSWORD).await["access_token"].as_str().unwrap().to_owned();
        let r = app.call(Method::POST, "/auth/logout", Some(&phone), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        app.get("/users/me", Some(&phone)).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
        app.post("/auth/refresh", None, json!({"refresh_token": phone_refresh}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
        assert_eq!(app.get("/users/me", Some(&laptop)).await.status, StatusCode::OK);
    }

    async fn logout_global_ends_every_session(app) {
        let (_, phone, _) = app.signup("alice").await;
        let laptop = app.login("alice", PASSWORD).await["access_token"].as_str().unwrap().to_owned();
        let (_, bob, _) = app.signup("bob").await;
        let r = app.post("/auth/logout", Some(&phone), json!({"scope": "global"})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        for t in [&phone, &laptop] {
            assert_eq!(app.get("/users/me", Some(t)).await.status, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(app.get("/users/me", Some(&bob)).await.status, StatusCode::OK);
    }

    async fn logout_others_keeps_this_session(app) {
        let (_, phone, _) = app.signup("alice").await;
        let laptop = app.login("alice", PASSWORD).await["access_token"].as_str().unwrap().to_owned();
        let r = app.post("/auth/logout", Some(&phone), json!({"scope": "others"})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/users/me", Some(&phone)).await.status, StatusCode::OK);
        assert_eq!(app.get("/users/me", Some(&laptop)).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn logout_needs_a_token_and_a_known_scope(app) {
        let r = app.post("/auth/logout", None, json!({})).await;
        r.assert_error(StatusCode::UNAUTHORIZED, "missing_token");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        let r = app.post("/auth/logout", Some("not-a-jwt"), json!({})).await;
        r.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
        assert_eq!(r.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));
        let (_, access, _) = app.signup("alice").await;
        app.post("/auth/logout", Some(&access), json!({"scope": "galaxy"}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        app.post("/auth/logout", Some(&access), json!(["global"]))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        assert_eq!(app.get("/users/me", Some(&access)).await.status, StatusCode::OK);
        // `null` is the documented "no body": the default, local scope.
        let other = app.login("alice", PASSWORD).await["access_token"].as_str().unwrap().to_owned();
        let r = app.post("/auth/logout", Some(&access), json!(null)).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        assert_eq!(app.get("/users/me", Some(&access)).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.get("/users/me", Some(&other)).await.status, StatusCode::OK);
    }

    async fn repeated_failed_logins_get_429_with_retry_after(app) {
        app.register("alice").await;
        for _ in 0..5 {
            app.post("/auth/login", None, json!({"login": "alice", "password": "Wr0ng-pass"}))
                .await
                .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
        }
        // Throttled before any password check: even the right one is refused for now.
        let r = app.post("/auth/login", None, json!({"login": "alice", "password": PASSWORD})).await;
        r.assert_error(StatusCode::TOO_MANY_REQUESTS, "throttled");
        let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=30).contains(&wait), "{wait}");
        // Another account is not affected by alice's lock (the address allows 20).
        app.register("bob").await;
        app.login("bob", PASSWORD).await;
    }

    async fn jwks_publishes_the_public_signing_key_only(app) {
        let r = app.get("/.well-known/jwks.json", None).await;
        assert_eq!(r.status, StatusCode::OK);
        let keys = r.json["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0]["kty"], "OKP");
        assert_eq!(keys[0]["crv"], "Ed25519");
        assert_eq!(keys[0]["alg"], "EdDSA");
        assert!(keys[0].get("d").is_none());
        // The kid in issued tokens is the published one.
        let (_, access, _) = app.signup("alice").await;
        let header = access.split('.').next().unwrap();
        let decoded = String::from_utf8(
            base64_url_decode(header),
        ).unwrap();
        assert!(decoded.contains(keys[0]["kid"].as_str().unwrap()), "{decoded}");
    }
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    // Small decoder to avoid a dependency for one assertion.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c).expect("base64url") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

mod email_verification {
    use super::*;

    async fn run(backend: Backend) {
        let app = TestApp::start_with(backend, |c| c.require_email_verification = true).await;
        let r = app
            .post(
                "/auth/register",
                None,
                json!({"login": "alice", "password": PASSWORD, "email": "alice@example.com"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        app.post(
            "/auth/login",
            None,
            json!({"login": "alice", "password": PASSWORD}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "email_not_verified");
        let code = app.mailer.last_code_for("alice@example.com").unwrap();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        app.post(
            "/auth/verify-email",
            None,
            json!({"login": "alice", "code": wrong}),
        )
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_verification_code");
        let ok = app
            .post(
                "/auth/verify-email",
                None,
                json!({"login": "alice", "code": code}),
            )
            .await;
        assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text);
        app.login("alice", PASSWORD).await;
        let me = app
            .get(
                "/users/me",
                Some(
                    app.login("alice", PASSWORD).await["access_token"]
                        .as_str()
                        .unwrap(),
                ),
            )
            .await;
        assert_eq!(me.json["email_verified"], true);
        app.post(
            "/auth/register",
            None,
            json!({"login": "bob", "password": PASSWORD}),
        )
        .await
        .assert_error(StatusCode::BAD_REQUEST, "validation_failed");

        // The rest of the lifecycle: refresh, reuse, everything revoked.
        let pair = app.login("alice", PASSWORD).await;
        let refresh0 = pair["refresh_token"].as_str().unwrap().to_owned();
        let r1 = app
            .post("/auth/refresh", None, json!({"refresh_token": refresh0}))
            .await;
        let refresh1 = r1.json["refresh_token"].as_str().unwrap().to_owned();
        let access1 = r1.json["access_token"].as_str().unwrap().to_owned();
        app.post("/auth/refresh", None, json!({"refresh_token": refresh1}))
            .await;
        app.post("/auth/refresh", None, json!({"refresh_token": refresh0}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "refresh_token_reused");
        app.get("/users/me", Some(&access1))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    }

    async fn attempts(backend: Backend) {
        let app = TestApp::start_with(backend, |c| c.require_email_verification = true).await;
        app.post(
            "/auth/register",
            None,
            json!({"login": "alice", "password": PASSWORD, "email": "alice@example.com"}),
        )
        .await;
        let code = app.mailer.last_code_for("alice@example.com").unwrap();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            app.post(
                "/auth/verify-email",
                None,
                json!({"login": "alice", "code": wrong}),
            )
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_verification_code");
        }
        app.post(
            "/auth/verify-email",
            None,
            json!({"login": "alice", "code": code}),
        )
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    }

    #[tokio::test]
    async fn register_verify_login_refresh_reuse_revoked_on_memory() {
        run(Backend::Memory).await;
    }

    #[tokio::test]
    async fn register_verify_login_refresh_reuse_revoked_on_postgres() {
        run(Backend::Postgres).await;
    }

    #[tokio::test]
    async fn too_many_wrong_codes_get_429_on_memory() {
        attempts(Backend::Memory).await;
    }

    #[tokio::test]
    async fn too_many_wrong_codes_get_429_on_postgres() {
        attempts(Backend::Postgres).await;
    }
}

mod reuse_policy {
    use super::*;

    #[tokio::test]
    async fn the_session_policy_spares_other_devices() {
        let app = TestApp::start_with(Backend::Postgres, |c| {
            c.reuse_policy = server_example::config::ReusePolicyArg::Session;
            c.reuse_grace_secs = 0;
        })
        .await;
        let (_, _, refresh0) = app.signup("alice").await;
        let laptop = app.login("alice", PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        app.post("/auth/refresh", None, json!({"refresh_token": refresh0}))
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        app.post("/auth/refresh", None, json!({"refresh_token": refresh0}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "refresh_token_reused");
        assert_eq!(
            app.get("/users/me", Some(&laptop)).await.status,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn concurrent_refreshes_over_http_all_get_the_one_rotated_token() {
        let app = TestApp::start(Backend::Postgres).await;
        let (_, _, refresh0) = app.signup("alice").await;
        let replies = futures::future::join_all(
            (0..20).map(|_| app.post("/auth/refresh", None, json!({"refresh_token": refresh0}))),
        )
        .await;
        let mut tokens: Vec<&str> = replies
            .iter()
            .map(|r| {
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                r.json["refresh_token"].as_str().unwrap()
            })
            .collect();
        tokens.dedup();
        assert_eq!(tokens.len(), 1);
    }
}

mod hs256 {
    use super::*;

    #[tokio::test]
    async fn hs256_tokens_work_and_nothing_is_published() {
        let app = TestApp::start_with(Backend::Memory, |c| {
            c.jwt_hs256_secret = Some("a-shared-secret-of-at-least-32-bytes!".into());
        })
        .await;
        let (_, access, _) = app.signup("alice").await;
        assert_eq!(
            app.get("/users/me", Some(&access)).await.status,
            StatusCode::OK
        );
        let jwks = app.get("/.well-known/jwks.json", None).await;
        assert_eq!(jwks.json["keys"], json!([]));
    }
}

mod rate_limits {
    use super::*;

    #[tokio::test]
    async fn registrations_and_refreshes_are_limited_per_address() {
        let app = TestApp::start_with(Backend::Memory, |c| {
            c.register_limit_per_minute = 2;
            c.refresh_limit_per_minute = 1;
        })
        .await;
        let (_, _, refresh) = app.signup("alice").await;
        app.register("bob").await;
        let r = app
            .post(
                "/auth/register",
                None,
                json!({"login": "carol", "password": PASSWORD}),
            )
            .await;
        r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        let first = app
            .post("/auth/refresh", None, json!({"refresh_token": refresh}))
            .await;
        assert_eq!(first.status, StatusCode::OK);
        app.post("/auth/refresh", None, json!({"refresh_token": refresh}))
            .await
            .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    }
}

on_both! {
    async fn verify_email_answers_unknown_and_verified_logins_like_a_wrong_code(app) {
        let r = app
            .post("/auth/register", None, json!({"login": "alice", "password": PASSWORD, "email": "alice@example.com"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let code = app.mailer.last_code_for("alice@example.com").unwrap();
        let verify = |login: &'static str, code: String| {
            app.post("/auth/verify-email", None, json!({"login": login, "code": code}))
        };
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let wrong_code = verify("alice", wrong.into()).await;
        wrong_code.assert_error(StatusCode::BAD_REQUEST, "invalid_verification_code");
        let unknown = verify("nobody", code.clone()).await;
        assert_eq!(unknown.json, wrong_code.json);
        assert_eq!(verify("alice", code.clone()).await.status, StatusCode::NO_CONTENT);
        for any in [code.clone(), wrong.to_owned()] {
            assert_eq!(verify("alice", any).await.json, wrong_code.json, "a verified login answers like a wrong code");
        }
    }

    async fn resending_a_code_answers_202_then_waits_a_cooldown(app) {
        let r = app
            .post("/auth/register", None, json!({"login": "alice", "password": PASSWORD, "email": "alice@example.com"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let first = app.mailer.last_code_for("alice@example.com").unwrap();
        let resend = |login: &'static str| app.post("/auth/verify-email/resend", None, json!({"login": login}));
        // Known or not, the answer is the same.
        for login in ["alice", "nobody"] {
            let r = resend(login).await;
            assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        }
        assert_eq!(app.mailer.sent().len(), 2, "a new code for alice only");
        let fresh = app.mailer.last_code_for("alice@example.com").unwrap();
        // The old code stops working once a new one is out (unless they collide).
        if fresh != first {
            app.post("/auth/verify-email", None, json!({"login": "alice", "code": first}))
                .await
                .assert_error(StatusCode::BAD_REQUEST, "invalid_verification_code");
        }
        // Within the cooldown, known and unknown logins alike get 429.
        for login in ["alice", "nobody"] {
            let r = resend(login).await;
            r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
            let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
        }
        assert_eq!(app.mailer.sent().len(), 2);
        app.post("/auth/verify-email/resend", None, json!({"name": "alice"}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        // A login no account can have is malformed input, whatever the cooldown.
        app.post("/auth/verify-email/resend", None, json!({"login": "no such login!"}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "validation_failed");
    }
}

mod login_policy {
    use super::*;

    #[tokio::test]
    async fn a_configured_policy_allows_email_like_logins_and_the_document_says_so() {
        for backend in [Backend::Memory, Backend::Postgres] {
            let app = TestApp::start_with(backend, |c| c.login_extra_chars = "._-@".into()).await;
            let r = app
                .post(
                    "/auth/register",
                    None,
                    json!({"login": "john.doe@example", "password": PASSWORD}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{backend:?}: {}", r.text);
            app.login("John.Doe@Example", PASSWORD).await;
            app.post(
                "/auth/register",
                None,
                json!({"login": "john doe", "password": PASSWORD}),
            )
            .await
            .assert_error(StatusCode::BAD_REQUEST, "validation_failed");
            let doc = app.get("/openapi.json", None).await.json;
            assert_eq!(
                doc["components"]["schemas"]["RegisterBody"]["properties"]["login"]["pattern"],
                "^[A-Za-z0-9.@_-]{2,64}$"
            );
        }
        // The default refuses them.
        let app = TestApp::start(Backend::Memory).await;
        app.post(
            "/auth/register",
            None,
            json!({"login": "john.doe", "password": PASSWORD}),
        )
        .await
        .assert_error(StatusCode::BAD_REQUEST, "validation_failed");
    }
}
