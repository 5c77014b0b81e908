//! Backfill and incremental sync against the sandbox: completeness, resumption, faults.

use std::time::Duration;

use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{
    Client, ClientConfig, Credentials, ObjectInput, PropertyValues, RateLimits, RetryPolicy,
};
use leadflow_sandbox::{Faults, Sandbox, SandboxConfig, SandboxHandle, Seed};
use leadflow_store::Store;
use leadflow_sync::{SyncError, SyncOptions, backfill, incremental};

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
    let ids = sb.state().seed_contacts(600, 3);
    sb.state().set_faults(Faults {
        rate_429: 0.05,
        rate_500: 0.1,
        rate_503: 0.05,
        rate_reset: 0.05,
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
        600
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
