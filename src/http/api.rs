//! The JSON API under `/v1`: one handler per route, each one library call. The
//! `#[utoipa::path]` on each handler is its OpenAPI description, and `routes!` registers the
//! handler and its description together, so the two cannot drift apart.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Reviewer;
use super::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::context::{Context, ContextFormat, ContextRequest};
use crate::cost::{CostReport, CostRequest};
use crate::index::{Filter, Hit, Summary};
use crate::memory::{MemoryId, SourceRef, Timestamp};
use crate::{
    BeliefDiff, Change, Drifted, MemoryView, NewMemory, Provenance, Quarantined, SearchQuery,
    TagInfo, Update, Written,
};

/// The agent recorded for writes that name none.
const DEFAULT_AGENT: &str = "http";

/// Returns the API's routes with their OpenAPI descriptions.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(super::openapi::base())
        .routes(routes!(health))
        .routes(routes!(list_memories, create_memory))
        .routes(routes!(get_memory, update_memory, delete_memory))
        .routes(routes!(history))
        .routes(routes!(search))
        .routes(routes!(context))
        .routes(routes!(cost))
        .routes(routes!(quarantine))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(diff))
        .routes(routes!(snapshots))
        .routes(routes!(drift))
        .routes(routes!(sync))
        .routes(routes!(task_start))
        .routes(routes!(task_show))
        .routes(routes!(task_step))
        .routes(routes!(task_end))
}

/// The server is up.
#[derive(Serialize, ToSchema)]
struct Health {
    /// Always `ok`.
    status: &'static str,
    /// memdir's version.
    version: &'static str,
}

/// Says the server is up (needs no token).
#[utoipa::path(get, path = "/v1/health", tag = "server",
    responses((status = 200, description = "The server is up", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Which memories: type, tags, scope, and which held-out ones to include.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct FilterParams {
    /// Only memories of this type.
    #[serde(rename = "type", default)]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Only memories with every one of these tags (comma-separated).
    #[serde(default)]
    pub tag: Option<String>,
    /// Only memories of this scope, such as `user:alice`.
    #[serde(default)]
    pub scope: Option<String>,
    /// Also memories held out of search (comma-separated): `quarantined`, `expired`,
    /// `superseded`, or `all`.
    #[serde(default)]
    pub include: Option<String>,
}

impl FilterParams {
    /// Returns the library filter, or 400 for an unknown `include` value.
    pub(super) fn filter(&self) -> Result<Filter, ApiError> {
        let mut filter = Filter {
            kind: non_empty(&self.kind),
            tags: split_list(self.tag.as_deref()),
            scope: non_empty(&self.scope),
            ..Filter::default()
        };
        for what in split_list(self.include.as_deref()) {
            match what.as_str() {
                "quarantined" => filter.include_quarantined = true,
                "expired" => filter.include_expired = true,
                "superseded" => filter.include_superseded = true,
                "all" => {
                    filter.include_quarantined = true;
                    filter.include_expired = true;
                    filter.include_superseded = true;
                }
                other => {
                    return Err(ApiError::invalid(format!(
                        "include: `{other}` is not one of quarantined, expired, superseded, all"
                    )));
                }
            }
        }
        Ok(filter)
    }
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn split_list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Lists memories, sorted by path. Held-out memories (quarantined, expired, superseded)
/// are left out unless `include` names them.
#[utoipa::path(get, path = "/v1/memories", tag = "memories", params(FilterParams),
    responses(
        (status = 200, description = "The memories", body = Vec<Summary>),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 401, description = "A token is needed", body = ErrorBody)))]
async fn list_memories(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<FilterParams>,
) -> Result<Json<Vec<Summary>>, ApiError> {
    let filter = params.filter()?;
    Ok(Json(state.run(move |mem| mem.list(&filter)).await?))
}

/// Where a write came from, recorded in its commit (`Memdir-Session`, `-Agent`, `-Step`).
fn provenance(session: Option<String>, agent: Option<String>, step: Option<String>) -> Provenance {
    Provenance {
        session,
        agent: agent.or_else(|| Some(DEFAULT_AGENT.into())),
        step,
        ..Provenance::default()
    }
}

/// Reads a time something ends at as the CLI's `--expires` does ([`crate::when::parse_deadline`]):
/// a date, an RFC 3339 time, `tomorrow`, `in 3 days`, or a duration from now (`30d`).
fn deadline(field: &str, value: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    value
        .map(|v| {
            crate::when::parse_deadline(v, Timestamp::now()).ok_or_else(|| {
                ApiError::invalid(format!(
                    "{field}: `{v}` is not a time (2026-12-01, an RFC 3339 time, `in 3 days`) \
                     or a duration from now (30d)"
                ))
            })
        })
        .transpose()
}

/// A memory to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateMemory {
    /// The Markdown body.
    text: String,
    /// One-line title; the text's first line when absent.
    title: Option<String>,
    /// The type (`fact`, `preference`, `event`, `procedure`, `note`, `summary` unless
    /// memory.toml says otherwise); the configured default when absent.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    kind: Option<String>,
    /// Tags.
    #[serde(default)]
    tags: Vec<String>,
    /// Whose memory this is, such as `user:alice`.
    scope: Option<String>,
    /// Always put it in context.
    #[serde(default)]
    pinned: bool,
    /// When to stop believing it: a date, an RFC 3339 time, `in 3 days`, or a duration from
    /// now (`30d`).
    expires: Option<String>,
    /// Ids of memories this one replaces.
    #[serde(default)]
    supersedes: Vec<String>,
    /// What it was derived from: memories as `id@revision` (a context citation) or `id`
    /// (recorded at its revision now), sessions as `session:ID` or `session:ID#tN`.
    /// `GET /v1/drift` lists it once a source changes.
    #[serde(default)]
    derived_from: Vec<String>,
    /// The session that wrote it.
    session: Option<String>,
    /// The agent that wrote it; `http` when absent.
    agent: Option<String>,
    /// The step of the session.
    step: Option<String>,
}

/// Adds a memory as one commit. The write guard checks it first: secrets are redacted, and a
/// memory that looks like poisoning is kept but quarantined (202, `"status": "quarantined"`):
/// it stays out of search and context until a person approves it.
#[utoipa::path(post, path = "/v1/memories", tag = "memories", request_body = CreateMemory,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Written", body = Written),
        (status = 202, description = "Written but quarantined for review", body = Written),
        (status = 400, description = "The memory is invalid", body = ErrorBody),
        (status = 401, description = "A token is needed", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody)))]
async fn create_memory(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateMemory>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    let supersedes = body
        .supersedes
        .iter()
        .map(|id| MemoryId::parse(id).map_err(crate::Error::from))
        .collect::<Result<Vec<_>, _>>()?;
    let derived_from = body
        .derived_from
        .iter()
        .map(|s| SourceRef::parse(s).map_err(crate::Error::from))
        .collect::<Result<Vec<_>, _>>()?;
    let new = NewMemory {
        text: body.text,
        derived_from,
        title: body.title,
        kind: body.kind,
        tags: body.tags,
        scope: body.scope,
        pinned: body.pinned,
        expires: deadline("expires", body.expires.as_deref())?,
        supersedes,
        ..NewMemory::default()
    };
    let prov = provenance(body.session, body.agent, body.step);
    let written = state.run(move |mem| mem.remember(new, &prov)).await?;
    Ok(answered(written, StatusCode::CREATED))
}

/// Returns a write's answer: `ok`, or 202 when the guard quarantined it (it was kept, for a
/// person to review, so it is no error).
fn answered(written: Written, ok: StatusCode) -> (StatusCode, Json<Written>) {
    let status = if written.quarantined {
        StatusCode::ACCEPTED
    } else {
        ok
    };
    (status, Json(written))
}

/// Returns a memory, read from its file now: front-matter, body, path and revision.
#[utoipa::path(get, path = "/v1/memories/{id}", tag = "memories",
    params(("id" = String, Path, description = "The memory's id")),
    responses(
        (status = 200, description = "The memory", body = MemoryView),
        (status = 400, description = "Not a valid id", body = ErrorBody),
        (status = 404, description = "No memory has this id", body = ErrorBody)))]
async fn get_memory(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MemoryView>, ApiError> {
    let view = state
        .run(move |mem| mem.view(&id, Timestamp::now()))
        .await?;
    Ok(Json(view))
}

/// Changes to a memory; fields left out are not touched.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateMemory {
    /// The new Markdown body.
    text: Option<String>,
    /// The new title.
    title: Option<String>,
    /// The whole new tag list.
    tags: Option<Vec<String>>,
    /// Tags to add.
    #[serde(default)]
    add_tags: Vec<String>,
    /// Tags to remove.
    #[serde(default)]
    remove_tags: Vec<String>,
    /// The new scope.
    scope: Option<String>,
    /// Pin or unpin.
    pinned: Option<bool>,
    /// The new expiry: a date, an RFC 3339 time, `in 3 days`, or a duration from now (`30d`).
    expires: Option<String>,
    /// Refuse (409) unless the memory is still at this revision (4 or more hex digits).
    expected_revision: Option<String>,
    /// The session that wrote it.
    session: Option<String>,
    /// The agent that wrote it; `http` when absent.
    agent: Option<String>,
    /// The step of the session.
    step: Option<String>,
}

/// Changes a memory as one commit, rewriting only the lines of the fields that change. With
/// `expected_revision`, a compare-and-swap: 409 if the memory changed since.
#[utoipa::path(patch, path = "/v1/memories/{id}", tag = "memories", request_body = UpdateMemory,
    params(("id" = String, Path, description = "The memory's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated (`commit` is null when nothing changed)", body = Written),
        (status = 202, description = "Updated but quarantined for review", body = Written),
        (status = 400, description = "Invalid id or change", body = ErrorBody),
        (status = 401, description = "A token is needed", body = ErrorBody),
        (status = 404, description = "No memory has this id", body = ErrorBody),
        (status = 409, description = "The memory changed since expected_revision", body = ErrorBody)))]
async fn update_memory(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateMemory>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    let update = Update {
        title: body.title,
        body: body.text,
        tags: body.tags,
        add_tags: body.add_tags,
        remove_tags: body.remove_tags,
        scope: body.scope,
        pinned: body.pinned,
        expires: deadline("expires", body.expires.as_deref())?,
        expect: body.expected_revision,
    };
    let prov = provenance(body.session, body.agent, body.step);
    let written = state.run(move |mem| mem.update(&id, update, &prov)).await?;
    Ok(answered(written, StatusCode::OK))
}

/// Why and by whom a memory is removed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DeleteParams {
    /// Why it is removed (recorded as a `Memdir-Reason` trailer).
    reason: Option<String>,
    /// The session that removed it.
    session: Option<String>,
    /// The agent that removed it; `http` when absent.
    agent: Option<String>,
    /// The step of the session.
    step: Option<String>,
}

/// Removes a memory as one commit; it stays in git history.
#[utoipa::path(delete, path = "/v1/memories/{id}", tag = "memories",
    params(("id" = String, Path, description = "The memory's id"), DeleteParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Removed", body = Written),
        (status = 400, description = "Not a valid id", body = ErrorBody),
        (status = 401, description = "A token is needed", body = ErrorBody),
        (status = 404, description = "No memory has this id", body = ErrorBody)))]
async fn delete_memory(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> Result<Json<Written>, ApiError> {
    let prov = provenance(params.session, params.agent, params.step);
    let reason = params.reason;
    let written = state
        .run(move |mem| mem.forget(&id, reason.as_deref(), &prov))
        .await?;
    Ok(Json(written))
}

/// A search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    /// What to look for, in plain words.
    query: String,
    /// Most memories to return (1 to 100; memory.toml's `[search] limit` when absent).
    limit: Option<usize>,
    /// Only memories of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only memories with every one of these tags (comma-separated).
    tag: Option<String>,
    /// Only memories of this scope.
    scope: Option<String>,
}

/// The most hits one search returns.
pub(super) const MAX_LIMIT: usize = 100;

/// Searches passages (BM25, English stemming): each hit is the best paragraph, list item or
/// section of one memory, with the lines it spans.
#[utoipa::path(get, path = "/v1/search", tag = "search", params(SearchParams),
    responses(
        (status = 200, description = "The hits, best first", body = Vec<Hit>,
            headers(("memdir-left-out" = u64, description = "How many memory files search left out because they are invalid (`memdir check` lists them)"))),
        (status = 400, description = "A parameter is invalid", body = ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<([(&'static str, String); 1], Json<Vec<Hit>>), ApiError> {
    if params.limit.is_some_and(|l| !(1..=MAX_LIMIT).contains(&l)) {
        return Err(ApiError::invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let filter = FilterParams {
        kind: params.kind,
        tag: params.tag,
        scope: params.scope,
        include: None,
    }
    .filter()?;
    let query = SearchQuery {
        text: params.query,
        limit: params.limit,
        filter,
        per_memory: None,
    };
    let (hits, left_out) = state
        .run(move |mem| Ok((mem.search(&query)?, mem.left_out().len())))
        .await?;
    // The body stays a list of hits; how many invalid files search left out rides beside it.
    Ok(([(LEFT_OUT_HEADER, left_out.to_string())], Json(hits)))
}

/// The response header of a search saying how many memory files are left out of it because
/// they are invalid (`memdir check` lists them).
pub const LEFT_OUT_HEADER: &str = "memdir-left-out";

/// What to build a context for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ContextParams {
    /// The task or question the prompt is about.
    query: String,
    /// Most tokens the context may take (default: `[context] budget`, 2000).
    budget: Option<usize>,
    /// The session the prompt belongs to: its last turns go in too.
    session: Option<String>,
    /// A task whose state (goal, steps done, next, artifacts) goes first.
    task: Option<String>,
    /// Only retrieve memories of this scope (pinned ones always come).
    scope: Option<String>,
    /// `markdown` (default), `xml` or `json`.
    format: Option<String>,
    /// `true`: explore as `agent`, leaving out memories other agents wrote unless shared
    /// (`withheld` says how many).
    explore: Option<bool>,
    /// The agent asking (required with `explore=true`): its own memories stay.
    agent: Option<String>,
}

/// Builds the context for a prompt: pinned memories, then the best-ranked ones that fit the
/// token budget, each with its `[id@revision]` citation.
#[utoipa::path(get, path = "/v1/context", tag = "search", params(ContextParams),
    responses(
        (status = 200, description = "The context: `text` goes in the prompt", body = Context),
        (status = 400, description = "A parameter is invalid, or the pinned memories exceed the budget", body = ErrorBody)))]
async fn context(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ContextParams>,
) -> Result<Json<Context>, ApiError> {
    let format = match params.format.as_deref() {
        None | Some("markdown") => ContextFormat::Markdown,
        Some("xml") => ContextFormat::Xml,
        Some("json") => ContextFormat::Json,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "format: `{other}` is not one of markdown, xml, json"
            )));
        }
    };
    let explore = match (params.explore.unwrap_or(false), non_empty(&params.agent)) {
        (false, _) => None,
        (true, Some(agent)) => Some(agent),
        (true, None) => {
            return Err(ApiError::invalid(
                "explore: name the agent asking with agent=NAME (its own memories stay)",
            ));
        }
    };
    let context = state
        .run(move |mem| {
            let budget = params.budget.unwrap_or(mem.config().context.budget);
            mem.context(&ContextRequest {
                scope: params.scope,
                format,
                session: params.session,
                task: params.task,
                explore,
                ..ContextRequest::new(params.query, budget)
            })
        })
        .await?;
    Ok(Json(context))
}

/// Which injections to report on.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct CostParams {
    /// Only requests from this time on: a date (`2026-11-20`), an RFC 3339 time,
    /// `yesterday` or `3 days ago`.
    pub(super) since: Option<String>,
    /// The price of a million input tokens in US dollars: adds `usd`.
    pub(super) price_per_mtok: Option<f64>,
}

impl CostParams {
    /// Returns the library's request, or why a field is not usable.
    pub(super) fn request(&self) -> Result<CostRequest, ApiError> {
        let since = non_empty(&self.since)
            .map(|v| {
                crate::when::parse_time(&v, Timestamp::now()).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "since: `{v}` is not a time: use {}",
                        crate::when::TIME_FORMS
                    ))
                })
            })
            .transpose()?;
        Ok(CostRequest {
            since,
            price_per_mtok: self.price_per_mtok,
        })
    }
}

/// Reports what the contexts in the injection log cost (`memdir cost`): requests, tokens in
/// all and per request (median, p95), the pinned memories' share, day by day, and `usd` when
/// a price is given.
#[utoipa::path(get, path = "/v1/cost", tag = "search", params(CostParams),
    responses(
        (status = 200, description = "The report", body = CostReport),
        (status = 400, description = "A parameter is invalid", body = ErrorBody)))]
async fn cost(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<CostParams>,
) -> Result<Json<CostReport>, ApiError> {
    let request = params.request()?;
    Ok(Json(state.run(move |mem| mem.cost(&request)).await?))
}

/// Lists the memories the write guard holds back for review, with why.
#[utoipa::path(get, path = "/v1/quarantine", tag = "memories",
    responses((status = 200, description = "Quarantined memories, sorted by path", body = Vec<Quarantined>)))]
async fn quarantine(State(state): State<AppState>) -> Result<Json<Vec<Quarantined>>, ApiError> {
    Ok(Json(state.run(|mem| mem.review()).await?))
}

/// Who reviews a quarantined memory, and why.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ReviewParams {
    /// Why (recorded as a `Memdir-Reason` trailer; rejections only).
    reason: Option<String>,
    /// Who decided, recorded as the agent; `http-review` when absent.
    reviewer: Option<String>,
}

/// Returns an error unless the request carries the reviewer's token.
fn reviewer_only(reviewer: Option<Extension<Reviewer>>) -> Result<(), ApiError> {
    match reviewer {
        Some(_) => Ok(()),
        None => Err(ApiError::forbidden(
            "only the reviewer's token may approve or reject a quarantined memory",
            "start `memdir serve` with MEMDIR_REVIEW_TOKEN set, give that token only to the people who review, and send it as `Authorization: Bearer TOKEN`; or use `memdir approve` / `memdir reject`",
        )),
    }
}

/// The provenance of a review decision.
fn review_provenance(reviewer: Option<String>) -> Provenance {
    provenance(None, reviewer.or_else(|| Some("http-review".into())), None)
}

/// Lets a quarantined memory in: removes its `quarantine:` block as one commit
/// (`Memdir-Op: approve`), so search and context see it again. Needs the reviewer's token.
#[utoipa::path(post, path = "/v1/quarantine/{id}/approve", tag = "memories",
    params(("id" = String, Path, description = "The memory's id"), ReviewParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Approved", body = Written),
        (status = 400, description = "Not a valid id, or not quarantined", body = ErrorBody),
        (status = 401, description = "A token is needed", body = ErrorBody),
        (status = 403, description = "Not the reviewer's token", body = ErrorBody),
        (status = 404, description = "No memory has this id", body = ErrorBody)))]
async fn approve(
    State(state): State<AppState>,
    reviewer: Option<Extension<Reviewer>>,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ReviewParams>,
) -> Result<Json<Written>, ApiError> {
    reviewer_only(reviewer)?;
    if params.reason.is_some() {
        return Err(ApiError::invalid(
            "reason: only a rejection records a reason",
        ));
    }
    let prov = review_provenance(params.reviewer);
    Ok(Json(state.run(move |mem| mem.approve(&id, &prov)).await?))
}

/// Removes a quarantined memory as one commit (`Memdir-Op: reject`, with the reason); it
/// stays in git history. Needs the reviewer's token.
#[utoipa::path(post, path = "/v1/quarantine/{id}/reject", tag = "memories",
    params(("id" = String, Path, description = "The memory's id"), ReviewParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Rejected", body = Written),
        (status = 400, description = "Not a valid id, or not quarantined", body = ErrorBody),
        (status = 401, description = "A token is needed", body = ErrorBody),
        (status = 403, description = "Not the reviewer's token", body = ErrorBody),
        (status = 404, description = "No memory has this id", body = ErrorBody)))]
async fn reject(
    State(state): State<AppState>,
    reviewer: Option<Extension<Reviewer>>,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ReviewParams>,
) -> Result<Json<Written>, ApiError> {
    reviewer_only(reviewer)?;
    let prov = review_provenance(params.reviewer);
    let reason = params.reason;
    Ok(Json(
        state
            .run(move |mem| mem.reject(&id, reason.as_deref(), &prov))
            .await?,
    ))
}

/// Returns every change to a memory, newest first: each commit with what it did (`added`,
/// `modified`, `renamed`, `removed`), its author and date, and the session, agent and step
/// that made it. Found by content, so hand edits and renames count.
#[utoipa::path(get, path = "/v1/memories/{id}/history", tag = "history",
    params(("id" = String, Path, description = "The memory's id")),
    responses(
        (status = 200, description = "The changes, newest first", body = Vec<Change>),
        (status = 400, description = "Not a valid id", body = ErrorBody),
        (status = 404, description = "No memory ever had this id", body = ErrorBody)))]
async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<Change>>, ApiError> {
    MemoryId::parse(&id).map_err(crate::Error::from)?;
    Ok(Json(state.run(move |mem| mem.log_of(&id)).await?))
}

/// Two points in the history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct DiffParams {
    /// The earlier point: a snapshot, a commit, or a date (2026-12-01).
    pub from: String,
    /// The later point (default: now, HEAD).
    pub to: Option<String>,
}

/// Returns the beliefs added, changed and removed between two points, by memory and by
/// field (front-matter keys and `body`, with old and new values).
#[utoipa::path(get, path = "/v1/diff", tag = "history", params(DiffParams),
    responses(
        (status = 200, description = "What changed", body = BeliefDiff),
        (status = 400, description = "A point names no commit, snapshot or date", body = ErrorBody)))]
async fn diff(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<DiffParams>,
) -> Result<Json<BeliefDiff>, ApiError> {
    Ok(Json(
        state
            .run(move |mem| mem.diff(&params.from, params.to.as_deref()))
            .await?,
    ))
}

/// Lists the snapshots (named points to diff against), sorted by name.
#[utoipa::path(get, path = "/v1/snapshots", tag = "history",
    responses((status = 200, description = "The snapshots", body = Vec<TagInfo>)))]
async fn snapshots(State(state): State<AppState>) -> Result<Json<Vec<TagInfo>>, ApiError> {
    Ok(Json(state.run(|mem| mem.snapshots()).await?))
}

/// Lists the derived memories whose sources changed, were superseded or were removed since
/// they were written (`derived_from:`), with what changed in each source, as `memdir drift`.
#[utoipa::path(get, path = "/v1/drift", tag = "history",
    responses((status = 200, description = "The drifted memories, by path", body = Vec<Drifted>)))]
async fn drift(State(state): State<AppState>) -> Result<Json<Vec<Drifted>>, ApiError> {
    Ok(Json(state.run(|mem| mem.drift(Timestamp::now())).await?))
}

/// A task to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StartTask {
    /// A new task id: 1 to 128 letters, digits, `-`, `_` or `.`.
    id: String,
    /// What the task is for.
    goal: String,
    /// The agent running it; `http` when absent.
    agent: Option<String>,
    /// The session it belongs to.
    session: Option<String>,
}

/// Starts a task (`tasks/<id>.jsonl`), as `memdir task start`.
#[utoipa::path(post, path = "/v1/tasks", tag = "tasks", request_body = StartTask,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Started", body = crate::task::Task),
        (status = 400, description = "The id or goal is invalid, or the task exists", body = ErrorBody)))]
async fn task_start(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<StartTask>,
) -> Result<(StatusCode, Json<crate::task::Task>), ApiError> {
    let prov = provenance(body.session, body.agent, None);
    let task = state
        .run(move |mem| mem.task_start(&body.id, &body.goal, &prov))
        .await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// Returns a task: its goal, every acknowledged step, what is next and its artifacts.
#[utoipa::path(get, path = "/v1/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "The task's id")),
    responses(
        (status = 200, description = "The task", body = crate::task::Task),
        (status = 404, description = "No task has this id", body = ErrorBody)))]
async fn task_show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<crate::task::Task>, ApiError> {
    Ok(Json(state.run(move |mem| mem.task(&id)).await?))
}

/// A step of a task, once done.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TaskStep {
    /// What the step did.
    done: String,
    /// What comes next.
    next: Option<String>,
    /// What it made: files, URLs, ids.
    #[serde(default)]
    artifacts: Vec<String>,
    /// The agent; `http` when absent.
    agent: Option<String>,
}

/// Records a step of a task; it is on disk when the answer comes.
#[utoipa::path(post, path = "/v1/tasks/{id}/steps", tag = "tasks", request_body = TaskStep,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The task's id")),
    responses(
        (status = 201, description = "Recorded", body = crate::task::Step),
        (status = 400, description = "The step is invalid, or the task ended or expired", body = ErrorBody),
        (status = 404, description = "No task has this id", body = ErrorBody)))]
async fn task_step(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TaskStep>,
) -> Result<(StatusCode, Json<crate::task::Step>), ApiError> {
    let prov = provenance(None, body.agent, None);
    let step = crate::task::StepInput {
        done: body.done,
        next: body.next,
        artifacts: body.artifacts,
    };
    let step = state
        .run(move |mem| mem.task_step(&id, &step, &prov))
        .await?;
    Ok((StatusCode::CREATED, Json(step)))
}

/// How a task ended.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EndTask {
    /// How it ended.
    outcome: Option<String>,
    /// The agent; `http` when absent.
    agent: Option<String>,
}

/// Ends a task and commits its file (`Memdir-Op: task-end`); returns the task.
#[utoipa::path(post, path = "/v1/tasks/{id}/end", tag = "tasks", request_body = EndTask,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The task's id")),
    responses(
        (status = 200, description = "Ended", body = crate::task::Task),
        (status = 404, description = "No task has this id", body = ErrorBody)))]
async fn task_end(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EndTask>,
) -> Result<Json<crate::task::Task>, ApiError> {
    let prov = provenance(None, body.agent, None);
    let task = state
        .run(move |mem| {
            mem.task_end(&id, body.outcome.as_deref(), &prov)?;
            mem.task(&id)
        })
        .await?;
    Ok(Json(task))
}

/// Which remote to sync with.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SyncBody {
    /// The git remote (default: the branch's upstream, else `origin`).
    remote: Option<String>,
    /// The agent asking; `http` when absent.
    agent: Option<String>,
}

/// Syncs with a git remote, as `memdir sync`: fetch, merge memory by memory, push (never
/// forced). 409 when a merge must wait (uncommitted edits, a purged memory coming back).
#[utoipa::path(post, path = "/v1/sync", tag = "history", request_body = SyncBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Synced", body = crate::Synced),
        (status = 400, description = "No such remote", body = ErrorBody),
        (status = 409, description = "The sync must wait: the message says for what", body = ErrorBody),
        (status = 502, description = "The remote could not be reached", body = ErrorBody)))]
async fn sync(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SyncBody>,
) -> Result<Json<crate::Synced>, ApiError> {
    let prov = provenance(None, body.agent, None);
    let synced = state
        .run(move |mem| mem.sync(body.remote.as_deref(), &prov))
        .await?;
    Ok(Json(synced))
}
