//! Imports into the sandbox (with the project's properties applied by `leadflow-plan`):
//! 250 rows with bad ones among them, batches of at most 100, re-import updating instead of
//! duplicating, the rejected file holding exactly the bad rows; and, against a mock, a
//! batch HubSpot refuses as a whole being split until the bad row is alone.

use std::collections::BTreeSet;
use std::path::Path;

use leadflow_config::Project;
use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{Client, ClientConfig, Credentials, RetryPolicy};
use leadflow_import::{
    FixedValue, Parsed, ReadOptions, Rejected, Report, import, read_csv, write_rejected,
};
use leadflow_sandbox::{Sandbox, SandboxConfig, SandboxHandle, TokenGrant};

const UPSERT_PATH: &str = "/crm/v3/objects/contacts/batch/upsert";
const TAG: &str = "Manual Outreach - 2026-11-24";

fn project() -> (Project, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), false).unwrap();
    let (project, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{diags:?}");
    (project, dir)
}

fn client(url: String, token: &str) -> Client {
    let mut c = ClientConfig::new(url, Credentials::Token(Secret::new(token)));
    c.retry = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    Client::new(c).unwrap()
}

/// A sandbox with the project's properties applied, recording traffic from then on.
async fn portal(project: &Project) -> (SandboxHandle, Client) {
    let sb = Sandbox::spawn(SandboxConfig {
        record_traffic: true,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let c = client(sb.url(), "t");
    let snapshot = leadflow_plan::fetch(&c, project).await.unwrap();
    let plan = leadflow_plan::plan(project, &snapshot, false);
    leadflow_plan::apply(&c, &plan, leadflow_plan::ApplyOptions::default())
        .await
        .unwrap();
    sb.state().clear_traffic();
    (sb, c)
}

/// Why row `i` (0-based data row, so file row `i + 2`) is bad, if it is.
fn bad(i: usize) -> Option<&'static str> {
    match i {
        100 => Some("email"),
        150 => Some("latin1"),
        200 => Some("response"),
        120 => Some("lifecycle"),
        _ if i % 25 == 7 => Some("fit"),
        _ => None,
    }
}

/// 250 rows; 13 are invalid here and one (a lifecycle stage HubSpot does not have) passes
/// our checks but is refused by HubSpot.
fn leads_csv() -> Vec<u8> {
    let mut out = b"Email,First Name,Last Name,Company Name,ICP Fit Score,Lifecycle Stage,Response Status,Last Outreach Date,Notes\n".to_vec();
    for i in 0..250 {
        let email = if bad(i) == Some("email") {
            "not-an-email".to_owned()
        } else {
            format!("lead{i}@import.example")
        };
        let first: Vec<u8> = if bad(i) == Some("latin1") {
            b"Jos\xe9".to_vec()
        } else {
            format!("First{i}").into_bytes()
        };
        let fit = if bad(i) == Some("fit") {
            "11".to_owned()
        } else {
            (i % 10 + 1).to_string()
        };
        let stage = if bad(i) == Some("lifecycle") {
            "bogus"
        } else {
            "lead"
        };
        let response = if bad(i) == Some("response") {
            "Intrested"
        } else {
            "No Response"
        };
        out.extend(email.as_bytes());
        out.push(b',');
        out.extend(first);
        out.extend(
            format!(
                ",Last{i},Company {},{fit},{stage},{response},2026-11-{:02},\"note {i}, with a comma\"\n",
                i % 7,
                i % 28 + 1
            )
            .as_bytes(),
        );
    }
    out
}

fn parse(project: &Project, csv: &[u8]) -> Parsed {
    let mut options = ReadOptions::new(&project.properties);
    options.fixed = vec![FixedValue {
        flag: "--tag".to_owned(),
        property: "campaign_tag".to_owned(),
        value: TAG.to_owned(),
    }];
    read_csv(csv, &options).unwrap()
}

async fn run(client: &Client, parsed: &Parsed) -> Report {
    let mut progressed = 0;
    let report = import(client, &parsed.rows, |n| progressed += n).await;
    assert_eq!(progressed, parsed.rows.len(), "progress covers every row");
    report
}

/// The batch sizes of the upserts the sandbox saw.
fn upsert_batches(sb: &SandboxHandle) -> Vec<usize> {
    sb.state()
        .traffic()
        .iter()
        .filter(|x| x.method == "POST" && x.path == UPSERT_PATH)
        .map(|x| {
            let body: serde_json::Value =
                serde_json::from_slice(x.request_body.as_deref().unwrap()).unwrap();
            body["inputs"].as_array().unwrap().len()
        })
        .collect()
}

fn rejected_rows(path: &Path) -> Vec<(usize, String)> {
    let mut reader = csv::ReaderBuilder::new().from_path(path).unwrap();
    let headers = reader.byte_headers().unwrap().clone();
    let row_at = headers.iter().position(|h| h == b"row").unwrap();
    assert_eq!(
        headers.iter().next_back(),
        Some(b"error".as_slice()),
        "row and error follow the original columns"
    );
    reader
        .byte_records()
        .map(|r| {
            let r = r.unwrap();
            (
                std::str::from_utf8(&r[row_at]).unwrap().parse().unwrap(),
                String::from_utf8_lossy(&r[row_at + 1]).into_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_the_good_rows_in_batches_and_reports_every_bad_one() {
    let (project, dir) = project();
    let (sb, client) = portal(&project).await;
    let before = sb.state().count("contacts");
    let csv = leads_csv();
    let input = dir.path().join("leads.csv");
    std::fs::write(&input, &csv).unwrap();

    let parsed = parse(&project, &csv);
    assert_eq!(parsed.read, 250);
    assert_eq!(parsed.rows.len(), 237);
    let invalid: BTreeSet<usize> = parsed.rejected.iter().map(|e| e.row).collect();
    let expected_invalid: BTreeSet<usize> = (0..250)
        .filter(|&i| bad(i).is_some_and(|b| b != "lifecycle"))
        .map(|i| i + 2)
        .collect();
    assert_eq!(invalid, expected_invalid);

    let report = run(&client, &parsed).await;
    assert_eq!(report.stopped, None);
    assert_eq!((report.created, report.updated), (236, 0));
    assert_eq!(report.failed.len(), 1);
    let refused = &report.failed[0];
    assert_eq!(refused.row, 122);
    assert!(
        refused
            .reason()
            .contains("bogus was not one of the allowed options"),
        "{}",
        refused.reason()
    );
    assert_eq!(sb.state().count("contacts"), before + 236);
    assert_eq!(
        upsert_batches(&sb),
        [100, 100, 37],
        "237 rows in batches of at most 100"
    );

    let contact = client
        .objects(ObjectType::Contacts)
        .get_by(
            Some("email"),
            "lead42@import.example",
            &[
                "firstname",
                "company",
                "icp_fit_score",
                "campaign_tag",
                "response_status",
                "last_outreach_date",
                "notes",
            ]
            .map(String::from),
        )
        .await
        .unwrap()
        .expect("row 44 is imported");
    assert_eq!(contact.get("firstname"), Some("First42"));
    assert_eq!(contact.get("company"), Some("Company 0"));
    assert_eq!(contact.get("icp_fit_score"), Some("3"));
    assert_eq!(contact.get("campaign_tag"), Some(TAG));
    assert_eq!(contact.get("response_status"), Some("No Response"));
    assert_eq!(contact.get("last_outreach_date"), Some("2026-11-15"));
    assert_eq!(contact.get("notes"), Some("note 42, with a comma"));
    for i in [7, 100, 150, 200] {
        let missing = client
            .objects(ObjectType::Contacts)
            .get_by(Some("email"), &format!("lead{i}@import.example"), &[])
            .await
            .unwrap();
        assert!(missing.is_none(), "bad row {} is not imported", i + 2);
    }

    let written = write_rejected(&input, &parsed, &report.failed).unwrap();
    let path = dir.path().join("leads.rejected.csv");
    assert_eq!(
        written,
        Rejected::Written {
            path: path.clone(),
            rows: 14
        }
    );
    let rows = rejected_rows(&path);
    let mut expected: Vec<usize> = expected_invalid.iter().copied().collect();
    expected.push(122);
    expected.sort();
    assert_eq!(
        rows.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
        expected,
        "exactly the bad rows, in order"
    );
    let (_, why) = rows.iter().find(|(r, _)| *r == 9).unwrap();
    assert_eq!(
        why,
        "ICP Fit Score: \"11\" is not allowed; allowed: a whole number from 1 to 10"
    );
    let (_, why) = rows.iter().find(|(r, _)| *r == 152).unwrap();
    assert_eq!(why, "First Name: not valid UTF-8 (save the file as UTF-8)");

    // The same file again: every contact is updated, none duplicated.
    sb.state().clear_traffic();
    let again = run(&client, &parse(&project, &csv)).await;
    assert_eq!((again.created, again.updated), (0, 236));
    assert_eq!(again.failed.len(), 1);
    assert_eq!(sb.state().count("contacts"), before + 236);
    assert_eq!(upsert_batches(&sb), [100, 100, 37]);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_stop_the_import_and_no_row_is_lost() {
    let (project, _dir) = project();
    let sb = Sandbox::spawn(SandboxConfig {
        tokens: vec![TokenGrant {
            token: "good".to_owned(),
            scopes: None,
        }],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let parsed = parse(&project, &leads_csv());
    let report = import(&client(sb.url(), "wrong"), &parsed.rows, |_| {}).await;
    let stopped = report.stopped.as_deref().unwrap();
    assert!(stopped.contains("authentication failed"), "{stopped}");
    assert_eq!((report.created, report.updated), (0, 0));
    assert_eq!(
        report.failed.iter().map(|e| e.row).collect::<Vec<_>>(),
        parsed.rows.iter().map(|r| r.row).collect::<Vec<_>>(),
        "every row is reported as not imported"
    );
    assert!(
        report.failed[0].reason().contains("not imported"),
        "{}",
        report.failed[0].reason()
    );
    sb.shutdown().await;
}

/// Answers a batch upsert like HubSpot does when it refuses a batch as a whole: 400 when any
/// input is the poisoned one, otherwise every input created.
struct RefuseWholeBatch;

impl wiremock::Respond for RefuseWholeBatch {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let inputs = body["inputs"].as_array().unwrap();
        if inputs.iter().any(|i| i["id"] == "poison@import.example") {
            return wiremock::ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "status": "error",
                "message": "Property values were not valid",
                "correlationId": "c-1",
                "category": "VALIDATION_ERROR",
                "errors": [{"message": "Jr. is not a valid first name", "code": "INVALID_PROPERTY_VALUE",
                            "context": {"propertyName": ["firstname"]}}]
            }));
        }
        let results: Vec<serde_json::Value> = inputs
            .iter()
            .enumerate()
            .map(|(n, i)| {
                serde_json::json!({
                    "id": n.to_string(),
                    "properties": i["properties"],
                    "createdAt": "2026-11-24T10:00:00Z",
                    "updatedAt": "2026-11-24T10:00:00Z",
                    "archived": false,
                    "new": true
                })
            })
            .collect();
        wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "status": "COMPLETE",
            "results": results,
            "startedAt": "2026-11-24T10:00:00Z",
            "completedAt": "2026-11-24T10:00:00Z"
        }))
    }
}

#[tokio::test]
async fn a_batch_refused_as_a_whole_is_split_until_the_bad_row_is_alone() {
    let (project, _dir) = project();
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path(UPSERT_PATH))
        .respond_with(RefuseWholeBatch)
        .mount(&server)
        .await;
    let mut csv = "email,First Name\n".to_owned();
    for i in 0..10 {
        if i == 6 {
            csv.push_str("poison@import.example,Jr.\n");
        } else {
            csv.push_str(&format!("ok{i}@import.example,Ok\n"));
        }
    }
    let parsed = parse(&project, csv.as_bytes());
    let report = import(&client(server.uri(), "t"), &parsed.rows, |_| {}).await;
    assert_eq!(
        report.created, 9,
        "the good rows of the refused batch go in"
    );
    assert_eq!(report.failed.len(), 1);
    let failed = &report.failed[0];
    assert_eq!(failed.row, 8);
    assert_eq!(failed.problems[0].column, "First Name");
    assert!(
        failed.problems[0]
            .reason
            .contains("Jr. is not a valid first name"),
        "{}",
        failed.problems[0].reason
    );
    // 10 refused → 5 good + 5 refused → 2 refused + 3 good → 1 good + 1 refused.
    assert_eq!(report.calls, 7);
    assert_eq!(server.received_requests().await.unwrap().len(), 7);
}
