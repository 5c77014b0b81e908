//! Schedules as cron slots in a time zone, and which slot is due.
//!
//! A slot is an instant the cron expression names in the schedule's time zone (croner
//! walks the wall clock, so 06:00 Europe/Berlin is 05:00 UTC in winter and 04:00 UTC in
//! summer, once each day across both DST changes). [`due`] is pure: the last run and now
//! are parameters, and a scheduler that was down for several slots runs only the latest.

use std::str::FromStr;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::Error;

/// Missed slots are counted up to this many (a report figure, not a limit on catching up).
const MISSED_COUNT_CAP: u32 = 10_000;

/// A schedule ready to compute slots: its cron expression and time zone.
#[derive(Clone, Debug)]
pub struct CronSchedule {
    cron: croner::Cron,
    tz: TimeZone,
}

impl CronSchedule {
    /// Parses `cron` (five fields) for the IANA time zone `time_zone`.
    ///
    /// # Errors
    /// [`Error::Cron`] for an expression croner refuses, [`Error::TimeZone`] for an
    /// unknown zone.
    pub fn new(key: &str, cron: &str, time_zone: &str) -> Result<Self, Error> {
        let tz = TimeZone::get(time_zone).map_err(|_| Error::TimeZone(time_zone.to_owned()))?;
        let parsed = croner::Cron::from_str(cron).map_err(|e| Error::Cron {
            schedule: key.to_owned(),
            cron: cron.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Self { cron: parsed, tz })
    }

    /// The time zone its slots are in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The latest slot at or before `t`, if the expression names one.
    pub fn slot_at_or_before(&self, t: Timestamp) -> Option<Timestamp> {
        self.cron
            .find_previous_occurrence(&t.to_zoned(self.tz.clone()), true)
            .ok()
            .map(|z| z.timestamp())
    }

    /// The first slot after `t`.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        self.cron
            .find_next_occurrence(&t.to_zoned(self.tz.clone()), false)
            .ok()
            .map(|z| z.timestamp())
    }

    fn slot_before(&self, t: Timestamp) -> Option<Timestamp> {
        self.cron
            .find_previous_occurrence(&t.to_zoned(self.tz.clone()), false)
            .ok()
            .map(|z| z.timestamp())
    }
}

/// A slot to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The instant the schedule named.
    pub at: Timestamp,
    /// Earlier slots since the last run that were missed and are not run on their own
    /// (caught up by this one); counted up to 10,000.
    pub missed: u32,
}

/// The slots of `schedule` to run now: none when the latest slot at or before `now` has
/// run (`last_run` is the slot the last run was for), else that latest slot alone, with
/// the earlier missed slots counted. A schedule never run runs its latest slot once.
pub fn due(schedule: &CronSchedule, last_run: Option<Timestamp>, now: Timestamp) -> Vec<Slot> {
    let Some(latest) = schedule.slot_at_or_before(now) else {
        return Vec::new();
    };
    if last_run.is_some_and(|l| l >= latest) {
        return Vec::new();
    }
    let mut missed = 0;
    if let Some(last) = last_run {
        let mut t = latest;
        while missed < MISSED_COUNT_CAP {
            match schedule.slot_before(t) {
                Some(p) if p > last => {
                    missed += 1;
                    t = p;
                }
                _ => break,
            }
        }
    }
    vec![Slot { at: latest, missed }]
}

#[cfg(test)]
mod tests;
