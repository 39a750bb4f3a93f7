//! Building the [`AppState`] from a [`Config`]: keys and secrets, stores, services,
//! the first administrator and demo data.

mod secrets;
mod seed;
mod stores;

use std::sync::Arc;
use std::time::Duration;

use auth_core::{
    AuthConfig, AuthService, KeyRotation, LoginPolicy, Mailer, PasskeyConfig, Passkeys, RateLimit,
    RequestLimits, ReusePolicy, ThrottlePolicy,
};
use exchange_core::{CurrencyCode, ExchangeService};

use crate::config::{Config, ReusePolicyArg};
use crate::mail::{DirMailer, LogMailer, Queued, SmtpMailer};
use crate::serve::{self, Connections};
use crate::state::{AppState, Shared};
use auth_axum::TrustedProxies;
use secrets::{load_keys, load_refresh_secret};
pub use seed::DEMO_CURRENCIES;
use seed::seed_demo_data;
use stores::{Stores, open_stores};

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Invalid or missing configuration.
    #[error("configuration: {0}")]
    Config(String),
    /// A key file or the data directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A key could not be loaded.
    #[error("key: {0}")]
    Key(#[from] auth_core::KeyError),
    /// The database could not be reached or migrated.
    #[error("database: {0}")]
    Database(#[from] storage_postgres::PgStoreError),
    /// The first admin could not be created, or demo data loaded.
    #[error("startup data: {0}")]
    Data(String),
}

fn auth_config(config: &Config) -> Result<AuthConfig, StartupError> {
    let policy = LoginPolicy::default();
    let defaults = RequestLimits::default();
    let login_policy = LoginPolicy::new(policy.min_len, policy.max_len, &config.login_extra_chars)
        .map_err(|e| StartupError::Config(format!("LOGIN_EXTRA_CHARS: {}", e.message)))?;
    Ok(AuthConfig {
        login_policy,
        access_ttl: time::Duration::seconds(config.access_ttl_secs),
        session_ttl: time::Duration::seconds(config.session_ttl_secs),
        idle_ttl: time::Duration::seconds(config.idle_ttl_secs),
        reuse_grace: time::Duration::seconds(config.reuse_grace_secs),
        reuse_policy: match config.reuse_policy {
            ReusePolicyArg::User => ReusePolicy::RevokeUser,
            ReusePolicyArg::Session => ReusePolicy::RevokeSession,
        },
        require_email_verification: config.require_email_verification,
        throttle: ThrottlePolicy {
            max_failures_per_login: config.login_max_failures,
            max_failures_per_ip: config.login_max_failures_per_ip,
            window: time::Duration::seconds(config.throttle_window_secs),
            base_delay: time::Duration::seconds(config.throttle_base_delay_secs),
        },
        verification_max_attempts: config.verify_max_attempts,
        limits: RequestLimits {
            register_per_ip: RateLimit::new(
                config.register_limit_per_minute,
                defaults.register_per_ip.window,
            ),
            refresh_per_ip: RateLimit::new(
                config.refresh_limit_per_minute,
                defaults.refresh_per_ip.window,
            ),
            email_changes_per_user: RateLimit::new(
                config.email_change_limit_per_hour,
                defaults.email_changes_per_user.window,
            ),
            resend_per_login: RateLimit::new(
                u32::from(config.resend_cooldown_secs > 0),
                time::Duration::seconds(config.resend_cooldown_secs),
            ),
            resend_per_ip: RateLimit::new(
                config.resend_limit_per_ip,
                defaults.resend_per_ip.window,
            ),
            reset_per_email: RateLimit::new(
                config.reset_limit_per_email,
                defaults.reset_per_email.window,
            ),
            reset_per_ip: RateLimit::new(config.reset_limit_per_ip, defaults.reset_per_ip.window),
            passkey_sign_in_per_ip: RateLimit::new(
                config.passkey_sign_in_limit_per_minute,
                defaults.passkey_sign_in_per_ip.window,
            ),
        },
        reset_token_ttl: time::Duration::seconds(config.reset_token_ttl_secs),
        max_sessions_per_user: config.max_sessions_per_user,
        verified_token_cache: config.verified_token_cache,
        audit_retention: (config.audit_retention_days > 0)
            .then(|| time::Duration::days(i64::from(config.audit_retention_days))),
        key_rotation: key_rotation(config)?,
        ..AuthConfig::default()
    })
}

/// The signing-key schedule the configuration asks for, if any.
fn key_rotation(config: &Config) -> Result<Option<KeyRotation>, StartupError> {
    let period = match config.signing_key_rotation_secs {
        Some(secs) => secs,
        None => u64::from(config.signing_key_rotation_days) * 86_400,
    };
    if period == 0 {
        return Ok(None);
    }
    if config.jwt_hs256_secret.is_some() {
        return Err(StartupError::Config(
            "signing key rotation publishes Ed25519 keys; it does not go with JWT_HS256_SECRET"
                .into(),
        ));
    }
    let seconds = |s: u64| time::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX));
    let poll = time::Duration::milliseconds(
        i64::try_from(config.signing_key_poll_ms.max(10)).unwrap_or(i64::MAX),
    );
    Ok(Some(KeyRotation {
        jwks_max_age: seconds(config.jwks_max_age_secs),
        poll,
        ..KeyRotation::every(seconds(period))
    }))
}

/// The mailer the configuration asks for: SMTP, else a mail directory, else a log line.
fn mailer(config: &Config) -> Result<Arc<dyn Mailer>, StartupError> {
    if let Some(url) = config.smtp_url.as_deref().filter(|u| !u.is_empty()) {
        let timeout = AuthConfig::default()
            .mail_timeout
            .try_into()
            .unwrap_or(Duration::from_secs(10));
        let smtp =
            SmtpMailer::new(url, &config.mail_from, timeout).map_err(StartupError::Config)?;
        return Ok(Arc::new(Queued::new(smtp)));
    }
    if let Some(dir) = &config.mail_dir {
        let mailer = DirMailer::new(dir.clone()).map_err(|source| StartupError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        return Ok(Arc::new(mailer));
    }
    Ok(Arc::new(LogMailer {
        show_secrets: config.log_verification_codes,
    }))
}

impl AppState {
    /// Builds the state: stores, keys, services, first admin and demo data.
    /// `mailer` delivers verification codes; `None` picks one from the configuration.
    pub async fn from_config(
        config: &Config,
        mailer: Option<Arc<dyn Mailer>>,
    ) -> Result<Self, StartupError> {
        let Stores {
            auth: auth_store,
            exchange: exchange_store,
            kv,
            health,
        } = open_stores(config).await?;
        let mailer = match mailer {
            Some(m) => m,
            None => self::mailer(config)?,
        };
        let auth = AuthService::new(
            auth_store,
            load_keys(config)?,
            &load_refresh_secret(config)?,
            auth_config(config)?,
        )
        .map_err(|e| StartupError::Config(e.to_string()))?
        .with_mailer(mailer);
        if auth.config().key_rotation.is_some() {
            auth.sync_signing_keys()
                .await
                .map_err(|e| StartupError::Data(format!("signing keys: {e}")))?;
        }
        let pivot = CurrencyCode::parse(&config.pivot_currency)
            .map_err(|e| StartupError::Config(format!("PIVOT_CURRENCY: {e}")))?;
        let exchange = ExchangeService::new(exchange_store)
            .with_pivot(pivot)
            .with_rate_snapshot(Duration::from_millis(config.rate_snapshot_ms));

        match (&config.admin_login, &config.admin_password) {
            (Some(login), Some(password)) => {
                auth.ensure_admin(login, password)
                    .await
                    .map_err(|e| StartupError::Data(format!("admin account: {e}")))?;
            }
            (None, None) => {}
            _ => {
                return Err(StartupError::Config(
                    "ADMIN_LOGIN and ADMIN_PASSWORD go together".into(),
                ));
            }
        }
        if config
            .seed_demo_data
            .unwrap_or(config.database_url.as_deref().is_none_or(str::is_empty))
        {
            seed_demo_data(&exchange).await?;
        }
        let rate_feed = match config.rate_source_url.as_deref().filter(|u| !u.is_empty()) {
            Some(location) => Some(Arc::new(
                crate::feed::rate_feed(location).map_err(StartupError::Config)?,
            )),
            None => None,
        };
        let cors_origins =
            (!config.cors_origins.iter().any(|o| o == "*")).then(|| config.cors_origins.clone());
        let auth = Arc::new(auth);
        let passkeys = Passkeys::new(
            auth.clone(),
            PasskeyConfig {
                rp_id: config.webauthn_rp_id.clone(),
                origin: config.webauthn_origin.clone(),
                rp_name: config.webauthn_rp_name.clone(),
                ..PasskeyConfig::default()
            },
        )
        .map_err(|e| StartupError::Config(format!("WEBAUTHN_RP_ID / WEBAUTHN_ORIGIN: {e}")))?;
        Ok(Self::new(Shared {
            auth,
            passkeys: Arc::new(passkeys),
            exchange: Arc::new(exchange),
            rate_feed,
            kv,
            health,
            exchange_public_writes: config.exchange_public_writes,
            public_url: config
                .public_url
                .as_deref()
                .map(|u| u.trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty()),
            cors_origins,
            body_limit: config.body_limit_bytes,
            request_timeout: Duration::from_millis(config.request_timeout_ms),
            connections: Connections {
                max: connection_cap(config),
                header_read_timeout: Duration::from_millis(config.header_read_timeout_ms),
            },
            trusted_proxies: TrustedProxies::new(config.trusted_proxies.iter().copied()),
        }))
    }
}

/// `MAX_CONNECTIONS`, lowered to what the open-files limit leaves after a reserve for
/// the database pool and the rest ([`serve::FD_RESERVE`]); logged.
fn connection_cap(config: &Config) -> usize {
    let open_files = serve::open_files_limit();
    let reserve = serve::FD_RESERVE + u64::from(config.database_max_connections);
    let cap = serve::connection_cap(config.max_connections, open_files, reserve);
    if cap == config.max_connections {
        tracing::info!(connections = cap, ?open_files, "connection cap");
    } else {
        tracing::warn!(
            connections = cap,
            configured = config.max_connections,
            ?open_files,
            reserve,
            "connection cap lowered to fit the open-files limit"
        );
    }
    cap
}
