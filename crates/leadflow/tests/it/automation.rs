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
    assert!(
        out.contains(&format!(
            "lead scoring on 2026-11-24: {} contacts read, {changed} scores changed, {changed} write intents recorded, {} API calls",
            before.len(),
            changed.div_ceil(100)
        )),
        "{out}"
    );
    assert!(out.contains("ran the 2026-11-24 06:00 slot"), "{out}");
    assert_eq!(
        out.matches("scheduled; their jobs arrive with the reports")
            .count(),
        2,
        "weekly and monthly: {out}"
    );
    // The same slot again: nothing runs, nothing is queued twice.
    let again = ok(&["automation", "run", "--config", &d, "--now", now], &env).await;
    assert!(
        again.contains("not due (last: 2026-11-24 06:00)"),
        "{again}"
    );
    assert!(!again.contains("lead scoring on"), "{again}");

    let sent = ok(&["workflows", "run", "--config", &d], &env).await;
    let done = sent
        .lines()
        .find(|l| l.contains("| done "))
        .unwrap_or_else(|| panic!("{sent}"));
    assert!(done.contains(&format!(" {changed} ")), "{sent}");
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
