//! `leadflow sandbox`: the local HubSpot stand-in as a long-running server.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use leadflow_sandbox::{Faults, Sandbox, SandboxConfig, Seed, TokenGrant};

/// Options of `leadflow sandbox`.
#[derive(Debug, Args)]
pub(crate) struct SandboxArgs {
    /// The port to listen on (127.0.0.1 only).
    #[arg(long, default_value_t = 8089)]
    port: u16,
    /// Accept only this bearer token (default: any token; a request without one gets 401).
    #[arg(long, env = "LEADFLOW_SANDBOX_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Start with no records, owners or sequences instead of the demo seed.
    #[arg(long)]
    empty: bool,
    /// Load state from this JSON file at start (if it exists) and save it on shutdown.
    #[arg(long)]
    snapshot: Option<PathBuf>,
    /// Requests allowed per rolling window (HubSpot Professional: 190).
    #[arg(long, default_value_t = 190)]
    burst: u32,
    /// The rolling window in milliseconds (HubSpot: 10000; smaller scales time down).
    #[arg(long, default_value_t = 10_000)]
    window_ms: u64,
    /// Requests allowed per day.
    #[arg(long, default_value_t = 625_000)]
    daily: u64,
    /// Search sees writes only after this many milliseconds (HubSpot's index lag).
    #[arg(long, default_value_t = 0)]
    index_lag_ms: u64,
    /// Probability of an injected 429.
    #[arg(long, default_value_t = 0.0)]
    fault_429: f64,
    /// Probability of an injected 500.
    #[arg(long, default_value_t = 0.0)]
    fault_500: f64,
    /// Probability of an injected 502.
    #[arg(long, default_value_t = 0.0)]
    fault_502: f64,
    /// Probability of an injected 503.
    #[arg(long, default_value_t = 0.0)]
    fault_503: f64,
    /// Probability of a connection reset.
    #[arg(long, default_value_t = 0.0)]
    fault_reset: f64,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
}

pub(crate) async fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let mut config = SandboxConfig::default();
    if let Some(token) = args.token {
        config.tokens = vec![TokenGrant {
            token,
            scopes: None,
        }];
    }
    config.seed = if args.empty { Seed::Empty } else { Seed::Demo };
    config.snapshot = args.snapshot;
    config.limits.burst = args.burst;
    config.limits.window = Duration::from_millis(args.window_ms.max(1));
    config.limits.daily = args.daily;
    config.search_index_lag = Duration::from_millis(args.index_lag_ms);
    config.faults = Faults {
        rate_429: args.fault_429,
        rate_500: args.fault_500,
        rate_502: args.fault_502,
        rate_503: args.fault_503,
        rate_reset: args.fault_reset,
        latency_ms: args.latency_ms,
        ..Faults::default()
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| {
            format!(
                "binding 127.0.0.1:{} (is another sandbox running? try --port)",
                args.port
            )
        })?;
    let addr = listener.local_addr()?;
    eprintln!("HubSpot sandbox listening on http://{addr}");
    eprintln!(
        "  use it with: LEADFLOW_HUBSPOT_URL=http://{addr} LEADFLOW_HUBSPOT_TOKEN=any-token leadflow portal check"
    );
    eprintln!(
        "  admin: http://{addr}/__sandbox/stats, PUT /__sandbox/faults; Ctrl-C (or SIGTERM) stops it"
    );
    Sandbox::run(listener, config, stop_signal())
        .await
        .context("running the sandbox")?;
    eprintln!("HubSpot sandbox stopped");
    Ok(ExitCode::SUCCESS)
}

/// Completes on Ctrl-C, or on SIGTERM (what `kill` and service managers send), so the
/// snapshot is saved either way.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
