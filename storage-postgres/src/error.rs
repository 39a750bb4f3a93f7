//! The backend error and its mapping into the cores' store errors.

/// Errors of [`PgStore`](crate::PgStore) setup calls (connect, migrate).
#[derive(Debug, thiserror::Error)]
pub enum PgStoreError {
    /// A database error.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The schema name is not a plain lowercase identifier.
    #[error(
        "invalid schema name {0:?}: use lowercase letters, digits and '_', not starting with a digit"
    )]
    Schema(String),
    /// [`PgStore::with_pooler`](crate::PgStore::with_pooler) was called after the
    /// session cache was turned on, whose listener then connected through the pooler.
    #[error("turn the session cache on after with_pooler, so its listener connects directly")]
    CacheBeforePooler,
}

/// Whether an error means "the database cannot be reached right now" (connection
/// refused or lost, pool timeout, server shutting down or full); applications with
/// their own tables use it to answer 503 the way the stores do.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // Connection exceptions (08), shutdown/recovery (57P0x), too many connections.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300"),
        _ => false,
    }
}

/// The name of the violated constraint, for unique (23505) and foreign-key (23503)
/// violations.
pub(crate) fn violated(e: &sqlx::Error) -> Option<(&str, bool)> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    let unique = match db.code().as_deref() {
        Some("23505") => true,
        Some("23503") => false,
        _ => return None,
    };
    db.constraint().map(|c| (c, unique))
}

/// Maps a database error to auth-core's store error.
pub(crate) fn auth_error(e: sqlx::Error) -> auth_core::StoreError {
    {
        use auth_core::StoreError as S;
        match violated(&e) {
            Some(("users_login_key", true)) => return S::LoginTaken,
            Some(("users_email_key", true)) => return S::EmailTaken,
            Some(("roles_pkey", true)) => return S::RoleExists,
            Some((_, false)) => return S::NotFound,
            _ => {}
        }
        if is_unavailable(&e) {
            S::Unavailable(Box::new(e))
        } else {
            S::Backend(Box::new(e))
        }
    }
}

/// Maps a database error to exchange-core's store error.
pub(crate) fn exchange_error(e: sqlx::Error) -> exchange_core::StoreError {
    {
        use exchange_core::StoreError as S;
        match violated(&e) {
            Some(("currencies_code_key", true)) => return S::CurrencyExists,
            Some(("exchange_rates_pair_key", true)) => return S::PairExists,
            Some((c, false)) if c.starts_with("exchange_rates_") => return S::CurrencyInUse,
            _ => {}
        }
        if is_unavailable(&e) {
            S::Unavailable(Box::new(e))
        } else {
            S::Backend(Box::new(e))
        }
    }
}

impl From<PgStoreError> for auth_core::StoreError {
    fn from(e: PgStoreError) -> Self {
        match e {
            PgStoreError::Sqlx(e) => auth_error(e),
            other => auth_core::StoreError::Backend(Box::new(other)),
        }
    }
}

impl From<PgStoreError> for exchange_core::StoreError {
    fn from(e: PgStoreError) -> Self {
        match e {
            PgStoreError::Sqlx(e) => exchange_error(e),
            other => exchange_core::StoreError::Backend(Box::new(other)),
        }
    }
}
