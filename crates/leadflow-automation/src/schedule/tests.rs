//! The scheduler's slots: the shipped schedules, DST in Europe/Berlin, catching up once.

use jiff::Timestamp;

use super::{CronSchedule, Slot, due};

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn daily() -> CronSchedule {
    CronSchedule::new("daily_cleanup", "0 6 * * *", "Europe/Berlin").unwrap()
}

/// Runs the scheduler every `step` minutes from `from` to `to`, feeding back the last slot
/// run, and returns every slot it ran.
fn simulate(s: &CronSchedule, from: &str, to: &str, step: i64) -> Vec<Slot> {
    let mut now = at(from);
    let end = at(to);
    let mut last = None;
    let mut ran = Vec::new();
    while now <= end {
        for slot in due(s, last, now) {
            last = Some(slot.at);
            ran.push(slot);
        }
        now += jiff::SignedDuration::from_mins(step);
    }
    ran
}

#[test]
fn the_daily_slot_is_six_in_berlin_across_both_dst_changes_once_a_day() {
    // Summer time starts 2026-03-29 (02:00 → 03:00) and ends 2026-10-25 (03:00 → 02:00).
    for (from, to, expected) in [
        (
            "2026-03-27T05:30:00Z",
            "2026-03-31T05:30:00Z",
            [
                "2026-03-28T05:00:00Z",
                "2026-03-29T04:00:00Z",
                "2026-03-30T04:00:00Z",
                "2026-03-31T04:00:00Z",
            ],
        ),
        (
            "2026-10-23T04:30:00Z",
            "2026-10-27T05:30:00Z",
            [
                "2026-10-24T04:00:00Z",
                "2026-10-25T05:00:00Z",
                "2026-10-26T05:00:00Z",
                "2026-10-27T05:00:00Z",
            ],
        ),
    ] {
        let s = daily();
        // The first pass starts the schedule with the slot before `from`.
        let ran: Vec<String> = simulate(&s, from, to, 15)
            .iter()
            .skip(1)
            .map(|s| s.at.to_string())
            .collect();
        assert_eq!(ran, expected, "no day skipped, none run twice");
    }
}

#[test]
fn on_the_day_the_clock_goes_back_the_slot_runs_once() {
    let s = daily();
    let slot = at("2026-10-25T05:00:00Z");
    assert_eq!(
        due(
            &s,
            Some(at("2026-10-24T04:00:00Z")),
            at("2026-10-25T05:00:00Z")
        ),
        [Slot {
            at: slot,
            missed: 0
        }]
    );
    for now in [
        "2026-10-25T05:00:01Z",
        "2026-10-25T23:59:00Z",
        "2026-10-26T04:59:59Z",
    ] {
        assert!(due(&s, Some(slot), at(now)).is_empty(), "{now}");
    }
    // Not yet due at 05:59 local on the day summer time starts (03:59 UTC).
    assert!(
        due(
            &s,
            Some(at("2026-03-28T05:00:00Z")),
            at("2026-03-29T03:59:00Z")
        )
        .is_empty()
    );
}

#[test]
fn three_missed_days_are_caught_up_by_one_run_of_the_latest() {
    let s = daily();
    let last = at("2026-11-20T05:00:00Z");
    let now = at("2026-11-24T09:00:00Z");
    let slots = due(&s, Some(last), now);
    assert_eq!(
        slots,
        [Slot {
            at: at("2026-11-24T05:00:00Z"),
            missed: 3
        }],
        "21, 22 and 23 missed, 24 runs"
    );
    assert!(due(&s, Some(slots[0].at), now).is_empty(), "and only once");
    // Never run: the latest slot, once.
    assert_eq!(
        due(&s, None, now),
        [Slot {
            at: at("2026-11-24T05:00:00Z"),
            missed: 0
        }]
    );
}

#[test]
fn the_shipped_weekly_and_monthly_slots() {
    let weekly = CronSchedule::new("weekly_reporting", "0 9 * * MON", "Europe/Berlin").unwrap();
    // 2026-11-25 is a Wednesday: the Monday before, 09:00 CET.
    assert_eq!(
        weekly.slot_at_or_before(at("2026-11-25T12:00:00Z")),
        Some(at("2026-11-23T08:00:00Z"))
    );
    assert_eq!(
        weekly.next_after(at("2026-11-25T12:00:00Z")),
        Some(at("2026-11-30T08:00:00Z"))
    );
    let monthly = CronSchedule::new("monthly_optimization", "0 10 1 * *", "UTC").unwrap();
    assert_eq!(
        due(
            &monthly,
            Some(at("2026-09-01T10:00:00Z")),
            at("2026-11-25T00:00:00Z")
        ),
        [Slot {
            at: at("2026-11-01T10:00:00Z"),
            missed: 1
        }]
    );
}

#[test]
fn a_bad_expression_or_zone_is_an_error_not_a_panic() {
    let e = CronSchedule::new("x", "0 25 * * *", "UTC").unwrap_err();
    assert!(
        e.to_string()
            .contains("invalid cron expression \"0 25 * * *\""),
        "{e}"
    );
    let e = CronSchedule::new("x", "0 6 * * *", "Mars/Olympus").unwrap_err();
    assert_eq!(
        e.to_string(),
        "time zone \"Mars/Olympus\" is not an IANA time zone"
    );
}
