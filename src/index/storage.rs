//! Where the index's files live: tantivy's [`MmapDirectory`] without its `fsync`s, and with
//! its list of files written once per commit.
//!
//! The index is a cache of the files that memdir rebuilds from git whenever it is missing,
//! unreadable or of another version. A process that dies (even by `kill -9`) loses nothing
//! that reached the page cache; only an operating-system crash or power cut can tear the
//! index, and an index that then fails to open is rebuilt (git's own index file is not
//! `fsync`ed either, by default). Syncing would cost a dozen `fsync`s per write, more than the
//! rest of a small write together, for no durability anyone needs: the memory files and git
//! hold the truth.
//!
//! tantivy keeps a list of the files it created (`.managed.json`), to delete the ones no
//! commit uses any more, and rewrites it atomically (a new file renamed over the old one)
//! each time it creates a file: six times for a segment of one document. Here the list is
//! held in memory and written just before the commit that needs it (`meta.json`), at the end
//! of each write ([`FileList::flush`], once tantivy has deleted what it no longer uses), and
//! when the index is closed. A process killed in between leaves at most the files of the
//! segment it was writing unlisted: never used, only never collected by tantivy (a purge's
//! [`Index::vacuum`](super::Index::vacuum) removes them). Creating and deleting fewer files
//! matters more than it seems: on ext4 without a journal, each new file skips over every
//! inode freed in the last minute, so a burst of writes slowed itself down.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    AntiCallToken, Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, TerminatingWrite,
    WatchCallback, WatchHandle, WritePtr,
};

/// tantivy's list of the files it created.
const MANAGED: &str = ".managed.json";
/// tantivy's record of a commit.
const META: &str = "meta.json";

/// An [`MmapDirectory`] whose writes are never `fsync`ed, and whose `.managed.json` is
/// written once per commit.
#[derive(Debug, Clone)]
pub(super) struct UnsyncedDirectory {
    root: PathBuf,
    inner: MmapDirectory,
    /// The newest `.managed.json` not yet on disk, shared by every clone.
    managed: FileList,
}

/// A `.managed.json` waiting for the next commit, written at the latest when the last clone
/// of the directory is dropped (which tantivy's threads may do late: a write flushes it).
#[derive(Debug, Clone)]
pub(super) struct FileList(Arc<PendingManaged>);

#[derive(Debug)]
struct PendingManaged {
    root: PathBuf,
    data: Mutex<Option<Vec<u8>>>,
}

impl FileList {
    /// Writes the waiting list, if any.
    pub(super) fn flush(&self) -> io::Result<()> {
        self.0.flush()
    }

    /// The waiting list, if any.
    fn held(&self) -> Option<Vec<u8>> {
        self.0
            .data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Holds `data` as the list, in place of any waiting one.
    fn hold(&self, data: &[u8]) {
        *self.0.data.lock().unwrap_or_else(|e| e.into_inner()) = Some(data.to_vec());
    }
}

impl PendingManaged {
    /// Writes the waiting list, if any.
    fn flush(&self) -> io::Result<()> {
        let mut data = self.data.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bytes) = data.as_deref() {
            replace(&self.root, Path::new(MANAGED), bytes)?;
            *data = None;
        }
        Ok(())
    }
}

impl Drop for PendingManaged {
    fn drop(&mut self) {
        if let Err(error) = self.flush() {
            tracing::warn!(dir = %self.root.display(), %error, "could not write the index's file list");
        }
    }
}

/// Writes `data` to a temporary file beside `path` and renames it over `path`: atomic for
/// every reader, only not durable across a power cut.
fn replace(root: &Path, path: &Path, data: &[u8]) -> io::Result<()> {
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(root)?;
    tmp.write_all(data)?;
    tmp.persist(root.join(path)).map_err(|e| e.error)?;
    Ok(())
}

impl UnsyncedDirectory {
    /// Opens the existing folder `root`.
    pub(super) fn open(root: &Path) -> tantivy::Result<UnsyncedDirectory> {
        Ok(UnsyncedDirectory {
            root: root.to_owned(),
            inner: MmapDirectory::open(root).map_err(tantivy::TantivyError::from)?,
            managed: FileList(Arc::new(PendingManaged {
                root: root.to_owned(),
                data: Mutex::new(None),
            })),
        })
    }

    /// The file list this directory holds back, shared with every clone.
    pub(super) fn file_list(&self) -> FileList {
        self.managed.clone()
    }
}

impl Directory for UnsyncedDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.root.join(path))
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => OpenWriteError::FileAlreadyExists(path.to_owned()),
                _ => OpenWriteError::wrap_io_error(e, path.to_owned()),
            })?;
        Ok(BufWriter::new(Box::new(Unsynced(file))))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        if path == Path::new(MANAGED)
            && let Some(bytes) = self.managed.held()
        {
            return Ok(bytes);
        }
        self.inner.atomic_read(path)
    }

    /// Replaces `path` atomically for every reader (see [`replace`]). The file list waits in
    /// memory for the next `meta.json`, which is written after it.
    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        if path == Path::new(MANAGED) {
            self.managed.hold(data);
            return Ok(());
        }
        if path == Path::new(META) {
            self.managed.flush()?;
        }
        replace(&self.root, path, data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        Ok(())
    }

    /// Takes tantivy's locks (the index writer's) waiting, where tantivy would fail at once.
    /// Every index writer runs under memdir's own write lock, so the only other holder of a
    /// writer lock is a copy of its file descriptor in a child process between `fork` and
    /// `exec` (any thread of this process spawning git, say), gone a moment later: failing
    /// then made a write fail now and then on a busy machine.
    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.inner.acquire_lock(&Lock {
            filepath: lock.filepath.clone(),
            is_blocking: true,
        })
    }

    fn watch(&self, callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(callback)
    }
}

/// A file that is flushed, not synced, when tantivy finishes writing it.
struct Unsynced(File);

impl Write for Unsynced {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl TerminatingWrite for Unsynced {
    fn terminate_ref(&mut self, _: AntiCallToken) -> io::Result<()> {
        self.0.flush()
    }
}
