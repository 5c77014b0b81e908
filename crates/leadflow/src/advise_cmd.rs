//! `leadflow advise [--month 2026-11]`: the optimisation advice for a month
//! (`leadflow-advice`), printed as Markdown with the suggested `workflows.yaml` diff, or
//! as JSON.
//!
//! It only prints: the diff is a suggestion for the user to apply, never applied here.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use jiff::civil::Date;

use crate::properties_cmd::ConfigDir;
use crate::sync_cmd::StoreArgs;

/// How to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Markdown for people, the suggested diff last.
    Text,
    /// The whole advice, every count and test (the diff in `diff`).
    Json,
}

/// Options of `leadflow advise`.
#[derive(Debug, Args)]
pub(crate) struct AdviseArgs {
    /// The month to analyse (2026-11), against the month before it.
    /// Default: the last full month in the project's time zone.
    #[arg(long)]
    month: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    config: ConfigDir,
    #[command(flatten)]
    store: StoreArgs,
}

/// The first day of `text` (`2026-11`).
fn parse_month(text: &str) -> anyhow::Result<Date> {
    let t = text.trim();
    Date::strptime("%Y-%m-%d", format!("{t}-01"))
        .ok()
        .filter(|_| t.len() == 7)
        .with_context(|| format!("--month {text:?} is not a month such as 2026-11"))
}

pub(crate) async fn run(args: AdviseArgs) -> anyhow::Result<ExitCode> {
    let project = crate::config_cmd::load_valid(&args.config.dir)?;
    let tz = crate::config_cmd::project_zone(&project)?;
    let month = match args.month.as_deref() {
        Some(m) => parse_month(m)?,
        None => jiff::Timestamp::now()
            .to_zoned(tz.clone())
            .date()
            .first_of_month()
            .checked_sub(jiff::ToSpan::month(1))
            .context("the month before this one is outside the calendar")?,
    };
    let store = args.store.open().await?;
    let advice = leadflow_advice::advise(&store, &args.store.portal, &project, month, &tz)
        .await
        .with_context(|| format!("computing the advice for {}", month.strftime("%Y-%m")));
    store.close().await;
    let advice = advice?;
    let text = match args.format {
        Format::Text => advice.to_markdown(),
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&advice)?),
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the advice")?,
    }
    Ok(ExitCode::SUCCESS)
}
