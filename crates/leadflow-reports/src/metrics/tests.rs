//! The formulas against hand-computed values: no data instead of a division by zero, displays, amounts.

use super::*;

#[test]
fn metric_names_are_the_config_catalogue() {
    let ours: Vec<&str> = Metric::ALL.iter().map(|(_, n)| *n).collect();
    assert_eq!(ours, leadflow_config::reports::METRICS.to_vec());
}

#[test]
fn empty_denominators_are_no_data_never_nan() {
    let empty = Tally::default();
    assert_eq!(
        empty.metric("Total Contacts Created"),
        Some(Value::Count { count: 0 })
    );
    for m in [
        "ICP Fit Score Average",
        "Response Rate",
        "Qualification Rate",
        "Meeting Conversion Rate",
    ] {
        let v = empty.metric(m).unwrap();
        assert_eq!(v, Value::NoData, "{m}");
        assert_eq!(v.number(), None);
        assert_eq!(v.display(), "no data");
    }
    // Contacts, none responded: the response rate is 0, the meeting conversion no data.
    let quiet = Tally {
        contacts: 4,
        ..Tally::default()
    };
    assert_eq!(quiet.metric("response rate").unwrap().display(), "0.0%");
    assert_eq!(
        quiet.metric("Meeting Conversion Rate").unwrap(),
        Value::NoData
    );
    assert_eq!(
        quiet.metric("ICP Fit Score Average").unwrap(),
        Value::NoData
    );
    assert_eq!(quiet.metric("Pipeline"), None);
}

#[test]
fn values_display_as_people_read_them() {
    let check = |v: Value, want: &str| assert_eq!(v.display(), want);
    check(Value::ratio(3, 8), "37.5%");
    check(Value::average(29.0, 4), "7.25");
    check(
        Value::Money {
            cents: 123_456_789,
            deals: 3,
            without_amount: 0,
        },
        "1,234,567.89",
    );
    check(
        Value::Money {
            cents: -5,
            deals: 1,
            without_amount: 0,
        },
        "-0.05",
    );
    check(
        Value::Winner {
            label: "ICP-A".into(),
            numerator: 1,
            denominator: 4,
        },
        "ICP-A (25.0% of 4)",
    );
}

#[test]
fn amounts_read_as_cents() {
    assert_eq!(amount_cents("1000"), Some(100_000));
    assert_eq!(amount_cents(" 1234.5 "), Some(123_450));
    assert_eq!(amount_cents("19.99"), Some(1_999));
    assert_eq!(amount_cents("-20.25"), Some(-2_025));
    assert_eq!(amount_cents("abc"), None);
    assert_eq!(amount_cents("NaN"), None);
    assert_eq!(amount_cents("inf"), None);
    assert_eq!(amount_cents(""), None);
}
