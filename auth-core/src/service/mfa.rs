//! Second factor: TOTP enrolment, the login challenge, recovery codes, removal.

use std::fmt;

use uuid::Uuid;

use super::{AuthService, ClientInfo, GuessKeys, Principal, TokenPair, login, secs};
use crate::domain::ValidationError;
use crate::error::{AuthError, MfaChallenge};
use crate::limits::{self, Refusal};
use crate::store::{AuditKind, ChallengeOutcome, FactorProof, SignIn};
use crate::totp::{self, SecretBox};

const CHALLENGE_LABEL: &str = "mfa-challenge";
const CHALLENGE_ID_LABEL: &str = "mfa-challenge-id";
const RECOVERY_LABEL: &str = "mfa-recovery-code";
const SECRET_KEY_LABEL: &str = "totp-secret-key";
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;

/// A started TOTP enrolment: what the user puts into an authenticator app.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TotpEnrolment {
    /// The secret, base32 (RFC 4648, no padding).
    pub secret: String,
    /// The `otpauth://` URI with the secret, issuer and account (for a QR code).
    pub otpauth_uri: String,
}

impl fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpEnrolment([redacted])")
    }
}

impl AuthService {
    fn secret_box(&self) -> SecretBox {
        SecretBox::new(&self.codec.digest(SECRET_KEY_LABEL, &[]))
    }

    /// A challenge token for `user_id`: its id, expiry and a random nonce, tagged, and
    /// stored (as a hash) so it can be used once.
    pub(super) async fn mfa_challenge(&self, user_id: Uuid) -> Result<MfaChallenge, AuthError> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let expires = self.clock.now() + self.config.mfa_challenge_ttl;
        let mut payload = user_id.as_bytes().to_vec();
        payload.extend_from_slice(&expires.unix_timestamp().to_be_bytes());
        let mut nonce = [0u8; 16];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system random source works");
        payload.extend_from_slice(&nonce);
        let tag = self.codec.digest(CHALLENGE_LABEL, &payload);
        let mfa_token = format!("{}.{}", b64.encode(&payload), b64.encode(tag));
        self.store
            .put_mfa_challenge(user_id, &self.challenge_id(&mfa_token), expires)
            .await?;
        Ok(MfaChallenge {
            mfa_token,
            expires_in: secs(self.config.mfa_challenge_ttl),
        })
    }

    /// What the store keeps of a challenge token.
    pub(super) fn challenge_id(&self, token: &str) -> Vec<u8> {
        self.codec.digest(CHALLENGE_ID_LABEL, token.as_bytes())
    }

    /// The user of a valid, unexpired challenge token.
    pub(super) fn challenge_user(&self, token: &str) -> Result<Uuid, AuthError> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (payload, tag) = token.split_once('.').ok_or(AuthError::InvalidMfaToken)?;
        let payload = b64
            .decode(payload)
            .map_err(|_| AuthError::InvalidMfaToken)?;
        let tag = b64.decode(tag).map_err(|_| AuthError::InvalidMfaToken)?;
        if payload.len() != 40 || !self.codec.digest_matches(CHALLENGE_LABEL, &payload, &tag) {
            return Err(AuthError::InvalidMfaToken);
        }
        let user = Uuid::from_slice(&payload[..16]).map_err(|_| AuthError::InvalidMfaToken)?;
        let mut expires = [0u8; 8];
        expires.copy_from_slice(&payload[16..24]);
        if i64::from_be_bytes(expires) <= self.clock.now().unix_timestamp() {
            return Err(AuthError::InvalidMfaToken);
        }
        Ok(user)
    }

    /// Reserves one second-factor attempt for `user_id` and the client address,
    /// under the [`ThrottlePolicy`] limits of logins.
    pub(super) async fn reserve_mfa_attempt(
        &self,
        user_id: Uuid,
        client: &ClientInfo,
    ) -> Result<limits::Reserved, AuthError> {
        let t = &self.config.throttle;
        let keys = self.guess_keys(
            client,
            GuessKeys {
                address_scope: "mfa",
                subject_scope: "mfa",
                subject: Some(&user_id.to_string()),
                limit: t.limit(t.max_failures_per_login),
                refusal: Refusal::Throttled,
            },
        );
        limits::reserve(&*self.store, keys, self.clock.now()).await
    }

    /// What `code` claims for the user's factor, as checked here: a TOTP code with
    /// its step, or a recovery code's hash. The store decides: a TOTP code of no
    /// current step, or any code without an active factor, is a claim that never
    /// matches, so the store still checks the challenge and the account first.
    async fn factor_proof(&self, user_id: Uuid, code: &str) -> Result<FactorProof, AuthError> {
        let code = code.trim();
        let factor = self.store.totp_factor(user_id).await?.filter(|f| f.active);
        if let Some(factor) = factor
            && code.len() == totp::DIGITS as usize
            && code.bytes().all(|b| b.is_ascii_digit())
        {
            let Some(secret) = self.secret_box().open(user_id.as_bytes(), &factor.secret) else {
                return Err(AuthError::Internal(
                    "a TOTP secret does not open under this key".into(),
                ));
            };
            let now = self.clock.now().unix_timestamp();
            // No current step: one no `last_step` is before.
            let step = totp::matching_step(&secret, code, now).unwrap_or(i64::MIN);
            return Ok(FactorProof::Totp {
                secret: factor.secret,
                step,
            });
        }
        let code_hash = self
            .codec
            .digest(RECOVERY_LABEL, normalize_recovery(code).as_bytes());
        Ok(FactorProof::Recovery { code_hash })
    }

    /// Whether `code` is a current TOTP code (each step accepted once) or an unused
    /// recovery code (used up now) of the user's active factor.
    pub(super) async fn second_factor_matches(
        &self,
        user_id: Uuid,
        code: &str,
    ) -> Result<bool, AuthError> {
        Ok(match self.factor_proof(user_id, code).await? {
            FactorProof::Totp { step, .. } => self.store.use_totp_step(user_id, step).await?,
            FactorProof::Recovery { code_hash } => {
                self.store.use_recovery_code(user_id, &code_hash).await?
            }
            FactorProof::Passkey(use_) => self.store.use_passkey(use_).await?,
        })
    }

    /// Completes a login that answered [`AuthError::MfaRequired`]: with a current TOTP
    /// code or an unused recovery code, opens the session (its tokens carry
    /// `amr: ["pwd", "otp"]`). The challenge is used once: the store checks it, the
    /// account's status and the code in that order and uses up nothing unless all
    /// pass; a change of the password, email, status or second factor since the
    /// challenge was issued kills it.
    ///
    /// Errors: [`AuthError::InvalidMfaToken`] for a bad, used, expired or killed
    /// challenge, [`AuthError::InvalidMfaCode`] for a wrong or used code (counted
    /// against the account and the address like failed logins),
    /// [`AuthError::Blocked`], [`AuthError::Throttled`] past those limits.
    pub async fn verify_mfa(
        &self,
        mfa_token: &str,
        code: &str,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let user_id = self.challenge_user(mfa_token)?;
        let client = login::bounded(client);
        let reserved = self.reserve_mfa_attempt(user_id, &client).await?;
        let proof = self.factor_proof(user_id, code).await?;
        let outcome = self
            .store
            .complete_mfa_challenge(
                user_id,
                &self.challenge_id(mfa_token),
                self.clock.now(),
                proof,
            )
            .await?;
        let user = match outcome {
            ChallengeOutcome::Completed(user) => user,
            ChallengeOutcome::Invalid => return Err(AuthError::InvalidMfaToken),
            ChallengeOutcome::WrongCode => return Err(AuthError::InvalidMfaCode),
            ChallengeOutcome::Blocked => {
                reserved.not_counted(&*self.store).await?;
                return Err(AuthError::Blocked);
            }
        };
        reserved.succeeded(&*self.store).await?;
        self.open_session(user.id, user.roles, client, SignIn::PasswordAndOtp)
            .await
    }

    /// Starts TOTP enrolment for the caller (again, if it was not confirmed): a new
    /// secret, not active until [`AuthService::confirm_totp`]. Needs a recent
    /// re-authentication ([`AuthService::reauthenticate`]): a factor set up by a
    /// stolen access token would lock the owner out.
    ///
    /// Errors: [`AuthError::ReauthenticationRequired`], [`AuthError::MfaActive`] when
    /// a second factor is already active.
    pub async fn enrol_totp(&self, who: &Principal) -> Result<TotpEnrolment, AuthError> {
        self.require_recent_auth(who).await?;
        let user = self
            .store
            .user_by_id(who.user_id)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        let mut secret = [0u8; totp::SECRET_LEN];
        aws_lc_rs::rand::fill(&mut secret).expect("the system random source works");
        let sealed = self.secret_box().seal(user.id.as_bytes(), &secret);
        if !self.store.start_totp(user.id, &sealed).await? {
            return Err(AuthError::MfaActive);
        }
        let encoded = totp::base32(&secret);
        Ok(TotpEnrolment {
            otpauth_uri: totp::otpauth_uri(self.configured_keys.issuer(), &user.login, &encoded),
            secret: encoded,
        })
    }

    /// Confirms enrolment with a current code: the second factor becomes active, every
    /// other session of the user is revoked (each live session then either passed the
    /// factor or is the one that set it up), and the 10 recovery codes are returned,
    /// once (only their hashes are kept). The factor activated is exactly the secret
    /// the code was checked against: a concurrent re-enrolment makes this fail.
    ///
    /// Errors: [`AuthError::Validation`] (field `code`) for a wrong code, no
    /// enrolment in progress or one replaced meanwhile, [`AuthError::Throttled`] after
    /// too many wrong codes.
    pub async fn confirm_totp(
        &self,
        who: &Principal,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<String>, AuthError> {
        let session_id = who.session_id()?;
        let wrong = || {
            ValidationError::new(
                "code",
                "the code is wrong or expired, or no enrolment is in progress",
            )
        };
        let reserved = self.reserve_mfa_attempt(who.user_id, client).await?;
        let Some(factor) = self
            .store
            .totp_factor(who.user_id)
            .await?
            .filter(|f| !f.active)
        else {
            return Err(wrong().into());
        };
        let secret = self
            .secret_box()
            .open(who.user_id.as_bytes(), &factor.secret)
            .ok_or_else(|| {
                AuthError::Internal("a TOTP secret does not open under this key".into())
            })?;
        let Some(step) =
            totp::matching_step(&secret, code.trim(), self.clock.now().unix_timestamp())
        else {
            return Err(wrong().into());
        };
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| random_recovery_code())
            .collect();
        let hashes = codes
            .iter()
            .map(|c| {
                self.codec
                    .digest(RECOVERY_LABEL, normalize_recovery(c).as_bytes())
            })
            .collect();
        let keep = Some(session_id);
        if !self
            .store
            .activate_totp(
                who.user_id,
                &factor.secret,
                step,
                hashes,
                keep,
                Some(self.audit_event(AuditKind::MfaEnabled, who, who.user_id, None)),
            )
            .await?
        {
            return Err(wrong().into());
        }
        reserved.succeeded(&*self.store).await?;
        Ok(codes)
    }

    /// Turns the caller's second factor off, with a current TOTP code or a recovery
    /// code (that code is the fresh proof this change needs), and revokes every other
    /// session of the user.
    ///
    /// Errors: [`AuthError::NotFound`] when none is active, [`AuthError::Validation`]
    /// (field `code`) for a wrong code, [`AuthError::Throttled`] after too many.
    pub async fn disable_totp(
        &self,
        who: &Principal,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let session_id = who.session_id()?;
        if !self
            .store
            .totp_factor(who.user_id)
            .await?
            .is_some_and(|f| f.active)
        {
            return Err(AuthError::NotFound("second factor"));
        }
        let reserved = self.reserve_mfa_attempt(who.user_id, client).await?;
        if !self.second_factor_matches(who.user_id, code).await? {
            return Err(ValidationError::new("code", "the code is wrong or already used").into());
        }
        reserved.succeeded(&*self.store).await?;
        self.store
            .remove_totp(
                who.user_id,
                Some(session_id),
                Some(self.audit_event(AuditKind::MfaDisabled, who, who.user_id, None)),
            )
            .await?;
        Ok(())
    }

    /// Removes a user's second factor and recovery codes and revokes every session of
    /// the user (an administrator, `actor`, helping a user who lost both; recorded in
    /// the audit log). Errors: [`AuthError::NotFound`] when the user has none.
    pub async fn remove_second_factor(
        &self,
        actor: &Principal,
        user_id: Uuid,
    ) -> Result<(), AuthError> {
        let event = self.audit_event(AuditKind::MfaDisabled, actor, user_id, None);
        if self.store.remove_totp(user_id, None, Some(event)).await? {
            Ok(())
        } else {
            Err(AuthError::NotFound("second factor"))
        }
    }
}

/// 50 random bits as `xxxxx-xxxxx` in lowercase base32.
fn random_recovery_code() -> String {
    let mut b = [0u8; 7];
    aws_lc_rs::rand::fill(&mut b).expect("the system random source works");
    let chars = totp::base32(&b).to_ascii_lowercase();
    format!("{}-{}", &chars[..5], &chars[5..10])
}

/// Recovery codes compare without case, spaces or dashes.
fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}
