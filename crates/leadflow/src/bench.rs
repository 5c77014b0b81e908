//! `leadflow bench`: benchmarks kept in the repository, measured side by side in one run.
//!
//! - `pacing`: the client against a sandbox set to a burst budget (190 per window, the
//!   window scaled down): achieved request rate as a fraction of the budget, and the share
//!   of requests answered 429.
//! - `list`: listing N contacts through the client: records per second as a fraction of
//!   the ceiling the budget allows (requests allowed × 100 per page).
//! - `sandbox`: the sandbox's own throughput for a simple GET and for a search over
//!   100,000 contacts, with the limits lifted.
//!
//! - `backfill`: a sandbox in a second process with N contacts, backfilled into SQLite:
//!   records per second as a fraction of the ceiling, and peak RSS.
//! - `webhooks`: `leadflow serve` in a second process, SQLite store; concurrent signed
//!   deliveries of 100 events: events stored durably per second and response-time
//!   percentiles, then a count of what the store holds.
//!
//! - `engine`: pure evaluation of the spec's four workflows: contact-events per second on
//!   one core, over a mix of tags, response changes, daily checks and other changes.
//! - `workflow`: N newly tagged contacts through workflow 1 against the sandbox: the API
//!   calls made, against the fewest possible with batching and one call per action.
//! - `simulate`: N contacts written straight into a temporary SQLite store (with their
//!   events, some deals and enrollments), then `workflows simulate` over all of them:
//!   seconds and peak RSS of the dry run alone.
//! - `scoring`: the daily lead-scoring run over N stored contacts (which the sandbox holds
//!   too), then its writes sent: seconds, and API calls against ceil(changed / 100).
//! - `reports`: the report with its charts and the whole dashboard over N stored contacts
//!   on SQLite: seconds per round (goal < 1 s for the dashboard).
//!
//! Figures go to stdout as a table, and as one JSON object with `--json`.

mod daily;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use futures::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{Client, ClientConfig, Credentials, ListOptions, RateLimits};
use leadflow_sandbox::{Sandbox, SandboxConfig, Seed};
use serde_json::json;

/// Options of `leadflow bench`.
#[derive(Debug, Clone, Args)]
pub(crate) struct BenchArgs {
    /// Which benchmark to run (`all` runs pacing, list and sandbox; `backfill`, `webhooks`, `engine`, `workflow`, `simulate`, `scoring` and `reports` run alone).
    #[arg(value_enum, default_value_t = Which::All)]
    which: Which,
    /// Contacts in the portal for the backfill benchmark.
    #[arg(long, default_value_t = 200_000)]
    backfill_contacts: usize,
    /// The rolling window in milliseconds (HubSpot's is 10000; scaled down to finish sooner).
    #[arg(long, default_value_t = 1000)]
    window_ms: u64,
    /// Requests allowed per window.
    #[arg(long, default_value_t = 190)]
    burst: u32,
    /// Requests sent by the pacing benchmark.
    #[arg(long, default_value_t = 3000)]
    requests: usize,
    /// Concurrent callers in the pacing benchmark.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Contacts in the portal for the listing benchmark.
    #[arg(long, default_value_t = 200_000)]
    contacts: usize,
    /// Contacts in the portal for the sandbox throughput benchmark.
    #[arg(long, default_value_t = 100_000)]
    sandbox_contacts: usize,
    /// Seconds per sandbox throughput measurement.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Events sent by the webhook ingest benchmark.
    #[arg(long, default_value_t = 200_000)]
    webhook_events: usize,
    /// Events per delivery (HubSpot sends at most 100).
    #[arg(long, default_value_t = 100)]
    webhook_batch: usize,
    /// Concurrent deliveries in the webhook ingest benchmark (HubSpot's default
    /// `maxConcurrentRequests` is 10).
    #[arg(long, default_value_t = 10)]
    webhook_concurrency: usize,
    /// Contact-events evaluated by the engine benchmark.
    #[arg(long, default_value_t = 2_000_000)]
    engine_events: usize,
    /// Newly tagged contacts in the workflow benchmark.
    #[arg(long, default_value_t = 1000)]
    tagged: usize,
    /// Stored contacts in the simulate benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    simulate_contacts: usize,
    /// Contacts in the scoring and reports benchmarks.
    #[arg(long, default_value_t = 1_000_000)]
    store_contacts: usize,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    All,
    Pacing,
    List,
    Sandbox,
    Backfill,
    Webhooks,
    Engine,
    Workflow,
    Simulate,
    Scoring,
    Reports,
}

pub(crate) fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

pub(crate) fn sandbox_config(args: &BenchArgs) -> SandboxConfig {
    let mut config = SandboxConfig {
        seed: Seed::Empty,
        ..SandboxConfig::default()
    };
    config.limits.burst = args.burst;
    config.limits.window = Duration::from_millis(args.window_ms);
    config
}

pub(crate) fn client_for(url: String, args: &BenchArgs) -> anyhow::Result<Client> {
    let mut config = ClientConfig::new(url, Credentials::Token(Secret::new("bench")));
    config.limits = RateLimits {
        burst: args.burst,
        window: Duration::from_millis(args.window_ms),
        ..RateLimits::default()
    };
    config.limits.daily = None;
    Ok(Client::new(config)?)
}

pub(crate) async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let mut report = serde_json::Map::new();
    if matches!(args.which, Which::All | Which::Pacing) {
        report.insert("pacing".into(), pacing(&args).await?);
    }
    if matches!(args.which, Which::All | Which::List) {
        report.insert("list".into(), list(&args).await?);
    }
    if matches!(args.which, Which::All | Which::Sandbox) {
        report.insert("sandbox".into(), sandbox_throughput(&args).await?);
    }
    if args.which == Which::Backfill {
        report.insert("backfill".into(), backfill(&args).await?);
    }
    if args.which == Which::Webhooks {
        report.insert("webhooks".into(), webhooks(&args).await?);
    }
    if args.which == Which::Engine {
        report.insert("engine".into(), engine_eval(&args)?);
    }
    if args.which == Which::Workflow {
        report.insert("workflow".into(), workflow_calls(&args).await?);
    }
    if args.which == Which::Scoring {
        report.insert("scoring".into(), daily::scoring(&args).await?);
    }
    if args.which == Which::Reports {
        report.insert("reports".into(), daily::reports(&args).await?);
    }
    if args.which == Which::Simulate {
        report.insert("simulate".into(), simulate(&args).await?);
    }
    if args.json {
        println!("{}", serde_json::Value::Object(report));
    }
    Ok(ExitCode::SUCCESS)
}

async fn pacing(args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    let sandbox = Sandbox::spawn(sandbox_config(args)).await?;
    let ids = sandbox.state().seed_contacts(1000, 7);
    let client = client_for(sandbox.url(), args)?;
    let ids = Arc::new(ids);
    let bar = progress(args.requests as u64, "pacing");
    let start = Instant::now();
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(0..args.requests)
        .map(|i| {
            let client = client.clone();
            let ids = ids.clone();
            let bar = bar.clone();
            async move {
                let id = &ids[i % ids.len()];
                client.objects(ObjectType::Contacts).get(id, &[]).await?;
                bar.inc(1);
                Ok(())
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    let elapsed = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let failed = results.iter().filter(|r| r.is_err()).count();
    let stats = sandbox.state().stats();
    let answered_429 = stats.by_status.get(&429).copied().unwrap_or(0);
    let budget_rate = f64::from(args.burst) / (args.window_ms as f64 / 1000.0);
    let achieved = args.requests as f64 / elapsed;
    let fraction = achieved / budget_rate;
    let share_429 = answered_429 as f64 / stats.requests.max(1) as f64;
    sandbox.shutdown().await;
    if !args.json {
        println!(
            "pacing: {} requests, {} concurrent, budget {} per {} ms",
            args.requests, args.concurrency, args.burst, args.window_ms
        );
        println!(
            "  achieved {achieved:.1} req/s of {budget_rate:.1} allowed = {fraction:.3} of the budget (goal >= 0.95)"
        );
        println!(
            "  answered 429: {answered_429} of {} = {:.3} % (goal < 0.5 %); failed calls: {failed}",
            stats.requests,
            share_429 * 100.0
        );
    }
    Ok(json!({
        "requests": args.requests, "seconds": elapsed, "achieved_rps": achieved, "budget_rps": budget_rate,
        "fraction_of_budget": fraction, "answered_429": answered_429, "share_429": share_429, "failed": failed,
    }))
}

async fn list(args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    let sandbox = Sandbox::spawn(sandbox_config(args)).await?;
    let seed_start = Instant::now();
    sandbox.state().seed_contacts(args.contacts, 11);
    let seeded_in = seed_start.elapsed().as_secs_f64();
    let client = client_for(sandbox.url(), args)?;
    let bar = progress(args.contacts as u64, "listing");
    let start = Instant::now();
    let mut seen = 0usize;
    let mut pages = std::pin::pin!(
        client
            .objects(ObjectType::Contacts)
            .list_pages(ListOptions::default())
    );
    while let Some(page) = pages.try_next().await.context("listing contacts")? {
        seen += page.results.len();
        bar.inc(page.results.len() as u64);
    }
    let elapsed = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let ceiling = f64::from(args.burst) / (args.window_ms as f64 / 1000.0) * 100.0;
    let rate = seen as f64 / elapsed;
    let stats = sandbox.state().stats();
    sandbox.shutdown().await;
    if !args.json {
        println!(
            "list: {seen} contacts (seeded in {seeded_in:.1} s) listed in {elapsed:.1} s with {} requests",
            stats.requests
        );
        println!(
            "  {rate:.0} records/s of a {ceiling:.0} records/s ceiling = {:.3} of the ceiling",
            rate / ceiling
        );
    }
    anyhow::ensure!(
        seen == args.contacts,
        "listed {seen} contacts but the portal holds {}",
        args.contacts
    );
    Ok(json!({
        "contacts": seen, "seconds": elapsed, "records_per_second": rate, "ceiling": ceiling,
        "fraction_of_ceiling": rate / ceiling, "requests": stats.requests, "answered_429": stats.by_status.get(&429).copied().unwrap_or(0),
    }))
}

async fn sandbox_throughput(args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    let mut config = SandboxConfig {
        seed: Seed::Empty,
        ..SandboxConfig::default()
    };
    config.limits.burst = u32::MAX;
    config.limits.search_per_second = u32::MAX;
    config.limits.daily = u64::MAX;
    let sandbox = Sandbox::spawn(config).await?;
    let ids = Arc::new(sandbox.state().seed_contacts(args.sandbox_contacts, 3));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let url = sandbox.url();
    let duration = Duration::from_secs(args.seconds);

    let get_rps = hammer(duration, 32, {
        let http = http.clone();
        let url = url.clone();
        let ids = ids.clone();
        move |i| {
            let request = http
                .get(format!(
                    "{url}/crm/v3/objects/contacts/{}",
                    ids[i % ids.len()]
                ))
                .bearer_auth("bench");
            async move { request.send().await.map(|r| r.status().as_u16()) }
        }
    })
    .await?;
    let search_rps = hammer(duration, 8, {
        let http = http.clone();
        let url = url.clone();
        move |i| {
            let letters = ["a", "e", "i", "o", "u"];
            let body = json!({
                "filterGroups": [{ "filters": [
                    { "propertyName": "firstname", "operator": "CONTAINS_TOKEN", "value": format!("*{}*", letters[i % letters.len()]) },
                    { "propertyName": "lifecyclestage", "operator": "EQ", "value": "lead" }
                ]}],
                "sorts": [{ "propertyName": "hs_object_id", "direction": "ASCENDING" }],
                "properties": ["email", "firstname"],
                "limit": 100
            });
            let request = http.post(format!("{url}/crm/v3/objects/contacts/search")).bearer_auth("bench").json(&body);
            async move { request.send().await.map(|r| r.status().as_u16()) }
        }
    })
    .await?;
    sandbox.shutdown().await;
    if !args.json {
        println!(
            "sandbox: GET one contact: {:.0} req/s; search over {} contacts: {:.0} req/s",
            get_rps, args.sandbox_contacts, search_rps
        );
    }
    Ok(json!({ "get_rps": get_rps, "search_rps": search_rps, "contacts": args.sandbox_contacts }))
}

/// Runs `make(i)` with `concurrency` callers for `duration`; returns successful requests per second.
async fn hammer<F, Fut>(duration: Duration, concurrency: usize, make: F) -> anyhow::Result<f64>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = reqwest::Result<u16>> + Send,
{
    let start = Instant::now();
    let deadline = start + duration;
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let make = make.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            let mut i = worker;
            while Instant::now() < deadline {
                if matches!(make(i).await, Ok(200)) {
                    ok += 1;
                }
                i += concurrency;
            }
            counter.fetch_add(ok, std::sync::atomic::Ordering::Relaxed);
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(counter.load(std::sync::atomic::Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// Peak resident memory of this process, from `/proc/self/status` (Linux), in MiB.
pub(crate) fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Backfill from a sandbox in a second process into SQLite, so the peak memory measured
/// is the sync side's alone.
async fn backfill(args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    let (mut child, url) = spawn_self(
        |port| {
            [
                "sandbox".to_owned(),
                "--empty".to_owned(),
                "--port".to_owned(),
                port.to_string(),
                "--burst".to_owned(),
                args.burst.to_string(),
                "--window-ms".to_owned(),
                args.window_ms.to_string(),
            ]
            .to_vec()
        },
        &[],
        "/__sandbox/health",
    )
    .await?;
    let http = reqwest::Client::new();
    http.post(format!(
        "{url}/__sandbox/seed/contacts?n={}&seed=5",
        args.backfill_contacts
    ))
    .send()
    .await?
    .error_for_status()?;
    let dir = tempfile::tempdir()?;
    let store = leadflow_store::Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await?;
    let client = client_for(url, args)?;
    let opts = leadflow_sync::SyncOptions::new(
        "bench",
        [
            "email",
            "firstname",
            "lastname",
            "company",
            "jobtitle",
            "lifecyclestage",
            "hubspot_owner_id",
        ]
        .map(String::from)
        .to_vec(),
    );
    let rss_before = peak_rss_mib();
    let bar = progress(args.backfill_contacts as u64, "backfill");
    let start = Instant::now();
    let report = leadflow_sync::backfill(&client, &store, ObjectType::Contacts, &opts, &|n| {
        bar.inc(n as u64)
    })
    .await?;
    let elapsed = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let stored = store.count("bench", ObjectType::Contacts, false).await?;
    let peak = peak_rss_mib();
    store.close().await;
    let _ = child.kill().await;
    let ceiling = f64::from(args.burst) / (args.window_ms as f64 / 1000.0) * 100.0;
    let rate = report.records as f64 / elapsed;
    if !args.json {
        println!(
            "backfill: {} contacts stored in {elapsed:.1} s ({} pages)",
            stored, report.pages
        );
        println!(
            "  {rate:.0} records/s of a {ceiling:.0} records/s ceiling = {:.3} (goal >= 0.9)",
            rate / ceiling
        );
        println!(
            "  peak RSS of the syncing process: {:.0} MiB (before: {:.0} MiB; goal < 150 MB)",
            peak.unwrap_or(0.0),
            rss_before.unwrap_or(0.0)
        );
    }
    anyhow::ensure!(
        stored as usize == args.backfill_contacts,
        "stored {stored} of {} contacts",
        args.backfill_contacts
    );
    Ok(
        json!({ "contacts": stored, "seconds": elapsed, "records_per_second": rate, "fraction_of_ceiling": rate / ceiling, "peak_rss_mib": peak }),
    )
}

/// Starts this binary as a second process (`args` is given the free port it is to listen
/// on) and waits until `GET probe` answers.
async fn spawn_self(
    args: impl FnOnce(u16) -> Vec<String>,
    env: &[(&str, &str)],
    probe: &str,
) -> anyhow::Result<(tokio::process::Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let exe = std::env::current_exe()?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.args(args(port))
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().context("starting a second leadflow process")?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if http.get(format!("{url}{probe}")).send().await.is_ok() {
            return Ok((child, url));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the second leadflow process did not start")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn webhooks(args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    const SECRET: &str = "bench-webhook-secret";
    let dir = tempfile::tempdir()?;
    let db = format!("sqlite://{}", dir.path().join("hooks.db").display());
    let (mut child, url) = spawn_self(
        |port| {
            [
                "serve",
                "--receive-only",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                &db,
                "--portal",
                "bench",
            ]
            .map(str::to_owned)
            .to_vec()
        },
        &[("LEADFLOW_WEBHOOK_SECRET", SECRET)],
        "/health",
    )
    .await?;
    let target = format!("{url}/webhooks/hubspot");
    let batch = args.webhook_batch.clamp(1, 100);
    let deliveries = args.webhook_events.div_ceil(batch);
    let http = reqwest::Client::new();
    let bar = progress(deliveries as u64, "webhooks");
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..args.webhook_concurrency.max(1))
        .map(|_| {
            let (http, target, next, bar) = (http.clone(), target.clone(), next.clone(), bar.clone());
            let total = args.webhook_events;
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let d = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if d >= deliveries {
                        return Ok::<_, anyhow::Error>(latencies);
                    }
                    let now = jiff::Timestamp::now().as_millisecond();
                    let events: Vec<serde_json::Value> = (d * batch..((d + 1) * batch).min(total))
                        .map(|i| json!({
                            "eventId": i, "subscriptionId": 1, "portalId": 1, "appId": 1, "occurredAt": now,
                            "subscriptionType": "contact.propertyChange", "attemptNumber": 0, "objectId": 1000 + i % 5000,
                            "propertyName": "response_status", "propertyValue": "Interested", "changeSource": "CRM",
                        }))
                        .collect();
                    let body = serde_json::to_vec(&events)?;
                    let ts = now.to_string();
                    let signed = target.replacen("http://", "https://", 1);
                    let sig = leadflow_hubspot::webhooks::sign_v3(SECRET, "POST", &signed, &body, &ts);
                    let t0 = Instant::now();
                    let r = http
                        .post(&target)
                        .header("content-type", "application/json")
                        .header("x-hubspot-signature-v3", sig)
                        .header("x-hubspot-request-timestamp", ts)
                        .body(body)
                        .send()
                        .await?;
                    anyhow::ensure!(r.status().is_success(), "a delivery got {}", r.status());
                    latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
                    bar.inc(1);
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(deliveries);
    for w in workers {
        latencies.extend(w.await??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let _ = child.kill().await;
    latencies.sort_by(f64::total_cmp);
    let store = leadflow_store::Store::connect(&db).await?;
    let (stored, _) = store.pending_webhook_summary("bench").await?;
    store.close().await;
    let rate = stored as f64 / elapsed;
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    if !args.json {
        println!(
            "webhooks: {stored} events in {deliveries} signed deliveries of {batch}, {} concurrent, in {elapsed:.1} s",
            args.webhook_concurrency
        );
        println!("  {rate:.0} events/s stored durably (goal >= 5000)");
        println!(
            "  response time p50 {p50:.1} ms, p99 {p99:.1} ms, max {:.1} ms (goal p99 < 50 ms)",
            latencies.last().copied().unwrap_or(0.0)
        );
    }
    anyhow::ensure!(
        stored as usize == args.webhook_events,
        "the store holds {stored} of {} events",
        args.webhook_events
    );
    Ok(
        json!({ "events": stored, "deliveries": deliveries, "seconds": elapsed, "events_per_second": rate, "p50_ms": p50, "p99_ms": p99 }),
    )
}

pub(crate) fn spec_project() -> anyhow::Result<(leadflow_config::Project, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    leadflow_config::init(dir.path(), false)?;
    let (project, diags) = leadflow_config::load(dir.path());
    anyhow::ensure!(
        diags.is_empty(),
        "the spec's configuration has problems: {diags:?}"
    );
    Ok((project, dir))
}

fn engine_eval(args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    use leadflow_engine::{Evaluator, Signal, Subject};
    let (project, _dir) = spec_project()?;
    let evaluator = Evaluator::new(&project.workflows, &project.properties)?;
    let today = jiff::civil::date(2026, 11, 25);
    let mut rng = fastrand::Rng::with_seed(7);
    let statuses = [
        "No Response",
        "Interested",
        "Not Interested",
        "Meeting Scheduled",
    ];
    let subjects: Vec<Subject> = (0..10_000)
        .map(|n| {
            let status = statuses[rng.usize(..4)];
            let props = [
                ("firstname", format!("First{n}")),
                ("lastname", format!("Last{n}")),
                ("company", format!("Company {}", n % 300)),
                ("icp_fit_score", rng.u32(1..=10).to_string()),
                ("lead_score", rng.u32(1..=100).to_string()),
                ("response_status", status.to_owned()),
                (
                    "last_outreach_date",
                    format!("2026-11-{:02}", rng.u32(1..=25)),
                ),
                ("campaign_tag", "Manual Outreach - 2026-11-24".to_owned()),
            ];
            Subject {
                id: n.to_string(),
                properties: props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                has_deal: rng.bool(),
            }
        })
        .collect();
    // The mix a portal sees: most changes concern no workflow.
    let signals: Vec<Signal> = (0..1000)
        .map(|n| match n % 10 {
            0 => Signal::Changed {
                property: "campaign_tag".into(),
                old: None,
                new: Some(if n % 20 == 0 {
                    "Manual Outreach - 2026-11-24".into()
                } else {
                    "Automated Outreach - Fintech".into()
                }),
            },
            1 => Signal::Changed {
                property: "response_status".into(),
                old: Some("No Response".into()),
                new: Some(statuses[1 + n % 3].into()),
            },
            2 => Signal::Tick,
            3 => Signal::Created,
            _ => Signal::Changed {
                property: ["firstname", "lead_score", "jobtitle", "phone"][n % 4].into(),
                old: Some("a".into()),
                new: Some("b".into()),
            },
        })
        .collect();
    let n = args.engine_events;
    let bar = progress(n as u64, "evaluate");
    let start = Instant::now();
    let mut runs = 0usize;
    for i in 0..n {
        runs += evaluator
            .evaluate(
                &signals[i % signals.len()],
                &subjects[i % subjects.len()],
                today,
            )
            .len();
        if i % 100_000 == 0 {
            bar.set_position(i as u64);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let rate = n as f64 / elapsed;
    if !args.json {
        println!(
            "engine: {n} contact-events through the four workflows in {elapsed:.2} s on one core ({runs} runs started)"
        );
        println!("  {rate:.0} contact-events/s (goal >= 1,000,000)");
    }
    Ok(json!({ "events": n, "runs": runs, "seconds": elapsed, "events_per_second": rate }))
}

async fn workflow_calls(args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    use leadflow_hubspot::{ObjectInput, PropertyValues};
    let (project, _dir) = spec_project()?;
    let mut config = SandboxConfig::default();
    config.limits.burst = 100_000;
    config.limits.search_per_second = 100_000;
    let sb = Sandbox::spawn(config).await?;
    let client = client_for(
        sb.url(),
        &BenchArgs {
            burst: 100_000,
            ..args.clone()
        },
    )?;
    let planned = leadflow_plan::plan(
        &project,
        &leadflow_plan::fetch(&client, &project).await?,
        false,
    );
    leadflow_plan::apply(&client, &planned, leadflow_plan::ApplyOptions::default()).await?;
    let store_dir = tempfile::tempdir()?;
    let store = leadflow_store::Store::connect(&format!(
        "sqlite://{}",
        store_dir.path().join("bench.db").display()
    ))
    .await?;
    let portal = "bench";
    let properties = crate::sync_cmd::all_properties();
    let opts = leadflow_sync::StepOptions {
        portal: portal.into(),
        types: vec![ObjectType::Contacts, ObjectType::Deals],
        properties,
        max_pages: None,
        restart: false,
    };
    let quiet = |_: ObjectType, _: usize| {};
    for step in [
        leadflow_sync::Step::Backfill,
        leadflow_sync::Step::Reference,
    ] {
        leadflow_sync::run_step(&client, &store, step, &opts, &quiet).await?;
    }
    let owner = store
        .owners(portal)
        .await?
        .first()
        .map(|o| o.id.clone())
        .unwrap_or_default();
    let mut rng = fastrand::Rng::with_seed(11);
    let fits: Vec<u32> = (0..args.tagged).map(|_| rng.u32(1..=10)).collect();
    let inputs: Vec<ObjectInput> = fits
        .iter()
        .enumerate()
        .map(|(n, fit)| ObjectInput {
            properties: PropertyValues::from([
                ("email".to_owned(), format!("bench{n}@leads.example")),
                ("firstname".to_owned(), format!("Lead{n}")),
                ("lastname".to_owned(), "Bench".to_owned()),
                ("company".to_owned(), "Bench Co".to_owned()),
                ("icp_fit_score".to_owned(), fit.to_string()),
                (
                    "campaign_tag".to_owned(),
                    "Manual Outreach - 2026-11-24".to_owned(),
                ),
                ("hubspot_owner_id".to_owned(), owner.clone()),
            ]),
            ..ObjectInput::default()
        })
        .collect();
    client
        .objects(ObjectType::Contacts)
        .batch_create(inputs)
        .await?;
    leadflow_sync::run_step(
        &client,
        &store,
        leadflow_sync::Step::Incremental,
        &opts,
        &quiet,
    )
    .await?;
    let engine = leadflow_engine::Engine::new(project.clone(), portal)?;
    let map =
        leadflow_engine::PortalMap::load(&store, portal, &project.settings, &project.workflows)
            .await?;
    let deals_before = sb.state().count("deals");
    let enrolled_before = sb.state().enrollments().len();
    sb.state().reset_stats();
    let start = Instant::now();
    let report = leadflow_engine::run_once(
        &engine,
        &client,
        &store,
        &map,
        jiff::Timestamp::now(),
        &jiff::tz::TimeZone::UTC,
    )
    .await?;
    let elapsed = start.elapsed().as_secs_f64();
    let calls = sb.state().stats().requests as usize;
    // What the run made, read from the portal.
    let deals = sb.state().count("deals") - deals_before;
    let enrolls = sb.state().enrollments().len() - enrolled_before;
    let n = args.tagged;
    // Fewest possible: contact writes 100 per call, deal upserts and their links 100 per
    // call, enrollments one call each (HubSpot has no batch enrollment).
    let minimum = n.div_ceil(100) + 2 * deals.div_ceil(100) + enrolls;
    // One call per action: four property writes per contact, a create and a link per deal.
    let naive = 4 * n + 2 * deals + enrolls;
    if !args.json {
        println!(
            "workflow: {n} newly tagged contacts through workflow 1 in {elapsed:.2} s: {deals} deals, {enrolls} enrollments, {} dead",
            report.executed.dead
        );
        println!(
            "  {calls} API calls; fewest possible {minimum} ({:.3}x, goal <= 1.1x); one call per action {naive} ({:.1}x fewer)",
            calls as f64 / minimum as f64,
            naive as f64 / calls.max(1) as f64
        );
    }
    store.close().await;
    sb.shutdown().await;
    Ok(
        json!({ "contacts": n, "calls": calls, "minimum": minimum, "one_per_action": naive, "ratio_to_minimum": calls as f64 / minimum as f64, "deals": deals, "enrollments": enrolls, "dead": report.executed.dead }),
    )
}

/// Resets this process's peak resident memory to its current size (Linux), so the peak
/// read afterwards is that of what follows.
pub(crate) fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A contact of the simulate benchmark: a spread of tags (manual, automated, none),
/// ICP fits 1-10, response statuses and last outreach dates over the past two weeks.
pub(crate) fn bench_contact(
    n: usize,
    rng: &mut fastrand::Rng,
    today: jiff::civil::Date,
    now_ms: i64,
) -> leadflow_store::StoredRecord {
    let day = |back: i64| {
        today
            .checked_sub(jiff::Span::new().days(back))
            .map_or_else(|_| today.to_string(), |d| d.to_string())
    };
    let tag = match rng.u8(..10) {
        0..=2 => Some(format!("Manual Outreach - {}", day(rng.i64(0..7)))),
        3..=5 => Some(format!(
            "Automated Outreach - {}",
            ["Fintech", "Healthcare", "Retail", "SaaS"][rng.usize(..4)]
        )),
        _ => None,
    };
    let status = match rng.u8(..20) {
        0..=9 => Some("No Response"),
        10..=12 => Some("Interested"),
        13..=15 => Some("Not Interested"),
        16..=17 => Some("Meeting Scheduled"),
        _ => None,
    };
    let mut props: std::collections::BTreeMap<String, Option<String>> = [
        ("email", Some(format!("lead{n}@bench.example"))),
        ("firstname", Some(format!("Lead{n}"))),
        ("lastname", Some("Bench".to_owned())),
        ("company", Some(format!("Company {}", n % 5000))),
        ("icp_fit_score", Some(rng.u32(1..=10).to_string())),
        ("lead_score", Some(rng.u32(1..=100).to_string())),
        ("hubspot_owner_id", Some(format!("{}", 100 + n % 7))),
        ("campaign_tag", tag),
        (
            "icp_type",
            Some(["ICP-A", "ICP-B", "ICP-C"][rng.usize(..3)].to_owned()),
        ),
        (
            "message_strategy",
            Some(
                ["Time Focus", "Quality Focus", "Production Focus", "Custom"][rng.usize(..4)]
                    .to_owned(),
            ),
        ),
        (
            "qualification_status",
            Some(
                ["Unqualified", "Unqualified", "Qualified", "Hot Lead"][rng.usize(..4)].to_owned(),
            ),
        ),
        ("session_id", Some(format!("session-{}", n % 40))),
        ("response_status", status.map(str::to_owned)),
        ("last_outreach_date", status.map(|_| day(rng.i64(0..14)))),
        ("lead_source", status.map(|_| "Outbound".to_owned())),
        ("jobtitle", None),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if rng.u8(..10) == 0 {
        props.insert("phone".to_owned(), Some(String::new()));
    }
    // Created over the past six weeks (most inside `--since 30d`), changed since.
    let created_at = now_ms - rng.i64(0..42 * 86_400_000);
    let updated_at = created_at + (now_ms - created_at) / 2;
    leadflow_store::StoredRecord {
        id: (1_000_000 + n).to_string(),
        properties: props,
        created_at: Some(created_at),
        updated_at,
        archived: false,
    }
}

/// `workflows simulate` over N stored contacts: the command's own function, timed.
async fn simulate(args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    use leadflow_store::{Link, NewEnrollment, Store};
    let (project, _dir) = spec_project()?;
    let store_dir = tempfile::tempdir()?;
    let store = Store::connect(&format!(
        "sqlite://{}",
        store_dir.path().join("bench.db").display()
    ))
    .await?;
    let portal = "bench";
    let n = args.simulate_contacts;
    let now = jiff::Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut rng = fastrand::Rng::with_seed(5);
    let bar = progress(n as u64, "generate");
    let generate_start = Instant::now();
    let mut stored_events = 0usize;
    let mut with_deal = 0usize;
    let mut enrolled = 0usize;
    for first in (0..n).step_by(500) {
        let page: Vec<leadflow_store::StoredRecord> = (first..(first + 500).min(n))
            .map(|i| bench_contact(i, &mut rng, today, now.as_millisecond()))
            .collect();
        stored_events += store
            .upsert_records(portal, ObjectType::Contacts, &page, "incremental", None)
            .await?
            .events;
        // One contact in ten has a deal; one in fifty ran workflow 1 on its tag already.
        let (ids, links): (Vec<String>, Vec<Link>) = page
            .iter()
            .filter(|_| rng.u8(..10) == 0)
            .map(|r| {
                let link = Link {
                    from_id: r.id.clone(),
                    to_id: format!("9{}", r.id),
                    type_id: 4,
                };
                (r.id.clone(), link)
            })
            .unzip();
        with_deal += ids.len();
        store
            .replace_associations(
                portal,
                ObjectType::Contacts,
                ObjectType::Deals,
                &ids,
                &links,
            )
            .await?;
        for r in &page {
            let Some(Some(tag)) = r.properties.get("campaign_tag") else {
                continue;
            };
            if tag.starts_with("Manual") && rng.u8(..7) == 0 {
                let e = NewEnrollment {
                    workflow: "workflow_manual_outreach".to_owned(),
                    contact_id: r.id.clone(),
                    trigger_value: tag.clone(),
                    event_seq: None,
                    at: r.updated_at,
                };
                enrolled += usize::from(store.enroll(portal, &e, &[]).await?);
            }
        }
        bar.set_position((first + page.len()) as u64);
    }
    bar.finish_and_clear();
    let generated_in = generate_start.elapsed().as_secs_f64();
    let engine = leadflow_engine::Engine::new(project, portal)?;
    let since = now
        .checked_sub(jiff::SignedDuration::from_hours(30 * 24))?
        .as_millisecond();
    reset_peak_rss();
    let start = Instant::now();
    let sim = crate::workflows_cmd::simulate::simulate(&engine, &store, portal, None, since, today)
        .await?;
    let elapsed = start.elapsed().as_secs_f64();
    let peak = peak_rss_mib();
    store.close().await;
    let would_enroll: usize = sim.workflows.iter().map(|w| w.contacts).sum();
    let already: usize = sim
        .workflows
        .iter()
        .map(|w| w.already_enrolled_contacts)
        .sum();
    if !args.json {
        println!(
            "simulate: {n} stored contacts ({stored_events} events, {with_deal} with a deal, {enrolled} enrolled already; generated in {generated_in:.1} s)"
        );
        println!(
            "  dry run in {elapsed:.2} s (goal < 10 s): {} events replayed, {} time-based candidates, {would_enroll} workflow entries, {already} already enrolled, {} API calls estimated",
            sim.events, sim.time_based_candidates, sim.total_api_calls
        );
        println!(
            "  {:.0} contacts/s, {:.0} events/s; peak RSS of the dry run {}",
            n as f64 / elapsed,
            sim.events as f64 / elapsed,
            peak.map_or_else(|| "unknown".to_owned(), |p| format!("{p:.0} MiB"))
        );
    }
    anyhow::ensure!(
        sim.events == stored_events,
        "replayed {} of {stored_events} events",
        sim.events
    );
    Ok(json!({
        "contacts": n, "events": sim.events, "seconds": elapsed, "generated_seconds": generated_in,
        "contacts_per_second": n as f64 / elapsed, "peak_rss_mib": peak,
        "time_based_candidates": sim.time_based_candidates, "workflow_entries": would_enroll,
        "already_enrolled": already, "with_deal": with_deal, "api_calls": sim.total_api_calls,
    }))
}
