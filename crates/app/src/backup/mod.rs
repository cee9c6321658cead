//! Backup and restore (issue 12). `zizhi backup --to DIR` writes, while the server runs:
//! - `db/`: a consistent snapshot of the database (`zizhi_store::backup::snapshot`);
//! - `objects/`: every stored object the snapshot refers to, content-addressed like the
//!   evidence store, copied only when not there yet (incremental), each re-hashed as read;
//! - `manifest.json`: what was taken — backend, schema version, rows per table, the audit
//!   chain's head, the hash of each database file, every object — written last, so a backup
//!   without it is unfinished.
//!
//! The place may also be a bucket of an S3-compatible object store (`s3://…`, the evidence
//! store's form): the same objects under the same keys, the database files under
//! `db/<when>/` (the manifest names which; older ones go once the new manifest is there), the
//! signing keys under `keys/`, the manifest last.
//!
//! Restoring is `restore.rs`: `zizhi restore --from DIR` checks the database files against the manifest, restores the
//! database (a new SQLite file, or an empty PostgreSQL database), migrates it forward, puts the
//! objects back through the evidence store (which hashes them again), and then checks the
//! result: rows per table and the audit head as the manifest says, the whole audit chain, and
//! every object the rows refer to present with its hash. Any mismatch fails loudly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use zizhi_store::files::{FileError, FileStore, S3Config};

use crate::{App, AppError, Result};

mod restore;
pub use restore::{RestoreCheck, fetch_backup, read_backup, restore_database, restore_pg_into};

pub const FORMAT: &str = "zizhi-backup/1";

/// Objects copied at once (backup and restore): enough to overlap reading, hashing and
/// writing on two cores.
const COPIES: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbFile {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// UTC, RFC 3339.
    pub made_at: String,
    pub backend: String,
    pub schema_version: i64,
    pub rows: BTreeMap<String, i64>,
    pub audit_head: Option<(i64, String)>,
    pub db_files: Vec<DbFile>,
    /// PostgreSQL: the tables in restore order.
    pub tables: Vec<String>,
    /// Every object the rows refer to, by SHA-256.
    pub objects: Vec<String>,
    /// Objects destroyed on purpose (a disposed case's file, 八): referred to, not kept.
    pub disposed: Vec<String>,
    /// Where the database files are, relative to the backup (`db`; in a bucket `db/<when>`).
    #[serde(default = "db_dir_default")]
    pub db_dir: String,
}

fn db_dir_default() -> String {
    "db".into()
}

/// Where a backup is kept: a directory of this machine, or a bucket of an S3-compatible object
/// store.
#[derive(Debug, Clone)]
pub enum Place {
    Dir(PathBuf),
    Bucket(FileStore),
}

impl Place {
    /// `s3://ACCESS:SECRET@host:port/bucket?region=…&tls=false` (the evidence store's form) is
    /// a bucket; anything else a directory.
    pub fn parse(s: &str, field: &str) -> Result<Place> {
        if s.starts_with("s3://") {
            let c = S3Config::parse(s).map_err(|e| {
                AppError::invalid(
                    field,
                    format!("对象存储地址无效：{e}（格式 s3://ACCESS:SECRET@主机:端口/桶?tls=false）"),
                    format!("not a usable object store address: {e} (s3://ACCESS:SECRET@host:port/bucket?tls=false)"),
                )
            })?;
            let store = FileStore::s3(&c).map_err(|e| {
                AppError::invalid(
                    field,
                    format!("对象存储无法使用：{e}"),
                    format!("the object store cannot be used: {e}"),
                )
            })?;
            return Ok(Place::Bucket(store));
        }
        if s.contains("://") {
            return Err(AppError::invalid(
                field,
                "备份位置须为本机目录或 s3:// 对象存储地址",
                "a backup is kept in a directory or at an s3:// address",
            ));
        }
        Ok(Place::Dir(PathBuf::from(s)))
    }

    /// For messages: the directory, or `s3:bucket` (never the credentials).
    pub fn describe(&self) -> String {
        match self {
            Place::Dir(d) => d.display().to_string(),
            Place::Bucket(b) => b.describe(),
        }
    }
}

/// What one backup did.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub manifest: Manifest,
    /// Objects copied by this backup (the rest were there from an earlier one).
    pub new_objects: usize,
    pub bytes_copied: u64,
    /// From the start to the database snapshot made.
    pub snapshot_time: std::time::Duration,
    /// From the start to the last object copied (the copies run during the snapshot).
    pub objects_time: std::time::Duration,
    /// From the start to the manifest written.
    pub total_time: std::time::Duration,
}

fn io(e: std::io::Error) -> AppError {
    AppError::Internal(format!("backup: {e}"))
}

/// A failure of the bucket a backup is kept in.
fn bucket_err(e: FileError) -> AppError {
    AppError::Internal(format!("the backup's bucket: {e}"))
}

fn object_path(root: &Path, sha256: &str) -> PathBuf {
    root.join("objects")
        .join(&sha256[..2])
        .join(&sha256[2..4])
        .join(sha256)
}

async fn sha256_of(path: &Path) -> Result<(String, u64)> {
    let mut f = tokio::fs::File::open(path).await.map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).await.map_err(io)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

fn valid_sha(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl App {
    /// Copies the objects of `shas` not in `place` yet, a few at a time (reading, hashing and
    /// writing overlap across objects), each in one pass that checks its hash.
    async fn copy_missing(
        &self,
        place: &Place,
        shas: Vec<String>,
    ) -> Result<Vec<(String, std::result::Result<u64, FileError>)>> {
        let mut todo = Vec::new();
        for sha in shas {
            if !valid_sha(&sha) {
                continue;
            }
            let there = match place {
                Place::Dir(dir) => tokio::fs::try_exists(object_path(dir, &sha))
                    .await
                    .map_err(io)?,
                Place::Bucket(b) => b.exists(&sha).await.map_err(bucket_err)?,
            };
            if !there {
                todo.push(sha);
            }
        }
        Ok(futures_util::stream::iter(todo)
            .map(|sha| async move {
                let r = match place {
                    Place::Dir(dir) => {
                        let target = object_path(dir, &sha);
                        match tokio::fs::create_dir_all(target.parent().expect("nested")).await {
                            Ok(()) => self.files.copy_out(&sha, &target).await,
                            Err(e) => Err(FileError::Io(e)),
                        }
                    }
                    Place::Bucket(b) => match b.copy_from(&self.files, &sha).await {
                        Ok((got, n)) if got == sha => Ok(n),
                        Ok(_) => Err(FileError::Corrupted(sha.clone())),
                        Err(e) => Err(e),
                    },
                };
                (sha, r)
            })
            .buffer_unordered(COPIES)
            .collect()
            .await)
    }

    /// Backs up the database and the objects into `dir` (created; a directory that already
    /// holds a backup keeps its objects and takes only new ones).
    pub async fn backup_to(&self, dir: &Path) -> Result<BackupReport> {
        self.backup_into(&Place::Dir(dir.to_path_buf()), dir).await
    }

    /// Backs up into `place`; the database snapshot is made under `staging` first (the
    /// directory itself, or for a bucket a directory of this machine, such as the data
    /// directory). A bucket that already holds a backup keeps its objects and takes only new
    /// ones.
    pub async fn backup_into(&self, place: &Place, staging: &Path) -> Result<BackupReport> {
        if let Place::Dir(dir) = place {
            tokio::fs::create_dir_all(dir.join("objects"))
                .await
                .map_err(io)?;
        }
        tokio::fs::create_dir_all(staging).await.map_err(io)?;
        let tmp = staging.join(format!("db.tmp-{}", std::process::id()));
        let _ = tokio::fs::remove_dir_all(&tmp).await;
        // The objects the live database names now are copied while the snapshot is made
        // (nearly all it will name); then those it names beyond them, and any that failed
        // meanwhile (an object being disposed of is judged against the snapshot).
        let started = std::time::Instant::now();
        let live = zizhi_store::backup::objects(&self.db).await?;
        let (snap, early) = tokio::join!(
            async {
                let s = zizhi_store::backup::snapshot(&self.db, &tmp).await;
                (s, started.elapsed())
            },
            self.copy_missing(place, live)
        );
        let (snap, snapshot_time) = (snap.0?, snap.1);
        let mut db_files = Vec::new();
        for name in &snap.files {
            let (sha256, size) = sha256_of(&tmp.join(name)).await?;
            db_files.push(DbFile {
                name: name.clone(),
                sha256,
                size,
            });
        }
        let mut copied: Vec<(String, std::result::Result<u64, FileError>)> =
            early?.into_iter().filter(|(_, r)| r.is_ok()).collect();
        copied.extend(self.copy_missing(place, snap.objects.clone()).await?);
        let objects_time = started.elapsed();
        let mut new_objects = 0;
        let mut bytes_copied = 0;
        let mut disposed = Vec::new();
        for (sha, r) in copied {
            match r {
                Ok(n) => {
                    new_objects += 1;
                    bytes_copied += n;
                }
                Err(FileError::Missing(_))
                    if zizhi_store::archive::disposed_only(&self.db, &sha).await? =>
                {
                    disposed.push(sha);
                }
                Err(e) => {
                    return Err(AppError::Internal(format!(
                        "object {sha} cannot be backed up: {e}"
                    )));
                }
            }
        }
        // The new snapshot replaces the previous one; the manifest goes last.
        let made_at = chrono::Utc::now();
        let db_dir = match place {
            Place::Dir(dir) => {
                let db = dir.join("db");
                let _ = tokio::fs::remove_dir_all(&db).await;
                tokio::fs::rename(&tmp, &db).await.map_err(io)?;
                "db".to_string()
            }
            Place::Bucket(b) => {
                let prefix = format!(
                    "db/{}-{}",
                    made_at.format("%Y%m%dT%H%M%S%.6fZ"),
                    std::process::id()
                );
                for f in &db_files {
                    b.put_named(&format!("{prefix}/{}", f.name), &tmp.join(&f.name))
                        .await
                        .map_err(bucket_err)?;
                }
                let _ = tokio::fs::remove_dir_all(&tmp).await;
                prefix
            }
        };
        let manifest = Manifest {
            db_dir,
            format: FORMAT.into(),
            made_at: made_at.to_rfc3339(),
            backend: self.db.backend().into(),
            schema_version: snap.schema_version,
            rows: snap.rows,
            audit_head: snap.audit_head,
            db_files,
            tables: snap.tables,
            objects: snap.objects,
            disposed,
        };
        let text = serde_json::to_string_pretty(&manifest).expect("json");
        let part = staging.join("manifest.json.part");
        tokio::fs::write(&part, text).await.map_err(io)?;
        match place {
            Place::Dir(dir) => tokio::fs::rename(&part, dir.join("manifest.json"))
                .await
                .map_err(io)?,
            Place::Bucket(b) => {
                b.put_named("manifest.json", &part)
                    .await
                    .map_err(bucket_err)?;
                let _ = tokio::fs::remove_file(&part).await;
                // The earlier snapshots' files go once the manifest names the new one.
                for name in b.list_named("db").await.map_err(bucket_err)? {
                    if !name.starts_with(&format!("{}/", manifest.db_dir)) {
                        b.delete_named(&name).await.map_err(bucket_err)?;
                    }
                }
            }
        }
        Ok(BackupReport {
            manifest,
            new_objects,
            bytes_copied,
            snapshot_time,
            objects_time,
            total_time: started.elapsed(),
        })
    }
}
