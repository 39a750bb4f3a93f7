//! In-memory [`AuthStore`] with the same semantics as the Postgres store: one file
//! per capability trait, all over one state behind one mutex.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::RoleName;
use crate::store::*;

mod accounts;
mod api_keys;
mod attempts;
mod audit;
mod email_change;
mod mfa;
mod passkeys;
mod reset;
mod roles;
mod sessions;
mod signing_keys;
mod verification;

#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub(crate) id: Uuid,
    pub(crate) login: String,
    pub(crate) email: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) password_hash: String,
    pub(crate) status: UserStatus,
    pub(crate) email_verified: bool,
    pub(crate) created_at: OffsetDateTime,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) users: HashMap<Uuid, UserRow>,
    pub(crate) by_login: HashMap<String, Uuid>,
    pub(crate) by_email: HashMap<String, Uuid>,
    pub(crate) roles: BTreeMap<RoleName, Role>,
    pub(crate) grants: HashMap<Uuid, BTreeSet<RoleName>>,
    pub(crate) sessions: HashMap<Uuid, Session>,
    pub(crate) audit: Vec<AuditEvent>,
    pub(crate) codes: HashMap<Uuid, VerificationCode>,
    pub(crate) attempts: HashMap<String, Counter>,
    pub(crate) resets: HashMap<Uuid, ResetRow>,
    pub(crate) totp: HashMap<Uuid, TotpFactor>,
    pub(crate) recovery: HashMap<Uuid, Vec<Vec<u8>>>,
    /// MFA challenges by token hash: the user and the expiry.
    pub(crate) challenges: HashMap<Vec<u8>, (Uuid, OffsetDateTime)>,
    pub(crate) email_changes: HashMap<Uuid, EmailChange>,
    pub(crate) passkeys: Vec<StoredPasskey>,
    pub(crate) ceremonies: HashMap<Uuid, Ceremony>,
    pub(crate) api_keys: HashMap<Uuid, StoredApiKey>,
    pub(crate) signing_keys: SigningKeys,
}

/// A user's password reset token, as a hash.
#[derive(Debug, Clone)]
pub(crate) struct ResetRow {
    pub(crate) token_hash: Vec<u8>,
    pub(crate) expires_at: OffsetDateTime,
}

/// What [`AttemptStore::reserve_attempt`] keeps per key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counter {
    pub(crate) count: u32,
    pub(crate) window_start: OffsetDateTime,
    pub(crate) last_attempt: OffsetDateTime,
}

impl State {
    pub(crate) fn user(&self, row: &UserRow) -> User {
        User {
            id: row.id,
            login: row.login.clone(),
            email: row.email.clone(),
            first_name: row.first_name.clone(),
            last_name: row.last_name.clone(),
            roles: self.roles_of(row.id),
            status: row.status,
            email_verified: row.email_verified,
            created_at: row.created_at,
        }
    }

    pub(crate) fn roles_of(&self, user_id: Uuid) -> Vec<RoleName> {
        self.grants
            .get(&user_id)
            .map(|g| g.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// A user's password, email, status or second factor changed: the one-time things
    /// issued for the old state (reset token, MFA challenges) die.
    pub(crate) fn credentials_changed(&mut self, user_id: Uuid) {
        self.resets.remove(&user_id);
        self.challenges.retain(|_, (owner, _)| *owner != user_id);
    }

    /// Gives user `id` the address `email` (lowercased); the caller checked that no
    /// other user has it.
    pub(crate) fn set_email(&mut self, id: Uuid, email: String) {
        let Some(row) = self.users.get_mut(&id) else {
            return;
        };
        if row.email.as_ref() == Some(&email) {
            return;
        }
        let old = row.email.replace(email.clone());
        if let Some(old) = old {
            self.by_email.remove(&old);
        }
        self.by_email.insert(email, id);
        self.credentials_changed(id);
    }

    /// Whether a user other than `id` has the address `email` (lowercased).
    pub(crate) fn email_taken(&self, email: &str, id: Uuid) -> bool {
        self.by_email.get(email).is_some_and(|owner| *owner != id)
    }

    pub(crate) fn revoke_user_sessions(&mut self, user_id: Uuid, except: Option<Uuid>) -> u64 {
        let mut n = 0;
        for s in self.sessions.values_mut() {
            if s.user_id == user_id && !s.revoked && Some(s.id) != except {
                s.revoked = true;
                n += 1;
            }
        }
        n
    }
}

/// An [`AuthStore`] in process memory. Data is lost when the
/// process ends.
///
/// One mutex guards everything, so every method is atomic, as the Postgres store's
/// transactions are.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// Counts the writes of the signing keys, for the services sharing this store.
    signing_key_changes: tokio::sync::watch::Sender<u64>,
}

impl MemoryStore {
    /// An empty store with the built-in `admin` role, as a migrated database has.
    pub fn new() -> Self {
        let mut state = State::default();
        state.roles.insert(
            RoleName::admin(),
            Role {
                name: RoleName::admin(),
                description: Some("Administrators: manage users, roles and currencies".into()),
            },
        );
        Self {
            state: Mutex::new(state),
            signing_key_changes: tokio::sync::watch::Sender::new(0),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied change: every
        // method validates before it mutates.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The same as [`MemoryStore::new`]: the built-in `admin` role exists.
impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(all(test, feature = "testkit"))]
mod conformance {
    use std::sync::Arc;

    use super::MemoryStore;
    use crate::store::AuthStore;

    struct Memory(Arc<MemoryStore>);

    #[async_trait::async_trait]
    impl crate::testkit::Harness for Memory {
        async fn setup() -> Self {
            Memory(Arc::new(MemoryStore::new()))
        }
        fn store(&self) -> Arc<dyn AuthStore> {
            self.0.clone()
        }
    }

    crate::auth_store_conformance!(Memory);
}
