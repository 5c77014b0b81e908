//! The workflow engine: the spec's workflows (and its data-sync flows) run over the store,
//! with every HubSpot write done exactly once.
//!
//! - `eval`: a pure function (workflows, signal, contact, today) → runs and their intended
//!   actions; what workflow tests and dry runs call.
//!
//! This crate knows the configuration, the store and the client; it knows nothing about
//! HTTP servers or the command line.

pub mod eval;

pub use eval::{CompileError, Evaluator, Intended, Run, Signal, Step, Subject};
