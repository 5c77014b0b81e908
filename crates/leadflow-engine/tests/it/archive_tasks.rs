//! The daily cleanup's `archive_task` intents carried out against the sandbox: a task
//! still completed in HubSpot is archived (and marked gone in the store), a task reopened
//! since is not, one gone already settles quietly, and nothing is done twice.

use leadflow_core::ObjectType;
use leadflow_engine::exec::{ARCHIVE_TASK, Executor};
use leadflow_hubspot::{ObjectInput, PropertyValues};
use leadflow_store::{NewEnrollment, NewIntent, StoredRecord};

use crate::{PORTAL, world};

#[tokio::test]
async fn completed_tasks_are_archived_once_and_reopened_ones_survive() {
    let w = world().await;
    w.sync(true).await;
    let (_, map) = w.engine().await;
    let task = |status: &str| ObjectInput {
        properties: PropertyValues::from([
            ("hs_task_subject".to_owned(), format!("a {status} task")),
            ("hs_task_status".to_owned(), status.to_owned()),
            ("hs_timestamp".to_owned(), "2026-01-01T00:00:00Z".to_owned()),
        ]),
        ..ObjectInput::default()
    };
    let created = w
        .client
        .objects(ObjectType::Tasks)
        .batch_create(vec![task("COMPLETED"), task("NOT_STARTED")])
        .await
        .unwrap();
    assert!(created.is_complete());
    let id_of = |status: &str| {
        created
            .results
            .iter()
            .find(|t| t.get("hs_task_status") == Some(status))
            .unwrap()
            .id
            .clone()
    };
    let (done, open) = (id_of("COMPLETED"), id_of("NOT_STARTED"));
    // The store saw both completed (the open one was reopened since), plus one HubSpot no
    // longer has.
    let stored: Vec<StoredRecord> = [&done, &open]
        .iter()
        .map(|id| StoredRecord {
            id: (*id).clone(),
            properties: [("hs_task_status".to_owned(), Some("COMPLETED".to_owned()))].into(),
            created_at: Some(1),
            updated_at: 1,
            archived: false,
        })
        .collect();
    w.store
        .upsert_records(PORTAL, ObjectType::Tasks, &stored, "backfill", None)
        .await
        .unwrap();
    for id in [done.as_str(), open.as_str(), "999999"] {
        let enrollment = NewEnrollment {
            workflow: "automation.task_cleanup".to_owned(),
            contact_id: id.to_owned(),
            trigger_value: "archive".to_owned(),
            event_seq: None,
            at: 1,
        };
        let intent = NewIntent {
            key: format!("automation.task_cleanup:{id}:archive:0:archive_task"),
            action: ARCHIVE_TASK.to_owned(),
            payload: serde_json::json!({ "action": ARCHIVE_TASK }).to_string(),
            state: "pending".to_owned(),
            note: None,
        };
        assert!(
            w.store
                .enroll(PORTAL, &enrollment, &[intent])
                .await
                .unwrap()
        );
    }
    let before = w.count("tasks");
    let now = jiff::Timestamp::now().as_millisecond();
    let r = Executor::new(&w.client, &w.store, PORTAL, &map, now)
        .run()
        .await
        .unwrap();
    assert_eq!(
        (r.done, r.skipped, r.dead, r.retried),
        (1, 2, 0, 0),
        "{r:?}"
    );
    assert_eq!(w.count("tasks"), before - 1);
    assert!(w.sb.state().record("tasks", &done).is_none());
    assert!(
        w.sb.state().record("tasks", &open).is_some(),
        "the reopened task survives"
    );
    let state = |id: String| {
        let store = w.store.clone();
        async move {
            let i = store.intents_of(PORTAL, &id).await.unwrap();
            (
                i[0].state.clone(),
                i[0].last_error.clone().unwrap_or_default(),
            )
        }
    };
    assert_eq!(state(done.clone()).await.0, "done");
    let (s, why) = state(open.clone()).await;
    assert_eq!(s, "skipped");
    assert!(
        why.contains("not completed in HubSpot (status NOT_STARTED)"),
        "{why}"
    );
    assert_eq!(state("999999".to_owned()).await.0, "skipped");
    let gone = w
        .store
        .record(PORTAL, ObjectType::Tasks, &done)
        .await
        .unwrap()
        .unwrap();
    assert!(gone.archived, "marked gone in the store");

    // Nothing is due any more.
    let again = Executor::new(&w.client, &w.store, PORTAL, &map, now + 1)
        .run()
        .await
        .unwrap();
    assert_eq!(again, leadflow_engine::ExecReport::default());
    assert_eq!(w.count("tasks"), before - 1);
}
