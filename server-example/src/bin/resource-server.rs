//! A resource server: a separate service that accepts the access tokens server-example
//! issues, verifying them with the issuer's published keys through
//! [`auth_core::RemoteKeys`]. It holds no key and no database, and follows the
//! issuer's key rotation without a restart.
//!
//! ```text
//! ISSUER_DISCOVERY_URL=http://127.0.0.1:8080/.well-known/openid-configuration \
//!     cargo run -p server-example --bin resource-server
//! curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:8090/whoami
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_core::{JwksSource, RemoteKeys, RemoteKeysConfig, ReqwestFetch};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use clap::Parser;
use serde_json::{Value, json};

/// Where the issuer's keys are and which tokens to accept.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8090")]
    bind_addr: SocketAddr,
    /// The issuer's discovery document; it names the issuer and the JWKS.
    #[arg(long, env = "ISSUER_DISCOVERY_URL")]
    discovery_url: Option<String>,
    /// The issuer's JWKS, instead of ISSUER_DISCOVERY_URL (with JWT_ISSUER).
    #[arg(long, env = "JWKS_URL")]
    jwks_url: Option<String>,
    /// The `iss` tokens carry, with JWKS_URL.
    #[arg(long, env = "JWT_ISSUER", default_value = "server-example")]
    issuer: String,
    /// The `aud` tokens must carry.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "server-example")]
    audience: String,
    /// Least milliseconds between two fetches for tokens naming an unknown key.
    #[arg(long, env = "JWKS_REFETCH_MS", default_value_t = 10_000)]
    refetch_ms: u64,
    /// Least milliseconds the JWKS is kept, whatever its `Cache-Control` says.
    #[arg(long, env = "JWKS_MIN_CACHE_MS", default_value_t = 30_000)]
    min_cache_ms: u64,
}

/// The access token of an `Authorization: Bearer` header (the scheme in any case).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Who the token says the caller is.
async fn whoami(
    State(keys): State<Arc<RemoteKeys>>,
    headers: HeaderMap,
) -> (StatusCode, Json<Value>) {
    let Some(token) = bearer(&headers) else {
        let body = json!({"message": "an access token is needed", "code": "missing_token"});
        return (StatusCode::UNAUTHORIZED, Json(body));
    };
    match keys.verify(token).await {
        Ok(claims) => (
            StatusCode::OK,
            Json(json!({"sub": claims.sub, "roles": claims.roles, "iss": claims.iss})),
        ),
        Err(e) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = match e.status() {
                401 => "the access token is invalid, expired or revoked".to_owned(),
                _ => e.to_string(),
            };
            (status, Json(json!({"message": message, "code": e.code()})))
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let source = match (args.discovery_url, args.jwks_url) {
        (Some(url), None) => JwksSource::Discovery(url),
        (None, Some(url)) => JwksSource::Jwks {
            url,
            issuer: args.issuer,
        },
        _ => {
            tracing::error!("set one of ISSUER_DISCOVERY_URL and JWKS_URL");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut config = RemoteKeysConfig::new(args.audience);
    config.refetch_interval = Duration::from_millis(args.refetch_ms);
    config.min_max_age = Duration::from_millis(args.min_cache_ms);
    let fetch = ReqwestFetch::new(reqwest::Client::new());
    let keys = Arc::new(RemoteKeys::new(source, config, Arc::new(fetch)));
    let app = axum::Router::new()
        .route("/whoami", get(whoami))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(keys);
    let listener = match tokio::net::TcpListener::bind(args.bind_addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(addr = %args.bind_addr, error = %e, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{}", args.bind_addr);
    match axum::serve(listener, app).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            std::process::ExitCode::FAILURE
        }
    }
}
