//! `leadflow report NAME`: a report or dashboard from `reports.yaml`, computed from the
//! store (`leadflow-reports`), narrowed by `--campaign`/`--icp`, and printed as a table,
//! JSON or CSV, charts' data included (a small table per chart; CSV rows
//! `chart,series,label,value`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use comfy_table::Table;
use leadflow_config::Project;
use leadflow_reports::{
    Chart, DashboardOutput, Figure, Filters, Period, ReportOutput, ReportSpec, Since,
};

use crate::properties_cmd::ConfigDir;
use crate::sync_cmd::StoreArgs;

/// How to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Tables for people.
    Table,
    /// The whole result, every value with what it is computed from.
    Json,
    /// One row per group (rates as fractions 0–1; an empty cell is no data).
    Csv,
}

/// Options of `leadflow report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The report or dashboard: its key or name in reports.yaml (lead_generation_report, session_dashboard).
    name: String,
    /// The period: contacts created since the start of the day N days ago (30d, 2w) or in the last N hours (12h).
    /// Default: the report's created_date filter, else 30d.
    #[arg(long)]
    since: Option<String>,
    /// Only this breakdown (internal name or label: icp_type, "Campaign Tag", campaign).
    #[arg(long)]
    by: Option<String>,
    /// Only contacts with this campaign tag (exactly as stored).
    #[arg(long)]
    campaign: Option<String>,
    /// Only contacts of this ICP type (ICP-A, ICP-B, ICP-C).
    #[arg(long)]
    icp: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    #[command(flatten)]
    config: ConfigDir,
    #[command(flatten)]
    store: StoreArgs,
}

enum Target<'p> {
    Report(&'p leadflow_config::reports::Report),
    Dashboard(&'p leadflow_config::reports::Dashboard),
}

fn find<'p>(project: &'p Project, name: &str) -> anyhow::Result<Target<'p>> {
    let r = &project.reports;
    let matches = |key: &str, n: &str| key == name || n.eq_ignore_ascii_case(name.trim());
    if let Some(report) = r.reports.iter().find(|x| matches(&x.key, &x.name)) {
        return Ok(Target::Report(report));
    }
    if let Some(d) = r.dashboards.iter().find(|x| matches(&x.key, &x.name)) {
        return Ok(Target::Dashboard(d));
    }
    let keys: Vec<&str> = r
        .reports
        .iter()
        .map(|x| x.key.as_str())
        .chain(r.dashboards.iter().map(|x| x.key.as_str()))
        .collect();
    let names = r
        .reports
        .iter()
        .map(|x| x.name.as_str())
        .chain(r.dashboards.iter().map(|x| x.name.as_str()));
    let all: Vec<&str> = keys.iter().copied().chain(names).collect();
    let hint = match leadflow_config::diag::suggest_name(name, all.iter().copied()) {
        Some(best) => format!("did you mean {best:?}? "),
        None => String::new(),
    };
    anyhow::bail!(
        "no report or dashboard {name:?} in reports.yaml; {hint}known: {}",
        if keys.is_empty() {
            "none".to_owned()
        } else {
            keys.join(", ")
        }
    )
}

pub(crate) async fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let project = crate::config_cmd::load_valid(&args.config.dir)?;
    let tz = crate::config_cmd::project_zone(&project)?;
    let target = find(&project, &args.name)?;
    let since = args.since.as_deref().map(Since::parse).transpose()?;
    let now = jiff::Timestamp::now();
    let filters = Filters {
        campaign: args.campaign.clone(),
        icp_type: args.icp.clone(),
    };
    match target {
        Target::Report(report) => {
            let spec = ReportSpec::from_config(report, &project.properties)?;
            let by = args
                .by
                .as_deref()
                .map(|b| spec.breakdown(b, &project.properties))
                .transpose()?;
            let period = Period::since(since.or(spec.since).unwrap_or(Since::Days(30)), now, &tz)?;
            let store = args.store.open().await?;
            let out = leadflow_reports::report(
                &store,
                &args.store.portal,
                &spec,
                period,
                by.as_deref(),
                &filters,
            )
            .await
            .with_context(|| format!("computing report {}", spec.key))?;
            store.close().await;
            emit(&render_report(&out, args.format)?)?;
        }
        Target::Dashboard(dashboard) => {
            if let Some(by) = &args.by {
                anyhow::bail!(
                    "--by {by:?}: {} is a dashboard, which has no breakdowns; breakdowns belong to reports",
                    dashboard.key
                );
            }
            let period = Period::since(since.unwrap_or(Since::Days(30)), now, &tz)?;
            let store = args.store.open().await?;
            let out = leadflow_reports::dashboard(
                &store,
                &args.store.portal,
                dashboard,
                period,
                &filters,
            )
            .await
            .with_context(|| format!("computing dashboard {}", dashboard.key))?;
            store.close().await;
            emit(&render_dashboard(&out, args.format)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn number_cell(f: &Figure) -> String {
    f.number.map(|n| n.to_string()).unwrap_or_default()
}

fn render_report(out: &ReportOutput, format: Format) -> anyhow::Result<String> {
    let mut s = String::new();
    match format {
        Format::Json => writeln!(s, "{}", serde_json::to_string_pretty(out)?)?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let mut header = vec!["breakdown".to_owned(), "value".to_owned()];
            header.extend(out.metrics.iter().map(|f| f.name.clone()));
            w.write_record(&header)?;
            let mut row = vec!["all".to_owned(), String::new()];
            row.extend(out.metrics.iter().map(number_cell));
            w.write_record(&row)?;
            for b in &out.breakdowns {
                for g in &b.groups {
                    let mut row = vec![b.property.clone(), g.value.clone().unwrap_or_default()];
                    row.extend(g.metrics.iter().map(number_cell));
                    w.write_record(&row)?;
                }
            }
            s = String::from_utf8(w.into_inner()?)?;
            s.push('\n');
            s.push_str(&charts_csv(out.charts.iter())?);
        }
        Format::Table => {
            writeln!(
                s,
                "{} (contacts created since {})",
                out.name, out.period.from
            )?;
            writeln!(s, "filters: {}", out.filters.join(" AND "))?;
            let mut t = Table::new();
            t.set_header(["metric", "value"]);
            for f in &out.metrics {
                t.add_row([f.name.as_str(), f.display.as_str()]);
            }
            writeln!(s, "{t}")?;
            for b in &out.breakdowns {
                writeln!(s, "\nby {}", b.property)?;
                let mut t = Table::new();
                let mut header = vec![b.property.clone()];
                header.extend(out.metrics.iter().map(|f| f.name.clone()));
                t.set_header(header);
                if b.groups.is_empty() {
                    writeln!(s, "no data")?;
                    continue;
                }
                for g in &b.groups {
                    let mut row = vec![g.value.clone().unwrap_or_else(|| "(none)".to_owned())];
                    row.extend(g.metrics.iter().map(|f| f.display.clone()));
                    t.add_row(row);
                }
                writeln!(s, "{t}")?;
            }
            for c in &out.charts {
                write_chart(&mut s, c)?;
            }
        }
    }
    Ok(s)
}

/// A chart as a small table: a row per label, a column per series.
fn write_chart(s: &mut String, chart: &Chart) -> anyhow::Result<()> {
    writeln!(s, "\nchart: {}", chart.name)?;
    let Some(first) = chart.series.first() else {
        writeln!(s, "no data")?;
        return Ok(());
    };
    if first.points.is_empty() {
        writeln!(s, "no data")?;
        return Ok(());
    }
    let mut t = Table::new();
    let mut header = vec![chart.x_label.clone()];
    header.extend(chart.series.iter().map(|x| x.name.clone()));
    t.set_header(header);
    for (i, p) in first.points.iter().enumerate() {
        let mut row = vec![p.label.clone()];
        row.extend(chart.series.iter().map(|x| {
            x.points
                .get(i)
                .map_or_else(String::new, |p| p.display.clone())
        }));
        t.add_row(row);
    }
    writeln!(s, "{t}")?;
    Ok(())
}

/// Charts as CSV rows `chart,series,label,value` (a fraction for ratios; empty: no data).
fn charts_csv<'c>(charts: impl Iterator<Item = &'c Chart>) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["chart", "series", "label", "value"])?;
    for c in charts {
        for x in &c.series {
            for p in &x.points {
                let value = p.value.map(|v| v.to_string()).unwrap_or_default();
                w.write_record([c.name.as_str(), x.name.as_str(), p.label.as_str(), &value])?;
            }
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

fn render_dashboard(out: &DashboardOutput, format: Format) -> anyhow::Result<String> {
    let mut s = String::new();
    match format {
        Format::Json => writeln!(s, "{}", serde_json::to_string_pretty(out)?)?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["widget", "value", "display"])?;
            for f in &out.widgets {
                w.write_record([f.name.as_str(), &number_cell(f), &f.display])?;
            }
            s = String::from_utf8(w.into_inner()?)?;
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["panel", "figure", "value", "display"])?;
            for p in &out.panels {
                for f in &p.figures {
                    w.write_record([p.name.as_str(), &f.name, &number_cell(f), &f.display])?;
                }
            }
            s.push('\n');
            s.push_str(&String::from_utf8(w.into_inner()?)?);
            s.push('\n');
            s.push_str(&charts_csv(out.panels.iter().map(|p| &p.chart))?);
        }
        Format::Table => {
            writeln!(
                s,
                "{} (outbound contacts created since {})",
                out.name, out.period.from
            )?;
            if let Some(filters) = filter_line(&out.filters) {
                writeln!(s, "filters: {filters}")?;
            }
            let mut t = Table::new();
            t.set_header(["widget", "value"]);
            for f in &out.widgets {
                t.add_row([f.name.as_str(), f.display.as_str()]);
            }
            writeln!(s, "{t}")?;
            for p in &out.panels {
                writeln!(s, "\n{}", p.name)?;
                let mut t = Table::new();
                t.set_header(["figure", "value"]);
                for f in &p.figures {
                    t.add_row([f.name.as_str(), f.display.as_str()]);
                }
                writeln!(s, "{t}")?;
                write_chart(&mut s, &p.chart)?;
            }
        }
    }
    Ok(s)
}

fn filter_line(filters: &Filters) -> Option<String> {
    let equals = filters.equals();
    (!equals.is_empty()).then(|| {
        equals
            .iter()
            .map(|(p, v)| format!("{p} == '{v}'"))
            .collect::<Vec<_>>()
            .join(" AND ")
    })
}

/// Writes the output in one piece; a reader that went away (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other.context("writing the report")?),
    }
}
