//! What memdir asks of the `git` command. libgit2 writes every object loose and can neither
//! pack nor prune, so the two jobs that need that run git itself: packing what writes left
//! loose (here) and deleting a purge's old objects (`purge.rs`).

use std::path::Path;
use std::process::Command;

use super::{Store, StoreError};

/// git's default for `gc.auto`: about how many loose objects make `git gc --auto` pack.
const GC_AUTO_DEFAULT: i64 = 6700;

impl Store {
    /// Before a write, packs what earlier writes left loose once there are more loose objects
    /// than `gc.auto` allows ([`Store::loose_objects_due`]), as git does after its own commits
    /// (libgit2 writes every object loose, about four files per write under `.git/objects`).
    /// `git gc --auto` packs in the background; a handle starts it at most once a minute, as
    /// the loose objects stay until it is done. Never fails: packing only saves space.
    pub fn pack_if_due(&mut self) {
        if !self.loose_objects_due()
            || self
                .packed_at
                .is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(60))
        {
            return;
        }
        self.packed_at = Some(std::time::Instant::now());
        pack_loose_objects(&self.root);
    }

    /// Whether there are more loose objects than `gc.auto` allows (6,700 unless configured; 0
    /// or less turns automatic packing off), estimated as git estimates it: the loose objects
    /// in `objects/17`, one of the 256 folders they spread over, against `gc.auto / 256`. A
    /// `readdir` of one small folder, so it is cheap enough to ask before every write.
    pub fn loose_objects_due(&self) -> bool {
        self.due_with(self.loose_in(0x17))
    }

    /// Counts the objects git keeps: loose files under `.git/objects/xx/` and pack files
    /// under `.git/objects/pack/` (a `readdir` of each of the 256 folders; for `status`).
    pub fn object_counts(&self) -> GitObjects {
        let per_folder: Vec<usize> = (0..=255u8).map(|b| self.loose_in(b)).collect();
        let packs = std::fs::read_dir(self.git_dir().join("objects/pack"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "pack"))
                    .count()
            })
            .unwrap_or(0);
        GitObjects {
            loose: per_folder.iter().sum(),
            packs,
            packing_due: self.due_with(per_folder[0x17]),
        }
    }

    /// Whether `in_17` loose objects in `objects/17` exceed `gc.auto / 256` (git's test).
    fn due_with(&self, in_17: usize) -> bool {
        // Any threshold is at least one object: the configuration need not be read below.
        if in_17 <= 1 {
            return false;
        }
        let auto = self
            .repo
            .config()
            .and_then(|c| c.get_i64("gc.auto"))
            .unwrap_or(GC_AUTO_DEFAULT);
        auto > 0 && in_17 as u64 > (auto as u64).div_ceil(256)
    }

    /// Returns how many loose objects the folder `objects/xx` holds (`xx` = `folder` in hex).
    fn loose_in(&self, folder: u8) -> usize {
        let dir = self.git_dir().join(format!("objects/{folder:02x}"));
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| is_object_name(&e.file_name()))
                .count()
        })
    }

    /// Runs the `git` command on this repository (and nothing the caller's environment points
    /// git at instead) and returns its stdout.
    pub(super) fn git_cli(&self, args: &[&str]) -> Result<String, StoreError> {
        git_cli(&self.root, args)
    }
}

/// How many objects git keeps loose and in how many packs ([`Store::object_counts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct GitObjects {
    /// Objects stored one per file (every object memdir writes starts so).
    pub loose: usize,
    /// Pack files.
    pub packs: usize,
    /// Whether the next write starts `git gc --auto` (more loose objects than `gc.auto`).
    pub packing_due: bool,
}

/// Whether a file in `objects/xx/` is a loose object (named by the 38 hex digits of its id
/// after `xx`), not a temp file.
fn is_object_name(name: &std::ffi::OsStr) -> bool {
    let name = name.as_encoded_bytes();
    name.len() == 38 && name.iter().all(u8::is_ascii_hexdigit)
}

/// Packs the loose objects of the repository at `root` as git does after its own commits:
/// `git gc --auto --quiet`, which packs in the background (unless `gc.autoDetach` is false)
/// and takes git's own lock, so two runs never pack at once. It leaves refs and reflogs
/// alone (no `pack-refs`, no reflog expiry), so it never holds the lock of the branch a
/// memdir write is about to move. Packing only saves space and time, so a failure (no `git`
/// installed, a repository git refuses) is logged, never returned: no write fails for it.
fn pack_loose_objects(root: &Path) {
    let args = [
        "-c",
        "gc.packRefs=false",
        "-c",
        "gc.reflogExpire=never",
        "-c",
        "gc.reflogExpireUnreachable=never",
        "gc",
        "--auto",
        "--quiet",
    ];
    if let Err(e) = git_cli(root, &args) {
        tracing::debug!("not packing loose git objects: {e}");
    }
}

/// Returns `git -C dir` with the caller's environment, except what would point git at
/// another repository: the one way memdir starts git.
pub(super) fn git_in(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd.arg("-C").arg(dir);
    cmd
}

/// The error for a `git` that could not be started in `dir`.
pub(super) fn spawn_error(dir: &Path, command: String, source: std::io::Error) -> StoreError {
    match source.kind() {
        std::io::ErrorKind::NotFound => StoreError::GitMissing {
            root: dir.to_owned(),
        },
        _ => StoreError::GitCommand {
            root: dir.to_owned(),
            command,
            stderr: source.to_string(),
        },
    }
}

/// [`Store::git_cli`] for a repository the caller does not hold open.
fn git_cli(root: &Path, args: &[&str]) -> Result<String, StoreError> {
    let command = || format!("git {}", args.join(" "));
    let out = git_in(root)
        .args(args)
        .output()
        .map_err(|source| spawn_error(root, command(), source))?;
    if !out.status.success() {
        return Err(StoreError::GitCommand {
            root: root.to_owned(),
            command: command(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
