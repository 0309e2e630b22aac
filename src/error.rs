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
    #[error("{} is not inside a memdir repository (no folder holding memory.toml and .git at or above it)", path.display())]
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

impl Error {
    /// Returns a stable, machine-readable name for the kind of failure, for callers that
    /// answer in JSON (the HTTP and MCP servers): `invalid_id`, `invalid`, `not_found`,
    /// `duplicate_id`, `conflict`, `config` or `internal`. New variants map onto these, so a
    /// client can match on them.
    ///
    /// ```
    /// let e = memdir::Error::NotFound { id: "x".into() };
    /// assert_eq!(e.code(), "not_found");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::Parse(ParseError::InvalidId { .. }) => "invalid_id",
            Error::Parse(_)
            | Error::Invalid { .. }
            | Error::InvalidEdits { .. }
            | Error::Protected { .. }
            | Error::Transcript(_)
            | Error::Extract(_)
            | Error::Context(ContextError::PinnedOverBudget { .. }) => "invalid",
            Error::NotFound { .. } => "not_found",
            Error::DuplicateId { .. } => "duplicate_id",
            Error::Conflict { .. } | Error::Diverged { .. } => "conflict",
            Error::Config(_) | Error::Context(ContextError::UnknownTokenizer { .. }) => "config",
            Error::Context(_)
            | Error::Store(_)
            | Error::Index(_)
            | Error::Watch(_)
            | Error::Llm(_)
            | Error::NotARepository { .. }
            | Error::AlreadyInitialized { .. }
            | Error::Io { .. } => "internal",
        }
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
