//! Lists v3: manual lists and their memberships (with HubSpot's `recordsIdsAdded` spelling).

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, parse};
use crate::state::{Data, ListDef, canonical_type, iso, now_ms};
use crate::{SandboxState, lock};

pub(crate) fn routes() -> Router<SandboxState> {
    Router::new()
        .route("/crm/v3/lists", post(create))
        .route("/crm/v3/lists/search", post(search))
        .route(
            "/crm/v3/lists/object-type-id/{type_id}/name/{name}",
            get(by_name),
        )
        .route(
            "/crm/v3/lists/records/{type_id}/{record_id}/memberships",
            get(record_memberships),
        )
        .route("/crm/v3/lists/{list_id}", get(get_list).delete(delete_list))
        .route("/crm/v3/lists/{list_id}/memberships", get(members))
        .route(
            "/crm/v3/lists/{list_id}/memberships/join-order",
            get(members_by_join),
        )
        .route("/crm/v3/lists/{list_id}/memberships/add", put(add))
        .route("/crm/v3/lists/{list_id}/memberships/remove", put(remove))
        .route(
            "/crm/v3/lists/{list_id}/memberships/add-and-remove",
            put(add_and_remove),
        )
}

fn render(l: &ListDef) -> Value {
    json!({
        "listId": l.id.to_string(), "listVersion": l.version, "name": l.name, "objectTypeId": l.object_type_id,
        "processingType": l.processing_type, "processingStatus": "COMPLETE", "createdAt": iso(l.created),
        "updatedAt": iso(l.updated), "filtersUpdatedAt": iso(l.created), "size": l.members.len(),
    })
}

fn list_id(data: &Data, raw: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>()
        .ok()
        .filter(|id| data.lists.contains_key(id))
        .ok_or_else(|| ApiError::not_found(format!("list {raw} does not exist")))
}

async fn create(State(state): State<SandboxState>, body: Bytes) -> ApiResult {
    let body: Value = parse(&body)?;
    let (Some(name), Some(type_id), Some(kind)) = (
        body["name"].as_str(),
        body["objectTypeId"].as_str(),
        body["processingType"].as_str(),
    ) else {
        return Err(ApiError::validation(
            "name, objectTypeId and processingType are required",
        ));
    };
    if !matches!(kind, "MANUAL" | "SNAPSHOT" | "DYNAMIC") {
        return Err(ApiError::validation(format!(
            "processingType {kind} is not MANUAL, SNAPSHOT or DYNAMIC"
        )));
    }
    if canonical_type(type_id).is_none() {
        return Err(ApiError::validation(format!(
            "objectTypeId {type_id} is not supported"
        )));
    }
    let mut data = lock(&state.0.data);
    if data
        .lists
        .values()
        .any(|l| l.name.eq_ignore_ascii_case(name))
    {
        return Err(
            ApiError::validation(format!("A list named '{name}' already exists."))
                .sub("LIST_NAME_ALREADY_EXISTS"),
        );
    }
    data.next_list_id += 1;
    let now = now_ms();
    let list = ListDef {
        id: data.next_list_id + 100,
        name: name.to_owned(),
        object_type_id: crate::state::type_id(canonical_type(type_id).unwrap_or("contacts"))
            .to_owned(),
        processing_type: kind.to_owned(),
        version: 1,
        created: now,
        updated: now,
        members: BTreeMap::new(),
    };
    let v = render(&list);
    data.lists.insert(list.id, list);
    Ok(Json(json!({ "list": v })).into_response())
}

async fn search(State(state): State<SandboxState>, body: Bytes) -> ApiResult {
    let body: Value = parse(&body)?;
    let query = body["query"].as_str().unwrap_or("").to_lowercase();
    let offset = body["offset"].as_u64().unwrap_or(0) as usize;
    let count = body["count"].as_u64().unwrap_or(20).clamp(1, 500) as usize;
    let data = lock(&state.0.data);
    let found: Vec<&ListDef> = data
        .lists
        .values()
        .filter(|l| l.name.to_lowercase().contains(&query))
        .collect();
    let page: Vec<Value> = found
        .iter()
        .skip(offset)
        .take(count)
        .map(|l| {
            let mut v = render(l);
            v["additionalProperties"] = json!({ "hs_list_size": l.members.len().to_string() });
            v
        })
        .collect();
    Ok(Json(json!({ "lists": page, "offset": offset + page.len(), "hasMore": offset + count < found.len(), "total": found.len() })).into_response())
}

async fn by_name(
    State(state): State<SandboxState>,
    Path((type_id, name)): Path<(String, String)>,
) -> ApiResult {
    let data = lock(&state.0.data);
    let t = crate::state::type_id(canonical_type(&type_id).unwrap_or("contacts"));
    let l = data
        .lists
        .values()
        .find(|l| l.object_type_id == t && l.name.eq_ignore_ascii_case(&name))
        .ok_or_else(|| ApiError::not_found(format!("no list named {name}")))?;
    Ok(Json(json!({ "list": render(l) })).into_response())
}

async fn get_list(State(state): State<SandboxState>, Path(raw): Path<String>) -> ApiResult {
    let data = lock(&state.0.data);
    let id = list_id(&data, &raw)?;
    Ok(Json(json!({ "list": render(&data.lists[&id]) })).into_response())
}

async fn delete_list(State(state): State<SandboxState>, Path(raw): Path<String>) -> ApiResult {
    let mut data = lock(&state.0.data);
    let id = list_id(&data, &raw)?;
    data.lists.remove(&id);
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

fn change(data: &mut Data, id: u64, add: &[Value], remove: &[Value]) -> Result<Value, ApiError> {
    let list = &data.lists[&id];
    if list.processing_type == "DYNAMIC" {
        return Err(ApiError::validation(
            "the memberships of a DYNAMIC list cannot be changed by hand",
        ));
    }
    let t = canonical_type(&list.object_type_id).unwrap_or("contacts");
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let now = now_ms();
    let (mut added, mut removed, mut missing) = (Vec::new(), Vec::new(), Vec::new());
    let exists: Vec<(String, Option<u64>)> = add
        .iter()
        .map(|v| {
            (
                text(v),
                text(v)
                    .parse::<u64>()
                    .ok()
                    .filter(|i| data.live(t, *i).is_some()),
            )
        })
        .collect();
    let Some(list) = data.lists.get_mut(&id) else {
        return Err(ApiError::not_found("list vanished"));
    };
    for (raw, id) in exists {
        match id {
            Some(i) if !list.members.contains_key(&i) => {
                list.members.insert(i, now);
                added.push(i.to_string());
            }
            Some(_) => {}
            None => missing.push(raw),
        }
    }
    for v in remove {
        if let Ok(i) = text(v).parse::<u64>() {
            if list.members.remove(&i).is_some() {
                removed.push(i.to_string());
            }
        }
    }
    list.updated = now;
    Ok(
        json!({ "recordsIdsAdded": added, "recordIdsRemoved": removed, "recordIdsMissing": missing }),
    )
}

async fn add(State(state): State<SandboxState>, Path(raw): Path<String>, body: Bytes) -> ApiResult {
    let ids: Vec<Value> = parse(&body)?;
    let mut data = lock(&state.0.data);
    let id = list_id(&data, &raw)?;
    Ok(Json(change(&mut data, id, &ids, &[])?).into_response())
}

async fn remove(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let ids: Vec<Value> = parse(&body)?;
    let mut data = lock(&state.0.data);
    let id = list_id(&data, &raw)?;
    Ok(Json(change(&mut data, id, &[], &ids)?).into_response())
}

async fn add_and_remove(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body: Value = parse(&body)?;
    let add = body["recordIdsToAdd"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let remove = body["recordIdsToRemove"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut data = lock(&state.0.data);
    let id = list_id(&data, &raw)?;
    Ok(Json(change(&mut data, id, &add, &remove)?).into_response())
}

fn page(members: Vec<(u64, i64)>, q: &HashMap<String, String>) -> Result<Value, ApiError> {
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
    if limit == 0 || limit > 250 {
        return Err(ApiError::validation(format!(
            "limit must be between 1 and 250; got {limit}"
        )));
    }
    let after: usize = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let results: Vec<Value> = members
        .iter()
        .skip(after)
        .take(limit)
        .map(|(id, at)| json!({ "recordId": id.to_string(), "membershipTimestamp": iso(*at) }))
        .collect();
    let mut body = json!({ "results": results, "total": members.len() });
    if after + limit < members.len() {
        body["paging"] = json!({ "next": { "after": (after + limit).to_string() } });
    }
    Ok(body)
}

async fn members(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let data = lock(&state.0.data);
    let id = list_id(&data, &raw)?;
    let m: Vec<(u64, i64)> = data.lists[&id]
        .members
        .iter()
        .map(|(k, v)| (*k, *v))
        .collect();
    Ok(Json(page(m, &q)?).into_response())
}

async fn members_by_join(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let data = lock(&state.0.data);
    let id = list_id(&data, &raw)?;
    let mut m: Vec<(u64, i64)> = data.lists[&id]
        .members
        .iter()
        .map(|(k, v)| (*k, *v))
        .collect();
    m.sort_by_key(|(id, at)| (*at, *id));
    Ok(Json(page(m, &q)?).into_response())
}

async fn record_memberships(
    State(state): State<SandboxState>,
    Path((_type_id, record)): Path<(String, String)>,
) -> ApiResult {
    let data = lock(&state.0.data);
    let id: u64 = record
        .parse()
        .map_err(|_| ApiError::validation(format!("{record} is not a record id")))?;
    let results: Vec<Value> = data
        .lists
        .values()
        .filter_map(|l| {
            l.members.get(&id).map(|at| json!({ "listId": l.id.to_string(), "listVersion": l.version, "firstAddedTimestamp": iso(*at), "lastAddedTimestamp": iso(*at), "isPublicList": true }))
        })
        .collect();
    Ok(Json(json!({ "results": results })).into_response())
}
