use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use server_example::{AppState, Config, serve, spawn_rate_refresh};
use tracing_subscriber::EnvFilter;

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Argon2 takes a 19 MiB buffer per hash, freed when hashing goes idle. glibc serves so
/// large a block from mmap, but the first free raises its dynamic threshold past that
/// size, and from then on such blocks come from the heap and stay in the process. A
/// fixed threshold keeps every block of 1 MiB or more on mmap, given back on free.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_large_blocks_back() {
    // SAFETY: mallopt sets an allocator parameter and touches no memory of ours; it
    // runs first in `main`, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_large_blocks_back() {}

fn main() -> ExitCode {
    give_large_blocks_back();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info")),
        )
        .init();
    let config = Config::parse();
    match server_example::serve::raise_open_files_limit() {
        Ok(n) => tracing::info!(open_files = n, "open-files limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-files limit"),
    }
    let state = match AppState::from_config(&config, None).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.bind_addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(addr = %config.bind_addr, error = %e, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{}", config.bind_addr);
    let purge = state
        .auth
        .spawn_purger(Duration::from_secs(config.purge_interval_secs.max(1)));
    let refresh = spawn_rate_refresh(&state, config.rate_refresh_secs);
    let rotation = state.auth.spawn_key_rotation();
    let health = state.health.clone();
    let result = serve(listener, state, shutdown_signal()).await;
    purge.abort();
    if let Some(rotation) = rotation {
        rotation.abort();
    }
    if let Some(refresh) = refresh {
        refresh.abort();
    }
    // Last: the listener's connection and the pool.
    if let server_example::state::Health::Postgres(store) = health {
        store.close().await;
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}
