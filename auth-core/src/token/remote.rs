//! [`RemoteKeys`]: a resource server's view of an issuer's keys, fetched from its JWKS,
//! cached as its `Cache-Control` allows, and fetched again (rate-limited) when a token
//! names a key the cache does not hold, so the issuer's key rotation needs no restart.
//!
//! The HTTP request itself is a [`JwksFetch`]: [`ReqwestFetch`] with the feature
//! `remote-jwks`, or any other client (and a fake one in tests).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{AccessClaims, JwkSet, KeySet, TokenError};
use crate::error::BoxError;

/// What an HTTP `GET` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The status code.
    pub status: u16,
    /// The `Cache-Control` header, if any.
    pub cache_control: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// Makes the `GET` requests of [`RemoteKeys`] (the discovery document and the JWKS).
#[async_trait]
pub trait JwksFetch: Send + Sync + fmt::Debug + 'static {
    /// `GET url`; an error for a failure to connect or read, never for a status.
    async fn get(&self, url: &str) -> Result<Fetched, BoxError>;
}

/// Where the keys are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// An issuer URL: its discovery document at
    /// `<issuer>/.well-known/openid-configuration` names the JWKS, and must name
    /// this issuer; tokens must carry it as `iss`.
    Issuer(String),
    /// A discovery document's URL: it names the issuer (`iss` of tokens) and the JWKS.
    Discovery(String),
    /// A JWKS URL, and the `iss` tokens must carry.
    Jwks {
        /// The JWK Set's URL.
        url: String,
        /// The expected issuer.
        issuer: String,
    },
}

/// How [`RemoteKeys`] caches and fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteKeysConfig {
    /// The `aud` tokens must carry.
    pub audience: String,
    /// Clock skew tolerated on `exp`, `iat` and `nbf`, in seconds.
    pub leeway_secs: u32,
    /// How long a JWKS is kept without a `Cache-Control: max-age` (default 5 minutes).
    pub default_max_age: Duration,
    /// The least a JWKS is kept, whatever it says (default 30 seconds).
    pub min_max_age: Duration,
    /// The most a JWKS is kept, whatever it says (default 1 day).
    pub max_max_age: Duration,
    /// The least time between two fetches caused by tokens naming an unknown key
    /// (default 10 seconds): a flood of forged `kid`s costs one fetch per interval.
    pub refetch_interval: Duration,
}

impl RemoteKeysConfig {
    /// The defaults, for tokens meant for `audience`.
    pub fn new(audience: impl Into<String>) -> Self {
        Self {
            audience: audience.into(),
            leeway_secs: 0,
            default_max_age: Duration::from_secs(300),
            min_max_age: Duration::from_secs(30),
            max_max_age: Duration::from_secs(86_400),
            refetch_interval: Duration::from_secs(10),
        }
    }
}

/// Why [`RemoteKeys::verify`] refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteKeysError {
    /// The token is invalid (answer 401 `invalid_token`).
    #[error("{0}")]
    Token(#[from] TokenError),
    /// No keys could be fetched yet (answer 503 and try again).
    #[error("the issuer's keys cannot be fetched: {0}")]
    Unavailable(String),
}

impl RemoteKeysError {
    /// The HTTP status to answer with: 401 for a token, 503 without keys.
    pub fn status(&self) -> u16 {
        match self {
            RemoteKeysError::Token(_) => 401,
            RemoteKeysError::Unavailable(_) => 503,
        }
    }

    /// A stable code: `invalid_token` or `service_unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            RemoteKeysError::Token(_) => "invalid_token",
            RemoteKeysError::Unavailable(_) => "service_unavailable",
        }
    }
}

struct Cached {
    keys: Arc<KeySet>,
    /// When the cache lifetime ends: the next verification fetches.
    stale_at: Instant,
}

#[derive(Default)]
struct State {
    cached: Option<Cached>,
    /// The JWKS URL and issuer, once discovered.
    endpoint: Option<(String, String)>,
    /// When the last fetch began.
    last_fetch: Option<Instant>,
    /// When the last fetch failed.
    last_failure: Option<Instant>,
}

/// An issuer's public keys for a resource server: verifies access tokens with
/// [`KeySet`]'s rules (algorithm pinned per key, `typ`, `iss`, `aud`, expiry), keeps
/// the JWKS as long as its `Cache-Control` says (within bounds), and fetches it again
/// when a token names an unknown `kid`, at most once per
/// [`RemoteKeysConfig::refetch_interval`]. Concurrent verifications share one fetch.
/// While the issuer cannot be reached the last keys keep serving, and a failed fetch
/// is tried again only after the refetch interval. Cheap to share: hold it in an
/// `Arc`.
pub struct RemoteKeys {
    fetch: Arc<dyn JwksFetch>,
    source: JwksSource,
    config: RemoteKeysConfig,
    state: std::sync::Mutex<State>,
    /// Held while fetching, so concurrent misses make one request.
    fetching: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

impl fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteKeys")
            .field("source", &self.source)
            .field("config", &self.config)
            .field("fetches", &self.fetches())
            .finish_non_exhaustive()
    }
}

/// `max-age` of a `Cache-Control` value (`no-cache` and `no-store` count as 0).
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|d| {
        let d = d.trim().to_ascii_lowercase();
        if d == "no-cache" || d == "no-store" {
            return Some(Duration::ZERO);
        }
        d.strip_prefix("max-age=")?
            .trim_matches('"')
            .parse()
            .ok()
            .map(Duration::from_secs)
    })
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl RemoteKeys {
    /// Keys from `source`, fetched with `fetch`, on first use.
    pub fn new(source: JwksSource, config: RemoteKeysConfig, fetch: Arc<dyn JwksFetch>) -> Self {
        Self {
            fetch,
            source,
            config,
            state: Default::default(),
            fetching: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many times the JWKS was fetched (discovery not counted).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Verifies an access token at the current system time.
    ///
    /// Errors: [`RemoteKeysError::Token`] for a token that is not valid under the
    /// issuer's keys (after one refetch for an unknown `kid`, when allowed);
    /// [`RemoteKeysError::Unavailable`] when no keys were ever fetched.
    pub async fn verify(&self, token: &str) -> Result<AccessClaims, RemoteKeysError> {
        let keys = self.keys().await?;
        match keys.verify(token, unix_now()) {
            Err(TokenError::UnknownKey) => match self.refetch().await {
                Some(fresh) => Ok(fresh.verify(token, unix_now())?),
                None => Err(TokenError::UnknownKey.into()),
            },
            other => Ok(other?),
        }
    }

    /// The cached keys, fetched first when there are none or their lifetime ended;
    /// stale keys are used while a fetch fails, and a failed fetch is not tried again
    /// within the refetch interval (an issuer that is down is not hammered).
    async fn keys(&self) -> Result<Arc<KeySet>, RemoteKeysError> {
        if let Some(c) = &self.state().cached
            && c.stale_at > Instant::now()
        {
            return Ok(c.keys.clone());
        }
        let _one = self.fetching.lock().await;
        let (stale, tried_lately) = {
            let st = self.state();
            let now = Instant::now();
            match &st.cached {
                Some(c) if c.stale_at > now => return Ok(c.keys.clone()),
                cached => (
                    cached.as_ref().map(|c| c.keys.clone()),
                    st.last_failure
                        .is_some_and(|t| t + self.config.refetch_interval > now),
                ),
            }
        };
        if tried_lately {
            return stale.ok_or_else(|| {
                RemoteKeysError::Unavailable("the last fetch failed; retrying shortly".into())
            });
        }
        match self.fetch_keys().await {
            Ok(keys) => Ok(keys),
            Err(e) => {
                tracing::warn!(error = %e, "fetching the issuer's JWKS failed");
                stale.ok_or(RemoteKeysError::Unavailable(e))
            }
        }
    }

    /// Fetches again for an unknown `kid`, unless a fetch began within the refetch
    /// interval; the keys to try again with, if any are newer.
    async fn refetch(&self) -> Option<Arc<KeySet>> {
        let asked = Instant::now();
        let _one = self.fetching.lock().await;
        {
            let st = self.state();
            if let Some(last) = st.last_fetch
                && last + self.config.refetch_interval > Instant::now()
            {
                // A fetch that began while this call waited may hold the key.
                return (last >= asked).then(|| st.cached.as_ref().map(|c| c.keys.clone()))?;
            }
        }
        match self.fetch_keys().await {
            Ok(keys) => Some(keys),
            Err(e) => {
                tracing::warn!(error = %e, "fetching the issuer's JWKS failed");
                None
            }
        }
    }

    /// Fetches (discovering first, once) and caches the JWKS, noting a failure.
    /// Called with `fetching` held.
    async fn fetch_keys(&self) -> Result<Arc<KeySet>, String> {
        self.state().last_fetch = Some(Instant::now());
        let fetched = self.try_fetch_keys().await;
        if fetched.is_err() {
            self.state().last_failure = Some(Instant::now());
        }
        fetched
    }

    async fn try_fetch_keys(&self) -> Result<Arc<KeySet>, String> {
        let (url, issuer) = self.endpoint().await?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let got = self.fetch.get(&url).await.map_err(|e| e.to_string())?;
        if got.status != 200 {
            return Err(format!("{url} answered {}", got.status));
        }
        let jwks: JwkSet = serde_json::from_slice(&got.body)
            .map_err(|e| format!("{url} is not a JWK Set: {e}"))?;
        let keys = KeySet::from_jwks(
            &jwks,
            issuer,
            self.config.audience.clone(),
            self.config.leeway_secs,
        )
        .map_err(|e| format!("{url}: {e}"))?;
        let keep = got
            .cache_control
            .as_deref()
            .and_then(max_age)
            .unwrap_or(self.config.default_max_age)
            .clamp(self.config.min_max_age, self.config.max_max_age);
        let keys = Arc::new(keys);
        self.state().cached = Some(Cached {
            keys: keys.clone(),
            stale_at: Instant::now() + keep,
        });
        Ok(keys)
    }

    /// The JWKS URL and the issuer, from the discovery document when the source is
    /// one (read once).
    async fn endpoint(&self) -> Result<(String, String), String> {
        if let Some(known) = &self.state().endpoint {
            return Ok(known.clone());
        }
        let (discovery, expected) = match &self.source {
            JwksSource::Jwks { url, issuer } => return Ok((url.clone(), issuer.clone())),
            JwksSource::Issuer(issuer) => (
                format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                ),
                Some(issuer.as_str()),
            ),
            JwksSource::Discovery(url) => (url.clone(), None),
        };
        let got = self
            .fetch
            .get(&discovery)
            .await
            .map_err(|e| e.to_string())?;
        if got.status != 200 {
            return Err(format!("{discovery} answered {}", got.status));
        }
        #[derive(serde::Deserialize)]
        struct Doc {
            issuer: String,
            jwks_uri: String,
        }
        let doc: Doc = serde_json::from_slice(&got.body)
            .map_err(|e| format!("{discovery} is not a discovery document: {e}"))?;
        if let Some(expected) = expected
            && expected != doc.issuer
        {
            return Err(format!(
                "{discovery} names the issuer {:?}, not {expected:?}",
                doc.issuer
            ));
        }
        let endpoint = (doc.jwks_uri, doc.issuer);
        self.state().endpoint = Some(endpoint.clone());
        Ok(endpoint)
    }
}

/// [`JwksFetch`] over a `reqwest::Client` (feature `remote-jwks`). TLS is the
/// client's: enable a TLS feature of `reqwest` in the application for `https` URLs.
#[cfg(feature = "remote-jwks")]
#[derive(Debug, Clone)]
pub struct ReqwestFetch {
    client: reqwest::Client,
    timeout: Duration,
}

#[cfg(feature = "remote-jwks")]
impl ReqwestFetch {
    /// Fetches with `client`, each request given at most 10 seconds.
    pub fn new(client: reqwest::Client) -> Self {
        Self {
            client,
            timeout: Duration::from_secs(10),
        }
    }
}

#[cfg(feature = "remote-jwks")]
#[async_trait]
impl JwksFetch for ReqwestFetch {
    async fn get(&self, url: &str) -> Result<Fetched, BoxError> {
        let reply = self.client.get(url).timeout(self.timeout).send().await?;
        let status = reply.status().as_u16();
        let cache_control = reply
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = reply.bytes().await?.to_vec();
        Ok(Fetched {
            status,
            cache_control,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_reads_the_directive_and_treats_no_cache_as_zero() {
        assert_eq!(max_age("public, max-age=60"), Some(Duration::from_secs(60)));
        assert_eq!(max_age("MAX-AGE=\"5\""), Some(Duration::from_secs(5)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
