//! A case with its parts (pauses, submission rounds, transitions), read together from one
//! snapshot for its page (issue 14), and the rounds alone.

use std::sync::LazyLock;

use sqlx::FromRow;

use super::{COLUMNS, CaseRow, GET, PauseRow, Round, TransitionRow};
use crate::read::{self, Arg, FromSqlite};
use crate::{Db, Result, StoreError};

/// A case's submission rounds, first to last.
pub async fn rounds(db: &Db, case_id: i64) -> Result<Vec<Round>> {
    db.fetch_all(&ROUNDS.select, &[case_id.into()]).await
}

/// The rows of one kind a case has (its pauses, rounds or transitions), written once for both
/// ways they are read: on their own (`select`) and inside the case's one statement on
/// PostgreSQL (`json`, the rows as one JSON array of objects named like the row's fields).
struct Part {
    select: String,
    json: String,
}

impl Part {
    fn new(table: &str, columns: &[&str], order: &str) -> Part {
        let pairs: Vec<String> = columns.iter().map(|c| format!("'{c}', {c}")).collect();
        Part {
            select: format!(
                "SELECT {} FROM {table} WHERE case_id = $1 ORDER BY {order}",
                columns.join(", ")
            ),
            json: format!(
                "(SELECT COALESCE(json_agg(json_build_object({}) ORDER BY {order}), '[]')::text \
                 FROM {table} WHERE case_id = $1)",
                pairs.join(", ")
            ),
        }
    }
}

static PAUSES: LazyLock<Part> =
    LazyLock::new(|| Part::new("case_pause", &["start_on", "end_on"], "id"));
static ROUNDS: LazyLock<Part> = LazyLock::new(|| {
    Part::new(
        "case_round",
        &[
            "round",
            "profile",
            "assessment",
            "submitted_by",
            "submitted_us",
        ],
        "round",
    )
});
static TRANSITIONS: LazyLock<Part> = LazyLock::new(|| {
    Part::new(
        "case_transition",
        &[
            "transition",
            "from_stage",
            "to_stage",
            "actor_id",
            "note",
            "at_us",
        ],
        "id",
    )
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

crate::row! {
/// [`CaseParts`] as PostgreSQL returns it: the case's columns, and its pauses, rounds and
/// transitions each as one JSON array (text) of objects named like their rows' fields.
#[derive(FromRow)]
struct PgParts {
    #[sqlx(flatten)]
    case: CaseRow,
    pauses: String,
    rounds: String,
    transitions: String,
}
}

/// Case `id` with its pauses, rounds and transitions, from one snapshot (issue 14): on
/// PostgreSQL one statement — one round trip where there were four; on SQLite the four reads
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
        Db::Pg(..) => {
            static SQL: LazyLock<String> = LazyLock::new(|| {
                format!(
                    "SELECT {COLUMNS}, {} AS pauses, {} AS rounds, {} AS transitions \
                     FROM application_case WHERE id = $1",
                    PAUSES.json, ROUNDS.json, TRANSITIONS.json
                )
            });
            let Some(p) = db.fetch_optional::<PgParts>(&SQL, &args).await? else {
                return Ok(None);
            };
            let json = |what: &str, e: serde_json::Error| {
                StoreError::Read(format!("case {id}'s {what}: {e}"))
            };
            Ok(Some(CaseParts {
                case: p.case,
                pauses: serde_json::from_str(&p.pauses).map_err(|e| json("pauses", e))?,
                rounds: serde_json::from_str(&p.rounds).map_err(|e| json("rounds", e))?,
                transitions: serde_json::from_str(&p.transitions)
                    .map_err(|e| json("transitions", e))?,
            }))
        }
    }
}
