//! The cross-process write lock: one writer at a time per repository.
//!
//! An advisory `flock` on `.git/memdir/write.lock`, held for the whole write (file, git commit,
//! index update) and released when the guard drops, on every path including errors and panics.
//! The kernel drops the lock of a process that dies, so a crashed writer never leaves a stale
//! lock behind. Readers never take it.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Holds the write lock until dropped.
#[derive(Debug)]
pub struct WriteLock {
    _file: File,
}

impl WriteLock {
    /// Blocks until the lock at `path` is ours.
    pub fn acquire(path: &Path) -> Result<WriteLock, LockError> {
        let file = Self::open(path)?;
        file.lock().map_err(|source| LockError {
            path: path.to_owned(),
            source,
        })?;
        Ok(WriteLock { _file: file })
    }

    /// Takes the lock at `path` if no one holds it; `None` when another writer does.
    pub fn try_acquire(path: &Path) -> Result<Option<WriteLock>, LockError> {
        let file = Self::open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(WriteLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(source)) => Err(LockError {
                path: path.to_owned(),
                source,
            }),
        }
    }

    fn open(path: &Path) -> Result<File, LockError> {
        let err = |source| LockError {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(err)
    }
}

/// The lock file could not be opened or locked.
#[derive(Debug, thiserror::Error)]
#[error("cannot take the write lock {}", path.display())]
pub struct LockError {
    /// The lock file.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}
