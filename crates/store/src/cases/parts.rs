//! A case with its parts (pauses, submission rounds, transitions), read together from one
//! snapshot for its page (issue 14) and kept by the case's revision; and the rounds alone.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use serde_json::value::RawValue;

use sqlx::FromRow;

use super::{COLUMNS, CaseRow, GET, PauseRow, Round, TransitionRow};
use crate::read::{self, Arg, ByKey, FromPg, FromSqlite};
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
    /// The case's revision read before them (what its records are kept by: [`super::records`]).
    pub(crate) revision: Rev,
    /// Their stored JSON, checked once ([`CaseParts::json`]).
    json: KeptJson,
}

/// The stored JSON of a case's parts — the case's facts, each round's facts and assessment —
/// checked once and kept as JSON (`None` where a text is not JSON), for answers that give it
/// as it is: checking a case's 10 KB of JSON anew on every request was 9 % of the CPU of its
/// data (`/api/v1/cases/{id}`, issue 14).
#[derive(Debug, Clone, Default)]
pub struct PartsJson {
    pub profile: Option<Box<RawValue>>,
    /// Each round's, in the order of [`CaseParts::rounds`].
    pub rounds: Vec<RoundJson>,
}

/// A round's facts and assessment as JSON.
#[derive(Debug, Clone, Default)]
pub struct RoundJson {
    pub profile: Option<Box<RawValue>>,
    pub assessment: Option<Box<RawValue>>,
}

/// [`PartsJson`], made on first use. Derived from the texts beside it, so equal whenever they
/// are.
#[derive(Debug, Clone, Default)]
struct KeptJson(OnceLock<PartsJson>);

impl PartialEq for KeptJson {
    fn eq(&self, _: &KeptJson) -> bool {
        true
    }
}
impl Eq for KeptJson {}

/// Case `id` with its pauses, rounds and transitions, as of one moment: kept in this process
/// by the case's revision ([`KeptParts`]) — a request reads the revision alone (one row by its
/// key) and the parts ([`read_parts`]) only when it has moved or they are not kept.
/// Shared with what is kept, not copied (a case's text runs to tens of kilobytes).
pub async fn with_parts(db: &Db, id: i64) -> Result<Option<Arc<CaseParts>>> {
    let Some(RevOf { rev, .. }) = db.fetch_by_key::<i64, RevOf>(&REV, id).await? else {
        return Ok(None);
    };
    let kept = &db.tokens().parts;
    if let Some(parts) = kept.get(id, rev) {
        return Ok(Some(parts));
    }
    let Some(parts) = read_parts(db, id, rev).await? else {
        return Ok(None);
    };
    let parts = Arc::new(parts);
    kept.keep(id, rev, Arc::clone(&parts), parts.size());
    Ok(Some(parts))
}

/// A case's revision (migration 0038): moved by triggers, in the changing transaction, by any
/// change of the case's row or of its pauses, rounds and transitions; it never goes back.
/// On PostgreSQL the reads asking together go in one statement ([`Db::fetch_by_key`]).
static REV: LazyLock<ByKey> =
    LazyLock::new(|| ByKey::new("SELECT id, created_us, rev FROM application_case", "id"));

crate::row! {
/// A case's revision, with the moment the case was created: SQLite may give the id of a case
/// deleted by hand (the newest) to the next one, whose revisions start again from 0; the two
/// are told apart by their creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub(crate) struct Rev {
    created_us: i64,
    rev: i64,
}
}

crate::row! {
/// A case's revision with its id ([`with_parts`]).
#[derive(Clone, FromRow)]
struct RevOf {
    id: i64,
    #[sqlx(flatten)]
    rev: Rev,
}
}

impl crate::read::Keyed<i64> for RevOf {
    fn key(&self) -> i64 {
        self.id
    }
}

/// How many bytes of cases' parts one process keeps of a database at most (about 400 cases
/// of the demo's size); when full, the cases kept first go first.
const KEPT_BYTES: usize = 8 << 20;

/// The cases' parts kept by revision.
pub(crate) type KeptParts = ByRevision<CaseParts>;

/// Cases' parts read by this process, each with the revision read *before* them (issue 14: a
/// case's page read the case and its parts anew each time — on PostgreSQL one statement of
/// four branches, 2–3 times the cost of a row by its key; on SQLite four reads and 10 KB of
/// text). Exact, whoever writes the database: parts kept for revision `r` were read after `r`
/// was; if a change committed in between they are newer than `r`, but the revision then has
/// moved past `r` for good, so they are never used again. A request whose revision matches
/// therefore sees what a fresh read would.
pub(crate) struct ByRevision<V>(Mutex<Kept<V>>);

/// Each case's value with its revision and size in bytes, the cases in the order first kept,
/// and the bytes kept in all.
struct Kept<V> {
    by_case: HashMap<i64, (Rev, Arc<V>, usize)>,
    order: VecDeque<i64>,
    bytes: usize,
}

impl<V> Default for ByRevision<V> {
    fn default() -> Self {
        ByRevision(Mutex::new(Kept {
            by_case: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
        }))
    }
}

impl<V> ByRevision<V> {
    pub(super) fn get(&self, id: i64, rev: Rev) -> Option<Arc<V>> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.by_case
            .get(&id)
            .filter(|(r, ..)| *r == rev)
            .map(|(_, p, _)| Arc::clone(p))
    }

    /// Keeps case `id`'s `value` (about `size` bytes) read after revision `rev`; one over a
    /// sixteenth of [`KEPT_BYTES`] is not kept.
    pub(super) fn keep(&self, id: i64, rev: Rev, value: Arc<V>, size: usize) {
        if size > KEPT_BYTES / 16 {
            return;
        }
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let k = &mut *kept;
        match k.by_case.get_mut(&id) {
            // A slower request's older read of the same case does not replace a newer one.
            Some((r, ..)) if r.created_us == rev.created_us && r.rev > rev.rev => return,
            Some(entry) => {
                k.bytes -= entry.2;
                *entry = (rev, value, size);
            }
            None => {
                k.by_case.insert(id, (rev, value, size));
                k.order.push_back(id);
            }
        }
        k.bytes += size;
        while k.bytes > KEPT_BYTES {
            let Some(first) = k.order.pop_front() else {
                break;
            };
            if let Some((.., s)) = k.by_case.remove(&first) {
                k.bytes -= s;
            }
        }
    }
}

impl CaseParts {
    /// The parts' stored JSON as JSON, checked on the first call and kept with them.
    pub fn json(&self) -> &PartsJson {
        fn raw(s: &str) -> Option<Box<RawValue>> {
            RawValue::from_string(s.to_owned()).ok()
        }
        self.json.0.get_or_init(|| PartsJson {
            profile: raw(&self.case.profile),
            rounds: self
                .rounds
                .iter()
                .map(|r| RoundJson {
                    profile: raw(&r.profile),
                    assessment: raw(&r.assessment),
                })
                .collect(),
        })
    }

    /// About how many bytes the parts hold (their text and a row's fixed part each; the facts
    /// and assessments twice, as text and as [`CaseParts::json`]).
    fn size(&self) -> usize {
        const ROW: usize = 160;
        let c = &self.case;
        ROW + 2 * c.profile.len()
            + self.pauses.len() * ROW
            + self
                .rounds
                .iter()
                .map(|r| ROW + 2 * (r.profile.len() + r.assessment.len()))
                .sum::<usize>()
            + self
                .transitions
                .iter()
                .map(|t| ROW + t.note.len())
                .sum::<usize>()
    }
}

/// Case `id` with its pauses, rounds and transitions, from one snapshot (issue 14): on
/// PostgreSQL one statement ([`WITH_PARTS`]) — one round trip where there were four; on SQLite the four reads
/// in one read transaction on one connection. A transition committed meanwhile shows in the
/// case's stage and its history together, or in neither.
async fn read_parts(db: &Db, id: i64, revision: Rev) -> Result<Option<CaseParts>> {
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
                revision,
                json: KeptJson::default(),
            }))
        }),
        Db::Pg(_, r) => {
            use sqlx::Row as _;
            let rows = read::pg_read!(r, c => sqlx::query(sqlx::AssertSqlSafe(WITH_PARTS.as_str()))
                .bind(id)
                .fetch_all(&mut *c));
            let mut rows = rows.iter();
            // No case, no rows (its parts belong to it).
            let Some(first) = rows
                .next()
                .filter(|r| r.try_get::<i32, _>("part").is_ok_and(|p| p == 0))
            else {
                return Ok(None);
            };
            let mut parts = CaseParts {
                case: CaseRow::from_pg(first)?,
                pauses: Vec::new(),
                rounds: Vec::new(),
                transitions: Vec::new(),
                revision,
                json: KeptJson::default(),
            };
            for row in rows {
                match row.try_get::<i32, _>("part")? {
                    1 => parts.pauses.push(PauseRow::from_pg(row)?),
                    2 => parts.rounds.push(Round::from_pg(row)?),
                    _ => parts.transitions.push(TransitionRow::from_pg(row)?),
                }
            }
            Ok(Some(parts))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(created_us: i64, rev: i64) -> Rev {
        Rev { created_us, rev }
    }

    fn value(s: &str) -> Arc<String> {
        Arc::new(s.to_string())
    }

    /// Only the revision kept answers; an older read never replaces a newer one; another case
    /// given the same id (created at another moment) is not answered from the first one's.
    #[test]
    fn kept_parts_answer_for_their_revision_only() {
        let kept = ByRevision::<String>::default();
        let got = |id, r| kept.get(id, r).map(|v| v.to_string());
        assert_eq!(got(7, rev(1, 1)), None);
        kept.keep(7, rev(1, 2), value("r2"), 10);
        assert_eq!(got(7, rev(1, 2)).as_deref(), Some("r2"));
        assert_eq!(got(7, rev(1, 1)), None);
        assert_eq!(got(7, rev(1, 3)), None);
        assert_eq!(
            got(7, rev(5, 2)),
            None,
            "a case created later with the same id"
        );
        kept.keep(7, rev(1, 1), value("r1"), 10);
        assert_eq!(
            got(7, rev(1, 2)).as_deref(),
            Some("r2"),
            "not replaced by an older read"
        );
        assert_eq!(got(7, rev(1, 1)), None);
        kept.keep(7, rev(1, 3), value("r3"), 10);
        assert_eq!(got(7, rev(1, 2)), None);
        assert_eq!(got(7, rev(1, 3)).as_deref(), Some("r3"));
        kept.keep(7, rev(5, 0), value("later case"), 10);
        assert_eq!(got(7, rev(1, 3)), None);
        assert_eq!(got(7, rev(5, 0)).as_deref(), Some("later case"));
    }

    /// At most KEPT_BYTES: the cases kept first go first; one too large is not kept.
    #[test]
    fn kept_parts_stay_within_their_bytes() {
        let kept = ByRevision::<String>::default();
        let each = KEPT_BYTES / 20;
        for id in 0..40 {
            kept.keep(id, rev(0, 1), value("x"), each);
        }
        let k = kept.0.lock().unwrap();
        assert!(k.bytes <= KEPT_BYTES);
        assert_eq!(k.by_case.len(), k.order.len());
        assert!(k.by_case.len() >= 18);
        drop(k);
        assert!(
            kept.get(0, rev(0, 1)).is_none(),
            "the first kept went first"
        );
        assert!(kept.get(39, rev(0, 1)).is_some(), "the last kept stays");
        kept.keep(100, rev(0, 1), value("x"), KEPT_BYTES / 8);
        assert!(kept.get(100, rev(0, 1)).is_none(), "too large to keep");
    }
}
