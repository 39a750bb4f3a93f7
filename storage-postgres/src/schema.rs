//! Where the store's tables live. Every statement names them qualified by
//! [`DEFAULT_SCHEMA`] (`auth_exchange.sessions`), so it runs whatever the connection's
//! `search_path`: on the store's own pool and on an application's pool alike. A store
//! kept in another schema runs its statements renamed, each rendered once and kept.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, RwLock};

use crate::{DEFAULT_SCHEMA, PgStoreError};

/// The prefix the statement texts carry.
const WRITTEN: &str = "auth_exchange.";

/// Checks that `name` is a plain lowercase identifier, safe to write into statements.
pub(crate) fn checked(name: &str) -> Result<&str, PgStoreError> {
    let valid = name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(name)
    } else {
        Err(PgStoreError::Schema(name.to_owned()))
    }
}

/// The statement texts as this store runs them.
#[derive(Debug, Default)]
pub(crate) struct Statements {
    /// What replaces [`WRITTEN`]: `None` runs the texts as written.
    prefix: Option<String>,
    rendered: RwLock<HashMap<Box<str>, Arc<str>>>,
}

impl Statements {
    /// Tables in `schema`, or where the connection's `search_path` finds them (`None`).
    pub(crate) fn new(schema: Option<&str>) -> Self {
        let prefix = match schema {
            Some(DEFAULT_SCHEMA) => None,
            Some(s) => Some(format!("\"{s}\".")),
            None => Some(String::new()),
        };
        Self {
            prefix,
            rendered: RwLock::default(),
        }
    }

    /// `text` with the store's tables in its schema.
    pub(crate) fn render<'a>(&self, text: &'a str) -> Sql<'a> {
        let Some(prefix) = &self.prefix else {
            return Sql::Written(text);
        };
        let read = self.rendered.read().unwrap_or_else(|p| p.into_inner());
        if let Some(done) = read.get(text) {
            return Sql::Rendered(done.clone());
        }
        drop(read);
        let done: Arc<str> = text.replace(WRITTEN, prefix).into();
        self.rendered
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(text.into(), done.clone());
        Sql::Rendered(done)
    }
}

/// A statement text ready to run.
pub(crate) enum Sql<'a> {
    Written(&'a str),
    Rendered(Arc<str>),
}

impl Deref for Sql<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Sql::Written(t) => t,
            Sql::Rendered(t) => t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_name_the_schema_they_run_in() {
        let text = "SELECT 1 FROM auth_exchange.users u JOIN auth_exchange.sessions s ON true";
        assert_eq!(&*Statements::new(Some(DEFAULT_SCHEMA)).render(text), text);
        let shop = Statements::new(Some("shop_auth"));
        let once = shop.render(text);
        assert_eq!(
            &*once,
            "SELECT 1 FROM \"shop_auth\".users u JOIN \"shop_auth\".sessions s ON true"
        );
        assert!(
            matches!((&once, shop.render(text)), (Sql::Rendered(a), Sql::Rendered(b)) if Arc::ptr_eq(a, &b))
        );
        assert_eq!(
            &*Statements::new(None).render(text),
            "SELECT 1 FROM users u JOIN sessions s ON true"
        );
    }

    #[test]
    fn only_plain_identifiers_are_schemas() {
        assert!(checked("shop_auth2").is_ok());
        for bad in ["", "Shop", "2fa", "a\"b", "a.b", &"x".repeat(64)] {
            assert!(checked(bad).is_err(), "{bad}");
        }
    }
}
