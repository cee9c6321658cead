//! The project archive (档案, guide 八): when each closed case was archived and how long it is
//! kept, the holds on it, and disposals after retention.

use sqlx::FromRow;

use crate::{Db, Result, Tx, now_us, on_pool, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ArchiveRecord {
    pub case_id: i64,
    pub archived_on: String,
    /// The last day of retention; disposal may come the day after.
    pub retain_until: String,
    /// The disposal that lists it (proposed, or carried out).
    pub disposal_id: Option<i64>,
    pub disposed_on: Option<String>,
}

const RECORD: &str = "case_id, archived_on, retain_until, disposal_id, disposed_on";

/// Closed cases not archived yet, with the day they closed: not accepted, failed, terminated
/// or withdrawn on their closing day; certified ones on the day their certificate's life ended
/// (expired or revoked, from its status history).
pub async fn newly_closed(db: &Db) -> Result<Vec<(i64, String)>> {
    let mut out: Vec<(i64, String)> = on_pool!(db, p => sqlx::query_as::<_, (i64, String)>(
        "SELECT c.id, c.closed_on FROM application_case c
         LEFT JOIN archive_record a ON a.case_id = c.id
         WHERE a.case_id IS NULL AND c.closed_on IS NOT NULL
           AND c.stage IN ('not_accepted', 'failed', 'terminated', 'withdrawn')
         ORDER BY c.id")
        .fetch_all(p)
        .await)?;
    let ended: Vec<(i64, Option<String>, String)> = on_pool!(db, p => sqlx::query_as::<_, (i64, Option<String>, String)>(
        "SELECT c.id,
                (SELECT MAX(e.on_date) FROM certificate_status_event e
                  WHERE e.certificate_id = t.id AND e.status IN ('expired', 'revoked')),
                t.valid_until
         FROM application_case c
         JOIN certificate t ON t.case_id = c.id
         LEFT JOIN archive_record a ON a.case_id = c.id
         WHERE a.case_id IS NULL AND c.stage = 'certified' AND t.status IN ('expired', 'revoked')
         ORDER BY c.id")
        .fetch_all(p)
        .await)?;
    out.extend(
        ended
            .into_iter()
            .map(|(id, on, until)| (id, on.unwrap_or(until))),
    );
    Ok(out)
}

/// Archives a case (once: a second call changes nothing). True when it was archived now.
pub async fn archive(
    tx: &mut Tx,
    case_id: i64,
    archived_on: &str,
    retain_until: &str,
) -> Result<bool> {
    let n = on_tx!(tx, t => sqlx::query(
        "INSERT INTO archive_record (case_id, archived_on, retain_until, created_us) VALUES ($1, $2, $3, $4)
         ON CONFLICT (case_id) DO NOTHING")
        .bind(case_id)
        .bind(archived_on)
        .bind(retain_until)
        .bind(now_us())
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A case an appeal reopened leaves the archive (it is open again); a disposed one never does.
pub async fn reopen(tx: &mut Tx, case_id: i64) -> Result<bool> {
    let n = on_tx!(tx, t => sqlx::query(
        "DELETE FROM archive_record WHERE case_id = $1 AND disposed_on IS NULL AND disposal_id IS NULL")
        .bind(case_id)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn get(db: &Db, case_id: i64) -> Result<Option<ArchiveRecord>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {RECORD} FROM archive_record WHERE case_id = $1"
    ));
    Ok(on_pool!(db, p => sqlx::query_as::<_, ArchiveRecord>(sql)
        .bind(case_id)
        .fetch_optional(p)
        .await)?)
}

pub async fn get_tx(tx: &mut Tx, case_id: i64) -> Result<Option<ArchiveRecord>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {RECORD} FROM archive_record WHERE case_id = $1"
    ));
    Ok(on_tx!(tx, t => sqlx::query_as::<_, ArchiveRecord>(sql)
        .bind(case_id)
        .fetch_optional(t)
        .await)?)
}

/// An archived case past its retention, with its holder.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Due {
    pub case_id: i64,
    pub archived_on: String,
    pub retain_until: String,
    pub organization_id: i64,
    pub holder: String,
}

/// Archived cases whose retention ended before `today` and that no disposal lists yet.
pub async fn due(db: &Db, today: &str, limit: i64) -> Result<Vec<Due>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, Due>(
        "SELECT a.case_id, a.archived_on, a.retain_until, c.organization_id, o.name AS holder
         FROM archive_record a
         JOIN application_case c ON c.id = a.case_id
         JOIN organization o ON o.id = c.organization_id
         WHERE a.retain_until < $1 AND a.disposal_id IS NULL
         ORDER BY a.retain_until, a.case_id LIMIT $2")
        .bind(today)
        .bind(limit)
        .fetch_all(p)
        .await)?)
}

/// Ties archived cases to a disposal (proposed) or frees them again (`None`, declined).
pub async fn set_disposal(tx: &mut Tx, case_id: i64, disposal_id: Option<i64>) -> Result<()> {
    on_tx!(tx, t => sqlx::query(
        "UPDATE archive_record SET disposal_id = $2 WHERE case_id = $1 AND disposed_on IS NULL")
        .bind(case_id)
        .bind(disposal_id)
        .execute(t)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn mark_disposed(tx: &mut Tx, case_id: i64, on: &str) -> Result<()> {
    on_tx!(tx, t => sqlx::query("UPDATE archive_record SET disposed_on = $2 WHERE case_id = $1")
        .bind(case_id)
        .bind(on)
        .execute(t)
        .await
        .map(|_| ()))?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Hold {
    pub id: i64,
    pub case_id: i64,
    pub reason: String,
    pub placed_by: i64,
    pub placed_on: String,
    pub released_by: Option<i64>,
    pub released_on: Option<String>,
    pub release_note: String,
}

const HOLD: &str =
    "id, case_id, reason, placed_by, placed_on, released_by, released_on, release_note";

pub async fn place_hold(tx: &mut Tx, case_id: i64, reason: &str, by: i64, on: &str) -> Result<i64> {
    Ok(on_tx!(tx, t => sqlx::query_scalar(
        "INSERT INTO legal_hold (case_id, reason, placed_by, placed_on, created_us) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(case_id)
        .bind(reason)
        .bind(by)
        .bind(on)
        .bind(now_us())
        .fetch_one(t)
        .await)?)
}

pub async fn hold_locked(tx: &mut Tx, id: i64) -> Result<Option<Hold>> {
    let lock = tx.for_update();
    let sql = sqlx::AssertSqlSafe(format!("SELECT {HOLD} FROM legal_hold WHERE id = $1{lock}"));
    Ok(on_tx!(tx, t => sqlx::query_as::<_, Hold>(sql)
        .bind(id)
        .fetch_optional(t)
        .await)?)
}

pub async fn release_hold(tx: &mut Tx, id: i64, by: i64, on: &str, note: &str) -> Result<()> {
    on_tx!(tx, t => sqlx::query(
        "UPDATE legal_hold SET released_by = $2, released_on = $3, release_note = $4 WHERE id = $1 AND released_on IS NULL")
        .bind(id)
        .bind(by)
        .bind(on)
        .bind(note)
        .execute(t)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The holds on a case, newest first.
pub async fn holds(db: &Db, case_id: i64) -> Result<Vec<Hold>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {HOLD} FROM legal_hold WHERE case_id = $1 ORDER BY id DESC"
    ));
    Ok(on_pool!(db, p => sqlx::query_as::<_, Hold>(sql)
        .bind(case_id)
        .fetch_all(p)
        .await)?)
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Disposal {
    pub id: i64,
    /// JSON array of case ids.
    pub case_ids: String,
    /// `proposed`, `declined` or `carried_out`.
    pub state: String,
    pub proposed_by: i64,
    pub proposed_on: String,
    pub decided_by: Option<i64>,
    pub decided_on: Option<String>,
    pub note: String,
    /// JSON: what was destroyed, per case (number, holder, object hashes).
    pub destroyed: String,
}

const DISPOSAL: &str =
    "id, case_ids, state, proposed_by, proposed_on, decided_by, decided_on, note, destroyed";

pub async fn insert_disposal(tx: &mut Tx, case_ids: &str, by: i64, on: &str) -> Result<i64> {
    Ok(on_tx!(tx, t => sqlx::query_scalar(
        "INSERT INTO disposal (case_ids, state, proposed_by, proposed_on, created_us) VALUES ($1, 'proposed', $2, $3, $4) RETURNING id")
        .bind(case_ids)
        .bind(by)
        .bind(on)
        .bind(now_us())
        .fetch_one(t)
        .await)?)
}

pub async fn disposal_locked(tx: &mut Tx, id: i64) -> Result<Option<Disposal>> {
    let lock = tx.for_update();
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {DISPOSAL} FROM disposal WHERE id = $1{lock}"
    ));
    Ok(on_tx!(tx, t => sqlx::query_as::<_, Disposal>(sql)
        .bind(id)
        .fetch_optional(t)
        .await)?)
}

pub async fn disposal(db: &Db, id: i64) -> Result<Option<Disposal>> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {DISPOSAL} FROM disposal WHERE id = $1"));
    Ok(on_pool!(db, p => sqlx::query_as::<_, Disposal>(sql)
        .bind(id)
        .fetch_optional(p)
        .await)?)
}

pub async fn disposals(db: &Db, limit: i64) -> Result<Vec<Disposal>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {DISPOSAL} FROM disposal ORDER BY id DESC LIMIT $1"
    ));
    Ok(on_pool!(db, p => sqlx::query_as::<_, Disposal>(sql)
        .bind(limit)
        .fetch_all(p)
        .await)?)
}

pub async fn save_disposal(tx: &mut Tx, d: &Disposal) -> Result<()> {
    on_tx!(tx, t => sqlx::query(
        "UPDATE disposal SET state = $2, decided_by = $3, decided_on = $4, note = $5, destroyed = $6 WHERE id = $1")
        .bind(d.id)
        .bind(&d.state)
        .bind(d.decided_by)
        .bind(&d.decided_on)
        .bind(&d.note)
        .bind(&d.destroyed)
        .execute(t)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// One stored object a case's file refers to.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CaseObject {
    /// `evidence`, `letter` or `certificate`.
    pub kind: String,
    pub sha256: String,
    pub sm3: String,
    pub name: String,
}

/// The objects of a case's file: the evidence filed against it (once per file), its letters
/// and its certificate's signed document.
pub async fn case_objects(db: &Db, case_id: i64) -> Result<Vec<CaseObject>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, CaseObject>(
        "SELECT DISTINCT 'evidence' AS kind, e.sha256, e.sm3, e.original_name AS name
           FROM case_evidence l JOIN evidence e ON e.id = l.evidence_id WHERE l.case_id = $1
         UNION ALL
         SELECT 'letter', pdf_sha256, pdf_sm3, title FROM case_letter WHERE case_id = $1
         UNION ALL
         SELECT 'certificate', s.pdf_sha256, s.pdf_sm3, t.number FROM certificate_seal s
           JOIN certificate t ON t.id = s.certificate_id WHERE t.case_id = $1")
        .bind(case_id)
        .fetch_all(p)
        .await)?)
}

/// The case of each reference to an object (`$1`, its SHA-256): evidence rows (NULL when in a
/// library but filed with no case), letters, certificate seals.
const REFERENCES: &str = "SELECT l.case_id FROM evidence e LEFT JOIN case_evidence l ON l.evidence_id = e.id WHERE e.sha256 = $1
         UNION ALL
         SELECT case_id FROM case_letter WHERE pdf_sha256 = $1
         UNION ALL
         SELECT t.case_id FROM certificate_seal s JOIN certificate t ON t.id = s.certificate_id WHERE s.pdf_sha256 = $1";

/// Every place an object is referred to: the case of each reference (`None` for an evidence
/// file in an organisation's library that no case refers to).
pub async fn object_references(tx: &mut Tx, sha256: &str) -> Result<Vec<Option<i64>>> {
    let rows: Vec<(Option<i64>,)> = on_tx!(tx, t => sqlx::query_as::<_, (Option<i64>,)>(
        REFERENCES)
        .bind(sha256)
        .fetch_all(t)
        .await)?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

/// The cases already disposed of (their references no longer keep an object).
pub async fn disposed_cases(tx: &mut Tx) -> Result<Vec<i64>> {
    Ok(on_tx!(tx, t => sqlx::query_scalar::<_, i64>(
        "SELECT case_id FROM archive_record WHERE disposed_on IS NOT NULL")
        .fetch_all(t)
        .await)?)
}

/// How many sanctions on the case's certificate still ask something of someone (proposed,
/// awaiting or verifying a rectification): a legal hold.
pub async fn open_sanctions_on_case(db: &Db, case_id: i64) -> Result<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM sanction s JOIN certificate t ON t.id = s.certificate_id
         WHERE t.case_id = $1 AND s.state IN ('proposed', 'awaiting_rectification', 'rectification_submitted')")
        .bind(case_id)
        .fetch_one(p)
        .await)?)
}

/// Whether an evidence file belongs to a case file that was disposed of.
pub async fn evidence_disposed(db: &Db, evidence_id: i64) -> Result<bool> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM case_evidence l JOIN archive_record a ON a.case_id = l.case_id
         WHERE l.evidence_id = $1 AND a.disposed_on IS NOT NULL")
        .bind(evidence_id)
        .fetch_one(p)
        .await)?
        > 0)
}

/// Whether every reference to an object is from a disposed case's file (its bytes were
/// destroyed on purpose, 八), read outside a transaction (backups, checks). Same references as
/// [`object_references`].
pub async fn disposed_only(db: &Db, sha256: &str) -> Result<bool> {
    let refs: Vec<(Option<i64>,)> = on_pool!(db, p => sqlx::query_as::<_, (Option<i64>,)>(
        REFERENCES)
        .bind(sha256)
        .fetch_all(p)
        .await)?;
    let gone: Vec<i64> = on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT case_id FROM archive_record WHERE disposed_on IS NOT NULL")
        .fetch_all(p)
        .await)?;
    Ok(!refs.is_empty() && refs.iter().all(|(c,)| c.is_some_and(|c| gone.contains(&c))))
}

/// Serialises the removal of stored objects with the insertion of rows that refer to them:
/// whoever deletes bytes holds this inside its transaction, and an upload's row insert waits
/// for it (PostgreSQL: a table lock that conflicts with INSERT; SQLite: the write lock every
/// write transaction already holds).
pub async fn lock_objects(tx: &mut Tx) -> Result<()> {
    if let Tx::Pg(t, _) = tx {
        sqlx::query("LOCK TABLE evidence IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}
