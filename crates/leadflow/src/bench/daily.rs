//! Benchmarks of the daily work over a large store: the lead-scoring run (its time, and
//! the API calls its writes cost against the sandbox, which must be the changed scores
//! divided by 100, rounded up) and the reports and dashboard (the whole dashboard's time,
//! goal < 1 s over 1,000,000 contacts on SQLite).

use std::time::Instant;

use leadflow_core::ObjectType;
use leadflow_sandbox::{Sandbox, Seed};
use leadflow_store::{Link, Store};
use serde_json::json;

use super::{
    BenchArgs, bench_contact, client_for, peak_rss_mib, progress, reset_peak_rss, sandbox_config,
    spec_project,
};

/// A temporary SQLite store.
async fn temp_store() -> anyhow::Result<(Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let store = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await?;
    Ok((store, dir))
}

/// Writes `n` generated contacts into the store, 500 per page (the ids given, or
/// generated ones), one in ten with a deal linked. Returns how many have a deal.
async fn fill(
    store: &Store,
    portal: &str,
    n: usize,
    ids: Option<&[String]>,
) -> anyhow::Result<usize> {
    let now = jiff::Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut rng = fastrand::Rng::with_seed(5);
    let bar = progress(n as u64, "generate");
    let mut with_deal = 0;
    for first in (0..n).step_by(500) {
        let page: Vec<leadflow_store::StoredRecord> = (first..(first + 500).min(n))
            .map(|i| {
                let mut r = bench_contact(i, &mut rng, today, now.as_millisecond());
                if let Some(ids) = ids {
                    r.id.clone_from(&ids[i]);
                }
                r
            })
            .collect();
        store
            .upsert_records(portal, ObjectType::Contacts, &page, "backfill", None)
            .await?;
        let deals: Vec<leadflow_store::StoredRecord> = page
            .iter()
            .map(|c| (c, rng.u8(..10), 1000 + rng.u32(..9000)))
            .filter(|(_, one_in_ten, _)| *one_in_ten == 0)
            .map(|(c, _, amount)| leadflow_store::StoredRecord {
                id: format!("9{}", c.id),
                properties: [
                    ("amount".to_owned(), Some(amount.to_string())),
                    ("dealname".to_owned(), Some(format!("Deal {}", c.id))),
                ]
                .into_iter()
                .collect(),
                created_at: c.created_at,
                updated_at: c.updated_at,
                archived: false,
            })
            .collect();
        store
            .upsert_records(portal, ObjectType::Deals, &deals, "backfill", None)
            .await?;
        let links: Vec<Link> = deals
            .iter()
            .map(|d| Link {
                from_id: d.id[1..].to_owned(),
                to_id: d.id.clone(),
                type_id: 4,
            })
            .collect();
        let from: Vec<String> = links.iter().map(|l| l.from_id.clone()).collect();
        with_deal += links.len();
        store
            .replace_associations(
                portal,
                ObjectType::Contacts,
                ObjectType::Deals,
                &from,
                &links,
            )
            .await?;
        bar.set_position((first + page.len()) as u64);
    }
    bar.finish_and_clear();
    Ok(with_deal)
}

/// The daily scoring run over N contacts, then its writes sent to the sandbox.
pub(super) async fn scoring(args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    let (project, _dir) = spec_project()?;
    let n = args.store_contacts;
    let mut config = sandbox_config(args);
    config.seed = Seed::Empty;
    let sb = Sandbox::spawn(config).await?;
    let client = client_for(sb.url(), args)?;
    let planned = leadflow_plan::plan(
        &project,
        &leadflow_plan::fetch(&client, &project).await?,
        false,
    );
    leadflow_plan::apply(&client, &planned, leadflow_plan::ApplyOptions::default()).await?;
    let seeded = Instant::now();
    let ids = sb.state().seed_contacts(n, 7);
    let seeded = seeded.elapsed().as_secs_f64();
    let (store, _store_dir) = temp_store().await?;
    let portal = "bench";
    let generated = Instant::now();
    fill(&store, portal, n, Some(&ids)).await?;
    let generated = generated.elapsed().as_secs_f64();
    let now = jiff::Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();

    reset_peak_rss();
    let start = Instant::now();
    let r = leadflow_automation::run_scoring(
        &store,
        portal,
        &project.scoring,
        today,
        now.as_millisecond(),
    )
    .await?;
    let scored_in = start.elapsed().as_secs_f64();
    let peak = peak_rss_mib();

    let map = leadflow_engine::PortalMap {
        pipeline_id: String::new(),
        stages: Default::default(),
        sequences: Default::default(),
        owners: Vec::new(),
        sender: project.settings.sequence_sender.clone(),
    };
    let before = sb.state().stats().requests;
    let start = Instant::now();
    let sent = leadflow_engine::Executor::new(&client, &store, portal, &map, now.as_millisecond())
        .run()
        .await?;
    let sent_in = start.elapsed().as_secs_f64();
    let calls = sb.state().stats().requests - before;
    let expected = r.changed.div_ceil(100);
    store.close().await;
    if !args.json {
        println!(
            "scoring: {n} stored contacts (sandbox seeded in {seeded:.1} s, store filled in {generated:.1} s)"
        );
        println!(
            "  scoring run in {scored_in:.2} s ({:.0} contacts/s; peak RSS {}): {} read, {} changed, {} write intents",
            r.read as f64 / scored_in,
            peak.map_or_else(|| "unknown".to_owned(), |p| format!("{p:.0} MiB")),
            r.read,
            r.changed,
            r.intents
        );
        println!(
            "  sent in {sent_in:.1} s: {calls} API calls for {} changed scores (ceil(changed / 100) = {expected}); {} done, {} dead",
            r.changed, sent.done, sent.dead
        );
    }
    anyhow::ensure!(
        calls as u64 == expected,
        "the scoring writes cost {calls} calls, not ceil({} / 100) = {expected}",
        r.changed
    );
    anyhow::ensure!(sent.dead == 0, "{} writes were dead-lettered", sent.dead);
    sb.shutdown().await;
    Ok(json!({
        "contacts": n, "read": r.read, "changed": r.changed, "intents": r.intents,
        "scoring_seconds": scored_in, "send_seconds": sent_in, "api_calls": calls,
        "expected_calls": expected, "peak_rss_mib": peak,
    }))
}

/// The report (with its charts) and the whole dashboard over N stored contacts.
pub(super) async fn reports(args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    use leadflow_reports::{Filters, Period, ReportSpec, Since};
    let (project, _dir) = spec_project()?;
    let n = args.store_contacts;
    let (store, _store_dir) = temp_store().await?;
    let portal = "bench";
    let generated = Instant::now();
    let with_deal = fill(&store, portal, n, None).await?;
    let generated = generated.elapsed().as_secs_f64();
    let now = jiff::Timestamp::now();
    let tz = jiff::tz::TimeZone::UTC;
    let period = Period::since(Since::Days(30), now, &tz)?;
    let mut runs = Vec::new();
    // Three rounds: the first reads a cold cache; the best and the last are reported.
    for _ in 0..3 {
        let start = Instant::now();
        for d in &project.reports.dashboards {
            leadflow_reports::dashboard(&store, portal, d, period.clone(), &Filters::default())
                .await?;
        }
        let dashboard = start.elapsed().as_secs_f64();
        let start = Instant::now();
        for r in &project.reports.reports {
            let spec = ReportSpec::from_config(r, &project.properties)?;
            leadflow_reports::report(
                &store,
                portal,
                &spec,
                period.clone(),
                None,
                &Filters::default(),
            )
            .await?;
        }
        runs.push((dashboard, start.elapsed().as_secs_f64()));
    }
    store.close().await;
    let best = |f: fn(&(f64, f64)) -> f64| runs.iter().map(f).fold(f64::INFINITY, f64::min);
    let (dash_best, report_best) = (best(|r| r.0), best(|r| r.1));
    if !args.json {
        println!(
            "reports: {n} stored contacts, {with_deal} with a deal (filled in {generated:.1} s)"
        );
        for (i, (d, r)) in runs.iter().enumerate() {
            println!(
                "  round {}: whole dashboard {d:.3} s (goal < 1 s), report with its charts {r:.3} s",
                i + 1
            );
        }
    }
    Ok(json!({
        "contacts": n, "with_deal": with_deal, "dashboard_seconds": dash_best,
        "report_seconds": report_best, "rounds": runs,
    }))
}
