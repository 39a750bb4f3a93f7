//! Password reset: a one-time token mailed to the account's address.

use uuid::Uuid;

use super::{AuthService, ClientInfo, mail};
use crate::domain::{Email, Password};
use crate::error::AuthError;
use crate::limits::{self, LimitKey, Refusal};
use crate::mailer::{Mail, MailKind};

const RESET_LABEL: &str = "password-reset-token";

impl AuthService {
    /// Mails a password reset token to the account whose **verified** email address
    /// is `email`, if any (an unverified address gets nothing: it was never proven to
    /// be the owner's). The answer is the same, and takes the same path, whether or
    /// not an account has the address: after the limits are counted, storing the
    /// token and sending the mail happen in the background. The token is 256 random
    /// bits, stored only as a keyed hash, valid for [`AuthConfig::reset_token_ttl`](crate::AuthConfig::reset_token_ttl) and
    /// single use; a new request replaces it, and any change of the account's email,
    /// password or status kills it.
    ///
    /// Errors: [`AuthError::Validation`] for a malformed address (no account has
    /// one), [`AuthError::RateLimited`] past [`RequestLimits::reset_per_email`](crate::RequestLimits::reset_per_email) or
    /// [`RequestLimits::reset_per_ip`](crate::RequestLimits::reset_per_ip), for any address alike.
    pub async fn request_password_reset(
        &self,
        email: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let email = Email::parse(email)?;
        let now = self.clock.now();
        let limits = &self.config.limits;
        let keys = [
            LimitKey::address(
                "reset",
                client.ip,
                limits.reset_per_ip.attempt_limit(),
                Refusal::RateLimited,
            ),
            LimitKey::subject(
                "reset",
                email.as_str(),
                limits.reset_per_email.attempt_limit(),
                Refusal::RateLimited,
            ),
        ];
        drop(limits::reserve(&*self.store, keys, now).await?);
        let token = random_token();
        let hash = self.codec.digest(RESET_LABEL, token.as_bytes());
        let expires_at = now + self.config.reset_token_ttl;
        let (store, mailer) = (self.store.clone(), self.mailer.clone());
        let timeout = self.config.mail_timeout;
        mail::in_background(async move {
            match store
                .put_reset_token(email.as_str(), &hash, expires_at)
                .await
            {
                Ok(Some(target)) => {
                    let kind = MailKind::PasswordReset { token };
                    let mail = Mail {
                        to: target.email,
                        login: target.login,
                        kind,
                    };
                    mail::send(&*mailer, &mail, timeout).await;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "password reset token not stored"),
            }
        })
        .await;
        Ok(())
    }

    /// Sets a new password with a reset token and revokes every session of the user;
    /// the token is used up (recorded in the audit log with `client`). A second factor is not bypassed: the next login still
    /// asks for it.
    ///
    /// Errors: [`AuthError::InvalidResetToken`] for a wrong, used or expired token,
    /// [`AuthError::Validation`] (field `new_password`) for a password breaking the
    /// rules (the token stays usable).
    pub async fn confirm_password_reset(
        &self,
        token: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> Result<Uuid, AuthError> {
        let password =
            Password::parse_field("new_password", new_password, &self.config.password_policy)?;
        if !well_formed_token(token) {
            return Err(AuthError::InvalidResetToken);
        }
        let hash = self.codec.digest(RESET_LABEL, token.as_bytes());
        // A cheap look first, so a wrong token costs no password hashing.
        if self
            .store
            .reset_token_user(&hash, self.clock.now())
            .await?
            .is_none()
        {
            return Err(AuthError::InvalidResetToken);
        }
        let password_hash = self.hasher.hash(&password).await?;
        let (user_id, revoked) = self
            .store
            .consume_reset_token(
                &hash,
                self.clock.now(),
                &password_hash,
                Some(self.reset_event(client)),
            )
            .await?
            .ok_or(AuthError::InvalidResetToken)?;
        tracing::info!(%user_id, revoked, "password reset; sessions revoked");
        Ok(user_id)
    }
}

/// 256 random bits, base64url without padding (43 characters).
fn random_token() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    aws_lc_rs::rand::fill(&mut b).expect("the system random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn well_formed_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
