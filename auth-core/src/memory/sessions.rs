//! [`SessionStore`] of the [`MemoryStore`]: sessions and the refresh rule.

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::MemoryStore;
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl SessionStore for MemoryStore {
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

    async fn mark_reauthenticated(
        &self,
        id: Uuid,
        user_id: Uuid,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut st = self.lock();
        match st.sessions.get_mut(&id) {
            Some(s) if s.user_id == user_id && !s.revoked && s.expires_at > at => {
                s.reauthenticated_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
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
            revoked: s.revoked,
            expires_at: s.expires_at,
            last_refreshed_at: s.last_refreshed_at,
            user: st.user(u),
        }))
    }

    async fn refresh_session(&self, req: RefreshRequest) -> Result<RefreshOutcome, StoreError> {
        let mut st = self.lock();
        if let Some(AttemptKey { key, limit }) = &req.limit
            && let Reservation::Refused { until } = st.reserve(key, *limit, req.now)
        {
            return Ok(RefreshOutcome::Limited { until });
        }
        let Some(s) = st.sessions.get(&req.session_id).cloned() else {
            return Ok(RefreshOutcome::Rejected);
        };
        let user_active = st
            .users
            .get(&s.user_id)
            .is_some_and(|u| u.status == UserStatus::Active);
        let alive = s.is_live(req.now, req.idle_timeout) && user_active;
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
        st.audit(req.reuse_audit.map(|e| e.about(s.user_id)));
        Ok(RefreshOutcome::Reused {
            user_id: s.user_id,
            revoked,
        })
    }

    async fn revoke_session(
        &self,
        id: Uuid,
        user_id: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<bool, StoreError> {
        let mut st = self.lock();
        match st.sessions.get_mut(&id) {
            Some(s) if !s.revoked && user_id.is_none_or(|u| u == s.user_id) => {
                s.revoked = true;
                st.audit(audit);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let n = st.revoke_user_sessions(user_id, except);
        st.audit(audit);
        Ok(n)
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
            .filter(|s| s.user_id == user_id && s.is_live(now, idle_timeout))
            .collect();
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(out
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn purge_sessions(
        &self,
        now: OffsetDateTime,
        idle_timeout: Duration,
    ) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let before = st.sessions.len();
        st.sessions.retain(|_, s| s.is_live(now, idle_timeout));
        Ok((before - st.sessions.len()) as u64)
    }
}
