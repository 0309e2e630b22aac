//! How a failed command is reported: a message with its causes, hints on what to do, and an
//! exit code chosen by the kind of failure.
//!
//! Exit codes: 0 success (also when stdout is a closed pipe), 1 the request could not be done
//! (bad input, missing memory, invalid files, `check` found problems), 2 bad command-line usage,
//! 3 conflict (the memory changed since the expected revision), 4 internal error (git, index or
//! I/O failure).

use std::process::ExitCode;

use memdir::{Error, ErrorKind};

/// What kind of failure, which picks the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The user asked for something that cannot be done as asked.
    User,
    /// The command line itself is wrong.
    Usage,
    /// A compare-and-swap failed.
    Conflict,
    /// stdout was closed by the reader.
    BrokenPipe,
    /// Something broke that the user did not cause.
    Internal,
    /// The command ran and reported its finding (e.g. `check` found problems); nothing more to print.
    Silent,
}

/// A command failure.
#[derive(Debug)]
pub struct CliError {
    kind: Kind,
    error: Box<dyn std::error::Error + Send + Sync>,
    hints: Vec<String>,
}

impl CliError {
    pub fn user(message: impl Into<String>) -> Self {
        CliError {
            kind: Kind::User,
            error: message.into().into(),
            hints: Vec::new(),
        }
    }

    /// Returns a failure of the request (exit code 1) that prints `error` with its causes.
    #[cfg(any(feature = "mcp", feature = "http"))]
    pub fn user_error(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        CliError {
            kind: Kind::User,
            error: Box::new(error),
            hints: Vec::new(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            kind: Kind::Usage,
            error: message.into().into(),
            hints: Vec::new(),
        }
    }

    pub fn silent() -> Self {
        CliError {
            kind: Kind::Silent,
            error: "".into(),
            hints: Vec::new(),
        }
    }

    /// Turns any failure into a plain one (exit code 1), for callers that give other codes a
    /// meaning of their own (an agent hook, where 2 means "block").
    pub fn non_blocking(mut self) -> Self {
        if matches!(self.kind, Kind::Usage | Kind::Conflict | Kind::Internal) {
            self.kind = Kind::User;
        }
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Prints the error and returns the exit code.
    pub fn report(self) -> ExitCode {
        let code = match self.kind {
            Kind::BrokenPipe => return ExitCode::SUCCESS,
            Kind::Silent => return ExitCode::from(1),
            Kind::User => 1,
            Kind::Usage => 2,
            Kind::Conflict => 3,
            Kind::Internal => 4,
        };
        let mut message = format!("error: {}", self.error);
        let mut source = self.error.source();
        while let Some(cause) = source {
            message.push_str(&format!("\n  caused by: {cause}"));
            source = cause.source();
        }
        eprintln!("{message}");
        for hint in &self.hints {
            eprintln!("hint: {hint}");
        }
        ExitCode::from(code)
    }
}

impl From<Error> for CliError {
    fn from(error: Error) -> Self {
        // The library classifies; the CLI only picks an exit code per kind, and its own words.
        let kind = match error.kind() {
            ErrorKind::Conflict | ErrorKind::Busy => Kind::Conflict,
            ErrorKind::InvalidId
            | ErrorKind::Invalid
            | ErrorKind::NotFound
            | ErrorKind::DuplicateId
            | ErrorKind::Config
            | ErrorKind::NotARepository
            | ErrorKind::Upstream => Kind::User,
            ErrorKind::Internal => Kind::Internal,
            // `ErrorKind` is non-exhaustive to the binary; a kind added later is reported as
            // internal until it is given a code here.
            _ => Kind::Internal,
        };
        let hints = match &error {
            Error::Conflict { id, .. } => vec![format!(
                "run `memdir show {id}` to see the current version, then retry with its revision"
            )],
            Error::Context(memdir::context::ContextError::PinnedOverBudget { .. }) => vec![
                "pass a larger --budget; `memdir hook` injects what fits instead of failing".into(),
            ],
            Error::Diverged { paths, .. } => vec![format!(
                "bring one memory back as it was with `memdir restore ID --at REV`, or see what changed with `memdir log ID` ({})",
                paths.join(", ")
            )],
            Error::InsideProject { path, .. } => vec![
                format!(
                    "to keep memory with this project, run `memdir init --project` in {} (memory goes to .memdir/)",
                    path.display()
                ),
                "if its Markdown files are notes you want as memories, run `memdir init --adopt`; for a repository of its own, choose an empty folder".into(),
            ],
            Error::ProjectMemory { .. } => vec![
                "project memory travels with the project: `git pull` and `git push` carry it, and memdir's merge driver merges memories".into(),
            ],
            Error::Sync(memdir::SyncError::KeptMoving { .. }) => vec![
                "another clone pushed before each attempt; run `memdir sync` again".into(),
            ],
            Error::Store(memdir::store::StoreError::Transfer { .. }) => vec![
                "check the remote with `git remote -v`, and that `git fetch` works in this repository".into(),
            ],
            _ => match error.kind() {
                ErrorKind::NotARepository => vec![
                    "run `memdir init DIR` to create one (or `memdir init --project` inside a project's git repository), or point at one with -C DIR or MEMDIR_DIR"
                        .into(),
                ],
                ErrorKind::NotFound => {
                    vec!["`memdir list` shows every id; `memdir search TEXT` finds one".into()]
                }
                ErrorKind::DuplicateId => {
                    vec!["`memdir check` lists duplicates; give one file a new id".into()]
                }
                ErrorKind::Busy => vec![
                    "another git process holds the branch; nothing was changed: try again".into(),
                ],
                _ => Vec::new(),
            },
        };
        CliError {
            kind,
            error: Box::new(error),
            hints,
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> Self {
        let kind = if error.kind() == std::io::ErrorKind::BrokenPipe {
            Kind::BrokenPipe
        } else {
            Kind::Internal
        };
        CliError {
            kind,
            error: Box::new(error),
            hints: Vec::new(),
        }
    }
}

impl From<serde_json::Error> for CliError {
    fn from(error: serde_json::Error) -> Self {
        if error.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe) {
            return CliError::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        }
        CliError {
            kind: Kind::Internal,
            error: Box::new(error),
            hints: Vec::new(),
        }
    }
}
