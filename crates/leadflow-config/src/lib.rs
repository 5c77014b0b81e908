//! leadflow's configuration as code (in progress).
pub mod diag;
pub mod expr;
pub mod node;
pub mod properties;
mod reader;
pub mod values;

pub use diag::Diagnostic;
