//! `leadflow import FILE`: CSV contacts into the portal, upserted by email, with a progress
//! bar, a summary, every rejected row listed and written to `<stem>.rejected.csv`.
//!
//! The reading, checking and upserting live in `leadflow-import`; this file turns flags
//! into its options, draws the progress bar and the tables, and picks the exit code:
//! 0 when every row was imported, 1 when some were rejected or refused, 2 when the file
//! cannot be imported at all (unknown columns, no email column, bad flags, no portal).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Args;
use comfy_table::Table;
use indicatif::{ProgressBar, ProgressStyle};
use leadflow_import::{
    Error as ImportError, FixedValue, MappingFile, Parsed, ReadOptions, Rejected, Report, RowError,
    read_csv, write_rejected,
};

use crate::cli::PortalArgs;
use crate::config_cmd::load_valid;
use crate::portal;
use crate::properties_cmd::ConfigDir;

/// Rejected rows listed on the terminal; the rest are in the rejected file.
const SHOWN: usize = 20;

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The CSV file of contacts: UTF-8, the first row naming the columns by property name
    /// or label (email, firstname, "ICP Fit Score", …). Separator: comma, semicolon or tab.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    config: ConfigDir,
    /// A YAML file mapping headers to properties, for headers that match none:
    /// `columns: { "E-mail Address": email, "Internal ref": ~ }` (~ skips a column).
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// Skip columns that match no property (each is named in a warning) instead of
    /// refusing the file.
    #[arg(long)]
    ignore_unknown_columns: bool,
    /// Set Campaign Tag on every row, such as "Manual Outreach - 2026-11-24": the playbook's
    /// workflows trigger on it. Overrides a Campaign Tag column.
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// The same as --tag (Campaign Tag names the campaign); give one or the other.
    #[arg(long, value_name = "CAMPAIGN", conflicts_with = "tag")]
    campaign: Option<String>,
    /// Set Message Strategy Used on every row ("Time Focus", "Quality Focus",
    /// "Production Focus" or "Custom"). Overrides a column of that property.
    #[arg(long, value_name = "STRATEGY")]
    strategy: Option<String>,
    /// Set Session ID on every row. Overrides a column of that property.
    #[arg(long, value_name = "ID")]
    session_id: Option<String>,
    /// Check every row and write the rejected file, but send nothing to the portal.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    portal: PortalArgs,
}

impl ImportArgs {
    fn fixed(&self) -> Vec<FixedValue> {
        let flag = |flag: &str, property: &str, value: &Option<String>| {
            value.as_ref().map(|v| FixedValue {
                flag: flag.to_owned(),
                property: property.to_owned(),
                value: v.clone(),
            })
        };
        [
            flag("--tag", "campaign_tag", &self.tag),
            flag("--campaign", "campaign_tag", &self.campaign),
            flag("--strategy", "message_strategy", &self.strategy),
            flag("--session-id", "session_id", &self.session_id),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Adds what to do about a file-level problem.
fn with_hint(e: ImportError) -> anyhow::Error {
    let hint = match &e {
        ImportError::UnknownColumns(_) => Some(
            "rename the columns, map them in a mapping file (--mapping FILE with columns: { \"Header\": property }), or pass --ignore-unknown-columns to skip them",
        ),
        ImportError::NoEmailColumn { .. } => Some(
            "name the column \"email\", or map it in a mapping file (--mapping FILE with columns: { \"Your header\": email })",
        ),
        ImportError::ReadOnlyColumn { .. } => {
            Some("remove the column, or pass --ignore-unknown-columns to skip it")
        }
        _ => None,
    };
    match hint {
        Some(h) => anyhow!("{e}\n  hint: {h}"),
        None => anyhow::Error::new(e),
    }
}

pub(crate) async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let project = load_valid(&args.config.dir)?;
    let mapping = match &args.mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the mapping file {}", path.display()))?;
            Some(
                MappingFile::parse(&text)
                    .with_context(|| format!("reading the mapping file {}", path.display()))?,
            )
        }
        None => None,
    };
    // Credentials are checked before the file is read, so a missing token stops at once.
    // The tier and time zone come from the flags, else leadflow.yaml.
    let client = if args.dry_run {
        None
    } else {
        Some(portal::client_for(&args.portal, &project.settings)?)
    };
    let fixed = args.fixed();
    let mut options = ReadOptions::new(&project.properties);
    options.mapping = mapping.as_ref();
    options.ignore_unknown_columns = args.ignore_unknown_columns;
    options.fixed = fixed.clone();
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let parsed = read_csv(file, &options)
        .map_err(with_hint)
        .with_context(|| format!("cannot import {}", args.file.display()))?;

    for w in &parsed.warnings {
        eprintln!("warning: {w}");
    }
    let tagged = fixed.iter().any(|f| f.property == "campaign_tag")
        || parsed.columns.iter().flatten().any(|c| c == "campaign_tag");
    if !tagged {
        eprintln!(
            "warning: no --tag and no Campaign Tag column: the workflows that start on a tag (\"Manual Outreach - DATE\") will not pick these contacts up"
        );
    }

    let report = match &client {
        Some(client) => {
            let bar = ProgressBar::new(parsed.rows.len() as u64);
            if let Ok(style) =
                ProgressStyle::with_template("importing [{bar:40}] {pos}/{len} rows, eta {eta}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            let report = leadflow_import::import(client, &parsed.rows, |n| bar.inc(n as u64)).await;
            bar.finish_and_clear();
            Some(report)
        }
        None => None,
    };

    print_summary(&parsed, report.as_ref());
    let failed = report.as_ref().map_or(&[][..], |r| &r.failed[..]);
    let mut all: Vec<&RowError> = parsed.rejected.iter().chain(failed).collect();
    all.sort_by_key(|e| e.row);
    let rejected = write_rejected(&args.file, &parsed, failed)?;
    print_rejected(&all, &rejected);
    match &rejected {
        Rejected::Written { path, rows } => println!(
            "{rows} rejected row(s) written to {}: fix them there and import that file again with --ignore-unknown-columns (its row and error columns are then skipped)",
            path.display()
        ),
        Rejected::RemovedStale { path } => println!(
            "no row was rejected; removed {} left by an earlier run",
            path.display()
        ),
        Rejected::Nothing => {}
    }
    if args.dry_run {
        println!("dry run: nothing was sent to the portal");
    }
    if let Some(reason) = report.as_ref().and_then(|r| r.stopped.as_ref()) {
        eprintln!("error: the import stopped early: {reason}");
        return Ok(ExitCode::from(2));
    }
    Ok(if all.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_summary(parsed: &Parsed, report: Option<&Report>) {
    let mut table = Table::new();
    table.set_header(["outcome", "rows", "meaning"]);
    table.add_row(["read".to_owned(), parsed.read.to_string(), String::new()]);
    match report {
        Some(r) => {
            table.add_row([
                "created".to_owned(),
                r.created.to_string(),
                "new contacts".to_owned(),
            ]);
            table.add_row([
                "updated".to_owned(),
                r.updated.to_string(),
                "existing contacts, matched by email".to_owned(),
            ]);
        }
        None => {
            table.add_row([
                "valid".to_owned(),
                parsed.rows.len().to_string(),
                "would be upserted by email".to_owned(),
            ]);
        }
    }
    table.add_row([
        "rejected".to_owned(),
        parsed.rejected.len().to_string(),
        "invalid, not sent".to_owned(),
    ]);
    if let Some(r) = report {
        table.add_row([
            "failed".to_owned(),
            r.failed.len().to_string(),
            "refused by HubSpot or not imported".to_owned(),
        ]);
    }
    if parsed.superseded > 0 {
        table.add_row([
            "duplicates".to_owned(),
            parsed.superseded.to_string(),
            "earlier rows with the email of a later row, which wins".to_owned(),
        ]);
    }
    println!("{table}");
}

fn print_rejected(all: &[&RowError], rejected: &Rejected) {
    if all.is_empty() {
        return;
    }
    let mut table = Table::new();
    table.set_header(["row", "column", "reason"]);
    for e in all.iter().take(SHOWN) {
        for p in &e.problems {
            table.add_row([e.row.to_string(), p.column.clone(), p.reason.clone()]);
        }
    }
    println!("{table}");
    if all.len() > SHOWN {
        let file = match rejected {
            Rejected::Written { path, .. } => path.as_path(),
            _ => Path::new("the rejected file"),
        };
        println!("… and {} more in {}", all.len() - SHOWN, file.display());
    }
}
