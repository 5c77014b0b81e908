//! The sandbox's data: records, schema, associations, lists, sequences, webhooks, and the
//! counters the tests read. Plain data under one lock; handlers do the HTTP.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// The plural name for any spelling HubSpot accepts (`contacts`, `contact`, `0-1`).
pub(crate) fn canonical_type(s: &str) -> Option<&'static str> {
    let l = s.to_ascii_lowercase();
    Some(match l.as_str() {
        "contacts" | "contact" | "0-1" => "contacts",
        "companies" | "company" | "0-2" => "companies",
        "deals" | "deal" | "0-3" => "deals",
        "tasks" | "task" | "0-27" => "tasks",
        _ => return None,
    })
}

pub(crate) fn type_id(t: &str) -> &'static str {
    match t {
        "contacts" => "0-1",
        "companies" => "0-2",
        "deals" => "0-3",
        _ => "0-27",
    }
}

pub(crate) fn singular(t: &str) -> &'static str {
    match t {
        "contacts" => "contact",
        "companies" => "company",
        "deals" => "deal",
        _ => "task",
    }
}

pub(crate) fn modified_prop(t: &str) -> &'static str {
    if t == "contacts" {
        "lastmodifieddate"
    } else {
        "hs_lastmodifieddate"
    }
}

pub(crate) fn created_prop(t: &str) -> &'static str {
    if t == "tasks" {
        "hs_createdate"
    } else {
        "createdate"
    }
}

/// Milliseconds to HubSpot's ISO form.
pub(crate) fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

pub(crate) fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A CRM record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) id: u64,
    pub(crate) props: BTreeMap<String, String>,
    pub(crate) created: i64,
    pub(crate) updated: i64,
    pub(crate) archived: bool,
    pub(crate) archived_at: Option<i64>,
    /// Set when merged into another record.
    pub(crate) merged_into: Option<u64>,
    /// The version before the last write, for the search index lag.
    pub(crate) previous: Option<(i64, BTreeMap<String, String>)>,
}

/// An enumeration option.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct OptionDef {
    pub(crate) label: String,
    pub(crate) value: String,
    pub(crate) hidden: bool,
    pub(crate) display_order: Option<i64>,
    pub(crate) description: Option<String>,
}

/// A property definition.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PropertyDef {
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) type_: String,
    pub(crate) field_type: String,
    pub(crate) group_name: String,
    pub(crate) description: String,
    pub(crate) options: Vec<OptionDef>,
    pub(crate) display_order: Option<i64>,
    pub(crate) has_unique_value: bool,
    pub(crate) hidden: bool,
    pub(crate) form_field: bool,
    pub(crate) hubspot_defined: bool,
    pub(crate) read_only: bool,
    pub(crate) archived: bool,
    pub(crate) created: i64,
    pub(crate) updated: i64,
}

/// A property group.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct GroupDef {
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) display_order: i64,
    pub(crate) archived: bool,
}

/// A pipeline stage.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StageDef {
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) display_order: i64,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) archived: bool,
    pub(crate) created: i64,
}

/// A pipeline.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PipelineDef {
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) display_order: i64,
    pub(crate) stages: Vec<StageDef>,
    pub(crate) created: i64,
}

/// An owner.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct OwnerDef {
    pub(crate) id: String,
    pub(crate) user_id: i64,
    pub(crate) email: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
}

/// A sequence.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SequenceDef {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) user_id: String,
    pub(crate) steps: Vec<(String, i64)>,
    pub(crate) created: i64,
}

/// A sequence enrollment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct EnrollmentDef {
    pub(crate) id: String,
    pub(crate) contact_id: String,
    pub(crate) sequence_id: String,
    pub(crate) sender_email: String,
    pub(crate) user_id: String,
    pub(crate) to_email: String,
    pub(crate) enrolled_at: i64,
    pub(crate) active: bool,
}

/// A list.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ListDef {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) object_type_id: String,
    pub(crate) processing_type: String,
    pub(crate) version: i64,
    pub(crate) created: i64,
    pub(crate) updated: i64,
    /// Record id to the time it joined.
    pub(crate) members: BTreeMap<u64, i64>,
}

/// A webhook subscription.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SubscriptionDef {
    pub(crate) id: u64,
    pub(crate) event_type: String,
    pub(crate) property_name: Option<String>,
    pub(crate) active: bool,
    pub(crate) created: i64,
}

/// Where webhooks go.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct WebhookSettings {
    pub(crate) target_url: String,
    pub(crate) max_concurrent: i64,
    pub(crate) created: i64,
}

/// One association: `(from type, from id, to type, to id)` with its type ids.
pub(crate) type AssocKey = (String, u64, String, u64);

/// Everything the portal holds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Data {
    pub(crate) records: BTreeMap<String, BTreeMap<u64, Record>>,
    pub(crate) next_id: BTreeMap<String, u64>,
    pub(crate) properties: BTreeMap<String, Vec<PropertyDef>>,
    pub(crate) groups: BTreeMap<String, Vec<GroupDef>>,
    /// `(object type id, property)` to rule type to arguments.
    pub(crate) rules: BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<String>>>>,
    pub(crate) pipelines: Vec<PipelineDef>,
    pub(crate) next_stage_id: u64,
    pub(crate) owners: Vec<OwnerDef>,
    pub(crate) sequences: Vec<SequenceDef>,
    pub(crate) enrollments: Vec<EnrollmentDef>,
    pub(crate) lists: BTreeMap<u64, ListDef>,
    pub(crate) next_list_id: u64,
    /// Associations, stored once in the direction they were made, with type ids.
    pub(crate) associations: Vec<(AssocKey, Vec<(String, u32)>)>,
    pub(crate) subscriptions: Vec<SubscriptionDef>,
    pub(crate) next_subscription_id: u64,
    pub(crate) webhook_settings: Option<WebhookSettings>,
    pub(crate) next_event_id: u64,
    /// Lower-cased contact email to id.
    #[serde(skip)]
    pub(crate) emails: HashMap<String, u64>,
}

impl Data {
    /// Rebuilds the derived indexes after loading a snapshot.
    pub(crate) fn reindex(&mut self) {
        self.emails.clear();
        if let Some(contacts) = self.records.get("contacts") {
            for r in contacts.values() {
                if !r.archived && r.merged_into.is_none() {
                    if let Some(e) = r.props.get("email") {
                        self.emails.insert(e.to_lowercase(), r.id);
                    }
                }
            }
        }
    }

    pub(crate) fn next_record_id(&mut self, t: &str) -> u64 {
        let base = match t {
            "contacts" => 1001,
            "companies" => 5_000_001,
            "deals" => 9_000_001,
            _ => 13_000_001,
        };
        let n = self.next_id.entry(t.to_owned()).or_insert(base);
        let id = *n;
        *n += 1;
        id
    }

    pub(crate) fn property(&self, t: &str, name: &str) -> Option<&PropertyDef> {
        self.properties
            .get(t)?
            .iter()
            .find(|p| p.name == name && !p.archived)
    }

    /// The live record with `id`, following merges.
    pub(crate) fn live(&self, t: &str, id: u64) -> Option<&Record> {
        let mut r = self.records.get(t)?.get(&id)?;
        let mut hops = 0;
        while let Some(into) = r.merged_into {
            r = self.records.get(t)?.get(&into)?;
            hops += 1;
            if hops > 16 {
                return None;
            }
        }
        (!r.archived).then_some(r)
    }

    /// Type ids of an association, seen from `from`.
    pub(crate) fn links(
        &self,
        from_t: &str,
        from_id: u64,
        to_t: &str,
    ) -> Vec<(u64, Vec<(String, u32)>)> {
        let mut out: Vec<(u64, Vec<(String, u32)>)> = Vec::new();
        for ((ft, fi, tt, ti), types) in &self.associations {
            let (other, types) = if ft == from_t && *fi == from_id && tt == to_t {
                (*ti, types.clone())
            } else if tt == from_t && *ti == from_id && ft == to_t {
                (
                    *fi,
                    types
                        .iter()
                        .map(|(c, id)| (c.clone(), crate::assoc::reverse_type(*id)))
                        .collect(),
                )
            } else {
                continue;
            };
            match out.iter_mut().find(|(o, _)| *o == other) {
                Some((_, t)) => {
                    for x in types {
                        if !t.contains(&x) {
                            t.push(x);
                        }
                    }
                }
                None => out.push((other, types)),
            }
        }
        out.sort_by_key(|(o, _)| *o);
        out
    }
}

/// One request and answer, kept for contract tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string.
    pub query: Option<String>,
    /// The request body, when there was one.
    pub request_body: Option<Vec<u8>>,
    /// The status answered.
    pub status: u16,
    /// The response body.
    pub response_body: Vec<u8>,
}

/// Counters of what the sandbox answered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Requests answered (admin endpoints excepted).
    pub requests: u64,
    /// Requests per status.
    pub by_status: BTreeMap<u16, u64>,
    /// 429s from the limits (not injected ones).
    pub rate_limited: u64,
    /// Faults injected.
    pub injected_faults: u64,
    /// Webhook batches delivered.
    pub webhook_deliveries: u64,
    /// Webhook delivery attempts that failed.
    pub webhook_failures: u64,
    /// Webhook batches dropped on purpose.
    pub webhook_dropped: u64,
    /// Webhook batches given up after their last retry.
    pub webhook_abandoned: u64,
    /// 1 while a formed webhook batch waits for a free delivery slot
    /// (`maxConcurrentRequests`), else 0.
    pub webhook_waiting: u64,
    /// Requests counted against the daily budget.
    pub daily_used: u64,
    /// OAuth refreshes served.
    pub oauth_refreshes: u64,
}
