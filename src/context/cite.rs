//! What a citation names: every `[id@revision]` a context renders resolves here to what it
//! cites, read now: a memory, the `MEMORY.md` overview, or a session (`session:ID`).

use serde::Serialize;

use super::OVERVIEW_FILE;
use crate::memory::Timestamp;
use crate::session::Session;
use crate::store::Store;
use crate::{Error, Memdir, MemoryView, Result};

/// The overview file as read now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overview {
    /// `MEMORY.md`, as citations name it.
    pub id: String,
    /// Its path, relative to the root.
    pub path: String,
    /// Its content hash (a git blob id), as citations abbreviate it.
    pub revision: String,
    /// Its whole text.
    pub text: String,
}

/// What a citation names, read now.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Cited {
    /// A memory, with why search leaves it out (if it does).
    Memory(Box<MemoryView>),
    /// The always-loaded overview.
    Overview(Overview),
    /// A session's turns.
    Session(Session),
}

/// Resolves `citation` (`id`, `id@revision`, `[id@revision]`, `MEMORY.md`, `session:ID`) to
/// what it names, as it is now (a revision in the citation is not checked: compare it with
/// the answer's to see whether the source changed since it was cited).
///
/// ```
/// # fn main() -> memdir::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// use memdir::context::{Cited, resolve};
/// let mem = memdir::Memdir::init(dir.path())?;
/// let w = mem.remember(memdir::NewMemory::new("Deploys run at noon."), &memdir::Provenance::agent("doc"))?;
/// let cited = resolve(&mem, &format!("[{}@abc1234]", w.id), memdir::Timestamp::now())?;
/// assert!(matches!(cited, Cited::Memory(view) if view.memory.body.contains("noon")));
/// assert!(matches!(resolve(&mem, "MEMORY.md", memdir::Timestamp::now())?, Cited::Overview(_)));
/// # Ok(()) }
/// ```
pub fn resolve(mem: &Memdir, citation: &str, now: Timestamp) -> Result<Cited> {
    let inner = citation.trim();
    let inner = inner
        .strip_prefix('[')
        .and_then(|c| c.strip_suffix(']'))
        .unwrap_or(inner);
    let name = inner.rsplit_once('@').map_or(inner, |(name, _)| name);
    if name == OVERVIEW_FILE {
        let path = mem.root().join(OVERVIEW_FILE);
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound {
                id: OVERVIEW_FILE.into(),
            },
            _ => Error::io(&path, e),
        })?;
        return Ok(Cited::Overview(Overview {
            id: OVERVIEW_FILE.into(),
            path: OVERVIEW_FILE.into(),
            revision: Store::revision_of(&bytes).0,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }));
    }
    if let Some(session) = name.strip_prefix("session:") {
        return Ok(Cited::Session(mem.session(session)?));
    }
    Ok(Cited::Memory(Box::new(mem.view(name, now)?)))
}
