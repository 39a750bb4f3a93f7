use serde_json::json;
use tests::*;

on_both! {
    async fn writes_skip_existing_keys_and_reads_return_values(app) {
        let (_, token, _) = app.signup("alice").await;
        let w = app.post("/kv/write", Some(&token), json!({"data": {"a": 1, "b": {"nested": [true, null]}}})).await;
        assert_eq!(w.status, StatusCode::CREATED, "{}", w.text);
        let mut written: Vec<String> = serde_json::from_value(w.json["written"].clone()).unwrap();
        written.sort();
        assert_eq!(written, ["a", "b"]);
        assert_eq!(w.json["skipped"], json!([]));
        let again = app.post("/kv/write", Some(&token), json!({"data": {"a": 2, "c": "x"}})).await;
        assert_eq!(again.json["written"], json!(["c"]));
        assert_eq!(again.json["skipped"], json!(["a"]));
        let r = app.post("/kv/read", Some(&token), json!({"keys": ["a", "b", "c"]})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json, json!({"data": {"a": 1, "b": {"nested": [true, null]}, "c": "x"}}));
    }

    async fn values_keep_exact_numbers_and_refuse_what_no_store_holds(app) {
        let (_, token, _) = app.signup("alice").await;
        let body = r#"{"data": {"n": 123456789012345678901234567890.123456789, "o": { "x" : [ 1.50, "\\u0000" ] }}}"#;
        let w = app.send(app.request(Method::POST, "/kv/write").bearer_auth(&token).header("content-type", "application/json").body(body)).await;
        assert_eq!(w.status, StatusCode::CREATED, "{}", w.text);
        let r = app.post("/kv/read", Some(&token), json!({"keys": ["n", "o"]})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.text, r#"{"data":{"n":123456789012345678901234567890.123456789,"o":{"x":[1.50,"\\u0000"]}}}"#);
        for (value, why) in [(r#""a\u0000""#, "NUL"), (r#"{"k\u0000": 1}"#, "NUL"), ("1e131072", "number"), ("1e-16384", "number")] {
            let body = format!(r#"{{"data": {{"bad": {value}}}}}"#);
            let w = app.send(app.request(Method::POST, "/kv/write").bearer_auth(&token).header("content-type", "application/json").body(body)).await;
            w.assert_error(StatusCode::BAD_REQUEST, "invalid_value");
            assert!(w.json["message"].as_str().unwrap().contains(why), "{}", w.text);
        }
        app.post("/kv/read", Some(&token), json!({"keys": ["bad"]})).await.assert_error(StatusCode::NOT_FOUND, "keys_not_found");
    }

    async fn missing_keys_are_404_with_the_list(app) {
        let (_, token, _) = app.signup("alice").await;
        app.post("/kv/write", Some(&token), json!({"data": {"a": 1}})).await;
        let r = app.post("/kv/read", Some(&token), json!({"keys": ["a", "zz", "yy"]})).await;
        r.assert_error(StatusCode::NOT_FOUND, "keys_not_found");
        assert_eq!(r.json["missing"], json!(["zz", "yy"]));
    }

    async fn bad_kv_requests_are_400(app) {
        let (_, token, _) = app.signup("alice").await;
        app.post("/kv/write", Some(&token), json!({"data": {}})).await.assert_error(StatusCode::BAD_REQUEST, "no_keys");
        app.post("/kv/write", Some(&token), json!({"data": {"": 1}})).await.assert_error(StatusCode::BAD_REQUEST, "invalid_key");
        let long = "k".repeat(257);
        app.post("/kv/write", Some(&token), json!({"data": {long: 1}})).await.assert_error(StatusCode::BAD_REQUEST, "invalid_key");
        app.post("/kv/write", Some(&token), json!({"nodata": 1})).await.assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        app.post("/kv/read", Some(&token), json!({"keys": []})).await.assert_error(StatusCode::BAD_REQUEST, "no_keys");
        app.post("/kv/read", Some(&token), json!({"keys": ["a", "a"]})).await.assert_error(StatusCode::BAD_REQUEST, "repeated_key");
        app.post("/kv/read", None, json!({"keys": ["a"]})).await.assert_error(StatusCode::UNAUTHORIZED, "missing_token");
    }

    async fn namespaces_are_per_user(app) {
        let (_, alice, _) = app.signup("alice").await;
        let (_, bob, _) = app.signup("bob").await;
        app.post("/kv/write", Some(&alice), json!({"data": {"k": "alice"}})).await;
        let w = app.post("/kv/write", Some(&bob), json!({"data": {"k": "bob"}})).await;
        assert_eq!(w.json["written"], json!(["k"]));
        let r = app.post("/kv/read", Some(&alice), json!({"keys": ["k"]})).await;
        assert_eq!(r.json["data"]["k"], "alice");
    }
}

mod limits {
    use super::*;

    #[tokio::test]
    async fn a_value_over_64_kib_is_400() {
        let app = TestApp::start_with(Backend::Memory, |c| c.body_limit_bytes = 1 << 20).await;
        let (_, token, _) = app.signup("alice").await;
        let big = "x".repeat(64 * 1024);
        app.post("/kv/write", Some(&token), json!({"data": {"big": big}}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "value_too_large");
    }
}
