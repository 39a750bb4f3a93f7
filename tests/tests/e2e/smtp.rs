//! Mail through a real SMTP listener: a small SMTP server of the test's own, speaking
//! the protocol over TCP, receives what the server sends.

use std::sync::{Arc, Mutex};

use serde_json::json;
use tests::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Accepts SMTP sessions and keeps each message's envelope and data.
struct SmtpSink {
    port: u16,
    messages: Arc<Mutex<Vec<(String, String)>>>,
}

impl SmtpSink {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let kept = messages.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                    let (mut rcpt, mut data, mut in_data) = (String::new(), String::new(), false);
                    while let Ok(Some(line)) = lines.next_line().await {
                        if in_data {
                            if line == "." {
                                in_data = false;
                                kept.lock().unwrap().push((rcpt.clone(), data.clone()));
                                write.write_all(b"250 queued\r\n").await.unwrap();
                            } else {
                                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                                data.push('\n');
                            }
                            continue;
                        }
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "RCPT" => {
                                rcpt = line[8..].trim().trim_matches(['<', '>']).to_owned();
                                b"250 ok\r\n"
                            }
                            "DATA" => {
                                in_data = true;
                                data.clear();
                                b"354 go ahead\r\n"
                            }
                            "QUIT" => {
                                write.write_all(b"221 bye\r\n").await.ok();
                                break;
                            }
                            _ => b"250 ok\r\n",
                        };
                        write.write_all(reply).await.unwrap();
                    }
                });
            }
        });
        Self { port, messages }
    }

    /// The first message to `to` whose data contains `needle`, waiting up to 5 s.
    async fn message(&self, to: &str, needle: &str) -> String {
        for _ in 0..500 {
            let found = self
                .messages
                .lock()
                .unwrap()
                .iter()
                .find(|(rcpt, data)| rcpt == to && data.contains(needle))
                .map(|(_, data)| data.clone());
            if let Some(data) = found {
                return data;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("no message to {to} containing {needle:?}");
    }
}

#[tokio::test]
async fn reset_mail_goes_through_a_real_smtp_listener() {
    let sink = SmtpSink::start().await;
    let url = format!("smtp://127.0.0.1:{}", sink.port);
    let app = TestApp::start_with(Backend::Memory, move |c| {
        c.smtp_url = Some(url);
        c.mail_from = "auth@example.test".into();
    })
    .await;
    app.register_with_email("alice", "alice@example.com").await;
    let verify = sink
        .message("alice@example.com", "verify the email address of alice")
        .await;
    assert!(verify.contains("From: auth@example.test"), "{verify}");
    // A reset goes only to a verified address.
    let code = verify
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {verify}"));
    let v = app
        .post(
            "/auth/verify-email",
            None,
            json!({"login": "alice", "code": code}),
        )
        .await;
    assert_eq!(v.status, StatusCode::NO_CONTENT, "{}", v.text);
    let r = app
        .post(
            "/auth/password-reset",
            None,
            json!({"email": "alice@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let mail = sink
        .message("alice@example.com", "reset the password of alice")
        .await;
    let token = mail
        .split_whitespace()
        .find(|w| {
            w.len() == 43
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .unwrap_or_else(|| panic!("no token in {mail}"));
    let done = app
        .post(
            "/auth/password-reset/confirm",
            None,
            json!({"token": token, "new_password": "N3w-passw0rd"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.text);
    app.login("alice", "N3w-passw0rd").await;
}

#[tokio::test]
async fn a_silent_smtp_server_does_not_stall_requests() {
    // Accepts connections, hands them to the test and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (accepted, mut connections) = tokio::sync::mpsc::unbounded_channel();
    let held = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            accepted.send(socket).ok();
        }
    });
    let app = TestApp::start_with(Backend::Memory, move |c| c.smtp_url = Some(url)).await;
    app.register_with_email("alice", "alice@example.com").await;
    let r = app
        .post(
            "/auth/password-reset",
            None,
            json!({"email": "alice@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    // Both answers are in, and the mailer still waits for a greeting on its open
    // connection: the requests did not wait for the mail.
    let socket = tokio::time::timeout(std::time::Duration::from_secs(5), connections.recv())
        .await
        .expect("the mailer connects")
        .unwrap();
    let mut buf = [0u8; 16];
    assert!(
        matches!(socket.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the mailer gave up before the answers came"
    );
    held.abort();
}
