//! zizhi's persistence: one `Db` enum over a concrete SQLite or PostgreSQL pool (STACK.md §2),
//! the same SQL text for both (`$n` placeholders), one migrations folder per backend with the
//! same versions, repositories, and the SM3 audit chain. Handlers never see SQL.

pub mod announcements;
pub mod appeals;
pub mod archive;
pub mod audit;
pub mod backup;
pub mod cases;
pub mod certificates;
pub mod complaints;
pub mod evaluation;
pub mod evidence;
pub mod files;
pub mod jobs;
pub mod letters;
pub mod organizations;
pub mod outbox;
pub mod read;
pub mod receipts;
pub mod review;
pub mod sanctions;
pub mod sessions;
pub mod throttle;
pub mod token_cache;
pub mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use token_cache::TokenCache;

/// Runs `$body` with `$p` bound to the concrete pool.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($p, _) => $body,
            $crate::Db::Pg($p, _) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the transaction's concrete connection.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t, _) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::Pg(t, _) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// The database: SQLite (embedded default) or PostgreSQL (scale-out), chosen at run time.
/// Short reads go through the reader beside the pool — on SQLite the [`read::Reader`] (no
/// worker-thread hop), on PostgreSQL the [`read::PgReader`] (no spawned task per query); writes
/// and transactions through the pool.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool, read::Reader),
    Pg(PgPool, read::PgReader),
}

/// A write transaction. A state change and its audit event are written in one `Tx`. Its
/// commit starts a new generation of the database's [`TokenCache`] (the second field).
#[derive(Debug)]
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>, Arc<TokenCache>),
    Pg(sqlx::Transaction<'static, sqlx::Postgres>, Arc<TokenCache>),
}

/// How long a request waits for its turn at the database before it gives up: a connection
/// from the write pool or a read's turn on PostgreSQL ([`read`]) — then `PoolTimedOut`, which
/// the web answers with 503 — and a lock held by another SQLite connection (`busy_timeout`).
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique constraint: the thing already exists.
    #[error("already exists: {0}")]
    Conflict(String),
    /// A read on SQLite's direct path failed.
    #[error("database: {0}")]
    Read(String),
    #[error("unsupported database URL \"{0}\" (expected sqlite:… or postgres://…)")]
    BadUrl(String),
}

impl StoreError {
    /// Whether the database could not take the work now rather than the work being wrong: no
    /// connection free in time, or PostgreSQL refusing more connections or short of resources
    /// (SQLSTATE class 53: too many connections, disk full, out of memory) or not accepting
    /// work while it starts or stops (57P01–57P03). Worth trying again shortly.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Sqlx(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed) => true,
            StoreError::Sqlx(sqlx::Error::Database(d)) => d
                .code()
                .is_some_and(|c| c.starts_with("53") || c.starts_with("57P")),
            _ => false,
        }
    }

    /// Maps a unique violation to `Conflict(what)`.
    pub fn conflict_as(e: sqlx::Error, what: &str) -> StoreError {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict(what.to_string())
            }
            _ => StoreError::Sqlx(e),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static PG_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// UTC microseconds since the epoch: the only time representation in the database.
pub fn now_us() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    d.as_micros() as i64
}

/// The small tables of counts that triggers keep from the cases and certificates (the case
/// tallies by stage and by deadline day, the cases' version, the certificates' year ranges,
/// the register's version):
/// derived, so a backup leaves them out and a restore's rows rebuild them
/// (`backup`), and compacted after a bulk write ([`Db::compact_kept_counts`]).
pub(crate) const KEPT_COUNTS: [&str; 5] = [
    "case_tally",
    "case_due_tally",
    "case_version",
    "certificate_year",
    "register_version",
];

impl Db {
    /// Connects to `sqlite:<path>` (created if missing, WAL) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db> {
        Db::connect_with(url, None).await
    }

    /// [`Db::connect`], with how many short reads run at once on PostgreSQL (setting
    /// `pg_reads_at_once`; `None`: [`read::default_reads_at_once`]). SQLite's reads run on the
    /// runtime's threads and ignore it.
    pub async fn connect_with(url: &str, pg_reads_at_once: Option<usize>) -> Result<Db> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a commit is on disk (the WAL fsynced) before it is acknowledged, so an
                // acknowledged state change survives an OS crash or power loss, not only a
                // crash of zizhi (issue 12). Measured on this machine: 0.2 ms a commit
                // against 0.025 ms with NORMAL (README, 数据与备份).
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(WAIT)
                // A page of the register or a list is up to a few hundred rows: handed back in
                // one go rather than in pieces of 50 with a wake-up between (sqlx's default).
                .row_buffer_size(512);
            // No ping before each acquire: a local SQLite connection cannot have hung up, and
            // the ping is one more round trip to the connection's worker thread per query.
            let file = opts.get_filename().to_path_buf();
            // The file's folder made absolute (it exists before the file does), so that every
            // connection of this process to the file shares one cache however it was named.
            let folder = match file.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => std::path::Path::new("."),
            };
            let key = std::fs::canonicalize(folder)
                .map(|d| d.join(file.file_name().unwrap_or_default()))
                .unwrap_or_else(|_| file.clone());
            let reader =
                read::Reader::new(file, TokenCache::of(&format!("sqlite:{}", key.display())));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(opts)
                .await?;
            Ok(Db::Sqlite(pool, reader))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Db::connect_pg(PgConnectOptions::from_str(url)?, url, pg_reads_at_once).await
        } else {
            Err(StoreError::BadUrl(url.to_string()))
        }
    }

    /// Connects to PostgreSQL with its search path set to `schema` (created if missing): how
    /// tests get a fresh, isolated database per run.
    pub async fn connect_pg_schema(url: &str, schema: &str) -> Result<Db> {
        let base = PgConnectOptions::from_str(url)?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(base.clone())
            .await?;
        let ident = schema.replace('"', "");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS \"{ident}\""
        )))
        .execute(&admin)
        .await?;
        admin.close().await;
        Db::connect_pg(
            base.options([("search_path", ident.as_str())]),
            &format!("{url}#{ident}"),
            None,
        )
        .await
    }

    /// `key` names the database (its URL, and the schema), for its [`TokenCache`].
    async fn connect_pg(
        opts: PgConnectOptions,
        key: &str,
        reads_at_once: Option<usize>,
    ) -> Result<Db> {
        let reads_at_once = reads_at_once.unwrap_or_else(|| read::default_reads_at_once(&opts));
        // No ping before each acquire (a round trip to the server per query; issue 14): a
        // connection the server dropped fails its next query, which sqlx then closes, and
        // connections idle for 10 minutes are closed before anything can have dropped them.
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(WAIT)
            .test_before_acquire(false)
            .idle_timeout(Duration::from_secs(600))
            .connect_with(opts.clone())
            .await?;
        Ok(Db::Pg(
            pool,
            read::PgReader::new(
                opts,
                TokenCache::of(&format!("postgres:{key}")),
                reads_at_once,
            ),
        ))
    }

    /// How many short reads run at once on PostgreSQL ([`Db::connect_with`]); `None` on
    /// SQLite.
    pub fn pg_reads_at_once(&self) -> Option<usize> {
        match self {
            Db::Pg(_, r) => Some(r.at_once()),
            Db::Sqlite(..) => None,
        }
    }

    /// Runs the pending migrations of this backend.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(p, _) => SQLITE_MIGRATIONS.run(p).await?,
            Db::Pg(p, _) => PG_MIGRATIONS.run(p).await?,
        }
        self.run_store_tasks().await
    }

    /// The work a migration left to the store (table `store_task`), each in one transaction
    /// with the removal of its row, so an interrupted start-up does it again.
    async fn run_store_tasks(&self) -> Result<()> {
        let tasks: Vec<String> = on_pool!(self, p => sqlx::query_scalar("SELECT name FROM store_task ORDER BY name")
            .fetch_all(p)
            .await)?;
        for task in tasks {
            let mut tx = self.begin().await?;
            match task.as_str() {
                "certificate_name" => certificates::index_all_names(&mut tx).await?,
                "case_deadline" => cases::deadline::keep_all(&mut tx).await?,
                // Only a newer zizhi's migration writes another, and the migrator refuses a
                // database migrated by a newer zizhi before this point.
                _ => continue,
            }
            on_tx!(&mut tx, t => sqlx::query("DELETE FROM store_task WHERE name = $1")
                .bind(&task)
                .execute(t)
                .await
                .map(|r| r.rows_affected()))?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// The live tokens this process keeps for this database.
    pub(crate) fn tokens(&self) -> &TokenCache {
        match self {
            Db::Sqlite(_, r) => r.tokens(),
            Db::Pg(_, r) => r.tokens(),
        }
    }

    /// How many connections the PostgreSQL reader keeps idle (tests of its connections only;
    /// 0 on SQLite).
    #[doc(hidden)]
    pub fn idle_reads_for_tests(&self) -> usize {
        match self {
            Db::Sqlite(..) => 0,
            Db::Pg(_, r) => r.idle_count(),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Pg(..) => "postgres",
        }
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes never fails to
    /// upgrade its lock.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p, r) => {
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, r.tokens().clone())
            }
            Db::Pg(p, r) => Tx::Pg(p.begin().await?, r.tokens().clone()),
        })
    }

    /// A cheap round trip, for readiness.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// After a bulk write (the demo's benchmark rows, a restore): rewrites, on PostgreSQL, the
    /// small tables of counts kept by triggers ([`KEPT_COUNTS`]) whose few rows each insert of a bulk transaction updated. Every
    /// update leaves a dead version that a plain `VACUUM` frees but cannot give back while the
    /// live rows sit in the last pages (after the demo's 10 000 cases `case_tally` held its 22
    /// rows in 83 pages, and the case list read all of them on every page: 0.2 ms of its 0.5 ms
    /// in the database). Under a server's usual writes, one case a transaction, the updates
    /// reuse their page. Each table is locked only while its few rows are copied. SQLite updates
    /// in place: nothing to do.
    /// A restore of an older schema has only those its version had (it migrates forward after).
    pub async fn compact_kept_counts(&self) -> Result<()> {
        if let Db::Pg(p, _) = self {
            let kept: Vec<String> = sqlx::query_scalar(
                "SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL",
            )
            .bind(KEPT_COUNTS)
            .fetch_all(p)
            .await?;
            if !kept.is_empty() {
                let sql = format!("VACUUM (FULL, ANALYZE) {}", kept.join(", "));
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        if let Db::Pg(_, r) = self {
            r.close().await;
        }
        on_pool!(self, p => p.close().await)
    }

    /// The rows of a short read, the same SQL text on both backends: inline on SQLite
    /// ([`read::Reader`]), on the [`read::PgReader`]'s connections on PostgreSQL.
    pub async fn fetch_all<T>(&self, sql: &str, args: &[read::Arg<'_>]) -> Result<Vec<T>>
    where
        T: read::FromSqlite + read::FromPg + Send + Unpin,
    {
        self.rows(sql, args, true).await
    }

    /// [`Db::fetch_all`] for a query whose best plan depends on its values (a search with
    /// filters): on PostgreSQL an unnamed statement, planned for the values each time, where a
    /// kept statement would in time use one generic plan for all values.
    pub async fn fetch_all_planned<T>(&self, sql: &str, args: &[read::Arg<'_>]) -> Result<Vec<T>>
    where
        T: read::FromSqlite + read::FromPg + Send + Unpin,
    {
        self.rows(sql, args, false).await
    }

    /// The rows of a short read; `kept`: PostgreSQL keeps the prepared statement.
    async fn rows<T>(&self, sql: &str, args: &[read::Arg<'_>], kept: bool) -> Result<Vec<T>>
    where
        T: read::FromSqlite + read::FromPg + Send + Unpin,
    {
        match self {
            Db::Sqlite(_, r) => r.rows(sql, args, T::from_sqlite),
            Db::Pg(_, r) => {
                let rows = read::pg_read!(r, c => read::bind_args!(
                    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).persistent(kept),
                    args
                )
                .fetch_all(&mut *c));
                let mut checked = read::Checked::default();
                Ok(rows
                    .iter()
                    .map(|row| T::from_pg_checked(row, &mut checked))
                    .collect::<std::result::Result<_, _>>()?)
            }
        }
    }

    /// The first row of a short read, if any (see [`Db::fetch_all`]).
    pub async fn fetch_optional<T>(&self, sql: &str, args: &[read::Arg<'_>]) -> Result<Option<T>>
    where
        T: read::FromSqlite + read::FromPg + Send + Unpin,
    {
        match self {
            Db::Sqlite(_, r) => r.first(sql, args, T::from_sqlite),
            Db::Pg(_, r) => {
                let row = read::pg_read!(r, c => read::bind_args!(
                    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())),
                    args
                )
                .fetch_optional(&mut *c));
                Ok(row.as_ref().map(T::from_pg).transpose()?)
            }
        }
    }

    /// The row of `key`, if any (a short read by `sql`): on PostgreSQL the lookups of one kind
    /// that ask together go in one statement ([`read::Batch`]: issue 14). Each answer is read
    /// by a statement begun after its lookup asked.
    pub async fn fetch_by_key<K, T>(&self, sql: &'static read::ByKey, key: K) -> Result<Option<T>>
    where
        K: read::Key,
        T: read::FromSqlite + read::FromPg + read::Keyed<K> + Clone + Send + Sync + Unpin + 'static,
    {
        match self {
            Db::Sqlite(_, r) => r.first(&sql.one, &[key.arg()], T::from_sqlite),
            Db::Pg(_, r) => {
                r.batch::<K, T>(&sql.many)
                    .get(key, |keys| async move {
                        let rows = read::pg_read!(r, c => sqlx::query(sql.many.as_str())
                            .bind(&keys)
                            .fetch_all(&mut *c));
                        let mut checked = read::Checked::default();
                        rows.iter()
                            .map(|row| -> Result<(K, T)> {
                                let v = T::from_pg_checked(row, &mut checked)?;
                                Ok((v.key(), v))
                            })
                            .collect()
                    })
                    .await
            }
        }
    }

    /// The number of a version table (`case_version`, `register_version`: one row, id 1, its
    /// number `n` moved by every change it stands for) read by `sql` ([`read::ByKey::version`]),
    /// or 0 without its row. On PostgreSQL
    /// the requests that ask together share one statement ([`Db::fetch_by_key`]), begun after
    /// each asked, so each sees every change committed before it asked (issue 14: a register
    /// page read its version and then its rows, two statements where the rows were all the
    /// work; the version's one row is the same for everyone asking).
    pub(crate) async fn version(&self, sql: &'static read::ByKey) -> Result<i64> {
        Ok(self
            .fetch_by_key::<i64, read::Version>(sql, 1)
            .await?
            .map_or(0, |v| v.n))
    }

    /// The first column of the first row of a short read (a count, an id).
    pub async fn fetch_scalar<T>(&self, sql: &str, args: &[read::Arg<'_>]) -> Result<Option<T>>
    where
        T: rusqlite::types::FromSql
            + for<'r> sqlx::Decode<'r, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>
            + Send
            + Unpin,
    {
        match self {
            Db::Sqlite(_, r) => r.first(sql, args, |row| row.get(0)),
            Db::Pg(_, r) => Ok(read::pg_read!(r, c => read::bind_args!(
                sqlx::query_scalar::<_, T>(sqlx::AssertSqlSafe(sql.to_owned())),
                args
            )
            .fetch_optional(&mut *c))),
        }
    }
}

impl Tx {
    /// The clause that locks the rows a read inside this transaction returns: `FOR UPDATE` on
    /// PostgreSQL; nothing on SQLite, whose write transactions are exclusive already.
    pub(crate) fn for_update(&self) -> &'static str {
        match self {
            Tx::Pg(..) => " FOR UPDATE",
            Tx::Sqlite(..) => "",
        }
    }

    pub async fn commit(self) -> Result<()> {
        let tokens = match self {
            Tx::Sqlite(t, tokens) => {
                t.commit().await?;
                tokens
            }
            Tx::Pg(t, tokens) => {
                t.commit().await?;
                tokens
            }
        };
        tokens.changed();
        Ok(())
    }
}

/// A backend's migrations as (version, description) pairs.
pub type MigrationList = Vec<(i64, String)>;

/// The migrations of both backends (SQLite, PostgreSQL), which must agree.
pub fn migration_versions() -> (MigrationList, MigrationList) {
    let list = |m: &sqlx::migrate::Migrator| {
        m.iter()
            .map(|x| (x.version, x.description.to_string()))
            .collect::<Vec<_>>()
    };
    (list(&SQLITE_MIGRATIONS), list(&PG_MIGRATIONS))
}
