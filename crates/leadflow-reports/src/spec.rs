//! From `reports.yaml` to what the store can count: a report's filters as a
//! [`ContactFilter`], its period, and its breakdowns by internal name.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use leadflow_config::properties::PropertySchema;
use leadflow_config::reports::{Report, ReportFilter, report_filter, report_property};
use leadflow_store::{ContactFilter, MANAGED_COLUMNS};

use crate::Error;
use crate::metrics::Metric;

/// How far back a report looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Since {
    /// Contacts created on or after the start of the day `n` days before today (in the
    /// project's time zone): the spec's `created_date >= {{ current_date - n days }}`.
    Days(i64),
    /// Contacts created in the last `n` hours.
    Hours(i64),
}

impl Since {
    /// Reads `30d`, `2w`, `12h`.
    ///
    /// # Errors
    /// [`Error::BadPeriod`] for anything else.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (n, unit) = t.split_at(split);
        let bad = || Error::BadPeriod(text.to_owned());
        let n: i64 = n.parse().map_err(|_| bad())?;
        if n > 36_500 {
            return Err(bad());
        }
        match unit {
            "d" => Ok(Self::Days(n)),
            "w" => Ok(Self::Days(n * 7)),
            "h" => Ok(Self::Hours(n)),
            _ => Err(bad()),
        }
    }
}

/// The instants a report counts: `[from, until)`, unix ms, and the time zone and instant
/// its days and weeks are read in.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Period {
    /// The first instant counted.
    pub from_ms: i64,
    /// The first instant not counted (`None`: up to now and beyond, as the store holds it).
    pub until_ms: Option<i64>,
    /// The first instant, RFC 3339 in UTC, for readers.
    pub from: String,
    /// The instant the report is computed as of (unix ms): where the Activity Timeline's
    /// last day and the Response Rate Trends' last week end, when `until_ms` is open.
    pub now_ms: i64,
    /// The project's time zone, in which days and weeks begin.
    #[serde(skip)]
    pub zone: TimeZone,
}

impl Period {
    /// The period `since` describes, seen from `now` in `tz`.
    ///
    /// # Errors
    /// [`Error::BadPeriod`] when the start falls outside the calendar jiff supports.
    pub fn since(since: Since, now: Timestamp, tz: &TimeZone) -> Result<Self, Error> {
        let bad = |n: i64, unit: &str| Error::BadPeriod(format!("{n}{unit}"));
        let from = match since {
            Since::Days(n) => {
                let today = now.to_zoned(tz.clone()).date();
                let day = today.checked_sub(n.days()).map_err(|_| bad(n, "d"))?;
                day.to_zoned(tz.clone())
                    .map_err(|_| bad(n, "d"))?
                    .timestamp()
            }
            Since::Hours(n) => now.checked_sub(n.hours()).map_err(|_| bad(n, "h"))?,
        };
        Ok(Self {
            from_ms: from.as_millisecond(),
            until_ms: None,
            from: from.to_string(),
            now_ms: now.as_millisecond(),
            zone: tz.clone(),
        })
    }

    /// The last instant the period can hold contacts up to: `until_ms`, else now.
    pub(crate) fn end_ms(&self) -> i64 {
        self.until_ms.unwrap_or(self.now_ms)
    }
}

/// Filters a reader adds to a report or dashboard (the web dashboard's, `--campaign` and
/// `--icp`): contacts whose campaign tag and ICP type equal these, as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Filters {
    /// `campaign_tag` equals this.
    pub campaign: Option<String>,
    /// `icp_type` equals this.
    pub icp_type: Option<String>,
}

impl Filters {
    /// The filters as `(property, value)` pairs, internal names.
    pub fn equals(&self) -> Vec<(String, String)> {
        [
            ("campaign_tag", &self.campaign),
            ("icp_type", &self.icp_type),
        ]
        .into_iter()
        .filter_map(|(p, v)| Some((p.to_owned(), v.clone()?)))
        .collect()
    }

    /// `filter` narrowed by these filters.
    pub(crate) fn narrow(&self, mut filter: ContactFilter) -> ContactFilter {
        filter.equals.extend(self.equals());
        filter
    }
}

/// A chart of a report, as the store can count it.
#[derive(Clone, Debug, PartialEq)]
pub enum ChartSpec {
    /// "<metric> by <property>": the metric per value of a property.
    ByProperty {
        /// The name as written.
        name: String,
        /// The metric.
        metric: Metric,
        /// The property (internal name).
        property: String,
        /// The property as the name writes it (the x axis's title).
        label: String,
    },
    /// "Lead Score Distribution".
    ScoreDistribution,
    /// "Activity Timeline".
    ActivityTimeline,
}

/// A report as the store can count it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportSpec {
    /// Its key in `reports.yaml`.
    pub key: String,
    /// Its name.
    pub name: String,
    /// The filters as written.
    pub filters: Vec<String>,
    /// The property filters (`lead_source == 'Outbound'`).
    pub equals: Vec<(String, String)>,
    /// The period its `created_date` filter sets, if any.
    pub since: Option<Since>,
    /// Metric names, as in the catalogue.
    pub metrics: Vec<String>,
    /// Breakdown properties, internal names.
    pub breakdowns: Vec<String>,
    /// Its charts, in the configuration's order.
    pub charts: Vec<ChartSpec>,
}

fn managed(property: &str) -> bool {
    MANAGED_COLUMNS.iter().any(|(p, _)| *p == property)
}

fn chart_spec(report: &str, chart: &str, schema: &PropertySchema) -> Result<ChartSpec, Error> {
    let known = |c: &str| chart.trim().eq_ignore_ascii_case(c);
    if known("Lead Score Distribution") {
        return Ok(ChartSpec::ScoreDistribution);
    }
    if known("Activity Timeline") {
        return Ok(ChartSpec::ActivityTimeline);
    }
    let unknown = || Error::UnknownChart {
        report: report.to_owned(),
        chart: chart.to_owned(),
    };
    let pos = chart.to_lowercase().find(" by ").ok_or_else(unknown)?;
    let (metric, label) = (chart[..pos].trim(), chart[pos + 4..].trim());
    let metric = Metric::from_name(metric).ok_or_else(unknown)?;
    let property = report_property(label, schema)
        .filter(|p| managed(p))
        .ok_or_else(unknown)?;
    Ok(ChartSpec::ByProperty {
        name: chart.trim().to_owned(),
        metric,
        property,
        label: label.to_owned(),
    })
}

impl ReportSpec {
    /// Reads a report from the configuration.
    ///
    /// # Errors
    /// [`Error::UnsupportedFilter`] for a filter the store cannot count,
    /// [`Error::UnknownChart`] for a chart it cannot draw (`leadflow check` refuses both).
    pub fn from_config(report: &Report, schema: &PropertySchema) -> Result<Self, Error> {
        let mut equals = Vec::new();
        let mut since = None;
        for f in &report.filters {
            match report_filter(&f.source, schema) {
                Some(ReportFilter::Equals(name, value)) if managed(&name) => {
                    equals.push((name, value));
                }
                Some(ReportFilter::CreatedSince(days)) => since = Some(Since::Days(days)),
                _ => {
                    return Err(Error::UnsupportedFilter {
                        report: report.key.clone(),
                        filter: f.source.trim().to_owned(),
                    });
                }
            }
        }
        Ok(Self {
            key: report.key.clone(),
            name: report.name.clone(),
            filters: report.filters.iter().map(|f| f.source.clone()).collect(),
            equals,
            since,
            metrics: report.metrics.clone(),
            breakdowns: report.breakdowns.clone(),
            charts: report
                .charts
                .iter()
                .map(|c| chart_spec(&report.key, c, schema))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The breakdown `by` names (internal name or label, case-insensitive, or one of the
    /// config's aliases `campaign`, `icp`, `strategy`).
    ///
    /// # Errors
    /// [`Error::UnknownBreakdown`] naming the report's breakdowns.
    pub fn breakdown(&self, by: &str, schema: &PropertySchema) -> Result<String, Error> {
        let resolved = report_property(by, schema).unwrap_or_else(|| by.trim().to_owned());
        self.breakdowns
            .iter()
            .find(|b| b.eq_ignore_ascii_case(&resolved))
            .cloned()
            .ok_or_else(|| Error::UnknownBreakdown {
                by: by.to_owned(),
                report: self.key.clone(),
                allowed: self.breakdowns.join(", "),
            })
    }

    /// The contacts this report counts over `period`.
    pub fn filter(&self, period: &Period) -> ContactFilter {
        ContactFilter {
            equals: self.equals.clone(),
            created_from: Some(period.from_ms),
            created_until: period.until_ms,
        }
    }

    /// The properties its charts "<metric> by <property>" group by.
    pub(crate) fn chart_properties(&self) -> impl Iterator<Item = &str> {
        self.charts.iter().filter_map(|c| match c {
            ChartSpec::ByProperty { property, .. } => Some(property.as_str()),
            _ => None,
        })
    }
}
