//! The git merge driver: what `git pull` and `git merge` run for a memory file both sides
//! changed (`memdir merge-file %O %A %B %P`, registered by `init`, `clone` and any command on
//! an older repository, see [`crate::store::Store::register_merge_driver`]).
//!
//! It merges as `memdir sync` does ([`crate::merge::merge_text`]). A true conflict in a memory
//! keeps our version in place and writes theirs as a quarantined conflict sibling into the
//! working tree, untracked: git's merge only records the paths it merges, so the sibling is
//! committed by the next `memdir commit` (or `git add`), and `memdir review` lists it before
//! that. What git's driver interface cannot carry, `memdir sync` does: it also settles edits
//! against removals, renames one of two memories added under one id, and passes arrivals
//! through the write guard.

use std::path::Path;

use super::is_memory_path;
use super::remote::SyncConflict;
use crate::merge::{self, Merged};
use crate::{Error, Result};

/// What the merge driver did with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileMerged {
    /// Merged cleanly; the result is in the `ours` file.
    Clean,
    /// A memory whose changes contradict: ours stays, theirs is a sibling (written).
    Sibling(SyncConflict),
    /// A file that is not a memory, with changes that contradict: the `ours` file now holds
    /// git's conflict markers, for a person to resolve as with any file.
    Unresolved,
}

/// Runs the merge driver: merges `base`, `ours` and `theirs` (files git wrote) for the file at
/// `path` (relative to `root`, the working tree's top), leaving the result in `ours`.
///
/// ```
/// # fn main() -> memdir::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let p = |n: &str| dir.path().join(n);
/// # let write = |n: &str, t: &str| std::fs::write(p(n), t).unwrap();
/// write("O", "---\nid: a\ntags: [x]\n---\nOne.\n");
/// write("A", "---\nid: a\ntags: [x, ok]\n---\nOne.\n");
/// write("B", "---\nid: a\ntags: [x, z]\n---\nOne!\n");
/// let done = memdir::merge_file(&p("O"), &p("A"), &p("B"), "fact/a.md", dir.path())?;
/// assert_eq!(done, memdir::FileMerged::Clean);
/// assert_eq!(std::fs::read_to_string(p("A")).unwrap(), "---\nid: a\ntags: [x, ok, z]\n---\nOne!\n");
/// # Ok(()) }
/// ```
pub fn merge_file(
    base: &Path,
    ours: &Path,
    theirs: &Path,
    path: &str,
    root: &Path,
) -> Result<FileMerged> {
    let read = |p: &Path| -> Result<String> {
        let bytes = std::fs::read(p).map_err(|e| Error::io(p, e))?;
        String::from_utf8(bytes)
            .map_err(|_| Error::invalid(format!("{path} is not UTF-8 text: merge it by hand")))
    };
    let (b, o, t) = (read(base)?, read(ours)?, read(theirs)?);
    // In a project, git names the file by its path in the repository (`.memdir/fact/x.md`).
    let (root, path) = super::project::locate(root, path);
    let (root, path) = (root.as_path(), path.as_str());
    // git passes an empty file for %O when both sides added the path.
    let b = (!b.is_empty()).then_some(b);
    let write = |p: &Path, text: &str| -> Result<()> {
        crate::store::atomic_write(p, text.as_bytes())?;
        Ok(())
    };
    match merge::merge_text(b.as_deref(), &o, &t) {
        Merged::Clean(text) => {
            write(ours, &text)?;
            Ok(FileMerged::Clean)
        }
        Merged::Conflict(what) if is_memory_path(path) => {
            let id = crate::parse::parse_memory(path, o.as_bytes(), crate::Revision(String::new()))
                .map(|m| m.front.id)
                .unwrap_or_else(|_| crate::parse::path_id(path));
            let sibling = merge::conflict_sibling(&id, path, &t, &what)?;
            write(&root.join(&sibling.path), &sibling.text)?;
            Ok(FileMerged::Sibling(SyncConflict {
                path: path.to_owned(),
                id: Some(id.to_string()),
                sibling: Some(sibling.id.to_string()),
                sibling_path: Some(sibling.path),
                what,
            }))
        }
        Merged::Conflict(_) => {
            let marked =
                diffy::merge(b.as_deref().unwrap_or(""), &o, &t).unwrap_or_else(|marked| marked);
            write(ours, &marked)?;
            Ok(FileMerged::Unresolved)
        }
    }
}
