//! `leadflow status`: the spec's integration health metrics over a window, each beside its
//! target, as a table or JSON. Exit 0 when every measured metric meets its target, 1 when
//! one misses it (a metric with no data in the window misses nothing).

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use comfy_table::Table;

use crate::cli::PortalArgs;
use crate::health::{
    self, ACCURACY_TARGET, Health, LATENCY_TARGET, Rate, SYNC_TARGET, WORKFLOW_TARGET,
};
use crate::sync_cmd::StoreArgs;

/// Options of `leadflow status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    portal_args: PortalArgs,
    /// The window measured: 24h, 7d, 2w.
    #[arg(long, default_value = "24h")]
    since: String,
    /// Count every object type in the portal now (one search call each) and compare with
    /// the store; without it, report accuracy is the last check's (`serve` checks with
    /// every reconciliation sweep).
    #[arg(long)]
    check_portal: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Table,
    Json,
}

fn window_ms(text: &str) -> anyhow::Result<i64> {
    let hours = match leadflow_reports::Since::parse(text)? {
        leadflow_reports::Since::Days(d) => d * 24,
        leadflow_reports::Since::Hours(h) => h,
    };
    Ok(hours * 3_600_000)
}

fn percent(r: Rate) -> String {
    r.ratio().map_or_else(
        || "no data".to_owned(),
        |v| format!("{:.2}% ({} of {})", v * 100.0, r.part, r.whole),
    )
}

/// Whether a measured metric meets its target (`None`: nothing measured).
fn verdict(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "ok",
        Some(false) => "BELOW TARGET",
        None => "no data",
    }
}

/// Each metric's row: name, value, target, verdict.
fn rows(h: &Health) -> Vec<[String; 4]> {
    let rate_row = |name: &str, r: Option<Rate>, target: f64| {
        let ratio = r.and_then(Rate::ratio);
        [
            name.to_owned(),
            r.map_or_else(|| "no data".to_owned(), percent),
            format!("{:.0}%+", target * 100.0),
            verdict(ratio.map(|v| v >= target)).to_owned(),
        ]
    };
    let mut out = vec![
        rate_row("data sync success rate", h.sync, SYNC_TARGET),
        rate_row(
            "workflow execution success rate",
            h.workflows,
            WORKFLOW_TARGET,
        ),
        rate_row(
            "report accuracy (store vs portal counts)",
            h.accuracy.as_ref().map(|a| a.rate),
            ACCURACY_TARGET,
        ),
    ];
    let target_ms = LATENCY_TARGET.as_secs_f64() * 1000.0;
    out.push(match &h.latency {
        Some(l) => [
            "API response time p50 / p95 / p99".to_owned(),
            format!(
                "{:.0} / {:.0} / {:.0} ms ({} calls, {} errors)",
                l.p50_ms, l.p95_ms, l.p99_ms, l.calls, l.errors
            ),
            format!("< {target_ms:.0} ms"),
            verdict(Some(l.p95_ms < target_ms)).to_owned(),
        ],
        None => [
            "API response time p50 / p95 / p99".to_owned(),
            "no data".to_owned(),
            format!("< {target_ms:.0} ms"),
            verdict(None).to_owned(),
        ],
    });
    out.push([
        "daily API budget used".to_owned(),
        h.budget.map_or_else(
            || "no data".to_owned(),
            |b| {
                format!(
                    "{} of {} ({:.1}%)",
                    b.used,
                    b.limit,
                    100.0 * b.used as f64 / b.limit.max(1) as f64
                )
            },
        ),
        "-".to_owned(),
        "-".to_owned(),
    ]);
    out
}

pub(crate) async fn run(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let window = window_ms(&args.since)?;
    let store = args.store.open().await?;
    let portal = &args.store.portal;
    if args.check_portal {
        let client = crate::portal::client(&args.portal_args)?;
        health::check_counts(&client, &store, portal).await?;
        health::flush_latency(&client, &store, portal).await?;
    }
    let since = jiff::Timestamp::now().as_millisecond() - window;
    let h = health::measure(&store, portal, since).await?;
    let rows = rows(&h);
    let missed = rows.iter().any(|r| r[3] == "BELOW TARGET");
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&h)?),
        Format::Table => {
            let mut table = Table::new();
            table.set_header([
                format!("health (last {})", args.since),
                "value".into(),
                "target".into(),
                "".into(),
            ]);
            for r in rows {
                table.add_row(r);
            }
            println!("{table}");
            if let Some(a) = &h.accuracy {
                let at = jiff::Timestamp::from_millisecond(a.checked_at)
                    .map_or_else(|_| "-".to_owned(), |t| t.to_string());
                let detail: Vec<String> = a
                    .per_type
                    .iter()
                    .map(|(t, s, p)| format!("{t} {s}/{p}"))
                    .collect();
                println!("counts checked {at} (store/portal): {}", detail.join(", "));
            } else {
                println!(
                    "report accuracy: no count check yet (run `leadflow status --check-portal`)"
                );
            }
        }
    }
    Ok(if missed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
