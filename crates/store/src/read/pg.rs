//! Short reads on PostgreSQL on connections of their own ([`PgReader`], issue 14), each read
//! holding its turn and its connection in a [`Reading`].

use std::sync::{Arc, Mutex};

use super::{Batch, IDLE};
use crate::token_cache::TokenCache;

/// How many reads a reader runs at once on PostgreSQL when the server is elsewhere, each on a
/// connection of its own; more wait for one to end. Without a bound a burst of requests opened
/// a connection each, and past the server's `max_connections` (100 by default) reads failed.
/// With the write pool's 16, one zizhi holds at most 32 connections.
pub const MAX_READING: usize = 16;

/// The most reads at once a setting may ask for (`pg_reads_at_once`).
pub const MAX_READS_AT_ONCE: usize = 64;

/// How many reads run at once when no setting says ([`crate::Db::connect_with`]): with the
/// server on this machine (a Unix socket, `localhost` or a loopback address) four a core of
/// this machine, at least 4 and at most [`MAX_READING`]; with it elsewhere [`MAX_READING`].
///
/// A server on this machine runs its reads on the same cores as zizhi. Reads beyond a few a
/// core do not finish sooner; they wait in the kernel's run queue, where the unlucky ones wait
/// longest, instead of here in order (issue 14). Measured on two cores, wrk with 16
/// connections, five-second rounds alternating between servers on one database (10 000
/// cases, 100 000 certificates):
/// - 16 at once: the case list's pages (page 2, the middle page, HTML) had a p99 of 7.3–21 ms
///   and the register's random pages 7.3–31 ms, single rounds' slowest requests 92–175 ms;
/// - 8: the list 7.2–9.5 ms at 11 % more requests a second than 16, the register's random
///   pages 6.6–8.4 ms at 4 % fewer;
/// - 4: about the same p99 as 8, but the register's random pages, where PostgreSQL does most
///   of the work, 15 % fewer than 16; 2: a third fewer.
///
/// A server elsewhere answers each read a network's round trip later, and more reads at once
/// keep it busy meanwhile.
pub fn default_reads_at_once(options: &sqlx::postgres::PgConnectOptions) -> usize {
    let host = options.get_host();
    let here = options.get_socket().is_some()
        || host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if here {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        (4 * cores).clamp(4, MAX_READING)
    } else {
        MAX_READING
    }
}

/// Runs a short read on a [`PgReader`]'s connection `$c` (a [`Reading`]; the query takes
/// `&mut *$c`), and gives the connection back if it succeeded. A connection the server has
/// closed (see [`closed_by_server`]) fails its query: the query is then run once more on a new
/// connection. A read abandoned midway keeps its connection ([`Reading`]'s drop).
macro_rules! pg_read {
    ($r:expr, $c:ident => $query:expr) => {{
        let mut $c = $r.take().await?;
        let out = match $query.await {
            Err(e) if $crate::read::closed_by_server(&e) => {
                $c.reconnect().await?;
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
    /// One permit per read in progress (`at_once` in all), held by its [`Reading`].
    reading: Arc<tokio::sync::Semaphore>,
    at_once: usize,
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
    /// A reader running at most `at_once` reads at once.
    pub(crate) fn new(
        options: sqlx::postgres::PgConnectOptions,
        tokens: Arc<TokenCache>,
        at_once: usize,
    ) -> PgReader {
        PgReader(Arc::new(PgInner {
            options,
            idle: Mutex::new(Vec::new()),
            closed: std::sync::atomic::AtomicBool::new(false),
            reading: Arc::new(tokio::sync::Semaphore::new(at_once)),
            at_once,
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

    /// How many reads run at once.
    pub(crate) fn at_once(&self) -> usize {
        self.0.at_once
    }

    /// Waits for a turn to read (one of [`PgReader::at_once`]); the turn ends when the permit drops. Like
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

    async fn connect(&self) -> std::result::Result<sqlx::PgConnection, sqlx::Error> {
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

    /// Keeps a connection for the next read (up to twice [`IDLE`], or as many as may read at
    /// once if that is more).
    fn keep(&self, c: sqlx::PgConnection) {
        let mut idle = self.0.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < (IDLE * 2).max(self.0.at_once)
            && !self.0.closed.load(std::sync::atomic::Ordering::SeqCst)
        {
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

    /// The server closed the read's connection: a new one, in the same turn.
    pub(crate) async fn reconnect(&mut self) -> std::result::Result<(), sqlx::Error> {
        self.conn = None;
        self.conn = Some(self.reader.connect().await?);
        Ok(())
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

    /// Without a setting, a server on this machine gets four a core (4 to 16) and one
    /// elsewhere [`MAX_READING`].
    #[test]
    fn reads_at_once_default_to_the_cores_when_the_server_is_here() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let here = (4 * cores).clamp(4, MAX_READING);
        let at =
            |host: &str| default_reads_at_once(&sqlx::postgres::PgConnectOptions::new().host(host));
        for host in [
            "127.0.0.1",
            "127.0.0.2",
            "localhost",
            "LOCALHOST",
            "::1",
            "[::1]",
        ] {
            assert_eq!(at(host), here, "{host}");
        }
        assert_eq!(at("/var/run/postgresql"), here, "a Unix socket's folder");
        let socket = sqlx::postgres::PgConnectOptions::new()
            .host("db.example.org")
            .socket("/var/run/postgresql");
        assert_eq!(default_reads_at_once(&socket), here, "a Unix socket");
        for host in [
            "db.example.org",
            "10.0.0.5",
            "192.168.1.2",
            "::2",
            "localhost.example",
        ] {
            assert_eq!(at(host), MAX_READING, "{host}");
        }
        assert!((4..=MAX_READING).contains(&here));
    }

    /// The lookups of one statement share one [`Batch`] (a statement running is seen by the
    /// next lookup); the same text read into other types has its own, made once.
    #[test]
    fn a_statements_lookups_share_one_batch() {
        let reader = PgReader::new(
            sqlx::postgres::PgConnectOptions::new(),
            Arc::new(TokenCache::default()),
            MAX_READING,
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
