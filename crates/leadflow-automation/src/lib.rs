//! Scheduled automation: the spec's Automation Triggers (`schedules.yaml`) as cron slots in
//! an IANA time zone, and lead scoring (`scoring.yaml`).
//!
//! - `score.rs`: [`score`], a pure function (scoring, contact, today) → score and each
//!   contribution.
//! - `schedule.rs`: [`due`], a pure function (schedule, last run, now) → the slot to run:
//!   runs missed while down are caught up once, with the latest missed slot.
//! - `daily.rs`: [`run_scoring`], the daily pass over the store's live contacts that
//!   records a write intent in the outbox for each changed score, which the engine's
//!   executor sends (100 contacts per call, exactly once).
//! - `runner.rs`: [`run_due`], what `leadflow automation run` does: each schedule with a
//!   job claims its due slot in the store (`schedule_runs`) and runs only if its claim took.
//!
//! **Boundary:** no HubSpot calls: writes go through the store's outbox. It reads no clock:
//! `now` and `today` are parameters.

mod daily;
mod runner;
mod schedule;
mod score;

pub use daily::{SCORING_WORKFLOW, ScoringReport, run_scoring, write_payload};
pub use runner::{JobOutcome, ScheduleReport, run_due};
pub use schedule::{CronSchedule, Slot, due};
pub use score::{Contribution, score};

/// What can go wrong in scheduled automation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A schedule's cron expression does not parse (`leadflow check` reports it first).
    #[error("schedule {schedule}: invalid cron expression {cron:?}: {message}")]
    Cron {
        /// The schedule's key.
        schedule: String,
        /// The expression.
        cron: String,
        /// Why.
        message: String,
    },
    /// The configured time zone is not an IANA name.
    #[error("time zone {0:?} is not an IANA time zone")]
    TimeZone(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] leadflow_store::Error),
}
