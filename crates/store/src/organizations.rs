//! Applicant organisations (申请单位), identified by a validated USCC.

use sqlx::FromRow;

use crate::{Db, Result, StoreError, Tx, now_us, on_pool, on_tx};

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
}

const ORG: &str = "id, uscc, name, created_us, address, legal_representative, contact_person, contact_phone, contact_email";

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

pub async fn list(db: &Db) -> Result<Vec<Organization>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Organization>(
        sqlx::AssertSqlSafe(format!("SELECT {ORG} FROM organization ORDER BY id")))
        .fetch_all(p)
        .await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Organization>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Organization>(
        sqlx::AssertSqlSafe(format!("SELECT {ORG} FROM organization WHERE id = $1")))
        .bind(id)
        .fetch_optional(p)
        .await)?)
}
