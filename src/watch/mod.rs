//! Watching the working tree for hand edits. The only module that imports notify.
//!
//! [`FsWatcher`] wraps the OS watcher (inotify, FSEvents, ...): it watches the repository
//! recursively and hands over the paths of each change through a channel, waiting at most
//! until a deadline. Everything that decides what a change means and when to act on it is
//! in [`route`], which has no OS watcher and no clock, so it is tested without sleeping. The
//! facade's `Memdir::watch` joins the two and refreshes the index or commits. While it runs,
//! [`vouch`] lets other processes skip their scan of the working tree.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Instant;

use notify::{EventKindMask, RecursiveMode, Watcher as _};

pub mod route;
pub mod vouch;

pub use route::{Action, Debouncer, Route, Timing};

/// Why watching failed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The OS watcher could not be started or reported an error.
    #[error("cannot watch {} for changes", root.display())]
    Notify {
        /// The folder watched.
        root: PathBuf,
        /// notify's error.
        #[source]
        source: notify::Error,
    },
    /// The OS watcher stopped.
    #[error("the watcher of {} stopped", root.display())]
    Stopped {
        /// The folder watched.
        root: PathBuf,
    },
    /// A write handed to a running watcher got no answer: the watcher stopped (or was killed)
    /// after taking it, so whether the memory was written is not known.
    #[error(
        "the watcher serving {} stopped before answering a write it had taken: whether the memory was written is not known; `memdir log -n 1` shows the last write",
        socket.display()
    )]
    Lost {
        /// The watcher's socket.
        socket: PathBuf,
        /// How the answer was lost.
        #[source]
        source: std::io::Error,
    },
    /// A write handed to a running watcher failed there.
    #[error("the watcher serving {} could not write: {message}", socket.display())]
    HandedOver {
        /// The watcher's socket.
        socket: PathBuf,
        /// The watcher's error, with its causes.
        message: String,
    },
}

/// A recursive OS watcher on a folder.
pub struct FsWatcher {
    root: PathBuf,
    _watcher: notify::RecommendedWatcher,
    events: Receiver<notify::Result<notify::Event>>,
}

impl std::fmt::Debug for FsWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsWatcher")
            .field("root", &self.root)
            .finish()
    }
}

impl FsWatcher {
    /// Starts watching `root` and everything under it. Changes made from now on are reported.
    pub fn new(root: &Path) -> Result<FsWatcher, WatchError> {
        let err = |source| WatchError::Notify {
            root: root.to_owned(),
            source,
        };
        let (tx, events) = channel();
        // Changes only, and a file closed after writing: opening and reading a file is not
        // asked for, so readers of the folder (memdir's own refresh, an editor, `rg`) do not
        // wake the watcher (on Linux the kernel itself leaves those events out).
        let config = notify::Config::default()
            .with_event_kinds(EventKindMask::CORE | EventKindMask::ACCESS_CLOSE);
        let mut watcher = notify::RecommendedWatcher::new(
            move |event| {
                // The receiver is gone only when the watcher is being dropped.
                let _ = tx.send(event);
            },
            config,
        )
        .map_err(err)?;
        watcher.watch(root, RecursiveMode::Recursive).map_err(err)?;
        Ok(FsWatcher {
            root: root.to_owned(),
            _watcher: watcher,
            events,
        })
    }

    /// Waits for the next change until `deadline` (forever when `None`) and returns the paths
    /// it touched, relative to the root with `/` separators (`""` for the root itself, or when
    /// the OS lost track and everything may have changed); an empty list when the deadline
    /// passed first, or when the event only says a file was read. Paths outside the root are
    /// dropped.
    pub fn next(&self, deadline: Option<Instant>) -> Result<Vec<String>, WatchError> {
        let event = match deadline {
            None => self.events.recv().map_err(|_| self.stopped())?,
            Some(d) => match self
                .events
                .recv_timeout(d.saturating_duration_since(Instant::now()))
            {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => return Ok(Vec::new()),
                Err(RecvTimeoutError::Disconnected) => return Err(self.stopped()),
            },
        };
        let event = event.map_err(|source| WatchError::Notify {
            root: self.root.clone(),
            source,
        })?;
        if is_read(&event.kind) {
            // Opening or reading a file changes nothing; memdir's own refresh reads files,
            // so reporting these would wake the watcher up forever. (Not asked for, see
            // `new`; a backend that filters late may still pass one.)
            return Ok(Vec::new());
        }
        if event.paths.is_empty() {
            // The OS dropped events (a queue overflow): say "something under the root".
            return Ok(vec![String::new()]);
        }
        Ok(event
            .paths
            .iter()
            .filter_map(|p| p.strip_prefix(&self.root).ok())
            .filter_map(|p| p.to_str())
            .map(|p| p.replace(std::path::MAIN_SEPARATOR, "/"))
            .collect())
    }

    fn stopped(&self) -> WatchError {
        WatchError::Stopped {
            root: self.root.clone(),
        }
    }
}

/// Returns true for events that only say a file was opened, read or closed after reading.
fn is_read(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind};
    matches!(kind, EventKind::Access(a) if *a != AccessKind::Close(AccessMode::Write))
}
