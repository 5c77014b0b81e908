//! Store contract tests: every case runs on SQLite and on PostgreSQL.
//!
//! PostgreSQL runs when `LEADFLOW_TEST_DATABASE_URL` is set (each test gets a fresh
//! database); without it the PostgreSQL half prints a skip reason, unless
//! `LEADFLOW_REQUIRE_POSTGRES=1` (CI), where it fails.

mod advice;
mod health;
mod outbox;
mod reports;
mod schedule_runs;

use std::collections::BTreeMap;

use leadflow_core::ObjectType;
use leadflow_store::testing::on_both;
use leadflow_store::{Gone, Link, ListRow, OwnerRow, SequenceRow, StageRow, Store, StoredRecord};

fn contact(id: &str, updated_at: i64, props: &[(&str, &str)]) -> StoredRecord {
    StoredRecord {
        id: id.to_owned(),
        properties: props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned())))
            .collect::<BTreeMap<_, _>>(),
        created_at: Some(1_000),
        updated_at,
        archived: false,
    }
}

#[tokio::test]
async fn replaying_a_page_changes_nothing_and_the_cursor_moves_with_it() {
    on_both("replay", |store| async move {
        let page = vec![
            contact(
                "1",
                10,
                &[
                    ("email", "a@x.com"),
                    ("response_status", "No Response"),
                    ("icp_fit_score", "7"),
                ],
            ),
            contact("2", 11, &[("email", "b@x.com")]),
        ];
        let first = store
            .upsert_records(
                "p1",
                ObjectType::Contacts,
                &page,
                "backfill",
                Some(("contacts.backfill", "11")),
            )
            .await
            .unwrap();
        assert_eq!((first.inserted, first.updated, first.unchanged), (2, 0, 0));
        assert_eq!(
            store
                .cursor("p1", "contacts.backfill")
                .await
                .unwrap()
                .as_deref(),
            Some("11")
        );
        let again = store
            .upsert_records(
                "p1",
                ObjectType::Contacts,
                &page,
                "backfill",
                Some(("contacts.backfill", "11")),
            )
            .await
            .unwrap();
        assert_eq!(
            (again.inserted, again.updated, again.unchanged, again.events),
            (0, 0, 2, 0)
        );
        assert_eq!(
            store
                .count("p1", ObjectType::Contacts, false)
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .count("p2", ObjectType::Contacts, false)
                .await
                .unwrap(),
            0,
            "portals are apart"
        );
    })
    .await;
}

#[tokio::test]
async fn an_older_version_never_overwrites_a_newer_one() {
    on_both("newer_wins", |store| async move {
        store
            .upsert_records(
                "p",
                ObjectType::Contacts,
                &[contact("1", 20, &[("response_status", "Interested")])],
                "webhook",
                None,
            )
            .await
            .unwrap();
        let stale = store
            .upsert_records(
                "p",
                ObjectType::Contacts,
                &[contact("1", 10, &[("response_status", "No Response")])],
                "incremental",
                None,
            )
            .await
            .unwrap();
        assert_eq!(stale.stale, 1);
        let r = store
            .record("p", ObjectType::Contacts, "1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.get("response_status"), Some("Interested"));
        assert_eq!(r.updated_at, 20);
    })
    .await;
}

#[tokio::test]
async fn managed_property_changes_are_logged_with_old_and_new_values() {
    on_both("events", |store| async move {
        store
            .upsert_records(
                "p",
                ObjectType::Contacts,
                &[contact(
                    "9",
                    1,
                    &[("response_status", "No Response"), ("firstname", "Ada")],
                )],
                "backfill",
                None,
            )
            .await
            .unwrap();
        store
            .upsert_records(
                "p",
                ObjectType::Contacts,
                &[contact(
                    "9",
                    2,
                    &[("response_status", "Interested"), ("firstname", "Ada L.")],
                )],
                "webhook",
                None,
            )
            .await
            .unwrap();
        let mut archived = contact(
            "9",
            3,
            &[("response_status", "Interested"), ("firstname", "Ada L.")],
        );
        archived.archived = true;
        store
            .upsert_records("p", ObjectType::Contacts, &[archived], "reconcile", None)
            .await
            .unwrap();
        let events = store
            .events_of("p", ObjectType::Contacts, "9")
            .await
            .unwrap();
        type Row<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, &'a str);
        let summary: Vec<Row<'_>> = events
            .iter()
            .map(|e| {
                (
                    e.property.as_deref(),
                    e.old_value.as_deref(),
                    e.new_value.as_deref(),
                    e.source.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                // A backfill logs the creation; the initial values are no change.
                (None, None, Some("created"), "backfill"),
                (
                    Some("response_status"),
                    Some("No Response"),
                    Some("Interested"),
                    "webhook"
                ),
                (None, None, Some("archived"), "reconcile"),
            ],
            "firstname is not managed, so its change is kept in the record but not logged"
        );
        assert_eq!(
            store.count("p", ObjectType::Contacts, true).await.unwrap(),
            1
        );
        assert_eq!(
            store.count("p", ObjectType::Contacts, false).await.unwrap(),
            0
        );
    })
    .await;
}

#[tokio::test]
async fn the_queue_enqueues_once_claims_once_and_reclaims_expired_leases() {
    on_both("queue", |store| async move {
        assert!(store.enqueue("p", "workflow", "k1", "{}", 0).await.unwrap());
        assert!(
            !store.enqueue("p", "workflow", "k1", "{}", 0).await.unwrap(),
            "same key, no second job"
        );
        assert!(
            store
                .enqueue("p", "workflow", "k2", "{}", 500)
                .await
                .unwrap()
        );
        let job = store.claim("workflow", 100, 1_000).await.unwrap().unwrap();
        assert_eq!((job.key.as_str(), job.attempts), ("k1", 1));
        assert!(
            store.claim("workflow", 100, 1_000).await.unwrap().is_none(),
            "k1 is leased, k2 is not due"
        );
        // The worker died: after the lease, the job is claimable again.
        let again = store
            .claim("workflow", 1_200, 1_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((again.key.as_str(), again.attempts), ("k1", 2));
        store.complete(again.id).await.unwrap();
        let k2 = store
            .claim("workflow", 2_300, 1_000)
            .await
            .unwrap()
            .unwrap();
        store.fail(k2.id, "HubSpot said no", None).await.unwrap();
        assert!(
            store
                .claim("workflow", 10_000, 1_000)
                .await
                .unwrap()
                .is_none()
        );
        let counts = store.queue_counts().await.unwrap();
        assert_eq!(counts, vec![("dead".to_owned(), 1), ("done".to_owned(), 1)]);
    })
    .await;
}

#[tokio::test]
async fn a_bad_url_is_refused_with_the_accepted_forms() {
    let err = Store::connect("mysql://x").await.unwrap_err();
    assert!(err.to_string().contains("sqlite://"), "{err}");
}

#[tokio::test]
async fn webhook_events_are_stored_once_and_read_in_occurrence_order() {
    use leadflow_store::WebhookEvent;
    on_both("webhooks", |store| async move {
        let event = |key: &str, at: i64| WebhookEvent {
            key: key.to_owned(),
            subscription_type: "contact.propertyChange".to_owned(),
            object_id: "7".to_owned(),
            occurred_at: at,
            property_name: Some("response_status".to_owned()),
            property_value: Some("Interested".to_owned()),
            payload: "{}".to_owned(),
        };
        let first = store
            .store_webhook_events("p", &[event("s:2:20", 20), event("s:1:10", 10)], 100)
            .await
            .unwrap();
        assert_eq!((first.stored, first.duplicates), (2, 0));
        let again = store
            .store_webhook_events("p", &[event("s:1:10", 10)], 101)
            .await
            .unwrap();
        assert_eq!((again.stored, again.duplicates), (0, 1));
        let pending = store.pending_webhook_events("p", 10).await.unwrap();
        assert_eq!(
            pending.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            ["s:1:10", "s:2:20"]
        );
        store
            .mark_webhook_events_processed("p", &["s:1:10".to_owned()])
            .await
            .unwrap();
        assert_eq!(
            store.pending_webhook_events("p", 10).await.unwrap().len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn gone_records_respect_newer_versions_and_remember_merges() {
    on_both("gone", |store| async move {
        let page = vec![
            contact("1", 10, &[]),
            contact("2", 10, &[]),
            contact("3", 50, &[]),
        ];
        store
            .upsert_records("p", ObjectType::Contacts, &page, "backfill", None)
            .await
            .unwrap();
        let gone = [
            Gone {
                id: "1".into(),
                at: 20,
                merged_into: None,
            },
            Gone {
                id: "2".into(),
                at: 20,
                merged_into: Some("1".into()),
            },
            // Older than the stored version: ignored.
            Gone {
                id: "3".into(),
                at: 40,
                merged_into: None,
            },
            // Never stored: nothing to mark.
            Gone {
                id: "9".into(),
                at: 40,
                merged_into: None,
            },
        ];
        assert_eq!(
            store
                .mark_gone("p", ObjectType::Contacts, &gone, "t")
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .mark_gone("p", ObjectType::Contacts, &gone, "t")
                .await
                .unwrap(),
            0,
            "idempotent"
        );
        let r1 = store
            .record("p", ObjectType::Contacts, "1")
            .await
            .unwrap()
            .unwrap();
        assert!(r1.archived);
        assert!(
            !store
                .record("p", ObjectType::Contacts, "3")
                .await
                .unwrap()
                .unwrap()
                .archived
        );
        assert_eq!(
            store
                .merged_into("p", ObjectType::Contacts, "2")
                .await
                .unwrap()
                .as_deref(),
            Some("1")
        );
        assert_eq!(
            store
                .merged_into("p", ObjectType::Contacts, "3")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store.live_ids("p", ObjectType::Contacts).await.unwrap(),
            vec!["3".to_owned()]
        );
        let versions = store.versions("p", ObjectType::Contacts).await.unwrap();
        assert_eq!(
            versions,
            vec![
                ("1".into(), 20, true),
                ("2".into(), 20, true),
                ("3".into(), 50, false)
            ]
        );
        let log = store
            .events_of("p", ObjectType::Contacts, "2")
            .await
            .unwrap();
        assert_eq!(log.last().unwrap().new_value.as_deref(), Some("merged:1"));
    })
    .await;
}

#[tokio::test]
async fn associations_are_read_from_either_side_and_replaced_per_record() {
    on_both("assoc", |store| async move {
        let link = |f: &str, t: &str| Link {
            from_id: f.into(),
            to_id: t.into(),
            type_id: 4,
        };
        let pair = (ObjectType::Contacts, ObjectType::Deals);
        assert!(
            store
                .set_association("p", pair, &link("c1", "d1"), true, 5, "webhook")
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_association("p", pair, &link("c1", "d1"), true, 6, "webhook")
                .await
                .unwrap(),
            "already there"
        );
        assert_eq!(
            store
                .associated("p", ObjectType::Deals, "d1", ObjectType::Contacts)
                .await
                .unwrap(),
            vec!["c1".to_owned()]
        );
        let (added, removed) = store
            .replace_associations(
                "p",
                ObjectType::Contacts,
                ObjectType::Deals,
                &["c1".into(), "c2".into()],
                &[link("c2", "d2"), link("c2", "d3")],
            )
            .await
            .unwrap();
        assert_eq!((added, removed), (2, 1));
        assert!(
            store
                .associated("p", ObjectType::Contacts, "c1", ObjectType::Deals)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .associated("p", ObjectType::Contacts, "c2", ObjectType::Deals)
                .await
                .unwrap(),
            vec!["d2".to_owned(), "d3".to_owned()]
        );
        assert!(
            store
                .set_association("p", pair, &link("c2", "d3"), false, 7, "webhook")
                .await
                .unwrap()
        );
        let log = store
            .events_of("p", ObjectType::Contacts, "c2")
            .await
            .unwrap();
        assert_eq!(
            log.iter()
                .filter(|e| e.property.as_deref() == Some("association:deals"))
                .count(),
            3
        );
    })
    .await;
}

#[tokio::test]
async fn reference_data_is_replaced_whole_and_sync_runs_are_counted() {
    on_both("reference", |store| async move {
        let owner = OwnerRow {
            id: "1".into(),
            user_id: Some(9),
            email: Some("o@x.com".into()),
            ..OwnerRow::default()
        };
        store
            .replace_owners("p", std::slice::from_ref(&owner))
            .await
            .unwrap();
        store
            .replace_owners("p", std::slice::from_ref(&owner))
            .await
            .unwrap();
        assert_eq!(store.owners("p").await.unwrap(), vec![owner]);
        let stage = StageRow {
            pipeline_id: "default".into(),
            pipeline_label: "Sales".into(),
            stage_id: "s1".into(),
            label: "New Lead".into(),
            display_order: 0,
            probability: Some(0.1),
            is_closed: false,
        };
        store
            .replace_stages("p", ObjectType::Deals, std::slice::from_ref(&stage))
            .await
            .unwrap();
        assert_eq!(
            store.stages("p", ObjectType::Deals).await.unwrap(),
            vec![stage]
        );
        let seq = SequenceRow {
            id: "7".into(),
            name: "No Response Follow-up".into(),
            user_id: Some("9".into()),
        };
        store
            .replace_sequences("p", std::slice::from_ref(&seq))
            .await
            .unwrap();
        assert_eq!(store.sequences("p").await.unwrap(), vec![seq]);
        assert!(
            store
                .record_enrollment("p", "c1", "7", Some("e1"), 5, "workflow")
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_enrollment("p", "c1", "7", Some("e1"), 6, "workflow")
                .await
                .unwrap()
        );
        assert_eq!(
            store.enrollments_of("p", "c1").await.unwrap(),
            vec!["7".to_owned()]
        );
        let list = ListRow {
            id: "l1".into(),
            name: "Manual Outreach - 2026-11-24".into(),
            object_type_id: "0-1".into(),
            processing_type: "MANUAL".into(),
        };
        store
            .replace_lists("p", std::slice::from_ref(&list))
            .await
            .unwrap();
        let (added, removed) = store
            .replace_list_members("p", &list, &["c1".into(), "c2".into()])
            .await
            .unwrap();
        assert_eq!((added.len(), removed.len()), (2, 0));
        let (added, removed) = store
            .replace_list_members("p", &list, &["c2".into()])
            .await
            .unwrap();
        assert_eq!((added, removed), (vec![], vec!["c1".to_owned()]));
        store.replace_lists("p", &[]).await.unwrap();
        assert!(
            store.list_members("p", "l1").await.unwrap().is_empty(),
            "members go with their list"
        );
        store
            .record_sync_run("p", "contacts.incremental", 1, 10, None)
            .await
            .unwrap();
        store
            .record_sync_run("p", "contacts.incremental", 2, 0, Some("HubSpot said 500"))
            .await
            .unwrap();
        store
            .record_sync_run("p", "webhooks", 3, 4, None)
            .await
            .unwrap();
        let stats = store.sync_run_stats("p", 0).await.unwrap();
        assert_eq!(stats.len(), 2);
        assert_eq!((stats[0].ok, stats[0].failed, stats[0].records), (1, 1, 10));
        assert_eq!(stats[0].last_error.as_deref(), Some("HubSpot said 500"));
        assert_eq!(
            (stats[1].stream.as_str(), stats[1].ok, stats[1].failed),
            ("webhooks", 1, 0)
        );
    })
    .await;
}

#[tokio::test]
async fn a_contact_is_found_by_email_the_live_one_first() {
    on_both("by_email", |store| async move {
        let mut merged = contact("2", 5, &[("email", "b@x.com")]);
        merged.archived = true;
        let page = vec![
            contact("1", 1, &[("email", "a@x.com"), ("firstname", "Ada")]),
            merged,
            contact("3", 4, &[("email", "b@x.com")]),
        ];
        store
            .upsert_records("p", ObjectType::Contacts, &page, "backfill", None)
            .await
            .unwrap();
        store
            .upsert_records(
                "other",
                ObjectType::Contacts,
                &[contact("9", 1, &[("email", "a@x.com")])],
                "backfill",
                None,
            )
            .await
            .unwrap();
        let found = |email: &'static str| {
            let store = store.clone();
            async move {
                store
                    .contact_by_email("p", email)
                    .await
                    .unwrap()
                    .map(|r| r.id)
            }
        };
        assert_eq!(found("a@x.com").await.as_deref(), Some("1"));
        assert_eq!(
            found(" A@X.com ").await.as_deref(),
            Some("1"),
            "as HubSpot stores it, in lower case"
        );
        assert_eq!(
            found("b@x.com").await.as_deref(),
            Some("3"),
            "the live contact before the archived one"
        );
        assert_eq!(found("nobody@x.com").await, None);
        let r = store
            .contact_by_email("p", "a@x.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.get("firstname"), Some("Ada"));
        assert_eq!(
            store
                .contact_by_email("other", "a@x.com")
                .await
                .unwrap()
                .map(|r| r.id)
                .as_deref(),
            Some("9"),
            "portals are apart"
        );
    })
    .await;
}

#[tokio::test]
async fn bulk_reads_walk_live_contacts_by_id_range() {
    use leadflow_store::{IdRange, NewEnrollment};
    on_both("bulk", |store| async move {
        let c = |id: &str, at: i64, status: &str, outreach: &str| {
            contact(
                id,
                at,
                &[
                    ("email", &format!("{id}@acme.example")),
                    ("response_status", status),
                    ("last_outreach_date", outreach),
                ],
            )
        };
        // A backfill first (its events start nothing), then later changes.
        store
            .upsert_records(
                "p",
                ObjectType::Contacts,
                &[
                    c("c1", 100, "No Response", "2026-11-01"),
                    c("c2", 100, "No Response", "2026-11-20"),
                    c("c3", 100, "Interested", "2026-11-01"),
                    c("c4", 100, "No Response", ""),
                    c("c5", 100, "No Response", "2026-11-02"),
                ],
                "backfill",
                None,
            )
            .await
            .unwrap();
        store
            .upsert_records(
                "p",
                ObjectType::Contacts,
                &[
                    c("c1", 200, "Interested", "2026-11-01"),
                    c("c2", 300, "Interested", "2026-11-20"),
                    c("c5", 200, "No Response", "2026-11-03"),
                    c("c9", 200, "No Response", "2026-11-03"),
                ],
                "incremental",
                None,
            )
            .await
            .unwrap();
        // Gone records are not live, but their events are still theirs.
        store
            .mark_gone(
                "p",
                ObjectType::Contacts,
                &[
                    Gone {
                        id: "c3".into(),
                        at: 400,
                        merged_into: None,
                    },
                    Gone {
                        id: "c9".into(),
                        at: 400,
                        merged_into: None,
                    },
                ],
                "webhook",
            )
            .await
            .unwrap();
        // Keyset pages of two: c1 c2 | c4 c5 | nothing.
        let first = store.live_contacts_page("p", "", 2).await.unwrap();
        let ids = |rs: &[leadflow_store::RawRecord]| -> Vec<String> {
            rs.iter().map(|r| r.id.clone()).collect()
        };
        assert_eq!(ids(&first), ["c1", "c2"]);
        let props: BTreeMap<String, Option<String>> =
            serde_json::from_str(&first[0].properties).unwrap();
        assert_eq!(
            props.get("response_status"),
            Some(&Some("Interested".into()))
        );
        let second = store.live_contacts_page("p", "c2", 2).await.unwrap();
        assert_eq!(ids(&second), ["c4", "c5"]);
        assert!(
            store
                .live_contacts_page("p", "c5", 2)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .live_contacts_page("other", "", 2)
                .await
                .unwrap()
                .is_empty()
        );

        // Events per range, by contact then oldest first; backfills and older ones left out.
        let page1 = IdRange {
            after: "",
            upto: Some("c2"),
        };
        let page2 = IdRange {
            after: "c2",
            upto: Some("c5"),
        };
        let tail = IdRange {
            after: "c5",
            upto: None,
        };
        let events = store.contact_events_in("p", page1, 150).await.unwrap();
        let summary: Vec<(String, Option<String>, Option<String>)> = events
            .iter()
            .map(|e| (e.object_id.clone(), e.property.clone(), e.new_value.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "c1".into(),
                    Some("response_status".into()),
                    Some("Interested".into())
                ),
                (
                    "c2".into(),
                    Some("response_status".into()),
                    Some("Interested".into())
                ),
            ]
        );
        assert!(events.iter().all(|e| e.source == "incremental"));
        assert_eq!(
            store
                .contact_events_in("p", page1, 250)
                .await
                .unwrap()
                .len(),
            1,
            "c1's change is older than the window"
        );
        let events = store.contact_events_in("p", page2, 0).await.unwrap();
        let who: Vec<(&str, Option<&str>)> = events
            .iter()
            .map(|e| (e.object_id.as_str(), e.new_value.as_deref()))
            .collect();
        // c3 (gone, between c2 and c4) keeps its archival; c5 its outreach date change.
        assert_eq!(who, [("c3", Some("archived")), ("c5", Some("2026-11-03"))]);
        let events = store.contact_events_in("p", tail, 0).await.unwrap();
        assert!(events.iter().all(|e| e.object_id == "c9"), "{events:?}");
        assert_eq!(
            events.last().and_then(|e| e.new_value.as_deref()),
            Some("archived")
        );
        assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));

        // Deal links, from either side, per range.
        let link = |f: &str, t: &str| Link {
            from_id: f.into(),
            to_id: t.into(),
            type_id: 4,
        };
        store
            .set_association(
                "p",
                (ObjectType::Contacts, ObjectType::Deals),
                &link("c1", "d1"),
                true,
                5,
                "webhook",
            )
            .await
            .unwrap();
        for (deal, contact) in [("d2", "c5"), ("d3", "c5")] {
            store
                .set_association(
                    "p",
                    (ObjectType::Deals, ObjectType::Contacts),
                    &link(deal, contact),
                    true,
                    5,
                    "webhook",
                )
                .await
                .unwrap();
        }
        let linked = |range| {
            let store = store.clone();
            async move {
                let mut v = store
                    .linked_ids_in("p", ObjectType::Contacts, ObjectType::Deals, range)
                    .await
                    .unwrap();
                v.sort();
                v
            }
        };
        assert_eq!(linked(page1).await, ["c1"]);
        assert_eq!(linked(page2).await, ["c5"], "once, however many deals");
        assert!(linked(tail).await.is_empty());

        // Enrollments per range.
        for (workflow, contact, value) in [
            ("w1", "c2", "Manual Outreach - A"),
            ("w2", "c2", "Interested"),
            ("w1", "c4", "Manual Outreach - B"),
        ] {
            store
                .enroll(
                    "p",
                    &NewEnrollment {
                        workflow: workflow.into(),
                        contact_id: contact.into(),
                        trigger_value: value.into(),
                        event_seq: None,
                        at: 10,
                    },
                    &[],
                )
                .await
                .unwrap();
        }
        let rows = store.workflow_enrollments_in("p", page1).await.unwrap();
        let got: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.workflow.as_str(),
                    r.contact_id.as_str(),
                    r.trigger_value.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("w1", "c2", "Manual Outreach - A"),
                ("w2", "c2", "Interested")
            ]
        );
        let rows = store.workflow_enrollments_in("p", page2).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].contact_id, "c4");

        // The time-based trigger's candidates per range: as contacts_holding, by id.
        let holding = (
            ("response_status", "No Response"),
            ("last_outreach_date", "2026-11-10"),
        );
        for range in [page1, page2, tail] {
            let mut ids = store
                .contacts_holding_in("p", holding.0, holding.1, range)
                .await
                .unwrap();
            ids.sort();
            let all: Vec<String> = store
                .contacts_holding("p", holding.0.0, holding.0.1, holding.1.0, holding.1.1)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .filter(|id| {
                    id.as_str() > range.after && range.upto.is_none_or(|u| id.as_str() <= u)
                })
                .collect();
            assert_eq!(ids, all, "{range:?}");
        }
        assert_eq!(
            store
                .contacts_holding_in("p", holding.0, holding.1, page2)
                .await
                .unwrap(),
            ["c5"],
            "c4 has no outreach date, c3 is gone"
        );
        assert!(
            store
                .contacts_holding_in("p", ("nope", "x"), holding.1, page1)
                .await
                .is_err()
        );
    })
    .await;
}

/// Regression: a stage without a probability before one with it (tickets' stages have
/// none) made PostgreSQL refuse the second insert of the same statement.
#[tokio::test]
async fn stages_with_and_without_a_probability_store_on_both() {
    on_both("stage_probability", |store| async move {
        let stage = |id: &str, order: i32, probability: Option<f64>| StageRow {
            pipeline_id: "default".into(),
            pipeline_label: "Sales".into(),
            stage_id: id.into(),
            label: id.into(),
            display_order: order,
            probability,
            is_closed: false,
        };
        let stages = vec![stage("s1", 0, None), stage("s2", 1, Some(0.2))];
        store
            .replace_stages("p", ObjectType::Deals, &stages)
            .await
            .unwrap();
        assert_eq!(store.stages("p", ObjectType::Deals).await.unwrap(), stages);
    })
    .await;
}
