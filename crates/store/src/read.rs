//! Short reads on SQLite without the worker-thread hop (issue 14).
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
mod row;
pub(crate) use batch::Batch;
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
}

/// A row that names its own key ([`crate::Db::fetch_by_key`]).
pub trait Keyed<K> {
    fn key(&self) -> K;
}

/// How many idle connections a reader keeps (more are opened under load and closed after).
const IDLE: usize = 8;
/// How many reads a reader runs at once on PostgreSQL, each on a connection of its own; more
/// wait for one to end. Without a bound a burst of requests opened a connection each, and past
/// the server's `max_connections` (100 by default) reads failed. With the write pool's 16, one
/// zizhi holds at most 32 connections.
pub(crate) const MAX_READING: usize = 16;

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

/// Runs a short read on a [`PgReader`]'s connection `$c` (a [`Reading`]; the query takes
/// `&mut *$c`), and gives the connection back if it succeeded. A connection the server has
/// closed (see [`closed_by_server`]) fails its query: the query is then run once more on a new
/// connection. A read abandoned midway keeps its connection ([`Reading`]'s drop).
macro_rules! pg_read {
    ($r:expr, $c:ident => $query:expr) => {{
        let mut $c = $r.take().await?;
        let out = match $query.await {
            Err(e) if $crate::read::closed_by_server(&e) => {
                $c.discard();
                $c = $r.take_new($c).await?;
                $query.await
            }
            out => out,
        };
        match out {
            Ok(v) => {
                $c.give_back();
                v
            }
            Err(e) => {
                $c.discard();
                Err(e)?
            }
        }
    }};
}
pub(crate) use pg_read;

/// Whether a query failed because the server closed its connection: the socket is gone, or
/// the server said why it ends the session (SQLSTATE class 57, operator intervention — a
/// shutdown or restart, a terminated backend).
pub(crate) fn closed_by_server(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|c| c.starts_with("57P")),
        _ => false,
    }
}

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

/// Connections of their own for short reads on PostgreSQL, taken and given back without the
/// pool's machinery (issue 14): sqlx's pool wraps each acquire in a timeout and hands each
/// connection back through a newly spawned task, which woke the other worker thread on every
/// query. A connection that failed a query is not given back (a new one is opened when none
/// is idle); one whose query was abandoned midway is given back once its answer has been read
/// ([`Reading`]).
#[derive(Clone)]
pub struct PgReader(Arc<PgInner>);

struct PgInner {
    options: sqlx::postgres::PgConnectOptions,
    idle: Mutex<Vec<sqlx::PgConnection>>,
    /// Set by [`PgReader::close`]: connections are no longer kept.
    closed: std::sync::atomic::AtomicBool,
    /// One permit per read in progress ([`MAX_READING`]), held by its [`Reading`].
    reading: Arc<tokio::sync::Semaphore>,
    tokens: Arc<TokenCache>,
    /// The lookups by key gathered into one statement ([`Batch`]), one kind per statement
    /// text.
    batches: Mutex<Vec<(&'static str, Box<dyn std::any::Any + Send + Sync>)>>,
}

/// How many gathered statements of one kind run at once ([`Batch`]).
const BATCHES_AT_ONCE: usize = 1;

impl std::fmt::Debug for PgReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PgReader").finish()
    }
}

impl PgReader {
    pub(crate) fn new(
        options: sqlx::postgres::PgConnectOptions,
        tokens: Arc<TokenCache>,
    ) -> PgReader {
        PgReader(Arc::new(PgInner {
            options,
            idle: Mutex::new(Vec::new()),
            closed: std::sync::atomic::AtomicBool::new(false),
            reading: Arc::new(tokio::sync::Semaphore::new(MAX_READING)),
            tokens,
            batches: Mutex::new(Vec::new()),
        }))
    }

    /// The lookups of the statement `sql` with keys `K` and rows `V` ([`Batch`]), made on first
    /// use.
    pub(crate) fn batch<K, V>(&self, sql: &'static str) -> Batch<K, V>
    where
        K: Send + 'static,
        V: Send + 'static,
    {
        let mut all = self.0.batches.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = all
            .iter()
            .filter(|(s, _)| *s == sql)
            .find_map(|(_, b)| b.downcast_ref::<Batch<K, V>>())
        {
            return b.clone();
        }
        let b = Batch::new(BATCHES_AT_ONCE);
        all.push((sql, Box::new(b.clone())));
        b
    }

    /// The live tokens kept for this database ([`TokenCache`]).
    pub(crate) fn tokens(&self) -> &Arc<TokenCache> {
        &self.0.tokens
    }

    /// Waits for a turn to read ([`MAX_READING`]); the turn ends when the permit drops. Like
    /// the write pool's acquire, it gives up after [`crate::WAIT`] (`PoolTimedOut`: 503).
    async fn permit(&self) -> std::result::Result<tokio::sync::OwnedSemaphorePermit, sqlx::Error> {
        let acquire = Arc::clone(&self.0.reading).acquire_owned();
        match tokio::time::timeout(crate::WAIT, acquire).await {
            Ok(permit) => permit.map_err(|_| sqlx::Error::PoolClosed),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// A turn to read ([`PgReader::permit`]) and a connection for it: an idle one, or a new
    /// one.
    pub(crate) async fn take(&self) -> std::result::Result<Reading, sqlx::Error> {
        let permit = self.permit().await?;
        if self.0.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(sqlx::Error::PoolClosed);
        }
        let idle = self.0.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => self.connect().await?,
        };
        Ok(Reading {
            reader: self.clone(),
            conn: Some(conn),
            permit: Some(permit),
        })
    }

    /// A new connection for the read `r` (whose connection the server closed), in its turn.
    pub(crate) async fn take_new(
        &self,
        mut r: Reading,
    ) -> std::result::Result<Reading, sqlx::Error> {
        r.conn = Some(self.connect().await?);
        Ok(r)
    }

    pub(crate) async fn connect(&self) -> std::result::Result<sqlx::PgConnection, sqlx::Error> {
        use sqlx::Connection as _;
        sqlx::PgConnection::connect_with(&self.0.options).await
    }

    /// Closes the idle connections; one in use is closed when its read ends (the reader keeps
    /// none after this).
    pub(crate) async fn close(&self) {
        self.0
            .closed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let idle = std::mem::take(&mut *self.0.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for c in idle {
            use sqlx::Connection as _;
            let _ = c.close().await;
        }
    }

    /// How many connections are idle.
    pub(crate) fn idle_count(&self) -> usize {
        self.0.idle.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Keeps a connection for the next read (up to twice [`IDLE`]).
    fn keep(&self, c: sqlx::PgConnection) {
        let mut idle = self.0.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE * 2 && !self.0.closed.load(std::sync::atomic::Ordering::SeqCst) {
            idle.push(c);
        }
    }
}

/// How long a read abandoned midway may take to end before its connection is closed instead
/// ([`Reading`]'s drop).
const ABANDONED_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A read's turn and connection ([`PgReader::take`], used by [`pg_read`]). When the read is
/// abandoned midway — its request's client went away and the handler's future was dropped
/// with the query in flight — the connection is not closed with it: a task waits (up to
/// [`ABANDONED_WAIT`]) for the rest of the query's answer, which sqlx reads and discards
/// before its ping, and gives the connection back, still in the read's turn. Closing it
/// instead cost a new server process and every statement prepared again (issue 14: each
/// `wrk` run's end dropped up to 16 connections; the next run's first requests waited for new
/// ones, a p99 of 20–90 ms on PostgreSQL where the rest stayed under 10).
pub(crate) struct Reading {
    reader: PgReader,
    conn: Option<sqlx::PgConnection>,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl std::ops::Deref for Reading {
    type Target = sqlx::PgConnection;
    fn deref(&self) -> &sqlx::PgConnection {
        self.conn
            .as_ref()
            .expect("a read's connection until it ends")
    }
}

impl std::ops::DerefMut for Reading {
    fn deref_mut(&mut self) -> &mut sqlx::PgConnection {
        self.conn
            .as_mut()
            .expect("a read's connection until it ends")
    }
}

impl Reading {
    /// The read succeeded: its connection is kept for the next.
    pub(crate) fn give_back(&mut self) {
        if let Some(c) = self.conn.take() {
            self.reader.keep(c);
        }
    }

    /// The read failed: its connection is closed (dropped).
    pub(crate) fn discard(&mut self) {
        self.conn = None;
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        let (Some(mut c), Ok(rt)) = (self.conn.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let reader = self.reader.clone();
        let permit = self.permit.take();
        rt.spawn(async move {
            use sqlx::Connection as _;
            if let Ok(Ok(())) = tokio::time::timeout(ABANDONED_WAIT, c.ping()).await {
                reader.keep(c);
            }
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lookups of one statement share one [`Batch`] (a statement running is seen by the
    /// next lookup); the same text read into other types has its own, made once.
    #[test]
    fn a_statements_lookups_share_one_batch() {
        let reader = PgReader::new(
            sqlx::postgres::PgConnectOptions::new(),
            Arc::new(TokenCache::default()),
        );
        const SQL: &str = "SELECT id FROM t WHERE id = ANY($1)";
        let a = reader.batch::<i64, i64>(SQL);
        let b = reader.batch::<i64, i64>(&String::from(SQL).leak()[..]);
        assert!(Arc::ptr_eq(&a.0, &b.0), "one batch for one statement text");
        let other = reader.batch::<i64, String>(SQL);
        let again = reader.batch::<i64, String>(SQL);
        assert!(Arc::ptr_eq(&other.0, &again.0));
        assert!(!Arc::ptr_eq(&a.0, &reader.batch::<i64, i64>("SELECT 1").0));
        assert_eq!(reader.0.batches.lock().unwrap().len(), 3, "made once each");
    }
}
