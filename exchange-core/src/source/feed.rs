//! [`RateFeed`]: a rate source imported again and again (on a schedule the application
//! chooses), with the outcome of its last fetches for a status page.

use std::sync::{Arc, Mutex};

use time::{Date, OffsetDateTime};

use super::RateSource;
use crate::error::ExchangeError;
use crate::service::ExchangeService;

/// A failed refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedFailure {
    /// When it failed.
    pub at: OffsetDateTime,
    /// Why, with its causes (`the rate feed is malformed: ...`); for operators.
    pub message: String,
}

/// What a [`RateFeed`] has done so far, and how fresh its rates are.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FeedStatus {
    /// The source's name, recorded with its observations.
    pub source: String,
    /// When the last refresh began (`None` before the first).
    pub last_attempt: Option<OffsetDateTime>,
    /// When a refresh last succeeded, and how many observations it recorded anew.
    pub last_success: Option<(OffsetDateTime, u64)>,
    /// The last failure, even if a success followed (compare the times).
    pub last_error: Option<FeedFailure>,
    /// The newest day this source has in the store, whoever imported it.
    pub newest_rate: Option<Date>,
}

/// A rate source that is imported repeatedly. A failed or malformed fetch records
/// nothing (the rates stay as they are) and is kept as the last error;
/// [`RateFeed::status`] tells both apart. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct RateFeed {
    source: Arc<dyn RateSource>,
    status: Mutex<FeedStatus>,
}

impl RateFeed {
    /// A feed of `source` that has not fetched yet.
    pub fn new(source: Arc<dyn RateSource>) -> Self {
        let status = FeedStatus {
            source: source.name().to_owned(),
            last_attempt: None,
            last_success: None,
            last_error: None,
            newest_rate: None,
        };
        Self {
            source,
            status: Mutex::new(status),
        }
    }

    fn update(&self, change: impl FnOnce(&mut FeedStatus)) {
        change(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Fetches the source and records its batch through `exchange`
    /// ([`ExchangeService::import`]), keeping the outcome for [`RateFeed::status`].
    /// Returns how many observations were new.
    pub async fn refresh(&self, exchange: &ExchangeService) -> Result<u64, ExchangeError> {
        let started = OffsetDateTime::now_utc();
        self.update(|s| s.last_attempt = Some(started));
        let outcome = exchange.import(&*self.source).await;
        let now = OffsetDateTime::now_utc();
        match &outcome {
            Ok(new) => self.update(|s| s.last_success = Some((now, *new))),
            Err(e) => {
                let message = with_causes(e);
                self.update(|s| s.last_error = Some(FeedFailure { at: now, message }));
            }
        }
        outcome
    }

    /// The outcome of the refreshes so far, and the newest day of this source in the
    /// store (one store read).
    pub async fn status(&self, exchange: &ExchangeService) -> Result<FeedStatus, ExchangeError> {
        let newest = exchange.store().newest_rate_day(self.source.name()).await?;
        let mut status = self
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        status.newest_rate = newest;
        Ok(status)
    }
}

/// An error's text followed by each of its causes.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::memory::MemoryStore;
    use crate::source::ecb::EcbSource;

    const FRIDAY: &str = "<Envelope><Cube><Cube time='2024-01-05'>\
        <Cube currency='USD' rate='1.0921'/></Cube></Cube></Envelope>";
    const MONDAY: &str = "<Envelope><Cube><Cube time='2024-01-08'>\
        <Cube currency='USD' rate='1.0946'/></Cube></Cube></Envelope>";

    #[tokio::test]
    async fn a_failed_fetch_keeps_the_rates_and_shows_in_the_status() {
        // Friday's file, then a file cut short, then an error, then Monday's file.
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let source = EcbSource::new(Arc::new(move || {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                match n {
                    0 => Ok(FRIDAY.to_owned()),
                    1 => Ok(MONDAY[..40].to_owned()),
                    2 => Err("connection refused".into()),
                    _ => Ok(MONDAY.to_owned()),
                }
            })
        }));
        let exchange = ExchangeService::new(Arc::new(MemoryStore::new()));
        let feed = RateFeed::new(Arc::new(source));
        let before = feed.status(&exchange).await.unwrap();
        assert_eq!((before.source.as_str(), before.last_attempt), ("ecb", None));

        assert_eq!(feed.refresh(&exchange).await.unwrap(), 1);
        let ok = feed.status(&exchange).await.unwrap();
        assert_eq!(ok.last_success.map(|(_, n)| n), Some(1));
        assert_eq!(ok.newest_rate, Some(time::macros::date!(2024 - 01 - 05)));
        assert!(ok.last_error.is_none());

        assert!(matches!(
            feed.refresh(&exchange).await,
            Err(ExchangeError::Feed(_))
        ));
        let cut = feed.status(&exchange).await.unwrap();
        let error = cut.last_error.clone().unwrap();
        assert!(error.message.contains("cut short"), "{}", error.message);
        assert_eq!(cut.newest_rate, ok.newest_rate, "the rates are kept");
        assert_eq!(cut.last_success, ok.last_success);

        assert!(feed.refresh(&exchange).await.is_err());
        let refused = feed.status(&exchange).await.unwrap();
        let message = refused.last_error.unwrap().message;
        assert!(message.contains("connection refused"), "{message}");

        assert_eq!(feed.refresh(&exchange).await.unwrap(), 1);
        let monday = feed.status(&exchange).await.unwrap();
        assert_eq!(
            monday.newest_rate,
            Some(time::macros::date!(2024 - 01 - 08))
        );
        assert!(monday.last_success.unwrap().0 >= refused.last_attempt.unwrap());
    }
}
