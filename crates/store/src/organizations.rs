//! Applicant organisations (申请单位), identified by a validated USCC.

use sqlx::FromRow;

use crate::{Db, Result, StoreError, Tx, now_us, on_pool, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Organization {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub created_us: i64,
}

/// Inserts an organisation; `Conflict("organization.uscc")` when the USCC is taken.
pub async fn insert(tx: &mut Tx, uscc: &str, name: &str) -> Result<Organization> {
    let now = now_us();
    on_tx!(tx, c => sqlx::query_as::<_, Organization>(
        "INSERT INTO organization (uscc, name, created_us) VALUES ($1, $2, $3)
         RETURNING id, uscc, name, created_us")
        .bind(uscc)
        .bind(name)
        .bind(now)
        .fetch_one(c)
        .await)
    .map_err(|e| StoreError::conflict_as(e, "organization.uscc"))
}

pub async fn list(db: &Db) -> Result<Vec<Organization>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Organization>(
        "SELECT id, uscc, name, created_us FROM organization ORDER BY id")
        .fetch_all(p)
        .await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Organization>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Organization>(
        "SELECT id, uscc, name, created_us FROM organization WHERE id = $1")
        .bind(id)
        .fetch_optional(p)
        .await)?)
}
