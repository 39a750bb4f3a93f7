//! `/money/*`: currencies with their minor units, conversion as of a day over ECB
//! observations, and a pair's history, on memory and Postgres.

use std::sync::Arc;

use exchange_core::source::ecb::EcbSource;
use serde_json::json;
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
