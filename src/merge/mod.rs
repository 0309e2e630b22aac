//! Memory-aware three-way merge: what two machines' versions of one file become.
//!
//! Pure logic, no I/O and no git: callers (`memdir sync`, the git merge driver `memdir
//! merge-file`) hand in the three texts and write what comes back. A memory's front-matter is
//! merged key by key ([`frontmatter`]); its body line by line with diff3 (the `diffy` crate,
//! the algorithm of `git merge-file`). The result is never a text with conflict markers: a
//! change both sides made differently is a [`Merged::Conflict`], which the caller settles by
//! keeping its own version and writing the other side's as a sibling memory
//! ([`conflict_sibling`]), quarantined until a person approves or rejects it.

use std::fmt::Write as _;

use crate::memory::{MemoryId, QUARANTINE_KEY};
use crate::parse::{self, Edit, FieldValue};

pub mod frontmatter;

/// The front-matter key naming the memory a conflict sibling is the other version of.
pub const CONFLICT_OF_KEY: &str = "conflict_of";

/// The guard rule recorded in a conflict sibling's `quarantine:` block.
pub const CONFLICT_RULE: &str = "sync.conflict";

/// What three versions of a file merge into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// One text holds both sides' changes.
    Clean(String),
    /// Both sides changed the same thing differently: what (front-matter keys, or `body`).
    Conflict(Vec<String>),
}

/// Merges two versions of a Markdown file with their common version (`base`; `None` when
/// both sides added the file).
///
/// A file with front-matter is merged key by key (see [`frontmatter::merge`]) and its body
/// with diff3; a file without is all body.
///
/// ```
/// use memdir::merge::{merge_text, Merged};
/// let base = "---\nid: a\ntags: [x]\n---\nOne.\n\nTwo.\n";
/// let ours = "---\nid: a\ntags: [x, mine]\n---\nOne!\n\nTwo.\n";
/// let theirs = "---\nid: a\ntags: [x, theirs]\n---\nOne.\n\nTwo!\n";
/// assert_eq!(
///     merge_text(Some(base), ours, theirs),
///     Merged::Clean("---\nid: a\ntags: [x, mine, theirs]\n---\nOne!\n\nTwo!\n".into())
/// );
/// let clash = "---\nid: a\ntags: [x]\n---\nOne?\n\nTwo.\n";
/// assert_eq!(merge_text(Some(base), ours, clash), Merged::Conflict(vec!["body".into()]));
/// ```
pub fn merge_text(base: Option<&str>, ours: &str, theirs: &str) -> Merged {
    if let Some(Some(same)) = frontmatter::pick(base, Some(ours), Some(theirs)) {
        return Merged::Clean(same.to_owned());
    }
    let (b, o, t) = (base.map(Parts::of), Parts::of(ours), Parts::of(theirs));
    let mut conflicts = Vec::new();
    let front = match (&o.front, &t.front) {
        (None, None) => None,
        _ => {
            let empty = frontmatter::Blocks::default();
            let side = |p: &Parts| p.front.clone().unwrap_or_else(|| empty.clone());
            let base_front = b.as_ref().map(side);
            match frontmatter::merge(base_front.as_ref(), &side(&o), &side(&t)) {
                Ok(blocks) => Some(frontmatter::join(&blocks)),
                Err(keys) => {
                    conflicts.extend(keys);
                    None
                }
            }
        }
    };
    let body = match diffy::merge(b.as_ref().map_or("", |b| b.body), o.body, t.body) {
        Ok(body) => Some(body),
        Err(_) => {
            conflicts.push("body".to_owned());
            None
        }
    };
    if !conflicts.is_empty() {
        return Merged::Conflict(conflicts);
    }
    let body = body.unwrap_or_default();
    Merged::Clean(match front {
        Some(yaml) => format!("---\n{yaml}---\n{body}"),
        None => body,
    })
}

/// A file cut at its front-matter block.
struct Parts<'a> {
    front: Option<frontmatter::Blocks>,
    body: &'a str,
}

impl<'a> Parts<'a> {
    fn of(text: &'a str) -> Parts<'a> {
        match parse::find_layout("", text) {
            Ok(Some(l)) => Parts {
                front: Some(frontmatter::split(&text[l.yaml.0..l.yaml.1])),
                body: &text[l.body_start..],
            },
            // No block, or an unclosed one: the whole file is body.
            _ => Parts {
                front: None,
                body: text,
            },
        }
    }
}

/// The other side's version of a memory in a true conflict, as a memory of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sibling {
    /// The sibling's id: the memory's id plus `-conflict-` and six hex digits of its text.
    pub id: MemoryId,
    /// Its path, beside the memory's: `<stem>-conflict-<hex>.md`.
    pub path: String,
    /// Its text: the other side's version with the new id, `conflict_of: ID` and a
    /// `quarantine:` block, so it is held out of search and context and listed by `memdir
    /// review` until `approve` (this version replaces the memory) or `reject` (it goes).
    pub text: String,
}

/// Returns the sibling memory that keeps `theirs`, the other side's version of the memory
/// `id` at `path`, beside the version kept in place. `what` names what conflicted.
///
/// ```
/// use memdir::merge::conflict_sibling;
/// use memdir::MemoryId;
/// let id = MemoryId::parse("tea-1a2b3c").unwrap();
/// let s = conflict_sibling(&id, "fact/tea.md", "---\nid: tea-1a2b3c\n---\nCoffee.\n", &["body".into()]).unwrap();
/// assert!(s.path.starts_with("fact/tea-conflict-") && s.id.as_str().starts_with("tea-1a2b3c-conflict-"));
/// assert!(s.text.contains("conflict_of: tea-1a2b3c\n") && s.text.contains("rule: sync.conflict"));
/// ```
pub fn conflict_sibling(
    id: &MemoryId,
    path: &str,
    theirs: &str,
    what: &[String],
) -> Result<Sibling, parse::ParseError> {
    let hex = short_hash(theirs);
    let suffix = format!("-conflict-{hex}");
    let mut stem: String = id.as_str().to_owned();
    stem.truncate(MemoryId::MAX_LEN - suffix.len());
    let sibling_id = MemoryId::parse(&format!("{}{suffix}", stem.trim_end_matches(['-', '.'])))?;
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let file_stem = file.strip_suffix(".md").unwrap_or(file);
    let sibling_path = if dir.is_empty() {
        format!("{file_stem}{suffix}.md")
    } else {
        format!("{dir}/{file_stem}{suffix}.md")
    };
    let with_front = match parse::find_layout(path, theirs) {
        Ok(Some(_)) => theirs.to_owned(),
        _ => format!("---\n---\n{theirs}"),
    };
    let why = format!(
        "Changed on two machines in ways that contradict ({}); this is the other machine's version of `{id}`. Approve to make it the memory, reject to drop it.",
        what.join(", ")
    );
    let mut block = String::new();
    let _ = writeln!(block, "  - rule: {CONFLICT_RULE}");
    let _ = writeln!(block, "    why: {}", parse::yaml_scalar(&why, false));
    let text = parse::edit(
        &sibling_path,
        &with_front,
        &Edit {
            fields: vec![
                ("id".into(), FieldValue::Text(sibling_id.to_string())),
                (CONFLICT_OF_KEY.into(), FieldValue::Text(id.to_string())),
                (QUARANTINE_KEY.into(), FieldValue::Block(block)),
            ],
            body: None,
        },
    )?;
    Ok(Sibling {
        id: sibling_id,
        path: sibling_path,
        text,
    })
}

/// Six hex digits naming a text (FNV-1a), for names that must differ when texts differ and
/// agree on every machine.
pub fn short_hash(text: &str) -> String {
    use std::hash::Hasher as _;
    let mut h = fnv::FnvHasher::default();
    h.write(text.as_bytes());
    format!("{:016x}", h.finish())[..6].to_owned()
}

/// Returns true if `text` holds a line git writes around a conflict (`<<<<<<< `, `=======`,
/// `>>>>>>> `, or diff3's `||||||| `).
pub fn has_conflict_markers(text: &str) -> bool {
    text.lines().any(|l| {
        l == "======="
            || ["<<<<<<< ", ">>>>>>> ", "||||||| "]
                .iter()
                .any(|m| l.starts_with(m))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_sided_changes_and_identical_changes_are_taken_as_they_are() {
        let b = "---\nid: a\n---\nx\n";
        let o = "---\nid: a\ntitle: hand-written order\n---\nx\n";
        assert_eq!(merge_text(Some(b), o, b), Merged::Clean(o.into()));
        assert_eq!(merge_text(Some(b), b, o), Merged::Clean(o.into()));
        assert_eq!(merge_text(Some(b), o, o), Merged::Clean(o.into()));
    }

    #[test]
    fn both_sides_adding_different_files_at_one_path_conflict() {
        assert_eq!(
            merge_text(None, "---\nid: a\n---\nx\n", "---\nid: a\n---\ny\n"),
            Merged::Conflict(vec!["body".into()])
        );
    }

    #[test]
    fn a_file_without_front_matter_merges_as_text() {
        let b = "one\ntwo\nthree\n";
        assert_eq!(
            merge_text(Some(b), "ONE\ntwo\nthree\n", "one\ntwo\nTHREE\n"),
            Merged::Clean("ONE\ntwo\nTHREE\n".into())
        );
    }

    #[test]
    fn a_sibling_keeps_the_other_text_and_is_quarantined() {
        let id = MemoryId::parse("tea-1a2b3c").unwrap();
        let theirs = "---\nid: tea-1a2b3c\ntitle: Tea\n---\nCoffee now.\n";
        let s = conflict_sibling(&id, "fact/tea.md", theirs, &["body".into()]).unwrap();
        let m =
            parse::parse_memory(&s.path, s.text.as_bytes(), crate::Revision("0".into())).unwrap();
        assert_eq!(m.front.id, s.id);
        assert!(m.is_quarantined());
        assert_eq!(m.quarantine()[0].rule, CONFLICT_RULE);
        assert_eq!(m.front.extra[CONFLICT_OF_KEY], "tea-1a2b3c");
        assert_eq!(m.body, "Coffee now.\n");
        // Plain Markdown gets a front-matter block.
        let s = conflict_sibling(&id, "tea.md", "Coffee.\n", &["body".into()]).unwrap();
        assert!(s.text.starts_with("---\nid: tea-1a2b3c-conflict-"));
        assert!(s.text.ends_with("---\nCoffee.\n"));
    }

    fn lines() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(
            prop_oneof!["[a-c]{1,3}", Just("<<<<<<< x".to_owned())],
            0..6,
        )
    }

    fn tags() -> impl Strategy<Value = Vec<String>> {
        prop::collection::btree_set("[a-d]", 0..4).prop_map(|s| s.into_iter().collect())
    }

    fn file(tags: &[String], title: &str, body: &[String]) -> String {
        let mut s = format!(
            "---\nid: m-1\ntitle: {title}\ntags: [{}]\n---\n",
            tags.join(", ")
        );
        for l in body {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    proptest! {
        /// Whatever the versions: merging is symmetric (both machines write the same bytes),
        /// a clean result adds no conflict marker that neither side had, and each side's
        /// tag additions survive.
        #[test]
        fn merges_are_symmetric_and_never_write_conflict_markers(
            bt in tags(), ot in tags(), tt in tags(),
            bb in lines(), ob in lines(), tb in lines(),
            oti in "[xy]", tti in "[xy]",
        ) {
            let b = file(&bt, "x", &bb);
            let o = file(&ot, &oti, &ob);
            let t = file(&tt, &tti, &tb);
            let one = merge_text(Some(&b), &o, &t);
            let two = merge_text(Some(&b), &t, &o);
            match (&one, &two) {
                (Merged::Clean(x), Merged::Clean(y)) => {
                    prop_assert_eq!(x, y);
                    let had = has_conflict_markers(&o) || has_conflict_markers(&t);
                    prop_assert!(had || !has_conflict_markers(x));
                    let m = parse::parse_memory("n/m.md", x.as_bytes(), crate::Revision("0".into()));
                    let m = m.expect("a merged memory parses");
                    for tag in ot.iter().chain(&tt).filter(|t| !bt.contains(t)) {
                        prop_assert!(m.front.tags.contains(tag), "lost tag {tag}");
                    }
                }
                (Merged::Conflict(_), Merged::Conflict(_)) => {}
                _ => prop_assert!(false, "asymmetric: {one:?} vs {two:?}"),
            }
        }

        /// A side that changed nothing never changes the result.
        #[test]
        fn merging_with_an_unchanged_side_is_the_other_side(
            bt in tags(), ot in tags(), bb in lines(), ob in lines(),
        ) {
            let b = file(&bt, "x", &bb);
            let o = file(&ot, "y", &ob);
            prop_assert_eq!(merge_text(Some(&b), &o, &b), Merged::Clean(o.clone()));
            prop_assert_eq!(merge_text(Some(&b), &b, &o), Merged::Clean(o.clone()));
        }
    }
}
