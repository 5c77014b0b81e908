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
    let g = RateGovernor::new(RateLimits::for_tier(Tier::PROFESSIONAL));
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

#[test]
fn every_tier_has_hubspots_published_budgets() {
    // hubspot-facts.md §2: burst per 10 s and daily per account; an add-on lifts the burst
    // to 250 on any plan and adds 1,000,000 a day each, at most two.
    let table: [(&str, u32, u64); 11] = [
        ("free", 100, 250_000),
        ("starter", 100, 250_000),
        ("professional", 190, 625_000),
        ("enterprise", 190, 1_000_000),
        ("addon", 250, 1_625_000),
        ("free+addon", 250, 1_250_000),
        ("starter+2addons", 250, 2_250_000),
        ("professional+addon", 250, 1_625_000),
        ("professional+2addons", 250, 2_625_000),
        ("enterprise+addon", 250, 2_000_000),
        ("Enterprise + 2 addons", 250, 3_000_000),
    ];
    for (text, burst, daily) in table {
        let tier: Tier = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        let limits = RateLimits::for_tier(tier);
        assert_eq!((limits.burst, limits.daily), (burst, Some(daily)), "{text}");
        assert_eq!(limits.window, Duration::from_secs(10), "{text}");
        assert_eq!(limits.search_per_second, 5, "{text}");
    }
    assert_eq!(
        RateLimits::default(),
        RateLimits::for_tier(Tier::PROFESSIONAL)
    );
}

#[test]
fn tier_names_parse_forgivingly_and_unknown_ones_say_what_is_expected() {
    let parsed = |s: &str| s.parse::<Tier>();
    assert_eq!(parsed("Professional"), Ok(Tier::PROFESSIONAL));
    assert_eq!(parsed("pro"), Ok(Tier::PROFESSIONAL));
    assert_eq!(parsed(" FREE "), Ok(Tier::FREE_STARTER));
    assert_eq!(parsed("free-starter"), Ok(Tier::FREE_STARTER));
    assert_eq!(parsed("ENTERPRISE"), Ok(Tier::ENTERPRISE));
    assert_eq!(
        parsed("api_limit_increase"),
        Ok(Tier {
            plan: Plan::Professional,
            api_add_ons: 1
        })
    );
    for bad in ["", "gold", "enterprise+3addons", "addon+addon", "+addon"] {
        let err = parsed(bad).unwrap_err();
        assert!(
            err.contains("expected free, starter, professional or enterprise"),
            "{bad}: {err}"
        );
    }
}
