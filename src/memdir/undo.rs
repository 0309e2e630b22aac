//! Undo from history: `revert` undoes one commit as a new commit, `restore` brings one memory
//! back as it was at a point in the past. Both write through the usual path (lock, intent,
//! atomic files, one commit with trailers, index catch-up), so history only ever grows.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Memdir, Provenance, Written, is_memory_path};
use crate::memory::Revision;
use crate::parse;
use crate::store::{CommitMessage, FileWrite};
use crate::{Error, Result};

/// What [`Memdir::revert`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reverted {
    /// The commit that was undone.
    pub reverted: String,
    /// The new commit (`Memdir-Op: revert`).
    pub commit: String,
    /// The memories it touched.
    pub ids: Vec<String>,
    /// The files it wrote or removed.
    pub paths: Vec<String>,
}

impl Memdir {
    /// Undoes commit `rev` as a new commit (`Memdir-Op: revert`, `Memdir-Reverts: <sha>`):
    /// every file it changed goes back to its content before it. Refuses with
    /// [`Error::Diverged`], changing nothing, if any of those files changed since (in a later
    /// commit or by an uncommitted hand edit).
    pub fn revert(&self, rev: &str, prov: &Provenance) -> Result<Reverted> {
        let lock = self.lock()?;
        let sha = self.store().resolve(rev)?.ok_or_else(|| {
            Error::invalid(format!(
                "`{rev}` names no commit: `memdir log` lists them (ids, or HEAD~N)"
            ))
        })?;
        let info = self.store().commit_info(&sha)?;
        let changes = self.store().changes(info.parent.as_deref(), &sha)?;
        if changes.is_empty() {
            return Err(Error::invalid(format!(
                "commit {} changed no files: nothing to revert",
                &sha[..12]
            )));
        }
        let paths: Vec<String> = changes.iter().map(|c| c.path.clone()).collect();
        let now_committed = self.store().head_revisions(&paths)?;
        let mut diverged = Vec::new();
        for (c, committed) in changes.iter().zip(&now_committed) {
            let then = c.new.clone().map(Revision);
            let on_disk = self.revision(&c.path)?;
            if committed != &then || on_disk != then {
                diverged.push(c.path.clone());
            }
        }
        if !diverged.is_empty() {
            return Err(Error::Diverged {
                what: format!("cannot revert {}", &sha[..12]),
                paths: diverged,
            });
        }
        let mut ids = BTreeSet::new();
        let mut writes = Vec::new();
        for c in &changes {
            for blob in [&c.old, &c.new].into_iter().flatten() {
                let bytes = self.store().blob(blob)?;
                if is_memory_path(&c.path)
                    && let Ok(m) = parse::parse_memory(&c.path, &bytes, Revision(blob.clone()))
                {
                    ids.insert(m.front.id);
                }
            }
            let content = match &c.old {
                Some(blob) => Some(self.store().blob(blob)?),
                None => None,
            };
            writes.push(FileWrite {
                path: c.path.clone(),
                content,
            });
        }
        let ids: Vec<_> = ids.into_iter().collect();
        let mut trailers = prov.trailers("revert", &ids.iter().collect::<Vec<_>>());
        trailers.insert(1, ("Memdir-Reverts".into(), sha.clone()));
        let message = CommitMessage {
            subject: format!("revert: {}", info.subject),
            body: Some(format!("This undoes commit {sha}.")),
            trailers,
        };
        let commit = self
            .commit_indexed(&lock, &writes, &message, prov.author.as_ref())?
            .ok_or_else(|| {
                Error::invalid(format!(
                    "reverting {} changes nothing: HEAD already has its parent's content",
                    &sha[..12]
                ))
            })?;
        Ok(Reverted {
            reverted: sha,
            commit: commit.0,
            ids: ids.iter().map(|i| i.to_string()).collect(),
            paths,
        })
    }

    /// Brings memory `id` back as it was at `at` (a revision, snapshot or date) as one commit
    /// (`Memdir-Op: restore`, `Memdir-Restores: <sha>`), at its present path if it still
    /// exists, else where it was. Its file is written byte for byte as it was then.
    pub fn restore(&self, id: &str, at: &str, prov: &Provenance) -> Result<Written> {
        let (point, old) = self.get_at(id, at)?;
        let lock = self.lock()?;
        self.catch_up(false, None, Some(&lock))?;
        let current = match self.find(id, Some(&lock)) {
            Ok(m) => Some(m),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let path = match &current {
            Some(m) => m.path.clone(),
            None => {
                if self.revision(&old.path)?.is_some() {
                    return Err(Error::invalid(format!(
                        "cannot restore `{id}` to {}: another file is there now; move it away first",
                        old.path
                    )));
                }
                old.path.clone()
            }
        };
        if current.as_ref().map(|m| &m.revision) == Some(&old.revision) {
            return Ok(Written {
                id: id.to_owned(),
                path,
                quarantined: old.is_quarantined(),
                revision: Some(old.revision),
                ..Written::default()
            });
        }
        let bytes = self.store().blob(&old.revision.0)?;
        let mut trailers = prov.trailers("restore", &[&old.front.id]);
        trailers.insert(1, ("Memdir-Restores".into(), point.commit.clone()));
        let message = CommitMessage {
            subject: format!(
                "restore: {} ({}) as of {}",
                old.front.title,
                id,
                &point.commit[..12]
            ),
            body: None,
            trailers,
        };
        let commit = self.commit_one(&lock, &path, Some(bytes), &message, prov)?;
        Ok(Written {
            id: id.to_owned(),
            path,
            revision: Some(old.revision.clone()),
            commit,
            flags: Vec::new(),
            quarantined: old.is_quarantined(),
            similar: Vec::new(),
        })
    }
}
