//! Short reads on SQLite without the worker-thread hop (issue 14); on PostgreSQL, without
//! the pool's machinery ([`PgReader`], in `read/pg.rs`).
//!
//! sqlx runs each SQLite connection on a worker thread of its own and hands every query and
//! every result across with a channel and a wake-up: on a primary-key lookup that hand-over,
//! not SQLite, was most of the CPU (3–18 context switches a request). A [`Reader`] keeps a few
//! read-only rusqlite connections to the same file and runs a short read inline on the
//! calling thread, its statement prepared once per connection. Writes and transactions stay on
//! sqlx. In WAL mode a reader sees every committed write (each statement reads the latest
//! snapshot), so nothing changes for the code that writes and then reads.
//!
//! The query is the same text on both backends (`$n` placeholders; SQLite reads `$3` as the
//! parameter named `$3`, bound here by its number). Rows are mapped by column name, like
//! sqlx's `FromRow`, by [`FromSqlite`] on SQLite and [`FromPg`] on PostgreSQL (each column
//! looked for first where the last one ended, and on PostgreSQL each field's type checked once
//! a result) — both derived for a row struct by the [`row!`] macro. sqlx's `FromRow` is still
//! derived for the reads inside write transactions.
//!
//! [`row!`]: crate::row

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};

use crate::token_cache::TokenCache;
use crate::{Result, StoreError};

mod batch;
mod kept;
mod pg;
mod row;
pub(crate) use batch::Batch;
pub(crate) use kept::KeptPages;
pub use pg::{MAX_READING, MAX_READS_AT_ONCE, PgReader, default_reads_at_once};
pub(crate) use pg::{closed_by_server, pg_read};
pub use row::{Checked, Col, FromPg, FromSqlite, PgCol, column, pg_column};

/// The key of a row read by [`crate::Db::fetch_by_key`]: bound alone on SQLite (`$1`), as an
/// array of keys on PostgreSQL (`= ANY($1)`).
pub trait Key:
    Eq
    + Clone
    + Send
    + Sync
    + 'static
    + for<'q> sqlx::Encode<'q, sqlx::Postgres>
    + sqlx::Type<sqlx::Postgres>
    + sqlx::postgres::PgHasArrayType
{
    fn arg(&self) -> Arg<'_>;
}

impl Key for String {
    fn arg(&self) -> Arg<'_> {
        Arg::Str(self)
    }
}

impl Key for i64 {
    fn arg(&self) -> Arg<'_> {
        Arg::I64(*self)
    }
}

/// The two statements of a read by key ([`crate::Db::fetch_by_key`]), made from one
/// `SELECT … FROM …` and the key's column, so that both backends read the same columns:
/// `… WHERE key = $1` (SQLite) and `… WHERE key = ANY($1)` (PostgreSQL, the keys of the
/// lookups gathered).
pub struct ByKey {
    pub(crate) one: String,
    pub(crate) many: String,
}

impl ByKey {
    pub fn new(select: &str, key: &str) -> ByKey {
        ByKey {
            one: format!("{select} WHERE {key} = $1"),
            many: format!("{select} WHERE {key} = ANY($1)"),
        }
    }

    /// The read of a version table's one row ([`crate::Db::version`]): its `INTEGER` id read as
    /// a `BIGINT`, the key of [`Version`].
    pub(crate) fn version(table: &str) -> ByKey {
        ByKey::new(
            &format!("SELECT CAST(id AS BIGINT) AS id, n FROM {table}"),
            "id",
        )
    }
}

/// A row that names its own key ([`crate::Db::fetch_by_key`]).
pub trait Keyed<K> {
    fn key(&self) -> K;
}

crate::row! {
/// The row of a version table ([`crate::Db::version`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Version {
    id: i64,
    pub(crate) n: i64,
}
}

impl Keyed<i64> for Version {
    fn key(&self) -> i64 {
        self.id
    }
}

/// How many idle connections a reader keeps (more are opened under load and closed after).
const IDLE: usize = 8;

/// The placeholders `$from`, `$from+1`, … for `n` values, comma-separated: an `IN (…)` list of
/// a page's ids.
pub(crate) fn marks(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `LIMIT … OFFSET …` of a page, its values bound after `args` (`written`: false) or
/// written into the text (`written`: true).
///
/// Written, for a kept statement whose plan does not depend on its values (issue 14): with
/// `LIMIT $n` PostgreSQL's plan cache costs the statement's generic plan as if it fetched a
/// tenth of the rows, never prefers it to the plans for the values, and so plans every
/// execution anew — 0.2–0.5 ms for the case list's page, more than running it (`pgbench -M
/// prepared`, the first page: 5.8–6.6 k → 14.4 k executions a second). With the numbers
/// written, the statement is planned once per connection and per page (a page's numbers are
/// few: its size, and its offset in steps of the size). Bound, the page is planned for the
/// values each time, as a statement whose best plan depends on them needs (a lead's or an
/// organisation's cases, hundreds against thousands).
pub(crate) fn page_bounds(
    written: bool,
    limit: i64,
    offset: i64,
    args: &mut Vec<Arg<'_>>,
) -> String {
    if written {
        return format!(" LIMIT {limit} OFFSET {offset}");
    }
    args.push(limit.into());
    args.push(offset.into());
    format!(" LIMIT ${} OFFSET ${}", args.len() - 1, args.len())
}

/// The columns of index `name` as a migration's `CREATE INDEX name ON table (key) INCLUDE
/// (…)` names them, key first (for the tests that check an index still holds what a read
/// takes). Empty when the migration has no such index.
#[cfg(test)]
pub(crate) fn index_columns(migration: &str, name: &str) -> Vec<String> {
    let Some(at) = migration.find(&format!("CREATE INDEX {name} ON ")) else {
        return Vec::new();
    };
    let statement = &migration[at..];
    let statement = &statement[..statement.find(';').unwrap_or(statement.len())];
    statement
        .split(['(', ')'])
        .skip(1)
        .step_by(2)
        .flat_map(|list| list.split(','))
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

/// A value bound to a query on either backend.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    I64(i64),
    Str(&'a str),
    Bool(bool),
    NullI64,
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::I64(v)
    }
}
impl From<i32> for Arg<'_> {
    fn from(v: i32) -> Self {
        Arg::I64(v.into())
    }
}
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Str(v)
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Str(v)
    }
}
impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Arg::NullI64, Arg::I64)
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Arg::I64(v) => ToSqlOutput::Borrowed(ValueRef::Integer(v)),
            Arg::Str(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Arg::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(b.into())),
            Arg::NullI64 => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// Binds `args` to a PostgreSQL query in order (`$1` is the first).
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match *a {
                $crate::read::Arg::I64(v) => q.bind(v),
                $crate::read::Arg::Str(s) => q.bind(s),
                $crate::read::Arg::Bool(b) => q.bind(b),
                $crate::read::Arg::NullI64 => q.bind(None::<i64>),
            };
        }
        q
    }};
}
pub(crate) use bind_args;

/// Read-only connections to one SQLite file, used inline by the calling thread.
#[derive(Clone)]
pub struct Reader(Arc<Inner>);

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    tokens: Arc<TokenCache>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Reader").field(&self.0.path).finish()
    }
}

impl Reader {
    pub fn new(path: PathBuf, tokens: Arc<TokenCache>) -> Reader {
        Reader(Arc::new(Inner {
            path,
            idle: Mutex::new(Vec::new()),
            tokens,
        }))
    }

    /// The live tokens kept for this database ([`TokenCache`]).
    pub(crate) fn tokens(&self) -> &Arc<TokenCache> {
        &self.0.tokens
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            &self.0.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(crate::WAIT)?;
        c.set_prepared_statement_cache_capacity(128);
        Ok(c)
    }

    /// Runs `f` on an idle connection (opened when none is idle) and gives it back.
    pub fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let taken = self.0.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        let c = match taken {
            Some(c) => c,
            None => self.open().map_err(read_err)?,
        };
        let out = f(&c).map_err(read_err);
        if let Ok(mut v) = self.0.idle.lock()
            && v.len() < IDLE
        {
            v.push(c);
        }
        out
    }

    /// Runs `f`, which makes several reads on the connection it is given (with [`rows_on`] and
    /// [`first_on`]), in one read transaction: the reads see one snapshot — a write committed
    /// while they run shows in all of them or in none — and take the file's locks once. The
    /// transaction ends (rolled back if `f` failed) before the connection is kept again.
    ///
    /// `BEGIN`, `COMMIT` and `ROLLBACK` are prepared once per connection like the reads
    /// (rusqlite's transaction prepared them anew each time: 2–4 % of a case's data).
    pub fn together<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        fn run(c: &Connection, sql: &str) -> rusqlite::Result<()> {
            c.prepare_cached(sql)?.execute([]).map(|_| ())
        }
        self.with(|c| {
            run(c, "BEGIN")?;
            match f(c).and_then(|out| run(c, "COMMIT").map(|()| out)) {
                Ok(out) => Ok(out),
                Err(e) => {
                    // Not left inside the old snapshot; a failed rollback (none open) is moot.
                    let _ = run(c, "ROLLBACK");
                    Err(e)
                }
            }
        })
    }

    /// The rows of `sql` with `args`, each mapped by `map`.
    pub fn rows<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        self.with(|c| rows_on(c, sql, args, map))
    }

    /// The first row of `sql`, if any.
    pub fn first<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        map: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>> {
        self.with(|c| first_on(c, sql, args, map))
    }
}

/// The rows of `sql` with `args` on connection `c`, each mapped by `map`.
pub fn rows_on<T>(
    c: &Connection,
    sql: &str,
    args: &[Arg<'_>],
    mut map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut st = c.prepare_cached(sql)?;
    bind(&mut st, args)?;
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(map(r)?);
    }
    Ok(out)
}

/// The first row of `sql` with `args` on connection `c`, if any.
pub fn first_on<T>(
    c: &Connection,
    sql: &str,
    args: &[Arg<'_>],
    map: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    let mut st = c.prepare_cached(sql)?;
    bind(&mut st, args)?;
    let mut rows = st.raw_query();
    match rows.next()? {
        Some(r) => map(r).map(Some),
        None => Ok(None),
    }
}

/// Binds `$n` (by its number) or `?n` to `args[n - 1]`.
fn bind(st: &mut rusqlite::Statement<'_>, args: &[Arg<'_>]) -> rusqlite::Result<()> {
    for i in 1..=st.parameter_count() {
        let n = match st.parameter_name(i) {
            Some(name) => name[1..].parse::<usize>().unwrap_or(i),
            None => i,
        };
        let a = args
            .get(n - 1)
            .ok_or(rusqlite::Error::InvalidParameterCount(
                st.parameter_count(),
                args.len(),
            ))?;
        st.raw_bind_parameter(i, a)?;
    }
    Ok(())
}

fn read_err(e: rusqlite::Error) -> StoreError {
    StoreError::Read(e.to_string())
}
