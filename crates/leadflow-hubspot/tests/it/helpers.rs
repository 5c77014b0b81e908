//! Shared set-up: a sandbox on port 0 and a client pointed at it.

use std::time::Duration;

use leadflow_core::Secret;
use leadflow_hubspot::{Client, ClientConfig, Credentials, RateLimits, RetryPolicy};
use leadflow_sandbox::{Sandbox, SandboxConfig, SandboxHandle, Seed};

/// A sandbox with no records and generous limits.
pub(crate) fn empty_config() -> SandboxConfig {
    let mut config = SandboxConfig {
        seed: Seed::Empty,
        ..SandboxConfig::default()
    };
    config.limits.search_per_second = 1000;
    config
}

pub(crate) async fn sandbox(config: SandboxConfig) -> SandboxHandle {
    Sandbox::spawn(config)
        .await
        .expect("the sandbox starts on a free port")
}

/// Retries quickly, so fault tests finish fast.
pub(crate) fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

pub(crate) fn config(url: &str, token: &str) -> ClientConfig {
    let mut c = ClientConfig::new(url, Credentials::Token(Secret::new(token)));
    c.retry = fast_retry();
    c.timeout = Duration::from_secs(5);
    c.limits = RateLimits {
        window: Duration::from_millis(200),
        search_per_second: 100,
        ..RateLimits::default()
    };
    c
}

pub(crate) fn client(url: &str) -> Client {
    Client::new(config(url, "test-token")).expect("a valid client config")
}

pub(crate) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}
