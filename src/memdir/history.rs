//! Provenance from git: the log of changes with their trailers, how one belief got here (its
//! versions and a line-by-line blame that follows it across renames), what changed between
//! two points by memory and field, snapshots, and reads `--at` a point in the past.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::timeline::{Point, Version};
use super::{Memdir, Provenance, is_memory_path};
use crate::index::{Filter, Hit, Summary};
use crate::memory::{Memory, Revision, Timestamp};
use crate::parse;
use crate::store::{CommitInfo, CommitMessage, TagInfo};
use crate::{Error, Result, SearchQuery};

/// One commit as `memdir log` shows it: what it did and who did it, from its trailers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Change {
    /// Full commit id.
    pub commit: String,
    /// `Memdir-Op` (`add`, `update`, `edit`, `rm`, `hand-edit`, `revert`...), or `commit` for
    /// a plain git commit without one.
    pub op: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date.
    pub date: Timestamp,
    /// `Memdir-Session`.
    pub session: Option<String>,
    /// `Memdir-Agent`.
    pub agent: Option<String>,
    /// `Memdir-Step`.
    pub step: Option<String>,
    /// First line of the message.
    pub subject: String,
    /// The memories the commit names (`Memdir-Id`).
    pub ids: Vec<String>,
    /// In one memory's log: what happened to it (`added`, `modified`, `renamed`, `removed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<&'static str>,
    /// In one memory's log: its path after the change (before it, for `removed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// In one memory's log: its path before, when the change moved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// In one memory's log: the content's revision after the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<Revision>,
}

impl Change {
    fn of(info: &CommitInfo) -> Change {
        let get = |k| info.trailer(k).map(str::to_owned);
        Change {
            commit: info.sha.clone(),
            op: get("Memdir-Op").unwrap_or_else(|| "commit".to_owned()),
            author: info.author.name.clone(),
            email: info.author.email.clone(),
            date: info.authored,
            session: get("Memdir-Session"),
            agent: get("Memdir-Agent"),
            step: get("Memdir-Step"),
            subject: info.subject.clone(),
            ids: info
                .trailers_named("Memdir-Id")
                .map(str::to_owned)
                .collect(),
            change: None,
            path: None,
            old_path: None,
            revision: None,
        }
    }
}

/// Who wrote one line of a memory's file, like a line of `git blame`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlameLine {
    /// 1-based line number in the file now.
    pub line: usize,
    /// The line's text.
    pub text: String,
    /// The commit that wrote it; `None` for an edit not committed yet.
    pub commit: Option<String>,
    /// Its author.
    pub author: Option<String>,
    /// Its author date.
    pub date: Option<Timestamp>,
    /// `Memdir-Session` of that commit.
    pub session: Option<String>,
    /// `Memdir-Agent` of that commit.
    pub agent: Option<String>,
    /// `Memdir-Step` of that commit.
    pub step: Option<String>,
}

/// How a belief got here, as `memdir why` shows it after its standing ([`crate::Why`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lineage {
    /// The change that first wrote it.
    pub origin: Option<Change>,
    /// Every change to it, newest first (the origin last).
    pub changes: Vec<Change>,
    /// Who wrote each line of its body.
    pub lines: Vec<BlameLine>,
}

/// What happened to one memory between two points.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct MemoryDiff {
    /// The memory.
    pub id: String,
    /// Its title (after; before, if removed).
    pub title: String,
    /// Its path (after; before, if removed).
    pub path: String,
    /// Its path before, when it moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// The fields that changed (front-matter keys and `body`), with old and new values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

/// One changed field.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct FieldChange {
    /// Front-matter key, or `body`.
    pub field: String,
    /// Value before (`null`: absent).
    pub old: serde_json::Value,
    /// Value after (`null`: absent).
    pub new: serde_json::Value,
}

/// Which changes [`Memdir::activity`] keeps; every field left `None` keeps all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    /// Only changes made by this agent (`Memdir-Agent`).
    pub agent: Option<String>,
    /// Only changes made in this session (`Memdir-Session`).
    pub session: Option<String>,
    /// Only changes of this op (`Memdir-Op`, or `commit` for a plain git commit).
    pub op: Option<String>,
    /// Only changes made at or after this time.
    pub since: Option<Timestamp>,
    /// Only changes made before this time.
    pub until: Option<Timestamp>,
}

impl ActivityFilter {
    /// Returns true if `change` passes the filter.
    pub fn keeps(&self, change: &Change) -> bool {
        let is = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| have == Some(w))
        };
        is(&self.agent, change.agent.as_deref())
            && is(&self.session, change.session.as_deref())
            && is(&self.op, Some(&change.op))
            && self.since.is_none_or(|t| change.date >= t)
            && self.until.is_none_or(|t| change.date < t)
    }
}

/// One commit as an auditor reads it (see [`Memdir::commit_view`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitView {
    /// What its trailers say: op, author, date, session, agent, step, subject, ids.
    pub change: Change,
    /// Its first parent (`None` for the first commit).
    pub parent: Option<String>,
    /// The whole message.
    pub message: String,
    /// Every `Key: value` trailer, in order (`Memdir-Guard` among them for a guarded write).
    pub trailers: Vec<(String, String)>,
    /// The beliefs it added, changed and removed.
    pub diff: BeliefDiff,
}

/// Beliefs added, changed and removed between two commits, by memory and field.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct BeliefDiff {
    /// The earlier commit.
    pub from: String,
    /// The later commit.
    pub to: String,
    /// Memories that exist only at `to`.
    pub added: Vec<MemoryDiff>,
    /// Memories whose fields, body or path differ.
    pub changed: Vec<MemoryDiff>,
    /// Memories that exist only at `from`.
    pub removed: Vec<MemoryDiff>,
}

impl Memdir {
    /// Returns the changes made to the repository, newest first: at most `limit` commits.
    pub fn log(&self, limit: usize) -> Result<Vec<Change>> {
        Ok(self.store().log(limit)?.iter().map(Change::of).collect())
    }

    /// Returns what was written, newest first, as [`Memdir::log`] does, keeping the changes
    /// `filter` passes, at most `limit` of them (looking at most at the newest 100,000 commits).
    pub fn activity(&self, filter: &ActivityFilter, limit: usize) -> Result<Vec<Change>> {
        Ok(self
            .log(100_000)?
            .into_iter()
            .filter(|c| filter.keeps(c))
            .take(limit)
            .collect())
    }

    /// Returns every change to memory `id`, newest first, found by content: memdir commits,
    /// hand edits committed with plain git, and renames of its file alike.
    pub fn log_of(&self, id: &str) -> Result<Vec<Change>> {
        let versions = self.versions(id)?;
        if versions.is_empty() {
            return Err(Error::NotFound { id: id.to_owned() });
        }
        self.changes(&versions)
    }

    /// Turns a memory's versions, oldest first, into its changes, newest first.
    fn changes(&self, versions: &[Version]) -> Result<Vec<Change>> {
        let mut infos: HashMap<String, CommitInfo> = HashMap::new();
        let mut event = |point: &Point,
                         change: &'static str,
                         v: &Version,
                         old_path: Option<&str>|
         -> Result<Change> {
            if !infos.contains_key(&point.commit) {
                let info = self.store().commit_info(&point.commit)?;
                infos.insert(point.commit.clone(), info);
            }
            let mut c = Change::of(&infos[&point.commit]);
            c.change = Some(change);
            c.path = Some(v.path.clone());
            c.old_path = old_path.map(str::to_owned);
            c.revision = (change != "removed").then(|| v.revision.clone());
            Ok(c)
        };
        let mut out = Vec::new();
        let mut prev: Option<&Version> = None;
        for v in versions {
            let kind = match prev {
                Some(p) if p.to.as_ref() == Some(&v.from) && p.path != v.path => {
                    if p.revision == v.revision {
                        "renamed"
                    } else {
                        "modified"
                    }
                }
                Some(p) if p.to.as_ref() == Some(&v.from) => "modified",
                Some(p) => {
                    // Removed, then written again later (or, while `to` is open, a second
                    // file claiming the same id).
                    if let Some(to) = &p.to {
                        out.push(event(to, "removed", p, None)?);
                    }
                    "added"
                }
                None => "added",
            };
            let old = prev.filter(|p| p.path != v.path && kind != "added");
            out.push(event(&v.from, kind, v, old.map(|p| p.path.as_str()))?);
            prev = Some(v);
        }
        if let Some(last) = prev
            && let Some(to) = &last.to
        {
            out.push(event(to, "removed", last, None)?);
        }
        out.reverse();
        Ok(out)
    }

    /// Returns how memory `id` got here: the change that first wrote it, every later change,
    /// and who wrote each line of its body (following the memory across renames, where
    /// `git blame` stops; an edit not yet committed shows as such).
    pub fn provenance(&self, id: &str) -> Result<Lineage> {
        let memory = self.get(id)?;
        let versions = self.versions(id)?;
        let changes = self.changes(&versions)?;
        let origin = changes.last().cloned();
        // Walk the versions HEAD's line of history holds, carrying each line's author along.
        let mut text: Vec<u8> = Vec::new();
        let mut owners: Vec<Option<String>> = Vec::new();
        let mut steps: Vec<(Vec<u8>, Option<String>)> = Vec::new();
        let mut start = 0;
        for (i, v) in versions.iter().enumerate() {
            if i > 0 && versions[i - 1].to.as_ref() != Some(&v.from) {
                start = steps.len(); // removed and written again: a new file
            }
            steps.push((
                self.store().blob(&v.revision.0)?,
                Some(v.from.commit.clone()),
            ));
        }
        let now = self.read(&memory.path)?.unwrap_or_default();
        let last_is_head = versions.last().is_some_and(|v| v.to.is_none());
        if !last_is_head || versions.last().map(|v| &v.revision) != Some(&memory.revision) {
            steps.push((now.clone(), None));
        }
        for (bytes, commit) in steps.drain(start..) {
            let origins = crate::store::line_origins(&text, &bytes);
            owners = origins
                .iter()
                .map(|o| match o {
                    Some(old) => owners.get(*old).cloned().flatten(),
                    None => commit.clone(),
                })
                .collect();
            text = bytes;
        }
        let mut infos: HashMap<String, Change> = HashMap::new();
        let mut lines = Vec::new();
        for (i, line) in String::from_utf8_lossy(&text).lines().enumerate() {
            let number = i + 1;
            // The body's lines, from its first non-blank one.
            if number < memory.body_line || (lines.is_empty() && line.trim().is_empty()) {
                continue;
            }
            let owner = owners.get(i).cloned().flatten();
            let c = match &owner {
                Some(sha) => {
                    if !infos.contains_key(sha) {
                        infos.insert(sha.clone(), Change::of(&self.store().commit_info(sha)?));
                    }
                    infos.get(sha)
                }
                None => None,
            };
            lines.push(BlameLine {
                line: number,
                text: line.to_owned(),
                commit: owner.clone(),
                author: c.map(|c| c.author.clone()),
                date: c.map(|c| c.date),
                session: c.and_then(|c| c.session.clone()),
                agent: c.and_then(|c| c.agent.clone()),
                step: c.and_then(|c| c.step.clone()),
            });
        }
        Ok(Lineage {
            origin,
            changes,
            lines,
        })
    }

    /// Resolves `spec` to a commit for [`Memdir::diff`]: any revision git knows, or a date.
    fn commit_of(&self, spec: &str) -> Result<String> {
        // (Bound first: a guard in the match would still hold the store inside `point`.)
        let resolved = self.store().resolve(spec)?;
        match resolved {
            Some(sha) => Ok(sha),
            None => Ok(self.point(spec)?.commit),
        }
    }

    /// Returns the beliefs added, changed and removed between `from` and `to` (HEAD when
    /// `None`), by memory id and field rather than by file.
    pub fn diff(&self, from: &str, to: Option<&str>) -> Result<BeliefDiff> {
        let from = self.commit_of(from)?;
        let to = match to {
            Some(spec) => self.commit_of(spec)?,
            None => self
                .store()
                .head()?
                .ok_or_else(|| Error::invalid("the repository has no commits yet"))?,
        };
        self.diff_commits(Some(from), to)
    }

    /// Returns one commit as an auditor reads it: its trailers and message, and the beliefs
    /// it added, changed and removed (against its first parent). `spec` is any revision git
    /// knows (a commit id or prefix, `HEAD~2`, a tag).
    pub fn commit_view(&self, spec: &str) -> Result<CommitView> {
        let resolved = self.store().resolve(spec)?;
        let sha = resolved.ok_or_else(|| {
            Error::invalid(format!("`{spec}` names no commit of this repository"))
        })?;
        let info = self.store().commit_info(&sha)?;
        let diff = self.diff_commits(info.parent.clone(), sha)?;
        Ok(CommitView {
            change: Change::of(&info),
            parent: info.parent.clone(),
            message: info.message.clone(),
            trailers: info.trailers.clone(),
            diff,
        })
    }

    /// [`Memdir::diff`] between two resolved commits; `from` is `None` for the root commit's
    /// parent (nothing).
    fn diff_commits(&self, from: Option<String>, to: String) -> Result<BeliefDiff> {
        let changes = self.store().changes(from.as_deref(), &to)?;
        let from = from.unwrap_or_default();
        let mut before: BTreeMap<String, Memory> = BTreeMap::new();
        let mut after: BTreeMap<String, Memory> = BTreeMap::new();
        for c in changes.iter().filter(|c| is_memory_path(&c.path)) {
            for (blob, side) in [(&c.old, &mut before), (&c.new, &mut after)] {
                if let Some(blob) = blob {
                    let bytes = self.store().blob(blob)?;
                    if let Ok(m) = parse::parse_memory(&c.path, &bytes, Revision(blob.clone())) {
                        side.insert(m.front.id.to_string(), m);
                    }
                }
            }
        }
        let mut diff = BeliefDiff {
            from,
            to,
            added: Vec::new(),
            changed: Vec::new(),
            removed: Vec::new(),
        };
        let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        for id in ids {
            let entry = |m: &Memory| MemoryDiff {
                id: id.clone(),
                title: m.front.title.clone(),
                path: m.path.clone(),
                old_path: None,
                fields: Vec::new(),
            };
            match (before.get(id), after.get(id)) {
                (Some(old), Some(new)) => {
                    let fields = field_changes(old, new);
                    if fields.is_empty() && old.path == new.path {
                        continue;
                    }
                    let mut e = entry(new);
                    e.fields = fields;
                    e.old_path = (old.path != new.path).then(|| old.path.clone());
                    diff.changed.push(e);
                }
                (None, Some(new)) => diff.added.push(entry(new)),
                (Some(old), None) => diff.removed.push(entry(old)),
                (None, None) => {}
            }
        }
        Ok(diff)
    }

    /// Names HEAD `name` (an annotated git tag) so `--at name` and `memdir diff name` can
    /// return to it. Returns the tag.
    pub fn snapshot(&self, name: &str, note: Option<&str>, prov: &Provenance) -> Result<TagInfo> {
        let message = CommitMessage {
            subject: format!("memdir snapshot {name}"),
            body: note.map(str::to_owned),
            trailers: prov.trailers("snapshot", &[]),
        };
        self.store()
            .create_tag(name, &message.render(), prov.author.as_ref())?;
        let tags = self.store().tags()?;
        Ok(tags
            .into_iter()
            .find(|t| t.name == name)
            .expect("the tag was just made"))
    }

    /// Returns the content of a revision (a blob id, as search hits, `[id@revision]`
    /// citations and `memdir log ID` give it), from git.
    pub fn blob(&self, revision: &Revision) -> Result<Vec<u8>> {
        Ok(self.store().blob(&revision.0)?)
    }

    /// Returns every snapshot (every tag that names a commit), sorted by name.
    pub fn snapshots(&self) -> Result<Vec<TagInfo>> {
        Ok(self.store().tags()?)
    }

    /// Returns memory `id` as it was at `at` (a revision, snapshot or date, see
    /// [`Memdir::point`]).
    pub fn get_at(&self, id: &str, at: &str) -> Result<(Point, Memory)> {
        let point = self.point(at)?;
        let versions = self.versions(id)?;
        if versions.is_empty() {
            return Err(Error::NotFound { id: id.to_owned() });
        }
        let v = versions
            .iter()
            .find(|v| {
                v.from.position <= point.position
                    && v.to.as_ref().is_none_or(|t| t.position > point.position)
            })
            .ok_or_else(|| {
                Error::invalid(format!(
                    "memory `{id}` did not exist at {at} (commit {}): `memdir log {id}` shows when it did",
                    &point.commit[..12]
                ))
            })?;
        let bytes = self.store().blob(&v.revision.0)?;
        let memory = parse::parse_memory(&v.path, &bytes, v.revision.clone())?;
        Ok((point, memory))
    }

    /// Lists the memories that existed at `at` and pass `filter` (held-out memories are
    /// judged as they stood then: expiry against that commit's time).
    pub fn list_at(&self, filter: &Filter, at: &str) -> Result<(Point, Vec<Summary>)> {
        let (index, point) = self.at(at)?;
        let filter = self.filter_at(filter, &point);
        Ok((point, index.list(&filter)?))
    }

    /// Searches what the agent believed at `at`: the versions valid then, scored as present
    /// search scores memories now. A filter on one index, not a rebuild.
    pub fn search_at(&self, query: &SearchQuery, at: &str) -> Result<(Point, Vec<Hit>)> {
        let (index, point) = self.at(at)?;
        let filter = self.filter_at(&query.filter, &point);
        let limit = query.limit.unwrap_or(self.config.search.limit);
        let per_memory = query.per_memory.unwrap_or(1).max(1);
        let hits = index.search(&query.text, &filter, limit, per_memory)?;
        Ok((point, hits))
    }

    fn filter_at(&self, filter: &Filter, point: &Point) -> Filter {
        Filter {
            at: Some(point.position),
            now: Some(filter.now.unwrap_or(point.committed)),
            ..filter.clone()
        }
    }
}

/// Returns the fields that differ between two versions of a memory: front-matter keys (as
/// JSON values) and `body`.
pub(super) fn field_changes(old: &Memory, new: &Memory) -> Vec<FieldChange> {
    let map = |m: &Memory| -> serde_json::Map<String, serde_json::Value> {
        let mut map = match serde_json::to_value(&m.front) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        map.insert(
            "body".into(),
            m.body.trim_start_matches('\n').trim_end().into(),
        );
        map
    };
    let (a, b) = (map(old), map(new));
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| FieldChange {
            field: k.clone(),
            old: a.get(k).cloned().unwrap_or_default(),
            new: b.get(k).cloned().unwrap_or_default(),
        })
        .collect()
}
