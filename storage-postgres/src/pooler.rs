//! Running statements through a pooler in transaction mode (PgBouncer
//! `pool_mode = transaction`), where consecutive transactions of one client connection
//! may run on different server connections.
//!
//! sqlx prepares every statement under a name (`sqlx_s_1`, ...) and keeps it on the
//! connection: behind such a pooler the name is missing on the next server connection,
//! or already taken by another client. In [`Pooler::Transaction`] mode the store runs
//! every statement unnamed (Parse and Bind of the unnamed statement), and each inside a
//! transaction, since the two round trips of an unnamed statement must reach the same
//! server connection: a statement outside a store transaction gets one of its own.
//! The default mode runs statements as sqlx does, prepared once per connection.

use std::fmt;

use futures_util::future::BoxFuture;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use sqlx::error::BoxDynError;
use sqlx::postgres::{
    PgArguments, PgConnectOptions, PgConnection, PgQueryResult, PgRow, PgStatement, PgTypeInfo,
};
use sqlx::{Describe, Either, Execute, Executor, PgPool, Postgres, Transaction};

/// How the store's pool reaches Postgres.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Pooler {
    /// Straight to Postgres, or through a pooler in session mode: statements are
    /// prepared once per connection and kept.
    #[default]
    None,
    /// Through a pooler in transaction mode (PgBouncer `pool_mode = transaction`,
    /// 1.18 or newer): statements run unnamed, each inside a transaction, no startup
    /// parameter a pooler refuses is sent (`extra_float_digits`, or `options`, where
    /// sqlx puts `search_path`: the store's statements name their schema). What needs
    /// a session of its own goes to `direct_url`, Postgres itself or a session-mode
    /// pool of the same database: [`PgStore::migrate`](crate::PgStore::migrate) (the
    /// migrator holds a session-level advisory lock),
    /// [`PgStore::session_connection`](crate::PgStore::session_connection), and the
    /// session cache's `LISTEN` unless
    /// [`SessionCacheSettings::listen_url`](crate::SessionCacheSettings::listen_url)
    /// names another.
    Transaction {
        /// A URL to the same database that keeps a session (it may hold a password:
        /// `Debug` does not show it).
        direct_url: String,
    },
}

impl fmt::Debug for Pooler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pooler::None => f.write_str("None"),
            Pooler::Transaction { .. } => f
                .debug_struct("Transaction")
                .field("direct_url", &"<set>")
                .finish(),
        }
    }
}

/// The connect options of the direct connection behind a transaction pooler; `Debug`
/// leaves them out (sqlx's own `Debug` shows the password).
#[derive(Clone)]
pub(crate) struct Direct(pub(crate) PgConnectOptions);

impl fmt::Debug for Direct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Direct(<set>)")
    }
}

/// A statement that runs unnamed: prepared, bound and executed without a name that
/// would stay on the server connection.
struct Unnamed<E>(E);

impl<'q, E: Execute<'q, Postgres>> Execute<'q, Postgres> for Unnamed<E> {
    fn sql(&self) -> &'q str {
        self.0.sql()
    }

    fn statement(&self) -> Option<&PgStatement<'q>> {
        self.0.statement()
    }

    fn take_arguments(&mut self) -> Result<Option<PgArguments>, BoxDynError> {
        self.0.take_arguments()
    }

    fn persistent(&self) -> bool {
        false
    }
}

/// Where a store statement runs, in the store's mode: the pool, or a transaction's
/// connection ([`Tx::exec`]).
#[derive(Debug)]
pub(crate) enum Db<'c> {
    /// The pool, statements prepared and kept.
    Pool(&'c PgPool),
    /// The pool behind a transaction pooler: each statement unnamed, in a transaction
    /// of its own.
    Pooled(&'c PgPool),
    /// A connection in a transaction; `unnamed` behind a transaction pooler.
    Conn {
        conn: &'c mut PgConnection,
        unnamed: bool,
    },
}

impl Db<'_> {
    pub(crate) fn pool(pool: &PgPool, pooled: bool) -> Db<'_> {
        if pooled {
            Db::Pooled(pool)
        } else {
            Db::Pool(pool)
        }
    }
}

type Step = Either<PgQueryResult, PgRow>;

impl<'c> Executor<'c> for Db<'c> {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Step, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        match self {
            Db::Pool(pool) => pool.fetch_many(query),
            Db::Conn {
                conn,
                unnamed: false,
            } => conn.fetch_many(query),
            Db::Conn {
                conn,
                unnamed: true,
            } => conn.fetch_many(Unnamed(query)),
            Db::Pooled(pool) => futures_util::stream::once(async move {
                let mut tx = pool.begin().await?;
                let steps: Vec<Step> = tx.fetch_many(Unnamed(query)).try_collect().await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(futures_util::stream::iter(steps.into_iter().map(Ok)))
            })
            .try_flatten()
            .boxed(),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        match self {
            Db::Pool(pool) => pool.fetch_optional(query),
            Db::Conn {
                conn,
                unnamed: false,
            } => conn.fetch_optional(query),
            Db::Conn {
                conn,
                unnamed: true,
            } => conn.fetch_optional(Unnamed(query)),
            Db::Pooled(pool) => Box::pin(async move {
                let mut tx = pool.begin().await?;
                let row = tx.fetch_optional(Unnamed(query)).await?;
                tx.commit().await?;
                Ok(row)
            }),
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Db::Pool(pool) => pool.prepare_with(sql, parameters),
            Db::Conn {
                conn,
                unnamed: false,
            } => conn.prepare_with(sql, parameters),
            // A prepared statement is named, which a transaction pooler cannot keep.
            Db::Pooled(_) | Db::Conn { unnamed: true, .. } => {
                Box::pin(std::future::ready(Err(sqlx::Error::Configuration(
                    "behind a transaction pooler statements cannot be prepared by name".into(),
                ))))
            }
        }
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<Describe<Postgres>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Db::Pool(pool) | Db::Pooled(pool) => pool.describe(sql),
            Db::Conn { conn, .. } => conn.describe(sql),
        }
    }
}

/// A store transaction: its statements run in the store's mode ([`Tx::exec`]).
#[derive(Debug)]
pub(crate) struct Tx {
    tx: Transaction<'static, Postgres>,
    unnamed: bool,
}

impl Tx {
    pub(crate) async fn begin(pool: &PgPool, unnamed: bool) -> Result<Self, sqlx::Error> {
        Ok(Self {
            tx: pool.begin().await?,
            unnamed,
        })
    }

    /// Where the transaction's next statement runs.
    pub(crate) fn exec(&mut self) -> Db<'_> {
        Db::Conn {
            conn: &mut self.tx,
            unnamed: self.unnamed,
        }
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}
