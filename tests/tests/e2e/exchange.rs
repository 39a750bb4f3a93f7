use serde_json::json;
use tests::*;

/// Adds USD, EUR and GBP with USD->EUR 0.9 and USD->GBP 0.8; returns a user token.
async fn seed(app: &TestApp) -> String {
    let (_, token, _) = app.signup("trader").await;
    for (name, code, sign) in [
        ("US Dollar", "USD", "$"),
        ("Euro", "EUR", "€"),
        ("Pound", "GBP", "£"),
    ] {
        let r = app
            .post_form(
                "/currencies",
                Some(&token),
                &[("name", name), ("code", code), ("sign", sign)],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    for (t, rate) in [("EUR", "0.9"), ("GBP", "0.8")] {
        let r = app
            .post_form(
                "/exchangeRates",
                Some(&token),
                &[
                    ("baseCurrencyCode", "USD"),
                    ("targetCurrencyCode", t),
                    ("rate", rate),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    token
}

on_both! {
    async fn converted_amounts_have_the_targets_minor_units(app) {
        let (_, token, _) = app.signup("trader").await;
        for code in ["USD", "JPY", "KWD", "CLF"] {
            let r = app.post_form("/currencies", Some(&token), &[("name", code), ("code", code), ("sign", "¤")]).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            assert_eq!(r.json.as_object().unwrap().len(), 4, "the spec's fields only: {}", r.text);
        }
        for (target, rate) in [("JPY", "151.2345"), ("KWD", "0.307251"), ("CLF", "0.0281234")] {
            let r = app
                .post_form("/exchangeRates", Some(&token), &[("baseCurrencyCode", "USD"), ("targetCurrencyCode", target), ("rate", rate)])
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
        for (to, amount, expected) in [("JPY", "10.05", "1520"), ("KWD", "10", "3.073"), ("CLF", "33", "0.9281")] {
            let r = app.get(&format!("/exchange?from=USD&to={to}&amount={amount}"), None).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert_eq!(r.raw("convertedAmount"), expected, "{to}");
        }
        // Back into dollars: cents again.
        let r = app.get("/exchange?from=JPY&to=USD&amount=1000", None).await;
        assert_eq!((r.raw("rate"), r.raw("convertedAmount")), ("0.006612".to_owned(), "6.61".to_owned()));
    }

    async fn currencies_are_created_from_forms_and_json_and_listed(app) {
        let (_, token, _) = app.signup("trader").await;
        let r = app.post_form("/currencies", Some(&token), &[("name", "Euro"), ("code", "EUR"), ("sign", "€")]).await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.json, json!({"id": r.json["id"], "name": "Euro", "code": "EUR", "sign": "€"}));
        let j = app.post("/currencies", Some(&token), json!({"name": "US Dollar", "code": "USD", "sign": "$"})).await;
        assert_eq!(j.status, StatusCode::CREATED, "{}", j.text);
        let list = app.get("/currencies", None).await;
        assert_eq!(list.status, StatusCode::OK);
        let codes: Vec<&str> = list.json.as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["EUR", "USD"]);
        let one = app.get("/currency/EUR", None).await;
        assert_eq!(one.json["name"], "Euro");
        app.post_form("/currencies", Some(&token), &[("name", "Euro"), ("code", "EUR"), ("sign", "€")])
            .await
            .assert_error(StatusCode::CONFLICT, "currency_exists");
    }

    async fn bad_currency_input_is_400_and_unknown_is_404(app) {
        let (_, token, _) = app.signup("trader").await;
        for path in ["/currency/eur", "/currency/EU", "/currency/EU1", "/currency/%20%20%20", "/currency/USDX", "/currency/", "/currency"] {
            let r = app.get(path, None).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
            assert!(r.json["code"].is_string(), "{path}");
        }
        app.get("/currency/XYZ", None).await.assert_error(StatusCode::NOT_FOUND, "currency_not_found");
        for form in [
            vec![("code", "EUR"), ("sign", "€")],
            vec![("name", "Euro"), ("sign", "€")],
            vec![("name", "Euro"), ("code", "EUR")],
            vec![("name", "  "), ("code", "EUR"), ("sign", "€")],
        ] {
            app.post_form("/currencies", Some(&token), &form).await.assert_error(StatusCode::BAD_REQUEST, "missing_field");
        }
        app.post_form("/currencies", Some(&token), &[("name", "Euro"), ("code", "eur"), ("sign", "€")])
            .await
            .assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        let bad = app
            .send(app.request(Method::POST, "/currencies").bearer_auth(&token).header("content-type", "application/json").body("{oops"))
            .await;
        bad.assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        app.post("/currencies", Some(&token), json!(["Euro", "EUR", "€"]))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        assert_eq!(app.get("/currency/EUR", None).await.status, StatusCode::NOT_FOUND);
    }

    async fn rates_are_created_read_updated_with_exact_numbers(app) {
        let token = seed(&app).await;
        let r = app.get("/exchangeRate/USDEUR", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text.ends_with(r#""rate":0.9}"#), "{}", r.text);
        assert_eq!(r.json["baseCurrency"]["code"], "USD");
        assert_eq!(r.json["targetCurrency"]["code"], "EUR");
        let patched = app
            .send(app.request(Method::PATCH, "/exchangeRate/USDEUR").bearer_auth(&token).form(&[("rate", "0.99")]))
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
        assert!(patched.text.ends_with(r#""rate":0.99}"#), "{}", patched.text);
        let json_patch = app
            .call(Method::PATCH, "/exchangeRate/USDGBP", Some(&token), Some(json!({"rate": 0.123456789012_f64})))
            .await;
        assert_eq!(json_patch.status, StatusCode::OK, "{}", json_patch.text);
        let precise = app
            .send(app.request(Method::PATCH, "/exchangeRate/USDGBP").bearer_auth(&token).header("content-type", "application/json").body(r#"{"rate": 0.79}"#))
            .await;
        assert!(precise.text.ends_with(r#""rate":0.79}"#), "{}", precise.text);
        // More digits than an f64 holds: read and written exactly.
        let exact = app
            .send(app.request(Method::PATCH, "/exchangeRate/USDGBP").bearer_auth(&token).header("content-type", "application/json").body(r#"{"rate": 123456789012.123456789012}"#))
            .await;
        assert_eq!(exact.status, StatusCode::OK, "{}", exact.text);
        assert_eq!(exact.raw("rate"), "123456789012.123456789012");
        assert_eq!(app.get("/exchangeRate/USDGBP", None).await.raw("rate"), "123456789012.123456789012");
        let not_text = app
            .call(Method::PATCH, "/exchangeRate/USDGBP", Some(&token), Some(json!({"rate": [1]})))
            .await;
        not_text.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        let named_by_number = app.post("/currencies", Some(&token), json!({"name": 5, "code": "CHF", "sign": "F"})).await;
        named_by_number.assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        let list = app.get("/exchangeRates", None).await;
        assert_eq!(list.json.as_array().unwrap().len(), 2);
        let mut keys: Vec<&str> = list.json[0].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["baseCurrency", "id", "rate", "targetCurrency"]);
    }

    async fn bad_rate_input_is_400_unknown_404_duplicate_409(app) {
        let token = seed(&app).await;
        for path in ["/exchangeRate/USDUSD", "/exchangeRate/USDEU", "/exchangeRate/usdeur", "/exchangeRate/USDEUR1", "/exchangeRate/"] {
            let r = app.get(path, None).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
        }
        app.get("/exchangeRate/EURGBP", None).await.assert_error(StatusCode::NOT_FOUND, "rate_not_found");
        for rate in ["abc", "0", "-0.5", "1e-3", "NaN"] {
            let r = app
                .post_form("/exchangeRates", Some(&token), &[("baseCurrencyCode", "EUR"), ("targetCurrencyCode", "GBP"), ("rate", rate)])
                .await;
            r.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        }
        app.post_form("/exchangeRates", Some(&token), &[("baseCurrencyCode", "EUR"), ("targetCurrencyCode", "EUR"), ("rate", "1")])
            .await
            .assert_error(StatusCode::BAD_REQUEST, "same_currency");
        app.post_form("/exchangeRates", Some(&token), &[("baseCurrencyCode", "EUR"), ("rate", "1")])
            .await
            .assert_error(StatusCode::BAD_REQUEST, "missing_field");
        app.post_form("/exchangeRates", Some(&token), &[("baseCurrencyCode", "EUR"), ("targetCurrencyCode", "JPY"), ("rate", "160")])
            .await
            .assert_error(StatusCode::NOT_FOUND, "currency_not_found");
        app.post_form("/exchangeRates", Some(&token), &[("baseCurrencyCode", "USD"), ("targetCurrencyCode", "EUR"), ("rate", "1")])
            .await
            .assert_error(StatusCode::CONFLICT, "pair_exists");
        let json_body = app
            .post("/exchangeRates", Some(&token), json!({"baseCurrencyCode": "EUR", "targetCurrencyCode": "GBP", "rate": 0.85}))
            .await;
        assert_eq!(json_body.status, StatusCode::CREATED, "{}", json_body.text);
        assert!(json_body.text.ends_with(r#""rate":0.85}"#), "{}", json_body.text);
        let patch = |path: &'static str, rate: &'static str| {
            app.send(app.request(Method::PATCH, path).bearer_auth(&token).form(&[("rate", rate)]))
        };
        patch("/exchangeRate/EURJPY", "1").await.assert_error(StatusCode::NOT_FOUND, "rate_not_found");
        patch("/exchangeRate/USDEUR", "0").await.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        app.send(app.request(Method::PATCH, "/exchangeRate/USDEUR").bearer_auth(&token).form(&[("x", "1")]))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "missing_field");
    }

    async fn conversion_is_direct_inverse_or_cross_with_exact_numbers(app) {
        seed(&app).await;
        let direct = app.get("/exchange?from=USD&to=EUR&amount=10", None).await;
        assert_eq!(direct.status, StatusCode::OK, "{}", direct.text);
        assert!(direct.text.ends_with(r#""rate":0.9,"amount":10,"convertedAmount":9.0}"#), "{}", direct.text);
        let inverse = app.get("/exchange?from=EUR&to=USD&amount=10", None).await;
        assert_eq!(inverse.raw("rate"), "1.111111");
        assert_eq!(inverse.raw("convertedAmount"), "11.11");
        let cross = app.get("/exchange?from=EUR&to=GBP&amount=10", None).await;
        assert_eq!(cross.json["baseCurrency"]["code"], "EUR");
        assert_eq!(cross.json["targetCurrency"]["code"], "GBP");
        assert_eq!(cross.raw("rate"), "0.888889");
        assert_eq!(cross.raw("convertedAmount"), "8.89");
        let mut keys: Vec<&str> = cross.json.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["amount", "baseCurrency", "convertedAmount", "rate", "targetCurrency"]);
    }

    async fn a_changed_rate_is_used_by_the_next_conversion(app) {
        let token = seed(&app).await;
        assert_eq!(app.get("/exchange?from=USD&to=EUR&amount=10", None).await.raw("rate"), "0.9");
        app.send(app.request(Method::PATCH, "/exchangeRate/USDEUR").bearer_auth(&token).form(&[("rate", "0.5")]))
            .await;
        let r = app.get("/exchange?from=USD&to=EUR&amount=10", None).await;
        assert_eq!(r.raw("rate"), "0.5");
        assert_eq!(r.raw("convertedAmount"), "5.0");
    }

    async fn conversion_rejects_bad_input_and_underivable_pairs(app) {
        let token = seed(&app).await;
        for q in [
            "from=usd&to=EUR&amount=10", "from=USD&to=EU&amount=10", "from=USD&to=EUR&amount=0",
            "from=USD&to=EUR&amount=-5", "from=USD&to=EUR&amount=ten", "from=USD&to=EUR&amount=1e400",
            "from=USD&to=EUR&amount=99999999999999999999999999999999", "from=USD&to=EUR", "to=EUR&amount=1",
        ] {
            let r = app.get(&format!("/exchange?{q}"), None).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {}", r.text);
        }
        app.post_form("/currencies", Some(&token), &[("name", "Yen"), ("code", "JPY"), ("sign", "¥")]).await;
        app.get("/exchange?from=EUR&to=JPY&amount=1", None).await.assert_error(StatusCode::NOT_FOUND, "no_rate");
        app.get("/exchange?from=EUR&to=XXX&amount=1", None).await.assert_error(StatusCode::NOT_FOUND, "currency_not_found");
    }

    async fn writes_need_a_token_and_deletes_need_admin(app) {
        let user_token = seed(&app).await;
        app.post_form("/currencies", None, &[("name", "Yen"), ("code", "JPY"), ("sign", "¥")])
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "missing_token");
        app.post_form("/exchangeRates", None, &[("baseCurrencyCode", "EUR"), ("targetCurrencyCode", "GBP"), ("rate", "1")])
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "missing_token");
        app.send(app.request(Method::PATCH, "/exchangeRate/USDEUR").form(&[("rate", "1")]))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "missing_token");
        app.call(Method::DELETE, "/exchangeRate/USDEUR", Some(&user_token), None)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        let admin = app.admin_token().await;
        app.call(Method::DELETE, "/currency/USD", Some(&admin), None)
            .await
            .assert_error(StatusCode::CONFLICT, "currency_in_use");
        assert_eq!(app.call(Method::DELETE, "/exchangeRate/USDEUR", Some(&admin), None).await.status, StatusCode::NO_CONTENT);
        app.call(Method::DELETE, "/exchangeRate/USDEUR", Some(&admin), None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "rate_not_found");
        assert_eq!(app.call(Method::DELETE, "/currency/EUR", Some(&admin), None).await.status, StatusCode::NO_CONTENT);
        app.call(Method::DELETE, "/currency/EUR", Some(&admin), None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "currency_not_found");
    }

    async fn cors_allows_any_origin_and_the_patch_preflight(app) {
        let r = app
            .send(
                app.request(Method::OPTIONS, "/exchangeRate/USDEUR")
                    .header("origin", "https://client.example")
                    .header("access-control-request-method", "PATCH")
                    .header("access-control-request-headers", "content-type"),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.status);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert!(r.header("access-control-allow-methods").unwrap().contains("PATCH"));
        let get = app.send(app.request(Method::GET, "/currencies").header("origin", "https://client.example")).await;
        assert_eq!(get.header("access-control-allow-origin"), Some("*"));
    }
}

mod public_writes {
    use super::*;

    #[tokio::test]
    async fn public_writes_let_anonymous_clients_create_and_update_but_not_delete() {
        let app = TestApp::start_with(Backend::Memory, |c| c.exchange_public_writes = true).await;
        for (n, c) in [("Dollar", "USD"), ("Euro", "EUR")] {
            let r = app
                .post_form(
                    "/currencies",
                    None,
                    &[("name", n), ("code", c), ("sign", "$")],
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED);
        }
        let r = app
            .post_form(
                "/exchangeRates",
                None,
                &[
                    ("baseCurrencyCode", "USD"),
                    ("targetCurrencyCode", "EUR"),
                    ("rate", "0.9"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let p = app
            .send(
                app.request(Method::PATCH, "/exchangeRate/USDEUR")
                    .form(&[("rate", "0.95")]),
            )
            .await;
        assert_eq!(p.status, StatusCode::OK);
        app.call(Method::DELETE, "/exchangeRate/USDEUR", None, None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "missing_token");
    }

    #[tokio::test]
    async fn demo_data_makes_exchange_work_on_first_start() {
        let app = TestApp::start_with(Backend::Memory, |c| c.seed_demo_data = None).await;
        let r = app.get("/exchange?from=EUR&to=GBP&amount=10", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.raw("convertedAmount"), "8.59");
        assert!(
            app.get("/currencies", None)
                .await
                .json
                .as_array()
                .unwrap()
                .len()
                >= 6
        );
    }
}

on_both! {
    async fn form_bodies_must_decode_to_utf8_and_other_types_are_named(app) {
        let token = app.admin_token().await;
        let send = |ct: Option<&'static str>, body: &'static [u8]| {
            let mut req = app.request(Method::POST, "/currencies").bearer_auth(&token).body(body);
            if let Some(ct) = ct {
                req = req.header("content-type", ct);
            }
            app.send(req)
        };
        let form = Some("application/x-www-form-urlencoded");
        for body in [&b"name=Euro%FF&code=EUR&sign=%E2%82%AC"[..], b"name=Eu\xffro&code=EUR&sign=x", b"name=%C3&code=EUR&sign=%A9"] {
            let r = send(form, body).await;
            r.assert_error(StatusCode::BAD_REQUEST, "invalid_body");
            assert!(r.json["message"].as_str().unwrap().contains("UTF-8"), "{}", r.text);
        }
        // Nothing was stored.
        assert_eq!(app.get("/currencies", None).await.json, json!([]));
        for ct in [None, Some("text/plain"), Some("multipart/form-data; boundary=x")] {
            let r = send(ct, b"name=Euro&code=EUR&sign=x").await;
            r.assert_error(StatusCode::BAD_REQUEST, "invalid_body");
            let message = r.json["message"].as_str().unwrap();
            assert!(message.contains("application/x-www-form-urlencoded") && message.contains("application/json"), "{message}");
        }
        // Escaped UTF-8 is fine.
        let r = send(form, b"name=Euro&code=EUR&sign=%E2%82%AC").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.json["sign"], "€");
    }
}
