//! `leadflow init` and `leadflow check`: writing and validating the project's configuration.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use leadflow_config::{Diagnostic, Project};

/// Options of `leadflow init`.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The project directory to write (created if needed).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Overwrite files that exist.
    #[arg(long)]
    force: bool,
}

/// Options of `leadflow check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The project directory (default: --config, or the current directory).
    dir: Option<PathBuf>,
    /// The project directory.
    #[arg(long = "config", value_name = "DIR")]
    config: Option<PathBuf>,
    /// Print the problems as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    let (written, kept) = leadflow_config::init(&args.dir, args.force)
        .with_context(|| format!("writing the configuration into {}", args.dir.display()))?;
    for p in &written {
        println!("wrote {}", p.display());
    }
    for p in &kept {
        println!("kept  {} (exists; --force overwrites it)", p.display());
    }
    println!(
        "next: `leadflow check {}`, then `leadflow properties plan --config {}`",
        args.dir.display(),
        args.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let dir = args
        .dir
        .or(args.config)
        .unwrap_or_else(|| PathBuf::from("."));
    if !dir.is_dir() {
        eprintln!(
            "error: {} is not a directory; pass the project directory (written by `leadflow init`)",
            dir.display()
        );
        return Ok(ExitCode::from(2));
    }
    let (project, diags) = leadflow_config::load(&dir);
    if args.json {
        let items: Vec<serde_json::Value> = diags
            .iter()
            .map(|d| {
                serde_json::json!({
                    "file": dir.join(&d.file).display().to_string(),
                    "line": d.loc.line,
                    "column": d.loc.column,
                    "message": d.message,
                    "hint": d.hint,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "ok": diags.is_empty(), "problems": items })
        );
    } else {
        print_diagnostics(&dir, &diags);
        if diags.is_empty() {
            println!(
                "{}: configuration is valid ({} properties, {} workflows, {} reports, {} schedules)",
                dir.display(),
                project.properties.properties.len(),
                project.workflows.len(),
                project.reports.reports.len() + project.reports.dashboards.len(),
                project.schedules.triggers.len()
            );
        } else {
            println!(
                "{} problem{} found",
                diags.len(),
                if diags.len() == 1 { "" } else { "s" }
            );
        }
    }
    Ok(if diags.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub(crate) fn print_diagnostics(dir: &Path, diags: &[Diagnostic]) {
    for d in diags {
        let mut d = d.clone();
        d.file = dir.join(&d.file);
        println!("{d}");
    }
}

/// Loads a project for a command that acts on it: any problem stops the command.
pub(crate) fn load_valid(dir: &Path) -> anyhow::Result<Project> {
    let (project, diags) = leadflow_config::load(dir);
    if !diags.is_empty() {
        print_diagnostics(dir, &diags);
        anyhow::bail!(
            "the configuration in {} has {} problem(s); fix them (see `leadflow check`) before talking to the portal",
            dir.display(),
            diags.len()
        );
    }
    Ok(project)
}

/// The project's time zone (`portal.time_zone` in leadflow.yaml): workflows' dates, reports'
/// periods.
pub(crate) fn project_zone(project: &Project) -> anyhow::Result<jiff::tz::TimeZone> {
    zone(
        &project.settings.time_zone,
        "portal.time_zone in leadflow.yaml",
    )
}

/// The schedules' time zone (`time_zone` in schedules.yaml).
pub(crate) fn schedule_zone(project: &Project) -> anyhow::Result<jiff::tz::TimeZone> {
    zone(&project.schedules.time_zone, "time_zone in schedules.yaml")
}

fn zone(name: &str, what: &str) -> anyhow::Result<jiff::tz::TimeZone> {
    jiff::tz::TimeZone::get(name)
        .map_err(|e| anyhow::anyhow!("{what} is {name:?}, which is not an IANA time zone ({e})"))
}
