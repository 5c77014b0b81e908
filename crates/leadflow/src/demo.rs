//! `leadflow demo`: the main job on embedded defaults.
//!
//! It starts the HubSpot sandbox in-process (seeded with owners, the default pipeline, the
//! spec's four sequences and a few hundred contacts, companies and deals), writes the
//! spec's configuration, applies its properties and stages, backfills a SQLite store, tags
//! a batch of new outbound contacts, runs the four workflows on them, simulates responses
//! and a quiet week, runs the workflows again, and prints what happened at each step and
//! what the workflows did. Then it serves the web dashboard over the store it filled
//! (`--bind`, default 127.0.0.1:8080) until Ctrl-C, unless `--no-serve`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use comfy_table::Table;
use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{Client, ClientConfig, Credentials, ObjectUpdate, PropertyValues};
use leadflow_sandbox::{Sandbox, SandboxConfig};
use leadflow_store::Store;
use leadflow_sync::{Step as SyncStep, StepOptions};

/// Options of `leadflow demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// New outbound contacts to tag and run through the workflows.
    #[arg(long, default_value_t = 500)]
    contacts: usize,
    /// Keep the project and the store in this directory (default: a temporary one, removed).
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Where to serve the dashboard once the demo has run.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// Exit after the demo instead of serving the dashboard.
    #[arg(long)]
    no_serve: bool,
}

struct Row {
    what: String,
    result: String,
    millis: u128,
}

struct Steps(Vec<Row>);

impl Steps {
    async fn timed<T>(
        &mut self,
        what: &str,
        f: impl Future<Output = anyhow::Result<T>>,
        describe: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<T> {
        let start = Instant::now();
        let v = f.await.with_context(|| what.to_owned())?;
        self.0.push(Row {
            what: what.to_owned(),
            result: describe(&v),
            millis: start.elapsed().as_millis(),
        });
        Ok(v)
    }
}

const PORTAL: &str = "demo";

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let sandbox = Sandbox::spawn(SandboxConfig::default())
        .await
        .context("starting the HubSpot sandbox")?;
    println!(
        "HubSpot sandbox running at {} (demo seed, Professional-tier limits)",
        sandbox.url()
    );
    let (dir, temporary) = match &args.keep {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("leadflow-demo-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let client = Client::new(ClientConfig::new(
        sandbox.url(),
        Credentials::Token(Secret::new("demo-token")),
    ))?;
    let serve = (!args.no_serve).then_some(args.bind.as_str());
    let result = pipeline(&client, &sandbox, &dir, args.contacts, serve).await;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!(
            "\nThe project and its store are in {}: try `leadflow sync status --database-url sqlite://{}/leadflow.db --portal {PORTAL}`.",
            dir.display(),
            dir.display()
        );
    }
    sandbox.shutdown().await;
    result
}

async fn pipeline(
    client: &Client,
    sandbox: &leadflow_sandbox::SandboxHandle,
    dir: &std::path::Path,
    n: usize,
    serve: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let mut steps = Steps(Vec::new());
    let project_dir = dir.join("project");
    let project = steps
        .timed(
            "write the spec's configuration",
            async {
                leadflow_config::init(&project_dir, true)?;
                let (project, diags) = leadflow_config::load(&project_dir);
                anyhow::ensure!(
                    diags.is_empty(),
                    "the spec's configuration has problems: {diags:?}"
                );
                Ok(project)
            },
            |p| {
                format!(
                    "{} properties, {} workflows in {}",
                    p.properties.properties.len(),
                    p.workflows.len(),
                    project_dir.display()
                )
            },
        )
        .await?;
    let plan = steps
        .timed(
            "plan the portal",
            async {
                Ok(leadflow_plan::plan(
                    &project,
                    &leadflow_plan::fetch(client, &project).await?,
                    false,
                ))
            },
            |p| {
                let creates = p
                    .properties
                    .iter()
                    .filter(|x| x.action == leadflow_plan::PropertyAction::Create)
                    .count();
                format!(
                    "{creates} properties to create, {} stages to add",
                    p.stages.iter().filter(|s| s.existing_id.is_none()).count()
                )
            },
        )
        .await?;
    steps
        .timed(
            "apply it",
            async {
                Ok(
                    leadflow_plan::apply(client, &plan, leadflow_plan::ApplyOptions::default())
                        .await?,
                )
            },
            |r| format!("{} writes", r.writes),
        )
        .await?;
    let store = Store::connect(&format!("sqlite://{}", dir.join("leadflow.db").display())).await?;
    let opts = StepOptions {
        portal: PORTAL.into(),
        types: ObjectType::ALL.to_vec(),
        properties: crate::sync_cmd::all_properties(),
        max_pages: None,
        restart: false,
    };
    let quiet = |_: ObjectType, _: usize| {};
    let sync = |what: &'static [SyncStep]| {
        let (store, opts) = (&store, &opts);
        async move {
            let mut records = 0;
            for &s in what {
                for o in leadflow_sync::run_step(client, store, s, opts, &quiet).await? {
                    anyhow::ensure!(
                        o.error.is_none(),
                        "{}: {}",
                        o.stream,
                        o.error.unwrap_or_default()
                    );
                    records += o.records;
                }
            }
            Ok(records)
        }
    };
    steps
        .timed(
            "backfill the store (SQLite)",
            sync(&[
                SyncStep::Backfill,
                SyncStep::Reference,
                SyncStep::Associations,
            ]),
            |r| format!("{r} records, owners, stages, sequences and links"),
        )
        .await?;
    let ids = steps
        .timed(
            "tag new outbound contacts",
            tag_contacts(client, &store, n),
            |ids| format!("{} contacts tagged Manual or Automated Outreach", ids.len()),
        )
        .await?;
    steps
        .timed(
            "sync what changed",
            sync(&[SyncStep::Incremental, SyncStep::Reference]),
            |r| format!("{r} records"),
        )
        .await?;
    let engine = leadflow_engine::Engine::new(project.clone(), PORTAL)?;
    let map =
        leadflow_engine::PortalMap::load(&store, PORTAL, &project.settings, &project.workflows)
            .await?;
    let tz = jiff::tz::TimeZone::UTC;
    let pass = |at: jiff::Timestamp| {
        let (engine, store, map, tz) = (&engine, &store, &map, &tz);
        async move { Ok(leadflow_engine::run_once(engine, client, store, map, at, tz).await?) }
    };
    let describe = |r: &leadflow_engine::PassReport| {
        format!(
            "{} runs started; {} actions done, {} skipped, {} dead",
            r.ingested.enrolled + r.ticked.enrolled,
            r.executed.done,
            r.executed.skipped,
            r.executed.dead
        )
    };
    let now = jiff::Timestamp::now();
    steps
        .timed("run the workflows", pass(now), describe)
        .await?;
    steps
        .timed("contacts respond", respond(client, &ids), |(i, m, x)| {
            format!("{i} interested, {m} meetings, {x} not interested")
        })
        .await?;
    steps
        .timed("sync what changed", sync(&[SyncStep::Incremental]), |r| {
            format!("{r} records")
        })
        .await?;
    steps
        .timed("run the workflows", pass(now), describe)
        .await?;
    steps
        .timed(
            "four days later, the daily check",
            pass(now + jiff::SignedDuration::from_hours(24 * 4)),
            describe,
        )
        .await?;

    let mut table = Table::new();
    table.set_header(["step", "result", "ms"]);
    for s in &steps.0 {
        table.add_row([s.what.clone(), s.result.clone(), s.millis.to_string()]);
    }
    println!("{table}");

    let mut actions = Table::new();
    actions.set_header(["workflow action", "done", "skipped", "dead"]);
    let counts = store.intent_counts(PORTAL).await?;
    let mut by_action: std::collections::BTreeMap<String, [i64; 3]> = Default::default();
    for (action, state, count) in counts {
        let slot = match state.as_str() {
            "done" => 0,
            "skipped" => 1,
            _ => 2,
        };
        by_action.entry(action).or_default()[slot] += count;
    }
    for (action, [done, skipped, dead]) in &by_action {
        actions.add_row([
            action.clone(),
            done.to_string(),
            skipped.to_string(),
            dead.to_string(),
        ]);
    }
    println!("{actions}");
    let stats = sandbox.state().stats();
    println!(
        "In the portal: {} deals, {} tasks, {} sequence enrollments. API calls: {}; 429s: {}; daily budget used: {}.",
        sandbox.state().count("deals"),
        sandbox.state().count("tasks"),
        sandbox.state().enrollments().len(),
        stats.requests,
        stats.rate_limited,
        stats.daily_used
    );
    if let Some(bind) = serve {
        serve_dashboard(&store, project, bind).await?;
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Serves the dashboard over the demo's store until Ctrl-C.
async fn serve_dashboard(
    store: &Store,
    project: leadflow_config::Project,
    bind: &str,
) -> anyhow::Result<()> {
    let state = leadflow_web::WebState::new(store.clone(), PORTAL, project)?;
    let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| {
        format!("binding {bind} for the dashboard (--bind ADDR, or --no-serve)")
    })?;
    println!(
        "The dashboard: http://{}/ (the report at /reports/lead_generation_report, JSON at /api/reports/lead_generation_report); Ctrl-C stops it.",
        listener.local_addr()?
    );
    // Scripts and tests read the address from a pipe.
    std::io::Write::flush(&mut std::io::stdout())?;
    axum::serve(listener, leadflow_web::router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving the dashboard")
}

/// Creates `n` outbound contacts across both outreach kinds, ICP types and strategies, as an
/// import would: upserted by email.
async fn tag_contacts(client: &Client, store: &Store, n: usize) -> anyhow::Result<Vec<String>> {
    let owners = store.owners(PORTAL).await?;
    let today = jiff::Zoned::now().date();
    let mut rng = fastrand::Rng::with_seed(42);
    let strategies = ["Time Focus", "Quality Focus", "Production Focus", "Custom"];
    let inputs: Vec<(String, PropertyValues)> = (0..n)
        .map(|i| {
            let icp = ["ICP-A", "ICP-B", "ICP-C"][i % 3];
            // ICP-A fits best.
            let fit = match icp {
                "ICP-A" => rng.u32(5..=10),
                "ICP-B" => rng.u32(3..=9),
                _ => rng.u32(1..=7),
            };
            let tag = if i % 2 == 0 {
                format!("Manual Outreach - {today}")
            } else {
                "Automated Outreach - Q4 Fintech".to_owned()
            };
            let mut p = PropertyValues::from([
                ("firstname".to_owned(), format!("Lead{i}")),
                (
                    "lastname".to_owned(),
                    ["Smith", "Okafor", "Tanaka", "Novak"][i % 4].to_owned(),
                ),
                ("company".to_owned(), format!("Company {}", i % 120)),
                ("icp_type".to_owned(), icp.to_owned()),
                ("icp_fit_score".to_owned(), fit.to_string()),
                (
                    "message_strategy".to_owned(),
                    strategies[rng.usize(..4)].to_owned(),
                ),
                ("campaign_tag".to_owned(), tag),
                ("session_id".to_owned(), format!("demo-{}", i / 50)),
            ]);
            if !owners.is_empty() {
                p.insert(
                    "hubspot_owner_id".into(),
                    owners[i % owners.len()].id.clone(),
                );
            }
            (format!("demo-lead-{i}@outbound.example"), p)
        })
        .collect();
    let out = client
        .objects(ObjectType::Contacts)
        .batch_upsert("email", inputs)
        .await?
        .require_all_chunks()?;
    anyhow::ensure!(
        out.errors.is_empty(),
        "{} contacts were refused: {}",
        out.errors.len(),
        out.errors[0]
    );
    Ok(out.results.into_iter().map(|r| r.id).collect())
}

/// Responses at realistic rates: 12 % interested, 6 % meetings, 12 % not interested.
async fn respond(client: &Client, ids: &[String]) -> anyhow::Result<(usize, usize, usize)> {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut counts = (0, 0, 0);
    let inputs: Vec<ObjectUpdate> = ids
        .iter()
        .filter_map(|id| {
            let status = match rng.u32(0..100) {
                0..12 => {
                    counts.0 += 1;
                    "Interested"
                }
                12..18 => {
                    counts.1 += 1;
                    "Meeting Scheduled"
                }
                18..30 => {
                    counts.2 += 1;
                    "Not Interested"
                }
                _ => return None,
            };
            Some(ObjectUpdate {
                id: id.clone(),
                id_property: None,
                properties: PropertyValues::from([(
                    "response_status".to_owned(),
                    status.to_owned(),
                )]),
                object_write_trace_id: None,
            })
        })
        .collect();
    client
        .objects(ObjectType::Contacts)
        .batch_update(inputs)
        .await?
        .require_all_chunks()?;
    Ok(counts)
}
