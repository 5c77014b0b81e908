//! Reports and dashboards (`reports.yaml`): read and checked against the catalogue of
//! metrics, breakdowns, charts and widgets leadflow computes (listed in `docs/config.md`,
//! "Reports catalogue"; a test keeps that list equal to these constants).

use leadflow_core::ObjectType;

use crate::diag::{Sink, choices_hint, suggest_name};
use crate::node::{Loc, Node};
use crate::properties::PropertySchema;
use crate::reader::MapReader;
use crate::workflows::Condition;

/// The metrics leadflow computes.
pub const METRICS: [&str; 5] = [
    "Total Contacts Created",
    "ICP Fit Score Average",
    "Response Rate",
    "Qualification Rate",
    "Meeting Conversion Rate",
];
/// The charts leadflow draws (besides "<metric> by <breakdown>").
pub const CHARTS: [&str; 2] = ["Lead Score Distribution", "Activity Timeline"];
/// The dashboard's reports.
pub const DASHBOARD_REPORTS: [&str; 5] = [
    "Manual Outreach Performance",
    "Automated Outreach Performance",
    "ICP Performance Comparison",
    "Response Rate Trends",
    "Lead Qualification Funnel",
];
/// The dashboard's widgets.
pub const WIDGETS: [&str; 5] = [
    "Total Leads Generated (30 days)",
    "Average Response Rate",
    "Top Performing ICP",
    "Session Productivity Score",
    "Pipeline Value Created",
];

/// A report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Filters (conditions on contacts).
    pub filters: Vec<Condition>,
    /// Metric names.
    pub metrics: Vec<String>,
    /// Breakdown properties (internal names).
    pub breakdowns: Vec<String>,
    /// Chart names.
    pub charts: Vec<String>,
    /// Where it is written.
    pub loc: Loc,
}

/// A dashboard.
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Report names.
    pub reports: Vec<String>,
    /// Widget names.
    pub widgets: Vec<String>,
    /// Where it is written.
    pub loc: Loc,
}

/// `reports.yaml`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Reports {
    /// The reports.
    pub reports: Vec<Report>,
    /// The dashboards.
    pub dashboards: Vec<Dashboard>,
}

/// The contact properties reports can filter, group and chart by: those the store keeps in
/// columns (`leadflow_store::MANAGED_COLUMNS`; a reports test keeps the two lists equal).
pub const COUNTED_PROPERTIES: [&str; 13] = [
    "email",
    "lead_source",
    "icp_type",
    "icp_fit_score",
    "lead_score",
    "response_status",
    "qualification_status",
    "campaign_tag",
    "session_id",
    "message_strategy",
    "last_outreach_date",
    "last_activity_date",
    "hubspot_owner_id",
];

/// A report filter reports can compute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportFilter {
    /// `<counted property> == 'value'`: the internal name and the value.
    Equals(String, String),
    /// `created_date >= {{ current_date - N days }}`: N.
    CreatedSince(i64),
}

fn unquote(text: &str) -> Option<&str> {
    let t = text.trim();
    let inner = t
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| t.strip_prefix('"').and_then(|s| s.strip_suffix('"')))?;
    (!inner.contains(['\'', '"'])).then_some(inner)
}

/// `{{ current_date - 30 days }}` → 30.
fn days_back(text: &str) -> Option<i64> {
    let inner = text
        .trim()
        .strip_prefix("{{")?
        .strip_suffix("}}")?
        .trim()
        .strip_prefix("current_date")?
        .trim()
        .strip_prefix('-')?
        .trim();
    let (n, unit) = inner.split_once(char::is_whitespace)?;
    matches!(unit.trim(), "day" | "days")
        .then(|| n.parse().ok())
        .flatten()
        .filter(|n| (0..=36_500).contains(n))
}

/// A report filter as reports compute it, or `None` for one they cannot: reports count
/// `<counted property> == 'value'` (by label or internal name) and
/// `created_date >= {{ current_date - N days }}`, nothing else.
pub fn report_filter(source: &str, schema: &PropertySchema) -> Option<ReportFilter> {
    let source = source.trim();
    if let Some((left, right)) = source.split_once(">=") {
        return matches!(left.trim(), "created_date" | "createdate")
            .then(|| days_back(right).map(ReportFilter::CreatedSince))
            .flatten();
    }
    let (left, right) = source.split_once("==")?;
    let (name, _) = schema.kind_of(ObjectType::Contacts, left.trim())?;
    if !COUNTED_PROPERTIES.contains(&name.as_str()) {
        return None;
    }
    Some(ReportFilter::Equals(name, unquote(right)?.to_owned()))
}

/// The contact property a breakdown or a chart's "by" names (label or internal name, or
/// one of the aliases `campaign`, `icp`, `strategy`), internal name; `None` when there is
/// no such property.
pub fn report_property(name: &str, schema: &PropertySchema) -> Option<String> {
    let aliases = [
        ("campaign", "campaign_tag"),
        ("icp", "icp_type"),
        ("strategy", "message_strategy"),
    ];
    let key = aliases
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(name))
        .map_or(name, |(_, n)| n);
    schema.kind_of(ObjectType::Contacts, key).map(|(n, _)| n)
}

fn chart_known(chart: &str, schema: &PropertySchema) -> bool {
    if CHARTS.iter().any(|c| c.eq_ignore_ascii_case(chart)) {
        return true;
    }
    let lower = chart.to_lowercase();
    let Some(pos) = lower.find(" by ") else {
        return false;
    };
    let (metric, by) = (&chart[..pos], &chart[pos + 4..]);
    METRICS
        .iter()
        .any(|m| m.eq_ignore_ascii_case(metric.trim()))
        && report_property(by.trim(), schema).is_some_and(|p| counted(&p))
}

fn counted(property: &str) -> bool {
    COUNTED_PROPERTIES.contains(&property)
}

pub(crate) fn read_file(root: &Node, schema: &PropertySchema, sink: &mut Sink<'_>) -> Reports {
    let mut out = Reports::default();
    let Some(map) = root.as_map() else {
        if !matches!(root.value, crate::node::Value::Null) {
            sink.hint(
                root,
                format!(
                    "reports.yaml must map report and dashboard keys to their definitions, found {}",
                    root.kind()
                ),
                "write lead_generation_report:\n  name: \"Lead Generation Performance\"\n  metrics: [...]",
            );
        }
        return out;
    };
    for (key, def) in map {
        let key_text = key.as_text().unwrap_or_default();
        let Some(r) = MapReader::new(def, &format!("{key_text:?}"), sink) else {
            continue;
        };
        let is_dashboard = def.get("widgets").is_some()
            || def.get("reports").is_some()
            || key_text.ends_with("dashboard");
        let name = r
            .string("name", true, sink)
            .map(|(s, _)| s)
            .unwrap_or_else(|| key_text.clone());
        if is_dashboard {
            r.check_keys(
                &["name", "type", "reports", "widgets"],
                &format!("dashboard {key_text:?}"),
                sink,
            );
            let reports = r.strings("reports", sink);
            for (rep, n) in &reports {
                if !DASHBOARD_REPORTS
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(rep))
                {
                    sink.hint(
                        n,
                        format!("unknown dashboard report {rep:?}"),
                        choices_hint(rep, DASHBOARD_REPORTS),
                    );
                }
            }
            let widgets = r.strings("widgets", sink);
            for (w, n) in &widgets {
                if !WIDGETS.iter().any(|d| d.eq_ignore_ascii_case(w)) {
                    sink.hint(n, format!("unknown widget {w:?}"), choices_hint(w, WIDGETS));
                }
            }
            out.dashboards.push(Dashboard {
                key: key_text,
                name,
                reports: reports.into_iter().map(|(s, _)| s).collect(),
                widgets: widgets.into_iter().map(|(s, _)| s).collect(),
                loc: key.loc,
            });
        } else {
            r.check_keys(
                &["name", "type", "filters", "metrics", "breakdowns", "charts"],
                &format!("report {key_text:?}"),
                sink,
            );
            let mut filters = Vec::new();
            for (f, n) in r.strings("filters", sink) {
                let source = f.replace("created_date", "createdate");
                let problems = crate::expr::check_condition(&source, schema);
                if problems.is_empty() && report_filter(&f, schema).is_none() {
                    sink.hint(
                        n,
                        format!("reports cannot compute the filter {f:?}"),
                        format!(
                            "reports count `<property> == 'value'` on one of {} and `created_date >= {{{{ current_date - N days }}}}`",
                            COUNTED_PROPERTIES.join(", ")
                        ),
                    );
                }
                for p in problems {
                    sink.error(n.loc, p.message, p.hint);
                }
                filters.push(Condition {
                    jinja: crate::expr::translate_condition(&source, schema),
                    source: f,
                    loc: n.loc,
                });
            }
            let metrics = r.strings("metrics", sink);
            for (m, n) in &metrics {
                if !METRICS.iter().any(|k| k.eq_ignore_ascii_case(m)) {
                    sink.hint(n, format!("unknown metric {m:?}"), choices_hint(m, METRICS));
                }
            }
            let mut breakdowns = Vec::new();
            for (b, n) in r.strings("breakdowns", sink) {
                match report_property(&b, schema) {
                    Some(p) if !counted(&p) => sink.hint(
                        n,
                        format!("reports cannot break down by {b:?}"),
                        format!("breakdowns are one of {}", COUNTED_PROPERTIES.join(", ")),
                    ),
                    Some(p) => breakdowns.push(p),
                    None => {
                        let known = schema.known_names(ObjectType::Contacts);
                        let hint = match suggest_name(&b, known.iter().map(String::as_str)) {
                            Some(best) => format!("did you mean {best:?}?"),
                            None => "breakdowns are contact properties, by label or internal name (or campaign, icp, strategy)".to_owned(),
                        };
                        sink.hint(
                            n,
                            format!("unknown contact property {b:?} in breakdowns"),
                            hint,
                        );
                    }
                }
            }
            let charts = r.strings("charts", sink);
            for (c, n) in &charts {
                if !chart_known(c, schema) {
                    sink.hint(n, format!("unknown chart {c:?}"), "charts are \"<metric> by <property>\" (\"Response Rate by ICP Type\"; the property one reports can group by), \"Lead Score Distribution\" or \"Activity Timeline\"");
                }
            }
            out.reports.push(Report {
                key: key_text,
                name,
                filters,
                metrics: metrics.into_iter().map(|(s, _)| s).collect(),
                breakdowns,
                charts: charts.into_iter().map(|(s, _)| s).collect(),
                loc: key.loc,
            });
        }
    }
    out
}
