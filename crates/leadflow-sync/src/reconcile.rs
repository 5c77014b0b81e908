//! The reconciliation sweep and the association sweep: what heals the store when webhooks
//! and incremental sync missed something.
//!
//! **Reconciliation** lists every live id with its modified time (one property, 100 per
//! page) and compares with the store: records missing or older locally are read again and
//! stored; records live locally but gone from the portal are read by id, which tells a
//! merge (HubSpot answers with the record it was merged into) from a deletion (not found).
//!
//! **Association sweep**: associations changes bump neither record's modified time, so
//! incremental sync cannot see them. The sweep reads the links of every live record of one
//! side of a pair (100 records per call) and replaces the stored links of those records.
//!
//! This module knows the client and the store; it knows nothing about workflows.

use std::collections::{BTreeMap, HashMap};

use futures::TryStreamExt;
use leadflow_core::ObjectType;
use leadflow_hubspot::{Client, ListOptions};
use leadflow_store::{Gone, Link, Store};

use crate::{SyncError, to_stored};

/// What a reconciliation sweep found and healed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Live records in the portal.
    pub portal_live: usize,
    /// Records missing from the store, now stored.
    pub missing: usize,
    /// Records older in the store than in the portal, now updated.
    pub stale: usize,
    /// Records archived in the store but live in the portal (restored).
    pub restored: usize,
    /// Records live in the store but deleted in the portal, now archived.
    pub deleted: usize,
    /// Records live in the store but merged into another, now marked merged.
    pub merged: usize,
}

impl ReconcileReport {
    /// Whether the store already matched the portal.
    pub fn in_sync(&self) -> bool {
        self.missing + self.stale + self.restored + self.deleted + self.merged == 0
    }
}

/// Compares the store with the portal for one object type and heals every difference.
///
/// # Errors
/// [`SyncError`]; what was healed before the error stays healed.
pub async fn reconcile(
    client: &Client,
    store: &Store,
    portal: &str,
    t: ObjectType,
    properties: &[String],
) -> Result<ReconcileReport, SyncError> {
    let mut report = ReconcileReport::default();
    let local: HashMap<String, (i64, bool)> = store
        .versions(portal, t)
        .await
        .map_err(SyncError::store(t))?
        .into_iter()
        .map(|(id, at, archived)| (id, (at, archived)))
        .collect();
    let list = ListOptions {
        properties: vec![t.last_modified_property().to_owned()],
        archived: false,
        page_size: 100,
    };
    let started = jiff::Timestamp::now().as_millisecond();
    let mut seen: HashMap<String, ()> = HashMap::with_capacity(local.len());
    let mut refetch: Vec<String> = Vec::new();
    let mut pages = std::pin::pin!(client.objects(t).list_pages(list));
    while let Some(page) = pages.try_next().await.map_err(SyncError::hubspot(t))? {
        for o in &page.results {
            report.portal_live += 1;
            let at = o.updated_at.map_or(0, |u| u.as_millisecond());
            match local.get(&o.id) {
                None => report.missing += 1,
                Some((_, true)) => report.restored += 1,
                Some((stored, false)) if *stored < at => report.stale += 1,
                Some(_) => {
                    seen.insert(o.id.clone(), ());
                    continue;
                }
            }
            seen.insert(o.id.clone(), ());
            refetch.push(o.id.clone());
        }
        if refetch.len() >= 100 {
            store_fresh(client, store, portal, t, properties, &refetch).await?;
            refetch.clear();
        }
    }
    store_fresh(client, store, portal, t, properties, &refetch).await?;
    // Live here, not listed there: merged or deleted (or created after the listing began,
    // which a read by id also tells).
    let vanished: Vec<String> = local
        .iter()
        .filter(|(id, (_, archived))| !archived && !seen.contains_key(*id))
        .map(|(id, _)| id.clone())
        .collect();
    let mut with_merges = properties.to_vec();
    with_merges.push(crate::MERGED_IDS.to_owned());
    for chunk in vanished.chunks(100) {
        let outcome = client
            .objects(t)
            .batch_read(chunk, &with_merges, None)
            .await
            .map_err(SyncError::hubspot(t))?;
        let mut gone = Vec::new();
        let mut alive = Vec::new();
        let answered: BTreeMap<&str, &leadflow_hubspot::CrmObject> =
            outcome.results.iter().map(|o| (o.id.as_str(), o)).collect();
        let merged_ids = |o: &leadflow_hubspot::CrmObject| -> Vec<String> {
            o.get(crate::MERGED_IDS)
                .map(|v| v.split(';').map(|s| s.trim().to_owned()).collect())
                .unwrap_or_default()
        };
        for id in chunk {
            if let Some(o) = answered.get(id.as_str()) {
                alive.push(to_stored(o));
                continue;
            }
            // HubSpot answers a merged id with the record it went into.
            let into = outcome
                .results
                .iter()
                .find(|o| merged_ids(o).iter().any(|m| m == id))
                .map(|o| o.id.clone());
            if into.is_some() {
                report.merged += 1;
            } else {
                report.deleted += 1;
            }
            gone.push(Gone {
                id: id.clone(),
                at: started,
                merged_into: into,
            });
        }
        let winners: Vec<_> = outcome
            .results
            .iter()
            .filter(|o| !chunk.contains(&o.id))
            .map(to_stored)
            .collect();
        alive.extend(winners);
        store
            .upsert_records(portal, t, &alive, "reconcile", None)
            .await
            .map_err(SyncError::store(t))?;
        store
            .mark_gone(portal, t, &gone, "reconcile")
            .await
            .map_err(SyncError::store(t))?;
    }
    Ok(report)
}

async fn store_fresh(
    client: &Client,
    store: &Store,
    portal: &str,
    t: ObjectType,
    properties: &[String],
    ids: &[String],
) -> Result<(), SyncError> {
    if ids.is_empty() {
        return Ok(());
    }
    let outcome = client
        .objects(t)
        .batch_read(ids, properties, None)
        .await
        .and_then(leadflow_hubspot::BatchOutcome::require_all_chunks)
        .map_err(SyncError::hubspot(t))?;
    let records: Vec<_> = outcome.results.iter().map(to_stored).collect();
    store
        .upsert_records(portal, t, &records, "reconcile", None)
        .await
        .map_err(SyncError::store(t))?;
    Ok(())
}

/// What an association sweep changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssociationReport {
    /// Records whose links were read.
    pub records: usize,
    /// Links added to the store.
    pub added: usize,
    /// Links removed from the store.
    pub removed: usize,
}

/// Reads the links from every live stored record of `from` to records of `to`, and makes
/// the store's links of those records match.
///
/// # Errors
/// [`SyncError`]; chunks done before the error stay done.
pub async fn sweep_associations(
    client: &Client,
    store: &Store,
    portal: &str,
    from: ObjectType,
    to: ObjectType,
) -> Result<AssociationReport, SyncError> {
    let mut report = AssociationReport::default();
    let ids = store
        .live_ids(portal, from)
        .await
        .map_err(SyncError::store(from))?;
    let api = client.associations(from, to);
    for chunk in ids.chunks(100) {
        let outcome = api
            .batch_read(chunk)
            .await
            .map_err(SyncError::hubspot(from))?;
        let mut links = Vec::new();
        for r in &outcome.results {
            let Some(f) = &r.from else { continue };
            for target in &r.to {
                let type_id = target
                    .association_types
                    .iter()
                    .find(|a| a.category == "HUBSPOT_DEFINED" && a.label.is_none())
                    .or(target.association_types.first())
                    .map_or_else(|| crate::default_type_id(from, to), |a| a.type_id as i32);
                links.push(Link {
                    from_id: f.id.clone(),
                    to_id: target.to_object_id.clone(),
                    type_id,
                });
            }
        }
        // Records without links come back as errors (`NO_ASSOCIATIONS_FOUND`): their
        // stored links are removed too, since every id of the chunk is replaced.
        let (added, removed) = store
            .replace_associations(portal, from, to, chunk, &links)
            .await
            .map_err(SyncError::store(from))?;
        report.records += chunk.len();
        report.added += added;
        report.removed += removed;
    }
    Ok(report)
}
