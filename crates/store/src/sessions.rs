//! Sessions and API tokens, kept in the database so that any number of stateless servers
//! serve the same users. Only an SM3 hash of each token is stored: a database
//! dump does not yield usable cookies.

use std::sync::LazyLock;

use sm3::{Digest, Sm3};
use sqlx::FromRow;

use crate::users::User;
use crate::{Db, Result, Tx, now_us, on_pool, on_tx};

/// The stored form of a bearer secret.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sm3::digest(token.as_bytes()))
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

crate::row! {
/// A live session or API token together with its user: one query per authenticated request.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TokenUser {
    #[sqlx(flatten)]
    pub user: User,
    /// The session's CSRF token (none for API tokens).
    pub csrf_token: Option<String>,
    pub expires_us: i64,
    /// When an API token was last used (none for sessions).
    pub last_used_us: Option<i64>,
    /// When the session or API token was made (a session's absolute lifetime counts from it).
    pub token_created_us: i64,
    /// Whether the token is an API token (else a session's).
    pub api_token: bool,
}
}

fn user_columns() -> String {
    crate::users::COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The live session whose token hashes to `$1`, as a [`TokenUser`] query without its `SELECT`:
/// not idle past its expiry (`$2`, now), begun after `$3` (the absolute lifetime).
static LIVE_SESSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{}, s.csrf_token, s.expires_us, CAST(NULL AS BIGINT) AS last_used_us,
         s.created_us AS token_created_us, FALSE AS api_token
         FROM session s JOIN app_user u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_us > $2 AND s.created_us > $3",
        user_columns()
    )
});

/// The live API token whose hash is `$1` (not expired at `$2`, now), like [`LIVE_SESSION`].
static LIVE_API_TOKEN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{}, CAST(NULL AS TEXT) AS csrf_token, a.expires_us, a.last_used_us,
         a.created_us AS token_created_us, TRUE AS api_token
         FROM api_token a JOIN app_user u ON u.id = a.user_id
         WHERE a.token_hash = $1 AND a.expires_us > $2",
        user_columns()
    )
});

/// The live session query whole (a cookie's or a bearer token's).
static SESSION: LazyLock<String> = LazyLock::new(|| format!("SELECT {}", *LIVE_SESSION));

/// The values of [`LIVE_SESSION`] and [`LIVE_API_TOKEN`].
fn live_args(hash: &str, created_after_us: i64) -> [crate::read::Arg<'_>; 3] {
    [hash.into(), now_us().into(), created_after_us.into()]
}

/// How an API token begins (issue 14): a bearer token with it is looked up among the API
/// tokens alone, one without it among the sessions first. The rest is 64 hex digits, like a
/// session's token. (Also what tells a leaked token in a log or a repository for what it is.)
pub const API_TOKEN_PREFIX: &str = "zzt_";

/// The live API token or session a bearer token names, with its user (issue 14: one indexed
/// lookup in one table for the common case). A token that begins with [`API_TOKEN_PREFIX`] is
/// an API token's; any other is looked up among the sessions, and where none has it, among the
/// API tokens (those issued before API tokens had the prefix). A session must have been begun
/// after `created_after_us` (its absolute lifetime).
pub async fn bearer_user(db: &Db, token: &str, created_after_us: i64) -> Result<Option<TokenUser>> {
    live_token(db, token, created_after_us, false).await
}

/// The live session of a cookie token, with its user: not idle past its expiry, and begun
/// after `created_after_us` (the absolute lifetime).
pub async fn session_user(
    db: &Db,
    token: &str,
    created_after_us: i64,
) -> Result<Option<TokenUser>> {
    live_token(db, token, created_after_us, true).await
}

/// [`bearer_user`], or with `sessions_only` [`session_user`]: a token found live is kept for a
/// moment ([`crate::token_cache`]) and taken from there while it would still be found.
async fn live_token(
    db: &Db,
    token: &str,
    created_after_us: i64,
    sessions_only: bool,
) -> Result<Option<TokenUser>> {
    static API_TOKEN: LazyLock<String> = LazyLock::new(|| format!("SELECT {}", *LIVE_API_TOKEN));
    let hash = token_hash(token);
    let tokens = db.tokens();
    if let Some(u) = tokens.live(&hash, now_us(), created_after_us, sessions_only) {
        return Ok(Some(u));
    }
    let generation = tokens.generation();
    let args = live_args(&hash, created_after_us);
    let mut found: Option<TokenUser> = None;
    if sessions_only || !token.starts_with(API_TOKEN_PREFIX) {
        found = db.fetch_optional(&SESSION, &args).await?;
    }
    if found.is_none() && !sessions_only {
        // The API token query has two values; the third (a session's lifetime) is not bound.
        found = db.fetch_optional(&API_TOKEN, &args[..2]).await?;
    }
    if let Some(u) = &found {
        tokens.keep(hash, u.clone(), generation);
    }
    Ok(found)
}

/// Slides the idle expiry forward.
pub async fn touch(db: &Db, token: &str, expires_us: i64) -> Result<()> {
    on_pool!(db, p => sqlx::query("UPDATE session SET expires_us = $2 WHERE token_hash = $1")
        .bind(token_hash(token))
        .bind(expires_us)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    db.tokens().changed();
    Ok(())
}

/// Ends the session or API token with this token (signing out with either).
pub async fn delete(tx: &mut Tx, token: &str) -> Result<()> {
    let h = token_hash(token);
    on_tx!(tx, c => sqlx::query("DELETE FROM session WHERE token_hash = $1")
        .bind(&h)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("DELETE FROM api_token WHERE token_hash = $1")
        .bind(&h)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Ends every session and API token of a user (password change or reset, disabling), but the
/// session `keep` when given (the one that changed its own password).
pub async fn delete_for_user(tx: &mut Tx, user_id: i64, keep: Option<&str>) -> Result<()> {
    let keep = keep.map(token_hash).unwrap_or_default();
    on_tx!(tx, c => sqlx::query("DELETE FROM session WHERE user_id = $1 AND token_hash <> $2")
        .bind(user_id)
        .bind(&keep)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("DELETE FROM api_token WHERE user_id = $1")
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
    db.tokens().changed();
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

/// An API token as its owner sees it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub label: String,
    pub created_us: i64,
    pub expires_us: i64,
    pub last_used_us: Option<i64>,
}

/// A user's live API tokens, newest first.
pub async fn api_tokens_of(db: &Db, user_id: i64) -> Result<Vec<ApiToken>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, ApiToken>(
        "SELECT id, label, created_us, expires_us, last_used_us FROM api_token
         WHERE user_id = $1 AND expires_us > $2 ORDER BY id DESC")
        .bind(user_id)
        .bind(now_us())
        .fetch_all(p)
        .await)?)
}

/// Revokes one of a user's API tokens; the label of the revoked token, `None` when the user
/// has no token with that id.
pub async fn revoke_api_token(tx: &mut Tx, user_id: i64, id: i64) -> Result<Option<String>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar::<_, String>(
        "DELETE FROM api_token WHERE user_id = $1 AND id = $2 RETURNING label")
        .bind(user_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// Notes that an API token was used now.
pub async fn touch_api_token(db: &Db, token: &str) -> Result<()> {
    on_pool!(db, p => sqlx::query("UPDATE api_token SET last_used_us = $2 WHERE token_hash = $1")
        .bind(token_hash(token))
        .bind(now_us())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    db.tokens().changed();
    Ok(())
}
