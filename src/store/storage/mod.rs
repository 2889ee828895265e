//! The store's database: SQLite (one file in the data directory, WAL,
//! `synchronous=FULL`) or PostgreSQL (for several store instances behind a
//! load balancer), with the same tables and embedded migrations.
//!
//! Every query is a plain `sqlx::query` with binds; each backend spells its
//! placeholders its own way, so each query is written once per backend here
//! and nowhere else. Appends go through [`AppendTx`], which holds the
//! database-wide append lock (`BEGIN IMMEDIATE` on SQLite, a transaction-level
//! advisory lock on PostgreSQL) from the moment it is opened to its commit.

mod url;

use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

use futures_util::future::BoxFuture;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection as _, Postgres, QueryBuilder, Sqlite, Transaction};

pub use url::DatabaseUrl;

use super::error::DatabaseError;

/// Migrations, embedded in the binary; one list per backend, same versions.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "audit store",
        include_str!("../migrations/sqlite/0001_audit_store.sql"),
    ),
    (
        2,
        "hook cursor",
        include_str!("../migrations/sqlite/0002_hook_cursor.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "audit store",
        include_str!("../migrations/postgres/0001_audit_store.sql"),
    ),
    (
        2,
        "hook cursor",
        include_str!("../migrations/postgres/0002_hook_cursor.sql"),
    ),
];

/// The migrations of one backend as a sqlx migration source. (`sqlx::migrate!`
/// needs sqlx's `macros` feature, which this crate does not enable; this
/// embeds the same files with `include_str!`.)
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        let migrations = self
            .0
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    Cow::Borrowed(*sql),
                    false,
                )
            })
            .collect();
        Box::pin(async move { Ok(migrations) })
    }
}

/// Key of the PostgreSQL advisory lock that serialises appends: "toll" and
/// a hash of the schema, so isolated schemas do not wait for each other.
const APPEND_LOCK: &str = "SELECT pg_advisory_xact_lock(1953459308, hashtext(current_schema()))";

/// How long SQLite waits for a lock held by another connection.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Rows per multi-row INSERT (well under either backend's bind limit).
const INSERT_CHUNK: usize = 100;

/// One stored log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub index: u64,
    pub entry_id: Vec<u8>,
    pub leaf_hash: Vec<u8>,
    pub body: Vec<u8>,
}

/// One entry to insert.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    pub index: u64,
    pub entry_id: &'a [u8],
    pub leaf_hash: &'a [u8],
    pub body: &'a [u8],
    pub accepted_at_ms: i64,
}

/// A connection pool to one of the two backends.
#[derive(Debug, Clone)]
pub enum Storage {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs one expression on whichever backend this is. The SQL text is shared:
/// sqlx's SQLite driver takes PostgreSQL's `$N` placeholders too (numbered in
/// order of first use, so every statement uses them in ascending order).
macro_rules! on_backend {
    ($value:expr, $conn:ident => $body:expr) => {
        match $value {
            Self::Sqlite($conn) => $body,
            Self::Postgres($conn) => $body,
        }
    };
}

fn db(action: &'static str) -> impl FnOnce(sqlx::Error) -> DatabaseError {
    move |source| DatabaseError::Database { action, source }
}

fn to_i64(value: u64) -> Result<i64, DatabaseError> {
    i64::try_from(value).map_err(|_| DatabaseError::OutOfRange(value))
}

fn to_u64(value: i64) -> Result<u64, DatabaseError> {
    u64::try_from(value).map_err(|_| DatabaseError::NegativeValue(value))
}

type EntryRow = (i64, Vec<u8>, Vec<u8>, Vec<u8>);
type HookRow = (String, String, i64, Option<i64>, Option<String>);

/// One recorded attempt to deliver a deploy-hook notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookDelivery {
    pub url: String,
    pub event: String,
    pub attempt: u32,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    pub error: Option<String>,
}

fn stored(rows: Vec<EntryRow>) -> Result<Vec<StoredEntry>, DatabaseError> {
    rows.into_iter()
        .map(|(index, entry_id, leaf_hash, body)| {
            Ok(StoredEntry {
                index: to_u64(index)?,
                entry_id,
                leaf_hash,
                body,
            })
        })
        .collect()
}

impl Storage {
    /// Connects (creating the SQLite file or the PostgreSQL schema if
    /// needed) and applies the embedded migrations.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, DatabaseError> {
        let storage = match url {
            DatabaseUrl::Sqlite(path) => Self::Sqlite(connect_sqlite(path).await?),
            DatabaseUrl::Postgres { url, schema } => {
                Self::Postgres(connect_postgres(url, schema.as_deref()).await?)
            }
        };
        storage.migrate().await?;
        Ok(storage)
    }

    async fn migrate(&self) -> Result<(), DatabaseError> {
        match self {
            Self::Sqlite(pool) => {
                let migrator = Migrator::new(Embedded(SQLITE_MIGRATIONS)).await?;
                migrator.run(pool).await?;
            }
            Self::Postgres(pool) => {
                let migrator = Migrator::new(Embedded(POSTGRES_MIGRATIONS)).await?;
                migrator.run(pool).await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        on_backend!(self, pool => pool.close().await);
    }

    /// A pinned fact, if set.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, DatabaseError> {
        let action = "read the store's settings";
        on_backend!(self, pool => sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(db(action)))
    }

    /// Pins a fact unless it is already set; returns the value in force.
    pub async fn pin_meta(&self, key: &str, value: &str) -> Result<String, DatabaseError> {
        let action = "record the store's settings";
        on_backend!(self, pool => {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(value)
            .execute(pool)
            .await
            .map_err(db(action))?;
        });
        Ok(self.meta(key).await?.unwrap_or_else(|| value.to_owned()))
    }

    /// Number of entries (one past the highest index).
    pub async fn size(&self) -> Result<u64, DatabaseError> {
        let action = "count the log entries";
        let max: Option<i64> = on_backend!(self, pool => sqlx::query_scalar("SELECT MAX(idx) FROM entries")
                .fetch_one(pool)
                .await
                .map_err(db(action))?);
        max.map_or(Ok(0), |m| to_u64(m).map(|m| m + 1))
    }

    /// Entries with `start <= idx < end`, in index order.
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<StoredEntry>, DatabaseError> {
        let action = "read log entries";
        let (start, end) = (to_i64(start)?, to_i64(end)?);
        let rows: Vec<EntryRow> = on_backend!(self, pool => sqlx::query_as(
                "SELECT idx, entry_id, leaf_hash, body FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            )
            .bind(start)
            .bind(end)
            .fetch_all(pool)
            .await
            .map_err(db(action))?);
        stored(rows)
    }

    /// The checkpoint of the largest size, as (size, signed note bytes).
    pub async fn latest_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>, DatabaseError> {
        let action = "read the latest checkpoint";
        let row: Option<(i64, Vec<u8>)> = on_backend!(self, pool => {
            sqlx::query_as("SELECT size, body FROM checkpoints ORDER BY size DESC LIMIT 1")
                .fetch_optional(pool)
                .await
                .map_err(db(action))?
        });
        row.map(|(size, body)| Ok((to_u64(size)?, body)))
            .transpose()
    }

    /// Replaces the stored note of `size` with the same checkpoint carrying
    /// witness cosignatures (the log signature is unchanged).
    pub async fn put_cosigned_checkpoint(
        &self,
        size: u64,
        body: &[u8],
    ) -> Result<(), DatabaseError> {
        let action = "record a cosigned checkpoint";
        let size = to_i64(size)?;
        let _rows = on_backend!(self, pool => sqlx::query(
                "UPDATE checkpoints SET body = $2 WHERE size = $1",
            )
            .bind(size)
            .bind(body)
            .execute(pool)
            .await
            .map_err(db(action))?
            .rows_affected());
        Ok(())
    }

    /// Stores a checkpoint unless one of that size exists (signatures are
    /// deterministic, so a second instance would write the same bytes).
    pub async fn put_checkpoint(&self, size: u64, body: &[u8]) -> Result<(), DatabaseError> {
        let action = "record a checkpoint";
        let size = to_i64(size)?;
        let _rows = on_backend!(self, pool => sqlx::query(
                "INSERT INTO checkpoints (size, body) VALUES ($1, $2) ON CONFLICT (size) DO NOTHING",
            )
            .bind(size)
            .bind(body)
            .execute(pool)
            .await
            .map_err(db(action))?
            .rows_affected());
        Ok(())
    }

    /// Stores an evidence blob; `false` when one with this digest exists.
    pub async fn put_evidence(
        &self,
        digest: &[u8],
        media_type: &str,
        body: &[u8],
        stored_at_ms: i64,
    ) -> Result<bool, DatabaseError> {
        let action = "store an evidence blob";
        let done = on_backend!(self, pool => sqlx::query(
                "INSERT INTO evidence (digest, media_type, body, stored_at) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING",
            )
            .bind(digest)
            .bind(media_type)
            .bind(body)
            .bind(stored_at_ms)
            .execute(pool)
            .await
            .map_err(db(action))?
            .rows_affected());
        Ok(done == 1)
    }

    pub async fn get_evidence(
        &self,
        digest: &[u8],
    ) -> Result<Option<(String, Vec<u8>)>, DatabaseError> {
        let action = "read an evidence blob";
        on_backend!(self, pool => {
            sqlx::query_as("SELECT media_type, body FROM evidence WHERE digest = $1")
                .bind(digest)
                .fetch_optional(pool)
                .await
                .map_err(db(action))
        })
    }

    /// Records one attempt to deliver a deploy-hook notification.
    pub async fn record_hook_delivery(
        &self,
        url: &str,
        event: &str,
        attempt: u32,
        status: Option<u16>,
        error: Option<&str>,
        at_ms: i64,
    ) -> Result<(), DatabaseError> {
        let action = "record a hook delivery";
        let status = status.map(i64::from);
        let attempt = i64::from(attempt);
        on_backend!(self, pool => sqlx::query(
                "INSERT INTO hook_deliveries (url, event, attempt, status, error, at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(url)
            .bind(event)
            .bind(attempt)
            .bind(status)
            .bind(error)
            .bind(at_ms)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(db(action))?);
        Ok(())
    }

    /// Every recorded hook delivery attempt: (url, event, attempt, status, error).
    pub async fn hook_deliveries(&self) -> Result<Vec<HookDelivery>, DatabaseError> {
        let action = "read hook deliveries";
        let sql = "SELECT url, event, attempt, status, error FROM hook_deliveries ORDER BY id";
        let rows: Vec<HookRow> = on_backend!(self, pool => sqlx::query_as(sql)
                .fetch_all(pool)
                .await
                .map_err(db(action))?);
        Ok(rows
            .into_iter()
            .map(|(url, event, attempt, status, error)| HookDelivery {
                url,
                event,
                attempt: u32::try_from(attempt).unwrap_or(0),
                status: status.and_then(|s| u16::try_from(s).ok()),
                error,
            })
            .collect())
    }

    /// How far deploy hooks have folded the log (read without the lock).
    pub async fn hook_cursor(&self) -> Result<u64, DatabaseError> {
        let action = "read the hook cursor";
        let next: i64 = on_backend!(self, pool => sqlx::query_scalar("SELECT next_index FROM hook_cursor WHERE id = 1")
                .fetch_one(pool)
                .await
                .map_err(db(action))?);
        to_u64(next)
    }

    /// Ids of every claimed deploy-hook notification.
    pub async fn hook_event_ids(&self) -> Result<Vec<String>, DatabaseError> {
        let action = "read hook notifications";
        on_backend!(self, pool => sqlx::query_scalar("SELECT id FROM hook_events")
                .fetch_all(pool)
                .await
                .map_err(db(action)))
    }

    /// Takes on again the notifications claimed before `stale_before_ms` and
    /// still not done (their instance stopped): marks them claimed at
    /// `now_ms` and returns (id, body). One statement, so two instances
    /// never take the same one.
    pub async fn reclaim_hook_events(
        &self,
        now_ms: i64,
        stale_before_ms: i64,
    ) -> Result<Vec<(String, Vec<u8>)>, DatabaseError> {
        let action = "take on unfinished hook notifications";
        on_backend!(self, pool => sqlx::query_as(
                "UPDATE hook_events SET claimed_at = $1 WHERE done = 0 AND claimed_at < $2 RETURNING id, body",
            )
            .bind(now_ms)
            .bind(stale_before_ms)
            .fetch_all(pool)
            .await
            .map_err(db(action)))
    }

    /// Marks a notification finished (delivered, or given up on).
    pub async fn hook_event_done(&self, id: &str) -> Result<(), DatabaseError> {
        let action = "finish a hook notification";
        on_backend!(self, pool => sqlx::query("UPDATE hook_events SET done = 1 WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(db(action)))
    }

    /// Opens a transaction holding the hook cursor: `BEGIN IMMEDIATE` on
    /// SQLite; on PostgreSQL the cursor row is locked by
    /// [`AppendTx::lock_hook_cursor`].
    pub async fn begin_hooks(&self) -> Result<AppendTx, DatabaseError> {
        let action = "start a hook transaction";
        match self {
            Self::Sqlite(pool) => Ok(AppendTx::Sqlite(
                pool.begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(db(action))?,
            )),
            Self::Postgres(pool) => Ok(AppendTx::Postgres(pool.begin().await.map_err(db(action))?)),
        }
    }

    /// Opens an append transaction holding the append lock.
    pub async fn begin_append(&self) -> Result<AppendTx, DatabaseError> {
        let action = "start an append transaction";
        match self {
            Self::Sqlite(pool) => {
                // IMMEDIATE takes the write lock now, so the size read below
                // cannot change before the commit.
                let tx = pool
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(db(action))?;
                Ok(AppendTx::Sqlite(tx))
            }
            Self::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(db(action))?;
                sqlx::query(APPEND_LOCK)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("take the append lock"))?;
                Ok(AppendTx::Postgres(tx))
            }
        }
    }
}

async fn connect_sqlite(path: &Path) -> Result<SqlitePool, DatabaseError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| DatabaseError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true);
    SqlitePoolOptions::new()
        .max_connections(4)
        // A local file cannot drop a connection the way a server can: the
        // default ping before each checkout would only add a round trip to
        // the connection's worker thread to every append transaction.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|source| DatabaseError::Connect {
            database: path.display().to_string(),
            source,
        })
}

async fn connect_postgres(url: &str, schema: Option<&str>) -> Result<PgPool, DatabaseError> {
    let redacted = url::redact(url);
    let connect = |source| DatabaseError::Connect {
        database: redacted.clone(),
        source,
    };
    let mut options: PgConnectOptions = url.parse().map_err(connect)?;
    if let Some(schema) = schema {
        if !url::is_valid_schema(schema) {
            return Err(DatabaseError::BadSchema(schema.to_owned()));
        }
        let mut conn = sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(connect)?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .execute(&mut conn)
            .await
            .map_err(db("create the database schema"))?;
        conn.close().await.map_err(connect)?;
        options = options.options([("search_path", schema)]);
    }
    PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(connect)
}

/// An open append transaction that holds the append lock until commit.
#[derive(Debug)]
pub enum AppendTx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl AppendTx {
    /// The log size as committed (this transaction holds the append lock,
    /// so nobody else can change it before the commit).
    pub async fn size(&mut self) -> Result<u64, DatabaseError> {
        let action = "count the log entries";
        let max: Option<i64> = on_backend!(self, tx => sqlx::query_scalar("SELECT MAX(idx) FROM entries")
                .fetch_one(&mut **tx)
                .await
                .map_err(db(action))?);
        max.map_or(Ok(0), |m| to_u64(m).map(|m| m + 1))
    }

    /// Entries from `start` to the end, in index order.
    pub async fn entries_from(&mut self, start: u64) -> Result<Vec<StoredEntry>, DatabaseError> {
        let action = "read entries appended by another store instance";
        let start = to_i64(start)?;
        let rows: Vec<EntryRow> = on_backend!(self, tx => sqlx::query_as(
                "SELECT idx, entry_id, leaf_hash, body FROM entries WHERE idx >= $1 ORDER BY idx",
            )
            .bind(start)
            .fetch_all(&mut **tx)
            .await
            .map_err(db(action))?);
        stored(rows)
    }

    /// Entries with `start <= idx < end`, in index order.
    pub async fn entries_between(
        &mut self,
        start: u64,
        end: u64,
    ) -> Result<Vec<StoredEntry>, DatabaseError> {
        let action = "read log entries";
        let (start, end) = (to_i64(start)?, to_i64(end)?);
        let rows: Vec<EntryRow> = on_backend!(self, tx => sqlx::query_as(
                "SELECT idx, entry_id, leaf_hash, body FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            )
            .bind(start)
            .bind(end)
            .fetch_all(&mut **tx)
            .await
            .map_err(db(action))?);
        stored(rows)
    }

    /// The hook cursor, locked until this transaction ends.
    pub async fn lock_hook_cursor(&mut self) -> Result<u64, DatabaseError> {
        let action = "lock the hook cursor";
        let next: i64 = match self {
            Self::Sqlite(tx) => {
                sqlx::query_scalar("SELECT next_index FROM hook_cursor WHERE id = 1")
                    .fetch_one(&mut **tx)
                    .await
            }
            Self::Postgres(tx) => {
                sqlx::query_scalar("SELECT next_index FROM hook_cursor WHERE id = 1 FOR UPDATE")
                    .fetch_one(&mut **tx)
                    .await
            }
        }
        .map_err(db(action))?;
        to_u64(next)
    }

    /// Moves the hook cursor.
    pub async fn set_hook_cursor(&mut self, next: u64) -> Result<(), DatabaseError> {
        let action = "move the hook cursor";
        let next = to_i64(next)?;
        on_backend!(self, tx => sqlx::query("UPDATE hook_cursor SET next_index = $1 WHERE id = 1")
                .bind(next)
                .execute(&mut **tx)
                .await
                .map(|_| ())
                .map_err(db(action)))
    }

    /// Claims a notification; false when it was claimed before.
    pub async fn claim_hook_event(
        &mut self,
        id: &str,
        index: u64,
        body: &[u8],
        now_ms: i64,
    ) -> Result<bool, DatabaseError> {
        let action = "claim a hook notification";
        let index = to_i64(index)?;
        let done = on_backend!(self, tx => sqlx::query(
                "INSERT INTO hook_events (id, idx, body, claimed_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(index)
            .bind(body)
            .bind(now_ms)
            .execute(&mut **tx)
            .await
            .map_err(db(action))?
            .rows_affected());
        Ok(done == 1)
    }

    pub async fn insert_entries(&mut self, entries: &[NewEntry<'_>]) -> Result<(), DatabaseError> {
        let action = "write log entries";
        for chunk in entries.chunks(INSERT_CHUNK) {
            let rows = chunk
                .iter()
                .map(|e| Ok((to_i64(e.index)?, e)))
                .collect::<Result<Vec<_>, DatabaseError>>()?;
            // One statement per chunk, the same on both backends (the
            // builder's database type comes from the connection).
            on_backend!(self, tx => {
                let mut query = QueryBuilder::new(
                    "INSERT INTO entries (idx, entry_id, leaf_hash, body, accepted_at) ",
                );
                query.push_values(&rows, |mut row, (index, e)| {
                    row.push_bind(*index)
                        .push_bind(e.entry_id)
                        .push_bind(e.leaf_hash)
                        .push_bind(e.body)
                        .push_bind(e.accepted_at_ms);
                });
                query.build().execute(&mut **tx).await.map_err(db(action))?;
            });
        }
        Ok(())
    }

    /// Stores the checkpoint of the tree this transaction commits.
    pub async fn put_checkpoint(&mut self, size: u64, body: &[u8]) -> Result<(), DatabaseError> {
        let action = "record a checkpoint";
        let size = to_i64(size)?;
        let _rows = on_backend!(self, tx => sqlx::query(
                "INSERT INTO checkpoints (size, body) VALUES ($1, $2) ON CONFLICT (size) DO NOTHING",
            )
            .bind(size)
            .bind(body)
            .execute(&mut **tx)
            .await
            .map_err(db(action))?
            .rows_affected());
        Ok(())
    }

    /// Replaces the stored note of an earlier checkpoint with the same
    /// checkpoint carrying witness cosignatures, as part of this
    /// transaction (see [`Storage::put_cosigned_checkpoint`]).
    pub async fn put_cosigned_checkpoint(
        &mut self,
        size: u64,
        body: &[u8],
    ) -> Result<(), DatabaseError> {
        let action = "record a cosigned checkpoint";
        let size = to_i64(size)?;
        let _rows = on_backend!(self, tx => sqlx::query(
                "UPDATE checkpoints SET body = $1 WHERE size = $2",
            )
            .bind(body)
            .bind(size)
            .execute(&mut **tx)
            .await
            .map_err(db(action))?
            .rows_affected());
        Ok(())
    }

    /// Commits durably (SQLite `synchronous=FULL`; PostgreSQL's default
    /// `synchronous_commit`).
    pub async fn commit(self) -> Result<(), DatabaseError> {
        let action = "commit the append";
        on_backend!(self, tx => tx.commit().await.map_err(db(action)))
    }

    /// Ends the transaction without writing.
    pub async fn rollback(self) -> Result<(), DatabaseError> {
        let action = "end the append transaction";
        on_backend!(self, tx => tx.rollback().await.map_err(db(action)))
    }
}
