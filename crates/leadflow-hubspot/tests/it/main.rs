//! Integration tests of the client against the sandbox (and wiremock for malformed answers).
//!
//! One test binary, one module per area, as the style guide asks.

mod auth;
mod capture;
mod contract;
mod errors;
mod helpers;
mod objects;
mod observe;
mod portal;
mod rate;
mod retries;
mod search;
mod webhooks;
