//! Certificate batches, certificates and serial counters.

use sqlx::FromRow;
use zizhi_domain::certificate::BatchStatus;

use crate::{Db, Result, StoreError, Tx, now_us, on_pool, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Batch {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub status: BatchStatus,
    pub created_by: i64,
    pub approved_by: Option<i64>,
    pub created_us: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Certificate {
    pub id: i64,
    pub number: String,
    pub case_id: i64,
    pub organization_id: i64,
    pub holder: String,
    pub uscc: String,
    pub category: String,
    pub level: i32,
    pub issued_on: String,
    pub valid_until: String,
    pub status: String,
}

const CERT: &str = "id, number, case_id, organization_id, holder, uscc, category, level, issued_on, valid_until, status";

pub async fn new_batch(tx: &mut Tx, created_by: i64) -> Result<Batch> {
    let now = now_us();
    Ok(on_tx!(tx, t => sqlx::query_as::<_, Batch>(
        "INSERT INTO certificate_batch (status, created_by, created_us) VALUES ('open', $1, $2) RETURNING id, status, created_by, approved_by, created_us")
        .bind(created_by)
        .bind(now)
        .fetch_one(t)
        .await)?)
}

pub async fn batch_locked(tx: &mut Tx, id: i64) -> Result<Option<Batch>> {
    let lock = if matches!(tx, Tx::Pg(_)) {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT id, status, created_by, approved_by, created_us FROM certificate_batch WHERE id = $1{lock}"
    ));
    Ok(on_tx!(tx, t => sqlx::query_as::<_, Batch>(sql).bind(id).fetch_optional(t).await)?)
}

pub async fn batch(db: &Db, id: i64) -> Result<Option<Batch>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Batch>("SELECT id, status, created_by, approved_by, created_us FROM certificate_batch WHERE id = $1")
        .bind(id)
        .fetch_optional(p)
        .await)?,
    )
}

pub async fn set_batch(tx: &mut Tx, id: i64, status: &str, approved_by: Option<i64>) -> Result<()> {
    on_tx!(tx, t => sqlx::query("UPDATE certificate_batch SET status = $2, approved_by = COALESCE($3, approved_by) WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(approved_by)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Cases in a batch.
pub async fn batch_cases(db: &Db, batch_id: i64) -> Result<Vec<i64>> {
    Ok(
        on_pool!(db, p => sqlx::query_scalar::<_, i64>("SELECT id FROM application_case WHERE batch_id = $1 ORDER BY id")
        .bind(batch_id)
        .fetch_all(p)
        .await)?,
    )
}

/// The next value of a named counter, allocated in the transaction.
pub async fn next_serial(tx: &mut Tx, name: &str) -> Result<i64> {
    Ok(on_tx!(tx, t => sqlx::query_scalar::<_, i64>(
        "INSERT INTO counter (name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET value = counter.value + 1 RETURNING value")
        .bind(name)
        .fetch_one(t)
        .await)?)
}

pub struct NewCertificate<'a> {
    pub number: &'a str,
    pub case_id: i64,
    pub organization_id: i64,
    pub holder: &'a str,
    pub uscc: &'a str,
    pub category: &'a str,
    pub level: i32,
    pub issued_on: &'a str,
    pub valid_until: &'a str,
}

pub async fn insert(tx: &mut Tx, c: &NewCertificate<'_>) -> Result<Certificate> {
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO certificate (number, case_id, organization_id, holder, uscc, category, level, issued_on, valid_until, status, created_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'valid', $10) RETURNING {CERT}"
    ));
    let now = now_us();
    on_tx!(tx, t => sqlx::query_as::<_, Certificate>(sql)
        .bind(c.number)
        .bind(c.case_id)
        .bind(c.organization_id)
        .bind(c.holder)
        .bind(c.uscc)
        .bind(c.category)
        .bind(c.level)
        .bind(c.issued_on)
        .bind(c.valid_until)
        .bind(now)
        .fetch_one(t)
        .await)
    .map_err(|e| StoreError::conflict_as(e, "number"))
}

/// A certificate with its holder organisation's current name, in one query (the public
/// verification page).
pub async fn by_number_with_organization(
    db: &Db,
    number: &str,
) -> Result<Option<(Certificate, String)>> {
    #[derive(FromRow)]
    struct WithOrg {
        #[sqlx(flatten)]
        cert: Certificate,
        org_name: String,
    }
    let cols: String = CERT
        .split(", ")
        .map(|c| format!("c.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {cols}, o.name AS org_name FROM certificate c JOIN organization o ON o.id = c.organization_id WHERE c.number = $1"
    ));
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, WithOrg>(sql).bind(number).fetch_optional(p).await)?
            .map(|w| (w.cert, w.org_name)),
    )
}

/// Sets a certificate's status (`valid`, `suspended`, `revoked`).
pub async fn set_status(tx: &mut Tx, number: &str, status: &str) -> Result<()> {
    on_tx!(tx, t => sqlx::query("UPDATE certificate SET status = $2 WHERE number = $1")
        .bind(number)
        .bind(status)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A certificate of the register by its number.
pub async fn by_number(db: &Db, number: &str) -> Result<Option<Certificate>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {CERT} FROM certificate WHERE number = $1"));
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Certificate>(sql).bind(number).fetch_optional(p).await)?,
    )
}

pub async fn for_case(db: &Db, case_id: i64) -> Result<Option<Certificate>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {CERT} FROM certificate WHERE case_id = $1"));
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Certificate>(sql).bind(case_id).fetch_optional(p).await)?,
    )
}

/// The latest batches, newest first.
pub async fn batches(db: &Db, limit: i64) -> Result<Vec<Batch>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Batch>(
        "SELECT id, status, created_by, approved_by, created_us FROM certificate_batch ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(p)
        .await)?)
}

/// A certificate's signed document.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Seal {
    pub certificate_id: i64,
    pub pdf_sha256: String,
    pub pdf_sm3: String,
    pub record: String,
    pub signature: String,
    pub key_id: String,
    pub sealed_us: i64,
}

/// Keeps a certificate's signed document (once: a repeat is a no-op).
pub async fn insert_seal(tx: &mut Tx, s: &Seal) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO certificate_seal (certificate_id, pdf_sha256, pdf_sm3, record, signature, key_id, sealed_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (certificate_id) DO NOTHING")
        .bind(s.certificate_id)
        .bind(&s.pdf_sha256)
        .bind(&s.pdf_sm3)
        .bind(&s.record)
        .bind(&s.signature)
        .bind(&s.key_id)
        .bind(s.sealed_us)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn seal_of(db: &Db, certificate_id: i64) -> Result<Option<Seal>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Seal>(
        "SELECT certificate_id, pdf_sha256, pdf_sm3, record, signature, key_id, sealed_us
         FROM certificate_seal WHERE certificate_id = $1")
        .bind(certificate_id)
        .fetch_optional(p)
        .await)?)
}

/// Registers a signing key's public half (once).
pub async fn register_key(db: &Db, id: &str, public_pem: &str) -> Result<()> {
    on_pool!(db, p => sqlx::query(
        "INSERT INTO signing_key (id, public_pem, created_us) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
        .bind(id)
        .bind(public_pem)
        .bind(crate::now_us())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Every signing key's public PEM, oldest first.
pub async fn signing_keys(db: &Db) -> Result<Vec<(String, String)>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, (String, String)>(
        "SELECT id, public_pem FROM signing_key ORDER BY created_us, id")
        .fetch_all(p)
        .await)?)
}

/// What the public register is searched by (empty / 0: any).
#[derive(Debug, Clone, Default)]
pub struct RegistryFilter<'a> {
    /// A certificate number or USCC (exact), or part of the holder's name.
    pub q: &'a str,
    pub level: i32,
    /// `valid`, `expired` (valid but past its last day), `suspended` or `revoked`.
    pub status: &'a str,
    pub year: i32,
    /// Today (ISO), for what counts as expired.
    pub today: &'a str,
}

/// A page of the public register, newest first (`limit` rows from `offset`). A text that is a
/// certificate number or USCC is found through their indexes; only otherwise is it looked for
/// in the holders' names.
pub async fn registry(
    db: &Db,
    f: &RegistryFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Certificate>> {
    const EXACT: &str = "(number = $1 OR uscc = $1)";
    if !f.q.is_empty() {
        let exact = registry_query(db, f, EXACT, limit, offset).await?;
        // Past the last page of exact matches there is nothing more (not a name search).
        if !exact.is_empty()
            || (offset > 0 && !registry_query(db, f, EXACT, 1, 0).await?.is_empty())
        {
            return Ok(exact);
        }
        return registry_query(db, f, "holder LIKE $2 ESCAPE '!'", limit, offset).await;
    }
    registry_query(db, f, "$1 = ''", limit, offset).await
}

/// One SQL text per way of matching the text; an unused filter is '' or 0.
async fn registry_query(
    db: &Db,
    f: &RegistryFilter<'_>,
    text_match: &'static str,
    limit: i64,
    offset: i64,
) -> Result<Vec<Certificate>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {CERT} FROM certificate
         WHERE {text_match} AND ($2 = $2)
           AND ($3 = 0 OR level = $3)
           AND ($4 = '' OR (CASE WHEN status = 'valid' AND valid_until < $5 THEN 'expired' ELSE status END) = $4)
           AND ($6 = '' OR issued_on LIKE $6)
         ORDER BY issued_on DESC, id DESC LIMIT $7 OFFSET $8"
    ));
    let like = format!(
        "%{}%",
        f.q.replace('!', "!!").replace('%', "!%").replace('_', "!_")
    );
    let year = if f.year > 0 {
        format!("{:04}-%", f.year)
    } else {
        String::new()
    };
    Ok(on_pool!(db, p => sqlx::query_as::<_, Certificate>(sql)
        .bind(f.q)
        .bind(&like)
        .bind(f.level)
        .bind(f.status)
        .bind(f.today)
        .bind(&year)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await)?)
}
