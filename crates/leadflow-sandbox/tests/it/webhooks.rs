//! Webhook delivery: signed batches of at most 100 events, every event kind the sandbox
//! sends with HubSpot's fields, retries as HubSpot makes them, and the settings'
//! `maxConcurrentRequests`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use leadflow_sandbox::{SandboxConfig, SandboxHandle};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc};

use crate::{call, empty, sandbox};

/// One POST the receiver got.
struct Delivery {
    headers: HeaderMap,
    body: Vec<u8>,
    events: Vec<Value>,
}

/// A tiny webhook receiver on 127.0.0.1:0.
struct Receiver {
    url: String,
    deliveries: mpsc::UnboundedReceiver<Delivery>,
    /// Requests being answered right now, and the most ever at once.
    in_flight: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
    /// Each request waits for a permit when holding is on.
    gate: Arc<Semaphore>,
}

impl Receiver {
    /// Answers every delivery with `status`; `hold` makes each wait for a permit.
    async fn start(status: StatusCode, hold: bool) -> Self {
        let (tx, deliveries) = mpsc::unbounded_channel();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most_at_once = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Semaphore::new(if hold {
            0
        } else {
            Semaphore::MAX_PERMITS
        }));
        let (f, m, g) = (in_flight.clone(), most_at_once.clone(), gate.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (tx, f, m, g) = (tx.clone(), f.clone(), m.clone(), g.clone());
                async move {
                    let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(now, Ordering::SeqCst);
                    let events = serde_json::from_slice::<Vec<Value>>(&body).unwrap_or_default();
                    let _ = tx.send(Delivery {
                        headers,
                        body: body.to_vec(),
                        events,
                    });
                    // A closed gate (the test is over) answers at once.
                    let _permit = g.acquire().await;
                    f.fetch_sub(1, Ordering::SeqCst);
                    status
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            deliveries,
            in_flight,
            most_at_once,
            gate,
        }
    }

    /// The next delivery, waiting at most 10 s.
    async fn next(&mut self) -> Delivery {
        tokio::time::timeout(Duration::from_secs(10), self.deliveries.recv())
            .await
            .expect("a delivery arrives")
            .expect("the receiver runs")
    }

    /// Events from deliveries until one of `kind` arrives; returns the events of that kind
    /// in the delivery that held it.
    async fn events_of(&mut self, kind: &str) -> Vec<Value> {
        loop {
            let d = self.next().await;
            let found: Vec<Value> = d
                .events
                .into_iter()
                .filter(|e| e["subscriptionType"] == kind)
                .collect();
            if !found.is_empty() {
                return found;
            }
        }
    }
}

/// Points the sandbox's webhooks at `target` and subscribes to `kinds`
/// (`kind` or `kind:property`).
async fn subscribe(sb: &SandboxHandle, target: &str, max_concurrent: u32, kinds: &[&str]) {
    let (s, a, _) = call(
        sb,
        "PUT",
        "/webhooks/v3/54321/settings",
        Some(json!({"targetUrl": target, "throttling": {"maxConcurrentRequests": max_concurrent, "period": "SECONDLY"}})),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    for k in kinds {
        let mut body = json!({"active": true});
        match k.split_once(':') {
            Some((kind, property)) => {
                body["eventType"] = json!(kind);
                body["propertyName"] = json!(property);
            }
            None => body["eventType"] = json!(k),
        }
        let (s, a, _) = call(sb, "POST", "/webhooks/v3/54321/subscriptions", Some(body)).await;
        assert_eq!(s, 201, "{a}");
    }
}

async fn create(sb: &SandboxHandle, t: &str, properties: Value) -> String {
    let (s, a, _) = call(
        sb,
        "POST",
        &format!("/crm/v3/objects/{t}"),
        Some(json!({ "properties": properties })),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    a["id"].as_str().unwrap().to_owned()
}

fn signed_by(secret: &str, url: &str, d: &Delivery) -> bool {
    let header = |n: &str| {
        d.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update(&d.body);
    let v1 = hex::encode(h.finalize());
    let ts = header("x-hubspot-request-timestamp");
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("POST{url}").as_bytes());
    mac.update(&d.body);
    mac.update(ts.as_bytes());
    let v3 = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    header("x-hubspot-signature") == v1
        && header("x-hubspot-signature-version") == "v1"
        && header("x-hubspot-signature-v3") == v3
        && ts.parse::<i64>().is_ok()
}

#[tokio::test]
async fn one_hundred_fifty_creations_arrive_as_two_signed_batches() {
    let sb = sandbox(empty()).await;
    let mut rx = Receiver::start(StatusCode::NO_CONTENT, false).await;
    subscribe(&sb, &rx.url, 10, &["contact.creation"]).await;
    for range in [0..100, 100..150] {
        let inputs: Vec<Value> = range
            .map(|i| json!({"properties": {"email": format!("w{i}@example.com")}}))
            .collect();
        let (s, a, _) = call(
            &sb,
            "POST",
            "/crm/v3/objects/contacts/batch/create",
            Some(json!({ "inputs": inputs })),
        )
        .await;
        assert_eq!(s, 201, "{a}");
    }
    let first = rx.next().await;
    let second = rx.next().await;
    let secret = SandboxConfig::default().client_secret;
    let mut ids = std::collections::BTreeSet::new();
    for d in [&first, &second] {
        assert!(d.events.len() <= 100);
        assert!(
            signed_by(&secret, &rx.url, d),
            "v1 and v3 signatures verify"
        );
        for e in &d.events {
            assert_eq!(e["subscriptionType"], "contact.creation");
            assert_eq!(e["changeFlag"], "NEW");
            assert_eq!(e["attemptNumber"], 0);
            assert_eq!(e["portalId"], 62515);
            assert_eq!(e["appId"], 54321);
            assert!(e["occurredAt"].as_i64().is_some() && e["eventId"].as_u64().is_some());
            ids.insert(e["objectId"].as_u64().unwrap());
        }
    }
    assert_eq!((first.events.len(), second.events.len()), (100, 50));
    assert_eq!(ids.len(), 150, "every contact once");
    assert!(rx.deliveries.try_recv().is_err(), "two batches, no more");
    assert_eq!(sb.state().stats().webhook_deliveries, 2);
}

#[tokio::test]
async fn contact_creation_property_change_and_deletion_events() {
    let sb = sandbox(empty()).await;
    let mut rx = Receiver::start(StatusCode::OK, false).await;
    subscribe(
        &sb,
        &rx.url,
        10,
        &[
            "contact.creation",
            "contact.propertyChange:lifecyclestage",
            "contact.deletion",
        ],
    )
    .await;
    let id = create(&sb, "contacts", json!({"email": "kinds@example.com"})).await;
    let created = rx.events_of("contact.creation").await;
    assert_eq!(created[0]["objectId"].as_u64().unwrap().to_string(), id);
    assert_eq!(created[0]["changeFlag"], "NEW");

    let (s, _, _) = call(
        &sb,
        "PATCH",
        &format!("/crm/v3/objects/contacts/{id}"),
        Some(json!({"properties": {"lifecyclestage": "opportunity", "firstname": "Kim"}})),
    )
    .await;
    assert_eq!(s, 200);
    let changed = rx.events_of("contact.propertyChange").await;
    assert_eq!(
        changed.len(),
        1,
        "only the subscribed property: {changed:?}"
    );
    assert_eq!(changed[0]["propertyName"], "lifecyclestage");
    assert_eq!(changed[0]["propertyValue"], "opportunity");
    assert_eq!(changed[0]["changeSource"], "API");

    let (s, _, _) = call(
        &sb,
        "DELETE",
        &format!("/crm/v3/objects/contacts/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let deleted = rx.events_of("contact.deletion").await;
    assert_eq!(deleted[0]["objectId"].as_u64().unwrap().to_string(), id);
}

#[tokio::test]
async fn a_merge_event_names_the_records_and_the_primary_lists_them() {
    let sb = sandbox(empty()).await;
    let mut rx = Receiver::start(StatusCode::OK, false).await;
    subscribe(&sb, &rx.url, 10, &["contact.merge"]).await;
    let primary = create(&sb, "contacts", json!({"email": "p@example.com"})).await;
    let merged = create(
        &sb,
        "contacts",
        json!({"email": "m@example.com", "jobtitle": "CTO"}),
    )
    .await;
    let (s, a, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts/merge",
        Some(json!({"primaryObjectId": primary, "objectIdToMerge": merged})),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    let event = &rx.events_of("contact.merge").await[0];
    let n = |s: &str| s.parse::<u64>().unwrap();
    assert_eq!(event["primaryObjectId"], n(&primary));
    assert_eq!(event["mergedObjectIds"], json!([n(&merged)]));
    assert_eq!(event["newObjectId"], n(&primary));
    assert_eq!(event["objectId"], n(&primary));
    assert!(
        event["numberOfPropertiesMoved"]
            .as_u64()
            .is_some_and(|m| m >= 1)
    );
    let (s, record, _) = call(
        &sb,
        "GET",
        &format!("/crm/v3/objects/contacts/{primary}?properties=hs_merged_object_ids,jobtitle"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        record["properties"]["hs_merged_object_ids"],
        merged.as_str()
    );
    assert_eq!(
        record["properties"]["jobtitle"], "CTO",
        "the merged record's values moved"
    );
}

#[tokio::test]
async fn association_changes_name_both_ends_and_whether_removed() {
    let sb = sandbox(empty()).await;
    let mut rx = Receiver::start(StatusCode::OK, false).await;
    subscribe(&sb, &rx.url, 10, &["contact.associationChange"]).await;
    let contact = create(&sb, "contacts", json!({"email": "a@example.com"})).await;
    let deal = create(
        &sb,
        "deals",
        json!({"dealname": "A deal", "dealstage": "appointmentscheduled"}),
    )
    .await;
    let path = format!("/crm/v4/objects/contacts/{contact}/associations/default/deals/{deal}");
    let (s, a, _) = call(&sb, "PUT", &path, None).await;
    assert_eq!(s, 200, "{a}");
    let n = |s: &str| s.parse::<u64>().unwrap();
    let added = &rx.events_of("contact.associationChange").await[0];
    assert_eq!(added["associationType"], "CONTACT_TO_DEAL");
    assert_eq!(added["fromObjectId"], n(&contact));
    assert_eq!(added["toObjectId"], n(&deal));
    assert_eq!(added["associationRemoved"], false);
    let (s, _, _) = call(
        &sb,
        "DELETE",
        &format!("/crm/v4/objects/contacts/{contact}/associations/deals/{deal}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let removed = &rx.events_of("contact.associationChange").await[0];
    assert_eq!(removed["associationType"], "CONTACT_TO_DEAL");
    assert_eq!(removed["associationRemoved"], true);
}

#[tokio::test]
async fn deal_creation_stage_change_and_deletion_events() {
    let sb = sandbox(empty()).await;
    let mut rx = Receiver::start(StatusCode::OK, false).await;
    subscribe(
        &sb,
        &rx.url,
        10,
        &[
            "deal.creation",
            "deal.propertyChange:dealstage",
            "deal.deletion",
        ],
    )
    .await;
    let deal = create(
        &sb,
        "deals",
        json!({"dealname": "Stage deal", "dealstage": "appointmentscheduled"}),
    )
    .await;
    let n = deal.parse::<u64>().unwrap();
    let created = rx.events_of("deal.creation").await;
    assert_eq!(created[0]["objectId"], n);
    // The creation also sets dealstage; its change event may share the batch.
    let (s, _, _) = call(
        &sb,
        "PATCH",
        &format!("/crm/v3/objects/deals/{deal}"),
        Some(json!({"properties": {"dealstage": "closedwon"}})),
    )
    .await;
    assert_eq!(s, 200);
    loop {
        let changed = rx.events_of("deal.propertyChange").await;
        if let Some(e) = changed.iter().find(|e| e["propertyValue"] == "closedwon") {
            assert_eq!(e["propertyName"], "dealstage");
            assert_eq!(e["objectId"], n);
            break;
        }
    }
    let (s, _, _) = call(
        &sb,
        "DELETE",
        &format!("/crm/v3/objects/deals/{deal}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(rx.events_of("deal.deletion").await[0]["objectId"], n);
}

#[tokio::test]
async fn a_failing_receiver_gets_ten_retries_then_the_batch_is_given_up() {
    let sb = sandbox(SandboxConfig {
        webhook_retry_base: Duration::from_micros(100),
        ..empty()
    })
    .await;
    let mut rx = Receiver::start(StatusCode::SERVICE_UNAVAILABLE, false).await;
    subscribe(&sb, &rx.url, 10, &["contact.creation"]).await;
    create(&sb, "contacts", json!({"email": "retry@example.com"})).await;
    let mut attempts = Vec::new();
    for _ in 0..11 {
        let d = rx.next().await;
        attempts.push(d.events[0]["attemptNumber"].as_u64().unwrap());
    }
    assert_eq!(
        attempts,
        (0..=10).collect::<Vec<u64>>(),
        "HubSpot: up to 10 retries"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while sb.state().stats().webhook_abandoned == 0 {
        assert!(Instant::now() < deadline, "the batch is given up");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stats = sb.state().stats();
    assert_eq!((stats.webhook_failures, stats.webhook_deliveries), (11, 0));
    assert!(rx.deliveries.try_recv().is_err(), "no twelfth attempt");
}

#[tokio::test]
async fn deliveries_in_flight_never_exceed_max_concurrent_requests() {
    let sb = sandbox(empty()).await;
    let mut rx = Receiver::start(StatusCode::OK, true).await;
    subscribe(&sb, &rx.url, 2, &["contact.creation"]).await;
    // Six requests, at least three batches: each request's events are queued together.
    for i in 0..6 {
        create(
            &sb,
            "contacts",
            json!({"email": format!("c{i}@example.com")}),
        )
        .await;
    }
    // Two deliveries are held at the receiver and a third batch waits for a slot.
    let deadline = Instant::now() + Duration::from_secs(10);
    while rx.in_flight.load(Ordering::SeqCst) < 2 || sb.state().stats().webhook_waiting == 0 {
        assert!(Instant::now() < deadline, "two in flight and one waiting");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(rx.in_flight.load(Ordering::SeqCst), 2);
    rx.gate.close();
    let mut events = 0;
    while events < 6 {
        events += rx.next().await.events.len();
    }
    assert_eq!(rx.most_at_once.load(Ordering::SeqCst), 2);
}
