//! `leadflow workflows test`: workflow fixtures run against the real engine's pure
//! evaluation (`Engine::plan`, the data-sync flows included), without HubSpot or a store.
//!
//! A fixture file holds one fixture (a mapping) or a list of them:
//!
//! ```yaml
//! - name: "Manual outreach, fit 7 gets a deal and the sequence"
//!   today: "2026-11-25"
//!   contact: { firstname: Ada, lastname: Lovelace, company: Acme, ICP Fit Score: 7 }
//!   has_deal: false
//!   event: { tagged: "Manual Outreach - 2026-11-24" }
//!   expect:
//!     - workflow: workflow_manual_outreach
//!       actions:
//!         - write: { lead_source: Outbound, last_outreach_date: "2026-11-25" }
//!         - create_deal: { name: "Ada Lovelace - Acme", stage: "New Lead" }
//!         - enroll: "Manual Outreach Follow-up"
//!       skipped: []
//! ```
//!
//! `contact` is the contact before the event (property names or labels); the event is
//! applied to it as sync would store it (`tagged` sets the Campaign Tag, `changed` sets the
//! property). Events: `{ tagged: TAG }`, `{ changed: { property, from, to } }`,
//! `{ created: true }`, `{ joined_list: NAME }`, `{ tick: true }` (the daily check of
//! time-based triggers). `expect` lists every run the event starts (`[]`: none), by
//! workflow key or name; `actions` (when given) lists every action the run intends, in
//! order: `write` (every property of the coalesced write), `create_deal` and `create_task`
//! (the fields given are compared), `enroll`, `move_deal`, `deal_owner`; `skipped` (when
//! given) lists the skipped actions by their `workflows.yaml` name, each optionally with a
//! part of the reason (`- create_deal: "ICP Fit Score >= 7"`).
//!
//! Comparison is by rendering: expected and actual are printed the same way, restricted
//! to what the fixture asserts, and a failure shows the line diff of the two.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use leadflow_config::diag::did_you_mean;
use leadflow_config::node::{Loc, Node, Value};
use leadflow_config::{Project, PropertyKind};
use leadflow_core::ObjectType;
use leadflow_engine::run::{CONTACT_CREATION, CONTACT_UPDATE};
use leadflow_engine::{Engine, Intended, Run, Signal, Subject};

/// A fixture file's problem, located.
pub(super) struct FileError {
    pub(super) loc: Loc,
    pub(super) message: String,
}

/// One fixture, parsed.
pub(super) struct Fixture {
    pub(super) name: String,
    pub(super) loc: Loc,
    today: jiff::civil::Date,
    subject: Subject,
    signal: Signal,
    expect: Vec<ExpectedRun>,
}

struct ExpectedRun {
    workflow: String,
    trigger: Option<String>,
    actions: Option<Vec<ExpectedAction>>,
    skipped: Option<Vec<(String, Option<String>)>>,
}

enum ExpectedAction {
    Write(BTreeMap<String, String>),
    CreateDeal(Vec<(&'static str, String)>),
    Enroll(String),
    CreateTask(Vec<(&'static str, String)>),
    MoveDeal(String),
    DealOwner(String),
}

impl ExpectedAction {
    fn name(&self) -> &'static str {
        match self {
            Self::Write(_) => "write",
            Self::CreateDeal(_) => "create_deal",
            Self::Enroll(_) => "enroll",
            Self::CreateTask(_) => "create_task",
            Self::MoveDeal(_) => "move_deal",
            Self::DealOwner(_) => "deal_owner",
        }
    }

    fn fields(&self) -> Option<Vec<&'static str>> {
        match self {
            Self::CreateDeal(f) | Self::CreateTask(f) => Some(f.iter().map(|(k, _)| *k).collect()),
            _ => None,
        }
    }
}

/// The result of one fixture.
pub(super) struct Outcome {
    /// Expected and actual, rendered; equal when the fixture passes.
    pub(super) expected: Vec<String>,
    pub(super) actual: Vec<String>,
}

impl Outcome {
    pub(super) fn passed(&self) -> bool {
        self.expected == self.actual
    }
}

struct Reader<'a> {
    project: &'a Project,
    errors: Vec<FileError>,
}

const FIXTURE_KEYS: [&str; 6] = ["name", "today", "contact", "has_deal", "event", "expect"];
const EVENTS: [&str; 5] = ["tagged", "changed", "created", "joined_list", "tick"];
const RUN_KEYS: [&str; 4] = ["workflow", "trigger", "actions", "skipped"];
const ACTIONS: [&str; 6] = [
    "write",
    "create_deal",
    "enroll",
    "create_task",
    "move_deal",
    "deal_owner",
];
const DEAL_FIELDS: [&str; 3] = ["name", "stage", "amount"];
const TASK_FIELDS: [&str; 3] = ["subject", "body", "due"];

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

impl Reader<'_> {
    fn err(&mut self, node: &Node, message: impl Into<String>) {
        self.errors.push(FileError {
            loc: node.loc,
            message: message.into(),
        });
    }

    fn unknown_key(&mut self, key: &Node, allowed: &[&str], what: &str) {
        let given = key.as_text().unwrap_or_default();
        let hint = match did_you_mean(&given, allowed.iter().copied()) {
            Some(best) => format!("did you mean {best:?}? "),
            None => String::new(),
        };
        self.err(
            key,
            format!(
                "unknown key {given:?} in {what}; {hint}allowed: {}",
                allowed.join(", ")
            ),
        );
    }

    fn map<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [(Node, Node)]> {
        match node.as_map() {
            Some(m) => Some(m),
            None => {
                self.err(
                    node,
                    format!("{what} must be a mapping, not {}", node.kind()),
                );
                None
            }
        }
    }

    fn text(&mut self, node: &Node, what: &str) -> Option<String> {
        match node.as_text() {
            Some(t) => Some(t),
            None => {
                self.err(node, format!("{what} must be a value, not {}", node.kind()));
                None
            }
        }
    }

    /// A contact property's internal name, from its name or label.
    fn property(&mut self, key: &Node) -> Option<(String, PropertyKind)> {
        let given = key.as_text().unwrap_or_default();
        let schema = &self.project.properties;
        if let Some(found) = schema.kind_of(ObjectType::Contacts, &given) {
            return Some(found);
        }
        let known = schema.known_names(ObjectType::Contacts);
        let hint = match leadflow_config::diag::suggest_name(&given, known.iter().map(String::as_str))
        {
            Some(best) => format!("; did you mean {best:?}?"),
            None => "; use a property of properties.yaml (name or label) or one of HubSpot's own (firstname, lastname, company, email, ...)".to_owned(),
        };
        self.err(key, format!("unknown contact property {given:?}{hint}"));
        None
    }

    /// A value as HubSpot stores it (options by label or value, numbers and dates normalised).
    fn value(&mut self, name: &str, kind: &PropertyKind, node: &Node) -> Option<String> {
        let text = self.text(node, name)?;
        if let Some(spec) = self.project.properties.find(ObjectType::Contacts, name) {
            return match spec.parse_value(&text) {
                Ok(v) => Some(v.to_wire()),
                Err(e) => {
                    self.err(node, e.to_string());
                    None
                }
            };
        }
        if *kind == PropertyKind::Date {
            return match leadflow_config::values::parse_date(&text) {
                Some(d) => Some(d.to_string()),
                None => {
                    self.err(node, format!("{name}: {text:?} is not a date (YYYY-MM-DD)"));
                    None
                }
            };
        }
        Some(text)
    }

    fn properties(&mut self, node: &Node, what: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(m) = self.map(node, what) else {
            return out;
        };
        for (k, v) in m {
            let Some((name, kind)) = self.property(k) else {
                continue;
            };
            if matches!(v.value, Value::Null) || v.as_str() == Some("") {
                continue;
            }
            if let Some(value) = self.value(&name, &kind, v) {
                out.insert(name, value);
            }
        }
        out
    }

    fn workflow(&mut self, node: &Node, engine: &Engine) -> Option<String> {
        let given = self.text(node, "workflow")?;
        let workflows = engine.evaluator().workflows();
        if let Some(w) = workflows
            .iter()
            .find(|w| w.key == given || w.name.eq_ignore_ascii_case(&given))
        {
            return Some(w.key.clone());
        }
        for key in [CONTACT_CREATION, CONTACT_UPDATE] {
            if given == key || Some(given.as_str()) == key.strip_prefix("data_sync.") {
                return Some(key.to_owned());
            }
        }
        let mut keys: Vec<&str> = workflows.iter().map(|w| w.key.as_str()).collect();
        keys.extend([CONTACT_CREATION, CONTACT_UPDATE]);
        let hint = match did_you_mean(&given, keys.iter().copied()) {
            Some(best) => format!("did you mean {best:?}? "),
            None => String::new(),
        };
        self.err(
            node,
            format!(
                "no enabled workflow {given:?}; {hint}workflows: {}",
                keys.join(", ")
            ),
        );
        None
    }

    fn fields(
        &mut self,
        node: &Node,
        action: &str,
        allowed: &'static [&'static str; 3],
    ) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let Some(m) = self.map(node, action) else {
            return out;
        };
        for (k, v) in m {
            let key = k.as_text().unwrap_or_default();
            let Some(field) = allowed.iter().find(|f| **f == key) else {
                self.unknown_key(k, allowed, action);
                continue;
            };
            if let Some(t) = self.text(v, field) {
                out.push((*field, t));
            }
        }
        out.sort_by_key(|(f, _)| allowed.iter().position(|a| a == f));
        out
    }

    fn action(&mut self, node: &Node) -> Option<ExpectedAction> {
        let m = self.map(node, "an expected action")?;
        let [(k, v)] = m else {
            self.err(
                node,
                format!(
                    "an expected action is one of {} with its value, e.g. `- enroll: \"Manual Outreach Follow-up\"`",
                    ACTIONS.join(", ")
                ),
            );
            return None;
        };
        let key = k.as_text().unwrap_or_default();
        let key = match key.as_str() {
            "add_to_sequence" => "enroll",
            "update_deal_stage" => "move_deal",
            other => other,
        };
        let text_or_field = |r: &mut Self, field: &str| -> Option<String> {
            match v.get(field) {
                Some(inner) => r.text(inner, field),
                None => r.text(v, key),
            }
        };
        Some(match key {
            "write" => ExpectedAction::Write(self.properties(v, "write")),
            "create_deal" => ExpectedAction::CreateDeal(self.fields(v, key, &DEAL_FIELDS)),
            "create_task" => ExpectedAction::CreateTask(self.fields(v, key, &TASK_FIELDS)),
            "enroll" => ExpectedAction::Enroll(text_or_field(self, "sequence")?),
            "move_deal" => ExpectedAction::MoveDeal(text_or_field(self, "stage")?),
            "deal_owner" => ExpectedAction::DealOwner(text_or_field(self, "owner")?),
            _ => {
                self.unknown_key(k, &ACTIONS, "an expected action");
                return None;
            }
        })
    }

    fn skipped(&mut self, node: &Node) -> Option<(String, Option<String>)> {
        let (name, reason) = match &node.value {
            Value::Map(m) if m.len() == 1 => {
                let (k, v) = &m[0];
                (k.as_text()?, Some(self.text(v, "a skip reason")?))
            }
            _ => match node.as_text() {
                Some(t) => (t, None),
                None => {
                    self.err(
                        node,
                        "a skipped action is its name (`- create_deal`) or its name with part of the reason (`- create_deal: \"ICP Fit Score\"`)",
                    );
                    return None;
                }
            },
        };
        let name = match name.as_str() {
            "enroll" => "add_to_sequence".to_owned(),
            "move_deal" => "update_deal_stage".to_owned(),
            _ => name,
        };
        Some((name, reason))
    }

    fn expected_run(&mut self, node: &Node, engine: &Engine) -> Option<ExpectedRun> {
        let m = self.map(node, "an expected run")?;
        let mut run = ExpectedRun {
            workflow: String::new(),
            trigger: None,
            actions: None,
            skipped: None,
        };
        let mut named = false;
        let mut known = true;
        for (k, v) in m {
            match k.as_text().unwrap_or_default().as_str() {
                "workflow" => {
                    named = true;
                    match self.workflow(v, engine) {
                        Some(w) => run.workflow = w,
                        None => known = false,
                    }
                }
                "trigger" => run.trigger = self.text(v, "trigger"),
                "actions" => {
                    let Some(items) = v.as_seq() else {
                        self.err(v, format!("actions must be a list, not {}", v.kind()));
                        continue;
                    };
                    run.actions = Some(items.iter().filter_map(|a| self.action(a)).collect());
                }
                "skipped" => {
                    let Some(items) = v.as_seq() else {
                        self.err(v, format!("skipped must be a list, not {}", v.kind()));
                        continue;
                    };
                    run.skipped = Some(items.iter().filter_map(|s| self.skipped(s)).collect());
                }
                _ => self.unknown_key(k, &RUN_KEYS, "an expected run"),
            }
        }
        if !named {
            self.err(node, "an expected run names its workflow (`workflow: KEY`)");
        }
        (named && known).then_some(run)
    }

    /// The event, applied to the contact.
    fn event(&mut self, node: &Node, subject: &mut Subject) -> Option<Signal> {
        let m = self.map(node, "event")?;
        let [(k, v)] = m else {
            self.err(
                node,
                format!("event is one of {} with its value", EVENTS.join(", ")),
            );
            return None;
        };
        let props = &mut subject.properties;
        match k.as_text().unwrap_or_default().as_str() {
            "tagged" => {
                let tag = self.text(v, "tagged")?;
                let old = props.insert("campaign_tag".to_owned(), tag.clone());
                Some(Signal::Changed {
                    property: "campaign_tag".to_owned(),
                    old,
                    new: Some(tag),
                })
            }
            "changed" => {
                let m = self.map(v, "changed")?;
                let mut property = None;
                let (mut from, mut to) = (None, None);
                for (ck, cv) in m {
                    match ck.as_text().unwrap_or_default().as_str() {
                        "property" => {
                            property = self.property(cv);
                            property.as_ref()?;
                        }
                        "from" => from = Some(cv),
                        "to" => to = Some(cv),
                        _ => self.unknown_key(ck, &["property", "from", "to"], "changed"),
                    }
                }
                let Some((name, kind)) = property else {
                    self.err(
                        v,
                        "changed names its property (`property: response_status`)",
                    );
                    return None;
                };
                let value = |r: &mut Self, n: Option<&Node>| -> Option<Option<String>> {
                    match n {
                        None => Some(None),
                        Some(n) if matches!(n.value, Value::Null) => Some(None),
                        Some(n) => r.value(&name, &kind, n).map(Some),
                    }
                };
                let new = value(self, to)?;
                let old = match from {
                    Some(_) => value(self, from)?,
                    None => props.get(&name).cloned(),
                };
                match &new {
                    Some(n) => props.insert(name.clone(), n.clone()),
                    None => props.remove(&name),
                };
                Some(Signal::Changed {
                    property: name,
                    old,
                    new,
                })
            }
            "created" => Some(Signal::Created),
            "joined_list" => Some(Signal::JoinedList {
                name: self.text(v, "joined_list")?,
            }),
            "tick" => Some(Signal::Tick),
            _ => {
                self.unknown_key(k, &EVENTS, "event");
                None
            }
        }
    }

    fn fixture(&mut self, node: &Node, engine: &Engine) -> Option<Fixture> {
        let m = self.map(node, "a fixture")?;
        for (k, _) in m {
            let key = k.as_text().unwrap_or_default();
            if !FIXTURE_KEYS.contains(&key.as_str()) {
                self.unknown_key(k, &FIXTURE_KEYS, "a fixture");
            }
        }
        let required = |r: &mut Self, key: &str| {
            let found = node.get(key);
            if found.is_none() {
                r.err(node, format!("a fixture needs `{key}`"));
            }
            found
        };
        let name = required(self, "name").and_then(|n| self.text(n, "name"));
        let today = required(self, "today").and_then(|n| {
            let t = self.text(n, "today")?;
            match leadflow_config::values::parse_date(&t) {
                Some(d) => Some(d),
                None => {
                    self.err(n, format!("today: {t:?} is not a date (YYYY-MM-DD)"));
                    None
                }
            }
        });
        let mut subject = Subject {
            id: "fixture".to_owned(),
            properties: node
                .get("contact")
                .map(|c| self.properties(c, "contact"))
                .unwrap_or_default(),
            has_deal: false,
        };
        if let Some(d) = node.get("has_deal") {
            match d.value {
                Value::Bool(b) => subject.has_deal = b,
                _ => self.err(d, format!("has_deal is true or false, not {}", d.kind())),
            }
        }
        let signal = required(self, "event").and_then(|e| self.event(e, &mut subject));
        let expect = required(self, "expect").and_then(|e| match e.as_seq() {
            Some(items) => {
                let before = self.errors.len();
                let runs: Vec<ExpectedRun> = items
                    .iter()
                    .filter_map(|r| self.expected_run(r, engine))
                    .collect();
                (self.errors.len() == before).then_some(runs)
            }
            None => {
                self.err(
                    e,
                    format!("expect is a list of runs (`[]` for none), not {}", e.kind()),
                );
                None
            }
        });
        Some(Fixture {
            name: name?,
            loc: node.loc,
            today: today?,
            subject,
            signal: signal?,
            expect: expect?,
        })
    }
}

/// Reads a fixture file: its fixtures, or every problem in it.
pub(super) fn read(
    text: &str,
    project: &Project,
    engine: &Engine,
) -> Result<Vec<Fixture>, Vec<FileError>> {
    let root = leadflow_config::node::parse(text).map_err(|(loc, message)| {
        vec![FileError {
            loc,
            message: format!("invalid YAML: {message}"),
        }]
    })?;
    let mut r = Reader {
        project,
        errors: Vec::new(),
    };
    let items: Vec<&Node> = match &root.value {
        Value::Seq(items) => items.iter().collect(),
        Value::Map(_) => vec![&root],
        _ => {
            r.err(
                &root,
                "a fixture file holds a fixture (a mapping) or a list of fixtures",
            );
            Vec::new()
        }
    };
    let fixtures: Vec<Fixture> = items
        .into_iter()
        .filter_map(|n| r.fixture(n, engine))
        .collect();
    if r.errors.is_empty() {
        Ok(fixtures)
    } else {
        Err(r.errors)
    }
}

fn render_intended(i: &Intended, fields: Option<&[&str]>) -> String {
    let shown = |f: &str| fields.is_none_or(|fs| fs.contains(&f));
    let fields_of = |pairs: &[(&str, &str)]| {
        let inner: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| shown(k))
            .map(|(k, v)| format!("{k}: {}", quote(v)))
            .collect();
        format!("{{{}}}", inner.join(", "))
    };
    match i {
        Intended::Write { properties } => {
            let inner: Vec<String> = properties
                .iter()
                .map(|(k, v)| format!("{k}: {}", quote(v)))
                .collect();
            format!("write: {{{}}}", inner.join(", "))
        }
        Intended::CreateDeal {
            name,
            stage,
            amount,
        } => format!(
            "create_deal: {}",
            fields_of(&[("name", name), ("stage", stage), ("amount", amount)])
        ),
        Intended::CreateTask { subject, body, due } => format!(
            "create_task: {}",
            fields_of(&[("subject", subject), ("body", body), ("due", due)])
        ),
        Intended::Enroll { sequence } => format!("enroll: {}", quote(sequence)),
        Intended::MoveDeal { stage } => format!("move_deal: {}", quote(stage)),
        Intended::DealOwner { owner } => format!("deal_owner: {}", quote(owner)),
        Intended::DealWrite { properties } => {
            let inner: Vec<String> = properties
                .iter()
                .map(|(k, v)| format!("{k}: {}", quote(v)))
                .collect();
            format!("deal_write: {{{}}}", inner.join(", "))
        }
    }
}

fn render_expected_action(a: &ExpectedAction) -> String {
    let pairs = |fs: &[(&str, String)]| {
        let inner: Vec<String> = fs
            .iter()
            .map(|(k, v)| format!("{k}: {}", quote(v)))
            .collect();
        format!("{{{}}}", inner.join(", "))
    };
    match a {
        ExpectedAction::Write(p) => {
            let inner: Vec<String> = p
                .iter()
                .map(|(k, v)| format!("{k}: {}", quote(v)))
                .collect();
            format!("write: {{{}}}", inner.join(", "))
        }
        ExpectedAction::CreateDeal(f) => format!("create_deal: {}", pairs(f)),
        ExpectedAction::CreateTask(f) => format!("create_task: {}", pairs(f)),
        ExpectedAction::Enroll(s) => format!("enroll: {}", quote(s)),
        ExpectedAction::MoveDeal(s) => format!("move_deal: {}", quote(s)),
        ExpectedAction::DealOwner(s) => format!("deal_owner: {}", quote(s)),
    }
}

fn skip_line(action: &str, reason: Option<&str>) -> String {
    match reason {
        Some(r) => format!("skipped {action}: {}", quote(r)),
        None => format!("skipped {action}"),
    }
}

/// The actual run, rendered as far as `expected` asserts.
fn render_actual(run: &Run, expected: Option<&ExpectedRun>, out: &mut Vec<String>) {
    out.push(run.workflow.clone());
    if let Some(e) = expected {
        if e.trigger.is_some() {
            out.push(format!("  trigger: {}", quote(&run.trigger_value)));
        }
    }
    let actions = expected.and_then(|e| e.actions.as_ref());
    if expected.is_none() || actions.is_some() {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for i in run.steps.iter().filter_map(|s| s.intended.as_ref()) {
            let nth = seen.entry(i.name()).or_default();
            let fields = actions.and_then(|a| {
                a.iter()
                    .filter(|x| x.name() == i.name())
                    .nth(*nth)
                    .and_then(ExpectedAction::fields)
            });
            *nth += 1;
            out.push(format!("  {}", render_intended(i, fields.as_deref())));
        }
    }
    if let Some(skips) = expected.and_then(|e| e.skipped.as_ref()) {
        let actual = run
            .steps
            .iter()
            .filter(|s| s.intended.is_none())
            .map(|s| (s.action.as_str(), s.skipped.as_deref().unwrap_or("")));
        for (n, (action, reason)) in actual.enumerate() {
            let line = match skips.get(n) {
                Some((name, None)) if name == action => skip_line(action, None),
                Some((name, Some(part))) if name == action && reason.contains(part.as_str()) => {
                    skip_line(action, Some(part))
                }
                Some((_, Some(_))) => skip_line(action, Some(reason)),
                _ => skip_line(action, None),
            };
            out.push(format!("  {line}"));
        }
    }
}

fn render_expected(run: &ExpectedRun, out: &mut Vec<String>) {
    out.push(run.workflow.clone());
    if let Some(t) = &run.trigger {
        out.push(format!("  trigger: {}", quote(t)));
    }
    for a in run.actions.iter().flatten() {
        out.push(format!("  {}", render_expected_action(a)));
    }
    for (action, reason) in run.skipped.iter().flatten() {
        out.push(format!("  {}", skip_line(action, reason.as_deref())));
    }
}

/// Runs one fixture through the engine.
pub(super) fn check(fixture: &Fixture, engine: &Engine) -> Outcome {
    let mut actual_runs = engine.plan(&fixture.signal, &fixture.subject, fixture.today);
    actual_runs.sort_by(|a, b| a.workflow.cmp(&b.workflow));
    let mut expected_runs: Vec<&ExpectedRun> = fixture.expect.iter().collect();
    expected_runs.sort_by(|a, b| a.workflow.cmp(&b.workflow));
    let mut expected = Vec::new();
    for r in &expected_runs {
        render_expected(r, &mut expected);
    }
    let mut actual = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for run in &actual_runs {
        let nth = seen.entry(run.workflow.as_str()).or_default();
        let counterpart = expected_runs
            .iter()
            .filter(|e| e.workflow == run.workflow)
            .nth(*nth)
            .copied();
        *nth += 1;
        render_actual(run, counterpart, &mut actual);
    }
    Outcome { expected, actual }
}

/// A line diff of `expected` and `actual`: `  ` both, `- ` expected only, `+ ` actual only.
pub(super) fn diff(expected: &[String], actual: &[String]) -> Vec<String> {
    let (n, m) = (expected.len(), actual.len());
    // lcs[i][j]: the longest common subsequence of expected[i..] and actual[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if expected[i] == actual[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            out.push(format!("  {}", expected[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(format!("+ {}", actual[j]));
            j += 1;
        } else {
            out.push(format!("- {}", expected[i]));
            i += 1;
        }
    }
    if out.is_empty() {
        out.push("  (no runs)".to_owned());
    }
    out
}

/// The fixture files to run: the paths given (a directory stands for its `*.yaml`), or
/// `<config>/tests/*.yaml`.
pub(super) fn files(given: &[PathBuf], config: &Path) -> std::io::Result<Vec<PathBuf>> {
    let dirs_and_files: Vec<PathBuf> = if given.is_empty() {
        let dir = config.join("tests");
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        vec![dir]
    } else {
        given.to_vec()
    };
    let mut out = Vec::new();
    for p in dirs_and_files {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::diff;

    fn lines(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_diff_marks_what_is_only_expected_or_only_actual() {
        let expected = lines(&["w", "  write: {}", "  create_deal: {}", "  enroll: \"S\""]);
        let actual = lines(&["w", "  write: {}", "  enroll: \"S\"", "  enroll: \"T\""]);
        assert_eq!(
            diff(&expected, &actual),
            lines(&[
                "  w",
                "    write: {}",
                "-   create_deal: {}",
                "    enroll: \"S\"",
                "+   enroll: \"T\"",
            ])
        );
        assert_eq!(diff(&[], &[]), lines(&["  (no runs)"]));
        assert_eq!(diff(&[], &lines(&["w"])), lines(&["+ w"]));
    }
}
