//! The actix-web service end to end, in process, on memory and on Postgres.

use std::sync::Arc;

use actix_example::{AppState, routes};
use actix_web::http::StatusCode;
use actix_web::{App, test, web};
use auth_core::{AuthConfig, AuthService, AuthStore, Key, KeySet, RefreshSecret};
use exchange_core::{ExchangeService, ExchangeStore};
use serde_json::{Value, json};
use storage_postgres::testing::TestDatabase;

fn state(auth: Arc<dyn AuthStore>, exchange: Arc<dyn ExchangeStore>) -> AppState {
    let keys = KeySet::new(Key::generate_ed25519().unwrap(), [], "iss", "aud", 0).unwrap();
    AppState {
        auth: Arc::new(
            AuthService::new(
                auth,
                keys,
                &RefreshSecret::generate(),
                AuthConfig::default(),
            )
            .unwrap(),
        ),
        exchange: Arc::new(ExchangeService::new(exchange)),
    }
}

async fn walk_through(state: AppState) {
    state
        .exchange
        .add_currency("US Dollar", "USD", "$")
        .await
        .unwrap();
    state
        .exchange
        .add_currency("Euro", "EUR", "€")
        .await
        .unwrap();
    state.exchange.add_rate("USD", "EUR", "0.9").await.unwrap();
    let app =
        test::init_service(App::new().app_data(web::Data::new(state)).configure(routes)).await;
    let call = |req: test::TestRequest| {
        let app = &app;
        async move {
            let resp = test::call_service(app, req.to_request()).await;
            let status = resp.status();
            let retry = resp
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body = test::read_body(resp).await;
            let text = String::from_utf8(body.to_vec()).unwrap();
            (
                status,
                serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
                text,
                retry,
            )
        }
    };
    let credentials = json!({"login": "alice", "password": "Passw0rd!"});
    let (status, user, ..) = call(
        test::TestRequest::post()
            .uri("/signup")
            .set_json(&credentials),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(user["login"], "alice");
    let (status, body, ..) = call(
        test::TestRequest::post()
            .uri("/signup")
            .set_json(&credentials),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("login_taken"))
    );
    let (status, pair, ..) = call(
        test::TestRequest::post()
            .uri("/login")
            .set_json(&credentials),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let access = pair["access_token"].as_str().unwrap().to_owned();
    let bearer = ("authorization", format!("Bearer {access}"));
    let (status, me, ..) = call(
        test::TestRequest::get()
            .uri("/me")
            .insert_header(bearer.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user_id"], user["id"]);
    let (status, body, ..) = call(test::TestRequest::get().uri("/me")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("missing_token"))
    );
    let (status, next, ..) = call(
        test::TestRequest::post()
            .uri("/refresh")
            .set_json(json!({"refresh_token": pair["refresh_token"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(next["refresh_token"], pair["refresh_token"]);
    let (status, ..) = call(
        test::TestRequest::post()
            .uri("/logout")
            .insert_header(bearer.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body, ..) = call(test::TestRequest::get().uri("/me").insert_header(bearer)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
    // Wrong passwords: 401, then the core's throttle answers 429 with Retry-After.
    let wrong = json!({"login": "alice", "password": "nope-nope-1"});
    let mut last = None;
    for _ in 0..6 {
        last = Some(call(test::TestRequest::post().uri("/login").set_json(&wrong)).await);
    }
    let (status, body, _, retry) = last.unwrap();
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("throttled"))
    );
    assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);
    // Conversion with exact numbers.
    let (status, _, text, _) =
        call(test::TestRequest::get().uri("/convert?from=EUR&to=USD&amount=10")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        text.contains(r#""rate":1.111111"#) && text.contains(r#""converted_amount":11.11"#),
        "{text}"
    );
    let (status, body, ..) =
        call(test::TestRequest::get().uri("/convert?from=EUR&to=JPY&amount=10")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[actix_web::test]
async fn the_service_works_on_memory() {
    walk_through(state(
        Arc::new(auth_core::memory::MemoryStore::new()),
        Arc::new(exchange_core::memory::MemoryStore::new()),
    ))
    .await;
}

#[actix_web::test]
async fn the_service_works_on_postgres() {
    let db = TestDatabase::create(4).await;
    let store = db.store();
    walk_through(state(Arc::new(store.clone()), Arc::new(store))).await;
    db.drop_database().await;
}
