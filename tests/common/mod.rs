//! Shared test fixtures: a hermetic temp dir with a fixed `$HOME`, helpers that run the real
//! `memdir` binary and the real `git` CLI in it, and insta settings that redact what changes
//! from run to run (ids, hashes, times, scores).
//!
//! Library tests pass an explicit [`Author`] (see [`author`]): libgit2 runs in-process and
//! reads the real `$HOME`, which a test cannot fix without touching the whole process.

#![allow(dead_code)] // every test module uses a different part of this file

pub mod git_server;
pub mod llm_server;
#[cfg(feature = "http")]
pub mod serve;

use std::fmt;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use memdir::{Author, Memdir, Provenance};
use tempfile::TempDir;

/// The author every test commit is made by.
pub const AUTHOR_NAME: &str = "Test User";
/// Its email.
pub const AUTHOR_EMAIL: &str = "test@example.com";

/// Returns the fixed test author, for library calls.
pub fn author() -> Author {
    Author {
        name: AUTHOR_NAME.into(),
        email: AUTHOR_EMAIL.into(),
    }
}

/// PATH with the memdir binary's folder first: git runs the merge driver (`memdir
/// merge-file`) by name.
pub fn path_with_memdir() -> std::ffi::OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_memdir"))
        .parent()
        .unwrap()
        .to_owned();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

/// Returns provenance with the fixed author and a session, agent and step.
pub fn prov() -> Provenance {
    Provenance {
        session: Some("s-1".into()),
        agent: Some("tester".into()),
        step: Some("7".into()),
        reference: None,
        author: Some(author()),
    }
}

/// A temp dir with a fixed `$HOME` (holding a `.gitconfig` with the test author) and room for
/// a memory repository at `<tmp>/repo`.
pub struct TestEnv {
    _tmp: TempDir,
    root: PathBuf,
    home: PathBuf,
}

impl TestEnv {
    /// Returns an environment with no repository yet.
    pub fn new() -> TestEnv {
        let tmp = tempfile::Builder::new()
            .prefix("memdir-test-")
            .tempdir()
            .expect("create temp dir");
        let root = tmp.path().canonicalize().expect("canonical temp dir");
        let home = root.join("home");
        std::fs::create_dir_all(home.join(".config")).unwrap();
        std::fs::write(
            home.join(".gitconfig"),
            format!("[user]\n\tname = {AUTHOR_NAME}\n\temail = {AUTHOR_EMAIL}\n"),
        )
        .unwrap();
        TestEnv {
            _tmp: tmp,
            root,
            home,
        }
    }

    /// Returns an environment whose repository was created with `memdir init` (the CLI).
    pub fn init() -> TestEnv {
        let env = TestEnv::new();
        env.run_in(&env.root, &["init", "repo"]).success();
        env
    }

    /// Returns an environment and a library handle on a repository made with
    /// `Memdir::init_as` and the fixed author.
    pub fn init_lib() -> (TestEnv, Memdir) {
        let env = TestEnv::new();
        let mem = Memdir::init_as(&env.repo(), Some(&author())).expect("init repository");
        (env, mem)
    }

    /// Opens the repository with the library.
    pub fn open(&self) -> Memdir {
        Memdir::open(&self.repo()).expect("open repository")
    }

    /// Returns the (canonical) temp dir.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns where the repository lives: `<tmp>/repo`.
    pub fn repo(&self) -> PathBuf {
        self.root.join("repo")
    }

    /// Returns the path of a file in the repository.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.repo().join(rel)
    }

    /// Writes a file in the repository (creating folders), as a person editing by hand would.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// Returns a repository file as text.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Returns a repository file's bytes.
    pub fn read_bytes(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_SYSTEM", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
            .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
            .env("GIT_COMMITTER_NAME", AUTHOR_NAME)
            .env("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL)
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_TERMINAL_PROMPT", "0");
        cmd
    }

    fn output(&self, mut cmd: Command, stdin: Option<&[u8]>) -> CommandOutput {
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn command");
        if let Some(input) = stdin {
            use std::io::Write as _;
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(input).unwrap();
        }
        let out = child.wait_with_output().expect("wait for command");
        let normalize = |bytes: &[u8]| {
            String::from_utf8_lossy(bytes).replace(self.root.to_str().unwrap(), "$TEST_ENV")
        };
        CommandOutput {
            stdout: normalize(&out.stdout),
            stderr: normalize(&out.stderr),
            status: out.status.code().unwrap_or(-1),
        }
    }

    /// Returns a `memdir` command in `dir` with the hermetic environment, for tests that need
    /// extra variables. Run it with [`TestEnv::run_command`].
    pub fn memdir_command(&self, dir: &Path) -> Command {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_memdir"), dir);
        // memdir dates its commits by these as git does; tests that want a date set them.
        cmd.env_remove("GIT_AUTHOR_DATE")
            .env_remove("GIT_COMMITTER_DATE");
        cmd
    }

    /// Runs `memdir ARGS` with its commits dated `date` (`GIT_AUTHOR_DATE` and
    /// `GIT_COMMITTER_DATE`, which memdir honours as git does).
    pub fn run_dated(&self, date: &str, args: &[&str]) -> CommandOutput {
        let mut cmd = self.memdir_command(&self.repo());
        cmd.args(args)
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date);
        self.output(cmd, None)
    }

    /// Runs a prepared command, feeding `stdin` when given.
    pub fn run_command(&self, cmd: Command, stdin: Option<&str>) -> CommandOutput {
        self.output(cmd, stdin.map(str::as_bytes))
    }

    /// Runs `sh -c SCRIPT` inside the repository with the environment `memdir` gets and the
    /// binary's path in `$MEMDIR`: for what only a shell sets up, such as a lower `ulimit`.
    pub fn shell(&self, script: &str) -> CommandOutput {
        let mut cmd = self.command("sh", &self.repo());
        cmd.arg("-c")
            .arg(script)
            .env("MEMDIR", env!("CARGO_BIN_EXE_memdir"));
        self.output(cmd, None)
    }

    /// Runs another program (a shell, a man page formatter) in the temp dir with the
    /// environment `memdir` gets: for checking memdir's output with its real consumer.
    pub fn program(&self, program: &str, args: &[&str]) -> CommandOutput {
        let mut cmd = self.command(program, &self.root);
        cmd.args(args);
        self.output(cmd, None)
    }

    /// Runs `memdir ARGS` inside the repository.
    pub fn run(&self, args: &[&str]) -> CommandOutput {
        self.run_in(&self.repo(), args)
    }

    /// Runs `memdir ARGS` in `dir`.
    pub fn run_in(&self, dir: &Path, args: &[&str]) -> CommandOutput {
        let mut cmd = self.memdir_command(dir);
        cmd.args(args);
        self.output(cmd, None)
    }

    /// Runs `memdir ARGS` inside the repository with `stdin` piped in.
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> CommandOutput {
        let mut cmd = self.memdir_command(&self.repo());
        cmd.args(args);
        self.output(cmd, Some(stdin.as_bytes()))
    }

    /// Runs the real `git ARGS` inside the repository and returns its output.
    pub fn git_output(&self, args: &[&str]) -> CommandOutput {
        let mut cmd = self.command("git", &self.repo());
        cmd.args(args);
        self.output(cmd, None)
    }

    /// Runs `git ARGS` with its commits dated `date`, asserts success and returns stdout.
    pub fn git_dated(&self, date: &str, args: &[&str]) -> String {
        let mut cmd = self.command("git", &self.repo());
        cmd.args(args)
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date);
        self.output(cmd, None).success().stdout
    }

    /// Runs `git ARGS` inside the repository, asserts success and returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_output(args).success().stdout
    }

    /// Runs `git ARGS` with `stdin`, asserts success and returns stdout.
    pub fn git_stdin(&self, args: &[&str], stdin: &str) -> String {
        let mut cmd = self.command("git", &self.repo());
        cmd.args(args);
        self.output(cmd, Some(stdin.as_bytes())).success().stdout
    }

    /// Returns the number of commits reachable from HEAD.
    pub fn commit_count(&self) -> usize {
        self.git(&["rev-list", "--count", "HEAD"])
            .trim()
            .parse()
            .unwrap()
    }

    /// Returns HEAD's commit id.
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// Returns `git status --porcelain` (empty when the working tree is clean).
    pub fn git_status(&self) -> String {
        self.git(&["status", "--porcelain", "--untracked-files=all"])
    }

    /// Returns the trailers of commit `rev`, as parsed by `git interpret-trailers --parse`.
    pub fn trailers(&self, rev: &str) -> Vec<(String, String)> {
        let message = self.git(&["log", "-1", "--format=%B", rev]);
        self.git_stdin(&["interpret-trailers", "--parse"], &message)
            .lines()
            .map(|l| {
                let (k, v) = l
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("trailer line {l:?}"));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    /// Returns the values of trailer `key` in commit `rev`.
    pub fn trailer(&self, rev: &str, key: &str) -> Vec<String> {
        self.trailers(rev)
            .into_iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v)
            .collect()
    }

    /// Returns the paths commit `rev` touched.
    pub fn changed_files(&self, rev: &str) -> Vec<String> {
        self.git(&["show", "--format=", "--name-only", rev])
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Returns the ids of the hits of `memdir search QUERY --json`, best first.
    pub fn search_ids(&self, query: &str) -> Vec<String> {
        self.run(&["search", query, "--json"])
            .success()
            .json()
            .as_array()
            .unwrap_or_else(|| panic!("search --json is not a list"))
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Adds a memory with the CLI and returns its `--json` output.
    pub fn add(&self, text: &str, extra: &[&str]) -> serde_json::Value {
        let mut args = vec!["add", text, "--json"];
        args.extend_from_slice(extra);
        self.run(&args).success().json()
    }
}

/// Runs `memdir ARGS` until it reaches fault point `point`, then kills it with SIGKILL.
/// Panics if the command ends without reaching the point.
pub fn kill_at(env: &TestEnv, point: &str, args: &[&str]) {
    let mut cmd = env.memdir_command(&env.repo());
    cmd.args(args);
    kill_at_command(cmd, point);
}

/// [`kill_at`] for a prepared command (one run in another folder, say).
pub fn kill_at_command(mut cmd: Command, point: &str) {
    cmd.env("MEMDIR_FAULT", point)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn memdir");
    wait_for_fault(&mut child, point);
    child.kill().unwrap(); // SIGKILL: no destructor, no flush, no unlock but the kernel's
    child.wait().unwrap();
}

/// Waits until `child` (run with `MEMDIR_FAULT=point` and its stderr piped) says it reached
/// fault point `point`, where it then blocks forever. Panics if it ends first.
pub fn wait_for_fault(child: &mut std::process::Child, point: &str) {
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let expected = format!("memdir-fault: {point}");
    let mut said = String::new();
    loop {
        let mut line = String::new();
        // The child blocks at the point forever, so a line always comes, or EOF if it exits.
        if stderr.read_line(&mut line).unwrap() == 0 {
            let status = child.wait().unwrap();
            panic!("memdir ended ({status}) before reaching {point}:\n{said}");
        }
        if line.trim_end() == expected {
            break;
        }
        said.push_str(&line);
    }
}

/// What a command printed and how it exited.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    /// stdout, with the temp dir replaced by `$TEST_ENV`.
    pub stdout: String,
    /// stderr, likewise.
    pub stderr: String,
    /// Exit code (-1 when killed by a signal).
    pub status: i32,
}

impl CommandOutput {
    /// Asserts exit code 0 and returns self.
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.status, 0, "command failed:\n{self}");
        self
    }

    /// Asserts exit code `code` and returns self.
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.status, code, "unexpected exit code:\n{self}");
        self
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }
}

/// Renders like jj's test output: stdout, then stderr and the exit status when not empty/zero.
impl fmt::Display for CommandOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.stdout)?;
        if !self.stderr.is_empty() {
            writeln!(f, "------- stderr -------")?;
            write!(f, "{}", self.stderr)?;
        }
        if self.status != 0 {
            writeln!(f, "[exit status: {}]", self.status)?;
        }
        Ok(())
    }
}

/// Returns whether `program` is on `PATH`. A test that needs a program memdir does not ship
/// (a shell, groff) skips when it is missing, with a message, except under CI (`CI` set), where
/// `.ci/run` installs it and its absence fails the test: CI never passes a check it skipped.
pub fn have(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "`{program}` is not installed, and CI must run every check (.ci/run installs it)"
        );
        println!("SKIPPED: `{program}` is not installed");
    }
    found
}

/// Returns insta settings that redact commit hashes and revisions, the random suffix of ids,
/// times and search scores. Bind them with `let _guard = settings().bind_to_scope();`.
pub fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r#""score": [0-9.eE+-]+"#, r#""score": [SCORE]"#);
    s.add_filter(r"(?m)^ *[0-9]+\.[0-9]{2}  ", "[SCORE]  ");
    s.add_filter(r"\b[0-9a-f]{40}\b", "[HASH]");
    s.add_filter(r"\b([a-z0-9]+)-[0-9a-f]{6}\b", "$1-[ID]");
    s.add_filter(r"\b[0-9a-f]{7}\b", "[SHORT]");
    s.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]");
    s
}

/// Returns true if `id` is `slug` followed by `-` and six hex digits.
pub fn is_id_for(id: &str, slug: &str) -> bool {
    id.strip_prefix(slug)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Splits command-line words on whitespace: `words("--tag a --tag b")`.
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Returns the keys of a JSON object, sorted.
pub fn keys(v: &serde_json::Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort();
    k
}
