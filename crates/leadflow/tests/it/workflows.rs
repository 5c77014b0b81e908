//! End-to-end tests of `leadflow workflows`: the shipped fixtures pass on a fresh `init`, a
//! wrong fixture fails with a diff, and against the sandbox a dry run predicts what
//! `workflows run` then does, which the history shows and a second run does not repeat.

use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{Client, ClientConfig, Credentials, ObjectInput, PropertyValues};
use leadflow_sandbox::{Sandbox, SandboxConfig};

use crate::{portal, run, strings, text};

fn init() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("project").to_str().unwrap().to_owned();
    let o = crate::leadflow(&["init", &d], &[]);
    assert!(o.status.success(), "{}", text(&o));
    (dir, d)
}

#[test]
fn workflows_test_passes_every_shipped_fixture_on_a_fresh_init() {
    let (_dir, d) = init();
    let mut fixtures = 0;
    for f in std::fs::read_dir(std::path::Path::new(&d).join("tests")).unwrap() {
        let body = std::fs::read_to_string(f.unwrap().path()).unwrap();
        fixtures += body.lines().filter(|l| l.starts_with("- name:")).count();
    }
    assert!(fixtures >= 25, "{fixtures} fixtures shipped");
    let o = crate::leadflow(&["workflows", "test", "--config", &d], &[]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("ok ")).count(),
        fixtures,
        "{out}"
    );
    assert!(!out.contains("FAILED"), "{out}");
    assert!(
        out.contains(&format!(
            "{fixtures} fixture(s): {fixtures} passed, 0 failed"
        )),
        "{out}"
    );
    // Every branch is there: each threshold of workflows 1 and 2, each response status.
    for name in [
        "Manual outreach, fit 4",
        "Manual outreach, fit 8",
        "Automated outreach, fit 6",
        "lead score +20 clamped at 100",
        "Meeting Scheduled with a deal",
        "Meeting Scheduled without a deal",
        "Not Interested",
        "Back to No Response",
        "No Response for exactly 3 days",
        "No Response for 4 days, fit 5",
        "matches no workflow",
        "without an email",
    ] {
        assert!(out.contains(name), "no fixture {name:?}:\n{out}");
    }
}

#[test]
fn a_wrong_fixture_fails_with_a_diff_and_a_bad_one_is_located() {
    let (dir, d) = init();
    let wrong = dir.path().join("wrong.yaml");
    std::fs::write(
        &wrong,
        r#"name: "Fit 6 wrongly expected to get a deal"
today: "2026-11-25"
contact: { firstname: Ada, lastname: Lovelace, company: Acme, ICP Fit Score: 6 }
event: { tagged: "Manual Outreach - 2026-11-24" }
expect:
  - workflow: workflow_manual_outreach
    actions:
      - write: { lead_source: Outbound, qualification_status: Unqualified, response_status: "No Response", last_outreach_date: "2026-11-25" }
      - create_deal: { name: "Ada Lovelace - Acme", stage: "New Lead" }
      - enroll: "Manual Outreach Follow-up"
"#,
    )
    .unwrap();
    let o = crate::leadflow(
        &["workflows", "test", "--config", &d, wrong.to_str().unwrap()],
        &[],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAILED") && out.contains("wrong.yaml:1  Fit 6 wrongly expected"),
        "{out}"
    );
    let diff: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("- ") || l.starts_with("+ "))
        .collect();
    assert_eq!(
        diff,
        ["-   create_deal: {name: \"Ada Lovelace - Acme\", stage: \"New Lead\"}"],
        "{out}"
    );
    assert!(
        out.contains("    enroll: \"Manual Outreach Follow-up\""),
        "{out}"
    );
    assert!(out.contains("0 passed, 1 failed"), "{out}");

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "- name: \"typos\"\n  today: \"2026-11-25\"\n  contact: { icp_fit_scor: 6, Response Status: Intrested }\n  event: { taged: \"x\" }\n  expect: []\n",
    )
    .unwrap();
    let o = crate::leadflow(
        &["workflows", "test", "--config", &d, bad.to_str().unwrap()],
        &[],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("bad.yaml:3:14: unknown contact property \"icp_fit_scor\"; did you mean \"icp_fit_score\"?"),
        "{out}"
    );
    assert!(
        out.contains("bad.yaml:3:48: Response Status: \"Intrested\" is not allowed; did you mean \"Interested\"?"),
        "{out}"
    );
    assert!(
        out.contains("bad.yaml:4:12: unknown key \"taged\" in event; did you mean \"tagged\"?"),
        "{out}"
    );
    std::fs::write(&bad, "- name: [unclosed\n").unwrap();
    let o = crate::leadflow(
        &["workflows", "test", "--config", &d, bad.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("bad.yaml:"), "{}", text(&o));
}

fn client(url: String) -> Client {
    Client::new(ClientConfig::new(url, Credentials::Token(Secret::new("t")))).unwrap()
}

async fn ok(args: &[&str], env: &[(String, String)]) -> String {
    let o = run(strings(args), env.to_vec()).await;
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {out}");
    out
}

async fn json(args: &[&str], env: &[(String, String)]) -> serde_json::Value {
    let o = run(strings(args), env.to_vec()).await;
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
}

fn workflow<'a>(sim: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    sim["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["workflow"] == key)
        .unwrap_or_else(|| panic!("no {key} in {sim:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_predicts_what_run_does_and_history_shows_it() {
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let (dir, d) = init();
    let db = format!("sqlite://{}", dir.path().join("leadflow.db").display());
    let mut env = portal(&sb, "t");
    env.push(("LEADFLOW_DATABASE_URL".into(), db.clone()));
    ok(&["properties", "apply", "--yes", "--config", &d], &env).await;
    ok(&["sync", "--full"], &env).await;

    // A workflow naming a sequence the portal does not have is refused at start.
    let bad = dir.path().join("bad-project");
    let o = crate::leadflow(&["init", bad.to_str().unwrap()], &[]);
    assert!(o.status.success());
    let wf = bad.join("workflows.yaml");
    let text_of = std::fs::read_to_string(&wf).unwrap();
    std::fs::write(
        &wf,
        text_of.replace(
            "\"Manual Outreach Follow-up\"",
            "\"Manual Outreach Folow-up\"",
        ),
    )
    .unwrap();
    let o = run(
        strings(&["workflows", "run", "--config", bad.to_str().unwrap()]),
        env.clone(),
    )
    .await;
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("\"Manual Outreach Folow-up\""), "{out}");
    assert!(out.contains("manual outreach follow-up"), "{out}");

    // Newly tagged contacts, synced.
    use futures::TryStreamExt;
    let c = client(sb.url());
    let owners: Vec<leadflow_hubspot::Owner> = c.owners().try_collect().await.unwrap();
    let fits = [4, 5, 6, 7, 8, 9, 3, 10];
    let inputs: Vec<ObjectInput> = fits
        .iter()
        .enumerate()
        .map(|(n, fit)| ObjectInput {
            properties: PropertyValues::from([
                ("email".to_owned(), format!("lead{n}-fit{fit}@acme.example")),
                ("firstname".to_owned(), format!("Lead{n}")),
                ("lastname".to_owned(), "Tester".to_owned()),
                ("company".to_owned(), "Acme".to_owned()),
                ("icp_fit_score".to_owned(), fit.to_string()),
                (
                    "campaign_tag".to_owned(),
                    "Manual Outreach - 2026-11-24".to_owned(),
                ),
                ("hubspot_owner_id".to_owned(), owners[0].id.clone()),
            ]),
            ..ObjectInput::default()
        })
        .collect();
    let created = c
        .objects(ObjectType::Contacts)
        .batch_create(inputs)
        .await
        .unwrap();
    assert!(created.is_complete());
    ok(&["sync"], &env).await;

    // The dry run: counts per workflow, and nothing written anywhere.
    let store = leadflow_store::Store::connect(&db).await.unwrap();
    assert!(store.intent_counts("default").await.unwrap().is_empty());
    let requests = sb.state().stats().requests;
    let sim = json(&["workflows", "simulate", "--config", &d, "--json"], &env).await;
    let mo = workflow(&sim, "workflow_manual_outreach");
    assert_eq!(mo["contacts"], 8, "{sim:#}");
    assert_eq!(mo["already_enrolled"], 0);
    assert_eq!(mo["actions"]["writes"], 8);
    assert_eq!(mo["actions"]["deals"], 4, "fit 7, 8, 9, 10");
    assert_eq!(mo["actions"]["sequence_enrollments"], 6, "fit 5 and up");
    assert_eq!(
        mo["skipped"]["create_deal: condition \"ICP Fit Score >= 7\" does not hold"],
        4
    );
    // One write batch, one deal upsert and one link call, six enrollments.
    assert_eq!(mo["api_calls"], 1 + 2 + 6);
    assert_eq!(
        workflow(&sim, "data_sync.contact_creation")["contacts"],
        8,
        "the creations run the data-sync flow too"
    );
    let only = json(
        &[
            "workflows",
            "simulate",
            "--config",
            &d,
            "--json",
            "--since",
            "1d",
            "--workflow",
            "Manual Outreach Contact Processing",
        ],
        &env,
    )
    .await;
    assert_eq!(only["workflows"].as_array().unwrap().len(), 1, "{only:#}");
    assert_eq!(workflow(&only, "workflow_manual_outreach")["contacts"], 8);
    let table = ok(&["workflows", "simulate", "--config", &d], &env).await;
    assert!(table.contains("workflow_manual_outreach"), "{table}");
    assert!(table.contains("estimated API calls"), "{table}");
    let o = run(
        strings(&[
            "workflows",
            "simulate",
            "--config",
            &d,
            "--workflow",
            "nope",
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("workflow_manual_outreach"),
        "{}",
        text(&o)
    );
    assert_eq!(
        sb.state().stats().requests,
        requests,
        "a dry run calls nobody"
    );
    assert!(
        store.intent_counts("default").await.unwrap().is_empty(),
        "a dry run writes no intent"
    );
    let lead7 = created
        .results
        .iter()
        .find(|r| r.get("email") == Some("lead3-fit7@acme.example"))
        .unwrap()
        .id
        .clone();
    assert!(
        store
            .workflow_enrollments_of("default", &lead7)
            .await
            .unwrap()
            .is_empty()
    );

    // The run does what the dry run said.
    let deals_before = sb.state().count("deals");
    let enrolled_before = sb.state().enrollments().len();
    let calls_before = sb.state().stats().requests;
    let out = ok(&["workflows", "run", "--config", &d], &env).await;
    assert!(out.contains("dead-lettered"), "{out}");
    let calls = sb.state().stats().requests - calls_before;
    assert!(
        calls <= sim["total_api_calls"].as_u64().unwrap(),
        "{calls} calls, estimated {}",
        sim["total_api_calls"]
    );
    let total = &sim["total"];
    assert_eq!(
        (sb.state().count("deals") - deals_before) as u64,
        total["deals"].as_u64().unwrap(),
        "{out}"
    );
    assert_eq!(
        (sb.state().enrollments().len() - enrolled_before) as u64,
        total["sequence_enrollments"].as_u64().unwrap(),
        "{out}"
    );
    let p = &sb.state().record("contacts", &lead7).unwrap()["properties"];
    assert_eq!(p["lead_source"], "Outbound");
    assert_eq!(p["qualification_status"], "Unqualified");

    // The history says what happened, as text and as JSON.
    let out = ok(
        &[
            "workflows",
            "history",
            "--contact",
            "lead3-fit7@acme.example",
            "--config",
            &d,
        ],
        &env,
    )
    .await;
    for expected in [
        "Lead3 Tester <lead3-fit7@acme.example>",
        "workflow_manual_outreach (Manual Outreach Contact Processing)",
        "\"Manual Outreach - 2026-11-24\"",
        "create_deal",
        "enroll",
        "done",
    ] {
        assert!(out.contains(expected), "{expected:?} in:\n{out}");
    }
    let h = json(
        &[
            "workflows",
            "history",
            "--contact",
            "LEAD3-fit7@acme.example",
            "--json",
        ],
        &env,
    )
    .await;
    let runs = h["workflows"].as_array().unwrap();
    let mo = runs
        .iter()
        .find(|w| w["workflow"] == "workflow_manual_outreach")
        .unwrap_or_else(|| panic!("{h:#}"));
    let actions: Vec<(String, String)> = mo["enrollments"][0]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_owned(),
                a["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let done = |a: &str| (a.to_owned(), "done".to_owned());
    assert_eq!(
        actions,
        [done("write"), done("create_deal"), done("enroll")]
    );
    let o = run(
        strings(&["workflows", "history", "--contact", "nobody@acme.example"]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // Again, after the writes come back through sync: nothing new is done.
    ok(&["sync"], &env).await;
    let deals = sb.state().count("deals");
    let enrolled = sb.state().enrollments().len();
    let tasks = sb.state().count("tasks");
    let again = json(&["workflows", "simulate", "--config", &d, "--json"], &env).await;
    let mo = workflow(&again, "workflow_manual_outreach");
    assert_eq!(mo["contacts"], 0, "{again:#}");
    assert_eq!(mo["already_enrolled_contacts"], 8);
    ok(&["workflows", "run", "--config", &d], &env).await;
    assert_eq!(sb.state().count("deals"), deals);
    assert_eq!(sb.state().enrollments().len(), enrolled);
    assert_eq!(sb.state().count("tasks"), tasks);
    let counts = store.intent_counts("default").await.unwrap();
    assert!(
        counts
            .iter()
            .all(|(_, state, _)| state == "done" || state == "skipped"),
        "{counts:?}"
    );
    store.close().await;
    sb.shutdown().await;
}

#[test]
fn the_workflow_commands_refuse_a_project_with_problems() {
    let (_dir, d) = init();
    let wf = std::path::Path::new(&d).join("workflows.yaml");
    let original = std::fs::read_to_string(&wf).unwrap();
    std::fs::write(
        &wf,
        original.replacen("ICP Fit Score >= 7", "ICP Fitness >= 7", 1),
    )
    .unwrap();
    let line = original
        .lines()
        .position(|l| l.contains("ICP Fit Score >= 7"))
        .unwrap()
        + 1;
    for args in [
        ["workflows", "run", "--config", &d],
        ["workflows", "test", "--config", &d],
        ["workflows", "simulate", "--config", &d],
    ] {
        let o = crate::leadflow(&args, &[]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}");
        assert!(out.contains(&format!("workflows.yaml:{line}:")), "{out}");
        assert!(out.contains("ICP Fit Score"), "the hint names it: {out}");
    }
}
