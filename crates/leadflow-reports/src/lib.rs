//! Reports as code: the spec's report metrics and dashboard widgets (`reports.yaml`),
//! computed from the local store.
//!
//! `spec.rs` turns a configured report into what the store can count (a `ContactFilter`,
//! a `Period`, breakdowns by internal name, charts) plus a reader's `Filters`; the store's
//! grouped queries (`leadflow_store::Store::contact_counts`, `bucket_counts`,
//! `changes_into`, `distinct_counts`, `deals_of_contacts`) count; `metrics.rs` holds the
//! formulas (which statuses are a response, what divides what, the funnel's stages, "no
//! data" instead of a division by zero), written out in `docs/metrics.md`; `compute.rs`
//! runs a report (metrics, breakdowns, charts) or a dashboard (widgets, panels) into
//! serializable output, charts as `chart.rs`'s `Chart`.
//!
//! This crate knows no SQL and no HubSpot: it reads the store and the configuration only.

mod chart;
mod compute;
mod metrics;
mod spec;

pub use chart::{Chart, ChartKind, Point, Series, Unit};
pub use compute::{
    Breakdown, DashboardOutput, Figure, Group, Panel, ReportOutput, dashboard, dashboard_filter,
    report, top_icp,
};
pub use metrics::{
    Funnel, INTERESTED, MEETING, Metric, QUALIFIED, RESPONDED, Tally, Value, amount_cents,
};
pub use spec::{ChartSpec, Filters, Period, ReportSpec, Since};

/// What can go wrong computing a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A report's filter is not one the store can count.
    #[error(
        "report {report:?}: the filter {filter:?} is not one reports can compute; they support \
         `<managed contact property> == 'value'` and `created_date >= {{{{ current_date - N days }}}}`"
    )]
    UnsupportedFilter {
        /// The report's key.
        report: String,
        /// The filter as written.
        filter: String,
    },
    /// A report's chart is not one reports can draw.
    #[error(
        "report {report:?}: the chart {chart:?} is not one reports can draw; they draw \
         \"<metric> by <property>\", \"Lead Score Distribution\" and \"Activity Timeline\""
    )]
    UnknownChart {
        /// The report's key.
        report: String,
        /// The chart as written.
        chart: String,
    },
    /// A period that is not `30d`, `2w` or `12h`.
    #[error("{0:?} is not a period such as 30d, 2w or 12h")]
    BadPeriod(String),
    /// `--by` names no breakdown of the report.
    #[error("{by:?} is not a breakdown of {report}; its breakdowns are: {allowed}")]
    UnknownBreakdown {
        /// What was asked.
        by: String,
        /// The report's key.
        report: String,
        /// Its breakdowns.
        allowed: String,
    },
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] leadflow_store::Error),
}
