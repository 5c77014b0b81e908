//! `leadflow automation run`: the scheduled automations that are due, each slot run once
//! (claimed in the store) and missed slots caught up once, with what each job changed,
//! where reports were archived and what became of their mail. Also what `serve` needs to
//! run the same jobs on its scheduler: the data directory, the SMTP server from the
//! environment, and the engine's time-based check.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::Table;
use leadflow_automation::{
    Automation, DeliveryState, Done, JobOutcome, Mailer, TimeBasedCheck, run_due,
};
use leadflow_config::Project;
use leadflow_core::Secret;
use leadflow_store::Store;

use crate::config_cmd::load_valid;
use crate::properties_cmd::ConfigDir;
use crate::sync_cmd::StoreArgs;

/// `leadflow automation …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AutomationCommand {
    /// Run what `schedules.yaml` has due now: the daily cleanup (last activity dates, old
    /// tasks, lead scores; their HubSpot writes are queued and sent by `leadflow workflows
    /// run` or `serve`), the time-based workflow triggers, the weekly report (archived in
    /// the data directory and mailed when LEADFLOW_SMTP_URL is set), then the report mails
    /// due for a retry.
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

/// Where reports are archived: `LEADFLOW_DATA_DIR`, else the SQLite store's directory,
/// else `leadflow-data`.
pub(crate) fn data_dir(store: &StoreArgs) -> PathBuf {
    if let Some(dir) = std::env::var_os("LEADFLOW_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    store
        .database_url
        .strip_prefix("sqlite://")
        .and_then(|p| Path::new(p).parent())
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("leadflow-data"), Path::to_owned)
}

/// The SMTP server from `LEADFLOW_SMTP_URL`, with the password from
/// `LEADFLOW_SMTP_PASSWORD` or the file `LEADFLOW_SMTP_PASSWORD_FILE`; `None` when no URL is
/// set.
pub(crate) fn mailer() -> anyhow::Result<Option<Mailer>> {
    let Some(url) = std::env::var("LEADFLOW_SMTP_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        return Ok(None);
    };
    let password = match (
        std::env::var("LEADFLOW_SMTP_PASSWORD").ok(),
        std::env::var_os("LEADFLOW_SMTP_PASSWORD_FILE"),
    ) {
        (Some(p), _) if !p.is_empty() => Some(Secret::new(p)),
        (_, Some(path)) if !path.is_empty() => {
            let path = PathBuf::from(path);
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "reading the SMTP password from {} (LEADFLOW_SMTP_PASSWORD_FILE)",
                    path.display()
                )
            })?;
            Some(Secret::new(text.trim()))
        }
        _ => None,
    };
    Ok(Some(Mailer::new(&url, password)?))
}

/// The engine's time-based check, run on the scheduler's slot: the workflows are
/// compiled once; the day is the slot's in the project's zone.
pub(crate) struct EngineCheck<'a> {
    engine: leadflow_engine::Engine,
    store: &'a Store,
    tz: jiff::tz::TimeZone,
}

impl<'a> EngineCheck<'a> {
    pub(crate) fn new(project: &Project, store: &'a Store, portal: &str) -> anyhow::Result<Self> {
        let tz = crate::config_cmd::project_zone(project)?;
        let engine = leadflow_engine::Engine::new(project.clone(), portal)
            .context("compiling the workflows")?;
        Ok(Self { engine, store, tz })
    }
}

impl TimeBasedCheck for EngineCheck<'_> {
    fn check(
        &self,
        slot: jiff::Timestamp,
        recorded_at: i64,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>> {
        Box::pin(async move {
            let today = slot.to_zoned(self.tz.clone()).date();
            match self.engine.tick(self.store, today, recorded_at).await {
                Ok(r) => Ok(format!(
                    "{} contact(s) due on {today}, {} run(s) recorded, {} intent(s)",
                    r.events, r.enrolled, r.intents
                )),
                Err(e) => Err(format!("the time-based check failed: {e}")),
            }
        })
    }
}

/// The scheduler inside `leadflow serve`: loads the project from `config` and runs
/// [`leadflow_automation::run_scheduler`] until `shutdown`. Without a usable project it
/// says why once and does nothing (serve goes on receiving webhooks and syncing).
pub(crate) async fn serve_scheduler(
    config: &Path,
    store: &Store,
    store_args: &StoreArgs,
    shutdown: impl Future<Output = ()>,
) {
    let (project, diags) = leadflow_config::load(config);
    if let Some(first) = diags.first() {
        tracing::warn!(problems = diags.len(), first = %first, "the scheduler is not running: the configuration has problems (see `leadflow check`)");
        return;
    }
    let mailer = match mailer() {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(reason = %format!("{e:#}"), "reports are archived but not mailed");
            None
        }
    };
    let check = match EngineCheck::new(&project, store, &store_args.portal) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(reason = %format!("{e:#}"), "time-based workflow triggers are not checked");
            None
        }
    };
    let data_dir = data_dir(store_args);
    let a = Automation {
        store,
        portal: &store_args.portal,
        project: &project,
        data_dir: &data_dir,
        mailer: mailer.as_ref(),
        time_based: check.as_ref().map(|c| c as &dyn TimeBasedCheck),
    };
    tracing::info!(schedules = project.schedules.triggers.len(), time_zone = %project.schedules.time_zone, data_dir = %data_dir.display(), mail = mailer.is_some(), "scheduler started");
    leadflow_automation::run_scheduler(a, leadflow_automation::Clock::System, shutdown).await;
}

async fn run_now(args: RunArgs) -> anyhow::Result<ExitCode> {
    let project = load_valid(&args.config.dir)?;
    let now = args.now.unwrap_or_else(jiff::Timestamp::now);
    let store = args.store.open().await?;
    let mailer = mailer()?;
    let check = EngineCheck::new(&project, &store, &args.store.portal)?;
    let data_dir = data_dir(&args.store);
    let a = Automation {
        store: &store,
        portal: &args.store.portal,
        project: &project,
        data_dir: &data_dir,
        mailer: mailer.as_ref(),
        time_based: Some(&check),
    };
    let report = run_due(&a, now, jiff::Timestamp::now().as_millisecond())
        .await
        .context("running the scheduled automations")?;
    let tz = crate::config_cmd::schedule_zone(&project)?;
    let local = |t: jiff::Timestamp| t.to_zoned(tz.clone()).strftime("%F %R").to_string();
    let mut table = Table::new();
    table.set_header(["schedule", "cron", "status", "next run"]);
    let mut lines = Vec::new();
    let mut failed = false;
    for r in &report.schedules {
        let status = match &r.outcome {
            JobOutcome::Ran {
                slot, missed, done, ..
            } => {
                for d in done {
                    lines.push(format!("{}: {}", r.key, describe(d)));
                }
                match missed {
                    0 => format!("ran the {} slot", local(*slot)),
                    n => format!(
                        "ran the {} slot ({n} missed slot(s) caught up by it)",
                        local(*slot)
                    ),
                }
            }
            JobOutcome::Failed { slot, error } => {
                failed = true;
                lines.push(format!("{}: failed: {error}", r.key));
                format!("the {} slot failed", local(*slot))
            }
            JobOutcome::ClaimedElsewhere { slot } => {
                format!("the {} slot was claimed by another worker", local(*slot))
            }
            JobOutcome::NotDue { last: Some(l) } => format!("not due (last: {})", local(*l)),
            JobOutcome::NotDue { last: None } => "not due".to_owned(),
            JobOutcome::NoJobYet => "no actions: nothing to run".to_owned(),
        };
        table.add_row([
            r.key.clone(),
            r.cron.clone(),
            status,
            r.next.map(local).unwrap_or_default(),
        ]);
    }
    for d in &report.deliveries {
        lines.push(match &d.state {
            DeliveryState::Sent => format!(
                "{}: report {} mailed (attempt {})",
                d.schedule, d.dir, d.attempts
            ),
            DeliveryState::Retrying { next_at, error } => format!(
                "{}: mailing report {} failed (attempt {}): {error}; retried from {}",
                d.schedule,
                d.dir,
                d.attempts,
                local(*next_at)
            ),
            DeliveryState::GivenUp { error } => format!(
                "{}: mailing report {} given up after {} attempts: {error}; the report stays archived",
                d.schedule, d.dir, d.attempts
            ),
        });
    }
    println!(
        "schedules in {}, now {}",
        project.schedules.time_zone,
        local(now)
    );
    println!("{table}");
    for l in lines {
        println!("{l}");
    }
    store.close().await;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One action's result, for people.
fn describe(d: &Done) -> String {
    match d {
        Done::Scoring(s) => format!(
            "lead scoring: {} contacts read, {} scores changed, {} write intents recorded, {} API calls when `leadflow workflows run` sends them",
            s.read, s.changed, s.intents, s.api_calls
        ),
        Done::LastActivity(s) => format!(
            "last activity dates: {} contacts read, {} with engagement in the store, {} dates moved, {} write intents recorded",
            s.read, s.engaged, s.changed, s.intents
        ),
        Done::TaskCleanup(c) => format!(
            "old tasks: {} tasks read, {} completed, {} completed more than {} days ago ({} archive intents recorded), {} open tasks older than that kept",
            c.read, c.completed, c.expired, c.retention_days, c.intents, c.open_kept
        ),
        other => other.to_string(),
    }
}
