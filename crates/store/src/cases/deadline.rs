//! Each open, filed case's deadlines kept with the case (migration 0037, issue 14), so that the
//! staff dashboard and the case list's deadline filters read indexes instead of every open
//! case's clock: [`keep`] in every transaction that changes a case or its pauses, [`keep_all`]
//! once for the cases a database held before; the dashboard's reads below.

use sqlx::FromRow;
use zizhi_domain::calendar::parse_date;
use zizhi_domain::case::Stage;
use zizhi_domain::clock::{Pause, Standing, standing};

use super::{COLUMNS, CaseRow, Listed, OPEN_PAUSES, PauseOfCase, PauseRow, by_case};
use crate::{Db, Result, Tx, on_tx};

/// The kept columns of a case: (`due_on`, `clock_due`, `clock_left`).
type Kept = (Option<String>, Option<String>, Option<i64>);

crate::row! {
/// What the kept columns follow from, besides the pauses.
#[derive(FromRow)]
pub(crate) struct Facts {
    id: i64,
    #[sqlx(try_from = "String")]
    stage: Stage,
    filed_on: Option<String>,
    supplement_due: Option<String>,
    closed_on: Option<String>,
}
}

impl Facts {
    /// The facts of a case row about to be written.
    pub(crate) fn of(c: &CaseRow) -> Facts {
        Facts {
            id: c.id,
            stage: c.stage,
            filed_on: c.filed_on.clone(),
            supplement_due: c.supplement_due.clone(),
            closed_on: c.closed_on.clone(),
        }
    }

    /// What the kept columns are with these pauses: nothing for a closed or unfiled case; the
    /// clock's standing (`clock::standing`, 九.3) and the deadline of the stage
    /// ([`Stage::deadline`]) otherwise.
    fn kept(&self, pauses: &[PauseRow]) -> Kept {
        let (Some(filed), None) = (
            self.filed_on.as_deref().and_then(parse_date),
            &self.closed_on,
        ) else {
            return (None, None, None);
        };
        let pauses: Vec<Pause> = pauses.iter().filter_map(PauseRow::pause).collect();
        let supplement_due = self.supplement_due.as_deref().and_then(parse_date);
        let (target, left) = match standing(filed, &pauses) {
            Standing::Running { target_due } => (Some(target_due), None),
            Standing::Paused { days_left } => (None, Some(days_left)),
        };
        let due = self.stage.deadline(supplement_due, target);
        (
            due.map(|d| d.to_string()),
            target.map(|d| d.to_string()),
            left,
        )
    }
}

const FACTS: &str = "SELECT id, stage, filed_on, supplement_due, closed_on FROM application_case";
const KEEP: &str =
    "UPDATE application_case SET due_on = $2, clock_due = $3, clock_left = $4 WHERE id = $1";

/// Keeps case `id`'s deadline columns after a change to its pauses, in the same transaction
/// (called by `open_pause`, `close_pause`).
pub(crate) async fn keep(tx: &mut Tx, id: i64) -> Result<()> {
    let sql = sqlx::AssertSqlSafe(format!("{FACTS} WHERE id = $1"));
    let facts =
        on_tx!(tx, t => sqlx::query_as::<_, Facts>(sql).bind(id).fetch_optional(&mut *t).await)?;
    match facts {
        Some(f) => keep_facts(tx, &f).await,
        None => Ok(()),
    }
}

/// Keeps a case's deadline columns from its facts as now written and its pauses, in the same
/// transaction (called by `cases::update` with the row it writes).
pub(crate) async fn keep_facts(tx: &mut Tx, f: &Facts) -> Result<()> {
    let pauses = on_tx!(tx, t => sqlx::query_as::<_, PauseRow>(
        "SELECT start_on, end_on FROM case_pause WHERE case_id = $1 ORDER BY id")
        .bind(f.id)
        .fetch_all(&mut *t)
        .await)?;
    let (due, target, left) = f.kept(&pauses);
    on_tx!(tx, t => sqlx::query(KEEP)
        .bind(f.id)
        .bind(due)
        .bind(target)
        .bind(left)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Fills the kept columns of every open, filed case (the store task `case_deadline` of
/// migration 0037: the cases a database held before it), in the caller's transaction.
pub(crate) async fn keep_all(tx: &mut Tx) -> Result<()> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{FACTS} WHERE closed_on IS NULL AND filed_on IS NOT NULL ORDER BY id"
    ));
    let cases = on_tx!(tx, t => sqlx::query_as::<_, Facts>(sql).fetch_all(&mut *t).await)?;
    let pauses = on_tx!(tx, t => sqlx::query_as::<_, PauseOfCase>(OPEN_PAUSES)
        .fetch_all(&mut *t)
        .await)?;
    let mut of_case: std::collections::HashMap<i64, Vec<PauseRow>> = Default::default();
    for (id, p) in by_case(pauses) {
        of_case.entry(id).or_default().push(p);
    }
    let rows: Vec<(i64, Kept)> = cases
        .iter()
        .map(|f| {
            (
                f.id,
                f.kept(of_case.get(&f.id).map_or(&[][..], Vec::as_slice)),
            )
        })
        .collect();
    // A thousand cases a statement: on PostgreSQL each statement bumps the case version once
    // (a statement trigger), and a row updated many times in one transaction is slow to update
    // again (70 000 single updates took 40 s; 70 statements take about a second).
    for chunk in rows.chunks(1000) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "(${}, ${}, ${}, ${})",
                    4 * i + 1,
                    4 * i + 2,
                    4 * i + 3,
                    4 * i + 4
                )
            })
            .collect();
        let sql = format!(
            "UPDATE application_case SET due_on = v.column2, clock_due = v.column3, clock_left = v.column4
             FROM (VALUES {}) AS v WHERE application_case.id = v.column1",
            values.join(", ")
        );
        on_tx!(tx, t => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, (due, target, left)) in chunk {
                q = q.bind(*id).bind(due.as_deref()).bind(target.as_deref()).bind(*left);
            }
            q.execute(t).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// The open cases the centre sees (not drafts) whose kept deadline (`due_on`) falls before
/// `overdue_before`, and from it to `warn_until`: the dashboard's overdue and
/// due-within-15-days counts, summed from the kept count per deadline day (`case_due_tally`,
/// migration 0037: a row a day, whatever the number of cases).
pub async fn due_counts(db: &Db, overdue_before: &str, warn_until: &str) -> Result<(i64, i64)> {
    crate::row! {
    #[derive(FromRow)]
    struct Counts {
        overdue: i64,
        warning: i64,
    }
    }
    let row: Option<Counts> = db
        .fetch_optional(
            "SELECT CAST(COALESCE(SUM(CASE WHEN due_on < $1 THEN n ELSE 0 END), 0) AS BIGINT) AS overdue,
                    CAST(COALESCE(SUM(CASE WHEN due_on >= $1 THEN n ELSE 0 END), 0) AS BIGINT) AS warning
             FROM case_due_tally WHERE due_on <= $2",
            &[overdue_before.into(), warn_until.into()],
        )
        .await?;
    Ok(row.map_or((0, 0), |r| (r.overdue, r.warning)))
}

/// The open cases in each stage (drafts left out: the centre does not see them), from the kept
/// tally (migration 0030).
pub async fn open_by_stage(db: &Db) -> Result<Vec<(Stage, i64)>> {
    crate::row! {
    #[derive(FromRow)]
    struct Tally {
        #[sqlx(try_from = "String")]
        stage: Stage,
        n: i64,
    }
    }
    let rows: Vec<Tally> = db
        .fetch_all(
            "SELECT stage, CAST(n AS BIGINT) AS n FROM case_tally
             WHERE is_open AND n > 0 AND stage <> 'draft'",
            &[],
        )
        .await?;
    Ok(rows.into_iter().map(|r| (r.stage, r.n)).collect())
}

/// Which open cases [`most_urgent`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgent {
    /// Filed, the clock running: by the target day (`case_by_clock_due`).
    Running,
    /// Filed, a pause lasting: by the days left (`case_by_clock_left`).
    Paused,
    /// Submitted, not yet filed: oldest first.
    Unfiled,
}

/// The first `limit` open cases of one kind, most urgent first (ties: the smaller id), with
/// their applicants' names; the rows' `profile` is empty.
pub async fn most_urgent(db: &Db, kind: Urgent, limit: i64) -> Result<Vec<Listed>> {
    let (cond, order) = match kind {
        Urgent::Running => ("a.clock_due IS NOT NULL", "a.clock_due, a.id"),
        Urgent::Paused => ("a.clock_left IS NOT NULL", "a.clock_left, a.id"),
        Urgent::Unfiled => (
            "a.closed_on IS NULL AND a.filed_on IS NULL AND a.stage <> 'draft'",
            "a.id",
        ),
    };
    let columns: Vec<String> = COLUMNS
        .split(", ")
        .map(|c| match c {
            "profile" => "CAST('' AS TEXT) AS profile".to_string(),
            c => format!("a.{c}"),
        })
        .collect();
    // Each kind walks its index whatever the limit: the number is written in, so that
    // PostgreSQL plans the statement once (`read::page_bounds`).
    let mut args = Vec::new();
    let bounds = crate::read::page_bounds(true, limit, 0, &mut args);
    let sql = format!(
        "SELECT {}, o.name AS org_name, a.due_on FROM application_case a
           JOIN organization o ON o.id = a.organization_id
         WHERE {cond} ORDER BY {order}{bounds}",
        columns.join(", ")
    );
    db.fetch_all(&sql, &args).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, e: Option<&str>) -> PauseRow {
        PauseRow {
            start_on: s.to_string(),
            end_on: e.map(str::to_string),
        }
    }

    fn kept(
        stage: &str,
        filed_on: Option<&str>,
        supplement_due: Option<&str>,
        closed_on: Option<&str>,
        pauses: &[PauseRow],
    ) -> Kept {
        let own = |x: Option<&str>| x.map(str::to_string);
        Facts {
            id: 1,
            stage: Stage::parse(stage).unwrap(),
            filed_on: own(filed_on),
            supplement_due: own(supplement_due),
            closed_on: own(closed_on),
        }
        .kept(pauses)
    }

    /// 九.3 and 5.2: what is kept for each kind of case.
    #[test]
    fn the_kept_deadlines_follow_the_stage_and_the_pauses() {
        let filed = Some("2026-01-31");
        // Running (acceptance review): the target is the deadline.
        assert_eq!(
            kept("acceptance_review", filed, None, None, &[]),
            (Some("2026-04-30".into()), Some("2026-04-30".into()), None)
        );
        // Supplementing: the supplement's day is the deadline; the clock is paused.
        let supplementing = [p("2026-02-10", None)];
        assert_eq!(
            kept(
                "supplementing",
                filed,
                Some("2026-03-10"),
                None,
                &supplementing
            ),
            (Some("2026-03-10".into()), None, Some(79))
        );
        // Lapsed: paused, no deadline of its own (the lead terminates or extends).
        assert_eq!(
            kept("lapsed", filed, Some("2026-03-10"), None, &supplementing),
            (None, None, Some(79))
        );
        // Back in evaluation after a 20-day supplement and a 10-day payment pause.
        let done = [
            p("2026-02-10", Some("2026-03-02")),
            p("2026-04-01", Some("2026-04-11")),
        ];
        assert_eq!(
            kept("evaluation", filed, None, None, &done),
            (Some("2026-05-30".into()), Some("2026-05-30".into()), None)
        );
        // Awaiting payment: paused, no deadline the list filters by.
        assert_eq!(
            kept(
                "agreement_effective",
                filed,
                None,
                None,
                &[p("2026-02-20", None)]
            ),
            (None, None, Some(69))
        );
        // Closed or not filed: nothing kept.
        assert_eq!(
            kept("certified", filed, None, Some("2026-04-01"), &[]),
            (None, None, None)
        );
        assert_eq!(kept("submitted", None, None, None, &[]), (None, None, None));
    }
}
