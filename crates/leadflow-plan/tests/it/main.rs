//! Properties plan and apply against the sandbox: the spec's acceptance path and its bad
//! inputs (missing scope, conflict, a failure half-way).

use leadflow_config::Project;
use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{Client, ClientConfig, Credentials, Error, PropertyCreate, RetryPolicy};
use leadflow_plan::{ApplyError, ApplyOptions, PropertyAction, apply, fetch, plan};
use leadflow_sandbox::{Faults, Sandbox, SandboxConfig, SandboxHandle, TokenGrant};

fn project() -> (Project, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), false).unwrap();
    let (project, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{diags:?}");
    (project, dir)
}

fn client(sb: &SandboxHandle, token: &str) -> Client {
    let mut c = ClientConfig::new(sb.url(), Credentials::Token(Secret::new(token)));
    c.retry = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    Client::new(c).unwrap()
}

/// The token introspection is a POST that reads.
const TOKEN_INFO: &str = "/oauth/v2/private-apps/get/access-token-info";

fn writes(sb: &SandboxHandle) -> usize {
    sb.state()
        .traffic()
        .iter()
        .filter(|x| x.method != "GET" && x.path != TOKEN_INFO)
        .count()
}

#[tokio::test]
async fn plan_apply_plan_converges_and_a_second_apply_writes_nothing() {
    let (project, _dir) = project();
    let sb = Sandbox::spawn(SandboxConfig {
        record_traffic: true,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let c = client(&sb, "t");

    let first = plan(&project, &fetch(&c, &project).await.unwrap(), false);
    let creates: Vec<&str> = first
        .properties
        .iter()
        .filter(|p| p.object == "contacts" && p.action == PropertyAction::Create)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(creates.len(), 11, "{creates:?}");
    let lead_source = first
        .properties
        .iter()
        .find(|p| p.name == "lead_source")
        .unwrap();
    assert!(lead_source.existing);
    assert_eq!(
        lead_source.action,
        PropertyAction::Unchanged,
        "the seed's lead_source has Inbound and Outbound already"
    );
    assert!(
        first.sequences.iter().all(|s| s.found),
        "the seed has the spec's four sequences"
    );
    assert!(first.manual_steps.is_empty());
    assert_eq!(writes(&sb), 0, "planning only reads");

    let report = apply(&c, &first, ApplyOptions::default()).await.unwrap();
    assert_eq!(report.writes, first.writes());
    assert_eq!(
        report.properties_created.len(),
        12,
        "11 contact properties and the deal key"
    );
    assert_eq!(
        report.stages_created,
        vec!["New Lead".to_owned(), "Discovery".to_owned()]
    );
    let fit = c
        .properties(ObjectType::Contacts)
        .get("icp_fit_score")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fit.group_name, "outbound_lead_generation");
    assert_eq!(
        c.properties(ObjectType::Contacts)
            .validation_rules("icp_fit_score")
            .await
            .unwrap()
            .len(),
        2
    );

    let second = plan(&project, &fetch(&c, &project).await.unwrap(), false);
    assert!(
        second.is_converged(),
        "{:?}",
        second
            .properties
            .iter()
            .filter(|p| p.action != PropertyAction::Unchanged)
            .collect::<Vec<_>>()
    );
    sb.state().clear_traffic();
    let again = apply(&c, &second, ApplyOptions::default()).await.unwrap();
    assert_eq!(again.writes, 0);
    assert_eq!(writes(&sb), 0, "a second apply makes zero write calls");
}

#[tokio::test]
async fn missing_lead_source_options_are_added_without_removing_any() {
    let (project, _dir) = project();
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let c = client(&sb, "t");
    let update = leadflow_hubspot::PropertyUpdate {
        options: Some(vec![
            leadflow_hubspot::PropertyOption {
                label: "Inbound".into(),
                value: "Inbound".into(),
                ..Default::default()
            },
            leadflow_hubspot::PropertyOption {
                label: "Partner".into(),
                value: "Partner".into(),
                ..Default::default()
            },
        ]),
        ..Default::default()
    };
    c.properties(ObjectType::Contacts)
        .update("lead_source", &update)
        .await
        .unwrap();
    let p = plan(&project, &fetch(&c, &project).await.unwrap(), false);
    apply(&c, &p, ApplyOptions::default()).await.unwrap();
    let options: Vec<String> = c
        .properties(ObjectType::Contacts)
        .get("lead_source")
        .await
        .unwrap()
        .unwrap()
        .options
        .into_iter()
        .map(|o| o.value)
        .collect();
    assert_eq!(options, ["Inbound", "Partner", "Outbound"]);
}

#[tokio::test]
async fn a_type_conflict_blocks_apply_and_nothing_is_written() {
    let (project, _dir) = project();
    let sb = Sandbox::spawn(SandboxConfig {
        record_traffic: true,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let c = client(&sb, "t");
    c.properties(ObjectType::Contacts)
        .create(&PropertyCreate {
            name: "icp_fit_score".into(),
            label: "ICP Fit Score".into(),
            type_: "string".into(),
            field_type: "text".into(),
            group_name: "contactinformation".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    sb.state().clear_traffic();
    let p = plan(&project, &fetch(&c, &project).await.unwrap(), false);
    assert!(p.has_blockers());
    let err = apply(&c, &p, ApplyOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("icp_fit_score"), "{err}");
    assert_eq!(writes(&sb), 0);
}

#[tokio::test]
async fn a_token_without_schema_scopes_is_told_which_scope_is_missing() {
    let (project, _dir) = project();
    let read_only: Vec<String> = [
        "crm.objects.contacts.read",
        "crm.objects.deals.read",
        "crm.objects.owners.read",
        "automation.sequences.read",
    ]
    .map(String::from)
    .to_vec();
    let sb = Sandbox::spawn(SandboxConfig {
        tokens: vec![TokenGrant {
            token: "ro".into(),
            scopes: Some(read_only),
        }],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let c = client(&sb, "ro");
    let p = plan(&project, &fetch(&c, &project).await.unwrap(), false);
    assert_eq!(
        p.missing_scopes,
        ["crm.schemas.contacts.write", "crm.schemas.deals.write"]
    );
    let err = apply(&c, &p, ApplyOptions::default()).await.unwrap_err();
    let shown = err.to_string();
    assert!(shown.starts_with("nothing was applied"), "{shown}");
    assert!(
        shown.contains("missing scope crm.schemas.contacts.write"),
        "{shown}"
    );
    assert!(
        shown.contains("missing scope crm.schemas.deals.write"),
        "{shown}"
    );
}

fn grant(token: &str, scopes: &[&str]) -> TokenGrant {
    TokenGrant {
        token: token.into(),
        scopes: Some(scopes.iter().map(|s| (*s).to_owned()).collect()),
    }
}

const READS: [&str; 4] = [
    "crm.objects.contacts.read",
    "crm.objects.deals.read",
    "crm.objects.owners.read",
    "automation.sequences.read",
];

#[tokio::test]
async fn a_token_that_may_write_contact_but_not_deal_schemas_writes_nothing() {
    let (project, _dir) = project();
    let contacts_only: Vec<&str> = READS
        .iter()
        .copied()
        .chain(["crm.schemas.contacts.write"])
        .collect();
    let sb = Sandbox::spawn(SandboxConfig {
        record_traffic: true,
        tokens: vec![
            grant("contacts-only", &contacts_only),
            TokenGrant {
                token: "all".into(),
                scopes: None,
            },
        ],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let c = client(&sb, "contacts-only");
    let snapshot = fetch(&c, &project).await.unwrap();
    assert!(
        snapshot
            .token_scopes
            .as_ref()
            .unwrap()
            .contains("crm.schemas.contacts.write")
    );
    let p = plan(&project, &snapshot, false);
    assert_eq!(p.missing_scopes, ["crm.schemas.deals.write"]);
    assert!(
        p.blockers
            .iter()
            .any(|b| b.contains("missing scope crm.schemas.deals.write")
                && b.contains("create pipeline stages")),
        "{:?}",
        p.blockers
    );
    let err = apply(&c, &p, ApplyOptions::default()).await.unwrap_err();
    assert!(matches!(err, ApplyError::Blocked(_)), "{err}");

    // A plan made without the scopes (by another client, or before they changed) is
    // checked again by apply itself, before its first write.
    let mut unaware = snapshot.clone();
    unaware.token_scopes = None;
    let p = plan(&project, &unaware, false);
    assert!(!p.has_blockers(), "{:?}", p.blockers);
    let err = apply(&c, &p, ApplyOptions::default()).await.unwrap_err();
    match &err {
        ApplyError::MissingScopes(missing) => assert_eq!(missing, &["crm.schemas.deals.write"]),
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("crm.schemas.deals.write"), "{err}");
    assert_eq!(
        writes(&sb),
        0,
        "no contact property was created before the 403"
    );
    let all = client(&sb, "all");
    assert!(
        all.properties(ObjectType::Contacts)
            .get("icp_fit_score")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_deal_key_that_is_not_unique_in_the_portal_is_a_conflict() {
    let (project, _dir) = project();
    let sb = Sandbox::spawn(SandboxConfig {
        record_traffic: true,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let c = client(&sb, "t");
    c.properties(ObjectType::Deals)
        .create(&PropertyCreate {
            name: "leadflow_deal_key".into(),
            label: "leadflow deal key".into(),
            type_: "string".into(),
            field_type: "text".into(),
            group_name: "dealinformation".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    sb.state().clear_traffic();
    let p = plan(&project, &fetch(&c, &project).await.unwrap(), false);
    let key = p
        .properties
        .iter()
        .find(|i| i.name == "leadflow_deal_key")
        .unwrap();
    let PropertyAction::Conflict { reason } = &key.action else {
        panic!("{key:?}")
    };
    assert!(reason.contains("without unique values"), "{reason}");
    assert!(reason.contains("exactly once"), "{reason}");
    let err = apply(&c, &p, ApplyOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("leadflow_deal_key"), "{err}");
    assert_eq!(writes(&sb), 0);
}

#[tokio::test]
async fn lead_source_with_another_type_is_a_conflict_and_missing_it_is_created_with_a_warning() {
    let (project, _dir) = project();
    let sb = Sandbox::spawn(SandboxConfig {
        record_traffic: true,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let c = client(&sb, "t");
    let contacts = c.properties(ObjectType::Contacts);
    contacts.archive("lead_source").await.unwrap();

    // Missing: planned as a create with a warning, and created by apply.
    let p = plan(&project, &fetch(&c, &project).await.unwrap(), false);
    let item = p
        .properties
        .iter()
        .find(|i| i.name == "lead_source")
        .unwrap();
    assert_eq!(item.action, PropertyAction::ExistingMissing);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("lead_source") && w.contains("apply creates it")),
        "{:?}",
        p.warnings
    );
    let report = apply(&c, &p, ApplyOptions::default()).await.unwrap();
    assert!(
        report
            .properties_created
            .contains(&"contacts.lead_source".to_owned()),
        "{report:?}"
    );
    let created = contacts.get("lead_source").await.unwrap().unwrap();
    assert_eq!(
        (created.type_.as_str(), created.field_type.as_str()),
        ("enumeration", "select")
    );
    assert_eq!(
        created
            .options
            .iter()
            .map(|o| o.value.as_str())
            .collect::<Vec<_>>(),
        ["Inbound", "Outbound"]
    );
    assert!(plan(&project, &fetch(&c, &project).await.unwrap(), false).is_converged());

    // Another type: a conflict, and nothing is written.
    contacts.archive("lead_source").await.unwrap();
    contacts
        .create(&PropertyCreate {
            name: "lead_source".into(),
            label: "Lead Source".into(),
            type_: "string".into(),
            field_type: "text".into(),
            group_name: "contactinformation".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    sb.state().clear_traffic();
    let p = plan(&project, &fetch(&c, &project).await.unwrap(), false);
    let item = p
        .properties
        .iter()
        .find(|i| i.name == "lead_source")
        .unwrap();
    assert!(item.existing);
    let PropertyAction::Conflict { reason } = &item.action else {
        panic!("{item:?}")
    };
    assert!(reason.contains("string/text"), "{reason}");
    assert!(reason.contains("dropdown"), "{reason}");
    let err = apply(&c, &p, ApplyOptions::default()).await.unwrap_err();
    assert!(matches!(err, ApplyError::Blocked(_)), "{err}");
    assert_eq!(writes(&sb), 0);
}

#[tokio::test]
async fn export_then_load_then_plan_changes_nothing() {
    let (project, dir) = project();
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let c = client(&sb, "t");
    apply(
        &c,
        &plan(&project, &fetch(&c, &project).await.unwrap(), false),
        ApplyOptions::default(),
    )
    .await
    .unwrap();
    // Someone relabelled an option in HubSpot, and added a property of their own elsewhere.
    let contacts = c.properties(ObjectType::Contacts);
    let mut icp = contacts.get("icp_type").await.unwrap().unwrap().options;
    icp[2].label = "ICP-C (partners)".into();
    contacts
        .update(
            "icp_type",
            &leadflow_hubspot::PropertyUpdate {
                options: Some(icp),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    contacts
        .create(&PropertyCreate {
            name: "favourite_colour".into(),
            label: "Favourite colour".into(),
            type_: "string".into(),
            field_type: "text".into(),
            group_name: "contactinformation".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    let yaml = leadflow_plan::export_yaml(
        &fetch(&c, &project).await.unwrap(),
        &project.settings.group_name,
    );
    assert!(
        yaml.contains("{ value: \"ICP-C\", label: \"ICP-C (partners)\" }"),
        "{yaml}"
    );
    std::fs::write(dir.path().join("properties.yaml"), &yaml).unwrap();
    let (adopted, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{yaml}\n{diags:?}");
    for name in ["lead_source", "favourite_colour"] {
        let p = adopted.properties.find(ObjectType::Contacts, name).unwrap();
        assert!(p.existing, "{name} is outside the managed group");
    }
    assert!(
        !adopted
            .properties
            .find(ObjectType::Contacts, "icp_type")
            .unwrap()
            .existing
    );
    let p = plan(&adopted, &fetch(&c, &project).await.unwrap(), false);
    assert!(
        p.is_converged(),
        "{:?}",
        p.properties
            .iter()
            .filter(|i| i.action != PropertyAction::Unchanged)
            .collect::<Vec<_>>()
    );
    assert!(
        p.properties
            .iter()
            .all(|i| i.action == PropertyAction::Unchanged),
        "{:?}",
        p.properties
    );
}

#[tokio::test]
async fn a_failure_half_way_is_finished_by_applying_again_without_duplicates() {
    let (project, _dir) = project();
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    // Reads are retried (quickly); a create that fails is not, so apply stops half-way.
    let mut config = ClientConfig::new(sb.url(), Credentials::Token(Secret::new("t")));
    config.retry = RetryPolicy {
        max_attempts: 8,
        initial_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    let c = Client::new(config).unwrap();
    let p = plan(&project, &fetch(&c, &project).await.unwrap(), false);
    // HubSpot starts failing: a third of the calls get a 503.
    sb.state().set_faults(Faults {
        rate_503: 0.3,
        ..Faults::default()
    });
    let mut attempts = 0;
    let mut current = p;
    loop {
        attempts += 1;
        match apply(&c, &current, ApplyOptions::default()).await {
            Ok(_) => break,
            Err(e) => assert!(matches!(e, leadflow_plan::ApplyError::Failed { .. }), "{e}"),
        }
        assert!(attempts < 60, "apply never finished");
        // Planning reads; with faults on, a read may fail too: retry the plan.
        current = loop {
            match fetch(&c, &project).await {
                Ok(s) => break plan(&project, &s, false),
                Err(Error::Api { status: 503, .. }) => continue,
                Err(e) => panic!("{e}"),
            }
        };
    }
    sb.state().set_faults(Faults::default());
    let last = plan(&project, &fetch(&c, &project).await.unwrap(), false);
    assert!(last.is_converged());
    let names: Vec<String> = c
        .properties(ObjectType::Contacts)
        .list(false)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "no property exists twice");
    let stages = c
        .pipeline(ObjectType::Deals, "default")
        .await
        .unwrap()
        .unwrap()
        .stages;
    assert_eq!(
        stages.iter().filter(|s| s.label == "New Lead").count(),
        1,
        "no stage exists twice"
    );
}

#[tokio::test]
async fn prune_archives_unmanaged_properties_of_the_managed_group_only() {
    let (project, _dir) = project();
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let c = client(&sb, "t");
    apply(
        &c,
        &plan(&project, &fetch(&c, &project).await.unwrap(), false),
        ApplyOptions::default(),
    )
    .await
    .unwrap();
    let stray = PropertyCreate {
        name: "old_score".into(),
        label: "Old score".into(),
        type_: "number".into(),
        field_type: "number".into(),
        group_name: "outbound_lead_generation".into(),
        ..Default::default()
    };
    c.properties(ObjectType::Contacts)
        .create(&stray)
        .await
        .unwrap();
    let p = plan(&project, &fetch(&c, &project).await.unwrap(), false);
    assert!(
        p.properties
            .iter()
            .any(|i| i.name == "old_score" && i.action == PropertyAction::Unmanaged)
    );
    apply(&c, &p, ApplyOptions::default()).await.unwrap();
    assert!(
        c.properties(ObjectType::Contacts)
            .get("old_score")
            .await
            .unwrap()
            .is_some(),
        "kept without --prune"
    );
    let report = apply(&c, &p, ApplyOptions { prune: true }).await.unwrap();
    assert_eq!(
        report.properties_archived,
        vec!["contacts.old_score".to_owned()]
    );
    assert!(
        c.properties(ObjectType::Contacts)
            .get("old_score")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        c.properties(ObjectType::Contacts)
            .get("lead_source")
            .await
            .unwrap()
            .is_some(),
        "properties of other groups are never pruned"
    );
}
