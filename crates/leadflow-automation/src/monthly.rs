//! The monthly optimisation run (`monthly_optimization`): the advice for the month that
//! just ended (trends against the month before it, the best message strategy per ICP
//! type, the deal thresholds, what stopped converting), archived in the data directory as
//! Markdown and HTML, with the suggested `workflows.yaml` change as a diff beside them
//! (`reports/monthly/<slot's date>/`). Nothing is applied: the diff is a suggestion.
//!
//! This module knows where the advice goes, not how it is computed (the advice crate).

use std::path::Path;

use jiff::Timestamp;
use jiff::ToSpan;
use jiff::tz::TimeZone;
use leadflow_config::Project;
use leadflow_store::Store;

use crate::Error;
use crate::weekly::{Archived, archive};

/// Computes the advice for the month before the slot's (in the project's zone) and
/// archives it under `data_dir/reports/monthly/<slot's date in tz>/`.
///
/// # Errors
/// A store error, a month outside the calendar, `workflows.yaml` unreadable for the diff,
/// or a file that cannot be written.
pub async fn build_monthly(
    store: &Store,
    portal: &str,
    project: &Project,
    (slot, tz): (Timestamp, &TimeZone),
    data_dir: &Path,
) -> Result<Archived, Error> {
    let project_tz = TimeZone::get(&project.settings.time_zone)
        .map_err(|_| Error::TimeZone(project.settings.time_zone.clone()))?;
    let month = slot
        .to_zoned(project_tz.clone())
        .date()
        .first_of_month()
        .checked_sub(1.month())
        .map_err(|e| Error::Instant(slot.as_millisecond(), e.to_string()))?;
    let advice = leadflow_advice::advise(store, portal, project, month, &project_tz).await?;
    let title = format!("Optimisation advice for {}", advice.month);
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n{}\n</body></html>\n",
        advice.to_html_fragment()
    );
    let mut files = vec![
        ("optimization_advice.md".to_owned(), advice.to_markdown()),
        ("optimization_advice.html".to_owned(), html),
    ];
    if let Some(diff) = advice.config_diff() {
        files.push(("suggested_workflows.diff".to_owned(), diff));
    }
    let date = slot.to_zoned(tz.clone()).date();
    let dir = data_dir
        .join("reports")
        .join("monthly")
        .join(date.to_string());
    archive(&dir, &files)
}
