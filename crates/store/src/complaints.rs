//! Complaints (投诉, guide 七): each organisation's own complaint register, the supervision
//! department's inspections of it, and third parties' complaints lodged with the centre.

use sqlx::FromRow;

use crate::{Db, Result, Tx, now_us, on_pool, on_tx};

/// One entry of an organisation's complaint register (投诉记录).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ComplaintRecord {
    pub id: i64,
    pub organization_id: i64,
    pub received_on: String,
    /// Who complained, or through which channel.
    pub source: String,
    pub content: String,
    /// How it was handled (处理情况).
    pub handling: String,
    /// The measures taken against recurrence (纠正预防措施).
    pub prevention: String,
    pub closed_on: Option<String>,
    pub recorded_by: i64,
}

const RECORD: &str = "id, organization_id, received_on, source, content, handling, prevention, closed_on, recorded_by";

pub struct NewRecord<'a> {
    pub organization_id: i64,
    pub received_on: &'a str,
    pub source: &'a str,
    pub content: &'a str,
    pub recorded_by: i64,
}

pub async fn insert_record(tx: &mut Tx, r: &NewRecord<'_>) -> Result<i64> {
    Ok(on_tx!(tx, t => sqlx::query_scalar(
        "INSERT INTO complaint_record (organization_id, received_on, source, content, recorded_by, created_us)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(r.organization_id)
        .bind(r.received_on)
        .bind(r.source)
        .bind(r.content)
        .bind(r.recorded_by)
        .bind(now_us())
        .fetch_one(t)
        .await)?)
}

/// The organisation's register, newest first.
pub async fn records(db: &Db, organization_id: i64) -> Result<Vec<ComplaintRecord>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {RECORD} FROM complaint_record WHERE organization_id = $1 ORDER BY received_on DESC, id DESC"
    ));
    Ok(on_pool!(db, p => sqlx::query_as::<_, ComplaintRecord>(sql)
        .bind(organization_id)
        .fetch_all(p)
        .await)?)
}

/// The organisation's register read inside a transaction (an inspection shows what it records).
pub async fn records_tx(tx: &mut Tx, organization_id: i64) -> Result<Vec<ComplaintRecord>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {RECORD} FROM complaint_record WHERE organization_id = $1 ORDER BY received_on DESC, id DESC"
    ));
    Ok(on_tx!(tx, t => sqlx::query_as::<_, ComplaintRecord>(sql)
        .bind(organization_id)
        .fetch_all(t)
        .await)?)
}

/// One entry, read inside the write transaction that changes it.
pub async fn record_locked(tx: &mut Tx, id: i64) -> Result<Option<ComplaintRecord>> {
    let lock = tx.for_update();
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {RECORD} FROM complaint_record WHERE id = $1{lock}"
    ));
    Ok(on_tx!(tx, t => sqlx::query_as::<_, ComplaintRecord>(sql)
        .bind(id)
        .fetch_optional(t)
        .await)?)
}

/// Writes back the handling, the measures and the closing date (an open entry only).
pub async fn save_record(tx: &mut Tx, r: &ComplaintRecord) -> Result<()> {
    on_tx!(tx, t => sqlx::query(
        "UPDATE complaint_record SET handling = $2, prevention = $3, closed_on = $4
         WHERE id = $1 AND closed_on IS NULL")
        .bind(r.id)
        .bind(&r.handling)
        .bind(&r.prevention)
        .bind(&r.closed_on)
        .execute(t)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// One inspection of an organisation's register, with the inspector's name.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Inspection {
    pub id: i64,
    pub organization_id: i64,
    pub inspected_by: i64,
    pub inspector: String,
    pub reason: String,
    pub inspected_on: String,
}

pub async fn insert_inspection(
    tx: &mut Tx,
    organization_id: i64,
    inspected_by: i64,
    reason: &str,
    on: &str,
) -> Result<i64> {
    Ok(on_tx!(tx, t => sqlx::query_scalar(
        "INSERT INTO complaint_inspection (organization_id, inspected_by, reason, inspected_on, created_us)
         VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(organization_id)
        .bind(inspected_by)
        .bind(reason)
        .bind(on)
        .bind(now_us())
        .fetch_one(t)
        .await)?)
}

/// The inspections of an organisation's register, newest first.
pub async fn inspections(db: &Db, organization_id: i64) -> Result<Vec<Inspection>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Inspection>(
        "SELECT i.id, i.organization_id, i.inspected_by, u.display_name AS inspector, i.reason, i.inspected_on
         FROM complaint_inspection i JOIN app_user u ON u.id = i.inspected_by
         WHERE i.organization_id = $1 ORDER BY i.id DESC")
        .bind(organization_id)
        .fetch_all(p)
        .await)?)
}

/// A third party's complaint about a holder, with the certificate's number, holder and
/// organisation.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PublicComplaint {
    pub id: i64,
    pub certificate_id: i64,
    pub complainant: String,
    pub email: String,
    pub phone: String,
    pub content: String,
    pub received_on: String,
    /// `open` or `closed`.
    pub state: String,
    pub handled_by: Option<i64>,
    pub finding: String,
    /// Whether the complaint was found to be well founded (at closing).
    pub founded: Option<bool>,
    pub closed_on: Option<String>,
    pub number: String,
    pub holder: String,
    pub organization_id: i64,
}

fn public_select(filter: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!(
        "SELECT p.id, p.certificate_id, p.complainant, p.email, p.phone, p.content, p.received_on, p.state,
                p.handled_by, p.finding, p.founded, p.closed_on, c.number, c.holder, c.organization_id
         FROM public_complaint p JOIN certificate c ON c.id = p.certificate_id {filter}"
    ))
}

pub struct NewPublic<'a> {
    pub certificate_id: i64,
    pub complainant: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    pub content: &'a str,
    pub received_on: &'a str,
    pub address: &'a str,
}

pub async fn insert_public(tx: &mut Tx, c: &NewPublic<'_>) -> Result<i64> {
    Ok(on_tx!(tx, t => sqlx::query_scalar(
        "INSERT INTO public_complaint (certificate_id, complainant, email, phone, content, received_on, address, state, created_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8) RETURNING id")
        .bind(c.certificate_id)
        .bind(c.complainant)
        .bind(c.email)
        .bind(c.phone)
        .bind(c.content)
        .bind(c.received_on)
        .bind(c.address)
        .bind(now_us())
        .fetch_one(t)
        .await)?)
}

/// How many complaints this client address lodged since `since_us` (the rate limit, counted in
/// the transaction that would add one, so that several servers share it).
pub async fn lodged_since(tx: &mut Tx, address: &str, since_us: i64) -> Result<i64> {
    Ok(on_tx!(tx, t => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM public_complaint WHERE address = $1 AND created_us >= $2")
        .bind(address)
        .bind(since_us)
        .fetch_one(t)
        .await)?)
}

/// The complaints lodged with the centre: open ones first (oldest first), then the latest
/// closed, at most `limit`.
pub async fn public_list(db: &Db, limit: i64) -> Result<Vec<PublicComplaint>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, PublicComplaint>(public_select(
        "ORDER BY CASE WHEN p.state = 'open' THEN 0 ELSE 1 END, CASE WHEN p.state = 'open' THEN p.id ELSE -p.id END LIMIT $1"))
        .bind(limit)
        .fetch_all(p)
        .await)?,
    )
}

/// How many complaints wait for the supervision department.
pub async fn open_count(db: &Db) -> Result<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM public_complaint WHERE state = 'open'")
        .fetch_one(p)
        .await)?)
}

pub async fn public_get(db: &Db, id: i64) -> Result<Option<PublicComplaint>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, PublicComplaint>(public_select("WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(p)
        .await)?,
    )
}

pub async fn public_locked(tx: &mut Tx, id: i64) -> Result<Option<PublicComplaint>> {
    let filter = if matches!(tx, Tx::Pg(..)) {
        "WHERE p.id = $1 FOR UPDATE OF p"
    } else {
        "WHERE p.id = $1"
    };
    Ok(
        on_tx!(tx, t => sqlx::query_as::<_, PublicComplaint>(public_select(filter))
        .bind(id)
        .fetch_optional(t)
        .await)?,
    )
}

/// Closes an open complaint with the supervisor's finding.
pub async fn close_public(tx: &mut Tx, c: &PublicComplaint) -> Result<()> {
    on_tx!(tx, t => sqlx::query(
        "UPDATE public_complaint SET state = 'closed', handled_by = $2, finding = $3, founded = $4, closed_on = $5
         WHERE id = $1 AND state = 'open'")
        .bind(c.id)
        .bind(c.handled_by)
        .bind(&c.finding)
        .bind(c.founded)
        .bind(&c.closed_on)
        .execute(t)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Whether a complaint about this certificate is still open (a legal hold on its records).
pub async fn open_on_certificate(db: &Db, certificate_id: i64) -> Result<bool> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM public_complaint WHERE certificate_id = $1 AND state = 'open'")
        .bind(certificate_id)
        .fetch_one(p)
        .await)?
        > 0)
}
