//! Email verification: codes, resends and their attempt budget.

use super::{AuthService, ClientInfo, GuessKeys};
use crate::domain::Login;
use crate::error::AuthError;
use crate::limits::{self, LimitKey, Refusal};
use crate::mailer::{Mail, MailKind};
use crate::store::{User, VerificationCode};

pub(super) const CODE_LABEL: &str = "email-verification-code";

impl AuthService {
    pub(super) async fn send_code(&self, user: &User) -> Result<(), AuthError> {
        let Some(email) = &user.email else {
            return Ok(());
        };
        let code = random_code();
        self.store
            .put_verification_code(VerificationCode {
                user_id: user.id,
                code_hash: self.codec.digest(CODE_LABEL, code.as_bytes()),
                expires_at: self.clock.now() + self.config.verification_code_ttl,
            })
            .await?;
        // The account exists either way; a new code can be requested.
        self.deliver(Mail {
            to: email.clone(),
            login: user.login.clone(),
            kind: MailKind::VerifyEmail { code },
        })
        .await;
        Ok(())
    }

    /// Sends a new verification code (the old one stops working). Unknown logins and
    /// verified accounts succeed silently so the call reveals nothing.
    ///
    /// Errors: [`AuthError::Validation`] for a login that breaks the login rules (no
    /// account has one), [`AuthError::RateLimited`] past
    /// [`RequestLimits::resend_per_login`](crate::RequestLimits::resend_per_login) or [`RequestLimits::resend_per_ip`](crate::RequestLimits::resend_per_ip), for any
    /// login alike.
    pub async fn resend_verification(
        &self,
        login: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        // No account has a login that breaks the rules: refusing one reveals nothing.
        let login = Login::parse_with(login, &self.config.login_policy)?;
        let limits = &self.config.limits;
        let (per_ip, per_login) = (
            limits.resend_per_ip.attempt_limit(),
            limits.resend_per_login.attempt_limit(),
        );
        let keys = [
            LimitKey::address("resend", client.ip, per_ip, Refusal::RateLimited),
            LimitKey::subject("resend", login.as_str(), per_login, Refusal::RateLimited),
        ];
        drop(limits::reserve(&*self.store, keys, self.clock.now()).await?);
        match self.store.credentials_by_login(&login).await? {
            Some(c) if !c.user.email_verified => self.send_code(&c.user).await,
            _ => Ok(()),
        }
    }

    /// Checks a verification code and marks the email verified.
    ///
    /// Each attempt is counted before the code is checked: per login against
    /// [`AuthConfig::verification_max_attempts`](crate::AuthConfig::verification_max_attempts) (a new code does not restore the
    /// budget) and per client address against the [`ThrottlePolicy`](crate::ThrottlePolicy).
    ///
    /// Errors: [`AuthError::InvalidVerificationCode`] for a wrong or expired code and
    /// equally for an unknown or already verified login,
    /// [`AuthError::TooManyAttempts`] once the login's budget is used up,
    /// [`AuthError::Throttled`] when the address failed too often.
    pub async fn verify_email(
        &self,
        login: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let login = Login::parse_with(login, &self.config.login_policy).ok();
        let t = &self.config.throttle;
        let keys = self.guess_keys(
            client,
            GuessKeys {
                address_scope: "verify",
                subject_scope: "verify",
                subject: login.as_ref().map(Login::as_str),
                limit: t.limit(self.config.verification_max_attempts),
                refusal: Refusal::TooManyAttempts,
            },
        );
        let reserved = limits::reserve(&*self.store, keys, self.clock.now()).await?;
        // No account has a login that breaks the rules; the store never sees one.
        let Some(login) = login else {
            return Err(AuthError::InvalidVerificationCode);
        };
        // A wrong code keeps its reservations: they are the failures.
        self.check_code(&login, code).await?;
        reserved.succeeded(&*self.store).await
    }

    pub(super) async fn check_code(&self, login: &Login, code: &str) -> Result<(), AuthError> {
        let Some(creds) = self.store.credentials_by_login(login).await? else {
            return Err(AuthError::InvalidVerificationCode);
        };
        if creds.user.email_verified {
            return Err(AuthError::InvalidVerificationCode);
        }
        let Some(stored) = self.store.verification_code(creds.user.id).await? else {
            return Err(AuthError::InvalidVerificationCode);
        };
        if stored.expires_at <= self.clock.now() {
            return Err(AuthError::InvalidVerificationCode);
        }
        if !well_formed_code(code)
            || !self
                .codec
                .digest_matches(CODE_LABEL, code.as_bytes(), &stored.code_hash)
        {
            return Err(AuthError::InvalidVerificationCode);
        }
        self.store.complete_verification(creds.user.id).await?;
        Ok(())
    }
}

/// Six ASCII digits, as every mailed code is.
pub(super) fn well_formed_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

pub(super) fn random_code() -> String {
    // Rejection sampling keeps all million codes equally likely.
    loop {
        let mut b = [0u8; 4];
        aws_lc_rs::rand::fill(&mut b).expect("the system random source works");
        let n = u32::from_be_bytes(b);
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}
