//! The weekly report (`weekly_reporting`): the Lead Generation Performance report computed
//! from the store at the slot, written as HTML (the web dashboard's self-contained report
//! document, charts as inline SVG) and CSV into the data directory
//! (`reports/weekly/<slot's date>/<report key>.{html,csv}`); and the archive every
//! scheduled report is written with.
//!
//! The archive is written before any mail is tried, so the report is kept whatever becomes
//! of the mail. This module knows where reports go, not how they are computed (the reports
//! crate), drawn (the web crate) or mailed (`mail.rs`).

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use leadflow_config::Project;
use leadflow_reports::{Figure, Period, ReportOutput, ReportSpec, Since};
use leadflow_store::Store;

use crate::Error;

/// The report the weekly schedule sends (its key in `reports.yaml`); the first report
/// when the project has none by that key.
pub const WEEKLY_REPORT: &str = "lead_generation_report";

/// An archived report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Archived {
    /// The directory it is in.
    pub dir: PathBuf,
    /// Its files.
    pub files: Vec<PathBuf>,
}

/// Writes `files` (name, content) into `dir`, creating it; a file written before is
/// replaced (a run interrupted half-way and run again writes the same report).
pub(crate) fn archive(dir: &Path, files: &[(String, String)]) -> Result<Archived, Error> {
    let io = |path: &Path, e: std::io::Error| Error::Archive {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut written = Vec::new();
    for (name, content) in files {
        let path = dir.join(name);
        // Written beside and renamed, so a reader (or the mail pass) never sees half a file.
        let partial = dir.join(format!(".{name}.partial"));
        std::fs::write(&partial, content).map_err(|e| io(&partial, e))?;
        std::fs::rename(&partial, &path).map_err(|e| io(&path, e))?;
        written.push(path);
    }
    Ok(Archived {
        dir: dir.to_owned(),
        files: written,
    })
}

fn number_cell(f: &Figure) -> String {
    f.number.map(|n| n.to_string()).unwrap_or_default()
}

/// The report as CSV, as `leadflow report --format csv` writes it: one row for every
/// contact of the report (`all`), then one per group of each breakdown (rates as fractions
/// 0–1, an empty cell for no data); then, after a blank line, its charts' points as rows
/// `chart,series,label,value`.
pub fn report_csv(out: &ReportOutput) -> Result<String, Error> {
    let csv_error = |e: csv::Error| Error::Render(e.to_string());
    let text = |w: csv::Writer<Vec<u8>>| {
        let bytes = w
            .into_inner()
            .map_err(|e| Error::Render(e.error().to_string()))?;
        String::from_utf8(bytes).map_err(|e| Error::Render(e.to_string()))
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["breakdown".to_owned(), "value".to_owned()];
    header.extend(out.metrics.iter().map(|f| f.name.clone()));
    w.write_record(&header).map_err(csv_error)?;
    let mut row = vec!["all".to_owned(), String::new()];
    row.extend(out.metrics.iter().map(number_cell));
    w.write_record(&row).map_err(csv_error)?;
    for b in &out.breakdowns {
        for g in &b.groups {
            let mut row = vec![b.property.clone(), g.value.clone().unwrap_or_default()];
            row.extend(g.metrics.iter().map(number_cell));
            w.write_record(&row).map_err(csv_error)?;
        }
    }
    let mut s = text(w)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["chart", "series", "label", "value"])
        .map_err(csv_error)?;
    for c in &out.charts {
        for x in &c.series {
            for p in &x.points {
                let value = p.value.map(|v| v.to_string()).unwrap_or_default();
                w.write_record([c.name.as_str(), x.name.as_str(), p.label.as_str(), &value])
                    .map_err(csv_error)?;
            }
        }
    }
    s.push('\n');
    s.push_str(&text(w)?);
    Ok(s)
}

/// Computes the weekly report as of `slot` (its period ends there; the report's own
/// `created_date` filter, else 30 days, in the project's zone) and archives it under
/// `data_dir/reports/weekly/<slot's date in tz>/`.
///
/// # Errors
/// A report the project does not have or cannot compute, a store error, or a file that
/// cannot be written.
pub async fn build_weekly(
    store: &Store,
    portal: &str,
    project: &Project,
    (slot, tz): (Timestamp, &TimeZone),
    data_dir: &Path,
) -> Result<Archived, Error> {
    let reports = &project.reports.reports;
    let Some(report) = reports
        .iter()
        .find(|r| r.key == WEEKLY_REPORT)
        .or(reports.first())
    else {
        return Err(Error::NoReport);
    };
    let project_tz = TimeZone::get(&project.settings.time_zone)
        .map_err(|_| Error::TimeZone(project.settings.time_zone.clone()))?;
    let spec = ReportSpec::from_config(report, &project.properties)?;
    let period = Period::since(spec.since.unwrap_or(Since::Days(30)), slot, &project_tz)?;
    let out =
        leadflow_reports::report(store, portal, &spec, period, None, &Default::default()).await?;
    let date = slot.to_zoned(tz.clone()).date();
    let dir = data_dir
        .join("reports")
        .join("weekly")
        .join(date.to_string());
    archive(
        &dir,
        &[
            (
                format!("{}.html", spec.key),
                leadflow_web::report_document(&out),
            ),
            (format!("{}.csv", spec.key), report_csv(&out)?),
        ],
    )
}
