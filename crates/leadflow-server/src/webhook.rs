//! `POST /webhooks/hubspot`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use leadflow_core::Secret;
use leadflow_hubspot::webhooks::{verify_v1, verify_v3};
use leadflow_store::{Store, WebhookEvent};
use serde_json::{Value, json};

/// How the receiver checks and stores deliveries.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// The portal the events belong to.
    pub portal: String,
    /// The app's client secret, which signs deliveries.
    pub client_secret: Secret,
    /// The public URL HubSpot calls (`https://host/webhooks/hubspot`), which v3 signs.
    /// `None` rebuilds it from the `Host` header (fine without a proxy).
    pub public_url: Option<String>,
    /// Also accept v1 signatures (legacy CRM webhooks send only those).
    pub accept_v1: bool,
    /// The largest body accepted, in bytes.
    pub max_body: usize,
}

impl WebhookConfig {
    /// v3 only, 1 MiB bodies (HubSpot sends at most 100 events per delivery).
    pub fn new(portal: impl Into<String>, client_secret: Secret) -> Self {
        Self {
            portal: portal.into(),
            client_secret,
            public_url: None,
            accept_v1: false,
            max_body: 1 << 20,
        }
    }
}

struct AppState {
    store: Store,
    config: WebhookConfig,
}

/// The router serving `POST /webhooks/hubspot`.
pub fn router(store: Store, config: WebhookConfig) -> Router {
    let limit = config.max_body;
    Router::new()
        .route("/webhooks/hubspot", post(receive))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(Arc::new(AppState { store, config }))
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "code": code, "message": message.into() })),
    )
        .into_response()
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn verify(state: &AppState, headers: &HeaderMap, uri: &Uri, body: &[u8]) -> Result<(), String> {
    let secret = state.config.client_secret.expose();
    if let (Some(sig), Some(ts)) = (
        header(headers, "x-hubspot-signature-v3"),
        header(headers, "x-hubspot-request-timestamp"),
    ) {
        let url = match &state.config.public_url {
            Some(u) => match uri.query() {
                Some(q) => format!("{u}?{q}"),
                None => u.clone(),
            },
            None => format!(
                "https://{}{}",
                header(headers, "host").unwrap_or("localhost"),
                uri.path_and_query().map_or("/", |p| p.as_str())
            ),
        };
        let mut result = verify_v3(secret, "POST", &url, body, ts, sig, now_ms());
        if result.is_err() && state.config.public_url.is_none() {
            let http = url.replacen("https://", "http://", 1);
            result = verify_v3(secret, "POST", &http, body, ts, sig, now_ms());
        }
        return result.map_err(|e| e.to_string());
    }
    if state.config.accept_v1 {
        if let Some(sig) = header(headers, "x-hubspot-signature") {
            return verify_v1(secret, body, sig).map_err(|e| e.to_string());
        }
    }
    Err("the request carries no HubSpot signature".to_owned())
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads a delivery's body (a JSON array of at most 1,000 events) into the events the
/// store keeps; the message says what is wrong with a body it refuses. Public for the
/// fuzzer.
///
/// # Errors
/// What is wrong, for the 400 answer.
pub fn parse_events(body: &[u8]) -> Result<Vec<WebhookEvent>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Array(items) = value else {
        return Err("the body must be a JSON array of events".to_owned());
    };
    if items.len() > 1000 {
        return Err(format!(
            "{} events in one delivery; HubSpot sends at most 100",
            items.len()
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let field = |name: &str| e.get(name).and_then(text);
            let kind = field("subscriptionType")
                .or_else(|| field("eventType"))
                .ok_or(format!("event {i} has no subscriptionType"))?;
            let event_id = field("eventId").ok_or(format!("event {i} has no eventId"))?;
            let occurred_at = e
                .get("occurredAt")
                .and_then(Value::as_i64)
                .ok_or(format!("event {i} has no occurredAt (ms)"))?;
            let object_id = field("objectId")
                .or_else(|| field("primaryObjectId"))
                .or_else(|| field("fromObjectId"))
                .ok_or(format!("event {i} has no objectId"))?;
            let subscription = field("subscriptionId").unwrap_or_default();
            Ok(WebhookEvent {
                key: format!("{subscription}:{event_id}:{occurred_at}"),
                subscription_type: kind,
                object_id,
                occurred_at,
                property_name: field("propertyName"),
                property_value: field("propertyValue"),
                payload: e.to_string(),
            })
        })
        .collect()
}

async fn receive(
    State(state): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(reason) = verify(&state, &headers, &uri, &body) {
        tracing::warn!(reason = %reason, "refused a webhook delivery");
        metrics::counter!("leadflow_webhook_deliveries_total", "outcome" => "unauthorized")
            .increment(1);
        return error(StatusCode::UNAUTHORIZED, "invalid_signature", reason);
    }
    let events = match parse_events(&body) {
        Ok(e) => e,
        Err(reason) => {
            metrics::counter!("leadflow_webhook_deliveries_total", "outcome" => "malformed")
                .increment(1);
            return error(StatusCode::BAD_REQUEST, "malformed_body", reason);
        }
    };
    match state
        .store
        .store_webhook_events(&state.config.portal, &events, now_ms())
        .await
    {
        Ok(outcome) => {
            metrics::counter!("leadflow_webhook_events_total", "outcome" => "stored")
                .increment(outcome.stored as u64);
            metrics::counter!("leadflow_webhook_events_total", "outcome" => "duplicate")
                .increment(outcome.duplicates as u64);
            (
                StatusCode::OK,
                Json(json!({ "stored": outcome.stored, "duplicates": outcome.duplicates })),
            )
                .into_response()
        }
        Err(e) => {
            // HubSpot retries a non-2xx delivery, so nothing is lost.
            tracing::error!(error.message = %e, "could not store a webhook delivery");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the delivery could not be stored; HubSpot will retry it",
            )
        }
    }
}
