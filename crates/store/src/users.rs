//! User accounts. Passwords are stored as argon2id PHC strings (hashed in `zizhi-app`).

use std::sync::{Arc, LazyLock};

use sqlx::FromRow;

use crate::{Db, Result, StoreError, Tx, now_us, on_pool, on_tx};

pub(crate) const COLUMNS: &str = "id, username, display_name, email, role, organization_id, password_hash, totp_secret, must_change_password, failed_logins, locked_until_us, disabled, created_us, sign_in, email_confirmed";

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role: String,
    pub organization_id: Option<i64>,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub must_change_password: bool,
    pub failed_logins: i32,
    pub locked_until_us: Option<i64>,
    pub disabled: bool,
    pub created_us: i64,
    /// `password` or `oidc` (single sign-on only, no local password).
    pub sign_in: String,
    /// The e-mail address was confirmed through a link (self-registered applicants; accounts
    /// the centre opens count as confirmed).
    pub email_confirmed: bool,
}
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    pub organization_id: Option<i64>,
    pub password_hash: &'a str,
    pub must_change_password: bool,
    /// `password` or `oidc`.
    pub sign_in: &'a str,
    /// Whether the address counts as confirmed (false for a self-registered applicant).
    pub email_confirmed: bool,
}

pub async fn insert(tx: &mut Tx, u: &NewUser<'_>) -> Result<User> {
    let now = now_us();
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO app_user (username, display_name, email, role, organization_id, password_hash, must_change_password, created_us, sign_in, email_confirmed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {COLUMNS}"
    ));
    on_tx!(tx, c => sqlx::query_as::<_, User>(sql)
        .bind(u.username)
        .bind(u.display_name)
        .bind(u.email)
        .bind(u.role)
        .bind(u.organization_id)
        .bind(u.password_hash)
        .bind(u.must_change_password)
        .bind(now)
        .bind(u.sign_in)
        .bind(u.email_confirmed)
        .fetch_one(c)
        .await)
    .map_err(|e| StoreError::conflict_as(e, "username"))
}

pub async fn by_username(db: &Db, username: &str) -> Result<Option<User>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM app_user WHERE username = $1"
    ));
    Ok(on_pool!(db, p => sqlx::query_as::<_, User>(sql).bind(username).fetch_optional(p).await)?)
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<User>> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {COLUMNS} FROM app_user WHERE id = $1"));
    db.fetch_optional(&SQL, &[id.into()]).await
}

pub async fn list(db: &Db) -> Result<Vec<User>> {
    let sql = format!("SELECT {COLUMNS} FROM app_user ORDER BY id");
    db.fetch_all(&sql, &[]).await
}

crate::row! {
/// A member of the staff directory: who, by name and role.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct StaffMember {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
}
}

/// The centre's own accounts (no applicant organisation) that are not disabled, by id: the
/// staff directory a case page and the case list read, without reading every applicant's
/// account, nor the accounts' secrets (their password hashes and second factors).
///
/// Kept like a live token (issue 14: a round trip of every list and case page on PostgreSQL,
/// for a directory that rarely changes): a change committed by this process shows on the next
/// read; one by another process (a second server, SQL by hand) within
/// [`crate::token_cache::KEEP`].
pub async fn active_staff(db: &Db) -> Result<Arc<Vec<StaffMember>>> {
    let cache = db.tokens();
    let generation = cache.generation();
    if let Some(staff) = cache.staff.get(generation) {
        return Ok(staff);
    }
    let staff: Arc<Vec<StaffMember>> = Arc::new(
        db.fetch_all(
            "SELECT id, username, display_name, role FROM app_user
             WHERE organization_id IS NULL AND NOT disabled ORDER BY id",
            &[],
        )
        .await?,
    );
    cache.staff.keep(generation, Arc::clone(&staff));
    Ok(staff)
}

pub async fn count(db: &Db) -> Result<i64> {
    Ok(
        on_pool!(db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM app_user").fetch_one(p).await)?,
    )
}

/// Records a failed sign-in; locks the account until `lock_until_us` when given.
pub async fn record_failure(tx: &mut Tx, id: i64, lock_until_us: Option<i64>) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE app_user SET failed_logins = failed_logins + 1, locked_until_us = COALESCE($2, locked_until_us) WHERE id = $1")
        .bind(id)
        .bind(lock_until_us)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Uses up a second-factor time step: true when it is later than the last one used (a code is
/// accepted once).
pub async fn claim_totp_step(tx: &mut Tx, id: i64, step: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE app_user SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)")
        .bind(id)
        .bind(step)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn record_success(tx: &mut Tx, id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE app_user SET failed_logins = 0, locked_until_us = NULL WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_password(tx: &mut Tx, id: i64, hash: &str, must_change: bool) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE app_user SET password_hash = $2, must_change_password = $3, failed_logins = 0, locked_until_us = NULL WHERE id = $1")
        .bind(id)
        .bind(hash)
        .bind(must_change)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_totp(tx: &mut Tx, id: i64, secret: Option<&str>) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE app_user SET totp_secret = $2 WHERE id = $1")
        .bind(id)
        .bind(secret)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_disabled(tx: &mut Tx, id: i64, disabled: bool) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE app_user SET disabled = $2 WHERE id = $1")
        .bind(id)
        .bind(disabled)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// E-mail addresses of an organisation's active applicant users.
pub async fn emails_of_organization(db: &Db, organization_id: i64) -> Result<Vec<String>> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, String>(
        "SELECT email FROM app_user WHERE organization_id = $1 AND disabled = $2 ORDER BY id")
        .bind(organization_id)
        .bind(false)
        .fetch_all(p)
        .await)?)
}

/// Replaces a user's recovery codes with these (their SM3 hashes).
pub async fn replace_recovery_codes(tx: &mut Tx, id: i64, code_hashes: &[String]) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM recovery_code WHERE user_id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    let now = now_us();
    for h in code_hashes {
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO recovery_code (user_id, code_hash, created_us) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(h)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Uses up an unused recovery code: true when there was one with this hash.
pub async fn use_recovery_code(tx: &mut Tx, id: i64, code_hash: &str) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE recovery_code SET used_us = $3 WHERE user_id = $1 AND code_hash = $2 AND used_us IS NULL")
        .bind(id)
        .bind(code_hash)
        .bind(now_us())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// How many unused recovery codes a user has left.
pub async fn recovery_codes_left(db: &Db, id: i64) -> Result<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM recovery_code WHERE user_id = $1 AND used_us IS NULL")
        .bind(id)
        .fetch_one(p)
        .await)?)
}

/// The user linked to an identity at an OpenID Connect provider.
pub async fn by_oidc(db: &Db, issuer: &str, subject: &str) -> Result<Option<User>> {
    let cols = COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {cols} FROM oidc_identity o JOIN app_user u ON u.id = o.user_id
         WHERE o.issuer = $1 AND o.subject = $2"
    ));
    Ok(on_pool!(db, p => sqlx::query_as::<_, User>(sql)
        .bind(issuer)
        .bind(subject)
        .fetch_optional(p)
        .await)?)
}

/// Links an identity at an OpenID Connect provider to a user.
pub async fn link_oidc(tx: &mut Tx, issuer: &str, subject: &str, user_id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO oidc_identity (issuer, subject, user_id, created_us) VALUES ($1, $2, $3, $4)")
        .bind(issuer)
        .bind(subject)
        .bind(user_id)
        .bind(now_us())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Updates what the identity provider says about a single sign-on user.
pub async fn set_profile(
    tx: &mut Tx,
    id: i64,
    display_name: &str,
    email: &str,
    role: &str,
) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE app_user SET display_name = $2, email = $3, role = $4 WHERE id = $1")
        .bind(id)
        .bind(display_name)
        .bind(email)
        .bind(role)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The users with this e-mail address (any case).
pub async fn by_email(db: &Db, email: &str) -> Result<Vec<User>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM app_user WHERE lower(email) = lower($1) ORDER BY id")))
        .bind(email)
        .fetch_all(p)
        .await)?,
    )
}

/// The two kinds of single-use links sent by e-mail, each in its own table so that one can
/// never serve as the other. Only the SM3 hash of a link's token is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// 忘记密码: sets a new password.
    PasswordReset,
    /// Confirms a self-registered applicant's e-mail address.
    EmailConfirmation,
}

impl LinkKind {
    fn table(self) -> &'static str {
        match self {
            LinkKind::PasswordReset => "password_reset",
            LinkKind::EmailConfirmation => "email_confirmation",
        }
    }
}

/// A link's record.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Link {
    pub user_id: i64,
    pub expires_us: i64,
    pub used_us: Option<i64>,
}

/// A new link of `kind` for the user; the user's earlier unused links of that kind stop
/// working.
pub async fn insert_link(
    tx: &mut Tx,
    kind: LinkKind,
    token_sm3: &str,
    user_id: i64,
    now: i64,
    expires_us: i64,
) -> Result<()> {
    let table = kind.table();
    let retire = sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET used_us = $1 WHERE user_id = $2 AND used_us IS NULL"
    ));
    on_tx!(tx, c => sqlx::query(retire)
        .bind(now)
        .bind(user_id)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    let insert = sqlx::AssertSqlSafe(format!(
        "INSERT INTO {table} (token_sm3, user_id, created_us, expires_us) VALUES ($1, $2, $3, $4)"
    ));
    on_tx!(tx, c => sqlx::query(insert)
        .bind(token_sm3)
        .bind(user_id)
        .bind(now)
        .bind(expires_us)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The link's record (locked for the transaction on PostgreSQL).
pub async fn link_of(tx: &mut Tx, kind: LinkKind, token_sm3: &str) -> Result<Option<Link>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT user_id, expires_us, used_us FROM {} WHERE token_sm3 = $1{}",
        kind.table(),
        tx.for_update()
    ));
    Ok(on_tx!(tx, c => sqlx::query_as::<_, Link>(sql)
        .bind(token_sm3)
        .fetch_optional(c)
        .await)?)
}

/// The link is used (once).
pub async fn use_link(tx: &mut Tx, kind: LinkKind, token_sm3: &str) -> Result<()> {
    let sql = sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET used_us = $1 WHERE token_sm3 = $2",
        kind.table()
    ));
    on_tx!(tx, c => sqlx::query(sql)
        .bind(now_us())
        .bind(token_sm3)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The address is confirmed.
pub async fn confirm_email(tx: &mut Tx, id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE app_user SET email_confirmed = $2 WHERE id = $1")
        .bind(id)
        .bind(true)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The users of an organisation.
pub async fn of_organization(db: &Db, organization_id: i64) -> Result<Vec<User>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM app_user WHERE organization_id = $1 ORDER BY id"
    ));
    Ok(on_pool!(db, p => sqlx::query_as::<_, User>(sql).bind(organization_id).fetch_all(p).await)?)
}

/// The addresses of the enabled users with `role`.
pub async fn emails_of_role(db: &Db, role: &str) -> Result<Vec<String>> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, String>(
        "SELECT email FROM app_user WHERE role = $1 AND disabled = $2 ORDER BY id")
        .bind(role)
        .bind(false)
        .fetch_all(p)
        .await)?)
}

/// Retires an account whose address was never confirmed (a lapsed self-registration): its
/// links go, it is disabled and its username freed (renamed `lapsed-<id>-<name>`), the row
/// kept so that nothing the audit chain names is reused. Refuses a confirmed account.
pub async fn retire_unconfirmed(tx: &mut Tx, id: i64) -> Result<bool> {
    let confirmed: Option<bool> = on_tx!(tx, c => sqlx::query_scalar::<_, bool>(
        "SELECT email_confirmed FROM app_user WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await)?;
    if confirmed != Some(false) {
        return Ok(false);
    }
    for table in [
        "email_confirmation",
        "password_reset",
        "session",
        "api_token",
    ] {
        let sql = sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE user_id = $1"));
        on_tx!(tx, c => sqlx::query(sql).bind(id).execute(c).await.map(|_| ()))?;
    }
    on_tx!(tx, c => sqlx::query(
        "UPDATE app_user SET disabled = $2, username = 'lapsed-' || id || '-' || username WHERE id = $1")
        .bind(id)
        .bind(true)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(true)
}
