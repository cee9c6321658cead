//! Cases: the current stage and facts, submission rounds (never overwritten), transitions and
//! clock pauses. Dates (China Standard Time calendar days) are stored as `YYYY-MM-DD` text.

use std::sync::LazyLock;

use sqlx::FromRow;
use zizhi_domain::case::Stage;
use zizhi_domain::fees::ApplicationKind;

use crate::read::Arg;
use crate::{Db, Result, Tx, now_us, on_pool, on_tx};

mod parts;
pub use parts::{CaseParts, rounds, with_parts};

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
        "INSERT INTO application_case (organization_id, category, level, kind, stage, profile, created_by, created_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
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
/// A case in a list, with its organisation's name.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Listed {
    #[sqlx(flatten)]
    pub case: CaseRow,
    pub org_name: String,
}
}

/// Which cases a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    /// Only this organisation's cases.
    pub organization_id: Option<i64>,
    /// Only cases in this stage.
    pub stage: Option<&'a str>,
    /// Only cases not closed.
    pub open_only: bool,
    /// Leave out drafts (the centre does not see an application before it is submitted).
    pub no_drafts: bool,
    /// One case by its id (a case number searched for).
    pub id: Option<i64>,
    /// The applicant's USCC, exactly.
    pub uscc: Option<&'a str>,
    /// Part of the applicant's name.
    pub name_like: Option<&'a str>,
    /// The assigned project lead.
    pub lead_id: Option<i64>,
    /// Filed (建档立项) on or after / on or before these ISO days.
    pub filed_from: Option<&'a str>,
    pub filed_to: Option<&'a str>,
    /// Only cases older than this one: a list read in chunks, newest first ([`rows`]), or a
    /// keyset page of the list (the count in [`page`] is still the whole filter's).
    pub before_id: Option<i64>,
}

/// One page of cases, newest first, with the total count of the filter. The rows' `profile`
/// is empty (lists never show the facts).
///
/// The count: a filter of only the stage, open and not-a-draft sums the kept tally
/// (`case_tally`, migration 0030) — a few dozen rows however many cases there are; other
/// filters count the cases through an index (one organisation's, one lead's, a range of
/// filing days), or, for part of a name, by reading them. It counts the whole filter: a page
/// of the cases before one (`before_id`, a keyset page) has the same total as the filter's
/// numbered pages. On PostgreSQL it comes as a column
/// of the page's rows, computed once in the same statement (issue 14: one round trip where
/// there were two); only a page with no rows (past the end, or nothing found) asks for it on
/// its own.
pub async fn page(db: &Db, f: &Filter<'_>, limit: i64, offset: i64) -> Result<(Vec<Listed>, i64)> {
    crate::row! {
    #[derive(FromRow)]
    struct Counted {
        #[sqlx(flatten)]
        listed: Listed,
        total: i64,
    }
    }
    let like = like_pattern(f);
    let (filter, args) = filter_sql(f, like.as_deref());
    // The count is the whole filter's, a keyset page's (`before_id`) too.
    let (whole, whole_args) = if f.before_id.is_some() {
        let whole = Filter {
            before_id: None,
            ..f.clone()
        };
        filter_sql(&whole, like.as_deref())
    } else {
        (filter.clone(), args.clone())
    };
    let count = count_sql(f, &whole);
    let count_apart = || async {
        Ok::<_, crate::StoreError>(
            db.fetch_scalar::<i64>(&count, &whole_args)
                .await?
                .unwrap_or(0),
        )
    };
    // On PostgreSQL the count rides along as a column (its `$n` are the page's when the page
    // has no `before_id`); SQLite has no round trip to save (as a column it made SQLite's sort
    // of the page carry it on every row).
    if matches!(db, Db::Sqlite(..)) || f.before_id.is_some() {
        let rows = rows_and_filter::<Listed>(db, &filter, args, limit, offset, None).await?;
        return Ok((rows, count_apart().await?));
    }
    let column = format!("({count}) AS total");
    let rows = rows_and_filter::<Counted>(db, &filter, args, limit, offset, Some(&column)).await?;
    let total = match rows.first() {
        Some(r) => r.total,
        None => count_apart().await?,
    };
    Ok((rows.into_iter().map(|r| r.listed).collect(), total))
}

/// The count of filter `f` whose joins and `WHERE` are `filter` (its values bound as in
/// [`filter_sql`]): the kept tally when `f` has only the stage, open and not-a-draft
/// conditions (its `before_id` aside), else the cases counted.
fn count_sql(f: &Filter<'_>, filter: &str) -> String {
    let tallied = f.organization_id.is_none()
        && f.id.is_none()
        && f.lead_id.is_none()
        && f.filed_from.is_none()
        && f.filed_to.is_none()
        && f.uscc.is_none()
        && f.name_like.is_none();
    if !tallied {
        return format!("SELECT COUNT(*) FROM application_case a{filter}");
    }
    let mut conds = Vec::new();
    if f.stage.is_some() {
        conds.push("stage = $1");
    }
    if f.open_only {
        conds.push("is_open");
    }
    if f.no_drafts {
        conds.push("stage <> 'draft'");
    }
    let tally = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    format!("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM case_tally{tally}")
}

/// One page of cases, newest first, without counting them: for reading every case of a
/// filter a chunk at a time (the next chunk's `before_id` is the last row's id), so that
/// memory stays bounded however many cases there are.
pub async fn rows(db: &Db, f: &Filter<'_>, limit: i64) -> Result<Vec<Listed>> {
    let like = like_pattern(f);
    let (filter, args) = filter_sql(f, like.as_deref());
    rows_and_filter(db, &filter, args, limit, 0, None).await
}

/// Up to this many cases skipped, a page of the list reads its rows straight from the table;
/// past it, along the index first ([`rows_and_filter`]).
const SHALLOW: i64 = 500;

/// The `LIKE` pattern of a filter's part of a name, its wildcards escaped.
fn like_pattern(f: &Filter<'_>) -> Option<String> {
    f.name_like.map(|q| {
        format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    })
}

/// A filter's joins and `WHERE` as SQL (on `application_case a`), with its values in the
/// order of their `$n`.
fn filter_sql<'a>(f: &Filter<'a>, like: Option<&'a str>) -> (String, Vec<Arg<'a>>) {
    // Only the conditions in use, so that the count is answered from an index (a
    // `$1 IS NULL OR …` filter would scan every row, JSON facts included).
    let mut conds: Vec<String> = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    // A condition, its `$?` numbered after the values bound so far.
    fn push<'a>(conds: &mut Vec<String>, args: &mut Vec<Arg<'a>>, sql: &str, a: Option<Arg<'a>>) {
        if let Some(a) = a {
            args.push(a);
        }
        conds.push(sql.replace("$?", &format!("${}", args.len())));
    }
    macro_rules! cond {
        ($sql:expr, $a:expr) => {
            push(&mut conds, &mut args, $sql, $a)
        };
    }
    if let Some(o) = f.organization_id {
        cond!("a.organization_id = $?", Some(o.into()));
    }
    if let Some(s) = f.stage {
        cond!("a.stage = $?", Some(s.into()));
    }
    if f.open_only {
        cond!("a.closed_on IS NULL", None);
    }
    if f.no_drafts {
        cond!("a.stage <> 'draft'", None);
    }
    if let Some(x) = f.id {
        cond!("a.id = $?", Some(x.into()));
    }
    if let Some(x) = f.lead_id {
        cond!("a.lead_id = $?", Some(x.into()));
    }
    if let Some(x) = f.filed_from {
        cond!("a.filed_on >= $?", Some(x.into()));
    }
    if let Some(x) = f.filed_to {
        cond!("a.filed_on <= $?", Some(x.into()));
    }
    if let Some(x) = f.before_id {
        cond!("a.id < $?", Some(x.into()));
    }
    // The applicant's facts: only then is the organisation joined for the filter.
    let mut join = "";
    if let Some(x) = f.uscc {
        join = " JOIN organization ao ON ao.id = a.organization_id";
        cond!("ao.uscc = $?", Some(x.into()));
    }
    if let Some(x) = like {
        join = " JOIN organization ao ON ao.id = a.organization_id";
        cond!("ao.name LIKE $? ESCAPE '\\'", Some(x.into()));
    }
    let filter = if conds.is_empty() {
        join.to_string()
    } else {
        format!("{join} WHERE {}", conds.join(" AND "))
    };
    (filter, args)
}

/// A page's rows of the filter whose joins and `WHERE` are `filter` with values `args`
/// ([`filter_sql`]); `extra` is one more column of every row (the count, by the same values).
async fn rows_and_filter<T>(
    db: &Db,
    filter: &str,
    mut args: Vec<Arg<'_>>,
    limit: i64,
    offset: i64,
    extra: Option<&str>,
) -> Result<Vec<T>>
where
    T: crate::read::FromSqlite + for<'r> FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let n = args.len();
    // In the row's order, the facts left empty (lists never show them; selecting `a.*` made
    // SQLite copy each case's facts, about 1 KB of JSON, into the subquery — issue 14).
    let mut outer: Vec<String> = COLUMNS
        .split(", ")
        .map(|c| match c {
            "profile" => "CAST('' AS TEXT) AS profile".to_string(),
            c => format!("c.{c}"),
        })
        .collect();
    outer.push("o.name AS org_name".into());
    if let Some(extra) = extra {
        outer.push(extra.to_string());
    }
    let sql = if offset <= SHALLOW {
        // A page near the top: its rows straight from the table, without the facts.
        let inner: Vec<String> = COLUMNS
            .split(", ")
            .filter(|c| *c != "profile")
            .map(|c| format!("a.{c}"))
            .collect();
        format!(
            "SELECT {} FROM
               (SELECT {} FROM application_case a{filter} ORDER BY a.id DESC LIMIT ${} OFFSET ${}) c
               JOIN organization o ON o.id = c.organization_id ORDER BY c.id DESC",
            outer.join(", "),
            inner.join(", "),
            n + 1,
            n + 2
        )
    } else {
        // A page further down: its cases found first by id alone, so that the cases skipped
        // are read only from the narrow index `case_listing` (migration 0036), not from the
        // table with their facts (the middle page of 100 000 cases: 54 → 410 requests a second
        // on SQLite); then only the page's own rows are read. Near the top the second read of
        // the table cost more than it saved (PostgreSQL, page 2: 10–15 % slower).
        format!(
            "SELECT {} FROM
               (SELECT a.id FROM application_case a{filter} ORDER BY a.id DESC LIMIT ${} OFFSET ${}) p
               JOIN application_case c ON c.id = p.id
               JOIN organization o ON o.id = c.organization_id ORDER BY c.id DESC",
            outer.join(", "),
            n + 1,
            n + 2
        )
    };
    args.push(limit.into());
    args.push(offset.into());
    db.fetch_all(&sql, &args).await
}

crate::row! {
#[derive(FromRow)]
struct PauseOfCase {
    case_id: i64,
    start_on: String,
    end_on: Option<String>,
}
}

fn by_case(rows: Vec<PauseOfCase>) -> Vec<(i64, PauseRow)> {
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
    Ok(db
        .fetch_scalar::<i64>("SELECT n FROM case_version WHERE id = 1", &[])
        .await?
        .unwrap_or(0))
}

/// The pauses of the cases with ids from `first` to `last` (a chunk of a list), by case id.
pub async fn pauses_between(db: &Db, first: i64, last: i64) -> Result<Vec<(i64, PauseRow)>> {
    Ok(by_case(
        db.fetch_all(
            "SELECT case_id, start_on, end_on FROM case_pause WHERE case_id BETWEEN $1 AND $2
             ORDER BY case_id, id",
            &[first.into(), last.into()],
        )
        .await?,
    ))
}

/// The pauses of every open, filed case (for the staff dashboard's clocks), by case id.
pub async fn open_pauses(db: &Db) -> Result<Vec<(i64, PauseRow)>> {
    let rows = on_pool!(db, p => sqlx::query_as::<_, PauseOfCase>(
        "SELECT p.case_id, p.start_on, p.end_on FROM case_pause p JOIN application_case c ON c.id = p.case_id
         WHERE c.closed_on IS NULL AND c.filed_on IS NOT NULL ORDER BY p.case_id, p.id")
        .fetch_all(p)
        .await)?;
    Ok(by_case(rows))
}

/// The pauses of these cases (a page of a list), by case id.
pub async fn pauses_of(db: &Db, ids: &[i64]) -> Result<Vec<(i64, PauseRow)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT case_id, start_on, end_on FROM case_pause WHERE case_id IN ({}) ORDER BY case_id, id",
        marks.join(", ")
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

/// Updates the stage and the dated facts that go with it (unchanged when `None`).
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
    Ok(())
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

pub async fn open_pause(tx: &mut Tx, case_id: i64, start_on: &str) -> Result<()> {
    on_tx!(tx, t => sqlx::query("INSERT INTO case_pause (case_id, start_on) VALUES ($1, $2)")
        .bind(case_id)
        .bind(start_on)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn close_pause(tx: &mut Tx, case_id: i64, end_on: &str) -> Result<()> {
    on_tx!(tx, t => sqlx::query("UPDATE case_pause SET end_on = $2 WHERE case_id = $1 AND end_on IS NULL")
        .bind(case_id)
        .bind(end_on)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
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
