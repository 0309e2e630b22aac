//! What changed in the working tree since memdir last looked, found by comparing each file's
//! `stat` with a cache, the way git's index does, but without git's per-file overhead.
//!
//! [`scan`] lists the memory files (never following symlinks, skipping hidden folders) and
//! stats them, each folder a task and every core at work ([`stat_tree`]); [`compare`] returns
//! the paths whose size, modification time, change time or inode differ from the
//! [`StatCache`], plus the paths that disappeared. Whether a changed file really differs from
//! HEAD is the caller's business (it hashes the few candidates); this module only makes sure
//! that an unchanged `stat` can be trusted.
//!
//! *Racy* entries: a file modified in the same clock tick as the scan that recorded it could be
//! modified again without its `stat` changing. Entries whose modification time is within
//! [`RACY_WINDOW`] of the scan are stored as racy and reported as candidates by every later
//! scan until they age out, as git does for entries newer than its index file.

use std::collections::HashMap;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How recent a modification must be, relative to the scan, for its `stat` to be distrusted.
pub const RACY_WINDOW: Duration = Duration::from_secs(2);

/// The cache format; a file of another version is ignored (and rebuilt).
const VERSION: u32 = 1;

/// The identity of a file's contents as `stat` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
    /// Modified too close to the scan to be trusted: always a candidate.
    racy: bool,
}

impl Stat {
    fn of(meta: &std::fs::Metadata, scan_time_ns: i128) -> Stat {
        let mtime_ns = meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128;
        Stat {
            size: meta.size(),
            mtime_ns,
            ctime_ns: meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
            ino: meta.ino(),
            racy: mtime_ns + RACY_WINDOW.as_nanos() as i128 >= scan_time_ns,
        }
    }
}

/// The `stat` of every memory file at the last scan, by path relative to the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatCache {
    version: u32,
    entries: HashMap<String, Stat>,
}

impl Default for StatCache {
    fn default() -> StatCache {
        StatCache {
            version: VERSION,
            entries: HashMap::new(),
        }
    }
}

/// What a [`scan`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Files that are new, changed, or racy since the cache, sorted.
    pub changed: Vec<String>,
    /// Files in the cache that are gone, sorted.
    pub deleted: Vec<String>,
    /// How the cache must change to reflect this scan (`None`: forget the path); empty when
    /// every `stat` matched. Apply with [`StatCache::apply_all`], persist with
    /// [`StatCache::journal`].
    pub updates: Vec<(String, Option<Stat>)>,
}

impl Scan {
    /// Returns true when the scan saw something the cache does not hold, so the cache is
    /// worth updating.
    pub fn cache_changed(&self) -> bool {
        !self.updates.is_empty()
    }

    /// Records what `stat`, found now for `path`, says against `old`, the cached one: an
    /// update if they differ, a candidate if they differ or the file is racy.
    fn compare(&mut self, path: &str, old: Option<&Stat>, stat: Stat) {
        if old != Some(&stat) {
            self.updates.push((path.to_owned(), Some(stat)));
        }
        if stat.racy || old != Some(&stat) {
            self.changed.push(path.to_owned());
        }
    }
}

/// The file holding the cache as of the last scan, in the folder given to [`StatCache::load`].
const CACHE_FILE: &str = "stat-cache";
/// The file of changes recorded since: one length-prefixed record per changed path.
const JOURNAL_FILE: &str = "stat-journal";
/// Past this size, recording saves the whole cache instead of growing the journal.
const MAX_JOURNAL_BYTES: u64 = 4 << 20;

impl StatCache {
    /// Reads the cache saved in `dir`, plus the changes journaled since; `None` when there is
    /// no cache, or it is unreadable or of another version. A torn journal record (a crash in
    /// the middle of an append) ends the replay; whatever it missed is found by the next scan.
    pub fn load(dir: &Path) -> Option<StatCache> {
        let path = dir.join(CACHE_FILE);
        let bytes = std::fs::read(&path).ok()?;
        let mut cache = match postcard::from_bytes::<StatCache>(&bytes) {
            Ok(cache) if cache.version == VERSION => cache,
            _ => {
                tracing::debug!("ignoring stat cache {} (unreadable or old)", path.display());
                return None;
            }
        };
        let journal = std::fs::read(dir.join(JOURNAL_FILE)).unwrap_or_default();
        let mut rest = &journal[..];
        while let Some((len, tail)) = rest.split_first_chunk::<4>() {
            let len = u32::from_le_bytes(*len) as usize;
            let Some(record) = tail.get(..len) else { break };
            let Ok((path, stat)) = postcard::from_bytes::<(String, Option<Stat>)>(record) else {
                break;
            };
            cache.apply(path, stat);
            rest = &tail[len..];
        }
        Some(cache)
    }

    /// Saves the cache atomically in `dir` and empties the journal. No fsync: the cache is a
    /// hint, rebuilt when lost. The caller holds the write lock.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let bytes = postcard::to_stdvec(self).map_err(std::io::Error::other)?;
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".stat-cache-")
            .tempfile_in(dir)?;
        tmp.write_all(&bytes)?;
        tmp.persist(dir.join(CACHE_FILE)).map_err(|e| e.error)?;
        match std::fs::remove_file(dir.join(JOURNAL_FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Deletes the cache saved in `dir` and its journal (they name every memory file's path).
    /// The caller holds the write lock.
    pub fn remove(dir: &Path) -> std::io::Result<()> {
        for name in [CACHE_FILE, JOURNAL_FILE] {
            match std::fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Stats `paths` (relative to `root`) now, records them in this cache and appends them to
    /// the journal in `dir`, so that every process sees them (a file memdir wrote and a person
    /// then deleted must be missed by no one). The caller holds the write lock.
    pub fn record(&mut self, root: &Path, dir: &Path, paths: &[String]) -> std::io::Result<()> {
        let now = scan_time_ns();
        let mut updates = Vec::with_capacity(paths.len());
        for path in paths {
            let stat = match std::fs::symlink_metadata(root.join(path)) {
                Ok(meta) => Some(Stat::of(&meta, now)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
            updates.push((path.clone(), stat));
        }
        self.apply_all(updates.iter().cloned());
        self.journal(dir, &updates)
    }

    /// Persists `updates`, already applied to this cache, in `dir`: appended to the journal,
    /// or by saving the whole cache when there is no saved cache to journal against or the
    /// journal has grown large. The caller holds the write lock.
    pub fn journal(&self, dir: &Path, updates: &[(String, Option<Stat>)]) -> std::io::Result<()> {
        if updates.is_empty() {
            return Ok(());
        }
        if !dir.join(CACHE_FILE).exists() || updates.len() > self.entries.len() / 4 {
            return self.save(dir);
        }
        let mut frames = Vec::new();
        for update in updates {
            let record = postcard::to_stdvec(update).map_err(std::io::Error::other)?;
            frames.extend_from_slice(&(record.len() as u32).to_le_bytes());
            frames.extend_from_slice(&record);
        }
        let mut journal = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(JOURNAL_FILE))?;
        if journal.metadata()?.len() > MAX_JOURNAL_BYTES {
            drop(journal);
            return self.save(dir);
        }
        journal.write_all(&frames)
    }

    /// Applies what a [`scan`] or a write found.
    pub fn apply_all(&mut self, updates: impl IntoIterator<Item = (String, Option<Stat>)>) {
        for (path, stat) in updates {
            self.apply(path, stat);
        }
    }

    fn apply(&mut self, path: String, stat: Option<Stat>) {
        match stat {
            Some(s) => self.entries.insert(path, s),
            None => self.entries.remove(&path),
        };
    }

    /// Returns how many files the cache knows.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns true when the cache knows no file.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn scan_time_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as i128
}

/// Stats every file under `root` that `wanted` accepts (by relative path with `/`), in
/// parallel, and compares each with `cache`, which it leaves as it is: the caller applies
/// [`Scan::updates`] once it has acted on the scan, so a failure in between loses nothing.
///
/// Hidden entries (names starting with `.`) are skipped; symlinks are reported by their own
/// `stat`, never followed. The cost is one `stat` per file and no allocation per unchanged
/// file beyond its path.
pub fn scan(
    root: &Path,
    cache: &StatCache,
    wanted: impl Fn(&str) -> bool + Sync,
) -> std::io::Result<Scan> {
    Ok(compare(cache, stat_tree(root, &wanted)?))
}

/// The `stat` of every file under `root` that `wanted` accepts, by relative path: what
/// [`compare`] compares with a cache, found with no cache at hand (so that loading one can go
/// on beside it).
///
/// Each folder is read and its files stat'ed as one task, folders side by side on every core
/// (and the files of a large folder split between them): reading a folder is as costly as
/// stat'ing its files, so both are spread.
pub fn stat_tree(
    root: &Path,
    wanted: &(impl Fn(&str) -> bool + Sync),
) -> std::io::Result<Vec<(String, Stat)>> {
    let scan_time_ns = scan_time_ns();
    stat_folder(String::new(), root.to_owned(), wanted, scan_time_ns)
}

fn stat_folder(
    rel: String,
    dir: PathBuf,
    wanted: &(impl Fn(&str) -> bool + Sync),
    scan_time_ns: i128,
) -> std::io::Result<Vec<(String, Stat)>> {
    let (files, folders) = read_folder(&rel, &dir, wanted)?;
    let (stats, nested) = rayon::join(
        || {
            files
                .into_par_iter()
                .filter_map(|(path, entry)| match entry.metadata() {
                    Ok(meta) => Some(Ok((path, Stat::of(&meta, scan_time_ns)))),
                    // Removed between readdir and stat: it is gone.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<std::io::Result<Vec<_>>>()
        },
        || {
            folders
                .into_par_iter()
                .map(|(rel, dir)| stat_folder(rel, dir, wanted, scan_time_ns))
                .collect::<std::io::Result<Vec<_>>>()
        },
    );
    let mut stats = stats?;
    stats.extend(nested?.into_iter().flatten());
    Ok(stats)
}

/// Compares the `stat`s of a [`stat_tree`] with `cache`, which it leaves as it is.
pub fn compare(cache: &StatCache, stats: Vec<(String, Stat)>) -> Scan {
    let mut found = Scan::default();
    let mut known = 0;
    let mut listed = Vec::with_capacity(stats.len());
    for (path, stat) in stats {
        let old = cache.entries.get(&path);
        known += usize::from(old.is_some());
        found.compare(&path, old, stat);
        listed.push(path);
    }
    // Every cached path was listed again: nothing was deleted, no need to look.
    if known < cache.entries.len() {
        let listed: std::collections::HashSet<&str> = listed.iter().map(String::as_str).collect();
        found.deleted = cache
            .entries
            .keys()
            .filter(|p| !listed.contains(p.as_str()))
            .cloned()
            .collect();
        found.deleted.sort();
        let gone = found.deleted.iter().map(|p| (p.clone(), None));
        found.updates.extend(gone);
    }
    found.changed.sort();
    found
}

/// Like [`scan`], but stats only `paths` (relative to `root`): what a file watcher saw change.
/// A path that is gone is reported deleted if the cache knew it.
pub fn scan_paths(root: &Path, cache: &StatCache, paths: &[String]) -> std::io::Result<Scan> {
    let scan_time_ns = scan_time_ns();
    let mut found = Scan::default();
    for path in paths {
        let old = cache.entries.get(path);
        match std::fs::symlink_metadata(root.join(path)) {
            Ok(meta) => {
                found.compare(path, old, Stat::of(&meta, scan_time_ns));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if old.is_some() {
                    found.deleted.push(path.clone());
                    found.updates.push((path.clone(), None));
                }
            }
            Err(e) => return Err(e),
        }
    }
    found.changed.sort();
    found.changed.dedup();
    found.deleted.sort();
    found.deleted.dedup();
    Ok(found)
}

/// Returns the relative path of every wanted file under `root` (regular files and symlinks,
/// never followed; hidden entries skipped), sorted.
pub fn files(root: &Path, wanted: impl Fn(&str) -> bool + Sync) -> std::io::Result<Vec<String>> {
    let mut paths: Vec<String> = list(root, &wanted)?.into_iter().map(|(p, _)| p).collect();
    paths.sort();
    Ok(paths)
}

/// Lists `(relative path, entry)` for every wanted file under `root`.
fn list(root: &Path, wanted: &(impl Fn(&str) -> bool + Sync)) -> std::io::Result<Files> {
    let mut out = Vec::new();
    let mut stack: Folders = vec![(String::new(), root.to_owned())];
    while let Some((rel, dir)) = stack.pop() {
        let (files, folders) = read_folder(&rel, &dir, wanted)?;
        out.extend(files);
        stack.extend(folders);
    }
    Ok(out)
}

/// Files found, by relative path.
type Files = Vec<(String, std::fs::DirEntry)>;
/// Folders found, by relative path and path.
type Folders = Vec<(String, PathBuf)>;

/// A folder's wanted files and the folders in it; `rel` is the folder's own relative path.
fn read_folder(
    rel: &str,
    dir: &Path,
    wanted: &(impl Fn(&str) -> bool + Sync),
) -> std::io::Result<(Files, Folders)> {
    // Name the folder in the error: io::Error alone does not say where.
    let at = |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display()));
    let (mut files, mut folders) = (Vec::new(), Vec::new());
    for entry in std::fs::read_dir(dir).map_err(at)? {
        let entry = entry.map_err(at)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        let path = if rel.is_empty() {
            name.to_owned()
        } else {
            format!("{rel}/{name}")
        };
        let kind = entry.file_type().map_err(at)?;
        if kind.is_dir() {
            folders.push((path, entry.path()));
        } else if (kind.is_file() || kind.is_symlink()) && wanted(&path) {
            files.push((path, entry));
        }
    }
    Ok((files, folders))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(p: &str) -> bool {
        p.ends_with(".md")
    }

    /// Scans and applies the scan's updates to `cache`, as a caller does once it acted.
    fn rescan(root: &Path, cache: &mut StatCache) -> Scan {
        let found = scan(root, cache, md).unwrap();
        cache.apply_all(found.updates.clone());
        found
    }

    #[test]
    fn the_stat_tree_holds_every_wanted_file_at_every_depth_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut expected = vec!["top.md".to_owned(), "note/deep/deeper/b.md".to_owned()];
        expected.extend((0..300).map(|i| format!("fact/{i:03}.md")));
        let ignored = ["fact/c.txt", ".git/x.md", "note/.hid/y.md"].map(String::from);
        for path in expected.iter().chain(&ignored) {
            std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
            std::fs::write(root.join(path), path).unwrap();
        }
        let mut found: Vec<String> = stat_tree(root, &md)
            .unwrap()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        found.sort();
        expected.sort();
        assert_eq!(found, expected);
        assert_eq!(files(root, md).unwrap(), expected);
    }

    #[test]
    fn reports_new_changed_and_deleted_files_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("fact")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("fact/a.md"), "a").unwrap();
        std::fs::write(root.join("fact/b.md"), "b").unwrap();
        std::fs::write(root.join("fact/c.txt"), "c").unwrap();
        std::fs::write(root.join(".git/x.md"), "hidden").unwrap();

        let mut cache = StatCache::default();
        let first = rescan(root, &mut cache);
        assert_eq!(first.changed, ["fact/a.md", "fact/b.md"]);
        assert_eq!(cache.len(), 2);

        // Files written a moment ago are racy: their stat cannot be trusted yet, so they
        // stay candidates however often the tree is scanned.
        let same = rescan(root, &mut cache);
        assert_eq!(same.changed, ["fact/a.md", "fact/b.md"]);

        std::fs::remove_file(root.join("fact/b.md")).unwrap();
        std::fs::write(root.join("fact/d.md"), "d").unwrap();
        let next = rescan(root, &mut cache);
        assert_eq!(next.deleted, ["fact/b.md"]);
        assert!(next.changed.contains(&"fact/d.md".to_owned()));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn a_scan_of_named_paths_sees_only_those() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.md"), "a").unwrap();
        std::fs::write(root.join("b.md"), "b").unwrap();
        let mut cache = StatCache::default();
        rescan(root, &mut cache);
        std::fs::remove_file(root.join("a.md")).unwrap();
        std::fs::write(root.join("c.md"), "c").unwrap();
        let found = scan_paths(root, &cache, &["a.md".into(), "c.md".into()]).unwrap();
        assert_eq!(found.deleted, ["a.md"]);
        assert_eq!(found.changed, ["c.md"]);
        // b.md was not named: a full scan would list it (racy), this one does not look.
        assert!(!found.updates.iter().any(|(p, _)| p == "b.md"));
    }

    #[test]
    fn a_scan_changes_nothing_until_its_updates_are_applied() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.md"), "a").unwrap();
        let cache = StatCache::default();
        let found = scan(root, &cache, md).unwrap();
        assert_eq!(found.changed, ["a.md"]);
        assert!(cache.is_empty());
        // Not applied (say the caller failed before acting): the next scan reports it again.
        assert_eq!(scan(root, &cache, md).unwrap().changed, ["a.md"]);
    }

    #[test]
    fn an_old_unchanged_file_is_trusted_and_a_rewrite_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let file = root.join("a.md");
        std::fs::write(&file, "one").unwrap();
        let old = SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let mut cache = StatCache::default();
        rescan(root, &mut cache);
        let again = rescan(root, &mut cache);
        assert!(again.changed.is_empty(), "{:?}", again.changed);
        assert!(!again.cache_changed());

        // Same size, new content: the modification time (and change time) give it away.
        std::fs::write(&file, "two").unwrap();
        let after = rescan(root, &mut cache);
        assert_eq!(after.changed, ["a.md"]);
        assert!(after.cache_changed());
    }

    #[test]
    fn the_cache_survives_a_save_and_load_with_its_journal() {
        let dir = tempfile::tempdir().unwrap();
        let (root, cache_dir) = (dir.path(), dir.path().join(".cache"));
        for name in ["a.md", "b.md", "c.md", "d.md", "e.md"] {
            std::fs::write(root.join(name), name).unwrap();
        }
        let mut cache = StatCache::default();
        rescan(root, &mut cache);
        cache.save(&cache_dir).unwrap();
        assert_eq!(StatCache::load(&cache_dir).as_ref(), Some(&cache));

        // A file written (and journaled) by one process is known to the next, so deleting
        // it by hand is seen as a deletion.
        std::fs::write(root.join("f.md"), "f").unwrap();
        cache.record(root, &cache_dir, &["f.md".into()]).unwrap();
        let mut loaded = StatCache::load(&cache_dir).unwrap();
        assert_eq!(loaded, cache);
        std::fs::remove_file(root.join("f.md")).unwrap();
        let found = rescan(root, &mut loaded);
        assert_eq!(found.deleted, ["f.md"]);
        // A scan's updates journal the same way.
        loaded.journal(&cache_dir, &found.updates).unwrap();
        assert_eq!(StatCache::load(&cache_dir).as_ref(), Some(&loaded));

        // A torn record at the end is ignored; a garbled cache is no cache.
        let journal = cache_dir.join(JOURNAL_FILE);
        let mut bytes = std::fs::read(&journal).unwrap();
        bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2]);
        std::fs::write(&journal, bytes).unwrap();
        assert_eq!(StatCache::load(&cache_dir), Some(loaded));
        std::fs::write(cache_dir.join(CACHE_FILE), b"garbage").unwrap();
        assert_eq!(StatCache::load(&cache_dir), None);
    }
}
