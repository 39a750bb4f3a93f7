//! Sending mail with a time limit, in the request or in the background.

use time::Duration;

use super::AuthService;
use crate::mailer::{Mail, Mailer};

impl AuthService {
    /// Sends `mail` within [`AuthConfig::mail_timeout`]; a failure is logged, never
    /// the secret.
    pub(super) async fn deliver(&self, mail: Mail) {
        send(&*self.mailer, &mail, self.config.mail_timeout).await;
    }
}

/// Runs `work` in the background on the current tokio runtime, or at once outside one.
pub(super) async fn in_background(work: impl Future<Output = ()> + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn(work)),
        Err(_) => work.await,
    }
}

pub(super) async fn send(mailer: &dyn Mailer, mail: &Mail, timeout: Duration) {
    let limit = timeout.try_into().unwrap_or(std::time::Duration::ZERO);
    let kind = mail.kind.name();
    match tokio::time::timeout(limit, mailer.send(mail)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(kind, login = %mail.login, error = %e, "mail not delivered"),
        Err(_) => tracing::warn!(kind, login = %mail.login, "mail not delivered in time"),
    }
}
