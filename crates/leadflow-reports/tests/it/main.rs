//! Reports computed from the store against an independent computation over the same
//! generated data, on SQLite and on PostgreSQL.
//!
//! PostgreSQL runs when `LEADFLOW_TEST_DATABASE_URL` is set (each test gets a fresh
//! database); without it the PostgreSQL half prints a skip reason, unless
//! `LEADFLOW_REQUIRE_POSTGRES=1` (CI), where it fails.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use leadflow_config::reports::{Dashboard, Report};
use leadflow_core::ObjectType;
use leadflow_reports::{Filters, Period, ReportOutput, ReportSpec, Since, Value};
use leadflow_store::testing::on_both;
use leadflow_store::{Link, Store, StoredRecord};

const DAY: i64 = 86_400_000;

fn now() -> Timestamp {
    "2026-03-15T12:00:00Z".parse().unwrap()
}

mod charts;

/// A generated contact, as the independent computation sees it.
#[derive(Clone, Debug)]
struct Contact {
    id: String,
    created_at: Option<i64>,
    archived: bool,
    /// The properties now.
    props: BTreeMap<&'static str, String>,
    /// Every version the store is given, oldest first (the last one is `props`), with the
    /// instant it was changed at: the first is backfilled, the others synced as changes.
    history: Vec<(i64, BTreeMap<&'static str, String>)>,
}

#[derive(Clone, Debug)]
struct Deal {
    id: String,
    created_at: i64,
    archived: bool,
    amount: Option<String>,
    contacts: Vec<String>,
}

const RESPONSES: [&str; 4] = [
    "No Response",
    "Interested",
    "Not Interested",
    "Meeting Scheduled",
];
const QUALIFICATIONS: [&str; 3] = ["Unqualified", "Qualified", "Hot Lead"];

fn pick<'a>(rng: &mut fastrand::Rng, options: &[&'a str]) -> Option<&'a str> {
    // One in (n + 1) has no value.
    let i = rng.usize(..=options.len());
    options.get(i).copied()
}

fn generate(n: usize, seed: u64, from_ms: i64) -> (Vec<Contact>, Vec<Deal>) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let now_ms = now().as_millisecond();
    let mut contacts = Vec::with_capacity(n);
    for i in 0..n {
        let mut props = BTreeMap::new();
        props.insert("email", format!("c{i}@example.com"));
        let source = if rng.u8(0..10) < 8 {
            Some("Outbound")
        } else {
            pick(&mut rng, &["Inbound"])
        };
        let fields: [(&'static str, Option<&str>); 7] = [
            ("lead_source", source),
            ("icp_type", pick(&mut rng, &["ICP-A", "ICP-B", "ICP-C"])),
            ("response_status", pick(&mut rng, &RESPONSES)),
            ("qualification_status", pick(&mut rng, &QUALIFICATIONS)),
            (
                "campaign_tag",
                pick(
                    &mut rng,
                    &[
                        "Manual Outreach - 2026-03-01",
                        "Manual Outreach - 2026-03-08",
                        "Automated Outreach - Fintech",
                        "Automated Outreach - SaaS",
                        "Spring",
                        "Q1",
                    ],
                ),
            ),
            (
                "message_strategy",
                pick(
                    &mut rng,
                    &["Time Focus", "Quality Focus", "Production Focus", "Custom"],
                ),
            ),
            (
                "session_id",
                pick(&mut rng, &["s1", "s2", "s3", "s4", "s5", "s6", "s7"]),
            ),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                props.insert(k, v.to_owned());
            }
        }
        if rng.u8(0..10) < 9 {
            props.insert("icp_fit_score", rng.u8(1..=10).to_string());
        }
        // Lead scores 1-100, a few missing, a few outside the range (written by hand).
        match rng.u8(0..50) {
            0..=4 => {}
            5 => {
                props.insert("lead_score", ["0", "150"][rng.usize(..2)].to_owned());
            }
            _ => {
                props.insert("lead_score", rng.u8(1..=100).to_string());
            }
        }
        // Created over the last 60 days; a few exactly on the period's first instant and
        // one millisecond before it; a few without a creation time.
        let created_at = match i % 500 {
            0 => Some(from_ms),
            1 => Some(from_ms - 1),
            2 => None,
            _ => Some(now_ms - rng.i64(0..60 * DAY)),
        };
        // Earlier versions: the statuses before none, one or two changes, each change at
        // an instant between the previous version and now.
        let mut history = Vec::new();
        let mut at = created_at.unwrap_or(1);
        let changes = match (created_at, rng.u8(0..10)) {
            (None, _) | (_, 0..=5) => 0,
            (_, 6..=8) => 1,
            _ => 2,
        };
        for _ in 0..changes {
            let mut earlier = props.clone();
            for (k, options) in [
                ("response_status", &RESPONSES[..]),
                ("qualification_status", &QUALIFICATIONS[..]),
            ] {
                match pick(&mut rng, options) {
                    Some(v) => earlier.insert(k, v.to_owned()),
                    None => earlier.remove(k),
                };
            }
            history.push((at, earlier));
            at += rng.i64(1..=((now_ms - at) / 2).max(1));
        }
        history.push((at, props.clone()));
        contacts.push(Contact {
            id: (10_000 + i).to_string(),
            created_at,
            archived: rng.u8(0..40) == 0,
            props,
            history,
        });
    }
    let mut deals = Vec::new();
    for i in 0..n / 3 {
        let linked: Vec<String> = (0..rng.usize(0..=2))
            .map(|_| contacts[rng.usize(..n)].id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let amount = match rng.u8(0..10) {
            0 => None,
            1 => Some("not a number".to_owned()),
            2 => Some(format!("{}.{:02}", rng.u32(0..10_000), rng.u8(0..100))),
            _ => Some((1_000 * rng.u32(1..50)).to_string()),
        };
        deals.push(Deal {
            id: (50_000 + i).to_string(),
            created_at: now_ms - rng.i64(0..60 * DAY),
            archived: rng.u8(0..30) == 0,
            amount,
            contacts: linked,
        });
    }
    (contacts, deals)
}

async fn load(store: &Store, contacts: &[Contact], deals: &[Deal]) {
    // Round k stores every contact's k-th version: the first backfilled (no events but
    // creation), the later ones synced as changes (an event per changed property).
    let rounds = contacts.iter().map(|c| c.history.len()).max().unwrap_or(0);
    for k in 0..rounds {
        let records: Vec<StoredRecord> = contacts
            .iter()
            .filter_map(|c| {
                let (at, props) = c.history.get(k)?;
                Some(StoredRecord {
                    id: c.id.clone(),
                    properties: props
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), Some(v.clone())))
                        .collect(),
                    created_at: c.created_at,
                    updated_at: *at,
                    archived: c.archived && k + 1 == c.history.len(),
                })
            })
            .collect();
        let source = if k == 0 { "backfill" } else { "incremental" };
        for chunk in records.chunks(500) {
            store
                .upsert_records("p", ObjectType::Contacts, chunk, source, None)
                .await
                .unwrap();
        }
    }
    let records: Vec<StoredRecord> = deals
        .iter()
        .map(|d| StoredRecord {
            id: d.id.clone(),
            properties: BTreeMap::from([("amount".to_owned(), d.amount.clone())]),
            created_at: Some(d.created_at),
            updated_at: 1,
            archived: d.archived,
        })
        .collect();
    for chunk in records.chunks(500) {
        store
            .upsert_records("p", ObjectType::Deals, chunk, "backfill", None)
            .await
            .unwrap();
    }
    // Links read from the deal's side for most deals, from the contact's side for every
    // third one: reports must see both.
    let mut deal_side = Vec::new();
    let mut deal_ids = Vec::new();
    for (i, d) in deals.iter().enumerate() {
        for c in &d.contacts {
            if i % 3 == 0 {
                store
                    .set_association(
                        "p",
                        (ObjectType::Contacts, ObjectType::Deals),
                        &Link {
                            from_id: c.clone(),
                            to_id: d.id.clone(),
                            type_id: 4,
                        },
                        true,
                        1,
                        "test",
                    )
                    .await
                    .unwrap();
            } else {
                deal_side.push(Link {
                    from_id: d.id.clone(),
                    to_id: c.clone(),
                    type_id: 3,
                });
            }
        }
        if i % 3 != 0 {
            deal_ids.push(d.id.clone());
        }
    }
    store
        .replace_associations(
            "p",
            ObjectType::Deals,
            ObjectType::Contacts,
            &deal_ids,
            &deal_side,
        )
        .await
        .unwrap();
}

/// The project `leadflow init` writes: the spec's report, dashboard and properties.
fn project() -> leadflow_config::Project {
    let dir = tempfile::tempdir().unwrap();
    leadflow_config::init(dir.path(), false).unwrap();
    let (project, diags) = leadflow_config::load(dir.path());
    assert!(diags.is_empty(), "{diags:?}");
    project
}

fn report_config() -> (Report, leadflow_config::PropertySchema) {
    let p = project();
    (p.reports.reports[0].clone(), p.properties)
}

/// The metrics over a set of contacts, computed directly from the generated values.
fn expected(set: &[&Contact]) -> Vec<Value> {
    let n = set.len() as i64;
    let status = |c: &Contact, k: &str| c.props.get(k).cloned().unwrap_or_default();
    let scores: Vec<f64> = set
        .iter()
        .filter_map(|c| c.props.get("icp_fit_score"))
        .map(|s| s.parse::<f64>().unwrap())
        .collect();
    let responded = set
        .iter()
        .filter(|c| {
            matches!(
                status(c, "response_status").as_str(),
                "Interested" | "Not Interested" | "Meeting Scheduled"
            )
        })
        .count() as i64;
    let meetings = set
        .iter()
        .filter(|c| status(c, "response_status") == "Meeting Scheduled")
        .count() as i64;
    let qualified = set
        .iter()
        .filter(|c| {
            matches!(
                status(c, "qualification_status").as_str(),
                "Qualified" | "Hot Lead"
            )
        })
        .count() as i64;
    let ratio = |a: i64, b: i64| {
        if b == 0 {
            Value::NoData
        } else {
            Value::Ratio {
                numerator: a,
                denominator: b,
            }
        }
    };
    vec![
        Value::Count { count: n },
        if scores.is_empty() {
            Value::NoData
        } else {
            Value::Average {
                sum: scores.iter().sum(),
                count: scores.len() as i64,
            }
        },
        ratio(responded, n),
        ratio(qualified, n),
        ratio(meetings, responded),
    ]
}

fn in_report(contacts: &[Contact], from_ms: i64) -> Vec<&Contact> {
    contacts
        .iter()
        .filter(|c| {
            !c.archived
                && c.props.get("lead_source").map(String::as_str) == Some("Outbound")
                && c.created_at.is_some_and(|t| t >= from_ms)
        })
        .collect()
}

fn none() -> Filters {
    Filters::default()
}

fn values(figures: &[leadflow_reports::Figure]) -> Vec<Value> {
    figures.iter().map(|f| f.value.clone()).collect()
}

fn check_report(out: &ReportOutput, contacts: &[Contact], from_ms: i64) {
    let set = in_report(contacts, from_ms);
    assert!(set.len() > 1000, "the generated data covers the report");
    assert_eq!(values(&out.metrics), expected(&set));
    for b in &out.breakdowns {
        let mut groups: BTreeMap<Option<String>, Vec<&Contact>> = BTreeMap::new();
        for c in &set {
            groups
                .entry(c.props.get(b.property.as_str()).cloned())
                .or_default()
                .push(c);
        }
        let ours: BTreeMap<Option<String>, Vec<Value>> = b
            .groups
            .iter()
            .map(|g| (g.value.clone(), values(&g.metrics)))
            .collect();
        let theirs: BTreeMap<Option<String>, Vec<Value>> = groups
            .iter()
            .map(|(k, v)| (k.clone(), expected(v)))
            .collect();
        assert_eq!(ours, theirs, "breakdown by {}", b.property);
    }
}

#[tokio::test]
async fn the_report_equals_an_independent_computation_over_generated_contacts() {
    on_both("report", |store| async move {
        let (report, schema) = report_config();
        let spec = ReportSpec::from_config(&report, &schema).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            spec.equals,
            vec![("lead_source".to_owned(), "Outbound".to_owned())]
        );
        assert_eq!(spec.since, Some(Since::Days(30)));
        let period = Period::since(Since::Days(30), now(), &TimeZone::UTC).unwrap();
        assert_eq!(period.from, "2026-02-13T00:00:00Z");
        let (contacts, deals) = generate(3000, 42, period.from_ms);
        load(&store, &contacts, &deals).await;

        let out = leadflow_reports::report(&store, "p", &spec, period.clone(), None, &none())
            .await
            .unwrap();
        assert_eq!(out.breakdowns.len(), 4);
        check_report(&out, &contacts, period.from_ms);
        // Every breakdown's groups add up to the whole.
        for b in &out.breakdowns {
            let total: f64 = b.groups.iter().filter_map(|g| g.metrics[0].number).sum();
            assert_eq!(Some(total), out.metrics[0].number, "{}", b.property);
        }

        // One breakdown only.
        let by = leadflow_reports::report(
            &store,
            "p",
            &spec,
            period.clone(),
            Some("icp_type"),
            &none(),
        )
        .await
        .unwrap();
        assert_eq!(by.breakdowns.len(), 1);
        assert_eq!(by.breakdowns[0].property, "icp_type");
        assert_eq!(by.breakdowns[0].groups.last().unwrap().value, None);

        // Another portal, or a period with nothing in it: counts 0, every ratio no data.
        let empty = leadflow_reports::report(&store, "other", &spec, period.clone(), None, &none())
            .await
            .unwrap();
        assert_eq!(
            values(&empty.metrics),
            vec![
                Value::Count { count: 0 },
                Value::NoData,
                Value::NoData,
                Value::NoData,
                Value::NoData
            ]
        );
        assert!(
            empty.metrics[1..]
                .iter()
                .all(|f| f.display == "no data" && f.number.is_none())
        );
        assert!(empty.breakdowns.iter().all(|b| b.groups.is_empty()));
    })
    .await;
}

#[tokio::test]
async fn the_dashboard_widgets_equal_an_independent_computation() {
    on_both("dashboard", |store| async move {
        let period = Period::since(Since::Days(30), now(), &TimeZone::UTC).unwrap();
        let (contacts, deals) = generate(2500, 7, period.from_ms);
        load(&store, &contacts, &deals).await;
        let dashboard: Dashboard = project().reports.dashboards[0].clone();
        assert_eq!(
            dashboard.widgets,
            leadflow_config::reports::WIDGETS.to_vec()
        );
        let out = leadflow_reports::dashboard(&store, "p", &dashboard, period.clone(), &none())
            .await
            .unwrap();
        let got: BTreeMap<&str, &Value> = out
            .widgets
            .iter()
            .map(|f| (f.name.as_str(), &f.value))
            .collect();

        let set = in_report(&contacts, period.from_ms);
        let whole = expected(&set);
        assert_eq!(got["Total Leads Generated (30 days)"], &whole[0]);
        assert_eq!(got["Average Response Rate"], &whole[2]);

        // Top ICP: the highest response rate, ties to more contacts.
        let mut best: Option<(String, i64, i64)> = None;
        for icp in ["ICP-A", "ICP-B", "ICP-C"] {
            let of: Vec<&Contact> = set
                .iter()
                .copied()
                .filter(|c| c.props.get("icp_type").map(String::as_str) == Some(icp))
                .collect();
            let Value::Ratio {
                numerator,
                denominator,
            } = expected(&of)[2]
            else {
                continue;
            };
            let rate = numerator as f64 / denominator as f64;
            if best.as_ref().is_none_or(|(_, n, d)| {
                let b = *n as f64 / *d as f64;
                rate > b || (rate == b && denominator > *d)
            }) {
                best = Some((icp.to_owned(), numerator, denominator));
            }
        }
        let (label, numerator, denominator) = best.unwrap();
        assert_eq!(
            got["Top Performing ICP"],
            &Value::Winner {
                label,
                numerator,
                denominator
            }
        );

        // Session productivity: qualified contacts per session with contacts.
        let sessions: BTreeSet<&String> = set
            .iter()
            .filter_map(|c| c.props.get("session_id"))
            .collect();
        let qualified = set
            .iter()
            .filter(|c| c.props.contains_key("session_id"))
            .filter(|c| {
                matches!(
                    c.props.get("qualification_status").map(String::as_str),
                    Some("Qualified" | "Hot Lead")
                )
            })
            .count();
        assert_eq!(
            got["Session Productivity Score"],
            &Value::Average {
                sum: qualified as f64,
                count: sessions.len() as i64
            }
        );

        // Pipeline value: live deals created in the period linked to a contact of the set.
        let ids: BTreeSet<&str> = set.iter().map(|c| c.id.as_str()).collect();
        let counted: Vec<&Deal> = deals
            .iter()
            .filter(|d| !d.archived && d.created_at >= period.from_ms)
            .filter(|d| d.contacts.iter().any(|c| ids.contains(c.as_str())))
            .collect();
        let cents: Vec<Option<i64>> = counted
            .iter()
            .map(|d| {
                let a = d.amount.as_deref()?;
                match a.split_once('.') {
                    Some((u, c)) => Some(u.parse::<i64>().ok()? * 100 + c.parse::<i64>().ok()?),
                    None => Some(a.parse::<i64>().ok()? * 100),
                }
            })
            .collect();
        assert!(counted.len() > 100, "the generated deals cover the widget");
        assert_eq!(
            got["Pipeline Value Created"],
            &Value::Money {
                cents: cents.iter().flatten().sum(),
                deals: counted.len() as i64,
                without_amount: cents.iter().filter(|c| c.is_none()).count() as i64,
            }
        );

        // No contacts: every widget but the count says no data; the pipeline is zero.
        let empty = leadflow_reports::dashboard(&store, "other", &dashboard, period, &none())
            .await
            .unwrap();
        let displays: Vec<&str> = empty.widgets.iter().map(|f| f.display.as_str()).collect();
        assert_eq!(displays, ["0", "no data", "no data", "no data", "0.00"]);
    })
    .await;
}

#[test]
fn filters_the_store_cannot_count_are_refused_by_name() {
    let (mut report, schema) = report_config();
    report.filters[0].source = "icp_fit_score > 7".into();
    let err = ReportSpec::from_config(&report, &schema)
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"icp_fit_score > 7\""), "{err}");
    report.filters[0].source = "firstname == 'Ada'".into();
    let err = ReportSpec::from_config(&report, &schema)
        .unwrap_err()
        .to_string();
    assert!(err.contains("firstname"), "{err}");
    report.filters[0].source = "created_date >= {{ current_date - 3 weeks }}".into();
    assert!(ReportSpec::from_config(&report, &schema).is_err());
}

#[test]
fn breakdowns_resolve_by_name_label_or_alias_and_others_list_the_allowed() {
    let (report, schema) = report_config();
    let spec = ReportSpec::from_config(&report, &schema).unwrap();
    assert_eq!(spec.breakdown("icp_type", &schema).unwrap(), "icp_type");
    assert_eq!(spec.breakdown("campaign", &schema).unwrap(), "campaign_tag");
    let err = spec
        .breakdown("lead_score", &schema)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("icp_type, campaign_tag, message_strategy, response_status"),
        "{err}"
    );
}

#[test]
fn periods_parse_and_start_at_midnight_in_the_project_time_zone() {
    assert_eq!(Since::parse("30d").unwrap(), Since::Days(30));
    assert_eq!(Since::parse("2w").unwrap(), Since::Days(14));
    assert_eq!(Since::parse("12h").unwrap(), Since::Hours(12));
    for bad in [
        "",
        "d",
        "30",
        "-3d",
        "30 days",
        "99999999999999999999d",
        "40000d",
    ] {
        assert!(Since::parse(bad).is_err(), "{bad}");
    }
    let berlin = TimeZone::get("Europe/Berlin").unwrap();
    let p = Period::since(Since::Days(1), now(), &berlin).unwrap();
    assert_eq!(p.from, "2026-03-13T23:00:00Z");
    let p = Period::since(Since::Hours(12), now(), &TimeZone::UTC).unwrap();
    assert_eq!(p.from, "2026-03-15T00:00:00Z");
}

#[test]
fn the_properties_the_config_lets_reports_count_are_the_stores_columns() {
    let columns: Vec<&str> = leadflow_store::MANAGED_COLUMNS
        .iter()
        .map(|(p, _)| *p)
        .collect();
    assert_eq!(
        columns,
        leadflow_config::reports::COUNTED_PROPERTIES.to_vec()
    );
}
