//! Reading history: commits with their trailers, what a commit changed, files and blobs as
//! they were, tags. Read-only: the rest of [`Store`] writes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use git2::{Delta, DiffOptions, Oid, Sort};

use super::{Author, Store, StoreError, git_err};
use crate::memory::Timestamp;

/// One commit as history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full commit id.
    pub sha: String,
    /// Its first parent, if any.
    pub parent: Option<String>,
    /// Who wrote the change.
    pub author: Author,
    /// When the author made it.
    pub authored: Timestamp,
    /// When it was committed (what `--at DATE` compares against).
    pub committed: Timestamp,
    /// First line of the message.
    pub subject: String,
    /// The whole message.
    pub message: String,
    /// `Key: value` trailers, as `git interpret-trailers --parse` reads them.
    pub trailers: Vec<(String, String)>,
}

impl CommitInfo {
    /// Returns the first value of trailer `key` (case-insensitive, as git compares them).
    pub fn trailer(&self, key: &str) -> Option<&str> {
        self.trailers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Returns every value of trailer `key`.
    pub fn trailers_named<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.trailers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// A file a commit added, changed or removed: its blob before and after (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Path relative to the root.
    pub path: String,
    /// Blob id before.
    pub old: Option<String>,
    /// Blob id after.
    pub new: Option<String>,
}

/// A tag: a name for a commit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct TagInfo {
    /// The tag's name (without `refs/tags/`).
    pub name: String,
    /// The commit it names.
    pub commit: String,
    /// The tag message (annotated tags), else `None`.
    pub message: Option<String>,
    /// What a person wrote in the message ([`note_of`]): without memdir's subject line and
    /// trailers. `None` when there is nothing else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When the tag was made (annotated tags), else when its commit was made.
    pub time: Timestamp,
}

/// Returns the note of a tag message: the message without the subject `memdir snapshot NAME`
/// and without a last paragraph of `Key: value` trailers; a plain message whole.
///
/// ```
/// use memdir::store::note_of;
/// let made = "memdir snapshot v1\n\nBefore the migration.\n\nMemdir-Op: snapshot\nMemdir-Agent: cli";
/// assert_eq!(note_of(made).as_deref(), Some("Before the migration."));
/// assert_eq!(note_of("memdir snapshot v1\n\nMemdir-Op: snapshot"), None);
/// assert_eq!(note_of("Release 1.0").as_deref(), Some("Release 1.0"));
/// ```
pub fn note_of(message: &str) -> Option<String> {
    let mut parts: Vec<&str> = message.trim().split("\n\n").collect();
    if parts
        .first()
        .is_some_and(|p| p.starts_with("memdir snapshot ") && !p.contains('\n'))
    {
        parts.remove(0);
    }
    let is_trailer = |l: &str| {
        l.split_once(": ").is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    };
    if parts.last().is_some_and(|p| p.lines().all(is_trailer)) {
        parts.pop();
    }
    let note = parts.join("\n\n").trim().to_owned();
    (!note.is_empty()).then_some(note)
}

fn timestamp(t: git2::Time) -> Timestamp {
    time::OffsetDateTime::from_unix_timestamp(t.seconds())
        .map(Timestamp)
        .unwrap_or_else(|_| Timestamp::now())
}

impl Store {
    fn oid(&self, op: &'static str, hex: &str) -> Result<Oid, StoreError> {
        Oid::from_str(hex).map_err(git_err(op, &self.root))
    }

    /// Resolves a revision (`HEAD~2`, a commit id or prefix, a branch, a tag) to a full commit
    /// id, or `None` if git knows no such revision.
    pub fn resolve(&self, spec: &str) -> Result<Option<String>, StoreError> {
        match self.repo.revparse_single(spec) {
            Ok(obj) => match obj.peel_to_commit() {
                Ok(c) => Ok(Some(c.id().to_string())),
                Err(_) => Ok(None),
            },
            Err(e)
                if matches!(
                    e.code(),
                    git2::ErrorCode::NotFound
                        | git2::ErrorCode::Ambiguous
                        | git2::ErrorCode::InvalidSpec
                ) || e.class() == git2::ErrorClass::Reference =>
            {
                Ok(None)
            }
            Err(e) => Err(git_err("rev-parse", &self.root)(e)),
        }
    }

    /// Returns one commit's details.
    pub fn commit_info(&self, sha: &str) -> Result<CommitInfo, StoreError> {
        let err = git_err("read commit", &self.root);
        let commit = self
            .repo
            .find_commit(self.oid("read commit", sha)?)
            .map_err(&err)?;
        let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
        let trailers = git2::message_trailers_strs(&message)
            .map(|t| {
                t.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let author = commit.author();
        Ok(CommitInfo {
            sha: commit.id().to_string(),
            parent: commit.parent_ids().next().map(|o| o.to_string()),
            author: Author {
                name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
                email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            },
            authored: timestamp(author.when()),
            committed: timestamp(commit.committer().when()),
            subject: message.lines().next().unwrap_or_default().to_owned(),
            message,
            trailers,
        })
    }

    /// Returns the commits reachable from HEAD, newest first (git log's order), at most
    /// `limit` of them.
    pub fn log(&self, limit: usize) -> Result<Vec<CommitInfo>, StoreError> {
        let err = git_err("log", &self.root);
        if self.head()?.is_none() {
            return Ok(Vec::new());
        }
        let mut walk = self.repo.revwalk().map_err(&err)?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .map_err(&err)?;
        walk.push_head().map_err(&err)?;
        let mut out = Vec::new();
        for oid in walk {
            if out.len() >= limit {
                break;
            }
            let oid = oid.map_err(&err)?;
            if self.touches_memory(oid).map_err(&err)? {
                out.push(self.commit_info(&oid.to_string())?);
            }
        }
        Ok(out)
    }

    /// Returns true when the commit changed the memory folder: always in a repository of its
    /// own; in a project, only when the memory folder's tree differs from its first parent's
    /// (the project's other commits are not memdir's history).
    fn touches_memory(&self, oid: Oid) -> Result<bool, git2::Error> {
        if self.prefix.is_none() {
            return Ok(true);
        }
        let commit = self.repo.find_commit(oid)?;
        let ours = self.memory_tree(&commit)?.map(|t| t.id());
        let parent = match commit.parent(0) {
            Ok(p) => self.memory_tree(&p)?.map(|t| t.id()),
            Err(_) => None,
        };
        Ok(ours != parent)
    }

    /// Returns the first-parent chain from HEAD back to (not including) `stop`, newest first,
    /// and whether `stop` was met. Without `stop`, the whole chain down to the root commit.
    pub fn first_parents_since(
        &self,
        stop: Option<&str>,
    ) -> Result<(Vec<String>, bool), StoreError> {
        let err = git_err("log", &self.root);
        let Some(head) = self.head()? else {
            return Ok((Vec::new(), stop.is_none()));
        };
        let mut walk = self.repo.revwalk().map_err(&err)?;
        walk.simplify_first_parent().map_err(&err)?;
        walk.push(self.oid("log", &head)?).map_err(&err)?;
        let mut out = Vec::new();
        for oid in walk {
            let oid = oid.map_err(&err)?.to_string();
            if Some(oid.as_str()) == stop {
                return Ok((out, true));
            }
            out.push(oid);
        }
        Ok((out, stop.is_none()))
    }

    /// Returns, for each of `paths`, the last commit on HEAD's first-parent line that changed
    /// it, looking at most `max_commits` commits back (a path not found by then is left out).
    /// Walks newest first and stops once every path is placed.
    pub fn last_touched(
        &self,
        paths: &[String],
        max_commits: usize,
    ) -> Result<BTreeMap<String, std::sync::Arc<CommitInfo>>, StoreError> {
        let mut wanted: BTreeSet<&str> = paths.iter().map(String::as_str).collect();
        let mut out = BTreeMap::new();
        let (chain, _) = self.first_parents_since(None)?;
        for (n, sha) in chain.iter().enumerate() {
            if wanted.is_empty() || n >= max_commits {
                break;
            }
            let parent = chain.get(n + 1).map(String::as_str);
            let info = std::sync::Arc::new(self.commit_info(sha)?);
            for change in self.changes(parent, sha)? {
                if wanted.remove(change.path.as_str()) {
                    out.insert(change.path, info.clone());
                }
            }
        }
        Ok(out)
    }

    /// Returns true when a commit reachable from `to` but not from `from` (`None`: any),
    /// whose `Memdir-Op` trailer is `op`, changed memory `path` (against its first parent).
    /// This is how an approval made on another machine is told from a hand edit that drops
    /// a `quarantine:` block: the first arrives in an `approve` commit.
    pub fn written_by_op(
        &self,
        from: Option<&str>,
        to: &str,
        op: &str,
        path: &str,
    ) -> Result<bool, StoreError> {
        let err = git_err("walk", &self.root);
        let mut walk = self.repo.revwalk().map_err(&err)?;
        walk.push(self.oid("walk", to)?).map_err(&err)?;
        if let Some(from) = from {
            walk.hide(self.oid("walk", from)?).map_err(&err)?;
        }
        let at = |commit: &git2::Commit<'_>| -> Result<Option<Oid>, StoreError> {
            let Some(tree) = self.memory_tree(commit).map_err(&err)? else {
                return Ok(None);
            };
            Ok(tree.get_path(Path::new(path)).ok().map(|e| e.id()))
        };
        for id in walk {
            let commit = self.repo.find_commit(id.map_err(&err)?).map_err(&err)?;
            let message = String::from_utf8_lossy(commit.message_bytes());
            let is_op = git2::message_trailers_strs(&message).is_ok_and(|t| {
                t.iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case("Memdir-Op") && v == op)
            });
            if !is_op {
                continue;
            }
            let before = match commit.parent(0) {
                Ok(parent) => at(&parent)?,
                Err(_) => None,
            };
            if at(&commit)? != before {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Returns the files that differ between commits `from` (`None`: nothing) and `to`,
    /// sorted by path. Renames show as a removal plus an addition.
    pub fn changes(&self, from: Option<&str>, to: &str) -> Result<Vec<FileChange>, StoreError> {
        let err = git_err("diff", &self.root);
        let tree = |sha: &str| -> Result<Option<git2::Tree<'_>>, StoreError> {
            self.repo
                .find_commit(self.oid("diff", sha)?)
                .and_then(|c| self.memory_tree(&c))
                .map_err(&err)
        };
        let old = match from {
            Some(sha) => tree(sha)?,
            None => None,
        };
        let new = tree(to)?;
        let mut opts = DiffOptions::new();
        opts.skip_binary_check(true);
        let diff = self
            .repo
            .diff_tree_to_tree(old.as_ref(), new.as_ref(), Some(&mut opts))
            .map_err(&err)?;
        let id = |f: git2::DiffFile<'_>| (!f.id().is_zero()).then(|| f.id().to_string());
        let mut out = Vec::new();
        for delta in diff.deltas() {
            let path = delta
                .new_file()
                .path()
                .or_else(|| delta.old_file().path())
                .and_then(|p| p.to_str());
            let Some(path) = path else { continue };
            let (old, new) = match delta.status() {
                Delta::Added => (None, id(delta.new_file())),
                Delta::Deleted => (id(delta.old_file()), None),
                _ => (id(delta.old_file()), id(delta.new_file())),
            };
            out.push(FileChange {
                path: path.to_owned(),
                old,
                new,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Returns a blob's bytes.
    pub fn blob(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        let blob = self
            .repo
            .find_blob(self.oid("read blob", id)?)
            .map_err(git_err("read blob", &self.root))?;
        Ok(blob.content().to_vec())
    }

    /// Returns the bytes of the blob whose id starts with `prefix` (4 to 40 hex digits), or
    /// `None` when git holds no such blob or the prefix names several objects.
    pub fn blob_by_prefix(&self, prefix: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Ok(short) = Oid::from_str(prefix) else {
            return Ok(None);
        };
        let odb = self.repo.odb().map_err(git_err("read blob", &self.root))?;
        let Ok(full) = odb.exists_prefix(short, prefix.len()) else {
            return Ok(None);
        };
        match self.repo.find_blob(full) {
            Ok(blob) => Ok(Some(blob.content().to_vec())),
            Err(_) => Ok(None),
        }
    }

    /// Returns the blob id of `path` in commit `sha`, or `None` if it has no such file.
    pub fn blob_at(&self, sha: &str, path: &str) -> Result<Option<String>, StoreError> {
        let err = git_err("read tree", &self.root);
        let Some(tree) = self
            .repo
            .find_commit(self.oid("read tree", sha)?)
            .and_then(|c| self.memory_tree(&c))
            .map_err(&err)?
        else {
            return Ok(None);
        };
        match tree.get_path(std::path::Path::new(path)) {
            Ok(e) if e.kind() == Some(git2::ObjectType::Blob) => Ok(Some(e.id().to_string())),
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    /// Returns every tag that names a commit, sorted by name.
    pub fn tags(&self) -> Result<Vec<TagInfo>, StoreError> {
        let err = git_err("tags", &self.root);
        let mut out = Vec::new();
        let names = self.repo.tag_names(None).map_err(&err)?;
        for name in names.iter().flatten().flatten() {
            let reference = self
                .repo
                .find_reference(&format!("refs/tags/{name}"))
                .map_err(&err)?;
            let Ok(commit) = reference.peel_to_commit() else {
                continue;
            };
            let tag = reference.peel_to_tag().ok();
            out.push(TagInfo {
                name: name.to_owned(),
                commit: commit.id().to_string(),
                message: tag
                    .as_ref()
                    .and_then(|t| t.message().ok().flatten())
                    .map(|m| m.trim_end().to_owned()),
                note: tag
                    .as_ref()
                    .and_then(|t| t.message().ok().flatten())
                    .and_then(note_of),
                time: tag
                    .as_ref()
                    .and_then(|t| t.tagger())
                    .map(|s| timestamp(s.when()))
                    .unwrap_or_else(|| timestamp(commit.committer().when())),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Creates the annotated tag `name` on HEAD. Fails with [`StoreError::TagExists`] if a
    /// tag of that name exists, and with [`StoreError::BadName`] if git cannot name a tag so.
    pub fn create_tag(
        &self,
        name: &str,
        message: &str,
        tagger: Option<&Author>,
    ) -> Result<String, StoreError> {
        let err = git_err("tag", &self.root);
        if !git2::Reference::is_valid_name(&format!("refs/tags/{name}")) {
            return Err(StoreError::BadName {
                name: name.to_owned(),
            });
        }
        if self
            .repo
            .find_reference(&format!("refs/tags/{name}"))
            .is_ok()
        {
            return Err(StoreError::TagExists {
                name: name.to_owned(),
            });
        }
        let head = self.head()?.ok_or_else(|| {
            err(git2::Error::from_str(
                "the repository has no commit to name yet",
            ))
        })?;
        let target = self
            .repo
            .find_object(self.oid("tag", &head)?, None)
            .map_err(&err)?;
        let sig = self.signature(tagger, "GIT_COMMITTER_DATE")?;
        self.repo
            .tag(name, &target, &sig, message, false)
            .map_err(&err)?;
        Ok(head)
    }
}

/// Returns, for each line of `new`, the 0-based line of `old` it was kept from, or `None` if
/// `new` added it: the line matching `git blame` does, with git's own diff (xdiff, Myers).
pub fn line_origins(old: &[u8], new: &[u8]) -> Vec<Option<usize>> {
    let count = |b: &[u8]| b.split_inclusive(|c| *c == b'\n').count();
    let new_count = count(new);
    let mut opts = DiffOptions::new();
    opts.context_lines(0).force_text(true);
    let hunks: Vec<(usize, usize, usize, usize)> =
        match git2::Patch::from_buffers(old, None, new, None, Some(&mut opts)) {
            Ok(patch) => (0..patch.num_hunks())
                .filter_map(|i| patch.hunk(i).ok())
                .map(|(h, _)| {
                    (
                        h.old_start() as usize,
                        h.old_lines() as usize,
                        h.new_start() as usize,
                        h.new_lines() as usize,
                    )
                })
                .collect(),
            // Cannot diff: every line is new.
            Err(_) => return vec![None; new_count],
        };
    let mut origins = vec![None; new_count];
    let (mut new_line, mut old_line) = (1, 1); // 1-based, the next unmatched line of each
    for (old_start, old_lines, new_start, new_lines) in hunks {
        // A hunk that adds nothing (removes only) starts *after* its new_start line.
        let first_new = if new_lines == 0 {
            new_start + 1
        } else {
            new_start
        };
        while new_line < first_new && new_line <= new_count {
            origins[new_line - 1] = Some(old_line - 1);
            new_line += 1;
            old_line += 1;
        }
        new_line += new_lines;
        old_line = if old_lines == 0 {
            old_start + 1
        } else {
            old_start
        } + old_lines;
    }
    while new_line <= new_count {
        origins[new_line - 1] = Some(old_line - 1);
        new_line += 1;
        old_line += 1;
    }
    origins
}

#[cfg(test)]
mod tests {
    use super::line_origins;

    #[test]
    fn kept_lines_point_at_their_old_line_and_added_ones_at_none() {
        assert_eq!(line_origins(b"", b"a\nb\n"), [None, None]);
        assert_eq!(line_origins(b"a\nb\n", b"a\nb\n"), [Some(0), Some(1)]);
        assert_eq!(
            line_origins(b"a\nb\nc\n", b"a\nX\nc\nd\n"),
            [Some(0), None, Some(2), None]
        );
        assert_eq!(line_origins(b"a\nb\nc\n", b"c\n"), [Some(2)]);
        assert_eq!(
            line_origins(b"a\nc\n", b"x\na\nb\nc\n"),
            [None, Some(0), None, Some(1)]
        );
    }
}
