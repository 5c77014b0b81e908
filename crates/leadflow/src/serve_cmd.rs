//! `leadflow serve`: the long-running process. For now it receives HubSpot's webhooks into
//! the store and exposes `/health` and `/metrics`; later issues add the workflow engine,
//! the scheduler and the dashboard.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use axum::routing::get;
use clap::Args;
use leadflow_core::Secret;
use leadflow_server::WebhookConfig;

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
    #[arg(long, env = "LEADFLOW_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,
    /// A file holding the client secret.
    #[arg(long, env = "LEADFLOW_WEBHOOK_SECRET_FILE")]
    webhook_secret_file: Option<PathBuf>,
    /// The public URL HubSpot calls (`https://host/webhooks/hubspot`), which v3 signatures cover.
    #[arg(long, env = "LEADFLOW_PUBLIC_WEBHOOK_URL")]
    public_url: Option<String>,
    /// Also accept v1 signatures (legacy CRM webhooks send only those).
    #[arg(long)]
    accept_v1: bool,
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let secret = match (&args.webhook_secret, &args.webhook_secret_file) {
        (Some(s), _) => s.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?
            .trim()
            .to_owned(),
        (None, None) => bail!(
            "no webhook secret: set LEADFLOW_WEBHOOK_SECRET (the HubSpot app's client secret) or LEADFLOW_WEBHOOK_SECRET_FILE"
        ),
    };
    let store = args.store.open().await?;
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("installing the metrics recorder")?;
    let mut config = WebhookConfig::new(args.store.portal.clone(), Secret::new(secret));
    config.public_url = args.public_url.clone();
    config.accept_v1 = args.accept_v1;
    let app = leadflow_server::router(store, config)
        .route("/health", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(move || std::future::ready(metrics.render())),
        );
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    eprintln!(
        "leadflow listening on http://{} (POST /webhooks/hubspot, GET /health, GET /metrics)",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")?;
    Ok(ExitCode::SUCCESS)
}
