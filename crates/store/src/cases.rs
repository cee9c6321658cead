//! Cases: the current stage and facts, submission rounds (never overwritten), transitions and
//! clock pauses. Dates (China Standard Time calendar days) are stored as `YYYY-MM-DD` text.

use std::sync::LazyLock;

use sqlx::FromRow;
use zizhi_domain::case::Stage;
use zizhi_domain::fees::ApplicationKind;

use crate::{Db, Result, Tx, now_us, on_pool, on_tx};

pub(crate) mod deadline;
mod list;
mod parts;
mod records;
pub use deadline::{Urgent, due_counts, most_urgent, open_by_stage};
pub use list::{Filter, ListPage, Listed, page, shared_page};
pub(crate) use list::{KeptList, PageStarts};
pub(crate) use parts::KeptParts;
pub use parts::{CaseParts, PartsJson, RoundJson, rounds, with_parts};
pub(crate) use records::KeptRecords;
pub use records::{CaseRecords, records};

const COLUMNS: &str = "id, organization_id, category, level, kind, stage, profile, paper_received_us, filed_on, supplement_due, closed_on, agreement_no, fee_fen, lead_id, audit_conclusion, dossier_hash, review_round, batch_id, created_by, created_us";

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CaseRow {
    pub id: i64,
    pub organization_id: i64,
    pub category: String,
    pub level: i32,
    #[sqlx(try_from = "String")]
    pub kind: ApplicationKind,
    #[sqlx(try_from = "String")]
    pub stage: Stage,
    /// The applicant's facts as JSON (the self-assessment profile); empty in lists.
    pub profile: String,
    pub paper_received_us: Option<i64>,
    pub filed_on: Option<String>,
    pub supplement_due: Option<String>,
    pub closed_on: Option<String>,
    /// The delegation agreement's number, once sent.
    pub agreement_no: Option<String>,
    /// The fee in fen, fixed when the agreement is sent.
    pub fee_fen: Option<i64>,
    /// The project lead who leads the evaluation.
    pub lead_id: Option<i64>,
    pub audit_conclusion: Option<String>,
    /// SHA-256 of the dossier the expert panel reviews, fixed with the audit conclusion.
    pub dossier_hash: Option<String>,
    /// Expert review rounds so far (a returned case comes back for another).
    pub review_round: i32,
    /// The certificate batch the case is in.
    pub batch_id: Option<i64>,
    pub created_by: i64,
    pub created_us: i64,
}
}

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Round {
    pub round: i32,
    pub profile: String,
    pub assessment: String,
    pub submitted_by: i64,
    pub submitted_us: i64,
}
}

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TransitionRow {
    pub transition: String,
    pub from_stage: String,
    pub to_stage: String,
    pub actor_id: Option<i64>,
    pub note: String,
    pub at_us: i64,
}
}

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PauseRow {
    pub start_on: String,
    pub end_on: Option<String>,
}
}

impl PauseRow {
    /// The pause as the project clock counts it (九.3); `None` if its first day is not a date.
    pub fn pause(&self) -> Option<zizhi_domain::clock::Pause> {
        use zizhi_domain::calendar::parse_date;
        Some(zizhi_domain::clock::Pause {
            start: parse_date(&self.start_on)?,
            end: self.end_on.as_deref().and_then(parse_date),
        })
    }
}

pub struct NewCase<'a> {
    pub organization_id: i64,
    pub category: &'a str,
    pub level: i32,
    pub kind: &'a str,
    pub stage: &'a str,
    pub profile: &'a str,
    pub created_by: i64,
}

pub async fn insert(tx: &mut Tx, c: &NewCase<'_>) -> Result<CaseRow> {
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO application_case (organization_id, category, level, kind, stage, profile, created_by, created_us, org_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE((SELECT name FROM organization WHERE id = $1), ''))
         RETURNING {COLUMNS}"
    ));
    let now = now_us();
    Ok(on_tx!(tx, t => sqlx::query_as::<_, CaseRow>(sql)
        .bind(c.organization_id)
        .bind(c.category)
        .bind(c.level)
        .bind(c.kind)
        .bind(c.stage)
        .bind(c.profile)
        .bind(c.created_by)
        .bind(now)
        .fetch_one(t)
        .await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<CaseRow>> {
    db.fetch_optional(&GET, &[id.into()]).await
}

static GET: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {COLUMNS} FROM application_case WHERE id = $1"));

/// Whether case `id` exists.
pub async fn exists(db: &Db, id: i64) -> Result<bool> {
    let found: Option<i64> = db
        .fetch_scalar(
            "SELECT id FROM application_case WHERE id = $1",
            &[id.into()],
        )
        .await?;
    Ok(found.is_some())
}

/// The case inside a write transaction, locked against concurrent transitions (PostgreSQL row
/// lock; SQLite write transactions are exclusive already).
pub async fn get_locked(tx: &mut Tx, id: i64) -> Result<Option<CaseRow>> {
    let lock = tx.for_update();
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM application_case WHERE id = $1{lock}"
    ));
    Ok(on_tx!(tx, t => sqlx::query_as::<_, CaseRow>(sql).bind(id).fetch_optional(t).await)?)
}

crate::row! {
#[derive(FromRow)]
pub(crate) struct PauseOfCase {
    case_id: i64,
    start_on: String,
    end_on: Option<String>,
}
}

pub(crate) fn by_case(rows: Vec<PauseOfCase>) -> Vec<(i64, PauseRow)> {
    rows.into_iter()
        .map(|r| {
            (
                r.case_id,
                PauseRow {
                    start_on: r.start_on,
                    end_on: r.end_on,
                },
            )
        })
        .collect()
}

/// The number that moves whenever a case, its pauses or an applicant's name change (migration
/// 0031): what the dashboard's kept result is checked against.
pub async fn version(db: &Db) -> Result<i64> {
    static SQL: LazyLock<crate::read::ByKey> =
        LazyLock::new(|| crate::read::ByKey::version("case_version"));
    db.version(&SQL).await
}

/// The pauses of every open, filed case, by case.
pub(crate) const OPEN_PAUSES: &str = "SELECT p.case_id, p.start_on, p.end_on FROM case_pause p
     JOIN application_case c ON c.id = p.case_id
     WHERE c.closed_on IS NULL AND c.filed_on IS NOT NULL ORDER BY p.case_id, p.id";

/// The pauses of these cases (a page of a list), by case id.
pub async fn pauses_of(db: &Db, ids: &[i64]) -> Result<Vec<(i64, PauseRow)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT case_id, start_on, end_on FROM case_pause WHERE case_id IN ({}) ORDER BY case_id, id",
        crate::read::marks(1, ids.len())
    );
    let args: Vec<crate::read::Arg> = ids.iter().map(|id| (*id).into()).collect();
    Ok(by_case(db.fetch_all(&sql, &args).await?))
}

/// Cases in a stage whose supplement deadline is before `day` (for the lapse job).
pub async fn supplement_overdue(db: &Db, day: &str) -> Result<Vec<i64>> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT id FROM application_case WHERE stage = 'supplementing' AND supplement_due < $1 ORDER BY id")
        .bind(day)
        .fetch_all(p)
        .await)?)
}

/// Updates the stage and the dated facts that go with it (unchanged when `None`), and the
/// deadlines kept with them (migration 0037).
pub async fn update(tx: &mut Tx, c: &CaseRow) -> Result<()> {
    on_tx!(tx, t => sqlx::query(
        "UPDATE application_case SET stage = $2, profile = $3, paper_received_us = $4, filed_on = $5, supplement_due = $6, closed_on = $7, agreement_no = $8, fee_fen = $9, lead_id = $10, audit_conclusion = $11, dossier_hash = $12, review_round = $13, batch_id = $14 WHERE id = $1")
        .bind(c.id)
        .bind(c.stage.as_str())
        .bind(&c.profile)
        .bind(c.paper_received_us)
        .bind(&c.filed_on)
        .bind(&c.supplement_due)
        .bind(&c.closed_on)
        .bind(&c.agreement_no)
        .bind(c.fee_fen)
        .bind(c.lead_id)
        .bind(&c.audit_conclusion)
        .bind(&c.dossier_hash)
        .bind(c.review_round)
        .bind(c.batch_id)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    deadline::keep_facts(tx, &deadline::Facts::of(c)).await
}

/// Adds the next submission round; returns its number.
pub async fn add_round(
    tx: &mut Tx,
    case_id: i64,
    profile: &str,
    assessment: &str,
    by: i64,
) -> Result<i32> {
    let next: i32 = on_tx!(tx, t => sqlx::query_scalar::<_, i32>("SELECT CAST(COALESCE(MAX(round), 0) + 1 AS INTEGER) FROM case_round WHERE case_id = $1")
        .bind(case_id)
        .fetch_one(&mut *t)
        .await)?;
    let now = now_us();
    on_tx!(tx, t => sqlx::query("INSERT INTO case_round (case_id, round, profile, assessment, submitted_by, submitted_us) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(case_id)
        .bind(next)
        .bind(profile)
        .bind(assessment)
        .bind(by)
        .bind(now)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(next)
}

#[allow(clippy::too_many_arguments)]
/// The cases in batches from `first_batch` on (the certificate desk's latest batches), by id.
pub async fn in_batches_from(db: &Db, first_batch: i64) -> Result<Vec<CaseRow>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM application_case WHERE batch_id >= $1 ORDER BY id"
    ));
    Ok(on_pool!(db, p => sqlx::query_as::<_, CaseRow>(sql).bind(first_batch).fetch_all(p).await)?)
}

/// The number of the latest submission round (0 before the first).
pub async fn last_round(db: &Db, case_id: i64) -> Result<i32> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, i32>(
        "SELECT COALESCE(MAX(round), 0) FROM case_round WHERE case_id = $1")
        .bind(case_id)
        .fetch_one(p)
        .await)?)
}

pub async fn add_transition(
    tx: &mut Tx,
    case_id: i64,
    transition: &str,
    from: &str,
    to: &str,
    actor_id: Option<i64>,
    note: &str,
) -> Result<()> {
    let now = now_us();
    on_tx!(tx, t => sqlx::query("INSERT INTO case_transition (case_id, transition, from_stage, to_stage, actor_id, note, at_us) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(case_id)
        .bind(transition)
        .bind(from)
        .bind(to)
        .bind(actor_id)
        .bind(note)
        .bind(now)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Opens a pause of the clock (九.3) from `start_on`; the case's kept deadlines follow.
pub async fn open_pause(tx: &mut Tx, case_id: i64, start_on: &str) -> Result<()> {
    on_tx!(tx, t => sqlx::query("INSERT INTO case_pause (case_id, start_on) VALUES ($1, $2)")
        .bind(case_id)
        .bind(start_on)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    deadline::keep(tx, case_id).await
}

/// Ends the case's open pause on `end_on`; the case's kept deadlines follow.
pub async fn close_pause(tx: &mut Tx, case_id: i64, end_on: &str) -> Result<()> {
    on_tx!(tx, t => sqlx::query("UPDATE case_pause SET end_on = $2 WHERE case_id = $1 AND end_on IS NULL")
        .bind(case_id)
        .bind(end_on)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    deadline::keep(tx, case_id).await
}

/// For the cases of batches from `first_batch` on: (case id, applicant's name, certificate
/// number if issued), in one query.
pub async fn batch_details_from(
    db: &Db,
    first_batch: i64,
) -> Result<Vec<(i64, String, Option<String>)>> {
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, (i64, String, Option<String>)>(
        "SELECT a.id, o.name, c.number FROM application_case a
           JOIN organization o ON o.id = a.organization_id
           LEFT JOIN certificate c ON c.case_id = a.id
         WHERE a.batch_id >= $1 ORDER BY a.id")
        .bind(first_batch)
        .fetch_all(p)
        .await)?,
    )
}
