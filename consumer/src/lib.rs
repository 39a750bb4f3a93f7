//! An application that adopts `auth-core`, `exchange-core` and `storage-postgres` the
//! way a user would. Its code is in `tests/`: each test checks that adding the crates
//! leaves the application's own behaviour as it was.

/// The application's own migrations (its own `users` table), run beside the store's.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();
