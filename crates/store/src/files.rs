//! The evidence store on local disk: content-addressed by SHA-256, written through a temporary
//! file and renamed into place only when complete, so an interrupted upload leaves no object.
//!
//! Layout under the root: `objects/<aa>/<bb>/<sha256>` and `tmp/<random>`.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use sm3::Sm3;
use tokio::fs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The local content-addressed store.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
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

/// An upload in progress: bytes go to a temporary file and through both hashes.
pub struct Upload {
    tmp: PathBuf,
    file: fs::File,
    sha256: Sha256,
    sm3: Sm3,
    size: u64,
    limit: u64,
    root: PathBuf,
    done: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("the upload exceeds {0} bytes")]
    TooLarge(u64),
    #[error("stored object {0} does not match its hash")]
    Corrupted(String),
    #[error("no object {0}")]
    Missing(String),
}

impl FileStore {
    /// Opens (creating) the store and removes leftovers of interrupted uploads.
    pub async fn open(root: &Path) -> Result<FileStore, FileError> {
        fs::create_dir_all(root.join("objects")).await?;
        let tmp = root.join("tmp");
        if fs::try_exists(&tmp).await? {
            fs::remove_dir_all(&tmp).await?;
        }
        fs::create_dir_all(&tmp).await?;
        Ok(FileStore {
            root: root.to_path_buf(),
        })
    }

    fn object_path(&self, sha256: &str) -> PathBuf {
        object_path(&self.root, sha256)
    }

    /// Starts an upload of at most `limit` bytes.
    pub async fn begin(&self, limit: u64) -> Result<Upload, FileError> {
        let mut name = [0u8; 16];
        getrandom::fill(&mut name).map_err(|e| std::io::Error::other(e.to_string()))?;
        let tmp = self.root.join("tmp").join(hex::encode(name));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .await?;
        Ok(Upload {
            tmp,
            file,
            sha256: Sha256::new(),
            sm3: Sm3::new(),
            size: 0,
            limit,
            root: self.root.clone(),
            done: false,
        })
    }

    /// Opens an object after re-checking that its bytes still hash to its name.
    pub async fn open_verified(&self, sha256: &str) -> Result<(fs::File, u64), FileError> {
        let path = self.object_path(sha256);
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
        Ok((fs::File::open(&path).await?, size))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn object_path(root: &Path, sha256: &str) -> PathBuf {
    root.join("objects")
        .join(&sha256[..2])
        .join(&sha256[2..4])
        .join(sha256)
}

impl Upload {
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), FileError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(FileError::TooLarge(self.limit));
        }
        self.sha256.update(chunk);
        self.sm3.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    /// Flushes to disk and moves the file to its content address (keeping an identical
    /// existing object).
    pub async fn finish(mut self) -> Result<Stored, FileError> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        let sha256 = hex::encode(self.sha256.clone().finalize());
        let sm3 = hex::encode(self.sm3.clone().finalize());
        let dest = object_path(&self.root, &sha256);
        let new_object = !fs::try_exists(&dest).await?;
        if new_object {
            fs::create_dir_all(dest.parent().expect("objects have a parent")).await?;
            fs::rename(&self.tmp, &dest).await?;
        } else {
            fs::remove_file(&self.tmp).await?;
        }
        self.done = true;
        Ok(Stored {
            sha256,
            sm3,
            size: self.size,
            new_object,
        })
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.done {
            // Abandoned (error, disconnect): remove the partial file.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn uploads_are_hashed_stored_by_content_and_deduplicated() {
        let dir = std::env::temp_dir().join(format!("zizhi-files-{}", crate::now_us()));
        let store = FileStore::open(&dir).await.unwrap();
        let mut u = store.begin(1 << 20).await.unwrap();
        u.write(b"ab").await.unwrap();
        u.write(b"c").await.unwrap();
        let s = u.finish().await.unwrap();
        assert_eq!(
            s.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            s.sm3,
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(s.size, 3);
        assert!(s.new_object);
        let mut u = store.begin(1 << 20).await.unwrap();
        u.write(b"abc").await.unwrap();
        assert!(
            !u.finish().await.unwrap().new_object,
            "same content stored once"
        );
        let (_, size) = store.open_verified(&s.sha256).await.unwrap();
        assert_eq!(size, 3);
        // Corruption on disk is caught on the way out.
        std::fs::write(object_path(&dir, &s.sha256), b"abd").unwrap();
        assert!(matches!(
            store.open_verified(&s.sha256).await,
            Err(FileError::Corrupted(_))
        ));
    }

    #[tokio::test]
    async fn an_abandoned_or_oversized_upload_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("zizhi-files-b-{}", crate::now_us()));
        let store = FileStore::open(&dir).await.unwrap();
        let mut u = store.begin(4).await.unwrap();
        u.write(b"1234").await.unwrap();
        assert!(matches!(u.write(b"5").await, Err(FileError::TooLarge(4))));
        drop(u);
        let mut u = store.begin(100).await.unwrap();
        u.write(b"partial").await.unwrap();
        drop(u);
        assert_eq!(std::fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        assert_eq!(std::fs::read_dir(dir.join("objects")).unwrap().count(), 0);
        // Leftovers from a crash are swept at the next open.
        std::fs::write(dir.join("tmp").join("crashed"), b"x").unwrap();
        FileStore::open(&dir).await.unwrap();
        assert_eq!(std::fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
    }
}
