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
    /// How `memdir context` picks and renders memories for a prompt.
    pub context: ContextConfig,
    /// The model `memdir ask` and `memdir extract` call; `None` (no `[llm]` table, the
    /// default) means no model: extraction falls back to rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmConfig>,
    /// The session tier: turns of the conversation going on.
    pub session: SessionConfig,
    /// Task checkpoints: the steps of an agent's multi-step work.
    pub task: TaskConfig,
    /// How writes are checked before they are kept.
    pub guard: GuardConfig,
    /// How `memdir serve` listens and authenticates.
    pub serve: ServeConfig,
    /// When memdir starts a watcher of its own.
    pub watch: WatchConfig,
}

/// `[watch]`: a watcher memdir starts by itself (see `memdir watch --background`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchConfig {
    /// `memdir hook` starts a background watcher at a session's start when the repository
    /// holds at least this many memories and none serves (0: never). Below a few thousand
    /// memories a call's own look at the files costs less than asking a watcher.
    pub background_from: usize,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            background_from: 5_000,
        }
    }
}

/// `[serve]`: the HTTP API and inspection pages of `memdir serve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// The address to listen on without `--addr`.
    pub addr: String,
    /// The name of the environment variable holding the bearer token (the command line reads
    /// it; the token never goes in this file, which is committed).
    pub token_env: String,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: "127.0.0.1:7878".into(),
            token_env: "MEMDIR_TOKEN".into(),
        }
    }
}

/// `[session]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionConfig {
    /// Hours after its last turn that a session still counts: an older one is left out of
    /// context.
    pub ttl_hours: f64,
    /// How many of the last turns `context --session` gives verbatim; older ones are
    /// summarised.
    pub recent_turns: usize,
    /// Commit a session's file every this many turns (0: only on `memdir session end`).
    pub commit_every: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            ttl_hours: 24.0,
            recent_turns: 6,
            commit_every: 0,
        }
    }
}

/// `[task]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskConfig {
    /// Hours after its last step that a task still counts: an older one is left out of
    /// context and takes no more steps.
    pub ttl_hours: f64,
    /// Commit a task's file every this many steps (0: only on `memdir task end`). Each step
    /// is durable on disk before it is acknowledged either way.
    pub commit_every: usize,
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            ttl_hours: 168.0,
            commit_every: 10,
        }
    }
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
    /// Write a real `id:` (and `created:`) into memory files that have none, when memdir
    /// commits them (`memdir commit`, `watch --commit`, `check --fix`, any write to the file).
    /// Off: such files keep the id derived from their path, which changes if they move.
    pub stamp_ids: bool,
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
    /// What a quarantine holds out of search and context: `"passage"` (the passages holding
    /// the flagged text; the whole memory when it cannot be placed) or `"memory"` (all of it).
    pub hold: crate::policy::Hold,
    /// With a model in `[llm]`, ask it for a second opinion on each write the guard flags or
    /// finds borderline (see [`crate::guard::opinion`]). Off: no write is sent to the model.
    pub second_opinion: bool,
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
            hold: crate::policy::Hold::default(),
            second_opinion: true,
        }
    }
}

/// Returns the seconds of a `[memory.ttl]` duration (`90m`, `24h`, `180d`, `8w`), as
/// [`crate::when::parse_duration`] reads it.
fn ttl_secs(text: &str) -> Option<i64> {
    crate::when::parse_duration(text).and_then(|d| i64::try_from(d.as_secs()).ok())
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

/// `[context]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContextConfig {
    /// The tiktoken encoding that counts the budget: `o200k_base`, `cl100k_base`,
    /// `p50k_base` or `r50k_base`.
    pub tokenizer: String,
    /// How many memories search proposes before the budget decides.
    pub candidates: usize,
    /// How much recency counts in the final score, from 0 (relevance only) to 1.
    pub recency_weight: f32,
    /// After how many days a memory counts half as recent as the newest candidate.
    pub recency_half_life_days: f32,
    /// Append what went into each prompt to `.git/memdir/injections.jsonl`.
    pub log: bool,
    /// A multiplier on the score of each type (a type not listed counts 1.0).
    pub type_weight: BTreeMap<String, f32>,
    /// The budget of a context whose caller names none (`memdir context`, `memdir hook`, MCP's
    /// `memory_context`, `GET /v1/context`), and the one `memdir status` measures the pinned
    /// memories against.
    pub budget: usize,
    /// `memdir status` warns when the pinned memories take more than this share of `budget`
    /// (they go into every context, so they are paid for on every request).
    pub pinned_warn_share: f64,
    /// Scopes whose memories an exploring context (`context --explore`) keeps whoever wrote
    /// them, as if each said `shared: true`.
    pub shared_scopes: Vec<String>,
}

/// `[llm]`: which model to call and how. There is no default model: the table is absent
/// unless a person adds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// Which API the server speaks.
    pub provider: LlmProvider,
    /// The server's base URL [default: the provider's own service]. OpenAI-style servers
    /// usually end in `/v1` (`http://localhost:11434/v1` for Ollama); Anthropic's does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The model name the server knows.
    pub model: String,
    /// The name of the environment variable holding the API key (the command line reads it;
    /// the key never goes in this file). No key is sent when absent, as local servers expect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Seconds one request may take, connection to last byte, before it fails.
    #[serde(default = "LlmConfig::default_timeout_secs")]
    pub timeout_secs: u64,
    /// How many times a request answered with 429 or 5xx is tried again, with backoff.
    #[serde(default = "LlmConfig::default_max_retries")]
    pub max_retries: u32,
    /// Most tokens the model may answer with (Anthropic requires a value; OpenAI-style
    /// servers are sent none).
    #[serde(default = "LlmConfig::default_max_tokens")]
    pub max_tokens: u32,
}

impl LlmConfig {
    fn default_timeout_secs() -> u64 {
        120
    }
    fn default_max_retries() -> u32 {
        3
    }
    fn default_max_tokens() -> u32 {
        2048
    }

    /// Returns a configuration for `model` on `provider`'s own service, with the defaults.
    pub fn new(provider: LlmProvider, model: impl Into<String>) -> Self {
        LlmConfig {
            provider,
            base_url: None,
            model: model.into(),
            api_key_env: None,
            timeout_secs: Self::default_timeout_secs(),
            max_retries: Self::default_max_retries(),
            max_tokens: Self::default_max_tokens(),
        }
    }

    /// Returns the base URL: the configured one, else the provider's service.
    pub fn base_url(&self) -> &str {
        self.base_url
            .as_deref()
            .unwrap_or(self.provider.default_base_url())
    }
}

/// `[llm] provider`: the API a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LlmProvider {
    /// OpenAI's chat completions (`POST {base_url}/chat/completions`), which Ollama,
    /// llama.cpp's server, vLLM and most others also speak.
    Openai,
    /// Anthropic's Messages API (`POST {base_url}/v1/messages`).
    Anthropic,
}

impl LlmProvider {
    /// Returns the provider's own service, the base URL when none is configured.
    pub fn default_base_url(self) -> &'static str {
        match self {
            LlmProvider::Openai => "https://api.openai.com/v1",
            LlmProvider::Anthropic => "https://api.anthropic.com",
        }
    }

    /// Returns the name used in `memory.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            LlmProvider::Openai => "openai",
            LlmProvider::Anthropic => "anthropic",
        }
    }
}

impl std::fmt::Display for LlmProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The tiktoken encodings `[context] tokenizer` may name.
pub const TOKENIZERS: [&str; 4] = ["o200k_base", "cl100k_base", "p50k_base", "r50k_base"];

impl Default for ContextConfig {
    fn default() -> Self {
        ContextConfig {
            tokenizer: "o200k_base".into(),
            candidates: 30,
            recency_weight: 0.2,
            recency_half_life_days: 90.0,
            log: false,
            budget: 2000,
            pinned_warn_share: 0.5,
            shared_scopes: Vec::new(),
            type_weight: [
                ("preference", 1.2),
                ("procedure", 1.1),
                ("fact", 1.0),
                ("summary", 1.0),
                ("event", 0.9),
                ("note", 0.9),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        }
    }
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            types: DEFAULT_TYPES.iter().map(|s| s.to_string()).collect(),
            default_type: "note".into(),
            ttl: BTreeMap::new(),
            stamp_ids: true,
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

/// Returns the root of the memory repository holding `start`: the nearest folder, `start`
/// itself or an ancestor, with a `memory.toml` and a `.git`. `None` when there is none.
///
/// This is the rule `Memdir::discover` applies; commands that need only the configuration
/// (`memdir guard`) use it to read `memory.toml` without opening the repository.
pub fn find_root(start: &Path) -> Option<std::path::PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    start
        .ancestors()
        .find(|d| d.join(CONFIG_FILE).is_file() && d.join(".git").exists())
        .map(Path::to_path_buf)
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
            if ttl != "none" && ttl_secs(ttl).is_none_or(|s| s <= 0) {
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
        if !(self.session.ttl_hours.is_finite() && self.session.ttl_hours > 0.0) {
            return Err(invalid(
                "session.ttl_hours",
                "must be a positive number of hours".into(),
            ));
        }
        if !(self.task.ttl_hours.is_finite() && self.task.ttl_hours > 0.0) {
            return Err(invalid(
                "task.ttl_hours",
                "must be a positive number of hours".into(),
            ));
        }
        let c = &self.context;
        if !TOKENIZERS.contains(&c.tokenizer.as_str()) {
            return Err(invalid(
                "context.tokenizer",
                format!("`{}` is not one of {}", c.tokenizer, TOKENIZERS.join(", ")),
            ));
        }
        if c.candidates == 0 {
            return Err(invalid("context.candidates", "must be at least 1".into()));
        }
        if !(0.0..=1.0).contains(&c.recency_weight) {
            return Err(invalid(
                "context.recency_weight",
                "must be between 0 and 1".into(),
            ));
        }
        if !(c.recency_half_life_days.is_finite() && c.recency_half_life_days > 0.0) {
            return Err(invalid(
                "context.recency_half_life_days",
                "must be a positive number of days".into(),
            ));
        }
        if c.budget == 0 {
            return Err(invalid("context.budget", "must be at least 1 token".into()));
        }
        if !(c.pinned_warn_share.is_finite() && c.pinned_warn_share > 0.0) {
            return Err(invalid(
                "context.pinned_warn_share",
                "must be a share of the budget above 0, such as 0.5 for half".into(),
            ));
        }
        if let Some((t, _)) = c
            .type_weight
            .iter()
            .find(|(_, w)| !w.is_finite() || **w < 0.0)
        {
            return Err(invalid(
                &format!("context.type_weight.{t}"),
                "weights must be finite and not negative".into(),
            ));
        }
        if let Some(llm) = &self.llm {
            llm.validate(path)?;
        }
        if self.serve.addr.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(
                "serve.addr",
                format!(
                    "`{}` is not an address and port, such as `127.0.0.1:7878`",
                    self.serve.addr
                ),
            ));
        }
        if !is_variable_name(&self.serve.token_env) {
            return Err(invalid(
                "serve.token_env",
                format!(
                    "`{}` is not an environment variable name: give the name (such as `MEMDIR_TOKEN`), never the token itself",
                    self.serve.token_env
                ),
            ));
        }
        Ok(())
    }

    /// Returns the default lifetime of memories of type `kind`, in seconds, if it has one.
    pub fn ttl(&self, kind: &str) -> Option<i64> {
        self.memory.ttl.get(kind).and_then(|t| ttl_secs(t))
    }

    /// Returns the held-out policy of this repository (its default lifetimes by type).
    pub fn policy(&self) -> crate::policy::Policy {
        crate::policy::Policy::new(self.ttls()).with_hold(self.guard.hold)
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

impl LlmConfig {
    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |field: &str, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            field: field.to_owned(),
            message,
        };
        if let Some(url) = &self.base_url {
            let rest = url
                .strip_prefix("http://")
                .or_else(|| url.strip_prefix("https://"));
            let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
            if host.is_none_or(str::is_empty) || url.contains(char::is_whitespace) {
                return Err(invalid(
                    "llm.base_url",
                    format!(
                        "`{url}` is not an http:// or https:// URL with a host, such as `{}`",
                        self.provider.default_base_url()
                    ),
                ));
            }
        }
        if self.model.trim().is_empty() {
            return Err(invalid(
                "llm.model",
                "name the model the server knows, such as `gpt-4o-mini` or `llama3.2`".into(),
            ));
        }
        if let Some(name) = &self.api_key_env
            && !is_variable_name(name)
        {
            return Err(invalid(
                "llm.api_key_env",
                format!(
                    "`{name}` is not an environment variable name: give the name (such as `OPENAI_API_KEY`), never the key itself"
                ),
            ));
        }
        if self.timeout_secs == 0 {
            return Err(invalid("llm.timeout_secs", "must be at least 1".into()));
        }
        if self.max_tokens == 0 {
            return Err(invalid("llm.max_tokens", "must be at least 1".into()));
        }
        Ok(())
    }
}

/// Returns true if `name` can name an environment variable: ASCII letters, digits and `_`,
/// not starting with a digit.
fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
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
    fn the_template_llm_example_is_valid_when_uncommented() {
        let text = crate::template::file(CONFIG_FILE).expect("template has memory.toml");
        let block: String = text
            .lines()
            .skip_while(|l| *l != "# [llm]")
            .take_while(|l| l.starts_with("# "))
            .map(|l| format!("{}\n", &l[2..]))
            .collect();
        let c = Config::parse(Path::new("m.toml"), &block).unwrap();
        let llm = c.llm.expect("the example block sets [llm]");
        assert_eq!(llm.provider, LlmProvider::Openai);
        assert_eq!(llm.api_key_env.as_deref(), Some("OPENAI_API_KEY"));
        assert_eq!(llm.timeout_secs, LlmConfig::default_timeout_secs());
    }

    #[test]
    fn llm_settings_are_checked() {
        let parse = |t: &str| Config::parse(Path::new("m.toml"), t);
        let c = parse("[llm]\nprovider = \"anthropic\"\nmodel = \"claude-x\"\n").unwrap();
        let llm = c.llm.unwrap();
        assert_eq!(llm.base_url(), "https://api.anthropic.com");
        assert_eq!(llm, LlmConfig::new(LlmProvider::Anthropic, "claude-x"));
        for (text, want) in [
            (
                "[llm]\nprovider = \"gemini\"\nmodel = \"m\"\n",
                "m.toml:2: unknown variant `gemini`, expected `openai` or `anthropic`",
            ),
            (
                "[llm]\nprovider = \"openai\"\nmodel = \"m\"\nbase_url = \"localhost:11434\"\n",
                "m.toml: `llm.base_url`: `localhost:11434` is not an http:// or https:// URL with a host, such as `https://api.openai.com/v1`",
            ),
            (
                "[llm]\nprovider = \"openai\"\nmodel = \" \"\n",
                "m.toml: `llm.model`: name the model the server knows, such as `gpt-4o-mini` or `llama3.2`",
            ),
            (
                "[llm]\nprovider = \"openai\"\nmodel = \"m\"\napi_key_env = \"sk-abc\"\n",
                "m.toml: `llm.api_key_env`: `sk-abc` is not an environment variable name: give the name (such as `OPENAI_API_KEY`), never the key itself",
            ),
        ] {
            assert_eq!(parse(text).unwrap_err().to_string(), want, "{text}");
        }
        assert!(
            parse("[llm]\nmodel = \"m\"\n").is_err(),
            "provider is required"
        );
    }

    #[test]
    fn serve_settings_are_checked() {
        let parse = |t: &str| Config::parse(Path::new("m.toml"), t);
        let c = parse("[serve]\naddr = \"0.0.0.0:80\"\ntoken_env = \"MY_TOKEN\"\n").unwrap();
        assert_eq!(c.serve.addr, "0.0.0.0:80");
        assert_eq!(c.serve.token_env, "MY_TOKEN");
        for (text, want) in [
            (
                "[serve]\naddr = \"localhost\"\n",
                "m.toml: `serve.addr`: `localhost` is not an address and port, such as `127.0.0.1:7878`",
            ),
            (
                "[serve]\ntoken_env = \"s3cr3t-token\"\n",
                "m.toml: `serve.token_env`: `s3cr3t-token` is not an environment variable name: give the name (such as `MEMDIR_TOKEN`), never the token itself",
            ),
            (
                "[serve]\ntoken = \"abc\"\n",
                "m.toml:2: unknown field `token`, expected `addr` or `token_env`",
            ),
        ] {
            assert_eq!(parse(text).unwrap_err().to_string(), want, "{text}");
        }
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
