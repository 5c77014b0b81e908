//! The waits HubSpot prescribes, on tokio's paused clock (no real sleeping): a 423 lock,
//! the search API's per-second 429, `Retry-After`; and a 401 that never refreshes OAuth.
//!
//! Each wait is read from the client's "retrying HubSpot call" event, and the paused clock
//! shows the call took at least that long. The client runs without a per-attempt timeout
//! here: a paused clock jumps to the next timer whenever the runtime waits on a socket,
//! which would fire the timeout while wiremock's thread is still answering.

use std::time::Duration;

use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{
    Client, ClientConfig, Credentials, Error, OAuthCredentials, RetryPolicy, SearchRequest,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::capture::Logs;
use crate::helpers::config;

const RECORD: &str = r#"{"id":"5","properties":{},"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z","archived":false}"#;

fn paused_config(url: &str) -> ClientConfig {
    let mut c = config(url, "t");
    c.timeout = Duration::MAX;
    c.retry = RetryPolicy {
        max_attempts: 4,
        ..RetryPolicy::default()
    };
    c
}

/// The waits the client announced before each retry, in milliseconds.
fn waits(logs: &Logs) -> Vec<u64> {
    logs.events("retrying HubSpot call")
        .iter()
        .filter_map(|e| e["wait_ms"].as_u64())
        .collect()
}

fn error_body(message: &str, category: &str) -> String {
    format!(
        r#"{{"status":"error","message":"{message}","category":"{category}","correlationId":"c"}}"#
    )
}

#[tokio::test(start_paused = true)]
async fn a_423_waits_at_least_two_seconds_for_the_lock() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/contacts/5"))
        .respond_with(ResponseTemplate::new(423).set_body_string(error_body("locked", "LOCKED")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/contacts/5"))
        .respond_with(ResponseTemplate::new(200).set_body_string(RECORD))
        .mount(&server)
        .await;
    let (logs, _guard) = Logs::capture();
    let client = Client::new(paused_config(&server.uri())).unwrap();
    let started = tokio::time::Instant::now();
    let got = client
        .objects(ObjectType::Contacts)
        .get("5", &[])
        .await
        .unwrap();
    assert_eq!(got.map(|r| r.id).as_deref(), Some("5"));
    let waits = waits(&logs);
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(
        (2000..=3000).contains(&waits[0]),
        "at least 2 s, spread by at most half: {waits:?}"
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_search_429_waits_a_second_per_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/search"))
        .respond_with(ResponseTemplate::new(429).set_body_string(
            r#"{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"SECONDLY"}"#,
        ))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/search"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"total":0,"results":[]}"#))
        .mount(&server)
        .await;
    let (logs, _guard) = Logs::capture();
    let client = Client::new(paused_config(&server.uri())).unwrap();
    let started = tokio::time::Instant::now();
    let page = client
        .objects(ObjectType::Contacts)
        .search_page(&SearchRequest {
            limit: 10,
            ..SearchRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 0);
    let waits = waits(&logs);
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!((1000..=1500).contains(&waits[0]), "{waits:?}");
    assert!((2000..=3000).contains(&waits[1]), "{waits:?}");
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_search_429_that_persists_is_reported_as_the_secondly_limit() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/search"))
        .respond_with(ResponseTemplate::new(429).set_body_string(
            r#"{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"SECONDLY"}"#,
        ))
        .mount(&server)
        .await;
    let client = Client::new(paused_config(&server.uri())).unwrap();
    let err = client
        .objects(ObjectType::Contacts)
        .search_page(&SearchRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::RateLimited {
                policy: leadflow_hubspot::RatePolicy::Secondly,
                attempts: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/contacts/5"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("retry-after", "7")
                .set_body_string(error_body("unavailable", "SERVICE_UNAVAILABLE")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/contacts/5"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3")
                .set_body_string(
                    r#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"TEN_SECONDLY_ROLLING"}"#,
                ),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/contacts/5"))
        .respond_with(ResponseTemplate::new(200).set_body_string(RECORD))
        .mount(&server)
        .await;
    let (logs, _guard) = Logs::capture();
    let client = Client::new(paused_config(&server.uri())).unwrap();
    let started = tokio::time::Instant::now();
    assert!(
        client
            .objects(ObjectType::Contacts)
            .get("5", &[])
            .await
            .unwrap()
            .is_some()
    );
    let waits = waits(&logs);
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(
        (7000..=10_500).contains(&waits[0]),
        "the 503's Retry-After: {waits:?}"
    );
    assert!(
        (3000..=4500).contains(&waits[1]),
        "the 429's Retry-After: {waits:?}"
    );
    assert!(started.elapsed() >= Duration::from_secs(10));
}

#[tokio::test]
async fn a_401_never_refreshes_the_oauth_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/v1/token"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"access_token":"sandbox-access-1","refresh_token":"refresh-me","expires_in":1800,"token_type":"bearer"}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/contacts/5"))
        .respond_with(ResponseTemplate::new(401).set_body_string(error_body(
            "Authentication credentials not found.",
            "INVALID_AUTHENTICATION",
        )))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri(), "unused");
    cfg.credentials = Credentials::OAuth(OAuthCredentials::new(
        "app",
        Secret::new("shh"),
        Secret::new("refresh-me"),
    ));
    let client = Client::new(cfg).unwrap();
    for _ in 0..2 {
        let err = client
            .objects(ObjectType::Contacts)
            .get("5", &[])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    }
    let requests = server.received_requests().await.unwrap();
    let refreshes = requests
        .iter()
        .filter(|r| r.url.path() == "/oauth/v1/token")
        .count();
    let gets = requests.len() - refreshes;
    assert_eq!(
        refreshes, 1,
        "one token for its lifetime, none because of a 401"
    );
    assert_eq!(gets, 2, "a 401 is not retried");
}
