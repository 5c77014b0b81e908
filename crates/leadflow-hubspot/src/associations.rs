//! Associations v4: default and labelled links between records, in batches or one by one.
//!
//! Type ids are directional (contact→deal is 4, deal→contact is 3); [`types`] names the
//! HubSpot-defined ones leadflow uses. The batch endpoints are exempt from the rolling
//! burst window (HubSpot's `ten-secondly` exemption) and take up to 1,000 (read) or
//! 2,000 (create) inputs per call; this client sends at most 100 per call anyway.

use leadflow_core::ObjectType;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::Result;
use crate::model::{AssociationSpec, BatchOutcome, ObjectId, Page};
use crate::objects::segment;
use crate::rate::Budget;
use crate::transport::{Client, Endpoint};

/// HubSpot-defined association type ids (all `HUBSPOT_DEFINED`; direction matters).
pub mod types {
    /// Contact to company (unlabelled).
    pub const CONTACT_TO_COMPANY: u32 = 279;
    /// Contact to company (primary).
    pub const CONTACT_TO_COMPANY_PRIMARY: u32 = 1;
    /// Company to contact (unlabelled).
    pub const COMPANY_TO_CONTACT: u32 = 280;
    /// Contact to deal.
    pub const CONTACT_TO_DEAL: u32 = 4;
    /// Deal to contact.
    pub const DEAL_TO_CONTACT: u32 = 3;
    /// Deal to company (unlabelled).
    pub const DEAL_TO_COMPANY: u32 = 341;
    /// Deal to company (primary).
    pub const DEAL_TO_COMPANY_PRIMARY: u32 = 5;
    /// Company to deal (unlabelled).
    pub const COMPANY_TO_DEAL: u32 = 342;
    /// Task to contact.
    pub const TASK_TO_CONTACT: u32 = 204;
    /// Task to company.
    pub const TASK_TO_COMPANY: u32 = 192;
    /// Task to deal.
    pub const TASK_TO_DEAL: u32 = 216;
    /// Contact to task.
    pub const CONTACT_TO_TASK: u32 = 203;
}

/// One association type on a link, as HubSpot reports it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct AssociationType {
    /// The category.
    pub category: String,
    /// The type id.
    pub type_id: u32,
    /// The label, for labelled types.
    pub label: Option<String>,
}

/// A linked record and the types of the link.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct AssociatedRecord {
    /// The other record's id (HubSpot sends a number).
    #[serde(deserialize_with = "id_from_number_or_string")]
    pub to_object_id: String,
    /// The link's types.
    pub association_types: Vec<AssociationType>,
}

/// The links of one record (a batch read result).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct RecordAssociations {
    /// The record.
    pub from: Option<ObjectId>,
    /// Its links.
    pub to: Vec<AssociatedRecord>,
}

fn id_from_number_or_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, got {other}"
        ))),
    }
}

/// A link to make: from, to and its types.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAssociation {
    /// The source record id.
    pub from: String,
    /// The target record id.
    pub to: String,
    /// The types (for example [`AssociationSpec::hubspot`]`(types::DEAL_TO_CONTACT)`).
    pub types: Vec<AssociationSpec>,
}

/// The association APIs between two object types. Get it with [`Client::associations`].
#[derive(Clone, Debug)]
pub struct Associations {
    client: Client,
    from: ObjectType,
    to: ObjectType,
}

impl Client {
    /// The association APIs from `from` records to `to` records.
    pub fn associations(&self, from: ObjectType, to: ObjectType) -> Associations {
        Associations {
            client: self.clone(),
            from,
            to,
        }
    }
}

impl Associations {
    fn batch_path(&self, action: &str) -> String {
        format!(
            "/crm/v4/associations/{}/{}/batch/{action}",
            self.from.api_name(),
            self.to.api_name()
        )
    }

    /// Links two records with the default (unlabelled) type.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn associate_default(&self, from_id: &str, to_id: &str) -> Result<()> {
        let ep = Endpoint::new(
            Method::PUT,
            format!(
                "/crm/v4/objects/{}/{}/associations/default/{}/{}",
                self.from.api_name(),
                segment(from_id),
                self.to.api_name(),
                segment(to_id)
            ),
            "crm.associations.default",
        );
        self.client.call::<()>(&ep, &[], None).await.map(|_| ())
    }

    /// Sets the labels of one link (replacing the ones it had).
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn associate(
        &self,
        from_id: &str,
        to_id: &str,
        types: &[AssociationSpec],
    ) -> Result<()> {
        let ep = Endpoint::new(
            Method::PUT,
            format!(
                "/crm/v4/objects/{}/{}/associations/{}/{}",
                self.from.api_name(),
                segment(from_id),
                self.to.api_name(),
                segment(to_id)
            ),
            "crm.associations.put",
        );
        self.client.call(&ep, &[], Some(types)).await.map(|_| ())
    }

    /// Removes every link between two records.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn remove(&self, from_id: &str, to_id: &str) -> Result<()> {
        let ep = Endpoint::new(
            Method::DELETE,
            format!(
                "/crm/v4/objects/{}/{}/associations/{}/{}",
                self.from.api_name(),
                segment(from_id),
                self.to.api_name(),
                segment(to_id)
            ),
            "crm.associations.delete",
        );
        self.client.call::<()>(&ep, &[], None).await.map(|_| ())
    }

    /// Every link of one record, following paging.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn of(&self, from_id: &str) -> Result<Vec<AssociatedRecord>> {
        let ep = Endpoint::get(
            format!(
                "/crm/v4/objects/{}/{}/associations/{}",
                self.from.api_name(),
                segment(from_id),
                self.to.api_name()
            ),
            "crm.associations.read",
        );
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", "500".to_owned())];
            if let Some(a) = &after {
                query.push(("after", a.clone()));
            }
            let page: Page<AssociatedRecord> = self.client.json::<(), _>(&ep, &query, None).await?;
            after = page.next_after();
            all.extend(page.results);
            if after.is_none() {
                return Ok(all);
            }
        }
    }

    async fn batch<I, T>(
        &self,
        action: &str,
        name: &'static str,
        inputs: Vec<I>,
        idempotent: bool,
    ) -> Result<BatchOutcome<T>>
    where
        I: Serialize + Send + Sync,
        T: serde::de::DeserializeOwned + Send,
    {
        let mut ep = Endpoint::post(self.batch_path(action), name).budget(Budget::Exempt);
        if idempotent {
            ep = ep.idempotent();
        }
        self.client
            .batch(&ep, &inputs, |chunk| json!({ "inputs": chunk }))
            .await
    }

    /// Links pairs with the default type, 100 per call. Repeating it is harmless.
    ///
    /// # Errors
    /// Any [`crate::Error`] when no chunk succeeded; failed chunks are in the outcome.
    pub async fn batch_associate_default(
        &self,
        pairs: &[(String, String)],
    ) -> Result<BatchOutcome<serde_json::Value>> {
        let inputs: Vec<_> = pairs
            .iter()
            .map(|(f, t)| json!({ "from": { "id": f }, "to": { "id": t } }))
            .collect();
        self.batch(
            "associate/default",
            "crm.associations.batch_default",
            inputs,
            true,
        )
        .await
    }

    /// Makes links with the given types, 100 per call. Repeating it is harmless.
    ///
    /// # Errors
    /// Any [`crate::Error`] when no chunk succeeded; failed chunks are in the outcome.
    pub async fn batch_create(
        &self,
        links: &[NewAssociation],
    ) -> Result<BatchOutcome<serde_json::Value>> {
        let inputs: Vec<_> = links
            .iter()
            .map(|l| json!({ "from": { "id": l.from }, "to": { "id": l.to }, "types": l.types }))
            .collect();
        self.batch("create", "crm.associations.batch_create", inputs, true)
            .await
    }

    /// The links of many records, 100 per call.
    ///
    /// # Errors
    /// Any [`crate::Error`] when no chunk succeeded; failed chunks are in the outcome.
    pub async fn batch_read(&self, ids: &[String]) -> Result<BatchOutcome<RecordAssociations>> {
        let inputs: Vec<_> = ids.iter().map(|i| json!({ "id": i })).collect();
        self.batch("read", "crm.associations.batch_read", inputs, true)
            .await
    }

    /// Removes links, 100 sources per call.
    ///
    /// # Errors
    /// Any [`crate::Error`], including that of a chunk that failed while others succeeded
    /// (removing links is safe to repeat).
    pub async fn batch_archive(&self, pairs: &[(String, String)]) -> Result<()> {
        let inputs: Vec<_> = pairs
            .iter()
            .map(|(f, t)| json!({ "from": { "id": f }, "to": [{ "id": t }] }))
            .collect();
        self.batch::<_, serde_json::Value>(
            "archive",
            "crm.associations.batch_archive",
            inputs,
            true,
        )
        .await
        .and_then(BatchOutcome::require_all_chunks)
        .map(|_| ())
    }
}
