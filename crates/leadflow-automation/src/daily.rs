//! The daily scoring run: every live contact scored, and each changed score recorded as a
//! write intent in the store's outbox for the engine's executor to send.
//!
//! A score is recorded as an enrollment of the contact in the built-in workflow
//! `automation.lead_scoring` with the run's date as its trigger value, and one `write`
//! intent keyed `automation.lead_scoring:{contact}:{date}:0:write`: a second run on the same
//! day records nothing, so each contact gets at most one scoring write a day, sent once.

use jiff::civil::Date;
use leadflow_config::automation::Scoring;
use leadflow_store::{NewEnrollment, NewIntent, Store};

use crate::Error;
use crate::score::score;

/// The workflow key scoring writes are recorded under.
pub const SCORING_WORKFLOW: &str = "automation.lead_scoring";

/// Contacts read per page.
const PAGE: i64 = 500;

/// Contacts per HubSpot batch update (the executor's and HubSpot's batch size).
const BATCH: u64 = 100;

/// What a scoring run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScoringReport {
    /// Live contacts read.
    pub read: u64,
    /// Contacts whose score differs from their stored `lead_score`.
    pub changed: u64,
    /// Write intents recorded (changed, less those recorded already today).
    pub intents: u64,
    /// HubSpot calls the intents will cost: one batch update per 100 contacts.
    pub api_calls: u64,
}

/// The outbox payload of a score write, as the engine's `Intended::Write` reads it.
pub fn write_payload(score: i64) -> String {
    serde_json::json!({ "action": "write", "properties": { "lead_score": score.to_string() } })
        .to_string()
}

/// Whether the stored value already is `score` (`57`, `57.0`).
fn same(stored: Option<&str>, score: i64) -> bool {
    stored
        .and_then(|s| s.trim().parse::<f64>().ok())
        .is_some_and(|s| s == score as f64)
}

/// Scores every live contact of `portal` on `today`, page by page, and records a write
/// intent for each whose score differs from its stored `lead_score`. `at` (unix ms) is
/// when the intents are recorded.
///
/// # Errors
/// A store error; what was recorded before it stays recorded, and running again records
/// the rest.
pub async fn run_scoring(
    store: &Store,
    portal: &str,
    scoring: &Scoring,
    today: Date,
    at: i64,
) -> Result<ScoringReport, Error> {
    let mut report = ScoringReport::default();
    let date = today.to_string();
    let mut after = String::new();
    loop {
        let page = store.live_contact_records(portal, &after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        for contact in &page {
            report.read += 1;
            let (s, _) = score(scoring, &contact.properties, today);
            if same(contact.get("lead_score"), s) {
                continue;
            }
            report.changed += 1;
            let enrollment = NewEnrollment {
                workflow: SCORING_WORKFLOW.to_owned(),
                contact_id: contact.id.clone(),
                trigger_value: date.clone(),
                event_seq: None,
                at,
            };
            let intent = NewIntent {
                key: format!("{SCORING_WORKFLOW}:{}:{date}:0:write", contact.id),
                action: "write".to_owned(),
                payload: write_payload(s),
                state: "pending".to_owned(),
                note: None,
            };
            if store.enroll(portal, &enrollment, &[intent]).await? {
                report.intents += 1;
            }
        }
    }
    report.api_calls = report.intents.div_ceil(BATCH);
    tracing::info!(
        read = report.read,
        changed = report.changed,
        intents = report.intents,
        api_calls = report.api_calls,
        "lead scores computed"
    );
    Ok(report)
}
