use leadflow_reports::{
    Breakdown, Chart, ChartKind, DashboardOutput, Figure, Filters, Group, Panel, Period, Point,
    ReportOutput, Series, Since, Unit, Value,
};

use super::{PageContext, dashboard_document, report_document, report_page, slug};

fn figure(name: &str, value: Value) -> Figure {
    Figure {
        name: name.to_owned(),
        number: value.number(),
        display: value.display(),
        value,
    }
}

fn period() -> Period {
    let now = "2026-11-25T12:00:00Z".parse().unwrap();
    Period::since(Since::Days(30), now, &jiff::tz::TimeZone::UTC).unwrap()
}

fn chart(name: &str, points: &[(&str, Option<f64>)]) -> Chart {
    Chart {
        name: name.to_owned(),
        kind: ChartKind::Bar,
        unit: Unit::Ratio,
        x_label: "ICP Type".to_owned(),
        y_label: "Response Rate".to_owned(),
        series: vec![Series {
            name: "Response Rate".to_owned(),
            points: points
                .iter()
                .map(|(label, value)| Point {
                    label: (*label).to_owned(),
                    value: *value,
                    display: value.map_or("no data".to_owned(), |v| format!("{:.1}%", v * 100.0)),
                })
                .collect(),
        }],
    }
}

fn report() -> ReportOutput {
    let metrics = |n: i64, r: i64| {
        vec![
            figure("Total Contacts Created", Value::Count { count: n }),
            figure("Response Rate", Value::ratio(r, n)),
        ]
    };
    ReportOutput {
        key: "lead_generation_report".to_owned(),
        name: "Lead Generation Performance".to_owned(),
        period: period(),
        filters: vec!["lead_source == 'Outbound'".to_owned()],
        metrics: metrics(8, 3),
        breakdowns: vec![
            Breakdown {
                property: "campaign_tag".to_owned(),
                groups: vec![
                    Group {
                        value: Some("<script>alert(1)</script>".to_owned()),
                        metrics: metrics(8, 3),
                    },
                    Group {
                        value: None,
                        metrics: metrics(0, 0),
                    },
                ],
            },
            Breakdown {
                property: "icp_type".to_owned(),
                groups: vec![],
            },
        ],
        charts: vec![
            chart(
                "Response Rate by ICP Type",
                &[("ICP-A", Some(0.375)), ("ICP-B", None)],
            ),
            chart("Qualification Rate by Campaign", &[("Q4", None)]),
        ],
    }
}

#[test]
fn slugs_are_stable_identifiers() {
    assert_eq!(
        slug("Response Rate by ICP Type"),
        "response_rate_by_icp_type"
    );
    assert_eq!(
        slug("Total Leads Generated (30 days)"),
        "total_leads_generated_30_days"
    );
    assert_eq!(slug("  --Top  ICP-- "), "top_icp");
}

#[test]
fn a_report_document_is_self_contained_escaped_and_says_no_data() {
    let html = report_document(&report());
    assert!(html.starts_with("<!doctype html>"), "{html}");
    // Values with their stable attributes.
    assert!(
        html.contains(r#"data-metric="total_contacts_created" data-number="8.0""#),
        "{html}"
    );
    assert!(
        html.contains(r#"data-metric="response_rate" data-number="0.375""#),
        "{html}"
    );
    assert!(html.contains(">37.5%<"), "{html}");
    assert!(html.contains("3 of 8"), "{html}");
    // A campaign named like markup is text.
    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{html}"
    );
    // No data is said, in the group without contacts and the empty breakdown.
    assert!(html.contains(">no data<"), "{html}");
    assert!(html.contains(r#"<p class="no-data">no data</p>"#), "{html}");
    assert!(!html.contains("NaN"), "{html}");
    // Each chart, drawn inline with its values; the empty one says no data.
    assert!(
        html.contains(r#"<figure class="chart" data-chart="response_rate_by_icp_type">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"data-category="ICP-A" data-value="37.5""#),
        "{html}"
    );
    assert!(
        html.contains(r#"<tr data-series="Response Rate" data-label="ICP-A" data-number="0.375">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<figure class="chart" data-chart="qualification_rate_by_campaign" data-empty="true">"#),
        "{html}"
    );
    // Nothing to fetch: no scripts, stylesheets or images from elsewhere, no form.
    // (The SVG namespace, `xmlns="http://www.w3.org/2000/svg"`, is a name, not a fetch.)
    for needle in ["src=", "<link", "href=", "url(", "@import", "<form"] {
        assert!(!html.contains(needle), "{needle} in {html}");
    }
}

#[test]
fn a_served_report_has_the_filter_form_with_the_choices_and_the_script() {
    let mut page = PageContext {
        icp_options: vec!["ICP-A".to_owned(), "ICP-B".to_owned()],
        ..PageContext::default()
    };
    page.filters.icp = Some("ICP-B".to_owned());
    page.filters.since = Some("2w".to_owned());
    let html = report_page(&report(), &page);
    assert!(
        html.contains(r#"<form class="filters" method="get">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="ICP-B" selected>ICP-B</option>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="2w" selected>2w</option>"#),
        "{html}"
    );
    // The campaigns of the breakdown are offered, escaped.
    assert!(
        html.contains(r#"<option value="&lt;script&gt;alert(1)&lt;&#x2f;script&gt;">"#),
        "{html}"
    );
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only our own script: {html}"
    );
}

#[test]
fn a_dashboard_document_shows_every_widget() {
    let d = DashboardOutput {
        key: "session_dashboard".to_owned(),
        name: "Session Performance Dashboard".to_owned(),
        period: period(),
        widgets: vec![
            figure("Total Leads Generated (30 days)", Value::Count { count: 0 }),
            figure("Average Response Rate", Value::NoData),
            figure(
                "Top Performing ICP",
                Value::Winner {
                    label: "ICP-A".to_owned(),
                    numerator: 2,
                    denominator: 5,
                },
            ),
            figure(
                "Pipeline Value Created",
                Value::Money {
                    cents: 1_250_000,
                    deals: 3,
                    without_amount: 1,
                },
            ),
        ],
        filters: Filters::default(),
        panels: vec![Panel {
            name: "ICP Performance Comparison".to_owned(),
            figures: vec![figure("Response Rate", Value::ratio(1, 4))],
            chart: chart("Response Rate by ICP Type", &[("ICP-C", Some(0.25))]),
        }],
    };
    let html = dashboard_document(&d);
    assert!(
        html.contains(r#"data-metric="total_leads_generated_30_days" data-number="0.0""#),
        "{html}"
    );
    assert!(
        html.contains(r#"<div class="tile" data-metric="average_response_rate">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<div class="value no-data">no data</div>"#),
        "{html}"
    );
    assert!(html.contains("ICP-A (40.0% of 5)"), "{html}");
    assert!(
        html.contains("12,500.00") && html.contains("3 deals, 1 without an amount"),
        "{html}"
    );
    assert!(
        html.contains(r#"<div class="panel" data-panel="icp_performance_comparison">"#),
        "{html}"
    );
    assert!(html.contains(r#"<div data-metric="response_rate" data-number="0.25"><dt>Response Rate</dt><dd>25.0%</dd></div>"#), "{html}");
    assert!(
        html.contains(r#"data-category="ICP-C" data-value="25""#),
        "{html}"
    );
    assert!(!html.contains("NaN") && !html.contains("<script"), "{html}");
}
