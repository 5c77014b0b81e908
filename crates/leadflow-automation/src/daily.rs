//! The daily cleanup (`daily_cleanup`): last activity dates from engagement data, old
//! completed tasks archived, lead scores recomputed. Every HubSpot change is recorded in
//! the store's outbox for the engine's executor to send, never sent from here.
//!
//! Each change is an enrollment of its record in a built-in workflow with one intent, so
//! the store's keys make it happen once:
//! - `automation.last_activity` (trigger value: the day): a `write` of `last_activity_date`,
//!   only where the engagement data's latest day is later than the stored date (a date
//!   entered by hand that is later stays);
//! - `automation.lead_scoring` (trigger value: the day): a `write` of `lead_score`, only
//!   where the score differs from the stored one;
//! - `automation.task_cleanup` (trigger value: `archive`, once per task ever): an
//!   `archive_task` of a task completed more than the retention ago. Open tasks are never
//!   recorded, however old; the executor reads the task again and archives it only while
//!   HubSpot still shows it completed.
//!
//! Contact writes are coalesced per contact by the executor and sent 100 contacts per call.
//! The walks read one page of the store at a time.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use leadflow_config::automation::Scoring;
use leadflow_core::ObjectType;
use leadflow_store::{IdRange, NewEnrollment, NewIntent, Store, StoredRecord};

use crate::Error;
use crate::score::score;

/// The workflow key scoring writes are recorded under.
pub const SCORING_WORKFLOW: &str = "automation.lead_scoring";

/// The workflow key last-activity writes are recorded under.
pub const ACTIVITY_WORKFLOW: &str = "automation.last_activity";

/// The workflow key task archivals are recorded under.
pub const CLEANUP_WORKFLOW: &str = "automation.task_cleanup";

/// The outbox action that archives a task (the engine's executor's `archive_task`).
pub const ARCHIVE_TASK: &str = "archive_task";

/// The contact property the engagement data sets.
const LAST_ACTIVITY: &str = "last_activity_date";

/// Records read per page.
const PAGE: i64 = 500;

/// Contacts per HubSpot batch update (the executor's and HubSpot's batch size).
const BATCH: u64 = 100;

/// What a scoring run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScoringReport {
    /// Live contacts read.
    pub read: u64,
    /// Contacts whose score differs from their stored `lead_score`.
    pub changed: u64,
    /// Write intents recorded (changed, less those recorded already today).
    pub intents: u64,
    /// HubSpot calls the intents will cost: one batch update per 100 contacts.
    pub api_calls: u64,
}

/// What the last-activity update did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActivityReport {
    /// Live contacts read.
    pub read: u64,
    /// Contacts with any engagement in the store (a task, a sequence enrollment, a
    /// response).
    pub engaged: u64,
    /// Contacts whose engagement is later than their stored `last_activity_date`.
    pub changed: u64,
    /// Write intents recorded (changed, less those recorded already today).
    pub intents: u64,
    /// HubSpot calls the intents will cost on their own (sent with the day's score writes,
    /// a contact's two writes are one input).
    pub api_calls: u64,
}

/// What the task cleanup did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// The retention, in days.
    pub retention_days: u32,
    /// Live tasks read.
    pub read: u64,
    /// Of them, completed.
    pub completed: u64,
    /// Completed before the retention: archived (or archived already by an earlier run).
    pub expired: u64,
    /// Archive intents recorded by this run.
    pub intents: u64,
    /// Open tasks created before the retention, kept (open tasks are never archived).
    pub open_kept: u64,
}

/// The outbox payload of a contact write, as the engine's `Intended::Write` reads it.
fn write_of(property: &str, value: String) -> String {
    serde_json::json!({ "action": "write", "properties": { property: value } }).to_string()
}

/// The outbox payload of a score write, as the engine's `Intended::Write` reads it.
pub fn write_payload(score: i64) -> String {
    write_of("lead_score", score.to_string())
}

/// Whether the stored value already is `score` (`57`, `57.0`).
fn same(stored: Option<&str>, score: i64) -> bool {
    stored
        .and_then(|s| s.trim().parse::<f64>().ok())
        .is_some_and(|s| s == score as f64)
}

/// An instant as HubSpot writes them: unix ms, or RFC 3339.
fn instant(text: &str) -> Option<i64> {
    let t = text.trim();
    t.parse::<i64>()
        .ok()
        .or_else(|| t.parse::<Timestamp>().ok().map(|ts| ts.as_millisecond()))
}

/// When a task was completed: `hs_task_completion_date` when the store has it, else, for a
/// completed task, its last change (which is at or after its completion, so a retention
/// measured from it never archives early). `None` for an open task.
pub fn completed_at(task: &StoredRecord) -> Option<i64> {
    if task.get("hs_task_status") != Some("COMPLETED") {
        return None;
    }
    Some(
        task.get("hs_task_completion_date")
            .and_then(instant)
            .unwrap_or(task.updated_at),
    )
}

/// One enrollment with one intent, recorded with the rest of its page
/// ([`Store::enroll_many`]: one transaction, a few statements).
fn entry(
    (workflow, subject, trigger): (&str, &str, &str),
    (action, payload): (&str, String),
    at: i64,
) -> (NewEnrollment, Vec<NewIntent>) {
    let enrollment = NewEnrollment {
        workflow: workflow.to_owned(),
        contact_id: subject.to_owned(),
        trigger_value: trigger.to_owned(),
        event_seq: None,
        at,
    };
    let intent = NewIntent {
        key: format!("{workflow}:{subject}:{trigger}:0:{action}"),
        action: action.to_owned(),
        payload,
        state: "pending".to_owned(),
        note: None,
    };
    (enrollment, vec![intent])
}

/// Which report an entry of the contact walk counts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Activity,
    Score,
}

/// Records a page's entries; for each, its kind and whether it was new.
async fn record_page<K: Copy + Eq>(
    store: &Store,
    portal: &str,
    page: Vec<(K, (NewEnrollment, Vec<NewIntent>))>,
) -> Result<Vec<(K, bool)>, Error> {
    let (kinds, items): (Vec<K>, Vec<_>) = page.into_iter().unzip();
    let new = store.enroll_many(portal, &items).await?;
    Ok(kinds.into_iter().zip(new).collect())
}

/// The latest engagement (unix ms) of each contact of one page: its tasks' creation and
/// completion, its sequence enrollments, and the changes of its Response Status to a
/// response.
async fn engagement(
    store: &Store,
    portal: &str,
    range: IdRange<'_>,
) -> Result<BTreeMap<String, i64>, Error> {
    let mut latest: BTreeMap<String, i64> = BTreeMap::new();
    let mut seen = |id: String, at: i64| {
        let e = latest.entry(id).or_insert(at);
        *e = (*e).max(at);
    };
    for (contact, task) in store.linked_tasks_in(portal, range).await? {
        if let Some(done) = completed_at(&task) {
            seen(contact.clone(), done);
        }
        if let Some(created) = task.created_at {
            seen(contact, created);
        }
    }
    for (contact, at) in store.sequence_enrolled_in(portal, range).await? {
        seen(contact, at);
    }
    for e in store.contact_events_in(portal, range, 0).await? {
        let responded = e.property.as_deref() == Some("response_status")
            && e.new_value
                .as_deref()
                .is_some_and(|v| leadflow_reports::RESPONDED.contains(&v));
        if responded {
            seen(e.object_id, e.occurred_at);
        }
    }
    Ok(latest)
}

/// What the daily walk over contacts does.
#[derive(Clone, Copy, Debug)]
pub struct ContactWork<'a> {
    /// Update last activity dates (`update_last_activity_dates`).
    pub activity: bool,
    /// Recompute lead scores (`update_lead_scores`) with this scoring.
    pub scoring: Option<&'a Scoring>,
    /// The zone days are counted in.
    pub tz: &'a TimeZone,
}

/// One walk over the live contacts of `portal` on `today`: for each page, the last
/// activity dates that moved, then the scores (computed with the new dates) that
/// changed, each recorded as a write intent. `at` (unix ms) is when they are recorded.
///
/// # Errors
/// A store error; what was recorded before it stays recorded, and running again records
/// the rest.
pub async fn run_contacts(
    store: &Store,
    portal: &str,
    work: ContactWork<'_>,
    today: Date,
    at: i64,
) -> Result<(Option<ActivityReport>, Option<ScoringReport>), Error> {
    let mut activity = work.activity.then(ActivityReport::default);
    let mut scoring = work.scoring.map(|_| ScoringReport::default());
    let day = today.to_string();
    let mut after = String::new();
    loop {
        let mut page = store.live_contact_records(portal, &after, PAGE).await?;
        let Some(last) = page.last().map(|c| c.id.clone()) else {
            break;
        };
        let latest = match &activity {
            Some(_) => {
                let range = IdRange {
                    after: &after,
                    upto: Some(&last),
                };
                engagement(store, portal, range).await?
            }
            None => BTreeMap::new(),
        };
        let mut entries = Vec::new();
        for contact in &mut page {
            if let Some(r) = &mut activity {
                r.read += 1;
                if let Some(&ms) = latest.get(&contact.id) {
                    r.engaged += 1;
                    let date = Timestamp::from_millisecond(ms)
                        .map_err(|e| Error::Instant(ms, e.to_string()))?
                        .to_zoned(work.tz.clone())
                        .date();
                    let stored = contact
                        .get(LAST_ACTIVITY)
                        .and_then(leadflow_config::values::parse_date);
                    if stored.is_none_or(|s| s < date) {
                        r.changed += 1;
                        let payload = write_of(LAST_ACTIVITY, date.to_string());
                        let key = (ACTIVITY_WORKFLOW, contact.id.as_str(), day.as_str());
                        entries.push((Kind::Activity, entry(key, ("write", payload), at)));
                        // Scores below see the new date.
                        contact
                            .properties
                            .insert(LAST_ACTIVITY.to_owned(), Some(date.to_string()));
                    }
                }
            }
            if let (Some(r), Some(config)) = (&mut scoring, work.scoring) {
                r.read += 1;
                let (s, _) = score(config, &contact.properties, today);
                if same(contact.get("lead_score"), s) {
                    continue;
                }
                r.changed += 1;
                let key = (SCORING_WORKFLOW, contact.id.as_str(), day.as_str());
                entries.push((Kind::Score, entry(key, ("write", write_payload(s)), at)));
            }
        }
        for (kind, new) in record_page(store, portal, entries).await? {
            let report = match kind {
                Kind::Activity => activity.as_mut().map(|r| &mut r.intents),
                Kind::Score => scoring.as_mut().map(|r| &mut r.intents),
            };
            if let (Some(intents), true) = (report, new) {
                *intents += 1;
            }
        }
        after = last;
    }
    if let Some(r) = &mut activity {
        r.api_calls = r.intents.div_ceil(BATCH);
        tracing::info!(
            read = r.read,
            engaged = r.engaged,
            changed = r.changed,
            intents = r.intents,
            "last activity dates computed"
        );
    }
    if let Some(r) = &mut scoring {
        r.api_calls = r.intents.div_ceil(BATCH);
        tracing::info!(
            read = r.read,
            changed = r.changed,
            intents = r.intents,
            api_calls = r.api_calls,
            "lead scores computed"
        );
    }
    Ok((activity, scoring))
}

/// Scores every live contact of `portal` on `today` and records a write intent for each
/// whose score differs from its stored `lead_score` (the daily walk with scoring only).
///
/// # Errors
/// A store error; what was recorded before it stays recorded.
pub async fn run_scoring(
    store: &Store,
    portal: &str,
    scoring: &Scoring,
    today: Date,
    at: i64,
) -> Result<ScoringReport, Error> {
    let work = ContactWork {
        activity: false,
        scoring: Some(scoring),
        tz: &TimeZone::UTC,
    };
    let (_, r) = run_contacts(store, portal, work, today, at).await?;
    Ok(r.unwrap_or_default())
}

/// Records an archive intent for every live task completed more than `retention_days`
/// before `slot` (days counted on the wall clock of `tz`), once per task; open tasks are
/// counted and kept.
///
/// # Errors
/// A store error; what was recorded stays recorded.
pub async fn clean_up_tasks(
    store: &Store,
    portal: &str,
    retention_days: u32,
    (slot, tz): (Timestamp, &TimeZone),
    at: i64,
) -> Result<CleanupReport, Error> {
    let cutoff = slot
        .to_zoned(tz.clone())
        .checked_sub(i64::from(retention_days).days())
        .map_err(|e| Error::Instant(slot.as_millisecond(), e.to_string()))?
        .timestamp()
        .as_millisecond();
    let mut r = CleanupReport {
        retention_days,
        ..CleanupReport::default()
    };
    let mut after = String::new();
    loop {
        let page = store
            .live_records_page(portal, ObjectType::Tasks, &after, PAGE)
            .await?;
        let Some(last) = page.last().map(|t| t.id.clone()) else {
            break;
        };
        let mut entries = Vec::new();
        for task in &page {
            r.read += 1;
            match completed_at(task) {
                None => {
                    if task.created_at.is_some_and(|c| c < cutoff) {
                        r.open_kept += 1;
                    }
                }
                Some(done) => {
                    r.completed += 1;
                    if done < cutoff {
                        r.expired += 1;
                        let payload = serde_json::json!({ "action": ARCHIVE_TASK }).to_string();
                        let key = (CLEANUP_WORKFLOW, task.id.as_str(), "archive");
                        entries.push(((), entry(key, (ARCHIVE_TASK, payload), at)));
                    }
                }
            }
        }
        for ((), new) in record_page(store, portal, entries).await? {
            r.intents += u64::from(new);
        }
        after = last;
    }
    tracing::info!(
        read = r.read,
        completed = r.completed,
        expired = r.expired,
        intents = r.intents,
        open_kept = r.open_kept,
        "old tasks cleaned up"
    );
    Ok(r)
}
