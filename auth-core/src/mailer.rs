//! Delivery of mail (verification codes, password reset tokens), implemented by the
//! application.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::BoxError;

/// What a mail carries: the secret the user needs.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MailKind {
    /// A code confirming the account's email address.
    VerifyEmail {
        /// The six-digit code.
        code: String,
    },
    /// A one-time token that sets a new password.
    PasswordReset {
        /// The token, to be put in a link or pasted by the user.
        token: String,
    },
    /// A code, sent to a new address, that confirms the account's email change.
    ConfirmEmailChange {
        /// The six-digit code.
        code: String,
    },
    /// A notice to the account's current address that a change to another address was
    /// requested; it carries no secret and names no address.
    EmailChangeNotice,
}

impl MailKind {
    /// A stable name: `verify_email`, `password_reset`, `confirm_email_change` or
    /// `email_change_notice`.
    pub fn name(&self) -> &'static str {
        match self {
            MailKind::VerifyEmail { .. } => "verify_email",
            MailKind::PasswordReset { .. } => "password_reset",
            MailKind::ConfirmEmailChange { .. } => "confirm_email_change",
            MailKind::EmailChangeNotice => "email_change_notice",
        }
    }
}

/// One mail to send. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// The account's login.
    pub login: String,
    /// What it carries.
    pub kind: MailKind,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("login", &self.login)
            .field("kind", &self.kind.name())
            .finish_non_exhaustive()
    }
}

/// Sends mail. The application implements it (SMTP, an email API, a queue); the
/// library never logs a mail's secret. The service gives each send
/// [`AuthConfig::mail_timeout`](crate::AuthConfig::mail_timeout) and logs a failure
/// (the request still succeeds); password reset mail is sent in the background, so the
/// answer takes the same time whether or not the address has an account.
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug + 'static {
    /// Sends `mail`.
    async fn send(&self, mail: &Mail) -> Result<(), BoxError>;
}

/// A mailer that sends nothing; the default.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopMailer;

#[async_trait]
impl Mailer for NoopMailer {
    async fn send(&self, _: &Mail) -> Result<(), BoxError> {
        Ok(())
    }
}

/// A mailer that keeps messages in memory; for tests and local development.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Mail>>,
}

impl MemoryMailer {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    fn last_for(&self, email: &str, pick: impl Fn(&MailKind) -> Option<&String>) -> Option<String> {
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.iter()
            .rev()
            .filter(|m| m.to.eq_ignore_ascii_case(email))
            .find_map(|m| pick(&m.kind).cloned())
    }

    /// The last verification code sent to `email`, if any.
    pub fn last_code_for(&self, email: &str) -> Option<String> {
        self.last_for(email, |k| match k {
            MailKind::VerifyEmail { code } => Some(code),
            _ => None,
        })
    }

    /// The last email change code sent to `email`, if any.
    pub fn last_email_change_code_for(&self, email: &str) -> Option<String> {
        self.last_for(email, |k| match k {
            MailKind::ConfirmEmailChange { code } => Some(code),
            _ => None,
        })
    }

    /// The last password reset token sent to `email`, if any.
    pub fn last_reset_token_for(&self, email: &str) -> Option<String> {
        self.last_for(email, |k| match k {
            MailKind::PasswordReset { token } => Some(token),
            _ => None,
        })
    }

    /// Every message sent so far.
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: &Mail) -> Result<(), BoxError> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(mail.clone());
        Ok(())
    }
}
