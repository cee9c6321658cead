//! Restoring a backup (issue 12): from a directory, or from a bucket through a staging
//! directory; the database restored and migrated forward, the objects put back (hashed again),
//! then every check — rows, the audit chain and head, each object's hash.

use std::path::Path;

use futures_util::StreamExt;
use zizhi_store::Db;
use zizhi_store::files::FileStore;

use super::{COPIES, FORMAT, Manifest, Place, bucket_err, io, object_path, sha256_of, valid_sha};
use crate::{App, AppError, Result};

/// A manifest's text as a [`Manifest`]; unreadable, it names the backup (`from`).
fn parse_manifest(text: &str) -> Result<Manifest> {
    serde_json::from_str(text).map_err(|e| {
        AppError::invalid(
            "from",
            format!("manifest.json 无法读取：{e}"),
            format!("manifest.json is unreadable: {e}"),
        )
    })
}

/// Reads a backup's manifest and checks its database files against it.
pub async fn read_backup(from: &Path) -> Result<Manifest> {
    let text = tokio::fs::read_to_string(from.join("manifest.json"))
        .await
        .map_err(|e| {
            AppError::invalid(
                "from",
                format!(
                    "{} 不是完整的备份（缺少 manifest.json：{e}）",
                    from.display()
                ),
                format!(
                    "{} is not a finished backup (no manifest.json: {e})",
                    from.display()
                ),
            )
        })?;
    let m = parse_manifest(&text)?;
    if m.format != FORMAT {
        return Err(AppError::invalid(
            "from",
            format!("不支持的备份格式 {}", m.format),
            format!("unsupported backup format {}", m.format),
        ));
    }
    for f in &m.db_files {
        let (sha, _) = sha256_of(&from.join(&m.db_dir).join(&f.name)).await?;
        if sha != f.sha256 {
            return Err(AppError::Internal(format!(
                "{}/{}: SHA-256 {sha} differs from the manifest's {}",
                m.db_dir, f.name, f.sha256
            )));
        }
    }
    Ok(m)
}

/// Fetches a backup kept in a bucket into the local directory `staging` (its manifest, its
/// database files and signing keys; the objects stay in the bucket and are put back by
/// [`App::restore_objects_from`]), so that [`read_backup`] and [`restore_database`] work on it.
pub async fn fetch_backup(bucket: &FileStore, staging: &Path) -> Result<()> {
    let manifest = staging.join("manifest.json");
    if bucket
        .get_named("manifest.json", &manifest)
        .await
        .map_err(bucket_err)?
        .is_none()
    {
        return Err(AppError::invalid(
            "from",
            format!(
                "{} 中没有完整的备份（缺少 manifest.json）",
                bucket.describe()
            ),
            format!(
                "{} holds no finished backup (no manifest.json)",
                bucket.describe()
            ),
        ));
    }
    let text = tokio::fs::read_to_string(&manifest).await.map_err(io)?;
    let m = parse_manifest(&text)?;
    for f in &m.db_files {
        let name = format!("{}/{}", m.db_dir, f.name);
        if bucket
            .get_named(&name, &staging.join(&name))
            .await
            .map_err(bucket_err)?
            .is_none()
        {
            return Err(AppError::Internal(format!(
                "{name}: missing from the bucket"
            )));
        }
    }
    for name in bucket.list_named("keys").await.map_err(bucket_err)? {
        bucket
            .get_named(&name, &staging.join(&name))
            .await
            .map_err(bucket_err)?;
    }
    Ok(())
}

/// Restores the database of a checked backup: into `sqlite_file` (must not exist) for an
/// SQLite backup, or into `pg` (must be empty) for a PostgreSQL one; then migrates forward.
pub async fn restore_database(from: &Path, m: &Manifest, target_url: &str) -> Result<Db> {
    match m.backend.as_str() {
        "sqlite" => {
            let Some(path) = target_url.strip_prefix("sqlite:") else {
                return Err(AppError::invalid(
                    "database",
                    "SQLite 备份只能恢复到 SQLite（sqlite:文件）",
                    "an SQLite backup restores into SQLite (sqlite:FILE)",
                ));
            };
            let path = Path::new(path.split('?').next().unwrap_or(path));
            if tokio::fs::try_exists(path).await.map_err(io)? {
                return Err(AppError::invalid(
                    "database",
                    format!("{} 已存在；请恢复到新的数据目录", path.display()),
                    format!(
                        "{} exists; restore into a new data directory",
                        path.display()
                    ),
                ));
            }
            if let Some(dir) = path.parent() {
                tokio::fs::create_dir_all(dir).await.map_err(io)?;
            }
            tokio::fs::copy(from.join(&m.db_dir).join("zizhi.db"), path)
                .await
                .map_err(io)?;
            let db = Db::connect(target_url).await?;
            db.migrate().await?;
            Ok(db)
        }
        "postgres" => {
            if !(target_url.starts_with("postgres://") || target_url.starts_with("postgresql://")) {
                return Err(AppError::invalid(
                    "database",
                    "PostgreSQL 备份只能恢复到 PostgreSQL（--database postgres://…，空库）",
                    "a PostgreSQL backup restores into PostgreSQL (--database postgres://…, empty)",
                ));
            }
            let db = Db::connect(target_url).await?;
            restore_pg_into(&db, from, m).await?;
            Ok(db)
        }
        other => Err(AppError::invalid(
            "from",
            format!("未知的数据库类型 {other}"),
            format!("unknown backend {other}"),
        )),
    }
}

/// Restores a PostgreSQL backup into an empty database already connected (tests give a fresh
/// schema), then migrates forward.
pub async fn restore_pg_into(db: &Db, from: &Path, m: &Manifest) -> Result<()> {
    zizhi_store::backup::restore_pg(db, &from.join(&m.db_dir), m.schema_version, &m.tables)
        .await
        .map_err(|e| match e {
            zizhi_store::StoreError::Conflict(what) => AppError::invalid(
                "database",
                format!("目标数据库须为空：{what}"),
                format!("the target database must be empty: {what}"),
            ),
            other => other.into(),
        })?;
    db.migrate().await?;
    Ok(())
}

/// What a restore found: empty when everything matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreCheck {
    pub objects: usize,
    pub audit_events: i64,
    pub problems: Vec<String>,
}

impl App {
    /// Puts the backup's objects into this app's evidence store (each hashed again on the way
    /// in), then checks the restored data against the manifest.
    pub async fn restore_objects_and_check(
        &self,
        from: &Path,
        m: &Manifest,
    ) -> Result<RestoreCheck> {
        self.restore_objects_from(&Place::Dir(from.to_path_buf()), m)
            .await
    }

    /// As [`App::restore_objects_and_check`], the objects coming from a directory or a bucket.
    pub async fn restore_objects_from(&self, from: &Place, m: &Manifest) -> Result<RestoreCheck> {
        let mut check = RestoreCheck::default();
        let mut todo = Vec::new();
        for sha in &m.objects {
            if valid_sha(sha)
                && !m.disposed.contains(sha)
                && !self.files.exists(sha).await.unwrap_or(false)
            {
                todo.push(sha.clone());
            }
        }
        // Put back a few at a time; each is hashed on the way in, so it is checked here.
        let results: Vec<(String, std::result::Result<String, String>)> =
            futures_util::stream::iter(todo)
                .map(|sha| async move {
                    let r = match from {
                        Place::Dir(dir) => self.import_object(&object_path(dir, &sha)).await,
                        Place::Bucket(b) => self
                            .files
                            .copy_from(b, &sha)
                            .await
                            .map(|(got, _)| got)
                            .map_err(|e| e.to_string()),
                    };
                    (sha, r)
                })
                .buffer_unordered(COPIES)
                .collect()
                .await;
        let mut imported = std::collections::HashSet::new();
        for (sha, r) in results {
            match r {
                Ok(got) if got == sha => {
                    imported.insert(sha);
                }
                Ok(got) => check
                    .problems
                    .push(format!("object {sha}: the backup's bytes hash to {got}")),
                Err(e) => check.problems.push(format!("object {sha}: {e}")),
            }
        }
        // Rows per table and the audit head as the snapshot had them.
        let rows = zizhi_store::backup::row_counts(&self.db).await?;
        for (t, n) in &m.rows {
            match rows.get(t) {
                Some(got) if got == n => {}
                Some(got) => check
                    .problems
                    .push(format!("table {t}: {got} rows, the backup had {n}")),
                None => check.problems.push(format!("table {t}: missing")),
            }
        }
        let v = self.verify_audit(None).await?;
        check.audit_events = v.events;
        if let Some((seq, why)) = v.first_break {
            check
                .problems
                .push(format!("audit chain broken at event {seq}: {why}"));
        }
        if let Some((seq, hash)) = &m.audit_head
            && v.head.as_deref() != Some(hash.as_str())
            && v.events == *seq
        {
            check.problems.push(format!(
                "audit head differs from the backup's ({seq}, {hash})"
            ));
        }
        // Every object the rows refer to is there and hashes to its name (those just put back
        // were hashed on the way in).
        for sha in zizhi_store::backup::objects(&self.db).await? {
            if !valid_sha(&sha) || m.disposed.contains(&sha) {
                continue;
            }
            let r = if imported.contains(&sha) {
                match self.files.exists(&sha).await {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(format!("object {sha}: missing")),
                    Err(e) => Err(format!("object {sha}: {e}")),
                }
            } else {
                self.files
                    .open_verified(&sha)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("object {sha}: {e}"))
            };
            match r {
                Ok(()) => check.objects += 1,
                Err(p) => check.problems.push(p),
            }
        }
        Ok(check)
    }
}

impl App {
    /// Puts one object of a backup back into the evidence store; its SHA-256 as computed.
    async fn import_object(&self, path: &Path) -> std::result::Result<String, String> {
        if !tokio::fs::try_exists(path).await.unwrap_or(false) {
            return Err("not in the backup".into());
        }
        self.files
            .import_file(path)
            .await
            .map_err(|e| e.to_string())
    }
}
