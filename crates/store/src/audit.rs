//! The audit chain (DESIGN.md §4): every state change writes, in its own transaction, an
//! append-only event whose hash is SM3(previous hash ‖ "\n" ‖ canonical event). There is no
//! function here that updates or deletes an event, and the database rejects both (triggers).

use sm3::{Digest, Sm3};
use sqlx::FromRow;

use crate::{Db, Result, StoreError, Tx, now_us, on_pool, on_tx};

/// The hash before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, by whom, to what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub actor_id: Option<i64>,
    /// A readable actor: a username, or `system`.
    pub actor: String,
    /// A dotted action name, e.g. `user.create`.
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// Before/after summary as JSON.
    pub summary: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Event {
    pub seq: i64,
    pub at_us: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub summary: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The canonical bytes an event's hash covers: the compact JSON array
/// `[seq, at_us, actor_id, actor, action, object_type, object_id, summary]`, serialised from
/// borrowed fields (no intermediate JSON value: the chain's verify writes a million of them).
fn write_canonical(w: &mut impl std::io::Write, seq: i64, at_us: i64, e: &NewEventRef<'_>) {
    let fields = (
        seq,
        at_us,
        e.actor_id,
        e.actor,
        e.action,
        e.object_type,
        e.object_id,
        e.summary,
    );
    serde_json::to_writer(w, &fields).expect("a hash accepts every byte");
}

struct NewEventRef<'a> {
    actor_id: Option<i64>,
    actor: &'a str,
    action: &'a str,
    object_type: &'a str,
    object_id: &'a str,
    summary: &'a str,
}

/// SM3 over the previous hash and the canonical event, as lower-case hex.
fn chain_hash(prev_hash: &str, seq: i64, at_us: i64, e: &NewEventRef<'_>) -> String {
    let mut canonical = Vec::with_capacity(256);
    write_canonical(&mut canonical, seq, at_us, e);
    String::from_utf8(hex_digest(prev_hash.as_bytes(), &canonical).to_vec()).expect("hex")
}

/// SM3 over `prev_hash`, a newline and the canonical bytes, as lower-case hex digits: the one
/// hash of the chain, for appending and for verifying.
fn hex_digest(prev_hash: &[u8], canonical: &[u8]) -> [u8; 64] {
    let mut h = Sm3::new();
    h.update(prev_hash);
    h.update(b"\n");
    h.update(canonical);
    let mut hex = [0u8; 64];
    hex::encode_to_slice(h.finalize(), &mut hex).expect("64 hex digits");
    hex
}

impl Event {
    /// The fields the hash covers, borrowed.
    fn as_ref(&self) -> NewEventRef<'_> {
        NewEventRef {
            actor_id: self.actor_id,
            actor: &self.actor,
            action: &self.action,
            object_type: &self.object_type,
            object_id: &self.object_id,
            summary: &self.summary,
        }
    }
}

#[derive(FromRow)]
struct Head {
    seq: i64,
    hash: String,
}

/// Appends an event inside `tx`. Appends are serialised: PostgreSQL locks the table against
/// other appenders (readers are not blocked); SQLite transactions already hold the write lock.
pub async fn append(tx: &mut Tx, e: NewEvent) -> Result<Event> {
    let summary = e.summary.to_string();
    if let Tx::Pg(t, _) = tx {
        // Conflicts with itself (appenders queue) but not with readers.
        sqlx::query("LOCK TABLE audit_event IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut **t)
            .await?;
    }
    let head: Option<Head> = on_tx!(tx, c => sqlx::query_as::<_, Head>(
        "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
        .fetch_optional(c)
        .await)?;
    let (seq, prev_hash) = match head {
        Some(h) => (h.seq + 1, h.hash),
        None => (1, GENESIS.to_string()),
    };
    let at_us = now_us();
    let r = NewEventRef {
        actor_id: e.actor_id,
        actor: &e.actor,
        action: &e.action,
        object_type: &e.object_type,
        object_id: &e.object_id,
        summary: &summary,
    };
    let hash = chain_hash(&prev_hash, seq, at_us, &r);
    let event = Event {
        seq,
        at_us,
        actor_id: e.actor_id,
        actor: e.actor,
        action: e.action,
        object_type: e.object_type,
        object_id: e.object_id,
        summary,
        prev_hash,
        hash,
    };
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO audit_event (seq, at_us, actor_id, actor, action, object_type, object_id, summary, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(event.seq)
        .bind(event.at_us)
        .bind(event.actor_id)
        .bind(&event.actor)
        .bind(&event.action)
        .bind(&event.object_type)
        .bind(&event.object_id)
        .bind(&event.summary)
        .bind(&event.prev_hash)
        .bind(&event.hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(event)
}

/// A page of events, newest first.
pub async fn list(db: &Db, before_seq: Option<i64>, limit: i64) -> Result<Vec<Event>> {
    let before = before_seq.unwrap_or(i64::MAX);
    Ok(on_pool!(db, p => sqlx::query_as::<_, Event>(
        "SELECT seq, at_us, actor_id, actor, action, object_type, object_id, summary, prev_hash, hash
         FROM audit_event WHERE seq < $1 ORDER BY seq DESC LIMIT $2")
        .bind(before)
        .bind(limit)
        .fetch_all(p)
        .await)?)
}

/// Which events the audit page shows.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    /// Older than this sequence number (paging back).
    pub before_seq: Option<i64>,
    /// About this object (`case`, `42`).
    pub object: Option<(&'a str, &'a str)>,
    /// By this user (their id).
    pub actor_id: Option<i64>,
    /// This action, or every action of a kind when it ends with `.` (`case.`).
    pub action: Option<&'a str>,
    /// At or after / before these instants (µs).
    pub from_us: Option<i64>,
    pub until_us: Option<i64>,
}

/// The newest `limit` events the filter selects, newest first.
pub async fn list_filtered(db: &Db, f: &Filter<'_>, limit: i64) -> Result<Vec<Event>> {
    let mut conds = vec!["seq < $1".to_string()];
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    if f.object.is_some() {
        let (a, b) = (next(), next());
        conds.push(format!("object_type = ${a} AND object_id = ${b}"));
    }
    if f.actor_id.is_some() {
        conds.push(format!("actor_id = ${}", next()));
    }
    let prefix = f.action.filter(|a| a.ends_with('.'));
    if let Some(a) = f.action {
        if prefix.is_some() {
            conds.push(format!("substr(action, 1, {}) = ${}", a.len(), next()));
        } else {
            conds.push(format!("action = ${}", next()));
        }
    }
    if f.from_us.is_some() {
        conds.push(format!("at_us >= ${}", next()));
    }
    if f.until_us.is_some() {
        conds.push(format!("at_us < ${}", next()));
    }
    let limit_at = next();
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT seq, at_us, actor_id, actor, action, object_type, object_id, summary, prev_hash, hash
         FROM audit_event WHERE {} ORDER BY seq DESC LIMIT ${limit_at}",
        conds.join(" AND ")
    ));
    Ok(on_pool!(db, p => {
        let mut q = sqlx::query_as::<_, Event>(sql).bind(f.before_seq.unwrap_or(i64::MAX));
        if let Some((t, id)) = f.object {
            q = q.bind(t).bind(id);
        }
        if let Some(x) = f.actor_id {
            q = q.bind(x);
        }
        if let Some(a) = f.action {
            q = q.bind(a);
        }
        if let Some(x) = f.from_us {
            q = q.bind(x);
        }
        if let Some(x) = f.until_us {
            q = q.bind(x);
        }
        q.bind(limit).fetch_all(p).await
    })?)
}

/// The events about several objects of one type (e.g. the batches on a page), oldest first.
pub async fn for_objects(db: &Db, object_type: &str, ids: &[String]) -> Result<Vec<Event>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT seq, at_us, actor_id, actor, action, object_type, object_id, summary, prev_hash, hash
         FROM audit_event WHERE object_type = $1 AND object_id IN ({}) ORDER BY seq",
        crate::read::marks(2, ids.len())
    ));
    Ok(on_pool!(db, p => {
        let mut q = sqlx::query_as::<_, Event>(sql).bind(object_type);
        for id in ids {
            q = q.bind(id.as_str());
        }
        q.fetch_all(p).await
    })?)
}

/// The events about one object (e.g. `case`, `42`), oldest first: an archival package
/// carries them with their hashes.
pub async fn for_object(db: &Db, object_type: &str, object_id: &str) -> Result<Vec<Event>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Event>(
        "SELECT seq, at_us, actor_id, actor, action, object_type, object_id, summary, prev_hash, hash
         FROM audit_event WHERE object_type = $1 AND object_id = $2 ORDER BY seq")
        .bind(object_type)
        .bind(object_id)
        .fetch_all(p)
        .await)?)
}

/// The hash an event must carry: SM3 over its previous hash and its canonical bytes. An
/// event taken out of the chain (an archival package) is checked with this.
pub fn event_hash(e: &Event) -> String {
    chain_hash(&e.prev_hash, e.seq, e.at_us, &e.as_ref())
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Events checked.
    pub events: i64,
    /// The head hash, when the chain is intact and non-empty.
    pub head: Option<String>,
    /// The first break: the sequence number and what is wrong.
    pub first_break: Option<(i64, String)>,
    /// The bytes hashed (each intact event's previous hash, newline and canonical record).
    pub bytes: u64,
}

/// The chain's check, one event after another: each must follow the last in sequence, name
/// its hash, and hash to what it stores.
struct Checker {
    expected_seq: i64,
    /// The previous event's hash as lower-case hex.
    prev: [u8; 64],
    checked: i64,
    bytes: u64,
}

impl Checker {
    fn new() -> Checker {
        let mut prev = [0u8; 64];
        prev.copy_from_slice(GENESIS.as_bytes());
        Checker {
            expected_seq: 1,
            prev,
            checked: 0,
            bytes: 0,
        }
    }

    fn prev(&self) -> &str {
        std::str::from_utf8(&self.prev).expect("hex")
    }

    /// The break, if this event (as its stored hashes and canonical bytes) breaks the chain.
    fn check_canonical(
        &mut self,
        seq: i64,
        prev_hash: &[u8],
        hash: &[u8],
        canonical: &[u8],
    ) -> Option<(i64, String)> {
        if seq != self.expected_seq {
            return Some((
                seq,
                format!("expected event {}, found {}", self.expected_seq, seq),
            ));
        }
        if prev_hash != self.prev {
            return Some((
                seq,
                format!(
                    "prev_hash {} does not match the previous event's hash {}",
                    String::from_utf8_lossy(prev_hash),
                    self.prev()
                ),
            ));
        }
        let hex = hex_digest(&self.prev, canonical);
        if hash != hex {
            return Some((
                seq,
                format!(
                    "content does not match its hash (recomputed {}, stored {})",
                    std::str::from_utf8(&hex).expect("hex"),
                    String::from_utf8_lossy(hash)
                ),
            ));
        }
        self.prev = hex;
        self.bytes += (self.prev.len() + 1 + canonical.len()) as u64;
        self.expected_seq += 1;
        self.checked += 1;
        None
    }

    fn result(self, first_break: Option<(i64, String)>) -> Verification {
        Verification {
            events: self.checked,
            head: (first_break.is_none() && self.checked > 0).then(|| self.prev().to_string()),
            first_break,
            bytes: self.bytes,
        }
    }
}

/// Events read on one thread for the other to hash: their canonical bytes, each after its
/// stored previous hash and hash, in one buffer.
#[derive(Default)]
struct Batch {
    events: Vec<Spans>,
    bytes: Vec<u8>,
}

struct Spans {
    seq: i64,
    prev_len: usize,
    hash_len: usize,
    canonical_len: usize,
}

const EVENTS: &str =
    "SELECT seq, at_us, actor_id, actor, action, object_type, object_id, summary, prev_hash, hash
     FROM audit_event WHERE seq >= $1 ORDER BY seq";

/// Recomputes every hash from the genesis and reports the first break. SQLite: one pass over
/// the table on a read-only connection, each event hashed from the row as it lies (no copy),
/// on a blocking thread. PostgreSQL: in pages of 5 000 by sequence number. (Issue 14: a
/// million events in about the time `openssl dgst -sm3` takes for their bytes, twice.)
pub async fn verify(db: &Db) -> Result<Verification> {
    let mut c = Checker::new();
    match db {
        Db::Sqlite(_, reader) => {
            // Two threads: one reads the rows and writes each event's canonical bytes into
            // batches, the other hashes them in order — the hashing, not the reading, sets the
            // pace.
            let reader = reader.clone();
            let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
            let hasher = tokio::task::spawn_blocking(move || {
                for batch in rx {
                    let mut at = 0;
                    for ev in &batch.events {
                        let prev = &batch.bytes[at..at + ev.prev_len];
                        at += ev.prev_len;
                        let hash = &batch.bytes[at..at + ev.hash_len];
                        at += ev.hash_len;
                        let canonical = &batch.bytes[at..at + ev.canonical_len];
                        at += ev.canonical_len;
                        if let Some(b) = c.check_canonical(ev.seq, prev, hash, canonical) {
                            return c.result(Some(b));
                        }
                    }
                }
                c.result(None)
            });
            let read = tokio::task::spawn_blocking(move || {
                reader.with(|conn| {
                    let mut st = conn.prepare(EVENTS)?;
                    let mut rows = st.query([1i64])?;
                    let mut batch = Batch::default();
                    while let Some(r) = rows.next()? {
                        let text = |i: usize| -> rusqlite::Result<&str> {
                            r.get_ref(i)?.as_str().map_err(Into::into)
                        };
                        let seq: i64 = r.get(0)?;
                        let event = NewEventRef {
                            actor_id: r.get(2)?,
                            actor: text(3)?,
                            action: text(4)?,
                            object_type: text(5)?,
                            object_id: text(6)?,
                            summary: text(7)?,
                        };
                        let (prev, hash) = (text(8)?.as_bytes(), text(9)?.as_bytes());
                        batch.bytes.extend_from_slice(prev);
                        batch.bytes.extend_from_slice(hash);
                        let before = batch.bytes.len();
                        write_canonical(&mut batch.bytes, seq, r.get(1)?, &event);
                        batch.events.push(Spans {
                            seq,
                            prev_len: prev.len(),
                            hash_len: hash.len(),
                            canonical_len: batch.bytes.len() - before,
                        });
                        if batch.events.len() == 4096 {
                            // The hasher stopped at a break: nothing more to read.
                            if tx.send(std::mem::take(&mut batch)).is_err() {
                                return Ok(());
                            }
                        }
                    }
                    let _ = tx.send(batch);
                    Ok(())
                })
            });
            let read = read.await.map_err(|e| StoreError::Read(e.to_string()));
            let checked = hasher.await.map_err(|e| StoreError::Read(e.to_string()))?;
            read??;
            Ok(checked)
        }
        Db::Pg(p, _) => {
            let paged = format!("{EVENTS} LIMIT 5000");
            loop {
                let page: Vec<Event> =
                    sqlx::query_as::<_, Event>(sqlx::AssertSqlSafe(paged.clone()))
                        .bind(c.expected_seq)
                        .fetch_all(p)
                        .await?;
                if page.is_empty() {
                    return Ok(c.result(None));
                }
                let mut canonical = Vec::with_capacity(256);
                for e in &page {
                    canonical.clear();
                    write_canonical(&mut canonical, e.seq, e.at_us, &e.as_ref());
                    let (prev, hash) = (e.prev_hash.as_bytes(), e.hash.as_bytes());
                    if let Some(b) = c.check_canonical(e.seq, prev, hash, &canonical) {
                        return Ok(c.result(Some(b)));
                    }
                }
            }
        }
    }
}

/// The people who acted on an object (its audit events' actors), each once.
pub async fn actors_on(db: &Db, object_type: &str, object_id: &str) -> Result<Vec<i64>> {
    Ok(on_pool!(db, p => sqlx::query_scalar(
        "SELECT DISTINCT actor_id FROM audit_event WHERE object_type = $1 AND object_id = $2 AND actor_id IS NOT NULL")
        .bind(object_type)
        .bind(object_id)
        .fetch_all(p)
        .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_matches_the_standard_test_vector() {
        // GB/T 32905-2016 example 1: SM3("abc").
        assert_eq!(
            hex::encode(Sm3::digest(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    /// The canonical bytes are serialised from borrowed fields now (issue 14); they must be the
    /// bytes the chain was built with — `serde_json::json!([...]).to_string()` — or every
    /// existing chain would stop verifying.
    #[test]
    fn the_canonical_bytes_are_the_chains_json_array() {
        for (actor_id, text) in [
            (None, "plain"),
            (Some(42), "引号\"与\\反斜杠\n换行\u{1}控制字符 \u{1F600}"),
            (Some(-1), ""),
        ] {
            let summary = serde_json::json!({"名称": text, "n": [1, 2]}).to_string();
            let e = NewEventRef {
                actor_id,
                actor: text,
                action: "case.accept",
                object_type: "case",
                object_id: "7",
                summary: &summary,
            };
            let mut written = Vec::new();
            write_canonical(&mut written, 9, 1_700_000_000_000_000, &e);
            let before = serde_json::json!([
                9,
                1_700_000_000_000_000i64,
                actor_id,
                text,
                "case.accept",
                "case",
                "7",
                summary
            ])
            .to_string();
            assert_eq!(String::from_utf8(written).unwrap(), before);
        }
    }
}
