//! The scheduler: a due slot runs once however many workers race for it (SQLite and
//! PostgreSQL), and the loop sleeps until the next slot and stops at shutdown, on tokio's
//! paused clock.

use std::path::Path;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use leadflow_automation::{
    Automation, Clock, CronSchedule, Done, JobOutcome, TimeBasedCheck, next_wake, run_due, run_loop,
};

use crate::{on_both, project, seed};

/// A time-based check that counts its calls.
struct Counting(Mutex<Vec<Timestamp>>);

impl TimeBasedCheck for Counting {
    fn check(
        &self,
        slot: Timestamp,
        _recorded_at: i64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send + '_>>
    {
        self.0.lock().unwrap().push(slot);
        Box::pin(async { Ok("checked".to_owned()) })
    }
}

fn automation<'a>(
    store: &'a leadflow_store::Store,
    project: &'a leadflow_config::Project,
    data: &'a Path,
    check: &'a Counting,
) -> Automation<'a> {
    Automation {
        store,
        portal: "p",
        project,
        data_dir: data,
        mailer: None,
        time_based: Some(check),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_slot_runs_once_however_many_workers_race_for_it() {
    on_both("race", |store| async move {
        let mut project = project();
        project.schedules.time_zone = "Europe/Berlin".to_owned();
        let data = tempfile::tempdir().unwrap();
        seed(&store, &project).await;
        let check = Arc::new(Counting(Mutex::new(Vec::new())));
        let now: Timestamp = "2026-11-25T09:00:00Z".parse().unwrap();
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (store, project, check) = (store.clone(), project.clone(), check.clone());
                let dir = data.path().to_owned();
                tokio::spawn(async move {
                    let a = automation(&store, &project, &dir, &check);
                    run_due(&a, now, 42).await.unwrap()
                })
            })
            .collect();
        let mut ran = [0; 4];
        for w in workers {
            let report = w.await.unwrap();
            let keys: Vec<&str> = report.schedules.iter().map(|r| r.key.as_str()).collect();
            assert_eq!(
                keys,
                [
                    "daily_cleanup",
                    "weekly_reporting",
                    "monthly_optimization",
                    "time_based_triggers"
                ]
            );
            for (i, r) in report.schedules.iter().enumerate() {
                match &r.outcome {
                    JobOutcome::Ran {
                        slot, date, done, ..
                    } => {
                        ran[i] += 1;
                        if i == 0 {
                            assert_eq!(slot.to_string(), "2026-11-25T05:00:00Z");
                            assert_eq!(date.to_string(), "2026-11-25");
                            assert!(
                                done.iter()
                                    .any(|d| matches!(d, Done::Scoring(s) if s.read == 250)),
                                "{done:?}"
                            );
                        }
                        if i == 1 {
                            // Monday's 09:00 Berlin, caught up on Wednesday.
                            assert_eq!(slot.to_string(), "2026-11-23T08:00:00Z");
                        }
                        if i == 2 {
                            assert_eq!(slot.to_string(), "2026-11-01T09:00:00Z");
                        }
                    }
                    JobOutcome::ClaimedElsewhere { .. } | JobOutcome::NotDue { .. } => {}
                    other => panic!("{}: {other:?}", r.key),
                }
            }
            assert_eq!(
                report.schedules[1].next.map(|t| t.to_string()).as_deref(),
                Some("2026-11-30T08:00:00Z")
            );
        }
        assert_eq!(ran, [1, 1, 1, 1], "each slot ran once");
        assert_eq!(
            check.0.lock().unwrap().as_slice(),
            ["2026-11-25T05:00:00Z".parse::<Timestamp>().unwrap()],
            "the time-based check ran once, for its slot"
        );
        let last = store
            .last_schedule_run("p", "daily_cleanup")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((last.started_at, last.finished_at), (42, Some(42)));
        let outcome = last.outcome.unwrap();
        assert!(outcome.contains("lead scoring: 250 read"), "{outcome}");
        assert!(outcome.contains("old tasks: 0 read"), "{outcome}");
        // The intents are stamped with the wall clock given, not the slot or `now`.
        let intents = store.intents_of("p", "1000").await.unwrap();
        assert_eq!(intents[0].created_at, 42);
        for file in [
            "weekly/2026-11-23/lead_generation_report.csv",
            "weekly/2026-11-23/lead_generation_report.html",
            "monthly/2026-11-01/optimization_advice.md",
        ] {
            assert!(data.path().join("reports").join(file).is_file(), "{file}");
        }

        // Later the same day: nothing due; the next morning: the next slot, nothing missed.
        let check = Counting(Mutex::new(Vec::new()));
        let a = automation(&store, &project, data.path(), &check);
        let later = run_due(&a, now + jiff::SignedDuration::from_hours(8), 43)
            .await
            .unwrap();
        assert_eq!(
            later.schedules[0].outcome,
            JobOutcome::NotDue {
                last: Some("2026-11-25T05:00:00Z".parse().unwrap())
            }
        );
        let tomorrow = run_due(&a, "2026-11-26T05:00:00Z".parse().unwrap(), 44)
            .await
            .unwrap();
        assert!(
            matches!(
                tomorrow.schedules[0].outcome,
                JobOutcome::Ran { missed: 0, .. }
            ),
            "{tomorrow:?}"
        );
        // Down for three days: the latest slot runs once, the two before it are counted.
        let back = run_due(&a, "2026-11-29T07:00:00Z".parse().unwrap(), 45)
            .await
            .unwrap();
        match &back.schedules[0].outcome {
            JobOutcome::Ran { slot, missed, .. } => {
                assert_eq!(
                    (slot.to_string().as_str(), *missed),
                    ("2026-11-29T05:00:00Z", 2)
                );
            }
            other => panic!("{other:?}"),
        }
        // The next wake-up: the earliest next slot of a schedule with a job.
        assert_eq!(
            next_wake(&a, "2026-11-29T07:00:00Z".parse().unwrap())
                .await
                .unwrap()
                .map(|t| t.to_string()),
            Some("2026-11-30T05:00:00Z".to_owned())
        );
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn the_loop_sleeps_until_the_next_slot_looks_again_hourly_and_stops_at_shutdown() {
    let cron = CronSchedule::new("daily", "0 6 * * *", "Europe/Berlin").unwrap();
    let start: Timestamp = "2026-11-25T04:30:00Z".parse().unwrap();
    let clock = Clock::tokio_from(start);
    let (ticks, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let looping = tokio::spawn(run_loop(
        clock,
        move |now| {
            let next = cron.next_after(now);
            let _ = ticks.send(now);
            async move { next }
        },
        async {
            let _ = stopped.await;
        },
    ));
    let mut at = Vec::new();
    for _ in 0..4 {
        at.push(seen.recv().await.unwrap().to_string());
    }
    assert_eq!(
        at,
        [
            // At start (a missed slot would run now), then the slot itself (06:00 Berlin),
            // then a look every hour until the next one.
            "2026-11-25T04:30:00Z",
            "2026-11-25T05:00:00Z",
            "2026-11-25T06:00:00Z",
            "2026-11-25T07:00:00Z",
        ]
    );
    // Shutdown ends the sleep at once: no further tick, no time passes.
    stop.send(()).unwrap();
    looping.await.unwrap();
    assert_eq!(clock.now().to_string(), "2026-11-25T07:00:00Z");
    assert!(seen.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn across_a_dst_change_the_slot_keeps_its_wall_clock_time() {
    // Berlin leaves summer time on 2026-10-25: 06:00 is 04:00 UTC before, 05:00 after.
    let cron = CronSchedule::new("daily", "0 6 * * *", "Europe/Berlin").unwrap();
    let clock = Clock::tokio_from("2026-10-24T03:59:00Z".parse().unwrap());
    let (ticks, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let looping = tokio::spawn(run_loop(
        clock,
        move |now| {
            let next = cron.next_after(now);
            if cron.slot_at_or_before(now) == Some(now) {
                let _ = ticks.send(now);
            }
            async move { next }
        },
        async {
            let _ = stopped.await;
        },
    ));
    let slots = [seen.recv().await.unwrap(), seen.recv().await.unwrap()];
    assert_eq!(
        slots.map(|t| t.to_string()),
        ["2026-10-24T04:00:00Z", "2026-10-25T05:00:00Z"]
    );
    looping.abort();
}
