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
//! The same socket takes writes ([`hand_over`]): a process that would write (`memdir add`)
//! sends `write`, waits for `go`, then sends its request as one line; the watcher's loop
//! runs it at its cookie, after indexing everything before it, as for a vouch, and the answer
//! comes back as one line. The watcher keeps what a new process would build again for each
//! write (the repository, the index, the guard's rules, git's index read). What a request
//! and an answer say is the facade's business (`memdir/handover.rs`); this module only
//! carries the lines. No socket, a refused connection, or no `go` mean the caller writes
//! itself; only a watcher that stops after taking the request leaves it not knowing.
//!
//! The socket also takes `stop` ([`stop`]): the watcher's loop indexes what changed before
//! it, runs the writes it took, and stops (or, for a watcher that is part of a server
//! process, says it will not: stopping that is stopping the server).
//!
//! Unix only; elsewhere [`ask`] always says no, [`hand_over`] leaves every write to the
//! caller, and no watcher serves.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The socket's file name, in memdir's folder of the git folder (`.git/memdir/`).
pub const SOCKET_FILE: &str = "watch.sock";
/// The lock that the serving watcher holds, beside the socket.
const LOCK_FILE: &str = "watch.lock";
/// The serving watcher's process id, beside the socket: written before the socket is bound,
/// so while the socket takes connections it names the process behind it.
const PID_FILE: &str = "watch.pid";
/// The start of a cookie's file name, in the watched folder's top (hidden: never a memory,
/// ignored by the watcher's routing).
pub const COOKIE_PREFIX: &str = ".memdir-cookie-";
/// How long an asker waits for the answer, and the watcher for its cookie's event. An answer
/// takes about a millisecond; a watcher that is slower is busy with a large change (then the
/// asker's own scan costs about the same) or stopped (`Ctrl-Z`: then every call pays this
/// wait until it is resumed or killed).
pub const ASK_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a writer waits for the answer to a write the watcher's loop took: a write waits
/// for the repository's write lock as long as a process writing itself would.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(600);

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

/// Returns true when a watcher serves `memdir_dir`'s repository: its socket takes a
/// connection. Asks nothing (the watcher reads an empty question and moves on).
pub fn serving(memdir_dir: &Path) -> bool {
    #[cfg(unix)]
    {
        let path = socket_path(memdir_dir);
        path.exists() && std::os::unix::net::UnixStream::connect(&path).is_ok()
    }
    #[cfg(not(unix))]
    {
        let _ = memdir_dir;
        false
    }
}

/// Returns the process id of the watcher serving `memdir_dir`'s repository, or `None` when
/// none serves ([`serving`]).
pub fn serving_pid(memdir_dir: &Path) -> Option<u32> {
    serving(memdir_dir)
        .then(|| recorded_pid(memdir_dir))
        .flatten()
}

/// Returns the process id the serving watcher wrote beside its socket, without asking
/// whether it still serves: for a caller that knows it does (it just connected).
pub fn recorded_pid(memdir_dir: &Path) -> Option<u32> {
    std::fs::read_to_string(memdir_dir.join(PID_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// What a request to stop the serving watcher came to ([`stop`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// No watcher serves the repository.
    NotServing,
    /// The watcher with this process id stopped: it no longer serves, and every write it
    /// had taken was run.
    Stopped(Option<u32>),
    /// The watcher with this process id is part of a server (`memdir mcp`, `memdir serve`)
    /// and goes on: stop that process instead.
    Refused(Option<u32>),
    /// The watcher did not answer in time (or said it would stop and still serves after
    /// [`WRITE_TIMEOUT`]): it may be busy or suspended.
    NoAnswer(Option<u32>),
}

/// The answer of a watcher that stops when asked.
const STOPPING: &str = "stopping";
/// The answer of a watcher that does not (see [`Stop::Refused`]).
const REFUSED: &str = "refused";

/// Asks the watcher serving `memdir_dir`'s repository to stop, and returns once it no longer
/// serves (it released the lock that makes it the serving one), or says why not.
pub fn stop(memdir_dir: &Path) -> Stop {
    #[cfg(unix)]
    {
        use std::io::{BufRead as _, BufReader, Write as _};
        let path = socket_path(memdir_dir);
        let Ok(stream) = std::os::unix::net::UnixStream::connect(&path) else {
            return Stop::NotServing;
        };
        // Written before the socket was bound, so it names the process that answers.
        let pid = recorded_pid(memdir_dir);
        let answered = (|| -> std::io::Result<String> {
            // The loop runs the writes it took before it answers.
            stream.set_read_timeout(Some(WRITE_TIMEOUT))?;
            stream.set_write_timeout(Some(ASK_TIMEOUT))?;
            (&stream).write_all(b"stop\n")?;
            let mut answer = String::new();
            BufReader::new(&stream).read_line(&mut answer)?;
            Ok(answer.trim_end().to_owned())
        })();
        match answered.as_deref() {
            Ok(STOPPING) => {}
            Ok(REFUSED) => return Stop::Refused(pid),
            _ => return Stop::NoAnswer(pid),
        }
        // The serving watcher holds the lock until its socket and pid file are gone; wait
        // for it on a thread, so that a watcher that hangs on its way out is not waited for
        // forever.
        let lock = memdir_dir.join(LOCK_FILE);
        let (tx, rx) = channel();
        let _ = std::thread::Builder::new()
            .name("memdir-stop".into())
            .spawn(move || {
                let _ = tx.send(crate::lock::WriteLock::acquire(&lock).is_ok());
            });
        match rx.recv_timeout(WRITE_TIMEOUT) {
            Ok(true) => Stop::Stopped(pid),
            _ => Stop::NoAnswer(pid),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = memdir_dir;
        Stop::NotServing
    }
}

/// What became of a write handed to a watcher ([`hand_over`]).
#[derive(Debug)]
pub enum Handover {
    /// The watcher ran it and answered this line.
    Answered(String),
    /// No watcher took it (none runs, a killed one's socket, one that does not take writes):
    /// nothing was written, so the caller writes itself.
    NotTaken,
    /// The watcher took the request but stopped answering (killed, or past
    /// [`WRITE_TIMEOUT`] after its loop took it): whether it was written is not known.
    Lost(std::io::Error),
}

/// The answer to a write that the watcher did not run (it could not make its cookie, or its
/// loop did not take it within [`ASK_TIMEOUT`]): the writer may write itself.
const NOT_TAKEN: &str = "not-taken";

/// Hands the write `request` (one line of text) to the watcher serving `memdir_dir`, and
/// returns its answer.
pub fn hand_over(memdir_dir: &Path, request: &str) -> Handover {
    #[cfg(unix)]
    {
        use std::io::{BufRead as _, BufReader, Write as _};
        let path = socket_path(memdir_dir);
        if !path.exists() || request.contains('\n') {
            return Handover::NotTaken;
        }
        let Ok(stream) = std::os::unix::net::UnixStream::connect(&path) else {
            tracing::debug!("no watcher at {}: writing here", path.display());
            return Handover::NotTaken;
        };
        let mut reader = BufReader::new(&stream);
        let mut writer = &stream;
        // Until the watcher says `go`, nothing was sent that it could act on.
        let taken = (|| -> std::io::Result<bool> {
            stream.set_read_timeout(Some(ASK_TIMEOUT))?;
            stream.set_write_timeout(Some(ASK_TIMEOUT))?;
            writer.write_all(b"write\n")?;
            let mut go = String::new();
            reader.read_line(&mut go)?;
            Ok(go.trim_end() == "go")
        })();
        if !matches!(taken, Ok(true)) {
            tracing::debug!(
                "the watcher at {} takes no writes: writing here",
                path.display()
            );
            return Handover::NotTaken;
        }
        let answered = (|| -> std::io::Result<String> {
            stream.set_read_timeout(Some(WRITE_TIMEOUT))?;
            writer.write_all(request.as_bytes())?;
            writer.write_all(b"\n")?;
            let mut answer = String::new();
            if reader.read_line(&mut answer)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            Ok(answer.trim_end().to_owned())
        })();
        match answered {
            Ok(answer) if answer == NOT_TAKEN => Handover::NotTaken,
            Ok(answer) => Handover::Answered(answer),
            Err(e) => Handover::Lost(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (memdir_dir, request);
        Handover::NotTaken
    }
}

/// A write handed over, waiting for the watcher's loop: the request's line, and where its
/// answer goes.
#[derive(Debug)]
pub struct Job {
    /// The request, one line.
    pub request: String,
    /// Takes the answer, one line.
    pub answer: Sender<String>,
}

/// The questions waiting for their cookie, by cookie number: the watcher's loop answers them.
#[derive(Debug, Default, Clone)]
pub struct Pending {
    waiting: Arc<Mutex<HashMap<u64, Sender<bool>>>>,
    jobs: Arc<Mutex<HashMap<u64, Job>>>,
    stops: Arc<Mutex<HashMap<u64, StopRequest>>>,
}

/// A request to stop, handed to the watcher's loop: the loop answers it itself
/// ([`StopRequest::answer`]), on the asker's connection, before it returns, so that the
/// answer is sent before the process can end.
#[derive(Debug)]
pub struct StopRequest {
    #[cfg(unix)]
    stream: std::os::unix::net::UnixStream,
    cookie: PathBuf,
    answered: Sender<()>,
}

impl StopRequest {
    /// Removes the request's cookie and tells the asker whether the watcher stops.
    pub fn answer(self, stopping: bool) {
        let _ = std::fs::remove_file(&self.cookie);
        #[cfg(unix)]
        {
            use std::io::Write as _;
            let line = if stopping { STOPPING } else { REFUSED };
            let _ = (&self.stream).write_all(format!("{line}\n").as_bytes());
        }
        let _ = self.answered.send(());
    }
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

    /// Takes the write handed over with cookie `n`, if that cookie came with one: the loop
    /// runs it and sends the answer.
    pub fn take_job(&self, n: u64) -> Option<Job> {
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&n)
    }

    /// Takes the request to stop that came with cookie `n`, if it did one: the loop answers
    /// it, saying whether it stops.
    pub fn take_stop(&self, n: u64) -> Option<StopRequest> {
        self.stops
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&n)
    }

    #[cfg(unix)]
    fn register_stop(
        &self,
        n: u64,
        stream: std::os::unix::net::UnixStream,
        cookie: PathBuf,
    ) -> Receiver<()> {
        let (answered, rx) = channel();
        let request = StopRequest {
            stream,
            cookie,
            answered,
        };
        self.stops
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(n, request);
        rx
    }

    fn register_job(&self, n: u64, request: String) -> Receiver<String> {
        let (answer, rx) = channel();
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(n, Job { request, answer });
        rx
    }

    #[cfg(test)]
    fn jobs_waiting(&self) -> usize {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn forget(&self, n: u64) {
        self.lock().remove(&n);
        self.take_job(n);
        self.take_stop(n);
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
    pid_file: PathBuf,
    _lock: crate::lock::WriteLock,
}

impl Drop for Voucher {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_file(&self.pid_file);
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
            let pid_file = memdir_dir.join(PID_FILE);
            if let Err(e) = std::fs::write(&pid_file, format!("{}\n", std::process::id())) {
                tracing::debug!("cannot write {}: {e}", pid_file.display());
            }
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
                pid_file,
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

/// Answers one asker: writes cookie `n` in `watched` and waits for the loop to have indexed
/// everything before it. For `vouch`, then says `ok` (or `no`, when the loop failed or took
/// too long); for `write`, says `go`, reads the request, and sends the loop's answer to it
/// (nothing, when the loop did not answer in time: the writer cannot tell what happened);
/// for `stop`, hands the connection to the loop, which answers on it ([`StopRequest`]).
#[cfg(unix)]
fn answer(stream: std::os::unix::net::UnixStream, n: u64, watched: &Path, pending: &Pending) {
    use std::io::{BufRead as _, BufReader, Write as _};
    let _ = stream.set_read_timeout(Some(ASK_TIMEOUT));
    let mut question = String::new();
    let mut reader = BufReader::new(&stream);
    let mut writer = &stream;
    if reader.read_line(&mut question).is_err() {
        return;
    }
    let cookie = watched.join(format!("{COOKIE_PREFIX}{}-{n}", std::process::id()));
    match question.trim_end() {
        "vouch" => {
            let rx = pending.register(n);
            let indexed = std::fs::write(&cookie, b"").is_ok()
                && rx.recv_timeout(ASK_TIMEOUT).unwrap_or(false);
            pending.forget(n);
            let _ = std::fs::remove_file(&cookie);
            let _ = writer.write_all(if indexed { b"ok\n" } else { b"no\n" });
        }
        "write" => {
            let mut request = String::new();
            if writer.write_all(b"go\n").is_err() || reader.read_line(&mut request).is_err() {
                return;
            }
            let rx = pending.register_job(n, request.trim_end().to_owned());
            let answer = match std::fs::write(&cookie, b"") {
                // The loop takes the job as soon as it sees the cookie, as for a vouch; one
                // that has not within `ASK_TIMEOUT` (its event lost, or the loop busy) loses
                // it here, and the writer writes itself. A job taken is waited for.
                Ok(()) => rx
                    .recv_timeout(ASK_TIMEOUT)
                    .ok()
                    .or_else(|| match pending.take_job(n) {
                        Some(_) => Some(NOT_TAKEN.to_owned()),
                        None => rx.recv_timeout(WRITE_TIMEOUT).ok(),
                    }),
                Err(_) => Some(NOT_TAKEN.to_owned()),
            };
            pending.forget(n);
            let _ = std::fs::remove_file(&cookie);
            if let Some(answer) = answer {
                let _ = writer.write_all(format!("{answer}\n").as_bytes());
            }
        }
        "stop" => {
            let Ok(own) = stream.try_clone() else { return };
            let rx = pending.register_stop(n, own, cookie.clone());
            // As for a write: a loop that has not taken it in time never will (taken back
            // here, the asker hears nothing), and one that took it answers it itself once the
            // writes before it are run.
            if std::fs::write(&cookie, b"").is_ok()
                && rx.recv_timeout(ASK_TIMEOUT).is_err()
                && pending.take_stop(n).is_none()
            {
                let _ = rx.recv_timeout(WRITE_TIMEOUT);
            }
            pending.forget(n);
            let _ = std::fs::remove_file(&cookie);
        }
        _ => {}
    }
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

    /// Returns the number of the first cookie that appears in `dir`, waiting for it (the
    /// OS watcher would report it to the loop).
    fn first_cookie(dir: &Path) -> u64 {
        loop {
            let found = std::fs::read_dir(dir)
                .unwrap()
                .filter_map(|e| cookie(e.unwrap().file_name().to_str().unwrap()))
                .next();
            if let Some(n) = found {
                return n;
            }
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_write_handed_over_is_run_by_the_loop_and_its_answer_returned() {
        let dir = tempfile::tempdir().unwrap();
        let pending = Pending::default();
        let _voucher = Voucher::serve(dir.path(), dir.path(), pending.clone()).unwrap();
        let writer = std::thread::spawn({
            let dir = dir.path().to_owned();
            move || hand_over(&dir, r#"{"write": 1}"#)
        });
        // Play the watcher's loop: the cookie names the job, which carries the request.
        let n = first_cookie(dir.path());
        let job = pending
            .take_job(n)
            .expect("the cookie comes with the write");
        assert_eq!(job.request, r#"{"write": 1}"#);
        job.answer.send("written".into()).unwrap();
        assert!(matches!(writer.join().unwrap(), Handover::Answered(a) if a == "written"));
    }

    /// A loop that never takes the job (its cookie's event lost) leaves it, after
    /// `ASK_TIMEOUT`, to the writer: nothing was run.
    #[test]
    fn a_write_the_loop_never_takes_is_left_to_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let pending = Pending::default();
        let _voucher = Voucher::serve(dir.path(), dir.path(), pending.clone()).unwrap();
        assert!(matches!(hand_over(dir.path(), "{}"), Handover::NotTaken));
        assert_eq!(pending.jobs_waiting(), 0, "the job was withdrawn");
        // And its cookie removed.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| cookie(e.unwrap().file_name().to_str().unwrap()))
            .collect();
        assert_eq!(left, Vec::<u64>::new());
    }

    #[test]
    fn a_watcher_that_takes_no_writes_leaves_the_write_to_the_caller() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(hand_over(dir.path(), "{}"), Handover::NotTaken));
        // A watcher of an older memdir reads the question and hangs up on one it does not
        // know: nothing was sent that it could act on.
        #[cfg(unix)]
        {
            use std::io::BufRead as _;
            let listener = std::os::unix::net::UnixListener::bind(socket_path(dir.path())).unwrap();
            let old = std::thread::spawn(move || {
                let (stream, _) = listener.accept().unwrap();
                let mut question = String::new();
                std::io::BufReader::new(&stream)
                    .read_line(&mut question)
                    .unwrap();
                question
            });
            assert!(matches!(hand_over(dir.path(), "{}"), Handover::NotTaken));
            assert_eq!(old.join().unwrap(), "write\n");
        }
        // Nor is a request of more than one line sent at all.
        assert!(matches!(hand_over(dir.path(), "a\nb"), Handover::NotTaken));
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
        // Play the watcher's loop: wait for the cookie file, then answer.
        let n = first_cookie(dir.path());
        assert!(pending.take_job(n).is_none(), "a vouch is no write");
        pending.answer(n, true);
        assert!(asker.join().unwrap());
        assert!(serving(dir.path()));
        drop(voucher);
        assert!(!serving(dir.path()));
        assert!(!socket_path(dir.path()).exists());
        assert!(!ask(dir.path()));
    }
}
