//! `/money/*`: the money model beside the spec's routes: currencies with their minor
//! units, conversion as of a day with the rates it rests on, and a pair's history;
//! `/admin/money/*`: importing a rate file and the rate feed's status.

use axum::Json;
use axum::extract::State;
use exchange_core::dated::{DatedQuote, RatePath};
use exchange_core::{CurrencyPair, ExchangeError, RecordedRate, ValidationError};

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use auth_axum::{Admin, RequireRole};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(currencies))
        .routes(routes!(convert_at))
        .routes(routes!(history))
        .routes(routes!(import_rates))
        .routes(routes!(source_status))
}

/// `YYYY-MM-DD` for `field`, or a 400 naming it.
fn day(field: &'static str, text: Option<&str>) -> Result<Option<time::Date>, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    text.map(|t| {
        time::Date::parse(t, &format).map_err(|_| {
            let rule =
                ValidationError::new(field, format!("{field} must be a date like 2024-01-05"));
            ApiError::from(ExchangeError::from(rule))
        })
    })
    .transpose()
}

/// Every currency with its minor units.
#[utoipa::path(get, path = "/money/currencies", tag = "money",
    responses((status = 200, description = "Currencies, by id", body = [MoneyCurrencyDto])))]
pub async fn currencies(
    State(s): State<AppState>,
) -> Result<Json<Vec<MoneyCurrencyDto>>, ApiError> {
    let list = s.exchange.currencies().await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Convert as of a day: each rate is its latest observation on or before `at` (today
/// by default); inverse and cross rates derive from them; the amount is rounded to
/// the target's minor units; a rate older than `max_age_days` answers 422
/// `stale_rate`.
#[utoipa::path(get, path = "/money/convert", tag = "money", params(ConvertAtQuery),
    responses(
        (status = 200, description = "The conversion, its path and the observations it used", body = DatedQuoteDto),
        (status = 400, description = "Bad code, amount or date", body = ErrorBody),
        (status = 404, description = "`no_rate`: no observation on or before that day connects the two", body = ErrorBody),
        (status = 422, description = "`stale_rate`: a rate it needs is older than `max_age_days`", body = ErrorBody),
    ))]
pub async fn convert_at(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ConvertAtQuery>,
) -> Result<Json<DatedQuoteDto>, ApiError> {
    let at = day("at", q.at.as_deref())?.unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let max_age = q.max_age_days.map(|d| time::Duration::days(i64::from(d)));
    let quote = s
        .exchange
        .convert_at(&q.from, &q.to, &q.amount, at, max_age)
        .await?;
    Ok(Json(quote.into()))
}

/// A pair's recorded observations, newest first.
#[utoipa::path(get, path = "/money/rates/{pair}/history", tag = "money",
    params(("pair" = String, Path, pattern = "^[A-Z]{6}$", description = "Base and target written together, e.g. EURUSD"), HistoryQuery),
    responses(
        (status = 200, description = "Observations of exactly that pair, newest first", body = [ObservationDto]),
        (status = 400, description = "Bad pair, date or paging", body = ErrorBody),
    ))]
pub async fn history(
    State(s): State<AppState>,
    ApiPath(pair): ApiPath<String>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<Vec<ObservationDto>>, ApiError> {
    let pair = CurrencyPair::parse(&pair)?;
    let (since, until) = (
        day("since", q.since.as_deref())?,
        day("until", q.until.as_deref())?,
    );
    let list = s
        .exchange
        .rate_history(
            pair.base.as_str(),
            pair.target.as_str(),
            since,
            until,
            q.limit.unwrap_or(100),
            checked_offset(q.offset)?,
        )
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Record the rates of a file in the ECB's reference-rate format (daily, 90-day or
/// full history; within the body limit, larger files go through `RATE_SOURCE_URL`),
/// all or nothing: a malformed file records nothing. Importing a file again records
/// nothing new.
#[utoipa::path(post, path = "/admin/money/rates/import", tag = "admin", security(("bearer" = [])),
    request_body(content = String, content_type = "text/plain", description = "The file's text (any content type is read as text)"),
    responses(
        (status = 200, description = "Observations in the file, and how many were new", body = ImportDto),
        (status = 400, description = "`validation_failed`: not an ECB rate file; nothing recorded", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
pub async fn import_rates(
    State(s): State<AppState>,
    _: RequireRole<Admin>,
    body: String,
) -> Result<Json<ImportDto>, ApiError> {
    let batch = exchange_core::source::ecb::parse(&body).map_err(|e| {
        ApiError::from(ExchangeError::from(ValidationError::new(
            "body",
            e.to_string(),
        )))
    })?;
    let observations = batch.len() as u64;
    let new = s.exchange.record_rates(batch).await?;
    Ok(Json(ImportDto { observations, new }))
}

/// The rate feed (`RATE_SOURCE_URL`): its last attempt, success and error, and the
/// newest day it has in the store with that day's age.
#[utoipa::path(get, path = "/admin/money/source", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "The feed's status; `configured` is false without one", body = FeedStatusDto),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
pub async fn source_status(
    State(s): State<AppState>,
    _: RequireRole<Admin>,
) -> Result<Json<FeedStatusDto>, ApiError> {
    let Some(feed) = &s.rate_feed else {
        return Ok(Json(FeedStatusDto::default()));
    };
    let status = feed.status(&s.exchange).await?;
    let today = time::OffsetDateTime::now_utc().date();
    Ok(Json(FeedStatusDto {
        configured: true,
        source: Some(status.source),
        last_attempt: status.last_attempt,
        last_success: status.last_success.map(|(at, _)| at),
        last_new: status.last_success.map(|(_, n)| n),
        last_error: status.last_error.map(|e| FeedErrorDto {
            at: e.at,
            message: e.message,
        }),
        newest_rate: status.newest_rate.map(|d| d.to_string()),
        newest_rate_age_days: status.newest_rate.map(|d| (today - d).whole_days()),
    }))
}

pub use wire::*;

/// The wire types of these routes; each derives its OpenAPI schema.
mod wire {
    use exchange_core::exact_decimal as exact;
    use rust_decimal::Decimal;
    use serde::{Deserialize, Serialize};
    use utoipa::ToSchema;

    use super::*;

    /// A currency with its minor units.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct MoneyCurrencyDto {
        /// Three uppercase letters.
        pub code: String,
        /// Name.
        pub name: String,
        /// Symbol.
        pub sign: String,
        /// Digits after the point of its minor unit (JPY 0, USD 2, KWD 3).
        pub minor_units: u32,
    }

    impl From<exchange_core::Currency> for MoneyCurrencyDto {
        fn from(c: exchange_core::Currency) -> Self {
            Self {
                code: c.code.to_string(),
                name: c.name,
                sign: c.sign,
                minor_units: c.minor_units,
            }
        }
    }

    /// One recorded observation.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct ObservationDto {
        /// Base currency.
        pub base: String,
        /// Target currency.
        pub target: String,
        /// Units of target per unit of base, as published.
        #[serde(serialize_with = "exact")]
        #[schema(value_type = f64)]
        pub rate: Decimal,
        /// The day it holds for (YYYY-MM-DD).
        pub as_of: String,
        /// Who published it (`ecb`, `manual`, ...).
        pub source: String,
        /// When it was recorded (RFC 3339).
        #[serde(with = "time::serde::rfc3339")]
        #[schema(value_type = String, format = DateTime)]
        pub recorded_at: time::OffsetDateTime,
    }

    impl From<RecordedRate> for ObservationDto {
        fn from(r: RecordedRate) -> Self {
            let o = r.observation;
            Self {
                base: o.base.to_string(),
                target: o.target.to_string(),
                rate: o.rate.value(),
                as_of: o.as_of.to_string(),
                source: o.source,
                recorded_at: r.recorded_at,
            }
        }
    }

    /// An observation a conversion used, with its age.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct LegDto {
        /// Base currency of the observation.
        pub base: String,
        /// Target currency of the observation.
        pub target: String,
        /// Its rate, as published.
        #[serde(serialize_with = "exact")]
        #[schema(value_type = f64)]
        pub rate: Decimal,
        /// The day it holds for (YYYY-MM-DD).
        pub as_of: String,
        /// Whole days from `as_of` to the conversion's day.
        pub age_days: i64,
        /// Who published it.
        pub source: String,
    }

    /// A conversion as of a day.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct DatedQuoteDto {
        /// Source currency.
        pub from: String,
        /// Target currency.
        pub to: String,
        /// The day the conversion is as of (YYYY-MM-DD).
        pub at: String,
        /// Amount given.
        #[serde(serialize_with = "exact")]
        #[schema(value_type = f64)]
        pub amount: Decimal,
        /// Units of `to` per unit of `from`, at full precision.
        #[serde(serialize_with = "exact")]
        #[schema(value_type = f64)]
        pub rate: Decimal,
        /// `amount` times `rate`, rounded half away from zero to `minor_units` places.
        #[serde(serialize_with = "exact")]
        #[schema(value_type = f64)]
        pub converted_amount: Decimal,
        /// The target's minor units.
        pub minor_units: u32,
        /// `same`, `direct`, `inverse` or `cross`.
        pub path: &'static str,
        /// The pivot of a cross rate.
        pub pivot: Option<String>,
        /// The observations used: none, one, or a cross rate's two legs.
        pub legs: Vec<LegDto>,
    }

    impl From<DatedQuote> for DatedQuoteDto {
        fn from(q: DatedQuote) -> Self {
            let (path, pivot) = match q.path {
                RatePath::Same => ("same", None),
                RatePath::Direct => ("direct", None),
                RatePath::Inverse => ("inverse", None),
                RatePath::Cross { pivot } => ("cross", Some(pivot.to_string())),
            };
            Self {
                from: q.from.to_string(),
                to: q.to.to_string(),
                at: q.at.to_string(),
                amount: q.amount,
                rate: q.rate,
                converted_amount: q.converted_amount,
                minor_units: q.minor_units,
                path,
                pivot,
                legs: q
                    .legs
                    .into_iter()
                    .map(|l| LegDto {
                        base: l.observation.base.to_string(),
                        target: l.observation.target.to_string(),
                        rate: l.observation.rate.value(),
                        as_of: l.observation.as_of.to_string(),
                        age_days: l.age_days,
                        source: l.observation.source,
                    })
                    .collect(),
            }
        }
    }

    /// The outcome of an import.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct ImportDto {
        /// Observations in the file.
        pub observations: u64,
        /// How many of them were not recorded before.
        pub new: u64,
    }

    /// A failed refresh of the feed.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct FeedErrorDto {
        /// When (RFC 3339).
        #[serde(with = "time::serde::rfc3339")]
        #[schema(value_type = String, format = DateTime)]
        pub at: time::OffsetDateTime,
        /// Why, with its causes.
        pub message: String,
    }

    /// The rate feed's status.
    #[derive(Debug, Default, Serialize, ToSchema)]
    pub struct FeedStatusDto {
        /// Whether `RATE_SOURCE_URL` is set; the other fields are null when not.
        pub configured: bool,
        /// The name recorded with its observations (`ecb`).
        pub source: Option<String>,
        /// When the last refresh began (RFC 3339).
        #[serde(with = "time::serde::rfc3339::option")]
        #[schema(value_type = Option<String>, format = DateTime)]
        pub last_attempt: Option<time::OffsetDateTime>,
        /// When a refresh last succeeded (RFC 3339).
        #[serde(with = "time::serde::rfc3339::option")]
        #[schema(value_type = Option<String>, format = DateTime)]
        pub last_success: Option<time::OffsetDateTime>,
        /// Observations that refresh recorded anew.
        pub last_new: Option<u64>,
        /// The last failure, even if a success followed.
        pub last_error: Option<FeedErrorDto>,
        /// The newest day of this source in the store (YYYY-MM-DD).
        pub newest_rate: Option<String>,
        /// Whole days from that day to today (UTC).
        pub newest_rate_age_days: Option<i64>,
    }

    /// Parameters of a conversion as of a day.
    #[derive(Debug, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ConvertAtQuery {
        /// Source currency code.
        #[param(pattern = "^[A-Z]{3}$")]
        pub from: String,
        /// Target currency code.
        #[param(pattern = "^[A-Z]{3}$")]
        pub to: String,
        /// Positive decimal amount.
        #[param(pattern = "^[0-9]{0,16}(\\.[0-9]{1,12})?$")]
        pub amount: String,
        /// The day (YYYY-MM-DD); today (UTC) when absent.
        #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
        pub at: Option<String>,
        /// Refuse a rate older than this many days (422 `stale_rate`).
        #[param(value_type = Option<u64>, minimum = 0, maximum = 65535)]
        pub max_age_days: Option<u16>,
    }

    /// Paging and range of a history.
    #[derive(Debug, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct HistoryQuery {
        /// First day (YYYY-MM-DD), inclusive.
        #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
        pub since: Option<String>,
        /// Last day (YYYY-MM-DD), inclusive.
        #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
        pub until: Option<String>,
        /// Page size (default 100; values outside 1 to 1000 are clamped).
        #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
        pub limit: Option<u32>,
        /// Observations to skip.
        pub offset: Option<u64>,
    }
}
