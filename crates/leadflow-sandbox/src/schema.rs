//! Properties v3 and groups, Property Validations, pipelines and stages, owners.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, parse};
use crate::objects::{batch_answer, object_type, standard_error};
use crate::state::{Data, GroupDef, OptionDef, PropertyDef, StageDef, canonical_type, iso, now_ms};
use crate::{SandboxState, lock};

pub(crate) fn routes() -> Router<SandboxState> {
    Router::new()
        .route(
            "/crm/v3/properties/{object_type}",
            get(list_properties).post(create_property),
        )
        .route(
            "/crm/v3/properties/{object_type}/batch/create",
            post(batch_create),
        )
        .route(
            "/crm/v3/properties/{object_type}/batch/read",
            post(batch_read),
        )
        .route(
            "/crm/v3/properties/{object_type}/batch/archive",
            post(batch_archive),
        )
        .route(
            "/crm/v3/properties/{object_type}/groups",
            get(list_groups).post(create_group),
        )
        .route(
            "/crm/v3/properties/{object_type}/groups/{name}",
            get(get_group).patch(update_group).delete(archive_group),
        )
        .route(
            "/crm/v3/properties/{object_type}/{name}",
            get(get_property)
                .patch(update_property)
                .delete(archive_property),
        )
        .route("/crm/v3/property-validations/{type_id}", get(all_rules))
        .route(
            "/crm/v3/property-validations/{type_id}/{name}",
            get(property_rules),
        )
        .route(
            "/crm/v3/property-validations/{type_id}/{name}/rule-type/{rule}",
            get(one_rule).put(put_rule),
        )
        .route(
            "/crm/v3/pipelines/{object_type}",
            get(list_pipelines).post(create_pipeline),
        )
        .route(
            "/crm/v3/pipelines/{object_type}/{pipeline_id}",
            get(get_pipeline),
        )
        .route(
            "/crm/v3/pipelines/{object_type}/{pipeline_id}/stages",
            get(list_stages).post(create_stage),
        )
        .route(
            "/crm/v3/pipelines/{object_type}/{pipeline_id}/stages/{stage_id}",
            get(get_stage).patch(update_stage),
        )
        .route("/crm/v3/owners", get(list_owners))
        .route("/crm/v3/owners/{owner_id}", get(get_owner))
}

pub(crate) fn render_property(p: &PropertyDef) -> Value {
    let options: Vec<Value> = p
        .options
        .iter()
        .map(|o| {
            let mut v = json!({ "label": o.label, "value": o.value, "hidden": o.hidden });
            if let Some(d) = o.display_order {
                v["displayOrder"] = json!(d);
            }
            if let Some(d) = &o.description {
                v["description"] = json!(d);
            }
            v
        })
        .collect();
    let mut v = json!({
        "name": p.name, "label": p.label, "type": p.type_, "fieldType": p.field_type, "groupName": p.group_name,
        "description": p.description, "options": options, "hasUniqueValue": p.has_unique_value, "hidden": p.hidden,
        "formField": p.form_field, "hubspotDefined": p.hubspot_defined, "calculated": false, "externalOptions": false,
        "archived": p.archived, "createdAt": iso(p.created), "updatedAt": iso(p.updated),
        "modificationMetadata": { "archivable": !p.hubspot_defined, "readOnlyDefinition": p.hubspot_defined, "readOnlyValue": p.read_only },
    });
    if let Some(d) = p.display_order {
        v["displayOrder"] = json!(d);
    }
    v
}

fn render_group(g: &GroupDef) -> Value {
    json!({ "name": g.name, "label": g.label, "displayOrder": g.display_order, "archived": g.archived })
}

const PAIRS: [(&str, &[&str]); 6] = [
    ("bool", &["booleancheckbox", "calculation_equation"]),
    (
        "enumeration",
        &[
            "booleancheckbox",
            "checkbox",
            "radio",
            "select",
            "calculation_equation",
        ],
    ),
    ("date", &["date"]),
    ("datetime", &["date"]),
    (
        "string",
        &[
            "text",
            "textarea",
            "html",
            "phonenumber",
            "file",
            "calculation_equation",
        ],
    ),
    ("number", &["number", "calculation_equation"]),
];

fn options_of(v: &Value) -> Result<Vec<OptionDef>, ApiError> {
    let mut out = Vec::new();
    for o in v.as_array().into_iter().flatten() {
        let (Some(label), Some(value)) = (o["label"].as_str(), o["value"].as_str()) else {
            return Err(ApiError::validation(
                "every option needs a label and a value",
            ));
        };
        out.push(OptionDef {
            label: label.to_owned(),
            value: value.to_owned(),
            hidden: o["hidden"].as_bool().unwrap_or(false),
            display_order: o["displayOrder"].as_i64(),
            description: o["description"].as_str().map(str::to_owned),
        });
    }
    Ok(out)
}

/// Creates a property from a `PropertyCreate` body.
fn create(data: &mut Data, t: &str, body: &Value) -> Result<PropertyDef, ApiError> {
    let field = |k: &str| body[k].as_str().map(str::to_owned);
    let (Some(name), Some(label), Some(type_), Some(field_type), Some(group)) = (
        field("name"),
        field("label"),
        field("type"),
        field("fieldType"),
        field("groupName"),
    ) else {
        return Err(ApiError::validation(
            "name, label, type, fieldType and groupName are required",
        ));
    };
    let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 100;
    if !valid_name {
        return Err(ApiError::validation(format!(
            "{name:?} is not a valid property name: lowercase letters, digits and _, starting with a letter"
        )));
    }
    if data
        .properties
        .get(t)
        .is_some_and(|ps| ps.iter().any(|p| p.name == name && !p.archived))
    {
        return Err(ApiError::conflict(
            "OBJECT_ALREADY_EXISTS",
            format!("A property named '{name}' already exists."),
        ));
    }
    match PAIRS.iter().find(|(ty, _)| *ty == type_) {
        None => {
            return Err(ApiError::validation(format!(
                "{type_:?} is not a valid property type"
            )));
        }
        Some((_, fields)) if !fields.contains(&field_type.as_str()) => {
            return Err(ApiError::validation(format!(
                "fieldType {field_type:?} is not valid for type {type_:?}; use one of {}",
                fields.join(", ")
            )));
        }
        _ => {}
    }
    if !data
        .groups
        .get(t)
        .is_some_and(|gs| gs.iter().any(|g| g.name == group && !g.archived))
    {
        return Err(ApiError::validation(format!(
            "property group {group:?} does not exist"
        )));
    }
    let options = options_of(&body["options"])?;
    if type_ == "enumeration" && options.is_empty() {
        return Err(ApiError::validation(format!(
            "enumeration property {name:?} needs options"
        )));
    }
    let unique = body["hasUniqueValue"].as_bool().unwrap_or(false);
    if unique
        && data
            .properties
            .get(t)
            .into_iter()
            .flatten()
            .filter(|p| p.has_unique_value && !p.archived)
            .count()
            >= 10
    {
        return Err(ApiError::validation(
            "at most 10 unique-value properties per object",
        ));
    }
    let now = now_ms();
    let def = PropertyDef {
        name,
        label,
        type_,
        field_type,
        group_name: group,
        description: field("description").unwrap_or_default(),
        options,
        display_order: body["displayOrder"].as_i64(),
        has_unique_value: unique,
        hidden: body["hidden"].as_bool().unwrap_or(false),
        form_field: body["formField"].as_bool().unwrap_or(false),
        hubspot_defined: false,
        read_only: false,
        archived: false,
        created: now,
        updated: now,
    };
    let list = data.properties.entry(t.to_owned()).or_default();
    list.retain(|p| p.name != def.name);
    list.push(def.clone());
    Ok(def)
}

async fn list_properties(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let t = object_type(&raw)?;
    let archived = q.get("archived").is_some_and(|a| a == "true");
    let data = lock(&state.0.data);
    let results: Vec<Value> = data
        .properties
        .get(t)
        .into_iter()
        .flatten()
        .filter(|p| p.archived == archived)
        .map(render_property)
        .collect();
    Ok(Json(json!({ "results": results })).into_response())
}

async fn create_property(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: Value = parse(&body)?;
    let def = create(&mut lock(&state.0.data), t, &body)?;
    Ok((StatusCode::CREATED, Json(render_property(&def))).into_response())
}

#[derive(Deserialize)]
struct Inputs {
    inputs: Vec<Value>,
}

async fn batch_create(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: Inputs = parse(&body)?;
    let started = now_ms();
    let mut data = lock(&state.0.data);
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    for input in &body.inputs {
        match create(&mut data, t, input) {
            Ok(def) => results.push(render_property(&def)),
            Err(e) => errors.push(standard_error(
                e.category,
                &e.message,
                json!({ "propertyName": [input["name"].as_str().unwrap_or("")] }),
            )),
        }
    }
    Ok(batch_answer(StatusCode::CREATED, results, errors, started))
}

async fn batch_read(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: Inputs = parse(&body)?;
    let started = now_ms();
    let data = lock(&state.0.data);
    let (mut results, mut missing) = (Vec::new(), Vec::new());
    for input in &body.inputs {
        let name = input["name"].as_str().unwrap_or_default();
        match data.property(t, name) {
            Some(p) => results.push(render_property(p)),
            None => missing.push(name.to_owned()),
        }
    }
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![standard_error(
            "OBJECT_NOT_FOUND",
            "Some properties do not exist",
            json!({ "propertyName": missing }),
        )]
    };
    Ok(batch_answer(StatusCode::OK, results, errors, started))
}

fn archive(data: &mut Data, t: &str, name: &str) -> Result<(), ApiError> {
    let Some(p) = data
        .properties
        .get_mut(t)
        .and_then(|ps| ps.iter_mut().find(|p| p.name == name && !p.archived))
    else {
        return Err(ApiError::not_found(format!(
            "property {name} does not exist"
        )));
    };
    if p.hubspot_defined {
        return Err(ApiError::validation(format!(
            "{name} is defined by HubSpot and cannot be archived"
        )));
    }
    p.archived = true;
    p.updated = now_ms();
    Ok(())
}

async fn batch_archive(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: Inputs = parse(&body)?;
    let mut data = lock(&state.0.data);
    for input in &body.inputs {
        let _ = archive(&mut data, t, input["name"].as_str().unwrap_or_default());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_property(
    State(state): State<SandboxState>,
    Path((raw, name)): Path<(String, String)>,
) -> ApiResult {
    let t = object_type(&raw)?;
    let data = lock(&state.0.data);
    let p = data
        .property(t, &name)
        .ok_or_else(|| ApiError::not_found(format!("property {name} does not exist")))?;
    Ok(Json(render_property(p)).into_response())
}

async fn update_property(
    State(state): State<SandboxState>,
    Path((raw, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: Value = parse(&body)?;
    let mut data = lock(&state.0.data);
    if let Some(g) = body["groupName"].as_str() {
        if !data
            .groups
            .get(t)
            .is_some_and(|gs| gs.iter().any(|x| x.name == g && !x.archived))
        {
            return Err(ApiError::validation(format!(
                "property group {g:?} does not exist"
            )));
        }
    }
    let options = if body.get("options").is_some() {
        Some(options_of(&body["options"])?)
    } else {
        None
    };
    let Some(p) = data
        .properties
        .get_mut(t)
        .and_then(|ps| ps.iter_mut().find(|p| p.name == name && !p.archived))
    else {
        return Err(ApiError::not_found(format!(
            "property {name} does not exist"
        )));
    };
    if let Some(ty) = body["type"].as_str().filter(|ty| *ty != p.type_) {
        return Err(ApiError::validation(format!(
            "the type of {name} cannot change from {} to {ty}",
            p.type_
        )));
    }
    if let Some(l) = body["label"].as_str() {
        p.label = l.to_owned();
    }
    if let Some(d) = body["description"].as_str() {
        p.description = d.to_owned();
    }
    if let Some(g) = body["groupName"].as_str() {
        p.group_name = g.to_owned();
    }
    if let Some(o) = body["displayOrder"].as_i64() {
        p.display_order = Some(o);
    }
    if let Some(h) = body["hidden"].as_bool() {
        p.hidden = h;
    }
    if let Some(f) = body["formField"].as_bool() {
        p.form_field = f;
    }
    if let Some(o) = options {
        if p.type_ == "enumeration" && o.is_empty() {
            return Err(ApiError::validation(format!(
                "enumeration property {name} needs options"
            )));
        }
        p.options = o;
    }
    p.updated = now_ms();
    Ok(Json(render_property(p)).into_response())
}

async fn archive_property(
    State(state): State<SandboxState>,
    Path((raw, name)): Path<(String, String)>,
) -> ApiResult {
    let t = object_type(&raw)?;
    archive(&mut lock(&state.0.data), t, &name)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_groups(State(state): State<SandboxState>, Path(raw): Path<String>) -> ApiResult {
    let t = object_type(&raw)?;
    let data = lock(&state.0.data);
    let results: Vec<Value> = data
        .groups
        .get(t)
        .into_iter()
        .flatten()
        .filter(|g| !g.archived)
        .map(render_group)
        .collect();
    Ok(Json(json!({ "results": results })).into_response())
}

async fn create_group(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: Value = parse(&body)?;
    let (Some(name), Some(label)) = (body["name"].as_str(), body["label"].as_str()) else {
        return Err(ApiError::validation("name and label are required"));
    };
    let mut data = lock(&state.0.data);
    let groups = data.groups.entry(t.to_owned()).or_default();
    if groups.iter().any(|g| g.name == name && !g.archived) {
        return Err(ApiError::conflict(
            "OBJECT_ALREADY_EXISTS",
            format!("A property group named '{name}' already exists."),
        ));
    }
    groups.retain(|g| g.name != name);
    let g = GroupDef {
        name: name.to_owned(),
        label: label.to_owned(),
        display_order: body["displayOrder"].as_i64().unwrap_or(-1),
        archived: false,
    };
    groups.push(g.clone());
    Ok((StatusCode::CREATED, Json(render_group(&g))).into_response())
}

async fn get_group(
    State(state): State<SandboxState>,
    Path((raw, name)): Path<(String, String)>,
) -> ApiResult {
    let t = object_type(&raw)?;
    let data = lock(&state.0.data);
    let g = data
        .groups
        .get(t)
        .and_then(|gs| gs.iter().find(|g| g.name == name && !g.archived))
        .ok_or_else(|| ApiError::not_found(format!("group {name} does not exist")))?;
    Ok(Json(render_group(g)).into_response())
}

async fn update_group(
    State(state): State<SandboxState>,
    Path((raw, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: Value = parse(&body)?;
    let mut data = lock(&state.0.data);
    let g = data
        .groups
        .get_mut(t)
        .and_then(|gs| gs.iter_mut().find(|g| g.name == name && !g.archived))
        .ok_or_else(|| ApiError::not_found(format!("group {name} does not exist")))?;
    if let Some(l) = body["label"].as_str() {
        g.label = l.to_owned();
    }
    if let Some(o) = body["displayOrder"].as_i64() {
        g.display_order = o;
    }
    Ok(Json(render_group(g)).into_response())
}

async fn archive_group(
    State(state): State<SandboxState>,
    Path((raw, name)): Path<(String, String)>,
) -> ApiResult {
    let t = object_type(&raw)?;
    let mut data = lock(&state.0.data);
    let g = data
        .groups
        .get_mut(t)
        .and_then(|gs| gs.iter_mut().find(|g| g.name == name && !g.archived))
        .ok_or_else(|| ApiError::not_found(format!("group {name} does not exist")))?;
    g.archived = true;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn type_of_id(raw: &str) -> Result<&'static str, ApiError> {
    canonical_type(raw).ok_or_else(|| ApiError::validation(format!("unknown object type id {raw}")))
}

fn rule_list(rules: &BTreeMap<String, Vec<String>>) -> Vec<Value> {
    rules
        .iter()
        .map(|(k, v)| json!({ "ruleType": k, "ruleArguments": v }))
        .collect()
}

async fn all_rules(State(state): State<SandboxState>, Path(type_id): Path<String>) -> ApiResult {
    let t = type_of_id(&type_id)?;
    let data = lock(&state.0.data);
    let results: Vec<Value> = data
        .rules
        .get(crate::state::type_id(t))
        .into_iter()
        .flatten()
        .map(|(name, rules)| json!({ "propertyName": name, "propertyValidationRules": rule_list(rules) }))
        .collect();
    Ok(Json(json!({ "results": results })).into_response())
}

async fn property_rules(
    State(state): State<SandboxState>,
    Path((type_id, name)): Path<(String, String)>,
) -> ApiResult {
    let t = type_of_id(&type_id)?;
    let data = lock(&state.0.data);
    if data.property(t, &name).is_none() {
        return Err(ApiError::not_found(format!(
            "property {name} does not exist"
        )));
    }
    let results = data
        .rules
        .get(crate::state::type_id(t))
        .and_then(|r| r.get(&name))
        .map(rule_list)
        .unwrap_or_default();
    Ok(Json(json!({ "results": results })).into_response())
}

async fn one_rule(
    State(state): State<SandboxState>,
    Path((type_id, name, rule)): Path<(String, String, String)>,
) -> ApiResult {
    let t = type_of_id(&type_id)?;
    let data = lock(&state.0.data);
    let args = data
        .rules
        .get(crate::state::type_id(t))
        .and_then(|r| r.get(&name))
        .and_then(|r| r.get(&rule))
        .ok_or_else(|| ApiError::not_found("no such rule"))?;
    Ok(Json(json!({ "ruleType": rule, "ruleArguments": args })).into_response())
}

const RULE_TYPES: [&str; 10] = [
    "MIN_NUMBER",
    "MAX_NUMBER",
    "DECIMAL",
    "MIN_LENGTH",
    "MAX_LENGTH",
    "REGEX",
    "ALPHANUMERIC",
    "EMAIL",
    "URL",
    "PHONE_NUMBER_WITH_EXPLICIT_COUNTRY_CODE",
];

async fn put_rule(
    State(state): State<SandboxState>,
    Path((type_id, name, rule)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let t = type_of_id(&type_id)?;
    let body: Value = parse(&body)?;
    let Some(args) = body["ruleArguments"].as_array() else {
        return Err(ApiError::validation("ruleArguments is required"));
    };
    if !RULE_TYPES.contains(&rule.as_str()) {
        return Err(ApiError::validation(format!(
            "{rule} is not a rule type the sandbox knows"
        )));
    }
    let mut data = lock(&state.0.data);
    if data.property(t, &name).is_none() {
        return Err(ApiError::not_found(format!(
            "property {name} does not exist"
        )));
    }
    let args: Vec<String> = args
        .iter()
        .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_owned))
        .collect();
    data.rules
        .entry(crate::state::type_id(t).to_owned())
        .or_default()
        .entry(name)
        .or_default()
        .insert(rule, args);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn render_stage(s: &StageDef) -> Value {
    json!({ "id": s.id, "label": s.label, "displayOrder": s.display_order, "metadata": s.metadata, "archived": s.archived,
            "createdAt": iso(s.created), "updatedAt": iso(s.created) })
}

fn render_pipeline(p: &crate::state::PipelineDef) -> Value {
    let stages: Vec<Value> = p.stages.iter().map(render_stage).collect();
    json!({ "id": p.id, "label": p.label, "displayOrder": p.display_order, "stages": stages, "archived": false,
            "createdAt": iso(p.created), "updatedAt": iso(p.created) })
}

fn deals_only(raw: &str) -> Result<(), ApiError> {
    match canonical_type(raw) {
        Some("deals") => Ok(()),
        _ => Err(ApiError::validation(format!(
            "the sandbox has pipelines for deals only, not {raw}"
        ))),
    }
}

async fn list_pipelines(State(state): State<SandboxState>, Path(raw): Path<String>) -> ApiResult {
    deals_only(&raw)?;
    let data = lock(&state.0.data);
    Ok(
        Json(json!({ "results": data.pipelines.iter().map(render_pipeline).collect::<Vec<_>>() }))
            .into_response(),
    )
}

fn stage_input(data: &mut Data, v: &Value) -> Result<StageDef, ApiError> {
    let Some(label) = v["label"].as_str() else {
        return Err(ApiError::validation("a stage needs a label"));
    };
    let metadata: BTreeMap<String, String> = v["metadata"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, x)| {
            (
                k.clone(),
                x.as_str().map_or_else(|| x.to_string(), str::to_owned),
            )
        })
        .collect();
    let Some(p) = metadata
        .get("probability")
        .and_then(|p| p.parse::<f64>().ok())
    else {
        return Err(ApiError::validation(format!(
            "deal stage {label:?} needs metadata.probability between 0.0 and 1.0"
        )));
    };
    if !(0.0..=1.0).contains(&p) {
        return Err(ApiError::validation(format!(
            "probability {p} is not between 0.0 and 1.0"
        )));
    }
    data.next_stage_id += 1;
    Ok(StageDef {
        id: (3_746_014_440 + data.next_stage_id).to_string(),
        label: label.to_owned(),
        display_order: v["displayOrder"].as_i64().unwrap_or(0),
        metadata,
        archived: false,
        created: now_ms(),
    })
}

async fn create_pipeline(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    deals_only(&raw)?;
    let body: Value = parse(&body)?;
    let Some(label) = body["label"].as_str() else {
        return Err(ApiError::validation("label is required"));
    };
    let mut data = lock(&state.0.data);
    if data
        .pipelines
        .iter()
        .any(|p| p.label.eq_ignore_ascii_case(label))
    {
        return Err(ApiError::conflict(
            "CONFLICT",
            format!("a pipeline labelled {label:?} exists"),
        ));
    }
    let mut stages = Vec::new();
    for s in body["stages"].as_array().into_iter().flatten() {
        stages.push(stage_input(&mut data, s)?);
    }
    data.next_stage_id += 1;
    let p = crate::state::PipelineDef {
        id: (1_000_000 + data.next_stage_id).to_string(),
        label: label.to_owned(),
        display_order: body["displayOrder"].as_i64().unwrap_or(0),
        stages,
        created: now_ms(),
    };
    data.pipelines.push(p.clone());
    Ok((StatusCode::CREATED, Json(render_pipeline(&p))).into_response())
}

async fn get_pipeline(
    State(state): State<SandboxState>,
    Path((raw, id)): Path<(String, String)>,
) -> ApiResult {
    deals_only(&raw)?;
    let data = lock(&state.0.data);
    let p = data
        .pipelines
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| ApiError::not_found(format!("pipeline {id} does not exist")))?;
    Ok(Json(render_pipeline(p)).into_response())
}

async fn list_stages(
    State(state): State<SandboxState>,
    Path((raw, id)): Path<(String, String)>,
) -> ApiResult {
    deals_only(&raw)?;
    let data = lock(&state.0.data);
    let p = data
        .pipelines
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| ApiError::not_found(format!("pipeline {id} does not exist")))?;
    Ok(
        Json(json!({ "results": p.stages.iter().map(render_stage).collect::<Vec<_>>() }))
            .into_response(),
    )
}

async fn create_stage(
    State(state): State<SandboxState>,
    Path((raw, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    deals_only(&raw)?;
    let body: Value = parse(&body)?;
    let mut data = lock(&state.0.data);
    let label = body["label"].as_str().unwrap_or_default().to_owned();
    let Some(index) = data.pipelines.iter().position(|p| p.id == id) else {
        return Err(ApiError::not_found(format!("pipeline {id} does not exist")));
    };
    if data.pipelines[index]
        .stages
        .iter()
        .any(|s| s.label.eq_ignore_ascii_case(&label) && !s.archived)
    {
        return Err(ApiError::conflict(
            "CONFLICT",
            format!("a stage labelled {label:?} exists in pipeline {id}"),
        ));
    }
    let stage = stage_input(&mut data, &body)?;
    data.pipelines[index].stages.push(stage.clone());
    Ok((StatusCode::CREATED, Json(render_stage(&stage))).into_response())
}

async fn get_stage(
    State(state): State<SandboxState>,
    Path((raw, id, stage)): Path<(String, String, String)>,
) -> ApiResult {
    deals_only(&raw)?;
    let data = lock(&state.0.data);
    let s = data
        .pipelines
        .iter()
        .find(|p| p.id == id)
        .and_then(|p| p.stages.iter().find(|s| s.id == stage))
        .ok_or_else(|| ApiError::not_found("no such stage"))?;
    Ok(Json(render_stage(s)).into_response())
}

async fn update_stage(
    State(state): State<SandboxState>,
    Path((raw, id, stage)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    deals_only(&raw)?;
    let body: Value = parse(&body)?;
    let mut data = lock(&state.0.data);
    let s = data
        .pipelines
        .iter_mut()
        .find(|p| p.id == id)
        .and_then(|p| p.stages.iter_mut().find(|s| s.id == stage))
        .ok_or_else(|| ApiError::not_found("no such stage"))?;
    if let Some(l) = body["label"].as_str() {
        s.label = l.to_owned();
    }
    if let Some(o) = body["displayOrder"].as_i64() {
        s.display_order = o;
    }
    Ok(Json(render_stage(s)).into_response())
}

fn render_owner(o: &crate::state::OwnerDef) -> Value {
    json!({ "id": o.id, "userId": o.user_id, "email": o.email, "firstName": o.first_name, "lastName": o.last_name, "type": "PERSON",
            "archived": false, "createdAt": iso(0), "updatedAt": iso(0), "teams": [] })
}

async fn list_owners(
    State(state): State<SandboxState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let data = lock(&state.0.data);
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100)
        .clamp(1, 500);
    let after: usize = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let matching: Vec<_> = data
        .owners
        .iter()
        .filter(|o| {
            q.get("email")
                .is_none_or(|e| o.email.eq_ignore_ascii_case(e))
        })
        .collect();
    let results: Vec<Value> = matching
        .iter()
        .skip(after)
        .take(limit)
        .map(|o| render_owner(o))
        .collect();
    let mut body = json!({ "results": results });
    if after + limit < matching.len() {
        body["paging"] = json!({ "next": { "after": (after + limit).to_string() } });
    }
    Ok(Json(body).into_response())
}

async fn get_owner(
    State(state): State<SandboxState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let data = lock(&state.0.data);
    let by_user = q.get("idProperty").is_some_and(|p| p == "userId");
    let o = data
        .owners
        .iter()
        .find(|o| {
            if by_user {
                o.user_id.to_string() == id
            } else {
                o.id == id
            }
        })
        .ok_or_else(|| ApiError::not_found(format!("owner {id} does not exist")))?;
    Ok(Json(render_owner(o)).into_response())
}
