//! Scheduled automation: the spec's Automation Triggers (`schedules.yaml`) as cron slots in
//! an IANA time zone, their jobs, the loop `leadflow serve` runs them in, and lead scoring
//! (`scoring.yaml`).
//!
//! - `score.rs`: [`score`], a pure function (scoring, contact, today) → score and each
//!   contribution.
//! - `schedule.rs`: [`due`], a pure function (schedule, last run, now) → the slot to run:
//!   runs missed while down are caught up once, with the latest missed slot.
//! - `daily.rs`: the daily cleanup: one walk over the store's live contacts recording the
//!   last activity dates that moved and the scores that changed as write intents, and a
//!   walk over the tasks recording an archive intent for each completed long enough ago.
//! - `weekly.rs`: the weekly report computed and archived (HTML and CSV) in the data
//!   directory; `monthly.rs`: the optimisation advice archived beside it (Markdown, HTML,
//!   the suggested diff); `mail.rs`: their mail by SMTP, remembered in the store and
//!   retried.
//! - `runner.rs`: [`run_due`], what `leadflow automation run` does: each schedule with a
//!   job claims its due slot in the store (`schedule_runs`) and runs only if its claim took.
//! - `scheduler.rs`: [`run_scheduler`], the loop: a tick, then sleep until the next slot.
//!
//! **Boundary:** no HubSpot calls: writes go through the store's outbox, which the engine's
//! executor sends; the engine's time-based check comes in through [`TimeBasedCheck`]. It
//! reads no clock but the scheduler's [`Clock`]: `now` and `today` are parameters.

mod daily;
mod mail;
mod monthly;
mod runner;
mod schedule;
mod scheduler;
mod score;
mod weekly;

pub use daily::{
    ACTIVITY_WORKFLOW, ARCHIVE_TASK, ActivityReport, CLEANUP_WORKFLOW, CleanupReport, ContactWork,
    SCORING_WORKFLOW, ScoringReport, clean_up_tasks, completed_at, run_contacts, run_scoring,
    write_payload,
};
pub use mail::{
    DeliveryOutcome, DeliveryState, MAX_DELIVERY_ATTEMPTS, Mailer, delivery_backoff_ms,
};
pub use monthly::build_monthly;
pub use runner::{
    Automation, Done, JobOutcome, RunReport, ScheduleReport, TimeBasedCheck, next_wake, run_due,
};
pub use schedule::{CronSchedule, Slot, due};
pub use scheduler::{Clock, run_loop, run_scheduler};
pub use score::{Contribution, score};
pub use weekly::{Archived, WEEKLY_REPORT, build_weekly, report_csv};

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
    /// An instant out of range (a stored time far from now).
    #[error("the instant {0} (unix ms) is out of range: {1}")]
    Instant(i64, String),
    /// The optimisation advice could not be computed.
    #[error("computing the optimisation advice: {0}")]
    Advice(#[from] leadflow_advice::Error),
    /// The project has no report for the weekly schedule.
    #[error(
        "reports.yaml has no report for the weekly schedule; add `lead_generation_report` (see `leadflow init`) or remove generate_performance_report"
    )]
    NoReport,
    /// The report could not be computed.
    #[error("computing the weekly report: {0}")]
    Report(#[from] leadflow_reports::Error),
    /// A report could not be rendered.
    #[error("rendering a report: {0}")]
    Render(String),
    /// A report could not be archived.
    #[error("archiving a report: {path}: {message}; check that the data directory is writable")]
    Archive {
        /// The file or directory.
        path: String,
        /// Why.
        message: String,
    },
    /// The SMTP server's URL is not usable.
    #[error("the SMTP server URL {url} (LEADFLOW_SMTP_URL): {message}")]
    SmtpUrl {
        /// The URL, when it holds no password.
        url: String,
        /// Why.
        message: String,
    },
    /// A mail could not be built or sent.
    #[error("mailing a report: {0}")]
    Mail(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] leadflow_store::Error),
}
