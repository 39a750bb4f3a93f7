//! The connection layer: accepting, capping and timing out client connections.
//!
//! `axum::serve` neither caps connections nor times out a client that never finishes
//! its headers, so one client holding idle sockets could exhaust the process's file
//! descriptors. This loop serves the same router with hyper directly:
//! - a connection that has not sent a complete request head within
//!   [`Connections::header_read_timeout`] is closed. hyper starts that timer whenever
//!   it waits for a request head, so it bounds both a new connection's first request
//!   and the idle time of a kept-alive connection between requests;
//! - at most [`Connections::max`] connections are served at once. A client arriving
//!   at the cap makes the oldest connection close gracefully (at once when it is idle,
//!   after its response when it is busy) and is served as soon as a slot is free: a
//!   flood of idle sockets cannot keep `/healthz` or anyone else out, and half-sent
//!   heads are bounded by the header timeout. The cap is lowered at start to the
//!   open-files limit less a reserve ([`connection_cap`]), and an accept that fails
//!   for lack of descriptors closes the oldest connection instead of waiting;
//! - a connection with no request in flight for [`Connections::header_read_timeout`]
//!   is closed, HTTP/2 included (hyper bounds only HTTP/1's idle time, and an HTTP/2
//!   client that answers pings would otherwise stay forever).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, watch};
use tower::ServiceExt;

/// Limits on client connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    /// Connections served at once (0: no cap).
    pub max: usize,
    /// Time a client has to send a request head, on a new connection and between
    /// requests on a kept-alive one.
    pub header_read_timeout: Duration,
}

/// Open connections in accept order, each by the signal that asks it to close.
#[derive(Default)]
struct Open(Mutex<VecDeque<Weak<Notify>>>);

impl Open {
    fn push(&self, evict: &Arc<Notify>, max: usize) {
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Closed connections leave dead entries; sweep them now and then.
        if q.len() >= max.saturating_mul(2).max(64) {
            q.retain(|w| w.strong_count() > 0);
        }
        q.push_back(Arc::downgrade(evict));
    }

    /// Asks the oldest open connection to close; false if there is none.
    fn evict_oldest(&self) -> bool {
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(w) = q.pop_front() {
            if let Some(evict) = w.upgrade() {
                evict.notify_one();
                return true;
            }
        }
        false
    }
}

/// What a connection is doing: requests in flight, and when the last one ended.
struct Activity {
    in_flight: AtomicUsize,
    /// Milliseconds from `since` to the end of the last request (or the start).
    last: AtomicU64,
    since: Instant,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last: AtomicU64::new(0),
            since: Instant::now(),
        }
    }

    fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
    }

    fn end(&self) {
        let now = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::SeqCst);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// Resolves once no request has been in flight for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let last = self.since + Duration::from_millis(self.last.load(Ordering::SeqCst));
            let deadline = last + timeout;
            if self.in_flight.load(Ordering::SeqCst) == 0 && Instant::now() >= deadline {
                return;
            }
            let wake = deadline.max(Instant::now() + timeout / 4);
            tokio::time::sleep_until(wake.into()).await;
        }
    }
}

/// Descriptors the connection cap leaves for everything else besides the database
/// pool: the listening socket, the session-status listener, SMTP connections, key and
/// mail files, logs.
pub const FD_RESERVE: u64 = 64;

/// The connection cap in force: `configured` (0: none), lowered to what `open_files`
/// leaves after `reserve`, so accepting never runs out of descriptors first.
pub fn connection_cap(configured: usize, open_files: Option<u64>, reserve: u64) -> usize {
    let Some(limit) = open_files else {
        return configured;
    };
    let room = usize::try_from(limit.saturating_sub(reserve))
        .unwrap_or(usize::MAX)
        .max(1);
    if configured == 0 {
        room
    } else {
        configured.min(room)
    }
}

/// The soft limit of open files, if the platform tells.
pub fn open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rlimit::getrlimit(rlimit::Resource::NOFILE)
            .ok()
            .map(|(soft, _)| soft)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Whether an accept failed because the process or the system is out of descriptors.
fn out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// Serves `router` on `listener` within `limits` until `shutdown` resolves, then stops
/// accepting and lets open connections finish their requests.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    limits: Connections,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.header_read_timeout)
        .keep_alive_timeout(limits.header_read_timeout);
    let builder = Arc::new(builder);
    // Every connection holds a permit; all permits back means all connections ended.
    let slots = if limits.max == 0 {
        u32::MAX
    } else {
        u32::try_from(limits.max).unwrap_or(u32::MAX)
    };
    let permits = Arc::new(Semaphore::new(slots as usize));
    let open = Arc::new(Open::default());
    let (stop, stopped) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) if out_of_descriptors(&e) => {
                    // Make room rather than wait: the oldest connection closes (an
                    // idle one at once), and the next accept gets its descriptor.
                    let evicted = open.evict_oldest();
                    tracing::warn!(evicted, "out of file descriptors; closing the oldest connection");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if open.evict_oldest() {
                    tracing::debug!(
                        max = limits.max,
                        "connection cap reached; closing the oldest"
                    );
                }
                tokio::select! {
                    p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let activity = Arc::new(Activity::new());
        let counted = activity.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            let (router, counted) = (router.clone(), counted.clone());
            counted.begin();
            async move {
                let response = router.oneshot(req).await;
                counted.end();
                response
            }
        });
        let evict = Arc::new(Notify::new());
        open.push(&evict, limits.max);
        let builder = builder.clone();
        let mut stopped = stopped.clone();
        let first_byte_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            // hyper's header timer only starts once the protocol is detected, which
            // needs a first byte: a silent client gets the same time to send one.
            let mut first = [0u8; 1];
            let spoke = tokio::select! {
                // Bytes already there win over an eviction: only a silent client is
                // closed before it has spoken.
                biased;
                r = tokio::time::timeout(first_byte_timeout, stream.peek(&mut first)) => {
                    matches!(r, Ok(Ok(n)) if n > 0)
                }
                () = evict.notified() => false,
                () = async { let _ = stopped.wait_for(|s| *s).await; } => false,
            };
            if !spoke {
                drop(permit);
                return;
            }
            let stream = JsonHttpErrors::new(stream);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                biased;
                r = conn.as_mut() => r,
                () = evict.notified() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
                () = async { let _ = stopped.wait_for(|s| *s).await; } => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
                () = activity.idle_for(first_byte_timeout) => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection gives its permit back when it ends.
    let _ = permits.acquire_many(slots).await;
    Ok(())
}

/// A failed accept: a client that gave up is nothing; anything else (out of file
/// descriptors, say) is logged and waited out briefly.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind as K;
    if matches!(
        e.kind(),
        K::ConnectionRefused | K::ConnectionAborted | K::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept error");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Raises the soft limit of open files to the hard limit, so the connection cap, not
/// the descriptor limit, is what refuses clients. Returns the limit now in force.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    #[cfg(unix)]
    {
        rlimit::increase_nofile_limit(u64::MAX)
    }
    #[cfg(not(unix))]
    {
        Err(std::io::Error::other("not supported on this platform"))
    }
}

/// A client socket whose responses from hyper itself (a request it could not parse:
/// a path that is not UTF-8, headers over its limit) go out in the API's JSON error
/// shape. hyper writes those as a bodiless head with `connection: close` and no
/// content type, which no response of the application has (every error of ours is
/// JSON), so they are recognised by their head and replaced whole.
struct JsonHttpErrors<S> {
    inner: S,
    /// A replacement still being written.
    pending: Vec<u8>,
    written: usize,
}

impl<S> JsonHttpErrors<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

/// The JSON response to send instead of `head`, if `head` is one of hyper's own error
/// responses.
fn json_error_for(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line
        .strip_prefix("HTTP/1.1 ")?
        .get(..3)?
        .parse()
        .ok()?;
    let headers: Vec<String> = lines.map(str::to_ascii_lowercase).collect();
    let own_error = (400..600).contains(&status)
        && body.is_empty()
        && headers.iter().any(|h| h == "connection: close")
        && headers.iter().any(|h| h == "content-length: 0")
        && !headers.iter().any(|h| h.starts_with("content-type:"));
    if !own_error {
        return None;
    }
    let status = axum::http::StatusCode::from_u16(status).ok()?;
    let (code, message) = crate::error::framework_error(status);
    let json = serde_json::json!({ "message": message, "code": code }).to_string();
    Some(
        format!(
            "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
            json.len()
        )
        .into_bytes(),
    )
}

impl<S: tokio::io::AsyncWrite + Unpin> JsonHttpErrors<S> {
    /// Writes what is left of a replacement; ready once it is all out.
    fn poll_pending(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        while self.written < self.pending.len() {
            let n = std::task::ready!(
                std::pin::Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for JsonHttpErrors<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for JsonHttpErrors<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::ready!(self.poll_pending(cx))?;
        // hyper's own error heads are short and written in one piece.
        if buf.len() < 512
            && let Some(json) = json_error_for(buf)
        {
            self.pending = json;
            self.written = 0;
            // The replacement counts as this write; it is finished by later calls.
            let _ = self.poll_pending(cx)?;
            return std::task::Poll::Ready(Ok(buf.len()));
        }
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match bufs.iter().find(|b| !b.is_empty()) {
            // A single piece may be one of hyper's error heads.
            Some(first) if bufs.iter().filter(|b| !b.is_empty()).count() == 1 => {
                self.poll_write(cx, first)
            }
            _ => {
                std::task::ready!(self.poll_pending(cx))?;
                std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_own_error_heads_become_json() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Tue, 24 Nov 2026 04:19:51 GMT\r\n\r\n";
        let out = String::from_utf8(json_error_for(head).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], "headers_too_large");
    }

    #[test]
    fn responses_of_the_application_pass_untouched() {
        for head in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 204 No Content\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}",
            b"not http",
        ] {
            assert!(json_error_for(head).is_none(), "{}", String::from_utf8_lossy(head));
        }
    }

    #[tokio::test]
    async fn a_replacement_is_written_whole_through_a_slow_socket() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, server) = tokio::io::duplex(16);
        let mut shaped = JsonHttpErrors::new(server);
        let head = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        let reader = tokio::spawn(async move {
            let mut client = client;
            let mut out = Vec::new();
            client.read_to_end(&mut out).await.unwrap();
            out
        });
        shaped.write_all(head).await.unwrap();
        shaped.shutdown().await.unwrap();
        drop(shaped);
        let out = String::from_utf8(reader.await.unwrap()).unwrap();
        assert_eq!(out.as_bytes(), json_error_for(head).unwrap().as_slice());
    }

    #[test]
    fn the_connection_cap_leaves_the_reserve_of_the_open_files_limit() {
        assert_eq!(connection_cap(4096, Some(1024), 74), 950);
        assert_eq!(connection_cap(100, Some(1024), 74), 100);
        assert_eq!(
            connection_cap(0, Some(1024), 74),
            950,
            "no cap: the limit's"
        );
        assert_eq!(connection_cap(4096, None, 74), 4096);
        assert_eq!(connection_cap(4096, Some(10), 74), 1, "never zero");
    }
}
