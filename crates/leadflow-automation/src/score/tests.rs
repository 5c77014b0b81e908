//! Scoring at its boundaries, with the shipped `scoring.yaml`.

use std::collections::BTreeMap;

use jiff::civil::{Date, date};
use leadflow_config::automation::Scoring;

use super::score;

const TODAY: Date = date(2026, 11, 25);

/// The shipped template, read by the config crate.
fn shipped() -> Scoring {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), false).unwrap();
    let (project, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{diags:?}");
    project.scoring
}

fn contact(props: &[(&str, &str)]) -> BTreeMap<String, Option<String>> {
    props
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned())))
        .collect()
}

/// The points of one source.
fn points(props: &[(&str, &str)], source: &str) -> f64 {
    let (_, parts) = score(&shipped(), &contact(props), TODAY);
    parts
        .iter()
        .filter(|c| c.source == source)
        .map(|c| c.points)
        .sum()
}

#[test]
fn the_shipped_template_is_what_the_scorer_is_tested_against() {
    let s = shipped();
    assert_eq!(s.base, 10.0);
    assert_eq!(s.icp_points_per_point, 5.0);
    assert_eq!(s.recency_property, "last_activity_date");
    assert_eq!(
        (s.recency_max_points, s.recency_half_life_days),
        (15.0, 14.0)
    );
    assert_eq!(s.clamp, (1.0, 100.0));
}

#[test]
fn icp_fit_gives_points_per_point_at_both_ends_of_its_range() {
    assert_eq!(points(&[("icp_fit_score", "1")], "ICP Fit Score"), 5.0);
    assert_eq!(points(&[("icp_fit_score", "10")], "ICP Fit Score"), 50.0);
    assert_eq!(
        score(&shipped(), &contact(&[("icp_fit_score", "1")]), TODAY).0,
        15
    );
    assert_eq!(
        score(&shipped(), &contact(&[("icp_fit_score", "10")]), TODAY).0,
        60
    );
}

#[test]
fn every_response_status_has_its_points() {
    for (status, expected) in [
        ("No Response", 0.0),
        ("Not Interested", -20.0),
        ("Interested", 20.0),
        ("Meeting Scheduled", 35.0),
        ("Maybe Later", 0.0),
    ] {
        assert_eq!(
            points(&[("response_status", status)], "Response Status"),
            expected,
            "{status}"
        );
    }
    let (s, parts) = score(
        &shipped(),
        &contact(&[("response_status", "Maybe Later")]),
        TODAY,
    );
    assert_eq!(s, 10);
    assert!(parts.iter().any(|c| c.detail == "Maybe Later (not scored)"));
}

#[test]
fn recency_halves_every_half_life_and_the_future_counts_as_today() {
    let r = |d: &str| points(&[("last_activity_date", d)], "engagement recency");
    assert_eq!(r("2026-11-25"), 15.0);
    assert_eq!(r("2026-11-11"), 7.5, "14 days: half");
    assert_eq!(r("2026-10-28"), 3.75, "28 days: a quarter");
    assert!(r("2026-11-24") < 15.0 && r("2026-11-24") > 7.5);
    assert_eq!(r("2026-12-31"), 15.0, "a future date");
    // HubSpot's other spelling of a date: epoch milliseconds at midnight UTC.
    let ms = jiff::Timestamp::from_second(1_762_819_200).unwrap(); // 2025-11-11
    assert_eq!(ms.to_string(), "2025-11-11T00:00:00Z");
    let year = r(&ms.as_millisecond().to_string());
    assert!(year > 0.0 && year < 0.01, "{year}");
    // 10 + 40 + 20 + 7.5 = 77.5, rounded half away from zero.
    let (s, _) = score(
        &shipped(),
        &contact(&[
            ("icp_fit_score", "8"),
            ("response_status", "Interested"),
            ("last_activity_date", "2026-11-11"),
        ]),
        TODAY,
    );
    assert_eq!(s, 78);
}

#[test]
fn scores_are_clamped_at_both_ends_and_the_clamp_is_a_contribution() {
    let (high, parts) = score(
        &shipped(),
        &contact(&[
            ("icp_fit_score", "10"),
            ("response_status", "Meeting Scheduled"),
            ("last_activity_date", "2026-11-25"),
        ]),
        TODAY,
    );
    assert_eq!(high, 100, "10 + 50 + 35 + 15 = 110");
    let clamp = parts.iter().find(|c| c.source == "clamp").unwrap();
    assert_eq!(clamp.points, -10.0);
    assert_eq!(parts.iter().map(|c| c.points).sum::<f64>(), 100.0);

    let (low, parts) = score(
        &shipped(),
        &contact(&[("response_status", "Not Interested")]),
        TODAY,
    );
    assert_eq!(low, 1, "10 - 20 = -10");
    assert_eq!(parts.last().unwrap().points, 11.0);
    assert_eq!(parts.iter().map(|c| c.points).sum::<f64>(), 1.0);

    let (exact, parts) = score(&shipped(), &contact(&[("icp_fit_score", "10")]), TODAY);
    assert_eq!(exact, 60);
    assert!(parts.iter().all(|c| c.source != "clamp"));
}

#[test]
fn missing_and_unreadable_values_give_no_points_and_say_so() {
    let (s, parts) = score(&shipped(), &BTreeMap::new(), TODAY);
    assert_eq!(s, 10, "the base alone");
    let details: Vec<(&str, &str)> = parts
        .iter()
        .map(|c| (c.source, c.detail.as_str()))
        .collect();
    assert_eq!(
        details,
        [
            ("base", "every contact"),
            ("ICP Fit Score", "missing"),
            ("Response Status", "missing"),
            ("engagement recency", "last_activity_date missing"),
        ]
    );
    let mut blank = contact(&[("icp_fit_score", ""), ("response_status", "  ")]);
    blank.insert("last_activity_date".into(), None);
    assert_eq!(score(&shipped(), &blank, TODAY).0, 10);
    let (s, parts) = score(
        &shipped(),
        &contact(&[
            ("icp_fit_score", "high"),
            ("last_activity_date", "yesterday"),
            ("lead_score", "99"),
        ]),
        TODAY,
    );
    assert_eq!(s, 10);
    assert!(parts.iter().any(|c| c.detail == "\"high\" is not a number"));
    assert!(
        parts
            .iter()
            .any(|c| c.detail == "last_activity_date \"yesterday\" is not a date")
    );
    let (s, _) = score(&shipped(), &contact(&[("icp_fit_score", "NaN")]), TODAY);
    assert_eq!(s, 10);
}
