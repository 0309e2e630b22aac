//! Where the index's files live: tantivy's [`MmapDirectory`] without its `fsync`s.
//!
//! The index is a cache of the files that memdir rebuilds from git whenever it is missing,
//! unreadable or of another version. A process that dies (even by `kill -9`) loses nothing
//! that reached the page cache; only an operating-system crash or power cut can tear the
//! index, and an index that then fails to open is rebuilt (git's own index file is not
//! `fsync`ed either, by default). Syncing would cost a dozen `fsync`s per write, more than the
//! rest of a small write together, for no durability anyone needs: the memory files and git
//! hold the truth.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    AntiCallToken, Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, TerminatingWrite,
    WatchCallback, WatchHandle, WritePtr,
};

/// An [`MmapDirectory`] whose writes are never `fsync`ed.
#[derive(Debug, Clone)]
pub(super) struct UnsyncedDirectory {
    root: PathBuf,
    inner: MmapDirectory,
}

impl UnsyncedDirectory {
    /// Opens the existing folder `root`.
    pub(super) fn open(root: &Path) -> tantivy::Result<UnsyncedDirectory> {
        Ok(UnsyncedDirectory {
            root: root.to_owned(),
            inner: MmapDirectory::open(root).map_err(tantivy::TantivyError::from)?,
        })
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
        self.inner.atomic_read(path)
    }

    /// Writes a temporary file beside `path` and renames it over `path`: atomic for every
    /// reader, only not durable across a power cut.
    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.root)?;
        tmp.write_all(data)?;
        tmp.persist(self.root.join(path)).map_err(|e| e.error)?;
        Ok(())
    }

    fn sync_directory(&self) -> io::Result<()> {
        Ok(())
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.inner.acquire_lock(lock)
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
