//! Lead scoring as a pure function of the contact's properties and the day.
//!
//! The score is base + ICP Fit Score × points per point + the Response Status option's
//! points + engagement recency (max points × ½^(days since the recency date / half-life)),
//! rounded to a whole number and clamped to the configured range. A missing or unreadable
//! value gives no points and says so.

use std::collections::BTreeMap;

use jiff::civil::Date;
use leadflow_config::automation::Scoring;
use leadflow_config::values::{fmt_number, parse_date};

/// One part of a score.
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution {
    /// Where the points come from (`base`, `ICP Fit Score`, `Response Status`,
    /// `engagement recency`, `clamp`).
    pub source: &'static str,
    /// The value it was computed from, in words.
    pub detail: String,
    /// The points.
    pub points: f64,
}

fn value<'a>(contact: &'a BTreeMap<String, Option<String>>, name: &str) -> Option<&'a str> {
    contact
        .get(name)?
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The contact's lead score on `today` and every contribution to it; the contributions'
/// points add up to the score (a `clamp` contribution takes up what clamping removed,
/// rounding aside). Never fails: a missing or unreadable value contributes nothing.
pub fn score(
    scoring: &Scoring,
    contact: &BTreeMap<String, Option<String>>,
    today: Date,
) -> (i64, Vec<Contribution>) {
    let mut out = vec![Contribution {
        source: "base",
        detail: "every contact".to_owned(),
        points: scoring.base,
    }];

    let fit = match value(contact, "icp_fit_score") {
        None => Contribution {
            source: "ICP Fit Score",
            detail: "missing".to_owned(),
            points: 0.0,
        },
        Some(raw) => match raw.parse::<f64>().ok().filter(|f| f.is_finite()) {
            Some(f) => Contribution {
                source: "ICP Fit Score",
                detail: format!(
                    "{} × {}",
                    fmt_number(f),
                    fmt_number(scoring.icp_points_per_point)
                ),
                points: f * scoring.icp_points_per_point,
            },
            None => Contribution {
                source: "ICP Fit Score",
                detail: format!("{raw:?} is not a number"),
                points: 0.0,
            },
        },
    };
    out.push(fit);

    let status = match value(contact, "response_status") {
        None => Contribution {
            source: "Response Status",
            detail: "missing".to_owned(),
            points: 0.0,
        },
        Some(s) => match scoring.response_points.get(s) {
            Some(p) => Contribution {
                source: "Response Status",
                detail: s.to_owned(),
                points: *p,
            },
            None => Contribution {
                source: "Response Status",
                detail: format!("{s} (not scored)"),
                points: 0.0,
            },
        },
    };
    out.push(status);

    let property = scoring.recency_property.as_str();
    let recency = match value(contact, property) {
        None => Contribution {
            source: "engagement recency",
            detail: format!("{property} missing"),
            points: 0.0,
        },
        Some(raw) => match parse_date(raw) {
            None => Contribution {
                source: "engagement recency",
                detail: format!("{property} {raw:?} is not a date"),
                points: 0.0,
            },
            Some(d) => {
                // A date in the future counts as today.
                let days = d.until(today).map_or(0, |s| s.get_days()).max(0);
                let half_life = if scoring.recency_half_life_days > 0.0 {
                    scoring.recency_half_life_days
                } else {
                    14.0
                };
                let points = scoring.recency_max_points * 0.5_f64.powf(f64::from(days) / half_life);
                Contribution {
                    source: "engagement recency",
                    detail: format!(
                        "{days} day(s) since {d}, half-life {} days",
                        fmt_number(half_life)
                    ),
                    points,
                }
            }
        },
    };
    out.push(recency);

    let raw: f64 = out.iter().map(|c| c.points).sum();
    let rounded = if raw.is_finite() { raw.round() } else { 0.0 };
    let (lo, hi) = scoring.clamp;
    let clamped = rounded.max(lo).min(hi);
    if clamped != rounded {
        out.push(Contribution {
            source: "clamp",
            detail: format!("kept within {}-{}", fmt_number(lo), fmt_number(hi)),
            points: clamped - rounded,
        });
    }
    // The clamp range is small numbers from scoring.yaml, so the cast is exact.
    (clamped as i64, out)
}

#[cfg(test)]
mod tests;
