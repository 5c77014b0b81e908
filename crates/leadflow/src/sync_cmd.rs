//! `leadflow sync` and `leadflow sync status`: keep the local store current.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::Table;
use indicatif::{ProgressBar, ProgressStyle};
use leadflow_core::ObjectType;
use leadflow_hubspot::Client;
use leadflow_store::Store;
use leadflow_sync::{Properties, Step, StepOptions, run_step};

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
    /// Backfill: list every record (resumes an interrupted backfill; with --restart, starts over),
    /// then read reference data and every association.
    #[arg(long)]
    full: bool,
    /// With --full: start the backfill over.
    #[arg(long, requires = "full")]
    restart: bool,
    /// Only these object types (default: contacts, companies, deals, tasks).
    #[arg(long = "object", value_name = "TYPE")]
    objects: Vec<String>,
    /// Stop after this many pages per object type (the next run resumes).
    #[arg(long)]
    max_pages: Option<usize>,
}

// Parsed once per run: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum SyncCommand {
    /// Per object type: records stored, cursors and lag; per stream: runs, success rate, last error.
    Status {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Compare every id and modified time with the portal and heal what webhooks and
    /// incremental sync missed (deletes and merges included), then re-read associations.
    Reconcile {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        portal_args: PortalArgs,
        /// Only these object types (default: all).
        #[arg(long = "object", value_name = "TYPE")]
        objects: Vec<String>,
    },
}

fn object_types(names: &[String]) -> anyhow::Result<Vec<ObjectType>> {
    if names.is_empty() {
        return Ok(ObjectType::ALL.to_vec());
    }
    names
        .iter()
        .map(|o| o.parse::<ObjectType>().map_err(anyhow::Error::from))
        .collect()
}

/// The properties leadflow reads of every object type.
pub(crate) fn all_properties() -> Properties {
    ObjectType::ALL
        .into_iter()
        .map(|t| (t, properties(t)))
        .collect()
}

/// Runs steps in order and prints what each stream did; true when every stream succeeded.
pub(crate) async fn run_steps(
    client: &Client,
    store: &Store,
    steps: &[Step],
    opts: &StepOptions,
    progress: bool,
) -> anyhow::Result<bool> {
    let mut ok = true;
    for &step in steps {
        let bar = ProgressBar::new_spinner();
        if !progress {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {pos} records ({per_sec})")
        {
            bar.set_style(style);
        }
        let outs = run_step(client, store, step, opts, &|t, n| {
            bar.set_message(format!("backfill {t}"));
            bar.inc(n as u64);
        })
        .await?;
        bar.finish_and_clear();
        for o in outs {
            match &o.error {
                None if o.partial => println!("{} (stopped early; run again to resume)", o.summary),
                None => println!("{}", o.summary),
                Some(e) => {
                    ok = false;
                    eprintln!("error: {}: {e}", o.stream);
                }
            }
        }
    }
    Ok(ok)
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
    let (store_args, portal_args, objects, steps): (_, _, _, &[Step]) = match args.command {
        Some(SyncCommand::Status { store }) => return status(store).await,
        Some(SyncCommand::Reconcile {
            store,
            portal_args,
            objects,
        }) => (
            store,
            portal_args,
            objects,
            &[Step::Reconcile, Step::Associations],
        ),
        None if args.full => (
            args.store,
            args.portal_args,
            args.objects,
            &[Step::Backfill, Step::Reference, Step::Associations],
        ),
        None => (
            args.store,
            args.portal_args,
            args.objects,
            &[Step::Incremental, Step::Webhooks, Step::Reference],
        ),
    };
    let store = store_args.open().await?;
    let client = crate::portal::client(&portal_args)?;
    let opts = StepOptions {
        portal: store_args.portal.clone(),
        types: object_types(&objects)?,
        properties: all_properties(),
        max_pages: args.max_pages,
        restart: args.restart,
    };
    let ok = run_steps(&client, &store, steps, &opts, true).await;
    // What the calls took is kept for `leadflow status`, whether the sync worked or not.
    crate::health::flush_latency(&client, &store, &opts.portal).await?;
    let ok = ok?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
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
            .map_or(inc, |at| {
                let lag = (jiff::Timestamp::now().as_second() - at.as_second()).max(0);
                format!("{at} (lag {lag} s)")
            });
        table.add_row([
            t.api_name().to_owned(),
            live.to_string(),
            archived.to_string(),
            backfill,
            inc,
        ]);
    }
    println!("{table}");
    let since = jiff::Timestamp::now().as_millisecond() - 24 * 3_600_000;
    let runs = store.sync_run_stats(&args.portal, since).await?;
    if runs.is_empty() {
        println!("no sync runs in the last 24 hours");
    } else {
        let mut table = Table::new();
        table.set_header([
            "stream (24 h)",
            "runs ok",
            "failed",
            "records",
            "last success",
            "last error",
        ]);
        for r in &runs {
            table.add_row([
                r.stream.clone(),
                r.ok.to_string(),
                r.failed.to_string(),
                r.records.to_string(),
                r.last_ok_at
                    .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                    .map_or_else(|| "-".to_owned(), |t| t.to_string()),
                r.last_error.clone().unwrap_or_default(),
            ]);
        }
        println!("{table}");
        let (ok, failed) = runs
            .iter()
            .fold((0, 0), |(o, f), r| (o + r.ok, f + r.failed));
        println!(
            "data sync success rate (24 h): {:.1}% ({ok} of {} runs; the spec asks for 99%+)",
            100.0 * ok as f64 / (ok + failed).max(1) as f64,
            ok + failed
        );
    }
    let (pending, oldest) = store.pending_webhook_summary(&args.portal).await?;
    match oldest {
        Some(at) => println!(
            "webhook events waiting: {pending} (oldest {} s old)",
            (jiff::Timestamp::now().as_millisecond() - at) / 1000
        ),
        None => println!("webhook events waiting: 0"),
    }
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
