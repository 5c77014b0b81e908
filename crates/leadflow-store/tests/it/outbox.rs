//! Enrollments recorded in bulk: the same outcome as recording them one by one (the first
//! of equal ones is new, one recorded before is not, and only new ones get intents).

use leadflow_store::{NewEnrollment, NewIntent};

use crate::on_both;

fn enrollment(contact: usize, trigger: &str) -> NewEnrollment {
    NewEnrollment {
        workflow: "automation.lead_scoring".to_owned(),
        contact_id: contact.to_string(),
        trigger_value: trigger.to_owned(),
        event_seq: None,
        at: 1_000 + contact as i64,
    }
}

fn write(contact: usize, trigger: &str) -> NewIntent {
    NewIntent {
        key: format!("automation.lead_scoring:{contact}:{trigger}:0:write"),
        action: "write".to_owned(),
        payload: format!("{{\"lead_score\":\"{contact}\"}}"),
        state: "pending".to_owned(),
        note: None,
    }
}

#[tokio::test]
async fn bulk_enrollment_is_enrollment_one_by_one() {
    on_both("enroll_many", |store| async move {
        // Recorded before: contacts 3 and 40.
        for c in [3, 40] {
            assert!(
                store
                    .enroll("p", &enrollment(c, "d1"), &[write(c, "d1")])
                    .await
                    .unwrap()
            );
        }
        // 45 contacts (more than one statement's rows), contact 7 twice.
        let mut items: Vec<(NewEnrollment, Vec<NewIntent>)> = (0..45)
            .map(|c| (enrollment(c, "d1"), vec![write(c, "d1")]))
            .collect();
        items.insert(10, (enrollment(7, "d1"), vec![write(7, "d1")]));
        let new = store.enroll_many("p", &items).await.unwrap();
        let expected: Vec<bool> = items
            .iter()
            .enumerate()
            .map(|(i, (e, _))| !(e.contact_id == "3" || e.contact_id == "40" || i == 10))
            .collect();
        assert_eq!(new, expected);
        for c in [0, 7, 44] {
            let intents = store.intents_of("p", &c.to_string()).await.unwrap();
            assert_eq!(intents.len(), 1, "contact {c}");
            assert_eq!(intents[0].payload, write(c, "d1").payload);
            assert_eq!(intents[0].created_at, 1_000 + c as i64);
        }
        let states = store.intent_states_since("p", 0).await.unwrap();
        assert_eq!(states, vec![("pending".to_owned(), 45)]);
        // A second run of the same day records nothing.
        let again = store.enroll_many("p", &items).await.unwrap();
        assert!(again.iter().all(|n| !n));
        assert!(store.enroll_many("p", &[]).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_claim_each_intent_once() {
    on_both("claim_race", |store| async move {
        let items: Vec<(NewEnrollment, Vec<NewIntent>)> = (0..200)
            .map(|c| (enrollment(c, "d1"), vec![write(c, "d1")]))
            .collect();
        store.enroll_many("p", &items).await.unwrap();
        // Six workers claim 25 at a time until nothing is left.
        let workers: Vec<_> = (0..6)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    loop {
                        let got = store
                            .claim_intents("p", "write", 10_000, 60_000, 25)
                            .await
                            .unwrap();
                        if got.is_empty() {
                            return mine;
                        }
                        mine.extend(got.into_iter().map(|i| i.id));
                    }
                })
            })
            .collect();
        let mut claimed = Vec::new();
        for w in workers {
            claimed.extend(w.await.unwrap());
        }
        let total = claimed.len();
        claimed.sort_unstable();
        claimed.dedup();
        assert_eq!(
            (total, claimed.len()),
            (200, 200),
            "every intent claimed once"
        );
    })
    .await;
}
