//! Keeps the local store current with the portal: backfill and incremental sync.
//!
//! **Backfill** lists every record page by page (and the archived ones), upserting each
//! page and advancing its `after` cursor in the same transaction, so an interrupted
//! backfill resumes at the page it stopped on and memory stays one page deep.
//!
//! **Incremental** searches for records modified since the last cursor minus a look-back
//! overlap (search is eventually consistent), streaming past the 10,000-result cap by
//! `hs_object_id` windows; the store's newer-wins upsert makes re-reading the overlap
//! harmless. Archived records come from the `archived=true` listing.
//!
//! **Webhooks** (`apply_webhook_events`) turn the events the receiver stored into records;
//! the **reconciliation sweep** (`reconcile`) heals what webhooks and incremental sync
//! missed, deletes and merges included; the **association sweep** reads links, which no
//! modified time reveals; **reference data** (`sync_reference`) mirrors owners, stages,
//! sequences and lists. Merged records are remapped wherever they show up
//! (`hs_merged_object_ids`, merge events, reads answered under another id).
//!
//! This crate knows the client and the store; it knows nothing about workflows or HTTP
//! servers.

mod cycle;
mod reconcile;
mod reference;
mod webhooks;

use std::time::Duration;

pub use cycle::{ASSOCIATION_PAIRS, Properties, Step, StepOptions, StepOutcome, run_step};
pub use reconcile::{AssociationReport, ReconcileReport, reconcile, sweep_associations};
pub use reference::{ReferenceReport, sync_reference};
pub use webhooks::{WebhookApplyReport, apply_webhook_events};

use futures::TryStreamExt;
use leadflow_core::ObjectType;
use leadflow_hubspot::association_types as types;
use leadflow_hubspot::{
    Client, CrmObject, Filter, FilterGroup, ListOptions, Operator, SearchQuery,
};
use leadflow_store::{Gone, Store, StoredRecord, UpsertOutcome};

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// HubSpot failed; what was stored before stays stored, and the next run resumes.
    #[error("syncing {object_type}: {source}")]
    HubSpot {
        /// The object type.
        object_type: ObjectType,
        /// What failed.
        #[source]
        source: leadflow_hubspot::Error,
    },
    /// The store failed.
    #[error("syncing {object_type}: {source}")]
    Store {
        /// The object type.
        object_type: ObjectType,
        /// What failed.
        #[source]
        source: leadflow_store::Error,
    },
    /// Incremental sync needs a finished backfill.
    #[error("{0} has never been backfilled: run `leadflow sync --full` first")]
    NoBackfill(ObjectType),
}

impl SyncError {
    /// Maps a client error on `object_type`.
    pub(crate) fn hubspot(
        object_type: ObjectType,
    ) -> impl Fn(leadflow_hubspot::Error) -> Self + Copy {
        move |source| Self::HubSpot {
            object_type,
            source,
        }
    }

    /// Maps a store error on `object_type`.
    pub(crate) fn store(object_type: ObjectType) -> impl Fn(leadflow_store::Error) -> Self + Copy {
        move |source| Self::Store {
            object_type,
            source,
        }
    }
}

/// How to sync.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// The portal's key in the store.
    pub portal: String,
    /// Properties to fetch.
    pub properties: Vec<String>,
    /// How far incremental sync looks back before its cursor (search index lag).
    pub overlap: Duration,
    /// Stop after this many pages (a bounded run; the next run resumes).
    pub max_pages: Option<usize>,
    /// Start the backfill over instead of resuming it.
    pub restart: bool,
}

impl SyncOptions {
    /// Five minutes of overlap, no page limit.
    pub fn new(portal: impl Into<String>, properties: Vec<String>) -> Self {
        Self {
            portal: portal.into(),
            properties,
            overlap: Duration::from_secs(300),
            max_pages: None,
            restart: false,
        }
    }
}

/// What a sync run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Pages fetched.
    pub pages: usize,
    /// Records received.
    pub records: usize,
    /// What the store did with them.
    pub stored: UpsertOutcome,
    /// Whether the run reached the end (false when `max_pages` stopped it).
    pub complete: bool,
}

impl SyncReport {
    fn add(&mut self, o: &UpsertOutcome, n: usize) {
        self.pages += 1;
        self.records += n;
        self.stored.inserted += o.inserted;
        self.stored.updated += o.updated;
        self.stored.unchanged += o.unchanged;
        self.stored.stale += o.stale;
        self.stored.events += o.events;
    }
}

fn ms(t: Option<jiff::Timestamp>) -> Option<i64> {
    t.map(|t| t.as_millisecond())
}

/// A client record as the store keeps it.
pub fn to_stored(o: &CrmObject) -> StoredRecord {
    StoredRecord {
        id: o.id.clone(),
        properties: o.properties.clone(),
        created_at: ms(o.created_at),
        updated_at: ms(o.archived_at.filter(|_| o.archived))
            .or(ms(o.updated_at))
            .unwrap_or(0),
        archived: o.archived,
    }
}

fn stream(t: ObjectType, what: &str) -> String {
    format!("{}.{what}", t.api_name())
}

const DONE: &str = "done";

async fn list_into_store(
    client: &Client,
    store: &Store,
    t: ObjectType,
    opts: &SyncOptions,
    archived: bool,
    report: &mut SyncReport,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<bool, SyncError> {
    let cursor_stream = stream(
        t,
        if archived {
            "backfill.archived.after"
        } else {
            "backfill.after"
        },
    );
    let hs = SyncError::hubspot(t);
    let st = SyncError::store(t);
    let mut after = if opts.restart {
        None
    } else {
        store
            .cursor(&opts.portal, &cursor_stream)
            .await
            .map_err(st)?
            .filter(|c| !c.is_empty())
    };
    if after.as_deref() == Some(DONE) {
        return Ok(true);
    }
    let objects = client.objects(t);
    let list = ListOptions {
        properties: opts.properties.clone(),
        archived,
        page_size: 100,
    };
    let source = if archived {
        "backfill-archived"
    } else {
        "backfill"
    };
    // While page N is written, page N+1 is fetched; writes stay in order, each with its cursor.
    let mut pending: Option<(Vec<StoredRecord>, String)> = None;
    let mut fetched = 0usize;
    loop {
        let limit_reached = opts.max_pages.is_some_and(|m| fetched >= m);
        let done = pending.as_ref().is_some_and(|(_, c)| c == DONE);
        let fetch = async {
            if limit_reached || done {
                Ok(None)
            } else {
                objects.list_page(&list, after.as_deref()).await.map(Some)
            }
        };
        let write = async {
            match pending.take() {
                Some((records, cursor)) => store
                    .upsert_records(
                        &opts.portal,
                        t,
                        &records,
                        source,
                        Some((&cursor_stream, &cursor)),
                    )
                    .await
                    .map(|o| Some((o, records.len()))),
                None => Ok(None),
            }
        };
        let (page, written) = futures::join!(fetch, write);
        if let Some((outcome, n)) = written.map_err(st)? {
            report.add(&outcome, n);
            progress(n);
        }
        if done {
            return Ok(true);
        }
        let Some(page) = page.map_err(hs)? else {
            return Ok(false);
        };
        fetched += 1;
        let next = page.next_after();
        let records: Vec<StoredRecord> = page.results.iter().map(to_stored).collect();
        pending = Some((records, next.clone().unwrap_or_else(|| DONE.to_owned())));
        after = next;
    }
}

/// Stores every record of `t` (archived ones too), resuming an interrupted run.
///
/// # Errors
/// [`SyncError`]; what was stored before the error stays stored and the next run resumes.
pub async fn backfill(
    client: &Client,
    store: &Store,
    t: ObjectType,
    opts: &SyncOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<SyncReport, SyncError> {
    let st = SyncError::store(t);
    let started = jiff::Timestamp::now().as_millisecond();
    if opts.restart {
        for s in ["backfill.after", "backfill.archived.after"] {
            store
                .set_cursor(&opts.portal, &stream(t, s), "")
                .await
                .map_err(st)?;
        }
    }
    let mut report = SyncReport::default();
    let mut opts = opts.clone();
    let live_done = list_into_store(client, store, t, &opts, false, &mut report, progress).await?;
    opts.restart = false;
    let archived_done =
        live_done && list_into_store(client, store, t, &opts, true, &mut report, progress).await?;
    report.complete = live_done && archived_done;
    if report.complete
        && store
            .cursor(&opts.portal, &stream(t, "incremental"))
            .await
            .map_err(st)?
            .is_none()
    {
        store
            .set_cursor(
                &opts.portal,
                &stream(t, "incremental"),
                &started.to_string(),
            )
            .await
            .map_err(st)?;
    }
    Ok(report)
}

/// Stores what changed since the last run.
///
/// # Errors
/// [`SyncError`]; the cursor only moves past what was stored.
pub async fn incremental(
    client: &Client,
    store: &Store,
    t: ObjectType,
    opts: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let hs = SyncError::hubspot(t);
    let st = SyncError::store(t);
    let cursor_stream = stream(t, "incremental");
    let since: i64 = store
        .cursor(&opts.portal, &cursor_stream)
        .await
        .map_err(st)?
        .and_then(|c| c.parse().ok())
        .ok_or(SyncError::NoBackfill(t))?;
    let from = since - opts.overlap.as_millis() as i64;
    let mut properties = opts.properties.clone();
    properties.push(t.last_modified_property().to_owned());
    if t != ObjectType::Tasks {
        properties.push(MERGED_IDS.to_owned());
    }
    let query = SearchQuery {
        filter_groups: vec![FilterGroup {
            filters: vec![Filter::new(
                t.last_modified_property(),
                Operator::Gte,
                from.max(0).to_string(),
            )],
        }],
        properties,
        query: None,
        page_size: 200,
    };
    let mut report = SyncReport::default();
    let mut newest = since;
    let mut results = std::pin::pin!(client.objects(t).search_all(query));
    let mut batch: Vec<StoredRecord> = Vec::with_capacity(200);
    let mut merged: Vec<Gone> = Vec::new();
    loop {
        let next = results.try_next().await.map_err(hs)?;
        if let Some(o) = &next {
            merged.extend(merged_away(o));
            let r = to_stored(o);
            newest = newest.max(r.updated_at);
            batch.push(r);
        }
        if batch.len() >= 200 || (next.is_none() && !batch.is_empty()) {
            let outcome = store
                .upsert_records(&opts.portal, t, &batch, "incremental", None)
                .await
                .map_err(st)?;
            report.add(&outcome, batch.len());
            batch.clear();
            store
                .mark_gone(&opts.portal, t, &merged, "incremental-merge")
                .await
                .map_err(st)?;
            merged.clear();
        }
        if next.is_none() {
            break;
        }
    }
    // Archived records never show in search: read the archived listing.
    let list = ListOptions {
        properties: opts.properties.clone(),
        archived: true,
        page_size: 100,
    };
    let mut pages = std::pin::pin!(client.objects(t).list_pages(list));
    while let Some(page) = pages.try_next().await.map_err(hs)? {
        let records: Vec<StoredRecord> = page.results.iter().map(to_stored).collect();
        let outcome = store
            .upsert_records(&opts.portal, t, &records, "incremental-archived", None)
            .await
            .map_err(st)?;
        report.add(&outcome, records.len());
    }
    store
        .set_cursor(&opts.portal, &cursor_stream, &newest.to_string())
        .await
        .map_err(st)?;
    report.complete = true;
    Ok(report)
}

/// The property in which HubSpot lists the ids merged into a record (`;`-separated).
pub const MERGED_IDS: &str = "hs_merged_object_ids";

/// The records merged into `o`, as gone from the store from `o`'s last change on.
fn merged_away(o: &CrmObject) -> Vec<Gone> {
    let at = o.updated_at.map_or(0, |u| u.as_millisecond());
    o.get(MERGED_IDS)
        .into_iter()
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|id| !id.is_empty() && *id != o.id)
        .map(|id| Gone {
            id: id.to_owned(),
            at,
            merged_into: Some(o.id.clone()),
        })
        .collect()
}

/// HubSpot's unlabelled association type id between two object types, as the store keeps
/// links whose type an event does not say.
pub fn default_type_id(from: ObjectType, to: ObjectType) -> i32 {
    use ObjectType::{Companies, Contacts, Deals, Tasks};
    let id = match (from, to) {
        (Contacts, Companies) => types::CONTACT_TO_COMPANY,
        (Companies, Contacts) => types::COMPANY_TO_CONTACT,
        (Contacts, Deals) => types::CONTACT_TO_DEAL,
        (Deals, Contacts) => types::DEAL_TO_CONTACT,
        (Deals, Companies) => types::DEAL_TO_COMPANY,
        (Companies, Deals) => types::COMPANY_TO_DEAL,
        (Tasks, Contacts) => types::TASK_TO_CONTACT,
        (Contacts, Tasks) => types::CONTACT_TO_TASK,
        (Tasks, Companies) => types::TASK_TO_COMPANY,
        (Tasks, Deals) => types::TASK_TO_DEAL,
        _ => 0,
    };
    id as i32
}
