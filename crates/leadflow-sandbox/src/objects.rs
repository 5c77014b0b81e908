//! CRM objects v3: list, get, create, update, archive, batch calls, search and merge,
//! with HubSpot's validation.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult, detail, parse};
use crate::state::{
    Data, Record, canonical_type, created_prop, iso, modified_prop, now_ms, singular,
};
use crate::{SandboxState, lock, webhooks};

pub(crate) fn routes() -> Router<SandboxState> {
    Router::new()
        .route("/crm/v3/objects/{object_type}", get(list).post(create))
        .route(
            "/crm/v3/objects/{object_type}/search",
            post(crate::objects::search::search),
        )
        .route("/crm/v3/objects/{object_type}/merge", post(merge))
        .route("/crm/v3/objects/{object_type}/batch/read", post(batch_read))
        .route(
            "/crm/v3/objects/{object_type}/batch/create",
            post(batch_create),
        )
        .route(
            "/crm/v3/objects/{object_type}/batch/update",
            post(batch_update),
        )
        .route(
            "/crm/v3/objects/{object_type}/batch/upsert",
            post(batch_upsert),
        )
        .route(
            "/crm/v3/objects/{object_type}/batch/archive",
            post(batch_archive),
        )
        .route(
            "/crm/v3/objects/{object_type}/{object_id}",
            get(get_one).patch(update).delete(archive),
        )
}

pub(crate) mod search;

pub(crate) fn object_type(raw: &str) -> Result<&'static str, ApiError> {
    canonical_type(raw)
        .ok_or_else(|| ApiError::validation(format!("Unable to infer object type from: {raw}")))
}

fn default_properties(t: &str) -> &'static [&'static str] {
    match t {
        "contacts" => &[
            "createdate",
            "email",
            "firstname",
            "hs_object_id",
            "lastmodifieddate",
            "lastname",
        ],
        "companies" => &[
            "createdate",
            "domain",
            "hs_lastmodifieddate",
            "hs_object_id",
            "name",
        ],
        "deals" => &[
            "amount",
            "closedate",
            "createdate",
            "dealname",
            "dealstage",
            "hs_lastmodifieddate",
            "hs_object_id",
            "pipeline",
        ],
        _ => &[
            "hs_createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
            "hs_task_status",
            "hs_task_subject",
            "hs_timestamp",
        ],
    }
}

/// A record as the API shows it. Requested properties without a value are left out
/// (HubSpot's schema types every value as a string).
pub(crate) fn render(t: &str, r: &Record, props: Option<&[String]>, all: bool) -> Value {
    let mut properties = Map::new();
    let mut put = |name: &str| {
        if let Some(v) = r.props.get(name) {
            properties.insert(name.to_owned(), json!(v));
        }
    };
    if all {
        for k in r.props.keys() {
            put(k);
        }
    } else {
        match props {
            Some(list) if !list.is_empty() => {
                for p in list {
                    put(p);
                }
                for p in ["hs_object_id", created_prop(t), modified_prop(t)] {
                    put(p);
                }
            }
            _ => {
                for p in default_properties(t) {
                    put(p);
                }
            }
        }
    }
    let mut v = json!({
        "id": r.id.to_string(),
        "properties": properties,
        "createdAt": iso(r.created),
        "updatedAt": iso(r.updated),
        "archived": r.archived,
    });
    if let Some(at) = r.archived_at {
        v["archivedAt"] = json!(iso(at));
    }
    v
}

fn split_props(q: &HashMap<String, String>) -> Option<Vec<String>> {
    q.get("properties").map(|p| {
        p.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

/// A property value as a string, the way HubSpot reads JSON input.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn valid_number(s: &str) -> bool {
    let t = s.strip_prefix('-').unwrap_or(s);
    !t.is_empty()
        && t.chars().all(|c| c.is_ascii_digit() || c == '.')
        && t.matches('.').count() <= 1
        && t != "."
}

/// Milliseconds of a date or datetime value (`YYYY-MM-DD`, RFC 3339, or epoch ms).
pub(crate) fn to_ms(s: &str) -> Option<i64> {
    if let Ok(ms) = s.trim().parse::<i64>() {
        return Some(ms);
    }
    if let Ok(d) = s.trim().parse::<jiff::civil::Date>() {
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_millisecond());
    }
    s.trim()
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

fn valid_date(s: &str) -> bool {
    let t = s.trim();
    if t.len() == 10 && t.parse::<jiff::civil::Date>().is_ok() {
        return true;
    }
    t.parse::<i64>()
        .is_ok_and(|ms| ms.rem_euclid(86_400_000) == 0)
}

/// Checks property values against the schema; the normalised strings, or HubSpot's 400.
pub(crate) fn check_values(
    data: &Data,
    t: &str,
    input: &Map<String, Value>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut errors = Vec::new();
    let mut out = BTreeMap::new();
    let type_id = crate::state::type_id(t);
    for (name, raw) in input {
        let value = as_text(raw);
        let Some(def) = data.property(t, name) else {
            errors.push(detail(
                format!("Property \"{name}\" does not exist"),
                "PROPERTY_DOESNT_EXIST",
                name,
            ));
            continue;
        };
        if def.read_only {
            errors.push(detail(
                format!("\"{name}\" is a read only property; its value cannot be set."),
                "READ_ONLY_VALUE",
                name,
            ));
            continue;
        }
        if !value.is_empty() {
            let bad = |code: &str, msg: String| detail(msg, code, name);
            match def.type_.as_str() {
                // A deal's stage and pipeline are checked against the pipelines, whose
                // stages change without the property's options changing.
                "enumeration" if t == "deals" && (name == "dealstage" || name == "pipeline") => {}
                "enumeration" => {
                    let values: Vec<&str> = if def.field_type == "checkbox" {
                        value.trim_start_matches(';').split(';').collect()
                    } else {
                        vec![value.as_str()]
                    };
                    for v in values {
                        if !def.options.iter().any(|o| o.value == v) {
                            let allowed: Vec<&str> = def.options.iter().map(|o| o.value.as_str()).collect();
                            errors.push(bad("INVALID_OPTION", format!("{v} was not one of the allowed options: [{}]", allowed.join(", "))));
                        }
                    }
                }
                "number" if !valid_number(&value) => errors.push(bad("INVALID_DECIMAL", format!("{value} was not a valid number"))),
                "date" if !valid_date(&value) => errors.push(bad(
                    "INVALID_DATE",
                    format!("{value} is not a valid date: use YYYY-MM-DD or a millisecond timestamp at midnight UTC"),
                )),
                "datetime" if to_ms(&value).is_none() => errors.push(bad("INVALID_DATETIME", format!("{value} is not a valid datetime"))),
                "bool" if !matches!(value.as_str(), "true" | "false") => errors.push(bad("INVALID_BOOLEAN", format!("{value} is not true or false"))),
                _ => {}
            }
            if let Some(rules) = data.rules.get(type_id).and_then(|r| r.get(name)) {
                let num = value.parse::<f64>().ok();
                for (rule, args) in rules {
                    let arg = args.first().and_then(|a| a.parse::<f64>().ok());
                    let broken = match (rule.as_str(), num, arg) {
                        ("MIN_NUMBER", Some(n), Some(a)) => n < a,
                        ("MAX_NUMBER", Some(n), Some(a)) => n > a,
                        ("MAX_LENGTH", _, Some(a)) => value.chars().count() as f64 > a,
                        ("MIN_LENGTH", _, Some(a)) => (value.chars().count() as f64) < a,
                        _ => false,
                    };
                    if broken {
                        errors.push(bad(
                            "INVALID_PROPERTY_VALUE",
                            format!(
                                "{value} breaks the {rule} rule ({}) of {name}",
                                args.join(", ")
                            ),
                        ));
                    }
                }
            }
        }
        out.insert(name.clone(), value);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        let summary: Vec<String> = errors
            .iter()
            .filter_map(|e| e["message"].as_str().map(str::to_owned))
            .collect();
        Err(ApiError::validation(format!(
            "Property values were not valid: {}",
            summary.join("; ")
        ))
        .with_errors(errors))
    }
}

/// The live record of `t` whose property `name` equals `value` (emails case-insensitively).
pub(crate) fn find_by(data: &Data, t: &str, name: &str, value: &str) -> Option<u64> {
    if t == "contacts" && name == "email" {
        return data.emails.get(&value.to_lowercase()).copied();
    }
    if name == "hs_object_id" {
        return value.parse().ok().filter(|id| data.live(t, *id).is_some());
    }
    data.records
        .get(t)?
        .values()
        .find(|r| {
            !r.archived && r.merged_into.is_none() && r.props.get(name).is_some_and(|v| v == value)
        })
        .map(|r| r.id)
}

/// Record-level rules: required properties, uniqueness, deal stages.
fn check_record(
    data: &Data,
    t: &str,
    id: Option<u64>,
    merged: &BTreeMap<String, String>,
    creating: bool,
) -> Result<(), ApiError> {
    let has = |p: &str| merged.get(p).is_some_and(|v| !v.is_empty());
    if creating && t == "contacts" && !has("email") && !has("firstname") && !has("lastname") {
        return Err(ApiError::validation(
            "A contact needs at least one of email, firstname or lastname",
        ));
    }
    if t == "contacts" {
        if let Some(email) = merged.get("email").filter(|e| !e.is_empty()) {
            if let Some(existing) = find_by(data, t, "email", email).filter(|e| Some(*e) != id) {
                return Err(ApiError::conflict(
                    "CONFLICT",
                    format!("Contact already exists. Existing ID: {existing}"),
                ));
            }
        }
    }
    for def in data
        .properties
        .get(t)
        .into_iter()
        .flatten()
        .filter(|d| d.has_unique_value && !d.archived)
    {
        if let Some(v) = merged.get(&def.name).filter(|v| !v.is_empty()) {
            if let Some(existing) = find_by(data, t, &def.name, v).filter(|e| Some(*e) != id) {
                return Err(ApiError::conflict(
                    "CONFLICT",
                    format!(
                        "A {} with {} {v} already exists. Existing ID: {existing}",
                        singular(t),
                        def.name
                    ),
                ));
            }
        }
    }
    if t == "tasks" && creating && !has("hs_timestamp") {
        return Err(ApiError::validation(
            "Property values were not valid: hs_timestamp is required",
        )
        .with_errors(vec![detail(
            "hs_timestamp is required",
            "REQUIRED_PROPERTY",
            "hs_timestamp",
        )]));
    }
    if t == "deals" {
        if creating && !has("dealname") {
            return Err(ApiError::validation(
                "Property values were not valid: dealname is required",
            )
            .with_errors(vec![detail(
                "dealname is required",
                "REQUIRED_PROPERTY",
                "dealname",
            )]));
        }
        if creating || merged.contains_key("dealstage") || merged.contains_key("pipeline") {
            let pipeline_id = merged
                .get("pipeline")
                .filter(|p| !p.is_empty())
                .map_or("default", String::as_str);
            let Some(pipeline) = data.pipelines.iter().find(|p| p.id == pipeline_id) else {
                return Err(ApiError::validation(format!(
                    "Property values were not valid: pipeline {pipeline_id} does not exist"
                ))
                .with_errors(vec![detail(
                    format!("{pipeline_id} is not a valid pipeline"),
                    "INVALID_OPTION",
                    "pipeline",
                )]));
            };
            match merged.get("dealstage").filter(|s| !s.is_empty()) {
                Some(stage)
                    if pipeline
                        .stages
                        .iter()
                        .any(|s| &s.id == stage && !s.archived) => {}
                Some(stage) => {
                    return Err(ApiError::validation(format!("Property values were not valid: {stage} is not a valid stage of pipeline {pipeline_id}"))
                        .with_errors(vec![detail(format!("{stage} was not one of the allowed options"), "INVALID_OPTION", "dealstage")]));
                }
                None if creating => {
                    return Err(ApiError::validation(
                        "Property values were not valid: dealstage is required",
                    )
                    .with_errors(vec![detail(
                        "dealstage is required",
                        "REQUIRED_PROPERTY",
                        "dealstage",
                    )]));
                }
                None => {}
            }
        }
    }
    Ok(())
}

/// A checked create: the property values to store and the inline links to make.
type CheckedCreate = (
    BTreeMap<String, String>,
    Vec<(&'static str, u64, String, u32)>,
);

/// Checks a create against the portal without writing anything.
fn check_create(
    data: &Data,
    t: &str,
    input: &Map<String, Value>,
    associations: &[Value],
) -> Result<CheckedCreate, ApiError> {
    let mut props = check_values(data, t, input)?;
    props.retain(|_, v| !v.is_empty());
    check_record(data, t, None, &props, true)?;
    // Check inline associations before writing anything.
    let mut links = Vec::new();
    for a in associations {
        let to = a["to"]["id"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| a["to"]["id"].as_u64().map(|n| n.to_string()));
        let Some(to_id) = to.and_then(|s| s.parse::<u64>().ok()) else {
            return Err(ApiError::validation("associations[].to.id is required"));
        };
        for ty in a["types"].as_array().into_iter().flatten() {
            let type_id = ty["associationTypeId"].as_u64().unwrap_or(0) as u32;
            let category = ty["associationCategory"]
                .as_str()
                .unwrap_or("HUBSPOT_DEFINED")
                .to_owned();
            let Some(to_t) = crate::assoc::target_of(t, type_id) else {
                return Err(ApiError::validation(format!(
                    "association type {type_id} does not start at {}",
                    singular(t)
                )));
            };
            if data.live(to_t, to_id).is_none() {
                return Err(ApiError::validation(format!(
                    "{} {to_id} does not exist, so it cannot be associated",
                    singular(to_t)
                )));
            }
            links.push((to_t, to_id, category, type_id));
        }
    }
    Ok((props, links))
}

/// Creates a record; returns its id and the webhook events it caused.
pub(crate) fn create_record(
    data: &mut Data,
    t: &str,
    input: &Map<String, Value>,
    associations: &[Value],
) -> Result<(u64, Vec<Value>), ApiError> {
    let (mut props, links) = check_create(data, t, input, associations)?;
    let now = now_ms();
    let id = data.next_record_id(t);
    props.insert("hs_object_id".to_owned(), id.to_string());
    props.insert(created_prop(t).to_owned(), iso(now));
    props.insert(modified_prop(t).to_owned(), iso(now));
    if t == "deals" {
        props
            .entry("pipeline".to_owned())
            .or_insert_with(|| "default".to_owned());
    }
    if t == "contacts" {
        if let Some(e) = props.get("email") {
            data.emails.insert(e.to_lowercase(), id);
        }
    }
    let record = Record {
        id,
        props,
        created: now,
        updated: now,
        archived: false,
        archived_at: None,
        merged_into: None,
        previous: None,
    };
    data.records
        .entry(t.to_owned())
        .or_default()
        .insert(id, record);
    let mut events = Vec::new();
    events.extend(webhooks::event(
        data,
        &format!("{}.creation", singular(t)),
        id,
        None,
        json!({ "changeFlag": "NEW" }),
    ));
    for (k, v) in input {
        events.extend(webhooks::event(
            data,
            &format!("{}.propertyChange", singular(t)),
            id,
            Some((k, &as_text(v))),
            json!({}),
        ));
    }
    for (to_t, to_id, category, type_id) in links {
        events.extend(crate::assoc::link(
            data, t, id, to_t, to_id, &category, type_id,
        ));
    }
    Ok((id, events))
}

/// Updates a record; the webhook events it caused.
pub(crate) fn update_record(
    data: &mut Data,
    t: &str,
    id: u64,
    input: &Map<String, Value>,
) -> Result<Vec<Value>, ApiError> {
    let values = check_values(data, t, input)?;
    let Some(current) = data.live(t, id).cloned() else {
        return Err(ApiError::not_found("resource not found"));
    };
    let mut merged = current.props.clone();
    for (k, v) in &values {
        merged.insert(k.clone(), v.clone());
    }
    let mut check = values.clone();
    if t == "deals" && (values.contains_key("dealstage") || values.contains_key("pipeline")) {
        check
            .entry("pipeline".to_owned())
            .or_insert_with(|| merged.get("pipeline").cloned().unwrap_or_default());
        check
            .entry("dealstage".to_owned())
            .or_insert_with(|| merged.get("dealstage").cloned().unwrap_or_default());
    }
    check_record(data, t, Some(current.id), &check, false)?;
    let now = now_ms().max(current.updated + 1);
    merged.retain(|_, v| !v.is_empty());
    merged.insert(modified_prop(t).to_owned(), iso(now));
    if t == "contacts" {
        if let Some(old) = current.props.get("email") {
            data.emails.remove(&old.to_lowercase());
        }
        if let Some(e) = merged.get("email") {
            data.emails.insert(e.to_lowercase(), current.id);
        }
    }
    let changed: Vec<(String, String)> = values
        .iter()
        .filter(|(k, v)| current.props.get(*k).map_or(!v.is_empty(), |o| o != *v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(r) = data.records.get_mut(t).and_then(|m| m.get_mut(&current.id)) {
        r.previous = Some((r.updated, r.props.clone()));
        r.props = merged;
        r.updated = now;
    }
    let mut events = Vec::new();
    for (k, v) in changed {
        events.extend(webhooks::event(
            data,
            &format!("{}.propertyChange", singular(t)),
            current.id,
            Some((&k, &v)),
            json!({}),
        ));
    }
    Ok(events)
}

/// Archives a record (and its email); the webhook events.
pub(crate) fn archive_record(data: &mut Data, t: &str, id: u64) -> Vec<Value> {
    let now = now_ms();
    let Some(r) = data.records.get_mut(t).and_then(|m| m.get_mut(&id)) else {
        return Vec::new();
    };
    if r.archived {
        return Vec::new();
    }
    r.archived = true;
    r.archived_at = Some(now);
    r.updated = now;
    if let Some(e) = r.props.get("email").cloned() {
        data.emails.remove(&e.to_lowercase());
    }
    webhooks::event(
        data,
        &format!("{}.deletion", singular(t)),
        id,
        None,
        json!({}),
    )
    .into_iter()
    .collect()
}

pub(crate) fn send(state: &SandboxState, events: Vec<Value>) {
    for e in events {
        let _ = state.0.events.send(e);
    }
}

async fn list(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let t = object_type(&raw)?;
    let max = state.0.config.limits.max_list_page;
    let limit: usize = match q.get("limit") {
        None => 10,
        Some(l) => l
            .parse()
            .map_err(|_| ApiError::validation(format!("limit {l:?} is not a number")))?,
    };
    if limit == 0 || limit > max {
        return Err(ApiError::validation(format!(
            "limit must be between 1 and {max}; got {limit}"
        )));
    }
    let after: u64 = match q.get("after") {
        None => 0,
        Some(a) => a
            .parse()
            .map_err(|_| ApiError::validation(format!("after {a:?} is not a valid cursor")))?,
    };
    let archived = q.get("archived").is_some_and(|a| a == "true");
    let props = split_props(&q);
    let data = lock(&state.0.data);
    let mut results = Vec::with_capacity(limit);
    let mut next = None;
    if let Some(records) = data.records.get(t) {
        for r in records
            .range(after..)
            .map(|(_, r)| r)
            .filter(|r| r.archived == archived && r.merged_into.is_none())
        {
            if results.len() == limit {
                next = Some(r.id);
                break;
            }
            results.push(render(t, r, props.as_deref(), false));
        }
    }
    let mut body = json!({ "results": results });
    if let Some(n) = next {
        body["paging"] = json!({ "next": { "after": n.to_string(), "link": format!("/crm/v3/objects/{t}?after={n}") } });
    }
    Ok(Json(body).into_response())
}

async fn get_one(
    State(state): State<SandboxState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let t = object_type(&raw)?;
    let data = lock(&state.0.data);
    let archived = q.get("archived").is_some_and(|a| a == "true");
    let found = match q.get("idProperty").map(String::as_str) {
        Some(p) if p != "hs_object_id" => {
            if data
                .property(t, p)
                .is_none_or(|d| !d.has_unique_value && p != "email")
            {
                return Err(ApiError::validation(format!(
                    "{p} is not a unique identifier property of {t}"
                )));
            }
            find_by(&data, t, p, &id)
        }
        _ => id.parse::<u64>().ok(),
    };
    let record = found.and_then(|i| {
        if archived {
            data.records.get(t)?.get(&i).filter(|r| r.archived).cloned()
        } else {
            data.live(t, i).cloned()
        }
    });
    match record {
        Some(r) => Ok(Json(render(t, &r, split_props(&q).as_deref(), false)).into_response()),
        None => Err(ApiError::not_found("resource not found")),
    }
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(default)]
    properties: Map<String, Value>,
    #[serde(default)]
    associations: Vec<Value>,
}

async fn create(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: CreateBody = parse(&body)?;
    let (json, events) = {
        let mut data = lock(&state.0.data);
        let (id, events) = create_record(&mut data, t, &body.properties, &body.associations)?;
        let r = data.live(t, id).cloned();
        (r.map(|r| render(t, &r, None, true)), events)
    };
    send(&state, events);
    Ok((StatusCode::CREATED, Json(json.unwrap_or_default())).into_response())
}

async fn update(
    State(state): State<SandboxState>,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: CreateBody = parse(&body)?;
    let (json, events) = {
        let mut data = lock(&state.0.data);
        let target = match q.get("idProperty") {
            Some(p) => find_by(&data, t, p, &id),
            None => id
                .parse::<u64>()
                .ok()
                .and_then(|i| data.live(t, i).map(|r| r.id)),
        };
        let Some(target) = target else {
            return Err(ApiError::not_found("resource not found"));
        };
        let events = update_record(&mut data, t, target, &body.properties)?;
        (
            data.live(t, target).map(|r| render(t, r, None, true)),
            events,
        )
    };
    send(&state, events);
    Ok(Json(json.unwrap_or_default()).into_response())
}

async fn archive(
    State(state): State<SandboxState>,
    Path((raw, id)): Path<(String, String)>,
) -> ApiResult {
    let t = object_type(&raw)?;
    let events = {
        let mut data = lock(&state.0.data);
        match id
            .parse::<u64>()
            .ok()
            .and_then(|i| data.live(t, i).map(|r| r.id))
        {
            Some(i) => archive_record(&mut data, t, i),
            None => Vec::new(),
        }
    };
    send(&state, events);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn check_batch_size(state: &SandboxState, n: usize) -> Result<(), ApiError> {
    let max = state.0.config.limits.max_batch_inputs;
    if n > max {
        return Err(ApiError::validation(format!(
            "Batch input limit exceeded: {n} inputs were sent; the limit is {max}"
        )));
    }
    Ok(())
}

/// HubSpot's `StandardError` for one failed input.
pub(crate) fn standard_error(category: &str, message: &str, context: Value) -> Value {
    json!({ "status": "error", "category": category, "message": message, "context": context, "errors": [], "links": {} })
}

/// A batch answer: 200/201 without errors, 207 with.
pub(crate) fn batch_answer(
    ok: StatusCode,
    results: Vec<Value>,
    errors: Vec<Value>,
    started: i64,
) -> Response {
    let mut body = json!({ "status": "COMPLETE", "results": results, "startedAt": iso(started), "completedAt": iso(now_ms()) });
    let status = if errors.is_empty() {
        ok
    } else {
        body["numErrors"] = json!(errors.len());
        body["errors"] = Value::Array(errors);
        StatusCode::MULTI_STATUS
    };
    (status, Json(body)).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchReadBody {
    inputs: Vec<Value>,
    #[serde(default)]
    properties: Vec<String>,
    #[serde(default)]
    id_property: Option<String>,
}

async fn batch_read(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: BatchReadBody = parse(&body)?;
    check_batch_size(&state, body.inputs.len())?;
    let started = now_ms();
    let archived = q.get("archived").is_some_and(|a| a == "true");
    let data = lock(&state.0.data);
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for input in &body.inputs {
        let key = as_text(&input["id"]);
        let id = match body.id_property.as_deref() {
            Some(p) if p != "hs_object_id" => find_by(&data, t, p, &key),
            _ => key.parse::<u64>().ok(),
        };
        let r = id.and_then(|i| {
            if archived {
                data.records.get(t)?.get(&i).filter(|r| r.archived).cloned()
            } else {
                data.live(t, i).cloned()
            }
        });
        match r {
            Some(r) => results.push(render(t, &r, Some(&body.properties), false)),
            None => missing.push(key),
        }
    }
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![standard_error(
            "OBJECT_NOT_FOUND",
            &format!(
                "Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.",
                singular(t).to_uppercase()
            ),
            json!({ "ids": missing }),
        )]
    };
    Ok(batch_answer(StatusCode::OK, results, errors, started))
}

#[derive(Deserialize)]
struct Inputs {
    inputs: Vec<Value>,
}

fn trace_context(input: &Value) -> Value {
    match input.get("objectWriteTraceId").and_then(Value::as_str) {
        Some(t) => json!({ "objectWriteTraceId": [t] }),
        None => json!({}),
    }
}

fn error_of(e: &ApiError, input: &Value) -> Value {
    let mut context = trace_context(input);
    if let Some(id) = input.get("id") {
        context["ids"] = json!([as_text(id)]);
    }
    standard_error(e.category, &e.message, context)
}

/// HubSpot reports a failed input of a batch create on its own (207) only when the input
/// carries an `objectWriteTraceId`; any other failing input fails the whole batch with
/// that input's error, and nothing is created (`hubspot-facts.md` §3).
fn check_untraced_inputs(data: &Data, t: &str, inputs: &[Value]) -> Result<(), ApiError> {
    let mut emails = std::collections::HashSet::new();
    for input in inputs {
        let props = input["properties"].as_object().cloned().unwrap_or_default();
        let traced = input.get("objectWriteTraceId").is_some();
        let assocs = input["associations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let checked = check_create(data, t, &props, &assocs);
        // An email repeated inside the batch is a duplicate too.
        let email = checked
            .as_ref()
            .ok()
            .and_then(|(p, _)| p.get("email"))
            .filter(|_| t == "contacts")
            .map(|e| e.to_lowercase());
        let checked = match email {
            Some(e) if !emails.insert(e.clone()) => Err(ApiError::conflict(
                "CONFLICT",
                format!("Contact already exists. The batch holds {e} twice."),
            )),
            _ => checked.map(|_| ()),
        };
        if let (Err(e), false) = (checked, traced) {
            return Err(e);
        }
    }
    Ok(())
}

async fn batch_create(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: Inputs = parse(&body)?;
    check_batch_size(&state, body.inputs.len())?;
    let started = now_ms();
    let (mut results, mut errors, mut events) = (Vec::new(), Vec::new(), Vec::new());
    {
        let mut data = lock(&state.0.data);
        check_untraced_inputs(&data, t, &body.inputs)?;
        for input in &body.inputs {
            let props = input["properties"].as_object().cloned().unwrap_or_default();
            let assocs = input["associations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            match create_record(&mut data, t, &props, &assocs) {
                Ok((id, ev)) => {
                    events.extend(ev);
                    if let Some(r) = data.live(t, id) {
                        let mut v = render(t, r, None, true);
                        if let Some(trace) = input.get("objectWriteTraceId") {
                            v["objectWriteTraceId"] = trace.clone();
                        }
                        results.push(v);
                    }
                }
                Err(e) => errors.push(error_of(&e, input)),
            }
        }
    }
    send(&state, events);
    Ok(batch_answer(StatusCode::CREATED, results, errors, started))
}

async fn batch_update(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: Inputs = parse(&body)?;
    check_batch_size(&state, body.inputs.len())?;
    let started = now_ms();
    let (mut results, mut errors, mut events) = (Vec::new(), Vec::new(), Vec::new());
    {
        let mut data = lock(&state.0.data);
        for input in &body.inputs {
            let key = as_text(&input["id"]);
            let id = match input.get("idProperty").and_then(Value::as_str) {
                Some(p) => find_by(&data, t, p, &key),
                None => key
                    .parse::<u64>()
                    .ok()
                    .and_then(|i| data.live(t, i).map(|r| r.id)),
            };
            let Some(id) = id else {
                errors.push(standard_error(
                    "OBJECT_NOT_FOUND",
                    "Object not found",
                    json!({ "ids": [key] }),
                ));
                continue;
            };
            let props = input["properties"].as_object().cloned().unwrap_or_default();
            match update_record(&mut data, t, id, &props) {
                Ok(ev) => {
                    events.extend(ev);
                    if let Some(r) = data.live(t, id) {
                        results.push(render(t, r, None, true));
                    }
                }
                Err(e) => errors.push(error_of(&e, input)),
            }
        }
    }
    send(&state, events);
    Ok(batch_answer(StatusCode::OK, results, errors, started))
}

async fn batch_upsert(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: Inputs = parse(&body)?;
    check_batch_size(&state, body.inputs.len())?;
    let started = now_ms();
    let (mut results, mut errors, mut events) = (Vec::new(), Vec::new(), Vec::new());
    {
        let mut data = lock(&state.0.data);
        for input in &body.inputs {
            let key = as_text(&input["id"]);
            let Some(id_prop) = input.get("idProperty").and_then(Value::as_str) else {
                errors.push(error_of(
                    &ApiError::validation("idProperty is required for upsert"),
                    input,
                ));
                continue;
            };
            let unique = (t == "contacts" && id_prop == "email")
                || data
                    .property(t, id_prop)
                    .is_some_and(|d| d.has_unique_value);
            if !unique {
                errors.push(error_of(
                    &ApiError::validation(format!(
                        "{id_prop} is not a unique identifier property of {t}"
                    )),
                    input,
                ));
                continue;
            }
            let mut props = input["properties"].as_object().cloned().unwrap_or_default();
            let outcome = match find_by(&data, t, id_prop, &key) {
                Some(id) => update_record(&mut data, t, id, &props).map(|ev| (id, ev, false)),
                None => {
                    props.insert(id_prop.to_owned(), json!(key));
                    create_record(&mut data, t, &props, &[]).map(|(id, ev)| (id, ev, true))
                }
            };
            match outcome {
                Ok((id, ev, new)) => {
                    events.extend(ev);
                    if let Some(r) = data.live(t, id) {
                        let mut v = render(t, r, None, true);
                        v["new"] = json!(new);
                        results.push(v);
                    }
                }
                Err(e) => errors.push(error_of(&e, input)),
            }
        }
    }
    send(&state, events);
    Ok(batch_answer(StatusCode::OK, results, errors, started))
}

async fn batch_archive(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: Inputs = parse(&body)?;
    check_batch_size(&state, body.inputs.len())?;
    let mut events = Vec::new();
    {
        let mut data = lock(&state.0.data);
        for input in &body.inputs {
            if let Some(id) = as_text(&input["id"])
                .parse::<u64>()
                .ok()
                .and_then(|i| data.live(t, i).map(|r| r.id))
            {
                events.extend(archive_record(&mut data, t, id));
            }
        }
    }
    send(&state, events);
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MergeBody {
    primary_object_id: String,
    object_id_to_merge: String,
}

async fn merge(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: MergeBody = parse(&body)?;
    let (json, events) = {
        let mut data = lock(&state.0.data);
        let (Some(primary), Some(secondary)) = (
            body.primary_object_id
                .parse::<u64>()
                .ok()
                .and_then(|i| data.live(t, i).map(|r| r.id)),
            body.object_id_to_merge
                .parse::<u64>()
                .ok()
                .and_then(|i| data.live(t, i).map(|r| r.id)),
        ) else {
            return Err(ApiError::not_found(
                "one of the records to merge does not exist",
            ));
        };
        if primary == secondary {
            return Err(ApiError::validation(
                "a record cannot be merged into itself",
            ));
        }
        let now = now_ms();
        let Some(secondary_props) = data
            .records
            .get(t)
            .and_then(|m| m.get(&secondary))
            .map(|r| r.props.clone())
        else {
            return Err(ApiError::not_found("resource not found"));
        };
        let mut moved = 0;
        if let Some(p) = data.records.get_mut(t).and_then(|m| m.get_mut(&primary)) {
            p.previous = Some((p.updated, p.props.clone()));
            for (k, v) in &secondary_props {
                if !p.props.contains_key(k) {
                    p.props.insert(k.clone(), v.clone());
                    moved += 1;
                }
            }
            p.props
                .insert("hs_object_id".to_owned(), primary.to_string());
            // HubSpot lists every id merged into a record, `;`-separated.
            let mut merged: Vec<String> = p
                .props
                .get("hs_merged_object_ids")
                .map(|v| {
                    v.split(';')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            merged.push(secondary.to_string());
            p.props
                .insert("hs_merged_object_ids".to_owned(), merged.join(";"));
            p.props.insert(modified_prop(t).to_owned(), iso(now));
            p.updated = now;
        }
        if let Some(s) = data.records.get_mut(t).and_then(|m| m.get_mut(&secondary)) {
            s.merged_into = Some(primary);
            s.updated = now;
        }
        if let Some(e) = secondary_props.get("email") {
            if data.emails.get(&e.to_lowercase()) == Some(&secondary) {
                data.emails.remove(&e.to_lowercase());
            }
        }
        // Associations follow the primary record.
        for (key, _) in &mut data.associations {
            if key.0 == t && key.1 == secondary {
                key.1 = primary;
            }
            if key.2 == t && key.3 == secondary {
                key.3 = primary;
            }
        }
        let extra = json!({ "primaryObjectId": primary, "mergedObjectIds": [secondary], "newObjectId": primary, "numberOfPropertiesMoved": moved });
        let events: Vec<Value> = webhooks::event(
            &mut data,
            &format!("{}.merge", singular(t)),
            primary,
            None,
            extra,
        )
        .into_iter()
        .collect();
        (
            data.live(t, primary).map(|r| render(t, r, None, true)),
            events,
        )
    };
    send(&state, events);
    Ok(Json(json.unwrap_or_default()).into_response())
}
