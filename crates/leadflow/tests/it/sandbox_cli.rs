//! `leadflow sandbox` and `leadflow bench` through the real binary: the token, `--empty`,
//! HubSpot's 401 without a bearer token, injected faults from flags, the snapshot saved
//! when the process is told to stop, and the benchmarks' JSON.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A `leadflow sandbox` process on a free port; killed when dropped.
struct Running {
    child: Child,
    url: String,
    /// Everything it printed, stdout and stderr, line by line.
    output: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// Starts `leadflow sandbox --port 0 ARGS` and waits (at most 60 s) for its address.
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_leadflow"))
            .arg("sandbox")
            .args(["--port", "0"])
            .args(args)
            .env_remove("LEADFLOW_SANDBOX_TOKEN")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let (tx, output) = mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        let mut running = Self {
            child,
            url: String::new(),
            output,
            seen: Vec::new(),
        };
        let line = running.wait_for("listening on http://");
        let at = line.find("http://").expect("the line holds the address");
        running.url = line[at..].trim().to_owned();
        running
    }

    /// Waits (at most 60 s) for a line of output containing `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no {needle:?} in the sandbox's output: {:?}", self.seen),
            }
        }
    }

    /// Sends `signal` (`TERM`, `INT`) and waits (at most 60 s) for the process to exit.
    fn stop_with(&mut self, signal: &str) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                while let Ok(line) = self.output.try_recv() {
                    self.seen.push(line);
                }
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the sandbox did not stop on SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut r = http().get(url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await.expect("the sandbox answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_sandbox_takes_its_token_and_refuses_requests_without_one() {
    let token = "sandbox-cli-secret-token";
    let sb = Running::start(&["--token", token, "--empty"]);
    let contacts = format!("{}/crm/v3/objects/contacts", sb.url);

    let (status, body) = get(&contacts, None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["category"], "INVALID_AUTHENTICATION");
    assert_eq!(body["status"], "error");
    assert!(
        body["correlationId"]
            .as_str()
            .is_some_and(|c| c.len() == 36)
    );
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Authentication credentials not found"))
    );

    let (status, body) = get(&contacts, Some("another-token")).await;
    assert_eq!(
        (status, body["category"].as_str()),
        (401, Some("INVALID_AUTHENTICATION"))
    );

    let (status, body) = get(&contacts, Some(token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"], json!([]), "--empty starts with no records");
    let (_, owners) = get(&format!("{}/crm/v3/owners", sb.url), Some(token)).await;
    assert_eq!(owners["results"], json!([]), "--empty has no owners either");
    let (status, pipelines) = get(&format!("{}/crm/v3/pipelines/deals", sb.url), Some(token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        pipelines["results"][0]["id"], "default",
        "HubSpot's own pipeline stays"
    );
    assert!(
        sb.seen.iter().all(|l| !l.contains(token)),
        "the token is never printed: {:?}",
        sb.seen
    );
}

#[tokio::test]
async fn without_a_token_any_bearer_is_accepted_and_the_demo_seed_is_loaded() {
    let sb = Running::start(&[]);
    let url = format!("{}/crm/v3/objects/contacts?limit=100", sb.url);
    let (status, body) = get(&url, None).await;
    assert_eq!(
        (status, body["category"].as_str()),
        (401, Some("INVALID_AUTHENTICATION"))
    );
    let (status, body) = get(&url, Some("anything")).await;
    assert_eq!(status, 200);
    assert_eq!(body["results"].as_array().map(Vec::len), Some(100));
    assert!(
        body["paging"]["next"]["after"].is_string(),
        "the demo seed holds more"
    );
}

#[tokio::test]
async fn fault_flags_inject_their_faults_from_the_start() {
    let sb = Running::start(&["--empty", "--fault-502", "1"]);
    let (status, body) = get(&format!("{}/crm/v3/objects/contacts", sb.url), Some("t")).await;
    assert_eq!(
        (status, body["category"].as_str()),
        (502, Some("BAD_GATEWAY")),
        "{body}"
    );
    let faults: Value = http()
        .get(format!("{}/__sandbox/faults", sb.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["rate_502"], 1.0);
    assert_eq!(faults["rate_500"], 0.0);
}

async fn create_contact(url: &str, email: &str) -> String {
    let resp = http()
        .post(format!("{url}/crm/v3/objects/contacts"))
        .bearer_auth("t")
        .json(&json!({"properties": {"email": email}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_snapshot_is_saved_when_the_process_is_terminated_or_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    for (signal, email) in [("TERM", "term@example.com"), ("INT", "int@example.com")] {
        let path = dir.path().join(format!("{signal}.json"));
        let path_arg = path.to_str().unwrap();
        let mut sb = Running::start(&["--empty", "--snapshot", path_arg]);
        let id = create_contact(&sb.url, email).await;
        assert!(!path.exists(), "nothing is written before shutdown");
        let status = sb.stop_with(signal);
        assert!(status.success(), "SIG{signal} is a clean stop: {status:?}");
        assert!(
            sb.seen.iter().any(|l| l.contains("sandbox stopped")),
            "{:?}",
            sb.seen
        );
        let saved = std::fs::read_to_string(&path).expect("the snapshot was written");
        assert!(
            saved.contains(email),
            "SIG{signal}: the snapshot holds the contact"
        );

        // A new process starts from the snapshot.
        let again = Running::start(&["--snapshot", path_arg]);
        let (status, body) = get(
            &format!("{}/crm/v3/objects/contacts/{id}", again.url),
            Some("t"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["properties"]["email"], email);
    }
}

/// Runs `leadflow bench ARGS --json` and returns its JSON report.
async fn bench(args: &[&str]) -> Value {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_leadflow"))
            .arg("bench")
            .args(&args)
            .arg("--json")
            .env("NO_COLOR", "1")
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn has_numbers(report: &Value, fields: &[&str]) {
    for f in fields {
        assert!(
            report[*f].as_f64().is_some_and(f64::is_finite),
            "{f} in {report}"
        );
    }
}

#[tokio::test]
async fn the_benchmarks_run_with_tiny_sizes_and_report_json() {
    let pacing = bench(&[
        "pacing",
        "--requests",
        "40",
        "--burst",
        "20",
        "--window-ms",
        "200",
        "--concurrency",
        "4",
    ])
    .await;
    let p = &pacing["pacing"];
    has_numbers(
        p,
        &[
            "requests",
            "seconds",
            "achieved_rps",
            "budget_rps",
            "fraction_of_budget",
            "answered_429",
            "share_429",
            "failed",
        ],
    );
    assert_eq!(p["requests"], 40);
    assert_eq!(p["failed"], 0);

    let list = bench(&[
        "list",
        "--contacts",
        "250",
        "--burst",
        "50",
        "--window-ms",
        "200",
    ])
    .await;
    let l = &list["list"];
    has_numbers(
        l,
        &[
            "contacts",
            "seconds",
            "records_per_second",
            "ceiling",
            "fraction_of_ceiling",
            "requests",
            "answered_429",
        ],
    );
    assert_eq!(l["contacts"], 250, "every contact was listed");

    let sandbox = bench(&["sandbox", "--sandbox-contacts", "300", "--seconds", "1"]).await;
    let s = &sandbox["sandbox"];
    has_numbers(s, &["get_rps", "search_rps", "contacts"]);
    assert_eq!(s["contacts"], 300);
    assert!(s["get_rps"].as_f64().unwrap() > 0.0);
}
