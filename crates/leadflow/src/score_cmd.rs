//! `leadflow score explain EMAIL`: a contact's lead score as `scoring.yaml` computes it
//! from the stored contact, with every contribution.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::Table;
use leadflow_config::values::fmt_number;

use crate::config_cmd::load_valid;
use crate::properties_cmd::ConfigDir;
use crate::sync_cmd::StoreArgs;

/// `leadflow score …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ScoreCommand {
    /// A contact's lead score from the store (after `leadflow sync`), each contribution
    /// with its points. Exit 0, or 1 when no stored contact has the email.
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The contact's email.
    email: String,
    /// The day to score on, YYYY-MM-DD (default: today in the schedules' time zone).
    #[arg(long, value_name = "DATE")]
    today: Option<jiff::civil::Date>,
    #[command(flatten)]
    config: ConfigDir,
    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) async fn run(command: ScoreCommand) -> anyhow::Result<ExitCode> {
    match command {
        ScoreCommand::Explain(a) => explain(a).await,
    }
}

async fn explain(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let project = load_valid(&args.config.dir)?;
    let today = match args.today {
        Some(d) => d,
        None => {
            let tz = crate::config_cmd::schedule_zone(&project)?;
            jiff::Timestamp::now().to_zoned(tz).date()
        }
    };
    let store = args.store.open().await?;
    let Some(contact) = store
        .contact_by_email(&args.store.portal, &args.email)
        .await
        .context("reading the contact")?
    else {
        eprintln!(
            "no contact with email {:?} in the store (run `leadflow sync` first)",
            args.email
        );
        return Ok(ExitCode::from(1));
    };
    let (score, parts) = leadflow_automation::score(&project.scoring, &contact.properties, today);
    println!("{} (contact {}), scored on {today}", args.email, contact.id);
    let mut table = Table::new();
    table.set_header(["source", "from", "points"]);
    for c in &parts {
        let points = (c.points * 100.0).round() / 100.0;
        table.add_row([c.source.to_owned(), c.detail.clone(), fmt_number(points)]);
    }
    table.add_row([
        "lead score".to_owned(),
        format!(
            "rounded, kept within {}-{}",
            fmt_number(project.scoring.clamp.0),
            fmt_number(project.scoring.clamp.1)
        ),
        score.to_string(),
    ]);
    println!("{table}");
    match contact.get("lead_score") {
        Some(stored) => println!("stored lead score: {stored}"),
        None => println!("stored lead score: none"),
    }
    Ok(ExitCode::SUCCESS)
}
