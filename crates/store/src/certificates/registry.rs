//! The public register (5.5): the name index of holders' names, and the register's search by
//! certificate number, USCC or part of a name with its filters (level, status, year).

use std::sync::{Arc, LazyLock};

use super::{CERT, CERT_C, Certificate};
use sqlx::FromRow;

use crate::read::ByKey;
use crate::{Db, Result, Tx, on_tx};

/// The holder's name as the register's name index holds it: its letters and digits only, in
/// lower case, as overlapping runs of three characters separated by spaces, then its last two
/// characters and its last one. A part of a name of three or more characters is then the phrase
/// of its own runs, and one or two characters the prefix of a token (`NameQuery`). Runs of three
/// are far rarer than pairs, so a phrase reads short lists (measured on a million names: 0.4 ms
/// against 2.2 ms with pairs). Spaces and punctuation do not count: "科技（北京）" is found by
/// "科技北京".
pub fn name_grams(name: &str) -> String {
    let chars = name_chars(name);
    let mut tokens: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    if chars.len() >= 2 {
        tokens.push(chars[chars.len() - 2..].iter().collect());
    }
    if let Some(last) = chars.last() {
        tokens.push(last.to_string());
    }
    tokens.join(" ")
}

fn name_chars(s: &str) -> Vec<char> {
    s.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// A part of a holder's name as a query of the name index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameQuery {
    /// Three or more characters: the consecutive runs of three, separated by spaces.
    Phrase(String),
    /// One or two characters: any token that starts with them.
    Prefix(String),
}

impl NameQuery {
    /// `None` when the text has no letter or digit (it is then looked for as written).
    pub fn of(text: &str) -> Option<NameQuery> {
        let chars = name_chars(text);
        match chars.len() {
            0 => None,
            1 | 2 => Some(NameQuery::Prefix(chars.iter().collect())),
            _ => Some(NameQuery::Phrase(
                chars
                    .windows(3)
                    .map(|w| w.iter().collect::<String>())
                    .collect::<Vec<_>>()
                    .join(" "),
            )),
        }
    }

    /// Two characters: the pair itself (PostgreSQL looks it up in `certificate_pair`).
    fn pair(&self) -> Option<&str> {
        match self {
            NameQuery::Prefix(c) if c.chars().count() == 2 => Some(c),
            _ => None,
        }
    }

    /// The FTS5 query (SQLite). The characters are letters and digits, so a double-quoted
    /// string needs no escaping.
    fn fts5(&self) -> String {
        match self {
            NameQuery::Phrase(p) => format!("\"{p}\""),
            NameQuery::Prefix(c) => format!("\"{c}\" *"),
        }
    }

    /// The tsquery function and its text (PostgreSQL, configuration `simple`).
    fn tsquery(&self) -> (&'static str, String) {
        match self {
            NameQuery::Phrase(p) => ("phraseto_tsquery", p.clone()),
            NameQuery::Prefix(c) => ("to_tsquery", format!("{c}:*")),
        }
    }
}

/// Writes a certificate's name into the register's name index (in the certificate's
/// transaction): SQLite's own table for a new certificate; on PostgreSQL, where a new
/// certificate's row carries it from its insert, only the names of certificates issued before
/// the index existed ([`index_all_names`]).
pub(super) async fn index_name(tx: &mut Tx, id: i64, holder: &str) -> Result<()> {
    let grams = name_grams(holder);
    match tx {
        Tx::Sqlite(t, _) => {
            sqlx::query("INSERT INTO certificate_name (rowid, grams) VALUES ($1, $2)")
                .bind(id)
                .bind(&grams)
                .execute(&mut **t)
                .await?;
        }
        Tx::Pg(t, _) => {
            sqlx::query(
                "UPDATE certificate SET name_grams = to_tsvector('simple', $2) WHERE id = $1",
            )
            .bind(id)
            .bind(&grams)
            .execute(&mut **t)
            .await?;
        }
    }
    Ok(())
}

/// Indexes the names of the certificates issued before the name index existed (the store task
/// `certificate_name` of migration 0018), in one transaction.
pub(crate) async fn index_all_names(tx: &mut Tx) -> Result<()> {
    let rows: Vec<(i64, String)> = on_tx!(tx, t => sqlx::query_as("SELECT id, holder FROM certificate ORDER BY id")
        .fetch_all(t)
        .await)?;
    for (id, holder) in rows {
        index_name(tx, id, &holder).await?;
    }
    // SQLite's name index is a table of its own, written without the certificates' rows and
    // their triggers: the register has changed all the same (PostgreSQL's rows were updated).
    if let Tx::Sqlite(t, _) = tx {
        sqlx::query("UPDATE register_version SET n = n + 1")
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

/// How many pages of the name index one step of [`merge_name_index`] writes at most (SQLite's
/// FTS5 `merge` command): a step holds the write lock briefly (merging a million names here: 49
/// steps, 31 ms each in the median, 0.3 s the longest; 2 s in all), so other writes wait no
/// longer than that.
const MERGE_PAGES: i64 = 500;

/// Merges the register's name index into one segment (SQLite), a step at a time, each step a
/// short write transaction of its own; returns how many steps did work (0: already merged).
///
/// Why (issue 14): SQLite's full-text index is a set of segments, one more for each transaction
/// that adds names, merged now and then by FTS5 as they pile up (its `automerge`), never into
/// one. A search reads every segment, so the register's searches slowed as certificates were
/// added: at a million certificates (14 segments) two characters of a name took 0.09 ms in the
/// index against 0.04 ms merged, and the register's search by them ran at 70 % of its speed at
/// 100 000 certificates; merged, at 90–100 %.
/// Merged, a search reads one segment at any size. The scheduled jobs run this every few
/// minutes; with nothing to merge it is one statement. PostgreSQL's indexes need nothing of
/// the kind (its GIN index takes no pending list, `fastupdate = off`; its vacuum is
/// autovacuum's): there it does nothing.
pub async fn merge_name_index(db: &Db) -> Result<usize> {
    if !matches!(db, Db::Sqlite(..)) {
        return Ok(0);
    }
    // Bounded, so that a run ends whatever FTS5 reports; the next run goes on.
    const MAX_STEPS: usize = 10_000;
    let mut steps = 0;
    while steps < MAX_STEPS {
        let mut tx = db.begin().await?;
        let Tx::Sqlite(t, _) = &mut tx else {
            unreachable!("a SQLite database begins SQLite transactions")
        };
        let changes = "SELECT total_changes()";
        let before: i64 = sqlx::query_scalar(changes).fetch_one(&mut **t).await?;
        sqlx::query("INSERT INTO certificate_name (certificate_name, rank) VALUES ('merge', $1)")
            // Negative: segments of any level are merged, until one is left.
            .bind(-MERGE_PAGES)
            .execute(&mut **t)
            .await?;
        let after: i64 = sqlx::query_scalar(changes).fetch_one(&mut **t).await?;
        tx.commit().await?;
        // FTS5 changes fewer than two rows when there was nothing left to merge.
        if after - before < 2 {
            break;
        }
        steps += 1;
    }
    Ok(steps)
}

/// What the public register is searched by (empty / 0: any).
#[derive(Debug, Clone, Default)]
pub struct RegistryFilter<'a> {
    /// A certificate number or USCC (exact), or part of the holder's name.
    pub q: &'a str,
    pub level: i32,
    /// `valid`, `expired` (valid but past its last day), `suspended` or `revoked`.
    pub status: &'a str,
    pub year: i32,
    /// Today (ISO), for what counts as expired.
    pub today: &'a str,
}

/// A page of the public register, newest first (latest issued; `limit` rows from `offset`). A
/// text that is a certificate number or USCC is found through their indexes; only otherwise is
/// it looked for in the holders' names, through the name index (`name_grams`).
///
/// A page of at most [`KEPT_ROWS`] rows is kept in this process with the register's version
/// read before it ([`KeptRegistry`]), and asked again while the version has not moved it is
/// that version's page without reading the certificates.
pub async fn registry(
    db: &Db,
    f: &RegistryFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<Arc<Vec<Certificate>>> {
    if limit > KEPT_ROWS {
        return Ok(Arc::new(registry_read(db, f, limit, offset).await?));
    }
    // Read first: a page read after it is at least as new as the version it is kept with.
    let version = register_version(db).await?;
    let key = PageKey::of(f, limit, offset);
    let kept = &db.tokens().registry;
    if let Some(rows) = kept.get(&key, version) {
        return Ok(rows);
    }
    let rows = Arc::new(registry_read(db, f, limit, offset).await?);
    kept.keep(key, version, Arc::clone(&rows));
    Ok(rows)
}

/// The register's version (migration 0041): it moves with every change of a certificate.
pub async fn register_version(db: &Db) -> Result<i64> {
    static SQL: LazyLock<ByKey> = LazyLock::new(|| ByKey::version("register_version"));
    db.version(&SQL).await
}

/// The most rows a kept page of the register has (a page of the pages and the API is 50, read
/// with one more to tell whether another follows); the spreadsheet's 10 000 are not kept.
pub const KEPT_ROWS: i64 = 100;

/// The register's pages this process has read (issue 14), each with the register's version
/// (`register_version`, migration 0041) read before it ([`crate::read::KeptPages`]). While the
/// version has not moved, the page is what a new read would give, so it is answered without
/// one: on PostgreSQL the search by two characters of a name read 51 certificates by their
/// keys, 0.18 ms of the database's CPU a page, where the version is one row.
///
/// At most 256 pages, about 5 MB: a page of 51 certificates is about 20 kB (some 400 bytes
/// each, their strings included). `scripts/bench`, drawing from 6 725 pages so that all 256
/// were kept, peaked at 52 MB of RSS on SQLite (issue 14: at most 64 MB).
pub(crate) type KeptRegistry = crate::read::KeptPages<PageKey, Vec<Certificate>, 256>;

/// A page of the register: every value of its filter (today's date too: it decides what has
/// expired) and its bounds.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PageKey {
    q: String,
    level: i32,
    status: String,
    year: i32,
    today: String,
    limit: i64,
    offset: i64,
}

impl PageKey {
    fn of(f: &RegistryFilter<'_>, limit: i64, offset: i64) -> PageKey {
        let RegistryFilter {
            q,
            level,
            status,
            year,
            today,
        } = *f;
        PageKey {
            q: q.to_owned(),
            level,
            status: status.to_owned(),
            year,
            today: today.to_owned(),
            limit,
            offset,
        }
    }
}

/// [`registry`]'s page read from the database.
async fn registry_read(
    db: &Db,
    f: &RegistryFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Certificate>> {
    // A year is looked for within its range of ids (`certificate_year`, migration 0033); a
    // year without one issued no certificate.
    let ids = if f.year > 0 {
        match year_ids(db, f.year).await? {
            Some(range) => Some(range),
            None => return Ok(Vec::new()),
        }
    } else {
        None
    };
    let filters = RegistryFilters::of(f, ids, f.status == "expired" && few_expired(db, f).await?);
    // Certificate numbers and USCCs are ASCII letters, digits and hyphens: any other text is
    // only looked for in the names.
    let may_be_code = f.q.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !f.q.is_empty() {
        // Each through its own index (one query with OR would sort all of a USCC's rows).
        let exacts: &[&str] = if may_be_code {
            &["number = $1", "uscc = $1"]
        } else {
            &[]
        };
        for exact in exacts {
            // An equality on the number's (unique) or the USCC's index whatever the filters:
            // the statement is kept.
            let rows = registry_query(db, f, &filters, exact, limit, offset, Plan::Kept).await?;
            // Past the last page of exact matches there is nothing more (not a name search).
            if !rows.is_empty()
                || (offset > 0
                    && !registry_query(db, f, &filters, exact, 1, 0, Plan::Kept)
                        .await?
                        .is_empty())
            {
                return Ok(rows);
            }
        }
        return match NameQuery::of(f.q) {
            Some(name) => registry_by_name(db, &filters, &name, limit, offset).await,
            // Only punctuation: looked for as written.
            None => {
                registry_query(
                    db,
                    f,
                    &filters,
                    "holder LIKE $2 ESCAPE '!'",
                    limit,
                    offset,
                    Plan::ForTheValues,
                )
                .await
            }
        };
    }
    registry_query(
        db,
        f,
        &filters,
        "$1 = ''",
        limit,
        offset,
        Plan::ForTheValues,
    )
    .await
}

/// How many expired certificates count as few (see [`few_expired`]).
const FEW_EXPIRED: i64 = 1000;

/// Whether fewer than [`FEW_EXPIRED`] certificates in all are past their last day or marked
/// expired (counted apart, so one may be counted twice): the expired ones are then looked up
/// through those two indexes rather than by walking the newest certificates, or a name's, for
/// the few that have expired (a young register: at 100 000 certificates, none expired,
/// "expired" took 165 ms, with a name 47 ms at the 99th percentile). Each count stops at the
/// bound, and reads its index: the order is the index's (without it PostgreSQL's kept plan
/// scanned the table for the first thousand past their last day: 38 ms when there are none).
async fn few_expired(db: &Db, f: &RegistryFilter<'_>) -> Result<bool> {
    let n: Option<i64> = db
        .fetch_scalar(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM certificate WHERE valid_until < $1
                                           ORDER BY valid_until LIMIT $2) a)
                  + (SELECT count(*) FROM (SELECT 1 FROM certificate WHERE status = 'expired'
                                           ORDER BY id LIMIT $2) b)",
            &[f.today.into(), FEW_EXPIRED.into()],
        )
        .await?;
    Ok(n.unwrap_or(0) < FEW_EXPIRED)
}

/// The lowest and highest id of the certificates issued in `year` (migration 0033).
async fn year_ids(db: &Db, year: i32) -> Result<Option<(i64, i64)>> {
    crate::row! {
    #[derive(FromRow)]
    struct Range {
        min_id: i64,
        max_id: i64,
    }
    }
    let year = format!("{year:04}");
    let r: Option<Range> = db
        .fetch_optional(
            "SELECT min_id, max_id FROM certificate_year WHERE year = $1",
            &[year.as_str().into()],
        )
        .await?;
    Ok(r.map(|r| (r.min_id, r.max_id)))
}

/// The register's filters other than the text, on a certificate `c`: only those in use, so
/// that each combination is a statement of its own which the database plans with its indexes
/// (a `$3 = 0 OR c.level = $3` form hid them from the plan: at a million certificates, a
/// name and a year took 0.3 s on SQLite and 1.8 s on PostgreSQL). The values are bound from
/// `$3` on, after the text's two forms.
struct RegistryFilters<'a> {
    /// `AND …` conditions, with `{id}` for the column of the certificate's id.
    conds: String,
    args: Vec<crate::read::Arg<'a>>,
    /// Only a rare status (suspended, revoked; expired while few have): found through the
    /// status's index and then matched by name, rather than walking the name's matches for the
    /// few with that status.
    rare_status: bool,
    year: String,
}

impl<'a> RegistryFilters<'a> {
    /// `few_expired`: status expired, and few are ([`few_expired`]).
    fn of(
        f: &RegistryFilter<'a>,
        ids: Option<(i64, i64)>,
        few_expired: bool,
    ) -> RegistryFilters<'a> {
        let mut out = RegistryFilters {
            conds: String::new(),
            args: Vec::new(),
            rare_status: few_expired || matches!(f.status, "suspended" | "revoked"),
            year: if f.year > 0 {
                format!("{:04}-%", f.year)
            } else {
                String::new()
            },
        };
        let mut cond = |sql: &str, a: Option<crate::read::Arg<'a>>| {
            if let Some(a) = a {
                out.args.push(a);
            }
            out.conds += &sql.replace("$?", &format!("${}", out.args.len() + 2));
        };
        if f.level > 0 {
            cond(" AND c.level = $?", Some(i64::from(f.level).into()));
        }
        // As the register shows a status: a valid certificate past its last day is expired.
        match f.status {
            "" => {}
            "valid" => cond(
                " AND c.status = 'valid' AND c.valid_until >= $?",
                Some(f.today.into()),
            ),
            "expired" => {
                cond(
                    " AND (c.status = 'expired' OR (c.status = 'valid' AND c.valid_until < $?))",
                    Some(f.today.into()),
                );
                // Every expired certificate is among these few (the condition above decides).
                if few_expired {
                    cond(
                        " AND c.id IN (SELECT id FROM certificate WHERE valid_until < $?
                          UNION ALL SELECT id FROM certificate WHERE status = 'expired')",
                        Some(f.today.into()),
                    );
                }
            }
            other => cond(" AND c.status = $?", Some(other.into())),
        }
        if let Some((lo, hi)) = ids {
            cond(" AND {id} >= $?", Some(lo.into()));
            cond(" AND {id} <= $?", Some(hi.into()));
        }
        out
    }

    /// The conditions with the certificate's id named `id`, the year's pattern bound last, and
    /// `{page}` where [`registry_page`] puts the page's `LIMIT`/`OFFSET`.
    fn sql(&self, id: &str) -> String {
        let year = if self.year.is_empty() {
            String::new()
        } else {
            format!(" AND c.issued_on LIKE ${}", self.args.len() + 3)
        };
        format!(
            "{}{year} ORDER BY {id} DESC{{page}}",
            self.conds.replace("{id}", id)
        )
    }
}

/// A page of the register found by part of the holders' names, through the name index in the
/// order of issue, so a page stops reading at its last row — or, for a rare status, through
/// the status's certificates, each matched by name.
async fn registry_by_name(
    db: &Db,
    filters: &RegistryFilters<'_>,
    name: &NameQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<Certificate>> {
    let (sql, text) = match (db, name.pair()) {
        // The join's order is fixed (CROSS JOIN): SQLite cannot tell how many rows a name
        // matches.
        (Db::Sqlite(..), _) if filters.rare_status => (
            format!(
                "SELECT {CERT_C} FROM certificate c CROSS JOIN certificate_name n ON n.rowid = c.id
                 WHERE certificate_name MATCH $1 AND ($2 = $2){}",
                filters.sql("c.id")
            ),
            name.fts5(),
        ),
        (Db::Sqlite(..), _) => (
            format!(
                "SELECT {CERT_C} FROM certificate_name n CROSS JOIN certificate c ON c.id = n.rowid
                 WHERE certificate_name MATCH $1 AND ($2 = $2){}",
                filters.sql("n.rowid")
            ),
            name.fts5(),
        ),
        // Two characters on PostgreSQL: the pair's certificates, newest first, from its table
        // (`certificate_pair`, migration 0035) — a page without other filters takes its ids
        // there and then each of their certificates in that order (a join in the page's order:
        // `c.id IN (…)` hashed the ids and sorted the page again, 14 % of the statement's
        // time); with filters each of the pair's certificates is
        // looked up in turn and checked (the fenced subquery keeps PostgreSQL from walking all
        // the certificates instead); a rare status goes through its own index and then asks
        // the pair's table.
        (Db::Pg(..), Some(pair)) => {
            let sql = if filters.rare_status {
                format!(
                    "SELECT {CERT_C} FROM certificate c
                     WHERE EXISTS (SELECT 1 FROM certificate_pair p WHERE p.pair = $1 AND p.id = c.id)
                       AND ($2 = $2){}",
                    filters.sql("c.id")
                )
            } else if filters.conds.is_empty() && filters.year.is_empty() {
                format!(
                    "SELECT c.* FROM
                     (SELECT p.id FROM certificate_pair p WHERE p.pair = $1 AND ($2 = $2){}) p
                     CROSS JOIN LATERAL (SELECT {CERT_C} FROM certificate c WHERE c.id = p.id) c
                     ORDER BY p.id DESC",
                    filters.sql("p.id")
                )
            } else {
                format!(
                    "SELECT c.* FROM certificate_pair p CROSS JOIN LATERAL
                     (SELECT {CERT_C} FROM certificate c WHERE c.id = p.id OFFSET 0) c
                     WHERE p.pair = $1 AND ($2 = $2){}",
                    filters.sql("p.id")
                )
            };
            (sql, pair.to_owned())
        }
        // Otherwise PostgreSQL plans each search for its values (an unnamed statement) and
        // chooses from its statistics between walking the newest certificates and the name's
        // index.
        (Db::Pg(..), None) => {
            let (function, text) = name.tsquery();
            (
                format!(
                    "SELECT {CERT_C} FROM certificate c
                     WHERE c.name_grams @@ {function}('simple', $1) AND ($2 = $2){}",
                    filters.sql("c.id")
                ),
                text,
            )
        }
    };
    // The pair's walk is fixed by the statement itself (its fenced subquery or join), so
    // PostgreSQL may keep it; a rare status and the other searches are planned for their values.
    let plan = if name.pair().is_some() && !filters.rare_status {
        Plan::Kept
    } else {
        Plan::ForTheValues
    };
    registry_page(db, &sql, [&text, ""], filters, limit, offset, plan).await
}

/// How PostgreSQL plans a statement of the register.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// A statement whose walk does not depend on its values (an equality on a unique or
    /// nearly unique index, a two-character name's pair): prepared once per connection and
    /// kept, one round trip an execution, its page's numbers written in so that it is also
    /// planned once (with them bound, PostgreSQL planned it anew each time). Planned for its values each time, such a statement
    /// took two round trips (the statement described, then run) and 0.1–0.6 ms of planning
    /// (issue 14: the register by two characters 3.4 k req/s on PostgreSQL).
    Kept,
    /// A search whose best plan depends on its values (a name's tsquery, a pattern, a rare
    /// status, the whole register with its filters): an unnamed statement, planned each time.
    ForTheValues,
}

/// A page of the register by `sql`: `$1`, `$2` the text's two forms, then the filters'
/// values, the year's pattern (if any); the page's bounds replace its `{page}` (bound after
/// them, or written in for a kept statement: [`crate::read::page_bounds`]).
async fn registry_page(
    db: &Db,
    sql: &str,
    text: [&str; 2],
    filters: &RegistryFilters<'_>,
    limit: i64,
    offset: i64,
    plan: Plan,
) -> Result<Vec<Certificate>> {
    let mut args: Vec<crate::read::Arg> = vec![text[0].into(), text[1].into()];
    args.extend(filters.args.iter().copied());
    if !filters.year.is_empty() {
        args.push(filters.year.as_str().into());
    }
    // A kept statement has its page's numbers written in, so that PostgreSQL plans it once.
    let bounds = crate::read::page_bounds(plan == Plan::Kept, limit, offset, &mut args);
    let sql = sql.replace("{page}", &bounds);
    match plan {
        Plan::Kept => db.fetch_all(&sql, &args).await,
        Plan::ForTheValues => db.fetch_all_planned(&sql, &args).await,
    }
}

/// One SQL text per way of matching the text and combination of filters.
async fn registry_query(
    db: &Db,
    f: &RegistryFilter<'_>,
    filters: &RegistryFilters<'_>,
    text_match: &'static str,
    limit: i64,
    offset: i64,
    plan: Plan,
) -> Result<Vec<Certificate>> {
    let sql = format!(
        "SELECT {CERT} FROM certificate c WHERE {text_match} AND ($2 = $2){}",
        filters.sql("c.id")
    );
    let like = format!(
        "%{}%",
        f.q.replace('!', "!!").replace('%', "!%").replace('_', "!_")
    );
    registry_page(db, &sql, [f.q, &like], filters, limit, offset, plan).await
}
