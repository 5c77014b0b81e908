//! Schedules (`schedules.yaml`), lead scoring (`scoring.yaml`) and the data-sync flows
//! (`sync.yaml`): read and checked; the scheduler, scorer and sync engine run them.

use std::collections::BTreeMap;
use std::str::FromStr;

use leadflow_core::ObjectType;

use crate::diag::{Sink, choices_hint};
use crate::node::{Loc, Node, Value};
use crate::properties::{PropertyKind, PropertySchema};
use crate::reader::MapReader;

/// One scheduled automation.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// Its key (`daily_cleanup`).
    pub key: String,
    /// The spec's words ("Daily at 6:00 AM").
    pub description: String,
    /// The cron expression that runs.
    pub cron: String,
    /// Its actions.
    pub actions: Vec<String>,
    /// Completed tasks older than this many days are archived (`clean_up_old_tasks`);
    /// [`DEFAULT_TASK_RETENTION_DAYS`] when not written.
    pub task_retention_days: Option<u32>,
    /// Who the weekly summary comes from (`sender`, `Name <address>` or an address).
    pub sender: Option<String>,
    /// Who receives the weekly summary (`recipients`).
    pub recipients: Vec<String>,
    /// Where it is written (for a derived schedule: the file's start).
    pub loc: Loc,
}

impl Schedule {
    /// Whether its actions include `action`.
    pub fn runs(&self, action: &str) -> bool {
        self.actions.iter().any(|a| a == action)
    }

    /// The retention of completed tasks, in days.
    pub fn retention_days(&self) -> u32 {
        self.task_retention_days
            .unwrap_or(DEFAULT_TASK_RETENTION_DAYS)
    }
}

/// Completed tasks are kept this many days when `task_retention_days` is not written.
pub const DEFAULT_TASK_RETENTION_DAYS: u32 = 90;

/// The longest retention accepted (ten years).
const MAX_TASK_RETENTION_DAYS: u32 = 3650;

/// The action that runs the workflows' time-based triggers (`trigger: value held for N
/// days`); when no schedule lists it, a schedule [`TIME_BASED_KEY`] runs it daily at 06:00.
pub const TIME_BASED_ACTION: &str = "check_time_based_triggers";

/// The key of the derived schedule of the time-based triggers.
pub const TIME_BASED_KEY: &str = "time_based_triggers";

/// When the derived schedule of the time-based triggers runs.
pub const TIME_BASED_CRON: &str = "0 6 * * *";

/// `schedules.yaml`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Schedules {
    /// The time zone schedules run in.
    pub time_zone: String,
    /// The automations.
    pub triggers: Vec<Schedule>,
}

/// The actions each automation may run.
pub const SCHEDULE_ACTIONS: [&str; 10] = [
    "update_last_activity_dates",
    "clean_up_old_tasks",
    "update_lead_scores",
    "generate_performance_report",
    "send_weekly_summary",
    "update_dashboard_metrics",
    "analyze_performance_trends",
    "optimize_workflows",
    "generate_optimization_recommendations",
    TIME_BASED_ACTION,
];

/// `text` when it is an email address; otherwise reports it at `node`.
fn mailbox(text: String, node: &Node, sink: &mut Sink<'_>) -> Option<String> {
    if is_mailbox(&text) {
        return Some(text);
    }
    sink.hint(
        node,
        format!("{text:?} is not an email address"),
        "write an address (reports@example.com) or a name and an address (Leadflow <reports@example.com>)",
    );
    None
}

/// Whether `text` is an email address, bare or as `Name <address>`: one `@` with
/// something on either side and no spaces in the address (the mailer checks the rest).
fn is_mailbox(text: &str) -> bool {
    let t = text.trim();
    let addr = match (t.rfind('<'), t.strip_suffix('>')) {
        (Some(i), Some(_)) => &t[i + 1..t.len() - 1],
        _ => t,
    };
    match addr.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !addr.contains(char::is_whitespace)
        }
        None => false,
    }
}

const CRON_HINT: &str =
    "five fields: minute hour day-of-month month day-of-week, for example \"0 9 * * MON\"";

pub(crate) fn read_schedules(root: &Node, sink: &mut Sink<'_>) -> Schedules {
    let mut out = Schedules {
        time_zone: "UTC".into(),
        triggers: Vec::new(),
    };
    let Some(r) = MapReader::new(root, "schedules.yaml", sink) else {
        return out;
    };
    r.check_keys(
        &["time_zone", "automation_triggers"],
        "schedules.yaml",
        sink,
    );
    if let Some((tz, n)) = r.string("time_zone", false, sink) {
        crate::settings::check_zone(&tz, n, sink);
        out.time_zone = tz;
    }
    let Some(map) = r.get("automation_triggers").and_then(Node::as_map) else {
        sink.at(root, "schedules.yaml has no automation_triggers");
        return out;
    };
    for (key, def) in map {
        let key_text = key.as_text().unwrap_or_default();
        let Some(t) = MapReader::new(def, &format!("automation {key_text:?}"), sink) else {
            continue;
        };
        t.check_keys(
            &[
                "schedule",
                "cron",
                "actions",
                "task_retention_days",
                "sender",
                "recipients",
            ],
            &format!("automation {key_text:?}"),
            sink,
        );
        let description = t
            .string("schedule", false, sink)
            .map(|(s, _)| s)
            .unwrap_or_default();
        let Some((cron, cron_node)) = t.string("cron", true, sink) else {
            continue;
        };
        let fields = cron.split_whitespace().count();
        if fields != 5 {
            sink.hint(
                cron_node,
                format!(
                    "invalid cron expression {cron:?}: it has {fields} field{}, leadflow takes exactly five",
                    if fields == 1 { "" } else { "s" }
                ),
                format!("{CRON_HINT}; no seconds or years, no @daily"),
            );
        } else if let Err(e) = croner::Cron::from_str(&cron) {
            sink.hint(
                cron_node,
                format!("invalid cron expression {cron:?}: {e}"),
                CRON_HINT,
            );
        }
        let actions = t.strings("actions", sink);
        for (a, n) in &actions {
            if !SCHEDULE_ACTIONS.contains(&a.as_str()) {
                sink.hint(
                    n,
                    format!("unknown automation action {a:?}"),
                    choices_hint(a, SCHEDULE_ACTIONS),
                );
            }
        }
        let task_retention_days =
            t.string("task_retention_days", false, sink)
                .and_then(|(v, n)| match v.parse::<u32>() {
                    Ok(d) if (1..=MAX_TASK_RETENTION_DAYS).contains(&d) => Some(d),
                    _ => {
                        sink.hint(
                            n,
                            format!("task_retention_days {v:?} is not a number of days from 1 to {MAX_TASK_RETENTION_DAYS}"),
                            format!("write a whole number of days, for example {DEFAULT_TASK_RETENTION_DAYS}: completed tasks older than that are archived"),
                        );
                        None
                    }
                });
        let sender = t
            .string("sender", false, sink)
            .and_then(|(v, n)| mailbox(v, n, sink));
        let listed = t.strings("recipients", sink);
        let missing: Vec<&str> = [
            ("sender", t.get("sender").is_none()),
            ("recipients", listed.is_empty()),
        ]
        .into_iter()
        .filter_map(|(k, absent)| absent.then_some(k))
        .collect();
        let recipients: Vec<String> = listed
            .into_iter()
            .filter_map(|(v, n)| mailbox(v, n, sink))
            .collect();
        let actions: Vec<String> = actions.into_iter().map(|(a, _)| a).collect();
        if actions.iter().any(|a| a == "send_weekly_summary") && !missing.is_empty() {
            sink.hint(
                def,
                format!(
                    "automation {key_text:?} sends the weekly summary but has no {}",
                    missing.join(" and no ")
                ),
                "add `sender: \"Leadflow <reports@example.com>\"` and `recipients: [\"sales@example.com\"]`, or remove send_weekly_summary",
            );
        }
        out.triggers.push(Schedule {
            key: key_text,
            description,
            cron,
            actions,
            task_retention_days,
            sender,
            recipients,
            loc: key.loc,
        });
    }
    if !out.triggers.iter().any(|t| t.runs(TIME_BASED_ACTION))
        && !out.triggers.iter().any(|t| t.key == TIME_BASED_KEY)
    {
        out.triggers.push(Schedule {
            key: TIME_BASED_KEY.to_owned(),
            description: "Daily at 6:00 AM (derived: no schedule lists check_time_based_triggers)"
                .to_owned(),
            cron: TIME_BASED_CRON.to_owned(),
            actions: vec![TIME_BASED_ACTION.to_owned()],
            task_retention_days: None,
            sender: None,
            recipients: Vec::new(),
            loc: root.loc,
        });
    }
    out
}

/// `scoring.yaml`: how lead scores are computed.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Scoring {
    /// Points every contact starts with.
    pub base: f64,
    /// Points per ICP Fit Score point.
    pub icp_points_per_point: f64,
    /// Points per Response Status option.
    pub response_points: BTreeMap<String, f64>,
    /// The date property engagement recency is measured from.
    pub recency_property: String,
    /// Points for activity today.
    pub recency_max_points: f64,
    /// Days after which recency points halve.
    pub recency_half_life_days: f64,
    /// Scores are clamped to this range.
    pub clamp: (f64, f64),
}

fn number(r: &MapReader<'_>, key: &str, default: f64, sink: &mut Sink<'_>) -> f64 {
    match r.get(key) {
        None => default,
        Some(n) => match &n.value {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            _ => match n.as_text().and_then(|t| t.parse().ok()) {
                Some(v) => v,
                None => {
                    sink.at(n, format!("{key} must be a number, found {}", n.kind()));
                    default
                }
            },
        },
    }
}

pub(crate) fn read_scoring(root: &Node, schema: &PropertySchema, sink: &mut Sink<'_>) -> Scoring {
    let mut s = Scoring {
        clamp: (1.0, 100.0),
        recency_property: "last_activity_date".into(),
        ..Scoring::default()
    };
    let Some(r) = MapReader::new(root, "scoring.yaml", sink) else {
        return s;
    };
    r.check_keys(&["lead_scoring"], "scoring.yaml", sink);
    let Some(l) = r
        .get("lead_scoring")
        .and_then(|n| MapReader::new(n, "lead_scoring", sink))
    else {
        return s;
    };
    l.check_keys(
        &[
            "base",
            "icp_fit_score",
            "response_status",
            "engagement_recency",
            "clamp",
        ],
        "lead_scoring",
        sink,
    );
    s.base = number(&l, "base", 0.0, sink);
    if let Some(i) = l
        .get("icp_fit_score")
        .and_then(|n| MapReader::new(n, "icp_fit_score", sink))
    {
        i.check_keys(&["points_per_point"], "icp_fit_score", sink);
        s.icp_points_per_point = number(&i, "points_per_point", 0.0, sink);
    }
    if let Some(map) = l.get("response_status").and_then(Node::as_map) {
        let options: Vec<String> = schema
            .find(ObjectType::Contacts, "response_status")
            .map(|p| p.options().to_vec())
            .unwrap_or_default();
        for (k, v) in map {
            let option = k.as_text().unwrap_or_default();
            if !options.contains(&option) {
                sink.hint(
                    k,
                    format!("{option:?} is not an option of Response Status"),
                    choices_hint(&option, options.iter().map(String::as_str)),
                );
            }
            match v.as_text().and_then(|t| t.parse::<f64>().ok()) {
                Some(p) => {
                    s.response_points.insert(option, p);
                }
                None => sink.at(v, format!("points for {option:?} must be a number")),
            }
        }
    }
    if let Some(e) = l
        .get("engagement_recency")
        .and_then(|n| MapReader::new(n, "engagement_recency", sink))
    {
        e.check_keys(
            &["property", "max_points", "half_life_days"],
            "engagement_recency",
            sink,
        );
        if let Some((p, n)) = e.string("property", false, sink) {
            match schema.kind_of(ObjectType::Contacts, &p) {
                Some((name, PropertyKind::Date)) => s.recency_property = name,
                Some(_) => sink.at(
                    n,
                    format!("engagement recency needs a date property; {p:?} is not one"),
                ),
                None => sink.at(n, format!("unknown contact property {p:?}")),
            }
        }
        s.recency_max_points = number(&e, "max_points", 0.0, sink);
        s.recency_half_life_days = number(&e, "half_life_days", 14.0, sink);
        if s.recency_half_life_days <= 0.0 {
            if let Some(n) = e.get("half_life_days") {
                sink.at(n, "half_life_days must be more than 0");
            }
            s.recency_half_life_days = 14.0;
        }
    }
    if let Some((text, n)) = l.string("clamp", false, sink) {
        match crate::properties::parse_range(&text) {
            Some((lo, hi)) if lo <= hi => s.clamp = (lo, hi),
            Some(_) => sink.at(
                n,
                format!("clamp {text:?} has its minimum above its maximum"),
            ),
            None => sink.hint(
                n,
                format!("clamp {text:?} is not a range"),
                "write \"1-100\"",
            ),
        }
    }
    s
}

/// `sync.yaml`: the data-sync flows.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SyncFlows {
    /// Properties a new contact must have.
    pub required_properties: Vec<String>,
    /// Defaults set on new contacts when empty.
    pub default_values: BTreeMap<String, String>,
    /// The flows configured, by key, with their actions.
    pub flows: BTreeMap<String, Vec<String>>,
}

const FLOWS: [(&str, &[&str]); 3] = [
    (
        "contact_creation",
        &[
            "validate_required_properties",
            "set_default_values",
            "trigger_appropriate_workflow",
        ],
    ),
    (
        "contact_update",
        &[
            "validate_property_changes",
            "update_related_deals",
            "trigger_response_workflows",
        ],
    ),
    (
        "deal_creation",
        &[
            "set_deal_properties",
            "link_to_contact",
            "trigger_pipeline_workflows",
        ],
    ),
];

pub(crate) fn read_sync(root: &Node, schema: &PropertySchema, sink: &mut Sink<'_>) -> SyncFlows {
    let mut out = SyncFlows::default();
    let Some(r) = MapReader::new(root, "sync.yaml", sink) else {
        return out;
    };
    r.check_keys(&["data_sync_workflows"], "sync.yaml", sink);
    let Some(map) = r.get("data_sync_workflows").and_then(Node::as_map) else {
        return out;
    };
    for (key, def) in map {
        let name = key.as_text().unwrap_or_default();
        let Some((_, allowed)) = FLOWS.iter().find(|(k, _)| *k == name) else {
            sink.hint(
                key,
                format!("unknown data-sync flow {name:?}"),
                choices_hint(&name, FLOWS.iter().map(|(k, _)| *k)),
            );
            continue;
        };
        let Some(f) = MapReader::new(def, &format!("flow {name:?}"), sink) else {
            continue;
        };
        f.check_keys(
            &[
                "trigger",
                "actions",
                "required_properties",
                "default_values",
            ],
            &format!("flow {name:?}"),
            sink,
        );
        let actions = f.strings("actions", sink);
        for (a, n) in &actions {
            if !allowed.contains(&a.as_str()) {
                sink.hint(
                    n,
                    format!("unknown action {a:?} for {name}"),
                    choices_hint(a, allowed.iter().copied()),
                );
            }
        }
        out.flows
            .insert(name.clone(), actions.into_iter().map(|(a, _)| a).collect());
        for (p, n) in f.strings("required_properties", sink) {
            match schema.kind_of(ObjectType::Contacts, &p) {
                Some((name, _)) => out.required_properties.push(name),
                None => sink.at(n, format!("unknown contact property {p:?}")),
            }
        }
        if let Some(defaults) = f.get("default_values").and_then(Node::as_map) {
            for (k, v) in defaults {
                let prop = k.as_text().unwrap_or_default();
                let value = v.as_text().unwrap_or_default();
                match schema.find(ObjectType::Contacts, &prop) {
                    Some(spec) => match spec.parse_value(&value) {
                        Ok(tv) => {
                            out.default_values.insert(spec.name.clone(), tv.to_wire());
                        }
                        Err(e) => sink.error(
                            v.loc,
                            format!("default for {}: {:?} is not allowed", spec.label, e.given),
                            Some(e.allowed),
                        ),
                    },
                    None => sink.at(k, format!("unknown contact property {prop:?}")),
                }
            }
        }
    }
    out
}
