//! Building the advice for one month from the store: trends against the month before,
//! message strategies per ICP type, deal thresholds, and workflows and sequences that
//! stopped converting.
//!
//! Contacts are the dashboard's (outbound leads, by creation time in the project's time
//! zone), counted by the store and tallied with the reports crate's formulas, so "a
//! response" means here what it means in every report. A contact's statuses are read as
//! they are now, so in the trends an older cohort has had longer to answer; workflows and
//! sequences instead count the responses logged after each enrollment and before the end
//! of its month (see `docs/advice.md`).

use std::collections::{BTreeMap, BTreeSet};

use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use leadflow_config::Project;
use leadflow_reports::{MEETING, RESPONDED, Tally, Value};
use leadflow_store::{ContactFilter, EnrolledCounts, Store};
use serde::Serialize;

use crate::Error;
use crate::stats::{
    ALPHA, Alternative, Evidence, MIN_CONTACTS, MIN_EXPECTED, Rate, independence, two_counts,
    two_proportions,
};
use crate::thresholds::{self, ScoreRate, ThresholdAdvice};

/// How many months (the analysed one and those before it) the threshold analysis counts:
/// meetings are rarer than responses, so one month is seldom enough.
pub const THRESHOLD_MONTHS: i32 = 3;

/// One metric this month against the month before.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trend {
    /// The metric's catalogue name.
    pub metric: String,
    /// The month before.
    pub previous: Value,
    /// The month analysed.
    pub current: Value,
    /// `current − previous`: contacts for a count, percentage points for a rate; `None`
    /// when either has no data.
    pub change: Option<f64>,
    /// For a count: the previous and current month's daily rate (months differ in
    /// length, and the test compares daily rates).
    pub per_day: Option<[f64; 2]>,
    /// Whether the change is more than chance.
    pub evidence: Evidence,
}

/// One message strategy's responses within an ICP type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StrategyRate {
    /// The strategy.
    pub strategy: String,
    /// Responses of contacts.
    pub responses: Rate,
}

/// The message strategies of one ICP type, best first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IcpStrategies {
    /// The ICP type.
    pub icp_type: String,
    /// Every strategy used, best response rate first (ties: more contacts first).
    pub strategies: Vec<StrategyRate>,
    /// The best strategy among those with at least [`MIN_CONTACTS`] contacts.
    pub best: Option<String>,
    /// The best against the other eligible strategies pooled (one-sided, Bonferroni:
    /// alpha divided by the number of eligible strategies, since the best was picked
    /// after looking).
    pub best_vs_rest: Evidence,
    /// Whether the response rate depends on the strategy at all (chi-square over the
    /// eligible strategies).
    pub independence: Evidence,
    /// The finding in one sentence.
    pub verdict: String,
}

/// How a workflow or sequence converts this month against the month before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversionStatus {
    /// Nothing wrong found.
    Converting,
    /// Enrollments this month and none responded, where last month's rate expected at
    /// least [`MIN_EXPECTED`] responses.
    Stopped,
    /// Significantly fewer responses than last month (one-sided test).
    Dropped,
    /// Too little data to tell.
    NotEnoughData,
}

/// One workflow or sequence: enrolled contacts and their responses, this month and last.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conversion {
    /// `workflow` or `sequence`.
    pub kind: String,
    /// The workflow's key or the sequence's id.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Responses of contacts enrolled the month before.
    pub previous: Rate,
    /// Responses of contacts enrolled in the month analysed.
    pub current: Rate,
    /// This month against last (one-sided: lower).
    pub evidence: Evidence,
    /// What was found.
    pub status: ConversionStatus,
    /// The finding in one sentence.
    pub verdict: String,
}

/// The advice for one month. Nothing in it is applied: the config diff is a suggestion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Advice {
    /// The month analysed (`2026-11`).
    pub month: String,
    /// The month it is compared with.
    pub previous_month: String,
    /// The significance level of every test.
    pub alpha: f64,
    /// The fewest contacts a group needs.
    pub min_contacts: i64,
    /// The fewest expected successes and failures a group needs.
    pub min_expected: f64,
    /// Month-over-month trends (outbound contacts created in each month).
    pub trends: Vec<Trend>,
    /// Message strategies per ICP type (contacts created in the month analysed).
    pub strategies: Vec<IcpStrategies>,
    /// The deal thresholds of `workflows.yaml` (contacts created in the last
    /// [`THRESHOLD_MONTHS`] months).
    pub thresholds: Vec<ThresholdAdvice>,
    /// Workflows and sequences, by enrollment month.
    pub conversions: Vec<Conversion>,
    /// What to change, in words.
    pub suggestions: Vec<String>,
    /// The suggested change to `workflows.yaml` as a unified diff (never applied).
    pub diff: Option<String>,
}

impl Advice {
    /// The suggested change to `workflows.yaml` as a unified diff (`a/workflows.yaml`,
    /// `b/workflows.yaml`; apply with `patch -p1` in the project directory), or `None` when
    /// nothing in the configuration should change.
    pub fn config_diff(&self) -> Option<String> {
        self.diff.clone()
    }
}

/// A month: `[from_ms, until_ms)` in the project's time zone, and its length in days.
#[derive(Clone, Copy, Debug)]
struct Month {
    from_ms: i64,
    until_ms: i64,
    days: i64,
}

impl Month {
    /// The month that starts on `first`, in `tz`.
    fn starting(first: Date, tz: &TimeZone) -> Result<Self, Error> {
        let bad = |reason: String| Error::BadMonth {
            month: first.strftime("%Y-%m").to_string(),
            reason,
        };
        let next = first
            .checked_add(1.month())
            .map_err(|e| bad(e.to_string()))?;
        let at = |d: Date| -> Result<i64, Error> {
            Ok(d.to_zoned(tz.clone())
                .map_err(|e| bad(e.to_string()))?
                .timestamp()
                .as_millisecond())
        };
        Ok(Self {
            from_ms: at(first)?,
            until_ms: at(next)?,
            days: i64::from(first.days_in_month()),
        })
    }

    /// The dashboard's contacts (outbound leads, as `leadflow_reports::dashboard_filter`)
    /// created from this month's start until `until_ms`.
    fn outbound_until(&self, until_ms: i64) -> ContactFilter {
        ContactFilter {
            equals: vec![("lead_source".to_owned(), "Outbound".to_owned())],
            created_from: Some(self.from_ms),
            created_until: Some(until_ms),
        }
    }

    /// The dashboard's contacts created in this month.
    fn outbound(&self) -> ContactFilter {
        self.outbound_until(self.until_ms)
    }
}

fn tally(rows: &[leadflow_store::ContactCounts]) -> Tally {
    rows.iter().fold(Tally::default(), |mut t, r| {
        t.add(r);
        t
    })
}

fn rate_trend(metric: &str, prev: Rate, cur: Rate) -> Trend {
    Trend {
        metric: metric.to_owned(),
        previous: Value::ratio(prev.successes, prev.trials),
        current: Value::ratio(cur.successes, cur.trials),
        change: cur.value().zip(prev.value()).map(|(c, p)| (c - p) * 100.0),
        per_day: None,
        evidence: two_proportions(cur, prev, Alternative::TwoSided, ALPHA),
    }
}

fn trends(prev: &Tally, prev_days: i64, cur: &Tally, cur_days: i64) -> Vec<Trend> {
    vec![
        Trend {
            metric: "Total Contacts Created".to_owned(),
            previous: Value::Count {
                count: prev.contacts,
            },
            current: Value::Count {
                count: cur.contacts,
            },
            change: Some((cur.contacts - prev.contacts) as f64),
            per_day: Some([
                prev.contacts as f64 / prev_days as f64,
                cur.contacts as f64 / cur_days as f64,
            ]),
            evidence: two_counts(cur.contacts, cur_days, prev.contacts, prev_days, ALPHA),
        },
        rate_trend(
            "Response Rate",
            Rate::new(prev.responded, prev.contacts),
            Rate::new(cur.responded, cur.contacts),
        ),
        rate_trend(
            "Qualification Rate",
            Rate::new(prev.qualified, prev.contacts),
            Rate::new(cur.qualified, cur.contacts),
        ),
        rate_trend(
            "Meeting Conversion Rate",
            Rate::new(prev.meetings, prev.responded),
            Rate::new(cur.meetings, cur.responded),
        ),
    ]
}

/// Judges the strategies of one ICP type (`by_strategy`: responses per strategy).
fn judge_strategies(icp_type: &str, by_strategy: Vec<StrategyRate>) -> IcpStrategies {
    let mut strategies = by_strategy;
    // Best rate first, compared exactly by cross-multiplying; ties: more contacts first.
    strategies.sort_by(|a, b| {
        let (l, r) = (
            i128::from(b.responses.successes) * i128::from(a.responses.trials),
            i128::from(a.responses.successes) * i128::from(b.responses.trials),
        );
        l.cmp(&r)
            .then(b.responses.trials.cmp(&a.responses.trials))
            .then(a.strategy.cmp(&b.strategy))
    });
    let eligible: Vec<&StrategyRate> = strategies
        .iter()
        .filter(|s| s.responses.trials >= MIN_CONTACTS)
        .collect();
    // The best eligible strategy and the others pooled, when there are two to compare.
    let split = match eligible.split_first() {
        Some((best, rest)) if !rest.is_empty() => Some((
            *best,
            rest.iter().fold(Rate::default(), |r, s| r + s.responses),
        )),
        _ => None,
    };
    let (best_vs_rest, independence) = match split {
        Some((best, rest)) => (
            two_proportions(
                best.responses,
                rest,
                Alternative::Greater,
                ALPHA / eligible.len() as f64,
            ),
            independence(
                &eligible.iter().map(|s| s.responses).collect::<Vec<_>>(),
                ALPHA,
            ),
        ),
        None => {
            let counts = strategies
                .iter()
                .map(|s| format!("{} {}", s.strategy, s.responses.trials))
                .collect::<Vec<_>>()
                .join(", ");
            let why = Evidence::NotEnoughData {
                reason: format!(
                    "{} strateg{} with at least {MIN_CONTACTS} contacts, 2 needed (contacts: {})",
                    eligible.len(),
                    if eligible.len() == 1 { "y" } else { "ies" },
                    if counts.is_empty() { "none" } else { &counts }
                ),
            };
            (why.clone(), why)
        }
    };
    let verdict = match (split, &best_vs_rest) {
        (Some((best, rest)), e) if e.significant() => format!(
            "{} answers best for {icp_type}: {} against {} for the other strategies; significant",
            best.strategy,
            best.responses.display(),
            rest.display()
        ),
        (Some((best, _)), Evidence::Tested(t)) => format!(
            "{} leads for {icp_type} ({}), but not significantly (p = {:.3}): keep testing the strategies",
            best.strategy,
            best.responses.display(),
            t.p_value
        ),
        (_, e) => format!("{icp_type}: {}", e.display()),
    };
    let best = split.map(|(b, _)| b.strategy.clone());
    IcpStrategies {
        icp_type: icp_type.to_owned(),
        strategies,
        best,
        best_vs_rest,
        independence,
        verdict,
    }
}

fn strategies(rows: &[leadflow_store::ContactCounts]) -> Vec<IcpStrategies> {
    let mut by_icp: BTreeMap<String, BTreeMap<String, Tally>> = BTreeMap::new();
    for r in rows {
        // Contacts without an ICP type or a strategy take no part.
        let (Some(Some(icp)), Some(Some(strategy))) = (r.groups.first(), r.groups.get(1)) else {
            continue;
        };
        by_icp
            .entry(icp.clone())
            .or_default()
            .entry(strategy.clone())
            .or_default()
            .add(r);
    }
    by_icp
        .into_iter()
        .map(|(icp, by_strategy)| {
            let rates = by_strategy
                .into_iter()
                .map(|(strategy, t)| StrategyRate {
                    strategy,
                    responses: Rate::new(t.responded, t.contacts),
                })
                .collect();
            judge_strategies(&icp, rates)
        })
        .collect()
}

/// Responses of enrolled contacts per workflow or sequence key, with its name if known.
fn responses_by_key(rows: Vec<EnrolledCounts>) -> BTreeMap<String, (Option<String>, Rate)> {
    rows.into_iter()
        .map(|r| (r.key, (r.name, Rate::new(r.responded, r.contacts))))
        .collect()
}

/// Judges one workflow's or sequence's responses this month against last month's.
fn judge_conversion(
    kind: &str,
    key: &str,
    name: &str,
    previous: Rate,
    current: Rate,
) -> Conversion {
    let evidence = two_proportions(current, previous, Alternative::Less, ALPHA);
    let expected = previous.value().map(|p| p * current.trials as f64);
    let (status, verdict) = if current.trials > 0
        && current.successes == 0
        && expected.is_some_and(|e| e >= MIN_EXPECTED)
    {
        (
            ConversionStatus::Stopped,
            format!(
                "{kind} {name} stopped converting: {} contacts enrolled this month, none responded (last month {}, so about {:.0} responses were expected)",
                current.trials,
                previous.display(),
                expected.unwrap_or_default()
            ),
        )
    } else if evidence.significant() {
        (
            ConversionStatus::Dropped,
            format!(
                "{kind} {name} converts significantly less: {} this month against {} last month",
                current.display(),
                previous.display()
            ),
        )
    } else if evidence.tested() {
        (
            ConversionStatus::Converting,
            format!(
                "{kind} {name}: {} this month, {} last month",
                current.display(),
                previous.display()
            ),
        )
    } else {
        (
            ConversionStatus::NotEnoughData,
            format!(
                "{kind} {name}: {} this month, {} last month ({})",
                current.display(),
                previous.display(),
                evidence.display()
            ),
        )
    };
    Conversion {
        kind: kind.to_owned(),
        key: key.to_owned(),
        name: name.to_owned(),
        previous,
        current,
        evidence,
        status,
        verdict,
    }
}

async fn conversions(
    store: &Store,
    portal: &str,
    project: &Project,
    prev: &Month,
    cur: &Month,
) -> Result<Vec<Conversion>, Error> {
    let mut out = Vec::new();
    let wf_prev = responses_by_key(
        store
            .workflow_enrolled_counts(portal, prev.from_ms, prev.until_ms, &RESPONDED)
            .await?,
    );
    let wf_cur = responses_by_key(
        store
            .workflow_enrolled_counts(portal, cur.from_ms, cur.until_ms, &RESPONDED)
            .await?,
    );
    // The project's workflows only: the engine's built-in ones (data sync, scoring) are
    // not outreach and have no response to convert to.
    for w in &project.workflows {
        let p = wf_prev.get(&w.key).map(|(_, r)| *r).unwrap_or_default();
        let c = wf_cur.get(&w.key).map(|(_, r)| *r).unwrap_or_default();
        if p.trials > 0 || c.trials > 0 {
            out.push(judge_conversion("workflow", &w.key, &w.name, p, c));
        }
    }
    let seq_prev = responses_by_key(
        store
            .sequence_enrolled_counts(portal, prev.from_ms, prev.until_ms, &RESPONDED)
            .await?,
    );
    let seq_cur = responses_by_key(
        store
            .sequence_enrolled_counts(portal, cur.from_ms, cur.until_ms, &RESPONDED)
            .await?,
    );
    let keys: BTreeSet<&String> = seq_prev.keys().chain(seq_cur.keys()).collect();
    for key in keys {
        let (prev_name, p) = seq_prev.get(key).cloned().unwrap_or_default();
        let (cur_name, c) = seq_cur.get(key).cloned().unwrap_or_default();
        let name = cur_name
            .or(prev_name)
            .unwrap_or_else(|| format!("(sequence {key})"));
        out.push(judge_conversion("sequence", key, &name, p, c));
    }
    Ok(out)
}

/// Meetings per ICP fit score 1-10 among the contacts `filter` selects (scores are rounded
/// to the nearest whole number; contacts without one, or outside 1-10, take no part).
async fn meetings_by_score(
    store: &Store,
    portal: &str,
    filter: &ContactFilter,
) -> Result<Vec<ScoreRate>, Error> {
    let mut by: BTreeMap<i64, Rate> = (1..=10).map(|s| (s, Rate::default())).collect();
    for r in store.fit_score_counts(portal, filter).await? {
        let Some(score) = r.score.filter(|s| s.is_finite()).map(|s| s.round() as i64) else {
            continue;
        };
        let Some(rate) = by.get_mut(&score) else {
            continue;
        };
        let meeting = r.response_status.as_deref() == Some(MEETING);
        *rate = *rate + Rate::new(if meeting { r.contacts } else { 0 }, r.contacts);
    }
    Ok(by
        .into_iter()
        .map(|(score, meetings)| ScoreRate { score, meetings })
        .collect())
}

/// Builds the advice for the month that contains `month` (normally its first day), in
/// the project's time zone `tz`, against the month before.
///
/// # Errors
/// [`Error::Store`] when a read fails; [`Error::ReadWorkflows`] when a threshold change is
/// suggested and `workflows.yaml` cannot be read to write the diff against;
/// [`Error::BadMonth`] for a month outside the calendar.
pub async fn advise(
    store: &Store,
    portal: &str,
    project: &Project,
    month: Date,
    tz: &TimeZone,
) -> Result<Advice, Error> {
    let first = month.first_of_month();
    let bad = |reason: String| Error::BadMonth {
        month: first.strftime("%Y-%m").to_string(),
        reason,
    };
    let prev_first = first
        .checked_sub(1.month())
        .map_err(|e| bad(e.to_string()))?;
    let window_first = first
        .checked_sub((THRESHOLD_MONTHS - 1).months())
        .map_err(|e| bad(e.to_string()))?;
    let cur = Month::starting(first, tz)?;
    let prev = Month::starting(prev_first, tz)?;
    let window = Month::starting(window_first, tz)?;

    let cur_rows = store
        .contact_counts(portal, &cur.outbound(), &["icp_type", "message_strategy"])
        .await?;
    let prev_rows = store.contact_counts(portal, &prev.outbound(), &[]).await?;
    let trends = trends(&tally(&prev_rows), prev.days, &tally(&cur_rows), cur.days);
    let strategies = strategies(&cur_rows);

    let window_filter = window.outbound_until(cur.until_ms);
    let scores = meetings_by_score(store, portal, &window_filter).await?;
    let thresholds: Vec<ThresholdAdvice> = thresholds::deal_thresholds(project)
        .into_iter()
        .map(|(t, uses)| thresholds::judge(t, uses, &scores))
        .collect();

    let conversions = conversions(store, portal, project, &prev, &cur).await?;

    let mut suggestions = Vec::new();
    for s in &strategies {
        if s.best_vs_rest.significant() {
            suggestions.push(s.verdict.clone());
        }
    }
    for t in &thresholds {
        if t.suggested.is_some() {
            let names: Vec<&str> = t.uses.iter().map(|u| u.name.as_str()).collect();
            suggestions.push(format!("{}: {}", names.join(", "), t.verdict));
        }
    }
    for c in &conversions {
        if matches!(
            c.status,
            ConversionStatus::Stopped | ConversionStatus::Dropped
        ) {
            suggestions.push(format!("{}: review its messages and audience", c.verdict));
        }
    }
    let diff = if thresholds.iter().any(|t| t.suggested.is_some()) {
        let path = project.dir.join("workflows.yaml");
        let old = std::fs::read_to_string(&path).map_err(|source| Error::ReadWorkflows {
            path: path.display().to_string(),
            source,
        })?;
        let (new, skipped) = thresholds::apply_suggestions(&old, &thresholds);
        suggestions.extend(skipped);
        thresholds::diff(&old, &new)
    } else {
        None
    };
    Ok(Advice {
        month: first.strftime("%Y-%m").to_string(),
        previous_month: prev_first.strftime("%Y-%m").to_string(),
        alpha: ALPHA,
        min_contacts: MIN_CONTACTS,
        min_expected: MIN_EXPECTED,
        trends,
        strategies,
        thresholds,
        conversions,
        suggestions,
        diff,
    })
}
