//! `leadflow advise`: the advice over a store where meetings come from score 6 as often as
//! from 7 and up, printed as Markdown with a diff that `patch` applies, and as JSON; the
//! configuration left as it was; a bad month refused with the expected form.

use std::collections::BTreeMap;

use jiff::civil::date;
use jiff::tz::TimeZone;
use leadflow_core::ObjectType;
use leadflow_store::{Store, StoredRecord};

use crate::{run, strings, text};

/// 100 outbound contacts per ICP fit score 1-10, created in November 2026; 30 of each
/// score from 6 up have a meeting, 1 of each below.
async fn seed(url: &str) {
    let store = Store::connect(url).await.unwrap();
    let mut records = Vec::new();
    for score in 1..=10 {
        for i in 0..100 {
            let meeting = i < if score >= 6 { 30 } else { 1 };
            let created = date(2026, 11, (i % 28) as i8 + 1)
                .at(12, 0, 0, 0)
                .to_zoned(TimeZone::UTC)
                .unwrap()
                .timestamp()
                .as_millisecond();
            records.push(StoredRecord {
                id: format!("{score}-{i}"),
                properties: BTreeMap::from([
                    ("lead_source".to_owned(), Some("Outbound".to_owned())),
                    ("icp_fit_score".to_owned(), Some(score.to_string())),
                    (
                        "response_status".to_owned(),
                        Some(
                            if meeting {
                                "Meeting Scheduled"
                            } else {
                                "No Response"
                            }
                            .to_owned(),
                        ),
                    ),
                ]),
                created_at: Some(created),
                updated_at: 1,
                archived: false,
            });
        }
    }
    store
        .upsert_records("default", ObjectType::Contacts, &records, "backfill", None)
        .await
        .unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advise_suggests_a_threshold_as_a_diff_and_never_applies_it() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let project_s = project.to_str().unwrap().to_owned();
    let db = format!("sqlite://{}", dir.path().join("leadflow.db").display());
    let o = run(strings(&["init", &project_s]), vec![]).await;
    assert!(o.status.success(), "{}", text(&o));
    seed(&db).await;
    let before = std::fs::read_to_string(project.join("workflows.yaml")).unwrap();
    let env = vec![("LEADFLOW_DATABASE_URL".to_owned(), db.clone())];

    let o = run(
        strings(&["advise", "--month", "2026-11", "--config", &project_s]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.starts_with("# Optimisation advice for 2026-11\n"),
        "{out}"
    );
    assert!(
        out.contains("consider creating deals from 6"),
        "the threshold suggestion:\n{out}"
    );
    assert!(out.contains("## Trends: 2026-11 against 2026-10"), "{out}");
    let diff = out
        .split("```diff\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| panic!("a diff block in:\n{out}"));
    assert!(
        diff.contains("+        condition: \"ICP Fit Score >= 6\""),
        "{diff}"
    );
    assert_eq!(
        std::fs::read_to_string(project.join("workflows.yaml")).unwrap(),
        before,
        "advise never writes the configuration"
    );

    // The printed diff applies cleanly, and the configuration stays valid.
    let mut patch = std::process::Command::new("patch")
        .args(["-p1", "--forward", "--no-backup-if-mismatch"])
        .current_dir(&project)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("patch is installed");
    std::io::Write::write_all(&mut patch.stdin.take().unwrap(), diff.as_bytes()).unwrap();
    let applied = patch.wait_with_output().unwrap();
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stdout)
    );
    let o = run(strings(&["check", &project_s]), vec![]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // JSON: every count and test; after the change there is nothing left to suggest.
    let o = run(
        strings(&[
            "advise", "--month", "2026-11", "--format", "json", "--config", &project_s,
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["month"], "2026-11");
    assert_eq!(json["alpha"], 0.05);
    assert_eq!(json["thresholds"][0]["threshold"], 6);
    assert_eq!(json["diff"], serde_json::Value::Null);

    let o = run(
        strings(&["advise", "--month", "November", "--config", &project_s]),
        env,
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("is not a month such as 2026-11"),
        "{}",
        text(&o)
    );
}
