//! Talking to other copies of the repository: clone, fetch and push, through the `git` command.
//!
//! memdir's libgit2 is built without network transports (no https, no ssh), and even with them
//! it would not read the user's `~/.ssh/config`, ssh agent or git credential helpers. Running
//! the user's own `git` for the transfer (as jj does) means every remote that works with `git
//! pull` works with `memdir sync`, with the same authentication. Only the transfer runs there:
//! the merge itself is done in-process (`store/merge.rs` and [`crate::merge`]), so it
//! understands memories.
//!
//! git never prompts here (`GIT_TERMINAL_PROMPT=0`, no standard input): an unattended agent
//! gets an error naming the remote instead of a sync that waits forever for a password.

use std::path::Path;

use super::{Store, StoreError, git_err};

/// The remote branch a branch syncs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// The remote's name, such as `origin`.
    pub remote: String,
    /// The branch on the remote, such as `main`.
    pub branch: String,
}

impl Upstream {
    /// Returns the remote-tracking ref that fetch updates, `refs/remotes/<remote>/<branch>`.
    pub fn tracking_ref(&self) -> String {
        format!("refs/remotes/{}/{}", self.remote, self.branch)
    }
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The remote branch now points at the commit.
    Done,
    /// The remote refused because its branch moved since the fetch (not a fast-forward):
    /// fetch and merge again. Holds git's reason.
    Moved(String),
}

impl Store {
    /// Returns the name of the branch HEAD is on (`main`), or an error for a detached HEAD.
    pub fn current_branch(&self) -> Result<String, StoreError> {
        let head = self
            .repo
            .find_reference("HEAD")
            .map_err(git_err("head", &self.root))?;
        head.symbolic_target()
            .ok()
            .flatten()
            .and_then(|t| t.strip_prefix("refs/heads/"))
            .map(str::to_owned)
            .ok_or_else(|| StoreError::Remote {
                root: self.root.clone(),
                why: "HEAD is detached (not on a branch): check out the branch to sync, such as `git switch main`".into(),
            })
    }

    /// Returns the remote branch to sync with: `remote`'s branch of the same name when
    /// `remote` is given; else the current branch's upstream (`branch.<name>.remote` and
    /// `.merge`, which `git clone` and `git push -u` set); else `origin`. Fails when the
    /// remote is not configured.
    pub fn upstream(&self, remote: Option<&str>) -> Result<Upstream, StoreError> {
        let branch = self.current_branch()?;
        let config = self.repo.config().map_err(git_err("config", &self.root))?;
        let configured_remote = config.get_string(&format!("branch.{branch}.remote")).ok();
        let configured_branch = config
            .get_string(&format!("branch.{branch}.merge"))
            .ok()
            .and_then(|m| m.strip_prefix("refs/heads/").map(str::to_owned));
        let (remote, remote_branch) = match remote {
            Some(r) if configured_remote.as_deref() == Some(r) => {
                (r.to_owned(), configured_branch.unwrap_or(branch))
            }
            Some(r) => (r.to_owned(), branch),
            None => match configured_remote {
                Some(r) if r != "." => (r, configured_branch.unwrap_or(branch)),
                _ => ("origin".to_owned(), branch),
            },
        };
        if self.repo.find_remote(&remote).is_err() {
            return Err(StoreError::Remote {
                root: self.root.clone(),
                why: format!(
                    "there is no remote named `{remote}`: add one with `git remote add {remote} URL` (any git URL: a host, ssh, or a path to a bare repository)"
                ),
            });
        }
        Ok(Upstream {
            remote,
            branch: remote_branch,
        })
    }

    /// Fetches the remote branch into its remote-tracking ref and returns the commit it
    /// points at, or `None` when the remote has no such branch yet (an empty repository).
    pub fn fetch(&self, up: &Upstream) -> Result<Option<String>, StoreError> {
        let spec = format!("+refs/heads/{}:{}", up.branch, up.tracking_ref());
        let out = run_git(
            &self.root,
            &["fetch", "--no-tags", "--quiet", &up.remote, &spec],
        )?;
        if !out.ok {
            if out.stderr.contains("couldn't find remote ref") {
                return Ok(None);
            }
            return Err(out.error(&self.root));
        }
        match self.repo.refname_to_id(&up.tracking_ref()) {
            Ok(id) => Ok(Some(id.to_string())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git_err("fetch", &self.root)(e)),
        }
    }

    /// Pushes `commit` to the remote branch without force: the remote takes it only as a
    /// fast-forward, so nothing on the remote is ever overwritten. On success the
    /// remote-tracking ref moves to `commit`.
    pub fn push(&self, up: &Upstream, commit: &str) -> Result<Pushed, StoreError> {
        let spec = format!("{commit}:refs/heads/{}", up.branch);
        let out = run_git(&self.root, &["push", "--porcelain", &up.remote, &spec])?;
        if out.ok {
            if let Ok(oid) = git2::Oid::from_str(commit) {
                let _ = self
                    .repo
                    .reference(&up.tracking_ref(), oid, true, "memdir sync: pushed");
            }
            return Ok(Pushed::Done);
        }
        // `--porcelain` marks a refused ref with `!` and says why in brackets: `[rejected]`
        // when the remote's branch is not an ancestor (it moved since the fetch), or
        // `[remote rejected]` when another push won the race for the ref's lock on the
        // server after the same check passed (git says "cannot lock ref").
        let lost_race = out.stderr.contains("cannot lock ref");
        let refused = out.stdout.lines().find(|l| {
            l.starts_with('!')
                && (l.contains("[rejected]") || (lost_race && l.contains("[remote rejected]")))
        });
        match refused {
            Some(line) => Ok(Pushed::Moved(line.trim().to_owned())),
            None => Err(out.error(&self.root)),
        }
    }
}

impl Store {
    /// Returns the commit the remote-tracking ref of `up` points at (what the last fetch
    /// saw on the remote), or `None` when there is none.
    pub fn tracking_tip(&self, up: &Upstream) -> Result<Option<String>, StoreError> {
        match self.repo.refname_to_id(&up.tracking_ref()) {
            Ok(id) => Ok(Some(id.to_string())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git_err("read ref", &self.root)(e)),
        }
    }

    /// Replaces the remote branch with `commit` (not a fast-forward: history rewritten by a
    /// purge) only if the remote branch is still at `expected`, git's
    /// `--force-with-lease=<ref>:<expected>`: a push made there since is never overwritten,
    /// and the answer is then [`Pushed::Moved`]. On success the remote-tracking ref moves to
    /// `commit`.
    pub fn push_with_lease(
        &self,
        up: &Upstream,
        commit: &str,
        expected: &str,
    ) -> Result<Pushed, StoreError> {
        let target = format!("refs/heads/{}", up.branch);
        let lease = format!("--force-with-lease={target}:{expected}");
        let spec = format!("{commit}:{target}");
        let out = run_git(
            &self.root,
            &["push", "--porcelain", &lease, &up.remote, &spec],
        )?;
        if out.ok {
            if let Ok(oid) = git2::Oid::from_str(commit) {
                let _ = self.repo.reference(
                    &up.tracking_ref(),
                    oid,
                    true,
                    "memdir forget --purge --push",
                );
            }
            return Ok(Pushed::Done);
        }
        // A broken lease is `! ... [rejected] (stale info)` in `--porcelain`.
        match out
            .stdout
            .lines()
            .find(|l| l.starts_with('!') && l.contains("[rejected]"))
        {
            Some(line) => Ok(Pushed::Moved(line.trim().to_owned())),
            None => Err(out.error(&self.root)),
        }
    }
}

/// Clones `url` into `dir` with the `git` command (any URL git takes).
pub fn clone_repository(url: &str, dir: &Path) -> Result<(), StoreError> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let dir_arg = dir.to_string_lossy();
    let out = run_git(&parent, &["clone", "--quiet", "--", url, &dir_arg])?;
    if !out.ok {
        return Err(out.error(&parent));
    }
    // A bare repository made with `git init --bare` names `master` as its HEAD even after
    // `main` was pushed to it: git then clones without checking anything out. Check out
    // the remote's `main`, else `master`, else its only branch.
    if run_git(dir, &["rev-parse", "--quiet", "--verify", "HEAD"])?.ok {
        return Ok(());
    }
    let branches = run_git(
        dir,
        &[
            "for-each-ref",
            "--format=%(refname:lstrip=3)",
            "refs/remotes/origin/",
        ],
    )?;
    let names: Vec<&str> = branches.stdout.lines().filter(|b| *b != "HEAD").collect();
    let pick = ["main", "master"]
        .into_iter()
        .find(|b| names.contains(b))
        .or(match names.as_slice() {
            [only] => Some(*only),
            _ => None,
        });
    if let Some(branch) = pick {
        let tracking = format!("origin/{branch}");
        let out = run_git(
            dir,
            &["checkout", "--quiet", "-B", branch, "--track", &tracking],
        )?;
        if !out.ok {
            return Err(out.error(dir));
        }
    }
    Ok(())
}

/// What a `git` run printed.
struct Output {
    ok: bool,
    command: String,
    stdout: String,
    stderr: String,
}

impl Output {
    fn error(self, root: &Path) -> StoreError {
        StoreError::Transfer {
            root: root.to_owned(),
            command: self.command,
            stderr: if self.stderr.is_empty() {
                self.stdout
            } else {
                self.stderr
            },
        }
    }
}

/// Runs `git -C dir args`, never prompting, with the caller's environment except what would
/// point git at another repository.
fn run_git(dir: &Path, args: &[&str]) -> Result<Output, StoreError> {
    let command = format!("git {}", args.join(" "));
    let out = super::git_cli::git_in(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| super::git_cli::spawn_error(dir, command.clone(), source))?;
    Ok(Output {
        ok: out.status.success(),
        command,
        stdout: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    })
}

/// The `.gitattributes` line that sends memory files through memdir's merge driver.
pub const MERGE_ATTRIBUTE: &str = "*.md merge=memdir";

/// The merge driver's command line, as git runs it: `%O` the common version, `%A` ours (the
/// result goes there), `%B` theirs, `%P` the path in the repository.
const DRIVER: &str = "memdir merge-file %O %A %B %P";

impl Store {
    /// Registers memdir's merge driver so that plain `git pull` and `git merge` merge memories
    /// as `memdir sync` does: `merge.memdir.driver` in `.git/config`, and, when the
    /// repository's own `.gitattributes` does not route `.md` files to it (a repository made
    /// before it did), the same line in `.git/info/attributes`, which is never committed.
    /// Returns true if it changed anything. Cheap when already registered (one config read).
    pub fn register_merge_driver(&self) -> Result<bool, StoreError> {
        let err = |op| git_err(op, &self.root);
        let config = self.repo.config().map_err(err("config"))?;
        if config.get_string("merge.memdir.driver").is_ok() {
            return Ok(false);
        }
        let mut local = config
            .open_level(git2::ConfigLevel::Local)
            .map_err(err("config"))?;
        local
            .set_str(
                "merge.memdir.name",
                "memdir: merge memories (front-matter by key, body by line)",
            )
            .map_err(err("config"))?;
        local
            .set_str("merge.memdir.driver", DRIVER)
            .map_err(err("config"))?;
        // `.git/info/attributes` speaks of the whole repository: in a project, only the
        // memory folder's files go to the driver.
        let line = match &self.prefix {
            Some(p) => format!("{p}/**/{MERGE_ATTRIBUTE}"),
            None => MERGE_ATTRIBUTE.to_owned(),
        };
        let routed = |file: &Path, line: &str| {
            std::fs::read_to_string(file).is_ok_and(|t| t.lines().any(|l| l.trim() == line))
        };
        let info = self.git_dir().join("info").join("attributes");
        if !routed(&self.root.join(".gitattributes"), MERGE_ATTRIBUTE) && !routed(&info, &line) {
            let mut text = std::fs::read_to_string(&info).unwrap_or_default();
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str("# memdir: merge memory files with `memdir merge-file`\n");
            text.push_str(&line);
            text.push('\n');
            if let Some(dir) = info.parent() {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Write {
                    path: dir.to_owned(),
                    source,
                })?;
            }
            super::atomic_write(&info, text.as_bytes())?;
        }
        drop(config);
        Ok(true)
    }
}
