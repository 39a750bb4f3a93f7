//! Server configuration from flags and environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// What reuse of a refresh token revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReusePolicyArg {
    /// Every session of the user.
    User,
    /// Only the session whose token was reused.
    Session,
}

/// What `DATABASE_URL` connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PoolerArg {
    /// Postgres itself, or a pooler in session mode.
    None,
    /// A pooler in transaction mode (PgBouncer `pool_mode = transaction`).
    Transaction,
}

/// Reference auth + currency exchange server.
///
/// The defaults of the auth settings are auth-core's own, written once there.
fn auth() -> auth_core::AuthConfig {
    auth_core::AuthConfig::default()
}

/// The relying party defaults are auth-core's (`localhost`, `http://localhost:8080`).
fn passkeys() -> auth_core::PasskeyConfig {
    auth_core::PasskeyConfig::default()
}

/// The pool defaults are storage-postgres's own.
fn pool() -> storage_postgres::PoolSettings {
    storage_postgres::PoolSettings::default()
}

/// The session-cache defaults too.
fn session_cache() -> storage_postgres::SessionCacheSettings {
    storage_postgres::SessionCacheSettings::default()
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Every flag can also be set with the environment variable named in brackets.
#[derive(Clone, Parser)]
#[command(name = "server-example", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8080")]
    pub bind_addr: SocketAddr,

    /// Postgres URL. Unset or empty: in-memory stores (nothing is kept after exit).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Maximum connections in the Postgres pool.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = pool().max_connections)]
    pub database_max_connections: u32,

    /// The Postgres schema of the store's tables and migration history, apart from
    /// any other application's tables in the same database.
    #[arg(long, env = "DATABASE_SCHEMA", default_value_t = pool().schema)]
    pub database_schema: String,

    /// How long a request waits for a Postgres connection before answering 503.
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT_MS", default_value_t = millis(pool().acquire_timeout))]
    pub database_acquire_timeout_ms: u64,

    /// Postgres: how long a session's status may be answered from memory, each
    /// instance dropping a user's entries when the database notifies a change
    /// (revocation, block, roles, password). 0 turns the cache off.
    #[arg(long, env = "SESSION_CACHE_TTL_MS", default_value_t = millis(session_cache().ttl))]
    pub session_cache_ttl_ms: u64,

    /// Postgres: most sessions the cache holds.
    #[arg(long, env = "SESSION_CACHE_CAPACITY", default_value_t = session_cache().capacity)]
    pub session_cache_capacity: usize,

    /// Postgres: what DATABASE_URL connects to. `transaction`: a pooler in
    /// transaction mode; statements then run unnamed, each in a transaction, and
    /// migrations and the session cache's `LISTEN` use DATABASE_DIRECT_URL.
    #[arg(long, env = "DATABASE_POOLER", value_enum, default_value_t = PoolerArg::None)]
    pub database_pooler: PoolerArg,

    /// Postgres: a URL to the same database that keeps a session (Postgres itself),
    /// for migrations and `LISTEN` when DATABASE_POOLER is `transaction`.
    #[arg(long, env = "DATABASE_DIRECT_URL")]
    pub database_direct_url: Option<String>,

    /// Postgres: a direct URL for the session cache's `LISTEN` connection. Unset:
    /// DATABASE_DIRECT_URL behind a transaction pooler, else DATABASE_URL.
    #[arg(long, env = "DATABASE_LISTEN_URL")]
    pub database_listen_url: Option<String>,

    /// Directory for generated secrets (signing key, refresh secret), so restarts do
    /// not log everyone out.
    #[arg(long, env = "DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Ed25519 signing key, PKCS#8 PEM. Unset: generated into DATA_DIR.
    #[arg(long, env = "SIGNING_KEY_FILE")]
    pub signing_key_file: Option<PathBuf>,

    /// Retired keys that still verify (comma-separated PEM files, private or public).
    #[arg(long, env = "VERIFICATION_KEY_FILES", value_delimiter = ',')]
    pub verification_key_files: Vec<PathBuf>,

    /// Keep the signing keys in the store and rotate them every this many days (0:
    /// off; the key files or the generated key sign, as loaded). Every instance on
    /// one store then signs with the same key; a new key is published in the JWKS
    /// before it signs, and the old one stays published until its tokens expired.
    #[arg(long, env = "SIGNING_KEY_ROTATION_DAYS", default_value_t = 0)]
    pub signing_key_rotation_days: u32,

    /// The rotation period in seconds, instead of SIGNING_KEY_ROTATION_DAYS (for
    /// trying rotation out, and tests).
    #[arg(long, env = "SIGNING_KEY_ROTATION_SECS")]
    pub signing_key_rotation_secs: Option<u64>,

    /// Seconds resource servers may cache the JWKS (its `Cache-Control: max-age`); a
    /// rotating key is published at least this long, plus a poll, before it signs.
    #[arg(long, env = "JWKS_MAX_AGE_SECS", default_value_t = 300)]
    pub jwks_max_age_secs: u64,

    /// Milliseconds between two reads of the stored signing keys by each instance: a
    /// rotation or revocation made elsewhere takes effect within it.
    #[arg(long, env = "SIGNING_KEY_POLL_MS", default_value_t = 10_000)]
    pub signing_key_poll_ms: u64,

    /// Sign with HS256 and this secret (at least 32 bytes) instead of EdDSA; for a
    /// single service that verifies its own tokens. Nothing is published in the JWKS.
    #[arg(long, env = "JWT_HS256_SECRET", hide_env_values = true)]
    pub jwt_hs256_secret: Option<String>,

    /// Secret for refresh-token tags (at least 32 bytes). Unset: generated into DATA_DIR.
    #[arg(long, env = "REFRESH_SECRET", hide_env_values = true)]
    pub refresh_secret: Option<String>,

    /// `iss` of access tokens.
    #[arg(long, env = "JWT_ISSUER", default_value = "server-example")]
    pub jwt_issuer: String,

    /// `aud` of access tokens.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "server-example")]
    pub jwt_audience: String,

    /// Access token lifetime in seconds.
    #[arg(long, env = "ACCESS_TTL_SECS", default_value_t = auth().access_ttl.whole_seconds())]
    pub access_ttl_secs: i64,

    /// Absolute session lifetime in seconds (default 30 days).
    #[arg(long, env = "SESSION_TTL_SECS", default_value_t = auth().session_ttl.whole_seconds())]
    pub session_ttl_secs: i64,

    /// Idle session lifetime in seconds (default 7 days).
    #[arg(long, env = "IDLE_TTL_SECS", default_value_t = auth().idle_ttl.whole_seconds())]
    pub idle_ttl_secs: i64,

    /// Seconds during which the previous refresh token counts as a retry.
    #[arg(long, env = "REUSE_GRACE_SECS", default_value_t = auth().reuse_grace.whole_seconds())]
    pub reuse_grace_secs: i64,

    /// How many verified access tokens are remembered, so each token's signature is
    /// checked once. 0 checks it on every request.
    #[arg(long, env = "VERIFIED_TOKEN_CACHE", default_value_t = auth().verified_token_cache)]
    pub verified_token_cache: usize,

    /// What reuse of a refresh token revokes.
    #[arg(long, env = "REUSE_POLICY", value_enum, default_value = "user")]
    pub reuse_policy: ReusePolicyArg,

    /// Require a verified email before login.
    #[arg(long, env = "REQUIRE_EMAIL_VERIFICATION", default_value_t = false, action = clap::ArgAction::Set)]
    pub require_email_verification: bool,

    /// Log verification codes instead of mailing them (development only).
    #[arg(long, env = "LOG_VERIFICATION_CODES", default_value_t = false, action = clap::ArgAction::Set)]
    pub log_verification_codes: bool,

    /// Characters a login may hold besides Latin letters and digits: any of `._-@`
    /// (`._-@` allows email-like logins).
    #[arg(long, env = "LOGIN_EXTRA_CHARS", default_value = "")]
    pub login_extra_chars: String,

    /// Failed logins allowed per login within THROTTLE_WINDOW_SECS before attempts get
    /// 429 (0: no per-login limit).
    #[arg(long, env = "LOGIN_MAX_FAILURES", default_value_t = auth().throttle.max_failures_per_login)]
    pub login_max_failures: u32,

    /// Failed logins and verification codes allowed per client address within the
    /// window (0: no per-address limit).
    #[arg(long, env = "LOGIN_MAX_FAILURES_PER_IP", default_value_t = auth().throttle.max_failures_per_ip)]
    pub login_max_failures_per_ip: u32,

    /// Window in which failures are counted, in seconds.
    #[arg(long, env = "THROTTLE_WINDOW_SECS", default_value_t = auth().throttle.window.whole_seconds())]
    pub throttle_window_secs: i64,

    /// Wait after reaching a limit, in seconds; doubles with each further failure.
    #[arg(long, env = "THROTTLE_BASE_DELAY_SECS", default_value_t = auth().throttle.base_delay.whole_seconds())]
    pub throttle_base_delay_secs: i64,

    /// Registrations allowed per client address per minute (0: unlimited).
    #[arg(long, env = "REGISTER_LIMIT_PER_MINUTE", default_value_t = auth().limits.register_per_ip.max)]
    pub register_limit_per_minute: u32,

    /// Refreshes allowed per client address per minute (0: unlimited).
    #[arg(long, env = "REFRESH_LIMIT_PER_MINUTE", default_value_t = auth().limits.refresh_per_ip.max)]
    pub refresh_limit_per_minute: u32,

    /// Wrong verification codes allowed per login within THROTTLE_WINDOW_SECS, with
    /// the throttle's delays after that; a new code does not restore them.
    #[arg(long, env = "VERIFY_MAX_ATTEMPTS", default_value_t = auth().verification_max_attempts)]
    pub verify_max_attempts: u32,

    /// Email changes allowed per user per hour (0: unlimited).
    #[arg(long, env = "EMAIL_CHANGE_LIMIT_PER_HOUR", default_value_t = auth().limits.email_changes_per_user.max)]
    pub email_change_limit_per_hour: u32,

    /// Seconds a login waits between two verification code resends (0: no wait).
    #[arg(long, env = "RESEND_COOLDOWN_SECS", default_value_t = auth().limits.resend_per_login.window.whole_seconds())]
    pub resend_cooldown_secs: i64,

    /// Verification code resends allowed per client address per 15 minutes
    /// (0: unlimited).
    #[arg(long, env = "RESEND_LIMIT_PER_IP", default_value_t = auth().limits.resend_per_ip.max)]
    pub resend_limit_per_ip: u32,

    /// The server's public base URL (e.g. `https://auth.example.com`), for the
    /// discovery document's `jwks_uri`. Unset: the issuer when it is a URL, else the
    /// request's `Host`.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,

    /// The WebAuthn relying party id passkeys are bound to: the site's registrable
    /// domain (`example.com`). Browsers accept no IP address here; locally, open the
    /// server as `http://localhost:8080`.
    #[arg(long, env = "WEBAUTHN_RP_ID", default_value_t = passkeys().rp_id)]
    pub webauthn_rp_id: String,

    /// The origin the pages that use passkeys run at (`https://app.example.com`); its
    /// host must be the RP id or under it.
    #[arg(long, env = "WEBAUTHN_ORIGIN", default_value_t = passkeys().origin)]
    pub webauthn_origin: String,

    /// Passwordless passkey sign-ins started per client address per minute (0:
    /// unlimited); each keeps a challenge in the store for minutes.
    #[arg(long, env = "PASSKEY_SIGN_IN_LIMIT_PER_MINUTE", default_value_t = auth().limits.passkey_sign_in_per_ip.max)]
    pub passkey_sign_in_limit_per_minute: u32,

    /// Days audit events are kept (0: for good); older ones go with each purge.
    #[arg(long, env = "AUDIT_RETENTION_DAYS", default_value_t = 365)]
    pub audit_retention_days: u32,

    /// The name browsers show in their passkey prompts.
    #[arg(long, env = "WEBAUTHN_RP_NAME", default_value = "server-example")]
    pub webauthn_rp_name: String,

    /// Seconds a password reset token stays valid.
    #[arg(long, env = "RESET_TOKEN_TTL_SECS", default_value_t = auth().reset_token_ttl.whole_seconds())]
    pub reset_token_ttl_secs: i64,

    /// Password reset requests allowed per email address (known or not) per hour
    /// (0: unlimited).
    #[arg(long, env = "RESET_LIMIT_PER_EMAIL", default_value_t = auth().limits.reset_per_email.max)]
    pub reset_limit_per_email: u32,

    /// Password reset requests allowed per client address per 15 minutes
    /// (0: unlimited).
    #[arg(long, env = "RESET_LIMIT_PER_IP", default_value_t = auth().limits.reset_per_ip.max)]
    pub reset_limit_per_ip: u32,

    /// Send mail through this SMTP server: `smtp://host:25` (plain), `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://host:465` (TLS); credentials as `smtps://user:pass@host`.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender address of mail.
    #[arg(long, env = "MAIL_FROM", default_value = "no-reply@localhost")]
    pub mail_from: String,

    /// Development: write each mail as a JSON file into this directory instead of
    /// sending it (when SMTP_URL is unset).
    #[arg(long, env = "MAIL_DIR")]
    pub mail_dir: Option<PathBuf>,

    /// Live sessions a user may have; a login past it revokes the oldest (0: no cap).
    #[arg(long, env = "MAX_SESSIONS_PER_USER", default_value_t = auth().max_sessions_per_user)]
    pub max_sessions_per_user: u32,

    /// Milliseconds a client has to send a request's headers, on a new connection
    /// and between requests on a kept-alive one; the connection is closed after that.
    #[arg(long, env = "HEADER_READ_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_read_timeout_ms: u64,

    /// Connections served at once; a client arriving at the cap makes the oldest
    /// connection close (0: no cap). Lowered at start to the open-files limit less a
    /// reserve for the pool, the listener, mail and files.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,

    /// Proxies and load balancers whose `Forwarded` or `X-Forwarded-For` header gives
    /// the client address (comma-separated addresses or CIDR networks, e.g.
    /// `10.0.0.0/8,127.0.0.1`). From any other peer those headers are ignored. Default:
    /// none, the client is the TCP peer.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',', value_parser = auth_axum::parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Login of the administrator created at start if absent.
    #[arg(long, env = "ADMIN_LOGIN")]
    pub admin_login: Option<String>,

    /// Password of that administrator.
    #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Let anyone create and update currencies and rates (deletes still need admin).
    #[arg(long, env = "EXCHANGE_PUBLIC_WRITES", default_value_t = false, action = clap::ArgAction::Set)]
    pub exchange_public_writes: bool,

    /// Pivot currency for cross rates.
    #[arg(long, env = "PIVOT_CURRENCY", default_value = "USD")]
    pub pivot_currency: String,

    /// Conversions read rates from an in-memory snapshot at most this old (ms). Writes
    /// through this instance are seen at once, writes through other instances within
    /// this time. 0: every conversion reads the store.
    #[arg(long, env = "RATE_SNAPSHOT_MS", default_value_t = 1000)]
    pub rate_snapshot_ms: u64,

    /// Where to fetch rates from: an http(s) URL or a file path of a file in the ECB's
    /// reference-rate format (daily, 90-day or full history). Unset: no feed; rates
    /// come only from the routes.
    #[arg(long, env = "RATE_SOURCE_URL")]
    pub rate_source_url: Option<String>,

    /// Seconds between fetches of RATE_SOURCE_URL (the first is at start). A failed or
    /// malformed fetch keeps the rates and is retried at the next one. 0: at start only.
    #[arg(long, env = "RATE_REFRESH_SECS", default_value_t = 3600)]
    pub rate_refresh_secs: u64,

    /// Origins allowed by CORS on the auth, user, admin and kv routes (comma-separated;
    /// `*` for any). The exchange routes allow any origin.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',', default_value = "*")]
    pub cors_origins: Vec<String>,

    /// Load demo currencies and USD rates into an empty store. Default: on in memory
    /// mode, off with Postgres.
    #[arg(long, env = "SEED_DEMO_DATA", action = clap::ArgAction::Set)]
    pub seed_demo_data: Option<bool>,

    /// Largest accepted request body in bytes.
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 65_536)]
    pub body_limit_bytes: usize,

    /// Requests running longer than this many milliseconds get 503.
    #[arg(long, env = "REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,

    /// Seconds between purges of expired sessions and codes.
    #[arg(long, env = "PURGE_INTERVAL_SECS", default_value_t = 3600)]
    pub purge_interval_secs: u64,
}

/// Secrets print as `[redacted]`, so a logged configuration leaks nothing.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |v: &Option<String>| if v.is_some() { "[redacted]" } else { "unset" };
        f.debug_struct("Config")
            .field("bind_addr", &self.bind_addr)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "[redacted]"),
            )
            .field("database_pooler", &self.database_pooler)
            .field(
                "database_direct_url",
                &self.database_direct_url.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "database_listen_url",
                &self.database_listen_url.as_ref().map(|_| "[redacted]"),
            )
            .field("session_cache_ttl_ms", &self.session_cache_ttl_ms)
            .field("data_dir", &self.data_dir)
            .field("signing_key_file", &self.signing_key_file)
            .field("verification_key_files", &self.verification_key_files)
            .field("jwt_hs256_secret", &secret(&self.jwt_hs256_secret))
            .field("refresh_secret", &secret(&self.refresh_secret))
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("admin_login", &self.admin_login)
            .field("admin_password", &secret(&self.admin_password))
            .field("exchange_public_writes", &self.exchange_public_writes)
            .field(
                "rate_source_url",
                &self.rate_source_url.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "require_email_verification",
                &self.require_email_verification,
            )
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The configuration of a start with no flags: defaults, overridden by the
    /// environment variables that are set.
    pub fn defaults() -> Self {
        Self::parse_from(["server-example"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let mut c = Config::defaults();
        c.admin_password = Some("Adm1n-secret!".into());
        c.jwt_hs256_secret = Some("hs256-secret-hs256-secret-hs256-secret".into());
        c.refresh_secret = Some("refresh-secret-refresh-secret-refresh".into());
        c.database_url = Some("postgres://user:db-pass@host/db".into());
        c.database_listen_url = Some("postgres://user:listen-pass@host/db".into());
        c.database_direct_url = Some("postgres://user:direct-pass@host/db".into());
        let out = format!("{c:?}");
        for secret in [
            "Adm1n-secret!",
            "hs256-secret",
            "refresh-secret",
            "db-pass",
            "listen-pass",
            "direct-pass",
        ] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
        assert!(out.contains("[redacted]"));
    }
}
