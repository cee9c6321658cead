//! Announcements (公告) of issued certificates.

use sqlx::FromRow;

use crate::{Db, Result, Tx, now_us, on_pool, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Announcement {
    pub id: i64,
    pub batch_id: i64,
    /// JSON: the certificates as announced.
    pub items: String,
    pub drafted_by: Option<i64>,
    pub approved_by: Option<i64>,
    /// ISO date; `None` while a draft.
    pub published_on: Option<String>,
    pub created_us: i64,
}

const COLS: &str = "id, batch_id, items, drafted_by, approved_by, published_on, created_us";

/// Drafts the announcement of a batch (once: a repeat returns the existing one).
pub async fn draft(tx: &mut Tx, batch_id: i64, items: &str, by: Option<i64>) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO announcement (batch_id, items, drafted_by, created_us) VALUES ($1, $2, $3, $4)
         ON CONFLICT (batch_id) DO NOTHING")
        .bind(batch_id)
        .bind(items)
        .bind(by)
        .bind(now_us())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Announcement>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLS} FROM announcement WHERE id = $1"));
    Ok(on_pool!(db, p => sqlx::query_as::<_, Announcement>(sql).bind(id).fetch_optional(p).await)?)
}

/// Publishes a draft: true when it was a draft (a second approval changes nothing).
pub async fn publish(tx: &mut Tx, id: i64, by: i64, on: &str) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE announcement SET approved_by = $2, published_on = $3 WHERE id = $1 AND published_on IS NULL")
        .bind(id)
        .bind(by)
        .bind(on)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Published announcements, newest first; with `drafts`, the drafts first.
pub async fn list(db: &Db, drafts: bool, limit: i64) -> Result<Vec<Announcement>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM announcement WHERE published_on IS NOT NULL OR $1
         ORDER BY CASE WHEN published_on IS NULL THEN 0 ELSE 1 END, published_on DESC, id DESC LIMIT $2"
    ));
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Announcement>(sql).bind(drafts).bind(limit).fetch_all(p).await)?,
    )
}
