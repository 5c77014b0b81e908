//! `leadflow workflows simulate`: a dry run over the store. Stored events (within
//! `--since`, backfills excepted, as the engine skips them) are replayed and the
//! time-based triggers checked, through the engine's pure evaluation, against the contacts
//! as stored now. Nothing is written, neither to the store nor to HubSpot.
//!
//! Runs whose enrollment the store already holds are counted as "already enrolled", not
//! as new; the rest are counted per action with the API calls the executor would make.

use std::collections::{BTreeMap, BTreeSet};

use leadflow_config::workflows::Trigger;
use leadflow_core::ObjectType;
use leadflow_engine::run::{CONTACT_CREATION, CONTACT_UPDATE, signal_of, subject};
use leadflow_engine::{Engine, Intended, Run, Signal, Subject};
use leadflow_store::Store;
use serde::Serialize;

/// Events read per query.
const PAGE: i64 = 5_000;

/// Contacts per batch call (writes, deal upserts and links, tasks, deal updates).
const BATCH: usize = 100;

/// What one workflow would do.
#[derive(Clone, Debug, Default, Serialize)]
pub(super) struct WorkflowSimulation {
    pub(super) workflow: String,
    pub(super) name: String,
    /// Contacts that would enroll (new enrollments).
    pub(super) contacts: usize,
    /// New enrollments (a contact may enroll on several trigger values).
    pub(super) enrollments: usize,
    /// Runs whose enrollment the store already holds: nothing new would happen.
    pub(super) already_enrolled: usize,
    /// Contacts among them.
    pub(super) already_enrolled_contacts: usize,
    pub(super) actions: ActionCounts,
    /// Skipped actions: `action: reason` → how many.
    pub(super) skipped: BTreeMap<String, usize>,
    /// Estimated HubSpot calls, batched as the executor batches.
    pub(super) api_calls: usize,
    #[serde(skip)]
    new_contacts: BTreeSet<String>,
    #[serde(skip)]
    old_contacts: BTreeSet<String>,
    #[serde(skip)]
    write_contacts: BTreeSet<String>,
}

/// Intended actions, per kind.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub(super) struct ActionCounts {
    /// Contact property writes (one per run, coalesced).
    pub(super) writes: usize,
    pub(super) deals: usize,
    pub(super) tasks: usize,
    /// Sequence enrollments.
    pub(super) sequence_enrollments: usize,
    pub(super) deal_moves: usize,
    pub(super) deal_owners: usize,
}

impl ActionCounts {
    fn add(&mut self, i: &Intended) {
        match i {
            Intended::Write { .. } => self.writes += 1,
            Intended::CreateDeal { .. } => self.deals += 1,
            Intended::CreateTask { .. } => self.tasks += 1,
            Intended::Enroll { .. } => self.sequence_enrollments += 1,
            Intended::MoveDeal { .. } => self.deal_moves += 1,
            // Deal updates: owners carried over, and (for new deals, never replayed here)
            // the deal-creation flow's writes.
            Intended::DealOwner { .. } | Intended::DealWrite { .. } => self.deal_owners += 1,
        }
    }

    fn sum(&mut self, o: &Self) {
        self.writes += o.writes;
        self.deals += o.deals;
        self.tasks += o.tasks;
        self.sequence_enrollments += o.sequence_enrollments;
        self.deal_moves += o.deal_moves;
        self.deal_owners += o.deal_owners;
    }

    /// The calls the executor makes: writes by 100 contacts (a contact's writes coalesce
    /// into one input), tasks, deal moves and owners by 100; deals by 100 plus one link
    /// call per 100; sequence enrollments one call each.
    pub(super) fn batched_calls(&self, write_contacts: usize) -> usize {
        let b = |n: usize| n.div_ceil(BATCH);
        b(write_contacts)
            + 2 * b(self.deals)
            + b(self.tasks)
            + self.sequence_enrollments
            + b(self.deal_moves)
            + b(self.deal_owners)
    }

    /// The calls with one call per action (a deal: its creation and its link).
    pub(super) fn unbatched_calls(&self) -> usize {
        self.writes
            + 2 * self.deals
            + self.tasks
            + self.sequence_enrollments
            + self.deal_moves
            + self.deal_owners
    }
}

/// The whole dry run.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Simulation {
    /// Events from this instant on were replayed (RFC 3339).
    pub(super) since: String,
    /// The day the evaluation takes as today.
    pub(super) today: String,
    /// Events replayed (contacts, backfills excepted, within `since`).
    pub(super) events: usize,
    /// Contacts the time-based triggers were checked for.
    pub(super) time_based_candidates: usize,
    pub(super) workflows: Vec<WorkflowSimulation>,
    /// Every workflow together: the executor batches across workflows.
    pub(super) total: ActionCounts,
    pub(super) total_api_calls: usize,
    /// The same actions with one call each.
    pub(super) unbatched_api_calls: usize,
}

/// Replays and counts.
struct Sim<'a> {
    engine: &'a Engine,
    store: &'a Store,
    portal: &'a str,
    only: Option<&'a str>,
    subjects: BTreeMap<String, Option<Subject>>,
    enrolled: BTreeMap<String, BTreeSet<(String, String)>>,
    seen: BTreeSet<(String, String, String)>,
    out: BTreeMap<String, WorkflowSimulation>,
    write_contacts: BTreeSet<String>,
}

impl Sim<'_> {
    async fn subject(&mut self, id: &str) -> anyhow::Result<Option<Subject>> {
        if let Some(s) = self.subjects.get(id) {
            return Ok(s.clone());
        }
        let s = match self
            .store
            .record(self.portal, ObjectType::Contacts, id)
            .await?
        {
            Some(r) if !r.archived => {
                let deals = self
                    .store
                    .associated(self.portal, ObjectType::Contacts, id, ObjectType::Deals)
                    .await?;
                Some(subject(&r, !deals.is_empty()))
            }
            _ => None,
        };
        self.subjects.insert(id.to_owned(), s.clone());
        Ok(s)
    }

    async fn account(&mut self, contact: &str, run: &Run, seq: Option<i64>) -> anyhow::Result<()> {
        if self.only.is_some_and(|w| w != run.workflow) {
            return Ok(());
        }
        let trigger = self.engine.recorded_trigger_value(run, seq);
        // The engine enrolls once per (workflow, contact, trigger value): a replayed
        // duplicate is not a second run.
        if !self
            .seen
            .insert((run.workflow.clone(), contact.to_owned(), trigger.clone()))
        {
            return Ok(());
        }
        if !self.enrolled.contains_key(contact) {
            let rows = self
                .store
                .workflow_enrollments_of(self.portal, contact)
                .await?;
            self.enrolled.insert(
                contact.to_owned(),
                rows.into_iter()
                    .map(|r| (r.workflow, r.trigger_value))
                    .collect(),
            );
        }
        let already = self
            .enrolled
            .get(contact)
            .is_some_and(|e| e.contains(&(run.workflow.clone(), trigger)));
        let w = self.out.entry(run.workflow.clone()).or_default();
        if already {
            w.already_enrolled += 1;
            w.old_contacts.insert(contact.to_owned());
            return Ok(());
        }
        w.enrollments += 1;
        w.new_contacts.insert(contact.to_owned());
        for s in &run.steps {
            match (&s.intended, &s.skipped) {
                (Some(i), _) => {
                    if let Intended::Write { .. } = i {
                        w.write_contacts.insert(contact.to_owned());
                        self.write_contacts.insert(contact.to_owned());
                    }
                    w.actions.add(i);
                }
                (None, reason) => {
                    let why = format!("{}: {}", s.action, reason.as_deref().unwrap_or("skipped"));
                    *w.skipped.entry(why).or_default() += 1;
                }
            }
        }
        Ok(())
    }
}

/// The keys `--workflow` may name: the enabled workflows' and the data-sync flows'.
pub(super) fn workflow_key(engine: &Engine, given: &str) -> Result<String, String> {
    let workflows = engine.evaluator().workflows();
    if let Some(w) = workflows
        .iter()
        .find(|w| w.key == given || w.name.eq_ignore_ascii_case(given))
    {
        return Ok(w.key.clone());
    }
    for key in [CONTACT_CREATION, CONTACT_UPDATE] {
        if given == key || Some(given) == key.strip_prefix("data_sync.") {
            return Ok(key.to_owned());
        }
    }
    let mut keys: Vec<String> = workflows.iter().map(|w| w.key.clone()).collect();
    keys.extend([CONTACT_CREATION.to_owned(), CONTACT_UPDATE.to_owned()]);
    Err(format!(
        "no enabled workflow {given:?}; the workflows are: {}",
        keys.join(", ")
    ))
}

fn display_name(engine: &Engine, key: &str) -> String {
    engine
        .evaluator()
        .workflows()
        .iter()
        .find(|w| w.key == key)
        .map(|w| w.name.clone())
        .unwrap_or_else(|| match key.strip_prefix("data_sync.") {
            Some(flow) => format!("Data sync: {}", flow.replace('_', " ")),
            None => key.to_owned(),
        })
}

/// Replays the events after `since_ms` and checks the time-based triggers on `today`.
///
/// # Errors
/// A store error.
pub(super) async fn simulate(
    engine: &Engine,
    store: &Store,
    portal: &str,
    only: Option<&str>,
    since_ms: i64,
    today: jiff::civil::Date,
) -> anyhow::Result<Simulation> {
    let mut sim = Sim {
        engine,
        store,
        portal,
        only,
        subjects: BTreeMap::new(),
        enrolled: BTreeMap::new(),
        seen: BTreeSet::new(),
        out: BTreeMap::new(),
        write_contacts: BTreeSet::new(),
    };
    let mut events = 0;
    let mut after = 0;
    loop {
        let page = store.events_after(portal, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            if e.object_type != ObjectType::Contacts.api_name()
                || e.source.starts_with("backfill")
                || e.occurred_at < since_ms
            {
                continue;
            }
            let Some(signal) = signal_of(e) else { continue };
            events += 1;
            let Some(s) = sim.subject(&e.object_id).await? else {
                continue;
            };
            for run in engine.plan(&signal, &s, today) {
                sim.account(&e.object_id, &run, Some(e.seq)).await?;
            }
        }
    }
    // The daily check of time-based triggers, as `Engine::tick` makes it.
    let mut candidates = 0;
    for w in engine.evaluator().workflows() {
        let Trigger::ValueFor {
            property,
            value,
            days,
            since,
        } = &w.trigger
        else {
            continue;
        };
        if only.is_some_and(|o| o != w.key) {
            continue;
        }
        let Ok(before) = today.checked_sub(jiff::Span::new().days(i64::from(*days))) else {
            continue;
        };
        let due = store
            .contacts_holding(portal, property, value, since, &before.to_string())
            .await?;
        for r in due {
            candidates += 1;
            let Some(s) = sim.subject(&r.id).await? else {
                continue;
            };
            for run in engine
                .evaluator()
                .evaluate(&Signal::Tick, &s, today)
                .into_iter()
                .filter(|run| run.workflow == w.key)
            {
                sim.account(&r.id, &run, None).await?;
            }
        }
    }
    let mut total = ActionCounts::default();
    let mut workflows = Vec::new();
    for (key, mut w) in std::mem::take(&mut sim.out) {
        w.name = display_name(engine, &key);
        w.workflow = key;
        w.contacts = w.new_contacts.len();
        w.already_enrolled_contacts = w.old_contacts.len();
        w.api_calls = w.actions.batched_calls(w.write_contacts.len());
        total.sum(&w.actions);
        workflows.push(w);
    }
    // Config order: the data-sync flows, then the workflows as written.
    let order = |k: &str| {
        engine
            .evaluator()
            .workflows()
            .iter()
            .position(|w| w.key == k)
            .map_or(0, |p| p + 1)
    };
    workflows.sort_by_key(|w| (order(&w.workflow), w.workflow.clone()));
    Ok(Simulation {
        since: jiff::Timestamp::from_millisecond(since_ms)
            .and_then(|t| t.round(jiff::Unit::Second))
            .map_or_else(|_| since_ms.to_string(), |t| t.to_string()),
        today: today.to_string(),
        events,
        time_based_candidates: candidates,
        workflows,
        total_api_calls: total.batched_calls(sim.write_contacts.len()),
        unbatched_api_calls: total.unbatched_calls(),
        total,
    })
}
