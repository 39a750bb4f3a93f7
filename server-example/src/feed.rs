//! The rate feed: `RATE_SOURCE_URL` (an http(s) URL or a file path of an ECB-format
//! file) imported at start and every `RATE_REFRESH_SECS`.

use std::sync::Arc;
use std::time::Duration;

use exchange_core::source::RateFeed;
use exchange_core::source::ecb::{EcbSource, Fetch};

use crate::state::AppState;

/// Longest a fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest file accepted (the ECB's full history since 1999 is about 7 MB).
const MAX_FEED_BYTES: u64 = 64 << 20;

/// The feed of `location`: fetched over HTTP when it starts with `http://` or
/// `https://`, else read as a file.
pub fn rate_feed(location: &str) -> Result<RateFeed, String> {
    let fetch: Fetch = if location.starts_with("http://") || location.starts_with("https://") {
        let url = reqwest::Url::parse(location).map_err(|e| format!("RATE_SOURCE_URL: {e}"))?;
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| format!("RATE_SOURCE_URL: {e}"))?;
        Arc::new(move || {
            let (client, url) = (client.clone(), url.clone());
            Box::pin(async move { Ok(download(&client, url).await?) })
        })
    } else {
        let path = std::path::PathBuf::from(location);
        Arc::new(move || {
            let path = path.clone();
            Box::pin(async move {
                let size = tokio::fs::metadata(&path).await?.len();
                if size > MAX_FEED_BYTES {
                    return Err(format!("the file has {size} bytes, over {MAX_FEED_BYTES}").into());
                }
                Ok(tokio::fs::read_to_string(&path).await?)
            })
        })
    };
    Ok(RateFeed::new(Arc::new(EcbSource::new(fetch))))
}

/// The body of `url`, if it answers 2xx within the size limit. Errors leave the URL
/// out: it may hold credentials.
async fn download(client: &reqwest::Client, url: reqwest::Url) -> Result<String, String> {
    let mut response = client
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| e.without_url().to_string())?;
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > MAX_FEED_BYTES {
            return Err(format!("the feed is over {MAX_FEED_BYTES} bytes"));
        }
    }
    String::from_utf8(body).map_err(|_| "the feed is not UTF-8".to_owned())
}

/// Refreshes the state's rate feed at once and then every `every_secs` seconds (0:
/// once), until aborted; `None` when no feed is configured. Failures are logged and
/// kept in the feed's status; the rates stay as they were.
pub fn spawn_rate_refresh(
    state: &AppState,
    every_secs: u64,
) -> Option<tokio::task::JoinHandle<()>> {
    let feed = state.rate_feed.clone()?;
    let every = (every_secs > 0).then(|| Duration::from_secs(every_secs));
    let exchange = state.exchange.clone();
    Some(tokio::spawn(async move {
        let mut tick = every.map(|every| {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick
        });
        loop {
            match feed.refresh(&exchange).await {
                Ok(new) => tracing::info!(new, "rate feed refreshed"),
                Err(e) => tracing::warn!(error = %e, "rate feed failed; the rates are kept"),
            }
            match tick.as_mut() {
                Some(tick) => {
                    tick.tick().await;
                }
                None => return,
            }
        }
    }))
}
