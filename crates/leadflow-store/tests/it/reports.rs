//! The aggregate reads behind reports: contact counts grouped by managed properties, and
//! the deals linked to a filtered set of contacts, read from either side of the link.

use leadflow_core::ObjectType;
use leadflow_store::{ContactFilter, Error, Link};

use crate::{contact, on_both};

fn with_created(mut r: leadflow_store::StoredRecord, at: i64) -> leadflow_store::StoredRecord {
    r.created_at = Some(at);
    r
}

#[tokio::test]
async fn contact_counts_group_filter_and_skip_archived_contacts() {
    on_both("report_counts", |store| async move {
        let page = vec![
            with_created(
                contact(
                    "1",
                    1,
                    &[
                        ("lead_source", "Outbound"),
                        ("icp_type", "ICP-A"),
                        ("icp_fit_score", "8"),
                        ("response_status", "Interested"),
                    ],
                ),
                100,
            ),
            with_created(
                contact(
                    "2",
                    1,
                    &[
                        ("lead_source", "Outbound"),
                        ("icp_type", "ICP-A"),
                        ("response_status", "Interested"),
                    ],
                ),
                200,
            ),
            with_created(
                contact(
                    "3",
                    1,
                    &[("lead_source", "Outbound"), ("icp_fit_score", "3")],
                ),
                300,
            ),
            with_created(contact("4", 1, &[("lead_source", "Inbound")]), 300),
            with_created(contact("5", 1, &[("lead_source", "Outbound")]), 50),
        ];
        store
            .upsert_records("p", ObjectType::Contacts, &page, "backfill", None)
            .await
            .unwrap();
        let mut gone = contact("2", 2, &[]);
        gone.archived = true;
        let filter = ContactFilter {
            equals: vec![("lead_source".into(), "Outbound".into())],
            created_from: Some(100),
            created_until: None,
        };
        let mut rows = store
            .contact_counts("p", &filter, &["icp_type", "lead_source"])
            .await
            .unwrap();
        rows.sort_by(|a, b| a.groups.cmp(&b.groups));
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.groups[0].as_deref(),
                    r.groups[1].as_deref(),
                    r.response_status.as_deref(),
                    r.contacts,
                    r.fit_scored,
                    r.fit_score_sum,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (None, Some("Outbound"), None, 1, 1, 3.0),
                (
                    Some("ICP-A"),
                    Some("Outbound"),
                    Some("Interested"),
                    2,
                    1,
                    8.0
                )
            ]
        );
        // Archived contacts drop out.
        store
            .upsert_records("p", ObjectType::Contacts, &[gone], "backfill", None)
            .await
            .unwrap();
        let all = store.contact_counts("p", &filter, &[]).await.unwrap();
        assert_eq!(all.iter().map(|r| r.contacts).sum::<i64>(), 2);
        assert!(all.iter().all(|r| r.groups.is_empty()));
        // Only managed properties are columns.
        let bad = store.contact_counts("p", &filter, &["firstname"]).await;
        assert!(matches!(bad, Err(Error::UnknownColumn(c)) if c == "firstname"));
    })
    .await;
}

#[tokio::test]
async fn deals_of_contacts_read_links_from_either_side_once_each() {
    on_both("report_deals", |store| async move {
        let contacts = vec![
            with_created(contact("c1", 1, &[("lead_source", "Outbound")]), 100),
            with_created(contact("c2", 1, &[("lead_source", "Outbound")]), 100),
            with_created(contact("c3", 1, &[("lead_source", "Inbound")]), 100),
        ];
        store
            .upsert_records("p", ObjectType::Contacts, &contacts, "backfill", None)
            .await
            .unwrap();
        let deal = |id: &str, at: i64, amount: &str| {
            with_created(contact(id, 1, &[("amount", amount)]), at)
        };
        let deals = vec![
            deal("d1", 500, "1000"),
            deal("d2", 500, "250.5"),
            deal("d3", 500, "7"),
            deal("d4", 10, "9"),
        ];
        store
            .upsert_records("p", ObjectType::Deals, &deals, "backfill", None)
            .await
            .unwrap();
        let link = |from: &str, to: &str| Link {
            from_id: from.into(),
            to_id: to.into(),
            type_id: 3,
        };
        // d1 linked to both outbound contacts (counted once), d2 from the contact's side,
        // d3 to an inbound contact only, d4 created before the period.
        store
            .replace_associations(
                "p",
                ObjectType::Deals,
                ObjectType::Contacts,
                &["d1".into(), "d3".into(), "d4".into()],
                &[
                    link("d1", "c1"),
                    link("d1", "c2"),
                    link("d3", "c3"),
                    link("d4", "c1"),
                ],
            )
            .await
            .unwrap();
        store
            .set_association(
                "p",
                (ObjectType::Contacts, ObjectType::Deals),
                &link("c2", "d2"),
                true,
                1,
                "test",
            )
            .await
            .unwrap();
        let filter = ContactFilter {
            equals: vec![("lead_source".into(), "Outbound".into())],
            created_from: Some(100),
            created_until: None,
        };
        let got = store
            .deals_of_contacts("p", &filter, 100, None)
            .await
            .unwrap();
        let got: Vec<_> = got
            .iter()
            .map(|d| (d.id.as_str(), d.amount.as_deref()))
            .collect();
        assert_eq!(got, [("d1", Some("1000")), ("d2", Some("250.5"))]);
        let none = store
            .deals_of_contacts("p", &filter, 100, Some(500))
            .await
            .unwrap();
        assert!(none.is_empty());
    })
    .await;
}

/// Regression: a batch whose first statement bound no number in a numeric column made
/// PostgreSQL refuse the next batch of the same shape that had one.
#[tokio::test]
async fn batches_alternating_missing_and_present_scores_store_on_both() {
    on_both("report_scores", |store| async move {
        for (batch, first_scored) in [(0, false), (1, true)] {
            let page: Vec<_> = (0..100)
                .map(|i| {
                    let id = format!("{batch}-{i}");
                    if i == 0 && !first_scored {
                        contact(&id, 1, &[("lead_source", "Outbound")])
                    } else {
                        contact(
                            &id,
                            1,
                            &[("lead_source", "Outbound"), ("icp_fit_score", "7.5")],
                        )
                    }
                })
                .collect();
            store
                .upsert_records("p", ObjectType::Contacts, &page, "backfill", None)
                .await
                .unwrap();
        }
        let all = store
            .contact_counts("p", &ContactFilter::default(), &[])
            .await
            .unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(
            (all[0].contacts, all[0].fit_scored, all[0].fit_score_sum),
            (200, 199, 199.0 * 7.5)
        );
    })
    .await;
}
