//! Advice over generated data in a real store, on SQLite and on PostgreSQL: a strategy
//! that clearly wins, thin data, meetings from just below the deal threshold (with a diff
//! that `patch` applies), a workflow and a sequence that stopped converting, and trends.
//!
//! PostgreSQL runs when `LEADFLOW_TEST_DATABASE_URL` is set (each test gets a fresh
//! database); without it the PostgreSQL half prints a skip reason, unless
//! `LEADFLOW_REQUIRE_POSTGRES=1` (CI), where it fails.

use std::collections::BTreeMap;
use std::path::Path;

use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use leadflow_advice::{Advice, ConversionStatus, Evidence, advise};
use leadflow_config::Project;
use leadflow_core::ObjectType;
use leadflow_store::testing::on_both;
use leadflow_store::{NewEnrollment, SequenceRow, Store, StoredRecord};

const MONTH: Date = date(2026, 11, 1);

/// The spec's configuration, as `leadflow init` writes it.
fn project() -> (Project, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), false).unwrap();
    let (project, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "the templates load: {diags:?}");
    (project, dir)
}

/// Midday UTC on `day` of `month`, unix ms.
fn at(month: Date, day: i8) -> i64 {
    month
        .with()
        .day(day)
        .build()
        .unwrap()
        .at(12, 0, 0, 0)
        .to_zoned(TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_millisecond()
}

/// Generated contacts: `n` outbound contacts created in `month` with `props`, the first
/// `hits` of them with `status` as their response status (the rest "No Response").
struct Batch {
    month: Date,
    n: usize,
    hits: usize,
    status: &'static str,
    props: Vec<(&'static str, String)>,
}

impl Batch {
    fn new(month: Date, n: usize, hits: usize, props: &[(&'static str, &str)]) -> Self {
        Self {
            month,
            n,
            hits,
            status: "Interested",
            props: props.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        }
    }

    fn meetings(mut self) -> Self {
        self.status = "Meeting Scheduled";
        self
    }
}

/// Stores the batches, as a backfill of contacts without a response followed by each
/// response as sync sees it, a day after the contact's creation (so the event log holds
/// it); returns the ids of each batch's contacts.
async fn load(store: &Store, batches: &[Batch]) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut responses = Vec::new();
    let mut ids = Vec::new();
    for b in batches {
        let mut mine = Vec::new();
        for i in 0..b.n {
            let id = (100_000 + records.len()).to_string();
            let mut props: BTreeMap<String, Option<String>> = b
                .props
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Some(v.clone())))
                .collect();
            props.insert("lead_source".into(), Some("Outbound".into()));
            props.insert("response_status".into(), Some("No Response".into()));
            let created = at(b.month, (i % 28) as i8 + 1);
            let record = StoredRecord {
                id: id.clone(),
                properties: props,
                created_at: Some(created),
                updated_at: 1,
                archived: false,
            };
            if i < b.hits {
                let mut answered = record.clone();
                answered
                    .properties
                    .insert("response_status".into(), Some(b.status.into()));
                answered.updated_at = created + 86_400_000;
                responses.push(answered);
            }
            records.push(record);
            mine.push(id);
        }
        ids.push(mine);
    }
    store
        .upsert_records("p", ObjectType::Contacts, &records, "backfill", None)
        .await
        .unwrap();
    store
        .upsert_records("p", ObjectType::Contacts, &responses, "webhook", None)
        .await
        .unwrap();
    ids
}

async fn run(store: &Store, project: &Project) -> Advice {
    advise(store, "p", project, MONTH, &TimeZone::UTC)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_strategy_that_clearly_wins_is_named_and_significant() {
    let (project, _dir) = project();
    on_both("clear_winner", |store| {
        let project = project.clone();
        async move {
            let icp = |s: &'static str| vec![("icp_type", "ICP-A"), ("message_strategy", s)];
            load(
                &store,
                &[
                    Batch::new(MONTH, 100, 40, &icp("Time Focus")),
                    Batch::new(MONTH, 100, 12, &icp("Quality Focus")),
                    Batch::new(MONTH, 100, 10, &icp("Production Focus")),
                    // Too few to take part, though its rate is the highest.
                    Batch::new(MONTH, 5, 5, &icp("Custom")),
                ],
            )
            .await;
            let advice = run(&store, &project).await;
            let a = advice
                .strategies
                .iter()
                .find(|s| s.icp_type == "ICP-A")
                .unwrap();
            assert_eq!(a.best.as_deref(), Some("Time Focus"));
            assert_eq!(a.strategies[0].strategy, "Custom", "listed first by rate");
            // 40/100 against 22/200: pooled 62/300; z = 5.97, far past alpha/3.
            let Evidence::Tested(t) = &a.best_vs_rest else {
                panic!("{:?}", a.best_vs_rest)
            };
            assert!(t.significant && t.p_value < 1e-6, "{t:?}");
            assert!((t.alpha - 0.05 / 3.0).abs() < 1e-12, "Bonferroni over 3");
            assert!(a.independence.significant());
            assert!(
                advice
                    .suggestions
                    .iter()
                    .any(|s| s.starts_with("Time Focus answers best for ICP-A")),
                "{:?}",
                advice.suggestions
            );
            let md = advice.to_markdown();
            assert!(md.contains("Time Focus answers best for ICP-A"), "{md}");
            assert!(advice.to_html_fragment().contains("Time Focus"));
        }
    })
    .await;
}

#[tokio::test]
async fn thin_data_says_not_enough_data_with_the_counts() {
    let (project, _dir) = project();
    on_both("thin", |store| {
        let project = project.clone();
        async move {
            let icp = |s: &'static str| vec![("icp_type", "ICP-B"), ("message_strategy", s)];
            load(
                &store,
                &[
                    Batch::new(MONTH, 12, 9, &icp("Time Focus")),
                    Batch::new(MONTH, 40, 2, &icp("Quality Focus")),
                ],
            )
            .await;
            let advice = run(&store, &project).await;
            let b = &advice.strategies[0];
            assert_eq!(b.icp_type, "ICP-B");
            assert_eq!(b.best, None);
            assert!(!b.best_vs_rest.tested());
            assert!(
                b.verdict.contains("not enough data")
                    && b.verdict.contains("Time Focus 12")
                    && b.verdict.contains("Quality Focus 40"),
                "{}",
                b.verdict
            );
            assert!(advice.suggestions.is_empty(), "{:?}", advice.suggestions);
            assert_eq!(advice.config_diff(), None);
            // Nothing in the month before: the trends say so instead of dividing by zero.
            let rr = &advice.trends[1];
            assert_eq!(rr.metric, "Response Rate");
            assert_eq!(rr.previous.display(), "no data");
            assert_eq!(rr.change, None);
            assert!(!rr.evidence.tested());
        }
    })
    .await;
}

#[tokio::test]
async fn meetings_from_score_six_as_often_as_from_seven_up_suggest_six_with_a_diff_that_applies() {
    let (project, dir) = project();
    on_both("threshold", |store| {
        let project = project.clone();
        let dir = dir.path().to_owned();
        async move {
            let mut batches = Vec::new();
            for score in 1..=10 {
                let hits = if score >= 6 { 30 } else { 1 };
                let s = score.to_string();
                batches.push(Batch::new(MONTH, 100, hits, &[("icp_fit_score", &s)]).meetings());
            }
            load(&store, &batches).await;
            let advice = run(&store, &project).await;
            let seven = advice.thresholds.iter().find(|t| t.threshold == 7).unwrap();
            assert_eq!(seven.uses[0].workflow, "workflow_manual_outreach");
            assert_eq!(
                (seven.just_below.successes, seven.just_below.trials),
                (30, 100)
            );
            assert_eq!(
                (seven.at_or_above.successes, seven.at_or_above.trials),
                (120, 400)
            );
            assert!(seven.evidence.tested() && !seven.evidence.significant());
            assert_eq!(seven.suggested, Some(6), "{}", seven.verdict);
            let eight = advice.thresholds.iter().find(|t| t.threshold == 8).unwrap();
            assert_eq!(eight.suggested, Some(6), "{}", eight.verdict);

            let diff = advice.config_diff().expect("a suggested change");
            assert!(diff.starts_with("--- a/workflows.yaml\n+++ b/workflows.yaml\n"));
            assert!(
                diff.contains("-        condition: \"ICP Fit Score >= 7\""),
                "{diff}"
            );
            assert!(
                diff.contains("+        condition: \"ICP Fit Score >= 6\""),
                "{diff}"
            );
            assert!(
                diff.contains("-        condition: \"ICP Fit Score >= 8\""),
                "{diff}"
            );
            // Suggested only: the file is as it was.
            let before = std::fs::read_to_string(dir.join("workflows.yaml")).unwrap();
            assert!(before.contains("ICP Fit Score >= 7"));
            apply_with_patch(&dir, &diff);
            let (after, diags) = leadflow_config::load(&dir);
            assert!(diags.is_empty(), "{diags:?}");
            let again = run(&store, &after).await;
            assert!(
                again.thresholds.iter().all(|t| t.threshold == 6),
                "both deal conditions now read 6"
            );
            // Put the file back for the PostgreSQL half.
            std::fs::write(dir.join("workflows.yaml"), before).unwrap();
        }
    })
    .await;
}

/// Applies `diff` in a copy of `dir` with `patch -p1`, checks it applied cleanly, and
/// copies the result back.
fn apply_with_patch(dir: &Path, diff: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("patch")
        .args(["-p1", "--forward", "--no-backup-if-mismatch"])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("patch is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(diff.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "patch failed: {said}");
    assert!(!said.contains("offset") && !said.contains("fuzz"), "{said}");
}

#[tokio::test]
async fn a_workflow_and_a_sequence_that_stopped_converting_are_flagged() {
    let (project, _dir) = project();
    on_both("stopped", |store| {
        let project = project.clone();
        async move {
            let prev = date(2026, 10, 1);
            let ids = load(
                &store,
                &[
                    // Enrolled last month: 20 of 50 answered.
                    Batch::new(prev, 50, 20, &[]),
                    // Enrolled this month: none of 40 answered.
                    Batch::new(MONTH, 40, 0, &[]),
                    // The automated workflow keeps converting.
                    Batch::new(prev, 40, 10, &[]),
                    Batch::new(MONTH, 40, 11, &[]),
                ],
            )
            .await;
            let enroll = |workflow: &'static str, ids: Vec<String>, month: Date| {
                let store = store.clone();
                async move {
                    for (i, id) in ids.iter().enumerate() {
                        store
                            .enroll(
                                "p",
                                &NewEnrollment {
                                    workflow: workflow.into(),
                                    contact_id: id.clone(),
                                    trigger_value: "Manual Outreach - x".into(),
                                    event_seq: None,
                                    at: at(month, (i % 28) as i8 + 1),
                                },
                                &[],
                            )
                            .await
                            .unwrap();
                        store
                            .record_enrollment(
                                "p",
                                id,
                                workflow,
                                None,
                                at(month, (i % 28) as i8 + 1),
                                "test",
                            )
                            .await
                            .unwrap();
                    }
                }
            };
            enroll("workflow_manual_outreach", ids[0].clone(), prev).await;
            enroll("workflow_manual_outreach", ids[1].clone(), MONTH).await;
            enroll("workflow_automated_outreach", ids[2].clone(), prev).await;
            enroll("workflow_automated_outreach", ids[3].clone(), MONTH).await;
            // The engine's own workflows are not outreach: never listed.
            enroll("automation.lead_scoring", ids[1].clone(), MONTH).await;
            store
                .replace_sequences(
                    "p",
                    &[SequenceRow {
                        id: "workflow_manual_outreach".into(),
                        name: "Manual Outreach Follow-up".into(),
                        user_id: None,
                    }],
                )
                .await
                .unwrap();
            let advice = run(&store, &project).await;
            let find = |kind: &str, key: &str| {
                advice
                    .conversions
                    .iter()
                    .find(|c| c.kind == kind && c.key == key)
                    .unwrap_or_else(|| panic!("{kind} {key} in {:?}", advice.conversions))
            };
            let manual = find("workflow", "workflow_manual_outreach");
            assert_eq!(
                manual.status,
                ConversionStatus::Stopped,
                "{}",
                manual.verdict
            );
            assert_eq!((manual.current.successes, manual.current.trials), (0, 40));
            assert_eq!(
                (manual.previous.successes, manual.previous.trials),
                (20, 50)
            );
            assert!(manual.verdict.contains("stopped converting"));
            let auto = find("workflow", "workflow_automated_outreach");
            assert_eq!(
                auto.status,
                ConversionStatus::Converting,
                "{}",
                auto.verdict
            );
            let seq = find("sequence", "workflow_manual_outreach");
            assert_eq!(seq.name, "Manual Outreach Follow-up");
            assert_eq!(seq.status, ConversionStatus::Stopped);
            // A sequence the store does not list keeps its id as its name.
            let other = find("sequence", "workflow_automated_outreach");
            assert!(other.name.contains("workflow_automated_outreach"));
            assert!(
                advice
                    .conversions
                    .iter()
                    .all(|c| !(c.kind == "workflow" && c.key.starts_with("automation."))),
                "{:?}",
                advice.conversions
            );
            assert!(
                advice
                    .suggestions
                    .iter()
                    .any(|s| s.contains("Manual Outreach Contact Processing stopped converting")),
                "{:?}",
                advice.suggestions
            );
        }
    })
    .await;
}

#[tokio::test]
async fn trends_compare_the_month_with_the_one_before() {
    let (project, _dir) = project();
    on_both("trends", |store| {
        let project = project.clone();
        async move {
            let prev = date(2026, 10, 1);
            load(
                &store,
                &[
                    Batch::new(prev, 100, 10, &[]),
                    Batch::new(MONTH, 200, 60, &[]),
                    // Two months back: in neither month.
                    Batch::new(date(2026, 9, 1), 500, 500, &[]),
                ],
            )
            .await;
            let advice = run(&store, &project).await;
            assert_eq!(
                (advice.month.as_str(), advice.previous_month.as_str()),
                ("2026-11", "2026-10")
            );
            let created = &advice.trends[0];
            assert_eq!(created.previous.display(), "100");
            assert_eq!(created.current.display(), "200");
            assert_eq!(created.change, Some(100.0));
            assert_eq!(created.per_day, Some([100.0 / 31.0, 200.0 / 30.0]));
            assert!(
                advice
                    .to_markdown()
                    .contains("Total Contacts Created: 100 → 200 (+100; per day 3.2 → 6.7); z = "),
                "{}",
                advice.to_markdown()
            );
            // October has 31 days, November 30: p = 30/61; z = (200 − 300·30/61) / sd.
            let p: f64 = 30.0 / 61.0;
            let z = (200.0 - 300.0 * p) / (300.0 * p * (1.0 - p)).sqrt();
            let Evidence::Tested(t) = &created.evidence else {
                panic!("{:?}", created.evidence)
            };
            assert!((t.statistic - z).abs() < 1e-9);
            assert!(t.significant);
            let rr = &advice.trends[1];
            assert_eq!(rr.current.display(), "30.0%");
            assert_eq!(rr.previous.display(), "10.0%");
            assert!((rr.change.unwrap() - 20.0).abs() < 1e-9);
            assert!(rr.evidence.significant());
        }
    })
    .await;
}
