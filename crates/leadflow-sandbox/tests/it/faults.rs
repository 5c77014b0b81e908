//! Fault injection: faults configured at start, and every kind set at run time through
//! the admin endpoint.

use std::time::{Duration, Instant};

use leadflow_sandbox::{Faults, SandboxConfig};
use serde_json::{Value, json};

use crate::{call, empty, http, sandbox};

#[tokio::test]
async fn faults_configured_at_start_apply_to_the_first_request() {
    let sb = sandbox(SandboxConfig {
        faults: Faults {
            rate_502: 1.0,
            ..Faults::default()
        },
        ..empty()
    })
    .await;
    let (s, a, _) = call(&sb, "GET", "/crm/v3/objects/contacts", None).await;
    assert_eq!(
        (s, a["category"].as_str()),
        (502, Some("BAD_GATEWAY")),
        "{a}"
    );
    assert_eq!(a["status"], "error");
    let shown: Value = http()
        .get(format!("{}/__sandbox/faults", sb.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["rate_502"], 1.0);
    assert_eq!(sb.state().stats().injected_faults, 1);
}

async fn put_faults(sb: &leadflow_sandbox::SandboxHandle, faults: Value) {
    let resp = http()
        .put(format!("{}/__sandbox/faults", sb.url()))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn every_fault_kind_is_settable_through_the_admin_endpoint() {
    let sb = sandbox(empty()).await;
    let answers = [
        ("rate_429", 429, "RATE_LIMITS"),
        ("rate_500", 500, "INTERNAL_ERROR"),
        ("rate_502", 502, "BAD_GATEWAY"),
        ("rate_503", 503, "SERVICE_UNAVAILABLE"),
    ];
    for (field, status, category) in answers {
        put_faults(&sb, json!({ field: 1.0 })).await;
        let (s, a, h) = call(&sb, "GET", "/crm/v3/objects/contacts", None).await;
        assert_eq!(
            (s, a["category"].as_str()),
            (status, Some(category)),
            "{field}: {a}"
        );
        assert!(
            a["correlationId"].is_string(),
            "{field}: HubSpot's error shape"
        );
        assert!(h.contains_key("x-hubspot-correlation-id"), "{field}");
        if status == 429 {
            assert_eq!(a["policyName"], "TEN_SECONDLY_ROLLING");
            assert_eq!(a["errorType"], "RATE_LIMIT");
        }
    }
    assert_eq!(sb.state().stats().injected_faults, 4);

    put_faults(&sb, json!({ "rate_reset": 1.0 })).await;
    let broken = http()
        .get(format!("{}/crm/v3/objects/contacts", sb.url()))
        .bearer_auth("t")
        .send()
        .await;
    let failed = match broken {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(failed, "a reset breaks the connection instead of answering");

    put_faults(&sb, json!({ "latency_ms": 150 })).await;
    let started = Instant::now();
    let (s, _, _) = call(&sb, "GET", "/crm/v3/objects/contacts", None).await;
    assert_eq!(s, 200, "latency slows a request down without failing it");
    assert!(started.elapsed() >= Duration::from_millis(150));

    put_faults(&sb, json!({})).await;
    let (s, _, _) = call(&sb, "GET", "/crm/v3/objects/contacts", None).await;
    assert_eq!(s, 200, "an empty fault set clears every fault");
    assert_eq!(sb.state().faults(), Faults::default());
}

#[tokio::test]
async fn a_malformed_fault_set_is_refused_in_hubspots_shape() {
    let sb = sandbox(empty()).await;
    let resp = http()
        .put(format!("{}/__sandbox/faults", sb.url()))
        .header("content-type", "application/json")
        .body("{\"rate_429\": \"often\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["category"], "VALIDATION_ERROR");
    assert_eq!(sb.state().faults(), Faults::default());
}
