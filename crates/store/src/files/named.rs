//! Files kept under a name beside the objects — what a backup kept in a bucket needs besides
//! the objects: its database files, signing keys and manifest.

use std::path::Path;

use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, WriteMultipart};
use tokio::fs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{FileError, FileStore};

/// A name for [`FileStore::put_named`]: relative, plain parts, not the objects' or the
/// uploads' places.
fn check_name(name: &str) -> Result<(), FileError> {
    let ok = !name.is_empty()
        && !name.starts_with("objects")
        && !name.starts_with("tmp")
        && name
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != ".." && !p.contains('\\'));
    if ok {
        Ok(())
    } else {
        Err(FileError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a name for a kept file: {name}"),
        )))
    }
}

impl FileStore {
    /// Keeps a file under `name` beside the objects (a backup in a bucket: its database
    /// files, signing keys and manifest). `name` is a relative path such as `db/zizhi.db`,
    /// never under `objects/` or `tmp/`. Returns its size.
    pub async fn put_named(&self, name: &str, path: &Path) -> Result<u64, FileError> {
        check_name(name)?;
        match self {
            FileStore::Local { root, .. } => {
                let dest = root.join(name);
                if let Some(dir) = dest.parent() {
                    fs::create_dir_all(dir).await?;
                }
                let part = dest.with_extension("part");
                let n = fs::copy(path, &part).await?;
                fs::File::open(&part).await?.sync_all().await?;
                fs::rename(&part, &dest).await?;
                Ok(n)
            }
            FileStore::S3 { store, .. } => {
                let mut f = fs::File::open(path).await?;
                let mut w =
                    WriteMultipart::new(store.put_multipart(&ObjectPath::from(name)).await?);
                let mut buf = vec![0u8; 1 << 20];
                let mut n = 0u64;
                loop {
                    let k = f.read(&mut buf).await?;
                    if k == 0 {
                        break;
                    }
                    w.wait_for_capacity(4).await?;
                    w.write(&buf[..k]);
                    n += k as u64;
                }
                w.finish().await?;
                Ok(n)
            }
        }
    }

    /// Fetches the file kept under `name` into `dest`; `None` when there is none.
    pub async fn get_named(&self, name: &str, dest: &Path) -> Result<Option<u64>, FileError> {
        check_name(name)?;
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).await?;
        }
        match self {
            FileStore::Local { root, .. } => match fs::copy(root.join(name), dest).await {
                Ok(n) => Ok(Some(n)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            },
            FileStore::S3 { store, .. } => {
                let get = match store.get(&ObjectPath::from(name)).await {
                    Ok(g) => g,
                    Err(object_store::Error::NotFound { .. }) => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                let mut out = fs::File::create(dest).await?;
                let mut n = 0u64;
                let mut st = get.into_stream();
                while let Some(chunk) = st.next().await {
                    let chunk = chunk?;
                    n += chunk.len() as u64;
                    out.write_all(&chunk).await?;
                }
                out.sync_all().await?;
                Ok(Some(n))
            }
        }
    }

    /// The names kept anywhere under `prefix` (a directory, such as `keys`).
    pub async fn list_named(&self, prefix: &str) -> Result<Vec<String>, FileError> {
        check_name(prefix)?;
        let mut out = Vec::new();
        match self {
            FileStore::Local { root, .. } => {
                // Every file below the prefix, as a bucket lists them.
                let mut dirs = vec![prefix.to_string()];
                while let Some(dir) = dirs.pop() {
                    let mut entries = match fs::read_dir(root.join(&dir)).await {
                        Ok(e) => e,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e.into()),
                    };
                    while let Some(e) = entries.next_entry().await? {
                        let name = format!("{dir}/{}", e.file_name().to_string_lossy());
                        let t = e.file_type().await?;
                        if t.is_dir() {
                            dirs.push(name);
                        } else if t.is_file() && !name.ends_with(".part") {
                            out.push(name);
                        }
                    }
                }
            }
            FileStore::S3 { store, .. } => {
                use object_store::ObjectStore as _;
                let p = ObjectPath::from(prefix);
                let mut list = store.list(Some(&p));
                while let Some(m) = list.next().await {
                    out.push(m?.location.to_string());
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Removes the file kept under `name` (an older backup's database files).
    pub async fn delete_named(&self, name: &str) -> Result<(), FileError> {
        check_name(name)?;
        match self {
            FileStore::Local { root, .. } => match fs::remove_file(root.join(name)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            },
            FileStore::S3 { store, .. } => match store.delete(&ObjectPath::from(name)).await {
                Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
                Err(e) => Err(e.into()),
            },
        }
    }
}
