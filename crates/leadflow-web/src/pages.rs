//! The HTML: minijinja templates embedded in the binary (auto-escaped, since their names
//! end in `.html`), one stylesheet inlined into every page so a page or a saved document
//! needs nothing else, and the charts drawn by `svg.rs` inlined as SVG.
//!
//! Every widget, metric and chart carries a stable `data-metric` / `data-chart` attribute
//! (the [`slug`] of its catalogue name), and every value its number in `data-number`, so
//! tests and scripts find them. It knows nothing of where results come from.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::http::StatusCode;
use leadflow_reports::{Chart, DashboardOutput, Panel, ReportOutput};
use minijinja::value::Serde;
use minijinja::{Environment, context};
use serde::Serialize;

use crate::Filters;
use crate::svg::{chart_svg, escape};

const STYLE: &str = include_str!("../templates/style.css");
const SCRIPT: &str = include_str!("../templates/filters.js");

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("layout.html", include_str!("../templates/layout.html")),
        ("macros.html", include_str!("../templates/macros.html")),
        (
            "dashboard.html",
            include_str!("../templates/dashboard.html"),
        ),
        ("report.html", include_str!("../templates/report.html")),
        ("error.html", include_str!("../templates/error.html")),
        ("advice.html", include_str!("../templates/advice.html")),
    ] {
        if let Err(e) = env.add_template(name, source) {
            // The templates are part of the binary; the unit tests render each one.
            tracing::error!(template = name, error.message = %e, "a dashboard template does not parse");
        }
    }
    env.add_filter("slug", |s: &str| slug(s));
    env
});

/// A stable identifier for a catalogue name: lower case, runs of anything but letters and
/// digits as one `_` ("Response Rate by ICP Type" → `response_rate_by_icp_type`).
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// A link in the page's navigation.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Nav {
    pub(crate) name: String,
    pub(crate) href: String,
    pub(crate) current: bool,
}

/// What a served page knows beyond its result: the navigation, the filters as given and
/// their choices, the labels of properties.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct PageContext {
    pub(crate) nav: Vec<Nav>,
    pub(crate) filters: Filters,
    pub(crate) icp_options: Vec<String>,
    /// Internal property name → label.
    pub(crate) labels: BTreeMap<String, String>,
}

/// A chart ready for a template: its SVG and its values as text.
#[derive(Debug, Serialize)]
struct ChartView<'a> {
    chart: &'a Chart,
    key: String,
    svg: String,
    empty: bool,
}

impl<'a> ChartView<'a> {
    fn new(chart: &'a Chart) -> Self {
        Self {
            chart,
            key: slug(&chart.name),
            svg: chart_svg(chart),
            empty: chart.is_empty(),
        }
    }
}

fn charts(charts: &[Chart]) -> Vec<ChartView<'_>> {
    charts.iter().map(ChartView::new).collect()
}

/// One of a dashboard's reports ready for a template: its figures and its chart.
#[derive(Debug, Serialize)]
struct PanelView<'a> {
    name: &'a str,
    key: String,
    figures: &'a [leadflow_reports::Figure],
    chart: ChartView<'a>,
}

fn panels(panels: &[Panel]) -> Vec<PanelView<'_>> {
    panels
        .iter()
        .map(|p| PanelView {
            name: &p.name,
            key: slug(&p.name),
            figures: &p.figures,
            chart: ChartView::new(&p.chart),
        })
        .collect()
}

/// Renders a template; a failure (a bug: the tests render every template) becomes a page
/// that says so.
fn render(name: &str, ctx: minijinja::Value) -> String {
    match TEMPLATES.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(template = name, error.message = %e, "a dashboard page failed to render");
            format!(
                "<!doctype html><meta charset=\"utf-8\"><title>leadflow</title><p>This page could not be rendered: {}</p>",
                escape(&e.to_string())
            )
        }
    }
}

/// A dashboard as a served page (`page: Some`, with navigation, the filter form and its
/// script) or as a self-contained document (`None`).
fn dashboard_html(out: &DashboardOutput, page: Option<&PageContext>) -> String {
    render(
        "dashboard.html",
        context! {
            dashboard => Serde(out),
            panels => Serde(panels(&out.panels)),
            title => &out.name,
            period => Serde(&out.period),
            page => Serde(page.cloned().unwrap_or_default()),
            standalone => page.is_none(),
            style => STYLE,
            script => SCRIPT,
        },
    )
}

/// A report as a served page or a self-contained document (see [`dashboard_html`]).
fn report_html(out: &ReportOutput, page: Option<&PageContext>) -> String {
    // The campaigns the report saw, offered by the campaign filter.
    let campaigns: Vec<&str> = out
        .breakdowns
        .iter()
        .filter(|b| b.property == "campaign_tag")
        .flat_map(|b| b.groups.iter().filter_map(|g| g.value.as_deref()))
        .collect();
    render(
        "report.html",
        context! {
            report => Serde(out),
            title => &out.name,
            period => Serde(&out.period),
            charts => Serde(charts(&out.charts)),
            campaigns => Serde(campaigns),
            page => Serde(page.cloned().unwrap_or_default()),
            standalone => page.is_none(),
            style => STYLE,
            script => SCRIPT,
        },
    )
}

pub(crate) fn dashboard_page(out: &DashboardOutput, page: &PageContext) -> String {
    dashboard_html(out, Some(page))
}

pub(crate) fn report_page(out: &ReportOutput, page: &PageContext) -> String {
    report_html(out, Some(page))
}

pub(crate) fn advice_page(advice: &leadflow_advice::Advice, month: &str, nav: &[Nav]) -> String {
    render(
        "advice.html",
        context! {
            title => "Optimisation advice",
            month => month,
            // Every text in the fragment (the suggested diff too) is escaped by the
            // advice crate.
            advice => advice.to_html_fragment(),
            page => Serde(PageContext { nav: nav.to_vec(), ..PageContext::default() }),
            standalone => false,
            style => STYLE,
            script => SCRIPT,
        },
    )
}

pub(crate) fn error_page(nav: &[Nav], status: StatusCode, message: &str) -> String {
    render(
        "error.html",
        context! {
            title => status.canonical_reason().unwrap_or("error"),
            status => status.as_u16(),
            message => message,
            page => Serde(PageContext { nav: nav.to_vec(), ..PageContext::default() }),
            standalone => false,
            style => STYLE,
        },
    )
}

/// A computed report as one self-contained HTML document: its metrics, charts (inline
/// SVG) and breakdowns, with the stylesheet inlined and no script, link or image to
/// fetch, for the weekly e-mail and its archive.
///
/// This signature is stable: the weekly report job calls it.
pub fn report_document(report: &ReportOutput) -> String {
    report_html(report, None)
}

/// A computed dashboard as one self-contained HTML document (see [`report_document`]).
///
/// This signature is stable.
pub fn dashboard_document(dashboard: &DashboardOutput) -> String {
    dashboard_html(dashboard, None)
}

#[cfg(test)]
mod tests;
