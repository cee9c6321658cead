//! Failed sign-ins per (name typed, client address). A lock applies to that pair only: a
//! stranger guessing from elsewhere cannot lock the owner out, and names that do not exist are
//! counted exactly like names that do, so the answers do not tell them apart.

use sqlx::FromRow;

use crate::{Db, Result, Tx, now_us, on_pool, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Throttle {
    pub failures: i32,
    pub locked_until_us: Option<i64>,
}

/// The failures counted for this pair, if any.
pub async fn get(db: &Db, username: &str, address: &str) -> Result<Option<Throttle>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Throttle>(
        "SELECT failures, locked_until_us FROM login_throttle WHERE username = $1 AND address = $2")
        .bind(username)
        .bind(address)
        .fetch_optional(p)
        .await)?)
}

/// Counts one more failure for the pair and returns the count; `lock` decides from the count
/// until when the pair is locked (`None`: not locked).
pub async fn record_failure(
    tx: &mut Tx,
    username: &str,
    address: &str,
    lock: impl FnOnce(i32) -> Option<i64>,
) -> Result<(i32, Option<i64>)> {
    let now = now_us();
    let failures = on_tx!(tx, c => sqlx::query_scalar::<_, i32>(
        "INSERT INTO login_throttle (username, address, failures, updated_us) VALUES ($1, $2, 1, $3)
         ON CONFLICT (username, address) DO UPDATE SET failures = login_throttle.failures + 1, updated_us = $3
         RETURNING failures")
        .bind(username)
        .bind(address)
        .bind(now)
        .fetch_one(c)
        .await)?;
    let until = lock(failures);
    if until.is_some() {
        on_tx!(tx, c => sqlx::query(
            "UPDATE login_throttle SET locked_until_us = $3 WHERE username = $1 AND address = $2")
            .bind(username)
            .bind(address)
            .bind(until)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok((failures, until))
}

/// A successful sign-in from this address forgets its failures.
pub async fn clear(tx: &mut Tx, username: &str, address: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM login_throttle WHERE username = $1 AND address = $2")
        .bind(username)
        .bind(address)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// An administrator's unlock (or a password reset): forgets the name's failures from every
/// address.
pub async fn clear_all(tx: &mut Tx, username: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM login_throttle WHERE username = $1")
        .bind(username)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Names locked now from at least one address, with the number of such addresses.
pub async fn locked_names(db: &Db) -> Result<Vec<(String, i64)>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, (String, i64)>(
        "SELECT username, COUNT(*) FROM login_throttle WHERE locked_until_us > $1 GROUP BY username")
        .bind(now_us())
        .fetch_all(p)
        .await)?)
}

/// Forgets pairs whose last failure is older than `before_us` and that are not locked.
pub async fn delete_stale(db: &Db, before_us: i64) -> Result<u64> {
    Ok(on_pool!(db, p => sqlx::query(
        "DELETE FROM login_throttle WHERE updated_us < $1 AND (locked_until_us IS NULL OR locked_until_us < $2)")
        .bind(before_us)
        .bind(now_us())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
}
