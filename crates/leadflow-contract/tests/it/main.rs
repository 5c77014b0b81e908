//! The contract checker against HubSpot's documents.

use leadflow_contract::{Contract, ViolationKind};
use serde_json::json;

fn contract() -> Option<Contract> {
    match Contract::locate() {
        Some(dir) => Some(Contract::load(&dir).expect("the documents load")),
        None if std::env::var("LEADFLOW_REQUIRE_CONTRACT").as_deref() == Ok("1") => {
            panic!("LEADFLOW_REQUIRE_CONTRACT=1 but HubSpot's OpenAPI documents were not found")
        }
        None => {
            println!(
                "skipped: HubSpot OpenAPI documents not found (set LEADFLOW_HUBSPOT_OPENAPI_DIR)"
            );
            None
        }
    }
}

#[test]
fn every_schema_of_every_operation_compiles() {
    let Some(c) = contract() else { return };
    assert!(c.operations().count() > 100);
    let failures = c.compile_all();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn operations_match_literal_paths_and_specific_documents_first() {
    let Some(c) = contract() else { return };
    let search = c
        .operation("POST", "/crm/v3/objects/contacts/search")
        .unwrap();
    assert_eq!(
        (search.document, search.path_template),
        ("crm-contacts-v3.json", "/crm/v3/objects/contacts/search")
    );
    let deal = c.operation("GET", "/crm/v3/objects/deals/123").unwrap();
    assert_eq!(deal.document, "crm-objects-v3.json");
    let batch = c
        .operation("POST", "/crm/v3/objects/0-3/batch/read")
        .unwrap();
    assert_eq!(batch.document, "crm-deals-v3.json");
    let with_query = c
        .operation("GET", "/crm/v3/objects/contacts/1?properties=email")
        .unwrap();
    assert_eq!(
        with_query.path_template,
        "/crm/v3/objects/contacts/{contactId}"
    );
    assert!(c.operation("GET", "/nope").is_none());
}

#[test]
fn bodies_are_validated() {
    let Some(c) = contract() else { return };
    let record = json!({"id":"1","properties":{"email":"a@b.c"},"createdAt":"2026-11-24T10:00:00.000Z","updatedAt":"2026-11-24T10:00:00.000Z","archived":false});
    c.validate_response(
        "GET",
        "/crm/v3/objects/contacts/1",
        200,
        record.to_string().as_bytes(),
    )
    .unwrap();
    let bad = json!({"id":"1","properties":["email"],"createdAt":"2026-11-24T10:00:00.000Z","updatedAt":"2026-11-24T10:00:00.000Z","archived":false});
    let v = c
        .validate_response(
            "GET",
            "/crm/v3/objects/contacts/1",
            200,
            bad.to_string().as_bytes(),
        )
        .unwrap_err();
    assert_eq!(v.kind, ViolationKind::Schema);
    assert!(v.errors.iter().any(|e| e.starts_with("/properties")), "{v}");

    let error = json!({"status":"error","message":"x","correlationId":"aeb5f871-7f07-4993-9211-075dc63e7cbf","category":"RATE_LIMITS"});
    c.validate_response(
        "GET",
        "/crm/v3/objects/contacts/1",
        429,
        error.to_string().as_bytes(),
    )
    .unwrap();
    c.validate_request(
        "POST",
        "/crm/v3/objects/contacts/batch/read",
        &json!({"inputs":[{"id":"1"}],"properties":["email"],"propertiesWithHistory":[]}),
    )
    .unwrap();
    assert!(
        c.validate_request(
            "POST",
            "/crm/v3/objects/contacts/batch/read",
            &json!({"inputs":"x"})
        )
        .is_err()
    );
    c.validate_response("DELETE", "/crm/v3/objects/contacts/1", 204, b"")
        .unwrap();
    let v = c
        .validate_response("DELETE", "/crm/v3/objects/contacts/1", 204, b"{}")
        .unwrap_err();
    assert_eq!(v.kind, ViolationKind::NotJson);
    let v = c
        .validate_response("GET", "/crm/v3/objects/contacts/1", 302, b"")
        .unwrap_err();
    assert_eq!(v.kind, ViolationKind::UndeclaredStatus);
    let v = c
        .validate_response("GET", "/crm/v3/objects/contacts/1", 200, b"<html>")
        .unwrap_err();
    assert_eq!(v.kind, ViolationKind::NotJson);
}
