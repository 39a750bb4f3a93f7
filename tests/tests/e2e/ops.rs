use std::time::Duration;

use serde_json::json;
use tests::*;

on_both! {
    async fn health_and_readiness_answer(app) {
        let h = app.get("/healthz", None).await;
        assert_eq!(h.status, StatusCode::OK);
        assert_eq!(h.header("content-type"), Some("application/json"));
        let r = app.get("/readyz", None).await;
        assert_eq!(r.status, StatusCode::OK);
        let cache = r.json["session_cache"].as_str().unwrap_or_default().to_owned();
        if app.database_url().is_some() && app.config.session_cache_ttl_ms > 0 {
            assert!(["listening", "reconnecting"].contains(&cache.as_str()), "{cache}");
        } else {
            assert_eq!(cache, "off");
        }
        assert!(h.header("x-request-id").is_some_and(|id| id.len() >= 32));
    }

    async fn unknown_routes_and_wrong_methods_get_the_json_shape(app) {
        app.get("/nope", None).await.assert_error(StatusCode::NOT_FOUND, "not_found");
        let r = app.call(Method::PUT, "/currencies", None, None).await;
        r.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        app.call(Method::GET, "/auth/login", None, None)
            .await
            .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    }

    async fn a_body_over_the_limit_is_413(app) {
        let big = "x".repeat(70 * 1024);
        let r = app.post("/auth/register", None, json!({"login": big, "password": PASSWORD})).await;
        r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        let form = app.post_form("/currencies", None, &[("name", &big)]).await;
        assert_eq!(form.status.as_u16() / 100, 4);
    }

    // Driven by the cores' own tables: a variant added with a row is checked here; one
    // added without a row does not compile.
    async fn the_openapi_document_lists_every_core_error_code_with_its_status(app) {
        let doc = app.get("/openapi.json", None).await.json;
        let body = &doc["components"]["schemas"]["ErrorBody"];
        let listed = &body["x-error-codes"];
        let allowed = body["properties"]["code"]["enum"].as_array().unwrap();
        for (code, status, meaning) in auth_core::AuthError::CODES.iter().chain(exchange_core::ExchangeError::CODES) {
            assert_eq!(listed[code]["status"], *status, "{code}");
            assert_eq!(listed[code]["meaning"], *meaning, "{code}");
            assert!(allowed.contains(&json!(code)), "{code} is not in the code enum");
        }
        // The server's own codes too, and nothing else.
        for code in server_example::codes::ErrorCode::ALL {
            assert_eq!(listed[code.as_str()]["status"], code.status().as_u16(), "{}", code.as_str());
        }
        assert_eq!(listed.as_object().unwrap().len(), allowed.len());
        // An answer's code is one of them.
        let r = app.get("/users/me", None).await;
        assert!(allowed.contains(&r.json["code"]), "{}", r.text);
    }

    async fn the_openapi_document_lists_every_route(app) {
        let r = app.get("/openapi.json", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.json["openapi"].as_str().unwrap().starts_with("3.1"));
        // The served document is the registry's: routes and paths come from one list.
        let registry = serde_json::to_value(server_example::routes::openapi()).unwrap();
        assert_eq!(r.json, registry);
        let paths = r.json["paths"].as_object().unwrap();
        assert_eq!(paths.len(), 60, "the paths of API.md, the money, passkey, API key, audit and signing key routes");
        // Every documented operation is routed: none falls to "no such route" or 405.
        for (path, item) in paths {
            let concrete = path
                .replace("{id}", "00000000-0000-0000-0000-000000000000")
                .replace("{name}", "editor")
                .replace("{code}", "USD")
                .replace("{pair}", "USDEUR")
                .replace("{kid}", "some-kid");
            for method in item.as_object().unwrap().keys() {
                let method: Method = method.to_uppercase().parse().unwrap();
                let reply = app.call(method.clone(), &concrete, None, None).await;
                assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                assert_ne!(reply.json["message"], "no such route", "{method} {path}");
            }
        }
        assert!(r.json["components"]["securitySchemes"]["bearer"].is_object());
        // Every parameter sits where the route reads it: path parameters appear in the
        // path template, everything else is in the query.
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                for param in op["parameters"].as_array().into_iter().flatten() {
                    let name = param["name"].as_str().unwrap();
                    let placed = param["in"].as_str().unwrap();
                    let templated = path.contains(&format!("{{{name}}}"));
                    assert_eq!(placed == "path", templated, "{method} {path}: {name} is in {placed}");
                }
            }
        }
        let exchange = &r.json["paths"]["/exchange"]["get"]["parameters"];
        for (i, name) in ["from", "to", "amount"].into_iter().enumerate() {
            assert_eq!(exchange[i]["name"], name);
            assert_eq!(exchange[i]["in"], "query");
            assert_eq!(exchange[i]["required"], true);
            assert_eq!(exchange[i]["schema"]["type"], "string");
        }
    }

    async fn the_docs_page_works_offline(app) {
        let page = app.get("/docs", None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.header("content-type").unwrap().starts_with("text/html"));
        for asset in ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/swagger-ui-standalone-preset.js"] {
            assert!(page.text.contains(asset), "{asset}");
            let a = app.get(asset, None).await;
            assert_eq!(a.status, StatusCode::OK, "{asset}");
            assert!(a.text.len() > 1000, "{asset}");
        }
        app.get("/docs/nope.js", None).await.assert_error(StatusCode::NOT_FOUND, "not_found");
        // Only local assets: nothing is fetched from elsewhere.
        assert!(!page.text.contains("http://") && !page.text.contains("https://"));
    }
}

#[tokio::test]
async fn two_instances_share_one_database_and_logout_reaches_the_other() {
    let a = TestApp::start_with(Backend::Postgres, long_session_cache).await;
    let b = a.sibling().await;
    let (_, token, refresh) = a.signup("alice").await;
    assert_eq!(
        b.get("/users/me", Some(&token)).await.status,
        StatusCode::OK
    );
    let r = b
        .post("/auth/refresh", None, json!({"refresh_token": refresh}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a token from A refreshes on B: {}",
        r.text
    );
    let fresh = r.json["access_token"].as_str().unwrap().to_owned();
    // B now holds the session in its cache.
    assert_eq!(
        b.get("/users/me", Some(&fresh)).await.status,
        StatusCode::OK
    );
    let out = a
        .call(Method::POST, "/auth/logout", Some(&fresh), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    a.get("/users/me", Some(&fresh))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    b.until_status("/users/me", &fresh, StatusCode::UNAUTHORIZED)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(
        a.get("/.well-known/jwks.json", None).await.json,
        b.get("/.well-known/jwks.json", None).await.json
    );
}

/// Entries that live for an hour: only the database's notice can make B refuse.
fn long_session_cache(c: &mut server_example::Config) {
    c.session_cache_ttl_ms = 3_600_000;
}

#[tokio::test]
async fn a_block_and_a_role_removal_on_one_instance_reach_the_other() {
    let a = TestApp::start_with(Backend::Postgres, long_session_cache).await;
    let b = a.sibling().await;
    let admin = a.admin_token().await;
    let (id, token, _) = a.signup("alice").await;
    let role = a
        .post("/admin/roles", Some(&admin), json!({"name": "editor"}))
        .await;
    assert_eq!(role.status, StatusCode::CREATED, "{}", role.text);
    let path = format!("/admin/users/{id}/roles/editor");
    assert_eq!(
        a.call(Method::PUT, &path, Some(&admin), None).await.status,
        StatusCode::NO_CONTENT
    );
    let roles = |r: &tests::Reply| r.json["roles"].to_string();
    assert!(roles(&b.get("/users/me", Some(&token)).await).contains("editor"));
    assert_eq!(
        a.call(Method::DELETE, &path, Some(&admin), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let start = std::time::Instant::now();
    while roles(&b.get("/users/me", Some(&token)).await).contains("editor") {
        assert!(start.elapsed() < DEADLINE, "B still shows the removed role");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let block = format!("/admin/users/{id}/block");
    assert_eq!(
        a.call(Method::POST, &block, Some(&admin), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    b.until_status("/users/me", &token, StatusCode::UNAUTHORIZED)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn readyz_is_503_while_the_database_is_unreachable_and_recovers() {
    let db_app = TestApp::start(Backend::Postgres).await;
    let url = db_app.database_url().unwrap().to_owned();
    let mut parsed = reqwest::Url::parse(&url).unwrap();
    let target = format!(
        "{}:{}",
        parsed.host_str().unwrap(),
        parsed.port().unwrap_or(5432)
    );
    let target = tokio::net::lookup_host(target)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = ToggleProxy::start(target).await;
    parsed.set_port(Some(proxy.addr.port())).unwrap();
    parsed.set_host(Some("127.0.0.1")).unwrap();
    let mut config = db_app.config.clone();
    config.database_url = Some(parsed.to_string());
    let app = TestApp::start_config(config).await;
    let (_, token, _) = app.signup("alice").await;
    assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);

    proxy.disable();
    let started = std::time::Instant::now();
    app.get("/readyz", None)
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
    app.get("/users/me", Some(&token))
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    app.get("/currencies", None)
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "requests must not hang"
    );

    proxy.enable();
    let mut ready = false;
    for _ in 0..50 {
        if app.get("/readyz", None).await.status == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(ready, "the server recovers by itself");
    assert_eq!(
        app.get("/users/me", Some(&token)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn generated_keys_survive_a_restart_so_sessions_do() {
    let first = TestApp::start(Backend::Postgres).await;
    let (_, token, refresh) = first.signup("alice").await;
    let second = first.sibling().await;
    drop(second);
    let restarted = first.sibling().await;
    assert_eq!(
        restarted.get("/users/me", Some(&token)).await.status,
        StatusCode::OK
    );
    let r = restarted
        .post("/auth/refresh", None, json!({"refresh_token": refresh}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn the_purge_task_deletes_revoked_sessions() {
    let app = TestApp::start(Backend::Postgres).await;
    let (_, token, _) = app.signup("alice").await;
    let sid = app.state.auth.verify(&token).unwrap().sid;
    app.call(Method::POST, "/auth/logout", Some(&token), None)
        .await;
    assert!(app.state.auth.store().session(sid).await.unwrap().is_some());
    let purge = app.state.auth.spawn_purger(Duration::from_millis(50));
    let mut gone = false;
    for _ in 0..100 {
        if app.state.auth.store().session(sid).await.unwrap().is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    purge.abort();
    assert!(gone, "the revoked session was purged");
}

#[tokio::test]
async fn an_empty_database_url_means_memory_with_demo_data() {
    let app = TestApp::start_with(Backend::Memory, |c| {
        c.database_url = Some(String::new());
        c.seed_demo_data = None;
    })
    .await;
    assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);
    let currencies = app.get("/currencies", None).await;
    assert!(
        !currencies.json.as_array().unwrap().is_empty(),
        "{}",
        currencies.text
    );
}

on_both! {
    // Postgres text cannot hold NUL: every input that reaches a store must be refused
    // (or answered as "not found") before it does, never a 500.
    async fn nul_characters_are_client_errors_everywhere(app) {
        let admin = app.admin_token().await;
        let (alice, token, _) = app.signup("alice").await;
        let nul = "a\u{0}b";
        let cases = [
            (Method::POST, "/auth/login".to_owned(), Some(json!({"login": nul, "password": PASSWORD})), StatusCode::UNAUTHORIZED, "invalid_credentials"),
            (Method::POST, "/auth/verify-email".to_owned(), Some(json!({"login": nul, "code": "123456"})), StatusCode::BAD_REQUEST, "invalid_verification_code"),
            (Method::GET, "/admin/users?query=a%00b".to_owned(), None, StatusCode::BAD_REQUEST, "validation_failed"),
            (Method::POST, "/admin/roles".to_owned(), Some(json!({"name": "editor", "description": nul})), StatusCode::BAD_REQUEST, "validation_failed"),
            (Method::DELETE, "/admin/roles/a%00b".to_owned(), None, StatusCode::NOT_FOUND, "not_found"),
            (Method::PUT, format!("/admin/users/{alice}/roles/a%00b"), None, StatusCode::NOT_FOUND, "not_found"),
            (Method::DELETE, format!("/admin/users/{alice}/roles/a%00b"), None, StatusCode::NOT_FOUND, "not_found"),
        ];
        for (method, path, body, status, code) in cases {
            let r = app.call(method.clone(), &path, Some(&admin), body).await;
            assert_eq!(r.status, status, "{method} {path}: {}", r.text);
            r.assert_error(status, code);
        }
        for (body, code) in [
            (json!({"data": {nul: 1}}), "invalid_key"),
            (json!({"data": {"k": nul}}), "invalid_value"),
            (json!({"data": {"k": [{"x": {nul: true}}]}}), "invalid_value"),
        ] {
            app.post("/kv/write", Some(&token), body).await.assert_error(StatusCode::BAD_REQUEST, code);
        }
        app.post("/kv/read", Some(&token), json!({"keys": [nul]}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_key");
        // Nothing was half-written.
        app.post("/kv/read", Some(&token), json!({"keys": ["k"]}))
            .await
            .assert_error(StatusCode::NOT_FOUND, "keys_not_found");
        // Ordinary text still works, trimmed.
        let role = app.post("/admin/roles", Some(&admin), json!({"name": "editor", "description": "  Edits  "})).await;
        assert_eq!(role.json, json!({"name": "editor", "description": "Edits"}));
        let found = app.get("/admin/users?query=%20ali%20", Some(&admin)).await;
        assert_eq!(found.json[0]["login"], "alice");
    }
}

#[tokio::test]
async fn a_transaction_pooler_without_a_direct_url_is_refused_at_startup() {
    let mut config = server_example::Config::defaults();
    config.database_url = Some(storage_postgres::testing::admin_url());
    config.database_pooler = server_example::config::PoolerArg::Transaction;
    config.database_direct_url = None;
    let Err(e) = server_example::AppState::from_config(&config, None).await else {
        panic!("started behind a transaction pooler with no direct URL");
    };
    assert!(e.to_string().contains("DATABASE_DIRECT_URL"), "{e}");
}
