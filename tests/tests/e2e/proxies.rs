//! The client address behind proxies: `Forwarded` and `X-Forwarded-For` count only
//! from a peer in `TRUSTED_PROXIES`, so per-address limits hold per real client.

use std::net::IpAddr;

use serde_json::json;
use tests::*;

/// The second loopback address, where the trusted "proxy" connects from.
const PROXY: &str = "127.0.0.2";

fn trust_the_proxy(c: &mut server_example::Config) {
    c.trusted_proxies = vec![auth_axum::parse_net(PROXY).unwrap()];
}

/// A client whose connections come from `local`.
fn client_from(local: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(local.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// A login attempt sent by `client` with `header: value`.
async fn login(
    app: &TestApp,
    client: &reqwest::Client,
    header: (&str, &str),
    login: &str,
    password: &str,
) -> StatusCode {
    let r = client
        .post(app.url("/auth/login"))
        .header(header.0, header.1)
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap();
    r.status()
}

/// 20 failed logins (the per-address limit), in parallel, from `client` forwarding
/// `header`, each for another unknown login so only the address counts.
async fn fail_twenty(
    app: &TestApp,
    client: &reqwest::Client,
    header: (&str, &str),
) -> Vec<StatusCode> {
    futures::future::join_all((0..20).map(|i| async move {
        login(app, client, header, &format!("nobody{i}"), "Wr0ng-pass!").await
    }))
    .await
}

on_both! {
    async fn forwarded_headers_from_an_untrusted_peer_change_nothing(app) {
        app.register("alice").await;
        let direct = client_from("127.0.0.1");
        let statuses = futures::future::join_all((0..20).map(|i| {
            let spoofed = format!("198.51.100.{i}");
            let (app, direct) = (&app, &direct);
            async move { login(app, direct, ("x-forwarded-for", &spoofed), &format!("nobody{i}"), "Wr0ng-pass!").await }
        }))
        .await;
        assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{statuses:?}");
        // Every spoofed address was the peer's: the peer is now throttled, whatever it says.
        for header in [("x-forwarded-for", "203.0.113.5"), ("forwarded", "for=203.0.113.6")] {
            assert_eq!(login(&app, &direct, header, "alice", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        }
        // The trusted-proxy list is empty: the second loopback address is a client of its own.
        assert_eq!(login(&app, &client_from(PROXY), ("x-forwarded-for", "127.0.0.1"), "alice", PASSWORD).await, StatusCode::OK);
    }
}

on_both_with! {
    super::trust_the_proxy;

    async fn behind_a_trusted_proxy_each_client_has_its_own_limits(app) {
        app.register("alice").await;
        let proxy = client_from(PROXY);
        // One client fails the address limit while another signs in through the same proxy.
        let (failures, other) = futures::join!(
            fail_twenty(&app, &proxy, ("x-forwarded-for", "198.51.100.1")),
            login(&app, &proxy, ("x-forwarded-for", "198.51.100.2"), "alice", PASSWORD),
        );
        assert!(failures.iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{failures:?}");
        assert_eq!(other, StatusCode::OK);
        assert_eq!(login(&app, &proxy, ("x-forwarded-for", "198.51.100.1"), "alice", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        // The client cannot escape by prepending an address: the proxy's entry is the rightmost.
        assert_eq!(login(&app, &proxy, ("x-forwarded-for", "203.0.113.9, 198.51.100.1"), "alice", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        // RFC 7239 too, and another client still gets in.
        assert_eq!(login(&app, &proxy, ("forwarded", "for=198.51.100.1;proto=https"), "alice", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(login(&app, &proxy, ("forwarded", r#"for="[2001:db8::7]:4711""#), "alice", PASSWORD).await, StatusCode::OK);
        // The proxy itself is not locked out, and a direct, untrusted peer's header is ignored.
        assert_eq!(login(&app, &client_from("127.0.0.1"), ("x-forwarded-for", "198.51.100.1"), "alice", PASSWORD).await, StatusCode::OK);
        // Login history records the client, not the proxy.
        let access = app.login("alice", PASSWORD).await["access_token"].as_str().unwrap().to_owned();
        let history = app.get("/users/me/logins?limit=100", Some(&access)).await;
        let ips: Vec<&str> = history.json.as_array().unwrap().iter().filter_map(|e| e["ip"].as_str()).collect();
        assert!(ips.contains(&"198.51.100.2") && ips.contains(&"2001:db8::7"), "{ips:?}");
        assert!(!ips.contains(&PROXY), "{ips:?}");
    }
}
