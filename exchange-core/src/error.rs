//! Errors of the exchange service and of its stores.

use std::error::Error as StdError;

/// A boxed backend error, kept for logs and never shown to clients.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A field that broke a parsing rule; `message` names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// The field, as named in requests (`code`, `rate`, `amount`, ...).
    pub field: &'static str,
    /// The rule that was broken, as a sentence.
    pub message: String,
}

impl ValidationError {
    /// A validation error for `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Errors an [`ExchangeStore`](crate::ExchangeStore) returns; backend-neutral.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A currency with this code already exists.
    #[error("currency already exists")]
    CurrencyExists,
    /// A rate for this (base, target) pair already exists.
    #[error("exchange rate already exists")]
    PairExists,
    /// The currency is used by exchange rates and cannot be deleted.
    #[error("currency is used by exchange rates")]
    CurrencyInUse,
    /// A currency the call names does not exist.
    #[error("currency not found")]
    CurrencyNotFound,
    /// The rate the call names does not exist.
    #[error("exchange rate not found")]
    RateNotFound,
    /// The backend cannot be reached right now.
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    /// Any other backend failure.
    #[error("store failure")]
    Backend(#[source] BoxError),
}

/// Errors of [`ExchangeService`](crate::ExchangeService) calls.
///
/// [`ExchangeError::status`] and [`ExchangeError::code`] say what to answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// Input broke a parsing rule.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Base and target currency are the same.
    #[error("base and target currency must differ")]
    SameCurrency,
    /// The currency code is taken.
    #[error("a currency with this code already exists")]
    CurrencyExists,
    /// The pair already has a rate.
    #[error("an exchange rate for this pair already exists")]
    PairExists,
    /// The currency is still used by rates.
    #[error("the currency is used by exchange rates")]
    CurrencyInUse,
    /// The currency does not exist.
    #[error("currency not found")]
    CurrencyNotFound,
    /// The pair has no rate.
    #[error("exchange rate not found")]
    RateNotFound,
    /// No direct, inverse or cross rate connects the two currencies.
    #[error("no exchange rate can be derived for this pair")]
    NoRate,
    /// The result does not fit in a decimal.
    #[error("the amount is too large to convert at this rate")]
    Overflow,
    /// A rate source could not be fetched or sent a malformed feed; nothing of it was
    /// recorded.
    #[error(transparent)]
    Feed(#[from] crate::source::SourceError),
    /// A rate the conversion needs is older than the maximum age allowed; nothing was
    /// converted. Try again once a newer rate is recorded, or allow an older one.
    #[error("the newest rate for this conversion is older than the maximum age")]
    StaleRate,
    /// The store cannot be reached right now.
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    /// Any other failure; details are for logs.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// Declares `CODES` and `code`, `status` and `meaning` of an error enum from one row
/// per variant: `Variant(pattern) => ("code", status, "meaning")`. The match is
/// exhaustive: a variant without a row does not compile.
macro_rules! error_table {
    ($error:ident; $($variant:ident $(($($tuple:tt)*))? $({$($fields:tt)*})? => ($code:literal, $status:literal, $meaning:literal),)*) => {
        impl $error {
            /// Every variant's `(code, HTTP status, meaning)`, in declaration order; the
            /// one table an application's documentation or error map can be built from.
            pub const CODES: &'static [(&'static str, u16, &'static str)] =
                &[$(($code, $status, $meaning),)*];

            fn row(&self) -> (&'static str, u16, &'static str) {
                match self {
                    $($error::$variant $(($($tuple)*))? $({$($fields)*})? => ($code, $status, $meaning),)*
                }
            }

            /// A stable snake_case code naming the outcome, for clients to branch on.
            pub fn code(&self) -> &'static str {
                self.row().0
            }

            /// The HTTP status to answer with (a number, so no HTTP crate is needed).
            pub fn status(&self) -> u16 {
                self.row().1
            }

            /// What the code means, in a sentence for documentation.
            pub fn meaning(&self) -> &'static str {
                self.row().2
            }
        }
    };
}

// 400 bad input, 404 nothing to convert with, 409 conflict, 422 a rate too old, 502 a
// rate feed that failed, 503 store unreachable, 500 otherwise.
error_table! { ExchangeError;
    Validation(_) => ("validation_failed", 400, "A field broke a rule; the message names it."),
    SameCurrency => ("same_currency", 400, "Base and target currency are the same."),
    CurrencyExists => ("currency_exists", 409, "A currency with this code exists."),
    PairExists => ("pair_exists", 409, "An exchange rate for this pair exists."),
    CurrencyInUse => ("currency_in_use", 409, "Exchange rates still use the currency."),
    CurrencyNotFound => ("currency_not_found", 404, "No such currency."),
    RateNotFound => ("rate_not_found", 404, "No exchange rate for this pair."),
    NoRate => ("no_rate", 404, "No rate can be derived for this conversion."),
    Overflow => ("amount_too_large", 400, "The converted amount would overflow."),
    Feed(_) => ("rate_feed_failed", 502, "A rate feed could not be fetched or was malformed; nothing of it was recorded."),
    StaleRate => ("stale_rate", 422, "A rate the conversion needs is older than the maximum age."),
    Unavailable(_) => ("service_unavailable", 503, "The store is unreachable or the request took too long."),
    Internal(_) => ("internal_error", 500, "The server failed; details are logged, never sent."),
}

impl From<StoreError> for ExchangeError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::CurrencyExists => ExchangeError::CurrencyExists,
            StoreError::PairExists => ExchangeError::PairExists,
            StoreError::CurrencyInUse => ExchangeError::CurrencyInUse,
            StoreError::CurrencyNotFound => ExchangeError::CurrencyNotFound,
            StoreError::RateNotFound => ExchangeError::RateNotFound,
            StoreError::Unavailable(e) => ExchangeError::Unavailable(e),
            StoreError::Backend(e) => ExchangeError::Internal(e),
        }
    }
}
