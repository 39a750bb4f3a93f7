//! The connection layer over raw TCP: header and idle timeouts, the connection cap,
//! early 413s and the HTTP layer's own errors.

use std::time::Duration;

use tests::{Backend, Reply, StatusCode, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far longer than any timeout configured here: reaching it means the server never
/// closed or answered.
const PATIENCE: Duration = Duration::from_secs(20);

async fn app_with(tweak: impl FnOnce(&mut server_example::Config)) -> TestApp {
    TestApp::start_with(Backend::Memory, tweak).await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.addr).await.expect("connect")
}

/// Reads until the server closes the connection; everything it sent.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server closed the connection");
    out
}

/// Reads one response with a `Content-Length` body, leaving the connection open.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before a whole response");
            out.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&out);
            if let Some(end) = text.find("\r\n\r\n") {
                let len: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if out.len() >= end + 4 + len {
                    break;
                }
            }
        }
    })
    .await
    .expect("a response came");
    String::from_utf8(out).unwrap()
}

/// The status and JSON body of a raw response.
fn parse(raw: &[u8]) -> (u16, serde_json::Value) {
    let text = String::from_utf8_lossy(raw);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "not JSON: {text}"
    );
    (status, serde_json::from_str(body).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_connections_are_closed_after_the_header_timeout() {
    let app = app_with(|c| c.header_read_timeout_ms = 300).await;
    // Connected and silent.
    let mut silent = connect(&app).await;
    // Headers begun and never finished.
    let mut half = connect(&app).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // One request answered, then idle on a kept-alive connection.
    let mut idle = connect(&app).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(read_response(&mut idle).await.starts_with("HTTP/1.1 200"));
    for (name, stream) in [
        ("silent", &mut silent),
        ("half-sent", &mut half),
        ("idle", &mut idle),
    ] {
        let rest = read_to_close(stream).await;
        assert!(
            rest.is_empty() || rest.starts_with(b"HTTP/1.1 408"),
            "{name}: {rest:?}"
        );
    }
    // The server itself is fine.
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
}

/// An HTTP/2 client (prior knowledge, no TLS) that answers the server's SETTINGS and
/// PINGs, as a live client would, and sends nothing else: the server closes it after
/// the idle timeout; until it does, this keeps reading. Returns when it is closed.
async fn idle_h2c_client(stream: &mut TcpStream) {
    const SETTINGS: u8 = 0x4;
    const PING: u8 = 0x6;
    const GOAWAY: u8 = 0x7;
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    let mut pings = 0;
    loop {
        let mut head = [0u8; 9];
        if stream.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
        let mut payload = vec![0u8; len];
        if stream.read_exact(&mut payload).await.is_err() {
            return;
        }
        let (kind, ack) = (head[3], head[4] & 1 == 1);
        match kind {
            SETTINGS if !ack => {
                let _ = stream.write_all(&[0, 0, 0, SETTINGS, 1, 0, 0, 0, 0]).await;
            }
            PING if !ack => {
                pings += 1;
                let mut pong = vec![0, 0, 8, PING, 1, 0, 0, 0, 0];
                pong.extend_from_slice(&payload);
                let _ = stream.write_all(&pong).await;
            }
            GOAWAY => {}
            _ => {}
        }
        assert!(pings < 1000, "still open after {pings} answered pings");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_h2c_connection_that_answers_pings_is_closed_after_the_timeout() {
    let app = app_with(|c| c.header_read_timeout_ms = 300).await;
    let mut stream = connect(&app).await;
    let started = std::time::Instant::now();
    tokio::time::timeout(PATIENCE, idle_h2c_client(&mut stream))
        .await
        .expect("the server closed the idle HTTP/2 connection");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_idle_connections_make_room_for_healthz() {
    // Timeouts far beyond the test: only the cap's eviction can make room.
    let app = app_with(|c| {
        c.max_connections = 8;
        c.header_read_timeout_ms = 600_000;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..8 {
        let mut s = connect(&app).await;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        assert!(read_response(&mut s).await.starts_with("HTTP/1.1 200"));
        held.push(s);
    }
    // Every slot is taken by an idle kept-alive connection; new clients still get in.
    for _ in 0..3 {
        let r = tokio::time::timeout(PATIENCE, app.get("/healthz", None))
            .await
            .expect("healthz answered at the cap");
        assert_eq!(r.status, StatusCode::OK);
    }
    // The oldest idle connections were the ones closed to make room.
    let closed = read_to_close(&mut held[0]).await;
    assert!(closed.is_empty(), "{closed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_connection_at_the_cap_finishes_its_request_first() {
    let app = app_with(|c| {
        c.max_connections = 1;
        c.header_read_timeout_ms = 600_000;
        c.body_limit_bytes = 1 << 20;
    })
    .await;
    // A request whose body is still arriving holds the only slot.
    let mut busy = connect(&app).await;
    let body = br#"{"login": "alice", "password": "Passw0rd!"}"#;
    let head = format!(
        "POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    busy.write_all(head.as_bytes()).await.unwrap();
    busy.write_all(&body[..10]).await.unwrap();
    let waiting = tokio::spawn({
        let url = app.url("/healthz");
        async move { reqwest::get(url).await.map(|r| r.status()) }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    busy.write_all(&body[10..]).await.unwrap();
    // The request completes despite the eviction...
    assert!(read_response(&mut busy).await.starts_with("HTTP/1.1 201"));
    // ...then the connection closes and the waiting client is served.
    assert!(read_to_close(&mut busy).await.is_empty());
    let status = tokio::time::timeout(PATIENCE, waiting)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_declared_oversized_body_gets_413_without_waiting_for_it() {
    // A request timeout beyond the test: only an early 413 answers in time.
    let app = app_with(|c| c.request_timeout_ms = 600_000).await;
    let mut s = connect(&app).await;
    s.write_all(b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n")
        .await
        .unwrap();
    let raw = read_response(&mut s).await;
    let (status, body) = parse(raw.as_bytes());
    assert_eq!(status, 413, "{raw}");
    assert_eq!(body["code"], "payload_too_large");
}

#[tokio::test]
async fn the_http_layers_own_errors_are_json() {
    let app = app_with(|_| {}).await;
    for request in [
        // A path that is not UTF-8.
        b"GET /currency/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        // Not HTTP at all.
        b"HELLO\r\n\r\n".to_vec(),
        // Headers far over hyper's limit.
        [
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec(),
            vec![b'a'; 1 << 20],
            b"\r\n\r\n".to_vec(),
        ]
        .concat(),
    ] {
        let mut s = connect(&app).await;
        // The server may answer and close before it has read everything.
        let _ = s.write_all(&request).await;
        let raw = read_to_close(&mut s).await;
        let (status, body) = parse(&raw);
        assert!(
            status == 400 || status == 431,
            "{}",
            String::from_utf8_lossy(&raw)
        );
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{body}"
        );
    }
    // Percent-encoded bytes that are not UTF-8 reach the router: a 400 in the API shape.
    let r: Reply = app.get("/currency/%FF%FE", None).await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_path");
}
