//! The daily scoring run and the scheduler against a real store (SQLite): only changed
//! scores become write intents, once a day, in the payload the engine's executor reads;
//! a due slot runs once however many workers run the scheduler.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::date;
use leadflow_automation::{JobOutcome, ScoringReport, run_due, run_scoring, score, write_payload};
use leadflow_config::Project;
use leadflow_core::ObjectType;
use leadflow_store::{Store, StoredRecord};

fn project() -> Project {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), false).unwrap();
    let (project, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{diags:?}");
    project
}

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("leadflow.db").display());
    (Store::connect(&url).await.unwrap(), dir)
}

const STATUSES: [&str; 4] = [
    "No Response",
    "Not Interested",
    "Interested",
    "Meeting Scheduled",
];

/// 250 contacts with varied fit, status and activity; every other one (from 120 on) has
/// its score stored already, the rest a stale or no score. Returns how many are stale.
async fn seed(store: &Store, project: &Project) -> u64 {
    let today = date(2026, 11, 25);
    let mut records = Vec::new();
    let mut stale = 0;
    for n in 0..250_u32 {
        let mut props: BTreeMap<String, Option<String>> = BTreeMap::from([
            ("email".to_owned(), Some(format!("c{n}@acme.example"))),
            (
                "icp_fit_score".to_owned(),
                (n % 11 != 0).then(|| (n % 10 + 1).to_string()),
            ),
            (
                "response_status".to_owned(),
                Some(STATUSES[n as usize % 4].to_owned()),
            ),
            (
                "last_activity_date".to_owned(),
                Some(format!("2026-11-{:02}", 1 + n % 25)),
            ),
        ]);
        let (s, _) = score(&project.scoring, &props, today);
        let stored = if n >= 120 && n % 2 == 0 {
            Some(s.to_string())
        } else {
            stale += 1;
            (n % 3 != 0).then(|| if s == 100 { 99 } else { s + 1 }.to_string())
        };
        props.insert("lead_score".to_owned(), stored);
        records.push(StoredRecord {
            id: format!("{}", 1000 + n),
            properties: props,
            created_at: Some(1),
            updated_at: 1,
            archived: false,
        });
    }
    let mut gone = records[0].clone();
    gone.id = "999".to_owned();
    gone.archived = true;
    records.push(gone);
    store
        .upsert_records("p", ObjectType::Contacts, &records, "backfill", None)
        .await
        .unwrap();
    stale
}

#[tokio::test]
async fn only_changed_scores_become_write_intents_once_a_day_that_the_engine_reads() {
    let project = project();
    let (store, _dir) = store().await;
    let stale = seed(&store, &project).await;
    assert_eq!(stale, 120 + 65);
    let today = date(2026, 11, 25);
    let report = run_scoring(&store, "p", &project.scoring, today, 5)
        .await
        .unwrap();
    assert_eq!(
        report,
        ScoringReport {
            read: 250,
            changed: stale,
            intents: stale,
            api_calls: 2,
        },
        "the archived contact is not read; 185 writes are two batch calls"
    );
    assert_eq!(
        store.intent_counts("p").await.unwrap(),
        [("write".to_owned(), "pending".to_owned(), stale as i64)]
    );
    for id in ["1000", "1001", "1121", "1249"] {
        let contact = store
            .record("p", ObjectType::Contacts, id)
            .await
            .unwrap()
            .unwrap();
        let (s, _) = score(&project.scoring, &contact.properties, today);
        let intents = store.intents_of("p", id).await.unwrap();
        assert_eq!(intents.len(), 1, "{id}");
        let i = &intents[0];
        assert_eq!(
            i.key,
            format!("automation.lead_scoring:{id}:2026-11-25:0:write")
        );
        assert_eq!(
            (i.action.as_str(), i.workflow.as_str()),
            ("write", "automation.lead_scoring")
        );
        // What the executor does with it: `Intended` as serialized by the engine.
        let read: leadflow_engine::Intended = serde_json::from_str(&i.payload).unwrap();
        assert_eq!(
            read,
            leadflow_engine::Intended::Write {
                properties: BTreeMap::from([("lead_score".to_owned(), s.to_string())]),
            }
        );
        assert_eq!(i.payload, write_payload(s));
    }
    for id in ["1120", "1248"] {
        assert!(
            store.intents_of("p", id).await.unwrap().is_empty(),
            "{id} unchanged"
        );
    }
    assert_eq!(
        write_payload(57),
        r#"{"action":"write","properties":{"lead_score":"57"}}"#
    );

    // The same day again: the same scores differ, nothing more is recorded.
    let again = run_scoring(&store, "p", &project.scoring, today, 6)
        .await
        .unwrap();
    assert_eq!(
        (again.changed, again.intents, again.api_calls),
        (stale, 0, 0)
    );
    // The next day is a new trigger.
    let next = run_scoring(&store, "p", &project.scoring, date(2026, 11, 26), 7)
        .await
        .unwrap();
    assert!(next.intents > 0 && next.intents == next.changed, "{next:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_slot_runs_once_however_many_workers_and_the_others_only_wait() {
    let mut project = project();
    project.schedules.time_zone = "Europe/Berlin".to_owned();
    let (store, _dir) = store().await;
    seed(&store, &project).await;
    let now: Timestamp = "2026-11-25T09:00:00Z".parse().unwrap();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (store, project) = (store.clone(), project.clone());
            tokio::spawn(async move {
                run_due(&store, "p", &project.schedules, &project.scoring, now, 42)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut ran = 0;
    for w in workers {
        let reports = w.await.unwrap();
        let keys: Vec<&str> = reports.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            ["daily_cleanup", "weekly_reporting", "monthly_optimization"]
        );
        match &reports[0].outcome {
            JobOutcome::Ran {
                slot,
                date,
                scoring,
                ..
            } => {
                ran += 1;
                assert_eq!(slot.to_string(), "2026-11-25T05:00:00Z");
                assert_eq!(date.to_string(), "2026-11-25");
                assert_eq!(scoring.read, 250);
            }
            JobOutcome::ClaimedElsewhere { .. } | JobOutcome::NotDue { .. } => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(reports[1].outcome, JobOutcome::NoJobYet);
        assert_eq!(reports[2].outcome, JobOutcome::NoJobYet);
        assert_eq!(
            reports[1].next.map(|t| t.to_string()).as_deref(),
            Some("2026-11-30T08:00:00Z")
        );
    }
    assert_eq!(ran, 1);
    let last = store
        .last_schedule_run("p", "daily_cleanup")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((last.started_at, last.finished_at), (42, Some(42)));
    assert!(last.outcome.unwrap().starts_with("lead scoring: 250 read"));
    // The intents are stamped with the wall clock given, not the slot or `now`.
    let intents = store.intents_of("p", "1000").await.unwrap();
    assert_eq!(intents[0].created_at, 42);
    assert!(
        store
            .last_schedule_run("p", "weekly_reporting")
            .await
            .unwrap()
            .is_none()
    );

    // Later the same day: nothing due; the next morning: the next slot.
    let later = run_due(
        &store,
        "p",
        &project.schedules,
        &project.scoring,
        now + jiff::SignedDuration::from_hours(8),
        43,
    )
    .await
    .unwrap();
    assert_eq!(
        later[0].outcome,
        JobOutcome::NotDue {
            last: Some("2026-11-25T05:00:00Z".parse().unwrap())
        }
    );
    let tomorrow = run_due(
        &store,
        "p",
        &project.schedules,
        &project.scoring,
        "2026-11-26T05:00:00Z".parse().unwrap(),
        44,
    )
    .await
    .unwrap();
    assert!(
        matches!(tomorrow[0].outcome, JobOutcome::Ran { missed: 0, .. }),
        "{tomorrow:?}"
    );
}
