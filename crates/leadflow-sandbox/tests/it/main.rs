//! The sandbox over raw HTTP: HubSpot's error shapes, validation, limits, search, lag,
//! merge and snapshots. (The client's own tests cover the happy paths end to end.)

use std::time::Duration;

use leadflow_sandbox::{Faults, Sandbox, SandboxConfig, SandboxHandle, Seed};
use serde_json::{Value, json};

mod faults;
mod search;
mod validation;
mod webhooks;

pub(crate) async fn sandbox(config: SandboxConfig) -> SandboxHandle {
    Sandbox::spawn(config).await.unwrap()
}

pub(crate) fn empty() -> SandboxConfig {
    let mut c = SandboxConfig {
        seed: Seed::Empty,
        ..SandboxConfig::default()
    };
    c.limits.search_per_second = 1000;
    c
}

pub(crate) fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

pub(crate) async fn call(
    sb: &SandboxHandle,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let url = format!("{}{path}", sb.url());
    let mut r = http()
        .request(method.parse().unwrap(), url)
        .bearer_auth("t");
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    )
}

#[tokio::test]
async fn no_bearer_token_is_hubspots_401() {
    let sb = sandbox(empty()).await;
    let resp = http()
        .get(format!("{}/crm/v3/objects/contacts", sb.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["category"], "INVALID_AUTHENTICATION");
    assert!(
        body["correlationId"]
            .as_str()
            .is_some_and(|c| c.len() == 36)
    );
}

#[tokio::test]
async fn malformed_json_and_bad_values_get_validation_errors_not_500s() {
    let sb = sandbox(empty()).await;
    let resp = http()
        .post(format!("{}/crm/v3/objects/contacts", sb.url()))
        .bearer_auth("t")
        .header("content-type", "application/json")
        .body("{\"properties\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["category"], "VALIDATION_ERROR");

    let cases = [
        (
            json!({"properties": {"nope": "x"}}),
            "PROPERTY_DOESNT_EXIST",
        ),
        (
            json!({"properties": {"email": "a@b.c", "lifecyclestage": "friend"}}),
            "INVALID_OPTION",
        ),
        (
            json!({"properties": {"email": "a@b.c", "hs_object_id": "5"}}),
            "READ_ONLY_VALUE",
        ),
    ];
    for (body, code) in cases {
        let (status, answer, _) = call(&sb, "POST", "/crm/v3/objects/contacts", Some(body)).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["errors"][0]["code"], code, "{answer}");
    }
    let (status, answer, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/companies",
        Some(json!({"properties": {"name": "X", "numberofemployees": "1,000"}})),
    )
    .await;
    assert_eq!(
        (status, answer["errors"][0]["code"].as_str()),
        (400, Some("INVALID_DECIMAL"))
    );
    let (status, answer, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/tasks",
        Some(json!({"properties": {"hs_task_subject": "x"}})),
    )
    .await;
    assert_eq!(status, 400, "a task needs hs_timestamp: {answer}");
    let (status, _, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/deals",
        Some(json!({"properties": {"dealname": "x", "dealstage": "nowhere"}})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts",
        Some(json!({"properties": {"phone": "1"}})),
    )
    .await;
    assert_eq!(status, 400, "a contact needs an email or a name");
}

#[tokio::test]
async fn dates_must_be_midnight_utc_and_unique_values_are_unique() {
    let sb = sandbox(empty()).await;
    let (s, _, _) = call(&sb, "POST", "/crm/v3/properties/contacts", Some(json!({"name": "last_outreach_date", "label": "Last Outreach Date", "type": "date", "fieldType": "date", "groupName": "contactinformation"}))).await;
    assert_eq!(s, 201);
    let (s, _, _) = call(&sb, "POST", "/crm/v3/properties/contacts", Some(json!({"name": "key", "label": "Key", "type": "string", "fieldType": "text", "groupName": "contactinformation", "hasUniqueValue": true}))).await;
    assert_eq!(s, 201);
    let (s, a, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts",
        Some(json!({"properties": {"email": "d@x.com", "last_outreach_date": "1764028800001"}})),
    )
    .await;
    assert_eq!(
        (s, a["errors"][0]["code"].as_str()),
        (400, Some("INVALID_DATE"))
    );
    let (s, _, _) = call(&sb, "POST", "/crm/v3/objects/contacts", Some(json!({"properties": {"email": "d@x.com", "last_outreach_date": "2026-11-24", "key": "k1"}}))).await;
    assert_eq!(s, 201);
    let (s, a, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts",
        Some(json!({"properties": {"email": "e@x.com", "key": "k1"}})),
    )
    .await;
    assert_eq!((s, a["category"].as_str()), (409, Some("CONFLICT")));
    let (s, a, _) = call(&sb, "POST", "/crm/v3/properties/contacts", Some(json!({"name": "bad", "label": "Bad", "type": "number", "fieldType": "textarea", "groupName": "contactinformation"}))).await;
    assert_eq!(
        (s, a["category"].as_str()),
        (400, Some("VALIDATION_ERROR")),
        "type and fieldType must fit"
    );
}

#[tokio::test]
async fn batch_and_page_sizes_are_limited() {
    let sb = sandbox(empty()).await;
    let inputs: Vec<Value> = (0..101).map(|i| json!({"id": i.to_string()})).collect();
    let (s, a, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts/batch/read",
        Some(json!({"inputs": inputs, "properties": []})),
    )
    .await;
    assert_eq!((s, a["category"].as_str()), (400, Some("VALIDATION_ERROR")));
    let (s, _, _) = call(&sb, "GET", "/crm/v3/objects/contacts?limit=101", None).await;
    assert_eq!(s, 400);
    let (s, _, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts/search",
        Some(json!({"limit": 201})),
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn search_limits_operators_and_index_lag() {
    let mut config = empty();
    config.search_index_lag = Duration::from_secs(3600);
    let sb = sandbox(config).await;
    for i in 0..3 {
        let (s, _, _) = call(
            &sb,
            "POST",
            "/crm/v3/objects/contacts",
            Some(json!({"properties": {"email": format!("lag{i}@x.com")}})),
        )
        .await;
        assert_eq!(s, 201);
    }
    // Everything was just written, so the lagging index sees nothing yet.
    let (s, a, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts/search",
        Some(json!({"limit": 10})),
    )
    .await;
    assert_eq!((s, a["total"].as_u64()), (200, Some(0)));

    let sb = sandbox(empty()).await;
    let ids = sb.state().seed_contacts(50, 2);
    let filter =
        |op: &str, v: &str| json!({"propertyName": "hs_object_id", "operator": op, "value": v});
    let (_, a, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts/search",
        Some(json!({"filterGroups": [{"filters": [filter("GT", &ids[44])]}], "limit": 100})),
    )
    .await;
    assert_eq!(a["total"], 5);
    let (_, a, _) = call(&sb, "POST", "/crm/v3/objects/contacts/search", Some(json!({"filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "BETWEEN", "value": ids[0], "highValue": ids[9]}]}], "limit": 100}))).await;
    assert_eq!(a["total"], 10);
    let (_, a, _) = call(&sb, "POST", "/crm/v3/objects/contacts/search", Some(json!({"filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "IN", "values": [ids[1], ids[2]]}]}, {"filters": [filter("EQ", &ids[3])]}], "limit": 100}))).await;
    assert_eq!(a["total"], 3, "groups are ORed");
    let (_, a, _) = call(&sb, "POST", "/crm/v3/objects/contacts/search", Some(json!({"filterGroups": [{"filters": [{"propertyName": "website", "operator": "NOT_HAS_PROPERTY"}]}], "sorts": ["-hs_object_id"], "limit": 1}))).await;
    assert_eq!(
        a["results"][0]["id"].as_str(),
        ids.last().map(String::as_str),
        "descending sort"
    );
    let six: Vec<Value> = (0..7).map(|_| filter("GT", "0")).collect();
    let (s, _, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts/search",
        Some(json!({"filterGroups": [{"filters": six}]})),
    )
    .await;
    assert_eq!(s, 400, "at most 6 filters per group");
    let groups: Vec<Value> = (0..6)
        .map(|_| json!({"filters": [filter("GT", "0")]}))
        .collect();
    let (s, _, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts/search",
        Some(json!({"filterGroups": groups})),
    )
    .await;
    assert_eq!(s, 400, "at most 5 groups");
    let (s, _, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts/search",
        Some(json!({"after": "10000", "limit": 10})),
    )
    .await;
    assert_eq!(s, 400, "no paging past 10,000");
}

#[tokio::test]
async fn the_rolling_window_answers_hubspots_429_with_headers() {
    let mut config = empty();
    config.limits.burst = 3;
    config.limits.window = Duration::from_secs(30);
    let sb = sandbox(config).await;
    for remaining in [2, 1, 0] {
        let (s, _, h) = call(&sb, "GET", "/crm/v3/objects/contacts", None).await;
        assert_eq!(s, 200);
        assert_eq!(
            h["x-hubspot-ratelimit-remaining"],
            remaining.to_string().as_str()
        );
        assert_eq!(h["x-hubspot-ratelimit-max"], "3");
        assert_eq!(h["x-hubspot-ratelimit-interval-milliseconds"], "30000");
    }
    let (s, a, h) = call(&sb, "GET", "/crm/v3/objects/contacts", None).await;
    assert_eq!(s, 429);
    assert_eq!(a["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(a["errorType"], "RATE_LIMIT");
    assert!(h.contains_key("x-hubspot-correlation-id"));
    assert_eq!(sb.state().stats().rate_limited, 1);
    // Search has its own budget.
    let (s, _, h) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts/search",
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        !h.contains_key("x-hubspot-ratelimit-remaining"),
        "search answers carry no rate headers"
    );
}

#[tokio::test]
async fn the_daily_budget_answers_daily_429s() {
    let mut config = empty();
    config.limits.daily = 2;
    let sb = sandbox(config).await;
    call(&sb, "GET", "/crm/v3/objects/contacts", None).await;
    call(&sb, "GET", "/crm/v3/objects/contacts", None).await;
    let (s, a, _) = call(&sb, "GET", "/crm/v3/objects/contacts", None).await;
    assert_eq!((s, a["policyName"].as_str()), (429, Some("DAILY")));
}

#[tokio::test]
async fn faults_are_settable_over_http() {
    let sb = sandbox(empty()).await;
    let resp = http()
        .put(format!("{}/__sandbox/faults", sb.url()))
        .json(&json!({"rate_503": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (s, a, _) = call(&sb, "GET", "/crm/v3/objects/contacts", None).await;
    assert_eq!(
        (s, a["category"].as_str()),
        (503, Some("SERVICE_UNAVAILABLE"))
    );
    sb.state().set_faults(Faults {
        rate_reset: 1.0,
        ..Faults::default()
    });
    let broken = http()
        .get(format!("{}/crm/v3/objects/contacts", sb.url()))
        .bearer_auth("t")
        .send()
        .await;
    let failed = match broken {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(failed, "a reset is a broken connection, not an HTTP answer");
    assert_eq!(sb.state().stats().injected_faults, 2);
}

#[tokio::test]
async fn merged_contacts_answer_for_the_primary() {
    let sb = sandbox(empty()).await;
    let ids = sb.state().seed_contacts(2, 3);
    let (s, a, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts/merge",
        Some(json!({"primaryObjectId": ids[0], "objectIdToMerge": ids[1]})),
    )
    .await;
    assert_eq!((s, a["id"].as_str()), (200, Some(ids[0].as_str())));
    let (s, a, _) = call(
        &sb,
        "GET",
        &format!("/crm/v3/objects/contacts/{}", ids[1]),
        None,
    )
    .await;
    assert_eq!(
        (s, a["id"].as_str()),
        (200, Some(ids[0].as_str())),
        "the old id leads to the primary record"
    );
    assert_eq!(sb.state().count("contacts"), 1);
}

#[tokio::test]
async fn a_snapshot_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.json");
    let mut config = empty();
    config.snapshot = Some(path.clone());
    let sb = sandbox(config.clone()).await;
    let ids = sb.state().seed_contacts(5, 4);
    sb.shutdown().await;
    assert!(path.exists());
    let again = sandbox(config).await;
    assert_eq!(again.state().count("contacts"), 5);
    assert!(again.state().record("contacts", &ids[0]).is_some());
    // Emails are indexed again after loading: a duplicate is still refused.
    let email = again.state().record("contacts", &ids[0]).unwrap()["properties"]["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _, _) = call(
        &again,
        "POST",
        "/crm/v3/objects/contacts",
        Some(json!({"properties": {"email": email}})),
    )
    .await;
    assert_eq!(s, 409);
}

#[tokio::test]
async fn seeding_is_fast_and_unique() {
    let sb = sandbox(empty()).await;
    let ids = sb.state().seed_contacts(20_000, 9);
    assert_eq!(ids.len(), 20_000);
    assert_eq!(sb.state().count("contacts"), 20_000);
    let demo = sandbox(SandboxConfig::default()).await;
    assert_eq!(demo.state().count("contacts"), 300);
    assert_eq!(demo.state().count("deals"), 80);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_the_next_attempt_number() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let (tx, c) = (tx.clone(), c.clone());
            async move {
                // The first delivery fails; HubSpot's rules say it is retried.
                if c.fetch_add(1, Ordering::SeqCst) == 0 {
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                let _ = tx.send(serde_json::from_slice(&body).unwrap_or(Value::Null));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = empty();
    config.webhook_retry_base = Duration::from_millis(10);
    let sb = sandbox(config).await;
    call(
        &sb,
        "PUT",
        "/webhooks/v3/54321/settings",
        Some(json!({"targetUrl": target, "throttling": {"maxConcurrentRequests": 10}})),
    )
    .await;
    let (s, sub, _) = call(&sb, "POST", "/webhooks/v3/54321/subscriptions", Some(json!({"eventType": "contact.propertyChange", "propertyName": "firstname", "active": true}))).await;
    assert_eq!(s, 201, "{sub}");
    let (s, created, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts",
        Some(json!({"properties": {"email": "w@x.com"}})),
    )
    .await;
    assert_eq!(s, 201);
    let id = created["id"].as_str().unwrap().to_owned();
    call(
        &sb,
        "PATCH",
        &format!("/crm/v3/objects/contacts/{id}"),
        Some(json!({"properties": {"firstname": "Wren"}})),
    )
    .await;
    let events = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the retry arrives")
        .unwrap();
    assert_eq!(events[0]["subscriptionType"], "contact.propertyChange");
    assert_eq!(events[0]["propertyName"], "firstname");
    assert_eq!(events[0]["propertyValue"], "Wren");
    assert_eq!(events[0]["attemptNumber"], 1);
    assert_eq!(
        events.as_array().unwrap().len(),
        1,
        "only the subscribed property, not the creation"
    );
    assert_eq!(sb.state().stats().webhook_failures, 1);
}

#[tokio::test]
async fn a_private_app_token_tells_its_scopes() {
    use leadflow_sandbox::TokenGrant;
    let sb = sandbox(SandboxConfig {
        tokens: vec![
            TokenGrant {
                token: "t".into(),
                scopes: Some(vec!["crm.objects.contacts.read".into()]),
            },
            TokenGrant {
                token: "all".into(),
                scopes: None,
            },
        ],
        ..empty()
    })
    .await;
    let path = "/oauth/v2/private-apps/get/access-token-info";
    let (status, body, _) = call(&sb, "POST", path, Some(json!({ "tokenKey": "t" }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scopes"], json!(["crm.objects.contacts.read"]));
    assert!(body["hubId"].is_number());
    let (_, body, _) = call(&sb, "POST", path, Some(json!({ "tokenKey": "all" }))).await;
    let all: Vec<&str> = body["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(all.contains(&"crm.schemas.deals.write"), "{all:?}");
    let (status, _, _) = call(&sb, "POST", path, Some(json!({ "tokenKey": "nope" }))).await;
    assert_eq!(status, 404);
    let (status, _, _) = call(&sb, "POST", path, Some(json!({}))).await;
    assert_eq!(status, 400);
}
