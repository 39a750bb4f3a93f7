//! API keys: long-lived credentials for machine clients (scripts, services, CI jobs).
//!
//! A key reads `ak_<id>_<secret>`: the id (32 hex digits) finds it, the secret (256
//! random bits, base64url) proves it, and the store keeps only the service's keyed
//! digest of the secret. [`AuthService::authenticate`] accepts a key wherever it
//! accepts an access token and returns the same [`Principal`], with
//! [`Credential::ApiKey`].

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::sessions::Credential;
use super::{AuthService, ClientInfo, Principal, item_name, not_found};
use crate::domain::{RoleName, ValidationError};
use crate::error::AuthError;
use crate::limits::{self, LimitKey, RateLimit, Refusal};
use crate::store::{AuditKind, StoredApiKey, UserStatus};

/// What every API key starts with, so a bearer credential names its kind.
pub const API_KEY_PREFIX: &str = "ak_";
/// Domain separation of the secret's digest under the service's MAC; short, so the
/// label, the id and the secret fit one SHA-256 block.
const DIGEST_LABEL: &str = "ak";
const SECRET_LEN: usize = 32;
/// Characters of a whole key: prefix, 32 hex digits, `_`, the base64url secret.
const KEY_LEN: usize = API_KEY_PREFIX.len() + 32 + 1 + (SECRET_LEN * 4).div_ceil(3);
/// `last_used_at` is written at most this often per key.
pub const LAST_USED_EVERY: Duration = Duration::minutes(1);
/// The highest per-key rate limit accepted, requests per minute.
pub const MAX_RATE_LIMIT: u32 = 1_000_000;

/// A key to create.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewApiKey {
    /// A name unique among the owner's keys ("deploy", "billing-sync"): 1 to 64
    /// characters, no control characters.
    pub name: String,
    /// The roles the key may use: each must be one its owner holds now. At every use
    /// only those the owner still holds count, so removing a role from the owner
    /// removes it from the key.
    pub roles: Vec<String>,
    /// When the key stops working; `None`: never (revoke it to stop it).
    pub expires_at: Option<OffsetDateTime>,
    /// Requests allowed per minute with this key, counted atomically in the store
    /// (across instances); `None`: no limit of its own. 1 to [`MAX_RATE_LIMIT`].
    pub rate_limit: Option<u32>,
}

/// A key as shown to its owner and to administrators: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ApiKeyInfo {
    /// The key's id (also the public part of the key).
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The roles it may use (those its owner no longer holds do not count).
    pub roles: Vec<RoleName>,
    /// Requests per minute it may make; `None`: no limit of its own.
    pub rate_limit_per_minute: Option<u32>,
    /// Creation time.
    #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339"))]
    pub created_at: OffsetDateTime,
    /// Expiry, if any.
    #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339::option"))]
    pub expires_at: Option<OffsetDateTime>,
    /// Its last use, to the minute ([`LAST_USED_EVERY`]).
    #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339::option"))]
    pub last_used_at: Option<OffsetDateTime>,
}

impl From<&StoredApiKey> for ApiKeyInfo {
    fn from(k: &StoredApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name.clone(),
            roles: k.roles.clone(),
            rate_limit_per_minute: k.rate_limit,
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// The whole key, shown once at creation: nothing can show it again. `Debug` is
/// redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    /// The key, to hand to its holder once. Handle as a secret.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret([redacted])")
    }
}

/// A key just created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedApiKey {
    /// What is stored and listed.
    pub info: ApiKeyInfo,
    /// The whole key, shown this once.
    pub key: ApiKeySecret,
}

/// The key's id and secret, if `key` has the shape of one.
fn parse(key: &str) -> Option<(Uuid, [u8; SECRET_LEN])> {
    if key.len() != KEY_LEN {
        return None;
    }
    let rest = key.strip_prefix(API_KEY_PREFIX)?;
    let (id, secret) = (rest.get(..32)?, rest.get(32..)?);
    let id = Uuid::try_parse(id).ok()?;
    let secret = secret.strip_prefix('_')?;
    let mut raw = [0u8; SECRET_LEN];
    let n = URL_SAFE_NO_PAD.decode_slice(secret, &mut raw).ok()?;
    (n == SECRET_LEN).then_some((id, raw))
}

/// What the digest covers: the id binds the secret to its row.
fn material(id: Uuid, secret: &[u8; SECRET_LEN]) -> [u8; 16 + SECRET_LEN] {
    let mut m = [0u8; 16 + SECRET_LEN];
    m[..16].copy_from_slice(id.as_bytes());
    m[16..].copy_from_slice(secret);
    m
}

/// Whether `credential` has the form of an API key (`ak_...`); only its prefix is
/// looked at.
pub fn is_api_key(credential: &str) -> bool {
    credential.starts_with(API_KEY_PREFIX)
}

impl AuthService {
    /// Creates an API key for the caller. Needs a recent re-authentication of the
    /// caller's session (a key outlives the access token that asks for it), so a key
    /// cannot create keys.
    ///
    /// Errors: [`AuthError::ReauthenticationRequired`], [`AuthError::SessionRequired`],
    /// [`AuthError::Validation`] (fields `name`, `roles`, `expires_at`, `rate_limit`),
    /// [`AuthError::ApiKeyExists`].
    pub async fn create_api_key(
        &self,
        who: &Principal,
        new: NewApiKey,
    ) -> Result<CreatedApiKey, AuthError> {
        self.require_recent_auth(who).await?;
        self.issue_api_key(who, who.user_id, new).await
    }

    /// Creates an API key for user `user_id` on behalf of an administrator (`actor`,
    /// whose role the caller checked), who must have re-authenticated recently. The
    /// roles are checked against the owner's, not the administrator's.
    ///
    /// Errors: as [`AuthService::create_api_key`], and [`AuthError::NotFound`] for an
    /// unknown user.
    pub async fn create_api_key_for(
        &self,
        actor: &Principal,
        user_id: Uuid,
        new: NewApiKey,
    ) -> Result<CreatedApiKey, AuthError> {
        self.require_recent_auth(actor).await?;
        self.issue_api_key(actor, user_id, new).await
    }

    async fn issue_api_key(
        &self,
        actor: &Principal,
        user_id: Uuid,
        new: NewApiKey,
    ) -> Result<CreatedApiKey, AuthError> {
        let name = item_name(&new.name)?;
        let now = self.clock.now();
        if new.expires_at.is_some_and(|t| t <= now) {
            return Err(
                ValidationError::new("expires_at", "expires_at must be in the future").into(),
            );
        }
        if new.rate_limit.is_some_and(|n| n == 0 || n > MAX_RATE_LIMIT) {
            return Err(ValidationError::new(
                "rate_limit",
                format!("rate_limit must be between 1 and {MAX_RATE_LIMIT} per minute"),
            )
            .into());
        }
        let owner = self.user(user_id).await?;
        let mut roles = Vec::with_capacity(new.roles.len());
        for raw in new.roles {
            let role =
                RoleName::parse(&raw).map_err(|e| ValidationError::new("roles", e.message))?;
            if !owner.roles.contains(&role) {
                return Err(ValidationError::new(
                    "roles",
                    format!("the key's owner does not hold the role {role}"),
                )
                .into());
            }
            roles.push(role);
        }
        roles.sort();
        roles.dedup();
        let id = Uuid::now_v7();
        let mut secret = [0u8; SECRET_LEN];
        aws_lc_rs::rand::fill(&mut secret).expect("the system random source works");
        let stored = StoredApiKey {
            id,
            user_id,
            name,
            secret_hash: self.codec.digest(DIGEST_LABEL, &material(id, &secret)),
            roles,
            rate_limit: new.rate_limit,
            created_at: now,
            expires_at: new.expires_at,
            last_used_at: None,
        };
        let detail = format!("{id} {}", stored.name);
        let event = self.audit_event(AuditKind::ApiKeyCreated, actor, user_id, Some(detail));
        if !self
            .store
            .add_api_key(stored.clone(), Some(event))
            .await
            .map_err(|e| not_found(e, "user"))?
        {
            return Err(AuthError::ApiKeyExists);
        }
        let key = format!(
            "{API_KEY_PREFIX}{}_{}",
            id.simple(),
            URL_SAFE_NO_PAD.encode(secret)
        );
        Ok(CreatedApiKey {
            info: ApiKeyInfo::from(&stored),
            key: ApiKeySecret(key),
        })
    }

    /// The user's API keys, oldest first.
    pub async fn api_keys(&self, user_id: Uuid) -> Result<Vec<ApiKeyInfo>, AuthError> {
        Ok(self
            .store
            .api_keys(user_id)
            .await?
            .iter()
            .map(ApiKeyInfo::from)
            .collect())
    }

    /// Revokes (deletes) the user's key `id` on `actor`'s behalf (the owner or an
    /// administrator; recorded in the audit log): every request with it is refused
    /// from now on, on every instance. Errors: [`AuthError::NotFound`].
    pub async fn revoke_api_key(
        &self,
        actor: &Principal,
        user_id: Uuid,
        id: Uuid,
    ) -> Result<(), AuthError> {
        let event = self.audit_event(
            AuditKind::ApiKeyRevoked,
            actor,
            user_id,
            Some(id.to_string()),
        );
        if self.store.revoke_api_key(user_id, id, Some(event)).await? {
            Ok(())
        } else {
            Err(AuthError::NotFound("API key"))
        }
    }

    /// The stateful check of an API key (what [`AuthService::authenticate`] does for a
    /// credential starting `ak_`): one store read of the key and its owner; the
    /// secret's digest compared in constant time; refused when revoked, expired or its
    /// owner is not active. The key's own rate limit is counted in the store, and its
    /// last use written at most once per [`LAST_USED_EVERY`]. The principal's roles are
    /// the key's that its owner still holds; its custom claims are what
    /// [`AuthService::with_custom_claims`] computes from those roles, as a token issued
    /// now would carry.
    ///
    /// Errors: [`AuthError::InvalidToken`], [`AuthError::RateLimited`] past the key's
    /// limit.
    pub async fn authenticate_api_key(&self, key: &str) -> Result<Principal, AuthError> {
        let (id, secret) = parse(key).ok_or(AuthError::InvalidToken)?;
        let status = self
            .store
            .api_key_status(id)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        let (key, mut user) = (status.key, status.user);
        if !self
            .codec
            .digest_matches(DIGEST_LABEL, &material(id, &secret), &key.secret_hash)
        {
            return Err(AuthError::InvalidToken);
        }
        let now = self.clock.now();
        if key.expires_at.is_some_and(|t| t <= now) || user.status != UserStatus::Active {
            return Err(AuthError::InvalidToken);
        }
        if let Some(max) = key.rate_limit {
            let limit = RateLimit::new(max, Duration::minutes(1)).attempt_limit();
            let counted =
                LimitKey::subject("api-key", &id.to_string(), limit, Refusal::RateLimited);
            // A granted request stays counted: that is the limit.
            let _counted = limits::reserve(&*self.store, [counted], now).await?;
        }
        if key.last_used_at.is_none_or(|t| now - t >= LAST_USED_EVERY) {
            self.store.touch_api_key(id, now, LAST_USED_EVERY).await?;
        }
        user.roles.retain(|r| key.roles.contains(r));
        let custom = match self.claims {
            None => Arc::default(),
            Some(_) => {
                let roles: Vec<String> = user.roles.iter().map(|r| r.to_string()).collect();
                Arc::new(self.custom_claims(user.id, &roles))
            }
        };
        Ok(Principal {
            user_id: user.id,
            credential: Credential::ApiKey(id),
            user,
            custom,
            client: ClientInfo::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_parses_back_to_its_id_and_secret() {
        let id = Uuid::now_v7();
        let secret = [7u8; SECRET_LEN];
        let key = format!(
            "{API_KEY_PREFIX}{}_{}",
            id.simple(),
            URL_SAFE_NO_PAD.encode(secret)
        );
        assert_eq!(key.len(), KEY_LEN);
        assert_eq!(parse(&key), Some((id, secret)));
        assert!(is_api_key(&key));
    }

    #[test]
    fn anything_else_is_not_a_key() {
        let id = Uuid::now_v7().simple().to_string();
        let good = format!("{API_KEY_PREFIX}{id}_{}", URL_SAFE_NO_PAD.encode([1u8; 32]));
        for bad in [
            String::new(),
            "ak_".into(),
            good[..good.len() - 1].to_string(),
            format!("{good}A"),
            good.replacen("ak_", "xx_", 1),
            good.replacen(&format!("{id}_"), &format!("{id}-"), 1),
            good.replacen(&id[..1], "g", 1),
            format!("{}é", &good[..good.len() - 2]),
        ] {
            assert_eq!(parse(&bad), None, "{bad}");
        }
    }
}
