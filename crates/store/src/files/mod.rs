//! The evidence store: content-addressed by SHA-256, hashed (SHA-256 and SM3) while streaming,
//! deduplicated, and never showing an object before it is complete. Two backends with one
//! contract: local files (the embedded default) and S3-compatible object storage.
//!
//! Local layout under the root: `objects/<aa>/<bb>/<sha256>`, uploads in `tmp/<random>` renamed
//! into place when complete. S3 layout in the bucket: the same object keys; uploads go to
//! `tmp/<random>` as multipart uploads (invisible until completed), then are copied to their
//! content address.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use futures_util::{Stream, StreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, WriteMultipart};
use sha2::{Digest as _, Sha256};
use tokio::fs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod local_file;
mod named;
mod upload;

use upload::Sink;
pub use upload::Upload;

/// Bytes on their way out.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Vec<u8>>> + Send>>;

/// The evidence store.
#[derive(Debug, Clone)]
pub enum FileStore {
    Local {
        root: PathBuf,
        /// This process's own directory for uploads in flight (`tmp/<pid>-<random>`).
        tmp: PathBuf,
    },
    S3 {
        store: Arc<AmazonS3>,
        bucket: String,
    },
}

/// S3 settings (`s3://ACCESS:SECRET@host:port/bucket?region=…&tls=false`).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Without the secret key.
impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"«redacted»")
            .finish()
    }
}

impl S3Config {
    pub fn parse(url: &str) -> Result<S3Config, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or("expected s3://ACCESS:SECRET@host:port/bucket")?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (creds, rest) = rest.rsplit_once('@').ok_or("missing ACCESS:SECRET@")?;
        let (key, secret) = creds
            .split_once(':')
            .ok_or("credentials must be ACCESS:SECRET")?;
        let (host, bucket) = rest.split_once('/').ok_or("missing /bucket")?;
        let bucket = bucket.trim_end_matches('/');
        if host.is_empty() || bucket.is_empty() || bucket.contains('/') {
            return Err("expected host[:port]/bucket".into());
        }
        let mut region = "us-east-1".to_string();
        let mut tls = true;
        for kv in query.split('&').filter(|s| !s.is_empty()) {
            match kv.split_once('=') {
                Some(("region", v)) => region = v.to_string(),
                Some(("tls", "false")) => tls = false,
                Some(("tls", "true")) => tls = true,
                _ => return Err(format!("unknown parameter {kv}")),
            }
        }
        Ok(S3Config {
            endpoint: format!("{}://{host}", if tls { "https" } else { "http" }),
            bucket: bucket.to_string(),
            region,
            access_key_id: key.to_string(),
            secret_access_key: secret.to_string(),
        })
    }
}

/// What an upload produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub sha256: String,
    pub sm3: String,
    pub size: u64,
    /// False when identical content was already stored (deduplicated).
    pub new_object: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("object store: {0}")]
    Object(#[from] object_store::Error),
    #[error("the upload exceeds {0} bytes")]
    TooLarge(u64),
    #[error("stored object {0} does not match its hash")]
    Corrupted(String),
    #[error("no object {0}")]
    Missing(String),
}

/// Copies `src` to `part` hashing it, then renames `part` to `dest` if the bytes hash to
/// `sha256` (blocking).
fn copy_verified(src: &Path, part: &Path, dest: &Path, sha256: &str) -> Result<u64, FileError> {
    let mut f = std::fs::File::open(src).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FileError::Missing(sha256.to_string()),
        _ => FileError::Io(e),
    })?;
    let (sha, size) = copy_hashing(&mut f, part)?;
    if sha != sha256 {
        let _ = std::fs::remove_file(part);
        return Err(FileError::Corrupted(sha256.to_string()));
    }
    std::fs::rename(part, dest)?;
    Ok(size)
}

/// Copies `src` into a new file `part`, synced, hashing it with SHA-256 (blocking). Returns
/// the hash and the size.
fn copy_hashing(src: &mut std::fs::File, part: &Path) -> std::io::Result<(String, u64)> {
    use std::io::{Read, Write};
    let mut out = std::fs::File::create(part)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 4 << 20];
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        out.write_all(&buf[..n])?;
        size += n as u64;
    }
    out.sync_all()?;
    Ok((hex::encode(h.finalize()), size))
}

fn object_key(sha256: &str) -> String {
    format!("objects/{}/{}/{sha256}", &sha256[..2], &sha256[2..4])
}

/// Whether a process with this id runs on this machine (Linux: `/proc/<pid>`). Where that
/// cannot be told, every process counts as alive, so nothing of another's is removed.
fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

fn random_name() -> Result<String, FileError> {
    let mut name = [0u8; 16];
    getrandom::fill(&mut name).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(hex::encode(name))
}

impl FileStore {
    /// Opens (creating) a local store. Uploads in flight belong to their process: each process
    /// writes under its own `tmp/<pid>-<random>`, and opening removes only the leftovers of
    /// processes that are gone (another server on the same data directory keeps its uploads).
    pub async fn open(root: &Path) -> Result<FileStore, FileError> {
        fs::create_dir_all(root.join("objects")).await?;
        let all = root.join("tmp");
        fs::create_dir_all(&all).await?;
        let mut entries = fs::read_dir(&all).await?;
        while let Some(e) = entries.next_entry().await? {
            let name = e.file_name().to_string_lossy().to_string();
            let owner = name
                .split_once('-')
                .and_then(|(pid, _)| pid.parse::<u32>().ok());
            let gone = match owner {
                Some(pid) => !process_alive(pid),
                // A file of the older flat layout: its process is long gone.
                None => true,
            };
            if gone {
                let p = e.path();
                if e.file_type().await?.is_dir() {
                    let _ = fs::remove_dir_all(&p).await;
                } else {
                    let _ = fs::remove_file(&p).await;
                }
            }
        }
        let tmp = all.join(format!("{}-{}", std::process::id(), random_name()?));
        fs::create_dir_all(&tmp).await?;
        Ok(FileStore::Local {
            root: root.to_path_buf(),
            tmp,
        })
    }

    /// Connects to an S3-compatible bucket.
    pub fn s3(c: &S3Config) -> Result<FileStore, FileError> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&c.endpoint)
            .with_allow_http(c.endpoint.starts_with("http://"))
            .with_bucket_name(&c.bucket)
            .with_region(&c.region)
            .with_access_key_id(&c.access_key_id)
            .with_secret_access_key(&c.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .build()?;
        Ok(FileStore::S3 {
            store: Arc::new(store),
            bucket: c.bucket.clone(),
        })
    }

    /// A short description for logs and the health endpoint.
    pub fn describe(&self) -> String {
        match self {
            FileStore::Local { root, .. } => format!("local:{}", root.display()),
            FileStore::S3 { bucket, .. } => format!("s3:{bucket}"),
        }
    }

    /// The local root (local stores only).
    pub fn root(&self) -> Option<&Path> {
        match self {
            FileStore::Local { root, .. } => Some(root),
            FileStore::S3 { .. } => None,
        }
    }

    /// Starts putting back an object of a backup: like an upload, but only the SHA-256 (its
    /// name) is computed; the SM3 of the result is empty.
    pub async fn begin_import(&self) -> Result<Upload, FileError> {
        let mut up = self.begin(u64::MAX).await?;
        up.without_sm3();
        Ok(up)
    }

    /// Puts a file back as an object (restoring a backup): hashed with SHA-256 on the way in
    /// and stored under that name. Returns the SHA-256.
    pub async fn import_file(&self, path: &Path) -> Result<String, FileError> {
        if let FileStore::Local { root, tmp } = self {
            let (src, part, root) = (path.to_path_buf(), tmp.join(random_name()?), root.clone());
            return tokio::task::spawn_blocking(move || -> Result<String, FileError> {
                let (sha, _) = copy_hashing(&mut std::fs::File::open(&src)?, &part)?;
                let dest = root.join(object_key(&sha));
                if let Some(dir) = dest.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::rename(&part, &dest)?;
                Ok(sha)
            })
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        let mut f = fs::File::open(path).await?;
        let mut up = self.begin_import().await?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            up.write(&buf[..n]).await?;
        }
        Ok(up.finish().await?.sha256)
    }

    /// Copies an object into a file at `dest` in one pass, checking on the way that its bytes
    /// hash to its name (written to `dest.part`, renamed when they do). Returns its size.
    pub async fn copy_out(&self, sha256: &str, dest: &Path) -> Result<u64, FileError> {
        let part = dest.with_extension("part");
        let store = match self {
            FileStore::Local { root, .. } => {
                // One blocking task per object with plain reads and writes: no hop to the
                // blocking pool per chunk, and the hashing off the async threads.
                let (src, dest, sha) = (
                    root.join(object_key(sha256)),
                    dest.to_path_buf(),
                    sha256.to_string(),
                );
                return tokio::task::spawn_blocking(move || {
                    copy_verified(&src, &part, &dest, &sha)
                })
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            }
            FileStore::S3 { store, .. } => store,
        };
        let get = store
            .get(&ObjectPath::from(object_key(sha256)))
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => FileError::Missing(sha256.to_string()),
                other => FileError::Object(other),
            })?;
        let mut out = fs::File::create(&part).await?;
        let mut h = Sha256::new();
        let mut size = 0u64;
        let mut s = get.into_stream();
        while let Some(chunk) = s.next().await {
            let chunk = chunk?;
            h.update(&chunk);
            size += chunk.len() as u64;
            out.write_all(&chunk).await?;
        }
        out.sync_all().await?;
        drop(out);
        if hex::encode(h.finalize()) != sha256 {
            let _ = fs::remove_file(&part).await;
            return Err(FileError::Corrupted(sha256.to_string()));
        }
        fs::rename(&part, dest).await?;
        Ok(size)
    }

    /// Copies an object of `other` into this store (a backup kept in a bucket, a restore from
    /// one): its bytes are checked against its name as they are read and hashed again as they
    /// are written. Returns the SHA-256 the written bytes have and their size.
    pub async fn copy_from(
        &self,
        other: &FileStore,
        sha256: &str,
    ) -> Result<(String, u64), FileError> {
        let (mut bytes, _) = other.open_verified(sha256).await?;
        let mut up = self.begin_import().await?;
        while let Some(chunk) = bytes.next().await {
            up.write(&chunk?).await?;
        }
        let stored = up.finish().await?;
        Ok((stored.sha256, stored.size))
    }

    /// Starts an upload of at most `limit` bytes.
    pub async fn begin(&self, limit: u64) -> Result<Upload, FileError> {
        let mut file = None;
        let sink = match self {
            FileStore::Local { root, tmp } => {
                let tmp = tmp.join(random_name()?);
                let f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&tmp)
                    .await?;
                file = Some((f.into_std().await, tmp.clone()));
                Sink::Local {
                    tmp,
                    root: root.clone(),
                    done: false,
                }
            }
            FileStore::S3 { store, .. } => {
                let tmp = ObjectPath::from(format!("tmp/{}", random_name()?));
                let upload = store.put_multipart(&tmp).await?;
                Sink::S3 {
                    store: store.clone(),
                    tmp,
                    writer: Some(WriteMultipart::new(upload)),
                }
            }
        };
        Ok(Upload::new(file, sink, limit))
    }

    /// An object's bytes, after re-checking that they hash to its name; and its size.
    pub async fn open_verified(&self, sha256: &str) -> Result<(ByteStream, u64), FileError> {
        match self {
            FileStore::Local { root, .. } => {
                let path = root.join(object_key(sha256));
                let mut f = fs::File::open(&path).await.map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => FileError::Missing(sha256.to_string()),
                    _ => FileError::Io(e),
                })?;
                let mut h = Sha256::new();
                let mut buf = vec![0u8; 256 * 1024];
                let mut size = 0u64;
                loop {
                    let n = f.read(&mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    h.update(&buf[..n]);
                    size += n as u64;
                }
                if hex::encode(h.finalize()) != sha256 {
                    return Err(FileError::Corrupted(sha256.to_string()));
                }
                let file = fs::File::open(&path).await?;
                let stream = futures_util::stream::unfold(file, |mut f| async move {
                    let mut buf = vec![0u8; 256 * 1024];
                    match f.read(&mut buf).await {
                        Ok(0) => None,
                        Ok(n) => {
                            buf.truncate(n);
                            Some((Ok(buf), f))
                        }
                        Err(e) => Some((Err(e), f)),
                    }
                });
                Ok((Box::pin(stream), size))
            }
            FileStore::S3 { store, .. } => {
                let key = ObjectPath::from(object_key(sha256));
                let get = store.get(&key).await.map_err(|e| match e {
                    object_store::Error::NotFound { .. } => FileError::Missing(sha256.to_string()),
                    other => FileError::Object(other),
                })?;
                let mut h = Sha256::new();
                let mut size = 0u64;
                let mut s = get.into_stream();
                while let Some(chunk) = s.next().await {
                    let chunk = chunk?;
                    h.update(&chunk);
                    size += chunk.len() as u64;
                }
                if hex::encode(h.finalize()) != sha256 {
                    return Err(FileError::Corrupted(sha256.to_string()));
                }
                let stream = store
                    .get(&key)
                    .await?
                    .into_stream()
                    .map(|r| r.map(|b| b.to_vec()).map_err(std::io::Error::other));
                Ok((Box::pin(stream), size))
            }
        }
    }

    /// Overwrites an object's bytes (tests of corruption only).
    #[doc(hidden)]
    pub async fn corrupt_for_tests(&self, sha256: &str, bytes: &[u8]) -> Result<(), FileError> {
        match self {
            FileStore::Local { root, .. } => {
                Ok(fs::write(root.join(object_key(sha256)), bytes).await?)
            }
            FileStore::S3 { store, .. } => {
                store
                    .put(&ObjectPath::from(object_key(sha256)), bytes.to_vec().into())
                    .await?;
                Ok(())
            }
        }
    }

    /// Every stored object with the time it was stored (for the clean-up of objects whose
    /// row never committed).
    pub async fn list_objects(&self) -> Result<Vec<(String, std::time::SystemTime)>, FileError> {
        let mut out = Vec::new();
        match self {
            FileStore::Local { root, .. } => {
                let mut dirs = vec![root.join("objects")];
                while let Some(dir) = dirs.pop() {
                    let mut entries = match fs::read_dir(&dir).await {
                        Ok(e) => e,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e.into()),
                    };
                    while let Some(e) = entries.next_entry().await? {
                        let t = e.file_type().await?;
                        if t.is_dir() {
                            dirs.push(e.path());
                        } else {
                            let name = e.file_name().to_string_lossy().to_string();
                            if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                                out.push((name, e.metadata().await?.modified()?));
                            }
                        }
                    }
                }
            }
            FileStore::S3 { store, .. } => {
                use object_store::ObjectStore as _;
                let prefix = ObjectPath::from("objects");
                let mut list = store.list(Some(&prefix));
                while let Some(meta) = list.next().await {
                    let meta = meta?;
                    if let Some(name) = meta.location.filename()
                        && name.len() == 64
                    {
                        out.push((name.to_string(), meta.last_modified.into()));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Destroys an object's bytes (disposal after retention, guide 八); gone already is fine.
    /// Only `App::approve_disposal` calls this, after checking that nothing kept refers to it.
    pub async fn delete(&self, sha256: &str) -> Result<(), FileError> {
        match self {
            FileStore::Local { root, .. } => {
                match fs::remove_file(root.join(object_key(sha256))).await {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
            FileStore::S3 { store, .. } => {
                match store.delete(&ObjectPath::from(object_key(sha256))).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// Whether an object exists (tests and checks).
    pub async fn exists(&self, sha256: &str) -> Result<bool, FileError> {
        match self {
            FileStore::Local { root, .. } => {
                Ok(fs::try_exists(root.join(object_key(sha256))).await?)
            }
            FileStore::S3 { store, .. } => {
                match store.head(&ObjectPath::from(object_key(sha256))).await {
                    Ok(_) => Ok(true),
                    Err(object_store::Error::NotFound { .. }) => Ok(false),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_parse() {
        let c = S3Config::parse("s3://AK:SK@127.0.0.1:9000/evidence?tls=false&region=cn-north-1")
            .unwrap();
        assert_eq!(c.endpoint, "http://127.0.0.1:9000");
        assert_eq!(
            (c.bucket.as_str(), c.region.as_str()),
            ("evidence", "cn-north-1")
        );
        assert_eq!(
            (c.access_key_id.as_str(), c.secret_access_key.as_str()),
            ("AK", "SK")
        );
        assert_eq!(
            S3Config::parse("s3://AK:SK@s3.example.gov.cn/b")
                .unwrap()
                .endpoint,
            "https://s3.example.gov.cn"
        );
        for bad in [
            "http://x/b",
            "s3://host/b",
            "s3://AK:SK@host",
            "s3://AK:SK@host/b?x=1",
            "s3://AK:SK@host/a/b",
        ] {
            assert!(S3Config::parse(bad).is_err(), "{bad}");
        }
    }
}
