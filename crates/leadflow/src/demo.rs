//! `leadflow demo`: the main job on embedded defaults.
//!
//! At this stage it starts the HubSpot sandbox in-process on a free port (seeded with
//! owners, the default pipeline, the spec's four sequences and a few hundred outbound
//! contacts, companies and deals), exercises the client against it the way the later
//! pipeline will (paged listing, a search, a batch update, a deal with its contact
//! association, a sequence enrollment) and prints what happened.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use comfy_table::Table;
use futures::TryStreamExt;
use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{
    AssociationSpec, Client, ClientConfig, Credentials, EnrollmentRequest, Filter, FilterGroup,
    InlineAssociation, ListOptions, ObjectId, ObjectInput, ObjectUpdate, Operator, PropertyValues,
    SearchQuery, association_types,
};
use leadflow_sandbox::{Sandbox, SandboxConfig};

/// Options of `leadflow demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {}

struct Step {
    what: &'static str,
    result: String,
    millis: u128,
}

pub(crate) async fn run(_args: DemoArgs) -> anyhow::Result<ExitCode> {
    let sandbox = Sandbox::spawn(SandboxConfig::default())
        .await
        .context("starting the HubSpot sandbox")?;
    println!(
        "HubSpot sandbox running at {} (demo seed, Professional-tier limits)\n",
        sandbox.url()
    );
    let client = Client::new(ClientConfig::new(
        sandbox.url(),
        Credentials::Token(Secret::new("demo-token")),
    ))?;
    let steps = exercise(&client).await?;

    let mut table = Table::new();
    table.set_header(["step", "result", "ms"]);
    for s in &steps {
        table.add_row([s.what.to_owned(), s.result.clone(), s.millis.to_string()]);
    }
    println!("{table}");
    let stats = sandbox.state().stats();
    let by_status: Vec<String> = stats
        .by_status
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    println!(
        "\nAPI calls: {} ({}); 429s: {}; daily budget used: {}",
        stats.requests,
        by_status.join(", "),
        stats.rate_limited,
        stats.daily_used
    );
    println!(
        "Next: later versions of this demo apply the spec's properties, run the workflows and serve the dashboard."
    );
    sandbox.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

async fn timed<T, F: std::future::Future<Output = anyhow::Result<T>>>(
    f: F,
) -> anyhow::Result<(T, u128)> {
    let start = Instant::now();
    let v = f.await?;
    Ok((v, start.elapsed().as_millis()))
}

async fn exercise(client: &Client) -> anyhow::Result<Vec<Step>> {
    let mut steps = Vec::new();
    let contacts_api = client.objects(ObjectType::Contacts);

    let props: Vec<String> = [
        "email",
        "firstname",
        "lastname",
        "company",
        "jobtitle",
        "lifecyclestage",
        "hubspot_owner_id",
    ]
    .map(String::from)
    .to_vec();
    let options = ListOptions {
        properties: props.clone(),
        ..ListOptions::default()
    };
    let ((contacts, pages), ms) = timed(async {
        let pages: Vec<_> = contacts_api.list_pages(options).try_collect().await?;
        let n = pages.len();
        Ok((
            pages
                .into_iter()
                .flat_map(|p| p.results)
                .collect::<Vec<_>>(),
            n,
        ))
    })
    .await
    .context("listing contacts")?;
    if contacts.is_empty() {
        bail!("the sandbox holds no contacts; the demo seed did not load");
    }
    steps.push(Step {
        what: "list contacts (paged, 100 per page)",
        result: format!("{} contacts in {pages} pages", contacts.len()),
        millis: ms,
    });

    let companies: Vec<_> = client
        .objects(ObjectType::Companies)
        .list(ListOptions::default())
        .try_collect()
        .await?;
    let deals: Vec<_> = client
        .objects(ObjectType::Deals)
        .list(ListOptions::default())
        .try_collect()
        .await?;
    steps.push(Step {
        what: "list companies and deals",
        result: format!("{} companies, {} deals", companies.len(), deals.len()),
        millis: 0,
    });

    let query = SearchQuery {
        filter_groups: vec![FilterGroup {
            filters: vec![Filter::new("lifecyclestage", Operator::Eq, "lead")],
        }],
        properties: props.clone(),
        ..SearchQuery::default()
    };
    let (leads, ms) = timed(async {
        Ok(contacts_api
            .search_all(query)
            .try_collect::<Vec<_>>()
            .await?)
    })
    .await
    .context("searching contacts")?;
    steps.push(Step {
        what: "search lifecyclestage = lead",
        result: format!("{} matches", leads.len()),
        millis: ms,
    });

    let updates: Vec<ObjectUpdate> = contacts
        .iter()
        .map(|c| ObjectUpdate {
            id: c.id.clone(),
            id_property: None,
            properties: PropertyValues::from([("lead_source".to_owned(), "Outbound".to_owned())]),
            object_write_trace_id: None,
        })
        .collect();
    let (outcome, ms) = timed(async { Ok(contacts_api.batch_update(updates).await?) })
        .await
        .context("batch-updating contacts")?;
    steps.push(Step {
        what: "batch update lead_source = Outbound",
        result: format!(
            "{} updated in {} calls, {} failed{}",
            outcome.results.len(),
            contacts.len().div_ceil(100),
            outcome.errors.len() + outcome.failed_chunk_inputs().count(),
            outcome
                .failed_chunks
                .first()
                .map(|c| format!(
                    " ({} chunks refused: {})",
                    outcome.failed_chunks.len(),
                    c.error
                ))
                .unwrap_or_default()
        ),
        millis: ms,
    });

    let contact = &contacts[0];
    let pipelines = client
        .pipelines(ObjectType::Deals)
        .await
        .context("reading deal pipelines")?;
    let pipeline = pipelines
        .first()
        .context("the portal has no deal pipeline")?;
    let stage = pipeline
        .stages
        .first()
        .context("the deal pipeline has no stages")?;
    let name = format!(
        "{} {} - {}",
        contact.get("firstname").unwrap_or(""),
        contact.get("lastname").unwrap_or(""),
        contact.get("company").unwrap_or("")
    );
    let input = ObjectInput {
        properties: PropertyValues::from([
            ("dealname".to_owned(), name.clone()),
            ("pipeline".to_owned(), pipeline.id.clone()),
            ("dealstage".to_owned(), stage.id.clone()),
            ("amount".to_owned(), "0".to_owned()),
        ]),
        associations: vec![InlineAssociation {
            to: ObjectId::from(contact.id.as_str()),
            types: vec![AssociationSpec::hubspot(association_types::DEAL_TO_CONTACT)],
        }],
        object_write_trace_id: None,
    };
    let (deal, ms) = timed(async { Ok(client.objects(ObjectType::Deals).create(&input).await?) })
        .await
        .context("creating a deal")?;
    let linked = client
        .associations(ObjectType::Contacts, ObjectType::Deals)
        .of(&contact.id)
        .await?;
    let linked_ok = linked.iter().any(|l| l.to_object_id == deal.id);
    steps.push(Step {
        what: "create deal with contact association",
        result: format!(
            "deal {} {:?} in stage {:?}; contact sees it: {linked_ok}",
            deal.id, name, stage.label
        ),
        millis: ms,
    });

    let owners: Vec<_> = client
        .owners()
        .try_collect()
        .await
        .context("reading owners")?;
    let owner = owners
        .iter()
        .find(|o| o.user_id.is_some())
        .context("no owner with a user id")?;
    let user_id = owner.user_id.map(|u| u.to_string()).unwrap_or_default();
    let sequences = client
        .sequences(&user_id)
        .await
        .context("reading sequences")?;
    let sequence = sequences
        .iter()
        .find(|s| s.name == "Manual Outreach Follow-up")
        .context("the sandbox has no 'Manual Outreach Follow-up' sequence")?;
    let mut enrolled = None;
    for c in &contacts {
        if client.enrollment_of_contact(&c.id).await?.is_none() {
            enrolled = Some(c);
            break;
        }
    }
    let target = enrolled.context("every contact is already in a sequence")?;
    let request = EnrollmentRequest {
        contact_id: target.id.clone(),
        sequence_id: sequence.id.clone(),
        sender_email: owner.email.clone().unwrap_or_default(),
        user_id,
    };
    let (enrollment, ms) = timed(async { Ok(client.enroll(&request).await?) })
        .await
        .context("enrolling a contact")?;
    let again = client.enroll(&request).await;
    let refused = matches!(&again, Err(e) if e.is_already_enrolled());
    steps.push(Step {
        what: "enroll in 'Manual Outreach Follow-up'",
        result: format!(
            "{} enrolled (enrollment {}); a second enrollment refused: {refused}",
            enrollment.to_email, enrollment.id
        ),
        millis: ms,
    });
    Ok(steps)
}
