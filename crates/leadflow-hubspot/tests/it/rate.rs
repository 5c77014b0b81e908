//! Pacing against the sandbox's rolling window (scaled down so the tests finish fast).

use std::time::Duration;

use futures::StreamExt;
use leadflow_core::ObjectType;
use leadflow_hubspot::{Client, RateLimits};

use crate::helpers::{config, empty_config, sandbox};

async fn hammer(client: &Client, ids: &[String], n: usize) -> usize {
    futures::stream::iter(0..n)
        .map(|i| {
            let c = client.clone();
            let id = ids[i % ids.len()].clone();
            async move { c.objects(ObjectType::Contacts).get(&id, &[]).await.is_ok() }
        })
        .buffer_unordered(8)
        .filter(|ok| futures::future::ready(*ok))
        .count()
        .await
}

#[tokio::test]
async fn paced_requests_never_meet_a_429() {
    // A one-second window: long enough that a loaded machine's scheduling delays (a few
    // milliseconds between the client's clock and the sandbox's) stay inside the pacer's
    // safety margin.
    let mut cfg = empty_config();
    cfg.limits.burst = 20;
    cfg.limits.window = Duration::from_millis(1000);
    let sb = sandbox(cfg).await;
    let ids = sb.state().seed_contacts(10, 1);
    let mut c = config(&sb.url(), "t");
    c.limits = RateLimits {
        burst: 20,
        window: Duration::from_millis(1000),
        ..RateLimits::default()
    };
    let client = Client::new(c).unwrap();
    assert_eq!(hammer(&client, &ids, 60).await, 60);
    let stats = sb.state().stats();
    assert_eq!(
        stats.by_status.get(&429).copied().unwrap_or(0),
        0,
        "{stats:?}"
    );
}

#[tokio::test]
async fn the_window_is_learnt_from_hubspots_headers() {
    let mut cfg = empty_config();
    cfg.limits.burst = 20;
    cfg.limits.window = Duration::from_millis(250);
    let sb = sandbox(cfg).await;
    let ids = sb.state().seed_contacts(10, 1);
    // The client believes the Professional default (190 per 10 s) until the headers say otherwise.
    let mut c = config(&sb.url(), "t");
    c.limits = RateLimits::default();
    let client = Client::new(c).unwrap();
    assert_eq!(
        hammer(&client, &ids, 80).await,
        80,
        "every call succeeds, 429s included"
    );
    assert_eq!(
        client.governor().burst_budget(),
        (20, Duration::from_millis(250))
    );
    let stats = sb.state().stats();
    assert!(
        stats.by_status.get(&429).copied().unwrap_or(0) <= 2,
        "{stats:?}"
    );
}
