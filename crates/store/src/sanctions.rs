//! Sanctions (处置, guide 六), the holder's rectifications and the certificates' status history.

use sqlx::FromRow;
use zizhi_domain::sanction::{Measure, SanctionState};

use crate::{Db, Result, Tx, now_us, on_pool, on_tx};

const COLUMNS: &str = "s.id, s.certificate_id, s.measure, s.state, s.violation, s.evidence, s.reasoning, s.proposed_by, s.proposed_on, s.decided_by, s.decided_on, s.decision_note, s.rectification_days, s.rectify_by, s.overdue_noted, s.closed_on";

/// One sanction with the number, holder and organisation of its certificate.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Sanction {
    pub id: i64,
    pub certificate_id: i64,
    #[sqlx(try_from = "String")]
    pub measure: Measure,
    #[sqlx(try_from = "String")]
    pub state: SanctionState,
    /// The violation found (违规事实).
    pub violation: String,
    /// The evidence it rests on.
    pub evidence: String,
    /// Why this measure (处置理由).
    pub reasoning: String,
    pub proposed_by: i64,
    pub proposed_on: String,
    /// The approver who confirmed or declined a suspension or revocation.
    pub decided_by: Option<i64>,
    pub decided_on: Option<String>,
    pub decision_note: String,
    /// Days to rectify, counted from the day the measure takes effect.
    pub rectification_days: Option<i32>,
    /// The last day of the rectification period.
    pub rectify_by: Option<String>,
    /// The overdue rectification has been escalated once (e-mail, audit).
    pub overdue_noted: bool,
    pub closed_on: Option<String>,
    pub number: String,
    pub holder: String,
    pub organization_id: i64,
}

const JOINED: &str = "FROM sanction s JOIN certificate c ON c.id = s.certificate_id";

fn select(filter: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, c.number, c.holder, c.organization_id {JOINED} {filter}"
    ))
}

pub struct NewSanction<'a> {
    pub certificate_id: i64,
    pub measure: Measure,
    pub state: SanctionState,
    pub violation: &'a str,
    pub evidence: &'a str,
    pub reasoning: &'a str,
    pub proposed_by: i64,
    pub proposed_on: &'a str,
    pub rectification_days: Option<i32>,
    pub rectify_by: Option<&'a str>,
}

pub async fn insert(tx: &mut Tx, s: &NewSanction<'_>) -> Result<i64> {
    Ok(on_tx!(tx, t => sqlx::query_scalar(
        "INSERT INTO sanction (certificate_id, measure, state, violation, evidence, reasoning, proposed_by, proposed_on, rectification_days, rectify_by, created_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
        .bind(s.certificate_id)
        .bind(s.measure.as_str())
        .bind(s.state.as_str())
        .bind(s.violation)
        .bind(s.evidence)
        .bind(s.reasoning)
        .bind(s.proposed_by)
        .bind(s.proposed_on)
        .bind(s.rectification_days)
        .bind(s.rectify_by)
        .bind(now_us())
        .fetch_one(t)
        .await)?)
}

/// A sanction, read inside a write transaction (SQLite's write lock or PostgreSQL's row lock
/// keeps it from changing under the caller).
pub async fn get_locked(tx: &mut Tx, id: i64) -> Result<Option<Sanction>> {
    Ok(match tx {
        Tx::Sqlite(t, _) => {
            sqlx::query_as::<_, Sanction>(select("WHERE s.id = $1"))
                .bind(id)
                .fetch_optional(&mut **t)
                .await?
        }
        Tx::Pg(t, _) => {
            sqlx::query_as::<_, Sanction>(select("WHERE s.id = $1 FOR UPDATE OF s"))
                .bind(id)
                .fetch_optional(&mut **t)
                .await?
        }
    })
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Sanction>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Sanction>(select("WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(p)
        .await)?,
    )
}

/// Writes back what changes after a sanction's proposal.
pub async fn save(tx: &mut Tx, s: &Sanction) -> Result<()> {
    on_tx!(tx, t => sqlx::query(
        "UPDATE sanction SET state = $2, decided_by = $3, decided_on = $4, decision_note = $5,
                rectify_by = $6, overdue_noted = $7, closed_on = $8 WHERE id = $1")
        .bind(s.id)
        .bind(s.state.as_str())
        .bind(s.decided_by)
        .bind(&s.decided_on)
        .bind(&s.decision_note)
        .bind(&s.rectify_by)
        .bind(s.overdue_noted)
        .bind(&s.closed_on)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A certificate's sanctions, oldest first.
pub async fn for_certificate(db: &Db, certificate_id: i64) -> Result<Vec<Sanction>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Sanction>(select("WHERE s.certificate_id = $1 ORDER BY s.id"))
        .bind(certificate_id)
        .fetch_all(p)
        .await)?,
    )
}

/// A certificate's open sanctions, inside a write transaction.
pub async fn open_for_certificate(tx: &mut Tx, certificate_id: i64) -> Result<Vec<Sanction>> {
    let sql = select(
        "WHERE s.certificate_id = $1 AND s.state IN ('proposed', 'awaiting_rectification', 'rectification_submitted') ORDER BY s.id",
    );
    Ok(on_tx!(tx, t => sqlx::query_as::<_, Sanction>(sql)
        .bind(certificate_id)
        .fetch_all(t)
        .await)?)
}

/// An organisation's sanctions (all its certificates), newest first.
pub async fn for_organization(db: &Db, organization_id: i64) -> Result<Vec<Sanction>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Sanction>(select("WHERE c.organization_id = $1 ORDER BY s.id DESC"))
        .bind(organization_id)
        .fetch_all(p)
        .await)?,
    )
}

/// Every sanction in a state, oldest first (the supervisor's and approver's 待办).
pub async fn in_state(db: &Db, state: SanctionState) -> Result<Vec<Sanction>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Sanction>(select("WHERE s.state = $1 ORDER BY s.id"))
        .bind(state.as_str())
        .fetch_all(p)
        .await)?,
    )
}

/// The latest sanctions of all holders, newest first.
pub async fn latest(db: &Db, limit: i64) -> Result<Vec<Sanction>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Sanction>(select("ORDER BY s.id DESC LIMIT $1"))
        .bind(limit)
        .fetch_all(p)
        .await)?,
    )
}

/// Rectifications past their last day (`rectify_by < today`) not yet escalated.
pub async fn overdue_unnoted(db: &Db, today: &str) -> Result<Vec<Sanction>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Sanction>(select(
        "WHERE s.state = 'awaiting_rectification' AND s.rectify_by < $1 AND NOT s.overdue_noted ORDER BY s.id"))
        .bind(today)
        .fetch_all(p)
        .await)?)
}

/// What the holder sent to rectify, and the verdict on it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Rectification {
    pub id: i64,
    pub sanction_id: i64,
    pub submitted_by: i64,
    pub submitted_on: String,
    /// 整改情况: what was done.
    pub account: String,
    /// A JSON array of evidence ids of the holder's file.
    pub evidence_ids: String,
    /// `accepted` or `rejected`; `None` while it waits.
    pub verdict: Option<String>,
    pub verdict_by: Option<i64>,
    pub verdict_on: Option<String>,
    pub verdict_note: String,
}

const RECT: &str = "id, sanction_id, submitted_by, submitted_on, account, evidence_ids, verdict, verdict_by, verdict_on, verdict_note";

pub async fn insert_rectification(
    tx: &mut Tx,
    sanction_id: i64,
    submitted_by: i64,
    submitted_on: &str,
    account: &str,
    evidence_ids: &str,
) -> Result<i64> {
    Ok(on_tx!(tx, t => sqlx::query_scalar(
        "INSERT INTO rectification (sanction_id, submitted_by, submitted_on, account, evidence_ids, created_us)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(sanction_id)
        .bind(submitted_by)
        .bind(submitted_on)
        .bind(account)
        .bind(evidence_ids)
        .bind(now_us())
        .fetch_one(t)
        .await)?)
}

/// A sanction's rectifications, oldest first.
pub async fn rectifications(db: &Db, sanction_id: i64) -> Result<Vec<Rectification>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {RECT} FROM rectification WHERE sanction_id = $1 ORDER BY id"
    ));
    Ok(on_pool!(db, p => sqlx::query_as::<_, Rectification>(sql)
        .bind(sanction_id)
        .fetch_all(p)
        .await)?)
}

/// Records the verdict on the sanction's waiting rectification; false when none waits.
pub async fn judge_rectification(
    tx: &mut Tx,
    sanction_id: i64,
    verdict: &str,
    by: i64,
    on: &str,
    note: &str,
) -> Result<bool> {
    let n = on_tx!(tx, t => sqlx::query(
        "UPDATE rectification SET verdict = $2, verdict_by = $3, verdict_on = $4, verdict_note = $5
         WHERE sanction_id = $1 AND verdict IS NULL")
        .bind(sanction_id)
        .bind(verdict)
        .bind(by)
        .bind(on)
        .bind(note)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Records a change of a certificate's public status and sets it.
pub async fn change_status(
    tx: &mut Tx,
    certificate_id: i64,
    on: &str,
    status: &str,
    sanction_id: Option<i64>,
) -> Result<()> {
    on_tx!(tx, t => sqlx::query("UPDATE certificate SET status = $2, status_changes = status_changes + 1 WHERE id = $1")
        .bind(certificate_id)
        .bind(status)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    on_tx!(tx, t => sqlx::query(
        "INSERT INTO certificate_status_event (certificate_id, on_date, status, sanction_id, created_us)
         VALUES ($1, $2, $3, $4, $5)")
        .bind(certificate_id)
        .bind(on)
        .bind(status)
        .bind(sanction_id)
        .bind(now_us())
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A certificate's status changes after issue, oldest first: (date, status, sanction).
pub async fn status_events(
    db: &Db,
    certificate_id: i64,
) -> Result<Vec<(String, String, Option<i64>)>> {
    Ok(on_pool!(db, p => sqlx::query_as(
        "SELECT on_date, status, sanction_id FROM certificate_status_event WHERE certificate_id = $1 ORDER BY id")
        .bind(certificate_id)
        .fetch_all(p)
        .await)?)
}

/// Up to `limit` certificates valid or suspended whose last valid day is from `from` to `to`
/// (ISO dates, inclusive), after the position `after` = (last valid day, id) of the previous
/// page: the candidates for a renewal reminder or, with `to` before today, for expiry, read a
/// page at a time so that a backlog never sits in memory.
pub async fn certificates_ending(
    db: &Db,
    from: &str,
    to: &str,
    after: (&str, i64),
    limit: i64,
) -> Result<Vec<crate::certificates::Certificate>> {
    // A short read (inline on SQLite: the job reads every certificate in the reminder window
    // each run, and sqlx's worker thread handed them over a row at a time). The page walks the
    // last-valid-day index from the previous page on and checks the status on the rows it
    // reaches. On SQLite the status is written `+c.status`, which keeps it off the status
    // index: without statistics it preferred that index, and every page then read all valid
    // certificates and sorted them (18 ms a page, 0.5 s a run at 100 000 certificates).
    // PostgreSQL's statistics choose the (last valid day, id) index by themselves, and a
    // disguised status there spoilt its estimate (a bitmap scan and a sort: 5 times slower).
    fn sql(status: &str) -> String {
        format!(
            "SELECT {} FROM certificate c WHERE c.valid_until >= $1 AND c.valid_until <= $2
               AND (c.valid_until, c.id) > ($3, $4)
               AND {status} IN ('valid', 'suspended') ORDER BY c.valid_until, c.id LIMIT $5",
            crate::certificates::CERT_C
        )
    }
    static SQLITE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| sql("+c.status"));
    static PG: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| sql("c.status"));
    let sql = match db {
        Db::Sqlite(..) => &*SQLITE,
        Db::Pg(..) => &*PG,
    };
    db.fetch_all(
        sql,
        &[
            from.into(),
            to.into(),
            after.0.into(),
            after.1.into(),
            limit.into(),
        ],
    )
    .await
}

/// The reminders already sent among these certificates, as (certificate id, kind): the
/// reminder job asks once for a page of certificates instead of opening a write transaction
/// for each only to find its claim taken (issue 14: every five minutes, one transaction per
/// certificate in the reminder window — 18 000 among 100 000 certificates — each rolled back).
pub async fn reminders_sent(
    db: &Db,
    ids: &[i64],
) -> Result<std::collections::HashSet<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "SELECT certificate_id, kind FROM certificate_reminder WHERE certificate_id IN ({})",
        crate::read::marks(1, ids.len())
    );
    let rows: Vec<(i64, String)> = on_pool!(db, p => {
        // A job's statement, its length the page's: not kept among the prepared statements.
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).persistent(false);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(p).await
    })?;
    Ok(rows.into_iter().collect())
}

/// Records a reminder of a certificate; false when it was sent already.
pub async fn claim_reminder(
    tx: &mut Tx,
    certificate_id: i64,
    kind: &str,
    on: &str,
) -> Result<bool> {
    let n = on_tx!(tx, t => sqlx::query(
        "INSERT INTO certificate_reminder (certificate_id, kind, sent_on) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(certificate_id)
        .bind(kind)
        .bind(on)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
