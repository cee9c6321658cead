//! Evidence records: who uploaded what, for which organisation.

use sqlx::FromRow;

use crate::{Db, Result, Tx, now_us, on_pool, on_tx};

const COLUMNS: &str =
    "id, organization_id, sha256, sm3, size, media_type, original_name, uploaded_by, uploaded_us";

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Evidence {
    pub id: i64,
    pub organization_id: i64,
    pub sha256: String,
    pub sm3: String,
    pub size: i64,
    pub media_type: String,
    pub original_name: String,
    pub uploaded_by: i64,
    pub uploaded_us: i64,
}
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    tx: &mut Tx,
    organization_id: i64,
    sha256: &str,
    sm3: &str,
    size: i64,
    media_type: &str,
    original_name: &str,
    uploaded_by: i64,
) -> Result<Evidence> {
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO evidence (organization_id, sha256, sm3, size, media_type, original_name, uploaded_by, uploaded_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    ));
    let now = now_us();
    Ok(on_tx!(tx, c => sqlx::query_as::<_, Evidence>(sql)
        .bind(organization_id)
        .bind(sha256)
        .bind(sm3)
        .bind(size)
        .bind(media_type)
        .bind(original_name)
        .bind(uploaded_by)
        .bind(now)
        .fetch_one(c)
        .await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Evidence>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM evidence WHERE id = $1"));
    Ok(on_pool!(db, p => sqlx::query_as::<_, Evidence>(sql).bind(id).fetch_optional(p).await)?)
}

pub async fn for_organization(db: &Db, organization_id: i64) -> Result<Vec<Evidence>> {
    let sql = format!("SELECT {COLUMNS} FROM evidence WHERE organization_id = $1 ORDER BY id");
    db.fetch_all(&sql, &[organization_id.into()]).await
}
