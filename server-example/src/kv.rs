//! A per-user key-value store: the application's own resource, protected by auth-core.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::value::RawValue;

/// A stored value: JSON text, kept exactly as written (numbers keep their digits).
pub type Value = Box<RawValue>;
use uuid::Uuid;

/// Why a value cannot be stored alike by every [`KvStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    /// A string holds NUL, which no Postgres text or jsonb value can hold.
    #[error("holds a NUL character (\\u0000)")]
    Nul,
    /// A number beyond Postgres `numeric`: more than 131,072 digits before the point or
    /// 16,383 after it.
    #[error("holds a number beyond 131072 digits before the point or 16383 after it")]
    NumberOutOfRange,
}

/// Most digits of a stored number before the decimal point (Postgres `numeric`).
const MAX_INTEGER_DIGITS: i64 = 131_072;
/// Most digits of a stored number after the decimal point (Postgres `numeric`).
const MAX_FRACTION_DIGITS: i64 = 16_383;

/// A valid JSON text without its insignificant whitespace, numbers and strings kept
/// exactly as written; refused when no store could keep it.
pub fn compact(json: &str) -> Result<String, ValueProblem> {
    let mut out = String::with_capacity(json.len());
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {}
            '"' => {
                out.push(c);
                while let Some(c) = chars.next() {
                    out.push(c);
                    match c {
                        '"' => break,
                        '\\' => {
                            let escaped = chars.next().unwrap_or('\\');
                            out.push(escaped);
                            if escaped == 'u' {
                                let hex: String = chars.by_ref().take(4).collect();
                                if hex == "0000" {
                                    return Err(ValueProblem::Nul);
                                }
                                out.push_str(&hex);
                            }
                        }
                        _ => {}
                    }
                }
            }
            '-' | '0'..='9' => {
                let start = out.len();
                out.push(c);
                while let Some(&d) = chars.peek() {
                    if !matches!(d, '0'..='9' | '.' | 'e' | 'E' | '+' | '-') {
                        break;
                    }
                    out.push(d);
                    chars.next();
                }
                check_number(&out[start..])?;
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// Checks a JSON number's digits before and after the point, exponent applied.
fn check_number(number: &str) -> Result<(), ValueProblem> {
    let (mantissa, exponent) = match number.find(['e', 'E']) {
        Some(i) => (&number[..i], number[i + 1..].parse::<i64>().ok()),
        None => (number, Some(0)),
    };
    // An exponent too long for an i64 is far out of range either way.
    let exponent = exponent.ok_or(ValueProblem::NumberOutOfRange)?;
    let mantissa = mantissa.trim_start_matches('-');
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let fraction_digits = frac.len() as i64 - exponent;
    let leading = int
        .chars()
        .chain(frac.chars())
        .position(|d| d != '0')
        .map(|i| int.len() as i64 - i as i64 + exponent);
    if fraction_digits > MAX_FRACTION_DIGITS || leading.is_some_and(|n| n > MAX_INTEGER_DIGITS) {
        return Err(ValueProblem::NumberOutOfRange);
    }
    Ok(())
}

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
pub struct PgKv {
    store: storage_postgres::PgStore,
    /// The statements, naming the table with the store's schema (the pool's
    /// connections need no `search_path`, which a transaction pooler does not pass on).
    insert: String,
    select: String,
}

impl PgKv {
    /// Over the store's pool, the table in `schema` (where the store's migrations go).
    pub fn new(store: storage_postgres::PgStore, schema: &str) -> Self {
        let table = format!("\"{schema}\".kv_entries");
        Self {
            store,
            insert: format!(
                "INSERT INTO {table} (user_id, key, value) \
                 SELECT $1, k, v::jsonb FROM unnest($2::text[], $3::text[]) AS t(k, v) \
                 ON CONFLICT (user_id, key) DO NOTHING RETURNING key"
            ),
            select: format!(
                "SELECT key, value::text FROM {table} WHERE user_id = $1 AND key = ANY($2)"
            ),
        }
    }
}

#[async_trait]
impl KvStore for PgKv {
    async fn write(
        &self,
        user: Uuid,
        entries: Vec<(String, Value)>,
    ) -> Result<(Vec<String>, Vec<String>), KvError> {
        let keys: Vec<String> = entries.iter().map(|(k, _)| k.clone()).collect();
        let values: Vec<&str> = entries.iter().map(|(_, v)| v.get()).collect();
        // One statement: concurrent writers of the same key cannot both win.
        let inserted: Vec<String> = sqlx::query_scalar(&self.insert)
            .bind(user)
            .bind(&keys)
            .bind(&values)
            .fetch_all(self.store.executor())
            .await?;
        let inserted: std::collections::HashSet<String> = inserted.into_iter().collect();
        let (written, skipped) = keys.into_iter().partition(|k| inserted.contains(k));
        Ok((written, skipped))
    }

    async fn read(&self, user: Uuid, keys: &[String]) -> Result<HashMap<String, Value>, KvError> {
        let rows: Vec<(String, String)> = sqlx::query_as(&self.select)
            .bind(user)
            .bind(keys)
            .fetch_all(self.store.executor())
            .await?;
        rows.into_iter()
            .map(|(k, v)| {
                // jsonb writes a space after each `:` and `,`; answer as memory does.
                let text = compact(&v).unwrap_or(v);
                RawValue::from_string(text)
                    .map(|v| (k, v))
                    .map_err(|e| KvError::Backend(Box::new(e)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_drops_whitespace_outside_strings_and_keeps_numbers_exact() {
        assert_eq!(
            compact(
                " { \"a b\" : [ 1.50 , -2e3 ,\n\t123456789012345678901234567890.123456789 ] } "
            )
            .unwrap(),
            r#"{"a b":[1.50,-2e3,123456789012345678901234567890.123456789]}"#
        );
        assert_eq!(
            compact(r#"{"q":"say \"hi\" \\ ok"}"#).unwrap(),
            r#"{"q":"say \"hi\" \\ ok"}"#
        );
    }

    #[test]
    fn compact_refuses_nul_but_not_an_escaped_backslash_before_u0000() {
        assert_eq!(compact(r#""a\u0000""#), Err(ValueProblem::Nul));
        assert_eq!(compact(r#"{"k\u0000":1}"#), Err(ValueProblem::Nul));
        assert_eq!(compact(r#""\\u0000""#).unwrap(), r#""\\u0000""#);
        assert_eq!(compact(r#""\u0001""#).unwrap(), r#""\u0001""#);
    }

    #[test]
    fn compact_refuses_numbers_postgres_numeric_cannot_hold() {
        for ok in [
            "1e131071",
            "9.9e131071",
            "1e-16383",
            "0.0001e131075",
            "0",
            "-0.0",
        ] {
            assert!(compact(ok).is_ok(), "{ok}");
        }
        for out in [
            "1e131072",
            "1e-16384",
            "1.0e-16383",
            "1e99999999999999999999",
        ] {
            assert_eq!(compact(out), Err(ValueProblem::NumberOutOfRange), "{out}");
        }
    }
}
