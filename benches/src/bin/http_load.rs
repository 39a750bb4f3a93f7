//! Bounded HTTP load against the release server, over loopback only.
//!
//! Starts `server-example` as a child process (in memory, or on a fresh Postgres
//! database), then for each path runs a fixed number of requests (with a time limit)
//! from concurrent clients and reports requests/s, p50 and p99, each next to the
//! `/healthz` baseline measured in the same run. Also runs a login storm while one
//! client measures `/healthz` latency, and reports the server's peak resident memory.
//!
//! On Postgres it then starts a second server on the same database with the session
//! cache and the per-address refresh limit off and measures `/users/me` and refresh
//! again, and finally runs `pgbench` on that database (a primary-key `SELECT`, a
//! one-row `UPDATE ... RETURNING`, and that `UPDATE` on one shared row) for the ratios
//! against the database's own limits. Then it compares ours with the hand-written
//! stack (`handwritten`, beside the server binary): all servers up at once, each path
//! in alternating slices on each side, the ratio the median of the rounds', with each
//! side's CPU per request (server, load client, rest of the machine) from `/proc`.
//!
//! With `DATABASE_POOLER_URL` set (a PgBouncer in transaction mode in front of the same
//! Postgres: `bash tests/pgbouncer/run.sh bash benches/http-load.sh --mode postgres`
//! starts one), the Postgres mode also runs those two servers through the pooler
//! (`DATABASE_POOLER=transaction`) and reports each path as a ratio to the same path
//! straight to Postgres.
//!
//! `--compare-only` runs just that comparison (Postgres); `--only <text>` keeps its
//! rows whose names hold the text (`--only "no verified-token"`).
//!
//! Use `benches/http-load.sh` (it builds both binaries in release mode first).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use benches::pgbench;
use serde_json::{Value, json};
use storage_postgres::testing::TestDatabase;

const PASSWORD: &str = "Passw0rd!";

/// Clients of the `pgbench` baselines, as the figures they are compared with.
const PGBENCH_CLIENTS: u32 = 16;

struct Args {
    server: PathBuf,
    modes: Vec<String>,
    concurrency: usize,
    requests: u64,
    login_requests: u64,
    time_limit: Duration,
    /// Only the comparison with the hand-written stack (Postgres).
    compare_only: bool,
    /// Only the comparison's paths whose row names hold this text.
    only: Option<String>,
}

fn parse_args() -> Args {
    let mut a = Args {
        server: PathBuf::from("target/release/server-example"),
        modes: vec!["memory".into(), "postgres".into()],
        concurrency: 32,
        requests: 20_000,
        login_requests: 300,
        time_limit: Duration::from_secs(20),
        compare_only: false,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => a.server = value().into(),
            "--mode" => a.modes = vec![value()],
            "--compare-only" => a.compare_only = true,
            "--only" => a.only = Some(value()),
            "--concurrency" => a.concurrency = value().parse().expect("number"),
            "--requests" => a.requests = value().parse().expect("number"),
            "--login-requests" => a.login_requests = value().parse().expect("number"),
            "--time-limit-secs" => {
                a.time_limit = Duration::from_secs(value().parse().expect("number"))
            }
            other => panic!("unknown flag {other}; see the top of benches/src/bin/http_load.rs"),
        }
    }
    a
}

struct Server {
    child: Child,
    base: String,
    data_dir: PathBuf,
}

impl Server {
    fn start(path: &PathBuf, database_url: Option<&str>, env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data_dir = std::env::temp_dir().join(format!("load-{}", uuid::Uuid::new_v4().simple()));
        let mut cmd = Command::new(path);
        cmd.env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("DATA_DIR", &data_dir)
            .env("ADMIN_LOGIN", "root")
            .env("ADMIN_PASSWORD", "Adm1n-pass!")
            .env("SEED_DEMO_DATA", "true")
            .env("RUST_LOG", "warn")
            // One address sends all the load. Registrations are setup, not measured;
            // the refresh limit stays on, out of reach, so each refresh pays for its
            // reservation as in production.
            .env("REGISTER_LIMIT_PER_MINUTE", "0")
            .env("REFRESH_LIMIT_PER_MINUTE", "1000000000")
            // Several servers' load sessions of one user live at once.
            .env("MAX_SESSIONS_PER_USER", "0")
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(url) = database_url {
            cmd.env("DATABASE_URL", url)
                .env("DATABASE_MAX_CONNECTIONS", "32");
        }
        cmd.envs(env.iter().copied());
        let child = cmd
            .spawn()
            .expect("start the server binary (build it first)");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data_dir,
        }
    }

    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

#[derive(Default)]
struct Stats {
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: u64,
    done: u64,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Called with each successful reply's JSON body, by worker index.
type OnReply = Arc<dyn Fn(usize, &Value) + Send + Sync>;

/// One request of a scenario, by worker index: method, path, token, body.
type MakeRequest =
    Arc<dyn Fn(usize) -> (reqwest::Method, String, Option<String>, Option<Value>) + Send + Sync>;

/// A `GET` of `path`, with `token` as bearer when given.
fn get(path: &'static str, token: Option<String>) -> MakeRequest {
    Arc::new(move |_| (reqwest::Method::GET, path.to_owned(), token.clone(), None))
}

async fn run(
    client: &reqwest::Client,
    base: &str,
    concurrency: usize,
    requests: u64,
    limit: Duration,
    make: MakeRequest,
    on_reply: Option<OnReply>,
) -> Stats {
    let remaining = Arc::new(AtomicU64::new(requests));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + limit;
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (client, base, make, on_reply) = (
                client.clone(),
                base.to_owned(),
                make.clone(),
                on_reply.clone(),
            );
            let (remaining, errors) = (remaining.clone(), errors.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < deadline
                    && remaining
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(1))
                        .is_ok()
                {
                    let (method, path, token, body) = make(w);
                    let mut req = client.request(method, format!("{base}{path}"));
                    if let Some(t) = token {
                        req = req.bearer_auth(t);
                    }
                    if let Some(b) = body {
                        req = req.json(&b);
                    }
                    let t0 = Instant::now();
                    match req.send().await {
                        Ok(resp) if resp.status().is_success() => {
                            let bytes = resp.bytes().await.unwrap_or_default();
                            lat.push(t0.elapsed());
                            if let (Some(cb), Ok(v)) =
                                (&on_reply, serde_json::from_slice::<Value>(&bytes))
                            {
                                cb(w, &v);
                            }
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    Stats {
        rps: all.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&all, 0.50),
        p99: percentile(&all, 0.99),
        errors: errors.load(Ordering::Relaxed),
        done: all.len() as u64,
    }
}

fn argon2_verify_secs() -> f64 {
    use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    let a = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(19_456, 2, 1, None).unwrap(),
    );
    let salt = SaltString::encode_b64(&[1u8; 16]).unwrap();
    let phc = a
        .hash_password(PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string();
    let parsed = PasswordHash::new(&phc).unwrap();
    let n = 20;
    let t0 = Instant::now();
    for _ in 0..n {
        a.verify_password(PASSWORD.as_bytes(), &parsed).unwrap();
    }
    t0.elapsed().as_secs_f64() / n as f64
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let ready = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            ready.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Refresh-token chains, one per client, each in its own session.
type Chains = Arc<Vec<std::sync::Mutex<String>>>;

/// The JSON answer to `request`.
async fn answer(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// An access token of `loaduser0` and `n` refresh chains, from logins.
async fn sessions(client: &reqwest::Client, base: &str, n: usize) -> (String, Chains) {
    let login = || async {
        let v = answer(
            client
                .post(format!("{base}/auth/login"))
                .json(&json!({"login": "loaduser0", "password": PASSWORD})),
        )
        .await;
        (
            v["access_token"].as_str().unwrap().to_owned(),
            v["refresh_token"].as_str().unwrap().to_owned(),
        )
    };
    let (access, _) = login().await;
    let mut chains = Vec::new();
    for _ in 0..n {
        chains.push(std::sync::Mutex::new(login().await.1));
    }
    (access, Arc::new(chains))
}

/// Each client follows its own rotation chain, one request at a time.
async fn refreshes(client: &reqwest::Client, base: &str, args: &Args, chains: Chains) -> Stats {
    let (make, follow) = refresh_requests(chains);
    let (c, n, limit) = (args.concurrency, args.requests, args.time_limit);
    run(client, base, c, n, limit, make, Some(follow)).await
}

/// Accounts the login clients use, one each (the storm has 16 clients).
const LOGIN_ACCOUNTS: usize = 16;

async fn mode(args: &Args, name: &str) {
    let db = if name == "postgres" {
        Some(TestDatabase::create(2).await)
    } else {
        None
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    if let (true, Some(db)) = (args.compare_only, db.as_ref()) {
        // The account the comparison logs in with.
        let server = Server::start(&args.server, Some(db.url()), &[]);
        wait_ready(&client, &server.base).await;
        answer(
            client
                .post(format!("{}/auth/register", server.base))
                .json(&json!({"login": "loaduser0", "password": PASSWORD})),
        )
        .await;
        drop(server);
        print_against(&against_handwritten(args, &client, db).await);
    }
    if args.compare_only {
        if let Some(db) = db {
            db.drop_database().await;
        }
        return;
    }
    let server = Server::start(&args.server, db.as_ref().map(|d| d.url()), &[]);
    let base = server.base.clone();
    wait_ready(&client, &base).await;
    // One account per login client: logins of one account are checked at most a few
    // at a time (attempts are reserved before the password is checked).
    for i in 0..LOGIN_ACCOUNTS {
        let register = client
            .post(format!("{base}/auth/register"))
            .json(&json!({"login": format!("loaduser{i}"), "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert!(register.status().is_success());
    }
    let (access, chains) = sessions(&client, &base, args.concurrency).await;

    let c = args.concurrency;
    let (n, limit) = (args.requests, args.time_limit);
    let healthz = run(&client, &base, c, n, limit, get("/healthz", None), None).await;
    let exchange = run(
        &client,
        &base,
        c,
        n,
        limit,
        get("/exchange?from=EUR&to=GBP&amount=10", None),
        None,
    )
    .await;
    let me = run(
        &client,
        &base,
        c,
        n,
        limit,
        get("/users/me", Some(access.clone())),
        None,
    )
    .await;
    let refresh = refreshes(&client, &base, args, chains).await;
    let make: MakeRequest = Arc::new(move |w| {
        let account = format!("loaduser{}", w % LOGIN_ACCOUNTS);
        (
            reqwest::Method::POST,
            "/auth/login".into(),
            None,
            Some(json!({"login": account, "password": PASSWORD})),
        )
    });
    let logins = run(
        &client,
        &base,
        8,
        args.login_requests,
        limit,
        make.clone(),
        None,
    )
    .await;

    // /healthz latency from one client while a login storm runs.
    let storm = {
        let (client, base, make) = (client.clone(), base.clone(), make.clone());
        tokio::spawn(async move {
            run(
                &client,
                &base,
                16,
                u64::MAX,
                Duration::from_secs(5),
                make,
                None,
            )
            .await
        })
    };
    let mut lat = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(5) {
        let s = Instant::now();
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            lat.push(s.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let storm = storm.await.unwrap();
    lat.sort_unstable();
    let storm_p99 = percentile(&lat, 0.99);
    let rss = server.peak_rss_kib();

    // On Postgres, a second server on the same database (the first one stopped):
    // no session cache, and no per-address refresh limit, to show what the cache and
    // the limit's counter (one row, as all the load comes from one address) cost.
    let bare = match &db {
        Some(db) => {
            drop(server);
            Some(me_and_refresh(args, &client, db.url(), BARE).await)
        }
        None => None,
    };
    // What a developer would hand-write instead, in alternating slices.
    let against_handwritten = match &db {
        Some(db) => Some(against_handwritten(args, &client, db).await),
        None => None,
    };
    // With DATABASE_POOLER_URL (tests/pgbouncer/run.sh starts one), the same two
    // servers again through that transaction pooler.
    let pooled = match db.as_ref().and_then(|db| Some((db, db.pooled_url()?))) {
        Some((db, url)) => {
            let via = [
                ("DATABASE_POOLER", "transaction"),
                ("DATABASE_DIRECT_URL", db.url()),
            ];
            let cached = me_and_refresh(args, &client, url, &via).await;
            let via_bare: Vec<(&str, &str)> = via.iter().chain(BARE).copied().collect();
            let bare = me_and_refresh(args, &client, url, &via_bare).await;
            Some((cached, bare))
        }
        None => None,
    };

    let argon = argon2_verify_secs();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let login_ceiling = cores / argon;

    println!(
        "\n### HTTP load, {name} mode ({c} clients, up to {n} requests or {}s per path)\n",
        limit.as_secs()
    );
    println!(
        "| path | requests | errors | req/s | p50 ms | p99 ms | ratio to /healthz req/s | target | met |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let row = |path: &str, s: &Stats, target: Option<f64>| {
        let ratio = s.rps / healthz.rps;
        let (t, met) = match target {
            Some(t) => (
                format!(">= {t:.2}x"),
                if ratio >= t { "yes" } else { "no" }.to_owned(),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {path} | {} | {} | {:.0} | {} | {} | {ratio:.2}x | {t} | {met} |",
            s.done,
            s.errors,
            s.rps,
            ms(s.p50),
            ms(s.p99)
        );
    };
    row("GET /healthz (baseline)", &healthz, None);
    row(
        "GET /exchange",
        &exchange,
        Some(if name == "memory" { 0.5 } else { 0.25 }),
    );
    // With the session cache (Postgres) or in memory, against /healthz.
    row(
        "GET /users/me",
        &me,
        Some(if name == "memory" { 0.4 } else { 0.5 }),
    );
    row("POST /auth/refresh", &refresh, None);
    if let Some((me, refresh)) = &bare {
        row("GET /users/me, no session cache", me, None);
        row("POST /auth/refresh, no per-address limit", refresh, None);
    }
    if let Some(((me_p, refresh_p), (bare_me_p, bare_refresh_p))) = &pooled {
        row("GET /users/me through PgBouncer", me_p, None);
        row("POST /auth/refresh through PgBouncer", refresh_p, None);
        row(
            "GET /users/me through PgBouncer, no session cache",
            bare_me_p,
            None,
        );
        row(
            "POST /auth/refresh through PgBouncer, no per-address limit",
            bare_refresh_p,
            None,
        );
    }
    row("POST /auth/login (8 clients)", &logins, None);
    println!(
        "\nlogin: {:.1} req/s; ceiling cores/argon2-verify = {cores:.0} / {:.1} ms = {login_ceiling:.1}/s; ratio {:.2}x (target >= 0.80x: {})",
        logins.rps,
        argon * 1e3,
        logins.rps / login_ceiling,
        if logins.rps / login_ceiling >= 0.8 {
            "met"
        } else {
            "missed"
        }
    );
    println!(
        "/healthz p99 during a 5 s login storm ({:.1} logins/s): {} ms (target < 10 ms: {})",
        storm.rps,
        ms(storm_p99),
        if storm_p99 < Duration::from_millis(10) {
            "met"
        } else {
            "missed"
        }
    );
    if let Some(db) = &db {
        // The limits of the statements underneath, right after our runs, on the same
        // database: a primary-key SELECT and a one-row UPDATE ... RETURNING, each client
        // on its own row (as each refresh client follows its own session).
        // psql and pgbench take the URL without sqlx's own query parameters.
        let url = db.url().split('?').next().unwrap_or_default();
        let select = pgbench::primary_key_select(url, PGBENCH_CLIENTS);
        let update = pgbench::one_row_update(url, PGBENCH_CLIENTS);
        // All clients on one row, as every refresh from one address updates that
        // address's counter row.
        let shared = pgbench::shared_row_update(url, PGBENCH_CLIENTS);
        match (select, update, shared) {
            (Some(select), Some(update), Some(shared)) => {
                println!(
                    "pgbench ({PGBENCH_CLIENTS} clients): primary-key SELECT {select:.0} tps, one-row UPDATE ... RETURNING {update:.0} tps, the same UPDATE all on one shared row {shared:.0} tps"
                );
                let ratio = |what: &str, ours: f64, limit: f64, target: f64| {
                    let r = ours / limit;
                    let met = if r >= target { "met" } else { "missed" };
                    println!("{what}: {r:.2}x (target >= {target:.2}x: {met})");
                };
                println!(
                    "GET /users/me with the session cache / primary-key SELECT: {:.2}x",
                    me.rps / select
                );
                if let Some((bare_me, bare_refresh)) = &bare {
                    ratio(
                        "GET /users/me without the cache / primary-key SELECT",
                        bare_me.rps,
                        select,
                        0.35,
                    );
                    ratio(
                        "POST /auth/refresh without the per-address limit / UPDATE ... RETURNING",
                        bare_refresh.rps,
                        update,
                        0.7,
                    );
                }
                ratio(
                    "POST /auth/refresh, one address / UPDATE ... RETURNING",
                    refresh.rps,
                    update,
                    0.7,
                );
                println!(
                    "POST /auth/refresh, one address / UPDATE ... RETURNING of one shared row: {:.2}x",
                    refresh.rps / shared
                );
            }
            _ => println!("pgbench baselines: not measured (pgbench or psql missing)"),
        }
    }
    if let Some(rows) = &against_handwritten {
        print_against(rows);
    }
    if let (Some(((me_p, refresh_p), (bare_me_p, bare_refresh_p))), Some((bare_me, bare_refresh))) =
        (&pooled, &bare)
    {
        println!("\nthrough PgBouncer (transaction mode) / straight to Postgres, same run:");
        for (what, through, straight) in [
            ("GET /users/me", me_p, &me),
            ("POST /auth/refresh", refresh_p, &refresh),
            ("GET /users/me, no session cache", bare_me_p, bare_me),
            (
                "POST /auth/refresh, no per-address limit",
                bare_refresh_p,
                bare_refresh,
            ),
        ] {
            println!("- {what}: {:.2}x", through.rps / straight.rps);
        }
    }
    if let Some(kib) = rss {
        println!(
            "server peak resident memory: {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
    if let Some(db) = db {
        db.drop_database().await;
    }
}

/// The table of the comparison with the hand-written stack.
fn print_against(rows: &[(&str, Paired, f64)]) {
    println!(
        "\nagainst the hand-written stack (axum + sqlx + jsonwebtoken, one statement per request, benches/src/bin/handwritten.rs), all servers up at once, {PAIRED_ROUNDS} rounds of {}s slices on each, alternating which goes first:\n",
        PAIRED_SLICE.as_secs()
    );
    println!(
        "| path | ours req/s | hand-written req/s | ratio (median of rounds) | rounds' range | target | met | CPU µs/request, server / client / rest, ours | hand-written |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (what, p, target) in rows {
        let (lo, hi) = p
            .ratios
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
        let ratio = p.median();
        let cpu = |c: &CpuPerRequest| format!("{:.0} / {:.0} / {:.0}", c.server, c.client, c.rest);
        println!(
            "| {what} | {:.0} | {:.0} | {ratio:.2}x | {lo:.2}-{hi:.2}x | >= {target:.2}x | {} | {} | {} |",
            p.ours,
            p.theirs,
            if ratio >= *target { "yes" } else { "no" },
            cpu(&p.cpu.0),
            cpu(&p.cpu.1),
        );
    }
}

/// The server settings of the runs without the session cache and the refresh limit.
const BARE: &[(&str, &str)] = &[
    ("SESSION_CACHE_TTL_MS", "0"),
    ("REFRESH_LIMIT_PER_MINUTE", "0"),
];

/// The ratios to the hand-written stack are taken in alternating slices, so the
/// machine's drift (other tenants, checkpoints) falls on both servers alike: this many
/// rounds of one slice on each, the first server alternating (ours, theirs; theirs,
/// ours; ...).
const PAIRED_ROUNDS: usize = 6;
const PAIRED_SLICE: Duration = Duration::from_secs(3);

/// CPU time in clock ticks: of a process (`/proc/<pid>/stat`, user and system), and
/// of the whole machine (`/proc/stat`, every state but idle and iowait).
fn cpu_ticks(pid: u32) -> (u64, u64) {
    let process = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // The fields after the command name (which may hold spaces).
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            Some(rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    let machine = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let cpu: Vec<u64> = s
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            Some(cpu.iter().sum::<u64>() - cpu.get(3)? - cpu.get(4)?)
        })
        .unwrap_or(0);
    (process, machine)
}

/// Microseconds of CPU per request over one side's slices: the server's process, the
/// load client's, and the rest of the machine (Postgres, mostly).
#[derive(Default, Clone, Copy)]
struct CpuPerRequest {
    server: f64,
    client: f64,
    rest: f64,
}

/// One path on two servers: requests/s of each over all its slices, the ratio of
/// each round's two slices, and where each side's CPU went.
struct Paired {
    ours: f64,
    theirs: f64,
    ratios: Vec<f64>,
    cpu: (CpuPerRequest, CpuPerRequest),
}

impl Paired {
    fn median(&self) -> f64 {
        let mut r = self.ratios.clone();
        r.sort_by(f64::total_cmp);
        let mid = r.len() / 2;
        if r.len().is_multiple_of(2) {
            (r[mid - 1] + r[mid]) / 2.0
        } else {
            r[mid]
        }
    }
}

/// A server of the comparison (its process and address), with what a client sends it
/// for one path.
struct Side<'a> {
    pid: u32,
    base: &'a str,
    make: MakeRequest,
    on_reply: Option<OnReply>,
}

/// Clock ticks a second, as `/proc` counts CPU time.
const TICKS_PER_SEC: f64 = 100.0;

/// [`PAIRED_ROUNDS`] rounds of [`PAIRED_SLICE`] on each side, alternating which goes
/// first.
async fn paired(args: &Args, client: &reqwest::Client, ours: Side<'_>, theirs: Side<'_>) -> Paired {
    let (mut ours_rps, mut theirs_rps, mut ratios) = (0.0, 0.0, Vec::new());
    // Ticks of the server, the client and the machine, and requests, per side.
    let mut ticks = [[0u64; 4]; 2];
    let me = std::process::id();
    let mut slice = async |i: usize, side: &Side<'_>| {
        let ((s0, m0), (c0, _)) = (cpu_ticks(side.pid), cpu_ticks(me));
        let stats = run(
            client,
            side.base,
            args.concurrency,
            u64::MAX,
            PAIRED_SLICE,
            side.make.clone(),
            side.on_reply.clone(),
        )
        .await;
        let ((s1, m1), (c1, _)) = (cpu_ticks(side.pid), cpu_ticks(me));
        for (t, d) in ticks[i]
            .iter_mut()
            .zip([s1 - s0, c1 - c0, m1 - m0, stats.done])
        {
            *t += d;
        }
        stats
    };
    for round in 0..PAIRED_ROUNDS {
        let (a, b) = if round.is_multiple_of(2) {
            let a = slice(0, &ours).await;
            (a, slice(1, &theirs).await)
        } else {
            let b = slice(1, &theirs).await;
            (slice(0, &ours).await, b)
        };
        assert_eq!(a.errors + b.errors, 0, "errors in a paired slice");
        ours_rps += a.rps / PAIRED_ROUNDS as f64;
        theirs_rps += b.rps / PAIRED_ROUNDS as f64;
        ratios.push(a.rps / b.rps);
    }
    let per_request = |[server, client, machine, done]: [u64; 4]| {
        let us = |t: u64| t as f64 / TICKS_PER_SEC * 1e6 / done.max(1) as f64;
        CpuPerRequest {
            server: us(server),
            client: us(client),
            rest: us(machine.saturating_sub(server + client)),
        }
    };
    Paired {
        ours: ours_rps,
        theirs: theirs_rps,
        ratios,
        cpu: (per_request(ticks[0]), per_request(ticks[1])),
    }
}

/// The request and reply handler of a client following its own refresh chain.
fn refresh_requests(chains: Chains) -> (MakeRequest, OnReply) {
    let ch = chains.clone();
    let make: MakeRequest = Arc::new(move |w| {
        let token = ch[w].lock().unwrap().clone();
        (
            reqwest::Method::POST,
            "/auth/refresh".into(),
            None,
            Some(json!({"refresh_token": token})),
        )
    });
    let follow: OnReply = Arc::new(move |w, v| {
        if let Some(t) = v["refresh_token"].as_str() {
            *chains[w].lock().unwrap() = t.to_owned();
        }
    });
    (make, follow)
}

/// Ours (as configured by default, without the session cache and the refresh limit,
/// and without either cache) against the hand-written server (`handwritten`, beside
/// the server binary), all four up at once on `db`: each path in [`paired`] slices.
async fn against_handwritten(
    args: &Args,
    client: &reqwest::Client,
    db: &TestDatabase,
) -> Vec<(&'static str, Paired, f64)> {
    // Four pools on one database: each smaller than a lone server's, so together they
    // stay under Postgres's connection limit.
    const POOL: (&str, &str) = ("DATABASE_MAX_CONNECTIONS", "20");
    let no_caches: Vec<(&str, &str)> = BARE
        .iter()
        .chain(&[("VERIFIED_TOKEN_CACHE", "0"), POOL])
        .copied()
        .collect();
    let bare: Vec<(&str, &str)> = BARE.iter().chain(&[POOL]).copied().collect();
    let default = Server::start(&args.server, Some(db.url()), &[POOL]);
    let bare = Server::start(&args.server, Some(db.url()), &bare);
    let no_caches = Server::start(&args.server, Some(db.url()), &no_caches);
    for s in [&default, &bare, &no_caches] {
        wait_ready(client, &s.base).await;
    }
    let jwks = answer(client.get(format!("{}/.well-known/jwks.json", bare.base))).await;
    let x = jwks["keys"][0]["x"]
        .as_str()
        .expect("an Ed25519 key")
        .to_owned();
    // The hand-written server's refresh tokens are `<session id>.<counter>`: the
    // sessions made here, read back before any other is made.
    let (hand_access, _) = sessions(client, &bare.base, args.concurrency).await;
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let live: Vec<(uuid::Uuid, i64)> = sqlx::query_as(
        "SELECT id, counter FROM auth_exchange.sessions WHERE NOT revoked \
         ORDER BY created_at DESC LIMIT $1",
    )
    .bind(args.concurrency as i64)
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let hand_chains: Chains = Arc::new(
        live.into_iter()
            .map(|(id, counter)| std::sync::Mutex::new(format!("{id}.{counter}")))
            .collect(),
    );
    let (default_access, default_chains) = sessions(client, &default.base, args.concurrency).await;
    let (bare_access, bare_chains) = sessions(client, &bare.base, args.concurrency).await;
    let (no_caches_access, _) = sessions(client, &no_caches.base, 1).await;
    let hand = Server::start(
        &args.server.with_file_name("handwritten"),
        Some(db.url()),
        &[
            ("PUBLIC_KEY_X", &x),
            ("JWT_ISSUER", "server-example"),
            ("JWT_AUDIENCE", "server-example"),
            POOL,
        ],
    );
    wait_ready(client, &hand.base).await;

    fn side(server: &Server, make: MakeRequest) -> Side<'_> {
        Side {
            pid: server.child.id(),
            base: &server.base,
            make,
            on_reply: None,
        }
    }
    fn refresh_side(server: &Server, chains: Chains) -> Side<'_> {
        let (make, follow) = refresh_requests(chains);
        Side {
            on_reply: Some(follow),
            ..side(server, make)
        }
    }
    let hand_me = || side(&hand, get("/users/me", Some(hand_access.clone())));
    let (hand_make, hand_follow) = refresh_requests(hand_chains);
    let hand_refresh = || Side {
        on_reply: Some(hand_follow.clone()),
        ..side(&hand, hand_make.clone())
    };
    let wanted = |what: &str| args.only.as_deref().is_none_or(|o| what.contains(o));
    let mut rows = Vec::new();
    if wanted("GET /healthz") {
        let healthz = paired(
            args,
            client,
            side(&bare, get("/healthz", None)),
            side(&hand, get("/healthz", None)),
        )
        .await;
        rows.push(("GET /healthz", healthz, 0.8));
    }
    for (what, ours) in [
        (
            "GET /users/me, session cache on",
            side(&default, get("/users/me", Some(default_access))),
        ),
        (
            "GET /users/me, no session cache",
            side(&bare, get("/users/me", Some(bare_access))),
        ),
        (
            "GET /users/me, no session cache, no verified-token cache",
            side(&no_caches, get("/users/me", Some(no_caches_access))),
        ),
    ] {
        if wanted(what) {
            rows.push((what, paired(args, client, ours, hand_me()).await, 1.0));
        }
    }
    for (what, ours) in [
        (
            "POST /auth/refresh, per-address limit on",
            refresh_side(&default, default_chains),
        ),
        (
            "POST /auth/refresh, no per-address limit",
            refresh_side(&bare, bare_chains),
        ),
    ] {
        if wanted(what) {
            rows.push((what, paired(args, client, ours, hand_refresh()).await, 1.0));
        }
    }
    rows
}

/// `GET /users/me` and refresh on a fresh server over `database_url` with `env`.
async fn me_and_refresh(
    args: &Args,
    client: &reqwest::Client,
    database_url: &str,
    env: &[(&str, &str)],
) -> (Stats, Stats) {
    let server = Server::start(&args.server, Some(database_url), env);
    wait_ready(client, &server.base).await;
    let (access, chains) = sessions(client, &server.base, args.concurrency).await;
    let me = run(
        client,
        &server.base,
        args.concurrency,
        args.requests,
        args.time_limit,
        get("/users/me", Some(access)),
        None,
    )
    .await;
    let refresh = refreshes(client, &server.base, args, chains).await;
    (me, refresh)
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    for m in args.modes.clone() {
        mode(&args, &m).await;
    }
}
