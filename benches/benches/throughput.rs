//! Throughput on Postgres with N concurrent tasks: each library path against the bare
//! SQL it is built on, same pool, same concurrency, measured alternately in one run.
//!
//! `cargo bench -p benches --bench throughput`; `BENCH_SECS` (default 3) per round,
//! `BENCH_TASKS` (default 16). Results also go to `target/bench-throughput.json`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auth_core::{AuthConfig, AuthService, ClientInfo, Key, KeySet, RefreshSecret};
use exchange_core::ExchangeService;
use serde_json::json;
use sqlx::PgPool;
use storage_postgres::testing::TestDatabase;
use uuid::Uuid;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `tasks` copies of `op` for `secs` and returns operations per second.
async fn ops_per_sec<F, Fut>(tasks: usize, secs: u64, op: F) -> f64
where
    F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = ()> + Send,
{
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let handles: Vec<_> = (0..tasks)
        .map(|i| {
            let op = op.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    op(i, n).await;
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    let started = Instant::now();
    for h in handles {
        h.await.expect("bench task");
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

struct Row {
    path: &'static str,
    baseline: &'static str,
    base_ops: f64,
    ours_ops: f64,
    target: f64,
}

/// Two alternating rounds each, best of two, to damp the machine's noise.
async fn compare<B, BF, O, OF>(tasks: usize, secs: u64, base: B, ours: O) -> (f64, f64)
where
    B: Fn(usize, u64) -> BF + Send + Sync + Clone + 'static,
    BF: Future<Output = ()> + Send,
    O: Fn(usize, u64) -> OF + Send + Sync + Clone + 'static,
    OF: Future<Output = ()> + Send,
{
    let mut b = 0f64;
    let mut o = 0f64;
    for _ in 0..2 {
        b = b.max(ops_per_sec(tasks, secs, base.clone()).await);
        o = o.max(ops_per_sec(tasks, secs, ours.clone()).await);
    }
    (b, o)
}

const ROTATE_SQL: &str = "UPDATE sessions s SET counter = s.counter + 1, last_refreshed_at = now() \
     FROM users u WHERE s.id = $1 AND s.counter = $2 AND NOT s.revoked AND s.expires_at > now() \
       AND s.last_refreshed_at > now() - interval '7 days' AND u.id = s.user_id AND u.status = 'active' \
     RETURNING s.id, s.user_id, s.counter, s.created_at, s.last_refreshed_at, s.expires_at, s.revoked, \
       host(s.ip) AS ip, s.user_agent, \
       ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = s.user_id ORDER BY r.role) AS roles";

const CANDIDATES_SQL: &str = "SELECT true AS is_currency, c.id, c.name, c.code, c.sign, \
        NULL::text AS target, NULL::numeric AS rate \
     FROM currencies c WHERE c.code IN ($1, $2) \
     UNION ALL \
     SELECT false, r.id, NULL, b.code, NULL, t.code, r.rate FROM exchange_rates r \
     JOIN currencies b ON b.id = r.base_currency_id JOIN currencies t ON t.id = r.target_currency_id \
     WHERE b.code = ANY($3) AND t.code = ANY($3)";

/// Each task rotates its own refresh token chain through `auth`.
fn refresh_loop(
    auth: Arc<AuthService>,
    chains: Arc<Vec<tokio::sync::Mutex<String>>>,
) -> impl Fn(usize, u64) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
+ Send
+ Sync
+ Clone
+ 'static {
    move |i: usize, _n: u64| {
        let (a, ch) = (auth.clone(), chains.clone());
        Box::pin(async move {
            let mut token = ch[i].lock().await;
            *token = a
                .refresh(&token, &ClientInfo::default())
                .await
                .unwrap()
                .refresh_token;
        })
    }
}

/// [`refresh_loop`] over `store` with a key of its own: `tasks` sessions of the bench
/// user, registered first when `register`.
async fn refresh_chains(
    store: storage_postgres::PgStore,
    secret: &RefreshSecret,
    tasks: usize,
    register: bool,
) -> impl Fn(usize, u64) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
+ Send
+ Sync
+ Clone
+ 'static {
    let auth = Arc::new(
        AuthService::new(
            Arc::new(store),
            KeySet::new(Key::generate_ed25519().unwrap(), [], "iss", "aud", 5).unwrap(),
            secret,
            AuthConfig::default(),
        )
        .unwrap(),
    );
    if register {
        benches::register_user(&auth).await;
    }
    let mut chains = Vec::new();
    for _ in 0..tasks {
        chains.push(tokio::sync::Mutex::new(
            benches::login(&auth).await.refresh_token,
        ));
    }
    refresh_loop(auth, Arc::new(chains))
}

#[tokio::main]
async fn main() {
    let secs = env_u64("BENCH_SECS", 3);
    let tasks = env_u64("BENCH_TASKS", 16) as usize;
    let db = TestDatabase::create(tasks as u32).await;
    // Straight to Postgres, whatever DATABASE_POOLER_URL says.
    let settings = storage_postgres::PoolSettings {
        max_connections: tasks as u32,
        ..storage_postgres::PoolSettings::default()
    };
    let store = storage_postgres::PgStore::connect_with(db.url(), settings)
        .await
        .unwrap();
    let pool: PgPool = store.pool().clone();
    let keys = KeySet::new(Key::generate_ed25519().unwrap(), [], "iss", "aud", 5).unwrap();
    let secret = RefreshSecret::generate();
    let auth = Arc::new(
        AuthService::new(
            Arc::new(store.clone()),
            keys.clone(),
            &secret,
            AuthConfig::default(),
        )
        .unwrap(),
    );
    let uncached = Arc::new(
        AuthService::new(
            Arc::new(store.clone()),
            keys,
            &secret,
            AuthConfig {
                verified_token_cache: 0,
                ..AuthConfig::default()
            },
        )
        .unwrap(),
    );
    benches::register_user(&auth).await;
    let mut pairs = Vec::new();
    for _ in 0..tasks * 2 {
        pairs.push(benches::login(&auth).await);
    }
    let session_of = |t: &str| auth.verify(t).unwrap().sid;
    let mut rows = Vec::new();

    // Refresh rotation: half the sessions for the bare UPDATE, half for the library.
    let raw_sessions: Arc<Vec<Uuid>> = Arc::new(
        pairs[..tasks]
            .iter()
            .map(|p| session_of(&p.access_token))
            .collect(),
    );
    let chains: Arc<Vec<tokio::sync::Mutex<String>>> = Arc::new(
        pairs[tasks..]
            .iter()
            .map(|p| tokio::sync::Mutex::new(p.refresh_token.clone()))
            .collect(),
    );
    let counters: Arc<Vec<AtomicU64>> = Arc::new((0..tasks).map(|_| AtomicU64::new(0)).collect());
    let (p, s, c) = (pool.clone(), raw_sessions.clone(), counters.clone());
    let base = move |i: usize, _n: u64| {
        let (p, s, c) = (p.clone(), s.clone(), c.clone());
        async move {
            let counter = c[i].load(Ordering::Relaxed) as i64;
            let row = sqlx::query(ROTATE_SQL)
                .bind(s[i])
                .bind(counter)
                .fetch_optional(&p)
                .await
                .unwrap();
            assert!(row.is_some(), "bare rotation must succeed");
            c[i].fetch_add(1, Ordering::Relaxed);
        }
    };
    let ours = refresh_loop(auth.clone(), chains.clone());
    let (b, o) = compare(tasks, secs, base, ours.clone()).await;
    rows.push(Row {
        path: "refresh rotation (AuthService::refresh)",
        baseline: "bare UPDATE ... RETURNING",
        base_ops: b,
        ours_ops: o,
        target: 0.5,
    });

    // The same store sharing an application's pool (no search_path), its tables in a
    // schema that is not the default: every statement runs renamed.
    // Pooled as the store pools its own (no ping before each use), so the two rows
    // differ only in how the statements name their tables.
    let app_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(tasks as u32)
        .test_before_acquire(false)
        .connect(db.url())
        .await
        .unwrap();
    let shared = storage_postgres::PgStore::in_schema(app_pool, "shop_auth").unwrap();
    shared.migrate().await.unwrap();
    let in_schema = refresh_chains(shared, &secret, tasks, true).await;
    let (b, o) = compare(tasks, secs, ours.clone(), in_schema).await;
    rows.push(Row {
        path: "refresh rotation, store in the application's pool (PgStore::in_schema)",
        baseline: "the same on the store's own pool",
        base_ops: b,
        ours_ops: o,
        target: 0.95,
    });

    // The store in transaction-pooler mode (statements unnamed, each in a transaction),
    // straight to Postgres: what the mode costs per refresh against the default mode.
    // With DATABASE_POOLER_URL set (a PgBouncer in transaction mode, see
    // tests/pgbouncer/run.sh), also through that pooler.
    let direct_url = db.url().to_owned();
    let mut modes = vec![(
        "refresh rotation, transaction-pooler mode, straight to Postgres",
        direct_url.clone(),
    )];
    if let Some(url) = db.pooled_url() {
        modes.push((
            "refresh rotation, transaction-pooler mode, through PgBouncer",
            url.to_owned(),
        ));
    }
    for (path, url) in modes {
        let settings = storage_postgres::PoolSettings {
            max_connections: tasks as u32,
            pooler: storage_postgres::Pooler::Transaction {
                direct_url: direct_url.clone(),
            },
            ..storage_postgres::PoolSettings::default()
        };
        let pooled = storage_postgres::PgStore::connect_with(&url, settings)
            .await
            .unwrap();
        let pooled_loop = refresh_chains(pooled, &secret, tasks, false).await;
        let (b, o) = compare(tasks, secs, ours.clone(), pooled_loop).await;
        rows.push(Row {
            path,
            baseline: "the same in the default mode",
            base_ops: b,
            ours_ops: o,
            target: 0.5,
        });
    }

    // authenticate: one indexed read plus signature check, vs a bare primary-key SELECT.
    let mut tokens = Vec::new();
    for _ in 0..tasks {
        tokens.push(benches::login(&auth).await.access_token);
    }
    let access: Arc<Vec<String>> = Arc::new(tokens);
    let sids: Arc<Vec<Uuid>> = Arc::new(access.iter().map(|t| session_of(t)).collect());
    let (p, s) = (pool.clone(), sids.clone());
    let base = move |i: usize, _n: u64| {
        let (p, s) = (p.clone(), s.clone());
        async move {
            let _: (Uuid,) = sqlx::query_as("SELECT user_id FROM sessions WHERE id = $1")
                .bind(s[i])
                .fetch_one(&p)
                .await
                .unwrap();
        }
    };
    let (a, t) = (auth.clone(), access.clone());
    let ours = move |i: usize, _n: u64| {
        let (a, t) = (a.clone(), t.clone());
        async move {
            a.authenticate(&t[i]).await.unwrap();
        }
    };
    let (b, o) = compare(tasks, secs, base.clone(), ours).await;
    rows.push(Row {
        path: "authenticate (Postgres)",
        baseline: "bare primary-key SELECT",
        base_ops: b,
        ours_ops: o,
        target: 0.7,
    });
    // The same without the verified-token cache: every call checks the signature.
    let (a, t) = (uncached.clone(), access.clone());
    let ours = move |i: usize, _n: u64| {
        let (a, t) = (a.clone(), t.clone());
        async move {
            a.authenticate(&t[i]).await.unwrap();
        }
    };
    let (b, o) = compare(tasks, secs, base.clone(), ours).await;
    rows.push(Row {
        path: "authenticate (Postgres), token cache off",
        baseline: "bare primary-key SELECT",
        base_ops: b,
        ours_ops: o,
        target: 0.7,
    });
    // With API keys (one per task), through the same cache as sessions.
    let mut keys = Vec::new();
    for i in 0..tasks {
        keys.push(benches::api_key(&auth, &format!("bench-{i}")).await);
    }
    let (a, k) = (auth.clone(), Arc::new(keys));
    let ours = move |i: usize, _n: u64| {
        let (a, k) = (a.clone(), k.clone());
        async move {
            a.authenticate(&k[i]).await.unwrap();
        }
    };
    let (b, o) = compare(tasks, secs, base, ours).await;
    rows.push(Row {
        path: "authenticate (Postgres), API key",
        baseline: "bare primary-key SELECT",
        base_ops: b,
        ours_ops: o,
        target: 0.7,
    });

    // Conversion through PgStore (cross rate, the longest path) vs the bare candidates query.
    let exchange = Arc::new(ExchangeService::new(Arc::new(store.clone())));
    for code in ["USD", "EUR", "GBP", "JPY"] {
        exchange.add_currency(code, code, "$").await.unwrap();
    }
    for (t, r) in [("EUR", "0.92"), ("GBP", "0.79"), ("JPY", "151.3")] {
        exchange.add_rate("USD", t, r).await.unwrap();
    }
    let p = pool.clone();
    let base = move |_i: usize, _n: u64| {
        let p = p.clone();
        async move {
            let rows = sqlx::query(CANDIDATES_SQL)
                .bind("EUR")
                .bind("GBP")
                .bind(["EUR", "GBP", "USD"])
                .fetch_all(&p)
                .await
                .unwrap();
            assert_eq!(rows.len(), 4);
        }
    };
    let e = exchange.clone();
    let ours = move |_i: usize, _n: u64| {
        let e = e.clone();
        async move {
            e.convert("EUR", "GBP", "10").await.unwrap();
        }
    };
    let (b, o) = compare(tasks, secs, base, ours).await;
    rows.push(Row {
        path: "convert cross (PgStore)",
        baseline: "bare candidate-rates query",
        base_ops: b,
        ours_ops: o,
        target: 0.7,
    });

    println!("\nthroughput on Postgres, {tasks} tasks, pool {tasks}, best of 2 rounds x {secs}s\n");
    println!("| path | baseline | baseline ops/s | ours ops/s | ratio | target | met |");
    println!("|---|---|---|---|---|---|---|");
    let mut out = Vec::new();
    for r in &rows {
        let ratio = r.ours_ops / r.base_ops;
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.2}x | >= {:.2}x | {} |",
            r.path,
            r.baseline,
            r.base_ops,
            r.ours_ops,
            ratio,
            r.target,
            if ratio >= r.target { "yes" } else { "no" }
        );
        out.push(json!({"path": r.path, "baseline": r.baseline, "baseline_ops": r.base_ops, "ours_ops": r.ours_ops, "ratio": ratio, "target": r.target}));
    }
    let target_dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let _ = std::fs::write(
        format!("{target_dir}/bench-throughput.json"),
        serde_json::to_string_pretty(&out).unwrap(),
    );
    db.drop_database().await;
}
