//! The case list: its filter and a page of it with the filter's count (issue 14: deep pages
//! along the narrow index, keyset pages, pages by the kept deadline along its index, the count
//! kept or counted through an index).

use std::sync::Arc;

use sqlx::FromRow;

use super::{COLUMNS, CaseRow};

mod kept;
use crate::read::Arg;
use crate::{Db, Result};
pub(crate) use kept::{KeptList, PageStarts};
use kept::{ListKey, start_key};

crate::row! {
/// A case in a list, with its organisation's name and the deadline, both kept with it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Listed {
    #[sqlx(flatten)]
    pub case: CaseRow,
    pub org_name: String,
    /// The deadline the case runs against now, as kept with it (`due_on`, migration 0037;
    /// [`super::deadline`]): the supplement's last day while supplementing (5.2), the
    /// three-month target while the clock runs (九.3); none otherwise (ISO day).
    pub due_on: Option<String>,
}
}

/// Which cases a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// Only cases older than this one: a keyset page of the list, newest first (the count in
    /// [`page`] is still the whole filter's).
    pub before_id: Option<i64>,
    /// Only open cases whose kept deadline (`due_on`, migration 0037) is on or after / on or
    /// before these ISO days. With either, the list is in the deadline's order (the earliest
    /// first, then by id), read along the index `case_by_due`.
    pub due_from: Option<&'a str>,
    pub due_to: Option<&'a str>,
}

impl Filter<'_> {
    /// Whether the list is in the order of the kept deadline rather than newest first.
    fn by_due(&self) -> bool {
        self.due_from.is_some() || self.due_to.is_some()
    }

    /// Whether the list's walk is the same whatever the filter's values, so that its statement
    /// may be planned once (issue 14; [`crate::read::page_bounds`]): newest first from the top
    /// or from a keyset's `before_id` (the primary key backwards), a range of kept deadlines
    /// (along `case_by_due`), one case by its id. A stage, an organisation, a lead, a range of
    /// filing days or the applicant's name or USCC is not: a stage of a dozen cases is best
    /// found through its index, a stage of thousands by walking the newest — the statement is
    /// planned for its values each time.
    fn walk_is_fixed(&self) -> bool {
        self.organization_id.is_none()
            && self.stage.is_none()
            && self.lead_id.is_none()
            && self.filed_from.is_none()
            && self.filed_to.is_none()
            && self.uscc.is_none()
            && self.name_like.is_none()
    }

    /// The list's order, on the table's alias `a` (or the page's rows' `c`).
    fn order(&self, alias: &str) -> String {
        if self.by_due() {
            format!("{alias}.due_on, {alias}.id")
        } else {
            format!("{alias}.id DESC")
        }
    }
}

/// One page of the case list and the count of its whole filter ([`shared_page`]).
#[derive(Debug)]
pub struct ListPage {
    /// The page's cases, in the list's order; their `profile` is empty (lists never show the
    /// facts).
    pub rows: Vec<Listed>,
    /// How many cases the whole filter has.
    pub total: i64,
}

impl ListPage {
    /// The rows and the total as the caller's own: taken as they are when no one else holds
    /// the page (a page not kept), else copied.
    pub fn owned(page: Arc<ListPage>) -> (Vec<Listed>, i64) {
        match Arc::try_unwrap(page) {
            Ok(p) => (p.rows, p.total),
            Err(shared) => (shared.rows.clone(), shared.total),
        }
    }
}

/// [`shared_page`] as the caller's own rows and total.
pub async fn page(db: &Db, f: &Filter<'_>, limit: i64, offset: i64) -> Result<(Vec<Listed>, i64)> {
    shared_page(db, f, limit, offset).await.map(ListPage::owned)
}

/// One page of cases, newest first, with the total count of the filter.
///
/// The count: a filter of only the stage, open and not-a-draft sums the kept tally
/// (`case_tally`, migration 0030) — a few dozen rows however many cases there are; other
/// filters count the cases through an index (one organisation's, one lead's, a range of
/// filing days), or, for part of a name, by reading them. It counts the whole filter: a page
/// of the cases before one (`before_id`, a keyset page) has the same total as the filter's
/// numbered pages. On PostgreSQL it comes as a column
/// of the page's rows, computed once in the same statement (issue 14: one round trip where
/// there were two); only a page with no rows (past the end, or nothing found) and a keyset
/// page of a filter with values (whose count's `$n` are not the page's) ask for it on their
/// own.
///
/// A page of at most [`kept::KEPT_LIST_ROWS`] cases is kept in this process with the cases' version
/// ([`KeptList`]), and asked again while the version has not moved it is that version's page
/// without reading the cases. The page is shared, not copied: the one kept is the one
/// answered.
pub async fn shared_page(
    db: &Db,
    f: &Filter<'_>,
    limit: i64,
    offset: i64,
) -> Result<Arc<ListPage>> {
    let key = ListKey::of(f, limit, offset);
    let kept = &db.tokens().case_pages;
    // A page kept before is answered while the cases' version has not moved: the version is
    // read first (on PostgreSQL one statement for all the requests asking together).
    if let Some(key) = &key
        && kept.has(key)
    {
        let version = super::version(db).await?;
        if let Some(page) = kept.get(key, version) {
            return Ok(page);
        }
    }
    // Else read, with the version in the page's own statement when the page is to be kept.
    let (rows, total, version) = page_read(db, f, limit, offset, key.is_some()).await?;
    let page = Arc::new(ListPage { rows, total });
    if let Some(key) = key
        && version > 0
    {
        kept.keep(key, version, Arc::clone(&page));
    }
    Ok(page)
}

/// A page read from the database, with its count and (`stamped`) the cases' version read in
/// the page's statement (0 when not stamped or when the page has no rows).
async fn page_read(
    db: &Db,
    f: &Filter<'_>,
    limit: i64,
    offset: i64,
    stamped: bool,
) -> Result<(Vec<Listed>, i64, i64)> {
    // A numbered page deep in the newest-first list: where it begins may be kept
    // ([`PageStarts`]), and it is then read as a keyset page, checked against the list's
    // version read in the same statement.
    let key = start_key(f, offset);
    if let Some(key) = &key
        && let Some((version, first)) = db.tokens().page_starts.get(key)
    {
        let from_start = Filter {
            before_id: Some(first + 1),
            ..f.clone()
        };
        let (rows, total, now) = page_stamped(db, &from_start, limit, 0, true).await?;
        if now == version && !rows.is_empty() {
            return Ok((rows, total, now));
        }
    }
    let (rows, total, version) =
        page_stamped(db, f, limit, offset, stamped || key.is_some()).await?;
    if let Some(key) = key
        && let Some(first) = rows.first()
    {
        db.tokens().page_starts.keep(key, (version, first.case.id));
    }
    Ok((rows, total, version))
}

/// A page of the list, its count and (`stamped`) the list's version read in the page's
/// statement (0 when not stamped, or when there are no rows).
async fn page_stamped(
    db: &Db,
    f: &Filter<'_>,
    limit: i64,
    offset: i64,
    stamped: bool,
) -> Result<(Vec<Listed>, i64, i64)> {
    crate::row! {
    #[derive(FromRow)]
    struct Counted {
        #[sqlx(flatten)]
        listed: Listed,
        total: i64,
        list_version: i64,
    }
    }
    let version = if stamped {
        "(SELECT n FROM case_version WHERE id = 1) AS list_version"
    } else {
        "CAST(0 AS BIGINT) AS list_version"
    };
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
    // has no `before_id`, and it has none when the rest of the filter has no values); SQLite
    // has no round trip to save (as a column it made SQLite's sort of the page carry it on
    // every row), so there it is counted apart and the column is a constant.
    let apart = matches!(db, Db::Sqlite(..)) || (f.before_id.is_some() && !whole_args.is_empty());
    let total = if apart {
        "CAST(0 AS BIGINT) AS total".to_string()
    } else {
        format!("({count}) AS total")
    };
    let columns = format!("{total}, {version}");
    let rows = rows_and_filter::<Counted>(db, f, &filter, args, limit, offset, &columns).await?;
    let (total, version) = match rows.first() {
        Some(r) if !apart => (r.total, r.list_version),
        first => (count_apart().await?, first.map_or(0, |r| r.list_version)),
    };
    Ok((rows.into_iter().map(|r| r.listed).collect(), total, version))
}

/// The count of filter `f` whose joins and `WHERE` are `filter` (its values bound as in
/// [`filter_sql`]): the kept tally when `f` has only the stage, open and not-a-draft
/// conditions (its `before_id` aside), the kept tally of deadlines when it has only the
/// deadline, else the cases counted.
fn count_sql(f: &Filter<'_>, filter: &str) -> String {
    let tallied = f.organization_id.is_none()
        && f.id.is_none()
        && f.lead_id.is_none()
        && f.filed_from.is_none()
        && f.filed_to.is_none()
        && f.uscc.is_none()
        && f.name_like.is_none();
    if tallied && f.by_due() && f.stage.is_none() {
        // Only the deadline (open and not a draft go with it): the kept count per deadline day
        // (`case_due_tally`, migration 0037) — a row a day, however many cases fall due on it.
        // Its values are the filter's, in `filter_sql`'s order: from, then to.
        let mut conds = vec!["n > 0".to_string()];
        let mut k = 0;
        for (bound, op) in [(f.due_from, ">="), (f.due_to, "<=")] {
            if bound.is_some() {
                k += 1;
                conds.push(format!("due_on {op} ${k}"));
            }
        }
        return format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM case_due_tally WHERE {}",
            conds.join(" AND ")
        );
    }
    if !tallied || f.by_due() {
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
    // A kept deadline is only an open, filed case's (migration 0037): open and not a draft go
    // without saying, and left out, a count by the deadline reads the index `case_by_due` alone.
    if f.open_only && !f.by_due() {
        cond!("a.closed_on IS NULL", None);
    }
    if f.no_drafts && !f.by_due() {
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
    if f.by_due() {
        cond!("a.due_on IS NOT NULL", None);
    }
    if let Some(x) = f.due_from {
        cond!("a.due_on >= $?", Some(x.into()));
    }
    if let Some(x) = f.due_to {
        cond!("a.due_on <= $?", Some(x.into()));
    }
    // The applicant's USCC: only then is the organisation joined (its name is kept with the
    // case, migration 0045).
    let join = match f.uscc {
        Some(x) => {
            cond!("ao.uscc = $?", Some(x.into()));
            " JOIN organization ao ON ao.id = a.organization_id"
        }
        None => "",
    };
    if let Some(x) = like {
        cond!("a.org_name LIKE $? ESCAPE '\\'", Some(x.into()));
    }
    let filter = if conds.is_empty() {
        join.to_string()
    } else {
        format!("{join} WHERE {}", conds.join(" AND "))
    };
    (filter, args)
}

/// The columns a listed case has after the case's own ([`Listed`]): the applicant's name and
/// the deadline, both kept with the case. With the case's columns but its facts, they are what
/// PostgreSQL's index `case_list_rows` holds (migration 0046; the test below).
const LISTED_KEPT: [&str; 2] = ["org_name", "due_on"];

/// A page's rows of filter `f` whose joins and `WHERE` are `filter` with values `args`
/// ([`filter_sql`]), in the filter's order; `extra` are more columns of every row (the list's
/// version; the count, by the same values).
async fn rows_and_filter<T>(
    db: &Db,
    f: &Filter<'_>,
    filter: &str,
    mut args: Vec<Arg<'_>>,
    limit: i64,
    offset: i64,
    extra: &str,
) -> Result<Vec<T>>
where
    T: crate::read::FromSqlite + crate::read::FromPg + Send + Unpin,
{
    // A list whose walk does not depend on the filter's values has the page's numbers written
    // into its statement, so that PostgreSQL plans it once ([`Filter::walk_is_fixed`]).
    let bounds = crate::read::page_bounds(f.walk_is_fixed(), limit, offset, &mut args);
    // In the row's order, the facts left empty (lists never show them; selecting `a.*` made
    // SQLite copy each case's facts, about 1 KB of JSON, into the subquery — issue 14), the
    // applicant's name as kept with the case (migration 0045: no organisation is read).
    let columns = |alias: &str| {
        let mut cs: Vec<String> = COLUMNS
            .split(", ")
            .chain(LISTED_KEPT)
            .map(|c| match c {
                "profile" => "CAST('' AS TEXT) AS profile".to_string(),
                c => format!("{alias}.{c}"),
            })
            .collect();
        cs.push(extra.to_string());
        cs.join(", ")
    };
    let sql = if offset <= SHALLOW {
        // A page near the top: its rows straight from the table, one table read.
        format!(
            "SELECT {} FROM application_case a{filter} ORDER BY {}{bounds}",
            columns("a"),
            f.order("a"),
        )
    } else {
        // A page further down: its cases found first by id alone, so that the cases skipped
        // are read only from the narrow index `case_listing` (migration 0036), not from the
        // table with their facts (the middle page of 100 000 cases: 54 → 410 requests a second
        // on SQLite); then only the page's own rows are read. Near the top the second read of
        // the table cost more than it saved (PostgreSQL, page 2: 10–15 % slower).
        format!(
            "SELECT {} FROM
               (SELECT a.id FROM application_case a{filter} ORDER BY {}{bounds}) p
               JOIN application_case c ON c.id = p.id ORDER BY {}",
            columns("c"),
            f.order("a"),
            f.order("c"),
        )
    };
    db.fetch_all(&sql, &args).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL reads a page of the list from the index `case_list_rows` alone (migration
    /// 0046) only while it holds every column the page reads: a column added to the case (or
    /// to a listed case) and read by the list must be added to the index too.
    #[test]
    fn the_list_index_holds_every_column_a_page_reads() {
        let held = crate::read::index_columns(
            include_str!("../../migrations/postgres/0046_list_rows_in_an_index.sql"),
            "case_list_rows",
        );
        let read: Vec<&str> = COLUMNS
            .split(", ")
            .chain(LISTED_KEPT)
            .filter(|c| *c != "profile")
            .collect();
        let missing: Vec<&&str> = read
            .iter()
            .filter(|c| !held.iter().any(|h| h == **c))
            .collect();
        assert!(missing.is_empty(), "not in case_list_rows: {missing:?}");
        assert_eq!(
            held.len(),
            read.len(),
            "case_list_rows holds a column the list does not read"
        );
    }
}
