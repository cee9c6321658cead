//! Applicant organisations (申请单位), identified by a validated USCC.

use sqlx::FromRow;

use crate::{Db, Result, StoreError, Tx, now_us, on_pool, on_tx};

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Organization {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub created_us: i64,
    /// The 申请书 facts: registered address, legal representative, contact person and phone,
    /// and the designated e-mail (指定电子邮箱) the centre's opinions go to (5.2, 5.3).
    pub address: String,
    pub legal_representative: String,
    pub contact_person: String,
    pub contact_phone: String,
    pub contact_email: String,
    /// `pending`, `approved`, `rejected` or `lapsed`: an organisation that registered itself applies
    /// only once an administrator approved it (issue 13).
    pub registration: String,
    /// The administrator's reason when a registration was rejected.
    pub registration_note: String,
}
}

const ORG: &str = "id, uscc, name, created_us, address, legal_representative, contact_person, contact_phone, contact_email, registration, registration_note";

/// A registration waiting for an administrator.
pub const PENDING: &str = "pending";
/// Approved (and every organisation the centre registered itself).
pub const APPROVED: &str = "approved";
/// Rejected, with a reason; the applicant may correct its facts and ask again.
pub const REJECTED: &str = "rejected";
/// Never confirmed within its link's time: its USCC and username were freed.
pub const LAPSED: &str = "lapsed";

/// The organisation's contact facts, as changed together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub address: String,
    pub legal_representative: String,
    pub contact_person: String,
    pub contact_phone: String,
    pub contact_email: String,
}

pub async fn set_contact(tx: &mut Tx, id: i64, c: &Contact) -> Result<()> {
    on_tx!(tx, t => sqlx::query("UPDATE organization SET address = $2, legal_representative = $3, contact_person = $4, contact_phone = $5, contact_email = $6 WHERE id = $1")
        .bind(id)
        .bind(&c.address)
        .bind(&c.legal_representative)
        .bind(&c.contact_person)
        .bind(&c.contact_phone)
        .bind(&c.contact_email)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Inserts an organisation; `Conflict("organization.uscc")` when the USCC is taken.
pub async fn insert(tx: &mut Tx, uscc: &str, name: &str) -> Result<Organization> {
    let now = now_us();
    on_tx!(tx, c => sqlx::query_as::<_, Organization>(
        sqlx::AssertSqlSafe(format!("INSERT INTO organization (uscc, name, created_us) VALUES ($1, $2, $3)
         RETURNING {ORG}")))
        .bind(uscc)
        .bind(name)
        .bind(now)
        .fetch_one(c)
        .await)
    .map_err(|e| StoreError::conflict_as(e, "organization.uscc"))
}

/// An organisation that registers itself: its facts, waiting for approval.
pub async fn insert_registered(
    tx: &mut Tx,
    uscc: &str,
    name: &str,
    c: &Contact,
) -> Result<Organization> {
    let now = now_us();
    on_tx!(tx, t => sqlx::query_as::<_, Organization>(
        sqlx::AssertSqlSafe(format!("INSERT INTO organization (uscc, name, created_us, address, legal_representative, contact_person, contact_phone, contact_email, registration)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {ORG}")))
        .bind(uscc)
        .bind(name)
        .bind(now)
        .bind(&c.address)
        .bind(&c.legal_representative)
        .bind(&c.contact_person)
        .bind(&c.contact_phone)
        .bind(&c.contact_email)
        .bind(PENDING)
        .fetch_one(t)
        .await)
    .map_err(|e| StoreError::conflict_as(e, "organization.uscc"))
}

/// Sets the registration's state and the administrator's note.
pub async fn set_registration(tx: &mut Tx, id: i64, state: &str, note: &str) -> Result<()> {
    on_tx!(tx, t => sqlx::query("UPDATE organization SET registration = $2, registration_note = $3 WHERE id = $1")
        .bind(id)
        .bind(state)
        .bind(note)
        .execute(t)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Marks a registration still waiting as lapsed (its address never confirmed) and frees its
/// USCC (kept as `lapsed:<id>:<uscc>`), the row kept so that nothing the audit chain names is
/// reused. Refuses any other.
pub async fn lapse_pending(tx: &mut Tx, id: i64) -> Result<bool> {
    let n = on_tx!(tx, t => sqlx::query(
        "UPDATE organization SET registration = $3, uscc = 'lapsed:' || id || ':' || uscc
         WHERE id = $1 AND registration = $2")
        .bind(id)
        .bind(PENDING)
        .bind(LAPSED)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The organisation with this USCC, if registered.
pub async fn by_uscc(db: &Db, uscc: &str) -> Result<Option<Organization>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Organization>(
        sqlx::AssertSqlSafe(format!("SELECT {ORG} FROM organization WHERE uscc = $1")))
        .bind(uscc)
        .fetch_optional(p)
        .await)?)
}

/// The number of registrations waiting for an administrator.
pub async fn pending_count(db: &Db) -> Result<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM organization WHERE registration = $1")
        .bind(PENDING)
        .fetch_one(p)
        .await)?)
}

/// The organisation, locked for the transaction on PostgreSQL.
pub async fn get_for_update(tx: &mut Tx, id: i64) -> Result<Option<Organization>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ORG} FROM organization WHERE id = $1{}",
        tx.for_update()
    ));
    Ok(on_tx!(tx, t => sqlx::query_as::<_, Organization>(sql)
        .bind(id)
        .fetch_optional(t)
        .await)?)
}

pub async fn list(db: &Db) -> Result<Vec<Organization>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Organization>(
        sqlx::AssertSqlSafe(format!("SELECT {ORG} FROM organization ORDER BY id")))
        .fetch_all(p)
        .await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Organization>> {
    let sql = format!("SELECT {ORG} FROM organization WHERE id = $1");
    db.fetch_optional(&sql, &[id.into()]).await
}
