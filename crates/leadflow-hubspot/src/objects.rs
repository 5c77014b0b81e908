//! CRM objects v3 for contacts, companies, deals and tasks: get, list, create, update,
//! archive, batch calls chunked to 100 inputs, and search streamed past the 10,000 cap.
//!
//! Listing is an async stream over HubSpot's `after` cursor. Search past 10,000 results
//! windows on `hs_object_id` ascending (keyset paging: each page asks for ids greater
//! than the last one seen), never on a timestamp alone, because many records can share
//! one timestamp and the window would never advance.

use futures::stream::{self, Stream, TryStreamExt};
use leadflow_core::ObjectType;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::error::{Error, Result};
use crate::model::{
    BatchOutcome, CrmObject, Direction, Filter, FilterGroup, ObjectId, ObjectInput, ObjectUpdate,
    Operator, Page, PropertyValues, SearchPage, SearchRequest, Sort,
};
use crate::rate::Budget;
use crate::transport::{Client, Endpoint};

/// HubSpot's batch size limit.
pub const MAX_BATCH_INPUTS: usize = 100;
/// HubSpot's list page size limit.
pub const MAX_LIST_PAGE: u32 = 100;
/// HubSpot's search page size limit.
pub const MAX_SEARCH_PAGE: u32 = 200;
/// HubSpot's filter limit per group.
pub const MAX_FILTERS_PER_GROUP: usize = 6;

/// Percent-encodes one path segment (an id, an email, a property name).
pub(crate) fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'@') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Options of a listing.
#[derive(Clone, Debug)]
pub struct ListOptions {
    /// Properties to return (HubSpot's defaults when empty).
    pub properties: Vec<String>,
    /// List archived records only.
    pub archived: bool,
    /// Records per page, at most 100.
    pub page_size: u32,
}

impl Default for ListOptions {
    fn default() -> Self {
        Self {
            properties: Vec::new(),
            archived: false,
            page_size: MAX_LIST_PAGE,
        }
    }
}

/// A search to stream in full.
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    /// Groups ORed together; each gets the id window filter added, so at most 5 filters each.
    pub filter_groups: Vec<FilterGroup>,
    /// Properties to return.
    pub properties: Vec<String>,
    /// A free-text query.
    pub query: Option<String>,
    /// Records per page, at most 200 (0 means 200).
    pub page_size: u32,
}

/// The object APIs for one object type. Get it with [`Client::objects`].
#[derive(Clone, Debug)]
pub struct Objects {
    client: Client,
    object_type: ObjectType,
}

impl Client {
    /// The CRM object APIs for `object_type`.
    pub fn objects(&self, object_type: ObjectType) -> Objects {
        Objects {
            client: self.clone(),
            object_type,
        }
    }
}

fn props_query(properties: &[String]) -> Option<(&'static str, String)> {
    (!properties.is_empty()).then(|| ("properties", properties.join(",")))
}

impl Objects {
    fn base(&self) -> String {
        format!("/crm/v3/objects/{}", self.object_type.api_name())
    }

    /// The object type.
    pub fn object_type(&self) -> ObjectType {
        self.object_type
    }

    /// A record by id, or `None` when there is none.
    ///
    /// # Errors
    /// Any [`Error`] but a 404.
    pub async fn get(&self, id: &str, properties: &[String]) -> Result<Option<CrmObject>> {
        self.get_by(None, id, properties).await
    }

    /// A record by the value of a unique property, such as a contact by `email`.
    ///
    /// # Errors
    /// Any [`Error`] but a 404.
    pub async fn get_by(
        &self,
        id_property: Option<&str>,
        value: &str,
        properties: &[String],
    ) -> Result<Option<CrmObject>> {
        let ep = Endpoint::get(
            format!("{}/{}", self.base(), segment(value)),
            "crm.objects.get",
        );
        let mut query: Vec<(&str, String)> = props_query(properties).into_iter().collect();
        if let Some(p) = id_property {
            query.push(("idProperty", p.to_owned()));
        }
        self.client.json_opt::<(), _>(&ep, &query, None).await
    }

    /// One page of a listing.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn list_page(
        &self,
        options: &ListOptions,
        after: Option<&str>,
    ) -> Result<Page<CrmObject>> {
        let ep = Endpoint::get(self.base(), "crm.objects.list");
        let mut query = vec![(
            "limit",
            options.page_size.clamp(1, MAX_LIST_PAGE).to_string(),
        )];
        query.extend(props_query(&options.properties));
        if options.archived {
            query.push(("archived", "true".to_owned()));
        }
        if let Some(a) = after {
            query.push(("after", a.to_owned()));
        }
        self.client.json::<(), _>(&ep, &query, None).await
    }

    /// Every page of a listing, following the `after` cursor.
    pub fn list_pages(
        &self,
        options: ListOptions,
    ) -> impl Stream<Item = Result<Page<CrmObject>>> + Send + 'static {
        let this = self.clone();
        stream::try_unfold(Some(None::<String>), move |state| {
            let this = this.clone();
            let options = options.clone();
            async move {
                let Some(after) = state else { return Ok(None) };
                let page = this.list_page(&options, after.as_deref()).await?;
                let next = page.next_after().map(Some);
                Ok(Some((page, next)))
            }
        })
    }

    /// Every record, page by page.
    pub fn list(
        &self,
        options: ListOptions,
    ) -> impl Stream<Item = Result<CrmObject>> + Send + 'static {
        self.list_pages(options)
            .map_ok(|p| stream::iter(p.results.into_iter().map(Ok)))
            .try_flatten()
    }

    /// Creates a record. Not repeated after an ambiguous failure; see the crate docs.
    ///
    /// # Errors
    /// Any [`Error`]; a duplicate contact email is a 409 `CONFLICT` [`Error::Api`].
    pub async fn create(&self, input: &ObjectInput) -> Result<CrmObject> {
        let ep = Endpoint::post(self.base(), "crm.objects.create");
        self.client.json(&ep, &[], Some(input)).await
    }

    /// Updates a record's properties.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn update(&self, id: &str, properties: &PropertyValues) -> Result<CrmObject> {
        let ep = Endpoint::new(
            Method::PATCH,
            format!("{}/{}", self.base(), segment(id)),
            "crm.objects.update",
        );
        self.client
            .json(&ep, &[], Some(&json!({ "properties": properties })))
            .await
    }

    /// Archives a record.
    ///
    /// # Errors
    /// Any [`Error`].
    pub async fn archive(&self, id: &str) -> Result<()> {
        let ep = Endpoint::new(
            Method::DELETE,
            format!("{}/{}", self.base(), segment(id)),
            "crm.objects.archive",
        );
        self.client.call::<()>(&ep, &[], None).await.map(|_| ())
    }

    async fn batch<I, T, F>(
        &self,
        name: &'static str,
        action: &str,
        inputs: Vec<I>,
        idempotent: bool,
        body: F,
    ) -> Result<BatchOutcome<T>>
    where
        I: Sync,
        T: DeserializeOwned + Send,
        F: Fn(&[I]) -> serde_json::Value + Sync,
    {
        let mut ep = Endpoint::post(format!("{}/batch/{action}", self.base()), name);
        if idempotent {
            ep = ep.idempotent();
        }
        self.client.batch(&ep, &inputs, body).await
    }

    /// Reads records by id (or by `id_property`), 100 per call. Unknown ids come back as errors.
    ///
    /// # Errors
    /// Any [`Error`] when no chunk succeeded; per-id failures and failed chunks are in the
    /// outcome.
    pub async fn batch_read(
        &self,
        ids: &[String],
        properties: &[String],
        id_property: Option<&str>,
    ) -> Result<BatchOutcome<CrmObject>> {
        let inputs: Vec<ObjectId> = ids.iter().map(|i| ObjectId::from(i.as_str())).collect();
        self.batch("crm.objects.batch_read", "read", inputs, true, |chunk| {
            let mut body =
                json!({ "inputs": chunk, "properties": properties, "propertiesWithHistory": [] });
            if let Some(p) = id_property {
                body["idProperty"] = json!(p);
            }
            body
        })
        .await
    }

    /// Creates records, 100 per call. Not repeated after an ambiguous failure: to create
    /// idempotently, give the records a unique-value property and use [`Objects::batch_upsert`].
    ///
    /// # Errors
    /// Any [`Error`] when no chunk succeeded; per-input failures are in the outcome, keyed
    /// by `objectWriteTraceId`, and chunks that failed as a whole are in
    /// [`BatchOutcome::failed_chunks`] so that the records created are never lost.
    pub async fn batch_create(&self, inputs: Vec<ObjectInput>) -> Result<BatchOutcome<CrmObject>> {
        self.batch(
            "crm.objects.batch_create",
            "create",
            inputs,
            false,
            |chunk| json!({ "inputs": chunk }),
        )
        .await
    }

    /// Updates records, 100 per call.
    ///
    /// # Errors
    /// Any [`Error`] when no chunk succeeded; per-input failures and failed chunks are in
    /// the outcome.
    pub async fn batch_update(&self, inputs: Vec<ObjectUpdate>) -> Result<BatchOutcome<CrmObject>> {
        self.batch(
            "crm.objects.batch_update",
            "update",
            inputs,
            true,
            |chunk| json!({ "inputs": chunk }),
        )
        .await
    }

    /// Creates or updates records by a unique property (`email` for contacts, or a property
    /// with `hasUniqueValue`), 100 per call. Safe to repeat, which makes it the way to
    /// create records exactly once. Each result says whether it was `new`.
    ///
    /// # Errors
    /// Any [`Error`] when no chunk succeeded; per-input failures and failed chunks are in
    /// the outcome.
    pub async fn batch_upsert(
        &self,
        id_property: &str,
        inputs: Vec<(String, PropertyValues)>,
    ) -> Result<BatchOutcome<CrmObject>> {
        let inputs: Vec<ObjectUpdate> = inputs
            .into_iter()
            .map(|(id, properties)| ObjectUpdate {
                id,
                id_property: Some(id_property.to_owned()),
                properties,
                object_write_trace_id: None,
            })
            .collect();
        self.batch(
            "crm.objects.batch_upsert",
            "upsert",
            inputs,
            true,
            |chunk| json!({ "inputs": chunk }),
        )
        .await
    }

    /// Archives records, 100 per call.
    ///
    /// # Errors
    /// Any [`Error`], including that of a chunk that failed while others succeeded:
    /// archiving is safe to repeat, so the caller simply archives the same ids again.
    pub async fn batch_archive(&self, ids: &[String]) -> Result<()> {
        let inputs: Vec<ObjectId> = ids.iter().map(|i| ObjectId::from(i.as_str())).collect();
        self.batch::<_, serde_json::Value, _>(
            "crm.objects.batch_archive",
            "archive",
            inputs,
            true,
            |chunk| json!({ "inputs": chunk }),
        )
        .await
        .and_then(BatchOutcome::require_all_chunks)
        .map(|_| ())
    }

    /// One search page, exactly as asked.
    ///
    /// # Errors
    /// Any [`Error`]; HubSpot answers 400 past 10,000 results.
    pub async fn search_page(&self, request: &SearchRequest) -> Result<SearchPage> {
        let ep = Endpoint::post(format!("{}/search", self.base()), "crm.objects.search")
            .idempotent()
            .budget(Budget::Search);
        self.client.json(&ep, &[], Some(request)).await
    }

    /// Every match of a search, however many: pages of ids ascending, each asking for ids
    /// above the last one seen, so HubSpot's 10,000-result cap never applies.
    pub fn search_all(
        &self,
        query: SearchQuery,
    ) -> impl Stream<Item = Result<CrmObject>> + Send + 'static {
        let this = self.clone();
        let page_size = if query.page_size == 0 {
            MAX_SEARCH_PAGE
        } else {
            query.page_size.min(MAX_SEARCH_PAGE)
        };
        let pages = stream::try_unfold(Some(None::<String>), move |state| {
            let this = this.clone();
            let query = query.clone();
            async move {
                let Some(last_id) = state else {
                    return Ok(None);
                };
                let request = window_request(&query, last_id.as_deref(), page_size)?;
                let page = this.search_page(&request).await?;
                let full = page.results.len() as u32 >= page_size;
                let next_last = page.results.last().map(|r| r.id.clone());
                let advanced = match (&next_last, &last_id) {
                    (Some(n), Some(l)) => id_key(n) > id_key(l),
                    (Some(_), None) => true,
                    _ => false,
                };
                let next = (full && advanced).then_some(next_last);
                Ok(Some((page.results, next)))
            }
        });
        pages
            .map_ok(|rs| stream::iter(rs.into_iter().map(Ok)))
            .try_flatten()
    }
}

/// Orders ids numerically (they are numeric strings), falling back to text.
fn id_key(id: &str) -> (u128, &str) {
    (id.parse().unwrap_or(u128::MAX), id)
}

/// The request for the window of ids above `last_id`.
fn window_request(
    query: &SearchQuery,
    last_id: Option<&str>,
    page_size: u32,
) -> Result<SearchRequest> {
    let window = last_id.map(|id| Filter::new("hs_object_id", Operator::Gt, id));
    let mut groups = query.filter_groups.clone();
    if let Some(w) = window {
        if groups.is_empty() {
            groups.push(FilterGroup::default());
        }
        for g in &mut groups {
            if g.filters.len() >= MAX_FILTERS_PER_GROUP {
                return Err(Error::Config(format!(
                    "a search filter group has {} filters; streaming past 10,000 results needs one of HubSpot's {MAX_FILTERS_PER_GROUP} for the id window, so use at most {}",
                    g.filters.len(),
                    MAX_FILTERS_PER_GROUP - 1
                )));
            }
            g.filters.push(w.clone());
        }
    }
    Ok(SearchRequest {
        filter_groups: groups,
        sorts: vec![Sort {
            property_name: "hs_object_id".to_owned(),
            direction: Direction::Ascending,
        }],
        query: query.query.clone(),
        properties: query.properties.clone(),
        limit: page_size,
        after: None,
    })
}
