//! What `leadflow check` refuses in `reports.yaml` because reports could not compute it:
//! filters other than `<counted property> == 'value'` and the `created_date` period,
//! breakdowns and charts by a property the store does not count, charts naming an unknown
//! metric. Each is reported once, at its line and column.

use leadflow_config::reports::{COUNTED_PROPERTIES, ReportFilter, report_filter};

use super::{column_of, line_of, only, project_with};

#[test]
fn filters_breakdowns_and_charts_reports_cannot_compute_are_refused_where_written() {
    // (from, to, message, a part of the hint)
    let cases = [
        (
            "- \"lead_source == 'Outbound'\"",
            "- \"icp_fit_score > 7\"",
            "reports cannot compute the filter \"icp_fit_score > 7\"",
            "`<property> == 'value'` on one of email, lead_source",
        ),
        (
            "- \"lead_source == 'Outbound'\"",
            "- \"firstname == 'Ada'\"",
            "reports cannot compute the filter \"firstname == 'Ada'\"",
            "created_date >= {{ current_date - N days }}",
        ),
        (
            "- \"created_date >= {{ current_date - 30 days }}\"",
            "- \"created_date >= {{ current_date - 3 weeks }}\"",
            "reports cannot compute the filter \"created_date >= {{ current_date - 3 weeks }}\"",
            "current_date - N days",
        ),
        (
            "- \"Message Strategy\"",
            "- \"firstname\"",
            "reports cannot break down by \"firstname\"",
            "breakdowns are one of email, lead_source",
        ),
        (
            "- \"Qualification Rate by Campaign\"",
            "- \"Qualification Rate by firstname\"",
            "unknown chart \"Qualification Rate by firstname\"",
            "\"<metric> by <property>\"",
        ),
        (
            "- \"Qualification Rate by Campaign\"",
            "- \"Reply Rate by Campaign\"",
            "unknown chart \"Reply Rate by Campaign\"",
            "\"Lead Score Distribution\"",
        ),
    ];
    for (from, to, message, hint) in cases {
        let d = only("reports.yaml", from, to);
        assert_eq!(d.len(), 1, "{to:?}: {d:?}");
        assert_eq!(d[0].message, message, "{to:?}");
        let got = d[0].hint.as_deref().unwrap_or_default();
        assert!(got.contains(hint), "{to:?}: {got}");
        assert_eq!(d[0].loc.line, line_of("reports.yaml", from), "{to:?}");
        assert_eq!(
            d[0].loc.column,
            column_of("reports.yaml", from, "\""),
            "{to:?}"
        );
    }
}

#[test]
fn the_filters_reports_compute_are_read_into_their_shape() {
    let dir = project_with(&[]);
    let (project, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{diags:?}");
    let schema = &project.properties;
    assert_eq!(
        report_filter("Lead Source == \"Outbound\"", schema),
        Some(ReportFilter::Equals(
            "lead_source".to_owned(),
            "Outbound".to_owned()
        ))
    );
    assert_eq!(
        report_filter("created_date >= {{ current_date - 14 days }}", schema),
        Some(ReportFilter::CreatedSince(14))
    );
    for refused in [
        "icp_type != 'ICP-A'",
        "lead_source == Outbound",
        "lead_source == 'Out'bound'",
        "created_date >= {{ current_date + 3 days }}",
        "last_activity_date >= {{ current_date - 3 days }}",
        "notes == 'x'",
    ] {
        assert_eq!(report_filter(refused, schema), None, "{refused}");
    }
    assert!(COUNTED_PROPERTIES.contains(&"hubspot_owner_id"));
}
