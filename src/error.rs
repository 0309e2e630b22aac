//! The crate-wide [`Error`] type.
//!
//! Each module owns an error enum that names what went wrong and where (file, line, field, id);
//! this module only gathers them so callers can use one `Result` type. The CLI maps each variant
//! to an exit code and a hint in `src/cli/error.rs`.

use std::path::PathBuf;

pub use crate::config::ConfigError;
pub use crate::context::ContextError;
pub use crate::extract::ExtractError;
pub use crate::index::IndexError;
pub use crate::llm::LlmError;
pub use crate::parse::ParseError;
pub use crate::store::StoreError;
pub use crate::transcript::TranscriptError;
pub use crate::watch::WatchError;

/// Result alias used throughout memdir.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a memdir call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A memory file or a value given for one could not be parsed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// `memory.toml` is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The git repository could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The search index could not be read or written.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// A conversation transcript could not be read.
    #[error(transparent)]
    Transcript(#[from] TranscriptError),
    /// A prompt context could not be built.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// The working tree could not be watched.
    #[error(transparent)]
    Watch(#[from] WatchError),
    /// A model call failed.
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// A model's proposed memory operations could not be read.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// A sync with a remote could not finish.
    #[error(transparent)]
    Sync(#[from] crate::memdir::SyncError),
    /// No memory has this id.
    #[error("no memory with id `{id}`")]
    NotFound {
        /// The id that was asked for.
        id: String,
    },
    /// Two or more files claim the same id, so the id does not name one memory.
    #[error("id `{id}` is used by more than one file: {}", paths.join(", "))]
    DuplicateId {
        /// The ambiguous id.
        id: String,
        /// Every file that claims it.
        paths: Vec<String>,
    },
    /// The memory changed since the caller read it (compare-and-swap failed).
    #[error("memory `{id}` changed: expected revision {expected}, but it is now at {actual}")]
    Conflict {
        /// The memory being updated.
        id: String,
        /// The revision the caller expected.
        expected: String,
        /// The revision on disk now.
        actual: String,
    },
    /// An undo would overwrite changes made since the change it undoes.
    #[error("{what}: {} changed since; undoing it would overwrite those changes", paths.join(", "))]
    Diverged {
        /// What was asked (`cannot revert 1a2b3c4d5e6f`).
        what: String,
        /// The files changed since.
        paths: Vec<String>,
    },
    /// The caller passed a value that memdir cannot accept (an unknown type, an empty text...).
    #[error("{message}")]
    Invalid {
        /// What is wrong, as a sentence fragment.
        message: String,
    },
    /// The directory is not inside a memdir repository.
    #[error("{} is not inside a memdir repository (no folder holding memory.toml and .git at or above it, and no project memory folder such as .memdir/ in the git repository around it)", path.display())]
    NotARepository {
        /// The directory that was searched from.
        path: PathBuf,
    },
    /// `init` was asked to create a repository where one already exists.
    #[error("{} already holds a memdir repository", path.display())]
    AlreadyInitialized {
        /// The directory.
        path: PathBuf,
    },
    /// `init` (without `--project`) was asked to lay a memory repository over a project: the
    /// top of a git repository whose committed Markdown files (a CHANGELOG, docs) would be
    /// taken for memories.
    #[error("{} is the top of a git repository whose files would be taken for memories, such as {file}", path.display())]
    InsideProject {
        /// The folder.
        path: PathBuf,
        /// The first committed file that would be taken for a memory.
        file: String,
    },
    /// A command that rewrites or moves a whole repository was run on project memory.
    #[error("{what} works on a memory repository of its own: it rewrites or moves the whole repository, and {} is project memory, in a folder of a repository that holds the project's code", root.display())]
    ProjectMemory {
        /// The command, such as `memdir sync`.
        what: &'static str,
        /// The memory folder.
        root: PathBuf,
    },
    /// Hand edits cannot be committed because some edited files are invalid.
    #[error("{} edited file(s) are invalid; fix them and try again:\n{}", problems.len(), problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    InvalidEdits {
        /// One entry per problem.
        problems: Vec<crate::Problem>,
    },
    /// A change would delete or break one of the repository's own files (`memory.toml`,
    /// `MEMORY.md`, `.gitattributes`); nothing was changed.
    #[error("cannot {what}: it would break the repository's own files:\n{}", problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Protected {
        /// The change refused, such as `revert 1a2b3c4d5e6f`.
        what: String,
        /// One entry per file.
        problems: Vec<crate::Problem>,
    },
    /// Reading or writing a file outside git failed.
    #[error("cannot access {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// What kind of failure an [`Error`] is. This is the one classification of errors: the CLI's
/// exit codes, the HTTP statuses and the MCP answers each derive from it by an exhaustive
/// match, so a new error cannot fall through to a default in one adapter and not another.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A text that is not a memory id.
    InvalidId,
    /// The request cannot be done as asked: bad input, invalid files, an edit that breaks the
    /// repository. The caller can fix it.
    Invalid,
    /// No memory has the id.
    NotFound,
    /// More than one file claims the id.
    DuplicateId,
    /// The memory (or files) changed since the caller read them: read again, then retry.
    Conflict,
    /// Another git process holds the branch locked: retry shortly, nothing was changed.
    Busy,
    /// `memory.toml` (or a setting it names) is invalid.
    Config,
    /// There is no memory repository where one was looked for.
    NotARepository,
    /// The model server of `[llm]` failed or refused (its message says what to do).
    Upstream,
    /// Something the caller did not cause failed: git, the index, the disk, a model server.
    Internal,
}

impl ErrorKind {
    /// Returns the kind's stable, machine-readable name, for callers that answer in JSON
    /// (the HTTP and MCP servers): `invalid_id`, `invalid`, `not_found`, `duplicate_id`,
    /// `conflict`, `busy`, `config`, `not_a_repository`, `upstream` or `internal`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidId => "invalid_id",
            ErrorKind::Invalid => "invalid",
            ErrorKind::NotFound => "not_found",
            ErrorKind::DuplicateId => "duplicate_id",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Busy => "busy",
            ErrorKind::Config => "config",
            ErrorKind::NotARepository => "not_a_repository",
            ErrorKind::Upstream => "upstream",
            ErrorKind::Internal => "internal",
        }
    }

    /// Returns true if the same request may succeed when simply tried again later.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Busy)
    }
}

impl Error {
    /// Returns what kind of failure this is (see [`ErrorKind`]).
    ///
    /// ```
    /// use memdir::{Error, ErrorKind};
    /// assert_eq!(Error::NotFound { id: "x".into() }.kind(), ErrorKind::NotFound);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        use crate::store::StoreError;
        match self {
            Error::Parse(ParseError::InvalidId { .. }) => ErrorKind::InvalidId,
            Error::Parse(_)
            | Error::Invalid { .. }
            | Error::InvalidEdits { .. }
            | Error::Protected { .. }
            | Error::AlreadyInitialized { .. }
            | Error::InsideProject { .. }
            | Error::ProjectMemory { .. }
            | Error::Transcript(_)
            | Error::Extract(_)
            | Error::Store(
                StoreError::TagExists { .. }
                | StoreError::BadName { .. }
                | StoreError::Remote { .. },
            )
            | Error::Sync(crate::memdir::SyncError::NotEmpty { .. })
            | Error::Context(ContextError::PinnedOverBudget { .. }) => ErrorKind::Invalid,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::DuplicateId { .. } => ErrorKind::DuplicateId,
            Error::Conflict { .. }
            | Error::Diverged { .. }
            | Error::Sync(
                crate::memdir::SyncError::Unsynced { .. }
                | crate::memdir::SyncError::Purged { .. }
                | crate::memdir::SyncError::PurgedThere { .. }
                | crate::memdir::SyncError::PurgeBehind { .. }
                | crate::memdir::SyncError::LeaseBroken { .. },
            ) => ErrorKind::Conflict,
            Error::Store(StoreError::RefLocked { .. })
            | Error::Sync(crate::memdir::SyncError::KeptMoving { .. }) => ErrorKind::Busy,
            Error::Store(StoreError::Transfer { .. }) => ErrorKind::Upstream,
            Error::Config(_) | Error::Context(ContextError::UnknownTokenizer { .. }) => {
                ErrorKind::Config
            }
            Error::NotARepository { .. } => ErrorKind::NotARepository,
            // The HTTP client could not even be built: memdir's failure, not the server's.
            Error::Llm(crate::llm::LlmError::Client(_)) => ErrorKind::Internal,
            Error::Llm(_) => ErrorKind::Upstream,
            Error::Context(ContextError::Log { .. })
            | Error::Store(_)
            | Error::Index(_)
            | Error::Watch(_)
            | Error::Io { .. } => ErrorKind::Internal,
        }
    }

    /// Returns the stable name of the kind of failure ([`ErrorKind::code`]).
    ///
    /// ```
    /// let e = memdir::Error::NotFound { id: "x".into() };
    /// assert_eq!(e.code(), "not_found");
    /// ```
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// Returns the error and its chain of causes as one line, `error: cause: cause`.
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            out.push_str(": ");
            out.push_str(&cause.to_string());
            source = cause.source();
        }
        out
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid {
            message: message.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
