//! Deal thresholds: where `workflows.yaml` creates deals by ICP fit score, whether meetings
//! come from just below a threshold as often as from above it, and the suggested change as
//! a unified diff of `workflows.yaml`.
//!
//! A threshold is read from a `create_deal` action whose condition is one comparison of
//! the ICP fit score with a whole number (`ICP Fit Score >= 7`, `icp_fit_score > 6`);
//! compound conditions are left alone (their threshold is not one number to move). This
//! module never writes the file: the diff is text for the user to apply.

use std::collections::BTreeMap;

use leadflow_config::Project;
use leadflow_config::workflows::ActionKind;
use leadflow_core::ObjectType;
use serde::Serialize;

use crate::stats::{ALPHA, Alternative, Evidence, Rate, two_proportions};

/// A `create_deal` condition that sets a threshold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ThresholdUse {
    /// The workflow's key.
    pub workflow: String,
    /// The workflow's name.
    pub name: String,
    /// The condition as written.
    pub condition: String,
    /// Its line in `workflows.yaml`.
    pub line: u32,
}

/// Meetings among the contacts with one ICP fit score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ScoreRate {
    /// The score (1-10).
    pub score: i64,
    /// Meetings of contacts.
    pub meetings: Rate,
}

/// What the data says about one deal threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThresholdAdvice {
    /// Deals are created at this score and above.
    pub threshold: i64,
    /// The conditions that set it.
    pub uses: Vec<ThresholdUse>,
    /// Meetings at the score just below the threshold.
    pub just_below: Rate,
    /// Meetings at the threshold and above.
    pub at_or_above: Rate,
    /// Just below against at or above (two-sided).
    pub evidence: Evidence,
    /// The threshold the data supports, when it differs.
    pub suggested: Option<i64>,
    /// The finding in one sentence.
    pub verdict: String,
}

/// The lowest score a condition on the ICP fit score lets through, when the condition is
/// one comparison of it with a whole number.
fn threshold_of(source: &str, project: &Project) -> Option<i64> {
    let (left, right, strict) = if let Some((l, r)) = source.split_once(">=") {
        (l, r, false)
    } else {
        let (l, r) = source.split_once('>')?;
        (l, r, true)
    };
    let (name, _) = project
        .properties
        .kind_of(ObjectType::Contacts, left.trim())?;
    if name != "icp_fit_score" {
        return None;
    }
    let n: i64 = right.trim().parse().ok()?;
    Some(if strict { n + 1 } else { n })
}

/// Every deal threshold in the project's enabled workflows, with the conditions that set
/// it.
pub(crate) fn deal_thresholds(project: &Project) -> BTreeMap<i64, Vec<ThresholdUse>> {
    let mut out: BTreeMap<i64, Vec<ThresholdUse>> = BTreeMap::new();
    for w in project.workflows.iter().filter(|w| w.enabled) {
        for a in &w.actions {
            let (ActionKind::CreateDeal { .. }, Some(c)) = (&a.kind, &a.condition) else {
                continue;
            };
            if let Some(t) = threshold_of(&c.source, project) {
                out.entry(t).or_default().push(ThresholdUse {
                    workflow: w.key.clone(),
                    name: w.name.clone(),
                    condition: c.source.clone(),
                    line: c.loc.line,
                });
            }
        }
    }
    out
}

fn sum(scores: &[ScoreRate], keep: impl Fn(i64) -> bool) -> Rate {
    scores
        .iter()
        .filter(|s| keep(s.score))
        .fold(Rate::default(), |r, s| r + s.meetings)
}

/// Whether the contacts at `score` meet as often as those at or above `threshold` (not
/// significantly less) and more often than those below `score` (significantly more).
fn behaves_like_above(scores: &[ScoreRate], score: i64, threshold: i64) -> bool {
    let at = sum(scores, |s| s == score);
    let above = sum(scores, |s| s >= threshold);
    let below = sum(scores, |s| s < score);
    let vs_above = two_proportions(at, above, Alternative::Less, ALPHA);
    let vs_below = two_proportions(at, below, Alternative::Greater, ALPHA);
    vs_above.tested() && !vs_above.significant() && vs_below.significant()
}

/// Whether the contacts at `threshold` meet no more often than those below it (not
/// significantly more) and less often than those above it (significantly less).
fn behaves_like_below(scores: &[ScoreRate], threshold: i64) -> bool {
    let at = sum(scores, |s| s == threshold);
    let below = sum(scores, |s| s < threshold);
    let above = sum(scores, |s| s > threshold);
    let vs_below = two_proportions(at, below, Alternative::Greater, ALPHA);
    let vs_above = two_proportions(at, above, Alternative::Less, ALPHA);
    vs_below.tested() && !vs_below.significant() && vs_above.significant()
}

/// Judges `threshold` against the meetings per score (`scores`: one entry per score 1-10).
pub(crate) fn judge(
    threshold: i64,
    uses: Vec<ThresholdUse>,
    scores: &[ScoreRate],
) -> ThresholdAdvice {
    let just_below = sum(scores, |s| s == threshold - 1);
    let at_or_above = sum(scores, |s| s >= threshold);
    let evidence = two_proportions(just_below, at_or_above, Alternative::TwoSided, ALPHA);
    // Step down while the next score down behaves like the scores above the threshold.
    let mut lower = threshold;
    while lower > 1 && behaves_like_above(scores, lower - 1, threshold) {
        lower -= 1;
    }
    let suggested = if lower < threshold {
        Some(lower)
    } else if threshold < 10 && behaves_like_below(scores, threshold) {
        Some(threshold + 1)
    } else {
        None
    };
    let verdict = match (suggested, &evidence) {
        (Some(s), _) if s < threshold => format!(
            "meetings come from score {s}{} about as often as from {threshold}+ ({} against {}) and more often than from lower scores: consider creating deals from {s}",
            if s < threshold - 1 {
                format!("-{}", threshold - 1)
            } else {
                String::new()
            },
            sum(scores, |x| (s..threshold).contains(&x)).display(),
            at_or_above.display()
        ),
        (Some(s), _) => format!(
            "contacts at score {threshold} meet no more often than those below it ({} against {}) and less often than those above: consider creating deals from {s}",
            sum(scores, |x| x == threshold).display(),
            sum(scores, |x| x < threshold).display()
        ),
        (None, Evidence::NotEnoughData { reason }) => format!(
            "not enough data to judge the threshold {threshold}: score {} has {}, {threshold}+ has {} ({reason})",
            threshold - 1,
            just_below.display(),
            at_or_above.display()
        ),
        (None, Evidence::Tested(t)) if t.significant => format!(
            "the threshold {threshold} holds: score {} meets at {}, significantly less than {threshold}+ at {}",
            threshold - 1,
            just_below.display(),
            at_or_above.display()
        ),
        (None, Evidence::Tested(_)) => format!(
            "score {} meets at {} against {} for {threshold}+ (no significant difference), but not clearly more often than lower scores: no change suggested",
            threshold - 1,
            just_below.display(),
            at_or_above.display()
        ),
    };
    ThresholdAdvice {
        threshold,
        uses,
        just_below,
        at_or_above,
        evidence,
        suggested,
        verdict,
    }
}

/// `workflows_yaml` with every suggested threshold moved, and the lines that could not be
/// edited (a condition not found on its line) described.
pub(crate) fn apply_suggestions(
    workflows_yaml: &str,
    advice: &[ThresholdAdvice],
) -> (String, Vec<String>) {
    let mut lines: Vec<String> = workflows_yaml
        .split_inclusive('\n')
        .map(str::to_owned)
        .collect();
    let mut skipped = Vec::new();
    for a in advice {
        let Some(to) = a.suggested else { continue };
        for u in &a.uses {
            let i = (u.line as usize).saturating_sub(1);
            // `ICP Fit Score >= 7` → `ICP Fit Score >= 6`; `> 6` becomes `>= 6` too, so
            // the new threshold reads as it is.
            let new = u
                .condition
                .split_once('>')
                .map(|(left, _)| format!("{left}>= {to}"));
            match (lines.get_mut(i), new) {
                (Some(line), Some(new)) if line.contains(u.condition.as_str()) => {
                    *line = line.replacen(u.condition.as_str(), &new, 1);
                }
                _ => skipped.push(format!(
                    "workflows.yaml:{}: {:?} not found on its line; change it by hand",
                    u.line, u.condition
                )),
            }
        }
    }
    (lines.concat(), skipped)
}

/// The unified diff from `old` to `new`, as `a/workflows.yaml` and `b/workflows.yaml`, or
/// `None` when they are equal.
pub(crate) fn diff(old: &str, new: &str) -> Option<String> {
    (old != new).then(|| {
        similar::udiff::unified_diff(
            similar::Algorithm::Myers,
            old,
            new,
            3,
            Some(("a/workflows.yaml", "b/workflows.yaml")),
        )
    })
}

#[cfg(test)]
mod tests;
