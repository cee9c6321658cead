//! An upload in progress: its bytes go to two hash threads (SHA-256, SM3), the SHA-256 one
//! also writing a local upload's file ([`LocalFile`]: around the page cache where it can),
//! then to their content address.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, WriteMultipart};
use sha2::Sha256;
use sm3::Sm3;
use tokio::fs;

use super::local_file::LocalFile;
use super::{FileError, Stored, object_key};

/// A hash computed on its own thread, fed shared chunks: SHA-256 and SM3 each get one, so an
/// upload's two hashes and its I/O run side by side. The SHA-256 thread (SHA-NI makes it
/// several times faster than SM3) also writes a local upload's file and syncs it at the end:
/// the async side only receives, so the upload runs at SM3's pace (issue 14; before, each
/// chunk went through tokio's blocking pool to the file).
///
/// How far the receiving side may run ahead is a budget of bytes ([`AHEAD`]) that the thread
/// gives back in [`GIVE_BACK`] lots, and whenever it has caught up; the receiving task waits for
/// it asynchronously. Before, a
/// bounded channel blocked its sender: SM3 is the slowest part and always behind, so the
/// runtime worker thread receiving an upload was held in the channel most of the upload, and
/// with two uploads both of the two workers were (seen: `/api/v1/me` answered 99 times a
/// second, 37 ms each, during two uploads; 14.5–21.6 k times, p50 85–90 µs, with the budget).
struct HashThread {
    /// Where chunks go, and the budget they take; none when the hash is not wanted.
    feed: Option<Feed>,
    done: Option<std::thread::JoinHandle<std::io::Result<String>>>,
}

/// A hash thread's input: its chunks and the budget of bytes they may be ahead by.
struct Feed {
    chunks: std::sync::mpsc::Sender<Bytes>,
    budget: Arc<tokio::sync::Semaphore>,
}

/// Closes a hash thread's budget when dropped: when the thread ends, however it ends.
struct ClosesOnEnd(Arc<tokio::sync::Semaphore>);

impl Drop for ClosesOnEnd {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// How many bytes an upload's receiving side may hand a hash thread ahead of it.
const AHEAD: usize = 8 * 1024 * 1024;
/// How many hashed bytes a hash thread gathers before giving them back to the budget (or fewer,
/// when it has nothing more to hash).
const GIVE_BACK: usize = 2 * 1024 * 1024;

/// The budget a chunk takes: its length, at most the whole budget (a chunk larger than it
/// waits for all of it).
fn cost(chunk: &Bytes) -> usize {
    chunk.len().min(AHEAD)
}

impl HashThread {
    fn start<D: sha2::Digest + Send + 'static>(name: &str) -> HashThread {
        HashThread::start_writing::<D>(name, None)
    }

    /// Hashes, and writes each chunk to `file` (opened at the path given, empty) when given,
    /// around the page cache where it can ([`LocalFile`]). The first write error ends the
    /// writing and is the thread's answer; the file is synced once all is written.
    /// The thread is named `name` (as `top -H` and a profile show it).
    fn start_writing<D: sha2::Digest + Send + 'static>(
        name: &str,
        file: Option<(std::fs::File, PathBuf)>,
    ) -> HashThread {
        let (tx, rx) = std::sync::mpsc::channel::<Bytes>();
        let budget = Arc::new(tokio::sync::Semaphore::new(AHEAD));
        // Owned by the thread: however it ends — done, failed to start its file, panicked —
        // the budget closes, so the receiving side no longer waits for it (its pieces then go
        // nowhere, and `finish` reports the thread's error).
        let given = ClosesOnEnd(budget.clone());
        let thread = std::thread::Builder::new().name(name.to_string());
        let done = thread.spawn(move || {
            let mut h = D::new();
            let mut file = match file {
                Some((f, path)) => Some(LocalFile::new(f, &path)?),
                None => None,
            };
            let mut failed = None;
            let mut hashed = 0;
            loop {
                // All that is hashed goes back to the budget before the thread waits for more:
                // none is kept back while the receiving side may be waiting for it (a piece as
                // large as the whole budget would otherwise wait for ever).
                let chunk = match rx.try_recv() {
                    Ok(chunk) => chunk,
                    Err(std::sync::mpsc::TryRecvError::Empty) => {
                        if hashed > 0 {
                            given.0.add_permits(std::mem::take(&mut hashed));
                        }
                        match rx.recv() {
                            Ok(chunk) => chunk,
                            Err(_) => break,
                        }
                    }
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => break,
                };
                h.update(&chunk);
                if let Some(f) = &mut file
                    && failed.is_none()
                    && let Err(e) = f.write(&chunk)
                {
                    failed = Some(e);
                }
                hashed += cost(&chunk);
                if hashed >= GIVE_BACK {
                    given.0.add_permits(std::mem::take(&mut hashed));
                }
            }
            if let Some(e) = failed {
                return Err(e);
            }
            if let Some(f) = file {
                f.finish()?;
            }
            Ok(hex::encode(h.finalize()))
        });
        // As `std::thread::spawn`: a thread the system cannot start is a panic.
        let done = done.expect("an upload's hash thread starts");
        HashThread {
            feed: Some(Feed { chunks: tx, budget }),
            done: Some(done),
        }
    }

    /// Hands a chunk over once the budget allows it.
    async fn feed(&self, chunk: &Bytes) {
        if let Some(Feed { chunks, budget }) = &self.feed {
            // The permits go back from the thread, not with a guard: the chunk's share stays
            // taken until the thread has hashed it. A closed budget: the thread has ended.
            if let Ok(p) = budget.acquire_many(cost(chunk) as u32).await {
                p.forget();
            }
            // Fails only when the thread has ended; `finish` then reports why.
            let _ = chunks.send(chunk.clone());
        }
    }

    /// A hash not wanted (restoring objects: only the SHA-256 name is checked): its digest is
    /// empty.
    fn none() -> HashThread {
        HashThread {
            feed: None,
            done: None,
        }
    }

    /// Waits for the digest (off the async runtime).
    async fn finish(&mut self) -> Result<String, FileError> {
        drop(self.feed.take());
        let Some(handle) = self.done.take() else {
            return Ok(String::new());
        };
        Ok(tokio::task::spawn_blocking(move || handle.join())
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
            .map_err(|_| std::io::Error::other("a hash thread panicked"))??)
    }
}

/// An upload in progress: bytes go through both hashes into a staging place.
pub struct Upload {
    sha256: HashThread,
    sm3: HashThread,
    /// Small pieces gathered until [`PIECE`] before they go to the hash threads together
    /// (handing each few kilobytes to two threads kept them waiting on each other).
    pending: Vec<u8>,
    size: u64,
    limit: u64,
    sink: Sink,
}

pub(super) enum Sink {
    /// The file itself is written by the SHA-256 thread.
    Local {
        tmp: PathBuf,
        root: PathBuf,
        done: bool,
    },
    S3 {
        store: Arc<AmazonS3>,
        tmp: ObjectPath,
        writer: Option<WriteMultipart>,
    },
}

impl Upload {
    /// An upload of at most `limit` bytes into `sink`; `file` is the local file the SHA-256
    /// thread writes, and its path (none for S3).
    pub(super) fn new(file: Option<(std::fs::File, PathBuf)>, sink: Sink, limit: u64) -> Upload {
        Upload {
            sha256: HashThread::start_writing::<Sha256>("zizhi-upload-sha256", file),
            sm3: HashThread::start::<Sm3>("zizhi-upload-sm3"),
            pending: Vec::new(),
            size: 0,
            limit,
            sink,
        }
    }

    /// Only the SHA-256 name is wanted (restoring objects): the SM3 is left empty.
    pub(super) fn without_sm3(&mut self) {
        self.sm3 = HashThread::none();
    }
}

impl Upload {
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), FileError> {
        self.write_bytes(Bytes::copy_from_slice(chunk)).await
    }

    /// [`Upload::write`] for a buffer the upload may keep: a large one goes to the hash threads
    /// as it is, without a copy (issue 14: an upload arrives in hyper's buffers).
    pub async fn write_bytes(&mut self, chunk: Bytes) -> Result<(), FileError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(FileError::TooLarge(self.limit));
        }
        if chunk.len() >= PIECE / 4 {
            self.hand_over_pending().await;
            self.hand_over(&chunk).await;
        } else {
            if self.pending.capacity() == 0 {
                self.pending.reserve_exact(PIECE);
            }
            self.pending.extend_from_slice(&chunk);
            if self.pending.len() >= PIECE {
                self.hand_over_pending().await;
            }
        }
        if let Sink::S3 { writer, .. } = &mut self.sink {
            let w = writer.as_mut().expect("writer present until finish");
            w.wait_for_capacity(4).await?;
            w.write(&chunk);
        }
        Ok(())
    }

    /// Completes the upload and moves it to its content address (keeping an identical
    /// existing object).
    pub async fn finish(mut self) -> Result<Stored, FileError> {
        self.hand_over_pending().await;
        let sha256 = self.sha256.finish().await?;
        let sm3 = self.sm3.finish().await?;
        let key = object_key(&sha256);
        let new_object = match &mut self.sink {
            Sink::Local { tmp, root, done } => {
                let dest = root.join(&key);
                let new = !fs::try_exists(&dest).await?;
                if new {
                    fs::create_dir_all(dest.parent().expect("objects have a parent")).await?;
                    fs::rename(&*tmp, &dest).await?;
                } else {
                    fs::remove_file(&*tmp).await?;
                }
                *done = true;
                new
            }
            Sink::S3 { store, tmp, writer } => {
                writer
                    .take()
                    .expect("writer present until finish")
                    .finish()
                    .await?;
                let dest = ObjectPath::from(key);
                let new = match store.head(&dest).await {
                    Ok(_) => false,
                    Err(object_store::Error::NotFound { .. }) => true,
                    Err(e) => return Err(e.into()),
                };
                if new {
                    store.copy(tmp, &dest).await?;
                }
                store.delete(tmp).await?;
                new
            }
        };
        Ok(Stored {
            sha256,
            sm3,
            size: self.size,
            new_object,
        })
    }
}

/// How many bytes of an upload go to the hash threads at a time.
const PIECE: usize = 256 * 1024;

impl Upload {
    /// Gives a piece to both hash threads (and the local file's writer), once each one's
    /// budget allows it. (`&mut`: borrowed across the wait, `&Upload` would have to be `Sync`,
    /// which an S3 upload's writer is not.)
    async fn hand_over(&mut self, piece: &Bytes) {
        self.sm3.feed(piece).await;
        self.sha256.feed(piece).await;
    }

    /// Gives the gathered small pieces, if any, without copying them again.
    async fn hand_over_pending(&mut self) {
        if !self.pending.is_empty() {
            let piece = Bytes::from(std::mem::take(&mut self.pending));
            self.hand_over(&piece).await;
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        match &mut self.sink {
            // Abandoned (error, disconnect): remove the partial file.
            Sink::Local { tmp, done, .. } => {
                if !*done {
                    let _ = std::fs::remove_file(&*tmp);
                }
            }
            // Abort the multipart upload; its parts never become an object.
            Sink::S3 { writer, .. } => {
                if let Some(w) = writer.take()
                    && let Ok(rt) = tokio::runtime::Handle::try_current()
                {
                    rt.spawn(async move {
                        let _ = w.abort().await;
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hash thread that ends early — here its file cannot be opened for direct writing —
    /// does not leave the upload waiting for a budget no one gives back: the pieces, three
    /// times the budget, are handed over, and `finish` reports the thread's error.
    #[tokio::test]
    async fn a_hash_thread_that_ends_early_leaves_nothing_waiting() {
        let dir = std::env::temp_dir().join(format!("zizhi-upload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("opened");
        let file = std::fs::File::create(&path).unwrap();
        // The thread opens this path again (directly) to write: it is not there.
        let gone = dir.join("not-there").join("file");
        let mut t = HashThread::start_writing::<Sha256>("test-sha256", Some((file, gone)));
        let piece = Bytes::from(vec![7u8; AHEAD]);
        let fed = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            for _ in 0..3 {
                t.feed(&piece).await;
            }
        })
        .await;
        assert!(fed.is_ok(), "the upload waited for a thread that had ended");
        assert!(t.finish().await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
