use super::*;
use proptest::prelude::*;

fn max_in_any_window(times: &[Instant], window: Duration) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= window {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[tokio::test(start_paused = true)]
async fn steady_pacing_stays_under_the_window_and_near_the_budget() {
    let g = RateGovernor::new(RateLimits::for_tier(Tier::Professional));
    let start = Instant::now();
    let mut sent = Vec::new();
    for _ in 0..1000 {
        g.acquire(Budget::Standard).await.unwrap();
        sent.push(Instant::now());
    }
    assert!(max_in_any_window(&sent, Duration::from_secs(10)) <= 190 - 3);
    let elapsed = (Instant::now() - start).as_secs_f64();
    let rate = 1000.0 / elapsed * 10.0 / 190.0;
    assert!(rate > 0.95, "achieved {rate:.3} of the budget");
}

#[tokio::test(start_paused = true)]
async fn search_is_paced_apart_from_the_burst_window() {
    let g = RateGovernor::new(RateLimits::default());
    let mut sent = Vec::new();
    for _ in 0..50 {
        g.acquire(Budget::Search).await.unwrap();
        sent.push(Instant::now());
    }
    assert!(max_in_any_window(&sent, Duration::from_secs(1)) <= 5);
    // The burst budget is untouched: a standard request goes out at once.
    let before = Instant::now();
    g.acquire(Budget::Standard).await.unwrap();
    assert_eq!(Instant::now(), before);
}

#[tokio::test(start_paused = true)]
async fn headers_replace_the_configured_window() {
    let g = RateGovernor::new(RateLimits::default());
    g.observe(&RateHeaders {
        max: Some(20),
        interval_ms: Some(1000),
        remaining: Some(19),
        ..Default::default()
    });
    assert_eq!(g.burst_budget(), (20, Duration::from_secs(1)));
    let mut sent = Vec::new();
    for _ in 0..100 {
        g.acquire(Budget::Standard).await.unwrap();
        sent.push(Instant::now());
    }
    assert!(max_in_any_window(&sent, Duration::from_secs(1)) <= 18);
}

#[tokio::test(start_paused = true)]
async fn remaining_zero_holds_the_next_request() {
    let g = RateGovernor::new(RateLimits::default());
    g.acquire(Budget::Standard).await.unwrap();
    g.observe(&RateHeaders {
        max: Some(190),
        interval_ms: Some(10_000),
        remaining: Some(0),
        ..Default::default()
    });
    let before = Instant::now();
    g.acquire(Budget::Standard).await.unwrap();
    assert!(Instant::now() - before >= Duration::from_millis(100));
}

#[tokio::test]
async fn daily_budget_stops_with_the_reset_time() {
    let g = RateGovernor::new(RateLimits {
        daily: Some(2),
        ..RateLimits::default()
    });
    g.acquire(Budget::Exempt).await.unwrap();
    g.acquire(Budget::Exempt).await.unwrap();
    let err = g.acquire(Budget::Exempt).await.unwrap_err();
    assert!(err.resets_at.timestamp() > jiff::Timestamp::now());
    assert_eq!(err.resets_at.time(), jiff::civil::time(0, 0, 0, 0));
}

#[test]
fn daily_remaining_header_is_believed() {
    let g = RateGovernor::new(RateLimits::default());
    g.observe(&RateHeaders {
        daily: Some(10),
        daily_remaining: Some(0),
        ..Default::default()
    });
    assert!(g.take_daily().is_err());
}

proptest! {
    #[test]
    fn pacer_never_exceeds_its_budget_in_any_window(
        allowed in 1u32..300,
        window_ms in 10u64..20_000,
        gaps in proptest::collection::vec(0u64..50, 1..400),
    ) {
        let window = Duration::from_millis(window_ms);
        let mut p = Pacer::new(allowed, window);
        let base = Instant::now();
        let mut now = base;
        let mut sent = Vec::new();
        for gap in gaps {
            now += Duration::from_millis(gap);
            let at = p.reserve(now);
            prop_assert!(at >= now);
            sent.push(at);
        }
        sent.sort();
        prop_assert!(max_in_any_window(&sent, window) <= allowed as usize);
    }
}
