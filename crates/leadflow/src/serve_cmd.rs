//! `leadflow serve`: the long-running process. It receives HubSpot's webhooks into the
//! store, and, given portal credentials, keeps the store current in the background:
//! stored webhook events applied every few seconds, incremental sync and reference data on
//! an interval, the reconciliation and association sweeps on a longer one, and the
//! workflow engine on the events all of these store (it starts once the project loads and
//! the portal has the stages and sequences the workflows name). `/health` and `/metrics`
//! (Prometheus). The scheduler (`schedules.yaml`: the daily cleanup, the weekly report,
//! the time-based workflow triggers, the monthly advice) runs beside them. The web
//! dashboard (`leadflow-web`: pages at `/`, `/reports/KEY`, `/advice`, JSON under `/api/`)
//! is served from the same store.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use std::sync::Arc;

use axum::extract::Path;
use axum::routing::get;
use clap::Args;
use leadflow_core::Secret;
use leadflow_server::WebhookConfig;

use crate::cli::PortalArgs;
use crate::sync_cmd::StoreArgs;

/// Options of `leadflow serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Where to listen.
    #[arg(long, env = "LEADFLOW_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// The HubSpot app's client secret, which signs webhook deliveries.
    #[arg(long, env = "LEADFLOW_WEBHOOK_SECRET", hide_env_values = true, value_parser = secret)]
    webhook_secret: Option<Secret>,
    /// A file holding the client secret.
    #[arg(long, env = "LEADFLOW_WEBHOOK_SECRET_FILE")]
    webhook_secret_file: Option<PathBuf>,
    /// The public URL HubSpot calls (`https://host/webhooks/hubspot`), which v3 signatures cover.
    #[arg(long, env = "LEADFLOW_PUBLIC_WEBHOOK_URL")]
    public_url: Option<String>,
    /// The token the dashboard, its JSON API and /metrics require (HTTP Basic password or
    /// `Authorization: Bearer`); required when --bind is not a loopback address.
    #[arg(long, env = "LEADFLOW_DASHBOARD_TOKEN", hide_env_values = true, value_parser = secret)]
    dashboard_token: Option<Secret>,
    /// A file holding the dashboard token.
    #[arg(long, env = "LEADFLOW_DASHBOARD_TOKEN_FILE")]
    dashboard_token_file: Option<PathBuf>,
    /// Also accept v1 signatures (legacy CRM webhooks send only those).
    #[arg(long)]
    accept_v1: bool,
    #[command(flatten)]
    portal_args: PortalArgs,
    /// How often stored webhook events are applied (fetching the records they name).
    #[arg(long, default_value = "2s", value_parser = parse_interval)]
    webhook_interval: std::time::Duration,
    /// How often incremental sync and reference data run.
    #[arg(long, default_value = "5m", value_parser = parse_interval)]
    sync_interval: std::time::Duration,
    /// How often the reconciliation and association sweeps run (deletes, merges, links).
    #[arg(long, default_value = "1h", value_parser = parse_interval)]
    reconcile_interval: std::time::Duration,
    /// Only receive webhooks: no HubSpot calls, even with credentials.
    #[arg(long)]
    receive_only: bool,
    /// The project (workflows.yaml and the rest); without one, no workflows run.
    #[arg(long = "config", value_name = "DIR", default_value = ".")]
    config: PathBuf,
    /// How often the workflow engine evaluates new events and carries out due actions.
    #[arg(long, default_value = "2s", value_parser = parse_interval)]
    engine_interval: std::time::Duration,
}

/// What the JSON API reads.
struct Api {
    store: leadflow_store::Store,
    portal: String,
    workflows: Vec<leadflow_config::workflows::Workflow>,
}

/// `GET /api/contacts/{email}/history`: the contact's enrollments and actions, as
/// `leadflow workflows history --json` prints them.
async fn history(api: Arc<Api>, email: String) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    match leadflow_engine::history::load(&api.store, &api.portal, &email, &api.workflows).await {
        Ok(Some(h)) => axum::Json(h).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({ "error": format!("no contact with the email {email:?} in the store") })),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error.message = %e, "reading a contact's history");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "error": "the store could not be read" })),
            )
                .into_response()
        }
    }
}

/// How often each background step runs.
#[derive(Clone, Copy, Debug)]
struct Intervals {
    webhooks: std::time::Duration,
    sync: std::time::Duration,
    reconcile: std::time::Duration,
    engine: std::time::Duration,
}

/// The workflow engine, when the project and the portal allow it to start.
struct Workflows {
    engine: leadflow_engine::Engine,
    map: leadflow_engine::PortalMap,
    tz: jiff::tz::TimeZone,
}

async fn start_workflows(
    dir: &std::path::Path,
    store: &leadflow_store::Store,
    portal: &str,
) -> anyhow::Result<Workflows> {
    let (project, diags) = leadflow_config::load(dir);
    if let Some(first) = diags.first() {
        bail!(
            "the configuration in {} has {} problem(s), the first: {first} (see `leadflow check`)",
            dir.display(),
            diags.len()
        );
    }
    let tz = crate::config_cmd::project_zone(&project)?;
    let map =
        leadflow_engine::PortalMap::load(store, portal, &project.settings, &project.workflows)
            .await?;
    let engine = leadflow_engine::Engine::new(project, portal)?;
    Ok(Workflows { engine, map, tz })
}

/// Parses `30s`, `5m`, `1h`, `1h 30m`.
fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let d: jiff::SignedDuration = text
        .parse()
        .map_err(|e| format!("{text:?} is not a duration such as 30s, 5m or 1h ({e})"))?;
    let d = std::time::Duration::try_from(d).map_err(|_| format!("{text:?} is negative"))?;
    if d.is_zero() {
        return Err("an interval must be longer than zero".to_owned());
    }
    Ok(d)
}

/// How often serve refreshes the health gauges between sweeps.
const HEALTH_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

fn no_progress(_: leadflow_core::ObjectType, _: usize) {}

/// The background sync: every step on its own interval, each run recorded in the store.
async fn background_sync(
    client: leadflow_hubspot::Client,
    store: leadflow_store::Store,
    portal: String,
    every: Intervals,
    config: PathBuf,
) {
    use leadflow_sync::{Step, StepOptions};
    let mut engine = tokio::time::interval(every.engine);
    engine.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The engine starts once the store knows the portal's stages and sequences; until
    // then (or while the project has problems) it says why, once, and tries again.
    let mut workflows: Option<Workflows> = None;
    let mut last_refusal = String::new();
    let mut last_health: Option<std::time::Instant> = None;
    let opts = StepOptions {
        portal,
        types: leadflow_core::ObjectType::ALL.to_vec(),
        properties: crate::sync_cmd::all_properties(),
        max_pages: None,
        restart: false,
    };
    let mut webhooks = tokio::time::interval(every.webhooks);
    let mut sync = tokio::time::interval(every.sync);
    let mut sweep = tokio::time::interval(every.reconcile);
    for t in [&mut webhooks, &mut sync, &mut sweep] {
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    // The first sweep waits one interval: a fresh start has just backfilled or synced.
    sweep.reset();
    loop {
        let steps: &[Step] = tokio::select! {
            _ = webhooks.tick() => &[Step::Webhooks],
            _ = sync.tick() => &[Step::Incremental, Step::Reference],
            _ = sweep.tick() => &[Step::Reconcile, Step::Associations],
            _ = engine.tick() => {
                if workflows.is_none() {
                    match start_workflows(&config, &store, &opts.portal).await {
                        Ok(w) => {
                            tracing::info!(workflows = w.engine.evaluator().workflows().len(), "workflow engine started");
                            workflows = Some(w);
                        }
                        Err(e) => {
                            let why = format!("{e:#}");
                            if why != last_refusal {
                                tracing::warn!(reason = %why, "workflows are not running");
                                last_refusal = why;
                            }
                        }
                    }
                }
                if let Some(w) = &workflows {
                    let now = jiff::Timestamp::now();
                    // Events on every pass; the time-based triggers run on the scheduler
                    // (schedules.yaml), not here.
                    match leadflow_engine::pass(&w.engine, &client, &store, &w.map, now, &w.tz, false).await {
                        Ok(r) if r.ingested.enrolled + r.ticked.enrolled > 0 || r.executed != leadflow_engine::ExecReport::default() => {
                            tracing::info!(
                                enrolled = r.ingested.enrolled + r.ticked.enrolled,
                                done = r.executed.done,
                                skipped = r.executed.skipped,
                                dead = r.executed.dead,
                                retried = r.executed.retried,
                                "workflow pass"
                            );
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(error.message = %e, "workflow pass failed; the next one goes on"),
                    }
                }
                &[]
            }
        };
        for &step in steps {
            // Outcomes are logged and recorded by the sync crate.
            if let Err(e) =
                leadflow_sync::run_step(&client, &store, step, &opts, &no_progress).await
            {
                tracing::error!(error.message = %e, "the store failed; the background sync keeps trying");
            }
        }
        // Health gauges for /metrics, at most every HEALTH_EVERY (they read the store
        // over a day); the portal's counts are checked with each sweep.
        let sweeping = steps.contains(&Step::Reconcile);
        if sweeping || last_health.is_none_or(|t| t.elapsed() >= HEALTH_EVERY) {
            last_health = Some(std::time::Instant::now());
            if let Err(e) = crate::health::refresh(&client, &store, &opts.portal, sweeping).await {
                tracing::warn!(error.message = %e, "health metrics not refreshed");
            }
        }
    }
}

fn secret(text: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret::new(text))
}

/// A secret from its flag or environment variable, else from its file.
fn secret_from(given: Option<&Secret>, file: Option<&PathBuf>) -> anyhow::Result<Option<Secret>> {
    Ok(match (given, file) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(path)) => Some(Secret::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?
                .trim(),
        )),
        (None, None) => None,
    })
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let dashboard_token = secret_from(
        args.dashboard_token.as_ref(),
        args.dashboard_token_file.as_ref(),
    )?
    .filter(|t| !t.is_empty());
    let secret = match secret_from(
        args.webhook_secret.as_ref(),
        args.webhook_secret_file.as_ref(),
    )? {
        Some(s) => s,
        None => bail!(
            "no webhook secret: set LEADFLOW_WEBHOOK_SECRET (the HubSpot app's client secret) or LEADFLOW_WEBHOOK_SECRET_FILE"
        ),
    };
    let store = args.store.open().await?;
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("installing the metrics recorder")?;
    let mut config = WebhookConfig::new(args.store.portal.clone(), secret);
    config.public_url = args.public_url.clone();
    config.accept_v1 = args.accept_v1;
    let background = if args.receive_only {
        None
    } else {
        match crate::portal::client(&args.portal_args) {
            Ok(client) => Some(background_sync(
                client,
                store.clone(),
                args.store.portal.clone(),
                Intervals {
                    webhooks: args.webhook_interval,
                    sync: args.sync_interval,
                    reconcile: args.reconcile_interval,
                    engine: args.engine_interval,
                },
                args.config.clone(),
            )),
            Err(e) => {
                eprintln!(
                    "warning: receiving webhooks only, without syncing: {e:#} (--receive-only silences this)"
                );
                None
            }
        }
    };
    let project = leadflow_config::load(&args.config).0;
    // The web dashboard over the same store, with the project's reports.
    let dashboard = leadflow_web::WebState::new(store.clone(), &args.store.portal, project.clone());
    let api = Arc::new(Api {
        store: store.clone(),
        portal: args.store.portal.clone(),
        workflows: project.workflows,
    });
    let scheduler_store = store.clone();
    // What shows the pipeline: behind the dashboard token when one is set.
    let readable = axum::Router::new()
        .route(
            "/api/contacts/{email}/history",
            get(move |Path(email): Path<String>| history(api.clone(), email)),
        )
        .route(
            "/metrics",
            get(move || std::future::ready(metrics.render())),
        );
    let readable = match dashboard {
        Ok(state) => readable.merge(leadflow_web::router(state)),
        Err(e) => {
            eprintln!("warning: no dashboard: {e}");
            readable
        }
    };
    let readable = match &dashboard_token {
        Some(token) => leadflow_web::protect(readable, token.clone()),
        None => readable,
    };
    // HubSpot's deliveries carry their own signatures; /health tells a load balancer only
    // that the process answers.
    let app = leadflow_server::router(store, config)
        .route("/health", get(|| async { "ok" }))
        .merge(readable);
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    if let Err(why) = leadflow_web::check_exposure(listener.local_addr()?, dashboard_token.as_ref())
    {
        bail!("refusing to serve: {why}");
    }
    eprintln!(
        "leadflow listening on http://{} (the dashboard at GET /, POST /webhooks/hubspot, GET /api/contacts/EMAIL/history, GET /api/reports/KEY, GET /health, GET /metrics)",
        listener.local_addr()?
    );
    let server = axum::serve(listener, app).with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    // The background sync runs beside the server in this task (not spawned: its futures
    // borrow the client and store) and stops with it.
    let background = async {
        match background {
            Some(sync) => sync.await,
            None => std::future::pending().await,
        }
    };
    // The scheduler (schedules.yaml) runs beside them and stops, after the job under way,
    // at Ctrl-C or when the server stops.
    let stopped = tokio::sync::Notify::new();
    let serving = async {
        let served = tokio::select! {
            served = server => served.context("serving"),
            () = background => Ok(()),
        };
        stopped.notify_one();
        served
    };
    let scheduler = crate::automation_cmd::serve_scheduler(
        &args.config,
        &scheduler_store,
        &args.store,
        async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = stopped.notified() => {}
            }
        },
    );
    let (served, ()) = tokio::join!(serving, scheduler);
    served?;
    Ok(ExitCode::SUCCESS)
}
