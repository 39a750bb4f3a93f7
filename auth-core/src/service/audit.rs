//! The audit log: who did what to whom, from where, and how it ended. Login history is
//! a view of it.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{AuthService, ClientInfo, Principal};
use crate::error::AuthError;
use crate::store::{Actor, AuditEvent, AuditKind, AuditQuery, LoginEvent};

/// Where [`event_id`]'s counter starts: random per process, so two processes' ids of
/// one millisecond differ.
static EVENT_COUNTER: std::sync::LazyLock<std::sync::atomic::AtomicU64> =
    std::sync::LazyLock::new(|| {
        let mut seed = [0u8; 8];
        aws_lc_rs::rand::fill(&mut seed).expect("the system random source works");
        std::sync::atomic::AtomicU64::new(u64::from_be_bytes(seed) >> 16)
    });

/// A version 7 id for an event at `at`: the millisecond, then a per-process counter
/// (so the ids of one process are in the order it made them, as the audit log's
/// cursor needs) and random bits from aws-lc's generator. Unlike `Uuid::now_v7`, no
/// system call per id: one is made for every refresh (its reuse event).
fn event_id(at: OffsetDateTime) -> Uuid {
    let count = EVENT_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut bytes = [0u8; 10];
    bytes[..6].copy_from_slice(&count.to_be_bytes()[2..]);
    aws_lc_rs::rand::fill(&mut bytes[6..]).expect("the system random source works");
    let millis = u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}

impl AuthService {
    /// An event of `kind` by `actor`, coming from `client`, to `target`, now; it went
    /// through.
    fn new_event(
        &self,
        kind: AuditKind,
        actor: Actor,
        target: Option<Uuid>,
        client: &ClientInfo,
        detail: Option<String>,
    ) -> AuditEvent {
        let at = self.clock.now();
        AuditEvent {
            id: event_id(at),
            at,
            kind,
            actor,
            target,
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
        self.new_event(kind, by.actor(), Some(target), &by.client, detail)
    }

    /// An event of `kind` about no account (a role, a signing key: `detail` names
    /// it), done by `by`, or by the service itself when `None`; now.
    pub(super) fn untargeted_event(
        &self,
        kind: AuditKind,
        by: Option<&Principal>,
        detail: String,
    ) -> AuditEvent {
        match by {
            Some(by) => self.new_event(kind, by.actor(), None, &by.client, Some(detail)),
            None => self.new_event(
                kind,
                Actor::System,
                None,
                &ClientInfo::default(),
                Some(detail),
            ),
        }
    }

    /// An event of `kind` the service does by itself to `target`, now.
    pub(super) fn system_event(
        &self,
        kind: AuditKind,
        target: Uuid,
        detail: Option<String>,
    ) -> AuditEvent {
        self.new_event(
            kind,
            Actor::System,
            Some(target),
            &ClientInfo::default(),
            detail,
        )
    }

    /// The event of a password reset from `client`, by whoever held the token; the
    /// store names the account.
    pub(super) fn reset_event(&self, client: &ClientInfo) -> AuditEvent {
        self.new_event(
            AuditKind::PasswordReset,
            Actor::Anonymous,
            None,
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
            None,
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
            ..self.new_event(kind, Actor::Anonymous, Some(user_id), client, None)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_version_7_of_their_millisecond_and_in_the_order_made() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_764_806_400_123_456_789).unwrap();
        let ids: Vec<Uuid> = (0..1000).map(|_| event_id(at)).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "made in one millisecond, ordered"
        );
        let (secs, nanos) = ids[0].get_timestamp().unwrap().to_unix();
        assert_eq!((secs, nanos / 1_000_000), (1_764_806_400, 123));
        assert_eq!(ids[0].get_version_num(), 7);
        let later = event_id(at + time::Duration::milliseconds(1));
        assert!(later > ids[999]);
    }
}
