//! The currency exchange routes, wire-compatible with the public exchange spec.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::dto::*;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiPath, ApiQuery, FormBody, FormOrJson};
use crate::state::AppState;
use auth_axum::{Admin, Authenticated, RequireRole};
use exchange_core::{CurrencyCode, CurrencyPair, ExchangeError, Rate, ValidationError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::routing::get;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_currencies, add_currency))
        .routes(routes!(get_currency, delete_currency))
        .routes(routes!(list_rates, add_rate))
        .routes(routes!(get_rate, update_rate, delete_rate))
        .routes(routes!(convert))
        // The spec's clients send these when a code or pair is left out: 400, not 404.
        .route("/currency", get(missing_code).delete(missing_code))
        .route("/currency/", get(missing_code).delete(missing_code))
        .route(
            "/exchangeRate",
            get(missing_pair).patch(missing_pair).delete(missing_pair),
        )
        .route(
            "/exchangeRate/",
            get(missing_pair).patch(missing_pair).delete(missing_pair),
        )
}

/// Creating and updating currencies and rates needs a Bearer token unless
/// `EXCHANGE_PUBLIC_WRITES` is on.
pub struct Writer;

impl FromRequestParts<AppState> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !state.exchange_public_writes {
            Authenticated::from_request_parts(parts, state).await?;
        }
        Ok(Writer)
    }
}

fn required(name: &'static str, value: Option<String>) -> Result<String, ApiError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ErrorCode::MissingField.error(format!("field `{name}` is required")))
}

/// A field that may arrive as a form string or as a JSON string or number.
fn required_number(
    name: &'static str,
    value: Option<serde_json::Value>,
) -> Result<String, ApiError> {
    let text = match value {
        None | Some(serde_json::Value::Null) => None,
        // A JSON number arrives as its exact text too (`FormBody::DECIMAL_FIELDS`).
        Some(serde_json::Value::String(s)) => Some(s),
        Some(_) => {
            let rule = ValidationError::new(
                name,
                format!("{name} must be a positive decimal number like 0.99"),
            );
            return Err(ExchangeError::from(rule).into());
        }
    };
    required(name, text)
}

impl FormBody for CurrencyForm {
    const DECIMAL_FIELDS: &'static [&'static str] = &[];
}

impl FormBody for RateForm {
    const DECIMAL_FIELDS: &'static [&'static str] = &["rate"];
}

impl FormBody for RatePatchForm {
    const DECIMAL_FIELDS: &'static [&'static str] = &["rate"];
}

async fn missing_code() -> ApiError {
    ErrorCode::MissingField.error("the currency code is missing from the path, e.g. /currency/EUR")
}

async fn missing_pair() -> ApiError {
    ErrorCode::MissingField
        .error("the currency pair is missing from the path, e.g. /exchangeRate/USDEUR")
}

/// Every currency.
#[utoipa::path(get, path = "/currencies", tag = "exchange",
    responses((status = 200, description = "Currencies", body = [CurrencyDto])))]
pub async fn list_currencies(
    State(s): State<AppState>,
) -> Result<Json<Vec<CurrencyDto>>, ApiError> {
    Ok(Json(
        s.exchange
            .currencies()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// One currency.
#[utoipa::path(get, path = "/currency/{code}", tag = "exchange",
    params(("code" = String, Path, pattern = "^[A-Z]{3}$", description = "Three uppercase letters")),
    responses(
        (status = 200, description = "The currency", body = CurrencyDto),
        (status = 400, description = "Not three uppercase Latin letters", body = ErrorBody),
        (status = 404, description = "No such currency", body = ErrorBody),
    ))]
pub async fn get_currency(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<CurrencyDto>, ApiError> {
    Ok(Json(s.exchange.currency(&code).await?.into()))
}

/// Add a currency (form or JSON).
#[utoipa::path(post, path = "/currencies", tag = "exchange", security(("bearer" = [])),
    request_body(content = CurrencyForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 201, description = "Created", body = CurrencyDto),
        (status = 400, description = "Missing or blank field, bad code", body = ErrorBody),
        (status = 401, description = "Writes need a token", body = ErrorBody),
        (status = 409, description = "Code exists", body = ErrorBody),
    ))]
pub async fn add_currency(
    State(s): State<AppState>,
    _: Writer,
    FormOrJson(f): FormOrJson<CurrencyForm>,
) -> Result<(StatusCode, Json<CurrencyDto>), ApiError> {
    let name = required("name", f.name)?;
    let code = required("code", f.code)?;
    let sign = required("sign", f.sign)?;
    let c = s.exchange.add_currency(&name, &code, &sign).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// Delete a currency no rate uses (admin).
#[utoipa::path(delete, path = "/currency/{code}", tag = "exchange", security(("bearer" = [])),
    params(("code" = String, Path, pattern = "^[A-Z]{3}$", description = "Three uppercase letters")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad code", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such currency", body = ErrorBody),
        (status = 409, description = "Rates use it", body = ErrorBody),
    ))]
pub async fn delete_currency(
    State(s): State<AppState>,
    _: RequireRole<Admin>,
    ApiPath(code): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    s.exchange.delete_currency(&code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every exchange rate.
#[utoipa::path(get, path = "/exchangeRates", tag = "exchange",
    responses((status = 200, description = "Rates", body = [ExchangeRateDto])))]
pub async fn list_rates(State(s): State<AppState>) -> Result<Json<Vec<ExchangeRateDto>>, ApiError> {
    Ok(Json(
        s.exchange
            .rates()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// One exchange rate.
#[utoipa::path(get, path = "/exchangeRate/{pair}", tag = "exchange",
    params(("pair" = String, Path, pattern = "^[A-Z]{6}$", description = "Two codes written together, e.g. USDEUR")),
    responses(
        (status = 200, description = "The rate", body = ExchangeRateDto),
        (status = 400, description = "Not two valid codes, or base = target", body = ErrorBody),
        (status = 404, description = "No such rate", body = ErrorBody),
    ))]
pub async fn get_rate(
    State(s): State<AppState>,
    ApiPath(pair): ApiPath<String>,
) -> Result<Json<ExchangeRateDto>, ApiError> {
    Ok(Json(s.exchange.rate(&pair).await?.into()))
}

/// Add an exchange rate (form or JSON).
#[utoipa::path(post, path = "/exchangeRates", tag = "exchange", security(("bearer" = [])),
    request_body(content = RateForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 201, description = "Created", body = ExchangeRateDto),
        (status = 400, description = "Missing or blank field, bad code, base = target, bad rate", body = ErrorBody),
        (status = 401, description = "Writes need a token", body = ErrorBody),
        (status = 404, description = "Unknown currency", body = ErrorBody),
        (status = 409, description = "Pair exists", body = ErrorBody),
    ))]
pub async fn add_rate(
    State(s): State<AppState>,
    _: Writer,
    FormOrJson(f): FormOrJson<RateForm>,
) -> Result<(StatusCode, Json<ExchangeRateDto>), ApiError> {
    let base = required("baseCurrencyCode", f.base_currency_code)?;
    let target = required("targetCurrencyCode", f.target_currency_code)?;
    let rate = required_number("rate", f.rate)?;
    // Parsed here, so a bad code is named by the contract's field.
    let code =
        |field, text: &str| CurrencyCode::parse_field(field, text).map_err(ExchangeError::from);
    let pair = CurrencyPair::new(
        code("baseCurrencyCode", &base)?,
        code("targetCurrencyCode", &target)?,
    )?;
    let rate = Rate::parse(&rate).map_err(ExchangeError::from)?;
    let r = s.exchange.add_pair_rate(pair, rate).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// Change an exchange rate (form or JSON).
#[utoipa::path(patch, path = "/exchangeRate/{pair}", tag = "exchange", security(("bearer" = [])),
    params(("pair" = String, Path, pattern = "^[A-Z]{6}$", description = "Two codes written together, e.g. USDEUR")),
    request_body(content = RatePatchForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The updated rate", body = ExchangeRateDto),
        (status = 400, description = "Bad pair or rate", body = ErrorBody),
        (status = 401, description = "Writes need a token", body = ErrorBody),
        (status = 404, description = "No such rate", body = ErrorBody),
    ))]
pub async fn update_rate(
    State(s): State<AppState>,
    _: Writer,
    ApiPath(pair): ApiPath<String>,
    FormOrJson(f): FormOrJson<RatePatchForm>,
) -> Result<Json<ExchangeRateDto>, ApiError> {
    let rate = required_number("rate", f.rate)?;
    Ok(Json(s.exchange.update_rate(&pair, &rate).await?.into()))
}

/// Delete an exchange rate (admin).
#[utoipa::path(delete, path = "/exchangeRate/{pair}", tag = "exchange", security(("bearer" = [])),
    params(("pair" = String, Path, pattern = "^[A-Z]{6}$", description = "Two codes written together, e.g. USDEUR")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad pair", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such rate", body = ErrorBody),
    ))]
pub async fn delete_rate(
    State(s): State<AppState>,
    _: RequireRole<Admin>,
    ApiPath(pair): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    s.exchange.delete_rate(&pair).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Convert an amount: direct rate, inverse rate, or cross rate through the pivot.
#[utoipa::path(get, path = "/exchange", tag = "exchange", params(ExchangeQuery),
    responses(
        (status = 200, description = "The conversion", body = ConversionDto),
        (status = 400, description = "Bad code or amount", body = ErrorBody),
        (status = 404, description = "No rate can be derived", body = ErrorBody),
    ))]
pub async fn convert(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<ExchangeQuery>,
) -> Result<Json<ConversionDto>, ApiError> {
    let from = required("from", q.from)?;
    let to = required("to", q.to)?;
    let amount = required("amount", q.amount)?;
    Ok(Json(s.exchange.convert(&from, &to, &amount).await?.into()))
}

pub use wire::*;

/// The wire types of these routes; each derives its OpenAPI schema.
mod wire {

    use exchange_core::exact_decimal as exact;
    use rust_decimal::Decimal;
    use serde::{Deserialize, Serialize};

    use utoipa::ToSchema;

    /// A currency.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct CurrencyDto {
        /// Id.
        pub id: i64,
        /// Name.
        pub name: String,
        /// Three uppercase letters.
        pub code: String,
        /// Symbol.
        pub sign: String,
    }

    impl From<exchange_core::Currency> for CurrencyDto {
        fn from(c: exchange_core::Currency) -> Self {
            Self {
                id: c.id,
                name: c.name,
                code: c.code.to_string(),
                sign: c.sign,
            }
        }
    }

    /// An exchange rate.
    #[derive(Debug, Serialize, ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct ExchangeRateDto {
        /// Id.
        pub id: i64,
        /// Base currency.
        pub base_currency: CurrencyDto,
        /// Target currency.
        pub target_currency: CurrencyDto,
        /// Units of target per unit of base, an exact decimal number.
        #[serde(serialize_with = "exact")]
        #[schema(value_type = f64)]
        pub rate: Decimal,
    }

    impl From<exchange_core::ExchangeRate> for ExchangeRateDto {
        fn from(r: exchange_core::ExchangeRate) -> Self {
            Self {
                id: r.id,
                base_currency: r.base_currency.into(),
                target_currency: r.target_currency.into(),
                rate: r.rate,
            }
        }
    }

    /// A conversion.
    #[derive(Debug, Serialize, ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct ConversionDto {
        /// From.
        pub base_currency: CurrencyDto,
        /// To.
        pub target_currency: CurrencyDto,
        /// Rate used, rounded to 6 places.
        #[serde(serialize_with = "exact")]
        #[schema(value_type = f64)]
        pub rate: Decimal,
        /// Amount given.
        #[serde(serialize_with = "exact")]
        #[schema(value_type = f64)]
        pub amount: Decimal,
        /// Converted amount, rounded half away from zero to the target currency's minor
        /// units (2 for most, 0 for JPY, 3 for KWD).
        #[serde(serialize_with = "exact")]
        #[schema(value_type = f64)]
        pub converted_amount: Decimal,
    }

    impl From<exchange_core::Conversion> for ConversionDto {
        fn from(c: exchange_core::Conversion) -> Self {
            Self {
                base_currency: c.base_currency.into(),
                target_currency: c.target_currency.into(),
                rate: c.rate,
                amount: c.amount,
                converted_amount: c.converted_amount,
            }
        }
    }

    /// A new currency (form or JSON).
    #[derive(Debug, Deserialize, ToSchema)]
    pub struct CurrencyForm {
        /// Name.
        #[serde(default)]
        #[schema(value_type = String, required = true, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$", max_length = 64)]
        pub name: Option<String>,
        /// Three uppercase letters.
        #[serde(default)]
        #[schema(value_type = String, required = true, pattern = "^[A-Z]{3}$")]
        pub code: Option<String>,
        /// Symbol.
        #[serde(default)]
        #[schema(value_type = String, required = true, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$", max_length = 8)]
        pub sign: Option<String>,
    }

    /// A new exchange rate (form or JSON; `rate` may be a JSON number or a string).
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct RateForm {
        /// Base currency code.
        #[serde(default)]
        #[schema(value_type = String, required = true, pattern = "^[A-Z]{3}$")]
        pub base_currency_code: Option<String>,
        /// Target currency code.
        #[serde(default)]
        #[schema(value_type = String, required = true, pattern = "^[A-Z]{3}$")]
        pub target_currency_code: Option<String>,
        /// Positive decimal.
        #[serde(default)]
        #[schema(value_type = String, required = true, pattern = "^[0-9]{0,13}(\\.[0-9]{1,12})?$", example = "0.99")]
        pub rate: Option<serde_json::Value>,
    }

    /// A rate change (form or JSON).
    #[derive(Debug, Deserialize, ToSchema)]
    pub struct RatePatchForm {
        /// Positive decimal.
        #[serde(default)]
        #[schema(value_type = String, required = true, pattern = "^[0-9]{0,13}(\\.[0-9]{1,12})?$", example = "0.99")]
        pub rate: Option<serde_json::Value>,
    }

    /// Conversion parameters.
    #[derive(Debug, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ExchangeQuery {
        /// Source currency code.
        #[param(required = true, value_type = String, pattern = "^[A-Z]{3}$")]
        pub from: Option<String>,
        /// Target currency code.
        #[param(required = true, value_type = String, pattern = "^[A-Z]{3}$")]
        pub to: Option<String>,
        /// Positive decimal amount, at most 10^15 with at most 12 fraction digits.
        #[param(required = true, value_type = String, pattern = "^[0-9]{0,16}(\\.[0-9]{1,12})?$")]
        pub amount: Option<String>,
    }
}
