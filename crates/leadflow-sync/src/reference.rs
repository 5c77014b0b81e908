//! Reference data: owners, deal pipelines and stages, sequences, lists and the members of
//! contact lists. Small, so each sync replaces it whole; list membership changes are logged
//! as events on the contacts (the "tagged" workflow trigger reads them).
//!
//! This module knows the client and the store; it knows nothing about workflows.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use leadflow_core::ObjectType;
use leadflow_hubspot::Client;
use leadflow_store::{ListRow, OwnerRow, SequenceRow, StageRow, Store};

use crate::SyncError;

/// What a reference sync stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReferenceReport {
    /// Owners.
    pub owners: usize,
    /// Deal stages, over every deal pipeline.
    pub stages: usize,
    /// Sequences visible to the portal's users.
    pub sequences: usize,
    /// Lists.
    pub lists: usize,
    /// Contacts added to a contact list since the last sync.
    pub members_added: usize,
    /// Contacts removed from a contact list since the last sync.
    pub members_removed: usize,
}

/// Reads the portal's owners, deal pipelines, sequences and lists into the store.
///
/// # Errors
/// [`SyncError`]; each kind is replaced in its own transaction.
pub async fn sync_reference(
    client: &Client,
    store: &Store,
    portal: &str,
) -> Result<ReferenceReport, SyncError> {
    // Reference data belongs to no object type; errors are reported under contacts.
    let hs = SyncError::hubspot(ObjectType::Contacts);
    let st = SyncError::store(ObjectType::Contacts);
    let mut report = ReferenceReport::default();
    let owners: Vec<OwnerRow> = client
        .owners()
        .map_ok(|o| OwnerRow {
            id: o.id,
            user_id: o.user_id,
            email: o.email,
            first_name: o.first_name,
            last_name: o.last_name,
            archived: o.archived,
        })
        .try_collect()
        .await
        .map_err(hs)?;
    store.replace_owners(portal, &owners).await.map_err(st)?;
    report.owners = owners.len();

    let mut stages = Vec::new();
    for p in client.pipelines(ObjectType::Deals).await.map_err(hs)? {
        for s in p.stages.iter().filter(|s| !s.archived) {
            stages.push(StageRow {
                pipeline_id: p.id.clone(),
                pipeline_label: p.label.clone(),
                stage_id: s.id.clone(),
                label: s.label.clone(),
                display_order: s.display_order,
                probability: s.metadata.get("probability").and_then(|v| match v {
                    serde_json::Value::String(t) => t.parse().ok(),
                    other => other.as_f64(),
                }),
                is_closed: s
                    .metadata
                    .get("isClosed")
                    .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true")),
            });
        }
    }
    store
        .replace_stages(portal, ObjectType::Deals, &stages)
        .await
        .map_err(st)?;
    report.stages = stages.len();

    // Sequences are listed per user; every active owner's user sees its own.
    let mut seen = BTreeSet::new();
    let mut sequences = Vec::new();
    for user in owners
        .iter()
        .filter(|o| !o.archived)
        .filter_map(|o| o.user_id)
        .collect::<BTreeSet<_>>()
    {
        for s in client.sequences(&user.to_string()).await.map_err(hs)? {
            if seen.insert(s.id.clone()) {
                sequences.push(SequenceRow {
                    id: s.id,
                    name: s.name,
                    user_id: Some(s.user_id).filter(|u| !u.is_empty()),
                });
            }
        }
    }
    store
        .replace_sequences(portal, &sequences)
        .await
        .map_err(st)?;
    report.sequences = sequences.len();

    let lists: Vec<ListRow> = client
        .lists()
        .search("")
        .await
        .map_err(hs)?
        .into_iter()
        .map(|l| ListRow {
            id: l.list_id,
            name: l.name,
            object_type_id: l.object_type_id,
            processing_type: l.processing_type,
        })
        .collect();
    store.replace_lists(portal, &lists).await.map_err(st)?;
    report.lists = lists.len();
    for list in lists
        .iter()
        .filter(|l| l.object_type_id == ObjectType::Contacts.type_id())
    {
        let members: Vec<String> = client
            .lists()
            .members(&list.id)
            .await
            .map_err(hs)?
            .into_iter()
            .map(|m| m.record_id)
            .collect();
        let (added, removed) = store
            .replace_list_members(portal, list, &members)
            .await
            .map_err(st)?;
        report.members_added += added.len();
        report.members_removed += removed.len();
    }
    Ok(report)
}
