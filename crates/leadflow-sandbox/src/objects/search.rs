//! `POST /crm/v3/objects/{type}/search`: filters, one sort, paging to the 10,000 cap, and
//! the optional index lag.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{object_type, render, to_ms};
use crate::error::{ApiError, ApiResult, parse};
use crate::state::{Data, Record, now_ms};
use crate::{SandboxState, lock};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    property_name: String,
    operator: String,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    high_value: Option<Value>,
    #[serde(default)]
    values: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
struct Group {
    #[serde(default)]
    filters: Vec<Filter>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    filter_groups: Vec<Group>,
    #[serde(default)]
    sorts: Vec<Value>,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    properties: Vec<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    after: Option<Value>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

const OPERATORS: [&str; 13] = [
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
];

/// How a property compares: as numbers, as instants, or as text.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Time,
    Enum,
    Text,
}

fn kind(data: &Data, t: &str, name: &str) -> Kind {
    if name == "hs_object_id" {
        return Kind::Number;
    }
    match data.property(t, name).map(|d| d.type_.as_str()) {
        Some("number") => Kind::Number,
        Some("date" | "datetime") => Kind::Time,
        Some("enumeration") => Kind::Enum,
        _ => Kind::Text,
    }
}

fn compare(kind: Kind, a: &str, b: &str) -> Option<Ordering> {
    match kind {
        Kind::Number => a.parse::<f64>().ok()?.partial_cmp(&b.parse::<f64>().ok()?),
        Kind::Time => Some(to_ms(a)?.cmp(&to_ms(b)?)),
        Kind::Enum => Some(a.cmp(b)),
        Kind::Text => Some(a.to_lowercase().cmp(&b.to_lowercase())),
    }
}

/// Whether `hay` contains `needle`, ASCII case-insensitively, without allocating.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// HubSpot's token match: the value's words against a pattern with `*` wildcards.
fn token_match(value: &str, pattern: &str) -> bool {
    let core = pattern.trim_matches('*');
    let (lead, trail) = (
        pattern.starts_with('*'),
        pattern.ends_with('*') && pattern.len() > 1,
    );
    if core.contains(' ') {
        return contains_ci(value, core);
    }
    value
        .split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.' && c != '-')
        .filter(|t| !t.is_empty())
        .any(|tok| {
            let (t, c) = (tok.as_bytes(), core.as_bytes());
            match (lead, trail) {
                (true, true) => contains_ci(tok, core),
                (true, false) => {
                    t.len() >= c.len() && t[t.len() - c.len()..].eq_ignore_ascii_case(c)
                }
                (false, true) => t.len() >= c.len() && t[..c.len()].eq_ignore_ascii_case(c),
                (false, false) => t.eq_ignore_ascii_case(c),
            }
        })
}

fn matches(k: Kind, props: &BTreeMap<String, String>, f: &Filter) -> bool {
    let value = props.get(&f.property_name).filter(|v| !v.is_empty());
    let given = f.value.as_ref().map(text).unwrap_or_default();
    let eq = |v: &str, g: &str| {
        if k == Kind::Enum {
            v == g
        } else {
            compare(k, v, g) == Some(Ordering::Equal)
        }
    };
    match f.operator.as_str() {
        "HAS_PROPERTY" => value.is_some(),
        "NOT_HAS_PROPERTY" => value.is_none(),
        "EQ" => value.is_some_and(|v| eq(v, &given)),
        "NEQ" => value.is_none_or(|v| !eq(v, &given)),
        "LT" => value.and_then(|v| compare(k, v, &given)) == Some(Ordering::Less),
        "LTE" => matches!(
            value.and_then(|v| compare(k, v, &given)),
            Some(Ordering::Less | Ordering::Equal)
        ),
        "GT" => value.and_then(|v| compare(k, v, &given)) == Some(Ordering::Greater),
        "GTE" => matches!(
            value.and_then(|v| compare(k, v, &given)),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        "BETWEEN" => {
            let high = f.high_value.as_ref().map(text).unwrap_or_default();
            value.is_some_and(|v| {
                matches!(
                    compare(k, v, &given),
                    Some(Ordering::Greater | Ordering::Equal)
                ) && matches!(compare(k, v, &high), Some(Ordering::Less | Ordering::Equal))
            })
        }
        "IN" => value.is_some_and(|v| f.values.iter().flatten().any(|g| eq(v, &text(g)))),
        "NOT_IN" => value.is_none_or(|v| !f.values.iter().flatten().any(|g| eq(v, &text(g)))),
        "CONTAINS_TOKEN" => value.is_some_and(|v| token_match(v, &given)),
        "NOT_CONTAINS_TOKEN" => value.is_none_or(|v| !token_match(v, &given)),
        _ => false,
    }
}

/// The version of a record search can see, given the index lag, with its time.
fn visible(r: &Record, lag_ms: i64, now: i64) -> Option<(&BTreeMap<String, String>, i64)> {
    if r.archived || r.merged_into.is_some() {
        return None;
    }
    if lag_ms == 0 || now - r.updated >= lag_ms {
        return Some((&r.props, r.updated));
    }
    match &r.previous {
        Some((at, props)) if now - at >= lag_ms => Some((props, *at)),
        _ => None,
    }
}

pub(crate) async fn search(
    State(state): State<SandboxState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult {
    let t = object_type(&raw)?;
    let body: Body = if body.is_empty() {
        Body::default()
    } else {
        parse(&body)?
    };
    let limits = &state.0.config.limits;
    if body.filter_groups.len() > 5 {
        return Err(ApiError::validation(format!(
            "Too many filter groups: {} (at most 5)",
            body.filter_groups.len()
        )));
    }
    if body.filter_groups.iter().any(|g| g.filters.len() > 6) {
        return Err(ApiError::validation(
            "Too many filters in a filter group (at most 6)",
        ));
    }
    let total_filters: usize = body.filter_groups.iter().map(|g| g.filters.len()).sum();
    if total_filters > 18 {
        return Err(ApiError::validation(format!(
            "Too many filters: {total_filters} (at most 18 across all groups)"
        )));
    }
    for f in body.filter_groups.iter().flat_map(|g| &g.filters) {
        if !OPERATORS.contains(&f.operator.as_str()) {
            return Err(ApiError::validation(format!(
                "Unknown operator {:?} on {}",
                f.operator, f.property_name
            )));
        }
        if matches!(f.operator.as_str(), "IN" | "NOT_IN") && f.values.is_none() {
            return Err(ApiError::validation(format!(
                "{} needs values[] on {}",
                f.operator, f.property_name
            )));
        }
        if f.operator == "BETWEEN" && (f.value.is_none() || f.high_value.is_none()) {
            return Err(ApiError::validation(format!(
                "BETWEEN needs value and highValue on {}",
                f.property_name
            )));
        }
    }
    if body.sorts.len() > 1 {
        return Err(ApiError::validation("Only one sort is allowed"));
    }
    if body.query.as_ref().is_some_and(|q| q.len() > 3000) {
        return Err(ApiError::validation("query is longer than 3000 characters"));
    }
    let limit = body.limit.unwrap_or(10);
    if limit > limits.max_search_page {
        return Err(ApiError::validation(format!(
            "limit must be at most {}; got {limit}",
            limits.max_search_page
        )));
    }
    let after: usize = match &body.after {
        None => 0,
        Some(v) => text(v)
            .parse()
            .map_err(|_| ApiError::validation(format!("after {v} is not a valid cursor")))?,
    };
    if after + limit > limits.search_result_cap && after > 0 || after >= limits.search_result_cap {
        return Err(ApiError::validation(format!(
            "Paging past {} search results is not possible; narrow the search (for example with an hs_object_id window)",
            limits.search_result_cap
        )));
    }
    let sort: Option<(String, bool)> = body.sorts.first().map(|s| match s {
        Value::String(x) => match x.strip_prefix('-') {
            Some(p) => (p.to_owned(), false),
            None => (x.clone(), true),
        },
        other => (
            other["propertyName"]
                .as_str()
                .unwrap_or("hs_object_id")
                .to_owned(),
            other["direction"].as_str() != Some("DESCENDING"),
        ),
    });
    let lag = state.0.config.search_index_lag.as_millis() as i64;
    let now = now_ms();
    let data = lock(&state.0.data);
    let query = body
        .query
        .as_ref()
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty());
    // Each filter's comparison kind, looked up once rather than per record.
    let groups: Vec<Vec<(Kind, &Filter)>> = body
        .filter_groups
        .iter()
        .map(|g| {
            g.filters
                .iter()
                .map(|f| (kind(&data, t, &f.property_name), f))
                .collect()
        })
        .collect();
    let searchable: &[&str] = if t == "companies" {
        &["name", "domain", "website", "phone"]
    } else {
        &[
            "email",
            "firstname",
            "lastname",
            "phone",
            "company",
            "dealname",
            "hs_task_subject",
        ]
    };
    let mut hits: Vec<(&Record, &BTreeMap<String, String>, i64)> = data
        .records
        .get(t)
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(|r| visible(r, lag, now).map(|(p, at)| (r, p, at)))
        .filter(|(_, p, _)| {
            groups.is_empty()
                || groups
                    .iter()
                    .any(|g| g.iter().all(|(k, f)| matches(*k, p, f)))
        })
        .filter(|(_, p, _)| {
            query.as_ref().is_none_or(|q| {
                searchable.iter().any(|s| {
                    p.get(*s)
                        .is_some_and(|v| v.to_lowercase().contains(q.as_str()))
                })
            })
        })
        .collect();
    if let Some((prop, ascending)) = &sort {
        if prop == "hs_object_id" {
            hits.sort_by_key(|(r, _, _)| r.id);
            if !*ascending {
                hits.reverse();
            }
        } else {
            let k = kind(&data, t, prop);
            hits.sort_by(|(ra, a, _), (rb, b, _)| {
                let o = match (a.get(prop), b.get(prop)) {
                    (Some(x), Some(y)) => compare(k, x, y).unwrap_or(Ordering::Equal),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                };
                let o = if *ascending { o } else { o.reverse() };
                o.then(ra.id.cmp(&rb.id))
            });
        }
    }
    let total = hits.len();
    let page: Vec<Value> = hits
        .iter()
        .skip(after)
        .take(limit)
        .map(|(r, p, at)| {
            let mut shown = (*r).clone();
            shown.props = (*p).clone();
            shown.updated = *at;
            render(t, &shown, Some(&body.properties), false)
        })
        .collect();
    let mut out = json!({ "total": total, "results": page });
    if after + limit < total {
        out["paging"] = json!({ "next": { "after": (after + limit).to_string() } });
    }
    Ok(Json(out).into_response())
}
