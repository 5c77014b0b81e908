//! One sync step over every object type, with its outcome recorded in the store.
//!
//! `leadflow sync` runs the steps once; `leadflow serve` runs them on intervals. Either
//! way each (stream, run) lands in the store's `sync_runs`, from which `sync status` and
//! `/metrics` compute the spec's "data sync success rate" out of real counts.
//!
//! This module knows the client and the store; it knows nothing about command lines.

use std::collections::BTreeMap;

use leadflow_core::ObjectType;
use leadflow_hubspot::Client;
use leadflow_store::Store;

use crate::{
    SyncError, SyncOptions, apply_webhook_events, backfill, incremental, reconcile,
    sweep_associations, sync_reference,
};

/// The properties to fetch per object type.
pub type Properties = BTreeMap<ObjectType, Vec<String>>;

/// The links the association sweep reads (from the side with fewer records).
pub const ASSOCIATION_PAIRS: [(ObjectType, ObjectType); 4] = [
    (ObjectType::Deals, ObjectType::Contacts),
    (ObjectType::Deals, ObjectType::Companies),
    (ObjectType::Tasks, ObjectType::Contacts),
    (ObjectType::Contacts, ObjectType::Companies),
];

/// A sync step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// List every record (resumable).
    Backfill,
    /// Fetch what changed since the last run.
    Incremental,
    /// Apply stored webhook events.
    Webhooks,
    /// Owners, stages, sequences, lists.
    Reference,
    /// Compare ids and modified times with the portal and heal.
    Reconcile,
    /// Read links, which no modified time reveals.
    Associations,
}

/// What one stream of a step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepOutcome {
    /// The stream (`contacts.incremental`, `webhooks`, ...).
    pub stream: String,
    /// Records handled.
    pub records: usize,
    /// A one-line summary for people.
    pub summary: String,
    /// Why it failed (the run is recorded as failed; the next run resumes).
    pub error: Option<String>,
    /// Whether a bounded run stopped before the end (backfill with `max_pages`).
    pub partial: bool,
}

/// Limits of a step run.
#[derive(Clone, Debug)]
pub struct StepOptions {
    /// The portal's key in the store.
    pub portal: String,
    /// The object types.
    pub types: Vec<ObjectType>,
    /// Properties per object type.
    pub properties: Properties,
    /// Backfill: stop after this many pages per type.
    pub max_pages: Option<usize>,
    /// Backfill: start over.
    pub restart: bool,
}

fn now() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

async fn record(
    store: &Store,
    portal: &str,
    started: i64,
    out: StepOutcome,
) -> Result<StepOutcome, SyncError> {
    store
        .record_sync_run(
            portal,
            &out.stream,
            started,
            out.records as i64,
            out.error.as_deref(),
        )
        .await
        .map_err(|source| SyncError::Store {
            object_type: ObjectType::Contacts,
            source,
        })?;
    let outcome = if out.error.is_some() { "failed" } else { "ok" };
    metrics::counter!("leadflow_sync_runs_total", "stream" => out.stream.clone(), "outcome" => outcome)
        .increment(1);
    metrics::counter!("leadflow_sync_records_total", "stream" => out.stream.clone())
        .increment(out.records as u64);
    if let Some(e) = &out.error {
        tracing::warn!(stream = %out.stream, error = %e, "sync run failed");
    } else {
        tracing::info!(stream = %out.stream, records = out.records, "{}", out.summary);
    }
    Ok(out)
}

fn outcome<T>(
    stream: String,
    result: Result<T, SyncError>,
    describe: impl FnOnce(&T) -> (usize, String, bool),
) -> StepOutcome {
    match result {
        Ok(r) => {
            let (records, summary, partial) = describe(&r);
            StepOutcome {
                stream,
                records,
                summary,
                error: None,
                partial,
            }
        }
        Err(e) => StepOutcome {
            stream,
            records: 0,
            summary: String::new(),
            error: Some(e.to_string()),
            partial: false,
        },
    }
}

/// Runs a step for every object type it concerns, recording each stream's outcome. A
/// failed stream does not stop the others.
///
/// # Errors
/// Only when the store cannot record an outcome.
pub async fn run_step(
    client: &Client,
    store: &Store,
    step: Step,
    opts: &StepOptions,
    progress: &(dyn Fn(ObjectType, usize) + Sync),
) -> Result<Vec<StepOutcome>, SyncError> {
    let portal = opts.portal.as_str();
    let mut outs = Vec::new();
    match step {
        Step::Backfill | Step::Incremental => {
            for t in opts.types.clone() {
                let started = now();
                let mut o =
                    SyncOptions::new(portal, opts.properties.get(&t).cloned().unwrap_or_default());
                o.max_pages = opts.max_pages;
                o.restart = opts.restart;
                let (name, result) = if step == Step::Backfill {
                    let each_page = |n: usize| progress(t, n);
                    let r = backfill(client, store, t, &o, &each_page).await;
                    ("backfill", r)
                } else {
                    ("incremental", incremental(client, store, t, &o).await)
                };
                let out = outcome(format!("{}.{name}", t.api_name()), result, |r| {
                    (
                        r.records,
                        format!(
                            "{t}: {} records in {} pages; {} new, {} changed, {} unchanged, {} stale",
                            r.records,
                            r.pages,
                            r.stored.inserted,
                            r.stored.updated,
                            r.stored.unchanged,
                            r.stored.stale
                        ),
                        !r.complete,
                    )
                });
                outs.push(record(store, portal, started, out).await?);
            }
        }
        Step::Webhooks => {
            let started = now();
            let mut total = crate::WebhookApplyReport::default();
            let mut result = Ok(());
            // Drain what is pending, 1,000 events a round.
            loop {
                match apply_webhook_events(client, store, portal, &opts.properties, 1000).await {
                    Ok(r) if r.events == 0 => break,
                    Ok(r) => {
                        total.events += r.events;
                        total.refetched += r.refetched;
                        total.gone += r.gone;
                        total.links += r.links;
                        total.ignored += r.ignored;
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            let out = outcome("webhooks".to_owned(), result, |()| {
                (
                    total.events,
                    format!(
                        "webhooks: {} events; {} records read again, {} deleted or merged, {} links changed, {} ignored",
                        total.events, total.refetched, total.gone, total.links, total.ignored
                    ),
                    false,
                )
            });
            outs.push(record(store, portal, started, out).await?);
        }
        Step::Reference => {
            let started = now();
            let result = sync_reference(client, store, portal).await;
            let out = outcome("reference".to_owned(), result, |r| {
                (
                    r.owners + r.stages + r.sequences + r.lists,
                    format!(
                        "reference: {} owners, {} deal stages, {} sequences, {} lists (+{} / -{} members)",
                        r.owners,
                        r.stages,
                        r.sequences,
                        r.lists,
                        r.members_added,
                        r.members_removed
                    ),
                    false,
                )
            });
            outs.push(record(store, portal, started, out).await?);
        }
        Step::Reconcile => {
            for t in opts.types.clone() {
                let started = now();
                let result = reconcile(
                    client,
                    store,
                    portal,
                    t,
                    &opts.properties.get(&t).cloned().unwrap_or_default(),
                )
                .await;
                let out = outcome(format!("{}.reconcile", t.api_name()), result, |r| {
                    (
                        r.portal_live,
                        format!(
                            "{t}: {} live in the portal; healed {} missing, {} stale, {} restored, {} deleted, {} merged",
                            r.portal_live, r.missing, r.stale, r.restored, r.deleted, r.merged
                        ),
                        false,
                    )
                });
                outs.push(record(store, portal, started, out).await?);
            }
        }
        Step::Associations => {
            for (from, to) in ASSOCIATION_PAIRS {
                if !opts.types.contains(&from) || !opts.types.contains(&to) {
                    continue;
                }
                let started = now();
                let result = sweep_associations(client, store, portal, from, to).await;
                let stream = format!("{}-{}.associations", from.api_name(), to.api_name());
                let out = outcome(stream, result, |r| {
                    (
                        r.records,
                        format!(
                            "{from} → {to}: links of {} records read; {} added, {} removed",
                            r.records, r.added, r.removed
                        ),
                        false,
                    )
                });
                outs.push(record(store, portal, started, out).await?);
            }
        }
    }
    Ok(outs)
}
