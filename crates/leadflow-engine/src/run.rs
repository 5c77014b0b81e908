//! From the store's event log to the outbox: every change the store observed becomes a
//! signal, every signal is evaluated against the contact as stored, and every run becomes an
//! enrollment with its intents, written in one transaction before any HubSpot call. The
//! event cursor moves after the batch is written; re-reading a batch after a crash finds
//! the enrollments there and adds nothing.
//!
//! Events from a backfill start nothing: they describe the portal as it already was.
//!
//! The spec's data-sync flows run here too, as built-in workflows: `contact_creation`
//! (required properties checked, defaults written; the creation also triggers the
//! workflows), `contact_update` (changed values checked against their property, the
//! contact's owner carried to its deals; response changes trigger the response workflow),
//! `deal_creation` (a new deal's missing amount and owner set, an unlinked deal noted).

use std::collections::BTreeMap;

use leadflow_config::Project;
use leadflow_config::workflows::Reenrollment;
use leadflow_core::ObjectType;
use leadflow_store::{Event, NewEnrollment, NewIntent, Store, StoredRecord};
use sha2::Digest;

use crate::eval::{Evaluator, Intended, Run, Signal, Subject};
use crate::{EngineError, st};

const CURSOR: &str = "engine.events";

/// Built-in workflow keys of the data-sync flows.
pub const CONTACT_CREATION: &str = "data_sync.contact_creation";
/// See [`CONTACT_CREATION`].
pub const CONTACT_UPDATE: &str = "data_sync.contact_update";
/// See [`CONTACT_CREATION`]; its runs' subject is the deal, not a contact.
pub const DEAL_CREATION: &str = "data_sync.deal_creation";

/// What one ingest pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Events read.
    pub events: usize,
    /// Workflow runs that enrolled a contact.
    pub enrolled: usize,
    /// Runs already recorded (a replayed event, or the same trigger value again).
    pub already: usize,
    /// Intents added to the outbox.
    pub intents: usize,
}

impl IngestReport {
    /// Counts what recording one run did: its intents, or nothing when it was recorded before.
    fn count(&mut self, recorded: Option<usize>) {
        match recorded {
            Some(n) => {
                self.enrolled += 1;
                self.intents += n;
            }
            None => self.already += 1,
        }
    }
}

impl std::ops::AddAssign for IngestReport {
    fn add_assign(&mut self, o: Self) {
        self.events += o.events;
        self.enrolled += o.enrolled;
        self.already += o.already;
        self.intents += o.intents;
    }
}

/// An intent's idempotency hash: also the value of the deal key property and the marker
/// in a task's body.
pub fn key_hash(key: &str) -> String {
    hex::encode(&sha2::Sha256::digest(key.as_bytes())[..16])
}

/// The engine for one portal: the compiled workflows and the project's flows.
#[derive(Debug)]
pub struct Engine {
    evaluator: Evaluator,
    project: Project,
    portal: String,
}

/// The signal a stored event gives the workflows, if any: a creation, a property change,
/// a list joined. What `ingest` evaluates, and what a dry run replays.
pub fn signal_of(e: &Event) -> Option<Signal> {
    match (e.property.as_deref(), e.new_value.as_deref()) {
        (None, Some("created")) => Some(Signal::Created),
        (Some(p), Some(name)) if p.starts_with("list:") => Some(Signal::JoinedList {
            name: name.to_owned(),
        }),
        (Some(p), _) if !p.contains(':') => Some(Signal::Changed {
            property: p.to_owned(),
            old: e.old_value.clone(),
            new: e.new_value.clone(),
        }),
        _ => None,
    }
}

/// A stored contact as the workflows see it (empty values are absent).
pub fn subject(r: &StoredRecord, has_deal: bool) -> Subject {
    Subject {
        id: r.id.clone(),
        properties: r
            .properties
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .filter(|(_, v)| !v.is_empty())
            .collect(),
        has_deal,
    }
}

impl Engine {
    /// Compiles the project's enabled workflows for `portal`.
    ///
    /// # Errors
    /// [`EngineError::Compile`].
    pub fn new(project: Project, portal: impl Into<String>) -> Result<Self, EngineError> {
        Ok(Self {
            evaluator: Evaluator::new(&project.workflows, &project.properties)?,
            project,
            portal: portal.into(),
        })
    }

    /// The compiled workflows.
    pub fn evaluator(&self) -> &Evaluator {
        &self.evaluator
    }

    /// The portal's key in the store.
    pub fn portal(&self) -> &str {
        &self.portal
    }

    /// The runs a signal starts, built-in flows included: pure.
    pub fn plan(&self, signal: &Signal, s: &Subject, today: jiff::civil::Date) -> Vec<Run> {
        let mut runs = self.flows(signal, s);
        runs.extend(self.evaluator.evaluate(signal, s, today));
        runs
    }

    fn flows(&self, signal: &Signal, s: &Subject) -> Vec<Run> {
        use crate::eval::Step;
        let flows = &self.project.sync;
        let schema = &self.project.properties;
        let mut runs = Vec::new();
        let step = |index, action: &str, intended, skipped: Option<String>| Step {
            index,
            action: action.to_owned(),
            intended,
            // Every skipped step of a flow is a check that did not pass.
            failed: skipped.is_some(),
            skipped,
        };
        match signal {
            Signal::Created => {
                let mut steps = Vec::new();
                let missing: Vec<&String> = flows
                    .required_properties
                    .iter()
                    .filter(|p| !s.properties.contains_key(*p))
                    .collect();
                if !missing.is_empty() {
                    let names: Vec<&str> = missing.iter().map(|m| m.as_str()).collect();
                    steps.push(step(
                        0,
                        "validate_required_properties",
                        None,
                        Some(format!("missing required {}", names.join(", "))),
                    ));
                }
                let defaults: BTreeMap<String, String> = flows
                    .default_values
                    .iter()
                    .filter(|(k, _)| !s.properties.contains_key(*k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if !defaults.is_empty() {
                    steps.push(step(
                        1,
                        "write",
                        Some(Intended::Write {
                            properties: defaults,
                        }),
                        None,
                    ));
                }
                runs.push(Run {
                    workflow: CONTACT_CREATION.to_owned(),
                    trigger_value: "created".to_owned(),
                    steps,
                });
            }
            Signal::Changed {
                property,
                new: Some(value),
                ..
            } => {
                if let Some(spec) = schema.find(ObjectType::Contacts, property) {
                    if let Err(e) = spec.parse_value(value) {
                        runs.push(Run {
                            workflow: CONTACT_UPDATE.to_owned(),
                            trigger_value: format!("{property}={value}"),
                            steps: vec![step(
                                0,
                                "validate_property_changes",
                                None,
                                Some(e.to_string()),
                            )],
                        });
                    }
                }
                if property == "hubspot_owner_id" && s.has_deal {
                    runs.push(Run {
                        workflow: CONTACT_UPDATE.to_owned(),
                        trigger_value: format!("owner={value}"),
                        steps: vec![step(
                            0,
                            "update_related_deals",
                            Some(Intended::DealOwner {
                                owner: value.clone(),
                            }),
                            None,
                        )],
                    });
                }
            }
            _ => {}
        }
        runs
    }

    /// The trigger value a run's enrollment is recorded under: the run's own, made
    /// distinct per event for a workflow that re-enrolls every time (`reenrollment: always`).
    pub fn recorded_trigger_value(&self, run: &Run, event_seq: Option<i64>) -> String {
        let always = self
            .evaluator
            .workflows()
            .iter()
            .any(|w| w.key == run.workflow && w.reenrollment == Reenrollment::Always);
        match (always, event_seq) {
            (true, Some(seq)) => format!("{}@{seq}", run.trigger_value),
            _ => run.trigger_value.clone(),
        }
    }

    /// Records a run as an enrollment with its intents. Returns the intents added, or
    /// `None` when the enrollment existed.
    async fn record(
        &self,
        store: &Store,
        contact_id: &str,
        run: &Run,
        event_seq: Option<i64>,
        now: i64,
    ) -> Result<Option<usize>, EngineError> {
        let trigger_value = self.recorded_trigger_value(run, event_seq);
        let intents: Vec<NewIntent> = run
            .steps
            .iter()
            .map(|s| {
                let key = format!(
                    "{}:{contact_id}:{trigger_value}:{}:{}",
                    run.workflow, s.index, s.action
                );
                match &s.intended {
                    Some(i) => NewIntent {
                        key,
                        action: i.name().to_owned(),
                        payload: serde_json::to_string(i).unwrap_or_default(),
                        state: "pending".to_owned(),
                        note: None,
                    },
                    None => NewIntent {
                        key,
                        action: crate::eval::outbox_action(&s.action).to_owned(),
                        payload: "{}".to_owned(),
                        state: if s.failed { "dead" } else { "skipped" }.to_owned(),
                        note: s.skipped.clone(),
                    },
                }
            })
            .collect();
        let enrollment = NewEnrollment {
            workflow: run.workflow.clone(),
            contact_id: contact_id.to_owned(),
            trigger_value,
            event_seq,
            at: now,
        };
        let added = store
            .enroll(&self.portal, &enrollment, &intents)
            .await
            .map_err(st)?;
        Ok(added.then_some(intents.len()))
    }

    /// The data-sync flow `deal_creation` for a deal seen for the first time: the deal's
    /// missing properties set (amount 0, the owner of its contact), and a note when no
    /// contact is linked to it. The run's subject is the deal. The spec names no pipeline
    /// workflows, so `trigger_pipeline_workflows` has nothing to start.
    async fn deal_created(&self, store: &Store, id: &str) -> Result<Option<Run>, EngineError> {
        use crate::eval::Step;
        let Some(deal) = store
            .record(&self.portal, ObjectType::Deals, id)
            .await
            .map_err(st)?
            .filter(|d| !d.archived)
        else {
            return Ok(None);
        };
        let contacts = store
            .associated(&self.portal, ObjectType::Deals, id, ObjectType::Contacts)
            .await
            .map_err(st)?;
        // Missing here may mean only "not synced": the executor writes a value only where
        // HubSpot, read just before, holds none.
        let empty = |name: &str| deal.get(name).is_none();
        let mut properties = BTreeMap::new();
        if empty("amount") {
            properties.insert("amount".to_owned(), "0".to_owned());
        }
        if empty("hubspot_owner_id") {
            for c in &contacts {
                let owner = store
                    .record(&self.portal, ObjectType::Contacts, c)
                    .await
                    .map_err(st)?
                    .and_then(|r| r.get("hubspot_owner_id").map(str::to_owned));
                if let Some(o) = owner {
                    properties.insert("hubspot_owner_id".to_owned(), o);
                    break;
                }
            }
        }
        let mut steps = Vec::new();
        if !properties.is_empty() {
            steps.push(Step {
                index: 0,
                action: "set_deal_properties".to_owned(),
                intended: Some(Intended::DealWrite { properties }),
                skipped: None,
                failed: false,
            });
        }
        if contacts.is_empty() {
            steps.push(Step {
                index: 1,
                action: "link_to_contact".to_owned(),
                intended: None,
                skipped: Some("no contact is linked to the deal, and nothing names one".to_owned()),
                failed: false,
            });
        }
        Ok((!steps.is_empty()).then(|| Run {
            workflow: DEAL_CREATION.to_owned(),
            trigger_value: "created".to_owned(),
            steps,
        }))
    }

    async fn subject_of(&self, store: &Store, id: &str) -> Result<Option<Subject>, EngineError> {
        match store
            .record(&self.portal, ObjectType::Contacts, id)
            .await
            .map_err(st)?
        {
            Some(r) if !r.archived => Ok(Some(self.subject_from(store, &r).await?)),
            _ => Ok(None),
        }
    }

    /// A stored live contact as the evaluator sees it (with whether it has a deal).
    async fn subject_from(&self, store: &Store, r: &StoredRecord) -> Result<Subject, EngineError> {
        let has_deal = !store
            .associated(&self.portal, ObjectType::Contacts, &r.id, ObjectType::Deals)
            .await
            .map_err(st)?
            .is_empty();
        Ok(subject(r, has_deal))
    }

    /// Evaluates up to `limit` events after the engine's cursor and records what they start.
    ///
    /// # Errors
    /// [`EngineError`]; the cursor stays where it was.
    pub async fn ingest(
        &self,
        store: &Store,
        today: jiff::civil::Date,
        now: i64,
        limit: i64,
    ) -> Result<IngestReport, EngineError> {
        let after: i64 = store
            .cursor(&self.portal, CURSOR)
            .await
            .map_err(st)?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let events = store
            .events_after(&self.portal, after, limit)
            .await
            .map_err(st)?;
        let mut report = IngestReport {
            events: events.len(),
            ..IngestReport::default()
        };
        let Some(last) = events.last().map(|e| e.seq) else {
            return Ok(report);
        };
        let mut subjects: BTreeMap<String, Option<Subject>> = BTreeMap::new();
        for e in &events {
            // A backfill observes what already was; it starts nothing. Changes seen after
            // it (incremental sync, webhooks, reconciliation, imports) do.
            if e.source.starts_with("backfill") {
                continue;
            }
            if e.object_type == ObjectType::Deals.api_name() {
                if let Some(Signal::Created) = signal_of(e) {
                    if let Some(run) = self.deal_created(store, &e.object_id).await? {
                        report.count(
                            self.record(store, &e.object_id, &run, Some(e.seq), now)
                                .await?,
                        );
                    }
                }
                continue;
            }
            if e.object_type != ObjectType::Contacts.api_name() {
                continue;
            }
            let Some(signal) = signal_of(e) else { continue };
            if !subjects.contains_key(&e.object_id) {
                let s = self.subject_of(store, &e.object_id).await?;
                subjects.insert(e.object_id.clone(), s);
            }
            let Some(Some(subject)) = subjects.get(&e.object_id) else {
                continue;
            };
            for run in self.plan(&signal, subject, today) {
                report.count(
                    self.record(store, &e.object_id, &run, Some(e.seq), now)
                        .await?,
                );
            }
        }
        store
            .set_cursor(&self.portal, CURSOR, &last.to_string())
            .await
            .map_err(st)?;
        Ok(report)
    }

    /// Evaluates the time-based triggers for every contact that may be due on `today`.
    ///
    /// # Errors
    /// [`EngineError`].
    pub async fn tick(
        &self,
        store: &Store,
        today: jiff::civil::Date,
        now: i64,
    ) -> Result<IngestReport, EngineError> {
        use leadflow_config::workflows::Trigger;
        let mut report = IngestReport::default();
        for w in self.evaluator.workflows() {
            let Trigger::ValueFor {
                property,
                value,
                days,
                since,
            } = &w.trigger
            else {
                continue;
            };
            let Ok(before) = today.checked_sub(jiff::Span::new().days(i64::from(*days))) else {
                continue;
            };
            let candidates = store
                .contacts_holding(&self.portal, property, value, since, &before.to_string())
                .await
                .map_err(st)?;
            for r in candidates {
                report.events += 1;
                // The candidates are live records already: no second read.
                let s = self.subject_from(store, &r).await?;
                for run in self
                    .evaluator
                    .evaluate(&Signal::Tick, &s, today)
                    .into_iter()
                    .filter(|run| run.workflow == w.key)
                {
                    report.count(self.record(store, &r.id, &run, None, now).await?);
                }
            }
        }
        Ok(report)
    }
}
