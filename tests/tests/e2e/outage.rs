//! A real database outage: a private Postgres server (its own data directory and port,
//! so the shared one and the tests running against it are untouched) is stopped under
//! a running server and started again.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use tests::*;

/// A throwaway Postgres cluster. PostgreSQL refuses to run as root, so as root every
/// command runs as the `postgres` system user.
struct PrivatePostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PrivatePostgres {
    fn bin_dir() -> PathBuf {
        if let Ok(dir) = std::env::var("PG_BINDIR") {
            return dir.into();
        }
        let out = Command::new("pg_config").arg("--bindir").output();
        if let Some(out) = out.ok().filter(|o| o.status.success()) {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if dir.join("initdb").exists() {
                return dir;
            }
        }
        // Debian keeps the server binaries per major version.
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("initdb").exists())
            .collect();
        found.sort();
        found.pop().expect(
            "this test needs the PostgreSQL server binaries (initdb, pg_ctl): \
             put pg_config on PATH or set PG_BINDIR",
        )
    }

    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = cmd.args(args).output().expect("run a PostgreSQL binary");
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn init() -> Self {
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let dir = std::env::temp_dir().join(format!("pg-outage-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Self {
            bin: Self::bin_dir(),
            dir,
            port,
            as_postgres,
        };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        pg
    }

    fn data(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").to_string_lossy().into_owned();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server the way a crash or a kill would: connections drop at once.
    fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let pid_file: &Path = &self.dir.join("data/postmaster.pid");
        if pid_file.exists() {
            let _ = std::panic::catch_unwind(|| self.stop());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every answer during the outage is either a success or a 503 in the error shape.
fn assert_ok_or_unavailable(r: &Reply, what: &str) {
    if r.status != StatusCode::SERVICE_UNAVAILABLE {
        assert!(r.status.is_success(), "{what}: {} {}", r.status, r.text);
        return;
    }
    let code = r.json["code"].as_str().unwrap_or_default();
    assert!(
        code == "service_unavailable" || code == "not_ready",
        "{what}: {}",
        r.text
    );
    assert!(r.json["message"].is_string(), "{what}: {}", r.text);
}

#[tokio::test]
async fn a_stopped_database_gives_503s_without_hanging_and_the_server_recovers() {
    let pg = PrivatePostgres::init();
    pg.start();
    let request_timeout = Duration::from_secs(5);
    let app = std::sync::Arc::new(
        TestApp::start_with(Backend::Memory, |c| {
            c.database_url = Some(pg.url());
            c.request_timeout_ms = request_timeout.as_millis() as u64;
        })
        .await,
    );
    let (_, token, refresh) = app.signup("alice").await;
    let admin = app.admin_token().await;
    app.post(
        "/currencies",
        Some(&admin),
        json!({"name": "Euro", "code": "EUR", "sign": "€"}),
    )
    .await;
    assert_eq!(app.get("/currency/EUR", None).await.status, StatusCode::OK);

    // Traffic keeps flowing while the database goes away.
    let load = {
        let client = app.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            let mut unavailable = 0;
            let deadline = Instant::now() + Duration::from_secs(4);
            while Instant::now() < deadline {
                for (path, bearer) in [("/users/me", Some(&token)), ("/currency/EUR", None)] {
                    let started = Instant::now();
                    let r = client.get(path, bearer.map(String::as_str)).await;
                    slowest = slowest.max(started.elapsed());
                    assert_ok_or_unavailable(&r, path);
                    if r.status == StatusCode::SERVICE_UNAVAILABLE {
                        unavailable += 1;
                    }
                }
            }
            (slowest, unavailable)
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    pg.stop();

    // While it is down: every store-backed route answers 503 in the JSON shape, in time.
    let probes = [
        (Method::GET, "/readyz", None, None),
        (Method::GET, "/users/me", Some(token.as_str()), None),
        (Method::GET, "/currencies", None, None),
        (
            Method::GET,
            "/exchange?from=EUR&to=USD&amount=1",
            None,
            None,
        ),
        (
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"login": "alice", "password": PASSWORD})),
        ),
        (
            Method::POST,
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh})),
        ),
        (
            Method::POST,
            "/auth/register",
            None,
            Some(json!({"login": "bob", "password": PASSWORD})),
        ),
    ];
    for (method, path, bearer, body) in probes {
        let started = Instant::now();
        let r = app.call(method.clone(), path, bearer, body).await;
        assert!(
            started.elapsed() < request_timeout,
            "{method} {path} took {:?}",
            started.elapsed()
        );
        assert_eq!(
            r.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path}: {}",
            r.text
        );
        assert_ok_or_unavailable(&r, path);
    }
    // The process itself is fine.
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);

    let (slowest, unavailable) = load.await.unwrap();
    assert!(slowest < request_timeout, "a request took {slowest:?}");
    assert!(unavailable > 0, "the load saw the outage");

    // Back up: the server recovers by itself, with nothing lost.
    pg.start();
    let started = Instant::now();
    while app.get("/readyz", None).await.status != StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not recover"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        app.get("/users/me", Some(&token)).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/currency/EUR", None).await.json["name"], "Euro");
    let r = app
        .post("/auth/refresh", None, json!({"refresh_token": refresh}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let again = app.login("alice", PASSWORD).await;
    assert!(again["access_token"].is_string());
}
