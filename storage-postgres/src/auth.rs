//! `AuthStore` for `PgStore`.

use std::net::IpAddr;

use async_trait::async_trait;
use auth_core::StoreError;
use auth_core::store::*;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::PgStore;
use crate::error::auth_error;

type Result<T> = std::result::Result<T, StoreError>;

trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(auth_error)
    }
}

const USER_COLUMNS: &str = "u.id, u.login, u.email, u.first_name, u.last_name, u.status, \
     u.email_verified, u.created_at, \
     ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = u.id ORDER BY r.role) AS roles";

const SESSION_COLUMNS: &str = "s.id, s.user_id, s.counter, s.created_at, s.last_refreshed_at, \
     s.expires_at, s.revoked, host(s.ip) AS ip, s.user_agent";

fn status(s: &str) -> UserStatus {
    if s == "blocked" {
        UserStatus::Blocked
    } else {
        UserStatus::Active
    }
}

fn user_from(row: &PgRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id").db()?,
        login: row.try_get("login").db()?,
        email: row.try_get("email").db()?,
        first_name: row.try_get("first_name").db()?,
        last_name: row.try_get("last_name").db()?,
        roles: row.try_get("roles").db()?,
        status: status(row.try_get("status").db()?),
        email_verified: row.try_get("email_verified").db()?,
        created_at: row.try_get("created_at").db()?,
    })
}

fn ip_from(row: &PgRow) -> Result<Option<IpAddr>> {
    Ok(row
        .try_get::<Option<String>, _>("ip")
        .db()?
        .and_then(|s| s.parse().ok()))
}

fn counter_from(row: &PgRow) -> Result<u64> {
    let c: i64 = row.try_get("counter").db()?;
    u64::try_from(c).map_err(|e| StoreError::Backend(Box::new(e)))
}

fn session_from(row: &PgRow) -> Result<Session> {
    Ok(Session {
        id: row.try_get("id").db()?,
        user_id: row.try_get("user_id").db()?,
        counter: counter_from(row)?,
        created_at: row.try_get("created_at").db()?,
        last_refreshed_at: row.try_get("last_refreshed_at").db()?,
        expires_at: row.try_get("expires_at").db()?,
        revoked: row.try_get("revoked").db()?,
        ip: ip_from(row)?,
        user_agent: row.try_get("user_agent").db()?,
    })
}

/// `NotFound` when a statement that names one row affected none.
fn found(rows_affected: u64) -> Result<()> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn ip_text(ip: Option<IpAddr>) -> Option<String> {
    ip.map(|i| i.to_string())
}

async fn revoke_all(
    tx: &mut Transaction<'_, Postgres>,
    user_id: Uuid,
    except: Option<Uuid>,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE sessions SET revoked = true \
         WHERE user_id = $1 AND NOT revoked AND ($2::uuid IS NULL OR id <> $2)",
    )
    .bind(user_id)
    .bind(except)
    .execute(&mut **tx)
    .await
    .db()?
    .rows_affected())
}

#[async_trait]
impl AuthStore for PgStore {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        let mut tx = self.pool().begin().await.db()?;
        sqlx::query(
            "INSERT INTO users (id, login, email, first_name, last_name, password_hash, \
             email_verified, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user.id)
        .bind(user.login.as_str())
        .bind(user.email.as_ref().map(|e| e.as_str()))
        .bind(user.first_name.as_ref().map(|n| n.as_str()))
        .bind(user.last_name.as_ref().map(|n| n.as_str()))
        .bind(&user.password_hash)
        .bind(user.email_verified)
        .bind(user.created_at)
        .execute(&mut *tx)
        .await
        .db()?;
        if !user.roles.is_empty() {
            sqlx::query("INSERT INTO user_roles (user_id, role) SELECT $1, unnest($2::text[])")
                .bind(user.id)
                .bind(&user.roles)
                .execute(&mut *tx)
                .await
                .db()?;
        }
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
        ))
        .bind(user.id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(user_from(&row)?)
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .db()?;
        Ok(row.as_ref().map(user_from).transpose()?)
    }

    async fn credentials_by_login(&self, login: &str) -> Result<Option<Credentials>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE lower(u.login) = lower($1)"
        ))
        .bind(login)
        .fetch_optional(self.pool())
        .await
        .db()?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(Credentials {
            user: user_from(&row)?,
            password_hash: row.try_get("password_hash").db()?,
        }))
    }

    async fn password_hash(&self, user_id: Uuid) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(self.pool())
                .await
                .db()?,
        )
    }

    async fn update_user(&self, id: Uuid, update: UserUpdate) -> Result<User> {
        let row = sqlx::query(&format!(
            "UPDATE users u SET email = COALESCE($2, u.email), \
             first_name = COALESCE($3, u.first_name), last_name = COALESCE($4, u.last_name), \
             email_verified = COALESCE($5, u.email_verified) \
             WHERE u.id = $1 RETURNING {USER_COLUMNS}"
        ))
        .bind(id)
        .bind(update.email.as_ref().map(|e| e.as_str()))
        .bind(update.first_name.as_ref().map(|n| n.as_str()))
        .bind(update.last_name.as_ref().map(|n| n.as_str()))
        .bind(update.email_verified)
        .fetch_optional(self.pool())
        .await
        .db()?
        .ok_or(StoreError::NotFound)?;
        Ok(user_from(&row)?)
    }

    async fn set_password_hash(
        &self,
        user_id: Uuid,
        password_hash: &str,
        revoke_except: Option<Uuid>,
    ) -> Result<u64> {
        let mut tx = self.pool().begin().await.db()?;
        let updated = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user_id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        found(updated)?;
        let revoked = match revoke_except {
            Some(keep) => revoke_all(&mut tx, user_id, Some(keep)).await?,
            None => 0,
        };
        tx.commit().await.db()?;
        Ok(revoked)
    }

    async fn delete_user(&self, id: Uuid) -> Result<()> {
        let n = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await
            .db()?
            .rows_affected();
        found(n)?;
        Ok(())
    }

    async fn list_users(
        &self,
        query: Option<String>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE $1::text IS NULL \
             OR strpos(lower(u.login), lower($1)) > 0 \
             OR strpos(lower(coalesce(u.email, '')), lower($1)) > 0 \
             OR strpos(lower(coalesce(u.first_name, '')), lower($1)) > 0 \
             OR strpos(lower(coalesce(u.last_name, '')), lower($1)) > 0 \
             ORDER BY u.created_at, u.id LIMIT $2 OFFSET $3"
        ))
        .bind(query)
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .db()?;
        Ok(rows.iter().map(user_from).collect::<Result<_>>()?)
    }

    async fn set_user_status(&self, id: Uuid, status: UserStatus) -> Result<u64> {
        let mut tx = self.pool().begin().await.db()?;
        let n = sqlx::query("UPDATE users SET status = $2 WHERE id = $1")
            .bind(id)
            .bind(status.as_str())
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        found(n)?;
        let revoked = match status {
            UserStatus::Blocked => revoke_all(&mut tx, id, None).await?,
            UserStatus::Active => 0,
        };
        tx.commit().await.db()?;
        Ok(revoked)
    }

    async fn list_roles(&self) -> Result<Vec<Role>> {
        let rows = sqlx::query("SELECT name, description FROM roles ORDER BY name")
            .fetch_all(self.pool())
            .await
            .db()?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(Role {
                    name: r.try_get("name").db()?,
                    description: r.try_get("description").db()?,
                })
            })
            .collect::<Result<_>>()?)
    }

    async fn create_role(&self, role: Role) -> Result<Role> {
        sqlx::query("INSERT INTO roles (name, description) VALUES ($1, $2)")
            .bind(&role.name)
            .bind(&role.description)
            .execute(self.pool())
            .await
            .db()?;
        Ok(role)
    }

    async fn delete_role(&self, name: &str) -> Result<()> {
        let n = sqlx::query("DELETE FROM roles WHERE name = $1")
            .bind(name)
            .execute(self.pool())
            .await
            .db()?
            .rows_affected();
        found(n)?;
        Ok(())
    }

    async fn grant_role(&self, user_id: Uuid, role: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(role)
        .execute(self.pool())
        .await
        .db()?;
        Ok(())
    }

    async fn revoke_role(&self, user_id: Uuid, role: &str) -> Result<()> {
        let both_exist: bool = sqlx::query_scalar(
            "WITH gone AS (DELETE FROM user_roles WHERE user_id = $1 AND role = $2) \
             SELECT EXISTS (SELECT 1 FROM users WHERE id = $1) \
                AND EXISTS (SELECT 1 FROM roles WHERE name = $2)",
        )
        .bind(user_id)
        .bind(role)
        .fetch_one(self.pool())
        .await
        .db()?;
        if both_exist {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn create_session(&self, s: Session, max_live: u32) -> Result<u64> {
        let mut tx = self.pool().begin().await.db()?;
        // The user's row lock serialises the session inserts of one user, so the cap
        // below counts every session committed before this one.
        let inserted = sqlx::query(
            "WITH u AS (SELECT id FROM users WHERE id = $2 FOR NO KEY UPDATE) \
             INSERT INTO sessions (id, user_id, counter, created_at, last_refreshed_at, \
             expires_at, revoked, ip, user_agent) \
             SELECT $1, u.id, $3, $4, $5, $6, $7, $8::inet, $9 FROM u",
        )
        .bind(s.id)
        .bind(s.user_id)
        .bind(i64::try_from(s.counter).map_err(|e| StoreError::Backend(Box::new(e)))?)
        .bind(s.created_at)
        .bind(s.last_refreshed_at)
        .bind(s.expires_at)
        .bind(s.revoked)
        .bind(ip_text(s.ip))
        .bind(&s.user_agent)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        found(inserted)?;
        let revoked = if max_live == 0 {
            0
        } else {
            sqlx::query(
                "UPDATE sessions SET revoked = true WHERE id IN ( \
                   SELECT id FROM sessions \
                   WHERE user_id = $1 AND NOT revoked AND expires_at > $2 \
                   ORDER BY created_at DESC, id DESC OFFSET $3)",
            )
            .bind(s.user_id)
            .bind(s.created_at)
            .bind(i64::from(max_live))
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected()
        };
        tx.commit().await.db()?;
        Ok(revoked)
    }

    async fn session(&self, id: Uuid) -> Result<Option<Session>> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .db()?;
        Ok(row.as_ref().map(session_from).transpose()?)
    }

    async fn session_status(&self, id: Uuid) -> Result<Option<SessionStatus>> {
        // One primary-key lookup joined to its user: the hot path of every request.
        let row = sqlx::query(
            "SELECT s.user_id, s.revoked, s.expires_at, s.last_refreshed_at, u.status, \
             ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = u.id ORDER BY r.role) AS roles \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await.db()?;
        let Some(row) = row else {
            return Ok(None);
        };
        let get = || -> Result<SessionStatus> {
            Ok(SessionStatus {
                user_id: row.try_get("user_id").db()?,
                revoked: row.try_get("revoked").db()?,
                expires_at: row.try_get("expires_at").db()?,
                last_refreshed_at: row.try_get("last_refreshed_at").db()?,
                user_status: status(row.try_get("status").db()?),
                roles: row.try_get("roles").db()?,
            })
        };
        Ok(Some(get()?))
    }

    async fn refresh_session(&self, req: RefreshRequest) -> Result<RefreshOutcome> {
        let Ok(counter) = i64::try_from(req.counter) else {
            return Ok(RefreshOutcome::Rejected);
        };
        let idle_cutoff = req.now - req.idle_timeout;
        // The compare-and-swap: one conditional UPDATE. Concurrent callers queue on the
        // row lock and re-check `counter = $2` against the committed row, so exactly one
        // of them rotates.
        let rotated = sqlx::query(&format!(
            "UPDATE sessions s SET counter = s.counter + 1, last_refreshed_at = $3 \
             FROM users u \
             WHERE s.id = $1 AND s.counter = $2 AND NOT s.revoked AND s.expires_at > $3 \
               AND s.last_refreshed_at > $4 AND u.id = s.user_id AND u.status = 'active' \
             RETURNING {SESSION_COLUMNS}, \
               ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = s.user_id ORDER BY r.role) AS roles"
        ))
        .bind(req.session_id)
        .bind(counter)
        .bind(req.now)
        .bind(idle_cutoff)
        .fetch_optional(self.pool())
        .await.db()?;
        if let Some(row) = rotated {
            return Ok(RefreshOutcome::Rotated {
                session: session_from(&row)?,
                roles: row.try_get("roles").db()?,
            });
        }

        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS}, u.status, \
               ARRAY(SELECT r.role FROM user_roles r WHERE r.user_id = s.user_id ORDER BY r.role) AS roles \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1"
        ))
        .bind(req.session_id)
        .fetch_optional(self.pool())
        .await.db()?;
        let Some(row) = row else {
            return Ok(RefreshOutcome::Rejected);
        };
        let session = session_from(&row)?;
        let active = status(row.try_get("status").db()?) == UserStatus::Active;
        let alive = !session.revoked
            && session.expires_at > req.now
            && session.last_refreshed_at > idle_cutoff
            && active;
        // `counter == current` here means the UPDATE lost to a concurrent change that
        // killed the session; either way it is not ours to rotate.
        if !alive || req.counter >= session.counter {
            return Ok(RefreshOutcome::Rejected);
        }
        if req.counter + 1 == session.counter
            && req.now - session.last_refreshed_at <= req.reuse_grace
        {
            return Ok(RefreshOutcome::Retried {
                session,
                roles: row.try_get("roles").db()?,
            });
        }
        // Reuse: the revocation is its own committed statement, whatever the caller
        // does with the error it gets.
        let revoked = match req.reuse_policy {
            ReusePolicy::RevokeUser => {
                sqlx::query("UPDATE sessions SET revoked = true WHERE user_id = $1 AND NOT revoked")
                    .bind(session.user_id)
                    .execute(self.pool())
                    .await
                    .db()?
                    .rows_affected()
            }
            ReusePolicy::RevokeSession => {
                sqlx::query("UPDATE sessions SET revoked = true WHERE id = $1 AND NOT revoked")
                    .bind(session.id)
                    .execute(self.pool())
                    .await
                    .db()?
                    .rows_affected()
            }
        };
        Ok(RefreshOutcome::Reused {
            user_id: session.user_id,
            revoked,
        })
    }

    async fn revoke_session(&self, id: Uuid, user_id: Option<Uuid>) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE sessions SET revoked = true \
             WHERE id = $1 AND NOT revoked AND ($2::uuid IS NULL OR user_id = $2)",
        )
        .bind(id)
        .bind(user_id)
        .execute(self.pool())
        .await
        .db()?
        .rows_affected();
        Ok(n == 1)
    }

    async fn revoke_user_sessions(&self, user_id: Uuid, except: Option<Uuid>) -> Result<u64> {
        let mut tx = self.pool().begin().await.db()?;
        let n = revoke_all(&mut tx, user_id, except).await?;
        tx.commit().await.db()?;
        Ok(n)
    }

    async fn list_sessions(
        &self,
        user_id: Uuid,
        now: OffsetDateTime,
        idle_timeout: Duration,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Session>> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s \
             WHERE s.user_id = $1 AND NOT s.revoked AND s.expires_at > $2 \
               AND s.last_refreshed_at > $3 \
             ORDER BY s.created_at DESC, s.id DESC LIMIT $4 OFFSET $5"
        ))
        .bind(user_id)
        .bind(now)
        .bind(now - idle_timeout)
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .db()?;
        Ok(rows.iter().map(session_from).collect::<Result<_>>()?)
    }

    async fn purge_expired(&self, now: OffsetDateTime, idle_timeout: Duration) -> Result<u64> {
        let mut tx = self.pool().begin().await.db()?;
        let sessions = sqlx::query(
            "DELETE FROM sessions WHERE revoked OR expires_at <= $1 OR last_refreshed_at <= $2",
        )
        .bind(now)
        .bind(now - idle_timeout)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        let codes = sqlx::query("DELETE FROM verification_codes WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        tx.commit().await.db()?;
        Ok(sessions + codes)
    }

    async fn record_login(&self, e: LoginEvent) -> Result<()> {
        let result = sqlx::query(
            "INSERT INTO login_events (user_id, at, ip, user_agent, success) \
             SELECT $1, $2, $3::inet, $4, $5 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)",
        )
        .bind(e.user_id)
        .bind(e.at)
        .bind(ip_text(e.ip))
        .bind(&e.user_agent)
        .bind(e.success)
        .execute(self.pool())
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
        let rows = sqlx::query(
            "SELECT user_id, at, host(ip) AS ip, user_agent, success FROM login_events \
             WHERE user_id = $1 AND ($3::timestamptz IS NULL OR at < $3) \
             ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(i64::from(limit))
        .bind(before)
        .fetch_all(self.pool())
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

    async fn put_verification_code(&self, code: VerificationCode) -> Result<()> {
        sqlx::query(
            "INSERT INTO verification_codes (user_id, code_hash, expires_at) \
             VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE \
             SET code_hash = EXCLUDED.code_hash, expires_at = EXCLUDED.expires_at",
        )
        .bind(code.user_id)
        .bind(&code.code_hash)
        .bind(code.expires_at)
        .execute(self.pool())
        .await
        .db()?;
        Ok(())
    }

    async fn verification_code(&self, user_id: Uuid) -> Result<Option<VerificationCode>> {
        let row = sqlx::query(
            "SELECT user_id, code_hash, expires_at FROM verification_codes WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(self.pool())
        .await
        .db()?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(VerificationCode {
            user_id: row.try_get("user_id").db()?,
            code_hash: row.try_get("code_hash").db()?,
            expires_at: row.try_get("expires_at").db()?,
        }))
    }

    async fn reserve_attempt(
        &self,
        key: &str,
        limit: AttemptLimit,
        now: OffsetDateTime,
    ) -> Result<Reservation> {
        // Decide and count in one statement: the row lock of the upsert serialises
        // concurrent attempts, and the WHERE sees the count each one left. The lock
        // expression is `AttemptLimit::lock_for` of the stored count.
        let granted: Option<i32> = sqlx::query_scalar(
            "INSERT INTO auth_attempts AS a (key, attempts, window_start, last_attempt) \
             VALUES ($1, 1, $2, $2) ON CONFLICT (key) DO UPDATE SET \
               attempts = CASE WHEN a.window_start <= $3 THEN 1 \
                               ELSE LEAST(a.attempts, 2147483646) + 1 END, \
               window_start = CASE WHEN a.window_start <= $3 THEN $2 ELSE a.window_start END, \
               last_attempt = $2 \
             WHERE a.window_start <= $3 OR a.attempts < $4 \
                OR a.last_attempt + make_interval(secs => \
                     LEAST($5 * power(2, LEAST(a.attempts - $4, 30)), $6)) <= $2 \
             RETURNING attempts",
        )
        .bind(key)
        .bind(now)
        .bind(now - limit.window)
        .bind(i32::try_from(limit.max).unwrap_or(i32::MAX))
        .bind(limit.base_delay.as_seconds_f64())
        .bind(limit.window.as_seconds_f64())
        .fetch_optional(self.pool())
        .await
        .db()?;
        if let Some(count) = granted {
            return Ok(Reservation::Granted {
                count: u32::try_from(count).unwrap_or(0),
            });
        }
        let row = sqlx::query(
            "SELECT attempts, window_start, last_attempt FROM auth_attempts WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(self.pool())
        .await
        .db()?;
        // Cleared between the two statements: the next attempt starts afresh.
        let Some(row) = row else {
            return Ok(Reservation::Refused { until: now });
        };
        let count: i32 = row.try_get("attempts").db()?;
        let window_start: OffsetDateTime = row.try_get("window_start").db()?;
        let last_attempt: OffsetDateTime = row.try_get("last_attempt").db()?;
        let unlocked = last_attempt + limit.lock_for(u32::try_from(count).unwrap_or(0));
        Ok(Reservation::Refused {
            until: unlocked.min(window_start + limit.window),
        })
    }

    async fn release_attempt(&self, key: &str) -> Result<()> {
        sqlx::query("UPDATE auth_attempts SET attempts = GREATEST(attempts - 1, 0) WHERE key = $1")
            .bind(key)
            .execute(self.pool())
            .await
            .db()?;
        Ok(())
    }

    async fn clear_attempts(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM auth_attempts WHERE key = $1")
            .bind(key)
            .execute(self.pool())
            .await
            .db()?;
        Ok(())
    }

    async fn purge_attempts(&self, before: OffsetDateTime) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM auth_attempts WHERE last_attempt <= $1")
                .bind(before)
                .execute(self.pool())
                .await
                .db()?
                .rows_affected(),
        )
    }

    async fn complete_verification(&self, user_id: Uuid) -> Result<()> {
        let mut tx = self.pool().begin().await.db()?;
        let n = sqlx::query("UPDATE users SET email_verified = true WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        found(n)?;
        sqlx::query("DELETE FROM verification_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        Ok(())
    }
}
