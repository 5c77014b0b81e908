//! The significance tests behind the advice: two proportions (z-test), two counts over
//! periods of different lengths (conditional binomial, normal approximation), and the
//! chi-square test of independence across several groups.
//!
//! Every test checks its own minimum sample sizes first and answers
//! [`Evidence::NotEnoughData`] with the counts when they are not met, so a caller can never
//! read a p-value computed from too little data. This module knows numbers only: which
//! contacts are counted is the caller's business. `docs/advice.md` writes the rules out.

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};
use statrs::function::erf::erfc;

/// The significance level every test uses.
pub const ALPHA: f64 = 0.05;
/// The fewest contacts a group needs before it is compared.
pub const MIN_CONTACTS: i64 = 30;
/// The fewest expected successes (and failures) per group, under the null hypothesis,
/// for the normal and chi-square approximations to hold.
pub const MIN_EXPECTED: f64 = 5.0;

/// `successes` out of `trials`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rate {
    /// How many succeeded (responded, had a meeting).
    pub successes: i64,
    /// Out of how many.
    pub trials: i64,
}

impl Rate {
    /// `successes` of `trials`.
    pub fn new(successes: i64, trials: i64) -> Self {
        Self { successes, trials }
    }

    /// The rate as a fraction, `None` when there are no trials.
    pub fn value(&self) -> Option<f64> {
        (self.trials > 0).then(|| self.successes as f64 / self.trials as f64)
    }

    /// `12.5% (5 of 40)`, or `no data (0 of 0)`.
    pub fn display(&self) -> String {
        match self.value() {
            Some(v) => format!("{:.1}% ({} of {})", v * 100.0, self.successes, self.trials),
            None => "no data (0 of 0)".to_owned(),
        }
    }
}

impl std::ops::Add for Rate {
    type Output = Rate;
    fn add(self, other: Rate) -> Rate {
        Rate::new(self.successes + other.successes, self.trials + other.trials)
    }
}

/// Which difference a test looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Alternative {
    /// Any difference.
    TwoSided,
    /// The first is higher than the second.
    Greater,
    /// The first is lower than the second.
    Less,
}

/// A test that was run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Test {
    /// Which test (`two-proportion z-test`, ...).
    pub test: String,
    /// Its statistic (z or chi-square).
    pub statistic: f64,
    /// The p-value.
    pub p_value: f64,
    /// The level it is compared with (already divided for multiple comparisons).
    pub alpha: f64,
    /// `p_value < alpha`.
    pub significant: bool,
}

impl Test {
    fn new(test: &str, statistic: f64, p_value: f64, alpha: f64) -> Self {
        Self {
            test: test.to_owned(),
            statistic,
            p_value,
            alpha,
            significant: p_value < alpha,
        }
    }

    /// `z = 2.31, p = 0.021 < 0.05: significant` (`p < 0.001` below that).
    pub fn display(&self) -> String {
        let name = if self.test.starts_with("chi") {
            "χ²"
        } else {
            "z"
        };
        // Three decimals would print a tiny p-value as 0.000.
        let p = if self.p_value < 0.001 {
            "p < 0.001".to_owned()
        } else {
            format!("p = {:.3}", self.p_value)
        };
        format!(
            "{name} = {:.2}, {p} {} {}: {}",
            self.statistic,
            if self.significant { "<" } else { "≥" },
            trim_float(self.alpha),
            if self.significant {
                "significant"
            } else {
                "not significant"
            }
        )
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// What a comparison found: a test result, or why none was run.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// The test ran.
    Tested(Test),
    /// The minimum sample sizes are not met.
    NotEnoughData {
        /// Which minimum is not met, with the counts.
        reason: String,
    },
}

impl Evidence {
    /// Whether a test ran and found a significant difference.
    pub fn significant(&self) -> bool {
        matches!(self, Self::Tested(t) if t.significant)
    }

    /// Whether the test ran (enough data).
    pub fn tested(&self) -> bool {
        matches!(self, Self::Tested(_))
    }

    /// The test's line, or `not enough data: ...`.
    pub fn display(&self) -> String {
        match self {
            Self::Tested(t) => t.display(),
            Self::NotEnoughData { reason } => format!("not enough data: {reason}"),
        }
    }
}

/// The probability that a standard normal variable exceeds `z`.
pub(crate) fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

fn p_from_z(z: f64, alternative: Alternative) -> f64 {
    match alternative {
        Alternative::TwoSided => (2.0 * normal_sf(z.abs())).min(1.0),
        Alternative::Greater => normal_sf(z),
        Alternative::Less => normal_sf(-z),
    }
}

/// The two-proportion z-test (pooled variance) of `a` against `b`, at level `alpha`.
///
/// Not run (not enough data) unless each group has at least [`MIN_CONTACTS`] trials and,
/// under the pooled rate, at least [`MIN_EXPECTED`] expected successes and failures.
pub(crate) fn two_proportions(a: Rate, b: Rate, alternative: Alternative, alpha: f64) -> Evidence {
    for (label, r) in [("first group", a), ("second group", b)] {
        if r.trials < MIN_CONTACTS {
            return Evidence::NotEnoughData {
                reason: format!(
                    "the {label} has {} contacts, fewer than {MIN_CONTACTS}",
                    r.trials
                ),
            };
        }
    }
    let pooled = (a.successes + b.successes) as f64 / (a.trials + b.trials) as f64;
    let fewest = [a.trials, b.trials]
        .into_iter()
        .map(|n| n as f64 * pooled.min(1.0 - pooled))
        .fold(f64::INFINITY, f64::min);
    if fewest < MIN_EXPECTED {
        return Evidence::NotEnoughData {
            reason: format!(
                "{} successes in {} contacts: fewer than {MIN_EXPECTED} expected successes or failures in a group",
                a.successes + b.successes,
                a.trials + b.trials
            ),
        };
    }
    let (pa, pb) = (
        a.successes as f64 / a.trials as f64,
        b.successes as f64 / b.trials as f64,
    );
    let se = (pooled * (1.0 - pooled) * (1.0 / a.trials as f64 + 1.0 / b.trials as f64)).sqrt();
    let z = (pa - pb) / se;
    Evidence::Tested(Test::new(
        "two-proportion z-test",
        z,
        p_from_z(z, alternative),
        alpha,
    ))
}

/// Whether two counts over periods of `days_a` and `days_b` days differ more than their
/// lengths explain: given `a + b`, `a` is binomial with `p = days_a / (days_a + days_b)`
/// when the daily rates are equal (the conditional test for two Poisson counts), tested
/// with the normal approximation.
///
/// Not run unless both expected counts are at least [`MIN_EXPECTED`].
pub(crate) fn two_counts(a: i64, days_a: i64, b: i64, days_b: i64, alpha: f64) -> Evidence {
    let n = (a + b) as f64;
    let p = days_a as f64 / (days_a + days_b) as f64;
    if days_a <= 0 || days_b <= 0 || n * p.min(1.0 - p) < MIN_EXPECTED {
        return Evidence::NotEnoughData {
            reason: format!("{a} and {b} contacts: fewer than {MIN_EXPECTED} expected in a month"),
        };
    }
    let z = (a as f64 - n * p) / (n * p * (1.0 - p)).sqrt();
    Evidence::Tested(Test::new(
        "conditional binomial test of two counts",
        z,
        p_from_z(z, Alternative::TwoSided),
        alpha,
    ))
}

/// The chi-square test of independence of success and group over `groups` (k × 2 table,
/// k − 1 degrees of freedom), at level `alpha`.
///
/// Not run unless there are at least two groups, each with at least [`MIN_CONTACTS`]
/// trials and at least [`MIN_EXPECTED`] expected successes and failures.
pub(crate) fn independence(groups: &[Rate], alpha: f64) -> Evidence {
    if groups.len() < 2 {
        return Evidence::NotEnoughData {
            reason: format!("{} group(s) to compare, at least 2 needed", groups.len()),
        };
    }
    if let Some(small) = groups.iter().find(|g| g.trials < MIN_CONTACTS) {
        return Evidence::NotEnoughData {
            reason: format!(
                "a group has {} contacts, fewer than {MIN_CONTACTS}",
                small.trials
            ),
        };
    }
    let total: Rate = groups.iter().fold(Rate::default(), |s, g| s + *g);
    let p = total.successes as f64 / total.trials as f64;
    let mut chi = 0.0;
    for g in groups {
        let n = g.trials as f64;
        let (es, ef) = (n * p, n * (1.0 - p));
        if es.min(ef) < MIN_EXPECTED {
            return Evidence::NotEnoughData {
                reason: format!(
                    "{} successes in {} contacts: fewer than {MIN_EXPECTED} expected successes or failures in a group",
                    total.successes, total.trials
                ),
            };
        }
        let s = g.successes as f64;
        chi += (s - es).powi(2) / es + ((n - s) - ef).powi(2) / ef;
    }
    let df = (groups.len() - 1) as f64;
    match ChiSquared::new(df) {
        Ok(dist) => Evidence::Tested(Test::new(
            "chi-square test of independence",
            chi,
            dist.sf(chi),
            alpha,
        )),
        Err(e) => Evidence::NotEnoughData {
            reason: format!("no chi-square distribution with {df} degrees of freedom: {e}"),
        },
    }
}

#[cfg(test)]
mod tests;
