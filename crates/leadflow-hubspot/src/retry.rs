//! The one retry policy type: attempts, exponential backoff with jitter, and a cap.
//!
//! The policy only computes delays. Which failures are retried, and which waits a
//! specific HubSpot answer demands (a rolling-window 429, a 423 lock, a `Retry-After`),
//! is decided where the error is classified, in `transport`.

use std::time::Duration;

/// How often and how patiently a failed request is retried.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included. `1` means no retry.
    pub max_attempts: u32,
    /// The delay before the first retry, before jitter.
    pub initial_delay: Duration,
    /// The factor between consecutive delays.
    pub multiplier: f64,
    /// No delay, jitter included, is longer than this.
    pub max_delay: Duration,
    /// Share of the delay that is randomised: `0.0` none, `1.0` full jitter.
    pub jitter: f64,
}

/// Six attempts, 250 ms doubling to at most 30 s, half of each delay randomised.
pub const DEFAULT_RETRY_POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 6,
    initial_delay: Duration::from_millis(250),
    multiplier: 2.0,
    max_delay: Duration::from_secs(30),
    jitter: 0.5,
};

impl Default for RetryPolicy {
    fn default() -> Self {
        DEFAULT_RETRY_POLICY
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..DEFAULT_RETRY_POLICY
        }
    }

    /// Whether another attempt may follow attempt number `attempt` (1-based).
    pub fn allows_retry_after(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }

    /// The delay before retrying after attempt `attempt` (1-based), before jitter.
    pub fn base_delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(63) as i32;
        let secs = self.initial_delay.as_secs_f64() * self.multiplier.max(1.0).powi(exp);
        Duration::from_secs_f64(secs.min(self.max_delay.as_secs_f64()))
    }

    /// The delay before retrying after attempt `attempt`, with jitter applied:
    /// a value in `[base * (1 - jitter), base]`.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_with(attempt, fastrand::f64())
    }

    /// A wait HubSpot prescribes (a 423 lock, a rate-limit window, `Retry-After`): never
    /// shorter than `minimum`, spread upwards by the jitter (a value in
    /// `[minimum, minimum * (1 + jitter)]`) so that callers refused together do not come
    /// back together, and no longer than `max_delay` unless `minimum` itself is longer.
    pub fn at_least(&self, minimum: Duration) -> Duration {
        self.at_least_with(minimum, fastrand::f64())
    }

    /// [`RetryPolicy::at_least`] with the random draw given, for tests.
    pub fn at_least_with(&self, minimum: Duration, random: f64) -> Duration {
        let spread = minimum.mul_f64(self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0));
        (minimum + spread).min(self.max_delay.max(minimum))
    }

    /// [`RetryPolicy::delay`] with the random draw given, for tests.
    pub fn delay_with(&self, attempt: u32, random: f64) -> Duration {
        let base = self.base_delay(attempt).as_secs_f64();
        let jitter = self.jitter.clamp(0.0, 1.0);
        let factor = 1.0 - jitter * random.clamp(0.0, 1.0);
        Duration::from_secs_f64(base * factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn delays_double_until_the_cap() {
        let p = RetryPolicy {
            jitter: 0.0,
            ..DEFAULT_RETRY_POLICY
        };
        assert_eq!(p.delay(1), Duration::from_millis(250));
        assert_eq!(p.delay(2), Duration::from_millis(500));
        assert_eq!(p.delay(3), Duration::from_secs(1));
        assert_eq!(p.delay(30), Duration::from_secs(30));
    }

    #[test]
    fn none_never_retries() {
        assert!(!RetryPolicy::none().allows_retry_after(1));
        assert!(DEFAULT_RETRY_POLICY.allows_retry_after(5));
        assert!(!DEFAULT_RETRY_POLICY.allows_retry_after(6));
    }

    #[test]
    fn prescribed_waits_are_never_shortened() {
        let p = DEFAULT_RETRY_POLICY;
        let two = Duration::from_secs(2);
        assert_eq!(p.at_least_with(two, 0.0), two);
        assert_eq!(p.at_least_with(two, 1.0), Duration::from_secs(3));
        // The cap bounds the jitter, never the prescribed wait itself.
        let tight = RetryPolicy {
            max_delay: Duration::from_millis(50),
            ..DEFAULT_RETRY_POLICY
        };
        assert_eq!(tight.at_least_with(two, 1.0), two);
        assert_eq!(
            p.at_least_with(Duration::from_secs(25), 1.0),
            Duration::from_secs(30)
        );
    }

    proptest! {
        #[test]
        fn prescribed_waits_stay_between_the_minimum_and_the_cap(ms in 0u64..120_000, r in 0.0f64..1.0) {
            let p = DEFAULT_RETRY_POLICY;
            let min = Duration::from_millis(ms);
            let d = p.at_least_with(min, r);
            prop_assert!(d >= min);
            prop_assert!(d <= p.max_delay.max(min));
            prop_assert!(d <= min.mul_f64(1.0 + p.jitter) + Duration::from_nanos(1));
        }
    }

    proptest! {
        #[test]
        fn delays_are_bounded_and_non_decreasing_before_jitter(attempt in 1u32..200, r in 0.0f64..1.0) {
            let p = DEFAULT_RETRY_POLICY;
            prop_assert!(p.base_delay(attempt) <= p.base_delay(attempt + 1));
            let d = p.delay_with(attempt, r);
            prop_assert!(d <= p.max_delay);
            prop_assert!(d >= p.base_delay(attempt).mul_f64(1.0 - p.jitter) - Duration::from_nanos(1));
        }
    }
}
