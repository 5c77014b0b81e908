//! The daily cleanup against a real store (SQLite and PostgreSQL): last activity dates
//! from tasks, sequence enrollments and responses, moved only forward and scored with the
//! new date; completed tasks past the retention archived once, open tasks never.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::date;
use jiff::tz::TimeZone;
use leadflow_automation::{
    ACTIVITY_WORKFLOW, ARCHIVE_TASK, ActivityReport, CLEANUP_WORKFLOW, CleanupReport, ContactWork,
    clean_up_tasks, completed_at, run_contacts, score,
};
use leadflow_core::ObjectType;
use leadflow_store::{Link, Store, StoredRecord};

use crate::{on_both, project};

fn ms(t: &str) -> i64 {
    t.parse::<Timestamp>().unwrap().as_millisecond()
}

fn record(id: &str, created: i64, updated: i64, props: &[(&str, &str)]) -> StoredRecord {
    StoredRecord {
        id: id.to_owned(),
        properties: props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned())))
            .collect::<BTreeMap<_, _>>(),
        created_at: Some(created),
        updated_at: updated,
        archived: false,
    }
}

async fn link_task(store: &Store, contact: &str, task: &str, from_task: bool) {
    let (pair, link) = if from_task {
        (
            (ObjectType::Tasks, ObjectType::Contacts),
            Link {
                from_id: task.to_owned(),
                to_id: contact.to_owned(),
                type_id: 204,
            },
        )
    } else {
        (
            (ObjectType::Contacts, ObjectType::Tasks),
            Link {
                from_id: contact.to_owned(),
                to_id: task.to_owned(),
                type_id: 203,
            },
        )
    };
    store
        .set_association("p", pair, &link, true, 1, "test")
        .await
        .unwrap();
}

fn written(store_intents: &[leadflow_store::Intent], workflow: &str) -> Option<String> {
    store_intents
        .iter()
        .find(|i| i.workflow == workflow)
        .map(|i| i.payload.clone())
}

#[tokio::test]
async fn last_activity_dates_come_from_engagement_move_forward_only_and_feed_the_scores() {
    on_both("activity", |store| async move {
        let project = project();
        let tz = TimeZone::get("America/New_York").unwrap();
        let today = date(2026, 11, 25);
        let base = [("icp_fit_score", "8"), ("response_status", "No Response")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut p = base.to_vec();
            p.extend_from_slice(extra);
            p
        };
        let contacts = vec![
            // A task created, another completed later (late evening in New York, already
            // the next day in UTC).
            record("c1", 1, 1, &with(&[("last_activity_date", "2026-11-01")])),
            // A sequence enrollment, no date stored.
            record("c2", 1, 1, &with(&[])),
            // A response (logged below by an incremental change), stored date earlier.
            record("c3", 1, 1, &with(&[("last_activity_date", "2026-10-01")])),
            // A task, but a later date entered by hand: kept.
            record("c4", 1, 1, &with(&[("last_activity_date", "2026-11-24")])),
            // Nothing at all.
            record("c5", 1, 1, &with(&[("last_activity_date", "2026-09-09")])),
            // Engagement on the stored day already: no change.
            record("c6", 1, 1, &with(&[("last_activity_date", "2026-11-20")])),
        ];
        store
            .upsert_records("p", ObjectType::Contacts, &contacts, "backfill", None)
            .await
            .unwrap();
        let tasks = vec![
            record(
                "t1",
                ms("2026-11-10T15:00:00Z"),
                ms("2026-11-10T15:00:00Z"),
                &[("hs_task_status", "NOT_STARTED")],
            ),
            record(
                "t2",
                ms("2026-11-02T15:00:00Z"),
                ms("2026-11-23T10:00:00Z"),
                &[
                    ("hs_task_status", "COMPLETED"),
                    ("hs_task_completion_date", "2026-11-22T03:30:00Z"),
                ],
            ),
            record(
                "t4",
                ms("2026-11-12T15:00:00Z"),
                ms("2026-11-12T15:00:00Z"),
                &[("hs_task_status", "NOT_STARTED")],
            ),
            record(
                "t6",
                ms("2026-11-20T15:00:00Z"),
                ms("2026-11-20T15:00:00Z"),
                &[("hs_task_status", "WAITING")],
            ),
        ];
        store
            .upsert_records("p", ObjectType::Tasks, &tasks, "backfill", None)
            .await
            .unwrap();
        link_task(&store, "c1", "t1", false).await;
        link_task(&store, "c1", "t2", true).await;
        link_task(&store, "c4", "t4", false).await;
        link_task(&store, "c6", "t6", true).await;
        store
            .record_enrollment(
                "p",
                "c2",
                "seq-1",
                Some("e1"),
                ms("2026-11-15T12:00:00Z"),
                "test",
            )
            .await
            .unwrap();
        // c3 responds: an incremental change logs the new Response Status.
        let mut c3 = contacts[2].clone();
        c3.properties
            .insert("response_status".into(), Some("Interested".into()));
        c3.updated_at = ms("2026-11-18T14:00:00Z");
        store
            .upsert_records("p", ObjectType::Contacts, &[c3], "incremental", None)
            .await
            .unwrap();

        let work = ContactWork {
            activity: true,
            scoring: Some(&project.scoring),
            tz: &tz,
        };
        let (activity, scoring) = run_contacts(&store, "p", work, today, 7).await.unwrap();
        assert_eq!(
            activity,
            Some(ActivityReport {
                read: 6,
                engaged: 5,
                changed: 3,
                intents: 3,
                api_calls: 1,
            })
        );
        let expect = [
            // 03:30 UTC on the 22nd is the 21st in New York.
            ("c1", Some("2026-11-21")),
            ("c2", Some("2026-11-15")),
            ("c3", Some("2026-11-18")),
            ("c4", None),
            ("c5", None),
            ("c6", None),
        ];
        for (id, date) in expect {
            let intents = store.intents_of("p", id).await.unwrap();
            let want = date.map(|d| {
                serde_json::json!({ "action": "write", "properties": { "last_activity_date": d } })
                    .to_string()
            });
            assert_eq!(written(&intents, ACTIVITY_WORKFLOW), want, "{id}");
            // The score is computed with the new date.
            let mut contact = store
                .record("p", ObjectType::Contacts, id)
                .await
                .unwrap()
                .unwrap();
            if let Some(d) = date {
                contact
                    .properties
                    .insert("last_activity_date".into(), Some(d.to_owned()));
            }
            let (s, _) = score(&project.scoring, &contact.properties, today);
            assert_eq!(
                written(&intents, "automation.lead_scoring"),
                Some(leadflow_automation::write_payload(s)),
                "{id}"
            );
            if let Some(i) = intents.iter().find(|i| i.workflow == ACTIVITY_WORKFLOW) {
                assert_eq!(
                    i.key,
                    format!("{ACTIVITY_WORKFLOW}:{id}:2026-11-25:0:write")
                );
                let read: leadflow_engine::Intended = serde_json::from_str(&i.payload).unwrap();
                assert!(matches!(read, leadflow_engine::Intended::Write { .. }));
            }
        }
        assert_eq!(scoring.unwrap().read, 6);

        // The same day again: nothing more is recorded.
        let (again, _) = run_contacts(&store, "p", work, today, 8).await.unwrap();
        assert_eq!(again.map(|r| (r.changed, r.intents)), Some((3, 0)));
        // Activity alone: no score intents are recorded.
        let only = ContactWork {
            activity: true,
            scoring: None,
            tz: &tz,
        };
        let (a, s) = run_contacts(&store, "p", only, date(2026, 11, 26), 9)
            .await
            .unwrap();
        assert_eq!((a.map(|r| r.intents), s), (Some(3), None));
    })
    .await;
}

#[tokio::test]
async fn completed_tasks_past_the_retention_are_archived_once_and_open_tasks_never() {
    on_both("cleanup", |store| async move {
        let slot: Timestamp = "2026-11-25T06:00:00Z".parse().unwrap();
        let day = 86_400_000;
        let s = slot.as_millisecond();
        let a_done = (s - 100 * day).to_string();
        let tasks = vec![
            // Completed 100 days ago: archived.
            record(
                "a",
                s - 200 * day,
                s - 50 * day,
                &[
                    ("hs_task_status", "COMPLETED"),
                    ("hs_task_completion_date", a_done.as_str()),
                ],
            ),
            // Completed 10 days ago: kept.
            record(
                "b",
                s - 200 * day,
                s - 10 * day,
                &[
                    ("hs_task_status", "COMPLETED"),
                    ("hs_task_completion_date", "2026-11-15T06:00:00Z"),
                ],
            ),
            // Open for 400 days: never archived.
            record(
                "c",
                s - 400 * day,
                s - 300 * day,
                &[("hs_task_status", "NOT_STARTED")],
            ),
            // Waiting for a year: an open task too.
            record(
                "d",
                s - 365 * day,
                s - 365 * day,
                &[("hs_task_status", "WAITING")],
            ),
            // Completed with no completion date stored, last changed 91 days ago: archived
            // (its last change is at or after its completion).
            record(
                "e",
                s - 120 * day,
                s - 91 * day,
                &[("hs_task_status", "COMPLETED")],
            ),
            // The same, changed 89 days ago: kept.
            record(
                "f",
                s - 120 * day,
                s - 89 * day,
                &[("hs_task_status", "COMPLETED")],
            ),
        ];
        store
            .upsert_records("p", ObjectType::Tasks, &tasks, "backfill", None)
            .await
            .unwrap();
        let mut gone = tasks[0].clone();
        gone.id = "g".into();
        gone.archived = true;
        store
            .upsert_records("p", ObjectType::Tasks, &[gone], "backfill", None)
            .await
            .unwrap();
        assert_eq!(completed_at(&tasks[2]), None);
        assert_eq!(completed_at(&tasks[4]), Some(s - 91 * day));

        let utc = TimeZone::UTC;
        let r = clean_up_tasks(&store, "p", 90, (slot, &utc), 5)
            .await
            .unwrap();
        assert_eq!(
            r,
            CleanupReport {
                retention_days: 90,
                read: 6,
                completed: 4,
                expired: 2,
                intents: 2,
                open_kept: 2,
            }
        );
        for (id, archived) in [
            ("a", true),
            ("b", false),
            ("c", false),
            ("d", false),
            ("e", true),
            ("f", false),
        ] {
            let intents = store.intents_of("p", id).await.unwrap();
            assert_eq!(intents.len(), usize::from(archived), "{id}");
            if let Some(i) = intents.first() {
                assert_eq!(
                    (i.workflow.as_str(), i.action.as_str(), i.key.as_str()),
                    (
                        CLEANUP_WORKFLOW,
                        ARCHIVE_TASK,
                        format!("{CLEANUP_WORKFLOW}:{id}:archive:0:archive_task").as_str()
                    )
                );
            }
        }
        // The engine's executor knows the action by this name.
        assert_eq!(ARCHIVE_TASK, leadflow_engine::exec::ARCHIVE_TASK);

        // A later run records nothing twice; a shorter retention takes more, still no
        // open task.
        let again = clean_up_tasks(&store, "p", 90, (slot, &utc), 6)
            .await
            .unwrap();
        assert_eq!((again.expired, again.intents), (2, 0));
        let short = clean_up_tasks(&store, "p", 5, (slot, &utc), 7)
            .await
            .unwrap();
        assert_eq!((short.expired, short.intents, short.open_kept), (4, 2, 2));
        for id in ["c", "d"] {
            assert!(
                store.intents_of("p", id).await.unwrap().is_empty(),
                "{id} is open"
            );
        }
    })
    .await;
}
