//! Email change: pending until the new address confirms a mailed code; the old
//! address is told.

use super::verification::{CODE_LABEL, random_code, well_formed_code};
use super::{AuthService, ClientInfo, GuessKeys, Principal, not_found};
use crate::domain::Email;
use crate::error::AuthError;
use crate::limits::{self, LimitKey, Refusal};
use crate::mailer::{Mail, MailKind};
use crate::store::AuditKind;
use crate::store::{EmailChange, User};

impl AuthService {
    /// Starts changing the caller's email to `email`. Needs a recent re-authentication
    /// of the session ([`AuthService::reauthenticate`]). A six-digit code is mailed to
    /// the new address and a notice (no secret, no address) to the current one; the
    /// account keeps its current address, verified or not, until
    /// [`AuthService::confirm_email_change`]. A new request replaces a pending one.
    /// The current address itself is no change: nothing happens.
    ///
    /// Errors: [`AuthError::Validation`] (field `email`),
    /// [`AuthError::ReauthenticationRequired`], [`AuthError::EmailTaken`] when another
    /// account has the address, [`AuthError::RateLimited`] past
    /// [`RequestLimits::email_changes_per_user`](crate::RequestLimits::email_changes_per_user) (taken addresses count too).
    pub async fn request_email_change(
        &self,
        who: &Principal,
        email: &str,
    ) -> Result<(), AuthError> {
        let email = Email::parse(email)?;
        if who.user.email.as_deref() == Some(email.as_str()) {
            return Ok(());
        }
        self.require_recent_auth(who).await?;
        let limit = self.config.limits.email_changes_per_user.attempt_limit();
        let key = LimitKey::subject(
            "email",
            &who.user_id.to_string(),
            limit,
            Refusal::RateLimited,
        );
        drop(limits::reserve(&*self.store, [key], self.clock.now()).await?);
        let code = random_code();
        self.store
            .put_email_change(EmailChange {
                user_id: who.user_id,
                email: email.as_str().to_owned(),
                code_hash: self.codec.digest(CODE_LABEL, code.as_bytes()),
                expires_at: self.clock.now() + self.config.email_change_ttl,
            })
            .await
            .map_err(|e| not_found(e, "user"))?;
        self.deliver(Mail {
            to: email.as_str().to_owned(),
            login: who.user.login.clone(),
            kind: MailKind::ConfirmEmailChange { code },
        })
        .await;
        if let Some(old) = &who.user.email {
            self.deliver(Mail {
                to: old.clone(),
                login: who.user.login.clone(),
                kind: MailKind::EmailChangeNotice,
            })
            .await;
        }
        Ok(())
    }

    /// Completes the caller's pending email change with the code mailed to the new
    /// address: the account takes the address, verified, and its password reset token
    /// (mailed to the old address) dies. Attempts count against the account's
    /// verification budget ([`AuthConfig::verification_max_attempts`](crate::AuthConfig::verification_max_attempts)) and the
    /// address's throttle, as email verification does.
    ///
    /// Errors: [`AuthError::InvalidVerificationCode`] for a wrong or expired code or
    /// no pending change, [`AuthError::TooManyAttempts`], [`AuthError::Throttled`],
    /// [`AuthError::EmailTaken`] when another account took the address meanwhile.
    pub async fn confirm_email_change(
        &self,
        who: &Principal,
        code: &str,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        let t = &self.config.throttle;
        let keys = self.guess_keys(
            client,
            GuessKeys {
                address_scope: "verify",
                subject_scope: "email-change",
                subject: Some(&who.user_id.to_string()),
                limit: t.limit(self.config.verification_max_attempts),
                refusal: Refusal::TooManyAttempts,
            },
        );
        let reserved = limits::reserve(&*self.store, keys, self.clock.now()).await?;
        let code = code.trim();
        if !well_formed_code(code) {
            return Err(AuthError::InvalidVerificationCode);
        }
        let hash = self.codec.digest(CODE_LABEL, code.as_bytes());
        let user = self
            .store
            .complete_email_change(
                who.user_id,
                &hash,
                self.clock.now(),
                Some(self.audit_event(AuditKind::EmailChanged, who, who.user_id, None)),
            )
            .await?
            .ok_or(AuthError::InvalidVerificationCode)?;
        reserved.succeeded(&*self.store).await?;
        tracing::info!(user_id = %who.user_id, "email changed");
        Ok(user)
    }
}
