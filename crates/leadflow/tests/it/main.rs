//! End-to-end tests of the `leadflow` binary: exit codes, output, and the properties
//! workflow against a sandbox started in the test process.

use std::path::Path;
use std::process::Output;

use leadflow_sandbox::{Sandbox, SandboxConfig, SandboxHandle, TokenGrant};

fn leadflow(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_leadflow"));
    cmd.args(args)
        .env_remove("LEADFLOW_HUBSPOT_TOKEN")
        .env_remove("LEADFLOW_HUBSPOT_URL")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

async fn run(args: Vec<String>, env: Vec<(String, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        leadflow(&a, &e)
    })
    .await
    .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn portal(sb: &SandboxHandle, token: &str) -> Vec<(String, String)> {
    vec![
        ("LEADFLOW_HUBSPOT_URL".into(), sb.url()),
        ("LEADFLOW_HUBSPOT_TOKEN".into(), token.into()),
    ]
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn help_lists_the_commands() {
    let o = leadflow(&["--help"], &[]);
    assert!(o.status.success());
    let out = text(&o);
    for c in [
        "demo",
        "sandbox",
        "init",
        "check",
        "properties",
        "setup",
        "portal",
        "bench",
    ] {
        assert!(out.contains(c), "--help does not mention {c}:\n{out}");
    }
}

#[test]
fn init_then_check_is_clean_and_problems_exit_one_with_locations() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(leadflow(&["init", d], &[]).status.success());
    let o = leadflow(&["check", d], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("configuration is valid"));

    let wf = dir.path().join("workflows.yaml");
    let original = std::fs::read_to_string(&wf).unwrap();
    std::fs::write(
        &wf,
        original.replacen(
            "response_status == 'Interested'",
            "response_status == 'Intrested'",
            1,
        ),
    )
    .unwrap();
    let o = leadflow(&["check", "--config", d], &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o);
    let line = original
        .lines()
        .position(|l| l.contains("response_status == 'Interested'"))
        .unwrap()
        + 1;
    assert!(out.contains(&format!("workflows.yaml:{line}:")), "{out}");
    assert!(out.contains("did you mean \"Interested\"?"), "{out}");

    let o = leadflow(&["check", d, "--json"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["problems"][0]["line"], line as u64);

    let missing = dir.path().join("nope");
    let o = leadflow(&["check", missing.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = leadflow(&["check", "--bogus-flag"], &[]);
    assert_eq!(o.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn properties_plan_apply_plan_through_the_binary() {
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    assert!(run(strings(&["init", &d]), vec![]).await.status.success());
    let env = portal(&sb, "pat-na1-test");

    let o = run(
        strings(&["properties", "plan", "--config", &d]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("Plan: 12 to create"), "{out}");
    assert!(out.contains("existing property verified"), "{out}");

    let o = run(
        strings(&["properties", "plan", "--config", &d, "--json"]),
        env.clone(),
    )
    .await;
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let creates = plan["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["object"] == "contacts" && p["action"] == "create")
        .count();
    assert_eq!(creates, 11);

    // Without a terminal, apply refuses to go ahead unconfirmed.
    let o = run(
        strings(&["properties", "apply", "--config", &d]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("pass --yes"), "{}", text(&o));
    assert!(sb.state().record("contacts", "1001").is_some());

    let o = run(strings(&["setup", "--config", &d, "--yes"]), env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("Applied:"), "{}", text(&o));

    let o = run(
        strings(&["properties", "plan", "--config", &d]),
        env.clone(),
    )
    .await;
    assert!(text(&o).contains("No changes"), "{}", text(&o));

    let exported = dir.path().join("exported.yaml");
    let o = run(
        strings(&[
            "properties",
            "export",
            "--config",
            &d,
            "-o",
            exported.to_str().unwrap(),
        ]),
        env.clone(),
    )
    .await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        std::fs::read_to_string(&exported)
            .unwrap()
            .contains("icp_fit_score:")
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_reported_without_showing_it() {
    let sb = Sandbox::spawn(SandboxConfig {
        tokens: vec![TokenGrant {
            token: "right".into(),
            scopes: None,
        }],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    run(strings(&["init", &d]), vec![]).await;
    let o = run(
        strings(&["properties", "plan", "--config", &d]),
        portal(&sb, "pat-na1-super-secret-value"),
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    let out = text(&o);
    assert!(out.contains("authentication failed"), "{out}");
    assert!(!out.contains("super-secret-value"), "{out}");
    let o = run(strings(&["portal", "check"]), vec![]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("LEADFLOW_HUBSPOT_TOKEN"), "{}", text(&o));
}

#[test]
fn the_demo_runs_and_summarises() {
    let o = leadflow(&["demo"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("300 contacts in 3 pages"), "{out}");
    assert!(out.contains("a second enrollment refused: true"), "{out}");
    assert!(Path::new(env!("CARGO_BIN_EXE_leadflow")).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_full_then_status_then_incremental() {
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("data/leadflow.db").display());
    let mut env = portal(&sb, "t");
    env.push(("LEADFLOW_DATABASE_URL".into(), db));
    let o = run(strings(&["sync", "--full"]), env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("contacts: 300 records"), "{}", text(&o));
    let o = run(strings(&["sync", "status"]), env.clone()).await;
    let out = text(&o);
    assert!(out.contains("complete"), "{out}");
    assert!(out.contains("300"), "{out}");
    let o = run(strings(&["sync", "--object", "contacts"]), env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("0 new, 0 changed"), "{}", text(&o));
    let o = run(strings(&["sync", "--object", "tickets"]), env).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("unknown object type"), "{}", text(&o));
    sb.shutdown().await;
}
