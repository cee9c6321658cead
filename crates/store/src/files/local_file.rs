//! The local file of an upload, as its SHA-256 thread writes it: around the page cache where
//! the filesystem allows it.
//!
//! Copying an upload into newly allocated page-cache pages cost more CPU than SHA-256 itself
//! (issue 14, a 700 MB upload on this project's VMs: `dd` spent 0.9–2.0 s of system time
//! writing it through the page cache, 0.15 s writing it with `O_DIRECT`), so the thread that
//! writes set the upload's pace instead of SM3. Written directly (`O_DIRECT`), the disk takes
//! the bytes from one reused, aligned buffer. The last partial block goes through the page
//! cache, and the file is synced once at the end.
//!
//! Where direct writes are refused — a filesystem without them (older tmpfs), or a device
//! whose blocks are larger than [`ALIGN`] — the file is written through the page cache from
//! that point on, and a thread of its own flushes it every [`SYNC_EVERY`] bytes, so that the
//! disk writes during the upload rather than all at the final sync.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::path::Path;
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;

/// The alignment of a direct write's memory, offset and length: the largest logical block
/// size of Linux's block devices.
const ALIGN: usize = 4096;
/// How many bytes go to the disk in one direct write.
const BLOCK: usize = 1024 * 1024;
/// How many bytes written through the page cache its flushing thread lets pile up before it
/// writes them to disk.
const SYNC_EVERY: usize = 32 * 1024 * 1024;

/// An upload's file being written, from its first byte.
pub(super) struct LocalFile {
    /// The file as opened for the upload (through the page cache): the last partial block,
    /// everything once direct writes are refused, and the final sync.
    file: File,
    /// How many bytes are in the file.
    written: u64,
    mode: Mode,
}

enum Mode {
    /// Whole blocks gathered in `block`, written by the `O_DIRECT` handle `direct`.
    Direct { direct: File, block: Block },
    /// Through the page cache, flushed every [`SYNC_EVERY`] bytes by `flusher`, which `tick`
    /// tells (without waiting); a tick while it is still flushing is dropped, the next flush
    /// covers it.
    Buffered {
        unsynced: usize,
        tick: SyncSender<()>,
        flusher: JoinHandle<io::Result<()>>,
    },
}

impl LocalFile {
    /// `file` is `path` opened for writing, empty.
    pub(super) fn new(file: File, path: &Path) -> io::Result<LocalFile> {
        let direct = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(path);
        let mode = match direct {
            Ok(direct) => Mode::Direct {
                direct,
                block: Block::new(),
            },
            Err(e) if refused(&e) => buffered(&file)?,
            Err(e) => return Err(e),
        };
        Ok(LocalFile {
            file,
            written: 0,
            mode,
        })
    }

    /// Whether the file is being written around the page cache.
    #[cfg(test)]
    pub(super) fn is_direct(&self) -> bool {
        matches!(self.mode, Mode::Direct { .. })
    }

    pub(super) fn write(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match &mut self.mode {
                Mode::Direct { direct, block } => {
                    bytes = &bytes[block.take(bytes)..];
                    if block.len == BLOCK {
                        match direct.write_at(block.gathered(), self.written) {
                            Ok(BLOCK) => {
                                self.written += BLOCK as u64;
                                block.len = 0;
                            }
                            // Part of a block (or an error): the rest through the page cache,
                            // from where the disk stopped.
                            Ok(n) => self.fall_back(n)?,
                            Err(e) if refused(&e) => self.fall_back(0)?,
                            Err(e) => return Err(e),
                        }
                    }
                }
                Mode::Buffered { unsynced, tick, .. } => {
                    self.file.write_all_at(bytes, self.written)?;
                    self.written += bytes.len() as u64;
                    *unsynced += bytes.len();
                    if *unsynced >= SYNC_EVERY {
                        let _ = tick.try_send(());
                        *unsynced = 0;
                    }
                    bytes = &[];
                }
            }
        }
        Ok(())
    }

    /// From here on through the page cache: the gathered bytes after the first `done` of them
    /// (which are on disk) are written, and a flusher started.
    fn fall_back(&mut self, done: usize) -> io::Result<()> {
        let mode = buffered(&self.file)?;
        if let Mode::Direct { block, .. } = std::mem::replace(&mut self.mode, mode) {
            self.written += done as u64;
            self.write(&block.gathered()[done..])?;
        }
        Ok(())
    }

    /// Writes what is gathered and syncs the file (its bytes and size) to disk.
    pub(super) fn finish(self) -> io::Result<()> {
        match self.mode {
            Mode::Direct { block, .. } => {
                self.file.write_all_at(block.gathered(), self.written)?;
            }
            Mode::Buffered { tick, flusher, .. } => {
                drop(tick);
                flusher
                    .join()
                    .map_err(|_| io::Error::other("the flushing thread panicked"))??;
            }
        }
        self.file.sync_all()
    }
}

/// The bytes gathered for the next direct write: up to one [`BLOCK`], in a buffer of its own
/// from an address aligned to [`ALIGN`].
struct Block {
    buf: Vec<u8>,
    len: usize,
}

impl Block {
    fn new() -> Block {
        Block {
            buf: vec![0u8; BLOCK + ALIGN],
            len: 0,
        }
    }

    /// Where the aligned part of the buffer starts.
    fn start(&self) -> usize {
        self.buf.as_ptr().align_offset(ALIGN)
    }

    /// Gathers as many of `bytes` as the block has room for; how many.
    fn take(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(BLOCK - self.len);
        let at = self.start() + self.len;
        self.buf[at..at + n].copy_from_slice(&bytes[..n]);
        self.len += n;
        n
    }

    /// The bytes gathered, from the aligned start.
    fn gathered(&self) -> &[u8] {
        let start = self.start();
        &self.buf[start..start + self.len]
    }
}

/// The page cache's mode, its flusher started on a second handle of `file`.
fn buffered(file: &File) -> io::Result<Mode> {
    let f = file.try_clone()?;
    let (tick, ticks) = std::sync::mpsc::sync_channel::<()>(1);
    let flusher = std::thread::spawn(move || {
        for () in ticks {
            f.sync_data()?;
        }
        Ok(())
    });
    Ok(Mode::Buffered {
        unsynced: 0,
        tick,
        flusher,
    })
}

/// Whether an error says that direct writes are not possible here (rather than that the disk
/// failed): `EINVAL`, as Linux answers an `O_DIRECT` open or write it cannot do.
fn refused(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EINVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 4099) as u8).collect()
    }

    /// A directory of the test's own, `tag` naming it.
    fn scratch(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("zizhi-local-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A new, empty file `path` written as an upload's is.
    fn upload_file(path: &Path) -> LocalFile {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .unwrap();
        LocalFile::new(file, path).unwrap()
    }

    /// Written in pieces of every size, directly where the filesystem allows it, the file holds
    /// exactly the bytes given: whole blocks, the partial block at the end, and a piece that
    /// ends a block and starts the next.
    #[test]
    fn the_file_holds_the_bytes_written() {
        let dir = scratch("file");
        for (i, total) in [0, 1, ALIGN, BLOCK, BLOCK + 1, 3 * BLOCK + 12_345]
            .into_iter()
            .enumerate()
        {
            let path = dir.join(format!("f{i}"));
            let mut w = upload_file(&path);
            let want = bytes(total);
            let sizes = [1, 4095, 100_000, BLOCK - 1, 2 * BLOCK + 3];
            let (mut at, mut k) = (0, 0);
            while at < total {
                let n = sizes[k % sizes.len()].min(total - at);
                w.write(&want[at..at + n]).unwrap();
                at += n;
                k += 1;
            }
            w.finish().unwrap();
            let got = std::fs::read(&path).unwrap();
            assert_eq!(got.len(), total, "size of {total} bytes");
            assert!(got == want, "bytes of {total} bytes");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// When direct writes stop being possible midway — after the disk took part of the
    /// gathered bytes — the rest of them go through the page cache from where the disk stopped,
    /// and so does everything after.
    #[test]
    fn a_refused_direct_write_goes_on_through_the_page_cache() {
        let dir = scratch("fall");
        let path = dir.join("f");
        let mut w = upload_file(&path);
        // Direct wherever this filesystem opens a file for direct writes at all.
        let can = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(&path)
            .is_ok();
        assert_eq!(w.is_direct(), can);
        if !can {
            std::fs::remove_dir_all(&dir).unwrap();
            return;
        }
        let want = bytes(3 * BLOCK + 777);
        // One block on disk, and 3 × 4096 + 5 bytes gathered.
        w.write(&want[..BLOCK + 3 * ALIGN + 5]).unwrap();
        assert_eq!(w.written, BLOCK as u64);
        // The disk takes the first 8192 gathered bytes, then refuses.
        if let Mode::Direct { direct, block } = &w.mode {
            let n = direct
                .write_at(&block.gathered()[..2 * ALIGN], w.written)
                .unwrap();
            assert_eq!(n, 2 * ALIGN);
        }
        w.fall_back(2 * ALIGN).unwrap();
        assert!(!w.is_direct());
        assert_eq!(w.written, (BLOCK + 3 * ALIGN + 5) as u64);
        w.write(&want[BLOCK + 3 * ALIGN + 5..]).unwrap();
        w.finish().unwrap();
        let got = std::fs::read(&path).unwrap();
        assert_eq!(got.len(), want.len());
        assert!(got == want);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
