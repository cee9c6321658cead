//! Certificate batches, certificates and serial counters.

use std::sync::LazyLock;

use sqlx::FromRow;
use zizhi_domain::certificate::BatchStatus;

use crate::read::ByKey;
use crate::{Db, Result, StoreError, Tx, now_us, on_pool, on_tx};

mod registry;
use registry::index_name;
pub use registry::{
    KEPT_ROWS, NameQuery, RegistryFilter, merge_name_index, name_grams, register_version, registry,
};
pub(crate) use registry::{KeptRegistry, index_all_names};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Batch {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub status: BatchStatus,
    pub created_by: i64,
    pub approved_by: Option<i64>,
    pub created_us: i64,
}

crate::row! {
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
    /// Changes of status after issue (suspended, lifted, revoked; see `sanctions`).
    pub status_changes: i32,
}
}

const CERT: &str = "id, number, case_id, organization_id, holder, uscc, category, level, issued_on, valid_until, status, status_changes";
/// `CERT` of a certificate named `c` in a join.
pub(crate) const CERT_C: &str = "c.id, c.number, c.case_id, c.organization_id, c.holder, c.uscc, c.category, c.level, c.issued_on, c.valid_until, c.status, c.status_changes";

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
    let lock = tx.for_update();
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
    // On PostgreSQL the name index is a column of the row (`name_grams`, migration 0018):
    // written with the row, not by a second UPDATE that leaves a dead version of every
    // certificate behind until a vacuum (at a million certificates 651 MB instead of 455 MB,
    // all of it read by the register's searches). SQLite's is a table of its own
    // (`index_name`).
    let pg = matches!(tx, Tx::Pg(..));
    let (column, value) = if pg {
        (", name_grams", ", to_tsvector('simple', $11)")
    } else {
        ("", "")
    };
    let sql = format!(
        "INSERT INTO certificate (number, case_id, organization_id, holder, uscc, category, level, issued_on, valid_until, status, created_us{column})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'valid', $10{value}) RETURNING {CERT}"
    );
    let grams = pg.then(|| name_grams(c.holder));
    let now = now_us();
    let cert = on_tx!(tx, t => {
        let q = sqlx::query_as::<_, Certificate>(sqlx::AssertSqlSafe(sql))
            .bind(c.number)
            .bind(c.case_id)
            .bind(c.organization_id)
            .bind(c.holder)
            .bind(c.uscc)
            .bind(c.category)
            .bind(c.level)
            .bind(c.issued_on)
            .bind(c.valid_until)
            .bind(now);
        match &grams {
            Some(g) => q.bind(g),
            None => q,
        }
        .fetch_one(t)
        .await
    })
    .map_err(|e| StoreError::conflict_as(e, "number"))?;
    if !pg {
        index_name(tx, cert.id, &cert.holder).await?;
    }
    Ok(cert)
}

/// A certificate by its number and whether its signed document is kept (`certificate.sealed`,
/// migration 0040): the public check (5.5) reads one row through the number's index — the
/// organisation's row and the seal's table took a third of PostgreSQL's time for it (issue 14).
/// On PostgreSQL the checks asking together are read in one statement ([`Db::fetch_by_key`]).
pub async fn by_number_sealed(db: &Db, number: &str) -> Result<Option<(Certificate, bool)>> {
    static SQL: LazyLock<ByKey> =
        LazyLock::new(|| ByKey::new(&format!("SELECT {CERT}, sealed FROM certificate"), "number"));
    Ok(db
        .fetch_by_key::<String, Sealed>(&SQL, number.to_owned())
        .await?
        .map(|w| (w.cert, w.sealed)))
}

crate::row! {
/// A certificate with whether its signed document is kept ([`by_number_sealed`]).
#[derive(Clone, FromRow)]
struct Sealed {
    #[sqlx(flatten)]
    cert: Certificate,
    sealed: bool,
}
}

impl crate::read::Keyed<String> for Sealed {
    fn key(&self) -> String {
        self.cert.number.clone()
    }
}

/// Sets a certificate's status (`valid`, `suspended`, `revoked`, `expired`).
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
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {CERT} FROM certificate WHERE number = $1"));
    db.fetch_optional(&SQL, &[number.into()]).await
}

pub async fn for_case(db: &Db, case_id: i64) -> Result<Option<Certificate>> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {CERT} FROM certificate WHERE case_id = $1"));
    db.fetch_optional(&SQL, &[case_id.into()]).await
}

/// The latest batches, newest first.
pub async fn batches(db: &Db, limit: i64) -> Result<Vec<Batch>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Batch>(
        "SELECT id, status, created_by, approved_by, created_us FROM certificate_batch ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(p)
        .await)?)
}

crate::row! {
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
    db.fetch_optional(
        "SELECT certificate_id, pdf_sha256, pdf_sm3, record, signature, key_id, sealed_us
         FROM certificate_seal WHERE certificate_id = $1",
        &[certificate_id.into()],
    )
    .await
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

/// An organisation's certificates, newest first.
pub async fn of_organization(db: &Db, organization_id: i64) -> Result<Vec<Certificate>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {CERT} FROM certificate WHERE organization_id = $1 ORDER BY id DESC"
    ));
    Ok(on_pool!(db, p => sqlx::query_as::<_, Certificate>(sql)
        .bind(organization_id)
        .fetch_all(p)
        .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL reads the register's certificates by id from the index `certificate_rows`
    /// alone (migration 0046) only while it holds every column of a certificate read: a column
    /// added to [`Certificate`] must be added to the index too.
    #[test]
    fn the_certificate_index_holds_every_column_read() {
        let held = crate::read::index_columns(
            include_str!("../migrations/postgres/0046_list_rows_in_an_index.sql"),
            "certificate_rows",
        );
        let read: Vec<&str> = CERT.split(", ").collect();
        assert_eq!(held, read);
        assert_eq!(
            CERT_C
                .split(", ")
                .map(|c| c.trim_start_matches("c."))
                .collect::<Vec<_>>(),
            read
        );
    }
}
