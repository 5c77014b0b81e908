//! Backfill and incremental sync against the sandbox: completeness, resumption, faults.

use std::collections::BTreeMap;
use std::time::Duration;

use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{
    Client, ClientConfig, Credentials, ObjectInput, PropertyValues, RateLimits, RetryPolicy,
};
use leadflow_sandbox::{Faults, Sandbox, SandboxConfig, SandboxHandle, Seed};
use leadflow_store::{Store, WebhookEvent};
use leadflow_sync::{
    SyncError, SyncOptions, WebhookApplyReport, apply_webhook_events, backfill, incremental,
    reconcile, sweep_associations, sync_reference,
};

async fn setup() -> (SandboxHandle, Client, Store, tempfile::TempDir) {
    let mut config = SandboxConfig {
        seed: Seed::Empty,
        ..SandboxConfig::default()
    };
    config.limits.search_per_second = 1000;
    let sb = Sandbox::spawn(config).await.unwrap();
    let mut c = ClientConfig::new(sb.url(), Credentials::Token(Secret::new("t")));
    c.retry = RetryPolicy {
        max_attempts: 10,
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    c.limits = RateLimits {
        search_per_second: 100,
        ..RateLimits::default()
    };
    let client = Client::new(c).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .await
        .unwrap();
    (sb, client, store, dir)
}

fn opts() -> SyncOptions {
    SyncOptions::new(
        "p",
        ["email", "firstname", "lastname", "lifecyclestage"]
            .map(String::from)
            .to_vec(),
    )
}

async fn assert_mirrors(sb: &SandboxHandle, store: &Store, ids: &[String]) {
    for id in ids {
        let stored = store
            .record("p", ObjectType::Contacts, id)
            .await
            .unwrap()
            .expect("every record is stored");
        let portal = sb.state().record("contacts", id);
        match portal {
            Some(p) => {
                assert!(!stored.archived, "{id} is live in the portal");
                for k in ["email", "firstname", "lastname"] {
                    assert_eq!(stored.get(k), p["properties"][k].as_str(), "{id}.{k}");
                }
            }
            None => assert!(stored.archived, "{id} is archived in the portal"),
        }
    }
}

#[tokio::test]
async fn backfill_stores_every_record_and_archived_ones() {
    let (sb, client, store, _dir) = setup().await;
    let ids = sb.state().seed_contacts(450, 1);
    client
        .objects(ObjectType::Contacts)
        .batch_archive(&ids[..5])
        .await
        .unwrap();
    let report = backfill(&client, &store, ObjectType::Contacts, &opts(), &|_| {})
        .await
        .unwrap();
    assert!(report.complete);
    assert_eq!(report.stored.inserted, 450);
    assert_eq!(
        store.count("p", ObjectType::Contacts, false).await.unwrap(),
        445
    );
    assert_eq!(
        store.count("p", ObjectType::Contacts, true).await.unwrap(),
        5
    );
    assert_mirrors(&sb, &store, &ids).await;
    assert_eq!(
        store
            .cursor("p", "contacts.backfill.after")
            .await
            .unwrap()
            .as_deref(),
        Some("done")
    );
    assert!(
        store
            .cursor("p", "contacts.incremental")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn an_interrupted_backfill_resumes_without_losing_or_duplicating() {
    let (sb, client, store, _dir) = setup().await;
    let ids = sb.state().seed_contacts(450, 2);
    let mut bounded = opts();
    bounded.max_pages = Some(2);
    let first = backfill(&client, &store, ObjectType::Contacts, &bounded, &|_| {})
        .await
        .unwrap();
    assert!(!first.complete);
    assert_eq!(
        store.count("p", ObjectType::Contacts, false).await.unwrap(),
        200
    );
    let rest = backfill(&client, &store, ObjectType::Contacts, &opts(), &|_| {})
        .await
        .unwrap();
    assert!(rest.complete);
    assert_eq!(rest.stored.inserted, 250, "it resumed at page 3");
    assert_eq!(
        store.count("p", ObjectType::Contacts, false).await.unwrap(),
        450
    );
    assert_mirrors(&sb, &store, &ids).await;
}

#[tokio::test]
async fn faults_during_backfill_still_converge_to_the_portal() {
    let (sb, client, store, _dir) = setup().await;
    // 21 list calls at least, half of them faulted: P(no fault at all) < 1e-6.
    let ids = sb.state().seed_contacts(2000, 3);
    sb.state().set_faults(Faults {
        rate_429: 0.1,
        rate_500: 0.2,
        rate_503: 0.1,
        rate_reset: 0.1,
        ..Faults::default()
    });
    let mut done = false;
    for _ in 0..20 {
        match backfill(&client, &store, ObjectType::Contacts, &opts(), &|_| {}).await {
            Ok(r) if r.complete => {
                done = true;
                break;
            }
            Ok(_) | Err(SyncError::HubSpot { .. }) => continue,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(done);
    assert!(
        sb.state().stats().injected_faults > 0,
        "faults were injected"
    );
    sb.state().set_faults(Faults::default());
    assert_eq!(
        store.count("p", ObjectType::Contacts, false).await.unwrap(),
        2000
    );
    assert_mirrors(&sb, &store, &ids).await;
}

#[tokio::test]
async fn incremental_picks_up_changes_creations_and_archivals() {
    let (sb, client, store, _dir) = setup().await;
    assert!(matches!(
        incremental(&client, &store, ObjectType::Contacts, &opts()).await,
        Err(SyncError::NoBackfill(_))
    ));
    let ids = sb.state().seed_contacts(30, 4);
    backfill(&client, &store, ObjectType::Contacts, &opts(), &|_| {})
        .await
        .unwrap();
    let contacts = client.objects(ObjectType::Contacts);
    contacts
        .update(
            &ids[0],
            &PropertyValues::from([("firstname".to_owned(), "Changed".to_owned())]),
        )
        .await
        .unwrap();
    contacts.archive(&ids[1]).await.unwrap();
    let new = contacts
        .create(&ObjectInput {
            properties: PropertyValues::from([("email".to_owned(), "fresh@x.com".to_owned())]),
            ..ObjectInput::default()
        })
        .await
        .unwrap();
    let report = incremental(&client, &store, ObjectType::Contacts, &opts())
        .await
        .unwrap();
    assert!(
        report.stored.inserted >= 1 && report.stored.updated >= 2,
        "{report:?}"
    );
    assert_eq!(
        store
            .record("p", ObjectType::Contacts, &ids[0])
            .await
            .unwrap()
            .unwrap()
            .get("firstname"),
        Some("Changed")
    );
    assert!(
        store
            .record("p", ObjectType::Contacts, &ids[1])
            .await
            .unwrap()
            .unwrap()
            .archived
    );
    assert_eq!(
        store
            .record("p", ObjectType::Contacts, &new.id)
            .await
            .unwrap()
            .unwrap()
            .get("email"),
        Some("fresh@x.com")
    );
    // A second run re-reads only the overlap and changes nothing.
    let again = incremental(&client, &store, ObjectType::Contacts, &opts())
        .await
        .unwrap();
    assert_eq!(
        (again.stored.inserted, again.stored.updated),
        (0, 0),
        "{again:?}"
    );
}

async fn merge(sb: &SandboxHandle, primary: &str, secondary: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/crm/v3/objects/contacts/merge", sb.url()))
        .bearer_auth("t")
        .json(&serde_json::json!({ "primaryObjectId": primary, "objectIdToMerge": secondary }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

fn props() -> BTreeMap<ObjectType, Vec<String>> {
    BTreeMap::from([(ObjectType::Contacts, opts().properties)])
}

fn hook(kind: &str, id: &str, at: i64, extra: serde_json::Value) -> WebhookEvent {
    let mut payload = serde_json::json!({
        "eventId": at, "subscriptionId": 1, "occurredAt": at, "subscriptionType": kind, "objectId": id,
    });
    if let serde_json::Value::Object(x) = extra {
        for (k, v) in x {
            payload[k] = v;
        }
    }
    WebhookEvent {
        key: format!("1:{kind}:{id}:{at}"),
        subscription_type: kind.to_owned(),
        object_id: id.to_owned(),
        occurred_at: at,
        property_name: None,
        property_value: None,
        payload: payload.to_string(),
    }
}

async fn stored(store: &Store, id: &str) -> leadflow_store::StoredRecord {
    store
        .record("p", ObjectType::Contacts, id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{id} is stored"))
}

#[tokio::test]
async fn webhook_events_bring_the_store_to_the_portals_state_whatever_their_order() {
    let (sb, client, store, _dir) = setup().await;
    let ids = sb.state().seed_contacts(20, 5);
    backfill(&client, &store, ObjectType::Contacts, &opts(), &|_| {})
        .await
        .unwrap();
    let contacts = client.objects(ObjectType::Contacts);
    let set = |v: &str| PropertyValues::from([("firstname".to_owned(), v.to_owned())]);
    contacts.update(&ids[0], &set("Second")).await.unwrap();
    contacts.archive(&ids[1]).await.unwrap();
    merge(&sb, &ids[2], &ids[3]).await;
    let new = contacts
        .create(&ObjectInput {
            properties: PropertyValues::from([("email".to_owned(), "hook@x.com".to_owned())]),
            ..ObjectInput::default()
        })
        .await
        .unwrap();
    let deal = client
        .objects(ObjectType::Deals)
        .create(&ObjectInput {
            properties: PropertyValues::from([
                ("dealname".to_owned(), "D".to_owned()),
                ("pipeline".to_owned(), "default".to_owned()),
                ("dealstage".to_owned(), "appointmentscheduled".to_owned()),
            ]),
            ..ObjectInput::default()
        })
        .await
        .unwrap();
    client
        .associations(ObjectType::Contacts, ObjectType::Deals)
        .associate_default(&ids[0], &deal.id)
        .await
        .unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    // Newest first, one duplicate, one change event older than the backfill.
    let events = vec![
        hook(
            "contact.associationChange",
            &ids[0],
            now,
            serde_json::json!({ "associationType": "CONTACT_TO_DEAL", "fromObjectId": ids[0].parse::<u64>().unwrap(), "toObjectId": deal.id.parse::<u64>().unwrap(), "associationRemoved": false }),
        ),
        hook("contact.creation", &new.id, now - 1, serde_json::json!({})),
        hook(
            "contact.merge",
            &ids[2],
            now - 2,
            serde_json::json!({ "primaryObjectId": ids[2].parse::<u64>().unwrap(), "mergedObjectIds": [ids[3].parse::<u64>().unwrap()], "newObjectId": ids[2].parse::<u64>().unwrap() }),
        ),
        hook("contact.deletion", &ids[1], now - 3, serde_json::json!({})),
        hook(
            "contact.propertyChange",
            &ids[0],
            now - 4,
            serde_json::json!({ "propertyName": "firstname", "propertyValue": "Second" }),
        ),
        hook(
            "contact.propertyChange",
            &ids[0],
            now - 4,
            serde_json::json!({ "propertyName": "firstname", "propertyValue": "Second" }),
        ),
        hook(
            "contact.propertyChange",
            &ids[0],
            1,
            serde_json::json!({ "propertyName": "firstname", "propertyValue": "Ancient" }),
        ),
        hook("ticket.creation", "77", now, serde_json::json!({})),
    ];
    let outcome = store.store_webhook_events("p", &events, now).await.unwrap();
    assert_eq!((outcome.stored, outcome.duplicates), (7, 1));
    let report = apply_webhook_events(&client, &store, "p", &props(), 1000)
        .await
        .unwrap();
    assert_eq!(report.events, 7);
    assert_eq!(report.ignored, 1, "tickets are not followed");
    assert_eq!(report.links, 1);
    assert_eq!(report.gone, 2, "{report:?}");
    assert_eq!(
        report.refetched, 3,
        "one read per record: the changed one, the new one, the merge primary"
    );
    assert_eq!(
        stored(&store, &ids[0]).await.get("firstname"),
        Some("Second")
    );
    assert!(stored(&store, &ids[1]).await.archived);
    assert!(stored(&store, &ids[3]).await.archived);
    assert_eq!(
        store
            .merged_into("p", ObjectType::Contacts, &ids[3])
            .await
            .unwrap(),
        Some(ids[2].clone())
    );
    assert_eq!(
        stored(&store, &new.id).await.get("email"),
        Some("hook@x.com")
    );
    assert_eq!(
        store
            .associated("p", ObjectType::Deals, &deal.id, ObjectType::Contacts)
            .await
            .unwrap(),
        vec![ids[0].clone()],
        "a link is found from either side"
    );
    // Everything was processed: a second round reads nothing and calls nothing.
    sb.state().reset_stats();
    let again = apply_webhook_events(&client, &store, "p", &props(), 1000)
        .await
        .unwrap();
    assert_eq!(again, WebhookApplyReport::default());
    assert_eq!(sb.state().stats().requests, 0);
    let log = store
        .events_of("p", ObjectType::Contacts, &ids[3])
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.new_value.as_deref() == Some(format!("merged:{}", ids[2]).as_str())),
        "{log:?}"
    );
}

#[tokio::test]
async fn a_failed_refetch_leaves_the_events_pending() {
    let (sb, client, store, _dir) = setup().await;
    let ids = sb.state().seed_contacts(3, 6);
    let now = jiff::Timestamp::now().as_millisecond();
    store
        .store_webhook_events(
            "p",
            &[hook(
                "contact.creation",
                &ids[0],
                now,
                serde_json::json!({}),
            )],
            now,
        )
        .await
        .unwrap();
    sb.state().set_faults(Faults {
        rate_500: 1.0,
        ..Faults::default()
    });
    assert!(
        apply_webhook_events(&client, &store, "p", &props(), 1000)
            .await
            .is_err()
    );
    sb.state().set_faults(Faults::default());
    assert_eq!(
        store.pending_webhook_events("p", 10).await.unwrap().len(),
        1
    );
    let report = apply_webhook_events(&client, &store, "p", &props(), 1000)
        .await
        .unwrap();
    assert_eq!(report.refetched, 1);
    assert_eq!(stored(&store, &ids[0]).await.id, ids[0]);
}

#[tokio::test]
async fn reconciliation_heals_changes_creations_deletions_and_merges_nobody_announced() {
    let (sb, client, store, _dir) = setup().await;
    let ids = sb.state().seed_contacts(250, 7);
    backfill(&client, &store, ObjectType::Contacts, &opts(), &|_| {})
        .await
        .unwrap();
    let first = reconcile(
        &client,
        &store,
        "p",
        ObjectType::Contacts,
        &opts().properties,
    )
    .await
    .unwrap();
    assert!(first.in_sync(), "{first:?}");
    assert_eq!(first.portal_live, 250);
    let contacts = client.objects(ObjectType::Contacts);
    for id in &ids[0..3] {
        contacts
            .update(
                id,
                &PropertyValues::from([("lastname".to_owned(), "Healed".to_owned())]),
            )
            .await
            .unwrap();
    }
    contacts.batch_archive(&ids[10..12]).await.unwrap();
    merge(&sb, &ids[20], &ids[21]).await;
    let fresh = sb.state().seed_contacts(2, 8);
    let report = reconcile(
        &client,
        &store,
        "p",
        ObjectType::Contacts,
        &opts().properties,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            report.missing,
            report.stale,
            report.deleted,
            report.merged,
            report.restored
        ),
        (2, 4, 2, 1, 0),
        "3 updated + the merge primary are stale: {report:?}"
    );
    // The sandbox answers a merged id with its primary; the store marks it merged.
    let mut all: Vec<String> = ids.iter().filter(|id| **id != ids[21]).cloned().collect();
    all.extend(fresh);
    assert_mirrors(&sb, &store, &all).await;
    assert!(stored(&store, &ids[21]).await.archived);
    assert_eq!(
        store
            .merged_into("p", ObjectType::Contacts, &ids[21])
            .await
            .unwrap(),
        Some(ids[20].clone())
    );
    let again = reconcile(
        &client,
        &store,
        "p",
        ObjectType::Contacts,
        &opts().properties,
    )
    .await
    .unwrap();
    assert!(again.in_sync(), "{again:?}");
}

#[tokio::test]
async fn incremental_sync_remaps_merged_contacts() {
    let (sb, client, store, _dir) = setup().await;
    let ids = sb.state().seed_contacts(5, 9);
    backfill(&client, &store, ObjectType::Contacts, &opts(), &|_| {})
        .await
        .unwrap();
    merge(&sb, &ids[0], &ids[1]).await;
    incremental(&client, &store, ObjectType::Contacts, &opts())
        .await
        .unwrap();
    assert!(stored(&store, &ids[1]).await.archived);
    assert_eq!(
        store
            .merged_into("p", ObjectType::Contacts, &ids[1])
            .await
            .unwrap(),
        Some(ids[0].clone())
    );
    assert!(!stored(&store, &ids[0]).await.archived);
}

#[tokio::test]
async fn the_association_sweep_adds_and_removes_links() {
    let (sb, client, store, _dir) = setup().await;
    let ids = sb.state().seed_contacts(130, 10);
    let companies = client.objects(ObjectType::Companies);
    let acme = companies
        .create(&ObjectInput {
            properties: PropertyValues::from([("name".to_owned(), "Acme".to_owned())]),
            ..ObjectInput::default()
        })
        .await
        .unwrap();
    let links = client.associations(ObjectType::Contacts, ObjectType::Companies);
    for id in [&ids[0], &ids[5], &ids[125]] {
        links.associate_default(id, &acme.id).await.unwrap();
    }
    backfill(&client, &store, ObjectType::Contacts, &opts(), &|_| {})
        .await
        .unwrap();
    let first = sweep_associations(
        &client,
        &store,
        "p",
        ObjectType::Contacts,
        ObjectType::Companies,
    )
    .await
    .unwrap();
    assert_eq!((first.records, first.added, first.removed), (130, 3, 0));
    let mut linked = store
        .associated("p", ObjectType::Companies, &acme.id, ObjectType::Contacts)
        .await
        .unwrap();
    linked.sort();
    let mut expected = vec![ids[0].clone(), ids[5].clone(), ids[125].clone()];
    expected.sort();
    assert_eq!(linked, expected);
    links.remove(&ids[5], &acme.id).await.unwrap();
    let second = sweep_associations(
        &client,
        &store,
        "p",
        ObjectType::Contacts,
        ObjectType::Companies,
    )
    .await
    .unwrap();
    assert_eq!((second.added, second.removed), (0, 1));
    assert!(
        store
            .associated("p", ObjectType::Contacts, &ids[5], ObjectType::Companies)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn reference_data_is_mirrored_and_list_joins_are_logged() {
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let client = Client::new(ClientConfig::new(
        sb.url(),
        Credentials::Token(Secret::new("t")),
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .await
        .unwrap();
    let list = client
        .lists()
        .create_manual("0-1", "Manual Outreach - 2026-11-24")
        .await
        .unwrap();
    let contact = client
        .objects(ObjectType::Contacts)
        .create(&ObjectInput {
            properties: PropertyValues::from([("email".to_owned(), "tag@x.com".to_owned())]),
            ..ObjectInput::default()
        })
        .await
        .unwrap();
    client
        .lists()
        .add(&list.list_id, std::slice::from_ref(&contact.id))
        .await
        .unwrap();
    let report = sync_reference(&client, &store, "p").await.unwrap();
    assert!(report.owners >= 1, "{report:?}");
    assert_eq!(report.sequences, 4, "the spec's four sequences: {report:?}");
    assert_eq!(report.members_added, 1);
    let names: Vec<String> = store
        .sequences("p")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert!(
        names.contains(&"No Response Follow-up".to_owned()),
        "{names:?}"
    );
    let stages = store.stages("p", ObjectType::Deals).await.unwrap();
    assert!(
        stages.iter().any(|s| s.stage_id == "appointmentscheduled"),
        "{stages:?}"
    );
    let log = store
        .events_of("p", ObjectType::Contacts, &contact.id)
        .await
        .unwrap();
    assert!(
        log.iter().any(|e| e.property.as_deref()
            == Some(format!("list:{}", list.list_id).as_str())
            && e.new_value.as_deref() == Some("Manual Outreach - 2026-11-24")),
        "{log:?}"
    );
    // Unchanged membership logs nothing new.
    let again = sync_reference(&client, &store, "p").await.unwrap();
    assert_eq!((again.members_added, again.members_removed), (0, 0));
}
