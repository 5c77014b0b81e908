use leadflow_reports::{Chart, ChartKind, Point, Series, Unit};

use super::chart_svg;

fn point(label: &str, value: Option<f64>, display: &str) -> Point {
    Point {
        label: label.to_owned(),
        value,
        display: display.to_owned(),
    }
}

fn chart(kind: ChartKind, unit: Unit, series: Vec<(&str, Vec<Point>)>) -> Chart {
    Chart {
        name: "Response Rate by ICP Type".to_owned(),
        kind,
        unit,
        x_label: "ICP Type".to_owned(),
        y_label: "Response Rate".to_owned(),
        series: series
            .into_iter()
            .map(|(name, points)| Series {
                name: name.to_owned(),
                points,
            })
            .collect(),
    }
}

#[test]
fn bars_show_every_value_and_name_the_points_without_data() {
    let svg = chart_svg(&chart(
        ChartKind::Bar,
        Unit::Ratio,
        vec![(
            "Response Rate",
            vec![
                point("ICP-A", Some(0.375), "37.5% (3/8)"),
                point("ICP-B", None, "no data"),
                point("ICP-C", Some(0.1), "10.0% (1/10)"),
            ],
        )],
    ));
    assert!(svg.starts_with("<svg"), "{svg}");
    // Each value as a number, as a label and as a tooltip.
    assert!(
        svg.contains(r#"data-category="ICP-A" data-value="37.5""#),
        "{svg}"
    );
    assert!(
        svg.contains(r#"data-category="ICP-C" data-value="10""#),
        "{svg}"
    );
    assert!(svg.contains("<title>Response Rate: 37.5%</title>"), "{svg}");
    assert!(svg.contains(">\n37.5%\n<"), "{svg}");
    // The point without data is named on the axis and not drawn as a bar.
    assert!(svg.contains("ICP-B (no data)"), "{svg}");
    assert!(!svg.contains(r#"data-category="ICP-B"#), "{svg}");
    assert!(!svg.contains("NaN"), "{svg}");
}

#[test]
fn an_empty_chart_says_no_data_and_non_finite_values_are_no_data() {
    let empty = chart(
        ChartKind::Bar,
        Unit::Ratio,
        vec![("Response Rate", vec![point("ICP-A", None, "no data")])],
    );
    let svg = chart_svg(&empty);
    assert!(svg.contains(">no data</text>"), "{svg}");
    assert!(
        svg.contains(r#"aria-label="Response Rate by ICP Type: no data""#),
        "{svg}"
    );
    let none = chart(ChartKind::Line, Unit::Count, vec![]);
    assert!(chart_svg(&none).contains(">no data</text>"));

    let nan = chart(
        ChartKind::Line,
        Unit::Ratio,
        vec![(
            "Response Rate",
            vec![
                point("2026-11-01", Some(f64::NAN), "?"),
                point("2026-11-02", Some(0.5), "50.0%"),
                point("2026-11-03", Some(f64::INFINITY), "?"),
            ],
        )],
    );
    let svg = chart_svg(&nan);
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    assert!(svg.contains("2026-11-01 (no data)"), "{svg}");
    assert!(svg.contains("50%"), "{svg}");
}

#[test]
fn text_from_the_data_is_escaped() {
    let svg = chart_svg(&chart(
        ChartKind::Bar,
        Unit::Count,
        vec![(
            "<b>leads</b>",
            vec![
                point("<script>alert(1)</script>", Some(3.0), "3"),
                point("\"quoted\" & more", Some(4.0), "4"),
            ],
        )],
    ));
    assert!(!svg.contains("<script>"), "{svg}");
    assert!(!svg.contains("<b>"), "{svg}");
    assert!(
        svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{svg}"
    );
    assert!(svg.contains("&quot;quoted&quot; &amp; more"), "{svg}");
    let empty = chart_svg(&Chart {
        name: "<script>x</script>".to_owned(),
        ..chart(ChartKind::Bar, Unit::Count, vec![])
    });
    assert!(!empty.contains("<script>"), "{empty}");
}

#[test]
fn funnels_lines_and_money_show_their_values() {
    let funnel = chart_svg(&chart(
        ChartKind::Funnel,
        Unit::Count,
        vec![(
            "Contacts",
            vec![
                point("Contacts", Some(120.0), "120"),
                point("Responded", Some(36.0), "36"),
                point("Qualified", Some(9.0), "9"),
                point("Meetings", None, "no data"),
            ],
        )],
    ));
    for text in [
        "Contacts: 120",
        "Responded: 36",
        "Qualified: 9",
        "Meetings (no data)",
    ] {
        assert!(funnel.contains(text), "{text} in {funnel}");
    }
    let days: Vec<Point> = (1..=30)
        .map(|d| {
            point(
                &format!("2026-11-{d:02}"),
                Some(f64::from(d)),
                &d.to_string(),
            )
        })
        .collect();
    let line = chart_svg(&chart(
        ChartKind::Line,
        Unit::Count,
        vec![("Contacts", days.clone()), ("Responded", days)],
    ));
    // Thirty points: values in the tooltips, a legend for the two series.
    assert!(line.contains("<title>Contacts: 30</title>"), "{line}");
    assert!(line.contains("<title>Responded: 17</title>"), "{line}");
    assert!(line.contains(">\nResponded\n<"), "{line}");
    let money = chart_svg(&chart(
        ChartKind::Bar,
        Unit::Money,
        vec![("Pipeline", vec![point("Q4", Some(125_000.0), "125,000.00")])],
    ));
    assert!(money.contains("125,000"), "{money}");
}
