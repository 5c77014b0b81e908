//! The scheduler loop `leadflow serve` runs: run what is due, sleep until the next slot of
//! any schedule (or the next report mail retry), wake early on shutdown.
//!
//! The timing is [`run_loop`], generic over the work of a tick, so it is tested on tokio's
//! paused clock without a database; [`run_scheduler`] is that loop with [`run_due`] as the
//! tick. Slots missed while the process was down are due at its first tick and run once
//! (the latest), and several processes running the loop run each slot once: the store's
//! claim decides.

use std::future::Future;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::runner::{Automation, JobOutcome, RunReport, next_wake, run_due};

/// The longest sleep: the loop looks again at least this often (a schedule with no next
/// slot, a store that failed).
const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// The shortest sleep between ticks, so a delivery leased by another worker cannot make the
/// loop spin.
const MIN_SLEEP: Duration = Duration::from_secs(1);

/// The scheduler's clock: the system's, or tokio's (paused in tests) counted from a given
/// wall time.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    /// `jiff::Timestamp::now()`.
    System,
    /// `at` plus the tokio time elapsed since `since`.
    Tokio {
        /// The wall time at `since`.
        at: Timestamp,
        /// The tokio instant `at` corresponds to.
        since: tokio::time::Instant,
    },
}

impl Clock {
    /// A clock reading `at` now and advancing with tokio's time.
    pub fn tokio_from(at: Timestamp) -> Self {
        Self::Tokio {
            at,
            since: tokio::time::Instant::now(),
        }
    }

    /// The time now.
    pub fn now(&self) -> Timestamp {
        match self {
            Self::System => Timestamp::now(),
            Self::Tokio { at, since } => {
                let elapsed =
                    SignedDuration::try_from(since.elapsed()).unwrap_or(SignedDuration::MAX);
                at.checked_add(elapsed).unwrap_or(Timestamp::MAX)
            }
        }
    }
}

/// Runs `tick(now)` now and then whenever the instant it returns comes (at most an hour
/// later, at least a second), until `shutdown` completes, which ends a sleep at once (a
/// tick under way finishes first).
pub async fn run_loop<T, F>(clock: Clock, mut tick: T, shutdown: impl Future<Output = ()>)
where
    T: FnMut(Timestamp) -> F,
    F: Future<Output = Option<Timestamp>>,
{
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let wake = tick(clock.now()).await;
        let wait = wake
            .map(|w| w.duration_since(clock.now()))
            .and_then(|d| Duration::try_from(d).ok())
            .unwrap_or(MIN_SLEEP)
            .clamp(MIN_SLEEP, MAX_SLEEP);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut shutdown => return,
        }
    }
}

fn log(report: &RunReport) {
    for s in &report.schedules {
        match &s.outcome {
            JobOutcome::Ran {
                slot, missed, done, ..
            } => {
                let what: Vec<String> = done.iter().map(ToString::to_string).collect();
                tracing::info!(schedule = %s.key, %slot, missed, done = %what.join("; "), "scheduled job ran");
            }
            JobOutcome::ClaimedElsewhere { slot } => {
                tracing::info!(schedule = %s.key, %slot, "slot run by another worker");
            }
            // Logged where it failed.
            JobOutcome::Failed { .. } | JobOutcome::NotDue { .. } | JobOutcome::NoJobYet => {}
        }
    }
}

/// The scheduler: [`run_loop`] with [`run_due`] as its tick and [`next_wake`] as its
/// wake-up. Errors are logged and the loop goes on (it looks again within an hour).
pub async fn run_scheduler(a: Automation<'_>, clock: Clock, shutdown: impl Future<Output = ()>) {
    let tick = |now: Timestamp| async move {
        match run_due(&a, now, clock.now().as_millisecond()).await {
            Ok(report) => log(&report),
            Err(e) => {
                tracing::error!(error.message = %e, "the scheduler's tick failed; it tries again");
            }
        }
        match next_wake(&a, now).await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(error.message = %e, "the scheduler cannot tell its next slot");
                now.checked_add(SignedDuration::from_secs(60)).ok()
            }
        }
    };
    run_loop(clock, tick, shutdown).await;
}
