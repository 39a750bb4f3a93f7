//! Application state and how it is built from configuration.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use auth_core::memory::MemoryStore as AuthMemory;
use auth_core::{
    AuthConfig, AuthService, AuthStore, Key, KeySet, Mailer, NoopMailer, RateLimit, RefreshSecret,
    RequestLimits, ReusePolicy, ThrottlePolicy,
};
use base64::Engine;
use exchange_core::memory::MemoryStore as ExchangeMemory;
use exchange_core::{CurrencyCode, ExchangeService, ExchangeStore};
use sqlx::postgres::PgPoolOptions;
use storage_postgres::PgStore;

use crate::config::{Config, ReusePolicyArg};
use crate::kv::{KvStore, MemoryKv, PgKv};
use crate::serve::Connections;

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

/// What `/readyz` checks.
#[derive(Debug, Clone)]
pub enum Health {
    /// In-memory stores: always ready.
    Memory,
    /// Postgres: ready when it answers.
    Postgres(PgStore),
}

impl Health {
    /// Whether the stores answer.
    pub async fn ready(&self) -> bool {
        match self {
            Health::Memory => true,
            Health::Postgres(store) => store.ping().await.is_ok(),
        }
    }
}

/// Shared state of every handler. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The auth service.
    pub auth: Arc<AuthService>,
    /// The exchange service.
    pub exchange: Arc<ExchangeService>,
    /// The key-value store.
    pub kv: Arc<dyn KvStore>,
    /// Readiness probe.
    pub health: Health,
    /// Let anyone create and update currencies and rates.
    pub exchange_public_writes: bool,
    /// Origins allowed by CORS outside the exchange routes (`None`: any).
    pub cors_origins: Option<Vec<String>>,
    /// Largest request body.
    pub body_limit: usize,
    /// Request timeout.
    pub request_timeout: Duration,
    /// Limits on client connections.
    pub connections: Connections,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StartupError + '_ {
    move |source| StartupError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn read(path: &Path) -> Result<String, StartupError> {
    std::fs::read_to_string(path).map_err(io_err(path))
}

/// Writes a secret file readable by its owner only.
fn write_secret(path: &Path, contents: &[u8]) -> Result<(), StartupError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(io_err(path))?;
    std::io::Write::write_all(&mut f, contents).map_err(io_err(path))
}

fn load_keys(config: &Config) -> Result<KeySet, StartupError> {
    let mut verifying = Vec::new();
    for path in &config.verification_key_files {
        let pem = read(path)?;
        let key = if pem.contains("PUBLIC KEY") {
            Key::ed25519_public_from_pem(&pem)?
        } else {
            Key::ed25519_from_pem(&pem)?.verify_only()
        };
        verifying.push(key);
    }
    let signing = if let Some(secret) = &config.jwt_hs256_secret {
        Key::hs256("hs256", secret.as_bytes())?
    } else if let Some(path) = &config.signing_key_file {
        Key::ed25519_from_pem(&read(path)?)?
    } else {
        let path = config.data_dir.join("signing-key.pem");
        if path.exists() {
            Key::ed25519_from_pem(&read(&path)?)?
        } else {
            let key = Key::generate_ed25519()?;
            let pem = key.to_pkcs8_pem().expect("generated keys are Ed25519");
            write_secret(&path, pem.as_bytes())?;
            tracing::info!(path = %path.display(), kid = key.kid(), "generated a new Ed25519 signing key");
            key
        }
    };
    Ok(KeySet::new(
        signing,
        verifying,
        config.jwt_issuer.clone(),
        config.jwt_audience.clone(),
        5,
    )?)
}

fn load_refresh_secret(config: &Config) -> Result<RefreshSecret, StartupError> {
    if let Some(s) = &config.refresh_secret {
        return RefreshSecret::from_bytes(s.as_bytes()).ok_or_else(|| {
            StartupError::Config("REFRESH_SECRET must be at least 32 bytes".into())
        });
    }
    let path = config.data_dir.join("refresh-secret");
    let b64 = base64::engine::general_purpose::STANDARD;
    if path.exists() {
        let raw = b64
            .decode(read(&path)?.trim())
            .map_err(|_| StartupError::Config(format!("{} is not base64", path.display())))?;
        return RefreshSecret::from_bytes(&raw)
            .ok_or_else(|| StartupError::Config(format!("{} is too short", path.display())));
    }
    let secret = RefreshSecret::generate();
    write_secret(&path, b64.encode(secret.expose()).as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new refresh-token secret");
    Ok(secret)
}

fn auth_config(config: &Config) -> AuthConfig {
    let minute = time::Duration::minutes(1);
    AuthConfig {
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
            register_per_ip: RateLimit::new(config.register_limit_per_minute, minute),
            refresh_per_ip: RateLimit::new(config.refresh_limit_per_minute, minute),
            email_changes_per_user: RateLimit::new(
                config.email_change_limit_per_hour,
                time::Duration::hours(1),
            ),
            resend_per_login: RateLimit::new(
                u32::from(config.resend_cooldown_secs > 0),
                time::Duration::seconds(config.resend_cooldown_secs),
            ),
            resend_per_ip: RateLimit::new(config.resend_limit_per_ip, time::Duration::minutes(15)),
        },
        max_sessions_per_user: config.max_sessions_per_user,
        ..AuthConfig::default()
    }
}

/// Logs verification codes instead of sending them; for local development only.
#[derive(Debug)]
struct LogMailer;

#[async_trait::async_trait]
impl Mailer for LogMailer {
    async fn send_verification_code(
        &self,
        email: &str,
        login: &str,
        code: &str,
    ) -> Result<(), auth_core::BoxError> {
        tracing::warn!(%email, %login, %code, "verification code (LOG_VERIFICATION_CODES is on)");
        Ok(())
    }
}

/// Demo currencies and USD-based rates, so `/exchange` works on first start.
pub const DEMO_CURRENCIES: &[(&str, &str, &str, &str)] = &[
    ("USD", "US Dollar", "$", ""),
    ("EUR", "Euro", "€", "0.92"),
    ("GBP", "Pound Sterling", "£", "0.79"),
    ("RUB", "Russian Ruble", "₽", "92.5"),
    ("JPY", "Japanese Yen", "¥", "151.3"),
    ("CNY", "Chinese Yuan", "¥", "7.24"),
    ("CHF", "Swiss Franc", "Fr", "0.88"),
    ("KZT", "Kazakhstani Tenge", "₸", "447.8"),
];

async fn seed_demo_data(exchange: &ExchangeService) -> Result<(), StartupError> {
    let data = |e: exchange_core::ExchangeError| StartupError::Data(e.to_string());
    if !exchange.currencies().await.map_err(data)?.is_empty() {
        return Ok(());
    }
    for (code, name, sign, _) in DEMO_CURRENCIES {
        match exchange.add_currency(name, code, sign).await {
            Ok(_) | Err(exchange_core::ExchangeError::CurrencyExists) => {}
            Err(e) => return Err(data(e)),
        }
    }
    for (code, _, _, rate) in DEMO_CURRENCIES.iter().filter(|c| !c.3.is_empty()) {
        match exchange.add_rate("USD", code, rate).await {
            Ok(_) | Err(exchange_core::ExchangeError::PairExists) => {}
            Err(e) => return Err(data(e)),
        }
    }
    tracing::info!(
        currencies = DEMO_CURRENCIES.len(),
        "loaded demo currencies and rates"
    );
    Ok(())
}

struct Stores {
    auth: Arc<dyn AuthStore>,
    exchange: Arc<dyn ExchangeStore>,
    kv: Arc<dyn KvStore>,
    health: Health,
}

/// Postgres when configured (migrated), else memory.
async fn open_stores(config: &Config) -> Result<Stores, StartupError> {
    let Some(url) = config.database_url.as_deref().filter(|u| !u.is_empty()) else {
        tracing::warn!(
            "storage: in memory; no data is kept after the server stops (set DATABASE_URL to use Postgres)"
        );
        return Ok(Stores {
            auth: Arc::new(AuthMemory::new()),
            exchange: Arc::new(ExchangeMemory::new()),
            kv: Arc::new(MemoryKv::default()),
            health: Health::Memory,
        });
    };
    let pool = PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_millis(config.database_acquire_timeout_ms))
        .connect(url)
        .await
        .map_err(storage_postgres::PgStoreError::from)?;
    let store = PgStore::new(pool.clone());
    store.migrate().await?;
    let mut kv_migrator = sqlx::migrate!("./migrations");
    // The history table also holds storage-postgres's migrations.
    kv_migrator.set_ignore_missing(true);
    kv_migrator
        .run(&pool)
        .await
        .map_err(storage_postgres::PgStoreError::from)?;
    tracing::info!("storage: Postgres");
    Ok(Stores {
        auth: Arc::new(store.clone()),
        exchange: Arc::new(store.clone()),
        kv: Arc::new(PgKv(pool)),
        health: Health::Postgres(store),
    })
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
        let mailer = mailer.unwrap_or_else(|| {
            if config.log_verification_codes {
                Arc::new(LogMailer)
            } else {
                Arc::new(NoopMailer)
            }
        });
        let auth = AuthService::new(
            auth_store,
            load_keys(config)?,
            &load_refresh_secret(config)?,
            auth_config(config),
        )
        .map_err(|e| StartupError::Config(e.to_string()))?
        .with_mailer(mailer);
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
        let cors_origins =
            (!config.cors_origins.iter().any(|o| o == "*")).then(|| config.cors_origins.clone());
        Ok(Self {
            auth: Arc::new(auth),
            exchange: Arc::new(exchange),
            kv,
            health,
            exchange_public_writes: config.exchange_public_writes,
            cors_origins,
            body_limit: config.body_limit_bytes,
            request_timeout: Duration::from_millis(config.request_timeout_ms),
            connections: Connections {
                max: config.max_connections,
                header_read_timeout: Duration::from_millis(config.header_read_timeout_ms),
            },
        })
    }
}
