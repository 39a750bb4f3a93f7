//! Harness of the end-to-end tests: the real server on an ephemeral port, on memory
//! or on a throwaway Postgres database, driven over HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use auth_core::MemoryMailer;
use reqwest::header::HeaderMap;
pub use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server_example::config::PoolerArg;
use server_example::{AppState, Config};
use storage_postgres::testing::TestDatabase;
pub use storage_postgres::testing::ToggleProxy;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Login of the configured administrator.
pub const ADMIN_LOGIN: &str = "root";
/// Password of the configured administrator.
pub const ADMIN_PASSWORD: &str = "Adm1n-pass!";
/// Password of every user the helpers register.
pub const PASSWORD: &str = "Passw0rd!";
/// How long a test waits for something another instance is told asynchronously.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Where the server keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// In-memory stores.
    Memory,
    /// A fresh Postgres database.
    Postgres,
}

/// A running server.
pub struct TestApp {
    /// Its address.
    pub addr: SocketAddr,
    /// Its state (services and stores), to inspect what they hold.
    pub state: AppState,
    /// Captured verification codes.
    pub mailer: Arc<MemoryMailer>,
    /// The configuration it runs with.
    pub config: Config,
    client: reqwest::Client,
    task: JoinHandle<()>,
    /// The rate feed's refresh, as `main` runs it.
    refresh: Option<JoinHandle<()>>,
    /// The signing-key schedule, as `main` runs it.
    rotation: Option<JoinHandle<()>>,
    db: Option<TestDatabase>,
    /// Whether this instance made the data directory (siblings share it).
    owns_data_dir: bool,
}

/// The answer to a request.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub text: String,
    /// Body as JSON (`Null` when empty or not JSON).
    pub json: Value,
}

impl Reply {
    /// The exact JSON text of a top-level field (numbers keep their written digits).
    #[track_caller]
    pub fn raw(&self, field: &str) -> String {
        let fields: std::collections::HashMap<String, Box<serde_json::value::RawValue>> =
            serde_json::from_str(&self.text).expect("a JSON object");
        fields.get(field).expect(field).get().to_owned()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the API error shape with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(self.json["code"], code, "body: {}", self.text);
        assert!(
            self.json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "no message: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "error without JSON content type"
        );
    }
}

fn base_config(data_dir: PathBuf) -> Config {
    let mut c = Config::defaults();
    // Pin everything the environment could change.
    c.database_url = None;
    c.data_dir = data_dir;
    c.signing_key_file = None;
    c.verification_key_files = vec![];
    c.jwt_hs256_secret = None;
    c.refresh_secret = None;
    c.admin_login = Some(ADMIN_LOGIN.into());
    c.admin_password = Some(ADMIN_PASSWORD.into());
    c.exchange_public_writes = false;
    c.rate_source_url = None;
    c.require_email_verification = false;
    c.trusted_proxies = vec![];
    c.seed_demo_data = Some(false);
    c.cors_origins = vec!["*".into()];
    c.database_acquire_timeout_ms = 1000;
    c.database_max_connections = 10;
    c
}

impl TestApp {
    /// A server on `backend` with the test defaults.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// A server on `backend`, with `tweak` applied to the configuration.
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = std::env::temp_dir().join(format!("e2e-{}", uuid::Uuid::new_v4().simple()));
        let mut config = base_config(dir);
        let db = match backend {
            Backend::Memory => None,
            Backend::Postgres => {
                let db = TestDatabase::create(4).await;
                config.database_url = Some(db.url().to_owned());
                // Through the tests' pooler when there is one (DATABASE_POOLER_URL).
                if let Some(pooled) = db.pooled_url() {
                    config.database_url = Some(pooled.to_owned());
                    config.database_pooler = PoolerArg::Transaction;
                    config.database_direct_url = Some(db.url().to_owned());
                }
                Some(db)
            }
        };
        tweak(&mut config);
        let mut app = Self::start_config(config).await;
        app.db = db;
        app.owns_data_dir = true;
        app
    }

    /// A second server sharing this one's database and keys, as a second instance
    /// behind a load balancer would.
    pub async fn sibling(&self) -> Self {
        Self::start_config(self.config.clone()).await
    }

    /// A server with exactly this configuration.
    pub async fn start_config(config: Config) -> Self {
        let mailer = Arc::new(MemoryMailer::new());
        // A configured mailer (SMTP_URL, MAIL_DIR) is used as configured.
        let configured = config.smtp_url.is_some() || config.mail_dir.is_some();
        let state = AppState::from_config(&config, (!configured).then(|| mailer.clone() as _))
            .await
            .expect("server state builds");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let refresh = server_example::spawn_rate_refresh(&state, config.rate_refresh_secs);
        let rotation = state.auth.spawn_key_rotation();
        let serving = state.clone();
        let task = tokio::spawn(async move {
            server_example::serve(listener, serving, std::future::pending())
                .await
                .expect("server runs");
        });
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            addr,
            state,
            mailer,
            config,
            client,
            task,
            refresh,
            rotation,
            db: None,
            owns_data_dir: false,
        }
    }

    /// Polls `GET path` with `token` until it answers `status`, for at most
    /// [`DEADLINE`]; the last reply.
    pub async fn until_status(&self, path: &str, token: &str, status: StatusCode) -> Reply {
        let start = std::time::Instant::now();
        loop {
            let reply = self.get(path, Some(token)).await;
            if reply.status == status {
                return reply;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{path} still answers {} after {DEADLINE:?}",
                reply.status
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// `http://addr/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A request builder with the test client.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// Sends a request and collects the reply.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body read");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    /// A request with an optional Bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.request(method, path);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    /// GET.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// POST with a form body.
    pub async fn post_form(&self, path: &str, token: Option<&str>, form: &[(&str, &str)]) -> Reply {
        let mut req = self.request(Method::POST, path).form(form);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    /// Registers `login` with [`PASSWORD`]; returns the user.
    pub async fn register(&self, login: &str) -> Value {
        let r = self
            .post(
                "/auth/register",
                None,
                json!({ "login": login, "password": PASSWORD }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "register: {}", r.text);
        r.json
    }

    /// Registers `login` with [`PASSWORD`] and `email`; returns the user.
    pub async fn register_with_email(&self, login: &str, email: &str) -> Value {
        let r = self
            .post(
                "/auth/register",
                None,
                json!({ "login": login, "password": PASSWORD, "email": email }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "register: {}", r.text);
        r.json
    }

    /// Logs in; returns the token pair.
    pub async fn login(&self, login: &str, password: &str) -> Value {
        let r = self
            .post(
                "/auth/login",
                None,
                json!({ "login": login, "password": password }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login: {}", r.text);
        r.json
    }

    /// Registers and logs in `login`; returns (user id, access token, refresh token).
    pub async fn signup(&self, login: &str) -> (String, String, String) {
        let user = self.register(login).await;
        let pair = self.login(login, PASSWORD).await;
        (
            user["id"].as_str().expect("id").to_owned(),
            pair["access_token"].as_str().expect("access").to_owned(),
            pair["refresh_token"].as_str().expect("refresh").to_owned(),
        )
    }

    /// Registers `login` with `email`, verifies the address with the mailed code and
    /// logs in; returns (user id, access token, refresh token).
    pub async fn signup_verified(&self, login: &str, email: &str) -> (String, String, String) {
        let user = self.register_with_email(login, email).await;
        let code = self
            .mailer
            .last_code_for(email)
            .expect("a verification code");
        let r = self
            .post(
                "/auth/verify-email",
                None,
                json!({ "login": login, "code": code }),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "verify: {}", r.text);
        let pair = self.login(login, PASSWORD).await;
        (
            user["id"].as_str().expect("id").to_owned(),
            pair["access_token"].as_str().expect("access").to_owned(),
            pair["refresh_token"].as_str().expect("refresh").to_owned(),
        )
    }

    /// Re-authenticates the session of `access` with [`PASSWORD`], as sensitive
    /// changes need.
    pub async fn reauthenticate(&self, access: &str) {
        let r = self
            .post(
                "/auth/reauthenticate",
                Some(access),
                json!({ "password": PASSWORD }),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::NO_CONTENT,
            "reauthenticate: {}",
            r.text
        );
    }

    /// An access token of the configured administrator.
    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_LOGIN, ADMIN_PASSWORD).await["access_token"]
            .as_str()
            .expect("access")
            .to_owned()
    }

    /// The URL of this app's test database.
    pub fn database_url(&self) -> Option<&str> {
        self.db.as_ref().map(TestDatabase::url)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.task.abort();
        for task in self.refresh.iter().chain(&self.rotation) {
            task.abort();
        }
        if let Some(db) = self.db.take() {
            // Dropped outside the test's runtime, which may be single-threaded and busy
            // dropping us; FORCE ends the connections the pool still holds.
            let name = db.name().to_owned();
            drop(db);
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    use sqlx::Connection;
                    let url = storage_postgres::testing::admin_url();
                    if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut c)
                        .await;
                    }
                });
            })
            .join();
        }
        if self.owns_data_dir {
            let _ = std::fs::remove_dir_all(&self.config.data_dir);
        }
    }
}

/// The README's Rust examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The newest mail of `kind` to `to` in a `MAIL_DIR`, waiting up to 5 s for it (mail
/// is sent in the background).
pub async fn mail_in_dir(dir: &std::path::Path, to: &str, kind: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let mut found: Vec<(String, Value)> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .filter_map(|e| {
                let text = std::fs::read_to_string(e.path()).ok()?;
                let mail: Value = serde_json::from_str(&text).ok()?;
                (mail["to"] == to && mail["kind"] == kind)
                    .then(|| (e.file_name().to_string_lossy().into_owned(), mail))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some((_, mail)) = found.pop() {
            return mail;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {kind} mail to {to} in {}",
            dir.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// How many mails a `MAIL_DIR` holds.
pub fn mails_in_dir(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .count()
}
