//! Carrying a plan out, with the fewest write calls.
//!
//! First the token's scopes are checked against what the writes need (when HubSpot can
//! tell them), so a token that may write contact properties but not deal properties
//! writes nothing. Then, in order: groups, new properties (one batch call per object),
//! updates, range rules, missing stages. Every step is safe to repeat: if a call fails
//! half-way, planning again from the portal sees what was done and finishes the rest.

use std::collections::BTreeMap;

use leadflow_core::ObjectType;
use leadflow_hubspot::{Client, Error, PipelineStageInput, PropertyCreate};

use crate::plan::{Plan, PropertyAction};

/// How to apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Also archive unmanaged properties of the managed group.
    pub prune: bool,
}

/// What apply did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ApplyReport {
    /// Write calls made.
    pub writes: usize,
    /// Groups created.
    pub groups_created: usize,
    /// Properties created.
    pub properties_created: Vec<String>,
    /// Properties updated.
    pub properties_updated: Vec<String>,
    /// Properties archived (`--prune`).
    pub properties_archived: Vec<String>,
    /// Validation rules set.
    pub rules_set: usize,
    /// Stages created.
    pub stages_created: Vec<String>,
}

/// Why apply stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The plan has conflicts or other blockers; nothing was written.
    #[error("nothing was applied: {}", .0.join("; "))]
    Blocked(Vec<String>),
    /// The token lacks scopes the plan's writes need (HubSpot's token introspection says
    /// so); nothing was written.
    #[error("nothing was applied: the token lacks {}, which this plan's writes need; add the scope to the private app (Settings > Integrations > Private apps > Scopes) and use its new token", .0.join(" and "))]
    MissingScopes(Vec<String>),
    /// A call failed; what was done before it is in the report. Run apply again to finish.
    #[error("{source}; {} write calls had succeeded before it. Run apply again to finish: it plans from the portal and does only what is left", report.writes)]
    Failed {
        /// What failed.
        #[source]
        source: Error,
        /// What was done before.
        report: ApplyReport,
    },
}

fn object_of(name: &str) -> ObjectType {
    name.parse().unwrap_or(ObjectType::Contacts)
}

/// Carries out `plan`.
///
/// # Errors
/// [`ApplyError::Blocked`] before any write when the plan has blockers;
/// [`ApplyError::Failed`] with the partial report when a call fails.
pub async fn apply(
    client: &Client,
    plan: &Plan,
    options: ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    if plan.has_blockers() {
        return Err(ApplyError::Blocked(plan.blockers.clone()));
    }
    // The plan may have been made without the token's scopes (or by another client):
    // check them again here, before the first write.
    let required = plan.required_scopes(options.prune);
    if !required.is_empty() {
        match client.token_scopes().await {
            Ok(Some(granted)) => {
                let missing: Vec<String> = required
                    .into_keys()
                    .filter(|s| !granted.contains(s))
                    .collect();
                if !missing.is_empty() {
                    return Err(ApplyError::MissingScopes(missing));
                }
            }
            Ok(None) => {}
            Err(source) => {
                return Err(ApplyError::Failed {
                    source,
                    report: ApplyReport::default(),
                });
            }
        }
    }
    let mut report = ApplyReport::default();
    macro_rules! attempt {
        ($e:expr) => {
            match $e.await {
                Ok(v) => v,
                Err(source) => return Err(ApplyError::Failed { source, report }),
            }
        };
    }
    for (object, name, label) in &plan.groups_to_create {
        attempt!(
            client
                .properties(object_of(object))
                .create_group(name, label, Some(0))
        );
        report.writes += 1;
        report.groups_created += 1;
    }
    let mut creates: BTreeMap<ObjectType, Vec<PropertyCreate>> = BTreeMap::new();
    for p in &plan.properties {
        if let (PropertyAction::Create | PropertyAction::ExistingMissing, Some(c), Some(o)) =
            (&p.action, &p.create, p.object_type)
        {
            creates.entry(o).or_default().push(c.clone());
        }
    }
    for (object, list) in creates {
        let mut outcome = attempt!(client.properties(object).batch_create(&list));
        report.writes += 1;
        for created in &outcome.results {
            report
                .properties_created
                .push(format!("{}.{}", object.api_name(), created.name));
        }
        // A chunk refused as a whole: the created ones are reported, planning again finishes.
        if let Some(chunk) = outcome.failed_chunks.pop() {
            return Err(ApplyError::Failed {
                source: chunk.error,
                report,
            });
        }
        // A property that exists already (created by an earlier, interrupted apply) is fine.
        let real: Vec<String> = outcome
            .errors
            .iter()
            .filter(|e| !matches!(e.category.as_deref(), Some("OBJECT_ALREADY_EXISTS")))
            .map(ToString::to_string)
            .collect();
        if !real.is_empty() {
            return Err(ApplyError::Failed {
                source: Error::Config(format!(
                    "HubSpot refused to create some properties: {}",
                    real.join("; ")
                )),
                report,
            });
        }
    }
    for p in &plan.properties {
        if let (PropertyAction::Update { .. }, Some(u), Some(o)) =
            (&p.action, &p.update, p.object_type)
        {
            attempt!(client.properties(o).update(&p.name, u));
            report.writes += 1;
            report
                .properties_updated
                .push(format!("{}.{}", p.object, p.name));
        }
    }
    if options.prune {
        for p in &plan.properties {
            if let (PropertyAction::Unmanaged, Some(o)) = (&p.action, p.object_type) {
                attempt!(client.properties(o).archive(&p.name));
                report.writes += 1;
                report
                    .properties_archived
                    .push(format!("{}.{}", p.object, p.name));
            }
        }
    }
    for r in plan.rules.iter().filter(|r| !r.unchanged) {
        attempt!(client.properties(object_of(&r.object)).put_validation_rule(
            &r.property,
            &r.rule_type,
            std::slice::from_ref(&r.value)
        ));
        report.writes += 1;
        report.rules_set += 1;
    }
    for (i, s) in plan.stages.iter().enumerate() {
        let (Some(pipeline_id), None) = (&s.pipeline_id, &s.existing_id) else {
            continue;
        };
        let input = PipelineStageInput {
            label: s.label.clone(),
            display_order: i as i32,
            metadata: BTreeMap::from([("probability".to_owned(), s.probability.to_string())]),
        };
        attempt!(client.create_pipeline_stage(ObjectType::Deals, pipeline_id, &input));
        report.writes += 1;
        report.stages_created.push(s.label.clone());
    }
    Ok(report)
}
