//! Pipelines and their stages (deal pipelines for leadflow), and owners.
//!
//! HubSpot has no endpoint that finds a stage by label, so [`Pipeline::stage_by_label`]
//! matches on the client, case-insensitively. Owners carry both the owner id (for
//! `hubspot_owner_id`) and the user id (which sequences need).

use std::collections::BTreeMap;

use futures::stream::{self, Stream, TryStreamExt};
use leadflow_core::ObjectType;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::Result;
use crate::model::Page;
use crate::objects::segment;
use crate::transport::{Client, Endpoint};

/// A pipeline stage.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct PipelineStage {
    /// Its id (default stages have word ids, new ones numeric strings).
    pub id: String,
    /// Its label.
    pub label: String,
    /// Its position.
    pub display_order: i32,
    /// For deals: `probability` (0.0 to 1.0) and `isClosed`.
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Whether it is archived.
    pub archived: bool,
}

/// A pipeline with its stages.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Pipeline {
    /// Its id (`default` for the built-in deal pipeline).
    pub id: String,
    /// Its label.
    pub label: String,
    /// Its position.
    pub display_order: i32,
    /// Its stages.
    pub stages: Vec<PipelineStage>,
    /// Whether it is archived.
    pub archived: bool,
}

impl Pipeline {
    /// The stage with this label (case-insensitive) or id.
    pub fn stage_by_label(&self, label: &str) -> Option<&PipelineStage> {
        self.stages
            .iter()
            .filter(|s| !s.archived)
            .find(|s| s.label.eq_ignore_ascii_case(label.trim()))
            .or_else(|| self.stages.iter().find(|s| s.id == label))
    }
}

/// A stage to create.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStageInput {
    /// Its label, unique in the pipeline.
    pub label: String,
    /// Its position.
    pub display_order: i32,
    /// For deals, `probability` is required.
    pub metadata: BTreeMap<String, String>,
}

/// A HubSpot user who can own records.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct Owner {
    /// The owner id, the value of `hubspot_owner_id`.
    pub id: String,
    /// The user id, which sequence enrollment needs.
    pub user_id: Option<i64>,
    /// The email.
    pub email: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Whether the owner is deactivated.
    pub archived: bool,
}

#[derive(Deserialize)]
struct Results<T> {
    results: Vec<T>,
}

impl Client {
    /// Every pipeline of `object_type`, with stages.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn pipelines(&self, object_type: ObjectType) -> Result<Vec<Pipeline>> {
        let ep = Endpoint::get(
            format!("/crm/v3/pipelines/{}", object_type.api_name()),
            "crm.pipelines.list",
        );
        let r: Results<Pipeline> = self.json::<(), _>(&ep, &[], None).await?;
        Ok(r.results)
    }

    /// One pipeline, or `None`.
    ///
    /// # Errors
    /// Any [`crate::Error`] but a 404.
    pub async fn pipeline(&self, object_type: ObjectType, id: &str) -> Result<Option<Pipeline>> {
        let ep = Endpoint::get(
            format!(
                "/crm/v3/pipelines/{}/{}",
                object_type.api_name(),
                segment(id)
            ),
            "crm.pipelines.get",
        );
        self.json_opt::<(), _>(&ep, &[], None).await
    }

    /// Adds a stage to a pipeline.
    ///
    /// # Errors
    /// Any [`crate::Error`]; a duplicate label is refused.
    pub async fn create_pipeline_stage(
        &self,
        object_type: ObjectType,
        pipeline_id: &str,
        stage: &PipelineStageInput,
    ) -> Result<PipelineStage> {
        let ep = Endpoint::post(
            format!(
                "/crm/v3/pipelines/{}/{}/stages",
                object_type.api_name(),
                segment(pipeline_id)
            ),
            "crm.pipelines.stages.create",
        );
        self.json(&ep, &[], Some(stage)).await
    }

    /// Creates a pipeline with its stages.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn create_pipeline(
        &self,
        object_type: ObjectType,
        label: &str,
        display_order: i32,
        stages: &[PipelineStageInput],
    ) -> Result<Pipeline> {
        let ep = Endpoint::post(
            format!("/crm/v3/pipelines/{}", object_type.api_name()),
            "crm.pipelines.create",
        );
        let body = json!({ "label": label, "displayOrder": display_order, "stages": stages });
        self.json(&ep, &[], Some(&body)).await
    }

    /// One page of owners, optionally filtered by email.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn owners_page(
        &self,
        email: Option<&str>,
        after: Option<&str>,
    ) -> Result<Page<Owner>> {
        let ep = Endpoint::get("/crm/v3/owners".to_owned(), "crm.owners.list");
        let mut query = vec![("limit", "100".to_owned())];
        if let Some(e) = email {
            query.push(("email", e.to_owned()));
        }
        if let Some(a) = after {
            query.push(("after", a.to_owned()));
        }
        self.json::<(), _>(&ep, &query, None).await
    }

    /// Every owner.
    pub fn owners(&self) -> impl Stream<Item = Result<Owner>> + Send + 'static {
        let this = self.clone();
        stream::try_unfold(Some(None::<String>), move |state| {
            let this = this.clone();
            async move {
                let Some(after) = state else { return Ok(None) };
                let page = this.owners_page(None, after.as_deref()).await?;
                let next = page.next_after().map(Some);
                Ok(Some((stream::iter(page.results.into_iter().map(Ok)), next)))
            }
        })
        .try_flatten()
    }

    /// One owner by owner id, or `None`.
    ///
    /// # Errors
    /// Any [`crate::Error`] but a 404.
    pub async fn owner(&self, owner_id: &str) -> Result<Option<Owner>> {
        let ep = Endpoint::get(
            format!("/crm/v3/owners/{}", segment(owner_id)),
            "crm.owners.get",
        );
        self.json_opt::<(), _>(&ep, &[("idProperty", "id".to_owned())], None)
            .await
    }
}
