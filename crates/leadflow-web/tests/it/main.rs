//! The dashboard's routes over a SQLite store of generated contacts: the JSON API against
//! an independent count of the generated data, filters, the errors (404, 400) and their
//! messages, "no data" for an empty period, escaping; `browser.rs` opens the pages in
//! headless Chromium.

mod browser;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use jiff::Timestamp;
use leadflow_core::ObjectType;
use leadflow_store::{Link, Store, StoredRecord};
use leadflow_web::WebState;
use tower::ServiceExt;

const DAY: i64 = 86_400_000;
const PORTAL: &str = "p";
/// A campaign whose name is markup: pages must show it as text.
const EVIL: &str = "<script>alert('x')</script>";
const CAMPAIGNS: [&str; 3] = ["Q4 Fintech", "Manual Outreach - 2026-03-01", EVIL];
const ICPS: [&str; 3] = ["ICP-A", "ICP-B", "ICP-C"];
const RESPONSES: [&str; 4] = [
    "No Response",
    "Interested",
    "Not Interested",
    "Meeting Scheduled",
];

fn now() -> Timestamp {
    "2026-03-15T12:00:00Z".parse().unwrap()
}

/// A generated contact, as the independent computation sees it.
#[derive(Clone, Debug)]
pub(crate) struct Contact {
    id: String,
    /// Created within the last 25 days (else 40-60 days ago, outside a 30-day period).
    recent: bool,
    props: BTreeMap<&'static str, String>,
}

impl Contact {
    fn get(&self, k: &str) -> Option<&str> {
        self.props.get(k).map(String::as_str)
    }
}

pub(crate) struct Fixture {
    pub(crate) state: WebState,
    pub(crate) contacts: Vec<Contact>,
    /// Deal amounts in cents, every deal recent and linked to a recent outbound contact.
    pub(crate) pipeline_cents: i64,
    _dir: tempfile::TempDir,
}

pub(crate) async fn fixture(n: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path().join("project");
    leadflow_config::init(&project_dir, false).unwrap();
    let (project, diags) = leadflow_config::load(&project_dir);
    assert!(diags.is_empty(), "{diags:?}");
    let url = format!("sqlite://{}", dir.path().join("leadflow.db").display());
    let store = Store::connect(&url).await.unwrap();

    let mut rng = fastrand::Rng::with_seed(6);
    let now_ms = now().as_millisecond();
    let mut contacts = Vec::new();
    let mut records = Vec::new();
    for i in 0..n {
        let mut props = BTreeMap::new();
        props.insert("email", format!("c{i}@example.com"));
        let source = if rng.u8(0..10) < 8 {
            "Outbound"
        } else {
            "Inbound"
        };
        props.insert("lead_source", source.to_owned());
        props.insert("icp_type", ICPS[rng.usize(..3)].to_owned());
        props.insert("campaign_tag", CAMPAIGNS[rng.usize(..3)].to_owned());
        props.insert("response_status", RESPONSES[rng.usize(..4)].to_owned());
        if rng.bool() {
            props.insert(
                "qualification_status",
                ["Unqualified", "Qualified", "Hot Lead"][rng.usize(..3)].to_owned(),
            );
        }
        props.insert("session_id", format!("s{}", rng.u8(1..=4)));
        props.insert("icp_fit_score", rng.u8(1..=10).to_string());
        let recent = rng.u8(0..5) < 4;
        let created = if recent {
            now_ms - rng.i64(0..25 * DAY)
        } else {
            now_ms - rng.i64(40 * DAY..60 * DAY)
        };
        let c = Contact {
            id: (1000 + i).to_string(),
            recent,
            props,
        };
        records.push(StoredRecord {
            id: c.id.clone(),
            properties: c
                .props
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Some(v.clone())))
                .collect(),
            created_at: Some(created),
            updated_at: 1,
            archived: false,
        });
        contacts.push(c);
    }
    store
        .upsert_records(PORTAL, ObjectType::Contacts, &records, "backfill", None)
        .await
        .unwrap();

    // A few deals, each linked to one recent outbound contact.
    let targets: Vec<&Contact> = contacts
        .iter()
        .filter(|c| c.recent && c.get("lead_source") == Some("Outbound"))
        .take(7)
        .collect();
    let mut deals = Vec::new();
    let mut links = Vec::new();
    let mut pipeline_cents = 0;
    for (i, c) in targets.iter().enumerate() {
        let amount = 1_000 * (i as i64 + 1);
        pipeline_cents += amount * 100;
        let id = (90_000 + i).to_string();
        deals.push(StoredRecord {
            id: id.clone(),
            properties: BTreeMap::from([("amount".to_owned(), Some(amount.to_string()))]),
            created_at: Some(now_ms - DAY),
            updated_at: 1,
            archived: false,
        });
        links.push(Link {
            from_id: id,
            to_id: c.id.clone(),
            type_id: 3,
        });
    }
    store
        .upsert_records(PORTAL, ObjectType::Deals, &deals, "backfill", None)
        .await
        .unwrap();
    let deal_ids: Vec<String> = deals.iter().map(|d| d.id.clone()).collect();
    store
        .replace_associations(
            PORTAL,
            ObjectType::Deals,
            ObjectType::Contacts,
            &deal_ids,
            &links,
        )
        .await
        .unwrap();

    let state = WebState::new(store, PORTAL, project)
        .unwrap()
        .with_clock(now);
    Fixture {
        state,
        contacts,
        pipeline_cents,
        _dir: dir,
    }
}

async fn get(f: &Fixture, uri: &str) -> (StatusCode, String) {
    let response = leadflow_web::router(f.state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn json(f: &Fixture, uri: &str) -> serde_json::Value {
    let (status, body) = get(f, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap()
}

pub(crate) fn figure<'a>(figures: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {figures}"))
}

fn responded(c: &Contact) -> bool {
    matches!(
        c.get("response_status"),
        Some("Interested" | "Not Interested" | "Meeting Scheduled")
    )
}

/// The report's contacts: outbound, created in the last 30 days, and the filters.
fn report_set<'a>(f: &'a Fixture, campaign: Option<&str>, icp: Option<&str>) -> Vec<&'a Contact> {
    f.contacts
        .iter()
        .filter(|c| c.recent && c.get("lead_source") == Some("Outbound"))
        .filter(|c| campaign.is_none_or(|x| c.get("campaign_tag") == Some(x)))
        .filter(|c| icp.is_none_or(|x| c.get("icp_type") == Some(x)))
        .collect()
}

fn check_totals(out: &serde_json::Value, set: &[&Contact]) {
    let m = &out["metrics"];
    assert_eq!(
        figure(m, "Total Contacts Created")["value"]["count"],
        set.len() as i64
    );
    let rate = &figure(m, "Response Rate")["value"];
    let want = set.iter().filter(|c| responded(c)).count() as i64;
    assert_eq!(
        (rate["numerator"].as_i64(), rate["denominator"].as_i64()),
        (Some(want), Some(set.len() as i64)),
        "{rate}"
    );
}

#[tokio::test]
async fn the_report_api_counts_the_generated_contacts_with_and_without_filters() {
    let f = fixture(400).await;
    let out = json(&f, "/api/reports/lead_generation_report").await;
    let all = report_set(&f, None, None);
    assert!(all.len() > 100);
    check_totals(&out, &all);

    let campaign = "Q4 Fintech";
    let out = json(
        &f,
        "/api/reports/lead_generation_report?since=30d&campaign=Q4+Fintech&icp=ICP-B",
    )
    .await;
    let set = report_set(&f, Some(campaign), Some("ICP-B"));
    assert!(!set.is_empty() && set.len() < all.len());
    check_totals(&out, &set);

    // A longer period takes in the older contacts too.
    let out = json(&f, "/api/reports/lead_generation_report?since=90d").await;
    let older = f
        .contacts
        .iter()
        .filter(|c| c.get("lead_source") == Some("Outbound"))
        .count() as i64;
    assert_eq!(
        figure(&out["metrics"], "Total Contacts Created")["value"]["count"],
        older
    );
}

#[tokio::test]
async fn the_dashboard_api_counts_the_generated_contacts() {
    let f = fixture(300).await;
    let out = json(&f, "/api/dashboard/session_dashboard").await;
    let set = report_set(&f, None, None);
    let w = &out["widgets"];
    assert_eq!(
        figure(w, "Total Leads Generated (30 days)")["value"]["count"],
        set.len() as i64
    );
    assert_eq!(
        figure(w, "Average Response Rate")["value"]["numerator"],
        set.iter().filter(|c| responded(c)).count() as i64
    );
    assert_eq!(
        figure(w, "Pipeline Value Created")["value"]["cents"],
        f.pipeline_cents
    );
    // The home page is the first dashboard.
    let (status, html) = get(&f, "/").await;
    assert_eq!(status, StatusCode::OK);
    for name in leadflow_config::reports::WIDGETS {
        let attr = format!("data-metric=\"{}\"", leadflow_web::slug(name));
        assert!(html.contains(&attr), "{attr} in {html}");
    }
}

#[tokio::test]
async fn unknown_keys_are_404_and_bad_filters_400_saying_what_is_wrong() {
    let f = fixture(20).await;
    let (status, body) = get(&f, "/api/reports/lead_generation").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let e: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(e["code"], "not_found");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("no report \"lead_generation\"")
            && message.contains("report lead_generation_report (/reports/lead_generation_report)"),
        "{message}"
    );
    let (status, html) = get(&f, "/reports/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("no report &quot;nope&quot;"), "{html}");
    let (status, _) = get(&f, "/api/dashboard/lead_generation_report").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    for (uri, says) in [
        (
            "/api/reports/lead_generation_report?since=forever",
            "not a period such as 30d",
        ),
        (
            "/api/reports/lead_generation_report?icp=ICP-Q",
            "the ICP types are ICP-A, ICP-B, ICP-C",
        ),
        (
            "/api/reports/lead_generation_report?sinse=30d",
            "unknown parameter \"sinse\"",
        ),
        ("/api/dashboard/session_dashboard?since=-3d", "not a period"),
        (
            "/api/reports/lead_generation_report?since=%ZZ",
            "bad filter",
        ),
    ] {
        let (status, body) = get(&f, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        let e: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(e["code"], "bad_filter", "{uri}");
        assert!(
            e["message"].as_str().unwrap().contains(says),
            "{uri}: {body}"
        );
    }
    let (status, html) = get(&f, "/?since=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("&quot;yesterday&quot; is not a period"),
        "{html}"
    );
}

#[tokio::test]
async fn an_empty_period_shows_no_data_and_markup_in_the_data_is_text() {
    let f = fixture(200).await;
    let (status, html) = get(&f, "/reports/lead_generation_report?since=0h").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains(r#"<div class="tile" data-metric="response_rate">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<div class="value no-data">no data</div>"#),
        "{html}"
    );
    assert!(!html.contains("NaN"), "{html}");
    let (_, html) = get(&f, "/?since=0h").await;
    assert!(
        html.contains(r#"<div class="value no-data">no data</div>"#),
        "{html}"
    );
    assert!(!html.contains("NaN"), "{html}");

    let (status, html) = get(&f, "/reports/lead_generation_report").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"data-group="&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2f;script&gt;""#),
        "{html}"
    );
    // Our one script, nothing from the data.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    // Filtering by that campaign works and shows it escaped in the form.
    let (status, html) = get(
        &f,
        "/reports/lead_generation_report?campaign=%3Cscript%3Ealert(%27x%27)%3C%2Fscript%3E",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(html.matches("<script").count(), 1, "{html}");
}

#[tokio::test]
async fn the_advice_page_shows_a_months_advice_and_refuses_a_bad_month() {
    let f = fixture(200).await;
    // By default the last full month before the (fixed) today, 2026-03-15.
    let (status, html) = get(&f, "/advice").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains(r#"<div class="advice-page" data-month="2026-02">"#),
        "{html}"
    );
    assert!(html.contains("Optimisation advice for 2026-02"), "{html}");
    let advice = json(&f, "/api/advice?month=2026-03").await;
    assert_eq!(advice["month"], "2026-03", "{advice}");
    let (_, html) = get(&f, "/advice?month=2026-03").await;
    assert!(
        html.contains(r#"<input type="month" name="month" value="2026-03">"#),
        "{html}"
    );
    assert!(html.contains(r#"<section class="advice">"#), "{html}");
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    for (uri, says) in [
        (
            "/api/advice?month=March",
            "month=\"March\" is not a month such as 2026-11",
        ),
        ("/api/advice?since=30d", "the advice takes only month"),
    ] {
        let (status, body) = get(&f, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        let e: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(
            e["message"].as_str().unwrap().contains(says),
            "{uri}: {body}"
        );
    }
}
