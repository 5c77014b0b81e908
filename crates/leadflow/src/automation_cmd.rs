//! `leadflow automation run`: the scheduled automations that are due, each slot run once
//! (claimed in the store) and missed slots caught up once.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::Table;
use leadflow_automation::{JobOutcome, run_due};

use crate::config_cmd::load_valid;
use crate::properties_cmd::ConfigDir;
use crate::sync_cmd::StoreArgs;

/// `leadflow automation …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AutomationCommand {
    /// Run what `schedules.yaml` has due now: the daily run recomputes lead scores and
    /// queues the changed ones (sent by `leadflow workflows run`); the weekly and monthly
    /// schedules are listed, their jobs arrive with the reports.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The time to decide what is due at, RFC 3339 (default: now). What it queues is sent
    /// from the moment it is recorded.
    #[arg(long, value_name = "TIME")]
    now: Option<jiff::Timestamp>,
    #[command(flatten)]
    config: ConfigDir,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) async fn run(command: AutomationCommand) -> anyhow::Result<ExitCode> {
    match command {
        AutomationCommand::Run(a) => run_now(a).await,
    }
}

async fn run_now(args: RunArgs) -> anyhow::Result<ExitCode> {
    let project = load_valid(&args.config.dir)?;
    let now = args.now.unwrap_or_else(jiff::Timestamp::now);
    let store = args.store.open().await?;
    let reports = run_due(
        &store,
        &args.store.portal,
        &project.schedules,
        &project.scoring,
        now,
        jiff::Timestamp::now().as_millisecond(),
    )
    .await
    .context("running the scheduled automations")?;
    let tz = crate::config_cmd::schedule_zone(&project)?;
    let local = |t: jiff::Timestamp| t.to_zoned(tz.clone()).strftime("%F %R").to_string();
    let mut table = Table::new();
    table.set_header(["schedule", "cron", "status", "next run"]);
    let mut scoring = None;
    for r in &reports {
        let status = match &r.outcome {
            JobOutcome::Ran {
                slot,
                missed,
                scoring: s,
                date,
            } => {
                scoring = Some((*date, *s));
                match missed {
                    0 => format!("ran the {} slot", local(*slot)),
                    n => format!(
                        "ran the {} slot ({n} missed slot(s) caught up by it)",
                        local(*slot)
                    ),
                }
            }
            JobOutcome::ClaimedElsewhere { slot } => {
                format!("the {} slot was claimed by another worker", local(*slot))
            }
            JobOutcome::NotDue { last: Some(l) } => format!("not due (last: {})", local(*l)),
            JobOutcome::NotDue { last: None } => "not due".to_owned(),
            JobOutcome::NoJobYet => "scheduled; their jobs arrive with the reports".to_owned(),
        };
        table.add_row([
            r.key.clone(),
            r.cron.clone(),
            status,
            r.next.map(local).unwrap_or_default(),
        ]);
    }
    println!(
        "schedules in {}, now {}",
        project.schedules.time_zone,
        local(now)
    );
    println!("{table}");
    if let Some((date, s)) = scoring {
        println!(
            "lead scoring on {date}: {} contacts read, {} scores changed, {} write intents recorded, {} API calls when `leadflow workflows run` sends them",
            s.read, s.changed, s.intents, s.api_calls
        );
    }
    Ok(ExitCode::SUCCESS)
}
