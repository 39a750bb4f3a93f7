//! How long a revocation on one instance takes to reach another instance's
//! session-status cache, with two `PgStore`s (two instances, each with its own cache
//! and listener) on one fresh database.
//!
//! Each round: a session is read twice on B (the second read from B's cache), revoked
//! on A, and B is polled until it answers revoked. The delay runs from A's revocation
//! returning (committed) to B's first revoked answer, which includes the one database
//! read B makes after dropping its entry. Reports p50, p99 and the worst round, next to
//! the database round trip of that same read without a cache.
//!
//! `cargo run --release -p benches --bin invalidation -- [rounds]` (default 1000).

use std::time::{Duration, Instant};

use auth_core::store::{AccountStore, SessionStore};
use auth_core::testkit::prelude::{new_session, new_user};
use storage_postgres::testing::TestDatabase;
use storage_postgres::{PgStore, PoolSettings, SessionCacheSettings};
use time::OffsetDateTime;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

async fn instance(url: &str, cache: bool) -> PgStore {
    let settings = PoolSettings {
        max_connections: 4,
        session_cache: cache.then(|| SessionCacheSettings {
            // Only notices may explain B dropping an entry.
            ttl: Duration::from_secs(3600),
            ..SessionCacheSettings::default()
        }),
        ..PoolSettings::default()
    };
    PgStore::connect_with(url, settings).await.expect("connect")
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(1000, |r| r.parse().expect("a number of rounds"));
    let db = TestDatabase::create(4).await;
    let (a, b, plain) = (
        instance(db.url(), true).await,
        instance(db.url(), true).await,
        instance(db.url(), false).await,
    );
    let start = Instant::now();
    while !b.session_cache_stats().expect("cache on").listening {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "B never listened"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let now = OffsetDateTime::now_utc();
    let user = a.create_user(new_user("bench", None)).await.expect("user");

    let (mut delays, mut reads) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let session = new_session(user.id, now);
        let sid = session.id;
        a.create_session(session, 0).await.expect("session");
        let t = Instant::now();
        plain
            .session_status(sid)
            .await
            .expect("read")
            .expect("found");
        reads.push(t.elapsed());
        b.session_status(sid).await.expect("read");
        let hits = b.session_cache_stats().expect("cache on").hits;
        let cached = b.session_status(sid).await.expect("read").expect("found");
        assert!(!cached.revoked);
        assert_eq!(b.session_cache_stats().expect("on").hits, hits + 1, "a hit");

        assert!(a.revoke_session(sid, None, None).await.expect("revoked"));
        let committed = Instant::now();
        loop {
            let status = b.session_status(sid).await.expect("read").expect("found");
            if status.revoked {
                break;
            }
            assert!(committed.elapsed() < Duration::from_secs(10), "notice lost");
            tokio::task::yield_now().await;
        }
        delays.push(committed.elapsed());
    }
    delays.sort_unstable();
    reads.sort_unstable();
    println!(
        "\n### Cross-instance invalidation ({rounds} revocations, two instances, one database)\n"
    );
    println!("| | p50 | p99 | worst |");
    println!("|---|---|---|---|");
    println!(
        "| revocation on A committed -> B answers revoked | {} | {} | {} |",
        us(percentile(&delays, 0.5)),
        us(percentile(&delays, 0.99)),
        us(*delays.last().expect("rounds"))
    );
    println!(
        "| one uncached `session_status` read (baseline) | {} | {} | {} |",
        us(percentile(&reads, 0.5)),
        us(percentile(&reads, 0.99)),
        us(*reads.last().expect("rounds"))
    );
    drop((a, b, plain));
    db.drop_database().await;
}
