//! Helpers the whole-system benchmarks share (`examples/bench.rs`, `examples/bench_cli.rs`):
//! the git CLI run hermetically, files written with their folders, I/O errors as memdir's.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn write_file(path: &Path, bytes: &[u8]) -> memdir::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    std::fs::write(path, bytes).map_err(io_err(path))
}

/// Gives `cmd` a hermetic git environment: no user or system config, a fixed author.
pub fn hermetic(cmd: &mut Command) -> &mut Command {
    cmd.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_SYSTEM", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
}

/// Runs the git CLI in `dir` with a hermetic environment.
pub fn git(dir: &Path, args: &[&str]) -> memdir::Result<()> {
    let status = hermetic(Command::new("git").args(args).current_dir(dir))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(io_err("git"))?;
    if status.success() {
        Ok(())
    } else {
        Err(other(
            dir,
            format!("git {} failed with {status}", args.join(" ")),
        ))
    }
}

pub fn io_err(path: impl AsRef<Path>) -> impl FnOnce(std::io::Error) -> memdir::Error {
    let path: PathBuf = path.as_ref().to_owned();
    move |source| memdir::Error::Io { path, source }
}

pub fn other(path: impl AsRef<Path>, message: String) -> memdir::Error {
    io_err(path)(std::io::Error::other(message))
}
