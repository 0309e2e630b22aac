//! Task checkpoints: for an agent on multi-step work, what was done, what is next and what it
//! made, so that after a crash it resumes instead of repeating work.
//!
//! A task is one append-only file, `tasks/<id>.jsonl`, one JSON object a line: the start
//! (`{"task": ID, "goal": ..., "started": ...}`), each step (`{"step": 3, "done": ...,
//! "next": ..., "artifacts": [...], "time": ...}`) and the end (`{"ended": ..., "outcome":
//! ...}`). A step is acknowledged only once it is durable: one `O_APPEND` write of one line
//! under an exclusive `flock` of the file, then `fsync`. So after a crash (of the agent or of
//! memdir, at any moment) [`Memdir::task`] gives exactly the steps acknowledged, plus at most
//! the one being written when it died if that write reached the disk; a torn last line is
//! skipped. The file is committed every `[task] commit_every` steps and at the end
//! (`Memdir-Op: task-end`). `memdir context --task ID` puts the task's state first.
//!
//! A task whose last line is older than `[task] ttl_hours` has expired, like a session: it
//! stays in the repository and its history, is left out of context and takes no more steps.
//!
//! ```
//! # fn main() -> memdir::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! use memdir::task::StepInput;
//! use memdir::{Memdir, Provenance};
//! let mem = Memdir::init(dir.path())?;
//! let prov = Provenance::agent("doc");
//! mem.task_start("release-42", "Ship v4.2", &prov)?;
//! mem.task_step("release-42", &StepInput::done("Built the image").next("Run the migrations").artifact("out/image.tar"), &prov)?;
//! let task = mem.task("release-42")?;
//! assert_eq!(task.steps.len(), 1);
//! assert_eq!(task.next.as_deref(), Some("Run the migrations"));
//! assert_eq!(task.artifacts, ["out/image.tar"]);
//! # Ok(()) }
//! ```

use std::io::Write as _;

use serde::{Deserialize, Serialize};

use crate::memory::Timestamp;
use crate::store::Store;
use crate::{Error, Memdir, Provenance, Result};

/// The folder of task files, at the repository root.
pub const TASKS_DIR: &str = "tasks";

/// One acknowledged step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Step {
    /// 1-based number.
    pub step: usize,
    /// What was done.
    pub done: String,
    /// What comes next, as the agent saw it then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// What the step made (files, URLs), as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
    /// When it was acknowledged (RFC 3339).
    pub time: String,
}

/// What a step records, as an agent gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepInput {
    /// What was done.
    pub done: String,
    /// What comes next.
    pub next: Option<String>,
    /// What the step made.
    pub artifacts: Vec<String>,
}

impl StepInput {
    /// Returns a step that did `done`.
    pub fn done(done: impl Into<String>) -> Self {
        StepInput {
            done: done.into(),
            ..StepInput::default()
        }
    }
    /// Sets what comes next.
    pub fn next(mut self, next: impl Into<String>) -> Self {
        self.next = Some(next.into());
        self
    }
    /// Adds an artifact.
    pub fn artifact(mut self, artifact: impl Into<String>) -> Self {
        self.artifacts.push(artifact.into());
        self
    }
}

/// A task as read from its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Task {
    /// Its id.
    pub id: String,
    /// Its file, relative to the root.
    pub path: String,
    /// The content hash of the file as read (a git blob id).
    pub revision: String,
    /// What it is for.
    pub goal: String,
    /// When it started.
    pub started: String,
    /// The agent that started it, if named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The session that started it, if named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Its acknowledged steps, in order.
    pub steps: Vec<Step>,
    /// What comes next: the last step's `next`, if it gave one.
    pub next: Option<String>,
    /// Every artifact of every step, in order, each once.
    pub artifacts: Vec<String>,
    /// When it ended, if it did.
    pub ended: Option<String>,
    /// How it ended, if said.
    pub outcome: Option<String>,
    /// Whether its last line is older than `[task] ttl_hours` (when it was read).
    pub expired: bool,
}

impl Task {
    /// Returns the time of its last line: its end, else its last step, else its start.
    pub fn last_time(&self) -> Option<Timestamp> {
        let last = self
            .ended
            .as_deref()
            .or(self.steps.last().map(|s| s.time.as_str()))
            .unwrap_or(&self.started);
        Timestamp::parse(last)
    }

    /// Returns the task's state as text for a prompt: the goal, the steps done, what is
    /// next and the artifacts, keeping the last `steps` steps (an older part is counted).
    pub fn render(&self, steps: usize) -> String {
        let mut out = format!("Task {}: {}\n", self.id, self.goal);
        let skipped = self.steps.len().saturating_sub(steps);
        if self.steps.is_empty() {
            out.push_str("No step done yet.\n");
        } else if skipped > 0 {
            out.push_str(&format!("Done (steps 1-{skipped} left out):\n"));
        } else {
            out.push_str("Done:\n");
        }
        for s in &self.steps[skipped..] {
            out.push_str(&format!("{}. {}\n", s.step, s.done.trim()));
        }
        match (&self.ended, &self.next) {
            (Some(_), _) => out.push_str(&format!(
                "Ended{}\n",
                self.outcome
                    .as_deref()
                    .map(|o| format!(": {}", o.trim()))
                    .unwrap_or_default()
            )),
            (None, Some(next)) => out.push_str(&format!("Next: {}\n", next.trim())),
            (None, None) => {}
        }
        if !self.artifacts.is_empty() {
            out.push_str(&format!("Artifacts: {}\n", self.artifacts.join(", ")));
        }
        out
    }
}

/// One line of a task file.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Start {
        task: String,
        goal: String,
        started: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<String>,
    },
    Step(Step),
    End {
        ended: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
    },
}

/// Returns the file of task `id`, or an error if the id could leave `tasks/` (the rule of
/// session ids, [`crate::session::log_path`]).
pub fn task_path(id: &str) -> Result<String> {
    crate::session::log_path(TASKS_DIR, "task", id)
}

/// A task's file, open for appending under its exclusive lock, with its bytes as read under
/// the lock (a torn last line already cut off).
struct Locked {
    file: std::fs::File,
    rel: String,
    path: std::path::PathBuf,
    bytes: Vec<u8>,
}

impl Memdir {
    /// Starts task `id` toward `goal`: creates its file with the start line, durably. Fails
    /// if the task exists.
    pub fn task_start(&self, id: &str, goal: &str, prov: &Provenance) -> Result<Task> {
        let rel = task_path(id)?;
        if goal.trim().is_empty() {
            return Err(Error::invalid("a task needs a goal (--goal TEXT)"));
        }
        let path = self.root().join(&rel);
        let io = |e| Error::io(&path, e);
        let dir = path.parent().expect("a task path has a folder");
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut file = match std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::invalid(format!(
                    "task `{id}` exists; `memdir task show {id}` gives its state, or start a new one (a new id)"
                )));
            }
            Err(e) => return Err(io(e)),
        };
        file.lock().map_err(io)?;
        append_line(
            &mut file,
            &Line::Start {
                task: id.to_owned(),
                goal: goal.trim().to_owned(),
                started: Timestamp::now().to_string(),
                agent: prov.agent.clone(),
                session: prov.session.clone(),
            },
        )
        .map_err(io)?;
        // The new name must survive a crash too.
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        drop(file);
        self.task(id)
    }

    /// Records a step of task `id`, durably, and returns it: acknowledged once this returns.
    /// Fails if the task was not started, has ended or has expired, or `done` is blank.
    pub fn task_step(&self, id: &str, step: &StepInput, prov: &Provenance) -> Result<Step> {
        if step.done.trim().is_empty() {
            return Err(Error::invalid("a step needs what was done (--done TEXT)"));
        }
        let Locked {
            mut file,
            rel,
            path,
            bytes,
        } = self.lock_task(id)?;
        let io = |e| Error::io(&path, e);
        let task = parse_task(id, &rel, &bytes, self.task_ttl_now())?;
        if task.ended.is_some() {
            return Err(Error::invalid(format!(
                "task `{id}` has ended; start a new one (a new id)"
            )));
        }
        if task.expired {
            return Err(Error::invalid(format!(
                "task `{id}` has expired (no step for over [task] ttl_hours); start a new one (a new id)"
            )));
        }
        let step = Step {
            step: task.steps.len() + 1,
            done: step.done.trim().to_owned(),
            next: step
                .next
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            artifacts: step.artifacts.clone(),
            time: Timestamp::now().to_string(),
        };
        crate::fault::point("task-step-before-write");
        append_line(&mut file, &Line::Step(step.clone())).map_err(io)?;
        drop(file);
        crate::fault::point("task-step-durable");
        let every = self.config().task.commit_every;
        if every > 0 && step.step.is_multiple_of(every) {
            self.commit_worktree_files(
                std::slice::from_ref(&rel),
                format!("task: {id} ({} steps)", step.step),
                "task",
                prov,
            )?;
        }
        Ok(step)
    }

    /// Reads task `id`. Fails with [`Error::NotFound`] if it has no file.
    pub fn task(&self, id: &str) -> Result<Task> {
        let rel = task_path(id)?;
        let path = self.root().join(&rel);
        match std::fs::read(&path) {
            Ok(bytes) => parse_task(id, &rel, &bytes, self.task_ttl_now()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not_started(id)),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Ends task `id` with an optional `outcome`: appends the end line and commits the file
    /// (`Memdir-Op: task-end`). Returns the commit, or `None` if it had already ended and was
    /// committed.
    pub fn task_end(
        &self,
        id: &str,
        outcome: Option<&str>,
        prov: &Provenance,
    ) -> Result<Option<String>> {
        let Locked {
            mut file,
            rel,
            path,
            bytes,
        } = self.lock_task(id)?;
        let io = |e| Error::io(&path, e);
        let task = parse_task(id, &rel, &bytes, self.task_ttl_now())?;
        if task.ended.is_none() {
            append_line(
                &mut file,
                &Line::End {
                    ended: Timestamp::now().to_string(),
                    outcome: outcome
                        .map(str::trim)
                        .filter(|o| !o.is_empty())
                        .map(str::to_owned),
                },
            )
            .map_err(io)?;
        }
        drop(file);
        self.commit_worktree_files(
            std::slice::from_ref(&rel),
            format!("task-end: {id} ({} steps)", task.steps.len()),
            "task-end",
            prov,
        )
    }

    /// Opens task `id`'s file for appending, takes its lock, reads it and cuts a torn last
    /// line. Fails with [`Error::NotFound`] when the task was not started.
    fn lock_task(&self, id: &str) -> Result<Locked> {
        let rel = task_path(id)?;
        let path = self.root().join(&rel);
        let io = |e| Error::io(&path, e);
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_started(id)),
            Err(e) => return Err(io(e)),
        };
        file.lock().map_err(io)?;
        let mut bytes = std::fs::read(&path).map_err(io)?;
        cut_torn_line(&file, &mut bytes).map_err(io)?;
        Ok(Locked {
            file,
            rel,
            path,
            bytes,
        })
    }

    /// Returns the clock and lifetime a task is judged by now.
    fn task_ttl_now(&self) -> (Timestamp, f64) {
        (Timestamp::now(), self.config().task.ttl_hours)
    }
}

fn not_started(id: &str) -> Error {
    Error::NotFound {
        id: format!("task {id} (start it with `memdir task start {id} --goal TEXT`)"),
    }
}

/// Cuts a torn last line (a write that a crash interrupted: never acknowledged) off the
/// file, so that the next line appended starts a line of its own. The caller holds the
/// file's lock.
fn cut_torn_line(file: &std::fs::File, bytes: &mut Vec<u8>) -> std::io::Result<()> {
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    file.set_len(keep as u64)?;
    bytes.truncate(keep);
    file.sync_data()
}

/// Appends one line in one write, then makes it durable.
fn append_line(file: &mut std::fs::File, line: &Line) -> std::io::Result<()> {
    let mut text = serde_json::to_string(line).expect("a task line serializes");
    text.push('\n');
    // One write of one line: a crash leaves at worst a torn last line, which reading skips.
    file.write_all(text.as_bytes())?;
    file.sync_data()
}

/// Parses a task file, judged at `now` against `ttl_hours`; a torn last line (a crash
/// mid-append) is skipped, any other bad line is an error naming it.
fn parse_task(
    id: &str,
    path: &str,
    bytes: &[u8],
    (now, ttl_hours): (Timestamp, f64),
) -> Result<Task> {
    let text = String::from_utf8_lossy(bytes);
    let mut task = Task {
        id: id.to_owned(),
        path: path.to_owned(),
        revision: Store::revision_of(bytes).0,
        goal: String::new(),
        started: String::new(),
        agent: None,
        session: None,
        steps: Vec::new(),
        next: None,
        artifacts: Vec::new(),
        ended: None,
        outcome: None,
        expired: false,
    };
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Start {
                goal,
                started,
                agent,
                session,
                ..
            }) => {
                task.goal = goal;
                task.started = started;
                task.agent = agent;
                task.session = session;
            }
            Ok(Line::Step(s)) => {
                for a in &s.artifacts {
                    if !task.artifacts.contains(a) {
                        task.artifacts.push(a.clone());
                    }
                }
                task.next.clone_from(&s.next);
                task.steps.push(s);
            }
            Ok(Line::End { ended, outcome }) => {
                task.ended = Some(ended);
                task.outcome = outcome;
            }
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => {}
            Err(e) => {
                return Err(Error::invalid(format!(
                    "{path}:{}: not a task line ({e}); fix or remove the line",
                    i + 1
                )));
            }
        }
    }
    task.expired = task
        .last_time()
        .is_some_and(|last| (now.unix() - last.unix()) as f64 > ttl_hours * 3600.0);
    Ok(task)
}
