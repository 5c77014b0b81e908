//! `leadflow report`: the spec's report and dashboard over a synced sandbox, checked
//! against the sandbox's own records; bad names and breakdowns refused with the choices.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{Client, ClientConfig, Credentials, ListOptions, ObjectUpdate};
use leadflow_sandbox::{Sandbox, SandboxConfig};

use crate::{portal, run, strings, text};

const RESPONSES: [&str; 4] = [
    "No Response",
    "Interested",
    "Not Interested",
    "Meeting Scheduled",
];
const QUALIFICATIONS: [&str; 3] = ["Unqualified", "Qualified", "Hot Lead"];
const ICPS: [&str; 3] = ["ICP-A", "ICP-B", "ICP-C"];

fn metric<'a>(figures: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {figures}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_over_a_synced_sandbox_matches_its_records_as_json_and_csv() {
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let project_s = project.to_str().unwrap().to_owned();
    let db = format!("sqlite://{}", dir.path().join("leadflow.db").display());
    let mut env = portal(&sb, "t");
    env.push(("LEADFLOW_DATABASE_URL".into(), db.clone()));
    let o = run(strings(&["init", &project_s]), vec![]).await;
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        strings(&["properties", "apply", "--yes", "--config", &project_s]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Give the seeded contacts the spec's statuses, so every metric has something to count.
    let client = Client::new(ClientConfig::new(
        sb.url(),
        Credentials::Token(Secret::new("t")),
    ))
    .unwrap();
    let contacts = client.objects(ObjectType::Contacts);
    let seeded: Vec<_> = contacts
        .list(ListOptions::default())
        .try_collect()
        .await
        .unwrap();
    let updates: Vec<ObjectUpdate> = seeded
        .iter()
        .take(150)
        .enumerate()
        .map(|(i, c)| {
            let mut p = BTreeMap::from([
                ("response_status".to_owned(), RESPONSES[i % 4].to_owned()),
                (
                    "qualification_status".to_owned(),
                    QUALIFICATIONS[i % 3].to_owned(),
                ),
                ("icp_type".to_owned(), ICPS[i % 3].to_owned()),
            ]);
            if i % 5 != 0 {
                p.insert("icp_fit_score".to_owned(), (i % 10 + 1).to_string());
            }
            ObjectUpdate {
                id: c.id.clone(),
                id_property: None,
                properties: p,
                object_write_trace_id: None,
            }
        })
        .collect();
    let outcome = contacts.batch_update(updates).await.unwrap();
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);

    let o = run(strings(&["sync", "--full"]), env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let o = run(
        strings(&[
            "report",
            "lead_generation_report",
            "--format",
            "json",
            "--config",
            &project_s,
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let from: jiff::Timestamp = out["period"]["from"].as_str().unwrap().parse().unwrap();

    // What the sandbox holds, counted here.
    let props = [
        "lead_source",
        "icp_type",
        "icp_fit_score",
        "response_status",
        "qualification_status",
        "createdate",
    ]
    .map(str::to_owned)
    .to_vec();
    let all: Vec<_> = contacts
        .list(ListOptions {
            properties: props,
            ..ListOptions::default()
        })
        .try_collect()
        .await
        .unwrap();
    let get = |c: &leadflow_hubspot::CrmObject, k: &str| c.properties.get(k).cloned().flatten();
    let set: Vec<_> = all
        .iter()
        .filter(|c| get(c, "lead_source").as_deref() == Some("Outbound"))
        .filter(|c| c.created_at.is_some_and(|t| t >= from))
        .collect();
    assert!(set.len() > 100, "the demo seed has outbound contacts");
    let n = set.len() as i64;
    let responded = set
        .iter()
        .filter(|c| {
            matches!(
                get(c, "response_status").as_deref(),
                Some("Interested" | "Not Interested" | "Meeting Scheduled")
            )
        })
        .count() as i64;
    let meetings = set
        .iter()
        .filter(|c| get(c, "response_status").as_deref() == Some("Meeting Scheduled"))
        .count() as i64;
    let qualified = set
        .iter()
        .filter(|c| {
            matches!(
                get(c, "qualification_status").as_deref(),
                Some("Qualified" | "Hot Lead")
            )
        })
        .count() as i64;
    let scores: Vec<f64> = set
        .iter()
        .filter_map(|c| get(c, "icp_fit_score"))
        .map(|s| s.parse().unwrap())
        .collect();
    assert!(responded > 0 && meetings > 0 && qualified > 0 && !scores.is_empty());

    let m = &out["metrics"];
    assert_eq!(metric(m, "Total Contacts Created")["value"]["count"], n);
    let rate = &metric(m, "Response Rate")["value"];
    assert_eq!(
        (rate["numerator"].clone(), rate["denominator"].clone()),
        (responded.into(), n.into())
    );
    let rate = &metric(m, "Qualification Rate")["value"];
    assert_eq!(
        (rate["numerator"].clone(), rate["denominator"].clone()),
        (qualified.into(), n.into())
    );
    let rate = &metric(m, "Meeting Conversion Rate")["value"];
    assert_eq!(
        (rate["numerator"].clone(), rate["denominator"].clone()),
        (meetings.into(), responded.into())
    );
    let avg = &metric(m, "ICP Fit Score Average")["value"];
    assert_eq!(avg["count"], scores.len() as i64);
    assert_eq!(avg["sum"].as_f64(), Some(scores.iter().sum::<f64>()));
    let shown = metric(m, "Response Rate")["display"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        shown,
        format!("{:.1}%", responded as f64 * 100.0 / n as f64)
    );

    // The ICP Type breakdown counts the same contacts.
    let icp = out["breakdowns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["property"] == "icp_type")
        .unwrap();
    for g in icp["groups"].as_array().unwrap() {
        let value = g["value"].as_str();
        let want = set
            .iter()
            .filter(|c| get(c, "icp_type").as_deref() == value)
            .count() as i64;
        assert_eq!(
            metric(&g["metrics"], "Total Contacts Created")["value"]["count"],
            want,
            "{value:?}"
        );
    }

    // The charts: the catalogue's four, in the configuration's order; the ICP chart's
    // points are the breakdown's groups, the score buckets add up to the contacts.
    let charts = out["charts"].as_array().unwrap();
    let names: Vec<&str> = charts.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Response Rate by ICP Type",
            "Qualification Rate by Campaign",
            "Lead Score Distribution",
            "Activity Timeline"
        ]
    );
    let by_icp = &charts[0]["series"][0]["points"];
    assert_eq!(
        by_icp.as_array().unwrap().len(),
        icp["groups"].as_array().unwrap().len()
    );
    let scores: f64 = charts[2]["series"][0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .sum();
    assert_eq!(scores, n as f64);
    let created: f64 = charts[3]["series"][0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .sum();
    assert_eq!(created, n as f64, "the timeline's days hold every contact");

    // --icp narrows every number to one ICP type.
    let o = run(
        strings(&[
            "report",
            "lead_generation_report",
            "--format",
            "json",
            "--icp",
            "ICP-B",
            "--config",
            &project_s,
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let narrowed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let want = set
        .iter()
        .filter(|c| get(c, "icp_type").as_deref() == Some("ICP-B"))
        .count() as i64;
    assert!(want > 0);
    assert_eq!(
        metric(&narrowed["metrics"], "Total Contacts Created")["value"]["count"],
        want
    );

    // CSV: one row overall plus one per group, parsed by a CSV reader.
    let o = run(
        strings(&[
            "report",
            "Lead Generation Performance",
            "--format",
            "csv",
            "--by",
            "ICP Type",
            "--config",
            &project_s,
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut reader = csv::Reader::from_reader(o.stdout.as_slice());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "breakdown");
    assert_eq!(&header[2], "Total Contacts Created");
    let csv_text = String::from_utf8(o.stdout.clone()).unwrap();
    let (metrics_csv, charts_csv) = csv_text.split_once("\n\n").unwrap();
    let mut reader = csv::Reader::from_reader(metrics_csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&rows[0][0], "all");
    assert_eq!(rows[0][2].parse::<i64>().unwrap(), n);
    assert_eq!(rows.len(), 1 + icp["groups"].as_array().unwrap().len());
    assert!(rows[1..].iter().all(|r| &r[0] == "icp_type"));
    // Then the charts' data, `chart,series,label,value`.
    let mut reader = csv::Reader::from_reader(charts_csv.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["chart", "series", "label", "value"]
    );
    let points: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let no_score = points
        .iter()
        .find(|r| &r[0] == "Lead Score Distribution" && &r[2] == "no score")
        .unwrap();
    assert!(no_score[3].parse::<f64>().is_ok());
    assert!(points.iter().any(|r| &r[1] == "Responses Received"));

    // The dashboard's widgets over the same contacts.
    let o = run(
        strings(&[
            "report",
            "session_dashboard",
            "--format",
            "json",
            "--config",
            &project_s,
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dash: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let w = &dash["widgets"];
    assert_eq!(
        metric(w, "Total Leads Generated (30 days)")["value"]["count"],
        n
    );
    assert_eq!(
        metric(w, "Average Response Rate")["value"]["numerator"],
        responded
    );
    assert!(
        metric(w, "Pipeline Value Created")["value"]["deals"]
            .as_i64()
            .unwrap()
            > 0
    );
    // Its five reports, each with figures and a chart.
    let panels = dash["panels"].as_array().unwrap();
    let names: Vec<&str> = panels.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Manual Outreach Performance",
            "Automated Outreach Performance",
            "ICP Performance Comparison",
            "Response Rate Trends",
            "Lead Qualification Funnel"
        ]
    );
    let funnel = &panels[4]["chart"]["series"][0]["points"];
    assert_eq!(funnel[0]["value"].as_f64(), Some(n as f64));
    assert_eq!(funnel[1]["value"].as_f64(), Some(responded as f64));
    assert_eq!(
        panels[3]["chart"]["series"][0]["points"]
            .as_array()
            .unwrap()
            .len(),
        12
    );

    // The table shows every panel with its chart's data.
    let o = run(
        strings(&["report", "session_dashboard", "--config", &project_s]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    for name in names {
        assert!(table.contains(&format!("chart: {name}")), "{table}");
    }
    assert!(table.contains("Interested or better"), "{table}");

    // A period with nothing in it: the table says so, with no NaN anywhere.
    let o = run(
        strings(&[
            "report",
            "lead_generation_report",
            "--since",
            "0h",
            "--config",
            &project_s,
        ]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no {name} row in\n{table}"))
            .to_owned()
    };
    assert!(row("Total Contacts Created").contains("| 0 "), "{table}");
    for name in [
        "ICP Fit Score Average",
        "Response Rate",
        "Qualification Rate",
        "Meeting Conversion Rate",
    ] {
        assert!(row(name).contains("no data"), "{table}");
    }
    assert!(!table.contains("NaN"), "{table}");
    assert!(table.contains("chart: Activity Timeline"), "{table}");

    // Typos are refused with what there is.
    let o = run(
        strings(&["report", "lead_generation", "--config", &project_s]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("did you mean \"lead_generation_report\"?"),
        "{}",
        text(&o)
    );
    let o = run(
        strings(&[
            "report",
            "lead_generation_report",
            "--by",
            "lead_score",
            "--config",
            &project_s,
        ]),
        env,
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains(
            "its breakdowns are: icp_type, campaign_tag, message_strategy, response_status"
        ),
        "{}",
        text(&o)
    );
    sb.shutdown().await;
}
