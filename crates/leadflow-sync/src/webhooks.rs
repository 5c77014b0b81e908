//! Applies stored webhook events to the store.
//!
//! The receiver (`leadflow-server`) only verifies and stores deliveries; this module turns
//! them into records. An event alone is never trusted for a record's state: HubSpot sends
//! events out of order and more than once, and a property change names one property. So
//! every record an event touches is read again (batch read, 100 per call, one read per
//! record however many events it had) and stored with the store's newer-wins rule; an older
//! event can never overwrite a newer value. Deletions and merges mark the record gone as of
//! the event's time; association changes add or remove the link. Events are marked
//! processed only after their effect is stored, so a failure leaves them for the next round.
//!
//! This module knows the client and the store; it knows nothing about HTTP servers or
//! workflows.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use leadflow_core::ObjectType;
use leadflow_hubspot::Client;
use leadflow_store::{Gone, Link, Store, WebhookEvent};
use serde_json::Value;

use crate::{SyncError, default_type_id, to_stored};

/// What one round of applying webhook events did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookApplyReport {
    /// Events read.
    pub events: usize,
    /// Records read again from HubSpot.
    pub refetched: usize,
    /// Records marked deleted or merged.
    pub gone: usize,
    /// Links added or removed.
    pub links: usize,
    /// Events of a kind leadflow does not follow (kept, marked processed).
    pub ignored: usize,
}

/// The object type an event's `subscriptionType` (`contact.propertyChange`) is about.
fn event_object(kind: &str) -> Option<(ObjectType, &str)> {
    let (object, action) = kind.split_once('.')?;
    Some((ObjectType::from_str(object).ok()?, action))
}

fn id_field(v: &Value, name: &str) -> Option<String> {
    match v.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `CONTACT_TO_DEAL` → (contacts, deals).
fn association_sides(kind: &str) -> Option<(ObjectType, ObjectType)> {
    let lower = kind.to_ascii_lowercase();
    let (from, to) = lower.split_once("_to_")?;
    Some((
        ObjectType::from_str(from).ok()?,
        ObjectType::from_str(to).ok()?,
    ))
}

#[derive(Default)]
struct Plan {
    refetch: BTreeMap<ObjectType, BTreeMap<String, i64>>,
    gone: BTreeMap<ObjectType, Vec<Gone>>,
    links: Vec<(ObjectType, ObjectType, Link, bool, i64)>,
    ignored: usize,
}

fn plan(events: &[WebhookEvent]) -> Plan {
    let mut plan = Plan::default();
    for e in events {
        let Some((t, action)) = event_object(&e.subscription_type) else {
            plan.ignored += 1;
            continue;
        };
        let payload: Value = serde_json::from_str(&e.payload).unwrap_or(Value::Null);
        let mut refetch = |t: ObjectType, id: String| {
            let at = plan.refetch.entry(t).or_default().entry(id).or_insert(0);
            *at = (*at).max(e.occurred_at);
        };
        match action {
            "creation" | "propertyChange" | "restore" => refetch(t, e.object_id.clone()),
            "deletion" | "privacyDeletion" => plan.gone.entry(t).or_default().push(Gone {
                id: e.object_id.clone(),
                at: e.occurred_at,
                merged_into: None,
            }),
            "merge" => {
                let primary = id_field(&payload, "primaryObjectId")
                    .or_else(|| id_field(&payload, "newObjectId"))
                    .unwrap_or_else(|| e.object_id.clone());
                if let Some(Value::Array(merged)) = payload.get("mergedObjectIds") {
                    for m in merged {
                        let id = match m {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        if id != primary {
                            plan.gone.entry(t).or_default().push(Gone {
                                id,
                                at: e.occurred_at,
                                merged_into: Some(primary.clone()),
                            });
                        }
                    }
                }
                refetch(t, primary);
            }
            "associationChange" => {
                let sides = payload
                    .get("associationType")
                    .and_then(Value::as_str)
                    .and_then(association_sides);
                let (Some((from, to)), Some(from_id), Some(to_id)) = (
                    sides,
                    id_field(&payload, "fromObjectId"),
                    id_field(&payload, "toObjectId"),
                ) else {
                    plan.ignored += 1;
                    continue;
                };
                let removed = payload
                    .get("associationRemoved")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let link = Link {
                    from_id,
                    to_id,
                    type_id: default_type_id(from, to),
                };
                plan.links.push((from, to, link, !removed, e.occurred_at));
            }
            _ => plan.ignored += 1,
        }
    }
    plan
}

/// Applies up to `limit` pending webhook events (oldest first) and marks them processed.
///
/// # Errors
/// [`SyncError`]; events whose effect was not stored stay pending for the next round.
pub async fn apply_webhook_events(
    client: &Client,
    store: &Store,
    portal: &str,
    properties: &BTreeMap<ObjectType, Vec<String>>,
    limit: i64,
) -> Result<WebhookApplyReport, SyncError> {
    let events = store
        .pending_webhook_events(portal, limit)
        .await
        .map_err(SyncError::store(ObjectType::Contacts))?;
    let mut report = WebhookApplyReport {
        events: events.len(),
        ..WebhookApplyReport::default()
    };
    if events.is_empty() {
        return Ok(report);
    }
    let plan = plan(&events);
    report.ignored = plan.ignored;
    // Deletions first: a record deleted and then read again is not found, and stays gone.
    for (t, gone) in &plan.gone {
        report.gone += store
            .mark_gone(portal, *t, gone, "webhook")
            .await
            .map_err(SyncError::store(*t))?;
    }
    for (t, ids) in &plan.refetch {
        let wanted: Vec<String> = ids.keys().cloned().collect();
        let props = properties.get(t).cloned().unwrap_or_default();
        let outcome = client
            .objects(*t)
            .batch_read(&wanted, &props, None)
            .await
            .and_then(leadflow_hubspot::BatchOutcome::require_all_chunks)
            .map_err(|source| SyncError::HubSpot {
                object_type: *t,
                source,
            })?;
        let records: Vec<_> = outcome.results.iter().map(to_stored).collect();
        report.refetched += records.len();
        store
            .upsert_records(portal, *t, &records, "webhook", None)
            .await
            .map_err(SyncError::store(*t))?;
        // Asked for, not found and not answered under another id (a merge): deleted since.
        let found: BTreeSet<&str> = outcome.results.iter().map(|o| o.id.as_str()).collect();
        let missing: Vec<Gone> = outcome
            .errors
            .iter()
            .filter(|e| e.category.as_deref() == Some("OBJECT_NOT_FOUND"))
            .flat_map(|e| e.context.get("ids").cloned().unwrap_or_default())
            .filter(|id| !found.contains(id.as_str()))
            .map(|id| Gone {
                at: ids.get(&id).copied().unwrap_or(0),
                id,
                merged_into: None,
            })
            .collect();
        report.gone += store
            .mark_gone(portal, *t, &missing, "webhook")
            .await
            .map_err(SyncError::store(*t))?;
    }
    for (from, to, link, present, at) in &plan.links {
        if store
            .set_association(portal, (*from, *to), link, *present, *at, "webhook")
            .await
            .map_err(SyncError::store(*from))?
        {
            report.links += 1;
        }
    }
    let keys: Vec<String> = events.into_iter().map(|e| e.key).collect();
    store
        .mark_webhook_events_processed(portal, &keys)
        .await
        .map_err(SyncError::store(ObjectType::Contacts))?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, id: &str, at: i64, payload: Value) -> WebhookEvent {
        WebhookEvent {
            key: format!("{kind}:{id}:{at}"),
            subscription_type: kind.to_owned(),
            object_id: id.to_owned(),
            occurred_at: at,
            property_name: None,
            property_value: None,
            payload: payload.to_string(),
        }
    }

    #[test]
    fn one_read_per_record_however_many_events() {
        let p = plan(&[
            event("contact.propertyChange", "1", 10, Value::Null),
            event("contact.propertyChange", "1", 30, Value::Null),
            event("contact.creation", "2", 20, Value::Null),
            event("deal.creation", "7", 20, Value::Null),
        ]);
        let contacts = &p.refetch[&ObjectType::Contacts];
        assert_eq!(contacts.len(), 2);
        assert_eq!(contacts["1"], 30, "the newest event's time is kept");
        assert_eq!(p.refetch[&ObjectType::Deals].len(), 1);
    }

    #[test]
    fn merges_mark_the_merged_ids_gone_and_reread_the_primary() {
        let p = plan(&[event(
            "contact.merge",
            "5",
            40,
            serde_json::json!({ "primaryObjectId": 5, "mergedObjectIds": [9, 5], "newObjectId": 5 }),
        )]);
        assert_eq!(
            p.gone[&ObjectType::Contacts],
            vec![Gone {
                id: "9".into(),
                at: 40,
                merged_into: Some("5".into())
            }]
        );
        assert!(p.refetch[&ObjectType::Contacts].contains_key("5"));
    }

    #[test]
    fn association_changes_become_links_and_unknown_kinds_are_counted() {
        let p = plan(&[
            event(
                "contact.associationChange",
                "1",
                5,
                serde_json::json!({ "associationType": "CONTACT_TO_DEAL", "fromObjectId": 1, "toObjectId": 8, "associationRemoved": true }),
            ),
            event("ticket.creation", "3", 5, Value::Null),
            event("contact.associationChange", "1", 5, serde_json::json!({})),
        ]);
        assert_eq!(p.links.len(), 1);
        let (from, to, link, present, _) = &p.links[0];
        assert_eq!((*from, *to), (ObjectType::Contacts, ObjectType::Deals));
        assert_eq!((link.from_id.as_str(), link.to_id.as_str()), ("1", "8"));
        assert!(!present);
        assert_eq!(p.ignored, 2);
    }
}
