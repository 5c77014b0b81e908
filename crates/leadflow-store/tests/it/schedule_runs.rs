//! The scheduler's slots (claimed once, however many workers race for one) and the paged
//! read of live contacts.

use leadflow_core::ObjectType;

use crate::{contact, on_both};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_concurrent_claimers_of_a_slot_exactly_one_wins() {
    on_both("slot_claim", |store| async move {
        assert_eq!(store.last_schedule_run("p", "daily").await.unwrap(), None);
        let claims: Vec<_> = (0..8)
            .map(|n| {
                let s = store.clone();
                tokio::spawn(async move { s.claim_schedule_slot("p", "daily", 1_000, n).await })
            })
            .collect();
        let mut won = 0;
        for c in claims {
            if c.await.unwrap().unwrap() {
                won += 1;
            }
        }
        assert_eq!(won, 1, "one claim of eight takes");
        // Claimed before: a later claim of the same slot does nothing; other slots,
        // schedules and portals are their own.
        assert!(
            !store
                .claim_schedule_slot("p", "daily", 1_000, 99)
                .await
                .unwrap()
        );
        assert!(
            store
                .claim_schedule_slot("p", "weekly", 1_000, 5)
                .await
                .unwrap()
        );
        assert!(
            store
                .claim_schedule_slot("q", "daily", 1_000, 5)
                .await
                .unwrap()
        );
        assert!(
            store
                .claim_schedule_slot("p", "daily", 500, 5)
                .await
                .unwrap()
        );

        let last = store
            .last_schedule_run("p", "daily")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (last.slot_at, last.finished_at, last.outcome),
            (1_000, None, None)
        );
        store
            .finish_schedule_slot("p", "daily", 1_000, 2_000, "3 scores changed")
            .await
            .unwrap();
        let last = store
            .last_schedule_run("p", "daily")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(last.schedule, "daily");
        assert_eq!(last.finished_at, Some(2_000));
        assert_eq!(last.outcome.as_deref(), Some("3 scores changed"));
    })
    .await;
}

#[tokio::test]
async fn live_contacts_are_read_page_by_page_in_id_order() {
    on_both("contact_pages", |store| async move {
        let mut page: Vec<_> = ["3", "1", "5", "2", "4"]
            .iter()
            .map(|id| {
                contact(
                    id,
                    10,
                    &[("email", &format!("{id}@x.com")), ("lead_score", "40")],
                )
            })
            .collect();
        page[4].archived = true;
        store
            .upsert_records("p", ObjectType::Contacts, &page, "test", None)
            .await
            .unwrap();
        store
            .upsert_records("q", ObjectType::Contacts, &page[..1], "test", None)
            .await
            .unwrap();
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let page = store.live_contact_records("p", &after, 2).await.unwrap();
            let Some(last) = page.last() else { break };
            assert!(page.len() <= 2);
            after = last.id.clone();
            for r in page {
                assert_eq!(r.get("lead_score"), Some("40"));
                assert!(!r.archived);
                seen.push(r.id);
            }
        }
        assert_eq!(
            seen,
            ["1", "2", "3", "5"],
            "archived 4 and portal q left out"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_delivery_is_claimed_by_one_worker_and_waits_for_its_retry() {
    on_both("report_delivery", |store| async move {
        assert!(
            store
                .add_report_delivery("p", "weekly", 1_000, "reports/weekly/d", 5_000)
                .await
                .unwrap()
        );
        // The same slot again changes nothing.
        assert!(
            !store
                .add_report_delivery("p", "weekly", 1_000, "elsewhere", 9_000)
                .await
                .unwrap()
        );
        assert_eq!(
            store.next_report_delivery_at("p").await.unwrap(),
            Some(5_000)
        );
        // Not due before its time; of eight concurrent claimers at it, one wins.
        assert!(
            store
                .claim_report_deliveries("p", 4_999, 60_000)
                .await
                .unwrap()
                .is_empty()
        );
        let claims: Vec<_> = (0..8)
            .map(|_| {
                let s = store.clone();
                tokio::spawn(async move { s.claim_report_deliveries("p", 5_000, 60_000).await })
            })
            .collect();
        let mut won = Vec::new();
        for c in claims {
            won.extend(c.await.unwrap().unwrap());
        }
        assert_eq!(won.len(), 1, "{won:?}");
        assert_eq!(
            (won[0].dir.as_str(), won[0].attempts, won[0].state.as_str()),
            ("reports/weekly/d", 1, "pending")
        );
        // Leased: not claimed again until the lease ends.
        assert!(
            store
                .claim_report_deliveries("p", 6_000, 60_000)
                .await
                .unwrap()
                .is_empty()
        );
        // A failure puts it back, due later.
        store
            .settle_report_delivery(
                "p",
                ("weekly", 1_000),
                "pending",
                (6_000, 306_000),
                Some("451 try later"),
            )
            .await
            .unwrap();
        assert!(
            store
                .claim_report_deliveries("p", 305_999, 60_000)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.next_report_delivery_at("p").await.unwrap(),
            Some(306_000)
        );
        let again = store
            .claim_report_deliveries("p", 306_000, 60_000)
            .await
            .unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 2);
        assert_eq!(again[0].last_error.as_deref(), Some("451 try later"));
        store
            .settle_report_delivery("p", ("weekly", 1_000), "sent", (307_000, 306_000), None)
            .await
            .unwrap();
        let sent = store
            .report_delivery("p", "weekly", 1_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (sent.state.as_str(), sent.sent_at, sent.last_error),
            ("sent", Some(307_000), None)
        );
        assert_eq!(store.next_report_delivery_at("p").await.unwrap(), None);
        assert!(
            store
                .claim_report_deliveries("p", 999_999_999, 60_000)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.report_delivery("q", "weekly", 1_000).await.unwrap(),
            None
        );
    })
    .await;
}
