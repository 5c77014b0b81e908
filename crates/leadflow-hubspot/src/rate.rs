//! The rate governor: one per portal, pacing every request against HubSpot's budgets.
//!
//! Three budgets are kept apart, as HubSpot keeps them (see `hubspot-facts.md` §2):
//! the rolling burst window per app (100, 190 or 250 requests per 10 s by tier), the
//! search budget (5 requests per second, not counted in the burst window), and the daily
//! budget per account (reset at midnight in the account's time zone).
//!
//! Pacing is a GCRA reservation scheduler on tokio time: each request reserves the
//! earliest instant at which sending it keeps every rolling window at or under
//! `max - safety`, and sleeps until then. Because it is tokio time, tests can pause the
//! clock and check the pacing exactly. The governor adapts to what HubSpot says: the
//! `X-HubSpot-RateLimit-Max`/`-Interval-Milliseconds` headers replace the configured
//! window, a low `-Remaining` holds requests back, and `-Daily-Remaining` tracks the
//! daily budget. It knows nothing about HTTP: the transport feeds it parsed numbers.

use std::sync::Mutex;
use std::time::Duration;

use jiff::tz::TimeZone;
use tokio::time::Instant;

/// A HubSpot subscription plan (`hubspot-facts.md` §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Free or Starter: 100 requests per 10 s, 250,000 a day.
    FreeStarter,
    /// Professional: 190 requests per 10 s, 625,000 a day.
    Professional,
    /// Enterprise: 190 requests per 10 s, 1,000,000 a day.
    Enterprise,
}

/// A HubSpot account's tier, which fixes the default budgets: its plan and how many API
/// Limit Increase add-ons it bought (at most 2). An add-on raises the burst to 250
/// requests per 10 s on any plan and adds 1,000,000 requests a day each.
///
/// Written `free`, `starter`, `professional` or `enterprise`, optionally followed by
/// `+addon` or `+2addons`; `addon` alone is `professional+addon`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    /// The plan.
    pub plan: Plan,
    /// API Limit Increase add-ons bought: 0, 1 or 2.
    pub api_add_ons: u8,
}

impl Tier {
    /// Free or Starter, no add-on.
    pub const FREE_STARTER: Self = Self::plan(Plan::FreeStarter);
    /// Professional, no add-on.
    pub const PROFESSIONAL: Self = Self::plan(Plan::Professional);
    /// Enterprise, no add-on.
    pub const ENTERPRISE: Self = Self::plan(Plan::Enterprise);

    const fn plan(plan: Plan) -> Self {
        Self {
            plan,
            api_add_ons: 0,
        }
    }

    /// Requests allowed per 10-second window.
    pub fn burst(&self) -> u32 {
        match (self.api_add_ons, self.plan) {
            (1.., _) => 250,
            (0, Plan::FreeStarter) => 100,
            (0, Plan::Professional | Plan::Enterprise) => 190,
        }
    }

    /// Requests allowed per day, for the whole account.
    pub fn daily(&self) -> u64 {
        let plan = match self.plan {
            Plan::FreeStarter => 250_000,
            Plan::Professional => 625_000,
            Plan::Enterprise => 1_000_000,
        };
        plan + 1_000_000 * u64::from(self.api_add_ons.min(2))
    }
}

impl std::str::FromStr for Tier {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "unknown tier {s:?}: expected free, starter, professional or enterprise, optionally with +addon or +2addons (addon alone is professional+addon)"
            )
        };
        let norm = s.trim().to_ascii_lowercase().replace(['-', '_', ' '], "");
        let (plan, add_ons) = match norm.split_once('+') {
            Some((plan, "addon" | "1addon" | "apiaddon")) => (plan, 1),
            Some((plan, "2addons" | "2apiaddons")) => (plan, 2),
            Some(_) => return Err(bad()),
            None if matches!(norm.as_str(), "addon" | "apiaddon" | "apilimitincrease") => {
                ("professional", 1)
            }
            None => (norm.as_str(), 0),
        };
        let plan = match plan {
            "free" | "starter" | "freestarter" => Plan::FreeStarter,
            "professional" | "pro" => Plan::Professional,
            "enterprise" => Plan::Enterprise,
            _ => return Err(bad()),
        };
        Ok(Self {
            plan,
            api_add_ons: add_ons,
        })
    }
}

/// The budgets the governor paces against.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimits {
    /// Requests allowed per rolling `window` (HubSpot's `TEN_SECONDLY_ROLLING` limit).
    pub burst: u32,
    /// The rolling window; 10 s at HubSpot, shorter against a scaled sandbox.
    pub window: Duration,
    /// Requests kept in reserve in every window, so clock skew and other apps do not
    /// tip the window over. `None` picks 2 % of `burst`, at least 2.
    pub safety_margin: Option<u32>,
    /// Search requests allowed per second.
    pub search_per_second: u32,
    /// Requests allowed per day, or `None` when unknown (then only headers tell).
    pub daily: Option<u64>,
    /// The account's time zone, in which the daily budget resets at midnight.
    pub daily_reset_zone: TimeZone,
}

impl RateLimits {
    /// HubSpot's published budgets for a tier.
    pub fn for_tier(tier: Tier) -> Self {
        Self {
            burst: tier.burst(),
            window: Duration::from_secs(10),
            safety_margin: None,
            search_per_second: 5,
            daily: Some(tier.daily()),
            daily_reset_zone: TimeZone::UTC,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::for_tier(Tier::PROFESSIONAL)
    }
}

/// Which budget a request draws on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// The rolling burst window (and the daily budget).
    Standard,
    /// The search budget (and the daily budget); not counted in the burst window.
    Search,
    /// Exempt from the burst window (HubSpot's `ten-secondly` exemption), daily only.
    Exempt,
}

/// The daily budget is spent until the given instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailyExhausted {
    /// When the budget resets: midnight in the account's time zone.
    pub resets_at: jiff::Zoned,
}

/// A GCRA pacer: at most `burst + window / interval` sends in any rolling window.
#[derive(Debug)]
struct Pacer {
    /// Theoretical arrival time of the next request.
    tat: Option<Instant>,
    /// Time between sends in steady state.
    interval: Duration,
    /// How far ahead of `tat` a request may go (the burst).
    tolerance: Duration,
}

impl Pacer {
    /// A pacer admitting at most `allowed` sends in any window of length `window`.
    fn new(allowed: u32, window: Duration) -> Self {
        let allowed = allowed.max(1);
        let burst = (allowed / 40).clamp(1, 8);
        let steady = (allowed - burst).max(1);
        let interval = window / steady;
        Self {
            tat: None,
            interval,
            tolerance: interval * (burst - 1),
        }
    }

    /// Reserves a slot at or after `now` and returns when it may be used.
    fn reserve(&mut self, now: Instant) -> Instant {
        let tat = self.tat.map_or(now, |t| t.max(now));
        let at = tat.checked_sub(self.tolerance).map_or(now, |t| t.max(now));
        self.tat = Some(tat + self.interval);
        at
    }
}

#[derive(Debug)]
struct BurstState {
    pacer: Pacer,
    max: u32,
    window: Duration,
    /// No standard request goes out before this instant (after a 429, or `Remaining: 0`).
    hold_until: Option<Instant>,
}

#[derive(Debug)]
struct DailyState {
    limit: Option<u64>,
    /// What HubSpot last said remains, minus what was sent since.
    remaining: Option<u64>,
    /// The budget is spent until this instant.
    exhausted_until: Option<jiff::Zoned>,
}

/// Paces requests for one portal. Share it (`Arc`) between every client of that portal.
#[derive(Debug)]
pub struct RateGovernor {
    limits: RateLimits,
    burst: Mutex<BurstState>,
    search: Mutex<Pacer>,
    daily: Mutex<DailyState>,
}

/// What a response said about the budgets, read from its `X-HubSpot-RateLimit-*` headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateHeaders {
    /// `X-HubSpot-RateLimit-Max`.
    pub max: Option<u32>,
    /// `X-HubSpot-RateLimit-Remaining`.
    pub remaining: Option<u32>,
    /// `X-HubSpot-RateLimit-Interval-Milliseconds`.
    pub interval_ms: Option<u64>,
    /// `X-HubSpot-RateLimit-Daily`.
    pub daily: Option<u64>,
    /// `X-HubSpot-RateLimit-Daily-Remaining`.
    pub daily_remaining: Option<u64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another request panicked mid-update; the state is
    // still a valid schedule, so carry on with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RateGovernor {
    /// A governor for the given budgets.
    pub fn new(limits: RateLimits) -> Self {
        let burst = BurstState {
            pacer: Pacer::new(allowed(limits.burst, limits.safety_margin), limits.window),
            max: limits.burst,
            window: limits.window,
            hold_until: None,
        };
        let search = Pacer::new(limits.search_per_second, Duration::from_secs(1));
        let daily = DailyState {
            limit: limits.daily,
            remaining: limits.daily,
            exhausted_until: None,
        };
        Self {
            limits,
            burst: Mutex::new(burst),
            search: Mutex::new(search),
            daily: Mutex::new(daily),
        }
    }

    /// The configured budgets.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// The burst budget currently paced against: `(max, window)`, which headers may have changed.
    pub fn burst_budget(&self) -> (u32, Duration) {
        let b = lock(&self.burst);
        (b.max, b.window)
    }

    /// Waits until a request on `budget` may be sent, and counts it.
    ///
    /// # Errors
    /// [`DailyExhausted`] when the daily budget is spent; nothing is counted then.
    pub async fn acquire(&self, budget: Budget) -> Result<(), DailyExhausted> {
        self.take_daily()?;
        let at = {
            let now = Instant::now();
            match budget {
                Budget::Standard => {
                    let mut b = lock(&self.burst);
                    let now = b.hold_until.map_or(now, |h| h.max(now));
                    b.pacer.reserve(now)
                }
                Budget::Search => lock(&self.search).reserve(now),
                Budget::Exempt => now,
            }
        };
        tokio::time::sleep_until(at).await;
        Ok(())
    }

    fn take_daily(&self) -> Result<(), DailyExhausted> {
        let mut d = lock(&self.daily);
        if let Some(until) = &d.exhausted_until {
            if jiff::Timestamp::now() < until.timestamp() {
                return Err(DailyExhausted {
                    resets_at: until.clone(),
                });
            }
            d.exhausted_until = None;
            d.remaining = d.limit;
        }
        match d.remaining {
            Some(0) => {
                let resets_at = next_midnight(&self.limits.daily_reset_zone);
                d.exhausted_until = Some(resets_at.clone());
                Err(DailyExhausted { resets_at })
            }
            Some(n) => {
                d.remaining = Some(n - 1);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Learns from a response's rate-limit headers.
    pub fn observe(&self, h: &RateHeaders) {
        if let Some(remaining) = h.daily_remaining {
            let mut d = lock(&self.daily);
            d.remaining = Some(remaining);
            if h.daily.is_some() {
                d.limit = h.daily;
            }
        }
        if let (Some(max), Some(ms)) = (h.max, h.interval_ms) {
            let window = Duration::from_millis(ms.max(1));
            let mut b = lock(&self.burst);
            if max > 0 && (max != b.max || window != b.window) {
                let tat = b.pacer.tat;
                b.pacer = Pacer::new(allowed(max, self.limits.safety_margin), window);
                b.pacer.tat = tat;
                b.max = max;
                b.window = window;
                tracing::info!(
                    max,
                    window_ms = ms,
                    "rate budget taken from HubSpot's headers"
                );
            }
            if h.remaining == Some(0) {
                // The window is full (another app or process shares it): wait for two
                // slots' worth of time before the next standard request.
                let hold = Instant::now() + (window / max.max(1)) * 2;
                b.hold_until = Some(b.hold_until.map_or(hold, |h| h.max(hold)));
            }
        }
    }

    /// Holds every standard request for `wait` (after a rolling-window 429).
    pub fn hold(&self, wait: Duration) {
        let mut b = lock(&self.burst);
        let until = Instant::now() + wait;
        b.hold_until = Some(b.hold_until.map_or(until, |h| h.max(until)));
    }

    /// Marks the daily budget as spent (after a `DAILY` 429) and returns when it resets.
    pub fn daily_exhausted(&self) -> jiff::Zoned {
        let resets_at = next_midnight(&self.limits.daily_reset_zone);
        let mut d = lock(&self.daily);
        d.remaining = Some(0);
        d.exhausted_until = Some(resets_at.clone());
        resets_at
    }

    /// What remains of the daily budget, as far as the governor knows.
    pub fn daily_remaining(&self) -> Option<u64> {
        lock(&self.daily).remaining
    }
}

/// Requests allowed per window once the safety margin is kept back.
fn allowed(max: u32, margin: Option<u32>) -> u32 {
    let margin = margin.unwrap_or_else(|| (max / 50).max(2));
    max.saturating_sub(margin).max(1)
}

/// The next midnight in `zone`, as HubSpot resets the daily budget then.
fn next_midnight(zone: &TimeZone) -> jiff::Zoned {
    let now = jiff::Timestamp::now().to_zoned(zone.clone());
    now.date()
        .tomorrow()
        .and_then(|d| d.to_zoned(zone.clone()))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests;
