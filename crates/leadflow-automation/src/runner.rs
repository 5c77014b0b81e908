//! `leadflow automation run`: each configured schedule, its due slot, and its job.
//!
//! Only schedules whose actions include `update_lead_scores` have a job here (the daily
//! run: lead scoring). The others are listed with their next slot and claim nothing, so
//! their slots are still theirs when their jobs arrive with the reports.

use jiff::Timestamp;
use jiff::civil::Date;
use leadflow_config::automation::{Schedules, Scoring};
use leadflow_store::Store;

use crate::Error;
use crate::daily::{ScoringReport, run_scoring};
use crate::schedule::{CronSchedule, due};

/// What happened to one schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Its slot ran: lead scoring on the slot's date.
    Ran {
        /// The slot.
        slot: Timestamp,
        /// Its local date (the scoring writes' trigger value).
        date: Date,
        /// Earlier missed slots caught up by this run.
        missed: u32,
        /// What scoring did.
        scoring: ScoringReport,
    },
    /// Its due slot was claimed by another worker (or an earlier run) first.
    ClaimedElsewhere {
        /// The slot.
        slot: Timestamp,
    },
    /// Nothing due; the slot last run, if any.
    NotDue {
        /// The last slot run.
        last: Option<Timestamp>,
    },
    /// Scheduled, but its jobs arrive with the reports: nothing is claimed or run.
    NoJobYet,
}

/// One schedule's line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleReport {
    /// The schedule's key.
    pub key: String,
    /// Its cron expression.
    pub cron: String,
    /// The actions configured.
    pub actions: Vec<String>,
    /// Its next slot after now.
    pub next: Option<Timestamp>,
    /// What happened.
    pub outcome: JobOutcome,
}

/// Runs what is due at `now`: for each schedule with a job, the latest due slot is
/// claimed in the store and run only when the claim took; the run's outcome is stored.
/// `recorded_at` (unix ms, the wall clock) stamps the rows written: the run's start and
/// end, and the intents, which the executor sends from then on (a `now` in the future
/// does not hold them back).
///
/// # Errors
/// A bad cron expression or time zone (which `leadflow check` reports first), or a store
/// error; a job that fails has its slot marked with the error.
pub async fn run_due(
    store: &Store,
    portal: &str,
    schedules: &Schedules,
    scoring: &Scoring,
    now: Timestamp,
    recorded_at: i64,
) -> Result<Vec<ScheduleReport>, Error> {
    let mut out = Vec::new();
    for s in &schedules.triggers {
        let cron = CronSchedule::new(&s.key, &s.cron, &schedules.time_zone)?;
        let next = cron.next_after(now);
        let has_job = s.actions.iter().any(|a| a == "update_lead_scores");
        let outcome = if !has_job {
            JobOutcome::NoJobYet
        } else {
            let last = store
                .last_schedule_run(portal, &s.key)
                .await?
                .and_then(|r| Timestamp::from_millisecond(r.slot_at).ok());
            match due(&cron, last, now).into_iter().next_back() {
                None => JobOutcome::NotDue { last },
                Some(slot) => {
                    let slot_ms = slot.at.as_millisecond();
                    if !store
                        .claim_schedule_slot(portal, &s.key, slot_ms, recorded_at)
                        .await?
                    {
                        JobOutcome::ClaimedElsewhere { slot: slot.at }
                    } else {
                        let date = slot.at.to_zoned(cron.time_zone().clone()).date();
                        match run_scoring(store, portal, scoring, date, recorded_at).await {
                            Ok(r) => {
                                let text = format!(
                                    "lead scoring: {} read, {} changed, {} intents, {} API calls",
                                    r.read, r.changed, r.intents, r.api_calls
                                );
                                store
                                    .finish_schedule_slot(
                                        portal,
                                        &s.key,
                                        slot_ms,
                                        recorded_at,
                                        &text,
                                    )
                                    .await?;
                                JobOutcome::Ran {
                                    slot: slot.at,
                                    date,
                                    missed: slot.missed,
                                    scoring: r,
                                }
                            }
                            Err(e) => {
                                let text = format!("failed: {e}");
                                store
                                    .finish_schedule_slot(
                                        portal,
                                        &s.key,
                                        slot_ms,
                                        recorded_at,
                                        &text,
                                    )
                                    .await?;
                                return Err(e);
                            }
                        }
                    }
                }
            }
        };
        out.push(ScheduleReport {
            key: s.key.clone(),
            cron: s.cron.clone(),
            actions: s.actions.clone(),
            next,
            outcome,
        });
    }
    Ok(out)
}
