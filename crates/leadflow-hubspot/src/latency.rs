//! What every HubSpot call took, kept in memory between flushes: a latency histogram
//! (microseconds, three significant digits), calls and errors, and the daily budget as
//! HubSpot last reported it. The binary flushes it into the store for `leadflow status`;
//! the `metrics` facade gets the same numbers for `/metrics`.
//!
//! It knows nothing about where a snapshot goes.

use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;

/// The longest latency kept exactly (one hour); longer ones count as one hour.
const MAX_MICROS: u64 = 3_600_000_000;

/// The calls measured since the last [`LatencyRecorder::take`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencySnapshot {
    /// Calls measured.
    pub calls: u64,
    /// Of them, those that failed: no answer, or an error status (4xx, 5xx).
    pub errors: u64,
    /// The recorded latencies as (microseconds, how many), ascending.
    pub values: Vec<(u64, u64)>,
    /// The daily budget left, as HubSpot last reported it.
    pub daily_remaining: Option<u64>,
    /// The daily budget, as HubSpot last reported it.
    pub daily_limit: Option<u64>,
}

#[derive(Debug)]
struct State {
    histogram: Histogram<u64>,
    calls: u64,
    errors: u64,
    daily_remaining: Option<u64>,
    daily_limit: Option<u64>,
}

/// A client's latency since its last flush.
#[derive(Debug)]
pub struct LatencyRecorder {
    state: Mutex<State>,
}

fn histogram() -> Histogram<u64> {
    // 1 µs to one hour at three significant digits.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("constant bounds are valid")
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                histogram: histogram(),
                calls: 0,
                errors: 0,
                daily_remaining: None,
                daily_limit: None,
            }),
        }
    }
}

impl LatencyRecorder {
    /// Records one call: its status (0: no answer) and how long it took.
    pub fn record(
        &self,
        status: u16,
        elapsed: Duration,
        daily: Option<u64>,
        daily_remaining: Option<u64>,
    ) {
        let micros = u64::try_from(elapsed.as_micros())
            .unwrap_or(MAX_MICROS)
            .clamp(1, MAX_MICROS);
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.histogram.saturating_record(micros);
        s.calls += 1;
        if status == 0 || status >= 400 {
            s.errors += 1;
        }
        if daily.is_some() {
            s.daily_limit = daily;
        }
        if daily_remaining.is_some() {
            s.daily_remaining = daily_remaining;
        }
    }

    /// Takes what was recorded since the last call and starts over (the daily budget
    /// seen last is kept: it is a level, not a count).
    pub fn take(&self) -> LatencySnapshot {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let values = s
            .histogram
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        let out = LatencySnapshot {
            calls: s.calls,
            errors: s.errors,
            values,
            daily_remaining: s.daily_remaining,
            daily_limit: s.daily_limit,
        };
        s.histogram.reset();
        s.calls = 0;
        s.errors = 0;
        out
    }
}

/// Latency percentiles over one or more snapshots' values.
#[derive(Debug)]
pub struct Percentiles {
    histogram: Histogram<u64>,
}

impl Percentiles {
    /// Merges recorded (microseconds, count) pairs, e.g. several flushes read back.
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a (u64, u64)>) -> Self {
        let mut histogram = histogram();
        for &(micros, count) in values {
            // Values out of bounds come from a corrupted row; they count at the bound.
            let _ = histogram.record_n(micros.clamp(1, MAX_MICROS), count);
        }
        Self { histogram }
    }

    /// How many values were merged.
    pub fn len(&self) -> u64 {
        self.histogram.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    /// The latency at quantile `q` (0–1), or `None` without values.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.histogram.is_empty() {
            return None;
        }
        Some(Duration::from_micros(self.histogram.value_at_quantile(q)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_returns_what_was_recorded_and_starts_over() {
        let r = LatencyRecorder::default();
        for ms in 1..=100u64 {
            let status = if ms % 10 == 0 { 503 } else { 200 };
            r.record(
                status,
                Duration::from_millis(ms),
                Some(1_000),
                Some(1_000 - ms),
            );
        }
        let s = r.take();
        assert_eq!((s.calls, s.errors), (100, 10));
        assert_eq!((s.daily_limit, s.daily_remaining), (Some(1_000), Some(900)));
        assert_eq!(s.values.iter().map(|v| v.1).sum::<u64>(), 100);
        let p = Percentiles::from_values(&s.values);
        let ms = |q| p.quantile(q).map(|d| d.as_secs_f64() * 1000.0);
        // Three significant digits: within 0.1% of the exact rank's value.
        for (q, exact) in [(0.5, 50.0), (0.95, 95.0), (0.99, 99.0)] {
            let got = ms(q).unwrap_or(f64::NAN);
            assert!(
                (got - exact).abs() <= exact * 0.001,
                "q{q}: {got} vs {exact}"
            );
        }
        let again = r.take();
        assert_eq!((again.calls, again.errors, again.values.len()), (0, 0, 0));
        assert_eq!(again.daily_remaining, Some(900), "the budget level is kept");
        assert_eq!(Percentiles::from_values(&again.values).quantile(0.5), None);
    }
}
