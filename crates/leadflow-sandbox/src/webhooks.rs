//! Webhooks: the management API (settings, subscriptions), event generation, and the
//! deliverer that POSTs signed batches of up to 100 events and retries failures.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::error::{ApiError, ApiResult, parse};
use crate::state::{Data, SubscriptionDef, WebhookSettings, iso, now_ms};
use crate::{SandboxState, lock};

pub(crate) fn routes() -> Router<SandboxState> {
    Router::new()
        .route(
            "/webhooks/v3/{app_id}/settings",
            get(get_settings).put(put_settings).delete(delete_settings),
        )
        .route(
            "/webhooks/v3/{app_id}/subscriptions",
            get(list_subscriptions).post(create_subscription),
        )
        .route(
            "/webhooks/v3/{app_id}/subscriptions/batch/update",
            post(batch_update),
        )
        .route(
            "/webhooks/v3/{app_id}/subscriptions/{subscription_id}",
            get(get_subscription)
                .patch(update_subscription)
                .delete(delete_subscription),
        )
}

const EVENT_TYPES: [&str; 18] = [
    "contact.creation",
    "contact.deletion",
    "contact.propertyChange",
    "contact.associationChange",
    "contact.merge",
    "contact.restore",
    "company.creation",
    "company.deletion",
    "company.propertyChange",
    "company.associationChange",
    "company.merge",
    "company.restore",
    "deal.creation",
    "deal.deletion",
    "deal.propertyChange",
    "deal.associationChange",
    "deal.merge",
    "deal.restore",
];

/// An event for `kind` on `object_id`, when the app subscribes to it.
pub(crate) fn event(
    data: &mut Data,
    kind: &str,
    object_id: u64,
    property: Option<(&str, &str)>,
    extra: Value,
) -> Option<Value> {
    data.webhook_settings.as_ref()?;
    let sub = data.subscriptions.iter().find(|s| {
        s.active
            && s.event_type == kind
            && (kind.ends_with(".propertyChange") == s.property_name.is_some())
            && s.property_name
                .as_deref()
                .is_none_or(|p| Some(p) == property.map(|x| x.0))
    })?;
    let sub_id = sub.id;
    data.next_event_id += 1;
    let mut e = json!({
        "eventId": data.next_event_id, "subscriptionId": sub_id, "occurredAt": now_ms(), "subscriptionType": kind,
        "attemptNumber": 0, "objectId": object_id, "changeSource": "API", "sourceId": "sandbox",
    });
    if let Some((name, value)) = property {
        e["propertyName"] = json!(name);
        e["propertyValue"] = json!(value);
    }
    if let Value::Object(x) = extra {
        for (k, v) in x {
            e[k] = v;
        }
    }
    Some(e)
}

fn render_subscription(s: &SubscriptionDef) -> Value {
    let mut v = json!({ "id": s.id.to_string(), "eventType": s.event_type, "active": s.active, "createdAt": iso(s.created), "updatedAt": iso(s.created) });
    if let Some(p) = &s.property_name {
        v["propertyName"] = json!(p);
    }
    v
}

fn render_settings(s: &WebhookSettings) -> Value {
    json!({ "targetUrl": s.target_url, "throttling": { "maxConcurrentRequests": s.max_concurrent, "period": "SECONDLY" }, "createdAt": iso(s.created), "updatedAt": iso(s.created) })
}

fn check_app(state: &SandboxState, app: &str) -> Result<(), ApiError> {
    if app == state.0.config.app_id.to_string() {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("app {app} does not exist")))
    }
}

async fn get_settings(State(state): State<SandboxState>, Path(app): Path<String>) -> ApiResult {
    check_app(&state, &app)?;
    let data = lock(&state.0.data);
    let s = data
        .webhook_settings
        .as_ref()
        .ok_or_else(|| ApiError::not_found("no webhook settings"))?;
    Ok(Json(render_settings(s)).into_response())
}

async fn put_settings(
    State(state): State<SandboxState>,
    Path(app): Path<String>,
    body: Bytes,
) -> ApiResult {
    check_app(&state, &app)?;
    let body: Value = parse(&body)?;
    let Some(url) = body["targetUrl"].as_str() else {
        return Err(ApiError::validation("targetUrl is required"));
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ApiError::validation(format!(
            "targetUrl {url:?} is not a URL"
        )));
    }
    let max = body["throttling"]["maxConcurrentRequests"]
        .as_i64()
        .unwrap_or(10);
    let mut data = lock(&state.0.data);
    let s = WebhookSettings {
        target_url: url.to_owned(),
        max_concurrent: max,
        created: now_ms(),
    };
    let v = render_settings(&s);
    data.webhook_settings = Some(s);
    Ok(Json(v).into_response())
}

async fn delete_settings(State(state): State<SandboxState>, Path(app): Path<String>) -> ApiResult {
    check_app(&state, &app)?;
    lock(&state.0.data).webhook_settings = None;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_subscriptions(
    State(state): State<SandboxState>,
    Path(app): Path<String>,
) -> ApiResult {
    check_app(&state, &app)?;
    let data = lock(&state.0.data);
    Ok(Json(json!({ "results": data.subscriptions.iter().map(render_subscription).collect::<Vec<_>>() })).into_response())
}

async fn create_subscription(
    State(state): State<SandboxState>,
    Path(app): Path<String>,
    body: Bytes,
) -> ApiResult {
    check_app(&state, &app)?;
    let body: Value = parse(&body)?;
    let Some(kind) = body["eventType"].as_str() else {
        return Err(ApiError::validation("eventType is required"));
    };
    if !EVENT_TYPES.contains(&kind) {
        return Err(ApiError::validation(format!(
            "{kind} is not an event type the sandbox sends"
        )));
    }
    let property = body["propertyName"].as_str().map(str::to_owned);
    if kind.ends_with(".propertyChange") && property.is_none() {
        return Err(ApiError::validation(
            "propertyChange subscriptions need propertyName",
        ));
    }
    let mut data = lock(&state.0.data);
    if data.subscriptions.len() >= 1000 {
        return Err(ApiError::validation(
            "Couldn't create another subscription. You've reached the maximum number allowed per application (1000).",
        ));
    }
    data.next_subscription_id += 1;
    let s = SubscriptionDef {
        id: data.next_subscription_id,
        event_type: kind.to_owned(),
        property_name: property,
        active: body["active"].as_bool().unwrap_or(false),
        created: now_ms(),
    };
    let v = render_subscription(&s);
    data.subscriptions.push(s);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

fn sub_index(data: &Data, id: &str) -> Result<usize, ApiError> {
    data.subscriptions
        .iter()
        .position(|s| s.id.to_string() == id)
        .ok_or_else(|| {
            ApiError::not_found(format!("subscription {id} does not exist"))
                .sub("SUBSCRIPTION_ID_NOT_FOUND")
        })
}

async fn get_subscription(
    State(state): State<SandboxState>,
    Path((app, id)): Path<(String, String)>,
) -> ApiResult {
    check_app(&state, &app)?;
    let data = lock(&state.0.data);
    let i = sub_index(&data, &id)?;
    Ok(Json(render_subscription(&data.subscriptions[i])).into_response())
}

async fn update_subscription(
    State(state): State<SandboxState>,
    Path((app, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    check_app(&state, &app)?;
    let body: Value = parse(&body)?;
    let mut data = lock(&state.0.data);
    let i = sub_index(&data, &id)?;
    if let Some(a) = body["active"].as_bool() {
        data.subscriptions[i].active = a;
    }
    Ok(Json(render_subscription(&data.subscriptions[i])).into_response())
}

async fn delete_subscription(
    State(state): State<SandboxState>,
    Path((app, id)): Path<(String, String)>,
) -> ApiResult {
    check_app(&state, &app)?;
    let mut data = lock(&state.0.data);
    let i = sub_index(&data, &id)?;
    data.subscriptions.remove(i);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn batch_update(
    State(state): State<SandboxState>,
    Path(app): Path<String>,
    body: Bytes,
) -> ApiResult {
    check_app(&state, &app)?;
    let body: Value = parse(&body)?;
    let started = now_ms();
    let mut data = lock(&state.0.data);
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    for input in body["inputs"].as_array().into_iter().flatten() {
        let id = input["id"]
            .as_u64()
            .map(|n| n.to_string())
            .or_else(|| input["id"].as_str().map(str::to_owned))
            .unwrap_or_default();
        match sub_index(&data, &id) {
            Ok(i) => {
                if let Some(a) = input["active"].as_bool() {
                    data.subscriptions[i].active = a;
                }
                results.push(render_subscription(&data.subscriptions[i]));
            }
            Err(e) => errors.push(crate::objects::standard_error(
                e.category,
                &e.message,
                json!({ "ids": [id] }),
            )),
        }
    }
    Ok(crate::objects::batch_answer(
        StatusCode::OK,
        results,
        errors,
        started,
    ))
}

/// Signs a body the way HubSpot does: v1 hex, and v3 base64 HMAC.
fn signatures(secret: &str, url: &str, body: &[u8], timestamp: &str) -> (String, String) {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update(body);
    let v1 = hex::encode(h.finalize());
    let v3 = match <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(b"POST");
            mac.update(url.as_bytes());
            mac.update(body);
            mac.update(timestamp.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    (v1, v3)
}

/// How many times a failed delivery is retried: HubSpot retries up to 10 times over 24 h
/// (`hubspot-facts.md` §11), so a batch is attempted at most 11 times.
pub(crate) const WEBHOOK_RETRIES: u32 = 10;

/// The wait before retry number `retry` (1-based): `base × 2^(retry-1)`, spread by
/// `random` (a draw in `[0, 1)`) over `[0.75, 1.25)` of that, so that batches that failed
/// together are not retried together. With the default base the ten retries span about a
/// day, as HubSpot's do.
pub(crate) fn retry_delay(base: Duration, retry: u32, random: f64) -> Duration {
    let doubling = 2u32.saturating_pow(retry.saturating_sub(1).min(20));
    (base * doubling).mul_f64(0.75 + 0.5 * random.clamp(0.0, 1.0))
}

/// How many deliveries may be in flight at once, and a signal when one ends.
#[derive(Default)]
struct Slots {
    in_flight: std::sync::Mutex<usize>,
    freed: tokio::sync::Notify,
}

async fn send_batch(state: SandboxState, http: reqwest::Client, mut events: Vec<Value>) {
    for attempt in 0..=WEBHOOK_RETRIES {
        let Some(url) = lock(&state.0.data)
            .webhook_settings
            .as_ref()
            .map(|s| s.target_url.clone())
        else {
            return;
        };
        for e in &mut events {
            e["attemptNumber"] = json!(attempt);
            e["portalId"] = json!(state.0.config.portal_id);
            e["appId"] = json!(state.0.config.app_id);
        }
        let body = serde_json::to_vec(&events).unwrap_or_default();
        let ts = now_ms().to_string();
        let (v1, v3) = signatures(&state.0.config.client_secret, &url, &body, &ts);
        let sent = http
            .post(&url)
            .header("content-type", "application/json")
            .header("x-hubspot-signature", v1)
            .header("x-hubspot-signature-version", "v1")
            .header("x-hubspot-signature-v3", v3)
            .header("x-hubspot-request-timestamp", ts)
            .body(body)
            .send()
            .await;
        // Only a 2xx counts as delivered; HubSpot retries any 4xx or 5xx, a refused
        // connection and no answer within 5 s.
        match sent {
            Ok(r) if r.status().is_success() => {
                lock(&state.0.stats).webhook_deliveries += 1;
                return;
            }
            _ => {
                lock(&state.0.stats).webhook_failures += 1;
                if attempt < WEBHOOK_RETRIES {
                    let wait = retry_delay(
                        state.0.config.webhook_retry_base,
                        attempt + 1,
                        fastrand::f64(),
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
    lock(&state.0.stats).webhook_abandoned += 1;
}

/// At most `maxConcurrentRequests` of the settings (HubSpot: at most 10) deliveries in
/// flight; the next batch waits for a slot.
fn max_in_flight(state: &SandboxState) -> usize {
    lock(&state.0.data)
        .webhook_settings
        .as_ref()
        .map_or(10, |s| s.max_concurrent.clamp(1, 10) as usize)
}

/// The deliverer: batches pending events (at most 100) and sends them, as many at once as
/// the settings' `maxConcurrentRequests` allows.
pub(crate) async fn deliver(
    state: SandboxState,
    mut events: mpsc::UnboundedReceiver<Value>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Ok(http) = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
    else {
        return;
    };
    let slots = std::sync::Arc::new(Slots::default());
    loop {
        let first = tokio::select! {
            e = events.recv() => e,
            _ = stop.changed() => None,
        };
        let Some(first) = first else { return };
        let mut batch = vec![first];
        while batch.len() < 100 {
            match events.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        let drop_rate = lock(&state.0.faults).webhook_drop_rate;
        if drop_rate > 0.0 && fastrand::f64() < drop_rate {
            lock(&state.0.stats).webhook_dropped += 1;
            continue;
        }
        loop {
            // Registered before the check, so a slot freed in between is not missed.
            let freed = slots.freed.notified();
            {
                let mut n = lock(&slots.in_flight);
                if *n < max_in_flight(&state) {
                    *n += 1;
                    break;
                }
            }
            lock(&state.0.stats).webhook_waiting = 1;
            tokio::select! {
                _ = freed => {}
                _ = stop.changed() => return,
            }
        }
        lock(&state.0.stats).webhook_waiting = 0;
        let (s, h, slots) = (state.clone(), http.clone(), slots.clone());
        tokio::spawn(async move {
            send_batch(s, h, batch).await;
            *lock(&slots.in_flight) -= 1;
            slots.freed.notify_waiters();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_retries_spread_over_about_a_day_by_default() {
        let base = crate::SandboxConfig::default().webhook_retry_base;
        let total =
            |r: f64| -> Duration { (1..=WEBHOOK_RETRIES).map(|k| retry_delay(base, k, r)).sum() };
        let hours = |d: Duration| d.as_secs_f64() / 3600.0;
        assert!(
            (23.0..25.0).contains(&hours(total(0.5))),
            "{:?}",
            total(0.5)
        );
        assert!(hours(total(0.0)) > 17.0 && hours(total(1.0)) < 31.0);
        // Each wait doubles, within the jitter.
        for k in 1..WEBHOOK_RETRIES {
            assert_eq!(retry_delay(base, k + 1, 0.5), retry_delay(base, k, 0.5) * 2);
        }
    }

    #[test]
    fn jitter_spreads_each_wait_by_a_quarter_either_way() {
        let base = Duration::from_secs(100);
        assert_eq!(retry_delay(base, 1, 0.0), Duration::from_secs(75));
        assert_eq!(retry_delay(base, 1, 0.5), Duration::from_secs(100));
        assert!(retry_delay(base, 1, 0.999) < Duration::from_secs(125));
        assert_eq!(retry_delay(base, 3, 0.5), Duration::from_secs(400));
    }
}
