//! Delivery of verification codes, implemented by the application.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::BoxError;

/// Sends verification codes to users. The application implements it (SMTP, an email
/// API, a queue); the library never logs the code itself.
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug + 'static {
    /// Sends `code` to `email` for the account `login`.
    async fn send_verification_code(
        &self,
        email: &str,
        login: &str,
        code: &str,
    ) -> Result<(), BoxError>;
}

/// A mailer that sends nothing; the default when email verification is off.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopMailer;

#[async_trait]
impl Mailer for NoopMailer {
    async fn send_verification_code(&self, _: &str, _: &str, _: &str) -> Result<(), BoxError> {
        Ok(())
    }
}

/// A message recorded by [`MemoryMailer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCode {
    /// Recipient.
    pub email: String,
    /// Account login.
    pub login: String,
    /// The code.
    pub code: String,
}

/// A mailer that keeps messages in memory; for tests and local development.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<SentCode>>,
}

impl MemoryMailer {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last code sent to `email`, if any.
    pub fn last_code_for(&self, email: &str) -> Option<String> {
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.iter()
            .rev()
            .find(|m| m.email.eq_ignore_ascii_case(email))
            .map(|m| m.code.clone())
    }

    /// Every message sent so far.
    pub fn sent(&self) -> Vec<SentCode> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send_verification_code(
        &self,
        email: &str,
        login: &str,
        code: &str,
    ) -> Result<(), BoxError> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(SentCode {
                email: email.to_owned(),
                login: login.to_owned(),
                code: code.to_owned(),
            });
        Ok(())
    }
}
