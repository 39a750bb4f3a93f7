//! The audit log: who did what to whom, from where, and how it ended. Login history is
//! a view of it.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{AuthService, ClientInfo, Principal};
use crate::error::AuthError;
use crate::store::{Actor, AuditEvent, AuditKind, AuditQuery, LoginEvent};

impl AuthService {
    /// An event of `kind` by `actor`, coming from `client`, to `target`, now; it went
    /// through.
    fn new_event(
        &self,
        kind: AuditKind,
        actor: Actor,
        target: Uuid,
        client: &ClientInfo,
        detail: Option<String>,
    ) -> AuditEvent {
        AuditEvent {
            id: Uuid::now_v7(),
            at: self.clock.now(),
            kind,
            actor,
            target: Some(target),
            ip: client.ip,
            user_agent: client.user_agent.clone(),
            success: true,
            detail,
        }
    }

    /// An event of `kind` done by `by` (its actor and client) to `target`, now.
    pub(super) fn audit_event(
        &self,
        kind: AuditKind,
        by: &Principal,
        target: Uuid,
        detail: Option<String>,
    ) -> AuditEvent {
        self.new_event(kind, by.actor(), target, &by.client, detail)
    }

    /// An event of `kind` the service does by itself to `target`, now.
    pub(super) fn system_event(
        &self,
        kind: AuditKind,
        target: Uuid,
        detail: Option<String>,
    ) -> AuditEvent {
        self.new_event(kind, Actor::System, target, &ClientInfo::default(), detail)
    }

    /// The event of a password reset from `client`, by whoever held the token; the
    /// store names the account.
    pub(super) fn reset_event(&self, client: &ClientInfo) -> AuditEvent {
        self.new_event(
            AuditKind::PasswordReset,
            Actor::Anonymous,
            Uuid::nil(),
            client,
            None,
        )
    }

    /// The event of a refresh token's reuse from `client`; the store names the account.
    pub(super) fn reuse_event(&self, client: &ClientInfo, session: Uuid) -> AuditEvent {
        let policy = match self.config.reuse_policy {
            crate::store::ReusePolicy::RevokeUser => "user",
            crate::store::ReusePolicy::RevokeSession => "session",
        };
        let detail = format!("{session} {policy}");
        self.new_event(
            AuditKind::RefreshReused,
            Actor::Anonymous,
            Uuid::nil(),
            client,
            Some(detail),
        )
    }

    /// Records a login attempt on a known account: `right` when the password or
    /// passkey was, `let_in` when the login went through. Written alone: an attempt
    /// changes nothing else.
    pub(super) async fn record_login(
        &self,
        user_id: Uuid,
        client: &ClientInfo,
        right: bool,
        let_in: bool,
    ) -> Result<(), AuthError> {
        let kind = if right {
            AuditKind::LoginSucceeded
        } else {
            AuditKind::LoginFailed
        };
        let event = AuditEvent {
            success: let_in,
            ..self.new_event(kind, Actor::Anonymous, user_id, client, None)
        };
        Ok(self.store.record_audit(event).await?)
    }

    /// The user's login attempts, newest first: at most `limit` (1 to 100), strictly
    /// before `before` when given. The login events of the audit log.
    pub async fn login_history(
        &self,
        user_id: Uuid,
        limit: u32,
        before: Option<OffsetDateTime>,
    ) -> Result<Vec<LoginEvent>, AuthError> {
        let query = AuditQuery {
            user: Some(user_id),
            kinds: vec![AuditKind::LoginSucceeded, AuditKind::LoginFailed],
            until: before,
            limit: limit.clamp(1, 100),
            ..AuditQuery::default()
        };
        Ok(self
            .store
            .audit_events(query)
            .await?
            .iter()
            .filter_map(LoginEvent::from_audit)
            .filter(|e| e.user_id == user_id)
            .collect())
    }

    /// The audit events matching `query`, newest first; its limit is held to 1..=100.
    /// For administrators: the caller checks the role.
    pub async fn audit_events(&self, mut query: AuditQuery) -> Result<Vec<AuditEvent>, AuthError> {
        query.limit = query.limit.clamp(1, 100);
        Ok(self.store.audit_events(query).await?)
    }
}
