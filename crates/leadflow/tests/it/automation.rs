//! End-to-end tests of `leadflow automation run` and `leadflow score explain` against the
//! sandbox: the daily run queues the changed scores, `workflows run` sends them, and the
//! portal then holds exactly the scores the scoring function computes.

use futures::TryStreamExt;
use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{
    Client, ClientConfig, Credentials, ListOptions, ObjectInput, PropertyValues,
};
use leadflow_sandbox::{Sandbox, SandboxConfig};

use crate::{portal, run, strings, text};

async fn ok(args: &[&str], env: &[(String, String)]) -> String {
    let o = run(strings(args), env.to_vec()).await;
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {out}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_run_queues_changed_scores_and_the_portal_then_holds_the_computed_ones() {
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("project").to_str().unwrap().to_owned();
    let o = crate::leadflow(&["init", &d], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let db = format!("sqlite://{}", dir.path().join("leadflow.db").display());
    let mut env = portal(&sb, "t");
    env.push(("LEADFLOW_DATABASE_URL".into(), db));
    ok(&["properties", "apply", "--yes", "--config", &d], &env).await;

    // Contacts with every kind of input; one already holds its score (10 + 40 + 20 + 15).
    let c = Client::new(ClientConfig::new(
        sb.url(),
        Credentials::Token(Secret::new("t")),
    ))
    .unwrap();
    let rows: [(&str, &[(&str, &str)]); 5] = [
        (
            "fit8@acme.example",
            &[
                ("icp_fit_score", "8"),
                ("response_status", "Interested"),
                ("last_activity_date", "2026-11-10"),
            ],
        ),
        (
            "top@acme.example",
            &[
                ("icp_fit_score", "10"),
                ("response_status", "Meeting Scheduled"),
                ("last_activity_date", "2026-11-24"),
            ],
        ),
        (
            "low@acme.example",
            &[("response_status", "Not Interested"), ("lead_score", "50")],
        ),
        ("bare@acme.example", &[]),
        (
            "same@acme.example",
            &[
                ("icp_fit_score", "8"),
                ("response_status", "Interested"),
                ("last_activity_date", "2026-11-24"),
                ("lead_score", "85"),
            ],
        ),
    ];
    let inputs: Vec<ObjectInput> = rows
        .iter()
        .map(|(email, props)| {
            let mut p = PropertyValues::from([("email".to_owned(), (*email).to_owned())]);
            for (k, v) in *props {
                p.insert((*k).to_owned(), (*v).to_owned());
            }
            ObjectInput {
                properties: p,
                ..ObjectInput::default()
            }
        })
        .collect();
    let created = c
        .objects(ObjectType::Contacts)
        .batch_create(inputs)
        .await
        .unwrap();
    assert!(created.is_complete());
    ok(&["sync", "--full"], &env).await;

    let project = {
        let (p, diags) = leadflow_config::load(std::path::Path::new(&d));
        assert!(diags.is_empty(), "{diags:?}");
        p
    };
    let today = jiff::civil::date(2026, 11, 24);
    let properties = [
        "email",
        "lead_score",
        "icp_fit_score",
        "response_status",
        "last_activity_date",
    ]
    .map(str::to_owned)
    .to_vec();
    let contacts = |c: &Client| {
        let options = ListOptions {
            properties: properties.clone(),
            ..ListOptions::default()
        };
        let objects = c.objects(ObjectType::Contacts);
        async move { objects.list(options).try_collect::<Vec<_>>().await.unwrap() }
    };
    let before = contacts(&c).await;
    let changed = before
        .iter()
        .filter(|o| {
            let (s, _) = leadflow_automation::score(&project.scoring, &o.properties, today);
            o.properties.get("lead_score").cloned().flatten() != Some(s.to_string())
        })
        .count();
    assert!(
        changed >= 4 && changed < before.len(),
        "{changed} of {}",
        before.len()
    );

    let now = "2026-11-24T09:00:00Z";
    let out = ok(&["automation", "run", "--config", &d, "--now", now], &env).await;
    // The sandbox's tasks are engagement: their contacts' last activity dates move, and
    // their scores with them, beyond the scores that differ already.
    let number = |prefix: &str, after: &str| -> usize {
        let line = out
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} in {out}"));
        let rest = &line[line
            .find(after)
            .unwrap_or_else(|| panic!("{after} in {line}"))
            + after.len()..];
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    let moved = number("daily_cleanup: last activity dates:", "store, ");
    let scored = number("daily_cleanup: lead scoring:", "read, ");
    assert!(
        out.contains(&format!(
            "daily_cleanup: last activity dates: {} contacts read, {moved} with engagement in the store, {moved} dates moved, {moved} write intents recorded",
            before.len()
        )),
        "{out}"
    );
    assert!(moved > 0 && scored >= changed, "{out}");
    assert!(
        out.contains(&format!(
            "daily_cleanup: lead scoring: {} contacts read, {scored} scores changed, {scored} write intents recorded, {} API calls",
            before.len(),
            scored.div_ceil(100)
        )),
        "{out}"
    );
    assert!(out.contains("ran the 2026-11-24 06:00 slot"), "{out}");
    // No task is older than the retention.
    assert!(
        out.contains("daily_cleanup: old tasks: 40 tasks read, ")
            && out.contains("(0 archive intents recorded)"),
        "{out}"
    );
    // The weekly and monthly slots before now are caught up; no SMTP server is set.
    let data = dir.path().join("reports");
    assert!(out.contains("ran the 2026-11-23 09:00 slot"), "{out}");
    assert!(
        out.contains(&format!(
            "weekly_reporting: weekly report archived in {}, not mailed: no SMTP server is configured (LEADFLOW_SMTP_URL)",
            data.join("weekly/2026-11-23").display()
        )),
        "{out}"
    );
    assert!(
        data.join("weekly/2026-11-23/lead_generation_report.html")
            .is_file()
    );
    assert!(
        out.contains(&format!(
            "monthly_optimization: optimisation advice archived in {}",
            data.join("monthly/2026-11-01").display()
        )),
        "{out}"
    );
    assert!(
        out.contains("time_based_triggers: time-based triggers: 0 contact(s) due on 2026-11-24"),
        "{out}"
    );
    // The same slot again: nothing runs, nothing is queued twice.
    let again = ok(&["automation", "run", "--config", &d, "--now", now], &env).await;
    assert!(
        again.contains("not due (last: 2026-11-24 06:00)"),
        "{again}"
    );
    assert!(!again.contains("lead scoring:"), "{again}");

    let sent = ok(&["workflows", "run", "--config", &d], &env).await;
    let done = sent
        .lines()
        .find(|l| l.contains("| done "))
        .unwrap_or_else(|| panic!("{sent}"));
    // A contact's two writes are one input, but each intent is settled.
    assert!(done.contains(&format!(" {} ", moved + scored)), "{sent}");
    for o in contacts(&c).await {
        let (s, _) = leadflow_automation::score(&project.scoring, &o.properties, today);
        assert_eq!(
            o.properties.get("lead_score").cloned().flatten().as_deref(),
            Some(s.to_string().as_str()),
            "{:?}",
            o.properties
        );
    }

    // Explain, from the store once synced.
    ok(&["sync"], &env).await;
    let out = ok(
        &[
            "score",
            "explain",
            "FIT8@acme.example",
            "--config",
            &d,
            "--today",
            "2026-11-24",
        ],
        &env,
    )
    .await;
    for part in [
        "ICP Fit Score",
        "8 × 5",
        "Interested",
        "14 day(s) since 2026-11-10",
        "7.5",
        "78",
        "stored lead score: 78",
    ] {
        assert!(out.contains(part), "{part:?} in {out}");
    }
    let out = ok(
        &[
            "score",
            "explain",
            "top@acme.example",
            "--config",
            &d,
            "--today",
            "2026-11-24",
        ],
        &env,
    )
    .await;
    assert!(
        out.contains("clamp") && out.contains("-10") && out.contains("stored lead score: 100"),
        "{out}"
    );
    let o = run(
        strings(&["score", "explain", "nobody@acme.example", "--config", &d]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("no contact with email \"nobody@acme.example\""),
        "{}",
        text(&o)
    );
}

/// Accepts SMTP sessions on 127.0.0.1 and sends each message's DATA on the channel.
async fn smtp_responder() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("DATA") {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        let _ = tx.send(data);
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    }
                    let answer: &[u8] = if upper.starts_with("EHLO") {
                        b"250-test\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("DATA") {
                        b"250 queued\r\n"
                    } else {
                        b"250 ok\r\n"
                    };
                    if write.write_all(answer).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_the_schedules_at_start_up_archiving_and_mailing_the_weekly_report() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let o = crate::leadflow(&["init", project.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let (port, mut mails) = smtp_responder().await;
    let log = dir.path().join("serve.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_leadflow"))
        .args([
            "serve",
            "--receive-only",
            "--bind",
            "127.0.0.1:0",
            "--config",
        ])
        .arg(&project)
        .env(
            "LEADFLOW_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("leadflow.db").display()),
        )
        .env("LEADFLOW_WEBHOOK_SECRET", "s")
        .env("LEADFLOW_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // The latest Monday 09:00 (UTC, the template's zone) is caught up at start-up.
    let now = jiff::Timestamp::now();
    let monday = leadflow_automation::CronSchedule::new("w", "0 9 * * MON", "UTC")
        .unwrap()
        .slot_at_or_before(now)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let mail = tokio::time::timeout(std::time::Duration::from_secs(120), mails.recv()).await;
    let _ = child.kill();
    let _ = child.wait();
    let mail = match mail {
        Ok(Some(m)) => m,
        _ => panic!(
            "no mail from serve; its log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        ),
    };
    assert!(mail.contains("To: sales-team@example.com"), "{mail}");
    assert!(
        mail.contains(&format!("Subject: Leadflow weekly reporting: {monday}")),
        "{mail}"
    );
    for name in ["lead_generation_report.html", "lead_generation_report.csv"] {
        assert!(mail.contains(&format!("filename=\"{name}\"")), "{mail}");
        assert!(
            dir.path()
                .join("reports/weekly")
                .join(monday.to_string())
                .join(name)
                .is_file(),
            "{name}"
        );
    }
}
