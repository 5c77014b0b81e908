//! Property definitions: the spec's contact properties (and the deal properties leadflow
//! needs), their types, and how they map to HubSpot's type and field type.

use std::collections::BTreeMap;
use std::path::Path;

use leadflow_core::ObjectType;

use crate::diag::{Sink, choices_hint};
use crate::node::{Loc, Node};
use crate::reader::MapReader;

/// The spec's property types.
#[derive(Clone, Debug, PartialEq)]
pub enum PropertyKind {
    /// One of a fixed list of options.
    Dropdown {
        /// The options' values (what records hold and conditions compare), in order.
        options: Vec<String>,
        /// Labels of the options whose label is not their value, by value.
        labels: BTreeMap<String, String>,
    },
    /// A number, optionally within a range (whole numbers when both bounds are whole).
    Number {
        /// The smallest value allowed.
        min: Option<f64>,
        /// The largest value allowed.
        max: Option<f64>,
    },
    /// One line of text.
    Text,
    /// Several lines of text.
    LongText,
    /// A calendar day.
    Date,
}

impl PropertyKind {
    /// The spec's name of the type.
    pub fn spec_name(&self) -> &'static str {
        match self {
            Self::Dropdown { .. } => "dropdown",
            Self::Number { .. } => "number",
            Self::Text => "text",
            Self::LongText => "long_text",
            Self::Date => "date",
        }
    }

    /// HubSpot's `(type, fieldType)` for this kind.
    pub fn hubspot_types(&self) -> (&'static str, &'static str) {
        match self {
            Self::Dropdown { .. } => ("enumeration", "select"),
            Self::Number { .. } => ("number", "number"),
            Self::Text => ("string", "text"),
            Self::LongText => ("string", "textarea"),
            Self::Date => ("date", "date"),
        }
    }

    /// A dropdown with these options (value and label the same).
    pub fn dropdown<S: Into<String>>(options: impl IntoIterator<Item = S>) -> Self {
        Self::Dropdown {
            options: options.into_iter().map(Into::into).collect(),
            labels: BTreeMap::new(),
        }
    }

    /// The kind a HubSpot `(type, fieldType)` pair corresponds to, for `export`: only pairs
    /// that [`PropertyKind::hubspot_types`] gives back exactly, so an exported property
    /// plans as unchanged. Dropdowns shown as radio buttons or checkboxes are dropdowns too
    /// (a plan accepts them for `existing` properties). `options` are `(value, label)`.
    pub fn from_hubspot(
        type_: &str,
        field_type: &str,
        options: Vec<(String, String)>,
    ) -> Option<Self> {
        Some(match (type_, field_type) {
            ("enumeration", "select" | "radio" | "checkbox") => Self::Dropdown {
                labels: options
                    .iter()
                    .filter(|(v, l)| v != l)
                    .map(|(v, l)| (v.clone(), l.clone()))
                    .collect(),
                options: options.into_iter().map(|(v, _)| v).collect(),
            },
            ("number", "number") => Self::Number {
                min: None,
                max: None,
            },
            ("string", "textarea") => Self::LongText,
            ("string", "text") => Self::Text,
            ("date", "date") => Self::Date,
            _ => return None,
        })
    }
}

/// One property leadflow manages (or, with `existing`, expects).
#[derive(Clone, Debug, PartialEq)]
pub struct PropertySpec {
    /// Which object it belongs to.
    pub object: ObjectType,
    /// The internal name, snake_case.
    pub name: String,
    /// The label users see.
    pub label: String,
    /// Its type.
    pub kind: PropertyKind,
    /// Its description.
    pub description: String,
    /// The portal already has it: verify, add missing options, never recreate silently.
    pub existing: bool,
    /// Each value may occur once only (HubSpot `hasUniqueValue`).
    pub unique: bool,
    /// Where it is defined.
    pub loc: Loc,
}

impl PropertySpec {
    /// The dropdown options' values, or an empty slice.
    pub fn options(&self) -> &[String] {
        match &self.kind {
            PropertyKind::Dropdown { options, .. } => options,
            _ => &[],
        }
    }

    /// The label of the option `value`: its own label, or the value itself.
    pub fn option_label<'s>(&'s self, value: &'s str) -> &'s str {
        match &self.kind {
            PropertyKind::Dropdown { labels, .. } => {
                labels.get(value).map_or(value, String::as_str)
            }
            _ => value,
        }
    }
}

/// The deal property that makes deal creation idempotent: each `create_deal` writes the
/// run's key into it, and HubSpot's unique-value check refuses a second deal with the
/// same key. Workflows that create deals need it in `deal_properties`, as text, unique.
pub const DEAL_KEY_PROPERTY: &str = "leadflow_deal_key";

/// A label from a snake_case name: `last_outreach_date` → `Last Outreach Date`.
pub fn label_from_name(name: &str) -> String {
    name.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 100
}

const KEYS: [&str; 7] = [
    "label",
    "type",
    "options",
    "range",
    "description",
    "existing",
    "unique",
];
const TYPES: [&str; 5] = ["dropdown", "number", "text", "long_text", "date"];

/// Parses `"1-10"` (or `"1 - 10"`, negatives allowed) into bounds.
pub(crate) fn parse_range(text: &str) -> Option<(f64, f64)> {
    let t = text.trim();
    let split = t
        .char_indices()
        .skip(1)
        .find(|&(i, c)| c == '-' && !t[..i].trim_end().ends_with(['e', 'E']))?;
    let (a, b) = (t[..split.0].trim(), t[split.0 + 1..].trim());
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Reads one `<object>_properties:` mapping.
pub(crate) fn read_properties(
    node: &Node,
    object: ObjectType,
    sink: &mut Sink<'_>,
) -> Vec<PropertySpec> {
    let Some(map) = node.as_map() else {
        if !matches!(node.value, crate::node::Value::Null) {
            sink.at(
                node,
                format!(
                    "{}_properties must map property names to definitions, found {}",
                    object.singular(),
                    node.kind()
                ),
            );
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, def) in map {
        let name = key.as_text().unwrap_or_default();
        if !valid_name(&name) {
            sink.hint(key, format!("property name {name:?} is not a valid internal name"), "use lowercase letters, digits and _, starting with a letter (for example icp_fit_score)");
            continue;
        }
        let Some(r) = MapReader::new(def, &format!("property {name:?}"), sink) else {
            sink.at(
                def,
                format!("property {name:?} needs a definition with at least a type"),
            );
            continue;
        };
        if let Some((k, _)) = def
            .as_map()
            .unwrap_or_default()
            .iter()
            .find(|(k, _)| k.as_str() == Some("hidden"))
        {
            sink.hint(
                k,
                format!("property {name:?}: leadflow does not manage whether a property is hidden"),
                "remove `hidden`; hide or show the property in HubSpot (Settings > Properties)",
            );
        }
        let mut allowed = KEYS.to_vec();
        allowed.push("hidden");
        r.check_keys(&allowed, &format!("property {name:?}"), sink);
        let label = r
            .string("label", false, sink)
            .map(|(s, _)| s)
            .unwrap_or_else(|| label_from_name(&name));
        let description = r
            .string("description", false, sink)
            .map(|(s, _)| s)
            .unwrap_or_default();
        let existing = r.bool("existing", sink);
        let unique = r.bool("unique", sink);
        let Some((type_name, type_node)) = r.string("type", true, sink) else {
            continue;
        };
        let options = read_options(&r, &name, sink);
        let range = r.string("range", false, sink);
        let kind = match type_name.as_str() {
            "dropdown" => {
                if options.is_empty() {
                    sink.hint(
                        def,
                        format!("dropdown property {name:?} has no options"),
                        "add options: [\"A\", \"B\"]",
                    );
                }
                let mut seen = std::collections::BTreeSet::new();
                for (o, _, n) in &options {
                    if o.trim().is_empty() {
                        sink.at(n, format!("an option of {name:?} is empty"));
                    } else if !seen.insert(o.to_lowercase()) {
                        sink.at(n, format!("option {o:?} of {name:?} is listed twice"));
                    }
                }
                PropertyKind::Dropdown {
                    options: options.iter().map(|(o, _, _)| o.clone()).collect(),
                    labels: options
                        .iter()
                        .filter_map(|(o, l, _)| {
                            l.as_ref()
                                .filter(|l| *l != o)
                                .map(|l| (o.clone(), l.clone()))
                        })
                        .collect(),
                }
            }
            "number" => {
                let (min, max) = match &range {
                    None => (None, None),
                    Some((text, n)) => {
                        match parse_range(text) {
                            Some((lo, hi)) if lo > hi => {
                                sink.hint(n, format!("range {text:?} of {name:?} has its minimum above its maximum"), format!("write \"{hi}-{lo}\""));
                                // No range rather than an impossible one, so that checks of
                                // values against it do not repeat this problem everywhere.
                                (None, None)
                            }
                            Some((lo, hi)) => (Some(lo), Some(hi)),
                            None => {
                                sink.hint(
                                    n,
                                    format!("range {text:?} of {name:?} is not a range"),
                                    "write it as \"min-max\", for example \"1-10\"",
                                );
                                (None, None)
                            }
                        }
                    }
                };
                PropertyKind::Number { min, max }
            }
            "text" => PropertyKind::Text,
            "long_text" => PropertyKind::LongText,
            "date" => PropertyKind::Date,
            other => {
                sink.hint(
                    type_node,
                    format!("unknown property type {other:?}"),
                    choices_hint(other, TYPES),
                );
                continue;
            }
        };
        if !matches!(kind, PropertyKind::Dropdown { .. }) {
            if let Some((_, _, n)) = options.first() {
                sink.at(
                    n,
                    format!("options are only for dropdown properties; {name:?} is {type_name}"),
                );
            }
        }
        if !matches!(kind, PropertyKind::Number { .. }) {
            if let Some((_, n)) = &range {
                sink.at(
                    n,
                    format!("a range is only for number properties; {name:?} is {type_name}"),
                );
            }
        }
        if object == ObjectType::Deals
            && name == DEAL_KEY_PROPERTY
            && (!unique || kind != PropertyKind::Text)
        {
            sink.hint(
                key,
                format!("{DEAL_KEY_PROPERTY} is leadflow's idempotency key for deals: it must be text with unique values"),
                "write type: \"text\" and unique: true, so HubSpot refuses a second deal with the same key",
            );
        }
        out.push(PropertySpec {
            object,
            name,
            label,
            kind,
            description,
            existing,
            unique,
            loc: key.loc,
        });
    }
    out
}

/// The `options` of a dropdown: each a value (its own label) or `{ value, label }`.
fn read_options<'n>(
    r: &MapReader<'n>,
    name: &str,
    sink: &mut Sink<'_>,
) -> Vec<(String, Option<String>, &'n Node)> {
    let Some(n) = r.get("options") else {
        return Vec::new();
    };
    let items = match &n.value {
        crate::node::Value::Null => return Vec::new(),
        crate::node::Value::Seq(items) => items,
        _ => {
            sink.at(n, format!("\"options\" must be a list, found {}", n.kind()));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        if let Some(value) = item.as_text() {
            out.push((value, None, item));
            continue;
        }
        if item.as_map().is_none() {
            sink.hint(
                item,
                format!(
                    "an option of {name:?} must be a value or {{ value, label }}, found {}",
                    item.kind()
                ),
                "write \"Inbound\" or { value: \"inbound\", label: \"Inbound\" }",
            );
            continue;
        }
        let Some(o) = MapReader::new(item, &format!("an option of {name:?}"), sink) else {
            continue;
        };
        o.check_keys(&["value", "label"], &format!("an option of {name:?}"), sink);
        let Some((value, _)) = o.string("value", true, sink) else {
            continue;
        };
        let label = o.string("label", false, sink).map(|(l, _)| l);
        out.push((value, label, item));
    }
    out
}

/// Properties HubSpot defines itself that configuration may refer to.
pub fn builtin_properties(object: ObjectType) -> Vec<(&'static str, PropertyKind)> {
    let text = |n| (n, PropertyKind::Text);
    match object {
        ObjectType::Contacts => vec![
            text("email"),
            text("firstname"),
            text("lastname"),
            text("company"),
            text("jobtitle"),
            text("phone"),
            text("website"),
            text("city"),
            text("country"),
            text("lifecyclestage"),
            text("hubspot_owner_id"),
            text("hs_object_id"),
            ("createdate", PropertyKind::Date),
            ("lastmodifieddate", PropertyKind::Date),
        ],
        ObjectType::Deals => vec![
            text("dealname"),
            (
                "amount",
                PropertyKind::Number {
                    min: None,
                    max: None,
                },
            ),
            text("dealstage"),
            text("pipeline"),
            ("closedate", PropertyKind::Date),
            text("hubspot_owner_id"),
            ("createdate", PropertyKind::Date),
        ],
        _ => Vec::new(),
    }
}

/// The properties of a project, with lookup by name or label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PropertySchema {
    /// Managed and expected properties, contacts first.
    pub properties: Vec<PropertySpec>,
}

impl PropertySchema {
    /// The managed property of `object` whose name or label is `key` (labels case-insensitively).
    pub fn find(&self, object: ObjectType, key: &str) -> Option<&PropertySpec> {
        let key = key.trim();
        self.properties
            .iter()
            .filter(|p| p.object == object)
            .find(|p| {
                p.name == key
                    || p.label.eq_ignore_ascii_case(key)
                    || p.name.eq_ignore_ascii_case(&key.replace(' ', "_"))
            })
    }

    /// The managed properties of one object.
    pub fn of(&self, object: ObjectType) -> impl Iterator<Item = &PropertySpec> {
        self.properties.iter().filter(move |p| p.object == object)
    }

    /// Every name a reference to `object` may use: managed names and labels, and HubSpot's own.
    pub fn known_names(&self, object: ObjectType) -> Vec<String> {
        let mut names: Vec<String> = self
            .of(object)
            .flat_map(|p| [p.name.clone(), p.label.clone()])
            .collect();
        names.extend(
            builtin_properties(object)
                .into_iter()
                .map(|(n, _)| n.to_owned()),
        );
        names
    }

    /// The kind of `key` on `object`: a managed property, or one of HubSpot's own.
    pub fn kind_of(&self, object: ObjectType, key: &str) -> Option<(String, PropertyKind)> {
        if let Some(p) = self.find(object, key) {
            return Some((p.name.clone(), p.kind.clone()));
        }
        builtin_properties(object)
            .into_iter()
            .find(|(n, _)| *n == key)
            .map(|(n, k)| (n.to_owned(), k))
    }
}

/// Reads `properties.yaml`.
pub(crate) fn read_file(
    root: &Node,
    file: &Path,
    out: &mut Vec<crate::Diagnostic>,
) -> PropertySchema {
    let mut sink = Sink::new(file, out);
    let mut schema = PropertySchema::default();
    let Some(r) = MapReader::new(root, "properties.yaml", &mut sink) else {
        return schema;
    };
    r.check_keys(
        &["contact_properties", "deal_properties"],
        "properties.yaml",
        &mut sink,
    );
    match r.get("contact_properties") {
        Some(n) => schema
            .properties
            .extend(read_properties(n, ObjectType::Contacts, &mut sink)),
        None => sink.at(root, "properties.yaml has no contact_properties"),
    }
    if let Some(n) = r.get("deal_properties") {
        schema
            .properties
            .extend(read_properties(n, ObjectType::Deals, &mut sink));
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("1-10"), Some((1.0, 10.0)));
        assert_eq!(parse_range(" 1 - 100 "), Some((1.0, 100.0)));
        assert_eq!(parse_range("-5-5"), Some((-5.0, 5.0)));
        assert_eq!(parse_range("ten"), None);
    }

    #[test]
    fn labels_come_from_names() {
        assert_eq!(label_from_name("last_outreach_date"), "Last Outreach Date");
    }
}
