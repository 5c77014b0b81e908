//! A local HubSpot: the endpoints leadflow uses, with HubSpot's validation, error bodies,
//! paging, search semantics, rate limits, sequences, lists, associations, OAuth, scopes,
//! signed webhook deliveries, and fault injection, so everything runs and is tested
//! offline.
//!
//! Start it in-process with [`Sandbox::spawn`] (port 0, for tests), or as a server with
//! [`Sandbox::run`] (`leadflow sandbox --port 8089`). [`SandboxState`] lets tests seed data,
//! set faults and read counters and recorded traffic directly; the same controls are
//! under `/__sandbox/` over HTTP.
//!
//! **Boundary.** This crate does not depend on leadflow's client: it is written from
//! HubSpot's documents (`hubspot-facts.md`, the OpenAPI files) and is an independent check
//! of the wire format. It keeps everything in memory (optionally a JSON snapshot file).

mod admin;
mod assoc;
mod config;
mod error;
mod gate;
mod lists;
mod objects;
mod schema;
mod seed;
mod sequences;
mod state;
mod webhooks;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use tokio::sync::mpsc;

pub use config::{Faults, Limits, OAuthClient, SandboxConfig, Seed, TokenGrant};
pub use state::{Exchange, Stats};

use state::Data;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a handler panicked mid-request; the data is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The rolling windows of the rate limiter.
#[derive(Debug, Default)]
pub(crate) struct RateState {
    pub(crate) burst: VecDeque<tokio::time::Instant>,
    pub(crate) search: VecDeque<tokio::time::Instant>,
    pub(crate) daily: u64,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    pub(crate) data: Mutex<Data>,
    pub(crate) rate: Mutex<RateState>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) stats: Mutex<Stats>,
    pub(crate) traffic: Mutex<Vec<Exchange>>,
    /// OAuth access tokens issued, with their expiry (unix ms).
    pub(crate) oauth_tokens: Mutex<HashMap<String, i64>>,
    /// Webhook events waiting for the deliverer.
    pub(crate) events: mpsc::UnboundedSender<serde_json::Value>,
}

/// A handle on the sandbox's state: seed it, fault it, read it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SandboxState(pub(crate) Arc<Shared>);

/// A sandbox running in the background.
#[derive(Debug)]
pub struct SandboxHandle {
    addr: SocketAddr,
    state: SandboxState,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl SandboxHandle {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its state.
    pub fn state(&self) -> &SandboxState {
        &self.state
    }

    /// Stops it (saving the snapshot when configured).
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// The sandbox.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// Starts a sandbox on `127.0.0.1:0` in the background.
    ///
    /// # Errors
    /// When no port can be bound or the snapshot cannot be read.
    pub async fn spawn(config: SandboxConfig) -> std::io::Result<SandboxHandle> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (state, events) = SandboxState::new(config)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let s = state.clone();
        let task = tokio::spawn(async move {
            serve(listener, s, events, async {
                let _ = stopped.await;
            })
            .await
        });
        Ok(SandboxHandle {
            addr,
            state,
            stop,
            task,
        })
    }

    /// Serves on `listener` until `shutdown` completes.
    ///
    /// # Errors
    /// When serving fails or the snapshot cannot be read or written.
    pub async fn run(
        listener: tokio::net::TcpListener,
        config: SandboxConfig,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (state, events) = SandboxState::new(config)?;
        serve(listener, state, events, shutdown).await
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    state: SandboxState,
    events: mpsc::UnboundedReceiver<serde_json::Value>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let deliverer = tokio::spawn(webhooks::deliver(state.clone(), events, stop_rx));
    let app = router(state.clone());
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    let _ = stop_tx.send(true);
    deliverer.abort();
    if let Some(path) = &state.0.config.snapshot {
        state.save_snapshot(path)?;
    }
    result
}

fn router(state: SandboxState) -> Router {
    Router::new()
        .merge(objects::routes())
        .merge(schema::routes())
        .merge(assoc::routes())
        .merge(lists::routes())
        .merge(sequences::routes())
        .merge(webhooks::routes())
        .merge(admin::routes())
        .fallback(gate::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::gate,
        ))
        .with_state(state)
}

impl SandboxState {
    fn new(
        config: SandboxConfig,
    ) -> std::io::Result<(Self, mpsc::UnboundedReceiver<serde_json::Value>)> {
        let mut data = match &config.snapshot {
            Some(path) if path.exists() => {
                let text = std::fs::read_to_string(path)?;
                serde_json::from_str::<Data>(&text).map_err(|e| {
                    std::io::Error::other(format!(
                        "snapshot {} is not a sandbox snapshot: {e}",
                        path.display()
                    ))
                })?
            }
            _ => seed::build(config.seed),
        };
        data.reindex();
        let (tx, rx) = mpsc::unbounded_channel();
        let faults = config.faults.clone();
        let shared = Shared {
            config,
            data: Mutex::new(data),
            rate: Mutex::new(RateState::default()),
            faults: Mutex::new(faults),
            stats: Mutex::new(Stats::default()),
            traffic: Mutex::new(Vec::new()),
            oauth_tokens: Mutex::new(HashMap::new()),
            events: tx,
        };
        Ok((Self(Arc::new(shared)), rx))
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.0.faults) = faults;
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        lock(&self.0.faults).clone()
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        let mut s = lock(&self.0.stats).clone();
        s.daily_used = lock(&self.0.rate).daily;
        s
    }

    /// Zeroes the counters (not the daily budget).
    pub fn reset_stats(&self) {
        *lock(&self.0.stats) = Stats::default();
    }

    /// Every exchange recorded (with `record_traffic`).
    pub fn traffic(&self) -> Vec<Exchange> {
        lock(&self.0.traffic).clone()
    }

    /// Forgets the recorded exchanges.
    pub fn clear_traffic(&self) {
        lock(&self.0.traffic).clear();
    }

    /// Adds `n` realistic contacts with unique emails, quickly; returns their ids.
    pub fn seed_contacts(&self, n: usize, rng_seed: u64) -> Vec<String> {
        seed::contacts(&mut lock(&self.0.data), n, rng_seed)
    }

    /// Live records of a type.
    pub fn count(&self, object_type: &str) -> usize {
        let data = lock(&self.0.data);
        let t = state::canonical_type(object_type).unwrap_or("contacts");
        data.records.get(t).map_or(0, |m| {
            m.values()
                .filter(|r| !r.archived && r.merged_into.is_none())
                .count()
        })
    }

    /// A record as the API shows it, with all its properties.
    pub fn record(&self, object_type: &str, id: &str) -> Option<serde_json::Value> {
        let data = lock(&self.0.data);
        let t = state::canonical_type(object_type)?;
        let r = data.live(t, id.parse().ok()?)?;
        Some(objects::render(t, r, None, true))
    }

    /// Every sequence enrollment ever made.
    pub fn enrollments(&self) -> Vec<serde_json::Value> {
        let data = lock(&self.0.data);
        data.enrollments
            .iter()
            .map(|e| {
                serde_json::json!({
                    "id": e.id, "contactId": e.contact_id, "sequenceId": e.sequence_id,
                    "senderEmail": e.sender_email, "userId": e.user_id, "active": e.active,
                })
            })
            .collect()
    }

    /// Writes the whole state to `path` as JSON.
    ///
    /// # Errors
    /// The IO error.
    pub fn save_snapshot(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string(&*lock(&self.0.data)).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)
    }
}
