//! The request loop every API call goes through: budget, auth, send, classify, retry.
//!
//! A call is described by an [`Endpoint`]: its method and path, which budget it draws
//! on, and whether repeating it is safe. Repeating is safe for reads, updates, upserts and
//! archives. A create is repeated only when HubSpot certainly did not process it (a 429,
//! a 423, or a connection that was never made): after a timeout or a 5xx the outcome is
//! unknown, so the error goes to the caller, which resolves it by reading (or creates
//! through batch upsert on a unique-value property, which is idempotent).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::auth::{Auth, Credentials};
use crate::error::{
    ApiErrorBody, Error, RatePolicy, Result, is_retryable_status, parse_retry_after, snippet,
};
use crate::latency::{LatencyRecorder, LatencySnapshot};
use crate::rate::{Budget, RateGovernor, RateHeaders, RateLimits};
use crate::retry::RetryPolicy;

/// Where and how to reach a portal.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `https://api.hubapi.com`, or the sandbox's address.
    pub base_url: String,
    /// The token, or OAuth credentials.
    pub credentials: Credentials,
    /// The portal's budgets (ignored when a shared governor is given).
    pub limits: RateLimits,
    /// How failed calls are retried.
    pub retry: RetryPolicy,
    /// How long one attempt may take; `Duration::MAX` sets no limit (tests on tokio's
    /// paused clock, which jumps to the next timer whenever it waits on a socket).
    pub timeout: Duration,
    /// How many chunks of a batch call run at once.
    pub batch_concurrency: usize,
}

impl ClientConfig {
    /// HubSpot's production API with a private-app token and Professional-tier budgets.
    pub fn new(base_url: impl Into<String>, credentials: Credentials) -> Self {
        Self {
            base_url: base_url.into(),
            credentials,
            limits: RateLimits::default(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            batch_concurrency: 4,
        }
    }
}

/// The default base URL.
pub const HUBSPOT_API: &str = "https://api.hubapi.com";

/// A HubSpot client for one portal. Cheap to clone; clones share the connection pool,
/// the credentials and the rate governor.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    http: reqwest::Client,
    base_url: String,
    auth: Auth,
    governor: Arc<RateGovernor>,
    retry: RetryPolicy,
    pub(crate) batch_concurrency: usize,
    latency: LatencyRecorder,
}

/// The name of every operation the client calls, as it labels metrics and logs
/// (`endpoint`). One list, checked against the source by a unit test and against the
/// contract test's coverage, so an operation cannot be added without being held to
/// HubSpot's OpenAPI documents.
pub const ENDPOINT_NAMES: &[&str] = &[
    "automation.sequences.enroll",
    "automation.sequences.enrollment_of_contact",
    "automation.sequences.get",
    "automation.sequences.list",
    "crm.associations.batch_archive",
    "crm.associations.batch_create",
    "crm.associations.batch_default",
    "crm.associations.batch_read",
    "crm.associations.default",
    "crm.associations.delete",
    "crm.associations.put",
    "crm.associations.read",
    "crm.lists.by_name",
    "crm.lists.create",
    "crm.lists.memberships.change",
    "crm.lists.memberships.read",
    "crm.lists.search",
    "crm.objects.archive",
    "crm.objects.batch_archive",
    "crm.objects.batch_create",
    "crm.objects.batch_read",
    "crm.objects.batch_update",
    "crm.objects.batch_upsert",
    "crm.objects.create",
    "crm.objects.get",
    "crm.objects.list",
    "crm.objects.search",
    "crm.objects.update",
    "crm.owners.get",
    "crm.owners.list",
    "crm.pipelines.create",
    "crm.pipelines.get",
    "crm.pipelines.list",
    "crm.pipelines.stages.create",
    "crm.properties.archive",
    "crm.properties.batch_create",
    "crm.properties.batch_read",
    "crm.properties.create",
    "crm.properties.get",
    "crm.properties.groups.archive",
    "crm.properties.groups.create",
    "crm.properties.groups.get",
    "crm.properties.groups.list",
    "crm.properties.groups.update",
    "crm.properties.list",
    "crm.properties.update",
    "crm.property_validations.get",
    "crm.property_validations.put",
    "oauth.private_apps.access_token_info",
    "webhooks.settings.put",
    "webhooks.subscriptions.create",
    "webhooks.subscriptions.delete",
    "webhooks.subscriptions.list",
];

/// One API operation: what to call, which budget it spends, whether it may be repeated.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) budget: Budget,
    pub(crate) idempotent: bool,
    /// A stable name for metrics, such as `crm.objects.list`.
    pub(crate) name: &'static str,
}

impl Endpoint {
    pub(crate) fn new(method: Method, path: String, name: &'static str) -> Self {
        let idempotent = method != Method::POST;
        Self {
            method,
            path,
            budget: Budget::Standard,
            idempotent,
            name,
        }
    }

    pub(crate) fn get(path: String, name: &'static str) -> Self {
        Self::new(Method::GET, path, name)
    }

    pub(crate) fn post(path: String, name: &'static str) -> Self {
        Self::new(Method::POST, path, name)
    }

    /// Marks a POST that reads or is otherwise safe to repeat (search, batch read, upsert).
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    pub(crate) fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    fn describe(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A successful answer: status and raw body.
#[derive(Debug)]
pub(crate) struct Raw {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
}

/// Describes a reqwest error with its causes, without the URL's query (which never holds
/// a secret here, but may be long).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut out = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

enum Next {
    Done(Raw),
    Retry { wait: Duration, error: Error },
    Fail(Error),
}

impl Client {
    /// A client with its own rate governor.
    ///
    /// # Errors
    /// [`Error::Config`] when the base URL is not an http(s) URL or the HTTP stack cannot start.
    pub fn new(config: ClientConfig) -> Result<Self> {
        let governor = Arc::new(RateGovernor::new(config.limits.clone()));
        Self::with_governor(config, governor)
    }

    /// A client that shares `governor` with other clients of the same portal.
    ///
    /// # Errors
    /// As [`Client::new`].
    pub fn with_governor(config: ClientConfig, governor: Arc<RateGovernor>) -> Result<Self> {
        let base = url::Url::parse(&config.base_url).map_err(|e| {
            Error::Config(format!("base URL {:?} is not a URL: {e}", config.base_url))
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "base URL {:?} must start with http:// or https://",
                config.base_url
            )));
        }
        // reqwest is built without a default TLS provider; installing ring is idempotent
        // and must precede building any client.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut http = reqwest::Client::builder();
        if config.timeout < Duration::MAX {
            http = http.timeout(config.timeout);
        }
        let http = http
            .pool_max_idle_per_host(16)
            .user_agent(concat!("leadflow/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::Config(format!("cannot build the HTTP client: {}", describe(&e)))
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url: config.base_url.trim_end_matches('/').to_owned(),
                auth: Auth::new(config.credentials),
                governor,
                retry: config.retry,
                batch_concurrency: config.batch_concurrency.max(1),
                latency: LatencyRecorder::default(),
            }),
        })
    }

    /// The rate governor this client paces against.
    pub fn governor(&self) -> &Arc<RateGovernor> {
        &self.inner.governor
    }

    /// Takes the latency of the calls made since the last take (every clone of this
    /// client shares one recorder), for the store's health measurements.
    pub fn take_latency(&self) -> LatencySnapshot {
        self.inner.latency.take()
    }

    /// The portal's base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The live credentials, for the token introspection (`scopes.rs`).
    pub(crate) fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    pub(crate) async fn json<B, T>(
        &self,
        ep: &Endpoint,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let raw = self.call(ep, query, body).await?;
        decode(ep, &raw)
    }

    /// Like [`Client::json`], but a 404 is `None`.
    pub(crate) async fn json_opt<B, T>(
        &self,
        ep: &Endpoint,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<Option<T>>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        match self.call(ep, query, body).await {
            Ok(raw) => decode(ep, &raw).map(Some),
            Err(Error::Api { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends the call, retrying as the policy and HubSpot's answer allow.
    pub(crate) async fn call<B: Serialize + ?Sized>(
        &self,
        ep: &Endpoint,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<Raw> {
        let body = match body {
            Some(b) => Some(Bytes::from(serde_json::to_vec(b).map_err(|e| {
                Error::Config(format!(
                    "cannot encode the request body for {}: {e}",
                    ep.describe()
                ))
            })?)),
            None => None,
        };
        let mut url = format!("{}{}", self.inner.base_url, ep.path);
        if !query.is_empty() {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in query {
                q.append_pair(k, v);
            }
            url.push('?');
            url.push_str(&q.finish());
        }
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if let Err(spent) = self.inner.governor.acquire(ep.budget).await {
                return Err(Error::DailyLimitExhausted {
                    endpoint: ep.describe(),
                    resets_at: Box::new(spent.resets_at),
                });
            }
            let token = self
                .inner
                .auth
                .bearer(&self.inner.http, &self.inner.base_url)
                .await?;
            let mut request = self
                .inner
                .http
                .request(ep.method.clone(), &url)
                .bearer_auth(token.expose());
            if let Some(b) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(b.clone());
            }
            let started = Instant::now();
            let sent = request.send().await;
            let next = match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    match response.bytes().await {
                        Ok(bytes) => {
                            self.record(ep, status, started.elapsed(), &headers);
                            self.classify(ep, attempt, status, &headers, bytes)
                        }
                        Err(e) => {
                            self.record(ep, 0, started.elapsed(), &HeaderMap::new());
                            self.transport_failure(ep, attempt, &e)
                        }
                    }
                }
                Err(e) => {
                    self.record(ep, 0, started.elapsed(), &HeaderMap::new());
                    self.transport_failure(ep, attempt, &e)
                }
            };
            match next {
                Next::Done(raw) => return Ok(raw),
                Next::Fail(error) => return Err(error),
                Next::Retry { wait, error } => {
                    if !self.inner.retry.allows_retry_after(attempt) {
                        return Err(error);
                    }
                    tracing::debug!(endpoint = ep.name, attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying HubSpot call");
                    metrics::counter!("leadflow_hubspot_retries_total", "endpoint" => ep.name)
                        .increment(1);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    fn record(&self, ep: &Endpoint, status: u16, elapsed: Duration, headers: &HeaderMap) {
        let status_label = if status == 0 {
            "error".to_owned()
        } else {
            status.to_string()
        };
        metrics::histogram!("leadflow_hubspot_request_duration_seconds", "endpoint" => ep.name, "status" => status_label.clone())
            .record(elapsed.as_secs_f64());
        metrics::counter!("leadflow_hubspot_requests_total", "endpoint" => ep.name, "status" => status_label).increment(1);
        let rate = read_rate_headers(headers);
        if let Some(r) = rate.remaining {
            metrics::gauge!("leadflow_hubspot_rate_remaining").set(f64::from(r));
        }
        if let Some(r) = rate.daily_remaining {
            metrics::gauge!("leadflow_hubspot_daily_remaining").set(r as f64);
        }
        self.inner
            .latency
            .record(status, elapsed, rate.daily, rate.daily_remaining);
        self.inner.governor.observe(&rate);
        tracing::debug!(
            endpoint = ep.name,
            method = %ep.method,
            path = %ep.path,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            rate_remaining = rate.remaining,
            daily_remaining = rate.daily_remaining,
            correlation_id = headers.get("x-hubspot-correlation-id").and_then(|v| v.to_str().ok()),
            "hubspot call"
        );
    }

    fn classify(
        &self,
        ep: &Endpoint,
        attempt: u32,
        status: u16,
        headers: &HeaderMap,
        bytes: Bytes,
    ) -> Next {
        if (200..300).contains(&status) {
            return Next::Done(Raw {
                status,
                body: bytes,
            });
        }
        let endpoint = ep.describe();
        let body = Box::new(ApiErrorBody::parse(&bytes));
        let retry_after =
            parse_retry_after(headers.get("retry-after").and_then(|v| v.to_str().ok()));
        match status {
            401 => Next::Fail(Error::Authentication { endpoint, body }),
            403 if body.category() == "MISSING_SCOPES" => Next::Fail(Error::MissingScopes {
                endpoint,
                scopes: body.required_scopes(),
                body,
            }),
            429 => {
                let policy = body.policy_name.as_deref().unwrap_or("");
                if policy == "DAILY" {
                    let resets_at = self.inner.governor.daily_exhausted();
                    return Next::Fail(Error::DailyLimitExhausted {
                        endpoint,
                        resets_at: Box::new(resets_at),
                    });
                }
                // Every wait goes through the retry policy, which spreads it upwards by
                // its jitter and never shortens what HubSpot prescribes.
                let retry = &self.inner.retry;
                let (policy, wait) = if policy == "SECONDLY"
                    || ep.budget == Budget::Search
                    || body.message().contains("secondly limit")
                {
                    // HubSpot's own SDK waits a second per attempt on the search limit.
                    let wait =
                        retry.at_least(retry_after.unwrap_or(Duration::from_secs(1) * attempt));
                    (RatePolicy::Secondly, wait)
                } else {
                    let (max, window) = self.inner.governor.burst_budget();
                    // A full rolling window frees a slot every window/max on average; back
                    // off exponentially from a tenth of the window up to the whole window.
                    let base = (window / 10).max(window / max.max(1));
                    let computed = (base * 2u32.saturating_pow(attempt - 1)).min(window);
                    let wait = retry.at_least(retry_after.unwrap_or(computed));
                    self.inner.governor.hold(wait);
                    (RatePolicy::TenSecondly, wait)
                };
                Next::Retry {
                    wait,
                    error: Error::RateLimited {
                        endpoint,
                        policy,
                        attempts: attempt,
                    },
                }
            }
            // HubSpot holds the lock for 2 s: wait at least that long.
            423 => Next::Retry {
                wait: self.inner.retry.at_least(
                    retry_after
                        .unwrap_or_default()
                        .max(Duration::from_secs(2))
                        .max(self.inner.retry.delay(attempt)),
                ),
                error: Error::Api {
                    endpoint,
                    status,
                    body,
                    attempts: attempt,
                },
            },
            _ if is_retryable_status(status) && ep.idempotent => Next::Retry {
                wait: match retry_after {
                    Some(prescribed) => self.inner.retry.at_least(prescribed),
                    None => self.inner.retry.delay(attempt),
                },
                error: Error::Api {
                    endpoint,
                    status,
                    body,
                    attempts: attempt,
                },
            },
            _ => Next::Fail(Error::Api {
                endpoint,
                status,
                body,
                attempts: attempt,
            }),
        }
    }

    fn transport_failure(&self, ep: &Endpoint, attempt: u32, e: &reqwest::Error) -> Next {
        let error = Error::Transport {
            endpoint: ep.describe(),
            message: describe(e),
            timeout: e.is_timeout(),
            attempts: attempt,
        };
        // A refused connection never reached HubSpot, so even a create is safe to repeat.
        if ep.idempotent || (e.is_connect() && !e.is_timeout()) {
            Next::Retry {
                wait: self.inner.retry.delay(attempt),
                error,
            }
        } else {
            Next::Fail(error)
        }
    }
}

impl Client {
    /// Runs a batch call over `inputs` in chunks of 100, `batch_concurrency` chunks at a
    /// time, and gathers every chunk's results and per-input errors.
    ///
    /// A chunk that fails as a whole (HubSpot refuses it, or the retries run out) does not
    /// throw away the chunks that worked: it is reported in
    /// [`BatchOutcome::failed_chunks`](crate::BatchOutcome) with the inputs it held. Only
    /// when no chunk succeeded is the call an `Err` (the first chunk's error), since then
    /// there is nothing to keep.
    pub(crate) async fn batch<I, T, F>(
        &self,
        ep: &Endpoint,
        inputs: &[I],
        body: F,
    ) -> Result<crate::model::BatchOutcome<T>>
    where
        I: Sync,
        T: DeserializeOwned + Send,
        F: Fn(&[I]) -> serde_json::Value + Sync,
    {
        use futures::stream::{self, StreamExt};
        let size = crate::objects::MAX_BATCH_INPUTS;
        // A named async fn per chunk rather than an async block in the closure: the
        // latter makes callers' futures fail rustc's higher-ranked `Send` check.
        let answers: Vec<Result<Option<crate::model::BatchResponse<T>>>> =
            stream::iter(inputs.chunks(size))
                .map(|chunk| self.batch_chunk(ep, body(chunk)))
                .buffered(self.inner.batch_concurrency)
                .collect()
                .await;
        let mut outcome = crate::model::BatchOutcome::default();
        let mut succeeded = answers.is_empty();
        for (n, answer) in answers.into_iter().enumerate() {
            match answer {
                Ok(r) => {
                    succeeded = true;
                    if let Some(r) = r {
                        outcome.absorb(r);
                    }
                }
                Err(error) => outcome.failed_chunks.push(crate::model::FailedChunk {
                    inputs: n * size..((n + 1) * size).min(inputs.len()),
                    error,
                }),
            }
        }
        if !succeeded {
            return Err(outcome.failed_chunks.swap_remove(0).error);
        }
        for chunk in &outcome.failed_chunks {
            tracing::warn!(
                endpoint = ep.name,
                first_input = chunk.inputs.start,
                inputs = chunk.inputs.len(),
                error = %chunk.error,
                "a batch chunk failed; the other chunks' results are kept"
            );
        }
        Ok(outcome)
    }

    async fn batch_chunk<T: DeserializeOwned>(
        &self,
        ep: &Endpoint,
        body: serde_json::Value,
    ) -> Result<Option<crate::model::BatchResponse<T>>> {
        let raw = self.call(ep, &[], Some(&body)).await?;
        if raw.body.is_empty() {
            Ok(None)
        } else {
            decode(ep, &raw).map(Some)
        }
    }
}

fn decode<T: DeserializeOwned>(ep: &Endpoint, raw: &Raw) -> Result<T> {
    serde_json::from_slice(&raw.body).map_err(|source| Error::Decode {
        endpoint: ep.describe(),
        status: raw.status,
        source,
        snippet: snippet(&raw.body),
    })
}

fn read_rate_headers(headers: &HeaderMap) -> RateHeaders {
    fn num<T: std::str::FromStr>(h: &HeaderMap, name: &str) -> Option<T> {
        h.get(name)?.to_str().ok()?.trim().parse().ok()
    }
    RateHeaders {
        max: num(headers, "x-hubspot-ratelimit-max"),
        remaining: num(headers, "x-hubspot-ratelimit-remaining"),
        interval_ms: num(headers, "x-hubspot-ratelimit-interval-milliseconds"),
        daily: num(headers, "x-hubspot-ratelimit-daily"),
        daily_remaining: num(headers, "x-hubspot-ratelimit-daily-remaining"),
    }
}

#[cfg(test)]
mod tests {
    use super::ENDPOINT_NAMES;

    /// The string literals of Rust source `code`, comments, char literals and raw
    /// strings skipped.
    fn string_literals(code: &str) -> Vec<String> {
        let b = code.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let ident_before = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
            if b[i..].starts_with(b"//") {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            } else if b[i] == b'r' && !ident_before && matches!(b.get(i + 1), Some(b'"' | b'#')) {
                let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                i += 2 + hashes;
                while i < b.len() && !b[i..].starts_with(&close) {
                    i += 1;
                }
                i += close.len();
            } else if b[i] == b'\'' {
                // A char literal ('"', '\'') or a lifetime ('a).
                i += match (b.get(i + 1), b.get(i + 2)) {
                    (Some(b'\\'), _) => 4,
                    (Some(_), Some(b'\'')) => 3,
                    _ => 1,
                };
            } else if b[i] == b'"' {
                let mut literal = String::new();
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    if let Some(c) = b.get(i) {
                        literal.push(char::from(*c));
                    }
                    i += 1;
                }
                i += 1;
                out.push(literal);
            } else {
                i += 1;
            }
        }
        out
    }

    /// The string literals of `text` (before its tests) that look like endpoint names.
    fn endpoint_literals(text: &str, out: &mut Vec<String>) {
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for literal in string_literals(code) {
            let looks_like_name = ["crm.", "automation.", "webhooks.", "oauth."]
                .iter()
                .any(|p| literal.starts_with(p))
                && literal
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
            if looks_like_name {
                out.push(literal);
            }
        }
    }

    #[test]
    fn string_literals_skip_comments_chars_and_raw_strings() {
        let code =
            "let a = '\"'; // \"not\" this\nlet b = r#\"no \"x\"\"#; f(\"yes\", \"e\\\"q\");";
        assert_eq!(
            string_literals(code),
            vec!["yes".to_owned(), "e\"q".to_owned()]
        );
    }

    #[test]
    fn endpoint_names_list_exactly_the_endpoints_in_the_source() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut pending = vec![dir];
        let mut found = Vec::new();
        while let Some(d) = pending.pop() {
            for entry in std::fs::read_dir(&d).expect("src is readable") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && path.file_name().is_some_and(|n| n != "transport.rs")
                {
                    let text = std::fs::read_to_string(&path).expect("a source file");
                    endpoint_literals(&text, &mut found);
                }
            }
        }
        found.sort();
        found.dedup();
        let listed: Vec<String> = ENDPOINT_NAMES.iter().map(|s| (*s).to_owned()).collect();
        let mut sorted = listed.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            listed, sorted,
            "ENDPOINT_NAMES is sorted and has no duplicates"
        );
        assert_eq!(
            found, listed,
            "every endpoint name used in the source is in ENDPOINT_NAMES, and only those"
        );
    }
}
