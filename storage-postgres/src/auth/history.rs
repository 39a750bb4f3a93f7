//! [`LoginHistoryStore`] of the [`PgStore`]: login history.

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use super::*;
use crate::PgStore;
use crate::error::auth_error;

#[async_trait]
impl LoginHistoryStore for PgStore {
    async fn record_login(&self, e: LoginEvent) -> Result<()> {
        let result = sqlx::query(&self.sql(
            "INSERT INTO auth_exchange.login_events (user_id, at, ip, user_agent, success) \
             SELECT $1, $2, $3::inet, $4, $5 WHERE EXISTS (SELECT 1 FROM auth_exchange.users WHERE id = $1)",
        ))
        .bind(e.user_id)
        .bind(e.at)
        .bind(ip_text(e.ip))
        .bind(&e.user_agent)
        .bind(e.success)
        .execute(self.exec())
        .await;
        match result {
            Ok(_) => Ok(()),
            // The user was deleted between the check and the insert: nothing to record.
            Err(err) if matches!(crate::error::violated(&err), Some((_, false))) => Ok(()),
            Err(err) => Err(auth_error(err)),
        }
    }

    async fn login_history(
        &self,
        user_id: Uuid,
        limit: u32,
        before: Option<OffsetDateTime>,
    ) -> Result<Vec<LoginEvent>> {
        let rows = sqlx::query(&self.sql(
            "SELECT user_id, at, host(ip) AS ip, user_agent, success FROM auth_exchange.login_events \
             WHERE user_id = $1 AND ($3::timestamptz IS NULL OR at < $3) \
             ORDER BY at DESC, id DESC LIMIT $2",
        ))
        .bind(user_id)
        .bind(i64::from(limit))
        .bind(before)
        .fetch_all(self.exec())
        .await
        .db()?;
        let events = rows
            .iter()
            .map(|r| {
                Ok(LoginEvent {
                    user_id: r.try_get("user_id").db()?,
                    at: r.try_get("at").db()?,
                    ip: ip_from(r)?,
                    user_agent: r.try_get("user_agent").db()?,
                    success: r.try_get("success").db()?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(events)
    }
}
