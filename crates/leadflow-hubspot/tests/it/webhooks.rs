//! The sandbox's webhook deliveries carry signatures that the client's verifiers accept.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use leadflow_core::ObjectType;
use leadflow_hubspot::webhooks::{verify_v1, verify_v3};
use leadflow_hubspot::{ObjectInput, PropertyValues};
use tokio::sync::mpsc;

use crate::helpers::{client, empty_config, sandbox};

#[tokio::test]
async fn deliveries_verify_with_v1_and_v3() {
    let (tx, mut rx) = mpsc::unbounded_channel::<(HeaderMap, Bytes)>();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let config = empty_config();
    let (app_id, secret) = (config.app_id, config.client_secret.clone());
    let sb = sandbox(config).await;
    let c = client(&sb.url());
    c.put_webhook_settings(app_id, &target, 10).await.unwrap();
    c.subscribe_webhook(app_id, "contact.creation", None)
        .await
        .unwrap();
    assert_eq!(c.webhook_subscriptions(app_id).await.unwrap().len(), 1);
    c.objects(ObjectType::Contacts)
        .create(&ObjectInput {
            properties: PropertyValues::from([("email".to_owned(), "hook@example.com".to_owned())]),
            ..ObjectInput::default()
        })
        .await
        .unwrap();

    let (headers, body) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a delivery arrives")
        .unwrap();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    verify_v1(&secret, &body, &header("x-hubspot-signature")).unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    verify_v3(
        &secret,
        "POST",
        &target,
        &body,
        &header("x-hubspot-request-timestamp"),
        &header("x-hubspot-signature-v3"),
        now,
    )
    .unwrap();
    let events: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(events[0]["subscriptionType"], "contact.creation");
}
