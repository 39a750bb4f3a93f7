//! The server's mailers: SMTP (`SMTP_URL`), a directory of JSON files for development
//! (`MAIL_DIR`), or a log line that a mail was due.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{BoxError, Mail, MailKind, Mailer};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use time::OffsetDateTime;

/// The subject and plain-text body of a mail.
fn text(mail: &Mail) -> (&'static str, String) {
    match &mail.kind {
        MailKind::VerifyEmail { code } => (
            "Your verification code",
            format!(
                "Your code to verify the email address of {} is {code}.\n",
                mail.login
            ),
        ),
        MailKind::PasswordReset { token } => (
            "Reset your password",
            format!(
                "Someone asked to reset the password of {}. To set a new one, use this \
                 token:\n\n{token}\n\nIt works once and soon expires. If it was not you, \
                 ignore this mail: the password stays as it is.\n",
                mail.login
            ),
        ),
        MailKind::ConfirmEmailChange { code } => (
            "Confirm your new email address",
            format!(
                "Your code to make this the email address of {} is {code}.\n",
                mail.login
            ),
        ),
        MailKind::EmailChangeNotice => (
            "Your email address is being changed",
            format!(
                "Someone signed in as {} asked to move the account to another email \
                 address. It changes only once that address confirms. If it was not \
                 you, change your password now.\n",
                mail.login
            ),
        ),
        _ => ("A message from your account", String::new()),
    }
}

/// Sends mail through an SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials of SMTP_URL.
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `url` (`smtp://`, `smtp://...?tls=required` for STARTTLS,
    /// `smtps://` for TLS; `user:password@` for authentication) sending as `from`.
    /// Each connection and command waits at most `timeout`.
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<Self, String> {
        let from = from
            .parse()
            .map_err(|e| format!("MAIL_FROM {from:?}: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("SMTP_URL: {e}"))?
            .timeout(Some(timeout))
            .build();
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), BoxError> {
        let (subject, body) = text(mail);
        let message = Message::builder()
            .from(self.from.clone())
            .to(mail.to.parse()?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)?;
        self.transport.send(message).await?;
        Ok(())
    }
}

/// Sends through `inner` off the request path: `send` queues the mail and returns,
/// and a failure is logged (never the secret). At most `MAX_QUEUED` mails wait; past
/// that `send` fails at once.
#[derive(Debug)]
pub struct Queued<M> {
    inner: std::sync::Arc<M>,
    queued: std::sync::Arc<tokio::sync::Semaphore>,
    sending: std::sync::Arc<tokio::sync::Semaphore>,
}

impl<M> Queued<M> {
    /// Most mails waiting at once.
    pub const MAX_QUEUED: usize = 1000;
    /// Most mails being sent at once.
    pub const MAX_SENDING: usize = 8;

    /// Queues in front of `inner`.
    pub fn new(inner: M) -> Self {
        Self {
            inner: std::sync::Arc::new(inner),
            queued: std::sync::Arc::new(tokio::sync::Semaphore::new(Self::MAX_QUEUED)),
            sending: std::sync::Arc::new(tokio::sync::Semaphore::new(Self::MAX_SENDING)),
        }
    }
}

#[async_trait]
impl<M: Mailer> Mailer for Queued<M> {
    async fn send(&self, mail: &Mail) -> Result<(), BoxError> {
        let place = self
            .queued
            .clone()
            .try_acquire_owned()
            .map_err(|_| "the mail queue is full")?;
        let (inner, sending, mail) = (self.inner.clone(), self.sending.clone(), mail.clone());
        tokio::spawn(async move {
            let _place = place;
            let Ok(_turn) = sending.acquire().await else {
                return;
            };
            if let Err(e) = inner.send(&mail).await {
                tracing::warn!(kind = mail.kind.name(), login = %mail.login, error = %e, "mail not delivered");
            }
        });
        Ok(())
    }
}

/// One mail as `MAIL_DIR` keeps it (the format of `API.md`).
#[derive(Serialize)]
struct MailFile<'a> {
    to: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339")]
    sent_at: OffsetDateTime,
}

/// Development: writes each mail as one JSON file into a directory.
#[derive(Debug)]
pub struct DirMailer {
    dir: PathBuf,
}

impl DirMailer {
    /// Writes into `dir`, created if absent.
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }
}

#[async_trait]
impl Mailer for DirMailer {
    async fn send(&self, mail: &Mail) -> Result<(), BoxError> {
        let sent_at = OffsetDateTime::now_utc();
        let (code, token) = match &mail.kind {
            MailKind::VerifyEmail { code } | MailKind::ConfirmEmailChange { code } => {
                (Some(code.as_str()), None)
            }
            MailKind::PasswordReset { token } => (None, Some(token.as_str())),
            _ => (None, None),
        };
        let json = serde_json::to_vec_pretty(&MailFile {
            to: &mail.to,
            kind: mail.kind.name(),
            code,
            token,
            sent_at,
        })?;
        // Written aside and renamed, so a reader never sees half a file.
        let name = format!(
            "{}-{}-{}",
            sent_at.unix_timestamp_nanos(),
            mail.kind.name(),
            uuid::Uuid::new_v4().simple()
        );
        let tmp = self.dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&tmp, json).await?;
        tokio::fs::rename(&tmp, self.dir.join(format!("{name}.json"))).await?;
        Ok(())
    }
}

/// Logs that a mail was due. The secret is logged only when `show_secrets` is on
/// (`LOG_VERIFICATION_CODES`, development only).
#[derive(Debug)]
pub struct LogMailer {
    /// Whether the code or token goes into the log line.
    pub show_secrets: bool,
}

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: &Mail) -> Result<(), BoxError> {
        let kind = mail.kind.name();
        if self.show_secrets {
            let secret = match &mail.kind {
                MailKind::VerifyEmail { code } | MailKind::ConfirmEmailChange { code } => {
                    code.as_str()
                }
                MailKind::PasswordReset { token } => token.as_str(),
                _ => "",
            };
            tracing::warn!(to = %mail.to, login = %mail.login, kind, %secret, "mail (LOG_VERIFICATION_CODES is on)");
        } else {
            tracing::info!(to = %mail.to, login = %mail.login, kind, "mail due, but no mailer is set up (SMTP_URL or MAIL_DIR)");
        }
        Ok(())
    }
}
