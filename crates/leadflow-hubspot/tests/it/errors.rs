//! Error handling: authentication, scopes, malformed answers, retries and what is not retried.

use std::time::Duration;

use leadflow_core::ObjectType;
use leadflow_hubspot::{Client, ClientConfig, Error, ObjectInput, PropertyCreate};
use leadflow_sandbox::{Faults, TokenGrant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{config, empty_config, sandbox};

#[tokio::test]
async fn a_bad_token_is_an_authentication_error_that_never_shows_the_token() {
    let mut cfg = empty_config();
    cfg.tokens = vec![TokenGrant {
        token: "right-token".into(),
        scopes: None,
    }];
    let sb = sandbox(cfg).await;
    let client = Client::new(config(&sb.url(), "pat-na1-wrong-token-value")).unwrap();
    let err = client
        .objects(ObjectType::Contacts)
        .get("1", &[])
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(matches!(err, Error::Authentication { .. }), "{err:?}");
    assert!(shown.contains("authentication failed"), "{shown}");
    assert!(shown.contains("INVALID_AUTHENTICATION"), "{shown}");
    assert!(shown.contains("correlation id"), "{shown}");
    assert!(!err.body().unwrap().correlation_id().is_empty());
    assert!(!shown.contains("wrong-token-value"));
    assert!(!format!("{err:?}").contains("wrong-token-value"));
    assert!(!format!("{client:?}").contains("wrong-token-value"));
}

#[tokio::test]
async fn a_missing_scope_is_named() {
    let mut cfg = empty_config();
    cfg.tokens = vec![TokenGrant {
        token: "read-only".into(),
        scopes: Some(vec!["crm.objects.contacts.read".into()]),
    }];
    let sb = sandbox(cfg).await;
    let client = Client::new(config(&sb.url(), "read-only")).unwrap();
    let property = PropertyCreate {
        name: "icp_type".into(),
        label: "ICP Type".into(),
        type_: "string".into(),
        field_type: "text".into(),
        group_name: "contactinformation".into(),
        ..PropertyCreate::default()
    };
    let err = client
        .properties(ObjectType::Contacts)
        .create(&property)
        .await
        .unwrap_err();
    match &err {
        Error::MissingScopes { scopes, .. } => assert!(
            scopes.iter().any(|s| s == "crm.schemas.contacts.write"),
            "{scopes:?}"
        ),
        other => panic!("expected MissingScopes, got {other:?}"),
    }
    assert!(err.to_string().contains("crm.schemas.contacts.write"));
}

#[tokio::test]
async fn malformed_json_is_a_decode_error_naming_the_endpoint() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/contacts/17"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("{\"id\": \"17\", \"properties\": [oops"),
        )
        .mount(&server)
        .await;
    let client = Client::new(config(&server.uri(), "t")).unwrap();
    let err = client
        .objects(ObjectType::Contacts)
        .get("17", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(
        err.to_string().contains("GET /crm/v3/objects/contacts/17"),
        "{err}"
    );
}

#[tokio::test]
async fn transient_errors_are_retried_until_they_pass() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/contacts/5"))
        .respond_with(ResponseTemplate::new(503).set_body_string(r#"{"status":"error","message":"unavailable","category":"SERVICE_UNAVAILABLE","correlationId":"c"}"#))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/contacts/5"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"id":"5","properties":{},"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z","archived":false}"#))
        .mount(&server)
        .await;
    let client = Client::new(config(&server.uri(), "t")).unwrap();
    let got = client
        .objects(ObjectType::Contacts)
        .get("5", &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, "5");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_create_is_not_repeated_after_a_server_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/deals"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .mount(&server)
        .await;
    let client = Client::new(config(&server.uri(), "t")).unwrap();
    let err = client
        .objects(ObjectType::Deals)
        .create(&ObjectInput::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "an ambiguous create is never sent twice"
    );
}

#[tokio::test]
async fn a_create_is_repeated_after_a_rolling_window_429() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/tasks"))
        .respond_with(ResponseTemplate::new(429).set_body_string(
            r#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"TEN_SECONDLY_ROLLING"}"#,
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/tasks"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_string(r#"{"id":"9","properties":{},"archived":false}"#),
        )
        .mount(&server)
        .await;
    let client = Client::new(config(&server.uri(), "t")).unwrap();
    let created = client
        .objects(ObjectType::Tasks)
        .create(&ObjectInput::default())
        .await
        .unwrap();
    assert_eq!(created.id, "9");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_daily_429_stops_and_names_the_reset_time() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).set_body_string(
            r#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"DAILY"}"#,
        ))
        .mount(&server)
        .await;
    let client = Client::new(config(&server.uri(), "t")).unwrap();
    let err = client
        .objects(ObjectType::Contacts)
        .get("1", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DailyLimitExhausted { .. }), "{err:?}");
    assert!(err.to_string().contains("resets at"), "{err}");
    // The budget is known to be spent: the next call is refused without a request.
    let again = client
        .objects(ObjectType::Contacts)
        .get("2", &[])
        .await
        .unwrap_err();
    assert!(matches!(again, Error::DailyLimitExhausted { .. }));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn sandbox_faults_are_retried_for_reads_and_reported_when_they_persist() {
    let sb = sandbox(empty_config()).await;
    let ids = sb.state().seed_contacts(3, 1);
    let client = Client::new(config(&sb.url(), "t")).unwrap();
    sb.state().set_faults(Faults {
        rate_500: 1.0,
        ..Faults::default()
    });
    let err = client
        .objects(ObjectType::Contacts)
        .get(&ids[0], &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Api {
                status: 500,
                attempts: 4,
                ..
            }
        ),
        "{err:?}"
    );
    sb.state().set_faults(Faults {
        rate_reset: 1.0,
        ..Faults::default()
    });
    let err = client
        .objects(ObjectType::Contacts)
        .get(&ids[0], &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { attempts: 4, .. }),
        "{err:?}"
    );
    sb.state().set_faults(Faults::default());
    assert!(
        client
            .objects(ObjectType::Contacts)
            .get(&ids[0], &[])
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_timeout_is_a_transport_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let mut cfg: ClientConfig = config(&server.uri(), "t");
    cfg.timeout = Duration::from_millis(100);
    cfg.retry.max_attempts = 2;
    let client = Client::new(cfg).unwrap();
    let err = client
        .objects(ObjectType::Contacts)
        .get("1", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                timeout: true,
                attempts: 2,
                ..
            }
        ),
        "{err:?}"
    );
}
