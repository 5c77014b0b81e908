//! `properties export`: the portal's custom properties as `properties.yaml`, so a team can
//! adopt an existing portal, and so that export, then plan, plans no change.
//!
//! The custom properties of the managed group are written as managed properties, in their
//! display order; custom properties of other groups are written with `existing: true`, so
//! leadflow verifies them and never moves or relabels them. Options keep their labels.
//! A property whose HubSpot type has no exact leadflow equivalent is left out, with a
//! comment saying why.

use std::fmt::Write as _;

use leadflow_config::PropertyKind;
use leadflow_core::ObjectType;
use leadflow_hubspot::Property;

use crate::portal::PortalSnapshot;

fn q(s: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Writes the portal's custom (not HubSpot-defined) contact and deal properties in the
/// format of `properties.yaml`; `group` is the managed property group (`leadflow.yaml`).
/// Ranges come from MIN/MAX_NUMBER validation rules.
pub fn export_yaml(portal: &PortalSnapshot, group: &str) -> String {
    let mut out = String::from("# Exported from the portal by `leadflow properties export`.\n");
    let _ = writeln!(
        out,
        "# Properties of the group {group:?} are managed; the others are marked existing: true."
    );
    for object in [ObjectType::Contacts, ObjectType::Deals] {
        let mut custom: Vec<&Property> = portal
            .properties
            .get(&object)
            .into_iter()
            .flatten()
            .filter(|p| p.hubspot_defined != Some(true) && p.archived != Some(true))
            .collect();
        // Managed ones first, in display order (the order a plan keeps); then the others.
        custom.sort_by_key(|p| {
            (
                p.group_name != group,
                if p.group_name == group {
                    p.display_order.unwrap_or(i32::MAX)
                } else {
                    0
                },
            )
        });
        let _ = writeln!(out, "{}_properties:", object.singular());
        let mut written = 0;
        for p in custom {
            if write_property(&mut out, portal, object, p, group) {
                written += 1;
            }
        }
        if written == 0 {
            out.push_str("  {}\n");
        }
    }
    out
}

/// Writes one property; `false` when it is left out (with a comment saying why).
fn write_property(
    out: &mut String,
    portal: &PortalSnapshot,
    object: ObjectType,
    p: &Property,
    group: &str,
) -> bool {
    if !valid_name(&p.name) {
        let _ = writeln!(
            out,
            "  # {:?}: not a name leadflow can manage (lowercase letters, digits and _), skipped",
            p.name
        );
        return false;
    }
    let pairs = p
        .options
        .iter()
        .map(|o| (o.value.clone(), o.label.clone()))
        .collect();
    let Some(kind) = PropertyKind::from_hubspot(&p.type_, &p.field_type, pairs) else {
        let _ = writeln!(
            out,
            "  # {}: type {}/{} has no leadflow equivalent, skipped",
            p.name, p.type_, p.field_type
        );
        return false;
    };
    if matches!(&kind, PropertyKind::Dropdown { options, .. } if options.is_empty()) {
        let _ = writeln!(
            out,
            "  # {}: a dropdown without options cannot be managed, skipped",
            p.name
        );
        return false;
    }
    // Dropdowns shown other than as a select are accepted only as existing properties.
    let existing = p.group_name != group || kind.hubspot_types().1 != p.field_type;
    let _ = writeln!(out, "  {}:", p.name);
    let _ = writeln!(out, "    label: {}", q(&p.label));
    let _ = writeln!(out, "    type: {}", q(kind.spec_name()));
    if !p.options.is_empty() {
        let list: Vec<String> = p
            .options
            .iter()
            .map(|o| {
                if o.label == o.value {
                    q(&o.value)
                } else {
                    format!("{{ value: {}, label: {} }}", q(&o.value), q(&o.label))
                }
            })
            .collect();
        let _ = writeln!(out, "    options: [{}]", list.join(", "));
    }
    if let Some(rules) = portal.rules.get(&(object, p.name.clone())) {
        let get = |t: &str| {
            rules
                .iter()
                .find(|r| r.rule_type == t)
                .and_then(|r| r.rule_arguments.first().cloned())
        };
        match (get("MIN_NUMBER"), get("MAX_NUMBER")) {
            (Some(lo), Some(hi)) => {
                let _ = writeln!(out, "    range: {}", q(&format!("{lo}-{hi}")));
            }
            (None, None) => {}
            (lo, hi) => {
                let _ = writeln!(
                    out,
                    "    # a one-sided range (min {}, max {}) cannot be written as range: \"min-max\"",
                    lo.as_deref().unwrap_or("none"),
                    hi.as_deref().unwrap_or("none")
                );
            }
        }
    }
    if !p.description.is_empty() {
        let _ = writeln!(out, "    description: {}", q(&p.description));
    }
    if existing {
        out.push_str("    existing: true\n");
    }
    if p.has_unique_value == Some(true) {
        out.push_str("    unique: true\n");
    }
    true
}
