//! Dated rates on Postgres: importing 25 years of daily rates of 30 currencies (about
//! 196,000 observations) through `ExchangeStore::record_rates` (one `INSERT ... SELECT
//! FROM UNNEST ... ON CONFLICT DO NOTHING`) against a `COPY` of the same rows into the
//! same empty table, rounds interleaved; then a conversion as of a day
//! (`ExchangeService::convert_at`, one statement) over that history against the
//! hand-written single-pair lookup it contains.
//!
//! `cargo run --release -p benches --bin rate_import -- [rounds] [lookups]`
//! (default 3 rounds, 2000 lookups).

use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use exchange_core::source::RateObservation;
use exchange_core::{ExchangeService, ExchangeStore};
use sqlx::PgPool;
use storage_postgres::testing::TestDatabase;
use time::OffsetDateTime;

const COLUMNS: &str = "rate_observations (base, target, as_of, source, rate, recorded_at)";

async fn empty(pool: &PgPool) {
    sqlx::query("TRUNCATE rate_observations")
        .execute(pool)
        .await
        .expect("truncate");
}

async fn copy(pool: &PgPool, rows: &[RateObservation], at: OffsetDateTime) {
    let recorded = at
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    let mut text = String::with_capacity(rows.len() * 64);
    for o in rows {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{recorded}",
            o.base,
            o.target,
            o.as_of,
            o.source,
            o.rate.value()
        );
    }
    let mut conn = pool.acquire().await.expect("connection");
    let mut sink = conn
        .copy_in_raw(&format!("COPY {COLUMNS} FROM STDIN"))
        .await
        .expect("copy");
    sink.send(text.into_bytes()).await.expect("send");
    sink.finish().await.expect("finish");
}

fn per_second(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let lookups: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let db = TestDatabase::create(2).await;
    let store = db.store();
    let pool = store.pool().clone();
    let history = benches::history::ecb_history(25);
    let n = history.len();
    println!("{n} observations, {rounds} rounds");
    let (mut ours, mut baseline) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let at = OffsetDateTime::now_utc();
        empty(&pool).await;
        let started = Instant::now();
        copy(&pool, &history, at).await;
        let took_copy = started.elapsed();
        empty(&pool).await;
        let started = Instant::now();
        let new = store
            .record_rates(history.clone(), at)
            .await
            .expect("import");
        let took_ours = started.elapsed();
        assert_eq!(new as usize, n);
        // Again: nothing new, nothing changed.
        let again = Instant::now();
        assert_eq!(
            store
                .record_rates(history.clone(), at)
                .await
                .expect("again"),
            0
        );
        let took_again = again.elapsed();
        println!(
            "round {round}: COPY {took_copy:.2?} ({:.0}/s), record_rates {took_ours:.2?} ({:.0}/s) = {:.2}x of COPY; the same batch again {took_again:.2?}",
            per_second(n, took_copy),
            per_second(n, took_ours),
            took_copy.as_secs_f64() / took_ours.as_secs_f64(),
        );
        ours.push(took_ours.as_secs_f64());
        baseline.push(took_copy.as_secs_f64());
    }
    let total = |v: &[f64]| v.iter().sum::<f64>();
    println!(
        "import: {:.2}x of COPY over {rounds} rounds",
        total(&baseline) / total(&ours)
    );

    sqlx::query("ANALYZE rate_observations")
        .execute(&pool)
        .await
        .expect("analyze");
    let eur = exchange_core::CurrencyCode::parse("EUR").expect("code");
    let svc =
        ExchangeService::new(Arc::new(store.clone()) as Arc<dyn ExchangeStore>).with_pivot(eur);
    let first = time::macros::date!(2000 - 01 - 10);
    let day = |i: usize| first + time::Duration::days((i * 37 % 9000) as i64);
    for _ in 0..2 {
        let started = Instant::now();
        for i in 0..lookups {
            sqlx::query_scalar::<_, exchange_core::rust_decimal::Decimal>(
                "SELECT rate FROM rate_observations WHERE base = 'EUR' AND target = 'USD' \
                 AND as_of <= $1 ORDER BY as_of DESC, recorded_at DESC, source LIMIT 1",
            )
            .bind(day(i))
            .fetch_one(&pool)
            .await
            .expect("lookup");
        }
        let took_lookup = started.elapsed();
        let started = Instant::now();
        for i in 0..lookups {
            svc.convert_at("USD", "JPY", "10", day(i), None)
                .await
                .expect("convert");
        }
        let took_convert = started.elapsed();
        println!(
            "as of a day, {lookups} sequential calls: one-pair lookup {:.0} us, convert_at (cross, all six pairs and the minor units in one statement) {:.0} us = {:.2}x",
            took_lookup.as_secs_f64() * 1e6 / lookups as f64,
            took_convert.as_secs_f64() * 1e6 / lookups as f64,
            took_convert.as_secs_f64() / took_lookup.as_secs_f64(),
        );
    }
}
