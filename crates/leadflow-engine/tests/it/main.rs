//! The engine against the sandbox: the spec's workflows carried out exactly once, through
//! faults and interrupted runs.

mod archive_tasks;

use std::collections::BTreeMap;
use std::time::Duration;

use leadflow_config::Project;
use leadflow_core::{ObjectType, Secret};
use leadflow_engine::{Engine, EngineError, PortalMap, run_once};
use leadflow_hubspot::{
    Client, ClientConfig, Credentials, ObjectInput, PropertyValues, RateLimits, RetryPolicy,
};
use leadflow_sandbox::{Faults, Sandbox, SandboxConfig, SandboxHandle};
use leadflow_store::Store;
use leadflow_sync::{SyncOptions, backfill, incremental, sync_reference};

const PORTAL: &str = "p";

fn project() -> (Project, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), false).unwrap();
    let (project, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{diags:?}");
    (project, dir)
}

fn client(sb: &SandboxHandle) -> Client {
    let mut c = ClientConfig::new(sb.url(), Credentials::Token(Secret::new("t")));
    c.retry = RetryPolicy {
        max_attempts: 3,
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    c.limits = RateLimits {
        search_per_second: 100,
        ..RateLimits::default()
    };
    Client::new(c).unwrap()
}

fn contact_properties() -> Vec<String> {
    [
        "email",
        "firstname",
        "lastname",
        "company",
        "hubspot_owner_id",
        "lead_source",
        "icp_type",
        "icp_fit_score",
        "lead_score",
        "response_status",
        "qualification_status",
        "campaign_tag",
        "message_strategy",
        "last_outreach_date",
    ]
    .map(String::from)
    .to_vec()
}

pub(crate) struct World {
    sb: SandboxHandle,
    client: Client,
    store: Store,
    project: Project,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

pub(crate) async fn world() -> World {
    let (project, pdir) = project();
    let mut config = SandboxConfig::default();
    config.limits.search_per_second = 1000;
    let sb = Sandbox::spawn(config).await.unwrap();
    let client = client(&sb);
    let planned = leadflow_plan::plan(
        &project,
        &leadflow_plan::fetch(&client, &project).await.unwrap(),
        false,
    );
    leadflow_plan::apply(&client, &planned, leadflow_plan::ApplyOptions::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .await
        .unwrap();
    World {
        sb,
        client,
        store,
        project,
        _dirs: (pdir, dir),
    }
}

impl World {
    /// Creates tagged contacts with the given fit scores; returns their ids.
    async fn tagged(&self, tag: &str, fits: &[u32]) -> Vec<String> {
        use futures::TryStreamExt;
        let owners: Vec<leadflow_hubspot::Owner> =
            self.client.owners().try_collect().await.unwrap();
        let owner = owners[0].id.clone();
        let inputs: Vec<ObjectInput> = fits
            .iter()
            .enumerate()
            .map(|(n, fit)| ObjectInput {
                properties: PropertyValues::from([
                    (
                        "email".to_owned(),
                        format!("lead{n}-{fit}@{}.example", tag.len()),
                    ),
                    ("firstname".to_owned(), format!("Lead{n}")),
                    ("lastname".to_owned(), "Tester".to_owned()),
                    ("company".to_owned(), "Acme".to_owned()),
                    ("icp_fit_score".to_owned(), fit.to_string()),
                    ("campaign_tag".to_owned(), tag.to_owned()),
                    ("hubspot_owner_id".to_owned(), owner.clone()),
                ]),
                ..ObjectInput::default()
            })
            .collect();
        let out = self
            .client
            .objects(ObjectType::Contacts)
            .batch_create(inputs)
            .await
            .unwrap();
        assert!(out.is_complete());
        let mut by_email: BTreeMap<String, String> = out
            .results
            .iter()
            .map(|r| (r.get("email").unwrap().to_owned(), r.id.clone()))
            .collect();
        fits.iter()
            .enumerate()
            .map(|(n, fit)| {
                by_email
                    .remove(&format!("lead{n}-{fit}@{}.example", tag.len()))
                    .unwrap()
            })
            .collect()
    }

    async fn sync(&self, full: bool) {
        for t in [ObjectType::Contacts, ObjectType::Deals] {
            let mut props = contact_properties();
            if t == ObjectType::Deals {
                props = [
                    "dealname",
                    "dealstage",
                    "pipeline",
                    "amount",
                    "hubspot_owner_id",
                    "leadflow_deal_key",
                ]
                .map(String::from)
                .to_vec();
            }
            let opts = SyncOptions::new(PORTAL, props);
            if full {
                backfill(&self.client, &self.store, t, &opts, &|_| {})
                    .await
                    .unwrap();
            } else {
                incremental(&self.client, &self.store, t, &opts)
                    .await
                    .unwrap();
            }
        }
        sync_reference(&self.client, &self.store, PORTAL)
            .await
            .unwrap();
    }

    async fn engine(&self) -> (Engine, PortalMap) {
        let engine = Engine::new(self.project.clone(), PORTAL).unwrap();
        let map = PortalMap::load(
            &self.store,
            PORTAL,
            &self.project.settings,
            &self.project.workflows,
        )
        .await
        .unwrap();
        (engine, map)
    }

    async fn pass(&self, engine: &Engine, map: &PortalMap) -> leadflow_engine::PassReport {
        run_once(
            engine,
            &self.client,
            &self.store,
            map,
            jiff::Timestamp::now(),
            &jiff::tz::TimeZone::UTC,
        )
        .await
        .unwrap()
    }

    fn count(&self, t: &str) -> usize {
        self.sb.state().count(t)
    }

    fn enrollments(&self) -> usize {
        self.sb.state().enrollments().len()
    }
}

#[tokio::test]
async fn manual_outreach_runs_once_for_each_tagged_contact() {
    let w = world().await;
    let deals_before = w.count("deals");
    let enrolled_before = w.enrollments();
    let fits = [4, 5, 6, 7, 8, 9, 10, 3];
    w.sync(true).await;
    let ids = w.tagged("Manual Outreach - 2026-11-24", &fits).await;
    w.sync(false).await;
    let (engine, map) = w.engine().await;
    w.sb.state().reset_stats();
    let first = w.pass(&engine, &map).await;
    let mut dead = Vec::new();
    for id in &ids {
        for i in w.store.intents_of(PORTAL, id).await.unwrap() {
            if i.state == "dead" {
                dead.push((i.action, i.last_error));
            }
        }
    }
    assert_eq!(first.executed.dead, 0, "{first:?} {dead:?}");
    let calls = w.sb.state().stats().requests;
    // 8 contacts: one batch write, one deal upsert + one link call, 6 enrollments (fit >= 5).
    assert_eq!(w.count("deals") - deals_before, 4, "fit 7, 8, 9, 10");
    assert_eq!(w.enrollments() - enrolled_before, 6, "fit 5 and up");
    assert!(calls <= 1 + 2 + 6, "{calls} calls");
    for (id, fit) in ids.iter().zip(fits) {
        let c = w.sb.state().record("contacts", id).unwrap();
        let p = &c["properties"];
        assert_eq!(p["lead_source"], "Outbound", "fit {fit}");
        assert_eq!(p["qualification_status"], "Unqualified");
        assert_eq!(p["response_status"], "No Response");
        assert!(
            p["last_outreach_date"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
    }
    // Everything again: the writes come back through sync, nothing is done twice.
    w.sync(false).await;
    let again = w.pass(&engine, &map).await;
    assert_eq!(again.executed.done, 0, "{again:?}");
    assert_eq!(w.count("deals") - deals_before, 4);
    assert_eq!(w.enrollments() - enrolled_before, 6);
    // Every contact's history says what happened.
    let history = w.store.intents_of(PORTAL, &ids[3]).await.unwrap();
    let actions: Vec<(&str, &str)> = history
        .iter()
        .filter(|i| i.workflow == "workflow_manual_outreach")
        .map(|i| (i.action.as_str(), i.state.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("write", "done"),
            ("create_deal", "done"),
            ("enroll", "done")
        ]
    );
}

#[tokio::test]
async fn responses_create_tasks_and_move_deals_exactly_once() {
    let w = world().await;
    w.sync(true).await;
    let ids = w.tagged("Manual Outreach - 2026-11-24", &[9, 9, 4]).await;
    w.sync(false).await;
    let (engine, map) = w.engine().await;
    w.pass(&engine, &map).await;
    let tasks_before = w.count("tasks");
    let contacts = w.client.objects(ObjectType::Contacts);
    let set = |v: &str| PropertyValues::from([("response_status".to_owned(), v.to_owned())]);
    contacts.update(&ids[0], &set("Interested")).await.unwrap();
    contacts
        .update(&ids[1], &set("Meeting Scheduled"))
        .await
        .unwrap();
    contacts
        .update(&ids[2], &set("Meeting Scheduled"))
        .await
        .unwrap();
    w.sync(false).await;
    let report = w.pass(&engine, &map).await;
    assert_eq!(report.executed.dead, 0, "{report:?}");
    assert_eq!(
        w.count("tasks") - tasks_before,
        1,
        "one task for the interested lead"
    );
    let c = w.sb.state().record("contacts", &ids[0]).unwrap();
    assert_eq!(c["properties"]["qualification_status"], "Qualified");
    assert_eq!(c["properties"]["lead_score"], "20");
    let discovery = map.stages["discovery"].clone();
    let deal_id = w
        .store
        .associated(PORTAL, ObjectType::Contacts, &ids[1], ObjectType::Deals)
        .await
        .unwrap()[0]
        .clone();
    let deal = w.sb.state().record("deals", &deal_id).unwrap();
    assert_eq!(deal["properties"]["dealstage"], discovery.as_str());
    let skipped = w.store.intents_of(PORTAL, &ids[2]).await.unwrap();
    assert!(
        skipped
            .iter()
            .any(|i| i.action == "move_deal" && i.state == "skipped"),
        "no deal, nothing to move: {skipped:?}"
    );
    w.sync(false).await;
    w.pass(&engine, &map).await;
    assert_eq!(w.count("tasks") - tasks_before, 1);
}

#[tokio::test]
async fn faults_and_interruptions_still_give_each_deal_task_and_enrollment_once() {
    let w = world().await;
    let deals_before = w.count("deals");
    let enrolled_before = w.enrollments();
    let tasks_before = w.count("tasks");
    let fits: Vec<u32> = (0..120).map(|n| 3 + n % 8).collect();
    w.sync(true).await;
    let ids = w.tagged("Automated Outreach - Fintech", &fits).await;
    w.sync(false).await;
    let (engine, map) = w.engine().await;
    w.sb.state().set_faults(Faults {
        rate_429: 0.1,
        rate_500: 0.1,
        rate_503: 0.05,
        rate_reset: 0.05,
        ..Faults::default()
    });
    // Passes until every intent settled; retries are due at once on a clock moved ahead.
    let mut at = jiff::Timestamp::now();
    for _ in 0..60 {
        run_once(
            &engine,
            &w.client,
            &w.store,
            &map,
            at,
            &jiff::tz::TimeZone::UTC,
        )
        .await
        .unwrap();
        at += jiff::SignedDuration::from_mins(10);
    }
    w.sb.state().set_faults(Faults::default());
    assert!(w.sb.state().stats().injected_faults > 0);
    let expected_deals = fits.iter().filter(|f| **f >= 8).count();
    let expected_enrollments = fits.iter().filter(|f| **f >= 6).count();
    assert_eq!(w.count("deals") - deals_before, expected_deals);
    assert_eq!(w.enrollments() - enrolled_before, expected_enrollments);
    assert_eq!(w.count("tasks"), tasks_before);
    let counts = w.store.intent_counts(PORTAL).await.unwrap();
    assert!(
        counts
            .iter()
            .all(|(_, state, _)| state == "done" || state == "skipped"),
        "{counts:?}"
    );
    for id in &ids {
        let p = &w.sb.state().record("contacts", id).unwrap()["properties"];
        assert_eq!(p["lead_source"], "Outbound");
    }
    // Responses come in; tasks are created under the same faults, once each.
    let interested: Vec<leadflow_hubspot::ObjectUpdate> = ids[..30]
        .iter()
        .map(|id| leadflow_hubspot::ObjectUpdate {
            id: id.clone(),
            id_property: None,
            properties: PropertyValues::from([(
                "response_status".to_owned(),
                "Interested".to_owned(),
            )]),
            object_write_trace_id: None,
        })
        .collect();
    w.client
        .objects(ObjectType::Contacts)
        .batch_update(interested)
        .await
        .unwrap();
    w.sync(false).await;
    w.sb.state().set_faults(Faults {
        rate_429: 0.1,
        rate_500: 0.15,
        rate_503: 0.05,
        rate_reset: 0.1,
        ..Faults::default()
    });
    for _ in 0..60 {
        run_once(
            &engine,
            &w.client,
            &w.store,
            &map,
            at,
            &jiff::tz::TimeZone::UTC,
        )
        .await
        .unwrap();
        at += jiff::SignedDuration::from_mins(10);
    }
    w.sb.state().set_faults(Faults::default());
    assert_eq!(
        w.count("tasks") - tasks_before,
        30,
        "one task per interested lead"
    );
    let counts = w.store.intent_counts(PORTAL).await.unwrap();
    assert!(
        counts
            .iter()
            .all(|(_, state, _)| state == "done" || state == "skipped"),
        "{counts:?}"
    );
}

#[tokio::test]
async fn a_refused_write_is_dead_lettered_with_hubspots_message_and_the_rest_go_on() {
    let w = world().await;
    w.sync(true).await;
    let ids = w.tagged("Manual Outreach - 2026-11-24", &[4, 4, 4]).await;
    w.sync(false).await;
    let (engine, map) = w.engine().await;
    let now = jiff::Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    while engine
        .ingest(&w.store, today, now.as_millisecond(), 1000)
        .await
        .unwrap()
        .events
        > 0
    {}
    // Deleted in HubSpot between the decision and the write.
    w.client
        .objects(ObjectType::Contacts)
        .archive(&ids[1])
        .await
        .unwrap();
    let report = run_once(
        &engine,
        &w.client,
        &w.store,
        &map,
        now,
        &jiff::tz::TimeZone::UTC,
    )
    .await
    .unwrap();
    // Its two writes (the creation flow's defaults and workflow 1's) went as one update.
    assert_eq!(report.executed.dead, 2, "{report:?}");
    assert_eq!(report.executed.done, 4, "{report:?}");
    let dead: Vec<_> = w
        .store
        .intents_of(PORTAL, &ids[1])
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.state == "dead")
        .collect();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert!(dead.iter().all(|d| d.action == "write"), "{dead:?}");
    let why = dead[0].last_error.clone().unwrap_or_default();
    assert!(
        why.contains(&ids[1]) || why.to_lowercase().contains("not"),
        "HubSpot's message: {why}"
    );
    for id in [&ids[0], &ids[2]] {
        let p = &w.sb.state().record("contacts", id).unwrap()["properties"];
        assert_eq!(p["lead_source"], "Outbound", "the others are written");
    }
}

#[tokio::test]
async fn a_workflow_naming_a_missing_sequence_is_refused_at_start() {
    let w = world().await;
    w.sync(true).await;
    let mut project = w.project.clone();
    for wf in &mut project.workflows {
        for a in &mut wf.actions {
            if let leadflow_config::workflows::ActionKind::AddToSequence { sequence } = &mut a.kind
            {
                *sequence = "Manual Outreach Folow-up".into();
            }
        }
    }
    let err = PortalMap::load(&w.store, PORTAL, &project.settings, &project.workflows)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        EngineError::Missing {
            what: "sequence",
            ..
        }
    ));
    let text = err.to_string();
    assert!(text.contains("Manual Outreach Folow-up"), "{text}");
    assert!(text.contains("manual outreach follow-up"), "{text}");
}

#[tokio::test]
async fn an_action_interrupted_after_hubspot_carried_it_out_is_not_done_twice() {
    use leadflow_engine::run::key_hash;
    let w = world().await;
    w.sync(true).await;
    let deals_before = w.count("deals");
    let enrolled_before = w.enrollments();
    let tasks_before = w.count("tasks");
    let ids = w.tagged("Manual Outreach - 2026-11-24", &[9]).await;
    w.sync(false).await;
    let (engine, map) = w.engine().await;
    let now = jiff::Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let ingest_all = || async {
        while engine
            .ingest(&w.store, today, now.as_millisecond(), 1000)
            .await
            .unwrap()
            .events
            > 0
        {}
    };
    ingest_all().await;
    // The process claims the deal and the enrollment, HubSpot carries them out, and the
    // process dies before recording it.
    let ms = now.as_millisecond();
    let deal = w
        .store
        .claim_intents(PORTAL, "create_deal", ms, 60_000, 10)
        .await
        .unwrap()
        .remove(0);
    let _enroll = w
        .store
        .claim_intents(PORTAL, "enroll", ms, 60_000, 10)
        .await
        .unwrap()
        .remove(0);
    w.client
        .objects(ObjectType::Deals)
        .batch_upsert(
            leadflow_engine::exec::DEAL_KEY,
            vec![(
                key_hash(&deal.key),
                PropertyValues::from([
                    ("dealname".to_owned(), "Lead0 Tester - Acme".to_owned()),
                    ("pipeline".to_owned(), map.pipeline_id.clone()),
                    ("dealstage".to_owned(), map.stages["new lead"].clone()),
                ]),
            )],
        )
        .await
        .unwrap();
    let user = map.owners.iter().find(|o| o.user_id.is_some()).unwrap();
    w.client
        .enroll(&leadflow_hubspot::EnrollmentRequest {
            contact_id: ids[0].clone(),
            sequence_id: map.sequences["manual outreach follow-up"].clone(),
            sender_email: user.email.clone().unwrap(),
            user_id: user.user_id.unwrap().to_string(),
        })
        .await
        .unwrap();
    // The same for a task: the response comes in, the task is created, the process dies.
    w.client
        .objects(ObjectType::Contacts)
        .update(
            &ids[0],
            &PropertyValues::from([("response_status".to_owned(), "Interested".to_owned())]),
        )
        .await
        .unwrap();
    w.sync(false).await;
    ingest_all().await;
    let task = w
        .store
        .claim_intents(PORTAL, "create_task", ms, 60_000, 10)
        .await
        .unwrap()
        .remove(0);
    w.client
        .objects(ObjectType::Tasks)
        .batch_create(vec![ObjectInput {
            properties: PropertyValues::from([
                ("hs_task_subject".to_owned(), "Follow up".to_owned()),
                (
                    "hs_task_body".to_owned(),
                    format!("Lead responded.\n\nleadflow:{}", key_hash(&task.key)),
                ),
                ("hs_timestamp".to_owned(), ms.to_string()),
            ]),
            associations: vec![leadflow_hubspot::InlineAssociation {
                to: leadflow_hubspot::ObjectId::from(ids[0].as_str()),
                types: vec![leadflow_hubspot::AssociationSpec::hubspot(
                    leadflow_hubspot::association_types::TASK_TO_CONTACT,
                )],
            }],
            object_write_trace_id: None,
        }])
        .await
        .unwrap();
    // After the leases expire, a new process takes over.
    let later = now + jiff::SignedDuration::from_mins(5);
    let report = run_once(
        &engine,
        &w.client,
        &w.store,
        &map,
        later,
        &jiff::tz::TimeZone::UTC,
    )
    .await
    .unwrap();
    assert_eq!(report.executed.dead, 0, "{report:?}");
    assert_eq!(w.count("deals") - deals_before, 1);
    assert_eq!(w.enrollments() - enrolled_before, 1);
    assert_eq!(w.count("tasks") - tasks_before, 1);
    let states: Vec<(String, String)> = w
        .store
        .intents_of(PORTAL, &ids[0])
        .await
        .unwrap()
        .into_iter()
        .filter(|i| ["create_deal", "enroll", "create_task"].contains(&i.action.as_str()))
        .map(|i| (i.action, i.state))
        .collect();
    // Each carried out once, settled by reading HubSpot; the rest skipped by condition.
    assert_eq!(
        states.iter().filter(|(_, s)| s == "done").count(),
        3,
        "{states:?}"
    );
    assert!(
        states.iter().all(|(_, s)| s == "done" || s == "skipped"),
        "{states:?}"
    );
}

#[tokio::test]
async fn a_deal_created_elsewhere_gets_its_missing_amount_and_its_contacts_owner() {
    let w = world().await;
    w.sync(true).await;
    let ids = w.tagged("Newsletter", &[3]).await;
    let deal = w
        .client
        .objects(ObjectType::Deals)
        .create(&ObjectInput {
            properties: PropertyValues::from([
                ("dealname".to_owned(), "Walk-in".to_owned()),
                ("pipeline".to_owned(), "default".to_owned()),
                ("dealstage".to_owned(), "appointmentscheduled".to_owned()),
            ]),
            ..ObjectInput::default()
        })
        .await
        .unwrap();
    let lonely = w
        .client
        .objects(ObjectType::Deals)
        .create(&ObjectInput {
            properties: PropertyValues::from([
                ("dealname".to_owned(), "Nobody's".to_owned()),
                ("pipeline".to_owned(), "default".to_owned()),
                ("dealstage".to_owned(), "appointmentscheduled".to_owned()),
                ("amount".to_owned(), "500".to_owned()),
            ]),
            ..ObjectInput::default()
        })
        .await
        .unwrap();
    w.client
        .associations(ObjectType::Deals, ObjectType::Contacts)
        .associate_default(&deal.id, &ids[0])
        .await
        .unwrap();
    w.sync(false).await;
    leadflow_sync::sweep_associations(
        &w.client,
        &w.store,
        PORTAL,
        ObjectType::Deals,
        ObjectType::Contacts,
    )
    .await
    .unwrap();
    let (engine, map) = w.engine().await;
    let report = w.pass(&engine, &map).await;
    assert_eq!(report.executed.dead, 0, "{report:?}");
    let d = w.sb.state().record("deals", &deal.id).unwrap();
    let c = w.sb.state().record("contacts", &ids[0]).unwrap();
    assert_eq!(d["properties"]["amount"], "0");
    let owner = c["properties"]["hubspot_owner_id"]
        .as_str()
        .expect("tagged() sets an owner");
    assert_eq!(d["properties"]["hubspot_owner_id"], owner);
    let notes = w.store.intents_of(PORTAL, &lonely.id).await.unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].action, "link_to_contact");
    assert_eq!(notes[0].state, "skipped");
    assert_eq!(
        w.sb.state().record("deals", &lonely.id).unwrap()["properties"]["amount"],
        "500",
        "an amount given is kept"
    );
}
