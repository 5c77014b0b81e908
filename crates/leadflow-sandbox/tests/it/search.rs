//! Search: every operator against a small known portal, and the filter and sort limits.

use serde_json::{Value, json};

use crate::{call, empty, sandbox};

/// Four contacts with known values; returns their ids in order.
async fn portal(sb: &leadflow_sandbox::SandboxHandle) -> Vec<String> {
    let (s, a, _) = call(
        sb,
        "POST",
        "/crm/v3/properties/contacts",
        Some(json!({"name": "lead_score", "label": "Lead Score", "type": "number", "fieldType": "number", "groupName": "contactinformation"})),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    let people = [
        json!({"email": "ada@acme.com", "firstname": "Ada", "jobtitle": "Chief Executive Officer", "lead_score": "10", "lifecyclestage": "lead"}),
        json!({"email": "bob@beta.io", "firstname": "Bob", "jobtitle": "Sales Manager", "lead_score": "5", "lifecyclestage": "customer"}),
        json!({"email": "cy@acme.com", "firstname": "Cy", "jobtitle": "VP Sales", "lead_score": "7"}),
        json!({"email": "di@gamma.org", "firstname": "Di", "lead_score": "3", "lifecyclestage": "lead"}),
    ];
    let mut ids = Vec::new();
    for p in people {
        let (s, a, _) = call(
            sb,
            "POST",
            "/crm/v3/objects/contacts",
            Some(json!({ "properties": p })),
        )
        .await;
        assert_eq!(s, 201, "{a}");
        ids.push(a["id"].as_str().unwrap().to_owned());
    }
    ids
}

fn f(property: &str, operator: &str) -> Value {
    json!({"propertyName": property, "operator": operator})
}

fn fv(property: &str, operator: &str, value: &str) -> Value {
    json!({"propertyName": property, "operator": operator, "value": value})
}

#[tokio::test]
async fn every_operator_selects_the_right_records() {
    let sb = sandbox(empty()).await;
    let ids = portal(&sb).await;
    let cases: Vec<(&str, Value, Vec<usize>)> = vec![
        (
            "EQ is case-insensitive on text",
            fv("firstname", "EQ", "ada"),
            vec![0],
        ),
        (
            "NEQ includes records without the property",
            fv("lifecyclestage", "NEQ", "lead"),
            vec![1, 2],
        ),
        (
            "LT compares numbers as numbers",
            fv("lead_score", "LT", "5"),
            vec![3],
        ),
        ("LTE", fv("lead_score", "LTE", "5"), vec![1, 3]),
        (
            "GT: 10 > 7 numerically",
            fv("lead_score", "GT", "7"),
            vec![0],
        ),
        ("GTE", fv("lead_score", "GTE", "7"), vec![0, 2]),
        (
            "BETWEEN is inclusive",
            json!({"propertyName": "lead_score", "operator": "BETWEEN", "value": "5", "highValue": "7"}),
            vec![1, 2],
        ),
        (
            "IN with lower-case values",
            json!({"propertyName": "firstname", "operator": "IN", "values": ["bob", "di"]}),
            vec![1, 3],
        ),
        (
            "NOT_IN includes records without the property",
            json!({"propertyName": "lifecyclestage", "operator": "NOT_IN", "values": ["lead"]}),
            vec![1, 2],
        ),
        ("HAS_PROPERTY", f("jobtitle", "HAS_PROPERTY"), vec![0, 1, 2]),
        (
            "NOT_HAS_PROPERTY",
            f("jobtitle", "NOT_HAS_PROPERTY"),
            vec![3],
        ),
        (
            "CONTAINS_TOKEN matches a word",
            fv("jobtitle", "CONTAINS_TOKEN", "sales"),
            vec![1, 2],
        ),
        (
            "CONTAINS_TOKEN with a leading wildcard",
            fv("email", "CONTAINS_TOKEN", "*@acme.com"),
            vec![0, 2],
        ),
        (
            "NOT_CONTAINS_TOKEN includes records without the property",
            fv("jobtitle", "NOT_CONTAINS_TOKEN", "sales"),
            vec![0, 3],
        ),
    ];
    let operators: std::collections::BTreeSet<&str> = cases
        .iter()
        .filter_map(|(_, filter, _)| filter["operator"].as_str())
        .collect();
    assert_eq!(
        operators.len(),
        13,
        "every operator is covered: {operators:?}"
    );
    for (what, filter, expected) in cases {
        let (s, a, _) = call(
            &sb,
            "POST",
            "/crm/v3/objects/contacts/search",
            Some(json!({"filterGroups": [{"filters": [filter]}], "limit": 100})),
        )
        .await;
        assert_eq!(s, 200, "{what}: {a}");
        let got: Vec<&str> = a["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        let want: Vec<&str> = expected.iter().map(|i| ids[*i].as_str()).collect();
        assert_eq!(got, want, "{what}");
        assert_eq!(a["total"], want.len(), "{what}");
    }
}

#[tokio::test]
async fn filters_in_a_group_are_anded_and_groups_ored() {
    let sb = sandbox(empty()).await;
    let ids = portal(&sb).await;
    let body = json!({"filterGroups": [
        {"filters": [fv("lifecyclestage", "EQ", "lead"), fv("lead_score", "GT", "5")]},
        {"filters": [fv("firstname", "EQ", "Cy")]},
    ], "limit": 100});
    let (s, a, _) = call(&sb, "POST", "/crm/v3/objects/contacts/search", Some(body)).await;
    assert_eq!(s, 200, "{a}");
    let got: Vec<&str> = a["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![ids[0].as_str(), ids[2].as_str()]);
}

fn groups(sizes: &[usize]) -> Value {
    Value::Array(
        sizes
            .iter()
            .map(|n| json!({"filters": vec![fv("lead_score", "GTE", "0"); *n]}))
            .collect(),
    )
}

#[tokio::test]
async fn filter_and_sort_limits_are_hubspots() {
    let sb = sandbox(empty()).await;
    portal(&sb).await;
    let sort = |p: &str| json!({"propertyName": p, "direction": "ASCENDING"});
    let refused = [
        (
            "19 filters in all",
            json!({"filterGroups": groups(&[6, 6, 6, 1])}),
        ),
        (
            "7 filters in a group",
            json!({"filterGroups": groups(&[7])}),
        ),
        ("6 groups", json!({"filterGroups": groups(&[1; 6])})),
        (
            "two sorts",
            json!({"sorts": [sort("lead_score"), sort("email")]}),
        ),
    ];
    for (what, body) in refused {
        let (s, a, _) = call(&sb, "POST", "/crm/v3/objects/contacts/search", Some(body)).await;
        assert_eq!(s, 400, "{what}: {a}");
        assert_eq!(a["category"], "VALIDATION_ERROR", "{what}");
        assert_eq!(a["status"], "error", "{what}");
        assert!(a["correlationId"].is_string(), "{what}");
    }
    // The limits themselves are allowed.
    let allowed = [
        (
            "18 filters in all",
            json!({"filterGroups": groups(&[6, 6, 6])}),
        ),
        ("5 groups", json!({"filterGroups": groups(&[1; 5])})),
        ("one sort", json!({"sorts": [sort("lead_score")]})),
    ];
    for (what, body) in allowed {
        let (s, a, _) = call(&sb, "POST", "/crm/v3/objects/contacts/search", Some(body)).await;
        assert_eq!(s, 200, "{what}: {a}");
        assert_eq!(a["total"], 4, "{what}");
    }
}

#[tokio::test]
async fn a_sixth_search_within_a_second_gets_hubspots_secondly_429() {
    // HubSpot's default: 5 searches per second.
    let sb = sandbox(leadflow_sandbox::SandboxConfig {
        seed: leadflow_sandbox::Seed::Empty,
        ..leadflow_sandbox::SandboxConfig::default()
    })
    .await;
    assert_eq!(sb.state().stats().requests, 0);
    let started = std::time::Instant::now();
    let answers = futures::future::join_all((0..6).map(|_| {
        call(
            &sb,
            "POST",
            "/crm/v3/objects/contacts/search",
            Some(json!({"limit": 1})),
        )
    }))
    .await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(900),
        "the six searches went out within a second"
    );
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _, _)| *s).collect();
    statuses.sort();
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429]);
    let (_, body, headers) = answers.iter().find(|(s, _, _)| *s == 429).unwrap();
    assert_eq!(body["status"], "error");
    assert_eq!(body["message"], "You have reached your secondly limit.");
    assert_eq!(body["category"], "RATE_LIMITS");
    assert_eq!(body["errorType"], "RATE_LIMIT");
    assert_eq!(body["policyName"], "SECONDLY");
    assert!(
        body["correlationId"]
            .as_str()
            .is_some_and(|c| c.len() == 36)
    );
    assert!(
        !headers.contains_key("x-hubspot-ratelimit-remaining"),
        "search answers carry no rate-limit headers, 429s included"
    );
    assert_eq!(sb.state().stats().rate_limited, 1);
}

/// Searches contacts whose `firstname` is `name`; the ids found.
async fn by_firstname(sb: &leadflow_sandbox::SandboxHandle, name: &str) -> Vec<String> {
    let (s, a, _) = call(
        sb,
        "POST",
        "/crm/v3/objects/contacts/search",
        Some(json!({"filterGroups": [{"filters": [fv("firstname", "EQ", name)]}], "limit": 10})),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    a["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `name` until it is found (at most 10 s); returns how long that took.
async fn until_found(
    sb: &leadflow_sandbox::SandboxHandle,
    name: &str,
    id: &str,
) -> std::time::Duration {
    let started = std::time::Instant::now();
    loop {
        if by_firstname(sb, name).await == [id.to_owned()] {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{name} never became searchable"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn search_sees_a_write_only_once_the_index_lag_has_passed() {
    let lag = std::time::Duration::from_millis(500);
    let sb = sandbox(leadflow_sandbox::SandboxConfig {
        search_index_lag: lag,
        ..empty()
    })
    .await;
    let written = std::time::Instant::now();
    let (s, a, _) = call(
        &sb,
        "POST",
        "/crm/v3/objects/contacts",
        Some(json!({"properties": {"email": "lag@example.com", "firstname": "Lagged"}})),
    )
    .await;
    assert_eq!(s, 201);
    let id = a["id"].as_str().unwrap().to_owned();
    assert!(
        by_firstname(&sb, "Lagged").await.is_empty(),
        "not yet indexed"
    );
    // A read by id sees the write at once; only search lags.
    let (s, _, _) = call(&sb, "GET", &format!("/crm/v3/objects/contacts/{id}"), None).await;
    assert_eq!(s, 200);
    until_found(&sb, "Lagged", &id).await;
    assert!(written.elapsed() >= lag, "visible only after the lag");

    // An update: search shows the previous version until the lag has passed again.
    let updated = std::time::Instant::now();
    let (s, _, _) = call(
        &sb,
        "PATCH",
        &format!("/crm/v3/objects/contacts/{id}"),
        Some(json!({"properties": {"firstname": "Renamed"}})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        by_firstname(&sb, "Lagged").await,
        std::slice::from_ref(&id),
        "the old version"
    );
    assert!(by_firstname(&sb, "Renamed").await.is_empty());
    until_found(&sb, "Renamed", &id).await;
    assert!(updated.elapsed() >= lag);
    assert!(by_firstname(&sb, "Lagged").await.is_empty());
}
