//! Project memory: memories kept in a folder of a project's own git repository (`.memdir/`
//! by default), the way CLAUDE.md lives beside the code it describes.
//!
//! This module owns the rules of that layout: where a command finds the memory (the nearest
//! folder holding `memory.toml` at or above where it runs, else the project's `.memdir/`, else
//! the folder `memdir init --project DIR` recorded as `memdir.root` in `.git/config`), how
//! `init --project` lays it down, and which commands need a repository of their own. The
//! store does the rest: every path it takes is relative to the memory folder, it commits only
//! the memory folder's files on top of HEAD (a person's staged and unstaged changes elsewhere
//! stay as they were), and history reads see only that folder. The project's own `git pull`
//! and `git push` carry the memory, and memdir's merge driver merges it.
//!
//! ```
//! # fn main() -> memdir::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # git2::Repository::init(dir.path()).unwrap();
//! use memdir::{Memdir, NewMemory, Provenance};
//! let mem = Memdir::init_project(dir.path(), None)?;
//! assert!(mem.root().ends_with(".memdir"));
//! mem.remember(NewMemory::new("The API tests need Docker."), &Provenance::agent("doc"))?;
//! // Any folder of the project finds it.
//! std::fs::create_dir(dir.path().join("src")).unwrap();
//! let found = Memdir::discover(&dir.path().join("src"))?;
//! assert_eq!(found.root(), mem.root());
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use super::Memdir;
use crate::config::CONFIG_FILE;
use crate::{Error, Result};

/// The memory folder `memdir init --project` makes when not told another.
pub const PROJECT_FOLDER: &str = ".memdir";

/// The `.git/config` key naming a project's memory folder when it is not [`PROJECT_FOLDER`].
const ROOT_KEY: &str = "memdir.root";

/// Finds the memory folder for a command run in `start` (canonical): the nearest folder at
/// or above it holding `memory.toml` inside a git working tree (a repository of its own, or
/// a project's memory folder); else, in a project, its `.memdir/` or the folder recorded as
/// `memdir.root`. `None` when there is none.
pub(super) fn find_root(start: &Path) -> Option<PathBuf> {
    for dir in start.ancestors() {
        if dir.join(CONFIG_FILE).is_file() {
            // A repository of its own (the common case, one `stat`), or a folder of a
            // project's working tree.
            if dir.join(".git").exists() || in_work_tree(dir) {
                return Some(dir.to_owned());
            }
        }
        if dir.join(".git").exists() {
            // The top of a project: its memory folder, if it has one.
            return project_folder(dir).filter(|m| m.join(CONFIG_FILE).is_file());
        }
    }
    None
}

/// Returns true when `dir` lies inside a git repository's working tree.
fn in_work_tree(dir: &Path) -> bool {
    git2::Repository::discover(dir).is_ok_and(|r| r.workdir().is_some())
}

/// Returns the memory folder of the project whose working tree is `top`: the one recorded as
/// `memdir.root`, else `.memdir`.
fn project_folder(top: &Path) -> Option<PathBuf> {
    let recorded = git2::Repository::open(top)
        .ok()
        .and_then(|r| r.config().ok())
        .and_then(|c| c.get_string(ROOT_KEY).ok());
    Some(top.join(recorded.as_deref().unwrap_or(PROJECT_FOLDER)))
}

/// Returns the memory folder, and the path in it, of a file that git names by its path in
/// the repository from the top of the working tree `top` (the merge driver's `%P`): in a
/// project, `.memdir/fact/x.md` is `fact/x.md` of the folder `.memdir`. A path outside the
/// memory folder is returned as it is.
pub(super) fn locate(top: &Path, path: &str) -> (PathBuf, String) {
    if !top.join(CONFIG_FILE).is_file()
        && let Some(folder) = project_folder(top)
        && let Ok(inside) = folder.strip_prefix(top)
    {
        let prefix = inside.to_string_lossy().replace('\\', "/");
        if let Some(rest) = path.strip_prefix(&format!("{prefix}/")) {
            return (folder, rest.to_owned());
        }
    }
    (top.to_owned(), path.to_owned())
}

/// Returns the error for `init` (without `--project`) in `dir` when that would lay a memory
/// repository over a project: `dir` is the top of a git repository whose HEAD already holds
/// files memdir would take for memories (a CHANGELOG, docs), the first of which it names.
pub(super) fn refuse_over_project(dir: &Path) -> Result<()> {
    let Ok(repo) = git2::Repository::open(dir) else {
        return Ok(()); // no repository there yet (or a folder inside one: a nested one is made)
    };
    let Some(tree) = repo.head().ok().and_then(|h| h.peel_to_tree().ok()) else {
        return Ok(()); // no commit yet
    };
    let mut found = None;
    let _ = tree.walk(git2::TreeWalkMode::PreOrder, |folder, entry| {
        if entry.kind() != Some(git2::ObjectType::Blob) {
            return git2::TreeWalkResult::Ok;
        }
        let path = format!("{folder}{}", entry.name().unwrap_or_default());
        if super::is_memory_path(&path) && !crate::template::FILES.iter().any(|(p, _)| *p == path) {
            found = Some(path);
            return git2::TreeWalkResult::Abort;
        }
        git2::TreeWalkResult::Ok
    });
    match found {
        Some(file) => Err(Error::InsideProject {
            path: std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned()),
            file,
        }),
        None => Ok(()),
    }
}

impl Memdir {
    /// Keeps memory in a folder of the git repository whose working tree holds `start`:
    /// `folder` (relative to `start`, or absolute), by default `.memdir` at the top of the
    /// working tree. Lays the template down there as one commit that touches nothing else,
    /// records a folder other than `.memdir` in `.git/config` (so commands run anywhere in
    /// the project find it), and opens it.
    ///
    /// Fails with [`Error::NotARepository`] when `start` is not inside a git working tree,
    /// [`Error::Invalid`] when `folder` is not inside it (or is its top), and
    /// [`Error::AlreadyInitialized`] when the folder already holds memory.
    pub fn init_project(start: &Path, folder: Option<&Path>) -> Result<Memdir> {
        let not_a_repository = || Error::NotARepository {
            path: start.to_owned(),
        };
        let repo = git2::Repository::discover(start).map_err(|_| not_a_repository())?;
        let top = repo
            .workdir()
            .and_then(|w| std::fs::canonicalize(w).ok())
            .ok_or_else(not_a_repository)?;
        let start = std::fs::canonicalize(start).map_err(|_| not_a_repository())?;
        let folder = match folder {
            Some(f) => start.join(f),
            None => top.join(PROJECT_FOLDER),
        };
        let folder = normalize(&folder);
        let inside = folder
            .strip_prefix(&top)
            .ok()
            .filter(|p| !p.as_os_str().is_empty())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{} is not a folder inside the project {}: project memory lives in a folder of the project's working tree, such as {}",
                    folder.display(),
                    top.display(),
                    top.join(PROJECT_FOLDER).display()
                ))
            })?;
        if inside.components().any(|c| c.as_os_str() == ".git") {
            return Err(Error::invalid(format!(
                "{} is inside .git: choose a folder of the working tree",
                folder.display()
            )));
        }
        if folder.join(CONFIG_FILE).exists() {
            return Err(Error::AlreadyInitialized { path: folder });
        }
        std::fs::create_dir_all(&folder).map_err(|e| Error::io(&folder, e))?;
        let prefix = inside.to_string_lossy().replace('\\', "/");
        if prefix != PROJECT_FOLDER {
            repo.config()
                .and_then(|c| c.open_level(git2::ConfigLevel::Local))
                .and_then(|mut c| c.set_str(ROOT_KEY, &prefix))
                .map_err(|e| {
                    Error::invalid(format!("cannot record {ROOT_KEY} in .git/config: {e}"))
                })?;
        }
        drop(repo);
        Self::lay_template(&folder, None)?;
        Self::open(&folder)
    }

    /// Returns true when this memory lives in a folder of a project's repository
    /// ([`Memdir::init_project`]) rather than in a repository of its own.
    pub fn is_project(&self) -> bool {
        self.store().prefix().is_some()
    }

    /// Fails with [`Error::ProjectMemory`] when this is project memory: for the commands that
    /// rewrite or move a whole repository (`sync`, `forget --purge`), which would move or
    /// rewrite the project's code with it.
    pub(super) fn refuse_in_project(&self, what: &'static str) -> Result<()> {
        match self.store().prefix() {
            Some(_) => Err(Error::ProjectMemory {
                what,
                root: self.root.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// Removes `.` and `..` from a path without touching the disk (the folder may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_normalized_without_the_disk() {
        assert_eq!(
            normalize(Path::new("/p/src/../.memdir/./x")),
            PathBuf::from("/p/.memdir/x")
        );
    }
}
