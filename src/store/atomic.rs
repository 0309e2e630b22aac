//! Writing files so that a crash leaves each one either old or new, never a mix, and never
//! replaces a file before its new content is on disk.
//!
//! One file: temp file in the same folder, `fsync`, rename over the target, `fsync` the folder.
//! A batch of many files (an import, `remember_batch`) shares its syncs instead: every temp
//! file is written, one `syncfs` makes all of them durable, they are renamed into place, and a
//! second `syncfs` makes the renames durable. Two flushes of the filesystem instead of two
//! `fsync`s per file: an import of 10,000 memories spends a quarter of its time in `fsync`
//! otherwise. `syncfs` is Linux's; elsewhere a batch is written file by file.

use std::io::Write as _;
use std::path::Path;

use tempfile::{NamedTempFile, TempPath};

use super::{FileWrite, StoreError};

/// From this many files on (on Linux), the files of one write share two `syncfs` calls instead
/// of two `fsync`s each. Below it, the per-file `fsync`s cost less than flushing whatever else
/// the filesystem holds dirty.
pub const BATCH_SYNC_MIN: usize = 16;

/// The prefix of the temp files a write leaves behind if it is killed before its renames (the
/// next write's recovery removes them).
pub(crate) const TEMP_PREFIX: &str = ".memdir-tmp-";

/// Writes `bytes` to `path` so that a crash leaves either the old or the new file, never a
/// mix: temp file in the same folder, fsync, rename, fsync the folder.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("notes/a.md");
/// memdir::store::atomic_write(&path, b"# A\n").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"# A\n");
/// ```
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_replacing(path, bytes, TEMP_PREFIX, Some("temp-written"))
}

/// Like [`atomic_write`], for a file of memdir's own beside the repository (the journal of
/// intents, a purge's marker): its temp file is named `prefix`, so that the recovery that
/// owns such files finds a leftover one, and no crash point of a memory write is passed.
pub(crate) fn atomic_write_own(path: &Path, bytes: &[u8], prefix: &str) -> Result<(), StoreError> {
    write_replacing(path, bytes, prefix, None)
}

/// Temp file named `prefix`, fsync, the crash point `fault` (if any), rename, fsync the folder.
fn write_replacing(
    path: &Path,
    bytes: &[u8],
    prefix: &str,
    fault: Option<&'static str>,
) -> Result<(), StoreError> {
    let tmp = write_temp(path, bytes, prefix)?;
    tmp.as_file().sync_all().map_err(write_err(path))?;
    if let Some(name) = fault {
        crate::fault::point(name);
    }
    tmp.persist(path).map_err(|e| write_err(path)(e.error))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    if let Ok(d) = std::fs::File::open(dir) {
        // Directory fsync makes the rename durable; not supported everywhere, so best effort.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes (or, for `None`, deletes) every file of `writes` under `root`, in order, each
/// atomically as [`atomic_write`] does. From [`BATCH_SYNC_MIN`] files on (on Linux), the files
/// share two `syncfs` calls instead of two `fsync`s each; the guarantee is the same: no file
/// is replaced before its new content is durable, and every rename and deletion is durable
/// when this returns.
pub(crate) fn write_files(root: &Path, writes: &[FileWrite]) -> Result<(), StoreError> {
    if writes.len() < BATCH_SYNC_MIN || !cfg!(target_os = "linux") {
        for w in writes {
            let path = root.join(&w.path);
            match &w.content {
                Some(bytes) => atomic_write(&path, bytes)?,
                None => remove(&path)?,
            }
            crate::fault::point("file-renamed");
        }
        return Ok(());
    }
    // Closed once written (`TempPath`): a batch may hold more files than a process may have
    // open at once (1,024 by default on many systems).
    let mut temps: Vec<Option<TempPath>> = Vec::with_capacity(writes.len());
    for w in writes {
        temps.push(match &w.content {
            Some(bytes) => {
                Some(write_temp(&root.join(&w.path), bytes, TEMP_PREFIX)?.into_temp_path())
            }
            None => None,
        });
    }
    // Every new content is on disk before any memory file is replaced.
    sync_filesystem(root)?;
    crate::fault::point("temp-written");
    for (w, tmp) in writes.iter().zip(temps) {
        let path = root.join(&w.path);
        match tmp {
            Some(tmp) => tmp.persist(&path).map_err(|e| write_err(&path)(e.error))?,
            None => remove(&path)?,
        }
        crate::fault::point("file-renamed");
    }
    // The renames and deletions are on disk before the caller commits them.
    sync_filesystem(root)
}

/// Creates a temp file beside `path` (creating its folder) holding `bytes`, not yet synced.
/// Dropped without being persisted, it is deleted.
fn write_temp(path: &Path, bytes: &[u8], prefix: &str) -> Result<NamedTempFile, StoreError> {
    let err = write_err(path);
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(&err)?;
    // Keep the mode of the file being replaced; new files get 0644 less the umask, like any
    // file an editor creates (tempfile's own default, 0600, would hide memories from others).
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions(),
        Err(_) => default_permissions(),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(prefix)
        .permissions(permissions)
        .tempfile_in(dir)
        .map_err(&err)?;
    tmp.write_all(bytes).map_err(&err)?;
    Ok(tmp)
}

/// Deletes `path`; a file that is already gone is fine.
fn remove(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(write_err(path)(source)),
    }
}

/// Flushes everything the filesystem holding `root` has in memory to disk (`syncfs`).
#[cfg(target_os = "linux")]
fn sync_filesystem(root: &Path) -> Result<(), StoreError> {
    let dir = std::fs::File::open(root).map_err(write_err(root))?;
    rustix::fs::syncfs(&dir).map_err(|e| write_err(root)(e.into()))
}

/// Not reached: batches are written file by file where `syncfs` does not exist.
#[cfg(not(target_os = "linux"))]
fn sync_filesystem(_root: &Path) -> Result<(), StoreError> {
    unreachable!("batched syncs are only used on Linux")
}

fn write_err(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Write {
        path: path.to_owned(),
        source,
    }
}

#[cfg(unix)]
fn default_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o644)
}

#[cfg(not(unix))]
fn default_permissions() -> std::fs::Permissions {
    let mut p = std::fs::metadata(".")
        .map(|m| m.permissions())
        .expect("cwd is readable");
    p.set_readonly(false);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_batch_writes_and_deletes_every_file_in_order_and_leaves_no_temp_file() {
        for count in [3, BATCH_SYNC_MIN + 3] {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path();
            atomic_write(&root.join("fact/old.md"), b"old").unwrap();
            let mut writes: Vec<FileWrite> = (0..count)
                .map(|i| FileWrite {
                    path: format!("fact/m{i:02}.md"),
                    content: Some(format!("memory {i}").into_bytes()),
                })
                .collect();
            writes.push(FileWrite {
                path: "fact/old.md".into(),
                content: None,
            });
            // The same path twice: the later write wins, as it would file by file.
            writes.push(FileWrite {
                path: "fact/m00.md".into(),
                content: Some(b"rewritten".to_vec()),
            });
            write_files(root, &writes).unwrap();

            let expected: Vec<String> = (0..count).map(|i| format!("m{i:02}.md")).collect();
            assert_eq!(names(&root.join("fact")), expected, "{count} files");
            assert_eq!(
                std::fs::read(root.join("fact/m00.md")).unwrap(),
                b"rewritten"
            );
            assert_eq!(
                std::fs::read(root.join("fact/m01.md")).unwrap(),
                b"memory 1"
            );
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(root.join("fact/m01.md"))
                    .unwrap()
                    .permissions();
                assert_eq!(mode.mode() & 0o777, 0o644, "{count} files");
            }
        }
    }

    #[test]
    fn a_batch_that_cannot_write_a_file_replaces_none_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        atomic_write(&root.join("fact/m00.md"), b"kept").unwrap();
        // A file where a folder must go: the last write cannot even make its temp file.
        std::fs::write(root.join("blocked"), b"").unwrap();
        let mut writes: Vec<FileWrite> = (0..BATCH_SYNC_MIN)
            .map(|i| FileWrite {
                path: format!("fact/m{i:02}.md"),
                content: Some(b"new".to_vec()),
            })
            .collect();
        writes.push(FileWrite {
            path: "blocked/m.md".into(),
            content: Some(b"new".to_vec()),
        });
        let err = write_files(root, &writes).unwrap_err();
        assert!(err.to_string().contains("blocked"), "{err}");
        assert_eq!(names(&root.join("fact")), ["m00.md"]);
        assert_eq!(std::fs::read(root.join("fact/m00.md")).unwrap(), b"kept");
    }
}
