//! The formal letters of a case: insert and read only (a letter is never changed).

use sqlx::FromRow;

use crate::{Db, Result, Tx, now_us, on_tx};

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Letter {
    pub id: i64,
    pub case_id: i64,
    pub kind: String,
    pub title: String,
    pub pdf_sha256: String,
    pub pdf_sm3: String,
    pub signed_by: String,
    pub created_us: i64,
}
}

const COLS: &str = "id, case_id, kind, title, pdf_sha256, pdf_sm3, signed_by, created_us";

pub async fn insert(
    tx: &mut Tx,
    case_id: i64,
    kind: &str,
    title: &str,
    sha256: &str,
    sm3: &str,
    signed_by: &str,
) -> Result<Letter> {
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO case_letter (case_id, kind, title, pdf_sha256, pdf_sm3, signed_by, created_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLS}"
    ));
    Ok(on_tx!(tx, c => sqlx::query_as::<_, Letter>(sql)
        .bind(case_id)
        .bind(kind)
        .bind(title)
        .bind(sha256)
        .bind(sm3)
        .bind(signed_by)
        .bind(now_us())
        .fetch_one(c)
        .await)?)
}

pub async fn of_case(db: &Db, case_id: i64) -> Result<Vec<Letter>> {
    let sql = format!("SELECT {COLS} FROM case_letter WHERE case_id = $1 ORDER BY id");
    db.fetch_all(&sql, &[case_id.into()]).await
}
