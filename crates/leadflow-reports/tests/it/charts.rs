//! The report's charts and the dashboard's panels against an independent computation over
//! the generated contacts and their change history, in a time zone with a DST change in
//! the period (New York, 2026-03-08), on SQLite and on PostgreSQL; reader filters; a
//! period with no data.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use leadflow_reports::{Chart, Filters, Panel, Period, Since, Value};

use super::*;

fn new_york() -> TimeZone {
    TimeZone::get("America/New_York").unwrap()
}

fn local_day(ms: i64) -> Date {
    Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(new_york())
        .date()
}

fn day_start(day: Date) -> i64 {
    day.to_zoned(new_york())
        .unwrap()
        .timestamp()
        .as_millisecond()
}

fn is_responded(v: Option<&String>) -> bool {
    matches!(
        v.map(String::as_str),
        Some("Interested" | "Not Interested" | "Meeting Scheduled")
    )
}

fn is_qualified(v: Option<&String>) -> bool {
    matches!(v.map(String::as_str), Some("Qualified" | "Hot Lead"))
}

/// A ratio as a chart point carries it: the fraction, and `(n/d)` in its display.
fn ratio_point(label: &str, n: usize, d: usize) -> (String, Option<f64>, String) {
    if d == 0 {
        (label.to_owned(), None, "no data".to_owned())
    } else {
        (
            label.to_owned(),
            Some(n as f64 / d as f64),
            format!("({n}/{d})"),
        )
    }
}

fn count_point(label: &str, n: usize) -> (String, Option<f64>, String) {
    (label.to_owned(), Some(n as f64), n.to_string())
}

/// A series' points as (label, value, display), the display cut to what `ratio_point`
/// expects (its `(n/d)` part for ratios).
fn points(chart: &Chart, series: &str) -> Vec<(String, Option<f64>, String)> {
    let s = chart
        .series
        .iter()
        .find(|s| s.name == series)
        .unwrap_or_else(|| panic!("no series {series} in {chart:?}"));
    s.points
        .iter()
        .map(|p| {
            let display = match p.display.find('(') {
                Some(i) if p.display.ends_with(')') && p.display.contains('/') => {
                    p.display[i..].to_owned()
                }
                _ => p.display.clone(),
            };
            (p.label.clone(), p.value, display)
        })
        .collect()
}

/// Contacts grouped by a property's value, valued groups first, no value last, as
/// `(label, contacts)`.
fn grouped<'a>(set: &[&'a Contact], property: &str) -> Vec<(String, Vec<&'a Contact>)> {
    let mut by: BTreeMap<Option<String>, Vec<&Contact>> = BTreeMap::new();
    for c in set {
        by.entry(c.props.get(property).cloned())
            .or_default()
            .push(c);
    }
    let none = by.remove(&None);
    by.into_iter()
        .map(|(k, v)| (k.unwrap_or_default(), v))
        .chain(none.map(|v| ("(none)".to_owned(), v)))
        .collect()
}

fn count(set: &[&Contact], f: impl Fn(&Contact) -> bool) -> usize {
    set.iter().filter(|c| f(c)).count()
}

fn responded(c: &Contact) -> bool {
    is_responded(c.props.get("response_status"))
}

fn qualified(c: &Contact) -> bool {
    is_qualified(c.props.get("qualification_status"))
}

fn meeting(c: &Contact) -> bool {
    c.props.get("response_status").map(String::as_str) == Some("Meeting Scheduled")
}

/// Changes of `property` into a value `into` accepts from one it does not, per local day.
fn changes_per_day(
    set: &[&Contact],
    property: &str,
    into: impl Fn(Option<&String>) -> bool,
) -> BTreeMap<Date, usize> {
    let mut out = BTreeMap::new();
    for c in set {
        for w in c.history.windows(2) {
            let (before, (at, after)) = (&w[0].1, &w[1]);
            if into(after.get(property)) && !into(before.get(property)) {
                *out.entry(local_day(*at)).or_default() += 1;
            }
        }
    }
    out
}

fn chart<'a>(charts: &'a [Chart], name: &str) -> &'a Chart {
    charts
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no chart {name}"))
}

#[tokio::test]
async fn the_reports_charts_equal_an_independent_computation() {
    on_both("report_charts", |store| async move {
        let (report, schema) = report_config();
        let spec = ReportSpec::from_config(&report, &schema).unwrap();
        let period = Period::since(Since::Days(30), now(), &new_york()).unwrap();
        let (contacts, deals) = generate(3000, 11, period.from_ms);
        load(&store, &contacts, &deals).await;
        let out = leadflow_reports::report(&store, "p", &spec, period.clone(), None, &none())
            .await
            .unwrap();
        let names: Vec<&str> = out.charts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, report.charts);
        let set = in_report(&contacts, period.from_ms);

        // Response Rate by ICP Type; Qualification Rate by Campaign.
        let want: Vec<_> = grouped(&set, "icp_type")
            .iter()
            .map(|(l, g)| ratio_point(l, count(g, responded), g.len()))
            .collect();
        let by_icp = chart(&out.charts, "Response Rate by ICP Type");
        assert_eq!(points(by_icp, "Response Rate"), want);
        assert_eq!(by_icp.x_label, "ICP Type");
        let want: Vec<_> = grouped(&set, "campaign_tag")
            .iter()
            .map(|(l, g)| ratio_point(l, count(g, qualified), g.len()))
            .collect();
        assert!(want.len() >= 6, "{want:?}");
        let by_campaign = chart(&out.charts, "Qualification Rate by Campaign");
        assert_eq!(points(by_campaign, "Qualification Rate"), want);

        // Lead Score Distribution: ten buckets, no score, outside 1-100.
        let score = |c: &Contact| c.props.get("lead_score").map(|s| s.parse::<i64>().unwrap());
        let mut want: Vec<_> = (0..10)
            .map(|b| {
                let n = count(&set, |c| {
                    score(c).is_some_and(|s| (1..=100).contains(&s) && (s - 1) / 10 == b)
                });
                count_point(&format!("{}-{}", b * 10 + 1, b * 10 + 10), n)
            })
            .collect();
        want.push(count_point("no score", count(&set, |c| score(c).is_none())));
        let outside = count(&set, |c| score(c).is_some_and(|s| !(1..=100).contains(&s)));
        assert!(outside > 0, "the generated data has scores outside 1-100");
        want.push(count_point("outside 1-100", outside));
        assert_eq!(
            points(chart(&out.charts, "Lead Score Distribution"), "Contacts"),
            want
        );

        // Activity Timeline: every local day of the period, across the DST change.
        let first = local_day(period.from_ms);
        let today = local_day(now().as_millisecond());
        assert_eq!(first, jiff::civil::date(2026, 2, 13));
        let mut days = Vec::new();
        let mut d = first;
        while d <= today {
            days.push(d);
            d = d.tomorrow().unwrap();
        }
        assert_eq!(days.len(), 31);
        let mut created: BTreeMap<Date, usize> = BTreeMap::new();
        for c in &set {
            *created.entry(local_day(c.created_at.unwrap())).or_default() += 1;
        }
        let responses = changes_per_day(&set, "response_status", is_responded);
        let qualifications = changes_per_day(&set, "qualification_status", is_qualified);
        assert!(responses.values().sum::<usize>() > 100, "{responses:?}");
        let timeline = chart(&out.charts, "Activity Timeline");
        for (series, per_day) in [
            ("Contacts Created", &created),
            ("Responses Received", &responses),
            ("Qualifications", &qualifications),
        ] {
            let want: Vec<_> = days
                .iter()
                .map(|d| count_point(&d.to_string(), per_day.get(d).copied().unwrap_or(0)))
                .collect();
            assert_eq!(points(timeline, series), want, "{series}");
            // Nothing happened outside the period's days.
            assert!(per_day.keys().all(|d| days.contains(d)), "{series}");
        }
    })
    .await;
}

/// The figures of a panel by name.
fn figure<'a>(panel: &'a Panel, name: &str) -> &'a Value {
    &panel
        .figures
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no {name} in {panel:?}"))
        .value
}

fn ratio(n: usize, d: usize) -> Value {
    Value::ratio(n as i64, d as i64)
}

#[tokio::test]
async fn the_dashboards_panels_equal_an_independent_computation() {
    on_both("dashboard_panels", |store| async move {
        let period = Period::since(Since::Days(30), now(), &new_york()).unwrap();
        let (contacts, deals) = generate(2500, 5, period.from_ms);
        load(&store, &contacts, &deals).await;
        let dashboard = project().reports.dashboards[0].clone();
        let out = leadflow_reports::dashboard(&store, "p", &dashboard, period.clone(), &none())
            .await
            .unwrap();
        let names: Vec<&str> = out.panels.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, leadflow_config::reports::DASHBOARD_REPORTS);
        let panel = |name: &str| out.panels.iter().find(|p| p.name == name).unwrap();
        let set = in_report(&contacts, period.from_ms);

        // Manual and Automated Outreach Performance.
        for (name, prefix) in [
            ("Manual Outreach Performance", "Manual Outreach"),
            ("Automated Outreach Performance", "Automated Outreach"),
        ] {
            let tagged: Vec<&Contact> = set
                .iter()
                .copied()
                .filter(|c| {
                    c.props
                        .get("campaign_tag")
                        .is_some_and(|t| t.starts_with(prefix))
                })
                .collect();
            assert!(tagged.len() > 100, "{name}");
            let p = panel(name);
            let n = tagged.len();
            let r = count(&tagged, responded);
            assert_eq!(
                figure(p, "Total Contacts Created"),
                &Value::Count { count: n as i64 }
            );
            assert_eq!(figure(p, "Response Rate"), &ratio(r, n));
            assert_eq!(
                figure(p, "Qualification Rate"),
                &ratio(count(&tagged, qualified), n)
            );
            assert_eq!(
                figure(p, "Meeting Conversion Rate"),
                &ratio(count(&tagged, meeting), r)
            );
            let groups = grouped(&tagged, "campaign_tag");
            assert_eq!(groups.len(), 2, "{name}: two tags each");
            for (series, numerator) in [
                ("Response Rate", &responded as &dyn Fn(&Contact) -> bool),
                ("Qualification Rate", &qualified),
            ] {
                let want: Vec<_> = groups
                    .iter()
                    .map(|(l, g)| ratio_point(l, count(g, numerator), g.len()))
                    .collect();
                assert_eq!(points(&p.chart, series), want, "{name} {series}");
            }
            let want: Vec<_> = groups
                .iter()
                .map(|(l, g)| ratio_point(l, count(g, meeting), count(g, responded)))
                .collect();
            assert_eq!(points(&p.chart, "Meeting Conversion Rate"), want, "{name}");
        }

        // ICP Performance Comparison: two series per ICP type.
        let p = panel("ICP Performance Comparison");
        let groups = grouped(&set, "icp_type");
        for (series, numerator) in [
            ("Response Rate", &responded as &dyn Fn(&Contact) -> bool),
            ("Qualification Rate", &qualified),
        ] {
            let want: Vec<_> = groups
                .iter()
                .map(|(l, g)| ratio_point(l, count(g, numerator), g.len()))
                .collect();
            assert_eq!(points(&p.chart, series), want, "{series}");
        }
        assert_eq!(
            figure(p, "Response Rate"),
            &ratio(count(&set, responded), set.len())
        );
        let widget = out
            .widgets
            .iter()
            .find(|w| w.name == "Top Performing ICP")
            .unwrap();
        assert_eq!(figure(p, "Top Performing ICP"), &widget.value);

        // Response Rate Trends: the last 12 ISO weeks, Monday to Sunday in New York.
        let today = local_day(now().as_millisecond());
        let monday = today
            .checked_sub((today.weekday().to_monday_zero_offset() as i64).days())
            .unwrap();
        let outbound: Vec<&Contact> = contacts
            .iter()
            .filter(|c| {
                !c.archived && c.props.get("lead_source").map(String::as_str) == Some("Outbound")
            })
            .collect();
        let mut want = Vec::new();
        let (mut all_r, mut all_n) = (0, 0);
        let mut last = Value::NoData;
        for k in (0..12).rev() {
            let start = monday.checked_sub((k as i64).weeks()).unwrap();
            let end = start.checked_add(1.week()).unwrap();
            let week: Vec<&Contact> = outbound
                .iter()
                .copied()
                .filter(|c| {
                    c.created_at
                        .is_some_and(|t| t >= day_start(start) && t < day_start(end))
                })
                .collect();
            let r = count(&week, responded);
            let iso = start.iso_week_date();
            want.push(ratio_point(
                &format!("{}-W{:02}", iso.year(), iso.week()),
                r,
                week.len(),
            ));
            all_r += r;
            all_n += week.len();
            last = ratio(r, week.len());
        }
        let p = panel("Response Rate Trends");
        assert_eq!(points(&p.chart, "Response Rate"), want);
        assert_eq!(want[11].0, "2026-W11");
        assert!(
            want[0].1.is_none(),
            "weeks before the generated data have no data"
        );
        assert_eq!(figure(p, "Response Rate (12 weeks)"), &ratio(all_r, all_n));
        assert_eq!(figure(p, "Response Rate (this week)"), &last);

        // Lead Qualification Funnel: each stage within the one before.
        let interested = |c: &Contact| {
            matches!(
                c.props.get("response_status").map(String::as_str),
                Some("Interested" | "Meeting Scheduled")
            )
        };
        let stages = [
            set.len(),
            count(&set, responded),
            count(&set, interested),
            count(&set, |c| interested(c) && qualified(c)),
            count(&set, |c| meeting(c) && qualified(c)),
        ];
        let p = panel("Lead Qualification Funnel");
        let got: Vec<Option<f64>> = p.chart.series[0].points.iter().map(|p| p.value).collect();
        let want: Vec<Option<f64>> = stages.iter().map(|n| Some(*n as f64)).collect();
        assert_eq!(got, want);
        assert!(stages.windows(2).all(|w| w[0] >= w[1]) && stages[4] > 0);
        assert_eq!(
            figure(p, "Meeting Scheduled"),
            &Value::Count {
                count: stages[4] as i64
            }
        );
        assert_eq!(
            figure(p, "Contacts to Meetings"),
            &ratio(stages[4], stages[0])
        );

        // The reader's filters: one campaign tag and one ICP type.
        let filters = Filters {
            campaign: Some("Spring".to_owned()),
            icp_type: Some("ICP-A".to_owned()),
        };
        let narrowed: Vec<&Contact> = set
            .iter()
            .copied()
            .filter(|c| {
                c.props.get("campaign_tag").map(String::as_str) == Some("Spring")
                    && c.props.get("icp_type").map(String::as_str) == Some("ICP-A")
            })
            .collect();
        assert!(narrowed.len() > 10);
        let out = leadflow_reports::dashboard(&store, "p", &dashboard, period.clone(), &filters)
            .await
            .unwrap();
        assert_eq!(
            out.widgets[0].value,
            Value::Count {
                count: narrowed.len() as i64
            }
        );
        assert_eq!(
            out.widgets[1].value,
            ratio(count(&narrowed, responded), narrowed.len())
        );
        let (report, schema) = report_config();
        let spec = ReportSpec::from_config(&report, &schema).unwrap();
        let r = leadflow_reports::report(&store, "p", &spec, period, None, &filters)
            .await
            .unwrap();
        assert_eq!(values(&r.metrics), expected(&narrowed));
        assert!(
            r.filters.contains(&"campaign_tag == 'Spring'".to_owned()),
            "{:?}",
            r.filters
        );
    })
    .await;
}

#[tokio::test]
async fn a_period_without_data_shows_no_data_in_every_chart_and_panel() {
    on_both("no_data", |store| async move {
        let period = Period::since(Since::Days(30), now(), &new_york()).unwrap();
        let (contacts, deals) = generate(300, 3, period.from_ms);
        load(&store, &contacts, &deals).await;
        let (report, schema) = report_config();
        let spec = ReportSpec::from_config(&report, &schema).unwrap();
        // Another portal: the same store, nothing in it.
        let out = leadflow_reports::report(&store, "other", &spec, period.clone(), None, &none())
            .await
            .unwrap();
        let shown = serde_json::to_string(&out).unwrap();
        assert!(!shown.contains("NaN") && !shown.contains("inf"), "{shown}");
        assert!(chart(&out.charts, "Response Rate by ICP Type").is_empty());
        assert!(chart(&out.charts, "Qualification Rate by Campaign").is_empty());
        for name in ["Lead Score Distribution", "Activity Timeline"] {
            let c = chart(&out.charts, name);
            for s in &c.series {
                assert!(!s.points.is_empty(), "{name}: every bucket is shown");
                assert!(
                    s.points
                        .iter()
                        .all(|p| p.value == Some(0.0) && p.display == "0")
                );
            }
        }
        let dashboard = project().reports.dashboards[0].clone();
        let out = leadflow_reports::dashboard(&store, "other", &dashboard, period, &none())
            .await
            .unwrap();
        let shown = serde_json::to_string(&out).unwrap();
        assert!(!shown.contains("NaN") && !shown.contains("inf"), "{shown}");
        for p in &out.panels {
            for f in &p.figures {
                match &f.value {
                    Value::Count { count } => assert_eq!(*count, 0, "{}", f.name),
                    v => assert_eq!(v, &Value::NoData, "{} {}", p.name, f.name),
                }
            }
        }
        let trends = &out.panels[3].chart;
        assert_eq!(trends.series[0].points.len(), 12);
        assert!(trends.is_empty());
        assert!(
            trends.series[0]
                .points
                .iter()
                .all(|p| p.display == "no data")
        );
        let funnel = &out.panels[4].chart.series[0].points;
        assert!(
            funnel
                .iter()
                .all(|p| p.value == Some(0.0) && p.display == "0")
        );
    })
    .await;
}
