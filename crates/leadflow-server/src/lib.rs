//! leadflow's HTTP side. For now: `POST /webhooks/hubspot`, the webhook receiver.
//!
//! The receiver verifies HubSpot's v3 signature over the raw bytes (five-minute window;
//! v1 when configured), stores the batch durably and deduplicated, and only then answers
//! 2xx. It never calls HubSpot: fetching records an event alone cannot describe is the
//! sync engine's job, which reads the stored events.
//!
//! This crate knows HTTP and the store; it uses the client crate only for its pure
//! signature functions.

mod webhook;

pub use webhook::{WebhookConfig, parse_events, router};
