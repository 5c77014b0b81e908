//! The scheduled jobs against a real store (SQLite, and PostgreSQL when
//! `LEADFLOW_TEST_DATABASE_URL` is set): only changed scores become write intents, once a
//! day, in the payload the engine's executor reads; a due slot runs once however many
//! workers run the scheduler.

mod daily;
mod scheduler;
mod weekly;

use std::collections::BTreeMap;

use jiff::civil::date;
use leadflow_automation::{ScoringReport, run_scoring, score, write_payload};
use leadflow_config::Project;
use leadflow_core::ObjectType;
pub(crate) use leadflow_store::testing::{on_both, sqlite as store};
use leadflow_store::{Store, StoredRecord};

pub(crate) fn project() -> Project {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), false).unwrap();
    let (project, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{diags:?}");
    project
}

const STATUSES: [&str; 4] = [
    "No Response",
    "Not Interested",
    "Interested",
    "Meeting Scheduled",
];

/// 250 contacts with varied fit, status and activity; every other one (from 120 on) has
/// its score stored already, the rest a stale or no score. Returns how many are stale.
pub(crate) async fn seed(store: &Store, project: &Project) -> u64 {
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
