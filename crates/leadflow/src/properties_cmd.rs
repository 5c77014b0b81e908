//! `leadflow properties plan|apply|export` and `leadflow setup` (step 1: contact properties).

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::Table;
use leadflow_plan::{ApplyOptions, Change, Plan, PropertyAction};

use crate::cli::PortalArgs;
use crate::config_cmd::load_valid;
use crate::portal;

/// Where the tier and time zone come from, for `--help`.
const PORTAL_SETTINGS: &str = "The tier and time zone come from --tier and --time-zone, else LEADFLOW_HUBSPOT_TIER and LEADFLOW_HUBSPOT_TIME_ZONE, else portal.tier and portal.time_zone in leadflow.yaml, else professional and UTC.";

/// `leadflow properties …`.
#[derive(Debug, Subcommand)]
pub(crate) enum PropertiesCommand {
    /// Show what apply would change in the portal. Exit 0 when it is clean or changes are
    /// planned, 2 when there is a conflict or a missing scope.
    #[command(after_help = PORTAL_SETTINGS)]
    Plan(PlanArgs),
    /// Make the portal match the configuration (asks first unless --yes).
    #[command(after_help = PORTAL_SETTINGS)]
    Apply(ApplyArgs),
    /// Write the portal's custom properties as properties.yaml.
    #[command(after_help = PORTAL_SETTINGS)]
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ConfigDir {
    /// The project directory.
    #[arg(long = "config", value_name = "DIR", default_value = ".")]
    pub(crate) dir: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    config: ConfigDir,
    #[command(flatten)]
    portal: PortalArgs,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
    /// Plan the removal of unmanaged properties and options too.
    #[arg(long)]
    prune: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    config: ConfigDir,
    #[command(flatten)]
    portal: PortalArgs,
    /// Apply without asking.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Also archive unmanaged properties of the managed group and remove unconfigured options.
    #[arg(long)]
    prune: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    config: ConfigDir,
    #[command(flatten)]
    portal: PortalArgs,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

pub(crate) async fn run(command: PropertiesCommand) -> anyhow::Result<ExitCode> {
    match command {
        PropertiesCommand::Plan(a) => plan(a).await,
        PropertiesCommand::Apply(a) => apply(a.config.dir, a.portal, a.yes, a.prune).await,
        PropertiesCommand::Export(a) => export(a).await,
    }
}

async fn compute(
    dir: &std::path::Path,
    portal_args: &PortalArgs,
    prune: bool,
) -> anyhow::Result<(leadflow_hubspot::Client, Plan)> {
    let project = load_valid(dir)?;
    let client = portal::client_for(portal_args, &project.settings)?;
    let snapshot = leadflow_plan::fetch(&client, &project)
        .await
        .context("reading the portal")?;
    Ok((client, leadflow_plan::plan(&project, &snapshot, prune)))
}

async fn plan(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let (_, plan) = compute(&args.config.dir, &args.portal, args.prune).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print_plan(&plan);
    }
    Ok(if plan.has_blockers() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn describe(change: &Change) -> String {
    match change {
        Change::Label { from, to } => format!("label {from:?} → {to:?}"),
        Change::Description { .. } => "description".to_owned(),
        Change::Group { from, to } => format!("group {from} → {to}"),
        Change::OptionsAdded { options } => format!("add options {}", options.join(", ")),
        Change::OptionsRelabelled { options } => format!(
            "relabel {}",
            options
                .iter()
                .map(|(v, _, to)| format!("{v} → {to:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Change::OptionsRemoved { options } => format!("remove options {}", options.join(", ")),
        Change::DisplayOrder { from, to } => format!(
            "display order {} → {to}",
            from.map_or("none".to_owned(), |f| f.to_string())
        ),
    }
}

pub(crate) fn print_plan(plan: &Plan) {
    let mut table = Table::new();
    table.set_header(["object", "property", "plan", "details"]);
    for (object, name, _) in &plan.groups_to_create {
        table.add_row([
            object.clone(),
            format!("group {name}"),
            "create".to_owned(),
            String::new(),
        ]);
    }
    for p in &plan.properties {
        let (what, details) = match &p.action {
            PropertyAction::Create => ("create", String::new()),
            PropertyAction::ExistingMissing => (
                "create (warning)",
                "marked existing, but missing".to_owned(),
            ),
            PropertyAction::Update { changes } => (
                "update",
                changes.iter().map(describe).collect::<Vec<_>>().join("; "),
            ),
            PropertyAction::Unchanged if p.existing => {
                ("check ok", "existing property verified".to_owned())
            }
            PropertyAction::Unchanged => ("unchanged", String::new()),
            PropertyAction::Conflict { reason } => ("CONFLICT", reason.clone()),
            PropertyAction::Unmanaged => (
                "unmanaged",
                "in the portal, not in properties.yaml (kept unless --prune)".to_owned(),
            ),
        };
        table.add_row([
            p.object.clone(),
            format!("{} ({})", p.label, p.name),
            what.to_owned(),
            details,
        ]);
    }
    for r in plan.rules.iter().filter(|r| !r.unchanged || r.unmanaged) {
        let (what, details) = if r.unmanaged {
            (
                "unmanaged rule",
                format!(
                    "{} {}: no range in properties.yaml (removed by hand under --prune)",
                    r.rule_type, r.value
                ),
            )
        } else {
            ("set rule", format!("{} {}", r.rule_type, r.value))
        };
        table.add_row([
            r.object.clone(),
            r.property.clone(),
            what.to_owned(),
            details,
        ]);
    }
    for s in &plan.stages {
        let what = if s.existing_id.is_some() {
            "unchanged"
        } else {
            "create"
        };
        table.add_row([
            "deals".to_owned(),
            format!("stage {:?} in {:?}", s.label, s.pipeline),
            what.to_owned(),
            String::new(),
        ]);
    }
    for s in &plan.sequences {
        let what = if s.found { "found" } else { "MISSING" };
        table.add_row([
            "sequences".to_owned(),
            s.name.clone(),
            what.to_owned(),
            format!("used by {}", s.used_by.join(", ")),
        ]);
    }
    println!("{table}");
    for w in &plan.warnings {
        println!("warning: {w}");
    }
    for b in &plan.blockers {
        println!("blocked: {b}");
    }
    for m in &plan.manual_steps {
        println!("to do by hand: {m}");
    }
    let creates = plan
        .properties
        .iter()
        .filter(|p| {
            matches!(
                p.action,
                PropertyAction::Create | PropertyAction::ExistingMissing
            )
        })
        .count();
    let updates = plan
        .properties
        .iter()
        .filter(|p| matches!(p.action, PropertyAction::Update { .. }))
        .count();
    if plan.is_converged() {
        println!("No changes: the portal matches the configuration.");
    } else {
        println!(
            "Plan: {creates} to create, {updates} to update, {} write calls.",
            plan.writes()
        );
    }
}

/// Applies the plan; shared by `properties apply` and `setup`.
pub(crate) async fn apply(
    dir: PathBuf,
    portal_args: PortalArgs,
    yes: bool,
    prune: bool,
) -> anyhow::Result<ExitCode> {
    let (client, plan) = compute(&dir, &portal_args, prune).await?;
    print_plan(&plan);
    if plan.has_blockers() {
        println!("Nothing was applied.");
        return Ok(ExitCode::from(2));
    }
    let destructive = prune
        && plan
            .properties
            .iter()
            .any(|p| matches!(p.action, PropertyAction::Unmanaged));
    if plan.is_converged() && !destructive {
        return Ok(ExitCode::SUCCESS);
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            anyhow::bail!(
                "refusing to apply without confirmation: no terminal to ask on. Review the plan above and pass --yes"
            );
        }
        print!("Apply these changes to {}? [y/N] ", client.base_url());
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            println!("Nothing was applied.");
            return Ok(ExitCode::from(1));
        }
    }
    let report = leadflow_plan::apply(&client, &plan, ApplyOptions { prune }).await?;
    println!(
        "Applied: {} groups, {} properties created, {} updated, {} archived, {} rules, {} stages ({} write calls).",
        report.groups_created,
        report.properties_created.len(),
        report.properties_updated.len(),
        report.properties_archived.len(),
        report.rules_set,
        report.stages_created.len(),
        report.writes
    );
    for m in &plan.manual_steps {
        println!("still to do by hand: {m}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let (project, _) = leadflow_config::load(&args.config.dir);
    let client = portal::client_for(&args.portal, &project.settings)?;
    let snapshot = leadflow_plan::fetch(&client, &project)
        .await
        .context("reading the portal")?;
    let yaml = leadflow_plan::export_yaml(&snapshot, &project.settings.group_name);
    match args.output {
        Some(path) => {
            std::fs::write(&path, yaml).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
        None => print!("{yaml}"),
    }
    Ok(ExitCode::SUCCESS)
}
