//! Pipelines, owners, properties, associations, lists and sequences against the demo seed.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use leadflow_core::ObjectType;
use leadflow_hubspot::{
    AssociationSpec, EnrollmentRequest, Error, InlineAssociation, ListOptions, NewAssociation,
    ObjectId, ObjectInput, PipelineStageInput, PropertyCreate, PropertyOption, PropertyUpdate,
    PropertyValues, association_types,
};
use leadflow_sandbox::SandboxConfig;

use crate::helpers::{client, sandbox};

#[tokio::test]
async fn pipelines_and_stages_by_label() {
    let sb = sandbox(SandboxConfig::default()).await;
    let c = client(&sb.url());
    let pipelines = c.pipelines(ObjectType::Deals).await.unwrap();
    let default = pipelines
        .iter()
        .find(|p| p.id == "default")
        .expect("the default deal pipeline");
    assert_eq!(
        default
            .stage_by_label("appointment scheduled")
            .map(|s| s.id.as_str()),
        Some("appointmentscheduled")
    );
    assert!(default.stage_by_label("New Lead").is_none());
    let stage = PipelineStageInput {
        label: "New Lead".into(),
        display_order: 0,
        metadata: BTreeMap::from([("probability".to_owned(), "0.1".to_owned())]),
    };
    let created = c
        .create_pipeline_stage(ObjectType::Deals, "default", &stage)
        .await
        .unwrap();
    let again = c
        .pipeline(ObjectType::Deals, "default")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again.stage_by_label("new lead").map(|s| s.id.clone()),
        Some(created.id)
    );
    assert!(
        c.create_pipeline_stage(ObjectType::Deals, "default", &stage)
            .await
            .is_err(),
        "stage labels are unique"
    );
}

#[tokio::test]
async fn owners_carry_user_ids() {
    let sb = sandbox(SandboxConfig::default()).await;
    let owners: Vec<_> = client(&sb.url()).owners().try_collect().await.unwrap();
    assert!(owners.len() >= 3);
    assert!(
        owners
            .iter()
            .all(|o| o.user_id.is_some() && o.email.is_some())
    );
    let first = client(&sb.url())
        .owner(&owners[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, owners[0]);
}

#[tokio::test]
async fn properties_and_groups_round_trip() {
    let sb = sandbox(SandboxConfig::default()).await;
    let props = client(&sb.url()).properties(ObjectType::Contacts);
    let lead_source = props
        .get("lead_source")
        .await
        .unwrap()
        .expect("the demo seed has lead_source");
    assert_eq!(lead_source.type_, "enumeration");
    props
        .create_group(
            "outbound_lead_generation",
            "Outbound lead generation",
            Some(1),
        )
        .await
        .unwrap();
    assert!(
        props
            .create_group("outbound_lead_generation", "again", None)
            .await
            .is_err()
    );
    let icp = PropertyCreate {
        name: "icp_type".into(),
        label: "ICP Type".into(),
        type_: "enumeration".into(),
        field_type: "select".into(),
        group_name: "outbound_lead_generation".into(),
        description: Some("Ideal Customer Profile type".into()),
        options: ["ICP-A", "ICP-B", "ICP-C"]
            .iter()
            .enumerate()
            .map(|(i, v)| PropertyOption {
                label: (*v).into(),
                value: (*v).into(),
                hidden: false,
                display_order: Some(i as i32),
                description: None,
            })
            .collect(),
        ..PropertyCreate::default()
    };
    let created = props.create(&icp).await.unwrap();
    assert_eq!(created.options.len(), 3);
    match props.create(&icp).await.unwrap_err() {
        Error::Api {
            status: 409, body, ..
        } => assert_eq!(body.category(), "OBJECT_ALREADY_EXISTS"),
        other => panic!("expected 409, got {other:?}"),
    }
    let updated = props
        .update(
            "icp_type",
            &PropertyUpdate {
                label: Some("ICP type".into()),
                ..PropertyUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.label, "ICP type");
    let batch = props
        .batch_read(&["icp_type".to_owned(), "email".to_owned()])
        .await
        .unwrap();
    assert_eq!(batch.results.len(), 2);

    let score = PropertyCreate {
        name: "icp_fit_score".into(),
        label: "ICP Fit Score".into(),
        type_: "number".into(),
        field_type: "number".into(),
        group_name: "outbound_lead_generation".into(),
        ..PropertyCreate::default()
    };
    let outcome = props.batch_create(&[score]).await.unwrap();
    assert!(outcome.is_complete());
    props
        .put_validation_rule("icp_fit_score", "MIN_NUMBER", &["1".to_owned()])
        .await
        .unwrap();
    props
        .put_validation_rule("icp_fit_score", "MAX_NUMBER", &["10".to_owned()])
        .await
        .unwrap();
    let rules = props.validation_rules("icp_fit_score").await.unwrap();
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert!(
        props
            .groups()
            .await
            .unwrap()
            .iter()
            .any(|g| g.name == "outbound_lead_generation")
    );
    assert!(
        props
            .list(false)
            .await
            .unwrap()
            .iter()
            .any(|p| p.name == "icp_fit_score")
    );
}

#[tokio::test]
async fn deals_link_to_contacts_both_ways() {
    let sb = sandbox(SandboxConfig::default()).await;
    let c = client(&sb.url());
    let contacts: Vec<_> = c
        .objects(ObjectType::Contacts)
        .list(ListOptions {
            page_size: 5,
            ..ListOptions::default()
        })
        .try_collect()
        .await
        .unwrap();
    let contact = &contacts[0];
    let deal = c
        .objects(ObjectType::Deals)
        .create(&ObjectInput {
            properties: PropertyValues::from([
                ("dealname".to_owned(), "Ada - Example".to_owned()),
                ("dealstage".to_owned(), "appointmentscheduled".to_owned()),
                ("pipeline".to_owned(), "default".to_owned()),
            ]),
            associations: vec![InlineAssociation {
                to: ObjectId::from(contact.id.as_str()),
                types: vec![AssociationSpec::hubspot(association_types::DEAL_TO_CONTACT)],
            }],
            object_write_trace_id: None,
        })
        .await
        .unwrap();
    let from_contact = c
        .associations(ObjectType::Contacts, ObjectType::Deals)
        .of(&contact.id)
        .await
        .unwrap();
    let link = from_contact
        .iter()
        .find(|l| l.to_object_id == deal.id)
        .expect("the contact sees the deal");
    assert!(
        link.association_types
            .iter()
            .any(|t| t.type_id == association_types::CONTACT_TO_DEAL)
    );

    let other = &contacts[1];
    c.associations(ObjectType::Deals, ObjectType::Contacts)
        .batch_create(&[NewAssociation {
            from: deal.id.clone(),
            to: other.id.clone(),
            types: vec![AssociationSpec::hubspot(association_types::DEAL_TO_CONTACT)],
        }])
        .await
        .unwrap();
    let read = c
        .associations(ObjectType::Deals, ObjectType::Contacts)
        .batch_read(std::slice::from_ref(&deal.id))
        .await
        .unwrap();
    assert_eq!(read.results[0].to.len(), 2);
    c.associations(ObjectType::Deals, ObjectType::Contacts)
        .batch_archive(&[(deal.id.clone(), other.id.clone())])
        .await
        .unwrap();
    assert_eq!(
        c.associations(ObjectType::Deals, ObjectType::Contacts)
            .of(&deal.id)
            .await
            .unwrap()
            .len(),
        1
    );
    c.associations(ObjectType::Contacts, ObjectType::Companies)
        .associate_default(&contact.id, &first_company(&c).await)
        .await
        .unwrap();
}

async fn first_company(c: &leadflow_hubspot::Client) -> String {
    let companies: Vec<_> = c
        .objects(ObjectType::Companies)
        .list(ListOptions {
            page_size: 1,
            ..ListOptions::default()
        })
        .try_collect()
        .await
        .unwrap();
    companies[0].id.clone()
}

#[tokio::test]
async fn manual_lists_and_memberships() {
    let sb = sandbox(SandboxConfig::default()).await;
    let c = client(&sb.url());
    let contacts: Vec<_> = c
        .objects(ObjectType::Contacts)
        .list(ListOptions {
            page_size: 3,
            ..ListOptions::default()
        })
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<String> = contacts.iter().take(3).map(|r| r.id.clone()).collect();
    let list = c
        .lists()
        .create_manual("0-1", "Manual Outreach - 2026-11-24")
        .await
        .unwrap();
    let added = c.lists().add(&list.list_id, &ids).await.unwrap();
    assert_eq!(
        added.record_ids_added.len(),
        3,
        "read from HubSpot's recordsIdsAdded spelling"
    );
    assert_eq!(c.lists().members(&list.list_id).await.unwrap().len(), 3);
    let removed = c.lists().remove(&list.list_id, &ids[..1]).await.unwrap();
    assert_eq!(removed.record_ids_removed.len(), 1);
    let found = c
        .lists()
        .by_name("0-1", "manual outreach - 2026-11-24")
        .await
        .unwrap()
        .expect("found by name");
    assert_eq!(found.list_id, list.list_id);
    assert!(
        c.lists()
            .by_name("0-1", "no such list")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(c.lists().search("Manual Outreach").await.unwrap().len(), 1);
}

#[tokio::test]
async fn sequences_enroll_once() {
    let sb = sandbox(SandboxConfig::default()).await;
    let c = client(&sb.url());
    let owners: Vec<_> = c.owners().try_collect().await.unwrap();
    let owner = &owners[0];
    let user_id = owner.user_id.unwrap().to_string();
    let sequences = c.sequences(&user_id).await.unwrap();
    let names: Vec<&str> = sequences.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        "Manual Outreach Follow-up",
        "Automated Outreach Follow-up",
        "Not Interested Nurture",
        "No Response Follow-up",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let sequence = c
        .sequence(&sequences[0].id, &user_id)
        .await
        .unwrap()
        .unwrap();
    assert!(!sequence.steps.is_empty());
    let contact = c
        .objects(ObjectType::Contacts)
        .create(&ObjectInput {
            properties: PropertyValues::from([("email".to_owned(), "seq@example.com".to_owned())]),
            ..ObjectInput::default()
        })
        .await
        .unwrap();
    assert!(
        c.enrollment_of_contact(&contact.id)
            .await
            .unwrap()
            .is_none()
    );
    let request = EnrollmentRequest {
        contact_id: contact.id.clone(),
        sequence_id: sequence.id.clone(),
        sender_email: owner.email.clone().unwrap(),
        user_id: user_id.clone(),
    };
    let enrollment = c.enroll(&request).await.unwrap();
    assert_eq!(enrollment.to_email, "seq@example.com");
    let err = c.enroll(&request).await.unwrap_err();
    assert!(err.is_already_enrolled(), "{err:?}");
    let current = c.enrollment_of_contact(&contact.id).await.unwrap().unwrap();
    assert_eq!(current.sequence_id.as_deref(), Some(sequence.id.as_str()));
    assert_eq!(sb.state().enrollments().len(), 1);
}
