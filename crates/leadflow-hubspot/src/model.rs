//! Wire types of the CRM object APIs: records, inputs, pages, batch answers, search.
//!
//! These mirror HubSpot's JSON exactly (camelCase, every property value a string) and are
//! the only place that does. They know nothing about leadflow's typed property values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A CRM record as HubSpot returns it (`SimplePublicObject`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CrmObject {
    /// The record id, a numeric string.
    pub id: String,
    /// Property values; a requested property without a value is `None`.
    #[serde(default)]
    pub properties: BTreeMap<String, Option<String>>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<jiff::Timestamp>,
    /// When it last changed.
    #[serde(default)]
    pub updated_at: Option<jiff::Timestamp>,
    /// Whether it is archived.
    #[serde(default)]
    pub archived: bool,
    /// When it was archived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<jiff::Timestamp>,
    /// Only on batch upsert answers: whether the record was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<bool>,
}

impl CrmObject {
    /// A property's value, `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.properties
            .get(name)?
            .as_deref()
            .filter(|v| !v.is_empty())
    }
}

/// Property values to write: name to string value (`""` clears a value).
pub type PropertyValues = BTreeMap<String, String>;

/// An association category.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssociationCategory {
    /// HubSpot's built-in types.
    HubspotDefined,
    /// A portal's own labels.
    UserDefined,
    /// An integrator's labels.
    IntegratorDefined,
    /// Work associations.
    Work,
}

/// One association type to set: category and type id.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AssociationSpec {
    /// The category.
    pub association_category: AssociationCategory,
    /// The type id, such as 3 for deal to contact.
    pub association_type_id: u32,
}

impl AssociationSpec {
    /// A HubSpot-defined association type.
    pub fn hubspot(type_id: u32) -> Self {
        Self {
            association_category: AssociationCategory::HubspotDefined,
            association_type_id: type_id,
        }
    }
}

/// An id wrapper, as HubSpot nests ids (`{"id": "123"}`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct ObjectId {
    /// The id.
    pub id: String,
}

impl From<&str> for ObjectId {
    fn from(id: &str) -> Self {
        Self { id: id.to_owned() }
    }
}

impl From<String> for ObjectId {
    fn from(id: String) -> Self {
        Self { id }
    }
}

/// An association made while creating a record.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct InlineAssociation {
    /// The record to associate with.
    pub to: ObjectId,
    /// The association types.
    pub types: Vec<AssociationSpec>,
}

/// A record to create.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectInput {
    /// Its property values.
    pub properties: PropertyValues,
    /// Associations to make with it.
    #[serde(default)]
    pub associations: Vec<InlineAssociation>,
    /// An id of our own, echoed in a partial-failure answer so errors map to inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_write_trace_id: Option<String>,
}

/// A record to update, by id (or by `id_property`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectUpdate {
    /// The id, or the value of `id_property`.
    pub id: String,
    /// A unique-value property to find the record by, such as `email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_property: Option<String>,
    /// The values to write.
    pub properties: PropertyValues,
    /// An id of our own, echoed in a partial-failure answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_write_trace_id: Option<String>,
}

/// One page of a listing.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Page<T> {
    /// The records.
    pub results: Vec<T>,
    /// The cursor to the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

impl<T> Page<T> {
    /// The cursor of the next page, if there is one.
    pub fn next_after(&self) -> Option<String> {
        self.paging.as_ref()?.next.as_ref().map(|n| n.after.clone())
    }
}

/// HubSpot's paging block.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Paging {
    /// The next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<NextPage>,
}

/// A page cursor.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct NextPage {
    /// The cursor value.
    pub after: String,
    /// A link to the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// One failed input of a batch call (a 207 answer's `errors[]`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchError {
    /// The per-input status, usually `"error"`.
    pub status: Option<String>,
    /// Such as `OBJECT_NOT_FOUND` or `VALIDATION_ERROR`.
    pub category: Option<String>,
    /// What went wrong.
    pub message: Option<String>,
    /// Which input: ids, `objectWriteTraceId`, property names.
    pub context: BTreeMap<String, Vec<String>>,
    /// A finer class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_category: Option<serde_json::Value>,
}

impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({})",
            self.message.as_deref().unwrap_or("failed"),
            self.category.as_deref().unwrap_or("UNKNOWN")
        )?;
        for (k, v) in &self.context {
            write!(f, " {k}={}", v.join(","))?;
        }
        Ok(())
    }
}

/// The body of a batch answer, with or without errors.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchResponse<T> {
    #[serde(default = "Vec::new")]
    pub(crate) results: Vec<T>,
    #[serde(default = "Vec::new")]
    pub(crate) errors: Vec<BatchError>,
}

/// What a batch call did: every result, every input that failed (HubSpot's 207), and
/// every chunk of up to 100 inputs that failed as a whole.
///
/// A batch with failed inputs or failed chunks is not an `Err`: the other inputs and
/// chunks succeeded, and their results are here. The call is an `Err` only when no chunk
/// succeeded, so nothing is lost by returning the error alone.
#[derive(Debug)]
pub struct BatchOutcome<T> {
    /// The records written or read.
    pub results: Vec<T>,
    /// One entry per failed input.
    pub errors: Vec<BatchError>,
    /// One entry per chunk HubSpot refused as a whole (a 400 for the chunk) or that kept
    /// failing until the retries ran out; none of its inputs has a result.
    pub failed_chunks: Vec<FailedChunk>,
}

/// A chunk of a batch call that failed as a whole.
#[derive(Debug)]
pub struct FailedChunk {
    /// The chunk's inputs, as indexes into the inputs given to the call.
    pub inputs: std::ops::Range<usize>,
    /// Why it failed. After a timeout or a 5xx on a create, the chunk's outcome is
    /// unknown ([`crate::Error::is_retryable`]); read before creating again.
    pub error: crate::Error,
}

impl<T> Default for BatchOutcome<T> {
    fn default() -> Self {
        Self {
            results: Vec::new(),
            errors: Vec::new(),
            failed_chunks: Vec::new(),
        }
    }
}

impl<T> BatchOutcome<T> {
    /// Whether every input succeeded.
    pub fn is_complete(&self) -> bool {
        self.errors.is_empty() && self.failed_chunks.is_empty()
    }

    /// The indexes of the inputs that were in a failed chunk.
    pub fn failed_chunk_inputs(&self) -> impl Iterator<Item = usize> + '_ {
        self.failed_chunks.iter().flat_map(|c| c.inputs.clone())
    }

    /// The call's outcome, or the first failed chunk's error: for callers that can only
    /// use a complete answer (reads that are simply repeated later).
    ///
    /// # Errors
    /// The error of the first chunk that failed as a whole.
    pub fn require_all_chunks(mut self) -> crate::Result<Self> {
        if self.failed_chunks.is_empty() {
            Ok(self)
        } else {
            Err(self.failed_chunks.swap_remove(0).error)
        }
    }

    pub(crate) fn absorb(&mut self, other: BatchResponse<T>) {
        self.results.extend(other.results);
        self.errors.extend(other.errors);
    }
}

/// A search filter operator.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum Operator {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Between,
    In,
    NotIn,
    HasProperty,
    NotHasProperty,
    ContainsToken,
    NotContainsToken,
}

/// One search filter.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// The property.
    pub property_name: String,
    /// The comparison.
    pub operator: Operator,
    /// The value compared with (dates as epoch milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The upper bound, for `BETWEEN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_value: Option<String>,
    /// The values, for `IN` and `NOT_IN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

impl Filter {
    /// `property operator value`.
    pub fn new(property: impl Into<String>, operator: Operator, value: impl Into<String>) -> Self {
        Self {
            property_name: property.into(),
            operator,
            value: Some(value.into()),
            high_value: None,
            values: None,
        }
    }

    /// `property BETWEEN low AND high`.
    pub fn between(
        property: impl Into<String>,
        low: impl Into<String>,
        high: impl Into<String>,
    ) -> Self {
        Self {
            property_name: property.into(),
            operator: Operator::Between,
            value: Some(low.into()),
            high_value: Some(high.into()),
            values: None,
        }
    }

    /// `property IN values` (or `NOT_IN`).
    pub fn among(property: impl Into<String>, operator: Operator, values: Vec<String>) -> Self {
        Self {
            property_name: property.into(),
            operator,
            value: None,
            high_value: None,
            values: Some(values),
        }
    }

    /// `HAS_PROPERTY` or `NOT_HAS_PROPERTY`.
    pub fn presence(property: impl Into<String>, operator: Operator) -> Self {
        Self {
            property_name: property.into(),
            operator,
            value: None,
            high_value: None,
            values: None,
        }
    }
}

/// Filters that must all hold.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct FilterGroup {
    /// The filters, ANDed.
    pub filters: Vec<Filter>,
}

/// Sort direction.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum Direction {
    Ascending,
    Descending,
}

/// One sort rule (HubSpot accepts one). On the wire it is a string, as HubSpot's OpenAPI
/// document types it: `"prop"` ascending, `"-prop"` descending.
#[derive(Clone, Debug, PartialEq)]
pub struct Sort {
    /// The property.
    pub property_name: String,
    /// The direction.
    pub direction: Direction,
}

impl Serialize for Sort {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.direction {
            Direction::Ascending => s.serialize_str(&self.property_name),
            Direction::Descending => s.serialize_str(&format!("-{}", self.property_name)),
        }
    }
}

impl<'de> Deserialize<'de> for Sort {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Object {
                #[serde(rename = "propertyName")]
                property_name: String,
                direction: Direction,
            },
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Text(t) => match t.strip_prefix('-') {
                Some(p) => Sort {
                    property_name: p.to_owned(),
                    direction: Direction::Descending,
                },
                None => Sort {
                    property_name: t,
                    direction: Direction::Ascending,
                },
            },
            Raw::Object {
                property_name,
                direction,
            } => Sort {
                property_name,
                direction,
            },
        })
    }
}

fn after_or_zero<S: serde::Serializer>(after: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(after.as_deref().unwrap_or("0"))
}

/// A search request body.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    /// Groups ORed together.
    pub filter_groups: Vec<FilterGroup>,
    /// At most one sort.
    pub sorts: Vec<Sort>,
    /// A free-text query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Properties to return.
    pub properties: Vec<String>,
    /// Page size, at most 200.
    pub limit: u32,
    /// The cursor, an offset (`"0"` on the wire when `None`).
    #[serde(default, serialize_with = "after_or_zero")]
    pub after: Option<String>,
}

/// One page of search results.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct SearchPage {
    /// Matches in all.
    pub total: u64,
    /// This page.
    pub results: Vec<CrmObject>,
    /// The next page's cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}
