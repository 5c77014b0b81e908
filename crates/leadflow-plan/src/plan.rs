//! The plan: a pure function of the project and a portal snapshot.

use std::collections::{BTreeMap, BTreeSet};

use leadflow_config::properties::DEAL_KEY_PROPERTY;
use leadflow_config::workflows::ActionKind;
use leadflow_config::{Project, PropertyKind, PropertySpec};
use leadflow_core::ObjectType;
use leadflow_hubspot::{PropertyCreate, PropertyOption, PropertyUpdate};
use serde::Serialize;

use crate::portal::PortalSnapshot;

/// One difference between a managed property and the portal.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// The label differs.
    Label {
        /// In the portal.
        from: String,
        /// In the configuration.
        to: String,
    },
    /// The description differs.
    Description {
        /// In the portal.
        from: String,
        /// In the configuration.
        to: String,
    },
    /// The property sits in another group.
    Group {
        /// In the portal.
        from: String,
        /// In the configuration.
        to: String,
    },
    /// Options the configuration has and the portal lacks.
    OptionsAdded {
        /// Their values.
        options: Vec<String>,
    },
    /// Options whose label differs from the configuration.
    OptionsRelabelled {
        /// `(value, portal label, configured label)`.
        options: Vec<(String, String, String)>,
    },
    /// Options the portal has and the configuration does not (removed only with `--prune`).
    OptionsRemoved {
        /// Their values.
        options: Vec<String>,
    },
    /// The position in the group differs.
    DisplayOrder {
        /// In the portal.
        from: Option<i32>,
        /// In the configuration.
        to: i32,
    },
}

/// What the plan does with one property.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PropertyAction {
    /// Not in the portal: create it.
    Create,
    /// In the portal and different: update it.
    Update {
        /// The differences.
        changes: Vec<Change>,
    },
    /// In the portal as configured.
    Unchanged,
    /// In the portal with another type: HubSpot cannot change it safely, so nothing is written.
    Conflict {
        /// Why.
        reason: String,
    },
    /// In the portal (custom, in the managed group) and not in the configuration.
    Unmanaged,
    /// `existing: true` and absent: created, with a warning.
    ExistingMissing,
}

/// A property in the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PropertyItem {
    /// `contacts` or `deals`.
    pub object: String,
    /// Internal name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Whether the configuration marks it `existing: true`.
    pub existing: bool,
    /// What happens.
    #[serde(flatten)]
    pub action: PropertyAction,
    #[serde(skip)]
    pub(crate) object_type: Option<ObjectType>,
    #[serde(skip)]
    pub(crate) create: Option<PropertyCreate>,
    #[serde(skip)]
    pub(crate) update: Option<PropertyUpdate>,
}

/// A validation rule to set (ranges of number properties).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleItem {
    /// `contacts` or `deals`.
    pub object: String,
    /// The property.
    pub property: String,
    /// `MIN_NUMBER` or `MAX_NUMBER`.
    pub rule_type: String,
    /// The argument.
    pub value: String,
    /// Whether the portal already has it.
    pub unchanged: bool,
    /// In the portal, but the configuration has no such range (the range was removed):
    /// kept, and listed as a step by hand under `--prune`, since HubSpot's Property
    /// Validations API can set and replace rules but not delete them.
    pub unmanaged: bool,
}

/// A pipeline stage the workflows need.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StageItem {
    /// The pipeline's id, when found.
    pub pipeline_id: Option<String>,
    /// The pipeline as configured.
    pub pipeline: String,
    /// The stage label.
    pub label: String,
    /// Its probability.
    pub probability: f64,
    /// Its id when it exists.
    pub existing_id: Option<String>,
}

/// A sequence the workflows use.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SequenceItem {
    /// Its name.
    pub name: String,
    /// Whether the portal has it.
    pub found: bool,
    /// The workflows that use it.
    pub used_by: Vec<String>,
}

/// Everything `apply` would do, and what it cannot.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    /// Property groups to create: `(object, name, label)`.
    pub groups_to_create: Vec<(String, String, String)>,
    /// One item per managed property, then the unmanaged ones.
    pub properties: Vec<PropertyItem>,
    /// Range rules.
    pub rules: Vec<RuleItem>,
    /// Stages the workflows need.
    pub stages: Vec<StageItem>,
    /// Sequences the workflows use.
    pub sequences: Vec<SequenceItem>,
    /// Problems that stop `apply` (conflicts, a missing pipeline).
    pub blockers: Vec<String>,
    /// Things the user must do by hand (sequences cannot be created through the API).
    pub manual_steps: Vec<String>,
    /// Warnings (an `existing` property that is missing, for instance).
    pub warnings: Vec<String>,
    /// Scopes apply needs that the token lacks (when HubSpot told its scopes); each is also
    /// a blocker, so nothing is written.
    pub missing_scopes: Vec<String>,
}

impl Plan {
    /// Whether a conflict or another blocker stops `apply`.
    pub fn has_blockers(&self) -> bool {
        !self.blockers.is_empty()
    }

    /// Write calls `apply` would make (without `--prune`).
    pub fn writes(&self) -> usize {
        let creates_per_object: BTreeSet<&str> = self
            .properties
            .iter()
            .filter(|p| {
                matches!(
                    p.action,
                    PropertyAction::Create | PropertyAction::ExistingMissing
                )
            })
            .map(|p| p.object.as_str())
            .collect();
        self.groups_to_create.len()
            + creates_per_object.len()
            + self
                .properties
                .iter()
                .filter(|p| matches!(p.action, PropertyAction::Update { .. }))
                .count()
            + self.rules.iter().filter(|r| !r.unchanged).count()
            + self
                .stages
                .iter()
                .filter(|s| s.existing_id.is_none() && s.pipeline_id.is_some())
                .count()
    }

    /// Whether the portal already matches the configuration.
    pub fn is_converged(&self) -> bool {
        self.writes() == 0 && !self.has_blockers()
    }

    /// The scopes apply's writes need, each with what it is needed for. `prune`: unmanaged
    /// properties are archived too.
    pub fn required_scopes(&self, prune: bool) -> BTreeMap<String, BTreeSet<&'static str>> {
        let mut out: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
        let mut need = |object: &str, what: &'static str| {
            out.entry(format!("crm.schemas.{object}.write"))
                .or_default()
                .insert(what);
        };
        for (object, _, _) in &self.groups_to_create {
            need(object, "create the property group");
        }
        for p in &self.properties {
            match p.action {
                PropertyAction::Create | PropertyAction::ExistingMissing => {
                    need(&p.object, "create properties")
                }
                PropertyAction::Update { .. } => need(&p.object, "update properties"),
                PropertyAction::Unmanaged if prune => need(&p.object, "archive properties"),
                _ => {}
            }
        }
        for r in self.rules.iter().filter(|r| !r.unchanged) {
            need(&r.object, "set validation rules");
        }
        if self
            .stages
            .iter()
            .any(|s| s.existing_id.is_none() && s.pipeline_id.is_some())
        {
            need("deals", "create pipeline stages");
        }
        out
    }
}

fn options_of(spec: &PropertySpec) -> Vec<PropertyOption> {
    spec.options()
        .iter()
        .enumerate()
        .map(|(i, o)| PropertyOption {
            label: spec.option_label(o).to_owned(),
            value: o.clone(),
            hidden: false,
            display_order: Some(i as i32),
            description: None,
        })
        .collect()
}

fn create_body(spec: &PropertySpec, group: &str, order: i32) -> PropertyCreate {
    let (type_, field_type) = spec.kind.hubspot_types();
    PropertyCreate {
        name: spec.name.clone(),
        label: spec.label.clone(),
        type_: type_.to_owned(),
        field_type: field_type.to_owned(),
        group_name: group.to_owned(),
        description: (!spec.description.is_empty()).then(|| spec.description.clone()),
        options: options_of(spec),
        display_order: Some(order),
        has_unique_value: spec.unique.then_some(true),
        hidden: None,
        form_field: Some(spec.object == ObjectType::Contacts && !spec.unique),
    }
}

fn fmt_number(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Computes the plan. `prune` adds the removal of unconfigured options to updates.
pub fn plan(project: &Project, portal: &PortalSnapshot, prune: bool) -> Plan {
    let mut plan = Plan::default();
    let group = &project.settings.group_name;
    for object in [ObjectType::Contacts, ObjectType::Deals] {
        let managed: Vec<&PropertySpec> = project.properties.of(object).collect();
        let needs_group = managed
            .iter()
            .any(|s| !s.existing || portal.property(object, &s.name).is_none());
        let has_group = portal
            .groups
            .get(&object)
            .is_some_and(|g| g.iter().any(|g| &g.name == group));
        if needs_group && !has_group {
            plan.groups_to_create.push((
                object.api_name().to_owned(),
                group.clone(),
                project.settings.group_label.clone(),
            ));
        }
        // Display order: the configuration's order. Positions HubSpot already holds in
        // that order (for instance those `export` read) are kept; otherwise, or when a
        // property is created, every managed property is renumbered by its place.
        let positions: Option<Vec<i32>> = managed
            .iter()
            .filter(|s| !s.existing)
            .map(|s| {
                portal
                    .property(object, &s.name)
                    .and_then(|p| p.display_order)
            })
            .collect();
        let in_order = positions.is_some_and(|p| p.is_sorted());
        for (order, spec) in managed.iter().enumerate() {
            let order = order as i32;
            let item = |action, create, update| PropertyItem {
                object: object.api_name().to_owned(),
                name: spec.name.clone(),
                label: spec.label.clone(),
                existing: spec.existing,
                action,
                object_type: Some(object),
                create,
                update,
            };
            let Some(current) = portal.property(object, &spec.name) else {
                if spec.existing {
                    plan.warnings.push(format!(
                        "{} ({}) is marked existing but the portal does not have it: apply creates it",
                        spec.label, spec.name
                    ));
                    plan.properties.push(item(
                        PropertyAction::ExistingMissing,
                        Some(create_body(spec, group, order)),
                        None,
                    ));
                } else {
                    plan.properties.push(item(
                        PropertyAction::Create,
                        Some(create_body(spec, group, order)),
                        None,
                    ));
                }
                continue;
            };
            let (type_, field_type) = spec.kind.hubspot_types();
            let type_ok = current.type_ == type_
                && (current.field_type == field_type
                    || (spec.existing
                        && matches!(spec.kind, PropertyKind::Dropdown { .. })
                        && ["select", "radio", "checkbox"].contains(&current.field_type.as_str())));
            if !type_ok {
                let reason = format!(
                    "the portal has {} as {}/{}, the configuration says {} ({}/{}); HubSpot cannot change a property's type safely: rename the property in properties.yaml or change it in HubSpot",
                    spec.name,
                    current.type_,
                    current.field_type,
                    spec.kind.spec_name(),
                    type_,
                    field_type
                );
                plan.blockers.push(format!("conflict: {reason}"));
                plan.properties
                    .push(item(PropertyAction::Conflict { reason }, None, None));
                continue;
            }
            let portal_unique = current.has_unique_value == Some(true);
            if spec.unique != portal_unique {
                let reason = if spec.unique {
                    format!(
                        "the portal has {} without unique values (hasUniqueValue false), the configuration says unique: true{}; HubSpot cannot make an existing property unique safely, since its values may already repeat: archive {} in HubSpot and apply again to create it unique",
                        spec.name,
                        if spec.name == DEAL_KEY_PROPERTY {
                            " (leadflow relies on it to create each deal exactly once)"
                        } else {
                            ""
                        },
                        spec.name
                    )
                } else {
                    format!(
                        "the portal has {} with unique values (hasUniqueValue true), the configuration does not say unique: true; HubSpot cannot drop the flag of an existing property safely: add unique: true to properties.yaml",
                        spec.name
                    )
                };
                plan.blockers.push(format!("conflict: {reason}"));
                plan.properties
                    .push(item(PropertyAction::Conflict { reason }, None, None));
                continue;
            }
            let mut changes = Vec::new();
            let mut update = PropertyUpdate::default();
            // Options: add missing ones, relabel, keep the portal's extras unless pruning.
            if let PropertyKind::Dropdown { options, .. } = &spec.kind {
                let added: Vec<String> = options
                    .iter()
                    .filter(|o| !current.options.iter().any(|c| &c.value == *o))
                    .cloned()
                    .collect();
                let relabelled: Vec<(String, String, String)> = if spec.existing {
                    Vec::new()
                } else {
                    current
                        .options
                        .iter()
                        .filter_map(|c| {
                            let wanted = spec.option_label(&c.value);
                            (options.contains(&c.value) && wanted != c.label)
                                .then(|| (c.value.clone(), c.label.clone(), wanted.to_owned()))
                        })
                        .collect()
                };
                let extra: Vec<String> = current
                    .options
                    .iter()
                    .filter(|c| !options.contains(&c.value))
                    .map(|c| c.value.clone())
                    .collect();
                let remove = prune && !spec.existing && !extra.is_empty();
                if !added.is_empty() || !relabelled.is_empty() || remove {
                    let mut new_options: Vec<PropertyOption> = current
                        .options
                        .iter()
                        .filter(|c| !(remove && extra.contains(&c.value)))
                        .map(|c| {
                            let mut c = c.clone();
                            if let Some((_, _, to)) =
                                relabelled.iter().find(|(v, _, _)| *v == c.value)
                            {
                                c.label = to.clone();
                            }
                            c
                        })
                        .collect();
                    let base = new_options.len() as i32;
                    for (i, a) in added.iter().enumerate() {
                        new_options.push(PropertyOption {
                            label: spec.option_label(a).to_owned(),
                            value: a.clone(),
                            hidden: false,
                            display_order: Some(base + i as i32),
                            description: None,
                        });
                    }
                    update.options = Some(new_options);
                }
                if !added.is_empty() {
                    changes.push(Change::OptionsAdded { options: added });
                }
                if !relabelled.is_empty() {
                    changes.push(Change::OptionsRelabelled {
                        options: relabelled,
                    });
                }
                if remove {
                    changes.push(Change::OptionsRemoved { options: extra });
                }
            }
            if !spec.existing {
                if current.label != spec.label {
                    changes.push(Change::Label {
                        from: current.label.clone(),
                        to: spec.label.clone(),
                    });
                    update.label = Some(spec.label.clone());
                }
                if current.description != spec.description {
                    changes.push(Change::Description {
                        from: current.description.clone(),
                        to: spec.description.clone(),
                    });
                    update.description = Some(spec.description.clone());
                }
                if &current.group_name != group {
                    changes.push(Change::Group {
                        from: current.group_name.clone(),
                        to: group.clone(),
                    });
                    update.group_name = Some(group.clone());
                }
                if !in_order && current.display_order != Some(order) {
                    changes.push(Change::DisplayOrder {
                        from: current.display_order,
                        to: order,
                    });
                    update.display_order = Some(order);
                }
            }
            if changes.is_empty() {
                plan.properties
                    .push(item(PropertyAction::Unchanged, None, None));
            } else {
                plan.properties
                    .push(item(PropertyAction::Update { changes }, None, Some(update)));
            }
        }
        // Rules for ranges.
        for spec in &managed {
            if let PropertyKind::Number { min, max } = spec.kind {
                let existing = portal.rules.get(&(object, spec.name.clone()));
                for (rule_type, bound) in [("MIN_NUMBER", min), ("MAX_NUMBER", max)] {
                    let Some(b) = bound else {
                        // A range removed from the configuration leaves its rule behind.
                        let stale = existing
                            .into_iter()
                            .flatten()
                            .find(|r| r.rule_type == rule_type);
                        if let (Some(rule), false) = (stale, spec.existing) {
                            let value = rule.rule_arguments.join(", ");
                            if prune {
                                plan.manual_steps.push(format!(
                                    "remove the {rule_type} rule ({value}) of {} ({}.{}) in HubSpot (Settings > Properties > {} > Rules): properties.yaml has no range for it, and HubSpot's Property Validations API can set and replace rules but not delete them",
                                    spec.label,
                                    object.api_name(),
                                    spec.name,
                                    spec.label
                                ));
                            }
                            plan.rules.push(RuleItem {
                                object: object.api_name().to_owned(),
                                property: spec.name.clone(),
                                rule_type: rule_type.to_owned(),
                                value,
                                unchanged: true,
                                unmanaged: true,
                            });
                        }
                        continue;
                    };
                    let value = fmt_number(b);
                    let unchanged = existing.is_some_and(|rules| {
                        rules.iter().any(|r| {
                            r.rule_type == rule_type
                                && r.rule_arguments.first().and_then(|a| a.parse::<f64>().ok())
                                    == Some(b)
                        })
                    });
                    plan.rules.push(RuleItem {
                        object: object.api_name().to_owned(),
                        property: spec.name.clone(),
                        rule_type: rule_type.to_owned(),
                        value,
                        unchanged,
                        unmanaged: false,
                    });
                }
            }
        }
        // Unmanaged: custom properties in the managed group that the configuration lacks.
        for p in portal.properties.get(&object).into_iter().flatten() {
            if &p.group_name == group
                && p.hubspot_defined != Some(true)
                && !managed.iter().any(|s| s.name == p.name)
            {
                plan.properties.push(PropertyItem {
                    object: object.api_name().to_owned(),
                    name: p.name.clone(),
                    label: p.label.clone(),
                    existing: false,
                    action: PropertyAction::Unmanaged,
                    object_type: Some(object),
                    create: None,
                    update: None,
                });
            }
        }
    }

    // Deal stages the workflows need.
    let wanted = &project.settings.pipeline;
    let pipeline = portal
        .pipelines
        .iter()
        .find(|p| p.id == *wanted || p.label.eq_ignore_ascii_case(wanted))
        .or_else(|| {
            (wanted.is_empty())
                .then(|| portal.pipelines.iter().find(|p| p.id == "default"))
                .flatten()
        });
    let mut needed: Vec<(String, f64)> = project
        .settings
        .stages
        .iter()
        .map(|s| (s.label.clone(), s.probability))
        .collect();
    for w in &project.workflows {
        for a in &w.actions {
            let stage = match &a.kind {
                ActionKind::CreateDeal { stage, .. } => stage,
                ActionKind::UpdateDealStage { new_stage } => new_stage,
                _ => continue,
            };
            if !needed.iter().any(|(l, _)| l.eq_ignore_ascii_case(stage)) {
                needed.push((stage.clone(), 0.1));
            }
        }
    }
    match pipeline {
        None if !needed.is_empty() => {
            let names: Vec<String> = portal
                .pipelines
                .iter()
                .map(|p| format!("{:?} ({})", p.label, p.id))
                .collect();
            plan.blockers.push(format!(
                "deal pipeline {wanted:?} (leadflow.yaml deals.pipeline) is not in the portal; it has {}",
                if names.is_empty() { "no deal pipelines".to_owned() } else { names.join(", ") }
            ));
        }
        None => {}
        Some(p) => {
            for (label, probability) in needed {
                let existing_id = p.stage_by_label(&label).map(|s| s.id.clone());
                plan.stages.push(StageItem {
                    pipeline_id: Some(p.id.clone()),
                    pipeline: p.label.clone(),
                    label,
                    probability,
                    existing_id,
                });
            }
        }
    }

    // Sequences: HubSpot has no API to create them.
    let mut sequences: Vec<SequenceItem> = Vec::new();
    for w in &project.workflows {
        for a in &w.actions {
            if let ActionKind::AddToSequence { sequence } = &a.kind {
                match sequences.iter_mut().find(|s| &s.name == sequence) {
                    Some(s) => s.used_by.push(w.name.clone()),
                    None => sequences.push(SequenceItem {
                        name: sequence.clone(),
                        found: portal.sequences.contains(sequence),
                        used_by: vec![w.name.clone()],
                    }),
                }
            }
        }
    }
    for s in &sequences {
        if !s.found {
            plan.manual_steps.push(format!(
                "create the sequence {:?} in HubSpot (Automation > Sequences > Create sequence, named exactly so); used by {}. HubSpot's API cannot create sequences{}",
                s.name,
                s.used_by.join(", "),
                if portal.has_sequence_users { "" } else { "; also no owner has a HubSpot user, so none could be listed" }
            ));
        }
    }
    plan.sequences = sequences;

    // Scopes: when HubSpot told the token's scopes, a missing one stops apply before it
    // writes anything, instead of a 403 after half of its writes.
    if let Some(granted) = &portal.token_scopes {
        for (scope, needed_for) in plan.required_scopes(prune) {
            if !granted.contains(&scope) {
                plan.blockers.push(format!(
                    "missing scope {scope}: the token cannot {}, which this plan needs; add the scope to the private app (Settings > Integrations > Private apps > Scopes) and use its new token",
                    needed_for.into_iter().collect::<Vec<_>>().join(", ")
                ));
                plan.missing_scopes.push(scope);
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests;
