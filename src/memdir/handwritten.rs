//! Hand-written memory: the rules that make any Markdown file a memory with a stable id, and
//! that keep the repository's own files intact.
//!
//! - **One check per file** ([`Memdir::check_file`]): what `memdir check` reports and what
//!   `memdir commit` (and `watch --commit`) refuses are the same problems, worded the same.
//! - **Ids that files leave out** are derived from their paths ([`parse::path_id`]); a copy of a
//!   memory file, which carries its original's id, gets an id of its own the same way
//!   ([`Memdir::settle_ids`]). Memdir writes such ids into the files when it commits them
//!   ([`parse::stamp`]), so they survive renames; `stamp_ids = false` in `memory.toml` turns that off.
//! - **The repository's own files** (`memory.toml`, `MEMORY.md`, `.gitattributes`) are never
//!   deleted or broken by a memdir commit ([`Memdir::check_protected`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Memdir, Problem, config_problem, is_memory_path};
use crate::config::{CONFIG_FILE, Config};
use crate::memory::{Memory, Timestamp};
use crate::parse;
use crate::{Error, Result};

/// The always-loaded overview at the root of a repository.
pub const OVERVIEW_FILE: &str = "MEMORY.md";
/// The template's git attributes (line endings and diffs of memory files).
pub const ATTRIBUTES_FILE: &str = ".gitattributes";
/// Largest `MEMORY.md` accepted: it goes into every prompt.
pub const MAX_OVERVIEW_BYTES: usize = 64 * 1024;

/// An id memdir wrote into a memory file that had none of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stamped {
    /// The file, relative to the root.
    pub path: String,
    /// The id it now carries.
    pub id: String,
    /// When the file was a copy of another memory file: the id it carried (and still
    /// belongs to the original).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_of: Option<String>,
}

impl std::fmt::Display for Stamped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.copy_of {
            Some(old) => write!(
                f,
                "{}: a copy of `{old}`, given the new id `{}` (the original keeps `{old}`)",
                self.path, self.id
            ),
            None => write!(f, "{}: given the id `{}`", self.path, self.id),
        }
    }
}

impl Memdir {
    /// Checks one memory file as `memdir check` and `memdir commit` do: returns the memory
    /// (`None` when there is no file), or every problem it has.
    pub(super) fn check_file(
        &self,
        path: &str,
    ) -> Result<std::result::Result<Option<Memory>, Vec<Problem>>> {
        if let Some(problem) = self.unreadable(path) {
            return Ok(Err(vec![problem]));
        }
        let Some(bytes) = self.read(path)? else {
            return Ok(Ok(None));
        };
        Ok(self.parse_file_all(path, &bytes).map(Some))
    }

    /// Returns why memdir will not read the file at `path`, if it exists but is not a regular
    /// file it may read: a symbolic link, or behind a linked folder.
    pub(super) fn unreadable(&self, path: &str) -> Option<Problem> {
        if let Some(folder) = self.linked_folder(path) {
            return Some(Problem {
                path: path.to_owned(),
                line: None,
                message: format!(
                    "is inside `{folder}`, a symbolic link; memdir never follows links: make it a regular folder"
                ),
            });
        }
        let meta = std::fs::symlink_metadata(self.root.join(path)).ok()?;
        meta.file_type().is_symlink().then(|| Problem {
            path: path.to_owned(),
            line: None,
            message:
                "is a symbolic link; memdir never follows links: replace it with a regular file"
                    .into(),
        })
    }

    /// Parses a memory file, reporting every problem: its front-matter's, and a `type` that
    /// is not configured. A type derived from a folder that is not a configured type is `note`.
    pub(super) fn parse_file_all(
        &self,
        path: &str,
        bytes: &[u8],
    ) -> std::result::Result<Memory, Vec<Problem>> {
        let mut memory =
            match parse::parse_all(path, bytes, crate::store::Store::revision_of(bytes)) {
                Ok(m) => m,
                Err(errors) => {
                    let errors = errors.into_iter().map(|e| self.real_size(e));
                    return Err(errors.map(|e| Problem::from_parse(path, &e)).collect());
                }
            };
        self.settle_kind(&mut memory);
        if let Err(e) = self.config.check_type(&memory.front.kind) {
            let text = String::from_utf8_lossy(bytes);
            let line = parse::find_layout(path, &text)
                .ok()
                .flatten()
                .and_then(|l| {
                    text[l.yaml.0..l.yaml.1]
                        .lines()
                        .position(|x| parse::is_key_line(x, "type"))
                        .map(|n| n + 2)
                });
            return Err(vec![Problem {
                path: path.to_owned(),
                line,
                message: format!("field `type`: {e}"),
            }]);
        }
        Ok(memory)
    }

    /// Gives a memory whose type was derived from a folder that is not a configured type the
    /// type `note` (or the default type, when `note` is not configured).
    pub(super) fn settle_kind(&self, memory: &mut Memory) {
        if memory.derived.kind && self.config.check_type(&memory.front.kind).is_err() {
            memory.front.kind = if self.config.check_type("note").is_ok() {
                "note".to_owned()
            } else {
                self.config.memory.default_type.clone()
            };
        }
    }

    /// Resolves ids that more than one file claims (a copied memory file carries its
    /// original's id): the file whose committed version carries the id keeps it (else the
    /// first by path), and every other one takes the id its path gives ([`parse::path_id`]),
    /// until a commit writes that id into it.
    ///
    /// `memories` are files being read now; with `batch` (the paths being read, when they are
    /// not the whole repository) the index's other holders of their ids count too. Returns
    /// the paths of those other holders that must be read again, as they lose the id.
    pub(super) fn settle_ids(
        &self,
        memories: &mut [Memory],
        batch: Option<&[String]>,
    ) -> Result<Vec<String>> {
        let mut holders: BTreeMap<String, Vec<(String, Option<usize>)>> = BTreeMap::new();
        for (i, m) in memories.iter().enumerate() {
            holders
                .entry(m.front.id.to_string())
                .or_default()
                .push((m.path.clone(), Some(i)));
        }
        if let Some(batch) = batch {
            let batch: BTreeSet<&String> = batch.iter().collect();
            for (id, list) in holders.iter_mut() {
                for s in self.index.find_id(id)? {
                    if !batch.contains(&s.path) && !list.iter().any(|(p, _)| *p == s.path) {
                        list.push((s.path, None));
                    }
                }
            }
        }
        let mut reread = Vec::new();
        for (id, mut list) in holders.into_iter().filter(|(_, l)| l.len() > 1) {
            list.sort();
            let paths: Vec<String> = list.iter().map(|(p, _)| p.clone()).collect();
            let committed = self.store().head_revisions(&paths)?;
            let mut keeper = 0;
            for (n, rev) in committed.iter().enumerate() {
                if let Some(rev) = rev {
                    let blob = self.store().blob(&rev.0)?;
                    if parse::front_matter_id(&blob).as_deref() == Some(id.as_str()) {
                        keeper = n;
                        break;
                    }
                }
            }
            for (n, (path, slot)) in list.into_iter().enumerate() {
                if n == keeper {
                    continue;
                }
                match slot {
                    Some(i) if !memories[i].derived.id => {
                        memories[i].front.id = parse::path_id(&path);
                        memories[i].derived.id = true;
                    }
                    Some(_) => {} // its id is its path's already: nothing else to give it
                    None => reread.push(path),
                }
            }
        }
        Ok(reread)
    }

    /// Refuses a change that would delete or break one of the repository's own files:
    /// `memory.toml` (every command needs it), `MEMORY.md` (text, at most
    /// [`MAX_OVERVIEW_BYTES`]) or `.gitattributes`. `changes` are `(path, new content)`,
    /// `None` for a deletion; `what` names the change in the error.
    pub(super) fn check_protected<'a>(
        &self,
        what: &str,
        changes: impl IntoIterator<Item = (&'a str, Option<&'a [u8]>)>,
    ) -> Result<()> {
        let problems: Vec<Problem> = changes
            .into_iter()
            .filter_map(|(path, content)| protected_problem(path, content))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Protected {
                what: what.to_owned(),
                problems,
            })
        }
    }

    /// Returns the problems of `MEMORY.md` as it is in the working tree.
    pub(super) fn check_overview(&self) -> Result<Vec<Problem>> {
        let full = self.root.join(OVERVIEW_FILE);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_symlink() => {
                Ok(self.unreadable(OVERVIEW_FILE).into_iter().collect())
            }
            Ok(meta) if meta.is_file() => {
                let bytes = std::fs::read(&full).map_err(|e| Error::io(&full, e))?;
                Ok(overview_problem(&bytes).into_iter().collect())
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Writes ids into the files of `memories` that have none of their own (see
    /// [`Memdir::settle_ids`]), in the working tree; `copies` maps a copy's path to the id
    /// it carried. Returns what was stamped. The caller holds the write lock and commits the
    /// files. Does nothing when `stamp_ids` is off.
    pub(super) fn stamp_files(
        &self,
        memories: &[&Memory],
        copies: &BTreeMap<String, String>,
    ) -> Result<Vec<Stamped>> {
        if !self.config.memory.stamp_ids {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let now = Timestamp::now();
        for m in memories.iter().filter(|m| m.derived.id) {
            let Some(bytes) = self.read(&m.path)? else {
                continue;
            };
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::invalid(format!("{} is not UTF-8 text", m.path)))?;
            let stamped = parse::stamp(&m.path, &text, &m.front.id, now)?;
            crate::store::atomic_write(&self.root.join(&m.path), stamped.as_bytes())?;
            out.push(Stamped {
                path: m.path.clone(),
                id: m.front.id.to_string(),
                copy_of: copies.get(&m.path).cloned(),
            });
        }
        Ok(out)
    }

    /// Returns the memory files whose ids are not written in them, as the index has them
    /// (committed with plain git, or not yet committed).
    pub(super) fn unstamped_paths(&self) -> Result<Vec<String>> {
        Ok(self
            .index
            .unstamped()?
            .into_iter()
            .map(|s| s.path)
            .filter(|p| is_memory_path(p))
            .collect())
    }

    /// Returns the memory files the index leaves out because they are invalid, with what is
    /// wrong, as the last catch-up found them (no file is read).
    pub fn left_out(&self) -> Vec<Problem> {
        let state = self.seen.state();
        let state = state.or_else(|| self.index.state());
        state
            .map(|s| {
                s.invalid
                    .into_iter()
                    .map(|(path, (line, message))| Problem {
                        path,
                        line,
                        message,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The problem a change to one of the repository's own files would cause, if any.
fn protected_problem(path: &str, content: Option<&[u8]>) -> Option<Problem> {
    let problem = |message: String| {
        Some(Problem {
            path: path.to_owned(),
            line: None,
            message,
        })
    };
    let restore = format!("restore it with `git checkout HEAD -- {path}`");
    match (path, content) {
        (CONFIG_FILE | OVERVIEW_FILE | ATTRIBUTES_FILE, None) => problem(format!(
            "would be deleted; it belongs to the repository itself (every memdir command needs {}): {restore}",
            if path == CONFIG_FILE {
                "it"
            } else {
                "the template's files"
            }
        )),
        (CONFIG_FILE, Some(bytes)) => {
            let text = String::from_utf8_lossy(bytes);
            Config::parse(std::path::Path::new(CONFIG_FILE), &text)
                .err()
                .map(|e| config_problem(&e))
        }
        (OVERVIEW_FILE, Some(bytes)) => overview_problem(bytes),
        _ => None,
    }
}

/// What is wrong with the bytes of `MEMORY.md`, if anything.
fn overview_problem(bytes: &[u8]) -> Option<Problem> {
    let problem = |message: String| {
        Some(Problem {
            path: OVERVIEW_FILE.to_owned(),
            line: None,
            message,
        })
    };
    if bytes.len() > MAX_OVERVIEW_BYTES {
        return problem(format!(
            "is {} bytes; the overview goes into every prompt and is limited to {MAX_OVERVIEW_BYTES} bytes: move details into memory files",
            bytes.len()
        ));
    }
    match std::str::from_utf8(bytes) {
        Err(e) => problem(format!(
            "line {}: not UTF-8 text (binary file?)",
            bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1
        )),
        Ok(text) if text.contains('\0') => {
            problem("contains a NUL byte: not a text file (binary file?)".into())
        }
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repositorys_own_files_are_protected() {
        assert!(protected_problem("memory.toml", None).is_some());
        assert!(protected_problem("MEMORY.md", None).is_some());
        assert!(protected_problem(".gitattributes", None).is_some());
        assert!(protected_problem("memory.toml", Some(b"[memory\n")).is_some());
        assert!(protected_problem("memory.toml", Some(b"[memory]\n")).is_none());
        assert!(protected_problem("MEMORY.md", Some(b"\xff\xfe")).is_some());
        assert!(protected_problem("MEMORY.md", Some(b"# Overview\n")).is_none());
        assert!(protected_problem("fact/a.md", None).is_none());
    }
}
