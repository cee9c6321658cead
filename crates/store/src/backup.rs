//! A consistent copy of the database while the server runs, and its restoration (issue 12).
//! SQLite: `VACUUM INTO` a new file (one read transaction: a snapshot). PostgreSQL: every
//! table `COPY`-ed out inside one `REPEATABLE READ` transaction (a snapshot), restored into an
//! empty database by migrating to the backup's schema version, copying the rows in (parents
//! before children) and moving the identity sequences past them; newer migrations then run
//! forward as on any start.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::LazyLock;

use futures_util::StreamExt;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::{Db, Result, StoreError};

/// What a snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// The files written into the backup's `db/` directory.
    pub files: Vec<String>,
    /// The last migration applied.
    pub schema_version: i64,
    /// Rows per table.
    pub rows: BTreeMap<String, i64>,
    /// The audit chain's head then: (sequence, hash).
    pub audit_head: Option<(i64, String)>,
    /// Every stored object the rows refer to (evidence, letters, certificates), by SHA-256.
    pub objects: Vec<String>,
    /// PostgreSQL: the tables in restore order (parents first).
    pub tables: Vec<String>,
}

const OBJECTS: &str = "SELECT sha256 FROM evidence UNION SELECT pdf_sha256 FROM case_letter UNION SELECT pdf_sha256 FROM certificate_seal";
/// The application's tables (not the migrator's, not the name index's FTS shadow tables, not
/// the case tallies (by stage, by deadline day) and version, the certificates' year ranges and
/// (PostgreSQL) the pairs of characters of their names that their triggers keep — a restore's
/// rows rebuild them).
static SQLITE_TABLES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND name <> '_sqlx_migrations' AND sql NOT LIKE 'CREATE VIRTUAL%'
         AND name NOT LIKE 'certificate_name_%' AND name NOT IN ({})
         ORDER BY name",
        kept_counts()
    )
});
static PG_TABLES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
           AND table_name NOT IN ('_sqlx_migrations', 'certificate_pair', {})
         ORDER BY table_name",
        kept_counts()
    )
});

/// [`crate::KEPT_COUNTS`] as a list of SQL strings.
fn kept_counts() -> String {
    crate::KEPT_COUNTS.map(|t| format!("'{t}'")).join(", ")
}
const HEAD: &str = "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1";
const VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success";

fn io(e: std::io::Error) -> StoreError {
    StoreError::Sqlx(sqlx::Error::Io(e))
}

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', ""))
}

/// Orders tables so each comes after those it refers to (`deps`: table → referenced tables).
fn parents_first(tables: &[String], deps: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut left: Vec<String> = tables.to_vec();
    while !left.is_empty() {
        let ready: Vec<String> = left
            .iter()
            .filter(|t| {
                deps.iter()
                    .filter(|(child, parent)| child == *t && parent != *t)
                    .all(|(_, parent)| !left.contains(parent))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            // A cycle (none in this schema): keep the rest in name order.
            out.append(&mut left);
            break;
        }
        left.retain(|t| !ready.contains(t));
        out.extend(ready);
    }
    out
}

/// Writes a consistent snapshot of `db` into `dir` (created).
pub async fn snapshot(db: &Db, dir: &Path) -> Result<Snapshot> {
    std::fs::create_dir_all(dir).map_err(io)?;
    match db {
        Db::Sqlite(p, _) => {
            let file = dir.join("zizhi.db");
            if file.exists() {
                std::fs::remove_file(&file).map_err(io)?;
            }
            let path = file.to_string_lossy().replace('\'', "''");
            sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO '{path}'")))
                .execute(p)
                .await?;
            let mut s = describe_sqlite(&file).await?;
            s.files = vec!["zizhi.db".into()];
            Ok(s)
        }
        Db::Pg(p, _) => {
            let mut conn = p.acquire().await?;
            sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *conn)
                .await?;
            let tables: Vec<String> = sqlx::query_scalar(PG_TABLES.as_str())
                .fetch_all(&mut *conn)
                .await?;
            let deps: Vec<(String, String)> = sqlx::query_as(
                "SELECT tc.table_name::text, ccu.table_name::text
                 FROM information_schema.table_constraints tc
                 JOIN information_schema.constraint_column_usage ccu
                   ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
                 WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()",
            )
            .fetch_all(&mut *conn)
            .await?;
            let order = parents_first(&tables, &deps);
            let mut s = Snapshot {
                schema_version: sqlx::query_scalar(VERSION).fetch_one(&mut *conn).await?,
                audit_head: sqlx::query_as(HEAD).fetch_optional(&mut *conn).await?,
                objects: sqlx::query_scalar(OBJECTS).fetch_all(&mut *conn).await?,
                ..Snapshot::default()
            };
            for t in &order {
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM {}",
                    ident(t)
                )))
                .fetch_one(&mut *conn)
                .await?;
                s.rows.insert(t.clone(), n);
                let name = format!("{t}.copy");
                let mut f = tokio::fs::File::create(dir.join(&name)).await.map_err(io)?;
                {
                    let mut out = conn
                        .copy_out_raw(&format!("COPY {} TO STDOUT", ident(t)))
                        .await?;
                    while let Some(chunk) = out.next().await {
                        tokio::io::AsyncWriteExt::write_all(&mut f, &chunk?)
                            .await
                            .map_err(io)?;
                    }
                }
                f.sync_all().await.map_err(io)?;
                s.files.push(name);
            }
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            s.tables = order;
            Ok(s)
        }
    }
}

/// Reads a snapshot file of SQLite (read-only): schema version, rows, audit head, objects.
pub async fn describe_sqlite(file: &Path) -> Result<Snapshot> {
    let mut conn = SqliteConnectOptions::from_str(&format!("sqlite:{}", file.display()))?
        .read_only(true)
        .connect()
        .await?;
    let tables: Vec<String> = sqlx::query_scalar(SQLITE_TABLES.as_str())
        .fetch_all(&mut conn)
        .await?;
    let mut s = Snapshot {
        schema_version: sqlx::query_scalar(VERSION).fetch_one(&mut conn).await?,
        audit_head: sqlx::query_as(HEAD).fetch_optional(&mut conn).await?,
        objects: sqlx::query_scalar(OBJECTS).fetch_all(&mut conn).await?,
        ..Snapshot::default()
    };
    for t in tables {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            ident(&t)
        )))
        .fetch_one(&mut conn)
        .await?;
        s.rows.insert(t, n);
    }
    conn.close().await?;
    Ok(s)
}

/// Rows per table of a live database (the same tables a snapshot counts).
pub async fn row_counts(db: &Db) -> Result<BTreeMap<String, i64>> {
    let tables: Vec<String> = match db {
        Db::Sqlite(p, _) => {
            sqlx::query_scalar(SQLITE_TABLES.as_str())
                .fetch_all(p)
                .await?
        }
        Db::Pg(p, _) => sqlx::query_scalar(PG_TABLES.as_str()).fetch_all(p).await?,
    };
    let mut out = BTreeMap::new();
    for t in tables {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {}", ident(&t)));
        let n: i64 = crate::on_pool!(db, p => sqlx::query_scalar(sql).fetch_one(p).await)?;
        out.insert(t, n);
    }
    Ok(out)
}

/// The objects a live database refers to (for the check after a restore).
pub async fn objects(db: &Db) -> Result<Vec<String>> {
    Ok(crate::on_pool!(db, p => sqlx::query_scalar(OBJECTS).fetch_all(p).await)?)
}

/// Restores a PostgreSQL snapshot (`dir` holds `<table>.copy`) into `target`, which must hold
/// no tables: migrates to the backup's version, copies the rows in one transaction, moves the
/// identity sequences past them. The caller then migrates forward.
pub async fn restore_pg(target: &Db, dir: &Path, version: i64, tables: &[String]) -> Result<()> {
    let Db::Pg(p, _) = target else {
        return Err(StoreError::BadUrl(
            "a PostgreSQL backup restores into PostgreSQL".into(),
        ));
    };
    let existing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(p)
    .await?;
    if existing > 0 {
        return Err(StoreError::Conflict(
            "the target database is not empty".into(),
        ));
    }
    crate::PG_MIGRATIONS.run_to(version, p).await?;
    let mut tx = p.begin().await?;
    // What the migrations wrote themselves (seed rows, a pending store task) is replaced by
    // the backup's rows, children first. Only tables that have rows are touched (the audit
    // chain, empty here, refuses DELETE and TRUNCATE).
    for t in tables.iter().rev() {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            ident(t)
        )))
        .fetch_one(&mut *tx)
        .await?;
        if n > 0 {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {}", ident(t))))
                .execute(&mut *tx)
                .await?;
        }
    }
    for t in tables {
        let bytes = tokio::fs::read(dir.join(format!("{t}.copy")))
            .await
            .map_err(io)?;
        let mut copy = tx
            .copy_in_raw(&format!("COPY {} FROM STDIN", ident(t)))
            .await?;
        copy.send(bytes).await?;
        copy.finish().await?;
    }
    let identities: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND is_identity = 'YES'",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (t, c) in identities {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{t}', '{c}'), COALESCE(MAX({col}), 0) + 1, false) FROM {tab}",
            t = ident(&t).replace('\'', ""),
            c = c.replace('\'', ""),
            col = ident(&c),
            tab = ident(&t),
        )))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    target.tokens().changed();
    // The kept counts were rebuilt row by row by the restore's triggers.
    target.compact_kept_counts().await?;
    // The planner's statistics for the restored rows, as PostgreSQL advises after a restore:
    // until autovacuum gets to it (never, where it is off), every search would be planned for
    // empty tables (the register's searches: 10–20 times slower).
    sqlx::query("ANALYZE").execute(p).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_before_children() {
        let t = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let deps = vec![
            ("case".to_string(), "org".to_string()),
            ("evidence".to_string(), "case".to_string()),
            ("case".to_string(), "case".to_string()),
        ];
        assert_eq!(
            parents_first(&t(&["evidence", "case", "org"]), &deps),
            t(&["org", "case", "evidence"])
        );
    }
}
