//! From `reports.yaml` to what the store can count: a report's filters as a
//! [`ContactFilter`], its period, and its breakdowns by internal name.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use leadflow_config::properties::PropertySchema;
use leadflow_config::reports::Report;
use leadflow_core::ObjectType;
use leadflow_store::{ContactFilter, MANAGED_COLUMNS};

use crate::Error;

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

/// The instants a report counts: `[from, until)`, unix ms.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Period {
    /// The first instant counted.
    pub from_ms: i64,
    /// The first instant not counted (`None`: up to now and beyond, as the store holds it).
    pub until_ms: Option<i64>,
    /// The first instant, RFC 3339 in UTC, for readers.
    pub from: String,
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
        })
    }
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
}

fn managed(property: &str) -> bool {
    MANAGED_COLUMNS.iter().any(|(p, _)| *p == property)
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

impl ReportSpec {
    /// Reads a report from the configuration.
    ///
    /// # Errors
    /// [`Error::UnsupportedFilter`] for a filter the store cannot count.
    pub fn from_config(report: &Report, schema: &PropertySchema) -> Result<Self, Error> {
        let mut equals = Vec::new();
        let mut since = None;
        for f in &report.filters {
            let source = f.source.trim();
            let unsupported = || Error::UnsupportedFilter {
                report: report.key.clone(),
                filter: source.to_owned(),
            };
            if let Some((left, right)) = source.split_once(">=") {
                let left = left.trim();
                if !matches!(left, "created_date" | "createdate") {
                    return Err(unsupported());
                }
                since = Some(Since::Days(days_back(right).ok_or_else(unsupported)?));
            } else if let Some((left, right)) = source.split_once("==") {
                let (name, _) = schema
                    .kind_of(ObjectType::Contacts, left.trim())
                    .ok_or_else(unsupported)?;
                if !managed(&name) {
                    return Err(unsupported());
                }
                let value = unquote(right).ok_or_else(unsupported)?;
                equals.push((name, value.to_owned()));
            } else {
                return Err(unsupported());
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
        })
    }

    /// The breakdown `by` names (internal name or label, case-insensitive, or one of the
    /// config's aliases `campaign`, `icp`, `strategy`).
    ///
    /// # Errors
    /// [`Error::UnknownBreakdown`] naming the report's breakdowns.
    pub fn breakdown(&self, by: &str, schema: &PropertySchema) -> Result<String, Error> {
        let alias = match by.trim().to_ascii_lowercase().as_str() {
            "campaign" => "campaign_tag".to_owned(),
            "icp" => "icp_type".to_owned(),
            "strategy" => "message_strategy".to_owned(),
            _ => by.trim().to_owned(),
        };
        let resolved = schema
            .kind_of(ObjectType::Contacts, &alias)
            .map(|(n, _)| n)
            .unwrap_or(alias);
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
}
