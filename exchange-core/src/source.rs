//! Rate sources: where dated rate observations come from, and the built-in one, the
//! European Central Bank's reference rates ([`ecb`]).
//!
//! A source fetches a batch of [`RateObservation`]s, all or nothing: a failed or
//! malformed fetch gives an error and no observation, so what is stored stays as it is.

pub mod ecb;
mod feed;

pub use feed::{FeedFailure, FeedStatus, RateFeed};

use std::fmt;

use crate::error::BoxError;
use crate::types::{CurrencyCode, Rate};

/// One published rate: `rate` units of `target` per unit of `base`, holding for the
/// day `as_of`, as published by `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateObservation {
    /// Base currency (EUR for the ECB's rates).
    pub base: CurrencyCode,
    /// Target currency.
    pub target: CurrencyCode,
    /// Units of `target` per unit of `base`, exactly as published.
    pub rate: Rate,
    /// The day the rate holds for.
    pub as_of: time::Date,
    /// Who published it (`ecb`, `manual`, ...).
    pub source: String,
}

/// Why a source gave no observations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The feed could not be fetched (network, file, timeout).
    #[error("the rate feed could not be fetched")]
    Fetch(#[source] BoxError),
    /// The feed was fetched but is not what the source expects; nothing of it is used.
    #[error("the rate feed is malformed: {0}")]
    Malformed(String),
}

/// A source of rate observations (the ECB's daily file, a provider's API, a test
/// fixture). `fetch` gives the whole batch or an error, never a part.
#[async_trait::async_trait]
pub trait RateSource: Send + Sync + fmt::Debug {
    /// A short name, recorded as each observation's source (`ecb`).
    fn name(&self) -> &str;

    /// Fetches the current batch.
    async fn fetch(&self) -> Result<Vec<RateObservation>, SourceError>;
}
