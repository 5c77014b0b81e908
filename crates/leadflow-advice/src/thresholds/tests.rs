//! Thresholds read from the spec's workflows, judged on made-up meeting rates, and moved in
//! the file's text.

use super::*;

fn spec_project() -> (Project, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), false).unwrap();
    let (project, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{diags:?}");
    (project, dir)
}

/// `n` contacts per score 1-10, `hits(score)` of them with a meeting.
fn scores(n: i64, hits: impl Fn(i64) -> i64) -> Vec<ScoreRate> {
    (1..=10)
        .map(|score| ScoreRate {
            score,
            meetings: Rate::new(hits(score), n),
        })
        .collect()
}

#[test]
fn the_spec_creates_deals_at_seven_and_eight() {
    let (project, _dir) = spec_project();
    let t = deal_thresholds(&project);
    let keys: Vec<(i64, Vec<&str>)> = t
        .iter()
        .map(|(k, uses)| (*k, uses.iter().map(|u| u.workflow.as_str()).collect()))
        .collect();
    assert_eq!(
        keys,
        [
            (7, vec!["workflow_manual_outreach"]),
            (8, vec!["workflow_automated_outreach"])
        ]
    );
    let text = std::fs::read_to_string(project.dir.join("workflows.yaml")).unwrap();
    let line = text.lines().nth(t[&7][0].line as usize - 1).unwrap();
    assert!(line.contains("ICP Fit Score >= 7"), "{line}");
    // `>` reads as the next whole number; other properties and forms are no threshold.
    assert_eq!(threshold_of("icp_fit_score > 6", &project), Some(7));
    assert_eq!(threshold_of("ICP Fit Score >= 7.5", &project), None);
    assert_eq!(threshold_of("lead_score >= 7", &project), None);
}

#[test]
fn a_threshold_whose_own_score_converts_like_those_below_is_raised() {
    // Scores 1-7 meet 10 in 100, 8-10 meet 40 in 100.
    let s = scores(100, |score| if score >= 8 { 40 } else { 10 });
    let a = judge(7, Vec::new(), &s);
    assert_eq!(a.suggested, Some(8), "{}", a.verdict);
    assert!(
        a.verdict.contains("consider creating deals from 8"),
        "{}",
        a.verdict
    );
    // The threshold that matches stays.
    let a = judge(8, Vec::new(), &s);
    assert_eq!(a.suggested, None, "{}", a.verdict);
    assert!(
        a.verdict.starts_with("the threshold 8 holds"),
        "{}",
        a.verdict
    );
}

#[test]
fn thin_scores_suggest_nothing_and_say_so() {
    let s = scores(10, |score| if score >= 5 { 3 } else { 0 });
    let a = judge(7, Vec::new(), &s);
    assert_eq!(a.suggested, None);
    assert!(a.verdict.starts_with("not enough data"), "{}", a.verdict);
    assert!(a.verdict.contains("30.0% (3 of 10)"), "{}", a.verdict);
}

#[test]
fn a_suggestion_moves_every_condition_it_names_or_says_which_it_could_not() {
    let yaml = "a:\n  condition: \"icp_fit_score > 6\"\nb:\n  condition: \"ICP Fit Score >= 7\"\n";
    let use_at = |line: u32, condition: &str| ThresholdUse {
        workflow: "w".into(),
        name: "W".into(),
        condition: condition.into(),
        line,
    };
    let advice = ThresholdAdvice {
        threshold: 7,
        uses: vec![
            use_at(2, "icp_fit_score > 6"),
            use_at(4, "ICP Fit Score >= 7"),
            use_at(1, "ICP Fit Score >= 7"),
        ],
        just_below: Rate::default(),
        at_or_above: Rate::default(),
        evidence: Evidence::NotEnoughData {
            reason: String::new(),
        },
        suggested: Some(5),
        verdict: String::new(),
    };
    let (new, skipped) = apply_suggestions(yaml, std::slice::from_ref(&advice));
    assert_eq!(
        new,
        "a:\n  condition: \"icp_fit_score >= 5\"\nb:\n  condition: \"ICP Fit Score >= 5\"\n"
    );
    assert_eq!(
        skipped,
        ["workflows.yaml:1: \"ICP Fit Score >= 7\" not found on its line; change it by hand"]
    );
    let d = diff(yaml, &new).unwrap();
    assert!(
        d.starts_with("--- a/workflows.yaml\n+++ b/workflows.yaml\n@@ -1,4 +1,4 @@\n"),
        "{d}"
    );
    assert_eq!(diff(yaml, yaml), None);
}
