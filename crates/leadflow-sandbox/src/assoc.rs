//! Associations v4: default and labelled links, one by one and in batches, seen from both
//! ends with the right directional type ids.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, parse};
use crate::objects::{batch_answer, object_type, send, standard_error};
use crate::state::{Data, now_ms, singular, type_id};
use crate::{SandboxState, lock, webhooks};

pub(crate) fn routes() -> Router<SandboxState> {
    Router::new()
        .route(
            "/crm/v4/objects/{object_type}/{object_id}/associations/default/{to_type}/{to_id}",
            put(put_default),
        )
        .route(
            "/crm/v4/objects/{object_type}/{object_id}/associations/{to_type}/{to_id}",
            put(put_labels).delete(remove),
        )
        .route(
            "/crm/v4/objects/{object_type}/{object_id}/associations/{to_type}",
            axum::routing::get(read_one),
        )
        .route(
            "/crm/v4/associations/{object_type}/{to_type}/batch/associate/default",
            post(batch_default),
        )
        .route(
            "/crm/v4/associations/{object_type}/{to_type}/batch/create",
            post(batch_create),
        )
        .route(
            "/crm/v4/associations/{object_type}/{to_type}/batch/read",
            post(batch_read),
        )
        .route(
            "/crm/v4/associations/{object_type}/{to_type}/batch/archive",
            post(batch_archive),
        )
}

/// The same link seen from the other end.
pub(crate) fn reverse_type(id: u32) -> u32 {
    match id {
        4 => 3,
        3 => 4,
        279 => 280,
        280 => 279,
        1 => 2,
        2 => 1,
        341 => 342,
        342 => 341,
        5 => 6,
        6 => 5,
        204 => 203,
        203 => 204,
        192 => 191,
        191 => 192,
        216 => 215,
        215 => 216,
        other => other,
    }
}

/// Where a type id leads from `from`.
pub(crate) fn target_of(from: &str, id: u32) -> Option<&'static str> {
    Some(match (from, id) {
        ("contacts", 279 | 1) | ("deals", 341 | 5) | ("tasks", 192) => "companies",
        ("contacts", 4) | ("companies", 342 | 6) | ("tasks", 216) => "deals",
        ("companies", 280 | 2) | ("deals", 3) | ("tasks", 204) => "contacts",
        ("contacts", 203) | ("companies", 191) | ("deals", 215) => "tasks",
        _ => return None,
    })
}

/// The unlabelled type from `from` to `to`.
pub(crate) fn default_type(from: &str, to: &str) -> Option<u32> {
    Some(match (from, to) {
        ("contacts", "companies") => 279,
        ("companies", "contacts") => 280,
        ("contacts", "deals") => 4,
        ("deals", "contacts") => 3,
        ("deals", "companies") => 341,
        ("companies", "deals") => 342,
        ("tasks", "contacts") => 204,
        ("contacts", "tasks") => 203,
        ("tasks", "companies") => 192,
        ("companies", "tasks") => 191,
        ("tasks", "deals") => 216,
        ("deals", "tasks") => 215,
        _ => return None,
    })
}

fn change_events(
    data: &mut Data,
    from_t: &str,
    from_id: u64,
    to_t: &str,
    to_id: u64,
    removed: bool,
) -> Vec<Value> {
    let mut out = Vec::new();
    for (a_t, a_id, b_t, b_id) in [
        (from_t, from_id, to_t, to_id),
        (to_t, to_id, from_t, from_id),
    ] {
        if a_t == "tasks" {
            continue;
        }
        let kind = format!(
            "{}_TO_{}",
            singular(a_t).to_uppercase(),
            singular(b_t).to_uppercase()
        );
        let extra = json!({ "associationType": kind, "fromObjectId": a_id, "toObjectId": b_id, "associationRemoved": removed, "isPrimaryAssociation": false });
        out.extend(webhooks::event(
            data,
            &format!("{}.associationChange", singular(a_t)),
            a_id,
            None,
            extra,
        ));
    }
    out
}

/// Adds a link (no-op when it exists); the webhook events.
pub(crate) fn link(
    data: &mut Data,
    from_t: &str,
    from_id: u64,
    to_t: &str,
    to_id: u64,
    category: &str,
    type_id: u32,
) -> Vec<Value> {
    let forward = (from_t.to_owned(), from_id, to_t.to_owned(), to_id);
    let backward = (to_t.to_owned(), to_id, from_t.to_owned(), from_id);
    if let Some((_, types)) = data.associations.iter_mut().find(|(k, _)| *k == forward) {
        if !types.iter().any(|(_, t)| *t == type_id) {
            types.push((category.to_owned(), type_id));
        }
        return Vec::new();
    }
    if let Some((_, types)) = data.associations.iter_mut().find(|(k, _)| *k == backward) {
        let reversed = reverse_type(type_id);
        if !types.iter().any(|(_, t)| *t == reversed) {
            types.push((category.to_owned(), reversed));
        }
        return Vec::new();
    }
    data.associations
        .push((forward, vec![(category.to_owned(), type_id)]));
    change_events(data, from_t, from_id, to_t, to_id, false)
}

/// Removes every link between two records; the webhook events.
pub(crate) fn unlink(
    data: &mut Data,
    from_t: &str,
    from_id: u64,
    to_t: &str,
    to_id: u64,
) -> Vec<Value> {
    let before = data.associations.len();
    data.associations.retain(|((ft, fi, tt, ti), _)| {
        !((ft == from_t && *fi == from_id && tt == to_t && *ti == to_id)
            || (ft == to_t && *fi == to_id && tt == from_t && *ti == from_id))
    });
    if data.associations.len() == before {
        Vec::new()
    } else {
        change_events(data, from_t, from_id, to_t, to_id, true)
    }
}

fn ids(
    data: &Data,
    from_t: &str,
    from: &str,
    to_t: &str,
    to: &str,
) -> Result<(u64, u64), ApiError> {
    let f = from
        .parse::<u64>()
        .ok()
        .and_then(|i| data.live(from_t, i).map(|r| r.id));
    let t = to
        .parse::<u64>()
        .ok()
        .and_then(|i| data.live(to_t, i).map(|r| r.id));
    match (f, t) {
        (Some(f), Some(t)) => Ok((f, t)),
        (None, _) => Err(ApiError::not_found(format!(
            "{} {from} does not exist",
            singular(from_t)
        ))),
        (_, None) => Err(ApiError::not_found(format!(
            "{} {to} does not exist",
            singular(to_t)
        ))),
    }
}

fn default_result(from: u64, to: u64, type_id: u32) -> Value {
    json!({ "from": { "id": from.to_string() }, "to": { "id": to.to_string() }, "associationSpec": { "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id } })
}

fn labels_result(from_t: &str, from: u64, to_t: &str, to: u64, types: &[(String, u32)]) -> Value {
    let labels: Vec<Value> = types
        .iter()
        .filter(|(c, _)| c != "HUBSPOT_DEFINED")
        .map(|(_, t)| json!(t.to_string()))
        .collect();
    json!({ "fromObjectTypeId": type_id(from_t), "fromObjectId": from.to_string(), "toObjectTypeId": type_id(to_t), "toObjectId": to.to_string(), "labels": labels })
}

fn render_links(links: &[(u64, Vec<(String, u32)>)]) -> Vec<Value> {
    links
        .iter()
        .map(|(to, types)| {
            let types: Vec<Value> = types
                .iter()
                .map(|(c, t)| json!({ "category": c, "typeId": t }))
                .collect();
            json!({ "toObjectId": to.to_string(), "associationTypes": types })
        })
        .collect()
}

async fn put_default(
    State(state): State<SandboxState>,
    Path((ft, fid, tt, tid)): Path<(String, String, String, String)>,
) -> ApiResult {
    let (from_t, to_t) = (object_type(&ft)?, object_type(&tt)?);
    let started = now_ms();
    let (events, result) = {
        let mut data = lock(&state.0.data);
        let (f, t) = ids(&data, from_t, &fid, to_t, &tid)?;
        let ty = default_type(from_t, to_t).ok_or_else(|| {
            ApiError::validation(format!("{from_t} cannot be associated with {to_t}"))
        })?;
        (
            link(&mut data, from_t, f, to_t, t, "HUBSPOT_DEFINED", ty),
            default_result(f, t, ty),
        )
    };
    send(&state, events);
    Ok(batch_answer(
        StatusCode::OK,
        vec![result],
        Vec::new(),
        started,
    ))
}

fn specs(body: &Value) -> Result<Vec<(String, u32)>, ApiError> {
    let Some(items) = body.as_array() else {
        return Err(ApiError::validation(
            "the body must be a list of association types",
        ));
    };
    items
        .iter()
        .map(|s| {
            match (
                s["associationCategory"].as_str(),
                s["associationTypeId"].as_u64(),
            ) {
                (Some(c), Some(t)) => Ok((c.to_owned(), t as u32)),
                _ => Err(ApiError::validation(
                    "each association type needs associationCategory and associationTypeId",
                )),
            }
        })
        .collect()
}

async fn put_labels(
    State(state): State<SandboxState>,
    Path((ft, fid, tt, tid)): Path<(String, String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let (from_t, to_t) = (object_type(&ft)?, object_type(&tt)?);
    let body: Value = parse(&body)?;
    let types = specs(&body)?;
    let (events, result) = {
        let mut data = lock(&state.0.data);
        let (f, t) = ids(&data, from_t, &fid, to_t, &tid)?;
        for (_, ty) in &types {
            if target_of(from_t, *ty) != Some(to_t) {
                return Err(ApiError::validation(format!(
                    "association type {ty} does not lead from {from_t} to {to_t}"
                )));
            }
        }
        let mut events = unlink(&mut data, from_t, f, to_t, t);
        for (c, ty) in &types {
            events.extend(link(&mut data, from_t, f, to_t, t, c, *ty));
        }
        (events, labels_result(from_t, f, to_t, t, &types))
    };
    send(&state, events);
    Ok((StatusCode::CREATED, Json(result)).into_response())
}

async fn remove(
    State(state): State<SandboxState>,
    Path((ft, fid, tt, tid)): Path<(String, String, String, String)>,
) -> ApiResult {
    let (from_t, to_t) = (object_type(&ft)?, object_type(&tt)?);
    let events = {
        let mut data = lock(&state.0.data);
        match (fid.parse::<u64>(), tid.parse::<u64>()) {
            (Ok(f), Ok(t)) => unlink(&mut data, from_t, f, to_t, t),
            _ => Vec::new(),
        }
    };
    send(&state, events);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn read_one(
    State(state): State<SandboxState>,
    Path((ft, fid, tt)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let (from_t, to_t) = (object_type(&ft)?, object_type(&tt)?);
    let data = lock(&state.0.data);
    let Some(id) = fid
        .parse::<u64>()
        .ok()
        .and_then(|i| data.live(from_t, i).map(|r| r.id))
    else {
        return Err(ApiError::not_found(format!(
            "{} {fid} does not exist",
            singular(from_t)
        )));
    };
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(500)
        .clamp(1, 500);
    let after: usize = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let links = data.links(from_t, id, to_t);
    let page = render_links(
        &links
            .iter()
            .skip(after)
            .take(limit)
            .cloned()
            .collect::<Vec<_>>(),
    );
    let mut body = json!({ "results": page });
    if after + limit < links.len() {
        body["paging"] = json!({ "next": { "after": (after + limit).to_string() } });
    }
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
struct Inputs {
    inputs: Vec<Value>,
}

fn id_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn check_size(n: usize, max: usize) -> Result<(), ApiError> {
    if n > max {
        return Err(ApiError::validation(format!(
            "Batch input limit exceeded: {n} inputs; the limit is {max}"
        )));
    }
    Ok(())
}

async fn batch_default(
    State(state): State<SandboxState>,
    Path((ft, tt)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let (from_t, to_t) = (object_type(&ft)?, object_type(&tt)?);
    let body: Inputs = parse(&body)?;
    check_size(body.inputs.len(), 2000)?;
    let started = now_ms();
    let ty = default_type(from_t, to_t).ok_or_else(|| {
        ApiError::validation(format!("{from_t} cannot be associated with {to_t}"))
    })?;
    let (mut results, mut errors, mut events) = (Vec::new(), Vec::new(), Vec::new());
    {
        let mut data = lock(&state.0.data);
        for input in &body.inputs {
            let (f, t) = (id_of(&input["from"]["id"]), id_of(&input["to"]["id"]));
            match ids(&data, from_t, &f, to_t, &t) {
                Ok((f, t)) => {
                    events.extend(link(&mut data, from_t, f, to_t, t, "HUBSPOT_DEFINED", ty));
                    results.push(default_result(f, t, ty));
                }
                Err(e) => errors.push(standard_error(
                    e.category,
                    &e.message,
                    json!({ "fromId": [f], "toId": [t] }),
                )),
            }
        }
    }
    send(&state, events);
    Ok(batch_answer(StatusCode::OK, results, errors, started))
}

async fn batch_create(
    State(state): State<SandboxState>,
    Path((ft, tt)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let (from_t, to_t) = (object_type(&ft)?, object_type(&tt)?);
    let body: Inputs = parse(&body)?;
    check_size(body.inputs.len(), 2000)?;
    let started = now_ms();
    let (mut results, mut errors, mut events) = (Vec::new(), Vec::new(), Vec::new());
    {
        let mut data = lock(&state.0.data);
        for input in &body.inputs {
            let (f, t) = (id_of(&input["from"]["id"]), id_of(&input["to"]["id"]));
            let outcome = ids(&data, from_t, &f, to_t, &t).and_then(|(fi, ti)| {
                let types = specs(&input["types"])?;
                for (_, ty) in &types {
                    if target_of(from_t, *ty) != Some(to_t) {
                        return Err(ApiError::validation(format!(
                            "association type {ty} does not lead from {from_t} to {to_t}"
                        )));
                    }
                }
                Ok((fi, ti, types))
            });
            match outcome {
                Ok((fi, ti, types)) => {
                    for (c, ty) in &types {
                        events.extend(link(&mut data, from_t, fi, to_t, ti, c, *ty));
                    }
                    results.push(labels_result(from_t, fi, to_t, ti, &types));
                }
                Err(e) => errors.push(standard_error(
                    e.category,
                    &e.message,
                    json!({ "fromId": [f], "toId": [t] }),
                )),
            }
        }
    }
    send(&state, events);
    Ok(batch_answer(StatusCode::CREATED, results, errors, started))
}

async fn batch_read(
    State(state): State<SandboxState>,
    Path((ft, tt)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let (from_t, to_t) = (object_type(&ft)?, object_type(&tt)?);
    let body: Inputs = parse(&body)?;
    check_size(body.inputs.len(), 1000)?;
    let started = now_ms();
    let data = lock(&state.0.data);
    let (mut results, mut missing) = (Vec::new(), Vec::new());
    for input in &body.inputs {
        let id = id_of(&input["id"]);
        match id.parse::<u64>().ok().and_then(|i| data.live(from_t, i).map(|r| r.id)) {
            Some(i) => results.push(json!({ "from": { "id": i.to_string() }, "to": render_links(&data.links(from_t, i, to_t)) })),
            None => missing.push(id),
        }
    }
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![standard_error(
            "OBJECT_NOT_FOUND",
            "Some records do not exist",
            json!({ "ids": missing }),
        )]
    };
    Ok(batch_answer(StatusCode::OK, results, errors, started))
}

async fn batch_archive(
    State(state): State<SandboxState>,
    Path((ft, tt)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let (from_t, to_t) = (object_type(&ft)?, object_type(&tt)?);
    let body: Inputs = parse(&body)?;
    check_size(body.inputs.len(), 2000)?;
    let mut events = Vec::new();
    {
        let mut data = lock(&state.0.data);
        for input in &body.inputs {
            let Ok(f) = id_of(&input["from"]["id"]).parse::<u64>() else {
                continue;
            };
            for to in input["to"].as_array().into_iter().flatten() {
                if let Ok(t) = id_of(&to["id"]).parse::<u64>() {
                    events.extend(unlink(&mut data, from_t, f, to_t, t));
                }
            }
        }
    }
    send(&state, events);
    Ok(StatusCode::NO_CONTENT.into_response())
}
