//! A per-user key-value store: the application's own resource, protected by auth-core.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

/// Errors of a [`KvStore`].
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// The backend cannot be reached.
    #[error("store unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Any other failure.
    #[error("store failure")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<sqlx::Error> for KvError {
    fn from(e: sqlx::Error) -> Self {
        if storage_postgres::is_unavailable(&e) {
            KvError::Unavailable(e)
        } else {
            KvError::Backend(Box::new(e))
        }
    }
}

/// Storage of JSON values under (user, key).
#[async_trait]
pub trait KvStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores each entry whose key is absent, atomically; returns the keys written and
    /// the keys skipped because they existed, both in input order.
    async fn write(
        &self,
        user: Uuid,
        entries: Vec<(String, Value)>,
    ) -> Result<(Vec<String>, Vec<String>), KvError>;

    /// The values of the keys that exist.
    async fn read(&self, user: Uuid, keys: &[String]) -> Result<HashMap<String, Value>, KvError>;
}

/// In-memory [`KvStore`].
#[derive(Debug, Default)]
pub struct MemoryKv(Mutex<HashMap<(Uuid, String), Value>>);

#[async_trait]
impl KvStore for MemoryKv {
    async fn write(
        &self,
        user: Uuid,
        entries: Vec<(String, Value)>,
    ) -> Result<(Vec<String>, Vec<String>), KvError> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (mut written, mut skipped) = (Vec::new(), Vec::new());
        for (k, v) in entries {
            match map.entry((user, k.clone())) {
                std::collections::hash_map::Entry::Occupied(_) => skipped.push(k),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(v);
                    written.push(k);
                }
            }
        }
        Ok((written, skipped))
    }

    async fn read(&self, user: Uuid, keys: &[String]) -> Result<HashMap<String, Value>, KvError> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        Ok(keys
            .iter()
            .filter_map(|k| map.get(&(user, k.clone())).map(|v| (k.clone(), v.clone())))
            .collect())
    }
}

/// Postgres [`KvStore`]; its table is created by this crate's migrations.
#[derive(Debug, Clone)]
pub struct PgKv(pub sqlx::PgPool);

#[async_trait]
impl KvStore for PgKv {
    async fn write(
        &self,
        user: Uuid,
        entries: Vec<(String, Value)>,
    ) -> Result<(Vec<String>, Vec<String>), KvError> {
        let keys: Vec<String> = entries.iter().map(|(k, _)| k.clone()).collect();
        let values: Vec<String> = entries.iter().map(|(_, v)| v.to_string()).collect();
        // One statement: concurrent writers of the same key cannot both win.
        let inserted: Vec<String> = sqlx::query_scalar(
            "INSERT INTO kv_entries (user_id, key, value) \
             SELECT $1, k, v::jsonb FROM unnest($2::text[], $3::text[]) AS t(k, v) \
             ON CONFLICT (user_id, key) DO NOTHING RETURNING key",
        )
        .bind(user)
        .bind(&keys)
        .bind(&values)
        .fetch_all(&self.0)
        .await?;
        let inserted: std::collections::HashSet<String> = inserted.into_iter().collect();
        let (written, skipped) = keys.into_iter().partition(|k| inserted.contains(k));
        Ok((written, skipped))
    }

    async fn read(&self, user: Uuid, keys: &[String]) -> Result<HashMap<String, Value>, KvError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT key, value::text FROM kv_entries WHERE user_id = $1 AND key = ANY($2)",
        )
        .bind(user)
        .bind(keys)
        .fetch_all(&self.0)
        .await?;
        rows.into_iter()
            .map(|(k, v)| {
                serde_json::from_str(&v)
                    .map(|v| (k, v))
                    .map_err(|e| KvError::Backend(Box::new(e)))
            })
            .collect()
    }
}
