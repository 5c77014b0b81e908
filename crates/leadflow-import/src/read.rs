//! Reading a CSV into validated rows, rejected rows and warnings: the pure half of an import.
//!
//! Records are read as bytes (`csv::ByteRecord`), so a row that is not UTF-8 (a Latin-1
//! export, say) is rejected on its own while the rows around it go ahead. Every cell is
//! validated with the configuration's typed values (`PropertySpec::parse_value`); an
//! empty cell leaves its property unset. Rows are keyed by email: when an email occurs
//! twice, the later row wins and a [`Warning`] says so.
//!
//! This module does no IO beyond the reader it is given and knows nothing of HubSpot.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use csv::ByteRecord;
use leadflow_config::{PropertySchema, ValueError};
use leadflow_hubspot::PropertyValues;

use crate::Error;
use crate::columns::{FixedValue, MappingFile, Use, normalize, resolve};

const NOT_UTF8: &str = "not valid UTF-8 (save the file as UTF-8)";

/// How to read a file.
#[derive(Clone, Debug)]
pub struct ReadOptions<'a> {
    /// The project's properties, which the columns are matched against.
    pub schema: &'a PropertySchema,
    /// Overrides the header matching for the columns it names.
    pub mapping: Option<&'a MappingFile>,
    /// Skip columns that match no property (with a warning) instead of refusing the file.
    pub ignore_unknown_columns: bool,
    /// Values written on every row; each overrides a column of the same property.
    pub fixed: Vec<FixedValue>,
}

impl<'a> ReadOptions<'a> {
    /// Matching by header only, nothing ignored, nothing fixed.
    pub fn new(schema: &'a PropertySchema) -> Self {
        Self {
            schema,
            mapping: None,
            ignore_unknown_columns: false,
            fixed: Vec::new(),
        }
    }
}

/// A valid row, ready to upsert.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Its row number, counting the header as row 1 (as a spreadsheet shows it).
    pub row: usize,
    /// The email it is upserted by, as written in the file (trimmed).
    pub email: String,
    /// The values to write, as HubSpot takes them (email included).
    pub properties: PropertyValues,
    /// The row as it was in the file, for the rejected file should HubSpot refuse it.
    pub(crate) record: ByteRecord,
    /// Property name → the header of the column that holds it.
    pub(crate) headers: Arc<BTreeMap<String, String>>,
}

impl Row {
    /// The column that holds `property`, or the property's name when no column does.
    pub(crate) fn column_of(&self, property: &str) -> String {
        self.headers
            .get(property)
            .cloned()
            .unwrap_or_else(|| property.to_owned())
    }
}

/// One thing wrong with a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The column's header; empty when the problem is the whole row.
    pub column: String,
    /// What is wrong, and what is allowed.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.column, self.reason)
        }
    }
}

/// A row that was not imported, with every problem found in it.
#[derive(Clone, Debug, PartialEq)]
pub struct RowError {
    /// Its row number, counting the header as row 1.
    pub row: usize,
    /// Every problem, in column order.
    pub problems: Vec<Problem>,
    /// The row as it was in the file.
    pub(crate) record: ByteRecord,
}

impl RowError {
    /// Every problem on one line, separated by ` | `.
    pub fn reason(&self) -> String {
        self.problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}: {}", self.row, self.reason())
    }
}

/// Something the user should know that does not stop a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// An email occurs again; the later row wins.
    DuplicateEmail {
        /// The later row, which is imported.
        row: usize,
        /// The earlier row, which is not.
        earlier: usize,
        /// The email.
        email: String,
    },
    /// A row with nothing in it.
    EmptyRow {
        /// The row.
        row: usize,
    },
    /// A column that is skipped.
    IgnoredColumn {
        /// Its header.
        column: String,
        /// Why.
        reason: String,
    },
    /// A column whose property a fixed value sets on every row instead.
    Overridden {
        /// Its header.
        column: String,
        /// The flag that sets the property.
        flag: String,
    },
    /// The mapping file names a column the file does not have.
    UnusedMapping {
        /// The header it names.
        column: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateEmail {
                row,
                earlier,
                email,
            } => write!(
                f,
                "row {row}: {email} is also on row {earlier}; row {row} wins and row {earlier} is not imported"
            ),
            Self::EmptyRow { row } => write!(f, "row {row} is empty; skipped"),
            Self::IgnoredColumn { column, reason } => {
                write!(f, "column {column:?} is ignored: {reason}")
            }
            Self::Overridden { column, flag } => write!(
                f,
                "column {column:?} is ignored: {flag} sets its property on every row"
            ),
            Self::UnusedMapping { column } => write!(
                f,
                "the mapping file names column {column:?}, which the file does not have"
            ),
        }
    }
}

/// A file read and checked.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The headers, trimmed.
    pub headers: Vec<String>,
    /// The property each column writes; `None` for a skipped or overridden column.
    pub columns: Vec<Option<String>>,
    /// The valid rows, one per email, in file order.
    pub rows: Vec<Row>,
    /// The rejected rows, in file order.
    pub rejected: Vec<RowError>,
    /// Duplicates, skipped columns and rows, unused mappings.
    pub warnings: Vec<Warning>,
    /// Data rows in the file.
    pub read: usize,
    /// Rows superseded by a later row with the same email.
    pub superseded: usize,
    pub(crate) raw_headers: ByteRecord,
    pub(crate) delimiter: u8,
}

/// Reads and checks a CSV: the header decides the columns, then every row is validated.
///
/// The separator is the one of `,` `;` tab `|` that the header row uses most (comma when
/// it has none). A UTF-8 byte order mark is skipped.
///
/// # Errors
/// A problem with the file as a whole, found before any row is looked at: [`Error::Empty`],
/// [`Error::Encoding`] (UTF-16, or a header that is not UTF-8), [`Error::UnknownColumns`],
/// [`Error::NoEmailColumn`], [`Error::DuplicateColumn`], [`Error::ReadOnlyColumn`],
/// [`Error::MappingTarget`], [`Error::FixedValue`]; or [`Error::Csv`] when reading fails.
pub fn read_csv(input: impl Read, options: &ReadOptions<'_>) -> Result<Parsed, Error> {
    let mut input = BufReader::new(input);
    let mut first = Vec::new();
    input
        .read_until(b'\n', &mut first)
        .map_err(csv::Error::from)?;
    if first.starts_with(&[0xFF, 0xFE]) || first.starts_with(&[0xFE, 0xFF]) {
        return Err(Error::Encoding(
            "the file is UTF-16 text; save it as UTF-8 (in Excel: \"CSV UTF-8\")".to_owned(),
        ));
    }
    if first.starts_with(&[0xEF, 0xBB, 0xBF]) {
        first.drain(..3);
    }
    let delimiter = sniff(&first);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(std::io::Cursor::new(first).chain(input));
    let raw_headers = reader.byte_headers()?.clone();
    if raw_headers.iter().all(|h| h.trim_ascii().is_empty()) {
        return Err(Error::Empty);
    }
    let headers = raw_headers
        .iter()
        .map(|h| std::str::from_utf8(h).map(|s| s.trim().to_owned()))
        .collect::<Result<Vec<String>, _>>()
        .map_err(|_| Error::Encoding(format!("the header row is {NOT_UTF8}")))?;
    let columns = resolve(
        &headers,
        options.schema,
        options.mapping,
        options.ignore_unknown_columns,
        &options.fixed,
    )?;
    let by_property: Arc<BTreeMap<String, String>> = Arc::new(
        columns
            .uses
            .iter()
            .zip(&headers)
            .filter_map(|(u, h)| match u {
                Use::Property(spec) => Some((spec.name.clone(), h.clone())),
                _ => None,
            })
            .collect(),
    );
    let mut parsed = Parsed {
        columns: columns
            .uses
            .iter()
            .map(|u| match u {
                Use::Property(spec) => Some(spec.name.clone()),
                _ => None,
            })
            .collect(),
        headers,
        rows: Vec::new(),
        rejected: Vec::new(),
        warnings: columns.warnings.clone(),
        read: 0,
        superseded: 0,
        raw_headers,
        delimiter,
    };
    let mut rows: Vec<Option<Row>> = Vec::new();
    let mut by_email: HashMap<String, usize> = HashMap::new();
    let mut record = ByteRecord::new();
    let mut number = 1;
    while reader.read_byte_record(&mut record)? {
        number += 1;
        parsed.read += 1;
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            parsed.warnings.push(Warning::EmptyRow { row: number });
            continue;
        }
        let reject = |problems| RowError {
            row: number,
            problems,
            record: record.clone(),
        };
        if record.len() != parsed.headers.len() {
            parsed.rejected.push(reject(vec![Problem {
                column: String::new(),
                reason: format!(
                    "has {} fields but the header has {}; look for a stray separator or an unclosed quote",
                    record.len(),
                    parsed.headers.len()
                ),
            }]));
            continue;
        }
        let mut problems = Vec::new();
        let mut properties = PropertyValues::new();
        let mut email = String::new();
        for (i, (use_, raw)) in columns.uses.iter().zip(record.iter()).enumerate() {
            let Use::Property(spec) = use_ else { continue };
            let header = &parsed.headers[i];
            let problem = |reason: String| Problem {
                column: header.clone(),
                reason,
            };
            let Ok(text) = std::str::from_utf8(raw) else {
                problems.push(problem(NOT_UTF8.to_owned()));
                continue;
            };
            let text = text.trim();
            if i == columns.email {
                match check_email(text) {
                    Ok(()) => email = text.to_owned(),
                    Err(reason) => problems.push(problem(reason)),
                }
                continue;
            }
            if text.is_empty() {
                continue;
            }
            match spec.parse_value(text) {
                Ok(value) => {
                    properties.insert(spec.name.clone(), value.to_wire());
                }
                Err(e) => problems.push(problem(value_reason(&e, header))),
            }
        }
        if !problems.is_empty() {
            parsed.rejected.push(reject(problems));
            continue;
        }
        for f in &columns.fixed {
            properties.insert(f.name.clone(), f.wire.clone());
        }
        properties.insert("email".to_owned(), email.clone());
        let key = email.to_lowercase();
        if let Some(at) = by_email.insert(key, rows.len()) {
            if let Some(earlier) = rows[at].take() {
                parsed.superseded += 1;
                parsed.warnings.push(Warning::DuplicateEmail {
                    row: number,
                    earlier: earlier.row,
                    email: email.clone(),
                });
            }
        }
        rows.push(Some(Row {
            row: number,
            email,
            properties,
            record: record.clone(),
            headers: Arc::clone(&by_property),
        }));
    }
    parsed.rows = rows.into_iter().flatten().collect();
    Ok(parsed)
}

/// The separator the header row uses most, outside quotes; a comma when it uses none.
fn sniff(header: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for &b in header {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                c.1 += 1;
            }
        }
    }
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(d, n)| (*n, *d == b','))
        .map_or(b',', |(d, _)| *d)
}

/// Why a cell's value is refused, naming the property when the header does not.
fn value_reason(e: &ValueError, header: &str) -> String {
    if normalize(header) == normalize(&e.property) {
        format!("{:?} is not allowed; {}", e.given, e.allowed)
    } else {
        format!(
            "{:?} is not allowed for {}; {}",
            e.given, e.property, e.allowed
        )
    }
}

/// Checks the shape of an email address: one `@`, a local part without spaces or
/// separators, and a domain of dotted labels ending in a top-level domain. HubSpot checks
/// deliverability; this only refuses what cannot be an address.
pub(crate) fn check_email(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err(
            "the email is empty; every row needs one, since rows are upserted by email".to_owned(),
        );
    }
    let bad = |why: &str| Err(format!("{text:?} is not an email address ({why})"));
    if text.chars().count() > 254 {
        return bad("longer than 254 characters");
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains a space");
    }
    let Some((local, domain)) = text.split_once('@') else {
        return bad("it has no @");
    };
    if domain.contains('@') {
        return bad("it has more than one @");
    }
    if local.is_empty() {
        return bad("nothing before the @");
    }
    if local.len() > 64 {
        return bad("more than 64 characters before the @");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return bad("a misplaced dot before the @");
    }
    if local.chars().any(|c| "(),:;<>[]\\\"".contains(c)) {
        return bad("a character an address cannot hold, such as , ; < > or quotes");
    }
    if domain.is_empty() {
        return bad("nothing after the @");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return bad("the domain has no dot");
    }
    for label in &labels {
        if label.is_empty() {
            return bad("an empty part in the domain");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a domain part starts or ends with -");
        }
        if !label.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return bad("the domain holds a character other than letters, digits, - and .");
        }
    }
    let tld = labels[labels.len() - 1];
    if tld.chars().count() < 2 || tld.chars().all(|c| c.is_ascii_digit()) {
        return bad("the domain does not end in a top-level domain such as .com");
    }
    Ok(())
}
