//! Exploration: `context --explore --agent NAME` (and `GET /v1/context?explore=true`)
//! withholds exactly the memories other agents concluded, unless shared; what people wrote,
//! NAME's own and pinned memories stay. Without it, nothing changes.

use std::collections::BTreeSet;

use memdir::context::ContextRequest;
use memdir::{Memdir, NewMemory, Provenance};

use crate::common::{TestEnv, author};

/// Who wrote what in [`team`]: each memory mentions checkout, so search finds them all.
struct Team {
    /// Written by people, by the scout itself, shared, pinned: an exploring scout sees them.
    kept: Vec<String>,
    /// Other agents' unshared conclusions: an exploring scout does not.
    withheld: Vec<String>,
}

fn by(agent: Option<&str>) -> Provenance {
    Provenance {
        agent: agent.map(str::to_owned),
        author: Some(author()),
        ..Provenance::default()
    }
}

/// A repository where people and three agents wrote about checkout; the scope
/// `project:shared` is shared in `memory.toml`.
fn team() -> (TestEnv, Memdir, Team) {
    let env = TestEnv::new();
    Memdir::init_as(&env.repo(), Some(&author())).unwrap();
    env.write(
        "memory.toml",
        "[context]\nshared_scopes = [\"project:shared\"]\n",
    );
    let mem = env.open();
    let write = |text: &str, agent: Option<&str>, new: fn(NewMemory) -> NewMemory| {
        mem.remember(new(NewMemory::new(text)), &by(agent))
            .unwrap()
            .id
    };
    let same = |m: NewMemory| m;
    let kept = vec![
        write("Checkout talks to the payments API over gRPC.", None, same),
        write(
            "Checkout pages must load in under a second.",
            Some("user:alice"),
            same,
        ),
        write(
            "Checkout traces show slow calls to the inventory service.",
            Some("scout"),
            same,
        ),
        write("Checkout runs in three regions.", Some("planner"), |m| {
            m.extra("shared", true)
        }),
        write(
            "Checkout owns the cart service too.",
            Some("planner"),
            |m| m.scope("project:shared"),
        ),
        write(
            "Checkout incidents page the payments on-call first.",
            Some("planner"),
            |m| m.pinned(true),
        ),
    ];
    let withheld = vec![
        write(
            "Checkout is slow because of the cache change: roll it back.",
            Some("planner"),
            same,
        ),
        write(
            "Checkout latency comes from the database, not the cache.",
            Some("agent:reviewer"),
            |m| m.scope("project:api"),
        ),
    ];
    (env, mem, Team { kept, withheld })
}

fn ids(items: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    items.into_iter().collect()
}

/// Exploring as `scout` leaves out exactly the two conclusions of other agents, and says so;
/// the agent's name may carry an `agent:` prefix.
#[test]
fn explore_withholds_exactly_other_agents_unshared_memories() {
    let (_env, mem, team) = team();
    for name in ["scout", "agent:scout"] {
        let ctx = mem
            .context(&ContextRequest {
                explore: Some(name.into()),
                ..ContextRequest::new("checkout", 4000)
            })
            .unwrap();
        assert_eq!(
            ids(ctx.items.iter().map(|i| i.id.clone())),
            ids(team.kept.clone()),
            "{name}"
        );
        assert_eq!(ctx.withheld, Some(2));
        assert_eq!(
            ids(ctx.withheld_memories.iter().map(|w| w.id.clone())),
            ids(team.withheld.clone())
        );
        let agents: BTreeSet<&str> = ctx
            .withheld_memories
            .iter()
            .map(|w| w.agent.as_str())
            .collect();
        assert_eq!(agents, BTreeSet::from(["planner", "reviewer"]));
        assert!(
            ctx.withheld_memories[0]
                .why
                .contains("not `scout`, and not shared"),
            "{:?}",
            ctx.withheld_memories[0]
        );
    }
    // With no query (a session starting), the most recent memories are filtered the same way.
    let recent = mem
        .context(&ContextRequest {
            explore: Some("scout".into()),
            ..ContextRequest::new("", 4000)
        })
        .unwrap();
    assert_eq!(
        ids(recent.items.iter().map(|i| i.id.clone())),
        ids(team.kept.clone())
    );
    assert_eq!(recent.withheld, Some(2));
    // The planner exploring sees its own conclusion, and not the scout's nor the reviewer's.
    let ctx = mem
        .context(&ContextRequest {
            explore: Some("planner".into()),
            ..ContextRequest::new("checkout", 4000)
        })
        .unwrap();
    let withheld: BTreeSet<String> = ctx
        .withheld_memories
        .iter()
        .map(|w| w.agent.clone())
        .collect();
    assert_eq!(withheld, ids(["scout".into(), "reviewer".into()]));
}

/// Without --explore every memory comes, and the JSON says nothing of withholding.
#[test]
fn without_explore_nothing_is_withheld() {
    let (env, mem, team) = team();
    let ctx = mem.context(&ContextRequest::new("checkout", 4000)).unwrap();
    let all: BTreeSet<String> = team.kept.iter().chain(&team.withheld).cloned().collect();
    assert_eq!(ids(ctx.items.iter().map(|i| i.id.clone())), all);
    assert_eq!(ctx.withheld, None);
    let json = env
        .run(&["context", "checkout", "--budget", "4000", "--json"])
        .success()
        .json();
    assert!(json.get("withheld").is_none(), "{json}");
    assert!(json.get("withheld_memories").is_none(), "{json}");
}

/// The command line: `--explore --agent NAME` (or MEMDIR_AGENT), `withheld: N` in the JSON,
/// a note on stderr otherwise, and a usage error without an agent.
#[test]
fn the_cli_explores_as_the_named_agent() {
    let (env, _mem, team) = team();
    let json = env
        .run(&[
            "context",
            "checkout",
            "--budget",
            "4000",
            "--explore",
            "--agent",
            "scout",
            "--json",
        ])
        .success()
        .json();
    assert_eq!(json["withheld"], 2);
    let withheld: BTreeSet<String> = json["withheld_memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(withheld, ids(team.withheld.clone()));
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), team.kept.len());

    let text = env
        .run(&[
            "context",
            "checkout",
            "--budget",
            "4000",
            "--explore",
            "--agent",
            "scout",
            "--log",
        ])
        .success();
    // The injection log says who explored and what was withheld.
    let logged: serde_json::Value =
        serde_json::from_str(env.read(".git/memdir/injections.jsonl").trim()).unwrap();
    assert_eq!(logged["explore"], "scout");
    let logged_ids = logged["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_owned());
    assert_eq!(ids(logged_ids), ids(team.withheld.clone()));
    assert_eq!(
        text.stderr,
        "note: 2 memories other agents wrote are withheld (--explore); --json lists them.\n"
    );
    assert!(!text.stdout.contains("roll it back"), "{text}");
    assert!(
        text.stdout.contains("slow calls to the inventory service"),
        "{text}"
    );

    let no_agent = env.run(&["context", "checkout", "--explore"]);
    assert_eq!(no_agent.status, 2, "{no_agent}");
    assert!(no_agent.stderr.contains("--agent <NAME>"), "{no_agent}");
}

/// The HTTP API: `explore=true&agent=NAME`, and a 400 without the agent.
#[cfg(feature = "http")]
#[test]
fn the_http_api_explores_as_the_named_agent() {
    let (_env, mem, team) = team();
    let server = crate::common::serve::TestServer::start(mem, None);
    let http = server.client(None);
    let reply = http.get("/v1/context?query=checkout&budget=4000&explore=true&agent=scout");
    assert_eq!(reply.status, 200, "{}", reply.render());
    let json = reply.json();
    assert_eq!(json["withheld"], 2);
    assert_eq!(
        json["items"].as_array().unwrap().len(),
        team.kept.len(),
        "{json}"
    );
    let plain = http.get("/v1/context?query=checkout&budget=4000").json();
    assert!(plain.get("withheld").is_none(), "{plain}");
    let missing = http.get("/v1/context?query=checkout&explore=true");
    assert_eq!(missing.status, 400);
    assert!(missing.body.contains("agent=NAME"), "{}", missing.body);
}
