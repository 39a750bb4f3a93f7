//! Currencies, exchange rates and exact decimal conversion.
//!
//! `exchange-core` knows nothing of HTTP or SQL. An application gives an
//! [`ExchangeService`] an [`ExchangeStore`] (the in-memory `memory::MemoryStore` with
//! feature `memory`, or `storage-postgres`'s `PgStore`).
//!
//! Inputs are parsed once into [`CurrencyCode`], [`Rate`] and [`Amount`]. Conversion
//! uses the direct rate, else the inverse of the reverse rate, else a cross rate
//! through a pivot currency (USD by default), in `rust_decimal` arithmetic end to end:
//! no floating point anywhere. Rates, amounts and converted amounts serialize as
//! exact JSON numbers.
//!
//! The one duration of the API, the rate snapshot's lifetime
//! ([`ExchangeService::with_rate_snapshot`]), is a `std::time::Duration`: it is
//! measured with the monotonic clock, not against a date.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use exchange_core::{ExchangeService, memory::MemoryStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), exchange_core::ExchangeError> {
//! let svc = ExchangeService::new(Arc::new(MemoryStore::new()));
//! svc.add_currency("US Dollar", "USD", "$").await?;
//! svc.add_currency("Euro", "EUR", "€").await?;
//! svc.add_currency("Pound Sterling", "GBP", "£").await?;
//! svc.add_rate("USD", "EUR", "0.9").await?;
//! svc.add_rate("USD", "GBP", "0.8").await?;
//!
//! // No EUR/GBP rate is stored: the cross rate through USD is used.
//! let c = svc.convert("EUR", "GBP", "10").await?;
//! assert_eq!(c.rate.to_string(), "0.888889");
//! assert_eq!(c.converted_amount.to_string(), "8.89");
//!
//! // With feature `serde`, the types serialize with exact decimal numbers.
//! # #[cfg(feature = "serde")]
//! # {
//! let json = serde_json::to_string(&c).unwrap();
//! assert!(json.ends_with(r#""rate":0.888889,"amount":10,"converted_amount":8.89}"#));
//! # }
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod dated;
pub mod error;
pub mod iso4217;
#[cfg(feature = "memory")]
pub mod memory;
pub mod money;
pub mod service;
pub mod source;
pub mod spread;
pub mod store;
pub mod table;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod types;

/// The crates of the public API, so an application uses the same versions.
pub use {async_trait, rust_decimal};

pub use error::{BoxError, ExchangeError, StoreError, ValidationError};
pub use iso4217::{IsoCurrency, iso_currency};
pub use money::{Money, MoneyError, Rounding};
pub use service::{DEFAULT_PIVOT, ExchangeService, convert_with};
pub use store::{ConversionCandidates, DatedCandidates, ExchangeStore, RateQuote, RecordedRate};
pub use table::{Quote, RateTable};
#[cfg(feature = "serde")]
pub use types::exact_decimal;
pub use types::{
    Amount, Conversion, Currency, CurrencyCode, CurrencyPair, ExchangeRate, MAX_AMOUNT, MAX_RATE,
    MAX_SCALE, NewCurrency, Rate, round_half_away,
};
