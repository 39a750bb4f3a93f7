//! Passkeys (feature `passkeys`): WebAuthn registration, passwordless sign-in with a
//! discoverable credential, and the user's list of passkeys, on webauthn-rs.
//!
//! Every ceremony's state stays server-side ([`PasskeyStore::put_ceremony`]), is
//! taken once and expires in minutes; the client holds only its id. Credentials are
//! stored in a versioned form of this crate's ([`PASSKEY_FORMAT`]), so a stored passkey
//! keeps working across upgrades of the WebAuthn library.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    Url, Webauthn, WebauthnBuilder, WebauthnError,
};

use super::{
    AuthService, ClientInfo, GuessKeys, MAX_NAME, Principal, TokenPair, item_name, login,
    not_found, plain_text,
};
use crate::error::AuthError;
use crate::limits::{self, LimitKey, Refusal};
use crate::store::{
    AuditKind, Ceremony, CeremonyKind, ChallengeOutcome, FactorProof, PasskeyStore, PasskeyUse,
    SignIn, StoredPasskey, UserStatus,
};

/// The version tag of stored credentials: `{"v":1,"passkey":...}`, the passkey as
/// webauthn-rs 0.5 serializes it. A later format gets a new number, and reading keeps
/// every earlier one.
pub const PASSKEY_FORMAT: u32 = 1;

/// The relying party: who the passkeys are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyConfig {
    /// The relying party id: the site's registrable domain (`example.com`), or
    /// `localhost` for local use. Passkeys are bound to it for good.
    pub rp_id: String,
    /// The origin pages run at (`https://app.example.com`); its host must be the RP
    /// id or under it.
    pub origin: String,
    /// The name browsers show in their passkey prompts.
    pub rp_name: String,
    /// How long a started ceremony may be finished.
    pub ceremony_ttl: Duration,
}

impl Default for PasskeyConfig {
    /// For `http://localhost:8080`.
    fn default() -> Self {
        Self {
            rp_id: "localhost".into(),
            origin: "http://localhost:8080".into(),
            rp_name: "auth-core".into(),
            ceremony_ttl: Duration::minutes(5),
        }
    }
}

/// Settings [`Passkeys::new`] refused, with the reason.
#[derive(Debug, thiserror::Error)]
#[error("passkey settings: {0}")]
pub struct PasskeyConfigError(String);

/// A started ceremony: what the client passes to the browser's WebAuthn API, and the
/// id to send back with the browser's answer.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PasskeyChallenge {
    /// The ceremony's id.
    pub ceremony_id: Uuid,
    /// `{"publicKey": {...}}`: the options of `navigator.credentials.create()` or
    /// `.get()`, binary members base64url-encoded (as in WebAuthn level 3's JSON form).
    pub options: serde_json::Value,
}

/// A passkey as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PasskeyInfo {
    /// Its id.
    pub id: Uuid,
    /// The name its owner gave it.
    pub name: String,
    /// Whether it may be synced to other devices (then it signs in as `swk`, else `hwk`).
    pub backup_eligible: bool,
    /// Whether it was synced at its last use.
    pub backup_state: bool,
    /// Registration time.
    pub created_at: OffsetDateTime,
    /// The last sign-in with it.
    pub last_used_at: Option<OffsetDateTime>,
}

impl From<&StoredPasskey> for PasskeyInfo {
    fn from(p: &StoredPasskey) -> Self {
        Self {
            id: p.id,
            name: p.name.clone(),
            backup_eligible: p.backup_eligible,
            backup_state: p.backup_state,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}

/// Passkeys for the users of an [`AuthService`]. Cheap to share: hold it in an `Arc`.
pub struct Passkeys {
    auth: Arc<AuthService>,
    webauthn: Webauthn,
    ceremony_ttl: Duration,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys")
            .field("ceremony_ttl", &self.ceremony_ttl)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Versioned<T> {
    v: u32,
    passkey: T,
}

fn encode_passkey(passkey: &Passkey) -> Result<Vec<u8>, AuthError> {
    serde_json::to_vec(&Versioned {
        v: PASSKEY_FORMAT,
        passkey,
    })
    .map_err(|e| AuthError::Internal(e.into()))
}

fn decode_passkey(stored: &[u8]) -> Result<Passkey, AuthError> {
    let v: Versioned<serde_json::Value> =
        serde_json::from_slice(stored).map_err(|e| AuthError::Internal(e.into()))?;
    match v.v {
        1 => serde_json::from_value(v.passkey).map_err(|e| AuthError::Internal(e.into())),
        other => Err(AuthError::Internal(
            format!("stored passkey of unknown format {other}").into(),
        )),
    }
}

fn json(value: &impl serde::Serialize) -> Result<serde_json::Value, AuthError> {
    serde_json::to_value(value).map_err(|e| AuthError::Internal(e.into()))
}

/// A client's answer that is not what WebAuthn sends: refused like a bad assertion.
fn parse<T: serde::de::DeserializeOwned>(response: &serde_json::Value) -> Result<T, AuthError> {
    T::deserialize(response).map_err(|_| AuthError::InvalidPasskey)
}

impl Passkeys {
    /// Passkeys for `auth`'s users with the relying party of `config`.
    pub fn new(auth: Arc<AuthService>, config: PasskeyConfig) -> Result<Self, PasskeyConfigError> {
        let origin = Url::parse(&config.origin)
            .map_err(|e| PasskeyConfigError(format!("origin {:?}: {e}", config.origin)))?;
        let webauthn = WebauthnBuilder::new(&config.rp_id, &origin)
            .and_then(|b| b.rp_name(&config.rp_name).build())
            .map_err(|e| {
                PasskeyConfigError(format!(
                    "RP id {:?} with origin {:?}: {e}",
                    config.rp_id, config.origin
                ))
            })?;
        if config.ceremony_ttl <= Duration::ZERO {
            return Err(PasskeyConfigError("ceremony_ttl must be positive".into()));
        }
        Ok(Self {
            auth,
            webauthn,
            ceremony_ttl: config.ceremony_ttl,
        })
    }

    fn store(&self) -> &dyn PasskeyStore {
        &**self.auth.store()
    }

    async fn begin(
        &self,
        kind: CeremonyKind,
        user_id: Option<Uuid>,
        state: &impl serde::Serialize,
        options: serde_json::Value,
    ) -> Result<PasskeyChallenge, AuthError> {
        let now = self.auth.clock.now();
        let ceremony = Ceremony {
            id: Uuid::new_v4(),
            kind,
            user_id,
            state: serde_json::to_vec(state).map_err(|e| AuthError::Internal(e.into()))?,
            expires_at: now + self.ceremony_ttl,
        };
        let ceremony_id = ceremony.id;
        self.store().put_ceremony(ceremony, now).await?;
        Ok(PasskeyChallenge {
            ceremony_id,
            options,
        })
    }

    /// Takes a started ceremony of `kind` (once) and its WebAuthn state.
    async fn take<T: serde::de::DeserializeOwned>(
        &self,
        id: Uuid,
        kind: CeremonyKind,
    ) -> Result<(Option<Uuid>, T), AuthError> {
        let ceremony = self
            .store()
            .take_ceremony(id, kind, self.auth.clock.now())
            .await?
            .ok_or(AuthError::InvalidPasskey)?;
        let state =
            serde_json::from_slice(&ceremony.state).map_err(|e| AuthError::Internal(e.into()))?;
        Ok((ceremony.user_id, state))
    }

    /// Starts registering a passkey for the caller. Needs a recent re-authentication
    /// ([`AuthService::reauthenticate`]): a passkey added with a stolen access token
    /// would outlive it. The options ask for a discoverable credential (preferred),
    /// user verification and no attestation, and exclude the caller's passkeys.
    ///
    /// Errors: [`AuthError::ReauthenticationRequired`].
    pub async fn start_registration(&self, who: &Principal) -> Result<PasskeyChallenge, AuthError> {
        self.auth.require_recent_auth(who).await?;
        let exclude = self
            .store()
            .passkeys(who.user_id)
            .await?
            .into_iter()
            .map(|p| p.credential_id.into())
            .collect::<Vec<_>>();
        let user = &who.user;
        let display = match (&user.first_name, &user.last_name) {
            (Some(f), Some(l)) => format!("{f} {l}"),
            (Some(n), None) | (None, Some(n)) => n.clone(),
            (None, None) => user.login.clone(),
        };
        let (options, state) = self
            .webauthn
            .start_passkey_registration(who.user_id, &user.login, &display, Some(exclude))
            .map_err(|e| AuthError::Internal(e.into()))?;
        let mut options = json(&options)?;
        // Discoverable when the authenticator can: then it signs in without a login.
        options["publicKey"]["authenticatorSelection"]["residentKey"] = "preferred".into();
        self.begin(
            CeremonyKind::Registration,
            Some(who.user_id),
            &state,
            options,
        )
        .await
    }

    /// Finishes a registration the caller started with the browser's answer
    /// (`navigator.credentials.create()`'s credential as JSON), under `name`. Like
    /// every new factor it revokes the user's other sessions.
    ///
    /// Errors: [`AuthError::InvalidPasskey`] for an unknown, used or expired ceremony,
    /// another user's ceremony, or an answer that does not verify (wrong origin, RP
    /// id or challenge; no user verification); [`AuthError::PasskeyExists`] if the
    /// credential is registered already; [`AuthError::ReauthenticationRequired`].
    pub async fn finish_registration(
        &self,
        who: &Principal,
        ceremony_id: Uuid,
        response: &serde_json::Value,
        name: &str,
    ) -> Result<PasskeyInfo, AuthError> {
        let name = plain_text("name", name, MAX_NAME)?;
        self.auth.require_recent_auth(who).await?;
        let (user, state): (_, PasskeyRegistration) =
            self.take(ceremony_id, CeremonyKind::Registration).await?;
        if user != Some(who.user_id) {
            return Err(AuthError::InvalidPasskey);
        }
        let credential: RegisterPublicKeyCredential = parse(response)?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| {
                tracing::debug!(reason = %e, "passkey registration refused");
                AuthError::InvalidPasskey
            })?;
        let stored = StoredPasskey {
            id: Uuid::new_v4(),
            user_id: who.user_id,
            credential_id: passkey.cred_id().to_vec(),
            name: if name.is_empty() {
                "passkey".to_owned()
            } else {
                name
            },
            credential: encode_passkey(&passkey)?,
            counter: 0,
            backup_eligible: credential_flags(&passkey).0,
            backup_state: credential_flags(&passkey).1,
            created_at: self.auth.clock.now(),
            last_used_at: None,
        };
        let detail = format!("{} {}", stored.id, stored.name);
        let event = self
            .auth
            .audit_event(AuditKind::PasskeyAdded, who, who.user_id, Some(detail));
        if !self
            .store()
            .add_passkey(stored.clone(), Some(who.session_id()?), Some(event))
            .await
            .map_err(|e| not_found(e, "user"))?
        {
            return Err(AuthError::PasskeyExists);
        }
        Ok(PasskeyInfo::from(&stored))
    }

    /// The user's passkeys, oldest first.
    pub async fn passkeys(&self, user_id: Uuid) -> Result<Vec<PasskeyInfo>, AuthError> {
        Ok(self
            .store()
            .passkeys(user_id)
            .await?
            .iter()
            .map(PasskeyInfo::from)
            .collect())
    }

    /// Renames one of the user's passkeys. Errors: [`AuthError::NotFound`].
    pub async fn rename(&self, user_id: Uuid, id: Uuid, name: &str) -> Result<(), AuthError> {
        let name = item_name(name)?;
        if self.store().rename_passkey(user_id, id, &name).await? {
            Ok(())
        } else {
            Err(AuthError::NotFound("passkey"))
        }
    }

    /// Deletes one of the caller's passkeys: it signs in no more, and every other
    /// session of the caller is revoked (one opened with a lost device among them).
    /// Needs a recent re-authentication, like every change of a factor.
    ///
    /// Errors: [`AuthError::NotFound`], [`AuthError::ReauthenticationRequired`].
    pub async fn delete(&self, who: &Principal, id: Uuid) -> Result<(), AuthError> {
        self.auth.require_recent_auth(who).await?;
        if self
            .store()
            .delete_passkey(
                who.user_id,
                id,
                Some(who.session_id()?),
                Some(self.auth.audit_event(
                    AuditKind::PasskeyRemoved,
                    who,
                    who.user_id,
                    Some(id.to_string()),
                )),
            )
            .await?
        {
            Ok(())
        } else {
            Err(AuthError::NotFound("passkey"))
        }
    }

    /// Starts a passwordless sign-in: options with no credential list, so the browser
    /// offers the passkeys it holds for this site (also as autofill: the options ask
    /// for conditional mediation; a page with a button may drop `mediation`).
    ///
    /// Errors: [`AuthError::RateLimited`] past
    /// [`RequestLimits::passkey_sign_in_per_ip`](crate::RequestLimits::passkey_sign_in_per_ip).
    pub async fn start_sign_in(&self, client: &ClientInfo) -> Result<PasskeyChallenge, AuthError> {
        let auth = &*self.auth;
        let limit = auth.config.limits.passkey_sign_in_per_ip.attempt_limit();
        let key = LimitKey::address("passkey-start", client.ip, limit, Refusal::RateLimited);
        drop(limits::reserve(&*auth.store, [key], auth.clock.now()).await?);
        let (options, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| AuthError::Internal(e.into()))?;
        self.begin(CeremonyKind::Passwordless, None, &state, json(&options)?)
            .await
    }

    /// Finishes a passwordless sign-in with the browser's answer
    /// (`navigator.credentials.get()`'s credential as JSON) and opens a session whose
    /// tokens carry `amr: ["hwk"]` (a device-bound passkey) or `["swk"]` (a synced
    /// one).
    ///
    /// Failures count against the same limits as wrong passwords (per address, and
    /// per account once the answer names one). A correctly signed answer whose
    /// signature counter did not go up comes from a cloned authenticator: it is
    /// refused, and the passkey removed with every session of its user.
    ///
    /// Errors: [`AuthError::InvalidPasskey`] for an unknown, used or expired ceremony,
    /// an unknown or deleted passkey, or an answer that does not verify;
    /// [`AuthError::Blocked`], [`AuthError::EmailNotVerified`] (as for a password
    /// login, only once the passkey verified); [`AuthError::Throttled`] past the limits.
    pub async fn finish_sign_in(
        &self,
        ceremony_id: Uuid,
        response: &serde_json::Value,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let auth = &*self.auth;
        let client = login::bounded(client);
        let credential: Option<PublicKeyCredential> = parse(response).ok();
        let named = credential
            .as_ref()
            .and_then(|c| self.webauthn.identify_discoverable_authentication(c).ok())
            .map(|(user, _)| user.to_string());
        let t = &auth.config.throttle;
        let keys = auth.guess_keys(
            &client,
            GuessKeys {
                address_scope: "login",
                subject_scope: "passkey",
                subject: named.as_deref(),
                limit: t.limit(t.max_failures_per_login),
                refusal: Refusal::Throttled,
            },
        );
        let reserved = limits::reserve(&*auth.store, keys, auth.clock.now()).await?;
        // Every refusal below keeps its reservations: they are the failures.
        let (_, state): (_, DiscoverableAuthentication) =
            self.take(ceremony_id, CeremonyKind::Passwordless).await?;
        let credential = credential.ok_or(AuthError::InvalidPasskey)?;
        let (user_id, credential_id) = self
            .webauthn
            .identify_discoverable_authentication(&credential)
            .map_err(|_| AuthError::InvalidPasskey)?;
        let stored = self
            .store()
            .passkey_by_credential(credential_id)
            .await?
            .filter(|p| p.user_id == user_id)
            .ok_or(AuthError::InvalidPasskey)?;
        let passkey = decode_passkey(&stored.credential)?;
        let key = DiscoverableKey::from(&passkey);
        let result =
            match self
                .webauthn
                .finish_discoverable_authentication(&credential, state, &[key])
            {
                Ok(r) => r,
                Err(e) => return Err(self.refusal(e, user_id, credential_id).await),
            };
        let user = auth
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(AuthError::InvalidPasskey)?;
        let now = auth.clock.now();
        let outcome = if user.status == UserStatus::Blocked {
            Err(AuthError::Blocked)
        } else if auth.config.require_email_verification && !user.email_verified {
            Err(AuthError::EmailNotVerified)
        } else {
            Ok(())
        };
        if outcome.is_ok() {
            // Compare-and-set on the counter: of two answers with one counter value
            // (a cloned authenticator), one gets through.
            let accepted = self
                .store()
                .use_passkey(use_of(stored, passkey, &result, now)?)
                .await?;
            if !accepted {
                return Err(AuthError::InvalidPasskey);
            }
        }
        // The passkey verified: a right answer, let in or not.
        auth.record_login(user_id, &client, true, outcome.is_ok())
            .await?;
        match &outcome {
            Ok(()) => reserved.succeeded(&*auth.store).await?,
            // The passkey was right: the account may not sign in, which is no guess.
            Err(_) => reserved.not_counted(&*auth.store).await?,
        }
        outcome?;
        let sign_in = key_sign_in(result.backup_eligible(), false);
        auth.open_session(user.id, user.roles, client, sign_in)
            .await
    }
}

impl Passkeys {
    /// The answer to an assertion webauthn-rs refused. A signature counter at or
    /// below the stored one is the sign webauthn-rs documents of a cloned
    /// authenticator (it checks the signature first, so the key signed it): the
    /// passkey is removed and every session of its user revoked, since a copy of the
    /// key is in other hands.
    async fn refusal(&self, e: WebauthnError, user_id: Uuid, credential_id: &[u8]) -> AuthError {
        if !matches!(e, WebauthnError::CredentialPossibleCompromise) {
            tracing::debug!(reason = %e, "passkey answer refused");
            return AuthError::InvalidPasskey;
        }
        let cloned = match self.store().passkey_by_credential(credential_id).await {
            Ok(found) => found.filter(|p| p.user_id == user_id),
            Err(e) => return e.into(),
        };
        if let Some(p) = cloned {
            tracing::warn!(%user_id, passkey = %p.id, "a passkey's counter went back: a copy of it exists; passkey removed, sessions revoked");
            let detail = format!("{} cloned", p.id);
            let event = self
                .auth
                .system_event(AuditKind::PasskeyRemoved, user_id, Some(detail));
            if let Err(e) = self
                .store()
                .delete_passkey(user_id, p.id, None, Some(event))
                .await
            {
                return e.into();
            }
        }
        AuthError::InvalidPasskey
    }

    /// Starts a passkey as the second factor of a login that answered
    /// [`AuthError::MfaRequired`] (an account with an active second factor may
    /// complete its challenge with a TOTP code, a recovery code or any of its
    /// passkeys): options listing the account's passkeys.
    ///
    /// Errors: [`AuthError::InvalidMfaToken`] for a bad or expired challenge,
    /// [`AuthError::NotFound`] when the account has no passkey.
    pub async fn start_second_factor(
        &self,
        mfa_token: &str,
    ) -> Result<PasskeyChallenge, AuthError> {
        let user_id = self.auth.challenge_user(mfa_token)?;
        let stored = self.store().passkeys(user_id).await?;
        if stored.is_empty() {
            return Err(AuthError::NotFound("passkey"));
        }
        let passkeys = stored
            .iter()
            .map(|p| decode_passkey(&p.credential))
            .collect::<Result<Vec<_>, _>>()?;
        let (options, state) = self
            .webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|e| AuthError::Internal(e.into()))?;
        self.begin(
            CeremonyKind::SecondFactor,
            Some(user_id),
            &state,
            json(&options)?,
        )
        .await
    }

    /// Completes the login of `mfa_token` with the browser's answer to
    /// [`Passkeys::start_second_factor`]'s options: the session's tokens carry
    /// `amr: ["pwd", "hwk"]` or `["pwd", "swk"]`. The challenge and the passkey's use
    /// are recorded in one store call ([`FactorProof::Passkey`]): either both or
    /// neither. Attempts count against the limits of second factors.
    ///
    /// Errors: [`AuthError::InvalidMfaToken`] for a bad, used, expired or killed
    /// challenge; [`AuthError::InvalidPasskey`] for an answer that does not verify,
    /// another account's ceremony or passkey, or a counter that did not go up;
    /// [`AuthError::Blocked`]; [`AuthError::Throttled`] past the limits.
    pub async fn finish_second_factor(
        &self,
        mfa_token: &str,
        ceremony_id: Uuid,
        response: &serde_json::Value,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let auth = &*self.auth;
        let user_id = auth.challenge_user(mfa_token)?;
        let client = login::bounded(client);
        let reserved = auth.reserve_mfa_attempt(user_id, &client).await?;
        // Every refusal below keeps its reservations: they are the failures.
        let (owner, state): (_, PasskeyAuthentication) =
            self.take(ceremony_id, CeremonyKind::SecondFactor).await?;
        if owner != Some(user_id) {
            return Err(AuthError::InvalidPasskey);
        }
        let credential: PublicKeyCredential = parse(response)?;
        let result = match self
            .webauthn
            .finish_passkey_authentication(&credential, &state)
        {
            Ok(r) => r,
            Err(e) => {
                let id = credential.get_credential_id();
                return Err(self.refusal(e, user_id, id).await);
            }
        };
        let stored = self
            .store()
            .passkey_by_credential(result.cred_id().as_ref())
            .await?
            .filter(|p| p.user_id == user_id)
            .ok_or(AuthError::InvalidPasskey)?;
        let passkey = decode_passkey(&stored.credential)?;
        let now = auth.clock.now();
        let proof = FactorProof::Passkey(use_of(stored, passkey, &result, now)?);
        let outcome = auth
            .store
            .complete_mfa_challenge(user_id, &auth.challenge_id(mfa_token), now, proof)
            .await?;
        let user = match outcome {
            ChallengeOutcome::Completed(user) => user,
            ChallengeOutcome::Invalid => return Err(AuthError::InvalidMfaToken),
            ChallengeOutcome::WrongCode => return Err(AuthError::InvalidPasskey),
            ChallengeOutcome::Blocked => {
                reserved.not_counted(&*auth.store).await?;
                return Err(AuthError::Blocked);
            }
        };
        reserved.succeeded(&*auth.store).await?;
        let sign_in = key_sign_in(result.backup_eligible(), true);
        auth.open_session(user.id, user.roles, client, sign_in)
            .await
    }
}

/// The use of `stored` (its credential decoded as `passkey`) that `result` verified,
/// with the credential to keep when the use changed it.
fn use_of(
    stored: StoredPasskey,
    mut passkey: Passkey,
    result: &AuthenticationResult,
    at: OffsetDateTime,
) -> Result<PasskeyUse, AuthError> {
    let changed = passkey.update_credential(result) == Some(true);
    Ok(PasskeyUse {
        credential_id: stored.credential_id,
        user_id: stored.user_id,
        counter: result.counter(),
        backup_state: result.backup_state(),
        credential: if changed {
            Some(encode_passkey(&passkey)?)
        } else {
            None
        },
        at,
    })
}

/// How a session signed in with a passkey: a synced (backup-eligible) one is a
/// software key, a device-bound one a hardware key; after a password or alone.
fn key_sign_in(synced: bool, after_password: bool) -> SignIn {
    match (synced, after_password) {
        (true, true) => SignIn::PasswordAndSoftwareKey,
        (false, true) => SignIn::PasswordAndHardwareKey,
        (true, false) => SignIn::SoftwareKey,
        (false, false) => SignIn::HardwareKey,
    }
}

/// A new credential's backup eligibility and state, as its registration reported.
fn credential_flags(passkey: &Passkey) -> (bool, bool) {
    // webauthn-rs keeps the flags inside the credential; its serialized form is the
    // one stable way to read them without the `danger-credential-internals` feature.
    let v = serde_json::to_value(passkey).unwrap_or_default();
    let flag = |name: &str| v["cred"][name].as_bool().unwrap_or(false);
    (flag("backup_eligible"), flag("backup_state"))
}
