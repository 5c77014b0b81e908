//! A contact's history grouped per workflow and enrollment, from the store's rows.

use std::collections::BTreeMap;

use super::*;

fn contact() -> StoredRecord {
    StoredRecord {
        id: "42".into(),
        properties: BTreeMap::from([
            ("email".to_owned(), Some("ada@example.com".to_owned())),
            ("firstname".to_owned(), Some("Ada".to_owned())),
            ("lastname".to_owned(), Some("Lovelace".to_owned())),
        ]),
        created_at: Some(0),
        updated_at: 1,
        archived: false,
    }
}

fn intent(id: i64, key: &str, workflow: &str, action: &str, state: &str) -> Intent {
    Intent {
        id,
        key: key.to_owned(),
        workflow: workflow.to_owned(),
        contact_id: "42".to_owned(),
        action: action.to_owned(),
        payload: "{}".to_owned(),
        state: state.to_owned(),
        attempts: 1,
        result: None,
        last_error: None,
        created_at: 1_795_000_000_000,
        updated_at: 1_795_000_001_000,
        interrupted: false,
    }
}

fn enrollment(workflow: &str, trigger: &str, at: i64) -> EnrollmentRow {
    EnrollmentRow {
        workflow: workflow.to_owned(),
        contact_id: "42".to_owned(),
        trigger_value: trigger.to_owned(),
        enrolled_at: at,
    }
}

#[test]
fn actions_are_grouped_under_their_workflow_and_enrollment() {
    let tag = "Manual Outreach - 2026-11-24";
    let mo = "workflow_manual_outreach";
    let key = |step: usize, action: &str| format!("{mo}:42:{tag}:{step}:{action}");
    let mut deal = intent(2, &key(4, "create_deal"), mo, "create_deal", "done");
    deal.result = Some(r#"{"deal":"901"}"#.to_owned());
    let mut enroll = intent(3, &key(5, "add_to_sequence"), mo, "enroll", "dead");
    enroll.last_error = Some("400 Bad Request: the contact is in a sequence".to_owned());
    enroll.attempts = 8;
    let mut skipped = intent(
        4,
        "workflow_response_handling:42:No Response:0:update_qualification",
        "workflow_response_handling",
        "update_qualification",
        "skipped",
    );
    skipped.last_error = Some("condition does not hold".to_owned());
    // A trigger value with colons still finds its enrollment.
    let odd = intent(
        5,
        "data_sync.contact_update:42:owner=1:2:0:update_related_deals",
        "data_sync.contact_update",
        "deal_owner",
        "pending",
    );
    let h = history(
        &contact(),
        &[
            enrollment(mo, tag, 1_795_000_000_000),
            enrollment(
                "workflow_response_handling",
                "No Response",
                1_795_000_100_000,
            ),
            enrollment("data_sync.contact_update", "owner=1:2", 1_795_000_200_000),
        ],
        &[
            intent(1, &key(0, "write"), mo, "write", "done"),
            deal,
            enroll,
            skipped,
            odd,
        ],
        &[],
    );
    assert_eq!(h.contact_id, "42");
    assert_eq!(h.email.as_deref(), Some("ada@example.com"));
    assert_eq!(h.name.as_deref(), Some("Ada Lovelace"));
    let keys: Vec<&str> = h.workflows.iter().map(|w| w.workflow.as_str()).collect();
    assert_eq!(
        keys,
        [mo, "workflow_response_handling", "data_sync.contact_update"]
    );
    assert_eq!(h.workflows[2].name, "Data sync: contact update");
    let first = &h.workflows[0].enrollments[0];
    assert_eq!(first.trigger_value, tag);
    assert_eq!(first.enrolled_at, "2026-11-18T11:06:40Z");
    let summary: Vec<(Option<usize>, &str, &str)> = first
        .actions
        .iter()
        .map(|a| (a.step, a.action.as_str(), a.state.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (Some(0), "write", "done"),
            (Some(4), "create_deal", "done"),
            (Some(5), "enroll", "dead")
        ]
    );
    assert_eq!(
        first.actions[1].result,
        Some(serde_json::json!({ "deal": "901" }))
    );
    assert_eq!(first.actions[2].attempts, 8);
    assert!(first.actions[2].error.as_deref().unwrap().contains("400"));
    assert_eq!(first.actions[2].reason, None);
    let skipped = &h.workflows[1].enrollments[0].actions[0];
    assert_eq!(skipped.reason.as_deref(), Some("condition does not hold"));
    assert_eq!(skipped.error, None);
    let odd = &h.workflows[2].enrollments;
    assert_eq!(odd.len(), 1, "{odd:?}");
    assert_eq!(odd[0].actions[0].step, Some(0));
}

#[test]
fn a_contact_with_no_runs_has_an_empty_history_that_serializes() {
    let h = history(&contact(), &[], &[], &[]);
    assert!(h.workflows.is_empty());
    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(json["email"], "ada@example.com");
    assert_eq!(json["workflows"], serde_json::json!([]));
}
