//! End-to-end tests of keeping the store current through the binary: `sync reconcile`,
//! and `serve` applying the sandbox's signed webhooks in the background.

use std::io::BufRead;

use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{Client, ClientConfig, Credentials, ObjectInput, PropertyValues};
use leadflow_sandbox::{Sandbox, SandboxConfig};

use crate::{portal, run, strings, text};

fn client(url: String) -> Client {
    Client::new(ClientConfig::new(url, Credentials::Token(Secret::new("t")))).unwrap()
}

/// A `leadflow serve` child process, killed when dropped.
struct Serve {
    child: std::process::Child,
    /// Where it listens (`http://127.0.0.1:PORT`).
    base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `leadflow serve ARGS` with the sandbox's webhook secret and `env`, and waits for
/// the line that says where it listens. Its stderr is read to the end so it never blocks.
async fn serve(args: &[&str], env: &[(String, String)]) -> Serve {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_leadflow"));
    cmd.arg("serve")
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .env("LEADFLOW_WEBHOOK_SECRET", "sandbox-client-secret")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let base = tokio::task::spawn_blocking(move || {
        loop {
            let line = rx.recv().expect("serve prints where it listens");
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                return url.to_owned();
            }
        }
    })
    .await
    .unwrap();
    Serve { child, base }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_reconcile_heals_a_deletion_nobody_announced() {
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("leadflow.db").display());
    let mut env = portal(&sb, "t");
    env.push(("LEADFLOW_DATABASE_URL".into(), db.clone()));
    let o = run(
        strings(&["sync", "--full", "--object", "contacts"]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let store = leadflow_store::Store::connect(&db).await.unwrap();
    let victim = store
        .live_ids("default", ObjectType::Contacts)
        .await
        .unwrap()[0]
        .clone();
    store.close().await;
    client(sb.url())
        .objects(ObjectType::Contacts)
        .archive(&victim)
        .await
        .unwrap();
    let o = run(
        strings(&["sync", "reconcile", "--object", "contacts"]),
        env.clone(),
    )
    .await;
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("1 deleted"), "{out}");
    let o = run(strings(&["sync", "status"]), env).await;
    let out = text(&o);
    assert!(out.contains("contacts.reconcile"), "{out}");
    assert!(
        out.contains("data sync success rate (24 h): 100.0%"),
        "{out}"
    );
    let store = leadflow_store::Store::connect(&db).await.unwrap();
    assert!(
        store
            .record("default", ObjectType::Contacts, &victim)
            .await
            .unwrap()
            .unwrap()
            .archived
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_applies_the_sandboxs_webhooks_to_the_store() {
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("leadflow.db").display());
    let mut env = portal(&sb, "t");
    env.push(("LEADFLOW_DATABASE_URL".into(), db.clone()));
    let o = run(
        strings(&["sync", "--full", "--object", "contacts"]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let served = serve(
        &[
            "--webhook-interval",
            "50ms",
            "--sync-interval",
            "1h",
            "--reconcile-interval",
            "1h",
        ],
        &env,
    )
    .await;
    let base = served.base.clone();

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let app = format!("{}/webhooks/v3/54321", sb.url());
    let put = http
        .put(format!("{app}/settings"))
        .bearer_auth("t")
        .json(&serde_json::json!({ "targetUrl": format!("{base}/webhooks/hubspot"), "throttling": { "maxConcurrentRequests": 10, "period": "SECONDLY" } }))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());
    for sub in [
        serde_json::json!({ "eventType": "contact.creation", "active": true }),
        serde_json::json!({ "eventType": "contact.deletion", "active": true }),
        serde_json::json!({ "eventType": "contact.propertyChange", "propertyName": "firstname", "active": true }),
    ] {
        let r = http
            .post(format!("{app}/subscriptions"))
            .bearer_auth("t")
            .json(&sub)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }

    let store = leadflow_store::Store::connect(&db).await.unwrap();
    let ids = store
        .live_ids("default", ObjectType::Contacts)
        .await
        .unwrap();
    let contacts = client(sb.url()).objects(ObjectType::Contacts);
    contacts
        .update(
            &ids[0],
            &PropertyValues::from([("firstname".to_owned(), "Webhooked".to_owned())]),
        )
        .await
        .unwrap();
    contacts.archive(&ids[1]).await.unwrap();
    let new = contacts
        .create(&ObjectInput {
            properties: PropertyValues::from([(
                "email".to_owned(),
                "via-webhook@example.com".to_owned(),
            )]),
            ..ObjectInput::default()
        })
        .await
        .unwrap();

    // Poll what the store shows (bounded): delivery and the applier run in other processes.
    let mut converged = false;
    for _ in 0..400 {
        let changed = store
            .record("default", ObjectType::Contacts, &ids[0])
            .await
            .unwrap()
            .and_then(|r| r.get("firstname").map(str::to_owned));
        let archived = store
            .record("default", ObjectType::Contacts, &ids[1])
            .await
            .unwrap()
            .is_some_and(|r| r.archived);
        let created = store
            .record("default", ObjectType::Contacts, &new.id)
            .await
            .unwrap()
            .is_some();
        if changed.as_deref() == Some("Webhooked") && archived && created {
            converged = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(converged, "the store reflects the portal's changes");
    let (pending, _) = store.pending_webhook_summary("default").await.unwrap();
    assert_eq!(pending, 0, "every event was applied");
    // The health gauges: sync runs' success (the webhook runs succeed; incremental runs
    // of types never backfilled do not) and serve's own calls (the applier's reads) timed.
    let gauge = |metrics: &str, name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
    };
    let mut metrics = String::new();
    for _ in 0..200 {
        metrics = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if gauge(&metrics, "leadflow_sync_success_ratio ").is_some()
            && gauge(
                &metrics,
                "leadflow_hubspot_latency_seconds{quantile=\"0.99\"}",
            )
            .is_some()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let sync = gauge(&metrics, "leadflow_sync_success_ratio ").unwrap_or(f64::NAN);
    assert!(sync > 0.5 && sync <= 1.0, "{metrics}");
    let p99 = gauge(
        &metrics,
        "leadflow_hubspot_latency_seconds{quantile=\"0.99\"}",
    )
    .unwrap_or(f64::NAN);
    assert!(p99 > 0.0 && p99 < 5.0, "{metrics}");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_killed_mid_run_resumes_with_nothing_lost_or_duplicated() {
    let mut config = SandboxConfig {
        seed: leadflow_sandbox::Seed::Empty,
        ..SandboxConfig::default()
    };
    config.faults.latency_ms = 20;
    let sb = Sandbox::spawn(config).await.unwrap();
    let ids = sb.state().seed_contacts(3000, 11);
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("leadflow.db").display());
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_leadflow"));
    cmd.args(["sync", "--full", "--object", "contacts"])
        .env("LEADFLOW_DATABASE_URL", &db)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, v) in portal(&sb, "t") {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    // Kill it (SIGKILL) once a few pages are in: at least 5 list calls answered.
    let mut killed_mid_run = false;
    for _ in 0..1000 {
        if sb.state().stats().requests >= 5 {
            killed_mid_run = matches!(child.try_wait(), Ok(None));
            child.kill().unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let _ = child.wait();
    assert!(killed_mid_run, "the backfill was still running when killed");
    let store = leadflow_store::Store::connect(&db).await.unwrap();
    let before = store
        .count("default", ObjectType::Contacts, false)
        .await
        .unwrap();
    assert!(
        before > 0 && before < 3000,
        "killed part-way: {before} stored"
    );
    store.close().await;
    sb.state().set_faults(leadflow_sandbox::Faults::default());
    let mut env = portal(&sb, "t");
    env.push(("LEADFLOW_DATABASE_URL".into(), db.clone()));
    let o = run(strings(&["sync", "--full", "--object", "contacts"]), env).await;
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let store = leadflow_store::Store::connect(&db).await.unwrap();
    let mut stored = store
        .live_ids("default", ObjectType::Contacts)
        .await
        .unwrap();
    stored.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(stored, expected, "every contact once, none lost");
    // The resumed run did not start over: it read fewer than all 3,000 again.
    let resumed: usize = out
        .split_whitespace()
        .skip_while(|w| *w != "contacts:")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    assert!(resumed < 3000, "{out}");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_the_workflows_on_what_webhooks_bring() {
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let project_s = project.to_str().unwrap().to_owned();
    let db = format!("sqlite://{}", dir.path().join("leadflow.db").display());
    let mut env = portal(&sb, "t");
    env.push(("LEADFLOW_DATABASE_URL".into(), db.clone()));
    let o = run(strings(&["init", &project_s]), vec![]).await;
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        strings(&["properties", "apply", "--yes", "--config", &project_s]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(strings(&["sync", "--full"]), env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let deals_before = sb.state().count("deals");
    let enrolled_before = sb.state().enrollments().len();

    let served = serve(
        &[
            "--config",
            &project_s,
            "--webhook-interval",
            "50ms",
            "--engine-interval",
            "50ms",
            "--sync-interval",
            "1h",
            "--reconcile-interval",
            "1h",
        ],
        &env,
    )
    .await;
    let base = served.base.clone();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let app = format!("{}/webhooks/v3/54321", sb.url());
    let put = http
        .put(format!("{app}/settings"))
        .bearer_auth("t")
        .json(&serde_json::json!({ "targetUrl": format!("{base}/webhooks/hubspot") }))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    let sub = http
        .post(format!("{app}/subscriptions"))
        .bearer_auth("t")
        .json(&serde_json::json!({ "eventType": "contact.creation", "active": true }))
        .send()
        .await
        .unwrap();
    assert!(sub.status().is_success());

    use futures::TryStreamExt;
    let c = client(sb.url());
    let owners: Vec<leadflow_hubspot::Owner> = c.owners().try_collect().await.unwrap();
    let props = |email: &str, fit: &str| ObjectInput {
        properties: PropertyValues::from([
            ("email".to_owned(), email.to_owned()),
            ("firstname".to_owned(), "Grace".to_owned()),
            ("lastname".to_owned(), "Hopper".to_owned()),
            ("company".to_owned(), "Navy".to_owned()),
            ("icp_fit_score".to_owned(), fit.to_owned()),
            (
                "campaign_tag".to_owned(),
                "Manual Outreach - 2026-11-24".to_owned(),
            ),
            ("hubspot_owner_id".to_owned(), owners[0].id.clone()),
        ]),
        ..ObjectInput::default()
    };
    let contacts = c.objects(ObjectType::Contacts);
    let hot = contacts
        .create(&props("grace@navy.example", "9"))
        .await
        .unwrap();
    contacts
        .create(&props("cold@navy.example", "3"))
        .await
        .unwrap();

    let mut done = false;
    for _ in 0..400 {
        let lead_source = sb
            .state()
            .record("contacts", &hot.id)
            .and_then(|r| r["properties"]["lead_source"].as_str().map(str::to_owned));
        if sb.state().count("deals") > deals_before
            && sb.state().enrollments().len() > enrolled_before
            && lead_source.as_deref() == Some("Outbound")
        {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(done, "the webhook's contact went through workflow 1");
    assert_eq!(
        sb.state().count("deals"),
        deals_before + 1,
        "the fit-3 contact gets no deal"
    );
    assert_eq!(sb.state().enrollments().len(), enrolled_before + 1);
    // The JSON API tells the contact's history.
    let r = http
        .get(format!("{base}/api/contacts/grace@navy.example/history"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let history = r.text().await.unwrap();
    assert!(history.contains("workflow_manual_outreach"), "{history}");
    assert!(history.contains("create_deal"), "{history}");
    let r = http
        .get(format!("{base}/api/contacts/nobody@navy.example/history"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    sb.shutdown().await;
}
