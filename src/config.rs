//! `memory.toml`: what a repository configures, with defaults for everything.
//!
//! The defaults are written in code and mirrored, with comments, by `memory-template/memory.toml`
//! (what `memdir init` lays down); a test checks the two agree. Layers, lowest first: built-in
//! defaults < the repository's `memory.toml`. The library never reads the environment; the CLI
//! passes overrides in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::memory::DEFAULT_TYPES;

/// The file name of a repository's configuration, at its root.
pub const CONFIG_FILE: &str = "memory.toml";

/// Why `memory.toml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid TOML or has a value of the wrong type.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// What the TOML parser said.
        message: String,
    },
    /// A value is well-formed but unusable.
    #[error("{}: `{field}`: {message}", path.display())]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// The dotted key.
        field: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The file exists but cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A repository's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[derive(Default)]
pub struct Config {
    /// What memories are and where they go.
    pub memory: MemoryConfig,
    /// How search ranks.
    pub search: SearchConfig,
    /// How writes are checked before they are kept.
    pub guard: GuardConfig,
}

/// `[memory]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryConfig {
    /// The allowed values of `type`; each has a folder of the same name.
    pub types: Vec<String>,
    /// The type of a memory added without one.
    pub default_type: String,
    /// Default lifetimes by type (`event = "180d"`): a memory of that type without its own
    /// `expires` drops out of search this long after `created`. Types not listed never expire.
    pub ttl: BTreeMap<String, String>,
}

/// `[guard]`: the write guard (see [`crate::guard`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardConfig {
    /// Check writes at all.
    pub enabled: bool,
    /// Writes one session may make within a minute; the next one is flagged (0: no limit).
    pub max_writes_per_minute: u32,
    /// Rule ids (`privilege.grant`) or families (`privilege`) never flagged here.
    pub disable: Vec<String>,
    /// Regular expressions: a match of any rule whose text matches one of these is dropped.
    pub allow: Vec<String>,
    /// The repository's own rules.
    pub deny: Vec<DenyRuleConfig>,
}

/// `[[guard.deny]]`: a rule of the repository's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenyRuleConfig {
    /// Rule name; flags say `deny.<id>`.
    pub id: String,
    /// A regular expression (Rust `regex` syntax) that flags a write when it matches.
    pub pattern: String,
    /// Why, shown with the flag.
    #[serde(default)]
    pub why: Option<String>,
    /// Treat matches as secrets: redact them (`[REDACTED:<id>]`) before the write.
    #[serde(default)]
    pub redact: bool,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            enabled: true,
            max_writes_per_minute: 30,
            disable: Vec::new(),
            allow: Vec::new(),
            deny: Vec::new(),
        }
    }
}

/// Parses a duration: `90m`, `24h`, `180d`, `8w`; returns seconds.
///
/// ```
/// assert_eq!(memdir::config::parse_duration("24h"), Some(86_400));
/// assert_eq!(memdir::config::parse_duration("soon"), None);
/// ```
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n.parse().ok()?;
    let unit_secs = match unit.trim() {
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(unit_secs)
}

/// `[search]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchConfig {
    /// How many hits a search returns when not told.
    pub limit: usize,
    /// Field weights for BM25 scoring.
    pub boost: Boosts,
}

/// `[search.boost]`: how much a match in each field counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Boosts {
    /// Memory title.
    pub title: f32,
    /// Tags.
    pub tags: f32,
    /// The heading of the passage's section.
    pub heading: f32,
    /// The passage text.
    pub body: f32,
    /// The neighbouring passages of the same memory (the turn before and after, in a
    /// transcript): a match there counts for the passage, a little.
    pub context: f32,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            types: DEFAULT_TYPES.iter().map(|s| s.to_string()).collect(),
            default_type: "note".into(),
            ttl: BTreeMap::new(),
        }
    }
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            limit: 10,
            boost: Boosts::default(),
        }
    }
}

impl Default for Boosts {
    fn default() -> Self {
        Boosts {
            title: 2.0,
            tags: 1.5,
            heading: 1.2,
            body: 1.0,
            context: 0.5,
        }
    }
}

impl Config {
    /// Loads `memory.toml` from the repository root, or returns the defaults when it is absent.
    pub fn load(root: &Path) -> Result<Config, ConfigError> {
        let path = root.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::debug!(path = %path.display(), "no memory.toml; using defaults");
                Ok(Config::default())
            }
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Parses and validates the text of a config file; `path` is used in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            line: e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            }),
            message: e.message().to_owned(),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |field: &str, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            field: field.to_owned(),
            message,
        };
        if self.memory.types.is_empty() {
            return Err(invalid("memory.types", "list at least one type".into()));
        }
        for t in &self.memory.types {
            if crate::MemoryId::parse(t).is_err() {
                return Err(invalid(
                    "memory.types",
                    format!(
                        "`{t}` is not usable as a folder name; use lower-case letters, digits and `-`"
                    ),
                ));
            }
        }
        if !self.memory.types.contains(&self.memory.default_type) {
            return Err(invalid(
                "memory.default_type",
                format!(
                    "`{}` is not one of memory.types ({})",
                    self.memory.default_type,
                    self.memory.types.join(", ")
                ),
            ));
        }
        for (kind, ttl) in &self.memory.ttl {
            if !self.memory.types.contains(kind) {
                return Err(invalid(
                    &format!("memory.ttl.{kind}"),
                    format!(
                        "`{kind}` is not one of memory.types ({})",
                        self.memory.types.join(", ")
                    ),
                ));
            }
            if ttl != "none" && parse_duration(ttl).is_none_or(|s| s <= 0) {
                return Err(invalid(
                    &format!("memory.ttl.{kind}"),
                    format!("`{ttl}` is not a duration: use 90m, 24h, 180d, 8w or \"none\""),
                ));
            }
        }
        if let Err(e) = crate::guard::Guard::new(&self.guard) {
            return Err(invalid(&e.field, e.message));
        }
        if self.search.limit == 0 {
            return Err(invalid("search.limit", "must be at least 1".into()));
        }
        let b = &self.search.boost;
        if [b.title, b.tags, b.heading, b.body, b.context]
            .iter()
            .any(|w| !w.is_finite() || *w < 0.0)
        {
            return Err(invalid(
                "search.boost",
                "weights must be finite and not negative".into(),
            ));
        }
        Ok(())
    }

    /// Returns the default lifetime of memories of type `kind`, in seconds, if it has one.
    pub fn ttl(&self, kind: &str) -> Option<i64> {
        self.memory.ttl.get(kind).and_then(|t| parse_duration(t))
    }

    /// Returns every type with a default lifetime, with the lifetime in seconds.
    pub fn ttls(&self) -> Vec<(String, i64)> {
        self.memory
            .ttl
            .keys()
            .filter_map(|k| self.ttl(k).map(|s| (k.clone(), s)))
            .collect()
    }

    /// Returns an error unless `kind` is one of the configured types.
    pub fn check_type(&self, kind: &str) -> crate::Result<()> {
        if self.memory.types.iter().any(|t| t == kind) {
            Ok(())
        } else {
            Err(crate::Error::invalid(format!(
                "unknown type `{kind}`: use one of {} (or add it to [memory] types in memory.toml)",
                self.memory.types.join(", ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_config_states_the_defaults() {
        let text = crate::template::file(CONFIG_FILE).expect("template has memory.toml");
        let parsed = Config::parse(Path::new(CONFIG_FILE), text).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn errors_point_at_the_line() {
        let e = Config::parse(Path::new("memory.toml"), "[memory]\n\ntypes = 5\n").unwrap_err();
        assert!(e.to_string().starts_with("memory.toml:3: "), "{e}");
        let e = Config::parse(Path::new("memory.toml"), "[memory]\ndefault_type = \"x\"\n")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "memory.toml: `memory.default_type`: `x` is not one of memory.types (fact, preference, event, procedure, note, summary)"
        );
    }

    #[test]
    fn ttls_and_guard_settings_are_checked() {
        let c = Config::parse(
            Path::new("m.toml"),
            "[memory.ttl]\nevent = \"180d\"\nnote = \"none\"\n[guard]\nmax_writes_per_minute = 5\n",
        )
        .unwrap();
        assert_eq!(c.ttl("event"), Some(180 * 86_400));
        assert_eq!(c.ttl("note"), None);
        assert_eq!(c.ttls(), [("event".to_owned(), 180 * 86_400)]);
        assert_eq!(c.guard.max_writes_per_minute, 5);
        let e = Config::parse(Path::new("m.toml"), "[memory.ttl]\nevent = \"soon\"\n").unwrap_err();
        assert!(e.to_string().contains("memory.ttl.event"), "{e}");
        let e = Config::parse(Path::new("m.toml"), "[memory.ttl]\nnope = \"1d\"\n").unwrap_err();
        assert!(e.to_string().contains("not one of memory.types"), "{e}");
        let e = Config::parse(Path::new("m.toml"), "[guard]\nallow = [\"(\"]\n").unwrap_err();
        assert!(e.to_string().contains("guard.allow[0]"), "{e}");
        let e = Config::parse(
            Path::new("m.toml"),
            "[[guard.deny]]\nid = \"x\"\npattern = \".*\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("guard.deny[0].pattern"), "{e}");
    }

    #[test]
    fn a_partial_file_keeps_the_other_defaults() {
        let c = Config::parse(Path::new("m.toml"), "[search]\nlimit = 3\n").unwrap();
        assert_eq!(c.search.limit, 3);
        assert_eq!(c.memory, MemoryConfig::default());
    }
}
