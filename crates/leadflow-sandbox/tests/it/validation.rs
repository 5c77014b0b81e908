//! HubSpot's validation, each rule with its status, category and message: sequence
//! enrollment's required fields, deals and tasks, duplicate property groups, and malformed
//! JSON on every route that takes a body.

use leadflow_sandbox::{SandboxConfig, SandboxHandle};
use serde_json::{Value, json};

use crate::{call, empty, http, sandbox};

/// HubSpot's error body: `status`, `message`, `correlationId` (a UUID) and `category`.
fn assert_error_shape(body: &Value, category: &str, what: &str) {
    assert_eq!(body["status"], "error", "{what}: {body}");
    assert_eq!(body["category"], category, "{what}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
    assert!(
        body["correlationId"]
            .as_str()
            .is_some_and(|c| c.len() == 36),
        "{what}: {body}"
    );
}

#[tokio::test]
async fn enrollment_refuses_each_missing_field_by_name() {
    let sb = sandbox(SandboxConfig::default()).await;
    let (_, owners, _) = call(&sb, "GET", "/crm/v3/owners", None).await;
    let owner = &owners["results"][0];
    let user_id = owner["userId"].to_string();
    let sender = owner["email"].as_str().unwrap().to_owned();
    let (_, sequences, _) = call(
        &sb,
        "GET",
        &format!("/automation/v4/sequences?userId={user_id}"),
        None,
    )
    .await;
    let sequence_id = sequences["results"][0]["id"].as_str().unwrap().to_owned();
    let (_, contacts, _) = call(&sb, "GET", "/crm/v3/objects/contacts?limit=1", None).await;
    let contact_id = contacts["results"][0]["id"].as_str().unwrap().to_owned();
    let full = json!({"contactId": contact_id, "sequenceId": sequence_id, "senderEmail": sender});
    for missing in ["contactId", "sequenceId", "senderEmail"] {
        let mut body = full.clone();
        body.as_object_mut().unwrap().remove(missing);
        let (s, a, _) = call(
            &sb,
            "POST",
            &format!("/automation/v4/sequences/enrollments?userId={user_id}"),
            Some(body),
        )
        .await;
        assert_eq!(s, 400, "without {missing}: {a}");
        assert_error_shape(&a, "VALIDATION_ERROR", missing);
        assert_eq!(a["message"], format!("{missing} is required"));
    }
    let (s, a, _) = call(
        &sb,
        "POST",
        "/automation/v4/sequences/enrollments",
        Some(full.clone()),
    )
    .await;
    assert_eq!(s, 400, "without userId: {a}");
    assert_error_shape(&a, "VALIDATION_ERROR", "userId");
    assert_eq!(a["message"], "userId is required");
    assert!(sb.state().enrollments().is_empty(), "nothing was enrolled");
    // With every field the same request enrolls.
    let (s, a, _) = call(
        &sb,
        "POST",
        &format!("/automation/v4/sequences/enrollments?userId={user_id}"),
        Some(full),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(sb.state().enrollments().len(), 1);
}

#[tokio::test]
async fn deals_and_tasks_are_refused_with_hubspots_category_and_message() {
    let sb = sandbox(empty()).await;
    let cases = [
        (
            "deals",
            json!({"dealstage": "appointmentscheduled"}),
            "Property values were not valid: dealname is required",
            "REQUIRED_PROPERTY",
            "dealname",
        ),
        (
            "deals",
            json!({"dealname": "Bad stage", "dealstage": "nowhere"}),
            "Property values were not valid: nowhere ",
            "INVALID_OPTION",
            "dealstage",
        ),
        (
            "tasks",
            json!({"hs_task_subject": "Call back"}),
            "Property values were not valid: hs_timestamp is required",
            "REQUIRED_PROPERTY",
            "hs_timestamp",
        ),
    ];
    for (t, properties, message, code, property) in cases {
        let (s, a, _) = call(
            &sb,
            "POST",
            &format!("/crm/v3/objects/{t}"),
            Some(json!({ "properties": properties })),
        )
        .await;
        assert_eq!(s, 400, "{message}: {a}");
        assert_error_shape(&a, "VALIDATION_ERROR", message);
        assert!(
            a["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(message)),
            "{a}"
        );
        assert_eq!(a["errors"][0]["code"], code, "{a}");
        assert_eq!(a["errors"][0]["context"]["propertyName"], json!([property]));
    }
    assert_eq!(sb.state().count("deals") + sb.state().count("tasks"), 0);
}

#[tokio::test]
async fn a_duplicate_property_group_is_a_409_object_already_exists() {
    let sb = sandbox(empty()).await;
    let group = json!({"name": "outbound", "label": "Outbound", "displayOrder": 1});
    let (s, _, _) = call(
        &sb,
        "POST",
        "/crm/v3/properties/contacts/groups",
        Some(group.clone()),
    )
    .await;
    assert_eq!(s, 201);
    let (s, a, _) = call(
        &sb,
        "POST",
        "/crm/v3/properties/contacts/groups",
        Some(group),
    )
    .await;
    assert_eq!(s, 409, "{a}");
    assert_error_shape(&a, "OBJECT_ALREADY_EXISTS", "duplicate group");
    assert!(a["message"].as_str().unwrap().contains("outbound"), "{a}");
    // A group of the same name on another object is another group.
    let (s, _, _) = call(
        &sb,
        "POST",
        "/crm/v3/properties/deals/groups",
        Some(json!({"name": "outbound", "label": "Outbound"})),
    )
    .await;
    assert_eq!(s, 201);
}

/// A resource of each kind the routes below name.
async fn fixtures(sb: &SandboxHandle) -> (String, String, String, String) {
    let (_, contacts, _) = call(sb, "GET", "/crm/v3/objects/contacts?limit=1", None).await;
    let contact = contacts["results"][0]["id"].as_str().unwrap().to_owned();
    let (_, deals, _) = call(sb, "GET", "/crm/v3/objects/deals?limit=1", None).await;
    let deal = deals["results"][0]["id"].as_str().unwrap().to_owned();
    let (s, list, _) = call(
        sb,
        "POST",
        "/crm/v3/lists",
        Some(json!({"name": "Malformed", "objectTypeId": "0-1", "processingType": "MANUAL"})),
    )
    .await;
    assert_eq!(s, 200, "{list}");
    let list = list["list"]["listId"].as_str().unwrap().to_owned();
    let (s, sub, _) = call(
        sb,
        "POST",
        "/webhooks/v3/54321/subscriptions",
        Some(json!({"eventType": "contact.creation"})),
    )
    .await;
    assert_eq!(s, 201, "{sub}");
    let sub = sub["id"].as_str().unwrap().to_owned();
    (contact, deal, list, sub)
}

#[tokio::test]
async fn malformed_json_on_every_route_with_a_body_is_hubspots_400() {
    let sb = sandbox(SandboxConfig::default()).await;
    let (contact, deal, list, sub) = fixtures(&sb).await;
    let routes: Vec<(&str, String)> = vec![
        ("POST", "/crm/v3/objects/contacts".into()),
        ("POST", "/crm/v3/objects/contacts/search".into()),
        ("POST", "/crm/v3/objects/contacts/merge".into()),
        ("POST", "/crm/v3/objects/contacts/batch/read".into()),
        ("POST", "/crm/v3/objects/contacts/batch/create".into()),
        ("POST", "/crm/v3/objects/contacts/batch/update".into()),
        ("POST", "/crm/v3/objects/contacts/batch/upsert".into()),
        ("POST", "/crm/v3/objects/contacts/batch/archive".into()),
        ("PATCH", format!("/crm/v3/objects/contacts/{contact}")),
        ("POST", "/crm/v3/properties/contacts".into()),
        ("POST", "/crm/v3/properties/contacts/batch/create".into()),
        ("POST", "/crm/v3/properties/contacts/batch/read".into()),
        ("POST", "/crm/v3/properties/contacts/batch/archive".into()),
        ("POST", "/crm/v3/properties/contacts/groups".into()),
        (
            "PATCH",
            "/crm/v3/properties/contacts/groups/contactinformation".into(),
        ),
        ("PATCH", "/crm/v3/properties/contacts/lead_source".into()),
        (
            "PUT",
            "/crm/v3/property-validations/0-1/lead_source/rule-type/MAX_LENGTH".into(),
        ),
        ("POST", "/crm/v3/pipelines/deals".into()),
        ("POST", "/crm/v3/pipelines/deals/default/stages".into()),
        (
            "PATCH",
            "/crm/v3/pipelines/deals/default/stages/appointmentscheduled".into(),
        ),
        (
            "PUT",
            format!("/crm/v4/objects/contacts/{contact}/associations/deals/{deal}"),
        ),
        (
            "POST",
            "/crm/v4/associations/contacts/deals/batch/associate/default".into(),
        ),
        (
            "POST",
            "/crm/v4/associations/contacts/deals/batch/create".into(),
        ),
        (
            "POST",
            "/crm/v4/associations/contacts/deals/batch/read".into(),
        ),
        (
            "POST",
            "/crm/v4/associations/contacts/deals/batch/archive".into(),
        ),
        ("POST", "/crm/v3/lists".into()),
        ("POST", "/crm/v3/lists/search".into()),
        ("PUT", format!("/crm/v3/lists/{list}/memberships/add")),
        ("PUT", format!("/crm/v3/lists/{list}/memberships/remove")),
        (
            "PUT",
            format!("/crm/v3/lists/{list}/memberships/add-and-remove"),
        ),
        (
            "POST",
            "/automation/v4/sequences/enrollments?userId=1".into(),
        ),
        ("PUT", "/webhooks/v3/54321/settings".into()),
        ("POST", "/webhooks/v3/54321/subscriptions".into()),
        (
            "POST",
            "/webhooks/v3/54321/subscriptions/batch/update".into(),
        ),
        ("PATCH", format!("/webhooks/v3/54321/subscriptions/{sub}")),
        ("PUT", "/__sandbox/faults".into()),
        (
            "POST",
            "/oauth/v2/private-apps/get/access-token-info".into(),
        ),
    ];
    for malformed in ["{\"inputs\": [", "not json", "[1, 2", "{\"properties\": 7"] {
        for (method, path) in &routes {
            let resp = http()
                .request(method.parse().unwrap(), format!("{}{path}", sb.url()))
                .bearer_auth("t")
                .header("content-type", "application/json")
                .body(malformed)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            let what = format!("{method} {path} with {malformed:?}");
            assert_eq!(status, 400, "{what}: {body}");
            assert_error_shape(&body, "VALIDATION_ERROR", &what);
        }
    }
    assert_eq!(
        sb.state()
            .stats()
            .by_status
            .keys()
            .filter(|s| **s >= 500)
            .count(),
        0,
        "never a 500"
    );
}

#[tokio::test]
async fn routes_without_a_body_ignore_one_and_never_fail_on_it() {
    let sb = sandbox(SandboxConfig::default()).await;
    let (contact, deal, _, _) = fixtures(&sb).await;
    let routes = [
        (
            "PUT",
            format!("/crm/v4/objects/contacts/{contact}/associations/default/deals/{deal}"),
        ),
        ("POST", "/__sandbox/stats/reset".to_owned()),
    ];
    for (method, path) in routes {
        let resp = http()
            .request(method.parse().unwrap(), format!("{}{path}", sb.url()))
            .bearer_auth("t")
            .header("content-type", "application/json")
            .body("{oops")
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "{method} {path}: {}",
            resp.status()
        );
    }
}
