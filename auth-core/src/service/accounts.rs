//! Accounts: registration, profile, password change and login history.

use std::fmt;

use uuid::Uuid;

use super::{AuthService, ClientInfo, Principal};
use crate::domain::{Email, Login, Password, ValidationError};
use crate::error::AuthError;
use crate::limits::{self, LimitKey, Refusal};
use crate::store::{AuditKind, NewUser, User, UserUpdate};

/// Registration input, as typed by the user; the service validates every field.
#[derive(Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct Registration {
    /// Login.
    pub login: String,
    /// Password in clear.
    pub password: String,
    /// Email address.
    #[cfg_attr(feature = "serde", serde(default))]
    pub email: Option<String>,
    /// First name.
    #[cfg_attr(feature = "serde", serde(default))]
    pub first_name: Option<String>,
    /// Last name.
    #[cfg_attr(feature = "serde", serde(default))]
    pub last_name: Option<String>,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("login", &self.login)
            .field("password", &"[redacted]")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A profile change; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
pub struct ProfileUpdate {
    /// New email (resets verification when it changes).
    #[cfg_attr(feature = "serde", serde(default))]
    pub email: Option<String>,
    /// New first name.
    #[cfg_attr(feature = "serde", serde(default))]
    pub first_name: Option<String>,
    /// New last name.
    #[cfg_attr(feature = "serde", serde(default))]
    pub last_name: Option<String>,
    /// New verification flag; honoured for administrators only.
    #[cfg_attr(feature = "serde", serde(default))]
    pub email_verified: Option<bool>,
}

impl AuthService {
    /// Registers an account. With an email, a verification code is sent.
    ///
    /// Errors: [`AuthError::Validation`] naming the broken rule, [`AuthError::LoginTaken`],
    /// [`AuthError::EmailTaken`], [`AuthError::RateLimited`] past
    /// [`RequestLimits::register_per_ip`](crate::RequestLimits::register_per_ip) (counted once the fields are valid).
    pub async fn register(
        &self,
        reg: Registration,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        let login = Login::parse_with(&reg.login, &self.config.login_policy)?;
        let password = Password::parse(&reg.password, &self.config.password_policy)?;
        let email = reg.email.as_deref().map(Email::parse).transpose()?;
        if email.is_none() && self.config.require_email_verification {
            return Err(ValidationError::new("email", "email is required").into());
        }
        let (first_name, last_name) =
            Self::parse_names(reg.first_name.as_deref(), reg.last_name.as_deref())?;
        let limit = self.config.limits.register_per_ip.attempt_limit();
        let key = LimitKey::address("register", client.ip, limit, Refusal::RateLimited);
        // Counted whatever the outcome: a taken login is an answer too.
        drop(limits::reserve(&*self.store, [key], self.clock.now()).await?);
        let password_hash = self.hasher.hash(&password).await?;
        let user = self
            .store
            .create_user(NewUser {
                id: Uuid::now_v7(),
                login,
                email,
                first_name,
                last_name,
                password_hash,
                email_verified: false,
                roles: vec![],
                created_at: self.clock.now(),
            })
            .await?;
        if user.email.is_some() {
            self.send_code(&user).await?;
        }
        Ok(user)
    }

    /// The user with this id. Errors: [`AuthError::NotFound`].
    pub async fn user(&self, id: Uuid) -> Result<User, AuthError> {
        self.store
            .user_by_id(id)
            .await?
            .ok_or(AuthError::NotFound("user"))
    }

    /// Changes the caller's password and revokes every other session.
    ///
    /// Errors: [`AuthError::Validation`] (field `new_password`),
    /// [`AuthError::WrongPassword`].
    pub async fn change_password(
        &self,
        who: &Principal,
        current: &str,
        new: &str,
    ) -> Result<(), AuthError> {
        let session_id = who.session_id()?;
        let policy = &self.config.password_policy;
        let new = Password::parse_field("new_password", new, policy)?;
        let current = Password::to_check(current, policy).ok_or(AuthError::WrongPassword)?;
        let hash = self
            .store
            .password_hash(who.user_id)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if !self.hasher.verify(&current, &hash).await?.valid {
            return Err(AuthError::WrongPassword);
        }
        let fresh = self.hasher.hash(&new).await?;
        let event = self.audit_event(AuditKind::PasswordChanged, who, who.user_id, None);
        self.store
            .set_password_hash(who.user_id, &fresh, Some(session_id), Some(event))
            .await?;
        Ok(())
    }

    /// Updates the caller's profile. Names change at once; a new email only starts
    /// an email change ([`AuthService::request_email_change`]: it needs a recent
    /// re-authentication and takes effect once the new address confirms), so the
    /// returned user still has the current address.
    ///
    /// Errors: [`AuthError::Validation`] (nothing changes), and those of
    /// [`AuthService::request_email_change`].
    pub async fn update_profile(
        &self,
        who: &Principal,
        mut update: ProfileUpdate,
    ) -> Result<User, AuthError> {
        update.email_verified = None;
        let email = update.email.take();
        Self::parse_names(update.first_name.as_deref(), update.last_name.as_deref())?;
        if let Some(email) = email {
            self.request_email_change(who, &email).await?;
        }
        self.apply_update(who.user_id, update, None, None).await
    }

    /// Applies an update; a changed email is first counted under `email_key`. Made by
    /// an administrator (`admin`), it is recorded in the audit log with the fields set.
    pub(super) async fn apply_update(
        &self,
        user_id: Uuid,
        update: ProfileUpdate,
        email_key: Option<LimitKey>,
        admin: Option<&Principal>,
    ) -> Result<User, AuthError> {
        let email = update.email.as_deref().map(Email::parse).transpose()?;
        let (first_name, last_name) =
            Self::parse_names(update.first_name.as_deref(), update.last_name.as_deref())?;
        let current = self.user(user_id).await?;
        let email_changed = email
            .as_ref()
            .is_some_and(|e| current.email.as_deref() != Some(e.as_str()));
        if email_changed {
            drop(limits::reserve(&*self.store, [email_key], self.clock.now()).await?);
        }
        let email_verified = match update.email_verified {
            Some(v) => Some(v),
            None if email_changed => Some(false),
            None => None,
        };
        let update = UserUpdate {
            email: if email_changed { email } else { None },
            first_name,
            last_name,
            email_verified,
        };
        let event = admin.map(|by| {
            let fields = [
                ("email", update.email.is_some()),
                ("first_name", update.first_name.is_some()),
                ("last_name", update.last_name.is_some()),
                ("email_verified", update.email_verified.is_some()),
            ];
            let set: Vec<&str> = fields.iter().filter(|f| f.1).map(|f| f.0).collect();
            self.audit_event(AuditKind::UserUpdated, by, user_id, Some(set.join(",")))
        });
        let user = self
            .store
            .update_user(user_id, update, event)
            .await
            .map_err(|e| match AuthError::from(e) {
                AuthError::NotFound(_) => AuthError::NotFound("user"),
                other => other,
            })?;
        if email_changed && !user.email_verified {
            self.send_code(&user).await?;
        }
        Ok(user)
    }
}
