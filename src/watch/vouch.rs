//! A running watcher vouching for the working tree, so that a new process need not `stat`
//! every memory file to find hand edits: what git's fsmonitor daemon does for `git status`.
//!
//! A process that starts (every CLI call) looks for hand edits once, by comparing the `stat`
//! of every memory file with a cache: one system call per file, about 0.2 s at 100,000
//! memories. A watcher (`memdir watch`, or the watch behind `memdir serve` and `memdir mcp`)
//! already sees every change as it happens. So, once caught up, it listens on a Unix socket
//! in the repository's git folder ([`socket_path`]), and a process that would scan asks it
//! first ([`ask`]):
//!
//! 1. the asker connects and sends `vouch`;
//! 2. the watcher writes a *cookie*, an empty hidden file in the watched folder, and waits
//!    until its own event stream reports it. The OS reports events in the order they
//!    happened, so by then the watcher has seen every change made before the question;
//! 3. the watcher's loop indexes those changes at once (without waiting for its usual
//!    settling delay) and only then answers `ok`; the cookie is removed.
//!
//! The asker then skips the scan: the index already holds every hand edit made before it
//! asked. Nothing depends on the watcher for correctness: no socket, a refused connection
//! (a watcher that was killed leaves its socket file behind), a watcher that does not answer
//! within [`ASK_TIMEOUT`], or any answer but `ok` all mean "scan as usual". One watcher per
//! repository serves (the one holding `watch.lock`); others watch without serving.
//!
//! Unix only; elsewhere [`ask`] always says no and no watcher serves.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The socket's file name, in memdir's folder of the git folder (`.git/memdir/`).
pub const SOCKET_FILE: &str = "watch.sock";
/// The lock that the serving watcher holds, beside the socket.
const LOCK_FILE: &str = "watch.lock";
/// The start of a cookie's file name, in the watched folder's top (hidden: never a memory,
/// ignored by the watcher's routing).
pub const COOKIE_PREFIX: &str = ".memdir-cookie-";
/// How long an asker waits for the answer, and the watcher for its cookie's event. An answer
/// takes about a millisecond; a watcher that is slower is busy with a large change (then the
/// asker's own scan costs about the same) or stopped (`Ctrl-Z`: then every call pays this
/// wait until it is resumed or killed).
pub const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// Returns the socket's path for the memdir folder `memdir_dir` (`.git/memdir`).
pub fn socket_path(memdir_dir: &Path) -> PathBuf {
    memdir_dir.join(SOCKET_FILE)
}

/// Returns true when a watcher vouches that every change made to the working tree before
/// this call is indexed; false when none answers `ok` in time (then scan).
pub fn ask(memdir_dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::io::{BufRead as _, BufReader, Write as _};
        let path = socket_path(memdir_dir);
        if !path.exists() {
            return false;
        }
        let asked = || -> std::io::Result<bool> {
            let mut stream = std::os::unix::net::UnixStream::connect(&path)?;
            stream.set_read_timeout(Some(ASK_TIMEOUT))?;
            stream.set_write_timeout(Some(ASK_TIMEOUT))?;
            stream.write_all(b"vouch\n")?;
            let mut answer = String::new();
            BufReader::new(stream).read_line(&mut answer)?;
            Ok(answer.trim_end() == "ok")
        };
        match asked() {
            Ok(vouched) => {
                tracing::debug!(vouched, "asked the watcher at {}", path.display());
                vouched
            }
            Err(e) => {
                tracing::debug!("no watcher at {} ({e}): scanning", path.display());
                false
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = memdir_dir;
        false
    }
}

/// The questions waiting for their cookie, by cookie number: the watcher's loop answers them.
#[derive(Debug, Default, Clone)]
pub struct Pending {
    waiting: Arc<Mutex<HashMap<u64, Sender<bool>>>>,
}

impl Pending {
    /// Registers cookie `n`; its answer arrives on the returned receiver.
    fn register(&self, n: u64) -> Receiver<bool> {
        let (tx, rx) = channel();
        self.lock().insert(n, tx);
        rx
    }

    /// Answers the question of cookie `n` (`ok` when `indexed`); a cookie no one waits for
    /// any more (its asker gave up, or the event is its removal) is ignored.
    pub fn answer(&self, n: u64, indexed: bool) {
        if let Some(tx) = self.lock().remove(&n) {
            let _ = tx.send(indexed);
        }
    }

    fn forget(&self, n: u64) {
        self.lock().remove(&n);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Sender<bool>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Returns the cookie number named by `rel`, a changed path relative to the watched folder
/// (`None` for every other path).
pub fn cookie(rel: &str) -> Option<u64> {
    rel.strip_prefix(COOKIE_PREFIX)?
        .rsplit_once('-')
        .filter(|(pid, _)| *pid == std::process::id().to_string())?
        .1
        .parse()
        .ok()
}

/// The serving end: listens for questions on its own thread until dropped (the socket file
/// is then removed; a killed process leaves it, and askers fall back to scanning).
#[derive(Debug)]
pub struct Voucher {
    socket: PathBuf,
    _lock: crate::lock::WriteLock,
}

impl Drop for Voucher {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Voucher {
    /// Starts serving questions about the folder `watched` on the socket in `memdir_dir`,
    /// answered through `pending` by the watcher's loop. `None` when another watcher serves
    /// already, or the socket cannot be made (then askers scan, as without a watcher).
    pub fn serve(memdir_dir: &Path, watched: &Path, pending: Pending) -> Option<Voucher> {
        #[cfg(unix)]
        {
            let lock = match crate::lock::WriteLock::try_acquire(&memdir_dir.join(LOCK_FILE)) {
                Ok(Some(lock)) => lock,
                Ok(None) => {
                    tracing::debug!("another watcher serves {}", memdir_dir.display());
                    return None;
                }
                Err(e) => {
                    tracing::debug!("not serving: {e}");
                    return None;
                }
            };
            let socket = socket_path(memdir_dir);
            // A socket left by a watcher that was killed: the lock says none serves now.
            let _ = std::fs::remove_file(&socket);
            let listener = match std::os::unix::net::UnixListener::bind(&socket) {
                Ok(l) => l,
                Err(e) => {
                    tracing::debug!("not serving on {}: {e}", socket.display());
                    return None;
                }
            };
            let watched = watched.to_owned();
            let spawned = std::thread::Builder::new()
                .name("memdir-vouch".into())
                .spawn(move || {
                    let mut next = 0u64;
                    for stream in listener.incoming() {
                        let Ok(stream) = stream else { continue };
                        next += 1;
                        let (n, watched, pending) = (next, watched.clone(), pending.clone());
                        // One thread per question: a slow asker holds up no other.
                        let _ = std::thread::Builder::new()
                            .name("memdir-vouch-answer".into())
                            .spawn(move || answer(stream, n, &watched, &pending));
                    }
                });
            if let Err(e) = spawned {
                tracing::debug!("not serving: {e}");
                return None;
            }
            Some(Voucher {
                socket,
                _lock: lock,
            })
        }
        #[cfg(not(unix))]
        {
            let _ = (memdir_dir, watched, pending);
            None
        }
    }
}

/// Answers one asker: writes cookie `n` in `watched`, waits for the loop to have indexed
/// everything before it, and says `ok` (or `no`, when the loop failed or took too long).
#[cfg(unix)]
fn answer(stream: std::os::unix::net::UnixStream, n: u64, watched: &Path, pending: &Pending) {
    use std::io::{BufRead as _, BufReader, Write as _};
    let _ = stream.set_read_timeout(Some(ASK_TIMEOUT));
    let mut question = String::new();
    let mut reader = BufReader::new(&stream);
    if reader.read_line(&mut question).is_err() || question.trim_end() != "vouch" {
        return;
    }
    let rx = pending.register(n);
    let cookie = watched.join(format!("{COOKIE_PREFIX}{}-{n}", std::process::id()));
    let indexed =
        std::fs::write(&cookie, b"").is_ok() && rx.recv_timeout(ASK_TIMEOUT).unwrap_or(false);
    pending.forget(n);
    let _ = std::fs::remove_file(&cookie);
    let mut stream = &stream;
    let _ = stream.write_all(if indexed { b"ok\n" } else { b"no\n" });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_this_process_numbered_hidden_files() {
        let pid = std::process::id();
        assert_eq!(cookie(&format!("{COOKIE_PREFIX}{pid}-7")), Some(7));
        // Another process's cookie is its own business.
        assert_eq!(cookie(&format!("{COOKIE_PREFIX}{}-7", pid + 1)), None);
        assert_eq!(cookie("fact/x.md"), None);
        assert_eq!(cookie(&format!("fact/{COOKIE_PREFIX}{pid}-7")), None);
    }

    #[test]
    fn no_socket_means_no_vouch() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!ask(dir.path()));
        // A socket file with no one listening (a killed watcher's): refused, so no.
        #[cfg(unix)]
        {
            let listener = std::os::unix::net::UnixListener::bind(socket_path(dir.path()));
            drop(listener);
            assert!(socket_path(dir.path()).exists());
            assert!(!ask(dir.path()));
        }
    }

    #[test]
    fn a_question_is_answered_once_its_cookie_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let pending = Pending::default();
        let voucher = Voucher::serve(dir.path(), dir.path(), pending.clone()).unwrap();
        // A second watcher does not serve the same repository.
        assert!(Voucher::serve(dir.path(), dir.path(), Pending::default()).is_none());
        let asker = std::thread::spawn({
            let dir = dir.path().to_owned();
            move || ask(&dir)
        });
        // Play the watcher's loop: wait for the cookie file (the OS watcher would report
        // it), then answer.
        let n = loop {
            let found = std::fs::read_dir(dir.path())
                .unwrap()
                .filter_map(|e| cookie(e.unwrap().file_name().to_str().unwrap()))
                .next();
            if let Some(n) = found {
                break n;
            }
            std::thread::yield_now();
        };
        pending.answer(n, true);
        assert!(asker.join().unwrap());
        drop(voucher);
        assert!(!socket_path(dir.path()).exists());
        assert!(!ask(dir.path()));
    }
}
