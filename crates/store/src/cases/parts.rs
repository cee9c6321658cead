//! A case with its parts (pauses, submission rounds, transitions), read together from one
//! snapshot for its page (issue 14), and the rounds alone.

use std::sync::LazyLock;

use sqlx::FromRow;

use super::{COLUMNS, CaseRow, GET, PauseRow, Round, TransitionRow};
use crate::read::{self, Arg, FromSqlite};
use crate::{Db, Result};

/// A case's submission rounds, first to last.
pub async fn rounds(db: &Db, case_id: i64) -> Result<Vec<Round>> {
    db.fetch_all(&ROUNDS.select, &[case_id.into()]).await
}

/// The rows of one kind a case has (its pauses, rounds or transitions): its table, its
/// columns with their PostgreSQL types, its order, and the query that reads them on their own.
/// Inside the case's one statement on PostgreSQL ([`WITH_PARTS`]) each kind is one branch.
struct Part {
    table: &'static str,
    columns: &'static [(&'static str, &'static str)],
    order: &'static str,
    select: String,
}

impl Part {
    fn new(
        table: &'static str,
        columns: &'static [(&'static str, &'static str)],
        order: &'static str,
    ) -> Part {
        let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        Part {
            table,
            columns,
            order,
            select: format!(
                "SELECT {} FROM {table} WHERE case_id = $1 ORDER BY {order}",
                names.join(", ")
            ),
        }
    }

    fn has(&self, column: &str) -> bool {
        self.columns.iter().any(|(c, _)| *c == column)
    }
}

static PAUSES: LazyLock<Part> = LazyLock::new(|| {
    Part::new(
        "case_pause",
        &[("start_on", "TEXT"), ("end_on", "TEXT")],
        "id",
    )
});
static ROUNDS: LazyLock<Part> = LazyLock::new(|| {
    Part::new(
        "case_round",
        &[
            ("round", "INTEGER"),
            ("profile", "TEXT"),
            ("assessment", "TEXT"),
            ("submitted_by", "BIGINT"),
            ("submitted_us", "BIGINT"),
        ],
        "round",
    )
});
static TRANSITIONS: LazyLock<Part> = LazyLock::new(|| {
    Part::new(
        "case_transition",
        &[
            ("transition", "TEXT"),
            ("from_stage", "TEXT"),
            ("to_stage", "TEXT"),
            ("actor_id", "BIGINT"),
            ("note", "TEXT"),
            ("at_us", "BIGINT"),
        ],
        "id",
    )
});

/// Case `$1` and its parts in one PostgreSQL statement: one row per case, pause, round and
/// transition, each tagged by `part` (0 the case, then 1, 2, 3 in the order of [`PAUSES`],
/// [`ROUNDS`], [`TRANSITIONS`]) and ordered within it by `ord`. The columns are the case's and
/// then every part's own, NULL where a row has none; a round's `profile` goes in the case's
/// column of that name (each row type then reads its fields by name). The first branch gives
/// every column its type. Before (issue 14) the parts came as JSON arrays built in the
/// database and parsed here: the rounds' facts escaped into JSON strings cost PostgreSQL more
/// than reading them (`pgbench`: 14 k against 16.5 k statements a second).
static WITH_PARTS: LazyLock<String> = LazyLock::new(|| {
    let parts: [&Part; 3] = [&PAUSES, &ROUNDS, &TRANSITIONS];
    let case: Vec<&str> = COLUMNS.split(", ").collect();
    let own: Vec<(&str, &str)> = parts
        .iter()
        .flat_map(|p| p.columns.iter().copied())
        .filter(|(c, _)| !case.contains(c))
        .collect();
    let typed: Vec<String> = own
        .iter()
        .map(|(c, t)| format!("CAST(NULL AS {t}) AS {c}"))
        .collect();
    let mut sql = format!(
        "SELECT 0 AS part, CAST(0 AS BIGINT) AS ord, {COLUMNS}, {} FROM application_case WHERE id = $1",
        typed.join(", ")
    );
    for (k, p) in parts.iter().enumerate() {
        let pick = |c: &&str| {
            if p.has(c) {
                c.to_string()
            } else {
                "NULL".into()
            }
        };
        let cols: Vec<String> = case
            .iter()
            .chain(own.iter().map(|(c, _)| c))
            .map(pick)
            .collect();
        sql.push_str(&format!(
            " UNION ALL SELECT {}, {}, {} FROM {} WHERE case_id = $1",
            k + 1,
            p.order,
            cols.join(", "),
            p.table
        ));
    }
    sql + " ORDER BY part, ord"
});

/// A case with the parts its page shows, read together by [`with_parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseParts {
    pub case: CaseRow,
    /// Clock pauses, oldest first.
    pub pauses: Vec<PauseRow>,
    /// Submission rounds, first to last.
    pub rounds: Vec<Round>,
    /// Transitions, oldest first.
    pub transitions: Vec<TransitionRow>,
}

/// Case `id` with its pauses, rounds and transitions, from one snapshot (issue 14): on
/// PostgreSQL one statement ([`WITH_PARTS`]) — one round trip where there were four; on SQLite the four reads
/// in one read transaction on one connection. A transition committed meanwhile shows in the
/// case's stage and its history together, or in neither.
pub async fn with_parts(db: &Db, id: i64) -> Result<Option<CaseParts>> {
    let args = [Arg::I64(id)];
    match db {
        Db::Sqlite(_, r) => r.together(|c| {
            let Some(case) = read::first_on(c, &GET, &args, CaseRow::from_sqlite)? else {
                return Ok(None);
            };
            Ok(Some(CaseParts {
                case,
                pauses: read::rows_on(c, &PAUSES.select, &args, PauseRow::from_sqlite)?,
                rounds: read::rows_on(c, &ROUNDS.select, &args, Round::from_sqlite)?,
                transitions: read::rows_on(
                    c,
                    &TRANSITIONS.select,
                    &args,
                    TransitionRow::from_sqlite,
                )?,
            }))
        }),
        Db::Pg(_, r) => {
            use sqlx::Row as _;
            let rows = read::pg_read!(r, c => sqlx::query(sqlx::AssertSqlSafe(WITH_PARTS.as_str()))
                .bind(id)
                .fetch_all(&mut c));
            let mut rows = rows.iter();
            // No case, no rows (its parts belong to it).
            let Some(first) = rows
                .next()
                .filter(|r| r.try_get::<i32, _>("part").is_ok_and(|p| p == 0))
            else {
                return Ok(None);
            };
            let mut parts = CaseParts {
                case: CaseRow::from_row(first)?,
                pauses: Vec::new(),
                rounds: Vec::new(),
                transitions: Vec::new(),
            };
            for row in rows {
                match row.try_get::<i32, _>("part")? {
                    1 => parts.pauses.push(PauseRow::from_row(row)?),
                    2 => parts.rounds.push(Round::from_row(row)?),
                    _ => parts.transitions.push(TransitionRow::from_row(row)?),
                }
            }
            Ok(Some(parts))
        }
    }
}
