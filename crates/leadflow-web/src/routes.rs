//! The dashboard's routes: pages and JSON for every dashboard and report of the project,
//! each computed on request from the store with the request's filters.
//!
//! It knows how to find a report and apply filters; the numbers are `leadflow-reports`'s
//! and the markup `pages.rs`'s.

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use leadflow_reports::{DashboardOutput, Period, ReportOutput, ReportSpec, Since};

use crate::pages::{self, Nav, PageContext};
use crate::{Error, Filters, WebState};

/// The dashboard's routes over `state`: `GET /` (the first dashboard of `reports.yaml`),
/// `GET /dashboards/{key}`, `GET /reports/{key}`, and the JSON of each at
/// `GET /api/dashboard/{key}` and `GET /api/reports/{key}` (the serialized
/// `leadflow_reports::DashboardOutput` and `ReportOutput`). Every route takes the
/// query parameters `since`, `campaign` and `icp`; an unknown key answers 404 and a bad
/// filter 400, both saying what is wrong. `GET /advice` and `GET /api/advice` show a
/// month's optimisation advice (`month=2026-11`, default the last full month).
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/dashboards/{key}", get(dashboard_page))
        .route("/reports/{key}", get(report_page))
        .route("/api/dashboard/{key}", get(dashboard_api))
        .route("/api/reports/{key}", get(report_api))
        .route("/advice", get(advice_page))
        .route("/api/advice", get(advice_api))
        .with_state(state)
}

type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// Reads the filters, mapping an unreadable query to a bad filter.
fn filters(state: &WebState, query: Pairs) -> Result<Filters, Error> {
    let Query(pairs) = query.map_err(|e| Error::BadFilter(e.body_text()))?;
    Filters::from_query(&pairs, &state.inner.project.properties)
}

/// An error as a page: the message (opaque for 5xx, logged once here).
fn error_page(state: &WebState, e: &Error) -> Response {
    let (status, _) = e.status();
    log(e);
    let html = pages::error_page(&nav(state, None), status, &e.public_message());
    (status, Html(html)).into_response()
}

/// An error as JSON: `{ "code", "message" }`.
fn error_json(e: &Error) -> Response {
    let (status, code) = e.status();
    log(e);
    let body = serde_json::json!({ "code": code, "message": e.public_message() });
    (status, Json(body)).into_response()
}

fn log(e: &Error) {
    if e.status().0.is_server_error() {
        tracing::error!(error.message = %e, error.cause_chain = ?e, "a dashboard request failed");
    }
}

/// The links to every dashboard and report, `current` marked.
fn nav(state: &WebState, current: Option<&str>) -> Vec<Nav> {
    let r = &state.inner.project.reports;
    r.dashboards
        .iter()
        .map(|d| (d.key.as_str(), d.name.as_str(), "dashboards"))
        .chain(
            r.reports
                .iter()
                .map(|x| (x.key.as_str(), x.name.as_str(), "reports")),
        )
        .map(|(key, name, kind)| Nav {
            name: name.to_owned(),
            href: format!("/{kind}/{key}"),
            current: current == Some(key),
        })
        .chain([Nav {
            name: "Optimisation advice".to_owned(),
            href: "/advice".to_owned(),
            current: current == Some(ADVICE),
        }])
        .collect()
}

/// The advice page's key in the navigation.
const ADVICE: &str = "/advice";

/// The month the advice is for: `month=2026-11`, else the last full month in the
/// project's time zone.
fn advice_month(state: &WebState, query: Pairs) -> Result<jiff::civil::Date, Error> {
    let Query(pairs) = query.map_err(|e| Error::BadFilter(e.body_text()))?;
    let mut month = None;
    for (name, value) in pairs {
        match name.as_str() {
            "month" if month.is_none() => month = Some(value),
            "month" => {
                return Err(Error::BadFilter(
                    "month is given twice; give it once".into(),
                ));
            }
            _ => {
                return Err(Error::BadFilter(format!(
                    "unknown parameter {name:?}; the advice takes only month (such as 2026-11)"
                )));
            }
        }
    }
    match month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => format!("{m}-01")
            .parse()
            .map_err(|_| Error::BadFilter(format!("month={m:?} is not a month such as 2026-11"))),
        None => {
            let today = (state.inner.now)().to_zoned(state.inner.tz.clone()).date();
            today
                .first_of_month()
                .checked_sub(jiff::ToSpan::month(1))
                .map_err(|e| Error::BadFilter(format!("the month before {today}: {e}")))
        }
    }
}

async fn compute_advice(
    state: &WebState,
    month: jiff::civil::Date,
) -> Result<leadflow_advice::Advice, Error> {
    let inner = &state.inner;
    Ok(leadflow_advice::advise(
        &inner.store,
        &inner.portal,
        &inner.project,
        month,
        &inner.tz,
    )
    .await?)
}

async fn advice_page(State(state): State<WebState>, query: Pairs) -> Response {
    let result = async {
        let month = advice_month(&state, query)?;
        let advice = compute_advice(&state, month).await?;
        Ok::<_, Error>(pages::advice_page(
            &advice,
            &month.strftime("%Y-%m").to_string(),
            &nav(&state, Some(ADVICE)),
        ))
    };
    match result.await {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(&state, &e),
    }
}

async fn advice_api(State(state): State<WebState>, query: Pairs) -> Response {
    let result = async {
        let month = advice_month(&state, query)?;
        compute_advice(&state, month).await
    };
    match result.await {
        Ok(out) => Json(out).into_response(),
        Err(e) => error_json(&e),
    }
}

/// Where the reports and dashboards are, for a 404.
fn unknown(state: &WebState, what: &'static str, key: &str) -> Error {
    let r = &state.inner.project.reports;
    let dashboards: Vec<String> = r
        .dashboards
        .iter()
        .map(|d| format!("dashboard {} (/dashboards/{0})", d.key))
        .collect();
    let reports: Vec<String> = r
        .reports
        .iter()
        .map(|x| format!("report {} (/reports/{0})", x.key))
        .collect();
    let all: Vec<String> = dashboards.into_iter().chain(reports).collect();
    Error::Unknown {
        what,
        key: key.to_owned(),
        hint: if all.is_empty() {
            "reports.yaml defines no reports or dashboards".to_owned()
        } else {
            format!("there are: {}", all.join(", "))
        },
    }
}

fn period(state: &WebState, since: Since) -> Result<Period, Error> {
    Ok(Period::since(since, (state.inner.now)(), &state.inner.tz)?)
}

async fn compute_report(
    state: &WebState,
    key: &str,
    filters: &Filters,
) -> Result<ReportOutput, Error> {
    let project = &state.inner.project;
    let report = project
        .reports
        .reports
        .iter()
        .find(|r| r.key == key)
        .ok_or_else(|| unknown(state, "report", key))?;
    let spec = ReportSpec::from_config(report, &project.properties)?;
    let since = filters.period()?.or(spec.since).unwrap_or(Since::Days(30));
    let period = period(state, since)?;
    let inner = &state.inner;
    Ok(leadflow_reports::report(
        &inner.store,
        &inner.portal,
        &spec,
        period,
        None,
        &filters.contacts(),
    )
    .await?)
}

async fn compute_dashboard(
    state: &WebState,
    key: &str,
    filters: &Filters,
) -> Result<DashboardOutput, Error> {
    let dashboard = state
        .inner
        .project
        .reports
        .dashboards
        .iter()
        .find(|d| d.key == key)
        .ok_or_else(|| unknown(state, "dashboard", key))?;
    let period = period(state, filters.period()?.unwrap_or(Since::Days(30)))?;
    let inner = &state.inner;
    Ok(leadflow_reports::dashboard(
        &inner.store,
        &inner.portal,
        dashboard,
        period,
        &filters.contacts(),
    )
    .await?)
}

fn context(state: &WebState, current: &str, filters: Filters) -> PageContext {
    let icp_options = crate::filters::icp_types(&state.inner.project.properties);
    PageContext {
        nav: nav(state, Some(current)),
        filters,
        icp_options,
        labels: state
            .inner
            .project
            .properties
            .of(leadflow_core::ObjectType::Contacts)
            .map(|p| (p.name.clone(), p.label.clone()))
            .collect(),
    }
}

async fn home(state: State<WebState>, query: Pairs) -> Response {
    let first = state.inner.project.reports.dashboards.first();
    match first {
        Some(d) => {
            let key = d.key.clone();
            dashboard_page(state, Path(key), query).await
        }
        None => match state.inner.project.reports.reports.first() {
            Some(r) => {
                let key = r.key.clone();
                report_page(state, Path(key), query).await
            }
            None => error_page(&state, &unknown(&state, "dashboard", "")),
        },
    }
}

async fn dashboard_page(
    State(state): State<WebState>,
    Path(key): Path<String>,
    query: Pairs,
) -> Response {
    let result = async {
        let f = filters(&state, query)?;
        let out = compute_dashboard(&state, &key, &f).await?;
        Ok::<_, Error>(pages::dashboard_page(&out, &context(&state, &key, f)))
    };
    match result.await {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(&state, &e),
    }
}

async fn report_page(
    State(state): State<WebState>,
    Path(key): Path<String>,
    query: Pairs,
) -> Response {
    let result = async {
        let f = filters(&state, query)?;
        let out = compute_report(&state, &key, &f).await?;
        Ok::<_, Error>(pages::report_page(&out, &context(&state, &key, f)))
    };
    match result.await {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(&state, &e),
    }
}

async fn dashboard_api(
    State(state): State<WebState>,
    Path(key): Path<String>,
    query: Pairs,
) -> Response {
    let result = async {
        let f = filters(&state, query)?;
        compute_dashboard(&state, &key, &f).await
    };
    match result.await {
        Ok(out) => Json(out).into_response(),
        Err(e) => error_json(&e),
    }
}

async fn report_api(
    State(state): State<WebState>,
    Path(key): Path<String>,
    query: Pairs,
) -> Response {
    let result = async {
        let f = filters(&state, query)?;
        compute_report(&state, &key, &f).await
    };
    match result.await {
        Ok(out) => Json(out).into_response(),
        Err(e) => error_json(&e),
    }
}
