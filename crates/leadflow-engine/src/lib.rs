//! The workflow engine: the spec's workflows (and its data-sync flows) run over the store,
//! with every HubSpot write done exactly once.
//!
//! - `eval`: a pure function (workflows, signal, contact, today) → runs and their intended
//!   actions; what workflow tests and dry runs call.
//! - `run`: the store's event log → signals → enrollments and intents in the outbox, one
//!   transaction per run, before any HubSpot call; the time-based trigger's daily check.
//! - `exec`: the outbox → HubSpot, batched per action, each intent exactly once.
//!
//! This crate knows the configuration, the store and the client; it knows nothing about
//! HTTP servers or the command line.

pub mod eval;
pub mod exec;
pub mod history;
pub mod run;

pub use eval::{CompileError, Evaluator, Intended, Run, Signal, Step, Subject};
pub use exec::{ExecReport, Executor, PortalMap};
pub use run::{Engine, IngestReport};

/// Why the engine stopped.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A workflow does not compile.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// A name the workflows use is not in the portal.
    #[error("the workflows name the {what} {name:?}, which the portal does not have (it has: {}); create it, fix workflows.yaml, or run `leadflow sync` if it was just created", candidates.join(", "))]
    Missing {
        /// What kind of thing.
        what: &'static str,
        /// The name used.
        name: String,
        /// What the portal has.
        candidates: Vec<String>,
    },
    /// The store failed.
    #[error("the store failed: {0}")]
    Store(#[from] leadflow_store::Error),
}

pub(crate) fn st(e: leadflow_store::Error) -> EngineError {
    EngineError::Store(e)
}

/// What one pass of the engine did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Events turned into runs.
    pub ingested: IngestReport,
    /// Time-based triggers checked.
    pub ticked: IngestReport,
    /// Intents carried out.
    pub executed: ExecReport,
}

/// One pass: every pending event evaluated, the time-based triggers checked, every due
/// intent carried out.
///
/// # Errors
/// [`EngineError`]; what was recorded stays recorded, and the next pass goes on from there.
pub async fn run_once(
    engine: &Engine,
    client: &leadflow_hubspot::Client,
    store: &leadflow_store::Store,
    map: &PortalMap,
    now: jiff::Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Result<PassReport, EngineError> {
    pass(engine, client, store, map, now, tz, true).await
}

/// One pass, with the time-based check only when `tick` (a long-running process checks
/// those hourly, not on every pass).
///
/// # Errors
/// [`EngineError`]; what was recorded stays recorded.
pub async fn pass(
    engine: &Engine,
    client: &leadflow_hubspot::Client,
    store: &leadflow_store::Store,
    map: &PortalMap,
    now: jiff::Timestamp,
    tz: &jiff::tz::TimeZone,
    tick: bool,
) -> Result<PassReport, EngineError> {
    let today = now.to_zoned(tz.clone()).date();
    let ms = now.as_millisecond();
    let mut report = PassReport::default();
    loop {
        let r = engine.ingest(store, today, ms, 1000).await?;
        let events = r.events;
        report.ingested += r;
        if events == 0 {
            break;
        }
    }
    if tick {
        report.ticked = engine.tick(store, today, ms).await?;
    }
    report.executed = Executor::new(client, store, engine.portal(), map, ms)
        .run()
        .await?;
    Ok(report)
}
