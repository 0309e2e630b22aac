//! `memdir task`

use clap::{Args, Subcommand};
use memdir::task::{StepInput, Task};

use super::{CliError, Globals, ProvenanceArgs, print_json};
use crate::outln;

/// Checkpoint multi-step work, so it resumes after a crash instead of repeating
///
/// A task is `tasks/<ID>.jsonl`: its goal, then one line per step (what was done, what is
/// next, what it made). `step` returns only once the step is on disk (written under a file
/// lock and fsync'd), so after a crash `show` gives exactly the steps acknowledged, what is
/// next and the artifacts. The file is committed every `[task] commit_every` steps (10 by
/// default) and at `end`. `memdir context --task ID` puts the task's state first. A task
/// with no step for `[task] ttl_hours` (a week by default) has expired: it is left out of
/// context and takes no more steps.
///
/// Examples:
///   memdir task start release-42 --goal "Ship v4.2 to production"
///   memdir task step release-42 --done "Built the image" --next "Run the migrations" --artifact out/image.tar
///   memdir task show release-42 --json
///   memdir task end release-42 --outcome "Shipped"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct TaskArgs {
    #[command(subcommand)]
    command: TaskCommand,
}

#[derive(Debug, Subcommand)]
enum TaskCommand {
    /// Start a task toward a goal
    Start(StartArgs),
    /// Record a step once it is done (durable when this returns)
    Step(StepArgs),
    /// Print a task's goal, steps, what is next and its artifacts
    Show(ShowArgs),
    /// End a task and commit its file (`Memdir-Op: task-end`)
    End(EndArgs),
}

#[derive(Debug, Args)]
struct StartArgs {
    /// A new task id (letters, digits, `-`, `_`, `.`)
    id: String,
    /// What the task is for
    #[arg(long)]
    goal: String,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

#[derive(Debug, Args)]
struct StepArgs {
    /// The task's id
    id: String,
    /// What this step did
    #[arg(long)]
    done: String,
    /// What comes next
    #[arg(long)]
    next: Option<String>,
    /// What the step made: a file, a URL, an id (can be repeated)
    #[arg(long = "artifact", value_name = "PATH")]
    artifacts: Vec<String>,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The task's id
    id: String,
}

#[derive(Debug, Args)]
struct EndArgs {
    /// The task's id
    id: String,
    /// How it ended
    #[arg(long)]
    outcome: Option<String>,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_task(g: &Globals, args: TaskArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    match args.command {
        TaskCommand::Start(a) => {
            let task = mem.task_start(&a.id, &a.goal, &a.provenance.provenance())?;
            if g.json {
                return print_json(&task);
            }
            outln!("Started task {}: {}", task.id, task.goal);
        }
        TaskCommand::Step(a) => {
            let step = StepInput {
                done: a.done,
                next: a.next,
                artifacts: a.artifacts,
            };
            let step = mem.task_step(&a.id, &step, &a.provenance.provenance())?;
            if g.json {
                return print_json(&step);
            }
            outln!("Step {} of task {} recorded.", step.step, a.id);
        }
        TaskCommand::Show(a) => {
            let task = mem.task(&a.id)?;
            if g.json {
                return print_json(&task);
            }
            print_task(&task)?;
        }
        TaskCommand::End(a) => {
            let commit = mem.task_end(&a.id, a.outcome.as_deref(), &a.provenance.provenance())?;
            let task = mem.task(&a.id)?;
            if g.json {
                return print_json(&task);
            }
            match commit {
                Some(c) => outln!(
                    "Ended task {} after {} steps (commit {}).",
                    task.id,
                    task.steps.len(),
                    &c[..7]
                ),
                None => outln!("Task {} had already ended.", task.id),
            }
        }
    }
    Ok(())
}

/// Prints a task as `show` does: its state as the context gives it, then when and where.
fn print_task(task: &Task) -> Result<(), CliError> {
    outln!("{}", task.render(task.steps.len()).trim_end());
    outln!(
        "Started {}{}; file {}{}",
        task.started,
        task.agent
            .as_deref()
            .map(|a| format!(" by {a}"))
            .unwrap_or_default(),
        task.path,
        if task.expired {
            " (expired: left out of context, no more steps)"
        } else {
            ""
        }
    );
    Ok(())
}
