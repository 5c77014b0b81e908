//! Carries out the outbox's intents against HubSpot, each exactly once.
//!
//! Intents are claimed in batches per action (a contact's writes coalesced into one input)
//! and sent with HubSpot's batch calls, 100 inputs each, through the client's rate governor and retries. How each action stays exactly
//! once:
//! - contact writes, deal moves and deal owners are updates: repeating one changes nothing;
//! - deals are created by batch upsert on the unique deal key property, whose value is the
//!   intent's hash, then linked with default associations (repeatable);
//! - tasks carry the hash as a marker in their body; before a task is created again after
//!   an attempt whose outcome is unknown, the contact's tasks are read (associations are
//!   read from the record, never through search, which lags) and a task with the marker
//!   settles the intent;
//! - enrollments are read from HubSpot before a second attempt, and HubSpot refuses a
//!   contact already in a sequence anyway;
//! - completed tasks the daily cleanup archives (`archive_task`, the intent's subject is
//!   the task) are read first and archived only while still completed; archiving is
//!   repeatable.
//!
//! A failure HubSpot calls temporary is retried later with backoff; anything else, or too
//! many attempts, dead-letters that intent with HubSpot's message while the others go on.

use std::collections::{BTreeMap, BTreeSet};

use leadflow_config::settings::{SequenceSender, Settings};
use leadflow_config::workflows::{ActionKind, Workflow};
use leadflow_core::ObjectType;
use leadflow_hubspot::{
    AssociationSpec, Client, InlineAssociation, ObjectId, ObjectInput, ObjectUpdate,
    PropertyValues, association_types as types,
};
use leadflow_store::{Intent, Link, OwnerRow, Settlement, Store};

use crate::eval::Intended;
use crate::run::key_hash;
use crate::{EngineError, st};

/// The deal property that makes deal creation idempotent.
pub const DEAL_KEY: &str = leadflow_config::properties::DEAL_KEY_PROPERTY;

/// The outbox action that archives a completed task (recorded by the daily cleanup in
/// `leadflow-automation`; the intent's subject is the task's id, its payload unused).
pub const ARCHIVE_TASK: &str = "archive_task";

/// Attempts before an intent is dead-lettered.
pub const MAX_ATTEMPTS: i32 = 8;

/// Intents claimed at once: several per contact coalesce into one input, and the client
/// sends 100 inputs per call.
const CLAIM: i64 = 500;

/// Seconds an attempt holds its lease; an attempt still `sending` after it was interrupted.
const LEASE_MS: i64 = 120_000;

/// What the portal's names resolve to, checked before the engine starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalMap {
    /// The deal pipeline's id.
    pub pipeline_id: String,
    /// Stage label (lower case) → stage id.
    pub stages: BTreeMap<String, String>,
    /// Sequence name (lower case) → id.
    pub sequences: BTreeMap<String, String>,
    /// The portal's owners.
    pub owners: Vec<OwnerRow>,
    /// Who sends sequence emails.
    pub sender: SequenceSender,
}

fn missing(what: &'static str, name: &str, candidates: Vec<String>) -> EngineError {
    EngineError::Missing {
        what,
        name: name.to_owned(),
        candidates,
    }
}

impl PortalMap {
    /// Resolves the pipeline, stages and sequences the workflows name from the store's
    /// reference data (`leadflow sync` reads it). A name missing from the portal refuses
    /// the start, with the candidates.
    ///
    /// # Errors
    /// [`EngineError::Missing`], or a store error.
    pub async fn load(
        store: &Store,
        portal: &str,
        settings: &Settings,
        workflows: &[Workflow],
    ) -> Result<Self, EngineError> {
        let rows = store.stages(portal, ObjectType::Deals).await.map_err(st)?;
        let pipelines: BTreeMap<String, String> = rows
            .iter()
            .map(|s| (s.pipeline_id.clone(), s.pipeline_label.clone()))
            .collect();
        let wanted = settings.pipeline.to_lowercase();
        let pipeline_id = pipelines
            .iter()
            .find(|(id, label)| id.to_lowercase() == wanted || label.to_lowercase() == wanted)
            .map(|(id, _)| id.clone())
            .ok_or_else(|| {
                missing(
                    "deal pipeline",
                    &settings.pipeline,
                    pipelines.values().cloned().collect(),
                )
            })?;
        let stages: BTreeMap<String, String> = rows
            .iter()
            .filter(|s| s.pipeline_id == pipeline_id)
            .flat_map(|s| {
                [
                    (s.label.to_lowercase(), s.stage_id.clone()),
                    (s.stage_id.to_lowercase(), s.stage_id.clone()),
                ]
            })
            .collect();
        let sequences: BTreeMap<String, String> = store
            .sequences(portal)
            .await
            .map_err(st)?
            .into_iter()
            .map(|s| (s.name.to_lowercase(), s.id))
            .collect();
        for w in workflows.iter().filter(|w| w.enabled) {
            for a in &w.actions {
                match &a.kind {
                    ActionKind::CreateDeal { stage, .. }
                    | ActionKind::UpdateDealStage { new_stage: stage } => {
                        if !stages.contains_key(&stage.to_lowercase()) {
                            return Err(missing(
                                "deal stage",
                                stage,
                                rows.iter()
                                    .filter(|s| s.pipeline_id == pipeline_id)
                                    .map(|s| s.label.clone())
                                    .collect(),
                            ));
                        }
                    }
                    ActionKind::AddToSequence { sequence } => {
                        if !sequences.contains_key(&sequence.to_lowercase()) {
                            return Err(missing(
                                "sequence",
                                sequence,
                                sequences.keys().cloned().collect(),
                            ));
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(Self {
            pipeline_id,
            stages,
            sequences,
            owners: store.owners(portal).await.map_err(st)?,
            sender: settings.sequence_sender.clone(),
        })
    }

    /// The sender of a contact's sequence emails: (email, user id).
    fn sender(&self, owner_id: Option<&str>) -> Option<(String, String)> {
        let usable = |o: &&OwnerRow| !o.archived && o.user_id.is_some() && o.email.is_some();
        let chosen = match &self.sender {
            SequenceSender::Email(e) => self.owners.iter().filter(usable).find(|o| {
                o.email
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(e))
            }),
            SequenceSender::ContactOwner => owner_id
                .and_then(|id| self.owners.iter().filter(usable).find(|o| o.id == id))
                .or_else(|| self.owners.iter().find(usable)),
        }?;
        Some((chosen.email.clone()?, chosen.user_id?.to_string()))
    }
}

/// What one execution pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecReport {
    /// Intents carried out.
    pub done: usize,
    /// Intents with nothing to do (already enrolled, no deal).
    pub skipped: usize,
    /// Intents dead-lettered.
    pub dead: usize,
    /// Intents put back for a later attempt.
    pub retried: usize,
}

enum Outcome {
    Done(serde_json::Value),
    Skip(String),
    Dead(String),
    Retry(String),
}

fn from_error(e: &leadflow_hubspot::Error) -> Outcome {
    if e.is_retryable() || matches!(e, leadflow_hubspot::Error::DailyLimitExhausted { .. }) {
        Outcome::Retry(e.to_string())
    } else {
        Outcome::Dead(e.to_string())
    }
}

fn payload(i: &Intent) -> Option<Intended> {
    serde_json::from_str(&i.payload).ok()
}

/// The executor of one portal's outbox.
#[derive(Debug)]
pub struct Executor<'a> {
    client: &'a Client,
    store: &'a Store,
    portal: &'a str,
    map: &'a PortalMap,
    /// The pass's clock (unix ms): due times, leases and the times recorded.
    now: i64,
}

impl<'a> Executor<'a> {
    /// An executor.
    pub fn new(
        client: &'a Client,
        store: &'a Store,
        portal: &'a str,
        map: &'a PortalMap,
        now: i64,
    ) -> Self {
        Self {
            client,
            store,
            portal,
            map,
            now,
        }
    }

    /// How an attempt ended, as the store records it, counted in `report`.
    fn settle(i: &Intent, outcome: Outcome, now: i64, report: &mut ExecReport) -> Settlement {
        let (state, result, note) = match outcome {
            Outcome::Done(v) => ("done", Some(v.to_string()), None),
            Outcome::Skip(why) => ("skipped", None, Some(why)),
            Outcome::Dead(why) => ("dead", None, Some(why)),
            Outcome::Retry(why) if i.attempts >= MAX_ATTEMPTS => (
                "dead",
                None,
                Some(format!("gave up after {} attempts: {why}", i.attempts)),
            ),
            Outcome::Retry(why) => {
                let wait = 1_000i64 << i.attempts.clamp(0, 8);
                report.retried += 1;
                metrics::counter!("leadflow_workflow_actions_total", "action" => i.action.clone(), "outcome" => "retried").increment(1);
                return Settlement::Retry {
                    id: i.id,
                    run_at: now + wait.min(300_000),
                    error: why,
                };
            }
        };
        match state {
            "done" => report.done += 1,
            "skipped" => report.skipped += 1,
            _ => {
                report.dead += 1;
                tracing::warn!(intent = %i.key, reason = note.as_deref().unwrap_or(""), "workflow action dead-lettered");
            }
        }
        metrics::counter!("leadflow_workflow_actions_total", "action" => i.action.clone(), "outcome" => state).increment(1);
        Settlement::Finish {
            id: i.id,
            state: state.to_owned(),
            result,
            note,
        }
    }

    /// Carries out every due intent, batch by batch, until none is due.
    ///
    /// # Errors
    /// A store error (HubSpot's failures settle intents instead).
    pub async fn run(&self) -> Result<ExecReport, EngineError> {
        let now = self.now;
        let mut report = ExecReport::default();
        for action in [
            "write",
            "create_deal",
            "create_task",
            "enroll",
            "move_deal",
            "deal_owner",
            "deal_write",
            ARCHIVE_TASK,
        ] {
            loop {
                let batch = self
                    .store
                    .claim_intents(self.portal, action, now, LEASE_MS, CLAIM)
                    .await
                    .map_err(st)?;
                if batch.is_empty() {
                    break;
                }
                let outcomes = match action {
                    "write" => self.writes(&batch).await?,
                    "create_deal" => self.deals(&batch).await?,
                    "create_task" => self.tasks(&batch).await?,
                    "enroll" => self.enrollments(&batch).await?,
                    "deal_write" => self.deal_writes(&batch).await?,
                    ARCHIVE_TASK => self.archive_tasks(&batch).await?,
                    _ => self.deal_updates(&batch).await?,
                };
                let settled: Vec<Settlement> = batch
                    .iter()
                    .zip(outcomes)
                    .map(|(i, o)| Self::settle(i, o, now, &mut report))
                    .collect();
                self.store.settle_intents(&settled).await.map_err(st)?;
            }
        }
        Ok(report)
    }

    /// The stored contact's owner.
    async fn owner_of(&self, contact_id: &str) -> Result<Option<String>, EngineError> {
        Ok(self
            .store
            .record(self.portal, ObjectType::Contacts, contact_id)
            .await
            .map_err(st)?
            .and_then(|r| r.get("hubspot_owner_id").map(str::to_owned)))
    }

    /// Contact writes, one update per contact (a later intent's values win).
    async fn writes(&self, batch: &[Intent]) -> Result<Vec<Outcome>, EngineError> {
        let mut per_contact: BTreeMap<&str, PropertyValues> = BTreeMap::new();
        for i in batch {
            if let Some(Intended::Write { properties }) = payload(i) {
                per_contact
                    .entry(i.contact_id.as_str())
                    .or_default()
                    .extend(properties);
            }
        }
        let inputs: Vec<ObjectUpdate> = per_contact
            .iter()
            .map(|(id, props)| ObjectUpdate {
                id: (*id).to_owned(),
                id_property: None,
                properties: props.clone(),
                object_write_trace_id: None,
            })
            .collect();
        let ids: Vec<String> = per_contact.keys().map(|s| (*s).to_owned()).collect();
        let by_id = self.update(ObjectType::Contacts, inputs, &ids).await;
        Ok(batch
            .iter()
            .map(|i| match payload(i) {
                None => Outcome::Dead("the intent's payload cannot be read".to_owned()),
                Some(_) => by_id(&i.contact_id),
            })
            .collect())
    }

    /// Sends updates and tells each id's outcome.
    async fn update(
        &self,
        t: ObjectType,
        inputs: Vec<ObjectUpdate>,
        ids: &[String],
    ) -> impl Fn(&str) -> Outcome + use<> {
        let mut outcomes: BTreeMap<String, Result<serde_json::Value, (bool, String)>> =
            BTreeMap::new();
        match self.client.objects(t).batch_update(inputs).await {
            Err(e) => {
                let retry = matches!(from_error(&e), Outcome::Retry(_));
                for id in ids {
                    outcomes.insert(id.clone(), Err((retry, e.to_string())));
                }
            }
            Ok(o) => {
                for r in &o.results {
                    outcomes.insert(r.id.clone(), Ok(serde_json::json!({ "id": r.id })));
                }
                for e in &o.errors {
                    for id in e.context.get("ids").into_iter().flatten() {
                        outcomes.insert(id.clone(), Err((false, e.to_string())));
                    }
                }
                for c in &o.failed_chunks {
                    let retry = matches!(from_error(&c.error), Outcome::Retry(_));
                    for id in &ids[c.inputs.clone()] {
                        outcomes.insert(id.clone(), Err((retry, c.error.to_string())));
                    }
                }
            }
        }
        move |id: &str| match outcomes.get(id) {
            Some(Ok(v)) => Outcome::Done(v.clone()),
            Some(Err((true, e))) => Outcome::Retry(e.clone()),
            Some(Err((false, e))) => Outcome::Dead(e.clone()),
            None => Outcome::Retry("HubSpot did not answer for this record".to_owned()),
        }
    }

    /// Deals: batch upsert on the deal key, then links to the contact and its companies.
    async fn deals(&self, batch: &[Intent]) -> Result<Vec<Outcome>, EngineError> {
        let mut inputs = Vec::new();
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(batch.len());
        for i in batch {
            let Some(Intended::CreateDeal {
                name,
                stage,
                amount,
            }) = payload(i)
            else {
                outcomes.push(Some(Outcome::Dead(
                    "the intent's payload cannot be read".into(),
                )));
                continue;
            };
            let Some(stage_id) = self.map.stages.get(&stage.to_lowercase()) else {
                outcomes.push(Some(Outcome::Dead(format!(
                    "no deal stage {stage:?} in the pipeline"
                ))));
                continue;
            };
            let owner = self.owner_of(&i.contact_id).await?;
            let mut props = PropertyValues::from([
                ("dealname".to_owned(), name),
                ("amount".to_owned(), amount),
                ("pipeline".to_owned(), self.map.pipeline_id.clone()),
                ("dealstage".to_owned(), stage_id.clone()),
            ]);
            if let Some(owner) = &owner {
                props.insert("hubspot_owner_id".into(), owner.clone());
            }
            inputs.push((key_hash(&i.key), props));
            outcomes.push(None);
        }
        if inputs.is_empty() {
            return Ok(outcomes
                .into_iter()
                .map(|o| o.unwrap_or(Outcome::Dead(String::new())))
                .collect());
        }
        let keys: Vec<String> = inputs.iter().map(|(k, _)| k.clone()).collect();
        let mut deal_of: BTreeMap<String, String> = BTreeMap::new();
        let mut failure: BTreeMap<String, Outcome> = BTreeMap::new();
        match self
            .client
            .objects(ObjectType::Deals)
            .batch_upsert(DEAL_KEY, inputs)
            .await
        {
            Err(e) => {
                for k in &keys {
                    failure.insert(k.clone(), from_error(&e));
                }
            }
            Ok(o) => {
                for r in &o.results {
                    if let Some(k) = r.get(DEAL_KEY) {
                        deal_of.insert(k.to_owned(), r.id.clone());
                    }
                }
                for c in &o.failed_chunks {
                    for k in &keys[c.inputs.clone()] {
                        failure.insert(k.clone(), from_error(&c.error));
                    }
                }
                for e in &o.errors {
                    for k in e.context.values().flatten() {
                        if keys.contains(k) {
                            failure.insert(k.clone(), Outcome::Dead(e.to_string()));
                        }
                    }
                }
            }
        }
        // Link every created deal to its contact and the contact's companies.
        let mut contact_links = Vec::new();
        let mut company_links = Vec::new();
        for i in batch {
            if let Some(deal) = deal_of.get(&key_hash(&i.key)) {
                contact_links.push((deal.clone(), i.contact_id.clone()));
                for company in self
                    .store
                    .associated(
                        self.portal,
                        ObjectType::Contacts,
                        &i.contact_id,
                        ObjectType::Companies,
                    )
                    .await
                    .map_err(st)?
                {
                    company_links.push((deal.clone(), company));
                }
            }
        }
        let link_failure = self
            .link(ObjectType::Deals, ObjectType::Contacts, &contact_links)
            .await
            .or(self
                .link(ObjectType::Deals, ObjectType::Companies, &company_links)
                .await);
        for (deal, contact) in &contact_links {
            let link = Link {
                from_id: contact.clone(),
                to_id: deal.clone(),
                type_id: types::CONTACT_TO_DEAL as i32,
            };
            self.store
                .set_association(
                    self.portal,
                    (ObjectType::Contacts, ObjectType::Deals),
                    &link,
                    true,
                    self.now,
                    "engine",
                )
                .await
                .map_err(st)?;
        }
        Ok(batch
            .iter()
            .zip(outcomes)
            .map(|(i, o)| {
                if let Some(o) = o {
                    return o;
                }
                let k = key_hash(&i.key);
                if let Some(f) = failure.remove(&k) {
                    return f;
                }
                match (deal_of.get(&k), &link_failure) {
                    (Some(_), Some(e)) => {
                        Outcome::Retry(format!("the deal exists; linking it failed: {e}"))
                    }
                    (Some(deal), None) => Outcome::Done(serde_json::json!({ "deal": deal })),
                    (None, _) => Outcome::Retry("HubSpot did not answer for this deal".into()),
                }
            })
            .collect())
    }

    /// Links pairs with the default type; the error of a failed call, if any.
    async fn link(
        &self,
        from: ObjectType,
        to: ObjectType,
        pairs: &[(String, String)],
    ) -> Option<String> {
        if pairs.is_empty() {
            return None;
        }
        match self
            .client
            .associations(from, to)
            .batch_associate_default(pairs)
            .await
        {
            Err(e) => Some(e.to_string()),
            Ok(o) => o.failed_chunks.first().map(|c| c.error.to_string()),
        }
    }

    /// Tasks that carry the marker, among the contact's tasks: (marker → task id).
    async fn existing_tasks(
        &self,
        contact_id: &str,
    ) -> Result<BTreeMap<String, String>, leadflow_hubspot::Error> {
        let linked = self
            .client
            .associations(ObjectType::Contacts, ObjectType::Tasks)
            .of(contact_id)
            .await?;
        let ids: Vec<String> = linked.into_iter().map(|l| l.to_object_id).collect();
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let read = self
            .client
            .objects(ObjectType::Tasks)
            .batch_read(&ids, &["hs_task_body".to_owned()], None)
            .await?;
        Ok(read
            .results
            .iter()
            .filter_map(|t| {
                let body = t.get("hs_task_body")?;
                let marker = body.rsplit("leadflow:").next()?.trim().to_owned();
                Some((marker, t.id.clone()))
            })
            .collect())
    }

    /// Tasks: created once each; a retry after an unknown outcome reads first.
    async fn tasks(&self, batch: &[Intent]) -> Result<Vec<Outcome>, EngineError> {
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(batch.len());
        let mut inputs = Vec::new();
        let mut marker_of = Vec::new();
        for i in batch {
            let Some(Intended::CreateTask { subject, body, due }) = payload(i) else {
                outcomes.push(Some(Outcome::Dead(
                    "the intent's payload cannot be read".into(),
                )));
                continue;
            };
            let marker = key_hash(&i.key);
            if i.attempts > 1 || i.interrupted {
                match self.existing_tasks(&i.contact_id).await {
                    Ok(found) => {
                        if let Some(id) = found.get(&marker) {
                            outcomes.push(Some(Outcome::Done(serde_json::json!({ "task": id }))));
                            continue;
                        }
                    }
                    Err(e) => {
                        outcomes.push(Some(from_error(&e)));
                        continue;
                    }
                }
            }
            let Some(day) = leadflow_config::values::parse_date(&due) else {
                outcomes.push(Some(Outcome::Dead(format!(
                    "due date {due:?} is not a date"
                ))));
                continue;
            };
            let due_ms = day
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(0);
            let owner = self.owner_of(&i.contact_id).await?;
            let mut props = PropertyValues::from([
                ("hs_task_subject".to_owned(), subject),
                (
                    "hs_task_body".to_owned(),
                    format!("{body}\n\nleadflow:{marker}"),
                ),
                ("hs_timestamp".to_owned(), due_ms.to_string()),
                ("hs_task_status".to_owned(), "NOT_STARTED".to_owned()),
            ]);
            if let Some(owner) = &owner {
                props.insert("hubspot_owner_id".into(), owner.clone());
            }
            inputs.push(ObjectInput {
                properties: props,
                associations: vec![InlineAssociation {
                    to: ObjectId::from(i.contact_id.as_str()),
                    types: vec![AssociationSpec::hubspot(types::TASK_TO_CONTACT)],
                }],
                object_write_trace_id: Some(marker.clone()),
            });
            marker_of.push(marker);
            outcomes.push(None);
        }
        let mut created: BTreeMap<String, String> = BTreeMap::new();
        let mut failure: BTreeMap<String, Outcome> = BTreeMap::new();
        if !inputs.is_empty() {
            match self
                .client
                .objects(ObjectType::Tasks)
                .batch_create(inputs)
                .await
            {
                Err(e) => {
                    for m in &marker_of {
                        failure.insert(m.clone(), from_error(&e));
                    }
                }
                Ok(o) => {
                    for t in &o.results {
                        if let Some(m) = t
                            .get("hs_task_body")
                            .and_then(|b| b.rsplit("leadflow:").next())
                        {
                            created.insert(m.trim().to_owned(), t.id.clone());
                        }
                    }
                    for c in &o.failed_chunks {
                        for m in &marker_of[c.inputs.clone()] {
                            // A timeout or 5xx leaves the outcome unknown: the retry reads first.
                            failure.insert(m.clone(), from_error(&c.error));
                        }
                    }
                    for e in &o.errors {
                        for m in e.context.values().flatten() {
                            failure.insert(m.clone(), Outcome::Dead(e.to_string()));
                        }
                    }
                }
            }
        }
        Ok(batch
            .iter()
            .zip(outcomes)
            .map(|(i, o)| {
                o.unwrap_or_else(|| {
                    let m = key_hash(&i.key);
                    if let Some(id) = created.get(&m) {
                        Outcome::Done(serde_json::json!({ "task": id }))
                    } else {
                        failure.remove(&m).unwrap_or_else(|| {
                            Outcome::Retry("HubSpot did not answer for this task".into())
                        })
                    }
                })
            })
            .collect())
    }

    /// Enrollments, one call each (HubSpot has no batch enrollment).
    async fn enrollments(&self, batch: &[Intent]) -> Result<Vec<Outcome>, EngineError> {
        let mut out = Vec::with_capacity(batch.len());
        for i in batch {
            let Some(Intended::Enroll { sequence }) = payload(i) else {
                out.push(Outcome::Dead("the intent's payload cannot be read".into()));
                continue;
            };
            let Some(sequence_id) = self.map.sequences.get(&sequence.to_lowercase()).cloned()
            else {
                out.push(Outcome::Dead(format!(
                    "no sequence {sequence:?} in the portal"
                )));
                continue;
            };
            let known: BTreeSet<String> = self
                .store
                .enrollments_of(self.portal, &i.contact_id)
                .await
                .map_err(st)?
                .into_iter()
                .collect();
            if known.contains(&sequence_id) {
                out.push(Outcome::Skip(format!("already enrolled in {sequence:?}")));
                continue;
            }
            if i.attempts > 1 || i.interrupted {
                match self.client.enrollment_of_contact(&i.contact_id).await {
                    Ok(Some(e)) if e.sequence_id.as_deref() == Some(sequence_id.as_str()) => {
                        self.remember(i, &sequence_id, Some(&e.id)).await?;
                        out.push(Outcome::Done(serde_json::json!({ "enrollment": e.id })));
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        out.push(from_error(&e));
                        continue;
                    }
                }
            }
            let owner = self.owner_of(&i.contact_id).await?;
            let Some((sender_email, user_id)) = self.map.sender(owner.as_deref()) else {
                out.push(Outcome::Dead(
                    "no sender: no owner with a HubSpot user and an email (set sequences.sender in leadflow.yaml)".into(),
                ));
                continue;
            };
            let request = leadflow_hubspot::EnrollmentRequest {
                contact_id: i.contact_id.clone(),
                sequence_id: sequence_id.clone(),
                sender_email,
                user_id,
            };
            out.push(match self.client.enroll(&request).await {
                Ok(e) => {
                    self.remember(i, &sequence_id, Some(&e.id)).await?;
                    Outcome::Done(serde_json::json!({ "enrollment": e.id }))
                }
                Err(e) if e.is_already_enrolled() => {
                    self.remember(i, &sequence_id, None).await?;
                    Outcome::Skip(format!("already enrolled in a sequence: {e}"))
                }
                Err(e) => from_error(&e),
            });
        }
        Ok(out)
    }

    async fn remember(
        &self,
        i: &Intent,
        sequence_id: &str,
        enrollment: Option<&str>,
    ) -> Result<(), EngineError> {
        self.store
            .record_enrollment(
                self.portal,
                &i.contact_id,
                sequence_id,
                enrollment,
                self.now,
                "engine",
            )
            .await
            .map_err(st)?;
        Ok(())
    }

    /// Defaults for the deal a run is about (its id is the intent's subject): written only
    /// where HubSpot, read first, holds no value, so a value set elsewhere is never replaced.
    async fn deal_writes(&self, batch: &[Intent]) -> Result<Vec<Outcome>, EngineError> {
        let mut per_deal: BTreeMap<&str, PropertyValues> = BTreeMap::new();
        for i in batch {
            if let Some(Intended::DealWrite { properties }) = payload(i) {
                per_deal
                    .entry(i.contact_id.as_str())
                    .or_default()
                    .extend(properties);
            }
        }
        let names: Vec<String> = per_deal
            .values()
            .flat_map(|p| p.keys().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let wanted: Vec<String> = per_deal.keys().map(|s| (*s).to_owned()).collect();
        let current = match self
            .client
            .objects(ObjectType::Deals)
            .batch_read(&wanted, &names, None)
            .await
            .and_then(leadflow_hubspot::BatchOutcome::require_all_chunks)
        {
            Ok(o) => o.results,
            Err(e) => return Ok(batch.iter().map(|_| from_error(&e)).collect()),
        };
        let held: BTreeMap<&str, &leadflow_hubspot::CrmObject> =
            current.iter().map(|d| (d.id.as_str(), d)).collect();
        for (id, props) in &mut per_deal {
            match held.get(id) {
                Some(d) => props.retain(|k, _| d.get(k).is_none()),
                // Gone since: nothing to write.
                None => props.clear(),
            }
        }
        per_deal.retain(|_, p| !p.is_empty());
        if per_deal.is_empty() {
            return Ok(batch
                .iter()
                .map(|_| Outcome::Done(serde_json::json!({ "written": {} })))
                .collect());
        }
        let ids: Vec<String> = per_deal.keys().map(|s| (*s).to_owned()).collect();
        let inputs = per_deal
            .into_iter()
            .map(|(id, properties)| ObjectUpdate {
                id: id.to_owned(),
                id_property: None,
                properties,
                object_write_trace_id: None,
            })
            .collect();
        let by_id = self.update(ObjectType::Deals, inputs, &ids).await;
        Ok(batch
            .iter()
            .map(|i| match payload(i) {
                Some(Intended::DealWrite { .. }) if ids.contains(&i.contact_id) => {
                    by_id(&i.contact_id)
                }
                Some(Intended::DealWrite { .. }) => {
                    Outcome::Done(serde_json::json!({ "written": {} }))
                }
                _ => Outcome::Dead("the intent's payload cannot be read".to_owned()),
            })
            .collect())
    }

    /// Deal stage moves and deal owners: updates of the contact's deals.
    async fn deal_updates(&self, batch: &[Intent]) -> Result<Vec<Outcome>, EngineError> {
        let mut per_deal: BTreeMap<String, PropertyValues> = BTreeMap::new();
        let mut deals_of: Vec<Result<Vec<String>, Outcome>> = Vec::with_capacity(batch.len());
        for i in batch {
            let props = match payload(i) {
                Some(Intended::MoveDeal { stage }) => {
                    match self.map.stages.get(&stage.to_lowercase()) {
                        Some(id) => PropertyValues::from([("dealstage".to_owned(), id.clone())]),
                        None => {
                            deals_of.push(Err(Outcome::Dead(format!(
                                "no deal stage {stage:?} in the pipeline"
                            ))));
                            continue;
                        }
                    }
                }
                Some(Intended::DealOwner { owner }) => {
                    PropertyValues::from([("hubspot_owner_id".to_owned(), owner)])
                }
                _ => {
                    deals_of.push(Err(Outcome::Dead(
                        "the intent's payload cannot be read".into(),
                    )));
                    continue;
                }
            };
            let deals = self
                .store
                .associated(
                    self.portal,
                    ObjectType::Contacts,
                    &i.contact_id,
                    ObjectType::Deals,
                )
                .await
                .map_err(st)?;
            if deals.is_empty() {
                deals_of.push(Err(Outcome::Skip("the contact has no deal".into())));
                continue;
            }
            for d in &deals {
                per_deal.entry(d.clone()).or_default().extend(props.clone());
            }
            deals_of.push(Ok(deals));
        }
        let ids: Vec<String> = per_deal.keys().cloned().collect();
        let inputs = per_deal
            .into_iter()
            .map(|(id, properties)| ObjectUpdate {
                id,
                id_property: None,
                properties,
                object_write_trace_id: None,
            })
            .collect();
        let by_id = if ids.is_empty() {
            None
        } else {
            Some(self.update(ObjectType::Deals, inputs, &ids).await)
        };
        Ok(deals_of
            .into_iter()
            .map(|d| match (d, &by_id) {
                (Err(o), _) => o,
                (Ok(deals), Some(by_id)) => {
                    let mut outcome = Outcome::Done(serde_json::json!({ "deals": deals }));
                    for id in &deals {
                        match by_id(id) {
                            Outcome::Done(_) => {}
                            other => outcome = other,
                        }
                    }
                    outcome
                }
                (Ok(_), None) => Outcome::Retry("nothing was sent".into()),
            })
            .collect())
    }

    /// Completed tasks archived (the daily cleanup; each intent's subject is a task id).
    /// HubSpot is read first and only tasks it still shows completed are archived, so a
    /// task reopened since the store saw it survives; archived ones are marked gone in the
    /// store. Archiving is repeatable, so a retry after an unknown outcome is safe.
    async fn archive_tasks(&self, batch: &[Intent]) -> Result<Vec<Outcome>, EngineError> {
        let ids: Vec<String> = batch
            .iter()
            .map(|i| i.contact_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let read = match self
            .client
            .objects(ObjectType::Tasks)
            .batch_read(&ids, &["hs_task_status".to_owned()], None)
            .await
            .and_then(leadflow_hubspot::BatchOutcome::require_all_chunks)
        {
            Ok(o) => o.results,
            Err(e) => return Ok(batch.iter().map(|_| from_error(&e)).collect()),
        };
        let status: BTreeMap<&str, Option<&str>> = read
            .iter()
            .map(|t| (t.id.as_str(), t.get("hs_task_status")))
            .collect();
        let completed: Vec<String> = ids
            .iter()
            .filter(|id| status.get(id.as_str()).copied().flatten() == Some("COMPLETED"))
            .cloned()
            .collect();
        let archived = if completed.is_empty() {
            Ok(())
        } else {
            self.client
                .objects(ObjectType::Tasks)
                .batch_archive(&completed)
                .await
        };
        if archived.is_ok() && !completed.is_empty() {
            let gone: Vec<leadflow_store::Gone> = completed
                .iter()
                .map(|id| leadflow_store::Gone {
                    id: id.clone(),
                    at: self.now,
                    merged_into: None,
                })
                .collect();
            self.store
                .mark_gone(self.portal, ObjectType::Tasks, &gone, "engine")
                .await
                .map_err(st)?;
        }
        Ok(batch
            .iter()
            .map(|i| match status.get(i.contact_id.as_str()) {
                None => Outcome::Skip("the task is gone from HubSpot already".to_owned()),
                Some(Some("COMPLETED")) => match &archived {
                    Ok(()) => Outcome::Done(serde_json::json!({ "archived": i.contact_id })),
                    Err(e) => from_error(e),
                },
                Some(s) => Outcome::Skip(format!(
                    "the task is not completed in HubSpot (status {}): not archived",
                    s.unwrap_or("none")
                )),
            })
            .collect())
    }
}
