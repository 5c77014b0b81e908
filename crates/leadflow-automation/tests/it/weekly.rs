//! The weekly report: computed at its slot, archived as HTML and CSV in the data
//! directory, mailed with both attachments through an SMTP server (a small responder on
//! 127.0.0.1 written here), and, when the server refuses, kept archived and mailed by a
//! later tick after its backoff.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use leadflow_automation::{
    Automation, DeliveryState, Done, JobOutcome, MAX_DELIVERY_ATTEMPTS, Mailer,
    delivery_backoff_ms, next_wake, run_due,
};
use leadflow_config::Project;
use leadflow_core::{ObjectType, Secret};
use leadflow_store::{Store, StoredRecord};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::{project, store};

/// A minimal SMTP server: it answers every command, keeps each message's DATA, and, while
/// `refuse` is set, refuses every sender with a temporary error.
struct SmtpServer {
    port: u16,
    messages: Arc<Mutex<Vec<String>>>,
    refuse: Arc<AtomicBool>,
}

async fn smtp_server() -> SmtpServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let refuse = Arc::new(AtomicBool::new(false));
    let (m, r) = (messages.clone(), refuse.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (m, r) = (m.clone(), r.clone());
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let command = line.to_ascii_uppercase();
                    let answer: &[u8] =
                        if command.starts_with("EHLO") || command.starts_with("HELO") {
                            b"250-test\r\n250 8BITMIME\r\n"
                        } else if command.starts_with("MAIL FROM") && r.load(Ordering::SeqCst) {
                            b"451 4.3.0 mailbox unavailable, try later\r\n"
                        } else if command.starts_with("DATA") {
                            let _ = write.write_all(b"354 go ahead\r\n").await;
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            m.lock().unwrap().push(data);
                            b"250 queued\r\n"
                        } else if command.starts_with("QUIT") {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
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
    SmtpServer {
        port,
        messages,
        refuse,
    }
}

/// Contacts created in the report's period: 3 outbound (one interested), 1 inbound.
async fn seed_outbound(store: &Store) {
    let created = "2026-11-20T12:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .as_millisecond();
    let rows = [
        ("1", "Outbound", "Interested"),
        ("2", "Outbound", "No Response"),
        ("3", "Outbound", "No Response"),
        ("4", "Inbound", "Interested"),
    ];
    let records: Vec<StoredRecord> = rows
        .iter()
        .map(|(id, source, status)| StoredRecord {
            id: (*id).to_owned(),
            properties: [
                ("email", format!("c{id}@acme.example")),
                ("lead_source", (*source).to_owned()),
                ("response_status", (*status).to_owned()),
                ("icp_type", "Agency".to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Some(v)))
            .collect(),
            created_at: Some(created),
            updated_at: created,
            archived: false,
        })
        .collect();
    store
        .upsert_records("p", ObjectType::Contacts, &records, "backfill", None)
        .await
        .unwrap();
}

fn weekly_only(mut project: Project) -> Project {
    project
        .schedules
        .triggers
        .retain(|t| t.key == "weekly_reporting");
    project
}

fn automation<'a>(
    store: &'a Store,
    project: &'a Project,
    data: &'a Path,
    mailer: Option<&'a Mailer>,
) -> Automation<'a> {
    Automation {
        store,
        portal: "p",
        project,
        data_dir: data,
        mailer,
        time_based: None,
    }
}

const MONDAY: &str = "2026-11-23T09:00:00Z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_weekly_report_is_archived_as_html_and_csv_and_mailed_with_both() {
    let (store, _db) = store().await;
    seed_outbound(&store).await;
    let project = weekly_only(project());
    let data = tempfile::tempdir().unwrap();
    let smtp = smtp_server().await;
    let mailer = Mailer::new(&format!("smtp://127.0.0.1:{}", smtp.port), None).unwrap();
    let a = automation(&store, &project, data.path(), Some(&mailer));
    let now: Timestamp = MONDAY.parse().unwrap();
    let report = run_due(&a, now, 1).await.unwrap();

    let dir = data.path().join("reports/weekly/2026-11-23");
    let done = match &report.schedules[0].outcome {
        JobOutcome::Ran { done, .. } => done.clone(),
        other => panic!("{other:?}"),
    };
    assert!(
        matches!(&done[0], Done::Report { archived, queued: true, not_mailed: None, .. } if archived.dir == dir && archived.files.len() == 2),
        "{done:?}"
    );
    assert_eq!(done[1], Done::Dashboard);
    let csv = std::fs::read_to_string(dir.join("lead_generation_report.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "breakdown,value,Total Contacts Created,ICP Fit Score Average,Response Rate,Qualification Rate,Meeting Conversion Rate"
        )
    );
    // Three outbound contacts, one of whom responded; no fit scores: no data.
    let all = lines.next().unwrap();
    assert!(all.starts_with("all,,3,,0.333"), "{all}");
    // Then the charts' points, as `leadflow report --format csv` writes them.
    assert!(csv.contains("\n\nchart,series,label,value\n"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("Response Rate by ICP Type,") && l.contains(",Agency,0.333")),
        "{csv}"
    );
    // The web dashboard's self-contained document, its charts drawn inline.
    let html = std::fs::read_to_string(dir.join("lead_generation_report.html")).unwrap();
    assert!(html.contains("Lead Generation Performance"), "{html}");
    assert!(html.contains("<svg"), "{html}");

    assert_eq!(report.deliveries.len(), 1, "{report:?}");
    assert_eq!(report.deliveries[0].state, DeliveryState::Sent);
    let messages = smtp.messages.lock().unwrap().clone();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    for part in [
        "To: sales-team@example.com",
        "From: Leadflow <reports@example.com>",
        "Subject: Leadflow weekly reporting: 2026-11-23",
        "filename=\"lead_generation_report.html\"",
        "filename=\"lead_generation_report.csv\"",
        "Content-Type: text/html",
        "Content-Type: text/csv",
    ] {
        assert!(m.contains(part), "{part:?} in {m}");
    }
    let row = store
        .report_delivery("p", "weekly_reporting", now.as_millisecond())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.state.as_str(), row.attempts), ("sent", 1));
    // The same slot again: nothing runs, nothing is mailed twice.
    let again = run_due(&a, now + SignedDuration::from_hours(1), 2)
        .await
        .unwrap();
    assert!(again.deliveries.is_empty());
    assert_eq!(smtp.messages.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_mail_keeps_the_report_archived_and_a_later_tick_delivers_it() {
    let (store, _db) = store().await;
    seed_outbound(&store).await;
    let project = weekly_only(project());
    let data = tempfile::tempdir().unwrap();
    let smtp = smtp_server().await;
    smtp.refuse.store(true, Ordering::SeqCst);
    let mailer = Mailer::new(&format!("smtp://127.0.0.1:{}", smtp.port), None).unwrap();
    let a = automation(&store, &project, data.path(), Some(&mailer));
    let now: Timestamp = MONDAY.parse().unwrap();

    let first = run_due(&a, now, 1).await.unwrap();
    let archived = data
        .path()
        .join("reports/weekly/2026-11-23/lead_generation_report.html");
    assert!(archived.is_file());
    let retry_at = now + SignedDuration::from_millis(delivery_backoff_ms(1));
    match &first.deliveries[..] {
        [d] => match &d.state {
            DeliveryState::Retrying { next_at, error } => {
                assert_eq!(*next_at, retry_at);
                assert!(error.contains("mailbox unavailable"), "{error}");
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert!(smtp.messages.lock().unwrap().is_empty());
    // The scheduler wakes for the retry, before the next slot.
    assert_eq!(next_wake(&a, now).await.unwrap(), Some(retry_at));

    // Before the backoff is over: not tried. After it, the server accepts: mailed once.
    smtp.refuse.store(false, Ordering::SeqCst);
    let early = run_due(&a, retry_at - SignedDuration::from_secs(1), 2)
        .await
        .unwrap();
    assert!(early.deliveries.is_empty());
    let later = run_due(&a, retry_at, 3).await.unwrap();
    assert_eq!(later.deliveries.len(), 1);
    assert_eq!(
        (later.deliveries[0].attempts, &later.deliveries[0].state),
        (2, &DeliveryState::Sent)
    );
    assert_eq!(smtp.messages.lock().unwrap().len(), 1);
    assert!(archived.is_file());
    assert_eq!(
        next_wake(&a, retry_at)
            .await
            .unwrap()
            .map(|t| t.to_string()),
        Some("2026-11-30T09:00:00Z".to_owned()),
        "nothing pending: the next slot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_keeps_refusing_is_given_up_after_the_last_attempt() {
    let (store, _db) = store().await;
    let project = weekly_only(project());
    let data = tempfile::tempdir().unwrap();
    let smtp = smtp_server().await;
    smtp.refuse.store(true, Ordering::SeqCst);
    let mailer = Mailer::new(&format!("smtp://127.0.0.1:{}", smtp.port), None).unwrap();
    let a = automation(&store, &project, data.path(), Some(&mailer));
    let mut now: Timestamp = MONDAY.parse().unwrap();
    let mut last = None;
    for attempt in 1..=MAX_DELIVERY_ATTEMPTS {
        let r = run_due(&a, now, 1).await.unwrap();
        assert_eq!(r.deliveries.len(), 1, "attempt {attempt}");
        assert_eq!(r.deliveries[0].attempts, attempt);
        last = Some(r.deliveries[0].state.clone());
        now += SignedDuration::from_millis(delivery_backoff_ms(attempt));
    }
    assert!(
        matches!(&last, Some(DeliveryState::GivenUp { error }) if error.contains("mailbox unavailable")),
        "{last:?}"
    );
    assert!(run_due(&a, now, 1).await.unwrap().deliveries.is_empty());
    assert!(
        data.path()
            .join("reports/weekly/2026-11-23/lead_generation_report.csv")
            .is_file()
    );
    // Backoff: 5 minutes doubling, at most 6 hours.
    let waits: Vec<i64> = (1..=8).map(|a| delivery_backoff_ms(a) / 60_000).collect();
    assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 360]);
}

#[tokio::test]
async fn without_a_server_the_report_is_archived_and_says_why_it_is_not_mailed() {
    let (store, _db) = store().await;
    let project = weekly_only(project());
    let data = tempfile::tempdir().unwrap();
    let a = automation(&store, &project, data.path(), None);
    let r = run_due(&a, MONDAY.parse().unwrap(), 1).await.unwrap();
    match &r.schedules[0].outcome {
        JobOutcome::Ran { done, .. } => assert!(
            matches!(&done[0], Done::Report { queued: false, not_mailed: Some(why), .. } if why.contains("LEADFLOW_SMTP_URL")),
            "{done:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        store
            .report_delivery(
                "p",
                "weekly_reporting",
                MONDAY.parse::<Timestamp>().unwrap().as_millisecond()
            )
            .await
            .unwrap()
            .is_none()
    );
}

#[test]
fn smtp_urls_never_carry_the_password_and_say_what_to_write() {
    let e = Mailer::new("smtp://bot:hunter2@mail.example:587?tls=required", None).unwrap_err();
    let text = e.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("LEADFLOW_SMTP_PASSWORD"), "{text}");
    let e = Mailer::new("smtp://bot@mail.example:587?tls=required", None).unwrap_err();
    assert!(e.to_string().contains("no password is set"), "{e}");
    let e = Mailer::new("http://mail.example", None).unwrap_err();
    assert!(e.to_string().contains("smtps://host:465"), "{e}");
    let m = Mailer::new(
        "smtp://bot@mail.example:587?tls=required",
        Some(Secret::new("hunter2")),
    )
    .unwrap();
    assert!(!format!("{m:?}").contains("hunter2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monthly_advice_is_archived_for_the_month_that_ended_and_mailed_when_addressed() {
    let (store, _db) = store().await;
    seed_outbound(&store).await;
    let mut project = project();
    project
        .schedules
        .triggers
        .retain(|t| t.key == "monthly_optimization");
    project.schedules.triggers[0].sender = Some("reports@example.com".to_owned());
    project.schedules.triggers[0].recipients = vec!["ops@example.com".to_owned()];
    let data = tempfile::tempdir().unwrap();
    let smtp = smtp_server().await;
    let mailer = Mailer::new(&format!("smtp://127.0.0.1:{}", smtp.port), None).unwrap();
    let a = automation(&store, &project, data.path(), Some(&mailer));
    let r = run_due(&a, "2026-12-01T10:00:00Z".parse().unwrap(), 1)
        .await
        .unwrap();
    let dir = data.path().join("reports/monthly/2026-12-01");
    match &r.schedules[0].outcome {
        JobOutcome::Ran { done, .. } => {
            assert_eq!(done.len(), 1, "three actions, one advice: {done:?}");
            assert!(
                matches!(&done[0], Done::Report { what, archived, queued: true, .. } if what == "optimisation advice" && archived.dir == dir),
                "{done:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let md = std::fs::read_to_string(dir.join("optimization_advice.md")).unwrap();
    assert!(md.starts_with("# Optimisation advice for 2026-11"), "{md}");
    let html = std::fs::read_to_string(dir.join("optimization_advice.html")).unwrap();
    assert!(html.contains("<section class=\"advice\">"), "{html}");
    assert_eq!(r.deliveries[0].state, DeliveryState::Sent);
    let m = smtp.messages.lock().unwrap()[0].clone();
    assert!(m.contains("To: ops@example.com"), "{m}");
    assert!(m.contains("filename=\"optimization_advice.md\""), "{m}");
}
