//! The counts behind advice: contacts per ICP fit score and response status, and distinct
//! live contacts enrolled per workflow and per sequence in a window, by response status.

use leadflow_core::ObjectType;
use leadflow_store::{ContactFilter, EnrolledCounts, NewEnrollment, ScoreCounts, SequenceRow};

use crate::{contact, on_both};

fn created(mut r: leadflow_store::StoredRecord, at: i64) -> leadflow_store::StoredRecord {
    r.created_at = Some(at);
    r
}

#[tokio::test]
async fn fit_score_counts_group_by_score_and_status_within_the_filter() {
    on_both("advice_scores", |store| async move {
        let out = |score: &'static str, status: &'static str| {
            vec![
                ("lead_source", "Outbound"),
                ("icp_fit_score", score),
                ("response_status", status),
            ]
        };
        let page = vec![
            created(contact("1", 1, &out("7", "Meeting Scheduled")), 100),
            created(contact("2", 1, &out("7", "Meeting Scheduled")), 150),
            created(contact("3", 1, &out("7", "No Response")), 150),
            created(contact("4", 1, &out("6.0", "Meeting Scheduled")), 150),
            created(contact("5", 1, &[("lead_source", "Outbound")]), 150),
            // Outside: inbound, before the window, at its end, archived.
            created(
                contact(
                    "6",
                    1,
                    &[("lead_source", "Inbound"), ("icp_fit_score", "7")],
                ),
                150,
            ),
            created(contact("7", 1, &out("7", "No Response")), 99),
            created(contact("8", 1, &out("7", "No Response")), 200),
            created(contact("9", 1, &out("7", "No Response")), 150),
        ];
        store
            .upsert_records("p", ObjectType::Contacts, &page, "backfill", None)
            .await
            .unwrap();
        let mut gone = contact("9", 2, &out("7", "No Response"));
        gone.archived = true;
        store
            .upsert_records("p", ObjectType::Contacts, &[gone], "webhook", None)
            .await
            .unwrap();
        let filter = ContactFilter {
            equals: vec![("lead_source".into(), "Outbound".into())],
            created_from: Some(100),
            created_until: Some(200),
        };
        let mut rows = store.fit_score_counts("p", &filter).await.unwrap();
        rows.sort_by(|a, b| {
            a.score
                .partial_cmp(&b.score)
                .unwrap()
                .then(a.response_status.cmp(&b.response_status))
        });
        let row = |score: Option<f64>, status: Option<&str>, contacts| ScoreCounts {
            score,
            response_status: status.map(str::to_owned),
            contacts,
        };
        assert_eq!(
            rows,
            [
                row(None, None, 1),
                row(Some(6.0), Some("Meeting Scheduled"), 1),
                row(Some(7.0), Some("Meeting Scheduled"), 2),
                row(Some(7.0), Some("No Response"), 1),
            ]
        );
        let bad = ContactFilter {
            equals: vec![("firstname".into(), "Ada".into())],
            ..filter
        };
        assert!(store.fit_score_counts("p", &bad).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn enrolled_counts_are_live_contacts_and_responses_after_enrolling() {
    on_both("advice_enrolled", |store| async move {
        let page: Vec<_> = ["1", "2", "3", "4"]
            .iter()
            .map(|id| contact(id, 1, &[("response_status", "No Response")]))
            .collect();
        store
            .upsert_records("p", ObjectType::Contacts, &page, "backfill", None)
            .await
            .unwrap();
        // Responses as sync sees them: logged when they happen (the version's time).
        for (id, at, status) in [
            ("1", 160, "Interested"),
            ("2", 250, "Interested"),
            ("4", 50, "Meeting Scheduled"),
        ] {
            store
                .upsert_records(
                    "p",
                    ObjectType::Contacts,
                    &[contact(id, at, &[("response_status", status)])],
                    "webhook",
                    None,
                )
                .await
                .unwrap();
        }
        let mut gone = contact("3", 300, &[]);
        gone.archived = true;
        store
            .upsert_records("p", ObjectType::Contacts, &[gone], "webhook", None)
            .await
            .unwrap();
        for (workflow, id, value, at) in [
            ("w1", "1", "tag A", 100),
            // Twice in one workflow: one contact.
            ("w1", "1", "tag B", 150),
            // Responded after the window's end.
            ("w1", "2", "tag A", 150),
            // Gone.
            ("w1", "3", "tag A", 150),
            // Responded before enrolling.
            ("w1", "4", "tag A", 150),
            // Outside the window.
            ("w2", "2", "tag A", 200),
        ] {
            store
                .enroll(
                    "p",
                    &NewEnrollment {
                        workflow: workflow.into(),
                        contact_id: id.into(),
                        trigger_value: value.into(),
                        event_seq: None,
                        at,
                    },
                    &[],
                )
                .await
                .unwrap();
        }
        let responses = ["Interested", "Not Interested", "Meeting Scheduled"];
        let rows = store
            .workflow_enrolled_counts("p", 100, 200, &responses)
            .await
            .unwrap();
        let row = |key: &str, name: Option<&str>, contacts, responded| EnrolledCounts {
            key: key.into(),
            name: name.map(str::to_owned),
            contacts,
            responded,
        };
        assert_eq!(rows, [row("w1", None, 3, 1)]);
        // Later, contact 2's response falls in the window too.
        let rows = store
            .workflow_enrolled_counts("p", 100, 300, &responses)
            .await
            .unwrap();
        let mut rows = rows;
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(rows, [row("w1", None, 3, 2), row("w2", None, 1, 1)]);
        // No response status asked: nobody responded.
        let rows = store
            .workflow_enrolled_counts("p", 100, 200, &[])
            .await
            .unwrap();
        assert_eq!(rows, [row("w1", None, 3, 0)]);

        store
            .replace_sequences(
                "p",
                &[SequenceRow {
                    id: "s1".into(),
                    name: "Follow-up".into(),
                    user_id: None,
                }],
            )
            .await
            .unwrap();
        for (id, sequence, at) in [
            ("1", "s1", 120),
            ("2", "s1", 130),
            ("1", "s9", 140),
            ("2", "s9", 250),
        ] {
            store
                .record_enrollment("p", id, sequence, None, at, "test")
                .await
                .unwrap();
        }
        let mut rows = store
            .sequence_enrolled_counts("p", 100, 200, &responses)
            .await
            .unwrap();
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(
            rows,
            [row("s1", Some("Follow-up"), 2, 1), row("s9", None, 1, 1)]
        );
        assert!(
            store
                .sequence_enrolled_counts("other", 0, i64::MAX, &responses)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}
