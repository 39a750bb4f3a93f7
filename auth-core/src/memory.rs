//! In-memory [`AuthStore`] with the same semantics as the Postgres store.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::error::StoreError;
use crate::store::*;

#[derive(Debug, Clone)]
struct UserRow {
    id: Uuid,
    login: String,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    password_hash: String,
    status: UserStatus,
    email_verified: bool,
    created_at: OffsetDateTime,
}

#[derive(Debug, Default)]
struct State {
    users: HashMap<Uuid, UserRow>,
    by_login: HashMap<String, Uuid>,
    by_email: HashMap<String, Uuid>,
    roles: BTreeMap<String, Role>,
    grants: HashMap<Uuid, BTreeSet<String>>,
    sessions: HashMap<Uuid, Session>,
    logins: Vec<LoginEvent>,
    codes: HashMap<Uuid, VerificationCode>,
    attempts: HashMap<String, Counter>,
}

/// What [`AuthStore::reserve_attempt`] keeps per key.
#[derive(Debug, Clone, Copy)]
struct Counter {
    count: u32,
    window_start: OffsetDateTime,
    last_attempt: OffsetDateTime,
}

impl State {
    fn user(&self, row: &UserRow) -> User {
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

    fn roles_of(&self, user_id: Uuid) -> Vec<String> {
        self.grants
            .get(&user_id)
            .map(|g| g.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn revoke_user_sessions(&mut self, user_id: Uuid, except: Option<Uuid>) -> u64 {
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

/// An [`AuthStore`] in process memory. Data is lost when the process ends.
///
/// One mutex guards everything, so every method is atomic, as the Postgres store's
/// transactions are.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store with the built-in `admin` role.
    pub fn new() -> Self {
        let store = Self::default();
        store.lock().roles.insert(
            crate::RoleName::ADMIN.to_owned(),
            Role {
                name: crate::RoleName::ADMIN.to_owned(),
                description: Some("Administrators: manage users, roles and currencies".into()),
            },
        );
        store
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied change: every
        // method validates before it mutates.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl AuthStore for MemoryStore {
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        let mut st = self.lock();
        let login_key = user.login.as_str().to_ascii_lowercase();
        if st.by_login.contains_key(&login_key) {
            return Err(StoreError::LoginTaken);
        }
        if let Some(email) = &user.email
            && st.by_email.contains_key(email.as_str())
        {
            return Err(StoreError::EmailTaken);
        }
        if user.roles.iter().any(|r| !st.roles.contains_key(r)) {
            return Err(StoreError::NotFound);
        }
        let row = UserRow {
            id: user.id,
            login: user.login.as_str().to_owned(),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            first_name: user.first_name.as_ref().map(|n| n.as_str().to_owned()),
            last_name: user.last_name.as_ref().map(|n| n.as_str().to_owned()),
            password_hash: user.password_hash,
            status: UserStatus::Active,
            email_verified: user.email_verified,
            created_at: user.created_at,
        };
        st.by_login.insert(login_key, row.id);
        if let Some(email) = &row.email {
            st.by_email.insert(email.clone(), row.id);
        }
        if !user.roles.is_empty() {
            st.grants.insert(row.id, user.roles.into_iter().collect());
        }
        let out = st.user(&row);
        st.users.insert(row.id, row);
        Ok(out)
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        let st = self.lock();
        Ok(st.users.get(&id).map(|r| st.user(r)))
    }

    async fn credentials_by_login(&self, login: &str) -> Result<Option<Credentials>, StoreError> {
        let st = self.lock();
        let Some(id) = st.by_login.get(&login.to_ascii_lowercase()) else {
            return Ok(None);
        };
        let row = &st.users[id];
        Ok(Some(Credentials {
            user: st.user(row),
            password_hash: row.password_hash.clone(),
        }))
    }

    async fn password_hash(&self, user_id: Uuid) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .users
            .get(&user_id)
            .map(|r| r.password_hash.clone()))
    }

    async fn update_user(&self, id: Uuid, update: UserUpdate) -> Result<User, StoreError> {
        let mut st = self.lock();
        let Some(current) = st.users.get(&id).cloned() else {
            return Err(StoreError::NotFound);
        };
        if let Some(email) = &update.email
            && st
                .by_email
                .get(email.as_str())
                .is_some_and(|owner| *owner != id)
        {
            return Err(StoreError::EmailTaken);
        }
        let mut row = current.clone();
        if let Some(email) = update.email {
            if let Some(old) = &current.email {
                st.by_email.remove(old);
            }
            st.by_email.insert(email.as_str().to_owned(), id);
            row.email = Some(email.as_str().to_owned());
        }
        if let Some(n) = update.first_name {
            row.first_name = Some(n.as_str().to_owned());
        }
        if let Some(n) = update.last_name {
            row.last_name = Some(n.as_str().to_owned());
        }
        if let Some(v) = update.email_verified {
            row.email_verified = v;
        }
        let out = st.user(&row);
        st.users.insert(id, row);
        Ok(out)
    }

    async fn set_password_hash(
        &self,
        user_id: Uuid,
        password_hash: &str,
        revoke_except: Option<Uuid>,
    ) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let row = st.users.get_mut(&user_id).ok_or(StoreError::NotFound)?;
        row.password_hash = password_hash.to_owned();
        Ok(match revoke_except {
            Some(keep) => st.revoke_user_sessions(user_id, Some(keep)),
            None => 0,
        })
    }

    async fn delete_user(&self, id: Uuid) -> Result<(), StoreError> {
        let mut st = self.lock();
        let row = st.users.remove(&id).ok_or(StoreError::NotFound)?;
        st.by_login.remove(&row.login.to_ascii_lowercase());
        if let Some(email) = &row.email {
            st.by_email.remove(email);
        }
        st.grants.remove(&id);
        st.sessions.retain(|_, s| s.user_id != id);
        st.logins.retain(|e| e.user_id != id);
        st.codes.remove(&id);
        Ok(())
    }

    async fn list_users(
        &self,
        query: Option<String>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<User>, StoreError> {
        let st = self.lock();
        let needle = query.map(|q| q.to_lowercase());
        let matches = |r: &UserRow| match &needle {
            None => true,
            Some(n) => [
                Some(&r.login),
                r.email.as_ref(),
                r.first_name.as_ref(),
                r.last_name.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|f| f.to_lowercase().contains(n.as_str())),
        };
        let mut rows: Vec<&UserRow> = st.users.values().filter(|r| matches(r)).collect();
        rows.sort_by_key(|r| (r.created_at, r.id));
        Ok(rows
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .map(|r| st.user(r))
            .collect())
    }

    async fn set_user_status(&self, id: Uuid, status: UserStatus) -> Result<u64, StoreError> {
        let mut st = self.lock();
        st.users.get_mut(&id).ok_or(StoreError::NotFound)?.status = status;
        Ok(match status {
            UserStatus::Blocked => st.revoke_user_sessions(id, None),
            UserStatus::Active => 0,
        })
    }

    async fn list_roles(&self) -> Result<Vec<Role>, StoreError> {
        Ok(self.lock().roles.values().cloned().collect())
    }

    async fn create_role(&self, role: Role) -> Result<Role, StoreError> {
        let mut st = self.lock();
        if st.roles.contains_key(&role.name) {
            return Err(StoreError::RoleExists);
        }
        st.roles.insert(role.name.clone(), role.clone());
        Ok(role)
    }

    async fn delete_role(&self, name: &str) -> Result<(), StoreError> {
        let mut st = self.lock();
        st.roles.remove(name).ok_or(StoreError::NotFound)?;
        for g in st.grants.values_mut() {
            g.remove(name);
        }
        Ok(())
    }

    async fn grant_role(&self, user_id: Uuid, role: &str) -> Result<(), StoreError> {
        let mut st = self.lock();
        if !st.users.contains_key(&user_id) || !st.roles.contains_key(role) {
            return Err(StoreError::NotFound);
        }
        st.grants
            .entry(user_id)
            .or_default()
            .insert(role.to_owned());
        Ok(())
    }

    async fn revoke_role(&self, user_id: Uuid, role: &str) -> Result<(), StoreError> {
        let mut st = self.lock();
        if !st.users.contains_key(&user_id) || !st.roles.contains_key(role) {
            return Err(StoreError::NotFound);
        }
        if let Some(g) = st.grants.get_mut(&user_id) {
            g.remove(role);
        }
        Ok(())
    }

    async fn create_session(&self, session: Session, max_live: u32) -> Result<u64, StoreError> {
        let mut st = self.lock();
        if !st.users.contains_key(&session.user_id) {
            return Err(StoreError::NotFound);
        }
        let (user_id, now) = (session.user_id, session.created_at);
        st.sessions.insert(session.id, session);
        if max_live == 0 {
            return Ok(0);
        }
        let mut live: Vec<(OffsetDateTime, Uuid)> = st
            .sessions
            .values()
            .filter(|s| s.user_id == user_id && !s.revoked && s.expires_at > now)
            .map(|s| (s.created_at, s.id))
            .collect();
        let excess = live.len().saturating_sub(max_live as usize);
        live.sort_unstable();
        for (_, id) in &live[..excess] {
            if let Some(s) = st.sessions.get_mut(id) {
                s.revoked = true;
            }
        }
        Ok(excess as u64)
    }

    async fn session(&self, id: Uuid) -> Result<Option<Session>, StoreError> {
        Ok(self.lock().sessions.get(&id).cloned())
    }

    async fn session_status(&self, id: Uuid) -> Result<Option<SessionStatus>, StoreError> {
        let st = self.lock();
        let Some(s) = st.sessions.get(&id) else {
            return Ok(None);
        };
        let Some(u) = st.users.get(&s.user_id) else {
            return Ok(None);
        };
        Ok(Some(SessionStatus {
            user_id: s.user_id,
            revoked: s.revoked,
            expires_at: s.expires_at,
            last_refreshed_at: s.last_refreshed_at,
            user_status: u.status,
            roles: st.roles_of(u.id),
        }))
    }

    async fn refresh_session(&self, req: RefreshRequest) -> Result<RefreshOutcome, StoreError> {
        let mut st = self.lock();
        let Some(s) = st.sessions.get(&req.session_id).cloned() else {
            return Ok(RefreshOutcome::Rejected);
        };
        let user_active = st
            .users
            .get(&s.user_id)
            .is_some_and(|u| u.status == UserStatus::Active);
        let alive = !s.revoked
            && s.expires_at > req.now
            && s.last_refreshed_at + req.idle_timeout > req.now
            && user_active;
        if !alive || req.counter > s.counter {
            return Ok(RefreshOutcome::Rejected);
        }
        let roles = st.roles_of(s.user_id);
        if req.counter == s.counter {
            let s = st
                .sessions
                .get_mut(&req.session_id)
                .expect("session looked up under the same lock");
            s.counter += 1;
            s.last_refreshed_at = req.now;
            return Ok(RefreshOutcome::Rotated {
                session: s.clone(),
                roles,
            });
        }
        if req.counter + 1 == s.counter && req.now - s.last_refreshed_at <= req.reuse_grace {
            return Ok(RefreshOutcome::Retried { session: s, roles });
        }
        let revoked = match req.reuse_policy {
            ReusePolicy::RevokeUser => st.revoke_user_sessions(s.user_id, None),
            ReusePolicy::RevokeSession => {
                let sess = st
                    .sessions
                    .get_mut(&req.session_id)
                    .expect("session looked up under the same lock");
                sess.revoked = true;
                1
            }
        };
        Ok(RefreshOutcome::Reused {
            user_id: s.user_id,
            revoked,
        })
    }

    async fn revoke_session(&self, id: Uuid, user_id: Option<Uuid>) -> Result<bool, StoreError> {
        let mut st = self.lock();
        match st.sessions.get_mut(&id) {
            Some(s) if !s.revoked && user_id.is_none_or(|u| u == s.user_id) => {
                s.revoked = true;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
    ) -> Result<u64, StoreError> {
        Ok(self.lock().revoke_user_sessions(user_id, except))
    }

    async fn list_sessions(
        &self,
        user_id: Uuid,
        now: OffsetDateTime,
        idle_timeout: Duration,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Session>, StoreError> {
        let st = self.lock();
        let mut out: Vec<&Session> = st
            .sessions
            .values()
            .filter(|s| {
                s.user_id == user_id
                    && !s.revoked
                    && s.expires_at > now
                    && s.last_refreshed_at + idle_timeout > now
            })
            .collect();
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(out
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn purge_expired(
        &self,
        now: OffsetDateTime,
        idle_timeout: Duration,
    ) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let before = st.sessions.len() + st.codes.len();
        st.sessions.retain(|_, s| {
            !s.revoked && s.expires_at > now && s.last_refreshed_at + idle_timeout > now
        });
        st.codes.retain(|_, c| c.expires_at > now);
        Ok((before - st.sessions.len() - st.codes.len()) as u64)
    }

    async fn record_login(&self, event: LoginEvent) -> Result<(), StoreError> {
        let mut st = self.lock();
        if st.users.contains_key(&event.user_id) {
            st.logins.push(event);
        }
        Ok(())
    }

    async fn login_history(
        &self,
        user_id: Uuid,
        limit: u32,
        before: Option<OffsetDateTime>,
    ) -> Result<Vec<LoginEvent>, StoreError> {
        let st = self.lock();
        let mut out: Vec<LoginEvent> = st
            .logins
            .iter()
            .filter(|e| e.user_id == user_id && before.is_none_or(|b| e.at < b))
            .cloned()
            .collect();
        // Stable sort keeps insertion order among equal times; reverse gives newest first.
        out.sort_by_key(|e| e.at);
        out.reverse();
        out.truncate(limit as usize);
        Ok(out)
    }

    async fn put_verification_code(&self, code: VerificationCode) -> Result<(), StoreError> {
        let mut st = self.lock();
        if !st.users.contains_key(&code.user_id) {
            return Err(StoreError::NotFound);
        }
        st.codes.insert(code.user_id, code);
        Ok(())
    }

    async fn verification_code(
        &self,
        user_id: Uuid,
    ) -> Result<Option<VerificationCode>, StoreError> {
        Ok(self.lock().codes.get(&user_id).cloned())
    }

    async fn reserve_attempt(
        &self,
        key: &str,
        limit: AttemptLimit,
        now: OffsetDateTime,
    ) -> Result<Reservation, StoreError> {
        let mut st = self.lock();
        let fresh = Counter {
            count: 0,
            window_start: now,
            last_attempt: now,
        };
        let c = st.attempts.entry(key.to_owned()).or_insert(fresh);
        if c.window_start <= now - limit.window {
            *c = fresh;
        }
        if c.count >= limit.max {
            let unlocked = c.last_attempt + limit.lock_for(c.count);
            if now < unlocked {
                return Ok(Reservation::Refused {
                    until: unlocked.min(c.window_start + limit.window),
                });
            }
        }
        c.count = c.count.saturating_add(1);
        c.last_attempt = now;
        Ok(Reservation::Granted { count: c.count })
    }

    async fn release_attempt(&self, key: &str) -> Result<(), StoreError> {
        if let Some(c) = self.lock().attempts.get_mut(key) {
            c.count = c.count.saturating_sub(1);
        }
        Ok(())
    }

    async fn clear_attempts(&self, key: &str) -> Result<(), StoreError> {
        self.lock().attempts.remove(key);
        Ok(())
    }

    async fn purge_attempts(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let n = st.attempts.len();
        st.attempts.retain(|_, a| a.last_attempt > before);
        Ok((n - st.attempts.len()) as u64)
    }

    async fn complete_verification(&self, user_id: Uuid) -> Result<(), StoreError> {
        let mut st = self.lock();
        st.users
            .get_mut(&user_id)
            .ok_or(StoreError::NotFound)?
            .email_verified = true;
        st.codes.remove(&user_id);
        Ok(())
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
