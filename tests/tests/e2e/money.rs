//! `/money/*`: currencies with their minor units, conversion as of a day over ECB
//! observations, and a pair's history, on memory and Postgres.

use std::sync::Arc;

use exchange_core::source::ecb::EcbSource;
use serde_json::{Value, json};
use tests::*;

/// The ECB's rates of Friday 5 and Monday 8 January 2024.
const FEED: &str = "<Envelope><Cube>\
    <Cube time='2024-01-05'><Cube currency='USD' rate='1.0921'/><Cube currency='JPY' rate='158.08'/></Cube>\
    <Cube time='2024-01-08'><Cube currency='USD' rate='1.0946'/><Cube currency='JPY' rate='157.97'/></Cube>\
    </Cube></Envelope>";

fn euro_pivot(c: &mut server_example::Config) {
    c.pivot_currency = "EUR".into();
}

on_both_with! {
    super::euro_pivot;

    async fn conversions_as_of_a_day_show_the_rates_they_rest_on(app) {
        let (_, token, _) = app.signup("trader").await;
        for code in ["EUR", "USD", "JPY"] {
            let r = app.post_form("/currencies", Some(&token), &[("name", code), ("code", code), ("sign", "¤")]).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
        let feed = EcbSource::new(Arc::new(|| Box::pin(async { Ok(FEED.to_owned()) })));
        assert_eq!(app.state.exchange.import(&feed).await.unwrap(), 4);
        assert_eq!(app.state.exchange.import(&feed).await.unwrap(), 0, "idempotent");

        let list = app.get("/money/currencies", None).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        assert_eq!(list.json[2], json!({"code": "JPY", "name": "JPY", "sign": "¤", "minor_units": 0}));

        // Saturday: Friday's rate, one day old.
        let r = app.get("/money/convert?from=EUR&to=USD&amount=100&at=2024-01-06", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!((r.raw("rate"), r.raw("converted_amount")), ("1.0921".to_owned(), "109.21".to_owned()));
        assert_eq!(r.json["path"], "direct");
        assert_eq!(r.json["legs"][0]["as_of"], "2024-01-05");
        assert_eq!(r.json["legs"][0]["age_days"], 1);
        assert_eq!(r.json["legs"][0]["source"], "ecb");
        // A cross through the euro, rounded to the yen's minor units.
        let r = app.get("/money/convert?from=USD&to=JPY&amount=100&at=2024-01-06", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!((r.json["path"].clone(), r.json["pivot"].clone()), (json!("cross"), json!("EUR")));
        assert_eq!(r.raw("converted_amount"), "14475");
        assert_eq!(r.json["legs"].as_array().unwrap().len(), 2);
        // Too old, too early, malformed.
        app.get("/money/convert?from=EUR&to=USD&amount=1&at=2024-01-06&max_age_days=0", None)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "stale_rate");
        app.get("/money/convert?from=EUR&to=USD&amount=1&at=2024-01-04", None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "no_rate");
        app.get("/money/convert?from=EUR&to=USD&amount=1&at=06.01.2024", None)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "validation_failed");

        let h = app.get("/money/rates/EURUSD/history", None).await;
        assert_eq!(h.status, StatusCode::OK, "{}", h.text);
        let days: Vec<&str> = h.json.as_array().unwrap().iter().map(|o| o["as_of"].as_str().unwrap()).collect();
        assert_eq!(days, ["2024-01-08", "2024-01-05"]);
        let h = app.get("/money/rates/EURUSD/history?since=2024-01-06&limit=10", None).await;
        assert_eq!(h.json.as_array().unwrap().len(), 1);
        app.get("/money/rates/EURUS/history", None)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "validation_failed");
    }
}

/// The Monday of [`FEED`] alone, as the next daily file would bring it.
const MONDAY: &str = "<Envelope><Cube>\
    <Cube time='2024-01-08'><Cube currency='USD' rate='1.0946'/><Cube currency='JPY' rate='157.97'/></Cube>\
    </Cube></Envelope>";

/// What the test's feed server answers: a file's text, or a status without one.
#[derive(Clone)]
enum Served {
    File(&'static str),
    Status(u16),
}

/// An HTTP server for the rate file, answering what the test puts in it.
async fn feed_server(
    first: Served,
) -> (
    String,
    Arc<std::sync::Mutex<Served>>,
    tokio::task::JoinHandle<()>,
) {
    let served = Arc::new(std::sync::Mutex::new(first));
    let shared = served.clone();
    let app = axum::Router::new().route(
        "/stats/eurofxref/eurofxref-daily.xml",
        axum::routing::get(move || {
            let now = shared.lock().unwrap().clone();
            async move {
                use axum::response::IntoResponse;
                match now {
                    Served::File(text) => text.into_response(),
                    Served::Status(code) => axum::http::StatusCode::from_u16(code)
                        .unwrap()
                        .into_response(),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/stats/eurofxref/eurofxref-daily.xml",
        listener.local_addr().unwrap()
    );
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, served, task)
}

/// Polls the feed's status until `done` holds of it; the last status.
async fn status_until(app: &TestApp, admin: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = std::time::Instant::now();
    loop {
        let r = app.get("/admin/money/source", Some(admin)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        if done(&r.json) {
            return r.json;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "the feed's status stays {}",
            r.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// RATE_SOURCE_URL over HTTP, refreshed every second: the rates arrive, a file cut
/// short and a server error keep them and show in the status, the next day's file
/// adds to them.
async fn a_feed_over_http_is_refreshed_and_its_failures_keep_the_rates(backend: Backend) {
    let (url, served, server) = feed_server(Served::File(FEED)).await;
    let app = TestApp::start_with(backend, |c| {
        euro_pivot(c);
        c.rate_source_url = Some(url);
        c.rate_refresh_secs = 1;
    })
    .await;
    let admin = app.admin_token().await;
    let first = status_until(&app, &admin, |s| !s["last_success"].is_null()).await;
    assert_eq!(
        (first["configured"].clone(), first["source"].clone()),
        (json!(true), json!("ecb"))
    );
    assert_eq!(
        (first["last_new"].clone(), first["newest_rate"].clone()),
        (json!(4), json!("2024-01-08"))
    );
    assert!(first["last_error"].is_null(), "{first}");
    let r = app
        .get(
            "/money/convert?from=EUR&to=USD&amount=100&at=2024-01-06",
            None,
        )
        .await;
    assert_eq!(r.raw("converted_amount"), "109.21", "{}", r.text);

    // A file cut short: nothing of it is recorded, the rates stay.
    *served.lock().unwrap() = Served::File(&MONDAY[..60]);
    let cut = status_until(&app, &admin, |s| !s["last_error"].is_null()).await;
    let message = cut["last_error"]["message"].as_str().unwrap();
    assert!(message.contains("malformed"), "{message}");
    assert_eq!(cut["newest_rate"], "2024-01-08");
    // A server error.
    *served.lock().unwrap() = Served::Status(503);
    let down = status_until(&app, &admin, |s| {
        s["last_error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("503"))
    })
    .await;
    assert!(
        !down["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1"),
        "the URL stays out: {down}"
    );
    let r = app
        .get(
            "/money/convert?from=USD&to=JPY&amount=100&at=2024-01-08",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "the rates are kept: {}", r.text);
    let h = app.get("/money/rates/EURUSD/history", None).await;
    assert_eq!(h.json.as_array().unwrap().len(), 2, "{}", h.text);

    // Back to a good file: a success after the error, nothing new in it.
    *served.lock().unwrap() = Served::File(MONDAY);
    let back = status_until(&app, &admin, |s| {
        s["last_success"].as_str() > s["last_error"]["at"].as_str()
    })
    .await;
    assert_eq!(back["last_new"], 0, "{back}");
    assert!(back["newest_rate_age_days"].as_i64().unwrap() > 1000);

    let (_, user, _) = app.signup("watcher").await;
    app.get("/admin/money/source", Some(&user))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    server.abort();
}

#[tokio::test]
async fn a_feed_over_http_on_memory() {
    a_feed_over_http_is_refreshed_and_its_failures_keep_the_rates(Backend::Memory).await;
}

#[tokio::test]
async fn a_feed_over_http_on_postgres() {
    a_feed_over_http_is_refreshed_and_its_failures_keep_the_rates(Backend::Postgres).await;
}

/// RATE_SOURCE_URL as a file path with RATE_REFRESH_SECS=0: read once, at start;
/// without RATE_SOURCE_URL the status says there is no feed.
#[tokio::test]
async fn a_feed_from_a_file_is_read_at_start() {
    let dir = std::env::temp_dir().join(format!("feed-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("eurofxref-hist.xml");
    std::fs::write(&file, FEED).unwrap();
    let app = TestApp::start_with(Backend::Memory, |c| {
        euro_pivot(c);
        c.rate_source_url = Some(file.display().to_string());
        c.rate_refresh_secs = 0;
    })
    .await;
    let admin = app.admin_token().await;
    let status = status_until(&app, &admin, |s| !s["last_success"].is_null()).await;
    assert_eq!(
        (status["last_new"].clone(), status["newest_rate"].clone()),
        (json!(4), json!("2024-01-08"))
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let none = TestApp::start(Backend::Memory).await;
    let admin = none.admin_token().await;
    let r = none.get("/admin/money/source", Some(&admin)).await;
    assert_eq!(
        r.json,
        json!({
            "configured": false, "source": null, "last_attempt": null, "last_success": null,
            "last_new": null, "last_error": null, "newest_rate": null, "newest_rate_age_days": null,
        })
    );
}

async fn import(app: &TestApp, token: &str, body: &'static str) -> Reply {
    let req = app
        .request(Method::POST, "/admin/money/rates/import")
        .bearer_auth(token)
        .header("content-type", "application/xml")
        .body(body);
    app.send(req).await
}

on_both! {
    async fn an_admin_imports_a_file_once_however_often_it_is_sent(app) {
        let admin = app.admin_token().await;
        // 20 imports of one file at once: each observation is recorded once.
        let replies = futures::future::join_all((0..20).map(|_| import(&app, &admin, FEED))).await;
        let mut new = 0;
        for r in &replies {
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert_eq!(r.json["observations"], 4);
            new += r.json["new"].as_u64().unwrap();
        }
        assert_eq!(new, 4);
        let again = import(&app, &admin, FEED).await;
        assert_eq!(again.json, json!({"observations": 4, "new": 0}));
        for pair in ["EURUSD", "EURJPY"] {
            let h = app.get(&format!("/money/rates/{pair}/history"), None).await;
            assert_eq!(h.json.as_array().unwrap().len(), 2, "{}", h.text);
        }
        // A malformed file (one bad rate among good ones) records nothing.
        let bad = "<Envelope><Cube><Cube time='2024-01-09'><Cube currency='USD' rate='1.09'/>\
            <Cube currency='JPY' rate='-3'/></Cube></Cube></Envelope>";
        import(&app, &admin, bad).await.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        let h = app.get("/money/rates/EURUSD/history?since=2024-01-09", None).await;
        assert_eq!(h.json, json!([]));

        let (_, user, _) = app.signup("importer").await;
        import(&app, &user, FEED).await.assert_error(StatusCode::FORBIDDEN, "forbidden");
        import(&app, "nope", FEED).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    }
}
