//! CSV import of contacts (`leadflow import`): columns mapped to properties, every row
//! validated with the configuration's typed values, good rows upserted by email in
//! batches of 100, and every refused row reported with its row number, column and reason.
//!
//! The work is split in two:
//! - [`read_csv`] is pure: it reads a CSV from any [`std::io::Read`] and, with the
//!   project's [`PropertySchema`](leadflow_config::PropertySchema) and the [`ReadOptions`]
//!   (mapping file, flag values), returns [`Parsed`]: the valid rows (one per email, the
//!   later row winning), the rejected rows with every problem, and warnings. Problems with
//!   the file as a whole (an unknown column, no email column, a header that is not UTF-8)
//!   are an [`Error`] before any row is looked at, so nothing is imported from a file
//!   whose columns are wrong.
//! - [`import`] is the IO: it upserts the valid rows through the HubSpot client and maps
//!   every per-input failure back to its row.
//!
//! [`write_rejected`] writes the refused rows beside the input, so nothing is dropped
//! silently. This crate knows the client and the property schema; it knows nothing of the
//! store, workflows, the terminal or the command line (flags reach it as [`FixedValue`]s).

mod columns;
mod read;
mod rejects;
mod upsert;

pub use columns::{FixedValue, MappingFile, UnknownColumn};
pub use read::{Parsed, Problem, ReadOptions, Row, RowError, Warning, read_csv};
pub use rejects::{Rejected, rejected_path, write_rejected};
pub use upsert::{Report, import};

use std::path::PathBuf;

/// The object every import writes.
pub const OBJECT: leadflow_core::ObjectType = leadflow_core::ObjectType::Contacts;

/// Rows per upsert call: HubSpot's batch limit.
pub const BATCH_SIZE: usize = leadflow_hubspot::MAX_BATCH_INPUTS;

/// Why an import cannot start, or its rejected file cannot be written. Problems with single
/// rows are never an `Error`: they are [`RowError`]s, and the other rows go ahead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The mapping file is not `columns: { "CSV header": property }`.
    #[error("the mapping file is not valid: {0}")]
    MappingFile(String),
    /// The mapping file maps a column to something that is not a contact property.
    #[error("the mapping file maps column {column:?} to {target:?}, which is not a contact property{}", suggest(.suggestion))]
    MappingTarget {
        /// The CSV header.
        column: String,
        /// What the mapping file says.
        target: String,
        /// The closest property name or label.
        suggestion: Option<String>,
    },
    /// Columns that match no contact property.
    #[error("{}", unknown_columns(.0))]
    UnknownColumns(Vec<UnknownColumn>),
    /// No column holds the email, which rows are upserted by.
    #[error("no column holds the email address, which every row is upserted by (columns: {}){}", quoted(.headers), looks_like(.suggestion))]
    NoEmailColumn {
        /// The file's headers.
        headers: Vec<String>,
        /// The header that looks most like an email column.
        suggestion: Option<String>,
    },
    /// Two columns map to the same property, so neither can be trusted.
    #[error(
        "columns {first:?} and {second:?} both map to {property}; keep one, or map one elsewhere in a mapping file"
    )]
    DuplicateColumn {
        /// The property.
        property: String,
        /// The first column.
        first: String,
        /// The second column.
        second: String,
    },
    /// A column maps to a property HubSpot sets itself.
    #[error(
        "column {column:?} is HubSpot's {property}, which HubSpot sets itself and an import cannot write"
    )]
    ReadOnlyColumn {
        /// The CSV header.
        column: String,
        /// The property.
        property: String,
    },
    /// A value given for every row (a flag) does not fit its property.
    #[error("{flag}: {message}")]
    FixedValue {
        /// Where the value came from, such as `--strategy`.
        flag: String,
        /// What is wrong, with what is allowed.
        message: String,
    },
    /// The file is not UTF-8 text from its first row on.
    #[error("{0}")]
    Encoding(String),
    /// The file has no header row.
    #[error("the file is empty: the first row must name the columns")]
    Empty,
    /// The CSV could not be read.
    #[error("reading the CSV: {0}")]
    Csv(#[from] csv::Error),
    /// The rejected-rows file could not be written or removed.
    #[error("writing {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

fn suggest(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(" (did you mean {s:?}?)"))
        .unwrap_or_default()
}

fn looks_like(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!("; column {s:?} looks like it, but its header names no property"))
        .unwrap_or_default()
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|h| format!("{h:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_columns(cols: &[UnknownColumn]) -> String {
    let list: Vec<String> = cols.iter().map(ToString::to_string).collect();
    format!(
        "{} column(s) match no contact property: {}",
        cols.len(),
        list.join("; ")
    )
}

#[cfg(test)]
mod tests;
