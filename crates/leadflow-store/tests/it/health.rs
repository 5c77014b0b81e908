//! Health measurements: latency flushes read back by window, the latest count check per
//! object type, and intent states by the time of their last change.

use leadflow_store::{CountCheck, LatencyFlush, NewEnrollment, NewIntent};

use crate::on_both;

fn flush(at: i64, calls: i64) -> LatencyFlush {
    LatencyFlush {
        recorded_at: at,
        calls,
        errors: 1,
        histogram: format!("[[{at},{calls}]]"),
        daily_remaining: Some(900),
        daily_limit: Some(1_000),
    }
}

#[tokio::test]
async fn latency_flushes_are_read_back_from_the_window_only() {
    on_both("latency", |store| async move {
        for (at, calls) in [(1_000, 3), (2_000, 4), (3_000, 5)] {
            store.record_latency("p", &flush(at, calls)).await.unwrap();
        }
        store
            .record_latency("other", &flush(2_500, 9))
            .await
            .unwrap();
        let got = store.latency_since("p", 2_000).await.unwrap();
        assert_eq!(got, vec![flush(2_000, 4), flush(3_000, 5)]);
        assert!(store.latency_since("p", 3_001).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_last_count_check_is_the_latest_instant_only() {
    on_both("count_checks", |store| async move {
        assert!(store.last_count_check("p").await.unwrap().is_empty());
        let check = |at: i64, t: &str, s: i64, p: i64| CountCheck {
            checked_at: at,
            object_type: t.to_owned(),
            store_count: s,
            portal_count: p,
        };
        store
            .record_count_checks(
                "p",
                &[check(10, "contacts", 5, 6), check(10, "deals", 1, 1)],
            )
            .await
            .unwrap();
        store
            .record_count_checks("p", &[check(20, "contacts", 6, 6)])
            .await
            .unwrap();
        store
            .record_count_checks("q", &[check(30, "contacts", 1, 9)])
            .await
            .unwrap();
        assert_eq!(
            store.last_count_check("p").await.unwrap(),
            vec![check(20, "contacts", 6, 6)]
        );
    })
    .await;
}

#[tokio::test]
async fn intent_states_are_counted_by_their_last_change() {
    on_both("intent_states", |store| async move {
        let enrollment = NewEnrollment {
            workflow: "w".to_owned(),
            contact_id: "1".to_owned(),
            trigger_value: "t".to_owned(),
            event_seq: None,
            at: 100,
        };
        let intents: Vec<NewIntent> = (0..3)
            .map(|n| NewIntent {
                key: format!("k{n}"),
                action: "write".to_owned(),
                payload: "{}".to_owned(),
                state: "pending".to_owned(),
                note: None,
            })
            .collect();
        assert!(store.enroll("p", &enrollment, &intents).await.unwrap());
        let states = store.intent_states_since("p", 100).await.unwrap();
        assert_eq!(states, vec![("pending".to_owned(), 3)]);
        assert!(
            store
                .intent_states_since("p", 101)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}
