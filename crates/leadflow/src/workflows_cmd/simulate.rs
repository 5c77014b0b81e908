//! `leadflow workflows simulate`: a dry run over the store. Stored events (within
//! `--since`, backfills excepted, as the engine skips them) are replayed and the
//! time-based triggers checked, through the engine's pure evaluation, against the contacts
//! as stored now. Nothing is written, neither to the store nor to HubSpot.
//!
//! Runs whose enrollment the store already holds are counted as "already enrolled", not
//! as new; the rest are counted per action with the API calls the executor would make.
//!
//! **Design: one pass in contact id order, memory one page deep.** The live contacts are
//! read by keyset in pages of 10,000 (id and properties JSON). For the span of ids a page
//! covers (after the previous page's last id, up to its own), one query each reads the
//! contacts' events in the window (grouped by contact, oldest first), which of them have a
//! deal, their enrollments, and, per time-based workflow, which of them are due; a last
//! query reads the events of ids after the last live contact (gone contacts: counted, not
//! evaluated). Every read is an index range scan, so the pass is O(contacts + events),
//! with ~5 queries per 10,000 contacts instead of 3 per contact. Everything about a contact
//! lies in one page, so the duplicate check (once per workflow, contact and trigger
//! value) and the distinct-contact counts are kept per page and summed: memory does not
//! grow with the portal. A contact's properties are parsed only when an event or a due
//! check needs them. Within a contact, events replay in the order they were observed, and
//! the daily check comes after them, as in `Engine::ingest` then `Engine::tick`.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Context;
use leadflow_config::workflows::Trigger;
use leadflow_core::ObjectType;
use leadflow_engine::run::{CONTACT_CREATION, CONTACT_UPDATE, signal_of, subject};
use leadflow_engine::{Engine, Intended, Run, Signal, Subject};
use leadflow_store::{IdRange, Store, StoredRecord};
use serde::Serialize;

/// Contacts read per page.
const PAGE: i64 = 10_000;

/// Contacts per batch call (writes, deal upserts and links, tasks, deal updates).
const BATCH: usize = 100;

/// What one workflow would do.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct WorkflowSimulation {
    pub(crate) workflow: String,
    pub(crate) name: String,
    /// Contacts that would enroll (new enrollments).
    pub(crate) contacts: usize,
    /// New enrollments (a contact may enroll on several trigger values).
    pub(crate) enrollments: usize,
    /// Runs whose enrollment the store already holds: nothing new would happen.
    pub(crate) already_enrolled: usize,
    /// Contacts among them.
    pub(crate) already_enrolled_contacts: usize,
    pub(crate) actions: ActionCounts,
    /// Skipped actions: `action: reason` → how many.
    pub(crate) skipped: BTreeMap<String, usize>,
    /// Estimated HubSpot calls, batched as the executor batches.
    pub(crate) api_calls: usize,
    /// Contacts written to (a contact's writes coalesce into one batch input).
    #[serde(skip)]
    write_contacts: usize,
}

/// Intended actions, per kind.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub(crate) struct ActionCounts {
    /// Contact property writes (one per run, coalesced).
    pub(crate) writes: usize,
    pub(crate) deals: usize,
    pub(crate) tasks: usize,
    /// Sequence enrollments.
    pub(crate) sequence_enrollments: usize,
    pub(crate) deal_moves: usize,
    pub(crate) deal_owners: usize,
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
    pub(crate) fn batched_calls(&self, write_contacts: usize) -> usize {
        let b = |n: usize| n.div_ceil(BATCH);
        b(write_contacts)
            + 2 * b(self.deals)
            + b(self.tasks)
            + self.sequence_enrollments
            + b(self.deal_moves)
            + b(self.deal_owners)
    }

    /// The calls with one call per action (a deal: its creation and its link).
    pub(crate) fn unbatched_calls(&self) -> usize {
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
pub(crate) struct Simulation {
    /// Events from this instant on were replayed (RFC 3339).
    pub(crate) since: String,
    /// The day the evaluation takes as today.
    pub(crate) today: String,
    /// Events replayed (contacts, backfills excepted, within `since`).
    pub(crate) events: usize,
    /// Contacts the time-based triggers were checked for.
    pub(crate) time_based_candidates: usize,
    pub(crate) workflows: Vec<WorkflowSimulation>,
    /// Every workflow together: the executor batches across workflows.
    pub(crate) total: ActionCounts,
    pub(crate) total_api_calls: usize,
    /// The same actions with one call each.
    pub(crate) unbatched_api_calls: usize,
}

/// Replays and counts, one page of contacts at a time.
struct Sim<'a> {
    engine: &'a Engine,
    only: Option<&'a str>,
    out: BTreeMap<String, WorkflowSimulation>,
    /// Contacts any workflow writes to, over every page.
    write_contacts: usize,
    /// The page's state: everything of a contact lies in one page.
    page: PageState,
}

/// What one page of contacts holds and has done; cleared after each page.
#[derive(Default)]
struct PageState {
    /// The page's contacts' stored properties (JSON), parsed when first needed.
    raw: HashMap<String, String>,
    subjects: HashMap<String, Subject>,
    with_deal: HashSet<String>,
    /// contact → (workflow, trigger value) it holds enrollments for.
    enrolled: HashMap<String, Vec<(String, String)>>,
    /// (workflow, contact, trigger value) already counted.
    seen: HashSet<(String, String, String)>,
    /// Per workflow: contacts newly enrolled, already enrolled, written to.
    new_contacts: HashMap<String, HashSet<String>>,
    old_contacts: HashMap<String, HashSet<String>>,
    write_contacts: HashMap<String, HashSet<String>>,
    any_write: HashSet<String>,
}

impl Sim<'_> {
    /// The page's contact `id` as the workflows see it, or `None` when it is not live.
    fn subject(&mut self, id: &str) -> anyhow::Result<Option<&Subject>> {
        let page = &mut self.page;
        if !page.subjects.contains_key(id) {
            let Some(json) = page.raw.remove(id) else {
                return Ok(None);
            };
            let record = StoredRecord {
                id: id.to_owned(),
                properties: serde_json::from_str(&json)
                    .with_context(|| format!("contact {id}'s stored properties"))?,
                ..StoredRecord::default()
            };
            let s = subject(&record, page.with_deal.contains(id));
            page.subjects.insert(id.to_owned(), s);
        }
        Ok(page.subjects.get(id))
    }

    fn account(&mut self, contact: &str, run: &Run, seq: Option<i64>) {
        if self.only.is_some_and(|w| w != run.workflow) {
            return;
        }
        let trigger = self.engine.recorded_trigger_value(run, seq);
        let page = &mut self.page;
        let already = page
            .enrolled
            .get(contact)
            .is_some_and(|e| e.iter().any(|(w, t)| *w == run.workflow && *t == trigger));
        // The engine enrolls once per (workflow, contact, trigger value): a replayed
        // duplicate is not a second run.
        if !page
            .seen
            .insert((run.workflow.clone(), contact.to_owned(), trigger))
        {
            return;
        }
        let w = self.out.entry(run.workflow.clone()).or_default();
        if already {
            w.already_enrolled += 1;
            page.old_contacts
                .entry(run.workflow.clone())
                .or_default()
                .insert(contact.to_owned());
            return;
        }
        w.enrollments += 1;
        page.new_contacts
            .entry(run.workflow.clone())
            .or_default()
            .insert(contact.to_owned());
        for s in &run.steps {
            match (&s.intended, &s.skipped) {
                (Some(i), _) => {
                    if let Intended::Write { .. } = i {
                        page.write_contacts
                            .entry(run.workflow.clone())
                            .or_default()
                            .insert(contact.to_owned());
                        page.any_write.insert(contact.to_owned());
                    }
                    w.actions.add(i);
                }
                (None, reason) => {
                    let why = format!("{}: {}", s.action, reason.as_deref().unwrap_or("skipped"));
                    *w.skipped.entry(why).or_default() += 1;
                }
            }
        }
    }

    /// Adds the page's distinct contacts to the totals and forgets the page.
    fn end_page(&mut self) {
        let page = std::mem::take(&mut self.page);
        for (key, set) in page.new_contacts {
            self.out.entry(key).or_default().contacts += set.len();
        }
        for (key, set) in page.old_contacts {
            self.out.entry(key).or_default().already_enrolled_contacts += set.len();
        }
        for (key, set) in page.write_contacts {
            self.out.entry(key).or_default().write_contacts += set.len();
        }
        self.write_contacts += page.any_write.len();
    }
}

/// The keys `--workflow` may name: the enabled workflows' and the data-sync flows'.
pub(crate) fn workflow_key(engine: &Engine, given: &str) -> Result<String, String> {
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
    leadflow_engine::history::workflow_name(key, engine.evaluator().workflows())
}

/// Replays the events after `since_ms` and checks the time-based triggers on `today`:
/// what `workflows simulate` prints and `bench simulate` times.
///
/// # Errors
/// A store error, or a contact whose stored properties are not JSON.
pub(crate) async fn simulate(
    engine: &Engine,
    store: &Store,
    portal: &str,
    only: Option<&str>,
    since_ms: i64,
    today: jiff::civil::Date,
) -> anyhow::Result<Simulation> {
    // The time-based triggers, as `Engine::tick` checks them: (workflow, property, value,
    // date property, the day it must be on or before).
    let mut timed = Vec::new();
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
        timed.push((w.key.as_str(), property, value, since, before.to_string()));
    }
    let mut sim = Sim {
        engine,
        only,
        out: BTreeMap::new(),
        write_contacts: 0,
        page: PageState::default(),
    };
    let mut events = 0;
    let mut candidates = 0;
    let mut after = String::new();
    loop {
        let page = store.live_contacts_page(portal, &after, PAGE).await?;
        // The page spans the ids after the previous page's last up to its own last; the
        // last (empty) page spans the rest, where only gone contacts' events remain.
        let upto = page.last().map(|r| r.id.clone());
        let range = IdRange {
            after: &after,
            upto: upto.as_deref(),
        };
        sim.page.raw = page.into_iter().map(|r| (r.id, r.properties)).collect();
        if upto.is_some() {
            sim.page.with_deal = store
                .linked_ids_in(portal, ObjectType::Contacts, ObjectType::Deals, range)
                .await?
                .into_iter()
                .collect();
            for r in store.workflow_enrollments_in(portal, range).await? {
                sim.page
                    .enrolled
                    .entry(r.contact_id)
                    .or_default()
                    .push((r.workflow, r.trigger_value));
            }
        }
        for e in store.contact_events_in(portal, range, since_ms).await? {
            let Some(signal) = signal_of(&e) else {
                continue;
            };
            events += 1;
            let runs = match sim.subject(&e.object_id)? {
                Some(s) => engine.plan(&signal, s, today),
                None => continue,
            };
            for run in &runs {
                sim.account(&e.object_id, run, Some(e.seq));
            }
        }
        // The daily check of time-based triggers, as `Engine::tick` makes it.
        if upto.is_some() {
            for (key, property, value, since, before) in &timed {
                let due = store
                    .contacts_holding_in(portal, (property, value), (since, before), range)
                    .await?;
                for id in due {
                    candidates += 1;
                    let runs = match sim.subject(&id)? {
                        Some(s) => engine.evaluator().evaluate(&Signal::Tick, s, today),
                        None => continue,
                    };
                    for run in runs.iter().filter(|run| run.workflow == *key) {
                        sim.account(&id, run, None);
                    }
                }
            }
        }
        sim.end_page();
        match upto {
            Some(last) => after = last,
            None => break,
        }
    }
    let mut total = ActionCounts::default();
    let mut workflows = Vec::new();
    for (key, mut w) in std::mem::take(&mut sim.out) {
        w.name = display_name(engine, &key);
        w.workflow = key;
        w.api_calls = w.actions.batched_calls(w.write_contacts);
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
        since: leadflow_engine::history::instant(since_ms),
        today: today.to_string(),
        events,
        time_based_candidates: candidates,
        workflows,
        total_api_calls: total.batched_calls(sim.write_contacts),
        unbatched_api_calls: total.unbatched_calls(),
        total,
    })
}
