//! Writes: add, update, replace, forget and committing hand edits. Each takes the write lock,
//! validates before touching anything, writes and commits through the store as exactly one
//! commit with provenance trailers, then catches the index up.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use super::guarded::{guard_fields, guard_trailer, merge_notes, quarantine_block};
use super::{
    ATTRIBUTES_FILE, Committed, Memdir, NewMemory, OVERVIEW_FILE, Provenance, Update, Written,
    is_memory_path,
};
use crate::config::CONFIG_FILE;
use crate::guard::Flag;
use crate::lock::WriteLock;
use crate::memory::{
    DERIVED_FROM_KEY, FrontMatter, Memory, MemoryId, QUARANTINE_KEY, SUPERSEDES_KEY, SourceRef,
    Timestamp,
};
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
            self.judge(),
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
        // A title given is written into the file; without one, the file has none, and its
        // title follows its text wherever it is shown (see `parse::parse_memory`).
        let title = new
            .title
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        if title.as_deref().is_some_and(|t| t.contains(['\n', '\r'])) {
            return Err(Error::invalid("the title must be one line"));
        }
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
        if !new.derived_from.is_empty() {
            let mut entries: Vec<serde_json::Value> = Vec::new();
            for source in &new.derived_from {
                let entry = self.pinned_source(source, taken)?.to_string().into();
                if !entries.contains(&entry) {
                    entries.push(entry);
                }
            }
            extra.insert(DERIVED_FROM_KEY.into(), serde_json::Value::Array(entries));
        }
        // An id is a handle, not content: a few words of a title given, else the type, then
        // a short suffix. A file is named by its title, else by its id.
        let slug = title.as_deref().map(parse::slugify);
        let explicit = new.id.is_some();
        let id = match new.id {
            Some(id) => id,
            None => self.new_id(&id_stem(slug.as_deref(), &kind))?,
        };
        // A name in use (by another memory, a hand-written file, or a copy) gets the id
        // instead, then a number.
        let free = |path: &String| {
            !taken.paths.contains(path) && self.root.join(path).symlink_metadata().is_err()
        };
        let mut path = format!("{kind}/{}.md", slug.as_deref().unwrap_or(id.as_str()));
        if !free(&path) {
            path = format!("{kind}/{id}.md");
        }
        let mut n = 2;
        while !free(&path) {
            path = format!("{kind}/{id}-{n}.md");
            n += 1;
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
            title: title.unwrap_or_default(),
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

    /// Returns `source` as a new memory records it: a memory named without a revision at
    /// its revision now (short, as a citation). A memory named must exist (or be written in
    /// the same commit, and then it is named as given); a revision given must be one git
    /// holds for it.
    fn pinned_source(&self, source: &SourceRef, taken: &Taken) -> Result<SourceRef> {
        let SourceRef::Memory { id, revision } = source else {
            return Ok(source.clone());
        };
        if taken.ids.contains_key(id.as_str()) {
            return Ok(source.clone());
        }
        let memory = self.get(id.as_str())?;
        match revision {
            None => Ok(SourceRef::Memory {
                id: id.clone(),
                revision: Some(memory.revision.short().to_owned()),
            }),
            Some(rev) if memory.revision.matches(rev) => Ok(source.clone()),
            Some(rev) if self.store().blob_by_prefix(rev)?.is_some() => Ok(source.clone()),
            Some(rev) => Err(Error::invalid(format!(
                "`{id}@{rev}`: git holds no version {rev} of `{id}` (it is at {} now); name a revision from `memdir log {id}` or a context citation, or leave it out for the current one",
                memory.revision.short()
            ))),
        }
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
        // Imports and consolidations are bulk writes by design: the rate rule is for writes
        // an agent makes.
        let recent = if matches!(op, "import" | "consolidate") {
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
        let mut written = Vec::with_capacity(prepared.len());
        for (m, _, flags) in prepared {
            // An import is a bulk write of what another tool kept: it is not compared.
            let similar = if op == "import" {
                Vec::new()
            } else {
                self.similar_after_write(&m)?
            };
            written.push(Written {
                id: m.front.id.to_string(),
                quarantined: m.is_quarantined(),
                path: m.path,
                revision: Some(m.revision),
                commit: commit.as_ref().map(|c| c.0.clone()),
                flags,
                similar,
            });
        }
        Ok(written)
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
                // A title once cut from the text (as memdir did before titles followed the
                // text) would go stale: it is dropped, and the title follows the new text.
                if update.title.is_none() && !memory.derived.title && title_was_cut(&memory) {
                    edit.fields.push(("title".into(), FieldValue::Remove));
                }
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
        let text = self.stamped_text(&memory, &text)?;
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
            similar: self.similar_after_write(&edited)?,
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
        // A file without an id of its own gets the one it was found by (unless the edit
        // wrote a different one, which is refused below).
        let stamped;
        let text = if memory.derived.id {
            let before = self.read(&memory.path)?.unwrap_or_default();
            let claimed = parse::front_matter_id(text.as_bytes());
            if claimed.is_none() || claimed == parse::front_matter_id(&before) {
                stamped = self.stamped_text(&memory, text)?;
                stamped.as_str()
            } else {
                text
            }
        } else {
            text
        };
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
            similar: self.similar_after_write(&edited)?,
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
    /// commit (see [`Memdir::commit_all`]). Returns `None` when there is nothing to commit.
    pub fn commit_hand_edits(
        &self,
        message: Option<&str>,
        prov: &Provenance,
    ) -> Result<Option<String>> {
        Ok(self.commit_all(message, prov)?.commit)
    }

    /// Commits every uncommitted change in the working tree as one `Memdir-Op: hand-edit`
    /// commit, first writing ids into the memory files that have none of their own (new
    /// files, files committed with plain git, copies of another memory's file: see
    /// [`Memdir::stamp_ids`]).
    ///
    /// Refuses, changing nothing, if any file it would commit has a problem `memdir check`
    /// reports ([`Error::InvalidEdits`]), or if it would delete or break `memory.toml`,
    /// `MEMORY.md` or `.gitattributes` ([`Error::Protected`]).
    pub fn commit_all(&self, message: Option<&str>, prov: &Provenance) -> Result<Committed> {
        let lock = self.lock()?;
        self.commit_locked(&lock, message, prov, false)
    }

    /// Writes ids into the memory files that have none of their own, and commits those files
    /// (`Memdir-Op: stamp`): files written or copied by hand and committed with plain git, or
    /// not committed yet. An id so written is the one the file already had, derived from its
    /// path, so nothing that named it breaks, and it no longer changes when the file moves.
    /// Does nothing when `stamp_ids = false` in `memory.toml`.
    pub fn stamp_ids(&self, prov: &Provenance) -> Result<Committed> {
        let lock = self.lock()?;
        self.commit_locked(&lock, None, prov, true)
    }

    fn commit_locked(
        &self,
        lock: &WriteLock,
        message: Option<&str>,
        prov: &Provenance,
        only_unstamped: bool,
    ) -> Result<Committed> {
        self.catch_up(true, None, Some(lock))?;
        let unstamped = if self.config.memory.stamp_ids {
            self.unstamped_paths()?
        } else {
            Vec::new()
        };
        let dirty = if only_unstamped {
            Vec::new()
        } else {
            self.store().dirty_paths()?
        };
        let mut paths: Vec<String> = dirty.clone();
        paths.extend(unstamped.iter().cloned());
        paths.sort();
        paths.dedup();
        if paths.is_empty() {
            return Ok(Committed::default());
        }
        let mut problems = Vec::new();
        let mut ids = Vec::new();
        let mut memories: Vec<Memory> = Vec::new();
        // The id each file carries itself, to tell copies (whose id another file holds).
        let mut claimed: BTreeMap<String, String> = BTreeMap::new();
        let mut protected: Vec<(String, Option<Vec<u8>>)> = Vec::new();
        // Removed memory files: their ids are read from HEAD's version.
        let mut gone: Vec<String> = Vec::new();
        for path in &paths {
            if [CONFIG_FILE, OVERVIEW_FILE, ATTRIBUTES_FILE].contains(&path.as_str()) {
                protected.push((path.clone(), self.read(path)?));
                continue;
            }
            if !is_memory_path(path) {
                continue;
            }
            match self.check_file(path)? {
                Ok(Some(m)) => {
                    if let Some(bytes) = self.read(path)? {
                        claimed.extend(parse::front_matter_id(&bytes).map(|id| (path.clone(), id)));
                    }
                    memories.push(m);
                }
                Ok(None) => gone.push(path.clone()),
                Err(found) => problems.extend(found),
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidEdits { problems });
        }
        let heads = self.store().head_revisions(&gone)?;
        for (path, head) in gone.iter().zip(heads) {
            if let Some(rev) = head {
                let blob = self.store().blob(&rev.0)?;
                let id = parse::front_matter_id(&blob)
                    .and_then(|id| MemoryId::parse(&id).ok())
                    .unwrap_or_else(|| parse::path_id(path));
                ids.push(id);
            }
        }
        self.check_protected(
            "commit these hand edits",
            protected.iter().map(|(p, c)| (p.as_str(), c.as_deref())),
        )?;
        self.settle_ids(&mut memories, Some(&paths))?;
        let copies: BTreeMap<String, String> = memories
            .iter()
            .filter(|m| m.derived.id)
            .filter_map(|m| {
                let old = claimed.get(&m.path)?;
                (old != m.front.id.as_str()).then(|| (m.path.clone(), old.clone()))
            })
            .collect();
        let refs: Vec<&Memory> = memories.iter().collect();
        let stamped = self.stamp_files(&refs, &copies)?;
        ids.extend(memories.iter().map(|m| m.front.id.clone()));
        // The guard reads what each edit adds; secrets are redacted in the working tree
        // before anything is committed, so they never reach git.
        let mut rules: Vec<String> = Vec::new();
        let mut guarded: Vec<(String, Vec<u8>, Memory)> = Vec::new();
        for m in &memories {
            let Some(bytes) = self.read(&m.path)? else {
                continue;
            };
            let mut edited = match self.parse_file(&m.path, &bytes) {
                Ok(e) => e,
                Err(p) => return Err(Error::InvalidEdits { problems: vec![p] }),
            };
            edited.front.id = m.front.id.clone();
            guarded.push((m.path.clone(), bytes, edited));
        }
        // HEAD's version of every edited file, each folder's tree read once.
        let guarded_paths: Vec<String> = guarded.iter().map(|(p, _, _)| p.clone()).collect();
        let heads = self.store().head_revisions(&guarded_paths)?;
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
        let only_stamps = dirty.is_empty();
        let op = if only_stamps { "stamp" } else { "hand-edit" };
        let subject = message.map(str::to_owned).unwrap_or_else(|| {
            match (paths.as_slice(), memories.as_slice()) {
                (_, _) if only_stamps => match stamped.as_slice() {
                    [one] => format!("stamp: id of {}", one.path),
                    many => format!("stamp: ids of {} files", many.len()),
                },
                ([_], [m]) => format!("{op}: {} ({})", m.front.title, m.front.id),
                ([one], _) => format!("{op}: {one}"),
                (many, _) => format!("{op}: {} files", many.len()),
            }
        });
        let mut body_lines: Vec<String> = Vec::new();
        if paths.len() > 1 || message.is_some() {
            body_lines.extend(paths.iter().map(|p| format!("- {p}")));
        }
        if !stamped.is_empty() && !only_stamps {
            body_lines.push(String::new());
            body_lines.extend(stamped.iter().map(|s| format!("Stamped {s}.")));
        }
        let body = (!body_lines.is_empty()).then(|| body_lines.join("\n"));
        let commit = self.store().commit_paths(
            paths.iter().map(String::as_str),
            &CommitMessage {
                subject,
                body,
                trailers: {
                    let mut t = prov.trailers(op, &id_refs);
                    t.extend(guard_trailer(rules.iter().map(String::as_str)));
                    t
                },
            },
            prov.author.as_ref(),
        )?;
        self.catch_up(true, None, Some(lock))?;
        Ok(Committed {
            commit: commit.map(|c| c.0),
            stamped,
        })
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

    /// Returns the text of `memory`'s file ready for an edit: with its id written in when the
    /// file has none of its own (and `stamp_ids` is on), and with a front-matter block.
    fn stamped_text(&self, memory: &Memory, text: &str) -> Result<String> {
        if memory.derived.id && self.config.memory.stamp_ids {
            return Ok(parse::stamp(
                &memory.path,
                text,
                &memory.front.id,
                Timestamp::now(),
            )?);
        }
        Ok(match parse::find_layout(&memory.path, text)? {
            Some(_) => text.to_owned(),
            None => format!("---\n---\n{text}"),
        })
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

/// Returns true if the memory's `title:` is what memdir once cut from its text's first line,
/// rather than a title somebody chose.
fn title_was_cut(memory: &Memory) -> bool {
    let first = memory.body.lines().map(str::trim).find(|l| !l.is_empty());
    first.and_then(parse::derive_title).as_deref() == Some(memory.front.title.as_str())
}

/// Returns the words an id starts with: the first three words of a title's slug, else the
/// type.
///
/// ```text
/// id_stem(Some("prefers-dark-mode-in-every-editor"), "preference") == "prefers-dark-mode"
/// id_stem(None, "fact") == "fact"
/// ```
fn id_stem(slug: Option<&str>, kind: &str) -> String {
    match slug {
        Some(slug) => slug.split('-').take(3).collect::<Vec<_>>().join("-"),
        None => kind.to_owned(),
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
