//! Two processes: server-example issuing tokens and rotating its signing keys every
//! two seconds, and the resource server (`resource-server`) verifying them through
//! `RemoteKeys`, its JWKS requests passing a proxy of this test that counts them.
//! Across three rotations every token valid at the time is accepted, a revoked key's
//! tokens are refused once the verifier's cached JWKS is stale, and a flood of
//! forged key ids costs a handful of fetches; nothing restarts.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use serde_json::{Value, json};

mod common;
use common::{Process, free_port};

const ADMIN: (&str, &str) = ("admin", "Adm1n-pass!");
const PASSWORD: &str = "Passw0rd!";
/// The JWKS a verifier may keep (the issuer's `max-age`) and its refetch interval.
const JWKS_MAX_AGE: Duration = Duration::from_secs(1);
const REFETCH: Duration = Duration::from_millis(500);

fn spawn(bin: &str, env: &[(&str, String)], log: &Path) -> Process {
    let log = std::fs::File::create(log).unwrap();
    let mut cmd = Command::new(bin);
    cmd.env_clear().env("RUST_LOG", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    Process(child)
}

async fn until_up(client: &reqwest::Client, addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("http://{addr}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{addr} did not come up");
}

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    serde_json::from_slice::<Value>(&header).unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Forwards `GET /.well-known/...` to the issuer, counting the JWKS requests.
#[derive(Clone)]
struct Proxy {
    issuer: SocketAddr,
    client: reqwest::Client,
    jwks: Arc<AtomicUsize>,
}

async fn forward(
    State(p): State<Proxy>,
    uri: axum::http::Uri,
) -> (StatusCode, [(axum::http::HeaderName, String); 1], Vec<u8>) {
    if uri.path().ends_with("jwks.json") {
        p.jwks.fetch_add(1, Ordering::SeqCst);
    }
    let reply = p
        .client
        .get(format!("http://{}{}", p.issuer, uri.path()))
        .send()
        .await
        .unwrap();
    let status = StatusCode::from_u16(reply.status().as_u16()).unwrap();
    let cache = reply
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = reply.bytes().await.unwrap().to_vec();
    (status, [(axum::http::header::CACHE_CONTROL, cache)], body)
}

struct Setup {
    client: reqwest::Client,
    issuer: SocketAddr,
    resource: SocketAddr,
    jwks_fetches: Arc<AtomicUsize>,
    _processes: (Process, Process),
}

impl Setup {
    async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("rotation-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let (issuer, resource) = (free_port(), free_port());
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let issuing = spawn(
            env!("CARGO_BIN_EXE_server-example"),
            &[
                ("BIND_ADDR", issuer.to_string()),
                ("DATA_DIR", dir.display().to_string()),
                ("SEED_DEMO_DATA", "false".into()),
                ("ADMIN_LOGIN", ADMIN.0.into()),
                ("ADMIN_PASSWORD", ADMIN.1.into()),
                ("SIGNING_KEY_ROTATION_SECS", "2".into()),
                ("JWKS_MAX_AGE_SECS", JWKS_MAX_AGE.as_secs().to_string()),
                ("SIGNING_KEY_POLL_MS", "100".into()),
                ("REGISTER_LIMIT_PER_MINUTE", "0".into()),
                ("LOGIN_MAX_FAILURES_PER_IP", "0".into()),
            ],
            &dir.join("issuer.log"),
        );
        // The proxy in this process, between the resource server and the issuer.
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let proxy = Proxy {
            issuer,
            client: client.clone(),
            jwks: jwks_fetches.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/.well-known/{*rest}", axum::routing::get(forward))
            .with_state(proxy);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let verifying = spawn(
            env!("CARGO_BIN_EXE_resource-server"),
            &[
                ("BIND_ADDR", resource.to_string()),
                (
                    "JWKS_URL",
                    format!("http://{proxy_addr}/.well-known/jwks.json"),
                ),
                ("JWT_ISSUER", "server-example".into()),
                ("JWKS_REFETCH_MS", REFETCH.as_millis().to_string()),
                ("JWKS_MIN_CACHE_MS", "200".into()),
            ],
            &dir.join("resource.log"),
        );
        until_up(&client, issuer).await;
        until_up(&client, resource).await;
        Self {
            client,
            issuer,
            resource,
            jwks_fetches,
            _processes: (issuing, verifying),
        }
    }

    async fn login(&self, login: &str, password: &str) -> String {
        let r = self
            .client
            .post(format!("http://{}/auth/login", self.issuer))
            .json(&json!({"login": login, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn whoami(&self, token: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("http://{}/whoami", self.resource))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_server_follows_the_issuers_rotations_without_a_restart() {
    let s = Setup::start().await;
    let r = s
        .client
        .post(format!("http://{}/auth/register", s.issuer))
        .json(&json!({"login": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // Three rotations (one every two seconds): every token, old and new, verifies.
    let mut tokens: Vec<String> = Vec::new();
    let mut kids: Vec<String> = Vec::new();
    let started = Instant::now();
    while kids.len() < 4 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "saw only {kids:?}"
        );
        let token = s.login("alice", PASSWORD).await;
        let kid = kid_of(&token);
        if !kids.contains(&kid) {
            kids.push(kid);
        }
        tokens.push(token);
        for t in &tokens {
            let (status, body) = s.whoami(t).await;
            assert_eq!(status, 200, "{body} for a token of {}", kid_of(t));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let fetches = s.jwks_fetches.load(Ordering::SeqCst);
    println!(
        "{} tokens of {} keys over {:?}: {fetches} JWKS fetches",
        tokens.len(),
        kids.len(),
        started.elapsed()
    );

    // A revoked key: its tokens are refused once the verifier's copy is stale.
    let admin = s.login(ADMIN.0, ADMIN.1).await;
    let victim = tokens.last().unwrap().clone();
    let revoked = s
        .client
        .delete(format!(
            "http://{}/admin/keys/{}",
            s.issuer,
            kid_of(&victim)
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let at = Instant::now();
    let bound = JWKS_MAX_AGE + REFETCH + Duration::from_secs(5);
    loop {
        let (status, body) = s.whoami(&victim).await;
        if status == 401 {
            assert_eq!(body["code"], "invalid_token");
            break;
        }
        assert!(
            at.elapsed() < bound,
            "still accepted after {:?}",
            at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("revoked key refused after {:?}", at.elapsed());
    let fresh = s.login("alice", PASSWORD).await;
    assert_eq!(s.whoami(&fresh).await.0, 200);

    // 1,000 tokens naming random keys: refused, for a handful of fetches (the first
    // fetches, the refetch interval having passed).
    tokio::time::sleep(REFETCH + Duration::from_millis(100)).await;
    let before = s.jwks_fetches.load(Ordering::SeqCst);
    let flood_started = Instant::now();
    let (head, rest) = fresh.split_once('.').unwrap();
    let mut header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(head)
            .unwrap(),
    )
    .unwrap();
    let forged: Vec<String> = (0..1000)
        .map(|_| {
            header["kid"] = uuid::Uuid::new_v4().to_string().into();
            let head = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header.to_string());
            format!("{head}.{rest}")
        })
        .collect();
    for chunk in forged.chunks(50) {
        let mut set = tokio::task::JoinSet::new();
        for t in chunk.iter().cloned() {
            let (client, url) = (s.client.clone(), format!("http://{}/whoami", s.resource));
            set.spawn(async move {
                client
                    .get(url)
                    .bearer_auth(t)
                    .send()
                    .await
                    .unwrap()
                    .status()
            });
        }
        while let Some(status) = set.join_next().await {
            assert_eq!(status.unwrap(), 401);
        }
    }
    let flood = flood_started.elapsed();
    let during = s.jwks_fetches.load(Ordering::SeqCst) - before;
    // One per refetch interval and one per cache lifetime, at most, plus one.
    let allowed = 1
        + (flood.as_millis() / REFETCH.as_millis()) as usize
        + (flood.as_millis() / JWKS_MAX_AGE.as_millis()) as usize;
    println!("1000 forged kids in {flood:?}: {during} JWKS fetches (allowed {allowed})");
    assert!(
        (1..=allowed).contains(&during),
        "{during} fetches in {flood:?}"
    );
}
