//! Sequences v4: list, read, enroll (one active sequence per contact), and a contact's
//! enrollment.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, parse};
use crate::state::{EnrollmentDef, SequenceDef, iso, now_ms};
use crate::{SandboxState, lock};

pub(crate) fn routes() -> Router<SandboxState> {
    Router::new()
        .route("/automation/v4/sequences", get(list))
        .route("/automation/v4/sequences/enrollments", post(enroll))
        .route(
            "/automation/v4/sequences/enrollments/contact/{contact_id}",
            get(of_contact),
        )
        .route("/automation/v4/sequences/{sequence_id}", get(get_one))
}

fn user(q: &HashMap<String, String>) -> Result<String, ApiError> {
    q.get("userId")
        .filter(|u| !u.is_empty())
        .cloned()
        .ok_or_else(|| ApiError::validation("userId is required"))
}

fn lite(s: &SequenceDef) -> Value {
    json!({ "id": s.id, "name": s.name, "userId": s.user_id, "createdAt": iso(s.created), "updatedAt": iso(s.created) })
}

async fn list(
    State(state): State<SandboxState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let _ = user(&q)?;
    let data = lock(&state.0.data);
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100)
        .clamp(1, 100);
    let after: usize = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let name = q.get("name").map(|n| n.to_lowercase());
    let found: Vec<&SequenceDef> = data
        .sequences
        .iter()
        .filter(|s| {
            name.as_ref()
                .is_none_or(|n| s.name.to_lowercase().contains(n.as_str()))
        })
        .collect();
    let results: Vec<Value> = found
        .iter()
        .skip(after)
        .take(limit)
        .map(|s| lite(s))
        .collect();
    let mut body = json!({ "total": found.len(), "results": results });
    if after + limit < found.len() {
        body["paging"] = json!({ "next": { "after": (after + limit).to_string() } });
    }
    Ok(Json(body).into_response())
}

async fn get_one(
    State(state): State<SandboxState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let _ = user(&q)?;
    let data = lock(&state.0.data);
    let s = data
        .sequences
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(|| ApiError::not_found(format!("sequence {id} does not exist")))?;
    let steps: Vec<Value> = s
        .steps
        .iter()
        .enumerate()
        .map(|(i, (kind, delay))| json!({ "id": format!("{}{i}", s.id), "stepOrder": i, "actionType": kind, "delayMillis": delay, "createdAt": iso(s.created), "updatedAt": iso(s.created) }))
        .collect();
    let mut v = lite(s);
    v["steps"] = json!(steps);
    v["dependencies"] = json!([]);
    Ok(Json(v).into_response())
}

async fn enroll(
    State(state): State<SandboxState>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult {
    let user_id = user(&q)?;
    let body: Value = parse(&body)?;
    let field = |k: &str| {
        body[k]
            .as_str()
            .map(str::to_owned)
            .or_else(|| body[k].as_u64().map(|n| n.to_string()))
    };
    let required = |k: &str| {
        field(k)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::validation(format!("{k} is required")).sub("MISSING_FIELD"))
    };
    let contact_id = required("contactId")?;
    let sequence_id = required("sequenceId")?;
    let sender = required("senderEmail")?;
    let mut data = lock(&state.0.data);
    let Some(owner) = data
        .owners
        .iter()
        .find(|o| o.user_id.to_string() == user_id)
    else {
        return Err(
            ApiError::validation(format!("user {user_id} is not a user of this portal"))
                .sub("INVALID_USER"),
        );
    };
    if !owner.email.eq_ignore_ascii_case(&sender) {
        return Err(ApiError::validation(format!(
            "{sender} is not a connected inbox of user {user_id}"
        ))
        .sub("INBOX_DISCONNECTED"));
    }
    let Some(sequence) = data.sequences.iter().find(|s| s.id == sequence_id).cloned() else {
        return Err(
            ApiError::validation(format!("sequence {sequence_id} does not exist"))
                .sub("SEQUENCE_NOT_FOUND"),
        );
    };
    let Some(contact) = contact_id
        .parse::<u64>()
        .ok()
        .and_then(|i| data.live("contacts", i))
        .cloned()
    else {
        return Err(
            ApiError::validation(format!("contact {contact_id} does not exist"))
                .sub("CONTACT_NOT_FOUND"),
        );
    };
    let Some(to_email) = contact.props.get("email").cloned() else {
        return Err(
            ApiError::validation(format!("contact {contact_id} has no email address"))
                .sub("MISSING_EMAIL"),
        );
    };
    if let Some(active) = data
        .enrollments
        .iter()
        .find(|e| e.active && e.contact_id == contact.id.to_string())
    {
        let name = data
            .sequences
            .iter()
            .find(|s| s.id == active.sequence_id)
            .map_or("another sequence", |s| s.name.as_str());
        return Err(ApiError::validation(format!(
            "Contact {contact_id} is already enrolled in a sequence ({name})"
        ))
        .sub("ALREADY_ENROLLED"));
    }
    let now = now_ms();
    let id = (700_000 + data.enrollments.len() as u64).to_string();
    data.enrollments.push(EnrollmentDef {
        id: id.clone(),
        contact_id: contact.id.to_string(),
        sequence_id: sequence.id,
        sender_email: sender,
        user_id,
        to_email: to_email.clone(),
        enrolled_at: now,
        active: true,
    });
    Ok(Json(
        json!({ "id": id, "toEmail": to_email, "enrolledAt": iso(now), "updatedAt": iso(now) }),
    )
    .into_response())
}

async fn of_contact(
    State(state): State<SandboxState>,
    Path(contact_id): Path<String>,
) -> ApiResult {
    let data = lock(&state.0.data);
    let e = data
        .enrollments
        .iter()
        .rev()
        .find(|e| e.active && e.contact_id == contact_id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "contact {contact_id} is not enrolled in a sequence"
            ))
        })?;
    let name = data
        .sequences
        .iter()
        .find(|s| s.id == e.sequence_id)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    Ok(Json(json!({
        "id": e.id, "sequenceId": e.sequence_id, "sequenceName": name, "enrolledBy": e.user_id, "enrolledByEmail": e.sender_email,
        "toEmail": e.to_email, "enrolledAt": iso(e.enrolled_at), "updatedAt": iso(e.enrolled_at),
    }))
    .into_response())
}
