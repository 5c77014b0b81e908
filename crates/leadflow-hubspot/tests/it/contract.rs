//! Contract tests: every request body the client sends and every response body the
//! sandbox returns validates against HubSpot's published OpenAPI documents.
//!
//! The documents are read from `LEADFLOW_HUBSPOT_OPENAPI_DIR` or `../shared/hubspot-openapi`.
//! Without them the test prints a skip reason, unless `LEADFLOW_REQUIRE_CONTRACT=1` (CI).

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;
use leadflow_core::ObjectType;
use leadflow_hubspot::{
    AssociationSpec, Client, EnrollmentRequest, Filter, FilterGroup, InlineAssociation,
    ListOptions, NewAssociation, ObjectId, ObjectInput, ObjectUpdate, Operator, PipelineStageInput,
    PropertyCreate, PropertyOption, PropertyUpdate, PropertyValues, SearchQuery, association_types,
};
use leadflow_hubspot::{ENDPOINT_NAMES, Error, SearchRequest};
use leadflow_sandbox::{Faults, SandboxConfig, SandboxHandle, Seed};

use crate::capture::Logs;
use crate::helpers::{client, sandbox};

fn values(pairs: &[(&str, &str)]) -> PropertyValues {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Runs every operation the client offers, successes and typical failures.
async fn exercise(c: &Client, sb: &SandboxHandle) {
    let contacts = c.objects(ObjectType::Contacts);
    let listed: Vec<_> = contacts
        .list(ListOptions {
            page_size: 50,
            properties: vec!["email".into()],
            ..ListOptions::default()
        })
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<String> = listed.iter().map(|r| r.id.clone()).collect();
    let _ = contacts
        .list_page(
            &ListOptions {
                archived: true,
                ..ListOptions::default()
            },
            None,
        )
        .await
        .unwrap();
    let _ = contacts
        .get(&ids[0], &["email".into(), "firstname".into()])
        .await
        .unwrap();
    let _ = contacts.get("424242424", &[]).await.unwrap();
    let email = listed[0].get("email").unwrap().to_owned();
    let _ = contacts.get_by(Some("email"), &email, &[]).await.unwrap();
    let created = contacts
        .create(&ObjectInput {
            properties: values(&[("email", "contract@example.com"), ("firstname", "Con")]),
            ..ObjectInput::default()
        })
        .await
        .unwrap();
    let _ = contacts
        .create(&ObjectInput {
            properties: values(&[("email", "contract@example.com")]),
            ..ObjectInput::default()
        })
        .await
        .unwrap_err();
    let _ = contacts
        .create(&ObjectInput {
            properties: values(&[("nope", "x")]),
            ..ObjectInput::default()
        })
        .await
        .unwrap_err();
    contacts
        .update(&created.id, &values(&[("lastname", "Tract")]))
        .await
        .unwrap();
    let batch = contacts
        .batch_create(vec![
            ObjectInput {
                properties: values(&[("email", "b1@example.com")]),
                object_write_trace_id: Some("1".into()),
                ..ObjectInput::default()
            },
            ObjectInput {
                properties: values(&[("lifecyclestage", "not-a-stage")]),
                object_write_trace_id: Some("2".into()),
                ..ObjectInput::default()
            },
        ])
        .await
        .unwrap();
    let b1 = batch.results[0].id.clone();
    contacts
        .batch_update(vec![ObjectUpdate {
            id: b1.clone(),
            id_property: None,
            properties: values(&[("jobtitle", "CEO")]),
            object_write_trace_id: None,
        }])
        .await
        .unwrap();
    contacts
        .batch_upsert(
            "email",
            vec![
                ("b1@example.com".into(), values(&[("city", "Berlin")])),
                ("b2@example.com".into(), values(&[])),
            ],
        )
        .await
        .unwrap();
    contacts
        .batch_read(
            &[ids[1].clone(), "999999999".into()],
            &["email".into()],
            None,
        )
        .await
        .unwrap();
    contacts
        .batch_read(
            std::slice::from_ref(&email),
            &["email".into()],
            Some("email"),
        )
        .await
        .unwrap();
    let query = SearchQuery {
        filter_groups: vec![FilterGroup {
            filters: vec![
                Filter::new("lifecyclestage", Operator::Eq, "lead"),
                Filter::among("firstname", Operator::NotIn, vec!["zz".into()]),
            ],
        }],
        properties: vec!["email".into()],
        page_size: 20,
        ..SearchQuery::default()
    };
    let _: Vec<_> = contacts.search_all(query).try_collect().await.unwrap();
    contacts.archive(&created.id).await.unwrap();
    contacts.batch_archive(&[b1]).await.unwrap();

    let companies: Vec<_> = c
        .objects(ObjectType::Companies)
        .list(ListOptions {
            page_size: 5,
            ..ListOptions::default()
        })
        .try_collect()
        .await
        .unwrap();
    let company = companies[0].id.clone();
    let deal = c
        .objects(ObjectType::Deals)
        .create(&ObjectInput {
            properties: values(&[
                ("dealname", "Contract deal"),
                ("dealstage", "appointmentscheduled"),
                ("pipeline", "default"),
                ("amount", "0"),
            ]),
            associations: vec![InlineAssociation {
                to: ObjectId::from(ids[0].as_str()),
                types: vec![AssociationSpec::hubspot(association_types::DEAL_TO_CONTACT)],
            }],
            object_write_trace_id: None,
        })
        .await
        .unwrap();
    let _ = c
        .objects(ObjectType::Deals)
        .create(&ObjectInput {
            properties: values(&[("dealname", "No stage"), ("dealstage", "nowhere")]),
            ..ObjectInput::default()
        })
        .await
        .unwrap_err();
    let task = c
        .objects(ObjectType::Tasks)
        .create(&ObjectInput {
            properties: values(&[
                ("hs_timestamp", "2026-11-25T09:00:00.000Z"),
                ("hs_task_subject", "Follow up"),
                ("hs_task_status", "NOT_STARTED"),
            ]),
            associations: vec![InlineAssociation {
                to: ObjectId::from(ids[0].as_str()),
                types: vec![AssociationSpec::hubspot(association_types::TASK_TO_CONTACT)],
            }],
            object_write_trace_id: None,
        })
        .await
        .unwrap();
    let _ = c
        .objects(ObjectType::Tasks)
        .get(&task.id, &[])
        .await
        .unwrap();

    let assoc = c.associations(ObjectType::Contacts, ObjectType::Deals);
    let _ = assoc.of(&ids[0]).await.unwrap();
    assoc.associate_default(&ids[1], &deal.id).await.unwrap();
    assoc
        .associate(
            &ids[2],
            &deal.id,
            &[AssociationSpec::hubspot(association_types::CONTACT_TO_DEAL)],
        )
        .await
        .unwrap();
    assoc.remove(&ids[2], &deal.id).await.unwrap();
    assoc
        .batch_associate_default(&[(ids[3].clone(), deal.id.clone())])
        .await
        .unwrap();
    assoc
        .batch_create(&[NewAssociation {
            from: ids[4].clone(),
            to: deal.id.clone(),
            types: vec![AssociationSpec::hubspot(association_types::CONTACT_TO_DEAL)],
        }])
        .await
        .unwrap();
    assoc
        .batch_read(&[ids[0].clone(), ids[1].clone()])
        .await
        .unwrap();
    assoc
        .batch_archive(&[(ids[3].clone(), deal.id.clone())])
        .await
        .unwrap();
    c.associations(ObjectType::Deals, ObjectType::Companies)
        .associate_default(&deal.id, &company)
        .await
        .unwrap();

    let props = c.properties(ObjectType::Contacts);
    let _ = props.list(false).await.unwrap();
    let _ = props.get("lead_source").await.unwrap();
    let _ = props.get("no_such_property").await.unwrap();
    let _ = props.groups().await.unwrap();
    props
        .create_group(
            "outbound_lead_generation",
            "Outbound lead generation",
            Some(0),
        )
        .await
        .unwrap();
    let _ = props.group("outbound_lead_generation").await.unwrap();
    props
        .update_group("outbound_lead_generation", Some("Outbound"), None)
        .await
        .unwrap();
    let option = |v: &str, i: i32| PropertyOption {
        label: v.into(),
        value: v.into(),
        hidden: false,
        display_order: Some(i),
        description: None,
    };
    let icp = PropertyCreate {
        name: "icp_type".into(),
        label: "ICP Type".into(),
        type_: "enumeration".into(),
        field_type: "select".into(),
        group_name: "outbound_lead_generation".into(),
        description: Some("Ideal Customer Profile type".into()),
        options: vec![option("ICP-A", 0), option("ICP-B", 1)],
        ..PropertyCreate::default()
    };
    props.create(&icp).await.unwrap();
    let _ = props.create(&icp).await.unwrap_err();
    props
        .update(
            "icp_type",
            &PropertyUpdate {
                options: Some(vec![
                    option("ICP-A", 0),
                    option("ICP-B", 1),
                    option("ICP-C", 2),
                ]),
                ..PropertyUpdate::default()
            },
        )
        .await
        .unwrap();
    let score = PropertyCreate {
        name: "lead_score".into(),
        label: "Lead Score".into(),
        type_: "number".into(),
        field_type: "number".into(),
        group_name: "outbound_lead_generation".into(),
        ..PropertyCreate::default()
    };
    props
        .batch_create(std::slice::from_ref(&score))
        .await
        .unwrap();
    props
        .batch_read(&["lead_score".into(), "icp_type".into()])
        .await
        .unwrap();
    props
        .put_validation_rule("lead_score", "MIN_NUMBER", &["1".into()])
        .await
        .unwrap();
    let _ = props.validation_rules("lead_score").await.unwrap();
    let temp = PropertyCreate {
        name: "temp_prop".into(),
        label: "Temp".into(),
        type_: "string".into(),
        field_type: "text".into(),
        group_name: "outbound_lead_generation".into(),
        ..PropertyCreate::default()
    };
    props.create(&temp).await.unwrap();
    props.archive("temp_prop").await.unwrap();
    props
        .create_group("temp_group", "Temporary", None)
        .await
        .unwrap();
    props.archive_group("temp_group").await.unwrap();

    let _ = c.pipelines(ObjectType::Deals).await.unwrap();
    let _ = c.pipeline(ObjectType::Deals, "default").await.unwrap();
    let stage = PipelineStageInput {
        label: "New Lead".into(),
        display_order: 0,
        metadata: BTreeMap::from([("probability".into(), "0.1".into())]),
    };
    c.create_pipeline_stage(ObjectType::Deals, "default", &stage)
        .await
        .unwrap();
    let _ = c
        .create_pipeline(
            ObjectType::Deals,
            "Outbound",
            1,
            std::slice::from_ref(&stage),
        )
        .await
        .unwrap();

    let scopes = c.token_scopes().await.unwrap();
    assert!(scopes.is_some_and(|s| s.contains("crm.objects.contacts.read")));

    let owners: Vec<_> = c.owners().try_collect().await.unwrap();
    let _ = c.owner(&owners[0].id).await.unwrap();
    let user_id = owners[0].user_id.unwrap().to_string();
    let sequences = c.sequences(&user_id).await.unwrap();
    let _ = c.sequence(&sequences[0].id, &user_id).await.unwrap();
    let request = EnrollmentRequest {
        contact_id: ids[5].clone(),
        sequence_id: sequences[0].id.clone(),
        sender_email: owners[0].email.clone().unwrap(),
        user_id,
    };
    c.enroll(&request).await.unwrap();
    let _ = c.enroll(&request).await.unwrap_err();
    let _ = c.enrollment_of_contact(&ids[5]).await.unwrap();
    let _ = c.enrollment_of_contact(&ids[6]).await.unwrap();

    let lists = c.lists();
    let list = lists.create_manual("0-1", "Contract list").await.unwrap();
    lists.add(&list.list_id, &ids[..3]).await.unwrap();
    lists.remove(&list.list_id, &ids[..1]).await.unwrap();
    let _ = lists.members(&list.list_id).await.unwrap();
    let _ = lists.by_name("0-1", "Contract list").await.unwrap();
    let _ = lists.search("Contract").await.unwrap();

    let app_id = 54321;
    c.put_webhook_settings(app_id, "http://127.0.0.1:9/hook", 10)
        .await
        .unwrap();
    let sub = c
        .subscribe_webhook(app_id, "contact.propertyChange", Some("lifecyclestage"))
        .await
        .unwrap();
    let _ = c.webhook_subscriptions(app_id).await.unwrap();
    let id = match &sub.id {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    c.unsubscribe_webhook(app_id, &id).await.unwrap();

    // HubSpot's refusals are held to the documents too: the 400 for paging past 10,000
    // search results, and both kinds of 429.
    let err = contacts
        .search_page(&SearchRequest {
            limit: 10,
            after: Some("10000".into()),
            ..SearchRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    let mut cfg = crate::helpers::config(&sb.url(), "t");
    cfg.retry = leadflow_hubspot::RetryPolicy::none();
    let once = Client::new(cfg).unwrap();
    sb.state().set_faults(Faults {
        rate_429: 1.0,
        ..Faults::default()
    });
    let err = once
        .objects(ObjectType::Contacts)
        .get(&ids[0], &[])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    sb.state().set_faults(Faults::default());
}

/// Two searches within the same second on a sandbox that allows one: the second gets the
/// search API's 429.
async fn exceed_the_search_limit(sb: &SandboxHandle) {
    let mut cfg = crate::helpers::config(&sb.url(), "t");
    cfg.retry = leadflow_hubspot::RetryPolicy::none();
    let c = Client::new(cfg).unwrap();
    let contacts = c.objects(ObjectType::Contacts);
    let request = SearchRequest {
        limit: 1,
        ..SearchRequest::default()
    };
    contacts.search_page(&request).await.unwrap();
    let err = contacts.search_page(&request).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::RateLimited {
                policy: leadflow_hubspot::RatePolicy::Secondly,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn client_requests_and_sandbox_responses_follow_hubspots_openapi() {
    let mut config = SandboxConfig {
        record_traffic: true,
        ..SandboxConfig::default()
    };
    config.limits.search_per_second = 1000;
    let sb = sandbox(config).await;
    let mut strict = SandboxConfig {
        record_traffic: true,
        seed: Seed::Empty,
        ..SandboxConfig::default()
    };
    strict.limits.search_per_second = 1;
    let strict = sandbox(strict).await;
    let (logs, _guard) = Logs::capture();
    let c = client(&sb.url());
    exercise(&c, &sb).await;
    exceed_the_search_limit(&strict).await;

    // Every operation of the client ran: the scenario's coverage is the client's whole list.
    let called: BTreeSet<String> = logs
        .events("hubspot call")
        .iter()
        .filter_map(|e| e["endpoint"].as_str().map(str::to_owned))
        .collect();
    let listed: BTreeSet<String> = ENDPOINT_NAMES.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        called.symmetric_difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "operations listed in ENDPOINT_NAMES but not exercised, or exercised but not listed"
    );

    let Some(dir) = leadflow_contract::Contract::locate() else {
        if std::env::var("LEADFLOW_REQUIRE_CONTRACT").as_deref() == Ok("1") {
            panic!(
                "LEADFLOW_REQUIRE_CONTRACT=1 but HubSpot's OpenAPI documents were not found (set LEADFLOW_HUBSPOT_OPENAPI_DIR)"
            );
        }
        println!(
            "skipped: HubSpot OpenAPI documents not found (set LEADFLOW_HUBSPOT_OPENAPI_DIR); contract tests did not run"
        );
        return;
    };
    let contract = leadflow_contract::Contract::load(&dir).expect("the OpenAPI documents load");
    let mut traffic = sb.state().traffic();
    traffic.extend(strict.state().traffic());
    for (status, what) in [(429, "a 429"), (400, "a 400")] {
        assert!(
            traffic.iter().any(|x| x.status == status),
            "the scenario holds {what}"
        );
    }
    let policies: BTreeSet<String> = traffic
        .iter()
        .filter(|x| x.status == 429)
        .filter_map(|x| serde_json::from_slice::<serde_json::Value>(&x.response_body).ok())
        .filter_map(|b| b["policyName"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        policies,
        BTreeSet::from(["SECONDLY".to_owned(), "TEN_SECONDLY_ROLLING".to_owned()]),
        "both kinds of 429 are checked"
    );
    assert!(
        traffic.iter().any(|x| x.status == 400
            && x.path.ends_with("/search")
            && String::from_utf8_lossy(&x.response_body).contains("10000")),
        "the 400 past 10,000 results is checked"
    );
    let mut problems = Vec::new();
    let mut operations = BTreeSet::new();
    for x in &traffic {
        // The OAuth endpoints (token introspection) are not among the shared documents.
        if x.path.starts_with("/oauth/") {
            continue;
        }
        if let Some(op) = contract.operation(&x.method, &x.path) {
            operations.insert(format!("{} {}", op.method, op.path_template));
        }
        if let Some(body) = &x.request_body {
            if !body.is_empty() {
                match serde_json::from_slice::<serde_json::Value>(body) {
                    Ok(json) => {
                        if let Err(v) = contract.validate_request(&x.method, &x.path, &json) {
                            problems.push(format!("request  {} {}: {v}", x.method, x.path));
                        }
                    }
                    Err(e) => {
                        problems.push(format!("request  {} {}: not JSON: {e}", x.method, x.path))
                    }
                }
            }
        }
        if let Err(v) = contract.validate_response(&x.method, &x.path, x.status, &x.response_body) {
            problems.push(format!(
                "response {} {} {}: {v}",
                x.method, x.path, x.status
            ));
        }
    }
    println!(
        "contract: validated {} exchanges over {} operations",
        traffic.len(),
        operations.len()
    );
    assert!(
        traffic.len() > 60,
        "the scenario exercised {} exchanges",
        traffic.len()
    );
    assert!(
        problems.is_empty(),
        "{} contract violations:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
