//! `leadflow sync` and `leadflow sync status`: keep the local store current.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::Table;
use indicatif::{ProgressBar, ProgressStyle};
use leadflow_core::ObjectType;
use leadflow_store::Store;
use leadflow_sync::{SyncOptions, backfill, incremental};

use crate::cli::PortalArgs;

/// Where the store is.
#[derive(Debug, Clone, Args)]
pub(crate) struct StoreArgs {
    /// The store: sqlite://path/to/leadflow.db (default) or postgres://user@host/db.
    #[arg(
        long,
        env = "LEADFLOW_DATABASE_URL",
        default_value = "sqlite://leadflow-data/leadflow.db",
        hide_env_values = true
    )]
    pub(crate) database_url: String,
    /// The portal's key in the store (several portals can share one store).
    #[arg(long, env = "LEADFLOW_PORTAL", default_value = "default")]
    pub(crate) portal: String,
}

impl StoreArgs {
    pub(crate) async fn open(&self) -> anyhow::Result<Store> {
        if let Some(path) = self.database_url.strip_prefix("sqlite://") {
            if let Some(parent) = PathBuf::from(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
        }
        Ok(Store::connect(&self.database_url).await?)
    }
}

/// Options of `leadflow sync`.
#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    #[command(subcommand)]
    command: Option<SyncCommand>,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    portal_args: PortalArgs,
    /// Backfill: list every record (resumes an interrupted backfill; with --restart, starts over).
    #[arg(long)]
    full: bool,
    /// With --full: start the backfill over.
    #[arg(long)]
    restart: bool,
    /// Only these object types (default: contacts, companies, deals, tasks).
    #[arg(long = "object", value_name = "TYPE")]
    objects: Vec<String>,
    /// Stop after this many pages per object type (the next run resumes).
    #[arg(long)]
    max_pages: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum SyncCommand {
    /// Per object type: records stored, cursors, and when they last moved.
    Status {
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn properties(t: ObjectType) -> Vec<String> {
    let names: &[&str] = match t {
        ObjectType::Contacts => &[
            "email",
            "firstname",
            "lastname",
            "company",
            "jobtitle",
            "phone",
            "lifecyclestage",
            "hubspot_owner_id",
            "lead_source",
            "icp_type",
            "icp_fit_score",
            "lead_score",
            "response_status",
            "qualification_status",
            "campaign_tag",
            "session_id",
            "message_strategy",
            "last_outreach_date",
            "last_activity_date",
            "notes",
        ],
        ObjectType::Companies => &[
            "name",
            "domain",
            "industry",
            "city",
            "country",
            "numberofemployees",
            "hubspot_owner_id",
        ],
        ObjectType::Deals => &[
            "dealname",
            "amount",
            "dealstage",
            "pipeline",
            "closedate",
            "hubspot_owner_id",
            "leadflow_deal_key",
        ],
        ObjectType::Tasks => &[
            "hs_timestamp",
            "hs_task_subject",
            "hs_task_body",
            "hs_task_status",
            "hs_task_priority",
            "hs_task_type",
            "hubspot_owner_id",
        ],
    };
    names.iter().map(|s| (*s).to_owned()).collect()
}

pub(crate) async fn run(args: SyncArgs) -> anyhow::Result<ExitCode> {
    if let Some(SyncCommand::Status { store }) = args.command {
        return status(store).await;
    }
    let types: Vec<ObjectType> = if args.objects.is_empty() {
        ObjectType::ALL.to_vec()
    } else {
        args.objects
            .iter()
            .map(|o| o.parse::<ObjectType>())
            .collect::<Result<_, _>>()?
    };
    let store = args.store.open().await?;
    let client = crate::portal::client(&args.portal_args)?;
    let mut failed = false;
    for t in types {
        let mut opts = SyncOptions::new(args.store.portal.clone(), properties(t));
        opts.max_pages = args.max_pages;
        opts.restart = args.restart;
        let result = if args.full {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {msg} {pos} records ({per_sec})")
            {
                bar.set_style(style);
            }
            bar.set_message(format!("backfill {t}"));
            let r = backfill(&client, &store, t, &opts, &|n| bar.inc(n as u64)).await;
            bar.finish_and_clear();
            r
        } else {
            incremental(&client, &store, t, &opts).await
        };
        match result {
            Ok(r) => println!(
                "{t}: {} records in {} pages; {} new, {} changed, {} unchanged, {} stale{}",
                r.records,
                r.pages,
                r.stored.inserted,
                r.stored.updated,
                r.stored.unchanged,
                r.stored.stale,
                if r.complete {
                    ""
                } else {
                    " (stopped early; run again to resume)"
                }
            ),
            Err(e) => {
                failed = true;
                eprintln!("error: {e:#}");
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn status(args: StoreArgs) -> anyhow::Result<ExitCode> {
    let store = args.open().await?;
    let mut table = Table::new();
    table.set_header([
        "object",
        "stored",
        "archived",
        "backfill",
        "incremental cursor",
    ]);
    let cursors = store.cursors(&args.portal).await?;
    let find = |s: &str| {
        cursors
            .iter()
            .find(|(k, _, _)| k == s)
            .map(|(_, v, _)| v.clone())
            .unwrap_or_else(|| "-".to_owned())
    };
    for t in ObjectType::ALL {
        let live = store.count(&args.portal, t, false).await?;
        let archived = store.count(&args.portal, t, true).await?;
        let backfill = match find(&format!("{}.backfill.after", t.api_name())).as_str() {
            "done" => "complete".to_owned(),
            "-" => "not started".to_owned(),
            other => format!("in progress (after {other})"),
        };
        let inc = find(&format!("{}.incremental", t.api_name()));
        let inc = inc
            .parse::<i64>()
            .ok()
            .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
            .map_or(inc, |t| t.to_string());
        table.add_row([
            t.api_name().to_owned(),
            live.to_string(),
            archived.to_string(),
            backfill,
            inc,
        ]);
    }
    println!("{table}");
    let queue = store.queue_counts().await?;
    if !queue.is_empty() {
        println!(
            "queue: {}",
            queue
                .iter()
                .map(|(s, n)| format!("{s} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
