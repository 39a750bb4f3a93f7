//! Sending mail with a time limit, in the request or in the background.

use super::*;

impl AuthService {
    /// Sends `mail` within [`AuthConfig::mail_timeout`]; a failure is logged, never
    /// the secret.
    pub(super) async fn deliver(&self, mail: Mail) {
        send(&*self.mailer, &mail, self.config.mail_timeout).await;
    }

    /// Sends `mail` in the background, so the caller's answer does not wait for it
    /// (or reveal by its timing that it was sent).
    /// Outside a tokio runtime it sends at once instead.
    pub(super) async fn deliver_later(&self, mail: Mail) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return self.deliver(mail).await;
        };
        let (mailer, timeout) = (self.mailer.clone(), self.config.mail_timeout);
        runtime.spawn(async move { send(&*mailer, &mail, timeout).await });
    }
}

async fn send(mailer: &dyn Mailer, mail: &Mail, timeout: Duration) {
    let limit = timeout.try_into().unwrap_or(std::time::Duration::ZERO);
    let kind = mail.kind.name();
    match tokio::time::timeout(limit, mailer.send(mail)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(kind, login = %mail.login, error = %e, "mail not delivered"),
        Err(_) => tracing::warn!(kind, login = %mail.login, "mail not delivered in time"),
    }
}
