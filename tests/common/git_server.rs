//! A real git server on loopback for the sync tests: `git daemon --inetd` (git's own
//! `git://` server, fetch and push) behind a listener this process binds to 127.0.0.1:0, so no
//! port is guessed and no readiness has to be waited for: the socket accepts before the first
//! client connects, and each connection gets its own `git daemon` on its stdin and stdout.

use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A `git://` server for the bare repositories under one folder.
pub struct GitServer {
    addr: std::net::SocketAddr,
    base: PathBuf,
    stop: Arc<AtomicBool>,
    children: Arc<Mutex<Vec<Child>>>,
    accept: Option<JoinHandle<()>>,
}

impl GitServer {
    /// Serves the bare repositories under `base` (read and write).
    pub fn start(base: &Path) -> GitServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let children = Arc::new(Mutex::new(Vec::new()));
        let (stop2, children2, base2) = (stop.clone(), children.clone(), base.to_owned());
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let input = stream.try_clone().expect("clone socket");
                let child = Command::new("git")
                    .env_clear()
                    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                    .env("HOME", &base2)
                    .env("GIT_CONFIG_GLOBAL", "/dev/null")
                    .env("GIT_CONFIG_NOSYSTEM", "1")
                    .args([
                        "daemon",
                        "--inetd",
                        "--export-all",
                        "--enable=receive-pack",
                        "--informative-errors",
                        "--log-destination=none",
                    ])
                    .arg(format!("--base-path={}", base2.display()))
                    .arg(&base2)
                    .stdin(Stdio::from(OwnedFd::from(input)))
                    .stdout(Stdio::from(OwnedFd::from(stream)))
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn git daemon");
                children2.lock().unwrap().push(child);
            }
        });
        GitServer {
            addr,
            base: base.to_owned(),
            stop,
            children,
            accept: Some(accept),
        }
    }

    /// Creates an empty bare repository `name` and returns its `git://` URL.
    pub fn create(&self, name: &str) -> String {
        let out = Command::new("git")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(["init", "--quiet", "--bare", "--initial-branch=main"])
            .arg(self.base.join(name))
            .output()
            .unwrap();
        assert!(out.status.success(), "git init --bare failed: {out:?}");
        self.url(name)
    }

    /// Returns the URL of the repository `name`.
    pub fn url(&self, name: &str) -> String {
        format!("git://{}/{name}", self.addr)
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees `stop`.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        for mut child in self.children.lock().unwrap().drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
