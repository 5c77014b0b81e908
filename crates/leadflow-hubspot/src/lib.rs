//! A typed, async, rate-governed HubSpot REST client.
//!
//! One [`Client`] talks to one portal. Every call goes through the same loop: the
//! portal's [`RateGovernor`] paces it against the burst, search and daily budgets; the
//! credentials supply a bearer token (refreshing OAuth tokens before they expire); the
//! answer is classified into success or a typed [`Error`]; and failures that HubSpot
//! says are temporary are retried under the one [`RetryPolicy`].
//!
//! ```no_run
//! # async fn demo() -> leadflow_hubspot::Result<()> {
//! use futures::TryStreamExt;
//! use leadflow_core::{ObjectType, Secret};
//! use leadflow_hubspot::{Client, ClientConfig, Credentials, ListOptions};
//!
//! let client = Client::new(ClientConfig::new(
//!     "https://api.hubapi.com",
//!     Credentials::Token(Secret::new("pat-na1-…")),
//! ))?;
//! let contacts: Vec<_> = client.objects(ObjectType::Contacts).list(ListOptions::default()).try_collect().await?;
//! println!("{} contacts", contacts.len());
//! # Ok(()) }
//! ```
//!
//! # Retries and duplicates
//! Reads, updates, upserts, archives and association writes are repeated freely. A create
//! is repeated only when HubSpot certainly did not process it (429, 423, a refused
//! connection). After a timeout or a 5xx its outcome is unknown, so the error reaches the
//! caller, who resolves it by reading. To create records exactly once, give them a
//! unique-value property and use [`Objects::batch_upsert`] on it.
//!
//! This crate knows HubSpot's wire format and nothing of leadflow's configuration, store
//! or workflows. It never reads the environment: the caller passes a [`ClientConfig`].

#![deny(missing_docs)]

mod associations;
mod auth;
mod error;
mod latency;
mod lists;
mod model;
mod objects;
mod pipelines;
mod properties;
mod rate;
mod retry;
mod scopes;
mod sequences;
mod transport;
pub mod webhooks;

pub use associations::{
    AssociatedRecord, AssociationType, Associations, NewAssociation, RecordAssociations,
    types as association_types,
};
pub use auth::{Credentials, OAuthCredentials};
pub use error::{ApiErrorBody, ApiErrorDetail, Error, RatePolicy, Result};
pub use latency::{LatencyRecorder, LatencySnapshot, Percentiles};
pub use lists::{CrmList, Lists, Membership, MembershipChange};
pub use model::{
    AssociationCategory, AssociationSpec, BatchError, BatchOutcome, CrmObject, Direction,
    FailedChunk, Filter, FilterGroup, InlineAssociation, NextPage, ObjectId, ObjectInput,
    ObjectUpdate, Operator, Page, Paging, PropertyValues, SearchPage, SearchRequest, Sort,
};
pub use objects::{
    ListOptions, MAX_BATCH_INPUTS, MAX_FILTERS_PER_GROUP, MAX_LIST_PAGE, MAX_SEARCH_PAGE, Objects,
    SearchQuery,
};
pub use pipelines::{Owner, Pipeline, PipelineStage, PipelineStageInput};
pub use properties::{
    Properties, Property, PropertyCreate, PropertyGroup, PropertyOption, PropertyUpdate,
    ValidationRule,
};
pub use rate::{Budget, DailyExhausted, Plan, RateGovernor, RateHeaders, RateLimits, Tier};
pub use retry::{DEFAULT_RETRY_POLICY, RetryPolicy};
pub use sequences::{Enrollment, EnrollmentRequest, Sequence};
pub use transport::{Client, ClientConfig, ENDPOINT_NAMES, HUBSPOT_API};
