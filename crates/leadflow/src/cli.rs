//! Command-line definitions and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::{bench, config_cmd, demo, portal, properties_cmd, sandbox_cmd, serve_cmd, sync_cmd};

/// HubSpot outbound lead generation as code: properties, workflows, sync and reports,
/// tested offline against a local HubSpot sandbox.
#[derive(Debug, Parser)]
#[command(name = "leadflow", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// More logging (-v info, -vv debug). LEADFLOW_LOG takes a tracing filter instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a HubSpot sandbox in-process, seed it, exercise the client against it and print a summary.
    Demo(demo::DemoArgs),
    /// Run the local HubSpot sandbox: the same endpoints, limits, errors and webhooks as HubSpot.
    Sandbox(sandbox_cmd::SandboxArgs),
    /// Talk to a portal: check the connection, the token's scopes and what leadflow will find.
    Portal {
        #[command(subcommand)]
        command: PortalCommand,
    },
    /// Write the spec's configuration (properties, workflows, reports, schedules) into a directory.
    Init(config_cmd::InitArgs),
    /// Validate the configuration; every problem with file:line:column. Exit 0 clean, 1 problems, 2 usage.
    Check(config_cmd::CheckArgs),
    /// Properties as code: plan, apply, export.
    Properties {
        #[command(subcommand)]
        command: properties_cmd::PropertiesCommand,
    },
    /// Set up the portal for the playbook. Step 1: contact properties, stages, checks.
    Setup(SetupArgs),
    /// Keep the local store current: `sync --full` backfills, `sync` fetches changes, `sync status` reports.
    Sync(sync_cmd::SyncArgs),
    /// Integration health: sync and workflow success, report accuracy, API latency, budget, against the spec's targets.
    Status(crate::status_cmd::StatusArgs),
    /// Run continuously: receive HubSpot's signed webhooks into the store; /health and /metrics.
    Serve(serve_cmd::ServeArgs),
    /// Benchmarks of the client and the sandbox (release build recommended).
    Bench(bench::BenchArgs),
    /// Import contacts from a CSV: every row validated, upserted by email, rejected rows reported and written beside the file.
    Import(crate::import_cmd::ImportArgs),
    /// The workflows: run the engine once, test fixtures, dry-run over the store, a contact's history.
    Workflows {
        #[command(subcommand)]
        command: crate::workflows_cmd::WorkflowsCommand,
    },
    /// Lead scores: `score explain EMAIL` shows each contribution.
    Score {
        #[command(subcommand)]
        command: crate::score_cmd::ScoreCommand,
    },
    /// Scheduled automation: `automation run` runs what schedules.yaml has due.
    Automation {
        #[command(subcommand)]
        command: crate::automation_cmd::AutomationCommand,
    },
    /// A report or dashboard from reports.yaml, computed from the store: a table, JSON or CSV.
    Report(crate::report_cmd::ReportArgs),
    /// Optimisation advice for a month: trends, best strategies, deal thresholds, stalled workflows; a suggested diff, never applied.
    Advise(crate::advise_cmd::AdviseArgs),
}

#[derive(Debug, Args)]
struct SetupArgs {
    #[command(flatten)]
    config: properties_cmd::ConfigDir,
    #[command(flatten)]
    portal: PortalArgs,
    /// Apply without asking.
    #[arg(long, short = 'y')]
    yes: bool,
}

#[derive(Debug, Subcommand)]
enum PortalCommand {
    /// Connect to the portal and report owners, pipelines, properties and sequences.
    Check(PortalArgs),
}

/// How to reach a HubSpot portal. Secrets come from the environment or a file; flags work
/// too but end up in shell history. `Debug` (in `portal.rs`) prints the secrets redacted.
#[derive(Clone, Args)]
pub(crate) struct PortalArgs {
    /// The HubSpot API base URL (the sandbox's address when testing).
    #[arg(long, env = "LEADFLOW_HUBSPOT_URL", default_value = leadflow_hubspot::HUBSPOT_API)]
    pub(crate) hubspot_url: String,
    /// A private-app access token.
    #[arg(
        long,
        env = "LEADFLOW_HUBSPOT_TOKEN",
        hide_env_values = true,
        conflicts_with = "token_file"
    )]
    pub(crate) token: Option<String>,
    /// A file holding the private-app access token.
    #[arg(long, env = "LEADFLOW_HUBSPOT_TOKEN_FILE")]
    pub(crate) token_file: Option<PathBuf>,
    /// OAuth: the app's client id (with LEADFLOW_HUBSPOT_CLIENT_SECRET and LEADFLOW_HUBSPOT_REFRESH_TOKEN).
    #[arg(long, env = "LEADFLOW_HUBSPOT_CLIENT_ID")]
    pub(crate) oauth_client_id: Option<String>,
    /// OAuth: the app's client secret.
    #[arg(long, env = "LEADFLOW_HUBSPOT_CLIENT_SECRET", hide_env_values = true)]
    pub(crate) oauth_client_secret: Option<String>,
    /// OAuth: the refresh token from the app's install.
    #[arg(long, env = "LEADFLOW_HUBSPOT_REFRESH_TOKEN", hide_env_values = true)]
    pub(crate) oauth_refresh_token: Option<String>,
    /// The account's tier, which fixes the rate budgets: free, starter, professional, enterprise, with +addon or +2addons for the API Limit Increase add-on. Default: portal.tier in leadflow.yaml where a project is read, else professional.
    #[arg(long, env = "LEADFLOW_HUBSPOT_TIER")]
    pub(crate) tier: Option<String>,
    /// The account's time zone (IANA), in which the daily budget resets. Default: portal.time_zone in leadflow.yaml where a project is read, else UTC.
    #[arg(long, env = "LEADFLOW_HUBSPOT_TIME_ZONE")]
    pub(crate) time_zone: Option<String>,
}

pub(crate) async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Sandbox(args) => sandbox_cmd::run(args).await,
        Command::Portal {
            command: PortalCommand::Check(args),
        } => portal::check(args).await,
        Command::Init(args) => config_cmd::init(args),
        Command::Check(args) => config_cmd::check(args),
        Command::Properties { command } => properties_cmd::run(command).await,
        Command::Setup(args) => {
            println!("Step 1 of 4: contact properties, deal stages and sequences");
            properties_cmd::apply(args.config.dir, args.portal, args.yes, false).await
        }
        Command::Sync(args) => sync_cmd::run(args).await,
        Command::Serve(args) => serve_cmd::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Import(args) => crate::import_cmd::run(args).await,
        Command::Workflows { command } => crate::workflows_cmd::run(command).await,
        Command::Score { command } => crate::score_cmd::run(command).await,
        Command::Automation { command } => crate::automation_cmd::run(command).await,
        Command::Report(args) => crate::report_cmd::run(args).await,
        Command::Advise(args) => crate::advise_cmd::run(args).await,
        Command::Status(args) => crate::status_cmd::run(args).await,
    }
}
