//! Running a report or a dashboard: the store's counts through the formulas, into
//! figures, breakdowns, charts and panels (`docs/metrics.md` writes every one out).
//!
//! Each part is one grouped read of the store (`Store::contact_counts`, `bucket_counts`,
//! `changes_into`, `distinct_counts`, `deals_of_contacts`); nothing here reads contacts one
//! by one. It knows no SQL and reads no clock: the period carries "now".

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use leadflow_config::reports::{DASHBOARD_REPORTS, Dashboard, WIDGETS};
use leadflow_store::{Axis, ContactCounts, ContactFilter, Store};
use serde::Serialize;

use crate::Error;
use crate::chart::{Chart, ChartKind, Point, Series, Unit};
use crate::metrics::{Funnel, Metric, QUALIFIED, RESPONDED, Tally, Value, amount_cents};
use crate::spec::{ChartSpec, Filters, Period, ReportSpec};

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
    /// The filters as written (the `created_date` one replaced by the period), then the
    /// reader's filters.
    pub filters: Vec<String>,
    /// The metrics over every contact of the report.
    pub metrics: Vec<Figure>,
    /// The metrics per breakdown.
    pub breakdowns: Vec<Breakdown>,
    /// The charts, in the configuration's order.
    pub charts: Vec<Chart>,
}

/// One of a dashboard's reports: its figures and its chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Panel {
    /// The catalogue name ("Manual Outreach Performance").
    pub name: String,
    /// Its numbers.
    pub figures: Vec<Figure>,
    /// Its chart.
    pub chart: Chart,
}

/// A computed dashboard: its widgets and its reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DashboardOutput {
    /// Its key in `reports.yaml`.
    pub key: String,
    /// Its name.
    pub name: String,
    /// The period counted.
    pub period: Period,
    /// The reader's filters.
    pub filters: Filters,
    /// The widgets, in the configuration's order.
    pub widgets: Vec<Figure>,
    /// The reports, in the configuration's order.
    pub panels: Vec<Panel>,
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

fn overall(rows: &[ContactCounts]) -> Tally {
    tally_by(rows, None).remove(&None).unwrap_or_default()
}

/// The groups of the `i`th grouping property, valued ones first by value, no value last
/// (`None` sorts first in a `BTreeMap`; readers expect it last).
fn groups(rows: &[ContactCounts], i: usize) -> Vec<(Option<String>, Tally)> {
    let (valued, unvalued): (Vec<_>, Vec<_>) = tally_by(rows, Some(i))
        .into_iter()
        .partition(|(v, _)| v.is_some());
    valued.into_iter().chain(unvalued).collect()
}

fn point(label: &str, value: &Value) -> Point {
    Point {
        label: label.to_owned(),
        value: value.number(),
        display: value.point_display(),
    }
}

fn group_label(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("(none)")
}

fn unit(metric: Metric) -> Unit {
    match metric {
        Metric::TotalContactsCreated | Metric::IcpFitScoreAverage => Unit::Count,
        _ => Unit::Ratio,
    }
}

/// A bar chart of `metrics`, one series each, with a point per group.
fn chart_by(
    name: &str,
    x_label: &str,
    groups: &[(Option<String>, Tally)],
    metrics: &[Metric],
) -> Chart {
    Chart {
        name: name.to_owned(),
        kind: ChartKind::Bar,
        unit: metrics.first().map_or(Unit::Ratio, |m| unit(*m)),
        x_label: x_label.to_owned(),
        y_label: match metrics {
            [one] => one.name().to_owned(),
            _ => "Rate".to_owned(),
        },
        series: metrics
            .iter()
            .map(|m| Series {
                name: m.name().to_owned(),
                points: groups
                    .iter()
                    .map(|(v, t)| point(group_label(v), &t.value(*m)))
                    .collect(),
            })
            .collect(),
    }
}

fn count_point(label: &str, count: i64) -> Point {
    point(label, &Value::Count { count })
}

/// Lead score buckets: `[1, 11)`, `[11, 21)`, … `[91, 101)`.
const SCORE_BOUNDS: [i64; 11] = [1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 101];

async fn score_distribution(
    store: &Store,
    portal: &str,
    filter: &ContactFilter,
    total: i64,
) -> Result<Chart, Error> {
    let rows = store
        .bucket_counts(portal, filter, Axis::LeadScore, &SCORE_BOUNDS, &[])
        .await?;
    let count = |b: Option<usize>| {
        rows.iter()
            .filter(|r| r.bucket == b)
            .map(|r| r.contacts)
            .sum::<i64>()
    };
    let mut points: Vec<Point> = SCORE_BOUNDS
        .windows(2)
        .enumerate()
        .map(|(i, w)| count_point(&format!("{}-{}", w[0], w[1] - 1), count(Some(i))))
        .collect();
    let without = count(None);
    let bucketed: i64 = rows.iter().map(|r| r.contacts).sum();
    points.push(count_point("no score", without));
    // Scores outside 1-100 (written to HubSpot by hand) are shown, not dropped.
    let outside = total - bucketed;
    if outside != 0 {
        points.push(count_point("outside 1-100", outside));
    }
    Ok(Chart {
        name: "Lead Score Distribution".to_owned(),
        kind: ChartKind::Bar,
        unit: Unit::Count,
        x_label: "Lead Score".to_owned(),
        y_label: "Contacts".to_owned(),
        series: vec![Series {
            name: "Contacts".to_owned(),
            points,
        }],
    })
}

fn date_of(ms: i64, period: &Period) -> Result<Date, Error> {
    let ts = Timestamp::from_millisecond(ms).map_err(|_| Error::BadPeriod(ms.to_string()))?;
    Ok(ts.to_zoned(period.zone.clone()).date())
}

fn start_of(day: Date, period: &Period) -> Result<i64, Error> {
    Ok(day
        .to_zoned(period.zone.clone())
        .map_err(|_| Error::BadPeriod(day.to_string()))?
        .timestamp()
        .as_millisecond())
}

/// The local days of the period (the first one from the period's start) and their bounds:
/// `bounds[i]..bounds[i + 1]` is day `i`.
fn days(period: &Period) -> Result<(Vec<Date>, Vec<i64>), Error> {
    let first = date_of(period.from_ms, period)?;
    let last = date_of((period.end_ms() - 1).max(period.from_ms), period)?;
    let mut days = Vec::new();
    let mut bounds = vec![period.from_ms];
    let mut day = first;
    while day <= last {
        days.push(day);
        day = day
            .tomorrow()
            .map_err(|_| Error::BadPeriod(day.to_string()))?;
        bounds.push(start_of(day, period)?);
    }
    Ok((days, bounds))
}

async fn activity_timeline(
    store: &Store,
    portal: &str,
    filter: &ContactFilter,
    period: &Period,
) -> Result<Chart, Error> {
    let (days, bounds) = days(period)?;
    let created = store
        .bucket_counts(portal, filter, Axis::Created, &bounds, &[])
        .await?;
    let responses = store
        .changes_into(portal, filter, "response_status", &RESPONDED, &bounds)
        .await?;
    let qualifications = store
        .changes_into(portal, filter, "qualification_status", &QUALIFIED, &bounds)
        .await?;
    let mut per_day = vec![0; days.len()];
    for r in &created {
        if let Some(slot) = r.bucket.and_then(|b| per_day.get_mut(b)) {
            *slot = r.contacts;
        }
    }
    let series = |name: &str, counts: &[i64]| Series {
        name: name.to_owned(),
        points: days
            .iter()
            .zip(counts)
            .map(|(d, n)| count_point(&d.to_string(), *n))
            .collect(),
    };
    Ok(Chart {
        name: "Activity Timeline".to_owned(),
        kind: ChartKind::Line,
        unit: Unit::Count,
        x_label: "Day".to_owned(),
        y_label: "Contacts".to_owned(),
        series: vec![
            series("Contacts Created", &per_day),
            series("Responses Received", &responses),
            series("Qualifications", &qualifications),
        ],
    })
}

/// Computes a report over `period`, narrowed by `filters` (a reader's campaign tag and ICP
/// type; `Filters::default()` for none): its metrics overall and per breakdown (only `by`
/// when given, an internal name from [`ReportSpec::breakdown`]), and its charts.
///
/// # Errors
/// A store error; [`Error::BadPeriod`] when the period's days fall outside jiff's calendar.
pub async fn report(
    store: &Store,
    portal: &str,
    spec: &ReportSpec,
    period: Period,
    by: Option<&str>,
    filters: &Filters,
) -> Result<ReportOutput, Error> {
    let filter = filters.narrow(spec.filter(&period));
    // One grouped read for the metrics, every breakdown and every "<metric> by <property>"
    // chart: counts grouped by all their properties at once, summed here per property.
    let mut properties: Vec<&str> = spec
        .breakdowns
        .iter()
        .map(String::as_str)
        .filter(|p| by.is_none_or(|b| b == *p))
        .collect();
    let breakdown_count = properties.len();
    for p in spec.chart_properties() {
        if !properties.contains(&p) {
            properties.push(p);
        }
    }
    let rows = store.contact_counts(portal, &filter, &properties).await?;
    let total = overall(&rows);
    let breakdowns = properties[..breakdown_count]
        .iter()
        .enumerate()
        .map(|(i, property)| Breakdown {
            property: (*property).to_owned(),
            groups: groups(&rows, i)
                .into_iter()
                .map(|(value, t)| Group {
                    value,
                    metrics: figures(spec, &t),
                })
                .collect(),
        })
        .collect();
    let mut charts = Vec::new();
    for c in &spec.charts {
        charts.push(match c {
            ChartSpec::ByProperty {
                name,
                metric,
                property,
                label,
            } => {
                let i = properties
                    .iter()
                    .position(|p| p == property)
                    .unwrap_or_default();
                chart_by(name, label, &groups(&rows, i), &[*metric])
            }
            ChartSpec::ScoreDistribution => {
                score_distribution(store, portal, &filter, total.contacts).await?
            }
            ChartSpec::ActivityTimeline => {
                activity_timeline(store, portal, &filter, &period).await?
            }
        });
    }
    let filters = spec
        .filters
        .iter()
        .filter(|f| !f.contains(">="))
        .cloned()
        .chain([format!("created_date >= {}", period.from)])
        .chain(
            filters
                .equals()
                .into_iter()
                .map(|(p, v)| format!("{p} == '{v}'")),
        )
        .collect();
    Ok(ReportOutput {
        key: spec.key.clone(),
        name: spec.name.clone(),
        metrics: figures(spec, &total),
        period,
        filters,
        breakdowns,
        charts,
    })
}

/// The contacts every dashboard widget and panel counts: outbound leads created in the
/// period.
pub fn dashboard_filter(period: &Period) -> ContactFilter {
    ContactFilter {
        equals: vec![("lead_source".to_owned(), "Outbound".to_owned())],
        created_from: Some(period.from_ms),
        created_until: period.until_ms,
    }
}

/// Which outbound contacts a workflow's campaign tags start with (the spec's Workflows 1
/// and 2 triggers, "Manual Outreach - [Date]" and "Automated Outreach - [Campaign]").
const MANUAL: &str = "Manual Outreach";
const AUTOMATED: &str = "Automated Outreach";

/// The dashboard's grouping: by ICP type and campaign tag (message strategy too, only so
/// the store can read its covering index in order).
const DASHBOARD_GROUPS: [&str; 3] = ["icp_type", "campaign_tag", "message_strategy"];

/// Computes a dashboard's widgets and reports over `period`, narrowed by `filters` (a
/// reader's campaign tag and ICP type; `Filters::default()` for none; formulas in
/// `docs/metrics.md`).
///
/// # Errors
/// A store error (a deal whose stored properties are not JSON among them).
pub async fn dashboard(
    store: &Store,
    portal: &str,
    dashboard: &Dashboard,
    period: Period,
    filters: &Filters,
) -> Result<DashboardOutput, Error> {
    let filter = filters.narrow(dashboard_filter(&period));
    // One grouped read for every widget and report but the pipeline, the sessions and
    // the weekly trend.
    let rows = store
        .contact_counts(portal, &filter, &DASHBOARD_GROUPS)
        .await?;
    let total = overall(&rows);
    let mut widgets = Vec::new();
    for name in &dashboard.widgets {
        let Some(known) = WIDGETS.iter().find(|w| w.eq_ignore_ascii_case(name)) else {
            continue;
        };
        let value = match *known {
            "Total Leads Generated (30 days)" => Value::Count {
                count: total.contacts,
            },
            "Average Response Rate" => Value::ratio(total.responded, total.contacts),
            "Top Performing ICP" => top_icp(&tally_by(&rows, Some(0))),
            "Session Productivity Score" => {
                let s = store
                    .distinct_counts(
                        portal,
                        &filter,
                        "session_id",
                        ("qualification_status", &QUALIFIED),
                    )
                    .await?;
                Value::average(s.matching as f64, s.values)
            }
            _ => pipeline(store, portal, &filter, &period).await?,
        };
        widgets.push(Figure::new(name, value));
    }
    let mut panels = Vec::new();
    for name in &dashboard.reports {
        let Some(known) = DASHBOARD_REPORTS
            .iter()
            .find(|w| w.eq_ignore_ascii_case(name))
        else {
            continue;
        };
        panels.push(match *known {
            "Manual Outreach Performance" => outreach(known, &rows, MANUAL),
            "Automated Outreach Performance" => outreach(known, &rows, AUTOMATED),
            "ICP Performance Comparison" => icp_comparison(known, &rows),
            "Response Rate Trends" => trends(known, store, portal, filters, &period).await?,
            _ => funnel(known, &rows),
        });
    }
    Ok(DashboardOutput {
        key: dashboard.key.clone(),
        name: dashboard.name.clone(),
        period,
        filters: filters.clone(),
        widgets,
        panels,
    })
}

async fn pipeline(
    store: &Store,
    portal: &str,
    filter: &ContactFilter,
    period: &Period,
) -> Result<Value, Error> {
    let deals = store
        .deals_of_contacts(portal, filter, period.from_ms, period.until_ms)
        .await?;
    let mut cents = 0i64;
    let mut without = 0;
    for d in &deals {
        match d.amount.as_deref().and_then(amount_cents) {
            Some(c) => cents = cents.saturating_add(c),
            None => without += 1,
        }
    }
    Ok(Value::Money {
        cents,
        deals: deals.len() as i64,
        without_amount: without,
    })
}

const OUTREACH_METRICS: [Metric; 3] = [
    Metric::ResponseRate,
    Metric::QualificationRate,
    Metric::MeetingConversionRate,
];

/// Manual or Automated Outreach Performance: the contacts whose campaign tag starts with
/// `prefix`, overall and per tag.
fn outreach(name: &str, rows: &[ContactCounts], prefix: &str) -> Panel {
    let tagged: Vec<ContactCounts> = rows
        .iter()
        .filter(|r| {
            r.groups
                .get(1)
                .and_then(Option::as_deref)
                .is_some_and(|t| t.starts_with(prefix))
        })
        .cloned()
        .collect();
    let total = overall(&tagged);
    let figures = [Metric::TotalContactsCreated]
        .into_iter()
        .chain(OUTREACH_METRICS)
        .map(|m| Figure::new(m.name(), total.value(m)))
        .collect();
    Panel {
        name: name.to_owned(),
        figures,
        chart: chart_by(name, "Campaign Tag", &groups(&tagged, 1), &OUTREACH_METRICS),
    }
}

/// ICP Performance Comparison: response and qualification rate per ICP type.
fn icp_comparison(name: &str, rows: &[ContactCounts]) -> Panel {
    let total = overall(rows);
    Panel {
        name: name.to_owned(),
        figures: vec![
            Figure::new("Top Performing ICP", top_icp(&tally_by(rows, Some(0)))),
            Figure::new(
                Metric::ResponseRate.name(),
                total.value(Metric::ResponseRate),
            ),
            Figure::new(
                Metric::QualificationRate.name(),
                total.value(Metric::QualificationRate),
            ),
        ],
        chart: chart_by(
            name,
            "ICP Type",
            &groups(rows, 0),
            &[Metric::ResponseRate, Metric::QualificationRate],
        ),
    }
}

/// How many weeks Response Rate Trends shows.
const TREND_WEEKS: i64 = 12;

/// Response Rate Trends: the response rate of the outbound contacts created in each of the
/// last 12 ISO weeks (Monday to Sunday in the project's time zone), this week included.
async fn trends(
    name: &str,
    store: &Store,
    portal: &str,
    filters: &Filters,
    period: &Period,
) -> Result<Panel, Error> {
    let bad = |d: Date| Error::BadPeriod(d.to_string());
    let today = date_of(period.end_ms() - 1, period)?;
    let monday = today
        .checked_sub(i64::from(today.weekday().to_monday_zero_offset()).days())
        .map_err(|_| bad(today))?;
    let first = monday
        .checked_sub((TREND_WEEKS - 1).weeks())
        .map_err(|_| bad(monday))?;
    let mut weeks = Vec::new();
    let mut bounds = Vec::new();
    for k in 0..=TREND_WEEKS {
        let day = first.checked_add(k.weeks()).map_err(|_| bad(first))?;
        weeks.push(day);
        bounds.push(start_of(day, period)?);
    }
    weeks.pop();
    let filter = filters.narrow(ContactFilter {
        created_from: bounds.first().copied(),
        ..dashboard_filter(period)
    });
    let rows = store
        .bucket_counts(
            portal,
            &filter,
            Axis::Created,
            &bounds,
            &[("response_status", &RESPONDED)],
        )
        .await?;
    let mut per_week = vec![(0i64, 0i64); weeks.len()];
    for r in &rows {
        if let Some(slot) = r.bucket.and_then(|b| per_week.get_mut(b)) {
            *slot = (r.matching.first().copied().unwrap_or_default(), r.contacts);
        }
    }
    let points = weeks
        .iter()
        .zip(&per_week)
        .map(|(w, (responded, contacts))| {
            let iso = w.iso_week_date();
            point(
                &format!("{}-W{:02}", iso.year(), iso.week()),
                &Value::ratio(*responded, *contacts),
            )
        })
        .collect();
    let (responded, contacts) = per_week
        .iter()
        .fold((0, 0), |(r, c), (wr, wc)| (r + wr, c + wc));
    let (last_responded, last_contacts) = per_week.last().copied().unwrap_or_default();
    Ok(Panel {
        name: name.to_owned(),
        figures: vec![
            Figure::new(
                "Response Rate (this week)",
                Value::ratio(last_responded, last_contacts),
            ),
            Figure::new(
                "Response Rate (12 weeks)",
                Value::ratio(responded, contacts),
            ),
        ],
        chart: Chart {
            name: name.to_owned(),
            kind: ChartKind::Line,
            unit: Unit::Ratio,
            x_label: "ISO Week".to_owned(),
            y_label: Metric::ResponseRate.name().to_owned(),
            series: vec![Series {
                name: Metric::ResponseRate.name().to_owned(),
                points,
            }],
        },
    })
}

/// Lead Qualification Funnel: contacts → responded → interested or better → qualified →
/// meeting scheduled, each stage within the one before.
fn funnel(name: &str, rows: &[ContactCounts]) -> Panel {
    let mut f = Funnel::default();
    for r in rows {
        f.add(r);
    }
    let counts = f.counts();
    let mut figures: Vec<Figure> = Funnel::STAGES
        .iter()
        .zip(counts)
        .map(|(stage, count)| Figure::new(stage, Value::Count { count }))
        .collect();
    figures.push(Figure::new(
        "Contacts to Meetings",
        Value::ratio(f.meetings, f.contacts),
    ));
    let points = Funnel::STAGES
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            let count = counts[i];
            let mut p = count_point(stage, count);
            if let Some(before) = i.checked_sub(1).map(|b| counts[b]).filter(|b| *b > 0) {
                let of = Value::ratio(count, before);
                p.display = format!("{count} ({} of the stage before)", of.display());
            }
            p
        })
        .collect();
    Panel {
        name: name.to_owned(),
        figures,
        chart: Chart {
            name: name.to_owned(),
            kind: ChartKind::Funnel,
            unit: Unit::Count,
            x_label: "Stage".to_owned(),
            y_label: "Contacts".to_owned(),
            series: vec![Series {
                name: "Contacts".to_owned(),
                points,
            }],
        },
    }
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
