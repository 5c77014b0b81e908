//! Reading what a plan needs from the portal: reads only, no writes (the token's scopes
//! are read through HubSpot's token introspection, a POST that changes nothing).

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;
use leadflow_config::{Project, PropertyKind};
use leadflow_core::ObjectType;
use leadflow_hubspot::{Client, Pipeline, Property, PropertyGroup, Result, ValidationRule};

/// The portal as far as the plan is concerned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PortalSnapshot {
    /// Properties per object type (contacts, deals).
    pub properties: BTreeMap<ObjectType, Vec<Property>>,
    /// Property groups per object type.
    pub groups: BTreeMap<ObjectType, Vec<PropertyGroup>>,
    /// Validation rules of the managed number properties that exist.
    pub rules: BTreeMap<(ObjectType, String), Vec<ValidationRule>>,
    /// Deal pipelines.
    pub pipelines: Vec<Pipeline>,
    /// Names of the sequences any owner can see.
    pub sequences: BTreeSet<String>,
    /// Whether any owner has a user id (sequences are listed per user).
    pub has_sequence_users: bool,
    /// The token's scopes, when HubSpot can tell (a private app's token); `None` otherwise.
    pub token_scopes: Option<BTreeSet<String>>,
}

impl PortalSnapshot {
    /// A property of the portal, by name.
    pub fn property(&self, object: ObjectType, name: &str) -> Option<&Property> {
        self.properties
            .get(&object)?
            .iter()
            .find(|p| p.name == name)
    }
}

/// Reads the portal for `project`.
///
/// # Errors
/// The first client error.
pub async fn fetch(client: &Client, project: &Project) -> Result<PortalSnapshot> {
    let mut snap = PortalSnapshot {
        token_scopes: client.token_scopes().await?,
        ..PortalSnapshot::default()
    };
    for object in [ObjectType::Contacts, ObjectType::Deals] {
        let api = client.properties(object);
        snap.properties.insert(object, api.list(false).await?);
        snap.groups.insert(object, api.groups().await?);
        // Rules of the managed number properties, and of any custom number property (for export).
        let mut names: Vec<String> = project
            .properties
            .of(object)
            .filter(|s| matches!(s.kind, PropertyKind::Number { .. }))
            .map(|s| s.name.clone())
            .collect();
        for p in snap.properties.get(&object).into_iter().flatten() {
            if p.type_ == "number" && p.hubspot_defined != Some(true) && !names.contains(&p.name) {
                names.push(p.name.clone());
            }
        }
        for name in names {
            if snap.property(object, &name).is_some() {
                let rules = api.validation_rules(&name).await?;
                snap.rules.insert((object, name), rules);
            }
        }
    }
    snap.pipelines = client.pipelines(ObjectType::Deals).await?;
    let owners: Vec<_> = client.owners().try_collect().await?;
    let mut users: Vec<i64> = owners
        .iter()
        .filter(|o| !o.archived)
        .filter_map(|o| o.user_id)
        .collect();
    users.sort_unstable();
    users.dedup();
    snap.has_sequence_users = !users.is_empty();
    for user in users {
        for s in client.sequences(&user.to_string()).await? {
            snap.sequences.insert(s.name);
        }
    }
    Ok(snap)
}
