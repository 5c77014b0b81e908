//! The formulas: what each metric and widget divides by what, and when there is no data
//! (`docs/metrics.md` is the written form; a test keeps the names equal to the config's
//! catalogue).

use serde::Serialize;

/// Response statuses that count as a response.
pub const RESPONDED: [&str; 3] = ["Interested", "Not Interested", "Meeting Scheduled"];
/// Response status that counts as a meeting.
pub const MEETING: &str = "Meeting Scheduled";
/// Qualification statuses that count as qualified.
pub const QUALIFIED: [&str; 2] = ["Qualified", "Hot Lead"];
/// Response statuses that count as interested or better (the funnel's third stage).
pub const INTERESTED: [&str; 2] = ["Interested", "Meeting Scheduled"];

/// A metric's or widget's value. A ratio or an average exists only over a non-empty
/// denominator; otherwise the value is [`Value::NoData`], never NaN.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Value {
    /// A count.
    Count {
        /// The count.
        count: i64,
    },
    /// `numerator / denominator`, with `denominator > 0`.
    Ratio {
        /// Contacts counted above the line.
        numerator: i64,
        /// Contacts counted below it (never 0).
        denominator: i64,
    },
    /// `sum / count`, with `count > 0`.
    Average {
        /// The sum of the values.
        sum: f64,
        /// How many values (never 0).
        count: i64,
    },
    /// An amount of money in cents, summed over deals.
    Money {
        /// The sum, in cents.
        cents: i64,
        /// How many deals.
        deals: i64,
        /// How many of them have no readable amount (counted as 0).
        without_amount: i64,
    },
    /// A named winner (Top Performing ICP) and the ratio it won with.
    Winner {
        /// The winning value.
        label: String,
        /// Its response rate's numerator.
        numerator: i64,
        /// Its response rate's denominator.
        denominator: i64,
    },
    /// Nothing to compute from in the period.
    NoData,
}

impl Value {
    /// A ratio, or no data when the denominator is 0.
    pub fn ratio(numerator: i64, denominator: i64) -> Self {
        if denominator == 0 {
            Self::NoData
        } else {
            Self::Ratio {
                numerator,
                denominator,
            }
        }
    }

    /// An average, or no data when nothing was counted.
    pub fn average(sum: f64, count: i64) -> Self {
        if count == 0 {
            Self::NoData
        } else {
            Self::Average { sum, count }
        }
    }

    /// The value as a number (ratios as fractions 0–1, money in currency units), or `None`
    /// for no data and for a winner.
    pub fn number(&self) -> Option<f64> {
        match self {
            Self::Count { count } => Some(*count as f64),
            Self::Ratio {
                numerator,
                denominator,
            } => Some(*numerator as f64 / *denominator as f64),
            Self::Average { sum, count } => Some(sum / *count as f64),
            Self::Money { cents, .. } => Some(*cents as f64 / 100.0),
            Self::Winner { .. } | Self::NoData => None,
        }
    }

    /// The value as people read it: `225`, `37.5%`, `7.25`, `12,500.00`, `no data`.
    pub fn display(&self) -> String {
        match self {
            Self::Count { count } => count.to_string(),
            Self::Ratio { .. } => format!("{:.1}%", self.number().unwrap_or_default() * 100.0),
            Self::Average { .. } => format!("{:.2}", self.number().unwrap_or_default()),
            Self::Money { cents, .. } => money(*cents),
            Self::Winner {
                label,
                numerator,
                denominator,
            } => format!(
                "{label} ({:.1}% of {denominator})",
                *numerator as f64 * 100.0 / *denominator as f64
            ),
            Self::NoData => "no data".to_owned(),
        }
    }

    /// The value as a chart's point shows it: a ratio with what it is computed from
    /// (`12.5% (5/40)`), anything else as [`Value::display`].
    pub fn point_display(&self) -> String {
        match self {
            Self::Ratio {
                numerator,
                denominator,
            } => format!("{} ({numerator}/{denominator})", self.display()),
            _ => self.display(),
        }
    }
}

fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02}", abs % 100)
}

/// Reads a deal amount (`1000`, `1234.5`, `-20.25`) as cents, rounded to the nearest cent;
/// `None` when it is not a finite number.
pub fn amount_cents(text: &str) -> Option<i64> {
    let v: f64 = text.trim().parse().ok()?;
    if !v.is_finite() || v.abs() > 9.0e15 {
        return None;
    }
    Some((v * 100.0).round() as i64)
}

/// What the formulas need to know about a set of contacts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Contacts in the set.
    pub contacts: i64,
    /// Contacts with an ICP fit score.
    pub fit_scored: i64,
    /// The sum of their ICP fit scores.
    pub fit_score_sum: f64,
    /// Contacts whose response status is one of [`RESPONDED`].
    pub responded: i64,
    /// Contacts whose response status is [`MEETING`].
    pub meetings: i64,
    /// Contacts whose qualification status is one of [`QUALIFIED`].
    pub qualified: i64,
}

impl Tally {
    /// Adds a group of contacts that share a response and a qualification status.
    pub fn add(&mut self, counts: &leadflow_store::ContactCounts) {
        let response = counts.response_status.as_deref().unwrap_or_default();
        let qualification = counts.qualification_status.as_deref().unwrap_or_default();
        self.contacts += counts.contacts;
        self.fit_scored += counts.fit_scored;
        self.fit_score_sum += counts.fit_score_sum;
        if RESPONDED.contains(&response) {
            self.responded += counts.contacts;
        }
        if response == MEETING {
            self.meetings += counts.contacts;
        }
        if QUALIFIED.contains(&qualification) {
            self.qualified += counts.contacts;
        }
    }

    /// A report metric by its catalogue name (case-insensitive), or `None` for a name that
    /// is not a metric.
    pub fn metric(&self, name: &str) -> Option<Value> {
        Some(self.value(Metric::from_name(name)?))
    }

    /// A report metric's value over this set.
    pub fn value(&self, metric: Metric) -> Value {
        match metric {
            Metric::TotalContactsCreated => Value::Count {
                count: self.contacts,
            },
            Metric::IcpFitScoreAverage => Value::average(self.fit_score_sum, self.fit_scored),
            Metric::ResponseRate => Value::ratio(self.responded, self.contacts),
            Metric::QualificationRate => Value::ratio(self.qualified, self.contacts),
            Metric::MeetingConversionRate => Value::ratio(self.meetings, self.responded),
        }
    }
}

/// The report metrics, as the catalogue names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Contacts in the report.
    TotalContactsCreated,
    /// Mean ICP fit score over contacts that have one.
    IcpFitScoreAverage,
    /// Responded / contacts.
    ResponseRate,
    /// Qualified or hot / contacts.
    QualificationRate,
    /// Meetings / responded.
    MeetingConversionRate,
}

impl Metric {
    /// Every metric with its catalogue name.
    pub const ALL: [(Metric, &'static str); 5] = [
        (Self::TotalContactsCreated, "Total Contacts Created"),
        (Self::IcpFitScoreAverage, "ICP Fit Score Average"),
        (Self::ResponseRate, "Response Rate"),
        (Self::QualificationRate, "Qualification Rate"),
        (Self::MeetingConversionRate, "Meeting Conversion Rate"),
    ];

    /// Its catalogue name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(m, _)| *m == self)
            .map_or("", |(_, n)| n)
    }

    /// The metric a catalogue name names (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(m, _)| *m)
    }
}

/// The Lead Qualification Funnel's stages, each a subset of the one before
/// (`docs/metrics.md`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Funnel {
    /// Every contact.
    pub contacts: i64,
    /// Contacts whose response status is one of [`RESPONDED`].
    pub responded: i64,
    /// Contacts whose response status is one of [`INTERESTED`].
    pub interested: i64,
    /// Interested-or-better contacts whose qualification status is one of [`QUALIFIED`].
    pub qualified: i64,
    /// Qualified contacts whose response status is [`MEETING`].
    pub meetings: i64,
}

impl Funnel {
    /// The stages' names, in order.
    pub const STAGES: [&'static str; 5] = [
        "Contacts",
        "Responded",
        "Interested or better",
        "Qualified",
        "Meeting Scheduled",
    ];

    /// Adds a group of contacts that share a response and a qualification status.
    pub fn add(&mut self, counts: &leadflow_store::ContactCounts) {
        let response = counts.response_status.as_deref().unwrap_or_default();
        let qualification = counts.qualification_status.as_deref().unwrap_or_default();
        let n = counts.contacts;
        let qualified = QUALIFIED.contains(&qualification);
        self.contacts += n;
        if RESPONDED.contains(&response) {
            self.responded += n;
        }
        if INTERESTED.contains(&response) {
            self.interested += n;
            if qualified {
                self.qualified += n;
                if response == MEETING {
                    self.meetings += n;
                }
            }
        }
    }

    /// The stage counts, in the order of [`Funnel::STAGES`].
    pub fn counts(&self) -> [i64; 5] {
        [
            self.contacts,
            self.responded,
            self.interested,
            self.qualified,
            self.meetings,
        ]
    }
}

#[cfg(test)]
mod tests;
