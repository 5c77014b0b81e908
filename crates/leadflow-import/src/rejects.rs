//! The rejected-rows file: `<input stem>.rejected.csv` beside the input, holding every row
//! that was not imported exactly as it was in the file (bytes and all), plus `row` and
//! `error` columns. Fix the rows and import the file again with `--ignore-unknown-columns`
//! (the two extra columns are then skipped).
//!
//! When no row was refused, a file left by an earlier run is removed so it cannot be
//! mistaken for this run's. This is the crate's only file IO.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::read::{Parsed, RowError};

/// Where the rejected rows of `input` go: `contacts.csv` → `contacts.rejected.csv`.
pub fn rejected_path(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map_or_else(|| "import".into(), |s| s.to_string_lossy());
    input.with_file_name(format!("{stem}.rejected.csv"))
}

/// What [`write_rejected`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejected {
    /// The rows were written.
    Written {
        /// The file.
        path: PathBuf,
        /// How many rows it holds.
        rows: usize,
    },
    /// Nothing was refused, and a file from an earlier run was removed.
    RemovedStale {
        /// The file removed.
        path: PathBuf,
    },
    /// Nothing was refused and there was no file.
    Nothing,
}

/// Writes the rows refused while reading (`parsed.rejected`) and while importing (`failed`)
/// beside `input`, in row order; or, when there are none, removes a stale file.
///
/// # Errors
/// [`Error::Io`] when the file cannot be written or removed.
pub fn write_rejected(
    input: &Path,
    parsed: &Parsed,
    failed: &[RowError],
) -> Result<Rejected, Error> {
    let path = rejected_path(input);
    let io = |source| Error::Io {
        path: path.clone(),
        source,
    };
    let mut all: Vec<&RowError> = parsed.rejected.iter().chain(failed).collect();
    if all.is_empty() {
        return match std::fs::remove_file(&path) {
            Ok(()) => Ok(Rejected::RemovedStale { path }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Rejected::Nothing),
            Err(e) => Err(io(e)),
        };
    }
    all.sort_by_key(|e| e.row);
    let tmp = path.with_extension("csv.tmp");
    let mut out = csv::WriterBuilder::new()
        .delimiter(parsed.delimiter)
        .flexible(true)
        .from_path(&tmp)
        .map_err(|e| io(e.into()))?;
    let width = parsed.raw_headers.len();
    let mut header: Vec<&[u8]> = parsed.raw_headers.iter().collect();
    header.extend([b"row".as_slice(), b"error".as_slice()]);
    out.write_record(&header).map_err(|e| io(e.into()))?;
    for e in &all {
        let row = e.row.to_string();
        let reason = e.reason();
        let fields: Vec<&[u8]> = e.record.iter().collect();
        // Short rows are padded so `row` and `error` line up; the fields of a long row past
        // the header's width follow them, so nothing of the row is lost.
        let mut line: Vec<&[u8]> = (0..width)
            .map(|i| fields.get(i).copied().unwrap_or_default())
            .collect();
        line.extend([row.as_bytes(), reason.as_bytes()]);
        line.extend(fields.iter().skip(width));
        out.write_record(&line).map_err(|e| io(e.into()))?;
    }
    out.flush().map_err(io)?;
    drop(out);
    std::fs::rename(&tmp, &path).map_err(io)?;
    Ok(Rejected::Written {
        path,
        rows: all.len(),
    })
}
