//! `ExchangeStore` for `PgStore`.

use async_trait::async_trait;
use exchange_core::source::RateObservation;
use exchange_core::store::{
    ConversionCandidates, DatedCandidates, ExchangeStore, RateQuote, RecordedRate,
};
use exchange_core::{
    Currency, CurrencyCode, CurrencyPair, ExchangeRate, NewCurrency, Rate, StoreError,
};
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::{Date, OffsetDateTime};

use crate::PgStore;
use crate::error::exchange_error;

type Result<T> = std::result::Result<T, StoreError>;

trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(exchange_error)
    }
}

/// The columns of a rate `r` with its base `b` and target `t` currencies, as a literal
/// for `concat!`.
macro_rules! rate_select {
    () => {
        "r.id, r.rate, \
     b.id AS b_id, b.name AS b_name, b.code AS b_code, b.sign AS b_sign, \
     b.minor_units AS b_minor_units, \
     t.id AS t_id, t.name AS t_name, t.code AS t_code, t.sign AS t_sign, \
     t.minor_units AS t_minor_units"
    };
}

/// Joins a rate `r` to its base `b` and target `t` currencies, for `rate_select!`.
macro_rules! rate_joins {
    () => {
        "JOIN auth_exchange.currencies b ON b.id = r.base_currency_id \
     JOIN auth_exchange.currencies t ON t.id = r.target_currency_id"
    };
}

fn bad_data(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

fn code_from(row: &PgRow, col: &str) -> Result<CurrencyCode> {
    let raw: String = row.try_get(col).db()?;
    CurrencyCode::parse(&raw).map_err(bad_data)
}

fn currency_from(row: &PgRow, prefix: &str) -> Result<Currency> {
    Ok(Currency {
        id: row.try_get(format!("{prefix}id").as_str()).db()?,
        name: row.try_get(format!("{prefix}name").as_str()).db()?,
        code: code_from(row, &format!("{prefix}code"))?,
        sign: row.try_get(format!("{prefix}sign").as_str()).db()?,
        minor_units: u32::try_from(
            row.try_get::<i16, _>(format!("{prefix}minor_units").as_str())
                .db()?,
        )
        .map_err(bad_data)?,
    })
}

fn recorded_from(row: &PgRow) -> Result<RecordedRate> {
    let rate: Decimal = row.try_get("rate").db()?;
    Ok(RecordedRate {
        observation: RateObservation {
            base: code_from(row, "base")?,
            target: code_from(row, "target")?,
            rate: Rate::new(rate.normalize()).map_err(bad_data)?,
            as_of: row.try_get("as_of").db()?,
            source: row.try_get("source").db()?,
        },
        recorded_at: row.try_get("recorded_at").db()?,
    })
}

fn rate_from(row: &PgRow) -> Result<ExchangeRate> {
    let rate: Decimal = row.try_get("rate").db()?;
    Ok(ExchangeRate {
        id: row.try_get("id").db()?,
        base_currency: currency_from(row, "b_")?,
        target_currency: currency_from(row, "t_")?,
        rate: rate.normalize(),
    })
}

#[async_trait]
impl ExchangeStore for PgStore {
    async fn list_currencies(&self) -> Result<Vec<Currency>> {
        let rows = sqlx::query(&self.sql(
            "SELECT id, name, code, sign, minor_units FROM auth_exchange.currencies ORDER BY id",
        ))
        .fetch_all(self.exec())
        .await
        .db()?;
        rows.iter().map(|r| currency_from(r, "")).collect()
    }

    async fn currency(&self, code: CurrencyCode) -> Result<Option<Currency>> {
        let row =
            sqlx::query(&self.sql("SELECT id, name, code, sign, minor_units FROM auth_exchange.currencies WHERE code = $1"))
                .bind(code.as_str())
                .fetch_optional(self.exec())
                .await
                .db()?;
        row.as_ref().map(|r| currency_from(r, "")).transpose()
    }

    async fn add_currency(&self, c: NewCurrency) -> Result<Currency> {
        let row = sqlx::query(&self.sql(
            "INSERT INTO auth_exchange.currencies (code, name, sign, minor_units) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, code, sign, minor_units",
        ))
        .bind(c.code.as_str())
        .bind(&c.name)
        .bind(&c.sign)
        .bind(i16::try_from(c.minor_units).map_err(bad_data)?)
        .fetch_one(self.exec())
        .await
        .db()?;
        currency_from(&row, "")
    }

    async fn delete_currency(&self, code: CurrencyCode) -> Result<()> {
        let n = sqlx::query(&self.sql("DELETE FROM auth_exchange.currencies WHERE code = $1"))
            .bind(code.as_str())
            .execute(self.exec())
            .await
            .db()?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::CurrencyNotFound);
        }
        Ok(())
    }

    async fn list_rates(&self) -> Result<Vec<ExchangeRate>> {
        let rows = sqlx::query(&self.sql(concat!(
            "SELECT ",
            rate_select!(),
            " FROM auth_exchange.exchange_rates r \
             ",
            rate_joins!(),
            " ORDER BY r.id"
        )))
        .fetch_all(self.exec())
        .await
        .db()?;
        rows.iter().map(rate_from).collect()
    }

    async fn rate(&self, pair: CurrencyPair) -> Result<Option<ExchangeRate>> {
        let row = sqlx::query(&self.sql(concat!(
            "SELECT ",
            rate_select!(),
            " FROM auth_exchange.exchange_rates r \
             ",
            rate_joins!(),
            " \
             WHERE b.code = $1 AND t.code = $2"
        )))
        .bind(pair.base.as_str())
        .bind(pair.target.as_str())
        .fetch_optional(self.exec())
        .await
        .db()?;
        row.as_ref().map(rate_from).transpose()
    }

    async fn add_rate(&self, pair: CurrencyPair, rate: Rate) -> Result<ExchangeRate> {
        let row = sqlx::query(&self.sql(concat!("WITH r AS ( \
               INSERT INTO auth_exchange.exchange_rates (base_currency_id, target_currency_id, rate) \
               SELECT b.id, t.id, $3 FROM auth_exchange.currencies b, auth_exchange.currencies t \
               WHERE b.code = $1 AND t.code = $2 \
               RETURNING id, base_currency_id, target_currency_id, rate) \
             SELECT ", rate_select!(), " FROM r \
             ", rate_joins!())))
        .bind(pair.base.as_str())
        .bind(pair.target.as_str())
        .bind(rate.value())
        .fetch_optional(self.exec())
        .await
        .db()?;
        // No row inserted means one of the currencies is missing.
        row.as_ref()
            .map(rate_from)
            .transpose()?
            .ok_or(StoreError::CurrencyNotFound)
    }

    async fn update_rate(&self, pair: CurrencyPair, rate: Rate) -> Result<ExchangeRate> {
        let row = sqlx::query(&self.sql(concat!("WITH r AS ( \
               UPDATE auth_exchange.exchange_rates x SET rate = $3 FROM auth_exchange.currencies b, auth_exchange.currencies t \
               WHERE b.code = $1 AND t.code = $2 \
                 AND x.base_currency_id = b.id AND x.target_currency_id = t.id \
               RETURNING x.id, x.base_currency_id, x.target_currency_id, x.rate) \
             SELECT ", rate_select!(), " FROM r \
             ", rate_joins!())))
        .bind(pair.base.as_str())
        .bind(pair.target.as_str())
        .bind(rate.value())
        .fetch_optional(self.exec())
        .await
        .db()?;
        row.as_ref()
            .map(rate_from)
            .transpose()?
            .ok_or(StoreError::RateNotFound)
    }

    async fn delete_rate(&self, pair: CurrencyPair) -> Result<()> {
        let n = sqlx::query(&self.sql(
            "DELETE FROM auth_exchange.exchange_rates x USING auth_exchange.currencies b, auth_exchange.currencies t \
             WHERE b.code = $1 AND t.code = $2 \
               AND x.base_currency_id = b.id AND x.target_currency_id = t.id",
        ))
        .bind(pair.base.as_str())
        .bind(pair.target.as_str())
        .execute(self.exec())
        .await
        .db()?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::RateNotFound);
        }
        Ok(())
    }

    async fn record_rates(
        &self,
        batch: Vec<RateObservation>,
        recorded_at: OffsetDateTime,
    ) -> Result<u64> {
        // One statement for the batch; a key recorded before, or twice in the batch,
        // is skipped.
        let mut columns = (vec![], vec![], vec![], vec![], vec![]);
        for o in &batch {
            columns.0.push(o.base.as_str().to_owned());
            columns.1.push(o.target.as_str().to_owned());
            columns.2.push(o.as_of);
            columns.3.push(o.source.clone());
            columns.4.push(o.rate.value());
        }
        Ok(sqlx::query(&self.sql(
            "INSERT INTO auth_exchange.rate_observations (base, target, as_of, source, rate, recorded_at) \
             SELECT b, t, d, s, r, $6 \
             FROM UNNEST($1::text[], $2::text[], $3::date[], $4::text[], $5::numeric[]) \
                  AS batch (b, t, d, s, r) \
             ON CONFLICT DO NOTHING",
        ))
        .bind(&columns.0)
        .bind(&columns.1)
        .bind(&columns.2)
        .bind(&columns.3)
        .bind(&columns.4)
        .bind(recorded_at)
        .execute(self.exec())
        .await
        .db()?
        .rows_affected())
    }

    async fn rates_as_of(
        &self,
        from: CurrencyCode,
        to: CurrencyCode,
        pivot: CurrencyCode,
        at: Date,
    ) -> Result<DatedCandidates> {
        // One statement: for each ordered pair among the three codes, its latest
        // observation on or before the day (one backward step of the primary key per
        // pair, however long the history), and the target's minor units.
        let rows = sqlx::query(&self.sql(
            "SELECT false AS is_units, o.base, o.target, o.as_of, o.source, o.rate, \
                    o.recorded_at, NULL::smallint AS minor_units \
             FROM (SELECT DISTINCT unnest($1::text[]) AS code) b \
             CROSS JOIN (SELECT DISTINCT unnest($1::text[]) AS code) t \
             CROSS JOIN LATERAL (SELECT * FROM auth_exchange.rate_observations r \
                   WHERE r.base = b.code AND r.target = t.code AND r.as_of <= $2 \
                   ORDER BY r.as_of DESC, r.recorded_at DESC, r.source LIMIT 1) o \
             WHERE b.code <> t.code \
             UNION ALL \
             SELECT true, NULL, NULL, NULL, NULL, NULL, NULL, c.minor_units \
             FROM auth_exchange.currencies c WHERE c.code = $3",
        ))
        .bind([from.as_str(), to.as_str(), pivot.as_str()])
        .bind(at)
        .bind(to.as_str())
        .fetch_all(self.exec())
        .await
        .db()?;
        let mut out = DatedCandidates::default();
        for row in &rows {
            if row.try_get("is_units").db()? {
                let units: i16 = row.try_get("minor_units").db()?;
                out.to_minor_units = Some(u32::try_from(units).map_err(bad_data)?);
            } else {
                out.rates.push(recorded_from(row)?);
            }
        }
        Ok(out)
    }

    async fn rates_by_day(&self, since: Option<Date>) -> Result<Vec<RecordedRate>> {
        let rows = sqlx::query(&self.sql(
            "SELECT DISTINCT ON (base, target, as_of) \
                    base, target, as_of, source, rate, recorded_at \
             FROM auth_exchange.rate_observations WHERE $1::date IS NULL OR as_of >= $1 \
             ORDER BY base, target, as_of, recorded_at DESC, source",
        ))
        .bind(since)
        .fetch_all(self.exec())
        .await
        .db()?;
        rows.iter().map(recorded_from).collect()
    }

    async fn newest_rate_day(&self, source: &str) -> Result<Option<Date>> {
        sqlx::query_scalar(
            &self.sql("SELECT max(as_of) FROM auth_exchange.rate_observations WHERE source = $1"),
        )
        .bind(source)
        .fetch_one(self.exec())
        .await
        .db()
    }

    async fn rate_history(
        &self,
        base: CurrencyCode,
        target: CurrencyCode,
        since: Option<Date>,
        until: Option<Date>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<RecordedRate>> {
        let rows = sqlx::query(&self.sql(
            "SELECT base, target, as_of, source, rate, recorded_at FROM auth_exchange.rate_observations \
             WHERE base = $1 AND target = $2 \
               AND ($3::date IS NULL OR as_of >= $3) AND ($4::date IS NULL OR as_of <= $4) \
             ORDER BY as_of DESC, recorded_at DESC, source LIMIT $5 OFFSET $6",
        ))
        .bind(base.as_str())
        .bind(target.as_str())
        .bind(since)
        .bind(until)
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(self.exec())
        .await
        .db()?;
        rows.iter().map(recorded_from).collect()
    }

    async fn conversion_candidates(
        &self,
        from: CurrencyCode,
        to: CurrencyCode,
        pivot: CurrencyCode,
    ) -> Result<ConversionCandidates> {
        // One round trip: the two currencies, then every rate among the three codes.
        let rows = sqlx::query(&self.sql(
            "SELECT true AS is_currency, c.id, c.name, c.code, c.sign, c.minor_units, \
                    NULL::text AS target, NULL::numeric AS rate \
             FROM auth_exchange.currencies c WHERE c.code IN ($1, $2) \
             UNION ALL \
             SELECT false, r.id, NULL, b.code, NULL, NULL, t.code, r.rate \
             FROM auth_exchange.exchange_rates r \
             JOIN auth_exchange.currencies b ON b.id = r.base_currency_id \
             JOIN auth_exchange.currencies t ON t.id = r.target_currency_id \
             WHERE b.code = ANY($3) AND t.code = ANY($3)",
        ))
        .bind(from.as_str())
        .bind(to.as_str())
        .bind([from.as_str(), to.as_str(), pivot.as_str()])
        .fetch_all(self.exec())
        .await
        .db()?;
        let mut out = ConversionCandidates {
            from: None,
            to: None,
            rates: Vec::new(),
        };
        for row in &rows {
            if row.try_get("is_currency").db()? {
                let c = currency_from(row, "")?;
                if c.code == from {
                    out.from = Some(c.clone());
                }
                if c.code == to {
                    out.to = Some(c);
                }
            } else {
                out.rates.push(RateQuote {
                    base: code_from(row, "code")?,
                    target: code_from(row, "target")?,
                    rate: row.try_get("rate").db()?,
                });
            }
        }
        Ok(out)
    }
}
