//! Running a report or a dashboard: the store's counts through the formulas.

use std::collections::BTreeMap;

use leadflow_config::reports::{Dashboard, WIDGETS};
use leadflow_store::{ContactCounts, ContactFilter, Store};
use serde::Serialize;

use crate::Error;
use crate::metrics::{Tally, Value, amount_cents};
use crate::spec::{Period, ReportSpec};

/// A named value, with its number and its display ready for any output.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figure {
    /// The catalogue name.
    pub name: String,
    /// The value as a number (ratios as fractions 0–1), `None` for no data.
    pub number: Option<f64>,
    /// The value as people read it (`no data` when there is none).
    pub display: String,
    /// The value with what it is computed from.
    pub value: Value,
}

impl Figure {
    fn new(name: &str, value: Value) -> Self {
        Self {
            name: name.to_owned(),
            number: value.number(),
            display: value.display(),
            value,
        }
    }
}

/// One group of a breakdown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    /// The property's value (`None`: contacts without one).
    pub value: Option<String>,
    /// The report's metrics over the group.
    pub metrics: Vec<Figure>,
}

/// A report's metrics per value of one property.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Breakdown {
    /// The property (internal name).
    pub property: String,
    /// The groups, by value (no value last).
    pub groups: Vec<Group>,
}

/// A computed report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportOutput {
    /// Its key in `reports.yaml`.
    pub key: String,
    /// Its name.
    pub name: String,
    /// The period counted.
    pub period: Period,
    /// The filters as written (the `created_date` one replaced by the period).
    pub filters: Vec<String>,
    /// The metrics over every contact of the report.
    pub metrics: Vec<Figure>,
    /// The metrics per breakdown.
    pub breakdowns: Vec<Breakdown>,
}

/// A computed dashboard: its widgets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DashboardOutput {
    /// Its key in `reports.yaml`.
    pub key: String,
    /// Its name.
    pub name: String,
    /// The period counted.
    pub period: Period,
    /// The widgets, in the configuration's order.
    pub widgets: Vec<Figure>,
}

fn figures(spec: &ReportSpec, tally: &Tally) -> Vec<Figure> {
    spec.metrics
        .iter()
        .filter_map(|m| Some(Figure::new(m, tally.metric(m)?)))
        .collect()
}

/// Tallies per value of the `i`th grouping property of `rows` (one overall tally, under
/// `None`, when `i` is `None`).
fn tally_by(rows: &[ContactCounts], i: Option<usize>) -> BTreeMap<Option<String>, Tally> {
    let mut out: BTreeMap<Option<String>, Tally> = BTreeMap::new();
    for c in rows {
        let key = i.and_then(|i| c.groups.get(i).cloned().flatten());
        out.entry(key).or_default().add(c);
    }
    out
}

/// Computes a report over `period`: its metrics overall and per breakdown (only `by` when
/// given, an internal name from [`ReportSpec::breakdown`]).
///
/// # Errors
/// A store error.
pub async fn report(
    store: &Store,
    portal: &str,
    spec: &ReportSpec,
    period: Period,
    by: Option<&str>,
) -> Result<ReportOutput, Error> {
    let filter = spec.filter(&period);
    // One pass over the store for the whole report: counts grouped by every breakdown
    // at once, summed here per breakdown.
    let properties: Vec<&str> = spec
        .breakdowns
        .iter()
        .map(String::as_str)
        .filter(|p| by.is_none_or(|b| b == *p))
        .collect();
    let rows = store.contact_counts(portal, &filter, &properties).await?;
    let overall = tally_by(&rows, None).remove(&None).unwrap_or_default();
    let mut breakdowns = Vec::new();
    for (i, property) in properties.iter().enumerate() {
        let groups = tally_by(&rows, Some(i));
        // `None` sorts first in a BTreeMap; readers expect the valued groups first.
        let (valued, unvalued): (Vec<_>, Vec<_>) =
            groups.into_iter().partition(|(v, _)| v.is_some());
        breakdowns.push(Breakdown {
            property: (*property).to_owned(),
            groups: valued
                .into_iter()
                .chain(unvalued)
                .map(|(value, t)| Group {
                    value,
                    metrics: figures(spec, &t),
                })
                .collect(),
        });
    }
    let filters = spec
        .filters
        .iter()
        .filter(|f| !f.contains(">="))
        .cloned()
        .chain([format!("created_date >= {}", period.from)])
        .collect();
    Ok(ReportOutput {
        key: spec.key.clone(),
        name: spec.name.clone(),
        metrics: figures(spec, &overall),
        period,
        filters,
        breakdowns,
    })
}

/// The contacts every dashboard widget counts: outbound leads created in the period.
pub fn dashboard_filter(period: &Period) -> ContactFilter {
    ContactFilter {
        equals: vec![("lead_source".to_owned(), "Outbound".to_owned())],
        created_from: Some(period.from_ms),
        created_until: period.until_ms,
    }
}

/// Computes a dashboard's widgets over `period` (formulas in `docs/metrics.md`).
///
/// # Errors
/// A store error (a deal whose stored properties are not JSON among them).
pub async fn dashboard(
    store: &Store,
    portal: &str,
    dashboard: &Dashboard,
    period: Period,
) -> Result<DashboardOutput, Error> {
    let filter = dashboard_filter(&period);
    // One pass over the contacts for every widget but the pipeline.
    let rows = store
        .contact_counts(portal, &filter, &["icp_type", "session_id"])
        .await?;
    let mut widgets = Vec::new();
    for name in &dashboard.widgets {
        let Some(known) = WIDGETS.iter().find(|w| w.eq_ignore_ascii_case(name)) else {
            continue;
        };
        let value = match *known {
            "Total Leads Generated (30 days)" | "Average Response Rate" => {
                let t = tally_by(&rows, None).remove(&None).unwrap_or_default();
                if known.starts_with("Total") {
                    Value::Count { count: t.contacts }
                } else {
                    Value::ratio(t.responded, t.contacts)
                }
            }
            "Top Performing ICP" => top_icp(&tally_by(&rows, Some(0))),
            "Session Productivity Score" => {
                let sessions = tally_by(&rows, Some(1));
                let (count, qualified) = sessions
                    .iter()
                    .filter(|(s, t)| s.is_some() && t.contacts > 0)
                    .fold((0, 0), |(n, q), (_, t)| (n + 1, q + t.qualified));
                Value::average(qualified as f64, count)
            }
            _ => {
                let deals = store
                    .deals_of_contacts(portal, &filter, period.from_ms, period.until_ms)
                    .await?;
                let mut cents = 0i64;
                let mut without = 0;
                for d in &deals {
                    match d.amount.as_deref().and_then(amount_cents) {
                        Some(c) => cents = cents.saturating_add(c),
                        None => without += 1,
                    }
                }
                Value::Money {
                    cents,
                    deals: deals.len() as i64,
                    without_amount: without,
                }
            }
        };
        widgets.push(Figure::new(name, value));
    }
    Ok(DashboardOutput {
        key: dashboard.key.clone(),
        name: dashboard.name.clone(),
        period,
        widgets,
    })
}

/// The ICP type with the highest response rate; ties go to the one with more contacts,
/// then to the first by name. Contacts without an ICP type take no part.
pub fn top_icp(by_icp: &BTreeMap<Option<String>, Tally>) -> Value {
    let mut best: Option<(&str, &Tally)> = None;
    for (icp, t) in by_icp {
        let Some(icp) = icp.as_deref() else { continue };
        if t.contacts == 0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((_, b)) => {
                // Compare responded/contacts exactly by cross-multiplying.
                let (l, r) = (
                    i128::from(t.responded) * i128::from(b.contacts),
                    i128::from(b.responded) * i128::from(t.contacts),
                );
                l > r || (l == r && t.contacts > b.contacts)
            }
        };
        if better {
            best = Some((icp, t));
        }
    }
    match best {
        Some((label, t)) => Value::Winner {
            label: label.to_owned(),
            numerator: t.responded,
            denominator: t.contacts,
        },
        None => Value::NoData,
    }
}
