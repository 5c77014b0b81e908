//! leadflow's configuration as code: the spec's YAML, loaded with every problem located.
//!
//! A project is a directory of YAML files (`leadflow.yaml`, `properties.yaml`,
//! `workflows.yaml`, `sync.yaml`, `reports.yaml`, `schedules.yaml`, `scoring.yaml`) whose
//! format follows the spec's own YAML. [`load`] reads them all and returns the project
//! with every problem as a [`Diagnostic`] (file, line, column, message, hint), never
//! stopping at the first. [`init`] writes the spec's configuration and its workflow tests
//! (`tests/*.yaml`, run by `leadflow workflows test`). [`values`] is the one library of
//! typed property values every write path uses.
//!
//! This crate knows nothing about HubSpot's API, the store or the engine: it turns text
//! into checked definitions.

pub mod automation;
pub mod diag;
pub mod expr;
pub mod node;
mod project;
pub mod properties;
mod reader;
pub mod reports;
pub mod settings;
pub mod values;
pub mod workflows;

pub use diag::Diagnostic;
pub use project::{FILES, Project, TEST_FILES, init, load, load_texts};
pub use properties::{PropertyKind, PropertySchema, PropertySpec};
pub use values::{TypedValue, ValueError};
