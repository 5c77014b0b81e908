//! End-to-end tests of the `leadflow` binary: exit codes, output, and the properties
//! workflow against a sandbox started in the test process.

mod sync;

use std::path::Path;
use std::process::Output;

use leadflow_sandbox::{Sandbox, SandboxConfig, SandboxHandle, TokenGrant};

mod advise;
mod automation;
mod dashboard;
mod properties;
mod report;
mod sandbox_cli;
mod status;
mod workflows;

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
    let o = leadflow(&["demo", "--no-serve"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for step in [
        "12 properties to create, 2 stages to add",
        "500 contacts tagged",
        "four days later",
        "create_deal",
        "create_task",
    ] {
        assert!(out.contains(step), "{step}: {out}");
    }
    // Three workflow passes, nothing dead-lettered in any.
    assert_eq!(out.matches(", 0 dead").count(), 3, "{out}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stores_signed_webhooks_and_reports_health_and_metrics() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("serve.db").display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_leadflow"))
        .args([
            "serve",
            "--receive-only",
            "--bind",
            "127.0.0.1:0",
            "--public-url",
            "https://leadflow.example/webhooks/hubspot",
        ])
        .env("LEADFLOW_DATABASE_URL", &db)
        .env("LEADFLOW_WEBHOOK_SECRET", "app-secret")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Killed when the test ends, passing or not.
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stderr = child.stderr.take().unwrap();
    let child = Kill(child);
    let (tx, rx) = std::sync::mpsc::channel();
    // Keep reading stderr for the whole run, so the server never writes to a closed pipe.
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let first = tokio::task::spawn_blocking(move || rx.recv().unwrap())
        .await
        .unwrap();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{first}");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let body = r#"[{"eventId":1,"subscriptionId":2,"portalId":62515,"occurredAt":1764000000000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":42,"changeFlag":"NEW"}]"#;
    let ts = jiff::Timestamp::now().as_millisecond().to_string();
    let sig = leadflow_hubspot::webhooks::sign_v3(
        "app-secret",
        "POST",
        "https://leadflow.example/webhooks/hubspot",
        body.as_bytes(),
        &ts,
    );
    let r = http
        .post(format!("{base}/webhooks/hubspot"))
        .header("content-type", "application/json")
        .header("x-hubspot-request-timestamp", &ts)
        .header("x-hubspot-signature-v3", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{base}/webhooks/hubspot"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        http.get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("leadflow_webhook_events_total"),
        "{metrics}"
    );
    drop(child);
    let store = leadflow_store::Store::connect(&db).await.unwrap();
    assert_eq!(
        store
            .pending_webhook_events("default", 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn serve_without_a_secret_says_how_to_set_one() {
    let o = leadflow(&["serve", "--bind", "127.0.0.1:0"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("LEADFLOW_WEBHOOK_SECRET"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reports_rejected_rows_and_writes_them_beside_the_file() {
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    assert!(run(strings(&["init", &d]), vec![]).await.status.success());
    let env = portal(&sb, "t");
    let o = run(strings(&["setup", "--config", &d, "--yes"]), env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let before = sb.state().count("contacts");

    let csv = dir.path().join("leads.csv");
    std::fs::write(
        &csv,
        "Email,First Name,ICP Fit Score,Response Status\n\
         ada@cli.example,Ada,8,Interested\n\
         bob@cli.example,Bob,11,No Response\n\
         cy@cli.example,Cy,5,\n\
         not-an-email,Dee,4,\n\
         eve@cli.example,Eve,,Meeting Scheduled\n",
    )
    .unwrap();
    let file = csv.to_str().unwrap().to_owned();
    let import = |extra: &[&str]| {
        let mut args = strings(&["import", &file, "--config", &d]);
        args.extend(strings(extra));
        args
    };

    let o = run(
        import(&[
            "--strategy",
            "Time Focs",
            "--tag",
            "Manual Outreach - 2026-11-24",
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("did you mean \"Time Focus\"?"),
        "{}",
        text(&o)
    );
    let o = run(import(&["--tag", "A", "--campaign", "B"]), env.clone()).await;
    assert_eq!(o.status.code(), Some(2), "--tag and --campaign conflict");

    let o = run(import(&["--dry-run"]), vec![]).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("dry run: nothing was sent"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("no --tag and no Campaign Tag column"),
        "{}",
        text(&o)
    );
    assert_eq!(sb.state().count("contacts"), before);

    let o = run(
        import(&[
            "--tag",
            "Manual Outreach - 2026-11-24",
            "--strategy",
            "time focus",
            "--session-id",
            "S-1",
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = |label: &str| {
        out.lines()
            .find(|l| l.split('|').nth(1).is_some_and(|c| c.trim() == label))
            .map(|l| l.split('|').nth(2).unwrap_or_default().trim().to_owned())
            .unwrap_or_else(|| panic!("no {label} line in\n{out}"))
    };
    assert_eq!(line("read"), "5");
    assert_eq!(line("created"), "3");
    assert_eq!(line("updated"), "0");
    assert_eq!(line("rejected"), "2");
    assert_eq!(line("failed"), "0");
    assert!(
        out.contains("\"11\" is not allowed; allowed: a whole number from 1 to 10"),
        "{out}"
    );
    assert!(
        out.contains("is not an email address (it has no @)"),
        "{out}"
    );
    assert_eq!(sb.state().count("contacts"), before + 3);

    let rejected = dir.path().join("leads.rejected.csv");
    let text_of_file = std::fs::read_to_string(&rejected).unwrap();
    let lines: Vec<&str> = text_of_file.lines().collect();
    assert_eq!(
        lines[0],
        "Email,First Name,ICP Fit Score,Response Status,row,error"
    );
    assert_eq!(lines.len(), 3, "{text_of_file}");
    assert!(
        lines[1].starts_with("bob@cli.example,Bob,11,No Response,3,"),
        "{text_of_file}"
    );
    assert!(
        lines[2].starts_with("not-an-email,Dee,4,,5,"),
        "{text_of_file}"
    );

    // Fixed, the file imports cleanly and the stale rejected file goes.
    std::fs::write(
        &csv,
        "Email,First Name\nbob@cli.example,Bob\nada@cli.example,Ada Updated\n",
    )
    .unwrap();
    let o = run(import(&["--tag", "Manual Outreach - 2026-11-24"]), env).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("no row was rejected; removed"),
        "{}",
        text(&o)
    );
    assert!(!rejected.exists());
    assert_eq!(sb.state().count("contacts"), before + 4);
    sb.shutdown().await;
}
