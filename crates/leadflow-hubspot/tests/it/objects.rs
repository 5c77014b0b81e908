//! CRM object calls: listing, get, create, update, archive and the batch calls.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use leadflow_core::ObjectType;
use leadflow_hubspot::{Error, ListOptions, ObjectInput, ObjectUpdate, PropertyValues};

use crate::helpers::{client, empty_config, sandbox, strings};

fn values(pairs: &[(&str, &str)]) -> PropertyValues {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn listing_streams_every_record_across_pages() {
    let sb = sandbox(empty_config()).await;
    let ids = sb.state().seed_contacts(250, 1);
    let c = client(&sb.url());
    let pages: Vec<_> = c
        .objects(ObjectType::Contacts)
        .list_pages(ListOptions::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let listed: BTreeSet<String> = pages
        .into_iter()
        .flat_map(|p| p.results)
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, ids.into_iter().collect::<BTreeSet<_>>());
}

#[tokio::test]
async fn archived_records_are_listed_apart() {
    let sb = sandbox(empty_config()).await;
    let ids = sb.state().seed_contacts(10, 2);
    let contacts = client(&sb.url()).objects(ObjectType::Contacts);
    contacts.archive(&ids[0]).await.unwrap();
    contacts.batch_archive(&ids[1..3]).await.unwrap();
    let live: Vec<_> = contacts
        .list(ListOptions::default())
        .try_collect()
        .await
        .unwrap();
    let archived: Vec<_> = contacts
        .list(ListOptions {
            archived: true,
            ..ListOptions::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(live.len(), 7);
    assert_eq!(archived.len(), 3);
    assert!(archived.iter().all(|r| r.archived));
    assert_eq!(contacts.get(&ids[0], &[]).await.unwrap(), None);
}

#[tokio::test]
async fn create_get_by_email_update() {
    let sb = sandbox(empty_config()).await;
    let contacts = client(&sb.url()).objects(ObjectType::Contacts);
    let created = contacts
        .create(&ObjectInput {
            properties: values(&[("email", "ada@example.com"), ("firstname", "Ada")]),
            ..ObjectInput::default()
        })
        .await
        .unwrap();
    assert_eq!(created.get("hs_object_id"), Some(created.id.as_str()));
    let found = contacts
        .get_by(Some("email"), "ada@example.com", &strings(&["firstname"]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, created.id);
    assert_eq!(found.get("firstname"), Some("Ada"));
    let updated = contacts
        .update(&created.id, &values(&[("lastname", "Lovelace")]))
        .await
        .unwrap();
    assert_eq!(updated.id, created.id);
    let again = contacts
        .get(&created.id, &strings(&["lastname"]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.get("lastname"), Some("Lovelace"));

    let dup = contacts
        .create(&ObjectInput {
            properties: values(&[("email", "ADA@example.com")]),
            ..ObjectInput::default()
        })
        .await
        .unwrap_err();
    match dup {
        Error::Api {
            status: 409, body, ..
        } => assert_eq!(body.category(), "CONFLICT"),
        other => panic!("expected a 409 CONFLICT, got {other:?}"),
    }
}

#[tokio::test]
async fn batch_calls_chunk_to_one_hundred_inputs() {
    let sb = sandbox(empty_config()).await;
    let contacts = client(&sb.url()).objects(ObjectType::Contacts);
    let inputs: Vec<ObjectInput> = (0..250)
        .map(|i| ObjectInput {
            properties: values(&[("email", &format!("p{i}@example.com"))]),
            ..ObjectInput::default()
        })
        .collect();
    sb.state().reset_stats();
    let created = contacts.batch_create(inputs).await.unwrap();
    assert!(created.is_complete());
    assert_eq!(created.results.len(), 250);
    assert_eq!(sb.state().stats().requests, 3);

    let updates: Vec<ObjectUpdate> = created
        .results
        .iter()
        .map(|r| ObjectUpdate {
            id: r.id.clone(),
            id_property: None,
            properties: values(&[("jobtitle", "CTO")]),
            object_write_trace_id: None,
        })
        .collect();
    let updated = contacts.batch_update(updates).await.unwrap();
    assert_eq!(updated.results.len(), 250);

    let mut ids: Vec<String> = created
        .results
        .iter()
        .take(5)
        .map(|r| r.id.clone())
        .collect();
    ids.push("999999999".to_owned());
    let read = contacts
        .batch_read(&ids, &strings(&["jobtitle"]), None)
        .await
        .unwrap();
    assert_eq!(read.results.len(), 5);
    assert_eq!(read.errors.len(), 1, "the unknown id is reported per input");
    assert_eq!(read.errors[0].category.as_deref(), Some("OBJECT_NOT_FOUND"));
    assert!(
        read.results
            .iter()
            .all(|r| r.get("jobtitle") == Some("CTO"))
    );
}

#[tokio::test]
async fn batch_upsert_by_email_is_idempotent() {
    let sb = sandbox(empty_config()).await;
    let contacts = client(&sb.url()).objects(ObjectType::Contacts);
    let inputs = || -> Vec<(String, PropertyValues)> {
        (0..120)
            .map(|i| {
                (
                    format!("u{i}@example.com"),
                    values(&[("firstname", &format!("U{i}"))]),
                )
            })
            .collect()
    };
    let first = contacts.batch_upsert("email", inputs()).await.unwrap();
    assert_eq!(first.results.len(), 120);
    assert!(first.results.iter().all(|r| r.new == Some(true)));
    let second = contacts.batch_upsert("email", inputs()).await.unwrap();
    assert!(second.results.iter().all(|r| r.new == Some(false)));
    assert_eq!(sb.state().count("contacts"), 120);
}

#[tokio::test]
async fn a_batch_with_a_bad_input_reports_it_and_keeps_the_rest() {
    let sb = sandbox(empty_config()).await;
    let contacts = client(&sb.url()).objects(ObjectType::Contacts);
    let inputs = vec![
        ObjectInput {
            properties: values(&[("email", "ok@example.com")]),
            object_write_trace_id: Some("t1".into()),
            ..ObjectInput::default()
        },
        ObjectInput {
            properties: values(&[("no_such_property", "x")]),
            object_write_trace_id: Some("t2".into()),
            ..ObjectInput::default()
        },
    ];
    let outcome = contacts.batch_create(inputs).await.unwrap();
    assert_eq!(outcome.results.len(), 1);
    assert_eq!(outcome.errors.len(), 1);
    assert_eq!(
        outcome.errors[0].context.get("objectWriteTraceId"),
        Some(&vec!["t2".to_owned()])
    );
}

fn contact_inputs(n: usize, bad: Option<usize>) -> Vec<ObjectInput> {
    (0..n)
        .map(|i| {
            let mut properties = values(&[("email", &format!("chunk{i}@example.com"))]);
            if Some(i) == bad {
                // Not an option of lifecyclestage: without an objectWriteTraceId, HubSpot
                // refuses the whole batch this input is in.
                properties.insert("lifecyclestage".into(), "friend".into());
            }
            ObjectInput {
                properties,
                ..ObjectInput::default()
            }
        })
        .collect()
}

#[tokio::test]
async fn a_refused_chunk_keeps_the_chunks_that_worked() {
    let sb = sandbox(empty_config()).await;
    let contacts = client(&sb.url()).objects(ObjectType::Contacts);
    let outcome = contacts
        .batch_create(contact_inputs(250, Some(210)))
        .await
        .expect("two chunks of three succeeded, so the call is not an Err");
    assert_eq!(outcome.results.len(), 200);
    assert!(outcome.errors.is_empty());
    assert!(!outcome.is_complete());
    assert_eq!(outcome.failed_chunks.len(), 1);
    let failed = &outcome.failed_chunks[0];
    assert_eq!(failed.inputs, 200..250);
    assert_eq!(outcome.failed_chunk_inputs().count(), 50);
    match &failed.error {
        Error::Api { status, body, .. } => {
            assert_eq!(*status, 400);
            assert_eq!(body.category(), "VALIDATION_ERROR");
        }
        other => panic!("expected HubSpot's 400, got {other:?}"),
    }
    assert_eq!(
        sb.state().count("contacts"),
        200,
        "the refused chunk wrote nothing"
    );
    // The created records are exactly the inputs outside the failed chunk.
    let created: BTreeSet<String> = outcome
        .results
        .iter()
        .filter_map(|r| r.get("email").map(str::to_owned))
        .collect();
    let expected: BTreeSet<String> = (0..200).map(|i| format!("chunk{i}@example.com")).collect();
    assert_eq!(created, expected);
    // A caller that needs every chunk gets the chunk's error.
    let err = outcome.require_all_chunks().unwrap_err();
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn a_batch_whose_every_chunk_fails_is_an_error() {
    let sb = sandbox(empty_config()).await;
    let contacts = client(&sb.url()).objects(ObjectType::Contacts);
    let err = contacts
        .batch_create(contact_inputs(50, Some(3)))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(sb.state().count("contacts"), 0);
}

#[tokio::test]
async fn a_chunk_whose_retries_run_out_is_reported_with_its_inputs() {
    use wiremock::matchers::{body_string_contains, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    // The second chunk (ids 100 to 149) meets a 503 on every attempt; the first succeeds.
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/read"))
        .and(body_string_contains("\"id\":\"120\""))
        .respond_with(ResponseTemplate::new(503).set_body_string(
            r#"{"status":"error","message":"unavailable","category":"SERVICE_UNAVAILABLE","correlationId":"c"}"#,
        ))
        .mount(&server)
        .await;
    let first: Vec<serde_json::Value> = (0..100)
        .map(|i| serde_json::json!({"id": i.to_string(), "properties": {}, "archived": false}))
        .collect();
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/read"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"status": "COMPLETE", "results": first, "startedAt": "2026-01-01T00:00:00Z", "completedAt": "2026-01-01T00:00:00Z"}),
        ))
        .mount(&server)
        .await;
    let ids: Vec<String> = (0..150).map(|i| i.to_string()).collect();
    let outcome = client(&server.uri())
        .objects(ObjectType::Contacts)
        .batch_read(&ids, &[], None)
        .await
        .expect("the first chunk succeeded");
    assert_eq!(outcome.results.len(), 100);
    assert_eq!(outcome.failed_chunks.len(), 1);
    assert_eq!(outcome.failed_chunks[0].inputs, 100..150);
    assert!(
        matches!(
            outcome.failed_chunks[0].error,
            Error::Api {
                status: 503,
                attempts: 4,
                ..
            }
        ),
        "{:?}",
        outcome.failed_chunks[0].error
    );
    assert!(outcome.failed_chunks[0].error.is_retryable());
}
