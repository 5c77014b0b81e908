//! Lists v3: find a list by name, create manual lists, and change or read memberships.
//!
//! HubSpot spells the added-ids field `recordsIdsAdded` in every version of its spec;
//! [`MembershipChange`] reads that and the regular spelling alike.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::Result;
use crate::model::Page;
use crate::objects::segment;
use crate::transport::{Client, Endpoint};
use reqwest::Method;

/// A list.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct CrmList {
    /// Its id.
    pub list_id: String,
    /// Its name, unique among public lists.
    pub name: String,
    /// `0-1` for contact lists.
    pub object_type_id: String,
    /// `MANUAL`, `SNAPSHOT` or `DYNAMIC`.
    pub processing_type: String,
    /// Its member count, when HubSpot says.
    pub size: Option<u64>,
}

/// What a membership change did.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct MembershipChange {
    /// Records added.
    #[serde(alias = "recordsIdsAdded")]
    pub record_ids_added: Vec<String>,
    /// Records removed.
    pub record_ids_removed: Vec<String>,
    /// Records that do not exist.
    pub record_ids_missing: Vec<String>,
}

/// A list member.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Membership {
    /// The record id.
    pub record_id: String,
    /// When it joined.
    pub membership_timestamp: Option<String>,
}

#[derive(Deserialize)]
struct Wrapped {
    list: CrmList,
}

/// The list APIs. Get it with [`Client::lists`].
#[derive(Clone, Debug)]
pub struct Lists {
    client: Client,
}

impl Client {
    /// The list APIs.
    pub fn lists(&self) -> Lists {
        Lists {
            client: self.clone(),
        }
    }
}

impl Lists {
    /// A list by exact name (HubSpot matches case-insensitively), or `None`.
    ///
    /// # Errors
    /// Any [`crate::Error`] but a 404.
    pub async fn by_name(&self, object_type_id: &str, name: &str) -> Result<Option<CrmList>> {
        let ep = Endpoint::get(
            format!(
                "/crm/v3/lists/object-type-id/{}/name/{}",
                segment(object_type_id),
                segment(name)
            ),
            "crm.lists.by_name",
        );
        let r: Option<Wrapped> = self.client.json_opt::<(), _>(&ep, &[], None).await?;
        Ok(r.map(|w| w.list))
    }

    /// Lists whose name contains `query`.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn search(&self, query: &str) -> Result<Vec<CrmList>> {
        #[derive(Deserialize)]
        struct Found {
            #[serde(default)]
            lists: Vec<CrmList>,
        }
        let ep = Endpoint::post("/crm/v3/lists/search".to_owned(), "crm.lists.search").idempotent();
        let body = json!({ "query": query, "offset": 0, "count": 500, "additionalProperties": [] });
        let r: Found = self.client.json(&ep, &[], Some(&body)).await?;
        Ok(r.lists)
    }

    /// Creates a manual list.
    ///
    /// # Errors
    /// Any [`crate::Error`]; a duplicate name is refused.
    pub async fn create_manual(&self, object_type_id: &str, name: &str) -> Result<CrmList> {
        let ep = Endpoint::post("/crm/v3/lists".to_owned(), "crm.lists.create");
        let body =
            json!({ "name": name, "objectTypeId": object_type_id, "processingType": "MANUAL" });
        let r: Wrapped = self.client.json(&ep, &[], Some(&body)).await?;
        Ok(r.list)
    }

    /// Adds records to a manual list; existing members and unknown records are ignored.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn add(&self, list_id: &str, record_ids: &[String]) -> Result<MembershipChange> {
        self.change(list_id, "add", record_ids).await
    }

    /// Removes records from a manual list.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn remove(&self, list_id: &str, record_ids: &[String]) -> Result<MembershipChange> {
        self.change(list_id, "remove", record_ids).await
    }

    async fn change(
        &self,
        list_id: &str,
        action: &str,
        record_ids: &[String],
    ) -> Result<MembershipChange> {
        let ep = Endpoint::new(
            Method::PUT,
            format!("/crm/v3/lists/{}/memberships/{action}", segment(list_id)),
            "crm.lists.memberships.change",
        );
        self.client.json(&ep, &[], Some(record_ids)).await
    }

    /// Every member of a list, by record id.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn members(&self, list_id: &str) -> Result<Vec<Membership>> {
        let ep = Endpoint::get(
            format!("/crm/v3/lists/{}/memberships", segment(list_id)),
            "crm.lists.memberships.read",
        );
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", "250".to_owned())];
            if let Some(a) = &after {
                query.push(("after", a.clone()));
            }
            let page: Page<Membership> = self.client.json::<(), _>(&ep, &query, None).await?;
            after = page.next_after();
            all.extend(page.results);
            if after.is_none() {
                return Ok(all);
            }
        }
    }
}
