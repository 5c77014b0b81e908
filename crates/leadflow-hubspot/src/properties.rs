//! Properties v3, property groups and the Property Validations API.
//!
//! These calls manage a portal's schema; they need the `crm.schemas.*` scopes to write.
//! This module knows the wire shapes only; deciding what to change is the caller's job.

use leadflow_core::ObjectType;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::Result;
use crate::model::{BatchOutcome, BatchResponse};
use crate::objects::segment;
use crate::transport::{Client, Endpoint};

/// An enumeration option.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PropertyOption {
    /// What users see.
    pub label: String,
    /// What the API reads and writes.
    pub value: String,
    /// Whether forms hide it.
    #[serde(default)]
    pub hidden: bool,
    /// Its position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_order: Option<i32>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A property definition as HubSpot returns it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Property {
    /// The internal name.
    pub name: String,
    /// The label.
    pub label: String,
    /// `string`, `number`, `enumeration`, `date`, `datetime`, `bool`, `phone_number`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `text`, `textarea`, `select`, `number`, `date`, ….
    pub field_type: String,
    /// The group it sits in.
    pub group_name: String,
    /// Its description.
    pub description: String,
    /// Enumeration options.
    pub options: Vec<PropertyOption>,
    /// Its position in the group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_order: Option<i32>,
    /// Whether each value may occur once only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_unique_value: Option<bool>,
    /// Whether it is hidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
    /// Whether forms may use it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form_field: Option<bool>,
    /// Whether HubSpot defines it (such cannot be deleted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hubspot_defined: Option<bool>,
    /// Whether it is archived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
}

/// A property to create.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PropertyCreate {
    /// The internal name: lowercase letters, digits and `_`, starting with a letter.
    pub name: String,
    /// The label.
    pub label: String,
    /// The type.
    #[serde(rename = "type")]
    pub type_: String,
    /// The field type; it must suit the type.
    pub field_type: String,
    /// The group, which must exist.
    pub group_name: String,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Enumeration options (required for enumerations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<PropertyOption>,
    /// The position in its group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_order: Option<i32>,
    /// Unique values only (usable as `idProperty`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_unique_value: Option<bool>,
    /// Hidden from the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
    /// Usable in forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_field: Option<bool>,
}

/// A change to a property; absent fields stay as they are.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PropertyUpdate {
    /// A new label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A new description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A new group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// The full new option list (HubSpot replaces the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<PropertyOption>>,
    /// A new position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_order: Option<i32>,
    /// Hidden or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
    /// Usable in forms or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_field: Option<bool>,
}

/// A property group.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PropertyGroup {
    /// The internal name.
    pub name: String,
    /// The label.
    pub label: String,
    /// Its position.
    #[serde(default)]
    pub display_order: i32,
    /// Whether it is archived.
    #[serde(default)]
    pub archived: bool,
}

/// A Property Validations rule, such as `MIN_NUMBER` with `["1"]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ValidationRule {
    /// `MIN_NUMBER`, `MAX_NUMBER`, `MAX_LENGTH`, `REGEX`, ….
    pub rule_type: String,
    /// Its arguments.
    pub rule_arguments: Vec<String>,
    /// Whether HubSpot normalises values first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub should_apply_normalization: Option<bool>,
}

#[derive(Deserialize)]
struct Results<T> {
    results: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleMap {
    property_validation_rules: Vec<ValidationRule>,
}

/// The property APIs of one object type. Get it with [`Client::properties`].
#[derive(Clone, Debug)]
pub struct Properties {
    client: Client,
    object_type: ObjectType,
}

impl Client {
    /// The property and property-group APIs for `object_type`.
    pub fn properties(&self, object_type: ObjectType) -> Properties {
        Properties {
            client: self.clone(),
            object_type,
        }
    }
}

impl Properties {
    fn base(&self) -> String {
        format!("/crm/v3/properties/{}", self.object_type.api_name())
    }

    /// Every property (archived ones when `archived`).
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn list(&self, archived: bool) -> Result<Vec<Property>> {
        let ep = Endpoint::get(self.base(), "crm.properties.list");
        let r: Results<Property> = self
            .client
            .json::<(), _>(&ep, &[("archived", archived.to_string())], None)
            .await?;
        Ok(r.results)
    }

    /// One property, or `None`.
    ///
    /// # Errors
    /// Any [`crate::Error`] but a 404.
    pub async fn get(&self, name: &str) -> Result<Option<Property>> {
        let ep = Endpoint::get(
            format!("{}/{}", self.base(), segment(name)),
            "crm.properties.get",
        );
        self.client.json_opt::<(), _>(&ep, &[], None).await
    }

    /// Creates a property (409 `OBJECT_ALREADY_EXISTS` if it exists).
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn create(&self, property: &PropertyCreate) -> Result<Property> {
        let ep = Endpoint::post(self.base(), "crm.properties.create");
        self.client.json(&ep, &[], Some(property)).await
    }

    /// Creates properties, 100 per call; existing ones come back as errors.
    ///
    /// # Errors
    /// Any [`crate::Error`] when no chunk succeeded; per-property failures and chunks
    /// that failed as a whole are in the outcome.
    pub async fn batch_create(
        &self,
        properties: &[PropertyCreate],
    ) -> Result<BatchOutcome<Property>> {
        let ep = Endpoint::post(
            format!("{}/batch/create", self.base()),
            "crm.properties.batch_create",
        );
        self.client
            .batch(&ep, properties, |chunk| json!({ "inputs": chunk }))
            .await
    }

    /// Reads the named properties.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn batch_read(&self, names: &[String]) -> Result<BatchOutcome<Property>> {
        let ep = Endpoint::post(
            format!("{}/batch/read", self.base()),
            "crm.properties.batch_read",
        )
        .idempotent();
        let inputs: Vec<_> = names.iter().map(|n| json!({ "name": n })).collect();
        let body =
            json!({ "inputs": inputs, "archived": false, "dataSensitivity": "non_sensitive" });
        let r: BatchResponse<Property> = self.client.json(&ep, &[], Some(&body)).await?;
        let mut outcome = BatchOutcome::default();
        outcome.absorb(r);
        Ok(outcome)
    }

    /// Changes a property.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn update(&self, name: &str, update: &PropertyUpdate) -> Result<Property> {
        let ep = Endpoint::new(
            Method::PATCH,
            format!("{}/{}", self.base(), segment(name)),
            "crm.properties.update",
        );
        self.client.json(&ep, &[], Some(update)).await
    }

    /// Archives a property.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn archive(&self, name: &str) -> Result<()> {
        let ep = Endpoint::new(
            Method::DELETE,
            format!("{}/{}", self.base(), segment(name)),
            "crm.properties.archive",
        );
        self.client.call::<()>(&ep, &[], None).await.map(|_| ())
    }

    /// Every property group.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn groups(&self) -> Result<Vec<PropertyGroup>> {
        let ep = Endpoint::get(
            format!("{}/groups", self.base()),
            "crm.properties.groups.list",
        );
        let r: Results<PropertyGroup> = self.client.json::<(), _>(&ep, &[], None).await?;
        Ok(r.results)
    }

    /// One group, or `None`.
    ///
    /// # Errors
    /// Any [`crate::Error`] but a 404.
    pub async fn group(&self, name: &str) -> Result<Option<PropertyGroup>> {
        let ep = Endpoint::get(
            format!("{}/groups/{}", self.base(), segment(name)),
            "crm.properties.groups.get",
        );
        self.client.json_opt::<(), _>(&ep, &[], None).await
    }

    /// Creates a group (409 if it exists).
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn create_group(
        &self,
        name: &str,
        label: &str,
        display_order: Option<i32>,
    ) -> Result<PropertyGroup> {
        let ep = Endpoint::post(
            format!("{}/groups", self.base()),
            "crm.properties.groups.create",
        );
        let mut body = json!({ "name": name, "label": label });
        if let Some(o) = display_order {
            body["displayOrder"] = json!(o);
        }
        self.client.json(&ep, &[], Some(&body)).await
    }

    /// Changes a group's label or position.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn update_group(
        &self,
        name: &str,
        label: Option<&str>,
        display_order: Option<i32>,
    ) -> Result<PropertyGroup> {
        let ep = Endpoint::new(
            Method::PATCH,
            format!("{}/groups/{}", self.base(), segment(name)),
            "crm.properties.groups.update",
        );
        let mut body = json!({});
        if let Some(l) = label {
            body["label"] = json!(l);
        }
        if let Some(o) = display_order {
            body["displayOrder"] = json!(o);
        }
        self.client.json(&ep, &[], Some(&body)).await
    }

    /// Archives a group.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn archive_group(&self, name: &str) -> Result<()> {
        let ep = Endpoint::new(
            Method::DELETE,
            format!("{}/groups/{}", self.base(), segment(name)),
            "crm.properties.groups.archive",
        );
        self.client.call::<()>(&ep, &[], None).await.map(|_| ())
    }

    /// The validation rules of a property (empty when it has none).
    ///
    /// # Errors
    /// Any [`crate::Error`] but a 404.
    pub async fn validation_rules(&self, property: &str) -> Result<Vec<ValidationRule>> {
        let ep = Endpoint::get(
            format!(
                "/crm/v3/property-validations/{}/{}",
                self.object_type.type_id(),
                segment(property)
            ),
            "crm.property_validations.get",
        );
        let r: Option<Results<serde_json::Value>> =
            self.client.json_opt::<(), _>(&ep, &[], None).await?;
        // HubSpot answers either a list of rules or a list of per-property rule maps.
        let mut rules = Vec::new();
        for item in r.map(|r| r.results).unwrap_or_default() {
            if let Ok(map) = serde_json::from_value::<RuleMap>(item.clone()) {
                rules.extend(map.property_validation_rules);
            } else if let Ok(rule) = serde_json::from_value::<ValidationRule>(item) {
                rules.push(rule);
            }
        }
        Ok(rules)
    }

    /// Sets (replaces) one validation rule of a property.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn put_validation_rule(
        &self,
        property: &str,
        rule_type: &str,
        arguments: &[String],
    ) -> Result<()> {
        let ep = Endpoint::new(
            Method::PUT,
            format!(
                "/crm/v3/property-validations/{}/{}/rule-type/{}",
                self.object_type.type_id(),
                segment(property),
                segment(rule_type)
            ),
            "crm.property_validations.put",
        );
        self.client
            .call(&ep, &[], Some(&json!({ "ruleArguments": arguments })))
            .await
            .map(|_| ())
    }
}
