//! Optimisation advice (the spec's monthly optimisation run): what changed month over
//! month, which message strategy answers best per ICP type, whether the deal thresholds in
//! `workflows.yaml` match where meetings come from, and which workflows or sequences
//! stopped converting; each comparison with its sample sizes and a significance test, or
//! "not enough data" when that is the truth.
//!
//! `stats.rs` holds the tests and their minimum sample sizes; `advise.rs` reads the store
//! (through the reports crate's counting and formulas) and builds an [`Advice`];
//! `thresholds.rs` reads the deal thresholds from the loaded workflows and writes a
//! suggested change as a unified diff of `workflows.yaml`; `render.rs` prints an advice as
//! Markdown or as an HTML fragment. `docs/advice.md` writes every rule out.
//!
//! Changes are only suggested: this crate never writes a file, the store or HubSpot. It
//! reads no clock: the month analysed is a parameter.

mod advise;
mod render;
mod stats;
mod thresholds;

pub use advise::{
    Advice, Conversion, ConversionStatus, IcpStrategies, StrategyRate, THRESHOLD_MONTHS, Trend,
    advise,
};
pub use stats::{ALPHA, Evidence, MIN_CONTACTS, MIN_EXPECTED, Rate, Test};
pub use thresholds::{ScoreRate, ThresholdAdvice, ThresholdUse};

/// What can go wrong building advice.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] leadflow_store::Error),
    /// `workflows.yaml` could not be read to write the suggested diff against.
    #[error("cannot read {path} to write the suggested change against it: {source}")]
    ReadWorkflows {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The month's start or end is not a time in the project's time zone, or outside the
    /// calendar.
    #[error("month {month}: {reason}; pass a month such as 2026-11")]
    BadMonth {
        /// The month asked for.
        month: String,
        /// Why it cannot be used.
        reason: String,
    },
}
