//! A [`Chart`] drawn as SVG with charts-rs: bars, lines and funnels, every value written
//! as a label and as a `<title>` tooltip, points without data left out of the drawing and
//! named "no data" on the axis, and a chart with nothing in it drawn as the words
//! "no data".
//!
//! It knows nothing of HTML pages or of where a chart's numbers come from; the text it
//! writes is escaped by charts-rs (a test holds it to that).

use charts_rs::{BarChart, FunnelChart, LineChart, Series};
use leadflow_reports::{Chart, ChartKind, Unit};

/// Width and height of every chart, in SVG units (the page scales them to its columns).
const WIDTH: f32 = 640.0;
const HEIGHT: f32 = 300.0;
/// Above this many categories the values stay in the tooltips, not on the drawing.
const MAX_LABELLED: usize = 12;
/// What a point without data is called on the axis and in its tooltip.
pub(crate) const NO_DATA: &str = "no data";

/// Draws `chart` as a standalone `<svg>` element.
pub fn chart_svg(chart: &Chart) -> String {
    if chart.is_empty() {
        return empty_svg(&chart.name);
    }
    let drawn = match chart.kind {
        ChartKind::Funnel => funnel(chart),
        ChartKind::Bar | ChartKind::Line => cartesian(chart),
    };
    match drawn {
        Ok(svg) => svg,
        Err(e) => {
            // charts-rs refuses only impossible layouts (no room to draw); the values
            // stay readable in the page's table and tooltips.
            tracing::warn!(chart = %chart.name, error.message = %e, "a chart could not be drawn");
            empty_svg(&chart.name)
        }
    }
}

/// The SVG of a chart with nothing to draw.
fn empty_svg(name: &str) -> String {
    format!(
        r##"<svg class="no-data" width="{WIDTH}" height="80" viewBox="0 0 {WIDTH} 80" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}: {NO_DATA}"><text x="{}" y="44" text-anchor="middle" font-size="16" fill="#6E7079">{NO_DATA}</text></svg>"##,
        escape(name),
        WIDTH / 2.0
    )
}

/// `&`, `<`, `>`, `"` and `'` as entities, for text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A value as drawn: ratios as percentages, counts and money as they are. charts-rs
/// works in `f32`; a non-finite value (which the reports never produce) is no data.
fn drawn(unit: Unit, value: Option<f64>) -> Option<f32> {
    let v = value.filter(|v| v.is_finite())?;
    let v = match unit {
        Unit::Ratio => v * 100.0,
        Unit::Count | Unit::Money => v,
    };
    Some(v as f32)
}

/// How charts-rs writes a value of `unit` on the drawing and the y axis (`{c}` the value,
/// `{t}` with thousands separators, empty: the number as it is).
fn formatter(unit: Unit) -> &'static str {
    match unit {
        Unit::Ratio => "{c}%",
        Unit::Money => "{t}",
        Unit::Count => "",
    }
}

/// The x labels of every series in order of first appearance, and each series' values
/// on them.
fn categories(chart: &Chart) -> (Vec<String>, Vec<Vec<Option<f32>>>) {
    let mut labels: Vec<String> = Vec::new();
    for s in &chart.series {
        for p in &s.points {
            if !labels.contains(&p.label) {
                labels.push(p.label.clone());
            }
        }
    }
    let values = chart
        .series
        .iter()
        .map(|s| {
            labels
                .iter()
                .map(|l| {
                    s.points
                        .iter()
                        .find(|p| &p.label == l)
                        .and_then(|p| drawn(chart.unit, p.value))
                })
                .collect()
        })
        .collect();
    (labels, values)
}

fn cartesian(chart: &Chart) -> Result<String, charts_rs::Error> {
    let (labels, values) = categories(chart);
    let labelled = labels.len() <= MAX_LABELLED;
    // A category where a series has no value says so on the axis, so the gap reads as
    // "no data", not as zero.
    let axis: Vec<String> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if values.iter().any(|v| v[i].is_none()) {
                format!("{l} ({NO_DATA})")
            } else {
                l.clone()
            }
        })
        .collect();
    let series: Vec<Series> = chart
        .series
        .iter()
        .zip(values)
        .map(|(s, v)| {
            let mut series = Series::new_nullable(s.name.clone(), v);
            series.label_show = labelled;
            series
        })
        .collect();
    match chart.kind {
        ChartKind::Line => {
            let mut c = LineChart::new(series, axis);
            style(&mut c.base, &mut c.y_axis_configs, chart);
            c.svg()
        }
        _ => {
            let mut c = BarChart::new(series, axis);
            style(&mut c.base, &mut c.y_axis_configs, chart);
            c.svg()
        }
    }
}

/// Size, tooltips, value format, axis title and legend (for more than one series).
fn style(base: &mut charts_rs::ChartBase, y_axes: &mut [charts_rs::YAxisConfig], chart: &Chart) {
    let fmt = formatter(chart.unit);
    base.width = WIDTH;
    base.height = HEIGHT;
    base.title.text = String::new();
    base.tooltip.show = true;
    base.series.label.formatter = fmt.to_owned();
    base.x_axis.title = chart.x_label.clone();
    base.legend.show = Some(chart.series.len() > 1);
    if let Some(y) = y_axes.first_mut() {
        y.formatter = Some(fmt.to_owned());
    }
}

fn funnel(chart: &Chart) -> Result<String, charts_rs::Error> {
    // A funnel is one series of stages; charts-rs draws each stage as a series of one value.
    let stages: Vec<Series> = chart
        .series
        .first()
        .map(|s| s.points.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|p| match drawn(chart.unit, p.value) {
            Some(v) => Series::new(p.label.clone(), vec![v]),
            None => Series::new(format!("{} ({NO_DATA})", p.label), vec![0.0]),
        })
        .collect();
    let mut c = FunnelChart::new(stages);
    c.base.width = WIDTH;
    c.base.height = HEIGHT;
    c.base.title.text = String::new();
    c.base.tooltip.show = true;
    c.base.legend.show = Some(false);
    c.base.series.label.formatter = match chart.unit {
        Unit::Ratio => "{a}: {c}%",
        Unit::Money => "{a}: {t}",
        Unit::Count => "{a}: {c}",
    }
    .to_owned();
    c.svg()
}

#[cfg(test)]
mod tests;
