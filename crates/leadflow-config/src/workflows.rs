//! Workflow definitions (`workflows.yaml`): triggers, actions and conditions, read in the
//! spec's own words and checked against the property schema.
//!
//! This module defines and validates workflows; running them is the engine's job. It
//! knows nothing about HubSpot ids: stages and sequences are names, resolved against the
//! portal by `plan` and by the engine at start.

use leadflow_core::ObjectType;

use crate::diag::{Sink, choices_hint};
use crate::expr::{check_condition, check_template, translate_condition, translate_template};
use crate::node::{Loc, Node, Value};
use crate::properties::{DEAL_KEY_PROPERTY, PropertyKind, PropertySchema};
use crate::reader::MapReader;
use crate::settings::Settings;

/// A condition, as written and as minijinja reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// As written in the file.
    pub source: String,
    /// Translated to a minijinja expression.
    pub jinja: String,
    /// Where it is written.
    pub loc: Loc,
}

/// A template (`{{ contact.firstname }} …`), as written and as minijinja reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// As written.
    pub source: String,
    /// Translated for minijinja.
    pub jinja: String,
}

impl Template {
    fn new(source: &str) -> Self {
        Self {
            source: source.to_owned(),
            jinja: translate_template(source),
        }
    }

    /// Whether the template is plain text, with no `{{ … }}`.
    pub fn is_literal(&self) -> bool {
        !self.source.contains("{{")
    }
}

/// A tag pattern such as `Manual Outreach - [Date]`: text with placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagPattern {
    /// As written.
    pub source: String,
    /// Literal pieces and placeholders, in order.
    pub parts: Vec<TagPart>,
}

/// A piece of a [`TagPattern`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagPart {
    /// Text that must appear as written (case-insensitively).
    Literal(String),
    /// `[Date]`: a calendar day, `YYYY-MM-DD`.
    Date,
    /// Any other `[Name]`: any non-empty text.
    Any(String),
}

impl TagPattern {
    /// Parses `Manual Outreach - [Date]`.
    pub fn parse(source: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find('[') {
            if open > 0 {
                parts.push(TagPart::Literal(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find(']')
                .ok_or_else(|| format!("the placeholder in {source:?} has no closing ]"))?;
            let name = rest[open + 1..open + close].trim();
            parts.push(if name.eq_ignore_ascii_case("date") {
                TagPart::Date
            } else {
                TagPart::Any(name.to_owned())
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(TagPart::Literal(rest.to_owned()));
        }
        if !parts
            .iter()
            .any(|p| matches!(p, TagPart::Literal(l) if !l.trim().is_empty()))
        {
            return Err(format!(
                "the tag pattern {source:?} has no fixed text to match"
            ));
        }
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// Whether `tag` matches the pattern.
    pub fn matches(&self, tag: &str) -> bool {
        fn go(parts: &[TagPart], s: &str) -> bool {
            match parts.split_first() {
                None => s.is_empty(),
                Some((TagPart::Literal(l), rest)) => {
                    s.len() >= l.len()
                        && s.is_char_boundary(l.len())
                        && s[..l.len()].eq_ignore_ascii_case(l)
                        && go(rest, &s[l.len()..])
                }
                Some((TagPart::Date, rest)) => {
                    s.len() >= 10
                        && s.is_char_boundary(10)
                        && crate::values::parse_date(&s[..10]).is_some()
                        && s[..10].len() == 10
                        && go(rest, &s[10..])
                }
                Some((TagPart::Any(_), rest)) => (1..=s.len())
                    .filter(|i| s.is_char_boundary(*i))
                    .any(|i| go(rest, &s[i..])),
            }
        }
        go(&self.parts, tag.trim())
    }
}

/// What starts a workflow for a contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The contact's Campaign Tag matches the pattern, or it joins a manual list whose
    /// name matches it.
    Tagged(TagPattern),
    /// A property changes (optionally from or to given values).
    PropertyChanged {
        /// The property's internal name.
        property: String,
        /// The old value, if it matters.
        from: Option<String>,
        /// The new value, if it matters.
        to: Option<String>,
    },
    /// A contact is created.
    Created,
    /// A property has held a value for some days, measured from a date property;
    /// evaluated on a schedule.
    ValueFor {
        /// The property's internal name.
        property: String,
        /// The value it holds.
        value: String,
        /// For how many days.
        days: u32,
        /// The date property the days are measured from.
        since: String,
    },
}

/// Whether a contact may enter a workflow again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reenrollment {
    /// Once per distinct trigger value (a new tag, a new status): the default.
    PerTriggerValue,
    /// Once ever.
    Once,
    /// Every time the trigger fires.
    Always,
}

/// One step of a workflow.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    /// What it does.
    pub kind: ActionKind,
    /// Runs only when this holds.
    pub condition: Option<Condition>,
    /// Where it is written.
    pub loc: Loc,
}

/// The actions the spec uses.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionKind {
    /// Writes a contact property (coalesced with the run's other writes).
    SetProperty {
        /// Internal name.
        property: String,
        /// The value.
        value: Template,
    },
    /// Creates a deal associated with the contact and its company, exactly once.
    CreateDeal {
        /// The deal name.
        name: Template,
        /// The stage label.
        stage: String,
        /// The amount.
        amount: Template,
    },
    /// Enrolls the contact in a sequence, by name.
    AddToSequence {
        /// The sequence's name.
        sequence: String,
    },
    /// Creates a task for the contact's owner, associated with the contact.
    CreateTask {
        /// The subject.
        subject: Template,
        /// The body.
        body: Template,
        /// The due date.
        due: Template,
    },
    /// Sets the qualification status and raises the lead score (clamped to 1-100).
    UpdateQualification {
        /// The new Qualification Status.
        new_status: String,
        /// Points added to Lead Score.
        lead_score_increase: i64,
    },
    /// Moves the contact's deal to a stage.
    UpdateDealStage {
        /// The stage label.
        new_stage: String,
    },
}

impl ActionKind {
    /// The action's name in `workflows.yaml`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SetProperty { .. } => "set_property",
            Self::CreateDeal { .. } => "create_deal",
            Self::AddToSequence { .. } => "add_to_sequence",
            Self::CreateTask { .. } => "create_task",
            Self::UpdateQualification { .. } => "update_qualification",
            Self::UpdateDealStage { .. } => "update_deal_stage",
        }
    }
}

/// A workflow.
#[derive(Clone, Debug, PartialEq)]
pub struct Workflow {
    /// Its key in `workflows.yaml` (`workflow_manual_outreach`).
    pub key: String,
    /// Its name.
    pub name: String,
    /// What starts it.
    pub trigger: Trigger,
    /// Its steps, in order.
    pub actions: Vec<Action>,
    /// All must hold for the workflow to act.
    pub conditions: Vec<Condition>,
    /// Re-enrollment policy.
    pub reenrollment: Reenrollment,
    /// Whether it runs (`enabled: false` keeps it checked and its stages and sequences
    /// prepared, but the engine does not enroll anyone).
    pub enabled: bool,
    /// Where it is written.
    pub loc: Loc,
}

const WORKFLOW_KEYS: [&str; 6] = [
    "name",
    "trigger",
    "actions",
    "conditions",
    "reenrollment",
    "enabled",
];
const ACTIONS: [&str; 6] = [
    "set_property",
    "create_deal",
    "add_to_sequence",
    "create_task",
    "update_qualification",
    "update_deal_stage",
];
const TRIGGER_FORMS: &str = "\"Contact tagged with 'Manual Outreach - [Date]'\", \"Contact response_status property changes\", \
\"New contact created\", or \"Contact has 'No Response' status for 3 days\"";

/// Stage labels of HubSpot's default deal pipeline.
pub const DEFAULT_STAGE_LABELS: [&str; 7] = [
    "Appointment Scheduled",
    "Qualified To Buy",
    "Presentation Scheduled",
    "Decision Maker Bought-In",
    "Contract Sent",
    "Closed Won",
    "Closed Lost",
];

fn quoted(s: &str) -> Option<(&str, &str)> {
    let start = s.find(['\'', '"'])?;
    let q = s[start..].chars().next()?;
    let end = s[start + 1..].find(q)? + start + 1;
    Some((&s[start + 1..end], &s[end + 1..]))
}

/// Reads the spec's trigger sentences (and a structured form).
fn read_trigger(node: &Node, schema: &PropertySchema, sink: &mut Sink<'_>) -> Option<Trigger> {
    let Some(text) = node.as_text() else {
        sink.hint(
            node,
            format!("a trigger must be a sentence, found {}", node.kind()),
            format!("write one of {TRIGGER_FORMS}"),
        );
        return None;
    };
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    if lower.starts_with("contact tagged with") {
        let Some((pattern, _)) = quoted(&text) else {
            sink.hint(
                node,
                "a tag trigger needs the tag in quotes",
                "Contact tagged with 'Manual Outreach - [Date]'",
            );
            return None;
        };
        return match TagPattern::parse(pattern) {
            Ok(p) => Some(Trigger::Tagged(p)),
            Err(e) => {
                sink.at(node, e);
                None
            }
        };
    }
    if lower.contains("created")
        && (lower.starts_with("new contact") || lower.starts_with("contact created"))
    {
        return Some(Trigger::Created);
    }
    if lower.starts_with("contact has")
        && lower.contains(" for ")
        && (lower.ends_with("days") || lower.ends_with("day"))
    {
        let Some((value, rest)) = quoted(&text) else {
            sink.hint(
                node,
                "a time trigger needs the value in quotes",
                "Contact has 'No Response' status for 3 days",
            );
            return None;
        };
        let days = rest
            .split_whitespace()
            .rev()
            .nth(1)
            .and_then(|d| d.parse::<u32>().ok());
        let Some(days) = days else {
            sink.hint(
                node,
                "a time trigger needs a number of days",
                "Contact has 'No Response' status for 3 days",
            );
            return None;
        };
        // The value names its property: the dropdown that has it as an option.
        let owner = schema
            .of(ObjectType::Contacts)
            .find(|p| p.options().iter().any(|o| o == value));
        let Some(owner) = owner else {
            sink.at(
                node,
                format!("no dropdown property has the option {value:?}"),
            );
            return None;
        };
        let since = if schema
            .find(ObjectType::Contacts, "last_outreach_date")
            .is_some()
        {
            "last_outreach_date"
        } else {
            "lastmodifieddate"
        };
        return Some(Trigger::ValueFor {
            property: owner.name.clone(),
            value: value.to_owned(),
            days,
            since: since.to_owned(),
        });
    }
    if words.first() == Some(&"contact") && lower.contains("property change") {
        let raw: Vec<&str> = text.split_whitespace().collect();
        let prop_words = &raw[1..raw
            .iter()
            .position(|w| w.eq_ignore_ascii_case("property"))
            .unwrap_or(1)];
        let name = prop_words.join(" ");
        return match schema.kind_of(ObjectType::Contacts, &name) {
            Some((property, _)) => Some(Trigger::PropertyChanged {
                property,
                from: None,
                to: None,
            }),
            None => {
                let known = schema.known_names(ObjectType::Contacts);
                sink.hint(
                    node,
                    format!("the trigger names an unknown contact property {name:?}"),
                    choices_hint(&name, known.iter().map(String::as_str)),
                );
                None
            }
        };
    }
    sink.hint(
        node,
        format!("unrecognised trigger {text:?}"),
        format!("write one of {TRIGGER_FORMS}"),
    );
    None
}

fn condition(node: &Node, schema: &PropertySchema, sink: &mut Sink<'_>) -> Option<Condition> {
    let Some(source) = node.as_text() else {
        sink.at(
            node,
            format!("a condition must be a string, found {}", node.kind()),
        );
        return None;
    };
    for p in check_condition(&source, schema) {
        sink.error(node.loc, p.message, p.hint);
    }
    Some(Condition {
        jinja: translate_condition(&source, schema),
        source,
        loc: node.loc,
    })
}

fn template(node: &Node, what: &str, schema: &PropertySchema, sink: &mut Sink<'_>) -> Template {
    let source = node.as_text().unwrap_or_default();
    for p in check_template(&source, schema) {
        sink.error(node.loc, format!("{what}: {}", p.message), p.hint);
    }
    Template::new(&source)
}

fn stage_known(stage: &str, settings: &Settings) -> bool {
    settings
        .stages
        .iter()
        .any(|s| s.label.eq_ignore_ascii_case(stage))
        || DEFAULT_STAGE_LABELS
            .iter()
            .any(|s| s.eq_ignore_ascii_case(stage))
}

fn check_stage(stage: &str, node: &Node, settings: &Settings, sink: &mut Sink<'_>) {
    if !stage_known(stage, settings) {
        let mut known: Vec<&str> = settings.stages.iter().map(|s| s.label.as_str()).collect();
        known.extend(DEFAULT_STAGE_LABELS);
        sink.hint(node, format!("deal stage {stage:?} is neither in leadflow.yaml deals.stages nor a default HubSpot stage"), choices_hint(stage, known));
    }
}

fn read_action(
    item: &Node,
    schema: &PropertySchema,
    settings: &Settings,
    sink: &mut Sink<'_>,
) -> Option<Action> {
    let Some(entries) = item.as_map().filter(|m| m.len() == 1) else {
        sink.hint(
            item,
            "an action must be a mapping with one action name",
            "- set_property:\n        property: \"lead_source\"\n        value: \"Outbound\"",
        );
        return None;
    };
    let (name_node, body) = &entries[0];
    let name = name_node.as_text().unwrap_or_default();
    let keys: &[&str] = match name.as_str() {
        "set_property" => &["property", "value", "condition"],
        "create_deal" => &["deal_name", "deal_stage", "amount", "condition"],
        "add_to_sequence" => &["sequence_name", "condition"],
        "create_task" => &["task_subject", "task_body", "due_date", "condition"],
        "update_qualification" => &["new_status", "lead_score_increase", "condition"],
        "update_deal_stage" => &["new_stage", "condition"],
        _ => {
            sink.hint(
                name_node,
                format!("unknown action {name:?}"),
                choices_hint(&name, ACTIONS),
            );
            return None;
        }
    };
    let r = MapReader::new(body, &format!("action {name}"), sink)?;
    r.check_keys(keys, &format!("action {name}"), sink);
    let condition = r.get("condition").and_then(|n| condition(n, schema, sink));
    let kind = match name.as_str() {
        "set_property" => {
            let (prop, prop_node) = r.string("property", true, sink)?;
            let (_, value_node) = r.string("value", true, sink)?;
            let Some((property, kind)) = schema.kind_of(ObjectType::Contacts, &prop) else {
                let known = schema.known_names(ObjectType::Contacts);
                sink.hint(
                    prop_node,
                    format!("unknown contact property {prop:?}"),
                    choices_hint(&prop, known.iter().map(String::as_str)),
                );
                return None;
            };
            let value = template(value_node, "value", schema, sink);
            if value.is_literal() {
                if let Some(spec) = schema.find(ObjectType::Contacts, &property) {
                    if let Err(e) = spec.parse_value(&value.source) {
                        sink.error(
                            value_node.loc,
                            format!("value for {}: {:?} is not allowed", spec.label, e.given),
                            Some(e.allowed),
                        );
                    }
                }
            } else if matches!(
                kind,
                PropertyKind::Dropdown { .. } | PropertyKind::Number { .. }
            ) && !value.source.contains("current_date")
            {
                // Templates into typed properties are checked when they render.
            }
            ActionKind::SetProperty { property, value }
        }
        "create_deal" => {
            let (_, name_node) = r.string("deal_name", true, sink)?;
            let (stage, stage_node) = r.string("deal_stage", true, sink)?;
            check_stage(&stage, stage_node, settings, sink);
            let amount = match r.get("amount") {
                Some(n) => {
                    let t = template(n, "amount", schema, sink);
                    if t.is_literal() && t.source.trim().parse::<f64>().is_err() {
                        sink.hint(
                            n,
                            format!("amount {:?} is not a number", t.source),
                            "write a number such as \"0\" or \"1500.50\"",
                        );
                    }
                    t
                }
                None => Template::new("0"),
            };
            ActionKind::CreateDeal {
                name: template(name_node, "deal_name", schema, sink),
                stage,
                amount,
            }
        }
        "add_to_sequence" => {
            let (sequence, node) = r.string("sequence_name", true, sink)?;
            if sequence.trim().is_empty() {
                sink.at(node, "sequence_name is empty");
            }
            ActionKind::AddToSequence { sequence }
        }
        "create_task" => {
            let (_, subject) = r.string("task_subject", true, sink)?;
            let body = r
                .get("task_body")
                .map(|n| template(n, "task_body", schema, sink))
                .unwrap_or_else(|| Template::new(""));
            let due = match r.get("due_date") {
                Some(n) => {
                    let t = template(n, "due_date", schema, sink);
                    if t.is_literal() && crate::values::parse_date(&t.source).is_none() {
                        sink.hint(
                            n,
                            format!("due_date {:?} is not a date", t.source),
                            "write {{ current_date + 1 day }} or a date YYYY-MM-DD",
                        );
                    }
                    t
                }
                None => Template::new("{{ current_date }}"),
            };
            ActionKind::CreateTask {
                subject: template(subject, "task_subject", schema, sink),
                body,
                due,
            }
        }
        "update_qualification" => {
            let (status, status_node) = r.string("new_status", true, sink)?;
            if let Some(spec) = schema.find(ObjectType::Contacts, "qualification_status") {
                if let Err(e) = spec.parse_value(&status) {
                    sink.error(
                        status_node.loc,
                        format!("new_status {status:?} is not an option of {}", spec.label),
                        Some(e.allowed),
                    );
                }
            } else {
                sink.at(status_node, "update_qualification needs the qualification_status property in properties.yaml");
            }
            let increase = match r.string("lead_score_increase", false, sink) {
                None => 0,
                Some((text, n)) => match text.trim().parse::<i64>() {
                    Ok(v) => {
                        check_score_increase(v, n, schema, sink);
                        v
                    }
                    Err(_) => {
                        sink.hint(
                            n,
                            format!("lead_score_increase {text:?} is not a whole number"),
                            "write a whole number such as \"20\"",
                        );
                        0
                    }
                },
            };
            ActionKind::UpdateQualification {
                new_status: status,
                lead_score_increase: increase,
            }
        }
        "update_deal_stage" => {
            let (stage, node) = r.string("new_stage", true, sink)?;
            check_stage(&stage, node, settings, sink);
            ActionKind::UpdateDealStage { new_stage: stage }
        }
        _ => return None,
    };
    Some(Action {
        kind,
        condition,
        loc: name_node.loc,
    })
}

/// A Lead Score increase is added and the result clamped to Lead Score's range, so one
/// larger than the whole range is a mistake (`"500"` for a 1-100 score).
fn check_score_increase(v: i64, node: &Node, schema: &PropertySchema, sink: &mut Sink<'_>) {
    let Some(spec) = schema.find(ObjectType::Contacts, "lead_score") else {
        if v != 0 {
            sink.hint(
                node,
                "lead_score_increase needs the lead_score property in properties.yaml",
                "add lead_score (type: \"number\", range: \"1-100\") to contact_properties",
            );
        }
        return;
    };
    let PropertyKind::Number {
        min: Some(lo),
        max: Some(hi),
    } = spec.kind
    else {
        return;
    };
    let span = hi - lo;
    if (v as f64).abs() > span {
        sink.hint(
            node,
            format!(
                "lead_score_increase {v} is more than the whole range of {}",
                spec.label
            ),
            format!(
                "{} takes values from {} to {} (its range in properties.yaml); the increase is added and the result kept in that range, so use at most {}",
                spec.label,
                crate::values::fmt_number(lo),
                crate::values::fmt_number(hi),
                crate::values::fmt_number(span)
            ),
        );
    }
}

fn read_workflow(
    key: &Node,
    def: &Node,
    schema: &PropertySchema,
    settings: &Settings,
    sink: &mut Sink<'_>,
) -> Option<Workflow> {
    let key_text = key.as_text().unwrap_or_default();
    let r = MapReader::new(def, &format!("workflow {key_text:?}"), sink)?;
    r.check_keys(&WORKFLOW_KEYS, &format!("workflow {key_text:?}"), sink);
    let name = r
        .string("name", false, sink)
        .map(|(s, _)| s)
        .unwrap_or_else(|| key_text.clone());
    let trigger = match r.get("trigger") {
        Some(n) => read_trigger(n, schema, sink),
        None => {
            sink.hint(
                def,
                format!("workflow {key_text:?} has no trigger"),
                format!("add trigger: one of {TRIGGER_FORMS}"),
            );
            None
        }
    };
    let mut actions = Vec::new();
    match r.get("actions").map(|n| (&n.value, n)) {
        Some((Value::Seq(items), _)) => {
            for item in items {
                if let Some(a) = read_action(item, schema, settings, sink) {
                    actions.push(a);
                }
            }
        }
        Some((Value::Null, _)) | None => {
            sink.at(def, format!("workflow {key_text:?} has no actions"))
        }
        Some((_, n)) => sink.at(n, format!("actions must be a list, found {}", n.kind())),
    }
    let mut conditions = Vec::new();
    match r.get("conditions").map(|n| (&n.value, n)) {
        Some((Value::Seq(items), _)) => {
            conditions.extend(items.iter().filter_map(|i| condition(i, schema, sink)))
        }
        Some((Value::Null, _)) | None => {}
        Some((_, n)) => sink.at(n, format!("conditions must be a list, found {}", n.kind())),
    }
    let reenrollment = match r.string("reenrollment", false, sink) {
        None => Reenrollment::PerTriggerValue,
        Some((v, n)) => match v.as_str() {
            "per_trigger_value" => Reenrollment::PerTriggerValue,
            "once" => Reenrollment::Once,
            "always" => Reenrollment::Always,
            other => {
                sink.hint(
                    n,
                    format!("unknown reenrollment policy {other:?}"),
                    choices_hint(other, ["per_trigger_value", "once", "always"]),
                );
                Reenrollment::PerTriggerValue
            }
        },
    };
    let enabled = r.bool_or("enabled", true, sink);
    Some(Workflow {
        key: key_text,
        name,
        trigger: trigger?,
        actions,
        conditions,
        reenrollment,
        enabled,
        loc: key.loc,
    })
}

/// Reads `workflows.yaml`.
pub(crate) fn read_file(
    root: &Node,
    schema: &PropertySchema,
    settings: &Settings,
    sink: &mut Sink<'_>,
) -> Vec<Workflow> {
    let Some(map) = root.as_map() else {
        if !matches!(root.value, Value::Null) {
            sink.at(
                root,
                format!(
                    "workflows.yaml must map workflow keys to workflows, found {}",
                    root.kind()
                ),
            );
        }
        return Vec::new();
    };
    let mut names = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for (key, def) in map {
        if let Some(w) = read_workflow(key, def, schema, settings, sink) {
            if let Some(prev) = names.insert(w.name.to_lowercase(), w.loc) {
                sink.at(
                    key,
                    format!(
                        "workflow name {:?} is used twice (first at line {})",
                        w.name, prev.line
                    ),
                );
            }
            out.push(w);
        }
    }
    let first_deal = out
        .iter()
        .flat_map(|w| &w.actions)
        .find(|a| matches!(a.kind, ActionKind::CreateDeal { .. }));
    if let Some(action) = first_deal {
        if schema.find(ObjectType::Deals, DEAL_KEY_PROPERTY).is_none() {
            sink.error(
                action.loc,
                format!("create_deal needs the deal property {DEAL_KEY_PROPERTY}, which makes deal creation idempotent, and properties.yaml does not define it"),
                Some(format!("add to properties.yaml:\ndeal_properties:\n  {DEAL_KEY_PROPERTY}:\n    type: \"text\"\n    unique: true")),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_patterns_match_dates_and_campaigns() {
        let manual = TagPattern::parse("Manual Outreach - [Date]").unwrap();
        assert!(manual.matches("Manual Outreach - 2026-11-24"));
        assert!(manual.matches("manual outreach - 2026-11-24"));
        assert!(!manual.matches("Manual Outreach - yesterday"));
        assert!(!manual.matches("Automated Outreach - 2026-11-24"));
        let automated = TagPattern::parse("Automated Outreach - [Campaign]").unwrap();
        assert!(automated.matches("Automated Outreach - Q4 Fintech"));
        assert!(!automated.matches("Automated Outreach - "));
        assert!(TagPattern::parse("[Date]").is_err());
    }
}
