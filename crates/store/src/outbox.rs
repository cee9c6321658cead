//! Outbox rows and their claiming. Claims are exclusive: on PostgreSQL through
//! `FOR UPDATE SKIP LOCKED`, on SQLite because one writer at a time runs the claiming UPDATE.
//! A claim expires, so a worker that dies mid-send does not strand its messages.

use sqlx::FromRow;

use crate::{Db, Result, Tx, now_us, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Mail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i32,
    /// JSON array of `{name, media_type, content}`.
    pub attachments: String,
}

/// A document attached to a message: text, or binary (a PDF) as base64.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub name: String,
    pub media_type: String,
    pub content: String,
    /// `content` is base64 (standard alphabet) of the bytes.
    #[serde(default)]
    pub base64: bool,
}

/// Queues a message inside the transaction of the change that causes it.
pub async fn enqueue(tx: &mut Tx, recipient: &str, subject: &str, body: &str) -> Result<i64> {
    enqueue_with(tx, recipient, subject, body, &[]).await
}

/// Queues a message with attachments.
pub async fn enqueue_with(
    tx: &mut Tx,
    recipient: &str,
    subject: &str,
    body: &str,
    attachments: &[Attachment],
) -> Result<i64> {
    let now = now_us();
    let files = serde_json::to_string(attachments).unwrap_or_else(|_| "[]".into());
    Ok(on_tx!(tx, c => sqlx::query_scalar::<_, i64>(
        "INSERT INTO outbox (recipient, subject, body, next_attempt_us, created_us, attachments) VALUES ($1, $2, $3, $4, $4, $5) RETURNING id")
        .bind(recipient)
        .bind(subject)
        .bind(body)
        .bind(now)
        .bind(&files)
        .fetch_one(c)
        .await)?)
}

/// Claims up to `limit` due messages for `worker` until `until_us`: those due longest first,
/// read along an index in that order (`outbox_due` on SQLite, `outbox_pending` on PostgreSQL,
/// migration 0044), so that a claim reads the rows it takes however many wait behind them.
pub async fn claim(db: &Db, worker: &str, limit: i64, until_us: i64) -> Result<Vec<Mail>> {
    let now = now_us();
    // One statement for both; PostgreSQL also skips rows another worker holds.
    const CLAIM: &str = "UPDATE outbox SET claimed_by = $1, claimed_until_us = $2
         WHERE id IN (SELECT id FROM outbox
                      WHERE status = 'pending' AND next_attempt_us <= $3
                        AND (claimed_until_us IS NULL OR claimed_until_us < $3)
                      ORDER BY next_attempt_us, id LIMIT $4 LOCKING)
         RETURNING id, recipient, subject, body, attempts, attachments";
    let lock = match db {
        Db::Pg(..) => "FOR UPDATE SKIP LOCKED",
        Db::Sqlite(..) => "",
    };
    let sql = sqlx::AssertSqlSafe(CLAIM.replace("LOCKING", lock));
    Ok(crate::on_pool!(db, p => sqlx::query_as::<_, Mail>(sql)
        .bind(worker)
        .bind(until_us)
        .bind(now)
        .bind(limit)
        .fetch_all(p)
        .await)?)
}

pub async fn mark_sent(tx: &mut Tx, id: i64, message_id: &str) -> Result<()> {
    let now = now_us();
    on_tx!(tx, c => sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_us = $2, message_id = $3, attempts = attempts + 1, claimed_by = NULL, claimed_until_us = NULL WHERE id = $1")
        .bind(id)
        .bind(now)
        .bind(message_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a failed attempt: retried at `next_attempt_us`, or given up (`failed`).
pub async fn mark_failed(
    tx: &mut Tx,
    id: i64,
    error: &str,
    next_attempt_us: Option<i64>,
) -> Result<()> {
    let (status, next) = match next_attempt_us {
        Some(t) => ("pending", t),
        None => ("failed", now_us()),
    };
    on_tx!(tx, c => sqlx::query(
        "UPDATE outbox SET status = $2, next_attempt_us = $3, last_error = $4, attempts = attempts + 1, claimed_by = NULL, claimed_until_us = NULL WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(next)
        .bind(error)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// (status, count) of all messages, for the health page and tests.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>> {
    Ok(
        crate::on_pool!(db, p => sqlx::query_as::<_, (String, i64)>("SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status").fetch_all(p).await)?,
    )
}

/// A message as its recipient's notifications page shows it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Sent {
    pub id: i64,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub created_us: i64,
    /// JSON array of `{name, media_type, content}` (the names are shown).
    pub attachments: String,
}

/// The latest `limit` messages to `email` (any case), newest first.
pub async fn for_recipient(db: &Db, email: &str, limit: i64) -> Result<Vec<Sent>> {
    Ok(crate::on_pool!(db, p => sqlx::query_as::<_, Sent>(
        "SELECT id, subject, body, status, created_us, attachments FROM outbox
         WHERE lower(recipient) = lower($1) ORDER BY id DESC LIMIT $2")
        .bind(email)
        .bind(limit)
        .fetch_all(p)
        .await)?)
}
