//! `leadflow status`: the spec's health metrics measured from what sync, the client and
//! a count check stored, each against its target.

use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{Client, ClientConfig, Credentials};
use leadflow_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

use crate::{portal, run, strings, text};

async fn status(env: &[(String, String)], extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = strings(&["status", "--format", "json"]);
    args.extend(strings(extra));
    let o = run(args, env.to_vec()).await;
    let json = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    (o.status.code(), json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_measures_sync_latency_and_accuracy_against_the_portal() {
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("leadflow.db").display());
    let mut env = portal(&sb, "t");
    env.push(("LEADFLOW_DATABASE_URL".into(), db.clone()));

    // Nothing measured yet: every metric says so, and nothing misses a target.
    let (code, h) = status(&env, &[]).await;
    assert_eq!(code, Some(0), "{h}");
    for k in ["sync", "workflows", "accuracy", "latency", "budget"] {
        assert_eq!(h[k], Value::Null, "{k}: {h}");
    }

    let o = run(strings(&["sync", "--full"]), env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let (code, h) = status(&env, &[]).await;
    assert_eq!(code, Some(0), "{h}");
    let sync = &h["sync"];
    assert!(sync["whole"].as_i64().unwrap() > 0, "{h}");
    assert_eq!(sync["part"], sync["whole"], "every run succeeded: {h}");
    let latency = &h["latency"];
    assert!(latency["calls"].as_i64().unwrap() > 0, "{h}");
    let (p50, p99) = (
        latency["p50_ms"].as_f64().unwrap(),
        latency["p99_ms"].as_f64().unwrap(),
    );
    assert!(p50 > 0.0 && p50 <= p99, "{h}");

    // A count check right after a full sync agrees everywhere.
    let (code, h) = status(&env, &["--check-portal"]).await;
    assert_eq!(code, Some(0), "{h}");
    let rate = &h["accuracy"]["rate"];
    assert_eq!(rate["part"], rate["whole"], "{h}");
    let stored: i64 = h["accuracy"]["per_type"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t[0] == "contacts")
        .map(|t| t[1].as_i64().unwrap())
        .unwrap();
    assert!(stored > 0, "{h}");

    // A deletion nobody synced: the store holds one contact the portal no longer has.
    let store = leadflow_store::Store::connect(&db).await.unwrap();
    let victim = store
        .live_ids("default", ObjectType::Contacts)
        .await
        .unwrap()[0]
        .clone();
    store.close().await;
    Client::new(ClientConfig::new(
        sb.url(),
        Credentials::Token(Secret::new("t")),
    ))
    .unwrap()
    .objects(ObjectType::Contacts)
    .archive(&victim)
    .await
    .unwrap();
    let (code, h) = status(&env, &["--check-portal"]).await;
    let contacts = h["accuracy"]["per_type"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t[0] == "contacts")
        .cloned()
        .unwrap();
    assert_eq!(
        (contacts[1].as_i64(), contacts[2].as_i64()),
        (Some(stored), Some(stored - 1)),
        "{h}"
    );
    let rate = &h["accuracy"]["rate"];
    let (part, whole) = (
        rate["part"].as_i64().unwrap(),
        rate["whole"].as_i64().unwrap(),
    );
    assert_eq!(whole - part, 1, "one record apart: {h}");
    let below = (part as f64) < 0.99 * whole as f64;
    assert_eq!(
        code,
        Some(if below { 1 } else { 0 }),
        "exit code follows the 99% target: {h}"
    );
    sb.shutdown().await;
}
