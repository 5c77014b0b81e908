//! leadflow's local copy of the portal: SQLite (one file) by default, PostgreSQL by URL.
//!
//! One schema for both backends, in two migration folders, behind one `AnyPool`. Every
//! query is written once with `$N` placeholders (sqlx's SQLite driver reads them too) and
//! runs on both; the store's tests run each case on both backends. Instants are unix
//! milliseconds, JSON is text.
//!
//! **Invariants.** Only this crate contains SQL. A sync page is upserted and its cursor
//! advanced in one transaction, so replaying a page changes nothing. An older version of
//! a record never overwrites a newer one (`updated_at` decides). Every change of a managed
//! property is appended to the event log with its old and new value; a backfill logs each
//! record's creation, not its initial values.
//!
//! This crate knows rows and transactions; it knows nothing about HubSpot's API or the
//! workflows that read the events.

mod advice;
mod automation;
mod error;
mod health;
mod outbox;
mod portal;
mod queue;
mod records;
mod reports;
mod scan;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod webhooks;

pub use advice::{EnrolledCounts, ScoreCounts};
pub use automation::{ReportDelivery, ScheduleRun};
pub use error::{Error, Result};
pub use health::{CountCheck, LatencyFlush};
pub use outbox::{EnrollmentRow, Intent, NewEnrollment, NewIntent, Settlement};
pub use portal::{Link, ListRow, OwnerRow, SequenceRow, StageRow, SyncRunStats};
pub use queue::Job;
pub use records::{Event, Gone, MANAGED_COLUMNS, StoredRecord, UpsertOutcome};
pub use reports::{
    Axis, BucketCounts, ContactCounts, ContactFilter, DistinctCounts, LinkedDeal, OneOf,
};
pub use scan::{IdRange, RawRecord};
pub use store::{Backend, Store};
pub use webhooks::{WebhookBatchOutcome, WebhookEvent};
