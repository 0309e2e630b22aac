//! Writes: add, update, replace, forget and committing hand edits. Each takes the write lock,
//! validates before touching anything, writes and commits through the store as exactly one
//! commit with provenance trailers, then catches the index up.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use super::guarded::{guard_fields, guard_trailer, merge_notes, quarantine_block};
use super::{Memdir, NewMemory, Provenance, Update, Written, config_problem, is_memory_path};
use crate::config::{CONFIG_FILE, Config};
use crate::guard::Flag;
use crate::index::Filter;
use crate::lock::WriteLock;
use crate::memory::{FrontMatter, Memory, MemoryId, QUARANTINE_KEY, SUPERSEDES_KEY, Timestamp};
use crate::parse::{self, Edit, FieldValue};
use crate::store::{CommitMessage, FileWrite, Store};
use crate::{Error, Result};

/// The ids (with their paths) and the paths of the memories prepared so far for one commit.
#[derive(Default)]
struct Taken {
    ids: BTreeMap<String, String>,
    paths: BTreeSet<String>,
}

impl Memdir {
    /// Generates a fresh id for `slug`: the slug (cut to 40 characters) plus six hex digits.
    fn new_id(&self, slug: &str) -> Result<MemoryId> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let stem: String = slug
            .chars()
            .take(40)
            .collect::<String>()
            .trim_end_matches('-')
            .to_owned();
        loop {
            let seed = format!(
                "{slug}\0{}\0{}\0{}",
                time::OffsetDateTime::now_utc().unix_timestamp_nanos(),
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            );
            let hex = &Store::revision_of(seed.as_bytes()).0[..6];
            let id = MemoryId::parse(&format!("{stem}-{hex}"))?;
            if self.index.find_id(id.as_str())?.is_empty() {
                return Ok(id);
            }
        }
    }

    /// Checks `new` and renders its file, passing its text, title and tags through the write
    /// guard (secrets redacted; flags, with `extra_flags`, recorded in a `quarantine:`
    /// block). `taken` holds the ids and paths of the memories prepared before it in the same
    /// commit. Returns the memory, its bytes and the flags.
    fn prepare_new(
        &self,
        mut new: NewMemory,
        prov: &Provenance,
        taken: &mut Taken,
        extra_flags: Vec<Flag>,
    ) -> Result<(Memory, Vec<u8>, Vec<Flag>)> {
        if new.text.trim().is_empty() {
            return Err(Error::invalid(
                "the memory text is empty: give the text as an argument or on stdin",
            ));
        }
        let guarded = guard_fields(
            &self.guard,
            None,
            &new.text,
            new.title.as_deref(),
            &new.tags,
        );
        new.text = guarded.body;
        new.title = guarded.title;
        new.tags = guarded.tags;
        let mut flags = guarded.flags;
        flags.extend(extra_flags);
        let text = new.text.trim_end();
        let kind = new
            .kind
            .unwrap_or_else(|| self.config.memory.default_type.clone());
        self.config.check_type(&kind)?;
        let title = match new.title.map(|t| t.trim().to_owned()) {
            Some(t) if !t.is_empty() => t,
            _ => parse::derive_title(text)
                .ok_or_else(|| Error::invalid("the memory has no title"))?,
        };
        for tag in &new.tags {
            if tag.trim().is_empty() || tag.contains(['\n', '\r']) {
                return Err(Error::invalid(format!(
                    "invalid tag {tag:?}: tags are non-empty single-line strings"
                )));
            }
        }
        for key in new.extra.keys() {
            check_extra_key(key)?;
        }
        let mut extra = new.extra;
        if !new.supersedes.is_empty() {
            for old in &new.supersedes {
                if self.index.find_id(old.as_str())?.is_empty()
                    && !taken.ids.contains_key(old.as_str())
                {
                    return Err(Error::NotFound {
                        id: old.to_string(),
                    });
                }
            }
            extra.insert(
                SUPERSEDES_KEY.into(),
                serde_json::Value::Array(
                    new.supersedes
                        .iter()
                        .map(|i| i.to_string().into())
                        .collect(),
                ),
            );
        }
        let slug = parse::slugify(&title);
        let explicit = new.id.is_some();
        let id = match new.id {
            Some(id) => id,
            None => self.new_id(&slug)?,
        };
        let mut path = format!("{kind}/{slug}.md");
        if taken.paths.contains(&path) || self.root.join(&path).symlink_metadata().is_ok() {
            path = format!("{kind}/{id}.md");
        }
        // An explicit id may be in use; a generated one was checked by `new_id`.
        let mut holders: Vec<String> = Vec::new();
        if explicit {
            holders.extend(self.index.find_id(id.as_str())?.into_iter().map(|s| s.path));
        }
        holders.extend(taken.ids.get(id.as_str()).cloned());
        if !holders.is_empty() {
            holders.push(path);
            return Err(Error::DuplicateId {
                id: id.to_string(),
                paths: holders,
            });
        }
        taken.ids.insert(id.to_string(), path.clone());
        taken.paths.insert(path.clone());
        let created = new.created.unwrap_or_else(Timestamp::now);
        let mut tags: Vec<String> = Vec::new();
        for t in new.tags {
            let t = t.trim().to_owned();
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        let mut source = prov.source();
        if let Some(session) = new.session {
            source.session = Some(session);
        }
        let front = FrontMatter {
            id,
            title,
            kind,
            tags,
            scope: new.scope.filter(|s| !s.trim().is_empty()),
            created: Some(created),
            updated: Some(created),
            pinned: new.pinned,
            expires: new.expires,
            source,
            extra: extra.clone(),
        };
        let mut content = parse::render_new(&front, &format!("{text}\n"));
        if !flags.is_empty() {
            let block = quarantine_block(&merge_notes(&[], &flags));
            content = parse::edit(
                &path,
                &content,
                &Edit {
                    fields: vec![(QUARANTINE_KEY.into(), FieldValue::Block(block))],
                    body: None,
                },
            )?;
        }
        let memory = parse::parse_memory(
            &path,
            content.as_bytes(),
            Store::revision_of(content.as_bytes()),
        )?;
        let mut read_back = memory.front.extra.clone();
        read_back.remove(QUARANTINE_KEY);
        if read_back != front.extra {
            return Err(Error::invalid(format!(
                "the extra front-matter of `{}` does not read back as given: use strings, booleans, lists and maps",
                front.id
            )));
        }
        Ok((memory, content.into_bytes(), flags))
    }

    /// Adds a memory as one commit (`Memdir-Op: add`) and returns where it went.
    pub fn remember(&self, new: NewMemory, prov: &Provenance) -> Result<Written> {
        let mut written = self.remember_batch(vec![new], prov)?;
        Ok(written.remove(0))
    }

    /// Adds many memories in a single commit (`Memdir-Op: add`, one `Memdir-Id` each). If any
    /// memory is invalid, nothing is written.
    pub fn remember_batch(&self, news: Vec<NewMemory>, prov: &Provenance) -> Result<Vec<Written>> {
        if news.is_empty() {
            return Ok(Vec::new());
        }
        let lock = self.lock()?;
        self.catch_up(false, None, Some(&lock))?;
        self.write_new(&lock, news, prov, "add")
    }

    /// Writes new memories as one commit with `Memdir-Op: <op>` and one `Memdir-Id` trailer
    /// each, then catches the index up. Checks every memory before writing any. The caller
    /// holds `lock` and has caught the index up under it.
    pub(super) fn write_new(
        &self,
        lock: &WriteLock,
        news: Vec<NewMemory>,
        prov: &Provenance,
        op: &str,
    ) -> Result<Vec<Written>> {
        if news.is_empty() {
            return Ok(Vec::new());
        }
        let mut taken = Taken::default();
        let mut prepared = Vec::with_capacity(news.len());
        // Imports are bulk writes by design: the rate rule is for writes an agent makes.
        let recent = if op == "import" {
            None
        } else {
            Some(self.recent_session_writes(prov)?)
        };
        for (i, new) in news.into_iter().enumerate() {
            let rate = recent.and_then(|r| self.rate_flag(prov, r, i + 1));
            prepared.push(self.prepare_new(new, prov, &mut taken, rate.into_iter().collect())?);
        }
        let ids: Vec<&MemoryId> = prepared.iter().map(|(m, _, _)| m.id()).collect();
        let held = prepared.iter().filter(|(_, _, f)| !f.is_empty()).count();
        let subject = match prepared.as_slice() {
            [(m, _, f)] if !f.is_empty() => {
                format!("{op}: {} ({}) [quarantined]", m.front.title, m.id())
            }
            [(m, _, _)] => format!("{op}: {} ({})", m.front.title, m.id()),
            many if held > 0 => format!("{op}: {} memories ({held} quarantined)", many.len()),
            many => format!("{op}: {} memories", many.len()),
        };
        let body = (prepared.len() > 1).then(|| {
            prepared
                .iter()
                .map(|(m, _, f)| {
                    let q = if f.is_empty() { "" } else { " [quarantined]" };
                    format!("- {} ({}){q}", m.front.title, m.path)
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
        let mut trailers = prov.trailers(op, &ids);
        trailers.extend(guard_trailer(
            prepared
                .iter()
                .flat_map(|(_, _, f)| f.iter().map(|f| f.rule.as_str())),
        ));
        let message = CommitMessage {
            subject,
            body,
            trailers,
        };
        let writes: Vec<FileWrite> = prepared
            .iter()
            .map(|(m, bytes, _)| FileWrite {
                path: m.path.clone(),
                content: Some(bytes.clone()),
            })
            .collect();
        let commit = self.commit_indexed(lock, &writes, &message, prov.author.as_ref())?;
        Ok(prepared
            .into_iter()
            .map(|(m, _, flags)| Written {
                id: m.front.id.to_string(),
                quarantined: m.is_quarantined(),
                path: m.path,
                revision: Some(m.revision),
                commit: commit.as_ref().map(|c| c.0.clone()),
                flags,
            })
            .collect())
    }

    /// Changes fields or the body of a memory as one commit (`Memdir-Op: update`). Only the
    /// lines of changed fields are rewritten. With `update.expect`, fails with
    /// [`Error::Conflict`] if the memory changed since that revision.
    pub fn update(&self, id: &str, update: Update, prov: &Provenance) -> Result<Written> {
        let lock = self.lock()?;
        self.catch_up(false, None, Some(&lock))?;
        let memory = self.find(id, Some(&lock))?;
        check_expected(&memory, update.expect.as_deref())?;
        let mut edit = Edit::default();
        let mut changed = Vec::new();
        if let Some(title) = update.title.as_ref().map(|t| t.trim()) {
            if title.is_empty() || title.contains('\n') {
                return Err(Error::invalid("the title must be one non-empty line"));
            }
            if title != memory.front.title {
                edit.fields
                    .push(("title".into(), FieldValue::Text(title.to_owned())));
                changed.push("title");
            }
        }
        if update.tags.is_some() || !update.add_tags.is_empty() || !update.remove_tags.is_empty() {
            let mut tags: Vec<String> = Vec::new();
            let add = |tags: &mut Vec<String>, t: &str| {
                let t = t.trim();
                if t.is_empty() || t.contains('\n') {
                    return Err(Error::invalid(format!(
                        "invalid tag {t:?}: a tag is one non-empty line"
                    )));
                }
                if !tags.iter().any(|x| x == t) {
                    tags.push(t.to_owned());
                }
                Ok(())
            };
            match &update.tags {
                Some(new) => {
                    for t in new {
                        add(&mut tags, t)?;
                    }
                }
                None => tags.clone_from(&memory.front.tags),
            }
            tags.retain(|t| !update.remove_tags.contains(t));
            for t in &update.add_tags {
                add(&mut tags, t)?;
            }
            if tags != memory.front.tags {
                edit.fields.push(("tags".into(), FieldValue::List(tags)));
                changed.push("tags");
            }
        }
        if let Some(scope) = &update.scope
            && Some(scope) != memory.front.scope.as_ref()
        {
            edit.fields
                .push(("scope".into(), FieldValue::Text(scope.clone())));
            changed.push("scope");
        }
        if let Some(pinned) = update.pinned
            && pinned != memory.front.pinned
        {
            edit.fields
                .push(("pinned".into(), FieldValue::Bool(pinned)));
            changed.push("pinned");
        }
        if let Some(expires) = update.expires
            && Some(expires) != memory.front.expires
        {
            edit.fields
                .push(("expires".into(), FieldValue::Text(expires.to_string())));
            changed.push("expires");
        }
        if let Some(body) = &update.body {
            let old = memory.body.trim_start_matches('\n').trim_end();
            if body.trim_end() != old {
                edit.body = Some(format!("{}\n", body.trim_end()));
                changed.push("body");
            }
        }
        if changed.is_empty() {
            return Ok(Written {
                id: id.to_owned(),
                quarantined: memory.is_quarantined(),
                path: memory.path,
                revision: Some(memory.revision),
                commit: None,
                ..Written::default()
            });
        }
        edit.fields.push((
            "updated".into(),
            FieldValue::Text(Timestamp::now().to_string()),
        ));
        let text = std::str::from_utf8(&self.read(&memory.path)?.unwrap_or_default())
            .map_err(|_| Error::invalid(format!("{} is not UTF-8", memory.path)))?
            .to_owned();
        let new_text = parse::edit(&memory.path, &text, &edit)?;
        let edited = parse::parse_memory(
            &memory.path,
            new_text.as_bytes(),
            Store::revision_of(new_text.as_bytes()),
        )?;
        let recent = self.recent_session_writes(prov)?;
        let rate = self.rate_flag(prov, recent, 1);
        let (new_text, flags) = self.guard_file(
            &memory.path,
            &new_text,
            &edited,
            Some(&memory),
            rate.into_iter().collect(),
        )?;
        // Never write a file memdir could not read back.
        let revision = Store::revision_of(new_text.as_bytes());
        let edited = parse::parse_memory(&memory.path, new_text.as_bytes(), revision.clone())?;
        let title = edited.front.title.clone();
        let mut trailers = prov.trailers("update", &[&memory.front.id]);
        trailers.extend(guard_trailer(flags.iter().map(|f| f.rule.as_str())));
        let message = CommitMessage {
            subject: format!(
                "update: {title} ({}): {}",
                memory.front.id,
                changed.join(", ")
            ),
            body: None,
            trailers,
        };
        let commit = self.commit_one(
            &lock,
            &memory.path,
            Some(new_text.into_bytes()),
            &message,
            prov,
        )?;
        Ok(Written {
            id: id.to_owned(),
            path: memory.path,
            revision: Some(revision),
            commit,
            flags,
            quarantined: edited.is_quarantined(),
        })
    }

    /// Replaces the whole file of a memory with `text`, as `memdir edit` does after the editor
    /// closes, as one commit (`Memdir-Op: edit`). The new text must parse, keep the same id and
    /// use a configured type; otherwise nothing is written. With `expect`, fails with
    /// [`Error::Conflict`] if the memory changed since that revision.
    pub fn replace(
        &self,
        id: &str,
        text: &str,
        expect: Option<&str>,
        prov: &Provenance,
    ) -> Result<Written> {
        let lock = self.lock()?;
        self.catch_up(false, None, Some(&lock))?;
        let memory = self.find(id, Some(&lock))?;
        check_expected(&memory, expect)?;
        let revision = Store::revision_of(text.as_bytes());
        if revision == memory.revision {
            return Ok(Written {
                id: id.to_owned(),
                quarantined: memory.is_quarantined(),
                path: memory.path,
                revision: Some(revision),
                commit: None,
                ..Written::default()
            });
        }
        let edited = self
            .parse_file(&memory.path, text.as_bytes())
            .map_err(|p| Error::InvalidEdits { problems: vec![p] })?;
        if edited.front.id != memory.front.id {
            return Err(Error::invalid(format!(
                "the id cannot change in an edit (was `{}`, now `{}`): ids are never reused; add a new memory instead",
                memory.front.id, edited.front.id
            )));
        }
        let recent = self.recent_session_writes(prov)?;
        let rate = self.rate_flag(prov, recent, 1);
        let (text, flags) = self.guard_file(
            &memory.path,
            text,
            &edited,
            Some(&memory),
            rate.into_iter().collect(),
        )?;
        let revision = Store::revision_of(text.as_bytes());
        let edited = self
            .parse_file(&memory.path, text.as_bytes())
            .map_err(|p| Error::InvalidEdits { problems: vec![p] })?;
        let mut trailers = prov.trailers("edit", &[&edited.front.id]);
        trailers.extend(guard_trailer(flags.iter().map(|f| f.rule.as_str())));
        let message = CommitMessage {
            subject: format!("edit: {} ({})", edited.front.title, edited.front.id),
            body: None,
            trailers,
        };
        let commit =
            self.commit_one(&lock, &memory.path, Some(text.into_bytes()), &message, prov)?;
        Ok(Written {
            id: id.to_owned(),
            path: memory.path,
            revision: Some(revision),
            commit,
            flags,
            quarantined: edited.is_quarantined(),
        })
    }

    /// Removes a memory as one commit (`Memdir-Op: rm`, with `Memdir-Reason` when given). The
    /// file stays in git history.
    pub fn forget(&self, id: &str, reason: Option<&str>, prov: &Provenance) -> Result<Written> {
        let lock = self.lock()?;
        self.catch_up(false, None, Some(&lock))?;
        let memory = self.find(id, Some(&lock))?;
        let mut trailers = prov.trailers("rm", &[&memory.front.id]);
        if let Some(r) = reason {
            trailers.push(("Memdir-Reason".into(), r.to_owned()));
        }
        let message = CommitMessage {
            subject: format!("rm: {} ({})", memory.front.title, memory.front.id),
            body: reason.map(str::to_owned),
            trailers,
        };
        let commit = self.commit_one(&lock, &memory.path, None, &message, prov)?;
        Ok(Written {
            id: id.to_owned(),
            path: memory.path,
            revision: None,
            commit,
            ..Written::default()
        })
    }

    /// Commits every uncommitted change in the working tree as one `Memdir-Op: hand-edit`
    /// commit. Refuses (changing nothing) if an edited memory file or `memory.toml` is invalid.
    /// Returns `None` when there is nothing to commit.
    pub fn commit_hand_edits(
        &self,
        message: Option<&str>,
        prov: &Provenance,
    ) -> Result<Option<String>> {
        let lock = self.lock()?;
        let dirty = self.store().dirty_paths()?;
        if dirty.is_empty() {
            return Ok(None);
        }
        let mut problems = Vec::new();
        let mut indexed: Option<std::collections::HashMap<String, String>> = None;
        let mut ids = Vec::new();
        let mut guarded: Vec<(String, Vec<u8>, Memory)> = Vec::new();
        for path in &dirty {
            if path == CONFIG_FILE {
                if let Err(e) = Config::load(&self.root) {
                    problems.push(config_problem(&e));
                }
            } else if is_memory_path(path) {
                match self.read(path)? {
                    Some(bytes) => match self.parse_file(path, &bytes) {
                        Ok(m) => {
                            guarded.push((path.clone(), bytes, m.clone()));
                            ids.push(m.front.id);
                        }
                        Err(p) => problems.push(p),
                    },
                    None => {
                        // Listed once, however many files were removed.
                        if indexed.is_none() {
                            indexed = Some(
                                self.index
                                    .list(&Filter::default())?
                                    .into_iter()
                                    .map(|s| (s.path, s.id))
                                    .collect(),
                            );
                        }
                        let gone = indexed.as_ref().and_then(|m| m.get(path));
                        if let Some(id) = gone.and_then(|id| MemoryId::parse(id).ok()) {
                            ids.push(id);
                        }
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidEdits { problems });
        }
        // The guard reads what each edit adds; secrets are redacted in the working tree
        // before anything is committed, so they never reach git.
        let mut rules: Vec<String> = Vec::new();
        // HEAD's version of every edited file, each folder's tree read once.
        let paths: Vec<String> = guarded.iter().map(|(p, _, _)| p.clone()).collect();
        let heads = self.store().head_revisions(&paths)?;
        for ((path, bytes, edited), head) in guarded.iter().zip(heads) {
            let old = match head {
                Some(rev) => {
                    let b = self.store().blob(&rev.0)?;
                    parse::parse_memory(path, &b, rev).ok()
                }
                None => None,
            };
            let text = String::from_utf8_lossy(bytes);
            let (new_text, flags) =
                self.guard_file(path, &text, edited, old.as_ref(), Vec::new())?;
            if new_text.as_bytes() != bytes.as_slice() {
                crate::store::atomic_write(&self.root.join(path), new_text.as_bytes())?;
            }
            rules.extend(flags.into_iter().map(|f| f.rule));
        }
        let id_refs: Vec<&MemoryId> = ids.iter().collect();
        let subject = message
            .map(str::to_owned)
            .unwrap_or_else(|| match dirty.as_slice() {
                [one] => format!("hand-edit: {one}"),
                many => format!("hand-edit: {} files", many.len()),
            });
        let body = (dirty.len() > 1 || message.is_some()).then(|| {
            dirty
                .iter()
                .map(|p| format!("- {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        });
        let commit = self.store().commit_paths(
            dirty.iter().map(String::as_str),
            &CommitMessage {
                subject,
                body,
                trailers: {
                    let mut t = prov.trailers("hand-edit", &id_refs);
                    t.extend(guard_trailer(rules.iter().map(String::as_str)));
                    t
                },
            },
            prov.author.as_ref(),
        )?;
        self.catch_up(true, None, Some(&lock))?;
        Ok(commit.map(|c| c.0))
    }
    /// Commits `paths` as they are in the working tree (present files added, missing ones
    /// removed) as one commit with `Memdir-Op: <op>`, for files that are not memories (a
    /// session's turns). Returns `None` when they already are as HEAD has them.
    pub(crate) fn commit_worktree_files(
        &self,
        paths: &[String],
        subject: String,
        op: &str,
        prov: &Provenance,
    ) -> Result<Option<String>> {
        let lock = self.lock()?;
        let message = CommitMessage {
            subject,
            body: None,
            trailers: prov.trailers(op, &[]),
        };
        let commit = self.store().commit_paths(
            paths.iter().map(String::as_str),
            &message,
            prov.author.as_ref(),
        )?;
        self.catch_up(false, None, Some(&lock))?;
        Ok(commit.map(|c| c.0))
    }

    /// Writes (or with `None`, deletes) one file as one commit, then catches the index up.
    /// The caller holds `lock`.
    pub(super) fn commit_one(
        &self,
        lock: &WriteLock,
        path: &str,
        content: Option<Vec<u8>>,
        message: &CommitMessage,
        prov: &Provenance,
    ) -> Result<Option<String>> {
        let write = FileWrite {
            path: path.to_owned(),
            content,
        };
        let commit = self.commit_indexed(
            lock,
            std::slice::from_ref(&write),
            message,
            prov.author.as_ref(),
        )?;
        Ok(commit.map(|c| c.0))
    }
}

/// Fails unless `key` can be an extra front-matter key: a plain YAML key that is not one of
/// the fields memdir reads.
fn check_extra_key(key: &str) -> Result<()> {
    const KNOWN: &[&str] = &[
        "id",
        "title",
        "type",
        "tags",
        "scope",
        "created",
        "updated",
        "pinned",
        "expires",
        "source",
        QUARANTINE_KEY,
        SUPERSEDES_KEY,
    ];
    let plain = key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !plain || KNOWN.contains(&key) {
        return Err(Error::invalid(format!(
            "invalid extra front-matter key {key:?}: use ASCII letters, digits, `_` and `-`, and none of {}",
            KNOWN.join(", ")
        )));
    }
    Ok(())
}

/// Fails with [`Error::Conflict`] unless `memory` is at the `expect`ed revision (if any).
fn check_expected(memory: &Memory, expect: Option<&str>) -> Result<()> {
    match expect {
        Some(expected) if !memory.revision.matches(expected) => Err(Error::Conflict {
            id: memory.front.id.to_string(),
            expected: expected.to_owned(),
            actual: memory.revision.0.clone(),
        }),
        _ => Ok(()),
    }
}
