use leadflow_reports::{Breakdown, DashboardOutput, Figure, Group, Period, ReportOutput, Value};

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
    Period {
        from_ms: 0,
        until_ms: None,
        from: "2026-10-26T00:00:00Z".to_owned(),
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
    // Nothing to fetch: no scripts, stylesheets or images from elsewhere, no form.
    for needle in ["src=", "<link", "http://", "https://", "<form"] {
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
    assert!(!html.contains("NaN") && !html.contains("<script"), "{html}");
}
