//! [`AuditStore`] of the [`PgStore`]: the audit log, and the write that puts an event
//! in the transaction of the change it records.

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::*;
use crate::PgStore;
use crate::pooler::Db as Exec;

fn event_from(row: &PgRow) -> Result<AuditEvent> {
    let kind: String = row.try_get("kind").db()?;
    Ok(AuditEvent {
        id: row.try_get("id").db()?,
        at: row.try_get("at").db()?,
        kind: AuditKind::parse(&kind)
            .ok_or_else(|| StoreError::Backend(format!("unknown audit kind {kind}").into()))?,
        actor: Actor::stored(
            row.try_get("actor_user").db()?,
            row.try_get("actor_key").db()?,
            row.try_get("actor_system").db()?,
        ),
        target: row.try_get("target").db()?,
        ip: ip_from(row)?,
        user_agent: row.try_get("user_agent").db()?,
        success: row.try_get("success").db()?,
        detail: row.try_get("detail").db()?,
    })
}

impl PgStore {
    /// Writes `event` on `db`: the pool for an event of its own, or the transaction of
    /// the change it records.
    pub(super) async fn write_audit(&self, db: Exec<'_>, e: &AuditEvent) -> Result<()> {
        let (user, key, system) = e.actor.parts();
        sqlx::query(&self.sql(
            "INSERT INTO auth_exchange.audit_events \
             (id, at, kind, actor_user, actor_key, actor_system, target, ip, user_agent, success, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::inet, $9, $10, $11)",
        ))
        .bind(e.id)
        .bind(e.at)
        .bind(e.kind.as_str())
        .bind(user)
        .bind(key)
        .bind(system)
        .bind(e.target)
        .bind(ip_text(e.ip))
        .bind(&e.user_agent)
        .bind(e.success)
        .bind(&e.detail)
        .execute(db)
        .await
        .db()?;
        Ok(())
    }

    /// Writes `audit`, when given, in `tx`: the transaction of the change it records.
    pub(super) async fn audit_in(
        &self,
        tx: &mut crate::pooler::Tx,
        audit: Option<&AuditEvent>,
    ) -> Result<()> {
        match audit {
            Some(e) => self.write_audit(tx.exec(), e).await,
            None => Ok(()),
        }
    }
}

/// The columns of an event, and the filters every audit query shares (`$2` kinds,
/// `$3` from, `$4` until, `$5` the cursor, `$6` the limit).
const AUDIT_COLUMNS: &str = "id, at, kind, actor_user, actor_key, actor_system, target, \
    host(ip) AS ip, user_agent, success, detail";
const AUDIT_FILTERS: &str = "(cardinality($2::text[]) = 0 OR kind = ANY ($2)) \
    AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4) \
    AND ($5::uuid IS NULL OR (at, id) < \
         (SELECT at, id FROM auth_exchange.audit_events WHERE id = $5))";

static AUDIT_ALL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {AUDIT_COLUMNS} FROM auth_exchange.audit_events \
         WHERE $1::uuid IS NULL AND {AUDIT_FILTERS} ORDER BY at DESC, id DESC LIMIT $6"
    )
});

static AUDIT_BY_USER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let side = |column: &str| {
        format!(
            "(SELECT id FROM auth_exchange.audit_events WHERE {column} = $1::uuid \
             AND {AUDIT_FILTERS} ORDER BY at DESC, id DESC LIMIT $6)"
        )
    };
    format!(
        "SELECT {AUDIT_COLUMNS} FROM auth_exchange.audit_events \
         WHERE id IN ({} UNION ALL {}) ORDER BY at DESC, id DESC LIMIT $6",
        side("target"),
        side("actor_user"),
    )
});

#[async_trait]
impl AuditStore for PgStore {
    async fn record_audit(&self, event: AuditEvent) -> Result<()> {
        self.write_audit(self.exec(), &event).await
    }

    async fn audit_events(&self, q: AuditQuery) -> Result<Vec<AuditEvent>> {
        let kinds: Vec<&str> = q.kinds.iter().map(|k| k.as_str()).collect();
        // Two statements, so each reads its index: with a user, the newest events as
        // target and as actor (each a backward walk of its index), merged; without,
        // the newest of all.
        let statement = match q.user {
            Some(_) => &*AUDIT_BY_USER,
            None => &*AUDIT_ALL,
        };
        let rows = sqlx::query(&self.sql(statement))
            .bind(q.user)
            .bind(&kinds)
            .bind(q.from)
            .bind(q.until)
            .bind(q.before)
            .bind(i64::from(q.limit))
            .fetch_all(self.exec())
            .await
            .db()?;
        rows.iter().map(event_from).collect()
    }

    async fn purge_audit(&self, before: OffsetDateTime) -> Result<u64> {
        let n = sqlx::query(&self.sql("DELETE FROM auth_exchange.audit_events WHERE at < $1"))
            .bind(before)
            .execute(self.exec())
            .await
            .db()?
            .rows_affected();
        Ok(n)
    }
}
