//! Signing keys kept in the store and rotated on a schedule ([`KeyRotation`]): every
//! instance signs with the store's current key, publishes the next and retired ones,
//! and follows the store: at once on its notice, and by polling it.

use std::sync::Arc;

use time::OffsetDateTime;

use super::config::KeyRotation;
use super::{AuthService, Principal};
use crate::error::AuthError;
use crate::store::{AuditEvent, AuditKind, SigningKeyState, SigningKeys, StoredSigningKey};
use crate::token::{Key, KeySet};
use crate::totp::SecretBox;

/// Domain label of the key that seals private signing keys at rest.
const SEALING_LABEL: &str = "signing-key-seal";

/// How often a write of the set that lost a race is tried again from a fresh read.
const WRITE_ATTEMPTS: usize = 5;

/// A stored signing key as an administrator sees it (never its private half).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyInfo {
    /// The key id.
    pub kid: String,
    /// The JWS algorithm.
    pub algorithm: String,
    /// `next`, `current` or `retired`.
    pub state: &'static str,
    /// When it was made and published.
    pub created_at: OffsetDateTime,
    /// When it began to sign.
    pub activated_at: Option<OffsetDateTime>,
    /// When it leaves the JWKS (a retired key).
    pub retire_after: Option<OffsetDateTime>,
}

impl From<&StoredSigningKey> for SigningKeyInfo {
    fn from(k: &StoredSigningKey) -> Self {
        Self {
            kid: k.kid.clone(),
            algorithm: k.algorithm.clone(),
            state: k.state.as_str(),
            created_at: k.created_at,
            activated_at: k.activated_at,
            retire_after: k.retire_after,
        }
    }
}

/// The key set in use and the generation of the stored set it was built from (`None`:
/// the configured keys alone).
#[derive(Debug)]
pub(super) struct LoadedKeys {
    pub(super) set: Arc<KeySet>,
    pub(super) generation: Option<i64>,
}

/// What a write of the set is for.
#[derive(Clone, Copy)]
enum Change<'a> {
    /// The schedule: promote a due key, drop expired ones, publish a next one.
    Schedule,
    /// An administrator's "rotate now".
    RotateNow,
    /// An administrator's revocation of a key.
    Revoke(&'a str),
}

impl AuthService {
    fn rotation(&self) -> Result<KeyRotation, AuthError> {
        self.config.key_rotation.ok_or(AuthError::KeyRotationOff)
    }

    fn sealer(&self) -> SecretBox {
        SecretBox::new(&self.codec.digest(SEALING_LABEL, &[]))
    }

    /// A new Ed25519 key in `state`, made now, sealed for the store.
    fn new_stored_key(
        &self,
        state: SigningKeyState,
        now: OffsetDateTime,
    ) -> Result<StoredSigningKey, AuthError> {
        let key = Key::generate_ed25519().map_err(|e| AuthError::Internal(e.into()))?;
        let der = key.pkcs8_der().ok_or_else(|| {
            AuthError::Internal("a generated key without its private half".into())
        })?;
        Ok(StoredSigningKey {
            sealed_key: self.sealer().seal(key.kid().as_bytes(), der),
            kid: key.kid().to_owned(),
            algorithm: "EdDSA".into(),
            state,
            created_at: now,
            activated_at: (state == SigningKeyState::Current).then_some(now),
            retire_after: None,
        })
    }

    /// The set after `change` at `now`, or `None` when nothing changes.
    fn plan(
        &self,
        read: &SigningKeys,
        change: Change<'_>,
        rotation: KeyRotation,
        now: OffsetDateTime,
    ) -> Result<Option<Vec<StoredSigningKey>>, AuthError> {
        let mut keys = read.keys.clone();
        let before = keys.len();
        if let Change::Revoke(kid) = change {
            keys.retain(|k| k.kid != kid);
            if keys.len() == before {
                return Err(AuthError::NotFound("signing key"));
            }
        }
        // Retired keys whose last token has expired leave; so does a key this
        // instance cannot open (sealed under another secret): it is replaced.
        keys.retain(|k| {
            !(k.state == SigningKeyState::Retired && k.retire_after.is_some_and(|t| t <= now))
                && self.open(k).is_some()
        });
        let mut changed = keys.len() != before;
        let current = keys
            .iter()
            .position(|k| k.state == SigningKeyState::Current);
        let next = keys.iter().position(|k| k.state == SigningKeyState::Next);
        let since = |c: usize| keys[c].activated_at.unwrap_or(keys[c].created_at);
        // "Rotate now" within a poll of the last rotation is that rotation: other
        // instances may not have loaded the key that would sign next.
        let now_asked = matches!(change, Change::RotateNow)
            && current.is_none_or(|c| since(c) + rotation.poll <= now);
        let due = match current {
            None => true,
            Some(c) => now_asked || since(c) + rotation.period <= now,
        };
        // A next key signs once every cached JWKS and every instance has it; at once
        // when nothing signs or an administrator asks.
        let published = next.is_some_and(|n| {
            keys[n].created_at + rotation.jwks_max_age + rotation.poll <= now
                || current.is_none()
                || now_asked
        });
        if due && (published || current.is_none() || now_asked) {
            if let Some(c) = current {
                keys[c].state = SigningKeyState::Retired;
                keys[c].retire_after = Some(now + self.config.access_ttl + rotation.grace);
            }
            match next {
                Some(n) => {
                    keys[n].state = SigningKeyState::Current;
                    keys[n].activated_at = Some(now);
                }
                None => keys.push(self.new_stored_key(SigningKeyState::Current, now)?),
            }
            changed = true;
        }
        if !keys.iter().any(|k| k.state == SigningKeyState::Next) {
            keys.push(self.new_stored_key(SigningKeyState::Next, now)?);
            changed = true;
        }
        Ok(changed.then_some(keys))
    }

    /// The private key of `stored`, opened; `None` if it was sealed under another
    /// secret or altered.
    fn open(&self, stored: &StoredSigningKey) -> Option<Key> {
        let der = self
            .sealer()
            .open(stored.kid.as_bytes(), &stored.sealed_key)?;
        Key::ed25519_from_pkcs8_der(&der)
            .ok()
            .filter(|k| k.kid() == stored.kid)
    }

    /// Reads the stored set, applies `change` (with a compare-and-set on the set's
    /// generation, read again when another instance wrote first) and loads the
    /// result. Answers the set as stored.
    async fn apply(
        &self,
        change: Change<'_>,
        audit: impl Fn(&str) -> AuditEvent,
    ) -> Result<SigningKeys, AuthError> {
        let rotation = self.rotation()?;
        for _ in 0..WRITE_ATTEMPTS {
            let read = self.store.signing_keys().await?;
            let now = self.clock.now();
            let Some(keys) = self.plan(&read, change, rotation, now)? else {
                self.install(&read)?;
                return Ok(read);
            };
            let event = match change {
                Change::Revoke(kid) => Some(audit(kid)),
                _ => keys
                    .iter()
                    .find(|k| k.state == SigningKeyState::Current)
                    .filter(|k| Some(&k.kid) != read.current().map(|c| &c.kid))
                    .map(|k| audit(&k.kid)),
            };
            let written = self
                .store
                .replace_signing_keys(read.generation, keys.clone(), event)
                .await?;
            if let Some(generation) = written {
                let stored = SigningKeys { generation, keys };
                self.install(&stored)?;
                return Ok(stored);
            }
        }
        Err(AuthError::Unavailable(
            "signing keys kept changing under this write".into(),
        ))
    }

    /// Builds the key set from the stored keys (the current one signs; next and
    /// retired ones, and the configured keys, verify) and uses it from now on.
    /// Tokens verified under a key that has left are forgotten.
    fn install(&self, stored: &SigningKeys) -> Result<(), AuthError> {
        if self.loaded_generation() == Some(stored.generation) {
            return Ok(());
        }
        let Some(current) = stored.current().and_then(|k| self.open(k)) else {
            return Err(AuthError::Internal(
                "the stored signing keys have no current key this instance can open".into(),
            ));
        };
        let verifying = stored
            .keys
            .iter()
            .filter(|k| k.state != SigningKeyState::Current)
            .filter_map(|k| self.open(k))
            .map(Key::verify_only)
            .chain(self.configured_keys.keys().cloned().map(Key::verify_only));
        let set = KeySet::new(
            current,
            verifying,
            self.configured_keys.issuer(),
            self.configured_keys.audience(),
            self.configured_keys.leeway() as u32,
        )
        .map_err(|e| AuthError::Internal(e.into()))?;
        let mut loaded = self.keys.write().unwrap_or_else(|p| p.into_inner());
        if loaded.generation.is_some_and(|g| g >= stored.generation) {
            return Ok(());
        }
        let left = loaded.set.kids().any(|kid| !set.has_kid(kid));
        *loaded = LoadedKeys {
            set: Arc::new(set),
            generation: Some(stored.generation),
        };
        drop(loaded);
        if left {
            self.verified.clear();
        }
        Ok(())
    }

    fn loaded_generation(&self) -> Option<i64> {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .generation
    }

    /// One step of the signing-key schedule: reads the stored keys, makes the next
    /// key current when it is due, drops retired keys whose tokens have expired,
    /// publishes a new next key, and signs with the stored current key from then on.
    /// The first call on an empty store makes the first keys. Without
    /// [`AuthConfig::key_rotation`](crate::AuthConfig::key_rotation): [`AuthError::KeyRotationOff`].
    pub async fn sync_signing_keys(&self) -> Result<(), AuthError> {
        self.apply(Change::Schedule, |kid| {
            self.untargeted_event(AuditKind::SigningKeyRotated, None, kid.to_owned())
        })
        .await
        .map(drop)
    }

    /// Makes the next key current now (a new one if none is published), retiring the
    /// current one. A call within [`KeyRotation::poll`] of the last rotation changes
    /// nothing (other instances may not have loaded the key that would sign), so
    /// concurrent calls rotate once. Answers the keys as they are then.
    /// Other instances sign with the new key when the store's notice reaches them, at
    /// the latest after their next poll; the retired key keeps verifying meanwhile.
    pub async fn rotate_signing_key(
        &self,
        by: &Principal,
    ) -> Result<Vec<SigningKeyInfo>, AuthError> {
        let stored = self
            .apply(Change::RotateNow, |kid| {
                self.untargeted_event(AuditKind::SigningKeyRotated, Some(by), kid.to_owned())
            })
            .await?;
        Ok(infos(&stored))
    }

    /// Removes the key `kid` from the set at once (a compromised key): it leaves the
    /// JWKS, and tokens it signed are refused by this instance now and by the others
    /// when the store's notice reaches them ([`AuthService::spawn_key_rotation`]), at
    /// the latest at their next poll. A revoked current key is replaced by the next one.
    ///
    /// Errors: [`AuthError::NotFound`] for an unknown key.
    pub async fn revoke_signing_key(&self, by: &Principal, kid: &str) -> Result<(), AuthError> {
        self.apply(Change::Revoke(kid), |kid| {
            self.untargeted_event(AuditKind::SigningKeyRevoked, Some(by), kid.to_owned())
        })
        .await
        .map(drop)
    }

    /// The stored signing keys, current first, then next, then retired.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyInfo>, AuthError> {
        self.rotation()?;
        Ok(infos(&self.store.signing_keys().await?))
    }

    /// Runs [`AuthService::sync_signing_keys`] every [`KeyRotation::poll`], and at
    /// once when the store says the keys changed (a rotation or revocation on another
    /// instance; [`SigningKeyStore::signing_key_changes`](crate::store::SigningKeyStore::signing_key_changes)), on the current tokio
    /// runtime until the handle is aborted; a failed step is logged (`tracing`, warn)
    /// and tried at the next. `None` without a rotation. Call
    /// [`AuthService::sync_signing_keys`] once before serving, so the first tokens
    /// are signed with the stored key.
    pub fn spawn_key_rotation(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let every = self.config.key_rotation?.poll.unsigned_abs();
        let every = every.max(std::time::Duration::from_millis(10));
        let auth = Arc::downgrade(self);
        let store = self.store.clone();
        Some(tokio::spawn(async move {
            let mut changes = match store.signing_key_changes().await {
                Ok(changes) => changes,
                Err(e) => {
                    tracing::warn!(error = %e, "no signing key notices; polling alone");
                    None
                }
            };
            drop(store);
            loop {
                // The next poll, or a notice before it.
                match changes.as_mut() {
                    Some(rx) => {
                        if let Ok(Err(_)) = tokio::time::timeout(every, rx.changed()).await {
                            changes = None;
                        }
                    }
                    None => tokio::time::sleep(every).await,
                }
                let Some(auth) = auth.upgrade() else { return };
                if let Err(e) = auth.sync_signing_keys().await {
                    tracing::warn!(error = %e, "signing key step failed; will retry");
                }
            }
        }))
    }
}

fn infos(stored: &SigningKeys) -> Vec<SigningKeyInfo> {
    let order = |s: SigningKeyState| match s {
        SigningKeyState::Current => 0,
        SigningKeyState::Next => 1,
        SigningKeyState::Retired => 2,
    };
    let mut keys: Vec<&StoredSigningKey> = stored.keys.iter().collect();
    keys.sort_by_key(|k| (order(k.state), std::cmp::Reverse(k.created_at)));
    keys.into_iter().map(SigningKeyInfo::from).collect()
}
