//! Admin endpoints under `/__sandbox/` (no auth, not limited, not recorded), the OAuth
//! token endpoint and the private-app token introspection.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::config::Faults;
use crate::error::{ApiError, ApiResult, parse};
use crate::state::now_ms;
use crate::{SandboxState, lock};

pub(crate) fn routes() -> Router<SandboxState> {
    Router::new()
        .route(
            "/__sandbox/health",
            get(|| async { Json(json!({ "ok": true })) }),
        )
        .route("/__sandbox/faults", get(get_faults).put(put_faults))
        .route("/__sandbox/stats", get(stats))
        .route("/__sandbox/stats/reset", post(reset_stats))
        .route("/__sandbox/seed/contacts", post(seed_contacts))
        .route("/__sandbox/snapshot", post(snapshot))
        .route(
            "/__sandbox/sequences/enrollments/{contact_id}/finish",
            post(finish),
        )
        .route("/oauth/v1/token", post(token))
        .route(
            "/oauth/v2/private-apps/get/access-token-info",
            post(access_token_info),
        )
}

/// Every scope the sandbox checks (`gate.rs`): what a token granted "every scope" has.
const ALL_SCOPES: [&str; 16] = [
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.owners.read",
    "crm.schemas.contacts.write",
    "crm.schemas.companies.write",
    "crm.schemas.deals.write",
    "crm.lists.read",
    "crm.lists.write",
    "automation.sequences.read",
    "automation.sequences.enrollments.write",
    "crm.schemas.contacts.read",
    "crm.schemas.deals.read",
];

/// HubSpot's private-app token introspection: `{"tokenKey"}` → `{userId, hubId, appId, scopes}`.
async fn access_token_info(State(state): State<SandboxState>, body: Bytes) -> ApiResult {
    let body: serde_json::Value = parse(&body)?;
    let Some(key) = body["tokenKey"].as_str() else {
        return Err(ApiError::validation("tokenKey is required"));
    };
    let grants = &state.0.config.tokens;
    let scopes: Vec<String> = if grants.is_empty() {
        ALL_SCOPES.map(str::to_owned).to_vec()
    } else {
        match grants.iter().find(|g| g.token == key) {
            Some(g) => g
                .scopes
                .clone()
                .unwrap_or_else(|| ALL_SCOPES.map(str::to_owned).to_vec()),
            None => {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "OBJECT_NOT_FOUND",
                    "no private app has this access token",
                ));
            }
        }
    };
    Ok(Json(json!({ "userId": 1, "hubId": 62515, "appId": 1, "scopes": scopes })).into_response())
}

async fn get_faults(State(state): State<SandboxState>) -> impl IntoResponse {
    Json(state.faults())
}

async fn put_faults(State(state): State<SandboxState>, body: Bytes) -> ApiResult {
    let faults: Faults = parse(&body)?;
    state.set_faults(faults.clone());
    Ok(Json(faults).into_response())
}

async fn stats(State(state): State<SandboxState>) -> impl IntoResponse {
    Json(state.stats())
}

async fn reset_stats(State(state): State<SandboxState>) -> impl IntoResponse {
    state.reset_stats();
    StatusCode::NO_CONTENT
}

async fn seed_contacts(
    State(state): State<SandboxState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let n: usize = q.get("n").and_then(|v| v.parse().ok()).unwrap_or(100);
    let seed: u64 = q.get("seed").and_then(|v| v.parse().ok()).unwrap_or(1);
    let ids = state.seed_contacts(n, seed);
    Ok(
        Json(json!({ "created": ids.len(), "first": ids.first(), "last": ids.last() }))
            .into_response(),
    )
}

async fn snapshot(State(state): State<SandboxState>) -> ApiResult {
    let Some(path) = state.0.config.snapshot.clone() else {
        return Err(ApiError::validation(
            "the sandbox was started without a snapshot file",
        ));
    };
    state.save_snapshot(&path).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            format!("cannot write {}: {e}", path.display()),
        )
    })?;
    Ok(Json(json!({ "saved": path.display().to_string() })).into_response())
}

async fn finish(State(state): State<SandboxState>, Path(contact_id): Path<String>) -> ApiResult {
    let mut data = lock(&state.0.data);
    let mut finished = 0;
    for e in data
        .enrollments
        .iter_mut()
        .filter(|e| e.active && e.contact_id == contact_id)
    {
        e.active = false;
        finished += 1;
    }
    Ok(Json(json!({ "finished": finished })).into_response())
}

async fn token(State(state): State<SandboxState>, body: Bytes) -> ApiResult {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let Some(app) = &state.0.config.oauth else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "BAD_CLIENT_ID",
            "this sandbox has no OAuth app",
        ));
    };
    if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
        return Err(ApiError::validation("grant_type must be refresh_token"));
    }
    if form.get("client_id") != Some(&app.client_id)
        || form.get("client_secret") != Some(&app.client_secret)
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "BAD_CLIENT_ID",
            "missing or unknown client id or secret",
        ));
    }
    if form.get("refresh_token") != Some(&app.refresh_token) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "BAD_REFRESH_TOKEN",
            "missing or unknown refresh token",
        ));
    }
    let ttl = state.0.config.oauth_access_token_ttl;
    let access = format!("sandbox-oauth-{}", uuid::Uuid::new_v4());
    lock(&state.0.oauth_tokens).insert(access.clone(), now_ms() + ttl.as_millis() as i64);
    lock(&state.0.stats).oauth_refreshes += 1;
    Ok(Json(json!({ "access_token": access, "refresh_token": app.refresh_token, "expires_in": ttl.as_secs(), "token_type": "bearer" })).into_response())
}
