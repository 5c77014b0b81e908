//! The web dashboard through the real binary: `leadflow demo` serves it over the store it
//! filled, and `leadflow serve` mounts it beside the webhook receiver (`leadflow-web`'s own
//! tests check the pages' numbers in a browser).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A `leadflow` process, killed when dropped, whose output is read line by line.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_leadflow"));
        cmd.args(args)
            .env_remove("LEADFLOW_HUBSPOT_TOKEN")
            .env_remove("LEADFLOW_HUBSPOT_URL")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the binary starts");
        let (tx, lines) = mpsc::channel();
        let streams: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for stream in streams {
            let tx = tx.clone();
            // Read for the whole run, so the process never writes to a closed pipe.
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first `http://…` address on a line containing `needle` (waiting at most 120 s).
    fn address(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
                let at = l.find("http://").expect("the line holds the address");
                return l[at..]
                    .split(|c: char| c.is_whitespace() || c == ')')
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches('/')
                    .to_owned();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no {needle:?} in the output: {:#?}", self.seen),
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, String) {
    let r = http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_the_dashboard_over_what_it_ran() {
    let mut demo = tokio::task::spawn_blocking(|| {
        let mut demo = Running::start(&["demo", "--contacts", "60", "--bind", "127.0.0.1:0"], &[]);
        demo.address("The dashboard: ");
        demo
    })
    .await
    .unwrap();
    let base = demo.address("The dashboard: ");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let http = client();

    let (status, body) = get(&http, &format!("{base}/api/dashboard/session_dashboard")).await;
    assert_eq!(status, 200, "{body}");
    let dash: serde_json::Value = serde_json::from_str(&body).unwrap();
    let widgets = dash["widgets"].as_array().unwrap();
    assert_eq!(widgets.len(), 5, "{dash}");
    let total = widgets
        .iter()
        .find(|w| w["name"] == "Total Leads Generated (30 days)")
        .unwrap();
    assert!(total["value"]["count"].as_i64().unwrap() > 0, "{total}");

    let (status, html) = get(&http, &format!("{base}/")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Session Performance Dashboard"), "{html}");
    assert!(
        html.contains(&format!("{}<", total["display"].as_str().unwrap())),
        "{html}"
    );
    let (status, html) = get(&http, &format!("{base}/reports/lead_generation_report")).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-metric="response_rate""#), "{html}");
    // The report's four charts, drawn inline.
    for chart in [
        "response_rate_by_icp_type",
        "qualification_rate_by_campaign",
        "lead_score_distribution",
        "activity_timeline",
    ] {
        assert!(
            html.contains(&format!(r#"data-chart="{chart}""#)),
            "{chart}: {html}"
        );
    }
    assert_eq!(html.matches("<svg").count(), 4, "{html}");
    assert!(!html.contains("NaN"));
    drop(demo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_mounts_the_dashboard_and_its_api() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let o = crate::leadflow(&["init", project.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", crate::text(&o));
    let db = format!("sqlite://{}", dir.path().join("serve.db").display());
    let project_s = project.to_str().unwrap().to_owned();
    let mut serve = tokio::task::spawn_blocking(move || {
        let mut serve = Running::start(
            &[
                "serve",
                "--receive-only",
                "--bind",
                "127.0.0.1:0",
                "--config",
                &project_s,
            ],
            &[
                ("LEADFLOW_DATABASE_URL", &db),
                ("LEADFLOW_WEBHOOK_SECRET", "s"),
            ],
        );
        serve.address("listening on");
        serve
    })
    .await
    .unwrap();
    let base = serve.address("listening on");
    let http = client();
    let (status, body) = get(&http, &format!("{base}/api/reports/lead_generation_report")).await;
    assert_eq!(status, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["key"], "lead_generation_report");
    // An empty store: counts of 0 and rates of no data.
    let metric = |name: &str| {
        report["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()["display"]
            .clone()
    };
    assert_eq!(metric("Total Contacts Created"), "0");
    assert_eq!(metric("Response Rate"), "no data");
    let (status, body) = get(&http, &format!("{base}/api/reports/weekly")).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("lead_generation_report"), "{body}");
    let (status, html) = get(&http, &format!("{base}/?since=a+while")).await;
    assert_eq!(status, 400);
    assert!(html.contains("is not a period"), "{html}");
    // The receiver and health are still there.
    assert_eq!(get(&http, &format!("{base}/health")).await.0, 200);
    drop(serve);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_token_guards_what_shows_the_pipeline_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let o = crate::leadflow(&["init", project.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", crate::text(&o));
    let db = format!("sqlite://{}", dir.path().join("serve.db").display());

    // Every interface without a token: refused before serving, the secrets not shown.
    let o = crate::leadflow(
        &[
            "serve",
            "--receive-only",
            "--bind",
            "0.0.0.0:0",
            "--config",
            project.to_str().unwrap(),
        ],
        &[
            ("LEADFLOW_DATABASE_URL", &db),
            ("LEADFLOW_WEBHOOK_SECRET", "hook-secret-1"),
        ],
    );
    let out = crate::text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("refusing to serve") && out.contains("LEADFLOW_DASHBOARD_TOKEN"),
        "{out}"
    );
    assert!(!out.contains("hook-secret-1"), "{out}");

    let project_s = project.to_str().unwrap().to_owned();
    let mut serve = tokio::task::spawn_blocking(move || {
        let mut serve = Running::start(
            &[
                "serve",
                "--receive-only",
                "--bind",
                "127.0.0.1:0",
                "--config",
                &project_s,
            ],
            &[
                ("LEADFLOW_DATABASE_URL", &db),
                ("LEADFLOW_WEBHOOK_SECRET", "hook-secret-1"),
                ("LEADFLOW_DASHBOARD_TOKEN", "dash-token-1"),
            ],
        );
        serve.address("listening on");
        serve
    })
    .await
    .unwrap();
    let base = serve.address("listening on");
    let http = client();
    for path in [
        "/",
        "/api/reports/lead_generation_report",
        "/advice",
        "/metrics",
        "/api/contacts/a@b.example/history",
    ] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{path}");
        assert!(r.headers().contains_key("www-authenticate"), "{path}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("dash-token-1"), "{path}: {body}");
        let r = http
            .get(format!("{base}{path}"))
            .bearer_auth("dash-token-1")
            .send()
            .await
            .unwrap();
        assert_ne!(r.status().as_u16(), 401, "{path}");
        let r = http
            .get(format!("{base}{path}"))
            .basic_auth("me", Some("dash-token-1"))
            .send()
            .await
            .unwrap();
        assert_ne!(r.status().as_u16(), 401, "{path}");
    }
    // HubSpot's deliveries answer to their signature, not the token; health stays open.
    let r = http
        .post(format!("{base}/webhooks/hubspot"))
        .body("[]")
        .send()
        .await
        .unwrap();
    assert!(!r.headers().contains_key("www-authenticate"));
    assert_eq!(
        r.status().as_u16(),
        401,
        "unsigned: refused by the receiver"
    );
    assert_eq!(get(&http, &format!("{base}/health")).await.0, 200);
    drop(serve);
}
