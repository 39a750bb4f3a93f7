//! [`AttemptStore`] of the [`PgStore`]: attempt counters, each decided by one statement.

use std::sync::LazyLock;

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::postgres::PgArguments;
use sqlx::{Arguments, Row};
use time::OffsetDateTime;

use super::*;
use crate::PgStore;

/// How many parameters [`reserve`] takes.
pub(super) const RESERVE_PARAMS: usize = 6;

/// Decides and counts one attempt in one statement: the row lock of the upsert
/// serialises concurrent attempts, and the WHERE sees the count each one left. The
/// lock expression is `AttemptLimit::lock_for` of the stored count. Returns the new
/// count, or no row when refused. Its [`RESERVE_PARAMS`] parameters are numbered
/// from `$first`, their values appended by [`reserve_args`]; a NULL key reserves
/// nothing.
pub(super) fn reserve(first: usize) -> String {
    let [key, now, cutoff, max, base, window] = std::array::from_fn(|i| format!("${}", first + i));
    format!(
        "INSERT INTO auth_exchange.auth_attempts AS a (key, attempts, window_start, last_attempt) \
         SELECT {key}, 1, {now}, {now} WHERE {key}::text IS NOT NULL \
         ON CONFLICT (key) DO UPDATE SET \
           attempts = CASE WHEN a.window_start <= {cutoff} THEN 1 \
                           ELSE LEAST(a.attempts, 2147483646) + 1 END, \
           window_start = CASE WHEN a.window_start <= {cutoff} THEN {now} ELSE a.window_start END, \
           last_attempt = {now} \
         WHERE a.window_start <= {cutoff} OR a.attempts < {max} \
            OR a.last_attempt + make_interval(secs => \
                 LEAST({base} * power(2, LEAST(a.attempts - {max}, 30)), {window})) <= {now} \
         RETURNING attempts"
    )
}

/// The reservation alone, its parameters from `$1`.
static RESERVE: LazyLock<String> = LazyLock::new(|| reserve(1));

/// Appends the values of [`reserve`]'s parameters, in order: the key (`None`
/// reserves nothing), `now`, the window's cutoff, `max`, the base delay and the
/// window in seconds.
pub(super) fn reserve_args(
    args: &mut PgArguments,
    key: Option<&str>,
    limit: AttemptLimit,
    now: OffsetDateTime,
) -> Result<()> {
    arg(args, key.map(str::to_owned))?;
    arg(args, now)?;
    arg(args, now - limit.window)?;
    arg(args, i32::try_from(limit.max).unwrap_or(i32::MAX))?;
    arg(args, limit.base_delay.as_seconds_f64())?;
    arg(args, limit.window.as_seconds_f64())
}

/// Appends one argument.
pub(super) fn arg<'q, T>(args: &mut PgArguments, value: T) -> Result<()>
where
    T: 'q + sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    args.add(value).map_err(StoreError::Backend)
}

impl PgStore {
    /// When a key that just refused at `now` grants again.
    pub(super) async fn refused_until(
        &self,
        key: &str,
        limit: AttemptLimit,
        now: OffsetDateTime,
    ) -> Result<OffsetDateTime> {
        let row = sqlx::query(&self.sql(
            "SELECT attempts, window_start, last_attempt FROM auth_exchange.auth_attempts WHERE key = $1",
        ))
        .bind(key)
        .fetch_optional(self.exec())
        .await
        .db()?;
        // Cleared between the two statements: the next attempt starts afresh.
        let Some(row) = row else {
            return Ok(now);
        };
        let count: i32 = row.try_get("attempts").db()?;
        let window_start: OffsetDateTime = row.try_get("window_start").db()?;
        let last_attempt: OffsetDateTime = row.try_get("last_attempt").db()?;
        let unlocked = last_attempt + limit.lock_for(u32::try_from(count).unwrap_or(0));
        Ok(unlocked.min(window_start + limit.window))
    }
}

#[async_trait]
impl AttemptStore for PgStore {
    async fn reserve_attempt(
        &self,
        key: &str,
        limit: AttemptLimit,
        now: OffsetDateTime,
    ) -> Result<Reservation> {
        let mut args = PgArguments::default();
        reserve_args(&mut args, Some(key), limit, now)?;
        let granted: Option<i32> = sqlx::query_scalar_with(&self.sql(&RESERVE), args)
            .fetch_optional(self.exec())
            .await
            .db()?;
        match granted {
            Some(count) => Ok(Reservation::Granted {
                count: u32::try_from(count).unwrap_or(0),
            }),
            None => Ok(Reservation::Refused {
                until: self.refused_until(key, limit, now).await?,
            }),
        }
    }

    async fn release_attempt(&self, key: &str) -> Result<()> {
        sqlx::query(&self.sql("UPDATE auth_exchange.auth_attempts SET attempts = GREATEST(attempts - 1, 0) WHERE key = $1"))
            .bind(key)
            .execute(self.exec())
            .await
            .db()?;
        Ok(())
    }

    async fn clear_attempts(&self, key: &str) -> Result<()> {
        sqlx::query(&self.sql("DELETE FROM auth_exchange.auth_attempts WHERE key = $1"))
            .bind(key)
            .execute(self.exec())
            .await
            .db()?;
        Ok(())
    }

    async fn purge_attempts(&self, before: OffsetDateTime) -> Result<u64> {
        self.purge("auth_attempts", "last_attempt", before).await
    }
}
