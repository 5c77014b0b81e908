//! Pure evaluation: (workflows, signal, contact, today) → the runs the workflows start and
//! the actions each run intends. No IO, no clock, no HubSpot: the same input gives the same
//! output, which is what workflow tests, dry runs and replays rely on.
//!
//! Conditions and templates were translated to minijinja by the config crate; here they are
//! compiled once into one environment and evaluated against the contact as the run goes:
//! a `set_property` is visible to the conditions of the actions after it, as in HubSpot.
//! All property writes of one run are coalesced into one `Write`.

use std::collections::BTreeMap;

use leadflow_config::workflows::{ActionKind, Reenrollment, Trigger, Workflow};
use leadflow_config::{PropertyKind, PropertySchema};
use leadflow_core::ObjectType;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object};
use minijinja::{Environment, Value};
use serde::{Deserialize, Serialize};

/// What happened to a contact, as the engine sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// The contact was created.
    Created,
    /// A property changed.
    Changed {
        /// Its internal name.
        property: String,
        /// The value before.
        old: Option<String>,
        /// The value after.
        new: Option<String>,
    },
    /// The contact joined a list.
    JoinedList {
        /// The list's name.
        name: String,
    },
    /// A scheduled check of time-based triggers.
    Tick,
}

/// The contact a signal is about, as the store holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// HubSpot's id.
    pub id: String,
    /// Property values (internal names), as HubSpot sends them.
    pub properties: BTreeMap<String, String>,
    /// Whether a deal is associated with the contact.
    #[serde(default)]
    pub has_deal: bool,
}

/// An action the engine intends to carry out in HubSpot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Intended {
    /// Writes contact properties (every write of the run, coalesced).
    Write {
        /// Internal name to wire value.
        properties: BTreeMap<String, String>,
    },
    /// Creates a deal associated with the contact (and its company).
    CreateDeal {
        /// Its name.
        name: String,
        /// The stage's label.
        stage: String,
        /// The amount.
        amount: String,
    },
    /// Enrolls the contact in a sequence.
    Enroll {
        /// The sequence's name.
        sequence: String,
    },
    /// Creates a task for the contact's owner.
    CreateTask {
        /// Subject.
        subject: String,
        /// Body.
        body: String,
        /// Due date, `YYYY-MM-DD`.
        due: String,
    },
    /// Moves the contact's deals to a stage.
    MoveDeal {
        /// The stage's label.
        stage: String,
    },
    /// Gives the contact's deals the contact's owner (the data-sync flow `contact_update`).
    DealOwner {
        /// The owner id.
        owner: String,
    },
    /// Writes properties of the run's deal (the data-sync flow `deal_creation`).
    DealWrite {
        /// Internal name to wire value.
        properties: BTreeMap<String, String>,
    },
}

impl Intended {
    /// The action's name in the outbox.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Write { .. } => "write",
            Self::CreateDeal { .. } => "create_deal",
            Self::Enroll { .. } => "enroll",
            Self::CreateTask { .. } => "create_task",
            Self::MoveDeal { .. } => "move_deal",
            Self::DealOwner { .. } => "deal_owner",
            Self::DealWrite { .. } => "deal_write",
        }
    }
}

/// The outbox's name for a `workflows.yaml` action (`add_to_sequence` → `enroll`), so a
/// skipped action and a carried-out one count under the same name.
pub fn outbox_action(yaml_action: &str) -> &str {
    match yaml_action {
        "set_property" | "update_qualification" => "write",
        "add_to_sequence" => "enroll",
        "update_deal_stage" => "move_deal",
        "update_related_deals" => "deal_owner",
        "set_deal_properties" => "deal_write",
        other => other,
    }
}

/// One action of a run: what it intends, or why it does nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The action's position in the workflow (writes take the first write's).
    pub index: usize,
    /// The action's name in `workflows.yaml`.
    pub action: String,
    /// What it intends, or `None` when it is skipped.
    pub intended: Option<Intended>,
    /// Why it is skipped.
    pub skipped: Option<String>,
    /// A skipped step that is a failure (a data-sync check that did not pass), recorded as
    /// dead rather than skipped.
    #[serde(default)]
    pub failed: bool,
}

/// A workflow run started by a signal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// The workflow's key.
    pub workflow: String,
    /// What enrolls the contact, per the re-enrollment policy: a contact enrolls once per
    /// (workflow, trigger value).
    pub trigger_value: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// Why workflows could not be compiled.
#[derive(Debug, thiserror::Error)]
#[error("workflow {workflow}: {message}")]
pub struct CompileError {
    /// The workflow's key.
    pub workflow: String,
    /// What is wrong.
    pub message: String,
}

/// How a contact property reads in conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Number,
    Date,
    Text,
}

/// The workflows, compiled.
#[derive(Debug)]
pub struct Evaluator {
    env: Environment<'static>,
    workflows: Vec<Workflow>,
    schema: PropertySchema,
    shapes: std::collections::HashMap<String, Shape>,
    /// Where each contact property's definition is in `schema.properties`.
    specs: std::collections::HashMap<String, usize>,
    /// Conditions the direct evaluator covers (most), by their minijinja text.
    fast_conditions: std::collections::HashMap<String, fast::Expr>,
    /// Templates the direct evaluator covers, by their minijinja text.
    fast_templates: std::collections::HashMap<String, Vec<fast::Piece>>,
}

/// What conditions and templates see: the contact's typed properties at top level and
/// under `contact`, `deal` when one exists, and `current_date`. Built once per run and
/// shared, not copied, by every condition and template.
#[derive(Debug)]
struct Scope {
    props: Arc<BTreeMap<String, Value>>,
    has_deal: bool,
    today: Value,
}

#[derive(Debug)]
struct Props(Arc<BTreeMap<String, Value>>);

impl Object for Props {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.get(key.as_str()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.keys().map(|k| Value::from(k.as_str())).collect())
    }
}

impl fast::Scope for Scope {
    fn var(&self, name: &str) -> Value {
        match name {
            "contact" => Value::from_object(Props(self.props.clone())),
            "deal" if self.has_deal => Value::from(true),
            "current_date" => self.today.clone(),
            other => self.props.get(other).cloned().unwrap_or(Value::UNDEFINED),
        }
    }

    fn attr(&self, object: &str, name: &str) -> Value {
        match object {
            "contact" => self.props.get(name).cloned().unwrap_or(Value::UNDEFINED),
            _ => Value::UNDEFINED,
        }
    }
}

impl Object for Scope {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "contact" => Some(Value::from_object(Props(self.props.clone()))),
            "deal" => self.has_deal.then(|| Value::from(true)),
            "current_date" => Some(self.today.clone()),
            other => self.props.get(other).cloned(),
        }
    }
}

fn cond_name(jinja: &str) -> String {
    format!("if:{jinja}")
}

fn add_days(date: String, days: i64) -> Result<String, minijinja::Error> {
    let d: jiff::civil::Date = date.parse().map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("{date:?} is not a date: {e}"),
        )
    })?;
    d.checked_add(jiff::Span::new().days(days))
        .map(|d| d.to_string())
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))
}

impl Evaluator {
    /// Compiles every condition and template of the enabled workflows.
    ///
    /// # Errors
    /// [`CompileError`] for a condition or template minijinja cannot parse (`leadflow check`
    /// reports those first).
    pub fn new(workflows: &[Workflow], schema: &PropertySchema) -> Result<Self, CompileError> {
        let mut env = Environment::new();
        let mut fast_conditions = std::collections::HashMap::new();
        let mut fast_templates = std::collections::HashMap::new();
        env.add_function("add_days", add_days);
        for w in workflows {
            let err = |message: String| CompileError {
                workflow: w.key.clone(),
                message,
            };
            let conditions = w
                .conditions
                .iter()
                .chain(w.actions.iter().filter_map(|a| a.condition.as_ref()));
            for c in conditions {
                if let Some(e) = fast::compile(&c.jinja) {
                    fast_conditions.insert(c.jinja.clone(), e);
                }
                env.add_template_owned(
                    cond_name(&c.jinja),
                    format!("{{% if {} %}}1{{% endif %}}", c.jinja),
                )
                .map_err(|e| err(format!("condition {:?}: {e}", c.source)))?;
            }
            for a in &w.actions {
                let templates: Vec<&leadflow_config::workflows::Template> = match &a.kind {
                    ActionKind::SetProperty { value, .. } => vec![value],
                    ActionKind::CreateDeal { name, amount, .. } => vec![name, amount],
                    ActionKind::CreateTask { subject, body, due } => vec![subject, body, due],
                    _ => vec![],
                };
                for t in templates {
                    env.add_template_owned(t.jinja.clone(), t.jinja.clone())
                        .map_err(|e| err(format!("template {:?}: {e}", t.source)))?;
                    if let Some(pieces) = fast::compile_template(&t.jinja) {
                        fast_templates.insert(t.jinja.clone(), pieces);
                    }
                }
            }
        }
        let shape = |k: &PropertyKind| match k {
            PropertyKind::Number { .. } => Shape::Number,
            PropertyKind::Date => Shape::Date,
            _ => Shape::Text,
        };
        let mut shapes: std::collections::HashMap<String, Shape> =
            leadflow_config::properties::builtin_properties(ObjectType::Contacts)
                .into_iter()
                .map(|(n, k)| (n.to_owned(), shape(&k)))
                .collect();
        for p in schema.of(ObjectType::Contacts) {
            shapes.insert(p.name.clone(), shape(&p.kind));
        }
        let specs = schema
            .properties
            .iter()
            .enumerate()
            .filter(|(_, p)| p.object == ObjectType::Contacts)
            .map(|(i, p)| (p.name.clone(), i))
            .collect();
        Ok(Self {
            env,
            workflows: workflows.iter().filter(|w| w.enabled).cloned().collect(),
            schema: schema.clone(),
            shapes,
            specs,
            fast_conditions,
            fast_templates,
        })
    }

    /// The enabled workflows.
    pub fn workflows(&self) -> &[Workflow] {
        &self.workflows
    }

    /// The value a contact property has for conditions: numbers as numbers, dates as
    /// `YYYY-MM-DD`, the rest as text; empty is absent.
    fn typed(&self, name: &str, raw: &str) -> Option<Value> {
        if raw.is_empty() {
            return None;
        }
        match self.shapes.get(name).copied().unwrap_or(Shape::Text) {
            Shape::Number => {
                let n: f64 = raw.trim().parse().ok()?;
                Some(if n.fract() == 0.0 && n.abs() < 1e15 {
                    Value::from(n as i64)
                } else {
                    Value::from(n)
                })
            }
            Shape::Date => {
                leadflow_config::values::parse_date(raw).map(|d| Value::from(d.to_string()))
            }
            Shape::Text => Some(Value::from(raw)),
        }
    }

    fn typed_all(&self, props: &BTreeMap<String, String>) -> BTreeMap<String, Value> {
        props
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), self.typed(k, v)?)))
            .collect()
    }

    fn scope(props: &Arc<BTreeMap<String, Value>>, has_deal: bool, today: &Value) -> Value {
        Value::from_object(Scope {
            props: props.clone(),
            has_deal,
            today: today.clone(),
        })
    }

    fn holds(&self, jinja: &str, ctx: &Value) -> Result<bool, String> {
        if let (Some(e), Some(scope)) = (
            self.fast_conditions.get(jinja),
            ctx.downcast_object_ref::<Scope>(),
        ) {
            return e
                .eval(scope)
                .map(|v| v.is_true())
                .ok_or_else(|| "it does not evaluate".to_owned());
        }
        let t = self
            .env
            .get_template(&cond_name(jinja))
            .map_err(|e| e.to_string())?;
        t.render(ctx).map(|s| s == "1").map_err(|e| e.to_string())
    }

    fn render(&self, jinja: &str, ctx: &Value) -> Result<String, String> {
        if let (Some(pieces), Some(scope)) = (
            self.fast_templates.get(jinja),
            ctx.downcast_object_ref::<Scope>(),
        ) {
            return fast::render(pieces, scope)
                .map(|s| s.trim().to_owned())
                .ok_or_else(|| "it does not render".to_owned());
        }
        let t = self.env.get_template(jinja).map_err(|e| e.to_string())?;
        t.render(ctx)
            .map(|s| s.trim().to_owned())
            .map_err(|e| e.to_string())
    }

    /// The trigger value a signal gives `w`, if the signal triggers it.
    fn triggered(
        &self,
        w: &Workflow,
        signal: &Signal,
        subject: &Subject,
        today: jiff::civil::Date,
    ) -> Option<String> {
        match (&w.trigger, signal) {
            (Trigger::Created, Signal::Created) => Some("created".into()),
            (
                Trigger::Tagged(p),
                Signal::Changed {
                    property,
                    new: Some(tag),
                    ..
                },
            ) if property == "campaign_tag" && p.matches(tag) => Some(tag.trim().to_owned()),
            (Trigger::Tagged(p), Signal::JoinedList { name }) if p.matches(name) => {
                Some(name.trim().to_owned())
            }
            (
                Trigger::PropertyChanged { property, from, to },
                Signal::Changed {
                    property: changed,
                    old,
                    new,
                },
            ) if property == changed
                && from.as_ref().is_none_or(|f| old.as_deref() == Some(f))
                && to.as_ref().is_none_or(|t| new.as_deref() == Some(t))
                && old != new =>
            {
                Some(new.clone().unwrap_or_default())
            }
            (
                Trigger::ValueFor {
                    property,
                    value,
                    days,
                    since,
                },
                Signal::Tick,
            ) => {
                let holds = subject.properties.get(property).map(String::as_str) == Some(value);
                let start = subject
                    .properties
                    .get(since)
                    .and_then(|s| leadflow_config::values::parse_date(s))?;
                let due = start
                    .checked_add(jiff::Span::new().days(i64::from(*days)))
                    .ok()?;
                (holds && due <= today).then(|| start.to_string())
            }
            _ => None,
        }
    }

    /// The runs `signal` starts for `subject` on `today`: pure.
    pub fn evaluate(
        &self,
        signal: &Signal,
        subject: &Subject,
        today: jiff::civil::Date,
    ) -> Vec<Run> {
        // Built only when a workflow triggers: most events concern none.
        let mut today_v: Option<Value> = None;
        let mut runs = Vec::new();
        for w in &self.workflows {
            let Some(value) = self.triggered(w, signal, subject, today) else {
                continue;
            };
            let trigger_value = match w.reenrollment {
                Reenrollment::PerTriggerValue => value,
                Reenrollment::Once => "once".to_owned(),
                // The caller makes each firing distinct (it knows the event).
                Reenrollment::Always => value,
            };
            // Each run owns its copy: its writes change it without cloning a shared one.
            let typed = Arc::new(self.typed_all(&subject.properties));
            let today_v = today_v
                .get_or_insert_with(|| Value::from(today.to_string()))
                .clone();
            let ctx = Self::scope(&typed, subject.has_deal, &today_v);
            let failed = w
                .conditions
                .iter()
                .find(|c| !self.holds(&c.jinja, &ctx).unwrap_or(false));
            if failed.is_some() {
                // The workflow's own conditions decide whether it acts at all: no run.
                continue;
            }
            runs.push(self.run(w, trigger_value, typed, subject.has_deal, &today_v));
        }
        runs
    }

    fn run(
        &self,
        w: &Workflow,
        trigger_value: String,
        mut typed: Arc<BTreeMap<String, Value>>,
        has_deal: bool,
        today: &Value,
    ) -> Run {
        let mut steps: Vec<Step> = Vec::new();
        let mut writes: BTreeMap<String, String> = BTreeMap::new();
        let mut write_index: Option<usize> = None;
        let mut ctx = Self::scope(&typed, has_deal, today);
        for (index, a) in w.actions.iter().enumerate() {
            let skip = |reason: String| Step {
                index,
                action: a.kind.name().to_owned(),
                intended: None,
                skipped: Some(reason),
                failed: false,
            };
            if let Some(c) = &a.condition {
                match self.holds(&c.jinja, &ctx) {
                    Ok(true) => {}
                    Ok(false) => {
                        steps.push(skip(format!("condition {:?} does not hold", c.source)));
                        continue;
                    }
                    Err(e) => {
                        steps.push(skip(format!(
                            "condition {:?} cannot be evaluated: {e}",
                            c.source
                        )));
                        continue;
                    }
                }
            }
            let current_score = typed
                .get("lead_score")
                .and_then(|v| f64::try_from(v.clone()).ok())
                .unwrap_or(0.0);
            let mut wrote = false;
            let mut set = |name: &str, text: String| -> Result<(), String> {
                let wire = match self.specs.get(name).map(|i| &self.schema.properties[*i]) {
                    Some(spec) => spec
                        .parse_value(&text)
                        .map_err(|e| e.to_string())?
                        .to_wire(),
                    None => text,
                };
                let t = Arc::make_mut(&mut typed);
                match self.typed(name, &wire) {
                    Some(v) => t.insert(name.to_owned(), v),
                    None => t.remove(name),
                };
                writes.insert(name.to_owned(), wire);
                write_index.get_or_insert(index);
                wrote = true;
                Ok(())
            };
            let intended = match &a.kind {
                ActionKind::SetProperty { property, value } => {
                    let text = if value.is_literal() {
                        Ok(value.source.clone())
                    } else {
                        self.render(&value.jinja, &ctx)
                    };
                    if let Err(e) = text.and_then(|v| set(property, v)) {
                        steps.push(skip(format!("set {property}: {e}")));
                    }
                    if wrote {
                        ctx = Self::scope(&typed, has_deal, today);
                    }
                    continue;
                }
                ActionKind::UpdateQualification {
                    new_status,
                    lead_score_increase,
                } => {
                    let score = (current_score + *lead_score_increase as f64).clamp(1.0, 100.0);
                    let r = set("qualification_status", new_status.clone())
                        .and_then(|()| set("lead_score", format!("{}", score.round() as i64)));
                    if let Err(e) = r {
                        steps.push(skip(e));
                    }
                    if wrote {
                        ctx = Self::scope(&typed, has_deal, today);
                    }
                    continue;
                }
                ActionKind::CreateDeal {
                    name,
                    stage,
                    amount,
                } => self
                    .render(&name.jinja, &ctx)
                    .and_then(|n| Ok((n, self.render(&amount.jinja, &ctx)?)))
                    .map(|(name, amount)| Intended::CreateDeal {
                        name,
                        stage: stage.clone(),
                        amount,
                    }),
                ActionKind::AddToSequence { sequence } => Ok(Intended::Enroll {
                    sequence: sequence.clone(),
                }),
                ActionKind::CreateTask { subject, body, due } => (|| {
                    let due_text = self.render(&due.jinja, &ctx)?;
                    let due = leadflow_config::values::parse_date(&due_text)
                        .ok_or_else(|| format!("due date {due_text:?} is not a date"))?;
                    Ok(Intended::CreateTask {
                        subject: self.render(&subject.jinja, &ctx)?,
                        body: self.render(&body.jinja, &ctx)?,
                        due: due.to_string(),
                    })
                })(),
                ActionKind::UpdateDealStage { new_stage } => {
                    if has_deal {
                        Ok(Intended::MoveDeal {
                            stage: new_stage.clone(),
                        })
                    } else {
                        Err("the contact has no deal".to_owned())
                    }
                }
            };
            steps.push(match intended {
                Ok(i) => Step {
                    index,
                    action: a.kind.name().to_owned(),
                    intended: Some(i),
                    skipped: None,
                    failed: false,
                },
                Err(e) => skip(e),
            });
        }
        if let Some(index) = write_index {
            let at = steps
                .iter()
                .position(|s| s.index > index)
                .unwrap_or(steps.len());
            steps.insert(
                at,
                Step {
                    index,
                    action: "write".to_owned(),
                    intended: Some(Intended::Write { properties: writes }),
                    skipped: None,
                    failed: false,
                },
            );
        }
        Run {
            workflow: w.key.clone(),
            trigger_value,
            steps,
        }
    }
}

mod fast;

#[cfg(test)]
mod tests;
