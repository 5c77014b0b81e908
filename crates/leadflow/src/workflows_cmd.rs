//! `leadflow workflows run|test|simulate|history`: the workflow engine once, workflow
//! fixtures, dry runs over the store, and a contact's execution history.

mod fixture;
pub(crate) mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::Table;
use leadflow_engine::{Engine, EngineError, PortalMap, run_once};

use crate::cli::PortalArgs;
use crate::config_cmd::load_valid;
use crate::properties_cmd::ConfigDir;
use crate::sync_cmd::StoreArgs;

const SIMULATE_NOTE: &str = "The evaluation uses the contacts as they are stored now (after `leadflow sync`), not as they were when each event happened: a contact tagged last week whose fit score changed since is evaluated with today's score. Nothing is written to the store or to HubSpot.";

/// `leadflow workflows …`.
#[derive(Debug, Subcommand)]
pub(crate) enum WorkflowsCommand {
    /// Run the engine once: evaluate the events the store holds (after `leadflow sync`),
    /// check the time-based triggers, carry out every due action. Exit 0, or 1 when an
    /// action was dead-lettered.
    Run(RunArgs),
    /// Run workflow fixtures (YAML: a contact, an event, the expected actions) against the
    /// engine, without HubSpot or a store. Exit 0 all pass, 1 failures, 2 bad files.
    Test(TestArgs),
    /// Dry run: replay stored events and the time-based check through the workflows and
    /// report who would enroll, what would change and the API calls, writing nothing.
    #[command(after_help = SIMULATE_NOTE)]
    Simulate(SimulateArgs),
    /// A contact's execution history: enrollments and every action with its outcome.
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    config: ConfigDir,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    portal: PortalArgs,
}

#[derive(Debug, Args)]
pub(crate) struct TestArgs {
    /// Fixture files or directories (default: <config>/tests/*.yaml).
    files: Vec<PathBuf>,
    #[command(flatten)]
    config: ConfigDir,
}

#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// Replay the events of this last period (30d, 12h, 2w).
    #[arg(long, default_value = "30d", value_parser = parse_period)]
    since: jiff::SignedDuration,
    /// Only this workflow (its key or name, or contact_creation / contact_update).
    #[arg(long)]
    workflow: Option<String>,
    #[command(flatten)]
    config: ConfigDir,
    #[command(flatten)]
    store: StoreArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The contact's email.
    #[arg(long, value_name = "EMAIL")]
    contact: String,
    /// The project (for the workflows' names; optional).
    #[command(flatten)]
    config: ConfigDir,
    #[command(flatten)]
    store: StoreArgs,
    /// Print the history as JSON.
    #[arg(long)]
    json: bool,
}

/// Parses `30d`, `12h`, `2w`, `90m`.
fn parse_period(text: &str) -> Result<jiff::SignedDuration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{text:?} is not a period such as 30d, 12h or 2w"))?;
    let hours = match unit.trim() {
        "w" => 24 * 7,
        "d" => 24,
        "h" => 1,
        "m" => return Ok(jiff::SignedDuration::from_mins(n)),
        _ => return Err(format!("{text:?} is not a period such as 30d, 12h or 2w")),
    };
    Ok(jiff::SignedDuration::from_hours(n * hours))
}

pub(crate) async fn run(command: WorkflowsCommand) -> anyhow::Result<ExitCode> {
    match command {
        WorkflowsCommand::Run(a) => run_engine(a).await,
        WorkflowsCommand::Test(a) => test(a),
        WorkflowsCommand::Simulate(a) => simulate(a).await,
        WorkflowsCommand::History(a) => history(a).await,
    }
}

async fn run_engine(args: RunArgs) -> anyhow::Result<ExitCode> {
    let project = load_valid(&args.config.dir)?;
    let tz = crate::config_cmd::project_zone(&project)?;
    let store = args.store.open().await?;
    let portal = &args.store.portal;
    let map = match PortalMap::load(&store, portal, &project.settings, &project.workflows).await {
        Ok(m) => m,
        Err(e @ EngineError::Missing { .. }) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e).context("resolving the workflows' stages and sequences"),
    };
    let client = crate::portal::client_for(&args.portal, &project.settings)?;
    let engine = Engine::new(project, portal.clone())?;
    let report = run_once(&engine, &client, &store, &map, jiff::Timestamp::now(), &tz).await;
    crate::health::flush_latency(&client, &store, portal).await?;
    let report = report.context("running the workflows")?;
    let mut table = Table::new();
    table.set_header(["step", "what", "count"]);
    let rows = [
        ("events", "read", report.ingested.events),
        ("events", "runs started", report.ingested.enrolled),
        ("events", "runs already recorded", report.ingested.already),
        ("events", "actions queued", report.ingested.intents),
        ("time-based", "contacts due", report.ticked.events),
        ("time-based", "runs started", report.ticked.enrolled),
        ("time-based", "runs already recorded", report.ticked.already),
        ("time-based", "actions queued", report.ticked.intents),
        ("actions", "done", report.executed.done),
        ("actions", "skipped", report.executed.skipped),
        ("actions", "dead-lettered", report.executed.dead),
        ("actions", "retried later", report.executed.retried),
    ];
    for (step, what, n) in rows {
        table.add_row([step.to_owned(), what.to_owned(), n.to_string()]);
    }
    println!("{table}");
    if report.executed.dead > 0 {
        println!(
            "{} action(s) dead-lettered; `leadflow workflows history --contact EMAIL` shows each with HubSpot's message",
            report.executed.dead
        );
        return Ok(ExitCode::from(1));
    }
    if report.executed.retried > 0 {
        println!(
            "{} action(s) will be retried by the next run",
            report.executed.retried
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn test(args: TestArgs) -> anyhow::Result<ExitCode> {
    let project = load_valid(&args.config.dir)?;
    let engine = Engine::new(project.clone(), "fixtures")?;
    let files = fixture::files(&args.files, &args.config.dir).context("listing fixture files")?;
    if files.is_empty() {
        eprintln!(
            "error: no fixture files (looked in {}; `leadflow init` writes the spec's)",
            if args.files.is_empty() {
                args.config.dir.join("tests").display().to_string()
            } else {
                "the paths given".to_owned()
            }
        );
        return Ok(ExitCode::from(2));
    }
    let (mut passed, mut failed, mut bad) = (0, 0, 0);
    for path in &files {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", path.display());
                bad += 1;
                continue;
            }
        };
        let fixtures = match fixture::read(&text, &project, &engine) {
            Ok(f) => f,
            Err(errors) => {
                for e in errors {
                    eprintln!("{}:{}: {}", path.display(), e.loc, e.message);
                }
                bad += 1;
                continue;
            }
        };
        for f in &fixtures {
            let outcome = fixture::check(f, &engine);
            let at = format!("{}:{}", path.display(), f.loc.line);
            if outcome.passed() {
                passed += 1;
                println!("ok      {at}  {}", f.name);
            } else {
                failed += 1;
                println!("FAILED  {at}  {}", f.name);
                println!("        (- expected, + actual)");
                for line in fixture::diff(&outcome.expected, &outcome.actual) {
                    println!("        {line}");
                }
            }
        }
    }
    println!(
        "{} fixture(s): {passed} passed, {failed} failed{}",
        passed + failed,
        if bad > 0 {
            format!(", {bad} file(s) with problems")
        } else {
            String::new()
        }
    );
    Ok(if bad > 0 {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn simulate(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let project = load_valid(&args.config.dir)?;
    let tz = crate::config_cmd::project_zone(&project)?;
    let store = args.store.open().await?;
    let engine = Engine::new(project, args.store.portal.clone())?;
    let only = match args.workflow.as_deref() {
        Some(w) => match simulate::workflow_key(&engine, w) {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
    let now = jiff::Timestamp::now();
    let since = now
        .checked_sub(args.since)
        .context("--since reaches too far back")?;
    let today = now.to_zoned(tz).date();
    let sim = simulate::simulate(
        &engine,
        &store,
        &args.store.portal,
        only.as_deref(),
        since.as_millisecond(),
        today,
    )
    .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&sim)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Dry run: {} event(s) since {} replayed, {} contact(s) due for time-based checks on {}; nothing written.",
        sim.events, sim.since, sim.time_based_candidates, sim.today
    );
    println!("Evaluated against the contacts as stored now.");
    let mut table = Table::new();
    table.set_header([
        "workflow",
        "would enroll",
        "already enrolled",
        "writes",
        "deals",
        "tasks",
        "sequence enrollments",
        "deal moves",
        "skipped",
        "API calls",
    ]);
    for w in &sim.workflows {
        table.add_row([
            w.workflow.clone(),
            format!("{} ({} runs)", w.contacts, w.enrollments),
            w.already_enrolled_contacts.to_string(),
            w.actions.writes.to_string(),
            w.actions.deals.to_string(),
            w.actions.tasks.to_string(),
            w.actions.sequence_enrollments.to_string(),
            (w.actions.deal_moves + w.actions.deal_owners).to_string(),
            w.skipped.values().sum::<usize>().to_string(),
            w.api_calls.to_string(),
        ]);
    }
    println!("{table}");
    let skipped: Vec<(&str, &String, &usize)> = sim
        .workflows
        .iter()
        .flat_map(|w| {
            w.skipped
                .iter()
                .map(|(why, n)| (w.workflow.as_str(), why, n))
        })
        .collect();
    if !skipped.is_empty() {
        println!("skipped:");
        for (w, why, n) in skipped {
            println!("  {n:>6}  {w}  {why}");
        }
    }
    println!(
        "estimated API calls: {} batched across workflows (one call per action: {})",
        sim.total_api_calls, sim.unbatched_api_calls
    );
    Ok(ExitCode::SUCCESS)
}

async fn history(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    // The project only names the workflows; a history is readable without one.
    let (project, _) = leadflow_config::load(&args.config.dir);
    let store = args.store.open().await?;
    let Some(h) = leadflow_engine::history::load(
        &store,
        &args.store.portal,
        &args.contact,
        &project.workflows,
    )
    .await?
    else {
        eprintln!(
            "error: the store has no contact with the email {:?} (portal {}); `leadflow sync` reads the portal's contacts",
            args.contact, args.store.portal
        );
        return Ok(ExitCode::from(1));
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&h)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}{} (contact {}){}",
        h.name
            .as_deref()
            .map(|n| format!("{n} "))
            .unwrap_or_default(),
        h.email
            .as_deref()
            .map(|e| format!("<{e}>"))
            .unwrap_or_default(),
        h.contact_id,
        if h.archived {
            ", gone from the portal"
        } else {
            ""
        }
    );
    if h.workflows.is_empty() {
        println!("no workflow has run for this contact");
    }
    for w in &h.workflows {
        println!();
        println!("{} ({})", w.workflow, w.name);
        for e in &w.enrollments {
            println!(
                "  enrolled {} on {}",
                e.enrolled_at,
                serde_json::to_string(&e.trigger_value)?
            );
            if e.actions.is_empty() {
                println!("    (no actions)");
                continue;
            }
            let mut table = Table::new();
            table.set_header(["action", "state", "attempts", "at", "result / error"]);
            for a in &e.actions {
                let detail = match (&a.result, &a.error, &a.reason) {
                    (Some(r), _, _) => r.to_string(),
                    (None, Some(e), _) => e.clone(),
                    (None, None, Some(r)) => format!("skipped: {r}"),
                    _ => String::new(),
                };
                table.add_row([
                    a.action.clone(),
                    a.state.clone(),
                    a.attempts.to_string(),
                    a.at.clone(),
                    detail,
                ]);
            }
            for line in table.to_string().lines() {
                println!("    {line}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_period;

    #[test]
    fn periods_are_days_weeks_hours_or_minutes() {
        assert_eq!(
            parse_period("30d").unwrap(),
            jiff::SignedDuration::from_hours(720)
        );
        assert_eq!(
            parse_period("2w").unwrap(),
            jiff::SignedDuration::from_hours(336)
        );
        assert_eq!(
            parse_period("12h").unwrap(),
            jiff::SignedDuration::from_hours(12)
        );
        assert_eq!(
            parse_period("90m").unwrap(),
            jiff::SignedDuration::from_mins(90)
        );
        assert!(parse_period("30").is_err());
        assert!(parse_period("thirty days").is_err());
    }
}
