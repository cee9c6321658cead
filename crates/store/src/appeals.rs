//! Appeals (申诉, guide 七).

use sqlx::FromRow;
use zizhi_domain::appeal::{AppealState, Subject};

use crate::{Db, Result, Tx, now_us, on_pool, on_tx};

const COLUMNS: &str = "id, organization_id, subject, case_id, sanction_id, grounds, evidence_ids, filed_by, filed_on, state, investigator_id, assigned_by, findings, reopened_at, concluded_on";

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Appeal {
    pub id: i64,
    pub organization_id: i64,
    #[sqlx(try_from = "String")]
    pub subject: Subject,
    pub case_id: Option<i64>,
    pub sanction_id: Option<i64>,
    /// The applicant's written grounds.
    pub grounds: String,
    /// A JSON array of evidence ids of the organisation's file.
    pub evidence_ids: String,
    pub filed_by: i64,
    pub filed_on: String,
    #[sqlx(try_from = "String")]
    pub state: AppealState,
    pub investigator_id: Option<i64>,
    pub assigned_by: Option<i64>,
    /// The investigator's findings.
    pub findings: String,
    /// The stage an overturned case was reopened at.
    pub reopened_at: Option<String>,
    pub concluded_on: Option<String>,
}

pub struct NewAppeal<'a> {
    pub organization_id: i64,
    pub subject: Subject,
    pub case_id: Option<i64>,
    pub sanction_id: Option<i64>,
    pub grounds: &'a str,
    pub evidence_ids: &'a str,
    pub filed_by: i64,
    pub filed_on: &'a str,
}

pub async fn insert(tx: &mut Tx, a: &NewAppeal<'_>) -> Result<i64> {
    Ok(on_tx!(tx, t => sqlx::query_scalar(
        "INSERT INTO appeal (organization_id, subject, case_id, sanction_id, grounds, evidence_ids, filed_by, filed_on, state, created_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'filed', $9) RETURNING id")
        .bind(a.organization_id)
        .bind(a.subject.as_str())
        .bind(a.case_id)
        .bind(a.sanction_id)
        .bind(a.grounds)
        .bind(a.evidence_ids)
        .bind(a.filed_by)
        .bind(a.filed_on)
        .bind(now_us())
        .fetch_one(t)
        .await)?)
}

fn select(filter: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM appeal {filter}"))
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Appeal>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Appeal>(select("WHERE id = $1"))
        .bind(id)
        .fetch_optional(p)
        .await)?,
    )
}

/// An appeal inside a write transaction, locked on PostgreSQL.
pub async fn get_locked(tx: &mut Tx, id: i64) -> Result<Option<Appeal>> {
    Ok(match tx {
        Tx::Sqlite(t, _) => {
            sqlx::query_as::<_, Appeal>(select("WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut **t)
                .await?
        }
        Tx::Pg(t, _) => {
            sqlx::query_as::<_, Appeal>(select("WHERE id = $1 FOR UPDATE"))
                .bind(id)
                .fetch_optional(&mut **t)
                .await?
        }
    })
}

pub async fn save(tx: &mut Tx, a: &Appeal) -> Result<()> {
    on_tx!(tx, t => sqlx::query(
        "UPDATE appeal SET state = $2, investigator_id = $3, assigned_by = $4, findings = $5, reopened_at = $6, concluded_on = $7 WHERE id = $1")
        .bind(a.id)
        .bind(a.state.as_str())
        .bind(a.investigator_id)
        .bind(a.assigned_by)
        .bind(&a.findings)
        .bind(&a.reopened_at)
        .bind(&a.concluded_on)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The latest appeals, newest first.
pub async fn latest(db: &Db, limit: i64) -> Result<Vec<Appeal>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Appeal>(select("ORDER BY id DESC LIMIT $1"))
        .bind(limit)
        .fetch_all(p)
        .await)?,
    )
}

/// An organisation's appeals, newest first.
pub async fn for_organization(db: &Db, organization_id: i64) -> Result<Vec<Appeal>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Appeal>(select("WHERE organization_id = $1 ORDER BY id DESC"))
        .bind(organization_id)
        .fetch_all(p)
        .await)?,
    )
}

/// The open appeals about a case, or about a sanction of a certificate issued on it (its
/// legal hold).
pub async fn open_on_case(db: &Db, case_id: i64) -> Result<Vec<Appeal>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Appeal>(select(
        "WHERE state IN ('filed', 'investigating') AND (case_id = $1 OR sanction_id IN
           (SELECT s.id FROM sanction s JOIN certificate c ON c.id = s.certificate_id WHERE c.case_id = $1))"))
        .bind(case_id)
        .fetch_all(p)
        .await)?)
}

/// An open appeal on the same subject, if any.
pub async fn open_on_subject(
    db: &Db,
    case_id: Option<i64>,
    sanction_id: Option<i64>,
) -> Result<Option<Appeal>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Appeal>(select(
        "WHERE state IN ('filed', 'investigating') AND (case_id = $1 OR sanction_id = $2) LIMIT 1"))
        .bind(case_id)
        .bind(sanction_id)
        .fetch_optional(p)
        .await)?)
}
