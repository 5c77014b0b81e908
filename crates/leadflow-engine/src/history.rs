//! A contact's execution history: every workflow it entered, on which trigger value and
//! when, and what became of each action (its state, HubSpot's answer or the error, the
//! attempts).
//!
//! [`history`] is a pure function of the store's rows, so the command line
//! (`leadflow workflows history`) and the JSON API serialize the same [`ContactHistory`];
//! [`load`] reads the rows for a contact's email.

use std::collections::BTreeMap;

use leadflow_config::workflows::Workflow;
use leadflow_store::{EnrollmentRow, Intent, Store, StoredRecord};
use serde::Serialize;

use crate::{EngineError, st};

/// What the engine did for one contact.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContactHistory {
    /// HubSpot's id.
    pub contact_id: String,
    /// The contact's email.
    pub email: Option<String>,
    /// First and last name.
    pub name: Option<String>,
    /// Whether the contact is gone from the portal (deleted or merged).
    pub archived: bool,
    /// Per workflow, in the order the contact first entered them.
    pub workflows: Vec<WorkflowHistory>,
}

/// One workflow's part of a contact's history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkflowHistory {
    /// The workflow's key (`workflow_manual_outreach`, `data_sync.contact_creation`).
    pub workflow: String,
    /// Its name, from `workflows.yaml` when it is still there.
    pub name: String,
    /// Each time the contact entered it, oldest first.
    pub enrollments: Vec<EnrollmentHistory>,
}

/// One enrollment and its actions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnrollmentHistory {
    /// What enrolled the contact (the tag, the new value, the date measured from).
    pub trigger_value: String,
    /// When, RFC 3339.
    pub enrolled_at: String,
    /// The actions the run intended or skipped, in order.
    pub actions: Vec<ActionHistory>,
}

/// One action of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActionHistory {
    /// The action's position in the workflow, when the key tells it.
    pub step: Option<usize>,
    /// The action (`write`, `create_deal`, `enroll`, `create_task`, `move_deal`, ..., or
    /// the workflow's own name of a skipped action).
    pub action: String,
    /// `pending`, `sending`, `done`, `skipped` or `dead`.
    pub state: String,
    /// What HubSpot answered (ids), when done.
    pub result: Option<serde_json::Value>,
    /// The last error (a dead action's, or the one before a retry).
    pub error: Option<String>,
    /// Why it was skipped.
    pub reason: Option<String>,
    /// Attempts started.
    pub attempts: i32,
    /// Its last change, RFC 3339.
    pub at: String,
}

/// Unix milliseconds as RFC 3339, to the second.
pub fn instant(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .and_then(|t| t.round(jiff::Unit::Second))
        .map_or_else(|_| ms.to_string(), |t| t.to_string())
}

/// The (trigger value, step) an intent's key names: keys are
/// `workflow:contact:trigger value:step:action`, and a trigger value may hold colons.
fn key_parts(i: &Intent) -> Option<(String, Option<usize>)> {
    let rest = i
        .key
        .strip_prefix(&format!("{}:{}:", i.workflow, i.contact_id))?;
    let mut parts = rest.rsplitn(3, ':');
    let _action = parts.next()?;
    let step = parts.next()?.parse().ok();
    Some((parts.next()?.to_owned(), step))
}

/// A workflow's name from its key; the built-in data-sync flows by their flow name.
pub fn workflow_name(key: &str, workflows: &[Workflow]) -> String {
    if let Some(w) = workflows.iter().find(|w| w.key == key) {
        return w.name.clone();
    }
    match key.strip_prefix("data_sync.") {
        Some(flow) => format!("Data sync: {}", flow.replace('_', " ")),
        None => key.to_owned(),
    }
}

/// A contact's history from its record, enrollments and intents (as the store returns
/// them: oldest first). Pure.
pub fn history(
    contact: &StoredRecord,
    enrollments: &[EnrollmentRow],
    intents: &[Intent],
    workflows: &[Workflow],
) -> ContactHistory {
    let mut out: Vec<WorkflowHistory> = Vec::new();
    // (workflow, trigger value) -> (workflow index, enrollment index)
    let mut at: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut place = |out: &mut Vec<WorkflowHistory>, workflow: &str, trigger: &str, when: i64| {
        if let Some(&p) = at.get(&(workflow.to_owned(), trigger.to_owned())) {
            return p;
        }
        let w = match out.iter().position(|w| w.workflow == workflow) {
            Some(w) => w,
            None => {
                out.push(WorkflowHistory {
                    workflow: workflow.to_owned(),
                    name: workflow_name(workflow, workflows),
                    enrollments: Vec::new(),
                });
                out.len() - 1
            }
        };
        out[w].enrollments.push(EnrollmentHistory {
            trigger_value: trigger.to_owned(),
            enrolled_at: instant(when),
            actions: Vec::new(),
        });
        let p = (w, out[w].enrollments.len() - 1);
        at.insert((workflow.to_owned(), trigger.to_owned()), p);
        p
    };
    for e in enrollments {
        place(&mut out, &e.workflow, &e.trigger_value, e.enrolled_at);
    }
    for i in intents {
        let (trigger, step) = key_parts(i).unwrap_or_else(|| (String::new(), None));
        let (w, e) = place(&mut out, &i.workflow, &trigger, i.created_at);
        let skipped = i.state == "skipped";
        out[w].enrollments[e].actions.push(ActionHistory {
            step,
            action: i.action.clone(),
            state: i.state.clone(),
            result: i
                .result
                .as_deref()
                .map(|r| serde_json::from_str(r).unwrap_or_else(|_| serde_json::Value::from(r))),
            error: i.last_error.clone().filter(|_| !skipped),
            reason: i.last_error.clone().filter(|_| skipped),
            attempts: i.attempts,
            at: instant(i.updated_at),
        });
    }
    let name = [contact.get("firstname"), contact.get("lastname")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    ContactHistory {
        contact_id: contact.id.clone(),
        email: contact.get("email").map(str::to_owned),
        name: (!name.is_empty()).then_some(name),
        archived: contact.archived,
        workflows: out,
    }
}

/// The history of the contact with this email, or `None` when the store has no such
/// contact.
///
/// # Errors
/// [`EngineError::Store`].
pub async fn load(
    store: &Store,
    portal: &str,
    email: &str,
    workflows: &[Workflow],
) -> Result<Option<ContactHistory>, EngineError> {
    let Some(contact) = store.contact_by_email(portal, email).await.map_err(st)? else {
        return Ok(None);
    };
    let enrollments = store
        .workflow_enrollments_of(portal, &contact.id)
        .await
        .map_err(st)?;
    let intents = store.intents_of(portal, &contact.id).await.map_err(st)?;
    Ok(Some(history(&contact, &enrollments, &intents, workflows)))
}

#[cfg(test)]
mod tests;
