//! Sessions and API tokens, kept in the database so that any number of stateless servers
//! serve the same users. Only an SM3 hash of each token is stored: a database
//! dump does not yield usable cookies.

use sm3::{Digest, Sm3};
use sqlx::FromRow;

use crate::{Db, Result, Tx, now_us, on_pool, on_tx};

/// The stored form of a bearer secret.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sm3::digest(token.as_bytes()))
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Session {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_us: i64,
    pub expires_us: i64,
}

pub async fn insert(
    tx: &mut Tx,
    token: &str,
    user_id: i64,
    csrf: &str,
    expires_us: i64,
) -> Result<()> {
    let now = now_us();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO session (token_hash, user_id, csrf_token, created_us, expires_us) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash(token))
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .bind(expires_us)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The live session for a cookie token, if any.
pub async fn find(db: &Db, token: &str) -> Result<Option<Session>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Session>(
        "SELECT token_hash, user_id, csrf_token, created_us, expires_us FROM session WHERE token_hash = $1 AND expires_us > $2")
        .bind(token_hash(token))
        .bind(now_us())
        .fetch_optional(p)
        .await)?)
}

/// Slides the idle expiry forward.
pub async fn touch(db: &Db, token: &str, expires_us: i64) -> Result<()> {
    on_pool!(db, p => sqlx::query("UPDATE session SET expires_us = $2 WHERE token_hash = $1")
        .bind(token_hash(token))
        .bind(expires_us)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, token: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM session WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Ends every session of a user (password reset, disabling).
pub async fn delete_for_user(tx: &mut Tx, user_id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM session WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_expired(db: &Db) -> Result<u64> {
    let r = on_pool!(db, p => sqlx::query("DELETE FROM session WHERE expires_us <= $1")
        .bind(now_us())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(r)
}

pub async fn insert_api_token(
    tx: &mut Tx,
    token: &str,
    user_id: i64,
    label: &str,
    expires_us: i64,
) -> Result<()> {
    let now = now_us();
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO api_token (token_hash, user_id, label, created_us, expires_us) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash(token))
        .bind(user_id)
        .bind(label)
        .bind(now)
        .bind(expires_us)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The user of a live API token.
pub async fn api_token_user(db: &Db, token: &str) -> Result<Option<i64>> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT user_id FROM api_token WHERE token_hash = $1 AND expires_us > $2")
        .bind(token_hash(token))
        .bind(now_us())
        .fetch_optional(p)
        .await)?)
}
