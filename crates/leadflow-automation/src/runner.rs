//! `run_due`: each configured schedule, its due slot, and its job; then the report mails
//! that are due.
//!
//! A schedule's job is what its actions ask: the daily walk over contacts (last activity
//! dates, lead scores), the task cleanup, the time-based triggers (through a
//! [`TimeBasedCheck`] the caller gives, since the engine is not this crate's), the weekly
//! report and the monthly advice (archived, and queued for mail when the schedule sends
//! the weekly summary or names its sender and recipients). A slot is
//! claimed in the store before its job runs and only the claimer runs it; its outcome is
//! stored with the slot. A schedule none of whose actions has a job claims nothing.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use jiff::Timestamp;
use jiff::civil::Date;
use leadflow_config::Project;
use leadflow_config::automation::{Schedule, TIME_BASED_ACTION};
use leadflow_store::Store;

use crate::Error;
use crate::daily::{
    ActivityReport, CleanupReport, ContactWork, ScoringReport, clean_up_tasks, run_contacts,
};
use crate::mail::{DeliveryOutcome, Mailer, deliver_due};
use crate::monthly::build_monthly;
use crate::schedule::{CronSchedule, due};
use crate::weekly::{Archived, build_weekly};

/// The engine's check of the workflows' time-based triggers, as the scheduler runs it.
pub trait TimeBasedCheck: Sync {
    /// Records the runs the time-based triggers start at `slot` (`recorded_at`: the wall
    /// clock, unix ms); returns what it did in words, or why it could not run.
    fn check(
        &self,
        slot: Timestamp,
        recorded_at: i64,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>>;
}

/// What the scheduler works with.
#[derive(Clone, Copy)]
pub struct Automation<'a> {
    /// The store.
    pub store: &'a Store,
    /// The portal's key in the store.
    pub portal: &'a str,
    /// The project (schedules, scoring, reports, properties, time zone).
    pub project: &'a Project,
    /// Where reports are archived (`reports/` under it).
    pub data_dir: &'a Path,
    /// The SMTP server, when one is configured.
    pub mailer: Option<&'a Mailer>,
    /// The time-based triggers' check, when the caller can run the engine.
    pub time_based: Option<&'a dyn TimeBasedCheck>,
}

/// One action's result within a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Done {
    /// `update_last_activity_dates`.
    LastActivity(ActivityReport),
    /// `clean_up_old_tasks`.
    TaskCleanup(CleanupReport),
    /// `update_lead_scores`.
    Scoring(ScoringReport),
    /// `check_time_based_triggers`: what the engine recorded.
    TimeBased(String),
    /// `generate_performance_report` (the weekly report) or the monthly actions (the
    /// optimisation advice): the archive, and whether it was queued for mail.
    Report {
        /// Which report.
        what: String,
        /// Where it is.
        archived: Archived,
        /// Queued for mail.
        queued: bool,
        /// Why it is not mailed, when `send_weekly_summary` is listed and it is not queued.
        not_mailed: Option<String>,
    },
    /// `update_dashboard_metrics`: the dashboard is computed on request, nothing to store.
    Dashboard,
    /// An action that could not run here (the time-based check without an engine), with
    /// why.
    Skipped {
        /// The action.
        action: String,
        /// Why.
        why: String,
    },
}

impl std::fmt::Display for Done {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::LastActivity(r) => write!(
                f,
                "last activity dates: {} read, {} with engagement, {} moved, {} write intents",
                r.read, r.engaged, r.changed, r.intents
            ),
            Self::TaskCleanup(r) => write!(
                f,
                "old tasks: {} read, {} completed, {} completed more than {} days ago, {} archive intents, {} old open tasks kept",
                r.read, r.completed, r.expired, r.retention_days, r.intents, r.open_kept
            ),
            Self::Scoring(r) => write!(
                f,
                "lead scoring: {} read, {} changed, {} intents, {} API calls",
                r.read, r.changed, r.intents, r.api_calls
            ),
            Self::TimeBased(what) => write!(f, "time-based triggers: {what}"),
            Self::Report {
                what,
                archived,
                queued,
                not_mailed,
            } => {
                write!(f, "{what} archived in {}", archived.dir.display())?;
                match (queued, not_mailed) {
                    (true, _) => write!(f, ", queued for mail"),
                    (false, Some(why)) => write!(f, ", not mailed: {why}"),
                    (false, None) => Ok(()),
                }
            }
            Self::Dashboard => write!(f, "dashboard metrics: computed on request"),
            Self::Skipped { action, why } => write!(f, "{action}: {why}"),
        }
    }
}

/// What happened to one schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Its slot ran.
    Ran {
        /// The slot.
        slot: Timestamp,
        /// Its local date (the daily writes' trigger value).
        date: Date,
        /// Earlier missed slots caught up by this run.
        missed: u32,
        /// What each action did, in the order they ran.
        done: Vec<Done>,
    },
    /// Its slot was claimed and its job failed; the slot is marked with the error and is
    /// not run again (the next slot is).
    Failed {
        /// The slot.
        slot: Timestamp,
        /// Why.
        error: String,
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
    /// None of its actions has a job (it lists none): nothing is claimed or run.
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

/// What one run of the scheduler did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Each schedule, in the configuration's order.
    pub schedules: Vec<ScheduleReport>,
    /// The report mails attempted.
    pub deliveries: Vec<DeliveryOutcome>,
}

/// The monthly optimisation's actions: each runs the advice (once per slot).
const MONTHLY: [&str; 3] = [
    "analyze_performance_trends",
    "optimize_workflows",
    "generate_optimization_recommendations",
];

/// The actions that have a job here.
const WITH_JOB: [&str; 10] = [
    MONTHLY[0],
    MONTHLY[1],
    MONTHLY[2],
    "update_last_activity_dates",
    "clean_up_old_tasks",
    "update_lead_scores",
    "generate_performance_report",
    "send_weekly_summary",
    "update_dashboard_metrics",
    TIME_BASED_ACTION,
];

/// Runs one claimed slot's actions.
async fn run_job(
    a: &Automation<'_>,
    s: &Schedule,
    cron: &CronSchedule,
    slot: Timestamp,
    (now, recorded_at): (Timestamp, i64),
) -> Result<Vec<Done>, Error> {
    let tz = cron.time_zone();
    let date = slot.to_zoned(tz.clone()).date();
    let mut done = Vec::new();
    let work = ContactWork {
        activity: s.runs("update_last_activity_dates"),
        scoring: s.runs("update_lead_scores").then_some(&a.project.scoring),
        tz,
    };
    if work.activity || work.scoring.is_some() {
        let (activity, scoring) = run_contacts(a.store, a.portal, work, date, recorded_at).await?;
        done.extend(activity.map(Done::LastActivity));
        done.extend(scoring.map(Done::Scoring));
    }
    if s.runs("clean_up_old_tasks") {
        let r = clean_up_tasks(
            a.store,
            a.portal,
            s.retention_days(),
            (slot, tz),
            recorded_at,
        )
        .await?;
        done.push(Done::TaskCleanup(r));
    }
    if s.runs(TIME_BASED_ACTION) {
        done.push(match a.time_based {
            Some(check) => match check.check(slot, recorded_at).await {
                Ok(what) => Done::TimeBased(what),
                Err(why) => Done::Skipped {
                    action: TIME_BASED_ACTION.to_owned(),
                    why,
                },
            },
            None => Done::Skipped {
                action: TIME_BASED_ACTION.to_owned(),
                why: "the workflow engine is not running here (`leadflow serve` and `leadflow workflows run` check them)".to_owned(),
            },
        });
    }
    let mut reports = Vec::new();
    if s.runs("generate_performance_report") || s.runs("send_weekly_summary") {
        let archived = build_weekly(a.store, a.portal, a.project, (slot, tz), a.data_dir).await?;
        reports.push(("weekly report", archived));
    }
    if MONTHLY.iter().any(|m| s.runs(m)) {
        let archived = build_monthly(a.store, a.portal, a.project, (slot, tz), a.data_dir).await?;
        reports.push(("optimisation advice", archived));
    }
    // A schedule's reports are mailed when it sends the weekly summary or names its
    // sender and recipients; one mail per slot, with the first report's files.
    let wants_mail =
        s.runs("send_weekly_summary") || (s.sender.is_some() && !s.recipients.is_empty());
    for (n, (what, archived)) in reports.into_iter().enumerate() {
        let (queued, not_mailed) = if !wants_mail || n > 0 {
            (false, None)
        } else if a.mailer.is_none() {
            (
                false,
                Some("no SMTP server is configured (LEADFLOW_SMTP_URL)".to_owned()),
            )
        } else {
            let dir = archived.dir.display().to_string();
            a.store
                .add_report_delivery(
                    a.portal,
                    &s.key,
                    slot.as_millisecond(),
                    &dir,
                    now.as_millisecond(),
                )
                .await?;
            (true, None)
        };
        done.push(Done::Report {
            what: what.to_owned(),
            archived,
            queued,
            not_mailed,
        });
    }
    if s.runs("update_dashboard_metrics") {
        done.push(Done::Dashboard);
    }
    Ok(done)
}

/// Runs what is due at `now`: for each schedule with a job, the latest due slot is
/// claimed in the store and run only when the claim took, and its outcome stored; then
/// the report mails due at `now` are sent (with a mailer). `recorded_at` (unix ms, the wall
/// clock) stamps the rows and intents written, which the executor sends from then on.
///
/// # Errors
/// A bad cron expression or time zone (which `leadflow check` reports first), or a store
/// error while claiming or recording; a job that fails is a [`JobOutcome::Failed`] and the
/// other schedules still run.
pub async fn run_due(
    a: &Automation<'_>,
    now: Timestamp,
    recorded_at: i64,
) -> Result<RunReport, Error> {
    let schedules = &a.project.schedules;
    let mut out = RunReport::default();
    for s in &schedules.triggers {
        let cron = CronSchedule::new(&s.key, &s.cron, &schedules.time_zone)?;
        let next = cron.next_after(now);
        let outcome = if !s.actions.iter().any(|x| WITH_JOB.contains(&x.as_str())) {
            JobOutcome::NoJobYet
        } else {
            let last = a
                .store
                .last_schedule_run(a.portal, &s.key)
                .await?
                .and_then(|r| Timestamp::from_millisecond(r.slot_at).ok());
            match due(&cron, last, now).into_iter().next_back() {
                None => JobOutcome::NotDue { last },
                Some(slot) => {
                    let slot_ms = slot.at.as_millisecond();
                    if !a
                        .store
                        .claim_schedule_slot(a.portal, &s.key, slot_ms, recorded_at)
                        .await?
                    {
                        JobOutcome::ClaimedElsewhere { slot: slot.at }
                    } else {
                        let ran = run_job(a, s, &cron, slot.at, (now, recorded_at)).await;
                        let text = match &ran {
                            Ok(done) => done
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join("; "),
                            Err(e) => format!("failed: {e}"),
                        };
                        a.store
                            .finish_schedule_slot(a.portal, &s.key, slot_ms, recorded_at, &text)
                            .await?;
                        match ran {
                            Ok(done) => JobOutcome::Ran {
                                slot: slot.at,
                                date: slot.at.to_zoned(cron.time_zone().clone()).date(),
                                missed: slot.missed,
                                done,
                            },
                            Err(e) => {
                                tracing::error!(schedule = %s.key, error.message = %e, "scheduled job failed");
                                JobOutcome::Failed {
                                    slot: slot.at,
                                    error: e.to_string(),
                                }
                            }
                        }
                    }
                }
            }
        };
        out.schedules.push(ScheduleReport {
            key: s.key.clone(),
            cron: s.cron.clone(),
            actions: s.actions.clone(),
            next,
            outcome,
        });
    }
    out.deliveries = deliver_due(
        a.store,
        a.portal,
        &schedules.triggers,
        a.mailer,
        now.as_millisecond(),
    )
    .await?;
    Ok(out)
}

/// When the scheduler should next wake after `now`: the earliest next slot of any
/// schedule with a job, or the earliest pending report mail (with a mailer), whichever
/// comes first.
///
/// # Errors
/// A bad cron expression or time zone, or a store error.
pub async fn next_wake(a: &Automation<'_>, now: Timestamp) -> Result<Option<Timestamp>, Error> {
    let schedules = &a.project.schedules;
    let mut next: Option<Timestamp> = None;
    for s in &schedules.triggers {
        if !s.actions.iter().any(|x| WITH_JOB.contains(&x.as_str())) {
            continue;
        }
        let cron = CronSchedule::new(&s.key, &s.cron, &schedules.time_zone)?;
        if let Some(t) = cron.next_after(now) {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
    }
    if a.mailer.is_some() {
        if let Some(ms) = a.store.next_report_delivery_at(a.portal).await? {
            let t = Timestamp::from_millisecond(ms).unwrap_or(now).max(now);
            next = Some(next.map_or(t, |n| n.min(t)));
        }
    }
    Ok(next)
}
