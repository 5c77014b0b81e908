//! The webhook receiver through `Router::oneshot`: signatures, bodies, durability, duplicates.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use leadflow_core::Secret;
use leadflow_hubspot::webhooks::sign_v3;
use leadflow_server::{WebhookConfig, router};
use leadflow_store::Store;
use tower::ServiceExt;

const SECRET: &str = "app-client-secret";
const URL: &str = "https://leadflow.example.com/webhooks/hubspot";

async fn app() -> (axum::Router, Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let mut config = WebhookConfig::new("p", Secret::new(SECRET));
    config.public_url = Some(URL.to_owned());
    config.max_body = 64 * 1024;
    (router(store.clone(), config), store, dir)
}

fn body(n: usize) -> String {
    let events: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"eventId":{i},"subscriptionId":5,"portalId":62515,"occurredAt":{},"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":{},"propertyName":"response_status","propertyValue":"Interested","changeSource":"CRM_UI"}}"#, 1_700_000_000_000i64 + i as i64, 100 + i))
        .collect();
    format!("[{}]", events.join(","))
}

fn signed(body: &str, ts: i64, secret: &str) -> Request<Body> {
    let ts = ts.to_string();
    Request::post("/webhooks/hubspot")
        .header("content-type", "application/json")
        .header("x-hubspot-request-timestamp", &ts)
        .header(
            "x-hubspot-signature-v3",
            sign_v3(secret, "POST", URL, body.as_bytes(), &ts),
        )
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[tokio::test]
async fn a_signed_delivery_is_stored_once() {
    let (app, store, _dir) = app().await;
    let b = body(3);
    let r = app
        .clone()
        .oneshot(signed(&b, now(), SECRET))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        store.pending_webhook_events("p", 10).await.unwrap().len(),
        3,
        "stored before the 2xx"
    );
    let again = app.oneshot(signed(&b, now(), SECRET)).await.unwrap();
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "a duplicate delivery is acknowledged"
    );
    assert_eq!(
        store.pending_webhook_events("p", 10).await.unwrap().len(),
        3,
        "and not stored twice"
    );
}

#[tokio::test]
async fn bad_or_stale_signatures_get_401_and_store_nothing() {
    let (app, store, _dir) = app().await;
    let b = body(1);
    for request in [
        signed(&b, now(), "wrong-secret"),
        signed(&b, now() - 301_000, SECRET),
        Request::post("/webhooks/hubspot")
            .body(Body::from(b.clone()))
            .unwrap(),
    ] {
        let r = app.clone().oneshot(request).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // A body changed after signing.
    let mut tampered = signed(&b, now(), SECRET);
    *tampered.body_mut() = Body::from(b.replace("Interested", "Not Interested"));
    assert_eq!(
        app.oneshot(tampered).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(
        store
            .pending_webhook_events("p", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused() {
    let (app, store, _dir) = app().await;
    for b in ["{not json", r#"{"eventId":1}"#, r#"[{"eventId":1}]"#] {
        let r = app.clone().oneshot(signed(b, now(), SECRET)).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{b}");
    }
    let big = body(400);
    assert!(big.len() > 64 * 1024);
    let r = app.oneshot(signed(&big, now(), SECRET)).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        store
            .pending_webhook_events("p", 10)
            .await
            .unwrap()
            .is_empty()
    );
}
