//! Whether a password reset request reveals, by its timing, that an account has the
//! address: `request_password_reset` on a `PgStore` for a known, verified address and
//! for an unknown one, interleaved, with the limits counting as in production.
//!
//! The answer counts the limits and hands storing the token and mailing it to the
//! background, for both alike; the known address's extra work (the token write and the
//! mail) happens after the answer. Reports each median and p90, their ratio, and, for
//! scale, the median of the token write the known address's answer no longer waits for.
//!
//! `cargo run --release -p benches --bin reset_timing -- [rounds]` (default 500).

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::store::{AccountStore, ResetStore};
use auth_core::testkit::prelude::verified_user;
use auth_core::{AuthConfig, AuthService, ClientInfo, Key, KeySet, RateLimit, RefreshSecret};
use storage_postgres::testing::TestDatabase;
use storage_postgres::{PgStore, PoolSettings};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(500, |r| r.parse().expect("a number of rounds"));
    let db = TestDatabase::create(4).await;
    let settings = PoolSettings {
        max_connections: 8,
        ..PoolSettings::default()
    };
    let store = Arc::new(
        PgStore::connect_with(db.url(), settings)
            .await
            .expect("connect"),
    );
    store
        .create_user(verified_user("known", "known@example.com"))
        .await
        .expect("user");
    let mut config = AuthConfig::default();
    let wide = RateLimit::new(1_000_000, time::Duration::hours(1));
    config.limits.reset_per_email = wide;
    config.limits.reset_per_ip = wide;
    let keys = KeySet::new(Key::generate_ed25519().unwrap(), [], "iss", "aud", 0).unwrap();
    let auth = AuthService::new(store.clone(), keys, &RefreshSecret::generate(), config).unwrap();
    let client = ClientInfo {
        ip: Some("192.0.2.1".parse().unwrap()),
        user_agent: None,
    };
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..rounds + 50 {
        // Each goes first every other round: the background work of one request then
        // overlaps the other's answer equally often.
        let mut pair = [
            ("known@example.com", &mut known),
            ("nobody@example.com", &mut unknown),
        ];
        if i % 2 == 1 {
            pair.reverse();
        }
        for (email, out) in pair {
            let start = Instant::now();
            auth.request_password_reset(email, &client).await.unwrap();
            if i >= 50 {
                out.push(start.elapsed());
            }
        }
    }
    let mut writes = Vec::new();
    let expires = time::OffsetDateTime::now_utc() + time::Duration::minutes(30);
    for _ in 0..rounds {
        let start = Instant::now();
        store
            .put_reset_token("known@example.com", &[7; 32], expires)
            .await
            .unwrap();
        writes.push(start.elapsed());
    }
    for v in [&mut known, &mut unknown, &mut writes] {
        v.sort();
    }
    let (k, u) = (percentile(&known, 0.5), percentile(&unknown, 0.5));
    println!("rounds: {rounds} of each, interleaved, after 50 of warm-up");
    println!(
        "known, verified address:  p50 {}  p90 {}",
        us(k),
        us(percentile(&known, 0.9))
    );
    println!(
        "unknown address:          p50 {}  p90 {}",
        us(u),
        us(percentile(&unknown, 0.9))
    );
    println!(
        "known / unknown (p50):    {:.2}",
        k.as_secs_f64() / u.as_secs_f64()
    );
    println!(
        "the token write, now after the answer: p50 {}",
        us(percentile(&writes, 0.5))
    );
    drop(auth);
    drop(store);
    db.drop_database().await;
}
