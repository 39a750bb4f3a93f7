//! The task that keeps the session-status cache in step with the database: it
//! `LISTEN`s on one connection of its own and drops the users the notices name.

use std::sync::Weak;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::cache::SessionCache;

/// The channel the triggers of migration 0008 notify, in the same transaction as a
/// change to what `session_status` reads, with the user's id as payload (and those of
/// migration 0017 with [`SIGNING_KEYS_NOTICE`]).
pub const SESSION_STATUS_CHANNEL: &str = "storage_postgres_session_status";

/// The payload of a write of the signing keys.
pub const SIGNING_KEYS_NOTICE: &str = "signing-keys";

/// The listener's `application_name`, to find its connection in `pg_stat_activity`.
pub const LISTENER_APPLICATION_NAME: &str = "storage-postgres session listener";

/// Longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Longest a connection attempt may take before the next one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the listener on the current tokio runtime. It runs until `stop`'s sender is
/// dropped (the last clone of the store) or the cache is gone.
pub(crate) fn spawn(
    cache: Weak<SessionCache>,
    options: PgConnectOptions,
    stop: oneshot::Receiver<()>,
) -> tokio::task::JoinHandle<()> {
    let options = options.application_name(LISTENER_APPLICATION_NAME);
    tokio::spawn(async move {
        let mut current = None;
        tokio::select! {
            () = listen(&cache, &options, &mut current) => {}
            _ = stop => {}
        }
        if let Some(cache) = cache.upgrade() {
            cache.disconnected();
        }
        if let Some(pool) = current {
            pool.close().await;
        }
    })
}

/// One connection of its own per attempt, outside the store's pool (`LISTEN` holds
/// its session for good): a fresh single-connection pool each time, so an attempt
/// never waits for the slot of a connection that was lost, and a bounded connect.
fn fresh_pool(options: &PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_lazy_with(options.clone())
}

async fn listen(
    cache: &Weak<SessionCache>,
    options: &PgConnectOptions,
    current: &mut Option<PgPool>,
) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let pool = fresh_pool(options);
        if let Some(lost) = current.replace(pool.clone()) {
            // Its connection is gone or going; closing must not hold up the next.
            tokio::spawn(async move { lost.close().await });
        }
        match subscribe(&pool).await {
            Ok(mut listener) => {
                let Some(c) = cache.upgrade() else { return };
                // From here on every change is notified: start from empty.
                c.connected();
                drop(c);
                backoff = Duration::from_millis(50);
                loop {
                    let notice = listener.try_recv().await;
                    let Some(c) = cache.upgrade() else { return };
                    match notice {
                        Ok(Some(n)) if n.payload() == SIGNING_KEYS_NOTICE => {
                            c.signing_keys_changed()
                        }
                        Ok(Some(n)) => match n.payload().parse::<Uuid>() {
                            Ok(user) => c.forget_user(user),
                            Err(_) => c.forget_all(),
                        },
                        Ok(None) | Err(_) => {
                            tracing::warn!(
                                "session cache listener lost its connection; bypassing the cache"
                            );
                            c.disconnected();
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "session cache listener cannot connect; bypassing the cache");
                if cache.strong_count() == 0 {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection is reported, not silently replaced: the cache must be cleared
    // before anything is served again.
    listener.eager_reconnect(false);
    listener.listen(SESSION_STATUS_CHANNEL).await?;
    Ok(listener)
}
