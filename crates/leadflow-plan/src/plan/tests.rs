use std::collections::BTreeSet;

use leadflow_hubspot::{
    Pipeline, PipelineStage, Property, PropertyGroup, PropertyOption, PropertyUpdate,
    ValidationRule,
};

use super::*;

fn project() -> Project {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), true).unwrap();
    let (project, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{diags:?}");
    project
}

fn option(v: &str) -> PropertyOption {
    PropertyOption {
        label: v.into(),
        value: v.into(),
        hidden: false,
        display_order: None,
        description: None,
    }
}

/// A fresh portal: HubSpot's properties, the seed's lead_source, the default pipeline.
fn fresh_portal() -> PortalSnapshot {
    let mut snap = PortalSnapshot::default();
    snap.properties.insert(
        ObjectType::Contacts,
        vec![
            Property {
                name: "email".into(),
                type_: "string".into(),
                field_type: "text".into(),
                group_name: "contactinformation".into(),
                hubspot_defined: Some(true),
                ..Property::default()
            },
            Property {
                name: "lead_source".into(),
                label: "Lead Source".into(),
                type_: "enumeration".into(),
                field_type: "select".into(),
                group_name: "contactinformation".into(),
                options: vec![option("Inbound"), option("Referral")],
                ..Property::default()
            },
        ],
    );
    snap.properties.insert(ObjectType::Deals, Vec::new());
    snap.groups.insert(
        ObjectType::Contacts,
        vec![PropertyGroup {
            name: "contactinformation".into(),
            label: "Contact information".into(),
            ..PropertyGroup::default()
        }],
    );
    snap.pipelines = vec![Pipeline {
        id: "default".into(),
        label: "Sales Pipeline".into(),
        stages: vec![PipelineStage {
            id: "appointmentscheduled".into(),
            label: "Appointment Scheduled".into(),
            ..PipelineStage::default()
        }],
        ..Pipeline::default()
    }];
    snap.sequences = [
        "Manual Outreach Follow-up",
        "Automated Outreach Follow-up",
        "Not Interested Nurture",
        "No Response Follow-up",
    ]
    .map(String::from)
    .into_iter()
    .collect::<BTreeSet<_>>();
    snap.has_sequence_users = true;
    snap
}

/// The portal after a successful apply of `plan`.
fn applied(mut snap: PortalSnapshot, plan: &Plan) -> PortalSnapshot {
    for (object, name, label) in &plan.groups_to_create {
        snap.groups
            .entry(object.parse().unwrap())
            .or_default()
            .push(PropertyGroup {
                name: name.clone(),
                label: label.clone(),
                ..PropertyGroup::default()
            });
    }
    for item in &plan.properties {
        let o = item.object_type.unwrap();
        if let Some(c) = &item.create {
            snap.properties.entry(o).or_default().push(Property {
                name: c.name.clone(),
                label: c.label.clone(),
                type_: c.type_.clone(),
                field_type: c.field_type.clone(),
                group_name: c.group_name.clone(),
                description: c.description.clone().unwrap_or_default(),
                options: c.options.clone(),
                display_order: c.display_order,
                has_unique_value: c.has_unique_value,
                ..Property::default()
            });
        }
        if let Some(u) = &item.update {
            let p = snap
                .properties
                .get_mut(&o)
                .unwrap()
                .iter_mut()
                .find(|p| p.name == item.name)
                .unwrap();
            if let Some(opts) = &u.options {
                p.options = opts.clone();
            }
            if let Some(l) = &u.label {
                p.label = l.clone();
            }
            if let Some(d) = &u.description {
                p.description = d.clone();
            }
            if let Some(g) = &u.group_name {
                p.group_name = g.clone();
            }
            if let Some(d) = u.display_order {
                p.display_order = Some(d);
            }
        }
    }
    for r in plan.rules.iter().filter(|r| !r.unchanged) {
        snap.rules
            .entry((r.object.parse().unwrap(), r.property.clone()))
            .or_default()
            .push(ValidationRule {
                rule_type: r.rule_type.clone(),
                rule_arguments: vec![r.value.clone()],
                should_apply_normalization: None,
            });
    }
    for s in plan.stages.iter().filter(|s| s.existing_id.is_none()) {
        let id = format!("{}", snap.pipelines[0].stages.len());
        snap.pipelines[0].stages.push(PipelineStage {
            id,
            label: s.label.clone(),
            ..PipelineStage::default()
        });
    }
    snap
}

#[test]
fn a_fresh_portal_gets_eleven_properties_and_the_lead_source_check() {
    let project = project();
    let plan = plan(&project, &fresh_portal(), false);
    let contacts: Vec<_> = plan
        .properties
        .iter()
        .filter(|p| p.object == "contacts")
        .collect();
    assert_eq!(
        contacts
            .iter()
            .filter(|p| p.action == PropertyAction::Create)
            .count(),
        11
    );
    let lead_source = contacts.iter().find(|p| p.name == "lead_source").unwrap();
    assert_eq!(
        lead_source.action,
        PropertyAction::Update {
            changes: vec![Change::OptionsAdded {
                options: vec!["Outbound".into()]
            }]
        }
    );
    let new_options = lead_source
        .update
        .as_ref()
        .unwrap()
        .options
        .as_ref()
        .unwrap();
    assert_eq!(
        new_options
            .iter()
            .map(|o| o.value.as_str())
            .collect::<Vec<_>>(),
        ["Inbound", "Referral", "Outbound"],
        "nothing is removed"
    );
    assert_eq!(plan.groups_to_create.len(), 2, "contacts and deals groups");
    assert_eq!(
        plan.rules.iter().filter(|r| !r.unchanged).count(),
        4,
        "min and max of two ranges"
    );
    assert_eq!(
        plan.stages
            .iter()
            .filter(|s| s.existing_id.is_none())
            .count(),
        2,
        "New Lead and Discovery"
    );
    assert!(plan.sequences.iter().all(|s| s.found));
    assert!(!plan.has_blockers());
    // Groups 2, one batch create per object 2, lead_source 1, rules 4, stages 2.
    assert_eq!(plan.writes(), 11);
}

#[test]
fn applying_converges_and_a_second_plan_is_empty() {
    let project = project();
    let first = plan(&project, &fresh_portal(), false);
    let after = applied(fresh_portal(), &first);
    let second = plan(&project, &after, false);
    assert!(
        second.is_converged(),
        "{:#?}",
        second
            .properties
            .iter()
            .filter(|p| p.action != PropertyAction::Unchanged)
            .collect::<Vec<_>>()
    );
    assert_eq!(second.writes(), 0);
}

#[test]
fn a_type_change_is_a_conflict_that_blocks_apply() {
    let project = project();
    let mut portal = fresh_portal();
    portal
        .properties
        .get_mut(&ObjectType::Contacts)
        .unwrap()
        .push(Property {
            name: "icp_fit_score".into(),
            label: "ICP Fit Score".into(),
            type_: "string".into(),
            field_type: "text".into(),
            group_name: "outbound_lead_generation".into(),
            ..Property::default()
        });
    let plan = plan(&project, &portal, false);
    let item = plan
        .properties
        .iter()
        .find(|p| p.name == "icp_fit_score")
        .unwrap();
    assert!(
        matches!(&item.action, PropertyAction::Conflict { reason } if reason.contains("string/text"))
    );
    assert!(plan.has_blockers());
}

#[test]
fn label_and_option_changes_are_updates_and_extras_are_unmanaged() {
    let project = project();
    let first = plan(&project, &fresh_portal(), false);
    let mut portal = applied(fresh_portal(), &first);
    {
        let props = portal.properties.get_mut(&ObjectType::Contacts).unwrap();
        let icp = props.iter_mut().find(|p| p.name == "icp_type").unwrap();
        icp.label = "ICP".into();
        icp.options[0].label = "Tier A".into();
        icp.options.push(option("ICP-D"));
        props.push(Property {
            name: "old_field".into(),
            label: "Old".into(),
            type_: "string".into(),
            field_type: "text".into(),
            group_name: "outbound_lead_generation".into(),
            ..Property::default()
        });
    }
    let plan = plan(&project, &portal, false);
    let icp = plan
        .properties
        .iter()
        .find(|p| p.name == "icp_type")
        .unwrap();
    let PropertyAction::Update { changes } = &icp.action else {
        panic!("{icp:?}")
    };
    assert!(changes.contains(&Change::Label {
        from: "ICP".into(),
        to: "ICP Type".into()
    }));
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::OptionsRelabelled { .. }))
    );
    assert!(
        !changes
            .iter()
            .any(|c| matches!(c, Change::OptionsRemoved { .. })),
        "no removal without --prune"
    );
    assert!(
        plan.properties
            .iter()
            .any(|p| p.name == "old_field" && p.action == PropertyAction::Unmanaged)
    );

    let pruned = super::plan(&project, &portal, true);
    let icp = pruned
        .properties
        .iter()
        .find(|p| p.name == "icp_type")
        .unwrap();
    let PropertyAction::Update { changes } = &icp.action else {
        panic!()
    };
    assert!(changes.contains(&Change::OptionsRemoved {
        options: vec!["ICP-D".into()]
    }));
}

/// The changes planned for `name`, and its update body.
fn changes_of(plan: &Plan, name: &str) -> (Vec<Change>, PropertyUpdate) {
    let item = plan.properties.iter().find(|p| p.name == name).unwrap();
    let PropertyAction::Update { changes } = &item.action else {
        panic!("{name} is not an update: {item:?}")
    };
    (changes.clone(), item.update.clone().unwrap())
}

#[test]
fn group_description_and_display_order_changes_are_planned_and_converge() {
    let project = project();
    let first = plan(&project, &fresh_portal(), false);
    let mut portal = applied(fresh_portal(), &first);
    {
        let props = portal.properties.get_mut(&ObjectType::Contacts).unwrap();
        let notes = props.iter_mut().find(|p| p.name == "notes").unwrap();
        notes.group_name = "contactinformation".into();
        let tag = props.iter_mut().find(|p| p.name == "campaign_tag").unwrap();
        tag.description = "old words".into();
        // ICP Type (place 1) and ICP Fit Score (place 2) swap places.
        props
            .iter_mut()
            .find(|p| p.name == "icp_type")
            .unwrap()
            .display_order = Some(2);
        props
            .iter_mut()
            .find(|p| p.name == "icp_fit_score")
            .unwrap()
            .display_order = Some(1);
    }
    let p = plan(&project, &portal, false);

    let (changes, update) = changes_of(&p, "notes");
    assert_eq!(
        changes,
        vec![Change::Group {
            from: "contactinformation".into(),
            to: "outbound_lead_generation".into()
        }]
    );
    assert_eq!(
        update.group_name.as_deref(),
        Some("outbound_lead_generation")
    );

    let (changes, update) = changes_of(&p, "campaign_tag");
    assert_eq!(
        changes,
        vec![Change::Description {
            from: "old words".into(),
            to: "Campaign or session identifier".into()
        }]
    );
    assert_eq!(
        update.description.as_deref(),
        Some("Campaign or session identifier")
    );

    let (changes, update) = changes_of(&p, "icp_type");
    assert_eq!(
        changes,
        vec![Change::DisplayOrder {
            from: Some(2),
            to: 1
        }]
    );
    assert_eq!(update.display_order, Some(1));
    let (changes, _) = changes_of(&p, "icp_fit_score");
    assert_eq!(
        changes,
        vec![Change::DisplayOrder {
            from: Some(1),
            to: 2
        }]
    );
    assert_eq!(
        p.properties
            .iter()
            .filter(|i| matches!(i.action, PropertyAction::Update { .. }))
            .count(),
        4,
        "nothing else changes"
    );
    let again = plan(&project, &applied(portal, &p), false);
    assert!(again.is_converged(), "{:?}", again.properties);
}

#[test]
fn positions_the_portal_holds_in_the_configured_order_are_kept() {
    let project = project();
    let first = plan(&project, &fresh_portal(), false);
    let mut portal = applied(fresh_portal(), &first);
    // Spread out (as HubSpot's own numbering may be), but in the same order.
    for p in portal.properties.get_mut(&ObjectType::Contacts).unwrap() {
        if let Some(o) = p.display_order {
            p.display_order = Some(o * 10 + 5);
        }
    }
    assert!(plan(&project, &portal, false).is_converged());
}

#[test]
fn a_unique_flag_that_differs_is_a_conflict() {
    let project = project();
    let first = plan(&project, &fresh_portal(), false);
    let mut portal = applied(fresh_portal(), &first);
    portal
        .properties
        .get_mut(&ObjectType::Deals)
        .unwrap()
        .iter_mut()
        .find(|p| p.name == "leadflow_deal_key")
        .unwrap()
        .has_unique_value = Some(false);
    portal
        .properties
        .get_mut(&ObjectType::Contacts)
        .unwrap()
        .iter_mut()
        .find(|p| p.name == "session_id")
        .unwrap()
        .has_unique_value = Some(true);
    let p = plan(&project, &portal, false);
    let reason = |name: &str| match &p.properties.iter().find(|i| i.name == name).unwrap().action {
        PropertyAction::Conflict { reason } => reason.clone(),
        other => panic!("{name}: {other:?}"),
    };
    let deal_key = reason("leadflow_deal_key");
    assert!(deal_key.contains("without unique values"), "{deal_key}");
    assert!(
        deal_key.contains("create each deal exactly once"),
        "{deal_key}"
    );
    assert!(deal_key.contains("archive leadflow_deal_key"), "{deal_key}");
    assert!(
        reason("session_id").contains("add unique: true to properties.yaml"),
        "{}",
        reason("session_id")
    );
    assert_eq!(p.blockers.len(), 2, "{:?}", p.blockers);
    assert!(p.blockers.iter().all(|b| b.starts_with("conflict: ")));
}

#[test]
fn option_labels_are_created_and_relabelled() {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), true).unwrap();
    let path = dir.path().join("properties.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "options: [\"ICP-A\", \"ICP-B\", \"ICP-C\"]",
        "options: [{ value: \"ICP-A\", label: \"Tier A\" }, \"ICP-B\", \"ICP-C\"]",
        1,
    );
    std::fs::write(&path, text).unwrap();
    let (project, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{diags:?}");
    let first = plan(&project, &fresh_portal(), false);
    let icp = first
        .properties
        .iter()
        .find(|p| p.name == "icp_type")
        .unwrap();
    let created = &icp.create.as_ref().unwrap().options;
    assert_eq!(
        (created[0].value.as_str(), created[0].label.as_str()),
        ("ICP-A", "Tier A")
    );
    let mut portal = applied(fresh_portal(), &first);
    assert!(plan(&project, &portal, false).is_converged());
    portal
        .properties
        .get_mut(&ObjectType::Contacts)
        .unwrap()
        .iter_mut()
        .find(|p| p.name == "icp_type")
        .unwrap()
        .options[0]
        .label = "ICP-A".into();
    let (changes, _) = changes_of(&plan(&project, &portal, false), "icp_type");
    assert_eq!(
        changes,
        vec![Change::OptionsRelabelled {
            options: vec![("ICP-A".into(), "ICP-A".into(), "Tier A".into())]
        }]
    );
}

#[test]
fn rules_of_a_removed_range_are_unmanaged_and_removed_by_hand_under_prune() {
    let project = project();
    let first = plan(&project, &fresh_portal(), false);
    let portal = applied(fresh_portal(), &first);
    // The configuration drops the range of ICP Fit Score.
    let mut without = project.clone();
    for p in &mut without.properties.properties {
        if p.name == "icp_fit_score" {
            p.kind = PropertyKind::Number {
                min: None,
                max: None,
            };
        }
    }
    let kept = plan(&without, &portal, false);
    let stale: Vec<_> = kept.rules.iter().filter(|r| r.unmanaged).collect();
    assert_eq!(
        stale
            .iter()
            .map(|r| (r.property.as_str(), r.rule_type.as_str(), r.value.as_str()))
            .collect::<Vec<_>>(),
        [
            ("icp_fit_score", "MIN_NUMBER", "1"),
            ("icp_fit_score", "MAX_NUMBER", "10")
        ]
    );
    assert!(
        stale.iter().all(|r| r.unchanged),
        "no write sets them again"
    );
    assert!(
        kept.is_converged(),
        "unmanaged rules are kept, like properties"
    );
    assert!(kept.manual_steps.is_empty());

    let pruned = plan(&without, &portal, true);
    assert_eq!(pruned.manual_steps.len(), 2, "{:?}", pruned.manual_steps);
    assert!(
        pruned.manual_steps[0].contains("remove the MIN_NUMBER rule (1) of ICP Fit Score"),
        "{}",
        pruned.manual_steps[0]
    );
    assert!(
        pruned.manual_steps[0].contains("not delete them"),
        "{}",
        pruned.manual_steps[0]
    );
    assert_eq!(pruned.writes(), 0, "nothing the API could do");
}

#[test]
fn missing_scopes_block_the_plan_and_name_the_scope() {
    let project = project();
    let mut portal = fresh_portal();
    portal.token_scopes = Some(
        ["crm.objects.contacts.read", "crm.schemas.contacts.write"]
            .map(String::from)
            .into_iter()
            .collect(),
    );
    let p = plan(&project, &portal, false);
    assert_eq!(p.missing_scopes, ["crm.schemas.deals.write"]);
    assert!(p.has_blockers());
    assert!(
        p.blockers
            .iter()
            .any(|b| b.starts_with("missing scope crm.schemas.deals.write")
                && b.contains("create pipeline stages")
                && b.contains("create properties")),
        "{:?}",
        p.blockers
    );
    assert_eq!(
        p.required_scopes(false).into_keys().collect::<Vec<_>>(),
        ["crm.schemas.contacts.write", "crm.schemas.deals.write"]
    );

    // A converged portal needs no scope at all.
    let after = applied(fresh_portal(), &plan(&project, &fresh_portal(), false));
    let mut read_only = after.clone();
    read_only.token_scopes = Some(BTreeSet::new());
    let p = plan(&project, &read_only, false);
    assert!(p.is_converged(), "{:?}", p.blockers);
    assert!(p.missing_scopes.is_empty());
}

#[test]
fn missing_sequences_and_pipelines_are_explained() {
    let project = project();
    let mut portal = fresh_portal();
    portal.sequences.remove("Not Interested Nurture");
    let p = plan(&project, &portal, false);
    assert_eq!(p.manual_steps.len(), 1);
    assert!(
        p.manual_steps[0].contains("\"Not Interested Nurture\""),
        "{}",
        p.manual_steps[0]
    );
    assert!(p.manual_steps[0].contains("Automation > Sequences"));
    assert!(
        !p.has_blockers(),
        "a missing sequence does not block properties"
    );

    portal.pipelines[0].label = "Renamed".into();
    portal.pipelines[0].id = "other".into();
    let p = plan(&project, &portal, false);
    assert!(
        p.blockers
            .iter()
            .any(|b| b.contains("\"Sales Pipeline\"") && b.contains("Renamed")),
        "{:?}",
        p.blockers
    );
}

#[test]
fn a_missing_existing_property_is_created_with_a_warning() {
    let project = project();
    let mut portal = fresh_portal();
    portal
        .properties
        .get_mut(&ObjectType::Contacts)
        .unwrap()
        .retain(|p| p.name != "lead_source");
    let p = plan(&project, &portal, false);
    assert!(
        p.properties
            .iter()
            .any(|i| i.name == "lead_source" && i.action == PropertyAction::ExistingMissing)
    );
    assert_eq!(p.warnings.len(), 1);
}

#[test]
fn export_round_trips_through_the_config_loader() {
    let project = project();
    let first = plan(&project, &fresh_portal(), false);
    let portal = applied(fresh_portal(), &first);
    let yaml = crate::export_yaml(&portal, "outbound_lead_generation");
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), true).unwrap();
    std::fs::write(dir.path().join("properties.yaml"), &yaml).unwrap();
    let (exported, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{yaml}\n{diags:?}");
    let fit = exported
        .properties
        .find(ObjectType::Contacts, "icp_fit_score")
        .unwrap();
    assert_eq!(
        fit.kind,
        PropertyKind::Number {
            min: Some(1.0),
            max: Some(10.0)
        }
    );
    assert_eq!(
        exported
            .properties
            .find(ObjectType::Contacts, "lead_source")
            .unwrap()
            .options()
            .len(),
        3
    );
    assert!(
        exported
            .properties
            .find(ObjectType::Deals, "leadflow_deal_key")
            .unwrap()
            .unique
    );
}
