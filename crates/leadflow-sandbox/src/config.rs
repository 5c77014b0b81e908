//! How a sandbox behaves: tokens, limits, faults, seed, time scales.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A token the sandbox accepts, with its scopes (`None`: all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenGrant {
    /// The bearer token.
    pub token: String,
    /// The scopes it has; `None` grants every scope.
    pub scopes: Option<Vec<String>>,
}

/// An OAuth app whose refresh token the sandbox exchanges for access tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthClient {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: String,
    /// The refresh token it accepts.
    pub refresh_token: String,
}

/// HubSpot's limits (Professional tier by default).
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Requests per rolling window.
    pub burst: u32,
    /// The rolling window (10 s at HubSpot; scale it down in tests).
    pub window: Duration,
    /// Search requests per second.
    pub search_per_second: u32,
    /// Requests per day.
    pub daily: u64,
    /// Inputs per batch call.
    pub max_batch_inputs: usize,
    /// Records per list page.
    pub max_list_page: usize,
    /// Records per search page.
    pub max_search_page: usize,
    /// Results a search can page through.
    pub search_result_cap: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            burst: 190,
            window: Duration::from_secs(10),
            search_per_second: 5,
            daily: 625_000,
            max_batch_inputs: 100,
            max_list_page: 100,
            max_search_page: 200,
            search_result_cap: 10_000,
        }
    }
}

/// Injected faults, each a probability per request (admin endpoints excepted).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// An injected `TEN_SECONDLY_ROLLING` 429.
    pub rate_429: f64,
    /// A 500.
    pub rate_500: f64,
    /// A 502.
    pub rate_502: f64,
    /// A 503.
    pub rate_503: f64,
    /// No answer for 60 s, then a 504.
    pub rate_timeout: f64,
    /// The connection is dropped without a complete answer.
    pub rate_reset: f64,
    /// Added to every request.
    pub latency_ms: u64,
    /// A webhook batch is silently dropped.
    pub webhook_drop_rate: f64,
}

/// What the sandbox starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seed {
    /// Owners, the default pipeline, the spec's four sequences, `lead_source`, and a few
    /// hundred outbound contacts, companies, deals and tasks.
    Demo,
    /// HubSpot's own properties and pipeline, nothing else.
    Empty,
}

/// Everything the sandbox is configured with.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Accepted tokens; empty accepts any bearer token.
    pub tokens: Vec<TokenGrant>,
    /// The initial data.
    pub seed: Seed,
    /// The limits.
    pub limits: Limits,
    /// The faults at start.
    pub faults: Faults,
    /// Search sees a write only this long after it happened.
    pub search_index_lag: Duration,
    /// State loaded at start (when the file exists) and saved on shutdown.
    pub snapshot: Option<PathBuf>,
    /// The portal (hub) id.
    pub portal_id: u64,
    /// The app id of the webhook API.
    pub app_id: u64,
    /// The secret that signs webhook deliveries.
    pub client_secret: String,
    /// Keep every exchange for contract tests.
    pub record_traffic: bool,
    /// The first webhook retry delay; each later one doubles, with jitter. HubSpot spreads
    /// 10 retries over a day, which the default (84 s) matches.
    pub webhook_retry_base: Duration,
    /// Lifetime of OAuth access tokens.
    pub oauth_access_token_ttl: Duration,
    /// An OAuth app, for the token endpoint.
    pub oauth: Option<OAuthClient>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            tokens: Vec::new(),
            seed: Seed::Demo,
            limits: Limits::default(),
            faults: Faults::default(),
            search_index_lag: Duration::ZERO,
            snapshot: None,
            portal_id: 62515,
            app_id: 54321,
            client_secret: "sandbox-client-secret".to_owned(),
            record_traffic: false,
            webhook_retry_base: Duration::from_secs(84),
            oauth_access_token_ttl: Duration::from_secs(1800),
            oauth: None,
        }
    }
}
