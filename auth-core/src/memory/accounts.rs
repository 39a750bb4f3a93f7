//! [`AccountStore`] of the [`MemoryStore`]: accounts.

use async_trait::async_trait;
use uuid::Uuid;

use super::{MemoryStore, UserRow};
use crate::domain::Login;
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl AccountStore for MemoryStore {
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

    async fn credentials_by_login(&self, login: &Login) -> Result<Option<Credentials>, StoreError> {
        let st = self.lock();
        let Some(id) = st.by_login.get(&login.as_str().to_ascii_lowercase()) else {
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

    async fn update_user(
        &self,
        id: Uuid,
        update: UserUpdate,
        audit: Option<AuditEvent>,
    ) -> Result<User, StoreError> {
        let mut st = self.lock();
        if !st.users.contains_key(&id) {
            return Err(StoreError::NotFound);
        }
        if let Some(email) = &update.email
            && st.email_taken(email.as_str(), id)
        {
            return Err(StoreError::EmailTaken);
        }
        if let Some(email) = update.email {
            st.set_email(id, email.as_str().to_owned());
        }
        let row = st.users.get_mut(&id).ok_or(StoreError::NotFound)?;
        if let Some(n) = update.first_name {
            row.first_name = Some(n.as_str().to_owned());
        }
        if let Some(n) = update.last_name {
            row.last_name = Some(n.as_str().to_owned());
        }
        if let Some(v) = update.email_verified {
            row.email_verified = v;
        }
        let row = row.clone();
        st.audit(audit);
        Ok(st.user(&row))
    }

    async fn set_password_hash(
        &self,
        user_id: Uuid,
        password_hash: &str,
        revoke_except: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let row = st.users.get_mut(&user_id).ok_or(StoreError::NotFound)?;
        if row.password_hash != password_hash {
            row.password_hash = password_hash.to_owned();
            st.credentials_changed(user_id);
        }
        st.audit(audit);
        Ok(match revoke_except {
            Some(keep) => st.revoke_user_sessions(user_id, Some(keep)),
            None => 0,
        })
    }

    async fn delete_user(&self, id: Uuid, audit: Option<AuditEvent>) -> Result<(), StoreError> {
        let mut st = self.lock();
        let row = st.users.remove(&id).ok_or(StoreError::NotFound)?;
        st.by_login.remove(&row.login.to_ascii_lowercase());
        if let Some(email) = &row.email {
            st.by_email.remove(email);
        }
        st.grants.remove(&id);
        st.sessions.retain(|_, s| s.user_id != id);
        st.codes.remove(&id);
        st.resets.remove(&id);
        st.totp.remove(&id);
        st.recovery.remove(&id);
        st.email_changes.remove(&id);
        st.passkeys.retain(|p| p.user_id != id);
        st.api_keys.retain(|_, k| k.user_id != id);
        st.ceremonies.retain(|_, c| c.user_id != Some(id));
        st.credentials_changed(id);
        st.audit(audit);
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

    async fn set_user_status(
        &self,
        id: Uuid,
        status: UserStatus,
        audit: Option<AuditEvent>,
    ) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let row = st.users.get_mut(&id).ok_or(StoreError::NotFound)?;
        if row.status != status {
            row.status = status;
            st.credentials_changed(id);
        }
        st.audit(audit);
        Ok(match status {
            UserStatus::Blocked => st.revoke_user_sessions(id, None),
            UserStatus::Active => 0,
        })
    }
}
