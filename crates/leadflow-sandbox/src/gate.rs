//! The gate every request passes: latency, authentication and scopes, rate limits, faults,
//! HubSpot's headers, counters and traffic recording.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
use crate::state::{canonical_type, now_ms};
use crate::{SandboxState, lock};

/// Which budget a request spends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Budget {
    Standard,
    Search,
    Exempt,
}

fn budget(method: &Method, path: &str) -> Budget {
    if method == Method::POST && path.ends_with("/search") && path.starts_with("/crm/v3/objects/") {
        Budget::Search
    } else if path.starts_with("/crm/v4/associations/") && path.contains("/batch/") {
        Budget::Exempt
    } else {
        Budget::Standard
    }
}

/// The scope a request needs, per `hubspot-facts.md` §1.
fn required_scope(method: &Method, path: &str) -> Option<String> {
    let seg: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let read = method == Method::GET || path.ends_with("/search") || path.ends_with("/batch/read");
    let object_scope = |t: &str, read: bool| -> Option<String> {
        let t = canonical_type(t)?;
        let obj = if t == "tasks" { "contacts" } else { t };
        Some(format!(
            "crm.objects.{obj}.{}",
            if read { "read" } else { "write" }
        ))
    };
    match seg.as_slice() {
        ["crm", "v3", "objects", t, ..] => object_scope(t, read),
        ["crm", "v3", "properties", t, ..] => {
            if read {
                object_scope(t, true)
            } else {
                let t = canonical_type(t)?;
                Some(format!(
                    "crm.schemas.{}.write",
                    if t == "tasks" { "contacts" } else { t }
                ))
            }
        }
        ["crm", "v3", "property-validations", t, ..] => {
            let t = canonical_type(t)?;
            if read {
                object_scope(t, true)
            } else {
                Some(format!("crm.schemas.{t}.write"))
            }
        }
        ["crm", "v3", "pipelines", ..] => Some(if read {
            "crm.objects.deals.read".to_owned()
        } else {
            "crm.schemas.deals.write".to_owned()
        }),
        ["crm", "v3", "owners", ..] => Some("crm.objects.owners.read".to_owned()),
        ["crm", "v4", "objects", t, ..] | ["crm", "v4", "associations", t, ..] => {
            object_scope(t, read)
        }
        ["crm", "v3", "lists", ..] => Some(if read {
            "crm.lists.read".to_owned()
        } else {
            "crm.lists.write".to_owned()
        }),
        ["automation", "v4", "sequences", "enrollments"] if method == Method::POST => {
            Some("automation.sequences.enrollments.write".to_owned())
        }
        ["automation", "v4", "sequences", ..] => Some("automation.sequences.read".to_owned()),
        _ => None,
    }
}

fn auth_error(category: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, category, message)
}

fn check_auth(state: &SandboxState, req: &Request) -> Result<(), ApiError> {
    let header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(token) = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Err(auth_error(
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        ));
    };
    if let Some(expires) = lock(&state.0.oauth_tokens).get(token).copied() {
        if expires < now_ms() {
            return Err(auth_error(
                "EXPIRED_AUTHENTICATION",
                "The OAuth token used to make this call expired.",
            ));
        }
        return Ok(());
    }
    let grants = &state.0.config.tokens;
    if grants.is_empty() && state.0.config.oauth.is_none() {
        return Ok(());
    }
    let Some(grant) = grants.iter().find(|g| g.token == token) else {
        return Err(auth_error(
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found or invalid.",
        ));
    };
    if let (Some(scopes), Some(needed)) = (
        &grant.scopes,
        required_scope(req.method(), req.uri().path()),
    ) {
        let needs_read_too = needed == "crm.lists.write";
        let missing = !scopes.contains(&needed)
            || (needs_read_too && !scopes.iter().any(|s| s == "crm.lists.read"));
        if missing {
            let mut e = ApiError::new(
                StatusCode::FORBIDDEN,
                "MISSING_SCOPES",
                format!("This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes. Missing: {needed}"),
            )
            .with_errors(vec![json!({ "message": format!("One or more of the following scopes are required: {needed}"), "context": { "requiredGranularScopes": [needed] } })]);
            e.extra
                .push(("context", json!({ "requiredGranularScopes": [needed] })));
            return Err(e);
        }
    }
    Ok(())
}

/// Counts the request against the limits; the 429 when a limit is reached.
fn check_limits(state: &SandboxState, budget: Budget) -> Result<Option<(u32, u64)>, ApiError> {
    let limits = &state.0.config.limits;
    let now = tokio::time::Instant::now();
    let mut rate = lock(&state.0.rate);
    if rate.daily >= limits.daily {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITS",
            "You have reached your daily limit.",
        );
        e.extra = vec![
            ("errorType", json!("RATE_LIMIT")),
            ("policyName", json!("DAILY")),
        ];
        return Err(e);
    }
    let remaining = match budget {
        Budget::Search => {
            while rate
                .search
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
            {
                rate.search.pop_front();
            }
            if rate.search.len() as u64 >= u64::from(limits.search_per_second) {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RATE_LIMITS",
                    "You have reached your secondly limit.",
                );
                e.extra = vec![
                    ("errorType", json!("RATE_LIMIT")),
                    ("policyName", json!("SECONDLY")),
                ];
                return Err(e);
            }
            rate.search.push_back(now);
            None
        }
        Budget::Standard => {
            while rate
                .burst
                .front()
                .is_some_and(|t| now.duration_since(*t) >= limits.window)
            {
                rate.burst.pop_front();
            }
            if rate.burst.len() as u64 >= u64::from(limits.burst) {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RATE_LIMITS",
                    "You have reached your ten_secondly_rolling limit.",
                );
                e.extra = vec![
                    ("errorType", json!("RATE_LIMIT")),
                    ("policyName", json!("TEN_SECONDLY_ROLLING")),
                    (
                        "groupName",
                        json!(format!(
                            "publicapi:private-app-ten-secondly:{}",
                            state.0.config.portal_id
                        )),
                    ),
                ];
                return Err(e);
            }
            rate.burst.push_back(now);
            Some(limits.burst.saturating_sub(rate.burst.len() as u32))
        }
        Budget::Exempt => None,
    };
    rate.daily += 1;
    Ok(remaining.map(|r| (r, limits.daily.saturating_sub(rate.daily))))
}

fn reset_response() -> Response {
    // Headers go out, then the body fails: the client sees the connection break.
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected reset",
        ))
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_default()
}

fn injected(state: &SandboxState) -> Option<Result<Response, Duration>> {
    let f = lock(&state.0.faults).clone();
    let roll = |p: f64| p > 0.0 && fastrand::f64() < p;
    if roll(f.rate_reset) {
        return Some(Ok(reset_response()));
    }
    if roll(f.rate_timeout) {
        return Some(Err(Duration::from_secs(60)));
    }
    if roll(f.rate_429) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITS",
            "You have reached your ten_secondly_rolling limit.",
        );
        e.extra = vec![
            ("errorType", json!("RATE_LIMIT")),
            ("policyName", json!("TEN_SECONDLY_ROLLING")),
        ];
        return Some(Ok(e.into_response()));
    }
    for (p, status, category) in [
        (
            f.rate_500,
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
        ),
        (f.rate_502, StatusCode::BAD_GATEWAY, "BAD_GATEWAY"),
        (
            f.rate_503,
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
        ),
    ] {
        if roll(p) {
            return Some(Ok(ApiError::new(
                status,
                category,
                "Injected fault: the sandbox failed this request on purpose.",
            )
            .into_response()));
        }
    }
    None
}

/// The middleware.
pub(crate) async fn gate(State(state): State<SandboxState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/__sandbox") || path == "/oauth/v1/token" {
        return next.run(req).await;
    }
    let method = req.method().clone();
    let query = req.uri().query().map(str::to_owned);
    let latency = lock(&state.0.faults).latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let record = state.0.config.record_traffic;
    let (req, request_body) = if record {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, 16 << 20)
            .await
            .unwrap_or_default();
        let copy = (!bytes.is_empty()).then(|| bytes.to_vec());
        (Request::from_parts(parts, Body::from(bytes)), copy)
    } else {
        (req, None)
    };
    let b = budget(&method, &path);
    let mut rate_headers = None;
    // A request HubSpot cannot tie to an app spends no budget and says nothing about it.
    let mut authenticated = true;
    let mut response = match check_auth(&state, &req) {
        Err(e) => {
            authenticated = false;
            e.into_response()
        }
        Ok(()) => match check_limits(&state, b) {
            Err(e) => {
                lock(&state.0.stats).rate_limited += 1;
                e.into_response()
            }
            Ok(headers) => {
                rate_headers = headers;
                match injected(&state) {
                    Some(Ok(r)) => {
                        lock(&state.0.stats).injected_faults += 1;
                        r
                    }
                    Some(Err(wait)) => {
                        lock(&state.0.stats).injected_faults += 1;
                        tokio::time::sleep(wait).await;
                        ApiError::new(StatusCode::GATEWAY_TIMEOUT, "TIMEOUT", "Injected timeout.")
                            .into_response()
                    }
                    None => next.run(req).await,
                }
            }
        },
    };
    let headers = response.headers_mut();
    headers.insert(
        "x-hubspot-correlation-id",
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
            .unwrap_or(HeaderValue::from_static("-")),
    );
    if b != Budget::Search && authenticated {
        let limits = &state.0.config.limits;
        let (remaining, daily_remaining) =
            rate_headers.unwrap_or((0, limits.daily.saturating_sub(lock(&state.0.rate).daily)));
        let secondly =
            (f64::from(limits.burst) / limits.window.as_secs_f64().max(0.001)).ceil() as u64;
        for (name, value) in [
            ("x-hubspot-ratelimit-daily", limits.daily.to_string()),
            (
                "x-hubspot-ratelimit-daily-remaining",
                daily_remaining.to_string(),
            ),
            (
                "x-hubspot-ratelimit-interval-milliseconds",
                limits.window.as_millis().to_string(),
            ),
            ("x-hubspot-ratelimit-max", limits.burst.to_string()),
            ("x-hubspot-ratelimit-remaining", remaining.to_string()),
            ("x-hubspot-ratelimit-secondly", secondly.to_string()),
            (
                "x-hubspot-ratelimit-secondly-remaining",
                secondly.min(u64::from(remaining)).to_string(),
            ),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        }
    }
    let status = response.status().as_u16();
    {
        let mut stats = lock(&state.0.stats);
        stats.requests += 1;
        *stats.by_status.entry(status).or_default() += 1;
    }
    if record {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 64 << 20)
            .await
            .unwrap_or_default();
        lock(&state.0.traffic).push(crate::Exchange {
            method: method.to_string(),
            path,
            query,
            request_body,
            status,
            response_body: bytes.to_vec(),
        });
        response = Response::from_parts(parts, Body::from(bytes));
    }
    response
}

/// Unknown paths: HubSpot's 404 shape.
pub(crate) async fn not_found(req: Request) -> Response {
    ApiError::not_found(format!(
        "No route for {} {}",
        req.method(),
        req.uri().path()
    ))
    .into_response()
}
