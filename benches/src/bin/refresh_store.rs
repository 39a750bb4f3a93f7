//! Refresh rotations through `PgStore` alone (no HTTP, no signing), from concurrent
//! clients each following its own session, against `pgbench` running a one-row
//! `UPDATE ... RETURNING` per client on the same database right after.
//!
//! Three ways, each for the same time:
//! - `limit in the rotation`: `refresh_session` with the per-address key in
//!   `RefreshRequest::limit` (what `AuthService::refresh` does), one address per
//!   client;
//! - `reserve, then rotate`: `reserve_attempt` and then `refresh_session`, two
//!   statements, one address per client;
//! - `no limit`: `refresh_session` alone.
//!
//! `cargo run --release -p benches --bin refresh_store -- [clients] [seconds]`
//! (default 16 clients, 5 s each).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auth_core::store::{
    AccountStore, AttemptKey, AttemptLimit, AttemptStore, RefreshOutcome, RefreshRequest,
    ReusePolicy, SessionStore,
};
use auth_core::testkit::prelude::{new_session, new_user};
use benches::pgbench;
use storage_postgres::testing::TestDatabase;
use storage_postgres::{PgStore, PoolSettings};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Way {
    LimitInRotation,
    ReserveThenRotate,
    NoLimit,
}

const LIMIT: AttemptLimit = AttemptLimit {
    max: 1_000_000_000,
    window: time::Duration::MINUTE,
    base_delay: time::Duration::MINUTE,
};

async fn run(store: &PgStore, sessions: &[Uuid], way: Way, secs: u64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let tasks: Vec<_> = sessions
        .iter()
        .enumerate()
        .map(|(i, &session_id)| {
            let (store, done) = (store.clone(), done.clone());
            tokio::spawn(async move {
                let key = format!("refresh:ip:10.0.{}.{}", i / 256, i % 256);
                let current = store
                    .session(session_id)
                    .await
                    .expect("read")
                    .expect("session");
                let mut counter = current.counter;
                while Instant::now() < deadline {
                    let now = OffsetDateTime::now_utc();
                    if way == Way::ReserveThenRotate {
                        store
                            .reserve_attempt(&key, LIMIT, now)
                            .await
                            .expect("reserve");
                    }
                    let request = RefreshRequest {
                        session_id,
                        counter,
                        now,
                        reuse_grace: time::Duration::seconds(10),
                        idle_timeout: time::Duration::days(7),
                        reuse_policy: ReusePolicy::RevokeUser,
                        limit: (way == Way::LimitInRotation).then(|| AttemptKey {
                            key: key.clone(),
                            limit: LIMIT,
                        }),
                        reuse_audit: None,
                    };
                    match store.refresh_session(request).await.expect("refresh") {
                        RefreshOutcome::Rotated { session, .. } => counter = session.counter,
                        other => panic!("{way:?}: {other:?}"),
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("client");
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let clients: usize = args.next().map_or(16, |a| a.parse().expect("clients"));
    let secs: u64 = args.next().map_or(5, |a| a.parse().expect("seconds"));
    let db = TestDatabase::create(1).await;
    let settings = PoolSettings {
        max_connections: u32::try_from(clients).expect("clients"),
        session_cache: None,
        ..PoolSettings::default()
    };
    let store = PgStore::connect_with(db.url(), settings)
        .await
        .expect("connect");
    let now = OffsetDateTime::now_utc();
    let user = store
        .create_user(new_user("bench", None))
        .await
        .expect("user");
    let mut sessions = Vec::new();
    for _ in 0..clients {
        let session = new_session(user.id, now);
        sessions.push(session.id);
        store.create_session(session, 0).await.expect("session");
    }
    let mut rows = Vec::new();
    for way in [Way::LimitInRotation, Way::ReserveThenRotate, Way::NoLimit] {
        rows.push((way, run(&store, &sessions, way, secs).await));
    }
    let url = db.url().split('?').next().unwrap_or_default().to_owned();
    let update = pgbench::one_row_update(&url, u32::try_from(clients).expect("clients"));
    println!(
        "\n### Refresh through PgStore ({clients} clients, one address each, {secs} s per way)\n"
    );
    println!("| way | rotations/s | ratio to pgbench one-row UPDATE ... RETURNING |");
    println!("|---|---|---|");
    for (way, rps) in rows {
        let ratio = update.map_or("-".into(), |u| format!("{:.2}x", rps / u));
        println!("| {way:?} | {rps:.0} | {ratio} |");
    }
    match update {
        Some(u) => {
            println!("\npgbench ({clients} clients): one-row UPDATE ... RETURNING {u:.0} tps")
        }
        None => println!("\npgbench baseline: not measured (pgbench or psql missing)"),
    }
    drop(store);
    db.drop_database().await;
}
