//! `properties export`: the portal's custom properties as `properties.yaml`, so a team can
//! adopt an existing portal.

use std::fmt::Write as _;

use leadflow_config::PropertyKind;
use leadflow_core::ObjectType;

use crate::portal::PortalSnapshot;

fn q(s: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Writes the portal's custom (not HubSpot-defined) contact and deal properties in the
/// format of `properties.yaml`. Ranges come from MIN/MAX_NUMBER validation rules.
pub fn export_yaml(portal: &PortalSnapshot) -> String {
    let mut out = String::from("# Exported from the portal by `leadflow properties export`.\n");
    for object in [ObjectType::Contacts, ObjectType::Deals] {
        let custom: Vec<_> = portal
            .properties
            .get(&object)
            .into_iter()
            .flatten()
            .filter(|p| p.hubspot_defined != Some(true) && p.archived != Some(true))
            .collect();
        let _ = writeln!(out, "{}_properties:", object.singular());
        if custom.is_empty() {
            out.push_str("  {}\n");
            continue;
        }
        for p in custom {
            let options: Vec<String> = p.options.iter().map(|o| o.value.clone()).collect();
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
                continue;
            };
            let _ = writeln!(out, "  {}:", p.name);
            let _ = writeln!(out, "    label: {}", q(&p.label));
            let _ = writeln!(out, "    type: {}", q(kind.spec_name()));
            if !options.is_empty() {
                let list: Vec<String> = options.iter().map(|o| q(o)).collect();
                let _ = writeln!(out, "    options: [{}]", list.join(", "));
            }
            if let Some(rules) = portal.rules.get(&(object, p.name.clone())) {
                let get = |t: &str| {
                    rules
                        .iter()
                        .find(|r| r.rule_type == t)
                        .and_then(|r| r.rule_arguments.first().cloned())
                };
                if let (Some(lo), Some(hi)) = (get("MIN_NUMBER"), get("MAX_NUMBER")) {
                    let _ = writeln!(out, "    range: {}", q(&format!("{lo}-{hi}")));
                }
            }
            if !p.description.is_empty() {
                let _ = writeln!(out, "    description: {}", q(&p.description));
            }
            if p.has_unique_value == Some(true) {
                out.push_str("    unique: true\n");
            }
        }
    }
    out
}
