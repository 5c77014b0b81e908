//! Integration tests of the client against the sandbox (and wiremock for malformed answers).
//!
//! One test binary, one module per area, as the style guide asks.

mod auth;
mod contract;
mod errors;
mod helpers;
mod objects;
mod portal;
mod rate;
mod search;
mod webhooks;
