//! Upserting valid rows by email, 100 per call, and mapping every failure back to its row.
//!
//! Each batch goes through the client's batch upsert with `idProperty=email`, which is safe
//! to repeat: importing a file again updates the same contacts instead of duplicating them.
//! Rate limits and retries are the client's business. A 207 answer's per-input errors are
//! matched to rows by the email in their context. When HubSpot refuses a whole batch
//! (a 4xx validation answer rather than per-input errors), the batch is split in halves
//! until the refused rows are alone, so one bad row never costs the good ones. Any other
//! failure (credentials, scopes, the daily budget, an outage the retries did not outlast)
//! stops the import, and every row not confirmed is reported as not imported.
//!
//! This module knows the client and the rows; it knows nothing of CSV or the terminal.

use std::collections::HashMap;
use std::ops::Range;

use futures::StreamExt;
use leadflow_hubspot::{BatchError, BatchOutcome, Client, CrmObject, Error as ApiError, Objects};

use crate::read::{Problem, Row, RowError};
use crate::{BATCH_SIZE, OBJECT};

/// Batches in flight at once; the client's rate governor paces them.
const CONCURRENCY: usize = 4;

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Contacts created.
    pub created: usize,
    /// Contacts that existed and were updated.
    pub updated: usize,
    /// Rows HubSpot refused or that were not imported, in row order.
    pub failed: Vec<RowError>,
    /// Upsert calls made (batches, and halves of refused batches).
    pub calls: usize,
    /// Why the import stopped early, when it did.
    pub stopped: Option<String>,
}

#[derive(Debug)]
enum Outcome {
    Created,
    Updated,
    Failed(Problem),
}

#[derive(Debug, Default)]
struct BatchResult {
    outcomes: Vec<(usize, Outcome)>,
    calls: usize,
    fatal: Option<ApiError>,
}

/// Upserts `rows` by email in batches of 100, calling `progress` with the number of rows
/// each finished batch settled.
pub async fn import(client: &Client, rows: &[Row], mut progress: impl FnMut(usize)) -> Report {
    let objects = client.objects(OBJECT);
    let mut report = Report::default();
    let mut settled = vec![false; rows.len()];
    let batches = rows
        .chunks(BATCH_SIZE)
        .enumerate()
        .map(|(i, chunk)| (i * BATCH_SIZE, chunk));
    let objects = &objects;
    let mut answers = futures::stream::iter(batches)
        .map(|(start, chunk)| async move { (start, upsert_batch(objects, chunk).await) })
        .buffered(CONCURRENCY);
    while let Some((start, result)) = answers.next().await {
        report.calls += result.calls;
        let done = result.outcomes.len();
        for (i, outcome) in result.outcomes {
            let row = &rows[start + i];
            settled[start + i] = true;
            match outcome {
                Outcome::Created => report.created += 1,
                Outcome::Updated => report.updated += 1,
                Outcome::Failed(problem) => report.failed.push(RowError {
                    row: row.row,
                    problems: vec![problem],
                    record: row.record.clone(),
                }),
            }
        }
        progress(done);
        if let Some(e) = result.fatal {
            report.stopped = Some(e.to_string());
            break;
        }
    }
    // Batches still in flight are cancelled here; their outcome is unknown.
    drop(answers);
    if let Some(reason) = &report.stopped {
        for (row, _) in rows.iter().zip(&settled).filter(|(_, s)| !**s) {
            report.failed.push(RowError {
                row: row.row,
                problems: vec![Problem {
                    column: String::new(),
                    reason: format!(
                        "not imported: the import stopped ({reason}); run it again, upserts by email are safe to repeat"
                    ),
                }],
                record: row.record.clone(),
            });
        }
    }
    report.failed.sort_by_key(|e| e.row);
    report
}

/// Whether HubSpot refused the call for what it holds, so that a smaller call may pass.
fn refused_for_content(e: &ApiError) -> bool {
    matches!(e, ApiError::Api { status, .. } if matches!(status, 400 | 404 | 409 | 413 | 422))
}

/// Upserts one batch, splitting it while HubSpot refuses it as a whole. Each call holds
/// at most 100 inputs, a single chunk for the client, so a refused chunk is the call's `Err`.
async fn upsert_batch(objects: &Objects, rows: &[Row]) -> BatchResult {
    let mut result = BatchResult::default();
    // A stack of the parts still to send: the whole batch, then halves of refused parts.
    let mut pending: Vec<Range<usize>> = Vec::new();
    pending.push(0..rows.len());
    while let Some(range) = pending.pop() {
        let part = &rows[range.clone()];
        let inputs = part
            .iter()
            .map(|r| (r.email.clone(), r.properties.clone()))
            .collect();
        result.calls += 1;
        match objects.batch_upsert("email", inputs).await {
            Ok(answer) => settle(part, range.start, answer, &mut result.outcomes),
            Err(e) if refused_for_content(&e) && range.len() > 1 => {
                let mid = range.start + range.len() / 2;
                pending.push(mid..range.end);
                pending.push(range.start..mid);
            }
            Err(e) if refused_for_content(&e) => {
                let row = &part[0];
                let body = e.body();
                let property = body.and_then(|b| {
                    b.errors.iter().find_map(|d| {
                        d.context
                            .get("propertyName")
                            .and_then(|v| v.as_array()?.first()?.as_str().map(str::to_owned))
                    })
                });
                let reason = match body {
                    Some(b) => format!("HubSpot refused it: {b}"),
                    None => format!("HubSpot refused it: {e}"),
                };
                result.outcomes.push((
                    range.start,
                    Outcome::Failed(Problem {
                        column: property.map(|p| row.column_of(&p)).unwrap_or_default(),
                        reason,
                    }),
                ));
            }
            Err(e) => {
                result.fatal = Some(e);
                break;
            }
        }
    }
    result
}

/// Matches a batch answer to its rows: results by email, per-input errors by the ids in
/// their context. Whatever cannot be matched is settled by count, and a row HubSpot said
/// nothing about is a failure, never a silent success.
fn settle(
    part: &[Row],
    offset: usize,
    answer: BatchOutcome<CrmObject>,
    out: &mut Vec<(usize, Outcome)>,
) {
    let index: HashMap<String, usize> = part
        .iter()
        .enumerate()
        .map(|(i, r)| (r.email.to_lowercase(), i))
        .collect();
    let mut state: Vec<Option<Outcome>> = part.iter().map(|_| None).collect();
    let mut unmatched_results = Vec::new();
    for r in &answer.results {
        let created = r.new == Some(true);
        match r.get("email").and_then(|e| index.get(&e.to_lowercase())) {
            Some(&i) if state[i].is_none() => {
                state[i] = Some(if created {
                    Outcome::Created
                } else {
                    Outcome::Updated
                });
            }
            _ => unmatched_results.push(created),
        }
    }
    let mut unmatched_errors: Vec<&BatchError> = Vec::new();
    for e in &answer.errors {
        let mut matched = false;
        for id in e.context.get("ids").into_iter().flatten() {
            if let Some(&i) = index.get(&id.to_lowercase()) {
                state[i] = Some(Outcome::Failed(problem_of(e, &part[i])));
                matched = true;
            }
        }
        if !matched {
            unmatched_errors.push(e);
        }
    }
    for (i, s) in state.into_iter().enumerate() {
        let outcome = match s {
            Some(o) => o,
            None => match unmatched_results.pop() {
                Some(true) => Outcome::Created,
                Some(false) => Outcome::Updated,
                None if !unmatched_errors.is_empty() => Outcome::Failed(Problem {
                    column: String::new(),
                    reason: format!(
                        "HubSpot refused part of its batch without naming the rows: {}",
                        unmatched_errors
                            .iter()
                            .map(|e| e.to_string())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                }),
                None => Outcome::Failed(Problem {
                    column: String::new(),
                    reason: "HubSpot answered neither a result nor an error for this row; run the import again".to_owned(),
                }),
            },
        };
        out.push((offset + i, outcome));
    }
}

fn problem_of(e: &BatchError, row: &Row) -> Problem {
    let column = e
        .context
        .get("propertyName")
        .and_then(|p| p.first())
        .map(|p| row.column_of(p))
        .unwrap_or_default();
    Problem {
        column,
        reason: format!(
            "HubSpot refused it: {} ({})",
            e.message.as_deref().unwrap_or("no reason given"),
            e.category.as_deref().unwrap_or("UNKNOWN")
        ),
    }
}
