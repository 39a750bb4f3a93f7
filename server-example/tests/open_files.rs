//! The server binary under a low open-files limit (`ulimit -n 1024`, set with
//! `prlimit` for the child alone): more idle sockets than descriptors never keep
//! `/healthz` waiting, because the connection cap is lowered to fit the limit and
//! the oldest idle connections make room.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;
use common::{Process, free_port};

const OPEN_FILES: u32 = 1024;
const IDLE_SOCKETS: usize = 1100;

fn start(addr: SocketAddr, data_dir: &std::path::Path, log: std::fs::File) -> Process {
    let child = Command::new("prlimit")
        .arg(format!("--nofile={OPEN_FILES}:{OPEN_FILES}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_server-example"))
        .env_clear()
        .env("BIND_ADDR", addr.to_string())
        .env("DATA_DIR", data_dir)
        .env("SEED_DEMO_DATA", "false")
        .env("RUST_LOG", "warn")
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("prlimit (util-linux) runs the server");
    Process(child)
}

/// How long `GET /healthz` takes on a new connection; panics on anything but 200.
async fn healthz(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(15), async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await?;
        std::io::Result::Ok(out)
    })
    .await;
    let out = answer
        .expect("/healthz answered")
        .expect("/healthz connection");
    assert!(
        out.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_idle_sockets_than_descriptors_never_keep_healthz_waiting() {
    // This process holds the idle sockets: it needs more than the server has.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let addr = free_port();
    let dir = std::env::temp_dir().join(format!("open-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log_path = dir.join("server.log");
    let _server = start(addr, &dir, std::fs::File::create(&log_path).unwrap());
    let up = Instant::now();
    while TcpStream::connect(addr).await.is_err() {
        assert!(
            up.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    healthz(addr).await;

    let mut idle = Vec::with_capacity(IDLE_SOCKETS);
    let mut slowest = Duration::ZERO;
    while idle.len() < IDLE_SOCKETS {
        for _ in 0..50 {
            idle.push(TcpStream::connect(addr).await.expect("connect"));
        }
        slowest = slowest.max(healthz(addr).await);
    }
    for _ in 0..5 {
        slowest = slowest.max(healthz(addr).await);
    }
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        slowest < Duration::from_secs(1),
        "/healthz took {slowest:?} with {} idle sockets open; server log:\n{log}",
        idle.len()
    );
    assert!(
        log.contains("connection cap lowered"),
        "the lowered cap is logged: {log}"
    );
    drop(idle);
    let _ = std::fs::remove_dir_all(&dir);
}
