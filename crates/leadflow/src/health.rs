//! The spec's integration health metrics, measured from the store: data sync success rate
//! (sync runs), workflow execution success rate (the outbox's settled intents), report
//! accuracy (the store's counts beside the portal's), API response time p50/p95/p99 and
//! the daily budget used (the client's latency flushes). `leadflow status` prints them,
//! `serve` sets them as gauges for `/metrics`. The formulas are in `docs/health.md`.
//!
//! It knows nothing about rendering; it never calls HubSpot except in [`check_counts`].

use std::time::Duration;

use leadflow_core::ObjectType;
use leadflow_hubspot::{Client, Percentiles, SearchRequest};
use leadflow_store::{CountCheck, LatencyFlush, Store};
use serde::Serialize;

/// The spec's targets ("Integration Health Metrics").
pub(crate) const SYNC_TARGET: f64 = 0.99;
pub(crate) const WORKFLOW_TARGET: f64 = 0.95;
pub(crate) const ACCURACY_TARGET: f64 = 0.99;
pub(crate) const LATENCY_TARGET: Duration = Duration::from_secs(2);

/// `part / whole`, or no data.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub(crate) struct Rate {
    pub(crate) part: i64,
    pub(crate) whole: i64,
}

impl Rate {
    pub(crate) fn ratio(self) -> Option<f64> {
        (self.whole > 0).then(|| self.part as f64 / self.whole as f64)
    }
}

/// API latency over the window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Latency {
    pub(crate) calls: i64,
    pub(crate) errors: i64,
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) p99_ms: f64,
}

/// The daily budget as HubSpot last reported it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub(crate) struct Budget {
    pub(crate) used: i64,
    pub(crate) limit: i64,
}

/// The store's counts beside the portal's, as last checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Accuracy {
    pub(crate) checked_at: i64,
    /// Σ min(store, portal) over Σ max(store, portal), per object type summed.
    pub(crate) rate: Rate,
    pub(crate) per_type: Vec<(String, i64, i64)>,
}

/// Every health metric over a window (`None`: nothing measured in it).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Health {
    pub(crate) since: i64,
    pub(crate) sync: Option<Rate>,
    pub(crate) workflows: Option<Rate>,
    pub(crate) accuracy: Option<Accuracy>,
    pub(crate) latency: Option<Latency>,
    pub(crate) budget: Option<Budget>,
}

/// Accuracy of a count check: Σ min / Σ max, so a missing record and an extra one both
/// count against it, and two empty sides agree.
pub(crate) fn accuracy(checks: &[CountCheck]) -> Option<Accuracy> {
    let first = checks.first()?;
    let (mut part, mut whole) = (0i64, 0i64);
    for c in checks {
        part += c.store_count.min(c.portal_count);
        whole += c.store_count.max(c.portal_count);
    }
    // Both sides empty everywhere: they agree.
    if whole == 0 {
        (part, whole) = (1, 1);
    }
    Some(Accuracy {
        checked_at: first.checked_at,
        rate: Rate { part, whole },
        per_type: checks
            .iter()
            .map(|c| (c.object_type.clone(), c.store_count, c.portal_count))
            .collect(),
    })
}

/// Latency and budget over the flushes of a window.
pub(crate) fn latency(flushes: &[LatencyFlush]) -> (Option<Latency>, Option<Budget>) {
    let mut values = Vec::new();
    let (mut calls, mut errors) = (0, 0);
    for f in flushes {
        calls += f.calls;
        errors += f.errors;
        // A row that is not the pairs this module wrote is skipped, not fatal: the
        // other flushes still say something.
        if let Ok(v) = serde_json::from_str::<Vec<(u64, u64)>>(&f.histogram) {
            values.extend(v);
        }
    }
    let p = Percentiles::from_values(&values);
    let ms = |q: f64| p.quantile(q).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let latency = (!p.is_empty()).then(|| Latency {
        calls,
        errors,
        p50_ms: ms(0.5),
        p95_ms: ms(0.95),
        p99_ms: ms(0.99),
    });
    let budget = flushes.iter().rev().find_map(|f| {
        let (limit, left) = (f.daily_limit?, f.daily_remaining?);
        Some(Budget {
            used: (limit - left).max(0),
            limit,
        })
    });
    (latency, budget)
}

/// Measures every health metric since `since` (unix ms).
pub(crate) async fn measure(store: &Store, portal: &str, since: i64) -> anyhow::Result<Health> {
    let runs = store.sync_run_stats(portal, since).await?;
    let sync = (!runs.is_empty()).then(|| {
        let (ok, failed) = runs
            .iter()
            .fold((0, 0), |(o, f), r| (o + r.ok, f + r.failed));
        Rate {
            part: ok,
            whole: ok + failed,
        }
    });
    // Settled intents only: pending or in-flight ones have no outcome yet, skipped ones
    // needed no call.
    let states = store.intent_states_since(portal, since).await?;
    let count = |s: &str| states.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    let (done, dead) = (count("done"), count("dead"));
    let workflows = (done + dead > 0).then_some(Rate {
        part: done,
        whole: done + dead,
    });
    let flushes = store.latency_since(portal, since).await?;
    let (latency, budget) = latency(&flushes);
    Ok(Health {
        since,
        sync,
        workflows,
        accuracy: accuracy(&store.last_count_check(portal).await?),
        latency,
        budget,
    })
}

/// Stores the latency of the client's calls since its last flush (nothing when it made
/// none).
pub(crate) async fn flush_latency(
    client: &Client,
    store: &Store,
    portal: &str,
) -> anyhow::Result<()> {
    let s = client.take_latency();
    if s.calls == 0 {
        return Ok(());
    }
    let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    store
        .record_latency(
            portal,
            &LatencyFlush {
                recorded_at: jiff::Timestamp::now().as_millisecond(),
                calls: to_i64(s.calls),
                errors: to_i64(s.errors),
                histogram: serde_json::to_string(&s.values)?,
                daily_remaining: s.daily_remaining.map(to_i64),
                daily_limit: s.daily_limit.map(to_i64),
            },
        )
        .await?;
    Ok(())
}

/// Counts every object type in the portal (a search's total: one call each) and in the
/// store at the same time, and stores the check.
pub(crate) async fn check_counts(
    client: &Client,
    store: &Store,
    portal: &str,
) -> anyhow::Result<Vec<CountCheck>> {
    let checked_at = jiff::Timestamp::now().as_millisecond();
    let mut checks = Vec::new();
    for t in ObjectType::ALL {
        let page = client
            .objects(t)
            .search_page(&SearchRequest {
                limit: 1,
                ..SearchRequest::default()
            })
            .await?;
        let stored = store.count(portal, t, false).await?;
        checks.push(CountCheck {
            checked_at,
            object_type: t.api_name().to_owned(),
            store_count: i64::try_from(stored).unwrap_or(i64::MAX),
            portal_count: i64::try_from(page.total).unwrap_or(i64::MAX),
        });
    }
    store.record_count_checks(portal, &checks).await?;
    Ok(checks)
}

/// What `serve` does after each background step: the client's latency flushed, the
/// portal's counts checked (with each reconciliation sweep), and the gauges set from the
/// last 24 hours.
pub(crate) async fn refresh(
    client: &Client,
    store: &Store,
    portal: &str,
    check_portal: bool,
) -> anyhow::Result<()> {
    flush_latency(client, store, portal).await?;
    if check_portal {
        check_counts(client, store, portal).await?;
    }
    let since = jiff::Timestamp::now().as_millisecond() - 24 * 3_600_000;
    publish(&measure(store, portal, since).await?);
    Ok(())
}

/// Sets the health gauges `/metrics` shows (ratios 0–1, latency in seconds); a metric
/// with no data is left unset.
fn publish(h: &Health) {
    let set = |name: &'static str, v: Option<f64>| {
        if let Some(v) = v {
            metrics::gauge!(name).set(v);
        }
    };
    set("leadflow_sync_success_ratio", h.sync.and_then(Rate::ratio));
    set(
        "leadflow_workflow_success_ratio",
        h.workflows.and_then(Rate::ratio),
    );
    set(
        "leadflow_report_accuracy_ratio",
        h.accuracy.as_ref().and_then(|a| a.rate.ratio()),
    );
    if let Some(l) = &h.latency {
        for (q, v) in [("0.5", l.p50_ms), ("0.95", l.p95_ms), ("0.99", l.p99_ms)] {
            metrics::gauge!("leadflow_hubspot_latency_seconds", "quantile" => q).set(v / 1000.0);
        }
    }
    if let Some(b) = h.budget {
        set(
            "leadflow_rate_budget_used_ratio",
            (b.limit > 0).then(|| b.used as f64 / b.limit as f64),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(t: &str, store: i64, portal: i64) -> CountCheck {
        CountCheck {
            checked_at: 7,
            object_type: t.to_owned(),
            store_count: store,
            portal_count: portal,
        }
    }

    #[test]
    fn accuracy_counts_missing_and_extra_records_against_it() {
        let a = accuracy(&[check("contacts", 98, 100), check("deals", 12, 10)]).unwrap();
        // min: 98 + 10; max: 100 + 12.
        assert_eq!(
            a.rate,
            Rate {
                part: 108,
                whole: 112
            }
        );
        assert_eq!(
            accuracy(&[check("contacts", 0, 0)]).unwrap().rate.ratio(),
            Some(1.0)
        );
        assert_eq!(accuracy(&[]), None);
    }

    #[test]
    fn latency_merges_flushes_and_takes_the_last_budget() {
        let flush = |values: &[(u64, u64)], left: Option<i64>| LatencyFlush {
            recorded_at: 1,
            calls: values.iter().map(|v| v.1 as i64).sum(),
            errors: 1,
            histogram: serde_json::to_string(values).unwrap(),
            daily_remaining: left,
            daily_limit: left.map(|_| 1_000),
        };
        // 90 calls at 10 ms, 10 at 3 s.
        let (l, b) = latency(&[
            flush(&[(10_000, 90)], Some(800)),
            flush(&[(3_000_000, 10)], None),
            LatencyFlush {
                histogram: "not json".to_owned(),
                ..flush(&[], None)
            },
        ]);
        let l = l.unwrap();
        assert_eq!((l.calls, l.errors), (100, 3));
        assert!((l.p50_ms - 10.0).abs() < 0.1, "{}", l.p50_ms);
        assert!((l.p95_ms - 3000.0).abs() < 3.0, "{}", l.p95_ms);
        assert_eq!(
            b,
            Some(Budget {
                used: 200,
                limit: 1_000
            })
        );
        assert_eq!(latency(&[]), (None, None));
    }
}
